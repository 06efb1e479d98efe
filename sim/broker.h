/* The embedded broker: a Mosquitto child process on loopback, with a
 * generated configuration in a private temporary folder. fleetsim uses it
 * when no target is given; tests use it to get a real broker on a free port. */
#ifndef SIM_BROKER_H
#define SIM_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#include "sim_err.h"

struct sim_broker;

struct sim_broker_opts {
	uint16_t port;              /* 0 = pick a free port on 127.0.0.1 */
	bool persistence;           /* keep sessions and queued messages across restarts */
	/* Optional TLS listener (in addition to nothing: when set, the only
	 * listener is TLS). Paths to PEM files. */
	const char *tls_ca, *tls_cert, *tls_key;
	bool tls_require_client_cert;
	const char *mosquitto;      /* executable; NULL = "mosquitto" from PATH */
};

/* Starts mosquitto and waits (up to 10 s) until it accepts connections.
 * SIM_ERR_INFRA when mosquitto is missing or fails to start (d says why,
 * with the tail of its log). The broker is owned by the caller:
 * sim_broker_free stops it and removes its folder. */
enum sim_err sim_broker_start(const struct sim_broker_opts *o, struct sim_broker **out,
    struct sim_diag *d);

uint16_t sim_broker_port(const struct sim_broker *b);
/* "mqtt://127.0.0.1:PORT" or "mqtts://localhost:PORT"; owned by b. */
const char *sim_broker_url(const struct sim_broker *b);
/* The private folder: mosquitto.conf, mosquitto.log, stderr.log and, with
 * persistence, mosquitto.db. Owned by b; for diagnostics and tests. */
const char *sim_broker_dir(const struct sim_broker *b);
/* The process id, or -1 when stopped. */
int sim_broker_pid(const struct sim_broker *b);

/* Stops with SIGTERM (a graceful stop: persistence is written) and waits;
 * SIGKILL after 5 s. The folder is kept for sim_broker_restart. */
enum sim_err sim_broker_stop(struct sim_broker *b);
/* Starts again on the same port with the same folder. */
enum sim_err sim_broker_restart(struct sim_broker *b, struct sim_diag *d);

/* Stops if running and removes the folder. NULL is allowed. */
void sim_broker_free(struct sim_broker *b);

/* Stops every broker still running and removes their folders; safe to call
 * from a signal handler or atexit. */
void sim_broker_cleanup_all(void);

#endif
