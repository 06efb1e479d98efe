/* Telemetry: the header every device message carries, and the checker that
 * turns arrivals into latency, loss, duplicate and order verdicts.
 *
 * Latency is arrival minus the *intended* send time written in the header,
 * both read from sim_now_ns, so a sender that stalls (a late timer, a full
 * window, a reconnect) shows up as latency instead of vanishing.
 */
#ifndef SIM_TELEMETRY_H
#define SIM_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "scenario.h"
#include "sim_err.h"

/* Header layout, little-endian, SIM_TELEMETRY_MIN_SIZE (32) bytes:
 * "FSIM" | version u8 | 3 reserved | run_id u32 | device u32 | seq u32 |
 * intended_ns u64 | check u32 (FNV-1a of the first 28 bytes). */
struct sim_tm_hdr {
	uint32_t run_id;            /* tells this run's messages from others on a shared broker */
	uint32_t device;            /* fleet-wide device index */
	uint32_t seq;               /* per device, from 0, one per intended send */
	uint64_t intended_ns;       /* sim_now_ns() at which the send was scheduled */
};

void sim_tm_encode(uint8_t *buf, const struct sim_tm_hdr *h);

/* A model's JSON payload carries the header as its last member instead,
 * ,"fsim":"<64 hex digits>"}, so that the payload stays the JSON object
 * the model describes. SIM_TM_JSON_EXTRA is the most it adds. */
#define SIM_TM_JSON_EXTRA 76
/* buf holds a JSON object of len bytes (its last non-space byte is '}')
 * and has room for len + SIM_TM_JSON_EXTRA; returns the new length. */
size_t sim_tm_encode_json(uint8_t *buf, size_t len, const struct sim_tm_hdr *h);

/* Finds the header in either form: at the start of the payload, or as a
 * JSON payload's last member. SIM_ERR_PROTO when there is none. */
enum sim_err sim_tm_decode(const uint8_t *buf, size_t len, struct sim_tm_hdr *h);

/* Why a send never reached MQTT. Each is also lost. */
enum sim_tm_drop {
	SIM_TM_DROP_DISCONNECTED,   /* QoS 0 while the device had no connection */
	SIM_TM_DROP_QUEUE_FULL,     /* QoS 1/2 beyond the client's queue */
	SIM_TM_DROP_POWERED_OFF,    /* QoS 0 held in RAM (the radio queue) at a reboot or crash */
	SIM_TM_DROP_LINK_DOWN,      /* QoS 0 while the link was down, or lost on it */
	SIM_TM_DROP_BEHIND,         /* owed at the end of the run: the device fell behind */
	SIM_TM_DROP_COUNT,
};
/* The cause's name in reports: "disconnected", "queue_full", ... */
const char *sim_tm_drop_name(enum sim_tm_drop why);

/* What the checker concluded from one arrival. */
enum sim_tm_verdict {
	SIM_TM_OK,                  /* first arrival, in order */
	SIM_TM_OUT_OF_ORDER,        /* first arrival, after a higher seq of the same device */
	SIM_TM_DUPLICATE,           /* this seq arrived before */
	SIM_TM_FOREIGN,             /* another run's message, or a seq never sent */
	SIM_TM_MALFORMED,           /* not a fleetsim header */
};

struct sim_tm_counts {
	uint64_t sent;              /* intended sends (seq numbers handed out) */
	uint64_t received;          /* distinct (device, seq) pairs that arrived */
	uint64_t duplicates;
	uint64_t out_of_order;
	uint64_t dropped;           /* sends MQTT could not take (also lost); the sum of dropped_by */
	uint64_t dropped_by[SIM_TM_DROP_COUNT];
	uint64_t foreign;
	uint64_t malformed;
};

struct sim_tm_checker;

/* One checker per run, for ndevices devices. The caller owns it. */
enum sim_err sim_tm_checker_new(uint32_t ndevices, uint32_t run_id, struct sim_tm_checker **out);
void sim_tm_checker_free(struct sim_tm_checker *c);

/* Hands out device's next sequence number and counts it as sent. */
uint32_t sim_tm_next_seq(struct sim_tm_checker *c, uint32_t device);
void sim_tm_note_dropped(struct sim_tm_checker *c, enum sim_tm_drop why);

/* Checks one arrival at now_ns; records latency for first arrivals. */
enum sim_tm_verdict sim_tm_check(struct sim_tm_checker *c, const uint8_t *payload, size_t len,
    uint64_t now_ns);

/* Counts so far; lost is sent - received. */
void sim_tm_counts(const struct sim_tm_checker *c, struct sim_tm_counts *out);
/* sent, received and duplicates of devices [first, first + n) only. */
void sim_tm_range_counts(const struct sim_tm_checker *c, uint32_t first, uint32_t n,
    struct sim_tm_counts *out);
/* True once every sent message has arrived or is known dropped. */
bool sim_tm_all_received(const struct sim_tm_checker *c);
/* The latency histogram (ns), owned by the checker. */
const struct rpt_hist *sim_tm_latency(const struct sim_tm_checker *c);
/* Latencies since the caller last reset this one (rpt_hist_reset), for
 * per-second series; owned by the checker. */
struct rpt_hist *sim_tm_window(struct sim_tm_checker *c);

#endif
