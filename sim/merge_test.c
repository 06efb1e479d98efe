/* sim_merge_reports against reports built here from known samples: two
 * halves of a fleet must merge into what the whole fleet reports. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "fs_test.h"
#include "hist.h"
#include "merge.h"
#include "report.h"
#include "sim_clock.h"
#include "tpc_check.h"
#include "verdict.h"

#define NSAMPLES 2000
#define NCOLS 9

/* One shard's figures, or the whole fleet's. */
struct fig {
	const uint64_t *lat;        /* latency samples, ns */
	size_t nlat, lat_step;      /* every lat_step-th sample from lat */
	double sent_a, recv_a;      /* group a: qos A_QOS */
	double sent_b, recv_b;      /* group b: qos 0 */
	double dup_a;
	int qos_a;
	bool clean_a;
	const double (*rows)[NCOLS];
	size_t nrows;
	const char *name;
	const char *started_at;
	double duration_s, all_connected_s; /* NAN: never all connected */
	bool partial, no_hist;
	const char *const *asserts;
};

static uint64_t samples[NSAMPLES];

static void
make_samples(void)
{
	uint64_t x = 88172645463325252ull;

	/* xorshift: a spread from 10 us to about 65 ms, with a long tail. */
	for (size_t i = 0; i < NSAMPLES; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		samples[i] = 10000 + (x % 1000) * (x % 997) / 16;
	}
}

static struct rpt_json *
group(double devices, int qos, bool clean, double sent, double recv, double dup)
{
	struct rpt_json *g = rpt_json_object();

	rpt_json_set_num(g, "devices", devices);
	rpt_json_set_num(g, "qos", qos);
	rpt_json_set_bool(g, "clean_session", clean);
	rpt_json_set_num(g, "sent", sent);
	rpt_json_set_num(g, "received", recv);
	rpt_json_set_num(g, "lost", sent - recv);
	rpt_json_set_num(g, "duplicates", dup);
	return g;
}

/* A report in run's shape (the fields merge and judge read). */
static struct rpt_json *
report(const struct fig *f)
{
	struct rpt_json *r = rpt_json_object(), *o, *t, *bg, *ts, *cols, *rows, *as;
	struct rpt_hist *h, *ch;
	static const char *const colnames[NCOLS] = { "t", "sent", "received", "errors", "p50_ms",
	    "p99_ms", "max_ms", "connected", "reconnects" };
	double sent = f->sent_a + f->sent_b, recv = f->recv_a + f->recv_b;

	CU_ASSERT_FATAL(r != NULL && rpt_hist_new(&h) == RPT_OK && rpt_hist_new(&ch) == RPT_OK);
	for (size_t i = 0; i < f->nlat; i += f->lat_step) {
		rpt_hist_record(h, f->lat[i]);
		rpt_hist_record(ch, f->lat[i] * 10);
	}
	rpt_json_set_num(r, "schema_version", 1);
	rpt_json_set_str(r, "fleetsim_version", "0.1.0");
	o = rpt_json_object();
	rpt_json_set_str(o, "name", f->name ? f->name : "m");
	rpt_json_set_num(o, "seed", 1);
	rpt_json_set(r, "scenario", o);
	rpt_json_set_str(r, "started_at", f->started_at ? f->started_at : "2026-01-01T00:00:00Z");
	rpt_json_set_num(r, "duration_s", f->duration_s);
	rpt_json_set_bool(r, "partial", f->partial);
	rpt_json_set_str(r, "verdict", "pass");
	o = rpt_json_object();
	rpt_json_set_str(o, "url", "mqtt://127.0.0.1:1883");
	rpt_json_set_bool(o, "embedded", false);
	rpt_json_set_num(o, "consumer_reconnects", 0);
	rpt_json_set_num(o, "consumer_decode_errors", 0);
	rpt_json_set_num(o, "consumer_connections", 1);
	rpt_json_set(r, "broker", o);
	o = rpt_json_object();
	rpt_json_set_num(o, "planned", 10);
	rpt_json_set_num(o, "connected", 10);
	rpt_json_set_num(o, "connect_failures", 0);
	rpt_json_set_num(o, "decode_errors", 0);
	t = rpt_json_object();
	rpt_json_set_num(t, "p50", (double)rpt_hist_percentile(ch, 50) / 1e6);
	rpt_json_set_num(t, "p99", (double)rpt_hist_percentile(ch, 99) / 1e6);
	rpt_json_set_num(t, "max", (double)rpt_hist_max(ch) / 1e6);
	rpt_json_set(o, "connect_ms", t);
	if (!f->no_hist)
		rpt_json_set(o, "connect_histogram", rpt_hist_to_json(ch));
	rpt_json_set(o, "all_connected_after_s",
	    isnan(f->all_connected_s) ? rpt_json_null() : rpt_json_number(f->all_connected_s));
	rpt_json_set(r, "devices", o);
	t = rpt_json_object();
	rpt_json_set_num(t, "sent", sent);
	rpt_json_set_num(t, "received", recv);
	rpt_json_set_num(t, "lost", sent - recv);
	rpt_json_set_num(t, "duplicates", f->dup_a);
	rpt_json_set_num(t, "malformed", 0);
	rpt_json_set_num(t, "throughput_per_s", recv / 10);
	rpt_json_set(t, "latency_ms", rpt_hist_summary(h, 1e6));
	bg = rpt_json_object();
	rpt_json_set(bg, "a", group(5, f->qos_a, f->clean_a, f->sent_a, f->recv_a, f->dup_a));
	rpt_json_set(bg, "b", group(5, 0, true, f->sent_b, f->recv_b, 0));
	rpt_json_set(t, "by_group", bg);
	if (!f->no_hist)
		rpt_json_set(t, "latency_histogram", rpt_hist_to_json(h));
	o = rpt_json_object();
	rpt_json_set(o, "telemetry", t);
	rpt_json_set(r, "patterns", o);
	ts = rpt_json_object();
	o = rpt_json_object();
	cols = rpt_json_array();
	rows = rpt_json_array();
	for (size_t c = 0; c < NCOLS; c++)
		rpt_json_push(cols, rpt_json_string(colnames[c]));
	for (size_t i = 0; i < f->nrows; i++) {
		struct rpt_json *row = rpt_json_array();

		for (size_t c = 0; c < NCOLS; c++)
			rpt_json_push(row, isnan(f->rows[i][c]) ? rpt_json_null() :
			    rpt_json_number(f->rows[i][c]));
		rpt_json_push(rows, row);
	}
	rpt_json_set(o, "columns", cols);
	rpt_json_set(o, "rows", rows);
	rpt_json_set(ts, "telemetry", o);
	rpt_json_set(r, "timeseries", ts);
	as = rpt_json_array();
	for (size_t i = 0; f->asserts != NULL && f->asserts[i] != NULL; i++) {
		o = rpt_json_object();
		rpt_json_set_str(o, "expr", f->asserts[i]);
		rpt_json_push(as, o);
	}
	rpt_json_set(r, "assertions", as);
	rpt_hist_free(h);
	rpt_hist_free(ch);
	return r;
}

/* A shard: every other sample, starting at first. */
static struct fig
half(size_t first)
{
	return (struct fig){
		.lat = samples + first, .nlat = NSAMPLES - first, .lat_step = 2,
		.sent_a = 600, .recv_a = 600, .sent_b = 400, .recv_b = 390 + (double)first,
		.qos_a = 1, .clean_a = true, .duration_s = 10, .all_connected_s = 2,
	};
}

static struct rpt_json *
merge2(const struct rpt_json *a, const struct rpt_json *b, enum sim_err want)
{
	const struct rpt_json *in[2] = { a, b };
	struct rpt_json *m = NULL;
	struct sim_diag d = { "" };

	CU_ASSERT_EQUAL(sim_merge_reports(in, 2, &m, &d), want);
	if (want != SIM_OK)
		CU_ASSERT(d.msg[0] != '\0');
	return m;
}

/* a and b do not merge, and the message says what is wrong where. */
static void
rejected_naming(const struct rpt_json *a, const struct rpt_json *b, const char *what)
{
	const struct rpt_json *in[2] = { a, b };
	struct rpt_json *m = NULL;
	struct sim_diag d = { "" };

	CU_ASSERT_EQUAL(sim_merge_reports(in, 2, &m, &d), SIM_ERR_SCENARIO);
	CU_ASSERT_PTR_NULL(m);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, what));
}

static double
num(const struct rpt_json *r, const char *path)
{
	const struct rpt_json *v = rpt_json_path(r, path);

	return rpt_json_type(v) == RPT_JSON_NUMBER ? rpt_json_num(v) : NAN;
}

static void
same_json(const struct rpt_json *x, const struct rpt_json *y)
{
	char *a = NULL, *b = NULL;

	CU_ASSERT_FATAL(rpt_json_dump(x, 0, &a) == RPT_OK && rpt_json_dump(y, 0, &b) == RPT_OK);
	CU_ASSERT_STRING_EQUAL(a, b);
	free(a);
	free(b);
}

static void
test_halves_equal_whole(void)
{
	struct fig fa = half(0), fb = half(1), fw = half(0);
	struct rpt_json *a, *b, *w, *m;
	static const char *const counts[] = {
		"patterns.telemetry.sent", "patterns.telemetry.received", "patterns.telemetry.lost",
		"patterns.telemetry.duplicates", "patterns.telemetry.throughput_per_s",
		"patterns.telemetry.by_group.a.sent", "patterns.telemetry.by_group.a.lost",
		"patterns.telemetry.by_group.a.devices", "patterns.telemetry.by_group.b.received",
		"patterns.telemetry.by_group.b.lost", "devices.planned", "devices.connected",
		"broker.consumer_connections", NULL,
	};

	make_samples();
	fw.lat_step = 1;
	fw.nlat = NSAMPLES;
	fw.sent_a = 1200, fw.recv_a = 1200, fw.sent_b = 800, fw.recv_b = 781;
	a = report(&fa);
	b = report(&fb);
	w = report(&fw);
	/* The whole fleet is twice a shard, except where shards differ. */
	rpt_json_set_num(rpt_json_get(w, "devices"), "planned", 20);
	rpt_json_set_num(rpt_json_get(w, "devices"), "connected", 20);
	rpt_json_set_num(rpt_json_path(w, "patterns.telemetry.by_group.a"), "devices", 10);
	rpt_json_set_num(rpt_json_get(w, "broker"), "consumer_connections", 2);
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_FATAL(m != NULL);
	for (size_t i = 0; counts[i] != NULL; i++) {
		CU_ASSERT_EQUAL(num(m, counts[i]), num(w, counts[i]));
		if (num(m, counts[i]) != num(w, counts[i]))
			fprintf(stderr, "%s: merged %g, whole %g\n", counts[i], num(m, counts[i]),
			    num(w, counts[i]));
	}
	/* qos is a setting: not added. */
	CU_ASSERT_EQUAL(num(m, "patterns.telemetry.by_group.a.qos"), 1);
	/* Exact: the same buckets, so every percentile, min, max and mean. */
	same_json(rpt_json_path(m, "patterns.telemetry.latency_ms"),
	    rpt_json_path(w, "patterns.telemetry.latency_ms"));
	same_json(rpt_json_path(m, "patterns.telemetry.latency_histogram"),
	    rpt_json_path(w, "patterns.telemetry.latency_histogram"));
	same_json(rpt_json_path(m, "devices.connect_ms"), rpt_json_path(w, "devices.connect_ms"));
	/* And not what averaging the shards' percentiles would give. */
	CU_ASSERT_EQUAL(num(m, "patterns.telemetry.latency_ms.count"), NSAMPLES);
	CU_ASSERT_EQUAL(num(m, "shards"), 2);
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(m, "notes")), 0);
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(m, "verdict")), "pass");
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_path(m, "scenario.name")), "m");
	rpt_json_free(a);
	rpt_json_free(b);
	rpt_json_free(w);
	rpt_json_free(m);
}

static void
test_timeseries_aligned(void)
{
	static const double ra[][NCOLS] = {
		{ 100, 10, 10, 0, 1.0, 2.0, 3.0, 5, 0 },
		{ 101, 10, 9, 1, 1.5, 2.5, 4.0, 5, 1 },
	};
	static const double rb[][NCOLS] = {
		{ 101, 20, 20, 0, 0.5, 0.9, 7.0, 5, 0 },
		{ 102, 20, 0, 0, NAN, NAN, NAN, 4, 0 },
		{ 99, 1, 1, 0, 0.2, 0.3, 0.4, 1, 0 },
	};
	static const double ra2[][NCOLS] = {
		{ 102, 1, 1, 0, 0.7, 0.8, 0.9, 5, 0 },
	};
	struct fig fa = half(0), fb = half(1);
	struct rpt_json *a, *b, *m, *rows;

	make_samples();
	fa.rows = ra, fa.nrows = 2;
	fb.rows = rb, fb.nrows = 3;
	a = report(&fa);
	b = report(&fb);
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_FATAL(m != NULL);
	rows = rpt_json_path(m, "timeseries.telemetry.rows");
	CU_ASSERT_EQUAL_FATAL(rpt_json_len(rows), 4);
	/* Sorted by t; t=99 and t=100 each from one shard, kept as they are. */
	CU_ASSERT_EQUAL(num(rows, "0.0"), 99);
	CU_ASSERT_EQUAL(num(rows, "0.4"), 0.2);
	CU_ASSERT_EQUAL(num(rows, "1.0"), 100);
	CU_ASSERT_EQUAL(num(rows, "1.1"), 10);
	CU_ASSERT_EQUAL(num(rows, "1.5"), 2.0);
	/* t=101 from both: counts add, max is the max, percentiles are
	 * unknowable from two summaries. */
	CU_ASSERT_EQUAL(num(rows, "2.0"), 101);
	CU_ASSERT_EQUAL(num(rows, "2.1"), 30);
	CU_ASSERT_EQUAL(num(rows, "2.2"), 29);
	CU_ASSERT_EQUAL(num(rows, "2.3"), 1);
	CU_ASSERT_EQUAL(rpt_json_type(rpt_json_path(rows, "2.4")), RPT_JSON_NULL);
	CU_ASSERT_EQUAL(rpt_json_type(rpt_json_path(rows, "2.5")), RPT_JSON_NULL);
	CU_ASSERT_EQUAL(num(rows, "2.6"), 7.0);
	CU_ASSERT_EQUAL(num(rows, "2.7"), 10);
	CU_ASSERT_EQUAL(num(rows, "2.8"), 1);
	/* t=102 from one shard with no latency: null stays null. */
	CU_ASSERT_EQUAL(rpt_json_type(rpt_json_path(rows, "3.4")), RPT_JSON_NULL);
	CU_ASSERT_EQUAL(num(rows, "3.1"), 20);
	rpt_json_free(m);
	/* t=102 from both, but only one with latency: that one is the union's. */
	rpt_json_free(a);
	fa.rows = ra2, fa.nrows = 1;
	a = report(&fa);
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_FATAL(m != NULL);
	rows = rpt_json_path(m, "timeseries.telemetry.rows");
	CU_ASSERT_EQUAL_FATAL(rpt_json_len(rows), 3);
	CU_ASSERT_EQUAL(num(rows, "2.0"), 102);
	CU_ASSERT_EQUAL(num(rows, "2.1"), 21);
	CU_ASSERT_EQUAL(num(rows, "2.4"), 0.7);
	CU_ASSERT_EQUAL(num(rows, "2.5"), 0.8);
	CU_ASSERT_EQUAL(num(rows, "2.6"), 0.9);
	CU_ASSERT_EQUAL(num(rows, "2.7"), 9);
	rpt_json_free(a);
	rpt_json_free(b);
	rpt_json_free(m);
}

static const struct rpt_json *
check_named(const struct rpt_json *r, const char *name)
{
	const struct rpt_json *arr = rpt_json_get(r, "checks");

	for (size_t i = 0; i < rpt_json_len(arr); i++)
		if (strcmp(rpt_json_str(rpt_json_get(rpt_json_at(arr, i), "name")), name) == 0)
			return rpt_json_at(arr, i);
	return NULL;
}

/* Judges a shard on its own, as its run did. */
static bool
shard_passes(struct rpt_json *r, const char *const *exprs)
{
	struct rpt_assertion as[4];
	size_t n = 0;
	bool pass = false;

	/* With no assertions, as is still passed (and read by nothing). */
	memset(as, 0, sizeof(as));
	for (; exprs[n] != NULL; n++)
		CU_ASSERT_FATAL(rpt_assert_parse(exprs[n], &as[n], NULL, 0, NULL) == RPT_OK);
	CU_ASSERT_EQUAL(sim_report_judge_asserts(r, as, n, &pass), SIM_OK);
	for (size_t i = 0; i < n; i++)
		rpt_assertion_fini(&as[i]);
	return pass;
}

static void
test_assertions_rejudged(void)
{
	static const char *const exprs[] = { "patterns.telemetry.sent < 150",
	    "patterns.telemetry.latency_ms.p99 < 1s", NULL };
	struct fig fa = half(0), fb = half(1);
	struct rpt_json *a, *b, *m;

	make_samples();
	fa.sent_a = fa.recv_a = fb.sent_a = fb.recv_a = 60;
	fa.sent_b = fa.recv_b = fb.sent_b = fb.recv_b = 40;
	fa.asserts = fb.asserts = exprs;
	a = report(&fa);
	b = report(&fb);
	CU_ASSERT_TRUE(shard_passes(a, exprs));
	CU_ASSERT_TRUE(shard_passes(b, exprs));
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_EQUAL(num(m, "patterns.telemetry.sent"), 200);
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_path(m, "assertions.0.expr")),
	    "patterns.telemetry.sent < 150");
	CU_ASSERT_EQUAL(num(m, "assertions.0.actual"), 200);
	CU_ASSERT_FALSE(rpt_json_truthy(rpt_json_path(m, "assertions.0.pass")));
	CU_ASSERT_EQUAL(num(m, "assertions.1.actual"), num(m, "patterns.telemetry.latency_ms.p99"));
	CU_ASSERT_TRUE(rpt_json_truthy(rpt_json_path(m, "assertions.1.pass")));
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(m, "verdict")), "fail");
	rpt_json_free(m);
	/* Other assertions in a shard are noted, not silently dropped. */
	rpt_json_free(b);
	fb.asserts = exprs + 1;
	b = report(&fb);
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(m, "notes")), 1);
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(m, "assertions")), 2);
	rpt_json_free(m);
	rpt_json_free(a);
	rpt_json_free(b);
}

static void
test_checks_recomputed(void)
{
	struct fig fa = half(0), fb = half(1);
	struct rpt_json *a, *b, *m;

	make_samples();
	/* Shard b's QoS 1 group lost one message: the whole run did. */
	fb.recv_a = fb.sent_a - 1;
	a = report(&fa);
	b = report(&fb);
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_EQUAL(num(m, "patterns.telemetry.by_group.a.lost"), 1);
	CU_ASSERT_FALSE(rpt_json_truthy(rpt_json_get(check_named(m, "telemetry.no_loss_qos1_qos2"),
	    "pass")));
	CU_ASSERT_PTR_NULL(check_named(m, "telemetry.exactly_once_qos2"));
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(m, "verdict")), "fail");
	rpt_json_free(a);
	rpt_json_free(b);
	rpt_json_free(m);
	/* QoS 2 with persistent sessions: the exactly-once check, from the
	 * report's by_group alone. */
	fa = half(0), fb = half(1);
	fa.qos_a = fb.qos_a = 2;
	fa.clean_a = fb.clean_a = false;
	fb.dup_a = 1;
	a = report(&fa);
	b = report(&fb);
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_PTR_NOT_NULL(check_named(m, "telemetry.no_loss_qos1_qos2"));
	CU_ASSERT_FALSE(rpt_json_truthy(rpt_json_get(check_named(m, "telemetry.exactly_once_qos2"),
	    "pass")));
	CU_ASSERT_EQUAL(num(m, "patterns.telemetry.by_group.a.qos"), 2);
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(m, "verdict")), "fail");
	rpt_json_free(a);
	rpt_json_free(b);
	rpt_json_free(m);
}

static void
test_run_fields(void)
{
	struct fig fa = half(0), fb = half(1);
	struct rpt_json *a, *b, *m;

	make_samples();
	fa.started_at = "2026-03-01T10:00:05Z";
	fb.started_at = "2026-03-01T10:00:01Z";
	fa.duration_s = 12.5;
	fb.partial = true;
	fb.all_connected_s = 7;
	a = report(&fa);
	b = report(&fb);
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(m, "started_at")), "2026-03-01T10:00:01Z");
	CU_ASSERT_EQUAL(num(m, "duration_s"), 12.5);
	CU_ASSERT_TRUE(rpt_json_truthy(rpt_json_get(m, "partial")));
	CU_ASSERT_EQUAL(num(m, "devices.all_connected_after_s"), 7);
	rpt_json_free(m);
	rpt_json_free(b);
	fb.all_connected_s = NAN;
	b = report(&fb);
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_EQUAL(rpt_json_type(rpt_json_path(m, "devices.all_connected_after_s")), RPT_JSON_NULL);
	rpt_json_free(m);
	rpt_json_free(a);
	rpt_json_free(b);
}

static void
test_without_histograms(void)
{
	struct fig fa = half(0), fb = half(1), fw = half(0);
	struct rpt_json *a, *b, *w, *m;

	make_samples();
	fb.no_hist = true;
	fw.lat_step = 1;
	a = report(&fa);
	b = report(&fb);
	w = report(&fw);
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_FATAL(m != NULL);
	/* Two notes (latency and connect), counts and extremes still exact,
	 * percentiles an upper bound. */
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(m, "notes")), 2);
	CU_ASSERT_PTR_NULL(rpt_json_path(m, "patterns.telemetry.latency_histogram"));
	CU_ASSERT_EQUAL(num(m, "patterns.telemetry.latency_ms.count"), NSAMPLES);
	CU_ASSERT_EQUAL(num(m, "patterns.telemetry.latency_ms.min"), num(w, "patterns.telemetry.latency_ms.min"));
	CU_ASSERT_EQUAL(num(m, "patterns.telemetry.latency_ms.max"), num(w, "patterns.telemetry.latency_ms.max"));
	CU_ASSERT(fabs(num(m, "patterns.telemetry.latency_ms.mean") -
	    num(w, "patterns.telemetry.latency_ms.mean")) < 1e-9);
	CU_ASSERT(num(m, "patterns.telemetry.latency_ms.p99") >=
	    fmin(num(a, "patterns.telemetry.latency_ms.p99"), num(b, "patterns.telemetry.latency_ms.p99")));
	CU_ASSERT_EQUAL(num(m, "devices.connect_ms.max"), num(w, "devices.connect_ms.max"));
	rpt_json_free(a);
	rpt_json_free(b);
	rpt_json_free(w);
	rpt_json_free(m);
}

/* One direction or one method of patterns.request_response, as a run
 * reports it: ok replies every step-th sample of lat, one error status,
 * the rest of sent timed out. */
static struct rpt_json *
rr_stats(const uint64_t *lat, size_t nlat, size_t step, double sent, bool hist)
{
	struct rpt_json *o = rpt_json_object();
	struct rpt_hist *h;
	double ok = 0;

	CU_ASSERT_FATAL(o != NULL && rpt_hist_new(&h) == RPT_OK);
	for (size_t i = 0; i < nlat; i += step, ok++)
		rpt_hist_record(h, lat[i]);
	rpt_json_set_num(o, "sent", sent);
	rpt_json_set_num(o, "ok", ok);
	rpt_json_set_num(o, "error_status", 1);
	rpt_json_set_num(o, "timeout", sent - ok - 1);
	rpt_json_set_num(o, "late", 0);
	rpt_json_set_num(o, "unmatched", 0);
	rpt_json_set_num(o, "duplicate", 0);
	rpt_json_set(o, "latency_ms", rpt_hist_summary(h, 1e6));
	if (hist)
		rpt_json_set(o, "latency_histogram", rpt_hist_to_json(h));
	rpt_hist_free(h);
	return o;
}

/* patterns.request_response with c2d, whose by_method.setpoint has the
 * first half of c2d's samples. */
static struct rpt_json *
rr_pattern(const uint64_t *lat, size_t step, double sent, double sent_setpoint, bool setpoint_hist)
{
	struct rpt_json *rr = rpt_json_object(), *c2d, *bm;

	c2d = rr_stats(lat, NSAMPLES - (size_t)(lat - samples), step, sent, true);
	bm = rpt_json_object();
	rpt_json_set(bm, "setpoint", rr_stats(lat, NSAMPLES / 2, step, sent_setpoint, setpoint_hist));
	rpt_json_set(c2d, "by_method", bm);
	rpt_json_set(rr, "c2d", c2d);
	return rr;
}

static void
test_nested_histograms(void)
{
	struct fig fa = half(0), fb = half(1);
	struct rpt_json *a, *b, *w, *m, *d2c;
	static const char *const levels[] = { "patterns.request_response.c2d",
	    "patterns.request_response.c2d.by_method.setpoint", NULL };

	make_samples();
	a = report(&fa);
	b = report(&fb);
	/* The shards split the samples as the telemetry halves do; w is what
	 * one run over both would report. */
	rpt_json_set(rpt_json_get(a, "patterns"), "request_response",
	    rr_pattern(samples, 2, 1010, 505, true));
	rpt_json_set(rpt_json_get(b, "patterns"), "request_response",
	    rr_pattern(samples + 1, 2, 1020, 507, true));
	w = rr_pattern(samples, 1, 2030, 1012, true);
	/* A direction only one shard has is that shard's. */
	d2c = rr_stats(samples, 100, 1, 100, true);
	rpt_json_set(rpt_json_path(b, "patterns.request_response"), "d2c", d2c);
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(m, "notes")), 0);
	/* Counts add. */
	CU_ASSERT_EQUAL(num(m, "patterns.request_response.c2d.sent"), 2030);
	CU_ASSERT_EQUAL(num(m, "patterns.request_response.c2d.ok"), NSAMPLES);
	CU_ASSERT_EQUAL(num(m, "patterns.request_response.c2d.error_status"), 2);
	CU_ASSERT_EQUAL(num(m, "patterns.request_response.c2d.timeout"), 28);
	CU_ASSERT_EQUAL(num(m, "patterns.request_response.c2d.by_method.setpoint.sent"), 1012);
	CU_ASSERT_EQUAL(num(m, "patterns.request_response.c2d.by_method.setpoint.ok"), NSAMPLES / 2);
	CU_ASSERT_EQUAL(num(m, "patterns.request_response.c2d.by_method.setpoint.timeout"), 10);
	/* At both depths the summary is the merged histogram's, exactly what
	 * one run would report, not the first shard's. */
	for (size_t i = 0; levels[i] != NULL; i++) {
		const char *rel = levels[i] + strlen("patterns.request_response.");
		const struct rpt_json *ms, *ws;
		char mp[160], wp[160];

		snprintf(mp, sizeof(mp), "%s.latency_ms", levels[i]);
		snprintf(wp, sizeof(wp), "%s.latency_ms", rel);
		ms = rpt_json_path(m, mp);
		ws = rpt_json_path(w, wp);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ms);
		CU_ASSERT_EQUAL(num(ms, "count"), num(ws, "count"));
		CU_ASSERT_EQUAL(num(ms, "p50"), num(ws, "p50"));
		CU_ASSERT_EQUAL(num(ms, "max"), num(ws, "max"));
		same_json(ms, ws);
		snprintf(mp, sizeof(mp), "%s.latency_histogram", levels[i]);
		snprintf(wp, sizeof(wp), "%s.latency_histogram", rel);
		same_json(rpt_json_path(m, mp), rpt_json_path(w, wp));
	}
	same_json(rpt_json_path(m, "patterns.request_response.d2c"), d2c);
	rpt_json_free(m);
	/* A method without a histogram in one shard: that method approximate,
	 * with a note naming it and no histogram, the direction still exact. */
	rpt_json_set(rpt_json_get(b, "patterns"), "request_response",
	    rr_pattern(samples + 1, 2, 1020, 507, false));
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_EQUAL_FATAL(rpt_json_len(rpt_json_get(m, "notes")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(rpt_json_str(rpt_json_path(m, "notes.0")),
	    "patterns.request_response.c2d.by_method.setpoint.latency_ms"));
	CU_ASSERT_PTR_NULL(rpt_json_path(m, "patterns.request_response.c2d.by_method.setpoint.latency_histogram"));
	CU_ASSERT_EQUAL(num(m, "patterns.request_response.c2d.by_method.setpoint.latency_ms.count"), NSAMPLES / 2);
	CU_ASSERT_EQUAL(num(m, "patterns.request_response.c2d.by_method.setpoint.latency_ms.max"),
	    num(w, "c2d.by_method.setpoint.latency_ms.max"));
	CU_ASSERT_EQUAL(num(m, "patterns.request_response.c2d.by_method.setpoint.sent"), 1012);
	same_json(rpt_json_path(m, "patterns.request_response.c2d.latency_ms"), rpt_json_path(w, "c2d.latency_ms"));
	rpt_json_free(m);
	/* A broken histogram deep down is named by its path. */
	rpt_json_set(rpt_json_get(b, "patterns"), "request_response",
	    rr_pattern(samples + 1, 2, 1020, 507, true));
	rpt_json_set_num(rpt_json_path(b, "patterns.request_response.c2d.by_method.setpoint.latency_histogram"),
	    "count", 3);
	rejected_naming(a, b, "report 2: patterns.request_response.c2d.by_method.setpoint.latency_histogram");
	rpt_json_free(a);
	rpt_json_free(b);
	rpt_json_free(w);
}

#define MS SIM_NS_PER_MS

static void
tpc_rec(struct sim_tpc_check *c, uint64_t t_ns, uint64_t txid, uint32_t dev, int ev, int val)
{
	struct sim_tpc_rec r = { .t_ns = t_ns, .txid = txid, .device = dev, .ev = (uint8_t)ev,
		.val = (uint8_t)val };

	CU_ASSERT_EQUAL(sim_tpc_check_add(c, &r), SIM_OK);
}

/* patterns.two_phase_commit as a run reports it, over transactions first,
 * first + step, ... below ntx, each committed by two devices: txid k
 * begins at k s, and its votes, decision and ACKs come later by amounts
 * that vary with k, so each phase's latencies spread. Every lost-th (0:
 * none) loses a committed change, a durability violation; when k % 15 is
 * 3 a device is in doubt for a time that grows with k. */
static struct rpt_json *
tpc_pattern(uint64_t first, uint64_t step, uint64_t ntx, uint64_t lost, const char *coordinator)
{
	struct sim_tpc_check_opts o = { .deadline_ns = SIM_NS_PER_S, .recovery_ns = SIM_NS_PER_S };
	struct sim_tpc_check *c = NULL;
	struct rpt_json *j, *v;
	uint64_t yes = 0, fsyncs = 0;

	CU_ASSERT_EQUAL_FATAL(sim_tpc_check_new(&o, &c), SIM_OK);
	for (uint64_t k = first; k < ntx; k += step) {
		uint64_t t = k * SIM_NS_PER_S, spread = (k * 7919) % 61;
		uint32_t d = (uint32_t)(2 * k);

		tpc_rec(c, t, k, 0, SIM_TPC_BEGIN, 2);
		for (uint32_t i = 0; i < 2; i++) {
			tpc_rec(c, t + 1 * MS, k, d + i, SIM_TPC_PREPARE, 0);
			tpc_rec(c, t + 5 * MS, k, d + i, SIM_TPC_VOTE, 1);
			tpc_rec(c, t + (10 + spread + i) * MS, k, d + i, SIM_TPC_VOTE_SEEN, 1);
			yes++;
		}
		tpc_rec(c, t + (20 + spread + k % 5) * MS, k, 0, SIM_TPC_DECIDE, 1);
		fsyncs += 2;
		for (uint32_t i = 0; i < 2; i++) {
			tpc_rec(c, t + 100 * MS, k, d + i, SIM_TPC_APPLY, 1);
			tpc_rec(c, t + (110 + (k * 31) % 53 + i) * MS, k, d + i, SIM_TPC_ACK_SEEN, 0);
		}
		if (k % 15 == 3) {
			tpc_rec(c, t + 200 * MS, k, d, SIM_TPC_IN_DOUBT, 0);
			tpc_rec(c, t + (200 + 10 * k) * MS, k, d, SIM_TPC_RESOLVED, 0);
		}
		if (lost != 0 && k % lost == 0)
			tpc_rec(c, t + 900 * MS, k, d, SIM_TPC_OBSERVE, 0);
	}
	sim_tpc_check_finish(c, (ntx + 10) * SIM_NS_PER_S);
	j = sim_tpc_check_json(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	/* What sim_tpc_json adds around the checker's object. */
	rpt_json_set_str(j, "coordinator", coordinator);
	v = rpt_json_object();
	rpt_json_set_num(v, "yes", (double)yes);
	rpt_json_set_num(v, "no", 0);
	rpt_json_set(j, "votes", v);
	rpt_json_set_num(j, "log_fsyncs", (double)fsyncs);
	sim_tpc_check_free(c);
	return j;
}

/* timeseries.two_phase_commit: rows {t, started, committed, aborted}. */
static struct rpt_json *
tpc_series(const double (*rows)[4], size_t nrows)
{
	static const char *const cols[] = { "t", "started", "committed", "aborted" };
	struct rpt_json *o = rpt_json_object(), *c = rpt_json_array(), *r = rpt_json_array();

	for (size_t i = 0; i < 4; i++)
		rpt_json_push(c, rpt_json_string(cols[i]));
	for (size_t i = 0; i < nrows; i++) {
		struct rpt_json *row = rpt_json_array();

		for (size_t k = 0; k < 4; k++)
			rpt_json_push(row, rpt_json_number(rows[i][k]));
		rpt_json_push(r, row);
	}
	rpt_json_set(o, "columns", c);
	rpt_json_set(o, "rows", r);
	return o;
}

/* A shard's report with the pattern and its series. */
static struct rpt_json *
tpc_report(size_t first, struct rpt_json *pattern, const double (*rows)[4], size_t nrows)
{
	struct fig f = half(first);
	struct rpt_json *r = report(&f);

	rpt_json_set(rpt_json_get(r, "patterns"), "two_phase_commit", pattern);
	rpt_json_set(rpt_json_get(r, "timeseries"), "two_phase_commit", tpc_series(rows, nrows));
	return r;
}

/* A copy of obj without key. */
static struct rpt_json *
without(const struct rpt_json *obj, const char *key)
{
	struct rpt_json *c = rpt_json_object();
	char *text = NULL;

	for (size_t i = 0; i < rpt_json_len(obj); i++) {
		struct rpt_json *v = NULL;

		if (strcmp(rpt_json_key_at(obj, i), key) == 0)
			continue;
		CU_ASSERT_FATAL(rpt_json_dump(rpt_json_at(obj, i), 0, &text) == RPT_OK);
		CU_ASSERT_FATAL(rpt_json_parse(text, strlen(text), &v, NULL, 0) == RPT_OK);
		free(text);
		rpt_json_set(c, rpt_json_key_at(obj, i), v);
	}
	return c;
}

static void
test_two_phase_commit(void)
{
	static const double ra[][4] = { { 100, 10, 9, 1 }, { 101, 10, 10, 0 } };
	static const double rb[][4] = { { 101, 10, 8, 2 }, { 102, 5, 5, 0 } };
	static const char *const counts[] = {
		"started", "committed", "aborted.total", "aborted.by_vote", "undecided",
		"violations.durability", "violations.atomicity", "votes.yes", "log_fsyncs", NULL,
	};
	struct rpt_json *a, *b, *w, *m, *ts;
	const struct rpt_json *p;
	char path[128];

	make_samples();
	/* Shards of 300 transactions, by odd and even txid; every 9th loses a
	 * change, so both shards fail on their own. */
	a = tpc_report(0, tpc_pattern(0, 2, 300, 9, "fleetsim"), ra, 2);
	b = tpc_report(1, tpc_pattern(1, 2, 300, 9, "fleetsim"), rb, 2);
	w = tpc_pattern(0, 1, 300, 9, "fleetsim");
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_FATAL(m != NULL);
	p = rpt_json_path(m, "patterns.two_phase_commit");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (size_t i = 0; counts[i] != NULL; i++) {
		CU_ASSERT_EQUAL(num(p, counts[i]), num(w, counts[i]));
		if (num(p, counts[i]) != num(w, counts[i]))
			fprintf(stderr, "%s: merged %g, whole %g\n", counts[i], num(p, counts[i]),
			    num(w, counts[i]));
	}
	CU_ASSERT_EQUAL(num(p, "started"), 300);
	CU_ASSERT_EQUAL(num(p, "violations.durability"), 34);
	/* The longest time in doubt is the longest shard's, not a sum. */
	CU_ASSERT_EQUAL(num(p, "in_doubt_max_ms"), num(w, "in_doubt_max_ms"));
	CU_ASSERT(num(p, "in_doubt_max_ms") < num(a, "patterns.two_phase_commit.in_doubt_max_ms") +
	    num(b, "patterns.two_phase_commit.in_doubt_max_ms"));
	/* Each phase's latency exactly the whole run's, from its histogram. */
	same_json(rpt_json_get(p, "latency_ms"), rpt_json_get(w, "latency_ms"));
	same_json(rpt_json_get(p, "latency_histograms"), rpt_json_get(w, "latency_histograms"));
	CU_ASSERT_EQUAL(num(p, "latency_ms.complete.count"), 300);
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(m, "notes")), 0);
	/* Both shards' violations, in order, each saying whose it is. */
	CU_ASSERT_EQUAL_FATAL(rpt_json_len(rpt_json_get(p, "violation_list")), 34);
	CU_ASSERT_EQUAL(num(p, "violation_list.0.shard"), 1);
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_path(p, "violation_list.0.txid")),
	    "0000000000000000");
	CU_ASSERT_EQUAL(num(p, "violation_list.16.shard"), 1);
	CU_ASSERT_EQUAL(num(p, "violation_list.17.shard"), 2);
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_path(p, "violation_list.17.txid")),
	    "0000000000000009");
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_path(p, "violation_list.17.detail")),
	    rpt_json_str(rpt_json_path(b, "patterns.two_phase_commit.violation_list.0.detail")));
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(p, "coordinator")), "fleetsim");
	CU_ASSERT_FALSE(rpt_json_truthy(rpt_json_get(check_named(m, "two_phase_commit.invariants"),
	    "pass")));
	CU_ASSERT_PTR_NOT_NULL(strstr(rpt_json_str(rpt_json_get(check_named(m,
	    "two_phase_commit.invariants"), "detail")), "34 durability"));
	/* The series adds up by second. */
	ts = rpt_json_path(m, "timeseries.two_phase_commit.rows");
	CU_ASSERT_EQUAL_FATAL(rpt_json_len(ts), 3);
	CU_ASSERT_EQUAL(num(ts, "1.0"), 101);
	CU_ASSERT_EQUAL(num(ts, "1.1"), 20);
	CU_ASSERT_EQUAL(num(ts, "1.2"), 18);
	CU_ASSERT_EQUAL(num(ts, "1.3"), 2);
	CU_ASSERT_EQUAL(num(ts, "2.1"), 5);
	rpt_json_free(m);
	rpt_json_free(a);
	rpt_json_free(b);
	rpt_json_free(w);

	/* One clean shard passes alone; merged with one whose coordinator
	 * lost a change, the whole fails, and the lists are capped as a run
	 * caps its own. Coordinators differ: "mixed", with a note on what
	 * an external one means for shards. */
	a = tpc_report(0, tpc_pattern(0, 2, 300, 0, "fleetsim"), ra, 2);
	b = tpc_report(1, tpc_pattern(1, 2, 300, 1, "external"), rb, 2);
	{
		static const char *const none[] = { NULL };

		CU_ASSERT_TRUE(shard_passes(a, none));
		CU_ASSERT_FALSE(shard_passes(b, none));
	}
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_FATAL(m != NULL);
	p = rpt_json_path(m, "patterns.two_phase_commit");
	CU_ASSERT_EQUAL(num(p, "violations.durability"), 150);
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(p, "violation_list")), SIM_TPC_JSON_MAX_VIOLATIONS);
	CU_ASSERT_EQUAL(num(p, "violation_list.0.shard"), 2);
	CU_ASSERT_FALSE(rpt_json_truthy(rpt_json_get(check_named(m, "two_phase_commit.invariants"),
	    "pass")));
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(m, "verdict")), "fail");
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(p, "coordinator")), "mixed");
	CU_ASSERT_EQUAL_FATAL(rpt_json_len(rpt_json_get(m, "notes")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(rpt_json_str(rpt_json_path(m, "notes.0")), "external coordinator"));
	rpt_json_free(m);

	/* Both shards violating: more than the cap between them, the list
	 * holds the first report's first. */
	rpt_json_set(rpt_json_get(a, "patterns"), "two_phase_commit", tpc_pattern(0, 2, 300, 1, "fleetsim"));
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_FATAL(m != NULL);
	p = rpt_json_path(m, "patterns.two_phase_commit");
	CU_ASSERT_EQUAL(num(p, "violations.durability"), 300);
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(p, "violation_list")), SIM_TPC_JSON_MAX_VIOLATIONS);
	CU_ASSERT_EQUAL(num(p, "violation_list.99.shard"), 1);
	rpt_json_free(m);

	/* A shard from before the histograms: each phase approximate, said
	 * once per phase, and no histograms that are not the union's. */
	w = tpc_pattern(1, 2, 300, 1, "external");
	rpt_json_set(rpt_json_get(b, "patterns"), "two_phase_commit", without(w, "latency_histograms"));
	m = merge2(a, b, SIM_OK);
	CU_ASSERT_FATAL(m != NULL);
	p = rpt_json_path(m, "patterns.two_phase_commit");
	CU_ASSERT_PTR_NULL(rpt_json_get(p, "latency_histograms"));
	CU_ASSERT_EQUAL(num(p, "latency_ms.decide.count"), 300);
	CU_ASSERT_EQUAL(num(p, "latency_ms.decide.max"), fmax(num(a, "patterns.two_phase_commit.latency_ms.decide.max"),
	    num(w, "latency_ms.decide.max")));
	CU_ASSERT_EQUAL_FATAL(rpt_json_len(rpt_json_get(m, "notes")), 4);
	for (size_t i = 0; i < 3; i++) {
		static const char *const phases[] = { "prepare", "decide", "complete" };

		snprintf(path, sizeof(path), "patterns.two_phase_commit.latency_ms.%s:", phases[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(rpt_json_str(rpt_json_at(rpt_json_get(m, "notes"), i)), path));
	}
	rpt_json_free(m);
	rpt_json_free(w);

	/* A broken phase histogram is named by its path. */
	rpt_json_set(rpt_json_get(b, "patterns"), "two_phase_commit", tpc_pattern(1, 2, 300, 1, "fleetsim"));
	rpt_json_set_num(rpt_json_path(b, "patterns.two_phase_commit.latency_histograms.decide"), "count", 3);
	rejected_naming(a, b, "report 2: patterns.two_phase_commit.latency_histograms.decide");
	rpt_json_free(a);
	rpt_json_free(b);
}

static void
test_rejects(void)
{
	struct fig fa = half(0), fb = half(1);
	struct rpt_json *a, *b, *m = NULL, *bad;
	struct sim_diag d = { "" };
	const struct rpt_json *one[1];

	make_samples();
	fb.name = "other";
	a = report(&fa);
	b = report(&fb);
	CU_ASSERT_PTR_NULL(merge2(a, b, SIM_ERR_SCENARIO));
	CU_ASSERT_EQUAL(sim_merge_reports(one, 0, &m, &d), SIM_ERR_SCENARIO);
	CU_ASSERT_PTR_NULL(m);
	/* Not a report at all. */
	CU_ASSERT_FATAL(rpt_json_parse("{\"verdict\": \"pass\"}", 19, &bad, NULL, 0) == RPT_OK);
	CU_ASSERT_PTR_NULL(merge2(a, bad, SIM_ERR_SCENARIO));
	rpt_json_free(bad);
	/* An inconsistent histogram. */
	rpt_json_free(b);
	fb.name = NULL;
	b = report(&fb);
	rpt_json_set_num(rpt_json_path(b, "patterns.telemetry.latency_histogram"), "count", 3);
	CU_ASSERT_PTR_NULL(merge2(a, b, SIM_ERR_SCENARIO));
	rpt_json_free(b);
	/* An assertion that no longer parses. */
	{
		static const char *const broken[] = { "patterns.telemetry.sent <", NULL };

		fb.asserts = broken;
		b = report(&fb);
		one[0] = b;
		CU_ASSERT_EQUAL(sim_merge_reports(one, 1, &m, &d), SIM_ERR_SCENARIO);
		CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "assertions.0"));
	}
	rpt_json_free(a);
	rpt_json_free(b);
}

static void
test_single_report(void)
{
	struct fig fa = half(0);
	struct rpt_json *a, *m = NULL;
	struct sim_diag d = { "" };
	const struct rpt_json *one[1];

	/* Merging one report re-judges it and changes no figure. */
	make_samples();
	a = report(&fa);
	one[0] = a;
	CU_ASSERT_EQUAL_FATAL(sim_merge_reports(one, 1, &m, &d), SIM_OK);
	same_json(rpt_json_get(m, "patterns"), rpt_json_get(a, "patterns"));
	same_json(rpt_json_get(m, "devices"), rpt_json_get(a, "devices"));
	CU_ASSERT_EQUAL(num(m, "shards"), 1);
	rpt_json_free(a);
	rpt_json_free(m);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "two halves merge into the whole: counts and exact percentiles", test_halves_equal_whole },
		{ "time series aligned by wall-clock second", test_timeseries_aligned },
		{ "assertions re-evaluated on the merged numbers", test_assertions_rejudged },
		{ "built-in checks recomputed from by_group", test_checks_recomputed },
		{ "started_at, duration, partial, all_connected_after_s", test_run_fields },
		{ "reports without histograms: approximate, with a note", test_without_histograms },
		{ "request_response: histograms merged per direction and per method", test_nested_histograms },
		{ "two_phase_commit: counts, in-doubt maximum, phase latencies, violations", test_two_phase_commit },
		{ "foreign, mismatched and broken reports rejected", test_rejects },
		{ "one report merges into itself", test_single_report },
		{ NULL, NULL },
	};

	return fs_test_main("merge", tests);
}
