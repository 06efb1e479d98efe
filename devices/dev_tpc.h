/* A device's side of two-phase commit (2PC): it votes on a coordinator's
 * PREPARE, applies or discards the change on its DECISION, and after a
 * reboot lists the transactions it is in doubt about. The wire contract
 * (topics, messages, both state machines) is docs/two-phase-commit.md.
 *
 * Pure, like the rest of devices/: no MQTT and no event loop. The engine
 * hands in each message with the simulated time it arrives (ns, never
 * decreasing) and sends what struct dev_tpc_step says, when it says.
 *
 * No RAM state: everything the protocol needs lives in the device's
 * flash, because surviving a reboot is the whole point. The keys, all
 * with txid as 16 lowercase hex digits:
 *   tpc.p.<txid>  the PREPARED record: the change, until the decision
 *   tpc.cfg       the applied configuration: the last committed change
 *   tpc.last      "<txid> <FNV-1a 64 of tpc.cfg, 16 hex>": what tpc.cfg
 *                 holds; the hash tells a tpc.cfg already overwritten by
 *                 a later commit that crashed before tpc.last followed
 *   tpc.d         the last DEV_TPC_KEEP outcomes, oldest first, each
 *                 "<txid><c|a|n>" (committed, aborted after a YES,
 *                 aborted without a PREPARED record), so that duplicate
 *                 and late messages change nothing
 * A device without flash can keep none of this and votes NO. */
#ifndef DEV_TPC_H
#define DEV_TPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev_device.h"
#include "hal_err.h"

/* Outcomes remembered in tpc.d. Older ones are dropped: a message about
 * a txid that old is then treated as unknown (see dev_tpc_prepare). */
#define DEV_TPC_KEEP 8

/* A group's rule for voting YES; borrowed for the call only. */
struct dev_tpc_rules {
	double min_battery_pct; /* NO below this charge (hal_power_pct) */
	double vote_no;         /* probability of NO for no hardware reason */
};

enum dev_tpc_vote { DEV_TPC_NO = 0, DEV_TPC_YES = 1 };

enum dev_tpc_send { DEV_TPC_SEND_VOTE, DEV_TPC_SEND_ACK, DEV_TPC_SEND_QUERY };

/* What the device does in answer, and when. */
struct dev_tpc_step {
	bool reply;             /* send something; false: stay silent */
	enum dev_tpc_send what;
	int vote;               /* SEND_VOTE: enum dev_tpc_vote */
	/* When to send it: after the flash writes it depends on complete, so
	 * that a crash before then loses the reply along with the writes. */
	uint64_t at;
	/* Why a NO, or why no ACK (reply false): a static token for the
	 * wire's "reason" ("battery", "flash_full", ...); NULL otherwise. */
	const char *reason;
	bool applied;           /* this call applied the decision (history) */
	bool committed;         /* applied: it was COMMIT */
};

/* PREPARE(txid, change) at t: votes. YES writes tpc.p.<txid> = change
 * first and sets step->at to when that write completes, so a YES always
 * stands on a durable PREPARED record. NO, with a reason, if the model
 * has no flash, the battery is below r->min_battery_pct, the flash has
 * no room for the record and for applying it later (the largest change
 * prepared, tpc.last and a full tpc.d), the write fails, or the vote_no
 * draw says so. The draw comes from a stream of d->key and txid alone, so
 * a device votes the same on txid whatever it did before. A NO is
 * remembered in tpc.d (best effort: a full or failing flash forgets it).
 * A PREPARE for a txid already prepared, decided or voted NO sends the
 * same vote again without writing (idempotent). The change is opaque
 * bytes; NULL is fine when len is 0. HAL_ERR_INVAL for a NULL argument,
 * HAL_ERR_NOMEM if the simulator ran out of memory (step->reply false);
 * anything the device sees is a vote. */
enum hal_err dev_tpc_prepare(struct dev_device *d, const struct dev_tpc_rules *r, int64_t t,
    uint64_t txid, const char *change, size_t len, struct dev_tpc_step *step);

/* DECISION(txid, commit) at t. With a PREPARED record: COMMIT writes the
 * change to tpc.cfg and tpc.last, ABORT only records it; both note the
 * outcome in tpc.d, remove the record and ACK once every write is
 * durable (step->applied). The writes are ordered so that a crash between
 * any two leaves the record, and the device in doubt. A failed or full
 * write sends no ACK (reply false, with a reason): the coordinator's
 * resend tries again. Without a record (unknown, already decided, voted
 * NO) it only ACKs, applying nothing twice; an ABORT for a txid never
 * seen also remembers it so that a PREPARE arriving late votes NO.
 * HAL_ERR_INVAL for a NULL argument, HAL_ERR_NOMEM as above. */
enum hal_err dev_tpc_decide(struct dev_device *d, int64_t t, uint64_t txid, bool commit,
    struct dev_tpc_step *step);

/* The txids with a PREPARED record, in flash order: after a reboot, the
 * ones the device is in doubt about and must QUERY (it may not decide
 * them alone). Stores at most max into out (NULL is fine with max 0) and
 * returns how many there are, which may be more. */
size_t dev_tpc_in_doubt(const struct dev_device *d, uint64_t *out, size_t max);

/* Whether txid's change is in effect: tpc.last names txid and tpc.cfg
 * still holds its change (the durability observation). */
bool dev_tpc_applied(const struct dev_device *d, uint64_t txid);

#endif
