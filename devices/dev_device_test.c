#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "dev_behaviour.h"
#include "dev_device.h"
#include "dev_model.h"
#include "dev_test_build.h"
#include "fs_test.h"

#define S 1000000000ll
#define MS 1000000ll
#define MIN (60 * S)
#define H (3600 * S)

/* More builders, beside those of dev_test_build.h. */

static struct dev_actuator_spec *
add_setpoint(struct dev_model *m, const char *name, const char *sensor, double initial)
{
	struct dev_actuator_spec *a;

	m->actuators = realloc(m->actuators, (m->nactuators + 1) * sizeof(*m->actuators));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m->actuators);
	a = &m->actuators[m->nactuators++];
	*a = (struct dev_actuator_spec){ .name = strdup(name), .sensor_idx = -1 };
	a->sensor = sensor != NULL ? strdup(sensor) : NULL;
	a->cfg = (struct hal_actuator_config){ .kind = HAL_ACTUATOR_SETPOINT, .initial = initial,
	    .min = 5, .max = 30, .tau = 10 * MIN, .sensor = a->sensor, .gain = 1,
	    .offset = initial };
	return a;
}

static struct dev_command_spec *
add_set(struct dev_model *m, const char *name, const char *actuator)
{
	struct dev_command_spec *c = add_command(m, name, DEV_ACT_SET);

	c->actuator = strdup(actuator);
	c->value_from_arg = true;
	return c;
}

/* The docs' thermostat: a room on a daily sine, a heater setpoint
 * feeding it. */
static void
thermostat(struct dev_model *m)
{
	struct hal_sensor_config *c;
	struct dev_command_spec *cmd;

	model_init(m);
	c = add_sensor(m, "temp", HAL_GEN_SINE);
	c->sine.mean = 19;
	c->sine.amplitude = 1.5;
	c->sine.period = 24 * H;
	c->noise = 0.1;
	add_setpoint(m, "heater", "temp", 19);
	cmd = add_set(m, "set_setpoint", "heater");
	cmd->response_src = strdup("{\"setpoint\": {actuator.heater.target:.1f}}");
	cmd->delay = (struct dev_dist){ .kind = DEV_DIST_UNIFORM, .a = 5 * MS, .b = 50 * MS };
	m->payload_src = strdup("{\"temp\": {sensor.temp:.3f}}");
}

static double
reading(struct dev_device *d, int64_t t)
{
	struct dev_render_ctx ctx = { .t = t };
	char buf[64];
	double v = NAN;

	dev_device_telemetry(d, &ctx, (uint8_t *)buf, sizeof(buf));
	CU_ASSERT_EQUAL(sscanf(buf, "{\"temp\": %lf}", &v), 1);
	return v;
}

static double
room(int64_t t)
{
	return 19 + 1.5 * sin(2 * M_PI * (double)t / (double)(24 * H));
}

static void
test_thermostat(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_cmd_result res;
	struct dev_render_ctx ctx = { .t = H, .arg = "25" };
	char buf[64];
	double worst = 0;

	thermostat(&m);
	check_ok(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 5, "rooms", 3, 0, &d), HAL_OK);
	for (int64_t t = 0; t < H; t += MIN)
		worst = fmax(worst, fabs(reading(d, t) - room(t)));
	CU_ASSERT_TRUE(worst < 0.5);

	CU_ASSERT_EQUAL(dev_device_command(d, H, "set_setpoint", "25", &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 200);
	CU_ASSERT_FALSE(res.reboot);
	CU_ASSERT_EQUAL(dev_device_response(d, "set_setpoint", &ctx, buf, sizeof(buf)), 18);
	CU_ASSERT_STRING_EQUAL(buf, "{\"setpoint\": 25.0}");

	/* One tau in, the room is 63% of the way; after five it is there. */
	CU_ASSERT_TRUE(fabs(reading(d, H + 10 * MIN) - (room(H + 10 * MIN) + 6 * (1 - exp(-1)))) <
	    0.5);
	worst = 0;
	for (int64_t t = H + 50 * MIN; t < 2 * H; t += MIN)
		worst = fmax(worst, fabs(reading(d, t) - (room(t) + 6)));
	CU_ASSERT_TRUE(worst < 0.5);
	dev_device_free(d, 2 * H);
	dev_model_fini(&m);
}

static void
test_commands(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_cmd_result res;
	struct dev_command_spec *c;
	int64_t lo = INT64_MAX, hi = 0;
	char buf[64];
	struct dev_render_ctx ctx = { 0 };

	thermostat(&m);
	c = add_set(&m, "broken", "heater");
	c->fail = 1.0;
	c = add_command(&m, "ping", DEV_ACT_NONE);
	c->status = 204;
	c = add_command(&m, "restart", DEV_ACT_REBOOT);
	c = add_command(&m, "heat_max", DEV_ACT_SET);
	c->actuator = strdup("heater");
	c->value = 30;
	check_ok(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 5, "g", 0, 0, &d), HAL_OK);

	CU_ASSERT_EQUAL(dev_device_command(d, S, "nope", "1", &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 404);
	CU_ASSERT_EQUAL(res.done, S);
	CU_ASSERT_EQUAL(dev_device_command(d, S, "set_setpoint", "warm", &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 400);
	CU_ASSERT_EQUAL(dev_device_command(d, S, "set_setpoint", NULL, &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 400);
	CU_ASSERT_EQUAL(dev_device_command(d, S, "set_setpoint", "25x", &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 400);
	/* Outside the actuator's limits. */
	CU_ASSERT_EQUAL(dev_device_command(d, S, "set_setpoint", "99", &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 400);
	CU_ASSERT_EQUAL(hal_actuator_value(&d->actuators[0]), 19);
	/* A failure answers 500 and changes nothing. */
	for (int i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL(dev_device_command(d, S, "broken", "22", &res), HAL_OK);
		CU_ASSERT_EQUAL(res.status, 500);
	}
	CU_ASSERT_EQUAL(hal_actuator_value(&d->actuators[0]), 19);
	CU_ASSERT_EQUAL(dev_device_command(d, S, "ping", NULL, &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 204);
	CU_ASSERT_EQUAL(res.done, S);
	CU_ASSERT_EQUAL(dev_device_response(d, "ping", &ctx, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "");
	CU_ASSERT_EQUAL(dev_device_command(d, S, "restart", NULL, &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 200);
	CU_ASSERT_TRUE(res.reboot);
	CU_ASSERT_EQUAL(dev_device_command(d, S, "heat_max", "ignored", &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 200);
	CU_ASSERT_EQUAL(hal_actuator_value(&d->actuators[0]), 30);

	/* Delays are drawn from the command's distribution. */
	for (int i = 0; i < 2000; i++) {
		int64_t t = 2 * S + i * S;

		CU_ASSERT_EQUAL_FATAL(dev_device_command(d, t, "set_setpoint", " 21.5 ", &res), HAL_OK);
		CU_ASSERT_EQUAL_FATAL(res.status, 200);
		lo = res.done - t < lo ? res.done - t : lo;
		hi = res.done - t > hi ? res.done - t : hi;
	}
	CU_ASSERT_TRUE(lo >= 5 * MS && lo < 6 * MS);
	CU_ASSERT_TRUE(hi <= 50 * MS && hi > 49 * MS);
	CU_ASSERT_EQUAL(hal_actuator_value(&d->actuators[0]), 21.5);
	dev_device_free(d, 3000 * S);
	dev_model_fini(&m);
}

/* A fail rate in between fails about that often. */
static void
test_fail_rate(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_cmd_result res;
	int fails = 0;

	thermostat(&m);
	m.commands[0].fail = 0.2;
	check_ok(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 5, "g", 0, 0, &d), HAL_OK);
	for (int i = 0; i < 10000; i++) {
		dev_device_command(d, i * S, "set_setpoint", "20", &res);
		fails += res.status == 500;
	}
	CU_ASSERT_TRUE(fails > 1800 && fails < 2200);
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

/* A thermostat with flash: a persisted heater, a fan that is not, and
 * flash commands. */
static void
with_flash(struct dev_model *m, size_t capacity)
{
	thermostat(m);
	m->actuators[0].persist = true;
	add_setpoint(m, "fan", NULL, 10);
	add_set(m, "set_fan", "fan");
	add_command(m, "save_config", DEV_ACT_FLASH_PUT)->key = strdup("config");
	add_command(m, "forget", DEV_ACT_FLASH_DEL)->key = strdup("config");
	m->has_flash = true;
	m->flash = (struct hal_flash_config){ .capacity = capacity, .write_latency = 10 * MS };
	free(m->payload_src);
	m->payload_src = strdup("{\"config\": {flash.config}, \"boots\": {boots}}");
}

static void
test_flash_commands(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_cmd_result res;
	struct dev_render_ctx ctx = { 0 };
	char buf[128];

	with_flash(&m, 4096);
	check_ok(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 5, "g", 0, 0, &d), HAL_OK);
	CU_ASSERT_EQUAL(dev_device_command(d, S, "forget", NULL, &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 404);
	CU_ASSERT_EQUAL(dev_device_command(d, S, "save_config", "mode=\"eco\"", &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 200);
	/* The answer waits for the write. */
	CU_ASSERT_TRUE(res.done >= S + 10 * MS);
	dev_device_reboot(d, 2 * S);
	ctx.t = 2 * S;
	dev_device_telemetry(d, &ctx, (uint8_t *)buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"config\": \"mode=\\\"eco\\\"\", \"boots\": 1}");

	/* A reboot before the write completes undoes it. */
	CU_ASSERT_EQUAL(dev_device_command(d, 3 * S, "save_config", "other", &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 200);
	dev_device_reboot(d, 3 * S + MS);
	dev_device_telemetry(d, &ctx, (uint8_t *)buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"config\": \"mode=\\\"eco\\\"\", \"boots\": 2}");

	CU_ASSERT_EQUAL(dev_device_command(d, 4 * S, "forget", NULL, &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 200);
	CU_ASSERT_TRUE(res.done >= 4 * S + 10 * MS);
	dev_device_telemetry(d, &ctx, (uint8_t *)buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"config\": null, \"boots\": 2}");
	dev_device_free(d, 5 * S);
	dev_model_fini(&m);

	/* A full flash answers 507. */
	with_flash(&m, 40);
	check_ok(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 5, "g", 0, 0, &d), HAL_OK);
	CU_ASSERT_EQUAL(dev_device_command(d, S, "save_config", "0123456789012345678901234567890123456789",
	    &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 507);
	dev_device_free(d, 5 * S);
	dev_model_fini(&m);
}

static void
test_persist(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_cmd_result res;
	struct dev_render_ctx ctx = { .t = 10 * MIN };
	char buf[128];

	with_flash(&m, 4096);
	free(m.payload_src);
	m.payload_src = strdup("{\"h\": {actuator.heater.target}, \"ho\": {actuator.heater:.3f}, "
	    "\"f\": {actuator.fan.target}, \"b\": {boots}, \"k\": {flash.act.heater}}");
	check_ok(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 5, "g", 0, 0, &d), HAL_OK);
	CU_ASSERT_EQUAL(dev_device_command(d, S, "set_setpoint", "22.5", &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 200);
	CU_ASSERT_EQUAL(dev_device_command(d, S, "set_fan", "12", &res), HAL_OK);
	CU_ASSERT_EQUAL(res.status, 200);
	dev_device_reboot(d, 5 * MIN);
	/* The heater's setting came back from flash, at once; the fan's did
	 * not. */
	dev_device_telemetry(d, &ctx, (uint8_t *)buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf,
	    "{\"h\": 22.5, \"ho\": 22.500, \"f\": 10, \"b\": 1, \"k\": \"22.5\"}");
	dev_device_free(d, 10 * MIN);
	dev_model_fini(&m);
}

static void
test_flash_dir(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_cmd_result res;
	struct dev_render_ctx ctx = { .t = 0 };
	char dir[] = "/tmp/dev_device_test.XXXXXX", path[128], buf[128];

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	with_flash(&m, 4096);
	m.flash.dir = strdup(dir);
	free(m.payload_src);
	m.payload_src = strdup("{\"c\": {flash.config}, \"h\": {actuator.heater.target}}");
	check_ok(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 5, "g", 4, 0, &d), HAL_OK);
	dev_device_telemetry(d, &ctx, (uint8_t *)buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"c\": null, \"h\": 19}");
	CU_ASSERT_EQUAL(dev_device_command(d, S, "save_config", "kept", &res), HAL_OK);
	CU_ASSERT_EQUAL(dev_device_command(d, S, "set_setpoint", "23", &res), HAL_OK);
	dev_device_free(d, 2 * S);

	/* The next run's device starts with what the last one saved. */
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 5, "g", 4, 0, &d), HAL_OK);
	dev_device_telemetry(d, &ctx, (uint8_t *)buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"c\": \"kept\", \"h\": 23}");
	dev_device_free(d, 0);
	dev_model_fini(&m);
	snprintf(path, sizeof(path), "%s/g-4.nvs", dir);
	CU_ASSERT_EQUAL(unlink(path), 0);
	CU_ASSERT_EQUAL(rmdir(dir), 0);
}

static void
camera_model(struct dev_model *m)
{
	model_init(m);
	m->behaviour = strdup("camera");
	m->has_frame = true;
	m->frame_size = (struct dev_dist){ .kind = DEV_DIST_LOGNORMAL, .a = 600 * 1024.0, .b = 0.7,
	    .min = 100 * 1024.0, .max = 5 * 1024 * 1024.0 };
	check_ok(m);
}

/* Frame seq of device d, grown as the engine does. */
static uint8_t *
frame(struct dev_device *d, uint32_t seq, size_t *len)
{
	struct dev_render_ctx ctx = { .seq = seq };
	uint8_t small[16], *buf;
	size_t n = dev_device_telemetry(d, &ctx, small, sizeof(small));

	CU_ASSERT_TRUE_FATAL(n > sizeof(small));
	buf = malloc(n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_EQUAL(dev_device_telemetry(d, &ctx, buf, n), n);
	*len = n;
	return buf;
}

static void
test_camera(void)
{
	struct dev_model m;
	struct dev_device *d, *e;
	struct dev_render_ctx ctx = { 0 };
	uint8_t *a, *b, *c;
	size_t na, nb, nc, below = 0, lo = SIZE_MAX, hi = 0;
	int n = 20001;

	camera_model(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 9, "cams", 2, 0, &d), HAL_OK);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 9, "cams", 2, 0, &e), HAL_OK);
	/* Same device and seq, whatever came before: the same frame. */
	c = frame(e, 6, &nc);
	free(c);
	a = frame(d, 5, &na);
	b = frame(e, 5, &nb);
	CU_ASSERT_EQUAL_FATAL(na, nb);
	CU_ASSERT_EQUAL(memcmp(a, b, na), 0);
	CU_ASSERT_EQUAL(a[0], 0xff);
	CU_ASSERT_EQUAL(a[1], 0xd8);
	CU_ASSERT_EQUAL(a[na - 2], 0xff);
	CU_ASSERT_EQUAL(a[na - 1], 0xd9);
	free(b);
	/* Another seq: another frame. */
	b = frame(d, 6, &nb);
	CU_ASSERT_TRUE(nb != na || memcmp(a, b, na) != 0);
	free(a);
	free(b);
	/* Another device: another frame. */
	dev_device_free(e, 0);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 9, "cams", 3, 0, &e), HAL_OK);
	a = frame(d, 5, &na);
	b = frame(e, 5, &nb);
	CU_ASSERT_TRUE(nb != na || memcmp(a, b, na) != 0);
	free(a);
	free(b);

	/* Sizes, without rendering: within bounds, around the median. */
	for (int i = 0; i < n; i++) {
		size_t s;

		ctx.seq = (uint32_t)i;
		s = dev_device_telemetry(d, &ctx, NULL, 0);
		below += s < 600 * 1024;
		lo = s < lo ? s : lo;
		hi = s > hi ? s : hi;
	}
	CU_ASSERT_TRUE(lo >= 100 * 1024 && hi <= 5 * 1024 * 1024);
	CU_ASSERT_TRUE(lo < 110 * 1024);
	CU_ASSERT_TRUE(below > (size_t)n * 48 / 100 && below < (size_t)n * 52 / 100);
	dev_device_free(d, 0);
	dev_device_free(e, 0);
	dev_model_fini(&m);
}

/* Twenty payloads of device 7 of group "g". */
static void
render7(struct dev_device *d, char out[20][160])
{
	for (int i = 0; i < 20; i++) {
		struct dev_render_ctx ctx = { .t = (int64_t)i * 7 * S, .seq = (uint32_t)i, .id = "g-7" };

		dev_device_telemetry(d, &ctx, (uint8_t *)out[i], 160);
	}
}

static void
test_independence(void)
{
	static char alone[20][160], among[20][160];
	struct dev_model m;
	struct hal_sensor_config *c;
	struct dev_device *d, **all;
	int n = 10000;

	model_init(&m);
	c = add_sensor(&m, "temp", HAL_GEN_RANDOM_WALK);
	c->random_walk.start = 20;
	c->random_walk.step_sd = 0.5;
	c->random_walk.lower = 0;
	c->random_walk.upper = 40;
	c->random_walk.step_time = MIN;
	c->noise = 0.2;
	c->fault[HAL_FAULT_SPIKE] = (struct hal_fault_config){ .rate = 60, .magnitude = 5 };
	m.clock_drift_ppm = 50;
	m.payload_src = strdup("{\"temp\": {sensor.temp:.4f}, \"ts\": \"{clock.iso}\", \"id\": \"{id}\"}");
	check_ok(&m);

	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 77, "g", 7, 0, &d), HAL_OK);
	render7(d, alone);
	dev_device_free(d, 0);

	all = calloc((size_t)n, sizeof(*all));
	CU_ASSERT_PTR_NOT_NULL_FATAL(all);
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 77, "g", (uint32_t)i, 0, &all[i]), HAL_OK);
	/* The others render first, so any shared state would show. */
	for (int i = 0; i < n; i++) {
		struct dev_render_ctx ctx = { .t = 3 * S, .id = "x" };
		char buf[160];

		if (i != 7)
			dev_device_telemetry(all[i], &ctx, (uint8_t *)buf, sizeof(buf));
	}
	render7(all[7], among);
	for (int i = 0; i < n; i++)
		dev_device_free(all[i], 0);
	free(all);
	for (int i = 0; i < 20; i++)
		CU_ASSERT_STRING_EQUAL(alone[i], among[i]);
	/* And they differ from one payload to the next. */
	CU_ASSERT_STRING_NOT_EQUAL(alone[0], alone[1]);
	dev_model_fini(&m);
}

static void
test_footprint(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_render_ctx ctx = { 0 };
	uint8_t buf[8] = { 'x' };

	model_init(&m);
	add_sensor(&m, "temp", HAL_GEN_CONSTANT)->constant.value = 1;
	check_ok(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 1, "g", 0, 0, &d), HAL_OK);
	CU_ASSERT_TRUE(dev_device_footprint(d) <= 512);
	CU_ASSERT_EQUAL(dev_device_footprint(d), sizeof(struct dev_device) + sizeof(struct hal_sensor));
	/* No template, no behaviour: nothing to send. */
	CU_ASSERT_EQUAL(dev_device_telemetry(d, &ctx, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(buf[0], '\0');
	dev_device_free(d, 0);
	dev_model_fini(&m);

	/* Flash and actuators count too. */
	with_flash(&m, 4096);
	check_ok(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 1, "g", 0, 0, &d), HAL_OK);
	CU_ASSERT_EQUAL(dev_device_footprint(d), sizeof(struct dev_device) +
	    sizeof(struct hal_sensor) + 2 * sizeof(struct hal_actuator) + sizeof(struct hal_flash));
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "thermostat closed loop", test_thermostat },
		{ "command statuses and delays", test_commands },
		{ "command fail rate", test_fail_rate },
		{ "flash commands across reboots", test_flash_commands },
		{ "persisted actuators", test_persist },
		{ "flash dir across runs", test_flash_dir },
		{ "camera frames", test_camera },
		{ "devices are independent", test_independence },
		{ "footprint", test_footprint },
		{ NULL, NULL },
	};

	return fs_test_main("dev_device", tests);
}
