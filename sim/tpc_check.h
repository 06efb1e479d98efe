/* The two-phase-commit checker: pure bookkeeping over the recorded history
 * of a run. It knows nothing of MQTT or the event loop; whoever drives the
 * coordinator and the participants records what each side did (and when),
 * and after the drain this checks the protocol's promises:
 *
 *   atomicity    no transaction with one participant that committed and
 *                another that aborted;
 *   validity     COMMIT decided only if every participant voted YES and
 *                the coordinator received those votes;
 *   agreement    every participant's applied outcome equals the
 *                coordinator's logged decision;
 *   termination  every transaction is decided within deadline + recovery,
 *                and by the end no participant is in doubt or owes an apply;
 *   durability   a participant that committed still shows the change when
 *                observed after a later reboot.
 *
 * The rules, precisely. Records of one txid are taken in time order (ties
 * in the order they were added); BEGIN and DECIDE are the coordinator's and
 * their device field is ignored. The decision is the first DECIDE.
 *   - validity: the decision is COMMIT, yet before it some device that got
 *     a PREPARE had no YES VOTE_SEEN, or some device had a NO VOTE_SEEN, or
 *     some device's own VOTEs were all NO, or fewer distinct devices had a
 *     YES VOTE_SEEN than BEGIN announced participants.
 *   - agreement: an APPLY whose val differs from the decision; an APPLY in
 *     a transaction with no DECIDE at all; an APPLY of COMMIT timed strictly
 *     before the DECIDE (committing before the decision is logged is what
 *     2PC forbids, even if the coin later lands the same way); a later
 *     DECIDE that contradicts the first (the coordinator forgot its log).
 *   - atomicity: one device applied COMMIT and another applied ABORT. This
 *     comes on top of agreement, which such a transaction always breaks.
 *   - termination: the DECIDE is later than BEGIN + deadline + recovery; or
 *     there is no DECIDE; or a device's IN_DOUBT has no RESOLVED after it
 *     (another IN_DOUBT while in doubt keeps the first start: the device
 *     rebooted again without learning anything); or a device got PREPARE,
 *     voted YES (its own VOTE) and has no APPLY.
 *   - durability: an OBSERVE val 0 on a device after an APPLY val 1 of the
 *     same transaction on that device. (A change present after an abort is
 *     not checked here: no record says what the abort discarded.)
 * A transaction without BEGIN is timed from its first record and is not
 * counted as started. end_ns only closes what is still open: records later
 * than it still count.
 *
 * Counting: each violations[] count is of transactions, so one transaction
 * breaking termination twice (never decided, and a device left in doubt) is
 * one termination violation whose text gives both reasons. A transaction
 * breaking several invariants appears once per kind, in enum order.
 *
 * in_doubt_max_ns is the longest episode from IN_DOUBT to RESOLVED (or to
 * end_ns when unresolved) over every device and transaction, violating or
 * not: it is the price of blocking that 2PC pays, worth seeing even when
 * everything resolved.
 *
 * Memory is proportional to the history: every record is kept, in a
 * growable array per transaction found through a hash of txids, because a
 * violation's text quotes the transaction's whole timeline and no verdict
 * is final until the end (a late APPLY or RESOLVED can still arrive).
 *
 * Ownership: sim_tpc_check_new's caller owns the checker and frees it with
 * sim_tpc_check_free. Histograms and violation texts belong to the checker
 * and stay valid until the next sim_tpc_check_finish or the free;
 * sim_tpc_check_json's tree belongs to the caller.
 */
#ifndef SIM_TPC_CHECK_H
#define SIM_TPC_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "json.h"
#include "sim_err.h"

enum sim_tpc_ev {
	SIM_TPC_BEGIN,          /* coordinator starts txid; val = number of participants */
	SIM_TPC_PREPARE,        /* coordinator sent PREPARE to device */
	SIM_TPC_VOTE,           /* device voted; val 1 = YES, 0 = NO (device side) */
	SIM_TPC_VOTE_SEEN,      /* coordinator received device's vote; val as above */
	SIM_TPC_DECIDE,         /* coordinator logged its decision; val 1 = COMMIT, 0 = ABORT;
	                         * aux = cause: 0 votes, 1 timeout, 2 coordinator (e.g. after its crash) */
	SIM_TPC_APPLY,          /* device applied the outcome; val 1 = committed, 0 = aborted/discarded */
	SIM_TPC_ACK_SEEN,       /* coordinator received device's ACK */
	SIM_TPC_IN_DOUBT,       /* device rebooted holding PREPARED for txid: in doubt from t */
	SIM_TPC_RESOLVED,       /* device learned the outcome after being in doubt */
	SIM_TPC_OBSERVE,        /* device observed after a reboot: val 1 = the tx's change is present, 0 = absent */
	SIM_TPC_NEV,
};

/* Causes in a DECIDE's aux. */
enum sim_tpc_cause {
	SIM_TPC_BY_VOTES,
	SIM_TPC_BY_TIMEOUT,
	SIM_TPC_BY_COORDINATOR,
};

/* One event of the history. 24 bytes, copied by sim_tpc_check_add. */
struct sim_tpc_rec {
	uint64_t t_ns;
	uint64_t txid;
	uint32_t device;
	uint8_t ev;             /* enum sim_tpc_ev */
	uint8_t val;
	uint8_t aux;
};

struct sim_tpc_check;

struct sim_tpc_check_opts {
	uint64_t deadline_ns;   /* the coordinator's voting deadline after BEGIN */
	uint64_t recovery_ns;   /* slack for a coordinator crash and restart on top of it */
};

/* SIM_ERR_INVAL when o or out is NULL. */
enum sim_err sim_tpc_check_new(const struct sim_tpc_check_opts *o, struct sim_tpc_check **out);
void sim_tpc_check_free(struct sim_tpc_check *c);

/* Records one event (times non-decreasing per txid is enough; a record
 * that is earlier than its transaction's last one is still put in place,
 * at the cost of moving the later ones). SIM_ERR_INVAL for an unknown ev,
 * a val other than 0 or 1 on VOTE, VOTE_SEEN, DECIDE, APPLY or OBSERVE, or
 * a DECIDE cause above SIM_TPC_BY_COORDINATOR: such a record is a bug in
 * the recorder, and guessing what it meant would hide it. SIM_ERR_NOMEM
 * leaves the history as it was. Results read before the next finish are
 * those of the last one. */
enum sim_err sim_tpc_check_add(struct sim_tpc_check *c, const struct sim_tpc_rec *r);

/* The val of txid's earliest record of kind ev, or -1 when it has none:
 * lets an observer record a transaction's BEGIN or DECIDE only once. */
int sim_tpc_check_first(const struct sim_tpc_check *c, uint64_t txid, enum sim_tpc_ev ev);

/* Runs every invariant as of end_ns (the end of the drain). Idempotent; call
 * before reading results. It recomputes everything from the history, so
 * calling it again (after more records, or with another end_ns) replaces
 * the previous results. Out of memory, a violation is still counted, but
 * the list may be shorter and a text may read "(out of memory)"; a
 * transaction whose participants cannot be tracked is left out entirely
 * rather than judged on half its records. */
void sim_tpc_check_finish(struct sim_tpc_check *c, uint64_t end_ns);

enum sim_tpc_violation {
	SIM_TPC_ATOMICITY,
	SIM_TPC_VALIDITY,
	SIM_TPC_AGREEMENT,
	SIM_TPC_TERMINATION,
	SIM_TPC_DURABILITY,
	SIM_TPC_NVIOLATIONS,
};
/* The kind's name in reports: "atomicity", "validity", ...; "?" when out
 * of range, never NULL. */
const char *sim_tpc_violation_name(enum sim_tpc_violation v);

struct sim_tpc_summary {
	uint64_t started;           /* transactions with a BEGIN */
	uint64_t committed, aborted; /* by the first DECIDE; aborted is the sum of the three below */
	uint64_t aborted_by_vote, aborted_by_timeout, aborted_by_coordinator;
	uint64_t violations[SIM_TPC_NVIOLATIONS]; /* transactions breaking each invariant */
	uint64_t in_doubt_max_ns;
	uint64_t undecided;         /* begun but never decided */
};
/* As of the last finish; zeros before the first. */
void sim_tpc_check_summary(const struct sim_tpc_check *c, struct sim_tpc_summary *out);

/* Latency histograms (ns), as of the last finish, for transactions with a
 * BEGIN: which 0, prepare = BEGIN to the last VOTE_SEEN; 1, decide = BEGIN
 * to the (first) DECIDE; 2, complete = BEGIN to the last ACK_SEEN. A
 * transaction lacking the end event is left out. Owned by the checker;
 * NULL when which is out of range. */
const struct rpt_hist *sim_tpc_check_latency(const struct sim_tpc_check *c, int which);

/* The i-th violation (transactions in the order first seen, kinds in enum
 * order within one): its kind, txid (either pointer may be NULL), and a
 * text valid until the next finish or the free. The text's first line is
 * "KIND txid T: devices D1,D2,..." (the devices involved, "none" when it
 * is the coordinator's fault alone), then one indented line per reason,
 * then "timeline (ms from BEGIN):" and the transaction's records, one a
 * line. NULL past the end. */
const char *sim_tpc_check_violation(const struct sim_tpc_check *c, size_t i,
    enum sim_tpc_violation *kind, uint64_t *txid);
/* How many violations the list holds (the sum of the counts, barring
 * allocation failures). */
size_t sim_tpc_check_nviolations(const struct sim_tpc_check *c);

/* The report object: {started, committed, aborted {total, by_vote,
 * by_timeout, by_coordinator}, undecided, in_doubt_max_ms, violations
 * {atomicity, validity, agreement, termination, durability}, latency_ms
 * {prepare {...}, decide {...}, complete {...}}, latency_histograms (the
 * same three, encoded for an exact merge), violation_list [{kind,
 * txid, detail}]}, the list capped at SIM_TPC_JSON_MAX_VIOLATIONS entries
 * (the counts say how many there were). latency_ms's members come from
 * rpt_hist_summary in milliseconds, as everywhere else in the report.
 * txid is a string of 16 lowercase hex digits, as on the wire (a JSON
 * number would round txids above 2^53). With c NULL, zeros and the
 * same keys (a skeleton for assertion paths). NULL on NOMEM. */
#define SIM_TPC_JSON_MAX_VIOLATIONS 100
struct rpt_json *sim_tpc_check_json(const struct sim_tpc_check *c);

#endif
