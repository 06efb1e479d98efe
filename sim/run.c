#include "run.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "broker.h"
#include "consumer.h"
#include "dev_model.h"
#include "fleet.h"
#include "html.h"
#include "junit.h"
#include "metrics.h"
#include "report.h"
#include "rr_cloud.h"
#include "tpc.h"
#include "series.h"
#include "sim_clock.h"
#include "telemetry.h"
#include "transport.h"

/* How long the cloud side may take to connect and subscribe before the
 * broker counts as unreachable. */
#define CLOUD_READY_NS (10 * SIM_NS_PER_S)
/* How long the final DISCONNECTs may take. */
#define CLOSE_NS (3 * SIM_NS_PER_S)
/* One consumer connection per this many expected messages per second. */
#define MSGS_PER_CONSUMER 20000.0
#define MAX_CONSUMERS 8
/* Descriptors for everything that is not a device connection. */
#define FD_RESERVE 64

enum phase { PH_CLOUD, PH_RUN, PH_DRAIN, PH_CLOSE, PH_DONE };

struct run {
	const struct sim_run_opts *o;
	struct sim_scenario sc;
	struct event_base *base;
	struct sim_broker *broker;
	struct sim_transport *tp;
	struct sim_tm_checker *chk;
	struct sim_consumer *cons;
	struct sim_fleet *fleet;
	struct sim_rr_cloud *rrc;   /* c2d request-response, or NULL */
	struct sim_tpc *tpc;        /* two-phase commit, or NULL */
	struct sim_metrics *metrics;
	struct event *tick, *sigint, *sigterm, *sighup;
	enum phase phase;
	enum sim_exit infra;        /* set when the run must end with exit 3 */
	uint32_t run_id;
	uint64_t t0, deadline, send_start, send_end;
	uint64_t sent_until, drained_at;   /* when sending stopped, when the drain ended */
	uint64_t next_progress, last_received;
	uint64_t next_metrics;
	time_t started_at;
	bool partial, tty;
	int signals;
	char **filters;
	int *qos;
	size_t nfilters;
	unsigned nconsumers;
	char infra_msg[1024];
	/* The per-second series and what the previous sample saw. */
	struct rpt_series *series;
	struct rpt_series *tpc_series;  /* transactions per second, with two-phase commit */
	uint64_t next_sample;
	struct sim_tm_counts last_tm;
	struct sim_fleet_stats last_fs;
};

/* The telemetry series' columns, in the order sample() fills them. */
static const char *const series_cols[] = {
	"t", "sent", "received", "errors", "p50_ms", "p99_ms", "max_ms", "connected", "reconnects",
};
#define NSERIES (sizeof(series_cols) / sizeof(series_cols[0]))

static const char *const tpc_cols[] = { "t", "started", "committed", "aborted" };

/* One row a second while the fleet runs: counts are per second, latency
 * covers the messages that arrived in that second (NaN when none did),
 * and t is the wall-clock second, so shards' series line up. */
static void
sample(struct run *r, uint64_t now)
{
	struct sim_fleet_stats fs;
	struct sim_tm_counts tc;
	struct rpt_hist *w;
	struct timespec ts;
	double row[NSERIES];
	bool any;

	if (r->fleet == NULL || r->series == NULL || now < r->next_sample)
		return;
	r->next_sample += SIM_NS_PER_S;
	if (r->tpc_series != NULL) {
		double t[4];

		clock_gettime(CLOCK_REALTIME, &ts);
		t[0] = (double)ts.tv_sec;
		sim_tpc_sample(r->tpc, t + 1);
		(void)rpt_series_add(r->tpc_series, t);
	}
	sim_fleet_stats(r->fleet, &fs);
	sim_tm_counts(r->chk, &tc);
	w = sim_tm_window(r->chk);
	any = rpt_hist_count(w) > 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	row[0] = (double)ts.tv_sec;
	row[1] = (double)(tc.sent - r->last_tm.sent);
	row[2] = (double)(tc.received - r->last_tm.received);
	row[3] = (double)((fs.connect_failures - r->last_fs.connect_failures) +
	    (fs.disconnects - r->last_fs.disconnects) + (tc.dropped - r->last_tm.dropped));
	row[4] = any ? (double)rpt_hist_percentile(w, 50) / SIM_NS_PER_MS : NAN;
	row[5] = any ? (double)rpt_hist_percentile(w, 99) / SIM_NS_PER_MS : NAN;
	row[6] = any ? (double)rpt_hist_max(w) / SIM_NS_PER_MS : NAN;
	row[7] = (double)fs.connected_now;
	row[8] = (double)(fs.reconnects - r->last_fs.reconnects);
	rpt_hist_reset(w);
	r->last_tm = tc;
	r->last_fs = fs;
	(void)rpt_series_add(r->series, row);
}

static void
progress(struct run *r, uint64_t now)
{
	struct sim_fleet_stats fs;
	struct sim_tm_counts tc;
	const struct rpt_hist *lat;

	if (!r->tty || r->o->quiet || now < r->next_progress || r->fleet == NULL)
		return;
	r->next_progress = now + SIM_NS_PER_S;
	sim_fleet_stats(r->fleet, &fs);
	sim_tm_counts(r->chk, &tc);
	lat = sim_tm_latency(r->chk);
	fprintf(stderr, "\r\033[K[%6.1fs] connected %llu/%llu  %llu msg/s  p99 %.2f ms  errors %llu",
	    (double)(now - r->t0) / SIM_NS_PER_S, (unsigned long long)fs.connected_now,
	    (unsigned long long)fs.planned, (unsigned long long)(tc.received - r->last_received),
	    (double)rpt_hist_percentile(lat, 99) / SIM_NS_PER_MS,
	    (unsigned long long)(fs.connect_failures + fs.disconnects + tc.dropped));
	r->last_received = tc.received;
}

/* Hands the live numbers to the --metrics endpoint once a second; a
 * scrape between two updates sees the earlier one. */
static void
publish_metrics(struct run *r, uint64_t now)
{
	struct sim_metrics_snapshot s = { 0 };
	struct sim_fleet_stats fs;
	struct sim_tm_counts tc;

	if (r->metrics == NULL || now < r->next_metrics)
		return;
	r->next_metrics = now + SIM_NS_PER_S;
	s.scenario = r->sc.name;
	s.devices_planned = sim_scenario_devices(&r->sc);
	if (r->fleet != NULL) {
		sim_fleet_stats(r->fleet, &fs);
		s.devices_connected = fs.connected_now;
		s.connect_failures = fs.connect_failures;
		s.disconnects = fs.disconnects;
		s.reconnects = fs.reconnects;
	}
	sim_tm_counts(r->chk, &tc);
	s.tm_sent = tc.sent;
	s.tm_received = tc.received;
	s.tm_duplicates = tc.duplicates;
	s.tm_out_of_order = tc.out_of_order;
	s.tm_dropped = tc.dropped;
	s.tm_foreign = tc.foreign;
	s.tm_malformed = tc.malformed;
	s.tm_latency = sim_tm_latency(r->chk);
	sim_metrics_update(r->metrics, &s);
}

/* The consumer's one hook, when both request-response and two-phase
 * commit listen on its connections. */
static bool
cloud_hook(void *arg, const struct sim_mqtt_msg *m)
{
	struct run *r = arg;

	return sim_tpc_hook(r->tpc, m) || (r->rrc != NULL && sim_rr_cloud_hook(r->rrc, m));
}

static void
start_close(struct run *r, uint64_t now)
{
	if (r->phase == PH_RUN || r->phase == PH_DRAIN) {
		if (r->sent_until == 0)
			r->sent_until = now < r->send_end ? now : r->send_end;
		r->drained_at = now;
	}
	r->phase = PH_CLOSE;
	r->deadline = now + CLOSE_NS;
	sim_rr_cloud_finish(r->rrc);
	sim_tpc_finish(r->tpc, now);
	if (r->fleet != NULL)
		sim_fleet_disconnect_all(r->fleet);
	if (r->cons != NULL)
		sim_consumer_stop(r->cons);
}

static void
start_drain(struct run *r, uint64_t now)
{
	r->phase = PH_DRAIN;
	r->deadline = now + r->sc.drain_ns;
	r->sent_until = now < r->send_end ? now : r->send_end;
	sim_fleet_stop_sending(r->fleet);
	sim_rr_cloud_stop_sending(r->rrc, now);
	sim_tpc_stop_sending(r->tpc, now);
}

static int64_t
unix_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static enum sim_err
start_fleet(struct run *r, uint64_t now)
{
	struct sim_fleet_opts fo;
	uint64_t ramp = 0;
	enum sim_err rv;

	for (size_t i = 0; i < r->sc.ngroups; i++)
		if (r->sc.groups[i].ramp_ns > ramp)
			ramp = r->sc.groups[i].ramp_ns;
	r->send_start = now + ramp;
	r->send_end = r->send_start + r->sc.duration_ns;
	fo = (struct sim_fleet_opts){
		.run_id = r->run_id,
		.seed = r->sc.seed,
		.start_ns = now,
		.send_start_ns = r->send_start,
		.send_end_ns = r->send_end,
		.unix0_ns = r->sc.has_epoch ? r->sc.epoch_ns : unix_now_ns(),
		.trace_path = r->o->trace_path,
		.d2c = sim_rr_cloud_d2c(r->rrc),
		.tpc = r->tpc,
	};
	rv = sim_fleet_new(r->base, r->tp, &r->sc, r->chk, &fo, &r->fleet);
	if (rv != SIM_OK)
		return rv;
	sim_rr_cloud_start(r->rrc, r->cons, r->send_start, r->send_end);
	if (r->rrc != NULL)
		sim_fleet_set_tick_hook(r->fleet, sim_rr_cloud_tick, r->rrc);
	sim_tpc_start(r->tpc, r->cons, r->send_start, r->send_end);
	r->phase = PH_RUN;
	r->next_sample = now + SIM_NS_PER_S;
	rpt_hist_reset(sim_tm_window(r->chk));
	sim_fleet_start(r->fleet);
	return SIM_OK;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	uint64_t now = sim_now_ns();
	struct sim_fleet_stats fs;

	switch (r->phase) {
	case PH_CLOUD:
		if (sim_consumer_ready(r->cons)) {
			enum sim_err e = start_fleet(r, now);

			if (e != SIM_OK) {
				r->infra = SIM_EXIT_INFRA;
				if (e == SIM_ERR_IO)
					snprintf(r->infra_msg, sizeof(r->infra_msg),
					    "cannot create the trace file %.200s: %s", r->o->trace_path,
					    strerror(errno));
				else
					snprintf(r->infra_msg, sizeof(r->infra_msg),
					    "out of memory creating the fleet");
				start_close(r, now);
			}
		} else if (now >= r->deadline || sim_consumer_failed(r->cons)) {
			const char *why = sim_consumer_last_error(r->cons);

			r->infra = SIM_EXIT_INFRA;
			snprintf(r->infra_msg, sizeof(r->infra_msg),
			    "cannot connect to the broker at %s: %s", r->sc.target.url,
			    why[0] ? why : "no answer within 10 s");
			start_close(r, now);
		}
		break;
	case PH_RUN:
		sample(r, now);
		if (now >= r->send_end)
			start_drain(r, now);
		break;
	case PH_DRAIN:
		sample(r, now);
		/* Once every message is in, waiting longer proves nothing. */
		if (now >= r->deadline ||
		    (sim_tm_all_received(r->chk) && sim_fleet_owed(r->fleet) == 0 &&
		    sim_rr_cloud_open(r->rrc) == 0 && sim_tpc_open(r->tpc) == 0 &&
		    sim_fleet_tpc_prepared(r->fleet) == 0))
			start_close(r, now);
		break;
	case PH_CLOSE:
		sample(r, now);
		if (r->fleet != NULL)
			sim_fleet_stats(r->fleet, &fs);
		if (now >= r->deadline || ((r->fleet == NULL || fs.connected_now == 0) &&
		    (r->cons == NULL || sim_consumer_connected(r->cons) == 0))) {
			r->phase = PH_DONE;
			event_base_loopbreak(r->base);
		}
		break;
	case PH_DONE:
		break;
	}
	progress(r, now);
	publish_metrics(r, now);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct run *r = arg;
	uint64_t now = sim_now_ns();

	/* The first signal ends the run early but still drains and reports;
	 * a second one skips the drain. Before the fleet exists there is
	 * nothing to report. */
	r->signals++;
	r->partial = true;
	switch (r->phase) {
	case PH_CLOUD:
		r->infra = SIM_EXIT_INFRA;
		snprintf(r->infra_msg, sizeof(r->infra_msg),
		    "interrupted by signal %d before the fleet started", (int)sig);
		start_close(r, now);
		break;
	case PH_RUN:
		if (r->signals == 1)
			start_drain(r, now);
		else
			start_close(r, now);
		break;
	case PH_DRAIN:
		if (r->signals > 1)
			start_close(r, now);
		break;
	case PH_CLOSE:
	case PH_DONE:
		break;
	}
}

/* The event loop. Under moderate load (sim_fleet_poll_ns) it polls once
 * a quantum instead of sleeping until the next packet: a wake-up costs
 * more than the packets it brings, and with a few thousand a second each
 * would bring one. What arrives waits at most a quantum, which its
 * latency shows, as it shows the sends' batching. */
static void
dispatch(struct run *r)
{
	uint64_t q, next = 0;
	struct timespec ts;

	while (!event_base_got_break(r->base) && !event_base_got_exit(r->base)) {
		/* Fixed once the fleet exists: its planned rate does not change. */
		q = sim_fleet_poll_ns(r->fleet);
		if (q == 0) {
			if (event_base_loop(r->base, EVLOOP_ONCE) != 0)
				break;
			continue;
		}
		if (next == 0)
			sim_consumer_cork(r->cons, true);
		if (event_base_loop(r->base, EVLOOP_ONCE | EVLOOP_NONBLOCK) != 0)
			break;
		/* Acknowledgements first, so the broker's windows keep moving. */
		sim_consumer_flush(r->cons);
		sim_fleet_poll(r->fleet, sim_now_ns());
		sim_consumer_flush(r->cons);
		next = next + q > sim_now_ns() ? next + q : sim_now_ns() + q;
		ts.tv_sec = (time_t)(next / SIM_NS_PER_S);
		ts.tv_nsec = (long)(next % SIM_NS_PER_S);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
}

static void
early_signal(int sig)
{
	sim_broker_cleanup_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Raises the soft descriptor limit to the hard one; the fleet needs one
 * descriptor per device, and so does an embedded broker. */
static enum sim_err
check_fds(uint64_t need, struct sim_diag *d)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return SIM_OK;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && need > rl.rlim_cur) {
		sim_diag_set(d, "the fleet needs %llu file descriptors but the limit is %llu "
		    "(hard limit %llu); raise it (ulimit -n, or LimitNOFILE= under systemd) or "
		    "run fewer devices per process", (unsigned long long)need,
		    (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
		return SIM_ERR_INFRA;
	}
	return SIM_OK;
}

/* The telemetry topic filters, one per distinct filter, at the highest QoS
 * any group publishes it with. */
static enum sim_err
collect_filters(struct run *r)
{
	/* Room for the request-response answer filters too. */
	r->filters = calloc(r->sc.ngroups + r->sc.nrr + 6, sizeof(*r->filters));
	r->qos = calloc(r->sc.ngroups + r->sc.nrr + 6, sizeof(*r->qos));
	if (r->filters == NULL || r->qos == NULL)
		return SIM_ERR_NOMEM;
	for (size_t i = 0; i < r->sc.ngroups; i++) {
		const struct sim_telemetry_cfg *t = &r->sc.groups[i].telemetry;
		char *f;
		size_t j;

		if (!t->enabled)
			continue;
		f = sim_tmpl_to_filter(t->topic);
		if (f == NULL)
			return SIM_ERR_NOMEM;
		for (j = 0; j < r->nfilters; j++)
			if (strcmp(r->filters[j], f) == 0)
				break;
		if (j < r->nfilters) {
			free(f);
			if (t->qos > r->qos[j])
				r->qos[j] = t->qos;
			continue;
		}
		r->filters[r->nfilters] = f;
		r->qos[r->nfilters++] = t->qos;
	}
	return SIM_OK;
}

/* A pattern's cloud-side filters, after the telemetry ones (collect_filters
 * left room for them). */
static enum sim_err
add_filters(struct run *r, const char *const *f, const int *q, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((r->filters[r->nfilters] = strdup(f[i])) == NULL)
			return SIM_ERR_NOMEM;
		r->qos[r->nfilters++] = q[i];
	}
	return SIM_OK;
}

static unsigned
consumers_needed(const struct sim_scenario *sc, uint32_t *max_payload)
{
	double rate = 0;
	unsigned n;

	*max_payload = SIM_TELEMETRY_MIN_SIZE;
	for (size_t i = 0; i < sc->ngroups; i++) {
		const struct sim_telemetry_cfg *t = &sc->groups[i].telemetry;

		if (!t->enabled)
			continue;
		rate += (double)sc->groups[i].count * (double)SIM_NS_PER_S * sc->time_scale /
		    (double)t->every_ns;
		if (!t->model_payload && t->size > *max_payload)
			*max_payload = t->size;
		if (t->model_payload) {
			const struct dev_model *m = sc->groups[i].model;
			/* Templates render small JSON; frames up to their max. */
			uint32_t need = m->has_frame ? (m->frame_size.max > 0 ?
			    (uint32_t)m->frame_size.max + SIM_TELEMETRY_MIN_SIZE : 64u << 20) : 1u << 20;

			if (need > *max_payload)
				*max_payload = need;
		}
	}
	n = (unsigned)ceil(rate / MSGS_PER_CONSUMER);
	return n < 1 ? 1 : n > MAX_CONSUMERS ? MAX_CONSUMERS : n;
}

static enum sim_err
set_embedded_target(struct run *r, struct sim_diag *d)
{
	struct sim_broker_opts bo = { 0 };
	enum sim_err rv;

	/* Lets users (and tests) pick a mosquitto build other than PATH's. */
	bo.mosquitto = getenv("FLEETSIM_MOSQUITTO");
	rv = sim_broker_start(&bo, &r->broker, d);
	if (rv != SIM_OK)
		return rv;
	free(r->sc.target.url);
	free(r->sc.target.host);
	r->sc.target.url = strdup(sim_broker_url(r->broker));
	r->sc.target.host = strdup("127.0.0.1");
	r->sc.target.port = sim_broker_port(r->broker);
	r->sc.target.tls = false;
	if (r->sc.target.url == NULL || r->sc.target.host == NULL)
		return SIM_ERR_NOMEM;
	return SIM_OK;
}

static enum sim_err
mkdirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return SIM_ERR_IO;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return SIM_ERR_IO;
		*p = '/';
	}
	if (mkdir(buf, 0777) != 0 && errno != EEXIST)
		return SIM_ERR_IO;
	return SIM_OK;
}

static enum sim_exit
write_report(struct run *r)
{
	struct sim_fleet_stats fs;
	struct sim_report_in in;
	struct rpt_json *rep = NULL;
	char path[4096], jpath[4096];
	enum sim_exit ex = SIM_EXIT_INFRA;
	bool pass = false;

	/* A last, partial row, so the rows add up to the totals. */
	r->next_sample = 0;
	sample(r, sim_now_ns());
	if (r->fleet != NULL)
		sim_fleet_stats_full(r->fleet, &fs);
	if (r->drained_at == 0)
		r->drained_at = sim_now_ns();
	in = (struct sim_report_in){
		.sc = &r->sc,
		.broker_url = r->sc.target.url,
		.embedded_broker = r->broker != NULL,
		.started_at = r->started_at,
		.duration_s = (double)(r->drained_at - r->t0) / SIM_NS_PER_S,
		.send_s = r->sent_until > r->send_start ?
		    (double)(r->sent_until - r->send_start) / SIM_NS_PER_S : 0,
		.partial = r->partial,
		.chk = r->chk,
		.fleet = r->fleet != NULL ? &fs : NULL,
		.consumer_reconnects = r->cons ? sim_consumer_reconnects(r->cons) : 0,
		.consumer_decode_errors = r->cons ? sim_consumer_decode_errors(r->cons) : 0,
		.consumer_connections = r->nconsumers,
		.consumer_last_error = r->cons ? sim_consumer_last_error(r->cons) : NULL,
		.series = r->series,
	};
	in.rr[SIM_RR_C2D] = sim_rr_cloud_tracker(r->rrc, SIM_RR_C2D, &in.rr_opts[SIM_RR_C2D]);
	in.rr[SIM_RR_D2C] = sim_rr_cloud_tracker(r->rrc, SIM_RR_D2C, &in.rr_opts[SIM_RR_D2C]);
	in.tpc = r->tpc;
	in.tpc_series = r->tpc_series;
	rep = sim_report_build(&in);
	if (rep == NULL || sim_report_judge(rep, &r->sc, &pass) != SIM_OK) {
		fprintf(stderr, "fleetsim: out of memory building the report\n");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/report.json", r->sc.report_dir);
	if (mkdirs(r->sc.report_dir) != SIM_OK ||
	    rpt_json_write_file(path, rep, 2) != RPT_OK) {
		fprintf(stderr, "fleetsim: cannot write %s: %s\n", path, strerror(errno));
		goto out;
	}
	/* The per-second series as CSV, for spreadsheets and plotting. */
	if (r->sc.report_formats & SIM_REPORT_CSV) {
		struct rpt_buf csv = { 0 };
		enum rpt_err rc = rpt_series_csv(r->series, "pattern", "telemetry", false, &csv);

		snprintf(jpath, sizeof(jpath), "%s/timeseries.csv", r->sc.report_dir);
		if (rc == RPT_OK)
			rc = rpt_write_atomic(jpath, csv.p, csv.len);
		free(csv.p);
		if (rc != RPT_OK) {
			fprintf(stderr, "fleetsim: cannot write %s: %s\n", jpath, strerror(errno));
			goto out;
		}
	}
	/* For people: one self-contained page with the charts. */
	snprintf(jpath, sizeof(jpath), "%s/report.html", r->sc.report_dir);
	if ((r->sc.report_formats & SIM_REPORT_HTML) && rpt_html_write(jpath, rep, r->sc.text) != RPT_OK) {
		fprintf(stderr, "fleetsim: cannot write %s: %s\n", jpath, strerror(errno));
		goto out;
	}
	/* The same verdict for CI test tabs: one testcase per check and
	 * assertion. */
	snprintf(jpath, sizeof(jpath), "%s/junit.xml", r->sc.report_dir);
	if ((r->sc.report_formats & SIM_REPORT_JUNIT) && rpt_junit_write(jpath, rep) != RPT_OK) {
		fprintf(stderr, "fleetsim: cannot write %s: %s\n", jpath, strerror(errno));
		goto out;
	}
	if (!r->o->quiet) {
		char *abs = realpath(path, NULL);

		sim_report_print(stdout, rep, abs != NULL ? abs : path);
		free(abs);
	}
	ex = pass ? SIM_EXIT_PASS : SIM_EXIT_FAIL;
out:
	rpt_json_free(rep);
	return ex;
}

static void
run_fini(struct run *r)
{
	sim_metrics_free(r->metrics);
	sim_fleet_free(r->fleet);
	sim_rr_cloud_free(r->rrc);
	sim_tpc_free(r->tpc);
	sim_consumer_free(r->cons);
	sim_tm_checker_free(r->chk);
	rpt_series_free(r->series);
	rpt_series_free(r->tpc_series);
	sim_transport_free(r->tp);
	if (r->tick != NULL)
		event_free(r->tick);
	if (r->sigint != NULL)
		event_free(r->sigint);
	if (r->sigterm != NULL)
		event_free(r->sigterm);
	if (r->sighup != NULL)
		event_free(r->sighup);
	if (r->base != NULL)
		event_base_free(r->base);
	sim_broker_free(r->broker);
	for (size_t i = 0; r->filters != NULL && i < r->nfilters; i++)
		free(r->filters[i]);
	free(r->filters);
	free(r->qos);
	sim_scenario_fini(&r->sc);
}

static enum sim_exit
load(const struct sim_run_opts *o, struct sim_scenario *sc)
{
	struct sim_diag d = { "" };
	enum sim_err rv;

	rv = sim_scenario_load(o->scenario, &o->ov, sc, &d);
	if (rv == SIM_OK)
		rv = sim_report_check_paths(sc, &d);
	if (rv != SIM_OK) {
		fprintf(stderr, "fleetsim: %s\n", d.msg[0] ? d.msg : sim_err_str(rv));
		return SIM_EXIT_USAGE;
	}
	return SIM_EXIT_PASS;
}

/* A model file has a top-level model: key; a scenario never does. */
static bool
is_model_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	bool yes = false;

	while (f != NULL && !yes && fgets(line, sizeof(line), f) != NULL)
		yes = strncmp(line, "model:", 6) == 0;
	if (f != NULL)
		fclose(f);
	return yes;
}

static enum sim_exit
validate_model(const struct sim_run_opts *o)
{
	struct dev_model m;
	struct sim_diag d = { "" };
	enum sim_err rv = sim_model_load(o->scenario, &m, &d);

	if (rv != SIM_OK) {
		fprintf(stderr, "fleetsim: %s\n", d.msg[0] ? d.msg : sim_err_str(rv));
		return SIM_EXIT_USAGE;
	}
	if (!o->quiet)
		printf("%s: ok: model '%s', %zu sensor%s, %zu actuator%s, %zu command%s\n", o->scenario,
		    m.name, m.nsensors, m.nsensors == 1 ? "" : "s", m.nactuators,
		    m.nactuators == 1 ? "" : "s", m.ncommands, m.ncommands == 1 ? "" : "s");
	dev_model_fini(&m);
	return SIM_EXIT_PASS;
}

enum sim_exit
sim_models(void)
{
	char *paths[512];
	size_t n = sim_model_paths(paths, 512);
	enum sim_exit ex = SIM_EXIT_PASS;

	for (size_t i = 0; i < n; i++) {
		struct dev_model m;
		struct sim_diag d = { "" };

		if (sim_model_load(paths[i], &m, &d) != SIM_OK) {
			fprintf(stderr, "fleetsim: %s\n", d.msg);
			ex = SIM_EXIT_USAGE;
		} else {
			printf("%-20s %s\n", m.name, m.description != NULL ? m.description : "");
			dev_model_fini(&m);
		}
		free(paths[i]);
	}
	if (n == 0)
		fprintf(stderr, "fleetsim: no models found in $FLEETSIM_MODELS or %s\n",
		    FLEETSIM_MODELS_DIR);
	return ex;
}

enum sim_exit
sim_validate(const struct sim_run_opts *o)
{
	struct sim_scenario sc;
	enum sim_exit ex;

	if (is_model_file(o->scenario))
		return validate_model(o);
	memset(&sc, 0, sizeof(sc));
	ex = load(o, &sc);
	if (ex == SIM_EXIT_PASS && !o->quiet)
		printf("%s: ok: scenario '%s', %llu devices in %zu group%s, %zu assertion%s\n",
		    o->scenario, sc.name, (unsigned long long)sim_scenario_devices(&sc), sc.ngroups,
		    sc.ngroups == 1 ? "" : "s", sc.nasserts, sc.nasserts == 1 ? "" : "s");
	sim_scenario_fini(&sc);
	return ex;
}

enum sim_exit
sim_run(const struct sim_run_opts *o)
{
	struct run r;
	struct sim_diag d = { "" };
	struct sim_consumer_opts co;
	struct event_config *ecfg = NULL;
	struct timeval tv = { 0, 20000 };
	uint32_t max_payload;
	enum sim_exit ex;
	enum sim_err rv;

	memset(&r, 0, sizeof(r));
	r.o = o;
	ex = load(o, &r.sc);
	if (ex != SIM_EXIT_PASS)
		goto out;
	ex = SIM_EXIT_INFRA;
	r.tty = isatty(STDERR_FILENO);
	signal(SIGPIPE, SIG_IGN);
	atexit(sim_broker_cleanup_all);
	/* Until the loop takes these signals over, they must still not leave
	 * an embedded broker's folder behind. */
	signal(SIGINT, early_signal);
	signal(SIGTERM, early_signal);
	signal(SIGHUP, early_signal);
	if (getrandom(&r.run_id, sizeof(r.run_id), 0) != sizeof(r.run_id))
		r.run_id = (uint32_t)(sim_now_ns() ^ (uint64_t)getpid());
	r.nconsumers = consumers_needed(&r.sc, &max_payload);
	if ((rv = check_fds(sim_scenario_devices(&r.sc) + r.nconsumers + FD_RESERVE, &d)) != SIM_OK)
		goto fail;
	if (!r.sc.target.given && (rv = set_embedded_target(&r, &d)) != SIM_OK)
		goto fail;
	if ((rv = sim_transport_new(&r.sc.target, &r.tp, &d)) != SIM_OK)
		goto fail;
	if ((rv = collect_filters(&r)) != SIM_OK)
		goto fail;
	if ((rv = sim_tm_checker_new((uint32_t)sim_scenario_devices(&r.sc), r.run_id, &r.chk)) != SIM_OK)
		goto fail;
	if (rpt_series_new(series_cols, NSERIES, &r.series) != RPT_OK) {
		rv = SIM_ERR_NOMEM;
		goto fail;
	}
	co = (struct sim_consumer_opts){
		.connections = r.nconsumers,
		.run_id = r.run_id,
		.seed = r.sc.seed,
		.max_payload = max_payload,
		.filters = (const char *const *)r.filters,
		.qos = r.qos,
		.nfilters = r.nfilters,
	};
	/* libevent's own timers (keep-alive, ramp, phases) can be coarse; the
	 * sends, whose lateness would show as latency, run on the fleet's
	 * exact timerfd. Change lists fold an epoll_ctl add and delete of
	 * the same descriptor within one loop pass into nothing. */
	ecfg = event_config_new();
	if (ecfg == NULL) {
		rv = SIM_ERR_NOMEM;
		goto fail;
	}
	event_config_set_flag(ecfg, EVENT_BASE_FLAG_NOLOCK | EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	r.base = event_base_new_with_config(ecfg);
	event_config_free(ecfg);
	if (r.base == NULL) {
		rv = SIM_ERR_NOMEM;
		goto fail;
	}
	if ((rv = sim_rr_cloud_new(r.base, &r.sc, &(struct sim_rr_cloud_opts){ .run_id = r.run_id,
	    .seed = r.sc.seed }, &r.rrc)) != SIM_OK)
		goto fail;
	if (r.rrc != NULL) {
		const char *const *f;
		const int *q;
		size_t n = sim_rr_cloud_filters(r.rrc, &f, &q);

		if ((rv = add_filters(&r, f, q, n)) != SIM_OK)
			goto fail;
		co.nfilters = r.nfilters;
		co.hook = sim_rr_cloud_hook;
		co.hook_arg = r.rrc;
	}
	/* The coordinator's log goes in the report folder by default. */
	if (r.sc.ntpc > 0 && (rv = mkdirs(r.sc.report_dir)) != SIM_OK) {
		sim_diag_set(&d, "cannot create the report folder %s: %s", r.sc.report_dir,
		    strerror(errno));
		goto fail;
	}
	if ((rv = sim_tpc_new(r.base, &r.sc, &(struct sim_tpc_opts){ .run_id = r.run_id,
	    .seed = r.sc.seed, .unix_offset_ns = unix_now_ns() - (int64_t)sim_now_ns(),
	    .history_path = o->history_path }, &r.tpc, &d)) != SIM_OK)
		goto fail;
	if (r.tpc != NULL) {
		const char *const *f;
		const int *q;
		size_t n = sim_tpc_filters(r.tpc, &f, &q);

		if ((rv = add_filters(&r, f, q, n)) != SIM_OK)
			goto fail;
		co.nfilters = r.nfilters;
		co.hook = cloud_hook;
		co.hook_arg = &r;
		if (rpt_series_new(tpc_cols, 4, &r.tpc_series) != RPT_OK) {
			rv = SIM_ERR_NOMEM;
			goto fail;
		}
	}
	if ((rv = sim_consumer_new(r.base, r.tp, &r.sc.target, r.chk, &co, &r.cons)) != SIM_OK)
		goto fail;
	if (o->metrics_addr != NULL &&
	    (rv = sim_metrics_start(r.base, o->metrics_addr, &r.metrics, &d)) != SIM_OK)
		goto fail;
	r.tick = event_new(r.base, -1, EV_PERSIST, tick_cb, &r);
	r.sigint = evsignal_new(r.base, SIGINT, signal_cb, &r);
	r.sigterm = evsignal_new(r.base, SIGTERM, signal_cb, &r);
	r.sighup = evsignal_new(r.base, SIGHUP, signal_cb, &r);
	if (r.tick == NULL || r.sigint == NULL || r.sigterm == NULL || r.sighup == NULL) {
		rv = SIM_ERR_NOMEM;
		goto fail;
	}
	evsignal_add(r.sigint, NULL);
	evsignal_add(r.sigterm, NULL);
	evsignal_add(r.sighup, NULL);
	event_add(r.tick, &tv);

	r.started_at = time(NULL);
	r.t0 = sim_now_ns();
	r.deadline = r.t0 + CLOUD_READY_NS;
	r.phase = PH_CLOUD;
	publish_metrics(&r, r.t0);
	sim_consumer_start(r.cons);
	dispatch(&r);
	if (r.tty && !o->quiet)
		fprintf(stderr, "\r\033[K");
	if (r.infra != SIM_EXIT_PASS) {
		fprintf(stderr, "fleetsim: %s\n", r.infra_msg);
		ex = SIM_EXIT_INFRA;
		goto out;
	}
	ex = write_report(&r);
	goto out;
fail:
	fprintf(stderr, "fleetsim: %s\n", d.msg[0] ? d.msg : sim_err_str(rv));
	ex = rv == SIM_ERR_SCENARIO ? SIM_EXIT_USAGE : SIM_EXIT_INFRA;
out:
	run_fini(&r);
	return ex;
}
