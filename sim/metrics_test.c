/* Tests for the Prometheus endpoint: a server on 127.0.0.1:0 and an evhttp
 * client on one event_base, as in a run. Every wait is bounded. */
#include <CUnit/Basic.h>
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "fs_test.h"
#include "hist.h"
#include "metrics.h"

static struct event_base *base;

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the loop for about ms milliseconds; the loopexit is always used
 * up, so no stale one ends a later spin early. */
static void
spin(int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* ---- a small evhttp client ---- */

struct resp {
	bool done;
	int code;                   /* 0 when the request failed */
	char ctype[128];
	char clen[32];
	char allow[64];
	char *body;
	size_t len;
};

static void
copy_header(struct evhttp_request *req, const char *name, char *dst, size_t n)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), name);

	snprintf(dst, n, "%s", v != NULL ? v : "");
}

static void
resp_cb(struct evhttp_request *req, void *arg)
{
	struct resp *r = arg;
	struct evbuffer *in;

	r->done = true;
	if (req == NULL)
		return;
	r->code = evhttp_request_get_response_code(req);
	copy_header(req, "Content-Type", r->ctype, sizeof(r->ctype));
	copy_header(req, "Content-Length", r->clen, sizeof(r->clen));
	copy_header(req, "Allow", r->allow, sizeof(r->allow));
	in = evhttp_request_get_input_buffer(req);
	r->len = evbuffer_get_length(in);
	r->body = malloc(r->len + 1);
	if (r->body == NULL)
		return;
	evbuffer_remove(in, r->body, r->len);
	r->body[r->len] = '\0';
}

/* One request to 127.0.0.1:port; the caller frees r->body. */
static void
request(uint16_t port, enum evhttp_cmd_type cmd, const char *path, struct resp *r)
{
	struct evhttp_connection *c;
	struct evhttp_request *req;
	uint64_t t0 = mono_ms();

	memset(r, 0, sizeof(*r));
	c = evhttp_connection_base_new(base, NULL, "127.0.0.1", port);
	CU_ASSERT_FATAL(c != NULL);
	req = evhttp_request_new(resp_cb, r);
	CU_ASSERT_FATAL(req != NULL);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "127.0.0.1");
	CU_ASSERT_FATAL(evhttp_make_request(c, req, cmd, path) == 0);
	for (int i = 0; !r->done && i < 1000 && mono_ms() - t0 < 5000; i++)
		spin(5);
	CU_ASSERT_TRUE(r->done);
	evhttp_connection_free(c);
}

static char *
scrape(uint16_t port)
{
	struct resp r;

	request(port, EVHTTP_REQ_GET, "/metrics", &r);
	CU_ASSERT_EQUAL(r.code, 200);
	CU_ASSERT_STRING_EQUAL(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.body);
	return r.body;
}

/* True when body has exactly this line. */
static bool
has_line(const char *body, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = body; (p = strstr(p, line)) != NULL; p++)
		if ((p == body || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define ASSERT_LINE(body, line) do {                                            \
	if (!has_line((body), (line)))                                          \
		fprintf(stderr, "\n  missing line: %s\n", (line));              \
	CU_ASSERT_TRUE(has_line((body), (line)));                               \
} while (0)

/* The number after "SERIES " on its own line; NaN when absent. */
static double
value_of(const char *body, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = body; (p = strstr(p, series)) != NULL; p++)
		if ((p == body || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return NAN;
}

/* ---- a checker for the text exposition format ---- */

static bool
name_ok(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return false;
	return true;
}

static bool
value_ok(const char *s)
{
	char *end;

	if (strcmp(s, "NaN") == 0 || strcmp(s, "+Inf") == 0 || strcmp(s, "-Inf") == 0)
		return true;
	if (*s == '\0')
		return false;
	(void)strtod(s, &end);
	return *end == '\0';
}

/* {name="value",...}: returns the character after '}', or NULL. */
static const char *
labels_ok(const char *p)
{
	if (*p++ != '{')
		return NULL;
	while (*p != '}') {
		const char *n = p;

		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (!name_ok(n, (size_t)(p - n)) || *p++ != '=' || *p++ != '"')
			return NULL;
		for (; *p != '"'; p++) {
			if (*p == '\0' || *p == '\n')
				return NULL;
			if (*p == '\\' && (p[1] == '\\' || p[1] == '"' || p[1] == 'n'))
				p++;
			else if (*p == '\\')
				return NULL;
		}
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return NULL;
	}
	return p + 1;
}

/* Every line is HELP, TYPE or a sample; each family has one TYPE, before
 * its samples, and its samples are together; counters end in _total;
 * summaries have only quantile, _sum and _count samples. */
static bool
exposition_ok(const char *body)
{
	char fam[128] = "", type[16] = "", seen[32][128];
	int nseen = 0;
	const char *line = body;

	if (*body == '\0' || body[strlen(body) - 1] != '\n')
		return false;
	while (*line != '\0') {
		const char *eol = strchr(line, '\n');
		char buf[512], *sp;
		size_t len = (size_t)(eol - line), n;

		if (len >= sizeof(buf))
			return false;
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = eol + 1;
		if (strncmp(buf, "# HELP ", 7) == 0)
			continue;
		if (strncmp(buf, "# TYPE ", 7) == 0) {
			if (sscanf(buf + 7, "%127s %15s", fam, type) != 2)
				return false;
			if (strcmp(type, "counter") != 0 && strcmp(type, "gauge") != 0 &&
			    strcmp(type, "summary") != 0)
				return false;
			if (strcmp(type, "counter") == 0 &&
			    (strlen(fam) < 6 || strcmp(fam + strlen(fam) - 6, "_total") != 0))
				return false;
			for (int i = 0; i < nseen; i++)
				if (strcmp(seen[i], fam) == 0)
					return false;
			if (nseen == 32)
				return false;
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", fam);
			continue;
		}
		n = strcspn(buf, "{ ");
		if (!name_ok(buf, n) || fam[0] == '\0')
			return false;
		if (strncmp(buf, fam, strlen(fam)) != 0)
			return false;
		if (n != strlen(fam)) {
			const char *suffix = buf + strlen(fam);

			if (strcmp(type, "summary") != 0 || !(strncmp(suffix, "_sum", n - strlen(fam)) == 0 ||
			    strncmp(suffix, "_count", n - strlen(fam)) == 0))
				return false;
		} else if (strcmp(type, "summary") == 0 && strstr(buf, "quantile=\"") == NULL) {
			return false;
		}
		sp = buf + n;
		if (*sp == '{' && (sp = (char *)labels_ok(sp)) == NULL)
			return false;
		if (*sp++ != ' ' || !value_ok(sp))
			return false;
	}
	return true;
}

/* ---- fixtures ---- */

static struct sim_metrics *
start(void)
{
	struct sim_metrics *m = NULL;
	struct sim_diag d = { "" };
	enum sim_err rv = sim_metrics_start(base, "127.0.0.1:0", &m, &d);

	if (rv != SIM_OK)
		fprintf(stderr, "\n  sim_metrics_start: %s\n", d.msg);
	CU_ASSERT_EQUAL_FATAL(rv, SIM_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_NOT_EQUAL(sim_metrics_port(m), 0);
	return m;
}

static int
suite_init(void)
{
	base = event_base_new();
	return base == NULL;
}

static int
suite_cleanup(void)
{
	event_base_free(base);
	return 0;
}

/* ---- tests ---- */

static void
test_before_update_all_zero(void)
{
	struct sim_metrics *m = start();
	char *body = scrape(sim_metrics_port(m));

	CU_ASSERT_TRUE(exposition_ok(body));
	ASSERT_LINE(body, "fleetsim_run_info{scenario=\"\",version=\"" FLEETSIM_VERSION "\"} 1");
	ASSERT_LINE(body, "fleetsim_devices_connected 0");
	ASSERT_LINE(body, "fleetsim_messages_total{pattern=\"telemetry\",outcome=\"received\"} 0");
	ASSERT_LINE(body, "fleetsim_latency_seconds{pattern=\"telemetry\",quantile=\"0.99\"} NaN");
	ASSERT_LINE(body, "fleetsim_latency_seconds_sum{pattern=\"telemetry\"} 0");
	ASSERT_LINE(body, "fleetsim_latency_seconds_count{pattern=\"telemetry\"} 0");
	free(body);
	sim_metrics_free(m);
}

static void
test_exact_lines(void)
{
	struct sim_metrics *m = start();
	struct rpt_hist *h = NULL;
	struct sim_metrics_snapshot s;
	char *body;

	/* All samples equal: every quantile is clamped to min == max, so
	 * the expected values are exact. */
	CU_ASSERT_FATAL(rpt_hist_new(&h) == RPT_OK);
	rpt_hist_record_n(h, 2000000, 100);
	s = (struct sim_metrics_snapshot){
		.scenario = "quickstart",
		.devices_planned = 1000,
		.devices_connected = 998,
		.connect_failures = 3,
		.disconnects = 2,
		.reconnects = 1,
		.tm_sent = 100,
		.tm_received = 95,
		.tm_duplicates = 4,
		.tm_out_of_order = 5,
		.tm_dropped = 6,
		.tm_foreign = 7,
		.tm_malformed = 8,
		.tm_latency = h,
	};
	sim_metrics_update(m, &s);
	rpt_hist_free(h);           /* the update copied what it needs */
	body = scrape(sim_metrics_port(m));
	CU_ASSERT_TRUE(exposition_ok(body));
	ASSERT_LINE(body, "# HELP fleetsim_devices_connected Devices with an accepted MQTT "
	    "connection right now.");
	ASSERT_LINE(body, "# TYPE fleetsim_devices_planned gauge");
	ASSERT_LINE(body, "# TYPE fleetsim_devices_connected gauge");
	ASSERT_LINE(body, "# TYPE fleetsim_connect_failures_total counter");
	ASSERT_LINE(body, "# TYPE fleetsim_messages_total counter");
	ASSERT_LINE(body, "# TYPE fleetsim_latency_seconds summary");
	ASSERT_LINE(body, "fleetsim_run_info{scenario=\"quickstart\",version=\"" FLEETSIM_VERSION "\"} 1");
	ASSERT_LINE(body, "fleetsim_devices_planned 1000");
	ASSERT_LINE(body, "fleetsim_devices_connected 998");
	ASSERT_LINE(body, "fleetsim_connect_failures_total 3");
	ASSERT_LINE(body, "fleetsim_disconnects_total 2");
	ASSERT_LINE(body, "fleetsim_reconnects_total 1");
	ASSERT_LINE(body, "fleetsim_messages_total{pattern=\"telemetry\",outcome=\"sent\"} 100");
	ASSERT_LINE(body, "fleetsim_messages_total{pattern=\"telemetry\",outcome=\"received\"} 95");
	ASSERT_LINE(body, "fleetsim_messages_total{pattern=\"telemetry\",outcome=\"duplicate\"} 4");
	ASSERT_LINE(body, "fleetsim_messages_total{pattern=\"telemetry\",outcome=\"out_of_order\"} 5");
	ASSERT_LINE(body, "fleetsim_messages_total{pattern=\"telemetry\",outcome=\"dropped\"} 6");
	ASSERT_LINE(body, "fleetsim_messages_total{pattern=\"telemetry\",outcome=\"foreign\"} 7");
	ASSERT_LINE(body, "fleetsim_messages_total{pattern=\"telemetry\",outcome=\"malformed\"} 8");
	ASSERT_LINE(body, "fleetsim_latency_seconds{pattern=\"telemetry\",quantile=\"0.5\"} 0.002");
	ASSERT_LINE(body, "fleetsim_latency_seconds{pattern=\"telemetry\",quantile=\"0.9\"} 0.002");
	ASSERT_LINE(body, "fleetsim_latency_seconds{pattern=\"telemetry\",quantile=\"0.99\"} 0.002");
	ASSERT_LINE(body, "fleetsim_latency_seconds{pattern=\"telemetry\",quantile=\"0.999\"} 0.002");
	ASSERT_LINE(body, "fleetsim_latency_seconds_sum{pattern=\"telemetry\"} 0.2");
	ASSERT_LINE(body, "fleetsim_latency_seconds_count{pattern=\"telemetry\"} 100");
	free(body);
	sim_metrics_free(m);
}

static void
test_quantiles_in_seconds(void)
{
	struct sim_metrics *m = start();
	struct rpt_hist *h = NULL;
	struct sim_metrics_snapshot s = { 0 };
	char *body;
	double p50, p99, p999;

	/* 90 at 1 ms, 9 at 100 ms, 1 at 1.5 s: p50 is near 1 ms, p99 near
	 * 100 ms, p99.9 the maximum. Buckets are within 1%. */
	CU_ASSERT_FATAL(rpt_hist_new(&h) == RPT_OK);
	rpt_hist_record_n(h, 1000000, 90);
	rpt_hist_record_n(h, 100000000, 9);
	rpt_hist_record(h, 1500000000);
	s.tm_latency = h;
	sim_metrics_update(m, &s);
	body = scrape(sim_metrics_port(m));
	CU_ASSERT_TRUE(exposition_ok(body));
	p50 = value_of(body, "fleetsim_latency_seconds{pattern=\"telemetry\",quantile=\"0.5\"}");
	p99 = value_of(body, "fleetsim_latency_seconds{pattern=\"telemetry\",quantile=\"0.99\"}");
	p999 = value_of(body, "fleetsim_latency_seconds{pattern=\"telemetry\",quantile=\"0.999\"}");
	CU_ASSERT_DOUBLE_EQUAL(p50, 0.001, 0.00001);
	CU_ASSERT_DOUBLE_EQUAL(p99, 0.1, 0.001);
	CU_ASSERT_DOUBLE_EQUAL(p999, 1.5, 0.006);
	/* Exact nanoseconds, exact decimal. */
	CU_ASSERT_DOUBLE_EQUAL(p50 * 1e9, (double)rpt_hist_percentile(h, 50), 0.5);
	ASSERT_LINE(body, "fleetsim_latency_seconds_sum{pattern=\"telemetry\"} 2.49");
	ASSERT_LINE(body, "fleetsim_latency_seconds_count{pattern=\"telemetry\"} 100");
	rpt_hist_free(h);
	free(body);
	sim_metrics_free(m);
}

static void
test_second_update_grows(void)
{
	struct sim_metrics *m = start();
	struct rpt_hist *h = NULL;
	struct sim_metrics_snapshot s = { .scenario = "grow", .devices_planned = 10 };
	char *a, *b;
	const char *recv = "fleetsim_messages_total{pattern=\"telemetry\",outcome=\"received\"}";
	const char *count = "fleetsim_latency_seconds_count{pattern=\"telemetry\"}";

	CU_ASSERT_FATAL(rpt_hist_new(&h) == RPT_OK);
	s.tm_latency = h;
	s.tm_sent = 10;
	s.tm_received = 9;
	s.devices_connected = 10;
	rpt_hist_record_n(h, 500000, 9);
	sim_metrics_update(m, &s);
	a = scrape(sim_metrics_port(m));
	s.tm_sent = 25;
	s.tm_received = 24;
	s.devices_connected = 7;
	rpt_hist_record_n(h, 500000, 15);
	sim_metrics_update(m, &s);
	b = scrape(sim_metrics_port(m));
	CU_ASSERT_EQUAL(value_of(a, recv), 9);
	CU_ASSERT_EQUAL(value_of(b, recv), 24);
	CU_ASSERT_EQUAL(value_of(a, count), 9);
	CU_ASSERT_EQUAL(value_of(b, count), 24);
	ASSERT_LINE(a, "fleetsim_devices_connected 10");
	ASSERT_LINE(b, "fleetsim_devices_connected 7");
	ASSERT_LINE(b, "fleetsim_latency_seconds_sum{pattern=\"telemetry\"} 0.012");
	/* A NULL scenario keeps the name already given. */
	s.scenario = NULL;
	sim_metrics_update(m, &s);
	free(b);
	b = scrape(sim_metrics_port(m));
	ASSERT_LINE(b, "fleetsim_run_info{scenario=\"grow\",version=\"" FLEETSIM_VERSION "\"} 1");
	rpt_hist_free(h);
	free(a);
	free(b);
	sim_metrics_free(m);
}

static void
test_label_escaping(void)
{
	struct sim_metrics *m = start();
	struct sim_metrics_snapshot s = { .scenario = "a \"b\" c\\d\ne \xc3\xa9" };
	char *body;

	sim_metrics_update(m, &s);
	body = scrape(sim_metrics_port(m));
	CU_ASSERT_TRUE(exposition_ok(body));
	ASSERT_LINE(body, "fleetsim_run_info{scenario=\"a \\\"b\\\" c\\\\d\\ne \xc3\xa9\",version=\""
	    FLEETSIM_VERSION "\"} 1");
	free(body);
	sim_metrics_free(m);
}

static void
test_other_paths_and_methods(void)
{
	struct sim_metrics *m = start();
	uint16_t port = sim_metrics_port(m);
	struct resp r;

	request(port, EVHTTP_REQ_GET, "/", &r);
	CU_ASSERT_EQUAL(r.code, 404);
	free(r.body);
	request(port, EVHTTP_REQ_GET, "/metricsx", &r);
	CU_ASSERT_EQUAL(r.code, 404);
	free(r.body);
	request(port, EVHTTP_REQ_GET, "/metrics/", &r);
	CU_ASSERT_EQUAL(r.code, 404);
	free(r.body);
	/* A query string does not change the path. */
	request(port, EVHTTP_REQ_GET, "/metrics?x=1", &r);
	CU_ASSERT_EQUAL(r.code, 200);
	free(r.body);
	request(port, EVHTTP_REQ_POST, "/metrics", &r);
	CU_ASSERT_EQUAL(r.code, 405);
	CU_ASSERT_STRING_EQUAL(r.allow, "GET, HEAD");
	free(r.body);
	request(port, EVHTTP_REQ_DELETE, "/metrics", &r);
	CU_ASSERT_EQUAL(r.code, 405);
	free(r.body);
	/* HEAD: the headers of a GET, no body. */
	request(port, EVHTTP_REQ_HEAD, "/metrics", &r);
	CU_ASSERT_EQUAL(r.code, 200);
	CU_ASSERT_EQUAL(r.len, 0);
	CU_ASSERT_STRING_EQUAL(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	CU_ASSERT(atoi(r.clen) > 1000);
	free(r.body);
	sim_metrics_free(m);
}

static void
test_bad_addresses(void)
{
	static const char *const bad[] = {
		"", "9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
		"127.0.0.1:+80", "127.0.0.1:80x", "127.0.0.1:009464", "::1:9464", "[::1",
		"[::1]9464", "[]:9464", "a:b:c",
	};
	struct sim_metrics *m;
	struct sim_diag d;
	char host[64];
	uint16_t port;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = (struct sim_metrics *)1;
		d.msg[0] = '\0';
		CU_ASSERT_EQUAL(sim_metrics_start(base, bad[i], &m, &d), SIM_ERR_SCENARIO);
		CU_ASSERT_PTR_NULL(m);
		CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "expected HOST:PORT"));
		CU_ASSERT_EQUAL(sim_metrics_parse_addr(bad[i], host, sizeof(host), &port, NULL),
		    SIM_ERR_SCENARIO);
	}
	CU_ASSERT_EQUAL(sim_metrics_parse_addr("127.0.0.1:9464", host, sizeof(host), &port, NULL),
	    SIM_OK);
	CU_ASSERT_STRING_EQUAL(host, "127.0.0.1");
	CU_ASSERT_EQUAL(port, 9464);
	CU_ASSERT_EQUAL(sim_metrics_parse_addr("[::1]:65535", host, sizeof(host), &port, NULL),
	    SIM_OK);
	CU_ASSERT_STRING_EQUAL(host, "::1");
	CU_ASSERT_EQUAL(port, 65535);
	CU_ASSERT_EQUAL(sim_metrics_parse_addr(":0", host, sizeof(host), &port, NULL), SIM_OK);
	CU_ASSERT_STRING_EQUAL(host, "0.0.0.0");
	CU_ASSERT_EQUAL(port, 0);
	CU_ASSERT_EQUAL(sim_metrics_parse_addr("localhost:1", host, sizeof(host), &port, NULL),
	    SIM_OK);
	CU_ASSERT_STRING_EQUAL(host, "localhost");
	CU_ASSERT_EQUAL(sim_metrics_parse_addr("localhost:1", host, 9, &port, NULL),
	    SIM_ERR_SCENARIO);
	CU_ASSERT_EQUAL(sim_metrics_start(NULL, "127.0.0.1:0", &m, NULL), SIM_ERR_INVAL);
}

static void
test_port_in_use(void)
{
	struct sim_metrics *a = start(), *b = NULL;
	struct sim_diag d = { "" };
	char addr[64];

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)sim_metrics_port(a));
	CU_ASSERT_EQUAL(sim_metrics_start(base, addr, &b, &d), SIM_ERR_INFRA);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "cannot listen for metrics on"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "in use"));
	fprintf(stderr, "\n  %s\n", d.msg);
	sim_metrics_free(a);
	/* Freed means closed: the port can be bound again. */
	d.msg[0] = '\0';
	CU_ASSERT_EQUAL(sim_metrics_start(base, addr, &b, &d), SIM_OK);
	sim_metrics_free(b);
	sim_metrics_free(NULL);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "before any update every number is 0", test_before_update_all_zero },
		{ "exact lines: counters, gauges, labels, summary", test_exact_lines },
		{ "quantiles in seconds from the histogram", test_quantiles_in_seconds },
		{ "a second update changes the counters", test_second_update_grows },
		{ "label values escaped", test_label_escaping },
		{ "404 elsewhere, 405 for other methods, HEAD", test_other_paths_and_methods },
		{ "malformed addresses rejected", test_bad_addresses },
		{ "port in use is an infrastructure error", test_port_in_use },
		{ NULL, NULL },
	};

	return fs_test_main_fixture("metrics", suite_init, suite_cleanup, tests);
}
