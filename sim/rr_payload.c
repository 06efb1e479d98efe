/* Request payload templates: compiled once into literal and field
 * segments, so that rendering per request is a loop over a few segments
 * with no parsing and no allocation. */
#include "rr_payload.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How much of a field a message quotes. */
#define QUOTE_MAX 60

enum kind { K_LIT, K_ID, K_N, K_GROUP, K_METHOD, K_SEQ, K_UNIFORM, K_INT };

enum fmt { F_DEFAULT, F_FIXED, F_EXP, F_ROUND };

struct seg {
	uint8_t kind;
	uint8_t fmt;
	uint8_t prec;
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

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

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

/* Parses ":FORMAT" text s[0..n) into sg. */
static int
parse_format(const char *s, size_t n, struct seg *sg)
{
	if (n == 1 && s[0] == 'd') {
		sg->fmt = F_ROUND;
		return 0;
	}
	if (n == 3 && s[0] == '.' && is_digit(s[1]) && (s[2] == 'f' || s[2] == 'e')) {
		sg->fmt = s[2] == 'f' ? F_FIXED : F_EXP;
		sg->prec = (uint8_t)(s[1] - '0');
		return 0;
	}
	return -1;
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
		seterr(err, errlen, "%.*s: expected '(' and bounds, as in %s", fl, fld, form);
		return -1;
	}
	k++;
	if (!scan_number(s, &k, end, &a0, &fa)) {
		seterr(err, errlen, "%.*s: expected %s for A in %s", fl, fld, what, form);
		return -1;
	}
	a_end = k;
	k = skip_spaces(s, k, end);
	if (k >= end || s[k] != ',') {
		seterr(err, errlen, "%.*s: expected ',' after A in %s", fl, fld, form);
		return -1;
	}
	k++;
	if (!scan_number(s, &k, end, &b0, &fb)) {
		seterr(err, errlen, "%.*s: expected %s for B in %s", fl, fld, what, form);
		return -1;
	}
	b_end = k;
	k = skip_spaces(s, k, end);
	if (k >= end || s[k] != ')') {
		seterr(err, errlen, "%.*s: expected ')' after B in %s", fl, fld, form);
		return -1;
	}
	*i = k + 1;
	if (sg->kind == K_INT) {
		if (fa || fb) {
			seterr(err, errlen, "%.*s: expected integers A and B in %s", fl, fld, form);
			return -1;
		}
		if (to_int64(s, a0, a_end, &sg->lo) != 0 ||
		    to_int64(s, b0, b_end, &sg->hi) != 0) {
			seterr(err, errlen, "%.*s: A and B must fit in 64 bits", fl, fld);
			return -1;
		}
		if (sg->hi < sg->lo) {
			seterr(err, errlen, "%.*s: expected B >= A in %s", fl, fld, form);
			return -1;
		}
		return 0;
	}
	/* A span beyond DBL_MAX would draw infinities. */
	if (to_double(s, a0, a_end, &sg->a) != 0 ||
	    to_double(s, b0, b_end, &sg->b) != 0 || !isfinite(sg->b - sg->a)) {
		seterr(err, errlen, "%.*s: A and B out of range", fl, fld);
		return -1;
	}
	if (sg->b < sg->a) {
		seterr(err, errlen, "%.*s: expected B >= A in %s", fl, fld, form);
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
		{ "seq", K_SEQ }, { "rand.uniform", K_UNIFORM }, { "rand.int", K_INT },
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
		seterr(err, errlen,
		    "unknown field %.*s; expected {id}, {n}, {group}, {method}, {seq}, {rand.uniform(A,B)} or {rand.int(A,B)}",
		    fl, fld);
		return SIM_ERR_SCENARIO;
	}
	if ((sg->kind == K_UNIFORM || sg->kind == K_INT) &&
	    parse_bounds(src, &i, close, sg, fld, fl, err, errlen) != 0)
		return SIM_ERR_SCENARIO;
	if (i == close)
		return SIM_OK;
	if (src[i] != ':') {
		seterr(err, errlen, "%.*s: expected '}' or ':FORMAT' after ')'", fl, fld);
		return SIM_ERR_SCENARIO;
	}
	if (sg->kind == K_ID || sg->kind == K_GROUP || sg->kind == K_METHOD) {
		seterr(err, errlen, "%.*s takes no format: it is not a number", fl, fld);
		return SIM_ERR_SCENARIO;
	}
	if (parse_format(src + i + 1, close - i - 1, sg) != 0) {
		seterr(err, errlen,
		    "bad format '%.*s' in %.*s; expected .Nf or .Ne with N from 0 to 9, or d",
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
	size_t len, maxsegs = 1, i = 0, lit0 = 0, erroff = 0, escaped = 0;
	enum sim_err rv = SIM_ERR_NOMEM;

	seterr(err, errlen, "%s", "");
	if (out != NULL)
		*out = NULL;
	if (src == NULL || out == NULL) {
		rv = SIM_ERR_INVAL;
		seterr(err, errlen, "no template");
		goto out;
	}
	len = strlen(src);
	/* A field and the literal before it are two segments per '{'. */
	for (size_t k = 0; k < len; k++)
		maxsegs += src[k] == '{' ? 2 : 0;
	if ((p = calloc(1, sizeof(*p))) == NULL || (p->src = strdup(src)) == NULL ||
	    (p->lit = malloc(len + 1)) == NULL ||
	    (p->segs = calloc(maxsegs, sizeof(*p->segs))) == NULL)
		goto out;
	rv = SIM_OK;
	while (i < len) {
		char c = src[i];
		size_t close;

		/* "{{" is a brace; "}}" is one only when it closes a "{{", so
		 * that JSON's own nested objects, "}}", come out as written. */
		if (c == '{' && src[i + 1] == '{') {
			p->lit[p->nlit++] = c;
			escaped++;
			i += 2;
			continue;
		}
		if (c == '}' && src[i + 1] == '}' && escaped > 0) {
			p->lit[p->nlit++] = c;
			escaped--;
			i += 2;
			continue;
		}
		/* JSON puts a quote or a space after '{', never a letter, so
		 * only a letter starts a field. */
		if (c != '{' || !is_letter(src[i + 1])) {
			p->lit[p->nlit++] = c;
			i++;
			continue;
		}
		close = i + 1;
		while (close < len && src[close] != '}' && src[close] != '{' && src[close] != '"' &&
		    src[close] != '\n')
			close++;
		erroff = i;
		if (close >= len || src[close] != '}') {
			rv = SIM_ERR_SCENARIO;
			seterr(err, errlen,
			    "unclosed field at '%.*s'; expected '}' (write {{ for a literal brace)",
			    (int)(close - i > QUOTE_MAX ? QUOTE_MAX : close - i), src + i);
			goto out;
		}
		end_lit(p, &lit0);
		if ((rv = parse_field(src, i, close, &p->segs[p->nsegs], err, errlen)) != SIM_OK)
			goto out;
		if (p->segs[p->nsegs].kind == K_UNIFORM || p->segs[p->nsegs].kind == K_INT)
			p->random = true;
		p->nsegs++;
		i = close + 1;
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

/* Randomness: xoshiro256** seeded through splitmix64, so that nearby
 * seeds (consecutive request numbers) still give unrelated streams. Kept
 * here rather than taken from hal-sim so that the cloud side does not
 * depend on the device simulator. */

struct rng {
	uint64_t s[4];
};

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

static double
draw_uniform(struct rng *r, const struct seg *sg)
{
	/* The top 53 bits make a double in [0, 1). */
	double u = (double)(rng_next(r) >> 11) * 0x1.0p-53, v = sg->a + sg->span * u;

	/* Rounding can land on B itself, which the interval leaves out. */
	if (v >= sg->b && sg->span > 0)
		v = nextafter(sg->b, sg->a);
	return v;
}

static int64_t
draw_int(struct rng *r, const struct seg *sg)
{
	/* Mod 2^64, so the full int64 range gives 0: every draw fits. */
	uint64_t span = (uint64_t)sg->hi - (uint64_t)sg->lo + 1, x = rng_next(r), u;

	if (span != 0) {
		/* Draws below 2^64 mod span would favour the low values. */
		uint64_t reject = (0 - span) % span;

		while (x < reject)
			x = rng_next(r);
		x %= span;
	}
	u = (uint64_t)sg->lo + x;
	/* u is in [lo, hi] mod 2^64; back to int64 without relying on the
	 * implementation-defined conversion. */
	return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

/* Rendering. Nothing here allocates. */

struct out {
	char *buf;
	size_t cap;
	size_t len;
};

static void
put(struct out *o, const char *s, size_t n)
{
	/* One byte is kept for the NUL; the length counts everything. */
	if (o->cap > 0 && o->len < o->cap - 1) {
		size_t room = o->cap - 1 - o->len;

		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void
put_uint(struct out *o, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(o, tmp + i, sizeof(tmp) - i);
}

static void
put_num(struct out *o, double v, const struct seg *sg)
{
	/* Large enough for %.9f of DBL_MAX. */
	char tmp[400];
	int n;

	switch ((enum fmt)sg->fmt) {
	case F_FIXED:
		n = snprintf(tmp, sizeof(tmp), "%.*f", sg->prec, v);
		break;
	case F_EXP:
		n = snprintf(tmp, sizeof(tmp), "%.*e", sg->prec, v);
		break;
	case F_ROUND:
		/* Adding 0 turns a rounded -0 into 0. */
		n = snprintf(tmp, sizeof(tmp), "%.0f", round(v) + 0.0);
		break;
	default:
		n = snprintf(tmp, sizeof(tmp), "%.6g", v);
		break;
	}
	if (n > 0)
		put(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* An integer field: exact by default, else formatted as a number. */
static void
put_int(struct out *o, int64_t v, const struct seg *sg)
{
	if (sg->fmt != F_DEFAULT) {
		put_num(o, (double)v, sg);
		return;
	}
	if (v < 0) {
		put(o, "-", 1);
		put_uint(o, (uint64_t)0 - (uint64_t)v);
	} else {
		put_uint(o, (uint64_t)v);
	}
}

static void
put_count(struct out *o, uint64_t v, const struct seg *sg)
{
	if (sg->fmt != F_DEFAULT)
		put_num(o, (double)v, sg);
	else
		put_uint(o, v);
}

/* s escaped for the inside of a JSON string: the values are ids and
 * names, but one with a quote must not break the payload. */
static void
put_str(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0, i;

	if (s == NULL)
		return;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[6];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(o, s + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			put(o, e, 2);
		} else {
			memcpy(e, "\\u00", 4);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			put(o, e, 6);
		}
	}
	put(o, s + run, i - run);
}

size_t
sim_rr_payload_render(const struct sim_rr_payload *p, const struct sim_rr_payload_vals *v,
    char *buf, size_t cap)
{
	static const struct sim_rr_payload_vals none;
	struct out o = { .buf = buf, .cap = cap };
	struct rng r;

	if (v == NULL)
		v = &none;
	if (p->random)
		rng_seed(&r, v->seed);
	for (size_t i = 0; i < p->nsegs; i++) {
		const struct seg *sg = &p->segs[i];

		switch ((enum kind)sg->kind) {
		case K_LIT:
			put(&o, p->lit + sg->off, sg->len);
			break;
		case K_ID:
			put_str(&o, v->id);
			break;
		case K_N:
			put_count(&o, v->n, sg);
			break;
		case K_GROUP:
			put_str(&o, v->group);
			break;
		case K_METHOD:
			put_str(&o, v->method);
			break;
		case K_SEQ:
			put_count(&o, v->seq, sg);
			break;
		case K_UNIFORM:
			put_num(&o, draw_uniform(&r, sg), sg);
			break;
		case K_INT:
			put_int(&o, draw_int(&r, sg), sg);
			break;
		}
	}
	if (cap > 0)
		buf[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len;
}
