#include "hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Bucket layout. Values in [2^k, 2^(k+1)) are split into SUB_BUCKETS equal
 * buckets of width 2^(k - SUB_BITS), so a bucket's midpoint is within
 * 1/(2 * SUB_BUCKETS) = 0.39% of any value in it. Index 0 is the bucket
 * holding LOWEST_NS and the last one holds HIGHEST_NS; values outside are
 * clamped into them. */
#define SUB_BITS    7
#define SUB_BUCKETS (1u << SUB_BITS)
#define LOWEST_NS   1000ULL
#define HIGHEST_NS  3600000000000ULL

/* Exact integers survive a trip through a JSON number up to 2^53. */
#define JSON_INT_MAX 9007199254740992.0

typedef unsigned __int128 u128;

struct rpt_hist {
	uint64_t count;
	uint64_t min, max;
	u128 sum;           /* 2^64 ns is only 584 years: sums need more */
	uint64_t *counts;   /* NBUCKETS */
};

/* The unclamped position of v in the log-linear layout, counting from
 * the bucket of value 2^SUB_BITS. */
static unsigned
raw_index(uint64_t v)
{
	unsigned k = 63u - (unsigned)__builtin_clzll(v);

	return (k - SUB_BITS) * SUB_BUCKETS + (unsigned)(v >> (k - SUB_BITS)) - SUB_BUCKETS;
}

#define FIRST_RAW  raw_index(LOWEST_NS)
#define NBUCKETS   (raw_index(HIGHEST_NS) - FIRST_RAW + 1)

static unsigned
bucket_of(uint64_t v)
{
	if (v < LOWEST_NS)
		v = LOWEST_NS;
	else if (v > HIGHEST_NS)
		v = HIGHEST_NS;
	return raw_index(v) - FIRST_RAW;
}

static uint64_t
bucket_mid(unsigned i)
{
	unsigned raw = i + FIRST_RAW;
	unsigned k = raw / SUB_BUCKETS + SUB_BITS;
	uint64_t sub = raw % SUB_BUCKETS + SUB_BUCKETS;
	unsigned shift = k - SUB_BITS;

	return (sub << shift) + ((1ULL << shift) >> 1);
}

enum rpt_err
rpt_hist_new(struct rpt_hist **out)
{
	struct rpt_hist *h;

	if (out == NULL)
		return RPT_ERR_INVAL;
	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return RPT_ERR_NOMEM;
	if ((h->counts = calloc(NBUCKETS, sizeof(*h->counts))) == NULL) {
		free(h);
		return RPT_ERR_NOMEM;
	}
	*out = h;
	return RPT_OK;
}

void
rpt_hist_free(struct rpt_hist *h)
{
	if (h == NULL)
		return;
	free(h->counts);
	free(h);
}

void
rpt_hist_reset(struct rpt_hist *h)
{
	if (h == NULL)
		return;
	memset(h->counts, 0, NBUCKETS * sizeof(*h->counts));
	h->count = 0;
	h->min = h->max = 0;
	h->sum = 0;
}

void
rpt_hist_record_n(struct rpt_hist *h, uint64_t ns, uint64_t count)
{
	if (h == NULL || count == 0)
		return;
	if (h->count == 0 || ns < h->min)
		h->min = ns;
	if (h->count == 0 || ns > h->max)
		h->max = ns;
	h->counts[bucket_of(ns)] += count;
	h->count += count;
	h->sum += (u128)ns * count;
}

void
rpt_hist_record(struct rpt_hist *h, uint64_t ns)
{
	rpt_hist_record_n(h, ns, 1);
}

void
rpt_hist_merge(struct rpt_hist *dst, const struct rpt_hist *src)
{
	unsigned i;

	if (dst == NULL || src == NULL || src->count == 0)
		return;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (dst->count == 0 || src->max > dst->max)
		dst->max = src->max;
	for (i = 0; i < NBUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->count += src->count;
	dst->sum += src->sum;
}

uint64_t
rpt_hist_count(const struct rpt_hist *h)
{
	return h != NULL ? h->count : 0;
}

uint64_t
rpt_hist_min(const struct rpt_hist *h)
{
	return h != NULL ? h->min : 0;
}

uint64_t
rpt_hist_max(const struct rpt_hist *h)
{
	return h != NULL ? h->max : 0;
}

double
rpt_hist_mean(const struct rpt_hist *h)
{
	if (h == NULL || h->count == 0)
		return 0;
	return (double)((long double)h->sum / (long double)h->count);
}

uint64_t
rpt_hist_percentile(const struct rpt_hist *h, double p)
{
	uint64_t pm, rank, cum = 0, v;
	const uint64_t scale = 100000000; /* 100% in millionths of a percent */
	unsigned i;

	if (h == NULL || h->count == 0)
		return 0;
	if (!(p > 0))
		p = 0;
	if (p > 100)
		p = 100;
	/* The rank in exact integers: p*count/100 in floating point turns
	 * 99 * 100 / 100 into 99.00000000000001 and ceil then overshoots.
	 * p is taken to a millionth of a percent. */
	pm = (uint64_t)llround(p * 1e6);
	rank = h->count / scale * pm + (h->count % scale * pm + scale - 1) / scale;
	if (rank == 0)
		rank = 1;
	for (i = 0; i < NBUCKETS; i++) {
		cum += h->counts[i];
		if (cum >= rank)
			break;
	}
	if (i == NBUCKETS)
		i = NBUCKETS - 1;
	v = bucket_mid(i);
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}

struct rpt_json *
rpt_hist_summary(const struct rpt_hist *h, double unit_ns)
{
	static const struct {
		const char *key;
		double p;
	} pcts[] = {
		{ "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p999", 99.9 },
	};
	struct rpt_json *j = NULL;
	enum rpt_err rc = RPT_OK;
	size_t i;

	if (h == NULL || !(unit_ns > 0))
		return NULL;
	if ((j = rpt_json_object()) == NULL)
		return NULL;
	if ((rc = rpt_json_set_num(j, "count", (double)h->count)) != RPT_OK ||
	    (rc = rpt_json_set_num(j, "min", (double)h->min / unit_ns)) != RPT_OK ||
	    (rc = rpt_json_set_num(j, "mean", rpt_hist_mean(h) / unit_ns)) != RPT_OK)
		goto out;
	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		if ((rc = rpt_json_set_num(j, pcts[i].key,
		    (double)rpt_hist_percentile(h, pcts[i].p) / unit_ns)) != RPT_OK)
			goto out;
	rc = rpt_json_set_num(j, "max", (double)h->max / unit_ns);
out:
	if (rc != RPT_OK) {
		rpt_json_free(j);
		j = NULL;
	}
	return j;
}

/* Integers above 2^53 would lose digits as JSON numbers, so they are
 * written as decimal strings; small ones stay plain numbers. */
static struct rpt_json *
u128_json(u128 v)
{
	char buf[48], *p = buf + sizeof(buf) - 1;

	if (v <= (u128)JSON_INT_MAX)
		return rpt_json_number((double)v);
	*p = '\0';
	do {
		*--p = (char)('0' + (unsigned)(v % 10));
		v /= 10;
	} while (v != 0);
	return rpt_json_string(p);
}

static enum rpt_err
json_u128(const struct rpt_json *j, u128 max, u128 *out)
{
	const char *s;
	double d;
	u128 v = 0;

	if (j == NULL)
		return RPT_ERR_NOTFOUND;
	if (rpt_json_type(j) == RPT_JSON_NUMBER) {
		d = rpt_json_num(j);
		if (!(d >= 0) || d > JSON_INT_MAX || d != floor(d))
			return RPT_ERR_RANGE;
		v = (u128)d;
	} else if (rpt_json_type(j) == RPT_JSON_STRING) {
		s = rpt_json_str(j);
		/* Only what u128_json writes: no sign, no leading zero. */
		if (*s == '\0' || *s == '0')
			return RPT_ERR_RANGE;
		for (; *s != '\0'; s++) {
			if (*s < '0' || *s > '9')
				return RPT_ERR_TYPE;
			if (v > (max - (u128)(*s - '0')) / 10)
				return RPT_ERR_RANGE;
			v = v * 10 + (u128)(*s - '0');
		}
		if (v <= (u128)JSON_INT_MAX)
			return RPT_ERR_RANGE;
	} else {
		return RPT_ERR_TYPE;
	}
	if (v > max)
		return RPT_ERR_RANGE;
	*out = v;
	return RPT_OK;
}

static enum rpt_err
get_u64(const struct rpt_json *obj, const char *key, uint64_t *out)
{
	enum rpt_err rc;
	u128 v;

	if ((rc = json_u128(rpt_json_get(obj, key), UINT64_MAX, &v)) == RPT_OK)
		*out = (uint64_t)v;
	return rc;
}

struct rpt_json *
rpt_hist_to_json(const struct rpt_hist *h)
{
	struct rpt_json *j = NULL, *buckets = NULL, *pair;
	enum rpt_err rc = RPT_OK;
	unsigned i;

	if (h == NULL || (j = rpt_json_object()) == NULL)
		return NULL;
	if ((rc = rpt_json_set_str(j, "unit", "ns")) != RPT_OK ||
	    (rc = rpt_json_set_num(j, "lowest_ns", (double)LOWEST_NS)) != RPT_OK ||
	    (rc = rpt_json_set_num(j, "sub_buckets", SUB_BUCKETS)) != RPT_OK ||
	    (rc = rpt_json_set(j, "count", u128_json(h->count))) != RPT_OK ||
	    (rc = rpt_json_set(j, "min", u128_json(h->min))) != RPT_OK ||
	    (rc = rpt_json_set(j, "max", u128_json(h->max))) != RPT_OK ||
	    (rc = rpt_json_set(j, "sum", u128_json(h->sum))) != RPT_OK ||
	    (rc = rpt_json_set(j, "buckets", buckets = rpt_json_array())) != RPT_OK)
		goto out;
	for (i = 0; i < NBUCKETS; i++) {
		if (h->counts[i] == 0)
			continue;
		if ((rc = rpt_json_push(buckets, pair = rpt_json_array())) != RPT_OK ||
		    (rc = rpt_json_push(pair, rpt_json_number(i))) != RPT_OK ||
		    (rc = rpt_json_push(pair, u128_json(h->counts[i]))) != RPT_OK)
			goto out;
	}
out:
	if (rc != RPT_OK) {
		rpt_json_free(j);
		j = NULL;
	}
	return j;
}

enum rpt_err
rpt_hist_from_json(const struct rpt_json *j, struct rpt_hist **out)
{
	const struct rpt_json *buckets, *pair, *unit;
	struct rpt_hist *h = NULL;
	uint64_t lowest, sub, idx, n, total = 0;
	enum rpt_err rc;
	u128 sum;
	size_t i;
	long first = -1, prev = -1;

	if (out == NULL)
		return RPT_ERR_INVAL;
	*out = NULL;
	if (rpt_json_type(j) != RPT_JSON_OBJECT)
		return RPT_ERR_TYPE;
	if ((rc = rpt_hist_new(&h)) != RPT_OK)
		return rc;

	/* A histogram with another layout cannot be merged bucket by bucket. */
	if ((unit = rpt_json_get(j, "unit")) == NULL) {
		rc = RPT_ERR_NOTFOUND;
		goto out;
	}
	if (rpt_json_str(unit) == NULL || strcmp(rpt_json_str(unit), "ns") != 0) {
		rc = RPT_ERR_PARSE;
		goto out;
	}
	if ((rc = get_u64(j, "lowest_ns", &lowest)) != RPT_OK ||
	    (rc = get_u64(j, "sub_buckets", &sub)) != RPT_OK)
		goto out;
	if (lowest != LOWEST_NS || sub != SUB_BUCKETS) {
		rc = RPT_ERR_PARSE;
		goto out;
	}
	if ((rc = get_u64(j, "count", &h->count)) != RPT_OK ||
	    (rc = get_u64(j, "min", &h->min)) != RPT_OK ||
	    (rc = get_u64(j, "max", &h->max)) != RPT_OK ||
	    (rc = json_u128(rpt_json_get(j, "sum"), ~(u128)0, &h->sum)) != RPT_OK)
		goto out;
	if ((buckets = rpt_json_get(j, "buckets")) == NULL) {
		rc = RPT_ERR_NOTFOUND;
		goto out;
	}
	if (rpt_json_type(buckets) != RPT_JSON_ARRAY) {
		rc = RPT_ERR_TYPE;
		goto out;
	}
	for (i = 0; i < rpt_json_len(buckets); i++) {
		u128 v;

		pair = rpt_json_at(buckets, i);
		if (rpt_json_type(pair) != RPT_JSON_ARRAY || rpt_json_len(pair) != 2) {
			rc = RPT_ERR_TYPE;
			goto out;
		}
		if ((rc = json_u128(rpt_json_at(pair, 0), NBUCKETS - 1, &v)) != RPT_OK)
			goto out;
		idx = (uint64_t)v;
		if ((rc = json_u128(rpt_json_at(pair, 1), UINT64_MAX, &v)) != RPT_OK)
			goto out;
		n = (uint64_t)v;
		/* Strictly increasing and non-empty: what to_json writes, and
		 * so no bucket is given twice. */
		if ((long)idx <= prev || n == 0 || n > UINT64_MAX - total) {
			rc = RPT_ERR_PARSE;
			goto out;
		}
		if (first < 0)
			first = (long)idx;
		prev = (long)idx;
		h->counts[idx] = n;
		total += n;
	}
	/* The totals must agree with the buckets, or percentiles and the mean
	 * would tell different stories. */
	rc = RPT_ERR_PARSE;
	if (total != h->count)
		goto out;
	if (h->count == 0) {
		if (h->min != 0 || h->max != 0 || h->sum != 0)
			goto out;
	} else {
		if (h->min > h->max || bucket_of(h->min) != (unsigned)first ||
		    bucket_of(h->max) != (unsigned)prev)
			goto out;
		sum = h->sum;
		if (sum < (u128)h->min * h->count || sum > (u128)h->max * h->count)
			goto out;
		/* One value at min and one at max when there are two or more. */
		if (h->count >= 2 && (sum < (u128)h->min * (h->count - 1) + h->max ||
		    sum > (u128)h->max * (h->count - 1) + h->min))
			goto out;
		if (h->count == 1 && h->min != h->max)
			goto out;
	}
	rc = RPT_OK;
out:
	if (rc != RPT_OK)
		rpt_hist_free(h);
	else
		*out = h;
	return rc;
}
