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

enum part_kind { PART_LIT, PART_ID, PART_N, PART_GROUP };

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
	const char *names[4];
	size_t n = 0, i, used = 0;

	if (allowed & SIM_TMPL_ID)
		names[n++] = "{id}";
	if (allowed & SIM_TMPL_N) {
		names[n++] = "{n}";
		names[n++] = "{n:0W}";
	}
	if (allowed & SIM_TMPL_GROUP)
		names[n++] = "{group}";
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
	char list[64];

	p->width = 0;
	if (nlen == 2 && memcmp(name, "id", 2) == 0) {
		p->kind = PART_ID;
		*var = SIM_TMPL_ID;
	} else if (nlen == 5 && memcmp(name, "group", 5) == 0) {
		p->kind = PART_GROUP;
		*var = SIM_TMPL_GROUP;
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
		case PART_ID:
		case PART_GROUP:
			s = p->kind == PART_ID ? v->id : v->group;
			if (s != NULL)
				put(buf, len, &pos, s, strlen(s));
			break;
		case PART_N:
			put(buf, len, &pos, num, format_n(v->n, p->width, num));
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
	char *f;
	size_t i, j, o = 0, level = 0;
	bool wild = false;

	if (t == NULL)
		return NULL;
	/* "+" is never longer than the level it replaces plus one per part. */
	if ((f = malloc(t->litlen + t->nparts + 2)) == NULL)
		return NULL;
	for (i = 0; i < t->nparts; i++) {
		const struct part *p = &t->parts[i];

		if (p->kind != PART_LIT) {
			wild = true;
			continue;
		}
		for (j = 0; j < p->len; j++) {
			char c = t->lit[p->off + j];

			if (c != '/') {
				f[o++] = c;
				continue;
			}
			if (wild) {
				o = level;
				f[o++] = '+';
			}
			f[o++] = '/';
			level = o;
			wild = false;
		}
	}
	if (wild) {
		o = level;
		f[o++] = '+';
	}
	f[o] = '\0';
	return f;
}

const char *
sim_tmpl_source(const struct sim_tmpl *t)
{
	return t != NULL ? t->src : NULL;
}
