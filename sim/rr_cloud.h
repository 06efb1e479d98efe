/* The cloud side of request-response. For cloud-to-device ("methods") it
 * calls methods on devices at each c2d pattern's rate, on schedule
 * whatever the answers do (an open model), through the consumer's
 * connections, and classifies every answer and every silence with a
 * struct sim_rr. For device-to-cloud it owns the tracker the devices open
 * their requests in and, unless the pattern's responder is external,
 * answers them after the configured delay.
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
#include "mqtt_client.h"
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
 * when the scenario has no request-response pattern. The caller owns
 * *out. */
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
/* Sends the requests due by now and times out those overdue: runs on its
 * own timer, and also on the fleet's wake-ups (sim_fleet_set_tick_hook)
 * so that under load the two share them. arg is the struct sim_rr_cloud. */
void sim_rr_cloud_tick(void *arg, uint64_t now);
/* No request is sent after now (a signal, the end of the window). */
void sim_rr_cloud_stop_sending(struct sim_rr_cloud *c, uint64_t now);
/* Requests still awaiting an answer within their timeout. */
uint64_t sim_rr_cloud_open(const struct sim_rr_cloud *c);
/* The end of the run: whatever is still open timed out. */
void sim_rr_cloud_finish(struct sim_rr_cloud *c);

/* A direction's tracker and the options it was made with (the report's
 * patterns.request_response.c2d and .d2c); NULL (and *opts NULL) when c
 * is NULL or the scenario has no pattern in that direction. */
const struct sim_rr *sim_rr_cloud_tracker(const struct sim_rr_cloud *c, enum sim_rr_dir dir,
    const struct sim_rr_opts **opts);
/* The d2c tracker, which the fleet's devices open requests in. */
struct sim_rr *sim_rr_cloud_d2c(struct sim_rr_cloud *c);

/* The mqtt5 convention on the wire: a request carries its id as 8 bytes
 * of Correlation Data (big-endian) and a Response Topic, an answer the
 * same Correlation Data and a "status" user property. w holds what the
 * returned properties point to; keep it while they are used. */
struct sim_rr_wire {
	struct sim_mqtt_props props;
	struct sim_mqtt_user_prop status_prop;
	uint8_t corr[8];
	char status[12];
};
const struct sim_mqtt_props *sim_rr_wire_request(struct sim_rr_wire *w, uint64_t id,
    const char *response_topic);
const struct sim_mqtt_props *sim_rr_wire_answer(struct sim_rr_wire *w, uint64_t id, int status);
/* What a received message says: its id (0 without 8 bytes of Correlation
 * Data) and its status (0 without a numeric "status" property). */
uint64_t sim_rr_wire_id(const struct sim_mqtt_props *p);
int sim_rr_wire_status(const struct sim_mqtt_props *p);
/* A status code's text (3 digits; 0 for anything else). */
int sim_rr_parse_status(const char *s, size_t n);

/* The options of sc's tracker for dir, for the report skeleton before a
 * run and for the fleet's method indices: fills methods (at most max, in
 * the order of the patterns) and returns false when there is no pattern
 * in that direction. */
bool sim_rr_dir_opts(const struct sim_scenario *sc, enum sim_rr_dir dir, const char **methods,
    size_t max, struct sim_rr_opts *o);

#endif
