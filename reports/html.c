#include "html.h"

#include "buf.h"
#include "hist.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

/* Chart geometry in SVG user units; the CSS scales the whole box, so
 * these only fix proportions and how much room labels get. */
#define CW 640
#define CH 280
#define ML 66                   /* left: tick labels and the unit */
#define MR 62                   /* right: a second axis when there is one */
#define MT 34                   /* top: the legend */
#define MB 44                   /* bottom: tick labels and the x title */
#define PW (CW - ML - MR)
#define PH (CH - MT - MB)
#define MAX_SERIES 4
/* Beyond two points per horizontal unit a line only gets heavier: long
 * runs are thinned to each column's min and max so spikes stay visible. */
#define MAX_POINTS (2 * PW)
/* The percentile plot's x is log10(1 / (1 - p)): 1 is p90, 2 is p99...
 * sampled this finely, and at most out to p99.9999. */
#define PCT_STEP 0.05
#define PCT_DECADES 6

#define C_BLUE "#1d4ed8"
#define C_GREEN "#15803d"
#define C_ORANGE "#c2410c"
#define C_RED "#b91c1c"
#define C_PURPLE "#7e22ce"

/* Styles for the whole page. Colors are chosen for a white page and
 * print; there is no dark variant since a CI viewer may not pass one. */
static const char STYLE[] =
    ":root{color-scheme:light}\n"
    "body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;"
    "color:#111827;background:#fff;margin:0 auto;max-width:1320px;padding:16px 24px 40px}\n"
    "h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;"
    "border-bottom:1px solid #d1d5db;padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}\n"
    ".verdict{display:inline-block;font-weight:700;font-size:20px;padding:4px 14px;"
    "border-radius:6px;letter-spacing:.05em;margin:6px 0}\n"
    ".verdict.pass{background:#dcfce7;color:#14532d;border:1px solid #15803d}\n"
    ".verdict.fail{background:#fee2e2;color:#7f1d1d;border:1px solid #b91c1c}\n"
    ".verdict.unknown{background:#f3f4f6;color:#374151;border:1px solid #6b7280}\n"
    ".sub{color:#4b5563;margin:2px 0}.warn{color:#92400e;background:#fef3c7;"
    "padding:6px 10px;border-radius:4px}\n"
    "table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #d1d5db;"
    "padding:4px 10px;text-align:left;vertical-align:top}th{background:#f3f4f6}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}\n"
    "tr.fail td{background:#fef2f2}.ok{color:#15803d;font-weight:600}"
    ".bad{color:#b91c1c;font-weight:600}\n"
    ".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:12px}\n"
    "figure{margin:0;border:1px solid #e5e7eb;border-radius:6px;padding:6px 8px}\n"
    "figcaption{font-weight:600;margin:0 0 2px}\n"
    "svg.chart{width:100%;height:auto;display:block}\n"
    ".chart text{font:11px system-ui,sans-serif;fill:#374151}\n"
    ".chart .grid{stroke:#e5e7eb;stroke-width:1}\n"
    ".chart .axis{stroke:#6b7280;stroke-width:1}\n"
    ".chart .series{fill:none;stroke-width:1.8;stroke-linejoin:round;stroke-linecap:round}\n"
    ".chart .nodata{font-size:14px;fill:#9ca3af}\n"
    "pre{background:#f9fafb;border:1px solid #e5e7eb;border-radius:6px;padding:10px;"
    "overflow:auto;font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}\n"
    ".groups{display:flex;flex-wrap:wrap;gap:0 28px}\n"
    "pre.violation{max-height:320px;margin:4px 0 14px}\n"
    "footer{margin-top:32px;color:#6b7280;font-size:12px}\n";

struct col_spec {
	const char *column;
	const char *label;
	const char *color;
	bool right;             /* on the second (right) axis */
	bool dashed;            /* so a line that tracks another stays visible */
};

/* The charts drawn from a pattern's per-second columns, in page order. A
 * chart appears when any of its columns is present; columns named nowhere
 * here get a chart of their own, so new series show without code. */
struct chart_spec {
	const char *kind;
	const char *title;
	const char *unit;
	const char *right_unit;
	bool integral;          /* counts: no ticks between whole numbers */
	struct col_spec cols[MAX_SERIES];
};

static const struct chart_spec SPECS[] = {
	/* timeseries.two_phase_commit, first as its throughput; committed and
	 * aborted add up to started, a little later, so all share one axis. */
	{ "transactions", "Transactions per second", "transactions / s", NULL, true, {
		{ "started", "started", C_BLUE, false, false },
		{ "committed", "committed", C_GREEN, false, false },
		{ "aborted", "aborted", C_RED, false, false } } },
	{ "throughput", "Throughput", "messages / s", NULL, true, {
		{ "sent", "sent", C_BLUE, false, false },
		{ "received", "received", C_GREEN, false, true } } },
	{ "latency", "Latency over time (per second)", "ms", NULL, false, {
		{ "p50_ms", "p50", C_BLUE, false, false },
		{ "p99_ms", "p99", C_ORANGE, false, false },
		{ "max_ms", "max", C_RED, false, false } } },
	{ "connections", "Connected devices and reconnects", "devices", "reconnects / s", true, {
		{ "connected", "connected", C_BLUE, false, false },
		{ "reconnects", "reconnects", C_RED, true, false } } },
	{ "errors", "Errors", "errors / s", NULL, true, {
		{ "errors", "errors", C_RED, false, false } } },
};

/* The distribution chart goes after this kind. */
#define DIST_AFTER "latency"
#define DIST_KIND "latency_distribution"
#define DIST_TITLE "Latency distribution (percentiles, log scale)"

struct series {
	const char *name;       /* data-series */
	const char *label;      /* legend */
	const char *color;
	bool right, dashed;
	const double *x, *y;    /* n points; a non-finite y is a gap */
	size_t n;
};

struct chart {
	const char *kind, *pattern, *title;
	const char *xtitle, *unit, *right_unit;
	bool integral;
	bool pct_axis;          /* x is the percentile plot's log axis */
	double xlo, xhi;
	struct series s[MAX_SERIES];
	size_t ns;
};

struct axis {
	double lo, hi, step;
};

/* A pattern's per-second table: x[r] is seconds since the first row, v
 * holds column c of row r at v[c * nrows + r]. */
struct table {
	size_t ncols, nrows;
	const struct rpt_json *columns;
	double *x, *v;
	double t0;
	bool has_t;
};

/* Appends s escaped for HTML text and attribute values alike. */
static void
put_text(struct rpt_buf *b, const char *s)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		const char *rep;

		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		rpt_buf_add(b, run, (size_t)(s - run));
		rpt_buf_str(b, rep);
		run = s + 1;
	}
	rpt_buf_add(b, run, (size_t)(s - run));
}

/* A value as report.json has it (integral numbers without a fraction). */
static void
put_json(struct rpt_buf *b, const struct rpt_json *v)
{
	char *s = NULL;

	if (rpt_json_type(v) == RPT_JSON_STRING) {
		put_text(b, rpt_json_str(v));
		return;
	}
	if (rpt_json_dump(v, 0, &s) != RPT_OK) {
		b->nomem = true;
		return;
	}
	put_text(b, s);
	free(s);
}

/* A figure for people: whole numbers with thousands separators, others
 * with three or so significant digits. */
static void
put_num(struct rpt_buf *b, double v)
{
	char s[64], g[96];
	size_t n, k = 0;

	if (!isfinite(v)) {
		rpt_buf_str(b, "n/a");
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		n = (size_t)snprintf(s, sizeof(s), "%.0f", fabs(v));
		if (v < 0)
			g[k++] = '-';
		for (size_t i = 0; i < n; i++) {
			if (i > 0 && (n - i) % 3 == 0)
				g[k++] = ',';
			g[k++] = s[i];
		}
		g[k] = '\0';
		rpt_buf_str(b, g);
		return;
	}
	if (fabs(v) >= 1000)
		rpt_buf_printf(b, "%.0f", v);
	else if (fabs(v) >= 100)
		rpt_buf_printf(b, "%.1f", v);
	else if (fabs(v) >= 1)
		rpt_buf_printf(b, "%.2f", v);
	else
		rpt_buf_printf(b, "%.3g", v);
}

static double
num_or_nan(const struct rpt_json *j)
{
	double v;

	if (rpt_json_type(j) != RPT_JSON_NUMBER)
		return NAN;
	v = rpt_json_num(j);
	return isfinite(v) ? v : NAN;
}

/* A step of 1, 2, 2.5 or 5 times a power of ten giving about target
 * intervals over range. */
static double
nice_step(double range, int target, bool integral)
{
	double raw, mag, f, step;

	if (!(range > 0))
		range = 1;
	raw = range / target;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
	if (integral && step < 1)
		step = 1;
	return step;
}

static struct axis
make_axis(double lo, double hi, int target, bool integral)
{
	struct axis a;

	if (!isfinite(lo) || !isfinite(hi)) {
		lo = 0;
		hi = 1;
	}
	/* Counts and latencies read best from zero. */
	if (lo > 0)
		lo = 0;
	if (hi <= lo)
		hi = lo + 1;
	a.step = nice_step(hi - lo, target, integral);
	a.lo = floor(lo / a.step) * a.step;
	a.hi = ceil(hi / a.step - 1e-9) * a.step;
	if (a.hi <= a.lo)
		a.hi = a.lo + a.step;
	return a;
}

/* A tick label: as many decimals as the step needs, and k / M for large
 * values so labels fit the margin. */
static void
fmt_tick(char *s, size_t len, double v, const struct axis *a)
{
	const char *suffix = "";
	double div = 1, step;
	int d = 0;

	if (fmax(fabs(a->hi), fabs(a->lo)) >= 1e6) {
		div = 1e6;
		suffix = "M";
	} else if (fmax(fabs(a->hi), fabs(a->lo)) >= 1e4) {
		div = 1e3;
		suffix = "k";
	}
	v /= div;
	step = a->step / div;
	while (d < 6 && fabs(step * pow(10, d) - round(step * pow(10, d))) > 1e-6)
		d++;
	if (fabs(v) < step * 1e-9)
		v = 0;          /* no "-0" */
	snprintf(s, len, "%.*f%s", d, v, suffix);
}

/* "0%", "90%", "99%", "99.9%", ... for x = log10(1 / (1 - p)). */
static void
fmt_pct_tick(char *s, size_t len, int decade)
{
	size_t k;

	if (decade <= 0) {
		snprintf(s, len, "0%%");
		return;
	}
	if (decade == 1) {
		snprintf(s, len, "90%%");
		return;
	}
	k = (size_t)snprintf(s, len, "99");
	if (decade > 2 && k + 1 < len)
		s[k++] = '.';
	for (int i = 2; i < decade && k + 2 < len; i++)
		s[k++] = '9';
	if (k + 2 <= len) {
		s[k++] = '%';
		s[k] = '\0';
	}
}

static double
px(const struct chart *c, double x)
{
	return ML + (x - c->xlo) / (c->xhi - c->xlo) * PW;
}

static double
py(const struct axis *a, double y)
{
	return MT + PH - (y - a->lo) / (a->hi - a->lo) * PH;
}

/* Draws a path point by point; a lone point between gaps gets a zero
 * length segment, which the round line cap turns into a dot. */
struct pen {
	struct rpt_buf *b;
	size_t points, seg;
};

static void
pen_to(struct pen *p, double x, double y)
{
	rpt_buf_printf(p->b, "%s%.1f %.1f", p->seg > 0 ? " L" : p->points > 0 ? " M" : "M", x, y);
	p->seg++;
	p->points++;
}

static void
pen_up(struct pen *p)
{
	if (p->seg == 1)
		rpt_buf_str(p->b, " h0");
	p->seg = 0;
}

/* Appends the path data for s and returns how many points it plotted. */
static size_t
put_points(struct rpt_buf *b, const struct chart *c, const struct series *s,
    const struct axis *a)
{
	struct pen p = { b, 0, 0 };

	if (s->n <= MAX_POINTS) {
		for (size_t i = 0; i < s->n; i++) {
			if (isfinite(s->y[i]))
				pen_to(&p, px(c, s->x[i]), py(a, s->y[i]));
			else
				pen_up(&p);
		}
		pen_up(&p);
		return p.points;
	}
	for (size_t k = 0; k < PW; k++) {
		size_t i0 = s->n * k / PW, i1 = s->n * (k + 1) / PW, lo = SIZE_MAX, hi = SIZE_MAX;

		for (size_t i = i0; i < i1; i++) {
			if (!isfinite(s->y[i]))
				continue;
			if (lo == SIZE_MAX || s->y[i] < s->y[lo])
				lo = i;
			if (hi == SIZE_MAX || s->y[i] > s->y[hi])
				hi = i;
		}
		if (lo == SIZE_MAX) {
			pen_up(&p);
			continue;
		}
		if (lo > hi) {
			size_t t = lo;

			lo = hi;
			hi = t;
		}
		pen_to(&p, px(c, s->x[lo]), py(a, s->y[lo]));
		if (hi != lo)
			pen_to(&p, px(c, s->x[hi]), py(a, s->y[hi]));
	}
	pen_up(&p);
	return p.points;
}

/* The finite range of the series on one side. */
static bool
series_range(const struct chart *c, bool right, double *lo, double *hi)
{
	bool any = false;

	*lo = INFINITY;
	*hi = -INFINITY;
	for (size_t k = 0; k < c->ns; k++) {
		if (c->s[k].right != right)
			continue;
		for (size_t i = 0; i < c->s[k].n; i++) {
			double y = c->s[k].y[i];

			if (!isfinite(y))
				continue;
			*lo = fmin(*lo, y);
			*hi = fmax(*hi, y);
			any = true;
		}
	}
	return any;
}

static void
put_y_axis(struct rpt_buf *b, const struct axis *a, bool right, const char *unit)
{
	char t[48];
	long k0 = lround(ceil(a->lo / a->step - 1e-9));
	long k1 = lround(floor(a->hi / a->step + 1e-9));

	for (long k = k0; k <= k1; k++) {
		double v = (double)k * a->step, y = py(a, v);

		fmt_tick(t, sizeof(t), v, a);
		if (!right)
			rpt_buf_printf(b, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>",
			    ML, y, ML + PW, y);
		rpt_buf_printf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"%s\" "
		    "dominant-baseline=\"middle\">%s</text>\n",
		    right ? ML + PW + 6 : ML - 6, y, right ? "start" : "end", t);
	}
	rpt_buf_printf(b, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
	    right ? ML + PW : ML, MT, right ? ML + PW : ML, MT + PH);
	if (unit != NULL) {
		/* Rotated along the outer edge, reading bottom-up on the left. */
		rpt_buf_printf(b, "<text transform=\"translate(%d %d) rotate(%d)\" "
		    "text-anchor=\"middle\">", right ? CW - 8 : 12, MT + PH / 2, right ? 90 : -90);
		put_text(b, unit);
		rpt_buf_str(b, "</text>\n");
	}
}

/* A vertical grid line at x with its label under the axis. */
static void
put_x_tick(struct rpt_buf *b, double x, const char *label)
{
	rpt_buf_printf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
	    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
	    x, MT, x, MT + PH, x, MT + PH + 15, label);
}

static void
put_x_axis(struct rpt_buf *b, const struct chart *c)
{
	char t[48];

	if (c->pct_axis) {
		for (int k = (int)ceil(c->xlo); k <= (int)floor(c->xhi); k++) {
			fmt_pct_tick(t, sizeof(t), k);
			put_x_tick(b, px(c, k), t);
		}
	} else {
		struct axis a = { c->xlo, c->xhi, nice_step(c->xhi - c->xlo, 8, true) };
		long k0 = lround(ceil(a.lo / a.step - 1e-9));
		long k1 = lround(floor(a.hi / a.step + 1e-9));

		for (long k = k0; k <= k1; k++) {
			fmt_tick(t, sizeof(t), (double)k * a.step, &a);
			put_x_tick(b, px(c, (double)k * a.step), t);
		}
	}
	rpt_buf_printf(b, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
	    ML, MT + PH, ML + PW, MT + PH);
	rpt_buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", ML + PW / 2, CH - 6);
	put_text(b, c->xtitle);
	rpt_buf_str(b, "</text>\n");
}

static void
put_legend(struct rpt_buf *b, const struct chart *c, bool two_axes)
{
	double x = ML;

	for (size_t k = 0; k < c->ns; k++) {
		const struct series *s = &c->s[k];
		bool tag = two_axes && s->right;

		rpt_buf_printf(b, "<line x1=\"%.0f\" y1=\"14\" x2=\"%.0f\" y2=\"14\" stroke=\"%s\" "
		    "stroke-width=\"3\"%s/><text x=\"%.0f\" y=\"18\">", x, x + 18, s->color,
		    s->dashed ? " stroke-dasharray=\"5 3\"" : "", x + 23);
		put_text(b, s->label);
		if (tag)
			rpt_buf_str(b, " (right axis)");
		rpt_buf_str(b, "</text>\n");
		/* No text metrics without a browser: ~6.5 units a character. */
		x += 23 + 6.5 * (double)(strlen(s->label) + (tag ? 13 : 0)) + 18;
	}
}

/* One <figure> holding an <svg class="chart">. */
static void
put_chart(struct rpt_buf *b, const struct chart *c)
{
	struct axis left, right;
	double lo, hi;
	bool any_left, any_right, two_axes;
	size_t total = 0;

	any_left = series_range(c, false, &lo, &hi);
	left = make_axis(lo, hi, 5, c->integral);
	any_right = series_range(c, true, &lo, &hi);
	right = make_axis(lo, hi, 5, c->integral);
	two_axes = c->right_unit != NULL;

	rpt_buf_str(b, "<figure><figcaption>");
	put_text(b, c->title);
	rpt_buf_str(b, "</figcaption>\n<svg class=\"chart\" data-chart=\"");
	put_text(b, c->kind);
	rpt_buf_str(b, "\" data-pattern=\"");
	put_text(b, c->pattern);
	rpt_buf_printf(b, "\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", CW, CH);
	put_text(b, c->title);
	rpt_buf_str(b, "\">\n");
	put_legend(b, c, two_axes);
	put_y_axis(b, &left, false, c->unit);
	if (two_axes)
		put_y_axis(b, &right, true, c->right_unit);
	put_x_axis(b, c);
	for (size_t k = 0; k < c->ns; k++) {
		const struct series *s = &c->s[k];
		size_t n;

		rpt_buf_str(b, "<path class=\"series\" data-series=\"");
		put_text(b, s->name);
		rpt_buf_printf(b, "\" stroke=\"%s\"%s d=\"", s->color,
		    s->dashed ? " stroke-dasharray=\"6 4\"" : "");
		n = put_points(b, c, s, s->right && two_axes ? &right : &left);
		rpt_buf_printf(b, "\" data-points=\"%zu\"><title>", n);
		put_text(b, s->label);
		rpt_buf_str(b, "</title></path>\n");
		total += n;
	}
	if (total == 0 || !(any_left || any_right))
		rpt_buf_printf(b, "<text class=\"nodata\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
		    "no data</text>\n", ML + PW / 2, MT + PH / 2);
	rpt_buf_str(b, "</svg></figure>\n");
}

static void
table_free(struct table *t)
{
	free(t->x);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static ssize_t
column_index(const struct table *t, const char *name)
{
	for (size_t c = 0; c < t->ncols; c++) {
		const char *s = rpt_json_str(rpt_json_at(t->columns, c));

		if (s != NULL && strcmp(s, name) == 0)
			return (ssize_t)c;
	}
	return -1;
}

/* Reads {columns, rows}; anything malformed reads as an empty table, since
 * a page with a chart missing beats no page. */
static enum rpt_err
table_load(const struct rpt_json *ts, struct table *t)
{
	const struct rpt_json *rows = rpt_json_get(ts, "rows");
	ssize_t tc;

	memset(t, 0, sizeof(*t));
	t->columns = rpt_json_get(ts, "columns");
	if (rpt_json_type(t->columns) != RPT_JSON_ARRAY || rpt_json_type(rows) != RPT_JSON_ARRAY)
		return RPT_OK;
	t->ncols = rpt_json_len(t->columns);
	t->nrows = rpt_json_len(rows);
	if (t->ncols == 0 || t->nrows == 0) {
		t->nrows = 0;
		return RPT_OK;
	}
	t->x = calloc(t->nrows, sizeof(*t->x));
	t->v = calloc(t->ncols * t->nrows, sizeof(*t->v));
	if (t->x == NULL || t->v == NULL) {
		table_free(t);
		return RPT_ERR_NOMEM;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		const struct rpt_json *row = rpt_json_at(rows, r);

		for (size_t c = 0; c < t->ncols; c++)
			t->v[c * t->nrows + r] = num_or_nan(rpt_json_at(row, c));
	}
	tc = column_index(t, "t");
	t->has_t = tc >= 0 && isfinite(t->v[(size_t)tc * t->nrows]);
	if (t->has_t)
		t->t0 = t->v[(size_t)tc * t->nrows];
	for (size_t r = 0; r < t->nrows; r++) {
		double x = t->has_t ? t->v[(size_t)tc * t->nrows + r] - t->t0 : (double)r;

		/* A row without a time keeps its place in the sequence. */
		t->x[r] = isfinite(x) ? x : (r > 0 ? t->x[r - 1] : 0);
	}
	return RPT_OK;
}

static void
time_chart_init(struct chart *c, const struct table *t, const char *pattern, char *xtitle,
    size_t len)
{
	memset(c, 0, sizeof(*c));
	c->pattern = pattern;
	c->xlo = 0;
	c->xhi = t->nrows > 0 ? fmax(t->x[t->nrows - 1], 1) : 1;
	if (t->has_t && t->t0 >= 0 && t->t0 < 1e11) {
		time_t t0 = (time_t)t->t0;
		struct tm tm;

		if (gmtime_r(&t0, &tm) != NULL) {
			strftime(xtitle, len, "seconds since %H:%M:%S UTC", &tm);
			c->xtitle = xtitle;
			return;
		}
	}
	c->xtitle = t->has_t ? "seconds since start" : "row";
}

static void
add_column(struct chart *c, const struct table *t, size_t col, const char *label,
    const char *color, bool right, bool dashed)
{
	struct series *s = &c->s[c->ns++];

	s->name = rpt_json_str(rpt_json_at(t->columns, col));
	s->label = label;
	s->color = color;
	s->right = right;
	s->dashed = dashed;
	s->x = t->x;
	s->y = t->v + col * t->nrows;
	s->n = t->nrows;
}

/* One line of a distribution chart: a raw histogram from the report. */
struct dist {
	const char *name, *label, *color;
	const struct rpt_json *hist;
	bool dashed;
};

/* A latency distribution: each histogram's percentiles against
 * log10(1 / (1 - p)), out to the decade its sample count can resolve; the
 * axis goes as far as the best resolved. Histograms that are not objects
 * are left out; one that cannot be read is said, not fatal. */
static enum rpt_err
put_distributions(struct rpt_buf *b, const char *pattern, const char *kind, const char *title,
    const struct dist *d, size_t nd)
{
	enum rpt_err rc = RPT_OK;
	struct rpt_hist *h = NULL;
	struct chart c;
	double *xy[2 * MAX_SERIES] = { NULL };
	int top = 1;

	memset(&c, 0, sizeof(c));
	for (size_t k = 0; k < nd && k < MAX_SERIES; k++) {
		struct series *s = &c.s[c.ns];
		double *x, *y;
		uint64_t count;
		int decades;
		size_t n;

		if (rpt_json_type(d[k].hist) != RPT_JSON_OBJECT)
			continue;
		if ((rc = rpt_hist_from_json(d[k].hist, &h)) != RPT_OK) {
			if (rc == RPT_ERR_NOMEM)
				goto out;
			rc = RPT_OK;
			rpt_buf_str(b, "<p class=\"warn\">The latency histogram");
			if (nd > 1) {
				rpt_buf_str(b, " of ");
				put_text(b, d[k].label);
			}
			rpt_buf_str(b, " could not be read.</p>\n");
			continue;
		}
		count = rpt_hist_count(h);
		decades = count > 1 ? (int)ceil(log10((double)count) - 1e-9) : 1;
		if (decades < 1)
			decades = 1;
		if (decades > PCT_DECADES)
			decades = PCT_DECADES;
		n = count > 0 ? (size_t)lround(decades / PCT_STEP) + 1 : 0;
		x = xy[2 * c.ns] = calloc(n + 1, sizeof(*x));
		y = xy[2 * c.ns + 1] = calloc(n + 1, sizeof(*y));
		if (x == NULL || y == NULL) {
			rc = RPT_ERR_NOMEM;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			x[i] = i + 1 == n ? decades : (double)i * PCT_STEP;
			y[i] = (double)rpt_hist_percentile(h, 100 * (1 - pow(10, -x[i]))) / 1e6;
		}
		if (n > 0 && decades > top)
			top = decades;
		*s = (struct series){ d[k].name, d[k].label, d[k].color, false, d[k].dashed, x, y, n };
		c.ns++;
		rpt_hist_free(h);
		h = NULL;
	}
	if (c.ns == 0)
		goto out;
	c.kind = kind;
	c.pattern = pattern;
	c.title = title;
	c.xtitle = "percentile";
	c.unit = "ms";
	c.pct_axis = true;
	c.xlo = 0;
	c.xhi = top;
	put_chart(b, &c);
out:
	for (size_t i = 0; i < 2 * MAX_SERIES; i++)
		free(xy[i]);
	rpt_hist_free(h);
	return rc;
}

/* All of a pattern's charts: the known groups of columns in order, the
 * distribution of its nd histograms after the latency chart, then any
 * other columns. */
static enum rpt_err
put_charts(struct rpt_buf *b, const char *pattern, const struct rpt_json *ts,
    const struct dist *d, size_t nd)
{
	enum rpt_err rc;
	struct table t;
	struct chart c;
	char xtitle[64];
	bool *used = NULL, dist_done = false;
	ssize_t tc;

	if ((rc = table_load(ts, &t)) != RPT_OK)
		return rc;
	if ((used = calloc(t.ncols + 1, sizeof(*used))) == NULL) {
		rc = RPT_ERR_NOMEM;
		goto out;
	}
	if ((tc = column_index(&t, "t")) >= 0)
		used[tc] = true;
	rpt_buf_str(b, "<div class=\"charts\">\n");
	for (size_t k = 0; k < sizeof(SPECS) / sizeof(SPECS[0]); k++) {
		const struct chart_spec *sp = &SPECS[k];
		bool any_left = false;

		time_chart_init(&c, &t, pattern, xtitle, sizeof(xtitle));
		c.kind = sp->kind;
		c.title = sp->title;
		c.unit = sp->unit;
		c.integral = sp->integral;
		for (size_t i = 0; i < MAX_SERIES && sp->cols[i].column != NULL; i++) {
			ssize_t ci = t.nrows > 0 ? column_index(&t, sp->cols[i].column) : -1;

			if (ci < 0)
				continue;
			used[ci] = true;
			add_column(&c, &t, (size_t)ci, sp->cols[i].label, sp->cols[i].color,
			    sp->cols[i].right, sp->cols[i].dashed);
			any_left |= !sp->cols[i].right;
		}
		/* A second axis only when there is a first one to differ from. */
		if (any_left) {
			c.right_unit = sp->right_unit;
		} else {
			c.unit = sp->right_unit != NULL ? sp->right_unit : sp->unit;
			for (size_t i = 0; i < c.ns; i++)
				c.s[i].right = false;
		}
		if (c.ns > 0)
			put_chart(b, &c);
		if (strcmp(sp->kind, DIST_AFTER) == 0) {
			if ((rc = put_distributions(b, pattern, DIST_KIND, DIST_TITLE, d, nd)) != RPT_OK)
				goto out;
			dist_done = true;
		}
	}
	if (!dist_done &&
	    (rc = put_distributions(b, pattern, DIST_KIND, DIST_TITLE, d, nd)) != RPT_OK)
		goto out;
	for (size_t ci = 0; ci < t.ncols && t.nrows > 0; ci++) {
		const char *name = rpt_json_str(rpt_json_at(t.columns, ci));

		if (used[ci] || name == NULL)
			continue;
		time_chart_init(&c, &t, pattern, xtitle, sizeof(xtitle));
		c.kind = name;
		c.title = name;
		c.unit = name;
		add_column(&c, &t, ci, name, C_BLUE, false, false);
		put_chart(b, &c);
	}
	rpt_buf_str(b, "</div>\n");
out:
	free(used);
	table_free(&t);
	return rc;
}

/* One cell of the key figures; skipped when the report lacks it. A
 * failure count that is not zero is marked, so it is seen first. */
static void
put_figure(struct rpt_buf *hdr, struct rpt_buf *row, const char *label,
    const struct rpt_json *v, const char *unit, bool failure)
{
	if (rpt_json_type(v) != RPT_JSON_NUMBER)
		return;
	rpt_buf_str(hdr, "<th>");
	put_text(hdr, label);
	rpt_buf_str(hdr, "</th>");
	rpt_buf_str(row, failure && rpt_json_num(v) != 0 ? "<td class=\"num bad\">" :
	    "<td class=\"num\">");
	put_num(row, rpt_json_num(v));
	if (unit != NULL)
		rpt_buf_printf(row, " %s", unit);
	rpt_buf_str(row, "</td>");
}

static bool
in_list(const char *const *list, const char *s)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* The counts of a pattern, in order; a request-response direction (a part,
 * below) has its own, all but sent and ok failures. */
static const char *const COUNTS[] = { "sent", "received", "lost", "duplicates",
	"out_of_order", "dropped", NULL };
static const char *const PART_COUNTS[] = { "sent", "ok", "error_status", "timeout", "late",
	"unmatched", "duplicate", NULL };
static const char *const PART_FAILURES[] = { "error_status", "timeout", "late", "unmatched",
	"duplicate", NULL };

/* counts and failures are NULL-terminated. report gives the devices
 * connected of planned; NULL leaves them out, as a part is not about them. */
static void
put_key_figures(struct rpt_buf *b, const struct rpt_json *report, const struct rpt_json *p,
    const char *const *counts, const char *const *failures)
{
	struct rpt_buf hdr = { 0 }, row = { 0 };
	static const char *const pcts[] = { "p50", "p99", "max" };
	const struct rpt_json *lat = rpt_json_get(p, "latency_ms");
	const struct rpt_json *conn = rpt_json_path(report, "devices.connected");
	const struct rpt_json *planned = rpt_json_path(report, "devices.planned");

	for (; *counts != NULL; counts++)
		put_figure(&hdr, &row, *counts, rpt_json_get(p, *counts), NULL,
		    in_list(failures, *counts));
	put_figure(&hdr, &row, "throughput", rpt_json_get(p, "throughput_per_s"), "/ s", false);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		char label[32];

		snprintf(label, sizeof(label), "latency %s", pcts[i]);
		put_figure(&hdr, &row, label, rpt_json_get(lat, pcts[i]), "ms", false);
	}
	if (rpt_json_type(conn) == RPT_JSON_NUMBER) {
		rpt_buf_str(&hdr, "<th>connected</th>");
		rpt_buf_str(&row, "<td class=\"num\">");
		put_num(&row, rpt_json_num(conn));
		if (rpt_json_type(planned) == RPT_JSON_NUMBER) {
			rpt_buf_str(&row, " of ");
			put_num(&row, rpt_json_num(planned));
		}
		rpt_buf_str(&row, "</td>");
	}
	if (hdr.nomem || row.nomem)
		b->nomem = true;
	else if (hdr.len > 0)
		rpt_buf_printf(b, "<table class=\"figures\"><tr>%s</tr>\n<tr>%s</tr></table>\n",
		    hdr.p, row.p);
	free(hdr.p);
	free(row.p);
}

/* An object of objects (by_group) as a table: one row per member, one
 * column per scalar key seen. */
static void
put_object_table(struct rpt_buf *b, const char *title, const struct rpt_json *o)
{
	const char *keys[16];
	size_t nk = 0;

	if (rpt_json_type(o) != RPT_JSON_OBJECT || rpt_json_len(o) == 0)
		return;
	for (size_t i = 0; i < rpt_json_len(o); i++) {
		const struct rpt_json *m = rpt_json_at(o, i);

		for (size_t j = 0; j < rpt_json_len(m) && rpt_json_type(m) == RPT_JSON_OBJECT; j++) {
			const char *k = rpt_json_key_at(m, j);
			enum rpt_json_type ty = rpt_json_type(rpt_json_at(m, j));
			size_t q;

			if (ty == RPT_JSON_OBJECT || ty == RPT_JSON_ARRAY)
				continue;
			for (q = 0; q < nk && strcmp(keys[q], k) != 0; q++)
				;
			if (q == nk && nk < sizeof(keys) / sizeof(keys[0]))
				keys[nk++] = k;
		}
	}
	rpt_buf_str(b, "<h3>");
	put_text(b, title);
	rpt_buf_str(b, "</h3>\n<table><tr><th></th>");
	for (size_t q = 0; q < nk; q++) {
		rpt_buf_str(b, "<th>");
		put_text(b, keys[q]);
		rpt_buf_str(b, "</th>");
	}
	rpt_buf_str(b, "</tr>\n");
	for (size_t i = 0; i < rpt_json_len(o); i++) {
		const struct rpt_json *m = rpt_json_at(o, i);

		rpt_buf_str(b, "<tr><th>");
		put_text(b, rpt_json_key_at(o, i));
		rpt_buf_str(b, "</th>");
		for (size_t q = 0; q < nk; q++) {
			const struct rpt_json *v = rpt_json_get(m, keys[q]);

			if (rpt_json_type(v) == RPT_JSON_NUMBER) {
				rpt_buf_str(b, "<td class=\"num\">");
				put_num(b, rpt_json_num(v));
			} else {
				rpt_buf_str(b, "<td>");
				if (v != NULL)
					put_json(b, v);
			}
			rpt_buf_str(b, "</td>");
		}
		rpt_buf_str(b, "</tr>\n");
	}
	rpt_buf_str(b, "</table>\n");
}

/* Patterns with totals come first; a pattern with only a series is drawn
 * after them, once. */
static bool
seen_before(const struct rpt_json *patterns, const char *name)
{
	return rpt_json_type(patterns) == RPT_JSON_OBJECT && rpt_json_get(patterns, name) != NULL;
}

/* A member that reads as a pattern of its own, like each direction of
 * request_response: its figures are one level down, and it has no series. */
static bool
is_part(const struct rpt_json *m)
{
	return rpt_json_type(m) == RPT_JSON_OBJECT && rpt_json_get(m, "sent") != NULL &&
	    rpt_json_get(m, "latency_ms") != NULL;
}

/* p is an object or NULL. */
static bool
has_parts(const struct rpt_json *p)
{
	for (size_t i = 0; i < rpt_json_len(p); i++)
		if (is_part(rpt_json_at(p, i)))
			return true;
	return false;
}

/* A part as a section of its own: key figures, a table per by_* member,
 * and the latency distribution (no series, so put_charts draws only that).
 * Its charts are tagged NAME.PART, the part's path under patterns. */
static enum rpt_err
put_part(struct rpt_buf *b, const char *name, const char *part, const struct rpt_json *m)
{
	const struct dist d = { "latency_ms", "latency", C_PURPLE,
		rpt_json_get(m, "latency_histogram"), false };
	enum rpt_err rc;
	char *path = NULL;

	if (asprintf(&path, "%s.%s", name, part) < 0)
		return RPT_ERR_NOMEM;
	rpt_buf_str(b, "<section class=\"pattern\" data-pattern=\"");
	put_text(b, path);
	rpt_buf_str(b, "\">\n<h2>Pattern: ");
	put_text(b, name);
	rpt_buf_str(b, " &mdash; ");
	put_text(b, part);
	rpt_buf_str(b, "</h2>\n");
	put_key_figures(b, NULL, m, PART_COUNTS, PART_FAILURES);
	for (size_t i = 0; i < rpt_json_len(m); i++) {
		const char *k = rpt_json_key_at(m, i);
		char title[64];

		if (strncmp(k, "by_", 3) != 0)
			continue;
		snprintf(title, sizeof(title), "By %s", k + 3);
		put_object_table(b, title, rpt_json_at(m, i));
	}
	if ((rc = put_charts(b, path, NULL, &d, 1)) == RPT_OK)
		rpt_buf_str(b, "</section>\n");
	free(path);
	return rc;
}

static void
put_result(struct rpt_buf *b, bool pass)
{
	rpt_buf_str(b, pass ? "<td class=\"ok\">PASS</td>" : "<td class=\"bad\">FAIL</td>");
}

/* Two-phase commit's figures, each at a path under its pattern object. */
struct tpc_figure {
	const char *path, *label, *unit;
	bool failure;
};

static const struct tpc_figure TPC_TRANSACTIONS[] = {
	{ "started", "started", NULL, false },
	{ "committed", "committed", NULL, false },
	{ "aborted.total", "aborted", NULL, false },
	{ "aborted.by_vote", "by vote", NULL, false },
	{ "aborted.by_timeout", "by timeout", NULL, false },
	{ "aborted.by_coordinator", "by coordinator", NULL, false },
	/* Left undecided past deadline and recovery: termination broke. */
	{ "undecided", "undecided", NULL, true },
	{ NULL, NULL, NULL, false },
};
static const struct tpc_figure TPC_PARTICIPANTS[] = {
	{ "votes.yes", "votes yes", NULL, false },
	{ "votes.no", "votes no", NULL, false },
	{ "in_doubt.episodes", "in doubt", NULL, false },
	{ "in_doubt.resolved", "resolved", NULL, false },
	{ "in_doubt_max_ms", "longest in doubt", "ms", false },
	{ NULL, NULL, NULL, false },
};
static const struct tpc_figure TPC_COORDINATOR[] = {
	{ "resends", "resends", NULL, false },
	{ "log_fsyncs", "log fsyncs", NULL, false },
	{ "skipped_coordinator_down", "not started (down)", NULL, false },
	{ NULL, NULL, NULL, false },
};

/* What each invariant promises (docs/two-phase-commit.md), for the reader
 * who sees one fail; an invariant not named here shows without it. */
static const char *const TPC_INVARIANTS[][2] = {
	{ "atomicity", "no transaction where one participant applied COMMIT and another ABORT" },
	{ "validity", "COMMIT only if every participant voted YES and the coordinator saw those "
	    "votes before deciding" },
	{ "agreement", "every participant applied the coordinator's decision, never before it "
	    "was logged, and the coordinator never logged a second, different one" },
	{ "termination", "every transaction decided within deadline + recovery, and no "
	    "participant left in doubt at the end" },
	{ "durability", "a committed change still in effect when observed after a later reboot" },
};

/* Each violation's detail is a timeline of a few dozen lines: a page of
 * them is enough to see the pattern, report.json holds more. */
#define TPC_SHOWN 20

/* One figure as a row of a two-column table: put_figure with the header
 * and value cells in one buffer, side by side. */
static void
put_figure_row(struct rpt_buf *rows, const char *label, const struct rpt_json *v,
    const char *unit, bool failure)
{
	if (rpt_json_type(v) != RPT_JSON_NUMBER)
		return;
	rpt_buf_str(rows, "<tr>");
	put_figure(rows, rows, label, v, unit, failure);
	rpt_buf_str(rows, "</tr>\n");
}

/* rows under a title, in a box of its own so that the groups of figures
 * sit side by side; nothing when there are no rows. Frees rows. */
static void
put_figure_box(struct rpt_buf *b, const char *title, struct rpt_buf *rows)
{
	if (rows->nomem) {
		b->nomem = true;
	} else if (rows->len > 0) {
		rpt_buf_str(b, "<div><h3>");
		put_text(b, title);
		rpt_buf_printf(b, "</h3>\n<table class=\"figures\">\n%s</table></div>\n", rows->p);
	}
	free(rows->p);
}

static void
put_tpc_figures(struct rpt_buf *b, const char *title, const struct rpt_json *p,
    const struct tpc_figure *f)
{
	struct rpt_buf rows = { 0 };

	for (; f->path != NULL; f++)
		put_figure_row(&rows, f->label, rpt_json_path(p, f->path), f->unit, f->failure);
	put_figure_box(b, title, &rows);
}

/* The faults as they struck, whichever the report has, so a new fault
 * shows without code; underscores read as spaces. */
static void
put_tpc_faults(struct rpt_buf *b, const struct rpt_json *faults)
{
	struct rpt_buf rows = { 0 };

	for (size_t i = 0; i < rpt_json_len(faults) &&
	    rpt_json_type(faults) == RPT_JSON_OBJECT; i++) {
		char label[64];

		snprintf(label, sizeof(label), "%s", rpt_json_key_at(faults, i));
		for (char *c = label; *c != '\0'; c++)
			if (*c == '_')
				*c = ' ';
		put_figure_row(&rows, label, rpt_json_at(faults, i), NULL, false);
	}
	put_figure_box(b, "Faults", &rows);
}

/* One row per invariant: PASS when nothing broke it. Returns how many
 * violations there were in all, counted, not just listed. */
static double
put_tpc_invariants(struct rpt_buf *b, const struct rpt_json *viol)
{
	double total = 0;

	if (rpt_json_type(viol) != RPT_JSON_OBJECT || rpt_json_len(viol) == 0)
		return 0;
	rpt_buf_str(b, "<h3>Invariants</h3>\n<table class=\"invariants\"><tr><th>result</th>"
	    "<th>invariant</th><th>violations</th><th>promise</th></tr>\n");
	for (size_t i = 0; i < rpt_json_len(viol); i++) {
		const char *name = rpt_json_key_at(viol, i), *what = "";
		double n = num_or_nan(rpt_json_at(viol, i));
		/* A count that is not a number cannot show the promise held. */
		bool pass = n == 0;

		for (size_t k = 0; k < sizeof(TPC_INVARIANTS) / sizeof(TPC_INVARIANTS[0]); k++)
			if (strcmp(TPC_INVARIANTS[k][0], name) == 0)
				what = TPC_INVARIANTS[k][1];
		if (isfinite(n))
			total += n;
		rpt_buf_printf(b, "<tr class=\"%s\" data-invariant=\"", pass ? "pass" : "fail");
		put_text(b, name);
		rpt_buf_str(b, "\">");
		put_result(b, pass);
		rpt_buf_str(b, "<td><code>");
		put_text(b, name);
		rpt_buf_str(b, pass ? "</code></td><td class=\"num\">" :
		    "</code></td><td class=\"num bad\">");
		put_num(b, n);
		rpt_buf_str(b, "</td><td>");
		put_text(b, what);
		rpt_buf_str(b, "</td></tr>\n");
	}
	rpt_buf_str(b, "</table>\n");
	return total;
}

/* The first TPC_SHOWN of violation_list, each with its timeline. The
 * txid as the coordinator's log and --history write it, so it can be
 * searched for there. */
static void
put_tpc_violations(struct rpt_buf *b, const struct rpt_json *list, double total)
{
	size_t n = rpt_json_type(list) == RPT_JSON_ARRAY ? rpt_json_len(list) : 0;
	size_t shown = n < TPC_SHOWN ? n : TPC_SHOWN;

	if (n == 0)
		return;
	rpt_buf_str(b, "<h3>Violations</h3>\n<p class=\"sub\">");
	if ((double)shown < total) {
		rpt_buf_printf(b, "The first %zu of ", shown);
		put_num(b, total);
		rpt_buf_str(b, "; <code>violation_list</code> in report.json has more. ");
	}
	rpt_buf_str(b, "Each with the devices involved and the transaction's timeline; txids "
	    "as the coordinator's log and <code>--history</code> write them.</p>\n");
	for (size_t i = 0; i < shown; i++) {
		const struct rpt_json *v = rpt_json_at(list, i);
		const char *kind = rpt_json_str(rpt_json_get(v, "kind"));
		const char *detail = rpt_json_str(rpt_json_get(v, "detail"));
		const char *txid = rpt_json_str(rpt_json_get(v, "txid"));

		rpt_buf_str(b, "<div class=\"violation\" data-kind=\"");
		put_text(b, kind != NULL ? kind : "?");
		rpt_buf_str(b, "\"><p><span class=\"bad\">");
		put_text(b, kind != NULL ? kind : "?");
		rpt_buf_str(b, "</span>");
		if (txid != NULL) {
			rpt_buf_str(b, " txid <code>");
			put_text(b, txid);
			rpt_buf_str(b, "</code>");
		}
		/* A merged report's: whose devices and txids these are. */
		if (rpt_json_get(v, "shard") != NULL) {
			rpt_buf_str(b, ", shard ");
			put_json(b, rpt_json_get(v, "shard"));
		}
		rpt_buf_str(b, "</p>\n<pre class=\"violation\">");
		put_text(b, detail != NULL ? detail : "");
		rpt_buf_str(b, "</pre></div>\n");
	}
}

/* patterns.two_phase_commit: its figures, whether the five invariants
 * held, the latency of each phase, transactions per second and the
 * violations that failed the run. */
static enum rpt_err
put_tpc(struct rpt_buf *b, const char *name, const struct rpt_json *p,
    const struct rpt_json *ts)
{
	const char *coord = rpt_json_str(rpt_json_get(p, "coordinator"));
	const struct rpt_json *hists = rpt_json_get(p, "latency_histograms");
	/* Each phase's distribution, from the histograms behind latency_ms;
	 * decide is prepare and a log write later, so it is dashed to let
	 * prepare show through where they coincide. */
	const struct dist d[] = {
		{ "prepare", "prepare", C_BLUE, rpt_json_get(hists, "prepare"), false },
		{ "decide", "decide", C_ORANGE, rpt_json_get(hists, "decide"), true },
		{ "complete", "complete", C_GREEN, rpt_json_get(hists, "complete"), false },
	};
	double total;
	enum rpt_err rc;

	rpt_buf_str(b, "<section class=\"pattern\" data-pattern=\"");
	put_text(b, name);
	rpt_buf_str(b, "\">\n<h2>Two-phase commit</h2>\n");
	if (coord != NULL) {
		rpt_buf_str(b, "<p class=\"sub\">coordinator: ");
		put_text(b, coord);
		rpt_buf_str(b, "</p>\n");
	}
	rpt_buf_str(b, "<div class=\"groups\">\n");
	put_tpc_figures(b, "Transactions", p, TPC_TRANSACTIONS);
	put_tpc_figures(b, "Participants", p, TPC_PARTICIPANTS);
	put_tpc_faults(b, rpt_json_get(p, "faults"));
	put_tpc_figures(b, "Coordinator", p, TPC_COORDINATOR);
	rpt_buf_str(b, "</div>\n");
	total = put_tpc_invariants(b, rpt_json_get(p, "violations"));
	put_object_table(b, "Latency (ms)", rpt_json_get(p, "latency_ms"));
	if (rpt_json_type(rpt_json_get(p, "latency_ms")) == RPT_JSON_OBJECT)
		rpt_buf_str(b, "<p class=\"sub\">From BEGIN to the last vote seen (prepare), to the "
		    "decision logged (decide), to the last ACK (complete).</p>\n");
	if ((rpt_json_type(ts) == RPT_JSON_OBJECT || rpt_json_type(hists) == RPT_JSON_OBJECT) &&
	    (rc = put_charts(b, name, ts, d, sizeof(d) / sizeof(d[0]))) != RPT_OK)
		return rc;
	put_tpc_violations(b, rpt_json_get(p, "violation_list"), total);
	rpt_buf_str(b, "</section>\n");
	return RPT_OK;
}

/* A pattern made of parts gets a section per part instead of its own,
 * which would hold nothing but an empty chart area; unless it has series,
 * which only its own section draws. */
static enum rpt_err
put_pattern(struct rpt_buf *b, const struct rpt_json *report, const char *name)
{
	const struct rpt_json *p = rpt_json_get(rpt_json_get(report, "patterns"), name);
	const struct rpt_json *ts = rpt_json_get(rpt_json_get(report, "timeseries"), name);
	struct dist d = { "latency_ms", "latency", C_PURPLE, NULL, false };
	enum rpt_err rc;

	if (p != NULL && rpt_json_type(p) != RPT_JSON_OBJECT)
		p = NULL;
	d.hist = rpt_json_get(p, "latency_histogram");
	/* Two-phase commit's figures are its own: none of the counts above. */
	if (p != NULL && strcmp(name, "two_phase_commit") == 0)
		return put_tpc(b, name, p, ts);
	if (!has_parts(p) || rpt_json_type(ts) == RPT_JSON_OBJECT) {
		rpt_buf_str(b, "<section class=\"pattern\" data-pattern=\"");
		put_text(b, name);
		rpt_buf_str(b, "\">\n<h2>Pattern: ");
		put_text(b, name);
		rpt_buf_str(b, "</h2>\n");
		put_key_figures(b, report, p, COUNTS, NULL);
		put_object_table(b, "By group", rpt_json_get(p, "by_group"));
		if ((rpt_json_type(ts) == RPT_JSON_OBJECT || p != NULL) &&
		    (rc = put_charts(b, name, ts, &d, 1)) != RPT_OK)
			return rc;
		rpt_buf_str(b, "</section>\n");
	}
	for (size_t i = 0; i < rpt_json_len(p); i++)
		if (is_part(rpt_json_at(p, i)) &&
		    (rc = put_part(b, name, rpt_json_key_at(p, i), rpt_json_at(p, i))) != RPT_OK)
			return rc;
	return RPT_OK;
}

static void
put_assertions(struct rpt_buf *b, const struct rpt_json *report)
{
	const struct rpt_json *as = rpt_json_get(report, "assertions");
	const struct rpt_json *cs = rpt_json_get(report, "checks");

	rpt_buf_str(b, "<section id=\"assertions\">\n<h2>Assertions</h2>\n");
	if (rpt_json_type(as) != RPT_JSON_ARRAY || rpt_json_len(as) == 0) {
		rpt_buf_str(b, "<p>The scenario has no assertions.</p>\n");
	} else {
		rpt_buf_str(b, "<table class=\"assertions\"><tr><th>result</th><th>assertion</th>"
		    "<th>actual</th></tr>\n");
		for (size_t i = 0; i < rpt_json_len(as); i++) {
			const struct rpt_json *a = rpt_json_at(as, i);
			const struct rpt_json *actual = rpt_json_get(a, "actual");
			const char *expr = rpt_json_str(rpt_json_get(a, "expr"));
			bool pass = rpt_json_truthy(rpt_json_get(a, "pass"));

			rpt_buf_str(b, pass ? "<tr class=\"pass\">" : "<tr class=\"fail\">");
			put_result(b, pass);
			rpt_buf_str(b, "<td><code>");
			put_text(b, expr != NULL ? expr : "?");
			rpt_buf_str(b, "</code></td><td class=\"num\">");
			if (actual == NULL || rpt_json_type(actual) == RPT_JSON_NULL)
				rpt_buf_str(b, "n/a");
			else
				put_json(b, actual);
			rpt_buf_str(b, "</td></tr>\n");
		}
		rpt_buf_str(b, "</table>\n");
	}
	if (rpt_json_type(cs) == RPT_JSON_ARRAY && rpt_json_len(cs) > 0) {
		rpt_buf_str(b, "<h3>Built-in checks</h3>\n<table class=\"checks\"><tr><th>result</th>"
		    "<th>check</th><th>detail</th></tr>\n");
		for (size_t i = 0; i < rpt_json_len(cs); i++) {
			const struct rpt_json *c = rpt_json_at(cs, i);
			const char *name = rpt_json_str(rpt_json_get(c, "name"));
			const char *detail = rpt_json_str(rpt_json_get(c, "detail"));
			bool pass = rpt_json_truthy(rpt_json_get(c, "pass"));

			rpt_buf_str(b, pass ? "<tr class=\"pass\">" : "<tr class=\"fail\">");
			put_result(b, pass);
			rpt_buf_str(b, "<td><code>");
			put_text(b, name != NULL ? name : "?");
			rpt_buf_str(b, "</code></td><td>");
			put_text(b, detail != NULL ? detail : "");
			rpt_buf_str(b, "</td></tr>\n");
		}
		rpt_buf_str(b, "</table>\n");
	}
	rpt_buf_str(b, "</section>\n");
}

/* Rows "a.b.c | value" for every scalar under v, arrays as JSON. */
static void
put_meta_rows(struct rpt_buf *b, const char *prefix, const struct rpt_json *v, int depth)
{
	if (rpt_json_type(v) == RPT_JSON_OBJECT && depth < 6) {
		for (size_t i = 0; i < rpt_json_len(v); i++) {
			char *key = NULL;

			if (asprintf(&key, "%s%s%s", prefix, prefix[0] != '\0' ? "." : "",
			    rpt_json_key_at(v, i)) < 0) {
				b->nomem = true;
				return;
			}
			put_meta_rows(b, key, rpt_json_at(v, i), depth + 1);
			free(key);
		}
		return;
	}
	rpt_buf_str(b, "<tr><th>");
	put_text(b, prefix);
	rpt_buf_str(b, "</th><td>");
	put_json(b, v);
	rpt_buf_str(b, "</td></tr>\n");
}

static void
put_metadata(struct rpt_buf *b, const struct rpt_json *report)
{
	static const char *const skip[] = { "patterns", "timeseries", "checks", "assertions" };

	rpt_buf_str(b, "<section id=\"metadata\">\n<h2>Run metadata</h2>\n<table class=\"meta\">\n");
	for (size_t i = 0; i < rpt_json_len(report); i++) {
		const char *k = rpt_json_key_at(report, i);
		size_t s;

		for (s = 0; s < sizeof(skip) / sizeof(skip[0]) && strcmp(skip[s], k) != 0; s++)
			;
		if (s == sizeof(skip) / sizeof(skip[0]))
			put_meta_rows(b, k, rpt_json_at(report, i), 0);
	}
	rpt_buf_str(b, "</table>\n</section>\n");
}

static void
put_header(struct rpt_buf *b, const struct rpt_json *report)
{
	const char *name = rpt_json_str(rpt_json_path(report, "scenario.name"));
	const char *verdict = rpt_json_str(rpt_json_get(report, "verdict"));
	const char *started = rpt_json_str(rpt_json_get(report, "started_at"));
	const char *version = rpt_json_str(rpt_json_get(report, "fleetsim_version"));
	const struct rpt_json *dur = rpt_json_get(report, "duration_s");
	const struct rpt_json *seed = rpt_json_path(report, "scenario.seed");
	const char *cls;

	if (verdict != NULL && strcmp(verdict, "pass") == 0)
		cls = "pass";
	else if (verdict != NULL && strcmp(verdict, "fail") == 0)
		cls = "fail";
	else
		cls = "unknown";
	rpt_buf_str(b, "<header>\n<h1>fleetsim report: ");
	put_text(b, name != NULL ? name : "(unnamed scenario)");
	rpt_buf_printf(b, "</h1>\n<p id=\"verdict\" class=\"verdict %s\" data-verdict=\"%s\">%s</p>\n",
	    cls, cls, strcmp(cls, "pass") == 0 ? "PASS" : strcmp(cls, "fail") == 0 ? "FAIL" :
	    "NO VERDICT");
	rpt_buf_str(b, "<p class=\"sub\">");
	if (started != NULL) {
		rpt_buf_str(b, "started ");
		put_text(b, started);
	}
	if (rpt_json_type(dur) == RPT_JSON_NUMBER) {
		rpt_buf_str(b, " &middot; ran ");
		put_num(b, rpt_json_num(dur));
		rpt_buf_str(b, " s");
	}
	if (rpt_json_type(seed) == RPT_JSON_NUMBER) {
		rpt_buf_str(b, " &middot; seed ");
		put_json(b, seed);
	}
	if (version != NULL) {
		rpt_buf_str(b, " &middot; fleetsim ");
		put_text(b, version);
	}
	rpt_buf_str(b, "</p>\n");
	if (rpt_json_truthy(rpt_json_get(report, "partial")))
		rpt_buf_str(b, "<p class=\"warn\">Partial run: a signal ended it early, so the "
		    "figures cover only part of the planned duration.</p>\n");
	rpt_buf_str(b, "</header>\n");
}

enum rpt_err
rpt_html_dump(const struct rpt_json *report, const char *scenario_text, char **out)
{
	enum rpt_err rc = RPT_OK;
	struct rpt_buf b = { 0 };
	const struct rpt_json *patterns, *ts;
	const char *name;

	if (out == NULL || rpt_json_type(report) != RPT_JSON_OBJECT)
		return RPT_ERR_INVAL;
	*out = NULL;
	patterns = rpt_json_get(report, "patterns");
	ts = rpt_json_get(report, "timeseries");
	name = rpt_json_str(rpt_json_path(report, "scenario.name"));

	rpt_buf_str(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<meta name=\"color-scheme\" content=\"light\">\n<title>fleetsim report: ");
	put_text(&b, name != NULL ? name : "(unnamed scenario)");
	rpt_buf_printf(&b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", STYLE);
	put_header(&b, report);
	put_assertions(&b, report);
	if (rpt_json_type(patterns) == RPT_JSON_OBJECT)
		for (size_t i = 0; i < rpt_json_len(patterns); i++)
			if ((rc = put_pattern(&b, report, rpt_json_key_at(patterns, i))) != RPT_OK)
				goto out;
	if (rpt_json_type(ts) == RPT_JSON_OBJECT)
		for (size_t i = 0; i < rpt_json_len(ts); i++)
			if (!seen_before(patterns, rpt_json_key_at(ts, i)) &&
			    (rc = put_pattern(&b, report, rpt_json_key_at(ts, i))) != RPT_OK)
				goto out;
	rpt_buf_str(&b, "<section id=\"scenario\">\n<h2>Scenario</h2>\n");
	if (scenario_text != NULL) {
		rpt_buf_str(&b, "<pre class=\"scenario\">");
		put_text(&b, scenario_text);
		rpt_buf_str(&b, "</pre>\n");
	} else {
		rpt_buf_str(&b, "<p>The scenario text is not available; see scenario.file below.</p>\n");
	}
	rpt_buf_str(&b, "</section>\n");
	put_metadata(&b, report);
	rpt_buf_str(&b, "<footer>Written by fleetsim. This page is self-contained: inline SVG "
	    "and CSS, no scripts, nothing loaded from elsewhere.</footer>\n</body>\n</html>\n");
	if (b.nomem)
		rc = RPT_ERR_NOMEM;
out:
	if (rc != RPT_OK)
		free(b.p);
	else
		*out = b.p;
	return rc;
}

enum rpt_err
rpt_html_write(const char *path, const struct rpt_json *report, const char *scenario_text)
{
	enum rpt_err rc;
	char *s = NULL;

	if (path == NULL)
		return RPT_ERR_INVAL;
	if ((rc = rpt_html_dump(report, scenario_text, &s)) != RPT_OK)
		return rc;
	rc = rpt_write_atomic(path, s, strlen(s));
	free(s);
	return rc;
}
