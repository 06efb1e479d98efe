/* Simulated sensors. A sensor is a generator (constant, uniform,
 * normal, sine, random walk, steps, replay, counter) plus optional
 * noise, an additive external input and fault modes (stuck, drift,
 * spike, dropout).
 *
 * Memory: the configuration (struct hal_sensor_config) is shared by
 * every device of a group and is never copied; it and everything it
 * points to must outlive the sensors that use it. Each device holds
 * only a struct hal_sensor (80 bytes, random stream included). A read
 * never allocates and takes constant time, except that steps and
 * replay tables fall back to a binary search after a long jump.
 *
 * Reproducibility: a sensor's values depend only on (seed, group,
 * index, sensor name), its configuration and the simulated times it is
 * read at. Faults go further: their onsets depend only on the
 * identity and the configuration, not on when the device is read, so
 * a dropout covers the same instants whatever the reporting interval
 * (a spike, being one read, hits the first read after its onset). Reads must come at non-decreasing times; a read
 * earlier than the previous one is taken as a read at the previous
 * time (and negative times as time 0), since the simulated sensor
 * cannot go back in time; times after 2^62 ns (146 years) are read as
 * 2^62.
 *
 * Times are simulated nanoseconds since the scenario started. Rates
 * are per simulated hour. */
#ifndef HAL_SENSOR_H
#define HAL_SENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "hal_err.h"
#include "hal_rng.h"

/* Longest sensor name, in bytes: it names the random stream. */
#define HAL_SENSOR_NAME_MAX 63
/* Fault rates above one per millisecond are refused. */
#define HAL_FAULT_RATE_MAX 3600000.0

enum hal_gen {
	HAL_GEN_CONSTANT,
	HAL_GEN_UNIFORM,
	HAL_GEN_NORMAL,
	HAL_GEN_SINE,
	HAL_GEN_RANDOM_WALK,
	HAL_GEN_STEPS,
	HAL_GEN_REPLAY,
	HAL_GEN_COUNTER,
};

enum hal_fault {
	HAL_FAULT_STUCK,
	HAL_FAULT_DRIFT,
	HAL_FAULT_SPIKE,
	HAL_FAULT_DROPOUT,
	HAL_FAULT_COUNT,
};

/* One row of a schedule or a replayed series. */
struct hal_point {
	int64_t t;
	double v;
};

/* A window of simulated time, [start, end). */
struct hal_window {
	int64_t start;
	int64_t end;
};

/* A replay table: a time,value CSV parsed once and shared by every
 * device that replays it. Opaque; see hal_table_load. */
struct hal_table;

/* How one fault mode occurs: either at random, rate onsets per hour on
 * average (a Poisson process), or in the listed windows (sorted, not
 * overlapping). Neither means the mode is off.
 *
 * With a rate, stuck, drift and dropout last duration from each onset
 * (an onset while active restarts the episode); a dropout of duration
 * 0 loses only the first read at or after its onset, like a spike.
 * With a schedule, the windows give the durations and duration is
 * ignored.
 *
 *   stuck	the value freezes at the last one read before the onset.
 *   drift	an offset grows by slope units per hour from the onset;
 *		it is gone when the episode ends (as if recalibrated).
 *   spike	the first read at or after an onset (or within a window)
 *		is off by magnitude, up or down at random; several onsets
 *		between two reads make one spike.
 *   dropout	reads return NaN: the value is missing. */
struct hal_fault_config {
	double rate;
	const struct hal_window *schedule;
	size_t nschedule;
	int64_t duration;
	double slope;		/* Drift only. */
	double magnitude;	/* Spike only. */
};

/* A sensor as configured for a group. Fill it, check it with
 * hal_sensor_config_check, then share it between devices. The
 * generator's parameters are in the member named after it. */
struct hal_sensor_config {
	const char *name;
	enum hal_gen gen;
	union {
		struct {
			double value;
		} constant;
		/* In [min, max). */
		struct {
			double min, max;
		} uniform;
		struct {
			double mean, sd;
		} normal;
		/* mean + amplitude * sin(2 pi (t + phase) / period): a phase
		 * of period / 4 starts at the peak. */
		struct {
			double mean, amplitude;
			int64_t period, phase;
		} sine;
		/* Starts at start and moves by normal(0, step_sd) per
		 * step_time (scaled to the time between reads, so the
		 * spread does not depend on how often it is read),
		 * reflected into [lower, upper]. */
		struct {
			double start, step_sd, lower, upper;
			int64_t step_time;
		} random_walk;
		/* points sorted by time, the first at 0 or later. The value
		 * is that of the last point at or before t; before the
		 * first point it is the first value. With period > 0 (after
		 * the last point) the schedule repeats every period, and
		 * before the first point of a cycle the value is the last
		 * one of the previous cycle. */
		struct {
			const struct hal_point *points;
			size_t npoints;
			int64_t period;
		} steps;
		/* Always loops, every period, or, with period 0, every
		 * hal_table_period(table). Holds each value until the next
		 * row, or interpolates between rows when linear is set. */
		struct {
			const struct hal_table *table;
			int64_t period;
			int linear;
		} replay;
		/* Starts at start and grows at rate units per hour; over
		 * each interval between reads the rate is drawn from
		 * normal(rate, rate_sd), never below 0, so the counter
		 * never decreases (faults aside). */
		struct {
			double start, rate, rate_sd;
		} counter;
	};
	/* Standard deviation of normal noise added to every read; 0 for
	 * none. Not allowed on a counter, which would then go down: use
	 * counter.rate_sd. */
	double noise;
	struct hal_fault_config fault[HAL_FAULT_COUNT];
};

/* One sensor of one device. Plain memory: no resources, never needs
 * more than hal_sensor_fini, and may be freed without it. */
struct hal_sensor {
	struct hal_rng rng;
	const struct hal_sensor_config *cfg;
	uint64_t fault_key;	/* Seeds the stateless fault streams. */
	int64_t last_t;
	double held;		/* Last value before spike and dropout; NaN until read. */
	double input;
	union {
		double x;	/* Random walk position, counter total. */
		uint64_t cursor;	/* Steps and replay: last row used. */
	} g;
};

/* Checks a configuration. On HAL_ERR_INVAL, err (errlen bytes, may be
 * NULL) says what was expected, e.g. "sine: period must be > 0". */
enum hal_err hal_sensor_config_check(const struct hal_sensor_config *cfg, char *err,
    size_t errlen);

/* Sets up device index of group in a scenario with seed. cfg must have
 * passed hal_sensor_config_check and is borrowed, not copied. Returns
 * HAL_ERR_INVAL (s then reads as NaN) if cfg is NULL or its name is
 * empty or longer than HAL_SENSOR_NAME_MAX. */
enum hal_err hal_sensor_init(struct hal_sensor *s, const struct hal_sensor_config *cfg,
    uint64_t seed, const char *group, uint32_t index);

/* Nothing to release; provided so that callers need not know. */
void hal_sensor_fini(struct hal_sensor *s);

/* The sensor's value at simulated time t: NaN when it is missing (a
 * dropout). Every read is a new sample (fresh noise), so a payload that
 * shows a value twice should read it once. */
double hal_sensor_read(struct hal_sensor *s, int64_t t);

/* External input, added to every later read until changed: how an
 * actuator moves what the sensor measures (a heater warms the room).
 * The engine or the actuator computes it; 0 at init. */
void hal_sensor_set_input(struct hal_sensor *s, double input);
double hal_sensor_input(const struct hal_sensor *s);

/* Whether fault mode f would apply to a read at time t, given the
 * previous read (which matters for spikes and zero-length dropouts
 * only). Changes nothing; for reports and tests. */
int hal_sensor_fault_active(const struct hal_sensor *s, enum hal_fault f, int64_t t);

/* Names as written in configuration files ("random_walk", "dropout"),
 * and back; the lookups return HAL_ERR_INVAL for unknown names. */
const char *hal_gen_name(enum hal_gen g);
enum hal_err hal_gen_from_name(const char *name, enum hal_gen *g);
const char *hal_fault_name(enum hal_fault f);
enum hal_err hal_fault_from_name(const char *name, enum hal_fault *f);

/* Parses a replay CSV held in memory: one "time,value" row per line,
 * time in seconds (fractions allowed) from the start, strictly
 * increasing; blank lines and lines starting with '#' are skipped, and
 * so is a first row whose time starts with a letter (a header). name is
 * used in messages only. On success *out is a new table the caller
 * frees with hal_table_free. On HAL_ERR_PARSE, err holds
 * "NAME:LINE: what was expected" and *out is NULL. */
enum hal_err hal_table_parse(const char *name, const char *text, size_t len,
    struct hal_table **out, char *err, size_t errlen);

/* Reads and parses the CSV file at path (HAL_ERR_IO if it cannot be
 * read, with "PATH: reason" in err). */
enum hal_err hal_table_load(const char *path, struct hal_table **out, char *err,
    size_t errlen);

/* Frees a table; NULL is fine. Every configuration replaying it must be
 * done with first. */
void hal_table_free(struct hal_table *t);

/* The rows, sorted by time; the table keeps ownership. */
const struct hal_point *hal_table_points(const struct hal_table *t, size_t *n);

/* The loop length used when the configuration gives none: the last
 * row's time plus the gap before it (a one-row table: plus 1 s), so
 * that evenly spaced samples loop evenly. */
int64_t hal_table_period(const struct hal_table *t);

#endif
