/* Tests for templates: compile, render, filters, and errors with offsets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "fs_test.h"
#include "template.h"

#define ALL (SIM_TMPL_ID | SIM_TMPL_N | SIM_TMPL_GROUP)

static struct sim_tmpl *
compile(const char *s, unsigned allowed)
{
	struct sim_tmpl *t = NULL;
	char err[128];
	size_t col = 99;

	CU_ASSERT_EQUAL_FATAL(sim_tmpl_compile(s, allowed, &t, err, sizeof(err), &col), SIM_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	return t;
}

/* Renders t and checks the result and the returned length. */
static void
check_render(const struct sim_tmpl *t, const char *id, uint32_t n, const char *group,
    const char *want)
{
	struct sim_tmpl_vals v = { .id = id, .n = n, .group = group };
	char buf[256];

	CU_ASSERT_EQUAL(sim_tmpl_render(t, &v, buf, sizeof(buf)), strlen(want));
	CU_ASSERT_STRING_EQUAL(buf, want);
}

static void
test_render_vars(void)
{
	struct sim_tmpl *t = compile("devices/{id}/telemetry", ALL);

	check_render(t, "sensor-7", 7, "sensors", "devices/sensor-7/telemetry");
	CU_ASSERT_EQUAL(sim_tmpl_uses(t), SIM_TMPL_ID);
	CU_ASSERT_STRING_EQUAL(sim_tmpl_source(t), "devices/{id}/telemetry");
	sim_tmpl_free(t);

	t = compile("{group}-{n}", SIM_TMPL_N | SIM_TMPL_GROUP);
	check_render(t, NULL, 0, "sensors", "sensors-0");
	check_render(t, NULL, 4294967295u, "g", "g-4294967295");
	CU_ASSERT_EQUAL(sim_tmpl_uses(t), SIM_TMPL_N | SIM_TMPL_GROUP);
	sim_tmpl_free(t);

	t = compile("plain", ALL);
	check_render(t, "x", 1, "g", "plain");
	CU_ASSERT_EQUAL(sim_tmpl_uses(t), 0);
	sim_tmpl_free(t);

	t = compile("", ALL);
	check_render(t, "x", 1, "g", "");
	sim_tmpl_free(t);
}

static void
test_render_padding(void)
{
	struct sim_tmpl *t = compile("sensor-{n:05}", SIM_TMPL_N);

	check_render(t, NULL, 0, NULL, "sensor-00000");
	check_render(t, NULL, 42, NULL, "sensor-00042");
	/* Wider numbers are not cut. */
	check_render(t, NULL, 1234567, NULL, "sensor-1234567");
	sim_tmpl_free(t);

	t = compile("{n:01}|{n:020}", SIM_TMPL_N);
	check_render(t, NULL, 5, NULL, "5|00000000000000000005");
	sim_tmpl_free(t);
}

static void
test_render_braces(void)
{
	struct sim_tmpl *t = compile("{{{n}}}-{{id}}", ALL);

	check_render(t, "x", 3, "g", "{3}-{id}");
	CU_ASSERT_EQUAL(sim_tmpl_uses(t), SIM_TMPL_N);
	sim_tmpl_free(t);
}

static void
test_render_truncates(void)
{
	struct sim_tmpl *t = compile("dev-{n:04}", SIM_TMPL_N);
	struct sim_tmpl_vals v = { .n = 12 };
	char buf[6];

	memset(buf, 'x', sizeof(buf));
	CU_ASSERT_EQUAL(sim_tmpl_render(t, &v, buf, sizeof(buf)), 8);
	CU_ASSERT_STRING_EQUAL(buf, "dev-0");
	/* A zero-length buffer is not touched, but the length is counted. */
	buf[0] = 'z';
	CU_ASSERT_EQUAL(sim_tmpl_render(t, &v, buf, 0), 8);
	CU_ASSERT_EQUAL(buf[0], 'z');
	CU_ASSERT_EQUAL(sim_tmpl_render(t, &v, NULL, 0), 8);
	CU_ASSERT_EQUAL(sim_tmpl_render(t, &v, buf, 1), 8);
	CU_ASSERT_STRING_EQUAL(buf, "");
	sim_tmpl_free(t);
}

static void
check_filter(const char *src, const char *want)
{
	struct sim_tmpl *t = compile(src, ALL);
	char *f = sim_tmpl_to_filter(t);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_STRING_EQUAL(f, want);
	free(f);
	sim_tmpl_free(t);
}

static void
test_filter(void)
{
	check_filter("devices/{id}/telemetry", "devices/+/telemetry");
	check_filter("a/dev-{n}/x", "a/+/x");
	check_filter("{group}/{id}", "+/+");
	check_filter("fixed/topic", "fixed/topic");
	check_filter("{id}", "+");
	check_filter("a/{n}-{n:03}x/b/{group}", "a/+/b/+");
	check_filter("/lead/{id}/", "/lead/+/");
	check_filter("x{{y}}/{id}", "x{y}/+");
}

/* Compiles a bad template and checks the message and the offset. */
static void
check_error(const char *src, unsigned allowed, size_t want_col, const char *want_msg)
{
	struct sim_tmpl *t = (struct sim_tmpl *)&t;
	char err[128] = "";
	size_t col = 999;

	CU_ASSERT_EQUAL(sim_tmpl_compile(src, allowed, &t, err, sizeof(err), &col),
	    SIM_ERR_SCENARIO);
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT_EQUAL(col, want_col);
	if (strstr(err, want_msg) == NULL)
		fprintf(stderr, "\n  '%s': got '%s', want '%s'\n", src, err, want_msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want_msg));
}

static void
test_errors(void)
{
	check_error("sensor-{x}", ALL, 7, "unknown variable {x}");
	check_error("sensor-{x}", SIM_TMPL_N | SIM_TMPL_GROUP, 7, "expected {n}, {n:0W} or {group}");
	check_error("ab{n", ALL, 2, "unclosed '{'");
	check_error("ab}", ALL, 2, "unmatched '}'");
	check_error("x-{id}", SIM_TMPL_N | SIM_TMPL_GROUP, 2, "{id} cannot be used here");
	check_error("{n:5}", ALL, 0, "expected {n:0W}");
	check_error("a{n:0}", ALL, 1, "expected {n:0W}");
	check_error("a{n:021}", ALL, 1, "width W from 1 to 20");
	check_error("a{n:00}", ALL, 1, "expected {n:0W}");
	check_error("a{n:0x}", ALL, 1, "expected {n:0W}");
	check_error("a{n:099999999999999999999}", ALL, 1, "expected {n:0W}");
	check_error("{}", ALL, 0, "unknown variable {}");
	check_error("{{}", ALL, 2, "unmatched '}'");
	check_error("ok/{group}/{ID}", ALL, 11, "unknown variable {ID}");
}

static void
test_null_args(void)
{
	struct sim_tmpl *t = NULL;
	struct sim_tmpl_vals v = { .n = 3 };
	char buf[16];

	CU_ASSERT_EQUAL(sim_tmpl_compile(NULL, ALL, &t, NULL, 0, NULL), SIM_ERR_INVAL);
	/* Errors without err or col buffers still fail cleanly. */
	CU_ASSERT_EQUAL(sim_tmpl_compile("{bad}", ALL, &t, NULL, 0, NULL), SIM_ERR_SCENARIO);
	CU_ASSERT_PTR_NULL(t);
	sim_tmpl_free(NULL);
	t = compile("{id}/{group}/{n}", ALL);
	/* Missing values render as empty. */
	CU_ASSERT_EQUAL(sim_tmpl_render(t, &v, buf, sizeof(buf)), 3);
	CU_ASSERT_STRING_EQUAL(buf, "//3");
	sim_tmpl_free(t);
}

/* Request-response topics: a filter with only some variables wild, and
 * matching a topic to capture {method}, {rid} and {status}. */
static void
test_rr_topics(void)
{
	unsigned all = SIM_TMPL_ID | SIM_TMPL_N | SIM_TMPL_GROUP | SIM_TMPL_METHOD | SIM_TMPL_RID |
	    SIM_TMPL_STATUS;
	struct sim_tmpl_vals v = { .id = "dev-7", .n = 7, .group = "g" };
	struct sim_tmpl_caps c;
	struct sim_tmpl *req, *res;
	const char *topic;
	char *f;

	CU_ASSERT_EQUAL_FATAL(sim_tmpl_compile("devices/{id}/methods/POST/{method}/?$rid={rid}", all,
	    &req, NULL, 0, NULL), SIM_OK);
	CU_ASSERT_EQUAL_FATAL(sim_tmpl_compile("devices/{id}/methods/res/{status}/?$rid={rid}", all,
	    &res, NULL, 0, NULL), SIM_OK);
	f = sim_tmpl_filter(req, &v, SIM_TMPL_METHOD | SIM_TMPL_RID);
	CU_ASSERT_STRING_EQUAL(f, "devices/dev-7/methods/POST/+/+");
	free(f);
	f = sim_tmpl_filter(res, &v, SIM_TMPL_ID | SIM_TMPL_STATUS | SIM_TMPL_RID);
	CU_ASSERT_STRING_EQUAL(f, "devices/+/methods/res/+/+");
	free(f);

	topic = "devices/dev-7/methods/POST/setpoint/?$rid=00000001000000a2";
	CU_ASSERT_FATAL(sim_tmpl_match(req, &v, topic, strlen(topic), &c));
	CU_ASSERT_EQUAL(c.method_len, 8);
	CU_ASSERT_NSTRING_EQUAL(topic + c.method_off, "setpoint", 8);
	CU_ASSERT_EQUAL(c.rid_len, 16);
	CU_ASSERT_NSTRING_EQUAL(topic + c.rid_off, "00000001000000a2", 16);
	CU_ASSERT_EQUAL(c.status_len, 0);
	/* Another device's topic, a missing level, an empty capture. */
	topic = "devices/dev-8/methods/POST/setpoint/?$rid=1";
	CU_ASSERT(!sim_tmpl_match(req, &v, topic, strlen(topic), &c));
	topic = "devices/dev-7/methods/POST/?$rid=1";
	CU_ASSERT(!sim_tmpl_match(req, &v, topic, strlen(topic), &c));
	topic = "devices/dev-7/methods/POST/setpoint/?$rid=";
	CU_ASSERT(!sim_tmpl_match(req, &v, topic, strlen(topic), &c));

	v.status = "200";
	v.rid = "ab";
	topic = "devices/dev-7/methods/res/200/?$rid=ab";
	CU_ASSERT(sim_tmpl_match(res, &v, topic, strlen(topic), &c));
	CU_ASSERT_NSTRING_EQUAL(topic + c.status_off, "200", 3);
	sim_tmpl_free(req);
	sim_tmpl_free(res);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "render variables", test_render_vars },
		{ "render zero padding", test_render_padding },
		{ "render literal braces", test_render_braces },
		{ "render truncates like snprintf", test_render_truncates },
		{ "subscription filter", test_filter },
		{ "request-response topics", test_rr_topics },
		{ "errors with offsets", test_errors },
		{ "null arguments", test_null_args },
		{ NULL, NULL },
	};

	return fs_test_main("template", tests);
}
