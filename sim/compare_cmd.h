/* `fleetsim compare`: the perf gate between two report.json files. */
#ifndef SIM_COMPARE_CMD_H
#define SIM_COMPARE_CMD_H

/* Takes main's argc/argv as they are (argv[1] is "compare"), prints the
 * table to stdout and errors to stderr, and returns the exit code: 0 no
 * regression, 1 at least one, 2 usage error or an unreadable report,
 * 3 out of memory or stdout unwritable. */
int sim_compare_main(int argc, char **argv);

#endif
