/* Error codes shared by every sim_ module. */
#ifndef SIM_ERR_H
#define SIM_ERR_H

#include <stddef.h>

/* Every fallible sim_ function returns one of these; 0 is success. The
 * classes map onto the CLI's exit codes (see sim_err_exit_code). */
enum sim_err {
	SIM_OK = 0,
	SIM_ERR_NOMEM,     /* allocation failed */
	SIM_ERR_INVAL,     /* bad argument from the caller (a bug, not user input) */
	SIM_ERR_SCENARIO,  /* user input rejected: scenario, --set, CLI usage */
	SIM_ERR_IO,        /* file or socket I/O failed */
	SIM_ERR_PROTO,     /* the peer broke the MQTT protocol, or a packet is malformed */
	SIM_ERR_TOOBIG,    /* a packet or field is larger than allowed */
	SIM_ERR_AGAIN,     /* not enough input yet; call again with more bytes */
	SIM_ERR_NOTCONN,   /* operation needs a connection that is not up */
	SIM_ERR_FULL,      /* a bounded queue or window is full */
	SIM_ERR_INFRA,     /* infrastructure: broker unreachable, TLS, fd limit, mosquitto missing */
	SIM_ERR_TLS,       /* TLS set-up or verification failed */
	SIM_ERR_REFUSED,   /* the broker refused the connection (CONNACK reason != 0) */
};

/* A short English name for an error code; never NULL. */
const char *sim_err_str(enum sim_err e);

/* Diagnostics for the user. Loaders fill msg with "FILE:LINE:COLUMN: what
 * was expected"; runtime failures with a sentence naming the cause. */
struct sim_diag {
	char msg[1024];
};

/* Formats into d->msg (printf-style); a NULL d is allowed and ignored. */
void sim_diag_set(struct sim_diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
