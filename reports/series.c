#include "series.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct rpt_series {
	char **columns;
	size_t ncolumns;
	double *v;                  /* rows * ncolumns values, row-major */
	size_t rows, cap;
};

enum rpt_err
rpt_series_new(const char *const *columns, size_t ncolumns, struct rpt_series **out)
{
	struct rpt_series *s;

	*out = NULL;
	if (columns == NULL || ncolumns == 0)
		return RPT_ERR_INVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return RPT_ERR_NOMEM;
	s->columns = calloc(ncolumns, sizeof(*s->columns));
	if (s->columns == NULL)
		goto nomem;
	s->ncolumns = ncolumns;
	for (size_t i = 0; i < ncolumns; i++)
		if ((s->columns[i] = strdup(columns[i])) == NULL)
			goto nomem;
	*out = s;
	return RPT_OK;
nomem:
	rpt_series_free(s);
	return RPT_ERR_NOMEM;
}

void
rpt_series_free(struct rpt_series *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->columns != NULL && i < s->ncolumns; i++)
		free(s->columns[i]);
	free(s->columns);
	free(s->v);
	free(s);
}

enum rpt_err
rpt_series_add(struct rpt_series *s, const double *values)
{
	if (s->rows == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		double *v = realloc(s->v, cap * s->ncolumns * sizeof(*v));

		if (v == NULL)
			return RPT_ERR_NOMEM;
		s->v = v;
		s->cap = cap;
	}
	memcpy(s->v + s->rows * s->ncolumns, values, s->ncolumns * sizeof(*values));
	s->rows++;
	return RPT_OK;
}

size_t
rpt_series_rows(const struct rpt_series *s)
{
	return s->rows;
}

double
rpt_series_at(const struct rpt_series *s, size_t r, size_t c)
{
	if (r >= s->rows || c >= s->ncolumns)
		return NAN;
	return s->v[r * s->ncolumns + c];
}

struct rpt_json *
rpt_series_to_json(const struct rpt_series *s)
{
	struct rpt_json *o = rpt_json_object(), *cols = rpt_json_array(), *rows = rpt_json_array();

	if (o == NULL || cols == NULL || rows == NULL)
		goto nomem;
	for (size_t c = 0; c < s->ncolumns; c++)
		if (rpt_json_push(cols, rpt_json_string(s->columns[c])) != RPT_OK)
			goto nomem;
	for (size_t r = 0; r < s->rows; r++) {
		struct rpt_json *row = rpt_json_array();

		if (row == NULL || rpt_json_push(rows, row) != RPT_OK)
			goto nomem;
		/* NaN (no data that second) writes as null. */
		for (size_t c = 0; c < s->ncolumns; c++)
			if (rpt_json_push(row, rpt_json_number(rpt_series_at(s, r, c))) != RPT_OK)
				goto nomem;
	}
	if (rpt_json_set(o, "columns", cols) != RPT_OK) {
		cols = NULL;
		goto nomem;
	}
	cols = NULL;
	if (rpt_json_set(o, "rows", rows) != RPT_OK) {
		rows = NULL;
		goto nomem;
	}
	return o;
nomem:
	rpt_json_free(cols);
	rpt_json_free(rows);
	rpt_json_free(o);
	return NULL;
}

enum rpt_err
rpt_series_csv(const struct rpt_series *s, const char *prefix_name, const char *prefix_value,
    bool append, struct rpt_buf *out)
{
	if (!append) {
		if (prefix_name != NULL)
			rpt_buf_printf(out, "%s,", prefix_name);
		for (size_t c = 0; c < s->ncolumns; c++)
			rpt_buf_printf(out, "%s%s", c ? "," : "", s->columns[c]);
		rpt_buf_str(out, "\n");
	}
	for (size_t r = 0; r < s->rows; r++) {
		if (prefix_value != NULL)
			rpt_buf_printf(out, "%s,", prefix_value);
		for (size_t c = 0; c < s->ncolumns; c++) {
			double v = rpt_series_at(s, r, c);

			if (c)
				rpt_buf_str(out, ",");
			/* 12 significant digits: exact for counts and unix
			 * seconds, and far below a nanosecond on latencies in
			 * ms. An empty cell is a second without data. */
			if (!isnan(v))
				rpt_buf_printf(out, "%.12g", v);
		}
		rpt_buf_str(out, "\n");
	}
	return out->nomem ? RPT_ERR_NOMEM : RPT_OK;
}
