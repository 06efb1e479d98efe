/* report.json: built from the run's numbers, then judged. The same builder
 * makes a zeroed skeleton before the run, so assertion paths are checked
 * against exactly the document they will be evaluated on. */
#ifndef SIM_REPORT_H
#define SIM_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "fleet.h"
#include "json.h"
#include "rr.h"
#include "series.h"
#include "scenario.h"
#include "sim_err.h"
#include "telemetry.h"
#include "tpc.h"
#include "verdict.h"

/* Everything the report is made of; borrowed for the call. */
struct sim_report_in {
	const struct sim_scenario *sc;
	const char *broker_url;
	bool embedded_broker;
	time_t started_at;
	double duration_s;          /* wall time from start to the end of the drain */
	double send_s;              /* how long telemetry was sent (the pattern window) */
	bool partial;
	const struct sim_tm_checker *chk;   /* NULL: zeros (the skeleton) */
	const struct sim_fleet_stats *fleet; /* NULL: zeros */
	uint64_t consumer_reconnects;
	uint64_t consumer_decode_errors;
	unsigned consumer_connections;
	const char *consumer_last_error;
	const struct rpt_series *series;    /* telemetry per second; NULL: none */
	/* Request-response trackers by enum sim_rr_dir; NULL: zeros if the
	 * scenario has that direction. */
	const struct sim_rr *rr[2];
	const struct sim_rr_opts *rr_opts[2];
	/* Two-phase commit (finished); NULL: zeros if the scenario has it. */
	const struct sim_tpc *tpc;
	const struct rpt_series *tpc_series;    /* transactions per second; NULL: none */
};

/* Builds the report without verdict, checks or assertions. NULL on NOMEM. */
struct rpt_json *sim_report_build(const struct sim_report_in *in);

/* Adds "checks" (built-in correctness invariants), "assertions" and
 * "verdict" to r, replacing any already there. *pass is true when every
 * check and assertion passed. Needs only the report: each group's qos and
 * clean_session are read from patterns.telemetry.by_group, so a report
 * read back from disk (a merged one) is judged exactly like a run's. as
 * (nas of them) is borrowed. */
enum sim_err sim_report_judge_asserts(struct rpt_json *r, const struct rpt_assertion *as,
    size_t nas, bool *pass);
/* sim_report_judge_asserts with the scenario's assertions. */
enum sim_err sim_report_judge(struct rpt_json *r, const struct sim_scenario *sc, bool *pass);

/* Checks that every assertion path names a number in the report, giving
 * "FILE:LINE:COLUMN: ..." for the first that does not. */
enum sim_err sim_report_check_paths(const struct sim_scenario *sc, struct sim_diag *d);

/* Prints the human summary of a judged report. */
void sim_report_print(FILE *f, const struct rpt_json *r, const char *path);

#endif
