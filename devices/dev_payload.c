#include "dev_payload.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_device.h"
#include "dev_model.h"
#include "hal_clock.h"

/* Distinct sensors one template may show: their values are read once per
 * render into a fixed array on the stack. */
#define MAX_SLOTS 16

enum kind {
	K_LIT,
	K_SENSOR,
	K_ACT_OUT,
	K_ACT_TARGET,
	K_ACT_MOVING,
	K_ACT_JAMMED,
	K_FLASH,
	K_CLOCK_ISO,
	K_CLOCK_MS,
	K_POWER,
	K_ID,
	K_N,
	K_GROUP,
	K_SEQ,
	K_BOOTS,
	K_ARG,
};

enum fmt { F_DEFAULT, F_FIXED, F_EXP, F_INT };

struct seg {
	uint8_t kind;
	uint8_t fmt;
	uint8_t prec;
	uint16_t idx;           /* sensor slot or actuator index */
	uint32_t off, len;      /* literal text or flash key (NUL-terminated), in text */
	uint32_t name_off;      /* the field's name in src, for dev_payload_uses */
	uint32_t name_len;
};

/* A sensor the template shows and the actuators whose effects feed it. */
struct slot {
	uint16_t sensor;
	uint16_t act0, nact;    /* in acts */
};

struct dev_payload {
	struct seg *segs;
	size_t nsegs;
	struct slot slots[MAX_SLOTS];
	size_t nslots;
	uint16_t *acts;
	size_t nacts;
	char *text;
	size_t ntext;
	char *src;
};

void
dev_payload_free(struct dev_payload *p)
{
	if (p == NULL)
		return;
	free(p->segs);
	free(p->acts);
	free(p->text);
	free(p->src);
	free(p);
}

/* Compiling. */

struct field_name {
	const char *name;
	enum kind kind;
	int number;             /* takes a number format */
};

static const struct field_name simple[] = {
	{ "clock.iso", K_CLOCK_ISO, 0 },
	{ "clock.unix_ms", K_CLOCK_MS, 1 },
	{ "power.pct", K_POWER, 1 },
	{ "id", K_ID, 0 },
	{ "n", K_N, 1 },
	{ "group", K_GROUP, 0 },
	{ "seq", K_SEQ, 1 },
	{ "boots", K_BOOTS, 1 },
	{ "arg", K_ARG, 0 },
};

static int
field_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-' || c == '.';
}

static int
eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* Index of the sensor or actuator named by s[0..n), or -1. */
static int
lookup(const struct dev_model *m, int actuators, const char *s, size_t n)
{
	size_t cnt = actuators ? m->nactuators : m->nsensors;

	for (size_t i = 0; i < cnt; i++) {
		const char *nm = actuators ? m->actuators[i].name : m->sensors[i].name;

		if (nm != NULL && eq(s, n, nm))
			return (int)i;
	}
	return -1;
}

static void
list_names(char *buf, size_t len, const struct dev_model *m, int actuators)
{
	size_t cnt = actuators ? m->nactuators : m->nsensors, pos = 0;

	snprintf(buf, len, "none");
	for (size_t i = 0; i < cnt && pos < len; i++) {
		const char *nm = actuators ? m->actuators[i].name : m->sensors[i].name;

		pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", i > 0 ? ", " : "",
		    nm != NULL ? nm : "");
	}
}

/* The slot of sensor si, added with its feeding actuators if new. */
static int
slot_for(struct dev_payload *p, const struct dev_model *m, int si)
{
	struct slot *sl;

	for (size_t i = 0; i < p->nslots; i++)
		if (p->slots[i].sensor == si)
			return (int)i;
	if (p->nslots == MAX_SLOTS)
		return -1;
	sl = &p->slots[p->nslots];
	sl->sensor = (uint16_t)si;
	sl->act0 = (uint16_t)p->nacts;
	sl->nact = 0;
	/* By name rather than sensor_idx, so that a template compiles the
	 * same against a model that has not been checked yet. */
	for (size_t a = 0; a < m->nactuators; a++)
		if (m->actuators[a].sensor != NULL &&
		    dev_model_sensor(m, m->actuators[a].sensor) == si) {
			p->acts[p->nacts++] = (uint16_t)a;
			sl->nact++;
		}
	return (int)p->nslots++;
}

/* Parses ":FORMAT" at s[0..n) into sg. */
static int
parse_format(const char *s, size_t n, struct seg *sg)
{
	if (n == 1 && s[0] == 'd') {
		sg->fmt = F_INT;
		return 0;
	}
	if (n == 3 && s[0] == '.' && s[1] >= '0' && s[1] <= '9' && (s[2] == 'f' || s[2] == 'e')) {
		sg->fmt = s[2] == 'f' ? F_FIXED : F_EXP;
		sg->prec = (uint8_t)(s[1] - '0');
		return 0;
	}
	return -1;
}

/* Parses the field src[open..close], braces included, into sg. */
static enum hal_err
parse_field(struct dev_payload *p, const struct dev_model *m, unsigned allowed, const char *src,
    size_t open, size_t close, struct seg *sg, char *err, size_t errlen)
{
	const char *name = src + open + 1, *colon;
	size_t n = close - open - 1, fn = 0;
	int fl = (int)(close - open + 1), number = 1, idx;
	char list[160];

	*sg = (struct seg){ .kind = K_LIT, .name_off = (uint32_t)(open + 1) };
	if ((colon = memchr(name, ':', n)) != NULL) {
		fn = n - (size_t)(colon - name) - 1;
		n = (size_t)(colon - name);
		if (parse_format(colon + 1, fn, sg) != 0) {
			hal_seterr(err, errlen,
			    "bad format '%.*s' in %.*s; expected .Nf or .Ne with N from 0 to 9, or d",
			    (int)fn, colon + 1, fl, src + open);
			return HAL_ERR_INVAL;
		}
	}
	sg->name_len = (uint32_t)n;
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (eq(name, n, simple[i].name)) {
			sg->kind = (uint8_t)simple[i].kind;
			number = simple[i].number;
		}
	if (sg->kind == K_ARG && !(allowed & DEV_PAYLOAD_ARG)) {
		hal_seterr(err, errlen, "{arg} is only for command responses");
		return HAL_ERR_INVAL;
	}
	if (sg->kind == K_LIT && n > 7 && memcmp(name, "sensor.", 7) == 0) {
		if ((idx = lookup(m, 0, name + 7, n - 7)) < 0) {
			list_names(list, sizeof(list), m, 0);
			hal_seterr(err, errlen, "unknown sensor '%.*s' in %.*s; the model has: %s",
			    (int)(n - 7), name + 7, fl, src + open, list);
			return HAL_ERR_INVAL;
		}
		if ((idx = slot_for(p, m, idx)) < 0) {
			hal_seterr(err, errlen, "%.*s: a template shows at most %d sensors", fl,
			    src + open, MAX_SLOTS);
			return HAL_ERR_INVAL;
		}
		sg->kind = K_SENSOR;
		sg->idx = (uint16_t)idx;
	} else if (sg->kind == K_LIT && n > 9 && memcmp(name, "actuator.", 9) == 0) {
		static const struct {
			const char *suffix;
			enum kind kind;
		} sub[] = {
			{ ".target", K_ACT_TARGET }, { ".moving", K_ACT_MOVING }, { ".jammed", K_ACT_JAMMED },
		};
		const char *an = name + 9;
		size_t alen = n - 9;

		sg->kind = K_ACT_OUT;
		/* The whole rest is the name unless it ends in a known
		 * attribute and the name before it exists. */
		if ((idx = lookup(m, 1, an, alen)) < 0) {
			for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
				size_t sl = strlen(sub[i].suffix);

				if (alen > sl && memcmp(an + alen - sl, sub[i].suffix, sl) == 0) {
					alen -= sl;
					sg->kind = (uint8_t)sub[i].kind;
					break;
				}
			}
			idx = lookup(m, 1, an, alen);
		}
		if (idx < 0) {
			list_names(list, sizeof(list), m, 1);
			hal_seterr(err, errlen, "unknown actuator '%.*s' in %.*s; the model has: %s",
			    (int)alen, an, fl, src + open, list);
			return HAL_ERR_INVAL;
		}
		sg->idx = (uint16_t)idx;
		number = sg->kind == K_ACT_OUT || sg->kind == K_ACT_TARGET;
	} else if (sg->kind == K_LIT && n > 6 && memcmp(name, "flash.", 6) == 0) {
		if (n - 6 > HAL_FLASH_KEY_MAX) {
			hal_seterr(err, errlen, "flash key longer than %d bytes in %.*s",
			    HAL_FLASH_KEY_MAX, fl, src + open);
			return HAL_ERR_INVAL;
		}
		sg->kind = K_FLASH;
		sg->off = (uint32_t)p->ntext;
		sg->len = (uint32_t)(n - 6);
		memcpy(p->text + p->ntext, name + 6, n - 6);
		p->ntext += n - 6;
		p->text[p->ntext++] = '\0';
		number = 0;
	}
	if (sg->kind == K_LIT) {
		hal_seterr(err, errlen,
		    "unknown field %.*s; expected sensor.S, actuator.A (.target, .moving, .jammed), flash.KEY, clock.iso, clock.unix_ms, power.pct, id, n, group, seq, boots%s",
		    fl, src + open, (allowed & DEV_PAYLOAD_ARG) ? " or arg" : "");
		return HAL_ERR_INVAL;
	}
	if (colon != NULL && !number) {
		hal_seterr(err, errlen, "%.*s takes no format: it is not a number", fl, src + open);
		return HAL_ERR_INVAL;
	}
	return HAL_OK;
}

enum hal_err
dev_payload_compile(const char *src, const struct dev_model *m, unsigned allowed,
    struct dev_payload **out, char *err, size_t errlen, size_t *offset)
{
	struct dev_payload *p = NULL;
	size_t len, maxsegs = 1, i = 0, lit0 = 0, off = 0, escaped = 0;
	enum hal_err rv = HAL_ERR_NOMEM;

	*out = NULL;
	if (src == NULL) {
		rv = HAL_ERR_INVAL;
		hal_seterr(err, errlen, "no template");
		goto out;
	}
	len = strlen(src);
	if (len > UINT32_MAX / 2) {
		rv = HAL_ERR_INVAL;
		hal_seterr(err, errlen, "template too long");
		goto out;
	}
	/* A field and the literal before it are two segments per '{'. */
	for (size_t k = 0; k < len; k++)
		maxsegs += src[k] == '{' ? 2 : 0;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->segs = calloc(maxsegs, sizeof(*p->segs))) == NULL ||
	    (p->acts = calloc(MAX_SLOTS * (m->nactuators + 1), sizeof(*p->acts))) == NULL ||
	    (p->text = malloc(2 * len + 2)) == NULL || (p->src = strdup(src)) == NULL)
		goto out;
	rv = HAL_OK;
	while (i < len) {
		char c = src[i];

		/* {{ is a brace; }} is one only when it closes a {{, so that
		 * JSON's own nested objects, "}}", come out as written. */
		if (c == '{' && src[i + 1] == '{') {
			p->text[p->ntext++] = c;
			escaped++;
			i += 2;
			continue;
		}
		if (c == '}' && src[i + 1] == '}' && escaped > 0) {
			p->text[p->ntext++] = c;
			escaped--;
			i += 2;
			continue;
		}
		/* JSON puts a quote or a space after '{', never a letter, so
		 * only a letter makes a field and the template's own braces
		 * need no escaping. */
		if (c == '{' && ((src[i + 1] >= 'a' && src[i + 1] <= 'z') ||
		    (src[i + 1] >= 'A' && src[i + 1] <= 'Z'))) {
			size_t close = i + 1;
			struct seg sg;

			while (close < len && src[close] != '}' && src[close] != '{' &&
			    src[close] != '"' && src[close] != '\n')
				close++;
			if (close >= len || src[close] != '}') {
				off = i;
				rv = HAL_ERR_INVAL;
				hal_seterr(err, errlen,
				    "unclosed field at '%.*s'; expected '}' (write {{ for a literal brace)",
				    (int)(close - i > 30 ? 30 : close - i), src + i);
				goto out;
			}
			for (size_t k = i + 1; k < close && src[k] != ':'; k++)
				if (!field_char(src[k]) && !(k > i + 6 &&
				    memcmp(src + i + 1, "flash.", 6) == 0)) {
					off = i;
					rv = HAL_ERR_INVAL;
					hal_seterr(err, errlen,
					    "unexpected '%c' in field %.*s; names are letters, digits, '.', '-' and '_'",
					    src[k], (int)(close - i + 1), src + i);
					goto out;
				}
			/* The literal before goes first: a flash key is added to
			 * the text too. */
			if (p->ntext > lit0)
				p->segs[p->nsegs++] = (struct seg){ .kind = K_LIT,
				    .off = (uint32_t)lit0, .len = (uint32_t)(p->ntext - lit0) };
			if ((rv = parse_field(p, m, allowed, src, i, close, &sg, err, errlen)) !=
			    HAL_OK) {
				off = i;
				goto out;
			}
			p->segs[p->nsegs++] = sg;
			lit0 = p->ntext;
			i = close + 1;
			continue;
		}
		p->text[p->ntext++] = c;
		i++;
	}
	if (p->ntext > lit0)
		p->segs[p->nsegs++] = (struct seg){ .kind = K_LIT, .off = (uint32_t)lit0,
		    .len = (uint32_t)(p->ntext - lit0) };
	*out = p;
	p = NULL;
out:
	if (offset != NULL)
		*offset = off;
	dev_payload_free(p);
	return rv;
}

int
dev_payload_uses(const struct dev_payload *p, const char *field)
{
	size_t fl = strlen(field);

	for (size_t i = 0; i < p->nsegs; i++) {
		const struct seg *sg = &p->segs[i];
		const char *nm = p->src + sg->name_off;

		if (sg->kind == K_LIT)
			continue;
		/* "sensor" matches any sensor.S. */
		if (eq(nm, sg->name_len, field) ||
		    (fl < sg->name_len && memcmp(nm, field, fl) == 0 && nm[fl] == '.' &&
		    memchr(field, '.', fl) == NULL))
			return 1;
	}
	return 0;
}

/* Rendering. Nothing here allocates. */

struct out {
	char *buf;
	size_t cap;
	size_t len;
};

static inline void
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

	if (!isfinite(v)) {
		put(o, "null", 4);
		return;
	}
	switch (sg->fmt) {
	case F_FIXED:
		n = snprintf(tmp, sizeof(tmp), "%.*f", sg->prec, v);
		break;
	case F_EXP:
		n = snprintf(tmp, sizeof(tmp), "%.*e", sg->prec, v);
		break;
	case F_INT:
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

/* s[0..n) escaped for the inside of a JSON string. */
static void
put_escaped(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
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
		} else if (c == '\n') {
			put(o, "\\n", 2);
		} else {
			memcpy(e, "\\u00", 4);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			put(o, e, 6);
		}
	}
	put(o, s + run, n - run);
}

static void
put_str(struct out *o, const char *s)
{
	if (s != NULL)
		put_escaped(o, s, strlen(s));
}

static void
put_bool(struct out *o, int b)
{
	if (b)
		put(o, "true", 4);
	else
		put(o, "false", 5);
}

size_t
dev_payload_render(const struct dev_payload *p, struct dev_device *d,
    const struct dev_render_ctx *ctx, char *buf, size_t cap)
{
	/* Without a timebase the wall clock starts at the unix epoch. */
	static const struct hal_timebase epoch = { .time_scale = 1 };
	struct out o = { .buf = buf, .cap = cap };
	double vals[MAX_SLOTS];
	int64_t t = ctx->t;
	uint64_t ut = t > 0 ? (uint64_t)t : 0;

	/* Every sensor shown is read once, after its actuators' effects
	 * are brought up to t, so that a value shown twice is the same. */
	for (size_t i = 0; i < p->nslots; i++) {
		const struct slot *sl = &p->slots[i];
		struct hal_sensor *s = &d->sensors[sl->sensor];

		if (sl->nact > 0) {
			double in = 0;

			for (size_t k = 0; k < sl->nact; k++)
				in += hal_actuator_effect(&d->actuators[p->acts[sl->act0 + k]], ut);
			hal_sensor_set_input(s, in);
		}
		vals[i] = hal_sensor_read(s, t);
	}
	for (size_t i = 0; i < p->nsegs; i++) {
		const struct seg *sg = &p->segs[i];

		switch ((enum kind)sg->kind) {
		case K_LIT:
			put(&o, p->text + sg->off, sg->len);
			break;
		case K_SENSOR:
			put_num(&o, vals[sg->idx], sg);
			break;
		case K_ACT_OUT:
			put_num(&o, hal_actuator_output(&d->actuators[sg->idx], ut), sg);
			break;
		case K_ACT_TARGET:
			put_num(&o, hal_actuator_value(&d->actuators[sg->idx]), sg);
			break;
		case K_ACT_MOVING:
			put_bool(&o, hal_actuator_moving(&d->actuators[sg->idx], ut));
			break;
		case K_ACT_JAMMED:
			put_bool(&o, hal_actuator_jammed(&d->actuators[sg->idx]));
			break;
		case K_FLASH: {
			const void *v;
			size_t n;

			if (d->flash != NULL &&
			    hal_flash_get(d->flash, p->text + sg->off, &v, &n) == HAL_OK) {
				put(&o, "\"", 1);
				put_escaped(&o, v, n);
				put(&o, "\"", 1);
			} else {
				put(&o, "null", 4);
			}
			break;
		}
		case K_CLOCK_ISO: {
			char iso[HAL_ISO_SIZE];

			hal_clock_iso(hal_wallclock_unix(&d->wc, ctx->tb != NULL ? ctx->tb : &epoch, t),
			    iso, sizeof(iso));
			put(&o, iso, HAL_ISO_SIZE - 1);
			break;
		}
		case K_CLOCK_MS: {
			int64_t u = hal_wallclock_unix(&d->wc, ctx->tb != NULL ? ctx->tb : &epoch, t);

			/* Floor, as the ISO form truncates. */
			put_int(&o, u / 1000000 - (u % 1000000 < 0), sg);
			break;
		}
		case K_POWER:
			put_num(&o, hal_power_pct(&d->power, ut), sg);
			break;
		case K_ID:
			put_str(&o, ctx->id);
			break;
		case K_N:
			put_int(&o, d->index, sg);
			break;
		case K_GROUP:
			put_str(&o, d->group);
			break;
		case K_SEQ:
			put_int(&o, ctx->seq, sg);
			break;
		case K_BOOTS:
			put_int(&o, d->boots, sg);
			break;
		case K_ARG:
			put_str(&o, ctx->arg);
			break;
		}
	}
	if (cap > 0)
		buf[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len;
}
