/* `fleetsim merge` on real shards: two halves of a fleet run at the same
 * time against one broker, merged into the whole fleet's report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <CUnit/Basic.h>

#include "broker.h"
#include "harness.h"

static const char scenario[] =
    "name: shards\n"
    "duration: 3s\n"
    "drain: 3s\n"
    "fleet:\n"
    "  - group: g\n"
    "    count: 10\n"
    "    telemetry: { every: 500ms, qos: 1 }\n"
    "assert:\n"
    "  - patterns.telemetry.lost == 0\n"
    "  - devices.connected == 200\n";

/* Two-phase commit in shards: each runs its own coordinator over its own
 * devices. Shard b's coordinator commits despite NO votes (the same
 * scenario name, so the reports merge), so b fails alone and a does not. */
#define TPC_SCENARIO(bug) \
    "name: tpc-shards\n" \
    "duration: 3s\n" \
    "drain: 5s\n" \
    "fleet:\n" \
    "  - group: g\n" \
    "    model: thermostat\n" \
    "    count: 20\n" \
    "    connect: { ramp: 500ms }\n" \
    "    telemetry: { every: 60s }\n" \
    "patterns:\n" \
    "  - two_phase_commit:\n" \
    "      group_size: 3\n" \
    "      rate: 10/s\n" \
    bug \
    "      faults: { vote_no: 20% }\n"

static bool
exists(const char *dir, const char *name)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 && st.st_size > 0;
}

/* Runs shard a (scenario file sa) and shard b (sb) at the same time
 * against a broker of their own, into BASE/a and BASE/b, then merges them
 * into BASE/out; want[] are the three exit codes, r[] gets the three
 * reports (NULL where missing). The merge's output is BASE/fleetsim.out.
 * set, if not NULL, is a --set for both. */
static void
run_shards(const char *base, const char *sa, const char *sb, const char *set, const int want[3],
    struct rpt_json *r[3])
{
	struct sim_broker *b = NULL;
	struct sim_broker_opts bo = { 0 };
	struct sim_diag d;
	char da[600], db[600], dout[600], dlog[600];
	int pa, pb;

	snprintf(da, sizeof(da), "%s/a", base);
	snprintf(db, sizeof(db), "%s/b", base);
	snprintf(dout, sizeof(dout), "%s/out", base);
	snprintf(dlog, sizeof(dlog), "%s", th_tmpdir());
	CU_ASSERT_FATAL(sim_broker_start(&bo, &b, &d) == SIM_OK);
	{
		/* Distinct client ids: the broker would otherwise take one
		 * shard's device for the other's reconnect. */
		const char *argv_a[] = { "run", sa, "--broker", sim_broker_url(b), "--report-dir", da,
			"--set", "fleet.g.id=a-{n}", "--quiet", set ? "--set" : NULL, set, NULL };
		const char *argv_b[] = { "run", sb, "--broker", sim_broker_url(b), "--report-dir", db,
			"--set", "fleet.g.id=b-{n}", "--quiet", set ? "--set" : NULL, set, NULL };

		pa = th_fleetsim_spawn(base, argv_a);
		pb = th_fleetsim_spawn(dlog, argv_b);
	}
	CU_ASSERT_EQUAL(th_wait(pa, 120), want[0]);
	CU_ASSERT_EQUAL(th_wait(pb, 120), want[1]);
	sim_broker_free(b);
	{
		const char *argv[] = { "merge", dout, da, db, NULL };

		CU_ASSERT_EQUAL(th_fleetsim(base, 60, argv), want[2]);
	}
	r[0] = th_report(da);
	r[1] = th_report(db);
	r[2] = th_report(dout);
}

static void
test_two_shards(void)
{
	/* Each shard alone fails devices.connected == 200: only the merge
	 * has the whole fleet. */
	static const int want[3] = { 1, 1, 0 };
	char base[512], scen[512], dout[600];
	struct rpt_json *r[3], *ra, *rb, *rm;

	snprintf(base, sizeof(base), "%s", th_tmpdir());
	snprintf(scen, sizeof(scen), "%s", th_write(base, "s.yaml", scenario));
	snprintf(dout, sizeof(dout), "%s/out", base);
	run_shards(base, scen, scen, "fleet.g.count=100", want, r);
	ra = r[0], rb = r[1], rm = r[2];
	CU_ASSERT_FATAL(ra != NULL && rb != NULL && rm != NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(base), "scenario 'shards': PASS"));
	CU_ASSERT(th_num(ra, "patterns.telemetry.sent") > 0);
	CU_ASSERT_EQUAL(th_num(rm, "patterns.telemetry.sent"),
	    th_num(ra, "patterns.telemetry.sent") + th_num(rb, "patterns.telemetry.sent"));
	CU_ASSERT_EQUAL(th_num(rm, "patterns.telemetry.received"),
	    th_num(ra, "patterns.telemetry.received") + th_num(rb, "patterns.telemetry.received"));
	CU_ASSERT_EQUAL(th_num(rm, "patterns.telemetry.by_group.g.sent"),
	    th_num(rm, "patterns.telemetry.sent"));
	CU_ASSERT_EQUAL(th_num(rm, "devices.planned"), 200);
	CU_ASSERT_EQUAL(th_num(rm, "devices.connected"), 200);
	CU_ASSERT_EQUAL(th_num(rm, "shards"), 2);
	CU_ASSERT_EQUAL(th_num(rm, "patterns.telemetry.latency_ms.count"),
	    th_num(ra, "patterns.telemetry.latency_ms.count") +
	    th_num(rb, "patterns.telemetry.latency_ms.count"));
	{
		double a = th_num(ra, "patterns.telemetry.latency_ms.p99");
		double c = th_num(rb, "patterns.telemetry.latency_ms.p99");
		double m = th_num(rm, "patterns.telemetry.latency_ms.p99");

		/* The union's percentile lies between the shards'. The 1%
		 * is the histogram's precision: a shard's value is clamped
		 * to its own max, the union's to the larger one. */
		CU_ASSERT(m >= fmin(a, c) && m <= fmax(a, c) * 1.01);
		if (!(m >= fmin(a, c) && m <= fmax(a, c) * 1.01))
			fprintf(stderr, "p99: shards %g and %g, merged %g\n", a, c, m);
	}
	CU_ASSERT_PTR_NOT_NULL(rpt_json_path(rm, "devices.connect_histogram"));
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_path(rm, "checks")), 3);
	CU_ASSERT_TRUE(rpt_json_truthy(rpt_json_path(rm, "assertions.1.pass")));
	CU_ASSERT_TRUE(exists(dout, "junit.xml"));
	CU_ASSERT_TRUE(exists(dout, "report.html"));
	CU_ASSERT_TRUE(exists(dout, "timeseries.csv"));
	rpt_json_free(ra);
	rpt_json_free(rb);
	rpt_json_free(rm);
}

/* The sum of column col over a series' rows. */
static double
column_sum(const struct rpt_json *r, const char *series, size_t col)
{
	char path[128];
	const struct rpt_json *rows;
	double sum = 0;

	snprintf(path, sizeof(path), "timeseries.%s.rows", series);
	rows = rpt_json_path(r, path);
	for (size_t i = 0; i < rpt_json_len(rows); i++)
		sum += rpt_json_num(rpt_json_at(rpt_json_at(rows, i), col));
	return sum;
}

static void
test_two_phase_commit_shards(void)
{
	static const char *const counts[] = {
		"started", "committed", "aborted.total", "undecided", "violations.validity",
		"votes.yes", "votes.no", "latency_ms.prepare.count", "latency_ms.complete.count", NULL,
	};
	/* b's violations are the whole fleet's. */
	static const int want[3] = { 0, 1, 1 };
	char base[512], sa[512], sb[512], dout[600], path[128];
	struct rpt_json *r[3], *ra, *rb, *rm;
	const struct rpt_json *checks;
	double na, nb;

	snprintf(base, sizeof(base), "%s", th_tmpdir());
	snprintf(sa, sizeof(sa), "%s", th_write(base, "a.yaml", TPC_SCENARIO("")));
	snprintf(sb, sizeof(sb), "%s", th_write(base, "b.yaml",
	    TPC_SCENARIO("      coordinator_bug: commit_despite_no_vote\n")));
	run_shards(base, sa, sb, NULL, want, r);
	ra = r[0], rb = r[1], rm = r[2];
	CU_ASSERT_FATAL(ra != NULL && rb != NULL && rm != NULL);
	CU_ASSERT(th_num(ra, "patterns.two_phase_commit.started") > 0);
	CU_ASSERT(th_num(rb, "patterns.two_phase_commit.violations.validity") > 0);
	for (size_t i = 0; counts[i] != NULL; i++) {
		snprintf(path, sizeof(path), "patterns.two_phase_commit.%s", counts[i]);
		CU_ASSERT_EQUAL(th_num(rm, path), th_num(ra, path) + th_num(rb, path));
	}
	CU_ASSERT_EQUAL(th_num(rm, "patterns.two_phase_commit.in_doubt_max_ms"),
	    fmax(th_num(ra, "patterns.two_phase_commit.in_doubt_max_ms"),
	    th_num(rb, "patterns.two_phase_commit.in_doubt_max_ms")));
	{
		/* The union's percentile lies between the shards', within the
		 * histogram's 1%, and its max is the larger one. */
		double a = th_num(ra, "patterns.two_phase_commit.latency_ms.complete.p99");
		double c = th_num(rb, "patterns.two_phase_commit.latency_ms.complete.p99");
		double m = th_num(rm, "patterns.two_phase_commit.latency_ms.complete.p99");

		CU_ASSERT(m >= fmin(a, c) && m <= fmax(a, c) * 1.01);
		CU_ASSERT_EQUAL(th_num(rm, "patterns.two_phase_commit.latency_ms.decide.max"),
		    fmax(th_num(ra, "patterns.two_phase_commit.latency_ms.decide.max"),
		    th_num(rb, "patterns.two_phase_commit.latency_ms.decide.max")));
	}
	CU_ASSERT_PTR_NOT_NULL(rpt_json_path(rm, "patterns.two_phase_commit.latency_histograms.decide"));
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(rm, "notes")), 0);
	na = (double)rpt_json_len(rpt_json_path(ra, "patterns.two_phase_commit.violation_list"));
	nb = (double)rpt_json_len(rpt_json_path(rb, "patterns.two_phase_commit.violation_list"));
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_path(rm, "patterns.two_phase_commit.violation_list")),
	    (size_t)fmin(na + nb, 100));
	CU_ASSERT_EQUAL(th_num(rm, "patterns.two_phase_commit.violation_list.0.shard"), 2);
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_path(rm, "patterns.two_phase_commit.coordinator")),
	    "fleetsim");
	checks = rpt_json_get(rm, "checks");
	for (size_t i = 0; i < rpt_json_len(checks); i++) {
		const struct rpt_json *c = rpt_json_at(checks, i);

		if (strcmp(rpt_json_str(rpt_json_get(c, "name")), "two_phase_commit.invariants") == 0)
			CU_ASSERT_FALSE(rpt_json_truthy(rpt_json_get(c, "pass")));
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(base), "FAIL  check two_phase_commit.invariants"));
	/* The series adds up by second: every transaction started is in it. */
	CU_ASSERT_EQUAL(column_sum(rm, "two_phase_commit", 1),
	    column_sum(ra, "two_phase_commit", 1) + column_sum(rb, "two_phase_commit", 1));
	CU_ASSERT(column_sum(rm, "two_phase_commit", 1) > 0);
	/* The page takes the phases' histograms for none of its own. */
	snprintf(dout, sizeof(dout), "%s/out", base);
	CU_ASSERT_TRUE(exists(dout, "report.html"));
	CU_ASSERT_NOT_EQUAL(th_sh("grep -q 'could not be read' %s/report.html", dout), 0);
	rpt_json_free(ra);
	rpt_json_free(rb);
	rpt_json_free(rm);
}

static void
test_bad_input_is_2(void)
{
	const char *dir = th_tmpdir();
	char missing[512], out[512], bad[512];
	const char *none[] = { "merge", NULL };

	snprintf(missing, sizeof(missing), "%s/nosuch", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	{
		const char *argv[] = { "merge", out, missing, NULL };

		CU_ASSERT_EQUAL(th_fleetsim(dir, 30, argv), 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "nosuch"));
	}
	{
		const char *argv[] = { "merge", out, NULL };

		CU_ASSERT_EQUAL(th_fleetsim(dir, 30, argv), 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "usage: fleetsim merge OUT_DIR"));
	}
	CU_ASSERT_EQUAL(th_fleetsim(dir, 30, none), 2);
	snprintf(bad, sizeof(bad), "%s", th_write(dir, "bad.json", "{\"patterns\": {\n  \"t\": }\n"));
	{
		const char *argv[] = { "merge", out, bad, NULL };

		CU_ASSERT_EQUAL(th_fleetsim(dir, 30, argv), 2);
		/* FILE:LINE:COLUMN */
		CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "bad.json:2:"));
	}
	snprintf(bad, sizeof(bad), "%s", th_write(dir, "foreign.json", "{\"verdict\": \"pass\"}\n"));
	{
		const char *argv[] = { "merge", out, bad, NULL };

		CU_ASSERT_EQUAL(th_fleetsim(dir, 30, argv), 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "not a fleetsim report.json"));
	}
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "two concurrent shards merge into the whole fleet", test_two_shards },
		{ "two-phase commit shards: counts, latencies, violations, re-judged", test_two_phase_commit_shards },
		{ "missing, broken and foreign reports exit 2", test_bad_input_is_2 },
		{ NULL, NULL },
	};

	return th_main("merge_cli", tests);
}
