#include <string.h>

#include <CUnit/Basic.h>

#include "fs_test.h"
#include "report.h"

static const char base[] =
    "name: r\n"
    "duration: 1s\n"
    "fleet:\n"
    "  - group: a\n"
    "    count: 2\n"
    "    mqtt: { clean_session: CLEAN }\n"
    "    telemetry: { every: 1s, qos: QOS }\n"
    "  - group: b\n"
    "    count: 1\n"
    "    telemetry: { every: 1s, qos: 0 }\n";

/* Group a's clean_session. */
static bool clean;

static void
load(const char *extra, int qos, struct sim_scenario *sc, struct sim_diag *d, enum sim_err want)
{
	char text[2048], *q;

	snprintf(text, sizeof(text), "%s%s", base, extra);
	q = strstr(text, "QOS");
	q[0] = (char)('0' + qos);
	memmove(q + 1, q + 3, strlen(q + 3) + 1);
	q = strstr(text, "CLEAN");
	memcpy(q, clean ? "true " : "false", 5);
	memset(sc, 0, sizeof(*sc));
	CU_ASSERT_EQUAL_FATAL(sim_scenario_load_string(text, strlen(text), "r.yaml", NULL, sc, d), SIM_OK);
	CU_ASSERT_EQUAL(sim_report_check_paths(sc, d), want);
}

static void
test_paths(void)
{
	struct sim_scenario sc;
	struct sim_diag d;

	load("assert:\n  - patterns.telemetry.lost == 0\n  - devices.connect_ms.p99 < 1s\n"
	    "  - patterns.telemetry.by_group.b.lost < 5\n", 1, &sc, &d, SIM_OK);
	sim_scenario_fini(&sc);
	load("assert:\n  - patterns.telemetry.lost == 0\n  - patterns.telemetry.lots == 0\n",
	    1, &sc, &d, SIM_ERR_SCENARIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "r.yaml:13:5: unknown path 'patterns.telemetry.lots'"));
	sim_scenario_fini(&sc);
	load("assert:\n  - patterns.telemetry.latency_ms > 0\n", 1, &sc, &d, SIM_ERR_SCENARIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "r.yaml:12:5: not a number"));
	sim_scenario_fini(&sc);
	/* A group that does not exist has no report path either. */
	load("assert:\n  - patterns.telemetry.by_group.c.lost == 0\n", 1, &sc, &d, SIM_ERR_SCENARIO);
	sim_scenario_fini(&sc);
}

/* Devices 0-1 are group a, device 2 group b; each sends 3, and whatever
 * arrives is listed in got. */
static struct sim_tm_checker *
traffic(const int got[3])
{
	struct sim_tm_checker *c;

	CU_ASSERT_FATAL(sim_tm_checker_new(3, 9, &c) == SIM_OK);
	for (uint32_t dev = 0; dev < 3; dev++) {
		for (int k = 0; k < 3; k++) {
			struct sim_tm_hdr h = { .run_id = 9, .device = dev, .intended_ns = 100 };
			uint8_t buf[SIM_TELEMETRY_MIN_SIZE];

			h.seq = sim_tm_next_seq(c, dev);
			sim_tm_encode(buf, &h);
			if (k < got[dev])
				sim_tm_check(c, buf, sizeof(buf), 2000100);
		}
	}
	return c;
}

static const struct rpt_json *
check_named(const struct rpt_json *r, const char *name)
{
	const struct rpt_json *arr = rpt_json_get(r, "checks");

	for (size_t i = 0; i < rpt_json_len(arr); i++)
		if (strcmp(rpt_json_str(rpt_json_get(rpt_json_at(arr, i), "name")), name) == 0)
			return rpt_json_at(arr, i);
	return NULL;
}

static void
judge(int qos, const int got[3], const char *extra, bool want_pass, struct rpt_json **out)
{
	struct sim_scenario sc;
	struct sim_diag d;
	struct sim_tm_checker *c;
	struct sim_report_in in;
	struct rpt_json *r;
	bool pass = !want_pass;

	load(extra, qos, &sc, &d, SIM_OK);
	c = traffic(got);
	in = (struct sim_report_in){ .sc = &sc, .chk = c, .duration_s = 3, .broker_url = "mqtt://x" };
	r = sim_report_build(&in);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(sim_report_judge(r, &sc, &pass), SIM_OK);
	CU_ASSERT_EQUAL(pass, want_pass);
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(r, "verdict")), want_pass ? "pass" : "fail");
	sim_tm_checker_free(c);
	sim_scenario_fini(&sc);
	*out = r;
}

static void
test_judge(void)
{
	static const int all[3] = { 3, 3, 3 }, qos0_lost[3] = { 3, 3, 1 }, qos1_lost[3] = { 3, 2, 3 };
	struct rpt_json *r;

	judge(1, all, "", true, &r);
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_path(r, "patterns.telemetry.sent")), 9);
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_path(r, "patterns.telemetry.latency_ms.p50")), 2);
	CU_ASSERT_TRUE(rpt_json_truthy(rpt_json_get(check_named(r, "telemetry.no_loss_qos1_qos2"), "pass")));
	rpt_json_free(r);

	/* QoS 0 loss is reported, not a failure by itself... */
	judge(1, qos0_lost, "", true, &r);
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_path(r, "patterns.telemetry.lost")), 2);
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_path(r, "patterns.telemetry.by_group.b.lost")), 2);
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_path(r, "patterns.telemetry.by_group.a.lost")), 0);
	rpt_json_free(r);
	/* ...unless an assertion says so. */
	judge(1, qos0_lost, "assert:\n  - patterns.telemetry.lost == 0\n", false, &r);
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_path(r, "assertions.0.actual")), 2);
	CU_ASSERT_FALSE(rpt_json_truthy(rpt_json_path(r, "assertions.0.pass")));
	rpt_json_free(r);

	/* QoS 1 loss fails the built-in check whatever the assertions say. */
	judge(1, qos1_lost, "", false, &r);
	CU_ASSERT_FALSE(rpt_json_truthy(rpt_json_get(check_named(r, "telemetry.no_loss_qos1_qos2"), "pass")));
	rpt_json_free(r);
	/* And QoS 2 groups with persistent sessions also get the
	 * exactly-once check (a clean session restarts QoS 2 exchanges). */
	judge(2, all, "", true, &r);
	CU_ASSERT_PTR_NOT_NULL(check_named(r, "telemetry.exactly_once_qos2"));
	rpt_json_free(r);
	clean = true;
	judge(2, all, "", true, &r);
	CU_ASSERT_PTR_NULL(check_named(r, "telemetry.exactly_once_qos2"));
	rpt_json_free(r);
	clean = false;
	judge(0, qos1_lost, "", true, &r);
	CU_ASSERT_PTR_NULL(check_named(r, "telemetry.no_loss_qos1_qos2"));
	rpt_json_free(r);
}

/* Order is checked on unbroken connections to one consumer only. */
static void
test_order(void)
{
	struct sim_scenario sc;
	struct sim_diag d;
	struct sim_tm_checker *c;
	struct sim_report_in in;
	struct rpt_json *r;
	bool pass;

	for (int swap = 0; swap < 2; swap++) {
		load("", 1, &sc, &d, SIM_OK);
		CU_ASSERT_FATAL(sim_tm_checker_new(3, 9, &c) == SIM_OK);
		/* Device 0 sends seq 0 and 1; they arrive in order, or swapped. */
		sim_tm_next_seq(c, 0);
		sim_tm_next_seq(c, 0);
		{
			struct sim_tm_hdr h0 = { .run_id = 9, .device = 0, .seq = 0, .intended_ns = 100 };
			struct sim_tm_hdr h1 = { .run_id = 9, .device = 0, .seq = 1, .intended_ns = 100 };
			uint8_t b0[SIM_TELEMETRY_MIN_SIZE], b1[SIM_TELEMETRY_MIN_SIZE];

			sim_tm_encode(b0, &h0);
			sim_tm_encode(b1, &h1);
			sim_tm_check(c, swap ? b1 : b0, sizeof(b0), 1000);
			sim_tm_check(c, swap ? b0 : b1, sizeof(b0), 1000);
		}
		in = (struct sim_report_in){ .sc = &sc, .chk = c, .duration_s = 1, .broker_url = "x",
			.consumer_connections = 1 };
		r = sim_report_build(&in);
		CU_ASSERT_FATAL(r != NULL);
		CU_ASSERT_EQUAL(sim_report_judge(r, &sc, &pass), SIM_OK);
		CU_ASSERT_PTR_NOT_NULL(check_named(r, "telemetry.in_order"));
		CU_ASSERT_EQUAL(rpt_json_truthy(rpt_json_get(check_named(r, "telemetry.in_order"), "pass")),
		    !swap);
		rpt_json_free(r);
		/* With two consumer connections the broker may interleave. */
		in.consumer_connections = 2;
		r = sim_report_build(&in);
		CU_ASSERT_EQUAL(sim_report_judge(r, &sc, &pass), SIM_OK);
		CU_ASSERT_PTR_NULL(check_named(r, "telemetry.in_order"));
		rpt_json_free(r);
		sim_tm_checker_free(c);
		sim_scenario_fini(&sc);
	}
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "assertion paths checked against the skeleton", test_paths },
		{ "built-in checks and assertions", test_judge },
		{ "order checked on unbroken connections", test_order },
		{ NULL, NULL },
	};

	return fs_test_main("report", tests);
}
