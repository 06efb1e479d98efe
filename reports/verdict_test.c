#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "fs_test.h"
#include "verdict.h"

static void
check_ok(const char *expr, const char *path, enum rpt_op op, double value)
{
	struct rpt_assertion a;
	char err[256] = "";
	size_t col = 999;
	enum rpt_err rc = rpt_assert_parse(expr, &a, err, sizeof(err), &col);

	CU_ASSERT_EQUAL(rc, RPT_OK);
	if (rc != RPT_OK) {
		fprintf(stderr, "\n  \"%s\": col %zu: %s\n", expr, col, err);
		return;
	}
	CU_ASSERT_STRING_EQUAL(a.expr, expr);
	CU_ASSERT_STRING_EQUAL(a.path, path);
	CU_ASSERT_EQUAL(a.op, op);
	CU_ASSERT_DOUBLE_EQUAL(a.value, value, 1e-9 * (value < 0 ? -value : value));
	if (a.value != value)
		fprintf(stderr, "\n  \"%s\": value %.17g, want %.17g\n", expr, a.value, value);
	rpt_assertion_fini(&a);
	CU_ASSERT_PTR_NULL(a.expr);
	CU_ASSERT_PTR_NULL(a.path);
}

static void
check_err(const char *expr, size_t want_col, const char *want_msg)
{
	struct rpt_assertion a;
	char err[256] = "";
	size_t col = 999;
	enum rpt_err rc = rpt_assert_parse(expr, &a, err, sizeof(err), &col);

	CU_ASSERT_EQUAL(rc, RPT_ERR_PARSE);
	CU_ASSERT_EQUAL(col, want_col);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want_msg));
	if (rc != RPT_ERR_PARSE || col != want_col || strstr(err, want_msg) == NULL)
		fprintf(stderr, "\n  \"%s\": rc %d col %zu \"%s\"; want col %zu \"%s\"\n",
		    expr, rc, col, err, want_col, want_msg);
	CU_ASSERT_PTR_NULL(a.expr);
	CU_ASSERT_PTR_NULL(a.path);
	rpt_assertion_fini(&a);
}

static void
test_ops(void)
{
	check_ok("errors < 5", "errors", RPT_OP_LT, 5);
	check_ok("errors<=5", "errors", RPT_OP_LE, 5);
	check_ok("errors >5", "errors", RPT_OP_GT, 5);
	check_ok("errors>= 5", "errors", RPT_OP_GE, 5);
	check_ok("errors == 0", "errors", RPT_OP_EQ, 0);
	check_ok("errors\t!=\t0", "errors", RPT_OP_NE, 0);
	check_ok("  a.b.c_2.D < 1  ", "a.b.c_2.D", RPT_OP_LT, 1);
	check_ok("x > -1.5", "x", RPT_OP_GT, -1.5);
	check_ok("x > 0.25", "x", RPT_OP_GT, 0.25);
	check_ok("x > 007", "x", RPT_OP_GT, 7);
	check_ok("groups.0.connected >= 100", "groups.0.connected", RPT_OP_GE, 100);

	CU_ASSERT_STRING_EQUAL(rpt_op_str(RPT_OP_LT), "<");
	CU_ASSERT_STRING_EQUAL(rpt_op_str(RPT_OP_LE), "<=");
	CU_ASSERT_STRING_EQUAL(rpt_op_str(RPT_OP_GT), ">");
	CU_ASSERT_STRING_EQUAL(rpt_op_str(RPT_OP_GE), ">=");
	CU_ASSERT_STRING_EQUAL(rpt_op_str(RPT_OP_EQ), "==");
	CU_ASSERT_STRING_EQUAL(rpt_op_str(RPT_OP_NE), "!=");
}

static void
test_units(void)
{
	const char *p = "patterns.telemetry.latency_ms.p99";

	/* Durations convert into the unit the path names. */
	check_ok("patterns.telemetry.latency_ms.p99 < 250ms", p, RPT_OP_LT, 250);
	check_ok("patterns.telemetry.latency_ms.p99 < 1.5s", p, RPT_OP_LT, 1500);
	check_ok("patterns.telemetry.latency_ms.p99 < 500us", p, RPT_OP_LT, 0.5);
	check_ok("patterns.telemetry.latency_ms.p99 < 2m", p, RPT_OP_LT, 120000);
	check_ok("patterns.telemetry.latency_ms.p99 < 1h", p, RPT_OP_LT, 3600000);
	check_ok("patterns.telemetry.latency_ms.p99 < 0ms", p, RPT_OP_LT, 0);
	check_ok("patterns.telemetry.latency_ms.p99 < 12.5", p, RPT_OP_LT, 12.5);
	check_ok("run.duration_s >= 90s", "run.duration_s", RPT_OP_GE, 90);
	check_ok("run.duration_s >= 1500ms", "run.duration_s", RPT_OP_GE, 1.5);
	check_ok("connect.wait_us.max < 1ms", "connect.wait_us.max", RPT_OP_LT, 1000);
	check_ok("x.gap_ns < 1us", "x.gap_ns", RPT_OP_LT, 1000);
	check_ok("x_ms > -2ms", "x_ms", RPT_OP_GT, -2);
	/* The nearest segment with a suffix decides. */
	check_ok("a_s.b_ms.p99 < 1s", "a_s.b_ms.p99", RPT_OP_LT, 1000);
	check_ok("a_ms.b_s < 1s", "a_ms.b_s", RPT_OP_LT, 1);

	/* Sizes are bytes. */
	check_ok("bytes_sent > 4KB", "bytes_sent", RPT_OP_GT, 4096);
	check_ok("payload.max >= 1.5MB", "payload.max", RPT_OP_GE, 1572864);
	check_ok("payload.max >= 128B", "payload.max", RPT_OP_GE, 128);
}

static void
test_errors(void)
{
	const char *op = "expected an operator (<, <=, >, >=, ==, !=)";

	check_err("", 0, "expected a path");
	check_err("   ", 3, "expected a path");
	check_err("< 5", 0, "expected a path");
	check_err(".a < 5", 0, "expected a path");
	check_err("a. < 5", 2, "expected a path segment ([A-Za-z0-9_]+) after '.'");
	check_err("a..b < 5", 2, "expected a path segment");
	check_err("a", 1, op);
	check_err("a-b < 5", 1, op);
	check_err("a = 5", 2, op);
	check_err("a =< 5", 2, op);
	check_err("a ! 5", 2, op);
	check_err("a b < 5", 2, op);
	check_err("a <", 3, "expected a number");
	check_err("a < x", 4, "expected a number");
	check_err("a <> 5", 3, "expected a number");
	check_err("a < - 5", 5, "expected a number");
	check_err("a < .5", 4, "expected a number");
	check_err("a < 5.", 6, "expected a digit after the decimal point");
	check_err("a < 5.x", 6, "expected a digit after the decimal point");
	check_err("a_ms < 5xs", 8, "expected a unit (us, ms, s, m, h, B, KB, MB)");
	check_err("a_ms < 5MS", 8, "expected a unit");
	check_err("a_ms < 5 ms", 9, "write a unit right after the number");
	check_err("a < 5 6", 6, "expected the end of the assertion");
	check_err("a < 5 < 6", 6, "expected the end of the assertion");
	check_err("a < 5%", 5, "expected the end of the assertion");
	check_err("a < 1e3", 5, "expected a unit");
	/* Units that do not fit the path. */
	check_err("errors < 5ms", 10, "unit 'ms' needs a path in a duration unit");
	check_err("latency_ms.p99 < 5KB", 18, "unit 'KB' is a size but the path is a duration");
	check_err("bytes < 1.5B", 8, "expected a whole number of bytes");
	check_err("x_ms < 99999999999999999999h", 7, "duration out of range");
	check_err("x < 99999999999999999999999999999999999999999999999999999999999999999999"
	    "9999999999999999999999999999999999999999999999999999999999999999999999999999"
	    "9999999999999999999999999999999999999999999999999999999999999999999999999999"
	    "9999999999999999999999999999999999999999999999999999999999999999999999999999"
	    "99999999999999999999999999999999999999999999999999999999999999999", 4,
	    "number out of range");

	/* err and col are optional. */
	{
		struct rpt_assertion a;

		CU_ASSERT_EQUAL(rpt_assert_parse("a <", &a, NULL, 0, NULL), RPT_ERR_PARSE);
		CU_ASSERT_EQUAL(rpt_assert_parse(NULL, &a, NULL, 0, NULL), RPT_ERR_INVAL);
		rpt_assertion_fini(&a);
		rpt_assertion_fini(NULL);
	}
}

static const char report_text[] =
	"{\"scenario\":\"smoke\",\"errors\":0,\"pass\":true,\"failed\":false,\"note\":null,"
	"\"patterns\":{\"telemetry\":{\"sent\":1000,\"latency_ms\":{\"p50\":3.5,\"p99\":12.5}}},"
	"\"groups\":[{\"connected\":100},{\"connected\":98}],\"obj\":{},\"arr\":[]}";

static void
check_eval(const struct rpt_json *report, const char *expr, enum rpt_err want_rc,
    double want_actual, bool want_pass)
{
	struct rpt_assertion a;
	double actual = -12345;
	bool pass = !want_pass;
	enum rpt_err rc;

	CU_ASSERT_EQUAL_FATAL(rpt_assert_parse(expr, &a, NULL, 0, NULL), RPT_OK);
	rc = rpt_assert_eval(report, &a, &actual, &pass);
	CU_ASSERT_EQUAL(rc, want_rc);
	if (rc == RPT_OK && want_rc == RPT_OK) {
		CU_ASSERT_EQUAL(actual, want_actual);
		CU_ASSERT_EQUAL(pass, want_pass);
		if (pass != want_pass)
			fprintf(stderr, "\n  \"%s\": actual %g, pass %d\n", expr, actual, pass);
	}
	rpt_assertion_fini(&a);
}

static void
test_eval(void)
{
	struct rpt_json *r = NULL;

	CU_ASSERT_EQUAL_FATAL(rpt_json_parse(report_text, strlen(report_text), &r, NULL, 0),
	    RPT_OK);
	check_eval(r, "patterns.telemetry.latency_ms.p99 < 250ms", RPT_OK, 12.5, true);
	check_eval(r, "patterns.telemetry.latency_ms.p99 < 12.5ms", RPT_OK, 12.5, false);
	check_eval(r, "patterns.telemetry.latency_ms.p99 <= 12.5ms", RPT_OK, 12.5, true);
	check_eval(r, "patterns.telemetry.latency_ms.p99 <= 12400us", RPT_OK, 12.5, false);
	check_eval(r, "patterns.telemetry.latency_ms.p99 > 0.01s", RPT_OK, 12.5, true);
	check_eval(r, "patterns.telemetry.latency_ms.p99 > 12.5", RPT_OK, 12.5, false);
	check_eval(r, "patterns.telemetry.latency_ms.p99 >= 12.5", RPT_OK, 12.5, true);
	check_eval(r, "patterns.telemetry.latency_ms.p99 >= 12.6", RPT_OK, 12.5, false);
	check_eval(r, "errors == 0", RPT_OK, 0, true);
	check_eval(r, "errors == 1", RPT_OK, 0, false);
	check_eval(r, "errors != 0", RPT_OK, 0, false);
	check_eval(r, "errors != -1", RPT_OK, 0, true);
	check_eval(r, "patterns.telemetry.sent >= 1000", RPT_OK, 1000, true);
	check_eval(r, "groups.1.connected == 98", RPT_OK, 98, true);
	check_eval(r, "groups.0.connected < 100", RPT_OK, 100, false);
	/* Booleans count as 0 and 1. */
	check_eval(r, "pass == 1", RPT_OK, 1, true);
	check_eval(r, "failed == 0", RPT_OK, 0, true);
	check_eval(r, "failed > 0", RPT_OK, 0, false);

	check_eval(r, "patterns.telemetry.latency_ms.p999 < 1s", RPT_ERR_NOTFOUND, 0, false);
	check_eval(r, "nope == 0", RPT_ERR_NOTFOUND, 0, false);
	check_eval(r, "groups.2.connected == 0", RPT_ERR_NOTFOUND, 0, false);
	check_eval(r, "errors.x == 0", RPT_ERR_NOTFOUND, 0, false);
	check_eval(r, "scenario == 0", RPT_ERR_TYPE, 0, false);
	check_eval(r, "note == 0", RPT_ERR_TYPE, 0, false);
	check_eval(r, "obj == 0", RPT_ERR_TYPE, 0, false);
	check_eval(r, "arr == 0", RPT_ERR_TYPE, 0, false);
	check_eval(r, "patterns.telemetry.latency_ms > 1ms", RPT_ERR_TYPE, 0, false);

	{
		struct rpt_assertion a;
		bool pass;

		CU_ASSERT_EQUAL_FATAL(rpt_assert_parse("errors == 0", &a, NULL, 0, NULL), RPT_OK);
		CU_ASSERT_EQUAL(rpt_assert_eval(r, &a, NULL, &pass), RPT_OK);
		CU_ASSERT_TRUE(pass);
		CU_ASSERT_EQUAL(rpt_assert_eval(NULL, &a, NULL, &pass), RPT_ERR_INVAL);
		rpt_assertion_fini(&a);
	}
	rpt_json_free(r);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "operators and numbers", test_ops },
		{ "units convert to the path's unit", test_units },
		{ "parse errors with column", test_errors },
		{ "evaluation", test_eval },
		{ NULL, NULL },
	};

	return fs_test_main("verdict", tests);
}
