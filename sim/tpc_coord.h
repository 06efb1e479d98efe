/* fleetsim's own two-phase-commit coordinator: the coordinator state
 * machine of docs/two-phase-commit.md with a durable log, a crash that
 * loses everything but the log, and a restart that recovers from it.
 *
 * It does no I/O but its log file: it sends through ops->prepare and
 * ops->decision, and records what it does through ops->record for the
 * checker (BEGIN, PREPARE, VOTE_SEEN, DECIDE, ACK_SEEN). Participants are
 * the caller's indices (the fleet's device index). Times are monotonic ns.
 *
 * Group commit: sim_tpc_coord_begin and the votes queue log records;
 * sim_tpc_coord_flush writes them all, fsyncs once, and only then sends
 * the PREPAREs and DECISIONs behind them. The caller flushes once per
 * loop pass, so that one fsync covers every decision of that pass.
 *
 * The log is text, one record a line:
 *   B <txid> <deadline_ms> <dev> <dev> ...   started (before any PREPARE)
 *   D <txid> c|a                             decided (before any DECISION)
 *   F <txid>                                 every participant ACKed
 * A restart reads it back: a D resumes resending its decision, a B alone
 * is aborted (it was never committed), an F forgets.
 *
 * Ownership: the caller owns the coordinator (sim_tpc_coord_free); it
 * copies the change and the participants it is given. */
#ifndef SIM_TPC_COORD_H
#define SIM_TPC_COORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"
#include "sim_err.h"
#include "tpc_check.h"

struct sim_tpc_coord;

struct sim_tpc_coord_ops {
	void (*prepare)(void *arg, uint32_t dev, uint64_t txid, int64_t deadline_ms,
	    const char *change, size_t len);
	void (*decision)(void *arg, uint32_t dev, uint64_t txid, bool commit);
	void (*record)(void *arg, const struct sim_tpc_rec *r);
};

struct sim_tpc_coord_opts {
	const char *log_path;       /* created or truncated by sim_tpc_coord_new */
	uint64_t deadline_ns;       /* votes count until begin + this */
	uint64_t resend_ns;         /* resend to the silent this often */
	int64_t unix_offset_ns;     /* Unix time = monotonic + this (the wire's deadline) */
	enum sim_tpc_bug bug;
};

/* SIM_ERR_IO (errno set) when the log cannot be created; SIM_ERR_INVAL
 * for NULL arguments. ops and arg are borrowed. */
enum sim_err sim_tpc_coord_new(const struct sim_tpc_coord_opts *o,
    const struct sim_tpc_coord_ops *ops, void *arg, struct sim_tpc_coord **out);
void sim_tpc_coord_free(struct sim_tpc_coord *c);

/* Starts txid over devs[0..n) (distinct) with change; the PREPAREs go
 * out at the next flush. SIM_ERR_INVAL for n 0, a txid already started,
 * or a coordinator that is down; SIM_ERR_NOMEM. */
enum sim_err sim_tpc_coord_begin(struct sim_tpc_coord *c, uint64_t now, uint64_t txid,
    const uint32_t *devs, uint32_t n, const char *change, size_t len);

/* What participants say. Ignored while the coordinator is down (its
 * process is gone); messages from a device that is not a participant of
 * txid are ignored too. */
void sim_tpc_coord_vote(struct sim_tpc_coord *c, uint64_t now, uint64_t txid, uint32_t dev,
    bool yes);
void sim_tpc_coord_ack(struct sim_tpc_coord *c, uint64_t now, uint64_t txid, uint32_t dev);
void sim_tpc_coord_query(struct sim_tpc_coord *c, uint64_t now, uint64_t txid, uint32_t dev);

/* Aborts transactions past their deadline and resends to the silent. */
void sim_tpc_coord_tick(struct sim_tpc_coord *c, uint64_t now);

/* Writes the queued log records, fsyncs, then sends what they cover.
 * With a crash armed (sim_tpc_coord_crash_armed) and a COMMIT among the
 * decisions, it crashes right after the fsync, before sending anything:
 * the fault "coordinator crash between decision and sending". Returns
 * true when it crashed. A failed log write or fsync is a crash too: the
 * coordinator cannot promise what it cannot log. */
bool sim_tpc_coord_flush(struct sim_tpc_coord *c, uint64_t now);
/* Whether a flush has anything to do. */
bool sim_tpc_coord_pending(const struct sim_tpc_coord *c);

/* Arms a crash at the next flush with a COMMIT decision. */
void sim_tpc_coord_crash_armed(struct sim_tpc_coord *c);
/* Crashes now: everything in memory is lost, queued records included. */
void sim_tpc_coord_crash(struct sim_tpc_coord *c, uint64_t now);
/* Restarts from the log: decided transactions resend their decision to
 * every participant, undecided ones are aborted (logged and sent at the
 * next flush). SIM_ERR_IO when the log cannot be read (it stays down). */
enum sim_err sim_tpc_coord_restart(struct sim_tpc_coord *c, uint64_t now);
bool sim_tpc_coord_up(const struct sim_tpc_coord *c);

/* Transactions started and not yet forgotten (some participant has not
 * ACKed). */
size_t sim_tpc_coord_open(const struct sim_tpc_coord *c);

struct sim_tpc_coord_stats {
	uint64_t crashes;
	uint64_t resends;           /* PREPAREs and DECISIONs sent again */
	uint64_t fsyncs;
	uint64_t log_errors;
};
void sim_tpc_coord_stats(const struct sim_tpc_coord *c, struct sim_tpc_coord_stats *out);

#endif
