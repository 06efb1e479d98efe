#include "hal_rng.h"

#include <math.h>
#include <string.h>

static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
fnv1a64(const char *s, uint64_t h)
{
	for (; s != NULL && *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void
hal_rng_init(struct hal_rng *r, uint64_t seed, const char *group, uint32_t index,
    const char *purpose)
{
	/* The names are hashed separately, with a separator, so ("ab", "c")
	 * and ("a", "bc") give different streams. */
	uint64_t x = seed;

	x ^= fnv1a64(group, 0xcbf29ce484222325ull);
	x = splitmix(&x) ^ ((uint64_t)index * 0xd1342543de82ef95ull);
	x = splitmix(&x) ^ fnv1a64(purpose, 0x84222325cbf29ce4ull);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&x);
}

uint64_t
hal_rng_u64(struct hal_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double
hal_rng_uniform(struct hal_rng *r)
{
	return (double)(hal_rng_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t
hal_rng_below(struct hal_rng *r, uint64_t n)
{
	/* Lemire's multiply-shift with rejection: unbiased. */
	unsigned __int128 m = (unsigned __int128)hal_rng_u64(r) * n;
	uint64_t lo = (uint64_t)m;

	if (lo < n) {
		uint64_t t = -n % n;

		while (lo < t) {
			m = (unsigned __int128)hal_rng_u64(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

double
hal_rng_normal(struct hal_rng *r)
{
	/* Box-Muller, one value per call: simple, and the stream's order of
	 * draws does not depend on a cached second value. */
	double u1 = 1.0 - hal_rng_uniform(r), u2 = hal_rng_uniform(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double
hal_rng_exponential(struct hal_rng *r, double mean)
{
	return -mean * log(1.0 - hal_rng_uniform(r));
}

int
hal_rng_chance(struct hal_rng *r, double p)
{
	return hal_rng_uniform(r) < p;
}
