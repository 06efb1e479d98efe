#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "dev_device.h"
#include "dev_model.h"
#include "dev_payload.h"
#include "dev_test_build.h"
#include "fs_test.h"

#define S 1000000000ll
#define H (3600 * S)

/* More builders, beside those of dev_test_build.h. */

static struct dev_actuator_spec *
add_actuator(struct dev_model *m, const char *name, enum hal_actuator_kind kind, double initial,
    double min, double max)
{
	struct dev_actuator_spec *a;

	m->actuators = realloc(m->actuators, (m->nactuators + 1) * sizeof(*m->actuators));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m->actuators);
	a = &m->actuators[m->nactuators++];
	*a = (struct dev_actuator_spec){ .name = strdup(name), .sensor_idx = -1 };
	a->cfg = (struct hal_actuator_config){ .kind = kind, .initial = initial, .min = min,
	    .max = max, .travel_time = 2 * S };
	return a;
}

/* The model most tests use: two constant sensors, three actuators,
 * flash. */
static void
std_model(struct dev_model *m)
{
	model_init(m);
	add_sensor(m, "temp", HAL_GEN_CONSTANT)->constant.value = 21.5;
	add_sensor(m, "hum", HAL_GEN_CONSTANT)->constant.value = 40;
	add_actuator(m, "heater", HAL_ACTUATOR_SETPOINT, 19, 5, 30);
	add_actuator(m, "fan", HAL_ACTUATOR_SWITCH, 0, 0, 0);
	add_actuator(m, "bolt", HAL_ACTUATOR_POSITION, 1, 0, 1);
	m->has_flash = true;
	m->flash.capacity = 4096;
	check_ok(m);
}

static struct dev_payload *
compile_ok(const char *src, const struct dev_model *m, unsigned allowed)
{
	struct dev_payload *p = NULL;
	char err[256] = "";
	size_t off = 99;
	enum hal_err e = dev_payload_compile(src, m, allowed, &p, err, sizeof(err), &off);

	if (e != HAL_OK)
		fprintf(stderr, "\n      compile: %s at %zu\n", err, off);
	CU_ASSERT_EQUAL_FATAL(e, HAL_OK);
	return p;
}

static void
test_every_field(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_payload *p;
	struct dev_render_ctx ctx = { .t = 1500000000, .seq = 42, .id = "dev-7" };
	uint64_t done;
	char buf[1024];
	size_t n;
	const char *want =
	    "{\"t\": 21.5, \"t2\": 21.50, \"te\": 2.2e+01, \"td\": 22, \"h\": 19, \"ht\": 19.0, "
	    "\"fan\": 0, \"mv\": false, \"jm\": false, \"cfg\": \"a\\\"b\\\\c\", \"none\": null, "
	    "\"iso\": \"1970-01-01T00:00:01.500Z\", \"ms\": 1500, \"b\": 100, \"id\": \"dev-7\", "
	    "\"n\": 7, \"g\": \"grp\", \"seq\": 42, \"boots\": 0, \"lit\": \"{x}\", \"h2\": 40}";

	std_model(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 1, "grp", 7, 0, &d), HAL_OK);
	CU_ASSERT_EQUAL(hal_flash_put(d->flash, 0, "config", "a\"b\\c", 5, &done), HAL_OK);
	p = compile_ok("{\"t\": {sensor.temp}, \"t2\": {sensor.temp:.2f}, \"te\": {sensor.temp:.1e}, "
	    "\"td\": {sensor.temp:d}, \"h\": {actuator.heater}, \"ht\": {actuator.heater.target:.1f}, "
	    "\"fan\": {actuator.fan:d}, \"mv\": {actuator.bolt.moving}, \"jm\": {actuator.bolt.jammed}, "
	    "\"cfg\": {flash.config}, \"none\": {flash.nope}, \"iso\": \"{clock.iso}\", "
	    "\"ms\": {clock.unix_ms}, \"b\": {power.pct:.0f}, \"id\": \"{id}\", \"n\": {n}, "
	    "\"g\": \"{group}\", \"seq\": {seq}, \"boots\": {boots}, \"lit\": \"{{x}}\", "
	    "\"h2\": {sensor.hum}}", &m, 0);
	n = dev_payload_render(p, d, &ctx, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fprintf(stderr, "\n      got  %s\n      want %s\n", buf, want);
	CU_ASSERT_STRING_EQUAL(buf, want);
	CU_ASSERT_EQUAL(n, strlen(want));
	dev_payload_free(p);
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

static void
test_formats(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_payload *p;
	struct dev_render_ctx ctx = { .t = 0 };
	char buf[256];

	model_init(&m);
	add_sensor(&m, "big", HAL_GEN_CONSTANT)->constant.value = 1234567.891;
	add_sensor(&m, "neg", HAL_GEN_CONSTANT)->constant.value = -0.25;
	add_sensor(&m, "tiny", HAL_GEN_CONSTANT)->constant.value = -0.001;
	check_ok(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 1, "g", 0, 0, &d), HAL_OK);
	p = compile_ok("[{sensor.big}, {sensor.big:.0f}, {sensor.big:.9f}, {sensor.big:.3e}, "
	    "{sensor.big:d}, {sensor.neg:d}, {sensor.neg:.1f}, {sensor.tiny:d}, {sensor.neg}]", &m, 0);
	dev_payload_render(p, d, &ctx, buf, sizeof(buf));
	/* round(-0.25) is -0, which renders as 0. */
	CU_ASSERT_STRING_EQUAL(buf, "[1.23457e+06, 1234568, 1234567.891000000, 1.235e+06, "
	    "1234568, 0, -0.2, 0, -0.25]");
	dev_payload_free(p);
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

static void
test_dropout_null(void)
{
	static const struct hal_window w[] = { { 0, H } };
	struct dev_model m;
	struct hal_sensor_config *c;
	struct dev_device *d;
	struct dev_render_ctx ctx = { .t = 10 * S };
	char buf[64];

	model_init(&m);
	c = add_sensor(&m, "x", HAL_GEN_CONSTANT);
	c->constant.value = 3;
	/* The model owns its schedules. */
	c->fault[HAL_FAULT_DROPOUT].schedule = malloc(sizeof(w));
	memcpy((void *)c->fault[HAL_FAULT_DROPOUT].schedule, w, sizeof(w));
	c->fault[HAL_FAULT_DROPOUT].nschedule = 1;
	m.payload_src = strdup("{\"x\": {sensor.x:.2f}}");
	check_ok(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 1, "g", 0, 0, &d), HAL_OK);
	dev_device_telemetry(d, &ctx, (uint8_t *)buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"x\": null}");
	ctx.t = 2 * H;
	dev_device_telemetry(d, &ctx, (uint8_t *)buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"x\": 3.00}");
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

static void
test_read_once(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_payload *p;
	struct dev_render_ctx ctx = { 0 };
	char buf[128], prev[128] = "";
	int changed = 0;

	model_init(&m);
	add_sensor(&m, "x", HAL_GEN_NORMAL)->normal.sd = 5;
	m.sensors[0].cfg.noise = 1;
	check_ok(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 1, "g", 0, 0, &d), HAL_OK);
	p = compile_ok("{sensor.x:.9f} {sensor.x:.9f}", &m, 0);
	for (int i = 0; i < 50; i++) {
		double a, b;

		ctx.t = i * S;
		dev_payload_render(p, d, &ctx, buf, sizeof(buf));
		CU_ASSERT_EQUAL_FATAL(sscanf(buf, "%lf %lf", &a, &b), 2);
		CU_ASSERT_EQUAL(a, b);
		changed += strcmp(buf, prev) != 0;
		strcpy(prev, buf);
	}
	/* Every render is a new sample. */
	CU_ASSERT_EQUAL(changed, 50);
	dev_payload_free(p);
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

static void
test_wallclock(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_payload *p;
	struct hal_timebase tb;
	/* 2026-01-01T00:00:00Z */
	struct dev_render_ctx ctx = { .tb = &tb, .t = 90 * S + 123456789 };
	char buf[128];

	model_init(&m);
	m.clock_skew = -1500000000;
	check_ok(&m);
	CU_ASSERT_EQUAL_FATAL(hal_timebase_init(&tb, 0, 1767225600ll * S, 1, NULL, 0), HAL_OK);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 1, "g", 0, 0, &d), HAL_OK);
	p = compile_ok("{clock.iso} {clock.unix_ms}", &m, 0);
	dev_payload_render(p, d, &ctx, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "2026-01-01T00:01:28.623Z 1767225688623");
	/* Before the epoch, unix_ms floors as the ISO form does. */
	ctx.tb = NULL;
	ctx.t = 0;
	dev_payload_render(p, d, &ctx, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "1969-12-31T23:59:58.500Z -1500");
	dev_payload_free(p);
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

static void
test_arg_escaping(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_payload *p;
	struct dev_render_ctx ctx = { .arg = "say \"hi\"\\\n\x01" };
	char buf[128];

	model_init(&m);
	check_ok(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 1, "a\"b", 0, 0, &d), HAL_OK);
	p = compile_ok("{\"echo\": \"{arg}\", \"g\": \"{group}\"}", &m, DEV_PAYLOAD_ARG);
	dev_payload_render(p, d, &ctx, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"echo\": \"say \\\"hi\\\"\\\\\\n\\u0001\", \"g\": \"a\\\"b\"}");
	ctx.arg = NULL;
	dev_payload_render(p, d, &ctx, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"echo\": \"\", \"g\": \"a\\\"b\"}");
	dev_payload_free(p);
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

/* Compiling src fails at offset with a message containing want. */
static void
bad(const struct dev_model *m, unsigned allowed, const char *src, size_t offset,
    const char *want)
{
	struct dev_payload *p = (struct dev_payload *)&p;
	char err[256] = "";
	size_t off = 999;

	CU_ASSERT_EQUAL(dev_payload_compile(src, m, allowed, &p, err, sizeof(err), &off),
	    HAL_ERR_INVAL);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_EQUAL(off, offset);
	if (strstr(err, want) == NULL || off != offset)
		fprintf(stderr, "\n      %s: got '%s' at %zu, want '%s' at %zu\n", src, err, off,
		    want, offset);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

static void
test_compile_errors(void)
{
	struct dev_model m;
	char many[1024];
	size_t pos = 0;

	std_model(&m);
	bad(&m, 0, "{\"a\": {sensor.tmp}}", 6,
	    "unknown sensor 'tmp' in {sensor.tmp}; the model has: temp, hum");
	bad(&m, 0, "{\"a\": 1, \"b\": {foo}}", 14, "unknown field {foo}; expected sensor.S");
	bad(&m, 0, "{\"a\": {sensor.temp:.2x}}", 6, "bad format '.2x' in {sensor.temp:.2x}");
	bad(&m, 0, "{\"a\": {sensor.temp:.10f}}", 6, "bad format");
	bad(&m, 0, "{\"a\": {sensor.temp", 6, "unclosed field");
	bad(&m, 0, "{\"a\": {arg}}", 6, "{arg} is only for command responses");
	bad(&m, 0, "{\"a\": {actuator.nope.target}}", 6,
	    "unknown actuator 'nope' in {actuator.nope.target}; the model has: heater, fan, bolt");
	bad(&m, 0, "{\"i\": \"{clock.iso:.2f}\"}", 7, "takes no format");
	bad(&m, 0, "{\"i\": {actuator.bolt.moving:d}}", 6, "takes no format");
	bad(&m, 0, "ab {sen sor}", 3, "unexpected ' '");

	/* Seventeen distinct sensors are one too many. */
	for (int i = 0; i < 17; i++) {
		char name[8];

		snprintf(name, sizeof(name), "s%d", i);
		add_sensor(&m, name, HAL_GEN_CONSTANT);
		pos += (size_t)snprintf(many + pos, sizeof(many) - pos, "{sensor.%s} ", name);
	}
	bad(&m, 0, many, pos - 13, "at most 16 sensors");
	dev_model_fini(&m);
}

static void
test_braces(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_payload *p;
	struct dev_render_ctx ctx = { 0 };
	char buf[128];

	std_model(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 1, "g", 0, 0, &d), HAL_OK);
	/* JSON's own braces need no escaping; {{ and }} are one brace. */
	p = compile_ok("{\"a\": {actuator.heater.target:.1f}} {{n}} {\"x\": 1 }", &m, 0);
	dev_payload_render(p, d, &ctx, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"a\": 19.0} {n} {\"x\": 1 }");
	dev_payload_free(p);
	/* Nested JSON objects keep their "}}". */
	p = compile_ok("{\"a\": {\"b\": {sensor.temp}}}", &m, 0);
	dev_payload_render(p, d, &ctx, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"a\": {\"b\": 21.5}}");
	dev_payload_free(p);
	p = compile_ok("{\"a\": {\"b\": 1}} }}", &m, 0);
	dev_payload_render(p, d, &ctx, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"a\": {\"b\": 1}} }}");
	dev_payload_free(p);
	/* Every JSON brace escaped, as in a Python format string. */
	p = compile_ok("{{\"a\": {{\"b\": {sensor.temp:.1f}}}}} {{{n}}}", &m, 0);
	dev_payload_render(p, d, &ctx, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"a\": {\"b\": 21.5}} {0}");
	dev_payload_free(p);
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

static void
test_truncation(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_payload *p;
	struct dev_render_ctx ctx = { .seq = 123456 };
	char buf[32];

	std_model(&m);
	CU_ASSERT_EQUAL_FATAL(dev_device_new(&m, 1, "g", 0, 0, &d), HAL_OK);
	p = compile_ok("{\"seq\": {seq}, \"t\": {sensor.temp:.3f}}", &m, 0);
	CU_ASSERT_EQUAL(dev_payload_render(p, d, &ctx, buf, sizeof(buf)), 28);
	CU_ASSERT_STRING_EQUAL(buf, "{\"seq\": 123456, \"t\": 21.500}");
	memset(buf, 'Z', sizeof(buf));
	CU_ASSERT_EQUAL(dev_payload_render(p, d, &ctx, buf, 10), 28);
	CU_ASSERT_STRING_EQUAL(buf, "{\"seq\": 1");
	CU_ASSERT_EQUAL(buf[10], 'Z');
	memset(buf, 'Z', sizeof(buf));
	CU_ASSERT_EQUAL(dev_payload_render(p, d, &ctx, buf, 0), 28);
	CU_ASSERT_EQUAL(buf[0], 'Z');
	CU_ASSERT_EQUAL(dev_payload_render(p, d, &ctx, buf, 1), 28);
	CU_ASSERT_EQUAL(buf[0], '\0');
	dev_payload_free(p);
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

static void
test_uses(void)
{
	struct dev_model m;
	struct dev_payload *p;

	std_model(&m);
	p = compile_ok("{\"t\": {sensor.temp:.1f}, \"ts\": \"{clock.iso}\"}", &m, 0);
	CU_ASSERT_TRUE(dev_payload_uses(p, "clock.iso"));
	CU_ASSERT_TRUE(dev_payload_uses(p, "sensor.temp"));
	CU_ASSERT_TRUE(dev_payload_uses(p, "sensor"));
	CU_ASSERT_FALSE(dev_payload_uses(p, "sensor.hum"));
	CU_ASSERT_FALSE(dev_payload_uses(p, "clock.unix_ms"));
	CU_ASSERT_FALSE(dev_payload_uses(p, "clock.is"));
	dev_payload_free(p);
	dev_model_fini(&m);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "every field kind", test_every_field },
		{ "number formats", test_formats },
		{ "dropout renders null", test_dropout_null },
		{ "each sensor read once per render", test_read_once },
		{ "wall clock with skew and timebase", test_wallclock },
		{ "arg and group escaping", test_arg_escaping },
		{ "compile errors and offsets", test_compile_errors },
		{ "braces", test_braces },
		{ "truncation like snprintf", test_truncation },
		{ "uses", test_uses },
		{ NULL, NULL },
	};

	return fs_test_main("dev_payload", tests);
}
