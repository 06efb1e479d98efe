/* The fleet: every simulated device of a run, as plain structs with one
 * timer each on the shared event_base. The fleet spreads connects over each
 * group's ramp, passes them through one connect gate (at most
 * connect.max_inflight attempts open at once, since a broker's listen
 * backlog overflows into second-long SYN retries), reconnects with backoff,
 * and publishes telemetry on schedule. */
#ifndef SIM_FLEET_H
#define SIM_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#include "hist.h"
#include "rr.h"
#include "scenario.h"
#include "sim_err.h"
#include "telemetry.h"
#include "transport.h"

struct event_base;
struct sim_fleet;
struct sim_tpc;

struct sim_fleet_opts {
	uint32_t run_id;
	uint64_t seed;
	uint64_t start_ns;          /* ramps are measured from here */
	uint64_t send_start_ns;     /* telemetry runs in [send_start_ns, send_end_ns) */
	uint64_t send_end_ns;
	int64_t unix0_ns;           /* the simulated clock's Unix time at start_ns (epoch) */
	const char *trace_path;     /* --trace: one JSON line per send, or NULL */
	struct sim_rr *d2c;         /* where devices open d2c requests; NULL if none (borrowed) */
	struct sim_tpc *tpc;        /* two-phase commit's cloud side and history; NULL if none (borrowed) */
};

struct sim_fleet_stats {
	uint64_t planned;
	uint64_t connected_now;
	uint64_t connected_ever;    /* devices with at least one accepted CONNACK */
	uint64_t connect_failures;  /* attempts that ended before an accepted CONNACK */
	uint64_t disconnects;       /* connections lost that we did not close */
	uint64_t reconnects;        /* accepted CONNACKs after a device's first */
	uint64_t all_connected_ns;  /* when the last device first connected, from start_ns; 0 if never */
	uint64_t resent;            /* QoS 1/2 messages resent after reconnects */
	uint64_t decode_errors;     /* malformed packets received by devices */
	const struct rpt_hist *connect; /* first connects: scheduled time to CONNACK, ns */
	const char *last_error;     /* the latest connect failure's cause, "" if none */
	uint64_t reboots;           /* hal-sim power events of devices with a model */
	uint64_t crashes;
	uint64_t cutoffs;           /* batteries that ran down */
	uint64_t link_disconnects;  /* times a device's link left the up state */
	uint64_t skipped_off;       /* sends not made: the device had no power */
};

/* Borrows base, tp, sc and chk, which must outlive the fleet. The caller
 * owns *out: sim_fleet_free. Nothing connects before sim_fleet_start.
 * SIM_ERR_IO if the trace file cannot be created. */
enum sim_err sim_fleet_new(struct event_base *base, struct sim_transport *tp,
    const struct sim_scenario *sc, struct sim_tm_checker *chk, const struct sim_fleet_opts *o,
    struct sim_fleet **out);
void sim_fleet_free(struct sim_fleet *f);

void sim_fleet_start(struct sim_fleet *f);
/* Ends telemetry now (a signal): no sends are scheduled after this. */
void sim_fleet_stop_sending(struct sim_fleet *f);
/* Devices with sends still due before the end of the send window (they
 * fell behind): the drain is not over while any are. */
uint64_t sim_fleet_owed(const struct sim_fleet *f);
/* Disconnects every device gracefully; no reconnects after this. Sends
 * still owed are counted as sent and dropped. */
void sim_fleet_disconnect_all(struct sim_fleet *f);
/* fn runs after every wake of the fleet's timer, so that other periodic
 * work (the cloud's request schedule) shares its wake-ups instead of
 * adding its own: under load, wake-ups are most of the CPU. */
void sim_fleet_set_tick_hook(struct sim_fleet *f, void (*fn)(void *arg, uint64_t now),
    void *arg);
/* The quantum (ns) at which the run's loop should poll instead of
 * waking for every packet, or 0 to block as usual: nonzero for planned
 * rates from 2,000 to 5,000 events a second, when it is the time 8
 * planned events take (4 ms down to 2 ms). Below, every event runs at
 * its exact time; above, packets come so often that the loop is rarely
 * asleep anyway, and reading only once a quantum would cap a connection
 * at its broker's in-flight window per quantum (measured: 20,000 msg/s
 * of QoS 1 telemetry over one consumer connection collapsed to 17,000). */
uint64_t sim_fleet_poll_ns(const struct sim_fleet *f);
/* Runs what is due by now; once called, the fleet's own timer stays
 * unarmed and the caller must call this at least once a quantum. */
void sim_fleet_poll(struct sim_fleet *f, uint64_t now);
/* PREPARED records the devices hold (two-phase commit): the drain is not
 * over while any are, since each still owes its transaction an outcome. */
int64_t sim_fleet_tpc_prepared(const struct sim_fleet *f);
/* The stats; valid until the next call into the fleet. resent and
 * decode_errors are those of the last sim_fleet_stats_full. */
void sim_fleet_stats(struct sim_fleet *f, struct sim_fleet_stats *out);
/* The same with resent and decode_errors summed over every device's
 * client: a walk of the whole fleet, whose cold memory costs milliseconds
 * at 5,000 devices, so it is for the report, not for every second. */
void sim_fleet_stats_full(struct sim_fleet *f, struct sim_fleet_stats *out);

#endif
