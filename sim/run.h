/* One run of a scenario, from validation to the report; the CLI's verbs. */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include <stdbool.h>

#include "scenario.h"

/* The process exit codes, as documented in the README. */
enum sim_exit {
	SIM_EXIT_PASS = 0,          /* the run passed */
	SIM_EXIT_FAIL = 1,          /* it ran, but a check or an assertion failed */
	SIM_EXIT_USAGE = 2,         /* usage or scenario error; nothing ran */
	SIM_EXIT_INFRA = 3,         /* broker unreachable, TLS, fd limit, mosquitto missing */
};

struct sim_run_opts {
	const char *scenario;       /* path */
	struct sim_overrides ov;
	bool quiet;                 /* no progress line, no summary */
	const char *metrics_addr;   /* --metrics HOST:PORT; NULL = no endpoint */
	const char *trace_path;     /* --trace FILE; NULL = none */
	const char *history_path;   /* --history FILE: two-phase commit's history; NULL = none */
};

/* `fleetsim run`: returns the exit code. */
enum sim_exit sim_run(const struct sim_run_opts *o);

/* `fleetsim models`: lists the models found, a line each. */
enum sim_exit sim_models(void);

/* `fleetsim validate`: loads and checks everything, connects nothing; a
 * model file (top-level model:) is checked on its own. */
enum sim_exit sim_validate(const struct sim_run_opts *o);

#endif
