/* SIGINT ends a run early: sending stops at once, what is in flight drains,
 * and the report is written and marked partial. */
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "broker.h"
#include "harness.h"

#define DRAIN_S 5

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_sigint_drains_and_reports(void)
{
	struct sim_broker *b = NULL;
	struct sim_broker_opts bo = { 0 };
	struct sim_diag d = { "" };
	const char *dir = th_tmpdir();
	char scen[512], text[1024];
	const struct rpt_json *partial;
	struct rpt_json *r;
	double t_sig, took;
	int pid, rc;

	CU_ASSERT_FATAL(dir != NULL);
	CU_ASSERT_FATAL(sim_broker_start(&bo, &b, &d) == SIM_OK);
	snprintf(text, sizeof(text),
	    "name: interrupted\n"
	    "duration: 60s\n"
	    "drain: %ds\n"
	    "fleet:\n"
	    "  - group: s\n"
	    "    count: 100\n"
	    "    connect: { ramp: 500ms }\n"
	    "    telemetry: { every: 100ms, qos: 1 }\n", DRAIN_S);
	snprintf(scen, sizeof(scen), "%s", th_write(dir, "long.yaml", text));
	const char *argv[] = { "run", scen, "--broker", sim_broker_url(b), "--report-dir", dir,
		"--quiet", NULL };

	pid = th_fleetsim_spawn(dir, argv);
	CU_ASSERT_FATAL(pid > 0);
	sleep_ms(3000);
	t_sig = now_s();
	CU_ASSERT_EQUAL(kill(pid, SIGINT), 0);
	/* The drain, the final disconnects (up to 3 s) and some slack; a run
	 * that ignored the signal would take the full minute. */
	rc = th_wait(pid, DRAIN_S + 3 + 4);
	took = now_s() - t_sig;
	fprintf(stderr, "\n  fleetsim ended %.2f s after SIGINT with %d\n", took, rc);
	CU_ASSERT(rc == 0 || rc == 1);
	CU_ASSERT(took < DRAIN_S + 3 + 4);
	if (rc != 0)
		fprintf(stderr, "--- fleetsim exited %d; its output:\n%s\n---\n", rc, th_output(dir));

	r = th_report(dir);
	if (r != NULL) {
		double sent = th_num(r, "patterns.telemetry.sent");

		partial = rpt_json_path(r, "partial");
		CU_ASSERT_PTR_NOT_NULL(partial);
		CU_ASSERT_EQUAL(rpt_json_type(partial), RPT_JSON_BOOL);
		CU_ASSERT_TRUE(rpt_json_truthy(partial));
		/* About 2.5 s of 1,000 messages per second went out before
		 * the signal; none after it (60 s would be 60,000). */
		CU_ASSERT(sent > 1000);
		CU_ASSERT(sent < 6000);
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.received"), sent);
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.lost"), 0);
		CU_ASSERT(th_num(r, "duration_s") < 15);
		fprintf(stderr, "  sent %g, received %g, duration_s %g\n", sent,
		    th_num(r, "patterns.telemetry.received"), th_num(r, "duration_s"));
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "SIGINT: drained, partial report", test_sigint_drains_and_reports },
		{ NULL, NULL },
	};

	return th_main("signal", tests);
}
