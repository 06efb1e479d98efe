#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "fs_test.h"
#include "rpt_test.h"

/* A report reduced to what compare reads, plus decoys it must ignore. */
static char *
report(double p99, double tput, double lost)
{
	char *s = NULL;

	if (asprintf(&s,
	    "{\"schema_version\": 1, \"verdict\": \"pass\",\n"
	    " \"devices\": {\"planned\": 10, \"connected\": 10, \"connect_failures\": 0,\n"
	    "   \"disconnects\": 0, \"reconnects\": 4, \"decode_errors\": 0,\n"
	    "   \"connect_ms\": {\"p50\": 5, \"p99\": 10, \"max\": 12}},\n"
	    " \"patterns\": {\"telemetry\": {\"sent\": 1000, \"received\": 1000, \"lost\": %.17g,\n"
	    "   \"duplicates\": 0, \"foreign\": 0, \"throughput_per_s\": %.17g,\n"
	    "   \"latency_ms\": {\"count\": 1000, \"min\": 0.01, \"mean\": 0.5, \"p50\": 0.4,\n"
	    "     \"p90\": 0.8, \"p99\": %.17g, \"p999\": 3, \"max\": 4},\n"
	    "   \"by_group\": {\"g\": {\"sent\": 1000, \"lost\": 99}},\n"
	    "   \"latency_histogram\": {\"count\": 1000, \"max\": 4000000, \"buckets\": [[1, 2]]}}},\n"
	    " \"checks\": [{\"name\": \"x\", \"pass\": true}]}\n",
	    lost, tput, p99) < 0)
		return NULL;
	return s;
}

/* Compares report(base...) with report(cur...) at limit. */
static void
cmp(double bp99, double btput, double blost, double cp99, double ctput, double clost,
    double limit, struct rpt_cmp_result *r)
{
	char *bt = report(bp99, btput, blost), *ct = report(cp99, ctput, clost);
	struct rpt_json *b = rt_parse(bt), *c = rt_parse(ct);

	CU_ASSERT_EQUAL(rpt_compare(b, c, limit, r), RPT_OK);
	rpt_json_free(b);
	rpt_json_free(c);
	free(bt);
	free(ct);
}

static enum rpt_cmp_state
state(const struct rpt_cmp_result *r, const char *path)
{
	const struct rpt_cmp_row *row = rpt_cmp_find(r, path);

	CU_ASSERT_PTR_NOT_NULL(row);
	if (row == NULL)
		fprintf(stderr, "\n  no row %s\n", path);
	return row != NULL ? row->state : (enum rpt_cmp_state)-1;
}

#define P99 "patterns.telemetry.latency_ms.p99"
#define TPUT "patterns.telemetry.throughput_per_s"
#define LOST "patterns.telemetry.lost"

static void
test_latency_limit(void)
{
	struct rpt_cmp_result r;
	const struct rpt_cmp_row *row;

	cmp(1.0, 1000, 0, 1.05, 1000, 0, 10, &r);
	CU_ASSERT_EQUAL(r.regressions, 0);
	CU_ASSERT_EQUAL(state(&r, P99), RPT_CMP_OK);
	row = rpt_cmp_find(&r, P99);
	CU_ASSERT_DOUBLE_EQUAL(row ? row->change_pct : 0, 5, 1e-9);
	CU_ASSERT_EQUAL(row ? row->kind : 99, RPT_CMP_LATENCY);
	rpt_cmp_fini(&r);

	cmp(1.0, 1000, 0, 1.15, 1000, 0, 10, &r);
	CU_ASSERT_EQUAL(r.regressions, 1);
	CU_ASSERT_EQUAL(state(&r, P99), RPT_CMP_REGRESSED);
	rpt_cmp_fini(&r);

	/* Exactly the limit passes, despite (1.1 - 1.0) / 1.0 rounding up. */
	cmp(1.0, 1000, 0, 1.1, 1000, 0, 10, &r);
	CU_ASSERT_EQUAL(state(&r, P99), RPT_CMP_OK);
	rpt_cmp_fini(&r);

	/* A wider limit lets +15% through. */
	cmp(1.0, 1000, 0, 1.15, 1000, 0, 20, &r);
	CU_ASSERT_EQUAL(r.regressions, 0);
	rpt_cmp_fini(&r);

	/* Limit 0: any rise fails. */
	cmp(1.0, 1000, 0, 1.001, 1000, 0, 0, &r);
	CU_ASSERT_EQUAL(state(&r, P99), RPT_CMP_REGRESSED);
	rpt_cmp_fini(&r);
}

static void
test_throughput_limit(void)
{
	struct rpt_cmp_result r;

	cmp(1.0, 1000, 0, 1.0, 950, 0, 10, &r);
	CU_ASSERT_EQUAL(r.regressions, 0);
	CU_ASSERT_EQUAL(state(&r, TPUT), RPT_CMP_OK);
	rpt_cmp_fini(&r);

	cmp(1.0, 1000, 0, 1.0, 850, 0, 10, &r);
	CU_ASSERT_EQUAL(r.regressions, 1);
	CU_ASSERT_EQUAL(state(&r, TPUT), RPT_CMP_REGRESSED);
	CU_ASSERT_EQUAL(rpt_cmp_find(&r, TPUT)->kind, RPT_CMP_THROUGHPUT);
	rpt_cmp_fini(&r);

	/* Nothing delivered at all is -100%. */
	cmp(1.0, 1000, 0, 1.0, 0, 0, 10, &r);
	CU_ASSERT_EQUAL(state(&r, TPUT), RPT_CMP_REGRESSED);
	rpt_cmp_fini(&r);
}

static void
test_counts_ignore_limit(void)
{
	struct rpt_cmp_result r;
	const struct rpt_cmp_row *row;

	cmp(1.0, 1000, 0, 1.0, 1000, 1, 100, &r);
	CU_ASSERT_EQUAL(r.regressions, 1);
	CU_ASSERT_EQUAL(state(&r, LOST), RPT_CMP_REGRESSED);
	row = rpt_cmp_find(&r, LOST);
	CU_ASSERT_EQUAL(row ? row->kind : 99, RPT_CMP_COUNT);
	CU_ASSERT_TRUE(row != NULL && isnan(row->change_pct));
	rpt_cmp_fini(&r);

	cmp(1.0, 1000, 100, 1.0, 1000, 101, 1000, &r);
	CU_ASSERT_EQUAL(state(&r, LOST), RPT_CMP_REGRESSED);
	rpt_cmp_fini(&r);

	cmp(1.0, 1000, 5, 1.0, 1000, 5, 0, &r);
	CU_ASSERT_EQUAL(state(&r, LOST), RPT_CMP_OK);
	CU_ASSERT_EQUAL(r.regressions, 0);
	rpt_cmp_fini(&r);
}

static void
test_improvements(void)
{
	struct rpt_cmp_result r;

	cmp(1.0, 1000, 3, 0.7, 1300, 0, 10, &r);
	CU_ASSERT_EQUAL(r.regressions, 0);
	CU_ASSERT_EQUAL(r.improvements, 3);
	CU_ASSERT_EQUAL(state(&r, P99), RPT_CMP_IMPROVED);
	CU_ASSERT_EQUAL(state(&r, TPUT), RPT_CMP_IMPROVED);
	CU_ASSERT_EQUAL(state(&r, LOST), RPT_CMP_IMPROVED);
	rpt_cmp_fini(&r);

	/* Improvement within the limit is noise, not news. */
	cmp(1.0, 1000, 0, 0.95, 1050, 0, 10, &r);
	CU_ASSERT_EQUAL(r.improvements, 0);
	CU_ASSERT_EQUAL(state(&r, P99), RPT_CMP_OK);
	rpt_cmp_fini(&r);
}

static void
test_which_figures(void)
{
	static const char *const want[] = {
		"devices.connect_failures", "devices.disconnects", "devices.decode_errors",
		"devices.connect_ms.p99", LOST, "patterns.telemetry.duplicates", TPUT,
		"patterns.telemetry.latency_ms.mean", "patterns.telemetry.latency_ms.p50",
		"patterns.telemetry.latency_ms.p90", P99, "patterns.telemetry.latency_ms.p999",
		"patterns.telemetry.latency_ms.max",
	};
	static const char *const skipped[] = {
		"devices.planned", "devices.reconnects", "devices.connect_ms.p50",
		"patterns.telemetry.sent", "patterns.telemetry.foreign",
		"patterns.telemetry.latency_ms.count", "patterns.telemetry.latency_ms.min",
		"patterns.telemetry.by_group.g.lost", "patterns.telemetry.latency_histogram.max",
		"schema_version",
	};
	struct rpt_cmp_result r;

	cmp(1.0, 1000, 0, 1.0, 1000, 0, 10, &r);
	CU_ASSERT_EQUAL(r.nrows, sizeof(want) / sizeof(want[0]));
	CU_ASSERT_EQUAL(r.nbase, r.nrows);
	CU_ASSERT_EQUAL(r.ncur, r.nrows);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CU_ASSERT_EQUAL(state(&r, want[i]), RPT_CMP_OK);
	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
		CU_ASSERT_PTR_NULL(rpt_cmp_find(&r, skipped[i]));
	/* Document order: the fixed figures first, as in report.json. */
	CU_ASSERT_STRING_EQUAL(r.rows[0].path, "devices.connect_failures");
	CU_ASSERT_EQUAL(r.regressions + r.improvements + r.missing, 0);
	rpt_cmp_fini(&r);
}

static void
test_missing(void)
{
	struct rpt_json *b = rt_parse("{\"patterns\": {\"t\": {\"lost\": 0, \"late\": 1,\n"
	    "  \"latency_ms\": {\"p99\": 2, \"p999\": 3}}}}");
	struct rpt_json *c = rt_parse("{\"patterns\": {\"t\": {\"lost\": 0, \"dropped\": 7,\n"
	    "  \"latency_ms\": {\"p99\": 2, \"p999\": null}}}}");
	struct rpt_cmp_result r;
	const struct rpt_cmp_row *row;

	CU_ASSERT_EQUAL_FATAL(rpt_compare(b, c, 10, &r), RPT_OK);
	CU_ASSERT_EQUAL(r.nrows, 5);
	CU_ASSERT_EQUAL(r.missing, 3);
	CU_ASSERT_EQUAL(r.regressions, 0);
	CU_ASSERT_EQUAL(r.nbase, 4);
	CU_ASSERT_EQUAL(r.ncur, 3);
	CU_ASSERT_EQUAL(state(&r, "patterns.t.lost"), RPT_CMP_OK);
	CU_ASSERT_EQUAL(state(&r, "patterns.t.latency_ms.p99"), RPT_CMP_OK);
	/* Absent, and present but null, are both missing. */
	row = rpt_cmp_find(&r, "patterns.t.late");
	CU_ASSERT_TRUE(row != NULL && row->state == RPT_CMP_MISSING && row->has_base && !row->has_cur);
	row = rpt_cmp_find(&r, "patterns.t.latency_ms.p999");
	CU_ASSERT_TRUE(row != NULL && row->state == RPT_CMP_MISSING && row->has_base && !row->has_cur);
	/* Only in cur: after base's rows. */
	row = &r.rows[r.nrows - 1];
	CU_ASSERT_STRING_EQUAL(row->path, "patterns.t.dropped");
	CU_ASSERT_TRUE(row->state == RPT_CMP_MISSING && !row->has_base && row->has_cur && row->cur == 7);
	CU_ASSERT_TRUE(isnan(row->change_pct));
	rpt_cmp_fini(&r);
	rpt_json_free(b);
	rpt_json_free(c);
}

static const char rr_base[] =
    "{\"patterns\": {\n"
    "  \"telemetry\": {\"lost\": 0, \"throughput_per_s\": 100},\n"
    "  \"request_response\": {\n"
    "    \"c2d\": {\"sent\": 50, \"timeout\": 0, \"unmatched\": 0, \"error_status\": 1,\n"
    "      \"latency_ms\": {\"count\": 50, \"min\": 1, \"p50\": 10, \"p99\": 20},\n"
    "      \"by_method\": {\"reboot\": {\"timeout\": 0, \"latency_ms\": {\"p99\": 5}}},\n"
    "      \"violations\": {\"order\": 0, \"schema\": {\"missing_field\": 0}, \"note\": \"x\"},\n"
    "      \"rtt_histogram\": {\"max\": 1}, \"samples\": [1, 2, 3]}}}}";
static const char rr_cur[] =
    "{\"patterns\": {\n"
    "  \"telemetry\": {\"lost\": 0, \"throughput_per_s\": 100},\n"
    "  \"request_response\": {\n"
    "    \"c2d\": {\"sent\": 50, \"timeout\": 2, \"unmatched\": 0, \"error_status\": 0,\n"
    "      \"latency_ms\": {\"count\": 50, \"min\": 9, \"p50\": 10.5, \"p99\": 40},\n"
    "      \"by_method\": {\"reboot\": {\"timeout\": 9, \"latency_ms\": {\"p99\": 50}}},\n"
    "      \"violations\": {\"order\": 0, \"schema\": {\"missing_field\": 3}, \"note\": \"y\"},\n"
    "      \"rtt_histogram\": {\"max\": 9}, \"samples\": [9, 9, 9]}}}}";

static void
test_new_pattern_generic(void)
{
	struct rpt_json *b = rt_parse(rr_base), *c = rt_parse(rr_cur);
	struct rpt_cmp_result r;
	const struct rpt_cmp_row *row;

	CU_ASSERT_EQUAL_FATAL(rpt_compare(b, c, 10, &r), RPT_OK);
	CU_ASSERT_EQUAL(state(&r, "patterns.request_response.c2d.timeout"), RPT_CMP_REGRESSED);
	CU_ASSERT_EQUAL(state(&r, "patterns.request_response.c2d.unmatched"), RPT_CMP_OK);
	CU_ASSERT_EQUAL(state(&r, "patterns.request_response.c2d.error_status"), RPT_CMP_IMPROVED);
	CU_ASSERT_EQUAL(state(&r, "patterns.request_response.c2d.latency_ms.p50"), RPT_CMP_OK);
	CU_ASSERT_EQUAL(state(&r, "patterns.request_response.c2d.latency_ms.p99"), RPT_CMP_REGRESSED);
	CU_ASSERT_EQUAL(state(&r, "patterns.request_response.c2d.violations.order"), RPT_CMP_OK);
	row = rpt_cmp_find(&r, "patterns.request_response.c2d.violations.schema.missing_field");
	CU_ASSERT_TRUE(row != NULL && row->kind == RPT_CMP_COUNT && row->state == RPT_CMP_REGRESSED);
	CU_ASSERT_PTR_NULL(rpt_cmp_find(&r, "patterns.request_response.c2d.latency_ms.min"));
	CU_ASSERT_PTR_NULL(rpt_cmp_find(&r, "patterns.request_response.c2d.sent"));
	CU_ASSERT_PTR_NULL(rpt_cmp_find(&r, "patterns.request_response.c2d.by_method.reboot.timeout"));
	CU_ASSERT_PTR_NULL(rpt_cmp_find(&r, "patterns.request_response.c2d.rtt_histogram.max"));
	CU_ASSERT_PTR_NULL(rpt_cmp_find(&r, "patterns.request_response.c2d.samples.0"));
	CU_ASSERT_EQUAL(r.nrows, 9);
	CU_ASSERT_EQUAL(r.regressions, 3);
	CU_ASSERT_EQUAL(r.improvements, 1);
	CU_ASSERT_EQUAL(r.missing, 0);
	rpt_cmp_fini(&r);
	rpt_json_free(b);
	rpt_json_free(c);
}

static void
test_zero_base(void)
{
	struct rpt_json *b = rt_parse("{\"patterns\": {\"t\": {\"throughput_per_s\": 0, \"lost\": 0,\n"
	    "  \"latency_ms\": {\"p99\": 0, \"max\": 0}}}}");
	struct rpt_json *c = rt_parse("{\"patterns\": {\"t\": {\"throughput_per_s\": 50, \"lost\": 0,\n"
	    "  \"latency_ms\": {\"p99\": 3, \"max\": 0}}}}");
	struct rpt_cmp_result r;
	const struct rpt_cmp_row *row;

	CU_ASSERT_EQUAL_FATAL(rpt_compare(b, c, 10, &r), RPT_OK);
	CU_ASSERT_EQUAL(r.regressions, 0);
	row = rpt_cmp_find(&r, "patterns.t.latency_ms.p99");
	CU_ASSERT_TRUE(row != NULL && row->state == RPT_CMP_OK && isnan(row->change_pct));
	row = rpt_cmp_find(&r, "patterns.t.latency_ms.max");
	CU_ASSERT_TRUE(row != NULL && row->state == RPT_CMP_OK && row->change_pct == 0);
	CU_ASSERT_EQUAL(state(&r, "patterns.t.throughput_per_s"), RPT_CMP_OK);
	rpt_cmp_fini(&r);
	rpt_json_free(b);
	rpt_json_free(c);
}

static void
test_bad_input(void)
{
	struct rpt_json *empty = rt_parse("{}"), *arr = rt_parse("[1, 2]");
	struct rpt_json *ok = rt_parse("{\"patterns\": {\"t\": {\"lost\": 0}}}");
	struct rpt_cmp_result r;

	CU_ASSERT_EQUAL(rpt_compare(ok, ok, -1, &r), RPT_ERR_RANGE);
	CU_ASSERT_EQUAL(r.nrows, 0);
	CU_ASSERT_EQUAL(rpt_compare(ok, ok, NAN, &r), RPT_ERR_RANGE);
	CU_ASSERT_EQUAL(rpt_compare(ok, ok, INFINITY, &r), RPT_ERR_RANGE);
	CU_ASSERT_EQUAL(rpt_compare(ok, ok, 10, NULL), RPT_ERR_INVAL);

	/* Not reports: no figures, which the caller turns into an error. */
	CU_ASSERT_EQUAL_FATAL(rpt_compare(empty, arr, 10, &r), RPT_OK);
	CU_ASSERT_EQUAL(r.nbase, 0);
	CU_ASSERT_EQUAL(r.ncur, 0);
	CU_ASSERT_EQUAL(r.nrows, 0);
	rpt_cmp_fini(&r);
	CU_ASSERT_EQUAL_FATAL(rpt_compare(ok, NULL, 10, &r), RPT_OK);
	CU_ASSERT_EQUAL(r.nbase, 1);
	CU_ASSERT_EQUAL(r.ncur, 0);
	CU_ASSERT_EQUAL(r.missing, 1);
	CU_ASSERT_EQUAL(r.regressions, 0);
	rpt_cmp_fini(&r);
	rpt_cmp_fini(&r);
	rpt_cmp_fini(NULL);
	rpt_json_free(empty);
	rpt_json_free(arr);
	rpt_json_free(ok);
}

/* The column where needle starts on the line containing key. */
static long
col_of(const char *text, const char *key, const char *needle)
{
	const char *line = strstr(text, key), *start, *hit;

	if (line == NULL)
		return -1;
	for (start = line; start > text && start[-1] != '\n'; start--)
		;
	hit = strstr(start, needle);
	return hit != NULL ? hit - start : -1;
}

static void
test_print(void)
{
	struct rpt_cmp_result r;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	cmp(1.0, 1000, 0, 1.25, 1000.5, 2, 10, &r);
	CU_ASSERT_EQUAL(r.regressions, 2);
	f = open_memstream(&text, &len);
	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_EQUAL(rpt_cmp_print(f, &r), RPT_OK);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "figure"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "change"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, P99));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "+25.0%  REGRESSED (limit +10%)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "n/a  REGRESSED (any increase)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, " 1000.5 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "limit: latency may rise and throughput fall by 10%"));
	CU_ASSERT_PTR_NULL(strstr(text, "note:"));
	CU_ASSERT_PTR_NULL(strstr(text, " \n"));
	/* Aligned: every row's change column ends where the header's does. */
	CU_ASSERT_EQUAL(col_of(text, "figure", "change") + 6, col_of(text, P99, "+25.0%") + 6);
	CU_ASSERT_EQUAL(col_of(text, "figure", "change") + 6, col_of(text, TPUT, "+0.1%") + 5);
	if (CU_get_number_of_failures() > 0)
		fprintf(stderr, "\n%s", text);
	free(text);
	rpt_cmp_fini(&r);

	{
		struct rpt_json *b = rt_parse("{\"patterns\": {\"t\": {\"lost\": 0, \"late\": 1}}}");
		struct rpt_json *c = rt_parse("{\"patterns\": {\"t\": {\"lost\": 0}}}");

		CU_ASSERT_EQUAL_FATAL(rpt_compare(b, c, 2.5, &r), RPT_OK);
		f = open_memstream(&text, &len);
		CU_ASSERT_FATAL(f != NULL);
		CU_ASSERT_EQUAL(rpt_cmp_print(f, &r), RPT_OK);
		fclose(f);
		CU_ASSERT_PTR_NOT_NULL(strstr(text, "patterns.t.late     1    -       -  missing in new\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(text, "by 2.5%"));
		CU_ASSERT_PTR_NOT_NULL(strstr(text, "note: 1 figure is in only one report, not compared\n"));
		free(text);
		rpt_cmp_fini(&r);
		rpt_json_free(b);
		rpt_json_free(c);
	}
	CU_ASSERT_EQUAL(rpt_cmp_print(NULL, &r), RPT_ERR_INVAL);
}

/* A real report against itself: figures found, nothing changed. */
static void
test_real_report(void)
{
	const char *src = getenv("FLEETSIM_SOURCE_DIR");
	struct rpt_json *j = NULL;
	struct rpt_cmp_result r;
	char path[1024], err[256] = "";

	snprintf(path, sizeof(path), "%s/tests/fuzz-corpus/json_fuzz/report.json", src ? src : "../..");
	/* The file is committed: failing to read it is a failure, not a skip. */
	if (rpt_json_parse_file(path, &j, err, sizeof(err)) != RPT_OK)
		fprintf(stderr, "\n  cannot read %s: %s\n", path, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL_FATAL(rpt_compare(j, j, 10, &r), RPT_OK);
	CU_ASSERT_EQUAL(r.nrows, 16);
	CU_ASSERT_EQUAL(r.regressions + r.improvements + r.missing, 0);
	CU_ASSERT_PTR_NOT_NULL(rpt_cmp_find(&r, P99));
	CU_ASSERT_PTR_NOT_NULL(rpt_cmp_find(&r, "devices.connect_ms.p99"));
	CU_ASSERT_PTR_NOT_NULL(rpt_cmp_find(&r, "patterns.telemetry.malformed"));
	CU_ASSERT_PTR_NULL(rpt_cmp_find(&r, "patterns.telemetry.by_group.sensors.lost"));
	rpt_cmp_fini(&r);
	rpt_json_free(j);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "latency: limit, boundary, limit 0", test_latency_limit },
		{ "throughput: lower is worse", test_throughput_limit },
		{ "correctness counts ignore the limit", test_counts_ignore_limit },
		{ "improvements beyond the limit", test_improvements },
		{ "which figures are compared", test_which_figures },
		{ "figures in only one report are missing", test_missing },
		{ "a new pattern is picked up generically", test_new_pattern_generic },
		{ "base 0: no change in percent", test_zero_base },
		{ "bad limit and non-reports", test_bad_input },
		{ "the printed table", test_print },
		{ "a real report against itself", test_real_report },
		{ NULL, NULL },
	};

	return fs_test_main("compare", tests);
}
