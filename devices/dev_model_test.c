#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "dev_behaviour.h"
#include "dev_device.h"
#include "dev_model.h"
#include "dev_test_build.h"
#include "fs_test.h"

#define S 1000000000ll
#define MS 1000000ll
#define H (3600 * S)

/* More builders, beside those of dev_test_build.h. */

static struct dev_actuator_spec *
add_actuator(struct dev_model *m, const char *name, const char *sensor)
{
	struct dev_actuator_spec *a;

	m->actuators = realloc(m->actuators, (m->nactuators + 1) * sizeof(*m->actuators));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m->actuators);
	a = &m->actuators[m->nactuators++];
	*a = (struct dev_actuator_spec){ .name = strdup(name), .sensor_idx = -1 };
	a->sensor = sensor != NULL ? strdup(sensor) : NULL;
	a->cfg = (struct hal_actuator_config){ .kind = HAL_ACTUATOR_SETPOINT, .initial = 19,
	    .min = 5, .max = 30, .sensor = a->sensor, .gain = 1, .offset = 19 };
	return a;
}

/* A thermostat in the manner of the docs' example. */
static void
thermostat(struct dev_model *m)
{
	struct dev_command_spec *c;

	model_init(m);
	add_sensor(m, "temp", HAL_GEN_CONSTANT)->constant.value = 19;
	add_sensor(m, "humidity", HAL_GEN_CONSTANT)->constant.value = 40;
	add_actuator(m, "heater", "temp");
	c = add_command(m, "set_setpoint", DEV_ACT_SET);
	c->actuator = strdup("heater");
	c->value_from_arg = true;
	c->response_src = strdup("{\"setpoint\": {actuator.heater.target:.1f}}");
	m->payload_src = strdup("{\"temp\": {sensor.temp:.2f}}");
}

/* dev_model_check fails where, at index and offset, with a message
 * containing want. */
static void
problem(struct dev_model *m, enum dev_where where, size_t index, size_t offset, const char *want)
{
	struct dev_problem p;

	CU_ASSERT_EQUAL(dev_model_check(m, &p), HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(p.where, where);
	CU_ASSERT_EQUAL(p.index, index);
	CU_ASSERT_EQUAL(p.offset, offset);
	if (strstr(p.msg, want) == NULL || p.where != where || p.offset != offset)
		fprintf(stderr, "\n      got '%s' (where %d, index %zu, offset %zu), want '%s'\n",
		    p.msg, p.where, p.index, p.offset, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.msg, want));
}

static void
test_check_ok(void)
{
	struct dev_model m;
	struct dev_problem p;

	thermostat(&m);
	add_actuator(&m, "fan", NULL);
	CU_ASSERT_EQUAL_FATAL(dev_model_check(&m, &p), HAL_OK);
	CU_ASSERT_EQUAL(m.actuators[0].sensor_idx, 0);
	CU_ASSERT_EQUAL(m.actuators[1].sensor_idx, -1);
	CU_ASSERT_EQUAL(m.commands[0].actuator_idx, 0);
	CU_ASSERT_EQUAL(m.commands[0].status, 200);
	CU_ASSERT_PTR_NOT_NULL(m.payload);
	CU_ASSERT_PTR_NOT_NULL(m.commands[0].response);
	CU_ASSERT_PTR_NULL(m.ops);
	/* Checking again (after a patch) recompiles without leaking. */
	CU_ASSERT_EQUAL(dev_model_check(&m, &p), HAL_OK);
	CU_ASSERT_EQUAL(dev_model_sensor(&m, "humidity"), 1);
	CU_ASSERT_EQUAL(dev_model_sensor(&m, "nope"), -1);
	CU_ASSERT_EQUAL(dev_model_actuator(&m, "fan"), 1);
	CU_ASSERT_EQUAL(dev_model_command(&m, "set_setpoint"), 0);
	CU_ASSERT_EQUAL(dev_model_command(&m, NULL), -1);
	dev_model_fini(&m);
	/* Fini zeroes, and a zeroed model is fine to check and fini. */
	CU_ASSERT_PTR_NULL(m.sensors);
	CU_ASSERT_EQUAL(dev_model_check(&m, &p), HAL_OK);
	dev_model_fini(&m);
}

static void
test_check_problems(void)
{
	struct dev_model m;

	thermostat(&m);
	free(m.actuators[0].sensor);
	m.actuators[0].sensor = strdup("tmp");
	problem(&m, DEV_WHERE_ACTUATOR, 0, 0,
	    "actuator 'heater': unknown sensor 'tmp'; the model has: temp, humidity");
	dev_model_fini(&m);

	thermostat(&m);
	free(m.commands[0].actuator);
	m.commands[0].actuator = strdup("boiler");
	problem(&m, DEV_WHERE_COMMAND, 0, 0,
	    "command 'set_setpoint': unknown actuator 'boiler'; the model has: heater");
	dev_model_fini(&m);

	thermostat(&m);
	free(m.payload_src);
	m.payload_src = strdup("  [{sensor.temp}]\n");
	problem(&m, DEV_WHERE_PAYLOAD, 0, 0, "expected a JSON object");
	dev_model_fini(&m);

	thermostat(&m);
	free(m.payload_src);
	m.payload_src = strdup(" {\"a\": 1, \"t\": {sensor.tmp:.1f}}");
	problem(&m, DEV_WHERE_PAYLOAD, 0, 15, "unknown sensor 'tmp' in {sensor.tmp:.1f}");
	dev_model_fini(&m);

	thermostat(&m);
	add_command(&m, "ping", DEV_ACT_NONE)->response_src = strdup("{\"ok\": {ok}}");
	problem(&m, DEV_WHERE_COMMAND, 1, 7, "command 'ping': response: unknown field {ok}");
	dev_model_fini(&m);

	thermostat(&m);
	m.behaviour = strdup("x");
	problem(&m, DEV_WHERE_BEHAVIOUR, 0, 0, "unknown behaviour 'x'; expected one of: camera");
	dev_model_fini(&m);

	thermostat(&m);
	m.behaviour = strdup("camera");
	problem(&m, DEV_WHERE_BEHAVIOUR, 0, 0, "behaviour 'camera': expected telemetry frame");
	dev_model_fini(&m);

	thermostat(&m);
	m.sensors[1].cfg.gen = HAL_GEN_SINE;
	problem(&m, DEV_WHERE_SENSOR, 1, 0, "sensor 'humidity': sine");
	dev_model_fini(&m);

	thermostat(&m);
	free(m.sensors[1].name);
	m.sensors[1].name = strdup("temp");
	problem(&m, DEV_WHERE_SENSOR, 1, 0, "sensor 'temp' is defined twice");
	dev_model_fini(&m);

	thermostat(&m);
	m.actuators[0].cfg.initial = 50;
	problem(&m, DEV_WHERE_ACTUATOR, 0, 0, "actuator 'heater': setpoint: expected min <= initial");
	dev_model_fini(&m);

	thermostat(&m);
	m.actuators[0].persist = true;
	problem(&m, DEV_WHERE_ACTUATOR, 0, 0, "persist needs flash");
	dev_model_fini(&m);

	thermostat(&m);
	add_command(&m, "save", DEV_ACT_FLASH_PUT)->key = strdup("config");
	problem(&m, DEV_WHERE_COMMAND, 1, 0, "command 'save' uses flash, and the model has none");
	dev_model_fini(&m);

	thermostat(&m);
	m.commands[0].fail = 1.5;
	problem(&m, DEV_WHERE_COMMAND, 0, 0, "expected fail from 0 to 1");
	dev_model_fini(&m);

	thermostat(&m);
	m.commands[0].delay = (struct dev_dist){ .kind = DEV_DIST_UNIFORM, .a = 5, .b = 1 };
	problem(&m, DEV_WHERE_COMMAND, 0, 0, "delay: uniform: expected 0 <= min <= max");
	dev_model_fini(&m);

	thermostat(&m);
	m.power.cutoff_pct = 100;
	problem(&m, DEV_WHERE_POWER, 0, 0, "power: expected");
	dev_model_fini(&m);

	thermostat(&m);
	m.link.disconnect_mtbf = 60 * S;
	problem(&m, DEV_WHERE_LINK, 0, 0, "link: expected");
	dev_model_fini(&m);

	thermostat(&m);
	m.has_flash = true;
	problem(&m, DEV_WHERE_FLASH, 0, 0, "flash: expected a capacity");
	dev_model_fini(&m);

	thermostat(&m);
	m.clock_drift_ppm = -2e6;
	problem(&m, DEV_WHERE_MODEL, 0, 0, "clock drift");
	dev_model_fini(&m);
}

static void
test_dist(void)
{
	struct hal_rng r;
	struct dev_dist fx = { .kind = DEV_DIST_FIXED, .a = 7 };
	struct dev_dist un = { .kind = DEV_DIST_UNIFORM, .a = 5 * MS, .b = 50 * MS };
	struct dev_dist no = { .kind = DEV_DIST_NORMAL, .a = 10, .b = 20 };
	struct dev_dist ln = { .kind = DEV_DIST_LOGNORMAL, .a = 600e3, .b = 0.7, .min = 100e3,
	    .max = 5e6 };
	double lo = 1e300, hi = -1, sum = 0, *v;
	int below = 0, zeros = 0, negative = 0, n = 100001;
	char err[128];

	hal_rng_init(&r, 1, "g", 0, "t");
	CU_ASSERT_EQUAL(dev_dist_draw(&fx, &r), 7);
	for (int i = 0; i < 100000; i++) {
		double x = dev_dist_draw(&un, &r);

		lo = fmin(lo, x);
		hi = fmax(hi, x);
		sum += x;
		x = dev_dist_draw(&no, &r);
		negative += x < 0;
		zeros += x == 0;
	}
	CU_ASSERT_TRUE(lo >= 5 * MS && lo < 5.1 * MS);
	CU_ASSERT_TRUE(hi <= 50 * MS && hi > 49.9 * MS);
	CU_ASSERT_TRUE(fabs(sum / 100000 - 27.5 * MS) < 0.3 * MS);
	/* A normal(10, 20) is negative 31% of the time: those draw 0. */
	CU_ASSERT_EQUAL(negative, 0);
	CU_ASSERT_TRUE(zeros > 29000 && zeros < 33000);

	v = malloc(sizeof(double) * (size_t)n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	lo = 1e300;
	hi = -1;
	for (int i = 0; i < n; i++) {
		v[i] = dev_dist_draw(&ln, &r);
		lo = fmin(lo, v[i]);
		hi = fmax(hi, v[i]);
		below += v[i] < 600e3;
	}
	CU_ASSERT_TRUE(lo >= 100e3 && hi <= 5e6);
	/* The median survives the clamp. */
	CU_ASSERT_TRUE(abs(below - n / 2) < n / 100);
	free(v);

	CU_ASSERT_EQUAL(dev_dist_check(&ln, err, sizeof(err)), HAL_OK);
	CU_ASSERT_EQUAL(dev_dist_check(&(struct dev_dist){ .kind = DEV_DIST_NORMAL, .a = 1, .b = -1 },
	    err, sizeof(err)), HAL_ERR_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "sd >= 0"));
	CU_ASSERT_EQUAL(dev_dist_check(&(struct dev_dist){ .kind = DEV_DIST_UNIFORM, .a = 2, .b = 1 },
	    err, sizeof(err)), HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(dev_dist_check(&(struct dev_dist){ .kind = DEV_DIST_FIXED, .a = 1, .min = 5,
	    .max = 2 }, err, sizeof(err)), HAL_ERR_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "min <= max"));
	CU_ASSERT_EQUAL(dev_dist_check(&(struct dev_dist){ .kind = DEV_DIST_LOGNORMAL, .a = 0,
	    .b = 1 }, err, sizeof(err)), HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(dev_dist_check(&(struct dev_dist){ .kind = 9 }, err, sizeof(err)),
	    HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(dev_dist_check(&(struct dev_dist){ .kind = DEV_DIST_FIXED, .a = NAN }, err,
	    sizeof(err)), HAL_ERR_INVAL);
}

/* A model that owns one of every kind of array. */
static void
rich(struct dev_model *m)
{
	static const struct hal_point pts[] = { { 0, 1 }, { H, 2 }, { 2 * H, 3 } };
	static const struct hal_window win[] = { { H, 2 * H } };
	static const struct hal_link_window lw[] = { { 10 * S, 20 * S } };
	static const uint64_t reboots[] = { 30 * S, 120 * S };
	static const char csv[] = "time,value\n0,5\n1.5,6\n3.000000001,7.25\n";
	struct hal_sensor_config *c;
	struct dev_command_spec *cmd;
	char err[128];

	thermostat(m);
	c = add_sensor(m, "steps", HAL_GEN_STEPS);
	c->steps.points = malloc(sizeof(pts));
	memcpy((void *)c->steps.points, pts, sizeof(pts));
	c->steps.npoints = 3;
	c->fault[HAL_FAULT_STUCK].schedule = malloc(sizeof(win));
	memcpy((void *)c->fault[HAL_FAULT_STUCK].schedule, win, sizeof(win));
	c->fault[HAL_FAULT_STUCK].nschedule = 1;
	c = add_sensor(m, "replay", HAL_GEN_REPLAY);
	CU_ASSERT_EQUAL_FATAL(hal_table_parse("t.csv", csv, strlen(csv), &m->sensors[3].table, err,
	    sizeof(err)), HAL_OK);
	c->replay.table = m->sensors[3].table;
	m->has_flash = true;
	m->flash = (struct hal_flash_config){ .capacity = 1024, .dir = strdup("/nonexistent") };
	m->power.reboot_at = malloc(sizeof(reboots));
	memcpy((void *)m->power.reboot_at, reboots, sizeof(reboots));
	m->power.n_reboot_at = 2;
	m->link.partitions = malloc(sizeof(lw));
	memcpy((void *)m->link.partitions, lw, sizeof(lw));
	m->link.n_partitions = 1;
	m->link.half_open = malloc(sizeof(lw));
	memcpy((void *)m->link.half_open, lw, sizeof(lw));
	m->link.n_half_open = 1;
	m->description = strdup("rich");
	m->file = strdup("rich.yaml");
	cmd = add_command(m, "save", DEV_ACT_FLASH_PUT);
	cmd->key = strdup("config");
	free(m->payload_src);
	m->payload_src = strdup("{\"s\": {sensor.steps}, \"r\": {sensor.replay}, "
	    "\"t\": {sensor.temp:.1f}, \"c\": {flash.config}}");
}

static void
test_copy(void)
{
	struct dev_model a, b;
	struct dev_device *da, *db;
	struct dev_render_ctx ctx = { 0 };
	struct dev_problem p;
	char ba[256], bb[256];
	const struct hal_point *pa, *pb;
	size_t na, nb;

	rich(&a);
	CU_ASSERT_EQUAL_FATAL(dev_model_check(&a, &p), HAL_OK);
	CU_ASSERT_EQUAL_FATAL(dev_model_copy(&b, &a), HAL_OK);
	/* Nothing is shared. */
	CU_ASSERT_PTR_NOT_EQUAL(b.name, a.name);
	CU_ASSERT_PTR_NOT_EQUAL(b.sensors[2].cfg.steps.points, a.sensors[2].cfg.steps.points);
	CU_ASSERT_PTR_NOT_EQUAL(b.sensors[2].cfg.fault[HAL_FAULT_STUCK].schedule,
	    a.sensors[2].cfg.fault[HAL_FAULT_STUCK].schedule);
	CU_ASSERT_PTR_EQUAL(b.sensors[2].cfg.name, b.sensors[2].name);
	CU_ASSERT_PTR_NOT_EQUAL(b.sensors[3].table, a.sensors[3].table);
	CU_ASSERT_PTR_EQUAL(b.sensors[3].cfg.replay.table, b.sensors[3].table);
	CU_ASSERT_PTR_EQUAL(b.actuators[0].cfg.sensor, b.actuators[0].sensor);
	CU_ASSERT_PTR_NOT_EQUAL(b.flash.dir, a.flash.dir);
	CU_ASSERT_STRING_EQUAL(b.flash.dir, "/nonexistent");
	CU_ASSERT_PTR_NOT_EQUAL(b.power.reboot_at, a.power.reboot_at);
	CU_ASSERT_PTR_NOT_EQUAL(b.link.partitions, a.link.partitions);
	CU_ASSERT_PTR_NOT_EQUAL(b.payload, a.payload);
	CU_ASSERT_PTR_NOT_NULL(b.payload);
	CU_ASSERT_PTR_NOT_NULL(b.commands[0].response);
	pa = hal_table_points(a.sensors[3].table, &na);
	pb = hal_table_points(b.sensors[3].table, &nb);
	CU_ASSERT_EQUAL_FATAL(na, nb);
	for (size_t i = 0; i < na; i++) {
		CU_ASSERT_EQUAL(pa[i].t, pb[i].t);
		CU_ASSERT_EQUAL(pa[i].v, pb[i].v);
	}
	CU_ASSERT_EQUAL(hal_table_period(a.sensors[3].table), hal_table_period(b.sensors[3].table));

	/* The copy works on its own once the original is gone, and its
	 * devices render what the original's did. Without a flash dir so
	 * that nothing is written. */
	free((void *)a.flash.dir);
	a.flash.dir = NULL;
	free((void *)b.flash.dir);
	b.flash.dir = NULL;
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&a, 3, "g", 1, 0, &da), HAL_OK);
	for (int i = 0; i < 5; i++) {
		ctx.t = i * 1500 * MS + i * H;
		dev_device_telemetry(da, &ctx, (uint8_t *)ba, sizeof(ba));
	}
	dev_device_free(da, 0);
	dev_model_fini(&a);
	CU_ASSERT_EQUAL_FATAL(dev_model_check(&b, &p), HAL_OK);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&b, 3, "g", 1, 0, &db), HAL_OK);
	for (int i = 0; i < 5; i++) {
		ctx.t = i * 1500 * MS + i * H;
		dev_device_telemetry(db, &ctx, (uint8_t *)bb, sizeof(bb));
	}
	CU_ASSERT_STRING_EQUAL(ba, bb);
	CU_ASSERT_PTR_NOT_NULL(strstr(bb, "{\"s\": 3, \"r\": "));
	CU_ASSERT_PTR_NOT_NULL(strstr(bb, ", \"t\": 19.0, \"c\": null}"));
	dev_device_free(db, 0);
	dev_model_fini(&b);
}

static enum hal_err
never_ok(const struct dev_model *m, char *err, size_t errlen)
{
	hal_seterr(err, errlen, "never");
	return HAL_ERR_INVAL;
}

static void
test_behaviours(void)
{
	static const struct dev_behaviour_ops mine = { .name = "mine", .check = never_ok };
	static const struct dev_behaviour_ops cam2 = { .name = "camera" };
	struct dev_model m;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dev_behaviour_find("camera"));
	CU_ASSERT_STRING_EQUAL(dev_behaviour_at(0)->name, "camera");
	CU_ASSERT_PTR_NULL(dev_behaviour_find("mine"));
	CU_ASSERT_EQUAL(dev_behaviour_register(&mine), HAL_OK);
	CU_ASSERT_EQUAL(dev_behaviour_register(&mine), HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(dev_behaviour_register(&cam2), HAL_ERR_INVAL);
	CU_ASSERT_PTR_EQUAL(dev_behaviour_find("mine"), &mine);
	CU_ASSERT_PTR_EQUAL(dev_behaviour_at(1), &mine);
	CU_ASSERT_PTR_NULL(dev_behaviour_at(2));

	thermostat(&m);
	m.behaviour = strdup("nope");
	problem(&m, DEV_WHERE_BEHAVIOUR, 0, 0, "expected one of: camera, mine");
	free(m.behaviour);
	m.behaviour = strdup("mine");
	problem(&m, DEV_WHERE_BEHAVIOUR, 0, 0, "behaviour 'mine': never");
	dev_model_fini(&m);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "a good model checks and resolves", test_check_ok },
		{ "check problems", test_check_problems },
		{ "distributions", test_dist },
		{ "deep copy", test_copy },
		{ "behaviour registry", test_behaviours },
		{ NULL, NULL },
	};

	return fs_test_main("dev_model", tests);
}
