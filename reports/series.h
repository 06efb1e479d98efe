/* Time series: one row per second of named numeric columns, kept in
 * report.json and written as CSV. Rows carry their wall-clock second so
 * shards' series can be aligned later. */
#ifndef RPT_SERIES_H
#define RPT_SERIES_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "json.h"
#include "rpt_err.h"

struct rpt_series;

/* columns are copied; the first is conventionally "t" (unix seconds). The
 * caller owns *out: rpt_series_free. */
enum rpt_err rpt_series_new(const char *const *columns, size_t ncolumns, struct rpt_series **out);
void rpt_series_free(struct rpt_series *s);

/* Appends one row of ncolumns values (NaN is written as empty / null). */
enum rpt_err rpt_series_add(struct rpt_series *s, const double *values);

size_t rpt_series_rows(const struct rpt_series *s);
/* Value at row r, column c; NaN when out of range. */
double rpt_series_at(const struct rpt_series *s, size_t r, size_t c);

/* {"columns": [...], "rows": [[...], ...]}; NULL on NOMEM. */
struct rpt_json *rpt_series_to_json(const struct rpt_series *s);

/* CSV with a header line; prefix_name/prefix_value (may be NULL) add a
 * first column holding the same text on every row, so several series can
 * share one file (e.g. pattern,telemetry). When append is true the header
 * is left out. */
enum rpt_err rpt_series_csv(const struct rpt_series *s, const char *prefix_name,
    const char *prefix_value, bool append, struct rpt_buf *out);

#endif
