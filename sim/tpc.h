/* The cloud side of two-phase commit and its bookkeeping. With
 * coordinator: fleetsim it runs struct sim_tpc_coord on the consumer's
 * connections: starts transactions at the pattern's rate over random
 * groups of target devices, carries its PREPAREs and DECISIONs to the
 * devices' topics and the devices' VOTEs, ACKs and QUERYs back to it, and
 * crashes and restarts it on the coordinator_crash schedule. With
 * coordinator: external it only watches the user's coordinator: the
 * PREPAREs and DECISIONs it sends and the votes and ACKs it gets.
 *
 * Either way it holds the run's history (struct sim_tpc_check): the
 * coordinator's records, the devices' (sim_tpc_record, from the fleet),
 * and with --history a JSON line per record in a file.
 *
 * Ownership: the caller owns the cloud (sim_tpc_free); base and sc are
 * borrowed and must outlive it. */
#ifndef SIM_TPC_H
#define SIM_TPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer.h"
#include "json.h"
#include "scenario.h"
#include "sim_err.h"
#include "tpc_check.h"

struct event_base;
struct sim_mqtt_msg;
struct sim_tpc;

struct sim_tpc_opts {
	uint32_t run_id;
	uint64_t seed;
	int64_t unix_offset_ns;     /* the simulated clock's Unix time = monotonic + this */
	const char *history_path;   /* --history, or NULL */
};

/* *out is NULL (and SIM_OK) when the scenario has no two-phase-commit
 * pattern. SIM_ERR_IO (with d filled) when the coordinator's log or the
 * history file cannot be created. */
enum sim_err sim_tpc_new(struct event_base *base, const struct sim_scenario *sc,
    const struct sim_tpc_opts *o, struct sim_tpc **out, struct sim_diag *d);
void sim_tpc_free(struct sim_tpc *c);

/* The filters the cloud side listens on and their QoS; owned by c. */
size_t sim_tpc_filters(const struct sim_tpc *c, const char *const **filters, const int **qos);
/* The consumer's hook for those: true when it took the message. */
bool sim_tpc_hook(void *arg, const struct sim_mqtt_msg *m);

/* Transactions start from send_start_ns until send_end_ns, through cons. */
void sim_tpc_start(struct sim_tpc *c, struct sim_consumer *cons, uint64_t send_start_ns,
    uint64_t send_end_ns);
/* No transaction starts after now; faults stop (the drain is for
 * finishing what was started). */
void sim_tpc_stop_sending(struct sim_tpc *c, uint64_t now);
/* Transactions the coordinator has not finished (some participant has
 * not ACKed), or 0 with an external coordinator. */
size_t sim_tpc_open(const struct sim_tpc *c);
/* The end of the drain: judges the history as of now. */
void sim_tpc_finish(struct sim_tpc *c, uint64_t now);

/* A device's record (VOTE, APPLY, IN_DOUBT, RESOLVED, OBSERVE). */
void sim_tpc_record(struct sim_tpc *c, const struct sim_tpc_rec *r);

/* Faults injected at the devices, for the report. */
enum sim_tpc_fault {
	SIM_TPC_F_CRASH_BEFORE_VOTE,
	SIM_TPC_F_CRASH_AFTER_VOTE,
	SIM_TPC_F_REBOOT_DURING_COMMIT,
	SIM_TPC_F_MESSAGE_LOST,
	SIM_TPC_F_PARTITION,
	SIM_TPC_NFAULTS,
};
void sim_tpc_note_fault(struct sim_tpc *c, enum sim_tpc_fault f);

/* The device's id for the wire (as its group's id template renders it)
 * and back; NULL / false for a device that is not a target. */
const char *sim_tpc_device_id(const struct sim_tpc *c, uint32_t dev);
bool sim_tpc_device_of(const struct sim_tpc *c, const char *id, size_t len, uint32_t *dev);
/* Whether the fleet's device dev is a participant candidate. */
bool sim_tpc_target(const struct sim_tpc *c, uint32_t dev);

/* patterns.two_phase_commit: the checker's object plus in_doubt, votes,
 * faults and the coordinator's stats. With c NULL, the skeleton. The
 * caller owns the tree; NULL on NOMEM. */
struct rpt_json *sim_tpc_json(const struct sim_tpc *c);
/* Whether the history broke an invariant (as of the last finish). */
size_t sim_tpc_violations(const struct sim_tpc *c);
/* One row of the per-second series (started, committed, aborted in the
 * second since the previous call). */
void sim_tpc_sample(struct sim_tpc *c, double row[3]);

#endif
