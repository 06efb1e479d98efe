#include "dev_behaviour.h"

#include <math.h>
#include <string.h>

#include "hal_rng.h"

#define MAX_BEHAVIOURS 32

/* Camera: binary frames, JPEG-like, of a size drawn per message. */

static enum hal_err
camera_check(const struct dev_model *m, char *err, size_t errlen)
{
	if (!m->has_frame) {
		hal_seterr(err, errlen, "expected telemetry frame: { size: ..., min, max }");
		return HAL_ERR_INVAL;
	}
	return HAL_OK;
}

static size_t
camera_telemetry(struct dev_device *d, void *state, const struct dev_render_ctx *ctx,
    uint8_t *buf, size_t cap)
{
	struct hal_rng r;
	double v;
	size_t size, i;

	/* A stream per (device, seq): a retry with a larger buffer, or the
	 * same message rendered in another run, gives the same bytes. */
	hal_rng_init(&r, d->key, NULL, ctx->seq, "camera.frame");
	v = dev_dist_draw(&d->m->frame_size, &r);
	size = v >= 1e15 ? (size_t)1e15 : (size_t)llround(v);
	/* Room for the start and end markers. */
	if (size < 4)
		size = 4;
	if (cap < size)
		return size;
	buf[0] = 0xff;
	buf[1] = 0xd8;
	for (i = 2; i + 8 <= size - 2; i += 8) {
		uint64_t x = hal_rng_u64(&r);

		memcpy(buf + i, &x, 8);
	}
	if (i < size - 2) {
		uint64_t x = hal_rng_u64(&r);

		memcpy(buf + i, &x, size - 2 - i);
	}
	buf[size - 2] = 0xff;
	buf[size - 1] = 0xd9;
	return size;
}

static const struct dev_behaviour_ops camera = {
	.name = "camera",
	.summary = "binary JPEG-like frames of telemetry.frame sizes, deterministic per device and seq",
	.state_size = 0,
	.check = camera_check,
	.telemetry = camera_telemetry,
	.boot = NULL,
};

/* The built-ins are in the table from the start, which is the same as
 * registering them on first lookup and needs no lock. */
static const struct dev_behaviour_ops *table[MAX_BEHAVIOURS] = { &camera };
static size_t ntable = 1;

enum hal_err
dev_behaviour_register(const struct dev_behaviour_ops *ops)
{
	if (ops == NULL || ops->name == NULL || ops->name[0] == '\0' ||
	    dev_behaviour_find(ops->name) != NULL || ntable == MAX_BEHAVIOURS)
		return HAL_ERR_INVAL;
	table[ntable++] = ops;
	return HAL_OK;
}

const struct dev_behaviour_ops *
dev_behaviour_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < ntable; i++)
		if (strcmp(table[i]->name, name) == 0)
			return table[i];
	return NULL;
}

const struct dev_behaviour_ops *
dev_behaviour_at(size_t i)
{
	return i < ntable ? table[i] : NULL;
}
