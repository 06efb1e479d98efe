/* Tests for the helpers the payload renderers share: splitting templates,
 * parsing and applying number formats, JSON escaping and snprintf-like
 * truncation. dev_payload_test.c and sim/rr_payload_test.c test them
 * again through the templates. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "dev_fmt.h"
#include "fs_test.h"

static const struct dev_fmt_spec def = { DEV_FMT_DEFAULT, 0 };

/* src as its tokens: literal bytes as they are, a field as <text inside
 * the braces>, an unclosed field as !OPEN-CLOSE, which ends the scan. */
static void
tokens(const char *src, char *buf, size_t cap)
{
	struct dev_fmt_scan sc = { .src = src, .len = strlen(src) };
	struct dev_fmt_out o = { .buf = buf, .cap = cap };
	enum dev_fmt_tok tok;
	char tmp[48];

	while ((tok = dev_fmt_next(&sc)) != DEV_FMT_END) {
		if (tok == DEV_FMT_CHAR) {
			dev_fmt_put(&o, &sc.c, 1);
			continue;
		}
		if (tok == DEV_FMT_UNCLOSED) {
			snprintf(tmp, sizeof(tmp), "!%zu-%zu", sc.open, sc.close);
			dev_fmt_put(&o, tmp, strlen(tmp));
			break;
		}
		CU_ASSERT_EQUAL(src[sc.open], '{');
		CU_ASSERT_EQUAL(src[sc.close], '}');
		dev_fmt_put(&o, "<", 1);
		dev_fmt_put(&o, src + sc.open + 1, sc.close - sc.open - 1);
		dev_fmt_put(&o, ">", 1);
	}
	dev_fmt_end(&o);
}

static void
check_tokens(const char *src, const char *want)
{
	char buf[256];

	tokens(src, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fprintf(stderr, "\n      '%s': got '%s', want '%s'\n", src, buf, want);
	CU_ASSERT_STRING_EQUAL(buf, want);
}

static void
test_scan(void)
{
	check_tokens("", "");
	check_tokens("plain", "plain");
	check_tokens("{\"a\": {x}, \"b\": {y.z:.2f}}", "{\"a\": <x>, \"b\": <y.z:.2f>}");
	/* Only a letter after '{' starts a field. */
	check_tokens("{1}{-x}{_y}{\"q\"}{ a}", "{1}{-x}{_y}{\"q\"}{ a}");
	check_tokens("{", "{");
	check_tokens("x{", "x{");
	check_tokens("}", "}");
	/* "{{" is a brace; "}}" is one only where it closes a "{{". */
	check_tokens("}}", "}}");
	check_tokens("{{x}}", "{x}");
	check_tokens("{{{n}}}", "{<n>}");
	check_tokens("{{{{", "{{");
	check_tokens("{{x}}}}", "{x}}}");
	check_tokens("{\"a\": {\"b\": {c}}}", "{\"a\": {\"b\": <c>}}");
	check_tokens("{{\"a\": {\"b\": 1}}}", "{\"a\": {\"b\": 1}}");
	/* Unclosed: the end, '{', '"' or a newline before the '}'. */
	check_tokens("ab{cd", "ab!2-5");
	check_tokens("{a{b}", "!0-2");
	check_tokens("x \"{a\"}", "x \"!3-5");
	check_tokens("{a\n}", "!0-2");
	check_tokens("{{ {id", "{ !3-6");
}

static void
check_parse(const char *s, int ok, enum dev_fmt_kind kind, unsigned prec)
{
	struct dev_fmt_spec f = def;
	int rv = dev_fmt_parse(&f, s, strlen(s));

	if (rv != (ok ? 0 : -1))
		fprintf(stderr, "\n      '%s': got %d\n", s, rv);
	CU_ASSERT_EQUAL(rv, ok ? 0 : -1);
	if (ok) {
		CU_ASSERT_EQUAL(f.kind, kind);
		CU_ASSERT_EQUAL(f.prec, prec);
	}
}

static void
test_parse(void)
{
	char s[4];

	check_parse("d", 1, DEV_FMT_ROUND, 0);
	for (unsigned n = 0; n <= 9; n++) {
		snprintf(s, sizeof(s), ".%uf", n);
		check_parse(s, 1, DEV_FMT_FIXED, n);
		snprintf(s, sizeof(s), ".%ue", n);
		check_parse(s, 1, DEV_FMT_EXP, n);
	}
	check_parse("", 0, 0, 0);
	check_parse("x", 0, 0, 0);
	check_parse(".f", 0, 0, 0);
	check_parse(".10f", 0, 0, 0);
	check_parse(".2g", 0, 0, 0);
	check_parse(".2F", 0, 0, 0);
	check_parse("2f", 0, 0, 0);
	check_parse("05", 0, 0, 0);
	check_parse("dd", 0, 0, 0);
	check_parse(" d", 0, 0, 0);
	/* The length counts, not a NUL: "d" is the first byte of "dx". */
	{
		struct dev_fmt_spec f = def;

		CU_ASSERT_EQUAL(dev_fmt_parse(&f, "dx", 1), 0);
		CU_ASSERT_EQUAL(f.kind, DEV_FMT_ROUND);
	}
}

/* One output at a time: fresh() starts it, expect() checks it. */
static char out_buf[512];
static struct dev_fmt_out out;

static struct dev_fmt_out *
fresh(void)
{
	out = (struct dev_fmt_out){ .buf = out_buf, .cap = sizeof(out_buf) };
	return &out;
}

static void
expect(const char *want)
{
	size_t n = dev_fmt_end(&out);

	if (strcmp(out_buf, want) != 0)
		fprintf(stderr, "\n      got '%s', want '%s'\n", out_buf, want);
	CU_ASSERT_STRING_EQUAL(out_buf, want);
	CU_ASSERT_EQUAL(n, strlen(want));
}

static void
test_num(void)
{
	struct dev_fmt_spec f2 = { DEV_FMT_FIXED, 2 }, f0 = { DEV_FMT_FIXED, 0 },
	    f9 = { DEV_FMT_FIXED, 9 }, e1 = { DEV_FMT_EXP, 1 }, e3 = { DEV_FMT_EXP, 3 },
	    d = { DEV_FMT_ROUND, 0 };

	dev_fmt_put_num(fresh(), 21.5, &def);
	expect("21.5");
	dev_fmt_put_num(fresh(), 1234567.891, &def);
	expect("1.23457e+06");
	dev_fmt_put_num(fresh(), 1e-7, &def);
	expect("1e-07");
	dev_fmt_put_num(fresh(), 21.5, &f2);
	expect("21.50");
	dev_fmt_put_num(fresh(), -0.25, &f2);
	expect("-0.25");
	dev_fmt_put_num(fresh(), 1234567.891, &f0);
	expect("1234568");
	dev_fmt_put_num(fresh(), 1234567.891, &f9);
	expect("1234567.891000000");
	dev_fmt_put_num(fresh(), 21.5, &e1);
	expect("2.2e+01");
	dev_fmt_put_num(fresh(), 1234567.891, &e3);
	expect("1.235e+06");
	/* d rounds half away from zero... */
	dev_fmt_put_num(fresh(), 2.5, &d);
	expect("3");
	dev_fmt_put_num(fresh(), -2.5, &d);
	expect("-3");
	dev_fmt_put_num(fresh(), 1234567.891, &d);
	expect("1234568");
	/* ...and what rounds to -0 prints 0, not "-0". */
	dev_fmt_put_num(fresh(), -0.4, &d);
	expect("0");
	dev_fmt_put_num(fresh(), -0.001, &d);
	expect("0");
	dev_fmt_put_num(fresh(), -0.0, &d);
	expect("0");
	/* The widest number fits in whole. */
	{
		char want[400];

		snprintf(want, sizeof(want), "%.9f", -DBL_MAX);
		dev_fmt_put_num(fresh(), -DBL_MAX, &f9);
		expect(want);
	}
}

static void
test_nonfinite(void)
{
	const struct dev_fmt_spec specs[] = {
		def, { DEV_FMT_FIXED, 2 }, { DEV_FMT_EXP, 1 }, { DEV_FMT_ROUND, 0 },
	};

	/* JSON has no NaN or infinity: a dropout is null in every format. */
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		dev_fmt_put_num(fresh(), NAN, &specs[i]);
		expect("null");
		dev_fmt_put_num(fresh(), INFINITY, &specs[i]);
		expect("null");
		dev_fmt_put_num(fresh(), -INFINITY, &specs[i]);
		expect("null");
	}
}

static void
test_ints(void)
{
	struct dev_fmt_spec f1 = { DEV_FMT_FIXED, 1 }, e1 = { DEV_FMT_EXP, 1 },
	    d = { DEV_FMT_ROUND, 0 };

	/* Exact by default, the widest values too. */
	dev_fmt_put_int(fresh(), 0, &def);
	expect("0");
	dev_fmt_put_int(fresh(), -1, &def);
	expect("-1");
	dev_fmt_put_int(fresh(), INT64_MAX, &def);
	expect("9223372036854775807");
	dev_fmt_put_int(fresh(), INT64_MIN, &def);
	expect("-9223372036854775808");
	dev_fmt_put_uint(fresh(), 0, &def);
	expect("0");
	dev_fmt_put_uint(fresh(), UINT64_MAX, &def);
	expect("18446744073709551615");
	/* With a format, as the double. */
	dev_fmt_put_int(fresh(), -3, &f1);
	expect("-3.0");
	dev_fmt_put_int(fresh(), 12345, &e1);
	expect("1.2e+04");
	dev_fmt_put_int(fresh(), 42, &d);
	expect("42");
	dev_fmt_put_uint(fresh(), 7, &f1);
	expect("7.0");
	dev_fmt_put_uint(fresh(), 42, &e1);
	expect("4.2e+01");
	dev_fmt_put_uint(fresh(), UINT64_MAX, &e1);
	expect("1.8e+19");
}

static void
test_escape(void)
{
	static const char nul[] = "a\0b";

	dev_fmt_put_str(fresh(), "plain");
	expect("plain");
	dev_fmt_put_str(fresh(), "");
	expect("");
	dev_fmt_put_str(fresh(), NULL);
	expect("");
	/* Quotes and backslashes get a backslash, a newline is \n, other
	 * control characters \u00XX. */
	dev_fmt_put_str(fresh(), "say \"hi\" \\");
	expect("say \\\"hi\\\" \\\\");
	dev_fmt_put_str(fresh(), "a\nb");
	expect("a\\nb");
	dev_fmt_put_str(fresh(), "\x01\t\r\x1f");
	expect("\\u0001\\u0009\\u000d\\u001f");
	/* DEL and UTF-8 are not escaped. */
	dev_fmt_put_str(fresh(), "\x7f h\xc3\xa9");
	expect("\x7f h\xc3\xa9");
	/* With a length, a NUL is just another control character. */
	dev_fmt_put_escaped(fresh(), nul, 3);
	expect("a\\u0000b");
	dev_fmt_put_escaped(fresh(), "ab", 1);
	expect("a");
	dev_fmt_put_escaped(fresh(), "ab", 0);
	expect("");
}

/* Writes a mix of everything into buf[0..cap). */
static size_t
write_mix(char *buf, size_t cap)
{
	struct dev_fmt_out o = { .buf = buf, .cap = cap };
	struct dev_fmt_spec f3 = { DEV_FMT_FIXED, 3 };

	dev_fmt_put(&o, "{\"id\": \"", 8);
	dev_fmt_put_str(&o, "a\"b\n");
	dev_fmt_put(&o, "\", \"v\": ", 8);
	dev_fmt_put_num(&o, 1.5, &f3);
	dev_fmt_put(&o, ", \"n\": ", 7);
	dev_fmt_put_int(&o, -123456, &def);
	dev_fmt_put(&o, "}", 1);
	return dev_fmt_end(&o);
}

static void
test_truncation(void)
{
	const char *full = "{\"id\": \"a\\\"b\\n\", \"v\": 1.500, \"n\": -123456}";
	size_t want = strlen(full);
	char buf[128], ref[128];

	CU_ASSERT_EQUAL(write_mix(buf, sizeof(buf)), want);
	CU_ASSERT_STRING_EQUAL(buf, full);
	/* Every cut, inside escapes and numbers too, as snprintf cuts. */
	for (size_t cap = 1; cap <= want + 1; cap++) {
		memset(buf, 'x', sizeof(buf));
		snprintf(ref, cap, "%s", full);
		CU_ASSERT_EQUAL(write_mix(buf, cap), want);
		CU_ASSERT_STRING_EQUAL(buf, ref);
		CU_ASSERT_EQUAL(buf[cap], 'x');
	}
	/* Nothing is written with no room, but the length is counted. */
	buf[0] = 'z';
	CU_ASSERT_EQUAL(write_mix(buf, 0), want);
	CU_ASSERT_EQUAL(buf[0], 'z');
	CU_ASSERT_EQUAL(write_mix(NULL, 0), want);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "splitting templates", test_scan },
		{ "parsing formats", test_parse },
		{ "number formats and -0", test_num },
		{ "non-finite numbers are null", test_nonfinite },
		{ "integers exact or formatted", test_ints },
		{ "JSON escaping", test_escape },
		{ "truncation like snprintf", test_truncation },
		{ NULL, NULL },
	};

	return fs_test_main("dev_fmt", tests);
}
