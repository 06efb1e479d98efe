#include "tpc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "mqtt_client.h"
#include "rng.h"
#include "rr_payload.h"
#include "sim_clock.h"
#include "template.h"
#include "tpc_coord.h"
#include "tpc_wire.h"

/* The cloud's own timer: deadlines and resends are checked this often. */
#define TICK_NS (5 * SIM_NS_PER_MS)
/* Largest message body: a change is at most this much smaller. */
#define MAX_BODY 70000

static const char *const ev_names[SIM_TPC_NEV] = {
	"begin", "prepare", "vote", "vote_seen", "decide", "apply", "ack_seen", "in_doubt",
	"resolved", "observe",
};
static const char *const cause_names[] = { "votes", "timeout", "coordinator" };
static const char *const fault_names[SIM_TPC_NFAULTS] = {
	"crash_before_vote", "crash_after_vote", "reboot_during_commit", "messages_lost",
	"partitions",
};

struct sim_tpc {
	struct event_base *base;
	const struct sim_scenario *sc;
	const struct sim_tpc_cfg *cfg;
	struct sim_tpc_opts o;
	struct sim_tpc_coord *coord;        /* NULL with an external coordinator */
	struct sim_tpc_check *chk;
	struct sim_consumer *cons;
	struct event *timer, *flush_ev;
	FILE *history;
	/* Every device of the fleet: its id if it is a target (offset into
	 * ids, 0 = not a target, ids[0] is a NUL), and an index from ids
	 * back to devices (linear probing, device + 1, 0 = empty). */
	uint32_t ndevs;
	uint32_t *id_off;
	char *ids;
	uint32_t *slots;
	size_t nslots;
	uint32_t *targets;                  /* the candidates, fleet indices */
	uint32_t ntargets;
	uint32_t *pick;                     /* scratch: one transaction's participants */
	char *filters[5];
	int qos[5];
	size_t nfilters;
	char *body;                         /* scratch for encoding */
	char *change;
	uint64_t rng;
	uint64_t start_ns, end_ns, next_tx_ns, next_crash_ns, restart_ns;
	uint64_t ntx;                       /* transactions started or skipped */
	uint64_t skipped_down;              /* not started: the coordinator was down */
	bool sending;
	uint64_t faults[SIM_TPC_NFAULTS];
	uint64_t votes[2], in_doubt, resolved;
	uint64_t n_started, n_committed, n_aborted;         /* for the series */
	uint64_t last_started, last_committed, last_aborted;
};

static uint64_t
hash_str(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return h;
}

const char *
sim_tpc_device_id(const struct sim_tpc *c, uint32_t dev)
{
	if (c == NULL || dev >= c->ndevs || c->id_off[dev] == 0)
		return NULL;
	return c->ids + c->id_off[dev];
}

bool
sim_tpc_device_of(const struct sim_tpc *c, const char *id, size_t len, uint32_t *dev)
{
	if (c == NULL || c->nslots == 0)
		return false;
	for (size_t s = hash_str(id, len) & (c->nslots - 1); c->slots[s] != 0;
	    s = (s + 1) & (c->nslots - 1)) {
		const char *x = c->ids + c->id_off[c->slots[s] - 1];

		if (strncmp(x, id, len) == 0 && x[len] == '\0') {
			*dev = c->slots[s] - 1;
			return true;
		}
	}
	return false;
}

bool
sim_tpc_target(const struct sim_tpc *c, uint32_t dev)
{
	return c != NULL && dev < c->ndevs && c->id_off[dev] != 0;
}

/* The group of fleet device dev, and its index in it. */
static const struct sim_group *
group_of(const struct sim_scenario *sc, uint32_t dev, uint32_t *n)
{
	for (size_t g = 0; g < sc->ngroups; g++) {
		if (dev < sc->groups[g].count) {
			*n = dev;
			return &sc->groups[g];
		}
		dev -= sc->groups[g].count;
	}
	return NULL;
}

/* Renders every target's id and indexes them. */
static enum sim_err
build_ids(struct sim_tpc *c)
{
	const struct sim_scenario *sc = c->sc;
	size_t cap = 4096, len = 1;
	uint32_t dev = 0, nth = 0;
	char id[256];

	c->ndevs = (uint32_t)sim_scenario_devices(sc);
	if ((c->id_off = calloc(c->ndevs ? c->ndevs : 1, sizeof(*c->id_off))) == NULL ||
	    (c->targets = calloc(c->ndevs ? c->ndevs : 1, sizeof(*c->targets))) == NULL ||
	    (c->ids = malloc(cap)) == NULL)
		return SIM_ERR_NOMEM;
	c->ids[0] = '\0';
	/* share of the targeted groups' devices, spread evenly over them:
	 * the i-th is in when floor((i + 1) * share) steps up, which makes
	 * floor(N * share) in all, the count the loader checked group_size
	 * against (with its 1e-6 against binary fractions). */
	for (size_t g = 0; g < sc->ngroups; g++) {
		const struct sim_group *gr = &sc->groups[g];

		for (uint32_t n = 0; n < gr->count; n++, dev++) {
			struct sim_tmpl_vals v = { .n = n, .group = gr->name };
			size_t k;

			if (c->cfg->group >= 0 && (size_t)c->cfg->group != g)
				continue;
			nth++;
			if (floor((double)nth * c->cfg->share + 1e-6) ==
			    floor((double)(nth - 1) * c->cfg->share + 1e-6))
				continue;
			k = sim_tmpl_render(gr->id, &v, id, sizeof(id));
			if (k >= sizeof(id))
				k = sizeof(id) - 1;
			while (len + k + 1 > cap) {
				char *p = realloc(c->ids, cap * 2);

				if (p == NULL)
					return SIM_ERR_NOMEM;
				c->ids = p;
				cap *= 2;
			}
			memcpy(c->ids + len, id, k + 1);
			c->id_off[dev] = (uint32_t)len;
			len += k + 1;
			c->targets[c->ntargets++] = dev;
		}
	}
	for (c->nslots = 64; c->nslots < (size_t)c->ntargets * 2; c->nslots *= 2)
		;
	if ((c->slots = calloc(c->nslots, sizeof(*c->slots))) == NULL)
		return SIM_ERR_NOMEM;
	for (uint32_t i = 0; i < c->ntargets; i++) {
		const char *x = c->ids + c->id_off[c->targets[i]];
		size_t s = hash_str(x, strlen(x)) & (c->nslots - 1);

		while (c->slots[s] != 0)
			s = (s + 1) & (c->nslots - 1);
		c->slots[s] = c->targets[i] + 1;
	}
	return SIM_OK;
}

static void
write_history(struct sim_tpc *c, const struct sim_tpc_rec *r)
{
	const char *id = r->ev == SIM_TPC_BEGIN || r->ev == SIM_TPC_DECIDE ? NULL :
	    sim_tpc_device_id(c, r->device);
	char hex[17];

	sim_tpc_txid_hex(r->txid, hex);
	fprintf(c->history, "{\"t_ms\": %.3f, \"txid\": \"%s\", \"ev\": \"%s\"",
	    r->t_ns >= c->start_ns ? (double)(r->t_ns - c->start_ns) / SIM_NS_PER_MS :
	    -(double)(c->start_ns - r->t_ns) / SIM_NS_PER_MS, hex, ev_names[r->ev]);
	if (id != NULL)
		fprintf(c->history, ", \"device\": \"%s\"", id);
	switch (r->ev) {
	case SIM_TPC_VOTE:
	case SIM_TPC_VOTE_SEEN:
		fprintf(c->history, ", \"vote\": \"%s\"", r->val ? "yes" : "no");
		break;
	case SIM_TPC_DECIDE:
		fprintf(c->history, ", \"decision\": \"%s\", \"cause\": \"%s\"",
		    r->val ? "commit" : "abort", cause_names[r->aux < 3 ? r->aux : 2]);
		break;
	case SIM_TPC_APPLY:
		fprintf(c->history, ", \"decision\": \"%s\"", r->val ? "commit" : "abort");
		break;
	case SIM_TPC_BEGIN:
		fprintf(c->history, ", \"participants\": %u", (unsigned)r->val);
		break;
	case SIM_TPC_OBSERVE:
		fprintf(c->history, ", \"present\": %s", r->val ? "true" : "false");
		break;
	default:
		break;
	}
	fputs("}\n", c->history);
}

void
sim_tpc_record(struct sim_tpc *c, const struct sim_tpc_rec *r)
{
	if (c == NULL)
		return;
	switch (r->ev) {
	case SIM_TPC_BEGIN:
		c->n_started++;
		break;
	case SIM_TPC_VOTE:
		c->votes[r->val ? 1 : 0]++;
		break;
	case SIM_TPC_DECIDE:
		/* Once per transaction: a contradicting second one is the
		 * checker's business, not the throughput's. */
		if (sim_tpc_check_first(c->chk, r->txid, SIM_TPC_DECIDE) < 0) {
			if (r->val)
				c->n_committed++;
			else
				c->n_aborted++;
		}
		break;
	case SIM_TPC_IN_DOUBT:
		c->in_doubt++;
		break;
	case SIM_TPC_RESOLVED:
		c->resolved++;
		break;
	default:
		break;
	}
	/* A record the checker refuses is a bug in the recorder; it still
	 * goes to the history, where it can be seen. */
	(void)sim_tpc_check_add(c->chk, r);
	if (c->history != NULL)
		write_history(c, r);
}

void
sim_tpc_note_fault(struct sim_tpc *c, enum sim_tpc_fault f)
{
	if (c != NULL && f < SIM_TPC_NFAULTS)
		c->faults[f]++;
}

/* The coordinator's messages, through the consumer's connections. */
static void
send_to(struct sim_tpc *c, const struct sim_tmpl *t, uint32_t dev, const char *body, size_t len)
{
	struct sim_tmpl_vals v;
	const struct sim_group *g;
	char topic[512];
	uint32_t n;

	if (c->cons == NULL || (g = group_of(c->sc, dev, &n)) == NULL || !sim_tpc_target(c, dev))
		return;
	v = (struct sim_tmpl_vals){ .id = sim_tpc_device_id(c, dev), .n = n, .group = g->name };
	if (sim_tmpl_render(t, &v, topic, sizeof(topic)) >= sizeof(topic))
		return;
	(void)sim_consumer_publish(c->cons, topic, body, len, c->cfg->qos, NULL);
}

static void
op_prepare(void *arg, uint32_t dev, uint64_t txid, int64_t deadline_ms, const char *change,
    size_t len)
{
	struct sim_tpc *c = arg;
	struct sim_tpc_wire w = { .txid = txid, .change = change, .change_len = len,
		.deadline_ms = deadline_ms };
	size_t n = sim_tpc_wire_encode(SIM_TPC_MSG_PREPARE, &w, c->body, MAX_BODY);

	if (n < MAX_BODY)
		send_to(c, c->cfg->prepare_topic, dev, c->body, n);
}

static void
op_decision(void *arg, uint32_t dev, uint64_t txid, bool commit)
{
	struct sim_tpc *c = arg;
	struct sim_tpc_wire w = { .txid = txid, .decision = commit };
	size_t n = sim_tpc_wire_encode(SIM_TPC_MSG_DECISION, &w, c->body, MAX_BODY);

	if (n < MAX_BODY)
		send_to(c, c->cfg->decision_topic, dev, c->body, n);
}

static void
op_record(void *arg, const struct sim_tpc_rec *r)
{
	sim_tpc_record(arg, r);
}

static const struct sim_tpc_coord_ops coord_ops = {
	.prepare = op_prepare,
	.decision = op_decision,
	.record = op_record,
};

/* Group commit: every decision made while handling one loop pass's
 * messages shares one fsync. */
static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sim_tpc *c = arg;
	uint64_t now = sim_now_ns();

	(void)fd;
	(void)what;
	if (sim_tpc_coord_flush(c->coord, now))
		c->restart_ns = now + c->cfg->coordinator_down_ns;
}

static void
want_flush(struct sim_tpc *c)
{
	if (sim_tpc_coord_pending(c->coord) && !event_pending(c->flush_ev, EV_TIMEOUT, NULL))
		event_active(c->flush_ev, EV_TIMEOUT, 0);
}

/* Picks group_size distinct targets at random. */
static void
pick_group(struct sim_tpc *c, uint32_t k)
{
	for (uint32_t i = 0; i < k; i++) {
		uint32_t d;
		bool dup;

		do {
			d = c->targets[sim_rng_below(&c->rng, c->ntargets)];
			dup = false;
			for (uint32_t j = 0; j < i && !dup; j++)
				dup = c->pick[j] == d;
		} while (dup);
		c->pick[i] = d;
	}
}

static void
start_tx(struct sim_tpc *c, uint64_t now)
{
	uint64_t n = ++c->ntx;
	/* The run's id in the high bits: a stale message of an earlier run
	 * on a persistent session can never name a transaction of this
	 * one; below 2^52, so JSON numbers hold it exactly. */
	uint64_t txid = ((uint64_t)(c->o.run_id & 0xfffff) << 32) | (n & 0xffffffffu);
	struct sim_rr_payload_vals pv = { .seq = n, .seed = sim_rng_mix(c->o.seed, n) };
	size_t len;

	if (!sim_tpc_coord_up(c->coord)) {
		c->skipped_down++;
		return;
	}
	len = sim_rr_payload_render(c->cfg->change, &pv, c->change, MAX_BODY / 2);
	if (len >= MAX_BODY / 2)
		len = MAX_BODY / 2 - 1;
	pick_group(c, c->cfg->group_size);
	(void)sim_tpc_coord_begin(c->coord, now, txid, c->pick, c->cfg->group_size, c->change,
	    len);
}

static void
tick(struct sim_tpc *c, uint64_t now)
{
	if (c->coord == NULL)
		return;
	if (!sim_tpc_coord_up(c->coord) && c->restart_ns != 0 && now >= c->restart_ns) {
		c->restart_ns = 0;
		(void)sim_tpc_coord_restart(c->coord, now);
	}
	if (c->sending && c->next_crash_ns != 0 && now >= c->next_crash_ns) {
		c->next_crash_ns += c->cfg->coordinator_crash_ns;
		sim_tpc_coord_crash_armed(c->coord);
	}
	while (c->sending && now >= c->next_tx_ns && c->next_tx_ns < c->end_ns) {
		start_tx(c, now);
		c->next_tx_ns = c->start_ns + (uint64_t)((double)c->ntx / c->cfg->rate * 1e9);
	}
	sim_tpc_coord_tick(c->coord, now);
	if (!sim_tpc_coord_up(c->coord) && c->restart_ns == 0)
		c->restart_ns = now + c->cfg->coordinator_down_ns;
	want_flush(c);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	tick(arg, sim_now_ns());
}

/* The external coordinator's messages to devices, as the checker sees
 * them: the first PREPARE of a txid begins it, the first DECISION is its
 * decision, and a later one that differs is a contradiction. */
static bool
observe(struct sim_tpc *c, const struct sim_mqtt_msg *m, uint64_t now)
{
	const struct sim_tpc_cfg *t = c->cfg;
	struct sim_tmpl_caps caps;
	struct sim_tpc_wire w;
	struct sim_tpc_rec r = { .t_ns = now };
	bool prep;
	uint32_t dev;

	if (sim_tmpl_match(t->prepare_topic, NULL, m->topic, m->topic_len, &caps))
		prep = true;
	else if (sim_tmpl_match(t->decision_topic, NULL, m->topic, m->topic_len, &caps))
		prep = false;
	else
		return false;
	if (caps.id_len == 0 || !sim_tpc_device_of(c, m->topic + caps.id_off, caps.id_len, &dev) ||
	    sim_tpc_wire_parse(prep ? SIM_TPC_MSG_PREPARE : SIM_TPC_MSG_DECISION,
	    (const char *)m->payload, m->payload_len, &w) != SIM_OK)
		return true;
	r.txid = w.txid;
	r.device = dev;
	if (prep) {
		if (sim_tpc_check_first(c->chk, w.txid, SIM_TPC_BEGIN) < 0) {
			r.ev = SIM_TPC_BEGIN;
			sim_tpc_record(c, &r);
		}
		r.ev = SIM_TPC_PREPARE;
		sim_tpc_record(c, &r);
	} else {
		int first = sim_tpc_check_first(c->chk, w.txid, SIM_TPC_DECIDE);

		if (first < 0 || first != w.decision) {
			r.ev = SIM_TPC_DECIDE;
			r.val = (uint8_t)w.decision;
			r.aux = SIM_TPC_BY_COORDINATOR;
			sim_tpc_record(c, &r);
		}
	}
	return true;
}

bool
sim_tpc_hook(void *arg, const struct sim_mqtt_msg *m)
{
	struct sim_tpc *c = arg;
	const struct sim_tpc_cfg *t = c->cfg;
	enum sim_tpc_msg kind;
	struct sim_tpc_wire w;
	uint64_t now = sim_now_ns();
	uint32_t dev;

	if (m->topic_len == strlen(t->vote_topic) && memcmp(m->topic, t->vote_topic, m->topic_len) == 0)
		kind = SIM_TPC_MSG_VOTE;
	else if (m->topic_len == strlen(t->ack_topic) &&
	    memcmp(m->topic, t->ack_topic, m->topic_len) == 0)
		kind = SIM_TPC_MSG_ACK;
	else if (m->topic_len == strlen(t->query_topic) &&
	    memcmp(m->topic, t->query_topic, m->topic_len) == 0)
		kind = SIM_TPC_MSG_QUERY;
	else
		return t->external && observe(c, m, now);
	if (sim_tpc_wire_parse(kind, (const char *)m->payload, m->payload_len, &w) != SIM_OK ||
	    !sim_tpc_device_of(c, w.id, w.id_len, &dev))
		return true;    /* not ours to judge: a malformed message changes nothing */
	if (t->external) {
		struct sim_tpc_rec r = { .t_ns = now, .txid = w.txid, .device = dev,
			.ev = kind == SIM_TPC_MSG_VOTE ? SIM_TPC_VOTE_SEEN : SIM_TPC_ACK_SEEN,
			.val = kind == SIM_TPC_MSG_VOTE ? (uint8_t)w.vote : 0 };

		if (kind != SIM_TPC_MSG_QUERY)
			sim_tpc_record(c, &r);
		return true;
	}
	if (kind == SIM_TPC_MSG_VOTE)
		sim_tpc_coord_vote(c->coord, now, w.txid, dev, w.vote == 1);
	else if (kind == SIM_TPC_MSG_ACK)
		sim_tpc_coord_ack(c->coord, now, w.txid, dev);
	else
		sim_tpc_coord_query(c->coord, now, w.txid, dev);
	want_flush(c);
	return true;
}

enum sim_err
sim_tpc_new(struct event_base *base, const struct sim_scenario *sc, const struct sim_tpc_opts *o,
    struct sim_tpc **out, struct sim_diag *d)
{
	struct sim_tpc *c = NULL;
	const struct sim_tpc_cfg *t;
	enum sim_err rv = SIM_OK;
	char path[4096];

	*out = NULL;
	if (sc->ntpc == 0)
		goto out;
	t = &sc->tpc[0];
	rv = SIM_ERR_NOMEM;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out;
	c->base = base;
	c->sc = sc;
	c->cfg = t;
	c->o = *o;
	c->o.history_path = NULL;
	c->rng = sim_rng_mix(o->seed, 0x7470630000000000ull);
	if ((rv = build_ids(c)) != SIM_OK)
		goto out;
	rv = SIM_ERR_NOMEM;
	if ((c->pick = calloc(t->group_size, sizeof(*c->pick))) == NULL ||
	    (c->body = malloc(MAX_BODY)) == NULL || (c->change = malloc(MAX_BODY / 2)) == NULL)
		goto out;
	if (sim_tpc_check_new(&(struct sim_tpc_check_opts){ .deadline_ns = t->deadline_ns,
	    .recovery_ns = t->recovery_ns }, &c->chk) != SIM_OK)
		goto out;
	/* The coordinator hears the devices; watching an external one also
	 * means hearing what it tells them. */
	c->filters[0] = strdup(t->vote_topic);
	c->filters[1] = strdup(t->ack_topic);
	c->filters[2] = strdup(t->query_topic);
	c->nfilters = 3;
	if (t->external) {
		c->filters[3] = sim_tmpl_to_filter(t->prepare_topic);
		c->filters[4] = sim_tmpl_to_filter(t->decision_topic);
		c->nfilters = 5;
	}
	for (size_t i = 0; i < c->nfilters; i++) {
		if (c->filters[i] == NULL)
			goto out;
		c->qos[i] = t->qos;
	}
	if ((c->timer = event_new(base, -1, EV_PERSIST, timer_cb, c)) == NULL ||
	    (c->flush_ev = event_new(base, -1, 0, flush_cb, c)) == NULL)
		goto out;
	if (o->history_path != NULL && (c->history = fopen(o->history_path, "w")) == NULL) {
		rv = SIM_ERR_IO;
		sim_diag_set(d, "cannot create the history file %.200s: %s", o->history_path,
		    strerror(errno));
		goto out;
	}
	if (!t->external) {
		const char *log = t->log_path;

		if (log == NULL) {
			snprintf(path, sizeof(path), "%s/tpc-coordinator.log", sc->report_dir);
			log = path;
		}
		rv = sim_tpc_coord_new(&(struct sim_tpc_coord_opts){ .log_path = log,
		    .deadline_ns = t->deadline_ns, .resend_ns = t->resend_ns,
		    .unix_offset_ns = o->unix_offset_ns, .bug = t->bug }, &coord_ops, c, &c->coord);
		if (rv == SIM_ERR_IO)
			sim_diag_set(d, "cannot create the coordinator's log %.200s: %s", log,
			    strerror(errno));
		if (rv != SIM_OK)
			goto out;
	}
	*out = c;
	c = NULL;
	rv = SIM_OK;
out:
	sim_tpc_free(c);
	return rv;
}

void
sim_tpc_free(struct sim_tpc *c)
{
	if (c == NULL)
		return;
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->flush_ev != NULL)
		event_free(c->flush_ev);
	if (c->history != NULL)
		fclose(c->history);
	sim_tpc_coord_free(c->coord);
	sim_tpc_check_free(c->chk);
	for (size_t i = 0; i < 5; i++)
		free(c->filters[i]);
	free(c->id_off);
	free(c->ids);
	free(c->slots);
	free(c->targets);
	free(c->pick);
	free(c->body);
	free(c->change);
	free(c);
}

size_t
sim_tpc_filters(const struct sim_tpc *c, const char *const **filters, const int **qos)
{
	if (c == NULL)
		return 0;
	*filters = (const char *const *)c->filters;
	*qos = c->qos;
	return c->nfilters;
}

void
sim_tpc_start(struct sim_tpc *c, struct sim_consumer *cons, uint64_t send_start_ns,
    uint64_t send_end_ns)
{
	struct timeval tv = { 0, TICK_NS / 1000 };

	if (c == NULL)
		return;
	c->cons = cons;
	c->start_ns = send_start_ns;
	c->end_ns = send_end_ns;
	c->next_tx_ns = send_start_ns;
	c->next_crash_ns = c->cfg->coordinator_crash_ns != 0 ?
	    send_start_ns + c->cfg->coordinator_crash_ns : 0;
	c->sending = c->coord != NULL;
	event_add(c->timer, &tv);
}

void
sim_tpc_stop_sending(struct sim_tpc *c, uint64_t now)
{
	(void)now;
	if (c != NULL)
		c->sending = false;
}

size_t
sim_tpc_open(const struct sim_tpc *c)
{
	if (c == NULL || c->coord == NULL)
		return 0;
	/* A coordinator that is down still owes its transactions. */
	return sim_tpc_coord_up(c->coord) ? sim_tpc_coord_open(c->coord) : 1;
}

void
sim_tpc_finish(struct sim_tpc *c, uint64_t now)
{
	if (c == NULL)
		return;
	if (c->timer != NULL)
		event_del(c->timer);
	if (c->history != NULL)
		fflush(c->history);
	sim_tpc_check_finish(c->chk, now);
}

size_t
sim_tpc_violations(const struct sim_tpc *c)
{
	struct sim_tpc_summary s;
	size_t n = 0;

	if (c == NULL)
		return 0;
	sim_tpc_check_summary(c->chk, &s);
	for (int k = 0; k < SIM_TPC_NVIOLATIONS; k++)
		n += s.violations[k];
	return n;
}

void
sim_tpc_sample(struct sim_tpc *c, double row[3])
{
	row[0] = row[1] = row[2] = 0;
	if (c == NULL)
		return;
	row[0] = (double)(c->n_started - c->last_started);
	row[1] = (double)(c->n_committed - c->last_committed);
	row[2] = (double)(c->n_aborted - c->last_aborted);
	c->last_started = c->n_started;
	c->last_committed = c->n_committed;
	c->last_aborted = c->n_aborted;
}

struct rpt_json *
sim_tpc_json(const struct sim_tpc *c)
{
	struct rpt_json *j = sim_tpc_check_json(c != NULL ? c->chk : NULL);
	struct rpt_json *id = rpt_json_object(), *v = rpt_json_object(), *f = rpt_json_object();
	struct sim_tpc_coord_stats cs = { 0 };

	if (j == NULL || id == NULL || v == NULL || f == NULL)
		goto fail;
	if (c != NULL)
		sim_tpc_coord_stats(c->coord, &cs);
	rpt_json_set_str(j, "coordinator", c == NULL || !c->cfg->external ? "fleetsim" : "external");
	rpt_json_set_num(id, "episodes", c != NULL ? (double)c->in_doubt : 0);
	rpt_json_set_num(id, "resolved", c != NULL ? (double)c->resolved : 0);
	rpt_json_set(j, "in_doubt", id);
	id = NULL;
	rpt_json_set_num(v, "yes", c != NULL ? (double)c->votes[1] : 0);
	rpt_json_set_num(v, "no", c != NULL ? (double)c->votes[0] : 0);
	rpt_json_set(j, "votes", v);
	v = NULL;
	for (int k = 0; k < SIM_TPC_NFAULTS; k++)
		rpt_json_set_num(f, fault_names[k], c != NULL ? (double)c->faults[k] : 0);
	rpt_json_set_num(f, "coordinator_crashes", (double)cs.crashes);
	rpt_json_set(j, "faults", f);
	f = NULL;
	rpt_json_set_num(j, "skipped_coordinator_down", c != NULL ? (double)c->skipped_down : 0);
	rpt_json_set_num(j, "resends", (double)cs.resends);
	rpt_json_set_num(j, "log_fsyncs", (double)cs.fsyncs);
	return j;
fail:
	rpt_json_free(j);
	rpt_json_free(id);
	rpt_json_free(v);
	rpt_json_free(f);
	return NULL;
}
