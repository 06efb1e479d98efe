/* Payload templates for the requests the cloud side sends to devices
 * (request-response methods), e.g.
 *
 *   {"value": {rand.uniform(18,24):.1f}, "device": "{id}", "seq": {seq}}
 *
 * Fields are {NAME} or {NAME:FORMAT}. NAME is one of
 *   id, n, group          the target device's client id, index in its
 *                         group, and group name
 *   method                the method's name
 *   seq                   the request's sequence number
 *   tx.n                  the same number under the name a two-phase
 *                         commit's change uses: the transaction's number
 *   rand.uniform(A,B)     a uniform double in [A, B)
 *   rand.int(A,B)         a uniform integer in [A, B], both included
 * A and B are decimal numbers (a leading '-', digits, for uniform an
 * optional fraction; spaces around them are allowed), B >= A. Strings
 * are written without quotes, escaped for the inside of a JSON string.
 * FORMAT is for numbers only: .Nf (N <= 9), .Ne, or d (rounded). The
 * default is %.6g for rand.uniform, the exact integer for the rest.
 *
 * Only '{' and a letter start a field, so the JSON's own braces need no
 * escaping; "{{" is a literal '{', and "}}" is one '}' only where it
 * closes a "{{" (as in devices/dev_payload.h), so both {"a": {"b": 1}}
 * and {{"a": {n}}} render as JSON objects.
 *
 * A template is compiled once when the scenario loads; rendering does not
 * allocate. Random draws come from a stream seeded by the request's seed,
 * one after another in template order: the same seed gives the same
 * bytes, and two random fields in one template draw different numbers. */
#ifndef SIM_RR_PAYLOAD_H
#define SIM_RR_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "sim_err.h"

struct sim_rr_payload;

/* Values to render with; a NULL string renders as empty. */
struct sim_rr_payload_vals {
	const char *id;
	uint32_t n;
	const char *group;
	const char *method;
	uint64_t seq;           /* {seq}, and {tx.n} in a two-phase commit's change */
	uint64_t seed;          /* seeds the random fields */
};

/* Compiles src. On SIM_ERR_SCENARIO, err says what was expected and *off
 * is the byte offset in src of the '{' that starts the bad field. err and
 * off may be NULL. The caller owns *out: sim_rr_payload_free. */
enum sim_err sim_rr_payload_compile(const char *src, struct sim_rr_payload **out, char *err,
    size_t errlen, size_t *off);
void sim_rr_payload_free(struct sim_rr_payload *p);

/* Renders into buf like snprintf: writes what fits (NUL-terminated when
 * cap > 0) and returns the full length, excluding the NUL; a return >= cap
 * means it was cut. Same vals => same bytes. */
size_t sim_rr_payload_render(const struct sim_rr_payload *p, const struct sim_rr_payload_vals *v,
    char *buf, size_t cap);

/* The source text. */
const char *sim_rr_payload_source(const struct sim_rr_payload *p);

#endif
