/* Per-device random streams. Every device draws from its own stream,
 * derived from (scenario seed, group name, device index) and a purpose
 * (which sensor, the link, power...), so a device behaves the same
 * whatever the fleet size, the shard or the order of events. */
#ifndef HAL_RNG_H
#define HAL_RNG_H

#include <stdint.h>

/* xoshiro256** state: small, fast, and good enough for simulation. */
struct hal_rng {
	uint64_t s[4];
};

/* A stream for one (seed, group, index, purpose). purpose names what
 * draws from it ("sensor.temp", "link"), so adding a sensor does not
 * shift the draws of another. */
void hal_rng_init(struct hal_rng *r, uint64_t seed, const char *group, uint32_t index,
    const char *purpose);

uint64_t hal_rng_u64(struct hal_rng *r);
/* Uniform in [0, 1). */
double hal_rng_uniform(struct hal_rng *r);
/* Uniform in [0, n), n > 0, without modulo bias. */
uint64_t hal_rng_below(struct hal_rng *r, uint64_t n);
/* Standard normal (mean 0, sd 1). */
double hal_rng_normal(struct hal_rng *r);
/* Exponential with the given mean (> 0), for times between events. */
double hal_rng_exponential(struct hal_rng *r, double mean);
/* True with probability p (0..1). */
int hal_rng_chance(struct hal_rng *r, double p);

#endif
