#include <math.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "fs_test.h"

#include "hal_flash.h"
#include "hal_link.h"
#include "hal_power.h"

#define MS 1000000ull
#define S 1000000000ull

static void
test_drain(void)
{
	struct hal_power_config c = { .capacity_j = 1000, .drain_w = 1, .tx_j_per_kb = 2,
	    .cutoff_pct = 10 };
	struct hal_power p;
	uint64_t at;

	CU_ASSERT_EQUAL_FATAL(hal_power_init(&p, &c, 1, "g", 0, 0), HAL_OK);
	CU_ASSERT_DOUBLE_EQUAL(hal_power_pct(&p, 0), 100, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_power_pct(&p, 100 * S), 90, 1e-9);
	/* 900 J above the cutoff at 1 W: dark at 900 s. */
	CU_ASSERT_EQUAL(hal_power_next(&p, &at), HAL_POWER_CUTOFF);
	CU_ASSERT_EQUAL(at, 900 * S);
	/* 10 KB at 2 J/KB take 20 J, and 20 s off the life. */
	hal_power_note_tx(&p, 100 * S, 10240);
	CU_ASSERT_DOUBLE_EQUAL(hal_power_pct(&p, 100 * S), 88, 1e-9);
	CU_ASSERT_EQUAL(hal_power_next(&p, &at), HAL_POWER_CUTOFF);
	CU_ASSERT_EQUAL(at, 880 * S);
	CU_ASSERT_EQUAL(hal_power_state(&p, 880 * S - 1), HAL_POWER_ON);
	CU_ASSERT_EQUAL(hal_power_state(&p, 880 * S), HAL_POWER_DEAD);
	CU_ASSERT_EQUAL(hal_power_take(&p, 880 * S - 1), HAL_POWER_NONE);
	CU_ASSERT_EQUAL(hal_power_take(&p, 880 * S), HAL_POWER_CUTOFF);
	CU_ASSERT_EQUAL(hal_power_next(&p, &at), HAL_POWER_NONE);
	CU_ASSERT_EQUAL(at, HAL_POWER_NEVER);
	CU_ASSERT_EQUAL(hal_power_state(&p, 2000 * S), HAL_POWER_DEAD);
	/* A dark device draws nothing more. */
	CU_ASSERT_DOUBLE_EQUAL(hal_power_pct(&p, 5000 * S), 10, 1e-6);
	hal_power_note_tx(&p, 5000 * S, 1 << 20);
	CU_ASSERT_DOUBLE_EQUAL(hal_power_pct(&p, 5000 * S), 10, 1e-6);

	/* Without a constant drain only transmissions kill, when they
	 * cross the cutoff, not before. */
	c = (struct hal_power_config){ .capacity_j = 100, .tx_j_per_kb = 1 };
	hal_power_init(&p, &c, 1, "g", 0, 0);
	CU_ASSERT_EQUAL(hal_power_next(&p, &at), HAL_POWER_NONE);
	hal_power_note_tx(&p, 5 * S, 50 * 1024);
	CU_ASSERT_DOUBLE_EQUAL(hal_power_pct(&p, 6 * S), 50, 1e-9);
	CU_ASSERT_EQUAL(hal_power_state(&p, 6 * S), HAL_POWER_ON);
	hal_power_note_tx(&p, 7 * S, 60 * 1024);
	CU_ASSERT_EQUAL(hal_power_next(&p, &at), HAL_POWER_CUTOFF);
	CU_ASSERT_EQUAL(at, 7 * S);
	CU_ASSERT_DOUBLE_EQUAL(hal_power_pct(&p, 8 * S), 0, 1e-9);

	/* Mains powered: always full, never dark. */
	c = (struct hal_power_config){ .drain_w = 5, .tx_j_per_kb = 1 };
	hal_power_init(&p, &c, 1, "g", 0, 0);
	hal_power_note_tx(&p, 1 * S, 1 << 30);
	CU_ASSERT_DOUBLE_EQUAL(hal_power_pct(&p, 1000000 * S), 100, 1e-9);
	CU_ASSERT_EQUAL(hal_power_next(&p, &at), HAL_POWER_NONE);
	hal_power_fini(&p);
}

static void
test_reboot_schedule(void)
{
	static const uint64_t when[] = { 1 * S, 10 * S, 30 * S };
	struct hal_power_config c = { .reboot_at = when, .n_reboot_at = 3, .boot_time = 3 * S };
	struct hal_power p;
	uint64_t at;

	/* Started at 5 s, the reboot at 1 s is in the past. */
	CU_ASSERT_EQUAL_FATAL(hal_power_init(&p, &c, 1, "g", 0, 5 * S), HAL_OK);
	CU_ASSERT_EQUAL(hal_power_state(&p, 5 * S), HAL_POWER_ON);
	CU_ASSERT_EQUAL(hal_power_next(&p, &at), HAL_POWER_REBOOT);
	CU_ASSERT_EQUAL(at, 10 * S);
	CU_ASSERT_EQUAL(hal_power_take(&p, 10 * S - 1), HAL_POWER_NONE);
	CU_ASSERT_EQUAL(hal_power_take(&p, 10 * S), HAL_POWER_REBOOT);
	CU_ASSERT_EQUAL(hal_power_state(&p, 10 * S), HAL_POWER_BOOTING);
	CU_ASSERT_EQUAL(hal_power_state(&p, 13 * S - 1), HAL_POWER_BOOTING);
	CU_ASSERT_EQUAL(hal_power_next(&p, &at), HAL_POWER_BOOTED);
	CU_ASSERT_EQUAL(at, 13 * S);
	/* A late engine still gets the events in order. */
	CU_ASSERT_EQUAL(hal_power_take(&p, 40 * S), HAL_POWER_BOOTED);
	CU_ASSERT_EQUAL(hal_power_state(&p, 13 * S), HAL_POWER_ON);
	CU_ASSERT_EQUAL(hal_power_take(&p, 40 * S), HAL_POWER_REBOOT);
	CU_ASSERT_EQUAL(hal_power_next(&p, &at), HAL_POWER_BOOTED);
	CU_ASSERT_EQUAL(at, 33 * S);
	CU_ASSERT_EQUAL(hal_power_take(&p, 40 * S), HAL_POWER_BOOTED);
	CU_ASSERT_EQUAL(hal_power_take(&p, 40 * S), HAL_POWER_NONE);
	CU_ASSERT_EQUAL(hal_power_next(&p, &at), HAL_POWER_NONE);
	hal_power_fini(&p);
}

/* Takes every event up to end and measures the mean time between
 * reboots and between crashes. */
static void
test_mtbf(void)
{
	struct hal_power_config c = { .reboot_mtbf = 600 * S, .crash_mtbf = 1800 * S,
	    .boot_time = 20 * S };
	struct hal_power p, q;
	uint64_t at, end = 20000000 * S, booting = 0, last_down = 0, t_q;
	int reboots = 0, crashes = 0, booted = 0, same = 1;
	enum hal_power_event ev;

	CU_ASSERT_EQUAL_FATAL(hal_power_init(&p, &c, 3, "g", 5, 0), HAL_OK);
	CU_ASSERT_EQUAL_FATAL(hal_power_init(&q, &c, 3, "g", 5, 0), HAL_OK);
	t_q = 0;
	while ((ev = hal_power_next(&p, &at)) != HAL_POWER_NONE && at < end) {
		CU_ASSERT_EQUAL_FATAL(hal_power_take(&p, at), ev);
		if (ev == HAL_POWER_REBOOT || ev == HAL_POWER_CRASH) {
			reboots += ev == HAL_POWER_REBOOT;
			crashes += ev == HAL_POWER_CRASH;
			CU_ASSERT_EQUAL(hal_power_state(&p, at), HAL_POWER_BOOTING);
			last_down = at;
		} else if (ev == HAL_POWER_BOOTED) {
			booted++;
			booting += at - last_down;
		}
		/* A twin that is asked rarely, in big steps, sees the same
		 * events. */
		if (at >= t_q + 100000 * S) {
			uint64_t a1, a2;

			t_q = at;
			while (hal_power_take(&q, t_q) != HAL_POWER_NONE)
				continue;
			same &= hal_power_next(&q, &a1) == hal_power_next(&p, &a2) && a1 == a2;
		}
	}
	CU_ASSERT(same);
	CU_ASSERT(fabs((double)end / reboots / S - 600) < 600 * 0.03);
	CU_ASSERT(fabs((double)end / crashes / S - 1800) < 1800 * 0.04);
	/* A reboot or crash during a boot starts the boot over. */
	CU_ASSERT(booted > 0 && booted <= reboots + crashes);
	CU_ASSERT((double)booting / booted <= 20.0 * S);
	CU_ASSERT((double)booting / booted > 19.0 * S);

	/* Other devices reboot at other times. */
	hal_power_init(&p, &c, 3, "g", 5, 0);
	hal_power_init(&q, &c, 3, "g", 6, 0);
	hal_power_next(&p, &at);
	hal_power_next(&q, &t_q);
	CU_ASSERT_NOT_EQUAL(at, t_q);
}

/* A crash as the engine handles it: the connection is dropped, RAM is
 * reset, and flash keeps what was written before, but not what was
 * still being written. */
static void
test_crash_keeps_flash(void)
{
	struct hal_power_config pc = { .crash_mtbf = 3600 * S, .boot_time = 2 * S };
	struct hal_flash_config fc = { .capacity = 256, .write_latency = 50 * MS };
	struct hal_power p;
	struct hal_flash f;
	uint64_t at, done;
	const void *v;
	size_t n;
	int ram_counter = 7;

	CU_ASSERT_EQUAL_FATAL(hal_power_init(&p, &pc, 8, "locks", 2, 0), HAL_OK);
	CU_ASSERT_EQUAL_FATAL(hal_flash_init(&f, &fc, 8, "locks", 2), HAL_OK);
	CU_ASSERT_EQUAL(hal_power_next(&p, &at), HAL_POWER_CRASH);
	CU_ASSERT_FATAL(at > 1 * S && at != HAL_POWER_NEVER);
	CU_ASSERT_EQUAL(hal_flash_put(&f, at - 1 * S, "state", "locked", 6, &done), HAL_OK);
	CU_ASSERT_EQUAL(hal_flash_put(&f, at - 10 * MS, "pending", "x", 1, &done), HAL_OK);
	CU_ASSERT(done > at);
	CU_ASSERT_EQUAL(hal_power_take(&p, at), HAL_POWER_CRASH);
	ram_counter = 0;
	hal_flash_reboot(&f, at);
	CU_ASSERT_EQUAL(hal_power_state(&p, at + 1 * S), HAL_POWER_BOOTING);
	CU_ASSERT_EQUAL(hal_power_take(&p, at + 2 * S), HAL_POWER_BOOTED);
	CU_ASSERT_EQUAL(ram_counter, 0);
	CU_ASSERT_EQUAL(hal_flash_get(&f, "state", &v, &n), HAL_OK);
	CU_ASSERT(n == 6 && memcmp(v, "locked", 6) == 0);
	CU_ASSERT_EQUAL(hal_flash_get(&f, "pending", &v, &n), HAL_ERR_NOTFOUND);
	hal_flash_fini(&f);
	hal_power_fini(&p);
}

static void
test_config_and_size(void)
{
	static const uint64_t unsorted[] = { 5, 3 };
	struct hal_power_config c = { .cutoff_pct = 100 };
	struct hal_power p;
	uint64_t at;

	CU_ASSERT_EQUAL(hal_power_config_check(&c), HAL_ERR_INVAL);
	c.cutoff_pct = 5;
	CU_ASSERT_EQUAL(hal_power_config_check(&c), HAL_OK);
	c.drain_w = -1;
	CU_ASSERT_EQUAL(hal_power_config_check(&c), HAL_ERR_INVAL);
	c.drain_w = 0;
	c.reboot_at = unsorted;
	c.n_reboot_at = 2;
	CU_ASSERT_EQUAL(hal_power_config_check(&c), HAL_ERR_INVAL);
	/* A failed init leaves a device that is safe to use: dark. */
	CU_ASSERT_EQUAL(hal_power_init(&p, &c, 1, "g", 0, 0), HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(hal_power_state(&p, 0), HAL_POWER_DEAD);
	CU_ASSERT_EQUAL(hal_power_next(&p, &at), HAL_POWER_NONE);
	CU_ASSERT_EQUAL(hal_power_take(&p, 100), HAL_POWER_NONE);
	hal_power_note_tx(&p, 0, 100);
	hal_power_fini(&p);
	/* The per-device budget for link and power together. */
	CU_ASSERT(sizeof(struct hal_power) <= 64);
	CU_ASSERT(sizeof(struct hal_power) + sizeof(struct hal_link) <= 160);
}

/* A crash forced from outside boots like the model's own. */
static void
test_forced_crash(void)
{
	struct hal_power_config c = { .boot_time = 50 };
	struct hal_power p;
	uint64_t at;

	CU_ASSERT_EQUAL_FATAL(hal_power_init(&p, &c, 1, "g", 0, 0), HAL_OK);
	CU_ASSERT_TRUE(hal_power_crash(&p, 100));
	CU_ASSERT_EQUAL(hal_power_state(&p, 120), HAL_POWER_BOOTING);
	/* Already booting: a second crash changes nothing. */
	CU_ASSERT_FALSE(hal_power_crash(&p, 120));
	CU_ASSERT_EQUAL(hal_power_next(&p, &at), HAL_POWER_BOOTED);
	CU_ASSERT_EQUAL(at, 150);
	CU_ASSERT_EQUAL(hal_power_take(&p, 149), HAL_POWER_NONE);
	CU_ASSERT_EQUAL(hal_power_take(&p, 150), HAL_POWER_BOOTED);
	CU_ASSERT_EQUAL(hal_power_state(&p, 150), HAL_POWER_ON);
	CU_ASSERT_TRUE(hal_power_crash(&p, 200));
	hal_power_fini(&p);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "drain and cutoff", test_drain },
		{ "reboot schedule and boot time", test_reboot_schedule },
		{ "reboot and crash mtbf", test_mtbf },
		{ "crash keeps flash", test_crash_keeps_flash },
		{ "config and size", test_config_and_size },
		{ "forced crash", test_forced_crash },
		{ NULL, NULL },
	};

	return fs_test_main("hal_power", tests);
}
