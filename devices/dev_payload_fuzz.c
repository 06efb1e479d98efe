/* libFuzzer target for payload templates: any text must compile or be
 * refused with an offset inside it, and what compiles must render within
 * the buffer, as a command response (with {arg}) too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dev_device.h"
#include "dev_model.h"
#include "dev_payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dev_model model;
static struct dev_device *dev;

/* One model with a sensor, an actuator feeding it and a flash, built
 * once: the fuzzer exercises the template, not the model. */
static void
setup(void)
{
	static struct dev_sensor_spec s;
	static struct dev_actuator_spec a;
	struct dev_problem p;

	s = (struct dev_sensor_spec){ .name = strdup("temp") };
	s.cfg.name = s.name;
	s.cfg.gen = HAL_GEN_SINE;
	s.cfg.sine.mean = 20;
	s.cfg.sine.amplitude = 2;
	s.cfg.sine.period = 3600000000000ll;
	s.cfg.noise = 0.1;
	a = (struct dev_actuator_spec){ .name = strdup("heater"), .sensor = strdup("temp") };
	a.cfg = (struct hal_actuator_config){ .kind = HAL_ACTUATOR_SETPOINT, .initial = 20,
		.min = 5, .max = 30, .gain = 1, .offset = 20 };
	a.cfg.sensor = a.sensor;
	model = (struct dev_model){ .qos = -1, .name = strdup("fuzz") };
	model.sensors = malloc(sizeof(s));
	model.actuators = malloc(sizeof(a));
	memcpy(model.sensors, &s, sizeof(s));
	memcpy(model.actuators, &a, sizeof(a));
	model.nsensors = model.nactuators = 1;
	model.has_flash = true;
	model.flash.capacity = 4096;
	if (dev_model_check(&model, &p) != HAL_OK ||
	    dev_device_new(&model, 1, "g", 0, 0, &dev) != HAL_OK)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dev_render_ctx ctx = { .t = 1000000000, .seq = 1, .id = "g-0", .arg = "21.5" };
	struct dev_payload *p = NULL;
	char *src, err[256], out[8192];
	size_t off = 0, n;

	if (dev == NULL)
		setup();
	if ((src = malloc(size + 1)) == NULL)
		return 0;
	memcpy(src, data, size);
	src[size] = '\0';
	if (dev_payload_compile(src, &model, DEV_PAYLOAD_ARG, &p, err, sizeof(err), &off) ==
	    HAL_OK) {
		n = dev_payload_render(p, dev, &ctx, out, sizeof(out));
		if (n < sizeof(out) && out[n] != '\0')
			abort();
		/* A short buffer cuts the output but stays terminated. */
		n = dev_payload_render(p, dev, &ctx, out, 7);
		if (out[n < 7 ? n : 6] != '\0')
			abort();
		dev_payload_free(p);
	} else if (off > size) {
		abort();
	}
	free(src);
	ctx.t++;
	return 0;
}
