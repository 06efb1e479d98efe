#include "compare_cmd.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "json.h"
#include "run.h"

static const char usage[] =
    "usage: fleetsim compare BASE/report.json NEW/report.json [--max-regression PCT%]\n";

static int
bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "fleetsim compare: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return SIM_EXIT_USAGE;
}

/* "10%" or "10" (or "2.5%"): a finite percentage >= 0. strtod alone would
 * also take "inf", "0x10" and " 10", none of which a CI file means. */
static int
parse_pct(const char *s, double *out)
{
	char *end;
	double v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	for (const char *p = s; *p != '\0' && *p != '%'; p++) {
		if ((*p < '0' || *p > '9') && *p != '.')
			return -1;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !isfinite(v))
		return -1;
	if (*end == '%')
		end++;
	if (*end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int
load(const char *path, struct rpt_json **out)
{
	char err[512] = "";
	enum rpt_err rc = rpt_json_parse_file(path, out, err, sizeof(err));

	if (rc == RPT_OK)
		return 0;
	if (rc == RPT_ERR_NOMEM)
		fprintf(stderr, "fleetsim compare: out of memory reading %s\n", path);
	else
		fprintf(stderr, "fleetsim compare: %s\n", err[0] ? err : path);
	return rc == RPT_ERR_NOMEM ? SIM_EXIT_INFRA : SIM_EXIT_USAGE;
}

int
sim_compare_main(int argc, char **argv)
{
	struct rpt_json *base = NULL, *cur = NULL;
	struct rpt_cmp_result res = { 0 };
	const char *files[2] = { NULL, NULL };
	double limit = RPT_CMP_DEFAULT_LIMIT;
	size_t nfiles = 0;
	enum rpt_err e;
	int rc;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *val = NULL;

		if (strcmp(a, "--max-regression") == 0) {
			if (i + 1 >= argc) {
				rc = bad_usage("%s needs a value", a);
				goto out;
			}
			val = argv[++i];
		} else if (strncmp(a, "--max-regression=", 17) == 0) {
			val = a + 17;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf("%s", usage);
			rc = SIM_EXIT_PASS;
			goto out;
		} else if (a[0] == '-' && a[1] != '\0') {
			rc = bad_usage("unknown option '%s'", a);
			goto out;
		} else {
			if (nfiles == 2) {
				rc = bad_usage("more than two reports given ('%s')", a);
				goto out;
			}
			files[nfiles++] = a;
			continue;
		}
		if (parse_pct(val, &limit) != 0) {
			rc = bad_usage("--max-regression: expected a percentage like 10%% or 2.5, got '%s'",
			    val);
			goto out;
		}
	}
	if (nfiles < 2) {
		rc = bad_usage("%s", nfiles == 0 ? "missing BASE and NEW reports" : "missing NEW report");
		goto out;
	}
	if ((rc = load(files[0], &base)) != 0 || (rc = load(files[1], &cur)) != 0)
		goto out;
	if ((e = rpt_compare(base, cur, limit, &res)) != RPT_OK) {
		fprintf(stderr, "fleetsim compare: %s\n",
		    e == RPT_ERR_NOMEM ? "out of memory" : "cannot compare");
		rc = e == RPT_ERR_NOMEM ? SIM_EXIT_INFRA : SIM_EXIT_USAGE;
		goto out;
	}
	/* An empty or foreign file would otherwise pass as "all missing, no
	 * regression": exactly the case a CI gate must not wave through. */
	for (size_t k = 0; k < 2; k++) {
		if ((k == 0 ? res.nbase : res.ncur) == 0) {
			fprintf(stderr, "fleetsim compare: %s: no figures to compare; "
			    "is it a fleetsim report.json?\n", files[k]);
			rc = SIM_EXIT_USAGE;
			goto out;
		}
	}
	if (rpt_cmp_print(stdout, &res) != RPT_OK ||
	    printf("compare: %zu regression%s\n", res.regressions, res.regressions == 1 ? "" : "s") < 0 ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "fleetsim compare: cannot write to stdout\n");
		rc = SIM_EXIT_INFRA;
		goto out;
	}
	rc = res.regressions > 0 ? SIM_EXIT_FAIL : SIM_EXIT_PASS;
out:
	rpt_cmp_fini(&res);
	rpt_json_free(base);
	rpt_json_free(cur);
	return rc;
}
