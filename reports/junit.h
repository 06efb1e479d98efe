/* JUnit XML from a judged report.json tree, so CI systems (Jenkins, GitLab,
 * GitHub test reporters) can show fleetsim's checks and assertions as tests.
 *
 * The output is one <testsuites> holding one <testsuite> named after the
 * scenario, with one <testcase> per built-in check (named after the check)
 * and one per assertion (named by its expression), all with classname
 * "fleetsim.SCENARIO". It validates against tests/junit/junit.xsd, a subset
 * of the Jenkins junit-10 / Ant schema. */
#ifndef RPT_JUNIT_H
#define RPT_JUNIT_H

#include "json.h"
#include "rpt_err.h"

/* Writes the JUnit XML for report to path atomically (temp file + rename).
 * report is the tree after judging: missing keys are tolerated (a check
 * without "pass" counts as failed), but it must be an object. */
enum rpt_err rpt_junit_write(const char *path, const struct rpt_json *report);

/* The same XML into a malloc'd NUL-terminated string the caller frees. */
enum rpt_err rpt_junit_dump(const struct rpt_json *report, char **out);

#endif
