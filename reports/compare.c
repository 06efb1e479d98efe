#include "compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* A change of exactly the limit passes, but (cur - base) / base rounds:
 * 1.0 -> 1.1 comes out a hair above 10%. This absorbs that. */
#define EPS_PCT 1e-9

struct fixed_fig {
	const char *path;
	enum rpt_cmp_kind kind;
};

/* Outside patterns the report mixes figures with configuration and
 * bookkeeping (planned, reconnects, resent), so only these are judged. */
static const struct fixed_fig fixed[] = {
	{ "devices.connect_failures", RPT_CMP_COUNT },
	{ "devices.disconnects", RPT_CMP_COUNT },
	{ "devices.decode_errors", RPT_CMP_COUNT },
	{ "devices.connect_ms.p99", RPT_CMP_LATENCY },
	{ "broker.consumer_decode_errors", RPT_CMP_COUNT },
};

static const char *const count_keys[] = {
	"lost", "duplicates", "out_of_order", "dropped", "malformed", "timeout",
	"unmatched", "late", "error_status",
};

/* Breakdowns repeat the pattern's own figures per group or method, and a
 * histogram's min/max/count are raw nanoseconds already summarised in
 * latency_ms: comparing them would only add noise to the table. */
static bool
skip_key(const char *k)
{
	return strcmp(k, "by_group") == 0 || strcmp(k, "by_method") == 0 ||
	    strstr(k, "histogram") != NULL;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool
classify(const char *parent, const char *key, bool in_violations, enum rpt_cmp_kind *kind)
{
	if (in_violations) {
		*kind = RPT_CMP_COUNT;
		return true;
	}
	if (strcmp(parent, "latency_ms") == 0 || ends_with(parent, "_latency_ms")) {
		/* count follows the traffic and min is the noisiest figure there is. */
		if (strcmp(key, "count") == 0 || strcmp(key, "min") == 0)
			return false;
		*kind = RPT_CMP_LATENCY;
		return true;
	}
	if (strcmp(key, "throughput_per_s") == 0) {
		*kind = RPT_CMP_THROUGHPUT;
		return true;
	}
	for (size_t i = 0; i < sizeof(count_keys) / sizeof(count_keys[0]); i++) {
		if (strcmp(key, count_keys[i]) == 0) {
			*kind = RPT_CMP_COUNT;
			return true;
		}
	}
	return false;
}

/* One document's walk: it fills the base side of new rows, or (cur) the
 * cur side of base's rows with the same path, appending rows only cur has. */
struct walk {
	struct rpt_cmp_result *r;
	size_t cap;
	bool cur;
	size_t found;
	struct rpt_buf path;
};

static enum rpt_err
add_figure(struct walk *w, const char *path, enum rpt_cmp_kind kind, double v)
{
	struct rpt_cmp_result *r = w->r;
	struct rpt_cmp_row *row, *rows;
	size_t cap;

	/* The parser cannot produce these, but a tree built in memory can, and
	 * a percentage of infinity helps nobody. */
	if (!isfinite(v))
		return RPT_OK;
	w->found++;
	if (w->cur) {
		for (size_t i = 0; i < r->nrows; i++) {
			row = &r->rows[i];
			if (!row->has_cur && strcmp(row->path, path) == 0) {
				row->has_cur = true;
				row->cur = v;
				return RPT_OK;
			}
		}
	}
	if (r->nrows == w->cap) {
		cap = w->cap == 0 ? 32 : w->cap * 2;
		if ((rows = realloc(r->rows, cap * sizeof(*rows))) == NULL)
			return RPT_ERR_NOMEM;
		r->rows = rows;
		w->cap = cap;
	}
	row = &r->rows[r->nrows];
	memset(row, 0, sizeof(*row));
	if ((row->path = strdup(path)) == NULL)
		return RPT_ERR_NOMEM;
	r->nrows++;
	row->kind = kind;
	if (w->cur) {
		row->has_cur = true;
		row->cur = v;
	} else {
		row->has_base = true;
		row->base = v;
	}
	return RPT_OK;
}

static void
path_truncate(struct rpt_buf *b, size_t len)
{
	b->len = len;
	if (b->p != NULL)
		b->p[len] = '\0';
}

static enum rpt_err
walk_obj(struct walk *w, const struct rpt_json *obj, const char *parent, bool in_violations)
{
	enum rpt_err rc = RPT_OK;
	size_t mark = w->path.len;
	enum rpt_cmp_kind kind;

	for (size_t i = 0; i < rpt_json_len(obj); i++) {
		const char *k = rpt_json_key_at(obj, i);
		const struct rpt_json *v = rpt_json_at(obj, i);
		enum rpt_json_type t = rpt_json_type(v);

		if (skip_key(k))
			continue;
		if (t == RPT_JSON_NUMBER && classify(parent, k, in_violations, &kind)) {
			rpt_buf_printf(&w->path, ".%s", k);
			if (w->path.nomem) {
				rc = RPT_ERR_NOMEM;
				goto out;
			}
			rc = add_figure(w, w->path.p, kind, rpt_json_num(v));
		} else if (t == RPT_JSON_OBJECT) {
			rpt_buf_printf(&w->path, ".%s", k);
			if (w->path.nomem) {
				rc = RPT_ERR_NOMEM;
				goto out;
			}
			rc = walk_obj(w, v, k, in_violations || strcmp(k, "violations") == 0);
		}
		path_truncate(&w->path, mark);
		if (rc != RPT_OK)
			goto out;
	}
out:
	return rc;
}

static enum rpt_err
walk_doc(struct walk *w, const struct rpt_json *doc)
{
	enum rpt_err rc = RPT_OK;
	const struct rpt_json *v;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		v = rpt_json_path(doc, fixed[i].path);
		if (rpt_json_type(v) != RPT_JSON_NUMBER)
			continue;
		if ((rc = add_figure(w, fixed[i].path, fixed[i].kind, rpt_json_num(v))) != RPT_OK)
			goto out;
	}
	v = rpt_json_get(doc, "patterns");
	if (rpt_json_type(v) == RPT_JSON_OBJECT) {
		path_truncate(&w->path, 0);
		rpt_buf_str(&w->path, "patterns");
		if (w->path.nomem) {
			rc = RPT_ERR_NOMEM;
			goto out;
		}
		rc = walk_obj(w, v, "patterns", false);
	}
out:
	return rc;
}

static void
judge(struct rpt_cmp_row *row, double limit)
{
	double c;

	if (!row->has_base || !row->has_cur) {
		row->state = RPT_CMP_MISSING;
		row->change_pct = NAN;
		return;
	}
	if (row->base != 0)
		c = (row->cur - row->base) / fabs(row->base) * 100;
	else
		c = row->cur == 0 ? 0 : NAN;
	row->change_pct = c;
	row->state = RPT_CMP_OK;
	switch (row->kind) {
	case RPT_CMP_COUNT:
		if (row->cur > row->base)
			row->state = RPT_CMP_REGRESSED;
		else if (row->cur < row->base)
			row->state = RPT_CMP_IMPROVED;
		break;
	case RPT_CMP_LATENCY:
		if (c > limit + EPS_PCT)
			row->state = RPT_CMP_REGRESSED;
		else if (c < -limit - EPS_PCT)
			row->state = RPT_CMP_IMPROVED;
		break;
	case RPT_CMP_THROUGHPUT:
		if (c < -limit - EPS_PCT)
			row->state = RPT_CMP_REGRESSED;
		else if (c > limit + EPS_PCT)
			row->state = RPT_CMP_IMPROVED;
		break;
	}
}

enum rpt_err
rpt_compare(const struct rpt_json *base, const struct rpt_json *cur,
    double max_regression_pct, struct rpt_cmp_result *out)
{
	enum rpt_err rc = RPT_OK;
	struct walk w;

	if (out == NULL)
		return RPT_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	if (!isfinite(max_regression_pct) || max_regression_pct < 0)
		return RPT_ERR_RANGE;
	memset(&w, 0, sizeof(w));
	w.r = out;
	if ((rc = walk_doc(&w, base)) != RPT_OK)
		goto out;
	out->nbase = w.found;
	w.cur = true;
	w.found = 0;
	if ((rc = walk_doc(&w, cur)) != RPT_OK)
		goto out;
	out->ncur = w.found;
	out->max_regression_pct = max_regression_pct;
	for (size_t i = 0; i < out->nrows; i++) {
		judge(&out->rows[i], max_regression_pct);
		switch (out->rows[i].state) {
		case RPT_CMP_REGRESSED:
			out->regressions++;
			break;
		case RPT_CMP_IMPROVED:
			out->improvements++;
			break;
		case RPT_CMP_MISSING:
			out->missing++;
			break;
		case RPT_CMP_OK:
			break;
		}
	}
out:
	free(w.path.p);
	if (rc != RPT_OK)
		rpt_cmp_fini(out);
	return rc;
}

void
rpt_cmp_fini(struct rpt_cmp_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nrows; i++)
		free(r->rows[i].path);
	free(r->rows);
	memset(r, 0, sizeof(*r));
}

const struct rpt_cmp_row *
rpt_cmp_find(const struct rpt_cmp_result *r, const char *path)
{
	if (r == NULL || path == NULL)
		return NULL;
	for (size_t i = 0; i < r->nrows; i++) {
		if (strcmp(r->rows[i].path, path) == 0)
			return &r->rows[i];
	}
	return NULL;
}

const char *
rpt_cmp_kind_str(enum rpt_cmp_kind k)
{
	switch (k) {
	case RPT_CMP_LATENCY:
		return "latency";
	case RPT_CMP_THROUGHPUT:
		return "throughput";
	case RPT_CMP_COUNT:
		return "count";
	}
	return "?";
}

const char *
rpt_cmp_state_str(enum rpt_cmp_state s)
{
	switch (s) {
	case RPT_CMP_OK:
		return "ok";
	case RPT_CMP_REGRESSED:
		return "regressed";
	case RPT_CMP_IMPROVED:
		return "improved";
	case RPT_CMP_MISSING:
		return "missing";
	}
	return "?";
}

/* Counts read best whole; latencies need their digits but not 17 of them. */
static void
fmt_num(char *buf, size_t n, double v)
{
	if (v == trunc(v) && fabs(v) < 1e15)
		snprintf(buf, n, "%.0f", v);
	else if (fabs(v) >= 1e4)
		snprintf(buf, n, "%.1f", v);
	else
		snprintf(buf, n, "%.6g", v);
}

static void
fmt_change(char *buf, size_t n, const struct rpt_cmp_row *row)
{
	if (row->state == RPT_CMP_MISSING)
		snprintf(buf, n, "-");
	else if (isnan(row->change_pct))
		snprintf(buf, n, "n/a");
	else if (fabs(row->change_pct) < 0.05)
		snprintf(buf, n, "0.0%%");
	else
		snprintf(buf, n, "%+.1f%%", row->change_pct);
}

static void
fmt_verdict(char *buf, size_t n, const struct rpt_cmp_row *row, double limit)
{
	switch (row->state) {
	case RPT_CMP_OK:
		buf[0] = '\0';
		break;
	case RPT_CMP_IMPROVED:
		snprintf(buf, n, "improved");
		break;
	case RPT_CMP_MISSING:
		snprintf(buf, n, "missing in %s", row->has_base ? "new" : "base");
		break;
	case RPT_CMP_REGRESSED:
		if (row->kind == RPT_CMP_COUNT)
			snprintf(buf, n, "REGRESSED (any increase)");
		else
			snprintf(buf, n, "REGRESSED (limit %c%g%%)",
			    row->kind == RPT_CMP_LATENCY ? '+' : '-', limit);
		break;
	}
}

struct cells {
	char base[32], cur[32], change[32], verdict[64];
};

static void
fmt_row(struct cells *c, const struct rpt_cmp_row *row, double limit)
{
	if (row->has_base)
		fmt_num(c->base, sizeof(c->base), row->base);
	else
		snprintf(c->base, sizeof(c->base), "-");
	if (row->has_cur)
		fmt_num(c->cur, sizeof(c->cur), row->cur);
	else
		snprintf(c->cur, sizeof(c->cur), "-");
	fmt_change(c->change, sizeof(c->change), row);
	fmt_verdict(c->verdict, sizeof(c->verdict), row, limit);
}

static int
max_int(int a, size_t b)
{
	return (size_t)a > b ? a : (int)b;
}

enum rpt_err
rpt_cmp_print(FILE *f, const struct rpt_cmp_result *r)
{
	int wp = (int)strlen("figure"), wb = (int)strlen("base"), wc = (int)strlen("new");
	int wx = (int)strlen("change");
	struct cells c;

	if (f == NULL || r == NULL)
		return RPT_ERR_INVAL;
	/* Two passes rather than storing the cells: the table is small. */
	for (size_t i = 0; i < r->nrows; i++) {
		fmt_row(&c, &r->rows[i], r->max_regression_pct);
		wp = max_int(wp, strlen(r->rows[i].path));
		wb = max_int(wb, strlen(c.base));
		wc = max_int(wc, strlen(c.cur));
		wx = max_int(wx, strlen(c.change));
	}
	fprintf(f, "%-*s  %*s  %*s  %*s\n", wp, "figure", wb, "base", wc, "new", wx, "change");
	for (size_t i = 0; i < r->nrows; i++) {
		fmt_row(&c, &r->rows[i], r->max_regression_pct);
		fprintf(f, "%-*s  %*s  %*s  %*s", wp, r->rows[i].path, wb, c.base, wc, c.cur, wx,
		    c.change);
		if (c.verdict[0] != '\0')
			fprintf(f, "  %s", c.verdict);
		fputc('\n', f);
	}
	fprintf(f, "\nlimit: latency may rise and throughput fall by %g%%; correctness counts may not rise\n",
	    r->max_regression_pct);
	if (r->missing > 0)
		fprintf(f, "note: %zu figure%s in only one report, not compared\n", r->missing,
		    r->missing == 1 ? " is" : "s are");
	fflush(f);
	return ferror(f) ? RPT_ERR_IO : RPT_OK;
}
