#include "hal_clock.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#define SCALE_BITS 53
#define NS_PER_S 1000000000ll
#define NS_PER_DAY (86400ll * NS_PER_S)

static int64_t
saturate(__int128 x)
{
	if (x > INT64_MAX)
		return INT64_MAX;
	if (x < INT64_MIN)
		return INT64_MIN;
	return (int64_t)x;
}

/* C division truncates toward zero; time needs floor and ceiling on
 * both sides of the start. d > 0. */
static __int128
floor_div(__int128 n, __int128 d)
{
	__int128 q = n / d;

	return (n % d != 0 && n < 0) ? q - 1 : q;
}

static __int128
ceil_div(__int128 n, __int128 d)
{
	__int128 q = n / d;

	return (n % d != 0 && n > 0) ? q + 1 : q;
}

enum hal_err
hal_timebase_init(struct hal_timebase *tb, int64_t mono0, int64_t unix0, double time_scale,
    char *err, size_t errlen)
{
	enum hal_err rv = HAL_OK;
	int e;

	tb->mono0 = mono0;
	tb->unix0 = unix0;
	tb->time_scale = 1.0;
	tb->scale_q = 1;
	tb->scale_shift = 0;
	if (!(time_scale >= HAL_TIME_SCALE_MIN && time_scale <= HAL_TIME_SCALE_MAX)) {
		hal_seterr(err, errlen, "time_scale: expected a number from %g to %g, got %g",
		    HAL_TIME_SCALE_MIN, HAL_TIME_SCALE_MAX, time_scale);
		rv = HAL_ERR_INVAL;
		goto out;
	}
	tb->time_scale = time_scale;
	/* time_scale = f * 2^e with f in [0.5, 1): f * 2^53 is the double's
	 * mantissa, so scale_q / 2^scale_shift is time_scale exactly. */
	tb->scale_q = (uint64_t)llround(ldexp(frexp(time_scale, &e), SCALE_BITS));
	tb->scale_shift = (unsigned)(SCALE_BITS - e);
out:
	return rv;
}

int64_t
hal_timebase_sim(const struct hal_timebase *tb, int64_t mono)
{
	__int128 elapsed = (__int128)mono - tb->mono0;

	return saturate(floor_div(elapsed * tb->scale_q, (__int128)1 << tb->scale_shift));
}

int64_t
hal_timebase_mono(const struct hal_timebase *tb, int64_t sim)
{
	/* scale_shift is at most 73; times that would overflow 128 bits are
	 * far outside the monotonic clock's range anyway. */
	const int64_t lim = (int64_t)1 << (126 - tb->scale_shift < 62 ? 126 - tb->scale_shift : 62);

	if (sim > lim)
		return INT64_MAX;
	if (sim < -lim)
		return INT64_MIN;
	return saturate(tb->mono0 + ceil_div((__int128)sim * ((__int128)1 << tb->scale_shift),
	    tb->scale_q));
}

int64_t
hal_timebase_unix(const struct hal_timebase *tb, int64_t sim)
{
	return saturate((__int128)tb->unix0 + sim);
}

enum hal_err
hal_wallclock_init(struct hal_wallclock *wc, int64_t skew, double drift_ppm, char *err,
    size_t errlen)
{
	enum hal_err rv = HAL_OK;

	wc->skew = 0;
	wc->drift_ppm = 0;
	if (!(drift_ppm > -1e6 && drift_ppm <= 1e6)) {
		hal_seterr(err, errlen, "clock drift: expected ppm greater than -1e6 and at most 1e6, got %g",
		    drift_ppm);
		rv = HAL_ERR_INVAL;
		goto out;
	}
	wc->skew = skew;
	wc->drift_ppm = drift_ppm;
out:
	return rv;
}

int64_t
hal_wallclock_unix(const struct hal_wallclock *wc, const struct hal_timebase *tb, int64_t sim)
{
	/* The drift term is small next to sim, so a double is exact to well
	 * under a nanosecond for any realistic run. */
	double drift = (double)sim * wc->drift_ppm * 1e-6;

	if (drift > 9e18)
		drift = 9e18;
	else if (drift < -9e18)
		drift = -9e18;
	return saturate((__int128)tb->unix0 + sim + wc->skew + llround(drift));
}

/* Howard Hinnant's days_from_civil inverse: proleptic Gregorian date of
 * a day count since 1970-01-01, with no table and no libc time zone. */
static void
civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static char *
digits(char *p, unsigned v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

enum hal_err
hal_clock_iso(int64_t t, char *buf, size_t len)
{
	int64_t days, y;
	int64_t rem;
	unsigned m, d, sod, ms;
	char *p = buf;

	if (buf == NULL || len < HAL_ISO_SIZE)
		return HAL_ERR_INVAL;
	/* Floor, so that instants before 1970 still count forward within
	 * their second. The int64_t range (1677..2262) always has 4-digit
	 * years. */
	days = t / NS_PER_DAY;
	rem = t % NS_PER_DAY;
	if (rem < 0) {
		rem += NS_PER_DAY;
		days--;
	}
	civil(days, &y, &m, &d);
	sod = (unsigned)(rem / NS_PER_S);
	ms = (unsigned)(rem % NS_PER_S / 1000000);
	p = digits(p, (unsigned)y, 4);
	*p++ = '-';
	p = digits(p, m, 2);
	*p++ = '-';
	p = digits(p, d, 2);
	*p++ = 'T';
	p = digits(p, sod / 3600, 2);
	*p++ = ':';
	p = digits(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = digits(p, sod % 60, 2);
	*p++ = '.';
	p = digits(p, ms, 3);
	*p++ = 'Z';
	*p = '\0';
	return HAL_OK;
}
