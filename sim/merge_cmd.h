/* `fleetsim merge`: shard reports into one report folder, judged again.
 * The merging itself is sim_merge_reports (merge.h); this is the files
 * and the command line around it. */
#ifndef SIM_MERGE_CMD_H
#define SIM_MERGE_CMD_H

/* Takes main's argc/argv as they are (argv[1] is "merge"): OUT_DIR then
 * one or more REPORT_DIRs (each a folder holding report.json, or a
 * report.json itself). Writes OUT_DIR/report.json, junit.xml, report.html
 * and timeseries.csv, prints the summary (unless --quiet) and returns the
 * exit code: 0 the merged report passed, 1 it failed, 2 usage error or an
 * unreadable, foreign or mismatched report (the message is
 * "FILE:LINE:COLUMN: ..." for bad JSON), 3 out of memory or OUT_DIR
 * unwritable. */
int sim_merge_main(int argc, char **argv);

#endif
