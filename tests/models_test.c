/* Device models end to end, on the embedded broker: every built-in
 * model's scenario passes, devices that reboot, crash and lose their link
 * still lose nothing at QoS 1, a trace is the same for the same seed and
 * epoch, `fleetsim models` lists the models, and a mistake in a model
 * file is reported at its place in that file. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "harness.h"

static const char *const model_names[] = {
	"temperature-sensor", "thermostat", "smart-meter", "door-lock", "camera", NULL,
};

static const char *
source_dir(void)
{
	const char *s = getenv("FLEETSIM_SOURCE_DIR");

	return s && *s ? s : ".";
}

/* Runs scenarios/NAME.yaml as a user would (no --broker: fleetsim starts
 * its own Mosquitto) and checks that it passes. The scenarios carry their
 * own assertions; the report is read too, so that an engine that ran no
 * devices at all cannot pass. */
static void
run_builtin(const char *name)
{
	const char *dir = th_tmpdir();
	char scen[512];
	struct rpt_json *r;

	CU_ASSERT_FATAL(dir != NULL);
	snprintf(scen, sizeof(scen), "%s/scenarios/%s.yaml", source_dir(), name);
	const char *argv[] = { "run", scen, "--report-dir", dir, "--quiet", NULL };

	CU_ASSERT_EQUAL(th_fleetsim(dir, 60, argv), 0);
	r = th_report(dir);
	if (r == NULL)
		return;
	CU_ASSERT(th_num(r, "patterns.telemetry.sent") > 0);
	CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.received"),
	    th_num(r, "patterns.telemetry.sent"));
	CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.malformed"), 0);
	rpt_json_free(r);
}

static void
test_temperature_sensor(void)
{
	run_builtin("temperature-sensor");
}

static void
test_thermostat(void)
{
	run_builtin("thermostat");
}

static void
test_smart_meter(void)
{
	run_builtin("smart-meter");
}

static void
test_door_lock(void)
{
	run_builtin("door-lock");
}

static void
test_camera(void)
{
	run_builtin("camera");
}

/* tests/scenarios/faults.yaml: reboots, crashes and link disconnects at
 * QoS 1 on kept sessions. Each kind of fault must have happened, or the
 * run proves nothing, and every message sent must have arrived. */
static void
test_faults_lose_nothing(void)
{
	const char *dir = th_tmpdir();
	char scen[512];
	struct rpt_json *r;
	static const char *const causes[] = {
		"disconnected", "powered_off", "link_down", "queue_full", NULL,
	};

	CU_ASSERT_FATAL(dir != NULL);
	snprintf(scen, sizeof(scen), "%s/tests/scenarios/faults.yaml", source_dir());
	const char *argv[] = { "run", scen, "--report-dir", dir, "--quiet", NULL };

	CU_ASSERT_EQUAL(th_fleetsim(dir, 90, argv), 0);
	r = th_report(dir);
	if (r == NULL)
		return;
	CU_ASSERT(th_num(r, "devices.reboots") > 0);
	CU_ASSERT(th_num(r, "devices.crashes") > 0);
	CU_ASSERT(th_num(r, "devices.link_disconnects") > 0);
	CU_ASSERT(th_num(r, "patterns.telemetry.sent") > 0);
	CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.lost"), 0);
	CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.received"),
	    th_num(r, "patterns.telemetry.sent"));
	/* Messages a powered-off device never made are accounted for by
	 * cause, all four of which the report always has. */
	for (int i = 0; causes[i] != NULL; i++) {
		char p[128];

		snprintf(p, sizeof(p), "patterns.telemetry.dropped_by_cause.%s", causes[i]);
		CU_ASSERT(!isnan(th_num(r, p)));
	}
	rpt_json_free(r);
}

/* A small temperature-sensor fleet with a fixed seed and epoch, so that
 * the payloads (sensor values, the devices' clocks) depend on nothing
 * but the scenario. */
static const char trace_scenario[] =
    "name: trace\n"
    "seed: 1\n"
    "epoch: 2026-01-01T00:00:00Z\n"
    "duration: 3s\n"
    "drain: 5s\n"
    "fleet:\n"
    "  - group: t\n"
    "    model: temperature-sensor\n"
    "    count: 20\n"
    "    connect: { ramp: 500ms }\n"
    "    telemetry: { every: 500ms, qos: 1 }\n"
    "assert:\n"
    "  - patterns.telemetry.lost == 0\n";

static int
run_trace(const char *dir, const char *scen, const char *trace, const char *seed)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, trace);
	const char *plain[] = { "run", scen, "--report-dir", dir, "--quiet", "--trace", path, NULL };
	const char *seeded[] = { "run", scen, "--report-dir", dir, "--quiet", "--trace", path,
		"--seed", seed, NULL };

	return th_fleetsim(dir, 60, seed == NULL ? plain : seeded);
}

static bool
is_hex64(const char *s)
{
	if (s == NULL || strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* Every line of a trace is a JSON object with the documented keys. */
static void
check_trace_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lines = 0, bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		struct rpt_json *j = NULL;
		char err[256];

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		lines++;
		if (rpt_json_parse(line, (size_t)n, &j, err, sizeof(err)) != RPT_OK ||
		    rpt_json_type(j) != RPT_JSON_OBJECT ||
		    rpt_json_get(j, "device") == NULL ||
		    rpt_json_type(rpt_json_get(j, "seq")) != RPT_JSON_NUMBER ||
		    rpt_json_str(rpt_json_get(j, "topic")) == NULL ||
		    rpt_json_type(rpt_json_get(j, "size")) != RPT_JSON_NUMBER ||
		    !is_hex64(rpt_json_str(rpt_json_get(j, "sha256"))) ||
		    rpt_json_get(j, "t_sim") == NULL) {
			/* Say which line, once, rather than one failure a line. */
			if (bad++ == 0)
				fprintf(stderr, "\n  %s:%d: not a trace line: %s\n", path, lines, line);
		}
		rpt_json_free(j);
	}
	free(line);
	fclose(f);
	CU_ASSERT(lines > 0);
	CU_ASSERT_EQUAL(bad, 0);
}

static void
test_trace_reproducible(void)
{
	const char *dir = th_tmpdir();
	char scen[512];

	CU_ASSERT_FATAL(dir != NULL);
	snprintf(scen, sizeof(scen), "%s", th_write(dir, "trace.yaml", trace_scenario));
	CU_ASSERT_EQUAL(run_trace(dir, scen, "t1.jsonl", NULL), 0);
	CU_ASSERT_EQUAL(run_trace(dir, scen, "t2.jsonl", NULL), 0);
	CU_ASSERT_EQUAL(run_trace(dir, scen, "t3.jsonl", "2"), 0);
	/* Lines are written as messages go out, in an order that timing
	 * decides; the set of lines is what must not change. */
	for (int i = 1; i <= 3; i++)
		CU_ASSERT_EQUAL(th_sh("LC_ALL=C sort '%s/t%d.jsonl' > '%s/s%d'", dir, i, dir, i), 0);
	CU_ASSERT_EQUAL(th_sh("test -s '%s/s1'", dir), 0);
	CU_ASSERT_EQUAL(th_sh("cmp -s '%s/s1' '%s/s2'", dir, dir), 0);
	/* Another seed gives other sensor values and send phases. */
	CU_ASSERT_NOT_EQUAL(th_sh("cmp -s '%s/s1' '%s/s3'", dir, dir), 0);

	char path[512];

	snprintf(path, sizeof(path), "%s/t1.jsonl", dir);
	check_trace_lines(path);
}

static void
test_models_lists_builtins(void)
{
	const char *dir = th_tmpdir();
	const char *argv[] = { "models", NULL };
	const char *out;

	CU_ASSERT_FATAL(dir != NULL);
	CU_ASSERT_EQUAL(th_fleetsim(dir, 10, argv), 0);
	out = th_output(dir);
	for (int i = 0; model_names[i] != NULL; i++) {
		if (strstr(out, model_names[i]) == NULL)
			fprintf(stderr, "\n  `fleetsim models` does not list %s:\n%s\n", model_names[i], out);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, model_names[i]));
	}
}

/* A payload naming a sensor the model does not have: validate exits 2
 * and points into the model file, not the scenario. The payload is on
 * line 6 of the model; the column may be the scalar's or the field's. */
static void
test_unknown_sensor_points_into_model(void)
{
	const char *dir = th_tmpdir();
	char models[512], scen[512];
	const char *out, *p;
	bool found = false;

	CU_ASSERT_FATAL(dir != NULL);
	snprintf(models, sizeof(models), "%s/models", dir);
	CU_ASSERT_FATAL(th_sh("mkdir -p '%s'", models) == 0);
	th_write(models, "bad-sensor.yaml",
	    "model: bad-sensor\n"
	    "sensors:\n"
	    "  temp: { gen: constant, value: 20 }\n"
	    "telemetry:\n"
	    "  every: 1s\n"
	    "  payload: '{\"temp\": {sensor.temp:.1f}, \"rh\": {sensor.humidity:.1f}}'\n");
	snprintf(scen, sizeof(scen), "%s", th_write(dir, "s.yaml",
	    "name: bad-model\n"
	    "duration: 2s\n"
	    "fleet:\n"
	    "  - group: g\n"
	    "    count: 1\n"
	    "    model: bad-sensor\n"));
	const char *argv[] = { "validate", scen, NULL };

	CU_ASSERT_EQUAL(th_fleetsim(dir, 10, argv), 2);
	out = th_output(dir);
	for (p = out; (p = strstr(p, "models/bad-sensor.yaml:6:")) != NULL; p++) {
		const char *q = p + strlen("models/bad-sensor.yaml:6:");

		if (!isdigit((unsigned char)*q))
			continue;
		while (isdigit((unsigned char)*q))
			q++;
		if (*q == ':') {
			found = true;
			break;
		}
	}
	if (!found)
		fprintf(stderr, "\n  no models/bad-sensor.yaml:6:COL: in:\n%s\n", out);
	CU_ASSERT_TRUE(found);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "unknown sensor"));
}

/* A partition and a half-open episode freeze connections instead of
 * closing them: keep-alive notices the partition, QoS 1 on kept sessions
 * loses nothing, and QoS 0 sent while the link is not up is dropped with
 * that cause. */
static const char partition_scenario[] =
    "name: partition\n"
    "seed: 3\n"
    "duration: 10s\n"
    "drain: 10s\n"
    "fleet:\n"
    "  - group: kept\n"
    "    model: temperature-sensor\n"
    "    count: 10\n"
    "    mqtt: { version: \"5\", clean_session: false, keepalive: 1s }\n"
    "    telemetry: { every: 500ms, qos: 1 }\n"
    "    hal:\n"
    "      link: { partitions: [ { from: 3s, to: 6s } ], half_open: { at: [ { from: 8s, to: 8500ms } ] } }\n"
    "  - group: lossy\n"
    "    model: temperature-sensor\n"
    "    count: 10\n"
    "    mqtt: { keepalive: 1s }\n"
    "    telemetry: { every: 500ms, qos: 0 }\n"
    "    hal:\n"
    "      link: { partitions: [ { from: 3s, to: 6s } ] }\n";

static void
test_partition_half_open(void)
{
	const char *dir = th_tmpdir();
	const char *scen;
	struct rpt_json *r;

	CU_ASSERT_FATAL(dir != NULL);
	scen = th_write(dir, "partition.yaml", partition_scenario);
	{
		char path[512];

		snprintf(path, sizeof(path), "%s", scen);
		const char *argv[] = { "run", path, "--report-dir", dir, "--quiet", NULL };

		CU_ASSERT_EQUAL(th_fleetsim(dir, 60, argv), 0);
	}
	r = th_report(dir);
	if (r == NULL)
		return;
	/* Every device's link leaves "up" once for the partition, and the
	 * kept group's once more for the half-open episode. */
	CU_ASSERT_EQUAL(th_num(r, "devices.link_disconnects"), 30);
	/* 3 s of silence is beyond 1.5 keep-alives: connections died. */
	CU_ASSERT(th_num(r, "devices.disconnects") >= 10);
	CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.by_group.kept.lost"), 0);
	CU_ASSERT(th_num(r, "patterns.telemetry.by_group.kept.sent") >= 150);
	CU_ASSERT(th_num(r, "patterns.telemetry.dropped_by_cause.link_down") >= 40);
	CU_ASSERT(th_num(r, "patterns.telemetry.by_group.lossy.lost") >=
	    th_num(r, "patterns.telemetry.dropped_by_cause.link_down"));
	rpt_json_free(r);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "scenarios/temperature-sensor.yaml passes", test_temperature_sensor },
		{ "partition and half-open: frozen, not closed", test_partition_half_open },
		{ "scenarios/thermostat.yaml passes", test_thermostat },
		{ "scenarios/smart-meter.yaml passes", test_smart_meter },
		{ "scenarios/door-lock.yaml passes", test_door_lock },
		{ "scenarios/camera.yaml passes", test_camera },
		{ "reboots, crashes and disconnects lose nothing at QoS 1", test_faults_lose_nothing },
		{ "same seed and epoch, same trace; another seed, another", test_trace_reproducible },
		{ "fleetsim models lists the built-in models", test_models_lists_builtins },
		{ "an unknown sensor in a payload is reported at FILE:LINE:COL of the model",
		  test_unknown_sensor_points_into_model },
		{ NULL, NULL },
	};

	return th_main("models", tests);
}
