/* docs/report-schema.json is the contract for everyone who reads
 * report.json: real reports (passing, failing, interrupted with the broker
 * gone) must validate against it, and a report with a renamed field or a
 * wrong type must not, or the schema would prove nothing. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "broker.h"
#include "harness.h"

/* Exit code of the validator for "the report breaks the schema", apart
 * from Python's own 1 for a crash, so a broken validator cannot pass for a
 * rejected report. */
#define INVALID 3

/* Double quotes only: the script is passed to the shell in single quotes. */
static const char validator_py[] =
    "import json, sys\n"
    "from jsonschema import Draft202012Validator as V\n"
    "schema = json.load(open(sys.argv[1]))\n"
    "V.check_schema(schema)\n"
    "report = json.load(open(sys.argv[2]))\n"
    "errs = sorted(V(schema).iter_errors(report), key=lambda e: list(map(str, e.absolute_path)))\n"
    "for e in errs[:20]:\n"
    "    where = \"/\".join(map(str, e.absolute_path)) or \"(top)\"\n"
    "    print(\"  \" + sys.argv[2] + \": \" + where + \": \" + e.message[:300], file=sys.stderr)\n"
    "sys.exit(3 if errs else 0)\n";

static char python[64];
static char schema[1024];

/* Finds a Python with jsonschema 4 (Draft 2020-12). Debian's
 * python3-jsonschema lands in /usr/bin/python3's path, which another
 * python3 earlier on PATH (pyenv) does not see, hence the second try. */
static bool
find_validator(void)
{
	static const char *const candidates[] = { "python3", "/usr/bin/python3" };
	const char *src = getenv("FLEETSIM_SOURCE_DIR");

	if (python[0] != '\0')
		return true;
	if (src == NULL || src[0] == '\0') {
		fprintf(stderr, "\n  FLEETSIM_SOURCE_DIR is not set: run this test through ctest\n");
		return false;
	}
	snprintf(schema, sizeof(schema), "%s/docs/report-schema.json", src);
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		if (th_sh("%s -c 'from jsonschema import Draft202012Validator' >/dev/null 2>&1",
		    candidates[i]) == 0) {
			snprintf(python, sizeof(python), "%s", candidates[i]);
			return true;
		}
	}
	fprintf(stderr, "\n  no python3 with the jsonschema module (>= 4): the report schema cannot be "
	    "checked; install the project's dependencies with ci/deps.sh (Debian: python3 "
	    "python3-jsonschema)\n");
	return false;
}

/* The validator's exit code for a report: 0 valid, INVALID invalid (the
 * errors on stderr), anything else a broken check. */
static int
validate(const char *dir, const char *report)
{
	char script[512];

	snprintf(script, sizeof(script), "%s", th_write(dir, "validate.py", validator_py));
	return th_sh("%s '%s' '%s' '%s'", python, script, schema, report);
}

static void
assert_valid(const char *dir)
{
	char report[512];
	int rc;

	if (!find_validator()) {
		CU_FAIL("no schema validator (python3 with jsonschema: ci/deps.sh) or no FLEETSIM_SOURCE_DIR");
		return;
	}
	snprintf(report, sizeof(report), "%s/report.json", dir);
	rc = validate(dir, report);
	if (rc != 0)
		fprintf(stderr, "\n  %s does not validate against %s (exit %d)\n", report, schema, rc);
	CU_ASSERT_EQUAL(rc, 0);
}

static void
dump_output_on(int rc, int want, const char *dir)
{
	if (rc != want)
		fprintf(stderr, "\n--- fleetsim exited %d, not %d; its output:\n%s\n---\n", rc, want,
		    th_output(dir));
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static const char two_groups[] =
    "name: schema-pass\n"
    "duration: 3s\n"
    "drain: 3s\n"
    "fleet:\n"
    "  - group: reliable\n"
    "    count: 50\n"
    "    connect: { ramp: 500ms }\n"
    "    telemetry: { every: 250ms, qos: 1 }\n"
    "  - group: exactly-once\n"
    "    count: 50\n"
    "    mqtt: { clean_session: false }\n"
    "    connect: { ramp: 500ms }\n"
    "    telemetry: { every: 250ms, qos: 2, size: 64 }\n"
    "assert:\n"
    "  - patterns.telemetry.lost == 0\n"
    "  - patterns.telemetry.latency_ms.p99 < 5s\n";

/* Kept for test_mutations, which breaks copies of a real report. */
static char passing_dir[512];

static void
test_passing_run(void)
{
	struct sim_broker *b = NULL;
	struct sim_broker_opts bo = { 0 };
	struct sim_diag d = { "" };
	const char *dir = th_tmpdir();
	char scen[512];
	struct rpt_json *r;
	int rc;

	CU_ASSERT_FATAL(dir != NULL);
	CU_ASSERT_FATAL(sim_broker_start(&bo, &b, &d) == SIM_OK);
	snprintf(scen, sizeof(scen), "%s", th_write(dir, "pass.yaml", two_groups));
	const char *argv[] = { "run", scen, "--broker", sim_broker_url(b), "--report-dir", dir,
		"--quiet", NULL };

	rc = th_fleetsim(dir, 60, argv);
	dump_output_on(rc, 0, dir);
	CU_ASSERT_EQUAL(rc, 0);
	r = th_report(dir);
	if (r != NULL) {
		CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_path(r, "verdict")), "pass");
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.by_group.reliable.qos"), 1);
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.by_group.exactly-once.qos"), 2);
		rpt_json_free(r);
		assert_valid(dir);
		snprintf(passing_dir, sizeof(passing_dir), "%s", dir);
	}
	sim_broker_free(b);
}

static void
test_failing_assertion(void)
{
	struct sim_broker *b = NULL;
	struct sim_broker_opts bo = { 0 };
	struct sim_diag d = { "" };
	const char *dir = th_tmpdir();
	char scen[512];
	struct rpt_json *r;
	int rc;

	CU_ASSERT_FATAL(dir != NULL);
	CU_ASSERT_FATAL(sim_broker_start(&bo, &b, &d) == SIM_OK);
	/* QoS 0 too, so the report has no QoS 2 check: the schema must not
	 * depend on which checks ran. */
	snprintf(scen, sizeof(scen), "%s", th_write(dir, "fail.yaml",
	    "name: schema-fail\n"
	    "duration: 2s\n"
	    "drain: 2s\n"
	    "fleet:\n"
	    "  - group: best-effort\n"
	    "    count: 20\n"
	    "    telemetry: { every: 500ms, qos: 0 }\n"
	    "  - group: reliable\n"
	    "    count: 20\n"
	    "    telemetry: { every: 500ms, qos: 1 }\n"
	    "assert:\n"
	    "  - patterns.telemetry.sent < 1\n"
	    "  - devices.connected == 40\n"));
	const char *argv[] = { "run", scen, "--broker", sim_broker_url(b), "--report-dir", dir,
		"--quiet", NULL };

	rc = th_fleetsim(dir, 60, argv);
	dump_output_on(rc, 1, dir);
	CU_ASSERT_EQUAL(rc, 1);
	r = th_report(dir);
	if (r != NULL) {
		CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_path(r, "verdict")), "fail");
		CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(r, "assertions")), 2);
		rpt_json_free(r);
		assert_valid(dir);
	}
	sim_broker_free(b);
}

/* The broker goes away halfway through the connect ramp and a signal ends
 * the run: a partial report with the optional error fields and a null
 * all_connected_after_s, which must validate too. */
static void
test_interrupted_without_broker(void)
{
	struct sim_broker *b = NULL;
	struct sim_broker_opts bo = { 0 };
	struct sim_diag d = { "" };
	const char *dir = th_tmpdir();
	char scen[512];
	struct rpt_json *r;
	int pid, rc;

	CU_ASSERT_FATAL(dir != NULL);
	CU_ASSERT_FATAL(sim_broker_start(&bo, &b, &d) == SIM_OK);
	snprintf(scen, sizeof(scen), "%s", th_write(dir, "gone.yaml",
	    "name: schema-interrupted\n"
	    "duration: 60s\n"
	    "drain: 2s\n"
	    "fleet:\n"
	    "  - group: s\n"
	    "    count: 30\n"
	    "    connect: { ramp: 3s }\n"
	    "    telemetry: { every: 200ms, qos: 1 }\n"));
	const char *argv[] = { "run", scen, "--broker", sim_broker_url(b), "--report-dir", dir,
		"--quiet", NULL };

	pid = th_fleetsim_spawn(dir, argv);
	CU_ASSERT_FATAL(pid > 0);
	sleep_ms(1500);
	CU_ASSERT_EQUAL(sim_broker_stop(b), SIM_OK);
	/* Long enough for reconnect attempts to fail and be recorded. */
	sleep_ms(2000);
	CU_ASSERT_EQUAL(kill(pid, SIGINT), 0);
	rc = th_wait(pid, 30);
	/* Loss with the broker gone fails the verdict; either way a report. */
	if (rc != 0 && rc != 1)
		dump_output_on(rc, 1, dir);
	CU_ASSERT(rc == 0 || rc == 1);
	r = th_report(dir);
	if (r != NULL) {
		CU_ASSERT_TRUE(rpt_json_truthy(rpt_json_path(r, "partial")));
		/* Otherwise this run would not exercise the optional fields. */
		CU_ASSERT_PTR_NOT_NULL(rpt_json_path(r, "devices.last_error"));
		CU_ASSERT_PTR_NOT_NULL(rpt_json_path(r, "broker.consumer_last_error"));
		CU_ASSERT_EQUAL(rpt_json_type(rpt_json_path(r, "devices.all_connected_after_s")),
		    RPT_JSON_NULL);
		rpt_json_free(r);
		assert_valid(dir);
	}
	sim_broker_free(b);
}

/* Each breaks one thing a reader relies on; sed works on the report as
 * written (two-space indent, "key": value). */
static const struct {
	const char *what, *sed;
} mutations[] = {
	{ "a renamed field", "s/\"out_of_order\":/\"out_of_ordr\":/" },
	{ "a string for a count", "s/\"received\": \\([0-9][0-9]*\\)/\"received\": \"\\1\"/" },
	{ "a negative count", "s/\"lost\": 0/\"lost\": -1/" },
	{ "an unknown verdict", "s/\"verdict\": \"pass\"/\"verdict\": \"ok\"/" },
	{ "a wrong histogram layout", "s/\"sub_buckets\": 128/\"sub_buckets\": 64/" },
	{ "a missing field", "/\"all_connected_after_s\":/d" },
	{ "a string for a latency", "s/\"p99\": \\([0-9.]*\\)/\"p99\": \"\\1ms\"/" },
	{ "an extra top-level field", "s/^  \"partial\":/  \"partiel\": false,\\n  \"partial\":/" },
};

static void
test_mutations_are_rejected(void)
{
	char orig[600], copy[600];
	int rc;

	if (!find_validator()) {
		CU_FAIL("no schema validator (python3 with jsonschema: ci/deps.sh) or no FLEETSIM_SOURCE_DIR");
		return;
	}
	if (passing_dir[0] == '\0') {
		CU_FAIL("no passing report to break: see the first test's failure");
		return;
	}
	snprintf(orig, sizeof(orig), "%s/report.json", passing_dir);
	for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		snprintf(copy, sizeof(copy), "%s/mutant%zu.json", passing_dir, i);
		CU_ASSERT_EQUAL_FATAL(th_sh("sed '%s' '%s' > '%s'", mutations[i].sed, orig, copy), 0);
		/* A sed that matched nothing would test the original again. */
		if (th_sh("cmp -s '%s' '%s'", orig, copy) == 0) {
			fprintf(stderr, "\n  mutation '%s' changed nothing in %s\n", mutations[i].what, orig);
			CU_FAIL("a mutation changed nothing");
			continue;
		}
		fprintf(stderr, "\n  %s, expected to be rejected:\n", mutations[i].what);
		rc = validate(passing_dir, copy);
		if (rc != INVALID)
			fprintf(stderr, "  not rejected: validator exit %d\n", rc);
		CU_ASSERT_EQUAL(rc, INVALID);
	}
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "passing run, QoS 1 and 2 groups: report validates", test_passing_run },
		{ "failing assertion: report validates", test_failing_assertion },
		{ "interrupted, broker gone: partial report validates", test_interrupted_without_broker },
		{ "renamed fields and wrong types are rejected", test_mutations_are_rejected },
		{ NULL, NULL },
	};

	return th_main("report_schema", tests);
}
