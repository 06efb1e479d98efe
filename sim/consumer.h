/* The cloud-side consumer: fleetsim's own MQTT connections on the same
 * loop, subscribed to every telemetry topic (and request-response answer
 * topic), feeding each arrival to the telemetry checker (or the hook). Several connections share the load through a
 * $share subscription when one would not keep up. Sessions are persistent
 * (MQTT 5, session expiry) so messages published while a consumer
 * reconnects, e.g. across a broker restart, wait for it on the broker. */
#ifndef SIM_CONSUMER_H
#define SIM_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"
#include "sim_err.h"
#include "telemetry.h"
#include "transport.h"

struct event_base;
struct sim_consumer;
struct sim_mqtt_msg;
struct sim_mqtt_props;

/* Sees every message before the telemetry checker; returns true when it
 * took the message (a request-response answer). */
typedef bool (*sim_consumer_hook)(void *arg, const struct sim_mqtt_msg *m);

struct sim_consumer_opts {
	unsigned connections;       /* >= 1 */
	uint32_t run_id;
	uint64_t seed;
	uint32_t max_payload;       /* largest telemetry payload expected */
	const char *const *filters; /* topic filters, without $share */
	const int *qos;             /* per filter */
	size_t nfilters;
	sim_consumer_hook hook;     /* NULL: everything is telemetry */
	void *hook_arg;
};

/* Borrows base, tp, t and chk, which must outlive the consumer. The caller
 * owns *out: sim_consumer_free. Nothing connects before sim_consumer_start. */
enum sim_err sim_consumer_new(struct event_base *base, struct sim_transport *tp,
    const struct sim_target *t, struct sim_tm_checker *chk, const struct sim_consumer_opts *o,
    struct sim_consumer **out);
void sim_consumer_free(struct sim_consumer *c);

void sim_consumer_start(struct sim_consumer *c);
/* True once every connection has its subscriptions acknowledged. */
bool sim_consumer_ready(const struct sim_consumer *c);
/* True when a connection failed in a way that retrying will not fix: TLS
 * verification, or a CONNACK that refused. */
bool sim_consumer_failed(const struct sim_consumer *c);
/* Why the last connection attempt failed ("" if none did). */
const char *sim_consumer_last_error(const struct sim_consumer *c);
/* Publishes on one of the open connections (in turn): the cloud side's
 * requests. SIM_ERR_NOTCONN when none is open. */
enum sim_err sim_consumer_publish(struct sim_consumer *c, const char *topic, const void *payload,
    size_t len, int qos, const struct sim_mqtt_props *props);
/* Corks every connection (sim_mqtt_cork), or uncorks it; flush sends
 * what waits. For a loop that polls once a quantum: the cloud's
 * requests and acknowledgements of a pass leave in one send. */
void sim_consumer_cork(struct sim_consumer *c, bool corked);
void sim_consumer_flush(struct sim_consumer *c);
/* Closes the connections gracefully; no reconnects after this. */
void sim_consumer_stop(struct sim_consumer *c);
/* Connections open or still closing (a DISCONNECT not yet flushed). */
unsigned sim_consumer_connected(const struct sim_consumer *c);
uint64_t sim_consumer_reconnects(const struct sim_consumer *c);
/* Malformed packets the consumer's connections received. */
uint64_t sim_consumer_decode_errors(const struct sim_consumer *c);

#endif
