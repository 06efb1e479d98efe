/* Helpers for integration tests: temp folders, scenario files, running the
 * fleetsim binary with a time limit, and reading its report. */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include "fs_test.h"
#include "json.h"

/* A fresh folder under $TMPDIR (or /tmp), removed by th_cleanup. The
 * returned string is owned by the harness. */
const char *th_tmpdir(void);

/* Writes text to DIR/name and returns the path (static buffer, copy it). */
const char *th_write(const char *dir, const char *name, const char *text);

/* Runs fleetsim with argv (NULL-terminated, without argv[0]), its stdout
 * and stderr into DIR/fleetsim.out. Kills it after timeout_s. Returns the
 * exit code, or -1 if it was killed or died by a signal. */
int th_fleetsim(const char *dir, int timeout_s, const char *const *argv);

/* Starts fleetsim like th_fleetsim but returns at once with its pid. */
int th_fleetsim_spawn(const char *dir, const char *const *argv);
/* Starts prog (looked up on PATH unless it has a '/') with argv
 * (NULL-terminated, without argv[0]), its stdout and stderr into
 * DIR/out_name; returns at once with its pid. */
int th_spawn(const char *dir, const char *out_name, const char *prog, const char *const *argv);
/* Waits for a spawned fleetsim, up to timeout_s; exit code or -1. */
int th_wait(int pid, int timeout_s);

/* The text of DIR/fleetsim.out (static buffer). */
const char *th_output(const char *dir);

/* Parses DIR/report.json; NULL (and a CUnit failure) if it is missing. */
struct rpt_json *th_report(const char *dir);

/* The number at a dot path in a report; NaN if absent. */
double th_num(const struct rpt_json *r, const char *path);

/* 1 if the report's built-in check name passed, 0 if it failed, -1 if
 * there is none. */
int th_check_passed(const struct rpt_json *r, const char *name);

/* Runs a shell command; returns its exit status or -1. */
int th_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* fs_test_main for integration tests: also ignores SIGPIPE and, after the
 * run, stops leftover brokers and removes the th_tmpdir folders. */
int th_main(const char *suite, const struct fs_test *tests);

#endif
