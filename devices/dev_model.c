#include "dev_model.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_behaviour.h"
#include "dev_payload.h"
#include "hal_clock.h"

/* Distributions. */

double
dev_dist_draw(const struct dev_dist *d, struct hal_rng *r)
{
	double v;

	/* A fixed value draws nothing, so making a delay fixed does not
	 * shift the stream for the draws after it. */
	switch (d->kind) {
	case DEV_DIST_UNIFORM:
		v = d->a + (d->b - d->a) * hal_rng_uniform(r);
		break;
	case DEV_DIST_NORMAL:
		v = d->a + d->b * hal_rng_normal(r);
		break;
	case DEV_DIST_LOGNORMAL:
		v = d->a * exp(d->b * hal_rng_normal(r));
		break;
	default:
		v = d->a;
		break;
	}
	if (d->max > 0 && v > d->max)
		v = d->max;
	if (v < d->min)
		v = d->min;
	if (!(v >= 0))
		v = 0;
	return v;
}

enum hal_err
dev_dist_check(const struct dev_dist *d, char *err, size_t errlen)
{
	enum hal_err rv = HAL_ERR_INVAL;

	if (!isfinite(d->a) || !isfinite(d->b) || !isfinite(d->min) || !isfinite(d->max)) {
		hal_seterr(err, errlen, "expected finite numbers");
		goto out;
	}
	switch (d->kind) {
	case DEV_DIST_FIXED:
		if (d->a < 0) {
			hal_seterr(err, errlen, "expected a value >= 0, got %g", d->a);
			goto out;
		}
		break;
	case DEV_DIST_UNIFORM:
		if (d->a < 0 || d->b < d->a) {
			hal_seterr(err, errlen, "uniform: expected 0 <= min <= max, got min %g, max %g",
			    d->a, d->b);
			goto out;
		}
		break;
	case DEV_DIST_NORMAL:
		if (d->b < 0) {
			hal_seterr(err, errlen, "normal: expected sd >= 0, got %g", d->b);
			goto out;
		}
		break;
	case DEV_DIST_LOGNORMAL:
		if (d->a <= 0 || d->b < 0) {
			hal_seterr(err, errlen,
			    "lognormal: expected median > 0 and sigma >= 0, got median %g, sigma %g",
			    d->a, d->b);
			goto out;
		}
		break;
	default:
		hal_seterr(err, errlen, "expected dist fixed, uniform, normal or lognormal");
		goto out;
	}
	if (d->min < 0 || d->max < 0 || (d->max > 0 && d->min > d->max)) {
		hal_seterr(err, errlen, "expected 0 <= min <= max, got min %g, max %g", d->min, d->max);
		goto out;
	}
	rv = HAL_OK;
out:
	return rv;
}

/* Freeing and copying. */

static void
sensor_spec_fini(struct dev_sensor_spec *s)
{
	free(s->name);
	if (s->cfg.gen == HAL_GEN_STEPS)
		free((void *)s->cfg.steps.points);
	for (int f = 0; f < HAL_FAULT_COUNT; f++)
		free((void *)s->cfg.fault[f].schedule);
	hal_table_free(s->table);
}

static void
command_spec_fini(struct dev_command_spec *c)
{
	free(c->name);
	free(c->actuator);
	free(c->key);
	free(c->response_src);
	dev_payload_free(c->response);
}

void
dev_model_fini(struct dev_model *m)
{
	if (m == NULL)
		return;
	free(m->name);
	free(m->description);
	free(m->file);
	free(m->behaviour);
	for (size_t i = 0; i < m->nsensors; i++)
		sensor_spec_fini(&m->sensors[i]);
	free(m->sensors);
	for (size_t i = 0; i < m->nactuators; i++) {
		free(m->actuators[i].name);
		free(m->actuators[i].sensor);
	}
	free(m->actuators);
	for (size_t i = 0; i < m->ncommands; i++)
		command_spec_fini(&m->commands[i]);
	free(m->commands);
	free((void *)m->flash.dir);
	free((void *)m->power.reboot_at);
	free((void *)m->link.partitions);
	free((void *)m->link.half_open);
	free(m->payload_src);
	dev_payload_free(m->payload);
	*m = (struct dev_model){ .qos = 0 };
}

/* Copies a string; NULL stays NULL. Returns -1 when out of memory. */
static int
sdup(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	if ((*dst = strdup(src)) == NULL)
		return -1;
	return 0;
}

/* Copies n elements of size sz; NULL or none gives NULL. */
static int
adup(const void **dst, const void *src, size_t n, size_t sz)
{
	void *p;

	*dst = NULL;
	if (src == NULL || n == 0)
		return 0;
	if ((p = malloc(n * sz)) == NULL)
		return -1;
	memcpy(p, src, n * sz);
	*dst = p;
	return 0;
}

/* hal_table has no copy function and keeps its rows private, so a copy
 * is made by writing the rows back out as CSV and parsing that. Times
 * are written as exact decimals; they come back exact for tables
 * shorter than about 26 days and within a nanosecond beyond. */
static enum hal_err
table_copy(const struct hal_table *src, struct hal_table **out)
{
	const struct hal_point *pts;
	size_t n, len = 0, cap;
	char *buf = NULL;
	enum hal_err rv = HAL_ERR_NOMEM;

	*out = NULL;
	pts = hal_table_points(src, &n);
	cap = n * 64 + 1;
	if ((buf = malloc(cap)) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%" PRId64 ".%09" PRId64 ",%.17g\n",
		    pts[i].t / 1000000000, pts[i].t % 1000000000, pts[i].v);
	rv = hal_table_parse("copy", buf, len, out, NULL, 0);
out:
	free(buf);
	return rv;
}

static enum hal_err
sensor_spec_copy(struct dev_sensor_spec *d, const struct dev_sensor_spec *s)
{
	struct hal_sensor_config *c = &d->cfg;
	enum hal_err rv = HAL_ERR_NOMEM;

	/* Shallow first, then every owned pointer is cleared before it is
	 * replaced, so that a failure leaves d safe to fini. */
	*d = *s;
	d->name = NULL;
	d->table = NULL;
	for (int f = 0; f < HAL_FAULT_COUNT; f++)
		c->fault[f].schedule = NULL;
	if (c->gen == HAL_GEN_STEPS)
		c->steps.points = NULL;
	if (sdup(&d->name, s->name) != 0)
		goto out;
	if (s->cfg.name == s->name)
		c->name = d->name;
	for (int f = 0; f < HAL_FAULT_COUNT; f++)
		if (adup((const void **)&c->fault[f].schedule, s->cfg.fault[f].schedule,
		    s->cfg.fault[f].nschedule, sizeof(struct hal_window)) != 0)
			goto out;
	if (c->gen == HAL_GEN_STEPS &&
	    adup((const void **)&c->steps.points, s->cfg.steps.points, s->cfg.steps.npoints,
	    sizeof(struct hal_point)) != 0)
		goto out;
	if (s->table != NULL) {
		if ((rv = table_copy(s->table, &d->table)) != HAL_OK)
			goto out;
		if (c->gen == HAL_GEN_REPLAY && s->cfg.replay.table == s->table)
			c->replay.table = d->table;
	}
	rv = HAL_OK;
out:
	return rv;
}

static enum hal_err
command_spec_copy(struct dev_command_spec *d, const struct dev_command_spec *s)
{
	*d = *s;
	d->name = d->actuator = d->key = d->response_src = NULL;
	d->response = NULL;
	if (sdup(&d->name, s->name) != 0 || sdup(&d->actuator, s->actuator) != 0 ||
	    sdup(&d->key, s->key) != 0 || sdup(&d->response_src, s->response_src) != 0)
		return HAL_ERR_NOMEM;
	return HAL_OK;
}

enum hal_err
dev_model_copy(struct dev_model *dst, const struct dev_model *src)
{
	struct dev_model m = *src;
	enum hal_err rv = HAL_ERR_NOMEM;
	char err[256];
	size_t off;

	/* Every owned pointer is cleared first so that m is safe to fini
	 * wherever the copy stops. */
	m.name = m.description = m.file = m.behaviour = m.payload_src = NULL;
	m.payload = NULL;
	m.sensors = NULL;
	m.nsensors = 0;
	m.actuators = NULL;
	m.nactuators = 0;
	m.commands = NULL;
	m.ncommands = 0;
	m.flash.dir = NULL;
	m.power.reboot_at = NULL;
	m.link.partitions = NULL;
	m.link.half_open = NULL;

	if (sdup(&m.name, src->name) != 0 || sdup(&m.description, src->description) != 0 ||
	    sdup(&m.file, src->file) != 0 || sdup(&m.behaviour, src->behaviour) != 0 ||
	    sdup(&m.payload_src, src->payload_src) != 0 ||
	    sdup((char **)&m.flash.dir, src->flash.dir) != 0)
		goto out;
	if (adup((const void **)&m.power.reboot_at, src->power.reboot_at, src->power.n_reboot_at,
	    sizeof(uint64_t)) != 0 ||
	    adup((const void **)&m.link.partitions, src->link.partitions, src->link.n_partitions,
	    sizeof(struct hal_link_window)) != 0 ||
	    adup((const void **)&m.link.half_open, src->link.half_open, src->link.n_half_open,
	    sizeof(struct hal_link_window)) != 0)
		goto out;

	if (src->nsensors > 0 &&
	    (m.sensors = calloc(src->nsensors, sizeof(*m.sensors))) == NULL)
		goto out;
	for (; m.nsensors < src->nsensors; m.nsensors++)
		if ((rv = sensor_spec_copy(&m.sensors[m.nsensors], &src->sensors[m.nsensors])) !=
		    HAL_OK) {
			m.nsensors++;
			goto out;
		}
	rv = HAL_ERR_NOMEM;

	if (src->nactuators > 0 &&
	    (m.actuators = calloc(src->nactuators, sizeof(*m.actuators))) == NULL)
		goto out;
	for (; m.nactuators < src->nactuators; m.nactuators++) {
		struct dev_actuator_spec *a = &m.actuators[m.nactuators];
		const struct dev_actuator_spec *sa = &src->actuators[m.nactuators];

		*a = *sa;
		a->name = a->sensor = NULL;
		a->cfg.sensor = NULL;
		if (sdup(&a->name, sa->name) != 0 || sdup(&a->sensor, sa->sensor) != 0) {
			m.nactuators++;
			goto out;
		}
		a->cfg.sensor = sa->cfg.sensor == sa->sensor ? a->sensor : sa->cfg.sensor;
	}

	if (src->ncommands > 0 &&
	    (m.commands = calloc(src->ncommands, sizeof(*m.commands))) == NULL)
		goto out;
	for (; m.ncommands < src->ncommands; m.ncommands++)
		if ((rv = command_spec_copy(&m.commands[m.ncommands], &src->commands[m.ncommands])) !=
		    HAL_OK) {
			m.ncommands++;
			goto out;
		}

	/* The compiled templates point into the model they were compiled
	 * for, so a checked model's copy compiles its own. */
	if (src->payload != NULL &&
	    (rv = dev_payload_compile(m.payload_src, &m, 0, &m.payload, err, sizeof(err), &off)) !=
	    HAL_OK)
		goto out;
	for (size_t i = 0; i < m.ncommands; i++)
		if (src->commands[i].response != NULL &&
		    (rv = dev_payload_compile(m.commands[i].response_src, &m, DEV_PAYLOAD_ARG,
		    &m.commands[i].response, err, sizeof(err), &off)) != HAL_OK)
			goto out;
	rv = HAL_OK;
out:
	if (rv != HAL_OK)
		dev_model_fini(&m);
	*dst = m;
	return rv;
}

/* Lookups. */

int
dev_model_sensor(const struct dev_model *m, const char *name)
{
	for (size_t i = 0; name != NULL && i < m->nsensors; i++)
		if (m->sensors[i].name != NULL && strcmp(m->sensors[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
dev_model_actuator(const struct dev_model *m, const char *name)
{
	for (size_t i = 0; name != NULL && i < m->nactuators; i++)
		if (m->actuators[i].name != NULL && strcmp(m->actuators[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
dev_model_command(const struct dev_model *m, const char *name)
{
	for (size_t i = 0; name != NULL && i < m->ncommands; i++)
		if (m->commands[i].name != NULL && strcmp(m->commands[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Checking. */

static enum hal_err
problem(struct dev_problem *p, enum dev_where where, size_t index, size_t offset,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static enum hal_err
problem(struct dev_problem *p, enum dev_where where, size_t index, size_t offset,
    const char *fmt, ...)
{
	va_list ap;

	if (p != NULL) {
		p->where = where;
		p->index = index;
		p->offset = offset;
		va_start(ap, fmt);
		vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
		va_end(ap);
	}
	return HAL_ERR_INVAL;
}

/* "a, b, c" of the sensor or actuator names, for messages. */
static void
names(char *buf, size_t len, const struct dev_model *m, int actuators)
{
	size_t n = actuators ? m->nactuators : m->nsensors, pos = 0;

	buf[0] = '\0';
	if (n == 0) {
		snprintf(buf, len, "none");
		return;
	}
	for (size_t i = 0; i < n && pos < len; i++) {
		const char *s = actuators ? m->actuators[i].name : m->sensors[i].name;

		pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", i > 0 ? ", " : "",
		    s != NULL ? s : "");
	}
}

/* A name as the model file allows: letters, digits, - and _. */
static int
name_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/* A template must be an object so that fleetsim can append its member. */
static int
json_object(const char *s)
{
	const char *e = s + strlen(s);

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	return e - s >= 2 && *s == '{' && e[-1] == '}';
}

static enum hal_err
check_sensors(struct dev_model *m, struct dev_problem *p)
{
	char err[200];

	for (size_t i = 0; i < m->nsensors; i++) {
		struct dev_sensor_spec *s = &m->sensors[i];

		if (!name_ok(s->name) || strlen(s->name) > HAL_SENSOR_NAME_MAX)
			return problem(p, DEV_WHERE_SENSOR, i, 0,
			    "sensor '%s': expected a name of 1 to %d letters, digits, - and _",
			    s->name != NULL ? s->name : "", HAL_SENSOR_NAME_MAX);
		if (dev_model_sensor(m, s->name) != (int)i)
			return problem(p, DEV_WHERE_SENSOR, i, 0, "sensor '%s' is defined twice",
			    s->name);
		/* The spec owns the name and table; the config points at them. */
		s->cfg.name = s->name;
		if (s->cfg.gen == HAL_GEN_REPLAY && s->table != NULL)
			s->cfg.replay.table = s->table;
		if (hal_sensor_config_check(&s->cfg, err, sizeof(err)) != HAL_OK)
			return problem(p, DEV_WHERE_SENSOR, i, 0, "sensor '%s': %s", s->name, err);
	}
	return HAL_OK;
}

static const char *
actuator_rule(enum hal_actuator_kind k)
{
	switch (k) {
	case HAL_ACTUATOR_SWITCH:
		return "switch: expected initial 0 or 1 and finite gain and offset";
	case HAL_ACTUATOR_SETPOINT:
		return "setpoint: expected min <= initial <= max (or min == max for no limit) and finite gain and offset";
	case HAL_ACTUATOR_POSITION:
		return "position: expected min <= initial <= max, jam in [0, 1] and finite gain and offset";
	default:
		return "expected kind switch, setpoint or position";
	}
}

static enum hal_err
check_actuators(struct dev_model *m, struct dev_problem *p)
{
	char list[160];

	for (size_t i = 0; i < m->nactuators; i++) {
		struct dev_actuator_spec *a = &m->actuators[i];

		if (!name_ok(a->name))
			return problem(p, DEV_WHERE_ACTUATOR, i, 0,
			    "actuator '%s': expected a name of letters, digits, - and _",
			    a->name != NULL ? a->name : "");
		if (dev_model_actuator(m, a->name) != (int)i)
			return problem(p, DEV_WHERE_ACTUATOR, i, 0, "actuator '%s' is defined twice",
			    a->name);
		a->cfg.sensor = a->sensor;
		a->sensor_idx = -1;
		if (a->sensor != NULL && (a->sensor_idx = dev_model_sensor(m, a->sensor)) < 0) {
			names(list, sizeof(list), m, 0);
			return problem(p, DEV_WHERE_ACTUATOR, i, 0,
			    "actuator '%s': unknown sensor '%s'; the model has: %s", a->name,
			    a->sensor, list);
		}
		if (hal_actuator_config_check(&a->cfg) != HAL_OK)
			return problem(p, DEV_WHERE_ACTUATOR, i, 0, "actuator '%s': %s", a->name,
			    actuator_rule(a->cfg.kind));
		if (a->persist && !m->has_flash)
			return problem(p, DEV_WHERE_ACTUATOR, i, 0,
			    "actuator '%s': persist needs flash, and the model has none", a->name);
		if (a->persist && strlen(a->name) + 4 > HAL_FLASH_KEY_MAX)
			return problem(p, DEV_WHERE_ACTUATOR, i, 0,
			    "actuator '%s': the name is too long for a flash key", a->name);
	}
	return HAL_OK;
}

static enum hal_err
check_commands(struct dev_model *m, struct dev_problem *p)
{
	char err[200], list[160];
	size_t off;

	for (size_t i = 0; i < m->ncommands; i++) {
		struct dev_command_spec *c = &m->commands[i];

		if (!name_ok(c->name))
			return problem(p, DEV_WHERE_COMMAND, i, 0,
			    "command '%s': expected a name of letters, digits, - and _",
			    c->name != NULL ? c->name : "");
		if (dev_model_command(m, c->name) != (int)i)
			return problem(p, DEV_WHERE_COMMAND, i, 0, "command '%s' is defined twice",
			    c->name);
		c->actuator_idx = -1;
		switch (c->action) {
		case DEV_ACT_NONE:
		case DEV_ACT_REBOOT:
			break;
		case DEV_ACT_SET:
			if ((c->actuator_idx = dev_model_actuator(m, c->actuator)) < 0) {
				names(list, sizeof(list), m, 1);
				return problem(p, DEV_WHERE_COMMAND, i, 0,
				    "command '%s': unknown actuator '%s'; the model has: %s", c->name,
				    c->actuator != NULL ? c->actuator : "", list);
			}
			if (!c->value_from_arg && !isfinite(c->value))
				return problem(p, DEV_WHERE_COMMAND, i, 0,
				    "command '%s': expected value: arg or a number", c->name);
			break;
		case DEV_ACT_FLASH_PUT:
		case DEV_ACT_FLASH_DEL:
			if (!m->has_flash)
				return problem(p, DEV_WHERE_COMMAND, i, 0,
				    "command '%s' uses flash, and the model has none", c->name);
			if (c->key == NULL || c->key[0] == '\0' || strlen(c->key) > HAL_FLASH_KEY_MAX)
				return problem(p, DEV_WHERE_COMMAND, i, 0,
				    "command '%s': expected a flash key of 1 to %d bytes", c->name,
				    HAL_FLASH_KEY_MAX);
			break;
		default:
			return problem(p, DEV_WHERE_COMMAND, i, 0, "command '%s': unknown action",
			    c->name);
		}
		if (c->status == 0)
			c->status = 200;
		if (c->status < 100 || c->status > 599)
			return problem(p, DEV_WHERE_COMMAND, i, 0,
			    "command '%s': expected a status from 100 to 599, got %d", c->name,
			    c->status);
		if (!(c->fail >= 0 && c->fail <= 1))
			return problem(p, DEV_WHERE_COMMAND, i, 0,
			    "command '%s': expected fail from 0 to 1, got %g", c->name, c->fail);
		if (dev_dist_check(&c->delay, err, sizeof(err)) != HAL_OK)
			return problem(p, DEV_WHERE_COMMAND, i, 0, "command '%s': delay: %s", c->name,
			    err);
		dev_payload_free(c->response);
		c->response = NULL;
		if (c->response_src != NULL &&
		    dev_payload_compile(c->response_src, m, DEV_PAYLOAD_ARG, &c->response, err,
		    sizeof(err), &off) != HAL_OK)
			return problem(p, DEV_WHERE_COMMAND, i, off, "command '%s': response: %s",
			    c->name, err);
	}
	return HAL_OK;
}

static enum hal_err
check_behaviour(struct dev_model *m, struct dev_problem *p)
{
	char err[200], list[200];
	size_t pos = 0;

	m->ops = NULL;
	if (m->behaviour == NULL)
		return HAL_OK;
	if ((m->ops = dev_behaviour_find(m->behaviour)) == NULL) {
		const struct dev_behaviour_ops *o;

		list[0] = '\0';
		for (size_t i = 0; (o = dev_behaviour_at(i)) != NULL && pos < sizeof(list); i++)
			pos += (size_t)snprintf(list + pos, sizeof(list) - pos, "%s%s",
			    i > 0 ? ", " : "", o->name);
		return problem(p, DEV_WHERE_BEHAVIOUR, 0, 0,
		    "unknown behaviour '%s'; expected one of: %s", m->behaviour, list);
	}
	err[0] = '\0';
	if (m->ops->check != NULL && m->ops->check(m, err, sizeof(err)) != HAL_OK)
		return problem(p, DEV_WHERE_BEHAVIOUR, 0, 0, "behaviour '%s': %s", m->behaviour,
		    err);
	return HAL_OK;
}

enum hal_err
dev_model_check(struct dev_model *m, struct dev_problem *p)
{
	char err[200];
	size_t off;
	enum hal_err rv;
	struct hal_wallclock wc;

	if (p != NULL)
		*p = (struct dev_problem){ .where = DEV_WHERE_MODEL };
	if ((rv = check_sensors(m, p)) != HAL_OK || (rv = check_actuators(m, p)) != HAL_OK ||
	    (rv = check_commands(m, p)) != HAL_OK)
		goto out;
	if (m->has_flash && (m->flash.capacity == 0 || m->flash.capacity > UINT32_MAX - 16 ||
	    !(m->flash.write_fail >= 0 && m->flash.write_fail <= 1))) {
		rv = problem(p, DEV_WHERE_FLASH, 0, 0,
		    "flash: expected a capacity from 1 byte to 4GB and write_fail from 0 to 1");
		goto out;
	}
	if (hal_power_config_check(&m->power) != HAL_OK) {
		rv = problem(p, DEV_WHERE_POWER, 0, 0,
		    "power: expected energies >= 0, a cutoff from 0 to under 100%% and at most 65535 reboot times in order");
		goto out;
	}
	if (hal_link_config_check(&m->link) != HAL_OK) {
		rv = problem(p, DEV_WHERE_LINK, 0, 0,
		    "link: expected a latency >= 0 (lognormal: median > 0), mttr with disconnect mtbf, duration with half_open mtbf, and windows in order without overlap");
		goto out;
	}
	if (hal_wallclock_init(&wc, m->clock_skew, m->clock_drift_ppm, err, sizeof(err)) !=
	    HAL_OK) {
		rv = problem(p, DEV_WHERE_MODEL, 0, 0, "%s", err);
		goto out;
	}
	if (m->qos < -1 || m->qos > 2) {
		rv = problem(p, DEV_WHERE_MODEL, 0, 0, "telemetry: expected qos 0, 1 or 2, got %d",
		    m->qos);
		goto out;
	}
	if (m->has_frame && dev_dist_check(&m->frame_size, err, sizeof(err)) != HAL_OK) {
		rv = problem(p, DEV_WHERE_MODEL, 0, 0, "telemetry frame size: %s", err);
		goto out;
	}
	dev_payload_free(m->payload);
	m->payload = NULL;
	if (m->payload_src != NULL) {
		if (!json_object(m->payload_src)) {
			rv = problem(p, DEV_WHERE_PAYLOAD, 0, 0,
			    "telemetry payload: expected a JSON object, {...}, so that fleetsim can add its \"fsim\" member");
			goto out;
		}
		if (dev_payload_compile(m->payload_src, m, 0, &m->payload, err, sizeof(err), &off) !=
		    HAL_OK) {
			rv = problem(p, DEV_WHERE_PAYLOAD, 0, off, "telemetry payload: %s", err);
			goto out;
		}
	}
	rv = check_behaviour(m, p);
out:
	return rv;
}
