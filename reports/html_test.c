#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fs_test.h"
#include "rpt_test.h"
#include "hist.h"
#include "html.h"
#include "json.h"

/* A judged report with one failed assertion, one whose path was missing
 * (actual null), a failed check, and six seconds of series where the
 * fourth second received nothing (latency cells null). */
static const char REPORT[] =
    "{\"schema_version\":1,\"fleetsim_version\":\"0.1.0\","
    "\"scenario\":{\"name\":\"smoke <&>\",\"file\":\"scenarios/smoke.yaml\",\"seed\":42,"
    "\"duration_s\":6,\"drain_s\":2},"
    "\"started_at\":\"2024-05-01T12:34:56Z\",\"duration_s\":8.25,\"partial\":false,"
    "\"verdict\":\"fail\","
    "\"broker\":{\"url\":\"mqtt://127.0.0.1:1883\",\"embedded\":true},"
    "\"devices\":{\"planned\":1000,\"connected\":990,\"connect_ms\":{\"p50\":6.2,\"p99\":12.5}},"
    "\"patterns\":{\"telemetry\":{\"sent\":12345,\"received\":12340,\"lost\":5,\"duplicates\":0,"
    "\"throughput_per_s\":2056.7,"
    "\"latency_ms\":{\"count\":1000,\"p50\":1.5,\"p99\":9.75,\"max\":12},"
    "\"by_group\":{\"sensors\":{\"devices\":1000,\"qos\":1,\"sent\":12345}}}},"
    "\"timeseries\":{\"telemetry\":{"
    "\"columns\":[\"t\",\"sent\",\"received\",\"errors\",\"p50_ms\",\"p99_ms\",\"max_ms\","
    "\"connected\",\"reconnects\"],"
    "\"rows\":["
    "[1714566896,100,90,0,1.0,2.0,3.0,500,0],"
    "[1714566897,3000,2990,1,1.5,8.0,12.0,990,2],"
    "[1714566898,3000,3000,0,1.4,7.0,9.0,990,0],"
    "[1714566899,0,0,0,null,null,null,990,0],"
    "[1714566900,3245,3260,0,1.6,9.75,11.0,990,1],"
    "[1714566901,3000,3000,0,1.2,5.0,6.0,0,0]]}},"
    "\"checks\":["
    "{\"name\":\"telemetry.no_loss_qos1_qos2\",\"pass\":false,"
    "\"detail\":\"expected 0 QoS 1/2 messages lost, got 5\"},"
    "{\"name\":\"mqtt.no_decode_errors\",\"pass\":true,"
    "\"detail\":\"expected 0 malformed MQTT packets, got 0\"}],"
    "\"assertions\":["
    "{\"expr\":\"patterns.telemetry.latency_ms.p99 < 5ms\",\"actual\":9.75,\"pass\":false},"
    "{\"expr\":\"patterns.telemetry.lost <= 10\",\"actual\":5,\"pass\":true},"
    "{\"expr\":\"patterns.nope.p99 < 1\",\"actual\":null,\"pass\":false}]}";

static const char SCENARIO[] =
    "name: smoke\n"
    "# <script>alert('x')</script> & more\n"
    "duration: 6s\n";

static char tmpdir[] = "/tmp/rpt_html_testXXXXXX";

/* REPORT with a 1,000-sample histogram (1..1000 us) under the pattern. */
static struct rpt_json *
full_report(void)
{
	struct rpt_json *r = rt_parse(REPORT);
	struct rpt_hist *h = NULL;

	CU_ASSERT_EQUAL_FATAL(rpt_hist_new(&h), RPT_OK);
	for (uint64_t i = 1; i <= 1000; i++)
		rpt_hist_record(h, i * 1000);
	CU_ASSERT_EQUAL_FATAL(rpt_json_set(rpt_json_path(r, "patterns.telemetry"),
	    "latency_histogram", rpt_hist_to_json(h)), RPT_OK);
	rpt_hist_free(h);
	return r;
}

static char *
dump(const struct rpt_json *r, const char *scenario)
{
	char *s = NULL;

	CU_ASSERT_EQUAL_FATAL(rpt_html_dump(r, scenario, &s), RPT_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

/* The data-points value of the series named name in the chart kind, or -1
 * when there is no such series. */
static long
points_of(const char *html, const char *kind, const char *name)
{
	char chart[128], series[128];
	const char *c, *end, *s, *dp;

	snprintf(chart, sizeof(chart), "data-chart=\"%s\"", kind);
	snprintf(series, sizeof(series), "data-series=\"%s\"", name);
	if ((c = strstr(html, chart)) == NULL || (end = strstr(c, "</svg>")) == NULL)
		return -1;
	if ((s = strstr(c, series)) == NULL || s > end)
		return -1;
	if ((dp = strstr(s, "data-points=\"")) == NULL || dp > end)
		return -1;
	return strtol(dp + strlen("data-points=\""), NULL, 10);
}

/* No external reference of any kind: not even the SVG namespace URL,
 * which inline SVG in HTML does not need. */
static void
check_self_contained(const char *html)
{
	CU_ASSERT_PTR_NULL(strcasestr(html, "http"));
	CU_ASSERT_PTR_NULL(strcasestr(html, "<script"));
	CU_ASSERT_PTR_NULL(strcasestr(html, "src="));
	CU_ASSERT_PTR_NULL(strcasestr(html, "href="));
	CU_ASSERT_PTR_NULL(strcasestr(html, "url("));
	CU_ASSERT_PTR_NULL(strcasestr(html, "@import"));
}

static void
test_verdict_and_assertions(void)
{
	struct rpt_json *r = full_report();
	char *html = dump(r, SCENARIO);

	rt_check_has(html, "<!DOCTYPE html>", 1);
	rt_check_has(html, "data-verdict=\"fail\">FAIL</p>", 1);
	/* The verdict comes before everything else on the page. */
	CU_ASSERT(strstr(html, "id=\"verdict\"") < strstr(html, "id=\"assertions\""));
	CU_ASSERT(strstr(html, "id=\"assertions\"") < strstr(html, "class=\"chart\""));
	rt_check_has(html, "<code>patterns.telemetry.latency_ms.p99 &lt; 5ms</code>", 1);
	rt_check_has(html, "<code>patterns.telemetry.lost &lt;= 10</code>", 1);
	rt_check_has(html, "<code>patterns.nope.p99 &lt; 1</code>", 1);
	rt_check_has(html, "<td class=\"num\">9.75</td>", 1);
	rt_check_has(html, "<td class=\"num\">n/a</td>", 1);
	rt_check_has(html, "<code>telemetry.no_loss_qos1_qos2</code>", 1);
	rt_check_has(html, "expected 0 QoS 1/2 messages lost, got 5", 1);
	/* Two failed assertions and a failed check. */
	rt_check_has(html, "<tr class=\"fail\"><td class=\"bad\">FAIL</td>", 3);
	rt_check_has(html, "<tr class=\"pass\"><td class=\"ok\">PASS</td>", 2);
	rt_check_has(html, "<title>fleetsim report: smoke &lt;&amp;&gt;</title>", 1);
	free(html);
	rpt_json_free(r);
}

static void
test_charts_and_points(void)
{
	struct rpt_json *r = full_report();
	char *html = dump(r, SCENARIO);
	static const char *const per_row[][2] = {
		{ "throughput", "sent" }, { "throughput", "received" }, { "errors", "errors" },
		{ "connections", "connected" }, { "connections", "reconnects" },
	};
	static const char *const latency[] = { "p50_ms", "p99_ms", "max_ms" };

	rt_check_has(html, "<svg class=\"chart\"", 5);
	rt_check_has(html, "data-pattern=\"telemetry\" viewBox", 5);
	rt_check_has(html, "<path class=\"series\"", 9);
	/* Six rows, six points; latency skips the second that had none. */
	for (size_t i = 0; i < sizeof(per_row) / sizeof(per_row[0]); i++)
		CU_ASSERT_EQUAL(points_of(html, per_row[i][0], per_row[i][1]), 6);
	for (size_t i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(points_of(html, "latency", latency[i]), 5);
	/* 1,000 samples resolve three decades (p99.9), sampled every 0.05. */
	CU_ASSERT_EQUAL(points_of(html, "latency_distribution", "latency_ms"), 61);
	rt_check_has(html, ">99.9%</text>", 1);
	rt_check_has(html, ">90%</text>", 1);
	/* The gap splits the latency lines into two runs. */
	CU_ASSERT(rt_count(html, " M") >= 3);
	rt_check_has(html, "(right axis)", 1);
	rt_check_has(html, "seconds since 12:34:56 UTC", 4);
	/* The chart order the issue asks for. */
	CU_ASSERT(strstr(html, "data-chart=\"throughput\"") < strstr(html, "data-chart=\"latency\""));
	CU_ASSERT(strstr(html, "data-chart=\"latency\"") <
	    strstr(html, "data-chart=\"latency_distribution\""));
	CU_ASSERT(strstr(html, "data-chart=\"latency_distribution\"") <
	    strstr(html, "data-chart=\"connections\""));
	CU_ASSERT(strstr(html, "data-chart=\"connections\"") < strstr(html, "data-chart=\"errors\""));
	rt_check_has(html, "no data", 0);
	free(html);
	rpt_json_free(r);
}

static void
test_key_figures_and_metadata(void)
{
	struct rpt_json *r = full_report();
	char *html = dump(r, SCENARIO);

	rt_check_has(html, "<th>sent</th><th>received</th><th>lost</th><th>duplicates</th>", 1);
	rt_check_has(html, "<td class=\"num\">12,345</td><td class=\"num\">12,340</td>"
	    "<td class=\"num\">5</td><td class=\"num\">0</td>", 1);
	rt_check_has(html, "<td class=\"num\">2057 / s</td>", 1);
	rt_check_has(html, "<td class=\"num\">1.50 ms</td>", 1);
	rt_check_has(html, "<td class=\"num\">9.75 ms</td>", 1);
	rt_check_has(html, "<td class=\"num\">12 ms</td>", 1);
	rt_check_has(html, "<td class=\"num\">990 of 1,000</td>", 1);
	rt_check_has(html, "<h3>By group</h3>", 1);
	rt_check_has(html, "<tr><th>sensors</th>", 1);
	rt_check_has(html, "<tr><th>scenario.seed</th><td>42</td></tr>", 1);
	rt_check_has(html, "<tr><th>broker.url</th><td>mqtt://127.0.0.1:1883</td></tr>", 1);
	rt_check_has(html, "<tr><th>devices.connect_ms.p99</th><td>12.5</td></tr>", 1);
	rt_check_has(html, "<tr><th>started_at</th><td>2024-05-01T12:34:56Z</td></tr>", 1);
	/* The series and totals are in the charts and tables, not metadata. */
	rt_check_has(html, "<th>timeseries", 0);
	rt_check_has(html, "<th>patterns", 0);
	free(html);
	rpt_json_free(r);
}

static void
test_scenario_escaped(void)
{
	struct rpt_json *r = full_report();
	char *html = dump(r, SCENARIO);

	rt_check_has(html, "<pre class=\"scenario\">name: smoke\n"
	    "# &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more\nduration: 6s\n</pre>", 1);
	check_self_contained(html);
	free(html);
	/* Without the text, the page says where to look. */
	html = dump(r, NULL);
	rt_check_has(html, "<pre", 0);
	rt_check_has(html, "scenario text is not available", 1);
	free(html);
	rpt_json_free(r);
}

static void
test_write_file(void)
{
	struct rpt_json *r = full_report();
	char *html = dump(r, SCENARIO), path[256], *back;
	FILE *f;
	long n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/report.html", tmpdir);
	CU_ASSERT_EQUAL_FATAL(rpt_html_write(path, r, SCENARIO), RPT_OK);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	back = calloc(1, (size_t)n + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_EQUAL(fread(back, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(back, html);
	snprintf(path, sizeof(path), "%s/report.html.tmp", tmpdir);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/report.html", tmpdir);
	unlink(path);
	/* A folder that does not exist is an I/O error, not a crash. */
	snprintf(path, sizeof(path), "%s/missing/report.html", tmpdir);
	CU_ASSERT_EQUAL(rpt_html_write(path, r, NULL), RPT_ERR_IO);
	CU_ASSERT_EQUAL(rmdir(tmpdir), 0);
	free(back);
	free(html);
	rpt_json_free(r);
}

static void
test_invalid(void)
{
	struct rpt_json *arr = rt_parse("[1]"), *obj = rt_parse("{}");
	char *s = NULL;

	CU_ASSERT_EQUAL(rpt_html_dump(NULL, NULL, &s), RPT_ERR_INVAL);
	CU_ASSERT_EQUAL(rpt_html_dump(arr, NULL, &s), RPT_ERR_INVAL);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_EQUAL(rpt_html_dump(obj, NULL, NULL), RPT_ERR_INVAL);
	CU_ASSERT_EQUAL(rpt_html_write(NULL, obj, NULL), RPT_ERR_INVAL);
	CU_ASSERT_EQUAL(rpt_html_write("/tmp/x.html", arr, NULL), RPT_ERR_INVAL);
	rpt_json_free(arr);
	rpt_json_free(obj);
}

/* An empty report still gives a page, with no charts and no verdict. */
static void
test_empty_report(void)
{
	struct rpt_json *r = rt_parse("{}");
	char *html = dump(r, NULL);

	rt_check_has(html, "data-verdict=\"unknown\">NO VERDICT</p>", 1);
	rt_check_has(html, "The scenario has no assertions.", 1);
	rt_check_has(html, "class=\"chart\"", 0);
	rt_check_has(html, "</html>", 1);
	check_self_contained(html);
	free(html);
	rpt_json_free(r);
}

/* A series-only pattern with a column the page has no chart for, only
 * reconnects (no second axis then), and malformed cells and histogram. */
static void
test_generic_columns(void)
{
	struct rpt_json *r = rt_parse(
	    "{\"verdict\":\"pass\","
	    "\"patterns\":{\"cmd\":{\"sent\":3,\"latency_histogram\":{\"unit\":\"bogus\"}}},"
	    "\"timeseries\":{\"cmd\":{\"columns\":[\"t\",\"reconnects\"],\"rows\":[[10,1],[11,\"x\"]]},"
	    "\"q<&>\":{\"columns\":[\"t\",\"queue \\\"depth\\\"\"],\"rows\":[[5,1],[6,2],[7,4]]},"
	    "\"broken\":{\"columns\":7,\"rows\":[[1]]}}}");
	char *html = dump(r, NULL);

	rt_check_has(html, "data-verdict=\"pass\">PASS</p>", 1);
	CU_ASSERT_EQUAL(points_of(html, "connections", "reconnects"), 1);
	rt_check_has(html, "(right axis)", 0);
	rt_check_has(html, "h0", 1);      /* the lone point is drawn as a dot */
	rt_check_has(html, "could not be read", 1);
	rt_check_has(html, "<h2>Pattern: q&lt;&amp;&gt;</h2>", 1);
	CU_ASSERT_EQUAL(points_of(html, "queue &quot;depth&quot;", "queue &quot;depth&quot;"), 3);
	rt_check_has(html, "<h2>Pattern: broken</h2>", 1);
	rt_check_has(html, "class=\"chart\"", 2);
	/* Rows without "t" would count; these have it. */
	rt_check_has(html, "seconds since", 2);
	check_self_contained(html);
	free(html);
	rpt_json_free(r);
}

/* A day-long series is thinned to per-column min and max, so the page
 * stays small and a one-second spike still sets the scale. */
static void
test_long_series(void)
{
	struct rpt_json *r = rpt_json_object(), *ts = rpt_json_object(), *s = rpt_json_object();
	struct rpt_json *cols = rpt_json_array(), *rows = rpt_json_array();
	const size_t n = 86400;
	char *html;
	long pts;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rpt_json_push(cols, rpt_json_string("t")), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_push(cols, rpt_json_string("sent")), RPT_OK);
	for (size_t i = 0; i < n; i++) {
		struct rpt_json *row = rpt_json_array();

		rpt_json_push(row, rpt_json_number(1e9 + (double)i));
		rpt_json_push(row, rpt_json_number(i == n / 2 ? 1e6 : 100 + (double)(i % 7)));
		CU_ASSERT_EQUAL_FATAL(rpt_json_push(rows, row), RPT_OK);
	}
	CU_ASSERT_EQUAL(rpt_json_set(s, "columns", cols), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_set(s, "rows", rows), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_set(ts, "telemetry", s), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_set(r, "timeseries", ts), RPT_OK);
	html = dump(r, NULL);
	pts = points_of(html, "throughput", "sent");
	CU_ASSERT(pts > 500 && pts <= 2 * 512);
	rt_check_has(html, ">1.0M</text>", 1);
	CU_ASSERT(strlen(html) < 100000);
	free(html);
	rpt_json_free(r);
}

/* patterns.request_response: each direction is a section of its own,
 * with its figures (failures marked), a table per method and the
 * distribution; d2c has no histogram (as after an inexact merge). */
static void
test_request_response(void)
{
	struct rpt_json *r = rt_parse(
	    "{\"devices\":{\"planned\":10,\"connected\":10},"
	    "\"patterns\":{\"request_response\":{"
	    "\"c2d\":{\"sent\":1200,\"ok\":1195,\"error_status\":2,\"timeout\":3,\"late\":0,"
	    "\"unmatched\":0,\"duplicate\":0,"
	    "\"latency_ms\":{\"count\":1195,\"p50\":4.5,\"p99\":18.25,\"max\":31},"
	    "\"by_method\":{"
	    "\"setpoint\":{\"sent\":700,\"ok\":697,\"error_status\":0,\"timeout\":3,\"late\":0,"
	    "\"unmatched\":0,\"duplicate\":0,\"latency_ms\":{\"count\":697,\"p50\":4}},"
	    "\"reboot<&>\":{\"sent\":500,\"ok\":498,\"error_status\":2,\"timeout\":0,\"late\":0,"
	    "\"unmatched\":0,\"duplicate\":0,\"latency_ms\":{\"count\":498,\"p50\":5}}}},"
	    "\"d2c\":{\"sent\":10,\"ok\":10,\"error_status\":0,\"timeout\":0,\"late\":0,"
	    "\"unmatched\":0,\"duplicate\":0,"
	    "\"latency_ms\":{\"count\":10,\"p50\":2,\"p99\":3,\"max\":3}}}}}");
	struct rpt_hist *h = NULL;
	char *html;

	CU_ASSERT_EQUAL_FATAL(rpt_hist_new(&h), RPT_OK);
	for (uint64_t i = 1; i <= 1000; i++)
		rpt_hist_record(h, i * 1000);
	CU_ASSERT_EQUAL_FATAL(rpt_json_set(rpt_json_path(r, "patterns.request_response.c2d"),
	    "latency_histogram", rpt_hist_to_json(h)), RPT_OK);
	rpt_hist_free(h);
	html = dump(r, NULL);

	rt_check_has(html, "<section class=\"pattern\" data-pattern=\"request_response.c2d\">\n"
	    "<h2>Pattern: request_response &mdash; c2d</h2>", 1);
	rt_check_has(html, "<h2>Pattern: request_response &mdash; d2c</h2>", 1);
	/* No section for the container itself: it has nothing of its own. */
	rt_check_has(html, "<h2>Pattern: request_response</h2>", 0);
	rt_check_has(html, "<tr><th>sent</th><th>ok</th><th>error_status</th><th>timeout</th>"
	    "<th>late</th><th>unmatched</th><th>duplicate</th><th>latency p50</th>"
	    "<th>latency p99</th><th>latency max</th></tr>", 2);
	/* Failures marked only when not zero; sent and ok never. */
	rt_check_has(html, "<tr><td class=\"num\">1,200</td><td class=\"num\">1,195</td>"
	    "<td class=\"num bad\">2</td><td class=\"num bad\">3</td><td class=\"num\">0</td>"
	    "<td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">4.50 ms</td>"
	    "<td class=\"num\">18.25 ms</td><td class=\"num\">31 ms</td></tr>", 1);
	rt_check_has(html, "class=\"num bad\"", 2);
	/* The run's devices are not a request-response figure. */
	rt_check_has(html, "<th>connected</th>", 0);
	rt_check_has(html, "<h3>By method</h3>", 1);
	rt_check_has(html, "<tr><th>setpoint</th><td class=\"num\">700</td>", 1);
	rt_check_has(html, "<tr><th>reboot&lt;&amp;&gt;</th><td class=\"num\">500</td>", 1);
	/* Only c2d has a histogram: one chart, and no series over time. */
	rt_check_has(html, "<svg class=\"chart\"", 1);
	rt_check_has(html, "data-chart=\"latency_distribution\" "
	    "data-pattern=\"request_response.c2d\"", 1);
	CU_ASSERT_EQUAL(points_of(html, "latency_distribution", "latency_ms"), 61);
	CU_ASSERT(strstr(html, "<h3>By method</h3>") < strstr(html, "<svg class=\"chart\""));
	CU_ASSERT(strstr(html, "<svg class=\"chart\"") <
	    strstr(html, "<h2>Pattern: request_response &mdash; d2c</h2>"));
	check_self_contained(html);
	free(html);
	rpt_json_free(r);
}

/* patterns.two_phase_commit as fleetsim writes it (sim_tpc_json), with
 * three validity violations of which two are listed, a detail with markup
 * in it, and five seconds of transactions. */
static const char TPC_REPORT[] =
    "{\"verdict\":\"fail\",\"devices\":{\"planned\":200,\"connected\":200},"
    "\"patterns\":{\"two_phase_commit\":{"
    "\"started\":1234,\"committed\":1100,"
    "\"aborted\":{\"total\":130,\"by_vote\":70,\"by_timeout\":40,\"by_coordinator\":20},"
    "\"undecided\":4,\"in_doubt_max_ms\":10357.468816,"
    "\"violations\":{\"atomicity\":0,\"validity\":3,\"agreement\":0,\"termination\":0,"
    "\"durability\":0},"
    "\"latency_ms\":{"
    "\"prepare\":{\"count\":1234,\"min\":60,\"mean\":90,\"p50\":88.5,\"p90\":120,\"p99\":300,"
    "\"p999\":400,\"max\":410},"
    "\"decide\":{\"count\":1234,\"min\":61,\"mean\":91,\"p50\":89.5,\"p90\":121,\"p99\":301,"
    "\"p999\":401,\"max\":411},"
    "\"complete\":{\"count\":1230,\"min\":150,\"mean\":700,\"p50\":650.25,\"p90\":2000,"
    "\"p99\":9000,\"p999\":11000,\"max\":11800}},"
    "\"violation_list\":["
    "{\"kind\":\"validity\",\"txid\":\"00000001000004d2\","
    "\"detail\":\"validity txid 00000001000004d2: devices 7\\n  device 7: coordinator saw its NO "
    "vote, yet committed <script>alert('x')</script> & 3 < 4\\ntimeline (ms from BEGIN):\\n"
    "  +0.000 ms coordinator BEGIN participants 5\\n\"},"
    "{\"kind\":\"validity\",\"txid\":\"00000001000004d3\",\"shard\":2,"
    "\"detail\":\"validity txid 00000001000004d3: devices 9\\n\"}],"
    "\"coordinator\":\"fleetsim\",\"in_doubt\":{\"episodes\":39,\"resolved\":37},"
    "\"votes\":{\"yes\":5600,\"no\":45},"
    "\"faults\":{\"crash_before_vote\":8,\"crash_after_vote\":20,\"reboot_during_commit\":14,"
    "\"messages_lost\":33,\"partitions\":0,\"coordinator_crashes\":2},"
    "\"skipped_coordinator_down\":40,\"resends\":568,\"log_fsyncs\":298}},"
    "\"timeseries\":{\"two_phase_commit\":{\"columns\":[\"t\",\"started\",\"committed\","
    "\"aborted\"],\"rows\":[[1714566896,0,0,0],[1714566897,21,14,2],[1714566898,20,15,1],"
    "[1714566899,3,1,0],[1714566900,0,4,2]]}}}";

/* TPC_REPORT with the raw histograms behind latency_ms: 1,000 samples for
 * prepare and decide, 100 for complete. */
static struct rpt_json *
tpc_report(void)
{
	static const char *const phases[] = { "prepare", "decide", "complete" };
	struct rpt_json *r = rt_parse(TPC_REPORT), *hists = rpt_json_object();

	CU_ASSERT_PTR_NOT_NULL_FATAL(hists);
	for (size_t k = 0; k < 3; k++) {
		struct rpt_hist *h = NULL;

		CU_ASSERT_EQUAL_FATAL(rpt_hist_new(&h), RPT_OK);
		for (uint64_t i = 1; i <= (k < 2 ? 1000 : 100); i++)
			rpt_hist_record(h, i * 1000000 * (k + 1));
		CU_ASSERT_EQUAL_FATAL(rpt_json_set(hists, phases[k], rpt_hist_to_json(h)), RPT_OK);
		rpt_hist_free(h);
	}
	CU_ASSERT_EQUAL_FATAL(rpt_json_set(rpt_json_path(r, "patterns.two_phase_commit"),
	    "latency_histograms", hists), RPT_OK);
	return r;
}

static void
test_two_phase_commit(void)
{
	struct rpt_json *r = tpc_report();
	char *html = dump(r, NULL);
	const char *pre;

	rt_check_has(html, "<section class=\"pattern\" data-pattern=\"two_phase_commit\">\n"
	    "<h2>Two-phase commit</h2>\n<p class=\"sub\">coordinator: fleetsim</p>", 1);
	/* Not the generic section, which would chart each column alone. */
	rt_check_has(html, "<h2>Pattern: two_phase_commit</h2>", 0);
	rt_check_has(html, "data-chart=\"started\"", 0);
	/* The figures, a row each; undecided is a failure when not zero. */
	rt_check_has(html, "<tr><th>started</th><td class=\"num\">1,234</td></tr>", 1);
	rt_check_has(html, "<tr><th>committed</th><td class=\"num\">1,100</td></tr>", 1);
	rt_check_has(html, "<tr><th>aborted</th><td class=\"num\">130</td></tr>\n"
	    "<tr><th>by vote</th><td class=\"num\">70</td></tr>\n"
	    "<tr><th>by timeout</th><td class=\"num\">40</td></tr>\n"
	    "<tr><th>by coordinator</th><td class=\"num\">20</td></tr>\n"
	    "<tr><th>undecided</th><td class=\"num bad\">4</td></tr>", 1);
	rt_check_has(html, "<tr><th>votes yes</th><td class=\"num\">5,600</td></tr>\n"
	    "<tr><th>votes no</th><td class=\"num\">45</td></tr>\n"
	    "<tr><th>in doubt</th><td class=\"num\">39</td></tr>\n"
	    "<tr><th>resolved</th><td class=\"num\">37</td></tr>\n"
	    "<tr><th>longest in doubt</th><td class=\"num\">10357 ms</td></tr>", 1);
	rt_check_has(html, "<tr><th>crash before vote</th><td class=\"num\">8</td></tr>", 1);
	rt_check_has(html, "<tr><th>coordinator crashes</th><td class=\"num\">2</td></tr>", 1);
	rt_check_has(html, "<tr><th>not started (down)</th><td class=\"num\">40</td></tr>", 1);
	rt_check_has(html, "<tr><th>log fsyncs</th><td class=\"num\">298</td></tr>", 1);
	/* The five invariants, validity failed. */
	rt_check_has(html, "data-invariant=", 5);
	rt_check_has(html, "<tr class=\"pass\" data-invariant=", 4);
	rt_check_has(html, "<tr class=\"fail\" data-invariant=\"validity\"><td class=\"bad\">FAIL"
	    "</td><td><code>validity</code></td><td class=\"num bad\">3</td>", 1);
	rt_check_has(html, "<tr class=\"pass\" data-invariant=\"atomicity\"><td class=\"ok\">PASS"
	    "</td><td><code>atomicity</code></td><td class=\"num\">0</td>", 1);
	/* Latency per phase, from latency_ms. */
	rt_check_has(html, "<h3>Latency (ms)</h3>", 1);
	rt_check_has(html, "<tr><th>complete</th><td class=\"num\">1,230</td>"
	    "<td class=\"num\">150</td><td class=\"num\">700</td><td class=\"num\">650.2</td>", 1);
	/* Transactions per second: five rows, five points a line. */
	rt_check_has(html, "data-chart=\"transactions\" data-pattern=\"two_phase_commit\"", 1);
	CU_ASSERT_EQUAL(points_of(html, "transactions", "started"), 5);
	CU_ASSERT_EQUAL(points_of(html, "transactions", "committed"), 5);
	CU_ASSERT_EQUAL(points_of(html, "transactions", "aborted"), 5);
	/* One distribution chart, a line a phase, each to its own decade. */
	rt_check_has(html, "data-chart=\"latency_distribution\"", 1);
	CU_ASSERT_EQUAL(points_of(html, "latency_distribution", "prepare"), 61);
	CU_ASSERT_EQUAL(points_of(html, "latency_distribution", "decide"), 61);
	CU_ASSERT_EQUAL(points_of(html, "latency_distribution", "complete"), 41);
	rt_check_has(html, "<svg class=\"chart\"", 2);
	CU_ASSERT(strstr(html, "data-chart=\"transactions\"") <
	    strstr(html, "data-chart=\"latency_distribution\""));
	/* The violations: two listed of three, txids as in the log. */
	rt_check_has(html, "<h3>Violations</h3>", 1);
	rt_check_has(html, "The first 2 of 3;", 1);
	rt_check_has(html, "<div class=\"violation\" data-kind=\"validity\">", 2);
	rt_check_has(html, "<span class=\"bad\">validity</span> txid <code>00000001000004d2</code></p>",
	    1);
	rt_check_has(html, "txid <code>00000001000004d3</code>, shard 2",
	    1);
	/* The detail verbatim but escaped, its lines kept. */
	rt_check_has(html, "<pre class=\"violation\">validity txid 00000001000004d2: devices 7\n"
	    "  device 7: coordinator saw its NO vote, yet committed "
	    "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; 3 &lt; 4\n"
	    "timeline (ms from BEGIN):\n  +0.000 ms coordinator BEGIN participants 5\n</pre>", 1);
	pre = strstr(html, "<pre class=\"violation\">");
	CU_ASSERT(pre > strstr(html, "data-chart=\"latency_distribution\""));
	check_self_contained(html);
	/* The series is drawn in the section, not again after it. */
	rt_check_has(html, "data-pattern=\"two_phase_commit\"", 3);
	free(html);
	rpt_json_free(r);
}

/* A page of violations is enough: of 25 listed, the first 20 show. */
static void
test_tpc_violations_capped(void)
{
	struct rpt_json *r = rt_parse("{\"patterns\":{\"two_phase_commit\":{"
	    "\"violations\":{\"atomicity\":25},\"violation_list\":[]}}}");
	struct rpt_json *list = rpt_json_path(r, "patterns.two_phase_commit.violation_list");
	char *html;

	for (int i = 0; i < 25; i++) {
		struct rpt_json *v = rpt_json_object();
		char detail[64];

		CU_ASSERT_EQUAL_FATAL(rpt_json_set_str(v, "kind", "atomicity"), RPT_OK);
		snprintf(detail, sizeof(detail), "%016x", i);
		CU_ASSERT_EQUAL_FATAL(rpt_json_set_str(v, "txid", detail), RPT_OK);
		snprintf(detail, sizeof(detail), "atomicity number %d\n", i);
		CU_ASSERT_EQUAL_FATAL(rpt_json_set_str(v, "detail", detail), RPT_OK);
		CU_ASSERT_EQUAL_FATAL(rpt_json_push(list, v), RPT_OK);
	}
	html = dump(r, NULL);
	rt_check_has(html, "<pre class=\"violation\">", 20);
	rt_check_has(html, "atomicity number 19\n", 1);
	rt_check_has(html, "atomicity number 20\n", 0);
	rt_check_has(html, "The first 20 of 25;", 1);
	rt_check_has(html, "<tr class=\"fail\" data-invariant=\"atomicity\">", 1);
	/* Without a series or histograms, no chart area. */
	rt_check_has(html, "class=\"charts\"", 0);
	free(html);
	rpt_json_free(r);
}

/* A txid is shown as the report holds it, 16 hex digits as in the log
 * and --history, and escaped like any text; one that is not a string
 * (a hand-edited report) is left out. */
static void
test_tpc_txids(void)
{
	struct rpt_json *r = rt_parse("{\"patterns\":{\"two_phase_commit\":{"
	    "\"violations\":{\"validity\":3},\"violation_list\":["
	    "{\"kind\":\"validity\",\"txid\":\"1a21a2285fa00001\",\"detail\":\"a\"},"
	    "{\"kind\":\"validity\",\"txid\":\"<b>\",\"detail\":\"b\"},"
	    "{\"kind\":\"validity\",\"txid\":12,\"detail\":\"c\"}]}}}");
	char *html = dump(r, NULL);

	rt_check_has(html, "txid <code>1a21a2285fa00001</code></p>\n<pre class=\"violation\">a</pre>",
	    1);
	rt_check_has(html, "txid <code>&lt;b&gt;</code></p>\n<pre class=\"violation\">b</pre>", 1);
	rt_check_has(html, "<span class=\"bad\">validity</span></p>\n<pre class=\"violation\">c</pre>",
	    1);
	free(html);
	rpt_json_free(r);
}

/* Without patterns.two_phase_commit there is no such section; a series
 * alone (a report cut down by hand) still gets its chart. */
static void
test_tpc_absent(void)
{
	struct rpt_json *r = full_report(), *s;
	char *html = dump(r, SCENARIO);

	rt_check_has(html, "Two-phase commit", 0);
	rt_check_has(html, "data-invariant", 0);
	rt_check_has(html, "class=\"violation\"", 0);
	rt_check_has(html, "data-chart=\"transactions\"", 0);
	free(html);
	rpt_json_free(r);

	r = tpc_report();
	s = rpt_json_object();
	CU_ASSERT_EQUAL_FATAL(rpt_json_set(r, "patterns", s), RPT_OK);
	html = dump(r, NULL);
	rt_check_has(html, "Two-phase commit", 0);
	rt_check_has(html, "<h2>Pattern: two_phase_commit</h2>", 1);
	CU_ASSERT_EQUAL(points_of(html, "transactions", "committed"), 5);
	free(html);
	rpt_json_free(r);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "verdict, assertions and checks at the top", test_verdict_and_assertions },
		{ "a chart per series group, points equal rows", test_charts_and_points },
		{ "key figures and run metadata", test_key_figures_and_metadata },
		{ "scenario text escaped, nothing external", test_scenario_escaped },
		{ "written atomically, same as the dump", test_write_file },
		{ "invalid arguments", test_invalid },
		{ "an empty report still renders", test_empty_report },
		{ "unknown columns and malformed input", test_generic_columns },
		{ "long series are thinned, spikes kept", test_long_series },
		{ "request-response: a section per direction", test_request_response },
		{ "two-phase commit: figures, invariants, charts, violations", test_two_phase_commit },
		{ "two-phase commit: a page of violations at most", test_tpc_violations_capped },
		{ "two-phase commit: txids as in the log, escaped", test_tpc_txids },
		{ "two-phase commit: no section without the pattern", test_tpc_absent },
		{ NULL, NULL },
	};

	return fs_test_main("html", tests);
}
