#include "rr_cloud.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "mqtt_client.h"
#include "rng.h"
#include "dev_model.h"
#include "hal_rng.h"
#include "rr_payload.h"
#include "sim_clock.h"
#include "template.h"

/* The schedule is checked at every wake of the fleet's timer (every 2 ms
 * under load, see sim_fleet_set_tick_hook) and at least this often: a
 * request is sent that late at most, and its latency says so (it is
 * measured from the intended time). */
#define TICK_US 2000
/* At most this many requests in one tick, so a far-behind schedule cannot
 * starve the loop. */
#define MAX_PER_TICK 10000
#define MAX_METHODS 32

/* One c2d pattern's schedule and targets. */
struct pat {
	const struct sim_rr_cfg *cfg;
	uint32_t method;            /* index in the tracker's methods */
	uint32_t *targets;          /* fleet-wide device indices */
	uint32_t ntargets;
	uint64_t k;                 /* requests sent */
};

/* A device's client id, for telling who answered. */
struct idslot {
	char *id;
	uint32_t device;
};

/* An answer of fleetsim's d2c responder, waiting out its delay. */
struct answer {
	struct answer *next, *prev;
	struct sim_rr_cloud *c;
	struct event *ev;
	uint64_t corr;              /* mqtt5: Correlation Data */
	int qos;
	int status;
	bool mqtt5;
	size_t topic_len;
	size_t len;
	char data[];                /* topic, then payload */
};

struct sim_rr_cloud {
	struct event_base *base;
	const struct sim_scenario *sc;
	struct sim_rr_cloud_opts o;
	struct sim_consumer *cons;
	struct sim_rr *rr;          /* c2d */
	struct sim_rr_opts ro;
	const char *methods[MAX_METHODS];
	struct sim_rr *d2c;         /* d2c: devices open, the fleet answers */
	struct sim_rr_opts dro;
	const char *dmethods[MAX_METHODS];
	bool has_c2d, has_d2c;
	bool stopped;               /* finished: no more ticks */
	struct answer *pending;     /* the responder's answers not yet sent */
	struct hal_rng rng;         /* the responder's delays */
	struct pat *pats;
	size_t npats;
	struct event *tick;
	uint64_t start_ns, end_ns;
	char **filters;
	int *qos;
	size_t nfilters;
	char resp_topic[64];        /* mqtt5: where answers come (Response Topic) */
	struct idslot *ids;         /* open addressing, cap a power of two */
	size_t idcap;
};

static uint64_t
fnv(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* The fleet-wide index of a group's device n, and its id. */
static uint32_t
device_index(const struct sim_scenario *sc, size_t g, uint32_t n)
{
	uint32_t first = 0;

	for (size_t i = 0; i < g; i++)
		first += sc->groups[i].count;
	return first + n;
}

static void
device_id(const struct sim_scenario *sc, size_t g, uint32_t n, char *buf, size_t len)
{
	struct sim_tmpl_vals v = { .n = n, .group = sc->groups[g].name };

	sim_tmpl_render(sc->groups[g].id, &v, buf, len);
}

static enum sim_err
id_add(struct sim_rr_cloud *c, const char *id, uint32_t device)
{
	size_t i = fnv(id, strlen(id)) & (c->idcap - 1);

	while (c->ids[i].id != NULL) {
		if (strcmp(c->ids[i].id, id) == 0)
			return SIM_OK;
		i = (i + 1) & (c->idcap - 1);
	}
	if ((c->ids[i].id = strdup(id)) == NULL)
		return SIM_ERR_NOMEM;
	c->ids[i].device = device;
	return SIM_OK;
}

/* The device with client id s, or SIM_RR_ANY_DEVICE - 1, which is no
 * request's device, so the answer counts as unmatched. */
static uint32_t
id_find(const struct sim_rr_cloud *c, const char *s, size_t n)
{
	size_t i = fnv(s, n) & (c->idcap - 1);

	while (c->ids[i].id != NULL) {
		if (strlen(c->ids[i].id) == n && memcmp(c->ids[i].id, s, n) == 0)
			return c->ids[i].device;
		i = (i + 1) & (c->idcap - 1);
	}
	return SIM_RR_ANY_DEVICE - 1;
}

bool
sim_rr_dir_opts(const struct sim_scenario *sc, enum sim_rr_dir dir, const char **methods,
    size_t max, struct sim_rr_opts *o)
{
	size_t n = 0;
	uint64_t timeout = 0;

	for (size_t p = 0; p < sc->nrr; p++) {
		const struct sim_rr_cfg *r = &sc->rr[p];
		size_t m;

		if (r->dir != dir)
			continue;
		for (m = 0; m < n && strcmp(methods[m], r->method) != 0; m++)
			;
		if (m == n && n < max)
			methods[n++] = r->method;
		if (r->timeout_ns > timeout)
			timeout = r->timeout_ns;
	}
	*o = (struct sim_rr_opts){
		.timeout_ns = timeout,
		.ndevices = (uint32_t)sim_scenario_devices(sc),
		.methods = methods,
		.nmethods = n,
	};
	return n > 0;
}

static void
send_one(struct sim_rr_cloud *c, struct pat *p, uint64_t intended)
{
	const struct sim_rr_cfg *r = p->cfg;
	const struct sim_scenario *sc = c->sc;
	uint64_t k = p->k++, s = sim_rng_mix(sim_rng_mix(c->o.seed, (uint64_t)(p - c->pats)), k);
	uint32_t dev, n = 0;
	size_t g = 0;
	struct sim_rr_payload_vals pv;
	struct sim_rr_wire w;
	char id[256], rid[17], topic[512], payload[4096];
	size_t tlen, plen = 0;
	uint64_t key;

	dev = r->random ? p->targets[sim_rng_below(&s, p->ntargets)] : p->targets[k % p->ntargets];
	for (uint32_t first = 0; g < sc->ngroups; first += sc->groups[g++].count) {
		if (dev < first + sc->groups[g].count) {
			n = dev - first;
			break;
		}
	}
	device_id(sc, g, n, id, sizeof(id));
	key = sim_rr_open(c->rr, dev, p->method, intended);
	sim_rr_id_hex(key, rid);
	{
		struct sim_tmpl_vals v = { .id = id, .n = n, .group = sc->groups[g].name,
			.method = r->method, .rid = rid };

		tlen = sim_tmpl_render(r->request_topic, &v, topic, sizeof(topic));
	}
	if (r->payload != NULL) {
		pv = (struct sim_rr_payload_vals){ .id = id, .n = n, .group = sc->groups[g].name,
			.method = r->method, .seq = k, .seed = s };
		plen = sim_rr_payload_render(r->payload, &pv, payload, sizeof(payload));
		if (plen >= sizeof(payload))
			plen = sizeof(payload) - 1;
	}
	if (tlen >= sizeof(topic))
		return;     /* stays open and times out: the topic cannot be sent */
	/* Not connected: the request stays open and times out, which is what
	 * a caller whose cloud link is down sees. */
	(void)sim_consumer_publish(c->cons, topic, payload, plen, r->qos,
	    r->conv == SIM_RR_CONV_MQTT5 ? sim_rr_wire_request(&w, key, c->resp_topic) : NULL);
}

/* Sets the own timer for the next request due or deadline, but no sooner
 * than one tick after now: the fleet's wake-ups, which usually come
 * first, push it on, so under load it rarely fires itself. */
static void
rearm(struct sim_rr_cloud *c, uint64_t now)
{
	uint64_t at = UINT64_MAX, d;
	struct timeval tv;

	if (c->stopped)
		return;
	for (size_t i = 0; i < c->npats; i++) {
		const struct pat *p = &c->pats[i];
		uint64_t t = c->start_ns + (uint64_t)((double)p->k * 1e9 / p->cfg->rate);

		if (p->ntargets > 0 && t < c->end_ns && t < at)
			at = t;
	}
	if (c->rr != NULL && (d = sim_rr_next_deadline(c->rr)) != 0 && d < at)
		at = d;
	if (c->d2c != NULL && (d = sim_rr_next_deadline(c->d2c)) != 0 && d < at)
		at = d;
	if (at == UINT64_MAX) {
		event_del(c->tick);
		return;
	}
	if (at < now + (uint64_t)TICK_US * 1000)
		at = now + (uint64_t)TICK_US * 1000;
	tv = sim_tv_from_ns(at - now);
	event_add(c->tick, &tv);
}

void
sim_rr_cloud_tick(void *arg, uint64_t now)
{
	struct sim_rr_cloud *c = arg;
	unsigned sent = 0;
	bool more = true;

	/* The patterns' sends in the order of their intended times, so the
	 * tracker sees intended times that never go back. */
	while (more && sent < MAX_PER_TICK) {
		struct pat *best = NULL;
		uint64_t best_at = 0;

		for (size_t i = 0; i < c->npats; i++) {
			struct pat *p = &c->pats[i];
			uint64_t at = c->start_ns + (uint64_t)((double)p->k * 1e9 / p->cfg->rate);

			if (p->ntargets == 0 || at >= c->end_ns || at > now)
				continue;
			if (best == NULL || at < best_at) {
				best = p;
				best_at = at;
			}
		}
		more = best != NULL;
		if (more) {
			send_one(c, best, best_at);
			sent++;
		}
	}
	if (c->rr != NULL)
		sim_rr_expire(c->rr, now);
	if (c->d2c != NULL)
		sim_rr_expire(c->d2c, now);
	rearm(c, now);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	sim_rr_cloud_tick(arg, sim_now_ns());
}

/* Which devices a pattern calls: its group's (or all), of which a share
 * chosen by the seed. */
static enum sim_err
pick_targets(struct sim_rr_cloud *c, struct pat *p, size_t pi)
{
	const struct sim_scenario *sc = c->sc;
	uint64_t total = sim_scenario_devices(sc);
	char id[256];

	if ((p->targets = calloc(total ? total : 1, sizeof(*p->targets))) == NULL)
		return SIM_ERR_NOMEM;
	for (size_t g = 0; g < sc->ngroups; g++) {
		if (p->cfg->group >= 0 && (size_t)p->cfg->group != g)
			continue;
		for (uint32_t n = 0; n < sc->groups[g].count; n++) {
			uint32_t dev = device_index(sc, g, n);
			uint64_t s = sim_rng_mix(sim_rng_mix(c->o.seed, pi + 1000), dev);

			if (p->cfg->share < 1 && sim_rng_unit(&s) >= p->cfg->share)
				continue;
			p->targets[p->ntargets++] = dev;
			device_id(sc, g, n, id, sizeof(id));
			if (id_add(c, id, dev) != SIM_OK)
				return SIM_ERR_NOMEM;
		}
	}
	return SIM_OK;
}

static enum sim_err add_filter(struct sim_rr_cloud *c, char *f, int qos);

/* fleetsim answers a d2c pattern: subscribe to its requests. */
static enum sim_err
responder_filter(struct sim_rr_cloud *c, const struct sim_rr_cfg *r)
{
	char *f, *g;

	if (r->external)
		return SIM_OK;
	if ((f = sim_tmpl_to_filter(r->request_topic)) == NULL)
		return SIM_ERR_NOMEM;
	/* rid: the id is one more level, "?$rid=...". */
	if (r->conv == SIM_RR_CONV_RID) {
		if (asprintf(&g, "%s/+", f) < 0) {
			free(f);
			return SIM_ERR_NOMEM;
		}
		free(f);
		f = g;
	}
	return add_filter(c, f, r->qos);
}

/* Publishes fleetsim's answer to a d2c request. */
static void
send_answer(struct sim_rr_cloud *c, const char *topic, const void *payload, size_t len, int qos,
    bool mqtt5, uint64_t corr, int status)
{
	struct sim_rr_wire w;

	if (c->cons != NULL)
		(void)sim_consumer_publish(c->cons, topic, payload, len, qos,
		    mqtt5 ? sim_rr_wire_answer(&w, corr, status) : NULL);
}

static void
answer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct answer *a = arg;
	struct sim_rr_cloud *c = a->c;

	send_answer(c, a->data, a->data + a->topic_len + 1, a->len, a->qos, a->mqtt5, a->corr,
	    a->status);
	if (a->prev != NULL)
		a->prev->next = a->next;
	else
		c->pending = a->next;
	if (a->next != NULL)
		a->next->prev = a->prev;
	event_free(a->ev);
	free(a);
}

/* A device's d2c request: answer it after the responder's delay. */
static bool
respond(struct sim_rr_cloud *c, const struct sim_rr_cfg *r, const struct sim_mqtt_msg *m)
{
	const char *rid_at = NULL;
	size_t match_len = m->topic_len;
	struct sim_tmpl_caps caps;
	struct sim_rr_payload_vals pv;
	char id[256], topic[512], payload[4096];
	struct answer *a;
	uint64_t corr = 0, delay;
	size_t tlen, plen = 0;
	struct timeval tv;

	if (r->conv == SIM_RR_CONV_RID) {
		for (size_t i = m->topic_len; i >= 7 && rid_at == NULL; i--)
			if (memcmp(m->topic + i - 7, "/?$rid=", 7) == 0)
				rid_at = m->topic + i;
		if (rid_at == NULL)
			return false;
		match_len = (size_t)(rid_at - 7 - m->topic);
	}
	if (!sim_tmpl_match(r->request_topic, NULL, m->topic, match_len, &caps) ||
	    caps.id_len == 0 || caps.id_len >= sizeof(id))
		return false;
	/* Patterns may share a topic layout: the method tells them apart. */
	if (caps.method_len > 0 && (caps.method_len != strlen(r->method) ||
	    memcmp(m->topic + caps.method_off, r->method, caps.method_len) != 0))
		return false;
	memcpy(id, m->topic + caps.id_off, caps.id_len);
	id[caps.id_len] = '\0';
	if (r->conv == SIM_RR_CONV_RID) {
		tlen = (size_t)snprintf(topic, sizeof(topic), "%s/%s/res/%d/?$rid=%.*s",
		    r->response_prefix, id, r->resp_status,
		    (int)(m->topic_len - (size_t)(rid_at - m->topic)), rid_at);
	} else {
		if (m->props.response_topic == NULL || m->props.correlation_len != 8)
			return true;    /* nowhere to answer: the device times out */
		corr = sim_rr_wire_id(&m->props);
		tlen = (size_t)snprintf(topic, sizeof(topic), "%.*s",
		    (int)m->props.response_topic_len, m->props.response_topic);
	}
	if (r->resp_payload != NULL) {
		pv = (struct sim_rr_payload_vals){ .id = id, .method = r->method,
			.seq = hal_rng_u64(&c->rng), .seed = hal_rng_u64(&c->rng) };
		plen = sim_rr_payload_render(r->resp_payload, &pv, payload, sizeof(payload));
		if (plen >= sizeof(payload))
			plen = sizeof(payload) - 1;
	}
	if (tlen >= sizeof(topic))
		return true;
	delay = (uint64_t)dev_dist_draw(r->resp_delay, &c->rng);
	/* No delay: answer now, without a timer of its own. */
	if (delay == 0) {
		send_answer(c, topic, payload, plen, r->qos, r->conv == SIM_RR_CONV_MQTT5, corr,
		    r->resp_status);
		return true;
	}
	if ((a = calloc(1, sizeof(*a) + tlen + 1 + plen)) == NULL)
		return true;
	a->c = c;
	a->corr = corr;
	a->qos = r->qos;
	a->status = r->resp_status;
	a->mqtt5 = r->conv == SIM_RR_CONV_MQTT5;
	a->topic_len = tlen;
	a->len = plen;
	memcpy(a->data, topic, tlen + 1);
	memcpy(a->data + tlen + 1, payload, plen);
	if ((a->ev = evtimer_new(c->base, answer_cb, a)) == NULL) {
		free(a);
		return true;
	}
	a->next = c->pending;
	if (c->pending != NULL)
		c->pending->prev = a;
	c->pending = a;
	tv = sim_tv_from_ns(delay);
	evtimer_add(a->ev, &tv);
	return true;
}

static enum sim_err
add_filter(struct sim_rr_cloud *c, char *f, int qos)
{
	for (size_t i = 0; i < c->nfilters; i++) {
		if (strcmp(c->filters[i], f) == 0) {
			if (qos > c->qos[i])
				c->qos[i] = qos;
			free(f);
			return SIM_OK;
		}
	}
	c->filters[c->nfilters] = f;
	c->qos[c->nfilters++] = qos;
	return SIM_OK;
}

enum sim_err
sim_rr_cloud_new(struct event_base *base, const struct sim_scenario *sc,
    const struct sim_rr_cloud_opts *o, struct sim_rr_cloud **out)
{
	struct sim_rr_cloud *c;
	enum sim_err rv = SIM_ERR_NOMEM;
	uint64_t total = sim_scenario_devices(sc);

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SIM_ERR_NOMEM;
	c->base = base;
	c->sc = sc;
	c->o = *o;
	if (sc->nrr == 0) {
		free(c);
		return SIM_OK;
	}
	c->has_c2d = sim_rr_dir_opts(sc, SIM_RR_C2D, c->methods, MAX_METHODS, &c->ro);
	c->has_d2c = sim_rr_dir_opts(sc, SIM_RR_D2C, c->dmethods, MAX_METHODS, &c->dro);
	/* The two directions' ids differ, so one's answer is never taken for
	 * the other's. */
	c->ro.salt = o->run_id;
	c->dro.salt = o->run_id ^ 0xd2c0d2c0u;
	hal_rng_init(&c->rng, o->seed, "cloud", 0, "responder");
	snprintf(c->resp_topic, sizeof(c->resp_topic), "fleetsim/%08x/c2d/res", o->run_id);
	for (c->idcap = 16; c->idcap < 2 * total; c->idcap *= 2)
		;
	c->pats = calloc(sc->nrr, sizeof(*c->pats));
	c->filters = calloc(sc->nrr + 1, sizeof(*c->filters));
	c->qos = calloc(sc->nrr + 1, sizeof(*c->qos));
	c->ids = calloc(c->idcap, sizeof(*c->ids));
	c->tick = evtimer_new(base, tick_cb, c);
	if (c->pats == NULL || c->filters == NULL || c->qos == NULL || c->ids == NULL ||
	    c->tick == NULL || (c->has_c2d && (rv = sim_rr_new(&c->ro, &c->rr)) != SIM_OK) ||
	    (c->has_d2c && (rv = sim_rr_new(&c->dro, &c->d2c)) != SIM_OK)) {
		rv = SIM_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < sc->nrr; i++) {
		const struct sim_rr_cfg *r = &sc->rr[i];
		struct pat *p = &c->pats[c->npats];
		char *f;

		if (r->dir == SIM_RR_D2C) {
			if ((rv = responder_filter(c, r)) != SIM_OK)
				goto out;
			continue;
		}
		p->cfg = r;
		for (p->method = 0; strcmp(c->methods[p->method], r->method) != 0; p->method++)
			;
		if ((rv = pick_targets(c, p, i)) != SIM_OK)
			goto out;
		c->npats++;
		if (r->conv == SIM_RR_CONV_RID)
			f = sim_tmpl_to_filter(r->response_topic);
		else
			f = strdup(c->resp_topic);
		if (f == NULL || (rv = add_filter(c, f, r->qos)) != SIM_OK) {
			rv = SIM_ERR_NOMEM;
			goto out;
		}
	}
	*out = c;
	c = NULL;
	rv = SIM_OK;
out:
	sim_rr_cloud_free(c);
	return rv;
}

void
sim_rr_cloud_free(struct sim_rr_cloud *c)
{
	if (c == NULL)
		return;
	if (c->tick != NULL)
		event_free(c->tick);
	for (size_t i = 0; c->pats != NULL && i < c->npats; i++)
		free(c->pats[i].targets);
	free(c->pats);
	for (size_t i = 0; c->filters != NULL && i < c->nfilters; i++)
		free(c->filters[i]);
	free(c->filters);
	free(c->qos);
	for (size_t i = 0; c->ids != NULL && i < c->idcap; i++)
		free(c->ids[i].id);
	free(c->ids);
	while (c->pending != NULL) {
		struct answer *a = c->pending;

		c->pending = a->next;
		event_free(a->ev);
		free(a);
	}
	sim_rr_free(c->rr);
	sim_rr_free(c->d2c);
	free(c);
}

size_t
sim_rr_cloud_filters(const struct sim_rr_cloud *c, const char *const **filters, const int **qos)
{
	if (c == NULL)
		return 0;
	*filters = (const char *const *)c->filters;
	*qos = c->qos;
	return c->nfilters;
}

int
sim_rr_parse_status(const char *s, size_t n)
{
	int v = 0;

	if (n == 0 || n > 4)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static void
wire_corr(struct sim_rr_wire *w, uint64_t id)
{
	memset(&w->props, 0, sizeof(w->props));
	for (int i = 0; i < 8; i++)
		w->corr[i] = (uint8_t)(id >> (56 - 8 * i));
	w->props.correlation = w->corr;
	w->props.correlation_len = sizeof(w->corr);
}

const struct sim_mqtt_props *
sim_rr_wire_request(struct sim_rr_wire *w, uint64_t id, const char *response_topic)
{
	wire_corr(w, id);
	w->props.response_topic = response_topic;
	w->props.response_topic_len = response_topic != NULL ? strlen(response_topic) : 0;
	return &w->props;
}

const struct sim_mqtt_props *
sim_rr_wire_answer(struct sim_rr_wire *w, uint64_t id, int status)
{
	wire_corr(w, id);
	snprintf(w->status, sizeof(w->status), "%d", status);
	w->status_prop = (struct sim_mqtt_user_prop){ .key = "status", .key_len = 6,
		.val = w->status, .val_len = strlen(w->status) };
	w->props.user = &w->status_prop;
	w->props.nuser = 1;
	return &w->props;
}

uint64_t
sim_rr_wire_id(const struct sim_mqtt_props *p)
{
	uint64_t id = 0;

	for (size_t i = 0; p->correlation_len == 8 && i < 8; i++)
		id = id << 8 | p->correlation[i];
	return id;
}

int
sim_rr_wire_status(const struct sim_mqtt_props *p)
{
	for (size_t i = 0; i < p->nuser; i++) {
		const struct sim_mqtt_user_prop *u = &p->user[i];

		if (u->key_len == 6 && memcmp(u->key, "status", 6) == 0)
			return sim_rr_parse_status(u->val, u->val_len);
	}
	return 0;
}

bool
sim_rr_cloud_hook(void *arg, const struct sim_mqtt_msg *m)
{
	struct sim_rr_cloud *c = arg;
	uint64_t now = sim_now_ns();

	for (size_t i = 0; i < c->sc->nrr; i++) {
		const struct sim_rr_cfg *r = &c->sc->rr[i];

		if (r->dir == SIM_RR_D2C && !r->external && respond(c, r, m))
			return true;
	}
	if (c->rr == NULL)
		return false;

	if (m->topic_len == strlen(c->resp_topic) &&
	    memcmp(m->topic, c->resp_topic, m->topic_len) == 0) {
		sim_rr_answer(c->rr, sim_rr_wire_id(&m->props), SIM_RR_ANY_DEVICE,
		    sim_rr_wire_status(&m->props), now);
		return true;
	}
	for (size_t i = 0; i < c->npats; i++) {
		const struct sim_rr_cfg *r = c->pats[i].cfg;
		struct sim_tmpl_caps caps;
		uint32_t dev;

		if (r->conv != SIM_RR_CONV_RID ||
		    !sim_tmpl_match(r->response_topic, NULL, m->topic, m->topic_len, &caps))
			continue;
		dev = caps.id_len > 0 ? id_find(c, m->topic + caps.id_off, caps.id_len) :
		    SIM_RR_ANY_DEVICE;
		sim_rr_answer(c->rr, sim_rr_id_parse(m->topic + caps.rid_off, caps.rid_len), dev,
		    sim_rr_parse_status(m->topic + caps.status_off, caps.status_len), now);
		return true;
	}
	return false;
}

void
sim_rr_cloud_start(struct sim_rr_cloud *c, struct sim_consumer *cons, uint64_t send_start_ns,
    uint64_t send_end_ns)
{

	if (c == NULL)
		return;
	c->cons = cons;
	c->start_ns = send_start_ns;
	c->end_ns = send_end_ns;
	rearm(c, sim_now_ns());
}

void
sim_rr_cloud_stop_sending(struct sim_rr_cloud *c, uint64_t now)
{
	if (c != NULL && c->end_ns > now)
		c->end_ns = now;
}

uint64_t
sim_rr_cloud_open(const struct sim_rr_cloud *c)
{
	struct sim_rr_counts n;
	uint64_t open = 0;

	if (c == NULL)
		return 0;
	if (c->rr != NULL) {
		sim_rr_counts(c->rr, SIM_RR_ALL, &n);
		open += n.open;
	}
	if (c->d2c != NULL) {
		sim_rr_counts(c->d2c, SIM_RR_ALL, &n);
		open += n.open;
	}
	return open;
}

void
sim_rr_cloud_finish(struct sim_rr_cloud *c)
{
	if (c == NULL)
		return;
	c->stopped = true;
	event_del(c->tick);
	if (c->rr != NULL)
		sim_rr_expire(c->rr, UINT64_MAX);
	if (c->d2c != NULL)
		sim_rr_expire(c->d2c, UINT64_MAX);
}

const struct sim_rr *
sim_rr_cloud_tracker(const struct sim_rr_cloud *c, enum sim_rr_dir dir,
    const struct sim_rr_opts **opts)
{
	if (c == NULL || (dir == SIM_RR_C2D ? c->rr : c->d2c) == NULL) {
		*opts = NULL;
		return NULL;
	}
	*opts = dir == SIM_RR_C2D ? &c->ro : &c->dro;
	return dir == SIM_RR_C2D ? c->rr : c->d2c;
}

struct sim_rr *
sim_rr_cloud_d2c(struct sim_rr_cloud *c)
{
	return c != NULL ? c->d2c : NULL;
}
