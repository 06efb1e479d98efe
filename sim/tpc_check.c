#include "tpc_check.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sim_clock.h"

/* One transaction: its records in time order. The array grows by doubling,
 * so a history of N records costs O(N) however it splits into txids. */
struct tx {
	uint64_t txid;
	struct sim_tpc_rec *r;
	uint32_t n, cap;
};

/* What finish learns about one device of the transaction at hand; rebuilt
 * for every transaction in a scratch array the checker keeps. */
struct part {
	uint32_t device;
	uint8_t bad;                /* bit per enum sim_tpc_violation it is involved in */
	bool prepared;
	bool voted_yes;             /* its own VOTE YES, at any time */
	bool pre_yes, pre_no;       /* its own VOTEs before the decision */
	bool seen_yes, seen_no;     /* VOTE_SEEN before the decision */
	bool applied, applied1, applied0;
	bool doubt_open;
	bool lost;                  /* OBSERVE 0 after its APPLY 1 */
	uint64_t apply1_t;          /* its first APPLY 1 */
	uint64_t doubt_start;
};

struct viol {
	uint64_t txid;
	char *text;                 /* NULL when it could not be built */
	uint8_t kind;
};

enum { LAT_PREPARE, LAT_DECIDE, LAT_COMPLETE, NLAT };

struct sim_tpc_check {
	uint64_t deadline_ns, recovery_ns;
	/* Transactions in the order first seen, so the violation list is in a
	 * stable order; slots maps a txid to its index + 1 (0 is empty),
	 * open addressing with linear probing, at most half full. */
	struct tx *tx;
	size_t ntx, txcap;
	uint32_t *slots;
	size_t nslots;
	/* Results of the last finish. */
	struct rpt_hist *lat[NLAT];
	struct sim_tpc_summary sum;
	struct viol *v;
	size_t nv, vcap;
	/* Scratch for finish, kept to avoid an allocation per transaction. */
	struct part *parts;
	size_t nparts, pcap;
	struct rpt_buf why[SIM_TPC_NVIOLATIONS];
	struct rpt_buf text;
};

/* The largest number of transactions: slots hold index + 1 in 32 bits. */
#define MAX_TX (UINT32_MAX - 1)

static const char *const kind_names[SIM_TPC_NVIOLATIONS] = {
	"atomicity", "validity", "agreement", "termination", "durability",
};

static const char *const ev_names[SIM_TPC_NEV] = {
	"BEGIN", "PREPARE", "VOTE", "VOTE_SEEN", "DECIDE", "APPLY", "ACK_SEEN", "IN_DOUBT",
	"RESOLVED", "OBSERVE",
};

static const char *const cause_names[] = { "votes", "timeout", "coordinator" };

const char *
sim_tpc_violation_name(enum sim_tpc_violation v)
{
	return (unsigned)v < SIM_TPC_NVIOLATIONS ? kind_names[v] : "?";
}

enum sim_err
sim_tpc_check_new(const struct sim_tpc_check_opts *o, struct sim_tpc_check **out)
{
	struct sim_tpc_check *c = NULL;
	enum sim_err rc = SIM_ERR_INVAL;

	if (out == NULL)
		return rc;
	*out = NULL;
	if (o == NULL)
		goto out;
	rc = SIM_ERR_NOMEM;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out;
	c->deadline_ns = o->deadline_ns;
	c->recovery_ns = o->recovery_ns;
	for (int i = 0; i < NLAT; i++)
		if (rpt_hist_new(&c->lat[i]) != RPT_OK)
			goto out;
	*out = c;
	c = NULL;
	rc = SIM_OK;
out:
	sim_tpc_check_free(c);
	return rc;
}

static void
clear_violations(struct sim_tpc_check *c)
{
	for (size_t i = 0; i < c->nv; i++)
		free(c->v[i].text);
	c->nv = 0;
}

void
sim_tpc_check_free(struct sim_tpc_check *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ntx; i++)
		free(c->tx[i].r);
	free(c->tx);
	free(c->slots);
	for (int i = 0; i < NLAT; i++)
		rpt_hist_free(c->lat[i]);
	clear_violations(c);
	free(c->v);
	free(c->parts);
	for (int i = 0; i < SIM_TPC_NVIOLATIONS; i++)
		free(c->why[i].p);
	free(c->text.p);
	free(c);
}

/* splitmix64's finalizer: txids are often sequential, and linear probing
 * needs them spread. */
static size_t
slot_of(uint64_t txid, size_t nslots)
{
	txid = (txid ^ (txid >> 30)) * 0xbf58476d1ce4e5b9ull;
	txid = (txid ^ (txid >> 27)) * 0x94d049bb133111ebull;
	return (size_t)(txid ^ (txid >> 31)) & (nslots - 1);
}

static struct tx *
find(const struct sim_tpc_check *c, uint64_t txid)
{
	if (c->nslots == 0)
		return NULL;
	for (size_t s = slot_of(txid, c->nslots); c->slots[s] != 0; s = (s + 1) & (c->nslots - 1))
		if (c->tx[c->slots[s] - 1].txid == txid)
			return &c->tx[c->slots[s] - 1];
	return NULL;
}

/* Doubles the slot table and re-inserts every transaction. */
static bool
rehash(struct sim_tpc_check *c)
{
	size_t n = c->nslots ? c->nslots * 2 : 1024;
	uint32_t *s;

	if (n > SIZE_MAX / sizeof(*s) || (s = calloc(n, sizeof(*s))) == NULL)
		return false;
	for (size_t i = 0; i < c->ntx; i++) {
		size_t k = slot_of(c->tx[i].txid, n);

		while (s[k] != 0)
			k = (k + 1) & (n - 1);
		s[k] = (uint32_t)(i + 1);
	}
	free(c->slots);
	c->slots = s;
	c->nslots = n;
	return true;
}

/* The transaction for txid, created when new; NULL on NOMEM or when full. */
static struct tx *
get_tx(struct sim_tpc_check *c, uint64_t txid)
{
	struct tx *t;
	size_t s;

	if ((t = find(c, txid)) != NULL)
		return t;
	if (c->ntx >= MAX_TX)
		return NULL;
	if ((c->ntx + 1) * 2 > c->nslots && !rehash(c))
		return NULL;
	if (c->ntx == c->txcap) {
		size_t n = c->txcap ? c->txcap * 2 : 256;

		if (n > SIZE_MAX / sizeof(*t) || (t = realloc(c->tx, n * sizeof(*t))) == NULL)
			return NULL;
		c->tx = t;
		c->txcap = n;
	}
	t = &c->tx[c->ntx];
	memset(t, 0, sizeof(*t));
	t->txid = txid;
	for (s = slot_of(txid, c->nslots); c->slots[s] != 0; s = (s + 1) & (c->nslots - 1))
		;
	c->slots[s] = (uint32_t)++c->ntx;
	return t;
}

int
sim_tpc_check_first(const struct sim_tpc_check *c, uint64_t txid, enum sim_tpc_ev ev)
{
	const struct tx *t = c != NULL ? find(c, txid) : NULL;

	for (uint32_t i = 0; t != NULL && i < t->n; i++)
		if (t->r[i].ev == ev)
			return t->r[i].val;
	return -1;
}

static bool
valid_rec(const struct sim_tpc_rec *r)
{
	switch (r->ev) {
	case SIM_TPC_DECIDE:
		return r->val <= 1 && r->aux <= SIM_TPC_BY_COORDINATOR;
	case SIM_TPC_VOTE:
	case SIM_TPC_VOTE_SEEN:
	case SIM_TPC_APPLY:
	case SIM_TPC_OBSERVE:
		return r->val <= 1;
	default:
		return r->ev < SIM_TPC_NEV;
	}
}

enum sim_err
sim_tpc_check_add(struct sim_tpc_check *c, const struct sim_tpc_rec *r)
{
	struct sim_tpc_rec *p;
	struct tx *t;
	uint32_t i;

	if (c == NULL || r == NULL || !valid_rec(r))
		return SIM_ERR_INVAL;
	if ((t = get_tx(c, r->txid)) == NULL)
		return c->ntx >= MAX_TX ? SIM_ERR_FULL : SIM_ERR_NOMEM;
	if (t->n == t->cap) {
		uint32_t n = t->cap ? t->cap * 2 : 8;

		if (t->cap >= UINT32_MAX / 2)
			return SIM_ERR_FULL;
		if ((p = realloc(t->r, (size_t)n * sizeof(*p))) == NULL)
			return SIM_ERR_NOMEM;
		t->r = p;
		t->cap = n;
	}
	/* After every record of the same time or earlier: ties keep the
	 * order of adding, and an in-order history never moves anything. */
	for (i = t->n; i > 0 && t->r[i - 1].t_ns > r->t_ns; i--)
		;
	memmove(&t->r[i + 1], &t->r[i], (size_t)(t->n - i) * sizeof(*t->r));
	t->r[i] = *r;
	t->n++;
	return SIM_OK;
}

static void
buf_clear(struct rpt_buf *b)
{
	if (b->nomem) {
		/* Start afresh: the next transaction may fit. */
		free(b->p);
		memset(b, 0, sizeof(*b));
		return;
	}
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

/* "+12.345" or "-0.500": milliseconds from origin with microsecond digits,
 * in integers so that the text is exact; written to out, returned. */
static const char *
ms_str(char *out, size_t len, uint64_t t, uint64_t origin)
{
	uint64_t d = t >= origin ? t - origin : origin - t;

	snprintf(out, len, "%c%" PRIu64 ".%03" PRIu64, t >= origin ? '+' : '-',
	    (uint64_t)(d / SIM_NS_PER_MS), (uint64_t)(d % SIM_NS_PER_MS / 1000));
	return out;
}

/* The participant entry for device, appended when new. Linear: groups are
 * small (BEGIN's count is a byte). NULL on NOMEM. */
static struct part *
part_of(struct sim_tpc_check *c, uint32_t device)
{
	struct part *p;

	for (size_t i = 0; i < c->nparts; i++)
		if (c->parts[i].device == device)
			return &c->parts[i];
	if (c->nparts == c->pcap) {
		size_t n = c->pcap ? c->pcap * 2 : 16;

		if ((p = realloc(c->parts, n * sizeof(*p))) == NULL)
			return NULL;
		c->parts = p;
		c->pcap = n;
	}
	p = &c->parts[c->nparts++];
	memset(p, 0, sizeof(*p));
	p->device = device;
	return p;
}

static void
add_rec_line(struct rpt_buf *b, const struct sim_tpc_rec *r, uint64_t origin)
{
	char ms[32];

	rpt_buf_printf(b, "  %s ms", ms_str(ms, sizeof(ms), r->t_ns, origin));
	if (r->ev == SIM_TPC_BEGIN || r->ev == SIM_TPC_DECIDE)
		rpt_buf_str(b, " coordinator ");
	else
		rpt_buf_printf(b, " device %" PRIu32 " ", r->device);
	rpt_buf_str(b, ev_names[r->ev]);
	switch (r->ev) {
	case SIM_TPC_BEGIN:
		rpt_buf_printf(b, " participants %u", (unsigned)r->val);
		break;
	case SIM_TPC_VOTE:
	case SIM_TPC_VOTE_SEEN:
		rpt_buf_str(b, r->val ? " yes" : " no");
		break;
	case SIM_TPC_DECIDE:
		rpt_buf_printf(b, " %s by %s", r->val ? "commit" : "abort", cause_names[r->aux]);
		break;
	case SIM_TPC_APPLY:
		rpt_buf_str(b, r->val ? " commit" : " abort");
		break;
	case SIM_TPC_OBSERVE:
		rpt_buf_str(b, r->val ? " present" : " absent");
		break;
	default:
		break;
	}
	rpt_buf_str(b, "\n");
}

/* Appends one violation of kind for t, with the reasons collected in
 * c->why[kind] and the devices marked with its bit. */
static void
emit(struct sim_tpc_check *c, const struct tx *t, int kind, uint64_t origin)
{
	struct rpt_buf *b = &c->text;
	struct viol *v;
	bool any = false;

	c->sum.violations[kind]++;
	if (c->nv == c->vcap) {
		size_t n = c->vcap ? c->vcap * 2 : 16;

		if ((v = realloc(c->v, n * sizeof(*v))) == NULL)
			return;
		c->v = v;
		c->vcap = n;
	}
	buf_clear(b);
	rpt_buf_printf(b, "%s txid %016" PRIx64 ": devices ", kind_names[kind], t->txid);
	for (size_t i = 0; i < c->nparts; i++)
		if (c->parts[i].bad & (1u << kind)) {
			rpt_buf_printf(b, "%s%" PRIu32, any ? "," : "", c->parts[i].device);
			any = true;
		}
	if (!any)
		rpt_buf_str(b, "none");
	rpt_buf_str(b, "\n");
	if (c->why[kind].len > 0)
		rpt_buf_add(b, c->why[kind].p, c->why[kind].len);
	rpt_buf_str(b, "timeline (ms from BEGIN):\n");
	for (uint32_t i = 0; i < t->n; i++)
		add_rec_line(b, &t->r[i], origin);
	v = &c->v[c->nv++];
	v->txid = t->txid;
	v->kind = (uint8_t)kind;
	v->text = b->nomem ? NULL : strdup(b->p);
}

/* Marks p as involved in kind and adds a reason line. */
static void
blame(struct sim_tpc_check *c, struct part *p, int kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
blame(struct sim_tpc_check *c, struct part *p, int kind, const char *fmt, ...)
{
	struct rpt_buf *b = &c->why[kind];
	char *s = NULL;
	va_list ap;
	int n;

	if (p != NULL)
		p->bad |= (uint8_t)(1u << kind);
	rpt_buf_str(b, "  ");
	if (p != NULL)
		rpt_buf_printf(b, "device %" PRIu32 ": ", p->device);
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->nomem = true;
		return;
	}
	rpt_buf_add(b, s, (size_t)n);
	rpt_buf_str(b, "\n");
	free(s);
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t
since(uint64_t t, uint64_t origin)
{
	return t > origin ? t - origin : 0;
}

/* Every rule of the header for one transaction. */
static void
check_tx(struct sim_tpc_check *c, const struct tx *t, uint64_t end_ns)
{
	const struct sim_tpc_rec *begin = NULL, *dec = NULL;
	uint64_t origin, last_vs = 0, last_ack = 0, limit;
	bool has_vs = false, has_ack = false, conflict = false, nomem = false;
	char m1[32], m2[32];
	size_t nyes = 0, n1 = 0, n0 = 0;
	uint32_t dev1 = 0, dev0 = 0;

	c->nparts = 0;
	for (int k = 0; k < SIM_TPC_NVIOLATIONS; k++)
		buf_clear(&c->why[k]);
	for (uint32_t i = 0; i < t->n && begin == NULL; i++)
		if (t->r[i].ev == SIM_TPC_BEGIN)
			begin = &t->r[i];
	origin = begin != NULL ? begin->t_ns : t->r[0].t_ns;

	for (uint32_t i = 0; i < t->n; i++) {
		const struct sim_tpc_rec *r = &t->r[i];
		struct part *p = NULL;

		if (r->ev == SIM_TPC_BEGIN)
			continue;
		if (r->ev == SIM_TPC_DECIDE) {
			if (dec == NULL)
				dec = r;
			else if (r->val != dec->val && !conflict) {
				conflict = true;
				blame(c, NULL, SIM_TPC_AGREEMENT,
				    "coordinator logged %s at %s ms, then %s at %s ms",
				    dec->val ? "commit" : "abort", ms_str(m1, sizeof(m1), dec->t_ns, origin),
				    r->val ? "commit" : "abort", ms_str(m2, sizeof(m2), r->t_ns, origin));
			}
			continue;
		}
		if ((p = part_of(c, r->device)) == NULL) {
			/* Without the device's state no verdict is sound;
			 * leave the transaction out rather than guess. */
			nomem = true;
			break;
		}
		switch (r->ev) {
		case SIM_TPC_PREPARE:
			p->prepared = true;
			break;
		case SIM_TPC_VOTE:
			if (r->val)
				p->voted_yes = true;
			if (dec == NULL) {
				if (r->val)
					p->pre_yes = true;
				else
					p->pre_no = true;
			}
			break;
		case SIM_TPC_VOTE_SEEN:
			if (dec == NULL) {
				if (r->val)
					p->seen_yes = true;
				else
					p->seen_no = true;
			}
			has_vs = true;
			last_vs = r->t_ns;
			break;
		case SIM_TPC_APPLY:
			p->applied = true;
			if (r->val && !p->applied1) {
				p->applied1 = true;
				p->apply1_t = r->t_ns;
			} else if (!r->val)
				p->applied0 = true;
			break;
		case SIM_TPC_ACK_SEEN:
			has_ack = true;
			last_ack = r->t_ns;
			break;
		case SIM_TPC_IN_DOUBT:
			if (!p->doubt_open) {
				p->doubt_open = true;
				p->doubt_start = r->t_ns;
			}
			break;
		case SIM_TPC_RESOLVED:
			if (p->doubt_open) {
				uint64_t d = since(r->t_ns, p->doubt_start);

				if (d > c->sum.in_doubt_max_ns)
					c->sum.in_doubt_max_ns = d;
				p->doubt_open = false;
			}
			break;
		case SIM_TPC_OBSERVE:
			if (!r->val && p->applied1 && !p->lost) {
				p->lost = true;
				blame(c, p, SIM_TPC_DURABILITY,
				    "committed at %s ms, change absent when observed at %s ms",
				    ms_str(m1, sizeof(m1), p->apply1_t, origin),
				    ms_str(m2, sizeof(m2), r->t_ns, origin));
			}
			break;
		default:
			break;
		}
	}
	if (nomem)
		return;

	/* Outcome counts and latencies. */
	if (begin != NULL)
		c->sum.started++;
	if (dec != NULL) {
		if (dec->val)
			c->sum.committed++;
		else {
			c->sum.aborted++;
			if (dec->aux == SIM_TPC_BY_VOTES)
				c->sum.aborted_by_vote++;
			else if (dec->aux == SIM_TPC_BY_TIMEOUT)
				c->sum.aborted_by_timeout++;
			else
				c->sum.aborted_by_coordinator++;
		}
	} else if (begin != NULL)
		c->sum.undecided++;
	if (begin != NULL) {
		if (has_vs)
			rpt_hist_record(c->lat[LAT_PREPARE], since(last_vs, origin));
		if (dec != NULL)
			rpt_hist_record(c->lat[LAT_DECIDE], since(dec->t_ns, origin));
		if (has_ack)
			rpt_hist_record(c->lat[LAT_COMPLETE], since(last_ack, origin));
	}

	for (size_t i = 0; i < c->nparts; i++) {
		struct part *p = &c->parts[i];

		/* Validity: a commit needs every participant's YES, seen. */
		if (dec != NULL && dec->val) {
			if (p->seen_yes)
				nyes++;
			if (p->seen_no)
				blame(c, p, SIM_TPC_VALIDITY, "coordinator saw its NO vote, yet committed");
			else if (p->prepared && !p->seen_yes)
				blame(c, p, SIM_TPC_VALIDITY,
				    "got PREPARE, coordinator saw no YES vote before committing");
			else if (p->pre_no && !p->pre_yes)
				blame(c, p, SIM_TPC_VALIDITY, "voted NO, yet the coordinator committed");
		}
		/* Agreement: applied what was decided, and only after. */
		if (!p->applied)
			;
		else if (dec == NULL)
			blame(c, p, SIM_TPC_AGREEMENT, "applied %s, but nothing was ever decided",
			    p->applied1 ? "commit" : "abort");
		else if ((dec->val && p->applied0) || (!dec->val && p->applied1))
			blame(c, p, SIM_TPC_AGREEMENT, "applied %s, decision was %s",
			    dec->val ? "abort" : "commit", dec->val ? "commit" : "abort");
		else if (p->applied1 && p->apply1_t < dec->t_ns)
			blame(c, p, SIM_TPC_AGREEMENT, "applied commit at %s ms, before the decision at %s ms",
			    ms_str(m1, sizeof(m1), p->apply1_t, origin),
			    ms_str(m2, sizeof(m2), dec->t_ns, origin));
		if (p->applied1) {
			n1++;
			dev1 = p->device;
		}
		if (p->applied0) {
			n0++;
			dev0 = p->device;
		}
		/* Termination, the participants' side. */
		if (p->doubt_open) {
			uint64_t d = since(end_ns, p->doubt_start);

			if (d > c->sum.in_doubt_max_ns)
				c->sum.in_doubt_max_ns = d;
			blame(c, p, SIM_TPC_TERMINATION, "in doubt from %s ms, unresolved at the end (%s ms)",
			    ms_str(m1, sizeof(m1), p->doubt_start, origin),
			    ms_str(m2, sizeof(m2), end_ns, origin));
		}
		if (p->prepared && p->voted_yes && !p->applied)
			blame(c, p, SIM_TPC_TERMINATION, "voted YES, never applied an outcome");
	}
	if (dec != NULL && dec->val && begin != NULL && nyes < begin->val)
		blame(c, NULL, SIM_TPC_VALIDITY, "committed with %zu of %u participants' YES votes seen",
		    nyes, (unsigned)begin->val);
	/* Atomicity: two different devices, one committed, one aborted. */
	if (n1 > 0 && n0 > 0 && (n1 > 1 || n0 > 1 || dev1 != dev0)) {
		for (size_t i = 0; i < c->nparts; i++)
			if (c->parts[i].applied1 || c->parts[i].applied0)
				c->parts[i].bad |= 1u << SIM_TPC_ATOMICITY;
		blame(c, NULL, SIM_TPC_ATOMICITY, "%zu device(s) committed, %zu aborted", n1, n0);
	}
	/* Termination, the coordinator's side. */
	limit = sat_add(sat_add(origin, c->deadline_ns), c->recovery_ns);
	if (dec == NULL)
		blame(c, NULL, SIM_TPC_TERMINATION, "never decided (end at %s ms)",
		    ms_str(m1, sizeof(m1), end_ns, origin));
	else if (dec->t_ns > limit)
		blame(c, NULL, SIM_TPC_TERMINATION,
		    "decided at %s ms, after deadline + recovery (%s ms)",
		    ms_str(m1, sizeof(m1), dec->t_ns, origin), ms_str(m2, sizeof(m2), limit, origin));

	for (int k = 0; k < SIM_TPC_NVIOLATIONS; k++)
		if (c->why[k].len > 0 || c->why[k].nomem)
			emit(c, t, k, origin);
}

void
sim_tpc_check_finish(struct sim_tpc_check *c, uint64_t end_ns)
{
	if (c == NULL)
		return;
	clear_violations(c);
	memset(&c->sum, 0, sizeof(c->sum));
	for (int i = 0; i < NLAT; i++)
		rpt_hist_reset(c->lat[i]);
	for (size_t i = 0; i < c->ntx; i++)
		if (c->tx[i].n > 0)
			check_tx(c, &c->tx[i], end_ns);
}

void
sim_tpc_check_summary(const struct sim_tpc_check *c, struct sim_tpc_summary *out)
{
	if (c == NULL)
		memset(out, 0, sizeof(*out));
	else
		*out = c->sum;
}

const struct rpt_hist *
sim_tpc_check_latency(const struct sim_tpc_check *c, int which)
{
	return c != NULL && which >= 0 && which < NLAT ? c->lat[which] : NULL;
}

const char *
sim_tpc_check_violation(const struct sim_tpc_check *c, size_t i, enum sim_tpc_violation *kind,
    uint64_t *txid)
{
	if (c == NULL || i >= c->nv)
		return NULL;
	if (kind != NULL)
		*kind = (enum sim_tpc_violation)c->v[i].kind;
	if (txid != NULL)
		*txid = c->v[i].txid;
	return c->v[i].text != NULL ? c->v[i].text : "(out of memory)";
}

size_t
sim_tpc_check_nviolations(const struct sim_tpc_check *c)
{
	return c != NULL ? c->nv : 0;
}

struct rpt_json *
sim_tpc_check_json(const struct sim_tpc_check *c)
{
	static const char *const lat_keys[NLAT] = { "prepare", "decide", "complete" };
	struct rpt_json *j = NULL, *o, *list;
	struct rpt_hist *empty = NULL;
	struct sim_tpc_summary s;
	bool done = false;

	sim_tpc_check_summary(c, &s);
	/* The skeleton summarizes an empty histogram: same keys, all zero. */
	if (c == NULL && rpt_hist_new(&empty) != RPT_OK)
		goto out;
	if ((j = rpt_json_object()) == NULL)
		goto out;
	if (rpt_json_set_num(j, "started", (double)s.started) != RPT_OK ||
	    rpt_json_set_num(j, "committed", (double)s.committed) != RPT_OK)
		goto out;
	/* Once set, o belongs to j (and is freed with it on failure). */
	if (rpt_json_set(j, "aborted", o = rpt_json_object()) != RPT_OK ||
	    rpt_json_set_num(o, "total", (double)s.aborted) != RPT_OK ||
	    rpt_json_set_num(o, "by_vote", (double)s.aborted_by_vote) != RPT_OK ||
	    rpt_json_set_num(o, "by_timeout", (double)s.aborted_by_timeout) != RPT_OK ||
	    rpt_json_set_num(o, "by_coordinator", (double)s.aborted_by_coordinator) != RPT_OK)
		goto out;
	if (rpt_json_set_num(j, "undecided", (double)s.undecided) != RPT_OK ||
	    rpt_json_set_num(j, "in_doubt_max_ms", (double)s.in_doubt_max_ns / (double)SIM_NS_PER_MS) !=
	    RPT_OK)
		goto out;
	if (rpt_json_set(j, "violations", o = rpt_json_object()) != RPT_OK)
		goto out;
	for (int k = 0; k < SIM_TPC_NVIOLATIONS; k++)
		if (rpt_json_set_num(o, kind_names[k], (double)s.violations[k]) != RPT_OK)
			goto out;
	if (rpt_json_set(j, "latency_ms", o = rpt_json_object()) != RPT_OK)
		goto out;
	for (int i = 0; i < NLAT; i++)
		if (rpt_json_set(o, lat_keys[i], rpt_hist_summary(c != NULL ? c->lat[i] : empty,
		    (double)SIM_NS_PER_MS)) != RPT_OK)
			goto out;
	/* The summaries alone cannot be merged: shards' percentiles do not
	 * combine, their histograms do (fleetsim merge). */
	if (rpt_json_set(j, "latency_histograms", o = rpt_json_object()) != RPT_OK)
		goto out;
	for (int i = 0; i < NLAT; i++)
		if (rpt_json_set(o, lat_keys[i], rpt_hist_to_json(c != NULL ? c->lat[i] : empty)) != RPT_OK)
			goto out;
	if (rpt_json_set(j, "violation_list", list = rpt_json_array()) != RPT_OK)
		goto out;
	for (size_t i = 0; c != NULL && i < c->nv && i < SIM_TPC_JSON_MAX_VIOLATIONS; i++) {
		char hex[17];

		/* 16 hex digits, as on the wire, in the log and in --history:
		 * a JSON number would round txids above 2^53. */
		snprintf(hex, sizeof(hex), "%016" PRIx64, c->v[i].txid);
		if (rpt_json_push(list, o = rpt_json_object()) != RPT_OK ||
		    rpt_json_set_str(o, "kind", kind_names[c->v[i].kind]) != RPT_OK ||
		    rpt_json_set_str(o, "txid", hex) != RPT_OK ||
		    rpt_json_set_str(o, "detail", sim_tpc_check_violation(c, i, NULL, NULL)) != RPT_OK)
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
