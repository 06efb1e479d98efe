/* Two-phase commit against a real Mosquitto (docs/two-phase-commit.md):
 * fleetsim's own coordinator at scale under every fault, each deliberate
 * coordinator bug caught by the checker, an external coordinator (a
 * separate process, tests/tpc_extcoord.c) checked from the outside, the
 * --history file, and a scenario error for a model without flash. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "broker.h"
#include "harness.h"

#define TPC "patterns.two_phase_commit."

static struct sim_broker *
broker(void)
{
	struct sim_broker *b = NULL;
	struct sim_broker_opts bo = { 0 };
	struct sim_diag d;

	CU_ASSERT_FATAL(sim_broker_start(&bo, &b, &d) == SIM_OK);
	return b;
}

/* Runs scenario text against b, with history (a path) when not NULL;
 * the report, or NULL. */
static struct rpt_json *
run(struct sim_broker *b, const char *dir, const char *yaml, const char *history, int want_rc,
    int timeout_s)
{
	char scen[512];
	int rc;

	snprintf(scen, sizeof(scen), "%s", th_write(dir, "tpc.yaml", yaml));
	const char *argv[] = { "run", scen, "--broker", sim_broker_url(b), "--report-dir", dir,
		"--quiet", history != NULL ? "--history" : NULL, history, NULL };

	rc = th_fleetsim(dir, timeout_s, argv);
	CU_ASSERT_EQUAL(rc, want_rc);
	if (rc != want_rc && rc == 0)
		fprintf(stderr, "\n  fleetsim exited 0, expected %d:\n%s\n", want_rc, th_output(dir));
	return th_report(dir);
}

/* Prints the pattern's section of the report, to see why a test failed. */
static void
dump_tpc(const struct rpt_json *r)
{
	char *s = NULL;

	if (rpt_json_dump(rpt_json_path(r, "patterns.two_phase_commit"), 2, &s) == RPT_OK && s) {
		/* The violation list can be long; its head says enough. */
		fprintf(stderr, "\n  patterns.two_phase_commit: %.6000s\n", s);
		free(s);
	}
}

/* Every violation counter is there and zero, and the list is empty. */
static void
assert_no_violations(const struct rpt_json *r)
{
	static const char *const names[] = {
		"atomicity", "validity", "agreement", "termination", "durability", NULL,
	};
	const struct rpt_json *v = rpt_json_path(r, TPC "violations");
	char path[128];
	bool bad = false;

	CU_ASSERT_EQUAL(rpt_json_type(v), RPT_JSON_OBJECT);
	for (int i = 0; names[i] != NULL; i++) {
		snprintf(path, sizeof(path), TPC "violations.%s", names[i]);
		CU_ASSERT_EQUAL(th_num(r, path), 0);
		bad = bad || th_num(r, path) != 0;
	}
	/* Any other counter the checker grows later, too. */
	for (size_t i = 0; i < rpt_json_len(v); i++) {
		CU_ASSERT_EQUAL(rpt_json_type(rpt_json_at(v, i)), RPT_JSON_NUMBER);
		CU_ASSERT_EQUAL(rpt_json_num(rpt_json_at(v, i)), 0);
		bad = bad || rpt_json_num(rpt_json_at(v, i)) != 0;
	}
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_path(r, TPC "violation_list")), 0);
	CU_ASSERT_EQUAL(th_check_passed(r, "two_phase_commit.invariants"), 1);
	if (bad)
		dump_tpc(r);
}

/* Every transaction ends decided: committed or aborted, none undecided. */
static void
assert_all_decided(const struct rpt_json *r)
{
	double started = th_num(r, TPC "started");

	CU_ASSERT_EQUAL(th_num(r, TPC "committed") + th_num(r, TPC "aborted.total"), started);
	CU_ASSERT_EQUAL(th_num(r, TPC "undecided"), 0);
}

/* 1,000 thermostats, 20 transactions a second over 10 of them for a
 * minute, under every participant fault, lost messages and a coordinator
 * that crashes every 30 s: every transaction decided, every participant
 * in doubt resolved, no invariant broken. */
static void
test_scale_with_faults(void)
{
	struct sim_broker *b = broker();
	const char *dir = th_tmpdir();
	struct rpt_json *r = run(b, dir,
	    "name: tpc-scale\n"
	    "duration: 60s\n"
	    "drain: 20s\n"
	    "fleet:\n"
	    "  - group: locks\n"
	    "    model: thermostat\n"
	    "    count: 1000\n"
	    "    connect: { ramp: 3s }\n"
	    "    telemetry: { every: 60s }\n"
	    "patterns:\n"
	    "  - two_phase_commit:\n"
	    "      coordinator: fleetsim\n"
	    "      group_size: 10\n"
	    "      targets: { group: locks }\n"
	    "      rate: 20/s\n"
	    "      deadline: 2s\n"
	    "      resend: 500ms\n"
	    "      recovery: 10s\n"
	    "      change: '{\"key_slot\": {tx.n}}'\n"
	    "      faults:\n"
	    "        vote_no: 2%\n"
	    "        crash_before_vote: 0.5%\n"
	    "        crash_after_vote: 1%\n"
	    "        message_loss: 0.5%\n"
	    "        coordinator_crash: every 30s\n", NULL, 0, 300);

	if (r != NULL) {
		double started = th_num(r, TPC "started");
		double episodes = th_num(r, TPC "in_doubt.episodes");

		/* 20/s for 60 s is 1,200; some slack for the schedule's
		 * start and the coordinator's downtime. */
		CU_ASSERT(started >= 1000);
		if (!(started >= 1000))
			fprintf(stderr, "\n  started %.0f, expected >= 1000\n", started);
		assert_all_decided(r);
		assert_no_violations(r);
		CU_ASSERT(episodes > 0);
		CU_ASSERT_EQUAL(th_num(r, TPC "in_doubt.resolved"), episodes);
		CU_ASSERT(th_num(r, TPC "faults.coordinator_crashes") >= 1);
		CU_ASSERT(th_num(r, TPC "aborted.by_vote") > 0);
		/* Every abort has exactly one cause. */
		CU_ASSERT_EQUAL(th_num(r, TPC "aborted.by_vote") + th_num(r, TPC "aborted.by_timeout") +
		    th_num(r, TPC "aborted.by_coordinator"), th_num(r, TPC "aborted.total"));
		/* 2 % of about 12,000 votes are NO, and the faults did fire. */
		CU_ASSERT(th_num(r, TPC "votes.no") > 0);
		CU_ASSERT(th_num(r, TPC "votes.yes") > 0);
		CU_ASSERT(th_num(r, TPC "faults.crash_after_vote") > 0);
		CU_ASSERT(th_num(r, TPC "faults.messages_lost") > 0);
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

/* A short run with fleetsim's coordinator misbehaving on purpose; the
 * checker must fail it. */
static struct rpt_json *
run_bug(struct sim_broker *b, const char *dir, const char *bug, const char *faults)
{
	char yaml[2048];

	snprintf(yaml, sizeof(yaml),
	    "name: tpc-bug\n"
	    "duration: 10s\n"
	    "drain: 15s\n"
	    "fleet:\n"
	    "  - group: rooms\n"
	    "    model: thermostat\n"
	    "    count: 200\n"
	    "    connect: { ramp: 1s }\n"
	    "    telemetry: { every: 60s }\n"
	    "patterns:\n"
	    "  - two_phase_commit:\n"
	    "      group_size: 5\n"
	    "      targets: { group: rooms }\n"
	    "      rate: 20/s\n"
	    "      coordinator_bug: %s\n"
	    "      faults: %s\n", bug, faults);
	return run(b, dir, yaml, NULL, 1, 120);
}

/* A NO counted as YES commits a transaction a participant refused. */
static void
test_bug_commit_despite_no_vote(void)
{
	struct sim_broker *b = broker();
	const char *dir = th_tmpdir();
	struct rpt_json *r = run_bug(b, dir, "commit_despite_no_vote", "{ vote_no: 10% }");

	if (r != NULL) {
		CU_ASSERT(th_num(r, TPC "violations.validity") > 0);
		CU_ASSERT(rpt_json_len(rpt_json_path(r, TPC "violation_list")) > 0);
		CU_ASSERT_EQUAL(th_check_passed(r, "two_phase_commit.invariants"), 0);
		if (!(th_num(r, TPC "violations.validity") > 0))
			dump_tpc(r);
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

/* A coordinator that never logs its decisions forgets them when it
 * crashes, and then answers abort for transactions it committed. */
static void
test_bug_forget_decision(void)
{
	struct sim_broker *b = broker();
	const char *dir = th_tmpdir();
	struct rpt_json *r = run_bug(b, dir, "forget_decision", "{ coordinator_crash: every 3s }");

	if (r != NULL) {
		CU_ASSERT(th_num(r, TPC "violations.agreement") > 0);
		CU_ASSERT(th_num(r, TPC "faults.coordinator_crashes") >= 1);
		CU_ASSERT_EQUAL(th_check_passed(r, "two_phase_commit.invariants"), 0);
		if (!(th_num(r, TPC "violations.agreement") > 0))
			dump_tpc(r);
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

/* The external coordinator: $FLEETSIM_TPC_EXTCOORD, else the path CMake
 * built in, else from PATH. */
static const char *
extcoord(void)
{
	const char *p = getenv("FLEETSIM_TPC_EXTCOORD");

	if (p != NULL && *p != '\0')
		return p;
#ifdef TPC_EXTCOORD_BUILT
	return TPC_EXTCOORD_BUILT;
#else
	return "tpc_extcoord";
#endif
}

/* Starts the external coordinator with argv (NULL-terminated, without
 * argv[0]), its output into DIR/coord.out; its pid. */
static int
coord_spawn(const char *dir, const char *const *argv)
{
	return th_spawn(dir, "coord.out", extcoord(), argv);
}

static void
print_file(const char *dir, const char *name)
{
	char path[512], buf[8192];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	fprintf(stderr, "\n--- %s:\n%s---\n", name, buf);
}

/* fleetsim plays 100 thermostats and only observes; tpc_extcoord, a
 * separate process with its own MQTT client, runs 10 transactions a
 * second over 5 of them for 10 s. bug (NULL for none) makes it commit
 * whatever the votes. Returns fleetsim's report; *coord_rc and *fs_rc get
 * the two exit codes. */
static struct rpt_json *
run_external(struct sim_broker *b, const char *dir, const char *faults, const char *bug,
    int *coord_rc, int *fs_rc)
{
	char yaml[2048], scen[512], port[16];
	int fs, co;

	snprintf(yaml, sizeof(yaml),
	    "name: tpc-external\n"
	    "duration: 20s\n"
	    "drain: 10s\n"
	    "fleet:\n"
	    "  - group: locks\n"
	    "    model: thermostat\n"
	    "    count: 100\n"
	    "    connect: { ramp: 1s }\n"
	    "    telemetry: { every: 60s }\n"
	    "patterns:\n"
	    "  - two_phase_commit:\n"
	    "      coordinator: external\n"
	    "      targets: { group: locks }\n"
	    "%s%s%s", faults != NULL ? "      faults: " : "", faults != NULL ? faults : "",
	    faults != NULL ? "\n" : "");
	snprintf(scen, sizeof(scen), "%s", th_write(dir, "ext.yaml", yaml));
	snprintf(port, sizeof(port), "%u", (unsigned)sim_broker_port(b));
	const char *fargv[] = { "run", scen, "--broker", sim_broker_url(b), "--report-dir", dir,
		"--quiet", NULL };
	/* 3 s of delay: fleetsim is up and its devices subscribed (a 1 s
	 * ramp) before the first PREPARE. Resends would cover a PREPARE
	 * that found no subscriber, but only until its deadline, so the
	 * first transactions would abort by timeout. */
	const char *cargv[] = { "--host", "127.0.0.1", "--port", port, "--ids", "locks-%u",
		"--count", "100", "--group-size", "5", "--rate", "10", "--duration", "10",
		"--deadline-ms", "2000", "--resend-ms", "500", "--start-delay", "3",
		bug != NULL ? "--bug" : NULL, bug, NULL };

	fs = th_fleetsim_spawn(dir, fargv);
	CU_ASSERT_FATAL(fs > 0);
	co = coord_spawn(dir, cargv);
	CU_ASSERT_FATAL(co > 0);
	/* The coordinator gives up by itself after 3 + 10 + 30 s. */
	*coord_rc = th_wait(co, 90);
	*fs_rc = th_wait(fs, 120);
	print_file(dir, "coord.out");
	return th_report(dir);
}

/* A correct external coordinator: it finishes, and fleetsim sees every
 * transaction decided and nothing wrong. */
static void
test_external_correct(void)
{
	struct sim_broker *b = broker();
	const char *dir = th_tmpdir();
	int coord_rc, fs_rc;
	struct rpt_json *r = run_external(b, dir, NULL, NULL, &coord_rc, &fs_rc);

	CU_ASSERT_EQUAL(coord_rc, 0);
	CU_ASSERT_EQUAL(fs_rc, 0);
	if (fs_rc != 0)
		fprintf(stderr, "\n--- fleetsim exited %d:\n%s\n", fs_rc, th_output(dir));
	if (r != NULL) {
		double started = th_num(r, TPC "started");

		CU_ASSERT(started > 0);
		/* The coordinator starts exactly 10/s x 10 s; fleetsim sees
		 * every PREPARE. */
		CU_ASSERT_EQUAL(started, 100);
		if (started != 100)
			fprintf(stderr, "\n  started %.0f, the coordinator started 100\n", started);
		assert_all_decided(r);
		assert_no_violations(r);
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

/* An external coordinator that commits despite NO votes: fleetsim, which
 * sees only the messages, must catch it. */
static void
test_external_commit_always(void)
{
	struct sim_broker *b = broker();
	const char *dir = th_tmpdir();
	int coord_rc, fs_rc;
	struct rpt_json *r = run_external(b, dir, "{ vote_no: 20% }", "commit-always", &coord_rc,
	    &fs_rc);

	/* Wrong as it is, it still gets every ACK: devices ACK a DECISION
	 * they refused without applying it. */
	CU_ASSERT_EQUAL(coord_rc, 0);
	CU_ASSERT_EQUAL(fs_rc, 1);
	if (r != NULL) {
		CU_ASSERT(th_num(r, TPC "started") > 0);
		CU_ASSERT(th_num(r, TPC "violations.validity") > 0);
		CU_ASSERT_EQUAL(th_check_passed(r, "two_phase_commit.invariants"), 0);
		if (!(th_num(r, TPC "violations.validity") > 0))
			dump_tpc(r);
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

static bool
is_txid(const char *s)
{
	if (s == NULL || strlen(s) != 16)
		return false;
	for (int i = 0; i < 16; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* --history FILE: one JSON object a line, one "begin" per transaction. */
static void
test_history(void)
{
	static const char *const evs[] = {
		"begin", "prepare", "vote", "vote_seen", "decide", "apply", "ack_seen", "in_doubt",
		"resolved", "observe", NULL,
	};
	/* The events that happen at, or about, one device. */
	static const char *const dev_evs[] = {
		"vote", "vote_seen", "apply", "ack_seen", "in_doubt", "resolved", NULL,
	};
	struct sim_broker *b = broker();
	const char *dir = th_tmpdir();
	char hist[512];
	struct rpt_json *r;
	FILE *f;
	char *line = NULL;
	size_t cap = 0, nlines = 0, bad = 0, begins = 0, in_doubt = 0;
	ssize_t n;

	snprintf(hist, sizeof(hist), "%s/h.jsonl", dir);
	r = run(b, dir,
	    "name: tpc-history\n"
	    "duration: 5s\n"
	    "drain: 15s\n"
	    "fleet:\n"
	    "  - group: rooms\n"
	    "    model: thermostat\n"
	    "    count: 50\n"
	    "    connect: { ramp: 1s }\n"
	    "    telemetry: { every: 60s }\n"
	    "patterns:\n"
	    "  - two_phase_commit:\n"
	    "      group_size: 5\n"
	    "      targets: { group: rooms }\n"
	    "      rate: 10/s\n"
	    "      faults: { vote_no: 10%, crash_after_vote: 5% }\n", hist, 0, 120);
	f = fopen(hist, "r");
	CU_ASSERT_PTR_NOT_NULL(f);
	while (f != NULL && (n = getline(&line, &cap, f)) > 0) {
		struct rpt_json *j = NULL;
		const char *ev, *txid;
		bool known = false, ok = true;
		char err[128];

		nlines++;
		if (rpt_json_parse(line, (size_t)n, &j, err, sizeof(err)) != RPT_OK ||
		    rpt_json_type(j) != RPT_JSON_OBJECT) {
			if (bad++ < 5)
				fprintf(stderr, "\n  h.jsonl:%zu: not a JSON object: %s", nlines, line);
			rpt_json_free(j);
			continue;
		}
		ev = rpt_json_str(rpt_json_get(j, "ev"));
		txid = rpt_json_str(rpt_json_get(j, "txid"));
		for (int i = 0; ev != NULL && evs[i] != NULL; i++)
			known = known || strcmp(ev, evs[i]) == 0;
		ok = known && is_txid(txid) &&
		    rpt_json_type(rpt_json_get(j, "t_ms")) == RPT_JSON_NUMBER;
		for (int i = 0; ok && dev_evs[i] != NULL; i++)
			if (strcmp(ev, dev_evs[i]) == 0)
				ok = rpt_json_str(rpt_json_get(j, "device")) != NULL;
		/* Where there is a device, it is a string. */
		if (rpt_json_get(j, "device") != NULL)
			ok = ok && rpt_json_str(rpt_json_get(j, "device")) != NULL;
		if (!ok && bad++ < 5)
			fprintf(stderr, "\n  h.jsonl:%zu: bad event: %s", nlines, line);
		if (ok && strcmp(ev, "begin") == 0)
			begins++;
		if (ok && strcmp(ev, "in_doubt") == 0)
			in_doubt++;
		rpt_json_free(j);
	}
	free(line);
	if (f != NULL)
		fclose(f);
	CU_ASSERT(nlines > 0);
	CU_ASSERT_EQUAL(bad, 0);
	if (r != NULL) {
		CU_ASSERT(begins > 0);
		CU_ASSERT_EQUAL((double)begins, th_num(r, TPC "started"));
		if ((double)begins != th_num(r, TPC "started"))
			fprintf(stderr, "\n  %zu begin lines, started %.0f\n", begins,
			    th_num(r, TPC "started"));
		/* Each in-doubt episode is in the history. */
		CU_ASSERT_EQUAL((double)in_doubt, th_num(r, TPC "in_doubt.episodes"));
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

/* A two-phase commit over devices without flash could never commit: the
 * scenario is refused, at the place that says so. */
static void
test_no_flash_is_2(void)
{
	const char *dir = th_tmpdir();
	const char *out, *at;
	char scen[512];
	unsigned line = 0, col = 0;

	snprintf(scen, sizeof(scen), "%s", th_write(dir, "nf.yaml",
	    "name: tpc-noflash\n"
	    "duration: 2s\n"
	    "fleet:\n"
	    "  - group: doors\n"
	    "    model: door-lock\n"
	    "    count: 10\n"
	    "patterns:\n"
	    "  - two_phase_commit:\n"
	    "      group_size: 2\n"
	    "      targets: { group: doors }\n"
	    "      rate: 1/s\n"));
	const char *argv[] = { "run", scen, "--report-dir", dir, "--quiet", NULL };

	CU_ASSERT_EQUAL(th_fleetsim(dir, 30, argv), 2);
	out = th_output(dir);
	/* FILE:LINE:COL: somewhere from the group (line 4) to the pattern's
	 * targets (line 10), whichever the loader blames. */
	at = strstr(out, "nf.yaml:");
	CU_ASSERT_PTR_NOT_NULL(at);
	if (at != NULL) {
		CU_ASSERT_EQUAL(sscanf(at, "nf.yaml:%u:%u:", &line, &col), 2);
		CU_ASSERT(line >= 4 && line <= 11 && col >= 1);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "flash"));
	if (at == NULL || strstr(out, "flash") == NULL)
		fprintf(stderr, "\n  output:\n%s\n", out);
}

/* The fault-heavy example runs and passes on the embedded broker, and
 * its report shows the in-doubt recoveries it is there to show. */
static void
test_example_tariff_rollout(void)
{
	const char *dir = th_tmpdir();
	struct rpt_json *r;
	char scen[512];

	CU_ASSERT_FATAL(dir != NULL);
	snprintf(scen, sizeof(scen), "%s/scenarios/tariff-rollout.yaml",
	    getenv("FLEETSIM_SOURCE_DIR"));
	const char *argv[] = { "run", scen, "--report-dir", dir, "--quiet", NULL };

	CU_ASSERT_EQUAL(th_fleetsim(dir, 180, argv), 0);
	if ((r = th_report(dir)) == NULL)
		return;
	CU_ASSERT(th_num(r, TPC "in_doubt.episodes") > 0);
	CU_ASSERT_EQUAL(th_num(r, TPC "in_doubt.resolved"), th_num(r, TPC "in_doubt.episodes"));
	CU_ASSERT(th_num(r, TPC "faults.reboot_during_commit") > 0);
	CU_ASSERT(th_num(r, TPC "aborted.by_coordinator") > 0);
	rpt_json_free(r);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "1,000 devices under faults: all decided, no violation", test_scale_with_faults },
		{ "coordinator_bug commit_despite_no_vote is caught", test_bug_commit_despite_no_vote },
		{ "coordinator_bug forget_decision is caught", test_bug_forget_decision },
		{ "an external coordinator passes", test_external_correct },
		{ "an external commit-always coordinator is caught", test_external_commit_always },
		{ "--history writes one event a line", test_history },
		{ "a model without flash exits 2 with FILE:LINE:COL", test_no_flash_is_2 },
		{ "scenarios/tariff-rollout.yaml passes", test_example_tariff_rollout },
		{ NULL, NULL },
	};

	return th_main("two_phase_commit", tests);
}
