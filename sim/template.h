/* Templates such as "sensor-{n:05}" or "devices/{id}/telemetry", compiled
 * once and rendered per device without allocation. */
#ifndef SIM_TEMPLATE_H
#define SIM_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_err.h"

/* Variables a template may use. Which are allowed depends on where the
 * template stands (an id template may not use {id}); the loader passes the
 * allowed set. */
enum sim_tmpl_var {
	SIM_TMPL_ID = 1 << 0,     /* {id}: the device id */
	SIM_TMPL_N = 1 << 1,      /* {n}, {n:0W}: device index in its group, from 0; W zero-padded */
	SIM_TMPL_GROUP = 1 << 2,  /* {group} */
	/* Request-response topics. */
	SIM_TMPL_METHOD = 1 << 3, /* {method}: the method's name */
	SIM_TMPL_RID = 1 << 4,    /* {rid}: the request's correlation id */
	SIM_TMPL_STATUS = 1 << 5, /* {status}: the response's status code */
};

struct sim_tmpl;

/* Values to render with. */
struct sim_tmpl_vals {
	const char *id;
	uint32_t n;
	const char *group;
	const char *method;
	const char *rid;
	const char *status;
};

/* Compiles s. allowed is a mask of sim_tmpl_var. On SIM_ERR_SCENARIO, err
 * says what was expected and *col the 0-based offset in s. "{{" and "}}"
 * stand for literal braces. */
enum sim_err sim_tmpl_compile(const char *s, unsigned allowed, struct sim_tmpl **out,
    char *err, size_t errlen, size_t *col);
void sim_tmpl_free(struct sim_tmpl *t);

/* Renders into buf (always NUL-terminated when len > 0); returns the length
 * the full result needs, excluding the NUL, like snprintf. */
size_t sim_tmpl_render(const struct sim_tmpl *t, const struct sim_tmpl_vals *v, char *buf, size_t len);

/* The variables t uses (mask of sim_tmpl_var). */
unsigned sim_tmpl_uses(const struct sim_tmpl *t);

/* The MQTT subscription filter that matches every topic t renders to: each
 * topic level that contains a variable becomes "+". malloc'd, caller frees. */
char *sim_tmpl_to_filter(const struct sim_tmpl *t);

/* The filter for the topics t renders to with v, where only the variables
 * in wild vary: each level holding one of those becomes "+", the rest is
 * rendered. malloc'd, caller frees; NULL when out of memory. */
char *sim_tmpl_filter(const struct sim_tmpl *t, const struct sim_tmpl_vals *v, unsigned wild);

/* What sim_tmpl_match found: offsets into the topic, len 0 when absent. */
struct sim_tmpl_caps {
	size_t method_off, method_len;
	size_t rid_off, rid_len;
	size_t status_off, status_len;
	size_t id_off, id_len;          /* with v NULL */
	size_t other_off, other_len;    /* with v NULL: the last {n} or {group} */
};

/* Whether topic (len bytes) is one that t renders to with v's {id}, {n}
 * and {group} (with v NULL, any device's: those are captured too);
 * {method}, {rid} and {status} match any text within one level (up to the
 * literal that follows) and are returned in caps. */
bool sim_tmpl_match(const struct sim_tmpl *t, const struct sim_tmpl_vals *v, const char *topic,
    size_t len, struct sim_tmpl_caps *caps);

/* The source text. */
const char *sim_tmpl_source(const struct sim_tmpl *t);

#endif
