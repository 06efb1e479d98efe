/* The two-phase-commit messages on the wire (docs/two-phase-commit.md):
 * five small JSON objects, encoded and parsed here and nowhere else, by
 * fleetsim's coordinator, its participants and the observer that checks
 * an external coordinator.
 *
 * Parsing does not allocate: the strings in struct sim_tpc_wire point
 * into the body, which must outlive them. Unknown members are ignored,
 * as the contract says, and nested values are skipped whole. */
#ifndef SIM_TPC_WIRE_H
#define SIM_TPC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_err.h"

enum sim_tpc_msg {
	SIM_TPC_MSG_PREPARE,    /* txid, change, deadline */
	SIM_TPC_MSG_VOTE,       /* txid, id, vote, reason (with "no", optional) */
	SIM_TPC_MSG_DECISION,   /* txid, decision */
	SIM_TPC_MSG_ACK,        /* txid, id, decision */
	SIM_TPC_MSG_QUERY,      /* txid, id */
};

/* One message's fields; which are meaningful depends on the kind. */
struct sim_tpc_wire {
	uint64_t txid;          /* "txid": exactly 16 lowercase hex digits */
	const char *id;         /* "id": the device's id, without quotes; no escapes */
	size_t id_len;
	const char *change;     /* "change": its JSON text, byte for byte */
	size_t change_len;
	int64_t deadline_ms;    /* "deadline": ms since the Unix epoch, an integer */
	int vote;               /* "vote": 1 "yes", 0 "no" */
	const char *reason;     /* "reason": a NO's token, or NULL; no escapes */
	size_t reason_len;
	int decision;           /* "decision": 1 "commit", 0 "abort" */
};

/* Parses body as a message of kind into *w. SIM_ERR_PROTO when it is not
 * one JSON object (whitespace around it is fine), when a member the kind
 * requires is missing or has the wrong type or value (a txid other than
 * 16 lowercase hex digits, a vote other than "yes"/"no", ...), or when a
 * string the kind uses holds an escape. SIM_ERR_INVAL for NULL
 * arguments (body may be NULL when len is 0). A duplicate member: the
 * last one counts. */
enum sim_err sim_tpc_wire_parse(enum sim_tpc_msg kind, const char *body, size_t len,
    struct sim_tpc_wire *w);

/* Encodes w as a message of kind into buf, like snprintf: writes what
 * fits (NUL-terminated when cap > 0) and returns the full length. The
 * member order is that of the contract's table; PREPARE's change is
 * copied as is (the caller vouches that it is JSON; an empty one is
 * written as null), reason is written only on a NO vote and only when
 * not NULL. */
size_t sim_tpc_wire_encode(enum sim_tpc_msg kind, const struct sim_tpc_wire *w, char *buf,
    size_t cap);

/* txid as 16 lowercase hex digits and a NUL. */
void sim_tpc_txid_hex(uint64_t txid, char out[17]);
/* The inverse; false unless s is exactly 16 lowercase hex digits. */
bool sim_tpc_txid_parse(const char *s, size_t len, uint64_t *txid);

#endif
