/* One simulated device's hardware state: its sensors, actuators, flash,
 * power, link and wall clock, built from a struct dev_model.
 *
 * The engine owns the event loop and the connection; a device is driven
 * with simulated times (ns since the scenario started) that never
 * decrease. A simple sensor device (one sensor, no actuators, no flash)
 * costs under 512 bytes. */
#ifndef DEV_DEVICE_H
#define DEV_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev_model.h"
#include "dev_payload.h"
#include "hal_clock.h"
#include "hal_flash.h"
#include "hal_link.h"
#include "hal_power.h"

struct dev_device {
	const struct dev_model *m;      /* borrowed; outlives the device */
	const char *group;              /* borrowed */
	uint32_t index;                 /* in the group */
	uint32_t boots;                 /* reboots and crashes so far */
	struct hal_power power;
	struct hal_link link;
	struct hal_wallclock wc;
	struct hal_flash *flash;        /* owned; NULL without model flash */
	struct hal_rng rng;             /* commands: delays, failures */
	/* From (seed, group, index) only: seeds streams that must not depend
	 * on what the device did before, such as a camera's frame per seq. */
	uint64_t key;
	void *bstate;                   /* the behaviour's, owned; NULL if none */
	struct hal_actuator *actuators; /* m->nactuators, in the same allocation */
	struct hal_sensor sensors[];    /* m->nsensors */
};

/* Creates device index of group at simulated time t0 (seeded from seed,
 * group and index only). With a model flash_dir, flash content saved by
 * an earlier run is loaded. The caller owns *out: dev_device_free. */
enum hal_err dev_device_new(const struct dev_model *m, uint64_t seed, const char *group,
    uint32_t index, int64_t t0, struct dev_device **out);
/* Saves flash to flash_dir when there is one, then frees. NULL is fine. */
void dev_device_free(struct dev_device *d, int64_t t);

/* The telemetry payload at t: the model's template, or the behaviour's
 * (a camera frame). Returns the full length as snprintf does; the
 * caller grows buf and renders again when it is >= cap. */
size_t dev_device_telemetry(struct dev_device *d, const struct dev_render_ctx *ctx, uint8_t *buf,
    size_t cap);

/* The device reboots or crashes at t: flash keeps what was durable,
 * actuators restart at their initial values (or, with persist, the
 * value saved in flash), the behaviour's RAM state is reset. */
void dev_device_reboot(struct dev_device *d, int64_t t);

/* A command's outcome. */
struct dev_cmd_result {
	int status;                     /* 200-style; 404 unknown command, 400 bad argument, 500 failed */
	int64_t done;                   /* when the answer is ready (t + processing delay) */
	bool reboot;                    /* DEV_ACT_REBOOT: the engine reboots the device after answering */
};

/* Runs command name with argument arg (may be NULL) at t. The response
 * payload, if the command has one, is rendered with
 * dev_device_response once the answer is due. */
enum hal_err dev_device_command(struct dev_device *d, int64_t t, const char *name, const char *arg,
    struct dev_cmd_result *res);
size_t dev_device_response(struct dev_device *d, const char *name, const struct dev_render_ctx *ctx,
    char *buf, size_t cap);

/* Bytes the device's state takes, allocations included (bench, docs). */
size_t dev_device_footprint(const struct dev_device *d);

#endif
