/* Payload templates: the JSON a device sends, with fields filled from its
 * simulated hardware, e.g.
 *
 *   {"temp": {sensor.temp:.2f}, "ts": "{clock.iso}", "battery": {power.pct:.0f}}
 *
 * Fields are {NAME} or {NAME:FORMAT}. NAME is one of
 *   sensor.S             sensor S's reading (NaN, a dropout, renders as null)
 *   actuator.A           actuator A's output; actuator.A.target, the last
 *                        commanded value; actuator.A.moving and
 *                        actuator.A.jammed, true or false
 *   flash.KEY            the flash value under KEY as a JSON string, or null
 *   clock.iso            the device's wall clock, 2026-01-01T00:00:00.000Z
 *   clock.unix_ms        the same in milliseconds since 1970
 *   power.pct            battery charge in percent
 *   id, n, group         the device's client id, index in its group, group
 *   seq                  the message's sequence number
 *   boots                reboots and crashes the device has been through
 *   arg                  a command's argument (response templates only)
 * FORMAT is printf-like for numbers: .Nf (N <= 9), .Ne, or d (rounded).
 * The default is %.6g. {{ and }} are literal braces.
 *
 * Only '{' and a letter start a field, so the template's JSON braces need
 * no escaping; a "}}" is one brace only where it closes a "{{", so both
 * {"a": {"b": 1}} and {{"a": {sensor.x}}} render as JSON objects.
 *
 * A template is compiled once per model; rendering does not allocate,
 * reads every sensor it shows once (every read is a new sample) and costs
 * well under 2 us for a few fields. */
#ifndef DEV_PAYLOAD_H
#define DEV_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "hal_err.h"

struct dev_model;
struct dev_device;
struct hal_timebase;

struct dev_payload;

/* Which fields a template may use. */
enum {
	DEV_PAYLOAD_ARG = 1 << 0,       /* {arg}: command responses */
};

/* Compiles src against model m (sensor, actuator names are checked).
 * On HAL_ERR_INVAL, err says what was expected and *offset is the byte
 * in src where the problem starts. The caller owns *out:
 * dev_payload_free. */
enum hal_err dev_payload_compile(const char *src, const struct dev_model *m, unsigned allowed,
    struct dev_payload **out, char *err, size_t errlen, size_t *offset);
void dev_payload_free(struct dev_payload *p);

/* What rendering needs besides the device. */
struct dev_render_ctx {
	const struct hal_timebase *tb;  /* for the wall clock */
	int64_t t;                      /* simulated time, ns */
	uint32_t seq;
	const char *id;                 /* client id */
	const char *arg;                /* command argument, or NULL */
};

/* Renders into buf (cap bytes, NUL-terminated when cap > 0) and returns
 * the full length, as snprintf does: a return >= cap means it was cut. */
size_t dev_payload_render(const struct dev_payload *p, struct dev_device *d,
    const struct dev_render_ctx *ctx, char *buf, size_t cap);

/* Whether the template uses a field, e.g. "clock.iso" (for docs/tests). */
int dev_payload_uses(const struct dev_payload *p, const char *field);

#endif
