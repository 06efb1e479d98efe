/* Device models: what every device of a group is made of (sensors,
 * actuators, flash, power, link, clock), what its telemetry payload looks
 * like and how it answers commands.
 *
 * The scenario loader (sim/scenario.c) reads model files into a struct
 * dev_model, then patches it with a group's hal: overrides; this library
 * knows nothing of YAML. A model is built once per group and shared,
 * read-only, by that group's devices, which keep only their state.
 *
 * Ownership: the model owns every string and array it points to,
 * including the hal-sim configs' arrays; dev_model_fini frees them all.
 * A zeroed struct dev_model is a valid empty model, safe to fini. */
#ifndef DEV_MODEL_H
#define DEV_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal_actuator.h"
#include "hal_err.h"
#include "hal_flash.h"
#include "hal_link.h"
#include "hal_power.h"
#include "hal_rng.h"
#include "hal_sensor.h"

struct dev_payload;
struct dev_behaviour_ops;

/* A distribution of a quantity (bytes, nanoseconds), clamped to
 * [min, max] when max > 0. */
enum dev_dist_kind { DEV_DIST_FIXED = 0, DEV_DIST_UNIFORM, DEV_DIST_NORMAL, DEV_DIST_LOGNORMAL };

struct dev_dist {
	enum dev_dist_kind kind;
	double a;       /* fixed: value; uniform: low; normal: mean; lognormal: median */
	double b;       /* uniform: high; normal: sd; lognormal: sigma (sd of the log) */
	double min, max;
};

/* A draw, never negative. */
double dev_dist_draw(const struct dev_dist *d, struct hal_rng *r);
/* HAL_ERR_INVAL with the reason in err for a distribution that cannot be
 * drawn from (negative spread, uniform high < low, min > max). */
enum hal_err dev_dist_check(const struct dev_dist *d, char *err, size_t errlen);

struct dev_sensor_spec {
	char *name;                     /* cfg.name points here */
	struct hal_sensor_config cfg;   /* its points and schedules are owned by the model */
	struct hal_table *table;        /* replay: owned */
};

struct dev_actuator_spec {
	char *name;
	char *sensor;                   /* cfg.sensor points here; NULL = none */
	int sensor_idx;                 /* index in sensors, or -1; set by dev_model_check */
	/* The last commanded value is kept in flash under "act.NAME" and
	 * restored at boot, as firmware that persists its settings does. */
	bool persist;
	struct hal_actuator_config cfg;
};

enum dev_action {
	DEV_ACT_NONE = 0,       /* answer only */
	DEV_ACT_SET,            /* set actuator to value, or to the command's argument */
	DEV_ACT_FLASH_PUT,      /* store the argument under key */
	DEV_ACT_FLASH_DEL,      /* erase key */
	DEV_ACT_REBOOT,         /* reboot after answering */
};

/* What a device does on a named command, and what it answers. */
struct dev_command_spec {
	char *name;
	enum dev_action action;
	char *actuator;                 /* DEV_ACT_SET */
	int actuator_idx;               /* set by dev_model_check */
	bool value_from_arg;            /* DEV_ACT_SET: the command's argument, else value */
	double value;
	char *key;                      /* DEV_ACT_FLASH_* */
	int status;                     /* answered on success; default 200 */
	char *response_src;             /* template text, or NULL for no payload */
	struct dev_payload *response;   /* compiled by dev_model_check */
	struct dev_dist delay;          /* processing time, ns */
	double fail;                    /* probability of answering 500 and doing nothing */
};

struct dev_model {
	char *name;
	char *description;              /* one line, for `fleetsim models` */
	char *file;                     /* where it was read from, for messages */
	char *behaviour;                /* a registered C behaviour, or NULL */
	const struct dev_behaviour_ops *ops; /* resolved by dev_model_check */

	struct dev_sensor_spec *sensors;
	size_t nsensors;
	struct dev_actuator_spec *actuators;
	size_t nactuators;
	struct dev_command_spec *commands;
	size_t ncommands;

	bool has_flash;
	struct hal_flash_config flash;  /* flash.dir is owned */
	struct hal_power_config power;  /* power.reboot_at is owned */
	struct hal_link_config link;    /* link.partitions and half_open are owned */
	int64_t clock_skew;             /* ns */
	double clock_drift_ppm;

	/* Telemetry defaults; a scenario group's telemetry: keys win. */
	uint64_t every_ns;              /* 0 = not given */
	int qos;                        /* -1 = not given */
	char *payload_src;              /* the template text, or NULL */
	struct dev_payload *payload;    /* compiled by dev_model_check */
	bool has_frame;                 /* binary frames of frame_size bytes (cameras) */
	struct dev_dist frame_size;
};

/* Frees everything the model owns and zeroes it. */
void dev_model_fini(struct dev_model *m);

/* Deep copy, so a group can patch its own copy of a shared model. */
enum hal_err dev_model_copy(struct dev_model *dst, const struct dev_model *src);

/* Index of the named sensor, actuator or command, or -1. */
int dev_model_sensor(const struct dev_model *m, const char *name);
int dev_model_actuator(const struct dev_model *m, const char *name);
int dev_model_command(const struct dev_model *m, const char *name);

/* Where a problem was found by dev_model_check. */
enum dev_where {
	DEV_WHERE_MODEL = 0,    /* the model as a whole */
	DEV_WHERE_SENSOR,       /* sensors[index] */
	DEV_WHERE_ACTUATOR,     /* actuators[index] */
	DEV_WHERE_COMMAND,      /* commands[index] (offset: into its response) */
	DEV_WHERE_PAYLOAD,      /* payload_src (offset: byte in it) */
	DEV_WHERE_FLASH,
	DEV_WHERE_POWER,
	DEV_WHERE_LINK,
	DEV_WHERE_BEHAVIOUR,
};

struct dev_problem {
	enum dev_where where;
	size_t index;
	size_t offset;          /* byte offset in a template, else 0 */
	char msg[256];          /* what was expected */
};

/* Checks the model and prepares it for devices: checks every hal-sim
 * config, resolves names (an actuator's sensor, a command's actuator,
 * the behaviour) and compiles the templates. Call it after the last
 * patch. HAL_ERR_INVAL with *p filled on the first problem. */
enum hal_err dev_model_check(struct dev_model *m, struct dev_problem *p);

#endif
