/* report.html from a real run, rendered by headless Chromium: the charts
 * are drawn with data, the page logs nothing to the console, and a
 * screenshot is kept as a test artifact (FLEETSIM_ARTIFACTS_DIR, else
 * artifacts/ in the build folder). Chromium is required: without it the
 * test fails and says how to install it. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "broker.h"
#include "harness.h"
#include "html.h"

/* Headless, no first-run or background traffic, a throwaway profile. */
#define CHROMIUM "timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic " \
	"--no-first-run --disable-background-networking --disable-component-update " \
	"--disable-sync --enable-logging=stderr --v=0 --user-data-dir=\"$(mktemp -d)\""

/* The whole of a file in a malloc'd string; NULL if it cannot be read. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (s = calloc(1, (size_t)n + 1)) != NULL && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	fclose(f);
	return s;
}

static bool
have_chromium(void)
{
	if (th_sh("command -v chromium >/dev/null 2>&1") == 0)
		return true;
	fprintf(stderr, "\n  chromium is not installed: run ci/deps.sh "
	    "(Debian: apt-get install --no-install-recommends chromium)\n");
	CU_FAIL("chromium is not installed: run ci/deps.sh");
	return false;
}

/* Chromium logs what a page writes to the console, and uncaught
 * exceptions, as "INFO:CONSOLE" lines on stderr; anything of the kind is
 * an error for a page that should run no code. Returns how many. */
static int
console_lines(const char *errfile, bool show)
{
	char *log = slurp(errfile);
	int n = 0;

	if (log == NULL)
		return -1;
	for (char *line = strtok(log, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (strstr(line, "CONSOLE") != NULL || strstr(line, "Uncaught") != NULL) {
			if (show)
				fprintf(stderr, "\n  console: %s", line);
			n++;
		}
	}
	free(log);
	return n;
}

/* Where screenshots are kept: $FLEETSIM_ARTIFACTS_DIR, else artifacts/ in
 * the build folder, which is the parent of the tests/ folder ctest runs
 * this in. */
static void
artifacts_dir(char *out, size_t len)
{
	const char *env = getenv("FLEETSIM_ARTIFACTS_DIR");
	char cwd[PATH_MAX];
	const char *base;

	if (env != NULL && env[0] != '\0') {
		snprintf(out, len, "%s", env);
		return;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		snprintf(cwd, sizeof(cwd), ".");
	base = strrchr(cwd, '/');
	if (base != NULL && strcmp(base, "/tests") == 0)
		snprintf(out, len, "%.*s/artifacts", (int)(base - cwd), cwd);
	else
		snprintf(out, len, "%s/artifacts", cwd);
}

/* How often needle occurs in hay. */
static int
count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* Checks the rendered DOM: n_charts charts, n_series series, each with a
 * positive data-points. */
static void
check_dom(const char *dom, int n_charts, int n_series)
{
	int charts = count_of(dom, "<svg class=\"chart\""), series = 0, empty = 0;

	for (const char *p = dom; (p = strstr(p, "<path class=\"series\"")) != NULL; p++) {
		const char *end = strchr(p, '>');
		const char *dp = strstr(p, "data-points=\"");

		series++;
		if (dp == NULL || end == NULL || dp > end || strtol(dp + 13, NULL, 10) <= 0) {
			fprintf(stderr, "\n  a series without points: %.*s\n",
			    end != NULL ? (int)(end - p + 1) : 80, p);
			empty++;
		}
	}
	if (charts != n_charts || series != n_series)
		fprintf(stderr, "\n  rendered %d charts and %d series, want %d and %d\n",
		    charts, series, n_charts, n_series);
	CU_ASSERT_EQUAL(charts, n_charts);
	CU_ASSERT_EQUAL(series, n_series);
	CU_ASSERT_EQUAL(empty, 0);
}

static void
test_real_run_renders(void)
{
	struct sim_broker *b = NULL;
	struct sim_broker_opts bo = { 0 };
	struct sim_diag d;
	const char *dir = th_tmpdir();
	struct rpt_json *r = NULL;
	char scen[512], html[512], art[PATH_MAX + 32], err[512];
	char *text = NULL, *page = NULL, *dom = NULL;
	struct stat st;

	CU_ASSERT_FATAL(dir != NULL);
	if (!have_chromium())
		return;
	CU_ASSERT_FATAL(sim_broker_start(&bo, &b, &d) == SIM_OK);
	snprintf(scen, sizeof(scen), "%s", th_write(dir, "html.yaml",
	    "# <b>not bold</b> & escaped\n"
	    "name: html-report\n"
	    "duration: 4s\n"
	    "drain: 2s\n"
	    "fleet:\n"
	    "  - group: sensors\n"
	    "    count: 50\n"
	    "    connect: { ramp: 1s }\n"
	    "    telemetry: { every: 200ms, qos: 1, size: 64 }\n"
	    "  - group: meters\n"
	    "    model: thermostat\n"
	    "    count: 20\n"
	    "    connect: { ramp: 1s }\n"
	    "patterns:\n"
	    "  - two_phase_commit: { targets: { group: meters }, group_size: 3, rate: 5/s }\n"
	    "assert:\n"
	    "  - patterns.telemetry.lost == 0\n"
	    "  - devices.connected == 70\n"));
	const char *argv[] = { "run", scen, "--broker", sim_broker_url(b), "--report-dir", dir,
		"--quiet", NULL };

	CU_ASSERT_EQUAL(th_fleetsim(dir, 120, argv), 0);
	sim_broker_free(b);
	if ((r = th_report(dir)) == NULL)
		return;

	/* The run wrote report.html itself, with the scenario's text in it. */
	snprintf(html, sizeof(html), "%s/report.html", dir);
	text = slurp(scen);
	CU_ASSERT_PTR_NOT_NULL(text);
	rpt_json_free(r);
	r = NULL;
	page = slurp(html);
	CU_ASSERT_PTR_NOT_NULL_FATAL(page);
	CU_ASSERT_PTR_NOT_NULL(strstr(page, "telemetry: { every: 200ms, qos: 1, size: 64 }"));
	CU_ASSERT_PTR_NULL(strcasestr(page, "http"));
	CU_ASSERT_PTR_NOT_NULL(strstr(page, "&lt;b&gt;not bold&lt;/b&gt; &amp; escaped"));

	/* What the browser built from it, after parsing and layout. */
	CU_ASSERT_EQUAL(th_sh(CHROMIUM " --dump-dom 'file://%s' >'%s/dom.html' 2>'%s/dom.err'",
	    html, dir, dir), 0);
	snprintf(err, sizeof(err), "%s/dom.html", dir);
	dom = slurp(err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dom);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "data-verdict=\"pass\""));
	/* Throughput, latency over time, distribution, connections, errors:
	 * 2 + 3 + 1 + 2 + 1 series; then two-phase commit's transactions per
	 * second and distribution per phase, 3 + 3. */
	check_dom(dom, 7, 15);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "<h2>Two-phase commit</h2>"));
	CU_ASSERT_EQUAL(count_of(dom, "<tr class=\"pass\" data-invariant="), 5);
	snprintf(err, sizeof(err), "%s/dom.err", dir);
	CU_ASSERT_EQUAL(console_lines(err, true), 0);

	CU_ASSERT_EQUAL(th_sh(CHROMIUM " --screenshot='%s/report.png' --window-size=1280,2000 "
	    "'file://%s' >'%s/shot.out' 2>'%s/shot.err'", dir, html, dir, dir), 0);
	snprintf(err, sizeof(err), "%s/shot.err", dir);
	CU_ASSERT_EQUAL(console_lines(err, true), 0);
	snprintf(err, sizeof(err), "%s/report.png", dir);
	CU_ASSERT_EQUAL_FATAL(stat(err, &st), 0);
	/* A blank 1280x2000 PNG compresses to a few kB; charts and text do not. */
	CU_ASSERT(st.st_size > 50000);
	artifacts_dir(art, sizeof(art));
	CU_ASSERT_EQUAL(th_sh("mkdir -p '%s' && cp '%s/report.png' '%s/report.html' '%s/'",
	    art, dir, dir, art), 0);
	fprintf(stderr, "\n  screenshot: %s/report.png\n", art);

	free(dom);
	free(page);
	free(text);
}

/* The console check itself: a page that logs an error and throws must be
 * caught, or a Chromium that logs differently would pass anything. */
static void
test_console_errors_are_seen(void)
{
	const char *dir = th_tmpdir();
	char page[512], err[512];

	CU_ASSERT_FATAL(dir != NULL);
	if (!have_chromium())
		return;
	snprintf(page, sizeof(page), "%s", th_write(dir, "bad.html",
	    "<!DOCTYPE html><html><body><p>bad</p><script>console.error('boom');"
	    "notDefined();</script></body></html>\n"));
	CU_ASSERT_EQUAL(th_sh(CHROMIUM " --dump-dom 'file://%s' >/dev/null 2>'%s/bad.err'",
	    page, dir), 0);
	snprintf(err, sizeof(err), "%s/bad.err", dir);
	CU_ASSERT_EQUAL(console_lines(err, false), 2);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "report.html of a real run renders in Chromium with data", test_real_run_renders },
		{ "the console check sees errors", test_console_errors_are_seen },
		{ NULL, NULL },
	};

	return th_main("html_chromium", tests);
}
