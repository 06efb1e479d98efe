/* Merging shard reports: several report.json trees from shards of one
 * scenario (each running part of the fleet, usually at the same time
 * against one broker) become the report the whole fleet would have
 * produced, judged again.
 *
 * - Counts add: patterns.*, by_group.* (qos and clean_session are taken
 *   from the first report), devices.*, broker.consumer_*; so does
 *   throughput_per_s, since shards run concurrently. A number with "max"
 *   as a word of its name (in_doubt_max_ms) is the largest instead.
 * - Histograms merge exactly: patterns.*.latency_ms and devices.connect_ms
 *   are recomputed from the merged latency_histogram / connect_histogram,
 *   so percentiles are those of the union, not averages; a latency_ms of
 *   several summaries by name (two_phase_commit's prepare, decide and
 *   complete) from latency_histograms, the histograms by the same names.
 *   A report without a histogram falls back to an approximation (count and
 *   min exact, mean weighted by count, percentiles and max the largest
 *   shard's: an upper bound) and says so in "notes".
 * - patterns.two_phase_commit: every shard ran its own coordinator over
 *   its own devices, so violation_list is the shards' lists one after the
 *   other, each entry with "shard" (its report's 1-based position), capped
 *   at SIM_TPC_JSON_MAX_VIOLATIONS as a run's is (the counts say how
 *   many); "coordinator" is the shards' if they agree, else "mixed".
 * - Time series align by their "t" column (the wall-clock second): rows
 *   with equal t add (columns with the word "max" take the maximum,
 *   starting "min" the minimum). Per-second percentiles (other "_ms" columns) cannot be merged
 *   from summaries: they are kept when only one shard had latency in that
 *   second (then it is the union's) and null otherwise. Rows of other
 *   seconds are kept as they are.
 * - started_at is the earliest, duration_s the longest, partial true if
 *   any shard was partial, all_connected_after_s the latest (null if any
 *   is null); strings (scenario, urls, last errors) come from the first
 *   report that has them.
 * - The checks are recomputed from the merged numbers and the first
 *   report's assertions (assertions[].expr) re-parsed and re-evaluated,
 *   so an assertion each shard passed may fail on the total.
 *
 * The merged report adds "shards" (N), "merged_from" (left empty here:
 * the caller, who knows where the reports came from, fills it) and
 * "notes" (strings; what was approximated). */
#ifndef SIM_MERGE_H
#define SIM_MERGE_H

#include <stddef.h>

#include "json.h"
#include "sim_err.h"

/* Merges in[0..n-1] (borrowed) into *out, which the caller owns
 * (rpt_json_free); its "verdict" says whether it passed. Fails with
 * SIM_ERR_SCENARIO (d says why, naming reports by their 1-based position)
 * when n is 0, a tree is not a fleetsim report (schema_version 1 with a
 * scenario.name), the scenario names differ, a histogram is inconsistent
 * or an assertion does not parse; SIM_ERR_NOMEM when out of memory. */
enum sim_err sim_merge_reports(const struct rpt_json *const *in, size_t n,
    struct rpt_json **out, struct sim_diag *d);

#endif
