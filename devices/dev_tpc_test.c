#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "dev_device.h"
#include "dev_model.h"
#include "dev_test_build.h"
#include "dev_tpc.h"
#include "fs_test.h"

#define S 1000000000ll
#define MS 1000000ll
#define LAT (10 * MS)
/* A missing reason fails the comparison instead of crashing it. */
#define REASON(st) ((st).reason != NULL ? (st).reason : "(none)")

static const struct dev_tpc_rules yes = { .min_battery_pct = 0, .vote_no = 0 };

/* A device with flash of the given capacity and write failure rate. */
static void
flash_model(struct dev_model *m, size_t capacity, double write_fail)
{
	model_init(m);
	m->has_flash = true;
	m->flash = (struct hal_flash_config){ .capacity = capacity, .write_latency = LAT,
	    .write_fail = write_fail };
}

static struct dev_device *
device(struct dev_model *m, uint32_t index)
{
	struct dev_device *d = NULL;

	CU_ASSERT_EQUAL_FATAL(dev_device_new(m, 7, "g", index, 0, &d), HAL_OK);
	return d;
}

static void
pkey(char *key, uint64_t txid)
{
	snprintf(key, 32, "tpc.p.%016llx", (unsigned long long)txid);
}

static bool
has(const struct dev_device *d, const char *key, const char *value)
{
	const void *v;
	size_t n;

	if (hal_flash_get(d->flash, key, &v, &n) != HAL_OK)
		return false;
	return value == NULL || (n == strlen(value) && memcmp(v, value, n) == 0);
}

static bool
prepared(const struct dev_device *d, uint64_t txid)
{
	char key[32];

	pkey(key, txid);
	return has(d, key, NULL);
}

static struct dev_tpc_step
prepare(struct dev_device *d, const struct dev_tpc_rules *r, int64_t t, uint64_t txid,
    const char *change)
{
	struct dev_tpc_step st;

	CU_ASSERT_EQUAL(dev_tpc_prepare(d, r, t, txid, change, strlen(change), &st), HAL_OK);
	CU_ASSERT_TRUE(st.reply);
	CU_ASSERT_EQUAL(st.what, DEV_TPC_SEND_VOTE);
	return st;
}

static struct dev_tpc_step
decide(struct dev_device *d, int64_t t, uint64_t txid, bool commit)
{
	struct dev_tpc_step st;

	CU_ASSERT_EQUAL(dev_tpc_decide(d, t, txid, commit, &st), HAL_OK);
	CU_ASSERT_EQUAL(st.what, DEV_TPC_SEND_ACK);
	return st;
}

static void
test_yes(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_tpc_step st;
	uint64_t out[4];

	flash_model(&m, 4096, 0);
	check_ok(&m);
	d = device(&m, 0);
	st = prepare(d, &yes, S, 0xabc, "{\"every\": 30}");
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_YES);
	CU_ASSERT_PTR_NULL(st.reason);
	/* The vote waits for the PREPARED record to be durable. */
	CU_ASSERT_EQUAL(st.at, (uint64_t)(S + LAT));
	CU_ASSERT_TRUE(has(d, "tpc.p.0000000000000abc", "{\"every\": 30}"));
	CU_ASSERT_EQUAL(d->flash->writes, 1);
	CU_ASSERT_EQUAL(dev_tpc_in_doubt(d, out, 4), 1);
	CU_ASSERT_EQUAL(out[0], 0xabc);
	CU_ASSERT_FALSE(dev_tpc_applied(d, 0xabc));
	/* Behind a write in flight, the record waits its turn. */
	st = prepare(d, &yes, S + 1, 0xabd, "x");
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_YES);
	CU_ASSERT_EQUAL(st.at, (uint64_t)(S + 2 * LAT));
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

static void
test_no(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_tpc_step st;
	struct dev_tpc_rules r = yes;

	/* Battery: 100 J drained at 1 W is at 40% after 60 s. */
	flash_model(&m, 4096, 0);
	m.power = (struct hal_power_config){ .capacity_j = 100, .drain_w = 1 };
	check_ok(&m);
	d = device(&m, 0);
	r.min_battery_pct = 50;
	st = prepare(d, &r, 10 * S, 1, "a");
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_YES);
	st = prepare(d, &r, 60 * S, 2, "a");
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_NO);
	CU_ASSERT_STRING_EQUAL(REASON(st), "battery");
	CU_ASSERT_FALSE(prepared(d, 2));
	dev_device_free(d, 0);
	dev_model_fini(&m);

	/* vote_no = 1 always says NO, 0 never. */
	flash_model(&m, 4096, 0);
	check_ok(&m);
	d = device(&m, 0);
	r = yes;
	r.vote_no = 1;
	for (uint64_t tx = 1; tx <= 20; tx++) {
		st = prepare(d, &r, S, tx, "a");
		CU_ASSERT_EQUAL(st.vote, DEV_TPC_NO);
		CU_ASSERT_STRING_EQUAL(REASON(st), "vote_no");
	}
	CU_ASSERT_EQUAL(dev_tpc_in_doubt(d, NULL, 0), 0);
	dev_device_free(d, 0);
	dev_model_fini(&m);

	/* Every write fails: NO once the failure is known, nothing kept. */
	flash_model(&m, 4096, 1);
	check_ok(&m);
	d = device(&m, 0);
	st = prepare(d, &yes, S, 1, "a");
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_NO);
	CU_ASSERT_STRING_EQUAL(REASON(st), "flash_error");
	/* The record's failed write, then the failed note of the NO. */
	CU_ASSERT_EQUAL(st.at, (uint64_t)(S + 2 * LAT));
	CU_ASSERT_EQUAL(hal_flash_count(d->flash), 0);
	CU_ASSERT_EQUAL(dev_tpc_in_doubt(d, NULL, 0), 0);
	dev_device_free(d, 0);
	dev_model_fini(&m);

	/* No flash: nothing to keep a PREPARED record in. */
	model_init(&m);
	check_ok(&m);
	d = device(&m, 0);
	st = prepare(d, &yes, S, 1, "a");
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_NO);
	CU_ASSERT_STRING_EQUAL(REASON(st), "no_flash");
	CU_ASSERT_EQUAL(st.at, (uint64_t)S);
	st = decide(d, 2 * S, 1, true);
	CU_ASSERT_TRUE(st.reply);
	CU_ASSERT_FALSE(st.applied);
	CU_ASSERT_FALSE(dev_tpc_applied(d, 1));
	CU_ASSERT_EQUAL(dev_tpc_in_doubt(d, NULL, 0), 0);
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

/* The flash must fit the record and, beside it, what applying it takes:
 * for "abc", tpc.p.<txid> 3+22+3, tpc.cfg 3+7+3, tpc.last 3+8+33 and a
 * full tpc.d 3+5+8*17: 229 bytes. */
static void
test_full(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_tpc_step st;

	flash_model(&m, 229, 0);
	check_ok(&m);
	d = device(&m, 0);
	st = prepare(d, &yes, S, 1, "abc");
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_YES);
	/* Committing it fits, as promised. */
	st = decide(d, 2 * S, 1, true);
	CU_ASSERT_TRUE(st.reply);
	CU_ASSERT_TRUE(st.applied);
	CU_ASSERT_TRUE(dev_tpc_applied(d, 1));
	dev_device_free(d, 0);
	dev_model_fini(&m);

	flash_model(&m, 228, 0);
	check_ok(&m);
	d = device(&m, 0);
	st = prepare(d, &yes, S, 1, "abc");
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_NO);
	CU_ASSERT_STRING_EQUAL(REASON(st), "flash_full");
	CU_ASSERT_FALSE(prepared(d, 1));
	dev_device_free(d, 0);
	dev_model_fini(&m);

	/* A record that does not fit at all. */
	flash_model(&m, 20, 0);
	check_ok(&m);
	d = device(&m, 0);
	st = prepare(d, &yes, S, 1, "abc");
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_NO);
	CU_ASSERT_STRING_EQUAL(REASON(st), "flash_full");
	CU_ASSERT_EQUAL(hal_flash_count(d->flash), 0);
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

static void
test_prepare_idempotent(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_tpc_step st, again;
	struct dev_tpc_rules r = yes;
	uint32_t writes;

	flash_model(&m, 4096, 0);
	check_ok(&m);
	d = device(&m, 0);
	st = prepare(d, &yes, S, 5, "abc");
	writes = d->flash->writes;
	/* A duplicate before the write completes: same vote, same time. */
	again = prepare(d, &yes, S + LAT / 2, 5, "abc");
	CU_ASSERT_EQUAL(again.vote, DEV_TPC_YES);
	CU_ASSERT_EQUAL(again.at, st.at);
	/* And after. */
	again = prepare(d, &yes, 2 * S, 5, "abc");
	CU_ASSERT_EQUAL(again.vote, DEV_TPC_YES);
	CU_ASSERT_EQUAL(again.at, (uint64_t)(2 * S));
	CU_ASSERT_EQUAL(d->flash->writes, writes);

	/* A NO stays a NO, though the rule would now say YES. */
	r.vote_no = 1;
	st = prepare(d, &r, 3 * S, 6, "abc");
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_NO);
	writes = d->flash->writes;
	again = prepare(d, &yes, 4 * S, 6, "abc");
	CU_ASSERT_EQUAL(again.vote, DEV_TPC_NO);
	CU_ASSERT_STRING_EQUAL(REASON(again), "aborted");
	CU_ASSERT_FALSE(prepared(d, 6));
	CU_ASSERT_EQUAL(d->flash->writes, writes);

	/* Decided: the YES again, no write. */
	decide(d, 5 * S, 5, true);
	writes = d->flash->writes;
	again = prepare(d, &yes, 6 * S, 5, "abc");
	CU_ASSERT_EQUAL(again.vote, DEV_TPC_YES);
	CU_ASSERT_EQUAL(d->flash->writes, writes);
	CU_ASSERT_FALSE(prepared(d, 5));
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

static void
test_commit(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_tpc_step st;
	uint32_t writes;

	flash_model(&m, 4096, 0);
	check_ok(&m);
	d = device(&m, 0);
	prepare(d, &yes, S, 0x10, "{\"every\": 30}");
	st = decide(d, 2 * S, 0x10, true);
	CU_ASSERT_TRUE(st.reply);
	CU_ASSERT_TRUE(st.applied);
	CU_ASSERT_TRUE(st.committed);
	CU_ASSERT_PTR_NULL(st.reason);
	/* tpc.cfg, tpc.last, tpc.d, then the record removed: 4 writes. */
	CU_ASSERT_EQUAL(st.at, (uint64_t)(2 * S + 4 * LAT));
	CU_ASSERT_TRUE(has(d, "tpc.cfg", "{\"every\": 30}"));
	CU_ASSERT_TRUE(dev_tpc_applied(d, 0x10));
	CU_ASSERT_FALSE(prepared(d, 0x10));
	CU_ASSERT_EQUAL(dev_tpc_in_doubt(d, NULL, 0), 0);

	/* Duplicates ACK again, without applying twice; the early one waits
	 * for the first ACK's writes. */
	writes = d->flash->writes;
	st = decide(d, 2 * S + 1, 0x10, true);
	CU_ASSERT_TRUE(st.reply);
	CU_ASSERT_FALSE(st.applied);
	CU_ASSERT_EQUAL(st.at, (uint64_t)(2 * S + 4 * LAT));
	st = decide(d, 3 * S, 0x10, true);
	CU_ASSERT_TRUE(st.reply);
	CU_ASSERT_FALSE(st.applied);
	CU_ASSERT_EQUAL(st.at, (uint64_t)(3 * S));
	/* A contradicting late ABORT changes nothing either. */
	st = decide(d, 3 * S, 0x10, false);
	CU_ASSERT_TRUE(st.reply);
	CU_ASSERT_FALSE(st.applied);
	CU_ASSERT_EQUAL(d->flash->writes, writes);
	CU_ASSERT_TRUE(dev_tpc_applied(d, 0x10));

	/* A later commit replaces the configuration. */
	prepare(d, &yes, 4 * S, 0x11, "{\"every\": 60}");
	decide(d, 5 * S, 0x11, true);
	CU_ASSERT_TRUE(has(d, "tpc.cfg", "{\"every\": 60}"));
	CU_ASSERT_TRUE(dev_tpc_applied(d, 0x11));
	CU_ASSERT_FALSE(dev_tpc_applied(d, 0x10));
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

static void
test_abort(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_tpc_step st;
	uint32_t writes;

	flash_model(&m, 4096, 0);
	check_ok(&m);
	d = device(&m, 0);
	prepare(d, &yes, S, 0x20, "abc");
	st = decide(d, 2 * S, 0x20, false);
	CU_ASSERT_TRUE(st.reply);
	CU_ASSERT_TRUE(st.applied);
	CU_ASSERT_FALSE(st.committed);
	CU_ASSERT_EQUAL(st.at, (uint64_t)(2 * S + 2 * LAT));
	CU_ASSERT_FALSE(has(d, "tpc.cfg", NULL));
	CU_ASSERT_FALSE(dev_tpc_applied(d, 0x20));
	CU_ASSERT_FALSE(prepared(d, 0x20));
	writes = d->flash->writes;
	st = decide(d, 3 * S, 0x20, false);
	CU_ASSERT_TRUE(st.reply);
	CU_ASSERT_FALSE(st.applied);
	/* A late COMMIT (a broken coordinator) finds nothing to apply. */
	st = decide(d, 3 * S, 0x20, true);
	CU_ASSERT_TRUE(st.reply);
	CU_ASSERT_FALSE(st.applied);
	CU_ASSERT_FALSE(dev_tpc_applied(d, 0x20));
	CU_ASSERT_EQUAL(d->flash->writes, writes);

	/* An ABORT that overtook its PREPARE: the PREPARE votes NO. */
	st = decide(d, 4 * S, 0x21, false);
	CU_ASSERT_TRUE(st.reply);
	CU_ASSERT_FALSE(st.applied);
	st = prepare(d, &yes, 5 * S, 0x21, "abc");
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_NO);
	CU_ASSERT_STRING_EQUAL(REASON(st), "aborted");
	CU_ASSERT_FALSE(prepared(d, 0x21));

	/* A COMMIT for a txid never seen: ACK, nothing applied. */
	st = decide(d, 6 * S, 0x22, true);
	CU_ASSERT_TRUE(st.reply);
	CU_ASSERT_FALSE(st.applied);
	CU_ASSERT_FALSE(has(d, "tpc.cfg", NULL));
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

/* tpc.d keeps the last DEV_TPC_KEEP outcomes, newest last. */
static void
test_bounded(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_tpc_step st;
	const void *v;
	size_t n;

	flash_model(&m, 4096, 0);
	check_ok(&m);
	d = device(&m, 0);
	for (uint64_t tx = 1; tx <= DEV_TPC_KEEP + 3; tx++)
		decide(d, (int64_t)tx * S, tx, false);
	CU_ASSERT_EQUAL_FATAL(hal_flash_get(d->flash, "tpc.d", &v, &n), HAL_OK);
	CU_ASSERT_EQUAL(n, DEV_TPC_KEEP * 17);
	CU_ASSERT_EQUAL(memcmp(v, "0000000000000004n", 17), 0);
	CU_ASSERT_EQUAL(memcmp((const char *)v + n - 17, "000000000000000bn", 17), 0);
	/* The oldest are forgotten: their late PREPARE is judged afresh. */
	st = prepare(d, &yes, 20 * S, 1, "abc");
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_YES);
	st = prepare(d, &yes, 20 * S, 5, "abc");
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_NO);
	/* An outcome seen again moves to the newest place, not twice. */
	prepare(d, &yes, 21 * S, 0x30, "abc");
	decide(d, 22 * S, 0x30, false);
	prepare(d, &yes, 23 * S, 0x30, "abc");
	CU_ASSERT_EQUAL_FATAL(hal_flash_get(d->flash, "tpc.d", &v, &n), HAL_OK);
	CU_ASSERT_EQUAL(n, DEV_TPC_KEEP * 17);
	CU_ASSERT_EQUAL(memcmp((const char *)v + n - 17, "0000000000000030a", 17), 0);
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

static void
test_reboot_in_doubt(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_tpc_step st;
	uint64_t out[2];

	flash_model(&m, 4096, 0);
	check_ok(&m);
	d = device(&m, 0);
	prepare(d, &yes, S, 0x40, "a");
	prepare(d, &yes, S, 0x41, "b");
	prepare(d, &yes, S, 0x42, "c");
	decide(d, 2 * S, 0x41, true);
	dev_device_reboot(d, 3 * S);
	/* The device may not decide alone: the records stay until asked. */
	CU_ASSERT_EQUAL(dev_tpc_in_doubt(d, out, 2), 2);
	CU_ASSERT_EQUAL(out[0], 0x40);
	CU_ASSERT_EQUAL(out[1], 0x42);
	CU_ASSERT_EQUAL(dev_tpc_in_doubt(d, out, 1), 2);
	CU_ASSERT_TRUE(dev_tpc_applied(d, 0x41));
	/* The coordinator's answers to the QUERY settle them. */
	st = decide(d, 4 * S, 0x40, true);
	CU_ASSERT_TRUE(st.applied);
	st = decide(d, 4 * S, 0x42, false);
	CU_ASSERT_TRUE(st.applied);
	CU_ASSERT_EQUAL(dev_tpc_in_doubt(d, out, 2), 0);
	CU_ASSERT_TRUE(has(d, "tpc.cfg", "a"));
	CU_ASSERT_TRUE(dev_tpc_applied(d, 0x40));
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

static void
test_reboot_in_flight(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_tpc_step st;

	flash_model(&m, 4096, 0);
	check_ok(&m);
	d = device(&m, 0);
	st = prepare(d, &yes, S, 0x50, "abc");
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_YES);
	/* The vote was not due yet when the device went down... */
	CU_ASSERT_EQUAL(st.at, (uint64_t)(S + LAT));
	dev_device_reboot(d, S + LAT / 2);
	CU_ASSERT_TRUE((uint64_t)(S + LAT / 2) < st.at);
	/* ...and the record went with it: not prepared, not in doubt. */
	CU_ASSERT_FALSE(prepared(d, 0x50));
	CU_ASSERT_EQUAL(dev_tpc_in_doubt(d, NULL, 0), 0);
	/* The coordinator's resend gets a fresh vote and a fresh write. */
	st = prepare(d, &yes, 2 * S, 0x50, "abc");
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_YES);
	CU_ASSERT_EQUAL(st.at, (uint64_t)(2 * S + LAT));
	dev_device_reboot(d, 2 * S + LAT);
	CU_ASSERT_EQUAL(dev_tpc_in_doubt(d, NULL, 0), 1);
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

static void
test_durability(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_tpc_step st;

	flash_model(&m, 4096, 0);
	check_ok(&m);
	d = device(&m, 0);
	prepare(d, &yes, S, 0x60, "abc");
	st = decide(d, 2 * S, 0x60, true);
	dev_device_reboot(d, (int64_t)st.at);
	CU_ASSERT_TRUE(dev_tpc_applied(d, 0x60));
	CU_ASSERT_EQUAL(dev_tpc_in_doubt(d, NULL, 0), 0);
	dev_device_free(d, 0);
	dev_model_fini(&m);

	/* A crash at each point of the commit: until the ACK is due the
	 * device is still in doubt, and the resent DECISION finishes it. */
	for (int k = 0; k < 4; k++) {
		flash_model(&m, 4096, 0);
		check_ok(&m);
		d = device(&m, 0);
		prepare(d, &yes, S, 0x60, "abc");
		prepare(d, &yes, S, 0x61, "old");
		decide(d, S + S / 2, 0x61, true);
		st = decide(d, 2 * S, 0x60, true);
		CU_ASSERT_TRUE(st.applied);
		dev_device_reboot(d, 2 * S + k * LAT);
		CU_ASSERT_EQUAL(dev_tpc_in_doubt(d, NULL, 0), 1);
		/* Writes: tpc.cfg, tpc.last, tpc.d, the record's removal. With
		 * tpc.cfg new and tpc.last not yet (k = 1), neither change is
		 * in effect, which tpc.last's hash tells. */
		CU_ASSERT_EQUAL(dev_tpc_applied(d, 0x60), k >= 2);
		CU_ASSERT_EQUAL(dev_tpc_applied(d, 0x61), k < 1);
		st = decide(d, 3 * S, 0x60, true);
		CU_ASSERT_TRUE(st.applied);
		dev_device_reboot(d, (int64_t)st.at);
		CU_ASSERT_TRUE(dev_tpc_applied(d, 0x60));
		CU_ASSERT_EQUAL(dev_tpc_in_doubt(d, NULL, 0), 0);
		dev_device_free(d, 0);
		dev_model_fini(&m);
	}
}

/* A write that fails during the decision: no ACK, and the resend (here
 * with a working flash) completes it. */
static void
test_decide_fails(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_tpc_step st;

	flash_model(&m, 4096, 0);
	check_ok(&m);
	d = device(&m, 0);
	prepare(d, &yes, S, 0x70, "abc");
	m.flash.write_fail = 1;
	st = decide(d, 2 * S, 0x70, true);
	CU_ASSERT_FALSE(st.reply);
	CU_ASSERT_FALSE(st.applied);
	CU_ASSERT_STRING_EQUAL(REASON(st), "flash_error");
	CU_ASSERT_EQUAL(dev_tpc_in_doubt(d, NULL, 0), 1);
	m.flash.write_fail = 0;
	st = decide(d, 3 * S, 0x70, true);
	CU_ASSERT_TRUE(st.reply);
	CU_ASSERT_TRUE(st.applied);
	CU_ASSERT_TRUE(dev_tpc_applied(d, 0x70));
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

/* The vote_no draw depends on (device, txid) only: not on the order of
 * transactions, nor on what else the device drew. */
static void
test_determinism(void)
{
	struct dev_model m;
	struct dev_device *a, *b, *c;
	struct dev_tpc_rules r = yes;
	int va[200], vb[200], yes_a = 0, differ = 0;
	struct dev_tpc_step st;

	flash_model(&m, 1 << 16, 0);
	check_ok(&m);
	a = device(&m, 0);
	b = device(&m, 0);
	c = device(&m, 1);
	r.vote_no = 0.5;
	for (int i = 0; i < 200; i++) {
		st = prepare(a, &r, S, (uint64_t)i, "x");
		va[i] = st.vote;
		yes_a += st.vote == DEV_TPC_YES;
		/* Settle it, so the flash does not fill up. */
		decide(a, S, (uint64_t)i, false);
	}
	(void)hal_rng_u64(&b->rng);
	for (int i = 199; i >= 0; i--) {
		st = prepare(b, &r, S, (uint64_t)i, "x");
		vb[i] = st.vote;
		decide(b, S, (uint64_t)i, false);
	}
	for (int i = 0; i < 200; i++) {
		CU_ASSERT_EQUAL(va[i], vb[i]);
		st = prepare(c, &r, S, (uint64_t)i, "x");
		differ += st.vote != va[i];
		decide(c, S, (uint64_t)i, false);
	}
	CU_ASSERT_TRUE(yes_a > 60 && yes_a < 140);
	/* Another device draws otherwise. */
	CU_ASSERT_TRUE(differ > 40);
	dev_device_free(a, 0);
	dev_device_free(b, 0);
	dev_device_free(c, 0);
	dev_model_fini(&m);
}

static void
test_args(void)
{
	struct dev_model m;
	struct dev_device *d;
	struct dev_tpc_step st;

	flash_model(&m, 4096, 0);
	check_ok(&m);
	d = device(&m, 0);
	CU_ASSERT_EQUAL(dev_tpc_prepare(d, NULL, S, 1, "a", 1, &st), HAL_ERR_INVAL);
	CU_ASSERT_FALSE(st.reply);
	CU_ASSERT_EQUAL(dev_tpc_prepare(d, &yes, S, 1, NULL, 1, &st), HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(dev_tpc_prepare(NULL, &yes, S, 1, "a", 1, &st), HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(dev_tpc_decide(NULL, S, 1, true, &st), HAL_ERR_INVAL);
	CU_ASSERT_FALSE(st.reply);
	CU_ASSERT_EQUAL(dev_tpc_in_doubt(NULL, NULL, 0), 0);
	CU_ASSERT_FALSE(dev_tpc_applied(NULL, 1));
	/* An empty change is a change. */
	CU_ASSERT_EQUAL(dev_tpc_prepare(d, &yes, S, 1, NULL, 0, &st), HAL_OK);
	CU_ASSERT_EQUAL(st.vote, DEV_TPC_YES);
	decide(d, 2 * S, 1, true);
	CU_ASSERT_TRUE(has(d, "tpc.cfg", ""));
	CU_ASSERT_TRUE(dev_tpc_applied(d, 1));
	/* Other keys in flash are not transactions. */
	CU_ASSERT_EQUAL(dev_tpc_in_doubt(d, NULL, 0), 0);
	dev_device_free(d, 0);
	dev_model_fini(&m);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "YES writes PREPARED, then votes", test_yes },
		{ "NO: battery, vote_no, write failure, no flash", test_no },
		{ "NO: no room for the record and its commit", test_full },
		{ "idempotent PREPARE", test_prepare_idempotent },
		{ "COMMIT applies once", test_commit },
		{ "ABORT discards; late PREPARE votes NO", test_abort },
		{ "bounded outcome memory", test_bounded },
		{ "reboot: in doubt until decided", test_reboot_in_doubt },
		{ "reboot undoes a write in flight", test_reboot_in_flight },
		{ "durability across crashes in COMMIT", test_durability },
		{ "failed DECISION write: no ACK, resend completes", test_decide_fails },
		{ "vote_no draw per (device, txid)", test_determinism },
		{ "arguments", test_args },
		{ NULL, NULL },
	};

	return fs_test_main("dev_tpc", tests);
}
