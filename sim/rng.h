/* Small, seedable randomness for the engine: splitmix64 streams, derived
 * from the scenario seed so that runs repeat. */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stdint.h>

static inline uint64_t
sim_rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A uniform value in [0, n); n > 0. The bias is below 2^-40 for the
 * ranges used here (nanosecond delays under an hour). */
static inline uint64_t
sim_rng_below(uint64_t *state, uint64_t n)
{
	return sim_rng_next(state) % n;
}

/* A uniform double in [0, 1), from the top 53 bits: for probabilities. */
static inline double
sim_rng_unit(uint64_t *state)
{
	return (double)(sim_rng_next(state) >> 11) * 0x1p-53;
}

/* Mixes several values into one seed, for per-device streams. */
static inline uint64_t
sim_rng_mix(uint64_t a, uint64_t b)
{
	uint64_t s = a ^ (b * 0x9e3779b97f4a7c15ull);

	return sim_rng_next(&s);
}

/* Reconnect delay: exponential from 100 ms, capped at 30 s, with half of it random
 * so that a fleet which lost the broker at once does not return at once. */
static inline uint64_t
sim_backoff_ns(unsigned attempt, uint64_t *state)
{
	uint64_t cap = 100000000ull << (attempt < 9 ? attempt : 9);

	if (cap > 30000000000ull)
		cap = 30000000000ull;
	return cap / 2 + sim_rng_below(state, cap / 2 + 1);
}

#endif
