/* Templates such as "sensor-{n:05}" or "devices/{id}/telemetry", compiled
 * once and rendered per device without allocation. */
#ifndef SIM_TEMPLATE_H
#define SIM_TEMPLATE_H

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
};

struct sim_tmpl;

/* Values to render with. */
struct sim_tmpl_vals {
	const char *id;
	uint32_t n;
	const char *group;
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

/* The source text. */
const char *sim_tmpl_source(const struct sim_tmpl *t);

#endif
