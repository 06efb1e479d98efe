/* Transports: how a device's bytes reach the broker. Each is a small ops
 * table registered by name ("tcp" for mqtt://, "tls" for mqtts://), in the
 * way of nng's transports. A transport is set up once per run and then
 * opens one connecting bufferevent per device; TLS shares ONE SSL_CTX. */
#ifndef SIM_TRANSPORT_H
#define SIM_TRANSPORT_H

#include "scenario.h"
#include "sim_err.h"

struct event_base;
struct bufferevent;
struct sim_transport;

struct sim_transport_ops {
	const char *name;
	/* Prepares shared state (TLS context) for target t. */
	enum sim_err (*init)(struct sim_transport *tp, const struct sim_target *t, struct sim_diag *d);
	void (*fini)(struct sim_transport *tp);
	/* A new bufferevent connecting to the broker; NULL if out of
	 * descriptors or memory (errno says which). */
	struct bufferevent *(*open)(struct sim_transport *tp, struct event_base *base);
};

/* Finds the transport for target t (by its URL scheme), resolves the
 * broker's address once and initializes it. SIM_ERR_INFRA when the host
 * does not resolve, SIM_ERR_TLS when the TLS files cannot be loaded; d
 * says why. The caller owns *out: sim_transport_free. */
enum sim_err sim_transport_new(const struct sim_target *t, struct sim_transport **out,
    struct sim_diag *d);
void sim_transport_free(struct sim_transport *tp);

struct bufferevent *sim_transport_open(struct sim_transport *tp, struct event_base *base);
const char *sim_transport_name(const struct sim_transport *tp);

#endif
