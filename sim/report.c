#include "report.h"
#include "rr_cloud.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_clock.h"
#include "verdict.h"

/* Stable field order matters to people diffing reports, so every object is
 * built in the order the README documents. */

static struct rpt_json *
latency_summary(const struct rpt_hist *h)
{
	struct rpt_json *j;

	if (h != NULL)
		return rpt_hist_summary(h, (double)SIM_NS_PER_MS);
	/* The skeleton: the same keys, all zero. */
	j = rpt_json_object();
	if (j == NULL)
		return NULL;
	static const char *const keys[] = { "count", "min", "mean", "p50", "p90", "p99", "p999", "max" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		rpt_json_set_num(j, keys[i], 0);
	return j;
}

static struct rpt_json *
group_json(const struct sim_report_in *in, const struct sim_group *g, uint32_t first)
{
	struct rpt_json *o = rpt_json_object();
	struct sim_tm_counts c;

	if (o == NULL)
		return NULL;
	memset(&c, 0, sizeof(c));
	if (in->chk != NULL)
		sim_tm_range_counts(in->chk, first, g->count, &c);
	rpt_json_set_num(o, "devices", g->count);
	rpt_json_set_num(o, "qos", g->telemetry.qos);
	/* Judging needs it (exactly-once only holds for persistent
	 * sessions), and a merged report has no scenario to ask. */
	rpt_json_set_bool(o, "clean_session", g->clean_session);
	rpt_json_set_num(o, "sent", (double)c.sent);
	rpt_json_set_num(o, "received", (double)c.received);
	rpt_json_set_num(o, "lost", (double)(c.sent - c.received));
	rpt_json_set_num(o, "duplicates", (double)c.duplicates);
	return o;
}

static struct rpt_json *
telemetry_json(const struct sim_report_in *in)
{
	struct rpt_json *t = rpt_json_object(), *bg, *dc;
	struct sim_tm_counts c;
	uint32_t first = 0;

	if (t == NULL)
		return NULL;
	memset(&c, 0, sizeof(c));
	if (in->chk != NULL)
		sim_tm_counts(in->chk, &c);
	rpt_json_set_num(t, "sent", (double)c.sent);
	rpt_json_set_num(t, "received", (double)c.received);
	rpt_json_set_num(t, "lost", (double)(c.sent - c.received));
	rpt_json_set_num(t, "duplicates", (double)c.duplicates);
	rpt_json_set_num(t, "out_of_order", (double)c.out_of_order);
	rpt_json_set_num(t, "dropped", (double)c.dropped);
	dc = rpt_json_object();
	for (int i = 0; dc != NULL && i < SIM_TM_DROP_COUNT; i++)
		rpt_json_set_num(dc, sim_tm_drop_name((enum sim_tm_drop)i), (double)c.dropped_by[i]);
	rpt_json_set(t, "dropped_by_cause", dc);
	/* Sends a device could not make, being off: not lost, not hidden. */
	rpt_json_set_num(t, "skipped_powered_off", in->fleet != NULL ?
	    (double)in->fleet->skipped_off : 0);
	rpt_json_set_num(t, "foreign", (double)c.foreign);
	rpt_json_set_num(t, "malformed", (double)c.malformed);
	rpt_json_set_num(t, "throughput_per_s",
	    in->send_s > 0 ? round((double)c.received / in->send_s) : 0);
	rpt_json_set(t, "latency_ms", latency_summary(in->chk ? sim_tm_latency(in->chk) : NULL));
	bg = rpt_json_object();
	for (size_t i = 0; bg != NULL && i < in->sc->ngroups; i++) {
		rpt_json_set(bg, in->sc->groups[i].name, group_json(in, &in->sc->groups[i], first));
		first += in->sc->groups[i].count;
	}
	rpt_json_set(t, "by_group", bg);
	if (in->chk != NULL)
		rpt_json_set(t, "latency_histogram", rpt_hist_to_json(sim_tm_latency(in->chk)));
	return t;
}

static struct rpt_json *
devices_json(const struct sim_report_in *in)
{
	struct rpt_json *d = rpt_json_object(), *cm;
	const struct sim_fleet_stats *s = in->fleet;
	struct sim_fleet_stats zero;

	if (d == NULL)
		return NULL;
	if (s == NULL) {
		memset(&zero, 0, sizeof(zero));
		zero.planned = sim_scenario_devices(in->sc);
		s = &zero;
	}
	rpt_json_set_num(d, "planned", (double)s->planned);
	rpt_json_set_num(d, "connected", (double)s->connected_ever);
	rpt_json_set_num(d, "connect_failures", (double)s->connect_failures);
	rpt_json_set_num(d, "disconnects", (double)s->disconnects);
	rpt_json_set_num(d, "reconnects", (double)s->reconnects);
	rpt_json_set_num(d, "reboots", (double)s->reboots);
	rpt_json_set_num(d, "crashes", (double)s->crashes);
	rpt_json_set_num(d, "battery_cutoffs", (double)s->cutoffs);
	rpt_json_set_num(d, "link_disconnects", (double)s->link_disconnects);
	cm = rpt_json_object();
	if (cm != NULL) {
		const struct rpt_hist *h = s->connect;

		rpt_json_set_num(cm, "p50", h ? (double)rpt_hist_percentile(h, 50) / SIM_NS_PER_MS : 0);
		rpt_json_set_num(cm, "p99", h ? (double)rpt_hist_percentile(h, 99) / SIM_NS_PER_MS : 0);
		rpt_json_set_num(cm, "max", h ? (double)rpt_hist_max(h) / SIM_NS_PER_MS : 0);
	}
	rpt_json_set(d, "connect_ms", cm);
	/* The summary alone cannot be merged: shards' percentiles do not
	 * combine, their histograms do. */
	if (s->connect != NULL)
		rpt_json_set(d, "connect_histogram", rpt_hist_to_json(s->connect));
	/* Never all connected is null, not 0: 0 would read as "instantly". */
	if (s->all_connected_ns != 0 || in->fleet == NULL)
		rpt_json_set_num(d, "all_connected_after_s", (double)s->all_connected_ns / SIM_NS_PER_S);
	else
		rpt_json_set(d, "all_connected_after_s", rpt_json_null());
	rpt_json_set_num(d, "resent", (double)s->resent);
	rpt_json_set_num(d, "decode_errors", (double)s->decode_errors);
	if (s->last_error != NULL && s->last_error[0] != '\0')
		rpt_json_set_str(d, "last_error", s->last_error);
	return d;
}

/* patterns.request_response: a run's trackers, or (the skeleton) the
 * same shape in zeros. */
static struct rpt_json *
request_response_json(const struct sim_report_in *in)
{
	struct rpt_json *o = rpt_json_object();
	const char *methods[32];
	struct sim_rr_opts ro;

	if (o == NULL)
		return NULL;
	for (int dir = SIM_RR_C2D; dir <= SIM_RR_D2C; dir++) {
		const char *name = dir == SIM_RR_C2D ? "c2d" : "d2c";
		const struct sim_rr *rr = in->rr[dir];

		if (rr != NULL)
			rpt_json_set(o, name, sim_rr_json(rr, in->rr_opts[dir]));
		else if (sim_rr_dir_opts(in->sc, (enum sim_rr_dir)dir, methods, 32, &ro))
			rpt_json_set(o, name, sim_rr_json(NULL, &ro));
	}
	return o;
}

struct rpt_json *
sim_report_build(const struct sim_report_in *in)
{
	struct rpt_json *r = rpt_json_object(), *sc, *pat, *b;
	char when[32];
	struct tm tm;

	if (r == NULL)
		return NULL;
	rpt_json_set_num(r, "schema_version", 1);
	rpt_json_set_str(r, "fleetsim_version", FLEETSIM_VERSION);
	sc = rpt_json_object();
	if (sc != NULL) {
		rpt_json_set_str(sc, "name", in->sc->name);
		rpt_json_set_str(sc, "file", in->sc->file ? in->sc->file : "");
		rpt_json_set_num(sc, "seed", (double)in->sc->seed);
		rpt_json_set_num(sc, "duration_s", (double)in->sc->duration_ns / SIM_NS_PER_S);
		rpt_json_set_num(sc, "drain_s", (double)in->sc->drain_ns / SIM_NS_PER_S);
	}
	rpt_json_set(r, "scenario", sc);
	gmtime_r(&in->started_at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	rpt_json_set_str(r, "started_at", when);
	rpt_json_set_num(r, "duration_s", round(in->duration_s * 1000) / 1000);
	rpt_json_set_bool(r, "partial", in->partial);
	rpt_json_set_str(r, "verdict", "fail");
	b = rpt_json_object();
	if (b != NULL) {
		rpt_json_set_str(b, "url", in->broker_url ? in->broker_url : "");
		rpt_json_set_bool(b, "embedded", in->embedded_broker);
		rpt_json_set_num(b, "consumer_reconnects", (double)in->consumer_reconnects);
		rpt_json_set_num(b, "consumer_decode_errors", (double)in->consumer_decode_errors);
		rpt_json_set_num(b, "consumer_connections", in->consumer_connections);
		if (in->consumer_last_error != NULL && in->consumer_last_error[0] != '\0')
			rpt_json_set_str(b, "consumer_last_error", in->consumer_last_error);
	}
	rpt_json_set(r, "broker", b);
	rpt_json_set(r, "devices", devices_json(in));
	pat = rpt_json_object();
	if (pat != NULL)
		rpt_json_set(pat, "telemetry", telemetry_json(in));
	if (pat != NULL && in->sc->nrr > 0)
		rpt_json_set(pat, "request_response", request_response_json(in));
	if (pat != NULL && in->sc->ntpc > 0)
		rpt_json_set(pat, "two_phase_commit", sim_tpc_json(in->tpc));
	rpt_json_set(r, "patterns", pat);
	if (in->series != NULL) {
		struct rpt_json *ts = rpt_json_object();

		if (ts != NULL)
			rpt_json_set(ts, "telemetry", rpt_series_to_json(in->series));
		if (ts != NULL && in->tpc_series != NULL)
			rpt_json_set(ts, "two_phase_commit", rpt_series_to_json(in->tpc_series));
		rpt_json_set(r, "timeseries", ts);
	}
	return r;
}

static void
add_check(struct rpt_json *arr, const char *name, bool pass, const char *detail, bool *all)
{
	struct rpt_json *c = rpt_json_object();

	if (!pass)
		*all = false;
	if (c == NULL)
		return;
	rpt_json_set_str(c, "name", name);
	rpt_json_set_bool(c, "pass", pass);
	rpt_json_set_str(c, "detail", detail);
	rpt_json_push(arr, c);
}

static double
num(const struct rpt_json *r, const char *path)
{
	return rpt_json_num(rpt_json_path(r, path));
}

enum sim_err
sim_report_judge_asserts(struct rpt_json *r, const struct rpt_assertion *as, size_t nas, bool *pass)
{
	struct rpt_json *checks = rpt_json_array(), *asserts = rpt_json_array();
	const struct rpt_json *groups = rpt_json_path(r, "patterns.telemetry.by_group");
	bool all = true;
	double lost_reliable = 0, dup_exact = 0;
	bool any_reliable = false, any_exact = false;
	double bad;
	char detail[256];

	if (checks == NULL || asserts == NULL) {
		rpt_json_free(checks);
		rpt_json_free(asserts);
		return SIM_ERR_NOMEM;
	}
	/* MQTT promises QoS 1 and 2 delivery and QoS 2 exactly once; those are
	 * the invariants every run checks. QoS 0 loss is reported, and an
	 * assertion may bound it. Each group's qos and session come from the
	 * report itself, so a merged report is judged like a run's (a group
	 * without telemetry has qos 0). */
	for (size_t i = 0; i < rpt_json_len(groups); i++) {
		const struct rpt_json *g = rpt_json_at(groups, i);
		const struct rpt_json *cs = rpt_json_get(g, "clean_session");
		double qos = rpt_json_num(rpt_json_get(g, "qos"));

		if (qos == 0)
			continue;
		any_reliable = true;
		lost_reliable += rpt_json_num(rpt_json_get(g, "lost"));
		/* With a clean session, an unfinished QoS 2 exchange is
		 * restarted as a new message after a reconnect, so only
		 * persistent sessions promise exactly once across one. A
		 * report from before clean_session was recorded gets the
		 * scenario default, true. */
		if (qos == 2 && cs != NULL && !rpt_json_truthy(cs)) {
			any_exact = true;
			dup_exact += rpt_json_num(rpt_json_get(g, "duplicates"));
		}
	}
	if (any_reliable) {
		snprintf(detail, sizeof(detail), "expected 0 QoS 1/2 messages lost, got %.0f", lost_reliable);
		add_check(checks, "telemetry.no_loss_qos1_qos2", lost_reliable == 0, detail, &all);
	}
	if (any_exact) {
		snprintf(detail, sizeof(detail), "expected 0 QoS 2 duplicates, got %.0f", dup_exact);
		add_check(checks, "telemetry.exactly_once_qos2", dup_exact == 0, detail, &all);
	}
	/* A broker must deliver one publisher's messages on a topic in the
	 * order it received them (MQTT 3.1.1 4.6, 5.0 4.6) — within unbroken
	 * connections. Across reconnects, or spread over several $share
	 * consumers, reordering is allowed, so the check applies only to
	 * runs with neither; out_of_order is reported either way. */
	if (rpt_json_num(rpt_json_path(r, "patterns.telemetry.received")) > 0 &&
	    rpt_json_num(rpt_json_path(r, "broker.consumer_connections")) == 1 &&
	    rpt_json_num(rpt_json_path(r, "broker.consumer_reconnects")) == 0 &&
	    rpt_json_num(rpt_json_path(r, "devices.reconnects")) == 0 &&
	    rpt_json_num(rpt_json_path(r, "devices.disconnects")) == 0) {
		double ooo = rpt_json_num(rpt_json_path(r, "patterns.telemetry.out_of_order"));

		snprintf(detail, sizeof(detail), "expected 0 messages out of order on unbroken "
		    "connections, got %.0f", ooo);
		add_check(checks, "telemetry.in_order", ooo == 0, detail, &all);
	}
	snprintf(detail, sizeof(detail), "expected 0 malformed telemetry payloads, got %.0f",
	    num(r, "patterns.telemetry.malformed"));
	add_check(checks, "telemetry.integrity", num(r, "patterns.telemetry.malformed") == 0, detail, &all);
	bad = num(r, "devices.decode_errors") + num(r, "broker.consumer_decode_errors");
	snprintf(detail, sizeof(detail), "expected 0 malformed MQTT packets, got %.0f", bad);
	add_check(checks, "mqtt.no_decode_errors", bad == 0, detail, &all);
	/* A request gets one answer, for it: a second one, or one nobody
	 * asked for, is a bug on the answering side whatever the scenario. */
	for (int dir = 0; dir < 2; dir++) {
		const char *name = dir == 0 ? "c2d" : "d2c";
		char path[64], check[64];

		snprintf(path, sizeof(path), "patterns.request_response.%s", name);
		if (rpt_json_path(r, path) == NULL)
			continue;
		snprintf(path, sizeof(path), "patterns.request_response.%s.duplicate", name);
		bad = num(r, path);
		snprintf(path, sizeof(path), "patterns.request_response.%s.unmatched", name);
		snprintf(detail, sizeof(detail), "expected one answer per request, got %.0f duplicate "
		    "and %.0f unmatched answers", bad, num(r, path));
		bad += num(r, path);
		snprintf(check, sizeof(check), "request_response.%s.one_answer_each", name);
		add_check(checks, check, bad == 0, detail, &all);
	}
	/* Two-phase commit's promises hold in every run, whatever else the
	 * scenario asserts; the violation list says which and where. */
	if (rpt_json_path(r, "patterns.two_phase_commit") != NULL) {
		static const char *const kinds[] = { "atomicity", "validity", "agreement",
			"termination", "durability" };
		char path[96];
		size_t o = 0;

		bad = 0;
		o += (size_t)snprintf(detail, sizeof(detail), "expected no violations, got");
		for (size_t k = 0; k < 5; k++) {
			double n;

			snprintf(path, sizeof(path), "patterns.two_phase_commit.violations.%s", kinds[k]);
			n = num(r, path);
			bad += n;
			if (o < sizeof(detail))
				o += (size_t)snprintf(detail + o, sizeof(detail) - o, "%s %.0f %s",
				    k ? "," : "", n, kinds[k]);
		}
		add_check(checks, "two_phase_commit.invariants", bad == 0, detail, &all);
	}

	for (size_t i = 0; i < nas; i++) {
		const struct rpt_assertion *a = &as[i];
		struct rpt_json *o = rpt_json_object();
		double actual = NAN;
		bool ok = false;

		if (rpt_assert_eval(r, a, &actual, &ok) != RPT_OK)
			ok = false;
		if (!ok)
			all = false;
		if (o == NULL)
			continue;
		rpt_json_set_str(o, "expr", a->expr);
		rpt_json_set_num(o, "actual", actual);
		rpt_json_set_bool(o, "pass", ok);
		rpt_json_push(asserts, o);
	}
	rpt_json_set(r, "checks", checks);
	rpt_json_set(r, "assertions", asserts);
	rpt_json_set_str(r, "verdict", all ? "pass" : "fail");
	*pass = all;
	return SIM_OK;
}

enum sim_err
sim_report_judge(struct rpt_json *r, const struct sim_scenario *sc, bool *pass)
{
	struct rpt_assertion *as = NULL;
	enum sim_err rv;

	/* Shallow copies: the scenario keeps owning the strings. */
	if (sc->nasserts > 0 && (as = calloc(sc->nasserts, sizeof(*as))) == NULL)
		return SIM_ERR_NOMEM;
	for (size_t i = 0; i < sc->nasserts; i++)
		as[i] = sc->asserts[i].a;
	rv = sim_report_judge_asserts(r, as, sc->nasserts, pass);
	free(as);
	return rv;
}

enum sim_err
sim_report_check_paths(const struct sim_scenario *sc, struct sim_diag *d)
{
	struct sim_report_in in = { .sc = sc };
	struct rpt_json *r;
	enum sim_err rv = SIM_OK;

	if (sc->nasserts == 0)
		return SIM_OK;
	r = sim_report_build(&in);
	if (r == NULL)
		return SIM_ERR_NOMEM;
	for (size_t i = 0; i < sc->nasserts; i++) {
		const struct sim_scenario_assert *a = &sc->asserts[i];
		const struct rpt_json *v = rpt_json_path(r, a->a.path);

		if (v == NULL || (rpt_json_type(v) != RPT_JSON_NUMBER && rpt_json_type(v) != RPT_JSON_BOOL)) {
			sim_diag_set(d, "%s:%u:%u: %s '%s' in assertion; expected a path to a number in "
			    "report.json, such as patterns.telemetry.lost or "
			    "patterns.telemetry.latency_ms.p99 (see the README's report section)",
			    sc->file, a->pos.line, a->pos.col,
			    v == NULL ? "unknown path" : "not a number:", a->a.path);
			rv = SIM_ERR_SCENARIO;
			break;
		}
	}
	rpt_json_free(r);
	return rv;
}

void
sim_report_print(FILE *f, const struct rpt_json *r, const char *path)
{
	const struct rpt_json *arr;

	fprintf(f, "\nfleetsim %s: scenario '%s'%s: %s\n", FLEETSIM_VERSION,
	    rpt_json_str(rpt_json_path(r, "scenario.name")),
	    rpt_json_truthy(rpt_json_path(r, "partial")) ? " (partial: interrupted)" : "",
	    strcmp(rpt_json_str(rpt_json_path(r, "verdict")), "pass") == 0 ? "PASS" : "FAIL");
	fprintf(f, "  devices    planned %.0f, connected %.0f, connect failures %.0f, disconnects %.0f, "
	    "reconnects %.0f\n", num(r, "devices.planned"), num(r, "devices.connected"),
	    num(r, "devices.connect_failures"), num(r, "devices.disconnects"),
	    num(r, "devices.reconnects"));
	fprintf(f, "  connect    p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
	    num(r, "devices.connect_ms.p50"), num(r, "devices.connect_ms.p99"),
	    num(r, "devices.connect_ms.max"));
	fprintf(f, "  telemetry  sent %.0f, received %.0f, lost %.0f, duplicates %.0f, out of order %.0f\n",
	    num(r, "patterns.telemetry.sent"), num(r, "patterns.telemetry.received"),
	    num(r, "patterns.telemetry.lost"), num(r, "patterns.telemetry.duplicates"),
	    num(r, "patterns.telemetry.out_of_order"));
	fprintf(f, "  latency    p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n",
	    num(r, "patterns.telemetry.latency_ms.p50"), num(r, "patterns.telemetry.latency_ms.p90"),
	    num(r, "patterns.telemetry.latency_ms.p99"), num(r, "patterns.telemetry.latency_ms.p999"),
	    num(r, "patterns.telemetry.latency_ms.max"));
	for (int dir = 0; dir < 2; dir++) {
		const struct rpt_json *o = rpt_json_path(r, dir == 0 ? "patterns.request_response.c2d" :
		    "patterns.request_response.d2c");
		const struct rpt_json *lat = rpt_json_get(o, "latency_ms");

		if (o == NULL)
			continue;
		fprintf(f, "  %s        sent %.0f, ok %.0f, error status %.0f, timeout %.0f, late %.0f, "
		    "unmatched %.0f, duplicate %.0f\n", dir == 0 ? "c2d" : "d2c",
		    num(o, "sent"), num(o, "ok"), num(o, "error_status"), num(o, "timeout"),
		    num(o, "late"), num(o, "unmatched"), num(o, "duplicate"));
		fprintf(f, "  round trip p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", num(lat, "p50"),
		    num(lat, "p99"), num(lat, "max"));
	}
	if ((arr = rpt_json_path(r, "patterns.two_phase_commit")) != NULL) {
		fprintf(f, "  2pc        started %.0f, committed %.0f, aborted %.0f (vote %.0f, timeout %.0f, "
		    "coordinator %.0f), undecided %.0f\n", num(arr, "started"), num(arr, "committed"),
		    num(arr, "aborted.total"), num(arr, "aborted.by_vote"), num(arr, "aborted.by_timeout"),
		    num(arr, "aborted.by_coordinator"), num(arr, "undecided"));
		fprintf(f, "  in doubt   %.0f times, %.0f resolved, longest %.0f ms; complete p50 %.1f ms, "
		    "p99 %.1f ms\n", num(arr, "in_doubt.episodes"), num(arr, "in_doubt.resolved"),
		    num(arr, "in_doubt_max_ms"), num(arr, "latency_ms.complete.p50"),
		    num(arr, "latency_ms.complete.p99"));
	}
	arr = rpt_json_get(r, "checks");
	for (size_t i = 0; i < rpt_json_len(arr); i++) {
		const struct rpt_json *c = rpt_json_at(arr, i);

		fprintf(f, "  %s  check %s (%s)\n", rpt_json_truthy(rpt_json_get(c, "pass")) ? "ok  " : "FAIL",
		    rpt_json_str(rpt_json_get(c, "name")), rpt_json_str(rpt_json_get(c, "detail")));
	}
	arr = rpt_json_get(r, "assertions");
	for (size_t i = 0; i < rpt_json_len(arr); i++) {
		const struct rpt_json *a = rpt_json_at(arr, i);

		fprintf(f, "  %s  assert %s (actual %g)\n", rpt_json_truthy(rpt_json_get(a, "pass")) ? "ok  " : "FAIL",
		    rpt_json_str(rpt_json_get(a, "expr")), rpt_json_num(rpt_json_get(a, "actual")));
	}
	if (path != NULL)
		fprintf(f, "  report     %s\n", path);
}
