#include "dev_payload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_device.h"
#include "dev_fmt.h"
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

struct seg {
	uint8_t kind;
	struct dev_fmt_spec fmt;
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
		if (dev_fmt_parse(&sg->fmt, colon + 1, fn) != 0) {
			hal_seterr(err, errlen,
			    "bad format '%.*s' in %.*s; " DEV_FMT_EXPECTED_FORMAT, (int)fn,
			    colon + 1, fl, src + open);
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
	struct dev_fmt_scan sc = { .src = src };
	size_t len, maxsegs = 1, lit0 = 0, off = 0;
	enum dev_fmt_tok tok;
	enum hal_err rv = HAL_ERR_NOMEM;

	*out = NULL;
	if (src == NULL) {
		rv = HAL_ERR_INVAL;
		hal_seterr(err, errlen, "no template");
		goto out;
	}
	sc.len = len = strlen(src);
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
	while ((tok = dev_fmt_next(&sc)) != DEV_FMT_END) {
		size_t open = sc.open, close = sc.close;
		struct seg sg;

		if (tok == DEV_FMT_CHAR) {
			p->text[p->ntext++] = sc.c;
			continue;
		}
		off = open;
		if (tok == DEV_FMT_UNCLOSED) {
			rv = HAL_ERR_INVAL;
			hal_seterr(err, errlen, "unclosed field at '%.*s'; " DEV_FMT_EXPECTED_CLOSE,
			    (int)(close - open > 30 ? 30 : close - open), src + open);
			goto out;
		}
		for (size_t k = open + 1; k < close && src[k] != ':'; k++)
			if (!field_char(src[k]) && !(k > open + 6 &&
			    memcmp(src + open + 1, "flash.", 6) == 0)) {
				rv = HAL_ERR_INVAL;
				hal_seterr(err, errlen,
				    "unexpected '%c' in field %.*s; names are letters, digits, '.', '-' and '_'",
				    src[k], (int)(close - open + 1), src + open);
				goto out;
			}
		/* The literal before goes first: a flash key is added to the
		 * text too. */
		if (p->ntext > lit0)
			p->segs[p->nsegs++] = (struct seg){ .kind = K_LIT, .off = (uint32_t)lit0,
			    .len = (uint32_t)(p->ntext - lit0) };
		if ((rv = parse_field(p, m, allowed, src, open, close, &sg, err, errlen)) != HAL_OK)
			goto out;
		p->segs[p->nsegs++] = sg;
		lit0 = p->ntext;
	}
	if (p->ntext > lit0)
		p->segs[p->nsegs++] = (struct seg){ .kind = K_LIT, .off = (uint32_t)lit0,
		    .len = (uint32_t)(p->ntext - lit0) };
	off = 0;
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

static void
put_bool(struct dev_fmt_out *o, int b)
{
	if (b)
		dev_fmt_put(o, "true", 4);
	else
		dev_fmt_put(o, "false", 5);
}

size_t
dev_payload_render(const struct dev_payload *p, struct dev_device *d,
    const struct dev_render_ctx *ctx, char *buf, size_t cap)
{
	/* Without a timebase the wall clock starts at the unix epoch. */
	static const struct hal_timebase epoch = { .time_scale = 1 };
	struct dev_fmt_out o = { .buf = buf, .cap = cap };
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
			dev_fmt_put(&o, p->text + sg->off, sg->len);
			break;
		case K_SENSOR:
			dev_fmt_put_num(&o, vals[sg->idx], &sg->fmt);
			break;
		case K_ACT_OUT:
			dev_fmt_put_num(&o, hal_actuator_output(&d->actuators[sg->idx], ut),
			    &sg->fmt);
			break;
		case K_ACT_TARGET:
			dev_fmt_put_num(&o, hal_actuator_value(&d->actuators[sg->idx]), &sg->fmt);
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
				dev_fmt_put(&o, "\"", 1);
				dev_fmt_put_escaped(&o, v, n);
				dev_fmt_put(&o, "\"", 1);
			} else {
				dev_fmt_put(&o, "null", 4);
			}
			break;
		}
		case K_CLOCK_ISO: {
			char iso[HAL_ISO_SIZE];

			hal_clock_iso(hal_wallclock_unix(&d->wc, ctx->tb != NULL ? ctx->tb : &epoch, t),
			    iso, sizeof(iso));
			dev_fmt_put(&o, iso, HAL_ISO_SIZE - 1);
			break;
		}
		case K_CLOCK_MS: {
			int64_t u = hal_wallclock_unix(&d->wc, ctx->tb != NULL ? ctx->tb : &epoch, t);

			/* Floor, as the ISO form truncates. */
			dev_fmt_put_int(&o, u / 1000000 - (u % 1000000 < 0), &sg->fmt);
			break;
		}
		case K_POWER:
			dev_fmt_put_num(&o, hal_power_pct(&d->power, ut), &sg->fmt);
			break;
		case K_ID:
			dev_fmt_put_str(&o, ctx->id);
			break;
		case K_N:
			dev_fmt_put_int(&o, d->index, &sg->fmt);
			break;
		case K_GROUP:
			dev_fmt_put_str(&o, d->group);
			break;
		case K_SEQ:
			dev_fmt_put_int(&o, ctx->seq, &sg->fmt);
			break;
		case K_BOOTS:
			dev_fmt_put_int(&o, d->boots, &sg->fmt);
			break;
		case K_ARG:
			dev_fmt_put_str(&o, ctx->arg);
			break;
		}
	}
	return dev_fmt_end(&o);
}
