#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "fs_test.h"
#include "telemetry.h"

static void
send_msg(struct sim_tm_checker *c, uint32_t run, uint32_t dev, uint32_t seq, uint8_t *buf)
{
	struct sim_tm_hdr h = { .run_id = run, .device = dev, .seq = seq, .intended_ns = 1000000 };

	sim_tm_encode(buf, &h);
}

static enum sim_tm_verdict
arrive(struct sim_tm_checker *c, uint32_t run, uint32_t dev, uint32_t seq, uint64_t now)
{
	uint8_t buf[64];

	memset(buf, 'x', sizeof(buf));
	send_msg(c, run, dev, seq, buf);
	return sim_tm_check(c, buf, sizeof(buf), now);
}

static void
test_header_round_trip(void)
{
	struct sim_tm_hdr h = { .run_id = 0xdeadbeef, .device = 123456, .seq = 789,
		.intended_ns = 0x0123456789abcdefull }, g;
	uint8_t buf[SIM_TELEMETRY_MIN_SIZE];

	sim_tm_encode(buf, &h);
	CU_ASSERT_EQUAL(sim_tm_decode(buf, sizeof(buf), &g), SIM_OK);
	CU_ASSERT_EQUAL(g.run_id, h.run_id);
	CU_ASSERT_EQUAL(g.device, h.device);
	CU_ASSERT_EQUAL(g.seq, h.seq);
	CU_ASSERT_EQUAL(g.intended_ns, h.intended_ns);
	/* Any flipped bit in the header is caught by the check word. */
	for (size_t i = 0; i < sizeof(buf) * 8; i++) {
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		CU_ASSERT_EQUAL(sim_tm_decode(buf, sizeof(buf), &g), SIM_ERR_PROTO);
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	CU_ASSERT_EQUAL(sim_tm_decode(buf, sizeof(buf) - 1, &g), SIM_ERR_PROTO);
}

static void
test_in_order_latency(void)
{
	struct sim_tm_checker *c;
	struct sim_tm_counts n;

	CU_ASSERT_FATAL(sim_tm_checker_new(2, 7, &c) == SIM_OK);
	for (int i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(sim_tm_next_seq(c, 1), (uint32_t)i);
	for (uint32_t i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(arrive(c, 7, 1, i, 1000000 + 5000000), SIM_TM_OK);
	sim_tm_counts(c, &n);
	CU_ASSERT_EQUAL(n.sent, 100);
	CU_ASSERT_EQUAL(n.received, 100);
	CU_ASSERT_EQUAL(n.duplicates, 0);
	CU_ASSERT_EQUAL(n.out_of_order, 0);
	CU_ASSERT(sim_tm_all_received(c));
	/* Every latency was exactly 5 ms. */
	CU_ASSERT_EQUAL(rpt_hist_count(sim_tm_latency(c)), 100);
	CU_ASSERT_EQUAL(rpt_hist_min(sim_tm_latency(c)), 5000000);
	CU_ASSERT_EQUAL(rpt_hist_max(sim_tm_latency(c)), 5000000);
	sim_tm_checker_free(c);
}

static void
test_dup_order_loss_foreign(void)
{
	struct sim_tm_checker *c;
	struct sim_tm_counts n;
	uint8_t junk[40];

	CU_ASSERT_FATAL(sim_tm_checker_new(3, 1, &c) == SIM_OK);
	for (int i = 0; i < 10; i++)
		sim_tm_next_seq(c, 0);
	CU_ASSERT_EQUAL(arrive(c, 1, 0, 0, 2000000), SIM_TM_OK);
	CU_ASSERT_EQUAL(arrive(c, 1, 0, 0, 2000000), SIM_TM_DUPLICATE);
	CU_ASSERT_EQUAL(arrive(c, 1, 0, 5, 2000000), SIM_TM_OK);
	CU_ASSERT_EQUAL(arrive(c, 1, 0, 3, 2000000), SIM_TM_OUT_OF_ORDER);
	CU_ASSERT_EQUAL(arrive(c, 1, 0, 5, 2000000), SIM_TM_DUPLICATE);
	CU_ASSERT_EQUAL(arrive(c, 1, 0, 3, 2000000), SIM_TM_DUPLICATE);
	CU_ASSERT_EQUAL(arrive(c, 2, 0, 1, 2000000), SIM_TM_FOREIGN);  /* another run */
	CU_ASSERT_EQUAL(arrive(c, 1, 9, 1, 2000000), SIM_TM_FOREIGN);  /* no such device */
	CU_ASSERT_EQUAL(arrive(c, 1, 0, 10, 2000000), SIM_TM_FOREIGN); /* never sent */
	memset(junk, 0, sizeof(junk));
	CU_ASSERT_EQUAL(sim_tm_check(c, junk, sizeof(junk), 0), SIM_TM_MALFORMED);
	sim_tm_counts(c, &n);
	CU_ASSERT_EQUAL(n.sent, 10);
	CU_ASSERT_EQUAL(n.received, 3);
	CU_ASSERT_EQUAL(n.duplicates, 3);
	CU_ASSERT_EQUAL(n.out_of_order, 1);
	CU_ASSERT_EQUAL(n.foreign, 3);
	CU_ASSERT_EQUAL(n.malformed, 1);
	CU_ASSERT_FALSE(sim_tm_all_received(c));
	sim_tm_checker_free(c);
}

/* Arrivals in a shuffled order far wider than one bitmap word: every seq is
 * counted once, repeats are duplicates, and the tracker frees its bitmap
 * once the gaps close. */
static void
test_wide_shuffle(void)
{
	enum { N = 5000 };
	struct sim_tm_checker *c;
	struct sim_tm_counts n, g;
	uint32_t *order = malloc(N * sizeof(*order));
	uint64_t s = 42;

	CU_ASSERT_FATAL(order != NULL);
	CU_ASSERT_FATAL(sim_tm_checker_new(1, 3, &c) == SIM_OK);
	for (uint32_t i = 0; i < N; i++) {
		order[i] = i;
		sim_tm_next_seq(c, 0);
	}
	for (uint32_t i = N - 1; i > 0; i--) {
		uint32_t j;

		s = s * 6364136223846793005ull + 1442695040888963407ull;
		j = (uint32_t)((s >> 33) % (i + 1));
		uint32_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (uint32_t i = 0; i < N; i++) {
		enum sim_tm_verdict v = arrive(c, 3, 0, order[i], 0);

		CU_ASSERT(v == SIM_TM_OK || v == SIM_TM_OUT_OF_ORDER);
	}
	for (uint32_t i = 0; i < N; i += 97)
		CU_ASSERT_EQUAL(arrive(c, 3, 0, order[i], 0), SIM_TM_DUPLICATE);
	sim_tm_counts(c, &n);
	CU_ASSERT_EQUAL(n.received, N);
	CU_ASSERT_EQUAL(n.duplicates, (N + 96) / 97);
	CU_ASSERT(n.out_of_order > 0);
	CU_ASSERT(sim_tm_all_received(c));
	sim_tm_range_counts(c, 0, 1, &g);
	CU_ASSERT_EQUAL(g.sent, N);
	CU_ASSERT_EQUAL(g.received, N);
	CU_ASSERT_EQUAL(g.duplicates, n.duplicates);
	free(order);
	sim_tm_checker_free(c);
}

/* A model's JSON carries the header as its last member; the checker finds
 * it there, and nothing that merely resembles it passes. */
static void
test_json_member(void)
{
	struct sim_tm_hdr h = { .run_id = 7, .device = 3, .seq = 42, .intended_ns = 123456789 }, g;
	static const char *objs[] = { "{\"t\": 21.5}", "{}", "{ \n}", "{\"a\": {\"b\": 1}}  \n" };
	uint8_t buf[256];

	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		size_t len = strlen(objs[i]), n;

		memcpy(buf, objs[i], len);
		n = sim_tm_encode_json(buf, len, &h);
		CU_ASSERT(n <= len + SIM_TM_JSON_EXTRA);
		CU_ASSERT_EQUAL(buf[n - 1], '}');
		CU_ASSERT_EQUAL(sim_tm_decode(buf, n, &g), SIM_OK);
		CU_ASSERT_EQUAL(g.seq, 42);
		CU_ASSERT_EQUAL(g.device, 3);
		CU_ASSERT_EQUAL(g.intended_ns, 123456789);
		buf[n] = '\0';
		/* Still one JSON object: the member follows the last one, or
		 * stands alone in an empty object. */
		CU_ASSERT_PTR_NOT_NULL(strstr((char *)buf, i == 0 ? "21.5,\"fsim\":\"" :
		    i == 3 ? "1},\"fsim\":\"" : "{\"fsim\":\""));
		/* A changed digit breaks the check word. */
		buf[n - 10] = buf[n - 10] == '0' ? '1' : '0';
		CU_ASSERT_EQUAL(sim_tm_decode(buf, n, &g), SIM_ERR_PROTO);
	}
	CU_ASSERT_EQUAL(sim_tm_decode((const uint8_t *)"{\"t\": 1}", 8, &g), SIM_ERR_PROTO);
	memcpy(buf, "{\"x\":1}", 7);
	{
		size_t n = sim_tm_encode_json(buf, 7, &h);

		buf[n - 3] = 'G';       /* not hex */
		CU_ASSERT_EQUAL(sim_tm_decode(buf, n, &g), SIM_ERR_PROTO);
	}
}

/* Drops are counted by cause, and the causes add up. */
static void
test_drop_causes(void)
{
	struct sim_tm_checker *c;
	struct sim_tm_counts n;

	CU_ASSERT_EQUAL_FATAL(sim_tm_checker_new(2, 1, &c), SIM_OK);
	sim_tm_note_dropped(c, SIM_TM_DROP_POWERED_OFF);
	sim_tm_note_dropped(c, SIM_TM_DROP_POWERED_OFF);
	sim_tm_note_dropped(c, SIM_TM_DROP_LINK_DOWN);
	sim_tm_counts(c, &n);
	CU_ASSERT_EQUAL(n.dropped, 3);
	CU_ASSERT_EQUAL(n.dropped_by[SIM_TM_DROP_POWERED_OFF], 2);
	CU_ASSERT_EQUAL(n.dropped_by[SIM_TM_DROP_LINK_DOWN], 1);
	CU_ASSERT_EQUAL(n.dropped_by[SIM_TM_DROP_DISCONNECTED], 0);
	CU_ASSERT_STRING_EQUAL(sim_tm_drop_name(SIM_TM_DROP_POWERED_OFF), "powered_off");
	CU_ASSERT_STRING_EQUAL(sim_tm_drop_name(SIM_TM_DROP_BEHIND), "behind");
	sim_tm_checker_free(c);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "header round trip and tamper", test_header_round_trip },
		{ "in order, latency", test_in_order_latency },
		{ "duplicates, order, loss, foreign", test_dup_order_loss_foreign },
		{ "wide shuffle", test_wide_shuffle },
		{ "JSON tracking member", test_json_member },
		{ "drops by cause", test_drop_causes },
		{ NULL, NULL },
	};

	return fs_test_main("telemetry", tests);
}
