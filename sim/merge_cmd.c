#include "merge_cmd.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "html.h"
#include "json.h"
#include "junit.h"
#include "merge.h"
#include "report.h"
#include "run.h"
#include "series.h"

static const char usage[] =
    "usage: fleetsim merge OUT_DIR REPORT_DIR... [--quiet]\n";

static int
bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "fleetsim merge: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return SIM_EXIT_USAGE;
}

static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
mkdirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0777) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* A REPORT_DIR is a folder holding report.json; a file is taken as the
 * report itself, which is handy for reports kept under other names. */
static int
load(const char *arg, struct rpt_json **out)
{
	char path[4096], err[1024] = "";
	enum rpt_err rc;

	if (is_dir(arg))
		snprintf(path, sizeof(path), "%s/report.json", arg);
	else
		snprintf(path, sizeof(path), "%s", arg);
	rc = rpt_json_parse_file(path, out, err, sizeof(err));
	if (rc == RPT_OK)
		return 0;
	if (rc == RPT_ERR_NOMEM) {
		fprintf(stderr, "fleetsim merge: out of memory reading %s\n", path);
		return SIM_EXIT_INFRA;
	}
	fprintf(stderr, "fleetsim merge: %s\n", err[0] ? err : path);
	return SIM_EXIT_USAGE;
}

/* timeseries.csv from the merged JSON rows, in the run's format: one file
 * for every pattern, told apart by the first column. */
static enum rpt_err
write_csv(const char *path, const struct rpt_json *r)
{
	const struct rpt_json *ts = rpt_json_get(r, "timeseries");
	struct rpt_buf csv = { 0 };
	enum rpt_err rc = RPT_OK;
	const char **cols = NULL;
	double *vals = NULL;

	for (size_t p = 0; p < rpt_json_len(ts) && rc == RPT_OK; p++) {
		const struct rpt_json *s = rpt_json_at(ts, p);
		const struct rpt_json *jc = rpt_json_get(s, "columns"), *rows = rpt_json_get(s, "rows");
		struct rpt_series *ser = NULL;
		size_t nc = rpt_json_len(jc);

		free(cols);
		free(vals);
		cols = calloc(nc ? nc : 1, sizeof(*cols));
		vals = calloc(nc ? nc : 1, sizeof(*vals));
		if (cols == NULL || vals == NULL) {
			rc = RPT_ERR_NOMEM;
			break;
		}
		for (size_t c = 0; c < nc; c++)
			cols[c] = rpt_json_str(rpt_json_at(jc, c)) ? rpt_json_str(rpt_json_at(jc, c)) : "";
		if ((rc = rpt_series_new(cols, nc, &ser)) != RPT_OK)
			break;
		for (size_t i = 0; i < rpt_json_len(rows) && rc == RPT_OK; i++) {
			const struct rpt_json *row = rpt_json_at(rows, i);

			for (size_t c = 0; c < nc; c++) {
				const struct rpt_json *v = rpt_json_at(row, c);

				vals[c] = rpt_json_type(v) == RPT_JSON_NUMBER ? rpt_json_num(v) : NAN;
			}
			rc = rpt_series_add(ser, vals);
		}
		if (rc == RPT_OK)
			rc = rpt_series_csv(ser, "pattern", rpt_json_key_at(ts, p), p > 0, &csv);
		rpt_series_free(ser);
	}
	if (rc == RPT_OK && csv.len == 0)
		rpt_buf_str(&csv, "pattern,t\n");
	if (rc == RPT_OK && csv.nomem)
		rc = RPT_ERR_NOMEM;
	if (rc == RPT_OK)
		rc = rpt_write_atomic(path, csv.p, csv.len);
	free(csv.p);
	free(cols);
	free(vals);
	return rc;
}

static int
write_out(const char *dir, const struct rpt_json *r, bool quiet)
{
	char path[4096], other[4096];
	enum rpt_err rc;

	snprintf(path, sizeof(path), "%s/report.json", dir);
	if (mkdirs(dir) != 0 || rpt_json_write_file(path, r, 2) != RPT_OK) {
		fprintf(stderr, "fleetsim merge: cannot write %s: %s\n", path, strerror(errno));
		return SIM_EXIT_INFRA;
	}
	snprintf(other, sizeof(other), "%s/timeseries.csv", dir);
	if ((rc = write_csv(other, r)) != RPT_OK)
		goto fail;
	/* No scenario text: the shards may have been run from different
	 * copies, and the merge only has their reports. */
	snprintf(other, sizeof(other), "%s/report.html", dir);
	if ((rc = rpt_html_write(other, r, NULL)) != RPT_OK)
		goto fail;
	snprintf(other, sizeof(other), "%s/junit.xml", dir);
	if ((rc = rpt_junit_write(other, r)) != RPT_OK)
		goto fail;
	if (!quiet) {
		char *abs = realpath(path, NULL);

		sim_report_print(stdout, r, abs != NULL ? abs : path);
		free(abs);
	}
	return 0;
fail:
	fprintf(stderr, "fleetsim merge: cannot write %s: %s\n", other,
	    rc == RPT_ERR_NOMEM ? "out of memory" : strerror(errno));
	return SIM_EXIT_INFRA;
}

/* Writing the merge into a shard's folder would replace that shard's
 * report with the total, and a second merge would count it twice. */
static bool
same_dir(const char *out, const char *in)
{
	char *a = realpath(out, NULL), *b = realpath(in, NULL);
	bool same = a != NULL && b != NULL && strcmp(a, b) == 0;

	free(a);
	free(b);
	return same;
}

int
sim_merge_main(int argc, char **argv)
{
	struct rpt_json **in = NULL, *merged = NULL, *from;
	const char **dirs = NULL, *out_dir = NULL;
	struct sim_diag d = { "" };
	size_t n = 0;
	bool quiet = false;
	enum sim_err e;
	int rc;

	in = calloc((size_t)argc, sizeof(*in));
	dirs = calloc((size_t)argc, sizeof(*dirs));
	if (in == NULL || dirs == NULL) {
		rc = SIM_EXIT_INFRA;
		goto out;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf("%s", usage);
			rc = SIM_EXIT_PASS;
			goto out;
		} else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
			quiet = true;
		} else if (a[0] == '-' && a[1] != '\0') {
			rc = bad_usage("unknown option '%s'", a);
			goto out;
		} else if (out_dir == NULL) {
			out_dir = a;
		} else {
			dirs[n++] = a;
		}
	}
	if (n == 0) {
		rc = bad_usage("%s", out_dir == NULL ? "missing OUT_DIR and REPORT_DIRs" :
		    "missing REPORT_DIR: give at least one shard's report folder");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (same_dir(out_dir, dirs[i])) {
			rc = bad_usage("OUT_DIR '%s' is also a REPORT_DIR; write the merge elsewhere",
			    out_dir);
			goto out;
		}
		if ((rc = load(dirs[i], &in[i])) != 0)
			goto out;
	}
	if ((e = sim_merge_reports((const struct rpt_json *const *)in, n, &merged, &d)) != SIM_OK) {
		if (e == SIM_ERR_NOMEM) {
			fprintf(stderr, "fleetsim merge: out of memory\n");
			rc = SIM_EXIT_INFRA;
		} else {
			/* Reports are numbered in the order given. */
			fprintf(stderr, "fleetsim merge: %s\n", d.msg);
			rc = SIM_EXIT_USAGE;
		}
		goto out;
	}
	from = rpt_json_get(merged, "merged_from");
	for (size_t i = 0; i < n; i++) {
		if (rpt_json_push(from, rpt_json_string(dirs[i])) != RPT_OK) {
			fprintf(stderr, "fleetsim merge: out of memory\n");
			rc = SIM_EXIT_INFRA;
			goto out;
		}
	}
	if ((rc = write_out(out_dir, merged, quiet)) != 0)
		goto out;
	if (!quiet) {
		const struct rpt_json *notes = rpt_json_get(merged, "notes");

		for (size_t i = 0; i < rpt_json_len(notes); i++)
			printf("  note       %s\n", rpt_json_str(rpt_json_at(notes, i)));
	}
	rc = strcmp(rpt_json_str(rpt_json_get(merged, "verdict")), "pass") == 0 ?
	    SIM_EXIT_PASS : SIM_EXIT_FAIL;
out:
	for (size_t i = 0; in != NULL && i < n; i++)
		rpt_json_free(in[i]);
	free(in);
	free(dirs);
	rpt_json_free(merged);
	return rc;
}
