/* `fleetsim merge` on real shards: two halves of a fleet run at the same
 * time against one broker, merged into the whole fleet's report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <CUnit/Basic.h>

#include "broker.h"
#include "harness.h"

static const char scenario[] =
    "name: shards\n"
    "duration: 3s\n"
    "drain: 3s\n"
    "fleet:\n"
    "  - group: g\n"
    "    count: 10\n"
    "    telemetry: { every: 500ms, qos: 1 }\n"
    "assert:\n"
    "  - patterns.telemetry.lost == 0\n"
    "  - devices.connected == 200\n";

static bool
exists(const char *dir, const char *name)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 && st.st_size > 0;
}

static void
test_two_shards(void)
{
	struct sim_broker *b = NULL;
	struct sim_broker_opts bo = { 0 };
	struct sim_diag d;
	char base[512], scen[512], da[600], db[600], dout[600], dlog[600];
	struct rpt_json *ra = NULL, *rb = NULL, *rm = NULL;
	int pa, pb;

	snprintf(base, sizeof(base), "%s", th_tmpdir());
	snprintf(scen, sizeof(scen), "%s", th_write(base, "s.yaml", scenario));
	snprintf(da, sizeof(da), "%s/a", base);
	snprintf(db, sizeof(db), "%s/b", base);
	snprintf(dout, sizeof(dout), "%s/out", base);
	snprintf(dlog, sizeof(dlog), "%s", th_tmpdir());
	CU_ASSERT_FATAL(sim_broker_start(&bo, &b, &d) == SIM_OK);
	{
		/* Distinct client ids: the broker would otherwise take one
		 * shard's device for the other's reconnect. */
		const char *argv_a[] = { "run", scen, "--broker", sim_broker_url(b), "--report-dir", da,
			"--set", "fleet.g.count=100", "--set", "fleet.g.id=a-{n}", "--quiet", NULL };
		const char *argv_b[] = { "run", scen, "--broker", sim_broker_url(b), "--report-dir", db,
			"--set", "fleet.g.count=100", "--set", "fleet.g.id=b-{n}", "--quiet", NULL };

		pa = th_fleetsim_spawn(base, argv_a);
		pb = th_fleetsim_spawn(dlog, argv_b);
	}
	/* Each shard alone fails devices.connected == 200: only the merge
	 * has the whole fleet. */
	CU_ASSERT_EQUAL(th_wait(pa, 120), 1);
	CU_ASSERT_EQUAL(th_wait(pb, 120), 1);
	ra = th_report(da);
	rb = th_report(db);
	CU_ASSERT_FATAL(ra != NULL && rb != NULL);
	{
		const char *argv[] = { "merge", dout, da, db, NULL };

		CU_ASSERT_EQUAL(th_fleetsim(base, 60, argv), 0);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(base), "scenario 'shards': PASS"));
	rm = th_report(dout);
	CU_ASSERT_FATAL(rm != NULL);
	CU_ASSERT(th_num(ra, "patterns.telemetry.sent") > 0);
	CU_ASSERT_EQUAL(th_num(rm, "patterns.telemetry.sent"),
	    th_num(ra, "patterns.telemetry.sent") + th_num(rb, "patterns.telemetry.sent"));
	CU_ASSERT_EQUAL(th_num(rm, "patterns.telemetry.received"),
	    th_num(ra, "patterns.telemetry.received") + th_num(rb, "patterns.telemetry.received"));
	CU_ASSERT_EQUAL(th_num(rm, "patterns.telemetry.by_group.g.sent"),
	    th_num(rm, "patterns.telemetry.sent"));
	CU_ASSERT_EQUAL(th_num(rm, "devices.planned"), 200);
	CU_ASSERT_EQUAL(th_num(rm, "devices.connected"), 200);
	CU_ASSERT_EQUAL(th_num(rm, "shards"), 2);
	CU_ASSERT_EQUAL(th_num(rm, "patterns.telemetry.latency_ms.count"),
	    th_num(ra, "patterns.telemetry.latency_ms.count") +
	    th_num(rb, "patterns.telemetry.latency_ms.count"));
	{
		double a = th_num(ra, "patterns.telemetry.latency_ms.p99");
		double c = th_num(rb, "patterns.telemetry.latency_ms.p99");
		double m = th_num(rm, "patterns.telemetry.latency_ms.p99");

		/* The union's percentile lies between the shards'. The 1%
		 * is the histogram's precision: a shard's value is clamped
		 * to its own max, the union's to the larger one. */
		CU_ASSERT(m >= fmin(a, c) && m <= fmax(a, c) * 1.01);
		if (!(m >= fmin(a, c) && m <= fmax(a, c) * 1.01))
			fprintf(stderr, "p99: shards %g and %g, merged %g\n", a, c, m);
	}
	CU_ASSERT_PTR_NOT_NULL(rpt_json_path(rm, "devices.connect_histogram"));
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_path(rm, "checks")), 3);
	CU_ASSERT_TRUE(rpt_json_truthy(rpt_json_path(rm, "assertions.1.pass")));
	CU_ASSERT_TRUE(exists(dout, "junit.xml"));
	CU_ASSERT_TRUE(exists(dout, "report.html"));
	CU_ASSERT_TRUE(exists(dout, "timeseries.csv"));
	rpt_json_free(ra);
	rpt_json_free(rb);
	rpt_json_free(rm);
	sim_broker_free(b);
}

static void
test_bad_input_is_2(void)
{
	const char *dir = th_tmpdir();
	char missing[512], out[512], bad[512];
	const char *none[] = { "merge", NULL };

	snprintf(missing, sizeof(missing), "%s/nosuch", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	{
		const char *argv[] = { "merge", out, missing, NULL };

		CU_ASSERT_EQUAL(th_fleetsim(dir, 30, argv), 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "nosuch"));
	}
	{
		const char *argv[] = { "merge", out, NULL };

		CU_ASSERT_EQUAL(th_fleetsim(dir, 30, argv), 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "usage: fleetsim merge OUT_DIR"));
	}
	CU_ASSERT_EQUAL(th_fleetsim(dir, 30, none), 2);
	snprintf(bad, sizeof(bad), "%s", th_write(dir, "bad.json", "{\"patterns\": {\n  \"t\": }\n"));
	{
		const char *argv[] = { "merge", out, bad, NULL };

		CU_ASSERT_EQUAL(th_fleetsim(dir, 30, argv), 2);
		/* FILE:LINE:COLUMN */
		CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "bad.json:2:"));
	}
	snprintf(bad, sizeof(bad), "%s", th_write(dir, "foreign.json", "{\"verdict\": \"pass\"}\n"));
	{
		const char *argv[] = { "merge", out, bad, NULL };

		CU_ASSERT_EQUAL(th_fleetsim(dir, 30, argv), 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "not a fleetsim report.json"));
	}
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "two concurrent shards merge into the whole fleet", test_two_shards },
		{ "missing, broken and foreign reports exit 2", test_bad_input_is_2 },
		{ NULL, NULL },
	};

	return th_main("merge_cli", tests);
}
