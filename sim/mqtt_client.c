/* The MQTT client of mqtt_client.h on libevent bufferevents.
 *
 * Memory is what a fleet of idle devices pays for, so the struct holds only
 * per-connection state; the outbound queue is a list whose entries (one
 * malloc each, holding the encoded PUBLISH) exist only while messages are
 * unacknowledged, and inbound QoS 2 ids live in a small array allocated on
 * first use. The list keeps the order messages were published in: a prefix
 * of sent entries (in flight) followed by queued ones starting at unsent.
 */
#include "mqtt_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define DEFAULT_MAX_PACKET (1u << 20)
#define CLOSE_GRACE_MS 5000     /* how long DISCONNECT may take to flush */
#define PING_SLACK_MS 50        /* ping a little early rather than late */

#define TRY(x) do { if ((err = (x)) != SIM_OK) goto out; } while (0)
#define FAIL(e) do { err = (e); goto out; } while (0)

enum state {
	ST_IDLE,
	ST_CONNECTING,          /* TCP/TLS under way */
	ST_WAIT_CONNACK,        /* CONNECT sent */
	ST_OPEN,
	ST_CLOSING,             /* DISCONNECT queued, closing once flushed */
};

enum mstate {
	M_QUEUED,               /* not sent on this connection */
	M_PUBLISHED,            /* PUBLISH sent, awaiting PUBACK/PUBREC */
	M_RELEASED,             /* QoS 2: PUBREL sent, awaiting PUBCOMP */
};

/* One unacknowledged QoS 1/2 message; the encoded PUBLISH follows. */
struct outmsg {
	struct outmsg *next;
	uint32_t len;
	uint16_t id;
	uint8_t qos;
	uint8_t state;          /* enum mstate */
	bool was_sent;          /* sending it again counts as a resend */
	uint8_t pkt[];
};

struct sim_mqtt_client {
	const struct sim_mqtt_config *cfg;
	void *arg;
	struct bufferevent *bev;        /* NULL when idle */
	/* bev's output buffer and socket, kept here because each send
	 * checks them and bev itself is a cold cache line by then. */
	struct evbuffer *out;
	evutil_socket_t fd;
	/* A plain socket, once connected, is read here rather than by bev:
	 * libevent asks the kernel how much is readable (an ioctl) before
	 * every read, and the read is most of what a small packet costs. */
	struct event rd;
	bool rd_set;                    /* rd is assigned to this connection */
	struct event timer;             /* keep-alive, CONNACK and close deadlines */
	struct outmsg *head, *tail, *unsent;
	uint16_t *rel;                  /* inbound QoS 2 ids awaiting PUBREL */
	struct sim_mqtt_stats st;
	uint32_t npending;              /* entries in the list */
	uint32_t nsent;                 /* of which sent (the prefix before unsent) */
	uint32_t last_tx_ms;
	uint32_t mark_ms;               /* connect start, or when PINGREQ went out */
	uint16_t nrel, caprel;
	uint16_t window;
	uint16_t keepalive;             /* effective: the server's keep alive wins */
	uint16_t next_id;
	uint16_t user_off, pass_off;    /* into ids; 0 = absent */
	uint8_t state;                  /* enum state */
	uint8_t depth;                  /* libevent callbacks on the stack */
	bool ping_out;
	bool connect_sent;
	bool direct;                    /* plain socket: emit may write to the fd itself */
	bool reading;                   /* inside read_cb: replies are batched */
	bool frozen;                    /* half-open: neither reads nor writes */
	bool corked;                    /* writes wait in cork for sim_mqtt_flush */
	uint8_t *cork;
	size_t cork_len, cork_cap;
	bool dead;                      /* freed inside a callback */
	char ids[];                     /* client id, user name, password, NUL-terminated */
};

/* Replies made while reading (the PUBACKs for a burst of PUBLISHes) are
 * gathered here and written with one send() when the read is done, not
 * through the bufferevent, whose write event costs two epoll_ctl calls
 * and a loop pass per burst. One buffer serves every client: the loop
 * has one thread, and only one client reads at a time. */
static uint8_t reply_buf[4096];
static size_t reply_len;
static struct sim_mqtt_client *reply_owner;

static uint32_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static uint32_t
max_packet(const struct sim_mqtt_client *c)
{
	return c->cfg->max_packet ? c->cfg->max_packet : DEFAULT_MAX_PACKET;
}

static bool
v5(const struct sim_mqtt_client *c)
{
	return c->cfg->version == SIM_MQTT_V5;
}

static void
arm(struct sim_mqtt_client *c, uint32_t ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	event_add(&c->timer, &tv);
}

static void
destroy_queue(struct sim_mqtt_client *c)
{
	struct outmsg *m, *next;

	for (m = c->head; m != NULL; m = next) {
		next = m->next;
		free(m);
	}
	c->head = c->tail = c->unsent = NULL;
	c->npending = c->nsent = 0;
	free(c->rel);
	c->rel = NULL;
	c->nrel = c->caprel = 0;
}

/* Entered from every libevent callback; the matching leave() frees a client
 * that was freed meanwhile (from on_closed), so no frame touches freed
 * memory. */
static void
enter(struct sim_mqtt_client *c)
{
	c->depth++;
}

static void
leave(struct sim_mqtt_client *c)
{
	if (--c->depth == 0 && c->dead)
		free(c);
}

/* False once the connection bev is gone or the client was freed: callers
 * stop working on bev's input then. */
static bool
alive(const struct sim_mqtt_client *c, const struct bufferevent *bev)
{
	return !c->dead && c->bev == bev;
}

/* Stops reading the connection, whichever of rd and bev reads it. */
static void
reads_off(struct sim_mqtt_client *c)
{
	if (c->rd_set)
		event_del(&c->rd);
	else
		bufferevent_disable(c->bev, EV_READ);
}

/* Resumes reading the connection. */
static void
reads_on(struct sim_mqtt_client *c)
{
	if (c->rd_set)
		event_add(&c->rd, NULL);
	else
		bufferevent_enable(c->bev, EV_READ);
}

/* Frees the connection's bufferevent (closing its socket), and rd first. */
static void
drop_bev(struct sim_mqtt_client *c)
{
	if (c->rd_set)
		event_del(&c->rd);
	c->rd_set = false;
	bufferevent_free(c->bev);
	c->bev = NULL;
}

/* Ends the connection and tells the owner. In-flight messages stay in the
 * list, still marked sent, for the next CONNACK to deal with. */
static void
close_conn(struct sim_mqtt_client *c, enum sim_mqtt_close why, int reason, const char *detail)
{
	const struct sim_mqtt_cbs *cbs = c->cfg->cbs;

	if (c->bev == NULL)
		return;
	if (reply_owner == c)
		reply_len = 0;      /* the connection takes its replies with it */
	c->cork_len = 0;
	drop_bev(c);
	event_del(&c->timer);
	c->state = ST_IDLE;
	c->ping_out = false;
	c->connect_sent = false;
	c->frozen = false;
	if (cbs != NULL && cbs->on_closed != NULL) {
		c->depth++;
		cbs->on_closed(c->arg, why, reason, detail);
		leave(c);
	}
}

static void
note_tx(struct sim_mqtt_client *c, size_t len)
{
	c->st.pkts_out++;
	c->st.bytes_out += len;
	c->last_tx_ms = now_ms();
}

/* Writes what was gathered (replies or a cork) on an open connection:
 * straight to a plain socket when nothing is queued ahead of it, and
 * what the socket does not take to the bufferevent, so order is kept. A
 * connection that is not open drops it, as a close drops its output. */
static void
write_gathered(struct sim_mqtt_client *c, const uint8_t *b, size_t len)
{
	struct evbuffer *out;
	size_t off = 0;

	if (c->bev == NULL || c->state != ST_OPEN || c->frozen)
		return;
	out = c->out;
	if (c->direct && evbuffer_get_length(out) == 0) {
		ssize_t n = send(c->fd, b, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0)
			off = (size_t)n;
	}
	if (off < len)
		(void)evbuffer_add(out, b + off, len - off);
}

/* Sends what the reading client gathered. */
static void
flush_replies(struct sim_mqtt_client *c)
{
	if (reply_owner != c || reply_len == 0)
		return;
	write_gathered(c, reply_buf, reply_len);
	reply_len = 0;
}

/* Before a packet that closes the connection (DISCONNECT): gathered
 * replies go first, and it must not wait in the gathering buffer, which
 * the close would drop. */
static void
stop_gathering(struct sim_mqtt_client *c)
{
	sim_mqtt_flush(c);
	if (reply_owner == c) {
		flush_replies(c);
		reply_owner = NULL;
	}
}

/* Writes b to the socket at once when nothing is queued ahead of it on a
 * plain socket of an open session. Through the bufferevent alone, every
 * packet would first wait for epoll to report the socket writable: two
 * epoll_ctl calls and a loop pass per packet, most of a device's cost.
 * What the socket does not take (or an error, which the bufferevent then
 * meets and reports) goes to the bufferevent as usual. */
static enum sim_err
emit(struct sim_mqtt_client *c, const uint8_t *b, size_t len)
{
	struct evbuffer *out = c->out;
	size_t off = 0;

	/* A corked client's writes wait for sim_mqtt_flush, all of them. */
	if (c->corked && c->state == ST_OPEN && !c->frozen && evbuffer_get_length(out) == 0) {
		if (c->cork_len + len > c->cork_cap) {
			size_t cap = c->cork_cap ? c->cork_cap : 16384;
			uint8_t *p;

			while (cap < c->cork_len + len)
				cap *= 2;
			if ((p = realloc(c->cork, cap)) == NULL)
				return SIM_ERR_NOMEM;
			c->cork = p;
			c->cork_cap = cap;
		}
		memcpy(c->cork + c->cork_len, b, len);
		c->cork_len += len;
		note_tx(c, len);
		return SIM_OK;
	}
	/* Replies made while reading are gathered for one send at the end
	 * of the read (flush_replies). */
	if (c->reading && reply_owner == c && c->state == ST_OPEN && !c->frozen &&
	    evbuffer_get_length(out) == 0) {
		if (reply_len + len <= sizeof(reply_buf)) {
			memcpy(reply_buf + reply_len, b, len);
			reply_len += len;
			note_tx(c, len);
			return SIM_OK;
		}
		flush_replies(c);
	}
	if (c->direct && !c->reading && !c->frozen && c->state == ST_OPEN &&
	    evbuffer_get_length(out) == 0) {
		ssize_t n = send(c->fd, b, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0)
			off = (size_t)n;
	}
	if (off < len && evbuffer_add(out, b + off, len - off) != 0)
		return SIM_ERR_NOMEM;
	note_tx(c, len);
	return SIM_OK;
}

/* Encodes p and sends it: small packets through a stack buffer and emit,
 * large ones straight into the output buffer. */
static enum sim_err
send_pkt(struct sim_mqtt_client *c, const struct sim_mqtt_pkt *p)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct evbuffer_iovec v;
	uint8_t small[512];
	enum sim_err err;
	size_t len;

	TRY(sim_mqtt_encoded_len(p, c->cfg->version, &len));
	if (len <= sizeof(small)) {
		TRY(sim_mqtt_encode(p, c->cfg->version, small, sizeof(small), &len));
		err = emit(c, small, len);
		goto out;
	}
	if (evbuffer_reserve_space(out, len, &v, 1) != 1)
		FAIL(SIM_ERR_NOMEM);
	TRY(sim_mqtt_encode(p, c->cfg->version, v.iov_base, v.iov_len, &len));
	v.iov_len = len;
	if (evbuffer_commit_space(out, &v, 1) != 0)
		FAIL(SIM_ERR_NOMEM);
	note_tx(c, len);
out:
	return err;
}

static enum sim_err
send_raw(struct sim_mqtt_client *c, const uint8_t *b, size_t len)
{
	return emit(c, b, len);
}

static enum sim_err
send_ack(struct sim_mqtt_client *c, enum sim_mqtt_type type, uint16_t id)
{
	uint8_t b[4] = { (uint8_t)(type << 4 | (type == SIM_MQTT_PUBREL ? 2 : 0)), 2, id >> 8, id & 0xFF };

	return send_raw(c, b, sizeof(b));
}

/* Sends queued messages while the window has room. */
static enum sim_err
pump(struct sim_mqtt_client *c)
{
	enum sim_err err = SIM_OK;

	while (c->unsent != NULL && c->nsent < c->window) {
		struct outmsg *m = c->unsent;

		TRY(send_raw(c, m->pkt, m->len));
		if (m->was_sent)
			c->st.resent++;
		m->was_sent = true;
		m->state = M_PUBLISHED;
		c->nsent++;
		c->unsent = m->next;
	}
out:
	return err;
}

/* A protocol failure by the peer: tell it why where MQTT 5 allows, and
 * close. The DISCONNECT is flushed best-effort with one non-blocking
 * sendmsg on plain sockets: libevent freezes the start of a bufferevent's
 * output, which evbuffer_write and evbuffer_copyout refuse but
 * evbuffer_peek allows; TLS would need a handshake-aware write. */
static void
fail_proto(struct sim_mqtt_client *c, enum sim_err why, const char *detail)
{
	struct bufferevent *bev = c->bev;

	c->st.decode_errors++;
	if (v5(c) && c->state == ST_OPEN) {
		struct sim_mqtt_pkt p = { .type = SIM_MQTT_DISCONNECT };
		struct evbuffer *out = bufferevent_get_output(bev);
		evutil_socket_t fd = bufferevent_getfd(bev);
		struct evbuffer_iovec v[8];
		struct iovec iov[8];
		struct msghdr mh = { .msg_iov = iov };
		int n;

		p.disconnect.reason = why == SIM_ERR_TOOBIG ? 0x95 : 0x81;
		stop_gathering(c);
		if (send_pkt(c, &p) == SIM_OK && bufferevent_openssl_get_ssl(bev) == NULL && fd >= 0 &&
		    (n = evbuffer_peek(out, -1, NULL, v, 8)) > 0 && n <= 8) {
			for (int i = 0; i < n; i++)
				iov[i] = (struct iovec){ v[i].iov_base, v[i].iov_len };
			mh.msg_iovlen = (size_t)n;
			(void)sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
	}
	close_conn(c, SIM_MQTT_CLOSE_PROTO, 0, detail);
}

static uint16_t
alloc_id(struct sim_mqtt_client *c)
{
	for (;;) {
		uint16_t id = c->next_id;
		struct outmsg *m;

		c->next_id = id == 65535 ? 1 : id + 1;
		for (m = c->head; m != NULL && m->id != id; m = m->next)
			;
		if (m == NULL)
			return id;
	}
}

static enum sim_err
send_connect(struct sim_mqtt_client *c)
{
	const struct sim_mqtt_config *cfg = c->cfg;
	struct sim_mqtt_pkt p = { .type = SIM_MQTT_CONNECT };
	enum sim_err err;

	p.connect.clean_start = cfg->clean_session;
	p.connect.keepalive = cfg->keepalive_s;
	p.connect.client_id = (struct sim_mqtt_str){ c->ids, strlen(c->ids) };
	if (c->user_off != 0) {
		p.connect.has_username = true;
		p.connect.username = (struct sim_mqtt_str){ c->ids + c->user_off,
		    strlen(c->ids + c->user_off) };
	}
	if (c->pass_off != 0) {
		p.connect.has_password = true;
		p.connect.password = (struct sim_mqtt_bin){ (const uint8_t *)c->ids + c->pass_off,
		    strlen(c->ids + c->pass_off) };
	}
	if (v5(c)) {
		p.props.present = SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_MAX_PACKET_SIZE);
		p.props.max_packet_size = max_packet(c);
		if (!cfg->clean_session && cfg->session_expiry_s != 0) {
			p.props.present |= SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_SESSION_EXPIRY);
			p.props.session_expiry = cfg->session_expiry_s;
		}
	}
	TRY(send_pkt(c, &p));
	c->connect_sent = true;
	c->state = ST_WAIT_CONNACK;
out:
	return err;
}

/* Writes a human-readable cause of a bufferevent error into buf, with
 * OpenSSL's reasons and the certificate verdict for TLS. */
static bool
describe_error(struct bufferevent *bev, short what, int sock_err, char *buf, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	size_t n = 0;
	bool tls = false;

	buf[0] = '\0';
	if (what & BEV_EVENT_EOF) {
		snprintf(buf, len, "connection closed by peer");
		return false;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		snprintf(buf, len, "%s timeout", (what & BEV_EVENT_READING) ? "read" : "write");
		return false;
	}
	if (ssl != NULL) {
		long vr = SSL_get_verify_result(ssl);
		unsigned long e;

		while ((e = bufferevent_get_openssl_error(bev)) != 0 && n + 1 < len) {
			char tmp[256];

			/* libevent also queues SSL_get_error's plain status
			 * codes here; they name no library and say nothing. */
			if (ERR_GET_LIB(e) == 0)
				continue;
			tls = true;
			ERR_error_string_n(e, tmp, sizeof(tmp));
			n += (size_t)snprintf(buf + n, len - n, "%sTLS: %s", n ? "; " : "", tmp);
		}
		if (vr != X509_V_OK && n + 1 < len) {
			tls = true;
			n += (size_t)snprintf(buf + n, len - n, "%scertificate verification failed: %s",
			    n ? "; " : "", X509_verify_cert_error_string(vr));
		}
	}
	if (n == 0)
		snprintf(buf, len, "%s", sock_err ? evutil_socket_error_to_string(sock_err) :
		    "connection failed");
	return tls;
}

static void
deliver(struct sim_mqtt_client *c, const struct sim_mqtt_pkt *d)
{
	const struct sim_mqtt_cbs *cbs = c->cfg->cbs;
	struct sim_mqtt_user_prop stack[8], *user = stack;
	struct sim_mqtt_msg m = {
		.topic = d->publish.topic.ptr,
		.topic_len = d->publish.topic.len,
		.payload = d->publish.payload.ptr,
		.payload_len = d->publish.payload.len,
		.qos = d->publish.qos,
		.retain = d->publish.retain,
		.dup = d->publish.dup,
	};
	const struct sim_mqtt_pkt_props *pp = &d->props;

	if (cbs == NULL || cbs->on_message == NULL)
		return;
	if (pp->present & SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_RESPONSE_TOPIC)) {
		m.props.response_topic = pp->response_topic.ptr;
		m.props.response_topic_len = pp->response_topic.len;
	}
	if (pp->present & SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_CORRELATION)) {
		m.props.correlation = pp->correlation.ptr;
		m.props.correlation_len = pp->correlation.len;
	}
	if (pp->present & SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_MESSAGE_EXPIRY)) {
		m.props.has_message_expiry = true;
		m.props.message_expiry_s = pp->message_expiry;
	}
	if (pp->nuser > 0) {
		size_t it = 0, n = 0;

		/* User properties are rare; only many of them cost a malloc. */
		if (pp->nuser > sizeof(stack) / sizeof(stack[0]))
			user = malloc(pp->nuser * sizeof(*user));
		if (user != NULL) {
			while (n < pp->nuser && sim_mqtt_user_prop_next(pp, &it, &user[n]))
				n++;
			m.props.user = user;
			m.props.nuser = n;
		}
	}
	cbs->on_message(c->arg, &m);
	if (user != stack)
		free(user);
}

static bool
rel_has(const struct sim_mqtt_client *c, uint16_t id)
{
	for (uint16_t i = 0; i < c->nrel; i++)
		if (c->rel[i] == id)
			return true;
	return false;
}

static enum sim_err
rel_add(struct sim_mqtt_client *c, uint16_t id)
{
	if (c->nrel == c->caprel) {
		uint16_t cap = c->caprel ? (c->caprel >= 32768 ? 65535 : c->caprel * 2) : 4;
		uint16_t *n = realloc(c->rel, cap * sizeof(*n));

		if (n == NULL || cap == c->caprel)
			return SIM_ERR_NOMEM;
		c->rel = n;
		c->caprel = cap;
	}
	c->rel[c->nrel++] = id;
	return SIM_OK;
}

static void
rel_remove(struct sim_mqtt_client *c, uint16_t id)
{
	for (uint16_t i = 0; i < c->nrel; i++) {
		if (c->rel[i] == id) {
			c->rel[i] = c->rel[--c->nrel];
			break;
		}
	}
	if (c->nrel == 0) {
		free(c->rel);
		c->rel = NULL;
		c->caprel = 0;
	}
}

/* The sent entry with packet id id, and its predecessor. */
static struct outmsg *
find_sent(struct sim_mqtt_client *c, uint16_t id, struct outmsg **prev)
{
	struct outmsg *p = NULL, *m;

	for (m = c->head; m != NULL && m != c->unsent; p = m, m = m->next) {
		if (m->id == id) {
			*prev = p;
			return m;
		}
	}
	return NULL;
}

/* Removes a finished message and reports it. */
static void
complete(struct sim_mqtt_client *c, struct outmsg *m, struct outmsg *prev, int reason)
{
	const struct sim_mqtt_cbs *cbs = c->cfg->cbs;
	uint16_t id = m->id;

	if (prev != NULL)
		prev->next = m->next;
	else
		c->head = m->next;
	if (c->tail == m)
		c->tail = prev;
	c->npending--;
	c->nsent--;
	free(m);
	if (cbs != NULL && cbs->on_acked != NULL)
		cbs->on_acked(c->arg, id, reason);
}

/* CONNACK accepted: settle the in-flight messages, then the queue. */
static void
on_connack_ok(struct sim_mqtt_client *c, const struct sim_mqtt_pkt *d)
{
	const struct sim_mqtt_cbs *cbs = c->cfg->cbs;
	bool session = d->connack.session_present && !c->cfg->clean_session;
	struct bufferevent *bev = c->bev;
	uint32_t window = c->cfg->max_inflight ? c->cfg->max_inflight : 65535;
	struct outmsg *m;

	if (v5(c)) {
		if ((d->props.present & SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_RECEIVE_MAX)) &&
		    d->props.receive_max < window)
			window = d->props.receive_max;
		if (d->props.present & SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_SERVER_KEEPALIVE))
			c->keepalive = d->props.server_keepalive;
	}
	c->window = (uint16_t)window;
	c->state = ST_OPEN;
	if (session) {
		/* 4.4: resend unacknowledged PUBLISH with DUP, and PUBREL. */
		for (m = c->head; m != c->unsent; m = m->next) {
			enum sim_err err;

			if (m->state == M_RELEASED) {
				err = send_ack(c, SIM_MQTT_PUBREL, m->id);
			} else {
				m->pkt[0] |= 0x08;
				err = send_raw(c, m->pkt, m->len);
			}
			if (err != SIM_OK) {
				close_conn(c, SIM_MQTT_CLOSE_IO, 0, "out of memory");
				return;
			}
			c->st.resent++;
		}
	} else {
		/* The server forgot them: send them again as new messages. */
		for (m = c->head; m != c->unsent; m = m->next) {
			m->state = M_QUEUED;
			m->pkt[0] &= (uint8_t)~0x08;
		}
		c->unsent = c->head;
		c->nsent = 0;
		free(c->rel);
		c->rel = NULL;
		c->nrel = c->caprel = 0;
	}
	if (pump(c) != SIM_OK) {
		close_conn(c, SIM_MQTT_CLOSE_IO, 0, "out of memory");
		return;
	}
	if (c->keepalive != 0)
		arm(c, c->keepalive * 1000u);
	else
		event_del(&c->timer);
	if (cbs != NULL && cbs->on_connected != NULL && alive(c, bev))
		cbs->on_connected(c->arg, d->connack.session_present);
}

/* Handles one decoded packet. Callbacks may close or free the client; the
 * caller checks alive() afterwards. */
static void
handle(struct sim_mqtt_client *c, const struct sim_mqtt_pkt *d)
{
	const struct sim_mqtt_cbs *cbs = c->cfg->cbs;
	struct bufferevent *bev = c->bev;
	struct outmsg *m, *prev = NULL;
	char detail[160];

	if (c->state == ST_WAIT_CONNACK && d->type != SIM_MQTT_CONNACK) {
		fail_proto(c, SIM_ERR_PROTO, "packet before CONNACK");
		return;
	}
	switch (d->type) {
	case SIM_MQTT_CONNACK:
		if (c->state != ST_WAIT_CONNACK) {
			fail_proto(c, SIM_ERR_PROTO, "unexpected CONNACK");
			return;
		}
		if (d->connack.reason != 0) {
			snprintf(detail, sizeof(detail), "CONNACK: %s", sim_mqtt_reason_str(c->cfg->version,
			    SIM_MQTT_CONNACK, d->connack.reason));
			close_conn(c, SIM_MQTT_CLOSE_REFUSED, d->connack.reason, detail);
			return;
		}
		on_connack_ok(c, d);
		return;
	case SIM_MQTT_PUBLISH:
		if (d->props.present & SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_TOPIC_ALIAS)) {
			/* We allow no aliases (Topic Alias Maximum 0). */
			fail_proto(c, SIM_ERR_PROTO, "topic alias not allowed");
			return;
		}
		if (d->publish.qos == 2) {
			if (!rel_has(c, d->publish.packet_id)) {
				if (rel_add(c, d->publish.packet_id) != SIM_OK) {
					close_conn(c, SIM_MQTT_CLOSE_IO, 0, "out of memory");
					return;
				}
				deliver(c, d);
			}
			if (alive(c, bev) && send_ack(c, SIM_MQTT_PUBREC, d->publish.packet_id) != SIM_OK)
				close_conn(c, SIM_MQTT_CLOSE_IO, 0, "out of memory");
			return;
		}
		deliver(c, d);
		if (d->publish.qos == 1 && alive(c, bev) &&
		    send_ack(c, SIM_MQTT_PUBACK, d->publish.packet_id) != SIM_OK)
			close_conn(c, SIM_MQTT_CLOSE_IO, 0, "out of memory");
		return;
	case SIM_MQTT_PUBACK:
		m = find_sent(c, d->ack.packet_id, &prev);
		if (m != NULL && m->qos == 1)
			complete(c, m, prev, d->ack.reason);
		break;
	case SIM_MQTT_PUBREC:
		m = find_sent(c, d->ack.packet_id, &prev);
		if (m == NULL || m->qos != 2)
			break;
		if (d->ack.reason >= 0x80) {
			complete(c, m, prev, d->ack.reason);   /* refused: no PUBREL */
			break;
		}
		m->state = M_RELEASED;
		if (send_ack(c, SIM_MQTT_PUBREL, m->id) != SIM_OK)
			close_conn(c, SIM_MQTT_CLOSE_IO, 0, "out of memory");
		return;
	case SIM_MQTT_PUBCOMP:
		m = find_sent(c, d->ack.packet_id, &prev);
		if (m != NULL && m->state == M_RELEASED)
			complete(c, m, prev, d->ack.reason);
		break;
	case SIM_MQTT_PUBREL:
		rel_remove(c, d->ack.packet_id);
		if (send_ack(c, SIM_MQTT_PUBCOMP, d->ack.packet_id) != SIM_OK)
			close_conn(c, SIM_MQTT_CLOSE_IO, 0, "out of memory");
		return;
	case SIM_MQTT_SUBACK:
		if (cbs != NULL && cbs->on_suback != NULL)
			cbs->on_suback(c->arg, d->suback.packet_id, d->suback.codes, d->suback.ncodes);
		return;
	case SIM_MQTT_UNSUBACK:
	case SIM_MQTT_PINGRESP:
		return;
	case SIM_MQTT_DISCONNECT:
		if (!v5(c))
			break;  /* a 3.1.1 server never sends one */
		if (d->props.present & SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_REASON_STRING))
			snprintf(detail, sizeof(detail), "server DISCONNECT: %s (%.*s)",
			    sim_mqtt_reason_str(SIM_MQTT_V5, SIM_MQTT_DISCONNECT, d->disconnect.reason),
			    (int)(d->props.reason_string.len > 100 ? 100 : d->props.reason_string.len),
			    d->props.reason_string.ptr);
		else
			snprintf(detail, sizeof(detail), "server DISCONNECT: %s",
			    sim_mqtt_reason_str(SIM_MQTT_V5, SIM_MQTT_DISCONNECT, d->disconnect.reason));
		close_conn(c, SIM_MQTT_CLOSE_SERVER, d->disconnect.reason, detail);
		return;
	default:
		break;
	}
	switch (d->type) {
	case SIM_MQTT_PUBACK:
	case SIM_MQTT_PUBREC:
	case SIM_MQTT_PUBCOMP:
		/* A window slot may have opened. */
		if (alive(c, bev) && c->state == ST_OPEN && pump(c) != SIM_OK)
			close_conn(c, SIM_MQTT_CLOSE_IO, 0, "out of memory");
		return;
	default:
		snprintf(detail, sizeof(detail), "unexpected %s from server", sim_mqtt_type_name(d->type));
		fail_proto(c, SIM_ERR_PROTO, detail);
		return;
	}
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct sim_mqtt_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	enter(c);
	c->reading = true;
	if (c->direct && reply_owner == NULL) {
		reply_owner = c;
		reply_len = 0;
	}
	/* Bounded: every round consumes a whole packet or stops. */
	while (alive(c, bev) && c->state != ST_CLOSING) {
		struct sim_mqtt_pkt d;
		uint8_t hdr[5];
		const uint8_t *p;
		size_t total, used;
		ev_ssize_t n;
		enum sim_err err;

		n = evbuffer_copyout(in, hdr, sizeof(hdr));
		err = sim_mqtt_peek(hdr, n > 0 ? (size_t)n : 0, max_packet(c), &total);
		if (err == SIM_ERR_AGAIN)
			break;
		if (err != SIM_OK) {
			fail_proto(c, err, err == SIM_ERR_TOOBIG ? "packet too large" : "malformed packet");
			break;
		}
		if (evbuffer_get_length(in) < total)
			break;
		p = evbuffer_pullup(in, (ev_ssize_t)total);
		if (p == NULL) {
			close_conn(c, SIM_MQTT_CLOSE_IO, 0, "out of memory");
			break;
		}
		err = sim_mqtt_decode(p, total, c->cfg->version, max_packet(c), &d, &used);
		if (err != SIM_OK) {
			char detail[64];

			snprintf(detail, sizeof(detail), "malformed %s packet", sim_mqtt_type_name(p[0] >> 4));
			fail_proto(c, err, detail);
			break;
		}
		c->st.pkts_in++;
		c->st.bytes_in += total;
		c->ping_out = false;    /* the server is alive */
		handle(c, &d);
		if (!alive(c, bev))
			break;
		evbuffer_drain(in, total);
	}
	if (reply_owner == c) {
		/* A connection closed meanwhile takes its replies with it. */
		if (alive(c, bev))
			flush_replies(c);
		reply_len = 0;
		reply_owner = NULL;
	}
	c->reading = false;
	leave(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg);

/* Reads a plain socket into bev's input and decodes it as read_cb does;
 * end of file and errors go where bev would have sent them. One buffer
 * serves every client: the loop has one thread. */
static void
rd_cb(evutil_socket_t fd, short what, void *arg)
{
	static uint8_t buf[65536];
	struct sim_mqtt_client *c = arg;
	struct bufferevent *bev = c->bev;
	ssize_t n;

	(void)what;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n > 0) {
		if (evbuffer_add(bufferevent_get_input(bev), buf, (size_t)n) != 0) {
			enter(c);
			close_conn(c, SIM_MQTT_CLOSE_IO, 0, "out of memory");
			leave(c);
			return;
		}
		read_cb(bev, c);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	event_cb(bev, (short)(BEV_EVENT_READING | (n == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR)), c);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct sim_mqtt_client *c = arg;

	enter(c);
	if (c->state == ST_CLOSING && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		close_conn(c, SIM_MQTT_CLOSE_REQUESTED, 0, "disconnected");
	leave(c);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sim_mqtt_client *c = arg;
	int sock_err = EVUTIL_SOCKET_ERROR();
	enum sim_mqtt_close why;
	char detail[512];

	enter(c);
	if (what & BEV_EVENT_CONNECTED) {
		if (c->direct && !c->rd_set &&
		    event_assign(&c->rd, bufferevent_get_base(bev), c->fd, EV_READ | EV_PERSIST,
		    rd_cb, c) == 0) {
			bufferevent_disable(bev, EV_READ);
			c->rd_set = true;
			if (!c->frozen)
				event_add(&c->rd, NULL);
		}
		if (!c->connect_sent && send_connect(c) != SIM_OK)
			close_conn(c, SIM_MQTT_CLOSE_CONNECT_FAIL, 0, "cannot send CONNECT");
	} else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		bool tls = describe_error(bev, what, sock_err, detail, sizeof(detail));

		if (c->state == ST_CLOSING)
			why = SIM_MQTT_CLOSE_REQUESTED;
		else if (c->state != ST_OPEN)
			why = tls ? SIM_MQTT_CLOSE_TLS : SIM_MQTT_CLOSE_CONNECT_FAIL;
		else
			why = (what & BEV_EVENT_EOF) ? SIM_MQTT_CLOSE_EOF : SIM_MQTT_CLOSE_IO;
		close_conn(c, why, 0, detail);
	}
	leave(c);
}

/* The one timer: CONNACK deadline, keep-alive (lazily: it looks at when we
 * last sent instead of being re-armed per packet), PINGRESP deadline, and
 * the DISCONNECT flush deadline. */
static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sim_mqtt_client *c = arg;
	uint32_t now = now_ms(), ka = c->keepalive * 1000u, limit = ka + ka / 2;
	char detail[64];

	enter(c);
	switch (c->state) {
	case ST_CLOSING:
		close_conn(c, SIM_MQTT_CLOSE_REQUESTED, 0, "DISCONNECT not flushed in time");
		break;
	case ST_CONNECTING:
	case ST_WAIT_CONNACK:
		if (now - c->mark_ms >= limit) {
			snprintf(detail, sizeof(detail), "no CONNACK within %u s", limit / 1000);
			close_conn(c, SIM_MQTT_CLOSE_CONNECT_FAIL, 0, detail);
		} else {
			arm(c, limit - (now - c->mark_ms));
		}
		break;
	case ST_OPEN:
		if (ka == 0)
			break;
		if (c->ping_out) {
			if (now - c->mark_ms >= limit) {
				snprintf(detail, sizeof(detail), "no PINGRESP within %u ms", limit);
				close_conn(c, SIM_MQTT_CLOSE_KEEPALIVE, 0, detail);
			} else {
				arm(c, limit - (now - c->mark_ms));
			}
		} else if (now - c->last_tx_ms + PING_SLACK_MS >= ka) {
			static const uint8_t ping[2] = { SIM_MQTT_PINGREQ << 4, 0 };

			if (send_raw(c, ping, sizeof(ping)) != SIM_OK) {
				close_conn(c, SIM_MQTT_CLOSE_IO, 0, "out of memory");
				break;
			}
			c->ping_out = true;
			c->mark_ms = now;
			arm(c, ka < limit ? ka : limit);
		} else {
			arm(c, ka - (now - c->last_tx_ms));
		}
		break;
	default:
		break;
	}
	leave(c);
}

static bool
bev_connected(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	evutil_socket_t fd;

	if (ssl != NULL)
		return SSL_is_init_finished(ssl);
	fd = bufferevent_getfd(bev);
	return fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0;
}

enum sim_err
sim_mqtt_client_new(struct event_base *base, const struct sim_mqtt_config *cfg,
    const char *client_id, const char *username, const char *password, void *arg,
    struct sim_mqtt_client **out)
{
	size_t lid, luser, lpass, off;
	struct sim_mqtt_client *c = NULL;
	enum sim_err err = SIM_OK;

	*out = NULL;
	if (base == NULL || cfg == NULL || client_id == NULL ||
	    (cfg->version != SIM_MQTT_V311 && cfg->version != SIM_MQTT_V5))
		FAIL(SIM_ERR_INVAL);
	lid = strlen(client_id);
	luser = username ? strlen(username) : 0;
	lpass = password ? strlen(password) : 0;
	if (lid > 0xFFFF || luser > 0xFFFF || lpass > 0xFFFF || lid + luser + 2 > 0xFFFF)
		FAIL(SIM_ERR_TOOBIG);
	c = calloc(1, sizeof(*c) + lid + 1 + (username ? luser + 1 : 0) + (password ? lpass + 1 : 0));
	if (c == NULL)
		FAIL(SIM_ERR_NOMEM);
	c->cfg = cfg;
	c->arg = arg;
	c->next_id = 1;
	memcpy(c->ids, client_id, lid + 1);
	off = lid + 1;
	if (username != NULL) {
		c->user_off = (uint16_t)off;
		memcpy(c->ids + off, username, luser + 1);
		off += luser + 1;
	}
	if (password != NULL) {
		c->pass_off = (uint16_t)off;
		memcpy(c->ids + off, password, lpass + 1);
	}
	if (event_assign(&c->timer, base, -1, 0, timer_cb, c) != 0) {
		free(c);
		c = NULL;
		FAIL(SIM_ERR_NOMEM);
	}
	*out = c;
out:
	return err;
}

void
sim_mqtt_client_free(struct sim_mqtt_client *c)
{
	if (c == NULL || c->dead)
		return;
	if (c->bev != NULL)
		drop_bev(c);
	event_del(&c->timer);
	destroy_queue(c);
	free(c->cork);
	c->cork = NULL;
	c->cork_len = c->cork_cap = 0;
	c->state = ST_IDLE;
	if (c->depth > 0)
		c->dead = true;         /* leave() frees it */
	else
		free(c);
}

enum sim_err
sim_mqtt_connect(struct sim_mqtt_client *c, struct bufferevent *bev)
{
	enum sim_err err = SIM_OK;

	if (c == NULL || bev == NULL || c->bev != NULL || c->dead) {
		/* The caller handed bev over either way. */
		if (bev != NULL && (c == NULL || c->bev != bev))
			bufferevent_free(bev);
		FAIL(SIM_ERR_INVAL);
	}
	c->bev = bev;
	c->out = bufferevent_get_output(bev);
	c->fd = bufferevent_getfd(bev);
	c->state = ST_CONNECTING;
	c->ping_out = false;
	c->connect_sent = false;
	c->direct = bufferevent_openssl_get_ssl(bev) == NULL;
	c->keepalive = c->cfg->keepalive_s;
	c->mark_ms = c->last_tx_ms = now_ms();
	bufferevent_setcb(bev, read_cb, write_cb, event_cb, c);
	/* No read callback for less than a fixed header; stop reading (TCP
	 * pushes back) once a packet larger than we accept could be buffered,
	 * which a complete packet never reaches since each is drained at once. */
	bufferevent_setwatermark(bev, EV_READ, 2, (size_t)max_packet(c) + 5);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	if (bufferevent_enable(bev, EV_READ | EV_WRITE) != 0) {
		c->bev = NULL;
		c->state = ST_IDLE;
		bufferevent_free(bev);
		FAIL(SIM_ERR_IO);
	}
	if (c->keepalive != 0)
		arm(c, c->keepalive * 1500u);
	if (bev_connected(bev))
		err = send_connect(c);
out:
	return err;
}

enum sim_err
sim_mqtt_publish(struct sim_mqtt_client *c, const char *topic, const void *payload,
    size_t len, int qos, bool retain, const struct sim_mqtt_props *props, uint16_t *packet_id)
{
	struct sim_mqtt_pkt p = { .type = SIM_MQTT_PUBLISH };
	struct outmsg *m = NULL;
	enum sim_err err = SIM_OK;
	size_t plen;

	if (packet_id != NULL)
		*packet_id = 0;
	if (c == NULL || topic == NULL || (payload == NULL && len > 0) || qos < 0 || qos > 2)
		FAIL(SIM_ERR_INVAL);
	p.publish.topic = (struct sim_mqtt_str){ topic, strlen(topic) };
	/* The broker would drop the connection over a bad topic name. */
	if (p.publish.topic.len == 0 || strpbrk(topic, "+#") != NULL ||
	    !sim_mqtt_utf8_valid(topic, p.publish.topic.len))
		FAIL(SIM_ERR_INVAL);
	p.publish.payload = (struct sim_mqtt_bin){ payload, len };
	p.publish.qos = (uint8_t)qos;
	p.publish.retain = retain;
	if (props != NULL && v5(c)) {
		struct sim_mqtt_pkt_props *pp = &p.props;

		if (props->response_topic != NULL) {
			pp->present |= SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_RESPONSE_TOPIC);
			pp->response_topic = (struct sim_mqtt_str){ props->response_topic,
			    props->response_topic_len };
		}
		if (props->correlation != NULL) {
			pp->present |= SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_CORRELATION);
			pp->correlation = (struct sim_mqtt_bin){ props->correlation,
			    props->correlation_len };
		}
		if (props->has_message_expiry) {
			pp->present |= SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_MESSAGE_EXPIRY);
			pp->message_expiry = props->message_expiry_s;
		}
		pp->user = props->user;
		pp->nuser = props->user != NULL ? props->nuser : 0;
	}
	if (qos == 0) {
		if (c->state != ST_OPEN)
			FAIL(SIM_ERR_NOTCONN);
		TRY(send_pkt(c, &p));
		goto out;
	}
	if (c->npending >= 65535 ||
	    (c->cfg->max_queued != 0 && c->npending - c->nsent >= c->cfg->max_queued))
		FAIL(SIM_ERR_FULL);
	p.publish.packet_id = c->next_id;       /* any non-zero id, to size it */
	TRY(sim_mqtt_encoded_len(&p, c->cfg->version, &plen));
	if (plen > UINT32_MAX)
		FAIL(SIM_ERR_TOOBIG);
	m = malloc(sizeof(*m) + plen);
	if (m == NULL)
		FAIL(SIM_ERR_NOMEM);
	p.publish.packet_id = alloc_id(c);
	TRY(sim_mqtt_encode(&p, c->cfg->version, m->pkt, plen, &plen));
	/* Field by field: a struct assignment may write trailing padding that
	 * overlaps pkt. */
	m->next = NULL;
	m->len = (uint32_t)plen;
	m->id = p.publish.packet_id;
	m->qos = (uint8_t)qos;
	m->state = M_QUEUED;
	m->was_sent = false;
	if (c->tail != NULL)
		c->tail->next = m;
	else
		c->head = m;
	c->tail = m;
	if (c->unsent == NULL)
		c->unsent = m;
	c->npending++;
	if (packet_id != NULL)
		*packet_id = m->id;
	m = NULL;
	/* Queued is accepted: if sending fails now, the connection's error
	 * path takes over and the message goes out after the reconnect. */
	if (c->state == ST_OPEN)
		(void)pump(c);
out:
	free(m);
	return err;
}

static enum sim_err
send_sub(struct sim_mqtt_client *c, enum sim_mqtt_type type, const char *filter, int qos,
    uint16_t *packet_id)
{
	struct sim_mqtt_pkt p = { .type = type };
	struct sim_mqtt_sub s;
	enum sim_err err = SIM_OK;

	if (packet_id != NULL)
		*packet_id = 0;
	if (c == NULL || filter == NULL || qos < 0 || qos > 2)
		FAIL(SIM_ERR_INVAL);
	if (c->state != ST_OPEN)
		FAIL(SIM_ERR_NOTCONN);
	s = (struct sim_mqtt_sub){ { filter, strlen(filter) }, (uint8_t)qos };
	p.subscribe.packet_id = alloc_id(c);
	p.subscribe.topics.v = &s;
	p.subscribe.topics.n = 1;
	TRY(send_pkt(c, &p));
	if (packet_id != NULL)
		*packet_id = p.subscribe.packet_id;
out:
	return err;
}

enum sim_err
sim_mqtt_subscribe(struct sim_mqtt_client *c, const char *filter, int qos, uint16_t *packet_id)
{
	return send_sub(c, SIM_MQTT_SUBSCRIBE, filter, qos, packet_id);
}

enum sim_err
sim_mqtt_unsubscribe(struct sim_mqtt_client *c, const char *filter, uint16_t *packet_id)
{
	return send_sub(c, SIM_MQTT_UNSUBSCRIBE, filter, 0, packet_id);
}

enum sim_err
sim_mqtt_disconnect(struct sim_mqtt_client *c)
{
	return sim_mqtt_disconnect_ex(c, false);
}

enum sim_err
sim_mqtt_disconnect_ex(struct sim_mqtt_client *c, bool end_session)
{
	struct sim_mqtt_pkt p = { .type = SIM_MQTT_DISCONNECT };
	enum sim_err err = SIM_OK;

	/* MQTT 5 lets a client shorten its session expiry at DISCONNECT;
	 * 0 is always allowed (3.14.2.2.2). */
	if (end_session && v5(c) && !c->cfg->clean_session && c->cfg->session_expiry_s != 0) {
		p.props.present |= SIM_MQTT_PROP_BIT(SIM_MQTT_PROP_SESSION_EXPIRY);
		p.props.session_expiry = 0;
	}

	if (c == NULL)
		FAIL(SIM_ERR_INVAL);
	if (c->bev == NULL || c->state == ST_CLOSING)
		FAIL(SIM_ERR_NOTCONN);
	if (c->state != ST_OPEN) {
		/* No session to end yet: just drop the attempt. */
		close_conn(c, SIM_MQTT_CLOSE_REQUESTED, 0, "disconnected before CONNACK");
		goto out;
	}
	stop_gathering(c);
	TRY(send_pkt(c, &p));
	c->state = ST_CLOSING;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		/* emit wrote it all: no write callback will come. */
		close_conn(c, SIM_MQTT_CLOSE_REQUESTED, 0, "disconnected");
		goto out;
	}
	reads_off(c);
	arm(c, CLOSE_GRACE_MS);
out:
	return err;
}

void
sim_mqtt_abort(struct sim_mqtt_client *c)
{
	if (c != NULL)
		close_conn(c, SIM_MQTT_CLOSE_REQUESTED, 0, "aborted");
}

void
sim_mqtt_cork(struct sim_mqtt_client *c, bool corked)
{
	if (c == NULL)
		return;
	if (!corked)
		sim_mqtt_flush(c);
	c->corked = corked;
}

void
sim_mqtt_flush(struct sim_mqtt_client *c)
{
	if (c == NULL || c->cork_len == 0)
		return;
	write_gathered(c, c->cork, c->cork_len);
	c->cork_len = 0;
}

void
sim_mqtt_freeze(struct sim_mqtt_client *c, bool frozen)
{
	if (c == NULL || c->bev == NULL || c->frozen == frozen)
		return;
	c->frozen = frozen;
	if (frozen) {
		reads_off(c);
		bufferevent_disable(c->bev, EV_WRITE);
	} else {
		if (c->state != ST_CLOSING)
			reads_on(c);
		bufferevent_enable(c->bev, EV_WRITE);
	}
}

bool
sim_mqtt_is_connected(const struct sim_mqtt_client *c)
{
	return c != NULL && c->state == ST_OPEN;
}

size_t
sim_mqtt_pending(const struct sim_mqtt_client *c)
{
	return c != NULL ? c->npending : 0;
}

size_t
sim_mqtt_inflight(const struct sim_mqtt_client *c)
{
	return c != NULL ? c->nsent : 0;
}

void
sim_mqtt_stats(const struct sim_mqtt_client *c, struct sim_mqtt_stats *out)
{
	if (c != NULL)
		*out = c->st;
	else
		memset(out, 0, sizeof(*out));
}
