#include "dev_device.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_behaviour.h"
#include "dev_payload.h"

/* Room for "act." and the longest actuator name a flash key allows. */
#define ACT_KEY_SIZE (HAL_FLASH_KEY_MAX + 1)

static uint64_t
utime(int64_t t)
{
	return t > 0 ? (uint64_t)t : 0;
}

static void
act_key(char *key, const char *name)
{
	snprintf(key, ACT_KEY_SIZE, "act.%s", name);
}

/* A whole string as a finite number; true and false as 1 and 0, which a
 * switch takes. */
static int
parse_value(const char *s, double *v)
{
	char *end;

	if (s == NULL)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
		*v = s[0] == 't';
		return 0;
	}
	*v = strtod(s, &end);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	return (end != s && *end == '\0' && isfinite(*v)) ? 0 : -1;
}

/* Puts the persisted actuators back where flash says they were. The
 * firmware restores its setting and the hardware was already there, so
 * the restored value applies at once, without a response lag or a jam. */
static void
restore(struct dev_device *d, int64_t t)
{
	const struct dev_model *m = d->m;

	if (d->flash == NULL)
		return;
	for (size_t i = 0; i < m->nactuators; i++) {
		struct hal_actuator *a = &d->actuators[i], probe;
		char key[ACT_KEY_SIZE], text[64];
		const void *v;
		size_t n;
		double x;

		if (!m->actuators[i].persist)
			continue;
		act_key(key, m->actuators[i].name);
		if (hal_flash_get(d->flash, key, &v, &n) != HAL_OK || n >= sizeof(text))
			continue;
		memcpy(text, v, n);
		text[n] = '\0';
		/* A value the actuator would refuse (limits changed since it
		 * was saved) is ignored; the probe keeps the real one's
		 * random stream untouched. */
		probe = *a;
		if (parse_value(text, &x) != 0 || hal_actuator_set(&probe, utime(t), x, NULL) != HAL_OK)
			continue;
		a->target = a->from = a->to = x;
		a->t_from = a->t_end = utime(t);
		a->jammed = 0;
	}
}

static enum hal_err
actuators_init(struct dev_device *d, uint64_t seed, int64_t t)
{
	const struct dev_model *m = d->m;
	enum hal_err rv = HAL_OK;

	for (size_t i = 0; i < m->nactuators; i++)
		if ((rv = hal_actuator_init(&d->actuators[i], &m->actuators[i].cfg, seed, d->group,
		    d->index, m->actuators[i].name, utime(t))) != HAL_OK)
			goto out;
	restore(d, t);
out:
	return rv;
}

enum hal_err
dev_device_new(const struct dev_model *m, uint64_t seed, const char *group, uint32_t index,
    int64_t t0, struct dev_device **out)
{
	struct dev_device *d = NULL;
	struct hal_rng r;
	enum hal_err rv = HAL_ERR_NOMEM;

	*out = NULL;
	/* One allocation: the device, its sensors, then its actuators. */
	d = calloc(1, sizeof(*d) + m->nsensors * sizeof(struct hal_sensor) +
	    m->nactuators * sizeof(struct hal_actuator));
	if (d == NULL)
		goto out;
	d->m = m;
	d->group = group;
	d->index = index;
	if (m->nactuators > 0)
		d->actuators = (struct hal_actuator *)(d->sensors + m->nsensors);
	for (size_t i = 0; i < m->nsensors; i++)
		if ((rv = hal_sensor_init(&d->sensors[i], &m->sensors[i].cfg, seed, group, index)) !=
		    HAL_OK)
			goto out;
	if ((rv = hal_power_init(&d->power, &m->power, seed, group, index, utime(t0))) != HAL_OK ||
	    (rv = hal_link_init(&d->link, &m->link, seed, group, index, utime(t0))) != HAL_OK ||
	    (rv = hal_wallclock_init(&d->wc, m->clock_skew, m->clock_drift_ppm, NULL, 0)) != HAL_OK)
		goto out;
	hal_rng_init(&d->rng, seed, group, index, "device");
	hal_rng_init(&r, seed, group, index, "device.key");
	d->key = hal_rng_u64(&r);
	if (m->has_flash) {
		rv = HAL_ERR_NOMEM;
		if ((d->flash = malloc(sizeof(*d->flash))) == NULL)
			goto out;
		if ((rv = hal_flash_init(d->flash, &m->flash, seed, group, index)) != HAL_OK)
			goto out;
		/* No file yet is a first run. */
		if (m->flash.dir != NULL && (rv = hal_flash_load(d->flash)) != HAL_OK &&
		    rv != HAL_ERR_NOTFOUND)
			goto out;
	}
	if ((rv = actuators_init(d, seed, t0)) != HAL_OK)
		goto out;
	rv = HAL_ERR_NOMEM;
	if (m->ops != NULL && m->ops->state_size > 0 &&
	    (d->bstate = calloc(1, m->ops->state_size)) == NULL)
		goto out;
	/* The first boot is a boot like the others. */
	if (m->ops != NULL && m->ops->boot != NULL)
		m->ops->boot(d, d->bstate, t0);
	rv = HAL_OK;
	*out = d;
	d = NULL;
out:
	if (d != NULL) {
		if (d->flash != NULL)
			hal_flash_fini(d->flash);
		free(d->flash);
		free(d->bstate);
		free(d);
	}
	return rv;
}

void
dev_device_free(struct dev_device *d, int64_t t)
{
	if (d == NULL)
		return;
	if (d->flash != NULL) {
		/* A failed save loses the flash content of this run only; the
		 * device is going away either way. */
		if (d->m->flash.dir != NULL)
			(void)hal_flash_save(d->flash, utime(t));
		hal_flash_fini(d->flash);
		free(d->flash);
	}
	free(d->bstate);
	free(d);
}

size_t
dev_device_telemetry(struct dev_device *d, const struct dev_render_ctx *ctx, uint8_t *buf,
    size_t cap)
{
	const struct dev_model *m = d->m;

	if (m->ops != NULL && m->ops->telemetry != NULL)
		return m->ops->telemetry(d, d->bstate, ctx, buf, cap);
	if (m->payload != NULL)
		return dev_payload_render(m->payload, d, ctx, (char *)buf, cap);
	if (cap > 0)
		buf[0] = '\0';
	return 0;
}

void
dev_device_reboot(struct dev_device *d, int64_t t)
{
	const struct dev_model *m = d->m;

	d->boots++;
	if (d->flash != NULL)
		hal_flash_reboot(d->flash, utime(t));
	/* The seed only names the jam streams, which restart as on a first
	 * boot; the key stands in for it. */
	for (size_t i = 0; i < m->nactuators; i++) {
		struct hal_rng keep = d->actuators[i].rng;

		(void)hal_actuator_init(&d->actuators[i], &m->actuators[i].cfg, 0, NULL, 0, NULL,
		    utime(t));
		d->actuators[i].rng = keep;
	}
	restore(d, t);
	if (d->bstate != NULL)
		memset(d->bstate, 0, m->ops->state_size);
	if (m->ops != NULL && m->ops->boot != NULL)
		m->ops->boot(d, d->bstate, t);
}

static int64_t
later(int64_t a, uint64_t b)
{
	int64_t bb = b > INT64_MAX ? INT64_MAX : (int64_t)b;

	return a > bb ? a : bb;
}

/* The flash answer as a status; NOMEM is the simulator's, not the
 * device's, and is returned instead. */
static int
flash_status(enum hal_err e, int ok, enum hal_err *rv)
{
	switch (e) {
	case HAL_OK:
		return ok;
	case HAL_ERR_FULL:
		return 507;
	case HAL_ERR_NOTFOUND:
		return 404;
	case HAL_ERR_INVAL:
		return 400;
	case HAL_ERR_NOMEM:
		*rv = HAL_ERR_NOMEM;
		return 500;
	default:
		return 500;
	}
}

enum hal_err
dev_device_command(struct dev_device *d, int64_t t, const char *name, const char *arg,
    struct dev_cmd_result *res)
{
	const struct dev_model *m = d->m;
	const struct dev_command_spec *c;
	enum hal_err rv = HAL_OK, e;
	double v = 0, delay;
	uint64_t fdone;
	int ci;

	*res = (struct dev_cmd_result){ .status = 404, .done = t };
	if ((ci = dev_model_command(m, name)) < 0)
		goto out;
	c = &m->commands[ci];
	if (c->action == DEV_ACT_SET) {
		v = c->value;
		if (c->value_from_arg && parse_value(arg, &v) != 0) {
			res->status = 400;
			goto out;
		}
	}
	delay = dev_dist_draw(&c->delay, &d->rng);
	res->done = t + (int64_t)llround(fmin(delay, 4e18));
	if (c->fail > 0 && hal_rng_chance(&d->rng, c->fail)) {
		res->status = 500;
		goto out;
	}
	res->status = c->status;
	switch (c->action) {
	case DEV_ACT_SET: {
		const struct dev_actuator_spec *as = &m->actuators[c->actuator_idx];
		char key[ACT_KEY_SIZE], text[32];
		int n;

		if (hal_actuator_set(&d->actuators[c->actuator_idx], utime(t), v, NULL) != HAL_OK) {
			res->status = 400;
			goto out;
		}
		if (!as->persist || d->flash == NULL)
			break;
		/* The setting holds even if saving it fails; it is then lost
		 * at the next reboot, as on real firmware. */
		act_key(key, as->name);
		n = snprintf(text, sizeof(text), "%.17g", v);
		e = hal_flash_put(d->flash, utime(t), key, text, (size_t)n, &fdone);
		if (e == HAL_ERR_NOMEM)
			rv = e;
		res->done = later(res->done, fdone);
		break;
	}
	case DEV_ACT_FLASH_PUT:
		if (d->flash == NULL) {
			res->status = 500;
			break;
		}
		e = hal_flash_put(d->flash, utime(t), c->key, arg != NULL ? arg : "",
		    arg != NULL ? strlen(arg) : 0, &fdone);
		res->status = flash_status(e, c->status, &rv);
		res->done = later(res->done, fdone);
		break;
	case DEV_ACT_FLASH_DEL:
		if (d->flash == NULL) {
			res->status = 500;
			break;
		}
		e = hal_flash_del(d->flash, utime(t), c->key, &fdone);
		res->status = flash_status(e, c->status, &rv);
		res->done = later(res->done, fdone);
		break;
	case DEV_ACT_REBOOT:
		res->reboot = true;
		break;
	default:
		break;
	}
out:
	return rv;
}

size_t
dev_device_response(struct dev_device *d, const char *name, const struct dev_render_ctx *ctx,
    char *buf, size_t cap)
{
	int ci = dev_model_command(d->m, name);

	if (ci < 0 || d->m->commands[ci].response == NULL) {
		if (cap > 0)
			buf[0] = '\0';
		return 0;
	}
	return dev_payload_render(d->m->commands[ci].response, d, ctx, buf, cap);
}

size_t
dev_device_footprint(const struct dev_device *d)
{
	const struct dev_model *m = d->m;
	size_t n = sizeof(*d) + m->nsensors * sizeof(struct hal_sensor) +
	    m->nactuators * sizeof(struct hal_actuator);

	if (d->flash != NULL)
		n += sizeof(*d->flash) + d->flash->cap + d->flash->undo_cap;
	if (d->bstate != NULL)
		n += m->ops->state_size;
	return n;
}
