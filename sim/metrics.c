#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#ifndef FLEETSIM_VERSION
#define FLEETSIM_VERSION "unknown"
#endif

/* A scrape is one small request: anything bigger is not Prometheus, and
 * must not make the simulation's loop buffer it. */
#define MAX_REQUEST_BYTES 8192
/* Idle keep-alive connections are closed after this; Prometheus simply
 * reconnects. */
#define IDLE_TIMEOUT_S 30

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The summary's quantiles: the label as written, the percentile for
 * rpt_hist_percentile. */
static const struct {
	const char *label;
	double pct;
} quantiles[] = {
	{ "0.5", 50 },
	{ "0.9", 90 },
	{ "0.99", 99 },
	{ "0.999", 99.9 },
};
#define NQUANTILES (sizeof(quantiles) / sizeof(quantiles[0]))

struct sim_metrics {
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	uint16_t port;
	struct sim_metrics_snapshot s;      /* scenario and tm_latency always NULL */
	char *scenario;
	uint64_t lat_count;
	uint64_t lat_sum_ns;
	uint64_t lat_q_ns[NQUANTILES];
};

enum sim_err
sim_metrics_parse_addr(const char *addr, char *host, size_t hostsz, uint16_t *port,
    struct sim_diag *d)
{
	const char *h, *colon, *p;
	size_t hlen;
	unsigned long v = 0;

	if (addr == NULL || host == NULL || hostsz == 0 || port == NULL)
		return SIM_ERR_INVAL;
	if (addr[0] == '[') {
		/* IPv6 needs brackets: its own colons would hide the port's. */
		h = addr + 1;
		colon = strchr(h, ']');
		if (colon == NULL || colon[1] != ':')
			goto bad;
		hlen = (size_t)(colon - h);
		colon++;
		if (hlen == 0)
			goto bad;
	} else {
		h = addr;
		colon = strchr(addr, ':');
		if (colon == NULL || strchr(colon + 1, ':') != NULL)
			goto bad;
		hlen = (size_t)(colon - h);
	}
	p = colon + 1;
	if (*p == '\0' || strlen(p) > 5)
		goto bad;
	for (const char *c = p; *c != '\0'; c++) {
		if (*c < '0' || *c > '9')
			goto bad;
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (v > 65535)
		goto bad;
	if (hlen == 0) {
		h = "0.0.0.0";
		hlen = strlen(h);
	}
	if (hlen >= hostsz) {
		sim_diag_set(d, "metrics address '%s': the host name is too long", addr);
		return SIM_ERR_SCENARIO;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)v;
	return SIM_OK;
bad:
	sim_diag_set(d, "metrics address '%s': expected HOST:PORT with PORT 0..65535 "
	    "(e.g. 127.0.0.1:9464, [::1]:9464 or :9464 for every interface)", addr);
	return SIM_ERR_SCENARIO;
}

/* ---- rendering ---- */

/* Seconds from nanoseconds in exact decimal, so a latency of 2 ms reads
 * 0.002 and not 0.0020000000000000000416. */
static void
fmt_seconds(char *buf, size_t n, uint64_t ns)
{
	uint64_t whole = ns / 1000000000u, frac = ns % 1000000000u;
	size_t len;

	if (frac == 0) {
		snprintf(buf, n, "%" PRIu64, whole);
		return;
	}
	snprintf(buf, n, "%" PRIu64 ".%09" PRIu64, whole, frac);
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == '0')
		buf[--len] = '\0';
}

/* Label values escape backslash, double quote and line feed, as the
 * exposition format requires; everything else is UTF-8 as given. */
static int
add_label_value(struct evbuffer *b, const char *v)
{
	const char *run = v;
	int rc = 0;

	for (; *v != '\0'; v++) {
		const char *esc = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : *v == '\n' ? "\\n" : NULL;

		if (esc == NULL)
			continue;
		rc |= evbuffer_add(b, run, (size_t)(v - run));
		rc |= evbuffer_add(b, esc, 2);
		run = v + 1;
	}
	rc |= evbuffer_add(b, run, (size_t)(v - run));
	return rc;
}

static int
family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	return evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type) < 0;
}

static int
u64_line(struct evbuffer *b, const char *name, uint64_t v)
{
	return evbuffer_add_printf(b, "%s %" PRIu64 "\n", name, v) < 0;
}

static int
render(const struct sim_metrics *m, struct evbuffer *b)
{
	static const char msgs[] = "fleetsim_messages_total{pattern=\"telemetry\",outcome=";
	const struct {
		const char *outcome;
		uint64_t v;
	} outcomes[] = {
		{ "sent", m->s.tm_sent },
		{ "received", m->s.tm_received },
		{ "duplicate", m->s.tm_duplicates },
		{ "out_of_order", m->s.tm_out_of_order },
		{ "dropped", m->s.tm_dropped },
		{ "foreign", m->s.tm_foreign },
		{ "malformed", m->s.tm_malformed },
	};
	char sec[32];
	int rc = 0;

	rc |= family(b, "fleetsim_run_info", "gauge",
	    "The scenario being run and the fleetsim version; always 1.");
	rc |= evbuffer_add_printf(b, "fleetsim_run_info{scenario=\"") < 0;
	rc |= add_label_value(b, m->scenario != NULL ? m->scenario : "");
	rc |= evbuffer_add_printf(b, "\",version=\"") < 0;
	rc |= add_label_value(b, FLEETSIM_VERSION);
	rc |= evbuffer_add_printf(b, "\"} 1\n") < 0;

	rc |= family(b, "fleetsim_devices_planned", "gauge", "Devices the scenario defines.");
	rc |= u64_line(b, "fleetsim_devices_planned", m->s.devices_planned);
	rc |= family(b, "fleetsim_devices_connected", "gauge",
	    "Devices with an accepted MQTT connection right now.");
	rc |= u64_line(b, "fleetsim_devices_connected", m->s.devices_connected);
	rc |= family(b, "fleetsim_connect_failures_total", "counter",
	    "Device connection attempts that ended before an accepted CONNACK.");
	rc |= u64_line(b, "fleetsim_connect_failures_total", m->s.connect_failures);
	rc |= family(b, "fleetsim_disconnects_total", "counter",
	    "Device connections lost that fleetsim did not close.");
	rc |= u64_line(b, "fleetsim_disconnects_total", m->s.disconnects);
	rc |= family(b, "fleetsim_reconnects_total", "counter",
	    "Accepted CONNACKs after a device's first.");
	rc |= u64_line(b, "fleetsim_reconnects_total", m->s.reconnects);

	rc |= family(b, "fleetsim_messages_total", "counter",
	    "Messages by pattern and outcome: sent (intended sends), received (distinct "
	    "arrivals), duplicate, out_of_order, dropped (MQTT could not take it; also lost), "
	    "foreign (another run's), malformed.");
	for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		rc |= evbuffer_add_printf(b, "%s\"%s\"} %" PRIu64 "\n", msgs, outcomes[i].outcome,
		    outcomes[i].v) < 0;

	rc |= family(b, "fleetsim_latency_seconds", "summary",
	    "Arrival minus intended send time of first arrivals, over the whole run so far.");
	for (size_t i = 0; i < NQUANTILES; i++) {
		/* An empty summary has no quantiles to speak of: NaN, as
		 * Prometheus' own client libraries write. */
		if (m->lat_count == 0)
			snprintf(sec, sizeof(sec), "NaN");
		else
			fmt_seconds(sec, sizeof(sec), m->lat_q_ns[i]);
		rc |= evbuffer_add_printf(b,
		    "fleetsim_latency_seconds{pattern=\"telemetry\",quantile=\"%s\"} %s\n",
		    quantiles[i].label, sec) < 0;
	}
	fmt_seconds(sec, sizeof(sec), m->lat_sum_ns);
	rc |= evbuffer_add_printf(b, "fleetsim_latency_seconds_sum{pattern=\"telemetry\"} %s\n",
	    sec) < 0;
	rc |= evbuffer_add_printf(b,
	    "fleetsim_latency_seconds_count{pattern=\"telemetry\"} %" PRIu64 "\n", m->lat_count) < 0;
	return rc;
}

/* ---- serving ---- */

/* A plain-text error of our own: evhttp_send_error would replace the
 * headers (Allow among them) with its HTML page's. */
static void
reply_error(struct evhttp_request *req, int code, const char *reason)
{
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/plain; charset=utf-8");
	if (b != NULL && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
		evbuffer_add_printf(b, "%d %s\n", code, reason);
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

static void
handle(struct evhttp_request *req, void *arg)
{
	struct sim_metrics *m = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	struct evbuffer *body = NULL;
	char len[32];

	if (path == NULL || strcmp(path, "/metrics") != 0) {
		reply_error(req, HTTP_NOTFOUND, "Not Found");
		goto out;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(oh, "Allow", "GET, HEAD");
		reply_error(req, 405, "Method Not Allowed");
		goto out;
	}
	body = evbuffer_new();
	if (body == NULL || render(m, body) != 0) {
		reply_error(req, HTTP_INTERNAL, "Internal Server Error");
		goto out;
	}
	evhttp_add_header(oh, "Content-Type", CONTENT_TYPE);
	evhttp_add_header(oh, "Cache-Control", "no-store");
	if (cmd == EVHTTP_REQ_HEAD) {
		/* evhttp sends no body and sets no length for HEAD; the length
		 * is the one a GET would get. */
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(body));
		evhttp_add_header(oh, "Content-Length", len);
		evhttp_send_reply(req, HTTP_OK, "OK", NULL);
	} else {
		evhttp_send_reply(req, HTTP_OK, "OK", body);
	}
out:
	if (body != NULL)
		evbuffer_free(body);
}

enum sim_err
sim_metrics_start(struct event_base *base, const char *addr, struct sim_metrics **out,
    struct sim_diag *d)
{
	struct sim_metrics *m = NULL;
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char host[256], numeric[NI_MAXHOST];
	uint16_t port;
	enum sim_err rv;
	int gai, err;

	if (out != NULL)
		*out = NULL;
	if (base == NULL || addr == NULL || out == NULL)
		return SIM_ERR_INVAL;
	if ((rv = sim_metrics_parse_addr(addr, host, sizeof(host), &port, d)) != SIM_OK)
		return rv;
	/* Resolved here rather than inside evhttp, so a bad name gets its
	 * own message and bind's errno is not overwritten on the way out. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	gai = getaddrinfo(host, NULL, &hints, &ai);
	if (gai != 0 || ai == NULL) {
		sim_diag_set(d, "cannot listen for metrics on %s: cannot resolve '%s': %s", addr, host,
		    gai != 0 ? gai_strerror(gai) : "no address");
		rv = SIM_ERR_INFRA;
		goto out;
	}
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, numeric, sizeof(numeric), NULL, 0,
	    NI_NUMERICHOST) != 0) {
		sim_diag_set(d, "cannot listen for metrics on %s: cannot use the address of '%s'",
		    addr, host);
		rv = SIM_ERR_INFRA;
		goto out;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL || (m->http = evhttp_new(base)) == NULL) {
		rv = SIM_ERR_NOMEM;
		goto out;
	}
	/* Every method reaches handle(), so a POST gets 405 and not
	 * evhttp's 501. */
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(m->http, MAX_REQUEST_BYTES);
	evhttp_set_max_body_size(m->http, MAX_REQUEST_BYTES);
	evhttp_set_timeout(m->http, IDLE_TIMEOUT_S);
	evhttp_set_gencb(m->http, handle, m);
	errno = 0;
	m->sock = evhttp_bind_socket_with_handle(m->http, numeric, port);
	if (m->sock == NULL) {
		err = errno;
		sim_diag_set(d, "cannot listen for metrics on %s: %s", addr,
		    err != 0 ? strerror(err) : "bind failed");
		rv = SIM_ERR_INFRA;
		goto out;
	}
	if (getsockname(evhttp_bound_socket_get_fd(m->sock), (struct sockaddr *)&ss, &sslen) != 0) {
		sim_diag_set(d, "cannot listen for metrics on %s: %s", addr, strerror(errno));
		rv = SIM_ERR_INFRA;
		goto out;
	}
	m->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	*out = m;
	m = NULL;
	rv = SIM_OK;
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	sim_metrics_free(m);
	return rv;
}

void
sim_metrics_update(struct sim_metrics *m, const struct sim_metrics_snapshot *s)
{
	const struct rpt_hist *h;

	if (m == NULL || s == NULL)
		return;
	/* The name changes at most once, so it is copied only then; if that
	 * copy fails the old label stays, which beats no metrics. */
	if (s->scenario != NULL && (m->scenario == NULL || strcmp(m->scenario, s->scenario) != 0)) {
		char *c = strdup(s->scenario);

		if (c != NULL) {
			free(m->scenario);
			m->scenario = c;
		}
	}
	h = s->tm_latency;
	m->s = *s;
	m->s.scenario = NULL;
	m->s.tm_latency = NULL;
	m->lat_count = rpt_hist_count(h);
	m->lat_sum_ns = 0;
	memset(m->lat_q_ns, 0, sizeof(m->lat_q_ns));
	if (m->lat_count == 0)
		return;
	for (size_t i = 0; i < NQUANTILES; i++)
		m->lat_q_ns[i] = rpt_hist_percentile(h, quantiles[i].pct);
	/* The histogram keeps its exact sum but only shows the mean; mean *
	 * count is exact to the nanosecond while the sum stays below 2^53 ns
	 * (104 days of summed latency). */
	m->lat_sum_ns = (uint64_t)llround(rpt_hist_mean(h) * (double)m->lat_count);
}

uint16_t
sim_metrics_port(const struct sim_metrics *m)
{
	return m != NULL ? m->port : 0;
}

void
sim_metrics_free(struct sim_metrics *m)
{
	if (m == NULL)
		return;
	if (m->http != NULL)
		evhttp_free(m->http);
	free(m->scenario);
	free(m);
}
