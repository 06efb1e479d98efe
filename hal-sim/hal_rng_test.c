#include <math.h>

#include <CUnit/Basic.h>

#include "fs_test.h"

#include "hal_rng.h"

/* Device 7's stream depends only on its own coordinates. */
static void
test_streams_independent(void)
{
	struct hal_rng a, b, c, d;

	hal_rng_init(&a, 42, "rooms", 7, "sensor.temp");
	hal_rng_init(&b, 42, "rooms", 7, "sensor.temp");
	hal_rng_init(&c, 42, "rooms", 8, "sensor.temp");
	hal_rng_init(&d, 42, "rooms", 7, "link");
	for (int i = 0; i < 1000; i++) {
		uint64_t x = hal_rng_u64(&a);

		CU_ASSERT_EQUAL(x, hal_rng_u64(&b));
		CU_ASSERT_NOT_EQUAL(x, hal_rng_u64(&c));
		CU_ASSERT_NOT_EQUAL(x, hal_rng_u64(&d));
	}
	hal_rng_init(&a, 1, "ab", 0, "c");
	hal_rng_init(&b, 1, "a", 0, "bc");
	CU_ASSERT_NOT_EQUAL(hal_rng_u64(&a), hal_rng_u64(&b));
	hal_rng_init(&a, 1, "g", 0, "p");
	hal_rng_init(&b, 2, "g", 0, "p");
	CU_ASSERT_NOT_EQUAL(hal_rng_u64(&a), hal_rng_u64(&b));
}

static void
test_distributions(void)
{
	enum { N = 200000 };
	struct hal_rng r;
	double sum = 0, sq = 0, esum = 0, usum = 0;
	uint64_t hist[10] = { 0 };
	int hits = 0;

	hal_rng_init(&r, 3, "g", 0, "stats");
	for (int i = 0; i < N; i++) {
		double z = hal_rng_normal(&r), u = hal_rng_uniform(&r);

		sum += z;
		sq += z * z;
		usum += u;
		CU_ASSERT(u >= 0 && u < 1);
		esum += hal_rng_exponential(&r, 2.0);
		hist[hal_rng_below(&r, 10)]++;
		hits += hal_rng_chance(&r, 0.25);
	}
	CU_ASSERT(fabs(sum / N) < 0.01);
	CU_ASSERT(fabs(sq / N - 1.0) < 0.02);
	CU_ASSERT(fabs(usum / N - 0.5) < 0.005);
	CU_ASSERT(fabs(esum / N - 2.0) < 0.03);
	CU_ASSERT(fabs((double)hits / N - 0.25) < 0.005);
	for (int i = 0; i < 10; i++)
		CU_ASSERT(fabs((double)hist[i] / N - 0.1) < 0.005);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "streams are independent and repeatable", test_streams_independent },
		{ "distributions", test_distributions },
		{ NULL, NULL },
	};

	return fs_test_main("hal_rng", tests);
}
