/* The human report, report.html: one self-contained page (inline CSS and
 * SVG, no scripts, no external references) showing the verdict, the
 * assertions and checks, per pattern a table of key figures and charts of
 * its per-second series and latency distribution, the scenario text and
 * the run's metadata. It opens from a CI artifact with no network.
 *
 * The page is generic over report.json: every object under
 * timeseries.<pattern> ({columns, rows}) is charted from the columns it
 * has, and every patterns.<name>.latency_histogram gets a percentile plot.
 * Each chart is an <svg class="chart" data-chart="KIND"
 * data-pattern="PATTERN"> and each plotted series a <path class="series"
 * data-series="COLUMN" data-points="N">, so tests can count what was drawn.
 * See docs/report-html.md for why inline SVG. */
#ifndef RPT_HTML_H
#define RPT_HTML_H

#include "json.h"
#include "rpt_err.h"

/* Writes report.html for report (the judged report.json tree; missing keys
 * are left out of the page) to path atomically (temp file + rename).
 * scenario_text is the scenario file's text, shown verbatim; NULL when it
 * is not available. RPT_ERR_INVAL unless report is an object. */
enum rpt_err rpt_html_write(const char *path, const struct rpt_json *report,
    const char *scenario_text);

/* The same page into a malloc'd NUL-terminated string the caller frees. */
enum rpt_err rpt_html_dump(const struct rpt_json *report, const char *scenario_text,
    char **out);

#endif
