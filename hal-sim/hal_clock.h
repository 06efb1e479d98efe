/* Simulated time. The engine reads its loop's monotonic clock; a
 * timebase turns that into simulation time (nanoseconds since the
 * scenario started, sped up by time_scale) and back, so that timers can
 * be armed for a simulated instant. Each device then has its own wall
 * clock, off by a skew and running fast or slow by a drift, which it
 * uses to stamp its payloads.
 *
 * All times are int64_t nanoseconds. Nothing here allocates or keeps
 * resources: the structs are plain values, copy them freely. */
#ifndef HAL_CLOCK_H
#define HAL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "hal_err.h"

/* Bytes needed by hal_clock_iso, with the terminating NUL:
 * "2024-05-01T12:34:56.789Z". */
#define HAL_ISO_SIZE 25

/* Scales accepted by hal_timebase_init. */
#define HAL_TIME_SCALE_MIN 1e-6
#define HAL_TIME_SCALE_MAX 1e6

/* The mapping between the loop's monotonic clock and simulated time.
 * The scale is kept exactly as scale_q / 2^scale_shift (the double's
 * mantissa and exponent) so that both directions are integer
 * arithmetic: a timer armed at hal_timebase_mono(tb, t) never fires
 * before simulated time t. */
struct hal_timebase {
	int64_t mono0;		/* Monotonic reading at simulated time 0. */
	int64_t unix0;		/* Unix time of simulated time 0. */
	double time_scale;	/* As configured, for reports. */
	uint64_t scale_q;
	unsigned scale_shift;
};

/* A device's local wall clock: unix time as the device believes it.
 * skew is its offset at simulated time 0; drift_ppm makes it gain
 * (positive) or lose (negative) that many microseconds per simulated
 * second from then on. */
struct hal_wallclock {
	int64_t skew;
	double drift_ppm;
};

/* Sets up tb so that monotonic reading mono0 is simulated time 0, which
 * is unix time unix0. time_scale is simulated seconds per real second,
 * from HAL_TIME_SCALE_MIN to HAL_TIME_SCALE_MAX. Returns
 * HAL_ERR_INVAL with a message in err (errlen bytes, may be NULL) when
 * time_scale is out of range; tb is then a valid real-time timebase. */
enum hal_err hal_timebase_init(struct hal_timebase *tb, int64_t mono0, int64_t unix0,
    double time_scale, char *err, size_t errlen);

/* Simulated time at monotonic reading mono, rounded down; negative
 * before the start. Saturates at INT64_MIN/INT64_MAX. */
int64_t hal_timebase_sim(const struct hal_timebase *tb, int64_t mono);

/* The earliest monotonic reading at which simulated time sim has been
 * reached: hal_timebase_sim(tb, hal_timebase_mono(tb, sim)) >= sim, and
 * one nanosecond earlier it is < sim. Saturates like hal_timebase_sim. */
int64_t hal_timebase_mono(const struct hal_timebase *tb, int64_t sim);

/* Unix time of simulated time sim on a perfect clock. */
int64_t hal_timebase_unix(const struct hal_timebase *tb, int64_t sim);

/* Sets up a device wall clock. drift_ppm must be finite and within
 * +-1e6 (a clock that runs backwards is not a clock); on HAL_ERR_INVAL
 * wc is a perfect clock and err says what was expected. */
enum hal_err hal_wallclock_init(struct hal_wallclock *wc, int64_t skew, double drift_ppm,
    char *err, size_t errlen);

/* The device's local unix time at simulated time sim. */
int64_t hal_wallclock_unix(const struct hal_wallclock *wc, const struct hal_timebase *tb,
    int64_t sim);

/* Formats unix time t (nanoseconds, may be negative) as ISO 8601 UTC
 * with milliseconds, truncated: "2024-05-01T12:34:56.789Z". Writes
 * exactly HAL_ISO_SIZE - 1 characters and a NUL into buf, or nothing
 * and returns HAL_ERR_INVAL if len < HAL_ISO_SIZE. Does not allocate
 * and does not depend on the locale or TZ. */
enum hal_err hal_clock_iso(int64_t t, char *buf, size_t len);

#endif
