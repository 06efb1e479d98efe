/* Tests for the MQTT codec: spec byte vectors, round trips of every packet
 * type under both versions, partial input and a corpus of malformed input. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_test.h"
#include "mqtt_codec.h"

#define V4 SIM_MQTT_PROTO_V311
#define V5 SIM_MQTT_PROTO_V5
#define BIT(id) SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_##id)
#define S(lit) ((struct sim_mqtt_str){ (lit), sizeof(lit) - 1 })
#define B(lit) ((struct sim_mqtt_bin){ (const uint8_t *)(lit), sizeof(lit) - 1 })

static bool
seq(struct sim_mqtt_str s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

/* Encodes p, checks the length query agrees, decodes it back and checks it
 * equals p; then every strict prefix must be AGAIN (with the full size once
 * the fixed header is complete), and the decoded packet must re-encode to
 * the same bytes. */
static void
roundtrip(const struct sim_mqtt_pkt *p, int version)
{
	uint8_t buf[4096], buf2[4096];
	struct sim_mqtt_pkt d;
	size_t len = 0, len2 = 0, qlen = 0, used = 0;
	enum sim_err err;

	err = sim_mqtt_encode(p, version, buf, sizeof(buf), &len);
	CU_ASSERT_EQUAL_FATAL(err, SIM_OK);
	CU_ASSERT_EQUAL(sim_mqtt_encoded_len(p, version, &qlen), SIM_OK);
	CU_ASSERT_EQUAL(qlen, len);
	err = sim_mqtt_decode(buf, len, version, 0, &d, &used);
	if (err != SIM_OK)
		fprintf(stderr, "\n%s v%d: decode -> %s\n", sim_mqtt_type_name(p->type), version,
		    sim_err_str(err));
	CU_ASSERT_EQUAL_FATAL(err, SIM_OK);
	CU_ASSERT_EQUAL(used, len);
	CU_ASSERT_EQUAL(d.type, p->type);
	CU_ASSERT(sim_mqtt_pkt_equal(p, &d, version));
	CU_ASSERT(sim_mqtt_pkt_equal(&d, p, version));
	CU_ASSERT_EQUAL(sim_mqtt_encode(&d, version, buf2, sizeof(buf2), &len2), SIM_OK);
	CU_ASSERT_EQUAL(len2, len);
	CU_ASSERT(memcmp(buf, buf2, len) == 0);
	/* Too small a buffer is TOOBIG and reports the size needed. */
	CU_ASSERT_EQUAL(sim_mqtt_encode(p, version, buf2, len - 1, &len2), SIM_ERR_TOOBIG);
	CU_ASSERT_EQUAL(len2, len);
	for (size_t k = 0; k < len; k++) {
		size_t hdr = len < 128 + 2 ? 2 : 3;

		used = 12345;
		err = sim_mqtt_decode(buf, k, version, 0, &d, &used);
		CU_ASSERT_EQUAL(err, SIM_ERR_AGAIN);
		if (k >= hdr)
			CU_ASSERT_EQUAL(used, len);
		if (k < hdr)
			CU_ASSERT_EQUAL(used, 0);
	}
	/* A max_packet one byte short of the packet is TOOBIG. */
	CU_ASSERT_EQUAL(sim_mqtt_decode(buf, len, version, (uint32_t)len - 1, &d, &used), SIM_ERR_TOOBIG);
	CU_ASSERT_EQUAL(sim_mqtt_decode(buf, len, version, (uint32_t)len, &d, &used), SIM_OK);
}

static struct sim_mqtt_pkt
pkt(enum sim_mqtt_type t)
{
	struct sim_mqtt_pkt p;

	memset(&p, 0, sizeof(p));
	p.type = t;
	return p;
}

/* ---- known vectors ---- */

static void
test_vector_connect_311(void)
{
	/* Hand-checked against MQTT 3.1.1 section 3.1: protocol name, level 4,
	 * flags 0xCE (user, password, will QoS 1, will, clean session) as in the
	 * spec's example, keep alive 10, then client id, will topic, will
	 * message, user name, password. */
	static const uint8_t v[] = { 0x10, 0x19, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xCE, 0x00,
		0x0A, 0x00, 0x01, 'c', 0x00, 0x01, 'w', 0x00, 0x01, 'm', 0x00, 0x01, 'u', 0x00,
		0x01, 'p' };
	struct sim_mqtt_pkt p = pkt(SIM_MQTT_CONNECT), d;
	uint8_t buf[64];
	size_t len, used;

	p.connect.clean_start = true;
	p.connect.keepalive = 10;
	p.connect.client_id = S("c");
	p.connect.will = true;
	p.connect.will_qos = 1;
	p.connect.will_topic = S("w");
	p.connect.will_payload = B("m");
	p.connect.has_username = p.connect.has_password = true;
	p.connect.username = S("u");
	p.connect.password = B("p");
	CU_ASSERT_EQUAL_FATAL(sim_mqtt_encode(&p, V4, buf, sizeof(buf), &len), SIM_OK);
	CU_ASSERT_EQUAL(len, sizeof(v));
	CU_ASSERT(memcmp(buf, v, sizeof(v)) == 0);
	CU_ASSERT_EQUAL_FATAL(sim_mqtt_decode(v, sizeof(v), V4, 0, &d, &used), SIM_OK);
	CU_ASSERT_EQUAL(d.connect.version, 4);
	CU_ASSERT_EQUAL(d.connect.keepalive, 10);
	CU_ASSERT(d.connect.clean_start && d.connect.will && d.connect.will_qos == 1 && !d.connect.will_retain);
	CU_ASSERT(seq(d.connect.client_id, "c") && seq(d.connect.will_topic, "w"));
	CU_ASSERT(seq(d.connect.username, "u"));
	CU_ASSERT(d.connect.password.len == 1 && d.connect.password.ptr[0] == 'p');
	/* Zero-copy: views point into the input. */
	CU_ASSERT(d.connect.client_id.ptr == (const char *)v + 14);
}

static void
test_vector_connect_v5(void)
{
	/* MQTT 5 section 3.1.2.11: properties follow keep alive; here Session
	 * Expiry Interval (0x11) = 120 and Receive Maximum (0x21) = 20. */
	static const uint8_t v[] = { 0x10, 0x18, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x00, 0x00,
		0x3C, 0x08, 0x11, 0x00, 0x00, 0x00, 0x78, 0x21, 0x00, 0x14, 0x00, 0x03, 'a', 'b', 'c' };
	struct sim_mqtt_pkt p = pkt(SIM_MQTT_CONNECT), d;
	uint8_t buf[64];
	size_t len, used;

	p.connect.keepalive = 60;
	p.connect.client_id = S("abc");
	p.props.present = BIT(SESSION_EXPIRY) | BIT(RECEIVE_MAX);
	p.props.session_expiry = 120;
	p.props.receive_max = 20;
	CU_ASSERT_EQUAL_FATAL(sim_mqtt_encode(&p, V5, buf, sizeof(buf), &len), SIM_OK);
	CU_ASSERT_EQUAL(len, sizeof(v));
	CU_ASSERT(memcmp(buf, v, sizeof(v)) == 0);
	CU_ASSERT_EQUAL_FATAL(sim_mqtt_decode(v, sizeof(v), V4, 0, &d, &used), SIM_OK);
	CU_ASSERT_EQUAL(d.connect.version, 5);
	CU_ASSERT_EQUAL(d.props.session_expiry, 120);
	CU_ASSERT_EQUAL(d.props.receive_max, 20);
	CU_ASSERT(!d.connect.clean_start);
}

static void
test_vector_publish(void)
{
	/* MQTT 3.1.1 section 3.3.2.3's example: topic "a/b", packet id 10,
	 * QoS 1 (first byte 0x32), payload "hi". */
	static const uint8_t v[] = { 0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'h', 'i' };
	/* The same under MQTT 5 with a zero property length. */
	static const uint8_t v5[] = { 0x32, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 0x00, 'h', 'i' };
	struct sim_mqtt_pkt p = pkt(SIM_MQTT_PUBLISH), d;
	uint8_t buf[64];
	size_t len, used;

	p.publish.topic = S("a/b");
	p.publish.qos = 1;
	p.publish.packet_id = 10;
	p.publish.payload = B("hi");
	CU_ASSERT_EQUAL_FATAL(sim_mqtt_encode(&p, V4, buf, sizeof(buf), &len), SIM_OK);
	CU_ASSERT_EQUAL(len, sizeof(v));
	CU_ASSERT(memcmp(buf, v, sizeof(v)) == 0);
	CU_ASSERT_EQUAL_FATAL(sim_mqtt_encode(&p, V5, buf, sizeof(buf), &len), SIM_OK);
	CU_ASSERT_EQUAL(len, sizeof(v5));
	CU_ASSERT(memcmp(buf, v5, sizeof(v5)) == 0);
	CU_ASSERT_EQUAL_FATAL(sim_mqtt_decode(v, sizeof(v), V4, 0, &d, &used), SIM_OK);
	CU_ASSERT_EQUAL(used, sizeof(v));
	CU_ASSERT(seq(d.publish.topic, "a/b"));
	CU_ASSERT_EQUAL(d.publish.packet_id, 10);
	CU_ASSERT_EQUAL(d.publish.qos, 1);
	CU_ASSERT(d.publish.payload.len == 2 && d.publish.payload.ptr == v + 9);
}

static void
test_vector_small(void)
{
	static const struct {
		int version;
		struct sim_mqtt_pkt p;
		uint8_t bytes[8];
		size_t len;
	} cases[] = {
		{ V4, { .type = SIM_MQTT_PINGREQ }, { 0xC0, 0x00 }, 2 },
		{ V4, { .type = SIM_MQTT_PINGRESP }, { 0xD0, 0x00 }, 2 },
		{ V4, { .type = SIM_MQTT_DISCONNECT }, { 0xE0, 0x00 }, 2 },
		{ V5, { .type = SIM_MQTT_DISCONNECT }, { 0xE0, 0x00 }, 2 },
		{ V5, { .type = SIM_MQTT_DISCONNECT, .disconnect.reason = 0x04 }, { 0xE0, 0x01, 0x04 }, 3 },
		{ V5, { .type = SIM_MQTT_AUTH }, { 0xF0, 0x00 }, 2 },
		{ V4, { .type = SIM_MQTT_PUBACK, .ack.packet_id = 1 }, { 0x40, 0x02, 0x00, 0x01 }, 4 },
		{ V5, { .type = SIM_MQTT_PUBACK, .ack.packet_id = 1 }, { 0x40, 0x02, 0x00, 0x01 }, 4 },
		{ V5, { .type = SIM_MQTT_PUBACK, .ack = { 1, 0x10 } }, { 0x40, 0x03, 0x00, 0x01, 0x10 }, 5 },
		{ V4, { .type = SIM_MQTT_PUBREL, .ack.packet_id = 0x1234 }, { 0x62, 0x02, 0x12, 0x34 }, 4 },
		{ V4, { .type = SIM_MQTT_CONNACK, .connack = { true, 0 } }, { 0x20, 0x02, 0x01, 0x00 }, 4 },
		{ V5, { .type = SIM_MQTT_CONNACK, .connack = { false, 0x86 } },
		    { 0x20, 0x03, 0x00, 0x86, 0x00 }, 5 },
		{ V4, { .type = SIM_MQTT_UNSUBACK, .suback.packet_id = 9 }, { 0xB0, 0x02, 0x00, 0x09 }, 4 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[16];
		struct sim_mqtt_pkt d;
		size_t len, used;

		CU_ASSERT_EQUAL_FATAL(sim_mqtt_encode(&cases[i].p, cases[i].version, buf, sizeof(buf),
		    &len), SIM_OK);
		CU_ASSERT_EQUAL(len, cases[i].len);
		CU_ASSERT(memcmp(buf, cases[i].bytes, cases[i].len) == 0);
		CU_ASSERT_EQUAL(sim_mqtt_decode(cases[i].bytes, cases[i].len, cases[i].version, 0, &d,
		    &used), SIM_OK);
		CU_ASSERT(sim_mqtt_pkt_equal(&cases[i].p, &d, cases[i].version));
	}
}

/* Remaining Length boundaries of section 2.2.3 / 1.5.5. */
static void
test_vector_remaining_length(void)
{
	static const struct {
		size_t rem;
		uint8_t enc[4];
		size_t n;
	} cases[] = {
		{ 127, { 0x7F }, 1 },
		{ 128, { 0x80, 0x01 }, 2 },
		{ 16383, { 0xFF, 0x7F }, 2 },
		{ 16384, { 0x80, 0x80, 0x01 }, 3 },
		{ 2097151, { 0xFF, 0xFF, 0x7F }, 3 },
		{ 2097152, { 0x80, 0x80, 0x80, 0x01 }, 4 },
	};
	size_t cap = 2097152 + 16;
	uint8_t *buf = malloc(cap), *payload = calloc(1, cap);

	CU_ASSERT_FATAL(buf != NULL && payload != NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sim_mqtt_pkt p = pkt(SIM_MQTT_PUBLISH), d;
		size_t len, used, total;

		/* QoS 0 under 3.1.1: 2 + 1 topic bytes, the rest payload. */
		p.publish.topic = S("t");
		p.publish.payload.ptr = payload;
		p.publish.payload.len = cases[i].rem - 3;
		CU_ASSERT_EQUAL_FATAL(sim_mqtt_encode(&p, V4, buf, cap, &len), SIM_OK);
		CU_ASSERT_EQUAL(len, 1 + cases[i].n + cases[i].rem);
		CU_ASSERT(memcmp(buf + 1, cases[i].enc, cases[i].n) == 0);
		CU_ASSERT_EQUAL(sim_mqtt_peek(buf, 1 + cases[i].n, 0, &total), SIM_OK);
		CU_ASSERT_EQUAL(total, len);
		CU_ASSERT_EQUAL(sim_mqtt_peek(buf, cases[i].n, 0, &total), SIM_ERR_AGAIN);
		CU_ASSERT_EQUAL(sim_mqtt_decode(buf, len, V4, 0, &d, &used), SIM_OK);
		CU_ASSERT_EQUAL(d.publish.payload.len, cases[i].rem - 3);
	}
	free(buf);
	free(payload);
}

/* ---- round trips ---- */

static const struct sim_mqtt_user_prop users[] = {
	{ "k1", 2, "v1", 2 }, { "k2", 2, "", 0 }, { "k1", 2, "dup key is fine", 15 },
};

static void
test_roundtrip_311(void)
{
	static const struct sim_mqtt_sub subs[] = {
		{ { "a/+/c", 5 }, 1 }, { { "d/#", 3 }, 2 }, { { "#", 1 }, 0 },
	};
	static const uint8_t codes[] = { 0x00, 0x01, 0x02, 0x80 };
	struct sim_mqtt_pkt p;

	p = pkt(SIM_MQTT_CONNECT);
	p.connect.clean_start = true;
	p.connect.keepalive = 65535;
	p.connect.client_id = S("dev-1");
	roundtrip(&p, V4);
	p.connect.will = true;
	p.connect.will_qos = 2;
	p.connect.will_retain = true;
	p.connect.will_topic = S("wills/dev-1");
	p.connect.will_payload = B("gone\0binary");
	p.connect.has_username = true;
	p.connect.username = S("user");
	p.connect.has_password = true;
	p.connect.password = B("\x01\x02\x00pw");
	roundtrip(&p, V4);
	p.connect.client_id = S("");
	roundtrip(&p, V4);

	p = pkt(SIM_MQTT_CONNACK);
	roundtrip(&p, V4);
	p.connack.session_present = true;
	roundtrip(&p, V4);
	p.connack.session_present = false;
	p.connack.reason = 5;
	roundtrip(&p, V4);

	p = pkt(SIM_MQTT_PUBLISH);
	p.publish.topic = S("devices/ü/telemetry");
	p.publish.payload = B("{\"t\":21.5}");
	roundtrip(&p, V4);
	p.publish.payload = B("");
	p.publish.retain = true;
	roundtrip(&p, V4);
	for (uint8_t q = 1; q <= 2; q++) {
		p.publish.qos = q;
		p.publish.packet_id = 65535;
		p.publish.dup = true;
		roundtrip(&p, V4);
	}

	for (int t = SIM_MQTT_PUBACK; t <= SIM_MQTT_PUBCOMP; t++) {
		p = pkt((enum sim_mqtt_type)t);
		p.ack.packet_id = 77;
		roundtrip(&p, V4);
	}

	p = pkt(SIM_MQTT_SUBSCRIBE);
	p.subscribe.packet_id = 3;
	p.subscribe.topics.v = subs;
	p.subscribe.topics.n = 3;
	roundtrip(&p, V4);
	p.type = SIM_MQTT_UNSUBSCRIBE;
	roundtrip(&p, V4);

	p = pkt(SIM_MQTT_SUBACK);
	p.suback.packet_id = 3;
	p.suback.codes = codes;
	p.suback.ncodes = sizeof(codes);
	roundtrip(&p, V4);
	p = pkt(SIM_MQTT_UNSUBACK);
	p.suback.packet_id = 3;
	roundtrip(&p, V4);

	p = pkt(SIM_MQTT_PINGREQ);
	roundtrip(&p, V4);
	p = pkt(SIM_MQTT_PINGRESP);
	roundtrip(&p, V4);
	p = pkt(SIM_MQTT_DISCONNECT);
	roundtrip(&p, V4);
}

static void
test_roundtrip_v5(void)
{
	static const struct sim_mqtt_sub subs[] = {
		{ { "a/+/c", 5 }, 1 | SIM_MQTT_SUB_NO_LOCAL | SIM_MQTT_SUB_RETAIN_AS_PUBLISHED },
		{ { "$share/g/d/#", 12 }, 2 | (2 << SIM_MQTT_SUB_RETAIN_HANDLING_SHIFT) },
	};
	static const uint32_t sub_ids[] = { 1, 268435455, 300 };
	static const uint8_t subcodes[] = { 0x00, 0x01, 0x02, 0x80, 0x87, 0xA2 };
	static const uint8_t unsubcodes[] = { 0x00, 0x11, 0x8F };
	struct sim_mqtt_pkt p;

	p = pkt(SIM_MQTT_CONNECT);
	p.connect.clean_start = true;
	p.connect.keepalive = 30;
	p.connect.client_id = S("dev-5");
	roundtrip(&p, V5);
	p.props.present = BIT(SESSION_EXPIRY) | BIT(RECEIVE_MAX) | BIT(MAX_PACKET_SIZE) |
	    BIT(TOPIC_ALIAS_MAX) | BIT(REQUEST_PROBLEM_INFO) | BIT(REQUEST_RESPONSE_INFO) |
	    BIT(AUTH_METHOD) | BIT(AUTH_DATA);
	p.props.session_expiry = 0xFFFFFFFF;
	p.props.receive_max = 100;
	p.props.max_packet_size = 1 << 20;
	p.props.topic_alias_max = 10;
	p.props.request_problem_info = 0;
	p.props.request_response_info = 1;
	p.props.auth_method = S("SCRAM-SHA-1");
	p.props.auth_data = B("\x00\x01");
	p.props.user = users;
	p.props.nuser = 3;
	p.connect.will = true;
	p.connect.will_qos = 1;
	p.connect.will_topic = S("w/5");
	p.connect.will_payload = B("bye");
	p.connect.will_props.present = BIT(WILL_DELAY) | BIT(PAYLOAD_FORMAT) | BIT(MESSAGE_EXPIRY) |
	    BIT(CONTENT_TYPE) | BIT(RESPONSE_TOPIC) | BIT(CORRELATION);
	p.connect.will_props.will_delay = 5;
	p.connect.will_props.payload_format = 1;
	p.connect.will_props.message_expiry = 3600;
	p.connect.will_props.content_type = S("text/plain");
	p.connect.will_props.response_topic = S("r/5");
	p.connect.will_props.correlation = B("corr");
	p.connect.will_props.user = users;
	p.connect.will_props.nuser = 1;
	p.connect.has_password = true;  /* allowed without a user name in 5 */
	p.connect.password = B("secret");
	roundtrip(&p, V5);

	p = pkt(SIM_MQTT_CONNACK);
	roundtrip(&p, V5);
	p.connack.session_present = true;
	p.props.present = BIT(SESSION_EXPIRY) | BIT(ASSIGNED_CLIENT_ID) | BIT(SERVER_KEEPALIVE) |
	    BIT(RECEIVE_MAX) | BIT(TOPIC_ALIAS_MAX) | BIT(MAX_QOS) | BIT(RETAIN_AVAILABLE) |
	    BIT(MAX_PACKET_SIZE) | BIT(WILDCARD_SUB_AVAILABLE) | BIT(SUB_ID_AVAILABLE) |
	    BIT(SHARED_SUB_AVAILABLE) | BIT(REASON_STRING) | BIT(SERVER_REFERENCE) |
	    BIT(RESPONSE_INFO) | BIT(AUTH_METHOD) | BIT(AUTH_DATA);
	p.props.session_expiry = 10;
	p.props.assigned_client_id = S("auto-1234");
	p.props.server_keepalive = 20;
	p.props.receive_max = 5;
	p.props.topic_alias_max = 0;
	p.props.max_qos = 1;
	p.props.retain_available = 0;
	p.props.max_packet_size = 65536;
	p.props.wildcard_sub_available = 1;
	p.props.sub_id_available = 0;
	p.props.shared_sub_available = 1;
	p.props.reason_string = S("welcome");
	p.props.server_reference = S("other:1883");
	p.props.response_info = S("resp/");
	p.props.auth_method = S("m");
	p.props.auth_data = B("d");
	p.props.user = users;
	p.props.nuser = 2;
	roundtrip(&p, V5);
	p.connack.session_present = false;
	p.connack.reason = 0x87;
	roundtrip(&p, V5);

	p = pkt(SIM_MQTT_PUBLISH);
	p.publish.topic = S("t/1");
	p.publish.payload = B("x");
	roundtrip(&p, V5);
	p.props.present = BIT(PAYLOAD_FORMAT) | BIT(MESSAGE_EXPIRY) | BIT(CONTENT_TYPE) |
	    BIT(RESPONSE_TOPIC) | BIT(CORRELATION) | BIT(TOPIC_ALIAS);
	p.props.payload_format = 1;
	p.props.message_expiry = 0;
	p.props.content_type = S("application/json");
	p.props.response_topic = S("reply/dev-5");
	p.props.correlation = B("\x00\xff\x10");
	p.props.topic_alias = 7;
	p.props.sub_ids = sub_ids;
	p.props.nsub_ids = 3;
	p.props.user = users;
	p.props.nuser = 3;
	for (uint8_t q = 0; q <= 2; q++) {
		p.publish.qos = q;
		p.publish.packet_id = q ? 4242 : 0;
		roundtrip(&p, V5);
	}
	/* An empty topic with a topic alias (3.3.2.3.4). */
	p.publish.topic = S("");
	roundtrip(&p, V5);

	for (int t = SIM_MQTT_PUBACK; t <= SIM_MQTT_PUBCOMP; t++) {
		p = pkt((enum sim_mqtt_type)t);
		p.ack.packet_id = 77;
		roundtrip(&p, V5);      /* short form */
		p.ack.reason = (t == SIM_MQTT_PUBREL || t == SIM_MQTT_PUBCOMP) ? 0x92 : 0x97;
		roundtrip(&p, V5);      /* reason, no properties */
		p.props.present = BIT(REASON_STRING);
		p.props.reason_string = S("quota");
		p.props.user = users;
		p.props.nuser = 1;
		roundtrip(&p, V5);
		p.ack.reason = 0;
		roundtrip(&p, V5);      /* success with properties */
	}

	p = pkt(SIM_MQTT_SUBSCRIBE);
	p.subscribe.packet_id = 1;
	p.subscribe.topics.v = subs;
	p.subscribe.topics.n = 2;
	roundtrip(&p, V5);
	p.props.present = BIT(SUB_ID);
	p.props.sub_id = 99;
	p.props.user = users;
	p.props.nuser = 1;
	roundtrip(&p, V5);
	p = pkt(SIM_MQTT_UNSUBSCRIBE);
	p.subscribe.packet_id = 2;
	p.subscribe.topics.v = subs;
	p.subscribe.topics.n = 2;
	p.props.user = users;
	p.props.nuser = 2;
	roundtrip(&p, V5);

	p = pkt(SIM_MQTT_SUBACK);
	p.suback.packet_id = 1;
	p.suback.codes = subcodes;
	p.suback.ncodes = sizeof(subcodes);
	p.props.present = BIT(REASON_STRING);
	p.props.reason_string = S("partly");
	roundtrip(&p, V5);
	p = pkt(SIM_MQTT_UNSUBACK);
	p.suback.packet_id = 2;
	p.suback.codes = unsubcodes;
	p.suback.ncodes = sizeof(unsubcodes);
	roundtrip(&p, V5);

	p = pkt(SIM_MQTT_PINGREQ);
	roundtrip(&p, V5);
	p = pkt(SIM_MQTT_PINGRESP);
	roundtrip(&p, V5);

	p = pkt(SIM_MQTT_DISCONNECT);
	roundtrip(&p, V5);
	p.disconnect.reason = 0x8B;
	roundtrip(&p, V5);
	p.disconnect.reason = 0x9C;
	p.props.present = BIT(SESSION_EXPIRY) | BIT(REASON_STRING) | BIT(SERVER_REFERENCE);
	p.props.session_expiry = 0;
	p.props.reason_string = S("moving");
	p.props.server_reference = S("b2:1883");
	p.props.user = users;
	p.props.nuser = 1;
	roundtrip(&p, V5);

	p = pkt(SIM_MQTT_AUTH);
	roundtrip(&p, V5);
	p.disconnect.reason = 0x18;
	p.props.present = BIT(AUTH_METHOD) | BIT(AUTH_DATA) | BIT(REASON_STRING);
	p.props.auth_method = S("SCRAM-SHA-1");
	p.props.auth_data = B("client-first");
	p.props.reason_string = S("more");
	roundtrip(&p, V5);
}

/* Decoded user properties and subscription ids come back in order. */
static void
test_iterators(void)
{
	static const uint32_t ids[] = { 5, 1000 };
	struct sim_mqtt_pkt p = pkt(SIM_MQTT_PUBLISH), d;
	struct sim_mqtt_user_prop u;
	uint8_t buf[256];
	size_t len, used, it = 0, n = 0;
	uint32_t id;

	p.publish.topic = S("t");
	p.props.user = users;
	p.props.nuser = 3;
	p.props.sub_ids = ids;
	p.props.nsub_ids = 2;
	CU_ASSERT_EQUAL_FATAL(sim_mqtt_encode(&p, V5, buf, sizeof(buf), &len), SIM_OK);
	CU_ASSERT_EQUAL_FATAL(sim_mqtt_decode(buf, len, V5, 0, &d, &used), SIM_OK);
	CU_ASSERT_EQUAL(d.props.nuser, 3);
	CU_ASSERT_EQUAL(d.props.nsub_ids, 2);
	CU_ASSERT_EQUAL(d.props.sub_id, 5);
	CU_ASSERT((d.props.present & BIT(USER)) != 0);
	while (sim_mqtt_user_prop_next(&d.props, &it, &u)) {
		CU_ASSERT_FATAL(n < 3);
		CU_ASSERT(u.key_len == users[n].key_len && memcmp(u.key, users[n].key, u.key_len) == 0);
		CU_ASSERT(u.val_len == users[n].val_len && memcmp(u.val, users[n].val, u.val_len) == 0);
		n++;
	}
	CU_ASSERT_EQUAL(n, 3);
	it = n = 0;
	while (sim_mqtt_sub_id_next(&d.props, &it, &id)) {
		CU_ASSERT_FATAL(n < 2);
		CU_ASSERT_EQUAL(id, ids[n]);
		n++;
	}
	CU_ASSERT_EQUAL(n, 2);
}

/* Encoder refuses what it cannot represent. */
static void
test_encode_errors(void)
{
	static char big[70000];
	struct sim_mqtt_pkt p = pkt(SIM_MQTT_PUBLISH);
	uint8_t buf[64];
	size_t len;

	p.publish.topic = S("t");
	p.publish.qos = 3;
	CU_ASSERT_EQUAL(sim_mqtt_encode(&p, V4, buf, sizeof(buf), &len), SIM_ERR_INVAL);
	p.publish.qos = 1;
	CU_ASSERT_EQUAL(sim_mqtt_encode(&p, V4, buf, sizeof(buf), &len), SIM_ERR_INVAL);  /* id 0 */
	p.publish.packet_id = 1;
	p.publish.topic = S("");
	CU_ASSERT_EQUAL(sim_mqtt_encode(&p, V5, buf, sizeof(buf), &len), SIM_ERR_INVAL);
	p.publish.topic.ptr = big;
	p.publish.topic.len = sizeof(big);
	CU_ASSERT_EQUAL(sim_mqtt_encoded_len(&p, V4, &len), SIM_ERR_TOOBIG);
	p = pkt(SIM_MQTT_AUTH);
	CU_ASSERT_EQUAL(sim_mqtt_encode(&p, V4, buf, sizeof(buf), &len), SIM_ERR_INVAL);
	p = pkt(SIM_MQTT_SUBSCRIBE);
	p.subscribe.packet_id = 1;
	CU_ASSERT_EQUAL(sim_mqtt_encode(&p, V4, buf, sizeof(buf), &len), SIM_ERR_INVAL);
	p = pkt(SIM_MQTT_CONNECT);
	p.connect.has_password = true;
	CU_ASSERT_EQUAL(sim_mqtt_encode(&p, V4, buf, sizeof(buf), &len), SIM_ERR_INVAL);
	CU_ASSERT_EQUAL(sim_mqtt_encode(&p, V5, buf, sizeof(buf), &len), SIM_OK);
	CU_ASSERT_EQUAL(sim_mqtt_encode(&p, 3, buf, sizeof(buf), &len), SIM_ERR_INVAL);
}

/* ---- malformed input ---- */

struct bad {
	const char *what;
	int version;
	uint32_t max;
	enum sim_err want;
	size_t len;
	uint8_t b[48];
};

#define BAD(what, v, want, ...) { what, v, 0, want, sizeof((uint8_t[]){ __VA_ARGS__ }), { __VA_ARGS__ } }
#define P SIM_ERR_PROTO

static const struct bad bads[] = {
	/* fixed header */
	BAD("5-byte remaining length", V4, P, 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F),
	BAD("5-byte remaining length v5", V5, P, 0x30, 0x80, 0x80, 0x80, 0x80, 0x01),
	BAD("non-minimal remaining length v5", V5, P, 0xC0, 0x80, 0x00),
	BAD("packet type 0", V4, P, 0x00, 0x00),
	BAD("AUTH under 3.1.1", V4, P, 0xF0, 0x00),
	BAD("PUBREL flags 0", V4, P, 0x60, 0x02, 0x00, 0x01),
	BAD("SUBSCRIBE flags 0", V4, P, 0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00),
	BAD("UNSUBSCRIBE flags 3", V4, P, 0xA3, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'),
	BAD("PINGREQ flags", V4, P, 0xC1, 0x00),
	BAD("CONNACK flags", V5, P, 0x28, 0x03, 0x00, 0x00, 0x00),
	BAD("PUBACK flags", V4, P, 0x42, 0x02, 0x00, 0x01),
	BAD("remaining length says more than the type allows", V4, P, 0xC0, 0x01, 0x00),
	BAD("3.1.1 PUBACK with a reason", V4, P, 0x40, 0x03, 0x00, 0x01, 0x00),
	BAD("3.1.1 UNSUBACK with codes", V4, P, 0xB0, 0x03, 0x00, 0x01, 0x00),
	BAD("3.1.1 DISCONNECT with body", V4, P, 0xE0, 0x01, 0x00),
	BAD("PUBACK too short", V4, P, 0x40, 0x01, 0x00),
	/* PUBLISH */
	BAD("QoS 3", V4, P, 0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01),
	BAD("QoS 3 v5", V5, P, 0x37, 0x06, 0x00, 0x01, 't', 0x00, 0x01, 0x00),
	BAD("QoS 0 with DUP", V4, P, 0x38, 0x04, 0x00, 0x01, 't', 'x'),
	BAD("QoS 1 packet id 0", V4, P, 0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x00),
	BAD("truncated topic", V4, P, 0x30, 0x03, 0x00, 0x05, 't'),
	BAD("truncated packet id", V4, P, 0x32, 0x04, 0x00, 0x01, 't', 0x00),
	BAD("empty topic 3.1.1", V4, P, 0x30, 0x02, 0x00, 0x00),
	BAD("empty topic without alias v5", V5, P, 0x30, 0x03, 0x00, 0x00, 0x00),
	BAD("wildcard + in topic", V4, P, 0x30, 0x04, 0x00, 0x02, 'a', '+'),
	BAD("wildcard # in topic", V5, P, 0x30, 0x05, 0x00, 0x02, '#', 'a', 0x00),
	BAD("U+0000 in topic", V4, P, 0x30, 0x04, 0x00, 0x02, 'a', 0x00),
	BAD("bad UTF-8 continuation", V4, P, 0x30, 0x04, 0x00, 0x02, 0xC3, 0x28),
	BAD("over-long UTF-8 NUL", V4, P, 0x30, 0x04, 0x00, 0x02, 0xC0, 0x80),
	BAD("UTF-8 surrogate", V4, P, 0x30, 0x05, 0x00, 0x03, 0xED, 0xA0, 0x80),
	BAD("UTF-8 above U+10FFFF", V4, P, 0x30, 0x06, 0x00, 0x04, 0xF4, 0x90, 0x80, 0x80),
	BAD("UTF-8 truncated sequence", V4, P, 0x30, 0x04, 0x00, 0x02, 'a', 0xE2),
	/* properties */
	BAD("property length beyond packet", V5, P, 0x30, 0x04, 0x00, 0x01, 't', 0x05),
	BAD("unknown property id 0x04", V5, P, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x04, 0x00),
	BAD("unknown property id 0x7F", V5, P, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x7F, 0x00),
	BAD("property id 0", V5, P, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x00, 0x00),
	BAD("duplicate message expiry", V5, P, 0x30, 0x0E, 0x00, 0x01, 't', 0x0A, 0x02, 0, 0, 0, 1,
	    0x02, 0, 0, 0, 2),
	BAD("duplicate content type", V5, P, 0x30, 0x0C, 0x00, 0x01, 't', 0x08, 0x03, 0, 1, 'a',
	    0x03, 0, 1, 'b'),
	BAD("duplicate sub id in SUBSCRIBE", V5, P, 0x82, 0x0B, 0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B,
	    0x02, 0x00, 0x01, 'a', 0x00),
	BAD("session expiry in PUBLISH", V5, P, 0x30, 0x09, 0x00, 0x01, 't', 0x05, 0x11, 0, 0, 0, 1),
	BAD("payload format 2", V5, P, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x01, 0x02),
	BAD("topic alias 0", V5, P, 0x30, 0x07, 0x00, 0x01, 't', 0x03, 0x23, 0x00, 0x00),
	BAD("sub id 0", V5, P, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x0B, 0x00),
	BAD("truncated property value", V5, P, 0x30, 0x07, 0x00, 0x01, 't', 0x03, 0x02, 0x00, 0x00),
	BAD("truncated string property", V5, P, 0x30, 0x08, 0x00, 0x01, 't', 0x04, 0x03, 0x00, 0x05,
	    'a'),
	BAD("bad UTF-8 in user property", V5, P, 0x30, 0x0B, 0x00, 0x01, 't', 0x07, 0x26, 0x00, 0x01,
	    'k', 0x00, 0x01, 0xFF),
	BAD("wildcard in response topic", V5, P, 0x30, 0x08, 0x00, 0x01, 't', 0x04, 0x08, 0x00,
	    0x01, '#'),
	BAD("5-byte property length", V5, P, 0x30, 0x08, 0x00, 0x01, 't', 0x80, 0x80, 0x80, 0x80,
	    0x01),
	/* CONNACK */
	BAD("CONNACK reserved flag bits", V4, P, 0x20, 0x02, 0x02, 0x00),
	BAD("CONNACK return code 6", V4, P, 0x20, 0x02, 0x00, 0x06),
	BAD("CONNACK session present with error", V4, P, 0x20, 0x02, 0x01, 0x05),
	BAD("CONNACK v5 unknown reason", V5, P, 0x20, 0x03, 0x00, 0x01, 0x00),
	BAD("CONNACK v5 receive maximum 0", V5, P, 0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00),
	BAD("CONNACK v5 maximum packet size 0", V5, P, 0x20, 0x08, 0x00, 0x00, 0x05, 0x27, 0, 0, 0, 0),
	BAD("CONNACK v5 max QoS 2", V5, P, 0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02),
	BAD("CONNACK v5 duplicate receive max", V5, P, 0x20, 0x09, 0x00, 0x00, 0x06, 0x21, 0x00,
	    0x01, 0x21, 0x00, 0x02),
	BAD("CONNACK v5 will delay", V5, P, 0x20, 0x08, 0x00, 0x00, 0x05, 0x18, 0, 0, 0, 1),
	BAD("CONNACK 3.1.1 too short", V4, P, 0x20, 0x01, 0x00),
	/* acks */
	BAD("PUBACK v5 unknown reason", V5, P, 0x40, 0x03, 0x00, 0x01, 0x05),
	BAD("PUBREL v5 reason 0x10", V5, P, 0x62, 0x03, 0x00, 0x01, 0x10),
	BAD("PUBCOMP packet id 0", V4, P, 0x70, 0x02, 0x00, 0x00),
	BAD("PUBACK v5 topic alias property", V5, P, 0x40, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00,
	    0x01),
	/* SUBSCRIBE family */
	BAD("SUBSCRIBE without filters", V4, P, 0x82, 0x02, 0x00, 0x01),
	BAD("SUBSCRIBE packet id 0", V4, P, 0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 'a', 0x00),
	BAD("SUBSCRIBE QoS 3", V4, P, 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x03),
	BAD("SUBSCRIBE 3.1.1 reserved option bits", V4, P, 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a',
	    0x04),
	BAD("SUBSCRIBE v5 retain handling 3", V5, P, 0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a',
	    0x30),
	BAD("SUBSCRIBE v5 reserved option bits", V5, P, 0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01,
	    'a', 0x40),
	BAD("SUBSCRIBE missing options", V4, P, 0x82, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'),
	BAD("SUBSCRIBE bad filter a#", V4, P, 0x82, 0x07, 0x00, 0x01, 0x00, 0x02, 'a', '#', 0x00),
	BAD("SUBSCRIBE bad filter #/a", V4, P, 0x82, 0x08, 0x00, 0x01, 0x00, 0x03, '#', '/', 'a',
	    0x00),
	BAD("SUBSCRIBE bad filter a+", V4, P, 0x82, 0x07, 0x00, 0x01, 0x00, 0x02, 'a', '+', 0x00),
	BAD("SUBSCRIBE empty filter", V4, P, 0x82, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00),
	BAD("SUBACK without codes", V4, P, 0x90, 0x02, 0x00, 0x01),
	BAD("SUBACK 3.1.1 code 0x03", V4, P, 0x90, 0x03, 0x00, 0x01, 0x03),
	BAD("SUBACK 3.1.1 code 0x87", V4, P, 0x90, 0x03, 0x00, 0x01, 0x87),
	BAD("SUBACK v5 code 0x10", V5, P, 0x90, 0x04, 0x00, 0x01, 0x00, 0x10),
	BAD("UNSUBSCRIBE without filters", V5, P, 0xA2, 0x03, 0x00, 0x01, 0x00),
	BAD("UNSUBACK v5 without codes", V5, P, 0xB0, 0x03, 0x00, 0x01, 0x00),
	BAD("UNSUBACK v5 code 0x01", V5, P, 0xB0, 0x04, 0x00, 0x01, 0x00, 0x01),
	/* DISCONNECT, AUTH */
	BAD("DISCONNECT v5 unknown reason", V5, P, 0xE0, 0x01, 0x01),
	BAD("DISCONNECT v5 assigned client id", V5, P, 0xE0, 0x06, 0x00, 0x04, 0x12, 0x00, 0x01, 'x'),
	BAD("AUTH v5 reason 0x04", V5, P, 0xF0, 0x01, 0x04),
	/* CONNECT */
	BAD("CONNECT protocol name MQTX", V4, P, 0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'X', 0x04,
	    0x02, 0x00, 0x3C, 0x00, 0x01, 'c'),
	BAD("CONNECT protocol level 3", V4, P, 0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x03,
	    0x02, 0x00, 0x3C, 0x00, 0x01, 'c'),
	BAD("CONNECT reserved flag", V4, P, 0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x03,
	    0x00, 0x3C, 0x00, 0x01, 'c'),
	BAD("CONNECT will QoS 3", V4, P, 0x10, 0x13, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x1E,
	    0x00, 0x3C, 0x00, 0x01, 'c', 0x00, 0x01, 'w', 0x00, 0x01, 'm'),
	BAD("CONNECT will retain without will", V4, P, 0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T',
	    0x04, 0x22, 0x00, 0x3C, 0x00, 0x01, 'c'),
	BAD("CONNECT 3.1.1 password without user", V4, P, 0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T',
	    0x04, 0x42, 0x00, 0x3C, 0x00, 0x01, 'c', 0x00, 0x01, 'p'),
	BAD("CONNECT truncated client id", V4, P, 0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
	    0x02, 0x00, 0x3C, 0x00, 0x05, 'c'),
	BAD("CONNECT missing user name", V4, P, 0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
	    0x82, 0x00, 0x3C, 0x00, 0x01, 'c'),
	BAD("CONNECT will topic with wildcard", V4, P, 0x10, 0x13, 0x00, 0x04, 'M', 'Q', 'T', 'T',
	    0x04, 0x06, 0x00, 0x3C, 0x00, 0x01, 'c', 0x00, 0x01, '#', 0x00, 0x01, 'm'),
	BAD("CONNECT v5 will props with session expiry", V5, P, 0x10, 0x19, 0x00, 0x04, 'M', 'Q',
	    'T', 'T', 0x05, 0x06, 0x00, 0x3C, 0x00, 0x00, 0x01, 'c', 0x05, 0x11, 0, 0, 0, 1, 0x00,
	    0x01, 'w', 0x00, 0x00),
	BAD("CONNECT v5 request problem info 2", V5, P, 0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T',
	    0x05, 0x02, 0x00, 0x3C, 0x02, 0x17, 0x02, 0x00, 0x01, 'c'),
	/* size limits */
	{ "over max_packet", V4, 10, SIM_ERR_TOOBIG, 4, { 0x30, 0x14, 0x00, 0x01 } },
	{ "huge remaining length, header only", V5, 1 << 20, SIM_ERR_TOOBIG, 5,
	    { 0x30, 0xFF, 0xFF, 0xFF, 0x7F } },
};

static void
test_malformed(void)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		struct sim_mqtt_pkt d;
		size_t used = 99;
		uint8_t *copy;
		enum sim_err err;

		/* An exact-size heap copy lets ASan catch any over-read. */
		copy = malloc(b->len);
		CU_ASSERT_FATAL(copy != NULL);
		memcpy(copy, b->b, b->len);
		err = sim_mqtt_decode(copy, b->len, b->version, b->max, &d, &used);
		if (err != b->want)
			fprintf(stderr, "\n  %s: got %s, want %s\n", b->what, sim_err_str(err),
			    sim_err_str(b->want));
		CU_ASSERT_EQUAL(err, b->want);
		if (err == SIM_ERR_PROTO)
			CU_ASSERT_EQUAL(used, 0);
		/* Every prefix is AGAIN or an error, never a packet. */
		for (size_t k = 0; k < b->len; k++)
			CU_ASSERT_NOT_EQUAL(sim_mqtt_decode(copy, k, b->version, b->max, &d, &used), SIM_OK);
		free(copy);
	}
}

/* Near-misses of the corpus that are valid, so the rejections above are
 * for the stated reason and not an over-strict decoder. */
static void
test_valid_edge_cases(void)
{
	static const struct bad goods[] = {
		BAD("non-minimal remaining length 3.1.1", V4, SIM_OK, 0xC0, 0x80, 0x00),
		BAD("SUBSCRIBE v5 no-local option", V5, SIM_OK, 0x82, 0x07, 0x00, 0x01, 0x00, 0x00,
		    0x01, 'a', 0x04),
		BAD("AUTH v5 empty", V5, SIM_OK, 0xF0, 0x00),
		BAD("sub id twice in PUBLISH", V5, SIM_OK, 0x30, 0x08, 0x00, 0x01, 't', 0x04, 0x0B,
		    0x01, 0x0B, 0x02),
		BAD("user property twice", V5, SIM_OK, 0x30, 0x12, 0x00, 0x01, 't', 0x0E, 0x26, 0, 1,
		    'k', 0, 1, 'v', 0x26, 0, 1, 'k', 0, 1, 'v'),
		BAD("4-byte UTF-8 in topic", V4, SIM_OK, 0x30, 0x06, 0x00, 0x04, 0xF0, 0x9F, 0x98, 0x80),
		BAD("v5 PUBACK reason then no properties", V5, SIM_OK, 0x40, 0x03, 0x00, 0x01, 0x10),
		BAD("filter with + levels", V4, SIM_OK, 0x82, 0x0A, 0x00, 0x01, 0x00, 0x05, '+', '/',
		    '+', '/', '#', 0x01),
		{ "exactly max_packet", V4, 5, SIM_OK, 5, { 0x30, 0x03, 0x00, 0x01, 't' } },
		BAD("DISCONNECT v5 reason only", V5, SIM_OK, 0xE0, 0x01, 0x8E),
		BAD("CONNECT v5 password without user", V5, SIM_OK, 0x10, 0x10, 0x00, 0x04, 'M', 'Q',
		    'T', 'T', 0x05, 0x42, 0x00, 0x3C, 0x00, 0x00, 0x01, 'c', 0x00, 0x00),
	};

	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		struct sim_mqtt_pkt d;
		size_t used;
		enum sim_err err = sim_mqtt_decode(goods[i].b, goods[i].len, goods[i].version,
		    goods[i].max, &d, &used);

		if (err != SIM_OK)
			fprintf(stderr, "\n  %s: got %s\n", goods[i].what, sim_err_str(err));
		CU_ASSERT_EQUAL(err, SIM_OK);
		CU_ASSERT_EQUAL(used, goods[i].len);
	}
}

/* Two packets back to back decode one at a time. */
static void
test_stream(void)
{
	static const uint8_t v[] = { 0xD0, 0x00, 0x40, 0x02, 0x00, 0x07, 0xC0 };
	struct sim_mqtt_pkt d;
	size_t used, off = 0;

	CU_ASSERT_EQUAL(sim_mqtt_decode(v, sizeof(v), V4, 0, &d, &used), SIM_OK);
	CU_ASSERT_EQUAL(d.type, SIM_MQTT_PINGRESP);
	off += used;
	CU_ASSERT_EQUAL(sim_mqtt_decode(v + off, sizeof(v) - off, V4, 0, &d, &used), SIM_OK);
	CU_ASSERT_EQUAL(d.type, SIM_MQTT_PUBACK);
	CU_ASSERT_EQUAL(d.ack.packet_id, 7);
	off += used;
	CU_ASSERT_EQUAL(sim_mqtt_decode(v + off, sizeof(v) - off, V4, 0, &d, &used), SIM_ERR_AGAIN);
	CU_ASSERT_EQUAL(used, 0);
}

static void
test_names(void)
{
	CU_ASSERT_STRING_EQUAL(sim_mqtt_type_name(SIM_MQTT_PUBLISH), "PUBLISH");
	CU_ASSERT_STRING_EQUAL(sim_mqtt_type_name(0), "?");
	CU_ASSERT_STRING_EQUAL(sim_mqtt_reason_str(V4, SIM_MQTT_CONNACK, 5), "not authorized");
	CU_ASSERT_STRING_EQUAL(sim_mqtt_reason_str(V5, SIM_MQTT_CONNACK, 0x86),
	    "bad user name or password");
	CU_ASSERT_STRING_EQUAL(sim_mqtt_reason_str(V5, SIM_MQTT_DISCONNECT, 0), "normal disconnection");
	CU_ASSERT(sim_mqtt_utf8_valid("h\xC3\xA9llo", 6));
	CU_ASSERT(!sim_mqtt_utf8_valid("\xE0\x80\x80", 3));        /* over-long */
	CU_ASSERT(!sim_mqtt_utf8_valid("\xF0\x80\x80\x80", 4));    /* over-long */
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "CONNECT 3.1.1 spec vector", test_vector_connect_311 },
		{ "CONNECT 5 vector", test_vector_connect_v5 },
		{ "PUBLISH spec vector", test_vector_publish },
		{ "small packet vectors", test_vector_small },
		{ "remaining length boundaries", test_vector_remaining_length },
		{ "round trip 3.1.1, all types", test_roundtrip_311 },
		{ "round trip 5, all types with properties", test_roundtrip_v5 },
		{ "user property / sub id iterators", test_iterators },
		{ "encoder errors", test_encode_errors },
		{ "malformed corpus", test_malformed },
		{ "valid edge cases", test_valid_edge_cases },
		{ "packet stream", test_stream },
		{ "names", test_names },
		{ NULL, NULL },
	};

	return fs_test_main("mqtt_codec", tests);
}
