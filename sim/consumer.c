#include "consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "mqtt_client.h"
#include "rng.h"
#include "sim_clock.h"

struct conn {
	struct sim_consumer *owner;
	struct sim_mqtt_client *mqtt;
	struct event *retry;
	unsigned attempt;
	unsigned subacks;           /* filters acknowledged this session */
	bool up;                    /* connected at least once */
	bool live;                  /* between CONNACK and on_closed, closing included */
	bool connecting;
	char id[64];
};

struct sim_consumer {
	struct event_base *base;
	struct sim_transport *tp;
	const struct sim_target *target;
	struct sim_tm_checker *chk;
	struct sim_mqtt_config cfg;
	char **filters;             /* as subscribed: with $share/ when shared */
	int *qos;
	size_t nfilters;
	struct conn *conns;
	unsigned nconns;
	bool stopping;
	bool failed;                /* a failure that retrying will not fix */
	uint64_t rng;
	uint64_t reconnects;
	sim_consumer_hook hook;     /* offered every message first */
	void *hook_arg;
	unsigned next_pub;          /* round-robin over connections for publishes */
	char last_error[256];
};

static void conn_open(struct conn *k);

static void
on_connected(void *arg, bool session_present)
{
	struct conn *k = arg;
	struct sim_consumer *c = k->owner;

	if (k->up)
		c->reconnects++;
	k->connecting = false;
	k->up = true;
	k->live = true;
	k->attempt = 0;
	if (session_present && k->subacks == c->nfilters)
		return;
	/* A new session has no subscriptions: make them (again). */
	k->subacks = 0;
	for (size_t i = 0; i < c->nfilters; i++) {
		if (sim_mqtt_subscribe(k->mqtt, c->filters[i], c->qos[i], NULL) != SIM_OK) {
			snprintf(c->last_error, sizeof(c->last_error), "cannot subscribe to %s",
			    c->filters[i]);
			sim_mqtt_abort(k->mqtt);
			return;
		}
	}
}

static void
on_suback(void *arg, uint16_t pid, const uint8_t *codes, size_t n)
{
	struct conn *k = arg;
	struct sim_consumer *c = k->owner;

	for (size_t i = 0; i < n; i++) {
		if (codes[i] >= 0x80) {
			/* Without the subscription every message would read as
			 * lost; the broker will not change its mind. */
			snprintf(c->last_error, sizeof(c->last_error),
			    "the broker refused a telemetry subscription (code 0x%02x)", codes[i]);
			c->failed = true;
			return;
		}
	}
	k->subacks++;
}

static void
on_message(void *arg, const struct sim_mqtt_msg *m)
{
	struct conn *k = arg;
	struct sim_consumer *c = k->owner;

	if (c->hook != NULL && c->hook(c->hook_arg, m))
		return;
	sim_tm_check(c->chk, m->payload, m->payload_len, sim_now_ns());
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_open(arg);
}

static void
on_closed(void *arg, enum sim_mqtt_close why, int reason, const char *detail)
{
	struct conn *k = arg;
	struct sim_consumer *c = k->owner;
	struct timeval tv;

	k->connecting = false;
	k->live = false;
	if (why != SIM_MQTT_CLOSE_REQUESTED && detail != NULL && detail[0] != '\0')
		snprintf(c->last_error, sizeof(c->last_error), "%s", detail);
	/* A certificate that does not verify, or a broker that says no, will
	 * say the same next time: no point waiting out the connect timeout. */
	if (why == SIM_MQTT_CLOSE_TLS || why == SIM_MQTT_CLOSE_REFUSED)
		c->failed = true;
	if (c->stopping)
		return;
	tv = sim_tv_from_ns(sim_backoff_ns(k->attempt++, &c->rng));
	evtimer_add(k->retry, &tv);
}

static const struct sim_mqtt_cbs consumer_cbs = {
	.on_connected = on_connected,
	.on_message = on_message,
	.on_suback = on_suback,
	.on_closed = on_closed,
};

static void
conn_open(struct conn *k)
{
	struct sim_consumer *c = k->owner;
	struct bufferevent *bev;
	struct timeval tv;

	if (c->stopping || k->connecting)
		return;
	bev = sim_transport_open(c->tp, c->base);
	if (bev == NULL || sim_mqtt_connect(k->mqtt, bev) != SIM_OK) {
		snprintf(c->last_error, sizeof(c->last_error), "cannot open a connection to the broker");
		tv = sim_tv_from_ns(sim_backoff_ns(k->attempt++, &c->rng));
		evtimer_add(k->retry, &tv);
		return;
	}
	k->connecting = true;
}

enum sim_err
sim_consumer_new(struct event_base *base, struct sim_transport *tp, const struct sim_target *t,
    struct sim_tm_checker *chk, const struct sim_consumer_opts *o, struct sim_consumer **out)
{
	struct sim_consumer *c;
	enum sim_err rv = SIM_ERR_NOMEM;
	char user[256], pass[256];

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SIM_ERR_NOMEM;
	c->base = base;
	c->tp = tp;
	c->target = t;
	c->chk = chk;
	c->rng = sim_rng_mix(o->seed, 0xc0ffee);
	c->cfg = (struct sim_mqtt_config){
		.version = SIM_MQTT_V5,
		.keepalive_s = 30,
		.clean_session = false,
		.session_expiry_s = 600,
		.max_inflight = 1000,
		.max_packet = o->max_payload + 65536,
		.cbs = &consumer_cbs,
	};
	c->filters = calloc(o->nfilters, sizeof(*c->filters));
	c->qos = calloc(o->nfilters, sizeof(*c->qos));
	c->conns = calloc(o->connections, sizeof(*c->conns));
	if (c->filters == NULL || c->qos == NULL || c->conns == NULL)
		goto out;
	c->nfilters = o->nfilters;
	c->hook = o->hook;
	c->hook_arg = o->hook_arg;
	for (size_t i = 0; i < o->nfilters; i++) {
		if (o->connections > 1) {
			if (asprintf(&c->filters[i], "$share/fleetsim-%08x/%s", o->run_id,
			    o->filters[i]) < 0) {
				c->filters[i] = NULL;
				goto out;
			}
		} else if ((c->filters[i] = strdup(o->filters[i])) == NULL) {
			goto out;
		}
		c->qos[i] = o->qos[i];
	}
	c->nconns = o->connections;
	for (unsigned i = 0; i < c->nconns; i++) {
		struct conn *k = &c->conns[i];
		struct sim_tmpl_vals v;

		k->owner = c;
		snprintf(k->id, sizeof(k->id), "fleetsim-cloud-%08x-%u", o->run_id, i);
		v = (struct sim_tmpl_vals){ .id = k->id, .n = i, .group = "cloud" };
		if (t->username != NULL)
			sim_tmpl_render(t->username, &v, user, sizeof(user));
		if (t->password != NULL)
			sim_tmpl_render(t->password, &v, pass, sizeof(pass));
		k->retry = evtimer_new(base, retry_cb, k);
		if (k->retry == NULL)
			goto out;
		rv = sim_mqtt_client_new(base, &c->cfg, k->id, t->username ? user : NULL,
		    t->password ? pass : NULL, k, &k->mqtt);
		if (rv != SIM_OK)
			goto out;
	}
	*out = c;
	c = NULL;
	rv = SIM_OK;
out:
	sim_consumer_free(c);
	return rv;
}

void
sim_consumer_free(struct sim_consumer *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; c->conns != NULL && i < c->nconns; i++) {
		sim_mqtt_client_free(c->conns[i].mqtt);
		if (c->conns[i].retry != NULL)
			event_free(c->conns[i].retry);
	}
	for (size_t i = 0; c->filters != NULL && i < c->nfilters; i++)
		free(c->filters[i]);
	free(c->filters);
	free(c->qos);
	free(c->conns);
	free(c);
}

void
sim_consumer_start(struct sim_consumer *c)
{
	for (unsigned i = 0; i < c->nconns; i++)
		conn_open(&c->conns[i]);
}

bool
sim_consumer_ready(const struct sim_consumer *c)
{
	for (unsigned i = 0; i < c->nconns; i++)
		if (!sim_mqtt_is_connected(c->conns[i].mqtt) || c->conns[i].subacks < c->nfilters)
			return false;
	return true;
}

bool
sim_consumer_failed(const struct sim_consumer *c)
{
	return c->failed;
}

const char *
sim_consumer_last_error(const struct sim_consumer *c)
{
	return c->last_error;
}

void
sim_consumer_cork(struct sim_consumer *c, bool corked)
{
	for (unsigned i = 0; c != NULL && i < c->nconns; i++)
		sim_mqtt_cork(c->conns[i].mqtt, corked);
}

void
sim_consumer_flush(struct sim_consumer *c)
{
	for (unsigned i = 0; c != NULL && i < c->nconns; i++)
		sim_mqtt_flush(c->conns[i].mqtt);
}

void
sim_consumer_stop(struct sim_consumer *c)
{
	c->stopping = true;
	for (unsigned i = 0; i < c->nconns; i++) {
		evtimer_del(c->conns[i].retry);
		/* The session ends with the run: a lingering one would have
		 * the broker queue every later message for nobody. */
		if (sim_mqtt_is_connected(c->conns[i].mqtt))
			sim_mqtt_disconnect_ex(c->conns[i].mqtt, true);
		else
			sim_mqtt_abort(c->conns[i].mqtt);
	}
}

unsigned
sim_consumer_connected(const struct sim_consumer *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->nconns; i++)
		n += c->conns[i].live;
	return n;
}

uint64_t
sim_consumer_reconnects(const struct sim_consumer *c)
{
	return c->reconnects;
}

uint64_t
sim_consumer_decode_errors(const struct sim_consumer *c)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < c->nconns; i++) {
		struct sim_mqtt_stats st;

		sim_mqtt_stats(c->conns[i].mqtt, &st);
		n += st.decode_errors;
	}
	return n;
}

enum sim_err
sim_consumer_publish(struct sim_consumer *c, const char *topic, const void *payload, size_t len,
    int qos, const struct sim_mqtt_props *props)
{
	for (unsigned i = 0; i < c->nconns; i++) {
		struct conn *k = &c->conns[(c->next_pub + i) % c->nconns];

		if (!k->live)
			continue;
		c->next_pub = (c->next_pub + i + 1) % c->nconns;
		return sim_mqtt_publish(k->mqtt, topic, payload, len, qos, false, props, NULL);
	}
	return SIM_ERR_NOTCONN;
}
