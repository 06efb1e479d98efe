/* An external two-phase-commit coordinator: the "user's backend" that the
 * integration tests run against fleetsim's devices in
 * `coordinator: external` mode. It follows the wire contract of
 * docs/two-phase-commit.md and nothing of fleetsim's own code, so that it
 * tests the devices and the observer the way a third party would.
 *
 *   tpc_extcoord --host 127.0.0.1 --port P --ids 'locks-%u' --count 100
 *       --group-size 5 --rate 10 --duration 10 [--deadline-ms 2000]
 *       [--resend-ms 500] [--start-delay 2] [--seed N]
 *       [--bug commit-always] [--verbose]
 *
 * Exit status: 0 when every transaction was decided and every participant
 * acknowledged it; 1 when the hard time limit (start delay + duration +
 * 30 s) passed first or a signal stopped it; 2 usage; 3 no broker.
 *
 * Paho's synchronous client delivers messages on its own thread. That
 * thread only queues them; the main thread owns every transaction and
 * does all the publishing, so the protocol state needs no lock. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTClient.h>

#include "json.h"

#define ID_MAX 64
#define MAX_GROUP 256
#define MAX_TX (1u << 20)
/* The main loop wakes at least this often to start transactions, enforce
 * deadlines and resend; messages wake it at once. */
#define TICK_MS 5
/* How long after the run's end the coordinator keeps resending before it
 * gives up and fails. */
#define GRACE_S 30
/* Time to keep trying the first connection: the broker may still be
 * starting. */
#define CONNECT_TRY_MS 5000

#define VOTE_TOPIC "tpc/coord/vote"
#define ACK_TOPIC "tpc/coord/ack"
#define QUERY_TOPIC "tpc/coord/query"

enum kind { K_VOTE, K_ACK, K_QUERY };

/* Per txid: the coordinator's state table. FORGOTTEN is "the log record
 * was deleted": every participant ACKed. */
enum txstate { TX_IDLE, TX_COLLECTING, TX_COMMITTING, TX_ABORTING, TX_FORGOTTEN };

enum why { WHY_NONE, WHY_VOTE, WHY_TIMEOUT, WHY_BUG };

struct part {
	char id[ID_MAX];
	int vote;                   /* -1 none yet, 0 no, 1 yes: the first counts */
	bool acked;
	int64_t sent_ms;            /* monotonic, of the last PREPARE or DECISION */
};

struct tx {
	uint64_t txid;
	enum txstate st;
	int64_t deadline_ms;        /* since the Unix epoch, as sent in PREPARE */
	enum why why;
	bool logged;                /* the in-memory "log" holds a decision */
	bool log_commit;            /* ...and it is this one */
	struct part *p;
	unsigned nvoted, nacked;
};

struct msg {
	struct msg *next;
	enum kind kind;
	int64_t recv_ms;            /* epoch ms at arrival, for the deadline */
	size_t len;
	char body[];
};

static struct {
	const char *host;
	unsigned port;
	const char *ids;
	unsigned count, group, seed;
	bool seeded;
	double rate, duration, start_delay;
	int64_t deadline_ms, resend_ms;
	bool commit_always;
	bool verbose;
} o = {
	.host = "127.0.0.1", .port = 1883, .deadline_ms = 2000, .resend_ms = 500,
};

/* The inbox: Paho's thread appends, the main thread takes all at once. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static struct msg *in_head, *in_tail;
static bool conn_lost;

static volatile sig_atomic_t stop;

static MQTTClient cli;
static struct tx *txs;
static unsigned ntx, started, forgotten;
static uint64_t txbase;
static uint64_t rng_s;

static struct {
	unsigned committed, aborted_vote, aborted_timeout;
	unsigned prepares, prepare_resends, decisions, decision_resends;
	unsigned presumed, answered, pub_fail, malformed, reconnects;
} st;

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
vlog(const char *fmt, ...)
{
	va_list ap;

	if (!o.verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "[%" PRId64 "] ", epoch_ms());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* xorshift64*: which devices take part only needs to look random. */
static uint64_t
rng(void)
{
	rng_s ^= rng_s >> 12;
	rng_s ^= rng_s << 25;
	rng_s ^= rng_s >> 27;
	return rng_s * 0x2545F4914F6CDD1DULL;
}

static void
on_lost(void *ctx, char *cause)
{
	pthread_mutex_lock(&mu);
	conn_lost = true;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

static int
on_message(void *ctx, char *topic, int topic_len, MQTTClient_message *m)
{
	struct msg *q;
	enum kind k;
	size_t len = m->payloadlen > 0 ? (size_t)m->payloadlen : 0;

	if (strcmp(topic, VOTE_TOPIC) == 0)
		k = K_VOTE;
	else if (strcmp(topic, ACK_TOPIC) == 0)
		k = K_ACK;
	else if (strcmp(topic, QUERY_TOPIC) == 0)
		k = K_QUERY;
	else
		goto out;
	q = malloc(sizeof(*q) + len + 1);
	if (q == NULL)
		goto out;       /* the device resends: QoS 1 and its own retries */
	q->next = NULL;
	q->kind = k;
	q->recv_ms = epoch_ms();
	q->len = len;
	memcpy(q->body, m->payload, len);
	q->body[len] = '\0';
	pthread_mutex_lock(&mu);
	if (in_tail != NULL)
		in_tail->next = q;
	else
		in_head = q;
	in_tail = q;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
out:
	MQTTClient_freeMessage(&m);
	MQTTClient_free(topic);
	return 1;
}

static void
publish(const char *topic, const char *body)
{
	MQTTClient_deliveryToken tok;
	int rc;

	/* QoS 1, not retained, as the contract says. Not waiting for the
	 * PUBACK: a message that does not get through is resent by the
	 * timers, which is the protocol's own answer to loss. */
	rc = MQTTClient_publish(cli, topic, (int)strlen(body), body, 1, 0, &tok);
	if (rc != MQTTCLIENT_SUCCESS)
		st.pub_fail++;
	vlog("-> %s %s%s", topic, body, rc != MQTTCLIENT_SUCCESS ? " (publish failed)" : "");
}

static void
send_prepare(struct tx *t, struct part *p, bool resend)
{
	char topic[ID_MAX + 32], body[256];

	snprintf(topic, sizeof(topic), "tpc/%s/prepare", p->id);
	/* The same change and the same absolute deadline on every resend. */
	snprintf(body, sizeof(body), "{\"txid\": \"%016" PRIx64 "\", \"change\": {\"tx\": %u}, "
	    "\"deadline\": %" PRId64 "}", t->txid, (unsigned)(t - txs), t->deadline_ms);
	publish(topic, body);
	p->sent_ms = mono_ms();
	if (resend)
		st.prepare_resends++;
	else
		st.prepares++;
}

static void
send_decision_to(const char *id, uint64_t txid, bool commit)
{
	char topic[ID_MAX + 32], body[128];

	snprintf(topic, sizeof(topic), "tpc/%s/decision", id);
	snprintf(body, sizeof(body), "{\"txid\": \"%016" PRIx64 "\", \"decision\": \"%s\"}", txid,
	    commit ? "commit" : "abort");
	publish(topic, body);
}

static void
send_decision(struct tx *t, struct part *p, bool resend)
{
	send_decision_to(p->id, t->txid, t->log_commit);
	p->sent_ms = mono_ms();
	if (resend)
		st.decision_resends++;
	else
		st.decisions++;
}

/* The coordinator's log. A real backend writes the record durably (and
 * fsyncs) here, before the first DECISION leaves; this one lives as long
 * as the process, which is all a test coordinator that never restarts
 * needs. */
static void
log_put(struct tx *t, bool commit)
{
	t->logged = true;
	t->log_commit = commit;
}

static void
log_del(struct tx *t)
{
	t->logged = false;
}

static void
decide(struct tx *t, bool commit, enum why why)
{
	if (o.commit_always) {
		/* The deliberately wrong coordinator: votes do not matter. */
		commit = true;
		why = WHY_BUG;
	}
	log_put(t, commit);
	t->st = commit ? TX_COMMITTING : TX_ABORTING;
	t->why = why;
	if (commit)
		st.committed++;
	else if (why == WHY_VOTE)
		st.aborted_vote++;
	else
		st.aborted_timeout++;
	vlog("decide %016" PRIx64 " %s", t->txid, commit ? "commit" : "abort");
	for (unsigned i = 0; i < o.group; i++)
		send_decision(t, &t->p[i], false);
}

/* The transaction txid names, or NULL if this run never started it. */
static struct tx *
lookup(const char *hex)
{
	uint64_t v = 0;

	if (hex == NULL || strlen(hex) != 16)
		return NULL;
	for (int i = 0; i < 16; i++) {
		char c = hex[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return NULL;
	}
	if (v < txbase || v - txbase >= started)
		return NULL;
	return &txs[v - txbase];
}

static bool
valid_txid(const char *hex)
{
	if (hex == NULL || strlen(hex) != 16)
		return false;
	for (int i = 0; i < 16; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return false;
	return true;
}

/* An id we can put in a topic: not empty, no level separator and no
 * wildcard, since a broker would route or refuse it differently. */
static bool
valid_id(const char *id)
{
	size_t n;

	if (id == NULL)
		return false;
	n = strlen(id);
	return n > 0 && n < ID_MAX && strpbrk(id, "/+#") == NULL;
}

static struct part *
find_part(struct tx *t, const char *id)
{
	for (unsigned i = 0; i < o.group; i++)
		if (strcmp(t->p[i].id, id) == 0)
			return &t->p[i];
	return NULL;
}

static bool
deciding(const struct tx *t)
{
	return t->st == TX_COMMITTING || t->st == TX_ABORTING;
}

static void
handle(const struct msg *m)
{
	struct rpt_json *j = NULL;
	const char *hex, *id;
	struct tx *t;
	struct part *p;

	if (rpt_json_parse(m->body, m->len, &j, NULL, 0) != RPT_OK ||
	    rpt_json_type(j) != RPT_JSON_OBJECT) {
		st.malformed++;
		goto out;
	}
	hex = rpt_json_str(rpt_json_get(j, "txid"));
	id = rpt_json_str(rpt_json_get(j, "id"));
	/* A message without a valid txid is malformed and dropped; so is one
	 * whose id cannot be answered. */
	if (!valid_txid(hex) || !valid_id(id)) {
		st.malformed++;
		goto out;
	}
	vlog("<- %s %s", m->kind == K_VOTE ? VOTE_TOPIC : m->kind == K_ACK ? ACK_TOPIC : QUERY_TOPIC,
	    m->body);
	t = lookup(hex);
	p = t != NULL ? find_part(t, id) : NULL;
	switch (m->kind) {
	case K_VOTE: {
		const char *v = rpt_json_str(rpt_json_get(j, "vote"));
		int yes;

		if (v == NULL || (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)) {
			st.malformed++;
			break;
		}
		yes = strcmp(v, "yes") == 0;
		if (t == NULL || t->st == TX_FORGOTTEN || p == NULL) {
			/* Presumed abort: never started or no longer logged.
			 * A late YES must not leave the device PREPARED. */
			if (yes) {
				send_decision_to(id, strtoull(hex, NULL, 16), false);
				st.presumed++;
			}
			break;
		}
		if (deciding(t)) {
			/* A late or repeated vote gets the decision again. */
			send_decision(t, p, true);
			break;
		}
		/* COLLECTING: the first vote counts. One that arrives at or
		 * after the deadline does not; the deadline aborts. */
		if (p->vote >= 0 || m->recv_ms >= t->deadline_ms)
			break;
		p->vote = yes;
		t->nvoted++;
		if (!yes && !o.commit_always)
			decide(t, false, WHY_VOTE);
		else if (t->nvoted == o.group) {
			bool all = true;

			for (unsigned i = 0; i < o.group; i++)
				all = all && t->p[i].vote == 1;
			decide(t, all, all ? WHY_NONE : WHY_VOTE);
		}
		break;
	}
	case K_ACK:
		/* The table marks the participant done on its ACK whatever
		 * decision it names: a device ACKs a DECISION it already had
		 * (a duplicate, or one it had settled before) without
		 * applying it, and the checker, not the coordinator, judges
		 * what was applied. An ACK before any DECISION changes
		 * nothing. */
		if (t == NULL || p == NULL || !deciding(t) || p->acked)
			break;
		p->acked = true;
		if (++t->nacked == o.group) {
			log_del(t);
			t->st = TX_FORGOTTEN;
			forgotten++;
		}
		break;
	case K_QUERY:
		if (t != NULL && deciding(t)) {
			send_decision_to(id, t->txid, t->log_commit);
			st.answered++;
		} else if (t == NULL || t->st == TX_FORGOTTEN) {
			/* No log record: never committed, so abort. */
			send_decision_to(id, strtoull(hex, NULL, 16), false);
			st.presumed++;
		}
		/* COLLECTING: the DECISION goes to every participant once
		 * decided; the device keeps asking until then. */
		break;
	}
out:
	rpt_json_free(j);
}

static void
start_tx(unsigned k, unsigned *perm)
{
	struct tx *t = &txs[k];

	t->txid = txbase + k;
	t->st = TX_COLLECTING;
	t->deadline_ms = epoch_ms() + o.deadline_ms;
	/* Distinct participants: a partial Fisher-Yates over a permutation
	 * that carries over from one transaction to the next. */
	for (unsigned i = 0; i < o.group; i++) {
		unsigned r = i + (unsigned)(rng() % (o.count - i));
		unsigned tmp = perm[i];

		perm[i] = perm[r];
		perm[r] = tmp;
		snprintf(t->p[i].id, ID_MAX, o.ids, perm[i]);
		t->p[i].vote = -1;
	}
	vlog("begin %016" PRIx64, t->txid);
	for (unsigned i = 0; i < o.group; i++)
		send_prepare(t, &t->p[i], false);
}

/* Deadlines and resends of every live transaction. */
static void
timers(unsigned *lo)
{
	int64_t now = mono_ms(), wall = epoch_ms();

	while (*lo < started && txs[*lo].st == TX_FORGOTTEN)
		(*lo)++;
	for (unsigned k = *lo; k < started; k++) {
		struct tx *t = &txs[k];

		if (t->st == TX_COLLECTING && wall >= t->deadline_ms) {
			decide(t, false, WHY_TIMEOUT);
			continue;
		}
		for (unsigned i = 0; i < o.group; i++) {
			struct part *p = &t->p[i];

			if (now - p->sent_ms < o.resend_ms)
				continue;
			if (t->st == TX_COLLECTING && p->vote < 0)
				send_prepare(t, p, true);
			else if (deciding(t) && !p->acked)
				send_decision(t, p, true);
		}
	}
}

static bool
mqtt_connect(void)
{
	MQTTClient_connectOptions co = MQTTClient_connectOptions_initializer;
	char *topics[] = { VOTE_TOPIC, ACK_TOPIC, QUERY_TOPIC };
	int qos[] = { 1, 1, 1 };

	co.keepAliveInterval = 20;
	co.cleansession = 1;
	co.connectTimeout = 2;
	/* Paho refuses to publish beyond this many unacknowledged QoS 1
	 * messages; a burst of PREPAREs must fit. */
	co.maxInflightMessages = 4096;
	if (MQTTClient_connect(cli, &co) != MQTTCLIENT_SUCCESS)
		return false;
	if (MQTTClient_subscribeMany(cli, 3, topics, qos) != MQTTCLIENT_SUCCESS) {
		MQTTClient_disconnect(cli, 0);
		return false;
	}
	return true;
}

static void
on_signal(int sig)
{
	stop = 1;
}

static int
usage(const char *fmt, ...)
{
	va_list ap;

	fputs("tpc_extcoord: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nusage: tpc_extcoord --ids FMT --count N --group-size G --rate R --duration S\n"
	    "    [--host H] [--port P] [--deadline-ms MS] [--resend-ms MS] [--start-delay S]\n"
	    "    [--seed N] [--bug commit-always] [--verbose]\n", stderr);
	return 2;
}

/* FMT must hold exactly one conversion, %u with optional zero flag and
 * width, since it goes to snprintf with one unsigned. */
static bool
valid_ids(const char *f)
{
	int conv = 0;

	for (const char *s = f; *s != '\0'; s++) {
		if (*s != '%')
			continue;
		if (s[1] == '%') {
			s++;
			continue;
		}
		s++;
		while (*s >= '0' && *s <= '9')
			s++;
		if (*s != 'u')
			return false;
		conv++;
	}
	return conv == 1;
}

static bool
num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
		return false;
	*out = v;
	return true;
}

static int
parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		double d;

		if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
			o.verbose = true;
			continue;
		}
		if (v == NULL)
			return usage("%s needs a value", a);
		i++;
		if (strcmp(a, "--host") == 0) {
			o.host = v;
		} else if (strcmp(a, "--ids") == 0) {
			if (!valid_ids(v))
				return usage("--ids: expected one %%u, like 'locks-%%u', got '%s'", v);
			o.ids = v;
		} else if (strcmp(a, "--bug") == 0) {
			if (strcmp(v, "commit-always") != 0)
				return usage("--bug: the only one is commit-always, got '%s'", v);
			o.commit_always = true;
		} else if (strcmp(a, "--port") == 0 && num(v, 1, 65535, &d)) {
			o.port = (unsigned)d;
		} else if (strcmp(a, "--count") == 0 && num(v, 1, 1e7, &d)) {
			o.count = (unsigned)d;
		} else if (strcmp(a, "--group-size") == 0 && num(v, 1, MAX_GROUP, &d)) {
			o.group = (unsigned)d;
		} else if (strcmp(a, "--rate") == 0 && num(v, 0.001, 1e5, &d)) {
			o.rate = d;
		} else if (strcmp(a, "--duration") == 0 && num(v, 0.001, 86400, &d)) {
			o.duration = d;
		} else if (strcmp(a, "--start-delay") == 0 && num(v, 0, 3600, &d)) {
			o.start_delay = d;
		} else if (strcmp(a, "--deadline-ms") == 0 && num(v, 1, 3600e3, &d)) {
			o.deadline_ms = (int64_t)d;
		} else if (strcmp(a, "--resend-ms") == 0 && num(v, 1, 3600e3, &d)) {
			o.resend_ms = (int64_t)d;
		} else if (strcmp(a, "--seed") == 0 && num(v, 0, 4294967295.0, &d)) {
			o.seed = (unsigned)d;
			o.seeded = true;
		} else {
			return usage("bad option or value: %s %s", a, v);
		}
	}
	if (o.ids == NULL || o.count == 0 || o.group == 0 || o.rate <= 0 || o.duration <= 0)
		return usage("--ids, --count, --group-size, --rate and --duration are required");
	if (o.group > o.count)
		return usage("--group-size %u is more than --count %u", o.group, o.count);
	if (llround(o.rate * o.duration) < 1 || llround(o.rate * o.duration) > MAX_TX)
		return usage("--rate x --duration must be 1 to %u transactions", MAX_TX);
	return 0;
}

int
main(int argc, char **argv)
{
	char url[300], cid[64];
	unsigned *perm, lo = 0;
	struct part *parts;
	struct sigaction sa;
	pthread_condattr_t ca;
	int64_t t0, begin, hard, next_try;
	int rc;

	if ((rc = parse_args(argc, argv)) != 0)
		return rc;
	ntx = (unsigned)llround(o.rate * o.duration);
	txs = calloc(ntx, sizeof(*txs));
	parts = calloc((size_t)ntx * o.group, sizeof(*parts));
	perm = calloc(o.count, sizeof(*perm));
	if (txs == NULL || parts == NULL || perm == NULL) {
		fprintf(stderr, "tpc_extcoord: out of memory\n");
		return 3;
	}
	for (unsigned k = 0; k < ntx; k++)
		txs[k].p = &parts[(size_t)k * o.group];
	for (unsigned i = 0; i < o.count; i++)
		perm[i] = i;
	rng_s = o.seeded ? (uint64_t)o.seed * 0x9E3779B97F4A7C15ULL + 1 :
	    (uint64_t)epoch_ms() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
	if (rng_s == 0)
		rng_s = 1;
	/* Unique per run: the start time in ms in the high bits, a counter
	 * in the low 20, so txid - txbase is the transaction's index. */
	txbase = ((uint64_t)epoch_ms() & ((UINT64_C(1) << 43) - 1)) << 20;

	/* The deadline loop sleeps on a monotonic clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cv, &ca);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	snprintf(url, sizeof(url), "tcp://%s:%u", o.host, o.port);
	snprintf(cid, sizeof(cid), "tpc-extcoord-%ld", (long)getpid());
	if (MQTTClient_create(&cli, url, cid, MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTCLIENT_SUCCESS ||
	    MQTTClient_setCallbacks(cli, NULL, on_lost, on_message, NULL) != MQTTCLIENT_SUCCESS) {
		fprintf(stderr, "tpc_extcoord: cannot create an MQTT client for %s\n", url);
		return 3;
	}
	t0 = mono_ms();
	while (!mqtt_connect()) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };

		if (mono_ms() - t0 > CONNECT_TRY_MS || stop) {
			fprintf(stderr, "tpc_extcoord: cannot connect to %s\n", url);
			MQTTClient_destroy(&cli);
			return 3;
		}
		nanosleep(&ts, NULL);
	}
	begin = mono_ms() + (int64_t)(o.start_delay * 1000);
	hard = begin + (int64_t)((o.duration + GRACE_S) * 1000);
	next_try = 0;
	rc = 1;
	while (!stop) {
		int64_t now = mono_ms();
		struct msg *q;
		bool lost;

		if (now >= hard)
			break;
		pthread_mutex_lock(&mu);
		q = in_head;
		in_head = in_tail = NULL;
		lost = conn_lost;
		pthread_mutex_unlock(&mu);
		while (q != NULL) {
			struct msg *next = q->next;

			handle(q);
			free(q);
			q = next;
		}
		/* A lost connection loses the subscriptions (clean session):
		 * reconnect and subscribe again; the resends cover what was
		 * missed meanwhile. */
		if (lost && now >= next_try) {
			if (mqtt_connect()) {
				pthread_mutex_lock(&mu);
				conn_lost = false;
				pthread_mutex_unlock(&mu);
				st.reconnects++;
			} else {
				next_try = now + 500;
			}
		}
		/* An open schedule: transaction k starts at begin + k / rate,
		 * however long the others take. */
		while (started < ntx && now >= begin + (int64_t)(started * 1000.0 / o.rate))
			start_tx(started++, perm);
		timers(&lo);
		if (started == ntx && forgotten == ntx) {
			rc = 0;
			break;
		}
		{
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += TICK_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_mutex_lock(&mu);
			if (in_head == NULL && !conn_lost)
				pthread_cond_timedwait(&cv, &mu, &ts);
			pthread_mutex_unlock(&mu);
		}
	}
	printf("tpc_extcoord: started %u committed %u aborted %u (by_vote %u, by_timeout %u) "
	    "acknowledged %u; prepares %u (+%u resent), decisions %u (+%u resent), "
	    "queries answered %u, presumed aborts %u, malformed %u, publish failures %u, "
	    "reconnects %u%s\n", started, st.committed, st.aborted_vote + st.aborted_timeout,
	    st.aborted_vote, st.aborted_timeout, forgotten, st.prepares, st.prepare_resends,
	    st.decisions, st.decision_resends, st.answered, st.presumed, st.malformed, st.pub_fail,
	    st.reconnects, o.commit_always ? " [bug: commit-always]" : "");
	if (rc != 0)
		printf("tpc_extcoord: FAILED: %s; %u of %u transactions not fully acknowledged\n",
		    stop ? "stopped by a signal" : "time limit reached", ntx - forgotten, ntx);
	fflush(stdout);
	if (MQTTClient_isConnected(cli))
		MQTTClient_disconnect(cli, 1000);
	MQTTClient_destroy(&cli);
	for (struct msg *q = in_head, *next; q != NULL; q = next) {
		next = q->next;
		free(q);
	}
	free(perm);
	free(parts);
	free(txs);
	return rc;
}
