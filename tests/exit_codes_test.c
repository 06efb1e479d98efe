/* The exit codes are the CLI's contract with CI systems: each one here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "broker.h"
#include "harness.h"

static const char small[] =
    "name: small\n"
    "duration: 2s\n"
    "drain: 2s\n"
    "fleet:\n"
    "  - group: s\n"
    "    count: 20\n"
    "    telemetry: { every: 500ms, qos: 1 }\n";

static void
test_unreachable_broker_is_3(void)
{
	const char *dir = th_tmpdir();
	char scen[512];

	snprintf(scen, sizeof(scen), "%s", th_write(dir, "s.yaml", small));
	/* Port 1 on loopback: nothing listens there. */
	const char *argv[] = { "run", scen, "--broker", "mqtt://127.0.0.1:1", "--report-dir", dir,
		"--quiet", NULL };
	CU_ASSERT_EQUAL(th_fleetsim(dir, 60, argv), 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "cannot connect to the broker at mqtt://127.0.0.1:1: Connection refused"));
}

static void
test_failing_assertion_is_1(void)
{
	struct sim_broker *b = NULL;
	struct sim_broker_opts bo = { 0 };
	struct sim_diag d;
	const char *dir = th_tmpdir();
	char scen[512], text[1024];
	struct rpt_json *r;

	CU_ASSERT_FATAL(sim_broker_start(&bo, &b, &d) == SIM_OK);
	snprintf(text, sizeof(text), "%sassert:\n  - patterns.telemetry.sent < 1\n"
	    "  - patterns.telemetry.lost == 0\n", small);
	snprintf(scen, sizeof(scen), "%s", th_write(dir, "s.yaml", text));
	const char *argv[] = { "run", scen, "--broker", sim_broker_url(b), "--report-dir", dir,
		"--quiet", NULL };
	CU_ASSERT_EQUAL(th_fleetsim(dir, 60, argv), 1);
	r = th_report(dir);
	if (r != NULL) {
		const struct rpt_json *a = rpt_json_get(r, "assertions");

		CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_get(r, "verdict")), "fail");
		CU_ASSERT_EQUAL(rpt_json_len(a), 2);
		CU_ASSERT_FALSE(rpt_json_truthy(rpt_json_get(rpt_json_at(a, 0), "pass")));
		CU_ASSERT_EQUAL(rpt_json_num(rpt_json_get(rpt_json_at(a, 0), "actual")), 80);
		CU_ASSERT_TRUE(rpt_json_truthy(rpt_json_get(rpt_json_at(a, 1), "pass")));
		rpt_json_free(r);
	}
	/* The same verdict for CI: junit.xml validates and names the failure. */
	{
		const char *src = getenv("FLEETSIM_SOURCE_DIR");

		CU_ASSERT_EQUAL(th_sh("xmllint --noout --schema '%s/tests/junit/junit.xsd' '%s/junit.xml' "
		    ">/dev/null 2>&1", src ? src : ".", dir), 0);
		CU_ASSERT_EQUAL(th_sh("grep -q 'failures=\"1\"' '%s/junit.xml'", dir), 0);
		CU_ASSERT_EQUAL(th_sh("grep -q 'expected patterns.telemetry.sent &lt; 1, actual 80' '%s/junit.xml'",
		    dir), 0);
	}
	sim_broker_free(b);
}

static void
test_bad_scenario_is_2(void)
{
	const char *dir = th_tmpdir();
	char scen[512];

	snprintf(scen, sizeof(scen), "%s",
	    th_write(dir, "bad.yaml", "name: bad\nduration: 2s\nfleet:\n  - group: a\n    count: 0\n"));
	const char *run[] = { "run", scen, "--quiet", NULL };
	CU_ASSERT_EQUAL(th_fleetsim(dir, 30, run), 2);
	/* The message names the file, the line and column of the bad value. */
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "bad.yaml:5:12:"));
	const char *val[] = { "validate", scen, NULL };
	CU_ASSERT_EQUAL(th_fleetsim(dir, 30, val), 2);

	snprintf(scen, sizeof(scen), "%s",
	    th_write(dir, "path.yaml", "name: p\nduration: 2s\nfleet:\n  - group: a\n    count: 1\n"
	    "assert:\n  - patterns.telemetry.nosuch == 0\n"));
	const char *val2[] = { "validate", scen, NULL };
	CU_ASSERT_EQUAL(th_fleetsim(dir, 30, val2), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "path.yaml:7:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "patterns.telemetry.nosuch"));
}

static void
test_usage(void)
{
	const char *dir = th_tmpdir();
	const char *help[] = { "--help", NULL };
	const char *version[] = { "--version", NULL };
	const char *unknown[] = { "fly", NULL };
	const char *noarg[] = { "run", NULL };
	char scen[512];

	CU_ASSERT_EQUAL(th_fleetsim(dir, 10, help), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "Exit codes"));
	CU_ASSERT_EQUAL(th_fleetsim(dir, 10, version), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "fleetsim 0."));
	CU_ASSERT_EQUAL(th_fleetsim(dir, 10, unknown), 2);
	CU_ASSERT_EQUAL(th_fleetsim(dir, 10, noarg), 2);
	snprintf(scen, sizeof(scen), "%s", th_write(dir, "s.yaml", small));
	const char *val[] = { "validate", scen, NULL };
	CU_ASSERT_EQUAL(th_fleetsim(dir, 10, val), 0);
	const char *badseed[] = { "run", scen, "--seed", "x", NULL };
	CU_ASSERT_EQUAL(th_fleetsim(dir, 10, badseed), 2);
}

static void
test_missing_mosquitto_is_3(void)
{
	const char *dir = th_tmpdir();
	char scen[512];

	snprintf(scen, sizeof(scen), "%s", th_write(dir, "s.yaml", small));
	setenv("FLEETSIM_MOSQUITTO", "/nonexistent/mosquitto", 1);
	const char *argv[] = { "run", scen, "--report-dir", dir, "--quiet", NULL };
	CU_ASSERT_EQUAL(th_fleetsim(dir, 30, argv), 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "mosquitto"));
	unsetenv("FLEETSIM_MOSQUITTO");
}

/* A fleet larger than the descriptor limit is refused before anything
 * connects, saying how many descriptors it needs. */
static void
test_fd_limit_is_3(void)
{
	const char *dir = th_tmpdir();
	char scen[512];
	int rc;

	snprintf(scen, sizeof(scen), "%s", th_write(dir, "big.yaml",
	    "name: big\nduration: 1s\nfleet:\n  - group: g\n    count: 500\n"));
	rc = th_sh("ulimit -n 256 && exec '%s' run '%s' --broker mqtt://127.0.0.1:1 "
	    "--quiet > '%s/fleetsim.out' 2>&1", getenv("FLEETSIM_BINARY"), scen, dir);
	CU_ASSERT_EQUAL(rc, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "needs 565 file descriptors but the limit is 256"));
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "unreachable broker exits 3", test_unreachable_broker_is_3 },
		{ "failing assertion exits 1 with a report", test_failing_assertion_is_1 },
		{ "bad scenario exits 2 with FILE:LINE:COL", test_bad_scenario_is_2 },
		{ "usage, help, version", test_usage },
		{ "missing mosquitto exits 3", test_missing_mosquitto_is_3 },
		{ "too few descriptors exits 3", test_fd_limit_is_3 },
		{ NULL, NULL },
	};

	return th_main("exit_codes", tests);
}
