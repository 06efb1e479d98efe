/* Tests for request payload templates: every field, formats, JSON braces,
 * the random fields' range and determinism, truncation, and errors with
 * offsets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "fs_test.h"
#include "rr_payload.h"

#define SEEDS 10000

static struct sim_rr_payload *
compile(const char *src)
{
	struct sim_rr_payload *p = NULL;
	char err[256] = "";
	size_t off = 999;

	if (sim_rr_payload_compile(src, &p, err, sizeof(err), &off) != SIM_OK)
		fprintf(stderr, "\n  '%s': %s at %zu\n", src, err, off);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return p;
}

/* Compiles src, renders it with v and checks the result and length. */
static void
check(const char *src, const struct sim_rr_payload_vals *v, const char *want)
{
	struct sim_rr_payload *p = compile(src);
	char buf[512];
	size_t n = sim_rr_payload_render(p, v, buf, sizeof(buf));

	if (strcmp(buf, want) != 0)
		fprintf(stderr, "\n  '%s': got '%s', want '%s'\n", src, buf, want);
	CU_ASSERT_STRING_EQUAL(buf, want);
	CU_ASSERT_EQUAL(n, strlen(want));
	CU_ASSERT_STRING_EQUAL(sim_rr_payload_source(p), src);
	sim_rr_payload_free(p);
}

static const struct sim_rr_payload_vals dev7 = {
	.id = "sensor-7", .n = 7, .group = "sensors", .method = "setpoint", .seq = 42, .seed = 1,
};

static void
test_fields(void)
{
	struct sim_rr_payload_vals v = dev7;

	check("{\"device\": \"{id}\", \"n\": {n}, \"group\": \"{group}\", \"m\": \"{method}\", \"seq\": {seq}}",
	    &v, "{\"device\": \"sensor-7\", \"n\": 7, \"group\": \"sensors\", \"m\": \"setpoint\", \"seq\": 42}");
	check("{id}{n}{group}{method}{seq}", &v, "sensor-77sensorssetpoint42");
	check("plain", &v, "plain");
	check("", &v, "");
	/* The widest values print whole. */
	v.n = UINT32_MAX;
	v.seq = UINT64_MAX;
	check("{n} {seq}", &v, "4294967295 18446744073709551615");
	v.seq = 0;
	check("{seq}", &v, "0");
	/* Strings are escaped for a JSON string, quotes and backslashes
	 * included; control characters become \u00XX. */
	v.id = "a\"b\\c";
	v.group = "tab\there";
	v.method = "";
	check("\"{id}\"|{group}|{method}|", &v, "\"a\\\"b\\\\c\"|tab\\u0009here||");
	/* Missing strings and missing vals render as empty. */
	v = (struct sim_rr_payload_vals){ .n = 3 };
	check("[{id}|{group}|{method}|{n}]", &v, "[|||3]");
	check("[{id}|{n}|{seq}]", NULL, "[|0|0]");
}

/* {tx.n} is {seq} under the name a two-phase commit's change uses: the
 * same value, the same formats. */
static void
test_tx_n(void)
{
	struct sim_rr_payload_vals v = dev7;

	check("{\"tx\": {tx.n}}", &v, "{\"tx\": 42}");
	check("{\"key_slot\": {tx.n}, \"seq\": {seq}}", &v, "{\"key_slot\": 42, \"seq\": 42}");
	check("{tx.n:.2f}|{tx.n:d}", &v, "42.00|42");
	v.seq = UINT64_MAX;
	check("{tx.n}", &v, "18446744073709551615");
	check("{tx.n}", NULL, "0");
}

static void
test_formats(void)
{
	struct sim_rr_payload_vals v = dev7;

	/* Equal bounds make the random fields exact, so formats can be
	 * checked byte for byte. */
	check("{rand.uniform(5,5)}", &v, "5");
	check("{rand.uniform(21.25,21.25)}", &v, "21.25");
	check("{rand.uniform(1234567.5,1234567.5)}", &v, "1.23457e+06");
	check("{rand.uniform(1.5,1.5):.3f}", &v, "1.500");
	check("{rand.uniform(-0.25,-0.25):.1f}", &v, "-0.2");
	check("{rand.uniform(1.5,1.5):.0f}", &v, "2");
	check("{rand.uniform(1.5,1.5):.9f}", &v, "1.500000000");
	check("{rand.uniform(1234.5,1234.5):.2e}", &v, "1.23e+03");
	check("{rand.uniform(2.5,2.5):d}", &v, "3");
	check("{rand.uniform(-2.5,-2.5):d}", &v, "-3");
	check("{rand.uniform(-0.4,-0.4):d}", &v, "0");
	check("{rand.uniform( 3 , 3 ):.1f}", &v, "3.0");
	check("{rand.int(-7,-7)}", &v, "-7");
	check("{rand.int(3,3):.1f}", &v, "3.0");
	check("{rand.int(12345,12345):.1e}", &v, "1.2e+04");
	check("{rand.int(9223372036854775807,9223372036854775807)}", &v, "9223372036854775807");
	check("{rand.int(-9223372036854775808,-9223372036854775808)}", &v,
	    "-9223372036854775808");
	check("{n:.2f} {seq:.1e} {seq:d}", &v, "7.00 4.2e+01 42");
}

static void
test_json_braces(void)
{
	struct sim_rr_payload_vals v = dev7;

	check("{\"a\": {\"b\": {\"c\": {n}}}, \"d\": [{}, { }]}", &v,
	    "{\"a\": {\"b\": {\"c\": 7}}, \"d\": [{}, { }]}");
	check("{ \"x\" : 1 }", &v, "{ \"x\" : 1 }");
	/* Only a letter after '{' starts a field. */
	check("{1}{-x}{_y}{\"id\"}", &v, "{1}{-x}{_y}{\"id\"}");
	check("}", &v, "}");
	check("}}", &v, "}}");
	/* "{{" is a brace; "}}" is one only where it closes a "{{". */
	check("{{id}}", &v, "{id}");
	check("{{{n}}}", &v, "{7}");
	check("{{\"a\": {n}}}", &v, "{\"a\": 7}");
	check("{{\"a\": {\"b\": 1}}}", &v, "{\"a\": {\"b\": 1}}");
	check("{{{{", &v, "{{");
	check("{{x}}}}", &v, "{x}}}");
}

/* The value a render of p gives with seed, parsed back. */
static double
render_num(const struct sim_rr_payload *p, uint64_t seed)
{
	struct sim_rr_payload_vals v = { .seed = seed };
	char buf[64], *end;
	double d;

	CU_ASSERT(sim_rr_payload_render(p, &v, buf, sizeof(buf)) < sizeof(buf));
	d = strtod(buf, &end);
	CU_ASSERT(end != buf && *end == '\0');
	return d;
}

static void
check_uniform(const char *src, double a, double b)
{
	struct sim_rr_payload *p = compile(src);
	double sum = 0, lo = b, hi = a;

	for (uint64_t s = 0; s < SEEDS; s++) {
		double d = render_num(p, s);

		CU_ASSERT(d >= a && d < b);
		sum += d;
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	/* The mean's standard error is (b-a)/sqrt(12 * SEEDS), under 0.3% of
	 * the width: 2% is far outside chance. The draws also fill the range. */
	CU_ASSERT(sum / SEEDS > (a + b) / 2 - (b - a) * 0.02);
	CU_ASSERT(sum / SEEDS < (a + b) / 2 + (b - a) * 0.02);
	CU_ASSERT(lo < a + (b - a) * 0.01);
	CU_ASSERT(hi > b - (b - a) * 0.01);
	sim_rr_payload_free(p);
}

static void
test_uniform_range(void)
{
	check_uniform("{rand.uniform(18,24):.9f}", 18, 24);
	check_uniform("{rand.uniform(-2.5,-1):.9f}", -2.5, -1);
	check_uniform("{rand.uniform(-1000, 1000.125)}", -1000, 1000.125);
	check_uniform("{rand.uniform(0,0.001):.9e}", 0, 0.001);
}

static void
test_int_range(void)
{
	struct sim_rr_payload *p = compile("{rand.int(-3,3)}");
	unsigned hits[7] = { 0 };
	double sum = 0;

	for (uint64_t s = 0; s < SEEDS; s++) {
		double d = render_num(p, s);

		CU_ASSERT_FATAL(d >= -3 && d <= 3 && d == (int)d);
		hits[(int)d + 3]++;
		sum += d;
	}
	/* Both bounds are reached, and every value about as often. */
	for (int i = 0; i < 7; i++)
		CU_ASSERT(hits[i] > SEEDS / 7 * 9 / 10 && hits[i] < SEEDS / 7 * 11 / 10);
	CU_ASSERT(sum / SEEDS > -0.1 && sum / SEEDS < 0.1);
	sim_rr_payload_free(p);

	p = compile("{rand.int(0,1)}");
	hits[0] = hits[1] = 0;
	for (uint64_t s = 0; s < SEEDS; s++)
		hits[(int)render_num(p, s)]++;
	CU_ASSERT(hits[0] > 0 && hits[1] > 0);
	sim_rr_payload_free(p);

	/* The whole int64 range, where the span wraps to 0. */
	p = compile("{rand.int(-9223372036854775808, 9223372036854775807)}");
	{
		struct sim_rr_payload_vals v = { .seed = 5 };
		char buf[32];
		size_t n = sim_rr_payload_render(p, &v, buf, sizeof(buf));

		CU_ASSERT(n > 0 && n < sizeof(buf));
	}
	sim_rr_payload_free(p);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
test_determinism(void)
{
	const char *src = "{\"a\": {rand.uniform(0,1):.9f}, \"b\": {rand.int(0,1000000000)}, \"c\": {rand.int(0,1000000000)}}";
	struct sim_rr_payload *p = compile(src), *q = compile(src);
	struct sim_rr_payload_vals v = dev7;
	char b1[256], b2[256], b3[256];
	long x, y;
	static double vals[1000];
	size_t distinct = 1;

	/* Same seed, same bytes, from the same or another compile. */
	sim_rr_payload_render(p, &v, b1, sizeof(b1));
	sim_rr_payload_render(p, &v, b2, sizeof(b2));
	CU_ASSERT_STRING_EQUAL(b1, b2);
	sim_rr_payload_render(q, &v, b2, sizeof(b2));
	CU_ASSERT_STRING_EQUAL(b1, b2);
	/* The seed alone decides the draws, not the other values. */
	v.id = "other";
	v.seq = 43;
	sim_rr_payload_render(p, &v, b2, sizeof(b2));
	CU_ASSERT_STRING_EQUAL(b1, b2);
	/* Another seed, other numbers. */
	v.seed = 2;
	sim_rr_payload_render(p, &v, b3, sizeof(b3));
	CU_ASSERT_STRING_NOT_EQUAL(b1, b3);
	/* Two fields in one template draw different numbers. */
	CU_ASSERT_EQUAL_FATAL(sscanf(b1, "{\"a\": %*f, \"b\": %ld, \"c\": %ld}", &x, &y), 2);
	CU_ASSERT_NOT_EQUAL(x, y);
	sim_rr_payload_free(p);
	sim_rr_payload_free(q);

	/* Consecutive seeds, as request numbers are, give distinct values. */
	p = compile("{rand.uniform(0,1):.9f}");
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		vals[i] = render_num(p, i);
	qsort(vals, sizeof(vals) / sizeof(vals[0]), sizeof(vals[0]), cmp_double);
	for (size_t i = 1; i < sizeof(vals) / sizeof(vals[0]); i++)
		distinct += vals[i] != vals[i - 1];
	CU_ASSERT(distinct >= 999);
	sim_rr_payload_free(p);
}

static void
test_truncates(void)
{
	struct sim_rr_payload *p = compile("{\"n\": {n}, \"id\": \"{id}\"}");
	struct sim_rr_payload_vals v = dev7;
	const char *full = "{\"n\": 7, \"id\": \"sensor-7\"}";
	size_t want = strlen(full);
	char buf[64];

	for (size_t cap = 1; cap <= want + 1; cap++) {
		memset(buf, 'x', sizeof(buf));
		CU_ASSERT_EQUAL(sim_rr_payload_render(p, &v, buf, cap), want);
		/* The first cap - 1 bytes, then the NUL, and nothing past cap. */
		CU_ASSERT_EQUAL(strlen(buf), cap - 1);
		CU_ASSERT_NSTRING_EQUAL(buf, full, cap - 1);
		CU_ASSERT_EQUAL(buf[cap], 'x');
	}
	/* A zero-length buffer is not touched, but the length is counted. */
	buf[0] = 'z';
	CU_ASSERT_EQUAL(sim_rr_payload_render(p, &v, buf, 0), want);
	CU_ASSERT_EQUAL(buf[0], 'z');
	CU_ASSERT_EQUAL(sim_rr_payload_render(p, &v, NULL, 0), want);
	sim_rr_payload_free(p);

	/* A cut inside an escape or a number still counts it whole. */
	p = compile("{id}{rand.uniform(1.5,1.5):.3f}");
	v.id = "\"";
	CU_ASSERT_EQUAL(sim_rr_payload_render(p, &v, buf, 2), 7);
	CU_ASSERT_STRING_EQUAL(buf, "\\");
	CU_ASSERT_EQUAL(sim_rr_payload_render(p, &v, buf, 5), 7);
	CU_ASSERT_STRING_EQUAL(buf, "\\\"1.");
	sim_rr_payload_free(p);
}

/* Compiles a bad template and checks the message and the offset. */
static void
check_error(const char *src, size_t want_off, const char *want_msg)
{
	struct sim_rr_payload *p = (struct sim_rr_payload *)&p;
	char err[256] = "";
	size_t off = 999;

	CU_ASSERT_EQUAL(sim_rr_payload_compile(src, &p, err, sizeof(err), &off), SIM_ERR_SCENARIO);
	CU_ASSERT_PTR_NULL(p);
	if (off != want_off || strstr(err, want_msg) == NULL)
		fprintf(stderr, "\n  '%s': got %zu '%s', want %zu '%s'\n", src, off, err, want_off,
		    want_msg);
	CU_ASSERT_EQUAL(off, want_off);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want_msg));
}

static void
test_errors(void)
{
	/* Unknown fields. */
	check_error("x{rnd.x}", 1,
	    "unknown field {rnd.x}; expected {id}, {n}, {group}, {method}, {seq}, {tx.n}, {rand.uniform(A,B)} or {rand.int(A,B)}");
	check_error("{\"a\": {ID}}", 6, "unknown field {ID}");
	check_error("{id x}", 0, "unknown field {id x}");
	check_error("{n(1,2)}", 0, "unknown field {n(1,2)}");
	check_error("{rand.uniformx(1,2)}", 0, "unknown field {rand.uniformx(1,2)}");
	check_error("{tx.nn}", 0, "unknown field {tx.nn}");
	check_error("{tx}", 0, "unknown field {tx}");
	check_error("{\"k\": {tx.n x}}", 6, "unknown field {tx.n x}");
	/* The offset counts bytes: the é before is two. */
	check_error("h\xc3\xa9llo {bad}", 7, "unknown field {bad}");
	/* Bad arguments. */
	check_error("{\"v\": {rand.uniform(1,2}}", 6, "expected ')' after B in {rand.uniform(A,B)}");
	check_error("{rand.int(1,2 x)}", 0, "expected ')' after B in {rand.int(A,B)}");
	check_error("{rand.uniform}", 0, "expected '(' and bounds, as in {rand.uniform(A,B)}");
	check_error("{rand.int:d}", 0, "expected '(' and bounds, as in {rand.int(A,B)}");
	check_error("{rand.uniform(1 2)}", 0, "expected ',' after A");
	check_error("{rand.uniform(x,2)}", 0, "expected a decimal number for A");
	check_error("{rand.uniform(1,)}", 0, "expected a decimal number for B");
	check_error("{rand.uniform(1.,2)}", 0, "expected a decimal number for A");
	check_error("{rand.uniform(.5,2)}", 0, "expected a decimal number for A");
	check_error("{rand.uniform(1e3,2e3)}", 0, "expected ',' after A");
	check_error("{rand.uniform(+1,2)}", 0, "expected a decimal number for A");
	check_error("{rand.int(a,2)}", 0, "expected an integer for A");
	check_error("{rand.int(1.5,2)}", 0, "expected integers A and B");
	check_error("{rand.int(0,9223372036854775808)}", 0, "must fit in 64 bits");
	check_error("{rand.int(-9223372036854775809,0)}", 0, "must fit in 64 bits");
	check_error("{rand.int(1,2)x}", 0, "expected '}' or ':FORMAT' after ')'");
	/* B < A. */
	check_error("{\"v\": {rand.int(5,4)}}", 6, "expected B >= A in {rand.int(A,B)}");
	check_error("ab {rand.uniform(2.5,-1)}", 3, "expected B >= A in {rand.uniform(A,B)}");
	check_error("{rand.uniform(1.25,1.2)}", 0, "expected B >= A");
	/* Bad formats. */
	check_error("{\"v\": {rand.uniform(1,2):.10f}}", 6,
	    "bad format '.10f' in {rand.uniform(1,2):.10f}; expected .Nf or .Ne with N from 0 to 9, or d");
	check_error("{n:x}", 0, "bad format 'x'");
	check_error("{seq:.f}", 0, "bad format '.f'");
	check_error("{rand.int(1,2):}", 0, "bad format ''");
	check_error("{rand.int(1,2):05}", 0, "bad format '05'");
	check_error("ok {id:.2f}", 3, "{id:.2f} takes no format: it is not a number");
	check_error("{method:d}", 0, "takes no format");
	/* Unclosed fields. */
	check_error("{\"a\": {id", 6, "unclosed field at '{id'; expected '}'");
	check_error("{\"a\": \"{id\"}", 7, "unclosed field");
	check_error("x{rand.int(1,\n2)}", 1, "unclosed field");
	check_error("{n{id}}", 0, "unclosed field");
	check_error("{{ {id", 3, "unclosed field");
}

static void
test_null_args(void)
{
	struct sim_rr_payload *p = NULL;
	char err[64];
	size_t off = 7;

	CU_ASSERT_EQUAL(sim_rr_payload_compile(NULL, &p, err, sizeof(err), &off), SIM_ERR_INVAL);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_EQUAL(sim_rr_payload_compile("{id}", NULL, err, sizeof(err), &off), SIM_ERR_INVAL);
	/* Errors without err or off still fail cleanly. */
	CU_ASSERT_EQUAL(sim_rr_payload_compile("{bad}", &p, NULL, 0, NULL), SIM_ERR_SCENARIO);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_EQUAL(sim_rr_payload_compile("{bad}", &p, err, 1, NULL), SIM_ERR_SCENARIO);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_EQUAL(sim_rr_payload_compile("{id}", &p, NULL, 0, NULL), SIM_OK);
	sim_rr_payload_free(p);
	sim_rr_payload_free(NULL);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "every field", test_fields },
		{ "tx.n is seq", test_tx_n },
		{ "number formats", test_formats },
		{ "JSON braces and {{ }}", test_json_braces },
		{ "rand.uniform within bounds, mean centred", test_uniform_range },
		{ "rand.int reaches both bounds", test_int_range },
		{ "same seed same bytes, draws differ", test_determinism },
		{ "truncates like snprintf", test_truncates },
		{ "errors with offsets", test_errors },
		{ "null arguments", test_null_args },
		{ NULL, NULL },
	};

	return fs_test_main("rr_payload", tests);
}
