#include "transport.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct sim_transport {
	const struct sim_transport_ops *ops;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char *host;
	bool host_is_ip;
	bool verify;
	SSL_CTX *ctx;
};

static void
set_nodelay(struct bufferevent *bev)
{
	int one = 1;
	evutil_socket_t fd = bufferevent_getfd(bev);

	/* Telemetry is many small writes; Nagle would add up to 40 ms each. */
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Starts connecting bev (plain or TLS) to the broker; frees it on
 * failure, keeping errno. */
static struct bufferevent *
start_connect(struct sim_transport *tp, struct bufferevent *bev)
{
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&tp->addr, (int)tp->addrlen) != 0) {
		int e = errno;

		bufferevent_free(bev);
		errno = e;
		return NULL;
	}
	set_nodelay(bev);
	return bev;
}

static enum sim_err
tcp_init(struct sim_transport *tp, const struct sim_target *t, struct sim_diag *d)
{
	return SIM_OK;
}

static void
tcp_fini(struct sim_transport *tp)
{
}

static struct bufferevent *
tcp_open(struct sim_transport *tp, struct event_base *base)
{
	struct bufferevent *bev;

	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return NULL;
	return start_connect(tp, bev);
}

static const struct sim_transport_ops tcp_ops = {
	.name = "tcp",
	.init = tcp_init,
	.fini = tcp_fini,
	.open = tcp_open,
};

static void
ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "unknown OpenSSL error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
}

static enum sim_err
tls_init(struct sim_transport *tp, const struct sim_target *t, struct sim_diag *d)
{
	const struct sim_tls_cfg *c = &t->tls_cfg;
	char why[256];
	enum sim_err rv = SIM_ERR_TLS;

	tp->ctx = SSL_CTX_new(TLS_client_method());
	if (tp->ctx == NULL) {
		ssl_reason(why, sizeof(why));
		sim_diag_set(d, "TLS: cannot create a context: %s", why);
		goto out;
	}
	SSL_CTX_set_min_proto_version(tp->ctx, TLS1_2_VERSION);
	tp->verify = c->verify;
	if (c->verify)
		SSL_CTX_set_verify(tp->ctx, SSL_VERIFY_PEER, NULL);
	if (c->ca != NULL) {
		if (SSL_CTX_load_verify_locations(tp->ctx, c->ca, NULL) != 1) {
			ssl_reason(why, sizeof(why));
			sim_diag_set(d, "TLS: cannot load CA file %s: %s", c->ca, why);
			goto out;
		}
	} else if (SSL_CTX_set_default_verify_paths(tp->ctx) != 1) {
		ssl_reason(why, sizeof(why));
		sim_diag_set(d, "TLS: cannot load the system CA store: %s", why);
		goto out;
	}
	if (c->cert != NULL) {
		if (SSL_CTX_use_certificate_chain_file(tp->ctx, c->cert) != 1) {
			ssl_reason(why, sizeof(why));
			sim_diag_set(d, "TLS: cannot load client certificate %s: %s", c->cert, why);
			goto out;
		}
		if (SSL_CTX_use_PrivateKey_file(tp->ctx, c->key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(tp->ctx) != 1) {
			ssl_reason(why, sizeof(why));
			sim_diag_set(d, "TLS: cannot load client key %s: %s", c->key, why);
			goto out;
		}
	}
	rv = SIM_OK;
out:
	return rv;
}

static void
tls_fini(struct sim_transport *tp)
{
	SSL_CTX_free(tp->ctx);
	tp->ctx = NULL;
}

static struct bufferevent *
tls_open(struct sim_transport *tp, struct event_base *base)
{
	struct bufferevent *bev;
	SSL *ssl;

	ssl = SSL_new(tp->ctx);
	if (ssl == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (!tp->host_is_ip)
		SSL_set_tlsext_host_name(ssl, tp->host);
	if (tp->verify) {
		/* The host name (or IP) in the URL must match the certificate. */
		if (tp->host_is_ip)
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), tp->host);
		else
			SSL_set1_host(ssl, tp->host);
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		errno = ENOMEM;
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return start_connect(tp, bev);
}

static const struct sim_transport_ops tls_ops = {
	.name = "tls",
	.init = tls_init,
	.fini = tls_fini,
	.open = tls_open,
};

/* The registry: YAML and URLs refer to transports by name. */
static const struct sim_transport_ops *const transports[] = { &tcp_ops, &tls_ops };

static const struct sim_transport_ops *
find_ops(const char *name)
{
	for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
		if (strcmp(transports[i]->name, name) == 0)
			return transports[i];
	return NULL;
}

static enum sim_err
resolve(struct sim_transport *tp, const struct sim_target *t, struct sim_diag *d)
{
	struct addrinfo hints, *res = NULL, *pick;
	char port[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", (unsigned)t->port);
	rc = getaddrinfo(t->host, port, &hints, &res);
	if (rc != 0 || res == NULL) {
		sim_diag_set(d, "cannot resolve broker host '%s': %s", t->host, gai_strerror(rc));
		return SIM_ERR_INFRA;
	}
	/* One address for the whole fleet. IPv4 first: "localhost" often
	 * lists ::1 first while brokers (the embedded one too) listen on
	 * 127.0.0.1. */
	pick = res;
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
	}
	memcpy(&tp->addr, pick->ai_addr, pick->ai_addrlen);
	tp->addrlen = pick->ai_addrlen;
	freeaddrinfo(res);
	return SIM_OK;
}

enum sim_err
sim_transport_new(const struct sim_target *t, struct sim_transport **out, struct sim_diag *d)
{
	struct sim_transport *tp;
	unsigned char tmp[sizeof(struct in6_addr)];
	enum sim_err rv;

	*out = NULL;
	tp = calloc(1, sizeof(*tp));
	if (tp == NULL)
		return SIM_ERR_NOMEM;
	tp->ops = find_ops(t->tls ? "tls" : "tcp");
	tp->host = strdup(t->host);
	if (tp->host == NULL) {
		rv = SIM_ERR_NOMEM;
		goto out;
	}
	tp->host_is_ip = inet_pton(AF_INET, t->host, tmp) == 1 || inet_pton(AF_INET6, t->host, tmp) == 1;
	if ((rv = resolve(tp, t, d)) != SIM_OK)
		goto out;
	if ((rv = tp->ops->init(tp, t, d)) != SIM_OK)
		goto out;
	*out = tp;
	tp = NULL;
out:
	sim_transport_free(tp);
	return rv;
}

void
sim_transport_free(struct sim_transport *tp)
{
	if (tp == NULL)
		return;
	if (tp->ops != NULL)
		tp->ops->fini(tp);
	free(tp->host);
	free(tp);
}

struct bufferevent *
sim_transport_open(struct sim_transport *tp, struct event_base *base)
{
	return tp->ops->open(tp, base);
}

const char *
sim_transport_name(const struct sim_transport *tp)
{
	return tp->ops->name;
}
