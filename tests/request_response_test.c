/* Cloud-to-device request-response against a real Mosquitto: every call
 * answered once in both conventions, round trips that carry the link's
 * latency, timeouts only where devices crashed, and duplicate and
 * unmatched answers from a second, external process. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "broker.h"
#include "harness.h"

static struct sim_broker *
broker(void)
{
	struct sim_broker *b = NULL;
	struct sim_broker_opts bo = { 0 };
	struct sim_diag d;

	CU_ASSERT_FATAL(sim_broker_start(&bo, &b, &d) == SIM_OK);
	return b;
}

/* Runs scenario text against b; the report, or NULL. */
static struct rpt_json *
run(struct sim_broker *b, const char *dir, const char *yaml, int want_rc)
{
	char scen[512];
	int rc;

	snprintf(scen, sizeof(scen), "%s", th_write(dir, "rr.yaml", yaml));
	const char *argv[] = { "run", scen, "--broker", sim_broker_url(b), "--report-dir", dir,
		"--quiet", NULL };

	rc = th_fleetsim(dir, 180, argv);
	CU_ASSERT_EQUAL(rc, want_rc);
	if (rc != want_rc)
		fprintf(stderr, "\n%s\n", th_output(dir));
	return th_report(dir);
}

#define C2D "patterns.request_response.c2d."

/* 1,000 devices, 200 calls a second in each convention for 20 s. */
static void
test_both_conventions(void)
{
	struct sim_broker *b = broker();
	const char *dir = th_tmpdir();
	struct rpt_json *r = run(b, dir,
	    "name: rr-conventions\n"
	    "duration: 20s\n"
	    "drain: 5s\n"
	    "fleet:\n"
	    "  - group: hub\n"
	    "    model: thermostat\n"
	    "    count: 500\n"
	    "    connect: { ramp: 2s }\n"
	    "    telemetry: { every: 10s }\n"
	    "  - group: five\n"
	    "    model: thermostat\n"
	    "    count: 500\n"
	    "    mqtt: { version: \"5\" }\n"
	    "    connect: { ramp: 2s }\n"
	    "    telemetry: { every: 10s }\n"
	    "patterns:\n"
	    "  - request_response: { direction: c2d, convention: rid, method: set_setpoint,\n"
	    "      payload: '{\"value\": {rand.uniform(18,24):.1f}}', rate: 200/s,\n"
	    "      targets: { group: hub }, timeout: 3s }\n"
	    "  - request_response: { direction: c2d, convention: mqtt5, method: get_state,\n"
	    "      rate: 200/s, targets: { group: five }, timeout: 3s }\n", 0);

	if (r != NULL) {
		/* 20 s at 200/s, each: the schedule is open, so exactly. */
		CU_ASSERT_EQUAL(th_num(r, C2D "by_method.set_setpoint.sent"), 4000);
		CU_ASSERT_EQUAL(th_num(r, C2D "by_method.get_state.sent"), 4000);
		CU_ASSERT_EQUAL(th_num(r, C2D "ok"), 8000);
		CU_ASSERT_EQUAL(th_num(r, C2D "unmatched"), 0);
		CU_ASSERT_EQUAL(th_num(r, C2D "duplicate"), 0);
		CU_ASSERT_EQUAL(th_num(r, C2D "timeout"), 0);
		CU_ASSERT_EQUAL(th_num(r, C2D "latency_ms.count"), 8000);
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

/* 50 ms of link latency each way and a 2-10 ms handler: a median round
 * trip of about 100 ms plus processing. */
static void
test_link_latency(void)
{
	struct sim_broker *b = broker();
	const char *dir = th_tmpdir();
	struct rpt_json *r = run(b, dir,
	    "name: rr-latency\n"
	    "duration: 5s\n"
	    "drain: 3s\n"
	    "fleet:\n"
	    "  - group: far\n"
	    "    model: thermostat\n"
	    "    count: 100\n"
	    "    connect: { ramp: 1s }\n"
	    "    hal: { link: { latency: 50ms } }\n"
	    "patterns:\n"
	    "  - request_response: { direction: c2d, method: get_state, rate: 50/s, timeout: 2s }\n",
	    0);

	if (r != NULL) {
		double p50 = th_num(r, C2D "latency_ms.p50");

		CU_ASSERT_EQUAL(th_num(r, C2D "ok"), 250);
		CU_ASSERT(p50 >= 102 && p50 <= 125);
		if (!(p50 >= 102 && p50 <= 125))
			fprintf(stderr, "\n  p50 %.1f ms, expected 102-125\n", p50);
		CU_ASSERT(th_num(r, C2D "latency_ms.min") >= 100);
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

/* Calls to devices that crash time out; calls to the others do not. */
static void
test_crashes_time_out(void)
{
	struct sim_broker *b = broker();
	const char *dir = th_tmpdir();
	struct rpt_json *r = run(b, dir,
	    "name: rr-crash\n"
	    "duration: 10s\n"
	    "drain: 4s\n"
	    "fleet:\n"
	    "  - group: stable\n"
	    "    model: thermostat\n"
	    "    count: 50\n"
	    "    connect: { ramp: 1s }\n"
	    "  - group: crashy\n"
	    "    model: thermostat\n"
	    "    count: 50\n"
	    "    connect: { ramp: 1s }\n"
	    "    hal: { power: { crash: { mtbf: 8s } }, boot: { time: 2s } }\n"
	    "patterns:\n"
	    "  - request_response: { direction: c2d, method: get_state, rate: 40/s,\n"
	    "      targets: { group: stable }, timeout: 1s }\n"
	    "  - request_response: { direction: c2d, method: set_setpoint, payload: '20',\n"
	    "      rate: 40/s, targets: { group: crashy }, timeout: 1s }\n", 0);

	if (r != NULL) {
		double sent = th_num(r, C2D "by_method.set_setpoint.sent");

		CU_ASSERT(th_num(r, "devices.crashes") > 0);
		CU_ASSERT_EQUAL(th_num(r, C2D "by_method.get_state.ok"), 400);
		CU_ASSERT_EQUAL(th_num(r, C2D "by_method.get_state.timeout"), 0);
		CU_ASSERT(th_num(r, C2D "by_method.set_setpoint.timeout") > 0);
		CU_ASSERT_EQUAL(sent, 400);
		/* Every call to a crashing device is answered or times out
		 * (or is answered late, after its reconnect). */
		CU_ASSERT_EQUAL(th_num(r, C2D "by_method.set_setpoint.ok") +
		    th_num(r, C2D "by_method.set_setpoint.timeout") +
		    th_num(r, C2D "by_method.set_setpoint.late"), sent);
		CU_ASSERT_EQUAL(th_num(r, C2D "error_status"), 0);
		CU_ASSERT_EQUAL(th_num(r, C2D "unmatched"), 0);
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

/* An external responder (mosquitto_sub piped into mosquitto_pub, a real
 * second process) answers every call again, and once more with an id
 * fleetsim never issued. */
static void
test_duplicate_and_unmatched(void)
{
	struct sim_broker *b = broker();
	const char *dir = th_tmpdir();
	struct rpt_json *r;
	char cmd[2048];
	int pid;

	snprintf(cmd, sizeof(cmd),
	    "mosquitto_sub -h 127.0.0.1 -p %u -t 'devices/+/methods/POST/#' -v | "
	    "while read -r topic payload; do "
	    "rid=${topic##*=}; id=$(echo \"$topic\" | cut -d/ -f2); "
	    "mosquitto_pub -h 127.0.0.1 -p %u -q 1 -t \"devices/$id/methods/res/200/?\\$rid=$rid\" -m '{}'; "
	    "mosquitto_pub -h 127.0.0.1 -p %u -q 1 -t \"devices/$id/methods/res/200/?\\$rid=00000000ffffffff\" -m '{}'; "
	    "done", (unsigned)sim_broker_port(b), (unsigned)sim_broker_port(b),
	    (unsigned)sim_broker_port(b));
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	sleep(1);           /* the external responder subscribes first */
	r = run(b, dir,
	    "name: rr-dup\n"
	    "duration: 4s\n"
	    "drain: 3s\n"
	    "fleet:\n"
	    "  - group: rooms\n"
	    "    model: thermostat\n"
	    "    count: 5\n"
	    "    connect: { ramp: 500ms }\n"
	    "patterns:\n"
	    "  - request_response: { direction: c2d, method: get_state, rate: 5/s, timeout: 2s }\n",
	    0);
	kill(-pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (r != NULL) {
		CU_ASSERT_EQUAL(th_num(r, C2D "sent"), 20);
		CU_ASSERT_EQUAL(th_num(r, C2D "ok"), 20);
		CU_ASSERT(th_num(r, C2D "duplicate") >= 10);
		CU_ASSERT(th_num(r, C2D "unmatched") >= 10);
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "1,000 devices, both conventions, every call ok", test_both_conventions },
		{ "link latency in the round trip", test_link_latency },
		{ "crashing devices time out, others do not", test_crashes_time_out },
		{ "duplicate and unmatched answers", test_duplicate_and_unmatched },
		{ NULL, NULL },
	};

	return th_main("request_response", tests);
}
