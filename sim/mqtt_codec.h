/* MQTT 3.1.1 and 5.0 packets to and from bytes, without I/O.
 *
 * Decoding is zero-copy: a decoded packet's strings, binary fields, property
 * block and topic lists point into the caller's input buffer, which must stay
 * unchanged while the packet is used. Lists whose length the wire does not
 * bound cheaply (user properties, subscription identifiers, topic filters)
 * are not copied out but walked with the *_next iterators below, so neither
 * decoding nor encoding allocates.
 *
 * The decoder is strict: everything the specifications call malformed or a
 * protocol error that can be seen in one packet is SIM_ERR_PROTO. It never
 * reads beyond (buf, len).
 */
#ifndef SIM_MQTT_CODEC_H
#define SIM_MQTT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_err.h"

/* Protocol levels as they appear in CONNECT; the same values as
 * SIM_MQTT_V311 and SIM_MQTT_V5 in mqtt_client.h. */
enum { SIM_MQTT_PROTO_V311 = 4, SIM_MQTT_PROTO_V5 = 5 };

/* Largest Remaining Length a four-byte variable byte integer can carry. */
#define SIM_MQTT_MAX_REMAINING 268435455u

enum sim_mqtt_type {
	SIM_MQTT_CONNECT = 1,
	SIM_MQTT_CONNACK,
	SIM_MQTT_PUBLISH,
	SIM_MQTT_PUBACK,
	SIM_MQTT_PUBREC,
	SIM_MQTT_PUBREL,
	SIM_MQTT_PUBCOMP,
	SIM_MQTT_SUBSCRIBE,
	SIM_MQTT_SUBACK,
	SIM_MQTT_UNSUBSCRIBE,
	SIM_MQTT_UNSUBACK,
	SIM_MQTT_PINGREQ,
	SIM_MQTT_PINGRESP,
	SIM_MQTT_DISCONNECT,
	SIM_MQTT_AUTH,          /* MQTT 5 only */
};

/* MQTT 5 property identifiers. */
enum sim_mqtt_prop_id {
	SIM_MQTT_PROP_PAYLOAD_FORMAT = 0x01,
	SIM_MQTT_PROP_MESSAGE_EXPIRY = 0x02,
	SIM_MQTT_PROP_CONTENT_TYPE = 0x03,
	SIM_MQTT_PROP_RESPONSE_TOPIC = 0x08,
	SIM_MQTT_PROP_CORRELATION = 0x09,
	SIM_MQTT_PROP_SUB_ID = 0x0B,
	SIM_MQTT_PROP_SESSION_EXPIRY = 0x11,
	SIM_MQTT_PROP_ASSIGNED_CLIENT_ID = 0x12,
	SIM_MQTT_PROP_SERVER_KEEPALIVE = 0x13,
	SIM_MQTT_PROP_AUTH_METHOD = 0x15,
	SIM_MQTT_PROP_AUTH_DATA = 0x16,
	SIM_MQTT_PROP_REQUEST_PROBLEM_INFO = 0x17,
	SIM_MQTT_PROP_WILL_DELAY = 0x18,
	SIM_MQTT_PROP_REQUEST_RESPONSE_INFO = 0x19,
	SIM_MQTT_PROP_RESPONSE_INFO = 0x1A,
	SIM_MQTT_PROP_SERVER_REFERENCE = 0x1C,
	SIM_MQTT_PROP_REASON_STRING = 0x1F,
	SIM_MQTT_PROP_RECEIVE_MAX = 0x21,
	SIM_MQTT_PROP_TOPIC_ALIAS_MAX = 0x22,
	SIM_MQTT_PROP_TOPIC_ALIAS = 0x23,
	SIM_MQTT_PROP_MAX_QOS = 0x24,
	SIM_MQTT_PROP_RETAIN_AVAILABLE = 0x25,
	SIM_MQTT_PROP_USER = 0x26,
	SIM_MQTT_PROP_MAX_PACKET_SIZE = 0x27,
	SIM_MQTT_PROP_WILDCARD_SUB_AVAILABLE = 0x28,
	SIM_MQTT_PROP_SUB_ID_AVAILABLE = 0x29,
	SIM_MQTT_PROP_SHARED_SUB_AVAILABLE = 0x2A,
};

/* The bit for property id in sim_mqtt_pkt_props.present. */
#define SIM_MQTT_PROP_BIT(id) ((uint64_t)1 << (id))

/* A length-delimited string, not NUL-terminated. */
struct sim_mqtt_str {
	const char *ptr;
	size_t len;
};

/* Binary data (correlation data, passwords, payloads). */
struct sim_mqtt_bin {
	const uint8_t *ptr;
	size_t len;
};

/* An MQTT 5 user property (a UTF-8 string pair). */
struct sim_mqtt_user_prop {
	const char *key;
	size_t key_len;
	const char *val;
	size_t val_len;
};

/* The properties of one MQTT 5 packet (or of a CONNECT's will). Only the
 * members whose bit is set in present are meaningful.
 *
 * To encode, set the value and its bit; user properties come from
 * user/nuser and subscription identifiers from sub_ids/nsub_ids, or when
 * sub_ids is NULL from sub_id if its bit is set.
 *
 * A decoded set has raw/raw_len pointing at the property block; nuser and
 * nsub_ids count the repeated properties, sub_id holds the first
 * subscription identifier, and the repeated ones are walked with
 * sim_mqtt_user_prop_next and sim_mqtt_sub_id_next. When user (or sub_ids)
 * is NULL the encoder takes them from raw, so a decoded packet re-encodes. */
struct sim_mqtt_pkt_props {
	uint64_t present;
	uint32_t message_expiry;
	uint32_t session_expiry;
	uint32_t will_delay;
	uint32_t max_packet_size;
	uint32_t sub_id;
	uint16_t server_keepalive;
	uint16_t receive_max;
	uint16_t topic_alias_max;
	uint16_t topic_alias;
	uint8_t payload_format;
	uint8_t request_problem_info;
	uint8_t request_response_info;
	uint8_t max_qos;
	uint8_t retain_available;
	uint8_t wildcard_sub_available;
	uint8_t sub_id_available;
	uint8_t shared_sub_available;
	struct sim_mqtt_str content_type;
	struct sim_mqtt_str response_topic;
	struct sim_mqtt_str assigned_client_id;
	struct sim_mqtt_str auth_method;
	struct sim_mqtt_str response_info;
	struct sim_mqtt_str server_reference;
	struct sim_mqtt_str reason_string;
	struct sim_mqtt_bin correlation;
	struct sim_mqtt_bin auth_data;
	const struct sim_mqtt_user_prop *user;
	size_t nuser;
	const uint32_t *sub_ids;
	size_t nsub_ids;
	const uint8_t *raw;
	size_t raw_len;
};

/* Subscription options (SUBSCRIBE); 3.1.1 only has the QoS bits. */
enum {
	SIM_MQTT_SUB_QOS_MASK = 0x03,
	SIM_MQTT_SUB_NO_LOCAL = 0x04,
	SIM_MQTT_SUB_RETAIN_AS_PUBLISHED = 0x08,
	SIM_MQTT_SUB_RETAIN_HANDLING_SHIFT = 4,   /* two bits; 3 is invalid */
};

/* One topic filter of a SUBSCRIBE (with options) or UNSUBSCRIBE (opts 0). */
struct sim_mqtt_sub {
	struct sim_mqtt_str filter;
	uint8_t opts;
};

/* The topic filters of a SUBSCRIBE or UNSUBSCRIBE: to encode, v[0..n); a
 * decoded list has v NULL, n the count and raw the payload; walk either
 * with sim_mqtt_topics_next. */
struct sim_mqtt_topics {
	const struct sim_mqtt_sub *v;
	size_t n;
	const uint8_t *raw;
	size_t raw_len;
};

struct sim_mqtt_connect {
	uint8_t version;            /* decoded protocol level; encode uses its version argument */
	bool clean_start;
	bool will;
	uint8_t will_qos;
	bool will_retain;
	bool has_username;
	bool has_password;
	uint16_t keepalive;
	struct sim_mqtt_str client_id;
	struct sim_mqtt_pkt_props will_props;
	struct sim_mqtt_str will_topic;
	struct sim_mqtt_bin will_payload;
	struct sim_mqtt_str username;
	struct sim_mqtt_bin password;
};

struct sim_mqtt_connack {
	bool session_present;
	uint8_t reason;             /* 3.1.1 return code or MQTT 5 reason code */
};

struct sim_mqtt_publish {
	struct sim_mqtt_str topic;
	struct sim_mqtt_bin payload;
	uint16_t packet_id;         /* 0 for QoS 0 */
	uint8_t qos;
	bool dup;
	bool retain;
};

/* PUBACK, PUBREC, PUBREL, PUBCOMP. */
struct sim_mqtt_ack {
	uint16_t packet_id;
	uint8_t reason;             /* MQTT 5; 0 under 3.1.1 */
};

/* SUBSCRIBE, UNSUBSCRIBE. */
struct sim_mqtt_subscribe {
	uint16_t packet_id;
	struct sim_mqtt_topics topics;
};

/* SUBACK, and UNSUBACK (whose codes exist only in MQTT 5). */
struct sim_mqtt_suback {
	uint16_t packet_id;
	const uint8_t *codes;
	size_t ncodes;
};

/* DISCONNECT, AUTH. */
struct sim_mqtt_reason {
	uint8_t reason;
};

/* A packet of any type; type selects the union member. props applies to
 * MQTT 5 only and is ignored (and left empty by the decoder) under 3.1.1. */
struct sim_mqtt_pkt {
	enum sim_mqtt_type type;
	struct sim_mqtt_pkt_props props;
	union {
		struct sim_mqtt_connect connect;
		struct sim_mqtt_connack connack;
		struct sim_mqtt_publish publish;
		struct sim_mqtt_ack ack;
		struct sim_mqtt_subscribe subscribe;
		struct sim_mqtt_suback suback;
		struct sim_mqtt_reason disconnect;
	};
};

/* Reads only the fixed header. On SIM_OK *total is the whole packet's size
 * in bytes. SIM_ERR_AGAIN: the header is incomplete (*total is 0).
 * SIM_ERR_TOOBIG: the packet would exceed max_packet bytes (0 = only the
 * protocol's own limit); *total is still set. SIM_ERR_PROTO: packet type 0
 * or a fifth length byte. */
enum sim_err sim_mqtt_peek(const uint8_t *buf, size_t len, uint32_t max_packet, size_t *total);

/* Decodes the packet at the start of buf under protocol version (4 or 5;
 * a CONNECT is decoded by its own protocol level instead). On SIM_OK *used
 * is the packet's size and *out references buf. SIM_ERR_AGAIN: incomplete;
 * *used is the full packet size once the fixed header is readable, else 0.
 * SIM_ERR_TOOBIG as in sim_mqtt_peek, SIM_ERR_PROTO for a malformed packet,
 * SIM_ERR_INVAL for a bad version. */
enum sim_err sim_mqtt_decode(const uint8_t *buf, size_t len, int version, uint32_t max_packet,
    struct sim_mqtt_pkt *out, size_t *used);

/* The encoded size of p under version, in *len. SIM_ERR_INVAL when p cannot
 * be encoded (QoS 3, packet id 0 where one is needed, an empty topic list,
 * AUTH under 3.1.1, a 3.1.1 password without user name), SIM_ERR_TOOBIG when
 * a string exceeds 65535 bytes or the packet the protocol's limit. String
 * contents (UTF-8, wildcards) are the caller's responsibility. */
enum sim_err sim_mqtt_encoded_len(const struct sim_mqtt_pkt *p, int version, size_t *len);

/* Encodes p into buf. *len receives the packet size; SIM_ERR_TOOBIG (with
 * *len set) when cap is smaller. Other errors as sim_mqtt_encoded_len. */
enum sim_err sim_mqtt_encode(const struct sim_mqtt_pkt *p, int version, uint8_t *buf, size_t cap,
    size_t *len);

/* Iterators: *it starts at 0 and is opaque afterwards; each returns false
 * when there are no more items. They work on encoder inputs (arrays) and on
 * decoded packets (raw) alike. */
bool sim_mqtt_user_prop_next(const struct sim_mqtt_pkt_props *p, size_t *it, struct sim_mqtt_user_prop *out);
bool sim_mqtt_sub_id_next(const struct sim_mqtt_pkt_props *p, size_t *it, uint32_t *out);
bool sim_mqtt_topics_next(const struct sim_mqtt_pkt *p, size_t *it, struct sim_mqtt_sub *out);

/* True if a and b carry the same content under version: the fields their
 * type uses, properties (MQTT 5, in any order; repeated ones compared in
 * sequence) and topic lists, whether they came from the decoder or are
 * encoder input. For tests and fuzzing. */
bool sim_mqtt_pkt_equal(const struct sim_mqtt_pkt *a, const struct sim_mqtt_pkt *b, int version);

/* "PUBLISH" etc.; "?" for unknown values. */
const char *sim_mqtt_type_name(int type);

/* A short English name for a CONNACK return code (3.1.1) or an MQTT 5
 * reason code as used in a packet of the given type. Never NULL. */
const char *sim_mqtt_reason_str(int version, int type, int code);

/* True if s is well-formed UTF-8 without U+0000, as MQTT strings must be. */
bool sim_mqtt_utf8_valid(const char *s, size_t len);

#endif
