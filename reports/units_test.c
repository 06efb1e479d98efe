#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "fs_test.h"
#include "units.h"

static void
check_duration(const char *s, enum rpt_err want, uint64_t want_ns)
{
	uint64_t ns = 12345;
	enum rpt_err rc = rpt_parse_duration(s, &ns);

	CU_ASSERT_EQUAL(rc, want);
	if (rc != want)
		fprintf(stderr, "\n  rpt_parse_duration(\"%s\") = %d, want %d\n", s, rc, want);
	if (want == RPT_OK) {
		CU_ASSERT_EQUAL(ns, want_ns);
		if (ns != want_ns)
			fprintf(stderr, "\n  rpt_parse_duration(\"%s\") -> %llu ns, want %llu\n",
			    s, (unsigned long long)ns, (unsigned long long)want_ns);
	} else {
		CU_ASSERT_EQUAL(ns, 12345);
	}
}

static void
check_size(const char *s, enum rpt_err want, uint64_t want_bytes)
{
	uint64_t b = 777;
	enum rpt_err rc = rpt_parse_size(s, &b);

	CU_ASSERT_EQUAL(rc, want);
	if (rc != want)
		fprintf(stderr, "\n  rpt_parse_size(\"%s\") = %d, want %d\n", s, rc, want);
	if (want == RPT_OK) {
		CU_ASSERT_EQUAL(b, want_bytes);
	} else {
		CU_ASSERT_EQUAL(b, 777);
	}
}

static void
test_duration_units(void)
{
	check_duration("0", RPT_OK, 0);
	check_duration("0s", RPT_OK, 0);
	check_duration("0.0ms", RPT_OK, 0);
	check_duration("-0s", RPT_OK, 0);
	check_duration("250ms", RPT_OK, 250000000ULL);
	check_duration("1.5s", RPT_OK, 1500000000ULL);
	check_duration("0.1s", RPT_OK, 100000000ULL);
	check_duration("0.001ms", RPT_OK, 1000ULL);
	check_duration("2m", RPT_OK, 120000000000ULL);
	check_duration("1.5m", RPT_OK, 90000000000ULL);
	check_duration("1h", RPT_OK, 3600000000000ULL);
	check_duration("500us", RPT_OK, 500000ULL);
	check_duration("7ns", RPT_OK, 7);
	check_duration("1.5ns", RPT_OK, 2);    /* rounds to the nearest ns */
	check_duration("007s", RPT_OK, 7000000000ULL);
	check_duration("9223372036854775808ns", RPT_OK, 9223372036854775808ULL);
}

static void
test_duration_errors(void)
{
	check_duration("", RPT_ERR_PARSE, 0);
	check_duration("5", RPT_ERR_PARSE, 0);       /* only 0 may go without a unit */
	check_duration("0.0", RPT_ERR_PARSE, 0);
	check_duration("-0", RPT_ERR_PARSE, 0);
	check_duration("s", RPT_ERR_PARSE, 0);
	check_duration(".5s", RPT_ERR_PARSE, 0);
	check_duration("5.s", RPT_ERR_PARSE, 0);
	check_duration("5 s", RPT_ERR_PARSE, 0);
	check_duration(" 5s", RPT_ERR_PARSE, 0);
	check_duration("5s ", RPT_ERR_PARSE, 0);
	check_duration("5sec", RPT_ERR_PARSE, 0);
	check_duration("5S", RPT_ERR_PARSE, 0);
	check_duration("+5s", RPT_ERR_PARSE, 0);
	check_duration("5ms5", RPT_ERR_PARSE, 0);
	check_duration("1e3s", RPT_ERR_PARSE, 0);
	check_duration("-5s", RPT_ERR_RANGE, 0);
	check_duration("-0.5ms", RPT_ERR_RANGE, 0);
	check_duration("9223372036854775809ns", RPT_ERR_RANGE, 0);
	check_duration("2562048h", RPT_ERR_RANGE, 0);
	check_duration("99999999999999999999999s", RPT_ERR_RANGE, 0);
	CU_ASSERT_EQUAL(rpt_parse_duration(NULL, NULL), RPT_ERR_INVAL);
}

static void
test_sizes(void)
{
	check_size("0", RPT_OK, 0);
	check_size("128", RPT_OK, 128);
	check_size("128B", RPT_OK, 128);
	check_size("4KB", RPT_OK, 4096);
	check_size("1.5MB", RPT_OK, 1572864);
	check_size("0.5KB", RPT_OK, 512);
	check_size("18446744073709551615", RPT_OK, UINT64_MAX);
	check_size("18446744073709551616", RPT_ERR_RANGE, 0);
	check_size("17592186044416MB", RPT_ERR_RANGE, 0);
	check_size("-1KB", RPT_ERR_RANGE, 0);
	check_size("1.5", RPT_ERR_PARSE, 0);
	check_size("1.5B", RPT_ERR_PARSE, 0);
	check_size("4kb", RPT_ERR_PARSE, 0);
	check_size("4 KB", RPT_ERR_PARSE, 0);
	check_size("KB", RPT_ERR_PARSE, 0);
	check_size("", RPT_ERR_PARSE, 0);
	check_size("4GB", RPT_ERR_PARSE, 0);
}

static void
check_format(uint64_t ns, const char *want)
{
	char buf[64];
	uint64_t back = 0;

	rpt_format_duration(ns, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, want);
	if (strcmp(buf, want) != 0)
		fprintf(stderr, "\n  rpt_format_duration(%llu) = \"%s\", want \"%s\"\n",
		    (unsigned long long)ns, buf, want);
	CU_ASSERT_EQUAL(rpt_parse_duration(buf, &back), RPT_OK);
	CU_ASSERT_EQUAL(back, ns);
}

static void
test_format(void)
{
	char small[4];
	uint64_t x = 88172645463325252ULL, back;
	char buf[64];
	int i;

	check_format(0, "0");
	check_format(250000000ULL, "250ms");
	check_format(1500000000ULL, "1.5s");
	check_format(120000000000ULL, "2m");
	check_format(90000000000ULL, "1.5m");
	check_format(3600000000000ULL, "1h");
	check_format(5400000000000ULL, "1.5h");
	check_format(100000000000ULL, "100s");         /* not 1.666...m */
	check_format(500000ULL, "500us");
	check_format(1234567ULL, "1.234567ms");
	check_format(1000000001ULL, "1.000000001s");
	check_format(999ULL, "999ns");
	check_format(1500ULL, "1.5us");

	/* Whatever it prints reads back as the same duration. */
	for (i = 0; i < 10000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		rpt_format_duration(x >> (i % 64) >> 1, buf, sizeof(buf));
		CU_ASSERT_EQUAL_FATAL(rpt_parse_duration(buf, &back), RPT_OK);
		CU_ASSERT_EQUAL_FATAL(back, x >> (i % 64) >> 1);
	}

	/* A short buffer truncates but stays terminated. */
	rpt_format_duration(250000000ULL, small, sizeof(small));
	CU_ASSERT_STRING_EQUAL(small, "250");
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "durations with units", test_duration_units },
		{ "malformed durations", test_duration_errors },
		{ "sizes", test_sizes },
		{ "formatting round trips", test_format },
		{ NULL, NULL },
	};

	return fs_test_main("units", tests);
}
