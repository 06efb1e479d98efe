#include "hal_sensor.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000ll
#define NS_PER_H (3600ll * NS_PER_S)
/* Rows walked from the cursor before falling back to a binary search. */
#define SCAN_STEPS 8
/* Fault buckets are capped so that rare faults still scan few of them. */
#define BUCKET_MAX ((int64_t)1 << 50)
/* Reads later than this (146 years) are read at it, which keeps the
 * bucket arithmetic clear of overflow. */
#define T_MAX ((int64_t)1 << 62)
/* Longest number in a CSV field. */
#define FIELD_MAX 64

struct hal_table {
	struct hal_point *pts;
	size_t n;
	int64_t period;
};

static const char *const gen_names[] = {
	[HAL_GEN_CONSTANT] = "constant",
	[HAL_GEN_UNIFORM] = "uniform",
	[HAL_GEN_NORMAL] = "normal",
	[HAL_GEN_SINE] = "sine",
	[HAL_GEN_RANDOM_WALK] = "random_walk",
	[HAL_GEN_STEPS] = "steps",
	[HAL_GEN_REPLAY] = "replay",
	[HAL_GEN_COUNTER] = "counter",
};

static const char *const fault_names[] = {
	[HAL_FAULT_STUCK] = "stuck",
	[HAL_FAULT_DRIFT] = "drift",
	[HAL_FAULT_SPIKE] = "spike",
	[HAL_FAULT_DROPOUT] = "dropout",
};

#define NGEN (sizeof(gen_names) / sizeof(gen_names[0]))

const char *
hal_gen_name(enum hal_gen g)
{
	return (unsigned)g < NGEN ? gen_names[g] : "?";
}

enum hal_err
hal_gen_from_name(const char *name, enum hal_gen *g)
{
	for (size_t i = 0; name != NULL && i < NGEN; i++) {
		if (strcmp(name, gen_names[i]) == 0) {
			*g = (enum hal_gen)i;
			return HAL_OK;
		}
	}
	return HAL_ERR_INVAL;
}

const char *
hal_fault_name(enum hal_fault f)
{
	return (unsigned)f < HAL_FAULT_COUNT ? fault_names[f] : "?";
}

enum hal_err
hal_fault_from_name(const char *name, enum hal_fault *f)
{
	for (int i = 0; name != NULL && i < HAL_FAULT_COUNT; i++) {
		if (strcmp(name, fault_names[i]) == 0) {
			*f = (enum hal_fault)i;
			return HAL_OK;
		}
	}
	return HAL_ERR_INVAL;
}

/* Configuration checks. Each returns HAL_ERR_INVAL with the message
 * set, or HAL_OK. */

static enum hal_err
check_fault(const struct hal_fault_config *fc, enum hal_fault f, char *err, size_t errlen)
{
	const char *n = fault_names[f];
	enum hal_err rv = HAL_ERR_INVAL;

	if (!(fc->rate >= 0 && fc->rate <= HAL_FAULT_RATE_MAX)) {
		hal_seterr(err, errlen, "faults.%s: rate must be from 0 to %g per hour, got %g", n,
		    HAL_FAULT_RATE_MAX, fc->rate);
		goto out;
	}
	if (fc->rate > 0 && fc->nschedule > 0) {
		hal_seterr(err, errlen, "faults.%s: expected a rate or a schedule, not both", n);
		goto out;
	}
	if (fc->nschedule > 0 && fc->schedule == NULL) {
		hal_seterr(err, errlen, "faults.%s: schedule has %zu windows but no array", n,
		    fc->nschedule);
		goto out;
	}
	for (size_t i = 0; i < fc->nschedule; i++) {
		const struct hal_window *w = &fc->schedule[i];

		if (w->start < 0 || w->end <= w->start) {
			hal_seterr(err, errlen,
			    "faults.%s: schedule window %zu must start at 0 or later and end after it starts",
			    n, i + 1);
			goto out;
		}
		if (i > 0 && w->start < fc->schedule[i - 1].end) {
			hal_seterr(err, errlen,
			    "faults.%s: schedule window %zu must start after window %zu ends", n, i + 1,
			    i);
			goto out;
		}
	}
	if (fc->duration < 0 ||
	    (fc->rate > 0 && fc->duration == 0 && (f == HAL_FAULT_STUCK || f == HAL_FAULT_DRIFT))) {
		hal_seterr(err, errlen, "faults.%s: duration must be > 0%s", n,
		    f == HAL_FAULT_DROPOUT || f == HAL_FAULT_SPIKE ? " or 0" : "");
		goto out;
	}
	if (!isfinite(fc->slope) || !isfinite(fc->magnitude)) {
		hal_seterr(err, errlen, "faults.%s: %s must be a finite number", n,
		    isfinite(fc->slope) ? "magnitude" : "slope");
		goto out;
	}
	rv = HAL_OK;
out:
	return rv;
}

static enum hal_err
check_points(const char *what, const struct hal_point *p, size_t n, int64_t period, char *err,
    size_t errlen)
{
	enum hal_err rv = HAL_ERR_INVAL;

	if (n == 0 || p == NULL) {
		hal_seterr(err, errlen, "%s: expected at least one point", what);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (p[i].t < 0 || (i > 0 && p[i].t <= p[i - 1].t)) {
			hal_seterr(err, errlen,
			    "%s: point %zu: times must be >= 0 and increasing", what, i + 1);
			goto out;
		}
		if (!isfinite(p[i].v)) {
			hal_seterr(err, errlen, "%s: point %zu: value must be a finite number", what, i + 1);
			goto out;
		}
	}
	if (period != 0 && period <= p[n - 1].t) {
		hal_seterr(err, errlen, "%s: period must be 0 or after the last point", what);
		goto out;
	}
	rv = HAL_OK;
out:
	return rv;
}

enum hal_err
hal_sensor_config_check(const struct hal_sensor_config *c, char *err, size_t errlen)
{
	enum hal_err rv = HAL_ERR_INVAL;
	size_t n;

	if (c == NULL || c->name == NULL || (n = strlen(c->name)) == 0 ||
	    n > HAL_SENSOR_NAME_MAX) {
		hal_seterr(err, errlen, "sensor: name must be 1 to %d bytes", HAL_SENSOR_NAME_MAX);
		goto out;
	}
	if (!(c->noise >= 0 && isfinite(c->noise))) {
		hal_seterr(err, errlen, "noise: must be a finite number >= 0");
		goto out;
	}
	switch (c->gen) {
	case HAL_GEN_CONSTANT:
		if (!isfinite(c->constant.value)) {
			hal_seterr(err, errlen, "constant: value must be a finite number");
			goto out;
		}
		break;
	case HAL_GEN_UNIFORM:
		if (!isfinite(c->uniform.min) || !isfinite(c->uniform.max) ||
		    c->uniform.max < c->uniform.min) {
			hal_seterr(err, errlen, "uniform: expected finite min and max, max >= min");
			goto out;
		}
		break;
	case HAL_GEN_NORMAL:
		if (!isfinite(c->normal.mean) || !(c->normal.sd >= 0 && isfinite(c->normal.sd))) {
			hal_seterr(err, errlen, "normal: expected a finite mean and sd >= 0");
			goto out;
		}
		break;
	case HAL_GEN_SINE:
		if (c->sine.period <= 0) {
			hal_seterr(err, errlen, "sine: period must be > 0");
			goto out;
		}
		if (!isfinite(c->sine.mean) || !isfinite(c->sine.amplitude)) {
			hal_seterr(err, errlen, "sine: mean and amplitude must be finite numbers");
			goto out;
		}
		break;
	case HAL_GEN_RANDOM_WALK:
		if (!isfinite(c->random_walk.lower) || !isfinite(c->random_walk.upper) ||
		    c->random_walk.upper < c->random_walk.lower) {
			hal_seterr(err, errlen, "random_walk: expected finite bounds, upper >= lower");
			goto out;
		}
		if (!(c->random_walk.start >= c->random_walk.lower &&
		    c->random_walk.start <= c->random_walk.upper)) {
			hal_seterr(err, errlen, "random_walk: start must be within [lower, upper]");
			goto out;
		}
		if (!(c->random_walk.step_sd >= 0 && isfinite(c->random_walk.step_sd)) ||
		    c->random_walk.step_time <= 0) {
			hal_seterr(err, errlen, "random_walk: expected step sd >= 0 and step time > 0");
			goto out;
		}
		break;
	case HAL_GEN_STEPS:
		if (check_points("steps", c->steps.points, c->steps.npoints, c->steps.period, err,
		    errlen) != HAL_OK)
			goto out;
		break;
	case HAL_GEN_REPLAY:
		if (c->replay.table == NULL) {
			hal_seterr(err, errlen, "replay: expected a loaded table");
			goto out;
		}
		if (c->replay.period != 0 &&
		    c->replay.period <= c->replay.table->pts[c->replay.table->n - 1].t) {
			hal_seterr(err, errlen, "replay: period must be 0 or after the last row");
			goto out;
		}
		break;
	case HAL_GEN_COUNTER:
		if (!isfinite(c->counter.start) || !(c->counter.rate >= 0 && isfinite(c->counter.rate)) ||
		    !(c->counter.rate_sd >= 0 && isfinite(c->counter.rate_sd))) {
			hal_seterr(err, errlen, "counter: expected a finite start, rate >= 0 and rate_sd >= 0");
			goto out;
		}
		if (c->noise != 0) {
			hal_seterr(err, errlen,
			    "counter: noise would make it decrease; expected rate_sd instead");
			goto out;
		}
		break;
	default:
		hal_seterr(err, errlen, "sensor: unknown generator %d", (int)c->gen);
		goto out;
	}
	for (int f = 0; f < HAL_FAULT_COUNT; f++)
		if (check_fault(&c->fault[f], (enum hal_fault)f, err, errlen) != HAL_OK)
			goto out;
	rv = HAL_OK;
out:
	return rv;
}

enum hal_err
hal_sensor_init(struct hal_sensor *s, const struct hal_sensor_config *cfg, uint64_t seed,
    const char *group, uint32_t index)
{
	char purpose[sizeof("sensor.") + HAL_SENSOR_NAME_MAX];
	enum hal_err rv = HAL_OK;
	size_t n;

	memset(s, 0, sizeof(*s));
	s->held = NAN;
	if (cfg == NULL || cfg->name == NULL || (n = strlen(cfg->name)) == 0 ||
	    n > HAL_SENSOR_NAME_MAX) {
		rv = HAL_ERR_INVAL;
		goto out;
	}
	/* The prefix keeps a sensor named "link" off the link's stream. */
	snprintf(purpose, sizeof(purpose), "sensor.%s", cfg->name);
	hal_rng_init(&s->rng, seed, group, index, purpose);
	s->fault_key = hal_rng_u64(&s->rng);
	s->cfg = cfg;
	if (cfg->gen == HAL_GEN_RANDOM_WALK)
		s->g.x = cfg->random_walk.start;
	else if (cfg->gen == HAL_GEN_COUNTER)
		s->g.x = cfg->counter.start;
out:
	return rv;
}

void
hal_sensor_fini(struct hal_sensor *s)
{
	s->cfg = NULL;
}

void
hal_sensor_set_input(struct hal_sensor *s, double input)
{
	s->input = input;
}

double
hal_sensor_input(const struct hal_sensor *s)
{
	return s->input;
}

/* Index of the last point at or before u, or -1 when u is before them
 * all. Reads move forward, so the answer is usually at or just after
 * the previous one: walk a few rows from there, else bisect. */
static ptrdiff_t
find_point(const struct hal_point *p, size_t n, int64_t u, uint64_t *cursor)
{
	size_t i = *cursor < n ? (size_t)*cursor : 0;
	size_t lo, hi;

	if (p[i].t <= u) {
		for (int k = 0; k < SCAN_STEPS; k++) {
			if (i + 1 >= n || p[i + 1].t > u) {
				*cursor = i;
				return (ptrdiff_t)i;
			}
			i++;
		}
		lo = i;
		hi = n;
	} else {
		if (p[0].t > u) {
			*cursor = 0;
			return -1;
		}
		lo = 0;
		hi = i;
	}
	/* p[lo].t <= u, and hi == n or p[hi].t > u. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (p[mid].t <= u)
			lo = mid;
		else
			hi = mid;
	}
	*cursor = lo;
	return (ptrdiff_t)lo;
}

static double
series(const struct hal_point *p, size_t n, int64_t period, int linear, int64_t t,
    uint64_t *cursor)
{
	int64_t u = period > 0 ? t % period : t;
	ptrdiff_t i = find_point(p, n, u, cursor);
	const struct hal_point *a, *b;
	int64_t ta, tb;

	if (i < 0) {
		if (period == 0)
			return p[0].v;
		/* Before the first row of a cycle: still the previous
		 * cycle's last row. */
		a = &p[n - 1];
		ta = a->t - period;
		b = &p[0];
		tb = b->t;
	} else {
		a = &p[i];
		ta = a->t;
		if ((size_t)i + 1 < n) {
			b = &p[i + 1];
			tb = b->t;
		} else if (period > 0) {
			b = &p[0];
			tb = b->t + period;
		} else {
			return a->v;
		}
	}
	if (!linear)
		return a->v;
	return a->v + (b->v - a->v) * ((double)(u - ta) / (double)(tb - ta));
}

/* Folds x back into [lo, hi] as if it bounced off the bounds, which
 * keeps a walk's steps symmetric where clamping would make it stick. */
static double
reflect(double x, double lo, double hi)
{
	double w = hi - lo, y;

	if (x >= lo && x <= hi)
		return x;
	if (w <= 0)
		return lo;
	y = fmod(x - lo, 2 * w);
	if (y < 0)
		y += 2 * w;
	return y <= w ? lo + y : lo + 2 * w - y;
}

static double
generate(struct hal_sensor *s, int64_t t, int64_t dt)
{
	const struct hal_sensor_config *c = s->cfg;

	switch (c->gen) {
	case HAL_GEN_CONSTANT:
		return c->constant.value;
	case HAL_GEN_UNIFORM:
		return c->uniform.min + (c->uniform.max - c->uniform.min) * hal_rng_uniform(&s->rng);
	case HAL_GEN_NORMAL:
		return c->normal.mean + c->normal.sd * hal_rng_normal(&s->rng);
	case HAL_GEN_SINE: {
		/* Reduce in integers first: a double t loses the phase after
		 * long runs. */
		int64_t p = c->sine.period, u = t % p, ph = c->sine.phase % p;

		if (ph < 0)
			ph += p;
		u = u >= p - ph ? u - (p - ph) : u + ph;
		return c->sine.mean + c->sine.amplitude * sin(2 * M_PI * ((double)u / (double)p));
	}
	case HAL_GEN_RANDOM_WALK:
		if (dt > 0 && c->random_walk.step_sd > 0) {
			double sd = c->random_walk.step_sd *
			    sqrt((double)dt / (double)c->random_walk.step_time);

			s->g.x = reflect(s->g.x + sd * hal_rng_normal(&s->rng), c->random_walk.lower,
			    c->random_walk.upper);
		}
		return s->g.x;
	case HAL_GEN_STEPS:
		return series(c->steps.points, c->steps.npoints, c->steps.period, 0, t, &s->g.cursor);
	case HAL_GEN_REPLAY: {
		const struct hal_table *tb = c->replay.table;

		return series(tb->pts, tb->n, c->replay.period ? c->replay.period : tb->period,
		    c->replay.linear, t, &s->g.cursor);
	}
	case HAL_GEN_COUNTER:
		if (dt > 0) {
			double r = c->counter.rate;

			if (c->counter.rate_sd > 0)
				r += c->counter.rate_sd * hal_rng_normal(&s->rng);
			if (r > 0)
				s->g.x += r * ((double)dt / (double)NS_PER_H);
		}
		return s->g.x;
	}
	return NAN;
}

/* Faults at a rate are stateless: time is cut into buckets of about one
 * mean gap, and each bucket's onsets (a Poisson count at uniform
 * positions) come from a stream seeded by (device, mode, bucket). So a
 * fault's timing does not depend on when the device is read, and
 * finding the latest onset before t looks at a bucket or two. */

static int64_t
bucket_len(double rate)
{
	double len = (double)NS_PER_H / rate;

	return len > (double)BUCKET_MAX ? BUCKET_MAX : (int64_t)llround(len);
}

/* The latest onset of mode f in bucket k that is at or before limit,
 * or -1; *sign is that onset's spike direction. */
static int64_t
bucket_latest(const struct hal_sensor *s, enum hal_fault f, int64_t len, double lambda,
    int64_t k, int64_t limit, int *sign)
{
	struct hal_rng r;
	double l = exp(-lambda), p = 1;
	int64_t best = -1;

	hal_rng_init(&r, s->fault_key ^ ((uint64_t)k >> 32) * 0x9e3779b97f4a7c15ull, NULL,
	    (uint32_t)k, fault_names[f]);
	/* Knuth's method: the count of uniforms whose running product
	 * stays above e^-lambda is Poisson(lambda). */
	for (;;) {
		int64_t on;
		int sg;

		p *= hal_rng_uniform(&r);
		if (p <= l)
			break;
		on = k * len + (int64_t)hal_rng_below(&r, (uint64_t)len);
		sg = (hal_rng_u64(&r) >> 63) ? 1 : -1;
		if (on <= limit && on > best) {
			best = on;
			*sign = sg;
		}
	}
	return best;
}

/* Whether mode f applies to a read at t after one at prev (-1 before
 * the first read); *onset is when its episode began. */
static int
fault_at(const struct hal_sensor *s, enum hal_fault f, int64_t prev, int64_t t,
    int64_t *onset, int *sign)
{
	const struct hal_fault_config *fc = &s->cfg->fault[f];
	int momentary = f == HAL_FAULT_SPIKE || (f == HAL_FAULT_DROPOUT && fc->duration == 0);
	int64_t len, after;
	double lambda;

	if (fc->nschedule > 0) {
		const struct hal_window *w = fc->schedule;
		size_t lo = 0, hi = fc->nschedule;

		/* The last window starting at or before t. */
		if (w[0].start > t)
			return 0;
		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;

			if (w[mid].start <= t)
				lo = mid;
			else
				hi = mid;
		}
		if (t >= w[lo].end || (f == HAL_FAULT_SPIKE && w[lo].start <= prev))
			return 0;
		if (f == HAL_FAULT_SPIKE) {
			struct hal_rng r;

			hal_rng_init(&r, s->fault_key, NULL, (uint32_t)lo, "spike.window");
			*sign = (hal_rng_u64(&r) >> 63) ? 1 : -1;
		}
		*onset = w[lo].start;
		return 1;
	}
	if (fc->rate <= 0)
		return 0;
	len = bucket_len(fc->rate);
	lambda = fc->rate * ((double)len / (double)NS_PER_H);
	/* Momentary faults hit the first read after their onset; others
	 * last duration from it. */
	after = momentary ? prev : t - fc->duration;
	for (int64_t k = t / len; k >= 0 && k * len + (len - 1) > after; k--) {
		int64_t on = bucket_latest(s, f, len, lambda, k, t, sign);

		if (on >= 0) {
			*onset = on;
			return on > after;
		}
	}
	return 0;
}

int
hal_sensor_fault_active(const struct hal_sensor *s, enum hal_fault f, int64_t t)
{
	int64_t onset;
	int sign;

	if (s->cfg == NULL || (unsigned)f >= HAL_FAULT_COUNT)
		return 0;
	if (t > T_MAX)
		t = T_MAX;
	if (t < s->last_t)
		t = s->last_t;
	return fault_at(s, f, isnan(s->held) ? -1 : s->last_t, t, &onset, &sign);
}

double
hal_sensor_read(struct hal_sensor *s, int64_t t)
{
	const struct hal_sensor_config *c = s->cfg;
	int first = isnan(s->held);
	int64_t prev, onset;
	double v;
	int sign = 1;

	if (c == NULL)
		return NAN;
	if (t > T_MAX)
		t = T_MAX;
	if (t < s->last_t)
		t = s->last_t;
	prev = first ? -1 : s->last_t;
	v = generate(s, t, t - s->last_t) + s->input;
	if (c->noise > 0)
		v += c->noise * hal_rng_normal(&s->rng);
	if (fault_at(s, HAL_FAULT_DRIFT, prev, t, &onset, &sign))
		v += c->fault[HAL_FAULT_DRIFT].slope * ((double)(t - onset) / (double)NS_PER_H);
	if (!first && fault_at(s, HAL_FAULT_STUCK, prev, t, &onset, &sign))
		v = s->held;
	else
		s->held = v;
	s->last_t = t;
	if (fault_at(s, HAL_FAULT_SPIKE, prev, t, &onset, &sign))
		v += sign * c->fault[HAL_FAULT_SPIKE].magnitude;
	if (fault_at(s, HAL_FAULT_DROPOUT, prev, t, &onset, &sign))
		v = NAN;
	return v;
}

/* Replay tables. */

static const char *
trim(const char *p, const char *e, const char **end)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*end = e;
	return p;
}

/* A whole field as a finite number, or -1. */
static int
number(const char *p, const char *e, double *v)
{
	char buf[FIELD_MAX];
	char *end;
	size_t n = (size_t)(e - p);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	/* strtod follows LC_NUMERIC; fleetsim never changes it from "C". */
	*v = strtod(buf, &end);
	return (*end == '\0' && isfinite(*v)) ? 0 : -1;
}

enum hal_err
hal_table_parse(const char *name, const char *text, size_t len, struct hal_table **out,
    char *err, size_t errlen)
{
	struct hal_table *tb = NULL;
	size_t pos = 0, cap = 0;
	int line = 0, content = 0;
	enum hal_err rv = HAL_OK;

	*out = NULL;
	if ((tb = calloc(1, sizeof(*tb))) == NULL) {
		rv = HAL_ERR_NOMEM;
		goto out;
	}
	while (pos < len) {
		const char *l = text + pos, *nl = memchr(l, '\n', len - pos);
		const char *e = nl != NULL ? nl : text + len;
		const char *f1, *e1, *f2, *e2, *comma;
		double secs, v;

		pos = (size_t)(e - text) + (nl != NULL);
		line++;
		if (e > l && e[-1] == '\r')
			e--;
		l = trim(l, e, &e);
		if (l == e || *l == '#')
			continue;
		comma = memchr(l, ',', (size_t)(e - l));
		if (comma == NULL || memchr(comma + 1, ',', (size_t)(e - comma - 1)) != NULL) {
			hal_seterr(err, errlen, "%s:%d: expected two columns, time,value", name, line);
			rv = HAL_ERR_PARSE;
			goto out;
		}
		f1 = trim(l, comma, &e1);
		f2 = trim(comma + 1, e, &e2);
		if (content++ == 0 && f1 < e1 && isalpha((unsigned char)*f1))
			continue;
		if (number(f1, e1, &secs) != 0 || secs < 0 || secs > 1e9) {
			hal_seterr(err, errlen,
			    "%s:%d: expected a time in seconds (0 to 1e9) in the first column, got '%.*s'",
			    name, line, (int)(e1 - f1 > 40 ? 40 : e1 - f1), f1);
			rv = HAL_ERR_PARSE;
			goto out;
		}
		if (number(f2, e2, &v) != 0) {
			hal_seterr(err, errlen,
			    "%s:%d: expected a number in the second column, got '%.*s'", name, line,
			    (int)(e2 - f2 > 40 ? 40 : e2 - f2), f2);
			rv = HAL_ERR_PARSE;
			goto out;
		}
		if (tb->n > 0 && llround(secs * 1e9) <= tb->pts[tb->n - 1].t) {
			hal_seterr(err, errlen,
			    "%s:%d: expected a time after the previous row's %.9g s, got '%.*s'",
			    name, line, (double)tb->pts[tb->n - 1].t / 1e9,
			    (int)(e1 - f1 > 40 ? 40 : e1 - f1), f1);
			rv = HAL_ERR_PARSE;
			goto out;
		}
		if (tb->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct hal_point *np = realloc(tb->pts, ncap * sizeof(*np));

			if (np == NULL) {
				rv = HAL_ERR_NOMEM;
				goto out;
			}
			tb->pts = np;
			cap = ncap;
		}
		tb->pts[tb->n].t = llround(secs * 1e9);
		tb->pts[tb->n].v = v;
		tb->n++;
	}
	if (tb->n == 0) {
		hal_seterr(err, errlen, "%s:%d: expected at least one row of time,value", name,
		    line > 0 ? line : 1);
		rv = HAL_ERR_PARSE;
		goto out;
	}
	if (tb->n == 1)
		tb->period = tb->pts[0].t + NS_PER_S;
	else
		tb->period = tb->pts[tb->n - 1].t + (tb->pts[tb->n - 1].t - tb->pts[tb->n - 2].t);
	*out = tb;
	tb = NULL;
out:
	hal_table_free(tb);
	return rv;
}

enum hal_err
hal_table_load(const char *path, struct hal_table **out, char *err, size_t errlen)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	enum hal_err rv = HAL_OK;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		hal_seterr(err, errlen, "%s: %s", path, strerror(errno));
		rv = HAL_ERR_IO;
		goto out;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *nb = realloc(buf, ncap);

			if (nb == NULL) {
				rv = HAL_ERR_NOMEM;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		hal_seterr(err, errlen, "%s: read error", path);
		rv = HAL_ERR_IO;
		goto out;
	}
	rv = hal_table_parse(path, buf, len, out, err, errlen);
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	return rv;
}

void
hal_table_free(struct hal_table *t)
{
	if (t == NULL)
		return;
	free(t->pts);
	free(t);
}

const struct hal_point *
hal_table_points(const struct hal_table *t, size_t *n)
{
	*n = t->n;
	return t->pts;
}

int64_t
hal_table_period(const struct hal_table *t)
{
	return t->period;
}
