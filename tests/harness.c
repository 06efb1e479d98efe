#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "broker.h"

static char tmp_dirs[32][256];
static int ntmp;

const char *
th_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *d;

	if (ntmp >= 32)
		return NULL;
	snprintf(tmp_dirs[ntmp], sizeof(tmp_dirs[ntmp]), "%s/fleetsim-test-XXXXXX",
	    base && *base ? base : "/tmp");
	d = mkdtemp(tmp_dirs[ntmp]);
	if (d == NULL)
		return NULL;
	return tmp_dirs[ntmp++];
}

const char *
th_write(const char *dir, const char *name, const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
	return path;
}

static const char *
binary(void)
{
	const char *b = getenv("FLEETSIM_BINARY");

	return b && *b ? b : "fleetsim";
}

int
th_fleetsim_spawn(const char *dir, const char *const *argv)
{
	return th_spawn(dir, "fleetsim.out", binary(), argv);
}

int
th_spawn(const char *dir, const char *out_name, const char *prog, const char *const *argv)
{
	char out[512];
	const char *args[64];
	int n = 0, pid, fd;

	args[n++] = prog;
	for (int i = 0; argv[i] != NULL && n < 63; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	snprintf(out, sizeof(out), "%s/%s", dir, out_name);
	pid = fork();
	if (pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execvp(args[0], (char *const *)args);
		_exit(127);
	}
	return pid;
}

int
th_wait(int pid, int timeout_s)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int status;

	for (int i = 0; i < timeout_s * 20; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

int
th_fleetsim(const char *dir, int timeout_s, const char *const *argv)
{
	int pid = th_fleetsim_spawn(dir, argv);
	int rc;

	if (pid < 0)
		return -1;
	rc = th_wait(pid, timeout_s);
	if (rc != 0)
		fprintf(stderr, "--- fleetsim exited %d; its output:\n%s\n---\n", rc, th_output(dir));
	return rc;
}

const char *
th_output(const char *dir)
{
	static char buf[65536];
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/fleetsim.out", dir);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (f == NULL)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

struct rpt_json *
th_report(const char *dir)
{
	char path[512], err[256];
	struct rpt_json *r = NULL;

	snprintf(path, sizeof(path), "%s/report.json", dir);
	if (rpt_json_parse_file(path, &r, err, sizeof(err)) != RPT_OK) {
		fprintf(stderr, "cannot read %s: %s\n", path, err);
		CU_FAIL("report.json missing or malformed");
		return NULL;
	}
	return r;
}

double
th_num(const struct rpt_json *r, const char *path)
{
	const struct rpt_json *v = rpt_json_path(r, path);

	if (v == NULL || rpt_json_type(v) != RPT_JSON_NUMBER)
		return NAN;
	return rpt_json_num(v);
}

int
th_sh(const char *fmt, ...)
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

int
th_main(const char *suite, const struct fs_test *tests)
{
	int rc;

	/* A broker that drops a connection must fail a test, not kill the
	 * whole run. */
	signal(SIGPIPE, SIG_IGN);
	rc = fs_test_main(suite, tests);
	sim_broker_cleanup_all();
	for (int i = 0; i < ntmp; i++)
		th_sh("rm -rf '%s'", tmp_dirs[i]);
	return rc;
}

int
th_check_passed(const struct rpt_json *r, const char *name)
{
	const struct rpt_json *checks = rpt_json_get(r, "checks");

	for (size_t i = 0; i < rpt_json_len(checks); i++) {
		const struct rpt_json *c = rpt_json_at(checks, i);
		const char *n = rpt_json_str(rpt_json_get(c, "name"));

		if (n != NULL && strcmp(n, name) == 0)
			return rpt_json_truthy(rpt_json_get(c, "pass")) ? 1 : 0;
	}
	return -1;
}
