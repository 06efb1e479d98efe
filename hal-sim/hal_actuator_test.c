#include <math.h>

#include <CUnit/Basic.h>

#include "fs_test.h"

#include "hal_actuator.h"

#define S 1000000000ull

static void
test_switch(void)
{
	struct hal_actuator_config c = { .kind = HAL_ACTUATOR_SWITCH, .gain = 1500 };
	struct hal_actuator a;
	struct hal_actuator_result r;

	CU_ASSERT_EQUAL_FATAL(hal_actuator_init(&a, &c, 1, "g", 0, "heater", 0), HAL_OK);
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_output(&a, 5 * S), 0, 1e-12);
	CU_ASSERT_EQUAL(hal_actuator_set(&a, 10 * S, 1, &r), HAL_OK);
	CU_ASSERT_EQUAL(r.done, 10 * S);
	CU_ASSERT_FALSE(r.jammed);
	/* Without a time constant the output follows at once. */
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_output(&a, 10 * S), 1, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_effect(&a, 11 * S), 1500, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_value(&a), 1, 1e-12);
	CU_ASSERT_EQUAL(hal_actuator_set(&a, 12 * S, 0.5, &r), HAL_ERR_RANGE);
	CU_ASSERT_EQUAL(hal_actuator_set(&a, 12 * S, NAN, NULL), HAL_ERR_INVAL);
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_value(&a), 1, 1e-12);
	CU_ASSERT_EQUAL(hal_actuator_set(&a, 13 * S, 0, NULL), HAL_OK);
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_effect(&a, 13 * S), 0, 1e-12);

	/* With one, a switched heater warms the room gradually. */
	c.tau = 60 * S;
	hal_actuator_init(&a, &c, 1, "g", 0, "heater", 0);
	hal_actuator_set(&a, 0, 1, NULL);
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_output(&a, 60 * S), 1 - exp(-1), 1e-9);
	hal_actuator_fini(&a);
}

/* A thermostat: the room sits at 20 degrees; a setpoint of 22 moves it
 * by 2 degrees with a time constant of 10 minutes. */
static void
test_setpoint(void)
{
	const uint64_t tau = 600 * S;
	struct hal_actuator_config c = { .kind = HAL_ACTUATOR_SETPOINT, .sensor = "temp",
	    .initial = 20, .tau = tau, .gain = 1, .offset = 20, .min = 5, .max = 30 };
	struct hal_actuator a;
	struct hal_actuator_result r;
	const uint64_t t0 = 1000 * S;
	double mid;

	CU_ASSERT_EQUAL_FATAL(hal_actuator_init(&a, &c, 1, "rooms", 3, "setpoint", 0), HAL_OK);
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_effect(&a, t0), 0, 1e-12);
	CU_ASSERT_EQUAL(hal_actuator_set(&a, t0, 22, &r), HAL_OK);
	CU_ASSERT_EQUAL(r.done, t0);
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_value(&a), 22, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_output(&a, t0), 20, 1e-12);
	/* 63 % of the step after one tau, all of it after five. */
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_effect(&a, t0 + tau) / 2, 0.632, 0.001);
	CU_ASSERT(hal_actuator_effect(&a, t0 + 5 * tau) / 2 > 0.99);
	CU_ASSERT(hal_actuator_effect(&a, t0 + 5 * tau) / 2 <= 1);
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_output(&a, t0 + 20 * tau), 22, 1e-6);
	/* The output only moves toward the target, never past it. */
	for (uint64_t t = t0; t < t0 + 3 * tau; t += tau / 10) {
		CU_ASSERT(hal_actuator_output(&a, t + tau / 10) >= hal_actuator_output(&a, t));
		CU_ASSERT(hal_actuator_output(&a, t) <= 22);
	}

	/* A new setpoint mid-response starts from where the output is. */
	hal_actuator_init(&a, &c, 1, "rooms", 3, "setpoint", 0);
	hal_actuator_set(&a, t0, 22, NULL);
	mid = hal_actuator_output(&a, t0 + tau);
	CU_ASSERT_EQUAL(hal_actuator_set(&a, t0 + tau, 18, NULL), HAL_OK);
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_output(&a, t0 + tau), mid, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_output(&a, t0 + 2 * tau), 18 + (mid - 18) * exp(-1),
	    1e-9);
	/* Out of its range: refused, nothing changes. */
	CU_ASSERT_EQUAL(hal_actuator_set(&a, t0 + 2 * tau, 35, NULL), HAL_ERR_RANGE);
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_value(&a), 18, 1e-12);
	hal_actuator_fini(&a);
}

static void
test_position_travel(void)
{
	struct hal_actuator_config c = { .kind = HAL_ACTUATOR_POSITION, .min = 0, .max = 100,
	    .travel_time = 10 * S };
	struct hal_actuator a;
	struct hal_actuator_result r;

	CU_ASSERT_EQUAL_FATAL(hal_actuator_init(&a, &c, 1, "valves", 0, "valve", 0), HAL_OK);
	CU_ASSERT_EQUAL(hal_actuator_set(&a, 1 * S, 100, &r), HAL_OK);
	CU_ASSERT_EQUAL(r.done, 11 * S);
	CU_ASSERT_DOUBLE_EQUAL(r.value, 100, 1e-12);
	CU_ASSERT_FALSE(r.jammed);
	CU_ASSERT(hal_actuator_moving(&a, 6 * S));
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_output(&a, 6 * S), 50, 1e-9);
	CU_ASSERT_FALSE(hal_actuator_moving(&a, 11 * S));
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_output(&a, 11 * S), 100, 1e-12);
	/* A quarter stroke takes a quarter of the time. */
	CU_ASSERT_EQUAL(hal_actuator_set(&a, 20 * S, 75, &r), HAL_OK);
	CU_ASSERT_EQUAL(r.done, 22500000000ull);
	/* Reversed mid-move, it goes back from where it is. */
	CU_ASSERT_EQUAL(hal_actuator_set(&a, 21 * S, 100, &r), HAL_OK);
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_output(&a, 21 * S), 90, 1e-9);
	CU_ASSERT_EQUAL(r.done, 22 * S);
	/* Already there: done at once. */
	CU_ASSERT_EQUAL(hal_actuator_set(&a, 30 * S, 100, &r), HAL_OK);
	CU_ASSERT_EQUAL(r.done, 30 * S);
	CU_ASSERT_EQUAL(hal_actuator_set(&a, 31 * S, 101, &r), HAL_ERR_RANGE);
	CU_ASSERT_EQUAL(hal_actuator_set(&a, 31 * S, -1, &r), HAL_ERR_RANGE);
	hal_actuator_fini(&a);
}

/* A lock that jams on 5 % of its moves. */
static void
test_jam_rate(void)
{
	enum { N = 20000 };
	struct hal_actuator_config c = { .kind = HAL_ACTUATOR_POSITION, .min = 0, .max = 1,
	    .travel_time = 2 * S, .jam_p = 0.05 };
	struct hal_actuator a, b;
	struct hal_actuator_result r, rb;
	uint64_t t = 0;
	int jams = 0, same = 1;
	double shortfall = 0;

	CU_ASSERT_EQUAL_FATAL(hal_actuator_init(&a, &c, 9, "doors", 4, "lock", 0), HAL_OK);
	CU_ASSERT_EQUAL_FATAL(hal_actuator_init(&b, &c, 9, "doors", 4, "lock", 0), HAL_OK);
	for (int i = 0; i < N; i++) {
		double target = hal_actuator_output(&a, t) < 0.5 ? 1 : 0;
		double start = hal_actuator_output(&a, t);

		CU_ASSERT_EQUAL_FATAL(hal_actuator_set(&a, t, target, &r), HAL_OK);
		hal_actuator_set(&b, t, target, &rb);
		same &= r.done == rb.done && r.value == rb.value;
		if (r.jammed) {
			jams++;
			/* Stopped short, and sooner than a full move. */
			CU_ASSERT(fabs(r.value - start) < fabs(target - start));
			CU_ASSERT(r.done < t + (uint64_t)(fabs(target - start) * 2 * S) + 1);
			CU_ASSERT(hal_actuator_jammed(&a));
			shortfall += fabs(target - r.value) / fabs(target - start);
		} else {
			CU_ASSERT_DOUBLE_EQUAL(r.value, target, 1e-12);
		}
		CU_ASSERT_DOUBLE_EQUAL(hal_actuator_output(&a, r.done), r.value, 1e-9);
		t = r.done + 1 * S;
	}
	CU_ASSERT(same);
	CU_ASSERT(fabs((double)jams / N - 0.05) < 0.006);
	/* Jams stop uniformly along the way: half the move is missing on
	 * average. */
	CU_ASSERT(fabs(shortfall / jams - 0.5) < 0.05);
}

static void
test_config(void)
{
	struct hal_actuator_config c = { .kind = HAL_ACTUATOR_SWITCH, .initial = 2 };
	struct hal_actuator a;

	CU_ASSERT_EQUAL(hal_actuator_config_check(&c), HAL_ERR_INVAL);
	c = (struct hal_actuator_config){ .kind = HAL_ACTUATOR_POSITION, .max = 1, .jam_p = 2 };
	CU_ASSERT_EQUAL(hal_actuator_config_check(&c), HAL_ERR_INVAL);
	c.jam_p = 0.1;
	CU_ASSERT_EQUAL(hal_actuator_config_check(&c), HAL_OK);
	c.kind = 9;
	CU_ASSERT_EQUAL(hal_actuator_init(&a, &c, 1, "g", 0, "x", 0), HAL_ERR_INVAL);
	/* Safe after a failed init. */
	CU_ASSERT_EQUAL(hal_actuator_set(&a, 0, 1, NULL), HAL_ERR_INVAL);
	CU_ASSERT_DOUBLE_EQUAL(hal_actuator_effect(&a, 0), 0, 1e-12);
	CU_ASSERT_FALSE(hal_actuator_moving(&a, 0));
	hal_actuator_fini(&a);
	/* A setpoint without limits takes any finite value. */
	c = (struct hal_actuator_config){ .kind = HAL_ACTUATOR_SETPOINT };
	hal_actuator_init(&a, &c, 1, "g", 0, "x", 0);
	CU_ASSERT_EQUAL(hal_actuator_set(&a, 0, -1e6, NULL), HAL_OK);
	CU_ASSERT_EQUAL(hal_actuator_set(&a, 0, INFINITY, NULL), HAL_ERR_RANGE);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "switch", test_switch },
		{ "setpoint first-order response", test_setpoint },
		{ "position travel", test_position_travel },
		{ "jam rate", test_jam_rate },
		{ "config", test_config },
		{ NULL, NULL },
	};

	return fs_test_main("hal_actuator", tests);
}
