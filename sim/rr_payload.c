/* Request payload templates: compiled once into literal and field
 * segments, so that rendering per request is a loop over a few segments
 * with no parsing and no allocation. */
#include "rr_payload.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dev_fmt.h"
#include "hal_err.h"
#include "hal_rng.h"

/* How much of a field a message quotes. */
#define QUOTE_MAX 60

enum kind { K_LIT, K_ID, K_N, K_GROUP, K_METHOD, K_SEQ, K_UNIFORM, K_INT };

struct seg {
	uint8_t kind;
	struct dev_fmt_spec fmt;
	size_t off, len;        /* K_LIT: the text, in lit */
	double a, b, span;      /* K_UNIFORM: [a, b), span = b - a */
	int64_t lo, hi;         /* K_INT: [lo, hi] */
};

struct sim_rr_payload {
	char *src;
	char *lit;              /* literal text, "{{" and "}}" unescaped */
	size_t nlit;
	struct seg *segs;
	size_t nsegs;
	bool random;            /* any K_UNIFORM or K_INT: the stream is seeded */
};

void
sim_rr_payload_free(struct sim_rr_payload *p)
{
	if (p == NULL)
		return;
	free(p->src);
	free(p->lit);
	free(p->segs);
	free(p);
}

const char *
sim_rr_payload_source(const struct sim_rr_payload *p)
{
	return p->src;
}

/* Compiling. */

static bool
is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
name_char(char c)
{
	return is_letter(c) || is_digit(c) || c == '.' || c == '_';
}

static bool
eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static size_t
skip_spaces(const char *s, size_t i, size_t end)
{
	while (i < end && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* A decimal number at s[*i..end): '-'? digits ('.' digits)?, spaces
 * before it skipped. On success it is s[*start..*i) and *frac says
 * whether it has a fraction; the caller converts it once the whole field
 * is known to be well-formed. */
static bool
scan_number(const char *s, size_t *i, size_t end, size_t *start, bool *frac)
{
	size_t k = skip_spaces(s, *i, end);

	*start = k;
	*frac = false;
	if (k < end && s[k] == '-')
		k++;
	if (k >= end || !is_digit(s[k]))
		return false;
	while (k < end && is_digit(s[k]))
		k++;
	if (k < end && s[k] == '.') {
		if (k + 1 >= end || !is_digit(s[k + 1]))
			return false;
		k++;
		while (k < end && is_digit(s[k]))
			k++;
		*frac = true;
	}
	*i = k;
	return true;
}

/* s[start..end) as an int64, or -1 when it does not fit. The grammar was
 * checked: '-'? digits. */
static int
to_int64(const char *s, size_t start, size_t end, int64_t *v)
{
	bool neg = s[start] == '-';
	uint64_t m = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

	for (size_t k = start + neg; k < end; k++) {
		unsigned d = (unsigned)(s[k] - '0');

		if (m > (lim - d) / 10)
			return -1;
		m = m * 10 + d;
	}
	/* -2^63 has no positive int64, so the negation goes through -(m-1)-1. */
	*v = neg ? (m == 0 ? 0 : -(int64_t)(m - 1) - 1) : (int64_t)m;
	return 0;
}

/* s[start..end) as a finite double, or -1. The grammar was checked, and
 * the byte at end is not part of any number strtod reads, so strtod stops
 * at end unless the locale's decimal point is not '.'. */
static int
to_double(const char *s, size_t start, size_t end, double *v)
{
	char *e;

	*v = strtod(s + start, &e);
	if (e != s + end || !isfinite(*v))
		return -1;
	return 0;
}

/* Parses "(A,B)" at s[*i..end) into sg for rand.uniform or rand.int.
 * Writes the error and returns -1 on failure; fld is the field for it. */
static int
parse_bounds(const char *s, size_t *i, size_t end, struct seg *sg, const char *fld, int fl,
    char *err, size_t errlen)
{
	const char *form = sg->kind == K_INT ? "{rand.int(A,B)}" : "{rand.uniform(A,B)}";
	const char *what = sg->kind == K_INT ? "an integer" : "a decimal number";
	size_t k = *i, a0, a_end, b0, b_end;
	bool fa, fb;

	if (k >= end || s[k] != '(') {
		hal_seterr(err, errlen, "%.*s: expected '(' and bounds, as in %s", fl, fld, form);
		return -1;
	}
	k++;
	if (!scan_number(s, &k, end, &a0, &fa)) {
		hal_seterr(err, errlen, "%.*s: expected %s for A in %s", fl, fld, what, form);
		return -1;
	}
	a_end = k;
	k = skip_spaces(s, k, end);
	if (k >= end || s[k] != ',') {
		hal_seterr(err, errlen, "%.*s: expected ',' after A in %s", fl, fld, form);
		return -1;
	}
	k++;
	if (!scan_number(s, &k, end, &b0, &fb)) {
		hal_seterr(err, errlen, "%.*s: expected %s for B in %s", fl, fld, what, form);
		return -1;
	}
	b_end = k;
	k = skip_spaces(s, k, end);
	if (k >= end || s[k] != ')') {
		hal_seterr(err, errlen, "%.*s: expected ')' after B in %s", fl, fld, form);
		return -1;
	}
	*i = k + 1;
	if (sg->kind == K_INT) {
		if (fa || fb) {
			hal_seterr(err, errlen, "%.*s: expected integers A and B in %s", fl, fld,
			    form);
			return -1;
		}
		if (to_int64(s, a0, a_end, &sg->lo) != 0 ||
		    to_int64(s, b0, b_end, &sg->hi) != 0) {
			hal_seterr(err, errlen, "%.*s: A and B must fit in 64 bits", fl, fld);
			return -1;
		}
		if (sg->hi < sg->lo) {
			hal_seterr(err, errlen, "%.*s: expected B >= A in %s", fl, fld, form);
			return -1;
		}
		return 0;
	}
	/* A span beyond DBL_MAX would draw infinities. */
	if (to_double(s, a0, a_end, &sg->a) != 0 ||
	    to_double(s, b0, b_end, &sg->b) != 0 || !isfinite(sg->b - sg->a)) {
		hal_seterr(err, errlen, "%.*s: A and B out of range", fl, fld);
		return -1;
	}
	if (sg->b < sg->a) {
		hal_seterr(err, errlen, "%.*s: expected B >= A in %s", fl, fld, form);
		return -1;
	}
	sg->span = sg->b - sg->a;
	return 0;
}

/* Parses the field src[open..close], braces included, into sg. */
static enum sim_err
parse_field(const char *src, size_t open, size_t close, struct seg *sg, char *err,
    size_t errlen)
{
	static const struct {
		const char *name;
		enum kind kind;
	} names[] = {
		{ "id", K_ID }, { "n", K_N }, { "group", K_GROUP }, { "method", K_METHOD },
		{ "seq", K_SEQ }, { "tx.n", K_SEQ }, { "rand.uniform", K_UNIFORM },
		{ "rand.int", K_INT },
	};
	const char *fld = src + open;
	int fl = (int)(close - open + 1 > QUOTE_MAX ? QUOTE_MAX : close - open + 1);
	size_t i = open + 1, name_end;

	*sg = (struct seg){ .kind = K_LIT };
	while (i < close && name_char(src[i]))
		i++;
	name_end = i;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (eq(src + open + 1, name_end - open - 1, names[k].name))
			sg->kind = (uint8_t)names[k].kind;
	/* Only the random fields take arguments; anything else after a plain
	 * name makes it an unknown field, e.g. {id x}. */
	if (sg->kind == K_LIT || (sg->kind != K_UNIFORM && sg->kind != K_INT && i < close &&
	    src[i] != ':')) {
		hal_seterr(err, errlen,
		    "unknown field %.*s; expected {id}, {n}, {group}, {method}, {seq}, {tx.n}, {rand.uniform(A,B)} or {rand.int(A,B)}",
		    fl, fld);
		return SIM_ERR_SCENARIO;
	}
	if ((sg->kind == K_UNIFORM || sg->kind == K_INT) &&
	    parse_bounds(src, &i, close, sg, fld, fl, err, errlen) != 0)
		return SIM_ERR_SCENARIO;
	if (i == close)
		return SIM_OK;
	if (src[i] != ':') {
		hal_seterr(err, errlen, "%.*s: expected '}' or ':FORMAT' after ')'", fl, fld);
		return SIM_ERR_SCENARIO;
	}
	if (sg->kind == K_ID || sg->kind == K_GROUP || sg->kind == K_METHOD) {
		hal_seterr(err, errlen, "%.*s takes no format: it is not a number", fl, fld);
		return SIM_ERR_SCENARIO;
	}
	if (dev_fmt_parse(&sg->fmt, src + i + 1, close - i - 1) != 0) {
		hal_seterr(err, errlen, "bad format '%.*s' in %.*s; " DEV_FMT_EXPECTED_FORMAT,
		    (int)(close - i - 1 > QUOTE_MAX ? QUOTE_MAX : close - i - 1), src + i + 1, fl,
		    fld);
		return SIM_ERR_SCENARIO;
	}
	return SIM_OK;
}

static void
end_lit(struct sim_rr_payload *p, size_t *lit0)
{
	if (p->nlit > *lit0)
		p->segs[p->nsegs++] = (struct seg){ .kind = K_LIT, .off = *lit0,
		    .len = p->nlit - *lit0 };
	*lit0 = p->nlit;
}

enum sim_err
sim_rr_payload_compile(const char *src, struct sim_rr_payload **out, char *err, size_t errlen,
    size_t *off)
{
	struct sim_rr_payload *p = NULL;
	struct dev_fmt_scan sc = { .src = src };
	size_t len, maxsegs = 1, lit0 = 0, erroff = 0;
	enum dev_fmt_tok tok;
	enum sim_err rv = SIM_ERR_NOMEM;

	hal_seterr(err, errlen, "%s", "");
	if (out != NULL)
		*out = NULL;
	if (src == NULL || out == NULL) {
		rv = SIM_ERR_INVAL;
		hal_seterr(err, errlen, "no template");
		goto out;
	}
	sc.len = len = strlen(src);
	/* A field and the literal before it are two segments per '{'. */
	for (size_t k = 0; k < len; k++)
		maxsegs += src[k] == '{' ? 2 : 0;
	if ((p = calloc(1, sizeof(*p))) == NULL || (p->src = strdup(src)) == NULL ||
	    (p->lit = malloc(len + 1)) == NULL ||
	    (p->segs = calloc(maxsegs, sizeof(*p->segs))) == NULL)
		goto out;
	rv = SIM_OK;
	while ((tok = dev_fmt_next(&sc)) != DEV_FMT_END) {
		if (tok == DEV_FMT_CHAR) {
			p->lit[p->nlit++] = sc.c;
			continue;
		}
		erroff = sc.open;
		if (tok == DEV_FMT_UNCLOSED) {
			rv = SIM_ERR_SCENARIO;
			hal_seterr(err, errlen, "unclosed field at '%.*s'; " DEV_FMT_EXPECTED_CLOSE,
			    (int)(sc.close - sc.open > QUOTE_MAX ? QUOTE_MAX : sc.close - sc.open),
			    src + sc.open);
			goto out;
		}
		end_lit(p, &lit0);
		if ((rv = parse_field(src, sc.open, sc.close, &p->segs[p->nsegs], err, errlen)) !=
		    SIM_OK)
			goto out;
		if (p->segs[p->nsegs].kind == K_UNIFORM || p->segs[p->nsegs].kind == K_INT)
			p->random = true;
		p->nsegs++;
	}
	end_lit(p, &lit0);
	p->lit[p->nlit] = '\0';
	erroff = 0;
	*out = p;
	p = NULL;
out:
	if (rv != SIM_OK && off != NULL)
		*off = erroff;
	sim_rr_payload_free(p);
	return rv;
}

/* Randomness: hal-sim's generator, the one the devices draw from, seeded
 * by the request's seed alone. The purpose name keeps the stream apart
 * from any device stream that happens to share the seed. */

static double
draw_uniform(struct hal_rng *r, const struct seg *sg)
{
	double v = sg->a + sg->span * hal_rng_uniform(r);

	/* Rounding can land on B itself, which the interval leaves out. */
	if (v >= sg->b && sg->span > 0)
		v = nextafter(sg->b, sg->a);
	return v;
}

static int64_t
draw_int(struct hal_rng *r, const struct seg *sg)
{
	/* Mod 2^64, so the full int64 range gives 0: every draw fits. */
	uint64_t span = (uint64_t)sg->hi - (uint64_t)sg->lo + 1, u;

	u = (uint64_t)sg->lo + (span != 0 ? hal_rng_below(r, span) : hal_rng_u64(r));
	/* u is in [lo, hi] mod 2^64; back to int64 without relying on the
	 * implementation-defined conversion. */
	return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

/* Rendering. Nothing here allocates. */

size_t
sim_rr_payload_render(const struct sim_rr_payload *p, const struct sim_rr_payload_vals *v,
    char *buf, size_t cap)
{
	static const struct sim_rr_payload_vals none;
	struct dev_fmt_out o = { .buf = buf, .cap = cap };
	struct hal_rng r;

	if (v == NULL)
		v = &none;
	if (p->random)
		hal_rng_init(&r, v->seed, "", 0, "rr_payload");
	for (size_t i = 0; i < p->nsegs; i++) {
		const struct seg *sg = &p->segs[i];

		switch ((enum kind)sg->kind) {
		case K_LIT:
			dev_fmt_put(&o, p->lit + sg->off, sg->len);
			break;
		case K_ID:
			dev_fmt_put_str(&o, v->id);
			break;
		case K_N:
			dev_fmt_put_uint(&o, v->n, &sg->fmt);
			break;
		case K_GROUP:
			dev_fmt_put_str(&o, v->group);
			break;
		case K_METHOD:
			dev_fmt_put_str(&o, v->method);
			break;
		case K_SEQ:
			dev_fmt_put_uint(&o, v->seq, &sg->fmt);
			break;
		case K_UNIFORM:
			dev_fmt_put_num(&o, draw_uniform(&r, sg), &sg->fmt);
			break;
		case K_INT:
			dev_fmt_put_int(&o, draw_int(&r, sg), &sg->fmt);
			break;
		}
	}
	return dev_fmt_end(&o);
}
