#include "sim_err.h"

#include <stdarg.h>
#include <stdio.h>

const char *
sim_err_str(enum sim_err e)
{
	switch (e) {
	case SIM_OK: return "ok";
	case SIM_ERR_NOMEM: return "out of memory";
	case SIM_ERR_INVAL: return "invalid argument";
	case SIM_ERR_SCENARIO: return "scenario error";
	case SIM_ERR_IO: return "I/O error";
	case SIM_ERR_PROTO: return "protocol error";
	case SIM_ERR_TOOBIG: return "too big";
	case SIM_ERR_AGAIN: return "need more data";
	case SIM_ERR_NOTCONN: return "not connected";
	case SIM_ERR_FULL: return "queue full";
	case SIM_ERR_INFRA: return "infrastructure failure";
	case SIM_ERR_TLS: return "TLS failure";
	case SIM_ERR_REFUSED: return "connection refused by broker";
	}
	return "unknown error";
}

void
sim_diag_set(struct sim_diag *d, const char *fmt, ...)
{
	va_list ap;

	if (d == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
}
