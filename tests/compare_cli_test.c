/* `fleetsim compare` as CI runs it: the exit code is the gate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "harness.h"

/* The figures compare reads, in report.json's shape. */
static const char *
report(const char *dir, const char *name, double p99, double tput, int lost)
{
	char text[1024];

	snprintf(text, sizeof(text),
	    "{\"schema_version\": 1, \"verdict\": \"pass\",\n"
	    " \"devices\": {\"connect_failures\": 0, \"disconnects\": 0, \"decode_errors\": 0,\n"
	    "   \"connect_ms\": {\"p50\": 5, \"p99\": 10, \"max\": 12}},\n"
	    " \"patterns\": {\"telemetry\": {\"sent\": 5000, \"received\": 5000, \"lost\": %d,\n"
	    "   \"duplicates\": 0, \"throughput_per_s\": %g,\n"
	    "   \"latency_ms\": {\"count\": 5000, \"min\": 0.03, \"mean\": 0.17, \"p50\": 0.12,\n"
	    "     \"p90\": 0.25, \"p99\": %g, \"p999\": 4.2, \"max\": 4.3}}}}\n",
	    lost, tput, p99);
	return th_write(dir, name, text);
}

static int
compare(const char *dir, const char *a, const char *b, const char *limit)
{
	const char *argv[] = { "compare", a, b, limit ? "--max-regression" : NULL, limit, NULL };

	return th_fleetsim(dir, 30, argv);
}

static void
test_noise_passes(void)
{
	const char *dir = th_tmpdir();
	char base[512], cur[512];

	snprintf(base, sizeof(base), "%s", report(dir, "base.json", 1.0, 1000, 0));
	snprintf(cur, sizeof(cur), "%s", report(dir, "new.json", 1.03, 980, 0));
	CU_ASSERT_EQUAL(compare(dir, base, cur, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "patterns.telemetry.latency_ms.p99"));
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "+3.0%"));
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "compare: 0 regressions\n"));
	CU_ASSERT_PTR_NULL(strstr(th_output(dir), "REGRESSED"));
}

static void
test_regression_fails(void)
{
	const char *dir = th_tmpdir();
	char base[512], slow[512], lossy[512];

	snprintf(base, sizeof(base), "%s", report(dir, "base.json", 1.0, 1000, 0));
	snprintf(slow, sizeof(slow), "%s", report(dir, "slow.json", 1.15, 1000, 0));
	snprintf(lossy, sizeof(lossy), "%s", report(dir, "lossy.json", 1.0, 1000, 1));

	CU_ASSERT_EQUAL(compare(dir, base, slow, NULL), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "+15.0%  REGRESSED (limit +10%)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "compare: 1 regression\n"));
	/* The limit is the user's: both spellings, with and without %. */
	CU_ASSERT_EQUAL(compare(dir, base, slow, "20%"), 0);
	CU_ASSERT_EQUAL(compare(dir, base, slow, "20"), 0);
	CU_ASSERT_EQUAL(compare(dir, base, slow, "14.5%"), 1);
	{
		const char *argv[] = { "compare", "--max-regression=20%", base, slow, NULL };

		CU_ASSERT_EQUAL(th_fleetsim(dir, 30, argv), 0);
	}
	/* A lost message fails whatever the limit. */
	CU_ASSERT_EQUAL(compare(dir, base, lossy, "100%"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "REGRESSED (any increase)"));
	/* The other way round, everything improved. */
	CU_ASSERT_EQUAL(compare(dir, lossy, base, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "improved"));
}

static void
test_real_report_against_itself(void)
{
	const char *dir = th_tmpdir();
	const char *src = getenv("FLEETSIM_SOURCE_DIR");
	char path[1024];

	snprintf(path, sizeof(path), "%s/tests/fuzz-corpus/json_fuzz/report.json", src ? src : ".");
	CU_ASSERT_EQUAL(compare(dir, path, path, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "patterns.telemetry.throughput_per_s"));
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "compare: 0 regressions\n"));
}

static void
test_bad_input_is_2(void)
{
	const char *dir = th_tmpdir();
	char base[512], bad[512], empty[512], missing[512];
	const char *none[] = { "compare", NULL };

	snprintf(base, sizeof(base), "%s", report(dir, "base.json", 1.0, 1000, 0));
	snprintf(bad, sizeof(bad), "%s", th_write(dir, "bad.json", "{\"patterns\": {\n  \"t\": }\n"));
	snprintf(empty, sizeof(empty), "%s", th_write(dir, "empty.json", "{\"verdict\": \"pass\"}\n"));
	snprintf(missing, sizeof(missing), "%s/nosuch.json", dir);

	CU_ASSERT_EQUAL(th_fleetsim(dir, 30, none), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "usage: fleetsim compare BASE"));
	{
		const char *one[] = { "compare", base, NULL };
		const char *three[] = { "compare", base, base, base, NULL };
		const char *opt[] = { "compare", base, base, "--fast", NULL };
		const char *noval[] = { "compare", base, base, "--max-regression", NULL };

		CU_ASSERT_EQUAL(th_fleetsim(dir, 30, one), 2);
		CU_ASSERT_EQUAL(th_fleetsim(dir, 30, three), 2);
		CU_ASSERT_EQUAL(th_fleetsim(dir, 30, opt), 2);
		CU_ASSERT_EQUAL(th_fleetsim(dir, 30, noval), 2);
	}
	CU_ASSERT_EQUAL(compare(dir, base, base, "abc"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "--max-regression: expected a percentage"));
	CU_ASSERT_EQUAL(compare(dir, base, base, "-5%"), 2);
	CU_ASSERT_EQUAL(compare(dir, base, base, "10%%"), 2);
	CU_ASSERT_EQUAL(compare(dir, base, base, "inf"), 2);
	CU_ASSERT_EQUAL(compare(dir, base, base, ""), 2);

	CU_ASSERT_EQUAL(compare(dir, base, missing, NULL), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "nosuch.json: No such file or directory"));
	CU_ASSERT_EQUAL(compare(dir, bad, base, NULL), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "bad.json:2:8: "));
	/* Valid JSON but not a report: refusing beats passing on nothing. */
	CU_ASSERT_EQUAL(compare(dir, base, empty, NULL), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "empty.json: no figures to compare"));
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "noise within the limit exits 0", test_noise_passes },
		{ "a regression exits 1", test_regression_fails },
		{ "a real report against itself", test_real_report_against_itself },
		{ "bad arguments and files exit 2", test_bad_input_is_2 },
		{ NULL, NULL },
	};

	return th_main("compare", tests);
}
