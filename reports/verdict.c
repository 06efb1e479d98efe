#include "verdict.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

#define OP_EXPECTED "expected an operator (<, <=, >, >=, ==, !=)"
#define UNIT_LIST "us, ms, s, m, h, B, KB, MB"

/* The unit a path's numbers are in, from its nearest segment with a
 * duration suffix: "latency_ms.p99" is in milliseconds. */
struct path_unit {
	const char *suffix;
	double ns;
};

static const struct path_unit path_units[] = {
	{ "_ns", 1 }, { "_us", 1e3 }, { "_ms", 1e6 }, { "_s", 1e9 },
};

struct expr_unit {
	const char *name;
	bool duration;
};

/* Longest names first so "ms" wins over "m". */
static const struct expr_unit expr_units[] = {
	{ "ns", true }, { "us", true }, { "ms", true }, { "s", true }, { "m", true },
	{ "h", true }, { "KB", false }, { "MB", false }, { "B", false },
};

static void
seterr(char *err, size_t errlen, size_t *colp, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void
seterr(char *err, size_t errlen, size_t *colp, size_t col, const char *fmt, ...)
{
	va_list ap;

	if (colp != NULL)
		*colp = col;
	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_seg(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The ns per unit of path, or 0 when no segment names a duration unit. */
static double
path_ns(const char *path)
{
	const char *end = path + strlen(path), *seg;
	size_t n, i, sl;

	while (end > path) {
		seg = end;
		while (seg > path && seg[-1] != '.')
			seg--;
		n = (size_t)(end - seg);
		for (i = 0; i < sizeof(path_units) / sizeof(path_units[0]); i++) {
			sl = strlen(path_units[i].suffix);
			if (n > sl && memcmp(end - sl, path_units[i].suffix, sl) == 0)
				return path_units[i].ns;
		}
		end = seg > path ? seg - 1 : path;
	}
	return 0;
}

static int
scan_op(const char *s, enum rpt_op *op)
{
	if (s[0] == '<' && s[1] == '=') {
		*op = RPT_OP_LE;
		return 2;
	}
	if (s[0] == '>' && s[1] == '=') {
		*op = RPT_OP_GE;
		return 2;
	}
	if (s[0] == '=' && s[1] == '=') {
		*op = RPT_OP_EQ;
		return 2;
	}
	if (s[0] == '!' && s[1] == '=') {
		*op = RPT_OP_NE;
		return 2;
	}
	if (s[0] == '<') {
		*op = RPT_OP_LT;
		return 1;
	}
	if (s[0] == '>') {
		*op = RPT_OP_GT;
		return 1;
	}
	return 0;
}

enum rpt_err
rpt_assert_parse(const char *expr, struct rpt_assertion *out, char *err, size_t errlen,
    size_t *col)
{
	const struct expr_unit *unit = NULL;
	const char *p, *path, *num, *digits, *u, *end;
	enum rpt_err rc = RPT_ERR_PARSE;
	size_t pathlen, i, ulen = 0;
	char *tmp = NULL;
	double v, pns;
	uint64_t q;
	bool neg;
	int n;

	if (expr == NULL || out == NULL)
		return RPT_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	p = expr;
	while (is_space(*p))
		p++;

	/* The path: segments joined by single dots. */
	path = p;
	for (;;) {
		if (!is_seg(*p)) {
			seterr(err, errlen, col, (size_t)(p - expr), p == path ?
			    "expected a path (like latency_ms.p99)" :
			    "expected a path segment ([A-Za-z0-9_]+) after '.'");
			goto out;
		}
		while (is_seg(*p))
			p++;
		if (*p != '.')
			break;
		p++;
	}
	pathlen = (size_t)(p - path);
	while (is_space(*p))
		p++;

	if ((n = scan_op(p, &out->op)) == 0) {
		seterr(err, errlen, col, (size_t)(p - expr), OP_EXPECTED);
		goto out;
	}
	p += n;
	while (is_space(*p))
		p++;

	/* The number: -?DIGITS(.DIGITS)? and a unit right after it. */
	num = p;
	neg = *p == '-';
	if (neg)
		p++;
	digits = p;
	if (*p < '0' || *p > '9') {
		seterr(err, errlen, col, (size_t)(p - expr), "expected a number");
		goto out;
	}
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9') {
			seterr(err, errlen, col, (size_t)(p - expr),
			    "expected a digit after the decimal point");
			goto out;
		}
		while (*p >= '0' && *p <= '9')
			p++;
	}
	u = p;
	while (is_alpha(*p))
		p++;
	if (p > u) {
		ulen = (size_t)(p - u);
		for (i = 0; i < sizeof(expr_units) / sizeof(expr_units[0]); i++)
			if (strlen(expr_units[i].name) == ulen &&
			    memcmp(expr_units[i].name, u, ulen) == 0)
				unit = &expr_units[i];
		if (unit == NULL) {
			seterr(err, errlen, col, (size_t)(u - expr),
			    "expected a unit (" UNIT_LIST ") or nothing after the number");
			goto out;
		}
	}
	end = p;
	while (is_space(*p))
		p++;
	if (*p != '\0') {
		if (p > end && is_alpha(*p))
			seterr(err, errlen, col, (size_t)(p - expr),
			    "expected the end of the assertion (write a unit right after "
			    "the number, as in 250ms)");
		else
			seterr(err, errlen, col, (size_t)(p - expr),
			    "expected the end of the assertion");
		goto out;
	}

	if ((out->expr = strdup(expr)) == NULL || (out->path = strndup(path, pathlen)) == NULL) {
		rc = RPT_ERR_NOMEM;
		goto out;
	}
	/* The magnitude goes through the same parsers as scenario files, so
	 * "1.5s" means the same everywhere; the sign is applied after. */
	if ((tmp = strndup(digits, (size_t)(end - digits))) == NULL) {
		rc = RPT_ERR_NOMEM;
		goto out;
	}
	pns = path_ns(out->path);
	if (unit == NULL) {
		v = strtod(tmp, NULL);
		if (!isfinite(v)) {
			seterr(err, errlen, col, (size_t)(num - expr), "number out of range");
			goto out;
		}
	} else if (unit->duration) {
		if (pns == 0) {
			seterr(err, errlen, col, (size_t)(u - expr),
			    "unit '%.*s' needs a path in a duration unit (a segment ending in "
			    "_ms, _s, _us or _ns); use a plain number", (int)ulen, u);
			goto out;
		}
		if ((rc = rpt_parse_duration(tmp, &q)) != RPT_OK) {
			seterr(err, errlen, col, (size_t)(num - expr), "duration out of range");
			if (rc != RPT_ERR_NOMEM)
				rc = RPT_ERR_PARSE;
			goto out;
		}
		v = (double)q / pns;
	} else {
		if (pns != 0) {
			seterr(err, errlen, col, (size_t)(u - expr),
			    "unit '%.*s' is a size but the path is a duration; use us, ms, s, "
			    "m or h", (int)ulen, u);
			goto out;
		}
		if ((rc = rpt_parse_size(tmp, &q)) != RPT_OK) {
			seterr(err, errlen, col, (size_t)(num - expr), rc == RPT_ERR_RANGE ?
			    "size out of range" : "expected a whole number of bytes");
			if (rc != RPT_ERR_NOMEM)
				rc = RPT_ERR_PARSE;
			goto out;
		}
		v = (double)q;
	}
	out->value = neg ? -v : v;
	rc = RPT_OK;
out:
	free(tmp);
	if (rc != RPT_OK)
		rpt_assertion_fini(out);
	return rc;
}

void
rpt_assertion_fini(struct rpt_assertion *a)
{
	if (a == NULL)
		return;
	free(a->expr);
	free(a->path);
	memset(a, 0, sizeof(*a));
}

enum rpt_err
rpt_assert_eval(const struct rpt_json *report, const struct rpt_assertion *a,
    double *actual, bool *pass)
{
	const struct rpt_json *j;
	double v;
	bool ok = false;

	if (report == NULL || a == NULL || a->path == NULL)
		return RPT_ERR_INVAL;
	if ((j = rpt_json_path(report, a->path)) == NULL)
		return RPT_ERR_NOTFOUND;
	switch (rpt_json_type(j)) {
	case RPT_JSON_NUMBER:
		v = rpt_json_num(j);
		break;
	case RPT_JSON_BOOL:
		v = rpt_json_truthy(j) ? 1 : 0;
		break;
	default:
		return RPT_ERR_TYPE;
	}
	switch (a->op) {
	case RPT_OP_LT: ok = v < a->value; break;
	case RPT_OP_LE: ok = v <= a->value; break;
	case RPT_OP_GT: ok = v > a->value; break;
	case RPT_OP_GE: ok = v >= a->value; break;
	case RPT_OP_EQ: ok = v == a->value; break;
	case RPT_OP_NE: ok = v != a->value; break;
	}
	if (actual != NULL)
		*actual = v;
	if (pass != NULL)
		*pass = ok;
	return RPT_OK;
}

const char *
rpt_op_str(enum rpt_op op)
{
	switch (op) {
	case RPT_OP_LT: return "<";
	case RPT_OP_LE: return "<=";
	case RPT_OP_GT: return ">";
	case RPT_OP_GE: return ">=";
	case RPT_OP_EQ: return "==";
	case RPT_OP_NE: return "!=";
	}
	return "?";
}
