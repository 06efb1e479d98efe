#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "fs_test.h"
#include "rng.h"
#include "rpt_test.h"
#include "sim_clock.h"
#include "tpc_check.h"

#define MS SIM_NS_PER_MS
#define S SIM_NS_PER_S

/* Deadline 1 s plus 2 s of recovery: decisions are due 3 s after BEGIN. */
static struct sim_tpc_check *
make(void)
{
	struct sim_tpc_check_opts o = { .deadline_ns = 1 * S, .recovery_ns = 2 * S };
	struct sim_tpc_check *c = NULL;

	CU_ASSERT_EQUAL_FATAL(sim_tpc_check_new(&o, &c), SIM_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	return c;
}

static void
rec(struct sim_tpc_check *c, uint64_t t_ns, uint64_t txid, uint32_t dev, int ev, int val, int aux)
{
	struct sim_tpc_rec r = { .t_ns = t_ns, .txid = txid, .device = dev, .ev = (uint8_t)ev,
		.val = (uint8_t)val, .aux = (uint8_t)aux };

	CU_ASSERT_EQUAL(sim_tpc_check_add(c, &r), SIM_OK);
}

/* Up to the votes: BEGIN at base, PREPARE to devices first..first+n-1,
 * each votes YES and the coordinator sees it; the last vote is seen at
 * base + 10 ms + n - 1 ms. */
static void
prepared(struct sim_tpc_check *c, uint64_t txid, uint64_t base, uint32_t first, uint32_t n)
{
	rec(c, base, txid, 0, SIM_TPC_BEGIN, (int)n, 0);
	for (uint32_t i = 0; i < n; i++)
		rec(c, base + 1 * MS, txid, first + i, SIM_TPC_PREPARE, 0, 0);
	for (uint32_t i = 0; i < n; i++)
		rec(c, base + (5 + i) * MS, txid, first + i, SIM_TPC_VOTE, 1, 0);
	for (uint32_t i = 0; i < n; i++)
		rec(c, base + (10 + i) * MS, txid, first + i, SIM_TPC_VOTE_SEEN, 1, 0);
}

/* A clean commit: decided at base + 20 ms, applied from +30 ms, the last
 * ACK at base + 40 ms + n - 1 ms. */
static void
clean_commit(struct sim_tpc_check *c, uint64_t txid, uint64_t base, uint32_t first, uint32_t n)
{
	prepared(c, txid, base, first, n);
	rec(c, base + 20 * MS, txid, 0, SIM_TPC_DECIDE, 1, SIM_TPC_BY_VOTES);
	for (uint32_t i = 0; i < n; i++)
		rec(c, base + (30 + i) * MS, txid, first + i, SIM_TPC_APPLY, 1, 0);
	for (uint32_t i = 0; i < n; i++)
		rec(c, base + (40 + i) * MS, txid, first + i, SIM_TPC_ACK_SEEN, 0, 0);
}

static struct sim_tpc_summary
finish(struct sim_tpc_check *c, uint64_t end_ns)
{
	struct sim_tpc_summary s;

	sim_tpc_check_finish(c, end_ns);
	sim_tpc_check_summary(c, &s);
	return s;
}

static uint64_t
total_violations(const struct sim_tpc_summary *s)
{
	uint64_t n = 0;

	for (int k = 0; k < SIM_TPC_NVIOLATIONS; k++)
		n += s->violations[k];
	return n;
}

/* Exactly the kinds in mask, once each, and the list agrees. */
static void
only(const struct sim_tpc_check *c, const struct sim_tpc_summary *s, unsigned mask)
{
	for (int k = 0; k < SIM_TPC_NVIOLATIONS; k++) {
		uint64_t want = (mask >> k) & 1u;

		if (s->violations[k] != want)
			fprintf(stderr, "\n  %s: %llu, want %llu\n", sim_tpc_violation_name(k),
			    (unsigned long long)s->violations[k], (unsigned long long)want);
		CU_ASSERT_EQUAL(s->violations[k], want);
	}
	CU_ASSERT_EQUAL(sim_tpc_check_nviolations(c), total_violations(s));
}

/* The text of the first violation of kind, or NULL. */
static const char *
text_of(const struct sim_tpc_check *c, enum sim_tpc_violation kind, uint64_t *txid)
{
	enum sim_tpc_violation k;
	const char *t;

	for (size_t i = 0; (t = sim_tpc_check_violation(c, i, &k, txid)) != NULL; i++)
		if (k == kind)
			return t;
	return NULL;
}

#define BIT(k) (1u << (k))

static void
test_clean_commit(void)
{
	struct sim_tpc_check *c = make();
	struct sim_tpc_summary s;

	clean_commit(c, 1, 1 * S, 10, 3);
	s = finish(c, 10 * S);
	only(c, &s, 0);
	CU_ASSERT_EQUAL(s.started, 1);
	CU_ASSERT_EQUAL(s.committed, 1);
	CU_ASSERT_EQUAL(s.aborted, 0);
	CU_ASSERT_EQUAL(s.undecided, 0);
	CU_ASSERT_EQUAL(s.in_doubt_max_ns, 0);
	CU_ASSERT_PTR_NULL(sim_tpc_check_violation(c, 0, NULL, NULL));
	sim_tpc_check_free(c);
}

static void
test_clean_abort_by_vote(void)
{
	struct sim_tpc_check *c = make();
	struct sim_tpc_summary s;

	rec(c, 0, 2, 0, SIM_TPC_BEGIN, 3, 0);
	for (uint32_t d = 10; d < 13; d++)
		rec(c, 1 * MS, 2, d, SIM_TPC_PREPARE, 0, 0);
	rec(c, 5 * MS, 2, 10, SIM_TPC_VOTE, 1, 0);
	rec(c, 5 * MS, 2, 11, SIM_TPC_VOTE, 0, 0);      /* NO, and forgets */
	rec(c, 6 * MS, 2, 12, SIM_TPC_VOTE, 1, 0);
	rec(c, 8 * MS, 2, 11, SIM_TPC_VOTE_SEEN, 0, 0);
	rec(c, 9 * MS, 2, 0, SIM_TPC_DECIDE, 0, SIM_TPC_BY_VOTES);
	rec(c, 9 * MS, 2, 10, SIM_TPC_VOTE_SEEN, 1, 0); /* after the decision: irrelevant */
	rec(c, 12 * MS, 2, 10, SIM_TPC_APPLY, 0, 0);
	rec(c, 13 * MS, 2, 12, SIM_TPC_APPLY, 0, 0);
	for (uint32_t d = 10; d < 13; d++)
		rec(c, 20 * MS, 2, d, SIM_TPC_ACK_SEEN, 0, 0);
	s = finish(c, 1 * S);
	only(c, &s, 0);
	CU_ASSERT_EQUAL(s.aborted, 1);
	CU_ASSERT_EQUAL(s.aborted_by_vote, 1);
	CU_ASSERT_EQUAL(s.committed, 0);
	sim_tpc_check_free(c);
}

static void
test_clean_abort_by_timeout(void)
{
	struct sim_tpc_check *c = make();
	struct sim_tpc_summary s;

	rec(c, 0, 3, 0, SIM_TPC_BEGIN, 2, 0);
	rec(c, 1 * MS, 3, 10, SIM_TPC_PREPARE, 0, 0);
	rec(c, 1 * MS, 3, 11, SIM_TPC_PREPARE, 0, 0);
	rec(c, 5 * MS, 3, 10, SIM_TPC_VOTE, 1, 0);
	rec(c, 5 * MS, 3, 11, SIM_TPC_VOTE, 1, 0);      /* its vote is lost */
	rec(c, 8 * MS, 3, 10, SIM_TPC_VOTE_SEEN, 1, 0);
	rec(c, 1 * S, 3, 0, SIM_TPC_DECIDE, 0, SIM_TPC_BY_TIMEOUT);
	rec(c, 1 * S + 2 * MS, 3, 10, SIM_TPC_APPLY, 0, 0);
	rec(c, 1 * S + 3 * MS, 3, 11, SIM_TPC_APPLY, 0, 0);
	rec(c, 1 * S + 5 * MS, 3, 10, SIM_TPC_ACK_SEEN, 0, 0);
	rec(c, 1 * S + 6 * MS, 3, 11, SIM_TPC_ACK_SEEN, 0, 0);
	s = finish(c, 5 * S);
	only(c, &s, 0);
	CU_ASSERT_EQUAL(s.aborted, 1);
	CU_ASSERT_EQUAL(s.aborted_by_timeout, 1);
	CU_ASSERT_EQUAL(s.aborted_by_vote, 0);
	sim_tpc_check_free(c);
}

/* Commit despite a NO vote: validity and nothing else (the NO voter forgot
 * the transaction, so it has nothing to apply). */
static void
test_validity(void)
{
	struct sim_tpc_check *c = make();
	struct sim_tpc_summary s;
	const char *t;
	uint64_t txid = 0;

	rec(c, 0, 77, 0, SIM_TPC_BEGIN, 3, 0);
	for (uint32_t d = 10; d < 13; d++)
		rec(c, 1 * MS, 77, d, SIM_TPC_PREPARE, 0, 0);
	rec(c, 5 * MS, 77, 10, SIM_TPC_VOTE, 1, 0);
	rec(c, 5 * MS, 77, 11, SIM_TPC_VOTE, 1, 0);
	rec(c, 5 * MS, 77, 12, SIM_TPC_VOTE, 0, 0);
	rec(c, 8 * MS, 77, 10, SIM_TPC_VOTE_SEEN, 1, 0);
	rec(c, 8 * MS, 77, 11, SIM_TPC_VOTE_SEEN, 1, 0);
	rec(c, 8 * MS, 77, 12, SIM_TPC_VOTE_SEEN, 0, 0);
	rec(c, 9 * MS, 77, 0, SIM_TPC_DECIDE, 1, SIM_TPC_BY_VOTES);
	rec(c, 12 * MS, 77, 10, SIM_TPC_APPLY, 1, 0);
	rec(c, 12 * MS, 77, 11, SIM_TPC_APPLY, 1, 0);
	for (uint32_t d = 10; d < 13; d++)
		rec(c, 20 * MS, 77, d, SIM_TPC_ACK_SEEN, 0, 0);
	s = finish(c, 1 * S);
	only(c, &s, BIT(SIM_TPC_VALIDITY));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = text_of(c, SIM_TPC_VALIDITY, &txid));
	CU_ASSERT_EQUAL(txid, 77);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "validity txid 000000000000004d: devices 12\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "NO"));
	/* The timeline: every record, one a line, in ms from BEGIN. */
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "timeline (ms from BEGIN):\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "  +0.000 ms coordinator BEGIN participants 3\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "  +8.000 ms device 12 VOTE_SEEN no\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "  +9.000 ms coordinator DECIDE commit by votes\n"));
	CU_ASSERT_EQUAL(rt_count(strstr(t, "timeline"), "\n"), 1 + 16);
	sim_tpc_check_free(c);

	/* A commit short of the announced participants is invalid too, even
	 * when everyone who was asked said YES. */
	c = make();
	rec(c, 0, 79, 0, SIM_TPC_BEGIN, 3, 0);
	for (uint32_t d = 10; d < 12; d++) {
		rec(c, 1 * MS, 79, d, SIM_TPC_PREPARE, 0, 0);
		rec(c, 5 * MS, 79, d, SIM_TPC_VOTE, 1, 0);
		rec(c, 8 * MS, 79, d, SIM_TPC_VOTE_SEEN, 1, 0);
	}
	rec(c, 9 * MS, 79, 0, SIM_TPC_DECIDE, 1, SIM_TPC_BY_VOTES);
	for (uint32_t d = 10; d < 12; d++)
		rec(c, 12 * MS, 79, d, SIM_TPC_APPLY, 1, 0);
	s = finish(c, 1 * S);
	only(c, &s, BIT(SIM_TPC_VALIDITY));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = text_of(c, SIM_TPC_VALIDITY, NULL));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "2 of 3"));
	sim_tpc_check_free(c);
}

/* One participant applies ABORT while the decision was COMMIT: agreement
 * and atomicity, nothing else. */
static void
test_agreement_atomicity(void)
{
	struct sim_tpc_check *c = make();
	struct sim_tpc_summary s;
	const char *t;
	uint64_t txid = 0;

	prepared(c, 4242, 0, 10, 3);
	rec(c, 20 * MS, 4242, 0, SIM_TPC_DECIDE, 1, SIM_TPC_BY_VOTES);
	rec(c, 30 * MS, 4242, 10, SIM_TPC_APPLY, 1, 0);
	rec(c, 31 * MS, 4242, 11, SIM_TPC_APPLY, 1, 0);
	rec(c, 32 * MS, 4242, 12, SIM_TPC_APPLY, 0, 0);
	s = finish(c, 1 * S);
	only(c, &s, BIT(SIM_TPC_AGREEMENT) | BIT(SIM_TPC_ATOMICITY));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = text_of(c, SIM_TPC_AGREEMENT, &txid));
	CU_ASSERT_EQUAL(txid, 4242);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "agreement txid 0000000000001092: devices 12\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "device 12: applied abort, decision was commit"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = text_of(c, SIM_TPC_ATOMICITY, &txid));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "atomicity txid 0000000000001092: devices 10,11,12\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "2 device(s) committed, 1 aborted"));
	/* Kinds in enum order within one transaction. */
	{
		enum sim_tpc_violation k0, k1;

		CU_ASSERT_PTR_NOT_NULL(sim_tpc_check_violation(c, 0, &k0, NULL));
		CU_ASSERT_PTR_NOT_NULL(sim_tpc_check_violation(c, 1, &k1, NULL));
		CU_ASSERT_EQUAL(k0, SIM_TPC_ATOMICITY);
		CU_ASSERT_EQUAL(k1, SIM_TPC_AGREEMENT);
		CU_ASSERT_PTR_NULL(sim_tpc_check_violation(c, 2, NULL, NULL));
	}
	sim_tpc_check_free(c);
}

/* The coordinator forgot its decision: never decided, and a participant
 * that rebooted holding PREPARED stays in doubt to the end. Termination
 * only, counted once with both reasons. */
static void
test_forgotten_decision(void)
{
	struct sim_tpc_check *c = make();
	struct sim_tpc_summary s;
	const char *t;
	uint64_t txid = 0;

	prepared(c, 5, 0, 20, 2);
	rec(c, 500 * MS, 5, 21, SIM_TPC_IN_DOUBT, 0, 0);
	s = finish(c, 10 * S);
	only(c, &s, BIT(SIM_TPC_TERMINATION));
	CU_ASSERT_EQUAL(s.started, 1);
	CU_ASSERT_EQUAL(s.undecided, 1);
	CU_ASSERT_EQUAL(s.committed + s.aborted, 0);
	CU_ASSERT_EQUAL(s.in_doubt_max_ns, 9500 * MS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = text_of(c, SIM_TPC_TERMINATION, &txid));
	CU_ASSERT_EQUAL(txid, 5);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "termination txid 0000000000000005: devices 20,21\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "never decided (end at +10000.000 ms)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "device 21: in doubt from +500.000 ms, unresolved"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "device 20: voted YES, never applied"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "  +500.000 ms device 21 IN_DOUBT\n"));
	sim_tpc_check_free(c);
}

/* A committed change gone after a reboot: durability only. */
static void
test_durability(void)
{
	struct sim_tpc_check *c = make();
	struct sim_tpc_summary s;
	const char *t;
	uint64_t txid = 0;

	clean_commit(c, 900, 0, 30, 3);
	rec(c, 2 * S, 900, 30, SIM_TPC_OBSERVE, 1, 0);
	rec(c, 3 * S, 900, 31, SIM_TPC_OBSERVE, 0, 0);
	rec(c, 4 * S, 900, 31, SIM_TPC_OBSERVE, 0, 0);  /* one loss, one violation */
	s = finish(c, 5 * S);
	only(c, &s, BIT(SIM_TPC_DURABILITY));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = text_of(c, SIM_TPC_DURABILITY, &txid));
	CU_ASSERT_EQUAL(txid, 900);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "durability txid 0000000000000384: devices 31\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "device 31: committed at +31.000 ms, change absent when "
	    "observed at +3000.000 ms"));
	sim_tpc_check_free(c);

	/* Absent after an abort is what an abort means. */
	c = make();
	prepared(c, 901, 0, 30, 1);
	rec(c, 20 * MS, 901, 0, SIM_TPC_DECIDE, 0, SIM_TPC_BY_COORDINATOR);
	rec(c, 30 * MS, 901, 30, SIM_TPC_APPLY, 0, 0);
	rec(c, 3 * S, 901, 30, SIM_TPC_OBSERVE, 0, 0);
	s = finish(c, 5 * S);
	only(c, &s, 0);
	CU_ASSERT_EQUAL(s.aborted_by_coordinator, 1);
	sim_tpc_check_free(c);
}

/* The remaining rules, one transaction each, every one caught alone. */
static void
test_other_rules(void)
{
	struct sim_tpc_check *c;
	struct sim_tpc_summary s;
	const char *t;

	/* Decided, but after deadline + recovery (3 s). */
	c = make();
	prepared(c, 1, 0, 10, 2);
	rec(c, 3500 * MS, 1, 0, SIM_TPC_DECIDE, 1, SIM_TPC_BY_COORDINATOR);
	rec(c, 3600 * MS, 1, 10, SIM_TPC_APPLY, 1, 0);
	rec(c, 3600 * MS, 1, 11, SIM_TPC_APPLY, 1, 0);
	s = finish(c, 10 * S);
	only(c, &s, BIT(SIM_TPC_TERMINATION));
	CU_ASSERT_EQUAL(s.committed, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = text_of(c, SIM_TPC_TERMINATION, NULL));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "devices none\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "decided at +3500.000 ms, after deadline + recovery "
	    "(+3000.000 ms)"));
	sim_tpc_check_free(c);

	/* Exactly at the limit is in time. */
	c = make();
	prepared(c, 1, 0, 10, 1);
	rec(c, 3 * S, 1, 0, SIM_TPC_DECIDE, 0, SIM_TPC_BY_COORDINATOR);
	rec(c, 3 * S, 1, 10, SIM_TPC_APPLY, 0, 0);
	s = finish(c, 10 * S);
	only(c, &s, 0);
	sim_tpc_check_free(c);

	/* Voted YES, decided, never applied. */
	c = make();
	prepared(c, 2, 0, 10, 2);
	rec(c, 20 * MS, 2, 0, SIM_TPC_DECIDE, 1, SIM_TPC_BY_VOTES);
	rec(c, 30 * MS, 2, 10, SIM_TPC_APPLY, 1, 0);
	s = finish(c, 10 * S);
	only(c, &s, BIT(SIM_TPC_TERMINATION));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = text_of(c, SIM_TPC_TERMINATION, NULL));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "devices 11\n"));
	sim_tpc_check_free(c);

	/* Applied with no decision at all: agreement, and (never decided)
	 * termination. */
	c = make();
	prepared(c, 3, 0, 10, 1);
	rec(c, 30 * MS, 3, 10, SIM_TPC_APPLY, 1, 0);
	s = finish(c, 10 * S);
	only(c, &s, BIT(SIM_TPC_AGREEMENT) | BIT(SIM_TPC_TERMINATION));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = text_of(c, SIM_TPC_AGREEMENT, NULL));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "nothing was ever decided"));
	sim_tpc_check_free(c);

	/* Committed before the decision was logged, though it matches. */
	c = make();
	prepared(c, 4, 0, 10, 1);
	rec(c, 15 * MS, 4, 10, SIM_TPC_APPLY, 1, 0);
	rec(c, 20 * MS, 4, 0, SIM_TPC_DECIDE, 1, SIM_TPC_BY_VOTES);
	s = finish(c, 10 * S);
	only(c, &s, BIT(SIM_TPC_AGREEMENT));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = text_of(c, SIM_TPC_AGREEMENT, NULL));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "before the decision"));
	sim_tpc_check_free(c);

	/* The coordinator contradicts its own log; the first decision holds. */
	c = make();
	clean_commit(c, 5, 0, 10, 2);
	rec(c, 2 * S, 5, 0, SIM_TPC_DECIDE, 0, SIM_TPC_BY_COORDINATOR);
	rec(c, 2 * S, 5, 0, SIM_TPC_DECIDE, 1, SIM_TPC_BY_COORDINATOR); /* once is enough */
	s = finish(c, 10 * S);
	only(c, &s, BIT(SIM_TPC_AGREEMENT));
	CU_ASSERT_EQUAL(s.committed, 1);
	CU_ASSERT_EQUAL(s.aborted, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = text_of(c, SIM_TPC_AGREEMENT, NULL));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "logged commit at +20.000 ms, then abort at +2000.000 ms"));
	sim_tpc_check_free(c);

	/* One device applying both is agreement, not atomicity. */
	c = make();
	clean_commit(c, 6, 0, 10, 1);
	rec(c, 1 * S, 6, 10, SIM_TPC_APPLY, 0, 0);
	s = finish(c, 10 * S);
	only(c, &s, BIT(SIM_TPC_AGREEMENT));
	sim_tpc_check_free(c);

	/* Duplicates are harmless: every message is idempotent by txid. */
	c = make();
	clean_commit(c, 7, 0, 10, 2);
	clean_commit(c, 7, 0, 10, 2);
	s = finish(c, 10 * S);
	only(c, &s, 0);
	CU_ASSERT_EQUAL(s.started, 1);
	CU_ASSERT_EQUAL(s.committed, 1);
	sim_tpc_check_free(c);
}

static void
test_in_doubt_max(void)
{
	struct sim_tpc_check *c = make();
	struct sim_tpc_summary s;

	/* 250 ms in doubt, with a second reboot inside the episode. */
	prepared(c, 1, 0, 10, 2);
	rec(c, 100 * MS, 1, 11, SIM_TPC_IN_DOUBT, 0, 0);
	rec(c, 150 * MS, 1, 11, SIM_TPC_IN_DOUBT, 0, 0);
	rec(c, 300 * MS, 1, 0, SIM_TPC_DECIDE, 1, SIM_TPC_BY_VOTES);
	rec(c, 350 * MS, 1, 11, SIM_TPC_RESOLVED, 0, 0);
	rec(c, 350 * MS, 1, 11, SIM_TPC_APPLY, 1, 0);
	rec(c, 360 * MS, 1, 10, SIM_TPC_APPLY, 1, 0);
	/* 50 ms, and another 200 ms episode on a later reboot. */
	prepared(c, 2, 0, 12, 1);
	rec(c, 50 * MS, 2, 12, SIM_TPC_IN_DOUBT, 0, 0);
	rec(c, 60 * MS, 2, 0, SIM_TPC_DECIDE, 0, SIM_TPC_BY_COORDINATOR);
	rec(c, 100 * MS, 2, 12, SIM_TPC_RESOLVED, 0, 0);
	rec(c, 100 * MS, 2, 12, SIM_TPC_APPLY, 0, 0);
	rec(c, 400 * MS, 2, 12, SIM_TPC_IN_DOUBT, 0, 0);
	rec(c, 600 * MS, 2, 12, SIM_TPC_RESOLVED, 0, 0);
	s = finish(c, 10 * S);
	only(c, &s, 0);
	CU_ASSERT_EQUAL(s.in_doubt_max_ns, 250 * MS);
	/* RESOLVED without IN_DOUBT is nothing. */
	rec(c, 700 * MS, 2, 13, SIM_TPC_RESOLVED, 0, 0);
	s = finish(c, 10 * S);
	only(c, &s, 0);
	CU_ASSERT_EQUAL(s.in_doubt_max_ns, 250 * MS);
	/* Unresolved: doubt runs to end_ns. */
	rec(c, 1 * S, 2, 12, SIM_TPC_IN_DOUBT, 0, 0);
	s = finish(c, 2 * S);
	only(c, &s, BIT(SIM_TPC_TERMINATION));
	CU_ASSERT_EQUAL(s.in_doubt_max_ns, 1 * S);
	sim_tpc_check_free(c);
}

static int
within(double got, double want)
{
	return fabs(got - want) <= want * 0.01 + 1e-9;
}

/* Transaction k: BEGIN at k s, the last vote seen at +10k ms, decided at
 * +20k ms, the last ACK at +40k ms; so the three histograms hold 10, 20,
 * ..., 100 ms; 20, ..., 200; and 40, ..., 400. */
static void
test_latency(void)
{
	struct sim_tpc_check *c = make();
	const struct rpt_hist *h[3];
	struct sim_tpc_summary s;
	static const double base[3] = { 10, 20, 40 };

	for (uint64_t k = 1; k <= 10; k++) {
		uint64_t t0 = k * S;

		rec(c, t0, k, 0, SIM_TPC_BEGIN, 2, 0);
		rec(c, t0 + 1 * MS, k, 1, SIM_TPC_PREPARE, 0, 0);
		rec(c, t0 + 1 * MS, k, 2, SIM_TPC_PREPARE, 0, 0);
		rec(c, t0 + 2 * MS, k, 1, SIM_TPC_VOTE, 1, 0);
		rec(c, t0 + 2 * MS, k, 2, SIM_TPC_VOTE, 1, 0);
		rec(c, t0 + 5 * k * MS, k, 1, SIM_TPC_VOTE_SEEN, 1, 0);
		rec(c, t0 + 10 * k * MS, k, 2, SIM_TPC_VOTE_SEEN, 1, 0);
		rec(c, t0 + 20 * k * MS, k, 0, SIM_TPC_DECIDE, 1, SIM_TPC_BY_VOTES);
		rec(c, t0 + 20 * k * MS, k, 1, SIM_TPC_APPLY, 1, 0);
		rec(c, t0 + 20 * k * MS, k, 2, SIM_TPC_APPLY, 1, 0);
		rec(c, t0 + 30 * k * MS, k, 2, SIM_TPC_ACK_SEEN, 0, 0);
		rec(c, t0 + 40 * k * MS, k, 1, SIM_TPC_ACK_SEEN, 0, 0);
	}
	/* Before finish: empty. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(sim_tpc_check_latency(c, 0));
	CU_ASSERT_EQUAL(rpt_hist_count(sim_tpc_check_latency(c, 0)), 0);
	CU_ASSERT_PTR_NULL(sim_tpc_check_latency(c, 3));
	CU_ASSERT_PTR_NULL(sim_tpc_check_latency(c, -1));
	s = finish(c, 20 * S);
	only(c, &s, 0);
	for (int i = 0; i < 3; i++) {
		h[i] = sim_tpc_check_latency(c, i);
		CU_ASSERT_EQUAL(rpt_hist_count(h[i]), 10);
		CU_ASSERT_EQUAL(rpt_hist_min(h[i]), (uint64_t)base[i] * MS);
		CU_ASSERT_EQUAL(rpt_hist_max(h[i]), (uint64_t)base[i] * 10 * MS);
		CU_ASSERT(within(rpt_hist_mean(h[i]), base[i] * 5.5 * MS));
		CU_ASSERT(within((double)rpt_hist_percentile(h[i], 50), base[i] * 5 * MS));
		CU_ASSERT(within((double)rpt_hist_percentile(h[i], 90), base[i] * 9 * MS));
	}
	/* finish again replaces, not adds. */
	finish(c, 20 * S);
	CU_ASSERT_EQUAL(rpt_hist_count(sim_tpc_check_latency(c, 2)), 10);
	sim_tpc_check_free(c);
}

static void
test_summary_counts(void)
{
	struct sim_tpc_check *c = make();
	struct sim_tpc_summary s, s2;
	uint64_t txid = 100;

	for (int i = 0; i < 5; i++)
		clean_commit(c, txid++, (uint64_t)i * S, 10, 2);
	for (int cause = 0; cause < 3; cause++)
		for (int i = 0; i <= cause; i++) {
			prepared(c, txid, 0, 10, 1);
			rec(c, 20 * MS, txid, 0, SIM_TPC_DECIDE, 0, cause);
			rec(c, 30 * MS, txid, 10, SIM_TPC_APPLY, 0, 0);
			txid++;
		}
	/* Two undecided, and one that has records but no BEGIN. */
	prepared(c, txid++, 0, 10, 1);
	prepared(c, txid++, 0, 10, 1);
	rec(c, 0, txid, 3, SIM_TPC_ACK_SEEN, 0, 0);
	s = finish(c, 60 * S);
	CU_ASSERT_EQUAL(s.started, 5 + 6 + 2);
	CU_ASSERT_EQUAL(s.committed, 5);
	CU_ASSERT_EQUAL(s.aborted, 6);
	CU_ASSERT_EQUAL(s.aborted_by_vote, 1);
	CU_ASSERT_EQUAL(s.aborted_by_timeout, 2);
	CU_ASSERT_EQUAL(s.aborted_by_coordinator, 3);
	CU_ASSERT_EQUAL(s.undecided, 2);
	/* The undecided two and the one without BEGIN: never decided. */
	for (int k = 0; k < SIM_TPC_NVIOLATIONS; k++)
		CU_ASSERT_EQUAL(s.violations[k], k == SIM_TPC_TERMINATION ? 3 : 0);
	CU_ASSERT_EQUAL(sim_tpc_check_nviolations(c), 3);
	/* Idempotent: the same again. */
	s2 = finish(c, 60 * S);
	CU_ASSERT_EQUAL(memcmp(&s, &s2, sizeof(s)), 0);
	CU_ASSERT_EQUAL(sim_tpc_check_nviolations(c), 3);
	sim_tpc_check_free(c);
}

/* Key-for-key the same shape, recursing into objects (arrays' contents
 * differ by design: the skeleton's violation_list is empty). */
static int
same_keys(const struct rpt_json *a, const struct rpt_json *b)
{
	if (rpt_json_type(a) != rpt_json_type(b))
		return 0;
	if (rpt_json_type(a) != RPT_JSON_OBJECT)
		return 1;
	if (rpt_json_len(a) != rpt_json_len(b))
		return 0;
	for (size_t i = 0; i < rpt_json_len(a); i++)
		if (strcmp(rpt_json_key_at(a, i), rpt_json_key_at(b, i)) != 0 ||
		    !same_keys(rpt_json_at(a, i), rpt_json_at(b, i)))
			return 0;
	return 1;
}

/* Through text and back; frees j. */
static struct rpt_json *
round_trip(struct rpt_json *j)
{
	struct rpt_json *back;
	char *text = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL_FATAL(rpt_json_dump(j, 2, &text), RPT_OK);
	rpt_json_free(j);
	back = rt_parse(text);
	free(text);
	return back;
}

static double
num(const struct rpt_json *j, const char *path)
{
	const struct rpt_json *v = rpt_json_path(j, path);

	if (v == NULL || rpt_json_type(v) != RPT_JSON_NUMBER)
		fprintf(stderr, "\n  %s: missing or not a number\n", path);
	CU_ASSERT_PTR_NOT_NULL(v);
	CU_ASSERT_EQUAL(rpt_json_type(v), RPT_JSON_NUMBER);
	return rpt_json_num(v);
}

static void
test_json(void)
{
	static const char *const keys[] = {
		"started", "committed", "aborted.total", "aborted.by_vote", "aborted.by_timeout",
		"aborted.by_coordinator", "undecided", "in_doubt_max_ms", "violations.atomicity",
		"violations.validity", "violations.agreement", "violations.termination",
		"violations.durability", "latency_ms.prepare.count", "latency_ms.prepare.p99",
		"latency_ms.decide.p50", "latency_ms.decide.max", "latency_ms.complete.mean",
		"latency_ms.complete.p999",
	};
	struct sim_tpc_check *c = make();
	struct rpt_json *j, *sk, *list, *e;

	clean_commit(c, 1, 0, 10, 2);
	prepared(c, 2, 0, 10, 2);                       /* never decided */
	rec(c, 100 * MS, 2, 11, SIM_TPC_IN_DOUBT, 0, 0);
	clean_commit(c, 3, 0, 10, 1);
	rec(c, 2 * S, 3, 10, SIM_TPC_OBSERVE, 0, 0);    /* lost */
	sim_tpc_check_finish(c, 4 * S);
	j = round_trip(sim_tpc_check_json(c));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		num(j, keys[i]);
	CU_ASSERT_EQUAL(num(j, "started"), 3);
	CU_ASSERT_EQUAL(num(j, "committed"), 2);
	CU_ASSERT_EQUAL(num(j, "undecided"), 1);
	CU_ASSERT_EQUAL(num(j, "in_doubt_max_ms"), 3900);
	CU_ASSERT_EQUAL(num(j, "violations.termination"), 1);
	CU_ASSERT_EQUAL(num(j, "violations.durability"), 1);
	CU_ASSERT_EQUAL(num(j, "latency_ms.decide.count"), 2);
	CU_ASSERT_EQUAL(num(j, "latency_ms.decide.min"), 20);
	CU_ASSERT_PTR_NOT_NULL_FATAL(list = rpt_json_get(j, "violation_list"));
	CU_ASSERT_EQUAL_FATAL(rpt_json_type(list), RPT_JSON_ARRAY);
	CU_ASSERT_EQUAL_FATAL(rpt_json_len(list), 2);
	e = rpt_json_at(list, 0);
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(e, "kind")), "termination");
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(e, "txid")), "0000000000000002");
	CU_ASSERT_PTR_NOT_NULL(strstr(rpt_json_str(rpt_json_get(e, "detail")), "device 11: in doubt"));
	e = rpt_json_at(list, 1);
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(e, "kind")), "durability");
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(e, "txid")), "0000000000000003");
	CU_ASSERT_EQUAL(rpt_json_len(e), 3);
	/* Each phase's raw histogram, for merging shards: the one behind its
	 * summary. */
	for (int i = 0; i < 3; i++) {
		static const char *const phases[] = { "prepare", "decide", "complete" };
		struct rpt_hist *h = NULL;
		char path[64];

		snprintf(path, sizeof(path), "latency_histograms.%s", phases[i]);
		CU_ASSERT_EQUAL_FATAL(rpt_hist_from_json(rpt_json_path(j, path), &h), RPT_OK);
		CU_ASSERT_EQUAL(rpt_hist_count(h), rpt_hist_count(sim_tpc_check_latency(c, i)));
		CU_ASSERT_EQUAL(rpt_hist_max(h), rpt_hist_max(sim_tpc_check_latency(c, i)));
		snprintf(path, sizeof(path), "latency_ms.%s.count", phases[i]);
		CU_ASSERT_EQUAL(num(j, path), (double)rpt_hist_count(h));
		rpt_hist_free(h);
	}

	/* The skeleton: the same keys, all zero, an empty list. */
	sk = round_trip(sim_tpc_check_json(NULL));
	CU_ASSERT(same_keys(j, sk));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CU_ASSERT_EQUAL(num(sk, keys[i]), 0);
	CU_ASSERT_EQUAL(rpt_json_type(rpt_json_get(sk, "violation_list")), RPT_JSON_ARRAY);
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(sk, "violation_list")), 0);
	rpt_json_free(sk);
	rpt_json_free(j);
	sim_tpc_check_free(c);

	/* The list is capped; the counts are not. */
	c = make();
	for (uint64_t k = 0; k < 150; k++) {
		clean_commit(c, k, k * S, 10, 1);
		rec(c, k * S + 500 * MS, k, 10, SIM_TPC_OBSERVE, 0, 0);
	}
	sim_tpc_check_finish(c, 200 * S);
	CU_ASSERT_EQUAL(sim_tpc_check_nviolations(c), 150);
	j = round_trip(sim_tpc_check_json(c));
	CU_ASSERT_EQUAL(num(j, "violations.durability"), 150);
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(j, "violation_list")), SIM_TPC_JSON_MAX_VIOLATIONS);
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_path(j, "violation_list.99.txid")),
	    "0000000000000063");
	rpt_json_free(j);
	sim_tpc_check_free(c);
}

static void
test_api_edges(void)
{
	struct sim_tpc_check_opts o = { .deadline_ns = 1 * S };
	struct sim_tpc_check *c = NULL;
	struct sim_tpc_summary s;
	struct sim_tpc_rec r = { .t_ns = 1, .txid = 1, .ev = SIM_TPC_BEGIN, .val = 200 };

	CU_ASSERT_EQUAL(sim_tpc_check_new(NULL, &c), SIM_ERR_INVAL);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(sim_tpc_check_new(&o, NULL), SIM_ERR_INVAL);
	CU_ASSERT_EQUAL_FATAL(sim_tpc_check_new(&o, &c), SIM_OK);
	/* Nothing before the first finish. */
	sim_tpc_check_summary(c, &s);
	CU_ASSERT_EQUAL(s.started, 0);
	CU_ASSERT_EQUAL(sim_tpc_check_add(c, &r), SIM_OK);   /* BEGIN's val is a count */
	CU_ASSERT_EQUAL(sim_tpc_check_add(NULL, &r), SIM_ERR_INVAL);
	CU_ASSERT_EQUAL(sim_tpc_check_add(c, NULL), SIM_ERR_INVAL);
	r.ev = SIM_TPC_NEV;
	CU_ASSERT_EQUAL(sim_tpc_check_add(c, &r), SIM_ERR_INVAL);
	r.ev = SIM_TPC_VOTE;
	r.val = 2;
	CU_ASSERT_EQUAL(sim_tpc_check_add(c, &r), SIM_ERR_INVAL);
	r.ev = SIM_TPC_DECIDE;
	r.val = 1;
	r.aux = 3;
	CU_ASSERT_EQUAL(sim_tpc_check_add(c, &r), SIM_ERR_INVAL);
	r.aux = 0;
	r.ev = SIM_TPC_APPLY;
	r.val = 7;
	CU_ASSERT_EQUAL(sim_tpc_check_add(c, &r), SIM_ERR_INVAL);
	CU_ASSERT_STRING_EQUAL(sim_tpc_violation_name(SIM_TPC_VALIDITY), "validity");
	CU_ASSERT_STRING_EQUAL(sim_tpc_violation_name(SIM_TPC_NVIOLATIONS), "?");
	sim_tpc_check_free(c);
	sim_tpc_check_free(NULL);
	sim_tpc_check_finish(NULL, 0);
	CU_ASSERT_PTR_NULL(sim_tpc_check_violation(NULL, 0, NULL, NULL));

	/* Records out of order within a transaction are put in place: a
	 * commit recorded before its votes arrive in the history is valid. */
	c = make();
	rec(c, 20 * MS, 9, 0, SIM_TPC_DECIDE, 1, SIM_TPC_BY_VOTES);
	rec(c, 30 * MS, 9, 10, SIM_TPC_APPLY, 1, 0);
	rec(c, 0, 9, 0, SIM_TPC_BEGIN, 1, 0);
	rec(c, 10 * MS, 9, 10, SIM_TPC_VOTE_SEEN, 1, 0);
	rec(c, 1 * MS, 9, 10, SIM_TPC_PREPARE, 0, 0);
	rec(c, 5 * MS, 9, 10, SIM_TPC_VOTE, 1, 0);
	s = finish(c, 1 * S);
	only(c, &s, 0);
	CU_ASSERT_EQUAL(s.committed, 1);
	/* Idempotent. */
	s = finish(c, 1 * S);
	only(c, &s, 0);
	CU_ASSERT_EQUAL(s.started, 1);
	CU_ASSERT_EQUAL(s.committed, 1);
	sim_tpc_check_free(c);
}

/* The randomized clean histories: every fault here is one 2PC tolerates. */
struct genrec {
	struct sim_tpc_rec r;
	uint64_t seq;
};

struct gen {
	struct genrec *v;
	size_t n, cap;
	uint64_t rng;
};

static void
gput(struct gen *g, uint64_t t, uint64_t txid, uint32_t dev, int ev, int val, int aux)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 4096;
		g->v = realloc(g->v, g->cap * sizeof(*g->v));
		CU_ASSERT_PTR_NOT_NULL_FATAL(g->v);
	}
	g->v[g->n].r = (struct sim_tpc_rec){ .t_ns = t, .txid = txid, .device = dev,
		.ev = (uint8_t)ev, .val = (uint8_t)val, .aux = (uint8_t)aux };
	g->v[g->n].seq = g->n;
	g->n++;
}

static int
cmp_gen(const void *a, const void *b)
{
	const struct genrec *x = a, *y = b;

	if (x->r.t_ns != y->r.t_ns)
		return x->r.t_ns < y->r.t_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static uint64_t
rnd(struct gen *g, uint64_t lo, uint64_t hi)
{
	return lo + sim_rng_below(&g->rng, hi - lo + 1);
}

struct expect {
	uint64_t committed, by_vote, by_timeout, by_coordinator, in_doubt;
};

/* One transaction of n participants starting at t0; deadline 1 s,
 * recovery 2 s (as make). */
static void
gen_tx(struct gen *g, uint64_t txid, uint64_t t0, struct expect *e)
{
	enum { MAXP = 6 };
	uint32_t n = (uint32_t)rnd(g, 1, MAXP), first = (uint32_t)rnd(g, 0, 999);
	bool yes[MAXP], seen[MAXP], doubt[MAXP];
	uint64_t vote_t[MAXP], seen_t[MAXP], last_seen = 0, first_no = UINT64_MAX, dec_t;
	bool all_yes_seen = true, crash = rnd(g, 0, 99) < 5;
	int dec, aux;

	gput(g, t0, txid, 0, SIM_TPC_BEGIN, (int)n, 0);
	for (uint32_t i = 0; i < n; i++) {
		yes[i] = rnd(g, 0, 99) >= 4;
		seen[i] = rnd(g, 0, 99) >= 3;           /* else the vote is lost */
		doubt[i] = yes[i] && rnd(g, 0, 99) < 5;
		gput(g, t0 + rnd(g, 0, 2) * MS, txid, first + i, SIM_TPC_PREPARE, 0, 0);
		vote_t[i] = t0 + rnd(g, 3, 50) * MS;
		gput(g, vote_t[i], txid, first + i, SIM_TPC_VOTE, yes[i], 0);
		if (seen[i]) {
			seen_t[i] = vote_t[i] + rnd(g, 1, 20) * MS;
			gput(g, seen_t[i], txid, first + i, SIM_TPC_VOTE_SEEN, yes[i], 0);
			if (rnd(g, 0, 99) < 3)          /* a resent vote */
				gput(g, seen_t[i] + rnd(g, 1, 30) * MS, txid, first + i,
				    SIM_TPC_VOTE_SEEN, yes[i], 0);
			if (seen_t[i] > last_seen)
				last_seen = seen_t[i];
			if (!yes[i] && seen_t[i] < first_no)
				first_no = seen_t[i];
		}
		if (!(seen[i] && yes[i]))
			all_yes_seen = false;
	}
	if (crash) {
		/* Restarted with nothing logged: presumed abort, late but in
		 * time (the deadline + recovery). */
		dec = 0;
		aux = SIM_TPC_BY_COORDINATOR;
		dec_t = t0 + 1 * S + rnd(g, 0, 2 * S);
		e->by_coordinator++;
	} else if (all_yes_seen) {
		dec = 1;
		aux = SIM_TPC_BY_VOTES;
		dec_t = last_seen + rnd(g, 0, 2) * MS;
		e->committed++;
	} else if (first_no != UINT64_MAX) {
		dec = 0;
		aux = SIM_TPC_BY_VOTES;
		dec_t = first_no + rnd(g, 0, 2) * MS;
		e->by_vote++;
	} else {
		dec = 0;
		aux = SIM_TPC_BY_TIMEOUT;
		dec_t = t0 + 1 * S;
		e->by_timeout++;
	}
	gput(g, dec_t, txid, 0, SIM_TPC_DECIDE, dec, aux);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t apply_t = dec_t + rnd(g, 1, 50) * MS;

		if (!yes[i]) {
			/* Forgot the transaction; may still discard and ACK the
			 * abort it is told about. */
			if (rnd(g, 0, 1)) {
				gput(g, apply_t, txid, first + i, SIM_TPC_APPLY, 0, 0);
				gput(g, apply_t + rnd(g, 1, 10) * MS, txid, first + i, SIM_TPC_ACK_SEEN, 0,
				    0);
			}
			continue;
		}
		if (doubt[i]) {
			/* Rebooted holding PREPARED before the outcome came,
			 * maybe twice, and learned it on a resend. */
			uint64_t d0 = vote_t[i] + rnd(g, 1, 5) * MS;

			gput(g, d0, txid, first + i, SIM_TPC_IN_DOUBT, 0, 0);
			if (rnd(g, 0, 1))
				gput(g, d0 + rnd(g, 1, 5) * MS, txid, first + i, SIM_TPC_IN_DOUBT, 0, 0);
			apply_t = dec_t + rnd(g, 100, 2000) * MS;
			gput(g, apply_t, txid, first + i, SIM_TPC_RESOLVED, 0, 0);
			e->in_doubt++;
		}
		gput(g, apply_t, txid, first + i, SIM_TPC_APPLY, dec, 0);
		if (rnd(g, 0, 99) < 10) {
			/* The ACK was lost: a resent outcome, applied again. */
			apply_t += rnd(g, 100, 500) * MS;
			gput(g, apply_t, txid, first + i, SIM_TPC_APPLY, dec, 0);
		}
		gput(g, apply_t + rnd(g, 1, 10) * MS, txid, first + i, SIM_TPC_ACK_SEEN, 0, 0);
		if (rnd(g, 0, 99) < 5)                  /* a later reboot finds it right */
			gput(g, apply_t + rnd(g, 1, 10) * S, txid, first + i, SIM_TPC_OBSERVE, dec, 0);
	}
}

static void
test_random_clean(void)
{
	struct sim_tpc_check *c = make();
	struct gen g = { .rng = 0x2bc0ffee };
	struct expect e = { 0 };
	struct sim_tpc_summary s;
	const char *t;
	uint64_t end = 0;
	enum { NTX = 10000 };

	for (uint64_t k = 0; k < NTX; k++)
		/* Transactions overlap: a new one every 3 ms, ids scattered. */
		gen_tx(&g, k * 0x9e3779b97f4a7c15ull, k * 3 * MS, &e);
	/* As a run records them: all interleaved in time. */
	qsort(g.v, g.n, sizeof(*g.v), cmp_gen);
	for (size_t i = 0; i < g.n; i++) {
		CU_ASSERT_EQUAL_FATAL(sim_tpc_check_add(c, &g.v[i].r), SIM_OK);
		if (g.v[i].r.t_ns > end)
			end = g.v[i].r.t_ns;
	}
	s = finish(c, end + 1 * S);
	if (total_violations(&s) > 0 && (t = sim_tpc_check_violation(c, 0, NULL, NULL)) != NULL)
		fprintf(stderr, "\n%s", t);
	CU_ASSERT_EQUAL(total_violations(&s), 0);
	CU_ASSERT_EQUAL(sim_tpc_check_nviolations(c), 0);
	CU_ASSERT_EQUAL(s.started, NTX);
	CU_ASSERT_EQUAL(s.undecided, 0);
	CU_ASSERT_EQUAL(s.committed, e.committed);
	CU_ASSERT_EQUAL(s.aborted_by_vote, e.by_vote);
	CU_ASSERT_EQUAL(s.aborted_by_timeout, e.by_timeout);
	CU_ASSERT_EQUAL(s.aborted_by_coordinator, e.by_coordinator);
	CU_ASSERT_EQUAL(s.aborted, e.by_vote + e.by_timeout + e.by_coordinator);
	CU_ASSERT_EQUAL(s.committed + s.aborted, NTX);
	/* Every kind of fault actually happened. */
	CU_ASSERT(e.committed > 0 && e.by_vote > 0 && e.by_timeout > 0 && e.by_coordinator > 0);
	CU_ASSERT(e.in_doubt > 0);
	CU_ASSERT(s.in_doubt_max_ns >= 100 * MS);
	CU_ASSERT_EQUAL(rpt_hist_count(sim_tpc_check_latency(c, 1)), NTX);
	sim_tpc_check_free(c);

	/* Not vacuous: the same history with one commit applied as an abort
	 * is caught. */
	for (size_t i = 0; i < g.n; i++)
		if (g.v[i].r.ev == SIM_TPC_APPLY && g.v[i].r.val == 1) {
			g.v[i].r.val = 0;
			break;
		}
	c = make();
	for (size_t i = 0; i < g.n; i++)
		CU_ASSERT_EQUAL_FATAL(sim_tpc_check_add(c, &g.v[i].r), SIM_OK);
	s = finish(c, end + 1 * S);
	CU_ASSERT_EQUAL(s.violations[SIM_TPC_AGREEMENT], 1);
	CU_ASSERT_EQUAL(s.violations[SIM_TPC_VALIDITY] + s.violations[SIM_TPC_TERMINATION] +
	    s.violations[SIM_TPC_DURABILITY], 0);
	free(g.v);
	sim_tpc_check_free(c);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "clean commit", test_clean_commit },
		{ "clean abort by a NO vote", test_clean_abort_by_vote },
		{ "clean abort by timeout", test_clean_abort_by_timeout },
		{ "validity: commit despite NO", test_validity },
		{ "agreement and atomicity", test_agreement_atomicity },
		{ "termination: forgotten decision, in doubt", test_forgotten_decision },
		{ "durability after reboot", test_durability },
		{ "other rules, one at a time", test_other_rules },
		{ "in doubt max", test_in_doubt_max },
		{ "latency histograms", test_latency },
		{ "summary counts", test_summary_counts },
		{ "JSON shape and skeleton", test_json },
		{ "API edges, order, idempotence", test_api_edges },
		{ "randomized clean histories", test_random_clean },
		{ NULL, NULL },
	};

	return fs_test_main("tpc_check", tests);
}
