/* --metrics: a Prometheus scraper polling a live run sees the fleet
 * connected and the telemetry counters grow, and the run still passes. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "broker.h"
#include "harness.h"

#define DEVICES 20
#define RECEIVED "fleetsim_messages_total{pattern=\"telemetry\",outcome=\"received\"}"
#define SENT "fleetsim_messages_total{pattern=\"telemetry\",outcome=\"sent\"}"
#define LAT_COUNT "fleetsim_latency_seconds_count{pattern=\"telemetry\"}"
#define LAT_P99 "fleetsim_latency_seconds{pattern=\"telemetry\",quantile=\"0.99\"}"

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A port nothing listens on right now (the kernel's pick for port 0). */
static uint16_t
free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return 0;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* GET path from 127.0.0.1:port over HTTP/1.0, as a scraper would, with a
 * 5 s limit. Returns the status (0 when nothing answered) and the body in
 * buf. */
static int
http_get(uint16_t port, const char *path, char *buf, size_t n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	char req[256];
	size_t got = 0;
	int fd, code = 0;
	char *body;

	buf[0] = '\0';
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		goto out;
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		goto out;
	while (got < n - 1) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, 5000) <= 0)
			goto out;
		r = read(fd, buf + got, n - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	if (sscanf(buf, "HTTP/1.%*c %d", &code) != 1)
		code = 0;
	body = strstr(buf, "\r\n\r\n");
	if (body != NULL)
		memmove(buf, body + 4, strlen(body + 4) + 1);
out:
	close(fd);
	return code;
}

/* The value of one series in a scrape; NaN when absent. */
static double
value_of(const char *body, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = body; (p = strstr(p, series)) != NULL; p++)
		if ((p == body || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return NAN;
}

/* True while pid runs; reaps it and stores its exit code when it ended. */
static bool
alive(int pid, int *rc)
{
	int st;

	if (waitpid(pid, &st, WNOHANG) != pid)
		return true;
	*rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return false;
}

static void
test_scrape_live_run(void)
{
	static char a[65536], b[65536];
	struct sim_broker *br = NULL;
	struct sim_broker_opts bo = { 0 };
	struct sim_diag d = { "" };
	const char *dir = th_tmpdir();
	char scen[512], addr[64];
	uint16_t port = free_port();
	double connected = NAN, recv_a, recv_b;
	int pid, code = 0, rc = -2, i;
	struct rpt_json *r;

	CU_ASSERT_FATAL(dir != NULL);
	CU_ASSERT_FATAL(port != 0);
	CU_ASSERT_FATAL(sim_broker_start(&bo, &br, &d) == SIM_OK);
	snprintf(scen, sizeof(scen), "%s", th_write(dir, "metrics.yaml",
	    "name: metrics\n"
	    "duration: 6s\n"
	    "drain: 3s\n"
	    "fleet:\n"
	    "  - group: s\n"
	    "    count: 20\n"
	    "    connect: { ramp: 500ms }\n"
	    "    telemetry: { every: 100ms, qos: 1 }\n"));
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)port);
	const char *argv[] = { "run", scen, "--broker", sim_broker_url(br), "--report-dir", dir,
		"--metrics", addr, "--quiet", NULL };

	pid = th_fleetsim_spawn(dir, argv);
	CU_ASSERT_FATAL(pid > 0);
	/* The endpoint comes up before the fleet connects; the whole fleet
	 * is in within the 500 ms ramp and some slack. */
	for (i = 0; i < 200 && alive(pid, &rc); i++) {
		code = http_get(port, "/metrics", a, sizeof(a));
		if (code == 200 && (connected = value_of(a, "fleetsim_devices_connected")) == DEVICES)
			break;
		sleep_ms(50);
	}
	if (rc != -2 || code != 200) {
		fprintf(stderr, "\n  no scrape (HTTP %d, fleetsim %s %d); its output:\n%s\n", code,
		    rc != -2 ? "exited" : "still running", rc, th_output(dir));
		CU_FAIL("the metrics endpoint never answered");
		if (rc == -2)
			th_wait(pid, 30);
		sim_broker_free(br);
		return;
	}
	CU_ASSERT_EQUAL(connected, DEVICES);
	CU_ASSERT_EQUAL(value_of(a, "fleetsim_devices_planned"), DEVICES);
	CU_ASSERT_PTR_NOT_NULL(strstr(a, "fleetsim_run_info{scenario=\"metrics\","));
	sleep_ms(2000);
	code = http_get(port, "/metrics", b, sizeof(b));
	CU_ASSERT_EQUAL(code, 200);
	recv_a = value_of(a, RECEIVED);
	recv_b = value_of(b, RECEIVED);
	fprintf(stderr, "\n  2 s apart: received %g -> %g, sent %g -> %g, p99 %g s\n", recv_a,
	    recv_b, value_of(a, SENT), value_of(b, SENT), value_of(b, LAT_P99));
	/* 20 devices at 10 messages a second, 200/s. The run updates the
	 * endpoint once a second, so two scrapes 2 s apart see one or two
	 * updates between them: at least about 200 more. */
	CU_ASSERT(recv_b - recv_a >= 150);
	CU_ASSERT(value_of(b, SENT) > value_of(a, SENT));
	CU_ASSERT(value_of(b, LAT_COUNT) > value_of(a, LAT_COUNT));
	CU_ASSERT(value_of(b, LAT_P99) > 0);
	CU_ASSERT_EQUAL(value_of(b, "fleetsim_devices_connected"), DEVICES);
	CU_ASSERT_EQUAL(http_get(port, "/nothing", b, sizeof(b)), 404);

	rc = th_wait(pid, 30);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0)
		fprintf(stderr, "--- fleetsim exited %d; its output:\n%s\n---\n", rc, th_output(dir));
	/* The live numbers never run ahead of the report's. */
	r = th_report(dir);
	if (r != NULL) {
		CU_ASSERT(th_num(r, "patterns.telemetry.received") >= recv_b);
		rpt_json_free(r);
	}
	/* The endpoint goes away with the run. */
	CU_ASSERT_EQUAL(http_get(port, "/metrics", b, sizeof(b)), 0);
	sim_broker_free(br);
}

static void
test_port_in_use_exits_3(void)
{
	const char *dir = th_tmpdir();
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	char scen[512], addr[64];
	int fd, rc;

	CU_ASSERT_FATAL(dir != NULL);
	/* Something already listens on the port. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CU_ASSERT_FATAL(listen(fd, 1) == 0);
	CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	snprintf(scen, sizeof(scen), "%s", th_write(dir, "busy.yaml",
	    "name: busy\n"
	    "duration: 1s\n"
	    "target: { url: \"mqtt://127.0.0.1:1\" }\n"
	    "fleet:\n"
	    "  - group: s\n"
	    "    count: 1\n"));
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)ntohs(sin.sin_port));
	const char *argv[] = { "run", scen, "--report-dir", dir, "--metrics", addr, NULL };

	rc = th_fleetsim(dir, 30, argv);
	CU_ASSERT_EQUAL(rc, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "cannot listen for metrics on"));
	close(fd);

	/* A malformed address is a usage error: exit 2. */
	const char *argv2[] = { "run", scen, "--report-dir", dir, "--metrics", "localhost", NULL };

	rc = th_fleetsim(dir, 30, argv2);
	CU_ASSERT_EQUAL(rc, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(th_output(dir), "expected HOST:PORT"));
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "--metrics: live scrapes show the fleet and growing counters",
		  test_scrape_live_run },
		{ "--metrics: port in use exits 3, a bad address exits 2", test_port_in_use_exits_3 },
		{ NULL, NULL },
	};

	return th_main("metrics_scrape", tests);
}
