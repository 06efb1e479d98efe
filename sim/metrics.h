/* Live metrics: a Prometheus endpoint (GET /metrics, text exposition
 * format 0.0.4) served by libevent's evhttp on the run's own event_base,
 * so scrapes cost no thread and see the numbers of the same loop.
 *
 * The module knows nothing of the run: the run copies its numbers into a
 * snapshot and hands it over with sim_metrics_update; a scrape renders the
 * last snapshot. Quantiles are computed at update time, not per scrape, so
 * a busy scraper cannot make the loop walk the histogram more often than
 * the run chooses. See docs/metrics.md for every metric.
 */
#ifndef SIM_METRICS_H
#define SIM_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "sim_err.h"

struct event_base;
struct sim_metrics;

/* What the run knows at one moment. Everything but devices_connected only
 * grows during a run (Prometheus reads a decrease as a counter reset). */
struct sim_metrics_snapshot {
	const char *scenario;       /* the scenario's name, for fleetsim_run_info; NULL keeps the last */
	uint64_t devices_planned;
	uint64_t devices_connected; /* connected right now */
	uint64_t connect_failures;
	uint64_t disconnects;
	uint64_t reconnects;
	/* The telemetry pattern (sim_tm_counts). lost is not here: sent -
	 * received goes up and down while messages are in flight, so it is
	 * no counter; docs/metrics.md shows the PromQL for it. */
	uint64_t tm_sent;
	uint64_t tm_received;
	uint64_t tm_duplicates;
	uint64_t tm_out_of_order;
	uint64_t tm_dropped;
	uint64_t tm_foreign;
	uint64_t tm_malformed;
	const struct rpt_hist *tm_latency;  /* ns, whole run so far; NULL = no latencies yet */
};

/* Checks a "HOST:PORT" address without touching the network: HOST is an
 * IPv4 address, a host name, "[IPv6]" or empty (all IPv4 interfaces),
 * PORT 0..65535 (0 picks a free port). Fills host (NUL-terminated, without
 * brackets; "0.0.0.0" for an empty HOST) and port. SIM_ERR_SCENARIO with
 * a message in d when addr is malformed or host does not fit in hostsz.
 * For the CLI, to reject a bad --metrics before anything starts. */
enum sim_err sim_metrics_parse_addr(const char *addr, char *host, size_t hostsz, uint16_t *port,
    struct sim_diag *d);

/* Listens on addr ("HOST:PORT", as sim_metrics_parse_addr) and serves
 * GET and HEAD /metrics on base; other paths get 404, other methods on
 * /metrics 405. Until the first sim_metrics_update every number is 0.
 * SIM_ERR_SCENARIO for a malformed address, SIM_ERR_INFRA when the host
 * does not resolve or the bind fails (port in use, no permission), with
 * the reason in d. Borrows base, which must outlive the metrics; the
 * caller owns *out: sim_metrics_free, before event_base_free(base). */
enum sim_err sim_metrics_start(struct event_base *base, const char *addr, struct sim_metrics **out,
    struct sim_diag *d);

/* Copies s (the scenario name too) and computes the latency quantiles,
 * sum and count; s and its histogram are not used after the call. Cheap
 * enough once a second; each call walks the histogram four times. */
void sim_metrics_update(struct sim_metrics *m, const struct sim_metrics_snapshot *s);

/* The port actually bound (the one picked when PORT was 0). */
uint16_t sim_metrics_port(const struct sim_metrics *m);

/* Stops listening and closes open scrape connections. NULL is allowed. */
void sim_metrics_free(struct sim_metrics *m);

#endif
