#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_test.h"
#include "hist.h"

#define N_SAMPLES 100000
#define HOUR_NS   3600000000000ULL

/* splitmix64: seeded, so a failure reproduces. */
static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
uniform01(void)
{
	return ((double)(rng() >> 11) + 0.5) / 9007199254740992.0;
}

static double
gauss(void)
{
	return sqrt(-2 * log(uniform01())) * cos(2 * M_PI * uniform01());
}

enum dist { UNIFORM, LOGNORMAL, EXPONENTIAL, BIMODAL, WIDE_LOG };

static uint64_t
sample(enum dist d)
{
	double v = 0;

	switch (d) {
	case UNIFORM:       /* 1 us .. 1 s */
		v = 1e3 + uniform01() * (1e9 - 1e3);
		break;
	case LOGNORMAL:     /* median 1 ms, 99.9% within about 2 us .. 500 ms */
		v = exp(log(1e6) + 2.0 * gauss());
		break;
	case EXPONENTIAL:   /* mean 5 ms */
		v = 1e3 - 5e6 * log(uniform01());
		break;
	case BIMODAL:       /* fast local path and slow retries */
		v = (rng() % 10 == 0) ? 2e8 + uniform01() * 1e8 : 2e5 + uniform01() * 5e4;
		break;
	case WIDE_LOG:      /* log-uniform over all of 1 us .. 1 h */
		v = exp(log(1e3) + uniform01() * (log((double)HOUR_NS) - log(1e3)));
		break;
	}
	if (v < 1e3)
		v = 1e3;
	if (v > (double)HOUR_NS)
		v = (double)HOUR_NS;
	return (uint64_t)v;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The exact percentile by the header's definition, on sorted samples. */
static uint64_t
exact_percentile(const uint64_t *sorted, size_t n, double p)
{
	double r = ceil(p / 100 * (double)n - 1e-7);
	size_t rank = r < 1 ? 1 : (size_t)r;

	return sorted[rank - 1];
}

static const double pcts[] = { 0, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100 };

static void
check_distribution(enum dist d, const char *name)
{
	uint64_t *v = malloc(N_SAMPLES * sizeof(*v)), sum = 0, got, want;
	struct rpt_hist *h;
	double rel, worst = 0;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL_FATAL(rpt_hist_new(&h), RPT_OK);
	rng_state = 42 + (uint64_t)d;
	for (i = 0; i < N_SAMPLES; i++) {
		v[i] = sample(d);
		sum += v[i];
		rpt_hist_record(h, v[i]);
	}
	qsort(v, N_SAMPLES, sizeof(*v), cmp_u64);

	CU_ASSERT_EQUAL(rpt_hist_count(h), N_SAMPLES);
	CU_ASSERT_EQUAL(rpt_hist_min(h), v[0]);
	CU_ASSERT_EQUAL(rpt_hist_max(h), v[N_SAMPLES - 1]);
	CU_ASSERT_DOUBLE_EQUAL(rpt_hist_mean(h), (double)sum / N_SAMPLES,
	    (double)sum / N_SAMPLES * 1e-12);
	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		want = exact_percentile(v, N_SAMPLES, pcts[i]);
		got = rpt_hist_percentile(h, pcts[i]);
		rel = fabs((double)got - (double)want) / (double)want;
		if (rel > worst)
			worst = rel;
		/* The requirement is 1%; the layout promises 1/256. */
		CU_ASSERT(rel <= 0.01);
		CU_ASSERT(rel <= 1.0 / 256 + 1e-12);
		if (rel > 1.0 / 256)
			fprintf(stderr, "\n  %s p%g: got %llu, exact %llu (%.3f%%)\n", name,
			    pcts[i], (unsigned long long)got, (unsigned long long)want, rel * 100);
	}
	fprintf(stderr, "[%s: worst relative error %.3f%%] ", name, worst * 100);
	rpt_hist_free(h);
	free(v);
}

static void
test_uniform(void)
{
	check_distribution(UNIFORM, "uniform");
}

static void
test_lognormal(void)
{
	check_distribution(LOGNORMAL, "lognormal");
}

static void
test_exponential(void)
{
	check_distribution(EXPONENTIAL, "exponential");
}

static void
test_bimodal(void)
{
	check_distribution(BIMODAL, "bimodal");
}

static void
test_wide(void)
{
	check_distribution(WIDE_LOG, "log-uniform 1us..1h");
}

/* Every value between 1 us and 1 h is reported within 1/256 of itself:
 * with a tiny and a huge value around it, p50 is its bucket's midpoint. */
static void
test_bucket_accuracy(void)
{
	struct rpt_hist *h;
	uint64_t v, got;
	double rel, worst = 0;
	int i;

	CU_ASSERT_EQUAL_FATAL(rpt_hist_new(&h), RPT_OK);
	rng_state = 7;
	for (i = 0; i < 200000; i++) {
		v = i < 4096 ? 1000 + (uint64_t)i : sample(WIDE_LOG);
		if (i == 4096)
			v = HOUR_NS;
		rpt_hist_reset(h);
		rpt_hist_record(h, 1);
		rpt_hist_record(h, v);
		rpt_hist_record(h, UINT64_MAX);
		got = rpt_hist_percentile(h, 50);
		rel = fabs((double)got - (double)v) / (double)v;
		if (rel > worst)
			worst = rel;
		if (rel > 1.0 / 256) {
			CU_FAIL("value outside its bucket's precision");
			fprintf(stderr, "\n  %llu -> %llu\n", (unsigned long long)v,
			    (unsigned long long)got);
			break;
		}
	}
	CU_ASSERT(worst > 0.001);    /* the check above did see real buckets */
	rpt_hist_free(h);
}

static void
test_empty_and_edges(void)
{
	struct rpt_hist *h;
	struct rpt_json *s;

	CU_ASSERT_EQUAL_FATAL(rpt_hist_new(&h), RPT_OK);
	CU_ASSERT_EQUAL(rpt_hist_count(h), 0);
	CU_ASSERT_EQUAL(rpt_hist_min(h), 0);
	CU_ASSERT_EQUAL(rpt_hist_max(h), 0);
	CU_ASSERT_EQUAL(rpt_hist_mean(h), 0);
	CU_ASSERT_EQUAL(rpt_hist_percentile(h, 50), 0);
	s = rpt_hist_summary(h, 1e6);
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_get(s, "p99")), 0);
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_get(s, "count")), 0);
	rpt_json_free(s);

	/* Below 1 us and above 1 h: buckets clamp, min and max stay exact. */
	rpt_hist_record(h, 10);
	rpt_hist_record(h, 500);
	CU_ASSERT_EQUAL(rpt_hist_min(h), 10);
	CU_ASSERT_EQUAL(rpt_hist_max(h), 500);
	CU_ASSERT_EQUAL(rpt_hist_percentile(h, 0), 500);   /* midpoint 1002, clamped */
	CU_ASSERT_EQUAL(rpt_hist_percentile(h, 100), 500);
	CU_ASSERT_DOUBLE_EQUAL(rpt_hist_mean(h), 255, 1e-9);
	rpt_hist_record(h, 2 * HOUR_NS);
	CU_ASSERT_EQUAL(rpt_hist_max(h), 2 * HOUR_NS);
	/* Its bucket's midpoint, about 1 h: above the range precision ends. */
	CU_ASSERT(llabs((long long)rpt_hist_percentile(h, 100) - (long long)HOUR_NS) <
	    (long long)(HOUR_NS / 100));
	CU_ASSERT_EQUAL(rpt_hist_percentile(h, 50), 1002);  /* bucket 0's midpoint */
	rpt_hist_record(h, 3 * HOUR_NS);
	/* 2 h and 3 h share the top bucket, whose midpoint is about 1 h. */
	CU_ASSERT(llabs((long long)rpt_hist_percentile(h, 75) - (long long)HOUR_NS) <
	    (long long)(HOUR_NS / 100));

	rpt_hist_reset(h);
	CU_ASSERT_EQUAL(rpt_hist_count(h), 0);
	CU_ASSERT_EQUAL(rpt_hist_max(h), 0);
	CU_ASSERT_EQUAL(rpt_hist_percentile(h, 100), 0);
	rpt_hist_free(h);
	rpt_hist_free(NULL);
}

/* Ranks are exact integers: p99 of 100 values is the 99th, not the 100th. */
static void
test_percentile_ranks(void)
{
	struct rpt_hist *h;

	CU_ASSERT_EQUAL_FATAL(rpt_hist_new(&h), RPT_OK);
	rpt_hist_record_n(h, 1000000, 99);
	rpt_hist_record(h, 1000000000);
	CU_ASSERT(rpt_hist_percentile(h, 99) < 1010000);
	CU_ASSERT_EQUAL(rpt_hist_percentile(h, 99.01), 1000000000);
	CU_ASSERT_EQUAL(rpt_hist_percentile(h, 100), 1000000000);
	CU_ASSERT_EQUAL(rpt_hist_percentile(h, 250), 1000000000);
	CU_ASSERT(rpt_hist_percentile(h, -5) < 1010000);
	CU_ASSERT(rpt_hist_percentile(h, NAN) < 1010000);
	rpt_hist_free(h);

	/* 1000 values 1..1000 us: p99.9 is the 999th. */
	CU_ASSERT_EQUAL_FATAL(rpt_hist_new(&h), RPT_OK);
	for (int i = 1; i <= 1000; i++)
		rpt_hist_record(h, (uint64_t)i * 1000000);
	CU_ASSERT(llabs((long long)rpt_hist_percentile(h, 99.9) - 999000000LL) < 999000000LL / 256);
	CU_ASSERT(llabs((long long)rpt_hist_percentile(h, 99.8) - 998000000LL) < 998000000LL / 256);
	CU_ASSERT_EQUAL(rpt_hist_percentile(h, 99.95), 1000000000);
	rpt_hist_free(h);
}

static char *
to_text(const struct rpt_hist *h)
{
	struct rpt_json *j = rpt_hist_to_json(h);
	char *s = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL(rpt_json_dump(j, 0, &s), RPT_OK);
	rpt_json_free(j);
	return s;
}

static void
assert_same(const struct rpt_hist *a, const struct rpt_hist *b)
{
	char *ta, *tb;
	int i, diffs = 0;

	CU_ASSERT_EQUAL(rpt_hist_count(a), rpt_hist_count(b));
	CU_ASSERT_EQUAL(rpt_hist_min(a), rpt_hist_min(b));
	CU_ASSERT_EQUAL(rpt_hist_max(a), rpt_hist_max(b));
	CU_ASSERT_EQUAL(rpt_hist_mean(a), rpt_hist_mean(b));
	for (i = 0; i <= 1000; i++)
		if (rpt_hist_percentile(a, i / 10.0) != rpt_hist_percentile(b, i / 10.0))
			diffs++;
	CU_ASSERT_EQUAL(diffs, 0);
	ta = to_text(a);
	tb = to_text(b);
	CU_ASSERT_STRING_EQUAL(ta, tb);
	free(ta);
	free(tb);
}

static void
test_merge(void)
{
	struct rpt_hist *whole, *a, *b, *empty;
	uint64_t v;
	int i;

	CU_ASSERT_EQUAL_FATAL(rpt_hist_new(&whole), RPT_OK);
	CU_ASSERT_EQUAL_FATAL(rpt_hist_new(&a), RPT_OK);
	CU_ASSERT_EQUAL_FATAL(rpt_hist_new(&b), RPT_OK);
	CU_ASSERT_EQUAL_FATAL(rpt_hist_new(&empty), RPT_OK);
	rng_state = 99;
	for (i = 0; i < N_SAMPLES; i++) {
		v = sample(i % 3 == 0 ? LOGNORMAL : BIMODAL);
		if (i == 5)
			v = 3;                  /* below the range, into half a */
		if (i == N_SAMPLES - 2)
			v = 5 * HOUR_NS;        /* above it, into half b */
		rpt_hist_record(whole, v);
		rpt_hist_record(i < N_SAMPLES / 2 ? a : b, v);
	}
	/* Merging an empty one changes nothing; into an empty one copies. */
	rpt_hist_merge(a, empty);
	rpt_hist_merge(empty, b);
	assert_same(empty, b);
	rpt_hist_merge(a, b);
	assert_same(a, whole);
	CU_ASSERT_EQUAL(rpt_hist_min(a), 3);
	CU_ASSERT_EQUAL(rpt_hist_max(a), 5 * HOUR_NS);

	/* record_n is n records. */
	rpt_hist_reset(a);
	rpt_hist_reset(b);
	for (i = 0; i < 1000; i++)
		rpt_hist_record(a, 123456789);
	rpt_hist_record_n(b, 123456789, 1000);
	rpt_hist_record_n(b, 5, 0);
	assert_same(a, b);

	rpt_hist_free(whole);
	rpt_hist_free(a);
	rpt_hist_free(b);
	rpt_hist_free(empty);
}

static void
test_summary(void)
{
	static const char *keys[] = { "count", "min", "mean", "p50", "p90", "p99", "p999", "max" };
	struct rpt_hist *h;
	struct rpt_json *s;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(rpt_hist_new(&h), RPT_OK);
	for (i = 1; i <= 1000; i++)
		rpt_hist_record(h, i * 1000000);      /* 1..1000 ms */
	s = rpt_hist_summary(h, 1e6);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(rpt_json_len(s), 8);
	for (i = 0; i < 8; i++)
		CU_ASSERT_STRING_EQUAL(rpt_json_key_at(s, i), keys[i]);
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_get(s, "count")), 1000);
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_get(s, "min")), 1);
	CU_ASSERT_EQUAL(rpt_json_num(rpt_json_get(s, "max")), 1000);
	CU_ASSERT_DOUBLE_EQUAL(rpt_json_num(rpt_json_get(s, "mean")), 500.5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(rpt_json_num(rpt_json_get(s, "p50")), 500, 500 * 0.004);
	CU_ASSERT_DOUBLE_EQUAL(rpt_json_num(rpt_json_get(s, "p90")), 900, 900 * 0.004);
	CU_ASSERT_DOUBLE_EQUAL(rpt_json_num(rpt_json_get(s, "p99")), 990, 990 * 0.004);
	CU_ASSERT_DOUBLE_EQUAL(rpt_json_num(rpt_json_get(s, "p999")), 999, 999 * 0.004);
	rpt_json_free(s);
	CU_ASSERT_PTR_NULL(rpt_hist_summary(h, 0));
	rpt_hist_free(h);
}

static struct rpt_hist *
from_text(const char *text, enum rpt_err want)
{
	struct rpt_hist *h = NULL;
	struct rpt_json *j = NULL;
	enum rpt_err rc;

	CU_ASSERT_EQUAL_FATAL(rpt_json_parse(text, strlen(text), &j, NULL, 0), RPT_OK);
	rc = rpt_hist_from_json(j, &h);
	CU_ASSERT_EQUAL(rc, want);
	if (rc != want)
		fprintf(stderr, "\n  from_json(%s) = %d, want %d\n", text, rc, want);
	if (want != RPT_OK)
		CU_ASSERT_PTR_NULL(h);
	rpt_json_free(j);
	return h;
}

static void
check_json_round_trip(const struct rpt_hist *h)
{
	struct rpt_hist *back;
	char *text = to_text(h);

	back = from_text(text, RPT_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	assert_same(h, back);
	rpt_hist_free(back);
	free(text);
}

#define BASE "{\"unit\":\"ns\",\"lowest_ns\":1000,\"sub_buckets\":128,\"count\":3," \
	"\"min\":1000,\"max\":2000,\"sum\":4000,\"buckets\":[[0,2],[128,1]]}"

/* BASE with one substring replaced. */
static void
check_rejected(const char *from, const char *to, enum rpt_err want)
{
	char text[512];
	const char *at = strstr(BASE, from);

	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - BASE), BASE, to, at + strlen(from));
	from_text(text, want);
}

static void
test_json(void)
{
	struct rpt_hist *h;
	char *text;
	int i;

	CU_ASSERT_EQUAL_FATAL(rpt_hist_new(&h), RPT_OK);
	text = to_text(h);
	CU_ASSERT_STRING_EQUAL(text, "{\"unit\":\"ns\",\"lowest_ns\":1000,\"sub_buckets\":128,"
	    "\"count\":0,\"min\":0,\"max\":0,\"sum\":0,\"buckets\":[]}");
	free(text);
	check_json_round_trip(h);

	/* The documented layout, exactly. */
	rpt_hist_record(h, 1000);
	rpt_hist_record(h, 1000);
	rpt_hist_record(h, 2000);
	text = to_text(h);
	CU_ASSERT_STRING_EQUAL(text, BASE);
	free(text);
	check_json_round_trip(h);

	/* Real data, and numbers past 2^53 and 2^64 (sum) kept exact. */
	rng_state = 3;
	for (i = 0; i < N_SAMPLES; i++)
		rpt_hist_record(h, sample(WIDE_LOG));
	check_json_round_trip(h);
	rpt_hist_record(h, UINT64_MAX);
	rpt_hist_record_n(h, HOUR_NS, 10000000);
	text = to_text(h);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"max\":\"18446744073709551615\""));
	free(text);
	check_json_round_trip(h);
	rpt_hist_free(h);

	/* A sum past 2^64 keeps the mean exact. */
	CU_ASSERT_EQUAL_FATAL(rpt_hist_new(&h), RPT_OK);
	rpt_hist_record_n(h, UINT64_MAX, 2);
	CU_ASSERT_EQUAL(rpt_hist_mean(h), (double)UINT64_MAX);
	text = to_text(h);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"sum\":\"36893488147419103230\""));
	free(text);
	check_json_round_trip(h);
	rpt_hist_free(h);

	rpt_hist_free(from_text(BASE, RPT_OK));
	/* Accepted only in the form to_json writes, and only if consistent. */
	check_rejected("\"ns\"", "\"us\"", RPT_ERR_PARSE);
	check_rejected("\"ns\"", "1", RPT_ERR_PARSE);
	check_rejected("\"unit\"", "\"units\"", RPT_ERR_NOTFOUND);
	check_rejected("\"lowest_ns\":1000", "\"lowest_ns\":1", RPT_ERR_PARSE);
	check_rejected("\"sub_buckets\":128", "\"sub_buckets\":256", RPT_ERR_PARSE);
	check_rejected("\"count\":3", "\"count\":4", RPT_ERR_PARSE);
	check_rejected("\"count\":3", "\"count\":-3", RPT_ERR_RANGE);
	check_rejected("\"count\":3", "\"count\":3.5", RPT_ERR_RANGE);
	check_rejected("\"count\":3", "\"count\":\"3\"", RPT_ERR_RANGE);
	check_rejected("\"count\":3", "\"count\":\"03\"", RPT_ERR_RANGE);
	check_rejected("\"count\":3", "\"count\":\"x9007199254740993\"", RPT_ERR_TYPE);
	check_rejected("\"count\":3", "\"count\":\"18446744073709551616\"", RPT_ERR_RANGE);
	check_rejected("\"count\":3", "\"count\":true", RPT_ERR_TYPE);
	check_rejected("\"count\":3,", "", RPT_ERR_NOTFOUND);
	check_rejected("\"min\":1000", "\"min\":1500", RPT_ERR_PARSE);    /* not bucket 0 */
	check_rejected("\"min\":1000", "\"min\":2001", RPT_ERR_PARSE);    /* min > max */
	check_rejected("\"max\":2000", "\"max\":1000", RPT_ERR_PARSE);    /* not bucket 128 */
	check_rejected("\"max\":2000", "\"max\":2007", RPT_ERR_PARSE);    /* sum too small */
	check_rejected("\"sum\":4000", "\"sum\":3999", RPT_ERR_PARSE);
	check_rejected("\"sum\":4000", "\"sum\":5001", RPT_ERR_PARSE);
	check_rejected("\"sum\":4000", "\"sum\":-1", RPT_ERR_RANGE);
	check_rejected("[[0,2],[128,1]]", "[[0,2],[4056,1]]", RPT_ERR_RANGE);
	check_rejected("[[0,2],[128,1]]", "[[-1,2],[128,1]]", RPT_ERR_RANGE);
	check_rejected("[[0,2],[128,1]]", "[[0.5,2],[128,1]]", RPT_ERR_RANGE);
	check_rejected("[[0,2],[128,1]]", "[[128,1],[0,2]]", RPT_ERR_PARSE);
	check_rejected("[[0,2],[128,1]]", "[[0,1],[0,1],[128,1]]", RPT_ERR_PARSE);
	check_rejected("[[0,2],[128,1]]", "[[0,2],[64,0],[128,1]]", RPT_ERR_PARSE);
	check_rejected("[[0,2],[128,1]]", "[[0,2],[128,1,0]]", RPT_ERR_TYPE);
	check_rejected("[[0,2],[128,1]]", "[[0,2],{\"128\":1}]", RPT_ERR_TYPE);
	check_rejected("[[0,2],[128,1]]", "{}", RPT_ERR_TYPE);
	check_rejected("[[0,2],[128,1]]", "[[0,2],[128,\"1\"]]", RPT_ERR_RANGE);
	check_rejected("[[0,2],[128,1]]", "[[0,18446744073709551615],[128,1]]", RPT_ERR_RANGE);
	check_rejected("[[0,2],[128,1]]", "[[0,\"18446744073709551615\"],[128,1]]",
	    RPT_ERR_PARSE);   /* counts overflow */
	from_text("{\"unit\":\"ns\",\"lowest_ns\":1000,\"sub_buckets\":128,\"count\":0,"
	    "\"min\":5,\"max\":0,\"sum\":0,\"buckets\":[]}", RPT_ERR_PARSE);
	from_text("{\"unit\":\"ns\",\"lowest_ns\":1000,\"sub_buckets\":128,\"count\":1,"
	    "\"min\":1000,\"max\":1001,\"sum\":1000,\"buckets\":[[0,1]]}", RPT_ERR_PARSE);
	from_text("[]", RPT_ERR_TYPE);
	CU_ASSERT_EQUAL(rpt_hist_from_json(NULL, &h), RPT_ERR_TYPE);
	CU_ASSERT_EQUAL(rpt_hist_new(NULL), RPT_ERR_INVAL);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "uniform 1us..1s vs exact percentiles", test_uniform },
		{ "lognormal vs exact percentiles", test_lognormal },
		{ "exponential vs exact percentiles", test_exponential },
		{ "bimodal vs exact percentiles", test_bimodal },
		{ "log-uniform 1us..1h vs exact percentiles", test_wide },
		{ "every value within its bucket's precision", test_bucket_accuracy },
		{ "empty, below and above the range", test_empty_and_edges },
		{ "percentile ranks are exact", test_percentile_ranks },
		{ "merge of halves equals the whole", test_merge },
		{ "summary", test_summary },
		{ "JSON round trip and validation", test_json },
		{ NULL, NULL },
	};

	return fs_test_main("hist", tests);
}
