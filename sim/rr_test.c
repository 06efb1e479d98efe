#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "fs_test.h"
#include "rng.h"
#include "rpt_test.h"
#include "rr.h"
#include "sim_clock.h"

#define MS SIM_NS_PER_MS
#define S SIM_NS_PER_S

static const char *const names[] = { "reboot", "get_config", "ping" };

static struct sim_rr *
make(uint32_t salt, int ok_min, int ok_max)
{
	struct sim_rr_opts o = { .timeout_ns = 1 * S, .ndevices = 4, .methods = names,
		.nmethods = 3, .salt = salt, .ok_min = ok_min, .ok_max = ok_max };
	struct sim_rr *rr = NULL;

	CU_ASSERT_EQUAL_FATAL(sim_rr_new(&o, &rr), SIM_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rr);
	return rr;
}

/* sent == ok + error_status + timeout + late + open, overall and per method. */
static int
balanced(const struct sim_rr *rr, uint32_t method)
{
	struct sim_rr_counts c;

	sim_rr_counts(rr, method, &c);
	return c.sent == c.ok + c.error_status + c.timeout + c.late + c.open;
}

static void
test_ok(void)
{
	struct sim_rr *rr = make(0, 0, 0);
	struct sim_rr_counts c;
	uint64_t id;

	id = sim_rr_open(rr, 2, 1, 10 * S);
	/* Salt 0 and seq from 1: the first id is 1, not 0. */
	CU_ASSERT_EQUAL(id, 1);
	CU_ASSERT_EQUAL(sim_rr_open(rr, 3, 1, 10 * S), 2);
	sim_rr_counts(rr, SIM_RR_ALL, &c);
	CU_ASSERT_EQUAL(c.sent, 2);
	CU_ASSERT_EQUAL(c.open, 2);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, id, 2, 200, 10 * S + 30 * MS), SIM_RR_OK);
	/* A wire that does not say who answered still matches. */
	CU_ASSERT_EQUAL(sim_rr_answer(rr, 2, SIM_RR_ANY_DEVICE, 204, 10 * S + 40 * MS), SIM_RR_OK);
	sim_rr_counts(rr, SIM_RR_ALL, &c);
	CU_ASSERT_EQUAL(c.ok, 2);
	CU_ASSERT_EQUAL(c.open, 0);
	CU_ASSERT_EQUAL(c.error_status + c.timeout + c.late + c.unmatched + c.duplicate, 0);
	sim_rr_counts(rr, 1, &c);
	CU_ASSERT_EQUAL(c.sent, 2);
	CU_ASSERT_EQUAL(c.ok, 2);
	sim_rr_counts(rr, 0, &c);
	CU_ASSERT_EQUAL(c.sent, 0);
	CU_ASSERT_EQUAL(rpt_hist_count(sim_rr_latency(rr, SIM_RR_ALL)), 2);
	CU_ASSERT_EQUAL(rpt_hist_min(sim_rr_latency(rr, 1)), 30 * MS);
	CU_ASSERT_EQUAL(rpt_hist_max(sim_rr_latency(rr, 1)), 40 * MS);
	CU_ASSERT_EQUAL(rpt_hist_count(sim_rr_latency(rr, 0)), 0);
	CU_ASSERT_PTR_NULL(sim_rr_latency(rr, 3));
	/* Nothing expires once everything is answered. */
	CU_ASSERT_EQUAL(sim_rr_expire(rr, 100 * S), 0);
	sim_rr_free(rr);
}

static void
test_error_status(void)
{
	static const int bad[] = { 0, 199, 300, 404, 500, -1 };
	struct sim_rr *rr = make(5, 0, 0);
	struct sim_rr_counts c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(sim_rr_answer(rr, sim_rr_open(rr, 0, 2, S), 0, bad[i], S + MS),
		    SIM_RR_ERROR_STATUS);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, sim_rr_open(rr, 0, 2, S), 0, 200, S + MS), SIM_RR_OK);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, sim_rr_open(rr, 0, 2, S), 0, 299, S + MS), SIM_RR_OK);
	sim_rr_counts(rr, 2, &c);
	CU_ASSERT_EQUAL(c.error_status, 6);
	CU_ASSERT_EQUAL(c.ok, 2);
	/* Error answers have a latency too: the device did answer. */
	CU_ASSERT_EQUAL(rpt_hist_count(sim_rr_latency(rr, 2)), 8);
	sim_rr_free(rr);

	/* A custom set: 0 and 1 are ok (a device's own convention; "only 0"
	 * cannot be said, both 0 meaning the default). */
	rr = make(5, 0, 1);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, sim_rr_open(rr, 1, 0, S), 1, 0, S + MS), SIM_RR_OK);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, sim_rr_open(rr, 1, 0, S), 1, 1, S + MS), SIM_RR_OK);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, sim_rr_open(rr, 1, 0, S), 1, 200, S + MS),
	    SIM_RR_ERROR_STATUS);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, sim_rr_open(rr, 1, 0, S), 1, 2, S + MS),
	    SIM_RR_ERROR_STATUS);
	sim_rr_free(rr);

	rr = make(5, 200, 204);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, sim_rr_open(rr, 1, 0, S), 1, 204, S + MS), SIM_RR_OK);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, sim_rr_open(rr, 1, 0, S), 1, 205, S + MS),
	    SIM_RR_ERROR_STATUS);
	sim_rr_free(rr);
}

static void
test_new_inval(void)
{
	static const char *const dup[] = { "a", "b", "a" };
	static const char *const empty[] = { "a", "" };
	static const char *const null[] = { "a", NULL };
	struct sim_rr_opts ok = { .timeout_ns = S, .ndevices = 1, .methods = names, .nmethods = 3 };
	struct sim_rr_opts o;
	struct sim_rr *rr = (struct sim_rr *)&o;

	CU_ASSERT_EQUAL(sim_rr_new(NULL, &rr), SIM_ERR_INVAL);
	CU_ASSERT_PTR_NULL(rr);
	o = ok, o.timeout_ns = 0;
	CU_ASSERT_EQUAL(sim_rr_new(&o, &rr), SIM_ERR_INVAL);
	o = ok, o.nmethods = 0;
	CU_ASSERT_EQUAL(sim_rr_new(&o, &rr), SIM_ERR_INVAL);
	o = ok, o.methods = NULL;
	CU_ASSERT_EQUAL(sim_rr_new(&o, &rr), SIM_ERR_INVAL);
	o = ok, o.methods = dup;
	CU_ASSERT_EQUAL(sim_rr_new(&o, &rr), SIM_ERR_INVAL);
	o = ok, o.methods = empty, o.nmethods = 2;
	CU_ASSERT_EQUAL(sim_rr_new(&o, &rr), SIM_ERR_INVAL);
	o = ok, o.methods = null, o.nmethods = 2;
	CU_ASSERT_EQUAL(sim_rr_new(&o, &rr), SIM_ERR_INVAL);
	o = ok, o.ok_min = 300, o.ok_max = 200;
	CU_ASSERT_EQUAL(sim_rr_new(&o, &rr), SIM_ERR_INVAL);
	CU_ASSERT_PTR_NULL(rr);
	CU_ASSERT_EQUAL(sim_rr_new(&ok, &rr), SIM_OK);
	sim_rr_free(rr);
	sim_rr_free(NULL);
}

/* deadline == now times out; one nanosecond earlier does not. */
static void
test_timeout_boundary(void)
{
	struct sim_rr *rr = make(9, 0, 0);
	struct sim_rr_counts c;
	uint64_t a, b;

	a = sim_rr_open(rr, 0, 0, 10 * S);
	b = sim_rr_open(rr, 1, 0, 10 * S + 1);
	CU_ASSERT_EQUAL(sim_rr_expire(rr, 11 * S - 1), 0);
	CU_ASSERT_EQUAL(sim_rr_expire(rr, 11 * S), 1);
	sim_rr_counts(rr, SIM_RR_ALL, &c);
	CU_ASSERT_EQUAL(c.timeout, 1);
	CU_ASSERT_EQUAL(c.open, 1);
	CU_ASSERT_EQUAL(sim_rr_next_deadline(rr), 11 * S + 1);
	/* Still open, answered just in time. */
	CU_ASSERT_EQUAL(sim_rr_answer(rr, b, 1, 200, 11 * S), SIM_RR_OK);
	CU_ASSERT_EQUAL(sim_rr_expire(rr, 20 * S), 0);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, a, 0, 200, 20 * S), SIM_RR_LATE);
	CU_ASSERT(balanced(rr, SIM_RR_ALL));

	/* An answer at the deadline is late even before expiry has run. */
	a = sim_rr_open(rr, 2, 1, 30 * S);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, a, 2, 200, 31 * S), SIM_RR_LATE);
	a = sim_rr_open(rr, 2, 1, 30 * S);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, a, 2, 200, 31 * S - 1), SIM_RR_OK);
	sim_rr_counts(rr, 1, &c);
	CU_ASSERT_EQUAL(c.late, 1);
	CU_ASSERT_EQUAL(c.timeout, 0);
	CU_ASSERT_EQUAL(c.ok, 1);
	CU_ASSERT_EQUAL(c.open, 0);
	/* Late answers have no latency. */
	CU_ASSERT_EQUAL(rpt_hist_count(sim_rr_latency(rr, 1)), 1);
	CU_ASSERT_EQUAL(rpt_hist_count(sim_rr_latency(rr, SIM_RR_ALL)), 2);
	CU_ASSERT_EQUAL(sim_rr_expire(rr, UINT64_MAX), 0);
	sim_rr_free(rr);
}

/* A timed-out request answered later moves from timeout to late; any
 * further answer is a duplicate. */
static void
test_late_then_duplicate(void)
{
	struct sim_rr *rr = make(9, 0, 0);
	struct sim_rr_counts c;
	uint64_t id = sim_rr_open(rr, 3, 2, 5 * S);

	CU_ASSERT_EQUAL(sim_rr_expire(rr, 7 * S), 1);
	sim_rr_counts(rr, SIM_RR_ALL, &c);
	CU_ASSERT_EQUAL(c.timeout, 1);
	CU_ASSERT_EQUAL(c.late, 0);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, id, 3, 200, 8 * S), SIM_RR_LATE);
	sim_rr_counts(rr, SIM_RR_ALL, &c);
	CU_ASSERT_EQUAL(c.timeout, 0);
	CU_ASSERT_EQUAL(c.late, 1);
	CU_ASSERT_EQUAL(c.sent, 1);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, id, 3, 200, 9 * S), SIM_RR_DUPLICATE);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, id, SIM_RR_ANY_DEVICE, 500, 9 * S), SIM_RR_DUPLICATE);
	sim_rr_counts(rr, 2, &c);
	CU_ASSERT_EQUAL(c.late, 1);
	CU_ASSERT_EQUAL(c.duplicate, 2);
	CU_ASSERT_EQUAL(c.timeout, 0);
	CU_ASSERT(balanced(rr, 2));
	CU_ASSERT_EQUAL(rpt_hist_count(sim_rr_latency(rr, SIM_RR_ALL)), 0);
	sim_rr_free(rr);
}

static void
test_duplicate_of_answered(void)
{
	struct sim_rr *rr = make(1, 0, 0);
	struct sim_rr_counts c;
	uint64_t a = sim_rr_open(rr, 0, 0, S), b = sim_rr_open(rr, 0, 0, S);

	CU_ASSERT_EQUAL(sim_rr_answer(rr, a, 0, 200, S + MS), SIM_RR_OK);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, a, 0, 200, S + 2 * MS), SIM_RR_DUPLICATE);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, b, 0, 503, S + MS), SIM_RR_ERROR_STATUS);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, b, 0, 200, S + 2 * MS), SIM_RR_DUPLICATE);
	/* After the deadline a duplicate stays a duplicate, not late. */
	CU_ASSERT_EQUAL(sim_rr_expire(rr, 5 * S), 0);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, a, 0, 200, 5 * S), SIM_RR_DUPLICATE);
	sim_rr_counts(rr, SIM_RR_ALL, &c);
	CU_ASSERT_EQUAL(c.ok, 1);
	CU_ASSERT_EQUAL(c.error_status, 1);
	CU_ASSERT_EQUAL(c.duplicate, 3);
	CU_ASSERT_EQUAL(c.late + c.timeout + c.unmatched + c.open, 0);
	/* Only first answers are timed. */
	CU_ASSERT_EQUAL(rpt_hist_count(sim_rr_latency(rr, 0)), 2);
	sim_rr_free(rr);
}

static void
test_unmatched(void)
{
	struct sim_rr *rr = make(0xabcd, 0, 0);
	struct sim_rr_counts c;
	uint64_t id = sim_rr_open(rr, 1, 2, S);

	CU_ASSERT_EQUAL(id, 0xabcd00000001ull);
	/* Another run's id: same seq, other salt. */
	CU_ASSERT_EQUAL(sim_rr_answer(rr, 0xabce00000001ull, 1, 200, S + MS), SIM_RR_UNMATCHED);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, 1, 1, 200, S + MS), SIM_RR_UNMATCHED);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, 0, 1, 200, S + MS), SIM_RR_UNMATCHED);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, 0xabcd00000000ull, 1, 200, S + MS), SIM_RR_UNMATCHED);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, id + 1, 1, 200, S + MS), SIM_RR_UNMATCHED);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, 0xabcdffffffffull, 1, 200, S + MS), SIM_RR_UNMATCHED);
	sim_rr_counts(rr, 2, &c);
	CU_ASSERT_EQUAL(c.unmatched, 0);        /* no method to charge them to */
	/* Another device's answer is unmatched and changes nothing ... */
	CU_ASSERT_EQUAL(sim_rr_answer(rr, id, 0, 200, S + MS), SIM_RR_UNMATCHED);
	sim_rr_counts(rr, 2, &c);
	CU_ASSERT_EQUAL(c.unmatched, 1);
	CU_ASSERT_EQUAL(c.open, 1);
	CU_ASSERT_EQUAL(rpt_hist_count(sim_rr_latency(rr, SIM_RR_ALL)), 0);
	/* ... so the request's own device can still answer it. */
	CU_ASSERT_EQUAL(sim_rr_answer(rr, id, 1, 200, S + 2 * MS), SIM_RR_OK);
	/* Even for an answered request, another device is unmatched. */
	CU_ASSERT_EQUAL(sim_rr_answer(rr, id, 3, 200, S + 3 * MS), SIM_RR_UNMATCHED);
	sim_rr_counts(rr, SIM_RR_ALL, &c);
	CU_ASSERT_EQUAL(c.unmatched, 8);
	CU_ASSERT_EQUAL(c.ok, 1);
	CU_ASSERT_EQUAL(c.duplicate, 0);
	CU_ASSERT_EQUAL(c.sent, 1);
	sim_rr_free(rr);
}

/* Opens the engine got wrong are still counted, and their ids match
 * nothing and are never 0. */
static void
test_refused_open(void)
{
	struct sim_rr *rr = make(0, 0, 0);
	struct sim_rr_counts c;
	uint64_t a = sim_rr_open(rr, 4, 0, S), b = sim_rr_open(rr, 0, 3, S);

	CU_ASSERT_NOT_EQUAL(a, 0);
	CU_ASSERT_NOT_EQUAL(b, 0);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, a, SIM_RR_ANY_DEVICE, 200, S), SIM_RR_UNMATCHED);
	sim_rr_counts(rr, SIM_RR_ALL, &c);
	CU_ASSERT_EQUAL(c.sent, 2);
	CU_ASSERT_EQUAL(c.timeout, 2);
	CU_ASSERT_EQUAL(c.open, 0);
	sim_rr_counts(rr, 0, &c);
	CU_ASSERT_EQUAL(c.sent, 1);
	CU_ASSERT_EQUAL(c.timeout, 1);
	CU_ASSERT_EQUAL(sim_rr_next_deadline(rr), 0);
	/* The next real request still gets seq 1. */
	CU_ASSERT_EQUAL(sim_rr_open(rr, 0, 0, S), 1);
	sim_rr_free(rr);
}

static void
test_next_deadline(void)
{
	struct sim_rr *rr = make(2, 0, 0);
	uint64_t a, b, d;

	CU_ASSERT_EQUAL(sim_rr_next_deadline(rr), 0);
	a = sim_rr_open(rr, 0, 0, 0);
	b = sim_rr_open(rr, 1, 0, 2 * S);
	sim_rr_open(rr, 2, 0, 3 * S);
	d = sim_rr_open(rr, 3, 0, 3 * S);
	/* Intended at 0 still has a deadline that is not "none". */
	CU_ASSERT_EQUAL(sim_rr_next_deadline(rr), 1 * S);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, b, 1, 200, 2 * S), SIM_RR_OK);
	CU_ASSERT_EQUAL(sim_rr_next_deadline(rr), 1 * S);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, a, 0, 200, S / 2), SIM_RR_OK);
	/* b is answered too, so the next is the third. */
	CU_ASSERT_EQUAL(sim_rr_next_deadline(rr), 4 * S);
	CU_ASSERT_EQUAL(sim_rr_answer(rr, d, 3, 200, 3 * S), SIM_RR_OK);
	CU_ASSERT_EQUAL(sim_rr_next_deadline(rr), 4 * S);
	CU_ASSERT_EQUAL(sim_rr_expire(rr, sim_rr_next_deadline(rr)), 1);
	CU_ASSERT_EQUAL(sim_rr_next_deadline(rr), 0);
	/* Near the end of time the deadline saturates instead of wrapping. */
	sim_rr_open(rr, 0, 0, UINT64_MAX - 5);
	CU_ASSERT_EQUAL(sim_rr_next_deadline(rr), UINT64_MAX);
	CU_ASSERT_EQUAL(sim_rr_expire(rr, UINT64_MAX - 1), 0);
	CU_ASSERT_EQUAL(sim_rr_expire(rr, UINT64_MAX), 1);
	sim_rr_free(rr);
}

/* Two methods with their own latencies, measured from the intended time
 * (the actual send never enters). */
static void
test_per_method_latency(void)
{
	struct sim_rr *rr = make(3, 0, 0);
	struct sim_rr_counts c, a, b;
	const struct rpt_hist *h;

	for (int i = 0; i < 1000; i++) {
		uint64_t t = S + (uint64_t)i * MS;

		CU_ASSERT_EQUAL(sim_rr_answer(rr, sim_rr_open(rr, 0, 0, t), 0, 200, t + 250 * MS),
		    SIM_RR_OK);
		CU_ASSERT_EQUAL(sim_rr_answer(rr, sim_rr_open(rr, 1, 1, t), 1, 200, t + 50 * MS),
		    SIM_RR_OK);
	}
	h = sim_rr_latency(rr, 0);
	CU_ASSERT_EQUAL(rpt_hist_count(h), 1000);
	CU_ASSERT(fabs((double)rpt_hist_percentile(h, 50) - 250e6) <= 250e6 * 0.01);
	CU_ASSERT(fabs((double)rpt_hist_percentile(sim_rr_latency(rr, 1), 50) - 50e6) <= 50e6 * 0.01);
	h = sim_rr_latency(rr, SIM_RR_ALL);
	CU_ASSERT_EQUAL(rpt_hist_count(h), 2000);
	CU_ASSERT_EQUAL(rpt_hist_min(h), 50 * MS);
	CU_ASSERT_EQUAL(rpt_hist_max(h), 250 * MS);
	sim_rr_counts(rr, 0, &a);
	sim_rr_counts(rr, 1, &b);
	sim_rr_counts(rr, SIM_RR_ALL, &c);
	CU_ASSERT_EQUAL(a.sent, 1000);
	CU_ASSERT_EQUAL(b.ok, 1000);
	CU_ASSERT_EQUAL(c.sent, a.sent + b.sent);
	CU_ASSERT_EQUAL(c.ok, a.ok + b.ok);
	sim_rr_counts(rr, 7, &c);
	CU_ASSERT_EQUAL(c.sent, 0);
	sim_rr_free(rr);
}

/* A seeded mix of opens, answers (right, wrong device, foreign, repeated)
 * and expiry, checked step by step against a plain model of the rules and
 * against the invariant. */
enum { M_OPEN, M_OK, M_ERR, M_TIMEOUT, M_LATE };
struct mreq {
	uint64_t id, deadline;
	uint32_t device, method;
	int state;
};

static void
test_random_mix(void)
{
	enum { NOPS = 100000, NDEV = 8, NM = 3 };
	const uint64_t timeout = 50 * MS;
	struct sim_rr_opts o = { .timeout_ns = timeout, .ndevices = NDEV, .methods = names,
		.nmethods = NM, .salt = 0x5eed };
	struct mreq *m = calloc(NOPS, sizeof(*m));
	uint64_t seed = 20240601, now = S, want_exp = 0, got_exp = 0;
	size_t n = 0, mcur = 0, bad = 0;
	struct sim_rr *rr;
	struct sim_rr_counts c, sum;
	uint64_t seen[6] = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(sim_rr_new(&o, &rr), SIM_OK);
	for (int op = 0; op < NOPS; op++) {
		uint64_t r = sim_rng_below(&seed, 100);

		now += sim_rng_below(&seed, 2 * MS);
		if (r < 40 || n == 0) {
			struct mreq *q = &m[n++];

			q->device = (uint32_t)sim_rng_below(&seed, NDEV);
			q->method = (uint32_t)sim_rng_below(&seed, NM);
			q->deadline = now + timeout;
			q->state = M_OPEN;
			q->id = sim_rr_open(rr, q->device, q->method, now);
			if (q->id != ((uint64_t)0x5eed << 32 | n))
				bad++;
		} else if (r < 85) {
			static const int st[] = { 200, 201, 404, 500 };
			/* Mostly recent requests, some old (late, duplicate). */
			size_t i = sim_rng_below(&seed, 4) ? n - 1 - sim_rng_below(&seed, n < 60 ? n : 60) :
			    sim_rng_below(&seed, n);
			struct mreq *q = &m[i];
			int status = st[sim_rng_below(&seed, 4)], want;
			uint64_t id = q->id;
			uint32_t dev = sim_rng_below(&seed, 3) ? q->device : SIM_RR_ANY_DEVICE;
			uint64_t k = sim_rng_below(&seed, 20);

			if (k == 0)
				id ^= (uint64_t)1 << 40;        /* another salt */
			else if (k == 1)
				id += NOPS;                     /* never opened */
			else if (k == 2)
				dev = (q->device + 1 + (uint32_t)sim_rng_below(&seed, NDEV - 1)) % NDEV;
			if (k <= 2)
				want = SIM_RR_UNMATCHED;
			else if (q->state == M_OPEN && now >= q->deadline)
				want = SIM_RR_LATE, q->state = M_LATE;
			else if (q->state == M_OPEN && status < 300)
				want = SIM_RR_OK, q->state = M_OK;
			else if (q->state == M_OPEN)
				want = SIM_RR_ERROR_STATUS, q->state = M_ERR;
			else if (q->state == M_TIMEOUT)
				want = SIM_RR_LATE, q->state = M_LATE;
			else
				want = SIM_RR_DUPLICATE;
			if ((int)sim_rr_answer(rr, id, dev, status, now) != want)
				bad++;
			seen[want]++;
		} else {
			uint64_t e = 0;

			for (; mcur < n && m[mcur].deadline <= now; mcur++)
				if (m[mcur].state == M_OPEN) {
					m[mcur].state = M_TIMEOUT;
					e++;
				}
			want_exp += e;
			got_exp += sim_rr_expire(rr, now);
			seen[SIM_RR_TIMEOUT] += e;
		}
		if (!balanced(rr, SIM_RR_ALL) || !balanced(rr, 0) || !balanced(rr, 1) ||
		    !balanced(rr, 2))
			bad++;
		if (op % 997 == 0) {
			size_t i = mcur;
			uint64_t want_dl;

			while (i < n && m[i].state != M_OPEN)
				i++;
			want_dl = i < n ? m[i].deadline : 0;
			if (sim_rr_next_deadline(rr) != want_dl)
				bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(got_exp, want_exp);
	/* Every outcome actually happened. */
	for (int i = 0; i < 6; i++)
		CU_ASSERT(seen[i] > 100);
	sim_rr_counts(rr, SIM_RR_ALL, &c);
	CU_ASSERT_EQUAL(c.sent, n);
	CU_ASSERT_EQUAL(c.sent, c.ok + c.error_status + c.timeout + c.late + c.open);
	CU_ASSERT_EQUAL(rpt_hist_count(sim_rr_latency(rr, SIM_RR_ALL)), c.ok + c.error_status);
	memset(&sum, 0, sizeof(sum));
	for (uint32_t i = 0; i < NM; i++) {
		struct sim_rr_counts k;

		sim_rr_counts(rr, i, &k);
		sum.sent += k.sent, sum.ok += k.ok, sum.error_status += k.error_status;
		sum.timeout += k.timeout, sum.late += k.late, sum.open += k.open;
		sum.duplicate += k.duplicate, sum.unmatched += k.unmatched;
	}
	CU_ASSERT_EQUAL(sum.sent, c.sent);
	CU_ASSERT_EQUAL(sum.ok, c.ok);
	CU_ASSERT_EQUAL(sum.error_status, c.error_status);
	CU_ASSERT_EQUAL(sum.timeout, c.timeout);
	CU_ASSERT_EQUAL(sum.late, c.late);
	CU_ASSERT_EQUAL(sum.open, c.open);
	CU_ASSERT_EQUAL(sum.duplicate, c.duplicate);
	CU_ASSERT(sum.unmatched <= c.unmatched);
	/* Draining at the end leaves nothing open. */
	sim_rr_expire(rr, now + timeout);
	sim_rr_counts(rr, SIM_RR_ALL, &c);
	CU_ASSERT_EQUAL(c.open, 0);
	CU_ASSERT_EQUAL(sim_rr_next_deadline(rr), 0);
	sim_rr_free(rr);
	free(m);
}

static void
test_id_hex(void)
{
	static const uint64_t ids[] = { 1, 0x5eed00000001ull, 0xffffffffffffffffull,
		0x0123456789abcdefull, 0xfedcba9876543210ull };
	static const char *const bad[] = {
		"00000000000000a",              /* 15 digits */
		"00000000000000a01",            /* 17 */
		"00000000000000A0",             /* uppercase */
		"00000000000000g0",
		"0x000000000000a0",
		" 00000000000000a",
		"-000000000000001",
		"",
	};
	char buf[17];

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		sim_rr_id_hex(ids[i], buf);
		CU_ASSERT_EQUAL(strlen(buf), 16);
		CU_ASSERT_EQUAL(sim_rr_id_parse(buf, 16), ids[i]);
	}
	sim_rr_id_hex(0x5eed0000002aull, buf);
	CU_ASSERT_STRING_EQUAL(buf, "00005eed0000002a");
	sim_rr_id_hex(0xfedcba9876543210ull, buf);
	CU_ASSERT_STRING_EQUAL(buf, "fedcba9876543210");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(sim_rr_id_parse(bad[i], strlen(bad[i])), 0);
	/* Length counts, not the terminator: a prefix or an embedded NUL fails. */
	CU_ASSERT_EQUAL(sim_rr_id_parse("00005eed0000002a", 15), 0);
	CU_ASSERT_EQUAL(sim_rr_id_parse("00005eed" "\0" "000002a", 16), 0);
	CU_ASSERT_EQUAL(sim_rr_id_parse("00005eed0000002aff", 16), 0x5eed0000002aull);
	CU_ASSERT_EQUAL(sim_rr_id_parse(NULL, 16), 0);
}

static double
num(const struct rpt_json *j, const char *path)
{
	const struct rpt_json *v = rpt_json_path(j, path);

	CU_ASSERT_PTR_NOT_NULL(v);
	CU_ASSERT(v == NULL || rpt_json_type(v) == RPT_JSON_NUMBER);
	return v != NULL ? rpt_json_num(v) : NAN;
}

/* real's keys, in order and type, are skel's, apart from the histograms
 * only a real report has. */
static int
same_shape(const struct rpt_json *real, const struct rpt_json *skel)
{
	size_t k = 0;

	if (rpt_json_type(real) != rpt_json_type(skel))
		return 0;
	if (rpt_json_type(real) != RPT_JSON_OBJECT)
		return 1;
	for (size_t i = 0; i < rpt_json_len(real); i++) {
		if (strcmp(rpt_json_key_at(real, i), "latency_histogram") == 0)
			continue;
		if (k >= rpt_json_len(skel) ||
		    strcmp(rpt_json_key_at(real, i), rpt_json_key_at(skel, k)) != 0 ||
		    !same_shape(rpt_json_at(real, i), rpt_json_at(skel, k)))
			return 0;
		k++;
	}
	return k == rpt_json_len(skel);
}

static void
test_json(void)
{
	static const char *const top[] = { "sent", "ok", "error_status", "timeout", "late",
		"unmatched", "duplicate", "latency_ms", "latency_histogram", "by_method" };
	static const char *const lat[] = { "count", "min", "mean", "p50", "p90", "p99", "p999",
		"max" };
	struct sim_rr_opts o = { .timeout_ns = S, .ndevices = 4, .methods = names, .nmethods = 3,
		.salt = 1 };
	struct rpt_json *j, *back, *skel;
	struct rpt_hist *h = NULL;
	struct sim_rr *rr;
	char *text = NULL;

	CU_ASSERT_EQUAL_FATAL(sim_rr_new(&o, &rr), SIM_OK);
	for (int i = 0; i < 10; i++)
		sim_rr_answer(rr, sim_rr_open(rr, 0, 0, S), 0, 200, S + 100 * MS);
	sim_rr_answer(rr, sim_rr_open(rr, 1, 1, S), 1, 500, S + 20 * MS);
	sim_rr_open(rr, 1, 1, S);
	sim_rr_expire(rr, 3 * S);
	sim_rr_answer(rr, 0, 1, 200, 3 * S);
	j = sim_rr_json(rr, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL_FATAL(rpt_json_dump(j, 2, &text), RPT_OK);
	back = rt_parse(text);
	free(text);
	rpt_json_free(j);

	CU_ASSERT_EQUAL(rpt_json_len(back), sizeof(top) / sizeof(top[0]));
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]) && i < rpt_json_len(back); i++)
		CU_ASSERT_STRING_EQUAL(rpt_json_key_at(back, i), top[i]);
	for (size_t i = 0; i < sizeof(lat) / sizeof(lat[0]); i++)
		CU_ASSERT_STRING_EQUAL(rpt_json_key_at(rpt_json_get(back, "latency_ms"), i), lat[i]);
	CU_ASSERT_EQUAL(num(back, "sent"), 12);
	CU_ASSERT_EQUAL(num(back, "ok"), 10);
	CU_ASSERT_EQUAL(num(back, "error_status"), 1);
	CU_ASSERT_EQUAL(num(back, "timeout"), 1);
	CU_ASSERT_EQUAL(num(back, "late"), 0);
	CU_ASSERT_EQUAL(num(back, "unmatched"), 1);
	CU_ASSERT_EQUAL(num(back, "duplicate"), 0);
	CU_ASSERT_EQUAL(num(back, "latency_ms.count"), 11);
	CU_ASSERT_EQUAL(num(back, "latency_ms.min"), 20);
	CU_ASSERT_EQUAL(num(back, "latency_ms.max"), 100);
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(back, "by_method")), 3);
	CU_ASSERT_STRING_EQUAL(rpt_json_key_at(rpt_json_get(back, "by_method"), 0), "reboot");
	CU_ASSERT_STRING_EQUAL(rpt_json_key_at(rpt_json_get(back, "by_method"), 2), "ping");
	CU_ASSERT_EQUAL(num(back, "by_method.reboot.sent"), 10);
	CU_ASSERT_EQUAL(num(back, "by_method.reboot.latency_ms.p50"), 100);
	CU_ASSERT_EQUAL(num(back, "by_method.get_config.error_status"), 1);
	CU_ASSERT_EQUAL(num(back, "by_method.get_config.timeout"), 1);
	CU_ASSERT_EQUAL(num(back, "by_method.get_config.latency_ms.p50"), 20);
	CU_ASSERT_EQUAL(num(back, "by_method.ping.sent"), 0);
	/* The histogram is the exact serialization, readable back for merging. */
	CU_ASSERT_EQUAL(rpt_hist_from_json(rpt_json_path(back, "by_method.reboot.latency_histogram"),
	    &h), RPT_OK);
	CU_ASSERT_EQUAL(rpt_hist_count(h), 10);
	rpt_hist_free(h);

	skel = sim_rr_json(NULL, &o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(skel);
	CU_ASSERT(same_shape(back, skel));
	CU_ASSERT_PTR_NULL(rpt_json_get(skel, "latency_histogram"));
	CU_ASSERT_PTR_NULL(rpt_json_path(skel, "by_method.ping.latency_histogram"));
	CU_ASSERT_EQUAL(num(skel, "by_method.ping.latency_ms.p99"), 0);
	CU_ASSERT_EQUAL(num(skel, "sent"), 0);
	CU_ASSERT_EQUAL(num(skel, "latency_ms.max"), 0);
	/* Same keys must not just mean both empty. */
	CU_ASSERT_EQUAL(rpt_json_len(skel), sizeof(top) / sizeof(top[0]) - 1);
	rpt_json_free(skel);
	rpt_json_free(back);
	CU_ASSERT_PTR_NULL(sim_rr_json(NULL, NULL));
	sim_rr_free(rr);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "ok", test_ok },
		{ "error status, custom ok range", test_error_status },
		{ "invalid options", test_new_inval },
		{ "timeout at the exact deadline", test_timeout_boundary },
		{ "late after timeout, then duplicate", test_late_then_duplicate },
		{ "duplicate of an answered request", test_duplicate_of_answered },
		{ "unmatched: salt, 0, unopened, other device", test_unmatched },
		{ "refused opens are counted", test_refused_open },
		{ "next deadline", test_next_deadline },
		{ "per-method counts and latency", test_per_method_latency },
		{ "randomized mix against a model", test_random_mix },
		{ "id hex round trip and rejection", test_id_hex },
		{ "JSON shape and skeleton", test_json },
		{ NULL, NULL },
	};

	return fs_test_main("rr", tests);
}
