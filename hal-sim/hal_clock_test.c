#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "fs_test.h"
#include "hal_clock.h"
#include "hal_rng.h"

#define S 1000000000ll
#define MONO0 (123456789ll * S)
#define UNIX0 1700000000000000000ll

static void
test_real_time(void)
{
	struct hal_timebase tb;

	CU_ASSERT_EQUAL(hal_timebase_init(&tb, MONO0, UNIX0, 1.0, NULL, 0), HAL_OK);
	CU_ASSERT_EQUAL(hal_timebase_sim(&tb, MONO0), 0);
	CU_ASSERT_EQUAL(hal_timebase_sim(&tb, MONO0 + 1), 1);
	CU_ASSERT_EQUAL(hal_timebase_sim(&tb, MONO0 + 86400 * S + 7), 86400 * S + 7);
	CU_ASSERT_EQUAL(hal_timebase_sim(&tb, MONO0 - 5), -5);
	CU_ASSERT_EQUAL(hal_timebase_mono(&tb, 3 * S), MONO0 + 3 * S);
	CU_ASSERT_EQUAL(hal_timebase_unix(&tb, 3 * S), UNIX0 + 3 * S);
}

static void
test_time_scale(void)
{
	struct hal_timebase tb;

	/* One simulated minute per second. */
	CU_ASSERT_EQUAL(hal_timebase_init(&tb, MONO0, UNIX0, 60.0, NULL, 0), HAL_OK);
	CU_ASSERT_EQUAL(hal_timebase_sim(&tb, MONO0 + S), 60 * S);
	CU_ASSERT_EQUAL(hal_timebase_sim(&tb, MONO0 + 24 * 60 * S), 86400 * S);
	CU_ASSERT_EQUAL(hal_timebase_mono(&tb, 3600 * S), MONO0 + 60 * S);
	/* Simulated 1 ns is reached 1 real ns in (rounded up). */
	CU_ASSERT_EQUAL(hal_timebase_mono(&tb, 1), MONO0 + 1);
	CU_ASSERT_EQUAL(hal_timebase_mono(&tb, 61), MONO0 + 2);

	/* Slow motion. */
	CU_ASSERT_EQUAL(hal_timebase_init(&tb, MONO0, UNIX0, 0.5, NULL, 0), HAL_OK);
	CU_ASSERT_EQUAL(hal_timebase_sim(&tb, MONO0 + 10 * S), 5 * S);
	CU_ASSERT_EQUAL(hal_timebase_sim(&tb, MONO0 + 3), 1);
	CU_ASSERT_EQUAL(hal_timebase_sim(&tb, MONO0 - 3), -2);
	CU_ASSERT_EQUAL(hal_timebase_mono(&tb, 5 * S), MONO0 + 10 * S);
}

/* The engine arms a timer at mono(t): it must be the first instant at
 * which simulated time t has been reached, never earlier. */
static void
test_mono_inverse(void)
{
	static const double scales[] = { 1, 60, 0.5, 1.5, 0.1, 3.7, 1000, 1e-6, 1e6 };
	struct hal_timebase tb;
	struct hal_rng r;

	hal_rng_init(&r, 1, "clock", 0, "inverse");
	for (size_t i = 0; i < sizeof(scales) / sizeof(scales[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(hal_timebase_init(&tb, MONO0, UNIX0, scales[i], NULL, 0),
		    HAL_OK);
		for (int j = 0; j < 2000; j++) {
			int64_t t = (int64_t)hal_rng_below(&r, 400ull * 86400 * S);
			int64_t m;

			if (j % 3 == 0)
				t = -t / 1000;
			m = hal_timebase_mono(&tb, t);
			/* Out of the monotonic clock's range: saturated. */
			if (m == INT64_MAX || m == INT64_MIN)
				continue;
			CU_ASSERT(hal_timebase_sim(&tb, m) >= t);
			CU_ASSERT(hal_timebase_sim(&tb, m - 1) < t);
		}
	}
	/* 0.1 and 1e-6 are not exact in binary; over a day they are off by
	 * well under a nanosecond. */
	CU_ASSERT_EQUAL(hal_timebase_init(&tb, 0, 0, 0.1, NULL, 0), HAL_OK);
	CU_ASSERT(llabs(hal_timebase_sim(&tb, 864000 * S) - 86400 * S) <= 1);
	CU_ASSERT(llabs(hal_timebase_mono(&tb, 86400 * S) - 864000 * S) <= 10);
	CU_ASSERT_EQUAL(hal_timebase_init(&tb, 0, 0, 1e-6, NULL, 0), HAL_OK);
	CU_ASSERT(llabs(hal_timebase_sim(&tb, 8640000000 * S) - 8640 * S) <= 1);
	/* Out of range saturates instead of wrapping. */
	CU_ASSERT_EQUAL(hal_timebase_mono(&tb, 86400000 * S), INT64_MAX);
	CU_ASSERT_EQUAL(hal_timebase_init(&tb, 0, 0, 1e6, NULL, 0), HAL_OK);
	CU_ASSERT_EQUAL(hal_timebase_sim(&tb, INT64_MAX / 2), INT64_MAX);
	CU_ASSERT_EQUAL(hal_timebase_sim(&tb, INT64_MIN / 2), INT64_MIN);
}

static void
test_bad_scale(void)
{
	static const double bad[] = { 0, -1, 1e-7, 2e6, NAN, INFINITY };
	struct hal_timebase tb;
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(hal_timebase_init(&tb, MONO0, UNIX0, bad[i], err, sizeof(err)),
		    HAL_ERR_INVAL);
		CU_ASSERT(strstr(err, "time_scale: expected") != NULL);
		/* Still usable, as real time. */
		CU_ASSERT_EQUAL(hal_timebase_sim(&tb, MONO0 + 7), 7);
	}
	CU_ASSERT_EQUAL(hal_timebase_init(&tb, MONO0, UNIX0, 0, NULL, 0), HAL_ERR_INVAL);
}

static void
test_skew_drift(void)
{
	struct hal_timebase tb;
	struct hal_wallclock wc;
	char err[128];

	CU_ASSERT_EQUAL(hal_timebase_init(&tb, MONO0, UNIX0, 60.0, NULL, 0), HAL_OK);

	CU_ASSERT_EQUAL(hal_wallclock_init(&wc, 0, 0, NULL, 0), HAL_OK);
	CU_ASSERT_EQUAL(hal_wallclock_unix(&wc, &tb, 1000 * S), UNIX0 + 1000 * S);

	CU_ASSERT_EQUAL(hal_wallclock_init(&wc, -2500000000ll, 0, NULL, 0), HAL_OK);
	CU_ASSERT_EQUAL(hal_wallclock_unix(&wc, &tb, 0), UNIX0 - 2500000000ll);
	CU_ASSERT_EQUAL(hal_wallclock_unix(&wc, &tb, 1000 * S), UNIX0 + 1000 * S - 2500000000ll);

	/* 1000 ppm over 1000 simulated seconds is one second. */
	CU_ASSERT_EQUAL(hal_wallclock_init(&wc, 0, 1000, NULL, 0), HAL_OK);
	CU_ASSERT_EQUAL(hal_wallclock_unix(&wc, &tb, 1000 * S), UNIX0 + 1001 * S);
	CU_ASSERT_EQUAL(hal_wallclock_unix(&wc, &tb, 0), UNIX0);

	/* Skew and a slow clock together: -50 ppm over a day is -4.32 s. */
	CU_ASSERT_EQUAL(hal_wallclock_init(&wc, 3 * S, -50, NULL, 0), HAL_OK);
	CU_ASSERT_EQUAL(hal_wallclock_unix(&wc, &tb, 86400 * S),
	    UNIX0 + 86400 * S + 3 * S - 4320000000ll);

	/* Driven through the timebase: 1000 real seconds at scale 60. */
	CU_ASSERT_EQUAL(hal_wallclock_init(&wc, 0, 1000, NULL, 0), HAL_OK);
	CU_ASSERT_EQUAL(hal_wallclock_unix(&wc, &tb, hal_timebase_sim(&tb, MONO0 + 1000 * S)),
	    UNIX0 + 60000 * S + 60 * S);

	err[0] = '\0';
	CU_ASSERT_EQUAL(hal_wallclock_init(&wc, 5, -1e6, err, sizeof(err)), HAL_ERR_INVAL);
	CU_ASSERT(strstr(err, "drift") != NULL);
	CU_ASSERT_EQUAL(hal_wallclock_unix(&wc, &tb, 1000 * S), UNIX0 + 1000 * S);
	CU_ASSERT_EQUAL(hal_wallclock_init(&wc, 5, NAN, NULL, 0), HAL_ERR_INVAL);
}

static void
iso_is(int64_t t, const char *want)
{
	char buf[HAL_ISO_SIZE];

	memset(buf, 'x', sizeof(buf));
	CU_ASSERT_EQUAL(hal_clock_iso(t, buf, sizeof(buf)), HAL_OK);
	CU_ASSERT_STRING_EQUAL(buf, want);
}

static void
test_iso(void)
{
	char buf[64];

	iso_is(0, "1970-01-01T00:00:00.000Z");
	iso_is(UNIX0 + 123456789, "2023-11-14T22:13:20.123Z");
	iso_is(1709208000999999999ll, "2024-02-29T12:00:00.999Z");
	iso_is(951782400000000000ll, "2000-02-29T00:00:00.000Z");
	iso_is(4102444799999000000ll, "2099-12-31T23:59:59.999Z");
	iso_is(-1, "1969-12-31T23:59:59.999Z");
	iso_is(-86400 * S, "1969-12-31T00:00:00.000Z");
	iso_is(INT64_MAX, "2262-04-11T23:47:16.854Z");
	iso_is(INT64_MIN, "1677-09-21T00:12:43.145Z");

	memset(buf, 'x', sizeof(buf));
	CU_ASSERT_EQUAL(hal_clock_iso(0, buf, HAL_ISO_SIZE - 1), HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(buf[0], 'x');
	CU_ASSERT_EQUAL(hal_clock_iso(0, NULL, 64), HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(hal_clock_iso(0, buf, sizeof(buf)), HAL_OK);
	CU_ASSERT_EQUAL(strlen(buf), HAL_ISO_SIZE - 1);
}

/* Against the C library over the whole int64_t range. */
static void
test_iso_vs_gmtime(void)
{
	struct hal_rng r;

	hal_rng_init(&r, 2, "clock", 0, "iso");
	for (int i = 0; i < 20000; i++) {
		int64_t t = (int64_t)hal_rng_u64(&r);
		int64_t sec = t / S - (t % S < 0);
		int64_t ms = (t - sec * S) / 1000000;
		time_t tt = (time_t)sec;
		struct tm tm;
		char want[64], got[HAL_ISO_SIZE];

		CU_ASSERT_PTR_NOT_NULL_FATAL(gmtime_r(&tt, &tm));
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec, (int)ms);
		CU_ASSERT_EQUAL(hal_clock_iso(t, got, sizeof(got)), HAL_OK);
		CU_ASSERT_STRING_EQUAL(got, want);
	}
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "real time", test_real_time },
		{ "time_scale", test_time_scale },
		{ "mono is the inverse of sim", test_mono_inverse },
		{ "bad time_scale", test_bad_scale },
		{ "skew and drift", test_skew_drift },
		{ "iso formatting", test_iso },
		{ "iso matches gmtime_r", test_iso_vs_gmtime },
		{ NULL, NULL },
	};

	return fs_test_main("hal_clock", tests);
}
