/* 200 devices at each QoS level against a real Mosquitto: nothing lost,
 * nothing duplicated, and the report's counts add up. */
#include <math.h>
#include <stdio.h>

#include <CUnit/Basic.h>

#include "broker.h"
#include "harness.h"

static void
test_qos_0_1_2(void)
{
	struct sim_broker *b = NULL;
	struct sim_broker_opts bo = { 0 };
	struct sim_diag d;
	const char *dir = th_tmpdir();
	struct rpt_json *r;
	const char *groups[] = { "q0", "q1", "q2" };

	CU_ASSERT_FATAL(dir != NULL);
	CU_ASSERT_FATAL(sim_broker_start(&bo, &b, &d) == SIM_OK);
	const char *scen = th_write(dir, "qos.yaml",
	    "name: qos-levels\n"
	    "duration: 5s\n"
	    "drain: 5s\n"
	    "fleet:\n"
	    "  - group: q0\n"
	    "    count: 200\n"
	    "    connect: { ramp: 1s }\n"
	    "    telemetry: { every: 500ms, qos: 0, size: 100 }\n"
	    "  - group: q1\n"
	    "    count: 200\n"
	    "    mqtt: { version: \"5\" }\n"
	    "    connect: { ramp: 1s }\n"
	    "    telemetry: { every: 500ms, qos: 1, size: 200, topic: \"q1/{id}/t\" }\n"
	    "  - group: q2\n"
	    "    count: 200\n"
	    "    connect: { ramp: 1s }\n"
	    "    telemetry: { every: 500ms, qos: 2, size: 64, topic: \"q2/{group}/{n}\" }\n"
	    "assert:\n"
	    "  - patterns.telemetry.lost == 0\n"
	    "  - patterns.telemetry.duplicates == 0\n");
	char scen_path[512];
	snprintf(scen_path, sizeof(scen_path), "%s", scen);
	const char *argv[] = { "run", scen_path, "--broker", sim_broker_url(b), "--report-dir", dir,
		"--quiet", NULL };

	CU_ASSERT_EQUAL(th_fleetsim(dir, 120, argv), 0);
	r = th_report(dir);
	if (r != NULL) {
		CU_ASSERT_EQUAL(th_num(r, "devices.planned"), 600);
		CU_ASSERT_EQUAL(th_num(r, "devices.connected"), 600);
		/* 200 devices x 10 sends (5 s at 500 ms) per group. */
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.sent"), 6000);
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.received"), 6000);
		for (int i = 0; i < 3; i++) {
			char p[128];

			snprintf(p, sizeof(p), "patterns.telemetry.by_group.%s.sent", groups[i]);
			CU_ASSERT_EQUAL(th_num(r, p), 2000);
			snprintf(p, sizeof(p), "patterns.telemetry.by_group.%s.lost", groups[i]);
			CU_ASSERT_EQUAL(th_num(r, p), 0);
			snprintf(p, sizeof(p), "patterns.telemetry.by_group.%s.duplicates", groups[i]);
			CU_ASSERT_EQUAL(th_num(r, p), 0);
		}
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.latency_ms.count"), 6000);
		CU_ASSERT(th_num(r, "patterns.telemetry.latency_ms.p50") > 0);
		CU_ASSERT(th_num(r, "patterns.telemetry.latency_ms.p50") <=
		    th_num(r, "patterns.telemetry.latency_ms.p99"));
		CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_path(r, "verdict")), "pass");
		/* The per-second series adds up to the totals. */
		{
			const struct rpt_json *rows = rpt_json_path(r, "timeseries.telemetry.rows");
			double sent = 0, received = 0;

			CU_ASSERT(rpt_json_len(rows) >= 5);
			for (size_t i = 0; i < rpt_json_len(rows); i++) {
				sent += rpt_json_num(rpt_json_at(rpt_json_at(rows, i), 1));
				received += rpt_json_num(rpt_json_at(rpt_json_at(rows, i), 2));
			}
			CU_ASSERT_EQUAL(sent, 6000);
			CU_ASSERT_EQUAL(received, 6000);
			CU_ASSERT_EQUAL(th_sh("head -1 '%s/timeseries.csv' | grep -q '^pattern,t,sent,received,'",
			    dir), 0);
			CU_ASSERT_EQUAL(th_sh("test $(wc -l < '%s/timeseries.csv') -eq %zu", dir,
			    rpt_json_len(rows) + 1), 0);
		}
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "200 devices at QoS 0, 1 and 2: no loss, no duplicates", test_qos_0_1_2 },
		{ NULL, NULL },
	};

	return th_main("run_qos", tests);
}
