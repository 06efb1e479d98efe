#include "hal_link.h"

#include <math.h>

/* Episode k of a random process gets its own stream, so its length
 * depends on (key, k) alone. */
static double
episode_exp(uint64_t key, const char *purpose, uint32_t k, uint64_t mean)
{
	struct hal_rng r;

	hal_rng_init(&r, key, NULL, k, purpose);
	return hal_rng_exponential(&r, (double)mean);
}

/* At least 1 ns, so that a process always moves forward. */
static uint64_t
after(uint64_t t, double d)
{
	uint64_t n;

	if (!(d < 1.8e19))
		return HAL_LINK_NEVER;
	n = (uint64_t)llround(d);
	if (n == 0)
		n = 1;
	return n >= HAL_LINK_NEVER - t ? HAL_LINK_NEVER : t + n;
}

static void
advance_disconnect(struct hal_link *l, uint64_t t)
{
	const struct hal_link_config *c = l->cfg;

	while (l->dis_next <= t) {
		l->dis_k++;
		/* An odd count means the boundary just passed began an outage. */
		l->dis_next = after(l->dis_next, episode_exp(l->key, "link.disconnect", l->dis_k,
		    (l->dis_k & 1) ? c->disconnect_mttr : c->disconnect_mtbf));
	}
}

static void
advance_half_open(struct hal_link *l, uint64_t t)
{
	const struct hal_link_config *c = l->cfg;

	while (l->ho_next <= t) {
		l->ho_k++;
		if (l->ho_k & 1)
			l->ho_next = after(l->ho_next, (double)c->half_open_duration);
		else
			l->ho_next = after(l->ho_next, episode_exp(l->key, "link.half_open", l->ho_k,
			    c->half_open_mtbf));
	}
}

/* The first window whose end is after t, or n if none: windows are
 * sorted and disjoint, so their ends are sorted too. */
static size_t
window_find(const struct hal_link_window *w, size_t n, uint64_t t)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w[mid].end <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
window_in(const struct hal_link_window *w, size_t n, uint64_t t)
{
	size_t i = window_find(w, n, t);

	return i < n && w[i].start <= t;
}

/* The first window boundary strictly after t. */
static uint64_t
window_next(const struct hal_link_window *w, size_t n, uint64_t t)
{
	size_t i = window_find(w, n, t);

	if (i == n)
		return HAL_LINK_NEVER;
	return w[i].start > t ? w[i].start : w[i].end;
}

static int
windows_ok(const struct hal_link_window *w, size_t n)
{
	if (n > 0 && w == NULL)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (w[i].start >= w[i].end)
			return 0;
		if (i > 0 && w[i].start < w[i - 1].end)
			return 0;
	}
	return 1;
}

enum hal_err
hal_link_config_check(const struct hal_link_config *cfg)
{
	const struct hal_link_latency *lat;

	if (cfg == NULL)
		return HAL_ERR_INVAL;
	lat = &cfg->latency;
	switch (lat->dist) {
	case HAL_LINK_FIXED:
		if (!(lat->mean >= 0))
			return HAL_ERR_INVAL;
		break;
	case HAL_LINK_UNIFORM:
		if (!(lat->min >= 0 && lat->max >= lat->min))
			return HAL_ERR_INVAL;
		break;
	case HAL_LINK_NORMAL:
		if (!(lat->mean >= 0 && lat->sd >= 0))
			return HAL_ERR_INVAL;
		break;
	case HAL_LINK_LOGNORMAL:
		if (!(lat->median > 0 && lat->sigma >= 0))
			return HAL_ERR_INVAL;
		break;
	default:
		return HAL_ERR_INVAL;
	}
	if (cfg->disconnect_mtbf > 0 && cfg->disconnect_mttr == 0)
		return HAL_ERR_INVAL;
	if (cfg->half_open_mtbf > 0 && cfg->half_open_duration == 0)
		return HAL_ERR_INVAL;
	if (!windows_ok(cfg->partitions, cfg->n_partitions) ||
	    !windows_ok(cfg->half_open, cfg->n_half_open))
		return HAL_ERR_INVAL;
	return HAL_OK;
}

enum hal_err
hal_link_lognormal_from_mean_sd(struct hal_link_latency *lat, double mean, double sd)
{
	double s2;

	if (lat == NULL || !(mean > 0) || !(sd >= 0))
		return HAL_ERR_INVAL;
	/* For a lognormal, mean = median * exp(sigma^2 / 2) and
	 * (sd / mean)^2 = exp(sigma^2) - 1. */
	s2 = log1p((sd / mean) * (sd / mean));
	lat->dist = HAL_LINK_LOGNORMAL;
	lat->sigma = sqrt(s2);
	lat->median = mean * exp(-s2 / 2);
	return HAL_OK;
}

enum hal_err
hal_link_init(struct hal_link *l, const struct hal_link_config *cfg, uint64_t seed,
    const char *group, uint32_t index, uint64_t t0)
{
	struct hal_rng r;
	enum hal_err err;

	*l = (struct hal_link){ .cfg = NULL };
	if ((err = hal_link_config_check(cfg)) != HAL_OK)
		goto out;
	l->cfg = cfg;
	hal_rng_init(&l->lat, seed, group, index, "link.latency");
	hal_rng_init(&r, seed, group, index, "link.episodes");
	l->key = hal_rng_u64(&r);
	l->up_free = l->down_free = t0;
	l->dis_next = HAL_LINK_NEVER;
	l->ho_next = HAL_LINK_NEVER;
	if (cfg->disconnect_mtbf > 0)
		l->dis_next = after(t0, episode_exp(l->key, "link.disconnect", 0,
		    cfg->disconnect_mtbf));
	if (cfg->half_open_mtbf > 0)
		l->ho_next = after(t0, episode_exp(l->key, "link.half_open", 0,
		    cfg->half_open_mtbf));
out:
	return err;
}

void
hal_link_fini(struct hal_link *l)
{
	/* Nothing is owned; kept so that callers pair it with init. */
	(void)l;
}

enum hal_link_state
hal_link_state(struct hal_link *l, uint64_t t)
{
	const struct hal_link_config *c = l->cfg;

	if (c == NULL)
		return HAL_LINK_DOWN;
	advance_disconnect(l, t);
	advance_half_open(l, t);
	if (l->dis_k & 1)
		return HAL_LINK_DOWN;
	if (window_in(c->partitions, c->n_partitions, t))
		return HAL_LINK_PARTITIONED;
	if ((l->ho_k & 1) || window_in(c->half_open, c->n_half_open, t))
		return HAL_LINK_HALF_OPEN;
	return HAL_LINK_UP;
}

int
hal_link_up(struct hal_link *l, uint64_t t)
{
	return hal_link_state(l, t) == HAL_LINK_UP;
}

uint64_t
hal_link_next_change(struct hal_link *l, uint64_t t)
{
	const struct hal_link_config *c = l->cfg;
	uint64_t next, w;

	if (c == NULL)
		return HAL_LINK_NEVER;
	advance_disconnect(l, t);
	advance_half_open(l, t);
	next = l->dis_next < l->ho_next ? l->dis_next : l->ho_next;
	w = window_next(c->partitions, c->n_partitions, t);
	if (w < next)
		next = w;
	w = window_next(c->half_open, c->n_half_open, t);
	if (w < next)
		next = w;
	return next;
}

static uint64_t
latency_draw(struct hal_link *l)
{
	const struct hal_link_latency *lat = &l->cfg->latency;
	double d;

	switch (lat->dist) {
	case HAL_LINK_UNIFORM:
		d = lat->min + (lat->max - lat->min) * hal_rng_uniform(&l->lat);
		break;
	case HAL_LINK_NORMAL:
		d = lat->mean + lat->sd * hal_rng_normal(&l->lat);
		break;
	case HAL_LINK_LOGNORMAL:
		d = lat->median * exp(lat->sigma * hal_rng_normal(&l->lat));
		break;
	default:
		d = lat->mean;
		break;
	}
	if (!(d > 0))
		return 0;
	if (!(d < 1e18))
		return (uint64_t)1e18;
	return (uint64_t)llround(d);
}

/* Messages leave one after another: each starts when the link is free
 * and occupies it for n / bandwidth seconds. */
static enum hal_err
deliver(struct hal_link *l, uint64_t *free_at, uint64_t t, size_t n, uint64_t *at)
{
	uint64_t bw, start, tx = 0;
	unsigned __int128 ns;

	*at = HAL_LINK_NEVER;
	if (!hal_link_up(l, t))
		return HAL_ERR_DOWN;
	bw = l->cfg->bandwidth;
	if (bw > 0) {
		ns = ((unsigned __int128)n * 1000000000u + bw - 1) / bw;
		if (ns > (unsigned __int128)1e18)
			return HAL_ERR_RANGE;
		tx = (uint64_t)ns;
	}
	start = *free_at > t ? *free_at : t;
	*free_at = start + tx;
	*at = *free_at + latency_draw(l);
	return HAL_OK;
}

enum hal_err
hal_link_send(struct hal_link *l, uint64_t t, size_t n, uint64_t *at)
{
	return deliver(l, &l->up_free, t, n, at);
}

enum hal_err
hal_link_recv(struct hal_link *l, uint64_t t, size_t n, uint64_t *at)
{
	return deliver(l, &l->down_free, t, n, at);
}

void
hal_link_flush(struct hal_link *l)
{
	l->up_free = l->down_free = 0;
}
