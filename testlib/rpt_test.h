/* Helpers for the report writers' tests: JSON text to a tree, and counting
 * what a produced document contains. Header-only, for tests that link the
 * reports library. */
#ifndef TESTLIB_RPT_TEST_H
#define TESTLIB_RPT_TEST_H

#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "json.h"

/* Parses text, failing the test (and saying where) when it is not JSON. */
static inline struct rpt_json *
rt_parse(const char *text)
{
	struct rpt_json *j = NULL;
	char err[256] = "";
	enum rpt_err rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	rc = rpt_json_parse(text, strlen(text), &j, err, sizeof(err));
	if (rc != RPT_OK)
		fprintf(stderr, "\n  parse: %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, RPT_OK);
	return j;
}

/* How often needle occurs in hay, without overlaps. */
static inline int
rt_count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* Asserts that needle occurs in doc n times, or at least once when n < 0. */
static inline void
rt_check_has(const char *doc, const char *needle, int n)
{
	int c = rt_count(doc, needle);

	if (n < 0 ? c == 0 : c != n)
		fprintf(stderr, "\n  \"%s\" occurs %d times, want %d\n", needle, c, n);
	CU_ASSERT(n < 0 ? c > 0 : c == n);
}

#endif
