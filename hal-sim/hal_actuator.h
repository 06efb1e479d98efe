/* Actuators: what commands act on. A switch (on/off), a setpoint whose
 * output follows the commanded value with a first-order lag, and a
 * position (lock, valve) that travels at a fixed speed and may jam.
 *
 * An actuator's output can feed a sensor: the engine adds
 * hal_actuator_effect(a, t) to the named sensor's reading, so a
 * thermostat's setpoint moves the room temperature over time.
 *
 * A hal_actuator is a pure state machine driven with simulated times in
 * nanoseconds that never decrease. It never allocates. */
#ifndef HAL_ACTUATOR_H
#define HAL_ACTUATOR_H

#include <stdint.h>

#include "hal_err.h"
#include "hal_rng.h"

enum hal_actuator_kind {
	HAL_ACTUATOR_SWITCH = 0,	/* 0 or 1 */
	HAL_ACTUATOR_SETPOINT,		/* any value in [min, max] */
	HAL_ACTUATOR_POSITION,		/* a position in [min, max] */
};

/* Shared by every device of a group; it must outlive the devices. */
struct hal_actuator_config {
	enum hal_actuator_kind kind;
	const char *sensor;	/* the sensor its effect feeds; NULL = none */
	double initial;		/* value and output at start */
	/* Switch and setpoint: the output moves toward the value as
	 * value + (output0 - value) * exp(-dt / tau); 0 = at once. In ns. */
	uint64_t tau;
	/* Effect on the sensor: gain * (output - offset), so offset is the
	 * output that changes nothing (the room's own temperature). */
	double gain;
	double offset;
	/* Setpoint and position: commands outside [min, max] are refused;
	 * min == max means no limit for a setpoint. */
	double min, max;
	uint64_t travel_time;	/* position: a full stroke from min to max (ns) */
	double jam_p;		/* position: probability that a move jams */
};

/* The outcome of a command. */
struct hal_actuator_result {
	uint64_t done;		/* when the move ends (t for switch and setpoint) */
	double value;		/* where it ends: the target, or where it jammed */
	int jammed;		/* the move stopped short of the target */
};

/* Per-device state (88 bytes). */
struct hal_actuator {
	const struct hal_actuator_config *cfg;
	struct hal_rng rng;	/* jam draws */
	double target;		/* last commanded value */
	double from;		/* output at t_from */
	double to;		/* where the output is heading */
	uint64_t t_from;	/* when the current response or move began */
	uint64_t t_end;		/* position: when the move stops */
	int jammed;
};

/* Checks a group's config once. */
enum hal_err hal_actuator_config_check(const struct hal_actuator_config *cfg);

/* Starts actuator `name` of device (group, index) at t0, at cfg->initial.
 * name only seeds its stream. cfg is borrowed. On error a is still safe
 * to use and fini. */
enum hal_err hal_actuator_init(struct hal_actuator *a, const struct hal_actuator_config *cfg,
    uint64_t seed, const char *group, uint32_t index, const char *name, uint64_t t0);
void hal_actuator_fini(struct hal_actuator *a);

/* Commands value at t. A switch or setpoint starts its response from its
 * current output; a position moves from where it is (even mid-move) and
 * may jam, stopping at a uniformly random point short of the target.
 * HAL_ERR_RANGE for a value outside the limits (a switch takes 0 or 1),
 * HAL_ERR_INVAL for NaN; the actuator is then unchanged. res may be
 * NULL. */
enum hal_err hal_actuator_set(struct hal_actuator *a, uint64_t t, double value,
    struct hal_actuator_result *res);

/* The last commanded value. */
double hal_actuator_value(const struct hal_actuator *a);
/* The actual output at t: the lagged switch or setpoint, the position. */
double hal_actuator_output(const struct hal_actuator *a, uint64_t t);
/* What the engine adds to cfg->sensor at t. */
double hal_actuator_effect(const struct hal_actuator *a, uint64_t t);
/* A position still travelling at t. */
int hal_actuator_moving(const struct hal_actuator *a, uint64_t t);
/* The last move jammed (until the next command). */
int hal_actuator_jammed(const struct hal_actuator *a);

#endif
