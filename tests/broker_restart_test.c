/* The broker goes away mid-run and comes back with its persisted state:
 * devices with persistent sessions (MQTT 3.1.1 and 5) queue their QoS 1
 * telemetry, reconnect and resend, the consumer resumes its session, and in
 * the end every message sent has arrived. */
#include <stdio.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "broker.h"
#include "harness.h"

/* Per group; 12 s at 200 ms is 60 messages per device. */
#define DEVICES 100
#define PER_DEVICE 60

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
test_restart_mid_run(void)
{
	struct sim_broker *b = NULL;
	struct sim_broker_opts bo = { .persistence = true };
	struct sim_diag d = { "" };
	const char *dir = th_tmpdir();
	char scen[512], text[2048];
	struct rpt_json *r;
	int pid, bpid, rc;

	CU_ASSERT_FATAL(dir != NULL);
	CU_ASSERT_FATAL(sim_broker_start(&bo, &b, &d) == SIM_OK);
	snprintf(text, sizeof(text),
	    "name: broker-restart\n"
	    "duration: 12s\n"
	    /* Long enough for the slowest device's backoff to end and its
	     * queue to flush; the drain ends early once all has arrived. */
	    "drain: 15s\n"
	    "fleet:\n"
	    "  - group: v311\n"
	    "    count: %d\n"
	    "    mqtt: { version: \"3.1.1\", clean_session: false }\n"
	    "    connect: { ramp: 1s }\n"
	    "    telemetry: { every: 200ms, qos: 1 }\n"
	    "  - group: v5\n"
	    "    count: %d\n"
	    "    mqtt: { version: \"5\", clean_session: false }\n"
	    "    connect: { ramp: 1s }\n"
	    "    telemetry: { every: 200ms, qos: 1 }\n",
	    DEVICES, DEVICES);
	snprintf(scen, sizeof(scen), "%s", th_write(dir, "restart.yaml", text));
	const char *argv[] = { "run", scen, "--broker", sim_broker_url(b), "--report-dir", dir,
		"--quiet", NULL };

	pid = th_fleetsim_spawn(dir, argv);
	CU_ASSERT_FATAL(pid > 0);
	/* Well into sending: the ramp ends after about 1 s. */
	sleep_ms(4000);
	bpid = sim_broker_pid(b);
	CU_ASSERT_EQUAL(sim_broker_stop(b), SIM_OK);
	sleep_ms(1000);
	CU_ASSERT_EQUAL(sim_broker_restart(b, &d), SIM_OK);
	CU_ASSERT(sim_broker_pid(b) > 0 && sim_broker_pid(b) != bpid);

	/* 1 s ramp + 12 s + at most 15 s drain + 3 s close, with margin. */
	rc = th_wait(pid, 50);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0)
		fprintf(stderr, "--- fleetsim exited %d; its output:\n%s\n---\n", rc, th_output(dir));
	r = th_report(dir);
	if (r != NULL) {
		CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_path(r, "verdict")), "pass");
		CU_ASSERT_EQUAL(th_num(r, "devices.connected"), 2 * DEVICES);
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.sent"), 2 * DEVICES * PER_DEVICE);
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.received"), 2 * DEVICES * PER_DEVICE);
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.lost"), 0);
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.dropped"), 0);
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.by_group.v311.sent"), DEVICES * PER_DEVICE);
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.by_group.v311.lost"), 0);
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.by_group.v5.sent"), DEVICES * PER_DEVICE);
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.by_group.v5.lost"), 0);
		/* Every device was up when the broker stopped, so each one lost
		 * its connection and came back at least once. */
		CU_ASSERT(th_num(r, "devices.disconnects") >= 2 * DEVICES);
		CU_ASSERT(th_num(r, "devices.reconnects") >= 2 * DEVICES);
		CU_ASSERT(th_num(r, "broker.consumer_reconnects") >= 1);
		/* Latency runs from the intended send time, so a message due
		 * while the broker was down for a second shows that second. */
		CU_ASSERT(th_num(r, "patterns.telemetry.latency_ms.max") >= 1000);
		fprintf(stderr, "\n  disconnects %g, reconnects %g, resent %g, consumer reconnects %g, "
		    "duplicates %g, latency max %g ms\n", th_num(r, "devices.disconnects"),
		    th_num(r, "devices.reconnects"), th_num(r, "devices.resent"),
		    th_num(r, "broker.consumer_reconnects"), th_num(r, "patterns.telemetry.duplicates"),
		    th_num(r, "patterns.telemetry.latency_ms.max"));
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "broker stop and restart mid-run: nothing lost", test_restart_mid_run },
		{ NULL, NULL },
	};

	return th_main("broker_restart", tests);
}
