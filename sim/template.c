/* Templates are compiled once into literal and variable parts, so that
 * rendering the id and topic of a million devices is a loop over a few
 * parts with no allocation and no parsing. */
#include "template.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Wider padding than a uint32 has digits is allowed, but not without end. */
#define MAX_WIDTH 20

enum part_kind { PART_LIT, PART_ID, PART_N, PART_GROUP, PART_METHOD, PART_RID, PART_STATUS };

struct part {
	enum part_kind kind;
	size_t off, len;        /* PART_LIT: the text, in lit */
	unsigned width;         /* PART_N: zero-padded width, 0 for none */
};

struct sim_tmpl {
	char *src;
	char *lit;              /* literal text with "{{" and "}}" unescaped */
	size_t litlen;
	struct part *parts;
	size_t nparts;
	unsigned uses;
};

static void
add_lit(struct sim_tmpl *t, char c)
{
	struct part *p = t->nparts > 0 ? &t->parts[t->nparts - 1] : NULL;

	/* Consecutive literal bytes share a part: fewer parts, faster renders. */
	if (p == NULL || p->kind != PART_LIT || p->off + p->len != t->litlen) {
		p = &t->parts[t->nparts++];
		p->kind = PART_LIT;
		p->off = t->litlen;
		p->len = 0;
	}
	t->lit[t->litlen++] = c;
	p->len++;
}

/* The variables in allowed, for messages: "{n}, {n:0W} or {group}". */
static void
allowed_list(unsigned allowed, char *buf, size_t len)
{
	const char *names[8];
	size_t n = 0, i, used = 0;

	if (allowed & SIM_TMPL_ID)
		names[n++] = "{id}";
	if (allowed & SIM_TMPL_N) {
		names[n++] = "{n}";
		names[n++] = "{n:0W}";
	}
	if (allowed & SIM_TMPL_GROUP)
		names[n++] = "{group}";
	if (allowed & SIM_TMPL_METHOD)
		names[n++] = "{method}";
	if (allowed & SIM_TMPL_RID)
		names[n++] = "{rid}";
	if (allowed & SIM_TMPL_STATUS)
		names[n++] = "{status}";
	buf[0] = '\0';
	if (n == 0) {
		snprintf(buf, len, "no variables");
		return;
	}
	for (i = 0; i < n && used < len; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int k = snprintf(buf + used, len - used, "%s%s", sep, names[i]);

		if (k < 0)
			break;
		used += (size_t)k;
	}
}

/* Parses the variable between the braces at s[0] = '{' and s[len-1] = '}'. */
static enum sim_err
parse_var(const char *s, size_t len, unsigned allowed, struct part *p, unsigned *var,
    char *err, size_t errlen)
{
	const char *name = s + 1;
	size_t nlen = len - 2;
	char list[128];

	p->width = 0;
	if (nlen == 2 && memcmp(name, "id", 2) == 0) {
		p->kind = PART_ID;
		*var = SIM_TMPL_ID;
	} else if (nlen == 5 && memcmp(name, "group", 5) == 0) {
		p->kind = PART_GROUP;
		*var = SIM_TMPL_GROUP;
	} else if (nlen == 6 && memcmp(name, "method", 6) == 0) {
		p->kind = PART_METHOD;
		*var = SIM_TMPL_METHOD;
	} else if (nlen == 3 && memcmp(name, "rid", 3) == 0) {
		p->kind = PART_RID;
		*var = SIM_TMPL_RID;
	} else if (nlen == 6 && memcmp(name, "status", 6) == 0) {
		p->kind = PART_STATUS;
		*var = SIM_TMPL_STATUS;
	} else if (nlen == 1 && name[0] == 'n') {
		p->kind = PART_N;
		*var = SIM_TMPL_N;
	} else if (nlen >= 2 && name[0] == 'n' && name[1] == ':') {
		size_t i;
		unsigned w = 0;

		/* "{n:0W}": the 0 says zero-padded, as in printf. */
		if (nlen < 4 || name[2] != '0')
			goto badwidth;
		for (i = 3; i < nlen; i++) {
			if (name[i] < '0' || name[i] > '9' || w > MAX_WIDTH)
				goto badwidth;
			w = w * 10 + (unsigned)(name[i] - '0');
		}
		if (w < 1 || w > MAX_WIDTH)
			goto badwidth;
		p->kind = PART_N;
		p->width = w;
		*var = SIM_TMPL_N;
	} else {
		allowed_list(allowed, list, sizeof(list));
		snprintf(err, errlen, "unknown variable {%.*s}; expected %s",
		    (int)(nlen > 40 ? 40 : nlen), name, list);
		return SIM_ERR_SCENARIO;
	}
	if (!(allowed & *var)) {
		allowed_list(allowed, list, sizeof(list));
		snprintf(err, errlen, "{%.*s} cannot be used here; expected %s",
		    (int)nlen, name, list);
		return SIM_ERR_SCENARIO;
	}
	return SIM_OK;

badwidth:
	snprintf(err, errlen, "expected {n:0W} with a width W from 1 to %d, like {n:05}",
	    MAX_WIDTH);
	return SIM_ERR_SCENARIO;
}

enum sim_err
sim_tmpl_compile(const char *s, unsigned allowed, struct sim_tmpl **out,
    char *err, size_t errlen, size_t *col)
{
	struct sim_tmpl *t = NULL;
	char dummy[8];
	size_t n, i = 0, errcol = 0, maxparts = 1;
	enum sim_err rv = SIM_OK;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (out != NULL)
		*out = NULL;
	if (s == NULL || out == NULL)
		return SIM_ERR_INVAL;
	n = strlen(s);
	/* Literal runs only break at variables, and each variable starts
	 * with a '{': that bounds the parts without sizing them by n. */
	for (i = 0; i < n; i++)
		maxparts += s[i] == '{' ? 2 : 0;
	i = 0;
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->src = strdup(s)) == NULL ||
	    (t->lit = malloc(n + 1)) == NULL ||
	    (t->parts = calloc(maxparts, sizeof(*t->parts))) == NULL) {
		rv = SIM_ERR_NOMEM;
		goto out;
	}
	while (i < n) {
		const char *end;
		unsigned var;

		if ((s[i] == '{' || s[i] == '}') && s[i + 1] == s[i]) {
			add_lit(t, s[i]);
			i += 2;
			continue;
		}
		if (s[i] == '}') {
			snprintf(err, errlen, "unmatched '}'; write '}}' for a literal brace");
			errcol = i;
			rv = SIM_ERR_SCENARIO;
			goto out;
		}
		if (s[i] != '{') {
			add_lit(t, s[i++]);
			continue;
		}
		if ((end = strchr(s + i + 1, '}')) == NULL) {
			snprintf(err, errlen, "unclosed '{'; write '{{' for a literal brace");
			errcol = i;
			rv = SIM_ERR_SCENARIO;
			goto out;
		}
		rv = parse_var(s + i, (size_t)(end - s) - i + 1, allowed, &t->parts[t->nparts],
		    &var, err, errlen);
		if (rv != SIM_OK) {
			errcol = i;
			goto out;
		}
		t->nparts++;
		t->uses |= var;
		i = (size_t)(end - s) + 1;
	}
	t->lit[t->litlen] = '\0';

out:
	if (rv != SIM_OK) {
		if (col != NULL)
			*col = errcol;
		sim_tmpl_free(t);
		t = NULL;
	}
	*out = t;
	return rv;
}

void
sim_tmpl_free(struct sim_tmpl *t)
{
	if (t == NULL)
		return;
	free(t->src);
	free(t->lit);
	free(t->parts);
	free(t);
}

/* Appends like snprintf: writes what fits, always counts everything. */
static void
put(char *buf, size_t len, size_t *pos, const char *s, size_t n)
{
	if (len > 0 && *pos < len - 1) {
		size_t room = len - 1 - *pos;

		memcpy(buf + *pos, s, n < room ? n : room);
	}
	*pos += n;
}

static size_t
format_n(uint32_t n, unsigned width, char *buf)
{
	char digits[16];
	size_t nd = 0, i = 0;

	do {
		digits[nd++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	while (i + nd < width)
		buf[i++] = '0';
	while (nd > 0)
		buf[i++] = digits[--nd];
	return i;
}

static const char *
str_val(enum part_kind k, const struct sim_tmpl_vals *v)
{
	switch (k) {
	case PART_ID: return v->id;
	case PART_GROUP: return v->group;
	case PART_METHOD: return v->method;
	case PART_RID: return v->rid;
	case PART_STATUS: return v->status;
	default: return NULL;
	}
}

static unsigned
var_of(enum part_kind k)
{
	switch (k) {
	case PART_ID: return SIM_TMPL_ID;
	case PART_N: return SIM_TMPL_N;
	case PART_GROUP: return SIM_TMPL_GROUP;
	case PART_METHOD: return SIM_TMPL_METHOD;
	case PART_RID: return SIM_TMPL_RID;
	case PART_STATUS: return SIM_TMPL_STATUS;
	default: return 0;
	}
}

size_t
sim_tmpl_render(const struct sim_tmpl *t, const struct sim_tmpl_vals *v, char *buf, size_t len)
{
	static const struct sim_tmpl_vals none;
	size_t pos = 0, i;

	if (v == NULL)
		v = &none;
	for (i = 0; t != NULL && i < t->nparts; i++) {
		const struct part *p = &t->parts[i];
		char num[MAX_WIDTH + 4];
		const char *s;

		switch (p->kind) {
		case PART_LIT:
			put(buf, len, &pos, t->lit + p->off, p->len);
			break;
		case PART_N:
			put(buf, len, &pos, num, format_n(v->n, p->width, num));
			break;
		default:
			if ((s = str_val(p->kind, v)) != NULL)
				put(buf, len, &pos, s, strlen(s));
			break;
		}
	}
	if (len > 0)
		buf[pos < len ? pos : len - 1] = '\0';
	return pos;
}

unsigned
sim_tmpl_uses(const struct sim_tmpl *t)
{
	return t != NULL ? t->uses : 0;
}

char *
sim_tmpl_to_filter(const struct sim_tmpl *t)
{
	static const struct sim_tmpl_vals none;

	return sim_tmpl_filter(t, &none, ~0u);
}

const char *
sim_tmpl_source(const struct sim_tmpl *t)
{
	return t != NULL ? t->src : NULL;
}

/* One part rendered into buf (which has room for any value); its length. */
static size_t
render_part(const struct sim_tmpl *t, const struct part *p, const struct sim_tmpl_vals *v,
    char *num, const char **out)
{
	const char *s;

	switch (p->kind) {
	case PART_LIT:
		*out = t->lit + p->off;
		return p->len;
	case PART_N:
		*out = num;
		return format_n(v->n, p->width, num);
	default:
		s = str_val(p->kind, v);
		*out = s != NULL ? s : "";
		return strlen(*out);
	}
}

char *
sim_tmpl_filter(const struct sim_tmpl *t, const struct sim_tmpl_vals *v, unsigned wild)
{
	char *f = NULL, num[MAX_WIDTH + 4];
	size_t cap = 64, o = 0, level = 0;
	bool is_wild = false;

	if (t == NULL || (f = malloc(cap)) == NULL)
		return NULL;
	for (size_t i = 0; i < t->nparts; i++) {
		const struct part *p = &t->parts[i];
		const char *s;
		size_t n = render_part(t, p, v, num, &s);

		if (p->kind != PART_LIT && (var_of(p->kind) & wild)) {
			is_wild = true;
			continue;
		}
		if (o + n + 2 > cap) {
			char *g;

			while (o + n + 2 > cap)
				cap *= 2;
			if ((g = realloc(f, cap)) == NULL) {
				free(f);
				return NULL;
			}
			f = g;
		}
		for (size_t j = 0; j < n; j++) {
			/* Only a literal's '/' ends a level: values are one level. */
			if (s[j] != '/' || p->kind != PART_LIT) {
				f[o++] = s[j];
				continue;
			}
			if (is_wild) {
				o = level;
				f[o++] = '+';
			}
			f[o++] = '/';
			level = o;
			is_wild = false;
		}
	}
	if (is_wild) {
		o = level;
		f[o++] = '+';
	}
	f[o] = '\0';
	return f;
}

bool
sim_tmpl_match(const struct sim_tmpl *t, const struct sim_tmpl_vals *v, const char *topic,
    size_t len, struct sim_tmpl_caps *caps)
{
	char num[MAX_WIDTH + 4];
	size_t pos = 0;

	memset(caps, 0, sizeof(*caps));
	for (size_t i = 0; t != NULL && i < t->nparts; i++) {
		const struct part *p = &t->parts[i];
		const char *s;
		size_t n, end, *off, *clen;

		switch (p->kind) {
		case PART_METHOD: off = &caps->method_off; clen = &caps->method_len; break;
		case PART_RID: off = &caps->rid_off; clen = &caps->rid_len; break;
		case PART_STATUS: off = &caps->status_off; clen = &caps->status_len; break;
		case PART_ID:
		case PART_N:
		case PART_GROUP:
			/* Without a device, its variables are captured too. */
			if (v == NULL) {
				off = p->kind == PART_ID ? &caps->id_off : &caps->other_off;
				clen = p->kind == PART_ID ? &caps->id_len : &caps->other_len;
				break;
			}
			/* fall through */
		default:
			n = render_part(t, p, v, num, &s);
			if (len - pos < n || memcmp(topic + pos, s, n) != 0)
				return false;
			pos += n;
			continue;
		}
		/* A capture runs to the start of the next literal within its
		 * level, or to the end of the level. */
		end = pos;
		if (i + 1 < t->nparts && t->parts[i + 1].kind == PART_LIT) {
			const struct part *q = &t->parts[i + 1];

			while (end < len && topic[end] != '/' && (len - end < q->len ||
			    memcmp(topic + end, t->lit + q->off, q->len) != 0))
				end++;
		} else {
			while (end < len && topic[end] != '/')
				end++;
		}
		if (end == pos)
			return false;
		*off = pos;
		*clen = end - pos;
		pos = end;
	}
	return pos == len;
}
