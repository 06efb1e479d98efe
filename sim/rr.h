/* Request-response bookkeeping: cloud-to-device methods and device-to-cloud
 * requests, one struct sim_rr per pattern. It knows nothing of MQTT or
 * topics: the engine opens a request, puts the id it gets on the wire (a
 * correlation id, an IoT Hub $rid), and reports answers and the passing of
 * time.
 *
 * Every request ends up with exactly one outcome, so at any moment
 * sent == ok + error_status + timeout + late + open; a request that timed
 * out and is answered afterwards moves from timeout to late. unmatched and
 * duplicate count answers, not requests.
 *
 * Latency is the answer's arrival minus the request's *intended* send time,
 * both read from sim_now_ns, so a sender that stalls shows up as latency
 * instead of vanishing (as in telemetry.h). It is recorded for ok and
 * error_status answers only: a late answer has no meaningful latency beyond
 * "more than the timeout".
 *
 * Ownership: sim_rr_new's caller owns the result and frees it with
 * sim_rr_free; method names are copied. Histograms returned by
 * sim_rr_latency belong to the sim_rr; sim_rr_json's tree to the caller.
 */
#ifndef SIM_RR_H
#define SIM_RR_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "json.h"
#include "sim_err.h"

enum sim_rr_outcome {
	SIM_RR_OK,                  /* answered before its deadline, status in the ok set */
	SIM_RR_ERROR_STATUS,        /* answered before its deadline, another status */
	SIM_RR_TIMEOUT,             /* no answer by intended_ns + timeout_ns */
	SIM_RR_LATE,                /* first answer at or after the deadline */
	SIM_RR_UNMATCHED,           /* not an id we issued, or not the request's device */
	SIM_RR_DUPLICATE,           /* the request was already answered */
};

struct sim_rr_opts {
	uint64_t timeout_ns;        /* > 0 */
	uint32_t ndevices;
	const char *const *methods; /* names, borrowed for the call (copied) */
	size_t nmethods;            /* >= 1 */
	uint32_t salt;              /* tells this run's ids from another's */
	int ok_min, ok_max;         /* statuses counted ok; both 0 = 200..299 */
};

struct sim_rr_counts {
	uint64_t sent, ok, error_status, timeout, late, unmatched, duplicate, open;
};

struct sim_rr;

/* SIM_ERR_INVAL for a zero timeout, no methods (or more than 65536), a
 * NULL, empty or repeated name (they key the report), or ok_min > ok_max. */
enum sim_err sim_rr_new(const struct sim_rr_opts *o, struct sim_rr **out);
void sim_rr_free(struct sim_rr *rr);

/* Opens a request to/from device for methods[method] intended at intended_ns;
 * returns its id, never 0. Requests must be opened in non-decreasing
 * intended_ns order (the engine's schedule guarantees it), so deadlines are
 * in order too and expiry is a cursor, not a heap.
 * A request that cannot be kept (out of memory, 2^32 - 2 requests already,
 * or device/method out of range, a bug in the caller) is still counted: as
 * sent and at once timed out, with an id no answer matches. */
uint64_t sim_rr_open(struct sim_rr *rr, uint32_t device, uint32_t method, uint64_t intended_ns);

/* Classifies an answer. device is who answered, or SIM_RR_ANY_DEVICE when
 * the wire does not say. An answer at or after the deadline is late even
 * when sim_rr_expire has not run yet, so the outcome does not depend on how
 * often the engine calls it. An answer from the wrong device is unmatched
 * and leaves the request as it was, so its own device may still answer. */
#define SIM_RR_ANY_DEVICE UINT32_MAX
enum sim_rr_outcome sim_rr_answer(struct sim_rr *rr, uint64_t id, uint32_t device, int status,
    uint64_t now_ns);

/* Times out every open request whose deadline is <= now_ns; returns how
 * many did. */
uint64_t sim_rr_expire(struct sim_rr *rr, uint64_t now_ns);

/* The earliest deadline of an open request, or 0 when none is open; for
 * arming the engine's timer. */
uint64_t sim_rr_next_deadline(const struct sim_rr *rr);

/* Counts overall (method == SIM_RR_ALL) or for one method (zeros when out
 * of range). An answer whose id matches no request has no method, so it
 * counts as unmatched overall only and the methods' unmatched may add up to
 * less; every other count adds up (barring opens with an out-of-range
 * method, which count overall only). */
#define SIM_RR_ALL UINT32_MAX
void sim_rr_counts(const struct sim_rr *rr, uint32_t method, struct sim_rr_counts *out);
/* Latencies (ns) overall (SIM_RR_ALL) or of one method; NULL when out of
 * range. */
const struct rpt_hist *sim_rr_latency(const struct sim_rr *rr, uint32_t method);

/* The report object: {sent, ok, error_status, timeout, late, unmatched,
 * duplicate, latency_ms {count,min,mean,p50,p90,p99,p999,max},
 * latency_histogram, by_method {NAME {sent, ok, error_status, timeout,
 * late, unmatched, duplicate, latency_ms {...}, latency_histogram}}}.
 * With rr NULL, the same shape with zeros and no histograms, for the
 * methods in o (the skeleton that assertion paths are checked against);
 * o is read only then. NULL on NOMEM, or when rr and o are both NULL. */
struct rpt_json *sim_rr_json(const struct sim_rr *rr, const struct sim_rr_opts *o);

/* Forms of the id on the wire: 16 lowercase hex digits (MQTT 5 correlation
 * data is the 8 bytes big-endian; IoT Hub $rid is the hex text). Parse
 * returns 0 for anything else, uppercase included: we only ever write
 * lowercase, and peers echo the id verbatim. out is NUL-terminated. */
void sim_rr_id_hex(uint64_t id, char out[17]);
uint64_t sim_rr_id_parse(const char *s, size_t len);

#endif
