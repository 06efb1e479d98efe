#include "merge.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "report.h"
#include "sim_clock.h"
#include "tpc_check.h"
#include "verdict.h"

/* What every step shares. Allocation failures while building are only
 * noted here, so the builders read as the report's shape, and the caller
 * learns of them once at the end. */
struct mctx {
	const struct rpt_json *const *in;
	size_t n;
	struct rpt_json *notes;
	struct sim_diag *d;
	enum sim_err err;
};

static void
put(struct mctx *m, struct rpt_json *obj, const char *key, struct rpt_json *v)
{
	enum rpt_err rc = rpt_json_set(obj, key, v);

	if (rc == RPT_ERR_NOMEM && m->err == SIM_OK)
		m->err = SIM_ERR_NOMEM;
}

static void
note(struct mctx *m, const char *fmt, const char *what)
{
	char text[512];

	snprintf(text, sizeof(text), fmt, what);
	if (rpt_json_push(m->notes, rpt_json_string(text)) != RPT_OK && m->err == SIM_OK)
		m->err = SIM_ERR_NOMEM;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static struct rpt_json *
clone(const struct rpt_json *j)
{
	struct rpt_json *c;

	switch (rpt_json_type(j)) {
	case RPT_JSON_BOOL:
		return rpt_json_bool(rpt_json_truthy(j));
	case RPT_JSON_NUMBER:
		return rpt_json_number(rpt_json_num(j));
	case RPT_JSON_STRING:
		return rpt_json_string(rpt_json_str(j));
	case RPT_JSON_ARRAY:
		if ((c = rpt_json_array()) == NULL)
			return NULL;
		for (size_t i = 0; i < rpt_json_len(j); i++) {
			if (rpt_json_push(c, clone(rpt_json_at(j, i))) != RPT_OK) {
				rpt_json_free(c);
				return NULL;
			}
		}
		return c;
	case RPT_JSON_OBJECT:
		if ((c = rpt_json_object()) == NULL)
			return NULL;
		for (size_t i = 0; i < rpt_json_len(j); i++) {
			if (rpt_json_set(c, rpt_json_key_at(j, i), clone(rpt_json_at(j, i))) != RPT_OK) {
				rpt_json_free(c);
				return NULL;
			}
		}
		return c;
	case RPT_JSON_NULL:
		break;
	}
	return rpt_json_null();
}

/* Keys the generic fold leaves alone because their owner merges them:
 * histograms (one, or an object of them by name) and their summaries
 * (percentiles do not add), and the one time that is the latest rather
 * than a sum. */
static bool
special(const char *key, const struct rpt_json *v)
{
	return ends_with(key, "_histogram") || ends_with(key, "_histograms") ||
	    (ends_with(key, "_ms") && rpt_json_type(v) == RPT_JSON_OBJECT) ||
	    strcmp(key, "all_connected_after_s") == 0;
}

/* A figure that is the largest of the shards', not their sum: "max" is a
 * word of its name (max_ms, in_doubt_max_ms). */
static bool
is_max(const char *name)
{
	for (const char *p = name; (p = strstr(p, "max")) != NULL; p += 3) {
		if ((p == name || p[-1] == '_') && (p[3] == '\0' || p[3] == '_'))
			return true;
	}
	return false;
}

/* Adds src's numbers into dst's, recursively; members only src has are
 * copied, strings and bools stay the first report's. */
static void
fold(struct mctx *m, struct rpt_json *dst, const struct rpt_json *src)
{
	for (size_t i = 0; i < rpt_json_len(src); i++) {
		const char *key = rpt_json_key_at(src, i);
		const struct rpt_json *s = rpt_json_at(src, i);
		struct rpt_json *t = rpt_json_get(dst, key);

		if (special(key, s))
			continue;
		if (t == NULL) {
			put(m, dst, key, clone(s));
		} else if (rpt_json_type(t) == RPT_JSON_NUMBER && rpt_json_type(s) == RPT_JSON_NUMBER) {
			double a = rpt_json_num(t), b = rpt_json_num(s);

			/* A group's qos is a setting, not a count. */
			if (strcmp(key, "qos") == 0)
				continue;
			put(m, dst, key, rpt_json_number(is_max(key) ? fmax(a, b) : a + b));
		} else if (rpt_json_type(t) == RPT_JSON_OBJECT && rpt_json_type(s) == RPT_JSON_OBJECT) {
			fold(m, t, s);
		}
	}
}

/* secs[i] is input i's copy of one section (NULL when it has none). The
 * result starts as the first present one and folds in the rest. */
static struct rpt_json *
fold_all(struct mctx *m, const struct rpt_json *const *secs)
{
	struct rpt_json *r = NULL;

	for (size_t i = 0; i < m->n; i++) {
		if (secs[i] == NULL)
			continue;
		if (r == NULL) {
			if ((r = clone(secs[i])) == NULL)
				m->err = SIM_ERR_NOMEM;
			if (rpt_json_type(r) != RPT_JSON_OBJECT)
				return r;
			/* The first's histograms and summaries are replaced
			 * by the caller; fold skips them in the others. */
			continue;
		}
		if (rpt_json_type(secs[i]) == RPT_JSON_OBJECT)
			fold(m, r, secs[i]);
	}
	return r;
}

/* Merges the histogram at key of secs[i] for every input that has the
 * latency (present[i] not NULL; secs[i] is where its histogram would be,
 * often the same object). *out is NULL when one of them lacks it (or none
 * has it): no exact answer. */
static enum sim_err
merge_hists(struct mctx *m, const struct rpt_json *const *present,
    const struct rpt_json *const *secs, const char *key, const char *where,
    struct rpt_hist **out)
{
	struct rpt_hist *acc = NULL, *h = NULL;
	enum sim_err rv = SIM_OK;
	enum rpt_err rc;

	*out = NULL;
	for (size_t i = 0; i < m->n; i++) {
		const struct rpt_json *j;

		if (present[i] == NULL)
			continue;
		if ((j = rpt_json_get(secs[i], key)) == NULL) {
			rv = SIM_OK;
			goto out;
		}
		if ((rc = rpt_hist_from_json(j, &h)) != RPT_OK) {
			rv = rc == RPT_ERR_NOMEM ? SIM_ERR_NOMEM : SIM_ERR_SCENARIO;
			sim_diag_set(m->d, "report %zu: %s.%s is not a valid histogram", i + 1, where, key);
			goto out;
		}
		if (acc == NULL) {
			acc = h;
		} else {
			rpt_hist_merge(acc, h);
			rpt_hist_free(h);
		}
		h = NULL;
	}
	*out = acc;
	acc = NULL;
out:
	rpt_hist_free(acc);
	return rv;
}

/* Without histograms, the best summary there is: count and min exact,
 * mean weighted by count, everything else (percentiles, max) the largest
 * shard's, an upper bound. */
static struct rpt_json *
approx_summary(const struct rpt_json *const *secs, size_t n, const char *key)
{
	struct rpt_json *r = NULL;
	double count = 0, wsum = 0;

	for (size_t i = 0; i < n; i++) {
		const struct rpt_json *s = rpt_json_get(secs[i], key);
		double c;

		if (rpt_json_type(s) != RPT_JSON_OBJECT)
			continue;
		c = rpt_json_num(rpt_json_get(s, "count"));
		count += c;
		wsum += c * rpt_json_num(rpt_json_get(s, "mean"));
		if (r == NULL) {
			if ((r = clone(s)) == NULL)
				return NULL;
			continue;
		}
		for (size_t k = 0; k < rpt_json_len(r); k++) {
			const char *name = rpt_json_key_at(r, k);
			double a = rpt_json_num(rpt_json_at(r, k)), b = rpt_json_num(rpt_json_get(s, name));

			if (strcmp(name, "min") == 0)
				rpt_json_set_num(r, name, c > 0 && (b < a || a == 0) ? b : a);
			else if (strcmp(name, "max") == 0 || strcmp(name, "mean") != 0)
				rpt_json_set_num(r, name, b > a ? b : a);
		}
	}
	if (r != NULL && rpt_json_get(r, "count") != NULL) {
		rpt_json_set_num(r, "count", count);
		if (rpt_json_get(r, "mean") != NULL)
			rpt_json_set_num(r, "mean", count > 0 ? wsum / count : 0);
	}
	return r;
}

static struct rpt_json *
connect_summary(const struct rpt_hist *h)
{
	struct rpt_json *cm = rpt_json_object();

	if (cm == NULL)
		return NULL;
	rpt_json_set_num(cm, "p50", (double)rpt_hist_percentile(h, 50) / SIM_NS_PER_MS);
	rpt_json_set_num(cm, "p99", (double)rpt_hist_percentile(h, 99) / SIM_NS_PER_MS);
	rpt_json_set_num(cm, "max", (double)rpt_hist_max(h) / SIM_NS_PER_MS);
	return cm;
}

/* Where a latency summary, or its histogram, is: the merged report's
 * object holding it, the inputs' copies of that object (NULL where
 * absent), its key there, and the object's path for messages. */
struct lat_at {
	struct rpt_json *dst;
	const struct rpt_json *const *secs;
	const char *key, *where;
};

/* Sets the summary at s from the merged histogram, and that histogram at
 * h; approximates (with a note) when an input with the summary's object
 * lacks the histogram. */
static enum sim_err
summarize_at(struct mctx *m, const struct lat_at *s, const struct lat_at *h, bool connect)
{
	struct rpt_hist *u = NULL;
	enum sim_err rv;
	char path[256];

	if ((rv = merge_hists(m, s->secs, h->secs, h->key, h->where, &u)) != SIM_OK)
		return rv;
	snprintf(path, sizeof(path), "%s.%s", s->where, s->key);
	if (u != NULL) {
		put(m, s->dst, s->key, connect ? connect_summary(u) :
		    rpt_hist_summary(u, (double)SIM_NS_PER_MS));
		put(m, h->dst, h->key, rpt_hist_to_json(u));
		rpt_hist_free(u);
		return SIM_OK;
	}
	/* The first report's histogram is not the union's: the caller drops
	 * what is marked null here. */
	if (rpt_json_get(h->dst, h->key) != NULL)
		put(m, h->dst, h->key, rpt_json_null());
	for (size_t i = 0; i < m->n; i++) {
		if (rpt_json_get(s->secs[i], s->key) != NULL) {
			put(m, s->dst, s->key, approx_summary(s->secs, m->n, s->key));
			note(m, "%s: a report has no histogram, so this is approximate "
			    "(percentiles and max are the largest shard's)", path);
			break;
		}
	}
	return SIM_OK;
}

/* The usual case: summary at skey and histogram at hkey side by side. */
static enum sim_err
summarize(struct mctx *m, struct rpt_json *dst, const struct rpt_json *const *secs,
    const char *hkey, const char *skey, const char *where, bool connect)
{
	const struct lat_at s = { dst, secs, skey, where }, h = { dst, secs, hkey, where };

	return summarize_at(m, &s, &h, connect);
}

/* A copy of obj without key, whose value summarize marked null; the
 * tree has no removal, and the order of the rest matters. */
static struct rpt_json *
without_null(struct mctx *m, const struct rpt_json *obj, const char *key)
{
	struct rpt_json *c = rpt_json_object();

	for (size_t i = 0; c != NULL && i < rpt_json_len(obj); i++) {
		const char *k = rpt_json_key_at(obj, i);

		if (strcmp(k, key) == 0 && rpt_json_type(rpt_json_at(obj, i)) == RPT_JSON_NULL)
			continue;
		put(m, c, k, clone(rpt_json_at(obj, i)));
	}
	if (c == NULL)
		m->err = SIM_ERR_NOMEM;
	return c;
}

/* The section at key of every input, NULL where absent. */
static const struct rpt_json **
sections(struct mctx *m, const char *key, const struct rpt_json *const *parents)
{
	const struct rpt_json **s = calloc(m->n ? m->n : 1, sizeof(*s));

	if (s == NULL) {
		m->err = SIM_ERR_NOMEM;
		return NULL;
	}
	for (size_t i = 0; i < m->n; i++)
		s[i] = rpt_json_get(parents[i], key);
	return s;
}

static struct rpt_json *
merge_devices(struct mctx *m)
{
	const struct rpt_json **secs = sections(m, "devices", m->in);
	struct rpt_json *r = NULL;
	double latest = 0;
	bool never = false, any = false;
	enum sim_err rv;

	if (secs == NULL)
		return NULL;
	if ((r = fold_all(m, secs)) == NULL || rpt_json_type(r) != RPT_JSON_OBJECT)
		goto out;
	for (size_t i = 0; i < m->n; i++) {
		const struct rpt_json *a = rpt_json_get(secs[i], "all_connected_after_s");

		if (a == NULL)
			continue;
		any = true;
		if (rpt_json_type(a) != RPT_JSON_NUMBER)
			never = true;
		else if (rpt_json_num(a) > latest)
			latest = rpt_json_num(a);
	}
	/* The whole fleet was connected when the last shard's was. */
	if (any)
		put(m, r, "all_connected_after_s", never ? rpt_json_null() : rpt_json_number(latest));
	if ((rv = summarize(m, r, secs, "connect_histogram", "connect_ms", "devices", true)) != SIM_OK) {
		rpt_json_free(r);
		r = NULL;
		if (m->err == SIM_OK)
			m->err = rv;
	} else if (rpt_json_get(r, "connect_histogram") != NULL &&
	    rpt_json_type(rpt_json_get(r, "connect_histogram")) == RPT_JSON_NULL) {
		struct rpt_json *c = without_null(m, r, "connect_histogram");

		rpt_json_free(r);
		r = c;
	}
out:
	free(secs);
	return r;
}

/* latency_ms made of several summaries by name (two_phase_commit's
 * phases: latency_ms.prepare, ...) rather than one. */
static bool
named_summaries(const struct rpt_json *lat)
{
	if (rpt_json_type(lat) != RPT_JSON_OBJECT || rpt_json_len(lat) == 0)
		return false;
	for (size_t i = 0; i < rpt_json_len(lat); i++) {
		if (rpt_json_type(rpt_json_at(lat, i)) != RPT_JSON_OBJECT)
			return false;
	}
	return true;
}

/* p's latency_ms {NAME: summary} beside latency_histograms {NAME:
 * histogram}: each summary from its own merged histogram, as summarize
 * does for a single one. A histogram that is not the union's is dropped;
 * latency_histograms left empty is marked null for the caller. */
static enum sim_err
summarize_named(struct mctx *m, struct rpt_json *p, const struct rpt_json *const *secs,
    const char *where)
{
	struct rpt_json *lat = rpt_json_get(p, "latency_ms"), *hists = rpt_json_get(p, "latency_histograms");
	const struct rpt_json **ls = sections(m, "latency_ms", secs);
	const struct rpt_json **hs = sections(m, "latency_histograms", secs);
	enum sim_err rv = SIM_OK;
	char swhere[256], hwhere[256];

	if (ls == NULL || hs == NULL) {
		rv = SIM_ERR_NOMEM;
		goto out;
	}
	snprintf(swhere, sizeof(swhere), "%s.latency_ms", where);
	snprintf(hwhere, sizeof(hwhere), "%s.latency_histograms", where);
	for (size_t k = 0; k < rpt_json_len(lat) && rv == SIM_OK && m->err == SIM_OK; k++) {
		const struct lat_at s = { lat, ls, rpt_json_key_at(lat, k), swhere };
		const struct lat_at h = { hists, hs, s.key, hwhere };

		rv = summarize_at(m, &s, &h, false);
	}
	for (size_t k = 0; k < rpt_json_len(lat) && rv == SIM_OK && m->err == SIM_OK; k++) {
		const char *name = rpt_json_key_at(lat, k);

		if (rpt_json_get(hists, name) != NULL &&
		    rpt_json_type(rpt_json_get(hists, name)) == RPT_JSON_NULL) {
			put(m, p, "latency_histograms", without_null(m, hists, name));
			hists = rpt_json_get(p, "latency_histograms");
		}
	}
	if (hists != NULL && rpt_json_len(hists) == 0)
		put(m, p, "latency_histograms", rpt_json_null());
out:
	free(ls);
	free(hs);
	return rv;
}

/* Gives the object at parent's key, and every object under it, the exact
 * latency summary from its merged histogram: a pattern may keep histograms
 * deeper down (request_response per direction and per method), and the
 * fold leaves every latency_ms at the first report's. secs are the inputs'
 * copies of that object, NULL where absent. */
static enum sim_err
summarize_tree(struct mctx *m, struct rpt_json *parent, const char *key,
    const struct rpt_json *const *secs, const char *where)
{
	static const char *const hkeys[] = { "latency_histogram", "latency_histograms" };
	struct rpt_json *p = rpt_json_get(parent, key);
	enum sim_err rv;

	if (rpt_json_type(p) != RPT_JSON_OBJECT)
		return SIM_OK;
	if (named_summaries(rpt_json_get(p, "latency_ms")))
		rv = summarize_named(m, p, secs, where);
	else
		rv = summarize(m, p, secs, "latency_histogram", "latency_ms", where, false);
	if (rv != SIM_OK)
		return rv;
	for (size_t k = 0; k < rpt_json_len(p) && m->err == SIM_OK; k++) {
		const char *name = rpt_json_key_at(p, k);
		const struct rpt_json **sub;
		char path[256];

		/* Histograms and summaries are leaves, merged just above. */
		if (rpt_json_type(rpt_json_at(p, k)) != RPT_JSON_OBJECT ||
		    special(name, rpt_json_at(p, k)))
			continue;
		if ((sub = sections(m, name, secs)) == NULL)
			return m->err;
		snprintf(path, sizeof(path), "%s.%s", where, name);
		rv = summarize_tree(m, p, name, sub, path);
		free(sub);
		if (rv != SIM_OK)
			return rv;
	}
	/* summarize marks a histogram that is not the union's null. */
	for (size_t i = 0; i < sizeof(hkeys) / sizeof(hkeys[0]) && m->err == SIM_OK; i++) {
		if (rpt_json_get(p, hkeys[i]) != NULL &&
		    rpt_json_type(rpt_json_get(p, hkeys[i])) == RPT_JSON_NULL) {
			put(m, parent, key, without_null(m, p, hkeys[i]));
			p = rpt_json_get(parent, key);
		}
	}
	return SIM_OK;
}

/* What two_phase_commit has beyond counts, latencies and in_doubt_max_ms
 * (a maximum, by its name): every shard's violations, and who
 * coordinated. Each shard ran its own transactions over its own devices,
 * so its list stands as it is; "shard" (the input's position, as in
 * merged_from) tells whose device indices and txids an entry speaks of. */
static void
merge_tpc(struct mctx *m, struct rpt_json *p, const struct rpt_json *const *secs)
{
	struct rpt_json *list = rpt_json_array();
	const char *coord = NULL;
	bool mixed = false, external = false;

	if (list == NULL) {
		m->err = SIM_ERR_NOMEM;
		return;
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct rpt_json *l = rpt_json_get(secs[i], "violation_list");
		const char *c = rpt_json_str(rpt_json_get(secs[i], "coordinator"));

		/* As each run caps its list: the counts say how many. */
		for (size_t k = 0; k < rpt_json_len(l) &&
		    rpt_json_len(list) < SIM_TPC_JSON_MAX_VIOLATIONS; k++) {
			struct rpt_json *e = clone(rpt_json_at(l, k));

			if (rpt_json_type(e) == RPT_JSON_OBJECT)
				put(m, e, "shard", rpt_json_number((double)(i + 1)));
			if (rpt_json_push(list, e) != RPT_OK && m->err == SIM_OK)
				m->err = SIM_ERR_NOMEM;
		}
		if (c == NULL)
			continue;
		if (coord == NULL)
			coord = c;
		else if (strcmp(c, coord) != 0)
			mixed = true;
		external |= strcmp(c, "external") == 0;
	}
	if (rpt_json_get(p, "violation_list") != NULL)
		put(m, p, "violation_list", list);
	else
		rpt_json_free(list);
	if (mixed)
		put(m, p, "coordinator", rpt_json_string("mixed"));
	/* Each shard sees only what the coordinator tells its own devices. */
	if (external && m->n > 1)
		note(m, "%s: with an external coordinator, a transaction whose participants "
		    "span shards counts as started in each, and atomicity across shards is not "
		    "checked", "patterns.two_phase_commit");
}

static struct rpt_json *
merge_patterns(struct mctx *m)
{
	const struct rpt_json **pats = sections(m, "patterns", m->in), **secs = NULL;
	struct rpt_json *r = rpt_json_object();
	enum sim_err rv;

	if (pats == NULL || r == NULL) {
		m->err = SIM_ERR_NOMEM;
		goto out;
	}
	/* Patterns in the order first seen, so a pattern only some shards
	 * ran is still merged. */
	for (size_t i = 0; i < m->n; i++) {
		for (size_t k = 0; k < rpt_json_len(pats[i]); k++) {
			const char *name = rpt_json_key_at(pats[i], k);
			struct rpt_json *p;
			char where[256];

			if (rpt_json_get(r, name) != NULL)
				continue;
			free(secs);
			if ((secs = sections(m, name, pats)) == NULL)
				goto out;
			p = fold_all(m, secs);
			if (p == NULL)
				goto out;
			put(m, r, name, p);
			if (m->err != SIM_OK)
				goto out;
			snprintf(where, sizeof(where), "patterns.%s", name);
			if ((rv = summarize_tree(m, r, name, secs, where)) != SIM_OK) {
				if (m->err == SIM_OK)
					m->err = rv;
				goto out;
			}
			if (strcmp(name, "two_phase_commit") == 0)
				merge_tpc(m, rpt_json_get(r, name), secs);
		}
	}
out:
	free(pats);
	free(secs);
	if (m->err != SIM_OK) {
		rpt_json_free(r);
		return NULL;
	}
	return r;
}

/* One input row of a time series, for sorting by its second. */
struct srow {
	double t;
	size_t src, row;
};

static int
srow_cmp(const void *a, const void *b)
{
	const struct srow *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

enum col_rule { COL_T, COL_SUM, COL_MAX, COL_MIN, COL_PCTL };

static enum col_rule
col_rule(const char *name)
{
	if (strcmp(name, "t") == 0)
		return COL_T;
	if (is_max(name))
		return COL_MAX;
	if (strncmp(name, "min", 3) == 0)
		return COL_MIN;
	if (ends_with(name, "_ms"))
		return COL_PCTL;
	return COL_SUM;
}

static double
cell(const struct rpt_json *rows, size_t row, long col)
{
	const struct rpt_json *v = col < 0 ? NULL : rpt_json_at(rpt_json_at(rows, row), (size_t)col);

	return rpt_json_type(v) == RPT_JSON_NUMBER ? rpt_json_num(v) : NAN;
}

/* The merged value of one column over rows [a, b) of rs, which share t. */
static double
combine(const struct srow *rs, size_t a, size_t b, enum col_rule rule, const long *map,
    const struct rpt_json *const *rows, size_t ncols, size_t c)
{
	double acc = NAN;
	size_t have = 0;

	for (size_t k = a; k < b; k++) {
		double v = cell(rows[rs[k].src], rs[k].row, map[rs[k].src * ncols + c]);

		if (isnan(v))
			continue;
		if (have++ == 0)
			acc = v;
		else if (rule == COL_MAX)
			acc = v > acc ? v : acc;
		else if (rule == COL_MIN)
			acc = v < acc ? v : acc;
		else
			acc += v;
	}
	/* One shard's percentile is the union's only when no other shard
	 * had latency in that second. */
	if (rule == COL_PCTL && have != 1)
		return NAN;
	return acc;
}

static struct rpt_json *
merge_series(struct mctx *m, const struct rpt_json *const *secs, const char *name)
{
	const struct rpt_json *cols = NULL;
	const struct rpt_json **rows = NULL;
	struct rpt_json *r = NULL, *orows = NULL;
	struct srow *rs = NULL;
	long *map = NULL, tcol = -1;
	size_t ncols, nrows = 0, k;

	for (size_t i = 0; i < m->n && cols == NULL; i++)
		cols = rpt_json_get(secs[i], "columns");
	ncols = rpt_json_len(cols);
	for (size_t c = 0; c < ncols; c++) {
		if (col_rule(rpt_json_str(rpt_json_at(cols, c)) ? rpt_json_str(rpt_json_at(cols, c)) : "") == COL_T)
			tcol = (long)c;
	}
	if (tcol < 0) {
		note(m, "timeseries.%s: no t column to align on; kept the first report's", name);
		for (size_t i = 0; i < m->n; i++) {
			if (secs[i] != NULL)
				return clone(secs[i]);
		}
		return NULL;
	}
	rows = calloc(m->n, sizeof(*rows));
	map = calloc(m->n * ncols, sizeof(*map));
	if (rows == NULL || map == NULL)
		goto nomem;
	/* Columns are matched by name: a shard from another version may
	 * order them differently or lack one. */
	for (size_t i = 0; i < m->n; i++) {
		const struct rpt_json *ic = rpt_json_get(secs[i], "columns");

		rows[i] = rpt_json_get(secs[i], "rows");
		nrows += rpt_json_len(rows[i]);
		for (size_t c = 0; c < ncols; c++) {
			map[i * ncols + c] = -1;
			for (size_t j = 0; j < rpt_json_len(ic); j++) {
				const char *a = rpt_json_str(rpt_json_at(ic, j));
				const char *b = rpt_json_str(rpt_json_at(cols, c));

				if (a != NULL && b != NULL && strcmp(a, b) == 0)
					map[i * ncols + c] = (long)j;
			}
		}
	}
	if ((rs = calloc(nrows ? nrows : 1, sizeof(*rs))) == NULL)
		goto nomem;
	k = 0;
	for (size_t i = 0; i < m->n; i++) {
		for (size_t j = 0; j < rpt_json_len(rows[i]); j++) {
			double t = cell(rows[i], j, map[i * ncols + (size_t)tcol]);

			if (!isnan(t))
				rs[k++] = (struct srow){ .t = t, .src = i, .row = j };
		}
	}
	nrows = k;
	qsort(rs, nrows, sizeof(*rs), srow_cmp);
	if ((r = rpt_json_object()) == NULL || (orows = rpt_json_array()) == NULL)
		goto nomem;
	put(m, r, "columns", clone(cols));
	for (size_t a = 0, b; a < nrows; a = b) {
		struct rpt_json *row = rpt_json_array();

		for (b = a + 1; b < nrows && rs[b].t == rs[a].t; b++)
			;
		if (row == NULL)
			goto nomem;
		for (size_t c = 0; c < ncols; c++) {
			enum col_rule rule = c == (size_t)tcol ? COL_T :
			    col_rule(rpt_json_str(rpt_json_at(cols, c)) ? rpt_json_str(rpt_json_at(cols, c)) : "");
			double v = rule == COL_T ? rs[a].t : combine(rs, a, b, rule, map, rows, ncols, c);

			if (rpt_json_push(row, isnan(v) ? rpt_json_null() : rpt_json_number(v)) != RPT_OK) {
				rpt_json_free(row);
				goto nomem;
			}
		}
		if (rpt_json_push(orows, row) != RPT_OK)
			goto nomem;
	}
	put(m, r, "rows", orows);
	orows = NULL;
	goto out;
nomem:
	m->err = SIM_ERR_NOMEM;
	rpt_json_free(r);
	r = NULL;
out:
	rpt_json_free(orows);
	free(rows);
	free(map);
	free(rs);
	return r;
}

static struct rpt_json *
merge_timeseries(struct mctx *m)
{
	const struct rpt_json **tss = sections(m, "timeseries", m->in), **secs = NULL;
	struct rpt_json *r = rpt_json_object();

	if (tss == NULL || r == NULL) {
		m->err = SIM_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < m->n; i++) {
		for (size_t k = 0; k < rpt_json_len(tss[i]); k++) {
			const char *name = rpt_json_key_at(tss[i], k);

			if (rpt_json_get(r, name) != NULL)
				continue;
			free(secs);
			if ((secs = sections(m, name, tss)) == NULL)
				goto out;
			put(m, r, name, merge_series(m, secs, name));
		}
	}
out:
	free(tss);
	free(secs);
	if (m->err != SIM_OK) {
		rpt_json_free(r);
		return NULL;
	}
	return r;
}

static struct rpt_json *
earliest_start(struct mctx *m)
{
	const char *best = NULL;

	/* ISO 8601 in UTC with a fixed width sorts as text. */
	for (size_t i = 0; i < m->n; i++) {
		const char *s = rpt_json_str(rpt_json_get(m->in[i], "started_at"));

		if (s != NULL && (best == NULL || strcmp(s, best) < 0))
			best = s;
	}
	return best != NULL ? rpt_json_string(best) : rpt_json_null();
}

static struct rpt_json *
longest(struct mctx *m, const char *key)
{
	double v = 0;

	for (size_t i = 0; i < m->n; i++) {
		double x = rpt_json_num(rpt_json_get(m->in[i], key));

		if (x > v)
			v = x;
	}
	return rpt_json_number(v);
}

static bool
any_partial(struct mctx *m)
{
	for (size_t i = 0; i < m->n; i++) {
		if (rpt_json_truthy(rpt_json_get(m->in[i], "partial")))
			return true;
	}
	return false;
}

static bool
any_has(struct mctx *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++) {
		if (rpt_json_get(m->in[i], key) != NULL)
			return true;
	}
	return false;
}

static enum sim_err
check_inputs(struct mctx *m)
{
	const char *name0 = NULL;

	if (m->n == 0) {
		sim_diag_set(m->d, "no reports to merge");
		return SIM_ERR_SCENARIO;
	}
	for (size_t i = 0; i < m->n; i++) {
		const char *name = rpt_json_str(rpt_json_path(m->in[i], "scenario.name"));

		if (rpt_json_num(rpt_json_get(m->in[i], "schema_version")) != 1 || name == NULL) {
			sim_diag_set(m->d, "report %zu: not a fleetsim report.json (expected "
			    "schema_version 1 and a scenario.name)", i + 1);
			return SIM_ERR_SCENARIO;
		}
		if (i == 0) {
			name0 = name;
		} else if (strcmp(name, name0) != 0) {
			/* Shards of different scenarios would add up to a
			 * fleet nobody ran, judged by assertions of one. */
			sim_diag_set(m->d, "report %zu is of scenario '%.200s', report 1 of '%.200s'; "
			    "only shards of one scenario can be merged", i + 1, name, name0);
			return SIM_ERR_SCENARIO;
		}
	}
	return SIM_OK;
}

/* Judges r with the first report's assertions, parsed again from their
 * text: the numbers they were evaluated on have changed. */
static enum sim_err
judge(struct mctx *m, struct rpt_json *r)
{
	const struct rpt_json *arr = rpt_json_get(m->in[0], "assertions");
	struct rpt_assertion *as = NULL;
	size_t nas = 0, len = rpt_json_len(arr);
	enum sim_err rv = SIM_OK;
	bool pass;

	if (len > 0 && (as = calloc(len, sizeof(*as))) == NULL)
		return SIM_ERR_NOMEM;
	for (; nas < len; nas++) {
		const char *expr = rpt_json_str(rpt_json_get(rpt_json_at(arr, nas), "expr"));
		char err[256] = "";
		size_t col = 0;
		enum rpt_err rc;

		if (expr == NULL) {
			sim_diag_set(m->d, "report 1: assertions.%zu has no expr", nas);
			rv = SIM_ERR_SCENARIO;
			goto out;
		}
		if ((rc = rpt_assert_parse(expr, &as[nas], err, sizeof(err), &col)) != RPT_OK) {
			sim_diag_set(m->d, "report 1: assertions.%zu: '%.200s' at column %zu: %s",
			    nas, expr, col + 1, err);
			rv = rc == RPT_ERR_NOMEM ? SIM_ERR_NOMEM : SIM_ERR_SCENARIO;
			goto out;
		}
	}
	for (size_t i = 1; i < m->n; i++) {
		const struct rpt_json *other = rpt_json_get(m->in[i], "assertions");
		bool same = rpt_json_len(other) == len;

		for (size_t k = 0; same && k < len; k++) {
			const char *e = rpt_json_str(rpt_json_get(rpt_json_at(other, k), "expr"));

			same = e != NULL && strcmp(e, as[k].expr) == 0;
		}
		if (!same) {
			char which[32];

			snprintf(which, sizeof(which), "%zu", i + 1);
			note(m, "report %s has other assertions than report 1; report 1's were evaluated",
			    which);
		}
	}
	rv = sim_report_judge_asserts(r, as, nas, &pass);
out:
	for (size_t i = 0; i < nas; i++)
		rpt_assertion_fini(&as[i]);
	free(as);
	return rv;
}

enum sim_err
sim_merge_reports(const struct rpt_json *const *in, size_t n, struct rpt_json **out,
    struct sim_diag *d)
{
	struct mctx m = { .in = in, .n = n, .d = d };
	struct rpt_json *r = NULL;
	enum sim_err rv;

	*out = NULL;
	if ((rv = check_inputs(&m)) != SIM_OK)
		return rv;
	if ((r = rpt_json_object()) == NULL || (m.notes = rpt_json_array()) == NULL) {
		rv = SIM_ERR_NOMEM;
		goto out;
	}
	/* In the first report's key order, so merged reports diff cleanly
	 * against run reports. */
	for (size_t i = 0; i < rpt_json_len(in[0]) && m.err == SIM_OK; i++) {
		const char *key = rpt_json_key_at(in[0], i);
		struct rpt_json *v;

		if (strcmp(key, "started_at") == 0)
			v = earliest_start(&m);
		else if (strcmp(key, "duration_s") == 0)
			v = longest(&m, key);
		else if (strcmp(key, "partial") == 0)
			v = rpt_json_bool(any_partial(&m));
		else if (strcmp(key, "broker") == 0 || strcmp(key, "devices") == 0 ||
		    strcmp(key, "patterns") == 0 || strcmp(key, "timeseries") == 0)
			continue;   /* in the order below, which is the run's */
		else if (strcmp(key, "checks") == 0 || strcmp(key, "assertions") == 0 ||
		    strcmp(key, "verdict") == 0 || strcmp(key, "shards") == 0 ||
		    strcmp(key, "merged_from") == 0 || strcmp(key, "notes") == 0)
			continue;   /* recomputed, or a merged report merged again */
		else
			v = clone(rpt_json_at(in[0], i));
		put(&m, r, key, v);
		if (strcmp(key, "partial") == 0) {
			put(&m, r, "shards", rpt_json_number((double)n));
			put(&m, r, "merged_from", rpt_json_array());
			put(&m, r, "notes", m.notes);
			m.notes = rpt_json_get(r, "notes");
		}
	}
	if (m.err == SIM_OK && rpt_json_get(r, "notes") == NULL) {
		put(&m, r, "shards", rpt_json_number((double)n));
		put(&m, r, "merged_from", rpt_json_array());
		put(&m, r, "notes", m.notes);
		m.notes = rpt_json_get(r, "notes");
	}
	if (m.err != SIM_OK) {
		rv = m.err;
		goto out;
	}
	put(&m, r, "verdict", rpt_json_string("fail"));
	if (any_has(&m, "broker")) {
		const struct rpt_json **secs = sections(&m, "broker", in);

		if (secs != NULL)
			put(&m, r, "broker", fold_all(&m, secs));
		free(secs);
	}
	if (m.err == SIM_OK && any_has(&m, "devices"))
		put(&m, r, "devices", merge_devices(&m));
	if (m.err == SIM_OK && any_has(&m, "patterns"))
		put(&m, r, "patterns", merge_patterns(&m));
	if (m.err == SIM_OK && any_has(&m, "timeseries"))
		put(&m, r, "timeseries", merge_timeseries(&m));
	if ((rv = m.err) != SIM_OK)
		goto out;
	if ((rv = judge(&m, r)) != SIM_OK)
		goto out;
	rv = m.err;
out:
	if (rv != SIM_OK) {
		/* notes is either inside r or still ours. */
		if (m.notes != NULL && rpt_json_get(r, "notes") != m.notes)
			rpt_json_free(m.notes);
		rpt_json_free(r);
		return rv;
	}
	*out = r;
	return SIM_OK;
}
