#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "fs_test.h"
#include "json.h"
#include "tpc_wire.h"

#define TX "\"00000000000004d2\""

static const enum sim_tpc_msg all_kinds[] = {
	SIM_TPC_MSG_PREPARE, SIM_TPC_MSG_VOTE, SIM_TPC_MSG_DECISION, SIM_TPC_MSG_ACK,
	SIM_TPC_MSG_QUERY,
};

/* The body goes into a buffer of exactly its length, without a NUL, so
 * that a sanitized build catches any read past its end. The result points
 * into that buffer, which is kept until the next call. */
static char *last;

static enum sim_err
parse_n(enum sim_tpc_msg kind, const char *text, size_t len, struct sim_tpc_wire *w)
{
	struct sim_tpc_wire scratch;

	free(last);
	last = malloc(len > 0 ? len : 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(last);
	memcpy(last, text, len);
	return sim_tpc_wire_parse(kind, last, len, w != NULL ? w : &scratch);
}

static enum sim_err
parse(enum sim_tpc_msg kind, const char *text, struct sim_tpc_wire *w)
{
	return parse_n(kind, text, strlen(text), w);
}

/* Whether body is refused as malformed; names it on stderr when not, as
 * the assertion alone would not say which of a list it was. */
static int
refused(enum sim_tpc_msg kind, const char *body, size_t len)
{
	enum sim_err e = parse_n(kind, body, len, NULL);

	if (e != SIM_ERR_PROTO)
		fprintf(stderr, "\nnot refused (%s): %.*s\n", sim_err_str(e), (int)len, body);
	return e == SIM_ERR_PROTO;
}

static int
span_is(const char *s, size_t len, const char *want)
{
	return s != NULL && len == strlen(want) && memcmp(s, want, len) == 0;
}

static void
test_txid(void)
{
	static const uint64_t vals[] = { 0, 1, 0x4d2, 0xfedcba9876543210u, UINT64_MAX };
	char hex[17];
	uint64_t t;

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		sim_tpc_txid_hex(vals[i], hex);
		CU_ASSERT_EQUAL(strlen(hex), 16);
		t = 42;
		CU_ASSERT(sim_tpc_txid_parse(hex, 16, &t));
		CU_ASSERT_EQUAL(t, vals[i]);
	}
	sim_tpc_txid_hex(0x4d2, hex);
	CU_ASSERT_STRING_EQUAL(hex, "00000000000004d2");
	sim_tpc_txid_hex(0xfedcba9876543210u, hex);
	CU_ASSERT_STRING_EQUAL(hex, "fedcba9876543210");

	t = 7;
	CU_ASSERT_FALSE(sim_tpc_txid_parse("00000000000004d", 15, &t));
	CU_ASSERT_FALSE(sim_tpc_txid_parse("00000000000004d20", 17, &t));
	CU_ASSERT_FALSE(sim_tpc_txid_parse("00000000000004D2", 16, &t));
	CU_ASSERT_FALSE(sim_tpc_txid_parse("00000000000004g2", 16, &t));
	CU_ASSERT_FALSE(sim_tpc_txid_parse(" 0000000000004d2", 16, &t));
	CU_ASSERT_FALSE(sim_tpc_txid_parse("000000000000000x", 16, &t));
	CU_ASSERT_FALSE(sim_tpc_txid_parse("", 0, &t));
	CU_ASSERT_FALSE(sim_tpc_txid_parse(NULL, 16, &t));
	CU_ASSERT_FALSE(sim_tpc_txid_parse("00000000000004d2", 16, NULL));
	/* A failed parse leaves the output alone. */
	CU_ASSERT_EQUAL(t, 7);
}

/* Encodes w, checks the text, and parses it back into *back. */
static void
encode_is(enum sim_tpc_msg kind, const struct sim_tpc_wire *w, const char *want,
    struct sim_tpc_wire *back)
{
	char buf[512];
	size_t n = sim_tpc_wire_encode(kind, w, buf, sizeof(buf));

	CU_ASSERT_EQUAL(n, strlen(want));
	CU_ASSERT_STRING_EQUAL(buf, want);
	CU_ASSERT_EQUAL(sim_tpc_wire_encode(kind, w, NULL, 0), n);
	CU_ASSERT_EQUAL_FATAL(parse(kind, buf, back), SIM_OK);
}

static void
test_round_trip(void)
{
	struct sim_tpc_wire w = { 0 }, b;

	w.txid = 0x4d2;
	w.change = "{\"every\": 30}";
	w.change_len = strlen(w.change);
	w.deadline_ms = 1767225605000;
	encode_is(SIM_TPC_MSG_PREPARE, &w,
	    "{\"txid\":" TX ",\"change\":{\"every\": 30},\"deadline\":1767225605000}", &b);
	CU_ASSERT_EQUAL(b.txid, 0x4d2);
	CU_ASSERT(span_is(b.change, b.change_len, "{\"every\": 30}"));
	CU_ASSERT_EQUAL(b.deadline_ms, 1767225605000);
	CU_ASSERT_PTR_NULL(b.id);
	CU_ASSERT_PTR_NULL(b.reason);

	memset(&w, 0, sizeof(w));
	w.txid = UINT64_MAX;
	w.id = "rooms-3";
	w.id_len = 7;
	w.vote = 0;
	w.reason = "battery";
	w.reason_len = 7;
	encode_is(SIM_TPC_MSG_VOTE, &w,
	    "{\"txid\":\"ffffffffffffffff\",\"id\":\"rooms-3\",\"vote\":\"no\",\"reason\":\"battery\"}",
	    &b);
	CU_ASSERT_EQUAL(b.txid, UINT64_MAX);
	CU_ASSERT(span_is(b.id, b.id_len, "rooms-3"));
	CU_ASSERT_EQUAL(b.vote, 0);
	CU_ASSERT(span_is(b.reason, b.reason_len, "battery"));

	/* A YES carries no reason, even when the struct holds one. */
	w.vote = 1;
	encode_is(SIM_TPC_MSG_VOTE, &w,
	    "{\"txid\":\"ffffffffffffffff\",\"id\":\"rooms-3\",\"vote\":\"yes\"}", &b);
	CU_ASSERT_EQUAL(b.vote, 1);
	CU_ASSERT_PTR_NULL(b.reason);
	/* A NO without a reason. */
	w.vote = 0;
	w.reason = NULL;
	encode_is(SIM_TPC_MSG_VOTE, &w,
	    "{\"txid\":\"ffffffffffffffff\",\"id\":\"rooms-3\",\"vote\":\"no\"}", &b);
	CU_ASSERT_EQUAL(b.vote, 0);
	CU_ASSERT_PTR_NULL(b.reason);
	/* An empty reason is still a reason. */
	w.reason = "";
	w.reason_len = 0;
	encode_is(SIM_TPC_MSG_VOTE, &w,
	    "{\"txid\":\"ffffffffffffffff\",\"id\":\"rooms-3\",\"vote\":\"no\",\"reason\":\"\"}", &b);
	CU_ASSERT_PTR_NOT_NULL(b.reason);
	CU_ASSERT_EQUAL(b.reason_len, 0);

	memset(&w, 0, sizeof(w));
	w.txid = 0;
	w.decision = 1;
	encode_is(SIM_TPC_MSG_DECISION, &w,
	    "{\"txid\":\"0000000000000000\",\"decision\":\"commit\"}", &b);
	CU_ASSERT_EQUAL(b.txid, 0);
	CU_ASSERT_EQUAL(b.decision, 1);
	w.decision = 0;
	encode_is(SIM_TPC_MSG_DECISION, &w,
	    "{\"txid\":\"0000000000000000\",\"decision\":\"abort\"}", &b);
	CU_ASSERT_EQUAL(b.decision, 0);

	memset(&w, 0, sizeof(w));
	w.txid = 0x4d2;
	w.id = "dev-\xc3\xa9";         /* UTF-8 passes through */
	w.id_len = strlen(w.id);
	w.decision = 1;
	encode_is(SIM_TPC_MSG_ACK, &w,
	    "{\"txid\":" TX ",\"id\":\"dev-\xc3\xa9\",\"decision\":\"commit\"}", &b);
	CU_ASSERT(span_is(b.id, b.id_len, "dev-\xc3\xa9"));
	CU_ASSERT_EQUAL(b.decision, 1);

	encode_is(SIM_TPC_MSG_QUERY, &w, "{\"txid\":" TX ",\"id\":\"dev-\xc3\xa9\"}", &b);
	CU_ASSERT_EQUAL(b.txid, 0x4d2);
	CU_ASSERT(span_is(b.id, b.id_len, "dev-\xc3\xa9"));

	/* Negative and extreme deadlines; an empty change is written as null. */
	memset(&w, 0, sizeof(w));
	w.deadline_ms = INT64_MIN;
	encode_is(SIM_TPC_MSG_PREPARE, &w,
	    "{\"txid\":\"0000000000000000\",\"change\":null,\"deadline\":-9223372036854775808}",
	    &b);
	CU_ASSERT_EQUAL(b.deadline_ms, INT64_MIN);
	CU_ASSERT(span_is(b.change, b.change_len, "null"));
	w.deadline_ms = INT64_MAX;
	w.change = "";
	encode_is(SIM_TPC_MSG_PREPARE, &w,
	    "{\"txid\":\"0000000000000000\",\"change\":null,\"deadline\":9223372036854775807}",
	    &b);
	CU_ASSERT_EQUAL(b.deadline_ms, INT64_MAX);
}

/* What the report parser makes of our output agrees with our parser. */
static void
test_cross_check(void)
{
	struct sim_tpc_wire w = { 0 };
	struct rpt_json *j = NULL;
	char buf[256], err[128];
	size_t n;

	w.txid = 0xabc;
	w.change = "[1, {\"a\": \"\\u00e9\"}, null]";
	w.change_len = strlen(w.change);
	w.deadline_ms = 123456789;
	n = sim_tpc_wire_encode(SIM_TPC_MSG_PREPARE, &w, buf, sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(rpt_json_parse(buf, n, &j, err, sizeof(err)), RPT_OK);
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(j, "txid")), "0000000000000abc");
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_get(j, "deadline")), 123456789);
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(j, "change")), 3);
	rpt_json_free(j);

	w.id = "rooms-3";
	w.id_len = 7;
	w.reason = "flash_full";
	w.reason_len = strlen(w.reason);
	n = sim_tpc_wire_encode(SIM_TPC_MSG_VOTE, &w, buf, sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(rpt_json_parse(buf, n, &j, err, sizeof(err)), RPT_OK);
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(j, "id")), "rooms-3");
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(j, "vote")), "no");
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(j, "reason")), "flash_full");
	rpt_json_free(j);

	for (size_t k = 0; k < sizeof(all_kinds) / sizeof(all_kinds[0]); k++) {
		n = sim_tpc_wire_encode(all_kinds[k], &w, buf, sizeof(buf));
		CU_ASSERT_EQUAL(rpt_json_parse(buf, n, &j, err, sizeof(err)), RPT_OK);
		CU_ASSERT_EQUAL(rpt_json_type(j), RPT_JSON_OBJECT);
		rpt_json_free(j);
		j = NULL;
	}
}

static void
test_member_order(void)
{
	struct sim_tpc_wire w;

	CU_ASSERT_EQUAL_FATAL(parse(SIM_TPC_MSG_PREPARE,
	    "{\"deadline\":5,\"change\":[1,2],\"txid\":" TX "}", &w), SIM_OK);
	CU_ASSERT_EQUAL(w.txid, 0x4d2);
	CU_ASSERT_EQUAL(w.deadline_ms, 5);
	CU_ASSERT(span_is(w.change, w.change_len, "[1,2]"));
	CU_ASSERT_EQUAL_FATAL(parse(SIM_TPC_MSG_PREPARE,
	    "{\"change\":{},\"txid\":" TX ",\"deadline\":6}", &w), SIM_OK);
	CU_ASSERT_EQUAL(w.deadline_ms, 6);
	CU_ASSERT(span_is(w.change, w.change_len, "{}"));

	CU_ASSERT_EQUAL_FATAL(parse(SIM_TPC_MSG_VOTE,
	    "{\"reason\":\"vote_no\",\"vote\":\"no\",\"id\":\"a\",\"txid\":" TX "}", &w), SIM_OK);
	CU_ASSERT(span_is(w.reason, w.reason_len, "vote_no"));
	CU_ASSERT(span_is(w.id, w.id_len, "a"));
	CU_ASSERT_EQUAL(w.vote, 0);
	CU_ASSERT_EQUAL_FATAL(parse(SIM_TPC_MSG_ACK,
	    "{\"decision\":\"abort\",\"id\":\"b\",\"txid\":" TX "}", &w), SIM_OK);
	CU_ASSERT_EQUAL(w.decision, 0);
	CU_ASSERT(span_is(w.id, w.id_len, "b"));
	CU_ASSERT_EQUAL_FATAL(parse(SIM_TPC_MSG_QUERY, "{\"id\":\"c\",\"txid\":" TX "}", &w),
	    SIM_OK);
	CU_ASSERT(span_is(w.id, w.id_len, "c"));
}

static void
test_unknown_members(void)
{
	struct sim_tpc_wire w;

	CU_ASSERT_EQUAL_FATAL(parse(SIM_TPC_MSG_DECISION,
	    "{\"x\":{\"txid\":\"ffffffffffffffff\",\"decision\":[\"}\",{\"]\":null}]},"
	    "\"txid\":" TX ",\"y\":[[[]],{},\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"],"
	    "\"decision\":\"commit\",\"z\":-0.5e+10,\"t\":true,\"f\":false,\"n\":null,"
	    "\"\":0,\"\\u0000\":1,\"caf\xc3\xa9\":2}", &w), SIM_OK);
	CU_ASSERT_EQUAL(w.txid, 0x4d2);
	CU_ASSERT_EQUAL(w.decision, 1);

	/* Members of other kinds are unknown here: the escape in id does not
	 * matter to a DECISION, nor the fraction in deadline to a QUERY. */
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_DECISION,
	    "{\"txid\":" TX ",\"decision\":\"abort\",\"id\":\"a\\u0062\",\"vote\":7}", &w), SIM_OK);
	CU_ASSERT_PTR_NULL(w.id);
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_QUERY,
	    "{\"txid\":" TX ",\"id\":\"q\",\"deadline\":1.5,\"change\":\"x\"}", &w), SIM_OK);
	CU_ASSERT_PTR_NULL(w.change);
	CU_ASSERT_EQUAL(w.deadline_ms, 0);
	/* A reason beside a YES is ignored, whatever it is. */
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_VOTE,
	    "{\"txid\":" TX ",\"id\":\"a\",\"vote\":\"yes\",\"reason\":[\"\\n\"]}", &w), SIM_OK);
	CU_ASSERT_PTR_NULL(w.reason);
	CU_ASSERT_EQUAL(w.vote, 1);

	/* A name is its decoded text: escaped, it is still the member. */
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_QUERY,
	    "{\"t\\u0078id\":" TX ",\"\\u0069\\u0064\":\"q\"}", &w), SIM_OK);
	CU_ASSERT_EQUAL(w.txid, 0x4d2);
	CU_ASSERT(span_is(w.id, w.id_len, "q"));
	/* Names that only look alike are other members. */
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_QUERY,
	    "{\"txid\":" TX ",\"id\\u0000\":\"q\"}", &w), SIM_ERR_PROTO);
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_QUERY, "{\"txid\":" TX ",\"ID\":\"q\"}", &w),
	    SIM_ERR_PROTO);
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_QUERY, "{\"txid\":" TX ",\"i\":\"q\"}", &w),
	    SIM_ERR_PROTO);
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_QUERY, "{\"txid\":" TX ",\"idx\":\"q\"}", &w),
	    SIM_ERR_PROTO);
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_QUERY, "{\"txid\":" TX ",\"\\u00e9d\":\"q\"}", &w),
	    SIM_ERR_PROTO);
}

static void
test_duplicates(void)
{
	struct sim_tpc_wire w;

	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_ACK, "{\"txid\":\"0000000000000001\",\"id\":\"a\","
	    "\"decision\":\"commit\",\"txid\":\"0000000000000002\",\"id\":\"b\","
	    "\"decision\":\"abort\"}", &w), SIM_OK);
	CU_ASSERT_EQUAL(w.txid, 2);
	CU_ASSERT(span_is(w.id, w.id_len, "b"));
	CU_ASSERT_EQUAL(w.decision, 0);
	/* Only the last one counts, invalid or not. */
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_QUERY,
	    "{\"txid\":\"bad\",\"id\":7,\"txid\":" TX ",\"id\":\"a\"}", &w), SIM_OK);
	CU_ASSERT_EQUAL(w.txid, 0x4d2);
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_QUERY,
	    "{\"txid\":" TX ",\"id\":\"a\",\"txid\":\"bad\"}", &w), SIM_ERR_PROTO);
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_PREPARE,
	    "{\"txid\":" TX ",\"change\":1,\"deadline\":2,\"change\":{\"b\":2}}", &w), SIM_OK);
	CU_ASSERT(span_is(w.change, w.change_len, "{\"b\":2}"));
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_VOTE, "{\"txid\":" TX ",\"id\":\"a\",\"vote\":\"no\","
	    "\"reason\":\"x\",\"reason\":\"battery\"}", &w), SIM_OK);
	CU_ASSERT(span_is(w.reason, w.reason_len, "battery"));
}

static void
test_malformed_members(void)
{
	static const struct {
		enum sim_tpc_msg kind;
		const char *body;
	} bad[] = {
		/* txid */
		{ SIM_TPC_MSG_QUERY, "{\"txid\":\"00000000000004d\",\"id\":\"a\"}" },
		{ SIM_TPC_MSG_QUERY, "{\"txid\":\"00000000000004d20\",\"id\":\"a\"}" },
		{ SIM_TPC_MSG_QUERY, "{\"txid\":\"00000000000004D2\",\"id\":\"a\"}" },
		{ SIM_TPC_MSG_QUERY, "{\"txid\":\"\",\"id\":\"a\"}" },
		{ SIM_TPC_MSG_QUERY, "{\"txid\":1234,\"id\":\"a\"}" },
		{ SIM_TPC_MSG_QUERY, "{\"txid\":null,\"id\":\"a\"}" },
		{ SIM_TPC_MSG_QUERY, "{\"txid\":[" TX "],\"id\":\"a\"}" },
		{ SIM_TPC_MSG_QUERY, "{\"txid\":\"\\u00300000000000004d2\",\"id\":\"a\"}" },
		{ SIM_TPC_MSG_QUERY, "{\"txid\":\"00000000000004d2\\u0000\",\"id\":\"a\"}" },
		/* id */
		{ SIM_TPC_MSG_QUERY, "{\"txid\":" TX ",\"id\":7}" },
		{ SIM_TPC_MSG_QUERY, "{\"txid\":" TX ",\"id\":null}" },
		{ SIM_TPC_MSG_QUERY, "{\"txid\":" TX ",\"id\":{\"a\":1}}" },
		{ SIM_TPC_MSG_QUERY, "{\"txid\":" TX ",\"id\":\"ro\\u006fms\"}" },
		{ SIM_TPC_MSG_ACK, "{\"txid\":" TX ",\"id\":\"a\\\"b\",\"decision\":\"abort\"}" },
		{ SIM_TPC_MSG_VOTE, "{\"txid\":" TX ",\"id\":\"a\\/b\",\"vote\":\"yes\"}" },
		/* vote and reason */
		{ SIM_TPC_MSG_VOTE, "{\"txid\":" TX ",\"id\":\"a\",\"vote\":true}" },
		{ SIM_TPC_MSG_VOTE, "{\"txid\":" TX ",\"id\":\"a\",\"vote\":1}" },
		{ SIM_TPC_MSG_VOTE, "{\"txid\":" TX ",\"id\":\"a\",\"vote\":\"YES\"}" },
		{ SIM_TPC_MSG_VOTE, "{\"txid\":" TX ",\"id\":\"a\",\"vote\":\"maybe\"}" },
		{ SIM_TPC_MSG_VOTE, "{\"txid\":" TX ",\"id\":\"a\",\"vote\":\"ye\"}" },
		{ SIM_TPC_MSG_VOTE, "{\"txid\":" TX ",\"id\":\"a\",\"vote\":\"yes \"}" },
		{ SIM_TPC_MSG_VOTE, "{\"txid\":" TX ",\"id\":\"a\",\"vote\":\"y\\u0065s\"}" },
		{ SIM_TPC_MSG_VOTE, "{\"txid\":" TX ",\"id\":\"a\",\"vote\":\"no\",\"reason\":3}" },
		{ SIM_TPC_MSG_VOTE, "{\"txid\":" TX ",\"id\":\"a\",\"vote\":\"no\",\"reason\":null}" },
		{ SIM_TPC_MSG_VOTE, "{\"txid\":" TX ",\"id\":\"a\",\"vote\":\"no\",\"reason\":\"a\\tb\"}" },
		/* decision */
		{ SIM_TPC_MSG_DECISION, "{\"txid\":" TX ",\"decision\":\"Commit\"}" },
		{ SIM_TPC_MSG_DECISION, "{\"txid\":" TX ",\"decision\":1}" },
		{ SIM_TPC_MSG_DECISION, "{\"txid\":" TX ",\"decision\":\"aborted\"}" },
		{ SIM_TPC_MSG_ACK, "{\"txid\":" TX ",\"id\":\"a\",\"decision\":false}" },
		/* deadline */
		{ SIM_TPC_MSG_PREPARE, "{\"txid\":" TX ",\"change\":1,\"deadline\":\"5\"}" },
		{ SIM_TPC_MSG_PREPARE, "{\"txid\":" TX ",\"change\":1,\"deadline\":1.5}" },
		{ SIM_TPC_MSG_PREPARE, "{\"txid\":" TX ",\"change\":1,\"deadline\":1.0}" },
		{ SIM_TPC_MSG_PREPARE, "{\"txid\":" TX ",\"change\":1,\"deadline\":1e3}" },
		{ SIM_TPC_MSG_PREPARE, "{\"txid\":" TX ",\"change\":1,\"deadline\":1E3}" },
		{ SIM_TPC_MSG_PREPARE, "{\"txid\":" TX ",\"change\":1,\"deadline\":null}" },
		{ SIM_TPC_MSG_PREPARE, "{\"txid\":" TX ",\"change\":1,\"deadline\":[5]}" },
		{ SIM_TPC_MSG_PREPARE, "{\"txid\":" TX ",\"change\":1,\"deadline\":9223372036854775808}" },
		{ SIM_TPC_MSG_PREPARE, "{\"txid\":" TX ",\"change\":1,\"deadline\":-9223372036854775809}" },
		{ SIM_TPC_MSG_PREPARE, "{\"txid\":" TX ",\"change\":1,\"deadline\":99999999999999999999}" },
		/* missing members */
		{ SIM_TPC_MSG_PREPARE, "{\"change\":1,\"deadline\":1}" },
		{ SIM_TPC_MSG_PREPARE, "{\"txid\":" TX ",\"deadline\":1}" },
		{ SIM_TPC_MSG_PREPARE, "{\"txid\":" TX ",\"change\":1}" },
		{ SIM_TPC_MSG_VOTE, "{\"id\":\"a\",\"vote\":\"yes\"}" },
		{ SIM_TPC_MSG_VOTE, "{\"txid\":" TX ",\"vote\":\"yes\"}" },
		{ SIM_TPC_MSG_VOTE, "{\"txid\":" TX ",\"id\":\"a\"}" },
		{ SIM_TPC_MSG_VOTE, "{\"txid\":" TX ",\"id\":\"a\",\"reason\":\"battery\"}" },
		{ SIM_TPC_MSG_DECISION, "{\"decision\":\"commit\"}" },
		{ SIM_TPC_MSG_DECISION, "{\"txid\":" TX "}" },
		{ SIM_TPC_MSG_ACK, "{\"id\":\"a\",\"decision\":\"commit\"}" },
		{ SIM_TPC_MSG_ACK, "{\"txid\":" TX ",\"decision\":\"commit\"}" },
		{ SIM_TPC_MSG_ACK, "{\"txid\":" TX ",\"id\":\"a\"}" },
		{ SIM_TPC_MSG_QUERY, "{\"id\":\"a\"}" },
		{ SIM_TPC_MSG_QUERY, "{\"txid\":" TX "}" },
		{ SIM_TPC_MSG_QUERY, "{}" },
		/* a member nested deeper does not count */
		{ SIM_TPC_MSG_QUERY, "{\"txid\":" TX ",\"x\":{\"id\":\"a\"}}" },
		{ SIM_TPC_MSG_QUERY, "{\"txid\":" TX ",\"x\":[\"id\",\"a\"]}" },
	};
	struct sim_tpc_wire w;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT(refused(bad[i].kind, bad[i].body, strlen(bad[i].body)));
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_PREPARE,
	    "{\"txid\":" TX ",\"change\":1,\"deadline\":-9223372036854775808}", &w), SIM_OK);
	CU_ASSERT_EQUAL(w.deadline_ms, INT64_MIN);
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_PREPARE,
	    "{\"txid\":" TX ",\"change\":1,\"deadline\":-0}", &w), SIM_OK);
	CU_ASSERT_EQUAL(w.deadline_ms, 0);
	/* An empty id is a string like any other; the caller finds no device. */
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_QUERY, "{\"txid\":" TX ",\"id\":\"\"}", &w), SIM_OK);
	CU_ASSERT_EQUAL(w.id_len, 0);
}

static void
test_malformed_json(void)
{
	static const char *const bad[] = {
		"",
		" \n\t ",
		"null",
		"[]",
		"\"x\"",
		"{",
		"}",
		"{\"txid\":" TX ",\"id\":\"a\"}x",
		"{\"txid\":" TX ",\"id\":\"a\"}{}",
		"{\"txid\":" TX ",\"id\":\"a\"},",
		"{\"txid\":" TX ",\"id\":\"a\"} }",
		"x{\"txid\":" TX ",\"id\":\"a\"}",
		"\xef\xbb\xbf{\"txid\":" TX ",\"id\":\"a\"}",      /* a BOM */
		"{\"txid\":" TX ",\"id\":\"a\",}",
		"{,\"txid\":" TX ",\"id\":\"a\"}",
		"{\"txid\":" TX ",,\"id\":\"a\"}",
		"{\"txid\":" TX " \"id\":\"a\"}",
		"{\"txid\" " TX ",\"id\":\"a\"}",
		"{\"txid\":" TX ",\"id\"}",
		"{\"txid\":" TX ",\"id\":}",
		"{\"txid\":" TX ",id:\"a\"}",
		"{'txid':" TX ",\"id\":\"a\"}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":01}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":1.}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":.5}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":+1}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":-}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":1e}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":1e+}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":0x1}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":tru}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":True}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":nul}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":NaN}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":[1,]}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":[,1]}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":[1 2]}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":[}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":{]}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":{\"a\"}}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":{1:2}}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":\"\\x\"}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":\"\\u12g4\"}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":\"\\u12\"}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":\"\\ud83d\"}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":\"\\ud83d\\u0041\"}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":\"\\ude00\"}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":\"a\tb\"}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":\"a\nb\"}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":\"\xff\"}",
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":\"\xc0\xaf\"}",               /* overlong */
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":\"\xed\xa0\x80\"}",           /* surrogate */
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":\"\xf4\x90\x80\x80\"}",       /* > U+10FFFF */
		"{\"txid\":" TX ",\"id\":\"a\",\"x\":\"\xe2\x82\"}",               /* truncated */
		"{\"txid\":" TX ",\"id\":\"a\xc3\"}",
		"{\"txid\":" TX ",\"id\":\"a\"}\f",
		"\v{\"txid\":" TX ",\"id\":\"a\"}",
		"{\"txid\":" TX ",\"id\":\"a\"}/* */",
	};
	struct sim_tpc_wire w;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT(refused(SIM_TPC_MSG_QUERY, bad[i], strlen(bad[i])));
	/* A NUL in the body is no different from other bytes. */
	{
		static const char tail[] = "{\"txid\":" TX ",\"id\":\"a\"}\0";
		static const char inside[] = "{\"txid\":" TX ",\"id\":\"a\0\"}";

		CU_ASSERT_EQUAL(parse_n(SIM_TPC_MSG_QUERY, tail, sizeof(tail) - 1, &w),
		    SIM_ERR_PROTO);
		CU_ASSERT_EQUAL(parse_n(SIM_TPC_MSG_QUERY, inside, sizeof(inside) - 1, &w),
		    SIM_ERR_PROTO);
		CU_ASSERT_EQUAL(parse_n(SIM_TPC_MSG_QUERY, tail, sizeof(tail) - 2, &w), SIM_OK);
	}
	/* Valid UTF-8 of every length is fine. */
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_QUERY,
	    "{\"txid\":" TX ",\"id\":\"\xc2\x80\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"}", &w),
	    SIM_OK);
	CU_ASSERT_EQUAL(w.id_len, 13);
}

static void
test_invalid_arguments(void)
{
	struct sim_tpc_wire w = { 0 };
	const char *q = "{\"txid\":" TX ",\"id\":\"a\"}";
	char buf[8];

	CU_ASSERT_EQUAL(sim_tpc_wire_parse(SIM_TPC_MSG_QUERY, q, strlen(q), NULL), SIM_ERR_INVAL);
	CU_ASSERT_EQUAL(sim_tpc_wire_parse(SIM_TPC_MSG_QUERY, NULL, 5, &w), SIM_ERR_INVAL);
	CU_ASSERT_EQUAL(sim_tpc_wire_parse((enum sim_tpc_msg)99, q, strlen(q), &w), SIM_ERR_INVAL);
	CU_ASSERT_EQUAL(sim_tpc_wire_parse((enum sim_tpc_msg)-1, q, strlen(q), &w), SIM_ERR_INVAL);
	CU_ASSERT_EQUAL(sim_tpc_wire_parse(SIM_TPC_MSG_QUERY, NULL, 0, &w), SIM_ERR_PROTO);
	CU_ASSERT_EQUAL(sim_tpc_wire_parse(SIM_TPC_MSG_QUERY, q, strlen(q), &w), SIM_OK);

	memset(buf, 'x', sizeof(buf));
	CU_ASSERT_EQUAL(sim_tpc_wire_encode((enum sim_tpc_msg)99, &w, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "");
	memset(buf, 'x', sizeof(buf));
	CU_ASSERT_EQUAL(sim_tpc_wire_encode(SIM_TPC_MSG_QUERY, NULL, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "");
	/* A NULL id is written empty. */
	w.id = NULL;
	w.id_len = 3;
	CU_ASSERT_EQUAL(sim_tpc_wire_encode(SIM_TPC_MSG_QUERY, &w, NULL, 0),
	    strlen("{\"txid\":" TX ",\"id\":\"\"}"));
}

static void
test_whitespace(void)
{
	struct sim_tpc_wire w;

	CU_ASSERT_EQUAL_FATAL(parse(SIM_TPC_MSG_PREPARE,
	    " \t\r\n{ \"txid\" :\t" TX " ,\n\"change\"\r\n:\n [ 1 ,\t{ \"a\" : 2 } ] , "
	    "\"deadline\" : 7 \n}\r\n ", &w), SIM_OK);
	CU_ASSERT_EQUAL(w.txid, 0x4d2);
	CU_ASSERT_EQUAL(w.deadline_ms, 7);
	/* The change is its value's text, without the space around it. */
	CU_ASSERT(span_is(w.change, w.change_len, "[ 1 ,\t{ \"a\" : 2 } ]"));
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_QUERY, "{ }", &w), SIM_ERR_PROTO);
	CU_ASSERT_EQUAL(parse(SIM_TPC_MSG_QUERY,
	    "{\"txid\":" TX ",\"id\":\"a\",\"x\":[ ],\"y\":{ \n}}", &w), SIM_OK);
}

static void
test_change_values(void)
{
	static const char *const changes[] = {
		"{\"every\":30,\"mode\":{\"eco\":true}}",
		"[]",
		"{}",
		"[1,[2,[3]],{\"a\":[]}]",
		"\"plain\"",
		"\"with \\\"escapes\\\" \\u00e9 \\n\"",
		"\"\"",
		"0",
		"-12.5e-3",
		"1E+400",
		"null",
		"true",
		"false",
	};
	char body[256];
	struct sim_tpc_wire w, b;

	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		snprintf(body, sizeof(body), "{\"txid\":" TX ",\"change\":%s,\"deadline\":1}",
		    changes[i]);
		CU_ASSERT_EQUAL_FATAL(parse(SIM_TPC_MSG_PREPARE, body, &w), SIM_OK);
		CU_ASSERT(span_is(w.change, w.change_len, changes[i]));
		/* The same text, however it is placed. */
		snprintf(body, sizeof(body), "{\"change\" :  %s\n,\"deadline\":1,\"txid\":" TX "}",
		    changes[i]);
		CU_ASSERT_EQUAL_FATAL(parse(SIM_TPC_MSG_PREPARE, body, &b), SIM_OK);
		CU_ASSERT(span_is(b.change, b.change_len, changes[i]));
	}
}

/* Nesting of n arrays around a 0, as a member of a PREPARE (n + 1 levels
 * in all, with the message's object). */
static enum sim_err
nested(size_t n, struct sim_tpc_wire *w)
{
	size_t len = 0, cap = 2 * n + 64;
	char *body = malloc(cap);
	enum sim_err e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	len += (size_t)snprintf(body, cap, "{\"txid\":" TX ",\"deadline\":1,\"change\":");
	memset(body + len, '[', n);
	len += n;
	body[len++] = '0';
	memset(body + len, ']', n);
	len += n;
	body[len++] = '}';
	e = parse_n(SIM_TPC_MSG_PREPARE, body, len, w);
	free(body);
	return e;
}

static void
test_depth(void)
{
	struct sim_tpc_wire w;

	CU_ASSERT_EQUAL(nested(63, &w), SIM_OK);
	CU_ASSERT_EQUAL(w.change_len, 127);
	CU_ASSERT_EQUAL(nested(64, &w), SIM_ERR_PROTO);
	/* Far deeper than the limit: refused without running out of stack. */
	CU_ASSERT_EQUAL(nested(1000000, &w), SIM_ERR_PROTO);
	/* Depth counts objects too, and in unknown members alike. */
	{
		char body[512];
		size_t len = (size_t)snprintf(body, sizeof(body), "{\"txid\":" TX ",\"id\":\"a\",\"x\":");

		for (int i = 0; i < 63; i++)
			len += (size_t)snprintf(body + len, sizeof(body) - len, "%s",
			    i % 2 ? "[" : "{\"k\":");
		body[len++] = '1';
		for (int i = 62; i >= 0; i--)
			body[len++] = i % 2 ? ']' : '}';
		body[len++] = '}';
		CU_ASSERT_EQUAL(parse_n(SIM_TPC_MSG_QUERY, body, len, &w), SIM_OK);
	}
}

/* Every proper prefix of a message is malformed; none is read past. */
static void
test_truncation(void)
{
	struct sim_tpc_wire w = { 0 }, b;
	char buf[512];

	w.txid = 0x1234567890abcdefu;
	w.id = "rooms-3";
	w.id_len = 7;
	w.reason = "too_large";
	w.reason_len = 9;
	w.change = "{\"a\":[1,-2.5e3,\"x\\\"y\",true,false,null,{}]}";
	w.change_len = strlen(w.change);
	w.deadline_ms = 1767225605000;
	w.decision = 1;
	for (size_t k = 0; k < sizeof(all_kinds) / sizeof(all_kinds[0]); k++) {
		size_t n = sim_tpc_wire_encode(all_kinds[k], &w, buf, sizeof(buf));

		CU_ASSERT_FATAL(n < sizeof(buf));
		CU_ASSERT_EQUAL(parse_n(all_kinds[k], buf, n, &b), SIM_OK);
		for (size_t i = 0; i < n; i++)
			CU_ASSERT(refused(all_kinds[k], buf, i));
	}
}

static void
test_encode_truncation(void)
{
	struct sim_tpc_wire w = { 0 };
	char full[128], buf[128];
	size_t n, got;

	w.txid = 0x4d2;
	w.id = "rooms-3";
	w.id_len = 7;
	n = sim_tpc_wire_encode(SIM_TPC_MSG_QUERY, &w, full, sizeof(full));
	CU_ASSERT_EQUAL_FATAL(n, strlen("{\"txid\":" TX ",\"id\":\"rooms-3\"}"));
	CU_ASSERT_EQUAL(sim_tpc_wire_encode(SIM_TPC_MSG_QUERY, &w, NULL, 0), n);
	CU_ASSERT_EQUAL(sim_tpc_wire_encode(SIM_TPC_MSG_QUERY, &w, NULL, 100), n);
	for (size_t cap = 0; cap <= n + 2; cap++) {
		/* Bytes beyond cap stay as they were. */
		memset(buf, '#', sizeof(buf));
		CU_ASSERT_EQUAL(sim_tpc_wire_encode(SIM_TPC_MSG_QUERY, &w, buf, cap), n);
		if (cap == 0) {
			CU_ASSERT_EQUAL(buf[0], '#');
			continue;
		}
		got = cap - 1 < n ? cap - 1 : n;
		CU_ASSERT_EQUAL(strlen(buf), got);
		CU_ASSERT_EQUAL(memcmp(buf, full, got), 0);
		CU_ASSERT_EQUAL(buf[cap], '#');
	}
}

static int
cleanup(void)
{
	free(last);
	last = NULL;
	return 0;
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "txid hex round trip and rejection", test_txid },
		{ "every kind round trips", test_round_trip },
		{ "the report parser agrees", test_cross_check },
		{ "member order does not matter", test_member_order },
		{ "unknown members are skipped whole", test_unknown_members },
		{ "duplicate members: the last counts", test_duplicates },
		{ "malformed members", test_malformed_members },
		{ "malformed JSON", test_malformed_json },
		{ "invalid arguments", test_invalid_arguments },
		{ "whitespace", test_whitespace },
		{ "change is any JSON value, byte for byte", test_change_values },
		{ "nesting limit", test_depth },
		{ "every prefix is malformed", test_truncation },
		{ "encode truncates like snprintf", test_encode_truncation },
		{ NULL, NULL },
	};

	return fs_test_main_fixture("tpc_wire", NULL, cleanup, tests);
}
