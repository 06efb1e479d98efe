/* Cloud-to-device request-response against a real Mosquitto: every call
 * answered once in both conventions, round trips that carry the link's
 * latency, timeouts only where devices crashed, and duplicate and
 * unmatched answers from a second, external process. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Starts an external responder, a shell pipeline in its own process
 * group, and gives it a second to subscribe. */
static int
start_responder(const char *cmd)
{
	int pid = fork();

	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	sleep(1);
	return pid;
}

static void
stop_responder(int pid)
{
	kill(-pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

#define C2D "patterns.request_response.c2d."
#define D2C "patterns.request_response.d2c."

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
	pid = start_responder(cmd);
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
	    1);
	stop_responder(pid);
	if (r != NULL) {
		/* The built-in check fails the run: that is exit 1. */
		CU_ASSERT_EQUAL(th_check_passed(r, "request_response.c2d.one_answer_each"), 0);
		CU_ASSERT_EQUAL(th_num(r, C2D "sent"), 20);
		CU_ASSERT_EQUAL(th_num(r, C2D "ok"), 20);
		CU_ASSERT(th_num(r, C2D "duplicate") >= 10);
		CU_ASSERT(th_num(r, C2D "unmatched") >= 10);
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

/* Device-to-cloud against fleetsim's own responder, in both conventions:
 * every request answered; answers that fail the expectations count as
 * error_status. */
static void
test_d2c_fleetsim(void)
{
	struct sim_broker *b = broker();
	const char *dir = th_tmpdir();
	struct rpt_json *r = run(b, dir,
	    "name: rr-d2c\n"
	    "duration: 6s\n"
	    "drain: 3s\n"
	    "fleet:\n"
	    "  - group: rid\n"
	    "    model: temperature-sensor\n"
	    "    count: 100\n"
	    "    connect: { ramp: 1s }\n"
	    "  - group: five\n"
	    "    model: temperature-sensor\n"
	    "    count: 100\n"
	    "    mqtt: { version: \"5\" }\n"
	    "    connect: { ramp: 1s }\n"
	    "  - group: picky\n"
	    "    count: 20\n"
	    "    connect: { ramp: 1s }\n"
	    "patterns:\n"
	    "  - request_response:\n"
	    "      direction: d2c\n"
	    "      convention: rid\n"
	    "      method: get_config\n"
	    "      payload: '{\"fw\": \"1.0\", \"n\": {seq}}'\n"
	    "      every: 1s\n"
	    "      targets: { group: rid }\n"
	    "      timeout: 2s\n"
	    "      response: { delay: { dist: uniform, min: 5ms, max: 20ms }, payload: '{\"config\": \"v2\"}' }\n"
	    "      expect: { status: [200], field: config, equals: v2 }\n"
	    "  - request_response:\n"
	    "      direction: d2c\n"
	    "      convention: mqtt5\n"
	    "      method: get_token\n"
	    "      every: 500ms\n"
	    "      targets: { group: five }\n"
	    "      response: { delay: 10ms, payload: '{\"token\": {rand.int(1,1000)}}' }\n"
	    "      expect: { field: token }\n"
	    "  - request_response:\n"
	    "      direction: d2c\n"
	    "      method: get_time\n"
	    "      every: 1s\n"
	    "      targets: { group: picky }\n"
	    "      response: { status: 503 }\n", 0);

	if (r != NULL) {
		CU_ASSERT_EQUAL(th_num(r, D2C "by_method.get_config.sent"), 600);
		CU_ASSERT_EQUAL(th_num(r, D2C "by_method.get_config.ok"), 600);
		CU_ASSERT_EQUAL(th_num(r, D2C "by_method.get_token.sent"), 1200);
		CU_ASSERT_EQUAL(th_num(r, D2C "by_method.get_token.ok"), 1200);
		CU_ASSERT_EQUAL(th_num(r, D2C "by_method.get_time.sent"), 120);
		CU_ASSERT_EQUAL(th_num(r, D2C "by_method.get_time.error_status"), 120);
		CU_ASSERT_EQUAL(th_num(r, D2C "timeout"), 0);
		CU_ASSERT_EQUAL(th_check_passed(r, "request_response.d2c.one_answer_each"), 1);
		/* Both ways over the model's link (about 30 ms each) plus the
		 * responder's delay. */
		CU_ASSERT(th_num(r, D2C "by_method.get_config.latency_ms.p50") > 40);
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

/* Device-to-cloud against an external responder, a real second process
 * (mosquitto_sub piped into mosquitto_pub); fleetsim only plays the
 * devices and checks the answers. */
static void
test_d2c_external(void)
{
	struct sim_broker *b = broker();
	const char *dir = th_tmpdir();
	struct rpt_json *r;
	char cmd[2048];
	int pid;

	snprintf(cmd, sizeof(cmd),
	    "mosquitto_sub -h 127.0.0.1 -p %u -q 1 -t 'devices/+/req/#' -v | "
	    "while read -r topic payload; do "
	    "rid=${topic##*=}; id=$(echo \"$topic\" | cut -d/ -f2); "
	    "st=200; case \"$id\" in *-0) st=500;; esac; "
	    "mosquitto_pub -h 127.0.0.1 -p %u -q 1 -t \"devices/$id/res/$st/?\\$rid=$rid\" "
	    "-m '{\"config\": \"ext\"}'; "
	    "done", (unsigned)sim_broker_port(b), (unsigned)sim_broker_port(b));
	pid = start_responder(cmd);
	r = run(b, dir,
	    "name: rr-d2c-external\n"
	    "duration: 4s\n"
	    "drain: 4s\n"
	    "fleet:\n"
	    "  - group: dev\n"
	    "    count: 5\n"
	    "    connect: { ramp: 500ms }\n"
	    "patterns:\n"
	    "  - request_response: { direction: d2c, method: get_config, every: 1s, timeout: 3s,\n"
	    "      responder: external, expect: { status: [200], field: config, equals: ext } }\n",
	    0);
	stop_responder(pid);
	if (r != NULL) {
		/* 5 devices, 4 s, one a second; device 0's answers are 500s. */
		CU_ASSERT_EQUAL(th_num(r, D2C "sent"), 20);
		CU_ASSERT_EQUAL(th_num(r, D2C "ok"), 16);
		CU_ASSERT_EQUAL(th_num(r, D2C "error_status"), 4);
		CU_ASSERT_EQUAL(th_num(r, D2C "timeout"), 0);
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

/* The example scenarios run and pass on the embedded broker. */
static void
run_example(const char *name)
{
	const char *dir = th_tmpdir();
	char scen[512];

	CU_ASSERT_FATAL(dir != NULL);
	snprintf(scen, sizeof(scen), "%s/scenarios/%s", getenv("FLEETSIM_SOURCE_DIR"), name);
	const char *argv[] = { "run", scen, "--report-dir", dir, "--quiet", NULL };

	CU_ASSERT_EQUAL(th_fleetsim(dir, 120, argv), 0);
}

static void
test_example_c2d(void)
{
	run_example("thermostat-c2d.yaml");
}

static void
test_example_d2c(void)
{
	run_example("sensor-d2c.yaml");
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "1,000 devices, both conventions, every call ok", test_both_conventions },
		{ "link latency in the round trip", test_link_latency },
		{ "crashing devices time out, others do not", test_crashes_time_out },
		{ "duplicate and unmatched answers", test_duplicate_and_unmatched },
		{ "d2c against fleetsim's responder", test_d2c_fleetsim },
		{ "d2c against an external responder", test_d2c_external },
		{ "scenarios/thermostat-c2d.yaml passes", test_example_c2d },
		{ "scenarios/sensor-d2c.yaml passes", test_example_d2c },
		{ NULL, NULL },
	};

	return th_main("request_response", tests);
}
