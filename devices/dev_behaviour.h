/* Behaviours: what a model needs that YAML cannot say, as a small ops
 * table registered by name (a model file names it with `behaviour:`),
 * in the way of nng's transports. Every op may be NULL. */
#ifndef DEV_BEHAVIOUR_H
#define DEV_BEHAVIOUR_H

#include <stddef.h>
#include <stdint.h>

#include "dev_device.h"
#include "dev_payload.h"

struct dev_behaviour_ops {
	const char *name;
	const char *summary;            /* one line, for `fleetsim models` */
	size_t state_size;              /* per-device RAM state, zeroed at boot */
	/* Checks the model (e.g. that it has a frame size); HAL_ERR_INVAL
	 * with the reason in err. */
	enum hal_err (*check)(const struct dev_model *m, char *err, size_t errlen);
	/* Renders the telemetry payload instead of the template, returning
	 * the full length as snprintf does. */
	size_t (*telemetry)(struct dev_device *d, void *state, const struct dev_render_ctx *ctx,
	    uint8_t *buf, size_t cap);
	/* After a reboot or crash; state has been zeroed. */
	void (*boot)(struct dev_device *d, void *state, int64_t t);
};

/* Registers ops under ops->name (static storage, not copied).
 * HAL_ERR_INVAL if the name is taken or the table is full. The built-in
 * behaviours are registered on first lookup. */
enum hal_err dev_behaviour_register(const struct dev_behaviour_ops *ops);
/* The behaviour named name, or NULL. */
const struct dev_behaviour_ops *dev_behaviour_find(const char *name);
/* The i-th registered behaviour, or NULL past the end (for listings). */
const struct dev_behaviour_ops *dev_behaviour_at(size_t i);

#endif
