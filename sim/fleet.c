#include "fleet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/timerfd.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/sha.h>

#include "dev_device.h"
#include "dev_payload.h"
#include "hal_clock.h"
#include "mqtt_client.h"
#include "rng.h"
#include "rr.h"
#include "rr_cloud.h"
#include "rr_payload.h"
#include "dev_tpc.h"
#include "tpc.h"
#include "tpc_wire.h"
#include "json.h"
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
/* Up to this planned rate the run's loop polls once a quantum
 * (sim_fleet_poll_ns). Each poll wakes a CPU from idle, which on a small
 * VM costs 20 to 30 us, more than the few packets it would bring; so the
 * polling quantum is the time POLL_EVENTS planned events take, between
 * QUANTUM_NS and POLL_MAX_NS. */
#define POLL_MAX_RATE 5000.0
#define POLL_EVENTS 8.0
#define POLL_MAX_NS (4 * SIM_NS_PER_MS)
/* Devices handled in one wake before yielding to the loop. */
#define MAX_PER_WAKE 20000
#define NOT_QUEUED UINT32_MAX

/* At most this many hal-sim events (power, link) and radio deliveries
 * in one wake of a device. */
#define MAX_HAL_EVENTS 64

/* DEV_OFF: the device cannot connect now (powered off, booting, or its
 * link is down); a hal-sim event brings it back. */
enum dev_state { DEV_IDLE, DEV_QUEUED, DEV_CONNECTING, DEV_UP, DEV_BACKOFF, DEV_DONE, DEV_OFF };

struct group_rt {
	const struct sim_group *cfg;
	struct sim_mqtt_config mqtt;
	uint32_t first;             /* fleet-wide index of the group's device 0 */
	uint32_t started;           /* devices the ramp has released */
	uint32_t rr_mask;           /* the c2d patterns that target this group (bit = index) */
	int d2c;                    /* the d2c pattern its devices run, or -1 */
	uint32_t d2c_method;        /* its method's index in the d2c tracker */
	uint64_t req_every_ns;      /* its period in real time */
	uint64_t every_ns;          /* telemetry period and jitter in real time (time_scale) */
	uint64_t jitter_ns;
	bool radio;                 /* the model's link delays sends (latency or bandwidth) */
};

/* What waits in a device's radio queue for its time:
 *   RADIO_TELEMETRY  a send on its way over the link (hal_link_send), until
 *                    it reaches the MQTT client; data is the payload
 *   RADIO_REQUEST    a request on its way to the device (hal_link_recv);
 *                    data is "METHOD\0RESPONSE_TOPIC\0PAYLOAD"
 *   RADIO_ANSWER     a request whose handler finishes at due; data as above
 *   RADIO_RESPONSE   an answer on its way over the link; data is
 *                    "TOPIC\0PAYLOAD"
 * Everything is copied. */
enum radio_kind {
	RADIO_TELEMETRY, RADIO_REQUEST, RADIO_ANSWER, RADIO_RESPONSE,
	RADIO_D2C,                  /* the device's own request on its way out; data as RADIO_REQUEST's, with TOPIC first */
	RADIO_D2C_ANSWER,           /* the answer to it on its way in; data is its payload */
	/* Two-phase commit (status holds TPC_ flags): */
	RADIO_TPC_IN,               /* a PREPARE or DECISION on its way in; data is its body */
	RADIO_TPC_DURABLE,          /* a reply waiting for its flash writes; data "TOPIC\0BODY" */
	RADIO_TPC_OUT,              /* the reply on its way out over the link; data as above */
	RADIO_TPC_CRASH,            /* an injected crash (crash_after_vote) */
	RADIO_TPC_THAW,             /* an injected partition ends */
};

/* radio_msg.status for the two-phase-commit kinds. */
enum {
	TPC_DECISION = 1 << 0,      /* RADIO_TPC_IN: a DECISION, else a PREPARE */
	TPC_VOTE_YES = 1 << 1,      /* RADIO_TPC_DURABLE: a VOTE yes... */
	TPC_VOTE_NO = 1 << 2,       /* ...or no */
	TPC_APPLIED = 1 << 3,       /* an ACK that applied the decision... */
	TPC_COMMITTED = 1 << 4,     /* ...a COMMIT */
	TPC_CRASH_AFTER = 1 << 5,   /* crash once the vote is out */
};

struct radio_msg {
	struct radio_msg *next;
	uint64_t due;               /* monotonic ns */
	uint64_t rid;               /* request-response: the request's id */
	size_t len;
	int status;                 /* RADIO_RESPONSE; TPC_ flags */
	uint8_t kind;
	uint8_t qos;
	uint8_t pattern;            /* request-response: index in sc->rr */
	bool lost;                  /* the link goes down before it arrives */
	uint8_t data[];
};

struct device {
	struct sim_fleet *f;
	struct group_rt *g;
	struct sim_mqtt_client *mqtt;
	struct dev_device *hw;      /* the model's hardware, or NULL */
	struct radio_msg *radio;    /* sends on the link, by due time */
	struct device *gate_next;
	uint64_t hal_ns;            /* next hal-sim event, monotonic; 0 = none */
	uint64_t next_send_ns;      /* intended time of the next send; 0 = none */
	uint64_t next_req_ns;       /* intended time of the next d2c request; 0 = none */
	uint64_t wake_ns;           /* backoff end or connect deadline; 0 = none */
	uint64_t scheduled_ns;      /* when the ramp released the device */
	uint32_t index;
	uint32_t n;                 /* index in the group */
	uint32_t k;                 /* telemetry sends made */
	uint32_t kreq;              /* d2c requests made */
	uint8_t state;
	uint8_t attempts;
	bool ever_connected;
	bool powered;               /* on (not off, booting or cut off); true without a model */
	bool tpc;                   /* a two-phase-commit participant */
	bool tpc_observe;           /* observe the last commit once no longer in doubt */
	bool dead;                  /* battery cut off */
	uint8_t link;               /* enum hal_link_state as last applied */
};

/* A heap entry carries its key and its device's index, so sifting
 * touches neither the (cold) devices nor anything but the heap and
 * hpos. */
struct hent {
	uint64_t due;
	uint32_t idx;
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
	uint32_t *hpos;             /* per device, its place in heap, or NOT_QUEUED */
	uint32_t heap_len;
	/* The fleet's own timerfd, set to an absolute CLOCK_MONOTONIC time:
	 * exact without libevent's precise-timer mode, which would call
	 * timerfd_settime on every loop pass, not just when this moves. */
	int tfd;
	struct event *timer;
	uint64_t armed_ns;          /* when the timer is set to fire; 0 = not set */
	uint64_t quantum_ns;        /* 0 or QUANTUM_NS, from the planned rate */
	uint64_t poll_ns;           /* 0, or the polling quantum */
	bool polled;                /* the run's loop calls sim_fleet_poll: no timer */
	uint64_t last_fire_ns;
	/* The connect gate. */
	struct device *gate_head, *gate_tail;
	uint32_t gate_open, gate_max;
	bool pumping;
	bool stopping;
	uint64_t rng;
	uint8_t *payload;           /* scratch for building payloads */
	size_t payload_cap;
	char *topic;                /* scratch for rendered topics */
	size_t topic_cap;
	struct hal_timebase tb;     /* simulated time: 0 at start_ns, sped up by time_scale */
	FILE *trace;                /* --trace, or NULL */
	void (*tick_hook)(void *arg, uint64_t now);
	void *tick_arg;
	struct rpt_hist *connect_hist;
	/* Two-phase commit: the devices' (device, txid) pairs in doubt (few:
	 * they rebooted holding a PREPARED record), each device's last
	 * committed txid for the durability check, and how many PREPARED
	 * records the fleet holds (the drain waits for none). */
	struct { uint32_t dev; uint64_t txid; } *doubt;
	size_t ndoubt, capdoubt;
	uint64_t *tpc_last;
	int64_t tpc_prepared;
	struct dev_tpc_rules tpc_rules;
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
	const struct group_rt *g = d->g;
	uint64_t s = sim_rng_mix(f->o.seed, d->index);
	uint64_t at = f->o.send_start_ns + sim_rng_below(&s, g->every_ns) + (uint64_t)k * g->every_ns;

	if (g->jitter_ns > 0) {
		uint64_t js = sim_rng_mix(s, k);
		uint64_t j = sim_rng_below(&js, 2 * g->jitter_ns + 1);

		at = at + j < g->jitter_ns + f->o.send_start_ns ? f->o.send_start_ns : at + j - g->jitter_ns;
	}
	return at;
}

/* Simulated time (ns since start_ns, times time_scale) of monotonic time
 * mono, and back. Sends are stamped with the simulated time of their
 * intended send, so what a device sends does not depend on how late the
 * loop got to it. */
static uint64_t
sim_of(const struct sim_fleet *f, uint64_t mono)
{
	int64_t t = hal_timebase_sim(&f->tb, (int64_t)mono);

	return t < 0 ? 0 : (uint64_t)t;
}

static uint64_t
mono_of(const struct sim_fleet *f, uint64_t sim)
{
	int64_t t;

	if (sim >= (uint64_t)INT64_MAX)
		return 0;
	t = hal_timebase_mono(&f->tb, (int64_t)sim);
	return t <= 0 || t == INT64_MAX ? 0 : (uint64_t)t;
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

/* A device's d2c requests: a random phase, then every period, in real
 * time; a pure function of (seed, device, k) like telemetry's. */
static void
schedule_next_req(struct device *d)
{
	struct sim_fleet *f = d->f;
	uint64_t s, at;

	d->next_req_ns = 0;
	if (d->g->d2c < 0 || f->o.d2c == NULL)
		return;
	s = sim_rng_mix(f->o.seed ^ 0xd2cd2cull, d->index);
	/* targets.share: the same devices ask every time. */
	if (sim_rng_unit(&s) >= f->sc->rr[d->g->d2c].share)
		return;
	at = f->o.send_start_ns + sim_rng_below(&s, d->g->req_every_ns) +
	    (uint64_t)d->kreq * d->g->req_every_ns;
	if (at < f->o.send_end_ns)
		d->next_req_ns = at;
}

static void
render_id(const struct device *d, char *id, size_t len)
{
	struct sim_tmpl_vals v = { .n = d->n, .group = d->g->cfg->name, .id = id };

	sim_tmpl_render(d->g->cfg->id, &v, id, len);
}

/* Renders the device's topic into f->topic; false when out of memory. */
static bool
render_topic(struct device *d, const char *id)
{
	struct sim_fleet *f = d->f;
	struct sim_tmpl_vals v = { .n = d->n, .group = d->g->cfg->name, .id = id };
	size_t need = sim_tmpl_render(d->g->cfg->telemetry.topic, &v, f->topic, f->topic_cap);

	if (need >= f->topic_cap) {
		char *p = realloc(f->topic, need + 1);

		if (p == NULL)
			return false;
		f->topic = p;
		f->topic_cap = need + 1;
		sim_tmpl_render(d->g->cfg->telemetry.topic, &v, f->topic, f->topic_cap);
	}
	return true;
}

static bool
grow_payload(struct sim_fleet *f, size_t need)
{
	uint8_t *p;
	size_t cap = f->payload_cap;

	if (need <= cap)
		return true;
	while (cap < need)
		cap *= 2;
	if ((p = realloc(f->payload, cap)) == NULL)
		return false;
	/* Padding after the header is a fixed pattern: see sim_fleet_new. */
	for (size_t i = f->payload_cap; i < cap; i++)
		p[i] = (uint8_t)('a' + i % 26);
	f->payload = p;
	f->payload_cap = cap;
	return true;
}

static void
trace_str(FILE *out, const char *str)
{
	putc('"', out);
	for (const unsigned char *c = (const unsigned char *)str; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(out, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(out, "\\u%04x", *c);
		else
			putc(*c, out);
	}
	putc('"', out);
}

static void
trace_send(struct sim_fleet *f, const char *id, uint32_t seq, const uint8_t *body, size_t len,
    uint64_t t_sim)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	char digest[2 * SHA256_DIGEST_LENGTH + 1];

	SHA256(body, len, md);
	for (size_t i = 0; i < sizeof(md); i++) {
		digest[2 * i] = hex[md[i] >> 4];
		digest[2 * i + 1] = hex[md[i] & 15];
	}
	digest[2 * sizeof(md)] = '\0';
	fputs("{\"device\":", f->trace);
	trace_str(f->trace, id);
	fprintf(f->trace, ",\"seq\":%" PRIu32 ",\"topic\":", seq);
	trace_str(f->trace, f->topic);
	fprintf(f->trace, ",\"size\":%zu,\"sha256\":\"%s\",\"t_sim\":%" PRIu64 ".%09" PRIu64 "}\n",
	    len, digest, (uint64_t)(t_sim / SIM_NS_PER_S), (uint64_t)(t_sim % SIM_NS_PER_S));
}

/* Builds the payload of send seq into f->payload: the model's (its JSON
 * with the tracking member appended, or a frame behind the binary header)
 * or the header and padding. Returns its length, 0 when out of memory;
 * *body and *body_len are what the model made, for the trace. */
static size_t
build_payload(struct device *d, const struct sim_tm_hdr *h, const char *id, uint64_t t_sim,
    const uint8_t **body, size_t *body_len)
{
	struct sim_fleet *f = d->f;
	const struct sim_telemetry_cfg *t = &d->g->cfg->telemetry;
	struct dev_render_ctx ctx = { .tb = &f->tb, .t = (int64_t)t_sim, .seq = h->seq, .id = id };
	size_t off, len;

	if (!t->model_payload || d->hw == NULL) {
		sim_tm_encode(f->payload, h);
		*body = f->payload + SIM_TELEMETRY_MIN_SIZE;
		*body_len = t->size - SIM_TELEMETRY_MIN_SIZE;
		return t->size;
	}
	/* Frames go behind the binary header; JSON gets the header as a
	 * member at its end, so leave room for that. */
	off = d->hw->m->has_frame ? SIM_TELEMETRY_MIN_SIZE : 0;
	len = dev_device_telemetry(d->hw, &ctx, f->payload + off, f->payload_cap - off -
	    SIM_TM_JSON_EXTRA);
	if (off + len + SIM_TM_JSON_EXTRA >= f->payload_cap) {
		if (!grow_payload(f, off + len + SIM_TM_JSON_EXTRA + 1))
			return 0;
		len = dev_device_telemetry(d->hw, &ctx, f->payload + off, f->payload_cap - off -
		    SIM_TM_JSON_EXTRA);
	}
	*body = f->payload + off;
	*body_len = len;
	if (off > 0) {
		sim_tm_encode(f->payload, h);
		return off + len;
	}
	return sim_tm_encode_json(f->payload, len, h);
}

static void
publish(struct device *d, const uint8_t *payload, size_t len, int qos)
{
	struct sim_fleet *f = d->f;
	char id[256];

	if (d->hw != NULL && d->link != HAL_LINK_UP && qos == 0) {
		sim_tm_note_dropped(f->chk, SIM_TM_DROP_LINK_DOWN);
		return;
	}
	if (d->state != DEV_UP && qos == 0) {
		sim_tm_note_dropped(f->chk, SIM_TM_DROP_DISCONNECTED);
		return;
	}
	render_id(d, id, sizeof(id));
	if (!render_topic(d, id)) {
		sim_tm_note_dropped(f->chk, SIM_TM_DROP_QUEUE_FULL);
		return;
	}
	if (sim_mqtt_publish(d->mqtt, f->topic, payload, len, qos, false, NULL, NULL) != SIM_OK)
		sim_tm_note_dropped(f->chk, qos == 0 ? SIM_TM_DROP_DISCONNECTED : SIM_TM_DROP_QUEUE_FULL);
}

static struct radio_msg *
radio_new(enum radio_kind kind, size_t len, int qos)
{
	struct radio_msg *m = malloc(sizeof(*m) + len);

	if (m != NULL) {
		memset(m, 0, sizeof(*m));
		m->kind = (uint8_t)kind;
		m->len = len;
		m->qos = (uint8_t)qos;
	}
	return m;
}

/* Puts m in the device's queue by due time (after those due at the same
 * time, so a device's messages keep their order). */
static void
radio_put(struct device *d, struct radio_msg *m)
{
	struct radio_msg **pp;

	for (pp = &d->radio; *pp != NULL && (*pp)->due <= m->due; pp = &(*pp)->next)
		;
	m->next = *pp;
	*pp = m;
}

/* Puts a send on the device's radio: it reaches the MQTT client when the
 * link has carried it. */
static bool
radio_queue(struct device *d, const uint8_t *payload, size_t len, int qos, uint64_t t_sim)
{
	struct sim_fleet *f = d->f;
	struct radio_msg *m;
	uint64_t at;

	if (hal_link_send(&d->hw->link, t_sim, len, &at) != HAL_OK)
		return false;   /* not up: publish() decides */
	if ((m = radio_new(RADIO_TELEMETRY, len, qos)) == NULL)
		return false;
	m->due = mono_of(f, at);
	m->lost = hal_link_next_change(&d->hw->link, t_sim) < at;
	memcpy(m->data, payload, len);
	radio_put(d, m);
	return true;
}

static void
send_one(struct device *d)
{
	struct sim_fleet *f = d->f;
	const struct sim_telemetry_cfg *t = &d->g->cfg->telemetry;
	struct sim_tm_hdr h;
	uint64_t t_sim = sim_of(f, d->next_send_ns);
	const uint8_t *body;
	size_t len, body_len;
	char id[256];

	d->k++;
	/* A device without power takes no reading and sends nothing: not
	 * a loss, but counted. */
	if (!d->powered) {
		f->st.skipped_off++;
		return;
	}
	h.run_id = f->o.run_id;
	h.device = d->index;
	h.seq = sim_tm_next_seq(f->chk, d->index);
	h.intended_ns = d->next_send_ns;
	render_id(d, id, sizeof(id));
	if ((len = build_payload(d, &h, id, t_sim, &body, &body_len)) == 0) {
		sim_tm_note_dropped(f->chk, SIM_TM_DROP_QUEUE_FULL);
		return;
	}
	if (f->trace != NULL && render_topic(d, id))
		trace_send(f, id, h.seq, body, body_len, t_sim);
	if (d->hw != NULL) {
		hal_power_note_tx(&d->hw->power, t_sim, len);
		if (d->g->radio && d->link == HAL_LINK_UP &&
		    radio_queue(d, f->payload, len, t->qos, t_sim))
			return;
	}
	publish(d, f->payload, len, t->qos);
}

/* Moves the entry at i up or down to its place; the hole technique writes
 * each displaced entry once. */
static void
heap_fix(struct sim_fleet *f, uint32_t i)
{
	struct hent e = f->heap[i];

	while (i > 0 && e.due < f->heap[(i - 1) / 2].due) {
		f->heap[i] = f->heap[(i - 1) / 2];
		f->hpos[f->heap[i].idx] = i;
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
		f->hpos[f->heap[i].idx] = i;
		i = m;
	}
	f->heap[i] = e;
	f->hpos[e.idx] = i;
}

static void
heap_remove(struct sim_fleet *f, struct device *d)
{
	uint32_t i = f->hpos[d->index];

	if (i == NOT_QUEUED)
		return;
	f->hpos[d->index] = NOT_QUEUED;
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

	if (f->heap_len == 0 || f->polled)
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
	uint32_t *pos;
	uint64_t at = d->next_send_ns;

	if (d->wake_ns != 0 && (at == 0 || d->wake_ns < at))
		at = d->wake_ns;
	if (d->hal_ns != 0 && (at == 0 || d->hal_ns < at))
		at = d->hal_ns;
	if (d->next_req_ns != 0 && (at == 0 || d->next_req_ns < at))
		at = d->next_req_ns;
	if (d->radio != NULL && (at == 0 || d->radio->due < at))
		at = d->radio->due;
	if (at == 0) {
		heap_remove(f, d);
		return;
	}
	pos = &f->hpos[d->index];
	if (*pos == NOT_QUEUED)
		*pos = f->heap_len++;
	f->heap[*pos] = (struct hent){ .due = at, .idx = d->index };
	heap_fix(f, *pos);
	fleet_arm(f, false);
}

/* When the device's next power or link event is due, monotonic. */
static void
hal_rearm(struct device *d, uint64_t t_sim)
{
	uint64_t at_p, at_l, at;

	d->hal_ns = 0;
	if (d->hw == NULL || d->dead)
		return;
	if (hal_power_next(&d->hw->power, &at_p) == HAL_POWER_NONE)
		at_p = HAL_POWER_NEVER;
	at_l = hal_link_next_change(&d->hw->link, t_sim);
	at = at_p < at_l ? at_p : at_l;
	if (at != HAL_LINK_NEVER)
		d->hal_ns = mono_of(d->f, at < t_sim ? t_sim : at);
}

/* The device can try to connect: powered, and its link is up. */
static bool
available(const struct device *d)
{
	return d->hw == NULL || (d->powered && d->link == HAL_LINK_UP);
}

/* Takes the device off the broker (why: a crash or a link going down
 * aborts, a reboot disconnects) and leaves it off until an event brings
 * it back. */
static void
take_down(struct device *d, bool graceful)
{
	switch (d->state) {
	case DEV_UP:
		if (graceful)
			sim_mqtt_disconnect(d->mqtt);
		else
			sim_mqtt_abort(d->mqtt);
		break;
	case DEV_CONNECTING:
		sim_mqtt_abort(d->mqtt);
		break;
	case DEV_DONE:
		return;
	default:
		break;
	}
	/* on_closed has run for an abort; a DISCONNECT closes later. */
	if (d->state != DEV_UP) {
		d->state = DEV_OFF;
		d->wake_ns = 0;
	}
}

/* RAM is lost: sends still on the radio are gone at QoS 0. QoS 1/2 ones
 * were already in the device's persistent outbox and go on. Requests
 * being handled are gone whatever their QoS: their answers never come. */
static void
radio_lose_qos0(struct device *d)
{
	struct radio_msg **pp = &d->radio;

	while (*pp != NULL) {
		struct radio_msg *m = *pp;

		/* A partition's end is the network's, not the device's. */
		if (m->kind != RADIO_TELEMETRY && m->kind != RADIO_RESPONSE && m->kind != RADIO_D2C &&
		    m->kind != RADIO_TPC_OUT && m->kind != RADIO_TPC_THAW) {
			*pp = m->next;
			free(m);
		} else if (m->qos == 0 || d->dead) {
			*pp = m->next;
			if (m->kind == RADIO_TELEMETRY)
				sim_tm_note_dropped(d->f->chk, SIM_TM_DROP_POWERED_OFF);
			free(m);
		} else {
			pp = &m->next;
		}
	}
}

/* After an event, a device that can connect again queues at the gate. */
static void
maybe_reconnect(struct device *d)
{
	if (d->state == DEV_OFF && available(d) && !d->f->stopping) {
		d->attempts = 0;
		gate_push(d);
		gate_pump(d->f);
	}
}

static void device_reboot(struct device *d, uint64_t t_sim);

static void
power_event(struct device *d, enum hal_power_event ev, uint64_t t_sim, bool calm)
{
	struct sim_fleet *f = d->f;

	switch (ev) {
	case HAL_POWER_CRASH:
	case HAL_POWER_REBOOT:
		/* Faults stop with the send window: the drain is for
		 * delivering what was sent. */
		if (calm)
			return;
		if (ev == HAL_POWER_CRASH)
			f->st.crashes++;
		else
			f->st.reboots++;
		d->powered = false;
		device_reboot(d, t_sim);
		take_down(d, ev == HAL_POWER_REBOOT);
		radio_lose_qos0(d);
		break;
	case HAL_POWER_BOOTED:
		d->powered = true;
		maybe_reconnect(d);
		break;
	case HAL_POWER_CUTOFF:
		f->st.cutoffs++;
		d->powered = false;
		d->dead = true;
		take_down(d, false);
		radio_lose_qos0(d);
		break;
	default:
		break;
	}
}

static void
link_event(struct device *d, uint64_t t_sim, bool calm)
{
	struct sim_fleet *f = d->f;
	enum hal_link_state st = hal_link_state(&d->hw->link, t_sim);

	if (calm)
		st = HAL_LINK_UP;
	if (st == d->link)
		return;
	if (d->link == HAL_LINK_UP)
		f->st.link_disconnects++;
	d->link = (uint8_t)st;
	switch (st) {
	case HAL_LINK_UP:
		sim_mqtt_freeze(d->mqtt, false);
		hal_link_flush(&d->hw->link);
		maybe_reconnect(d);
		break;
	case HAL_LINK_DOWN:
		take_down(d, false);
		break;
	case HAL_LINK_PARTITIONED:
	case HAL_LINK_HALF_OPEN:
		/* The connection stays open but nothing moves: keep-alive
		 * on either side is what notices. */
		if (d->state == DEV_UP)
			sim_mqtt_freeze(d->mqtt, true);
		else
			take_down(d, false);
		break;
	}
}

static void
hal_due(struct device *d, uint64_t now)
{
	struct sim_fleet *f = d->f;
	uint64_t t_sim = sim_of(f, d->hal_ns);
	bool calm = d->hal_ns >= f->o.send_end_ns;
	enum hal_power_event ev;

	(void)now;
	while ((ev = hal_power_take(&d->hw->power, t_sim)) != HAL_POWER_NONE)
		power_event(d, ev, t_sim, calm);
	link_event(d, t_sim, calm);
	hal_rearm(d, t_sim);
}

/* Request-response, the device's side: requests arrive (after the link's
 * receive latency), the model's handler runs for its processing delay,
 * and the answer goes back over the link. */

/* The command's argument: a JSON request's "value" member, else the
 * payload itself; NULL when there is none. */
static const char *
rr_arg(const char *body, size_t len, char *buf, size_t cap)
{
	const char *v = memmem(body, len, "\"value\"", 7);
	size_t n;

	if (len == 0)
		return NULL;
	if (v != NULL) {
		const char *e = body + len;

		v += 7;
		while (v < e && (*v == ' ' || *v == ':' || *v == '\t' || *v == '"'))
			v++;
		for (n = 0; v + n < e && n + 1 < cap && strchr(",}\" \t\r\n", v[n]) == NULL; n++)
			;
		memcpy(buf, v, n);
		buf[n] = '\0';
		return buf;
	}
	n = len < cap - 1 ? len : cap - 1;
	memcpy(buf, body, n);
	buf[n] = '\0';
	return buf;
}

/* The request's fields in a RADIO_REQUEST or RADIO_ANSWER. */
static void
rr_fields(const struct radio_msg *m, const char **method, const char **resp, const char **body,
    size_t *blen)
{
	*method = (const char *)m->data;
	*resp = *method + strlen(*method) + 1;
	*body = *resp + strlen(*resp) + 1;
	*blen = m->len - (size_t)((const uint8_t *)*body - m->data);
}

/* The request has reached the device: its handler starts now and
 * answers when its processing delay is over. */
static void
rr_handle(struct device *d, struct radio_msg *m)
{
	struct sim_fleet *f = d->f;
	const char *method, *resp, *body;
	uint64_t t_sim = sim_of(f, m->due);
	struct dev_cmd_result res = { .status = 501, .done = (int64_t)t_sim };
	size_t blen;
	char arg[64];

	rr_fields(m, &method, &resp, &body, &blen);
	/* A method the model has no handler for is answered 501 at once. */
	if (d->hw != NULL && dev_model_command(d->hw->m, method) >= 0)
		dev_device_command(d->hw, (int64_t)t_sim, method, rr_arg(body, blen, arg, sizeof(arg)),
		    &res);
	m->kind = RADIO_ANSWER;
	m->status = res.status;
	if (res.done > (int64_t)t_sim)
		m->due = mono_of(f, (uint64_t)res.done);
	radio_put(d, m);
}

/* Publishes an answer (topic "\0" payload in m->data). */
static void
rr_publish(struct device *d, const struct radio_msg *m)
{
	const struct sim_rr_cfg *r = &d->f->sc->rr[m->pattern];
	const char *topic = (const char *)m->data;
	size_t tlen = strlen(topic);
	struct sim_rr_wire w;

	if (d->state != DEV_UP && m->qos == 0)
		return;         /* lost: the request times out, as it would */
	(void)sim_mqtt_publish(d->mqtt, topic, m->data + tlen + 1, m->len - tlen - 1, m->qos, false,
	    r->conv == SIM_RR_CONV_MQTT5 ? sim_rr_wire_answer(&w, m->rid, m->status) : NULL, NULL);
}

/* The handler is done: the answer is rendered from the device's state
 * now and sent over the link. */
static void
rr_answer(struct device *d, const struct radio_msg *req)
{
	struct sim_fleet *f = d->f;
	const struct sim_rr_cfg *r = &f->sc->rr[req->pattern];
	const char *method, *resp, *body;
	uint64_t t_sim = sim_of(f, req->due), at;
	struct radio_msg *m;
	char id[256], rid[17], status[16], topic[512], payload[4096], arg[64];
	size_t blen, tlen, plen = 0;

	rr_fields(req, &method, &resp, &body, &blen);
	render_id(d, id, sizeof(id));
	if (d->hw != NULL && req->status != 501) {
		struct dev_render_ctx ctx = { .tb = &f->tb, .t = (int64_t)t_sim, .id = id,
			.arg = rr_arg(body, blen, arg, sizeof(arg)) };

		plen = dev_device_response(d->hw, method, &ctx, payload, sizeof(payload));
		if (plen >= sizeof(payload))
			plen = sizeof(payload) - 1;
	}
	if (r->conv == SIM_RR_CONV_RID) {
		struct sim_tmpl_vals v = { .id = id, .n = d->n, .group = d->g->cfg->name,
			.method = method, .rid = rid, .status = status };

		sim_rr_id_hex(req->rid, rid);
		snprintf(status, sizeof(status), "%d", req->status);
		tlen = sim_tmpl_render(r->response_topic, &v, topic, sizeof(topic));
	} else {
		tlen = (size_t)snprintf(topic, sizeof(topic), "%s", resp);
	}
	if (tlen >= sizeof(topic) || (m = radio_new(RADIO_RESPONSE, tlen + 1 + plen, r->qos)) == NULL)
		return;
	memcpy(m->data, topic, tlen + 1);
	memcpy(m->data + tlen + 1, payload, plen);
	m->rid = req->rid;
	m->status = req->status;
	m->pattern = req->pattern;
	m->due = req->due;
	if (d->hw != NULL && d->g->radio) {
		hal_power_note_tx(&d->hw->power, t_sim, m->len);
		if (hal_link_send(&d->hw->link, t_sim, m->len, &at) != HAL_OK) {
			free(m);    /* the link is not up: the answer is lost */
			return;
		}
		m->due = mono_of(f, at);
		m->lost = hal_link_next_change(&d->hw->link, t_sim) < at;
		radio_put(d, m);
		return;
	}
	rr_publish(d, m);
	free(m);
}

/* Device-to-cloud requests: the device asks on schedule, over its link,
 * and checks the answer that comes back on its own response topic. */

/* PREFIX/ID/res: where a device's answers come. */
static size_t
d2c_res_topic(const struct device *d, const struct sim_rr_cfg *r, const char *id, char *buf,
    size_t len)
{
	return (size_t)snprintf(buf, len, "%s/%s/res", r->response_prefix, id);
}

static void
d2c_publish(struct device *d, const struct radio_msg *m)
{
	const struct sim_rr_cfg *r = &d->f->sc->rr[m->pattern];
	const char *topic = (const char *)m->data;
	const char *resp = topic + strlen(topic) + 1;
	const uint8_t *body = (const uint8_t *)resp + strlen(resp) + 1;
	struct sim_rr_wire w;

	if (d->state != DEV_UP && m->qos == 0)
		return;         /* lost: the request times out */
	(void)sim_mqtt_publish(d->mqtt, topic, body, m->len - (size_t)(body - m->data), m->qos,
	    false, r->conv == SIM_RR_CONV_MQTT5 ? sim_rr_wire_request(&w, m->rid, resp) : NULL, NULL);
}

static void
req_one(struct device *d)
{
	struct sim_fleet *f = d->f;
	const struct sim_rr_cfg *r = &f->sc->rr[d->g->d2c];
	uint64_t intended = d->next_req_ns, t_sim = sim_of(f, intended), key, at;
	uint32_t k = d->kreq++;
	struct sim_rr_payload_vals pv;
	struct radio_msg *m;
	char id[256], rid[17], topic[512], resp[512], payload[4096];
	size_t tlen, rlen, plen = 0;

	/* Without power there is no request, and nothing to wait for. */
	if (!d->powered)
		return;
	render_id(d, id, sizeof(id));
	key = sim_rr_open(f->o.d2c, d->index, d->g->d2c_method, intended);
	sim_rr_id_hex(key, rid);
	{
		struct sim_tmpl_vals v = { .id = id, .n = d->n, .group = d->g->cfg->name,
			.method = r->method };

		tlen = sim_tmpl_render(r->request_topic, &v, topic, sizeof(topic));
	}
	if (r->conv == SIM_RR_CONV_RID && tlen < sizeof(topic))
		tlen += (size_t)snprintf(topic + tlen, sizeof(topic) - tlen, "/?$rid=%s", rid);
	rlen = r->conv == SIM_RR_CONV_MQTT5 ? d2c_res_topic(d, r, id, resp, sizeof(resp)) : 0;
	resp[rlen < sizeof(resp) ? rlen : 0] = '\0';
	if (r->payload != NULL) {
		pv = (struct sim_rr_payload_vals){ .id = id, .n = d->n, .group = d->g->cfg->name,
			.method = r->method, .seq = k, .seed = sim_rng_mix(sim_rng_mix(f->o.seed,
			d->index), k) };
		plen = sim_rr_payload_render(r->payload, &pv, payload, sizeof(payload));
		if (plen >= sizeof(payload))
			plen = sizeof(payload) - 1;
	}
	if (tlen >= sizeof(topic) || rlen >= sizeof(resp) ||
	    (m = radio_new(RADIO_D2C, tlen + 1 + rlen + 1 + plen, r->qos)) == NULL)
		return;     /* stays open and times out */
	memcpy(m->data, topic, tlen + 1);
	memcpy(m->data + tlen + 1, resp, rlen + 1);
	memcpy(m->data + tlen + rlen + 2, payload, plen);
	m->rid = key;
	m->pattern = (uint8_t)d->g->d2c;
	if (d->hw != NULL) {
		hal_power_note_tx(&d->hw->power, t_sim, m->len);
		if (d->g->radio && d->link == HAL_LINK_UP &&
		    hal_link_send(&d->hw->link, t_sim, m->len, &at) == HAL_OK) {
			m->due = mono_of(f, at);
			m->lost = hal_link_next_change(&d->hw->link, t_sim) < at;
			radio_put(d, m);
			return;
		}
		if (d->link != HAL_LINK_UP && r->qos == 0) {
			free(m);    /* the radio cannot send it: it times out */
			return;
		}
	}
	d2c_publish(d, m);
	free(m);
}

/* Whether an answer passes the pattern's expectations: its status in the
 * expected set (default 2xx) and, if asked, a JSON member with a value. */
static bool
d2c_expected(const struct sim_rr_cfg *r, int status, const uint8_t *body, size_t len)
{
	struct rpt_json *j = NULL, *v;
	bool ok = r->nexpect_status == 0 && status >= 200 && status <= 299;
	char num[64];

	for (size_t i = 0; i < r->nexpect_status; i++)
		ok = ok || r->expect_status[i] == status;
	if (!ok || r->expect_field == NULL)
		return ok;
	if (rpt_json_parse((const char *)body, len, &j, NULL, 0) != RPT_OK)
		return false;
	v = rpt_json_get(j, r->expect_field);
	ok = v != NULL;
	if (ok && r->expect_equals != NULL) {
		if (rpt_json_type(v) == RPT_JSON_STRING) {
			ok = strcmp(rpt_json_str(v), r->expect_equals) == 0;
		} else if (rpt_json_type(v) == RPT_JSON_NUMBER) {
			snprintf(num, sizeof(num), "%.17g", rpt_json_num(v));
			ok = strtod(r->expect_equals, NULL) == rpt_json_num(v);
		} else {
			ok = false;
		}
	}
	rpt_json_free(j);
	return ok;
}

/* The answer reached the device: classify it. The tracker counts 2xx as
 * ok, so an answer that fails the expectations goes in as its own
 * non-2xx status, or 0 when its status was fine but its content not. */
static void
d2c_answer(struct device *d, const struct radio_msg *m)
{
	const struct sim_rr_cfg *r = &d->f->sc->rr[m->pattern];
	int st = m->status;

	if (d2c_expected(r, m->status, m->data, m->len))
		st = 200;
	else if (st >= 200 && st <= 299)
		st = 0;
	sim_rr_answer(d->f->o.d2c, m->rid, d->index, st, m->due);
}

/* An answer on the device's response topic, if msg is one. */
static bool
d2c_take(struct device *d, const struct sim_mqtt_msg *msg, const char *id)
{
	struct sim_fleet *f = d->f;
	const struct sim_rr_cfg *r;
	struct radio_msg *m;
	char prefix[512];
	size_t plen;
	uint64_t rid = 0, now = sim_now_ns(), at;
	int status = 0;

	if (d->g->d2c < 0)
		return false;
	r = &f->sc->rr[d->g->d2c];
	plen = d2c_res_topic(d, r, id, prefix, sizeof(prefix));
	if (plen >= sizeof(prefix) || msg->topic_len < plen || memcmp(msg->topic, prefix, plen) != 0)
		return false;
	if (r->conv == SIM_RR_CONV_RID) {
		/* PREFIX/ID/res/STATUS/?$rid=RID */
		const char *p = msg->topic + plen, *e = msg->topic + msg->topic_len, *q;

		if (p >= e || *p++ != '/')
			return false;
		for (q = p; q < e && *q >= '0' && *q <= '9'; q++)
			;
		status = sim_rr_parse_status(p, (size_t)(q - p));
		if (q == p || e - q < 7 || memcmp(q, "/?$rid=", 7) != 0)
			return false;
		rid = sim_rr_id_parse(q + 7, (size_t)(e - q - 7));
	} else {
		if (msg->topic_len != plen)
			return false;
		rid = sim_rr_wire_id(&msg->props);
		status = sim_rr_wire_status(&msg->props);
	}
	if ((m = radio_new(RADIO_D2C_ANSWER, msg->payload_len, r->qos)) == NULL)
		return true;
	memcpy(m->data, msg->payload, msg->payload_len);
	m->rid = rid;
	m->status = status;
	m->pattern = (uint8_t)d->g->d2c;
	m->due = now;
	if (d->hw != NULL && d->g->radio) {
		uint64_t t_sim = sim_of(f, now);

		if (hal_link_recv(&d->hw->link, t_sim, msg->payload_len, &at) != HAL_OK) {
			free(m);
			return true;
		}
		m->due = mono_of(f, at);
	}
	radio_put(d, m);
	dev_arm(d);
	return true;
}

/* Two-phase commit, the participant's side (docs/two-phase-commit.md):
 * dev_tpc decides, this carries its messages over the device's link and
 * connection, injects the pattern's faults and records the history. */

/* Salts for the fault draws, so that each fault has its own stream. */
enum { SALT_CBV = 1, SALT_CAV, SALT_RDC, SALT_PART };

/* Whether the fault with probability p strikes d in txid: a draw from
 * (seed, device, txid, boots) alone, so a rerun strikes the same ones,
 * and the redo after the device's reboot draws afresh instead of
 * striking forever. */
static bool
tpc_draw(const struct device *d, uint64_t txid, uint64_t salt, double p)
{
	uint64_t s;

	if (p <= 0 || d->f->stopping)
		return false;
	s = sim_rng_mix(sim_rng_mix(d->f->o.seed ^ (salt << 56), d->index),
	    sim_rng_mix(txid, d->hw->boots));
	return sim_rng_unit(&s) < p;
}

static void
tpc_record(struct device *d, uint64_t t, uint64_t txid, enum sim_tpc_ev ev, int val)
{
	struct sim_tpc_rec r = { .t_ns = t, .txid = txid, .device = d->index, .ev = (uint8_t)ev,
		.val = (uint8_t)val };

	sim_tpc_record(d->f->o.tpc, &r);
}

static int64_t
tpc_prepared(const struct device *d)
{
	return (int64_t)dev_tpc_in_doubt(d->hw, NULL, 0);
}

static size_t
doubt_find(const struct sim_fleet *f, uint32_t dev, uint64_t txid)
{
	for (size_t i = 0; i < f->ndoubt; i++)
		if (f->doubt[i].dev == dev && f->doubt[i].txid == txid)
			return i;
	return SIZE_MAX;
}

/* Durability, after a reboot: the device's last commit is still in
 * effect. Judged only while the device holds no PREPARED record, since
 * and no decision is being written: one may have overwritten the
 * configuration and not yet its txid. Until then the observation waits
 * for the device's next outcome. */
static void
tpc_observe(struct device *d, uint64_t now)
{
	uint64_t last = d->f->tpc_last[d->index];

	if (!d->tpc_observe || tpc_prepared(d) > 0)
		return;
	for (const struct radio_msg *m = d->radio; m != NULL; m = m->next)
		if (m->kind == RADIO_TPC_DURABLE && (m->status & TPC_APPLIED))
			return;     /* a decision's writes are still going on */
	if (last != 0)
		tpc_record(d, now, last, SIM_TPC_OBSERVE, dev_tpc_applied(d->hw, last));
	d->tpc_observe = false;
}

/* The device rebooted (RAM lost, flash kept what was durable): it is in
 * doubt about every PREPARED record, and its last commit must still be
 * in effect. */
static void
tpc_rebooted(struct device *d, uint64_t t_sim, int64_t before)
{
	struct sim_fleet *f = d->f;
	uint64_t txids[16], now = mono_of(f, t_sim), last = f->tpc_last[d->index];
	size_t n = dev_tpc_in_doubt(d->hw, txids, 16);

	f->tpc_prepared += tpc_prepared(d) - before;
	for (size_t i = 0; i < n && i < 16; i++) {
		if (doubt_find(f, d->index, txids[i]) != SIZE_MAX)
			continue;   /* still in doubt from an earlier reboot */
		if (f->ndoubt == f->capdoubt) {
			size_t cap = f->capdoubt ? f->capdoubt * 2 : 64;
			void *p = realloc(f->doubt, cap * sizeof(*f->doubt));

			if (p == NULL)
				break;
			f->doubt = p;
			f->capdoubt = cap;
		}
		f->doubt[f->ndoubt].dev = d->index;
		f->doubt[f->ndoubt++].txid = txids[i];
		tpc_record(d, now, txids[i], SIM_TPC_IN_DOUBT, 0);
	}
	/* A commit in doubt may have overwritten the configuration and not
	 * yet its txid: only once the doubt is resolved can the last commit
	 * be judged. */
	d->tpc_observe = last != 0;
	tpc_observe(d, now);
}

static void
device_reboot(struct device *d, uint64_t t_sim)
{
	int64_t before = d->tpc ? tpc_prepared(d) : 0;

	dev_device_reboot(d->hw, (int64_t)t_sim);
	if (d->tpc)
		tpc_rebooted(d, t_sim, before);
}

/* A crash or reboot injected by a two-phase-commit fault. */
static void
inject_power(struct device *d, uint64_t t_sim, bool reboot)
{
	if (!hal_power_crash(&d->hw->power, t_sim))
		return;
	power_event(d, reboot ? HAL_POWER_REBOOT : HAL_POWER_CRASH, t_sim, false);
	hal_rearm(d, t_sim);
}

/* A VOTE, ACK or QUERY as a radio message: "TOPIC\0BODY". */
static struct radio_msg *
tpc_msg(struct device *d, enum sim_tpc_msg kind, struct sim_tpc_wire *w, enum radio_kind rk)
{
	const struct sim_tpc_cfg *cfg = &d->f->sc->tpc[0];
	const char *topic = kind == SIM_TPC_MSG_VOTE ? cfg->vote_topic :
	    kind == SIM_TPC_MSG_ACK ? cfg->ack_topic : cfg->query_topic;
	size_t tlen = strlen(topic), blen;
	struct radio_msg *m;
	char body[512];

	w->id = sim_tpc_device_id(d->f->o.tpc, d->index);
	w->id_len = strlen(w->id);
	if ((blen = sim_tpc_wire_encode(kind, w, body, sizeof(body))) >= sizeof(body) ||
	    (m = radio_new(rk, tlen + 1 + blen, cfg->qos)) == NULL)
		return NULL;
	memcpy(m->data, topic, tlen + 1);
	memcpy(m->data + tlen + 1, body, blen);
	m->rid = w->txid;
	return m;
}

/* The message_loss fault: whether this message, either way, is lost. */
static bool
tpc_lost(struct sim_fleet *f)
{
	double p = f->sc->tpc[0].message_loss;

	if (f->stopping || p <= 0 || sim_rng_unit(&f->rng) >= p)
		return false;
	sim_tpc_note_fault(f->o.tpc, SIM_TPC_F_MESSAGE_LOST);
	return true;
}

static void
tpc_publish(struct device *d, const struct radio_msg *m)
{
	const char *topic = (const char *)m->data;
	size_t tlen = strlen(topic);

	if (tpc_lost(d->f))
		return;
	if (d->state != DEV_UP && m->qos == 0)
		return;
	(void)sim_mqtt_publish(d->mqtt, topic, m->data + tlen + 1, m->len - tlen - 1, m->qos, false,
	    NULL, NULL);
}

/* Sends m (RADIO_TPC_OUT) over the link, or at once without one; takes it. */
static void
tpc_link(struct device *d, struct radio_msg *m, uint64_t t_sim)
{
	uint64_t at;

	m->kind = RADIO_TPC_OUT;
	if (d->g->radio) {
		hal_power_note_tx(&d->hw->power, t_sim, m->len);
		if (hal_link_send(&d->hw->link, t_sim, m->len, &at) != HAL_OK) {
			free(m);    /* the link is down: lost, the coordinator resends */
			return;
		}
		m->due = mono_of(d->f, at);
		m->lost = hal_link_next_change(&d->hw->link, t_sim) < at;
		radio_put(d, m);
		return;
	}
	tpc_publish(d, m);
	free(m);
}

static void
tpc_later(struct device *d, enum radio_kind kind, uint64_t due)
{
	struct radio_msg *m = radio_new(kind, 0, 1);

	if (m != NULL) {
		m->due = due;
		radio_put(d, m);
	}
}

/* A PREPARE or DECISION has reached the device. */
static void
tpc_handle(struct device *d, const struct radio_msg *m)
{
	struct sim_fleet *f = d->f;
	const struct sim_tpc_cfg *cfg = &f->sc->tpc[0];
	uint64_t t_sim = sim_of(f, m->due);
	bool decision = m->status & TPC_DECISION;
	struct sim_tpc_wire w, r = { 0 };
	struct dev_tpc_step step;
	struct radio_msg *out;
	int64_t before = tpc_prepared(d);
	bool rdc = false;

	if (sim_tpc_wire_parse(decision ? SIM_TPC_MSG_DECISION : SIM_TPC_MSG_PREPARE,
	    (const char *)m->data, m->len, &w) != SIM_OK)
		return;     /* malformed: dropped, as the contract says */
	r.txid = w.txid;
	if (!decision) {
		if (tpc_draw(d, w.txid, SALT_CBV, cfg->crash_before_vote)) {
			sim_tpc_note_fault(f->o.tpc, SIM_TPC_F_CRASH_BEFORE_VOTE);
			inject_power(d, t_sim, false);
			return;
		}
		if (d->state == DEV_UP && d->link == HAL_LINK_UP &&
		    tpc_draw(d, w.txid, SALT_PART, cfg->partition)) {
			sim_tpc_note_fault(f->o.tpc, SIM_TPC_F_PARTITION);
			sim_mqtt_freeze(d->mqtt, true);
			tpc_later(d, RADIO_TPC_THAW, m->due + cfg->partition_ns);
		}
		if (dev_tpc_prepare(d->hw, &f->tpc_rules, (int64_t)t_sim, w.txid, w.change,
		    w.change_len, &step) != HAL_OK)
			return;
		f->tpc_prepared += tpc_prepared(d) - before;
		if (!step.reply)
			return;
		r.vote = step.vote;
		r.reason = step.reason;
		r.reason_len = step.reason != NULL ? strlen(step.reason) : 0;
		if ((out = tpc_msg(d, SIM_TPC_MSG_VOTE, &r, RADIO_TPC_DURABLE)) == NULL)
			return;
		out->status = step.vote == DEV_TPC_YES ? TPC_VOTE_YES : TPC_VOTE_NO;
		if (step.vote == DEV_TPC_YES && tpc_draw(d, w.txid, SALT_CAV, cfg->crash_after_vote))
			out->status |= TPC_CRASH_AFTER;
	} else {
		rdc = w.decision == 1 && tpc_draw(d, w.txid, SALT_RDC, cfg->reboot_during_commit);
		if (dev_tpc_decide(d->hw, (int64_t)t_sim, w.txid, w.decision == 1, &step) != HAL_OK)
			return;
		f->tpc_prepared += tpc_prepared(d) - before;
		if (!step.reply)
			return;
		r.decision = w.decision;
		if ((out = tpc_msg(d, SIM_TPC_MSG_ACK, &r, RADIO_TPC_DURABLE)) == NULL)
			return;
		if (step.applied)
			out->status = TPC_APPLIED | (step.committed ? TPC_COMMITTED : 0);
		/* Reboot with the COMMIT's writes half done: they are undone,
		 * no ACK goes out, and the device is in doubt. */
		if (rdc && step.applied && step.committed && step.at > (uint64_t)t_sim) {
			sim_tpc_note_fault(f->o.tpc, SIM_TPC_F_REBOOT_DURING_COMMIT);
			tpc_later(d, RADIO_TPC_CRASH,
			    mono_of(f, t_sim + (step.at - (uint64_t)t_sim) / 2));
		}
	}
	out->due = mono_of(f, step.at > (uint64_t)t_sim ? step.at : t_sim);
	radio_put(d, out);
}

/* A reply's flash writes are durable: it counts from now and leaves. */
static void
tpc_durable(struct device *d, struct radio_msg *m)
{
	struct sim_fleet *f = d->f;
	uint64_t now = m->due, t_sim = sim_of(f, now);
	int st = m->status;
	size_t i;

	if (st & (TPC_VOTE_YES | TPC_VOTE_NO))
		tpc_record(d, now, m->rid, SIM_TPC_VOTE, (st & TPC_VOTE_YES) != 0);
	if (st & TPC_APPLIED) {
		tpc_record(d, now, m->rid, SIM_TPC_APPLY, (st & TPC_COMMITTED) != 0);
		if (st & TPC_COMMITTED)
			f->tpc_last[d->index] = m->rid;
		if ((i = doubt_find(f, d->index, m->rid)) != SIZE_MAX) {
			f->doubt[i] = f->doubt[--f->ndoubt];
			tpc_record(d, now, m->rid, SIM_TPC_RESOLVED, 0);
		}
		tpc_observe(d, now);
	}
	tpc_link(d, m, t_sim);
	if (st & TPC_CRASH_AFTER) {
		/* After the vote has had time to reach the broker. */
		sim_tpc_note_fault(f->o.tpc, SIM_TPC_F_CRASH_AFTER_VOTE);
		tpc_later(d, RADIO_TPC_CRASH, (d->radio != NULL && d->radio->due > now ?
		    d->radio->due : now) + 50 * SIM_NS_PER_MS);
	}
}

/* On (re)connecting: the device's protocol topics, and a QUERY for each
 * transaction it is in doubt about. */
static void
tpc_subscribe(struct device *d)
{
	struct sim_fleet *f = d->f;
	const struct sim_tpc_cfg *cfg = &f->sc->tpc[0];
	struct sim_tmpl_vals v = { .id = sim_tpc_device_id(f->o.tpc, d->index), .n = d->n,
		.group = d->g->cfg->name };
	char topic[512];
	uint64_t now = sim_now_ns();

	if (sim_tmpl_render(cfg->prepare_topic, &v, topic, sizeof(topic)) < sizeof(topic))
		(void)sim_mqtt_subscribe(d->mqtt, topic, cfg->qos, NULL);
	if (sim_tmpl_render(cfg->decision_topic, &v, topic, sizeof(topic)) < sizeof(topic))
		(void)sim_mqtt_subscribe(d->mqtt, topic, cfg->qos, NULL);
	for (size_t i = 0; i < f->ndoubt; i++) {
		struct sim_tpc_wire w = { .txid = f->doubt[i].txid };
		struct radio_msg *m;

		if (f->doubt[i].dev != d->index ||
		    (m = tpc_msg(d, SIM_TPC_MSG_QUERY, &w, RADIO_TPC_OUT)) == NULL)
			continue;
		m->due = now;
		tpc_link(d, m, sim_of(f, now));
	}
}

/* A PREPARE or DECISION for the device, if msg is one. */
static bool
tpc_take(struct device *d, const struct sim_mqtt_msg *msg)
{
	struct sim_fleet *f = d->f;
	const struct sim_tpc_cfg *cfg = &f->sc->tpc[0];
	struct sim_tmpl_vals v = { .id = sim_tpc_device_id(f->o.tpc, d->index), .n = d->n,
		.group = d->g->cfg->name };
	char topic[512];
	struct radio_msg *m;
	uint64_t now = sim_now_ns(), at;
	int kind;
	size_t n;

	n = sim_tmpl_render(cfg->prepare_topic, &v, topic, sizeof(topic));
	if (n == msg->topic_len && memcmp(topic, msg->topic, n) == 0) {
		kind = 0;
	} else {
		n = sim_tmpl_render(cfg->decision_topic, &v, topic, sizeof(topic));
		if (n != msg->topic_len || memcmp(topic, msg->topic, n) != 0)
			return false;
		kind = TPC_DECISION;
	}
	if (tpc_lost(f))
		return true;
	if ((m = radio_new(RADIO_TPC_IN, msg->payload_len, cfg->qos)) == NULL)
		return true;
	memcpy(m->data, msg->payload, msg->payload_len);
	m->status = kind;
	m->due = now;
	if (d->g->radio) {
		uint64_t t_sim = sim_of(f, now);

		if (hal_link_recv(&d->hw->link, t_sim, msg->payload_len, &at) != HAL_OK) {
			free(m);
			return true;
		}
		m->due = mono_of(f, at);
		m->lost = hal_link_next_change(&d->hw->link, t_sim) < at;
	}
	radio_put(d, m);
	dev_arm(d);
	return true;
}

/* A message for the device: a request of one of its group's patterns. */
static void
on_message(void *arg, const struct sim_mqtt_msg *msg)
{
	struct device *d = arg;
	struct sim_fleet *f = d->f;
	char id[256];
	struct sim_tmpl_vals v = { .id = id, .n = d->n, .group = d->g->cfg->name };

	if (d->tpc && tpc_take(d, msg))
		return;
	render_id(d, id, sizeof(id));
	if (d2c_take(d, msg, id))
		return;
	for (size_t p = 0; p < f->sc->nrr; p++) {
		const struct sim_rr_cfg *r = &f->sc->rr[p];
		struct sim_tmpl_caps c;
		struct radio_msg *m;
		const char *method = r->method, *resp = "";
		size_t mlen, rlen = 0;
		uint64_t rid = 0, now = sim_now_ns(), at;

		if (!(d->g->rr_mask & (1u << p)) ||
		    !sim_tmpl_match(r->request_topic, &v, msg->topic, msg->topic_len, &c))
			continue;
		if (c.method_len > 0)
			method = msg->topic + c.method_off;
		mlen = c.method_len > 0 ? c.method_len : strlen(method);
		if (r->conv == SIM_RR_CONV_RID) {
			rid = sim_rr_id_parse(msg->topic + c.rid_off, c.rid_len);
		} else {
			/* Without a Response Topic there is nowhere to answer. */
			if (msg->props.response_topic == NULL || msg->props.correlation_len != 8)
				return;
			rid = sim_rr_wire_id(&msg->props);
			resp = msg->props.response_topic;
			rlen = msg->props.response_topic_len;
		}
		if ((m = radio_new(RADIO_REQUEST, mlen + 1 + rlen + 1 + msg->payload_len, r->qos)) ==
		    NULL)
			return;
		memcpy(m->data, method, mlen);
		m->data[mlen] = '\0';
		memcpy(m->data + mlen + 1, resp, rlen);
		m->data[mlen + 1 + rlen] = '\0';
		memcpy(m->data + mlen + rlen + 2, msg->payload, msg->payload_len);
		m->rid = rid;
		m->pattern = (uint8_t)p;
		m->due = now;
		if (d->hw != NULL && d->g->radio) {
			uint64_t t_sim = sim_of(f, now);

			if (hal_link_recv(&d->hw->link, t_sim, msg->payload_len, &at) != HAL_OK) {
				free(m);
				return;
			}
			m->due = mono_of(f, at);
			m->lost = hal_link_next_change(&d->hw->link, t_sim) < at;
		}
		radio_put(d, m);
		dev_arm(d);
		return;
	}
}

/* Subscribes a device that just connected to its requests. */
static void
rr_subscribe(struct device *d)
{
	struct sim_fleet *f = d->f;
	char id[256];
	struct sim_tmpl_vals v = { .id = id, .n = d->n, .group = d->g->cfg->name };

	render_id(d, id, sizeof(id));
	for (size_t p = 0; p < f->sc->nrr; p++) {
		const struct sim_rr_cfg *r = &f->sc->rr[p];
		char *filter;

		if (!(d->g->rr_mask & (1u << p)))
			continue;
		v.method = r->method;
		filter = sim_tmpl_filter(r->request_topic, &v, SIM_TMPL_RID);
		if (filter != NULL)
			(void)sim_mqtt_subscribe(d->mqtt, filter, r->qos, NULL);
		free(filter);
	}
	if (d->g->d2c >= 0) {
		const struct sim_rr_cfg *r = &f->sc->rr[d->g->d2c];
		char topic[512];
		size_t n = d2c_res_topic(d, r, id, topic, sizeof(topic));

		/* rid: PREFIX/ID/res/STATUS/?$rid=RID */
		if (r->conv == SIM_RR_CONV_RID && n + 4 < sizeof(topic))
			memcpy(topic + n, "/+/+", 5);
		(void)sim_mqtt_subscribe(d->mqtt, topic, r->qos, NULL);
	}
}

static void
radio_due(struct device *d)
{
	struct radio_msg *m = d->radio;

	d->radio = m->next;
	switch (m->kind) {
	case RADIO_TELEMETRY:
		if (m->lost && m->qos == 0)
			sim_tm_note_dropped(d->f->chk, SIM_TM_DROP_LINK_DOWN);
		else
			publish(d, m->data, m->len, m->qos);
		break;
	case RADIO_REQUEST:
		if (m->lost)
			break;      /* the link dropped it on the way in */
		rr_handle(d, m);
		m = NULL;       /* handed on */
		break;
	case RADIO_ANSWER:
		rr_answer(d, m);
		break;
	case RADIO_RESPONSE:
		if (!(m->lost && m->qos == 0))
			rr_publish(d, m);
		break;
	case RADIO_D2C:
		if (!(m->lost && m->qos == 0))
			d2c_publish(d, m);
		break;
	case RADIO_D2C_ANSWER:
		d2c_answer(d, m);
		break;
	case RADIO_TPC_IN:
		if (!m->lost)
			tpc_handle(d, m);
		break;
	case RADIO_TPC_DURABLE:
		tpc_durable(d, m);
		m = NULL;       /* handed on */
		break;
	case RADIO_TPC_OUT:
		if (!(m->lost && m->qos == 0))
			tpc_publish(d, m);
		break;
	case RADIO_TPC_CRASH:
		inject_power(d, sim_of(d->f, m->due), false);
		break;
	case RADIO_TPC_THAW:
		if (d->link == HAL_LINK_UP)
			sim_mqtt_freeze(d->mqtt, false);
		break;
	}
	free(m);
}

static void
dev_due(struct device *d, uint64_t now)
{
	struct sim_fleet *f = d->f;
	int n = 0, h = 0;

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
			if (available(d)) {
				gate_push(d);
				gate_pump(f);
			} else {
				d->state = DEV_OFF;
			}
		}
	}
	/* Events, radio deliveries and sends in the order of their times,
	 * so the device's hardware sees time move forward only. */
	for (;;) {
		uint64_t hal = d->hal_ns, radio = d->radio != NULL ? d->radio->due : 0;
		uint64_t send = d->next_send_ns;
		bool req = d->next_req_ns != 0 && (send == 0 || d->next_req_ns < send);

		if (req)
			send = d->next_req_ns;
		if (hal != 0 && hal <= now && (send == 0 || hal <= send) &&
		    (radio == 0 || hal <= radio) && h++ < MAX_HAL_EVENTS) {
			hal_due(d, now);
		} else if (radio != 0 && radio <= now && (send == 0 || radio <= send) &&
		    h++ < MAX_HAL_EVENTS) {
			radio_due(d);
		} else if (send != 0 && send <= now && n++ < MAX_CATCH_UP) {
			if (req) {
				req_one(d);
				schedule_next_req(d);
			} else {
				send_one(d);
				schedule_next_send(d);
			}
			if (d->hw != NULL)
				hal_rearm(d, sim_of(f, send));
		} else {
			break;
		}
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

	(void)fd;
	(void)what;
	if (read(f->tfd, &expirations, sizeof(expirations)) < 0)
		return;         /* spurious: not due yet */
	f->armed_ns = 0;
	if (f->polled)
		return;         /* armed before the loop began polling */
	f->last_fire_ns = now;
	while (f->heap_len > 0 && f->heap[0].due <= now && n++ < MAX_PER_WAKE)
		dev_due(&f->devs[f->heap[0].idx], now);
	if (n >= MAX_PER_WAKE)
		f->last_fire_ns = 0;    /* more is due: come back at once */
	fleet_arm(f, true);
	if (f->tick_hook != NULL)
		f->tick_hook(f->tick_arg, now);
}

void
sim_fleet_set_tick_hook(struct sim_fleet *f, void (*fn)(void *arg, uint64_t now), void *arg)
{
	f->tick_hook = fn;
	f->tick_arg = arg;
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
	if (d->g->cfg->model != NULL) {
		/* The hardware starts at its scheduled release, not when the
		 * loop got to it, so its schedule is the same every run. */
		uint64_t t0 = sim_of(f, d->scheduled_ns);

		if (dev_device_new(d->g->cfg->model, f->o.seed, d->g->cfg->name, d->n, (int64_t)t0,
		    &d->hw) != HAL_OK)
			return SIM_ERR_NOMEM;
		d->link = (uint8_t)hal_link_state(&d->hw->link, t0);
		d->powered = hal_power_state(&d->hw->power, t0) == HAL_POWER_ON;
		/* The loader saw to it that every target's model has flash. */
		d->tpc = f->o.tpc != NULL && d->hw->flash != NULL &&
		    sim_tpc_target(f->o.tpc, d->index);
		hal_rearm(d, t0);
	}
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
	if (!available(d)) {
		d->state = DEV_OFF;
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
		if (!available(d)) {
			d->state = DEV_OFF;
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
	if (d->g->rr_mask != 0 || d->g->d2c >= 0)
		rr_subscribe(d);
	if (d->tpc)
		tpc_subscribe(d);
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
	.on_message = on_message,
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
			schedule_next_req(d);
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
	if (sc->ntpc > 0) {
		f->tpc_rules = (struct dev_tpc_rules){ .min_battery_pct = sc->tpc[0].min_battery_pct,
			.vote_no = sc->tpc[0].vote_no };
		if ((f->tpc_last = calloc(sim_scenario_devices(sc) + 1, sizeof(*f->tpc_last))) == NULL)
			goto out;
	}
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
	f->hpos = calloc(f->ndevs ? f->ndevs : 1, sizeof(*f->hpos));
	f->topic_cap = 256;
	f->topic = malloc(f->topic_cap);
	if (f->groups == NULL || f->devs == NULL || f->ramp == NULL || f->topic == NULL ||
	    f->timer == NULL || f->heap == NULL || f->hpos == NULL ||
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
		g->d2c = -1;
		for (size_t p = 0; p < sc->nrr; p++) {
			const struct sim_rr_cfg *r = &sc->rr[p];
			const char *methods[32];
			struct sim_rr_opts ro;

			if (r->dir != SIM_RR_D2C || (r->group >= 0 && (size_t)r->group != gi))
				continue;
			g->d2c = (int)p;
			g->req_every_ns = (uint64_t)((double)r->every_ns / sc->time_scale);
			if (g->req_every_ns == 0)
				g->req_every_ns = 1;
			sim_rr_dir_opts(sc, SIM_RR_D2C, methods, 32, &ro);
			for (g->d2c_method = 0; g->d2c_method < ro.nmethods &&
			    strcmp(methods[g->d2c_method], r->method) != 0; g->d2c_method++)
				;
		}
		/* The c2d patterns that target the group: its devices take
		 * their requests. */
		for (size_t p = 0; p < sc->nrr && p < 32; p++)
			if (sc->rr[p].dir == SIM_RR_C2D && (sc->rr[p].group < 0 ||
			    (size_t)sc->rr[p].group == gi))
				g->rr_mask |= 1u << p;
		/* Models think in simulated time; the schedule runs in real. */
		g->every_ns = (uint64_t)((double)cfg->telemetry.every_ns / sc->time_scale);
		g->jitter_ns = (uint64_t)((double)cfg->telemetry.jitter_ns / sc->time_scale);
		if (g->every_ns == 0)
			g->every_ns = 1;
		if (cfg->model != NULL)
			g->radio = cfg->model->link.bandwidth > 0 ||
			    cfg->model->link.latency.dist != HAL_LINK_FIXED ||
			    cfg->model->link.latency.mean > 0;
		if (cfg->telemetry.enabled)
			rate += (double)cfg->count * (double)SIM_NS_PER_S / (double)g->every_ns;
		for (uint32_t n = 0; n < cfg->count; n++, idx++) {
			struct device *d = &f->devs[idx];

			d->f = f;
			d->g = g;
			d->index = idx;
			d->n = n;
			f->hpos[idx] = NOT_QUEUED;
			d->powered = true;
			d->link = HAL_LINK_UP;
		}
	}
	/* Request-response wakes a device up to three times a round trip:
	 * the request arriving, the handler done, the answer leaving (or,
	 * for d2c, the request leaving and the answer arriving). */
	for (size_t p = 0; p < sc->nrr; p++) {
		const struct sim_rr_cfg *r = &sc->rr[p];

		if (r->dir == SIM_RR_C2D)
			rate += 3 * r->rate;
	}
	for (size_t gi = 0; gi < f->ngroups; gi++)
		if (f->groups[gi].d2c >= 0)
			rate += 2 * (double)f->groups[gi].cfg->count * (double)SIM_NS_PER_S /
			    (double)f->groups[gi].req_every_ns;
	/* Two-phase commit wakes each participant up to four times a
	 * transaction: PREPARE in, vote durable, DECISION in, ACK durable. */
	if (sc->ntpc > 0 && !sc->tpc[0].external)
		rate += 4 * sc->tpc[0].rate * sc->tpc[0].group_size;
	f->quantum_ns = rate >= BATCH_RATE ? QUANTUM_NS : 0;
	if (rate >= BATCH_RATE && rate < POLL_MAX_RATE) {
		double q = POLL_EVENTS * (double)SIM_NS_PER_S / rate;

		f->poll_ns = q < (double)QUANTUM_NS ? QUANTUM_NS :
		    q > (double)POLL_MAX_NS ? POLL_MAX_NS : (uint64_t)q;
	}
	/* Padding after the header is a fixed pattern: the broker and the
	 * checker see real bytes, and building a message copies only 32. */
	if (maxsize < 4096)
		maxsize = 4096;
	f->payload = malloc(maxsize);
	if (f->payload == NULL)
		goto out;
	f->payload_cap = maxsize;
	for (uint32_t i = 0; i < maxsize; i++)
		f->payload[i] = (uint8_t)('a' + i % 26);
	if (hal_timebase_init(&f->tb, (int64_t)o->start_ns, o->unix0_ns, sc->time_scale, NULL, 0) !=
	    HAL_OK) {
		rv = SIM_ERR_INVAL;
		goto out;
	}
	if (o->trace_path != NULL) {
		if ((f->trace = fopen(o->trace_path, "w")) == NULL) {
			rv = SIM_ERR_IO;
			goto out;
		}
		setvbuf(f->trace, NULL, _IOFBF, 1 << 16);
	}
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
	for (uint32_t i = 0; f->devs != NULL && i < f->ndevs; i++) {
		struct device *d = &f->devs[i];

		sim_mqtt_client_free(d->mqtt);
		dev_device_free(d->hw, (int64_t)sim_of(f, sim_now_ns()));
		while (d->radio != NULL) {
			struct radio_msg *m = d->radio;

			d->radio = m->next;
			free(m);
		}
	}
	if (f->trace != NULL)
		fclose(f->trace);
	if (f->ramp != NULL)
		event_free(f->ramp);
	if (f->timer != NULL)
		event_free(f->timer);
	if (f->tfd >= 0)
		close(f->tfd);
	free(f->heap);
	free(f->hpos);
	rpt_hist_free(f->connect_hist);
	free(f->devs);
	free(f->groups);
	free(f->payload);
	free(f->topic);
	free(f->doubt);
	free(f->tpc_last);
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
		if (d->next_req_ns != 0 && d->next_req_ns >= f->o.send_end_ns) {
			d->next_req_ns = 0;
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
			sim_tm_note_dropped(f->chk, SIM_TM_DROP_BEHIND);
			d->k++;
			schedule_next_send(d);
		}
		while (d->radio != NULL) {
			struct radio_msg *m = d->radio;

			d->radio = m->next;
			if (m->kind == RADIO_TELEMETRY)
				sim_tm_note_dropped(f->chk, SIM_TM_DROP_BEHIND);
			free(m);
		}
		d->hal_ns = 0;
		d->next_req_ns = 0;

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
	if (f->trace != NULL)
		fflush(f->trace);
}

uint64_t
sim_fleet_poll_ns(const struct sim_fleet *f)
{
	return f != NULL ? f->poll_ns : 0;
}

void
sim_fleet_poll(struct sim_fleet *f, uint64_t now)
{
	int n = 0;

	if (f == NULL)
		return;
	f->polled = true;
	while (f->heap_len > 0 && f->heap[0].due <= now && n++ < MAX_PER_WAKE)
		dev_due(&f->devs[f->heap[0].idx], now);
	if (f->tick_hook != NULL)
		f->tick_hook(f->tick_arg, now);
}

int64_t
sim_fleet_tpc_prepared(const struct sim_fleet *f)
{
	return f != NULL ? f->tpc_prepared : 0;
}

void
sim_fleet_stats(struct sim_fleet *f, struct sim_fleet_stats *out)
{
	f->st.connect = f->connect_hist;
	f->st.last_error = f->last_error;
	*out = f->st;
}

void
sim_fleet_stats_full(struct sim_fleet *f, struct sim_fleet_stats *out)
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
	sim_fleet_stats(f, out);
}
