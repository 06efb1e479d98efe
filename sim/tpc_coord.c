#include "tpc_coord.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tpc_wire.h"

/* If no COMMIT comes along to crash at, an armed crash happens anyway
 * after this many flushes, so that coordinator_crash always crashes. */
#define CRASH_PATIENCE 200

enum tx_state { TX_COLLECTING, TX_DECIDED };
enum vote_state { V_NONE, V_YES, V_NO };

struct part {
	uint32_t dev;
	uint8_t vote;               /* enum vote_state: the first vote seen */
	bool acked;
};

struct tx {
	uint64_t txid;
	uint64_t begun_ns, deadline_ns, next_resend_ns;
	int64_t deadline_ms;
	uint32_t n, yes, acked;
	uint32_t open_idx;          /* in c->open */
	uint8_t state;
	bool commit;
	bool log_begin, log_decision; /* records queued for the next flush */
	uint8_t cause;              /* enum sim_tpc_cause of the decision */
	char *change;
	size_t change_len;
	struct part p[];
};

struct sim_tpc_coord {
	struct sim_tpc_coord_opts o;
	char *log_path;
	const struct sim_tpc_coord_ops *ops;
	void *arg;
	FILE *log;
	/* Transactions not yet forgotten, in no order, and a txid index over
	 * them: linear probing, slots hold open index + 1 (0 is empty). */
	struct tx **open;
	size_t nopen, capopen;
	uint32_t *slots;
	size_t nslots;
	struct tx **queue;          /* with records waiting for the flush */
	size_t nqueue, capqueue;
	bool up;
	bool crash_armed;
	unsigned crash_wait;
	struct sim_tpc_coord_stats st;
};

static size_t
slot_of(uint64_t txid, size_t nslots)
{
	txid ^= txid >> 33;
	txid *= 0xff51afd7ed558ccdULL;
	txid ^= txid >> 33;
	return (size_t)txid & (nslots - 1);
}

static struct tx *
find(const struct sim_tpc_coord *c, uint64_t txid)
{
	if (c->nslots == 0)
		return NULL;
	for (size_t s = slot_of(txid, c->nslots); c->slots[s] != 0; s = (s + 1) & (c->nslots - 1))
		if (c->open[c->slots[s] - 1]->txid == txid)
			return c->open[c->slots[s] - 1];
	return NULL;
}

static size_t
slot_find(const struct sim_tpc_coord *c, uint64_t txid)
{
	size_t s = slot_of(txid, c->nslots);

	while (c->open[c->slots[s] - 1]->txid != txid)
		s = (s + 1) & (c->nslots - 1);
	return s;
}

static bool
rehash(struct sim_tpc_coord *c, size_t n)
{
	uint32_t *s = calloc(n, sizeof(*s));

	if (s == NULL)
		return false;
	for (size_t i = 0; i < c->nopen; i++) {
		size_t k = slot_of(c->open[i]->txid, n);

		while (s[k] != 0)
			k = (k + 1) & (n - 1);
		s[k] = (uint32_t)i + 1;
	}
	free(c->slots);
	c->slots = s;
	c->nslots = n;
	return true;
}

static bool
add_open(struct sim_tpc_coord *c, struct tx *t)
{
	size_t s;

	if (c->nopen == c->capopen) {
		size_t n = c->capopen ? c->capopen * 2 : 64;
		struct tx **p = realloc(c->open, n * sizeof(*p));

		if (p == NULL)
			return false;
		c->open = p;
		c->capopen = n;
	}
	if ((c->nopen + 1) * 2 > c->nslots && !rehash(c, c->nslots ? c->nslots * 2 : 128))
		return false;
	t->open_idx = (uint32_t)c->nopen;
	c->open[c->nopen++] = t;
	for (s = slot_of(t->txid, c->nslots); c->slots[s] != 0; s = (s + 1) & (c->nslots - 1))
		;
	c->slots[s] = t->open_idx + 1;
	return true;
}

/* Removes t from the index (backward-shift deletion keeps every probe
 * chain whole) and from the open list, and frees it. */
static void
forget(struct sim_tpc_coord *c, struct tx *t)
{
	size_t mask = c->nslots - 1, i = slot_find(c, t->txid), j = i;
	uint32_t last;

	for (;;) {
		j = (j + 1) & mask;
		if (c->slots[j] == 0)
			break;
		size_t k = slot_of(c->open[c->slots[j] - 1]->txid, c->nslots);

		/* Move j back into the hole unless its home lies in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		c->slots[i] = c->slots[j];
		i = j;
	}
	c->slots[i] = 0;
	/* Swap-remove from the open list, then fix the moved one's slot. */
	last = (uint32_t)--c->nopen;
	if (t->open_idx != last) {
		struct tx *m = c->open[last];

		c->slots[slot_find(c, m->txid)] = t->open_idx + 1;
		c->open[t->open_idx] = m;
		m->open_idx = t->open_idx;
	}
	free(t->change);
	free(t);
}

static void
record(struct sim_tpc_coord *c, uint64_t now, uint64_t txid, uint32_t dev, int ev, int val,
    int aux)
{
	struct sim_tpc_rec r = { .t_ns = now, .txid = txid, .device = dev, .ev = (uint8_t)ev,
		.val = (uint8_t)val, .aux = (uint8_t)aux };

	if (c->ops->record != NULL)
		c->ops->record(c->arg, &r);
}

static bool
enqueue(struct sim_tpc_coord *c, struct tx *t)
{
	if (c->nqueue == c->capqueue) {
		size_t n = c->capqueue ? c->capqueue * 2 : 64;
		struct tx **p = realloc(c->queue, n * sizeof(*p));

		if (p == NULL)
			return false;
		c->queue = p;
		c->capqueue = n;
	}
	c->queue[c->nqueue++] = t;
	return true;
}

static struct tx *
tx_new(uint64_t txid, uint32_t n)
{
	struct tx *t = calloc(1, sizeof(*t) + n * sizeof(struct part));

	if (t != NULL) {
		t->txid = txid;
		t->n = n;
	}
	return t;
}

/* The decision is made; it is logged and sent at the next flush. */
static void
decide(struct sim_tpc_coord *c, struct tx *t, bool commit, enum sim_tpc_cause cause)
{
	t->state = TX_DECIDED;
	t->commit = commit;
	t->cause = (uint8_t)cause;
	t->log_decision = true;
	if (!t->log_begin && !enqueue(c, t))
		t->log_decision = false;    /* out of memory: the deadline retries */
	if (!t->log_decision)
		t->state = TX_COLLECTING;
}

enum sim_err
sim_tpc_coord_new(const struct sim_tpc_coord_opts *o, const struct sim_tpc_coord_ops *ops,
    void *arg, struct sim_tpc_coord **out)
{
	struct sim_tpc_coord *c = NULL;
	enum sim_err rv = SIM_ERR_INVAL;

	if (out != NULL)
		*out = NULL;
	if (o == NULL || ops == NULL || out == NULL || o->log_path == NULL)
		goto out;
	rv = SIM_ERR_NOMEM;
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->log_path = strdup(o->log_path)) == NULL)
		goto out;
	c->o = *o;
	c->o.log_path = c->log_path;
	c->ops = ops;
	c->arg = arg;
	rv = SIM_ERR_IO;
	if ((c->log = fopen(c->log_path, "w")) == NULL)
		goto out;
	c->up = true;
	*out = c;
	c = NULL;
	rv = SIM_OK;
out:
	sim_tpc_coord_free(c);
	return rv;
}

/* Drops everything in memory (a crash does, and so does free). */
static void
drop_all(struct sim_tpc_coord *c)
{
	for (size_t i = 0; i < c->nopen; i++) {
		free(c->open[i]->change);
		free(c->open[i]);
	}
	c->nopen = 0;
	c->nqueue = 0;
	if (c->slots != NULL)
		memset(c->slots, 0, c->nslots * sizeof(*c->slots));
}

void
sim_tpc_coord_free(struct sim_tpc_coord *c)
{
	if (c == NULL)
		return;
	drop_all(c);
	free(c->open);
	free(c->slots);
	free(c->queue);
	if (c->log != NULL)
		fclose(c->log);
	free(c->log_path);
	free(c);
}

enum sim_err
sim_tpc_coord_begin(struct sim_tpc_coord *c, uint64_t now, uint64_t txid, const uint32_t *devs,
    uint32_t n, const char *change, size_t len)
{
	struct tx *t;

	if (c == NULL || n == 0 || devs == NULL || !c->up || find(c, txid) != NULL)
		return SIM_ERR_INVAL;
	if ((t = tx_new(txid, n)) == NULL)
		return SIM_ERR_NOMEM;
	if ((t->change = malloc(len + 1)) == NULL) {
		free(t);
		return SIM_ERR_NOMEM;
	}
	if (len > 0)
		memcpy(t->change, change, len);
	t->change[len] = '\0';
	t->change_len = len;
	for (uint32_t i = 0; i < n; i++)
		t->p[i].dev = devs[i];
	t->begun_ns = now;
	t->deadline_ns = now + c->o.deadline_ns;
	t->deadline_ms = (int64_t)(now + c->o.deadline_ns) / 1000000 +
	    c->o.unix_offset_ns / 1000000;
	t->next_resend_ns = now + c->o.resend_ns;
	t->log_begin = true;
	if (!add_open(c, t)) {
		free(t->change);
		free(t);
		return SIM_ERR_NOMEM;
	}
	if (!enqueue(c, t)) {
		forget(c, t);
		return SIM_ERR_NOMEM;
	}
	return SIM_OK;
}

static struct part *
part_of(struct tx *t, uint32_t dev)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->p[i].dev == dev)
			return &t->p[i];
	return NULL;
}

/* Whether the decision can be sent: logged (not waiting for the flush). */
static bool
decided(const struct tx *t)
{
	return t->state == TX_DECIDED && !t->log_decision;
}

void
sim_tpc_coord_vote(struct sim_tpc_coord *c, uint64_t now, uint64_t txid, uint32_t dev, bool yes)
{
	struct tx *t;
	struct part *p;

	if (c == NULL || !c->up)
		return;
	if ((t = find(c, txid)) == NULL) {
		/* Forgotten or never started: presumed abort, so that a
		 * device that voted yes does not stay prepared. */
		if (yes)
			c->ops->decision(c->arg, dev, txid, false);
		return;
	}
	if ((p = part_of(t, dev)) == NULL)
		return;
	if (p->vote == V_NONE) {
		record(c, now, txid, dev, SIM_TPC_VOTE_SEEN, yes, 0);
		if (!yes && c->o.bug == SIM_TPC_BUG_COMMIT_DESPITE_NO_VOTE)
			yes = true;
		p->vote = yes ? V_YES : V_NO;
		if (t->state == TX_COLLECTING && now < t->deadline_ns) {
			if (!yes)
				decide(c, t, false, SIM_TPC_BY_VOTES);
			else if (++t->yes == t->n)
				decide(c, t, true, SIM_TPC_BY_VOTES);
		}
	}
	if (decided(t))
		c->ops->decision(c->arg, dev, txid, t->commit);
}

void
sim_tpc_coord_ack(struct sim_tpc_coord *c, uint64_t now, uint64_t txid, uint32_t dev)
{
	struct tx *t;
	struct part *p;

	if (c == NULL || !c->up || (t = find(c, txid)) == NULL || !decided(t) ||
	    (p = part_of(t, dev)) == NULL || p->acked)
		return;
	p->acked = true;
	record(c, now, txid, dev, SIM_TPC_ACK_SEEN, 0, 0);
	if (++t->acked == t->n) {
		char hex[17];

		sim_tpc_txid_hex(txid, hex);
		/* Not fsynced: losing it only means resending a decision
		 * that every participant already has. */
		if (fprintf(c->log, "F %s\n", hex) < 0)
			c->st.log_errors++;
		forget(c, t);
	}
}

void
sim_tpc_coord_query(struct sim_tpc_coord *c, uint64_t now, uint64_t txid, uint32_t dev)
{
	struct tx *t;

	(void)now;
	if (c == NULL || !c->up)
		return;
	if ((t = find(c, txid)) == NULL)
		c->ops->decision(c->arg, dev, txid, false);
	else if (decided(t) && part_of(t, dev) != NULL)
		c->ops->decision(c->arg, dev, txid, t->commit);
	/* Still collecting: the device has the PREPARE resends to vote on. */
}

void
sim_tpc_coord_tick(struct sim_tpc_coord *c, uint64_t now)
{
	if (c == NULL || !c->up)
		return;
	for (size_t i = 0; i < c->nopen; i++) {
		struct tx *t = c->open[i];

		if (t->log_begin || t->log_decision)
			continue;   /* nothing went out yet */
		if (t->state == TX_COLLECTING && now >= t->deadline_ns) {
			decide(c, t, false, SIM_TPC_BY_TIMEOUT);
			continue;
		}
		if (now < t->next_resend_ns)
			continue;
		t->next_resend_ns = now + c->o.resend_ns;
		for (uint32_t k = 0; k < t->n; k++) {
			struct part *p = &t->p[k];

			if (t->state == TX_COLLECTING && p->vote == V_NONE) {
				c->ops->prepare(c->arg, p->dev, t->txid, t->deadline_ms, t->change,
				    t->change_len);
				c->st.resends++;
			} else if (t->state == TX_DECIDED && !p->acked) {
				c->ops->decision(c->arg, p->dev, t->txid, t->commit);
				c->st.resends++;
			}
		}
	}
}

bool
sim_tpc_coord_pending(const struct sim_tpc_coord *c)
{
	return c != NULL && c->up && c->nqueue > 0;
}

static bool
write_records(struct sim_tpc_coord *c, bool *commit)
{
	char hex[17];

	*commit = false;
	for (size_t i = 0; i < c->nqueue; i++) {
		struct tx *t = c->queue[i];

		sim_tpc_txid_hex(t->txid, hex);
		if (t->log_begin) {
			if (fprintf(c->log, "B %s %" PRId64, hex, t->deadline_ms) < 0)
				return false;
			for (uint32_t k = 0; k < t->n; k++)
				if (fprintf(c->log, " %" PRIu32, t->p[k].dev) < 0)
					return false;
			if (fputc('\n', c->log) == EOF)
				return false;
		}
		if (t->log_decision) {
			*commit = *commit || t->commit;
			/* The bug: the decision is made and sent, but never
			 * written, so a restart cannot know it. */
			if (c->o.bug != SIM_TPC_BUG_FORGET_DECISION &&
			    fprintf(c->log, "D %s %c\n", hex, t->commit ? 'c' : 'a') < 0)
				return false;
		}
	}
	return fflush(c->log) == 0 && fdatasync(fileno(c->log)) == 0;
}

bool
sim_tpc_coord_flush(struct sim_tpc_coord *c, uint64_t now)
{
	bool commit;

	if (c == NULL || !c->up || c->nqueue == 0)
		return false;
	c->st.fsyncs++;
	if (!write_records(c, &commit)) {
		c->st.log_errors++;
		sim_tpc_coord_crash(c, now);
		return true;
	}
	/* Durable now: the transactions start, and the decisions count, from
	 * here. BEGIN waits for its B line as DECIDE waits for its D: a crash
	 * before this flush loses the transaction without a PREPARE sent, and
	 * a BEGIN recorded at sim_tpc_coord_begin would stay undecided in the
	 * checker's eyes for ever. Its val is the number of participants
	 * (a byte, so capped), which the checker's validity rule counts YES
	 * votes against. */
	for (size_t i = 0; i < c->nqueue; i++) {
		struct tx *t = c->queue[i];

		if (t->log_begin)
			record(c, now, t->txid, 0, SIM_TPC_BEGIN,
			    t->n > UINT8_MAX ? UINT8_MAX : (int)t->n, 0);
		if (t->log_decision)
			record(c, now, t->txid, 0, SIM_TPC_DECIDE, t->commit, t->cause);
	}
	if (c->crash_armed && (commit || ++c->crash_wait >= CRASH_PATIENCE)) {
		sim_tpc_coord_crash(c, now);
		return true;
	}
	for (size_t i = 0; i < c->nqueue; i++) {
		struct tx *t = c->queue[i];
		bool begin = t->log_begin, dec = t->log_decision;

		t->log_begin = t->log_decision = false;
		for (uint32_t k = 0; k < t->n; k++) {
			struct part *p = &t->p[k];

			/* A transaction decided in the pass it began (a
			 * restart's abort) sends only its decision. */
			if (begin && !dec) {
				record(c, now, t->txid, p->dev, SIM_TPC_PREPARE, 0, 0);
				c->ops->prepare(c->arg, p->dev, t->txid, t->deadline_ms, t->change,
				    t->change_len);
			} else if (dec && !p->acked) {
				c->ops->decision(c->arg, p->dev, t->txid, t->commit);
			}
		}
		t->next_resend_ns = now + c->o.resend_ns;
	}
	c->nqueue = 0;
	return false;
}

void
sim_tpc_coord_crash_armed(struct sim_tpc_coord *c)
{
	if (c != NULL && c->up) {
		c->crash_armed = true;
		c->crash_wait = 0;
	}
}

void
sim_tpc_coord_crash(struct sim_tpc_coord *c, uint64_t now)
{
	(void)now;
	if (c == NULL || !c->up)
		return;
	c->st.crashes++;
	c->up = false;
	c->crash_armed = false;
	drop_all(c);
}

bool
sim_tpc_coord_up(const struct sim_tpc_coord *c)
{
	return c != NULL && c->up;
}

/* One log line back into memory. Malformed lines (a torn last write) are
 * skipped: what was not written whole was never acted on. */
static bool
replay(struct sim_tpc_coord *c, char *line, uint64_t now)
{
	char *save = NULL, *kind = strtok_r(line, " \n", &save);
	char *hex = strtok_r(NULL, " \n", &save);
	uint64_t txid;
	struct tx *t;

	if (kind == NULL || hex == NULL || !sim_tpc_txid_parse(hex, strlen(hex), &txid))
		return true;
	t = find(c, txid);
	if (kind[0] == 'B' && t == NULL) {
		uint32_t devs[4096], n = 0;
		char *tok = strtok_r(NULL, " \n", &save), *w;

		if (tok == NULL)
			return true;
		int64_t dl = strtoll(tok, NULL, 10);

		while ((w = strtok_r(NULL, " \n", &save)) != NULL && n < 4096)
			devs[n++] = (uint32_t)strtoul(w, NULL, 10);
		if (n == 0 || (t = tx_new(txid, n)) == NULL)
			return n == 0;
		for (uint32_t i = 0; i < n; i++)
			t->p[i].dev = devs[i];
		t->deadline_ms = dl;
		t->begun_ns = now;
		t->deadline_ns = now;
		if (!add_open(c, t)) {
			free(t);
			return false;
		}
	} else if (kind[0] == 'D' && t != NULL) {
		char *v = strtok_r(NULL, " \n", &save);

		if (v != NULL && (v[0] == 'c' || v[0] == 'a')) {
			t->state = TX_DECIDED;
			t->commit = v[0] == 'c';
		}
	} else if (kind[0] == 'F' && t != NULL) {
		forget(c, t);
	}
	return true;
}

enum sim_err
sim_tpc_coord_restart(struct sim_tpc_coord *c, uint64_t now)
{
	FILE *in = NULL;
	char line[65536];
	enum sim_err rv = SIM_ERR_INVAL;

	if (c == NULL || c->up)
		goto out;
	rv = SIM_ERR_IO;
	/* What the crashed process had handed to the file is in it. */
	if (fflush(c->log) != 0 || (in = fopen(c->log_path, "r")) == NULL)
		goto out;
	rv = SIM_ERR_NOMEM;
	while (fgets(line, sizeof(line), in) != NULL)
		if (!replay(c, line, now))
			goto out;
	c->up = true;
	for (size_t i = 0; i < c->nopen; i++) {
		struct tx *t = c->open[i];

		if (t->state == TX_DECIDED) {
			/* Resend at once: which participants ACKed is lost. */
			t->next_resend_ns = now;
		} else {
			decide(c, t, false, SIM_TPC_BY_COORDINATOR);
			if (!t->log_decision)
				goto out;
		}
	}
	rv = SIM_OK;
out:
	if (rv != SIM_OK && rv != SIM_ERR_INVAL) {
		c->up = false;
		drop_all(c);
	}
	if (in != NULL)
		fclose(in);
	return rv;
}

size_t
sim_tpc_coord_open(const struct sim_tpc_coord *c)
{
	return c != NULL ? c->nopen : 0;
}

void
sim_tpc_coord_stats(const struct sim_tpc_coord *c, struct sim_tpc_coord_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (c != NULL)
		*out = c->st;
}
