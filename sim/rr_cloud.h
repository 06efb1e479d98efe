/* The cloud side of cloud-to-device request-response ("methods"): calls
 * methods on devices at each c2d pattern's rate, on schedule whatever the
 * answers do (an open model), through the consumer's connections, and
 * classifies every answer and every silence with a struct sim_rr.
 *
 * Its answer subscriptions ride on the consumer: the run adds
 * sim_rr_cloud_filters to the consumer's and passes sim_rr_cloud_hook as
 * its hook, so answers arrive on the same connections as telemetry. */
#ifndef SIM_RR_CLOUD_H
#define SIM_RR_CLOUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer.h"
#include "rr.h"
#include "scenario.h"
#include "sim_err.h"

struct event_base;
struct sim_mqtt_msg;
struct sim_rr_cloud;

struct sim_rr_cloud_opts {
	uint32_t run_id;
	uint64_t seed;
};

/* Borrows base and sc, which must outlive it. *out is NULL (and SIM_OK)
 * when the scenario has no c2d pattern. The caller owns *out. */
enum sim_err sim_rr_cloud_new(struct event_base *base, const struct sim_scenario *sc,
    const struct sim_rr_cloud_opts *o, struct sim_rr_cloud **out);
void sim_rr_cloud_free(struct sim_rr_cloud *c);

/* The filters answers arrive on and their QoS; owned by c. */
size_t sim_rr_cloud_filters(const struct sim_rr_cloud *c, const char *const **filters,
    const int **qos);
/* The consumer's hook: takes the answers. arg is the struct sim_rr_cloud. */
bool sim_rr_cloud_hook(void *arg, const struct sim_mqtt_msg *m);

/* Requests are intended from send_start_ns until send_end_ns, published
 * through cons (borrowed). */
void sim_rr_cloud_start(struct sim_rr_cloud *c, struct sim_consumer *cons, uint64_t send_start_ns,
    uint64_t send_end_ns);
/* No request is sent after now (a signal, the end of the window). */
void sim_rr_cloud_stop_sending(struct sim_rr_cloud *c, uint64_t now);
/* Requests still awaiting an answer within their timeout. */
uint64_t sim_rr_cloud_open(const struct sim_rr_cloud *c);
/* The end of the run: whatever is still open timed out. */
void sim_rr_cloud_finish(struct sim_rr_cloud *c);

/* The c2d tracker and the options it was made with (the report's
 * patterns.request_response.c2d). c may be NULL: then both are NULL. */
const struct sim_rr *sim_rr_cloud_c2d(const struct sim_rr_cloud *c);
const struct sim_rr_opts *sim_rr_cloud_opts(const struct sim_rr_cloud *c);

/* The options of sc's c2d tracker, for the report skeleton before a run:
 * fills methods (at most max) and returns false when there is no c2d
 * pattern. */
bool sim_rr_c2d_opts(const struct sim_scenario *sc, const char **methods, size_t max,
    struct sim_rr_opts *o);

#endif
