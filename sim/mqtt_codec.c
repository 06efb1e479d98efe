/* MQTT 3.1.1 / 5.0 codec. See mqtt_codec.h; section numbers below refer to
 * the MQTT 5.0 specification (OASIS, 2019) unless they say 3.1.1. */
#include "mqtt_codec.h"

#include <string.h>

#define TRY(x) do { if ((err = (x)) != SIM_OK) goto out; } while (0)
#define FAIL(e) do { err = (e); goto out; } while (0)

/* Where a property may appear: one bit per packet type, bit 0 for the will
 * properties inside CONNECT. */
#define W(t) (1u << (t))
#define WILL 1u

enum ptype { P_NONE, P_BYTE, P_U16, P_U32, P_VARINT, P_STR, P_BIN, P_PAIR };

struct pdesc {
	uint8_t type;
	uint16_t where;
	uint16_t off;   /* of the value in struct sim_mqtt_pkt_props */
};

#define OFF(m) offsetof(struct sim_mqtt_pkt_props, m)
#define ACKS (W(SIM_MQTT_PUBACK) | W(SIM_MQTT_PUBREC) | W(SIM_MQTT_PUBREL) | W(SIM_MQTT_PUBCOMP))

/* Section 2.2.2.2, table of properties. */
static const struct pdesc ptab[SIM_MQTT_PROP_SHARED_SUB_AVAILABLE + 1] = {
	[SIM_MQTT_PROP_PAYLOAD_FORMAT] = { P_BYTE, W(SIM_MQTT_PUBLISH) | WILL, OFF(payload_format) },
	[SIM_MQTT_PROP_MESSAGE_EXPIRY] = { P_U32, W(SIM_MQTT_PUBLISH) | WILL, OFF(message_expiry) },
	[SIM_MQTT_PROP_CONTENT_TYPE] = { P_STR, W(SIM_MQTT_PUBLISH) | WILL, OFF(content_type) },
	[SIM_MQTT_PROP_RESPONSE_TOPIC] = { P_STR, W(SIM_MQTT_PUBLISH) | WILL, OFF(response_topic) },
	[SIM_MQTT_PROP_CORRELATION] = { P_BIN, W(SIM_MQTT_PUBLISH) | WILL, OFF(correlation) },
	[SIM_MQTT_PROP_SUB_ID] = { P_VARINT, W(SIM_MQTT_PUBLISH) | W(SIM_MQTT_SUBSCRIBE), OFF(sub_id) },
	[SIM_MQTT_PROP_SESSION_EXPIRY] = { P_U32,
	    W(SIM_MQTT_CONNECT) | W(SIM_MQTT_CONNACK) | W(SIM_MQTT_DISCONNECT), OFF(session_expiry) },
	[SIM_MQTT_PROP_ASSIGNED_CLIENT_ID] = { P_STR, W(SIM_MQTT_CONNACK), OFF(assigned_client_id) },
	[SIM_MQTT_PROP_SERVER_KEEPALIVE] = { P_U16, W(SIM_MQTT_CONNACK), OFF(server_keepalive) },
	[SIM_MQTT_PROP_AUTH_METHOD] = { P_STR,
	    W(SIM_MQTT_CONNECT) | W(SIM_MQTT_CONNACK) | W(SIM_MQTT_AUTH), OFF(auth_method) },
	[SIM_MQTT_PROP_AUTH_DATA] = { P_BIN,
	    W(SIM_MQTT_CONNECT) | W(SIM_MQTT_CONNACK) | W(SIM_MQTT_AUTH), OFF(auth_data) },
	[SIM_MQTT_PROP_REQUEST_PROBLEM_INFO] = { P_BYTE, W(SIM_MQTT_CONNECT), OFF(request_problem_info) },
	[SIM_MQTT_PROP_WILL_DELAY] = { P_U32, WILL, OFF(will_delay) },
	[SIM_MQTT_PROP_REQUEST_RESPONSE_INFO] = { P_BYTE, W(SIM_MQTT_CONNECT), OFF(request_response_info) },
	[SIM_MQTT_PROP_RESPONSE_INFO] = { P_STR, W(SIM_MQTT_CONNACK), OFF(response_info) },
	[SIM_MQTT_PROP_SERVER_REFERENCE] = { P_STR,
	    W(SIM_MQTT_CONNACK) | W(SIM_MQTT_DISCONNECT), OFF(server_reference) },
	[SIM_MQTT_PROP_REASON_STRING] = { P_STR, W(SIM_MQTT_CONNACK) | ACKS | W(SIM_MQTT_SUBACK) |
	    W(SIM_MQTT_UNSUBACK) | W(SIM_MQTT_DISCONNECT) | W(SIM_MQTT_AUTH), OFF(reason_string) },
	[SIM_MQTT_PROP_RECEIVE_MAX] = { P_U16, W(SIM_MQTT_CONNECT) | W(SIM_MQTT_CONNACK), OFF(receive_max) },
	[SIM_MQTT_PROP_TOPIC_ALIAS_MAX] = { P_U16,
	    W(SIM_MQTT_CONNECT) | W(SIM_MQTT_CONNACK), OFF(topic_alias_max) },
	[SIM_MQTT_PROP_TOPIC_ALIAS] = { P_U16, W(SIM_MQTT_PUBLISH), OFF(topic_alias) },
	[SIM_MQTT_PROP_MAX_QOS] = { P_BYTE, W(SIM_MQTT_CONNACK), OFF(max_qos) },
	[SIM_MQTT_PROP_RETAIN_AVAILABLE] = { P_BYTE, W(SIM_MQTT_CONNACK), OFF(retain_available) },
	[SIM_MQTT_PROP_USER] = { P_PAIR, WILL | W(SIM_MQTT_CONNECT) | W(SIM_MQTT_CONNACK) |
	    W(SIM_MQTT_PUBLISH) | ACKS | W(SIM_MQTT_SUBSCRIBE) | W(SIM_MQTT_SUBACK) |
	    W(SIM_MQTT_UNSUBSCRIBE) | W(SIM_MQTT_UNSUBACK) | W(SIM_MQTT_DISCONNECT) | W(SIM_MQTT_AUTH), 0 },
	[SIM_MQTT_PROP_MAX_PACKET_SIZE] = { P_U32,
	    W(SIM_MQTT_CONNECT) | W(SIM_MQTT_CONNACK), OFF(max_packet_size) },
	[SIM_MQTT_PROP_WILDCARD_SUB_AVAILABLE] = { P_BYTE, W(SIM_MQTT_CONNACK), OFF(wildcard_sub_available) },
	[SIM_MQTT_PROP_SUB_ID_AVAILABLE] = { P_BYTE, W(SIM_MQTT_CONNACK), OFF(sub_id_available) },
	[SIM_MQTT_PROP_SHARED_SUB_AVAILABLE] = { P_BYTE, W(SIM_MQTT_CONNACK), OFF(shared_sub_available) },
};
#define NPROPS (sizeof(ptab) / sizeof(ptab[0]))

/* Reason codes each MQTT 5 packet may carry (section 2.4 and the packets'
 * own reason code tables). */
static const uint8_t rc_connack[] = { 0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88,
	0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F };
static const uint8_t rc_puback[] = { 0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99 };
static const uint8_t rc_pubrel[] = { 0x00, 0x92 };
static const uint8_t rc_suback[] = { 0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E,
	0xA1, 0xA2 };
static const uint8_t rc_suback311[] = { 0x00, 0x01, 0x02, 0x80 };
static const uint8_t rc_unsuback[] = { 0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91 };
static const uint8_t rc_disconnect[] = { 0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B,
	0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D,
	0x9E, 0x9F, 0xA0, 0xA1, 0xA2 };
static const uint8_t rc_auth[] = { 0x00, 0x18, 0x19 };

#define IN(c, tab) (memchr((tab), (c), sizeof(tab)) != NULL)

static bool
reason_ok(int type, uint8_t c)
{
	switch (type) {
	case SIM_MQTT_CONNACK: return IN(c, rc_connack);
	case SIM_MQTT_PUBACK:
	case SIM_MQTT_PUBREC: return IN(c, rc_puback);
	case SIM_MQTT_PUBREL:
	case SIM_MQTT_PUBCOMP: return IN(c, rc_pubrel);
	case SIM_MQTT_SUBACK: return IN(c, rc_suback);
	case SIM_MQTT_UNSUBACK: return IN(c, rc_unsuback);
	case SIM_MQTT_DISCONNECT: return IN(c, rc_disconnect);
	case SIM_MQTT_AUTH: return IN(c, rc_auth);
	}
	return false;
}

bool
sim_mqtt_utf8_valid(const char *str, size_t n)
{
	const uint8_t *s = (const uint8_t *)str;
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		uint32_t cp;
		size_t k;

		if (c >= 0x01 && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			k = 1;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			k = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;   /* U+0000, continuation or over-long lead byte */
		}
		if (n - i - 1 < k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if (k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
			return false;
		if (k == 3 && (cp < 0x10000 || cp > 0x10FFFF))
			return false;
		i += k + 1;
	}
	return true;
}

/* Topic names carry no wildcards (section 4.7.1). */
static bool
topic_name_ok(const char *s, size_t n)
{
	return memchr(s, '+', n) == NULL && memchr(s, '#', n) == NULL;
}

/* '+' fills a whole level, '#' is the last level (section 4.7.1). */
static bool
topic_filter_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			if ((i > 0 && s[i - 1] != '/') || (i + 1 < n && s[i + 1] != '/'))
				return false;
		} else if (s[i] == '#') {
			if (i + 1 != n || (i > 0 && s[i - 1] != '/'))
				return false;
		}
	}
	return true;
}

/* ---- reading ---- */

/* A bounded cursor over one packet's body: every read checks the bound, so
 * truncated fields inside a complete packet are malformed, not AGAIN. */
struct rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool strict;    /* MQTT 5: variable byte integers must be minimal */
};

static size_t
rd_left(const struct rd *r)
{
	return r->len - r->off;
}

/* Decodes a variable byte integer from p[0..len). AGAIN when the input ends
 * inside it; PROTO for a fifth byte, or when strict a non-minimal encoding
 * (section 1.5.5). */
static enum sim_err
varint_dec(const uint8_t *p, size_t len, bool strict, uint32_t *v, size_t *n)
{
	uint32_t val = 0;

	for (size_t i = 0; i < 4; i++) {
		if (i >= len)
			return SIM_ERR_AGAIN;
		val |= (uint32_t)(p[i] & 0x7F) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			if (strict && i > 0 && p[i] == 0)
				return SIM_ERR_PROTO;
			*v = val;
			*n = i + 1;
			return SIM_OK;
		}
	}
	return SIM_ERR_PROTO;
}

static enum sim_err
rd_u8(struct rd *r, uint8_t *v)
{
	if (rd_left(r) < 1)
		return SIM_ERR_PROTO;
	*v = r->p[r->off++];
	return SIM_OK;
}

static enum sim_err
rd_u16(struct rd *r, uint16_t *v)
{
	if (rd_left(r) < 2)
		return SIM_ERR_PROTO;
	*v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
	r->off += 2;
	return SIM_OK;
}

static enum sim_err
rd_u32(struct rd *r, uint32_t *v)
{
	const uint8_t *p = r->p + r->off;

	if (rd_left(r) < 4)
		return SIM_ERR_PROTO;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	r->off += 4;
	return SIM_OK;
}

static enum sim_err
rd_varint(struct rd *r, uint32_t *v)
{
	size_t n;
	enum sim_err err = varint_dec(r->p + r->off, rd_left(r), r->strict, v, &n);

	if (err != SIM_OK)
		return SIM_ERR_PROTO;
	r->off += n;
	return SIM_OK;
}

static enum sim_err
rd_bin(struct rd *r, struct sim_mqtt_bin *b)
{
	uint16_t n;

	if (rd_u16(r, &n) != SIM_OK || rd_left(r) < n)
		return SIM_ERR_PROTO;
	b->ptr = r->p + r->off;
	b->len = n;
	r->off += n;
	return SIM_OK;
}

/* A string without the UTF-8 check, for walking already validated input. */
static enum sim_err
rd_str_raw(struct rd *r, struct sim_mqtt_str *s)
{
	struct sim_mqtt_bin b;

	if (rd_bin(r, &b) != SIM_OK)
		return SIM_ERR_PROTO;
	s->ptr = (const char *)b.ptr;
	s->len = b.len;
	return SIM_OK;
}

static enum sim_err
rd_str(struct rd *r, struct sim_mqtt_str *s)
{
	if (rd_str_raw(r, s) != SIM_OK || !sim_mqtt_utf8_valid(s->ptr, s->len))
		return SIM_ERR_PROTO;
	return SIM_OK;
}

/* Skips one property value of the given type. */
static enum sim_err
rd_skip(struct rd *r, uint8_t type)
{
	struct sim_mqtt_bin b;
	uint32_t v;
	size_t n;

	switch (type) {
	case P_BYTE: n = 1; break;
	case P_U16: n = 2; break;
	case P_U32: n = 4; break;
	case P_VARINT: return rd_varint(r, &v);
	case P_STR:
	case P_BIN: return rd_bin(r, &b);
	case P_PAIR:
		if (rd_bin(r, &b) != SIM_OK)
			return SIM_ERR_PROTO;
		return rd_bin(r, &b);
	default: return SIM_ERR_PROTO;
	}
	if (rd_left(r) < n)
		return SIM_ERR_PROTO;
	r->off += n;
	return SIM_OK;
}

/* Reads a property length and block into pp, checking every property
 * against where (section 2.2.2.2: wrong packet, unknown id or a repeated
 * single property are errors). */
static enum sim_err
props_dec(struct rd *r, unsigned where, struct sim_mqtt_pkt_props *pp)
{
	enum sim_err err;
	uint32_t plen;
	struct rd b;

	TRY(rd_varint(r, &plen));
	if (plen > rd_left(r))
		FAIL(SIM_ERR_PROTO);
	b = (struct rd){ .p = r->p + r->off, .len = plen, .strict = r->strict };
	r->off += plen;
	pp->raw = b.p;
	pp->raw_len = plen;
	while (rd_left(&b) > 0) {
		const struct pdesc *d;
		uint32_t id;
		char *field;

		TRY(rd_varint(&b, &id));
		if (id >= NPROPS || ptab[id].type == P_NONE || (ptab[id].where & where) == 0)
			FAIL(SIM_ERR_PROTO);
		d = &ptab[id];
		if ((pp->present & SIM_MQTT_PROP_BIT(id)) && id != SIM_MQTT_PROP_USER &&
		    !(id == SIM_MQTT_PROP_SUB_ID && where == W(SIM_MQTT_PUBLISH)))
			FAIL(SIM_ERR_PROTO);
		pp->present |= SIM_MQTT_PROP_BIT(id);
		field = (char *)pp + d->off;
		switch (d->type) {
		case P_BYTE:
			TRY(rd_u8(&b, (uint8_t *)field));
			/* Every byte property is a boolean or 0/1 (max QoS). */
			if (*(uint8_t *)field > 1)
				FAIL(SIM_ERR_PROTO);
			break;
		case P_U16:
			TRY(rd_u16(&b, (uint16_t *)field));
			if (*(uint16_t *)field == 0 && (id == SIM_MQTT_PROP_RECEIVE_MAX ||
			    id == SIM_MQTT_PROP_TOPIC_ALIAS))
				FAIL(SIM_ERR_PROTO);
			break;
		case P_U32:
			TRY(rd_u32(&b, (uint32_t *)field));
			if (*(uint32_t *)field == 0 && id == SIM_MQTT_PROP_MAX_PACKET_SIZE)
				FAIL(SIM_ERR_PROTO);
			break;
		case P_VARINT: {
			uint32_t v;

			TRY(rd_varint(&b, &v));
			if (v == 0)
				FAIL(SIM_ERR_PROTO);
			if (pp->nsub_ids++ == 0)
				pp->sub_id = v;
			break;
		}
		case P_STR: {
			struct sim_mqtt_str *s = (struct sim_mqtt_str *)field;

			TRY(rd_str(&b, s));
			if (id == SIM_MQTT_PROP_RESPONSE_TOPIC && (s->len == 0 ||
			    !topic_name_ok(s->ptr, s->len)))
				FAIL(SIM_ERR_PROTO);
			break;
		}
		case P_BIN:
			TRY(rd_bin(&b, (struct sim_mqtt_bin *)field));
			break;
		case P_PAIR: {
			struct sim_mqtt_str k, v;

			TRY(rd_str(&b, &k));
			TRY(rd_str(&b, &v));
			pp->nuser++;
			break;
		}
		}
	}
out:
	return err;
}

static enum sim_err
dec_connect(struct rd *r, struct sim_mqtt_pkt *p)
{
	struct sim_mqtt_connect *c = &p->connect;
	struct sim_mqtt_str name;
	enum sim_err err;
	uint8_t flags;

	TRY(rd_str(r, &name));
	if (name.len != 4 || memcmp(name.ptr, "MQTT", 4) != 0)
		FAIL(SIM_ERR_PROTO);
	TRY(rd_u8(r, &c->version));
	if (c->version != SIM_MQTT_PROTO_V311 && c->version != SIM_MQTT_PROTO_V5)
		FAIL(SIM_ERR_PROTO);
	r->strict = c->version == SIM_MQTT_PROTO_V5;
	TRY(rd_u8(r, &flags));
	c->clean_start = flags & 0x02;
	c->will = flags & 0x04;
	c->will_qos = (flags >> 3) & 3;
	c->will_retain = flags & 0x20;
	c->has_password = flags & 0x40;
	c->has_username = flags & 0x80;
	/* 3.1.2.3: reserved bit; will QoS/retain only with a will; 3.1.1
	 * forbids a password without a user name. */
	if ((flags & 0x01) || c->will_qos == 3 || (!c->will && (c->will_qos || c->will_retain)))
		FAIL(SIM_ERR_PROTO);
	if (!r->strict && c->has_password && !c->has_username)
		FAIL(SIM_ERR_PROTO);
	TRY(rd_u16(r, &c->keepalive));
	if (r->strict)
		TRY(props_dec(r, W(SIM_MQTT_CONNECT), &p->props));
	TRY(rd_str(r, &c->client_id));
	if (c->will) {
		if (r->strict)
			TRY(props_dec(r, WILL, &c->will_props));
		TRY(rd_str(r, &c->will_topic));
		if (c->will_topic.len == 0 || !topic_name_ok(c->will_topic.ptr, c->will_topic.len))
			FAIL(SIM_ERR_PROTO);
		TRY(rd_bin(r, &c->will_payload));
	}
	if (c->has_username)
		TRY(rd_str(r, &c->username));
	if (c->has_password)
		TRY(rd_bin(r, &c->password));
out:
	return err;
}

static enum sim_err
dec_connack(struct rd *r, struct sim_mqtt_pkt *p)
{
	enum sim_err err;
	uint8_t flags;

	TRY(rd_u8(r, &flags));
	TRY(rd_u8(r, &p->connack.reason));
	if (flags & 0xFE)
		FAIL(SIM_ERR_PROTO);
	p->connack.session_present = flags & 1;
	if (r->strict) {
		if (!reason_ok(SIM_MQTT_CONNACK, p->connack.reason) ||
		    (p->connack.session_present && p->connack.reason >= 0x80))
			FAIL(SIM_ERR_PROTO);
		TRY(props_dec(r, W(SIM_MQTT_CONNACK), &p->props));
	} else if (p->connack.reason > 5 || (p->connack.session_present && p->connack.reason != 0)) {
		FAIL(SIM_ERR_PROTO);
	}
out:
	return err;
}

static enum sim_err
dec_publish(struct rd *r, uint8_t flags, struct sim_mqtt_pkt *p)
{
	struct sim_mqtt_publish *m = &p->publish;
	enum sim_err err;

	m->qos = (flags >> 1) & 3;
	m->dup = flags & 0x08;
	m->retain = flags & 0x01;
	/* 3.3.1: QoS 3 is malformed; DUP must be 0 for QoS 0. */
	if (m->qos == 3 || (m->qos == 0 && m->dup))
		FAIL(SIM_ERR_PROTO);
	TRY(rd_str(r, &m->topic));
	if (!topic_name_ok(m->topic.ptr, m->topic.len))
		FAIL(SIM_ERR_PROTO);
	if (m->qos > 0) {
		TRY(rd_u16(r, &m->packet_id));
		if (m->packet_id == 0)
			FAIL(SIM_ERR_PROTO);
	}
	if (r->strict)
		TRY(props_dec(r, W(SIM_MQTT_PUBLISH), &p->props));
	/* An empty topic is only allowed with a topic alias (3.3.2.1). */
	if (m->topic.len == 0 && !(p->props.present & SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_TOPIC_ALIAS)))
		FAIL(SIM_ERR_PROTO);
	m->payload.ptr = r->p + r->off;
	m->payload.len = rd_left(r);
	r->off = r->len;
out:
	return err;
}

/* PUBACK, PUBREC, PUBREL, PUBCOMP: reason and properties may be omitted
 * (3.4.2.1: remaining length 2 means success, below 4 no properties). */
static enum sim_err
dec_ack(struct rd *r, struct sim_mqtt_pkt *p)
{
	enum sim_err err;

	TRY(rd_u16(r, &p->ack.packet_id));
	if (p->ack.packet_id == 0)
		FAIL(SIM_ERR_PROTO);
	if (!r->strict || rd_left(r) == 0)
		goto out;
	TRY(rd_u8(r, &p->ack.reason));
	if (!reason_ok(p->type, p->ack.reason))
		FAIL(SIM_ERR_PROTO);
	if (rd_left(r) > 0)
		TRY(props_dec(r, W(p->type), &p->props));
out:
	return err;
}

/* SUBSCRIBE and UNSUBSCRIBE: at least one filter (3.8.3, 3.10.3). */
static enum sim_err
dec_subscribe(struct rd *r, struct sim_mqtt_pkt *p)
{
	struct sim_mqtt_subscribe *s = &p->subscribe;
	enum sim_err err;

	TRY(rd_u16(r, &s->packet_id));
	if (s->packet_id == 0)
		FAIL(SIM_ERR_PROTO);
	if (r->strict)
		TRY(props_dec(r, W(p->type), &p->props));
	s->topics.raw = r->p + r->off;
	s->topics.raw_len = rd_left(r);
	while (rd_left(r) > 0) {
		struct sim_mqtt_str f;
		uint8_t o;

		TRY(rd_str(r, &f));
		if (!topic_filter_ok(f.ptr, f.len))
			FAIL(SIM_ERR_PROTO);
		if (p->type == SIM_MQTT_SUBSCRIBE) {
			TRY(rd_u8(r, &o));
			/* 3.8.3.1: QoS 3, retain handling 3 and reserved bits
			 * (all but QoS in 3.1.1) are malformed. */
			if ((o & 3) == 3 || (r->strict ? ((o & 0xC0) || ((o >> 4) & 3) == 3) : (o & 0xFC)))
				FAIL(SIM_ERR_PROTO);
		}
		s->topics.n++;
	}
	if (s->topics.n == 0)
		FAIL(SIM_ERR_PROTO);
out:
	return err;
}

/* SUBACK, UNSUBACK. */
static enum sim_err
dec_suback(struct rd *r, struct sim_mqtt_pkt *p)
{
	struct sim_mqtt_suback *s = &p->suback;
	enum sim_err err;

	TRY(rd_u16(r, &s->packet_id));
	if (s->packet_id == 0)
		FAIL(SIM_ERR_PROTO);
	if (!r->strict && p->type == SIM_MQTT_UNSUBACK)
		goto out;   /* 3.1.1 UNSUBACK is just the packet id */
	if (r->strict)
		TRY(props_dec(r, W(p->type), &p->props));
	s->codes = r->p + r->off;
	s->ncodes = rd_left(r);
	r->off = r->len;
	if (s->ncodes == 0)
		FAIL(SIM_ERR_PROTO);
	for (size_t i = 0; i < s->ncodes; i++) {
		bool ok = r->strict ? reason_ok(p->type, s->codes[i]) : IN(s->codes[i], rc_suback311);

		if (!ok)
			FAIL(SIM_ERR_PROTO);
	}
out:
	return err;
}

/* DISCONNECT and AUTH: under MQTT 5 reason and properties may be omitted
 * (3.14.2.1, 3.15.2.1). */
static enum sim_err
dec_reason(struct rd *r, struct sim_mqtt_pkt *p)
{
	enum sim_err err = SIM_OK;

	if (!r->strict || rd_left(r) == 0)
		goto out;
	TRY(rd_u8(r, &p->disconnect.reason));
	if (!reason_ok(p->type, p->disconnect.reason))
		FAIL(SIM_ERR_PROTO);
	if (rd_left(r) > 0)
		TRY(props_dec(r, W(p->type), &p->props));
out:
	return err;
}

/* The low nibble of the first byte each type requires (2.1.3); PUBLISH is
 * checked on its own. */
static const uint8_t fixed_flags[16] = {
	[SIM_MQTT_PUBREL] = 2, [SIM_MQTT_SUBSCRIBE] = 2, [SIM_MQTT_UNSUBSCRIBE] = 2,
};

enum sim_err
sim_mqtt_peek(const uint8_t *buf, size_t len, uint32_t max_packet, size_t *total)
{
	enum sim_err err;
	uint32_t rem;
	size_t n;

	*total = 0;
	if (len < 1)
		return SIM_ERR_AGAIN;
	if ((buf[0] >> 4) == 0)
		return SIM_ERR_PROTO;
	err = varint_dec(buf + 1, len - 1, false, &rem, &n);
	if (err != SIM_OK)
		return err;
	*total = 1 + n + (size_t)rem;
	if (max_packet != 0 && *total > max_packet)
		return SIM_ERR_TOOBIG;
	return SIM_OK;
}

enum sim_err
sim_mqtt_decode(const uint8_t *buf, size_t len, int version, uint32_t max_packet,
    struct sim_mqtt_pkt *out, size_t *used)
{
	enum sim_err err;
	size_t total, n;
	uint32_t rem;
	uint8_t type, flags;
	struct rd r;

	*used = 0;
	if (version != SIM_MQTT_PROTO_V311 && version != SIM_MQTT_PROTO_V5)
		return SIM_ERR_INVAL;
	err = sim_mqtt_peek(buf, len, max_packet, &total);
	if (err != SIM_OK) {
		if (err == SIM_ERR_TOOBIG)
			*used = total;
		return err;
	}
	if (len < total) {
		*used = total;
		return SIM_ERR_AGAIN;
	}
	type = buf[0] >> 4;
	flags = buf[0] & 0x0F;
	TRY(varint_dec(buf + 1, len - 1, version == SIM_MQTT_PROTO_V5, &rem, &n));
	if (type == SIM_MQTT_AUTH && version != SIM_MQTT_PROTO_V5)
		FAIL(SIM_ERR_PROTO);
	if (type != SIM_MQTT_PUBLISH && flags != fixed_flags[type])
		FAIL(SIM_ERR_PROTO);
	memset(out, 0, sizeof(*out));
	out->type = (enum sim_mqtt_type)type;
	r = (struct rd){ .p = buf + 1 + n, .len = rem, .strict = version == SIM_MQTT_PROTO_V5 };
	switch (type) {
	case SIM_MQTT_CONNECT: TRY(dec_connect(&r, out)); break;
	case SIM_MQTT_CONNACK: TRY(dec_connack(&r, out)); break;
	case SIM_MQTT_PUBLISH: TRY(dec_publish(&r, flags, out)); break;
	case SIM_MQTT_PUBACK:
	case SIM_MQTT_PUBREC:
	case SIM_MQTT_PUBREL:
	case SIM_MQTT_PUBCOMP: TRY(dec_ack(&r, out)); break;
	case SIM_MQTT_SUBSCRIBE:
	case SIM_MQTT_UNSUBSCRIBE: TRY(dec_subscribe(&r, out)); break;
	case SIM_MQTT_SUBACK:
	case SIM_MQTT_UNSUBACK: TRY(dec_suback(&r, out)); break;
	case SIM_MQTT_PINGREQ:
	case SIM_MQTT_PINGRESP: break;
	case SIM_MQTT_DISCONNECT:
	case SIM_MQTT_AUTH: TRY(dec_reason(&r, out)); break;
	}
	/* Bytes left over inside the remaining length are malformed too. */
	if (rd_left(&r) != 0)
		FAIL(SIM_ERR_PROTO);
	*used = total;
out:
	return err;
}

/* ---- iterators ---- */

/* Finds the next property want in a decoded block from offset *it; on
 * success v is positioned at its value and *it is past it. */
static bool
raw_next(const struct sim_mqtt_pkt_props *p, size_t *it, uint32_t want, struct rd *v)
{
	struct rd r = { .p = p->raw, .len = p->raw_len, .off = *it };

	if (p->raw == NULL)
		return false;
	while (r.off < r.len) {
		uint32_t id;

		if (rd_varint(&r, &id) != SIM_OK || id >= NPROPS)
			return false;
		*v = r;
		if (rd_skip(&r, ptab[id].type) != SIM_OK)
			return false;
		if (id == want) {
			*it = r.off;
			return true;
		}
	}
	return false;
}

bool
sim_mqtt_user_prop_next(const struct sim_mqtt_pkt_props *p, size_t *it, struct sim_mqtt_user_prop *out)
{
	struct sim_mqtt_str k, v;
	struct rd r;

	if (p->user != NULL) {
		if (*it >= p->nuser)
			return false;
		*out = p->user[(*it)++];
		return true;
	}
	if (!raw_next(p, it, SIM_MQTT_PROP_USER, &r) || rd_str_raw(&r, &k) != SIM_OK ||
	    rd_str_raw(&r, &v) != SIM_OK)
		return false;
	*out = (struct sim_mqtt_user_prop){ k.ptr, k.len, v.ptr, v.len };
	return true;
}

bool
sim_mqtt_sub_id_next(const struct sim_mqtt_pkt_props *p, size_t *it, uint32_t *out)
{
	struct rd r;

	if (p->sub_ids != NULL) {
		if (*it >= p->nsub_ids)
			return false;
		*out = p->sub_ids[(*it)++];
		return true;
	}
	if (p->raw != NULL)
		return raw_next(p, it, SIM_MQTT_PROP_SUB_ID, &r) && rd_varint(&r, out) == SIM_OK;
	if (*it == 0 && (p->present & SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_SUB_ID))) {
		*it = 1;
		*out = p->sub_id;
		return true;
	}
	return false;
}

bool
sim_mqtt_topics_next(const struct sim_mqtt_pkt *p, size_t *it, struct sim_mqtt_sub *out)
{
	const struct sim_mqtt_topics *t = &p->subscribe.topics;
	struct rd r = { .p = t->raw, .len = t->raw_len, .off = *it };

	if (t->v != NULL) {
		if (*it >= t->n)
			return false;
		*out = t->v[(*it)++];
		return true;
	}
	if (t->raw == NULL || r.off >= r.len || rd_str_raw(&r, &out->filter) != SIM_OK)
		return false;
	out->opts = 0;
	if (p->type == SIM_MQTT_SUBSCRIBE && rd_u8(&r, &out->opts) != SIM_OK)
		return false;
	*it = r.off;
	return true;
}

/* ---- writing ---- */

/* A writer that only counts when p is NULL; the encoder sizes a packet
 * with one pass and writes it with a second, so writes never overflow. */
struct wr {
	uint8_t *p;
	size_t len;
	enum sim_err err;
};

static void
w_u8(struct wr *w, uint8_t v)
{
	if (w->p != NULL)
		w->p[w->len] = v;
	w->len++;
}

static void
w_u16(struct wr *w, uint16_t v)
{
	w_u8(w, v >> 8);
	w_u8(w, v & 0xFF);
}

static void
w_u32(struct wr *w, uint32_t v)
{
	w_u16(w, v >> 16);
	w_u16(w, v & 0xFFFF);
}

static void
w_varint(struct wr *w, size_t v)
{
	if (v > SIM_MQTT_MAX_REMAINING) {
		w->err = SIM_ERR_TOOBIG;
		return;
	}
	do {
		uint8_t b = v & 0x7F;

		v >>= 7;
		w_u8(w, b | (v ? 0x80 : 0));
	} while (v);
}

static void
w_bytes(struct wr *w, const void *s, size_t n)
{
	if (w->p != NULL && n > 0)
		memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void
w_bin(struct wr *w, const void *s, size_t n)
{
	if (n > 0xFFFF) {
		w->err = SIM_ERR_TOOBIG;
		return;
	}
	w_u16(w, (uint16_t)n);
	w_bytes(w, s, n);
}

static void
props_body(struct wr *w, const struct sim_mqtt_pkt_props *pp)
{
	struct sim_mqtt_user_prop u;
	size_t it;
	uint32_t v;

	for (uint32_t id = 1; id < NPROPS; id++) {
		const char *field = (const char *)pp + ptab[id].off;

		if ((pp->present & SIM_MQTT_PROP_BIT(id)) == 0)
			continue;
		switch (ptab[id].type) {
		case P_BYTE:
			w_u8(w, (uint8_t)id);
			w_u8(w, *(const uint8_t *)field);
			break;
		case P_U16:
			w_u8(w, (uint8_t)id);
			w_u16(w, *(const uint16_t *)field);
			break;
		case P_U32:
			w_u8(w, (uint8_t)id);
			w_u32(w, *(const uint32_t *)field);
			break;
		case P_STR: {
			const struct sim_mqtt_str *s = (const struct sim_mqtt_str *)field;

			w_u8(w, (uint8_t)id);
			w_bin(w, s->ptr, s->len);
			break;
		}
		case P_BIN: {
			const struct sim_mqtt_bin *b = (const struct sim_mqtt_bin *)field;

			w_u8(w, (uint8_t)id);
			w_bin(w, b->ptr, b->len);
			break;
		}
		default:
			break;  /* repeated properties below */
		}
	}
	for (it = 0; sim_mqtt_sub_id_next(pp, &it, &v);) {
		if (v == 0) {
			w->err = SIM_ERR_INVAL;
			return;
		}
		w_u8(w, SIM_MQTT_PROP_SUB_ID);
		w_varint(w, v);
	}
	for (it = 0; sim_mqtt_user_prop_next(pp, &it, &u);) {
		w_u8(w, SIM_MQTT_PROP_USER);
		w_bin(w, u.key, u.key_len);
		w_bin(w, u.val, u.val_len);
	}
}

static size_t
props_len(const struct sim_mqtt_pkt_props *pp, enum sim_err *err)
{
	struct wr c = { 0 };

	props_body(&c, pp);
	if (c.err != SIM_OK)
		*err = c.err;
	return c.len;
}

/* Property Length then the properties. */
static void
w_props(struct wr *w, const struct sim_mqtt_pkt_props *pp)
{
	w_varint(w, props_len(pp, &w->err));
	props_body(w, pp);
}

static void
enc_connect(struct wr *w, const struct sim_mqtt_pkt *p, bool v5, int version)
{
	const struct sim_mqtt_connect *c = &p->connect;
	uint8_t flags = 0;

	if (c->will_qos > 2 || (!c->will && (c->will_qos || c->will_retain)) ||
	    (!v5 && c->has_password && !c->has_username)) {
		w->err = SIM_ERR_INVAL;
		return;
	}
	flags |= c->has_username ? 0x80 : 0;
	flags |= c->has_password ? 0x40 : 0;
	flags |= c->will_retain ? 0x20 : 0;
	flags |= (uint8_t)(c->will_qos << 3);
	flags |= c->will ? 0x04 : 0;
	flags |= c->clean_start ? 0x02 : 0;
	w_bin(w, "MQTT", 4);
	w_u8(w, (uint8_t)version);
	w_u8(w, flags);
	w_u16(w, c->keepalive);
	if (v5)
		w_props(w, &p->props);
	w_bin(w, c->client_id.ptr, c->client_id.len);
	if (c->will) {
		if (v5)
			w_props(w, &c->will_props);
		w_bin(w, c->will_topic.ptr, c->will_topic.len);
		w_bin(w, c->will_payload.ptr, c->will_payload.len);
	}
	if (c->has_username)
		w_bin(w, c->username.ptr, c->username.len);
	if (c->has_password)
		w_bin(w, c->password.ptr, c->password.len);
}

static void
enc_publish(struct wr *w, const struct sim_mqtt_pkt *p, bool v5)
{
	const struct sim_mqtt_publish *m = &p->publish;
	bool alias = p->props.present & SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_TOPIC_ALIAS);

	if (m->qos > 2 || (m->qos > 0 && m->packet_id == 0) || (m->qos == 0 && m->dup) ||
	    (m->topic.len == 0 && !(v5 && alias))) {
		w->err = SIM_ERR_INVAL;
		return;
	}
	w_bin(w, m->topic.ptr, m->topic.len);
	if (m->qos > 0)
		w_u16(w, m->packet_id);
	if (v5)
		w_props(w, &p->props);
	w_bytes(w, m->payload.ptr, m->payload.len);
}

static void
enc_ack(struct wr *w, const struct sim_mqtt_pkt *p, bool v5)
{
	enum sim_err err = SIM_OK;
	size_t plen;

	if (p->ack.packet_id == 0) {
		w->err = SIM_ERR_INVAL;
		return;
	}
	w_u16(w, p->ack.packet_id);
	if (!v5)
		return;
	plen = props_len(&p->props, &err);
	if (err != SIM_OK)
		w->err = err;
	/* The short forms of 3.4.2.1. */
	if (plen == 0 && p->ack.reason == 0)
		return;
	w_u8(w, p->ack.reason);
	if (plen > 0)
		w_props(w, &p->props);
}

static void
enc_subscribe(struct wr *w, const struct sim_mqtt_pkt *p, bool v5)
{
	struct sim_mqtt_sub s;
	size_t it, n = 0;

	if (p->subscribe.packet_id == 0) {
		w->err = SIM_ERR_INVAL;
		return;
	}
	w_u16(w, p->subscribe.packet_id);
	if (v5)
		w_props(w, &p->props);
	for (it = 0; sim_mqtt_topics_next(p, &it, &s); n++) {
		w_bin(w, s.filter.ptr, s.filter.len);
		if (p->type == SIM_MQTT_SUBSCRIBE) {
			if ((s.opts & 3) == 3 || (v5 ? (s.opts & 0xC0) != 0 : (s.opts & 0xFC) != 0)) {
				w->err = SIM_ERR_INVAL;
				return;
			}
			w_u8(w, s.opts);
		}
	}
	if (n == 0)
		w->err = SIM_ERR_INVAL;
}

static void
enc_suback(struct wr *w, const struct sim_mqtt_pkt *p, bool v5)
{
	const struct sim_mqtt_suback *s = &p->suback;

	if (s->packet_id == 0) {
		w->err = SIM_ERR_INVAL;
		return;
	}
	w_u16(w, s->packet_id);
	if (!v5 && p->type == SIM_MQTT_UNSUBACK)
		return;
	if (s->ncodes == 0) {
		w->err = SIM_ERR_INVAL;
		return;
	}
	if (v5)
		w_props(w, &p->props);
	w_bytes(w, s->codes, s->ncodes);
}

static void
enc_reason(struct wr *w, const struct sim_mqtt_pkt *p, bool v5)
{
	enum sim_err err = SIM_OK;
	size_t plen;

	if (!v5)
		return;
	plen = props_len(&p->props, &err);
	if (err != SIM_OK)
		w->err = err;
	if (plen == 0 && p->disconnect.reason == 0)
		return;
	w_u8(w, p->disconnect.reason);
	if (plen > 0)
		w_props(w, &p->props);
}

static void
enc_body(struct wr *w, const struct sim_mqtt_pkt *p, int version)
{
	bool v5 = version == SIM_MQTT_PROTO_V5;

	switch (p->type) {
	case SIM_MQTT_CONNECT: enc_connect(w, p, v5, version); break;
	case SIM_MQTT_CONNACK:
		w_u8(w, p->connack.session_present ? 1 : 0);
		w_u8(w, p->connack.reason);
		if (v5)
			w_props(w, &p->props);
		break;
	case SIM_MQTT_PUBLISH: enc_publish(w, p, v5); break;
	case SIM_MQTT_PUBACK:
	case SIM_MQTT_PUBREC:
	case SIM_MQTT_PUBREL:
	case SIM_MQTT_PUBCOMP: enc_ack(w, p, v5); break;
	case SIM_MQTT_SUBSCRIBE:
	case SIM_MQTT_UNSUBSCRIBE: enc_subscribe(w, p, v5); break;
	case SIM_MQTT_SUBACK:
	case SIM_MQTT_UNSUBACK: enc_suback(w, p, v5); break;
	case SIM_MQTT_PINGREQ:
	case SIM_MQTT_PINGRESP: break;
	case SIM_MQTT_AUTH:
		if (!v5)
			w->err = SIM_ERR_INVAL;
		/* fall through */
	case SIM_MQTT_DISCONNECT: enc_reason(w, p, v5); break;
	default: w->err = SIM_ERR_INVAL; break;
	}
}

static uint8_t
first_byte(const struct sim_mqtt_pkt *p)
{
	uint8_t b = (uint8_t)(p->type << 4);

	if (p->type == SIM_MQTT_PUBLISH)
		return b | (p->publish.dup ? 0x08 : 0) | (uint8_t)(p->publish.qos << 1) |
		    (p->publish.retain ? 0x01 : 0);
	return b | fixed_flags[p->type & 0x0F];
}

static size_t
varint_len(size_t v)
{
	return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

/* Sizes the body into *rem. */
static enum sim_err
measure(const struct sim_mqtt_pkt *p, int version, size_t *rem)
{
	struct wr c = { 0 };

	if (version != SIM_MQTT_PROTO_V311 && version != SIM_MQTT_PROTO_V5)
		return SIM_ERR_INVAL;
	enc_body(&c, p, version);
	if (c.err != SIM_OK)
		return c.err;
	if (c.len > SIM_MQTT_MAX_REMAINING)
		return SIM_ERR_TOOBIG;
	*rem = c.len;
	return SIM_OK;
}

enum sim_err
sim_mqtt_encoded_len(const struct sim_mqtt_pkt *p, int version, size_t *len)
{
	enum sim_err err;
	size_t rem;

	TRY(measure(p, version, &rem));
	*len = 1 + varint_len(rem) + rem;
out:
	return err;
}

enum sim_err
sim_mqtt_encode(const struct sim_mqtt_pkt *p, int version, uint8_t *buf, size_t cap, size_t *len)
{
	struct wr w = { .p = buf };
	enum sim_err err;
	size_t rem;

	TRY(measure(p, version, &rem));
	*len = 1 + varint_len(rem) + rem;
	if (cap < *len || buf == NULL)
		FAIL(SIM_ERR_TOOBIG);
	w_u8(&w, first_byte(p));
	w_varint(&w, rem);
	enc_body(&w, p, version);
	err = w.err;
out:
	return err;
}

/* ---- comparison ---- */

static bool
str_eq(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static bool
props_equal(const struct sim_mqtt_pkt_props *a, const struct sim_mqtt_pkt_props *b)
{
	const uint64_t multi = SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_USER) |
	    SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_SUB_ID);
	struct sim_mqtt_user_prop ua, ub;
	size_t ia = 0, ib = 0;
	uint32_t sa, sb;
	bool ha, hb;

	if ((a->present & ~multi) != (b->present & ~multi))
		return false;
	for (uint32_t id = 1; id < NPROPS; id++) {
		const char *fa = (const char *)a + ptab[id].off;
		const char *fb = (const char *)b + ptab[id].off;
		const struct sim_mqtt_str *xa = (const struct sim_mqtt_str *)fa;
		const struct sim_mqtt_str *xb = (const struct sim_mqtt_str *)fb;
		const struct sim_mqtt_bin *ba = (const struct sim_mqtt_bin *)fa;
		const struct sim_mqtt_bin *bb = (const struct sim_mqtt_bin *)fb;
		bool same = true;

		if ((a->present & SIM_MQTT_PROP_BIT(id)) == 0)
			continue;
		switch (ptab[id].type) {
		case P_BYTE: same = *(const uint8_t *)fa == *(const uint8_t *)fb; break;
		case P_U16: same = *(const uint16_t *)fa == *(const uint16_t *)fb; break;
		case P_U32: same = *(const uint32_t *)fa == *(const uint32_t *)fb; break;
		case P_STR: same = str_eq(xa->ptr, xa->len, xb->ptr, xb->len); break;
		case P_BIN: same = str_eq(ba->ptr, ba->len, bb->ptr, bb->len); break;
		default: break;
		}
		if (!same)
			return false;
	}
	for (;;) {
		ha = sim_mqtt_user_prop_next(a, &ia, &ua);
		hb = sim_mqtt_user_prop_next(b, &ib, &ub);
		if (ha != hb)
			return false;
		if (!ha)
			break;
		if (!str_eq(ua.key, ua.key_len, ub.key, ub.key_len) ||
		    !str_eq(ua.val, ua.val_len, ub.val, ub.val_len))
			return false;
	}
	ia = ib = 0;
	for (;;) {
		ha = sim_mqtt_sub_id_next(a, &ia, &sa);
		hb = sim_mqtt_sub_id_next(b, &ib, &sb);
		if (ha != hb)
			return false;
		if (!ha)
			break;
		if (sa != sb)
			return false;
	}
	return true;
}

#define SEQ(x, y) str_eq((x).ptr, (x).len, (y).ptr, (y).len)

static bool
body_equal(const struct sim_mqtt_pkt *a, const struct sim_mqtt_pkt *b, bool v5)
{
	switch (a->type) {
	case SIM_MQTT_CONNECT: {
		const struct sim_mqtt_connect *x = &a->connect, *y = &b->connect;

		if (x->clean_start != y->clean_start || x->will != y->will ||
		    x->has_username != y->has_username || x->has_password != y->has_password ||
		    x->keepalive != y->keepalive || !SEQ(x->client_id, y->client_id))
			return false;
		if (x->will && (x->will_qos != y->will_qos || x->will_retain != y->will_retain ||
		    !SEQ(x->will_topic, y->will_topic) || !SEQ(x->will_payload, y->will_payload) ||
		    (v5 && !props_equal(&x->will_props, &y->will_props))))
			return false;
		return (!x->has_username || SEQ(x->username, y->username)) &&
		    (!x->has_password || SEQ(x->password, y->password));
	}
	case SIM_MQTT_CONNACK:
		return a->connack.session_present == b->connack.session_present &&
		    a->connack.reason == b->connack.reason;
	case SIM_MQTT_PUBLISH: {
		const struct sim_mqtt_publish *x = &a->publish, *y = &b->publish;

		return x->qos == y->qos && x->dup == y->dup && x->retain == y->retain &&
		    (x->qos == 0 || x->packet_id == y->packet_id) && SEQ(x->topic, y->topic) &&
		    SEQ(x->payload, y->payload);
	}
	case SIM_MQTT_PUBACK:
	case SIM_MQTT_PUBREC:
	case SIM_MQTT_PUBREL:
	case SIM_MQTT_PUBCOMP:
		return a->ack.packet_id == b->ack.packet_id && (!v5 || a->ack.reason == b->ack.reason);
	case SIM_MQTT_SUBSCRIBE:
	case SIM_MQTT_UNSUBSCRIBE: {
		struct sim_mqtt_sub sa, sb;
		size_t ia = 0, ib = 0;
		bool ha, hb;

		if (a->subscribe.packet_id != b->subscribe.packet_id)
			return false;
		for (;;) {
			ha = sim_mqtt_topics_next(a, &ia, &sa);
			hb = sim_mqtt_topics_next(b, &ib, &sb);
			if (ha != hb)
				return false;
			if (!ha)
				return true;
			if (!SEQ(sa.filter, sb.filter) ||
			    (a->type == SIM_MQTT_SUBSCRIBE && sa.opts != sb.opts))
				return false;
		}
	}
	case SIM_MQTT_SUBACK:
	case SIM_MQTT_UNSUBACK:
		if (a->suback.packet_id != b->suback.packet_id)
			return false;
		return (!v5 && a->type == SIM_MQTT_UNSUBACK) ||
		    str_eq(a->suback.codes, a->suback.ncodes, b->suback.codes, b->suback.ncodes);
	case SIM_MQTT_DISCONNECT:
	case SIM_MQTT_AUTH:
		return !v5 || a->disconnect.reason == b->disconnect.reason;
	default:
		return true;
	}
}

bool
sim_mqtt_pkt_equal(const struct sim_mqtt_pkt *a, const struct sim_mqtt_pkt *b, int version)
{
	bool v5 = version == SIM_MQTT_PROTO_V5;

	if (a->type != b->type || !body_equal(a, b, v5))
		return false;
	return !v5 || props_equal(&a->props, &b->props);
}

/* ---- names ---- */

const char *
sim_mqtt_type_name(int type)
{
	static const char *const names[] = {
		[SIM_MQTT_CONNECT] = "CONNECT", [SIM_MQTT_CONNACK] = "CONNACK",
		[SIM_MQTT_PUBLISH] = "PUBLISH", [SIM_MQTT_PUBACK] = "PUBACK",
		[SIM_MQTT_PUBREC] = "PUBREC", [SIM_MQTT_PUBREL] = "PUBREL",
		[SIM_MQTT_PUBCOMP] = "PUBCOMP", [SIM_MQTT_SUBSCRIBE] = "SUBSCRIBE",
		[SIM_MQTT_SUBACK] = "SUBACK", [SIM_MQTT_UNSUBSCRIBE] = "UNSUBSCRIBE",
		[SIM_MQTT_UNSUBACK] = "UNSUBACK", [SIM_MQTT_PINGREQ] = "PINGREQ",
		[SIM_MQTT_PINGRESP] = "PINGRESP", [SIM_MQTT_DISCONNECT] = "DISCONNECT",
		[SIM_MQTT_AUTH] = "AUTH",
	};

	if (type < SIM_MQTT_CONNECT || type > SIM_MQTT_AUTH)
		return "?";
	return names[type];
}

const char *
sim_mqtt_reason_str(int version, int type, int code)
{
	static const char *const v311[] = {
		"accepted", "unacceptable protocol version", "identifier rejected",
		"server unavailable", "bad user name or password", "not authorized",
	};

	if (version != SIM_MQTT_PROTO_V5) {
		if (type == SIM_MQTT_SUBACK)
			return code == 0x80 ? "failure" : "granted";
		if (code >= 0 && code <= 5)
			return v311[code];
		return "unknown return code";
	}
	switch (code) {
	case 0x00:
		return type == SIM_MQTT_DISCONNECT ? "normal disconnection" :
		    type == SIM_MQTT_SUBACK ? "granted QoS 0" : "success";
	case 0x01: return "granted QoS 1";
	case 0x02: return "granted QoS 2";
	case 0x04: return "disconnect with will message";
	case 0x10: return "no matching subscribers";
	case 0x11: return "no subscription existed";
	case 0x18: return "continue authentication";
	case 0x19: return "re-authenticate";
	case 0x80: return "unspecified error";
	case 0x81: return "malformed packet";
	case 0x82: return "protocol error";
	case 0x83: return "implementation specific error";
	case 0x84: return "unsupported protocol version";
	case 0x85: return "client identifier not valid";
	case 0x86: return "bad user name or password";
	case 0x87: return "not authorized";
	case 0x88: return "server unavailable";
	case 0x89: return "server busy";
	case 0x8A: return "banned";
	case 0x8B: return "server shutting down";
	case 0x8C: return "bad authentication method";
	case 0x8D: return "keep alive timeout";
	case 0x8E: return "session taken over";
	case 0x8F: return "topic filter invalid";
	case 0x90: return "topic name invalid";
	case 0x91: return "packet identifier in use";
	case 0x92: return "packet identifier not found";
	case 0x93: return "receive maximum exceeded";
	case 0x94: return "topic alias invalid";
	case 0x95: return "packet too large";
	case 0x96: return "message rate too high";
	case 0x97: return "quota exceeded";
	case 0x98: return "administrative action";
	case 0x99: return "payload format invalid";
	case 0x9A: return "retain not supported";
	case 0x9B: return "QoS not supported";
	case 0x9C: return "use another server";
	case 0x9D: return "server moved";
	case 0x9E: return "shared subscriptions not supported";
	case 0x9F: return "connection rate exceeded";
	case 0xA0: return "maximum connect time";
	case 0xA1: return "subscription identifiers not supported";
	case 0xA2: return "wildcard subscriptions not supported";
	}
	return "unknown reason code";
}
