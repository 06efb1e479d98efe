#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "fs_test.h"
#include "rng.h"
#include "sim_clock.h"
#include "tpc_check.h"
#include "tpc_coord.h"

#define MS SIM_NS_PER_MS
#define S SIM_NS_PER_S

/* Unix time 2026-01-01T00:00:00Z at monotonic 0, so that a PREPARE's
 * deadline reads as EPOCH_MS plus the deadline's monotonic ms. */
#define EPOCH_MS INT64_C(1767225600000)
#define DEADLINE (1 * S)
#define RESEND (200 * MS)

/* A device filter meaning every device. */
#define ANY UINT32_MAX
/* An ACK filter meaning no device. */
#define NONE (UINT32_MAX - 1)

enum { PREP = 'P', DEC = 'D' };

/* One message the coordinator sent. */
struct msg {
	int kind;               /* PREP or DEC */
	uint32_t dev;
	uint64_t txid;
	int64_t deadline_ms;
	bool commit;
	char change[32];        /* the first bytes, NUL-terminated */
	size_t change_len;
};

/* A participant as the checker sees it, for the histories fed to
 * sim_tpc_check: whether it voted YES and whether it applied anything. */
struct part {
	uint64_t txid;
	uint32_t dev;
	bool yes, applied;
};

/* The fake network and recorder: everything the coordinator did, in
 * order. Counting helpers look only past the marks m0 and r0, so that a
 * test can ask "what happened since"; the checker gets everything. */
struct fake {
	struct msg *m;
	size_t nm, capm, m0, delivered;
	struct sim_tpc_rec *r;
	size_t nr, capr, r0;
	struct part p[32];
	size_t np;
};

static void *
grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	while (n >= *cap)
		*cap = *cap ? *cap * 2 : 64;
	v = realloc(v, *cap * size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	return v;
}

static struct msg *
push_msg(struct fake *f)
{
	f->m = grow(f->m, &f->capm, f->nm, sizeof(*f->m));
	memset(&f->m[f->nm], 0, sizeof(*f->m));
	return &f->m[f->nm++];
}

static void
push_rec(struct fake *f, const struct sim_tpc_rec *r)
{
	f->r = grow(f->r, &f->capr, f->nr, sizeof(*f->r));
	f->r[f->nr++] = *r;
}

static void
on_prepare(void *arg, uint32_t dev, uint64_t txid, int64_t deadline_ms, const char *change,
    size_t len)
{
	struct msg *m = push_msg(arg);

	m->kind = PREP;
	m->dev = dev;
	m->txid = txid;
	m->deadline_ms = deadline_ms;
	m->change_len = len;
	/* The coordinator promises len bytes; reading them all lets the
	 * sanitizer check that promise. */
	for (size_t i = 0; i < len; i++)
		if (i + 1 < sizeof(m->change))
			m->change[i] = change[i];
}

static void
on_decision(void *arg, uint32_t dev, uint64_t txid, bool commit)
{
	struct msg *m = push_msg(arg);

	m->kind = DEC;
	m->dev = dev;
	m->txid = txid;
	m->commit = commit;
}

static void
on_record(void *arg, const struct sim_tpc_rec *r)
{
	push_rec(arg, r);
}

static const struct sim_tpc_coord_ops ops = { on_prepare, on_decision, on_record };

struct fix {
	char dir[64];
	char path[96];
	struct fake f;
	struct sim_tpc_coord *c;
};

static void
setup(struct fix *x, enum sim_tpc_bug bug)
{
	struct sim_tpc_coord_opts o = { .deadline_ns = DEADLINE, .resend_ns = RESEND,
		.unix_offset_ns = EPOCH_MS * (int64_t)MS, .bug = bug };

	memset(x, 0, sizeof(*x));
	snprintf(x->dir, sizeof(x->dir), "/tmp/tpc_coord_test.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(x->dir));
	snprintf(x->path, sizeof(x->path), "%s/coordinator.log", x->dir);
	o.log_path = x->path;
	CU_ASSERT_EQUAL_FATAL(sim_tpc_coord_new(&o, &ops, &x->f, &x->c), SIM_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x->c);
	CU_ASSERT(sim_tpc_coord_up(x->c));
}

/* Frees the coordinator (which closes the log) unless a test already did. */
static void
teardown(struct fix *x)
{
	sim_tpc_coord_free(x->c);
	x->c = NULL;
	unlink(x->path);
	rmdir(x->dir);
	free(x->f.m);
	free(x->f.r);
}

static void
mark(struct fix *x)
{
	x->f.m0 = x->f.nm;
	x->f.r0 = x->f.nr;
}

/* Messages since the mark of kind to dev (or ANY) about txid; for DEC,
 * commit -1 counts both outcomes. */
static size_t
nsent(const struct fix *x, int kind, uint64_t txid, uint32_t dev, int commit)
{
	size_t n = 0;

	for (size_t i = x->f.m0; i < x->f.nm; i++) {
		const struct msg *m = &x->f.m[i];

		if (m->kind == kind && m->txid == txid && (dev == ANY || m->dev == dev) &&
		    (kind != DEC || commit < 0 || m->commit == (commit != 0)))
			n++;
	}
	return n;
}

static size_t
nmsgs(const struct fix *x)
{
	return x->f.nm - x->f.m0;
}

/* Records since the mark of ev about txid from dev (or ANY). */
static size_t
nrec(const struct fix *x, int ev, uint64_t txid, uint32_t dev)
{
	size_t n = 0;

	for (size_t i = x->f.r0; i < x->f.nr; i++) {
		const struct sim_tpc_rec *r = &x->f.r[i];

		if (r->ev == ev && r->txid == txid && (dev == ANY || r->device == dev))
			n++;
	}
	return n;
}

static size_t
nrecs(const struct fix *x)
{
	return x->f.nr - x->f.r0;
}

/* The first record since the mark of ev about txid, or NULL. */
static const struct sim_tpc_rec *
first_rec(const struct fix *x, int ev, uint64_t txid)
{
	for (size_t i = x->f.r0; i < x->f.nr; i++)
		if (x->f.r[i].ev == ev && x->f.r[i].txid == txid)
			return &x->f.r[i];
	return NULL;
}

/* The whole log file, NUL-terminated; the caller frees it. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	size_t n = 0, cap = 0, k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	do {
		s = grow(s, &cap, n + 4096, 1);
		k = fread(s + n, 1, cap - n - 1, f);
		n += k;
	} while (k > 0);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* How many lines of the log start with prefix. */
static size_t
log_lines(const struct fix *x, const char *prefix)
{
	char *s = slurp(x->path);
	size_t n = 0, len = strlen(prefix);

	for (const char *l = s; *l != '\0';) {
		const char *e = strchr(l, '\n');

		if (strncmp(l, prefix, len) == 0)
			n++;
		if (e == NULL)
			break;
		l = e + 1;
	}
	free(s);
	return n;
}

/* Whether the log holds line exactly, as a whole line. */
static bool
log_has(const struct fix *x, const char *line)
{
	char *s = slurp(x->path);
	size_t len = strlen(line);
	bool found = false;

	for (const char *l = s; *l != '\0' && !found;) {
		const char *e = strchr(l, '\n');

		found = e != NULL && (size_t)(e - l) == len && strncmp(l, line, len) == 0;
		if (e == NULL)
			break;
		l = e + 1;
	}
	free(s);
	return found;
}

static struct sim_tpc_coord_stats
stats(const struct fix *x)
{
	struct sim_tpc_coord_stats st;

	sim_tpc_coord_stats(x->c, &st);
	return st;
}

static const uint32_t three[] = { 3, 5, 9 };
#define CHANGE "{\"every\": 30}"

/* txid over devices 3, 5 and 9, begun at now and flushed at once. */
static void
started(struct fix *x, uint64_t now, uint64_t txid)
{
	CU_ASSERT_EQUAL_FATAL(sim_tpc_coord_begin(x->c, now, txid, three, 3, CHANGE,
	    strlen(CHANGE)), SIM_OK);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x->c, now));
}

/* started, then every device votes YES and the commit is flushed at now + 10 ms. */
static void
committed(struct fix *x, uint64_t now, uint64_t txid)
{
	started(x, now, txid);
	for (int i = 0; i < 3; i++)
		sim_tpc_coord_vote(x->c, now + 5 * MS, txid, three[i], true);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x->c, now + 10 * MS));
}

static void
test_begin_flush(void)
{
	struct fix x;
	const struct sim_tpc_rec *r;
	uint64_t tx = 0x4d2;

	setup(&x, SIM_TPC_BUG_NONE);
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, 10 * MS, tx, three, 3, CHANGE, strlen(CHANGE)),
	    SIM_OK);
	/* Queued: nothing is sent, logged or recorded before the flush. */
	CU_ASSERT_EQUAL(nmsgs(&x), 0);
	CU_ASSERT_EQUAL(nrecs(&x), 0);
	CU_ASSERT(sim_tpc_coord_pending(x.c));
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 1);
	CU_ASSERT_EQUAL(log_lines(&x, ""), 0);
	/* Time passing does not send the PREPAREs either. */
	sim_tpc_coord_tick(x.c, 5 * S);
	CU_ASSERT_EQUAL(nmsgs(&x), 0);

	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 11 * MS));
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));
	/* Deadline 10 ms + 1 s after the epoch, in Unix ms. */
	CU_ASSERT(log_has(&x, "B 00000000000004d2 1767225601010 3 5 9"));
	CU_ASSERT_EQUAL(log_lines(&x, ""), 1);
	CU_ASSERT_EQUAL_FATAL(nmsgs(&x), 3);
	for (int i = 0; i < 3; i++) {
		const struct msg *m = &x.f.m[i];

		CU_ASSERT_EQUAL(m->kind, PREP);
		CU_ASSERT_EQUAL(m->dev, three[i]);
		CU_ASSERT_EQUAL(m->txid, tx);
		CU_ASSERT_EQUAL(m->deadline_ms, EPOCH_MS + 1010);
		CU_ASSERT_EQUAL(m->change_len, strlen(CHANGE));
		CU_ASSERT_STRING_EQUAL(m->change, CHANGE);
	}
	/* BEGIN (with the participant count) once its B line is durable,
	 * then a PREPARE per device. */
	CU_ASSERT_EQUAL_FATAL(nrecs(&x), 4);
	r = &x.f.r[0];
	CU_ASSERT_EQUAL(r->ev, SIM_TPC_BEGIN);
	CU_ASSERT_EQUAL(r->txid, tx);
	CU_ASSERT_EQUAL(r->val, 3);
	CU_ASSERT_EQUAL(r->t_ns, 11 * MS);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(x.f.r[1 + i].ev, SIM_TPC_PREPARE);
		CU_ASSERT_EQUAL(x.f.r[1 + i].device, three[i]);
		CU_ASSERT_EQUAL(x.f.r[1 + i].txid, tx);
	}
	CU_ASSERT_EQUAL(stats(&x).fsyncs, 1);
	/* An empty flush does nothing, not even an fsync. */
	mark(&x);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 12 * MS));
	CU_ASSERT_EQUAL(nmsgs(&x) + nrecs(&x), 0);
	CU_ASSERT_EQUAL(stats(&x).fsyncs, 1);

	/* Refused: a txid already started, no participants, NULLs. */
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, 20 * MS, tx, three, 1, "x", 1), SIM_ERR_INVAL);
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, 20 * MS, 7, three, 0, "x", 1), SIM_ERR_INVAL);
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, 20 * MS, 7, NULL, 1, "x", 1), SIM_ERR_INVAL);
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(NULL, 20 * MS, 7, three, 1, "x", 1), SIM_ERR_INVAL);
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 1);

	/* An empty change may come as NULL; the PREPARE still gets a string. */
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, 30 * MS, 0, &three[2], 1, NULL, 0), SIM_OK);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 30 * MS));
	CU_ASSERT_EQUAL_FATAL(nsent(&x, PREP, 0, 9, -1), 1);
	CU_ASSERT_EQUAL(x.f.m[x.f.nm - 1].change_len, 0);
	CU_ASSERT_STRING_EQUAL(x.f.m[x.f.nm - 1].change, "");
	CU_ASSERT(log_has(&x, "B 0000000000000000 1767225601030 9"));
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 2);
	teardown(&x);
}

static void
test_commit(void)
{
	struct fix x;
	const struct sim_tpc_rec *r;
	uint64_t tx = 0xabcdef0123456789ull;

	setup(&x, SIM_TPC_BUG_NONE);
	started(&x, 0, tx);
	mark(&x);
	sim_tpc_coord_vote(x.c, 5 * MS, tx, 3, true);
	sim_tpc_coord_vote(x.c, 6 * MS, tx, 9, true);
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));
	sim_tpc_coord_vote(x.c, 7 * MS, tx, 5, true);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_VOTE_SEEN, tx, ANY), 3);
	r = first_rec(&x, SIM_TPC_VOTE_SEEN, tx);
	CU_ASSERT_EQUAL(r->device, 3);
	CU_ASSERT_EQUAL(r->val, 1);
	CU_ASSERT_EQUAL(r->t_ns, 5 * MS);
	/* Decided, but neither recorded, logged nor sent before the flush. */
	CU_ASSERT(sim_tpc_coord_pending(x.c));
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_DECIDE, tx, ANY), 0);
	CU_ASSERT_EQUAL(nmsgs(&x), 0);
	CU_ASSERT_EQUAL(log_lines(&x, "D "), 0);

	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 8 * MS));
	CU_ASSERT(log_has(&x, "D abcdef0123456789 c"));
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_DECIDE, tx, ANY), 1);
	r = first_rec(&x, SIM_TPC_DECIDE, tx);
	CU_ASSERT_EQUAL(r->val, 1);
	CU_ASSERT_EQUAL(r->aux, SIM_TPC_BY_VOTES);
	CU_ASSERT_EQUAL(r->t_ns, 8 * MS);
	CU_ASSERT_EQUAL(nmsgs(&x), 3);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(nsent(&x, DEC, tx, three[i], 1), 1);
	CU_ASSERT_EQUAL(stats(&x).fsyncs, 2);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 1);
	teardown(&x);
}

static void
test_abort_by_vote(void)
{
	struct fix x;
	const struct sim_tpc_rec *r;

	setup(&x, SIM_TPC_BUG_NONE);
	started(&x, 0, 1);
	mark(&x);
	sim_tpc_coord_vote(x.c, 5 * MS, 1, 3, true);
	sim_tpc_coord_vote(x.c, 6 * MS, 1, 5, false);
	CU_ASSERT(sim_tpc_coord_pending(x.c));
	CU_ASSERT_EQUAL(nmsgs(&x), 0);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 7 * MS));
	CU_ASSERT(log_has(&x, "D 0000000000000001 a"));
	r = first_rec(&x, SIM_TPC_DECIDE, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->val, 0);
	CU_ASSERT_EQUAL(r->aux, SIM_TPC_BY_VOTES);
	/* Every participant learns, the one that has not voted too. */
	CU_ASSERT_EQUAL(nmsgs(&x), 3);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, ANY, 0), 3);
	/* Its YES, late, is seen and answered with the abort. */
	mark(&x);
	sim_tpc_coord_vote(x.c, 8 * MS, 1, 9, true);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_VOTE_SEEN, 1, 9), 1);
	CU_ASSERT_EQUAL(nmsgs(&x), 1);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, 9, 0), 1);
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));
	teardown(&x);
}

static void
test_abort_by_timeout(void)
{
	struct fix x;
	const struct sim_tpc_rec *r;
	uint64_t t0 = 100 * MS;

	setup(&x, SIM_TPC_BUG_NONE);
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, t0, 1, three, 3, "1", 1), SIM_OK);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, t0));
	CU_ASSERT_EQUAL(nsent(&x, PREP, 1, ANY, -1), 3);
	mark(&x);
	sim_tpc_coord_vote(x.c, t0 + 400 * MS, 1, 3, true);
	sim_tpc_coord_tick(x.c, t0 + DEADLINE - 1);
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, ANY, -1), 0);
	/* Votes at the deadline are seen but too late to decide with. */
	sim_tpc_coord_vote(x.c, t0 + DEADLINE, 1, 5, true);
	sim_tpc_coord_vote(x.c, t0 + DEADLINE, 1, 9, true);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_VOTE_SEEN, 1, ANY), 3);
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));
	sim_tpc_coord_tick(x.c, t0 + DEADLINE);
	CU_ASSERT(sim_tpc_coord_pending(x.c));
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_DECIDE, 1, ANY), 0);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, t0 + DEADLINE + 1 * MS));
	r = first_rec(&x, SIM_TPC_DECIDE, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->val, 0);
	CU_ASSERT_EQUAL(r->aux, SIM_TPC_BY_TIMEOUT);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_DECIDE, 1, ANY), 1);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, ANY, 0), 3);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, ANY, 1), 0);
	CU_ASSERT(log_has(&x, "D 0000000000000001 a"));
	/* Decided once: later ticks only resend. */
	sim_tpc_coord_tick(x.c, t0 + 10 * S);
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_DECIDE, 1, ANY), 1);
	teardown(&x);
}

/* The first vote of each participant counts; strangers do not count. */
static void
test_first_vote_counts(void)
{
	struct fix x;

	setup(&x, SIM_TPC_BUG_NONE);
	started(&x, 0, 1);
	mark(&x);
	sim_tpc_coord_vote(x.c, 1 * MS, 1, 3, true);
	sim_tpc_coord_vote(x.c, 2 * MS, 1, 3, false);      /* a change of mind: ignored */
	sim_tpc_coord_vote(x.c, 3 * MS, 1, 3, true);       /* a duplicate: not a second YES */
	sim_tpc_coord_vote(x.c, 3 * MS, 1, 7, false);      /* not a participant */
	sim_tpc_coord_vote(x.c, 3 * MS, 1, 7, true);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_VOTE_SEEN, 1, 3), 1);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_VOTE_SEEN, 1, 7), 0);
	CU_ASSERT_EQUAL(nrecs(&x), 1);
	CU_ASSERT_EQUAL(nmsgs(&x), 0);
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));
	sim_tpc_coord_vote(x.c, 4 * MS, 1, 5, true);
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));
	sim_tpc_coord_vote(x.c, 5 * MS, 1, 9, true);
	CU_ASSERT(sim_tpc_coord_pending(x.c));
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 6 * MS));
	CU_ASSERT_EQUAL(first_rec(&x, SIM_TPC_DECIDE, 1)->val, 1);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, ANY, 1), 3);
	/* The stranger learns nothing about a transaction it is not in. */
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, 7, -1), 0);
	teardown(&x);
}

/* What a VOTE or a QUERY gets in each state. */
static void
test_votes_queries(void)
{
	struct fix x;

	setup(&x, SIM_TPC_BUG_NONE);
	started(&x, 0, 1);
	mark(&x);
	/* Collecting: a QUERY gets nothing (the PREPARE resends will come). */
	sim_tpc_coord_query(x.c, 1 * MS, 1, 3);
	sim_tpc_coord_query(x.c, 1 * MS, 1, 7);
	CU_ASSERT_EQUAL(nmsgs(&x), 0);
	/* Never started: presumed abort for a YES or a QUERY, silence for a NO. */
	sim_tpc_coord_vote(x.c, 2 * MS, 42, 4, true);
	CU_ASSERT_EQUAL(nmsgs(&x), 1);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 42, 4, 0), 1);
	sim_tpc_coord_query(x.c, 2 * MS, 43, 6);
	CU_ASSERT_EQUAL(nmsgs(&x), 2);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 43, 6, 0), 1);
	sim_tpc_coord_vote(x.c, 2 * MS, 44, 4, false);
	CU_ASSERT_EQUAL(nmsgs(&x), 2);
	/* None of that is recorded: those txids have no history here. */
	CU_ASSERT_EQUAL(nrecs(&x), 0);

	for (int i = 0; i < 3; i++)
		sim_tpc_coord_vote(x.c, 3 * MS, 1, three[i], true);
	/* Decided but not yet logged: nothing may go out. */
	mark(&x);
	sim_tpc_coord_vote(x.c, 4 * MS, 1, 3, true);
	sim_tpc_coord_query(x.c, 4 * MS, 1, 5);
	sim_tpc_coord_ack(x.c, 4 * MS, 1, 5);
	CU_ASSERT_EQUAL(nmsgs(&x), 0);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_ACK_SEEN, 1, ANY), 0);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 5 * MS));
	/* Logged: a participant's VOTE or QUERY gets the decision, to it alone. */
	mark(&x);
	sim_tpc_coord_vote(x.c, 6 * MS, 1, 5, true);
	CU_ASSERT_EQUAL(nmsgs(&x), 1);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, 5, 1), 1);
	sim_tpc_coord_vote(x.c, 6 * MS, 1, 9, false);
	CU_ASSERT_EQUAL(nmsgs(&x), 2);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, 9, 1), 1);
	sim_tpc_coord_query(x.c, 7 * MS, 1, 3);
	CU_ASSERT_EQUAL(nmsgs(&x), 3);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, 3, 1), 1);
	/* A stranger gets nothing, QUERY or VOTE. */
	sim_tpc_coord_query(x.c, 7 * MS, 1, 7);
	sim_tpc_coord_vote(x.c, 7 * MS, 1, 7, true);
	CU_ASSERT_EQUAL(nmsgs(&x), 3);
	/* No vote after the decision is recorded twice or changes it. */
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_VOTE_SEEN, 1, ANY), 0);
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));

	/* Forgotten once everyone ACKed: presumed abort from then on. A
	 * correct participant never asks then, having ACKed the commit. */
	for (int i = 0; i < 3; i++)
		sim_tpc_coord_ack(x.c, 8 * MS, 1, three[i]);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 0);
	mark(&x);
	sim_tpc_coord_query(x.c, 9 * MS, 1, 3);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, 3, 0), 1);
	CU_ASSERT_EQUAL(nmsgs(&x), 1);
	teardown(&x);
}

static void
test_resends(void)
{
	struct fix x;
	uint64_t t1;

	setup(&x, SIM_TPC_BUG_NONE);
	started(&x, 0, 1);
	mark(&x);
	sim_tpc_coord_vote(x.c, 50 * MS, 1, 3, true);
	sim_tpc_coord_tick(x.c, RESEND - 1);
	CU_ASSERT_EQUAL(nmsgs(&x), 0);
	CU_ASSERT_EQUAL(stats(&x).resends, 0);
	/* PREPARE again, same deadline and change, to the silent only. */
	sim_tpc_coord_tick(x.c, RESEND);
	CU_ASSERT_EQUAL(nmsgs(&x), 2);
	CU_ASSERT_EQUAL(nsent(&x, PREP, 1, 5, -1), 1);
	CU_ASSERT_EQUAL(nsent(&x, PREP, 1, 9, -1), 1);
	for (size_t i = x.f.m0; i < x.f.nm; i++) {
		CU_ASSERT_EQUAL(x.f.m[i].deadline_ms, EPOCH_MS + 1000);
		CU_ASSERT_STRING_EQUAL(x.f.m[i].change, CHANGE);
	}
	CU_ASSERT_EQUAL(stats(&x).resends, 2);
	/* Not again until another interval has passed. */
	sim_tpc_coord_tick(x.c, 2 * RESEND - 1);
	CU_ASSERT_EQUAL(nmsgs(&x), 2);
	sim_tpc_coord_vote(x.c, 2 * RESEND - 1, 1, 9, true);
	sim_tpc_coord_tick(x.c, 2 * RESEND);
	CU_ASSERT_EQUAL(nmsgs(&x), 3);
	CU_ASSERT_EQUAL(nsent(&x, PREP, 1, 5, -1), 2);
	CU_ASSERT_EQUAL(stats(&x).resends, 3);

	/* While the decision waits for its flush, nothing is resent, though
	 * the next resend (at 600 ms) is due. */
	sim_tpc_coord_vote(x.c, 650 * MS, 1, 5, true);
	sim_tpc_coord_tick(x.c, 650 * MS);
	CU_ASSERT_EQUAL(nmsgs(&x), 3);
	t1 = 700 * MS;
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, t1));
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, ANY, 1), 3);
	/* DECISION again to those that have not ACKed, an interval after the flush. */
	sim_tpc_coord_ack(x.c, t1 + 10 * MS, 1, 5);
	mark(&x);
	sim_tpc_coord_tick(x.c, t1 + RESEND - 1);
	CU_ASSERT_EQUAL(nmsgs(&x), 0);
	sim_tpc_coord_tick(x.c, t1 + RESEND);
	CU_ASSERT_EQUAL(nmsgs(&x), 2);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, 3, 1), 1);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, 9, 1), 1);
	CU_ASSERT_EQUAL(stats(&x).resends, 5);
	/* Resends never stop while someone has not ACKed, deadline or not. */
	sim_tpc_coord_ack(x.c, t1 + RESEND, 1, 3);
	mark(&x);
	sim_tpc_coord_tick(x.c, t1 + 60 * S);
	CU_ASSERT_EQUAL(nmsgs(&x), 1);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, 9, 1), 1);
	CU_ASSERT_EQUAL(stats(&x).resends, 6);
	sim_tpc_coord_ack(x.c, t1 + 61 * S, 1, 9);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 0);
	mark(&x);
	sim_tpc_coord_tick(x.c, t1 + 120 * S);
	CU_ASSERT_EQUAL(nmsgs(&x), 0);
	CU_ASSERT_EQUAL(stats(&x).resends, 6);
	teardown(&x);
}

static void
test_acks(void)
{
	struct fix x;

	setup(&x, SIM_TPC_BUG_NONE);
	started(&x, 0, 1);
	mark(&x);
	/* Before any decision an ACK means nothing. */
	sim_tpc_coord_ack(x.c, 1 * MS, 1, 3);
	CU_ASSERT_EQUAL(nrecs(&x), 0);
	for (int i = 0; i < 3; i++)
		sim_tpc_coord_vote(x.c, 2 * MS, 1, three[i], true);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 3 * MS));
	mark(&x);
	sim_tpc_coord_ack(x.c, 4 * MS, 1, 3);
	sim_tpc_coord_ack(x.c, 4 * MS, 1, 3);              /* a duplicate */
	sim_tpc_coord_ack(x.c, 4 * MS, 1, 7);              /* a stranger */
	sim_tpc_coord_ack(x.c, 4 * MS, 99, 3);             /* an unknown txid */
	CU_ASSERT_EQUAL(nrecs(&x), 1);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_ACK_SEEN, 1, 3), 1);
	CU_ASSERT_EQUAL(x.f.r[x.f.r0].t_ns, 4 * MS);
	CU_ASSERT_EQUAL(nmsgs(&x), 0);
	sim_tpc_coord_ack(x.c, 5 * MS, 1, 9);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 1);
	sim_tpc_coord_ack(x.c, 6 * MS, 1, 5);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_ACK_SEEN, 1, ANY), 3);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 0);
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));
	/* The F line is not fsynced; the next flush's fflush brings it. */
	CU_ASSERT(log_has(&x, "D 0000000000000001 c"));
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, 7 * MS, 2, three, 2, "2", 1), SIM_OK);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 7 * MS));
	CU_ASSERT(log_has(&x, "F 0000000000000001"));
	/* ACKed commits and aborts alike are forgotten; free closes the log
	 * with the last F in it. */
	sim_tpc_coord_vote(x.c, 8 * MS, 2, 5, false);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 9 * MS));
	sim_tpc_coord_ack(x.c, 10 * MS, 2, 3);
	sim_tpc_coord_ack(x.c, 10 * MS, 2, 5);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 0);
	sim_tpc_coord_free(x.c);
	x.c = NULL;
	CU_ASSERT(log_has(&x, "F 0000000000000002"));
	CU_ASSERT_EQUAL(log_lines(&x, "B "), 2);
	CU_ASSERT_EQUAL(log_lines(&x, "D "), 2);
	CU_ASSERT_EQUAL(log_lines(&x, "F "), 2);
	CU_ASSERT_EQUAL(log_lines(&x, ""), 6);
	teardown(&x);
}

/* The coordinator down and back: what survives is the log. */
static void
test_crash_restart(void)
{
	static const uint32_t two[] = { 4, 6 };
	struct fix x;
	const struct sim_tpc_rec *r;
	struct sim_tpc_coord_stats st;

	setup(&x, SIM_TPC_BUG_NONE);
	/* 1: committed, only device 3 ACKed. 2: prepared, one YES, undecided.
	 * 3: committed and forgotten. 4: begun, never flushed. */
	committed(&x, 0, 1);
	sim_tpc_coord_ack(x.c, 20 * MS, 1, 3);
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, 20 * MS, 2, two, 2, "2", 1), SIM_OK);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 20 * MS));
	sim_tpc_coord_vote(x.c, 25 * MS, 2, 4, true);
	committed(&x, 30 * MS, 3);
	for (int i = 0; i < 3; i++)
		sim_tpc_coord_ack(x.c, 50 * MS, 3, three[i]);
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, 60 * MS, 4, three, 3, "4", 1), SIM_OK);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 3);

	sim_tpc_coord_crash(x.c, 70 * MS);
	CU_ASSERT_FALSE(sim_tpc_coord_up(x.c));
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 0);
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));
	CU_ASSERT_EQUAL(stats(&x).crashes, 1);
	/* Down: deaf and dumb, and no new transactions. */
	mark(&x);
	sim_tpc_coord_vote(x.c, 80 * MS, 2, 6, true);
	sim_tpc_coord_vote(x.c, 80 * MS, 77, 6, true);
	sim_tpc_coord_query(x.c, 80 * MS, 1, 5);
	sim_tpc_coord_query(x.c, 80 * MS, 77, 5);
	sim_tpc_coord_ack(x.c, 80 * MS, 1, 5);
	sim_tpc_coord_tick(x.c, 10 * S);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 10 * S));
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, 80 * MS, 5, three, 3, "5", 1), SIM_ERR_INVAL);
	sim_tpc_coord_crash(x.c, 90 * MS);                 /* already down */
	CU_ASSERT_EQUAL(nmsgs(&x) + nrecs(&x), 0);
	CU_ASSERT_EQUAL(stats(&x).crashes, 1);
	CU_ASSERT_EQUAL(stats(&x).fsyncs, 5);

	CU_ASSERT_EQUAL(sim_tpc_coord_restart(x.c, 1 * S), SIM_OK);
	CU_ASSERT(sim_tpc_coord_up(x.c));
	CU_ASSERT_EQUAL(sim_tpc_coord_restart(x.c, 1 * S), SIM_ERR_INVAL);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 2);
	/* Restarting decides the undecided, but the abort is logged and sent
	 * at the next flush like any decision. */
	CU_ASSERT(sim_tpc_coord_pending(x.c));
	CU_ASSERT_EQUAL(nmsgs(&x) + nrecs(&x), 0);
	/* Which participants ACKed is lost: the commit goes to all three. */
	sim_tpc_coord_tick(x.c, 1 * S);
	CU_ASSERT_EQUAL(nmsgs(&x), 3);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(nsent(&x, DEC, 1, three[i], 1), 1);
	CU_ASSERT_EQUAL(stats(&x).resends, 3);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 1 * S + 1 * MS));
	CU_ASSERT(log_has(&x, "D 0000000000000002 a"));
	r = first_rec(&x, SIM_TPC_DECIDE, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->val, 0);
	CU_ASSERT_EQUAL(r->aux, SIM_TPC_BY_COORDINATOR);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_DECIDE, 2, ANY), 1);
	/* No new BEGIN or PREPARE for it, and none of 1's decision again. */
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_BEGIN, 2, ANY), 0);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_DECIDE, 1, ANY), 0);
	CU_ASSERT_EQUAL(nsent(&x, PREP, 2, ANY, -1), 0);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 2, 4, 0), 1);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 2, 6, 0), 1);
	CU_ASSERT_EQUAL(nmsgs(&x), 5);

	/* 3 stays forgotten, 4 never was: both presumed aborted. */
	mark(&x);
	sim_tpc_coord_query(x.c, 1100 * MS, 3, 5);
	sim_tpc_coord_query(x.c, 1100 * MS, 4, 5);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 3, 5, 0), 1);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 4, 5, 0), 1);
	CU_ASSERT_EQUAL(nmsgs(&x), 2);
	/* 4 was lost with the crash: a new transaction may take its txid. */
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, 1100 * MS, 4, three, 1, "4", 1), SIM_OK);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 1100 * MS));
	CU_ASSERT_EQUAL(nsent(&x, PREP, 4, 3, -1), 1);

	/* Everyone ACKs: 1 and 2 are forgotten, each with its F. */
	for (int i = 0; i < 3; i++)
		sim_tpc_coord_ack(x.c, 1200 * MS, 1, three[i]);
	sim_tpc_coord_ack(x.c, 1200 * MS, 2, 4);
	sim_tpc_coord_ack(x.c, 1200 * MS, 2, 6);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 1);
	st = stats(&x);
	CU_ASSERT_EQUAL(st.crashes, 1);
	CU_ASSERT_EQUAL(st.log_errors, 0);

	/* A second crash and restart: the F lines, though never fsynced,
	 * were handed to the file, so nothing comes back but 4. */
	sim_tpc_coord_crash(x.c, 2 * S);
	CU_ASSERT_EQUAL(sim_tpc_coord_restart(x.c, 3 * S), SIM_OK);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 1);
	mark(&x);
	sim_tpc_coord_tick(x.c, 3 * S);
	CU_ASSERT_EQUAL(nmsgs(&x), 0);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 3 * S));
	CU_ASSERT_EQUAL(nsent(&x, DEC, 4, 3, 0), 1);
	CU_ASSERT_EQUAL(nmsgs(&x), 1);
	CU_ASSERT_EQUAL(first_rec(&x, SIM_TPC_DECIDE, 4)->aux, SIM_TPC_BY_COORDINATOR);
	CU_ASSERT_EQUAL(stats(&x).crashes, 2);
	teardown(&x);
}

/* The fault "coordinator crash between decision and sending". */
static void
test_crash_armed(void)
{
	struct fix x;
	const struct sim_tpc_rec *r;
	int n;

	setup(&x, SIM_TPC_BUG_NONE);
	sim_tpc_coord_crash_armed(x.c);
	/* A flush without a COMMIT goes through. */
	started(&x, 0, 1);
	CU_ASSERT_EQUAL(nsent(&x, PREP, 1, ANY, -1), 3);
	started(&x, 1 * MS, 2);
	sim_tpc_coord_vote(x.c, 2 * MS, 2, 3, false);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 3 * MS));
	CU_ASSERT_EQUAL(nsent(&x, DEC, 2, ANY, 0), 3);
	CU_ASSERT(sim_tpc_coord_up(x.c));
	/* The COMMIT: logged, fsynced and recorded, then the crash, before
	 * a single DECISION. */
	for (int i = 0; i < 3; i++)
		sim_tpc_coord_vote(x.c, 4 * MS, 1, three[i], true);
	mark(&x);
	CU_ASSERT_TRUE(sim_tpc_coord_flush(x.c, 5 * MS));
	CU_ASSERT_FALSE(sim_tpc_coord_up(x.c));
	CU_ASSERT_EQUAL(nmsgs(&x), 0);
	r = first_rec(&x, SIM_TPC_DECIDE, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->val, 1);
	CU_ASSERT_EQUAL(r->aux, SIM_TPC_BY_VOTES);
	CU_ASSERT(log_has(&x, "D 0000000000000001 c"));
	CU_ASSERT_EQUAL(stats(&x).crashes, 1);
	CU_ASSERT_EQUAL(stats(&x).log_errors, 0);
	/* The log had it: the restarted coordinator resends the commit. */
	CU_ASSERT_EQUAL(sim_tpc_coord_restart(x.c, 1 * S), SIM_OK);
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));
	sim_tpc_coord_tick(x.c, 1 * S);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, ANY, 1), 3);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, ANY, 0), 0);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_DECIDE, 1, ANY), 1);
	/* The crash disarmed it. */
	committed(&x, 2 * S, 3);
	CU_ASSERT(sim_tpc_coord_up(x.c));
	CU_ASSERT_EQUAL(nsent(&x, DEC, 3, ANY, 1), 3);
	/* Arming a coordinator that is down does nothing. */
	sim_tpc_coord_crash(x.c, 3 * S);
	sim_tpc_coord_crash_armed(x.c);
	CU_ASSERT_EQUAL(sim_tpc_coord_restart(x.c, 4 * S), SIM_OK);
	committed(&x, 4 * S, 5);
	CU_ASSERT(sim_tpc_coord_up(x.c));

	/* Without a COMMIT coming along, an armed crash still happens,
	 * after a while. */
	sim_tpc_coord_crash_armed(x.c);
	for (n = 1; n <= 1000; n++) {
		CU_ASSERT_EQUAL_FATAL(sim_tpc_coord_begin(x.c, 5 * S, 100 + (uint64_t)n, three, 3,
		    "x", 1), SIM_OK);
		if (sim_tpc_coord_flush(x.c, 5 * S))
			break;
	}
	CU_ASSERT(n > 1 && n <= 1000);
	CU_ASSERT_FALSE(sim_tpc_coord_up(x.c));
	CU_ASSERT_EQUAL(stats(&x).crashes, 3);
	teardown(&x);
}

/* A participant for the checker: it records its own VOTE before the
 * coordinator sees it. */
static struct part *
part_of(struct fix *x, uint64_t txid, uint32_t dev)
{
	struct fake *f = &x->f;

	for (size_t i = 0; i < f->np; i++)
		if (f->p[i].txid == txid && f->p[i].dev == dev)
			return &f->p[i];
	CU_ASSERT_FATAL(f->np < sizeof(f->p) / sizeof(f->p[0]));
	f->p[f->np] = (struct part){ .txid = txid, .dev = dev };
	return &f->p[f->np++];
}

static void
dev_rec(struct fix *x, uint64_t now, uint64_t txid, uint32_t dev, int ev, int val)
{
	struct sim_tpc_rec r = { .t_ns = now, .txid = txid, .device = dev, .ev = (uint8_t)ev,
		.val = (uint8_t)val };

	push_rec(&x->f, &r);
}

static void
dev_vote(struct fix *x, uint64_t now, uint64_t txid, uint32_t dev, bool yes)
{
	part_of(x, txid, dev)->yes = yes;
	dev_rec(x, now, txid, dev, SIM_TPC_VOTE, yes);
	sim_tpc_coord_vote(x->c, now, txid, dev, yes);
}

/* Delivers every DECISION sent since the last delivery, as the contract's
 * participant takes it: a device that voted YES applies the first one it
 * gets; every device ACKs, but only ACKs from ack_dev (ANY, NONE or one
 * device) reach the coordinator. */
static void
deliver(struct fix *x, uint64_t now, uint32_t ack_dev)
{
	for (; x->f.delivered < x->f.nm; x->f.delivered++) {
		struct msg m = x->f.m[x->f.delivered];
		struct part *p;

		if (m.kind != DEC)
			continue;
		p = part_of(x, m.txid, m.dev);
		if (p->yes && !p->applied) {
			p->applied = true;
			dev_rec(x, now, m.txid, m.dev, SIM_TPC_APPLY, m.commit);
		}
		if (ack_dev == ANY || ack_dev == m.dev)
			sim_tpc_coord_ack(x->c, now, m.txid, m.dev);
	}
}

/* Everything recorded, through the checker (deadline 1 s, recovery 2 s). */
static struct sim_tpc_summary
check(const struct fix *x, uint64_t end_ns)
{
	struct sim_tpc_check_opts o = { .deadline_ns = DEADLINE, .recovery_ns = 2 * S };
	struct sim_tpc_check *c = NULL;
	struct sim_tpc_summary s;
	const char *t;

	CU_ASSERT_EQUAL_FATAL(sim_tpc_check_new(&o, &c), SIM_OK);
	for (size_t i = 0; i < x->f.nr; i++)
		CU_ASSERT_EQUAL(sim_tpc_check_add(c, &x->f.r[i]), SIM_OK);
	sim_tpc_check_finish(c, end_ns);
	sim_tpc_check_summary(c, &s);
	/* The violations' timelines, on request: a failing test reads
	 * better with them, a passing bug test would only be noise. */
	if (getenv("TPC_COORD_TEST_VERBOSE") != NULL)
		for (size_t i = 0; (t = sim_tpc_check_violation(c, i, NULL, NULL)) != NULL; i++)
			fprintf(stderr, "\n%s", t);
	sim_tpc_check_free(c);
	return s;
}

static uint64_t
violations(const struct sim_tpc_summary *s)
{
	uint64_t n = 0;

	for (int k = 0; k < SIM_TPC_NVIOLATIONS; k++)
		n += s->violations[k];
	return n;
}

/* One history through a coordinator crash, every side recorded. 1 commits
 * and only device 3's ACK arrives before the crash; 2 is prepared, with
 * one YES, when it crashes; 3 is begun but never flushed. After the
 * restart every message gets through. */
static void
crash_history(struct fix *x, enum sim_tpc_bug bug)
{
	static const uint32_t two[] = { 4, 6 };

	setup(x, bug);
	started(x, 0, 1);
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x->c, 5 * MS, 2, two, 2, "2", 1), SIM_OK);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x->c, 5 * MS));
	for (int i = 0; i < 3; i++)
		dev_vote(x, 10 * MS, 1, three[i], true);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x->c, 20 * MS));
	deliver(x, 30 * MS, 3);
	dev_vote(x, 40 * MS, 2, 4, true);
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x->c, 50 * MS, 3, &three[2], 1, "3", 1), SIM_OK);
	sim_tpc_coord_crash(x->c, 50 * MS);
	CU_ASSERT_EQUAL(sim_tpc_coord_restart(x->c, 1050 * MS), SIM_OK);
	sim_tpc_coord_tick(x->c, 1050 * MS);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x->c, 1050 * MS));
	deliver(x, 1060 * MS, ANY);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x->c), 0);
}

/* A correct coordinator's history through a crash passes the checker. */
static void
test_check_clean(void)
{
	struct fix x;
	struct sim_tpc_summary s;

	crash_history(&x, SIM_TPC_BUG_NONE);
	/* 3 left no trace: no PREPARE went out, so nobody waits for it. */
	x.f.r0 = 0;
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_BEGIN, 3, ANY), 0);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_DECIDE, 1, ANY), 1);
	s = check(&x, 5 * S);
	CU_ASSERT_EQUAL(violations(&s), 0);
	CU_ASSERT_EQUAL(s.started, 2);
	CU_ASSERT_EQUAL(s.committed, 1);
	CU_ASSERT_EQUAL(s.aborted_by_coordinator, 1);
	CU_ASSERT_EQUAL(s.undecided, 0);
	teardown(&x);

	/* Not vacuous: a crash between the votes and the flush, with no
	 * restart, leaves 1 undecided and its YES voters hanging, and the
	 * checker says so. */
	setup(&x, SIM_TPC_BUG_NONE);
	started(&x, 0, 1);
	for (int i = 0; i < 3; i++)
		dev_vote(&x, 10 * MS, 1, three[i], true);
	sim_tpc_coord_crash(x.c, 15 * MS);
	s = check(&x, 5 * S);
	CU_ASSERT_EQUAL(s.violations[SIM_TPC_TERMINATION], 1);
	CU_ASSERT_EQUAL(s.undecided, 1);
	teardown(&x);
}

/* coordinator_bug: commit_despite_no_vote. */
static void
test_bug_commit_despite_no(void)
{
	struct fix x;
	const struct sim_tpc_rec *r;
	struct sim_tpc_summary s;

	setup(&x, SIM_TPC_BUG_COMMIT_DESPITE_NO_VOTE);
	started(&x, 0, 1);
	dev_vote(&x, 1 * MS, 1, 3, true);
	dev_vote(&x, 2 * MS, 1, 5, false);
	/* The NO is seen as a NO, but does not abort. */
	x.f.r0 = 0;
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_VOTE_SEEN, 1, 5), 1);
	for (size_t i = 0; i < x.f.nr; i++)
		if (x.f.r[i].ev == SIM_TPC_VOTE_SEEN && x.f.r[i].device == 5)
			CU_ASSERT_EQUAL(x.f.r[i].val, 0);
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));
	dev_vote(&x, 3 * MS, 1, 9, true);
	CU_ASSERT(sim_tpc_coord_pending(x.c));
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 4 * MS));
	r = first_rec(&x, SIM_TPC_DECIDE, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->val, 1);
	CU_ASSERT_EQUAL(r->aux, SIM_TPC_BY_VOTES);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, ANY, 1), 3);
	CU_ASSERT(log_has(&x, "D 0000000000000001 c"));
	deliver(&x, 5 * MS, ANY);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 0);
	s = check(&x, 5 * S);
	CU_ASSERT_EQUAL(s.violations[SIM_TPC_VALIDITY], 1);
	CU_ASSERT_EQUAL(s.violations[SIM_TPC_AGREEMENT], 0);
	CU_ASSERT_EQUAL(s.violations[SIM_TPC_TERMINATION], 0);
	teardown(&x);
}

/* coordinator_bug: forget_decision. The decision goes out unlogged, so
 * a restart aborts what it committed. */
static void
test_bug_forget_decision(void)
{
	struct fix x;
	struct sim_tpc_summary s;
	const struct sim_tpc_rec *r;

	crash_history(&x, SIM_TPC_BUG_FORGET_DECISION);
	CU_ASSERT_EQUAL(log_lines(&x, "D "), 0);
	CU_ASSERT_EQUAL(log_lines(&x, "B "), 2);
	x.f.r0 = 0;
	/* Two DECIDEs for 1: the commit, then the restart's abort. */
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_DECIDE, 1, ANY), 2);
	r = first_rec(&x, SIM_TPC_DECIDE, 1);
	CU_ASSERT_EQUAL(r->val, 1);
	CU_ASSERT_EQUAL(r->aux, SIM_TPC_BY_VOTES);
	for (size_t i = r - x.f.r + 1; i < x.f.nr; i++)
		if (x.f.r[i].ev == SIM_TPC_DECIDE && x.f.r[i].txid == 1) {
			CU_ASSERT_EQUAL(x.f.r[i].val, 0);
			CU_ASSERT_EQUAL(x.f.r[i].aux, SIM_TPC_BY_COORDINATOR);
		}
	/* And the abort went out, to the devices that had applied the commit. */
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, ANY, 0), 3);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, ANY, 1), 3);
	s = check(&x, 5 * S);
	CU_ASSERT_EQUAL(s.violations[SIM_TPC_AGREEMENT], 1);
	CU_ASSERT_EQUAL(s.violations[SIM_TPC_VALIDITY], 0);
	CU_ASSERT_EQUAL(s.violations[SIM_TPC_TERMINATION], 0);
	teardown(&x);

	/* Every participant ACKed before the crash: the F line still makes
	 * the restart forget it, bug or not. */
	setup(&x, SIM_TPC_BUG_FORGET_DECISION);
	committed(&x, 0, 1);
	for (int i = 0; i < 3; i++)
		sim_tpc_coord_ack(x.c, 20 * MS, 1, three[i]);
	sim_tpc_coord_crash(x.c, 30 * MS);
	CU_ASSERT_EQUAL(sim_tpc_coord_restart(x.c, 1 * S), SIM_OK);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 0);
	CU_ASSERT_FALSE(sim_tpc_coord_pending(x.c));
	teardown(&x);
}

/* A transaction voted on before its PREPAREs went out (only a test does
 * that) is decided in the pass it began: the flush logs both lines and
 * sends only the decision. And the record hook may be left out. */
static void
test_edges(void)
{
	static const struct sim_tpc_coord_ops quiet = { on_prepare, on_decision, NULL };
	struct sim_tpc_coord_opts o = { .deadline_ns = DEADLINE, .resend_ns = RESEND };
	struct sim_tpc_coord *c;
	struct fix x;

	setup(&x, SIM_TPC_BUG_NONE);
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, 0, 1, three, 2, "1", 1), SIM_OK);
	sim_tpc_coord_vote(x.c, 1 * MS, 1, 5, false);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 2 * MS));
	CU_ASSERT(log_has(&x, "B 0000000000000001 1767225601000 3 5"));
	CU_ASSERT(log_has(&x, "D 0000000000000001 a"));
	CU_ASSERT_EQUAL(nsent(&x, PREP, 1, ANY, -1), 0);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, ANY, 0), 2);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_BEGIN, 1, ANY), 1);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_PREPARE, 1, ANY), 0);
	CU_ASSERT_EQUAL(nrec(&x, SIM_TPC_DECIDE, 1, ANY), 1);

	/* The same run, unrecorded. */
	snprintf(x.path + strlen(x.dir), sizeof(x.path) - strlen(x.dir), "/quiet.log");
	o.log_path = x.path;
	CU_ASSERT_EQUAL_FATAL(sim_tpc_coord_new(&o, &quiet, &x.f, &c), SIM_OK);
	mark(&x);
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(c, 0, 1, three, 3, "1", 1), SIM_OK);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(c, 0));
	for (int i = 0; i < 3; i++)
		sim_tpc_coord_vote(c, 1 * MS, 1, three[i], true);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(c, 2 * MS));
	for (int i = 0; i < 3; i++)
		sim_tpc_coord_ack(c, 3 * MS, 1, three[i]);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, ANY, 1), 3);
	CU_ASSERT_EQUAL(nrecs(&x), 0);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(c), 0);
	sim_tpc_coord_free(c);
	unlink(x.path);
	snprintf(x.path + strlen(x.dir), sizeof(x.path) - strlen(x.dir), "/coordinator.log");

	/* NULL is harmless everywhere. */
	sim_tpc_coord_vote(NULL, 0, 1, 3, true);
	sim_tpc_coord_ack(NULL, 0, 1, 3);
	sim_tpc_coord_query(NULL, 0, 1, 3);
	sim_tpc_coord_tick(NULL, 0);
	sim_tpc_coord_crash(NULL, 0);
	sim_tpc_coord_crash_armed(NULL);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(NULL, 0));
	CU_ASSERT_FALSE(sim_tpc_coord_pending(NULL));
	CU_ASSERT_FALSE(sim_tpc_coord_up(NULL));
	CU_ASSERT_EQUAL(sim_tpc_coord_open(NULL), 0);
	CU_ASSERT_EQUAL(sim_tpc_coord_restart(NULL, 0), SIM_ERR_INVAL);
	{
		struct sim_tpc_coord_stats st;

		memset(&st, 0xff, sizeof(st));
		sim_tpc_coord_stats(NULL, &st);
		CU_ASSERT_EQUAL(st.crashes + st.resends + st.fsyncs + st.log_errors, 0);
	}
	sim_tpc_coord_free(NULL);
	teardown(&x);
}

static void
test_new_errors(void)
{
	struct sim_tpc_coord_opts o = { .deadline_ns = DEADLINE, .resend_ns = RESEND };
	struct sim_tpc_coord *c = (struct sim_tpc_coord *)&o;
	char dir[] = "/tmp/tpc_coord_test.XXXXXX", path[128];
	struct fake f = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	o.log_path = NULL;
	CU_ASSERT_EQUAL(sim_tpc_coord_new(&o, &ops, &f, &c), SIM_ERR_INVAL);
	CU_ASSERT_PTR_NULL(c);
	o.log_path = dir;
	CU_ASSERT_EQUAL(sim_tpc_coord_new(NULL, &ops, &f, &c), SIM_ERR_INVAL);
	CU_ASSERT_EQUAL(sim_tpc_coord_new(&o, NULL, &f, &c), SIM_ERR_INVAL);
	CU_ASSERT_EQUAL(sim_tpc_coord_new(&o, &ops, &f, NULL), SIM_ERR_INVAL);
	/* Not writable: a folder that is not there (root writes anywhere,
	 * so permissions would prove nothing), and a folder itself. */
	snprintf(path, sizeof(path), "%s/no/such/folder/coordinator.log", dir);
	o.log_path = path;
	c = (struct sim_tpc_coord *)&o;
	errno = 0;
	CU_ASSERT_EQUAL(sim_tpc_coord_new(&o, &ops, &f, &c), SIM_ERR_IO);
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_PTR_NULL(c);
	o.log_path = dir;
	errno = 0;
	CU_ASSERT_EQUAL(sim_tpc_coord_new(&o, &ops, &f, &c), SIM_ERR_IO);
	CU_ASSERT_EQUAL(errno, EISDIR);
	CU_ASSERT_PTR_NULL(c);
	rmdir(dir);
	CU_ASSERT_EQUAL(f.nm + f.nr, 0);
}

/* A log that cannot be written or read back. */
static void
test_log_errors(void)
{
	struct sim_tpc_coord_opts o = { .log_path = "/dev/full", .deadline_ns = DEADLINE,
		.resend_ns = RESEND };
	struct sim_tpc_coord *c = NULL;
	struct sim_tpc_coord_stats st;
	struct fake f = { 0 };
	struct fix x;

	/* A write that fails is a crash: nothing unlogged goes out, and no
	 * BEGIN is recorded for a transaction that never started. */
	if (access("/dev/full", W_OK) == 0) {
		CU_ASSERT_EQUAL_FATAL(sim_tpc_coord_new(&o, &ops, &f, &c), SIM_OK);
		CU_ASSERT_EQUAL(sim_tpc_coord_begin(c, 0, 1, three, 3, "1", 1), SIM_OK);
		CU_ASSERT_TRUE(sim_tpc_coord_flush(c, 0));
		CU_ASSERT_FALSE(sim_tpc_coord_up(c));
		CU_ASSERT_EQUAL(sim_tpc_coord_open(c), 0);
		sim_tpc_coord_stats(c, &st);
		CU_ASSERT_EQUAL(st.crashes, 1);
		CU_ASSERT_EQUAL(st.log_errors, 1);
		CU_ASSERT_EQUAL(st.fsyncs, 1);
		CU_ASSERT_EQUAL(f.nm + f.nr, 0);
		sim_tpc_coord_free(c);
		free(f.m);
		free(f.r);
	}

	/* A log gone while down: the restart fails and it stays down. */
	setup(&x, SIM_TPC_BUG_NONE);
	committed(&x, 0, 1);
	sim_tpc_coord_crash(x.c, 20 * MS);
	CU_ASSERT_EQUAL(unlink(x.path), 0);
	CU_ASSERT_EQUAL(sim_tpc_coord_restart(x.c, 1 * S), SIM_ERR_IO);
	CU_ASSERT_FALSE(sim_tpc_coord_up(x.c));
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 0);
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, 1 * S, 2, three, 3, "2", 1), SIM_ERR_INVAL);
	teardown(&x);
}

/* Lines that are not whole records (a torn write, or junk) are skipped on
 * restart; what the good ones say still holds. */
static void
test_malformed_log(void)
{
	static const char *const junk[] = {
		"\n",
		"X 0000000000000001\n",
		"B\n",
		"B 00000000000000zz 1000 3\n",         /* not a txid */
		"B 00000000000004D2 1000 3\n",         /* not lowercase */
		"B 00000000000000aa\n",                /* no deadline */
		"B 00000000000000bb 1000\n",           /* no participants */
		"D 00000000000000cc c\n",              /* never begun */
		"F 00000000000000dd\n",                /* never begun */
		"D 0000000000000002 x\n",              /* neither c nor a */
		"D 0000000000000002\n",
		"B 0000000000000002 5 7 8\n",          /* begun again: ignored */
	};
	struct fix x;
	FILE *f;

	setup(&x, SIM_TPC_BUG_NONE);
	committed(&x, 0, 1);
	started(&x, 0, 2);
	sim_tpc_coord_crash(x.c, 20 * MS);
	f = fopen(x.path, "a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		fputs(junk[i], f);
	fclose(f);
	mark(&x);
	CU_ASSERT_EQUAL(sim_tpc_coord_restart(x.c, 1 * S), SIM_OK);
	sim_tpc_coord_tick(x.c, 1 * S);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 1 * S));
	/* 1 resends its commit, 2 is aborted with its own participants. */
	CU_ASSERT_EQUAL(nsent(&x, DEC, 1, ANY, 1), 3);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 2, ANY, 0), 3);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(nsent(&x, DEC, 2, three[i], 0), 1);
	CU_ASSERT_EQUAL(nsent(&x, DEC, 0xcc, ANY, -1) + nsent(&x, DEC, 0xbb, ANY, -1) +
	    nsent(&x, DEC, 0xaa, ANY, -1), 0);
	CU_ASSERT_EQUAL(nmsgs(&x), 6);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 2);
	teardown(&x);
}

struct txs {
	uint64_t *id;
	uint8_t *acks;
	uint32_t n;
};

static uint32_t
dev_a(uint32_t i)
{
	return i % 97;
}

static uint32_t
dev_b(uint32_t i)
{
	return 100 + i % 89;
}

/* Every transaction still open answers its participant's QUERY with
 * its commit, and every forgotten one with the presumed abort: both
 * prove the index finds what it holds and nothing else. */
static void
verify_index(struct fix *x, const struct txs *t, size_t want_open)
{
	size_t bad = 0;

	CU_ASSERT_EQUAL(sim_tpc_coord_open(x->c), want_open);
	for (uint32_t i = 0; i < t->n; i++) {
		const struct msg *m;

		mark(x);
		sim_tpc_coord_query(x->c, 10 * MS, t->id[i], dev_a(i));
		if (nmsgs(x) != 1) {
			bad++;
			continue;
		}
		m = &x->f.m[x->f.m0];
		if (m->kind != DEC || m->txid != t->id[i] || m->commit != (t->acks[i] < 2))
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* The answers are of no further interest. */
	x->f.nm = x->f.m0 = 0;
}

static void
shuffle(uint32_t *v, size_t n, uint64_t *rng)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)sim_rng_below(rng, i);
		uint32_t k = v[i - 1];

		v[i - 1] = v[j];
		v[j] = k;
	}
}

/* Many transactions, forgotten in random order: the txid index's
 * backward-shift deletion and swap-removal keep every lookup working. */
static void
test_many(void)
{
	enum { NTX = 5000 };
	struct fix x;
	struct txs t = { .n = NTX };
	uint64_t rng = 0x7c0ffee;
	uint32_t *order = malloc(2 * NTX * sizeof(*order));
	size_t open = NTX, n;

	t.id = malloc(NTX * sizeof(*t.id));
	t.acks = calloc(NTX, 1);
	CU_ASSERT_FATAL(order != NULL && t.id != NULL && t.acks != NULL);
	setup(&x, SIM_TPC_BUG_NONE);
	/* Scattered txids, the extremes, and a run of small consecutive
	 * ones; every one distinct. */
	for (uint32_t i = 0; i < NTX; i++)
		t.id[i] = i < 1000 ? i : sim_rng_next(&rng) | (1ull << 63);
	t.id[1] = UINT64_MAX;
	for (uint32_t i = 0; i < NTX; i++) {
		uint32_t d[2] = { dev_a(i), dev_b(i) };

		CU_ASSERT_EQUAL_FATAL(sim_tpc_coord_begin(x.c, 0, t.id[i], d, 2, "c", 1), SIM_OK);
	}
	CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, 0, t.id[NTX - 1], order, 1, "c", 1),
	    SIM_ERR_INVAL);
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 0));
	CU_ASSERT_EQUAL(nsent(&x, PREP, t.id[77], ANY, -1), 2);
	CU_ASSERT_EQUAL(x.f.nm, 2 * NTX);
	CU_ASSERT_EQUAL(stats(&x).fsyncs, 1);
	x.f.nm = x.f.nr = 0;

	/* Votes in random order, every one YES. */
	for (uint32_t k = 0; k < 2 * NTX; k++)
		order[k] = k;
	shuffle(order, 2 * NTX, &rng);
	for (uint32_t k = 0; k < 2 * NTX; k++) {
		uint32_t i = order[k] / 2;

		sim_tpc_coord_vote(x.c, 1 * MS, t.id[i], order[k] % 2 ? dev_b(i) : dev_a(i), true);
	}
	CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, 2 * MS));
	CU_ASSERT_EQUAL(x.f.nm, 2 * NTX);
	n = 0;
	for (size_t k = 0; k < x.f.nr; k++)
		n += x.f.r[k].ev == SIM_TPC_DECIDE && x.f.r[k].val == 1;
	CU_ASSERT_EQUAL(n, NTX);
	x.f.nm = x.f.nr = 0;
	verify_index(&x, &t, open);

	/* ACKs in another random order, checking everything as they go. */
	shuffle(order, 2 * NTX, &rng);
	for (uint32_t k = 0; k < 2 * NTX; k++) {
		uint32_t i = order[k] / 2;

		sim_tpc_coord_ack(x.c, 3 * MS, t.id[i], order[k] % 2 ? dev_b(i) : dev_a(i));
		if (++t.acks[i] == 2)
			open--;
		if (k % 997 == 0)
			verify_index(&x, &t, open);
	}
	verify_index(&x, &t, 0);
	x.f.nr = 0;

	/* Every txid is free again, and taken again once. */
	for (uint32_t i = 0; i < NTX; i++) {
		uint32_t d[2] = { dev_a(i), dev_b(i) };

		CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, 4 * MS, t.id[i], d, 2, "c", 1), SIM_OK);
		CU_ASSERT_EQUAL(sim_tpc_coord_begin(x.c, 4 * MS, t.id[i], d, 2, "c", 1),
		    SIM_ERR_INVAL);
	}
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), NTX);
	sim_tpc_coord_crash(x.c, 5 * MS);
	CU_ASSERT_EQUAL(sim_tpc_coord_restart(x.c, 6 * MS), SIM_OK);
	CU_ASSERT_EQUAL(sim_tpc_coord_open(x.c), 0);

	free(order);
	free(t.id);
	free(t.acks);
	/* The log has it all; the second round was never flushed. */
	sim_tpc_coord_free(x.c);
	x.c = NULL;
	CU_ASSERT_EQUAL(log_lines(&x, "B "), NTX);
	CU_ASSERT_EQUAL(log_lines(&x, "D "), NTX);
	CU_ASSERT_EQUAL(log_lines(&x, "F "), NTX);
	teardown(&x);
}

/* Churn at the index's smallest size: transactions come and go a few at
 * a time and never more than 60 are open, so the table keeps its first
 * 128 slots, half full at most, and its probe chains often wrap around
 * its end, where backward-shift deletion is easiest to get wrong. */
static void
test_churn(void)
{
	enum { NTX = 2000, MAXLIVE = 60 };
	struct fix x;
	struct txs t = { .n = 0 };
	uint64_t rng = 0x5eed;
	uint32_t live[MAXLIVE], nlive = 0;
	int pass;

	t.id = malloc(NTX * sizeof(*t.id));
	t.acks = calloc(NTX, 1);
	CU_ASSERT_FATAL(t.id != NULL && t.acks != NULL);
	setup(&x, SIM_TPC_BUG_NONE);
	for (pass = 0; pass < 400 && t.n + 8 <= NTX; pass++) {
		uint32_t k = (uint32_t)sim_rng_below(&rng, 8), first = t.n;
		uint64_t now = (uint64_t)(10 + pass) * S;

		for (; k > 0 && nlive < MAXLIVE; k--, t.n++) {
			uint32_t d[2] = { dev_a(t.n), dev_b(t.n) };

			t.id[t.n] = sim_rng_next(&rng);
			CU_ASSERT_EQUAL_FATAL(sim_tpc_coord_begin(x.c, now, t.id[t.n], d, 2, "c",
			    1), SIM_OK);
			live[nlive++] = t.n;
		}
		CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, now));
		for (uint32_t i = first; i < t.n; i++) {
			sim_tpc_coord_vote(x.c, now + 1 * MS, t.id[i], dev_a(i), true);
			sim_tpc_coord_vote(x.c, now + 1 * MS, t.id[i], dev_b(i), true);
		}
		CU_ASSERT_FALSE(sim_tpc_coord_flush(x.c, now + 2 * MS));
		for (k = (uint32_t)sim_rng_below(&rng, 7); k > 0 && nlive > 0; k--) {
			uint32_t j = (uint32_t)sim_rng_below(&rng, nlive), i = live[j];

			sim_tpc_coord_ack(x.c, now + 3 * MS, t.id[i], dev_a(i));
			sim_tpc_coord_ack(x.c, now + 3 * MS, t.id[i], dev_b(i));
			t.acks[i] = 2;
			live[j] = live[--nlive];
		}
		x.f.nr = 0;
		verify_index(&x, &t, nlive);
	}
	CU_ASSERT(t.n > 1000);
	/* Then everything goes. */
	while (nlive > 0) {
		uint32_t i = live[--nlive];

		sim_tpc_coord_ack(x.c, 1000 * S, t.id[i], dev_b(i));
		sim_tpc_coord_ack(x.c, 1000 * S, t.id[i], dev_a(i));
		t.acks[i] = 2;
		verify_index(&x, &t, nlive);
	}
	sim_tpc_coord_free(x.c);
	x.c = NULL;
	CU_ASSERT_EQUAL(log_lines(&x, "F "), t.n);
	free(t.id);
	free(t.acks);
	teardown(&x);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "begin queues, flush logs and prepares", test_begin_flush },
		{ "all YES: commit", test_commit },
		{ "a NO: abort by votes", test_abort_by_vote },
		{ "the deadline: abort by timeout", test_abort_by_timeout },
		{ "the first vote counts", test_first_vote_counts },
		{ "late votes, queries, presumed abort", test_votes_queries },
		{ "resends to the silent", test_resends },
		{ "ACKs and forgetting", test_acks },
		{ "crash and restart", test_crash_restart },
		{ "armed crash between decision and sending", test_crash_armed },
		{ "checker: clean through a crash", test_check_clean },
		{ "bug commit_despite_no_vote", test_bug_commit_despite_no },
		{ "bug forget_decision", test_bug_forget_decision },
		{ "edges and NULLs", test_edges },
		{ "new: bad arguments, unwritable log", test_new_errors },
		{ "log write and read errors", test_log_errors },
		{ "malformed log lines on restart", test_malformed_log },
		{ "many transactions through the index", test_many },
		{ "churn through a small index", test_churn },
		{ NULL, NULL },
	};

	return fs_test_main("tpc_coord", tests);
}
