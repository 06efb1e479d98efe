#include "rr.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sim_clock.h"

/* Counters as an array, so that moving a request from one outcome to
 * another is one line for both the overall and the method's counts. */
enum {
	C_SENT, C_OK, C_ERROR_STATUS, C_TIMEOUT, C_LATE, C_UNMATCHED, C_DUPLICATE, C_OPEN,
	C_COUNT,
};

enum state { ST_OPEN, ST_OK, ST_ERROR_STATUS, ST_TIMEOUT, ST_LATE };

/* One per request, indexed by seq - 1, kept for the whole run: a late or
 * duplicate answer can come at any time, and telling it from an unmatched
 * one needs the request. 16 bytes, so a million requests cost 16 MB. */
struct req {
	uint64_t intended_ns;
	uint32_t device;
	uint16_t method;
	uint8_t state;
};
_Static_assert(sizeof(struct req) == 16, "struct req grew");

/* The largest seq handed out; UINT32_MAX is kept for NO_SEQ. */
#define SEQ_MAX (UINT32_MAX - 1)
/* The seq of requests that could not be kept: above every stored one, so
 * an answer to it is unmatched. */
#define NO_SEQ UINT32_MAX
#define MAX_METHODS (UINT16_MAX + 1)

struct method {
	char *name;
	uint64_t n[C_COUNT];
	struct rpt_hist *lat;
};

struct sim_rr {
	uint64_t timeout_ns;
	uint32_t ndevices;
	uint32_t salt;
	int ok_min, ok_max;
	size_t nmethods;
	struct method *m;
	uint64_t n[C_COUNT];
	struct rpt_hist *lat;
	struct req *reqs;
	uint32_t nreqs;
	size_t cap;
	/* Index of the first open request, or nreqs: every request before it
	 * is closed. Deadlines are in order, so expiry only ever looks here. */
	uint32_t cur;
};

enum sim_err
sim_rr_new(const struct sim_rr_opts *o, struct sim_rr **out)
{
	struct sim_rr *rr = NULL;
	enum sim_err rc = SIM_ERR_INVAL;

	*out = NULL;
	if (o == NULL || o->timeout_ns == 0 || o->nmethods == 0 || o->nmethods > MAX_METHODS ||
	    o->methods == NULL || o->ok_min > o->ok_max)
		goto out;
	for (size_t i = 0; i < o->nmethods; i++) {
		if (o->methods[i] == NULL || o->methods[i][0] == '\0')
			goto out;
		/* Quadratic, but once per run over a handful of names. */
		for (size_t k = 0; k < i; k++)
			if (strcmp(o->methods[i], o->methods[k]) == 0)
				goto out;
	}
	rc = SIM_ERR_NOMEM;
	if ((rr = calloc(1, sizeof(*rr))) == NULL)
		goto out;
	rr->timeout_ns = o->timeout_ns;
	rr->ndevices = o->ndevices;
	rr->salt = o->salt;
	rr->ok_min = o->ok_min;
	rr->ok_max = o->ok_max;
	if (rr->ok_min == 0 && rr->ok_max == 0) {
		rr->ok_min = 200;
		rr->ok_max = 299;
	}
	if ((rr->m = calloc(o->nmethods, sizeof(*rr->m))) == NULL)
		goto out;
	rr->nmethods = o->nmethods;
	if (rpt_hist_new(&rr->lat) != RPT_OK)
		goto out;
	for (size_t i = 0; i < o->nmethods; i++)
		if ((rr->m[i].name = strdup(o->methods[i])) == NULL ||
		    rpt_hist_new(&rr->m[i].lat) != RPT_OK)
			goto out;
	*out = rr;
	rr = NULL;
	rc = SIM_OK;
out:
	sim_rr_free(rr);
	return rc;
}

void
sim_rr_free(struct sim_rr *rr)
{
	if (rr == NULL)
		return;
	if (rr->m != NULL)
		for (size_t i = 0; i < rr->nmethods; i++) {
			free(rr->m[i].name);
			rpt_hist_free(rr->m[i].lat);
		}
	free(rr->m);
	rpt_hist_free(rr->lat);
	free(rr->reqs);
	free(rr);
}

static uint64_t
make_id(const struct sim_rr *rr, uint32_t seq)
{
	return (uint64_t)rr->salt << 32 | seq;
}

/* Saturating, so a request intended near the end of time never expires
 * before it was sent. */
static uint64_t
deadline(const struct sim_rr *rr, const struct req *r)
{
	return r->intended_ns > UINT64_MAX - rr->timeout_ns ? UINT64_MAX :
	    r->intended_ns + rr->timeout_ns;
}

/* Moves one request (or counts one answer, from == -1) in both tallies. */
static void
move(struct sim_rr *rr, struct method *m, int from, int to)
{
	if (from >= 0) {
		rr->n[from]--;
		if (m != NULL)
			m->n[from]--;
	}
	rr->n[to]++;
	if (m != NULL)
		m->n[to]++;
}

/* Steps the cursor past closed requests, keeping next_deadline O(1). */
static void
advance(struct sim_rr *rr)
{
	while (rr->cur < rr->nreqs && rr->reqs[rr->cur].state != ST_OPEN)
		rr->cur++;
}

static bool
grow(struct sim_rr *rr)
{
	size_t n = rr->cap ? rr->cap * 2 : 1024;
	struct req *r;

	if (n > (size_t)SEQ_MAX)
		n = SEQ_MAX;
	if (n > SIZE_MAX / sizeof(*r))
		return false;
	if ((r = realloc(rr->reqs, n * sizeof(*r))) == NULL)
		return false;
	rr->reqs = r;
	rr->cap = n;
	return true;
}

uint64_t
sim_rr_open(struct sim_rr *rr, uint32_t device, uint32_t method, uint64_t intended_ns)
{
	struct method *m = method < rr->nmethods ? &rr->m[method] : NULL;
	struct req *r;

	if (m == NULL || device >= rr->ndevices || rr->nreqs >= SEQ_MAX ||
	    (rr->nreqs == rr->cap && !grow(rr))) {
		/* Counted rather than lost, so the invariant still holds and
		 * the report shows that something went wrong. */
		move(rr, m, -1, C_SENT);
		move(rr, m, -1, C_TIMEOUT);
		return make_id(rr, NO_SEQ);
	}
	r = &rr->reqs[rr->nreqs++];
	r->intended_ns = intended_ns;
	r->device = device;
	r->method = (uint16_t)method;
	r->state = ST_OPEN;
	move(rr, m, -1, C_SENT);
	move(rr, m, -1, C_OPEN);
	return make_id(rr, rr->nreqs);
}

enum sim_rr_outcome
sim_rr_answer(struct sim_rr *rr, uint64_t id, uint32_t device, int status, uint64_t now_ns)
{
	uint32_t seq = (uint32_t)id;
	enum sim_rr_outcome v;
	struct method *m;
	struct req *r;
	uint64_t lat;

	if ((uint32_t)(id >> 32) != rr->salt || seq == 0 || seq > rr->nreqs) {
		move(rr, NULL, -1, C_UNMATCHED);
		return SIM_RR_UNMATCHED;
	}
	r = &rr->reqs[seq - 1];
	m = &rr->m[r->method];
	if (device != SIM_RR_ANY_DEVICE && device != r->device) {
		move(rr, m, -1, C_UNMATCHED);
		return SIM_RR_UNMATCHED;
	}
	switch (r->state) {
	case ST_OPEN:
		if (now_ns >= deadline(rr, r)) {
			/* Expiry just has not run yet: the same as a timeout
			 * answered afterwards. */
			r->state = ST_LATE;
			move(rr, m, C_OPEN, C_LATE);
			v = SIM_RR_LATE;
			break;
		}
		if (status >= rr->ok_min && status <= rr->ok_max) {
			r->state = ST_OK;
			move(rr, m, C_OPEN, C_OK);
			v = SIM_RR_OK;
		} else {
			r->state = ST_ERROR_STATUS;
			move(rr, m, C_OPEN, C_ERROR_STATUS);
			v = SIM_RR_ERROR_STATUS;
		}
		lat = now_ns > r->intended_ns ? now_ns - r->intended_ns : 0;
		rpt_hist_record(rr->lat, lat);
		rpt_hist_record(m->lat, lat);
		break;
	case ST_TIMEOUT:
		r->state = ST_LATE;
		move(rr, m, C_TIMEOUT, C_LATE);
		return SIM_RR_LATE;
	default:
		move(rr, m, -1, C_DUPLICATE);
		return SIM_RR_DUPLICATE;
	}
	advance(rr);
	return v;
}

uint64_t
sim_rr_expire(struct sim_rr *rr, uint64_t now_ns)
{
	uint64_t n = 0;

	/* cur is open, or nreqs; anything past an unexpired one is later. */
	while (rr->cur < rr->nreqs) {
		struct req *r = &rr->reqs[rr->cur];

		if (r->state == ST_OPEN) {
			if (deadline(rr, r) > now_ns)
				break;
			r->state = ST_TIMEOUT;
			move(rr, &rr->m[r->method], C_OPEN, C_TIMEOUT);
			n++;
		}
		rr->cur++;
	}
	return n;
}

uint64_t
sim_rr_next_deadline(const struct sim_rr *rr)
{
	/* The cursor rests on an open request (see advance), and deadlines
	 * never reach 0 because timeout_ns > 0. */
	return rr->cur < rr->nreqs ? deadline(rr, &rr->reqs[rr->cur]) : 0;
}

static void
to_counts(const uint64_t *n, struct sim_rr_counts *out)
{
	out->sent = n[C_SENT];
	out->ok = n[C_OK];
	out->error_status = n[C_ERROR_STATUS];
	out->timeout = n[C_TIMEOUT];
	out->late = n[C_LATE];
	out->unmatched = n[C_UNMATCHED];
	out->duplicate = n[C_DUPLICATE];
	out->open = n[C_OPEN];
}

void
sim_rr_counts(const struct sim_rr *rr, uint32_t method, struct sim_rr_counts *out)
{
	if (method == SIM_RR_ALL)
		to_counts(rr->n, out);
	else if (method < rr->nmethods)
		to_counts(rr->m[method].n, out);
	else
		memset(out, 0, sizeof(*out));
}

const struct rpt_hist *
sim_rr_latency(const struct sim_rr *rr, uint32_t method)
{
	if (method == SIM_RR_ALL)
		return rr->lat;
	return method < rr->nmethods ? rr->m[method].lat : NULL;
}

/* One section, overall or a method's. latency_ms comes from
 * rpt_hist_summary in milliseconds, as the telemetry section's does, so
 * assertions read the same units everywhere; the skeleton passes an empty
 * histogram, whose summary has the same keys, all zero. */
static enum rpt_err
section(struct rpt_json *o, const uint64_t *n, const struct rpt_hist *h, bool histogram)
{
	static const struct {
		const char *key;
		int i;
	} keys[] = {
		{ "sent", C_SENT }, { "ok", C_OK }, { "error_status", C_ERROR_STATUS },
		{ "timeout", C_TIMEOUT }, { "late", C_LATE }, { "unmatched", C_UNMATCHED },
		{ "duplicate", C_DUPLICATE },
	};
	enum rpt_err rc;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((rc = rpt_json_set_num(o, keys[i].key, (double)n[keys[i].i])) != RPT_OK)
			return rc;
	if ((rc = rpt_json_set(o, "latency_ms", rpt_hist_summary(h, (double)SIM_NS_PER_MS))) != RPT_OK)
		return rc;
	if (histogram)
		rc = rpt_json_set(o, "latency_histogram", rpt_hist_to_json(h));
	return rc;
}

struct rpt_json *
sim_rr_json(const struct sim_rr *rr, const struct sim_rr_opts *o)
{
	static const uint64_t zeros[C_COUNT];
	struct rpt_json *j = NULL, *bm, *mj;
	struct rpt_hist *empty = NULL;
	bool done = false;
	size_t nm;

	if (rr == NULL && (o == NULL || (o->nmethods > 0 && o->methods == NULL)))
		return NULL;
	nm = rr != NULL ? rr->nmethods : o->nmethods;
	if (rr == NULL && rpt_hist_new(&empty) != RPT_OK)
		goto out;
	if ((j = rpt_json_object()) == NULL)
		goto out;
	if (section(j, rr != NULL ? rr->n : zeros, rr != NULL ? rr->lat : empty, rr != NULL) != RPT_OK)
		goto out;
	/* Once set, bm belongs to j (and is freed with it on failure). */
	if (rpt_json_set(j, "by_method", bm = rpt_json_object()) != RPT_OK)
		goto out;
	for (size_t i = 0; i < nm; i++) {
		if (rpt_json_set(bm, rr != NULL ? rr->m[i].name : o->methods[i],
		    mj = rpt_json_object()) != RPT_OK)
			goto out;
		if (section(mj, rr != NULL ? rr->m[i].n : zeros, rr != NULL ? rr->m[i].lat : empty,
		    rr != NULL) != RPT_OK)
			goto out;
	}
	done = true;
out:
	rpt_hist_free(empty);
	if (!done) {
		rpt_json_free(j);
		j = NULL;
	}
	return j;
}

static const char hexd[] = "0123456789abcdef";

void
sim_rr_id_hex(uint64_t id, char out[17])
{
	for (int i = 0; i < 16; i++)
		out[i] = hexd[(id >> (60 - 4 * i)) & 15];
	out[16] = '\0';
}

uint64_t
sim_rr_id_parse(const char *s, size_t len)
{
	uint64_t id = 0;

	if (s == NULL || len != 16)
		return 0;
	for (size_t i = 0; i < 16; i++) {
		int d;

		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else
			return 0;
		id = id << 4 | (uint64_t)d;
	}
	return id;
}
