#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "fs_test.h"
#include "series.h"

static const char *const cols[] = { "t", "sent", "p99_ms" };

static void
test_rows_json_csv(void)
{
	struct rpt_series *s;
	struct rpt_buf b = { 0 };
	struct rpt_json *j;
	char *text = NULL;
	double r1[] = { 1700000000, 10, 1.5 }, r2[] = { 1700000001, 12, NAN };

	CU_ASSERT_FATAL(rpt_series_new(cols, 3, &s) == RPT_OK);
	CU_ASSERT_EQUAL(rpt_series_rows(s), 0);
	for (int i = 0; i < 100; i++) {
		r1[0] = 1700000000 + 2 * i;
		r2[0] = 1700000001 + 2 * i;
		CU_ASSERT_EQUAL(rpt_series_add(s, r1), RPT_OK);
		CU_ASSERT_EQUAL(rpt_series_add(s, r2), RPT_OK);
	}
	CU_ASSERT_EQUAL(rpt_series_rows(s), 200);
	CU_ASSERT_EQUAL(rpt_series_at(s, 199, 0), 1700000199);
	CU_ASSERT(isnan(rpt_series_at(s, 1, 2)));
	CU_ASSERT(isnan(rpt_series_at(s, 200, 0)));

	j = rpt_series_to_json(s);
	CU_ASSERT_FATAL(j != NULL);
	CU_ASSERT_EQUAL(rpt_json_dump(j, 0, &text), RPT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"columns\":[\"t\",\"sent\",\"p99_ms\"]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"rows\":[[1700000000,10,1.5],[1700000001,12,null],"));
	CU_ASSERT_EQUAL(rpt_json_len(rpt_json_get(j, "rows")), 200);
	free(text);
	rpt_json_free(j);

	CU_ASSERT_EQUAL(rpt_series_csv(s, "pattern", "telemetry", false, &b), RPT_OK);
	CU_ASSERT(strncmp(b.p, "pattern,t,sent,p99_ms\ntelemetry,1700000000,10,1.5\n"
	    "telemetry,1700000001,12,\n", 75) == 0);
	/* Appending another series leaves the header out. */
	{
		size_t before = b.len;

		CU_ASSERT_EQUAL(rpt_series_csv(s, "pattern", "other", true, &b), RPT_OK);
		CU_ASSERT(strncmp(b.p + before, "other,1700000000,10,1.5\n", 24) == 0);
	}
	free(b.p);
	rpt_series_free(s);
}

static void
test_bad_args(void)
{
	struct rpt_series *s = (struct rpt_series *)1;

	CU_ASSERT_EQUAL(rpt_series_new(cols, 0, &s), RPT_ERR_INVAL);
	CU_ASSERT_PTR_NULL(s);
	rpt_series_free(NULL);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "rows, JSON and CSV", test_rows_json_csv },
		{ "bad arguments", test_bad_args },
		{ NULL, NULL },
	};

	return fs_test_main("series", tests);
}
