/* Latency histograms: log-linear buckets (HDR style) from 1 us to 1 h with
 * a relative error of at most 1%, recording in O(1) without allocation, and
 * mergeable exactly, so shards' histograms add up to the whole fleet's. */
#ifndef RPT_HIST_H
#define RPT_HIST_H

#include <stdint.h>

#include "json.h"
#include "rpt_err.h"

struct rpt_hist;

/* The returned histogram is empty; free it with rpt_hist_free. */
enum rpt_err rpt_hist_new(struct rpt_hist **out);
void rpt_hist_free(struct rpt_hist *h);
void rpt_hist_reset(struct rpt_hist *h);

/* Records a value in nanoseconds. Values below 1 us land in the lowest
 * bucket and above 1 h in the highest, but min, max and mean stay exact. */
void rpt_hist_record(struct rpt_hist *h, uint64_t ns);
void rpt_hist_record_n(struct rpt_hist *h, uint64_t ns, uint64_t count);

/* Adds src's counts into dst. Exact: merging then querying equals recording
 * every value into one histogram. */
void rpt_hist_merge(struct rpt_hist *dst, const struct rpt_hist *src);

uint64_t rpt_hist_count(const struct rpt_hist *h);
uint64_t rpt_hist_min(const struct rpt_hist *h);   /* 0 when empty */
uint64_t rpt_hist_max(const struct rpt_hist *h);   /* 0 when empty */
double rpt_hist_mean(const struct rpt_hist *h);    /* 0 when empty */
/* The value at percentile p (0..100): the smallest recorded bucket whose
 * cumulative count reaches ceil(p/100 * count), reported as that bucket's
 * midpoint clamped to [min, max]; 0 when empty. */
uint64_t rpt_hist_percentile(const struct rpt_hist *h, double p);

/* {"count","min","mean","p50","p90","p99","p999","max"} with every value
 * divided by unit_ns (1e6 gives milliseconds). NULL on NOMEM. */
struct rpt_json *rpt_hist_summary(const struct rpt_hist *h, double unit_ns);

/* Exact serialization: {"unit":"ns","lowest_ns":1000,"sub_buckets":N,
 * "count":C,"min":..,"max":..,"sum":..,"buckets":[[index,count],...]}
 * with only non-empty buckets. rpt_hist_from_json accepts what
 * rpt_hist_to_json wrote and rejects anything inconsistent. */
struct rpt_json *rpt_hist_to_json(const struct rpt_hist *h);
enum rpt_err rpt_hist_from_json(const struct rpt_json *j, struct rpt_hist **out);

#endif
