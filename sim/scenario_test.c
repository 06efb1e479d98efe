/* Tests for the scenario loader: valid files with and without defaults,
 * every class of bad input with its exact position, and the overrides. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "dev_model.h"
#include "fs_test.h"
#include "rr_payload.h"
#include "scenario.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

/* The folder with the test fixtures: from ctest's environment, else next
 * to this source file. */
static char fixtures[PATH_MAX];

static void
find_fixtures(void)
{
	const char *root = getenv("FLEETSIM_SOURCE_DIR");
	const char *slash = strrchr(__FILE__, '/');

	if (root != NULL)
		snprintf(fixtures, sizeof(fixtures), "%s/tests/scenarios", root);
	else if (slash != NULL)
		snprintf(fixtures, sizeof(fixtures), "%.*s/../tests/scenarios",
		    (int)(slash - __FILE__), __FILE__);
	else
		snprintf(fixtures, sizeof(fixtures), "../tests/scenarios");
}

static const char *
fixture(const char *name)
{
	static char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	return path;
}

static enum sim_err
load(const char *yaml, const struct sim_overrides *ov, struct sim_scenario *sc,
    struct sim_diag *d)
{
	memset(d, 0, sizeof(*d));
	return sim_scenario_load_string(yaml, strlen(yaml), "t.yaml", ov, sc, d);
}

/* Loads yaml, expecting failure with a message that is exactly want. */
static void
expect_ov(const char *yaml, const struct sim_overrides *ov, const char *want)
{
	struct sim_scenario sc;
	struct sim_diag d;
	enum sim_err rc = load(yaml, ov, &sc, &d);

	CU_ASSERT_EQUAL(rc, SIM_ERR_SCENARIO);
	if (strcmp(d.msg, want) != 0)
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", d.msg, want);
	CU_ASSERT_STRING_EQUAL(d.msg, want);
	/* A failed load leaves nothing to free, but fini must still be safe. */
	CU_ASSERT_PTR_NULL(sc.name);
	CU_ASSERT_PTR_NULL(sc.groups);
	sim_scenario_fini(&sc);
}

static void
expect_msg(const char *yaml, const char *want)
{
	expect_ov(yaml, NULL, want);
}

/* The same, when only the position prefix and a part of the text are fixed
 * (messages from the reports library). */
static void
expect_pos(const char *yaml, const struct sim_overrides *ov, const char *prefix,
    const char *part)
{
	struct sim_scenario sc;
	struct sim_diag d;

	CU_ASSERT_EQUAL(load(yaml, ov, &sc, &d), SIM_ERR_SCENARIO);
	if (strncmp(d.msg, prefix, strlen(prefix)) != 0 || strstr(d.msg, part) == NULL)
		fprintf(stderr, "\n  got:  %s\n  want: %s...%s\n", d.msg, prefix, part);
	CU_ASSERT_NSTRING_EQUAL(d.msg, prefix, strlen(prefix));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, part));
	sim_scenario_fini(&sc);
}

static const char minimal[] =
    "name: quick\n"
    "duration: 30s\n"
    "fleet:\n"
    "  - group: sensors\n"
    "    count: 10\n";

static void
test_full_file(void)
{
	struct sim_scenario sc;
	struct sim_diag d = { "" };
	const struct sim_group *g;
	struct sim_tmpl_vals v = { .id = "sensor-00007", .n = 7, .group = "sensors" };
	char buf[128], want[PATH_MAX + 64];

	CU_ASSERT_EQUAL_FATAL(sim_scenario_load(fixture("full.yaml"), NULL, &sc, &d), SIM_OK);
	CU_ASSERT_STRING_EQUAL(sc.file, fixture("full.yaml"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc.text, "# Every key of scenario schema v1"));
	CU_ASSERT_STRING_EQUAL(sc.name, "full");
	CU_ASSERT_EQUAL(sc.seed, 42);
	CU_ASSERT_EQUAL(sc.duration_ns, 120 * SEC);
	CU_ASSERT_EQUAL(sc.drain_ns, 1500 * MS);

	CU_ASSERT_TRUE(sc.target.given);
	CU_ASSERT_STRING_EQUAL(sc.target.url, "mqtts://broker.example.com");
	CU_ASSERT_TRUE(sc.target.tls);
	CU_ASSERT_STRING_EQUAL(sc.target.host, "broker.example.com");
	CU_ASSERT_EQUAL(sc.target.port, 8883);
	/* TLS paths are resolved against the file's folder, not the cwd. */
	snprintf(want, sizeof(want), "%s/certs/ca.pem", fixtures);
	CU_ASSERT_STRING_EQUAL(sc.target.tls_cfg.ca, want);
	snprintf(want, sizeof(want), "%s/certs/dev.pem", fixtures);
	CU_ASSERT_STRING_EQUAL(sc.target.tls_cfg.cert, want);
	snprintf(want, sizeof(want), "%s/certs/dev.key", fixtures);
	CU_ASSERT_STRING_EQUAL(sc.target.tls_cfg.key, want);
	CU_ASSERT_FALSE(sc.target.tls_cfg.verify);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc.target.username);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc.target.password);
	sim_tmpl_render(sc.target.username, &v, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "sensor-00007");
	sim_tmpl_render(sc.target.password, &v, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "pw-sensors-007");

	CU_ASSERT_EQUAL_FATAL(sc.ngroups, 2);
	g = &sc.groups[0];
	CU_ASSERT_STRING_EQUAL(g->name, "sensors");
	CU_ASSERT_EQUAL(g->pos.line, 12);
	CU_ASSERT_EQUAL(g->pos.col, 12);
	CU_ASSERT_EQUAL(g->count, 1000);
	sim_tmpl_render(g->id, &v, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "sensor-00007");
	CU_ASSERT_EQUAL(g->mqtt_version, 4);
	CU_ASSERT_EQUAL(g->keepalive_ns, 30 * SEC);
	CU_ASSERT_FALSE(g->clean_session);
	CU_ASSERT_EQUAL(g->ramp_ns, 10 * SEC);
	CU_ASSERT_EQUAL(g->connect_max_inflight, 16);
	CU_ASSERT_TRUE(g->telemetry.enabled);
	CU_ASSERT_EQUAL(g->telemetry.every_ns, SEC);
	CU_ASSERT_EQUAL(g->telemetry.jitter_ns, 250 * MS);
	CU_ASSERT_EQUAL(g->telemetry.qos, 2);
	CU_ASSERT_EQUAL(g->telemetry.size, 4096);
	sim_tmpl_render(g->telemetry.topic, &v, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "plant/sensors/sensor-00007/t");

	g = &sc.groups[1];
	CU_ASSERT_STRING_EQUAL(g->name, "gateways");
	CU_ASSERT_EQUAL(g->count, 3);
	CU_ASSERT_EQUAL(g->mqtt_version, 5);
	CU_ASSERT_FALSE(g->telemetry.enabled);
	CU_ASSERT_EQUAL(sim_scenario_devices(&sc), 1003);

	CU_ASSERT_EQUAL_FATAL(sc.nasserts, 2);
	CU_ASSERT_STRING_EQUAL(sc.asserts[0].a.path, "patterns.telemetry.lost");
	CU_ASSERT_EQUAL(sc.asserts[0].a.op, RPT_OP_EQ);
	CU_ASSERT_EQUAL(sc.asserts[0].pos.line, 22);
	CU_ASSERT_EQUAL(sc.asserts[0].pos.col, 5);
	CU_ASSERT_STRING_EQUAL(sc.asserts[1].a.path, "patterns.telemetry.latency_ms.p99");
	CU_ASSERT_EQUAL(sc.asserts[1].a.op, RPT_OP_LT);
	CU_ASSERT_DOUBLE_EQUAL(sc.asserts[1].a.value, 50.0, 1e-9);
	CU_ASSERT_EQUAL(sc.asserts[1].pos.line, 23);
	CU_ASSERT_STRING_EQUAL(sc.report_dir, "reports/out");
	sim_scenario_fini(&sc);
	/* fini leaves a zeroed struct: a second one is harmless. */
	CU_ASSERT_PTR_NULL(sc.groups);
	sim_scenario_fini(&sc);
}

static void
test_defaults(void)
{
	struct sim_scenario sc;
	struct sim_diag d;
	const struct sim_group *g;
	struct sim_tmpl_vals v = { .n = 3, .group = "sensors" };
	char id[64], topic[128];
	char *filter;

	CU_ASSERT_EQUAL_FATAL(load(minimal, NULL, &sc, &d), SIM_OK);
	CU_ASSERT_STRING_EQUAL(sc.text, minimal);
	CU_ASSERT_STRING_EQUAL(sc.file, "t.yaml");
	CU_ASSERT_EQUAL(sc.seed, 1);
	CU_ASSERT_EQUAL(sc.duration_ns, 30 * SEC);
	CU_ASSERT_EQUAL(sc.drain_ns, 5 * SEC);
	CU_ASSERT_FALSE(sc.target.given);
	CU_ASSERT_PTR_NULL(sc.target.url);
	CU_ASSERT_PTR_NULL(sc.target.username);
	CU_ASSERT_EQUAL(sc.nasserts, 0);
	CU_ASSERT_STRING_EQUAL(sc.report_dir, "fleetsim-report");
	CU_ASSERT_EQUAL(sc.report_formats, SIM_REPORT_ALL);
	CU_ASSERT_EQUAL_FATAL(sc.ngroups, 1);
	g = &sc.groups[0];
	CU_ASSERT_EQUAL(g->pos.line, 4);
	CU_ASSERT_EQUAL(g->pos.col, 12);
	sim_tmpl_render(g->id, &v, id, sizeof(id));
	CU_ASSERT_STRING_EQUAL(id, "sensors-3");
	CU_ASSERT_EQUAL(g->mqtt_version, 4);
	CU_ASSERT_EQUAL(g->keepalive_ns, 60 * SEC);
	CU_ASSERT_TRUE(g->clean_session);
	CU_ASSERT_EQUAL(g->ramp_ns, 0);
	CU_ASSERT_EQUAL(g->connect_max_inflight, 64);
	CU_ASSERT_FALSE(g->telemetry.enabled);
	CU_ASSERT_PTR_NULL(g->telemetry.topic);
	sim_scenario_fini(&sc);

	/* Telemetry defaults, and null values taken as absent. */
	CU_ASSERT_EQUAL_FATAL(load("name: q\nduration: 1s\ndrain: ~\nreport:\ntarget:\n"
	    "fleet:\n  - group: sensors\n    count: 10\n    id:\n    telemetry: { every: 2s }\n",
	    NULL, &sc, &d), SIM_OK);
	g = &sc.groups[0];
	CU_ASSERT_EQUAL(sc.drain_ns, 5 * SEC);
	CU_ASSERT_FALSE(sc.target.given);
	CU_ASSERT_STRING_EQUAL(sc.report_dir, "fleetsim-report");
	CU_ASSERT_TRUE(g->telemetry.enabled);
	CU_ASSERT_EQUAL(g->telemetry.every_ns, 2 * SEC);
	CU_ASSERT_EQUAL(g->telemetry.jitter_ns, 0);
	CU_ASSERT_EQUAL(g->telemetry.qos, 0);
	CU_ASSERT_EQUAL(g->telemetry.size, 64);
	v.id = "sensors-3";
	sim_tmpl_render(g->telemetry.topic, &v, topic, sizeof(topic));
	CU_ASSERT_STRING_EQUAL(topic, "devices/sensors-3/telemetry");
	filter = sim_tmpl_to_filter(g->telemetry.topic);
	CU_ASSERT_STRING_EQUAL(filter, "devices/+/telemetry");
	free(filter);
	sim_scenario_fini(&sc);
}

static void
test_values(void)
{
	struct sim_scenario sc;
	struct sim_diag d;

	/* Quoted numbers, sizes in bytes, bounds that are allowed. */
	CU_ASSERT_EQUAL_FATAL(load("name: 7\nseed: 0\nduration: 1h\ndrain: 0\n"
	    "fleet:\n  - group: g\n    count: \"10000000\"\n"
	    "    mqtt: { keepalive: 65535s, version: 5 }\n"
	    "    telemetry: { every: 500us, jitter: 250us, size: 32, qos: '1' }\n",
	    NULL, &sc, &d), SIM_OK);
	CU_ASSERT_STRING_EQUAL(sc.name, "7");
	CU_ASSERT_EQUAL(sc.seed, 0);
	CU_ASSERT_EQUAL(sc.duration_ns, 3600 * SEC);
	CU_ASSERT_EQUAL(sc.drain_ns, 0);
	CU_ASSERT_EQUAL(sc.groups[0].count, 10000000);
	CU_ASSERT_EQUAL(sc.groups[0].keepalive_ns, 65535 * SEC);
	CU_ASSERT_EQUAL(sc.groups[0].mqtt_version, 5);
	CU_ASSERT_EQUAL(sc.groups[0].telemetry.every_ns, 500000);
	CU_ASSERT_EQUAL(sc.groups[0].telemetry.size, 32);
	CU_ASSERT_EQUAL(sc.groups[0].telemetry.qos, 1);
	CU_ASSERT_EQUAL(sim_scenario_devices(&sc), 10000000);
	sim_scenario_fini(&sc);

	CU_ASSERT_EQUAL_FATAL(load("name: s\nseed: 18446744073709551615\nduration: 1s\n"
	    "fleet: [ { group: g, count: 1, id: gateway, telemetry: { every: 1s, size: 256MB } } ]\n",
	    NULL, &sc, &d), SIM_OK);
	CU_ASSERT_EQUAL(sc.seed, UINT64_MAX);
	CU_ASSERT_EQUAL(sc.groups[0].telemetry.size, 256u << 20);
	sim_scenario_fini(&sc);
}

static void
test_urls(void)
{
	static const struct {
		const char *url, *host;
		uint16_t port;
		bool tls;
	} ok[] = {
		{ "mqtt://127.0.0.1:1883", "127.0.0.1", 1883, false },
		{ "mqtt://localhost", "localhost", 1883, false },
		{ "mqtts://broker.example.com", "broker.example.com", 8883, true },
		{ "mqtt://[::1]:1884", "::1", 1884, false },
		{ "mqtts://[2001:db8::7]", "2001:db8::7", 8883, true },
		{ "MQTT://h:65535/", "h", 65535, false },
	};
	char yaml[256];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct sim_scenario sc;
		struct sim_diag d;

		snprintf(yaml, sizeof(yaml), "name: u\nduration: 1s\ntarget: { url: \"%s\" }\n"
		    "fleet: [ { group: g, count: 1 } ]\n", ok[i].url);
		CU_ASSERT_EQUAL_FATAL(load(yaml, NULL, &sc, &d), SIM_OK);
		CU_ASSERT_TRUE(sc.target.given);
		CU_ASSERT_STRING_EQUAL(sc.target.url, ok[i].url);
		CU_ASSERT_STRING_EQUAL(sc.target.host, ok[i].host);
		CU_ASSERT_EQUAL(sc.target.port, ok[i].port);
		CU_ASSERT_EQUAL(sc.target.tls, ok[i].tls);
		CU_ASSERT_TRUE(sc.target.tls_cfg.verify);
		CU_ASSERT_PTR_NULL(sc.target.tls_cfg.ca);
		sim_scenario_fini(&sc);
	}

#define URL(u) "name: u\nduration: 1s\ntarget:\n  url: " u "\nfleet: [ { group: g, count: 1 } ]\n"
	expect_msg(URL("http://x"),
	    "t.yaml:4:8: expected a url starting with mqtt:// or mqtts://");
	expect_msg(URL("mqtt://h:0"), "t.yaml:4:17: expected a port from 1 to 65535");
	expect_msg(URL("mqtt://h:65536"), "t.yaml:4:17: expected a port from 1 to 65535");
	expect_msg(URL("\"mqtt://h:\""), "t.yaml:4:18: expected a port from 1 to 65535");
	expect_msg(URL("mqtt://h:1x"),
	    "t.yaml:4:18: expected nothing after the host and port (MQTT urls have no path)");
	expect_msg(URL("mqtt://h/topic"),
	    "t.yaml:4:17: expected nothing after the host and port (MQTT urls have no path)");
	expect_msg(URL("mqtt://:1883"), "t.yaml:4:15: expected a host name or address");
	expect_msg(URL("mqtt://bad!host"), "t.yaml:4:18: unexpected '!' in the host name");
	expect_msg(URL("mqtt://1.2.3.999"), "t.yaml:4:15: expected an IPv4 address");
	expect_msg(URL("\"mqtt://[::g]\""), "t.yaml:4:17: expected an IPv6 address in [ ]");
	expect_msg(URL("mqtt://[::1"), "t.yaml:4:15: unclosed '[' in the url's host");
	expect_msg(URL("mqtt://u:p@h"),
	    "t.yaml:4:18: expected no user in the url; use the username: and password: keys");
	expect_msg(URL("[a]"), "t.yaml:4:8: expected a url like mqtt://host:1883, not a list");
	expect_msg("name: u\nduration: 1s\ntarget:\n  username: x\nfleet: [ { group: g, count: 1 } ]\n",
	    "t.yaml:4:3: missing key 'url' in target");
#undef URL
}

static void
test_syntax_errors(void)
{
	struct sim_scenario sc;
	struct sim_diag d;
	char path[PATH_MAX + 64];

	expect_msg("name: x\nduration: 1s\n  bad: indent\n",
	    "t.yaml:3:6: invalid YAML: mapping values are not allowed in this context");
	expect_msg("name: \"open\nduration: 1s\n",
	    "t.yaml:3:1: invalid YAML: found unexpected end of stream "
	    "(while scanning a quoted scalar at line 1, column 7)");
	/* Invalid UTF-8 is found by the reader, which counts bytes. */
	expect_msg("name: ok\nduration: 1s\nfleet: \xff\n",
	    "t.yaml:3:8: invalid input: invalid leading UTF-8 octet");
	expect_msg("name: x\nduration: 1s\nfleet: [ { group: g, count: 1 } ]\n---\nname: y\n",
	    "t.yaml:4:1: expected a single YAML document, found a second one");

	snprintf(path, sizeof(path), "%s", fixture("bad-syntax.yaml"));
	CU_ASSERT_EQUAL(sim_scenario_load(path, NULL, &sc, &d), SIM_ERR_SCENARIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "bad-syntax.yaml:8:7: invalid YAML: did not find "
	    "expected ',' or '}' (while parsing a flow mapping at line 7, column 16)"));
	sim_scenario_fini(&sc);
}

static void
test_hazards(void)
{
	struct sim_scenario sc;
	struct sim_diag d;
	char *deep, *big;
	size_t i;

	expect_msg("name: &n x\nduration: 1s\n",
	    "t.yaml:1:7: anchors (&n) are not supported; write each value out");
	expect_msg("a: [x]\nb: *n\n",
	    "t.yaml:2:4: aliases (*n) are not supported; write each value out");
	/* A billion-laughs document stops at its first anchor. */
	expect_msg("a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a]\nc: &c [*b,*b]\n",
	    "t.yaml:1:4: anchors (&a) are not supported; write each value out");

	deep = malloc(200);
	for (i = 0; i < 100; i++)
		deep[i] = '[';
	deep[100] = '\0';
	expect_msg(deep, "t.yaml:1:65: expected at most 64 levels of nesting");
	free(deep);

	big = malloc((16u << 20) + 2);
	memset(big, '#', (16u << 20) + 1);
	big[(16u << 20) + 1] = '\0';
	expect_msg(big, "t.yaml:1:1: expected a scenario of at most 16 MiB");
	free(big);

	expect_msg("", "t.yaml:1:1: expected a scenario: a mapping with name, duration and fleet");
	expect_msg("# only a comment\n",
	    "t.yaml:1:1: expected a scenario: a mapping with name, duration and fleet");
	expect_msg("- a\n- b\n", "t.yaml:1:1: expected a scenario: a mapping with name, "
	    "duration and fleet, not a list");

	CU_ASSERT_EQUAL(sim_scenario_load(fixture("no-such.yaml"), NULL, &sc, &d), SIM_ERR_IO);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "no-such.yaml: cannot read: No such file or directory"));
	sim_scenario_fini(&sc);
	CU_ASSERT_EQUAL(sim_scenario_load(fixtures, NULL, &sc, &d), SIM_ERR_IO);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "scenarios: cannot read: Is a directory"));
	sim_scenario_fini(&sc);
}

static void
test_unknown_keys(void)
{
	expect_msg("name: x\nduraton: 1s\n",
	    "t.yaml:2:1: unknown key 'duraton' in the scenario; expected one of: "
	    "name, seed, duration, drain, time_scale, epoch, target, fleet, patterns, assert, report");
	expect_msg("name: x\nduration: 1s\nfleet:\n  - group: g\n    count: 1\n"
	    "    telemetry: { every: 1s, qso: 1 }\n",
	    "t.yaml:6:29: unknown key 'qso' in telemetry; expected one of: "
	    "every, jitter, qos, topic, size");
	expect_msg("name: x\nduration: 1s\nfleet:\n  - group: g\n    cuont: 1\n",
	    "t.yaml:5:5: unknown key 'cuont' in the fleet group; expected one of: "
	    "group, count, id, model, hal, mqtt, connect, telemetry");
	expect_msg("name: x\nduration: 1s\ntarget: { url: mqtts://h, tls: { ca: x, pass: y } }\n",
	    "t.yaml:3:41: unknown key 'pass' in tls; expected one of: ca, cert, key, verify");
	expect_msg("name: x\nduration: 1s\nfleet: [ { group: g, count: 1 } ]\n"
	    "report: { folder: x }\n",
	    "t.yaml:4:11: unknown key 'folder' in report; expected one of: dir, formats");
	expect_msg("name: x\nduration: 1s\nfleet: [ { group: g, count: 1 } ]\n"
	    "report: { formats: [json, pdf] }\n",
	    "t.yaml:4:27: expected a report format: json, junit, html or csv");
	expect_msg("name: x\nduration: 1s\nfleet: [ { group: g, count: 1 } ]\n"
	    "report: { formats: json }\n",
	    "t.yaml:4:20: expected a list of formats like [json, junit, html, csv], not a scalar");
	expect_msg("name: x\nname: y\n", "t.yaml:2:1: duplicate key 'name' in the scenario");
	expect_msg("name: x\n[a]: y\n",
	    "t.yaml:2:1: expected a key name in the scenario, not a list");
}

static void
test_wrong_types(void)
{
	expect_msg("name: x\nduration: 1s\nfleet:\n  group: g\n",
	    "t.yaml:4:3: expected a list of groups (- group: NAME), not a mapping");
	expect_msg("name: x\nduration: 1s\nfleet:\n",
	    "t.yaml:3:7: expected a list of groups (- group: NAME), not an empty value");
	expect_msg("name: x\nduration: 1s\nfleet: []\n",
	    "t.yaml:3:8: expected at least one group in fleet");
	expect_msg("name: x\nduration: 1s\nfleet:\n  - sensors\n",
	    "t.yaml:4:5: expected a group mapping like { group: sensors, count: 10 }, "
	    "not a scalar");
	expect_msg("name: [x]\n", "t.yaml:1:7: expected a scenario name, not a list");
	expect_msg("name: ''\n", "t.yaml:1:7: expected a scenario name, not an empty value");
	expect_msg("name: x\nduration: { s: 1 }\n",
	    "t.yaml:2:11: expected a duration like 250ms, 10s, 1m, not a mapping");
	expect_msg("name: x\nduration: soon\n",
	    "t.yaml:2:11: expected a duration like 250ms, 10s, 1m");
	expect_msg("name: x\nduration: 30\n",
	    "t.yaml:2:11: expected a duration like 250ms, 10s, 1m (a number needs a unit)");
	expect_msg("name: x\nduration: 1s\ntarget: mqtt://h\n",
	    "t.yaml:3:9: expected a mapping like { url: mqtt://host:1883 }, not a scalar");
	expect_msg("name: x\nduration: 1s\nfleet:\n  - group: g\n    count: 1\n    telemetry: 1s\n",
	    "t.yaml:6:16: expected a mapping like { every: 1s, qos: 1 }, not a scalar");
	expect_msg("name: x\nduration: 1s\nfleet:\n  - group: g\n    count: 1\n"
	    "    mqtt: { clean_session: maybe }\n",
	    "t.yaml:6:28: expected true or false");
	expect_msg("name: x\nduration: 1s\nfleet:\n  - group: g\n    count: 1\n"
	    "    mqtt: { version: 4 }\n",
	    "t.yaml:6:22: expected an MQTT version \"3.1.1\" or \"5\"");
	expect_msg("name: x\nduration: 1s\nfleet:\n  - group: g\n    count: 1\n"
	    "    telemetry: { every: 1s, size: big }\n",
	    "t.yaml:6:35: expected a size like 128, 4KB, 1MB");
	expect_msg("name: x\nduration: 1s\nfleet: [ { group: g, count: 1 } ]\nassert: yes\n",
	    "t.yaml:4:9: expected a list of assertions like - patterns.telemetry.lost == 0, "
	    "not a scalar");
	expect_msg("name: x\nduration: 1s\nfleet: [ { group: g, count: 1 } ]\nassert:\n  - { a: 1 }\n",
	    "t.yaml:5:5: expected an assertion like patterns.telemetry.lost == 0, not a mapping");
}

static void
test_ranges(void)
{
#define G(x) "name: x\nduration: 1s\nfleet:\n  - group: g\n" x
	expect_msg(G("    count: 0\n"), "t.yaml:5:12: expected a whole number >= 1");
	expect_msg(G("    count: -3\n"), "t.yaml:5:12: expected a whole number >= 1");
	expect_msg(G("    count: 2.5\n"), "t.yaml:5:12: expected a whole number >= 1");
	expect_msg(G("    count: 10000001\n"),
	    "t.yaml:5:12: expected at most 10000000 devices in a group");
	expect_msg(G("    count: 99999999999999999999999\n"),
	    "t.yaml:5:12: expected at most 10000000 devices in a group");
	expect_msg(G("    count: 1\n    telemetry: { every: 1s, qos: 3 }\n"),
	    "t.yaml:6:34: expected a qos of 0, 1 or 2");
	expect_msg(G("    count: 1\n    telemetry: { every: 1s, jitter: 2s }\n"),
	    "t.yaml:6:37: expected a jitter no larger than half of every");
	expect_msg(G("    count: 1\n    telemetry: { every: 1s, jitter: 501ms }\n"),
	    "t.yaml:6:37: expected a jitter no larger than half of every");
	expect_msg(G("    count: 1\n    telemetry: { every: 0s }\n"),
	    "t.yaml:6:25: expected a duration > 0, like 250ms, 10s, 1m");
	expect_msg(G("    count: 1\n    telemetry: { every: 1s, size: 31 }\n"),
	    "t.yaml:6:35: expected a size from 32B to 256MB");
	expect_msg(G("    count: 1\n    telemetry: { every: 1s, size: 257MB }\n"),
	    "t.yaml:6:35: expected a size from 32B to 256MB");
	expect_msg(G("    count: 1\n    mqtt: { keepalive: 1500ms }\n"),
	    "t.yaml:6:24: expected a keepalive in whole seconds from 0s to 65535s");
	expect_msg(G("    count: 1\n    mqtt: { keepalive: 65536s }\n"),
	    "t.yaml:6:24: expected a keepalive in whole seconds from 0s to 65535s");
	expect_msg(G("    count: 1\n    connect: { max_inflight: 0 }\n"),
	    "t.yaml:6:30: expected a whole number >= 1");
	expect_msg(G("    count: 1\n    connect: { ramp: -1s }\n"),
	    "t.yaml:6:22: expected a duration >= 0, like 250ms, 10s, 1m");
#undef G
	expect_msg("name: x\nduration: 0s\n",
	    "t.yaml:2:11: expected a duration > 0, like 250ms, 10s, 1m");
	expect_msg("name: x\nduration: -5s\n",
	    "t.yaml:2:11: expected a duration >= 0, like 250ms, 10s, 1m");
	expect_msg("name: x\nseed: -1\n", "t.yaml:2:7: expected a whole number >= 0");
	expect_msg("name: x\nseed: 18446744073709551616\n",
	    "t.yaml:2:7: expected a seed below 2^64");
}

static void
test_missing_keys(void)
{
	expect_msg("seed: 1\nduration: 1s\n", "t.yaml:1:1: missing key 'name' in the scenario");
	expect_msg("name: x\nfleet: []\n", "t.yaml:1:1: missing key 'duration' in the scenario");
	expect_msg("name: x\nduration: 1s\n", "t.yaml:1:1: missing key 'fleet' in the scenario");
	expect_msg("name: x\nduration: 1s\nfleet:\n  - count: 1\n",
	    "t.yaml:4:5: missing key 'group' in the fleet group");
	expect_msg("name: x\nduration: 1s\nfleet:\n  - group: g\n    id: a\n",
	    "t.yaml:4:5: missing key 'count' in group 'g'");
	expect_msg("name: x\nduration: 1s\nfleet:\n  - group: g\n    count: 1\n"
	    "    telemetry: { qos: 1 }\n",
	    "t.yaml:6:16: missing key 'every' in telemetry");
	expect_msg("name: x\nduration:\n", "t.yaml:2:10: expected a duration like 250ms, 10s, 1m");
}

static void
test_duplicate_groups(void)
{
	expect_msg("name: x\nduration: 1s\nfleet:\n  - group: a\n    count: 1\n"
	    "  - group: b\n    count: 1\n  - group: a\n    count: 2\n",
	    "t.yaml:8:12: duplicate group name 'a'");
}

static void
test_templates(void)
{
#define G(x) "name: x\nduration: 1s\nfleet:\n  - group: g\n    count: 5\n" x
	/* Plain scalars: the offset counts from the value's first column. */
	expect_msg(G("    id: dev-{nn}\n"),
	    "t.yaml:6:13: unknown variable {nn}; expected {n}, {n:0W} or {group}");
	/* Quoted scalars: one more for the quote. */
	expect_msg(G("    id: \"dev-{id}\"\n"),
	    "t.yaml:6:14: {id} cannot be used here; expected {n}, {n:0W} or {group}");
	expect_msg(G("    telemetry: { every: 1s, topic: 'a/{n:0}/b' }\n"),
	    "t.yaml:6:39: expected {n:0W} with a width W from 1 to 20, like {n:05}");
	expect_msg(G("    telemetry: { every: 1s, topic: \"x/{id\" }\n"),
	    "t.yaml:6:39: unclosed '{'; write '{{' for a literal brace");
	/* Columns count characters, as libyaml's do, not bytes. */
	expect_msg(G("    id: \"d\xc3\xa9v-{x}\"\n"),
	    "t.yaml:6:14: unknown variable {x}; expected {n}, {n:0W} or {group}");
	/* A block scalar's content has no single column: point at the scalar. */
	expect_msg(G("    id: |\n      dev-{x}\n"),
	    "t.yaml:6:9: unknown variable {x}; expected {n}, {n:0W} or {group}");
	expect_msg(G("    id: fixed\n"),
	    "t.yaml:6:9: expected an id that uses {n}, so that the 5 devices get distinct ids");
	expect_msg(G("    id: ''\n"), "t.yaml:6:9: expected an id template, not an empty string");
	expect_msg(G("    telemetry: { every: 1s, topic: a/+/b }\n"),
	    "t.yaml:6:38: '+' is a wildcard; a topic name cannot contain '+' or '#'");
	expect_msg(G("    telemetry: { every: 1s, topic: \"a/{n}/#\" }\n"),
	    "t.yaml:6:43: '#' is a wildcard; a topic name cannot contain '+' or '#'");
	expect_msg(G("    telemetry: { every: 1s, topic: '' }\n"),
	    "t.yaml:6:36: expected a topic name, not an empty string");
	expect_msg(G("    telemetry: { every: 1s, topic: $SYS/x }\n"),
	    "t.yaml:6:36: topics starting with '$' are reserved for the broker");
	expect_msg(G("    id: a/{n}\n    telemetry: { every: 1s }\n"),
	    "t.yaml:6:10: the topic uses the id, so it cannot contain '/', '+' or '#'");
	expect_msg("name: x\nduration: 1s\nfleet:\n  - group: a/b\n    count: 1\n"
	    "    telemetry: { every: 1s }\n",
	    "t.yaml:4:12: expected a group name of letters, digits, '_' and '-' (it becomes "
	    "part of report paths), got 'a/b'");
	expect_msg("name: x\nduration: 1s\nfleet:\n  - group: a.b\n    count: 1\n",
	    "t.yaml:4:12: expected a group name of letters, digits, '_' and '-' (it becomes "
	    "part of report paths), got 'a.b'");
	expect_msg("name: x\nduration: 1s\ntarget: { url: mqtt://h, username: 'u-{x}' }\n"
	    "fleet: [ { group: g, count: 1 } ]\n",
	    "t.yaml:3:39: unknown variable {x}; expected {id}, {n}, {n:0W} or {group}");
#undef G
}

static void
test_asserts(void)
{
	/* Offsets come from rpt_assert_parse; the exact wording is its own. */
	expect_pos("name: x\nduration: 1s\nfleet: [ { group: g, count: 1 } ]\n"
	    "assert:\n  - patterns.telemetry.lost = 0\n",
	    NULL, "t.yaml:5:29: ", "operator");
	expect_pos("name: x\nduration: 1s\nfleet: [ { group: g, count: 1 } ]\n"
	    "assert:\n  - \"patterns..lost == 0\"\n",
	    NULL, "t.yaml:5:15: ", "path segment");
	expect_pos("name: x\nduration: 1s\nfleet: [ { group: g, count: 1 } ]\n"
	    "assert: [ ok == 1, 'lat < ' ]\n",
	    NULL, "t.yaml:4:27: ", "number");
}

static void
test_tls(void)
{
	struct sim_scenario sc;
	struct sim_diag d;
	char yaml[1024], path[3 * PATH_MAX];

	CU_ASSERT_EQUAL(sim_scenario_load(fixture("missing-tls-file.yaml"), NULL, &sc, &d),
	    SIM_ERR_SCENARIO);
	snprintf(path, sizeof(path), "%s:7:9: cannot read the ca file %s/certs/missing.pem: "
	    "No such file or directory", fixture("missing-tls-file.yaml"), fixtures);
	CU_ASSERT_STRING_EQUAL(d.msg, path);
	sim_scenario_fini(&sc);

	/* From a string, file still anchors relative paths. */
	snprintf(path, sizeof(path), "%s", fixture("inline.yaml"));
	snprintf(yaml, sizeof(yaml), "name: x\nduration: 1s\ntarget:\n  url: mqtts://h\n"
	    "  tls:\n    cert: certs/dev.pem\n    verify: true\nfleet: [ { group: g, count: 1 } ]\n");
	CU_ASSERT_EQUAL(sim_scenario_load_string(yaml, strlen(yaml), path, NULL, &sc, &d),
	    SIM_ERR_SCENARIO);
	snprintf(path, sizeof(path), "%s:6:5: expected cert and key together; key is missing",
	    fixture("inline.yaml"));
	CU_ASSERT_STRING_EQUAL(d.msg, path);
	sim_scenario_fini(&sc);

	snprintf(path, sizeof(path), "%s", fixture("inline.yaml"));
	snprintf(yaml, sizeof(yaml), "name: x\nduration: 1s\ntarget:\n  url: mqtts://h\n"
	    "  tls: { ca: certs/ca.pem }\nfleet: [ { group: g, count: 1 } ]\n");
	CU_ASSERT_EQUAL_FATAL(sim_scenario_load_string(yaml, strlen(yaml), path, NULL, &sc, &d),
	    SIM_OK);
	snprintf(path, sizeof(path), "%s/certs/ca.pem", fixtures);
	CU_ASSERT_STRING_EQUAL(sc.target.tls_cfg.ca, path);
	CU_ASSERT_PTR_NULL(sc.target.tls_cfg.cert);
	CU_ASSERT_TRUE(sc.target.tls_cfg.verify);
	sim_scenario_fini(&sc);

	expect_msg("name: x\nduration: 1s\ntarget:\n  url: mqtt://h\n  tls: { verify: false }\n",
	    "t.yaml:5:8: tls needs an mqtts:// url");
}

static void
test_set(void)
{
	struct sim_scenario sc;
	struct sim_diag d;
	const char *sets[4];
	struct sim_overrides ov = { .sets = sets };
	struct sim_tmpl_vals v = { .id = "sensors-1", .n = 1, .group = "sensors" };
	char buf[64];

	/* Override a value, add a key, and create a mapping. */
	sets[0] = "fleet.sensors.count=5000";
	sets[1] = "fleet.sensors.telemetry.every=250ms";
	sets[2] = "report.dir=out/x";
	sets[3] = "seed=9";
	ov.nsets = 4;
	CU_ASSERT_EQUAL_FATAL(load(minimal, &ov, &sc, &d), SIM_OK);
	CU_ASSERT_EQUAL(sc.groups[0].count, 5000);
	CU_ASSERT_TRUE(sc.groups[0].telemetry.enabled);
	CU_ASSERT_EQUAL(sc.groups[0].telemetry.every_ns, 250 * MS);
	CU_ASSERT_STRING_EQUAL(sc.report_dir, "out/x");
	CU_ASSERT_EQUAL(sc.seed, 9);
	/* The text kept for the report is the file's, not the result. */
	CU_ASSERT_STRING_EQUAL(sc.text, minimal);
	sim_scenario_fini(&sc);

	/* A group key first applies to every group; a null value is replaced. */
	sets[0] = "telemetry.topic=t/{group}/{n}";
	sets[1] = "telemetry.every=1s";
	sets[2] = "target.url=mqtt://10.0.0.1:1999";
	ov.nsets = 3;
	CU_ASSERT_EQUAL_FATAL(load("name: q\nduration: 1s\ntarget:\nfleet:\n"
	    "  - group: sensors\n    count: 2\n  - group: b\n    count: 1\n"
	    "    telemetry: { every: 5s, qos: 1 }\n", &ov, &sc, &d), SIM_OK);
	CU_ASSERT_EQUAL_FATAL(sc.ngroups, 2);
	sim_tmpl_render(sc.groups[0].telemetry.topic, &v, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "t/sensors/1");
	CU_ASSERT_EQUAL(sc.groups[0].telemetry.every_ns, SEC);
	CU_ASSERT_EQUAL(sc.groups[1].telemetry.every_ns, SEC);
	CU_ASSERT_EQUAL(sc.groups[1].telemetry.qos, 1);
	CU_ASSERT_TRUE(sc.target.given);
	CU_ASSERT_STRING_EQUAL(sc.target.host, "10.0.0.1");
	CU_ASSERT_EQUAL(sc.target.port, 1999);
	CU_ASSERT_EQUAL(sc.groups[0].pos.line, 5);
	sim_scenario_fini(&sc);

	/* Everything from --set, on an empty file. */
	sets[0] = "name=n";
	sets[1] = "duration=2s";
	ov.nsets = 2;
	expect_ov("", &ov, "--set name=n:1:1: missing key 'fleet' in the scenario");

	/* Bad values are reported at their column in the argument. */
	sets[0] = "fleet.sensors.count=abc";
	ov.nsets = 1;
	expect_ov(minimal, &ov, "--set fleet.sensors.count=abc:1:21: expected a whole number >= 1");
	sets[0] = "fleet.sensors.id=s-{x}";
	expect_ov(minimal, &ov, "--set fleet.sensors.id=s-{x}:1:20: unknown variable {x}; "
	    "expected {n}, {n:0W} or {group}");
	sets[0] = "fleet.sensors.telemetry.evry=1s";
	expect_ov(minimal, &ov, "--set fleet.sensors.telemetry.evry=1s:1:25: unknown key 'evry' "
	    "in telemetry; expected one of: every, jitter, qos, topic, size");
	sets[0] = "fleet.sensors.telemetry.qos=1";
	expect_ov(minimal, &ov,
	    "--set fleet.sensors.telemetry.qos=1:1:15: missing key 'every' in telemetry");
	sets[0] = "fleet.nosuch.count=1";
	expect_ov(minimal, &ov, "--set fleet.nosuch.count=1: no group named 'nosuch' in fleet");
	sets[0] = "fleet.sensors=1";
	expect_ov(minimal, &ov, "--set fleet.sensors=1:1:14: expected a key of group 'sensors' "
	    "after it, like fleet.sensors.count");
	sets[0] = "name.x=1";
	expect_ov(minimal, &ov,
	    "--set name.x=1:1:6: name holds a value, not a mapping; cannot set 'x' in it");
	sets[0] = "count";
	expect_ov(minimal, &ov, "--set count: expected PATH=VALUE, like fleet.sensors.count=5000");
	sets[0] = "fleet..count=1";
	expect_ov(minimal, &ov, "--set fleet..count=1:1:7: expected a key name");
	sets[0] = "assert.x=1";
	expect_ov("name: x\nduration: 1s\nfleet: [ { group: g, count: 1 } ]\nassert: [ a == 1 ]\n",
	    &ov, "--set assert.x=1: assert is a list; only the groups of fleet can be "
	    "addressed, by name");
	sets[0] = "telemetry.qos=1";
	expect_ov("name: x\nduration: 1s\n", &ov,
	    "--set telemetry.qos=1: telemetry is a group key, and there is no fleet list to "
	    "apply it to");
	sets[0] = "fleet=none";
	expect_ov(minimal, &ov,
	    "--set fleet=none:1:7: expected a list of groups (- group: NAME), not a scalar");
	sets[0] = "name=\xc3";
	expect_ov(minimal, &ov, "--set name=\xc3: expected UTF-8 text");
	/* The file's own errors still point into the file. */
	sets[0] = "seed=3";
	expect_ov("name: x\nduration: 1s\nfleet: [ { group: g, count: 0 } ]\n", &ov,
	    "t.yaml:3:29: expected a whole number >= 1");
}

static void
test_overrides(void)
{
	struct sim_scenario sc;
	struct sim_diag d;
	struct sim_overrides ov = { 0 };

	ov.broker_url = "mqtts://[::1]:8884";
	ov.report_dir = "elsewhere";
	ov.has_seed = true;
	ov.seed = 77;
	CU_ASSERT_EQUAL_FATAL(load("name: x\nduration: 1s\nseed: 3\n"
	    "target:\n  url: mqtt://ignored\n  username: '{id}'\n"
	    "report: { dir: here }\nfleet: [ { group: g, count: 1 } ]\n", &ov, &sc, &d), SIM_OK);
	CU_ASSERT_TRUE(sc.target.given);
	CU_ASSERT_STRING_EQUAL(sc.target.url, "mqtts://[::1]:8884");
	CU_ASSERT_STRING_EQUAL(sc.target.host, "::1");
	CU_ASSERT_EQUAL(sc.target.port, 8884);
	CU_ASSERT_TRUE(sc.target.tls);
	CU_ASSERT_PTR_NOT_NULL(sc.target.username);
	CU_ASSERT_STRING_EQUAL(sc.report_dir, "elsewhere");
	CU_ASSERT_EQUAL(sc.seed, 77);
	sim_scenario_fini(&sc);

	/* --broker alone makes a target. */
	memset(&ov, 0, sizeof(ov));
	ov.broker_url = "mqtt://broker";
	CU_ASSERT_EQUAL_FATAL(load(minimal, &ov, &sc, &d), SIM_OK);
	CU_ASSERT_TRUE(sc.target.given);
	CU_ASSERT_STRING_EQUAL(sc.target.host, "broker");
	CU_ASSERT_EQUAL(sc.target.port, 1883);
	sim_scenario_fini(&sc);

	ov.broker_url = "tcp://broker:1883";
	expect_ov(minimal, &ov, "--broker: expected a url starting with mqtt:// or mqtts:// "
	    "(in 'tcp://broker:1883', at column 1)");
	ov.broker_url = "mqtt://broker:99999";
	expect_ov(minimal, &ov, "--broker: expected a port from 1 to 65535 "
	    "(in 'mqtt://broker:99999', at column 15)");
	ov.broker_url = "mqtt://broker";
	expect_ov("name: x\nduration: 1s\ntarget:\n  tls: { verify: false }\n"
	    "fleet: [ { group: g, count: 1 } ]\n", &ov,
	    "t.yaml:4:8: tls needs an mqtts:// url (the url comes from --broker)");
}

static void
test_fini(void)
{
	struct sim_scenario sc;

	memset(&sc, 0, sizeof(sc));
	sim_scenario_fini(&sc);
	sim_scenario_fini(NULL);
	CU_ASSERT_EQUAL(sim_scenario_devices(&sc), 0);
	/* Partly filled, as a failing loader might leave it. */
	sc.name = strdup("x");
	sc.groups = calloc(2, sizeof(*sc.groups));
	sc.ngroups = 2;
	sc.groups[0].name = strdup("g");
	sc.asserts = calloc(1, sizeof(*sc.asserts));
	sc.nasserts = 1;
	sim_scenario_fini(&sc);
	CU_ASSERT_PTR_NULL(sc.name);
	CU_ASSERT_EQUAL(sc.ngroups, 0);
}

/* report.json is always written: assertions, merge and compare read it. */
static void
test_formats(void)
{
	struct sim_scenario sc;
	struct sim_diag d;
	const char *sets[1] = { "report.dir=x" };
	struct sim_overrides ov = { .sets = sets, .nsets = 1 };

	CU_ASSERT_EQUAL_FATAL(load("name: x\nduration: 1s\nfleet: [ { group: g, count: 1 } ]\n"
	    "report: { formats: [junit, csv] }\n", NULL, &sc, &d), SIM_OK);
	CU_ASSERT_EQUAL(sc.report_formats, SIM_REPORT_JSON | SIM_REPORT_JUNIT | SIM_REPORT_CSV);
	sim_scenario_fini(&sc);
	CU_ASSERT_EQUAL_FATAL(load("name: x\nduration: 1s\nfleet: [ { group: g, count: 1 } ]\n"
	    "report: { formats: [] }\n", &ov, &sc, &d), SIM_OK);
	CU_ASSERT_EQUAL(sc.report_formats, SIM_REPORT_JSON);
	sim_scenario_fini(&sc);
}


/* Models: the built-in ones by name, a group's hal: patch, and errors
 * cited in whichever file holds the bad value. */
static void
test_models(void)
{
	static const char *yaml =
	    "name: m\nduration: 1s\ntime_scale: 60\nepoch: 2026-01-01T00:00:01.5Z\nfleet:\n"
	    "  - group: rooms\n    model: thermostat\n    count: 3\n"
	    "    hal:\n      sensors: { temp: { noise: 0.5 }, extra: { gen: constant, value: 4 } }\n"
	    "      link: { latency: 50ms, disconnect: { mtbf: 60s, mttr: 2s } }\n"
	    "      power: { crash: { mtbf: 30m } }\n"
	    "  - group: plain\n    count: 1\n    telemetry: { every: 1s }\n";
	struct sim_scenario sc;
	struct sim_diag d;
	const struct dev_model *m;
	int t;

	CU_ASSERT_EQUAL_FATAL(load(yaml, NULL, &sc, &d), SIM_OK);
	CU_ASSERT_DOUBLE_EQUAL(sc.time_scale, 60, 1e-9);
	CU_ASSERT(sc.has_epoch);
	CU_ASSERT_EQUAL(sc.epoch_ns, INT64_C(1767225601500000000));
	m = sc.groups[0].model;
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(m->name, "thermostat");
	t = dev_model_sensor(m, "temp");
	CU_ASSERT_FATAL(t >= 0);
	/* Patched: noise; kept: the generator and its parameters. */
	CU_ASSERT_DOUBLE_EQUAL(m->sensors[t].cfg.noise, 0.5, 1e-12);
	CU_ASSERT_EQUAL(m->sensors[t].cfg.gen, HAL_GEN_SINE);
	CU_ASSERT_DOUBLE_EQUAL(m->sensors[t].cfg.sine.mean, 17, 1e-12);
	CU_ASSERT(dev_model_sensor(m, "extra") >= 0);
	CU_ASSERT_EQUAL(m->link.latency.dist, HAL_LINK_FIXED);
	CU_ASSERT_DOUBLE_EQUAL(m->link.latency.mean, 50e6, 1);
	CU_ASSERT_EQUAL(m->link.disconnect_mtbf, UINT64_C(60000000000));
	CU_ASSERT_EQUAL(m->power.crash_mtbf, UINT64_C(1800000000000));
	CU_ASSERT_EQUAL(m->power.boot_time, UINT64_C(3000000000));
	/* Without a telemetry: mapping the group sends the model's. */
	CU_ASSERT(sc.groups[0].telemetry.enabled);
	CU_ASSERT(sc.groups[0].telemetry.model_payload);
	CU_ASSERT_EQUAL(sc.groups[0].telemetry.every_ns, UINT64_C(60000000000));
	CU_ASSERT_EQUAL(sc.groups[0].telemetry.qos, 1);
	CU_ASSERT_PTR_NULL(sc.groups[1].model);
	CU_ASSERT(!sc.groups[1].telemetry.model_payload);
	sim_scenario_fini(&sc);

	/* size: replaces the model's payload with padding; qos: wins. */
	CU_ASSERT_EQUAL_FATAL(load("name: m\nduration: 1s\nfleet:\n  - group: g\n"
	    "    model: smart-meter\n    count: 1\n    telemetry: { size: 100, qos: 0 }\n", NULL,
	    &sc, &d), SIM_OK);
	CU_ASSERT(!sc.groups[0].telemetry.model_payload);
	CU_ASSERT_EQUAL(sc.groups[0].telemetry.size, 100);
	CU_ASSERT_EQUAL(sc.groups[0].telemetry.qos, 0);
	CU_ASSERT_EQUAL(sc.groups[0].telemetry.every_ns, UINT64_C(900000000000));
	sim_scenario_fini(&sc);

#define GRP "name: m\nduration: 1s\nfleet:\n  - group: g\n    count: 1\n"
	expect_msg(GRP "    model: toaster\n",
	    "t.yaml:6:12: unknown model 'toaster'; expected one of: camera, door-lock, smart-meter, "
	    "temperature-sensor, thermostat");
	expect_msg(GRP "    hal: { link: { latency: 5ms } }\n",
	    "t.yaml:6:10: expected hal: only in a group with a model:");
	expect_msg(GRP "    model: thermostat\n    hal: { radio: {} }\n",
	    "t.yaml:7:12: unknown key 'radio' in hal; expected one of: sensors, actuators, flash, "
	    "power, boot, link, clock");
	expect_msg(GRP "    model: thermostat\n    hal: { sensors: { temp: { amplitude: x } } }\n",
	    "t.yaml:7:42: expected a number like 21.5");
	expect_msg(GRP "    model: thermostat\n    hal: { sensors: { temp: { sd: 1 } } }\n",
	    "t.yaml:7:35: 'sd' is not a parameter of gen sine; expected one of: mean, amplitude, "
	    "period, phase");
	expect_msg(GRP "    model: thermostat\n    hal: { sensors: { new: { noise: 1 } } }\n",
	    "t.yaml:7:28: missing key 'gen' in the sensor");
	expect_msg(GRP "    model: thermostat\n    hal: { link: { latency: { dist: gamma } } }\n",
	    "t.yaml:7:37: expected a distribution: fixed, uniform, normal, lognormal");
	expect_msg(GRP "    model: thermostat\n    hal: { power: { crash: { mtbf: 1/h } } }\n",
	    "t.yaml:7:36: expected " "a duration like 250ms, 10s, 1m");
	/* A problem found once the patch is applied is cited where the
	 * patch wrote it: the actuator's sensor no longer exists. */
	expect_msg(GRP "    model: thermostat\n    hal: { actuators: { heater: { sensor: nope } } }\n",
	    "t.yaml:7:33: actuator 'heater': unknown sensor 'nope'; the model has: temp");
	expect_msg("name: m\nduration: 1s\ntime_scale: 0\nfleet: [ { group: g, count: 1 } ]\n",
	    "t.yaml:3:13: expected a time_scale from 0.000001 to 1000000 (simulated seconds per "
	    "real second)");
	expect_msg("name: m\nduration: 1s\nepoch: yesterday\nfleet: [ { group: g, count: 1 } ]\n",
	    "t.yaml:3:8: expected a UTC time like 2026-01-01T00:00:00Z");
#undef GRP
}

/* A model file of one's own, by path and through $FLEETSIM_MODELS; its
 * errors name the model file. */
static void
test_model_files(void)
{
	char dir[] = "/tmp/fleetsim-models-XXXXXX", path[PATH_MAX], yaml[PATH_MAX + 256];
	struct sim_scenario sc;
	struct sim_diag d;
	struct dev_model m;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/probe.yaml", dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("model: probe\nsensors:\n  t: { gen: normal, mean: 5, sd: 1 }\n"
	    "telemetry:\n  every: 2s\n  payload: '{\"t\": {sensor.tx}}'\n", f);
	fclose(f);
	snprintf(yaml, sizeof(yaml), "name: m\nduration: 1s\nfleet:\n  - group: g\n    count: 1\n"
	    "    model: %s\n", path);
	CU_ASSERT_EQUAL(load(yaml, NULL, &sc, &d), SIM_ERR_SCENARIO);
	snprintf(yaml, sizeof(yaml), "%s:6:19: telemetry payload: unknown sensor 'tx' in {sensor.tx}; the model has: t",
	    path);
	CU_ASSERT_STRING_EQUAL(d.msg, yaml);
	CU_ASSERT_EQUAL(sim_model_load(path, &m, &d), SIM_ERR_SCENARIO);
	CU_ASSERT_STRING_EQUAL(d.msg, yaml);

	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("model: probe\nsensors:\n  t: { gen: normal, mean: 5, sd: 1 }\n"
	    "telemetry:\n  every: 2s\n  payload: '{\"t\": {sensor.t:.1f}}'\n", f);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(sim_model_load(path, &m, &d), SIM_OK);
	CU_ASSERT_STRING_EQUAL(m.name, "probe");
	CU_ASSERT_EQUAL(m.every_ns, UINT64_C(2000000000));
	dev_model_fini(&m);
	setenv("FLEETSIM_MODELS", dir, 1);
	CU_ASSERT_EQUAL(load("name: m\nduration: 1s\nfleet:\n  - group: g\n    count: 1\n"
	    "    model: probe\n", NULL, &sc, &d), SIM_OK);
	CU_ASSERT_EQUAL(sc.groups[0].telemetry.every_ns, UINT64_C(2000000000));
	sim_scenario_fini(&sc);
	unsetenv("FLEETSIM_MODELS");
	unlink(path);
	rmdir(dir);
}

/* patterns: two_phase_commit. The fleet every case below builds on:
 * thermostats and smart meters have flash, a door lock has none, and a
 * group without a model has no hardware at all. Pattern keys stand at
 * line 14, column 7. */
#define TPC_FLEET \
	"name: t\nduration: 1s\nfleet:\n" \
	"  - group: rooms\n    model: thermostat\n    count: 20\n" \
	"  - group: doors\n    model: door-lock\n    count: 5\n" \
	"  - group: plain\n    count: 5\n" \
	"patterns:\n  - two_phase_commit:\n"

/* The pattern's topics, the participants' rendered for device rooms-3. */
static void
check_tpc_topics(const struct sim_tpc_cfg *t, const char *prepare, const char *decision,
    const char *vote, const char *ack, const char *query)
{
	struct sim_tmpl_vals tv = { .id = "rooms-3", .n = 3, .group = "rooms" };
	char buf[128];

	sim_tmpl_render(t->prepare_topic, &tv, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, prepare);
	sim_tmpl_render(t->decision_topic, &tv, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, decision);
	CU_ASSERT_STRING_EQUAL(t->vote_topic, vote);
	CU_ASSERT_STRING_EQUAL(t->ack_topic, ack);
	CU_ASSERT_STRING_EQUAL(t->query_topic, query);
}

static void
test_tpc_full(void)
{
	static const char yaml[] =
	    "name: t\nduration: 1s\nfleet:\n"
	    "  - group: rooms\n    model: thermostat\n    count: 20\n"
	    "  - group: meters\n    model: smart-meter\n    count: 4\n"
	    "patterns:\n"
	    "  - request_response: { direction: c2d, method: ping, rate: 5/s }\n"
	    "  - two_phase_commit:\n"
	    "      coordinator: fleetsim\n"
	    "      group_size: 5\n"
	    "      targets: { group: rooms, share: 50% }\n"
	    "      rate: 20/s\n"
	    "      deadline: 3s\n"
	    "      resend: 250ms\n"
	    "      recovery: 20s\n"
	    "      change: '{\"key_slot\": {tx.n}}'\n"
	    "      qos: 0\n"
	    "      min_battery: 20%\n"
	    "      topics: { prepare: \"p/{group}/{id}\", decision: \"d/{n}/{id}\", vote: c/vote,\n"
	    "                ack: c/ack, query: c/query }\n"
	    "      faults: { vote_no: 2%, crash_before_vote: 0.005, crash_after_vote: 1%,\n"
	    "                reboot_during_commit: 1%, message_loss: 0.5%, partition: 1%,\n"
	    "                partition_for: 4s, coordinator_crash: every 30s,\n"
	    "                coordinator_down: 1500ms }\n"
	    "      log: out/coord.log\n"
	    "      coordinator_bug: forget_decision\n"
	    "  - request_response: { direction: d2c, method: time, every: 1s }\n";
	struct sim_scenario sc;
	struct sim_diag d;
	const struct sim_tpc_cfg *t;
	struct sim_rr_payload_vals pv = { .seq = 7 };
	char buf[128];

	CU_ASSERT_EQUAL_FATAL(load(yaml, NULL, &sc, &d), SIM_OK);
	/* The patterns around it are request-response ones, in order. */
	CU_ASSERT_EQUAL(sc.nrr, 2);
	CU_ASSERT_EQUAL(sc.rr[0].dir, SIM_RR_C2D);
	CU_ASSERT_EQUAL(sc.rr[1].dir, SIM_RR_D2C);
	CU_ASSERT_EQUAL_FATAL(sc.ntpc, 1);
	t = &sc.tpc[0];
	/* Like request_response's, the position of the pattern's mapping. */
	CU_ASSERT_EQUAL(t->pos.line, 13);
	CU_ASSERT_EQUAL(t->pos.col, 7);
	CU_ASSERT_FALSE(t->external);
	CU_ASSERT_EQUAL(t->group_size, 5);
	CU_ASSERT_EQUAL(t->group, 0);
	CU_ASSERT_DOUBLE_EQUAL(t->share, 0.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(t->rate, 20, 1e-12);
	CU_ASSERT_EQUAL(t->deadline_ns, 3 * SEC);
	CU_ASSERT_EQUAL(t->resend_ns, 250 * MS);
	CU_ASSERT_EQUAL(t->recovery_ns, 20 * SEC);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t->change);
	sim_rr_payload_render(t->change, &pv, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"key_slot\": 7}");
	CU_ASSERT_EQUAL(t->qos, 0);
	CU_ASSERT_DOUBLE_EQUAL(t->min_battery_pct, 20, 1e-12);
	check_tpc_topics(t, "p/rooms/rooms-3", "d/3/rooms-3", "c/vote", "c/ack", "c/query");
	CU_ASSERT_DOUBLE_EQUAL(t->vote_no, 0.02, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(t->crash_before_vote, 0.005, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(t->crash_after_vote, 0.01, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(t->reboot_during_commit, 0.01, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(t->message_loss, 0.005, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(t->partition, 0.01, 1e-12);
	CU_ASSERT_EQUAL(t->partition_ns, 4 * SEC);
	CU_ASSERT_EQUAL(t->coordinator_crash_ns, 30 * SEC);
	CU_ASSERT_EQUAL(t->coordinator_down_ns, 1500 * MS);
	CU_ASSERT_STRING_EQUAL(t->log_path, "out/coord.log");
	CU_ASSERT_EQUAL(t->bug, SIM_TPC_BUG_FORGET_DECISION);
	sim_scenario_fini(&sc);
	CU_ASSERT_PTR_NULL(sc.tpc);
	CU_ASSERT_EQUAL(sc.ntpc, 0);
}

static void
test_tpc_defaults(void)
{
	struct sim_scenario sc;
	struct sim_diag d;
	const struct sim_tpc_cfg *t;
	struct sim_rr_payload_vals pv = { .seq = 42 };
	char buf[128];

	/* Every group is targeted by default, so the fleet is flash-only. */
	CU_ASSERT_EQUAL_FATAL(load("name: t\nduration: 1s\nfleet:\n"
	    "  - group: rooms\n    model: thermostat\n    count: 10\n"
	    "patterns: [ { two_phase_commit: { rate: 2/m } } ]\n", NULL, &sc, &d), SIM_OK);
	CU_ASSERT_EQUAL(sc.nrr, 0);
	CU_ASSERT_EQUAL_FATAL(sc.ntpc, 1);
	t = &sc.tpc[0];
	CU_ASSERT_FALSE(t->external);
	CU_ASSERT_EQUAL(t->group_size, 10);
	CU_ASSERT_EQUAL(t->group, -1);
	CU_ASSERT_DOUBLE_EQUAL(t->share, 1, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(t->rate, 2.0 / 60, 1e-12);
	CU_ASSERT_EQUAL(t->deadline_ns, 2 * SEC);
	CU_ASSERT_EQUAL(t->resend_ns, 500 * MS);
	CU_ASSERT_EQUAL(t->recovery_ns, 10 * SEC);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t->change);
	CU_ASSERT_STRING_EQUAL(sim_rr_payload_source(t->change), "{\"tx\": {tx.n}}");
	sim_rr_payload_render(t->change, &pv, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"tx\": 42}");
	CU_ASSERT_EQUAL(t->qos, 1);
	CU_ASSERT_DOUBLE_EQUAL(t->min_battery_pct, 0, 1e-12);
	check_tpc_topics(t, "tpc/rooms-3/prepare", "tpc/rooms-3/decision", "tpc/coord/vote",
	    "tpc/coord/ack", "tpc/coord/query");
	CU_ASSERT_DOUBLE_EQUAL(t->vote_no + t->crash_before_vote + t->crash_after_vote +
	    t->reboot_during_commit + t->message_loss + t->partition, 0, 1e-12);
	CU_ASSERT_EQUAL(t->partition_ns, 3 * SEC);
	CU_ASSERT_EQUAL(t->coordinator_crash_ns, 0);
	CU_ASSERT_EQUAL(t->coordinator_down_ns, SEC);
	CU_ASSERT_PTR_NULL(t->log_path);
	CU_ASSERT_EQUAL(t->bug, SIM_TPC_BUG_NONE);
	sim_scenario_fini(&sc);

	/* An external coordinator needs no rate; a crash period may be
	 * written without "every"; a share of 29% of 100 devices is 29 of
	 * them, though 100 * 0.29 is 28.999999999999996 in binary; plain
	 * numbers are fractions, and a group_size equal to the devices
	 * targeted is allowed. */
	CU_ASSERT_EQUAL_FATAL(load("name: t\nduration: 1s\nfleet:\n"
	    "  - group: rooms\n    model: thermostat\n    count: 100\n"
	    "  - group: plain\n    count: 5\n"
	    "patterns:\n  - two_phase_commit: { coordinator: external, group_size: 29,\n"
	    "      targets: { group: rooms, share: 29% }, faults: { vote_no: 0.25 } }\n", NULL,
	    &sc, &d), SIM_OK);
	t = &sc.tpc[0];
	CU_ASSERT_TRUE(t->external);
	CU_ASSERT_DOUBLE_EQUAL(t->rate, 0, 1e-12);
	CU_ASSERT_EQUAL(t->group_size, 29);
	CU_ASSERT_DOUBLE_EQUAL(t->vote_no, 0.25, 1e-12);
	sim_scenario_fini(&sc);
	CU_ASSERT_EQUAL_FATAL(load("name: t\nduration: 1s\nfleet:\n"
	    "  - group: rooms\n    model: thermostat\n    count: 10\n"
	    "patterns:\n  - two_phase_commit: { rate: 1, faults: { coordinator_crash: 45s } }\n",
	    NULL, &sc, &d), SIM_OK);
	CU_ASSERT_EQUAL(sc.tpc[0].coordinator_crash_ns, 45 * SEC);
	CU_ASSERT_DOUBLE_EQUAL(sc.tpc[0].rate, 1, 1e-12);
	sim_scenario_fini(&sc);
	/* A door lock given flash by its group's hal: can take part. */
	CU_ASSERT_EQUAL_FATAL(load("name: t\nduration: 1s\nfleet:\n"
	    "  - group: doors\n    model: door-lock\n    count: 10\n"
	    "    hal: { flash: { capacity: 2KB } }\n"
	    "patterns:\n  - two_phase_commit: { rate: 1/s }\n", NULL, &sc, &d), SIM_OK);
	CU_ASSERT_EQUAL(sc.ntpc, 1);
	sim_scenario_fini(&sc);
}

static void
test_tpc_errors(void)
{
	/* Keys and values. */
	expect_msg(TPC_FLEET "      rate: 1/s\n      targets: { group: rooms }\n      bogus: 1\n",
	    "t.yaml:16:7: unknown key 'bogus' in two_phase_commit; expected one of: coordinator, "
	    "group_size, targets, rate, deadline, resend, recovery, change, qos, min_battery, "
	    "topics, faults, log, coordinator_bug");
	expect_msg(TPC_FLEET "      coordinator: cloud\n",
	    "t.yaml:14:20: expected a coordinator: fleetsim, external");
	expect_msg(TPC_FLEET "      rate: 1/s\n      targets: { group: rooms }\n"
	    "      coordinator_bug: lose_all\n",
	    "t.yaml:16:24: expected a coordinator_bug: none, commit_despite_no_vote, "
	    "forget_decision");
	expect_msg(TPC_FLEET "      targets: { group: rooms }\n",
	    "t.yaml:14:7: missing key 'rate' in a two_phase_commit with coordinator: fleetsim");
	expect_msg(TPC_FLEET "      rate: 0/s\n",
	    "t.yaml:14:13: expected a rate above 0 and at most 1000000/s");
	expect_msg(TPC_FLEET "      rate: 1/s\n      group_size: 0\n",
	    "t.yaml:15:19: expected a whole number >= 1");
	expect_msg(TPC_FLEET "      rate: 1/s\n      deadline: 0s\n",
	    "t.yaml:15:17: expected a duration > 0, like 250ms, 10s, 1m");
	expect_msg(TPC_FLEET "      rate: 1/s\n      qos: 2\n",
	    "t.yaml:15:12: expected a qos of 0 or 1");
	expect_msg(TPC_FLEET "      rate: 1/s\n      min_battery: 120%\n",
	    "t.yaml:15:20: expected a charge from 0 to 100%");
	expect_msg(TPC_FLEET "      rate: 1/s\n      change: '{\"k\": {tx.m}}'\n",
	    "t.yaml:15:22: unknown field {tx.m}; expected {id}, {n}, {group}, {method}, {seq}, "
	    "{tx.n}, {rand.uniform(A,B)} or {rand.int(A,B)}");
	/* Faults. */
	expect_msg(TPC_FLEET "      rate: 1/s\n      faults: { vote_no: 150% }\n",
	    "t.yaml:15:26: expected a probability from 0 to 1 (or 100%)");
	expect_msg(TPC_FLEET "      rate: 1/s\n      faults: { vote_no: often }\n",
	    "t.yaml:15:26: expected a probability like 0.02 or 2%");
	expect_msg(TPC_FLEET "      rate: 1/s\n      faults: { crash: 1% }\n",
	    "t.yaml:15:17: unknown key 'crash' in faults; expected one of: vote_no, "
	    "crash_before_vote, crash_after_vote, reboot_during_commit, message_loss, partition, "
	    "partition_for, coordinator_crash, coordinator_down");
	expect_msg(TPC_FLEET "      rate: 1/s\n      faults: { coordinator_crash: every soon }\n",
	    "t.yaml:15:42: expected a period like every 30s (a duration > 0)");
	expect_msg(TPC_FLEET "      rate: 1/s\n      faults: { coordinator_crash: 0s }\n",
	    "t.yaml:15:36: expected a period like every 30s (a duration > 0)");
	/* Topics. */
	expect_msg(TPC_FLEET "      rate: 1/s\n      topics: { prepare: tpc/all/prepare }\n",
	    "t.yaml:15:26: expected a topic with {id}, so that each device gets its own");
	expect_msg(TPC_FLEET "      rate: 1/s\n      topics: { decision: \"tpc/{rid}/{id}\" }\n",
	    "t.yaml:15:32: {rid} cannot be used here; expected {id}, {n}, {n:0W} or {group}");
	expect_msg(TPC_FLEET "      rate: 1/s\n      topics: { vote: \"tpc/{id}/vote\" }\n",
	    "t.yaml:15:28: expected a plain topic: the coordinator's topics are shared by every "
	    "device and take no variables");
	expect_msg(TPC_FLEET "      rate: 1/s\n      topics: { ack: tpc/+/ack }\n",
	    "t.yaml:15:26: '+' is a wildcard; a topic name cannot contain '+' or '#'");
	expect_msg(TPC_FLEET "      rate: 1/s\n      topics: { query: \"\" }\n",
	    "t.yaml:15:24: expected a topic name like tpc/coord/vote, not an empty value");
	/* The external coordinator is the user's. */
	expect_msg(TPC_FLEET "      coordinator: external\n      rate: 1/s\n",
	    "t.yaml:15:13: expected no rate with coordinator: external (the external "
	    "coordinator sets the pace)");
	expect_msg(TPC_FLEET "      coordinator: external\n      coordinator_bug: forget_decision\n",
	    "t.yaml:15:24: expected no coordinator_bug with coordinator: external (the bugs are "
	    "fleetsim's coordinator's)");
	expect_msg(TPC_FLEET "      coordinator: external\n      faults: { coordinator_crash: "
	    "every 30s }\n",
	    "t.yaml:15:36: expected no coordinator_crash with coordinator: external (fleetsim "
	    "crashes only its own coordinator)");
	/* The fleet: groups, models, flash and the number of devices. */
	expect_msg(TPC_FLEET "      rate: 1/s\n      targets: { group: attic }\n",
	    "t.yaml:15:25: expected the name of a fleet group");
	expect_msg(TPC_FLEET "      rate: 1/s\n      targets: { group: doors }\n",
	    "t.yaml:15:25: group 'doors' has no flash in its model: two-phase-commit participants "
	    "keep their state in flash");
	expect_msg(TPC_FLEET "      rate: 1/s\n      targets: { group: plain }\n",
	    "t.yaml:15:25: group 'plain' has no model: two-phase-commit participants keep their "
	    "state in flash, so they need a model with flash");
	expect_msg(TPC_FLEET "      rate: 1/s\n",
	    "t.yaml:14:7: group 'doors' has no flash in its model: two-phase-commit participants "
	    "keep their state in flash");
	expect_msg(TPC_FLEET "      rate: 1/s\n      targets: { group: rooms, share: 50% }\n"
	    "      group_size: 11\n",
	    "t.yaml:16:19: expected a group_size of at most 10, the number of devices the pattern "
	    "targets");
	expect_msg(TPC_FLEET "      rate: 1/s\n      targets: { group: rooms, share: 0.4 }\n",
	    "t.yaml:14:7: expected a group_size of at most 8, the number of devices the pattern "
	    "targets (group_size defaults to 10)");
	expect_msg(TPC_FLEET "      rate: 1/s\n      targets: { group: rooms, pick: random }\n",
	    "t.yaml:15:32: unknown key 'pick' in targets; expected one of: group, share");
	/* The list. */
	expect_msg(TPC_FLEET "      rate: 1/s\n      targets: { group: rooms }\n"
	    "  - two_phase_commit: { rate: 1/s, targets: { group: rooms } }\n",
	    "t.yaml:16:5: expected at most one two_phase_commit pattern");
	expect_msg(TPC_FLEET "      rate: 1/s\n"
	    "    request_response: { direction: c2d, method: ping, rate: 5/s }\n",
	    "t.yaml:13:5: expected one pattern per list item; start the next with '- '");
	expect_msg("name: t\nduration: 1s\nfleet: [ { group: g, count: 1 } ]\npatterns: [ {} ]\n",
	    "t.yaml:4:13: expected a pattern: request_response, two_phase_commit");
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "full file, every key", test_full_file },
		{ "defaults", test_defaults },
		{ "values and bounds that are allowed", test_values },
		{ "target urls", test_urls },
		{ "YAML syntax errors", test_syntax_errors },
		{ "aliases, nesting, size, empty, unreadable", test_hazards },
		{ "unknown and duplicate keys", test_unknown_keys },
		{ "wrong types", test_wrong_types },
		{ "out-of-range values", test_ranges },
		{ "missing required keys", test_missing_keys },
		{ "duplicate group names", test_duplicate_groups },
		{ "templates and topics", test_templates },
		{ "malformed assertions", test_asserts },
		{ "tls", test_tls },
		{ "--set", test_set },
		{ "--broker, --report-dir, --seed", test_overrides },
		{ "fini", test_fini },
		{ "report formats", test_formats },
		{ "device models and hal:", test_models },
		{ "model files", test_model_files },
		{ "two_phase_commit, every key", test_tpc_full },
		{ "two_phase_commit defaults", test_tpc_defaults },
		{ "two_phase_commit errors", test_tpc_errors },
		{ NULL, NULL },
	};

	find_fixtures();
	return fs_test_main("scenario", tests);
}
