/* Tests for the embedded broker against the real mosquitto, driven with
 * the mosquitto_pub/mosquitto_sub and openssl command line tools. Every
 * external command runs under timeout(1) so no test can hang. */
#include "broker.h"

#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs_test.h"

static char scratch[PATH_MAX];

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Runs a shell command; returns its exit status, or -1 if it did not exit. */
static int
run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Runs a shell command and captures its first output line (newline
 * stripped) into out. Returns the exit status like run(). */
static int
capture(char *out, size_t cap, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	out[0] = '\0';
	p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	if (fgets(out, (int)cap, p) != NULL)
		out[strcspn(out, "\n")] = '\0';
	while (fgetc(p) != EOF)
		;
	st = pclose(p);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static bool
tcp_connects(uint16_t port)
{
	struct sockaddr_in sa;
	bool ok;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd == -1)
		return false;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static bool
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)(flag == FTW_DP ? rmdir(path) : unlink(path));
	return 0;
}

static void
rm_rf(const char *path)
{
	nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Reads back the retained message on topic, or "" when none comes in 2 s. */
static int
sub_one(uint16_t port, const char *topic, char *out, size_t cap)
{
	return capture(out, cap,
	    "timeout 10 mosquitto_sub -h 127.0.0.1 -p %u -t '%s' -C 1 -W 2 2>/dev/null",
	    (unsigned)port, topic);
}

static int
pub_retained(uint16_t port, const char *topic, const char *msg)
{
	return run("timeout 10 mosquitto_pub -h 127.0.0.1 -p %u -q 1 -r -t '%s' -m '%s'",
	    (unsigned)port, topic, msg);
}

static void
test_start_speaks_mqtt(void)
{
	struct sim_broker *b = NULL;
	struct sim_diag d = { "" };
	char want[64], got[256], path[PATH_MAX];
	struct stat st;
	uint16_t port;

	CU_ASSERT_EQUAL_FATAL(sim_broker_start(NULL, &b, &d), SIM_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	port = sim_broker_port(b);
	CU_ASSERT(port != 0);
	CU_ASSERT(sim_broker_pid(b) > 0);
	CU_ASSERT(kill(sim_broker_pid(b), 0) == 0);
	snprintf(want, sizeof(want), "mqtt://127.0.0.1:%u", (unsigned)port);
	CU_ASSERT_STRING_EQUAL(sim_broker_url(b), want);

	/* A private folder only we can enter, holding the generated config. */
	CU_ASSERT(stat(sim_broker_dir(b), &st) == 0 && (st.st_mode & 0777) == 0700);
	snprintf(path, sizeof(path), "%s/mosquitto.conf", sim_broker_dir(b));
	CU_ASSERT(run("grep -qx 'max_queued_messages 0' '%s'", path) == 0);
	CU_ASSERT(run("grep -qx 'listener %u 127.0.0.1' '%s'", (unsigned)port, path) == 0);

	CU_ASSERT(tcp_connects(port));
	CU_ASSERT_EQUAL(pub_retained(port, "fleetsim/test/a", "hello-broker"), 0);
	CU_ASSERT_EQUAL(sub_one(port, "fleetsim/test/a", got, sizeof(got)), 0);
	CU_ASSERT_STRING_EQUAL(got, "hello-broker");
	/* The control: a topic nobody published to yields nothing. */
	sub_one(port, "fleetsim/test/none", got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got, "");

	/* Logging to a file works (also as root, where mosquitto would
	 * otherwise switch to a user that cannot open it). */
	snprintf(path, sizeof(path), "%s/mosquitto.log", sim_broker_dir(b));
	CU_ASSERT(run("grep -q 'New client connected' '%s'", path) == 0);

	CU_ASSERT_EQUAL(sim_broker_stop(b), SIM_OK);
	CU_ASSERT_EQUAL(sim_broker_pid(b), -1);
	CU_ASSERT(!tcp_connects(port));
	/* Stopping twice is harmless. */
	CU_ASSERT_EQUAL(sim_broker_stop(b), SIM_OK);
	sim_broker_free(b);
}

/* The retained message survives a restart with persistence, and (the
 * control that shows the test can fail) is lost without it. */
static void
restart_case(bool persistence)
{
	struct sim_broker_opts o = { .persistence = persistence };
	struct sim_broker *b = NULL;
	struct sim_diag d = { "" };
	char got[256], db[PATH_MAX];
	uint16_t port;
	int pid1;

	CU_ASSERT_EQUAL_FATAL(sim_broker_start(&o, &b, &d), SIM_OK);
	port = sim_broker_port(b);
	pid1 = sim_broker_pid(b);
	CU_ASSERT_EQUAL(pub_retained(port, "fleetsim/test/keep", "kept"), 0);
	CU_ASSERT_EQUAL(sub_one(port, "fleetsim/test/keep", got, sizeof(got)), 0);
	CU_ASSERT_STRING_EQUAL(got, "kept");

	CU_ASSERT_EQUAL(sim_broker_stop(b), SIM_OK);
	snprintf(db, sizeof(db), "%s/mosquitto.db", sim_broker_dir(b));
	CU_ASSERT_EQUAL(exists(db), persistence);

	CU_ASSERT_EQUAL_FATAL(sim_broker_restart(b, &d), SIM_OK);
	CU_ASSERT_EQUAL(sim_broker_port(b), port);
	CU_ASSERT(sim_broker_pid(b) > 0 && sim_broker_pid(b) != pid1);
	sub_one(port, "fleetsim/test/keep", got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got, persistence ? "kept" : "");
	sim_broker_free(b);
}

static void
test_restart_persistence(void)
{
	restart_case(true);
}

static void
test_restart_without_persistence(void)
{
	restart_case(false);
}

static void
test_missing_executable(void)
{
	struct sim_broker_opts o = { .mosquitto = "/nonexistent" };
	struct sim_broker *b = (struct sim_broker *)&o;
	struct sim_diag d = { "" };
	char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

	CU_ASSERT_EQUAL(sim_broker_start(&o, &b, &d), SIM_ERR_INFRA);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "/nonexistent"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "install the mosquitto package"));
	sim_broker_free(b);
	b = NULL;

	/* A name is looked up on PATH (and the sbin folders). */
	o.mosquitto = "fleetsim-no-such-mosquitto";
	setenv("PATH", scratch, 1);
	d.msg[0] = '\0';
	CU_ASSERT_EQUAL(sim_broker_start(&o, &b, &d), SIM_ERR_INFRA);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "not found on PATH (install the mosquitto package)"));
	/* The default still finds Debian's /usr/sbin/mosquitto without PATH. */
	o.mosquitto = NULL;
	CU_ASSERT_EQUAL(sim_broker_start(&o, &b, &d), SIM_OK);
	sim_broker_free(b);
	if (old != NULL)
		setenv("PATH", old, 1);
	free(old);
}

static void
test_free_removes_dir(void)
{
	struct sim_broker_opts o = { .persistence = true };
	struct sim_broker *b = NULL;
	struct sim_diag d = { "" };
	char dir[PATH_MAX];
	int pid;

	CU_ASSERT_EQUAL_FATAL(sim_broker_start(&o, &b, &d), SIM_OK);
	snprintf(dir, sizeof(dir), "%s", sim_broker_dir(b));
	pid = sim_broker_pid(b);
	CU_ASSERT(exists(dir));
	sim_broker_free(b);
	CU_ASSERT(!exists(dir));
	CU_ASSERT(kill(pid, 0) == -1 && errno == ESRCH);
	sim_broker_free(NULL);
}

/* A port someone else listens on: mosquitto's own error comes back. */
static void
test_port_taken(void)
{
	struct sim_broker_opts o = { 0 };
	struct sim_broker *b = NULL;
	struct sim_diag d = { "" };
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd != -1);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CU_ASSERT_FATAL(listen(fd, 8) == 0);
	CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	o.port = ntohs(sa.sin_port);

	CU_ASSERT_EQUAL(sim_broker_start(&o, &b, &d), SIM_ERR_INFRA);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "Address already in use"));
	sim_broker_free(b);
	close(fd);
}

/* A broken TLS file makes mosquitto exit; the reason is in the message. */
static void
test_start_failure_explained(void)
{
	char cert[PATH_MAX + 32], key[PATH_MAX + 32];
	struct sim_broker_opts o = { 0 };
	struct sim_broker *b = NULL;
	struct sim_diag d = { "" };
	FILE *f;

	snprintf(cert, sizeof(cert), "%s/garbage.pem", scratch);
	snprintf(key, sizeof(key), "%s/garbage.key", scratch);
	f = fopen(cert, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs("not a certificate\n", f);
	fclose(f);
	f = fopen(key, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs("not a key\n", f);
	fclose(f);
	o.tls_cert = cert;
	o.tls_key = key;
	CU_ASSERT_EQUAL(sim_broker_start(&o, &b, &d), SIM_ERR_INFRA);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "exited with status"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "certificate"));
	sim_broker_free(b);
}

static void
test_bad_options(void)
{
	struct sim_broker_opts o = { .tls_cert = "x.pem" };
	struct sim_broker *b = NULL;
	struct sim_diag d = { "" };

	CU_ASSERT_EQUAL(sim_broker_start(&o, &b, &d), SIM_ERR_INVAL);
	o.tls_key = "x\nlistener 1 0.0.0.0";
	CU_ASSERT_EQUAL(sim_broker_start(&o, &b, &d), SIM_ERR_INVAL);
	CU_ASSERT_PTR_NULL(b);
	sim_broker_free(b);
}

/* Makes a CA (name.pem/.key) and, signed by it, a certificate for
 * localhost (leaf.pem/.key) in scratch. */
static int
make_certs(const char *ca, const char *leaf, const char *cn)
{
	return run("exec 2>>'%s/openssl.log'; cd '%s' && "
	    "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext && "
	    "{ [ -f %s.pem ] || timeout 30 openssl req -x509 -newkey ec "
	    "-pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=%s-ca "
	    "-keyout %s.key -out %s.pem; } && "
	    "timeout 30 openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
	    "-nodes -subj /CN=%s -keyout %s.key -out %s.csr && "
	    "timeout 30 openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key "
	    "-CAcreateserial -days 1 -extfile san.ext -out %s.pem",
	    scratch, scratch, ca, ca, ca, ca, cn, leaf, leaf, leaf, ca, ca, leaf) == 0 ? 0 : -1;
}

static int
tls_pub(uint16_t port, const char *ca, const char *client)
{
	char extra[PATH_MAX * 2 + 128] = "";

	if (client != NULL)
		snprintf(extra, sizeof(extra), "--cert '%s/%s.pem' --key '%s/%s.key'", scratch,
		    client, scratch, client);
	return run("timeout 10 mosquitto_pub --cafile '%s/%s.pem' %s -h localhost -p %u "
	    "-t fleetsim/tls -m x 2>/dev/null", scratch, ca, extra, (unsigned)port);
}

static void
test_tls(void)
{
	char cert[PATH_MAX + 32], key[PATH_MAX + 32], ca[PATH_MAX + 32], want[64];
	struct sim_broker_opts o = { 0 };
	struct sim_broker *b = NULL;
	struct sim_diag d = { "" };
	uint16_t port;

	CU_ASSERT_EQUAL_FATAL(make_certs("ca", "server", "localhost"), 0);
	CU_ASSERT_EQUAL_FATAL(make_certs("otherca", "otherleaf", "localhost"), 0);
	CU_ASSERT_EQUAL_FATAL(make_certs("ca", "client", "device-1"), 0);
	snprintf(cert, sizeof(cert), "%s/server.pem", scratch);
	snprintf(key, sizeof(key), "%s/server.key", scratch);
	snprintf(ca, sizeof(ca), "%s/ca.pem", scratch);
	o.tls_cert = cert;
	o.tls_key = key;

	CU_ASSERT_EQUAL_FATAL(sim_broker_start(&o, &b, &d), SIM_OK);
	port = sim_broker_port(b);
	snprintf(want, sizeof(want), "mqtts://localhost:%u", (unsigned)port);
	CU_ASSERT_STRING_EQUAL(sim_broker_url(b), want);
	CU_ASSERT_EQUAL(tls_pub(port, "ca", NULL), 0);
	CU_ASSERT_NOT_EQUAL(tls_pub(port, "otherca", NULL), 0);
	/* The only listener is TLS: plain MQTT is refused. */
	CU_ASSERT_NOT_EQUAL(run("timeout 10 mosquitto_pub -h 127.0.0.1 -p %u -t x -m x "
	    "2>/dev/null", (unsigned)port), 0);
	sim_broker_free(b);

	/* Client certificates required: a client without one is refused. */
	o.tls_ca = ca;
	o.tls_require_client_cert = true;
	b = NULL;
	CU_ASSERT_EQUAL_FATAL(sim_broker_start(&o, &b, &d), SIM_OK);
	port = sim_broker_port(b);
	CU_ASSERT_EQUAL(tls_pub(port, "ca", "client"), 0);
	CU_ASSERT_NOT_EQUAL(tls_pub(port, "ca", NULL), 0);
	CU_ASSERT_NOT_EQUAL(tls_pub(port, "ca", "otherleaf"), 0);
	sim_broker_free(b);
}

static void
test_cleanup_all(void)
{
	struct sim_broker_opts o = { .persistence = true };
	struct sim_broker *b1 = NULL, *b2 = NULL;
	struct sim_diag d = { "" };
	char dir1[PATH_MAX], dir2[PATH_MAX];
	int pid1, pid2;

	CU_ASSERT_EQUAL_FATAL(sim_broker_start(&o, &b1, &d), SIM_OK);
	CU_ASSERT_EQUAL_FATAL(sim_broker_start(NULL, &b2, &d), SIM_OK);
	/* A stopped broker's folder goes too. */
	CU_ASSERT_EQUAL(sim_broker_stop(b1), SIM_OK);
	snprintf(dir1, sizeof(dir1), "%s", sim_broker_dir(b1));
	snprintf(dir2, sizeof(dir2), "%s", sim_broker_dir(b2));
	pid1 = sim_broker_pid(b1);
	pid2 = sim_broker_pid(b2);
	CU_ASSERT_EQUAL(pid1, -1);
	CU_ASSERT(pid2 > 0);

	sim_broker_cleanup_all();
	CU_ASSERT(kill(pid2, 0) == -1 && errno == ESRCH);
	CU_ASSERT(!exists(dir1));
	CU_ASSERT(!exists(dir2));
	CU_ASSERT_EQUAL(sim_broker_pid(b2), -1);
	/* A cleaned-up broker cannot restart; freeing it is still required
	 * and safe. */
	CU_ASSERT_EQUAL(sim_broker_restart(b1, &d), SIM_ERR_INFRA);
	sim_broker_free(b1);
	sim_broker_free(b2);
	sim_broker_cleanup_all();
}

/* The broker dies with its parent even when the parent is SIGKILLed. We
 * become a subreaper so the orphaned broker is ours to reap and check. */
static void
test_dies_with_parent(void)
{
	struct { int pid; char dir[PATH_MAX]; } msg = { -1, "" };
	int fds[2], status, waited;
	pid_t mid, r;

	CU_ASSERT_FATAL(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	CU_ASSERT_FATAL(pipe(fds) == 0);
	mid = fork();
	CU_ASSERT_FATAL(mid != -1);
	if (mid == 0) {
		struct sim_broker *b = NULL;
		struct sim_diag d;

		close(fds[0]);
		if (sim_broker_start(NULL, &b, &d) == SIM_OK) {
			msg.pid = sim_broker_pid(b);
			snprintf(msg.dir, sizeof(msg.dir), "%s", sim_broker_dir(b));
		}
		(void)!write(fds[1], &msg, sizeof(msg));
		for (;;)
			pause();
	}
	close(fds[1]);
	CU_ASSERT_EQUAL(read(fds[0], &msg, sizeof(msg)), (ssize_t)sizeof(msg));
	close(fds[0]);
	CU_ASSERT(msg.pid > 0 && kill(msg.pid, 0) == 0);
	kill(mid, SIGKILL);
	waitpid(mid, &status, 0);
	if (msg.pid <= 0) {
		prctl(PR_SET_CHILD_SUBREAPER, 0);
		return;
	}

	for (waited = 0; waited < 5000; waited += 20) {
		r = waitpid(msg.pid, &status, WNOHANG);
		if (r == msg.pid)
			break;
		sleep_ms(20);
	}
	CU_ASSERT(waited < 5000);
	if (waited >= 5000)
		kill(msg.pid, SIGKILL), waitpid(msg.pid, &status, 0);
	rm_rf(msg.dir);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "start, TCP and MQTT", test_start_speaks_mqtt },
		{ "restart keeps retained with persistence", test_restart_persistence },
		{ "restart loses retained without persistence", test_restart_without_persistence },
		{ "missing executable", test_missing_executable },
		{ "free removes the folder", test_free_removes_dir },
		{ "port taken", test_port_taken },
		{ "start failure explained", test_start_failure_explained },
		{ "bad options", test_bad_options },
		{ "TLS", test_tls },
		{ "cleanup_all", test_cleanup_all },
		{ "dies with parent", test_dies_with_parent },
		{ NULL, NULL },
	};
	const char *tmp = getenv("TMPDIR");
	int rc;

	snprintf(scratch, sizeof(scratch), "%s/fleetsim-broker-test-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(scratch) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	rc = fs_test_main("broker", tests);
	rm_rf(scratch);
	return rc;
}
