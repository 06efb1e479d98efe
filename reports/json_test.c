#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_test.h"
#include "rpt_test.h"
#include "json.h"

static char *
dump(const struct rpt_json *j, int indent)
{
	char *s = NULL;

	CU_ASSERT_EQUAL_FATAL(rpt_json_dump(j, indent, &s), RPT_OK);
	return s;
}

/* Parses text, expecting failure with exactly the message want. */
static void
check_error(const char *text, const char *want)
{
	struct rpt_json *j = (struct rpt_json *)1;
	char err[256] = "";
	enum rpt_err rc = rpt_json_parse(text, strlen(text), &j, err, sizeof(err));

	CU_ASSERT_EQUAL(rc, RPT_ERR_PARSE);
	CU_ASSERT_PTR_NULL(j);
	CU_ASSERT_STRING_EQUAL(err, want);
	if (strcmp(err, want) != 0)
		fprintf(stderr, "\n  parse(%s): got \"%s\", want \"%s\"\n", text, err, want);
}

static void
check_dump(const struct rpt_json *j, int indent, const char *want)
{
	char *s = dump(j, indent);

	CU_ASSERT_STRING_EQUAL(s, want);
	if (strcmp(s, want) != 0)
		fprintf(stderr, "\n  dump: got %s, want %s\n", s, want);
	free(s);
}

/* Parses text and checks that compact output is want. */
static void
check_reformat(const char *text, const char *want)
{
	struct rpt_json *j = rt_parse(text);

	check_dump(j, 0, want);
	rpt_json_free(j);
}

static void
test_build_and_dump(void)
{
	struct rpt_json *o = rpt_json_object(), *a = rpt_json_array(), *inner;

	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_EQUAL(rpt_json_set_str(o, "name", "smoke"), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_set_num(o, "devices", 1000), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_set_bool(o, "ok", true), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_push(a, rpt_json_number(1.5)), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_push(a, rpt_json_null()), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_push(a, rpt_json_object()), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_push(a, rpt_json_array()), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_set(o, "list", a), RPT_OK);
	check_dump(o, 0, "{\"name\":\"smoke\",\"devices\":1000,\"ok\":true,\"list\":[1.5,null,{},[]]}");
	check_dump(o, 2,
	    "{\n"
	    "  \"name\": \"smoke\",\n"
	    "  \"devices\": 1000,\n"
	    "  \"ok\": true,\n"
	    "  \"list\": [\n"
	    "    1.5,\n"
	    "    null,\n"
	    "    {},\n"
	    "    []\n"
	    "  ]\n"
	    "}");

	/* Setting an existing key replaces in place; order is kept. */
	CU_ASSERT_EQUAL(rpt_json_set_num(o, "devices", 5), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_len(o), 4);
	CU_ASSERT_STRING_EQUAL(rpt_json_key_at(o, 1), "devices");
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_at(o, 1)), 5);
	CU_ASSERT_PTR_NULL(rpt_json_key_at(o, 4));
	CU_ASSERT_PTR_NULL(rpt_json_key_at(a, 0));

	/* Accessors on the wrong type answer neutrally. */
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_get(o, "name")), 0);
	CU_ASSERT_PTR_NULL(rpt_json_str(rpt_json_get(o, "devices")));
	CU_ASSERT_FALSE(rpt_json_truthy(rpt_json_get(o, "devices")));
	CU_ASSERT_TRUE(rpt_json_truthy(rpt_json_get(o, "ok")));
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(o, "name")), 0);
	CU_ASSERT_EQUAL(rpt_json_type(rpt_json_get(o, "nope")), RPT_JSON_NULL);
	CU_ASSERT_PTR_NULL(rpt_json_get(a, "x"));

	/* Misuse frees the value (ASan would see a leak otherwise). */
	CU_ASSERT_EQUAL(rpt_json_set(a, "k", rpt_json_number(1)), RPT_ERR_INVAL);
	CU_ASSERT_EQUAL(rpt_json_push(o, rpt_json_number(1)), RPT_ERR_INVAL);
	CU_ASSERT_EQUAL(rpt_json_set(o, "k", NULL), RPT_ERR_NOMEM);

	inner = rpt_json_object();
	CU_ASSERT_EQUAL(rpt_json_set_num(inner, "p99", 12.5), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_set(o, "latency_ms", inner), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_path(o, "latency_ms.p99")), 12.5);
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_path(o, "list.0")), 1.5);
	CU_ASSERT_EQUAL(rpt_json_type(rpt_json_path(o, "list.2")), RPT_JSON_OBJECT);
	CU_ASSERT_PTR_NULL(rpt_json_path(o, "list.4"));
	CU_ASSERT_PTR_NULL(rpt_json_path(o, "list.x"));
	CU_ASSERT_PTR_NULL(rpt_json_path(o, "latency_ms.p50"));
	CU_ASSERT_PTR_NULL(rpt_json_path(o, "latency_ms..p99"));
	CU_ASSERT_PTR_NULL(rpt_json_path(o, "latency_ms.p99."));
	CU_ASSERT_PTR_NULL(rpt_json_path(o, "name.x"));
	CU_ASSERT_PTR_NULL(rpt_json_path(o, ""));
	rpt_json_free(o);
}

static void
test_numbers(void)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{ 0, "0" }, { -0.0, "0" }, { 1, "1" }, { -42, "-42" }, { 1.5, "1.5" },
		{ 0.1, "0.1" }, { 1.0 / 3, "0.3333333333333333" }, { 1e300, "1e+300" },
		{ 9007199254740992.0, "9007199254740992" },
		{ -9007199254740992.0, "-9007199254740992" },
		{ 9007199254740994.0, "9007199254740994" },
		{ 1e20, "1e+20" }, { 5e-324, "4.94065645841247e-324" }, { 123.456, "123.456" },
		{ NAN, "null" }, { INFINITY, "null" }, { -INFINITY, "null" },
	};
	struct rpt_json *j, *back;
	uint64_t x = 0x9e3779b97f4a7c15ULL, bits;
	size_t i;
	double v;
	char *s;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		j = rpt_json_number(cases[i].v);
		check_dump(j, 0, cases[i].want);
		rpt_json_free(j);
	}

	/* Any finite double survives a trip through text, bit for bit. */
	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		bits = i % 2 ? x : x % 100000;
		if (i % 2) {
			memcpy(&v, &bits, sizeof(v));
		} else {
			v = (double)bits / 1000;
		}
		if (!isfinite(v) || v == 0)
			continue;
		j = rpt_json_number(v);
		s = dump(j, 0);
		back = rt_parse(s);
		CU_ASSERT_EQUAL(rpt_json_type(back), RPT_JSON_NUMBER);
		CU_ASSERT_EQUAL(memcmp(&(double){ rpt_json_num(back) }, &v, sizeof(v)), 0);
		free(s);
		rpt_json_free(j);
		rpt_json_free(back);
	}

	check_reformat("[-0, 0.5e1, 1E2, -1.25e-2, 1e-400]", "[0,5,100,-0.0125,0]");
	check_error("1e400", "1:1: number out of range");
}

static void
test_strings(void)
{
	struct rpt_json *j;
	char *s;

	/* Escapes on output; UTF-8 and DEL pass through. */
	j = rpt_json_string("q\" b\\ n\n t\t r\r \x01\x1f \x7f \xc3\xa9 /");
	check_dump(j, 0, "\"q\\\" b\\\\ n\\n t\\t r\\r \\u0001\\u001f \x7f \xc3\xa9 /\"");
	rpt_json_free(j);

	/* Invalid UTF-8 is replaced, so the output is always valid JSON. */
	j = rpt_json_string("a\xff" "b\xc3" "c\xed\xa0\x80");
	check_dump(j, 0, "\"a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	rpt_json_free(j);

	/* Embedded NUL survives, via stringn and \u0000. */
	j = rpt_json_stringn("a\0b", 3);
	check_dump(j, 0, "\"a\\u0000b\"");
	rpt_json_free(j);
	check_reformat("\"a\\u0000b\"", "\"a\\u0000b\"");

	/* \u escapes, surrogate pairs included, become UTF-8. */
	j = rt_parse("\"\\u00e9\\u20AC\\ud83d\\ude00\\/\\b\\f\"");
	CU_ASSERT_STRING_EQUAL(rpt_json_str(j), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/\b\f");
	rpt_json_free(j);
	j = rt_parse("\"\xf0\x9f\x98\x80 \xe2\x82\xac\"");
	CU_ASSERT_STRING_EQUAL(rpt_json_str(j), "\xf0\x9f\x98\x80 \xe2\x82\xac");
	s = dump(j, 0);
	CU_ASSERT_STRING_EQUAL(s, "\"\xf0\x9f\x98\x80 \xe2\x82\xac\"");
	free(s);
	rpt_json_free(j);

	/* Keys escape like values. */
	check_reformat("{\"a\\\"b\\n\":1}", "{\"a\\\"b\\n\":1}");
}

static void
test_parse_values(void)
{
	struct rpt_json *j;
	char err[64];

	check_reformat(" \t\r\n{ \"a\" : [ 1 , true , false , null , \"x\" ] , \"b\" : { } } \n",
	    "{\"a\":[1,true,false,null,\"x\"],\"b\":{}}");
	check_reformat("3", "3");
	check_reformat("\"\"", "\"\"");
	check_reformat("[]", "[]");

	/* The length bounds the input: nothing past it is read. */
	CU_ASSERT_EQUAL(rpt_json_parse("[1]xyz", 3, &j, err, sizeof(err)), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_len(j), 1);
	rpt_json_free(j);
	CU_ASSERT_EQUAL(rpt_json_parse("[1, 2]", 4, &j, err, sizeof(err)), RPT_ERR_PARSE);
	CU_ASSERT_STRING_EQUAL(err, "1:5: expected a value, found end of input");

	/* A NULL err buffer is fine. */
	CU_ASSERT_EQUAL(rpt_json_parse("[", 1, &j, NULL, 0), RPT_ERR_PARSE);
	CU_ASSERT_PTR_NULL(j);
	CU_ASSERT_EQUAL(rpt_json_parse("1", 1, NULL, NULL, 0), RPT_ERR_INVAL);
}

static void
test_parse_errors(void)
{
	check_error("", "1:1: expected a value, found end of input");
	check_error("   ", "1:4: expected a value, found end of input");
	check_error("{\"a\": 1,\n  \"b\" 2}", "2:7: expected ':' after a key, found '2'");
	check_error("[1, 2,]", "1:7: expected a value (object, array, string, number, true, "
	    "false or null), found ']'");
	check_error("{\"a\":1,}", "1:8: expected a string key, found '}'");
	check_error("{a:1}", "1:2: expected a string key, found 'a'");
	check_error("[1 2]", "1:4: expected ',' or ']' in an array, found '2'");
	check_error("{\"a\":1 \"b\":2}", "1:8: expected ',' or '}' in an object, found '\"'");
	check_error("{\"a\":1,\"a\":2}", "1:8: duplicate key");
	check_error("[1]\n\n  x", "3:3: expected end of input after the value, found 'x'");
	check_error("{} {}", "1:4: expected end of input after the value, found '{'");
	check_error("tru", "1:1: expected a value (object, array, string, number, true, "
	    "false or null), found 't'");
	check_error("nul", "1:1: expected a value (object, array, string, number, true, "
	    "false or null), found 'n'");
	check_error("'a'", "1:1: expected a value (object, array, string, number, true, "
	    "false or null), found '''");
	check_error("01", "1:2: leading zeros are not allowed in numbers");
	check_error("-", "1:2: expected a digit");
	check_error("+1", "1:1: expected a value (object, array, string, number, true, "
	    "false or null), found '+'");
	check_error("1.", "1:3: expected a digit after the decimal point");
	check_error(".5", "1:1: expected a value (object, array, string, number, true, "
	    "false or null), found '.'");
	check_error("1e", "1:3: expected a digit in the exponent");
	check_error("[NaN]", "1:2: expected a value (object, array, string, number, true, "
	    "false or null), found 'N'");
	check_error("\"abc", "1:5: unterminated string");
	check_error("\"a\nb\"", "1:3: control character 0x0a in a string (escape it)");
	check_error("\"\\x\"", "1:3: expected an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
	check_error("\"\\u12g4\"", "1:6: expected 4 hex digits after \\u");
	check_error("\"\\ude00\"", "1:2: lone low surrogate \\ude00");
	check_error("\"\\ud83d\"", "1:8: expected \\u and a low surrogate after \\ud83d");
	check_error("\"\\ud83dx\"", "1:8: expected \\u and a low surrogate after \\ud83d");
	check_error("\"\\ud83d\\u0041\"", "1:8: expected a low surrogate (\\udc00-\\udfff) "
	    "after \\ud83d");
	check_error("\"\xff\"", "1:2: invalid UTF-8 in a string");
	check_error("\"\xc0\xaf\"", "1:2: invalid UTF-8 in a string");       /* overlong */
	check_error("\"\xed\xa0\x80\"", "1:2: invalid UTF-8 in a string");   /* surrogate */
	check_error("\"\xf4\x90\x80\x80\"", "1:2: invalid UTF-8 in a string"); /* > U+10FFFF */
	check_error("\"\xe2\x82\"", "1:2: invalid UTF-8 in a string");       /* truncated */
	check_error("[\xef\xbb\xbf]", "1:2: expected a value (object, array, string, number, "
	    "true, false or null), found byte 0xef");
}

static void
test_depth(void)
{
	char text[2 * 258 + 1], err[128];
	struct rpt_json *j;
	int i;

	for (i = 0; i < 256; i++) {
		text[i] = '[';
		text[256 + i] = ']';
	}
	text[512] = '\0';
	CU_ASSERT_EQUAL(rpt_json_parse(text, 512, &j, err, sizeof(err)), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_len(j), 1);
	rpt_json_free(j);

	for (i = 0; i < 257; i++) {
		text[i] = '[';
		text[257 + i] = ']';
	}
	CU_ASSERT_EQUAL(rpt_json_parse(text, 514, &j, err, sizeof(err)), RPT_ERR_PARSE);
	CU_ASSERT_STRING_EQUAL(err, "1:257: nesting deeper than 256");

	/* Objects count as well, and a deep bomb fails fast without recursion
	 * past the limit. */
	{
		size_t n = 100000, k;
		char *bomb = malloc(n * 5);

		CU_ASSERT_PTR_NOT_NULL_FATAL(bomb);
		for (k = 0; k < n; k++)
			memcpy(bomb + 5 * k, "{\"a\":", 5);
		CU_ASSERT_EQUAL(rpt_json_parse(bomb, n * 5, &j, err, sizeof(err)), RPT_ERR_PARSE);
		CU_ASSERT_STRING_EQUAL(err, "1:1281: nesting deeper than 256");
		free(bomb);
	}
}

static void
test_round_trip(void)
{
	static const char *docs[] = {
		"{\"scenario\":\"smoke\",\"seed\":1,\"patterns\":{\"telemetry\":{\"sent\":12000,"
		"\"latency_ms\":{\"count\":11990,\"p50\":3.25,\"p99\":17.5}}},"
		"\"errors\":[],\"pass\":true,\"note\":null}",
		"[[[[]]],{\"\":{\"\":\"\"}},-1.5e-07,\"\\u001b[0m\\t\xe6\x97\xa5\"]",
	};
	struct rpt_json *j, *back;
	char *compact, *pretty, *again;
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		j = rt_parse(docs[i]);
		compact = dump(j, 0);
		CU_ASSERT_STRING_EQUAL(compact, docs[i]);
		pretty = dump(j, 4);
		back = rt_parse(pretty);
		again = dump(back, 0);
		CU_ASSERT_STRING_EQUAL(again, docs[i]);
		free(compact);
		free(pretty);
		free(again);
		rpt_json_free(j);
		rpt_json_free(back);
	}
}

static void
test_files(void)
{
	char dir[] = "/tmp/rpt_json_testXXXXXX", path[128], tmp[160], err[256];
	struct rpt_json *j, *back;
	char *a, *b;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/report.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	j = rt_parse("{\"a\":[1,2,{\"b\":\"c\"}],\"d\":0.25}");
	CU_ASSERT_EQUAL(rpt_json_write_file(path, j, 2), RPT_OK);
	CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);
	CU_ASSERT_EQUAL(rpt_json_parse_file(path, &back, err, sizeof(err)), RPT_OK);
	a = dump(j, 0);
	b = dump(back, 0);
	CU_ASSERT_STRING_EQUAL(a, b);
	free(a);
	free(b);
	rpt_json_free(back);

	/* Overwriting replaces the whole file. */
	rpt_json_free(j);
	j = rt_parse("[]");
	CU_ASSERT_EQUAL(rpt_json_write_file(path, j, 0), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_parse_file(path, &back, err, sizeof(err)), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_type(back), RPT_JSON_ARRAY);
	rpt_json_free(back);
	rpt_json_free(j);

	/* Parse errors name the file. */
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("{\n  \"a\": tru\n}\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(rpt_json_parse_file(path, &back, err, sizeof(err)), RPT_ERR_PARSE);
	CU_ASSERT_PTR_NULL(back);
	snprintf(tmp, sizeof(tmp), "%s:2:8: expected a value", path);
	CU_ASSERT_EQUAL(strncmp(err, tmp, strlen(tmp)), 0);

	unlink(path);
	CU_ASSERT_EQUAL(rpt_json_parse_file(path, &back, err, sizeof(err)), RPT_ERR_IO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "report.json"));

	/* An unwritable place fails without leaving anything behind. */
	j = rpt_json_null();
	snprintf(path, sizeof(path), "%s/missing/report.json", dir);
	CU_ASSERT_EQUAL(rpt_json_write_file(path, j, 0), RPT_ERR_IO);
	rpt_json_free(j);
	CU_ASSERT_EQUAL(rmdir(dir), 0);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "build, access and dump", test_build_and_dump },
		{ "numbers", test_numbers },
		{ "strings and escapes", test_strings },
		{ "parsing values", test_parse_values },
		{ "parse errors with line:column", test_parse_errors },
		{ "nesting limit", test_depth },
		{ "round trips", test_round_trip },
		{ "files", test_files },
		{ NULL, NULL },
	};

	return fs_test_main("json", tests);
}
