#include "dev_fmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int
is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

enum dev_fmt_tok
dev_fmt_next(struct dev_fmt_scan *sc)
{
	const char *src = sc->src;
	size_t i = sc->pos, close;

	if (i >= sc->len)
		return DEV_FMT_END;
	/* src[i + 1] is at most the NUL, which matches nothing below. */
	sc->c = src[i];
	if (sc->c == '{' && src[i + 1] == '{') {
		sc->escaped++;
		sc->pos = i + 2;
		return DEV_FMT_CHAR;
	}
	if (sc->c == '}' && src[i + 1] == '}' && sc->escaped > 0) {
		sc->escaped--;
		sc->pos = i + 2;
		return DEV_FMT_CHAR;
	}
	if (sc->c != '{' || !is_letter(src[i + 1])) {
		sc->pos = i + 1;
		return DEV_FMT_CHAR;
	}
	close = i + 1;
	while (close < sc->len && src[close] != '}' && src[close] != '{' && src[close] != '"' &&
	    src[close] != '\n')
		close++;
	sc->open = i;
	sc->close = close;
	if (close >= sc->len || src[close] != '}')
		return DEV_FMT_UNCLOSED;
	sc->pos = close + 1;
	return DEV_FMT_FIELD;
}

int
dev_fmt_parse(struct dev_fmt_spec *f, const char *s, size_t n)
{
	if (n == 1 && s[0] == 'd') {
		f->kind = DEV_FMT_ROUND;
		return 0;
	}
	if (n == 3 && s[0] == '.' && s[1] >= '0' && s[1] <= '9' && (s[2] == 'f' || s[2] == 'e')) {
		f->kind = s[2] == 'f' ? DEV_FMT_FIXED : DEV_FMT_EXP;
		f->prec = (uint8_t)(s[1] - '0');
		return 0;
	}
	return -1;
}

void
dev_fmt_put(struct dev_fmt_out *o, const char *s, size_t n)
{
	/* One byte is kept for the NUL; the length counts everything. */
	if (o->cap > 0 && o->len < o->cap - 1) {
		size_t room = o->cap - 1 - o->len;

		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

/* v's decimal digits, without snprintf. */
static void
put_digits(struct dev_fmt_out *o, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	dev_fmt_put(o, tmp + i, sizeof(tmp) - i);
}

void
dev_fmt_put_num(struct dev_fmt_out *o, double v, const struct dev_fmt_spec *f)
{
	/* Large enough for %.9f of DBL_MAX. */
	char tmp[400];
	int n;

	/* JSON has no NaN or infinity. */
	if (!isfinite(v)) {
		dev_fmt_put(o, "null", 4);
		return;
	}
	switch ((enum dev_fmt_kind)f->kind) {
	case DEV_FMT_FIXED:
		n = snprintf(tmp, sizeof(tmp), "%.*f", f->prec, v);
		break;
	case DEV_FMT_EXP:
		n = snprintf(tmp, sizeof(tmp), "%.*e", f->prec, v);
		break;
	case DEV_FMT_ROUND:
		/* Adding 0 turns a rounded -0 into 0. */
		n = snprintf(tmp, sizeof(tmp), "%.0f", round(v) + 0.0);
		break;
	default:
		n = snprintf(tmp, sizeof(tmp), "%.6g", v);
		break;
	}
	if (n > 0)
		dev_fmt_put(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

void
dev_fmt_put_int(struct dev_fmt_out *o, int64_t v, const struct dev_fmt_spec *f)
{
	if (f->kind != DEV_FMT_DEFAULT) {
		dev_fmt_put_num(o, (double)v, f);
		return;
	}
	if (v < 0) {
		dev_fmt_put(o, "-", 1);
		put_digits(o, (uint64_t)0 - (uint64_t)v);
	} else {
		put_digits(o, (uint64_t)v);
	}
}

void
dev_fmt_put_uint(struct dev_fmt_out *o, uint64_t v, const struct dev_fmt_spec *f)
{
	if (f->kind != DEV_FMT_DEFAULT)
		dev_fmt_put_num(o, (double)v, f);
	else
		put_digits(o, v);
}

void
dev_fmt_put_escaped(struct dev_fmt_out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	/* Runs that need no escape go in one piece. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[6];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		dev_fmt_put(o, s + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			dev_fmt_put(o, e, 2);
		} else if (c == '\n') {
			dev_fmt_put(o, "\\n", 2);
		} else {
			memcpy(e, "\\u00", 4);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			dev_fmt_put(o, e, 6);
		}
	}
	dev_fmt_put(o, s + run, n - run);
}

void
dev_fmt_put_str(struct dev_fmt_out *o, const char *s)
{
	if (s != NULL)
		dev_fmt_put_escaped(o, s, strlen(s));
}

size_t
dev_fmt_end(struct dev_fmt_out *o)
{
	if (o->cap > 0)
		o->buf[o->len < o->cap ? o->len : o->cap - 1] = '\0';
	return o->len;
}
