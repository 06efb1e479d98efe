#include "telemetry.h"

#include <stdlib.h>
#include <string.h>

#define TM_VERSION 1

/* Per device: every seq below low has arrived; bits holds arrivals from
 * base (a multiple of 64, <= low) upward, allocated only once a gap shows,
 * so in-order traffic costs no memory beyond these fields. */
struct track {
	uint32_t sent;
	uint32_t received;
	uint32_t dups;
	uint32_t low;
	uint32_t max_plus1;
	uint32_t base;
	uint32_t nwords;
	uint64_t *bits;
};

struct sim_tm_checker {
	uint32_t ndevices;
	uint32_t run_id;
	struct track *dev;
	struct sim_tm_counts n;
	struct rpt_hist *lat;
	struct rpt_hist *win;       /* the same since the last window reset */
};

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t
fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

void
sim_tm_encode(uint8_t *buf, const struct sim_tm_hdr *h)
{
	memcpy(buf, "FSIM", 4);
	buf[4] = TM_VERSION;
	buf[5] = buf[6] = buf[7] = 0;
	put32(buf + 8, h->run_id);
	put32(buf + 12, h->device);
	put32(buf + 16, h->seq);
	put32(buf + 20, (uint32_t)h->intended_ns);
	put32(buf + 24, (uint32_t)(h->intended_ns >> 32));
	put32(buf + 28, fnv1a(buf, 28));
}

static const char hexd[] = "0123456789abcdef";
/* ,"fsim":"  64 hex  "} */
static const char json_key[] = ",\"fsim\":\"";
#define JSON_KEY_LEN (sizeof(json_key) - 1)
#define JSON_TAIL_LEN (JSON_KEY_LEN + 2 * SIM_TELEMETRY_MIN_SIZE + 2)

size_t
sim_tm_encode_json(uint8_t *buf, size_t len, const struct sim_tm_hdr *h)
{
	uint8_t bin[SIM_TELEMETRY_MIN_SIZE];
	size_t end = len, prev;
	uint8_t *p;

	while (end > 0 && buf[end - 1] != '}')
		end--;
	if (end == 0)
		return len;
	end--;
	/* An empty object takes the member without a comma. */
	prev = end;
	while (prev > 0 && (buf[prev - 1] == ' ' || buf[prev - 1] == '\n' ||
	    buf[prev - 1] == '\t' || buf[prev - 1] == '\r'))
		prev--;
	sim_tm_encode(bin, h);
	p = buf + end;
	if (prev > 0 && buf[prev - 1] == '{') {
		p = buf + prev;
		memcpy(p, &json_key[1], JSON_KEY_LEN - 1);
		p += JSON_KEY_LEN - 1;
	} else {
		memcpy(p, json_key, JSON_KEY_LEN);
		p += JSON_KEY_LEN;
	}
	for (size_t i = 0; i < sizeof(bin); i++) {
		*p++ = (uint8_t)hexd[bin[i] >> 4];
		*p++ = (uint8_t)hexd[bin[i] & 15];
	}
	*p++ = '"';
	*p++ = '}';
	return (size_t)(p - buf);
}

static int
unhex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static enum sim_err
decode_bin(const uint8_t *buf, size_t len, struct sim_tm_hdr *h);

enum sim_err
sim_tm_decode(const uint8_t *buf, size_t len, struct sim_tm_hdr *h)
{
	uint8_t bin[SIM_TELEMETRY_MIN_SIZE];
	const uint8_t *t;

	if (len >= 4 && memcmp(buf, "FSIM", 4) == 0)
		return decode_bin(buf, len, h);
	/* The member ends the object: "fsim":"..."} is the payload's tail,
	 * after a comma or the opening brace. */
	if (len < JSON_TAIL_LEN || buf[len - 1] != '}' || buf[len - 2] != '"')
		return SIM_ERR_PROTO;
	t = buf + len - JSON_TAIL_LEN;
	if (memcmp(t + 1, &json_key[1], JSON_KEY_LEN - 1) != 0 || (t[0] != ',' && t[0] != '{'))
		return SIM_ERR_PROTO;
	t += JSON_KEY_LEN;
	for (size_t i = 0; i < sizeof(bin); i++) {
		int hi = unhex(t[2 * i]), lo = unhex(t[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return SIM_ERR_PROTO;
		bin[i] = (uint8_t)(hi << 4 | lo);
	}
	return decode_bin(bin, sizeof(bin), h);
}

static enum sim_err
decode_bin(const uint8_t *buf, size_t len, struct sim_tm_hdr *h)
{
	if (len < SIM_TELEMETRY_MIN_SIZE || memcmp(buf, "FSIM", 4) != 0 || buf[4] != TM_VERSION ||
	    get32(buf + 28) != fnv1a(buf, 28))
		return SIM_ERR_PROTO;
	h->run_id = get32(buf + 8);
	h->device = get32(buf + 12);
	h->seq = get32(buf + 16);
	h->intended_ns = (uint64_t)get32(buf + 20) | (uint64_t)get32(buf + 24) << 32;
	return SIM_OK;
}

enum sim_err
sim_tm_checker_new(uint32_t ndevices, uint32_t run_id, struct sim_tm_checker **out)
{
	struct sim_tm_checker *c;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SIM_ERR_NOMEM;
	c->ndevices = ndevices;
	c->run_id = run_id;
	c->dev = calloc(ndevices ? ndevices : 1, sizeof(*c->dev));
	if (c->dev == NULL || rpt_hist_new(&c->lat) != RPT_OK || rpt_hist_new(&c->win) != RPT_OK) {
		sim_tm_checker_free(c);
		return SIM_ERR_NOMEM;
	}
	*out = c;
	return SIM_OK;
}

void
sim_tm_checker_free(struct sim_tm_checker *c)
{
	if (c == NULL)
		return;
	if (c->dev != NULL)
		for (uint32_t i = 0; i < c->ndevices; i++)
			free(c->dev[i].bits);
	free(c->dev);
	rpt_hist_free(c->lat);
	rpt_hist_free(c->win);
	free(c);
}

uint32_t
sim_tm_next_seq(struct sim_tm_checker *c, uint32_t device)
{
	c->n.sent++;
	return c->dev[device].sent++;
}

void
sim_tm_note_dropped(struct sim_tm_checker *c, enum sim_tm_drop why)
{
	c->n.dropped++;
	c->n.dropped_by[why]++;
}

const char *
sim_tm_drop_name(enum sim_tm_drop why)
{
	static const char *const names[] = {
		[SIM_TM_DROP_DISCONNECTED] = "disconnected",
		[SIM_TM_DROP_QUEUE_FULL] = "queue_full",
		[SIM_TM_DROP_POWERED_OFF] = "powered_off",
		[SIM_TM_DROP_LINK_DOWN] = "link_down",
		[SIM_TM_DROP_BEHIND] = "behind",
	};

	return why < SIM_TM_DROP_COUNT ? names[why] : "unknown";
}

static bool
bit_get(const struct track *t, uint32_t seq)
{
	uint32_t off = seq - t->base;

	if (off / 64 >= t->nwords)
		return false;
	return (t->bits[off / 64] >> (off % 64)) & 1;
}

/* Returns false when out of memory; the arrival is then still counted but
 * a later duplicate of it may go unnoticed. */
static bool
bit_set(struct track *t, uint32_t seq)
{
	uint32_t off = seq - t->base;
	uint32_t need = off / 64 + 1;

	if (need > t->nwords) {
		uint32_t n = t->nwords ? t->nwords : 1;
		uint64_t *b;

		while (n < need)
			n *= 2;
		b = realloc(t->bits, n * sizeof(*b));
		if (b == NULL)
			return false;
		memset(b + t->nwords, 0, (n - t->nwords) * sizeof(*b));
		t->bits = b;
		t->nwords = n;
	}
	t->bits[off / 64] |= 1ull << (off % 64);
	return true;
}

/* Moves low past every contiguous arrival and drops whole words below it. */
static void
advance(struct track *t)
{
	uint32_t drop;

	while (bit_get(t, t->low))
		t->low++;
	drop = (t->low - t->base) / 64;
	if (drop == 0)
		return;
	if (drop >= t->nwords) {
		free(t->bits);
		t->bits = NULL;
		t->nwords = 0;
		t->base = t->low & ~63u;
		return;
	}
	memmove(t->bits, t->bits + drop, (t->nwords - drop) * sizeof(*t->bits));
	memset(t->bits + t->nwords - drop, 0, drop * sizeof(*t->bits));
	t->base += drop * 64;
}

enum sim_tm_verdict
sim_tm_check(struct sim_tm_checker *c, const uint8_t *payload, size_t len, uint64_t now_ns)
{
	struct sim_tm_hdr h;
	struct track *t;
	enum sim_tm_verdict v = SIM_TM_OK;
	uint64_t lat;

	if (sim_tm_decode(payload, len, &h) != SIM_OK) {
		c->n.malformed++;
		return SIM_TM_MALFORMED;
	}
	if (h.run_id != c->run_id || h.device >= c->ndevices || h.seq >= c->dev[h.device].sent) {
		c->n.foreign++;
		return SIM_TM_FOREIGN;
	}
	t = &c->dev[h.device];
	if (h.seq < t->low || bit_get(t, h.seq)) {
		c->n.duplicates++;
		t->dups++;
		return SIM_TM_DUPLICATE;
	}
	if (h.seq + 1 < t->max_plus1) {
		c->n.out_of_order++;
		v = SIM_TM_OUT_OF_ORDER;
	} else {
		t->max_plus1 = h.seq + 1;
	}
	c->n.received++;
	t->received++;
	lat = now_ns > h.intended_ns ? now_ns - h.intended_ns : 0;
	rpt_hist_record(c->lat, lat);
	rpt_hist_record(c->win, lat);
	if (h.seq == t->low && t->nwords == 0) {
		/* The common case: in order, no gap pending. */
		t->low++;
		t->base = t->low & ~63u;
		return v;
	}
	bit_set(t, h.seq);
	advance(t);
	return v;
}

void
sim_tm_counts(const struct sim_tm_checker *c, struct sim_tm_counts *out)
{
	*out = c->n;
}

bool
sim_tm_all_received(const struct sim_tm_checker *c)
{
	return c->n.received + c->n.dropped == c->n.sent;
}

const struct rpt_hist *
sim_tm_latency(const struct sim_tm_checker *c)
{
	return c->lat;
}

struct rpt_hist *
sim_tm_window(struct sim_tm_checker *c)
{
	return c->win;
}

void
sim_tm_range_counts(const struct sim_tm_checker *c, uint32_t first, uint32_t n,
    struct sim_tm_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = first; i < first + n && i < c->ndevices; i++) {
		out->sent += c->dev[i].sent;
		out->received += c->dev[i].received;
		out->duplicates += c->dev[i].dups;
	}
}
