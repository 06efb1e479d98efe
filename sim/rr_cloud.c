#include "rr_cloud.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "mqtt_client.h"
#include "rng.h"
#include "rr_payload.h"
#include "sim_clock.h"
#include "template.h"

/* The schedule is checked this often: a request is sent at most this late,
 * and its latency says so (it is measured from the intended time). */
#define TICK_US 1000
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

struct sim_rr_cloud {
	struct event_base *base;
	const struct sim_scenario *sc;
	struct sim_rr_cloud_opts o;
	struct sim_consumer *cons;
	struct sim_rr *rr;
	struct sim_rr_opts ro;
	const char *methods[MAX_METHODS];
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
sim_rr_c2d_opts(const struct sim_scenario *sc, const char **methods, size_t max,
    struct sim_rr_opts *o)
{
	size_t n = 0;
	uint64_t timeout = 0;

	for (size_t p = 0; p < sc->nrr; p++) {
		const struct sim_rr_cfg *r = &sc->rr[p];
		size_t m;

		if (r->dir != SIM_RR_C2D)
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
	struct sim_mqtt_props props;
	char id[256], rid[17], topic[512], payload[4096];
	uint8_t corr[8];
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
	memset(&props, 0, sizeof(props));
	if (r->conv == SIM_RR_CONV_MQTT5) {
		for (int i = 0; i < 8; i++)
			corr[i] = (uint8_t)(key >> (56 - 8 * i));
		props.response_topic = c->resp_topic;
		props.response_topic_len = strlen(c->resp_topic);
		props.correlation = corr;
		props.correlation_len = sizeof(corr);
	}
	/* Not connected: the request stays open and times out, which is what
	 * a caller whose cloud link is down sees. */
	(void)sim_consumer_publish(c->cons, topic, payload, plen, r->qos,
	    r->conv == SIM_RR_CONV_MQTT5 ? &props : NULL);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sim_rr_cloud *c = arg;
	uint64_t now = sim_now_ns();
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
	sim_rr_expire(c->rr, now);
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

			if (p->cfg->share < 1 && (double)(sim_rng_next(&s) >> 11) * 0x1p-53 >=
			    p->cfg->share)
				continue;
			p->targets[p->ntargets++] = dev;
			device_id(sc, g, n, id, sizeof(id));
			if (id_add(c, id, dev) != SIM_OK)
				return SIM_ERR_NOMEM;
		}
	}
	return SIM_OK;
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
	if (!sim_rr_c2d_opts(sc, c->methods, MAX_METHODS, &c->ro)) {
		free(c);
		return SIM_OK;
	}
	c->ro.salt = o->run_id;
	snprintf(c->resp_topic, sizeof(c->resp_topic), "fleetsim/%08x/c2d/res", o->run_id);
	for (c->idcap = 16; c->idcap < 2 * total; c->idcap *= 2)
		;
	c->pats = calloc(sc->nrr, sizeof(*c->pats));
	c->filters = calloc(sc->nrr + 1, sizeof(*c->filters));
	c->qos = calloc(sc->nrr + 1, sizeof(*c->qos));
	c->ids = calloc(c->idcap, sizeof(*c->ids));
	c->tick = event_new(base, -1, EV_PERSIST, tick_cb, c);
	if (c->pats == NULL || c->filters == NULL || c->qos == NULL || c->ids == NULL ||
	    c->tick == NULL || (rv = sim_rr_new(&c->ro, &c->rr)) != SIM_OK)
		goto out;
	for (size_t i = 0; i < sc->nrr; i++) {
		const struct sim_rr_cfg *r = &sc->rr[i];
		struct pat *p = &c->pats[c->npats];
		char *f;

		if (r->dir != SIM_RR_C2D)
			continue;
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
	sim_rr_free(c->rr);
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

static int
parse_status(const char *s, size_t n)
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

bool
sim_rr_cloud_hook(void *arg, const struct sim_mqtt_msg *m)
{
	struct sim_rr_cloud *c = arg;
	uint64_t now = sim_now_ns();

	if (m->topic_len == strlen(c->resp_topic) &&
	    memcmp(m->topic, c->resp_topic, m->topic_len) == 0) {
		uint64_t key = 0;
		int status = 0;

		for (size_t i = 0; m->props.correlation_len == 8 && i < 8; i++)
			key = key << 8 | m->props.correlation[i];
		for (size_t i = 0; i < m->props.nuser; i++) {
			const struct sim_mqtt_user_prop *u = &m->props.user[i];

			if (u->key_len == 6 && memcmp(u->key, "status", 6) == 0)
				status = parse_status(u->val, u->val_len);
		}
		sim_rr_answer(c->rr, key, SIM_RR_ANY_DEVICE, status, now);
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
		    parse_status(m->topic + caps.status_off, caps.status_len), now);
		return true;
	}
	return false;
}

void
sim_rr_cloud_start(struct sim_rr_cloud *c, struct sim_consumer *cons, uint64_t send_start_ns,
    uint64_t send_end_ns)
{
	struct timeval tv = { 0, TICK_US };

	if (c == NULL)
		return;
	c->cons = cons;
	c->start_ns = send_start_ns;
	c->end_ns = send_end_ns;
	event_add(c->tick, &tv);
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

	if (c == NULL)
		return 0;
	sim_rr_counts(c->rr, SIM_RR_ALL, &n);
	return n.open;
}

void
sim_rr_cloud_finish(struct sim_rr_cloud *c)
{
	if (c == NULL)
		return;
	event_del(c->tick);
	sim_rr_expire(c->rr, UINT64_MAX);
}

const struct sim_rr *
sim_rr_cloud_c2d(const struct sim_rr_cloud *c)
{
	return c != NULL ? c->rr : NULL;
}

const struct sim_rr_opts *
sim_rr_cloud_opts(const struct sim_rr_cloud *c)
{
	return c != NULL ? &c->ro : NULL;
}
