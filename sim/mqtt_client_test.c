/* Tests for the MQTT client against a real Mosquitto (started with
 * sim_broker_start on a free loopback port) and, for misbehaving servers, a
 * scripted fake server on a libevent listener. Every wait is bounded in
 * iterations and time. */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "broker.h"
#include "fs_test.h"
#include "mqtt_client.h"
#include "mqtt_codec.h"

static struct event_base *base;
static struct sim_broker *broker;
static uint16_t broker_port;
static unsigned run_id;         /* keeps topics and client ids unique per run */

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the loop for about ms milliseconds. */
static void
spin(int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Runs the loop until expr holds or ms pass; bounded in rounds too. */
#define WAIT_FOR(expr, ms) do {                                                 \
	uint64_t t0_ = mono_ms();                                               \
	for (int i_ = 0; !(expr) && i_ < (ms) / 5 + 1 && mono_ms() - t0_ < (uint64_t)(ms); i_++) \
		spin(5);                                                        \
} while (0)

static struct bufferevent *
dial(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bev == NULL)
		return NULL;
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		bufferevent_free(bev);
		return NULL;
	}
	return bev;
}

/* ---- a recording client ---- */

#define MAXMSG 64

struct rmsg {
	char topic[96];
	char payload[96];
	size_t payload_len;
	int qos;
	bool dup;
	char resp_topic[64];
	uint8_t corr[16];
	size_t corr_len;
	size_t nuser;
	char user[4][2][16];
	bool has_expiry;
	uint32_t expiry;
};

struct tc {
	struct sim_mqtt_config cfg;
	struct sim_mqtt_cbs cbs;
	struct sim_mqtt_client *c;
	int connected;
	bool session_present;
	int closed;
	enum sim_mqtt_close why;
	int reason;
	char detail[512];
	int nmsg;
	struct rmsg msgs[MAXMSG];
	int nacked;
	uint16_t acked[256];
	size_t max_inflight_at_ack;
	int nsuback;
	uint8_t subcode;
	bool free_on_close;
};

static void
on_connected(void *arg, bool sp)
{
	struct tc *t = arg;

	t->connected++;
	t->session_present = sp;
}

static void
copy_str(char *dst, size_t cap, const void *src, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void
on_message(void *arg, const struct sim_mqtt_msg *m)
{
	struct tc *t = arg;
	struct rmsg *r;

	if (t->nmsg >= MAXMSG)
		return;
	r = &t->msgs[t->nmsg++];
	copy_str(r->topic, sizeof(r->topic), m->topic, m->topic_len);
	copy_str(r->payload, sizeof(r->payload), m->payload, m->payload_len);
	r->payload_len = m->payload_len;
	r->qos = m->qos;
	r->dup = m->dup;
	if (m->props.response_topic != NULL)
		copy_str(r->resp_topic, sizeof(r->resp_topic), m->props.response_topic,
		    m->props.response_topic_len);
	if (m->props.correlation != NULL && m->props.correlation_len <= sizeof(r->corr)) {
		memcpy(r->corr, m->props.correlation, m->props.correlation_len);
		r->corr_len = m->props.correlation_len;
	}
	r->nuser = m->props.nuser;
	for (size_t i = 0; i < m->props.nuser && i < 4; i++) {
		copy_str(r->user[i][0], 16, m->props.user[i].key, m->props.user[i].key_len);
		copy_str(r->user[i][1], 16, m->props.user[i].val, m->props.user[i].val_len);
	}
	r->has_expiry = m->props.has_message_expiry;
	r->expiry = m->props.message_expiry_s;
}

static void
on_acked(void *arg, uint16_t id, int reason)
{
	struct tc *t = arg;
	size_t inflight = sim_mqtt_inflight(t->c);

	if (t->nacked < 256)
		t->acked[t->nacked] = id;
	t->nacked++;
	if (inflight > t->max_inflight_at_ack)
		t->max_inflight_at_ack = inflight;
}

static void
on_suback(void *arg, uint16_t id, const uint8_t *codes, size_t n)
{
	struct tc *t = arg;

	t->nsuback++;
	t->subcode = n > 0 ? codes[0] : 0xFF;
}

static void
on_closed(void *arg, enum sim_mqtt_close why, int reason, const char *detail)
{
	struct tc *t = arg;

	t->closed++;
	t->why = why;
	t->reason = reason;
	copy_str(t->detail, sizeof(t->detail), detail, strlen(detail));
	if (t->free_on_close) {
		sim_mqtt_client_free(t->c);
		t->c = NULL;
	}
}

static struct tc *
tc_new(int version, const char *id_suffix, bool clean)
{
	struct tc *t = calloc(1, sizeof(*t));
	char id[64];

	CU_ASSERT_FATAL(t != NULL);
	t->cbs = (struct sim_mqtt_cbs){
		.on_connected = on_connected,
		.on_message = on_message,
		.on_acked = on_acked,
		.on_suback = on_suback,
		.on_closed = on_closed,
	};
	t->cfg = (struct sim_mqtt_config){
		.version = version,
		.keepalive_s = 30,
		.clean_session = clean,
		.session_expiry_s = clean ? 0 : 300,
		.max_inflight = 10,
		.cbs = &t->cbs,
	};
	snprintf(id, sizeof(id), "fs-%u-%s", run_id, id_suffix);
	CU_ASSERT_FATAL(sim_mqtt_client_new(base, &t->cfg, id, NULL, NULL, t, &t->c) == SIM_OK);
	return t;
}

static void
tc_free(struct tc *t)
{
	if (t == NULL)
		return;
	sim_mqtt_client_free(t->c);
	free(t);
}

/* Connects to port and waits for the outcome. */
static bool
tc_connect(struct tc *t, uint16_t port)
{
	int before = t->connected, closed = t->closed;
	struct bufferevent *bev = dial(port);

	CU_ASSERT_FATAL(bev != NULL);
	CU_ASSERT_FATAL(sim_mqtt_connect(t->c, bev) == SIM_OK);
	WAIT_FOR(t->connected > before || t->closed > closed, 5000);
	return t->connected > before;
}

static void
tc_disconnect(struct tc *t)
{
	int closed = t->closed;

	CU_ASSERT_EQUAL(sim_mqtt_disconnect(t->c), SIM_OK);
	WAIT_FOR(t->closed > closed, 5000);
	CU_ASSERT_EQUAL(t->closed, closed + 1);
	CU_ASSERT_EQUAL(t->why, SIM_MQTT_CLOSE_REQUESTED);
	CU_ASSERT(!sim_mqtt_is_connected(t->c));
}

static bool
tc_subscribe(struct tc *t, const char *filter, int qos)
{
	int n = t->nsuback;

	CU_ASSERT_EQUAL_FATAL(sim_mqtt_subscribe(t->c, filter, qos, NULL), SIM_OK);
	WAIT_FOR(t->nsuback > n, 5000);
	return t->nsuback > n && t->subcode == qos;
}

static int
count_payload(const struct tc *t, const char *payload)
{
	int n = 0;

	for (int i = 0; i < t->nmsg; i++)
		n += strcmp(t->msgs[i].payload, payload) == 0;
	return n;
}

/* ---- tests against Mosquitto ---- */

static void
connect_and_close(int version)
{
	struct tc *t = tc_new(version, version == SIM_MQTT_V5 ? "c5" : "c4", true);
	struct sim_mqtt_stats st;

	CU_ASSERT_FALSE(sim_mqtt_is_connected(t->c));
	CU_ASSERT_EQUAL(sim_mqtt_publish(t->c, "x", "y", 1, 0, false, NULL, NULL), SIM_ERR_NOTCONN);
	CU_ASSERT_FATAL(tc_connect(t, broker_port));
	CU_ASSERT(sim_mqtt_is_connected(t->c));
	CU_ASSERT_FALSE(t->session_present);
	/* A second connect while one is up is refused, and the refused
	 * bufferevent is freed all the same (ASan would see a leak). */
	{
		struct bufferevent *extra = dial(broker_port);

		CU_ASSERT_EQUAL(sim_mqtt_connect(t->c, extra), SIM_ERR_INVAL);
	}
	tc_disconnect(t);
	sim_mqtt_stats(t->c, &st);
	CU_ASSERT_EQUAL(st.pkts_out, 2);        /* CONNECT, DISCONNECT */
	CU_ASSERT_EQUAL(st.pkts_in, 1);         /* CONNACK */
	CU_ASSERT_EQUAL(st.decode_errors, 0);
	/* And it can connect again. */
	CU_ASSERT(tc_connect(t, broker_port));
	tc_disconnect(t);
	tc_free(t);
}

static void
test_connect_v311(void)
{
	connect_and_close(SIM_MQTT_V311);
}

static void
test_connect_v5(void)
{
	connect_and_close(SIM_MQTT_V5);
}

/* Publishes to itself at QoS 0, 1 and 2 and sees each exactly once. */
static void
pubsub(int version)
{
	struct tc *t = tc_new(version, version == SIM_MQTT_V5 ? "ps5" : "ps4", true);
	char filter[96], topic[96], payload[32];
	struct sim_mqtt_stats st;
	uint16_t ids[3];

	CU_ASSERT_FATAL(tc_connect(t, broker_port));
	snprintf(filter, sizeof(filter), "fleetsim/%u/ps%d/#", run_id, version);
	CU_ASSERT_FATAL(tc_subscribe(t, filter, 2));
	for (int q = 0; q <= 2; q++) {
		snprintf(topic, sizeof(topic), "fleetsim/%u/ps%d/q%d", run_id, version, q);
		snprintf(payload, sizeof(payload), "payload-qos-%d", q);
		CU_ASSERT_EQUAL(sim_mqtt_publish(t->c, topic, payload, strlen(payload), q, false, NULL,
		    &ids[q]), SIM_OK);
	}
	CU_ASSERT_EQUAL(ids[0], 0);
	CU_ASSERT(ids[1] != 0 && ids[2] != 0 && ids[1] != ids[2]);
	CU_ASSERT_EQUAL(sim_mqtt_pending(t->c), 2);
	WAIT_FOR(t->nmsg >= 3 && t->nacked >= 2, 5000);
	spin(300);      /* room for any duplicate to show up */
	CU_ASSERT_EQUAL(t->nmsg, 3);
	CU_ASSERT_EQUAL(t->nacked, 2);
	CU_ASSERT_EQUAL(sim_mqtt_pending(t->c), 0);
	for (int q = 0; q <= 2; q++) {
		snprintf(payload, sizeof(payload), "payload-qos-%d", q);
		CU_ASSERT_EQUAL(count_payload(t, payload), 1);
		for (int i = 0; i < t->nmsg; i++) {
			if (strcmp(t->msgs[i].payload, payload) != 0)
				continue;
			snprintf(topic, sizeof(topic), "fleetsim/%u/ps%d/q%d", run_id, version, q);
			CU_ASSERT_STRING_EQUAL(t->msgs[i].topic, topic);
			CU_ASSERT_EQUAL(t->msgs[i].qos, q);
			CU_ASSERT_EQUAL(t->msgs[i].payload_len, strlen(payload));
		}
	}
	sim_mqtt_stats(t->c, &st);
	CU_ASSERT(st.bytes_in > 0 && st.bytes_out > 0);
	CU_ASSERT_EQUAL(st.resent, 0);
	tc_disconnect(t);
	tc_free(t);
}

static void
test_pubsub_v311(void)
{
	pubsub(SIM_MQTT_V311);
}

static void
test_pubsub_v5(void)
{
	pubsub(SIM_MQTT_V5);
}

static void
test_v5_properties(void)
{
	static const uint8_t corr[] = { 0x00, 0x01, 0xFE, 0xFF, 'c' };
	static const struct sim_mqtt_user_prop user[] = {
		{ "device", 6, "d-42", 4 }, { "unit", 4, "\xC2\xB0" "C", 3 }, { "device", 6, "again", 5 },
	};
	struct tc *t = tc_new(SIM_MQTT_V5, "props", true);
	struct sim_mqtt_props props = {
		.response_topic = "fleetsim/reply/42",
		.response_topic_len = 17,
		.correlation = corr,
		.correlation_len = sizeof(corr),
		.user = user,
		.nuser = 3,
		.message_expiry_s = 120,
		.has_message_expiry = true,
	};
	char topic[96];
	struct rmsg *r;

	CU_ASSERT_FATAL(tc_connect(t, broker_port));
	snprintf(topic, sizeof(topic), "fleetsim/%u/props", run_id);
	CU_ASSERT_FATAL(tc_subscribe(t, topic, 1));
	CU_ASSERT_EQUAL(sim_mqtt_publish(t->c, topic, "p", 1, 1, false, &props, NULL), SIM_OK);
	WAIT_FOR(t->nmsg >= 1, 5000);
	CU_ASSERT_EQUAL_FATAL(t->nmsg, 1);
	r = &t->msgs[0];
	CU_ASSERT_STRING_EQUAL(r->resp_topic, "fleetsim/reply/42");
	CU_ASSERT_EQUAL(r->corr_len, sizeof(corr));
	CU_ASSERT(memcmp(r->corr, corr, sizeof(corr)) == 0);
	CU_ASSERT_EQUAL_FATAL(r->nuser, 3);
	CU_ASSERT_STRING_EQUAL(r->user[0][0], "device");
	CU_ASSERT_STRING_EQUAL(r->user[0][1], "d-42");
	CU_ASSERT_STRING_EQUAL(r->user[1][0], "unit");
	CU_ASSERT_STRING_EQUAL(r->user[1][1], "\xC2\xB0" "C");
	CU_ASSERT_STRING_EQUAL(r->user[2][1], "again");
	/* The broker forwards the remaining lifetime. */
	CU_ASSERT(r->has_expiry && r->expiry > 0 && r->expiry <= 120);
	tc_disconnect(t);
	tc_free(t);
}

/* With a window of 2, never more than 2 are unacknowledged, and all 20
 * arrive acknowledged in order. */
static void
test_window_mosquitto(void)
{
	struct tc *t = tc_new(SIM_MQTT_V311, "win", true);
	char topic[96];
	uint16_t first = 0, id;
	int i;

	t->cfg.max_inflight = 2;
	CU_ASSERT_FATAL(tc_connect(t, broker_port));
	snprintf(topic, sizeof(topic), "fleetsim/%u/win", run_id);
	for (i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL(sim_mqtt_publish(t->c, topic, "w", 1, 1 + (i & 1), false, NULL, &id), SIM_OK);
		if (i == 0)
			first = id;
	}
	CU_ASSERT_EQUAL(sim_mqtt_inflight(t->c), 2);
	CU_ASSERT_EQUAL(sim_mqtt_pending(t->c), 20);
	WAIT_FOR(t->nacked >= 20, 5000);
	CU_ASSERT_EQUAL(t->nacked, 20);
	CU_ASSERT(t->max_inflight_at_ack <= 2);
	/* QoS 1 and 2 alternate, so acks may overtake; each id comes once. */
	for (i = 0; i < 20; i++) {
		int seen = 0;

		for (int j = 0; j < t->nacked && j < 256; j++)
			seen += t->acked[j] == (uint16_t)(first + i);
		CU_ASSERT_EQUAL(seen, 1);
	}
	CU_ASSERT_EQUAL(sim_mqtt_pending(t->c), 0);
	CU_ASSERT_EQUAL(sim_mqtt_inflight(t->c), 0);
	tc_disconnect(t);
	tc_free(t);
}

/* Messages published and then cut off by a crash are resent on the next
 * connection and reach a subscriber. */
static void
resume(int version, bool clean, const char *tag)
{
	struct tc *sub = tc_new(SIM_MQTT_V311, "sub", true);
	struct tc *pub = tc_new(version, tag, clean);
	struct sim_mqtt_stats st;
	char topic[96], payload[16];
	int i;

	pub->cfg.max_inflight = 5;
	snprintf(topic, sizeof(topic), "fleetsim/%u/resume/%s", run_id, tag);
	CU_ASSERT_FATAL(tc_connect(sub, broker_port));
	CU_ASSERT_FATAL(tc_subscribe(sub, topic, 1));
	CU_ASSERT_FATAL(tc_connect(pub, broker_port));
	/* Publish, then crash before the loop runs: the five the window lets
	 * out are written at once but their PUBACKs are never read, so they
	 * stay in flight and are resent; the other six never left. */
	for (i = 0; i < 10; i++) {
		snprintf(payload, sizeof(payload), "m%d", i);
		CU_ASSERT_EQUAL(sim_mqtt_publish(pub->c, topic, payload, strlen(payload), 1, false, NULL,
		    NULL), SIM_OK);
	}
	CU_ASSERT_EQUAL(sim_mqtt_inflight(pub->c), 5);
	sim_mqtt_abort(pub->c);
	CU_ASSERT_EQUAL(pub->closed, 1);
	CU_ASSERT_EQUAL(pub->why, SIM_MQTT_CLOSE_REQUESTED);
	CU_ASSERT_EQUAL(sim_mqtt_pending(pub->c), 10);
	/* Still queued while down, and QoS 0 is refused. */
	CU_ASSERT_EQUAL(sim_mqtt_publish(pub->c, topic, "m10", 3, 1, false, NULL, NULL), SIM_OK);
	CU_ASSERT_EQUAL(sim_mqtt_publish(pub->c, topic, "q0", 2, 0, false, NULL, NULL), SIM_ERR_NOTCONN);
	CU_ASSERT_EQUAL(sim_mqtt_pending(pub->c), 11);
	spin(100);
	CU_ASSERT_FATAL(tc_connect(pub, broker_port));
	CU_ASSERT_EQUAL(pub->session_present, !clean);
	WAIT_FOR(pub->nacked >= 11 && sub->nmsg >= 11, 5000);
	spin(200);
	CU_ASSERT_EQUAL(pub->nacked, 11);
	CU_ASSERT_EQUAL(sim_mqtt_pending(pub->c), 0);
	sim_mqtt_stats(pub->c, &st);
	CU_ASSERT_EQUAL(st.resent, 5);
	/* QoS 1 is at least once: the resent five may arrive twice. */
	CU_ASSERT(sub->nmsg >= 11 && sub->nmsg <= 16);
	for (i = 0; i <= 10; i++) {
		snprintf(payload, sizeof(payload), "m%d", i);
		if (i < 5) {
			CU_ASSERT(count_payload(sub, payload) >= 1 && count_payload(sub, payload) <= 2);
		} else {
			CU_ASSERT_EQUAL(count_payload(sub, payload), 1);
		}
	}
	tc_disconnect(pub);
	tc_disconnect(sub);
	tc_free(pub);
	tc_free(sub);
}

static void
test_resume_v311_session(void)
{
	resume(SIM_MQTT_V311, false, "r4s");
}

static void
test_resume_v5_session(void)
{
	resume(SIM_MQTT_V5, false, "r5s");
}

static void
test_resume_clean(void)
{
	resume(SIM_MQTT_V311, true, "r4c");
}

/* A v5 session with an expiry survives a plain DISCONNECT, and ends at
 * one that asks for it: the consumer relies on this not to leave the
 * broker queueing for it after a run. */
static void
test_end_session(void)
{
	struct tc *t = tc_new(SIM_MQTT_V5, "endsess", false);
	int closed;

	CU_ASSERT_FATAL(tc_connect(t, broker_port));
	CU_ASSERT_FALSE(t->session_present);
	tc_disconnect(t);
	CU_ASSERT_FATAL(tc_connect(t, broker_port));
	CU_ASSERT_TRUE(t->session_present);
	closed = t->closed;
	CU_ASSERT_EQUAL(sim_mqtt_disconnect_ex(t->c, true), SIM_OK);
	WAIT_FOR(t->closed > closed, 5000);
	CU_ASSERT_EQUAL(t->why, SIM_MQTT_CLOSE_REQUESTED);
	CU_ASSERT_FATAL(tc_connect(t, broker_port));
	CU_ASSERT_FALSE(t->session_present);
	CU_ASSERT_EQUAL(sim_mqtt_disconnect_ex(t->c, true), SIM_OK);
	WAIT_FOR(t->closed > closed + 1, 5000);
	tc_free(t);
}

static void
test_max_queued(void)
{
	struct tc *t = tc_new(SIM_MQTT_V311, "mq", true);

	t->cfg.max_queued = 3;
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(sim_mqtt_publish(t->c, "a/b", "x", 1, 1, false, NULL, NULL), SIM_OK);
	CU_ASSERT_EQUAL(sim_mqtt_publish(t->c, "a/b", "x", 1, 2, false, NULL, NULL), SIM_ERR_FULL);
	CU_ASSERT_EQUAL(sim_mqtt_publish(t->c, "a/+", "x", 1, 1, false, NULL, NULL), SIM_ERR_INVAL);
	CU_ASSERT_EQUAL(sim_mqtt_publish(t->c, "a/b", "x", 1, 3, false, NULL, NULL), SIM_ERR_INVAL);
	CU_ASSERT_EQUAL(sim_mqtt_pending(t->c), 3);
	CU_ASSERT_EQUAL(sim_mqtt_subscribe(t->c, "a/#", 1, NULL), SIM_ERR_NOTCONN);
	tc_free(t);     /* frees the queue too (ASan checks) */
}

static void
test_refused_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	struct tc *t = tc_new(SIM_MQTT_V311, "nope", true);
	uint16_t port;
	int fd;

	/* A port that was free a moment ago. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&sin, &sl) == 0);
	port = ntohs(sin.sin_port);
	close(fd);
	CU_ASSERT_FALSE(tc_connect(t, port));
	CU_ASSERT_EQUAL(t->closed, 1);
	CU_ASSERT_EQUAL(t->why, SIM_MQTT_CLOSE_CONNECT_FAIL);
	CU_ASSERT(strlen(t->detail) > 0);
	tc_free(t);
}

/* Mosquitto rejects a 3.1.1 empty client id without a clean session (it
 * assigns one under 5, so 5 is refused by the fake server below). */
static void
test_refused_v311(void)
{
	struct tc *t = calloc(1, sizeof(*t));

	CU_ASSERT_FATAL(t != NULL);
	t->cbs = (struct sim_mqtt_cbs){ .on_connected = on_connected, .on_closed = on_closed };
	t->cfg = (struct sim_mqtt_config){ .version = SIM_MQTT_V311, .keepalive_s = 30,
		.clean_session = false, .cbs = &t->cbs };
	CU_ASSERT_FATAL(sim_mqtt_client_new(base, &t->cfg, "", NULL, NULL, t, &t->c) == SIM_OK);
	CU_ASSERT_FALSE(tc_connect(t, broker_port));
	CU_ASSERT_EQUAL(t->closed, 1);
	CU_ASSERT_EQUAL(t->why, SIM_MQTT_CLOSE_REFUSED);
	CU_ASSERT_EQUAL(t->reason, 2);
	CU_ASSERT_STRING_EQUAL(t->detail, "CONNACK: identifier rejected");
	tc_free(t);
}

/* Keep-alive of 1 s with Mosquitto answering: PINGREQs go out and the
 * connection stays up. */
static void
test_keepalive_mosquitto(void)
{
	struct tc *t = tc_new(SIM_MQTT_V311, "ka", true);
	struct sim_mqtt_stats st;

	t->cfg.keepalive_s = 1;
	CU_ASSERT_FATAL(tc_connect(t, broker_port));
	spin(3500);
	CU_ASSERT(sim_mqtt_is_connected(t->c));
	CU_ASSERT_EQUAL(t->closed, 0);
	sim_mqtt_stats(t->c, &st);
	/* CONNECT plus about three PINGREQs; each answered. */
	CU_ASSERT(st.pkts_out >= 3 && st.pkts_out <= 6);
	CU_ASSERT_EQUAL(st.pkts_in, st.pkts_out);
	tc_disconnect(t);
	tc_free(t);
}

/* ---- a scripted fake server ---- */

enum scenario {
	SC_GARBAGE_FIRST,       /* answer CONNECT with a reserved packet type */
	SC_BAD_PUBLISH,         /* CONNACK, then PUBLISH with QoS 3 */
	SC_HUGE,                /* CONNACK, then a header announcing 256 MB */
	SC_WINDOW,              /* CONNACK (v5: Receive Maximum 3), never ack */
	SC_SILENT,              /* CONNACK, then ignore PINGREQ */
	SC_QOS2_IN,             /* send one QoS 2 message twice, then PUBREL */
	SC_SERVER_DISCONNECT,   /* v5: CONNACK, then DISCONNECT 0x8B with a reason string */
	SC_REFUSE,              /* v5: CONNACK 0x86 (bad user name or password) */
};

struct fake {
	enum scenario sc;
	int version;
	struct evconnlistener *l;
	struct bufferevent *bev;
	uint16_t port;
	uint8_t rx[16384];
	size_t nrx;
	int counts[16];         /* packets received by type */
	uint16_t pub_ids[64];
	int npub;
	uint64_t ping_at_ms;
};

static void
fake_send(struct fake *f, const void *b, size_t n)
{
	if (f->bev != NULL)
		bufferevent_write(f->bev, b, n);
}

static void
fake_packet(struct fake *f, const struct sim_mqtt_pkt *p)
{
	static const uint8_t connack4[] = { 0x20, 0x02, 0x00, 0x00 };
	static const uint8_t connack5[] = { 0x20, 0x03, 0x00, 0x00, 0x00 };
	static const uint8_t connack5_rm3[] = { 0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x03 };
	bool v5 = f->version == SIM_MQTT_V5;

	f->counts[p->type]++;
	if (p->type == SIM_MQTT_PUBLISH && f->npub < 64)
		f->pub_ids[f->npub++] = p->publish.packet_id;
	if (p->type == SIM_MQTT_PINGREQ && f->ping_at_ms == 0)
		f->ping_at_ms = mono_ms();
	if (p->type == SIM_MQTT_PUBREC && f->counts[SIM_MQTT_PUBREC] == 2) {
		static const uint8_t pubrel[] = { 0x62, 0x02, 0x00, 0x05 };

		fake_send(f, pubrel, sizeof(pubrel));
	}
	if (p->type != SIM_MQTT_CONNECT)
		return;
	switch (f->sc) {
	case SC_REFUSE: {
		static const uint8_t g[] = { 0x20, 0x03, 0x00, 0x86, 0x00 };

		fake_send(f, g, sizeof(g));
		return;
	}
	case SC_GARBAGE_FIRST: {
		static const uint8_t g[] = { 0x00, 0x00 };

		fake_send(f, g, sizeof(g));
		return;
	}
	case SC_WINDOW:
		if (v5)
			fake_send(f, connack5_rm3, sizeof(connack5_rm3));
		else
			fake_send(f, connack4, sizeof(connack4));
		return;
	default:
		break;
	}
	if (v5)
		fake_send(f, connack5, sizeof(connack5));
	else
		fake_send(f, connack4, sizeof(connack4));
	switch (f->sc) {
	case SC_BAD_PUBLISH: {
		static const uint8_t g[] = { 0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01 };

		fake_send(f, g, sizeof(g));
		break;
	}
	case SC_HUGE: {
		static const uint8_t g[] = { 0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0x00 };

		fake_send(f, g, sizeof(g));
		break;
	}
	case SC_QOS2_IN: {
		static const uint8_t g[] = {
			0x34, 0x08, 0x00, 0x03, 'q', '/', '2', 0x00, 0x05, 'X',
			0x3C, 0x08, 0x00, 0x03, 'q', '/', '2', 0x00, 0x05, 'X',   /* DUP */
		};

		fake_send(f, g, sizeof(g));
		break;
	}
	case SC_SERVER_DISCONNECT: {
		static const uint8_t g[] = { 0xE0, 0x08, 0x8B, 0x06, 0x1F, 0x00, 0x03, 'b', 'y', 'e' };

		fake_send(f, g, sizeof(g));
		break;
	}
	default:
		break;
	}
}

static void
fake_read(struct bufferevent *bev, void *arg)
{
	struct fake *f = arg;
	size_t off = 0;

	f->nrx += bufferevent_read(bev, f->rx + f->nrx, sizeof(f->rx) - f->nrx);
	for (int guard = 0; guard < 1000 && off < f->nrx; guard++) {
		struct sim_mqtt_pkt p;
		size_t used;

		if (sim_mqtt_decode(f->rx + off, f->nrx - off, f->version, 0, &p, &used) != SIM_OK)
			break;
		off += used;
		fake_packet(f, &p);
	}
	memmove(f->rx, f->rx + off, f->nrx - off);
	f->nrx -= off;
}

static void
fake_event(struct bufferevent *bev, short what, void *arg)
{
	struct fake *f = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		bufferevent_free(f->bev);
		f->bev = NULL;
	}
}

static void
fake_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int socklen, void *arg)
{
	struct fake *f = arg;

	if (f->bev != NULL) {
		close(fd);
		return;
	}
	f->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(f->bev, fake_read, NULL, fake_event, f);
	bufferevent_enable(f->bev, EV_READ | EV_WRITE);
}

static struct fake *
fake_new(enum scenario sc, int version)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	struct fake *f = calloc(1, sizeof(*f));

	CU_ASSERT_FATAL(f != NULL);
	f->sc = sc;
	f->version = version;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->l = evconnlistener_new_bind(base, fake_accept, f, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
	    16, (struct sockaddr *)&sin, sizeof(sin));
	CU_ASSERT_FATAL(f->l != NULL);
	CU_ASSERT_FATAL(getsockname(evconnlistener_get_fd(f->l), (struct sockaddr *)&sin, &sl) == 0);
	f->port = ntohs(sin.sin_port);
	return f;
}

static void
fake_free(struct fake *f)
{
	if (f->bev != NULL)
		bufferevent_free(f->bev);
	evconnlistener_free(f->l);
	free(f);
}

/* A misbehaving server: the client closes with PROTO, counts one decode
 * error, and may be freed from on_closed. */
static void
garbage(enum scenario sc, int version, bool expect_connected, bool free_in_cb)
{
	struct fake *f = fake_new(sc, version);
	struct tc *t = tc_new(version, "garbage", true);
	struct sim_mqtt_stats st;

	t->cfg.max_packet = 4096;
	tc_connect(t, f->port);
	WAIT_FOR(t->closed > 0, 3000);
	CU_ASSERT_EQUAL(t->connected, expect_connected ? 1 : 0);
	CU_ASSERT_EQUAL(t->closed, 1);
	CU_ASSERT_EQUAL(t->why, SIM_MQTT_CLOSE_PROTO);
	CU_ASSERT(strlen(t->detail) > 0);
	sim_mqtt_stats(t->c, &st);
	CU_ASSERT_EQUAL(st.decode_errors, 1);
	CU_ASSERT_FALSE(sim_mqtt_is_connected(t->c));
	if (free_in_cb) {
		/* Do it again, freeing the client inside on_closed. */
		tc_free(t);
		fake_free(f);
		f = fake_new(sc, version);
		t = tc_new(version, "garbage2", true);
		t->cfg.max_packet = 4096;
		t->free_on_close = true;
		tc_connect(t, f->port);
		WAIT_FOR(t->closed > 0, 3000);
		CU_ASSERT_EQUAL(t->closed, 1);
		CU_ASSERT_EQUAL(t->why, SIM_MQTT_CLOSE_PROTO);
		CU_ASSERT_PTR_NULL(t->c);
	}
	/* The v5 client says why before closing. */
	if (version == SIM_MQTT_V5 && expect_connected) {
		WAIT_FOR(f->counts[SIM_MQTT_DISCONNECT] > 0, 1000);
		CU_ASSERT_EQUAL(f->counts[SIM_MQTT_DISCONNECT], 1);
	}
	tc_free(t);
	fake_free(f);
}

static void
test_garbage_first(void)
{
	garbage(SC_GARBAGE_FIRST, SIM_MQTT_V311, false, true);
	garbage(SC_GARBAGE_FIRST, SIM_MQTT_V5, false, false);
}

static void
test_garbage_qos3(void)
{
	garbage(SC_BAD_PUBLISH, SIM_MQTT_V311, true, false);
	garbage(SC_BAD_PUBLISH, SIM_MQTT_V5, true, true);
}

static void
test_garbage_huge(void)
{
	garbage(SC_HUGE, SIM_MQTT_V311, true, false);
	garbage(SC_HUGE, SIM_MQTT_V5, true, false);
}

/* The fake server never acknowledges: exactly the window is sent, and one
 * acknowledgement lets exactly one more through. v5 also honours the
 * server's Receive Maximum (3) below our own window (10). */
static void
window_fake(int version, uint16_t max_inflight, int expect)
{
	struct fake *f = fake_new(SC_WINDOW, version);
	struct tc *t = tc_new(version, "winfake", true);
	uint8_t ack[4] = { 0x40, 0x02, 0, 0 };

	t->cfg.max_inflight = max_inflight;
	CU_ASSERT_FATAL(tc_connect(t, f->port));
	for (int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(sim_mqtt_publish(t->c, "w/f", "x", 1, 1, false, NULL, NULL), SIM_OK);
	spin(300);
	CU_ASSERT_EQUAL(f->counts[SIM_MQTT_PUBLISH], expect);
	CU_ASSERT_EQUAL(sim_mqtt_inflight(t->c), (size_t)expect);
	CU_ASSERT_EQUAL(sim_mqtt_pending(t->c), 8);
	ack[2] = f->pub_ids[0] >> 8;
	ack[3] = f->pub_ids[0] & 0xFF;
	fake_send(f, ack, sizeof(ack));
	WAIT_FOR(t->nacked == 1 && f->counts[SIM_MQTT_PUBLISH] > expect, 2000);
	spin(100);
	CU_ASSERT_EQUAL(t->nacked, 1);
	CU_ASSERT_EQUAL(t->acked[0], f->pub_ids[0]);
	CU_ASSERT_EQUAL(f->counts[SIM_MQTT_PUBLISH], expect + 1);
	CU_ASSERT_EQUAL(sim_mqtt_pending(t->c), 7);
	tc_free(t);
	fake_free(f);
}

static void
test_window_fake(void)
{
	window_fake(SIM_MQTT_V311, 2, 2);
	window_fake(SIM_MQTT_V5, 10, 3);
}

/* No PINGRESP: a PINGREQ goes out after about keepalive and the client
 * gives up about keepalive * 1.5 later. */
static void
test_keepalive_timeout(void)
{
	struct fake *f = fake_new(SC_SILENT, SIM_MQTT_V311);
	struct tc *t = tc_new(SIM_MQTT_V311, "kafake", true);
	uint64_t t0;

	t->cfg.keepalive_s = 1;
	CU_ASSERT_FATAL(tc_connect(t, f->port));
	t0 = mono_ms();
	WAIT_FOR(t->closed > 0, 5000);
	CU_ASSERT_EQUAL(t->closed, 1);
	CU_ASSERT_EQUAL(t->why, SIM_MQTT_CLOSE_KEEPALIVE);
	CU_ASSERT_EQUAL(f->counts[SIM_MQTT_PINGREQ], 1);
	CU_ASSERT(f->ping_at_ms >= t0 + 800 && f->ping_at_ms <= t0 + 1300);
	CU_ASSERT(mono_ms() - f->ping_at_ms >= 1400 && mono_ms() - f->ping_at_ms <= 2200);
	tc_free(t);
	fake_free(f);
}

/* An inbound QoS 2 message sent twice (the second with DUP) is delivered
 * once; both get PUBREC, and PUBREL gets PUBCOMP. */
static void
test_qos2_inbound(void)
{
	struct fake *f = fake_new(SC_QOS2_IN, SIM_MQTT_V311);
	struct tc *t = tc_new(SIM_MQTT_V311, "q2in", true);

	CU_ASSERT_FATAL(tc_connect(t, f->port));
	WAIT_FOR(f->counts[SIM_MQTT_PUBCOMP] > 0, 3000);
	spin(100);
	CU_ASSERT_EQUAL(t->nmsg, 1);
	CU_ASSERT_STRING_EQUAL(t->msgs[0].topic, "q/2");
	CU_ASSERT_STRING_EQUAL(t->msgs[0].payload, "X");
	CU_ASSERT_EQUAL(t->msgs[0].qos, 2);
	CU_ASSERT_EQUAL(f->counts[SIM_MQTT_PUBREC], 2);
	CU_ASSERT_EQUAL(f->counts[SIM_MQTT_PUBCOMP], 1);
	CU_ASSERT(sim_mqtt_is_connected(t->c));
	tc_free(t);
	fake_free(f);
}

static void
test_server_disconnect(void)
{
	struct fake *f = fake_new(SC_SERVER_DISCONNECT, SIM_MQTT_V5);
	struct tc *t = tc_new(SIM_MQTT_V5, "srvdisc", true);

	tc_connect(t, f->port);
	WAIT_FOR(t->closed > 0, 3000);
	CU_ASSERT_EQUAL(t->connected, 1);
	CU_ASSERT_EQUAL(t->closed, 1);
	CU_ASSERT_EQUAL(t->why, SIM_MQTT_CLOSE_SERVER);
	CU_ASSERT_EQUAL(t->reason, 0x8B);
	CU_ASSERT(strstr(t->detail, "server shutting down") != NULL);
	CU_ASSERT(strstr(t->detail, "bye") != NULL);
	tc_free(t);
	fake_free(f);
}

static void
test_refused_v5(void)
{
	struct fake *f = fake_new(SC_REFUSE, SIM_MQTT_V5);
	struct tc *t = tc_new(SIM_MQTT_V5, "refuse5", true);

	CU_ASSERT_FALSE(tc_connect(t, f->port));
	CU_ASSERT_EQUAL(t->closed, 1);
	CU_ASSERT_EQUAL(t->why, SIM_MQTT_CLOSE_REFUSED);
	CU_ASSERT_EQUAL(t->reason, 0x86);
	CU_ASSERT_STRING_EQUAL(t->detail, "CONNACK: bad user name or password");
	tc_free(t);
	fake_free(f);
}

/* ---- suite ---- */

static int
suite_init(void)
{
	struct sim_broker_opts o = { 0 };
	struct sim_diag d = { { 0 } };

	run_id = (unsigned)getpid();
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (base == NULL)
		return 1;
	if (access("/usr/sbin/mosquitto", X_OK) == 0)
		o.mosquitto = "/usr/sbin/mosquitto";
	if (sim_broker_start(&o, &broker, &d) != SIM_OK) {
		fprintf(stderr, "cannot start mosquitto: %s\n", d.msg);
		return 1;
	}
	broker_port = sim_broker_port(broker);
	return 0;
}

static int
suite_clean(void)
{
	sim_broker_free(broker);
	broker = NULL;
	if (base != NULL)
		event_base_free(base);
	base = NULL;
	return 0;
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "connect 3.1.1", test_connect_v311 },
		{ "connect 5", test_connect_v5 },
		{ "publish to self QoS 0/1/2, 3.1.1", test_pubsub_v311 },
		{ "publish to self QoS 0/1/2, 5", test_pubsub_v5 },
		{ "v5 properties arrive intact", test_v5_properties },
		{ "in-flight window (mosquitto)", test_window_mosquitto },
		{ "in-flight window and Receive Maximum (fake)", test_window_fake },
		{ "resume after crash, 3.1.1 session", test_resume_v311_session },
		{ "resume after crash, 5 session", test_resume_v5_session },
		{ "resend after crash, clean session", test_resume_clean },
		{ "v5 DISCONNECT ends the session on request", test_end_session },
		{ "max_queued and argument checks", test_max_queued },
		{ "connection refused (closed port)", test_refused_port },
		{ "CONNACK refused 3.1.1", test_refused_v311 },
		{ "CONNACK refused 5 (fake)", test_refused_v5 },
		{ "keep-alive with mosquitto", test_keepalive_mosquitto },
		{ "keep-alive timeout (fake)", test_keepalive_timeout },
		{ "garbage instead of CONNACK", test_garbage_first },
		{ "PUBLISH with QoS 3", test_garbage_qos3 },
		{ "oversized packet", test_garbage_huge },
		{ "inbound QoS 2 exactly once", test_qos2_inbound },
		{ "server DISCONNECT (5)", test_server_disconnect },
		{ NULL, NULL },
	};

	return fs_test_main_fixture("mqtt_client", suite_init, suite_clean, tests);
}
