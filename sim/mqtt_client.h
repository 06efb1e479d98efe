/* A non-blocking MQTT 3.1.1 / 5.0 client on one libevent bufferevent.
 *
 * Built for fleets: thousands of clients share one event_base, one
 * sim_mqtt_config and one set of callbacks, so the per-client state is only
 * what differs (ids, session, in-flight window). The client never reconnects
 * on its own: the owner (the fleet) decides when, because reconnects must go
 * through the fleet's connect gate and backoff. Session state (unacknowledged
 * QoS 1/2 messages, packet ids) survives a reconnect when clean_session is
 * false, and unacknowledged messages are resent with DUP set.
 */
#ifndef SIM_MQTT_CLIENT_H
#define SIM_MQTT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt_codec.h"
#include "sim_err.h"

struct event_base;
struct bufferevent;
struct sim_mqtt_client;

enum { SIM_MQTT_V311 = 4, SIM_MQTT_V5 = 5 };

/* struct sim_mqtt_user_prop (key, key_len, val, val_len) comes from
 * mqtt_codec.h, so user properties pass to the encoder without copying. */

/* The MQTT 5 properties of a PUBLISH that fleetsim uses. Pointers borrow the
 * caller's memory for the duration of the call (publish) or callback
 * (on_message). Ignored under MQTT 3.1.1. */
struct sim_mqtt_props {
	const char *response_topic;
	size_t response_topic_len;
	const uint8_t *correlation;
	size_t correlation_len;
	const struct sim_mqtt_user_prop *user;
	size_t nuser;
	uint32_t message_expiry_s;
	bool has_message_expiry;
};

/* An inbound application message, valid only during on_message. */
struct sim_mqtt_msg {
	const char *topic;
	size_t topic_len;
	const uint8_t *payload;
	size_t payload_len;
	int qos;
	bool retain;
	bool dup;
	struct sim_mqtt_props props;
};

/* Why a connection ended, passed to on_closed. */
enum sim_mqtt_close {
	SIM_MQTT_CLOSE_REQUESTED,   /* sim_mqtt_disconnect or sim_mqtt_abort */
	SIM_MQTT_CLOSE_CONNECT_FAIL,/* TCP/TLS connect failed before CONNACK */
	SIM_MQTT_CLOSE_REFUSED,     /* CONNACK with a non-zero reason */
	SIM_MQTT_CLOSE_EOF,         /* peer closed */
	SIM_MQTT_CLOSE_IO,          /* socket or TLS error after connect */
	SIM_MQTT_CLOSE_PROTO,       /* malformed or unexpected packet from the peer */
	SIM_MQTT_CLOSE_KEEPALIVE,   /* no PINGRESP in time */
	SIM_MQTT_CLOSE_SERVER,      /* server sent DISCONNECT (MQTT 5) */
	SIM_MQTT_CLOSE_TLS,         /* TLS handshake or certificate verification failed before CONNACK */
};

/* Callbacks; arg is the per-client pointer given to sim_mqtt_client_new.
 * Any member may be NULL. A callback may call sim_mqtt_* on the same client,
 * but must not free it except from on_closed. */
struct sim_mqtt_cbs {
	/* CONNACK accepted (reason 0). */
	void (*on_connected)(void *arg, bool session_present);
	/* An application message; QoS 2 messages are delivered exactly once
	 * per packet id, on PUBLISH, before PUBREC is sent. */
	void (*on_message)(void *arg, const struct sim_mqtt_msg *msg);
	/* Our QoS 1 message got PUBACK, or QoS 2 got PUBCOMP. reason is the
	 * MQTT 5 reason code (0 under 3.1.1). */
	void (*on_acked)(void *arg, uint16_t packet_id, int reason);
	/* SUBACK: one return code per filter, in order (0x80+ = failure). */
	void (*on_suback)(void *arg, uint16_t packet_id, const uint8_t *codes, size_t n);
	/* The connection is gone (or never came up). detail is a short
	 * human-readable cause (e.g. OpenSSL's reason, CONNACK reason name),
	 * valid during the call. reason is the CONNACK/DISCONNECT reason code
	 * where there was one, else 0. The client is idle afterwards and may
	 * be reconnected or freed. */
	void (*on_closed)(void *arg, enum sim_mqtt_close why, int reason, const char *detail);
};

/* Settings shared by many clients. The caller keeps it alive, unchanged,
 * for as long as any client uses it. */
struct sim_mqtt_config {
	int version;                /* SIM_MQTT_V311 or SIM_MQTT_V5 */
	uint16_t keepalive_s;       /* 0 disables keep-alive */
	bool clean_session;         /* v5: clean start; session expiry below */
	uint32_t session_expiry_s;  /* v5 only, used when !clean_session */
	uint16_t max_inflight;      /* our QoS 1/2 send window (v5: min with the server's Receive Maximum) */
	uint32_t max_packet;        /* largest inbound packet accepted, bytes (0 = 1 MiB) */
	uint32_t max_queued;        /* QoS 1/2 messages held beyond the window (0 = unbounded) */
	const struct sim_mqtt_cbs *cbs;
};

/* Counters a client keeps; read with sim_mqtt_stats. */
struct sim_mqtt_stats {
	uint64_t pkts_in, pkts_out;
	uint64_t bytes_in, bytes_out;
	uint64_t resent;            /* QoS 1/2 messages resent after reconnect */
	uint64_t decode_errors;     /* malformed packets that closed the connection */
};

/* Creates an idle client. client_id is copied; username/password may be
 * NULL and are copied. The client is owned by the caller and freed with
 * sim_mqtt_client_free. */
enum sim_err sim_mqtt_client_new(struct event_base *base, const struct sim_mqtt_config *cfg,
    const char *client_id, const char *username, const char *password, void *arg,
    struct sim_mqtt_client **out);

/* Closes any connection without calling on_closed and frees everything,
 * including queued messages. NULL is allowed. */
void sim_mqtt_client_free(struct sim_mqtt_client *c);

/* Starts a session on bev, which the caller created connecting (plain or
 * TLS) and which the client now owns and frees, also when this fails. CONNECT is sent when bev
 * reports BEV_EVENT_CONNECTED (or at once if it is connected already).
 * Fails with SIM_ERR_INVAL if a connection is already in progress.
 * Create bev with BEV_OPT_CLOSE_ON_FREE: freeing it must close the socket.
 * With a keep-alive, a session without CONNACK after 1.5 times the keep
 * alive ends with SIM_MQTT_CLOSE_CONNECT_FAIL. */
enum sim_err sim_mqtt_connect(struct sim_mqtt_client *c, struct bufferevent *bev);

/* Publishes. QoS 0 needs an open session (else SIM_ERR_NOTCONN, nothing is
 * queued). QoS 1/2 messages are copied and queued until acknowledged, also
 * while disconnected; *packet_id (may be NULL) receives the id. Returns
 * SIM_ERR_FULL if max_queued is reached. */
enum sim_err sim_mqtt_publish(struct sim_mqtt_client *c, const char *topic, const void *payload,
    size_t len, int qos, bool retain, const struct sim_mqtt_props *props, uint16_t *packet_id);

/* Subscribes to one filter at the given maximum QoS; needs an open session. */
enum sim_err sim_mqtt_subscribe(struct sim_mqtt_client *c, const char *filter, int qos,
    uint16_t *packet_id);
enum sim_err sim_mqtt_unsubscribe(struct sim_mqtt_client *c, const char *filter,
    uint16_t *packet_id);

/* Sends DISCONNECT, then closes once the output is flushed; on_closed
 * follows with SIM_MQTT_CLOSE_REQUESTED. */
enum sim_err sim_mqtt_disconnect(struct sim_mqtt_client *c);

/* The same; with end_session, an MQTT 5 session that was given an expiry
 * also ends now (Session Expiry 0), so the broker stops keeping (and
 * queueing for) it. Under 3.1.1 this is sim_mqtt_disconnect. */
enum sim_err sim_mqtt_disconnect_ex(struct sim_mqtt_client *c, bool end_session);

/* Drops the connection at once without DISCONNECT, as a crashing device
 * would; on_closed follows with SIM_MQTT_CLOSE_REQUESTED. */
void sim_mqtt_abort(struct sim_mqtt_client *c);

/* Stops (or resumes) reading and writing without closing, as a device
 * behind a half-open link or a partition does: what it publishes waits in
 * the output, and keep-alive ends the connection if it lasts. Cleared by
 * the close. */
void sim_mqtt_freeze(struct sim_mqtt_client *c, bool frozen);

/* Corked, the client's writes wait in memory until sim_mqtt_flush (or
 * uncorking) sends them with one send(): for a connection that writes
 * many small packets a loop pass, such as the cloud side's, under a loop
 * that flushes once a pass. A close drops what waits, as it drops what
 * the socket had not sent. */
void sim_mqtt_cork(struct sim_mqtt_client *c, bool corked);
void sim_mqtt_flush(struct sim_mqtt_client *c);

/* True between an accepted CONNACK and the close. */
bool sim_mqtt_is_connected(const struct sim_mqtt_client *c);

/* QoS 1/2 messages not yet fully acknowledged (in flight plus queued). */
size_t sim_mqtt_pending(const struct sim_mqtt_client *c);

/* Of those, the ones sent and awaiting PUBACK/PUBREC/PUBCOMP (at most the
 * window while connected). */
size_t sim_mqtt_inflight(const struct sim_mqtt_client *c);

void sim_mqtt_stats(const struct sim_mqtt_client *c, struct sim_mqtt_stats *out);

#endif
