/* Comparing two report.json documents figure by figure: the perf gate CI
 * runs between a baseline and a new build (`fleetsim compare`).
 *
 * Which figures are compared. Patterns are walked generically, so a pattern
 * added later is covered without touching this code: every object under
 * "patterns" is searched recursively (nested objects such as
 * patterns.request_response.c2d included), skipping "by_group",
 * "by_method", any key containing "histogram", arrays, strings and bools.
 * Inside, a number is a figure when
 *   - its parent object is "latency_ms" (or ends in "_latency_ms") and its
 *     key is not "count" or "min" (so p50, p90, p99, p999, max, mean):
 *     LATENCY, higher is worse;
 *   - its key is "throughput_per_s": THROUGHPUT, lower is worse;
 *   - its key is lost, duplicates, out_of_order, dropped, malformed,
 *     timeout, unmatched, late or error_status, or it lies anywhere under
 *     a "violations" object: COUNT, higher is worse.
 * Other numbers (sent, received, foreign, qos, ...) are not compared.
 * Outside patterns, a fixed list: devices.connect_failures,
 * devices.disconnects, devices.decode_errors and
 * broker.consumer_decode_errors (COUNT) and devices.connect_ms.p99
 * (LATENCY).
 *
 * The rule, with change = (cur - base) / |base| * 100 and limit the
 * allowed regression in percent:
 *   - LATENCY regresses when change > limit and improves when
 *     change < -limit; THROUGHPUT the other way round. A change of exactly
 *     the limit passes. When base is 0 and cur is not, the change is
 *     undefined (NaN) and the figure is never a regression: a pattern that
 *     carried no traffic in the baseline has nothing to regress from.
 *   - COUNT is a correctness figure: any increase regresses whatever the
 *     limit, any decrease improves.
 *   - A figure that is a number in only one of the documents is MISSING:
 *     listed, never a regression (schemas grow; a renamed pattern should
 *     not fail a gate silently, so the table says so instead).
 */
#ifndef RPT_COMPARE_H
#define RPT_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "json.h"
#include "rpt_err.h"

#define RPT_CMP_DEFAULT_LIMIT 10.0

enum rpt_cmp_kind {
	RPT_CMP_LATENCY,     /* higher is worse, beyond the limit */
	RPT_CMP_THROUGHPUT,  /* lower is worse, beyond the limit */
	RPT_CMP_COUNT,       /* higher is worse, any increase */
};

enum rpt_cmp_state {
	RPT_CMP_OK,          /* unchanged or within the limit */
	RPT_CMP_REGRESSED,
	RPT_CMP_IMPROVED,    /* beyond the limit the good way (any decrease for COUNT) */
	RPT_CMP_MISSING,     /* a number in only one document; see has_base/has_cur */
};

struct rpt_cmp_row {
	char *path;          /* dot path, e.g. "patterns.telemetry.latency_ms.p99"; owned */
	enum rpt_cmp_kind kind;
	enum rpt_cmp_state state;
	bool has_base, has_cur;
	double base, cur;    /* 0 on the side that is missing */
	double change_pct;   /* NaN when a side is missing, or base is 0 and cur is not */
};

/* Rows come in document order: the fixed figures, then the patterns as
 * base lists them, then figures only cur has. */
struct rpt_cmp_result {
	struct rpt_cmp_row *rows;
	size_t nrows;
	size_t regressions, improvements, missing;
	/* Figures found in each document; 0 means it is probably not a
	 * report.json at all, which a gate should reject rather than pass. */
	size_t nbase, ncur;
	double max_regression_pct;
};

/* Compares cur against base with the given limit in percent (>= 0, finite;
 * else RPT_ERR_RANGE). On success the caller frees out with rpt_cmp_fini;
 * on error out is left empty. A document that is not an object simply has
 * no figures. */
enum rpt_err rpt_compare(const struct rpt_json *base, const struct rpt_json *cur,
    double max_regression_pct, struct rpt_cmp_result *out);
void rpt_cmp_fini(struct rpt_cmp_result *r);

/* The row for a path, or NULL. */
const struct rpt_cmp_row *rpt_cmp_find(const struct rpt_cmp_result *r, const char *path);

/* Prints an aligned text table (figure, base, new, change, verdict) and a
 * note about MISSING figures, if any. RPT_ERR_IO when f reports an error. */
enum rpt_err rpt_cmp_print(FILE *f, const struct rpt_cmp_result *r);

const char *rpt_cmp_kind_str(enum rpt_cmp_kind k);
const char *rpt_cmp_state_str(enum rpt_cmp_state s);

#endif
