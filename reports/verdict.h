/* Assertions: "DOT.PATH OP NUMBER[UNIT]" evaluated against report.json. */
#ifndef RPT_VERDICT_H
#define RPT_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "rpt_err.h"

enum rpt_op { RPT_OP_LT, RPT_OP_LE, RPT_OP_GT, RPT_OP_GE, RPT_OP_EQ, RPT_OP_NE };

/* A parsed assertion. value is already in the unit of the path: a duration
 * compared with a path whose last segment or an enclosing object ends in
 * "_ms" is in milliseconds, "_s" in seconds, "_us" in microseconds; a size
 * (B, KB, MB) is in bytes; a plain number is taken as written. */
struct rpt_assertion {
	char *expr;   /* the text as written, owned */
	char *path;   /* owned */
	enum rpt_op op;
	double value;
};

/* Parses expr. On RPT_ERR_PARSE, err receives what was expected and *col
 * (if not NULL) the 0-based byte offset in expr where it went wrong. A unit
 * that does not fit the path (ms on a count) is a parse error. */
enum rpt_err rpt_assert_parse(const char *expr, struct rpt_assertion *out,
    char *err, size_t errlen, size_t *col);
void rpt_assertion_fini(struct rpt_assertion *a);

/* Evaluates against a report. RPT_ERR_NOTFOUND when the path is absent,
 * RPT_ERR_TYPE when it is not a number (or bool, taken as 0/1). */
enum rpt_err rpt_assert_eval(const struct rpt_json *report, const struct rpt_assertion *a,
    double *actual, bool *pass);

const char *rpt_op_str(enum rpt_op op);

#endif
