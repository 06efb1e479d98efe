#include "junit.h"

#include "buf.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What stands in for anything XML 1.0 cannot carry: U+FFFD keeps the spot
 * visible in a CI viewer, where dropping it would silently change text. */
#define REPLACEMENT "\xEF\xBF\xBD"

#define CHECK_TYPE "fleetsim.check"
#define ASSERT_TYPE "fleetsim.assertion"

/* Decodes one well-formed UTF-8 sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF) from the n bytes at s. Returns its
 * length, or 0 when the bytes are not UTF-8: the document declares UTF-8,
 * and a parser rejects the whole file over one bad byte. */
static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		c = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		c = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3F);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

/* The Char production of XML 1.0: even as a character reference, nothing
 * else may appear in a document. */
static bool
xml_char(uint32_t c)
{
	return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
	    (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* Appends s escaped for XML. In an attribute (attr), tabs and newlines
 * become references too, since attribute-value normalization would turn
 * them into spaces; a CR is a reference everywhere because parsers turn a
 * literal one into LF. */
static void
put_text(struct rpt_buf *b, const char *s, bool attr)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, len;
	uint32_t c;

	while (i < n) {
		switch (u[i]) {
		case '&': rpt_buf_str(b, "&amp;"); i++; continue;
		case '<': rpt_buf_str(b, "&lt;"); i++; continue;
		case '>': rpt_buf_str(b, "&gt;"); i++; continue;
		case '"': rpt_buf_str(b, "&quot;"); i++; continue;
		case '\'': rpt_buf_str(b, "&apos;"); i++; continue;
		case '\r': rpt_buf_str(b, "&#13;"); i++; continue;
		case '\t': rpt_buf_str(b, attr ? "&#9;" : "\t"); i++; continue;
		case '\n': rpt_buf_str(b, attr ? "&#10;" : "\n"); i++; continue;
		}
		if ((len = utf8_decode(u + i, n - i, &c)) == 0) {
			rpt_buf_str(b, REPLACEMENT);
			i++;
		} else {
			if (xml_char(c))
				rpt_buf_add(b, s + i, len);
			else
				rpt_buf_str(b, REPLACEMENT);
			i += len;
		}
	}
}

/* Appends ` name="value"`, value escaped. */
static void
put_attr(struct rpt_buf *b, const char *name, const char *value)
{
	rpt_buf_printf(b, " %s=\"", name);
	put_text(b, value, true);
	rpt_buf_str(b, "\"");
}

/* Seconds as xs:decimal, which has no NaN or infinity. A negative time or
 * one of 30,000 years is no measurement either, and validators cap how
 * many digits a decimal may have (libxml2 takes 24), so those become 0. */
static void
put_seconds_attr(struct rpt_buf *b, double s)
{
	if (!(s >= 0 && s < 1e12))
		s = 0;
	rpt_buf_printf(b, " time=\"%.3f\"", s);
}

/* A value as report.json would show it (integral numbers without a
 * fraction), in a malloc'd string; NULL when out of memory. */
static char *
json_text(const struct rpt_json *v)
{
	char *s = NULL;

	if (rpt_json_dump(v, 0, &s) != RPT_OK)
		return NULL;
	return s;
}

static void
put_property(struct rpt_buf *b, const char *name, const char *value)
{
	rpt_buf_str(b, "      <property");
	put_attr(b, "name", name);
	put_attr(b, "value", value);
	rpt_buf_str(b, "/>\n");
}

/* A few facts that help someone looking at a test result find the run
 * behind it; everything else stays in report.json. */
static void
put_properties(struct rpt_buf *b, const struct rpt_json *r, bool partial)
{
	const struct rpt_json *seed = rpt_json_path(r, "scenario.seed");
	const char *file = rpt_json_str(rpt_json_path(r, "scenario.file"));
	const char *version = rpt_json_str(rpt_json_get(r, "fleetsim_version"));
	const char *verdict = rpt_json_str(rpt_json_get(r, "verdict"));
	char *s;

	rpt_buf_str(b, "    <properties>\n");
	if (file != NULL && file[0] != '\0')
		put_property(b, "scenario.file", file);
	if (rpt_json_type(seed) == RPT_JSON_NUMBER) {
		if ((s = json_text(seed)) == NULL)
			b->nomem = true;
		else
			put_property(b, "scenario.seed", s);
		free(s);
	}
	if (version != NULL)
		put_property(b, "fleetsim_version", version);
	if (verdict != NULL)
		put_property(b, "verdict", verdict);
	if (partial)
		put_property(b, "partial", "true");
	rpt_buf_str(b, "    </properties>\n");
}

/* One <testcase>; message NULL means it passed. */
static void
put_case(struct rpt_buf *b, const char *name, const char *classname, const char *message,
    const char *type)
{
	rpt_buf_str(b, "    <testcase");
	put_attr(b, "name", name);
	put_attr(b, "classname", classname);
	rpt_buf_str(b, " time=\"0\"");
	if (message == NULL) {
		rpt_buf_str(b, "/>\n");
		return;
	}
	rpt_buf_str(b, ">\n      <failure");
	put_attr(b, "message", message);
	put_attr(b, "type", type);
	/* Viewers show the message in a list and the body when a test is
	 * opened; some show only one of them, so both carry it. */
	rpt_buf_str(b, ">");
	put_text(b, message, false);
	rpt_buf_str(b, "</failure>\n    </testcase>\n");
}

/* An array's length; anything else has no entries. */
static size_t
entries(const struct rpt_json *arr)
{
	return rpt_json_type(arr) == RPT_JSON_ARRAY ? rpt_json_len(arr) : 0;
}

/* The failure message of assertion a, malloc'd; NULL when out of memory. */
static char *
assertion_message(const char *expr, const struct rpt_json *actual)
{
	char *value = NULL, *msg = NULL;
	enum rpt_json_type t = rpt_json_type(actual);

	/* The judge stores NaN when the path is absent, which report.json
	 * writes as null: a tree fresh from judging and one read back from
	 * disk say the same thing. */
	if (t == RPT_JSON_NULL || (t == RPT_JSON_NUMBER && !isfinite(rpt_json_num(actual)))) {
		if (asprintf(&msg, "expected %s, path not found in report", expr) < 0)
			msg = NULL;
		return msg;
	}
	if ((value = json_text(actual)) == NULL)
		return NULL;
	if (asprintf(&msg, "expected %s, actual %s", expr, value) < 0)
		msg = NULL;
	free(value);
	return msg;
}

static void
build(struct rpt_buf *b, const struct rpt_json *r)
{
	const struct rpt_json *checks = rpt_json_get(r, "checks");
	const struct rpt_json *asserts = rpt_json_get(r, "assertions");
	const char *scenario = rpt_json_str(rpt_json_path(r, "scenario.name"));
	const char *started = rpt_json_str(rpt_json_get(r, "started_at"));
	double duration = rpt_json_num(rpt_json_get(r, "duration_s"));
	bool partial = rpt_json_truthy(rpt_json_get(r, "partial"));
	size_t nchecks = entries(checks), nasserts = entries(asserts), failures = 0;
	char *classname = NULL, fallback[64];

	/* CI viewers key tests by name; an empty one would merge with others. */
	if (scenario == NULL || scenario[0] == '\0')
		scenario = "unnamed";
	if (asprintf(&classname, "fleetsim.%s", scenario) < 0) {
		classname = NULL;
		b->nomem = true;
		return;
	}
	for (size_t i = 0; i < nchecks; i++)
		failures += !rpt_json_truthy(rpt_json_get(rpt_json_at(checks, i), "pass"));
	for (size_t i = 0; i < nasserts; i++)
		failures += !rpt_json_truthy(rpt_json_get(rpt_json_at(asserts, i), "pass"));

	rpt_buf_str(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"fleetsim\"");
	rpt_buf_printf(b, " tests=\"%zu\" failures=\"%zu\" errors=\"0\"", nchecks + nasserts, failures);
	put_seconds_attr(b, duration);
	rpt_buf_str(b, ">\n  <testsuite");
	put_attr(b, "name", scenario);
	rpt_buf_printf(b, " tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\"",
	    nchecks + nasserts, failures);
	put_seconds_attr(b, duration);
	if (started != NULL && started[0] != '\0')
		put_attr(b, "timestamp", started);
	rpt_buf_str(b, ">\n");
	put_properties(b, r, partial);

	for (size_t i = 0; i < nchecks; i++) {
		const struct rpt_json *c = rpt_json_at(checks, i);
		const char *name = rpt_json_str(rpt_json_get(c, "name"));
		const char *detail = rpt_json_str(rpt_json_get(c, "detail"));
		bool pass = rpt_json_truthy(rpt_json_get(c, "pass"));

		if (name == NULL || name[0] == '\0') {
			snprintf(fallback, sizeof(fallback), "check %zu", i + 1);
			name = fallback;
		}
		if (detail == NULL || detail[0] == '\0')
			detail = "check failed";
		put_case(b, name, classname, pass ? NULL : detail, CHECK_TYPE);
	}
	for (size_t i = 0; i < nasserts; i++) {
		const struct rpt_json *a = rpt_json_at(asserts, i);
		const char *expr = rpt_json_str(rpt_json_get(a, "expr"));
		bool pass = rpt_json_truthy(rpt_json_get(a, "pass"));
		char *msg = NULL;

		if (expr == NULL || expr[0] == '\0') {
			snprintf(fallback, sizeof(fallback), "assertion %zu", i + 1);
			expr = fallback;
		}
		if (!pass && (msg = assertion_message(expr, rpt_json_get(a, "actual"))) == NULL) {
			b->nomem = true;
			break;
		}
		put_case(b, expr, classname, msg, ASSERT_TYPE);
		free(msg);
	}

	if (partial)
		rpt_buf_str(b, "    <system-out>fleetsim: partial run: a signal ended it early, "
		    "so the counts cover only the part that ran\n</system-out>\n");
	rpt_buf_str(b, "  </testsuite>\n</testsuites>\n");
	free(classname);
}

enum rpt_err
rpt_junit_dump(const struct rpt_json *report, char **out)
{
	struct rpt_buf b = { 0 };

	if (report == NULL || out == NULL || rpt_json_type(report) != RPT_JSON_OBJECT)
		return RPT_ERR_INVAL;
	build(&b, report);
	if (b.nomem) {
		free(b.p);
		return RPT_ERR_NOMEM;
	}
	*out = b.p;
	return RPT_OK;
}

enum rpt_err
rpt_junit_write(const char *path, const struct rpt_json *report)
{
	enum rpt_err rc;
	char *xml = NULL;

	if (path == NULL)
		return RPT_ERR_INVAL;
	if ((rc = rpt_junit_dump(report, &xml)) != RPT_OK)
		return rc;
	rc = rpt_write_atomic(path, xml, strlen(xml));
	free(xml);
	return rc;
}
