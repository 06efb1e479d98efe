/* Acceptance: a 2,000-device QoS 1 scenario against an external Mosquitto
 * reports exactly the number of messages that an independent mosquitto_sub
 * on the same topics counted, with no loss. fleetsim's own consumer could
 * share a bug with its devices (both use fleetsim's MQTT client); a
 * subscriber that shares no code with it cannot. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "broker.h"
#include "harness.h"

#define DEVICES 2000
/* 10 s at 1 s per device. */
#define PER_DEVICE 10
#define MARKER "devices/marker/telemetry"

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* mosquitto_sub in the background, one topic per line into out. It dies
 * with us, so a failed assertion cannot leave it running. */
static pid_t
spawn_sub(uint16_t port, const char *out)
{
	char p[8];
	pid_t parent = getpid(), pid;

	snprintf(p, sizeof(p), "%u", (unsigned)port);
	pid = fork();
	if (pid == 0) {
		FILE *f = freopen(out, "w", stdout);

		if (f == NULL || prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
			_exit(127);
		execlp("mosquitto_sub", "mosquitto_sub", "-h", "127.0.0.1", "-p", p, "-q", "1",
		    "-t", "devices/+/telemetry", "-F", "%t", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Ends mosquitto_sub politely (it flushes and disconnects on SIGINT), by
 * force if it does not go within 5 s. */
static void
stop_sub(pid_t pid)
{
	int status;

	kill(pid, SIGINT);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		sleep_ms(50);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* Counts the marker lines in the file so far. */
static long
count_markers(const char *path)
{
	char line[256];
	long n = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strcmp(line, MARKER "\n") == 0;
	fclose(f);
	return n;
}

/* Counts the device lines per device (ids "ic-N"); returns their total,
 * and in *other the lines that are neither a device's nor the marker. */
static long
count_devices(const char *path, unsigned *per, long *other)
{
	char line[256];
	long total = 0;
	FILE *f = fopen(path, "r");

	*other = 0;
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned n;
		char tail[32];

		if (strcmp(line, MARKER "\n") == 0)
			continue;
		if (sscanf(line, "devices/ic-%u/%31s", &n, tail) == 2 && n < DEVICES &&
		    strcmp(tail, "telemetry") == 0) {
			per[n]++;
			total++;
		} else {
			++*other;
		}
	}
	fclose(f);
	return total;
}

static void
test_matches_mosquitto_sub(void)
{
	struct sim_broker *b = NULL;
	struct sim_broker_opts bo = { 0 };
	struct sim_diag d = { "" };
	const char *dir = th_tmpdir();
	static unsigned per[DEVICES];
	char scen[512], text[1024], subout[512];
	struct rpt_json *r;
	long count, other;
	int waited, wrong = 0;
	pid_t sub;

	CU_ASSERT_FATAL(dir != NULL);
	CU_ASSERT_FATAL(sim_broker_start(&bo, &b, &d) == SIM_OK);
	snprintf(subout, sizeof(subout), "%s/mosquitto_sub.out", dir);
	sub = spawn_sub(sim_broker_port(b), subout);
	CU_ASSERT_FATAL(sub > 0);

	/* A subscription is in place once a message published after it
	 * arrives; publishing again covers one sent before it. */
	for (waited = 0; waited < 10000 && count_markers(subout) == 0; waited += 200) {
		th_sh("timeout 10 mosquitto_pub -h 127.0.0.1 -p %u -q 1 -t '" MARKER "' -m x",
		    (unsigned)sim_broker_port(b));
		sleep_ms(200);
	}
	CU_ASSERT_FATAL(count_markers(subout) > 0);

	snprintf(text, sizeof(text),
	    "name: independent-count\n"
	    "duration: 10s\n"
	    "drain: 10s\n"
	    "fleet:\n"
	    "  - group: ic\n"
	    "    count: %d\n"
	    "    connect: { ramp: 2s }\n"
	    "    telemetry: { every: 1s, qos: 1, topic: \"devices/{id}/telemetry\" }\n",
	    DEVICES);
	snprintf(scen, sizeof(scen), "%s", th_write(dir, "count.yaml", text));
	const char *argv[] = { "run", scen, "--broker", sim_broker_url(b), "--report-dir", dir,
		"--quiet", NULL };
	CU_ASSERT_EQUAL(th_fleetsim(dir, 60, argv), 0);

	/* fleetsim stops when its own consumer has everything; mosquitto_sub
	 * gets the same messages from the same broker a moment later at most. */
	sleep_ms(1000);
	stop_sub(sub);
	count = count_devices(subout, per, &other);
	CU_ASSERT_EQUAL(other, 0);
	for (int i = 0; i < DEVICES; i++)
		wrong += per[i] != PER_DEVICE;
	CU_ASSERT_EQUAL(wrong, 0);

	r = th_report(dir);
	if (r != NULL) {
		double sent = th_num(r, "patterns.telemetry.sent");
		double received = th_num(r, "patterns.telemetry.received");

		fprintf(stderr, "\n  mosquitto_sub counted %ld, fleetsim sent %g, received %g, "
		    "%d devices not seen exactly %d times\n", count, sent, received, wrong, PER_DEVICE);
		CU_ASSERT_EQUAL(sent, DEVICES * PER_DEVICE);
		CU_ASSERT_EQUAL(received, sent);
		CU_ASSERT_EQUAL((double)count, received);
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.lost"), 0);
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.duplicates"), 0);
		CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.foreign"), 0);
		CU_ASSERT_EQUAL(th_num(r, "devices.connected"), DEVICES);
		CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_path(r, "verdict")), "pass");
		rpt_json_free(r);
	}
	sim_broker_free(b);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "2,000 QoS 1 devices: fleetsim's count equals mosquitto_sub's", test_matches_mosquitto_sub },
		{ NULL, NULL },
	};

	return th_main("independent_count", tests);
}
