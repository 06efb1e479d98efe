#include "fleet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/timerfd.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "mqtt_client.h"
#include "rng.h"
#include "sim_clock.h"

/* A connect attempt that has not finished by then is given up and retried. */
#define CONNECT_TIMEOUT_NS (10 * SIM_NS_PER_S)
/* At most this many overdue sends are made in one wake, so a device that
 * fell far behind cannot starve the loop. */
#define MAX_CATCH_UP 64
/* Under load the fleet's timer fires at most once per quantum, so a
 * quantum's sends share one wake-up (and reach the broker as one burst):
 * wake-ups, not bytes, are most of the CPU a message costs. A send made
 * late this way is late, and its latency says so. Below BATCH_RATE the
 * CPU does not matter and every send goes out at its exact time. */
#define QUANTUM_NS (2 * SIM_NS_PER_MS)
#define BATCH_RATE 2000.0       /* planned sends per second */
/* Devices handled in one wake before yielding to the loop. */
#define MAX_PER_WAKE 20000
#define NOT_QUEUED UINT32_MAX

enum dev_state { DEV_IDLE, DEV_QUEUED, DEV_CONNECTING, DEV_UP, DEV_BACKOFF, DEV_DONE };

struct group_rt {
	const struct sim_group *cfg;
	struct sim_mqtt_config mqtt;
	uint32_t first;             /* fleet-wide index of the group's device 0 */
	uint32_t started;           /* devices the ramp has released */
};

struct device {
	struct sim_fleet *f;
	struct group_rt *g;
	struct sim_mqtt_client *mqtt;
	struct device *gate_next;
	uint64_t next_send_ns;      /* intended time of the next send; 0 = none */
	uint64_t wake_ns;           /* backoff end or connect deadline; 0 = none */
	uint64_t scheduled_ns;      /* when the ramp released the device */
	uint32_t index;
	uint32_t n;                 /* index in the group */
	uint32_t k;                 /* telemetry sends made */
	uint32_t heap_idx;          /* position in the timer heap, or NOT_QUEUED */
	uint8_t state;
	uint8_t attempts;
	bool ever_connected;
};

/* A heap entry carries its key, so sifting compares without touching the
 * (cold) devices. */
struct hent {
	uint64_t due;
	struct device *d;
};

struct sim_fleet {
	struct event_base *base;
	struct sim_transport *tp;
	const struct sim_scenario *sc;
	struct sim_tm_checker *chk;
	struct sim_fleet_opts o;
	struct group_rt *groups;
	size_t ngroups;
	struct device *devs;
	uint32_t ndevs;
	struct event *ramp;
	/* Every device timer lives in one min-heap on its due time behind one
	 * libevent timer: 20 bytes a device instead of a struct event, and
	 * wake-ups can be batched (quantum_ns). */
	struct hent *heap;
	uint32_t heap_len;
	/* The fleet's own timerfd, set to an absolute CLOCK_MONOTONIC time:
	 * exact without libevent's precise-timer mode, which would call
	 * timerfd_settime on every loop pass, not just when this moves. */
	int tfd;
	struct event *timer;
	uint64_t armed_ns;          /* when the timer is set to fire; 0 = not set */
	uint64_t quantum_ns;        /* 0 or QUANTUM_NS, from the planned rate */
	uint64_t last_fire_ns;
	/* The connect gate. */
	struct device *gate_head, *gate_tail;
	uint32_t gate_open, gate_max;
	bool pumping;
	bool stopping;
	uint64_t rng;
	uint8_t *payload;           /* scratch: the largest telemetry payload */
	char *topic;                /* scratch for rendered topics */
	size_t topic_cap;
	struct rpt_hist *connect_hist;
	struct sim_fleet_stats st;
	char last_error[256];
};

static void gate_pump(struct sim_fleet *f);

/* Queues d for a connect attempt behind those already waiting. */
static void
gate_push(struct device *d)
{
	struct sim_fleet *f = d->f;

	d->state = DEV_QUEUED;
	if (f->gate_tail != NULL)
		f->gate_tail->gate_next = d;
	else
		f->gate_head = d;
	f->gate_tail = d;
}
static void dev_arm(struct device *d);

static const struct sim_mqtt_cbs device_cbs;

/* The telemetry schedule is a pure function of (seed, device, k): a random
 * phase spreads a group's sends over the period, and jitter moves each send
 * without drift, so late timers never shift later intended times. */
static uint64_t
intended_ns(const struct sim_fleet *f, const struct device *d, uint32_t k)
{
	const struct sim_telemetry_cfg *t = &d->g->cfg->telemetry;
	uint64_t s = sim_rng_mix(f->o.seed, d->index);
	uint64_t at = f->o.send_start_ns + sim_rng_below(&s, t->every_ns) + (uint64_t)k * t->every_ns;

	if (t->jitter_ns > 0) {
		uint64_t js = sim_rng_mix(s, k);
		uint64_t j = sim_rng_below(&js, 2 * t->jitter_ns + 1);

		at = at + j < t->jitter_ns + f->o.send_start_ns ? f->o.send_start_ns : at + j - t->jitter_ns;
	}
	return at;
}

static void
schedule_next_send(struct device *d)
{
	struct sim_fleet *f = d->f;
	uint64_t at;

	d->next_send_ns = 0;
	if (!d->g->cfg->telemetry.enabled)
		return;
	at = intended_ns(f, d, d->k);
	if (at < f->o.send_end_ns)
		d->next_send_ns = at;
}

static void
send_one(struct device *d)
{
	struct sim_fleet *f = d->f;
	const struct sim_telemetry_cfg *t = &d->g->cfg->telemetry;
	struct sim_tm_hdr h;
	struct sim_tmpl_vals v;
	size_t need;
	char id[256];
	enum sim_err rv;

	h.run_id = f->o.run_id;
	h.device = d->index;
	h.seq = sim_tm_next_seq(f->chk, d->index);
	h.intended_ns = d->next_send_ns;
	d->k++;
	sim_tm_encode(f->payload, &h);

	v = (struct sim_tmpl_vals){ .n = d->n, .group = d->g->cfg->name, .id = id };
	sim_tmpl_render(d->g->cfg->id, &v, id, sizeof(id));
	need = sim_tmpl_render(t->topic, &v, f->topic, f->topic_cap);
	if (need >= f->topic_cap) {
		char *p = realloc(f->topic, need + 1);

		if (p == NULL) {
			sim_tm_note_dropped(f->chk);
			return;
		}
		f->topic = p;
		f->topic_cap = need + 1;
		sim_tmpl_render(t->topic, &v, f->topic, f->topic_cap);
	}
	if (d->state != DEV_UP && t->qos == 0) {
		sim_tm_note_dropped(f->chk);
		return;
	}
	rv = sim_mqtt_publish(d->mqtt, f->topic, f->payload, t->size, t->qos, false, NULL, NULL);
	if (rv != SIM_OK)
		sim_tm_note_dropped(f->chk);
}

/* Moves the entry at i up or down to its place; the hole technique writes
 * each displaced entry once. */
static void
heap_fix(struct sim_fleet *f, uint32_t i)
{
	struct hent e = f->heap[i];

	while (i > 0 && e.due < f->heap[(i - 1) / 2].due) {
		f->heap[i] = f->heap[(i - 1) / 2];
		f->heap[i].d->heap_idx = i;
		i = (i - 1) / 2;
	}
	for (;;) {
		uint32_t l = 2 * i + 1, m = l;

		if (l >= f->heap_len)
			break;
		if (l + 1 < f->heap_len && f->heap[l + 1].due < f->heap[l].due)
			m = l + 1;
		if (f->heap[m].due >= e.due)
			break;
		f->heap[i] = f->heap[m];
		f->heap[i].d->heap_idx = i;
		i = m;
	}
	f->heap[i] = e;
	e.d->heap_idx = i;
}

static void
heap_remove(struct sim_fleet *f, struct device *d)
{
	uint32_t i = d->heap_idx;

	if (i == NOT_QUEUED)
		return;
	d->heap_idx = NOT_QUEUED;
	if (--f->heap_len == i)
		return;
	f->heap[i] = f->heap[f->heap_len];
	heap_fix(f, i);
}

/* Sets the libevent timer for the heap's top, no earlier than one quantum
 * after the last wake. Only moves it earlier; a later top is picked up
 * when the timer fires. */
static void
fleet_arm(struct sim_fleet *f, bool force)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	uint64_t at;

	if (f->heap_len == 0)
		return;
	at = f->heap[0].due;
	if (at < f->last_fire_ns + f->quantum_ns)
		at = f->last_fire_ns + f->quantum_ns;
	if (!force && f->armed_ns != 0 && f->armed_ns <= at)
		return;
	/* A time in the past fires at once; zero would disarm. */
	its.it_value.tv_sec = (time_t)(at / SIM_NS_PER_S);
	its.it_value.tv_nsec = (long)(at % SIM_NS_PER_S);
	if (at == 0)
		its.it_value.tv_nsec = 1;
	(void)timerfd_settime(f->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	f->armed_ns = at;
}

/* Puts d in the heap at the earlier of its next send and its wake time,
 * or takes it out when it has neither. */
static void
dev_arm(struct device *d)
{
	struct sim_fleet *f = d->f;
	uint64_t at = d->next_send_ns;

	if (d->wake_ns != 0 && (at == 0 || d->wake_ns < at))
		at = d->wake_ns;
	if (at == 0) {
		heap_remove(f, d);
		return;
	}
	if (d->heap_idx == NOT_QUEUED)
		d->heap_idx = f->heap_len++;
	f->heap[d->heap_idx] = (struct hent){ .due = at, .d = d };
	heap_fix(f, d->heap_idx);
	fleet_arm(f, false);
}

static void
dev_due(struct device *d, uint64_t now)
{
	struct sim_fleet *f = d->f;
	int n = 0;

	if (d->wake_ns != 0 && now >= d->wake_ns) {
		d->wake_ns = 0;
		if (d->state == DEV_CONNECTING) {
			f->st.connect_failures++;
			snprintf(f->last_error, sizeof(f->last_error), "connect timed out after %llus",
			    (unsigned long long)(CONNECT_TIMEOUT_NS / SIM_NS_PER_S));
			dev_arm(d);
			sim_mqtt_abort(d->mqtt);    /* on_closed backs off and re-arms */
			return;
		}
		if (d->state == DEV_BACKOFF) {
			gate_push(d);
			gate_pump(f);
		}
	}
	while (d->next_send_ns != 0 && now >= d->next_send_ns && n++ < MAX_CATCH_UP) {
		send_one(d);
		schedule_next_send(d);
	}
	dev_arm(d);
}

static void
fleet_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sim_fleet *f = arg;
	uint64_t now = sim_now_ns();
	uint64_t expirations;
	int n = 0;

	if (read(f->tfd, &expirations, sizeof(expirations)) < 0)
		return;         /* spurious: not due yet */
	f->armed_ns = 0;
	f->last_fire_ns = now;
	while (f->heap_len > 0 && f->heap[0].due <= now && n++ < MAX_PER_WAKE)
		dev_due(f->heap[0].d, now);
	if (n >= MAX_PER_WAKE)
		f->last_fire_ns = 0;    /* more is due: come back at once */
	fleet_arm(f, true);
}

static enum sim_err
dev_client(struct device *d)
{
	struct sim_fleet *f = d->f;
	const struct sim_target *t = &f->sc->target;
	struct sim_tmpl_vals v;
	char id[256], user[256], pass[256];

	if (d->mqtt != NULL)
		return SIM_OK;
	v = (struct sim_tmpl_vals){ .n = d->n, .group = d->g->cfg->name, .id = id };
	sim_tmpl_render(d->g->cfg->id, &v, id, sizeof(id));
	if (t->username != NULL)
		sim_tmpl_render(t->username, &v, user, sizeof(user));
	if (t->password != NULL)
		sim_tmpl_render(t->password, &v, pass, sizeof(pass));
	return sim_mqtt_client_new(f->base, &d->g->mqtt, id, t->username ? user : NULL,
	    t->password ? pass : NULL, d, &d->mqtt);
}

static void
backoff(struct device *d)
{
	struct sim_fleet *f = d->f;

	if (f->stopping) {
		d->state = DEV_DONE;
		d->wake_ns = 0;
		dev_arm(d);
		return;
	}
	d->state = DEV_BACKOFF;
	d->wake_ns = sim_now_ns() + sim_backoff_ns(d->attempts, &f->rng);
	if (d->attempts < 255)
		d->attempts++;
	dev_arm(d);
}

/* Starts one attempt; false if it failed at once (then it is backing off). */
static bool
dev_connect(struct device *d)
{
	struct sim_fleet *f = d->f;
	struct bufferevent *bev = NULL;

	bev = sim_transport_open(f->tp, f->base);
	if (bev == NULL) {
		snprintf(f->last_error, sizeof(f->last_error), "cannot open a socket: %s",
		    strerror(errno));
		goto fail;
	}
	if (sim_mqtt_connect(d->mqtt, bev) != SIM_OK)
		goto fail;
	d->state = DEV_CONNECTING;
	d->wake_ns = sim_now_ns() + CONNECT_TIMEOUT_NS;
	dev_arm(d);
	return true;
fail:
	f->st.connect_failures++;
	backoff(d);
	return false;
}

static void
gate_pump(struct sim_fleet *f)
{
	/* Callbacks may release slots while we are starting attempts; the
	 * outer loop picks those up, so never recurse. */
	if (f->pumping)
		return;
	f->pumping = true;
	while (f->gate_open < f->gate_max && f->gate_head != NULL) {
		struct device *d = f->gate_head;

		f->gate_head = d->gate_next;
		if (f->gate_head == NULL)
			f->gate_tail = NULL;
		d->gate_next = NULL;
		if (f->stopping) {
			d->state = DEV_DONE;
			continue;
		}
		f->gate_open++;
		if (!dev_connect(d))
			f->gate_open--;
	}
	f->pumping = false;
}

static void
gate_release(struct sim_fleet *f)
{
	f->gate_open--;
	gate_pump(f);
}

static void
on_connected(void *arg, bool session_present)
{
	struct device *d = arg;
	struct sim_fleet *f = d->f;
	uint64_t now = sim_now_ns();
	bool had_slot = d->state == DEV_CONNECTING;

	d->state = DEV_UP;
	d->attempts = 0;
	d->wake_ns = 0;
	f->st.connected_now++;
	if (!d->ever_connected) {
		d->ever_connected = true;
		f->st.connected_ever++;
		rpt_hist_record(f->connect_hist, now - d->scheduled_ns);
		if (f->st.connected_ever == f->ndevs)
			f->st.all_connected_ns = now - f->o.start_ns;
	} else {
		f->st.reconnects++;
	}
	if (had_slot)
		gate_release(f);
	dev_arm(d);
}

static void
on_closed(void *arg, enum sim_mqtt_close why, int reason, const char *detail)
{
	struct device *d = arg;
	struct sim_fleet *f = d->f;

	if (d->state == DEV_CONNECTING) {
		/* Closes we asked for (a connect timeout, counted where it
		 * fired, or the end of the run) are not the broker's doing. */
		if (why != SIM_MQTT_CLOSE_REQUESTED) {
			f->st.connect_failures++;
			if (detail != NULL && detail[0] != '\0')
				snprintf(f->last_error, sizeof(f->last_error), "%s", detail);
		}
		gate_release(f);
	} else if (d->state == DEV_UP) {
		f->st.connected_now--;
		if (why != SIM_MQTT_CLOSE_REQUESTED)
			f->st.disconnects++;
	}
	backoff(d);
}

static const struct sim_mqtt_cbs device_cbs = {
	.on_connected = on_connected,
	.on_closed = on_closed,
};

static void
ramp_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sim_fleet *f = arg;
	uint64_t now = sim_now_ns();
	uint64_t elapsed = now - f->o.start_ns;
	bool more = false;

	for (size_t gi = 0; gi < f->ngroups; gi++) {
		struct group_rt *g = &f->groups[gi];
		uint64_t due = g->cfg->count;

		if (g->cfg->ramp_ns > 0 && elapsed < g->cfg->ramp_ns)
			due = (uint64_t)((double)g->cfg->count * (double)elapsed / (double)g->cfg->ramp_ns) + 1;
		if (due > g->cfg->count)
			due = g->cfg->count;
		for (; g->started < due; g->started++) {
			struct device *d = &f->devs[g->first + g->started];

			d->scheduled_ns = f->o.start_ns + (uint64_t)((unsigned __int128)g->cfg->ramp_ns *
			    g->started / g->cfg->count);
			if (dev_client(d) != SIM_OK) {
				/* Out of memory: the device never exists, and
				 * its absence shows as planned > connected. */
				snprintf(f->last_error, sizeof(f->last_error),
				    "out of memory creating device %u", d->index);
				d->state = DEV_DONE;
				continue;
			}
			gate_push(d);
			/* Devices exist from their release on, so telemetry
			 * is scheduled (and queued, at QoS 1/2) even while
			 * the connect waits at the gate. */
			schedule_next_send(d);
			dev_arm(d);
		}
		if (g->started < g->cfg->count)
			more = true;
	}
	gate_pump(f);
	if (more && !f->stopping) {
		struct timeval tv = { 0, 10000 };

		evtimer_add(f->ramp, &tv);
	}
}

enum sim_err
sim_fleet_new(struct event_base *base, struct sim_transport *tp, const struct sim_scenario *sc,
    struct sim_tm_checker *chk, const struct sim_fleet_opts *o, struct sim_fleet **out)
{
	struct sim_fleet *f;
	enum sim_err rv = SIM_ERR_NOMEM;
	uint32_t idx = 0, maxsize = SIM_TELEMETRY_MIN_SIZE;
	double rate = 0;

	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return SIM_ERR_NOMEM;
	f->tfd = -1;
	f->base = base;
	f->tp = tp;
	f->sc = sc;
	f->chk = chk;
	f->o = *o;
	f->rng = sim_rng_mix(o->seed, 0xf1ee7);
	f->ndevs = (uint32_t)sim_scenario_devices(sc);
	f->st.planned = f->ndevs;
	f->gate_max = UINT32_MAX;
	f->groups = calloc(sc->ngroups, sizeof(*f->groups));
	f->devs = calloc(f->ndevs, sizeof(*f->devs));
	f->ramp = evtimer_new(base, ramp_tick, f);
	f->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (f->tfd >= 0)
		f->timer = event_new(base, f->tfd, EV_READ | EV_PERSIST, fleet_timer, f);
	f->heap = calloc(f->ndevs ? f->ndevs : 1, sizeof(*f->heap));
	f->topic_cap = 256;
	f->topic = malloc(f->topic_cap);
	if (f->groups == NULL || f->devs == NULL || f->ramp == NULL || f->topic == NULL ||
	    f->timer == NULL || f->heap == NULL ||
	    rpt_hist_new(&f->connect_hist) != RPT_OK)
		goto out;
	f->ngroups = sc->ngroups;
	for (size_t gi = 0; gi < sc->ngroups; gi++) {
		const struct sim_group *cfg = &sc->groups[gi];
		struct group_rt *g = &f->groups[gi];

		g->cfg = cfg;
		g->first = idx;
		g->mqtt = (struct sim_mqtt_config){
			.version = cfg->mqtt_version,
			.keepalive_s = (uint16_t)(cfg->keepalive_ns / SIM_NS_PER_S),
			.clean_session = cfg->clean_session,
			.session_expiry_s = cfg->clean_session ? 0 : 3600,
			.max_inflight = 32,
			.max_packet = 1 << 20,
			.max_queued = 100000,
			.cbs = &device_cbs,
		};
		if (cfg->connect_max_inflight < f->gate_max)
			f->gate_max = cfg->connect_max_inflight;
		if (cfg->telemetry.enabled && cfg->telemetry.size > maxsize)
			maxsize = cfg->telemetry.size;
		if (cfg->telemetry.enabled)
			rate += (double)cfg->count * (double)SIM_NS_PER_S / (double)cfg->telemetry.every_ns;
		for (uint32_t n = 0; n < cfg->count; n++, idx++) {
			struct device *d = &f->devs[idx];

			d->f = f;
			d->g = g;
			d->index = idx;
			d->n = n;
			d->heap_idx = NOT_QUEUED;
		}
	}
	f->quantum_ns = rate >= BATCH_RATE ? QUANTUM_NS : 0;
	/* Padding after the header is a fixed pattern: the broker and the
	 * checker see real bytes, and building a message copies only 32. */
	f->payload = malloc(maxsize);
	if (f->payload == NULL)
		goto out;
	for (uint32_t i = 0; i < maxsize; i++)
		f->payload[i] = (uint8_t)('a' + i % 26);
	*out = f;
	f = NULL;
	rv = SIM_OK;
out:
	sim_fleet_free(f);
	return rv;
}

void
sim_fleet_free(struct sim_fleet *f)
{
	if (f == NULL)
		return;
	for (uint32_t i = 0; f->devs != NULL && i < f->ndevs; i++)
		sim_mqtt_client_free(f->devs[i].mqtt);
	if (f->ramp != NULL)
		event_free(f->ramp);
	if (f->timer != NULL)
		event_free(f->timer);
	if (f->tfd >= 0)
		close(f->tfd);
	free(f->heap);
	rpt_hist_free(f->connect_hist);
	free(f->devs);
	free(f->groups);
	free(f->payload);
	free(f->topic);
	free(f);
}

void
sim_fleet_start(struct sim_fleet *f)
{
	event_add(f->timer, NULL);
	ramp_tick(-1, 0, f);
}

void
sim_fleet_stop_sending(struct sim_fleet *f)
{
	uint64_t now = sim_now_ns();

	if (f->o.send_end_ns > now)
		f->o.send_end_ns = now;
	for (uint32_t i = 0; i < f->ndevs; i++) {
		struct device *d = &f->devs[i];

		if (d->next_send_ns != 0 && d->next_send_ns >= f->o.send_end_ns) {
			d->next_send_ns = 0;
			dev_arm(d);
		}
	}
}

uint64_t
sim_fleet_owed(const struct sim_fleet *f)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < f->ndevs; i++)
		n += f->devs[i].next_send_ns != 0 && f->devs[i].next_send_ns < f->o.send_end_ns;
	return n;
}

void
sim_fleet_disconnect_all(struct sim_fleet *f)
{
	f->stopping = true;
	evtimer_del(f->ramp);
	sim_fleet_stop_sending(f);
	for (uint32_t i = 0; i < f->ndevs; i++) {
		struct device *d = &f->devs[i];

		/* Sends a device still owed (it fell behind) are sent and
		 * lost, not forgotten: forgetting them would hide exactly the
		 * stall that measuring from intended times is meant to show. */
		while (d->next_send_ns != 0 && d->next_send_ns < f->o.send_end_ns) {
			sim_tm_next_seq(f->chk, d->index);
			sim_tm_note_dropped(f->chk);
			d->k++;
			schedule_next_send(d);
		}

		d->next_send_ns = 0;
		d->wake_ns = 0;
		heap_remove(f, d);
		switch (d->state) {
		case DEV_UP:
			sim_mqtt_disconnect(d->mqtt);
			break;
		case DEV_CONNECTING:
			sim_mqtt_abort(d->mqtt);
			break;
		default:
			d->state = DEV_DONE;
			break;
		}
	}
	f->gate_head = f->gate_tail = NULL;
}

void
sim_fleet_stats(struct sim_fleet *f, struct sim_fleet_stats *out)
{
	f->st.resent = 0;
	f->st.decode_errors = 0;
	for (uint32_t i = 0; i < f->ndevs; i++) {
		struct sim_mqtt_stats ms;

		if (f->devs[i].mqtt == NULL)
			continue;
		sim_mqtt_stats(f->devs[i].mqtt, &ms);
		f->st.resent += ms.resent;
		f->st.decode_errors += ms.decode_errors;
	}
	f->st.connect = f->connect_hist;
	f->st.last_error = f->last_error;
	*out = f->st;
}
