/* fleetsim: the command line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare_cmd.h"
#include "merge_cmd.h"
#include "metrics.h"
#include "run.h"

static const char usage[] =
    "usage: fleetsim run SCENARIO.yaml [--broker URL] [--report-dir DIR] [--seed N]\n"
    "                    [--set PATH=VALUE]... [--metrics HOST:PORT] [--trace FILE]\n"
    "                    [--history FILE]\n"
    "                    [--quiet]\n"
    "       fleetsim validate SCENARIO.yaml|MODEL.yaml [--broker URL] [--set PATH=VALUE]...\n"
    "       fleetsim models\n"
    "       fleetsim compare BASE/report.json NEW/report.json [--max-regression PCT%]\n"
    "       fleetsim merge OUT_DIR REPORT_DIR...\n"
    "       fleetsim --version | --help\n";

static const char help[] =
    "\n"
    "Simulates a fleet of MQTT devices from a YAML scenario, checks every\n"
    "message end to end, and writes a report with a pass/fail verdict.\n"
    "\n"
    "  run        run the scenario and write DIR/report.json\n"
    "  validate   check the scenario (or a device model) without connecting anything\n"
    "  models     list the device models, a line each\n"
    "  compare    compare two report.json files figure by figure; exit 1 on a regression\n"
    "  merge      combine shard reports into one, re-judged\n"
    "\n"
    "  --broker URL        mqtt://HOST[:PORT] or mqtts://HOST[:PORT]; default: the\n"
    "                      scenario's target, else an embedded Mosquitto on loopback\n"
    "  --report-dir DIR    where report.json goes (default: the scenario's report.dir)\n"
    "  --seed N            override the scenario's seed\n"
    "  --set PATH=VALUE    override a scalar, e.g. --set fleet.sensors.count=5000\n"
    "  --metrics HOST:PORT (run) serve Prometheus metrics at http://HOST:PORT/metrics\n"
    "                      while the run lasts, e.g. 127.0.0.1:9464\n"
    "  --trace FILE        (run) write one JSON line per message a device sends:\n"
    "                      device, seq, topic, size, sha256, t_sim\n"
    "  --history FILE      (run) write two-phase commit's history, one JSON line per\n"
    "                      protocol event (docs/two-phase-commit.md)\n"
    "  --quiet             print nothing but errors\n"
    "  --max-regression PCT  (compare) how far a latency percentile may rise and a\n"
    "                      throughput fall, in percent (default 10%); correctness\n"
    "                      counts (lost, duplicates, ...) may not rise at all\n"
    "\n"
    "Exit codes: 0 passed, 1 a check or assertion failed (compare: a figure\n"
    "regressed), 2 usage, scenario or unreadable report error, 3 infrastructure\n"
    "failure (broker, TLS, descriptors, mosquitto).\n";

static int
bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "fleetsim: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return SIM_EXIT_USAGE;
}

static int
parse_seed(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	struct sim_run_opts o;
	const char **sets;
	const char *verb;
	int rc;

	if (argc < 2)
		return bad_usage("%s", "missing command");
	verb = argv[1];
	if (strcmp(verb, "--version") == 0 || strcmp(verb, "version") == 0) {
		printf("fleetsim %s\n", FLEETSIM_VERSION);
		return 0;
	}
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "help") == 0) {
		printf("%s%s", usage, help);
		return 0;
	}
	if (strcmp(verb, "compare") == 0)
		return sim_compare_main(argc, argv);
	if (strcmp(verb, "merge") == 0)
		return sim_merge_main(argc, argv);
	if (strcmp(verb, "models") == 0) {
		if (argc > 2)
			return bad_usage("models takes no arguments, got '%s'", argv[2]);
		return sim_models();
	}
	if (strcmp(verb, "run") != 0 && strcmp(verb, "validate") != 0)
		return bad_usage("unknown command '%s'", verb);

	memset(&o, 0, sizeof(o));
	sets = calloc((size_t)argc, sizeof(*sets));
	if (sets == NULL)
		return SIM_EXIT_INFRA;
	o.ov.sets = sets;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
			o.quiet = true;
			continue;
		}
		if (strcmp(a, "--broker") == 0 || strcmp(a, "--report-dir") == 0 ||
		    strcmp(a, "--seed") == 0 || strcmp(a, "--set") == 0 ||
		    strcmp(a, "--metrics") == 0 || strcmp(a, "--trace") == 0 ||
		    strcmp(a, "--history") == 0) {
			if (val == NULL) {
				rc = bad_usage("%s needs a value", a);
				goto out;
			}
			i++;
			if (strcmp(a, "--broker") == 0) {
				o.ov.broker_url = val;
			} else if (strcmp(a, "--metrics") == 0) {
				struct sim_diag d = { "" };
				char host[256];
				uint16_t port;

				if (sim_metrics_parse_addr(val, host, sizeof(host), &port, &d) != SIM_OK) {
					rc = bad_usage("--metrics: %s", d.msg);
					goto out;
				}
				o.metrics_addr = val;
			} else if (strcmp(a, "--trace") == 0) {
				o.trace_path = val;
			} else if (strcmp(a, "--history") == 0) {
				o.history_path = val;
			} else if (strcmp(a, "--report-dir") == 0) {
				o.ov.report_dir = val;
			} else if (strcmp(a, "--seed") == 0) {
				if (parse_seed(val, &o.ov.seed) != 0) {
					rc = bad_usage("--seed: expected a whole number >= 0, got '%s'", val);
					goto out;
				}
				o.ov.has_seed = true;
			} else {
				if (strchr(val, '=') == NULL) {
					rc = bad_usage("--set: expected PATH=VALUE, got '%s'", val);
					goto out;
				}
				sets[o.ov.nsets++] = val;
			}
			continue;
		}
		if (a[0] == '-' && a[1] != '\0') {
			rc = bad_usage("unknown option '%s'", a);
			goto out;
		}
		if (o.scenario != NULL) {
			rc = bad_usage("more than one scenario given ('%s')", a);
			goto out;
		}
		o.scenario = a;
	}
	if (o.scenario == NULL) {
		rc = bad_usage("%s", "missing SCENARIO.yaml");
		goto out;
	}
	rc = strcmp(verb, "run") == 0 ? (int)sim_run(&o) : (int)sim_validate(&o);
out:
	free(sets);
	return rc;
}
