#include "hal_power.h"

#include <math.h>

#include "hal_rng.h"

#define F_DEAD 0x1

enum source { SRC_NONE, SRC_CUT, SRC_RAND, SRC_SCHED, SRC_BOOT };

/* t + d nanoseconds, at least 1 ns later so the process moves on. */
static uint64_t
after(uint64_t t, double d)
{
	uint64_t n;

	if (!(d < 1.8e19))
		return HAL_POWER_NEVER;
	n = d < 1 ? 1 : (uint64_t)llround(d);
	return n >= HAL_POWER_NEVER - t ? HAL_POWER_NEVER : t + n;
}

/* Draws random event k (gap from the previous one, and its kind) from
 * its own stream. Reboots and crashes are independent Poisson processes;
 * their union is one with the summed rate, whose events are crashes with
 * probability crash rate / total rate. */
static void
draw_random(struct hal_power *p, uint64_t from)
{
	const struct hal_power_config *c = p->cfg;
	double rr = c->reboot_mtbf ? 1.0 / (double)c->reboot_mtbf : 0;
	double cr = c->crash_mtbf ? 1.0 / (double)c->crash_mtbf : 0;
	struct hal_rng r;

	if (rr + cr == 0) {
		p->rand_at = HAL_POWER_NEVER;
		return;
	}
	hal_rng_init(&r, p->key, NULL, p->rand_k, "power.event");
	p->rand_at = after(from, hal_rng_exponential(&r, 1.0 / (rr + cr)));
	p->rand_kind = hal_rng_chance(&r, cr / (rr + cr)) ? HAL_POWER_CRASH : HAL_POWER_REBOOT;
}

/* The time the charge reaches the cutoff, given what was transmitted so
 * far, and not before now (a transmission cannot kill in the past). */
static uint64_t
cut_time(const struct hal_power *p, uint64_t now)
{
	const struct hal_power_config *c = p->cfg;
	double budget, ns;
	uint64_t at;

	if (c->capacity_j <= 0)
		return HAL_POWER_NEVER;
	budget = c->capacity_j * (1 - c->cutoff_pct / 100) -
	    (double)p->tx_bytes / 1024 * c->tx_j_per_kb;
	if (budget <= 0)
		return now;
	if (c->drain_w <= 0)
		return HAL_POWER_NEVER;
	/* Round up: at the returned time the charge is at the cutoff. */
	ns = ceil(budget / c->drain_w * 1e9);
	at = after(p->t0, ns);
	return at > now ? at : now;
}

enum hal_err
hal_power_config_check(const struct hal_power_config *c)
{
	if (c == NULL)
		return HAL_ERR_INVAL;
	if (!(c->capacity_j >= 0 && c->drain_w >= 0 && c->tx_j_per_kb >= 0))
		return HAL_ERR_INVAL;
	if (!(c->cutoff_pct >= 0 && c->cutoff_pct < 100))
		return HAL_ERR_INVAL;
	if (c->n_reboot_at > UINT16_MAX || (c->n_reboot_at > 0 && c->reboot_at == NULL))
		return HAL_ERR_INVAL;
	for (size_t i = 1; i < c->n_reboot_at; i++)
		if (c->reboot_at[i] < c->reboot_at[i - 1])
			return HAL_ERR_INVAL;
	return HAL_OK;
}

enum hal_err
hal_power_init(struct hal_power *p, const struct hal_power_config *cfg, uint64_t seed,
    const char *group, uint32_t index, uint64_t t0)
{
	struct hal_rng r;
	enum hal_err err;

	*p = (struct hal_power){ .flags = F_DEAD, .cut_at = HAL_POWER_NEVER,
	    .rand_at = HAL_POWER_NEVER, .booted_at = HAL_POWER_NEVER };
	if ((err = hal_power_config_check(cfg)) != HAL_OK)
		goto out;
	p->cfg = cfg;
	p->flags = 0;
	p->t0 = t0;
	hal_rng_init(&r, seed, group, index, "power");
	p->key = hal_rng_u64(&r);
	while (p->sched < cfg->n_reboot_at && cfg->reboot_at[p->sched] < t0)
		p->sched++;
	draw_random(p, t0);
	p->cut_at = cut_time(p, t0);
out:
	return err;
}

void
hal_power_fini(struct hal_power *p)
{
	/* Nothing is owned; kept so that callers pair it with init. */
	(void)p;
}

/* The earliest pending event; ties go to the lower enum value. */
static enum hal_power_event
pick(const struct hal_power *p, uint64_t *at, enum source *src)
{
	const struct hal_power_config *c = p->cfg;
	enum hal_power_event ev = HAL_POWER_NONE;
	uint64_t best = HAL_POWER_NEVER;

	*src = SRC_NONE;
	if (c == NULL || (p->flags & F_DEAD))
		goto out;
	if (p->cut_at != HAL_POWER_NEVER) {
		ev = HAL_POWER_CUTOFF;
		best = p->cut_at;
		*src = SRC_CUT;
	}
	if (p->rand_at < best || (p->rand_at == best && best != HAL_POWER_NEVER &&
	    p->rand_kind < ev)) {
		ev = p->rand_kind;
		best = p->rand_at;
		*src = SRC_RAND;
	}
	if (p->sched < c->n_reboot_at) {
		uint64_t s = c->reboot_at[p->sched];

		if (s < best || (s == best && HAL_POWER_REBOOT < ev)) {
			ev = HAL_POWER_REBOOT;
			best = s;
			*src = SRC_SCHED;
		}
	}
	if (p->booted_at < best) {
		ev = HAL_POWER_BOOTED;
		best = p->booted_at;
		*src = SRC_BOOT;
	}
out:
	*at = best;
	return ev;
}

enum hal_power_event
hal_power_next(const struct hal_power *p, uint64_t *at)
{
	enum source src;

	return pick(p, at, &src);
}

enum hal_power_event
hal_power_take(struct hal_power *p, uint64_t t)
{
	enum source src;
	uint64_t at;
	enum hal_power_event ev = pick(p, &at, &src);

	if (ev == HAL_POWER_NONE || at > t)
		return HAL_POWER_NONE;
	switch (src) {
	case SRC_CUT:
		p->flags |= F_DEAD;
		p->booted_at = HAL_POWER_NEVER;
		break;
	case SRC_RAND:
		p->rand_k++;
		draw_random(p, at);
		p->booted_at = at + p->cfg->boot_time;
		break;
	case SRC_SCHED:
		p->sched++;
		p->booted_at = at + p->cfg->boot_time;
		break;
	case SRC_BOOT:
		p->booted_at = HAL_POWER_NEVER;
		break;
	default:
		break;
	}
	return ev;
}

enum hal_power_state
hal_power_state(const struct hal_power *p, uint64_t t)
{
	if (p->cfg == NULL || (p->flags & F_DEAD) || p->cut_at <= t)
		return HAL_POWER_DEAD;
	if (p->booted_at != HAL_POWER_NEVER && t < p->booted_at)
		return HAL_POWER_BOOTING;
	return HAL_POWER_ON;
}

double
hal_power_pct(const struct hal_power *p, uint64_t t)
{
	const struct hal_power_config *c = p->cfg;
	double used, pct;

	if (c == NULL)
		return 0;
	if (c->capacity_j <= 0)
		return 100;
	/* A dark device draws nothing more: its charge stays at the cutoff. */
	if (t > p->cut_at)
		t = p->cut_at;
	if (t < p->t0)
		t = p->t0;
	used = c->drain_w * (double)(t - p->t0) / 1e9 + (double)p->tx_bytes / 1024 * c->tx_j_per_kb;
	pct = 100 * (c->capacity_j - used) / c->capacity_j;
	return pct < 0 ? 0 : pct > 100 ? 100 : pct;
}

void
hal_power_note_tx(struct hal_power *p, uint64_t t, uint64_t n)
{
	if (p->cfg == NULL || (p->flags & F_DEAD) || p->cut_at <= t)
		return;
	p->tx_bytes += n;
	p->cut_at = cut_time(p, t);
}

bool
hal_power_crash(struct hal_power *p, uint64_t t)
{
	if (hal_power_state(p, t) != HAL_POWER_ON)
		return false;
	p->booted_at = t + p->cfg->boot_time;
	return true;
}
