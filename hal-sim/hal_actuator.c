#include "hal_actuator.h"

#include <math.h>
#include <stddef.h>

enum hal_err
hal_actuator_config_check(const struct hal_actuator_config *c)
{
	if (c == NULL || !isfinite(c->initial) || !isfinite(c->gain) || !isfinite(c->offset))
		return HAL_ERR_INVAL;
	switch (c->kind) {
	case HAL_ACTUATOR_SWITCH:
		if (c->initial != 0 && c->initial != 1)
			return HAL_ERR_INVAL;
		break;
	case HAL_ACTUATOR_SETPOINT:
		if (!(c->min <= c->max) || (c->min < c->max &&
		    (c->initial < c->min || c->initial > c->max)))
			return HAL_ERR_INVAL;
		break;
	case HAL_ACTUATOR_POSITION:
		if (!(c->min <= c->max) || c->initial < c->min || c->initial > c->max ||
		    !(c->jam_p >= 0 && c->jam_p <= 1))
			return HAL_ERR_INVAL;
		break;
	default:
		return HAL_ERR_INVAL;
	}
	return HAL_OK;
}

enum hal_err
hal_actuator_init(struct hal_actuator *a, const struct hal_actuator_config *cfg, uint64_t seed,
    const char *group, uint32_t index, const char *name, uint64_t t0)
{
	enum hal_err err;

	*a = (struct hal_actuator){ .cfg = NULL };
	if ((err = hal_actuator_config_check(cfg)) != HAL_OK)
		goto out;
	a->cfg = cfg;
	/* The purpose is the actuator's name, so adding an actuator to a
	 * model does not change another's jams. */
	hal_rng_init(&a->rng, seed, group, index, name != NULL ? name : "actuator");
	a->target = a->from = a->to = cfg->initial;
	a->t_from = a->t_end = t0;
out:
	return err;
}

void
hal_actuator_fini(struct hal_actuator *a)
{
	/* Nothing is owned; kept so that callers pair it with init. */
	(void)a;
}

double
hal_actuator_output(const struct hal_actuator *a, uint64_t t)
{
	const struct hal_actuator_config *c = a->cfg;

	if (c == NULL)
		return 0;
	if (c->kind == HAL_ACTUATOR_POSITION) {
		if (t >= a->t_end)
			return a->to;
		if (t <= a->t_from)
			return a->from;
		return a->from + (a->to - a->from) * (double)(t - a->t_from) /
		    (double)(a->t_end - a->t_from);
	}
	if (t < a->t_from)
		return a->from;
	if (c->tau == 0)
		return a->to;
	return a->to + (a->from - a->to) * exp(-(double)(t - a->t_from) / (double)c->tau);
}

enum hal_err
hal_actuator_set(struct hal_actuator *a, uint64_t t, double value,
    struct hal_actuator_result *res)
{
	const struct hal_actuator_config *c = a->cfg;
	struct hal_actuator_result r = { .done = t, .value = value };
	enum hal_err err = HAL_ERR_INVAL;
	double cur, f = 1;

	if (c == NULL || isnan(value))
		goto out;
	err = HAL_ERR_RANGE;
	if (c->kind == HAL_ACTUATOR_SWITCH && value != 0 && value != 1)
		goto out;
	if (c->kind != HAL_ACTUATOR_SWITCH && (!isfinite(value) ||
	    ((c->min < c->max || c->kind == HAL_ACTUATOR_POSITION) &&
	    (value < c->min || value > c->max))))
		goto out;
	err = HAL_OK;
	cur = hal_actuator_output(a, t);
	a->target = value;
	a->from = cur;
	a->t_from = t;
	a->jammed = 0;
	if (c->kind == HAL_ACTUATOR_POSITION && value != cur) {
		double span = c->max - c->min;
		double dur = span > 0 ? (double)c->travel_time * fabs(value - cur) / span : 0;

		/* A jam stops the move at a uniform fraction of the way. */
		if (c->jam_p > 0 && hal_rng_chance(&a->rng, c->jam_p)) {
			f = hal_rng_uniform(&a->rng);
			a->jammed = 1;
		}
		r.value = cur + (value - cur) * f;
		r.done = t + (uint64_t)llround(dur * f);
		r.jammed = a->jammed;
	}
	a->to = r.value;
	a->t_end = r.done;
out:
	if (res != NULL)
		*res = r;
	return err;
}

double
hal_actuator_value(const struct hal_actuator *a)
{
	return a->target;
}

double
hal_actuator_effect(const struct hal_actuator *a, uint64_t t)
{
	if (a->cfg == NULL)
		return 0;
	return a->cfg->gain * (hal_actuator_output(a, t) - a->cfg->offset);
}

int
hal_actuator_moving(const struct hal_actuator *a, uint64_t t)
{
	return a->cfg != NULL && a->cfg->kind == HAL_ACTUATOR_POSITION && t < a->t_end;
}

int
hal_actuator_jammed(const struct hal_actuator *a)
{
	return a->jammed;
}
