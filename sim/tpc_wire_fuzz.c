/* libFuzzer target for the two-phase-commit wire codec: parses arbitrary
 * bytes as every kind of message. Whatever parses must be JSON to the
 * report parser too, have its strings inside the body, encode to what
 * the size query said, and parse back to the same fields, encoding the
 * second time to the same bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tpc_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what, enum sim_tpc_msg kind)
{
	if (ok)
		return;
	fprintf(stderr, "tpc_wire inconsistency: %s (kind %d)\n", what, (int)kind);
	abort();
}

static bool
inside(const char *p, size_t n, const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;

	return p == NULL ? n == 0 : (p >= b && n <= size && (size_t)(p - b) <= size - n);
}

static bool
same_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	if ((a == NULL) != (b == NULL) || alen != blen)
		return false;
	return alen == 0 || memcmp(a, b, alen) == 0;
}

/* The fields a kind reads are the same in both. */
static bool
same(enum sim_tpc_msg kind, const struct sim_tpc_wire *a, const struct sim_tpc_wire *b)
{
	if (a->txid != b->txid)
		return false;
	switch (kind) {
	case SIM_TPC_MSG_PREPARE:
		return same_bytes(a->change, a->change_len, b->change, b->change_len) &&
		    a->deadline_ms == b->deadline_ms;
	case SIM_TPC_MSG_VOTE:
		return same_bytes(a->id, a->id_len, b->id, b->id_len) && a->vote == b->vote &&
		    same_bytes(a->reason, a->reason_len, b->reason, b->reason_len);
	case SIM_TPC_MSG_DECISION:
		return a->decision == b->decision;
	case SIM_TPC_MSG_ACK:
		return same_bytes(a->id, a->id_len, b->id, b->id_len) && a->decision == b->decision;
	case SIM_TPC_MSG_QUERY:
		return same_bytes(a->id, a->id_len, b->id, b->id_len);
	}
	return false;
}

/* The report parser accepts what we accept, except where the two mean to
 * differ: it refuses numbers too large for a double, which we only skip
 * (or, in change, pass on), and duplicate keys, of which the wire contract
 * takes the last. */
static void
cross_check(enum sim_tpc_msg kind, const uint8_t *data, size_t size)
{
	struct rpt_json *j = NULL;
	char err[256];
	enum rpt_err rc = rpt_json_parse((const char *)data, size, &j, err, sizeof(err));

	if (rc == RPT_ERR_NOMEM)
		return;
	check((rc == RPT_OK && rpt_json_type(j) == RPT_JSON_OBJECT) ||
	    (rc == RPT_ERR_PARSE && (strstr(err, "number out of range") != NULL ||
	    strstr(err, "duplicate key") != NULL)),
	    "accepted what the report parser refuses", kind);
	rpt_json_free(j);
}

static void
round_trip(enum sim_tpc_msg kind, const struct sim_tpc_wire *w)
{
	struct sim_tpc_wire w2;
	size_t len = sim_tpc_wire_encode(kind, w, NULL, 0), len1, len2;
	char *b1 = malloc(len + 1), *b2 = malloc(len + 1);

	if (b1 == NULL || b2 == NULL)
		goto out;
	len1 = sim_tpc_wire_encode(kind, w, b1, len + 1);
	check(len1 == len && strlen(b1) == len, "encode disagrees with its size query", kind);
	check(sim_tpc_wire_parse(kind, b1, len1, &w2) == SIM_OK, "encoded message does not parse",
	    kind);
	check(same(kind, w, &w2), "fields changed by the round trip", kind);
	len2 = sim_tpc_wire_encode(kind, &w2, b2, len + 1);
	check(len2 == len1 && memcmp(b1, b2, len1) == 0, "encoding is not stable", kind);
	/* A cut-short buffer holds a prefix of the message. */
	if (len > 0) {
		len2 = sim_tpc_wire_encode(kind, &w2, b2, len / 2 + 1);
		check(len2 == len && strlen(b2) == len / 2 && memcmp(b1, b2, len / 2) == 0,
		    "truncated encoding is not a prefix", kind);
	}
out:
	free(b1);
	free(b2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum sim_tpc_msg kinds[] = {
		SIM_TPC_MSG_PREPARE, SIM_TPC_MSG_VOTE, SIM_TPC_MSG_DECISION, SIM_TPC_MSG_ACK,
		SIM_TPC_MSG_QUERY,
	};
	bool crossed = false;

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct sim_tpc_wire w;
		enum sim_err e = sim_tpc_wire_parse(kinds[k], (const char *)data, size, &w);

		check(e == SIM_OK || e == SIM_ERR_PROTO, "unexpected error", kinds[k]);
		if (e != SIM_OK)
			continue;
		check(inside(w.id, w.id_len, data, size) &&
		    inside(w.change, w.change_len, data, size) &&
		    inside(w.reason, w.reason_len, data, size), "a field points outside the body",
		    kinds[k]);
		if (!crossed) {
			cross_check(kinds[k], data, size);
			crossed = true;
		}
		round_trip(kinds[k], &w);
	}
	return 0;
}
