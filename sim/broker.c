/* The embedded broker: mosquitto as a child process on 127.0.0.1.
 *
 * Everything the child needs (paths, argv) is computed before fork() so
 * the child only makes async-signal-safe calls before exec, which matters
 * because fleetsim is multithreaded. The same precomputed paths let
 * sim_broker_cleanup_all() run from a signal handler. */
#include "broker.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 5000
#define POLL_MS 20
/* How long a TLS broker must stay up after it listens: it loads its
 * certificate after listening and exits at once if that fails. */
#define TLS_SETTLE_MS 100
#define PORT_ATTEMPTS 5
#define MAX_BROKERS 64
#define TAIL_LINES 5

struct sim_broker {
	/* Read from signal handlers, hence sig_atomic_t (an int on Linux, as
	 * wide as pid_t). */
	volatile sig_atomic_t pid;
	int slot;
	uint16_t port;
	bool tls;
	bool tls_require;
	bool persistence;
	char *tls_ca, *tls_cert, *tls_key;
	off_t log_start, err_start;
	char url[64];
	char exe[PATH_MAX];
	char dir[PATH_MAX];
	char conf[PATH_MAX];
	char log[PATH_MAX];
	char err[PATH_MAX];
	char db[PATH_MAX];
	char dbnew[PATH_MAX];
};

/* Live brokers, from start until free. A fixed array of lock-free atomic
 * pointers is what a signal handler can walk safely. */
static _Atomic(struct sim_broker *) registry[MAX_BROKERS];

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reaps pid within timeout_ms. Returns 1 with *status set when it exited,
 * 0 on timeout, -1 when the child is not ours to wait for (already reaped
 * elsewhere, or SIGCHLD ignored). Async-signal-safe. */
static int
reap(pid_t pid, long timeout_ms, int *status)
{
	long waited = 0;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 1;
		if (r == -1 && errno != EINTR)
			return -1;
		if (waited >= timeout_ms)
			return 0;
		sleep_ms(10);
		waited += 10;
	}
}

/* SIGTERM, then SIGKILL after timeout_ms. Returns true when the broker
 * stopped on its own (so it wrote its persistence file). Async-signal-safe. */
static bool
terminate(pid_t pid, long timeout_ms)
{
	int status;
	int r;

	if (kill(pid, SIGTERM) == -1 && errno == ESRCH)
		return true;
	r = reap(pid, timeout_ms, &status);
	if (r != 0)
		return true;
	kill(pid, SIGKILL);
	(void)reap(pid, 1000, &status);
	return false;
}

static bool
join_path(char *dst, const char *dir, const char *name)
{
	int n = snprintf(dst, PATH_MAX, "%s/%s", dir, name);

	return n > 0 && n < PATH_MAX;
}

/* Finds an executable: a name with a slash is taken as is, otherwise PATH
 * is searched, then the sbin folders, which are often missing from a
 * non-root PATH although Debian installs mosquitto there. */
static bool
find_exe(const char *name, char *out)
{
	static const char *const extra[] = { "/usr/sbin", "/usr/local/sbin", "/sbin" };
	const char *path = getenv("PATH");
	const char *p, *end;
	size_t len;
	size_t i;

	if (strchr(name, '/') != NULL) {
		if (strlen(name) >= PATH_MAX || access(name, X_OK) != 0)
			return false;
		strcpy(out, name);
		return true;
	}
	for (p = path; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (len == 0 || len + strlen(name) + 2 > PATH_MAX)
			continue;
		snprintf(out, PATH_MAX, "%.*s/%s", (int)len, p, name);
		if (access(out, X_OK) == 0)
			return true;
	}
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		snprintf(out, PATH_MAX, "%s/%s", extra[i], name);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

/* Asks the kernel for a free port. Another process may take it before
 * mosquitto binds it; start retries with another port when that happens. */
static enum sim_err
free_port(uint16_t *port, struct sim_diag *d)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	enum sim_err rv = SIM_OK;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		sim_diag_set(d, "cannot create a socket to find a free port: %s", strerror(errno));
		return SIM_ERR_INFRA;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1) {
		sim_diag_set(d, "cannot find a free port on 127.0.0.1: %s", strerror(errno));
		rv = SIM_ERR_INFRA;
		goto out;
	}
	*port = ntohs(sa.sin_port);
out:
	close(fd);
	return rv;
}

/* Whether 127.0.0.1:port accepts a TCP connection. Loopback connects
 * complete or fail at once, so a blocking connect is bounded. */
static bool
port_open(uint16_t port)
{
	struct sockaddr_in sa;
	bool ok;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
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

/* Whether the process pid holds the socket listening on 127.0.0.1:port.
 * A successful connect alone could reach another program that took the
 * port first, while mosquitto is still on its way to "Address already in
 * use". Returns -1 when /proc cannot tell (e.g. mounted with hidepid). */
static int
listener_owned_by(pid_t pid, uint16_t port)
{
	unsigned long inodes[8];
	char line[512], path[64], link[64], want[32];
	unsigned long inode;
	unsigned addr, lport, state;
	struct dirent *de;
	int ninodes = 0;
	int found = 0;
	DIR *dir = NULL;
	FILE *f;
	ssize_t n;
	int i;

	f = fopen("/proc/net/tcp", "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL && ninodes < 8) {
		if (sscanf(line, " %*u: %x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
		    &addr, &lport, &state, &inode) == 4 && lport == port &&
		    state == 0x0A && inode != 0)
			inodes[ninodes++] = inode;
	}
	fclose(f);
	if (ninodes == 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (dir == NULL)
		return -1;
	while (!found && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%.16s", (int)pid, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		for (i = 0; i < ninodes && !found; i++) {
			snprintf(want, sizeof(want), "socket:[%lu]", inodes[i]);
			found = strcmp(link, want) == 0;
		}
	}
	closedir(dir);
	return found;
}

static off_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Appends to buf the last TAIL_LINES lines written to path since offset
 * start, one per "; "-separated item. Returns false when there were none. */
static bool
append_tail(char *buf, size_t cap, const char *path, off_t start)
{
	char chunk[2048];
	char *lines[TAIL_LINES];
	size_t used = strlen(buf);
	off_t size = file_size(path);
	off_t from;
	ssize_t n;
	int nlines = 0;
	char *p, *nl;
	int fd, i;

	if (size <= start)
		return false;
	from = size - start > (off_t)sizeof(chunk) - 1 ? size - (off_t)sizeof(chunk) + 1 : start;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return false;
	n = pread(fd, chunk, sizeof(chunk) - 1, from);
	close(fd);
	if (n <= 0)
		return false;
	chunk[n] = '\0';
	/* Keep a ring of the last lines; a partial first line is dropped when
	 * the chunk did not start at the beginning of the new output. */
	p = chunk;
	if (from != start && (nl = strchr(p, '\n')) != NULL)
		p = nl + 1;
	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		/* The timestamps are noise in a one-line message, and so is the
		 * warning about running as root, which we chose to do. */
		p += strspn(p, "0123456789");
		if (*p == ':')
			p += strspn(p, ": ");
		if (*p != '\0' && strstr(p, "should not be run as root") == NULL) {
			if (nlines == TAIL_LINES) {
				memmove(lines, lines + 1, sizeof(lines[0]) * (TAIL_LINES - 1));
				nlines--;
			}
			lines[nlines++] = p;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	for (i = 0; i < nlines && used < cap; i++)
		used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? "; " : "", lines[i]);
	return nlines > 0;
}

/* Explains a failed start: what happened, then the tail of the log and of
 * stderr (some errors are printed before mosquitto opens its log). */
static void
fail_diag(struct sim_broker *b, struct sim_diag *d, const char *what)
{
	char tail[700] = "";
	bool any;

	any = append_tail(tail, sizeof(tail), b->log, b->log_start);
	any = append_tail(tail, sizeof(tail), b->err, b->err_start) || any;
	if (any)
		sim_diag_set(d, "mosquitto (%s) %s; its log says: %s", b->exe, what, tail);
	else
		sim_diag_set(d, "mosquitto (%s) %s and logged nothing", b->exe, what);
}

/* True when the log shows the listener lost a race for its port. */
static bool
lost_port_race(struct sim_broker *b)
{
	char tail[700] = "";

	append_tail(tail, sizeof(tail), b->log, b->log_start);
	append_tail(tail, sizeof(tail), b->err, b->err_start);
	return strstr(tail, "Address already in use") != NULL;
}

/* Config values run to the end of the line, so a newline would inject
 * options. */
static bool
conf_safe(const char *s)
{
	return s == NULL || strpbrk(s, "\r\n") == NULL;
}

static enum sim_err
write_config(struct sim_broker *b, struct sim_diag *d)
{
	enum sim_err rv = SIM_OK;
	FILE *f;

	f = fopen(b->conf, "we");
	if (f == NULL) {
		sim_diag_set(d, "cannot write %s: %s", b->conf, strerror(errno));
		return SIM_ERR_INFRA;
	}
	fprintf(f, "# Generated by fleetsim; rewritten on every start.\n");
	/* Run as root, mosquitto 2.0 switches to the "mosquitto" user right
	 * after reading this file, before it opens its log, persistence file
	 * and TLS keys; that user cannot enter our 0700 folder. Staying root
	 * is acceptable for a loopback-only test broker. */
	if (geteuid() == 0)
		fprintf(f, "user root\n");
	fprintf(f, "allow_anonymous true\n");
	fprintf(f, "set_tcp_nodelay true\n");
	/* 0 and 0 mean no limit: a slow consumer must not lose QoS 1/2
	 * messages, because the simulator counts every one. */
	fprintf(f, "max_queued_messages 0\n");
	fprintf(f, "max_queued_bytes 0\n");
	fprintf(f, "max_inflight_messages 100\n");
	if (b->persistence) {
		fprintf(f, "persistence true\n");
		fprintf(f, "persistence_location %s/\n", b->dir);
		/* A graceful exit (SIGTERM) always writes the database; the
		 * timed save only bounds the loss if we must SIGKILL it. Saving
		 * on every change would rewrite the whole database per message. */
		fprintf(f, "autosave_on_changes false\n");
		fprintf(f, "autosave_interval 5\n");
	} else {
		fprintf(f, "persistence false\n");
	}
	fprintf(f, "log_dest file %s\n", b->log);
	fprintf(f, "log_type error\nlog_type warning\nlog_type notice\n");
	fprintf(f, "log_timestamp true\n");
	fprintf(f, "listener %u 127.0.0.1\n", (unsigned)b->port);
	fprintf(f, "max_connections -1\n");
	if (b->tls) {
		if (b->tls_ca != NULL)
			fprintf(f, "cafile %s\n", b->tls_ca);
		fprintf(f, "certfile %s\n", b->tls_cert);
		fprintf(f, "keyfile %s\n", b->tls_key);
		fprintf(f, "require_certificate %s\n", b->tls_require ? "true" : "false");
		fprintf(f, "tls_version tlsv1.2\n");
	}
	if (ferror(f)) {
		sim_diag_set(d, "cannot write %s", b->conf);
		rv = SIM_ERR_INFRA;
	}
	if (fclose(f) != 0 && rv == SIM_OK) {
		sim_diag_set(d, "cannot write %s: %s", b->conf, strerror(errno));
		rv = SIM_ERR_INFRA;
	}
	return rv;
}

/* Runs in the forked child: only async-signal-safe calls until exec.
 * status_fd is close-on-exec: the parent sees EOF once exec succeeded, or
 * the errno of a failed exec. */
static void
child(const struct sim_broker *b, char *const argv[], pid_t parent, int status_fd)
{
	struct rlimit rl;
	sigset_t none;
	int fd;

	/* Die with fleetsim even when it is SIGKILLed. The check after it
	 * closes the window where the parent died before the prctl. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent)
		_exit(126);
	/* Keep terminal signals (Ctrl-C) away: fleetsim stops the broker
	 * itself, after the devices have disconnected. */
	setpgid(0, 0);
	/* exec keeps the signal mask, and a blocked SIGTERM would make the
	 * broker unstoppable. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	/* A fleet needs one descriptor per device on the broker side too. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	fd = open("/dev/null", O_RDWR);
	if (fd == -1)
		_exit(126);
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	fd = open(b->err, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd != -1)
		dup2(fd, STDERR_FILENO);
	/* The device sockets fleetsim holds must not leak into the broker;
	 * a leaked listening socket would also fool listener_owned_by(). */
#ifdef SYS_close_range
	if ((status_fd == 3 || syscall(SYS_close_range, 3U, (unsigned)status_fd - 1, 0U) == 0) &&
	    syscall(SYS_close_range, (unsigned)status_fd + 1, ~0U, 0U) == 0)
		goto exec;
#endif
	for (fd = 3; fd < 4096; fd++) {
		if (fd != status_fd)
			close(fd);
	}
#ifdef SYS_close_range
exec:
#endif
	execv(b->exe, argv);
	fd = errno;
	(void)!write(status_fd, &fd, sizeof(fd));
	_exit(127);
}

/* Waits until the child has called exec. Returns 0 on success, the errno
 * of a failed exec, or -1 on timeout. */
static int
wait_exec(int fd, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t left;
	int err = 0;
	ssize_t n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
			return -1;
		if (pfd.revents == 0)
			continue;
		n = read(fd, &err, sizeof(err));
		if (n == -1 && errno == EINTR)
			continue;
		return n == (ssize_t)sizeof(err) ? err : 0;
	}
}

/* Spawns mosquitto on b->port and waits until it accepts connections.
 * *port_race is set when it failed because the port was taken. */
static enum sim_err
spawn_once(struct sim_broker *b, bool *port_race, struct sim_diag *d)
{
	char *argv[] = { b->exe, "-c", b->conf, NULL };
	char what[128];
	enum sim_err rv;
	int64_t deadline;
	pid_t parent = getpid();
	pid_t pid;
	int fds[2] = { -1, -1 };
	int status, r;
	bool settled = false;

	*port_race = false;
	rv = write_config(b, d);
	if (rv != SIM_OK)
		goto out;
	b->log_start = file_size(b->log);
	b->err_start = file_size(b->err);
	if (pipe2(fds, O_CLOEXEC) == -1) {
		sim_diag_set(d, "cannot start mosquitto: pipe: %s", strerror(errno));
		rv = SIM_ERR_INFRA;
		goto out;
	}
	deadline = now_ms() + START_TIMEOUT_MS;
	pid = fork();
	if (pid == -1) {
		sim_diag_set(d, "cannot start mosquitto: fork: %s", strerror(errno));
		rv = SIM_ERR_INFRA;
		goto out;
	}
	if (pid == 0)
		child(b, argv, parent, fds[1]);
	b->pid = pid;
	close(fds[1]);
	fds[1] = -1;
	r = wait_exec(fds[0], deadline);
	if (r != 0) {
		terminate(pid, 0);
		b->pid = -1;
		if (r > 0)
			sim_diag_set(d, "cannot execute %s: %s", b->exe, strerror(r));
		else
			sim_diag_set(d, "mosquitto (%s) was not started within %d s", b->exe,
			    START_TIMEOUT_MS / 1000);
		rv = SIM_ERR_INFRA;
		goto out;
	}

	for (;;) {
		/* Looked at before reaping, so that an exit meanwhile is caught
		 * below rather than the port taken for a live broker's. */
		bool up = port_open(b->port) && listener_owned_by(pid, b->port) != 0;

		r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			b->pid = -1;
			if (WIFEXITED(status))
				snprintf(what, sizeof(what), "exited with status %d during start-up",
				    WEXITSTATUS(status));
			else
				snprintf(what, sizeof(what), "was killed by signal %d during start-up",
				    WTERMSIG(status));
			*port_race = lost_port_race(b);
			fail_diag(b, d, what);
			rv = SIM_ERR_INFRA;
			goto out;
		}
		/* mosquitto listens first and loads its certificate after: a
		 * bad one makes it exit a moment later. Look once more then. */
		if (up && b->tls && !settled) {
			settled = true;
			sleep_ms(TLS_SETTLE_MS);
			continue;
		}
		if (up)
			break;
		if (now_ms() >= deadline) {
			terminate(pid, 0);
			b->pid = -1;
			snprintf(what, sizeof(what),
			    "did not accept connections on 127.0.0.1:%u within %d s",
			    (unsigned)b->port, START_TIMEOUT_MS / 1000);
			fail_diag(b, d, what);
			rv = SIM_ERR_INFRA;
			goto out;
		}
		sleep_ms(POLL_MS);
	}
	rv = SIM_OK;
out:
	if (fds[0] != -1)
		close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	return rv;
}

static bool
registered(const struct sim_broker *b)
{
	return b->slot >= 0 && atomic_load(&registry[b->slot]) == b;
}

enum sim_err
sim_broker_start(const struct sim_broker_opts *o, struct sim_broker **out,
    struct sim_diag *d)
{
	static const struct sim_broker_opts defaults;
	const char *name, *tmp;
	struct sim_broker *b = NULL;
	enum sim_err rv = SIM_OK;
	bool race;
	int attempt, i;

	*out = NULL;
	if (o == NULL)
		o = &defaults;
	if ((o->tls_cert == NULL) != (o->tls_key == NULL) ||
	    (o->tls_cert == NULL && (o->tls_ca != NULL || o->tls_require_client_cert)) ||
	    (o->tls_require_client_cert && o->tls_ca == NULL) ||
	    !conf_safe(o->tls_ca) || !conf_safe(o->tls_cert) || !conf_safe(o->tls_key)) {
		sim_diag_set(d, "broker TLS options need both a certificate and a key, "
		    "a CA to require client certificates, and no newlines");
		return SIM_ERR_INVAL;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return SIM_ERR_NOMEM;
	b->pid = -1;
	b->slot = -1;
	b->persistence = o->persistence;
	b->tls = o->tls_cert != NULL;
	b->tls_require = o->tls_require_client_cert;

	name = o->mosquitto != NULL ? o->mosquitto : "mosquitto";
	if (!find_exe(name, b->exe)) {
		if (strchr(name, '/') != NULL)
			sim_diag_set(d, "mosquitto not found at %s (install the mosquitto package, "
			    "or fix the path)", name);
		else if (o->mosquitto == NULL)
			sim_diag_set(d, "mosquitto not found on PATH (install the mosquitto package)");
		else
			sim_diag_set(d, "%s not found on PATH (install the mosquitto package)", name);
		rv = SIM_ERR_INFRA;
		goto out;
	}

	/* mosquitto resolves relative paths against its own working folder,
	 * which is ours today; absolute paths keep that from mattering. */
	if (b->tls) {
		const char *const in[] = { o->tls_cert, o->tls_key, o->tls_ca };
		char **const abs[] = { &b->tls_cert, &b->tls_key, &b->tls_ca };

		for (i = 0; i < 3; i++) {
			if (in[i] == NULL)
				continue;
			*abs[i] = realpath(in[i], NULL);
			if (*abs[i] == NULL) {
				sim_diag_set(d, "broker TLS file %s: %s", in[i], strerror(errno));
				rv = SIM_ERR_INFRA;
				goto out;
			}
		}
	}

	tmp = getenv("TMPDIR");
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (snprintf(b->dir, sizeof(b->dir), "%s/fleetsim-broker-XXXXXX", tmp) >=
	    (int)sizeof(b->dir) || mkdtemp(b->dir) == NULL) {
		sim_diag_set(d, "cannot create a temporary folder in %s: %s", tmp,
		    strerror(errno));
		b->dir[0] = '\0';
		rv = SIM_ERR_INFRA;
		goto out;
	}
	if (!join_path(b->conf, b->dir, "mosquitto.conf") ||
	    !join_path(b->log, b->dir, "mosquitto.log") ||
	    !join_path(b->err, b->dir, "stderr.log") ||
	    !join_path(b->db, b->dir, "mosquitto.db") ||
	    !join_path(b->dbnew, b->dir, "mosquitto.db.new") ||
	    !conf_safe(b->dir)) {
		sim_diag_set(d, "temporary folder path unusable: %s", b->dir);
		rv = SIM_ERR_INFRA;
		goto out;
	}

	/* Registered before the child exists, so a signal arriving during
	 * start-up still stops it. */
	for (i = 0; i < MAX_BROKERS; i++) {
		struct sim_broker *expected = NULL;

		if (atomic_compare_exchange_strong(&registry[i], &expected, b)) {
			b->slot = i;
			break;
		}
	}
	if (b->slot < 0) {
		sim_diag_set(d, "too many embedded brokers (at most %d)", MAX_BROKERS);
		rv = SIM_ERR_INFRA;
		goto out;
	}

	for (attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
		b->port = o->port;
		if (b->port == 0) {
			rv = free_port(&b->port, d);
			if (rv != SIM_OK)
				goto out;
		}
		rv = spawn_once(b, &race, d);
		if (rv == SIM_OK || !race || o->port != 0)
			break;
	}
	if (rv != SIM_OK)
		goto out;
	snprintf(b->url, sizeof(b->url), "%s://%s:%u", b->tls ? "mqtts" : "mqtt",
	    b->tls ? "localhost" : "127.0.0.1", (unsigned)b->port);
	*out = b;
	b = NULL;
out:
	sim_broker_free(b);
	return rv;
}

uint16_t
sim_broker_port(const struct sim_broker *b)
{
	return b->port;
}

const char *
sim_broker_url(const struct sim_broker *b)
{
	return b->url;
}

const char *
sim_broker_dir(const struct sim_broker *b)
{
	return b->dir;
}

int
sim_broker_pid(const struct sim_broker *b)
{
	return b->pid > 0 ? (int)b->pid : -1;
}

/* Returns SIM_ERR_INFRA when mosquitto had to be killed, since it then did
 * not write its persistence file. */
enum sim_err
sim_broker_stop(struct sim_broker *b)
{
	pid_t pid = b->pid;
	bool graceful;

	if (pid <= 0)
		return SIM_OK;
	graceful = terminate(pid, STOP_TIMEOUT_MS);
	b->pid = -1;
	return graceful ? SIM_OK : SIM_ERR_INFRA;
}

enum sim_err
sim_broker_restart(struct sim_broker *b, struct sim_diag *d)
{
	enum sim_err rv;
	bool race;

	if (!registered(b)) {
		sim_diag_set(d, "the broker in %s was already cleaned up", b->dir);
		return SIM_ERR_INFRA;
	}
	(void)sim_broker_stop(b);
	rv = spawn_once(b, &race, d);
	return rv;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)(flag == FTW_DP ? rmdir(path) : unlink(path));
	return 0;
}

void
sim_broker_free(struct sim_broker *b)
{
	struct sim_broker *expected = b;

	if (b == NULL)
		return;
	/* If cleanup_all got here first it already stopped the broker and
	 * removed its files; only the memory is left. */
	if (b->slot < 0 || atomic_compare_exchange_strong(&registry[b->slot], &expected, NULL)) {
		(void)sim_broker_stop(b);
		if (b->dir[0] != '\0')
			nftw(b->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	}
	free(b->tls_ca);
	free(b->tls_cert);
	free(b->tls_key);
	free(b);
}

/* Async-signal-safe: kill, waitpid, nanosleep, unlink and rmdir on paths
 * computed at start. Brokers are signalled together and then reaped, so
 * the total wait is one timeout, not one per broker. */
void
sim_broker_cleanup_all(void)
{
	struct sim_broker *taken[MAX_BROKERS];
	int saved_errno = errno;
	int status;
	int i, n = 0;

	for (i = 0; i < MAX_BROKERS; i++) {
		taken[n] = atomic_exchange(&registry[i], NULL);
		if (taken[n] == NULL)
			continue;
		if (taken[n]->pid > 0)
			kill(taken[n]->pid, SIGTERM);
		n++;
	}
	for (i = 0; i < n; i++) {
		struct sim_broker *b = taken[i];

		if (b->pid > 0) {
			if (reap(b->pid, 2000, &status) == 0) {
				kill(b->pid, SIGKILL);
				(void)reap(b->pid, 1000, &status);
			}
			b->pid = -1;
		}
		unlink(b->conf);
		unlink(b->log);
		unlink(b->err);
		unlink(b->db);
		unlink(b->dbnew);
		rmdir(b->dir);
	}
	errno = saved_errno;
}
