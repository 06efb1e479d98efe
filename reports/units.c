#include "units.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_US 1000ULL
#define NS_PER_MS 1000000ULL
#define NS_PER_S  1000000000ULL
#define NS_PER_M  (60ULL * NS_PER_S)
#define NS_PER_H  (3600ULL * NS_PER_S)

/* The largest duration accepted, 2^63 ns (about 292 years). */
#define DURATION_MAX (1ULL << 63)

struct unit {
	const char *name;
	uint64_t mult;
};

/* Longest names first, so "ms" is not taken for "m" followed by junk. */
static const struct unit duration_units[] = {
	{ "ns", 1 },
	{ "us", NS_PER_US },
	{ "ms", NS_PER_MS },
	{ "s", NS_PER_S },
	{ "m", NS_PER_M },
	{ "h", NS_PER_H },
};

static const struct unit size_units[] = {
	{ "B", 1 },
	{ "KB", 1024 },
	{ "MB", 1024 * 1024 },
};

/* A decimal number split into its parts: "12.50" is whole 12 with the
 * fraction digits "50". The fraction is kept as text so that scaling by the
 * unit stays exact for the common cases. */
struct decimal {
	bool neg;
	uint64_t whole;
	bool whole_overflow;
	const char *frac;
	size_t nfrac;
	const char *end;
};

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads -?DIGITS(.DIGITS)? at s; false when s does not start with one. */
static bool
scan_decimal(const char *s, struct decimal *d)
{
	memset(d, 0, sizeof(*d));
	if (*s == '-') {
		d->neg = true;
		s++;
	}
	if (!is_digit(*s))
		return false;
	while (is_digit(*s)) {
		unsigned dig = (unsigned)(*s - '0');

		if (d->whole > (UINT64_MAX - dig) / 10)
			d->whole_overflow = true;
		else
			d->whole = d->whole * 10 + dig;
		s++;
	}
	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return false;
		d->frac = s;
		while (is_digit(*s))
			s++;
		d->nfrac = (size_t)(s - d->frac);
	}
	d->end = s;
	return true;
}

static bool
decimal_is_zero(const struct decimal *d)
{
	size_t i;

	if (d->whole != 0 || d->whole_overflow)
		return false;
	for (i = 0; i < d->nfrac; i++)
		if (d->frac[i] != '0')
			return false;
	return true;
}

/* Scales d by mult, rounding the fraction to the nearest integer. Returns
 * false when the result exceeds max. */
static bool
decimal_scale(const struct decimal *d, uint64_t mult, uint64_t max, uint64_t *out)
{
	long double frac = 0, place = 1;
	uint64_t v, fv;
	size_t i;

	if (d->whole_overflow || (mult != 0 && d->whole > max / mult))
		return false;
	v = d->whole * mult;
	/* Digits past the 30th cannot move the result by a unit. */
	for (i = 0; i < d->nfrac && i < 30; i++) {
		place /= 10;
		frac += place * (d->frac[i] - '0');
	}
	fv = (uint64_t)(frac * mult + 0.5L);
	if (fv > max - v)
		return false;
	*out = v + fv;
	return true;
}

static const struct unit *
find_unit(const struct unit *units, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(units[i].name, s) == 0)
			return &units[i];
	return NULL;
}

enum rpt_err
rpt_parse_duration(const char *s, uint64_t *ns)
{
	const struct unit *u;
	struct decimal d;
	uint64_t v;

	if (s == NULL || ns == NULL)
		return RPT_ERR_INVAL;
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return RPT_OK;
	}
	if (!scan_decimal(s, &d))
		return RPT_ERR_PARSE;
	u = find_unit(duration_units, sizeof(duration_units) / sizeof(duration_units[0]), d.end);
	if (u == NULL)
		return RPT_ERR_PARSE;
	if (d.neg && !decimal_is_zero(&d))
		return RPT_ERR_RANGE;
	if (!decimal_scale(&d, u->mult, DURATION_MAX, &v))
		return RPT_ERR_RANGE;
	*ns = v;
	return RPT_OK;
}

enum rpt_err
rpt_parse_size(const char *s, uint64_t *bytes)
{
	const struct unit *u;
	struct decimal d;
	uint64_t v;

	if (s == NULL || bytes == NULL)
		return RPT_ERR_INVAL;
	if (!scan_decimal(s, &d))
		return RPT_ERR_PARSE;
	if (*d.end == '\0')
		u = &size_units[0];
	else
		u = find_unit(size_units, sizeof(size_units) / sizeof(size_units[0]), d.end);
	if (u == NULL)
		return RPT_ERR_PARSE;
	/* A fraction of a byte means nothing; of a kilobyte it rounds. */
	if (u->mult == 1 && d.nfrac > 0)
		return RPT_ERR_PARSE;
	if (d.neg && !decimal_is_zero(&d))
		return RPT_ERR_RANGE;
	if (!decimal_scale(&d, u->mult, UINT64_MAX, &v))
		return RPT_ERR_RANGE;
	*bytes = v;
	return RPT_OK;
}

void
rpt_format_duration(uint64_t ns, char *buf, unsigned long len)
{
	/* Minutes and hours only when they print exactly in three decimals:
	 * "1.5m" reads well, "1.6666666667m" does not and would not round
	 * trip through rpt_parse_duration. */
	static const struct unit coarse[] = {
		{ "h", NS_PER_H }, { "m", NS_PER_M },
	};
	static const struct unit fine[] = {
		{ "s", NS_PER_S }, { "ms", NS_PER_MS }, { "us", NS_PER_US }, { "ns", 1 },
	};
	const struct unit *u = NULL;
	char frac[24];
	uint64_t rem;
	size_t i, n;

	if (buf == NULL || len == 0)
		return;
	if (ns == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (i = 0; i < 2 && u == NULL; i++)
		if (ns >= coarse[i].mult && ns % (coarse[i].mult / 1000) == 0)
			u = &coarse[i];
	for (i = 0; i < 4 && u == NULL; i++)
		if (ns >= fine[i].mult)
			u = &fine[i];
	rem = ns % u->mult;
	if (rem == 0) {
		snprintf(buf, len, "%llu%s", (unsigned long long)(ns / u->mult), u->name);
		return;
	}
	/* The remainder as a fraction of the unit, trailing zeros dropped.
	 * Units below the minute are powers of ten of ns, so every remainder
	 * prints exactly; minutes and hours were chosen only when three
	 * decimals suffice. */
	if (u->mult >= NS_PER_M)
		snprintf(frac, sizeof(frac), "%03llu",
		    (unsigned long long)(rem / (u->mult / 1000)));
	else
		snprintf(frac, sizeof(frac), "%0*llu", u->mult == NS_PER_S ? 9 :
		    u->mult == NS_PER_MS ? 6 : 3, (unsigned long long)rem);
	n = strlen(frac);
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	snprintf(buf, len, "%llu.%s%s", (unsigned long long)(ns / u->mult), frac, u->name);
}
