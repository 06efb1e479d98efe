/* Scenario loader: YAML text to struct sim_scenario.
 *
 * The text is parsed twice with libyaml. The first pass reads events only,
 * to reject what the schema never needs and what would make the second pass
 * costly or a walk of the tree endless: aliases, anchors, deep nesting and
 * extra documents. The second pass loads a document tree, whose nodes keep
 * their positions, so that every semantic error can name a line and column.
 *
 * --set overrides edit that tree before validation, so their values get
 * exactly the checks the file's get. Nodes they add are numbered after the
 * file's; that is how an error message knows to cite the --set argument
 * (whose index and column the node's mark then holds) instead of the file. */
#include "scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <limits.h>
#include <math.h>

#include <yaml.h>

#include "dev_model.h"
#include "hal_clock.h"
#include "rr_payload.h"
#include "units.h"

#define MAX_TEXT ((size_t)16 << 20)
#define MAX_DEPTH 64
#define MAX_COUNT 10000000u
#define MAX_PAYLOAD ((uint64_t)256 << 20)
#define MAX_MQTT_STRING 65535
#define NS_PER_S UINT64_C(1000000000)

#define DEFAULT_DRAIN_NS (5 * NS_PER_S)
#define DEFAULT_KEEPALIVE_NS (60 * NS_PER_S)
#define DEFAULT_INFLIGHT 64
#define DEFAULT_SIZE 64
#define DEFAULT_ID "{group}-{n}"
#define DEFAULT_TOPIC "devices/{id}/telemetry"
#define DEFAULT_REPORT_DIR "fleetsim-report"

#define MQTT_V311 4
#define MQTT_V5 5

#define DURATION_LIKE "a duration like 250ms, 10s, 1m"

/* The keys each mapping may hold, in the order messages list them. */
static const char *const top_keys[] = {
	"name", "seed", "duration", "drain", "time_scale", "epoch", "target", "fleet", "patterns",
	"assert", "report", NULL,
};
enum { K_NAME, K_SEED, K_DURATION, K_DRAIN, K_TIME_SCALE, K_EPOCH, K_TARGET, K_FLEET, K_PATTERNS,
	K_ASSERT, K_REPORT };

static const char *const target_keys[] = { "url", "tls", "username", "password", NULL };
enum { T_URL, T_TLS, T_USERNAME, T_PASSWORD };

static const char *const tls_keys[] = { "ca", "cert", "key", "verify", NULL };
enum { S_CA, S_CERT, S_KEY, S_VERIFY };

static const char *const group_keys[] = {
	"group", "count", "id", "model", "hal", "mqtt", "connect", "telemetry", NULL,
};
enum { G_GROUP, G_COUNT, G_ID, G_MODEL, G_HAL, G_MQTT, G_CONNECT, G_TELEMETRY };

static const char *const mqtt_keys[] = { "version", "keepalive", "clean_session", NULL };
enum { M_VERSION, M_KEEPALIVE, M_CLEAN };

static const char *const connect_keys[] = { "ramp", "max_inflight", NULL };
enum { C_RAMP, C_INFLIGHT };

static const char *const telemetry_keys[] = {
	"every", "jitter", "qos", "topic", "size", NULL,
};
enum { E_EVERY, E_JITTER, E_QOS, E_TOPIC, E_SIZE };

static const char *const report_keys[] = { "dir", "formats", NULL };
enum { R_DIR, R_FORMATS };
/* In the order of enum sim_report_format's bits. */
static const char *const format_names[] = { "json", "junit", "html", "csv", NULL };

#define MAX_KEYS 24

struct loader {
	const char *file;               /* names the source in messages */
	char *dir;                      /* the file's folder; NULL for the cwd */
	const struct sim_overrides *ov;
	struct sim_scenario *sc;
	struct sim_diag *d;
	yaml_document_t doc;
	bool have_doc;
	int nfile;                      /* nodes 1..nfile came from the file */
};

static yaml_node_t *
node(struct loader *l, int id)
{
	return id > 0 ? yaml_document_get_node(&l->doc, id) : NULL;
}

static bool
quoted(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	    (n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
	    n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

/* The column offset in the file of byte off of scalar n's value. libyaml
 * counts columns in characters, so count those. A value that spans lines
 * or is a block scalar has no simple mapping: point at its start. Escapes
 * in quoted values make the result approximate, which is good enough. */
static size_t
file_offset(const yaml_node_t *n, size_t off)
{
	const unsigned char *v;
	size_t i, chars = 0;

	if (n->type != YAML_SCALAR_NODE || n->start_mark.line != n->end_mark.line ||
	    n->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
	    n->data.scalar.style == YAML_FOLDED_SCALAR_STYLE)
		return 0;
	v = n->data.scalar.value;
	for (i = 0; i < off && i < n->data.scalar.length; i++)
		chars += (v[i] & 0xc0) != 0x80;
	return chars + (quoted(n) ? 1 : 0);
}

/* Reports an error at node id; with inner, at byte off inside its value. */
static enum sim_err __attribute__((format(printf, 5, 0)))
vfail(struct loader *l, int id, bool inner, size_t off, const char *fmt, va_list ap)
{
	yaml_node_t *n = node(l, id);
	char what[800];

	vsnprintf(what, sizeof(what), fmt, ap);
	if (n == NULL) {
		sim_diag_set(l->d, "%s:1:1: %s", l->file, what);
	} else if (id > l->nfile) {
		sim_diag_set(l->d, "--set %s:1:%zu: %s", l->ov->sets[n->start_mark.line],
		    n->start_mark.column + (inner ? off : 0) + 1, what);
	} else {
		sim_diag_set(l->d, "%s:%zu:%zu: %s", l->file, n->start_mark.line + 1,
		    n->start_mark.column + (inner ? file_offset(n, off) : 0) + 1, what);
	}
	return SIM_ERR_SCENARIO;
}

static enum sim_err __attribute__((format(printf, 3, 4)))
fail(struct loader *l, int id, const char *fmt, ...)
{
	va_list ap;
	enum sim_err rv;

	va_start(ap, fmt);
	rv = vfail(l, id, false, 0, fmt, ap);
	va_end(ap);
	return rv;
}

static enum sim_err __attribute__((format(printf, 4, 5)))
fail_at(struct loader *l, int id, size_t off, const char *fmt, ...)
{
	va_list ap;
	enum sim_err rv;

	va_start(ap, fmt);
	rv = vfail(l, id, true, off, fmt, ap);
	va_end(ap);
	return rv;
}

static enum sim_err __attribute__((format(printf, 3, 4)))
fail_mark(struct loader *l, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;
	char what[800];

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	sim_diag_set(l->d, "%s:%zu:%zu: %s", l->file, m.line + 1, m.column + 1, what);
	return SIM_ERR_SCENARIO;
}

static enum sim_err
syntax_error(struct loader *l, const yaml_parser_t *p, const char *text, size_t len)
{
	const char *problem = p->problem != NULL ? p->problem : "syntax error";
	yaml_mark_t m;
	size_t i;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		sim_diag_set(l->d, "%s: out of memory while parsing", l->file);
		return SIM_ERR_NOMEM;
	case YAML_READER_ERROR:
		/* Reader errors carry a byte offset only; count lines and
		 * characters up to it like the scanner would. */
		memset(&m, 0, sizeof(m));
		for (i = 0; i < p->problem_offset && i < len; i++) {
			if (text[i] == '\n') {
				m.line++;
				m.column = 0;
			} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
				m.column++;
			}
		}
		return fail_mark(l, m, "invalid input: %s", problem);
	default:
		if (p->context != NULL)
			return fail_mark(l, p->problem_mark,
			    "invalid YAML: %s (%s at line %zu, column %zu)", problem, p->context,
			    p->context_mark.line + 1, p->context_mark.column + 1);
		return fail_mark(l, p->problem_mark, "invalid YAML: %s", problem);
	}
}

static enum sim_err
no_anchor(struct loader *l, const yaml_event_t *ev, const yaml_char_t *anchor)
{
	if (anchor == NULL)
		return SIM_OK;
	return fail_mark(l, ev->start_mark,
	    "anchors (&%.64s) are not supported; write each value out", (const char *)anchor);
}

/* The event pass: syntax, one document, no anchors or aliases, bounded
 * nesting. An alias bomb is tiny as text but endless to walk. */
static enum sim_err
prescan(struct loader *l, const char *text, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, docs = 0;
	bool done = false;
	enum sim_err rv = SIM_OK;

	if (!yaml_parser_initialize(&p))
		return SIM_ERR_NOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && rv == SIM_OK) {
		if (!yaml_parser_parse(&p, &ev)) {
			rv = syntax_error(l, &p, text, len);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rv = fail_mark(l, ev.start_mark,
				    "expected a single YAML document, found a second one");
			break;
		case YAML_ALIAS_EVENT:
			rv = fail_mark(l, ev.start_mark,
			    "aliases (*%.64s) are not supported; write each value out",
			    (const char *)ev.data.alias.anchor);
			break;
		case YAML_SCALAR_EVENT:
			rv = no_anchor(l, &ev, ev.data.scalar.anchor);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			rv = no_anchor(l, &ev, ev.type == YAML_SEQUENCE_START_EVENT ?
			    ev.data.sequence_start.anchor : ev.data.mapping_start.anchor);
			if (rv == SIM_OK && ++depth > MAX_DEPTH)
				rv = fail_mark(l, ev.start_mark,
				    "expected at most %d levels of nesting", MAX_DEPTH);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rv;
}

static bool
is_null(const yaml_node_t *n)
{
	const char *v;

	if (n == NULL || n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return strcmp(v, "") == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* A value that is there: not absent, not written as null. */
static bool
present(struct loader *l, int id)
{
	return id > 0 && !is_null(node(l, id));
}

static const char *
kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	default: return "a scalar";
	}
}

static const char *
scalar(struct loader *l, int id)
{
	yaml_node_t *n = node(l, id);

	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static void
key_list(const char *const *keys, char *buf, size_t len)
{
	size_t used = 0, i;

	buf[0] = '\0';
	for (i = 0; keys[i] != NULL && used < len; i++) {
		int k = snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "", keys[i]);

		if (k < 0)
			break;
		used += (size_t)k;
	}
}

/* Checks mapping id against keys and fills vals[i] with the value node of
 * keys[i] (0 when absent). where names the mapping in messages. */
static enum sim_err
get_keys(struct loader *l, int id, const char *where, const char *expect,
    const char *const *keys, int *vals)
{
	yaml_node_t *n = node(l, id);
	yaml_node_pair_t *pr;
	int keyids[MAX_KEYS] = { 0 };
	char list[160];
	size_t i;

	if (n->type != YAML_MAPPING_NODE)
		return fail(l, id, "expected %s, not %s", expect, kind(n));
	for (i = 0; keys[i] != NULL; i++)
		vals[i] = 0;
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		const char *k = scalar(l, pr->key);

		if (k == NULL)
			return fail(l, pr->key, "expected a key name in %s, not %s", where,
			    kind(node(l, pr->key)));
		for (i = 0; keys[i] != NULL && strcmp(keys[i], k) != 0; i++)
			;
		if (keys[i] == NULL) {
			key_list(keys, list, sizeof(list));
			return fail(l, pr->key, "unknown key '%.64s' in %s; expected one of: %s",
			    k, where, list);
		}
		if (keyids[i] != 0)
			return fail(l, pr->key, "duplicate key '%s' in %s", k, where);
		keyids[i] = pr->key;
		vals[i] = pr->value;
	}
	return SIM_OK;
}

static enum sim_err
missing(struct loader *l, int map, const char *key, const char *where)
{
	return fail(l, map, "missing key '%s' in %s", key, where);
}

/* Strings are scalars, quoted or not: "name: 1" names the scenario "1". */
static enum sim_err
get_str(struct loader *l, int id, const char *expect, char **out)
{
	const char *s = scalar(l, id);

	if (s == NULL)
		return fail(l, id, "expected %s, not %s", expect, kind(node(l, id)));
	if (s[0] == '\0' || is_null(node(l, id)))
		return fail(l, id, "expected %s, not an empty value", expect);
	if ((*out = strdup(s)) == NULL)
		return SIM_ERR_NOMEM;
	return SIM_OK;
}

static bool
parse_uint(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return true;
}

/* Whole numbers in [min, max]. expect is the message for anything else;
 * toobig, if not NULL, for numbers above max. */
static enum sim_err
get_uint(struct loader *l, int id, uint64_t min, uint64_t max, const char *expect,
    const char *toobig, uint64_t *out)
{
	const char *s = scalar(l, id);
	uint64_t v;

	if (s == NULL)
		return fail(l, id, "%s, not %s", expect, kind(node(l, id)));
	if (s[0] != '\0' && s[strspn(s, "0123456789")] == '\0' && !parse_uint(s, &v) &&
	    toobig != NULL)
		return fail(l, id, "%s", toobig);
	if (!parse_uint(s, &v) || v < min)
		return fail(l, id, "%s", expect);
	if (v > max)
		return fail(l, id, "%s", toobig != NULL ? toobig : expect);
	*out = v;
	return SIM_OK;
}

static enum sim_err
get_bool(struct loader *l, int id, bool *out)
{
	const char *s = scalar(l, id);

	if (s == NULL)
		return fail(l, id, "expected true or false, not %s", kind(node(l, id)));
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
		*out = false;
	else
		return fail(l, id, "expected true or false");
	return SIM_OK;
}

/* Durations; positive demands > 0. */
static enum sim_err
get_duration(struct loader *l, int id, bool positive, uint64_t *out)
{
	const char *s = scalar(l, id);
	uint64_t ns;
	enum rpt_err e;

	if (s == NULL)
		return fail(l, id, "expected " DURATION_LIKE ", not %s", kind(node(l, id)));
	e = rpt_parse_duration(s, &ns);
	if (e == RPT_ERR_NOMEM)
		return SIM_ERR_NOMEM;
	if (e != RPT_OK && s[0] == '-')
		return fail(l, id, "expected a duration >= 0, like 250ms, 10s, 1m");
	if (e == RPT_ERR_RANGE)
		return fail(l, id, "expected a duration below 292 years");
	if (e != RPT_OK) {
		if (s[0] != '\0' && s[strspn(s, "0123456789.")] == '\0')
			return fail(l, id, "expected " DURATION_LIKE " (a number needs a unit)");
		return fail(l, id, "expected " DURATION_LIKE);
	}
	if (positive && ns == 0)
		return fail(l, id, "expected a duration > 0, like 250ms, 10s, 1m");
	*out = ns;
	return SIM_OK;
}

static enum sim_err
get_size(struct loader *l, int id, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s = scalar(l, id);
	uint64_t b;
	enum rpt_err e;

	if (s == NULL)
		return fail(l, id, "expected a size like 128, 4KB, 1MB, not %s", kind(node(l, id)));
	e = rpt_parse_size(s, &b);
	if (e == RPT_ERR_NOMEM)
		return SIM_ERR_NOMEM;
	if (e != RPT_OK && e != RPT_ERR_RANGE)
		return fail(l, id, "expected a size like 128, 4KB, 1MB");
	if (e == RPT_ERR_RANGE || b < min || b > max)
		return fail(l, id, "expected a size from %" PRIu64 "B to %" PRIu64 "MB",
		    min, max >> 20);
	*out = b;
	return SIM_OK;
}

static enum sim_err
get_tmpl(struct loader *l, int id, unsigned allowed, const char *expect, struct sim_tmpl **out)
{
	const char *s = scalar(l, id);
	char err[256];
	size_t col = 0;
	enum sim_err rv;

	if (s == NULL)
		return fail(l, id, "expected %s, not %s", expect, kind(node(l, id)));
	rv = sim_tmpl_compile(s, allowed, out, err, sizeof(err), &col);
	if (rv == SIM_ERR_SCENARIO)
		return fail_at(l, id, col, "%s", err);
	return rv;
}

static struct sim_pos
pos_of(struct loader *l, int id)
{
	yaml_node_t *n = node(l, id);
	struct sim_pos p = { 0, 0 };

	/* A value from --set has no place in the file. */
	if (n != NULL && id <= l->nfile) {
		p.line = (unsigned)n->start_mark.line + 1;
		p.col = (unsigned)n->start_mark.column + 1;
	}
	return p;
}

/* Errors in a URL: at its place in the file, or naming --broker. */
static enum sim_err __attribute__((format(printf, 4, 5)))
url_fail(struct loader *l, int id, size_t off, const char *fmt, ...)
{
	va_list ap;
	char what[800];

	va_start(ap, fmt);
	if (id > 0) {
		enum sim_err rv = vfail(l, id, true, off, fmt, ap);

		va_end(ap);
		return rv;
	}
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	sim_diag_set(l->d, "--broker: %s (in '%.200s', at column %zu)", what,
	    l->ov->broker_url, off + 1);
	return SIM_ERR_SCENARIO;
}

/* mqtt[s]://HOST[:PORT][/], HOST a name, an IPv4 address or [IPv6]. */
static enum sim_err
parse_url(struct loader *l, int id, const char *url, struct sim_target *t)
{
	const char *p, *h, *hend;
	struct in6_addr a6;
	struct in_addr a4;
	char host[256];
	size_t hlen, i;
	uint64_t port = 0;
	bool numeric = true;

	if (strncasecmp(url, "mqtt://", 7) == 0) {
		t->tls = false;
		t->port = 1883;
		p = url + 7;
	} else if (strncasecmp(url, "mqtts://", 8) == 0) {
		t->tls = true;
		t->port = 8883;
		p = url + 8;
	} else {
		return url_fail(l, id, 0, "expected a url starting with mqtt:// or mqtts://");
	}
	if ((h = strchr(p, '@')) != NULL)
		return url_fail(l, id, (size_t)(h - url),
		    "expected no user in the url; use the username: and password: keys");
	if (*p == '[') {
		h = p + 1;
		if ((hend = strchr(h, ']')) == NULL)
			return url_fail(l, id, (size_t)(p - url), "unclosed '[' in the url's host");
		p = hend + 1;
	} else {
		h = p;
		hend = p + strcspn(p, ":/");
		p = hend;
	}
	hlen = (size_t)(hend - h);
	if (hlen == 0 || hlen >= sizeof(host))
		return url_fail(l, id, (size_t)(h - url), "expected a host name or address");
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (h[-1] == '[') {
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return url_fail(l, id, (size_t)(h - url), "expected an IPv6 address in [ ]");
	} else {
		for (i = 0; i < hlen; i++) {
			char c = host[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
				return url_fail(l, id, (size_t)(h - url) + i,
				    (unsigned char)c > ' ' && (unsigned char)c < 0x7f ?
				    "unexpected '%c' in the host name" :
				    "unexpected byte 0x%02x in the host name", (unsigned char)c);
			if (!((c >= '0' && c <= '9') || c == '.'))
				numeric = false;
		}
		if (numeric && inet_pton(AF_INET, host, &a4) != 1)
			return url_fail(l, id, (size_t)(h - url), "expected an IPv4 address");
	}
	if (*p == ':') {
		const char *ps = ++p;
		char digits[8];
		size_t n = strspn(p, "0123456789");

		if (n == 0 || n >= sizeof(digits))
			return url_fail(l, id, (size_t)(ps - url), "expected a port from 1 to 65535");
		memcpy(digits, p, n);
		digits[n] = '\0';
		if (!parse_uint(digits, &port) || port < 1 || port > 65535)
			return url_fail(l, id, (size_t)(ps - url), "expected a port from 1 to 65535");
		t->port = (uint16_t)port;
		p += n;
	}
	if (*p == '/')
		p++;
	if (*p != '\0')
		return url_fail(l, id, (size_t)(p - url),
		    "expected nothing after the host and port (MQTT urls have no path)");
	if ((t->url = strdup(url)) == NULL || (t->host = strdup(host)) == NULL)
		return SIM_ERR_NOMEM;
	return SIM_OK;
}

/* A TLS file: resolved against the scenario's folder; it must be readable. */
static enum sim_err
get_file(struct loader *l, int id, const char *what, char **out)
{
	char *path = NULL, *joined = NULL;
	enum sim_err rv;

	if ((rv = get_str(l, id, "a file path", &path)) != SIM_OK)
		goto out;
	if (path[0] != '/' && l->dir != NULL) {
		if (asprintf(&joined, "%s%s%s", l->dir, strcmp(l->dir, "/") == 0 ? "" : "/",
		    path) < 0) {
			joined = NULL;
			rv = SIM_ERR_NOMEM;
			goto out;
		}
		free(path);
		path = joined;
	}
	if (access(path, R_OK) != 0) {
		rv = fail(l, id, "cannot read the %s file %.300s: %s", what, path, strerror(errno));
		goto out;
	}
	*out = path;
	path = NULL;

out:
	free(path);
	return rv;
}

static enum sim_err
load_tls(struct loader *l, int id, struct sim_tls_cfg *c)
{
	int v[MAX_KEYS];
	enum sim_err rv;

	c->verify = true;
	if (!present(l, id))
		return SIM_OK;
	if ((rv = get_keys(l, id, "tls", "a mapping like { ca: ca.pem, verify: true }",
	    tls_keys, v)) != SIM_OK)
		return rv;
	if (present(l, v[S_CA]) && (rv = get_file(l, v[S_CA], "ca", &c->ca)) != SIM_OK)
		return rv;
	if (present(l, v[S_CERT]) && (rv = get_file(l, v[S_CERT], "cert", &c->cert)) != SIM_OK)
		return rv;
	if (present(l, v[S_KEY]) && (rv = get_file(l, v[S_KEY], "key", &c->key)) != SIM_OK)
		return rv;
	if ((c->cert == NULL) != (c->key == NULL))
		return fail(l, id, "expected cert and key together; %s is missing",
		    c->cert == NULL ? "cert" : "key");
	if (present(l, v[S_VERIFY]) && (rv = get_bool(l, v[S_VERIFY], &c->verify)) != SIM_OK)
		return rv;
	return SIM_OK;
}

static enum sim_err
load_target(struct loader *l, int id, struct sim_target *t)
{
	const char *broker = l->ov != NULL ? l->ov->broker_url : NULL;
	unsigned vars = SIM_TMPL_ID | SIM_TMPL_N | SIM_TMPL_GROUP;
	int v[MAX_KEYS] = { 0 };
	const char *url;
	enum sim_err rv;

	t->tls_cfg.verify = true;
	if (present(l, id)) {
		if ((rv = get_keys(l, id, "target", "a mapping like { url: mqtt://host:1883 }",
		    target_keys, v)) != SIM_OK)
			return rv;
		t->given = true;
	}
	if (broker != NULL) {
		if ((rv = parse_url(l, 0, broker, t)) != SIM_OK)
			return rv;
		t->given = true;
	} else if (t->given) {
		if (!present(l, v[T_URL]))
			return v[T_URL] != 0 ? fail(l, v[T_URL], "expected a url like mqtt://host:1883") :
			    missing(l, id, "url", "target");
		if ((url = scalar(l, v[T_URL])) == NULL)
			return fail(l, v[T_URL], "expected a url like mqtt://host:1883, not %s",
			    kind(node(l, v[T_URL])));
		if ((rv = parse_url(l, v[T_URL], url, t)) != SIM_OK)
			return rv;
	}
	if (present(l, v[T_TLS]) && !t->tls)
		return fail(l, v[T_TLS], "tls needs an mqtts:// url%s",
		    broker != NULL ? " (the url comes from --broker)" : "");
	if ((rv = load_tls(l, v[T_TLS], &t->tls_cfg)) != SIM_OK)
		return rv;
	if (present(l, v[T_USERNAME]) && (rv = get_tmpl(l, v[T_USERNAME], vars,
	    "a user name template", &t->username)) != SIM_OK)
		return rv;
	if (present(l, v[T_PASSWORD]) && (rv = get_tmpl(l, v[T_PASSWORD], vars,
	    "a password template", &t->password)) != SIM_OK)
		return rv;
	return SIM_OK;
}

/* Offset of the first byte of s in set, or -1. */
static long
find_any(const char *s, const char *set)
{
	size_t n = strcspn(s, set);

	return s[n] != '\0' ? (long)n : -1;
}

/* What any topic name's source text must be, whatever its variables
 * render to: not empty, free of wildcards, and outside the '$' topics the
 * broker reserves. */
static enum sim_err
check_topic_text(struct loader *l, int id, const char *src)
{
	long off;

	if (src[0] == '\0')
		return fail(l, id, "expected a topic name, not an empty string");
	if ((off = find_any(src, "+#")) >= 0)
		return fail_at(l, id, (size_t)off,
		    "'%c' is a wildcard; a topic name cannot contain '+' or '#'", src[off]);
	if (src[0] == '$')
		return fail(l, id, "topics starting with '$' are reserved for the broker");
	return SIM_OK;
}

/* The topic must render to a valid topic name for every device: no
 * wildcards, and no '/' from a variable, which would also break the
 * subscription filter the consumer derives from it. */
static enum sim_err
check_topic(struct loader *l, struct sim_group *g, int gid, int idid, int topicid)
{
	const struct sim_telemetry_cfg *tm = &g->telemetry;
	const char *src = sim_tmpl_source(tm->topic);
	unsigned uses = sim_tmpl_uses(tm->topic);
	struct sim_tmpl_vals vals = { .n = g->count - 1, .group = g->name };
	size_t idlen, topiclen;
	char *id;
	long off;
	enum sim_err rv;

	if ((rv = check_topic_text(l, topicid, src)) != SIM_OK)
		return rv;
	/* Group names are checked to be one path segment where they are read. */
	if ((uses & SIM_TMPL_ID) && (off = find_any(sim_tmpl_source(g->id), "/+#")) >= 0)
		return fail_at(l, idid, (size_t)off,
		    "the topic uses the id, so it cannot contain '/', '+' or '#'");
	/* The largest n renders the longest id and topic. */
	idlen = sim_tmpl_render(g->id, &vals, NULL, 0);
	if (idlen > MAX_MQTT_STRING)
		return fail(l, idid, "expected ids of at most %d bytes", MAX_MQTT_STRING);
	if ((id = malloc(idlen + 1)) == NULL)
		return SIM_ERR_NOMEM;
	sim_tmpl_render(g->id, &vals, id, idlen + 1);
	vals.id = id;
	topiclen = sim_tmpl_render(tm->topic, &vals, NULL, 0);
	free(id);
	if (topiclen > MAX_MQTT_STRING)
		return fail(l, topicid, "expected topics of at most %d bytes", MAX_MQTT_STRING);
	return SIM_OK;
}

static enum sim_err
load_telemetry(struct loader *l, int id, struct sim_group *g, int gid, int idid)
{
	struct sim_telemetry_cfg *tm = &g->telemetry;
	int v[MAX_KEYS];
	uint64_t x;
	enum sim_err rv;

	if ((rv = get_keys(l, id, "telemetry", "a mapping like { every: 1s, qos: 1 }",
	    telemetry_keys, v)) != SIM_OK)
		return rv;
	tm->enabled = true;
	if (!present(l, v[E_EVERY]) && (g->model == NULL || g->model->every_ns == 0 ||
	    v[E_EVERY] != 0))
		return v[E_EVERY] != 0 ? get_duration(l, v[E_EVERY], true, &x) :
		    missing(l, id, "every", "telemetry");
	if (present(l, v[E_EVERY]) && (rv = get_duration(l, v[E_EVERY], true, &tm->every_ns)) !=
	    SIM_OK)
		return rv;
	if (present(l, v[E_JITTER])) {
		if ((rv = get_duration(l, v[E_JITTER], false, &tm->jitter_ns)) != SIM_OK)
			return rv;
		/* Beyond half the period, send k+1 could be due before send
		 * k, and a device sends in order. */
		if (tm->jitter_ns > tm->every_ns / 2)
			return fail(l, v[E_JITTER], "expected a jitter no larger than half of every");
	}
	if (present(l, v[E_QOS])) {
		if ((rv = get_uint(l, v[E_QOS], 0, 2, "expected a qos of 0, 1 or 2", NULL,
		    &x)) != SIM_OK)
			return rv;
		tm->qos = (int)x;
		tm->qos_given = true;
	}
	if (present(l, v[E_TOPIC]))
		rv = get_tmpl(l, v[E_TOPIC], SIM_TMPL_ID | SIM_TMPL_N | SIM_TMPL_GROUP,
		    "a topic template like devices/{id}/telemetry", &tm->topic);
	else
		rv = sim_tmpl_compile(DEFAULT_TOPIC, SIM_TMPL_ID | SIM_TMPL_N | SIM_TMPL_GROUP,
		    &tm->topic, NULL, 0, NULL);
	if (rv != SIM_OK)
		return rv;
	if ((rv = check_topic(l, g, gid, idid, present(l, v[E_TOPIC]) ? v[E_TOPIC] : id)) !=
	    SIM_OK)
		return rv;
	tm->size = DEFAULT_SIZE;
	tm->model_payload = g->model != NULL && (g->model->payload != NULL || g->model->has_frame);
	if (present(l, v[E_SIZE])) {
		tm->model_payload = false;
		if ((rv = get_size(l, v[E_SIZE], SIM_TELEMETRY_MIN_SIZE, MAX_PAYLOAD, &x)) != SIM_OK)
			return rv;
		tm->size = (uint32_t)x;
	}
	return SIM_OK;
}

static enum sim_err
load_mqtt(struct loader *l, int id, struct sim_group *g)
{
	int v[MAX_KEYS];
	const char *s;
	uint64_t ns;
	enum sim_err rv;

	if (!present(l, id))
		return SIM_OK;
	if ((rv = get_keys(l, id, "mqtt", "a mapping like { version: \"5\", keepalive: 60s }",
	    mqtt_keys, v)) != SIM_OK)
		return rv;
	if (present(l, v[M_VERSION])) {
		/* Both "5" and 5 arrive here as the scalar text 5. */
		s = scalar(l, v[M_VERSION]);
		if (s != NULL && strcmp(s, "3.1.1") == 0)
			g->mqtt_version = MQTT_V311;
		else if (s != NULL && strcmp(s, "5") == 0)
			g->mqtt_version = MQTT_V5;
		else
			return fail(l, v[M_VERSION], "expected an MQTT version \"3.1.1\" or \"5\"");
	}
	if (present(l, v[M_KEEPALIVE])) {
		if ((rv = get_duration(l, v[M_KEEPALIVE], false, &ns)) != SIM_OK)
			return rv;
		if (ns % NS_PER_S != 0 || ns / NS_PER_S > 65535)
			return fail(l, v[M_KEEPALIVE],
			    "expected a keepalive in whole seconds from 0s to 65535s");
		g->keepalive_ns = ns;
	}
	if (present(l, v[M_CLEAN]) && (rv = get_bool(l, v[M_CLEAN], &g->clean_session)) != SIM_OK)
		return rv;
	return SIM_OK;
}

static enum sim_err
load_connect(struct loader *l, int id, struct sim_group *g)
{
	int v[MAX_KEYS];
	uint64_t x;
	enum sim_err rv;

	if (!present(l, id))
		return SIM_OK;
	if ((rv = get_keys(l, id, "connect", "a mapping like { ramp: 10s, max_inflight: 64 }",
	    connect_keys, v)) != SIM_OK)
		return rv;
	if (present(l, v[C_RAMP]) && (rv = get_duration(l, v[C_RAMP], false, &g->ramp_ns)) !=
	    SIM_OK)
		return rv;
	if (present(l, v[C_INFLIGHT])) {
		if ((rv = get_uint(l, v[C_INFLIGHT], 1, UINT32_MAX, "expected a whole number >= 1",
		    "expected at most 4294967295", &x)) != SIM_OK)
			return rv;
		g->connect_max_inflight = (uint32_t)x;
	}
	return SIM_OK;
}

/* Device models: model files and a group's hal: overrides.
 *
 * A model file is parsed by a loader of its own (same checks, its own
 * file name in messages), into a struct dev_model; a group's hal:
 * mapping then patches that model with the scenario's loader. Both go
 * through the same functions, which set only the keys that are present,
 * so an override is exactly a model key written in another place.
 * Problems dev_model_check finds after both are cited at the node that
 * last set the setting, whichever file it is in. */

#define MODEL_EXT ".yaml"

static enum sim_err parse(struct loader *l, const char *text, size_t len);

/* Where each part of a model was last set, for dev_model_check's
 * problems. The loaders are alive until the check is done. */
struct srcref {
	struct loader *l;
	int id;
};

struct model_src {
	struct srcref model, behaviour, payload, flash, power, link, frame;
	struct srcref *sensors, *actuators, *commands, *responses;
	size_t cap_s, cap_a, cap_c, cap_r;
};

static const char *const model_keys[] = {
	"model", "description", "behaviour", "sensors", "actuators", "commands", "flash",
	"power", "boot", "link", "clock", "telemetry", NULL,
};
enum { MK_MODEL, MK_DESC, MK_BEHAVIOUR, MK_SENSORS, MK_ACTUATORS, MK_COMMANDS, MK_FLASH,
	MK_POWER, MK_BOOT, MK_LINK, MK_CLOCK, MK_TELEMETRY };

static const char *const hal_keys[] = {
	"sensors", "actuators", "flash", "power", "boot", "link", "clock", NULL,
};
enum { HK_SENSORS, HK_ACTUATORS, HK_FLASH, HK_POWER, HK_BOOT, HK_LINK, HK_CLOCK };

static const char *const sensor_keys[] = {
	"gen", "value", "min", "max", "mean", "sd", "amplitude", "period", "phase", "start",
	"step_sd", "step_time", "lower", "upper", "points", "file", "linear", "rate", "rate_sd",
	"noise", "faults", NULL,
};
enum { SK_GEN, SK_VALUE, SK_MIN, SK_MAX, SK_MEAN, SK_SD, SK_AMPLITUDE, SK_PERIOD, SK_PHASE,
	SK_START, SK_STEP_SD, SK_STEP_TIME, SK_LOWER, SK_UPPER, SK_POINTS, SK_FILE, SK_LINEAR,
	SK_RATE, SK_RATE_SD, SK_NOISE, SK_FAULTS, SK_COUNT };

/* The parameter keys each generator takes, in the order of enum hal_gen. */
static const char *const gen_params[][8] = {
	{ "value", NULL },
	{ "min", "max", NULL },
	{ "mean", "sd", NULL },
	{ "mean", "amplitude", "period", "phase", NULL },
	{ "start", "step_sd", "step_time", "lower", "upper", NULL },
	{ "points", "period", NULL },
	{ "file", "period", "linear", NULL },
	{ "start", "rate", "rate_sd", NULL },
};

static const char *const fault_keys[] = { "rate", "duration", "schedule", "slope", "magnitude",
	NULL };
enum { FK_RATE, FK_DURATION, FK_SCHEDULE, FK_SLOPE, FK_MAGNITUDE };

static const char *const actuator_keys[] = {
	"kind", "initial", "min", "max", "tau", "sensor", "gain", "offset", "travel_time", "jam",
	"persist", NULL,
};
enum { AK_KIND, AK_INITIAL, AK_MIN, AK_MAX, AK_TAU, AK_SENSOR, AK_GAIN, AK_OFFSET, AK_TRAVEL,
	AK_JAM, AK_PERSIST };
static const char *const actuator_kinds[] = { "switch", "setpoint", "position", NULL };

static const char *const command_keys[] = {
	"set", "value", "flash_put", "flash_del", "reboot", "status", "response", "delay", "fail",
	NULL,
};
enum { CK_SET, CK_VALUE, CK_PUT, CK_DEL, CK_REBOOT, CK_STATUS, CK_RESPONSE, CK_DELAY, CK_FAIL };

static const char *const flash_keys[] = { "capacity", "write_latency", "write_fail", "dir", NULL };
enum { FL_CAPACITY, FL_LATENCY, FL_FAIL, FL_DIR };

static const char *const power_keys[] = { "battery", "drain", "tx", "cutoff", "reboot", "crash",
	NULL };
enum { PK_BATTERY, PK_DRAIN, PK_TX, PK_CUTOFF, PK_REBOOT, PK_CRASH };
static const char *const battery_keys[] = { "capacity", "voltage", NULL };
static const char *const reboot_keys[] = { "mtbf", "at", NULL };
static const char *const crash_keys[] = { "mtbf", NULL };
static const char *const boot_keys[] = { "time", NULL };

static const char *const link_keys[] = { "latency", "bandwidth", "disconnect", "partitions",
	"half_open", NULL };
enum { LK_LATENCY, LK_BANDWIDTH, LK_DISCONNECT, LK_PARTITIONS, LK_HALF_OPEN };
static const char *const disconnect_keys[] = { "mtbf", "mttr", NULL };
static const char *const half_open_keys[] = { "at", "mtbf", "duration", NULL };
static const char *const window_keys[] = { "from", "to", NULL };
static const char *const clock_keys[] = { "skew", "drift_ppm", NULL };
static const char *const mtelemetry_keys[] = { "every", "qos", "payload", "frame", NULL };
enum { MT_EVERY, MT_QOS, MT_PAYLOAD, MT_FRAME };
static const char *const frame_keys[] = { "size", "min", "max", NULL };
static const char *const dist_keys[] = { "dist", "value", "min", "max", "mean", "sd", "median",
	"sigma", NULL };
enum { DK_DIST, DK_VALUE, DK_MIN, DK_MAX, DK_MEAN, DK_SD, DK_MEDIAN, DK_SIGMA };
static const char *const dist_names[] = { "fixed", "uniform", "normal", "lognormal", NULL };

/* A number with one of the given unit suffixes, scaled by its factor. */
struct unit {
	const char *suffix;
	double factor;
};

static enum sim_err
get_number(struct loader *l, int id, const struct unit *units, const char *expect, double *out)
{
	const char *s = scalar(l, id);
	char *end;
	double x;

	if (s == NULL)
		return fail(l, id, "expected %s, not %s", expect, kind(node(l, id)));
	errno = 0;
	x = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(x))
		return fail(l, id, "expected %s", expect);
	while (*end == ' ')
		end++;
	for (size_t i = 0; units != NULL && units[i].suffix != NULL; i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			*out = x * units[i].factor;
			return SIM_OK;
		}
	}
	if (*end == '\0' && units == NULL) {
		*out = x;
		return SIM_OK;
	}
	return fail(l, id, "expected %s", expect);
}

static enum sim_err
get_real(struct loader *l, int id, double *out)
{
	return get_number(l, id, NULL, "a number like 21.5", out);
}

/* A parameter that may be absent (id 0): then *out keeps its value. */
static enum sim_err
opt_real(struct loader *l, int id, double *out)
{
	return id == 0 ? SIM_OK : get_real(l, id, out);
}

static enum sim_err
opt_time(struct loader *l, int id, int64_t *out)
{
	uint64_t x;
	enum sim_err rv;

	if (id == 0)
		return SIM_OK;
	if ((rv = get_duration(l, id, false, &x)) != SIM_OK)
		return rv;
	if (x > INT64_MAX)
		return fail(l, id, "expected a duration below 292 years");
	*out = (int64_t)x;
	return SIM_OK;
}

static enum sim_err
get_prob(struct loader *l, int id, double *out)
{
	enum sim_err rv = get_number(l, id, NULL, "a probability from 0 to 1, like 0.01", out);

	if (rv == SIM_OK && (*out < 0 || *out > 1))
		return fail(l, id, "expected a probability from 0 to 1, like 0.01");
	return rv;
}

/* Rates are stored per hour, as hal-sim takes them. */
static enum sim_err
get_rate(struct loader *l, int id, double *out)
{
	static const struct unit u[] = {
		{ "/s", 3600 }, { "/m", 60 }, { "/min", 60 }, { "/h", 1 }, { "/d", 1.0 / 24 },
		{ NULL, 0 },
	};
	enum sim_err rv = get_number(l, id, u, "a rate like 2/h (per s, m, h or d)", out);

	if (rv == SIM_OK && *out < 0)
		return fail(l, id, "expected a rate >= 0, like 2/h");
	return rv;
}

/* A duration that may be negative (a clock skew). */
static enum sim_err
get_sduration(struct loader *l, int id, int64_t *out)
{
	const char *s = scalar(l, id);
	uint64_t ns;
	enum rpt_err e;

	if (s == NULL || s[0] != '-') {
		enum sim_err rv = get_duration(l, id, false, &ns);

		if (rv == SIM_OK && ns > INT64_MAX)
			return fail(l, id, "expected a duration below 292 years");
		*out = (int64_t)ns;
		return rv;
	}
	e = rpt_parse_duration(s + 1, &ns);
	if (e != RPT_OK || ns > INT64_MAX)
		return fail(l, id, "expected a duration like -1.5s or 200ms");
	*out = -(int64_t)ns;
	return SIM_OK;
}

static enum sim_err
get_name_in(struct loader *l, int id, const char *const *names, const char *what, int *out)
{
	const char *s = scalar(l, id);
	char list[160];

	for (int i = 0; s != NULL && names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return SIM_OK;
		}
	}
	key_list(names, list, sizeof(list));
	return fail(l, id, "expected %s: %s", what, list);
}

static size_t
seq_len(struct loader *l, int id)
{
	yaml_node_t *n = node(l, id);

	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static int
seq_item(struct loader *l, int id, size_t i)
{
	return node(l, id)->data.sequence.items.start[i];
}

/* A list of { from: T1, to: T2 } windows, sorted and disjoint, into
 * (start, end) pairs of 64-bit ns; *out is owned by the caller. */
static enum sim_err
get_windows(struct loader *l, int id, uint64_t **out, size_t *n)
{
	const char *expect = "a list of windows like [ { from: 10s, to: 20s } ]";
	uint64_t *w = NULL;
	size_t count;
	enum sim_err rv = SIM_OK;

	if (node(l, id)->type != YAML_SEQUENCE_NODE)
		return fail(l, id, "expected %s, not %s", expect, kind(node(l, id)));
	count = seq_len(l, id);
	if (count > 0 && (w = calloc(count, 2 * sizeof(*w))) == NULL)
		return SIM_ERR_NOMEM;
	for (size_t i = 0; i < count; i++) {
		int item = seq_item(l, id, i), v[MAX_KEYS];

		if ((rv = get_keys(l, item, "a window", expect, window_keys, v)) != SIM_OK)
			goto out;
		if (v[0] == 0 || v[1] == 0) {
			rv = missing(l, item, v[0] == 0 ? "from" : "to", "the window");
			goto out;
		}
		if ((rv = get_duration(l, v[0], false, &w[2 * i])) != SIM_OK ||
		    (rv = get_duration(l, v[1], false, &w[2 * i + 1])) != SIM_OK)
			goto out;
		if (w[2 * i + 1] <= w[2 * i]) {
			rv = fail(l, v[1], "expected 'to' after 'from'");
			goto out;
		}
		if (i > 0 && w[2 * i] < w[2 * i - 1]) {
			rv = fail(l, item, "expected windows in order, not overlapping");
			goto out;
		}
	}
	*out = w;
	*n = count;
	w = NULL;
out:
	free(w);
	return rv;
}

/* A distribution: a plain value (fixed) or { dist: ..., params }.
 * sizes reads byte sizes instead of durations. */
static enum sim_err
get_dist(struct loader *l, int id, bool sizes, struct dev_dist *d)
{
	const char *expect = sizes ? "a size like 600KB or { dist: lognormal, median: 600KB, "
	    "sigma: 0.7 }" : "a duration like 20ms or { dist: uniform, min: 5ms, max: 50ms }";
	int v[MAX_KEYS], k = DEV_DIST_FIXED;
	enum sim_err rv;

#define GETQ(node_, dst_) do {							\
	uint64_t q_;								\
	rv = sizes ? get_size(l, node_, 0, MAX_PAYLOAD, &q_) :			\
	    get_duration(l, node_, false, &q_);					\
	if (rv != SIM_OK)							\
		return rv;							\
	(dst_) = (double)q_;							\
} while (0)

	memset(d, 0, sizeof(*d));
	if (node(l, id)->type == YAML_SCALAR_NODE) {
		GETQ(id, d->a);
		return SIM_OK;
	}
	if ((rv = get_keys(l, id, "a distribution", expect, dist_keys, v)) != SIM_OK)
		return rv;
	if (v[DK_DIST] == 0)
		return missing(l, id, "dist", "the distribution");
	if ((rv = get_name_in(l, v[DK_DIST], dist_names, "a distribution", &k)) != SIM_OK)
		return rv;
	d->kind = (enum dev_dist_kind)k;
	switch (d->kind) {
	case DEV_DIST_FIXED:
		if (v[DK_VALUE] == 0)
			return missing(l, id, "value", "the fixed distribution");
		GETQ(v[DK_VALUE], d->a);
		break;
	case DEV_DIST_UNIFORM:
		if (v[DK_MIN] == 0 || v[DK_MAX] == 0)
			return missing(l, id, v[DK_MIN] == 0 ? "min" : "max", "the uniform distribution");
		GETQ(v[DK_MIN], d->a);
		GETQ(v[DK_MAX], d->b);
		if (d->b < d->a)
			return fail(l, v[DK_MAX], "expected max >= min");
		return SIM_OK;  /* min and max are its bounds, not a clamp */
	case DEV_DIST_NORMAL:
		if (v[DK_MEAN] == 0 || v[DK_SD] == 0)
			return missing(l, id, v[DK_MEAN] == 0 ? "mean" : "sd", "the normal distribution");
		GETQ(v[DK_MEAN], d->a);
		GETQ(v[DK_SD], d->b);
		break;
	case DEV_DIST_LOGNORMAL:
		if (v[DK_MEDIAN] == 0 || v[DK_SIGMA] == 0)
			return missing(l, id, v[DK_MEDIAN] == 0 ? "median" : "sigma",
			    "the lognormal distribution");
		GETQ(v[DK_MEDIAN], d->a);
		if ((rv = get_real(l, v[DK_SIGMA], &d->b)) != SIM_OK)
			return rv;
		if (d->b < 0)
			return fail(l, v[DK_SIGMA], "expected a sigma >= 0");
		break;
	}
	if (v[DK_MIN] != 0)
		GETQ(v[DK_MIN], d->min);
	if (v[DK_MAX] != 0)
		GETQ(v[DK_MAX], d->max);
#undef GETQ
	return SIM_OK;
}

static enum sim_err
grow_ref(struct srcref **refs, size_t *cap, size_t want)
{
	struct srcref *p;

	if (want <= *cap)
		return SIM_OK;
	if ((p = realloc(*refs, want * sizeof(*p))) == NULL)
		return SIM_ERR_NOMEM;
	memset(p + *cap, 0, (want - *cap) * sizeof(*p));
	*refs = p;
	*cap = want;
	return SIM_OK;
}

/* Finds or adds a named element of an array of structs whose first
 * member is char *name. */
static enum sim_err
find_or_add(void **arr, size_t *n, size_t size, const char *name, size_t *idx, bool *added)
{
	char *base = *arr, *p;

	for (size_t i = 0; i < *n; i++) {
		if (strcmp(*(char **)(base + i * size), name) == 0) {
			*idx = i;
			*added = false;
			return SIM_OK;
		}
	}
	if ((p = realloc(base, (*n + 1) * size)) == NULL)
		return SIM_ERR_NOMEM;
	memset(p + *n * size, 0, size);
	if ((*(char **)(p + *n * size) = strdup(name)) == NULL) {
		*arr = p;
		return SIM_ERR_NOMEM;
	}
	*arr = p;
	*idx = (*n)++;
	*added = true;
	return SIM_OK;
}

/* Element names become template fields and flash keys. */
static enum sim_err
check_elem_name(struct loader *l, int id, const char *name)
{
	if (name[0] == '\0' || strlen(name) > HAL_SENSOR_NAME_MAX || strspn(name,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(name))
		return fail(l, id, "expected a name of letters, digits, '_' and '-' (at most %d), "
		    "got '%.64s'", HAL_SENSOR_NAME_MAX, name);
	return SIM_OK;
}

static enum sim_err
load_fault(struct loader *l, int id, struct hal_fault_config *f, enum hal_fault which)
{
	int v[MAX_KEYS];
	uint64_t x, *w = NULL;
	size_t n = 0;
	enum sim_err rv;

	if ((rv = get_keys(l, id, "the fault", "a mapping like { rate: 1/h, duration: 5m }",
	    fault_keys, v)) != SIM_OK)
		return rv;
	if (v[FK_SLOPE] != 0 && which != HAL_FAULT_DRIFT)
		return fail(l, v[FK_SLOPE], "expected slope only on a drift fault");
	if (v[FK_MAGNITUDE] != 0 && which != HAL_FAULT_SPIKE)
		return fail(l, v[FK_MAGNITUDE], "expected magnitude only on a spike fault");
	if (v[FK_RATE] != 0 && v[FK_SCHEDULE] != 0)
		return fail(l, v[FK_SCHEDULE], "expected either rate or schedule, not both");
	if (v[FK_RATE] != 0) {
		if ((rv = get_rate(l, v[FK_RATE], &f->rate)) != SIM_OK)
			return rv;
		free((void *)f->schedule);
		f->schedule = NULL;
		f->nschedule = 0;
	}
	if (v[FK_DURATION] != 0) {
		if ((rv = get_duration(l, v[FK_DURATION], false, &x)) != SIM_OK)
			return rv;
		f->duration = (int64_t)x;
	}
	if (v[FK_SCHEDULE] != 0) {
		if ((rv = get_windows(l, v[FK_SCHEDULE], &w, &n)) != SIM_OK)
			return rv;
		free((void *)f->schedule);
		/* hal_window is two int64_t: the same layout as the pairs. */
		for (size_t i = 0; i < 2 * n; i++)
			if (w[i] > INT64_MAX)
				w[i] = INT64_MAX;
		f->schedule = (const struct hal_window *)w;
		f->nschedule = n;
		f->rate = 0;
	}
	if (v[FK_SLOPE] != 0 && (rv = get_real(l, v[FK_SLOPE], &f->slope)) != SIM_OK)
		return rv;
	if (v[FK_MAGNITUDE] != 0 && (rv = get_real(l, v[FK_MAGNITUDE], &f->magnitude)) != SIM_OK)
		return rv;
	return SIM_OK;
}

static enum sim_err
load_faults(struct loader *l, int id, struct hal_sensor_config *c)
{
	yaml_node_t *n = node(l, id);
	enum sim_err rv;

	if (n->type != YAML_MAPPING_NODE)
		return fail(l, id, "expected a mapping of faults like { stuck: { rate: 1/h } }, "
		    "not %s", kind(n));
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = scalar(l, p->key);
		enum hal_fault f;

		if (k == NULL || hal_fault_from_name(k, &f) != HAL_OK)
			return fail(l, p->key, "unknown fault '%.64s'; expected one of: stuck, drift, "
			    "spike, dropout", k != NULL ? k : "");
		if ((rv = load_fault(l, p->value, &c->fault[f], f)) != SIM_OK)
			return rv;
		n = node(l, id);
	}
	return SIM_OK;
}

static enum sim_err
load_points(struct loader *l, int id, struct hal_sensor_config *c)
{
	const char *expect = "a list of [time, value] points like [[0s, 20], [1h, 22]]";
	struct hal_point *pts = NULL;
	size_t count;
	enum sim_err rv = SIM_OK;

	if (node(l, id)->type != YAML_SEQUENCE_NODE)
		return fail(l, id, "expected %s, not %s", expect, kind(node(l, id)));
	count = seq_len(l, id);
	if (count == 0)
		return fail(l, id, "expected %s, not an empty list", expect);
	if ((pts = calloc(count, sizeof(*pts))) == NULL)
		return SIM_ERR_NOMEM;
	for (size_t i = 0; i < count; i++) {
		int item = seq_item(l, id, i);
		uint64_t t;

		if (node(l, item)->type != YAML_SEQUENCE_NODE || seq_len(l, item) != 2) {
			rv = fail(l, item, "expected %s", expect);
			goto out;
		}
		if ((rv = get_duration(l, seq_item(l, item, 0), false, &t)) != SIM_OK ||
		    (rv = get_real(l, seq_item(l, item, 1), &pts[i].v)) != SIM_OK)
			goto out;
		pts[i].t = t > INT64_MAX ? INT64_MAX : (int64_t)t;
		if (i > 0 && pts[i].t <= pts[i - 1].t) {
			rv = fail(l, item, "expected points in increasing time");
			goto out;
		}
	}
	free((void *)c->steps.points);
	c->steps.points = pts;
	c->steps.npoints = count;
	pts = NULL;
out:
	free(pts);
	return rv;
}

static enum sim_err
load_sensor(struct loader *l, int id, struct dev_sensor_spec *s, bool added)
{
	struct hal_sensor_config *c = &s->cfg;
	int v[SK_COUNT + 1];
	int gen = (int)c->gen;
	enum sim_err rv;

	if ((rv = get_keys(l, id, "the sensor", "a sensor mapping like { gen: sine, mean: 20, "
	    "amplitude: 2, period: 24h }", sensor_keys, v)) != SIM_OK)
		return rv;
	if (v[SK_GEN] == 0 && added)
		return missing(l, id, "gen", "the sensor");
	if (v[SK_GEN] != 0) {
		const char *g = scalar(l, v[SK_GEN]);
		enum hal_gen eg;

		if (g == NULL || hal_gen_from_name(g, &eg) != HAL_OK)
			return fail(l, v[SK_GEN], "expected a generator: constant, uniform, normal, "
			    "sine, random_walk, steps, replay or counter");
		if ((int)eg != gen || added) {
			/* Another generator: the old one's parameters mean
			 * nothing to it. */
			if (c->gen == HAL_GEN_STEPS)
				free((void *)c->steps.points);
			if (c->gen == HAL_GEN_REPLAY) {
				hal_table_free(s->table);
				s->table = NULL;
			}
			struct hal_sensor_config keep = *c;

			memset(c, 0, sizeof(*c));
			c->name = keep.name;
			c->noise = keep.noise;
			memcpy(c->fault, keep.fault, sizeof(c->fault));
			c->gen = eg;
			gen = (int)eg;
		}
	}
	/* Each parameter key must belong to the generator. */
	for (int k = SK_VALUE; k <= SK_RATE_SD; k++) {
		bool ok = false;

		if (v[k] == 0)
			continue;
		for (int j = 0; gen_params[gen][j] != NULL; j++)
			ok = ok || strcmp(gen_params[gen][j], sensor_keys[k]) == 0;
		if (!ok) {
			char list[160];

			key_list(gen_params[gen], list, sizeof(list));
			return fail(l, v[k], "'%s' is not a parameter of gen %s; expected one of: %s",
			    sensor_keys[k], hal_gen_name((enum hal_gen)gen), list);
		}
	}
	switch (c->gen) {
	case HAL_GEN_CONSTANT:
		rv = opt_real(l, v[SK_VALUE], &c->constant.value);
		break;
	case HAL_GEN_UNIFORM:
		if ((rv = opt_real(l, v[SK_MIN], &c->uniform.min)) == SIM_OK)
			rv = opt_real(l, v[SK_MAX], &c->uniform.max);
		break;
	case HAL_GEN_NORMAL:
		if ((rv = opt_real(l, v[SK_MEAN], &c->normal.mean)) == SIM_OK)
			rv = opt_real(l, v[SK_SD], &c->normal.sd);
		break;
	case HAL_GEN_SINE:
		if ((rv = opt_real(l, v[SK_MEAN], &c->sine.mean)) == SIM_OK &&
		    (rv = opt_real(l, v[SK_AMPLITUDE], &c->sine.amplitude)) == SIM_OK &&
		    (rv = opt_time(l, v[SK_PERIOD], &c->sine.period)) == SIM_OK)
			rv = opt_time(l, v[SK_PHASE], &c->sine.phase);
		break;
	case HAL_GEN_RANDOM_WALK:
		if ((rv = opt_real(l, v[SK_START], &c->random_walk.start)) == SIM_OK &&
		    (rv = opt_real(l, v[SK_STEP_SD], &c->random_walk.step_sd)) == SIM_OK &&
		    (rv = opt_time(l, v[SK_STEP_TIME], &c->random_walk.step_time)) == SIM_OK &&
		    (rv = opt_real(l, v[SK_LOWER], &c->random_walk.lower)) == SIM_OK)
			rv = opt_real(l, v[SK_UPPER], &c->random_walk.upper);
		break;
	case HAL_GEN_STEPS:
		if (v[SK_POINTS] != 0 && (rv = load_points(l, v[SK_POINTS], c)) != SIM_OK)
			return rv;
		rv = opt_time(l, v[SK_PERIOD], &c->steps.period);
		break;
	case HAL_GEN_REPLAY:
		if ((rv = opt_time(l, v[SK_PERIOD], &c->replay.period)) != SIM_OK)
			return rv;
		if (v[SK_LINEAR] != 0) {
			bool b;

			if ((rv = get_bool(l, v[SK_LINEAR], &b)) != SIM_OK)
				return rv;
			c->replay.linear = b;
		}
		if (v[SK_FILE] != 0) {
			char *path = NULL, err[512];
			struct hal_table *t = NULL;

			if ((rv = get_file(l, v[SK_FILE], "replay", &path)) != SIM_OK)
				return rv;
			if (hal_table_load(path, &t, err, sizeof(err)) != HAL_OK) {
				free(path);
				return fail(l, v[SK_FILE], "%s", err);
			}
			free(path);
			hal_table_free(s->table);
			s->table = t;
			c->replay.table = t;
		}
		break;
	case HAL_GEN_COUNTER:
		if ((rv = opt_real(l, v[SK_START], &c->counter.start)) == SIM_OK &&
		    (rv = opt_real(l, v[SK_RATE], &c->counter.rate)) == SIM_OK)
			rv = opt_real(l, v[SK_RATE_SD], &c->counter.rate_sd);
		break;
	}
	if (rv != SIM_OK || (rv = opt_real(l, v[SK_NOISE], &c->noise)) != SIM_OK)
		return rv;
	if (v[SK_FAULTS] != 0 && (rv = load_faults(l, v[SK_FAULTS], c)) != SIM_OK)
		return rv;
	return SIM_OK;
}


static enum sim_err
load_actuator(struct loader *l, int id, struct dev_actuator_spec *a, bool added)
{
	struct hal_actuator_config *c = &a->cfg;
	int v[MAX_KEYS], k;
	uint64_t x;
	enum sim_err rv;

	if ((rv = get_keys(l, id, "the actuator", "an actuator mapping like { kind: setpoint, "
	    "initial: 20 }", actuator_keys, v)) != SIM_OK)
		return rv;
	if (v[AK_KIND] == 0 && added)
		return missing(l, id, "kind", "the actuator");
	if (v[AK_KIND] != 0) {
		if ((rv = get_name_in(l, v[AK_KIND], actuator_kinds, "an actuator kind", &k)) != SIM_OK)
			return rv;
		c->kind = (enum hal_actuator_kind)k;
	}
	if (added)
		a->sensor_idx = -1;
	if (v[AK_INITIAL] != 0 && (rv = get_real(l, v[AK_INITIAL], &c->initial)) != SIM_OK)
		return rv;
	if (v[AK_MIN] != 0 && (rv = get_real(l, v[AK_MIN], &c->min)) != SIM_OK)
		return rv;
	if (v[AK_MAX] != 0 && (rv = get_real(l, v[AK_MAX], &c->max)) != SIM_OK)
		return rv;
	if (v[AK_TAU] != 0) {
		if ((rv = get_duration(l, v[AK_TAU], false, &x)) != SIM_OK)
			return rv;
		c->tau = x;
	}
	if (v[AK_TRAVEL] != 0) {
		if ((rv = get_duration(l, v[AK_TRAVEL], false, &x)) != SIM_OK)
			return rv;
		c->travel_time = x;
	}
	if (v[AK_GAIN] != 0 && (rv = get_real(l, v[AK_GAIN], &c->gain)) != SIM_OK)
		return rv;
	if (v[AK_OFFSET] != 0 && (rv = get_real(l, v[AK_OFFSET], &c->offset)) != SIM_OK)
		return rv;
	if (v[AK_JAM] != 0 && (rv = get_prob(l, v[AK_JAM], &c->jam_p)) != SIM_OK)
		return rv;
	if (v[AK_PERSIST] != 0 && (rv = get_bool(l, v[AK_PERSIST], &a->persist)) != SIM_OK)
		return rv;
	if (v[AK_SENSOR] != 0) {
		char *s = NULL;

		if ((rv = get_str(l, v[AK_SENSOR], "a sensor name", &s)) != SIM_OK)
			return rv;
		free(a->sensor);
		a->sensor = s;
		c->sensor = s;
	}
	return SIM_OK;
}


static enum sim_err
load_command(struct loader *l, int id, struct dev_command_spec *c, struct srcref *resp)
{
	int v[MAX_KEYS], actions = 0;
	uint64_t x;
	enum sim_err rv;

	if (node(l, id)->type == YAML_SCALAR_NODE && is_null(node(l, id)))
		return SIM_OK;
	if ((rv = get_keys(l, id, "the command", "a command mapping like { set: heater, value: "
	    "arg }", command_keys, v)) != SIM_OK)
		return rv;
	actions = (v[CK_SET] != 0) + (v[CK_PUT] != 0) + (v[CK_DEL] != 0) + (v[CK_REBOOT] != 0);
	if (actions > 1)
		return fail(l, id, "expected at most one action (set, flash_put, flash_del or reboot)");
	if (v[CK_VALUE] != 0 && v[CK_SET] == 0 && c->action != DEV_ACT_SET)
		return fail(l, v[CK_VALUE], "expected value only with set");
	if (v[CK_SET] != 0) {
		free(c->actuator);
		c->actuator = NULL;
		if ((rv = get_str(l, v[CK_SET], "an actuator name", &c->actuator)) != SIM_OK)
			return rv;
		c->action = DEV_ACT_SET;
		c->value_from_arg = true;
	}
	if (v[CK_VALUE] != 0) {
		const char *s = scalar(l, v[CK_VALUE]);

		c->value_from_arg = s != NULL && strcmp(s, "arg") == 0;
		if (!c->value_from_arg && (rv = get_number(l, v[CK_VALUE], NULL,
		    "a number or arg (the command's argument)", &c->value)) != SIM_OK)
			return rv;
	}
	if (v[CK_PUT] != 0 || v[CK_DEL] != 0) {
		int k = v[CK_PUT] != 0 ? v[CK_PUT] : v[CK_DEL];

		free(c->key);
		c->key = NULL;
		if ((rv = get_str(l, k, "a flash key", &c->key)) != SIM_OK)
			return rv;
		if (strlen(c->key) > HAL_FLASH_KEY_MAX)
			return fail(l, k, "expected a flash key of at most %d bytes", HAL_FLASH_KEY_MAX);
		c->action = v[CK_PUT] != 0 ? DEV_ACT_FLASH_PUT : DEV_ACT_FLASH_DEL;
	}
	if (v[CK_REBOOT] != 0) {
		bool b;

		if ((rv = get_bool(l, v[CK_REBOOT], &b)) != SIM_OK)
			return rv;
		c->action = b ? DEV_ACT_REBOOT : DEV_ACT_NONE;
	}
	if (v[CK_STATUS] != 0) {
		if ((rv = get_uint(l, v[CK_STATUS], 100, 599, "expected a status from 100 to 599",
		    NULL, &x)) != SIM_OK)
			return rv;
		c->status = (int)x;
	}
	if (v[CK_RESPONSE] != 0) {
		char *s = NULL;

		if ((rv = get_str(l, v[CK_RESPONSE], "a response template", &s)) != SIM_OK)
			return rv;
		free(c->response_src);
		c->response_src = s;
		*resp = (struct srcref){ l, v[CK_RESPONSE] };
	}
	if (v[CK_DELAY] != 0 && (rv = get_dist(l, v[CK_DELAY], false, &c->delay)) != SIM_OK)
		return rv;
	if (v[CK_FAIL] != 0 && (rv = get_prob(l, v[CK_FAIL], &c->fail)) != SIM_OK)
		return rv;
	return SIM_OK;
}


/* The named elements of a model: sensors, actuators, commands. */
enum elem { EL_SENSOR, EL_ACTUATOR, EL_COMMAND };

static const char *const elem_what[] = { "sensor", "actuator", "command" };
static const char *const elem_example[] = {
	"{ temp: { gen: normal, mean: 20, sd: 1 } }",
	"{ heater: { kind: setpoint } }",
	"{ restart: { reboot: true } }",
};

/* A mapping of named elements of kind k: each is found in the model (a
 * patch) or added, and loaded; where it was set is kept for messages. */
static enum sim_err
load_elems(struct loader *l, int id, enum elem k, struct dev_model *m, struct model_src *src)
{
	yaml_node_t *n = node(l, id);
	size_t count;
	enum sim_err rv;

	if (n->type != YAML_MAPPING_NODE)
		return fail(l, id, "expected a mapping of %ss like %s, not %s", elem_what[k],
		    elem_example[k], kind(n));
	count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	for (size_t i = 0; i < count; i++) {
		yaml_node_pair_t *p = &node(l, id)->data.mapping.pairs.start[i];
		const char *name = scalar(l, p->key);
		struct srcref here = { l, p->value };
		size_t idx;
		bool added;

		if (name == NULL)
			return fail(l, p->key, "expected a %s name", elem_what[k]);
		if ((rv = check_elem_name(l, p->key, name)) != SIM_OK)
			return rv;
		switch (k) {
		case EL_SENSOR:
			if ((rv = find_or_add((void **)&m->sensors, &m->nsensors, sizeof(*m->sensors),
			    name, &idx, &added)) != SIM_OK ||
			    (rv = grow_ref(&src->sensors, &src->cap_s, m->nsensors)) != SIM_OK)
				return rv;
			m->sensors[idx].cfg.name = m->sensors[idx].name;
			src->sensors[idx] = here;
			rv = load_sensor(l, p->value, &m->sensors[idx], added);
			break;
		case EL_ACTUATOR:
			if ((rv = find_or_add((void **)&m->actuators, &m->nactuators,
			    sizeof(*m->actuators), name, &idx, &added)) != SIM_OK ||
			    (rv = grow_ref(&src->actuators, &src->cap_a, m->nactuators)) != SIM_OK)
				return rv;
			src->actuators[idx] = here;
			rv = load_actuator(l, p->value, &m->actuators[idx], added);
			break;
		case EL_COMMAND:
			if ((rv = find_or_add((void **)&m->commands, &m->ncommands, sizeof(*m->commands),
			    name, &idx, &added)) != SIM_OK ||
			    (rv = grow_ref(&src->commands, &src->cap_c, m->ncommands)) != SIM_OK ||
			    (rv = grow_ref(&src->responses, &src->cap_r, m->ncommands)) != SIM_OK)
				return rv;
			if (added)
				m->commands[idx].status = 200;
			src->commands[idx] = here;
			rv = load_command(l, p->value, &m->commands[idx], &src->responses[idx]);
			break;
		}
		if (rv != SIM_OK)
			return rv;
	}
	return SIM_OK;
}

static enum sim_err
load_flash(struct loader *l, int id, struct dev_model *m, struct model_src *src)
{
	int v[MAX_KEYS];
	uint64_t x;
	enum sim_err rv;

	if ((rv = get_keys(l, id, "flash", "a mapping like { capacity: 4KB }", flash_keys, v)) !=
	    SIM_OK)
		return rv;
	m->has_flash = true;
	src->flash = (struct srcref){ l, id };
	if (m->flash.capacity == 0)
		m->flash.capacity = 4096;
	if (v[FL_CAPACITY] != 0) {
		if ((rv = get_size(l, v[FL_CAPACITY], 1, MAX_PAYLOAD, &x)) != SIM_OK)
			return rv;
		m->flash.capacity = (size_t)x;
	}
	if (v[FL_LATENCY] != 0 && (rv = get_duration(l, v[FL_LATENCY], false,
	    &m->flash.write_latency)) != SIM_OK)
		return rv;
	if (v[FL_FAIL] != 0 && (rv = get_prob(l, v[FL_FAIL], &m->flash.write_fail)) != SIM_OK)
		return rv;
	if (v[FL_DIR] != 0) {
		char *s = NULL, *joined = NULL;

		if ((rv = get_str(l, v[FL_DIR], "a folder", &s)) != SIM_OK)
			return rv;
		if (s[0] != '/' && l->dir != NULL) {
			if (asprintf(&joined, "%s/%s", l->dir, s) < 0) {
				free(s);
				return SIM_ERR_NOMEM;
			}
			free(s);
			s = joined;
		}
		free((void *)m->flash.dir);
		m->flash.dir = s;
	}
	return SIM_OK;
}

static enum sim_err
load_power(struct loader *l, int id, struct dev_model *m, struct model_src *src)
{
	static const struct unit cap_u[] = { { "mAh", 1 }, { "Ah", 1000 }, { NULL, 0 } };
	static const struct unit volt_u[] = { { "V", 1 }, { "", 1 }, { NULL, 0 } };
	static const struct unit drain_u[] = { { "W", 1 }, { "mW", 1e-3 }, { "uW", 1e-6 },
		{ "mA", -1e-3 }, { "uA", -1e-6 }, { "A", -1 }, { NULL, 0 } };
	static const struct unit tx_u[] = { { "J/KB", 1 }, { "mJ/KB", 1e-3 }, { "uJ/KB", 1e-6 },
		{ NULL, 0 } };
	static const struct unit pct_u[] = { { "%", 1 }, { "", 1 }, { NULL, 0 } };
	struct hal_power_config *p = &m->power;
	int v[MAX_KEYS], w[MAX_KEYS];
	double x, mah = 0, volt = 3.6;
	enum sim_err rv;

	if ((rv = get_keys(l, id, "power", "a mapping like { reboot: { mtbf: 10m } }", power_keys,
	    v)) != SIM_OK)
		return rv;
	src->power = (struct srcref){ l, id };
	if (v[PK_BATTERY] != 0) {
		if ((rv = get_keys(l, v[PK_BATTERY], "battery", "a mapping like { capacity: 2400mAh, "
		    "voltage: 3.6 }", battery_keys, w)) != SIM_OK)
			return rv;
		if (w[0] == 0)
			return missing(l, v[PK_BATTERY], "capacity", "battery");
		if ((rv = get_number(l, w[0], cap_u, "a capacity like 2400mAh", &mah)) != SIM_OK)
			return rv;
		if (w[1] != 0 && (rv = get_number(l, w[1], volt_u, "a voltage like 3.6V", &volt)) !=
		    SIM_OK)
			return rv;
		if (mah <= 0 || volt <= 0)
			return fail(l, v[PK_BATTERY], "expected a capacity and voltage > 0");
		p->capacity_j = mah * volt * 3.6;
	}
	if (v[PK_DRAIN] != 0) {
		if ((rv = get_number(l, v[PK_DRAIN], drain_u, "a drain like 0.5mA or 10mW", &x)) !=
		    SIM_OK)
			return rv;
		/* Currents come out negative from the table: times volts. */
		p->drain_w = x < 0 ? -x * volt : x;
	}
	if (v[PK_TX] != 0 && (rv = get_number(l, v[PK_TX], tx_u, "an energy per KB like 2mJ/KB",
	    &p->tx_j_per_kb)) != SIM_OK)
		return rv;
	if (v[PK_CUTOFF] != 0 && (rv = get_number(l, v[PK_CUTOFF], pct_u, "a charge like 5%",
	    &p->cutoff_pct)) != SIM_OK)
		return rv;
	if (v[PK_REBOOT] != 0) {
		if ((rv = get_keys(l, v[PK_REBOOT], "reboot", "a mapping like { mtbf: 10m, at: [30s] }",
		    reboot_keys, w)) != SIM_OK)
			return rv;
		if (w[0] != 0 && (rv = get_duration(l, w[0], false, &p->reboot_mtbf)) != SIM_OK)
			return rv;
		if (w[1] != 0) {
			size_t n;
			uint64_t *at;

			if (node(l, w[1])->type != YAML_SEQUENCE_NODE)
				return fail(l, w[1], "expected a list of times like [30s, 2m]");
			n = seq_len(l, w[1]);
			if ((at = calloc(n ? n : 1, sizeof(*at))) == NULL)
				return SIM_ERR_NOMEM;
			for (size_t i = 0; i < n; i++) {
				if ((rv = get_duration(l, seq_item(l, w[1], i), false, &at[i])) != SIM_OK ||
				    (i > 0 && at[i] < at[i - 1] && (rv = fail(l, seq_item(l, w[1], i),
				    "expected times in increasing order")) != SIM_OK)) {
					free(at);
					return rv;
				}
			}
			free((void *)p->reboot_at);
			p->reboot_at = at;
			p->n_reboot_at = n;
		}
	}
	if (v[PK_CRASH] != 0) {
		if ((rv = get_keys(l, v[PK_CRASH], "crash", "a mapping like { mtbf: 30m }", crash_keys,
		    w)) != SIM_OK)
			return rv;
		if (w[0] != 0 && (rv = get_duration(l, w[0], false, &p->crash_mtbf)) != SIM_OK)
			return rv;
	}
	return SIM_OK;
}

static enum sim_err
load_boot(struct loader *l, int id, struct dev_model *m)
{
	int v[MAX_KEYS];
	enum sim_err rv;

	if ((rv = get_keys(l, id, "boot", "a mapping like { time: 2s }", boot_keys, v)) != SIM_OK)
		return rv;
	if (v[0] != 0 && (rv = get_duration(l, v[0], false, &m->power.boot_time)) != SIM_OK)
		return rv;
	return SIM_OK;
}

static enum sim_err
load_latency(struct loader *l, int id, struct hal_link_latency *lat)
{
	struct dev_dist d;
	int v[MAX_KEYS];
	enum sim_err rv;

	memset(lat, 0, sizeof(*lat));
	/* lognormal by mean and sd is link-only: convert it here. */
	if (node(l, id)->type == YAML_MAPPING_NODE) {
		if ((rv = get_keys(l, id, "a distribution", "a latency like 50ms or { dist: normal, "
		    "mean: 40ms, sd: 10ms }", dist_keys, v)) != SIM_OK)
			return rv;
		if (v[DK_DIST] != 0 && scalar(l, v[DK_DIST]) != NULL &&
		    strcmp(scalar(l, v[DK_DIST]), "lognormal") == 0 && v[DK_MEAN] != 0) {
			uint64_t mean, sd = 0;

			if ((rv = get_duration(l, v[DK_MEAN], true, &mean)) != SIM_OK ||
			    (v[DK_SD] != 0 && (rv = get_duration(l, v[DK_SD], false, &sd)) != SIM_OK))
				return rv;
			if (hal_link_lognormal_from_mean_sd(lat, (double)mean, (double)sd) != HAL_OK)
				return fail(l, id, "expected a lognormal with mean > 0");
			return SIM_OK;
		}
	}
	if ((rv = get_dist(l, id, false, &d)) != SIM_OK)
		return rv;
	switch (d.kind) {
	case DEV_DIST_FIXED:
		lat->dist = HAL_LINK_FIXED;
		lat->mean = d.a;
		break;
	case DEV_DIST_UNIFORM:
		lat->dist = HAL_LINK_UNIFORM;
		lat->min = d.a;
		lat->max = d.b;
		break;
	case DEV_DIST_NORMAL:
		lat->dist = HAL_LINK_NORMAL;
		lat->mean = d.a;
		lat->sd = d.b;
		break;
	case DEV_DIST_LOGNORMAL:
		lat->dist = HAL_LINK_LOGNORMAL;
		lat->median = d.a;
		lat->sigma = d.b;
		break;
	}
	return SIM_OK;
}

static enum sim_err
load_link(struct loader *l, int id, struct dev_model *m, struct model_src *src)
{
	struct hal_link_config *c = &m->link;
	int v[MAX_KEYS], w[MAX_KEYS];
	uint64_t x, *win;
	size_t n;
	enum sim_err rv;

	if ((rv = get_keys(l, id, "link", "a mapping like { latency: 50ms }", link_keys, v)) !=
	    SIM_OK)
		return rv;
	src->link = (struct srcref){ l, id };
	if (v[LK_LATENCY] != 0 && (rv = load_latency(l, v[LK_LATENCY], &c->latency)) != SIM_OK)
		return rv;
	if (v[LK_BANDWIDTH] != 0) {
		if ((rv = get_size(l, v[LK_BANDWIDTH], 0, UINT64_MAX >> 1, &x)) != SIM_OK)
			return rv;
		c->bandwidth = x;
	}
	if (v[LK_DISCONNECT] != 0) {
		if ((rv = get_keys(l, v[LK_DISCONNECT], "disconnect", "a mapping like { mtbf: 60s, "
		    "mttr: 2s }", disconnect_keys, w)) != SIM_OK)
			return rv;
		if (w[0] != 0 && (rv = get_duration(l, w[0], false, &c->disconnect_mtbf)) != SIM_OK)
			return rv;
		if (w[1] != 0 && (rv = get_duration(l, w[1], false, &c->disconnect_mttr)) != SIM_OK)
			return rv;
	}
	if (v[LK_PARTITIONS] != 0) {
		if ((rv = get_windows(l, v[LK_PARTITIONS], &win, &n)) != SIM_OK)
			return rv;
		free((void *)c->partitions);
		c->partitions = (const struct hal_link_window *)win;
		c->n_partitions = n;
	}
	if (v[LK_HALF_OPEN] != 0) {
		if ((rv = get_keys(l, v[LK_HALF_OPEN], "half_open", "a mapping like { mtbf: 10m, "
		    "duration: 30s }", half_open_keys, w)) != SIM_OK)
			return rv;
		if (w[0] != 0) {
			if ((rv = get_windows(l, w[0], &win, &n)) != SIM_OK)
				return rv;
			free((void *)c->half_open);
			c->half_open = (const struct hal_link_window *)win;
			c->n_half_open = n;
		}
		if (w[1] != 0 && (rv = get_duration(l, w[1], false, &c->half_open_mtbf)) != SIM_OK)
			return rv;
		if (w[2] != 0 && (rv = get_duration(l, w[2], false, &c->half_open_duration)) != SIM_OK)
			return rv;
	}
	return SIM_OK;
}

static enum sim_err
load_clock(struct loader *l, int id, struct dev_model *m)
{
	int v[MAX_KEYS];
	enum sim_err rv;

	if ((rv = get_keys(l, id, "clock", "a mapping like { skew: 2s, drift_ppm: 20 }",
	    clock_keys, v)) != SIM_OK)
		return rv;
	if (v[0] != 0 && (rv = get_sduration(l, v[0], &m->clock_skew)) != SIM_OK)
		return rv;
	if (v[1] != 0 && (rv = get_real(l, v[1], &m->clock_drift_ppm)) != SIM_OK)
		return rv;
	return SIM_OK;
}

static enum sim_err
load_mtelemetry(struct loader *l, int id, struct dev_model *m, struct model_src *src)
{
	int v[MAX_KEYS], w[MAX_KEYS];
	uint64_t x;
	enum sim_err rv;

	if ((rv = get_keys(l, id, "telemetry", "a mapping like { every: 10s, payload: '{...}' }",
	    mtelemetry_keys, v)) != SIM_OK)
		return rv;
	if (v[MT_EVERY] != 0 && (rv = get_duration(l, v[MT_EVERY], true, &m->every_ns)) != SIM_OK)
		return rv;
	if (v[MT_QOS] != 0) {
		if ((rv = get_uint(l, v[MT_QOS], 0, 2, "expected a qos of 0, 1 or 2", NULL, &x)) !=
		    SIM_OK)
			return rv;
		m->qos = (int)x;
	}
	if (v[MT_PAYLOAD] != 0) {
		char *s = NULL;

		if ((rv = get_str(l, v[MT_PAYLOAD], "a payload template", &s)) != SIM_OK)
			return rv;
		free(m->payload_src);
		m->payload_src = s;
		src->payload = (struct srcref){ l, v[MT_PAYLOAD] };
	}
	if (v[MT_FRAME] != 0) {
		if ((rv = get_keys(l, v[MT_FRAME], "frame", "a mapping like { size: 600KB, min: 100KB, "
		    "max: 5MB }", frame_keys, w)) != SIM_OK)
			return rv;
		if (w[0] == 0)
			return missing(l, v[MT_FRAME], "size", "frame");
		if ((rv = get_dist(l, w[0], true, &m->frame_size)) != SIM_OK)
			return rv;
		if (w[1] != 0) {
			if ((rv = get_size(l, w[1], 0, MAX_PAYLOAD, &x)) != SIM_OK)
				return rv;
			m->frame_size.min = (double)x;
		}
		if (w[2] != 0) {
			if ((rv = get_size(l, w[2], 0, MAX_PAYLOAD, &x)) != SIM_OK)
				return rv;
			m->frame_size.max = (double)x;
		}
		m->has_frame = true;
		src->frame = (struct srcref){ l, v[MT_FRAME] };
	}
	return SIM_OK;
}

/* The hal settings a model file and a group's hal: share. */
static enum sim_err
load_hal_parts(struct loader *l, const int *id, struct dev_model *m, struct model_src *src)
{
	enum sim_err rv = SIM_OK;

	if (present(l, id[HK_SENSORS]) &&
	    (rv = load_elems(l, id[HK_SENSORS], EL_SENSOR, m, src)) != SIM_OK)
		return rv;
	if (present(l, id[HK_ACTUATORS]) &&
	    (rv = load_elems(l, id[HK_ACTUATORS], EL_ACTUATOR, m, src)) != SIM_OK)
		return rv;
	if (present(l, id[HK_FLASH]) && (rv = load_flash(l, id[HK_FLASH], m, src)) != SIM_OK)
		return rv;
	if (present(l, id[HK_POWER]) && (rv = load_power(l, id[HK_POWER], m, src)) != SIM_OK)
		return rv;
	if (present(l, id[HK_BOOT]) && (rv = load_boot(l, id[HK_BOOT], m)) != SIM_OK)
		return rv;
	if (present(l, id[HK_LINK]) && (rv = load_link(l, id[HK_LINK], m, src)) != SIM_OK)
		return rv;
	if (present(l, id[HK_CLOCK]) && (rv = load_clock(l, id[HK_CLOCK], m)) != SIM_OK)
		return rv;
	return SIM_OK;
}

static enum sim_err
load_model_doc(struct loader *l, struct dev_model *m, struct model_src *src)
{
	yaml_node_t *root = yaml_document_get_root_node(&l->doc);
	int v[MAX_KEYS], h[MAX_KEYS];
	enum sim_err rv;

	if (root == NULL || is_null(root))
		return fail(l, 0, "expected a device model: a mapping with model, sensors, telemetry");
	if ((rv = get_keys(l, 1, "the model", "a device model mapping", model_keys, v)) != SIM_OK)
		return rv;
	if (v[MK_MODEL] == 0)
		return missing(l, 1, "model", "the device model");
	if ((rv = get_str(l, v[MK_MODEL], "a model name", &m->name)) != SIM_OK)
		return rv;
	if ((rv = check_elem_name(l, v[MK_MODEL], m->name)) != SIM_OK)
		return rv;
	src->model = (struct srcref){ l, v[MK_MODEL] };
	if (present(l, v[MK_DESC]) && (rv = get_str(l, v[MK_DESC], "a one-line description",
	    &m->description)) != SIM_OK)
		return rv;
	if (present(l, v[MK_BEHAVIOUR])) {
		if ((rv = get_str(l, v[MK_BEHAVIOUR], "a behaviour name", &m->behaviour)) != SIM_OK)
			return rv;
		src->behaviour = (struct srcref){ l, v[MK_BEHAVIOUR] };
	}
	h[HK_SENSORS] = v[MK_SENSORS];
	h[HK_ACTUATORS] = v[MK_ACTUATORS];
	h[HK_FLASH] = v[MK_FLASH];
	h[HK_POWER] = v[MK_POWER];
	h[HK_BOOT] = v[MK_BOOT];
	h[HK_LINK] = v[MK_LINK];
	h[HK_CLOCK] = v[MK_CLOCK];
	if ((rv = load_hal_parts(l, h, m, src)) != SIM_OK)
		return rv;
	if (present(l, v[MK_COMMANDS]) &&
	    (rv = load_elems(l, v[MK_COMMANDS], EL_COMMAND, m, src)) != SIM_OK)
		return rv;
	if (present(l, v[MK_TELEMETRY]) && (rv = load_mtelemetry(l, v[MK_TELEMETRY], m, src)) !=
	    SIM_OK)
		return rv;
	return SIM_OK;
}

/* Maps a dev_model_check problem to the node that set the setting. */
static enum sim_err
model_problem(struct loader *fallback, const struct model_src *src, const struct dev_problem *p)
{
	struct srcref r = { NULL, 0 };
	bool inner = false;

	switch (p->where) {
	case DEV_WHERE_SENSOR:
		if (p->index < src->cap_s)
			r = src->sensors[p->index];
		break;
	case DEV_WHERE_ACTUATOR:
		if (p->index < src->cap_a)
			r = src->actuators[p->index];
		break;
	case DEV_WHERE_COMMAND:
		if (p->index < src->cap_c && p->index < src->cap_r) {
			r = src->responses[p->index];
			inner = r.l != NULL;
			if (r.l == NULL)
				r = src->commands[p->index];
		}
		break;
	case DEV_WHERE_PAYLOAD:
		r = src->payload;
		inner = true;
		break;
	case DEV_WHERE_FLASH: r = src->flash; break;
	case DEV_WHERE_POWER: r = src->power; break;
	case DEV_WHERE_LINK: r = src->link; break;
	case DEV_WHERE_BEHAVIOUR: r = src->behaviour.l != NULL ? src->behaviour : src->frame; break;
	default: break;
	}
	if (r.l == NULL)
		r = src->model;
	if (r.l == NULL)
		return fail(fallback, 0, "%s", p->msg);
	if (inner)
		return fail_at(r.l, r.id, p->offset, "%s", p->msg);
	return fail(r.l, r.id, "%s", p->msg);
}

static void
model_src_fini(struct model_src *src)
{
	free(src->sensors);
	free(src->actuators);
	free(src->commands);
	free(src->responses);
}

/* Reads a file whole (models are small). */
static enum sim_err
slurp(const char *path, char **out, size_t *len, struct sim_diag *d)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		sim_diag_set(d, "%s: cannot read: %s", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return SIM_ERR_IO;
	}
	if ((size_t)n > MAX_TEXT || (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		sim_diag_set(d, "%s: too big or out of memory", path);
		return (size_t)n > MAX_TEXT ? SIM_ERR_IO : SIM_ERR_NOMEM;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		sim_diag_set(d, "%s: cannot read: %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return SIM_ERR_IO;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return SIM_OK;
}

/* Opens a model file's loader: parsed, checked for shape, ready for
 * load_model_doc. ml must be fini'd with model_loader_fini. */
static enum sim_err
model_loader_open(struct loader *ml, const char *path, struct sim_diag *d, char **text)
{
	const char *slash = strrchr(path, '/');
	size_t len;
	enum sim_err rv;

	memset(ml, 0, sizeof(*ml));
	ml->file = path;
	ml->d = d;
	if ((rv = slurp(path, text, &len, d)) != SIM_OK)
		return rv;
	if (slash != NULL && (ml->dir = strndup(path, slash == path ? 1 :
	    (size_t)(slash - path))) == NULL)
		return SIM_ERR_NOMEM;
	return parse(ml, *text, len);
}

static void
model_loader_fini(struct loader *ml, char *text)
{
	if (ml->have_doc)
		yaml_document_delete(&ml->doc);
	free(ml->dir);
	free(text);
}

/* The folders searched for a model by name, in order. */
static size_t
model_dirs(const char *scenario_dir, char dirs[][PATH_MAX], size_t max)
{
	const char *env = getenv("FLEETSIM_MODELS");
	size_t n = 0;

	while (env != NULL && *env != '\0' && n < max) {
		size_t k = strcspn(env, ":");

		if (k > 0 && k < PATH_MAX) {
			memcpy(dirs[n], env, k);
			dirs[n++][k] = '\0';
		}
		env += k + (env[k] == ':');
	}
	if (n < max && scenario_dir != NULL)
		snprintf(dirs[n++], PATH_MAX, "%s/models", scenario_dir);
	if (n < max)
		snprintf(dirs[n++], PATH_MAX, "%s", FLEETSIM_MODELS_DIR);
	return n;
}

size_t
sim_model_dirs(char dirs[][PATH_MAX], size_t max)
{
	return model_dirs(NULL, dirs, max);
}

/* Loads the model a group names, patches it with the group's hal:
 * mapping, and checks it. */
static enum sim_err
load_group_model(struct loader *l, int model_id, int hal_id, struct dev_model *m)
{
	char dirs[8][PATH_MAX], path[PATH_MAX + 64], *text = NULL;
	const char *name = scalar(l, model_id);
	struct model_src src;
	struct loader ml;
	struct dev_problem p;
	size_t n;
	int h[MAX_KEYS];
	enum sim_err rv;

	memset(&src, 0, sizeof(src));
	memset(&ml, 0, sizeof(ml));
	if (name == NULL || name[0] == '\0' || is_null(node(l, model_id)))
		return fail(l, model_id, "expected a model name like thermostat, or a path to one");
	path[0] = '\0';
	if (strchr(name, '/') != NULL || (strlen(name) > 5 &&
	    strcmp(name + strlen(name) - 5, MODEL_EXT) == 0)) {
		snprintf(path, sizeof(path), "%s%s%s", name[0] != '/' && l->dir != NULL ? l->dir : "",
		    name[0] != '/' && l->dir != NULL ? "/" : "", name);
		if (access(path, R_OK) != 0)
			return fail(l, model_id, "cannot read the model file %.300s: %s", path,
			    strerror(errno));
	} else {
		n = model_dirs(l->dir, dirs, 8);
		for (size_t i = 0; i < n && path[0] == '\0'; i++) {
			snprintf(path, sizeof(path), "%s/%s" MODEL_EXT, dirs[i], name);
			if (access(path, R_OK) != 0)
				path[0] = '\0';
		}
		if (path[0] == '\0') {
			char list[512] = "";

			sim_model_list(list, sizeof(list));
			return fail(l, model_id, "unknown model '%.64s'; expected one of: %s", name,
			    list[0] != '\0' ? list : "(none found)");
		}
	}
	m->qos = -1;
	if ((rv = model_loader_open(&ml, path, l->d, &text)) != SIM_OK)
		goto out;
	if ((rv = load_model_doc(&ml, m, &src)) != SIM_OK)
		goto out;
	if ((m->file = strdup(path)) == NULL) {
		rv = SIM_ERR_NOMEM;
		goto out;
	}
	if (present(l, hal_id)) {
		if ((rv = get_keys(l, hal_id, "hal", "a mapping of model settings like { link: "
		    "{ latency: 50ms } }", hal_keys, h)) != SIM_OK)
			goto out;
		if ((rv = load_hal_parts(l, h, m, &src)) != SIM_OK)
			goto out;
	}
	if (dev_model_check(m, &p) != HAL_OK)
		rv = model_problem(&ml, &src, &p);
out:
	model_loader_fini(&ml, text);
	model_src_fini(&src);
	return rv;
}

enum sim_err
sim_model_load_string(const char *text, size_t len, const char *file, struct dev_model *m,
    struct sim_diag *d)
{
	struct model_src src;
	struct loader ml;
	struct dev_problem p;
	const char *slash;
	enum sim_err rv;

	memset(m, 0, sizeof(*m));
	memset(&src, 0, sizeof(src));
	memset(&ml, 0, sizeof(ml));
	m->qos = -1;
	ml.file = file != NULL ? file : "<model>";
	ml.d = d;
	if (len > MAX_TEXT) {
		sim_diag_set(d, "%s:1:1: expected a model of at most 16 MiB", ml.file);
		rv = SIM_ERR_SCENARIO;
		goto out;
	}
	if (file != NULL && (slash = strrchr(file, '/')) != NULL &&
	    (ml.dir = strndup(file, slash == file ? 1 : (size_t)(slash - file))) == NULL) {
		rv = SIM_ERR_NOMEM;
		goto out;
	}
	if ((rv = parse(&ml, text, len)) != SIM_OK)
		goto out;
	if ((rv = load_model_doc(&ml, m, &src)) != SIM_OK)
		goto out;
	if ((m->file = strdup(ml.file)) == NULL) {
		rv = SIM_ERR_NOMEM;
		goto out;
	}
	if (dev_model_check(m, &p) != HAL_OK)
		rv = model_problem(&ml, &src, &p);
out:
	if (rv == SIM_ERR_NOMEM)
		sim_diag_set(d, "%s: out of memory", ml.file);
	model_loader_fini(&ml, NULL);
	model_src_fini(&src);
	if (rv != SIM_OK)
		dev_model_fini(m);
	return rv;
}

enum sim_err
sim_model_load(const char *path, struct dev_model *m, struct sim_diag *d)
{
	char *text = NULL;
	size_t len;
	enum sim_err rv;

	memset(m, 0, sizeof(*m));
	if ((rv = slurp(path, &text, &len, d)) != SIM_OK)
		return rv;
	rv = sim_model_load_string(text, len, path, m, d);
	free(text);
	return rv;
}

static int
cmp_base(const void *a, const void *b)
{
	return strcmp(strrchr(*(char *const *)a, '/'), strrchr(*(char *const *)b, '/'));
}

size_t
sim_model_paths(char **paths, size_t max)
{
	char dirs[8][PATH_MAX];
	size_t ndirs = sim_model_dirs(dirs, 8), n = 0;

	/* A name found in an earlier folder hides the same name later. */
	for (size_t i = 0; i < ndirs; i++) {
		DIR *dir = opendir(dirs[i]);
		struct dirent *e;

		while (dir != NULL && (e = readdir(dir)) != NULL && n < max) {
			size_t k = strlen(e->d_name);
			bool dup = false;

			if (k <= 5 || strcmp(e->d_name + k - 5, MODEL_EXT) != 0)
				continue;
			for (size_t j = 0; j < n; j++)
				dup = dup || strcmp(strrchr(paths[j], '/') + 1, e->d_name) == 0;
			if (!dup && asprintf(&paths[n], "%s/%s", dirs[i], e->d_name) >= 0)
				n++;
		}
		if (dir != NULL)
			closedir(dir);
	}
	qsort(paths, n, sizeof(*paths), cmp_base);
	return n;
}

size_t
sim_model_list(char *buf, size_t len)
{
	char *paths[256];
	size_t n = sim_model_paths(paths, 256), used = 0;

	if (len > 0)
		buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *name = strrchr(paths[i], '/') + 1;
		int k = snprintf(buf + used, used < len ? len - used : 0, "%s%.*s", i > 0 ? ", " : "",
		    (int)(strlen(name) - 5), name);

		if (k > 0 && used + (size_t)k < len)
			used += (size_t)k;
		free(paths[i]);
	}
	return n;
}

static enum sim_err
load_group(struct loader *l, int id, struct sim_group *g, size_t idx)
{
	struct sim_scenario *sc = l->sc;
	int v[MAX_KEYS];
	size_t i;
	uint64_t x;
	enum sim_err rv;

	g->mqtt_version = MQTT_V311;
	g->keepalive_ns = DEFAULT_KEEPALIVE_NS;
	g->clean_session = true;
	g->connect_max_inflight = DEFAULT_INFLIGHT;
	if ((rv = get_keys(l, id, "the fleet group", "a group mapping like "
	    "{ group: sensors, count: 10 }", group_keys, v)) != SIM_OK)
		return rv;
	if (v[G_GROUP] == 0)
		return missing(l, id, "group", "the fleet group");
	if ((rv = get_str(l, v[G_GROUP], "a group name", &g->name)) != SIM_OK)
		return rv;
	g->pos = pos_of(l, v[G_GROUP]);
	/* Group names are keys in report paths (by_group.NAME.lost) and in
	 * --set paths, so they must be one path segment. */
	if (g->name[0] == '\0' || strspn(g->name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(g->name))
		return fail(l, v[G_GROUP], "expected a group name of letters, digits, '_' and '-' "
		    "(it becomes part of report paths), got '%.64s'", g->name);
	for (i = 0; i < idx; i++) {
		if (strcmp(sc->groups[i].name, g->name) == 0)
			return fail(l, v[G_GROUP], "duplicate group name '%.64s'", g->name);
	}
	if (v[G_COUNT] == 0)
		return fail(l, id, "missing key 'count' in group '%.64s'", g->name);
	if ((rv = get_uint(l, v[G_COUNT], 1, MAX_COUNT, "expected a whole number >= 1",
	    "expected at most 10000000 devices in a group", &x)) != SIM_OK)
		return rv;
	g->count = (uint32_t)x;
	if (present(l, v[G_ID])) {
		if ((rv = get_tmpl(l, v[G_ID], SIM_TMPL_N | SIM_TMPL_GROUP,
		    "an id template like sensor-{n:05}", &g->id)) != SIM_OK)
			return rv;
		if (sim_tmpl_source(g->id)[0] == '\0')
			return fail(l, v[G_ID], "expected an id template, not an empty string");
		/* Devices with the same client id would keep taking each
		 * other's session at the broker. */
		if (g->count > 1 && !(sim_tmpl_uses(g->id) & SIM_TMPL_N))
			return fail(l, v[G_ID], "expected an id that uses {n}, so that the %" PRIu32
			    " devices get distinct ids", g->count);
	} else if ((rv = sim_tmpl_compile(DEFAULT_ID, SIM_TMPL_N | SIM_TMPL_GROUP, &g->id,
	    NULL, 0, NULL)) != SIM_OK) {
		return rv;
	}
	if ((rv = load_mqtt(l, v[G_MQTT], g)) != SIM_OK ||
	    (rv = load_connect(l, v[G_CONNECT], g)) != SIM_OK)
		return rv;
	if (present(l, v[G_HAL]) && !present(l, v[G_MODEL]))
		return fail(l, v[G_HAL], "expected hal: only in a group with a model:");
	if (present(l, v[G_MODEL])) {
		if ((g->model = calloc(1, sizeof(*g->model))) == NULL)
			return SIM_ERR_NOMEM;
		if ((rv = load_group_model(l, v[G_MODEL], v[G_HAL], g->model)) != SIM_OK)
			return rv;
		g->model_pos = pos_of(l, v[G_MODEL]);
	}
	if (present(l, v[G_TELEMETRY])) {
		if ((rv = load_telemetry(l, v[G_TELEMETRY], g, v[G_GROUP],
		    present(l, v[G_ID]) ? v[G_ID] : id)) != SIM_OK)
			return rv;
	} else if (g->model != NULL && g->model->every_ns > 0 &&
	    (g->model->payload != NULL || g->model->has_frame)) {
		/* The model's own telemetry, on the default topic. */
		g->telemetry.enabled = true;
		g->telemetry.model_payload = true;
		g->telemetry.size = DEFAULT_SIZE;
		if ((rv = sim_tmpl_compile(DEFAULT_TOPIC, SIM_TMPL_ID | SIM_TMPL_N | SIM_TMPL_GROUP,
		    &g->telemetry.topic, NULL, 0, NULL)) != SIM_OK)
			return rv;
	}
	if (g->telemetry.enabled && g->model != NULL) {
		if (g->telemetry.every_ns == 0)
			g->telemetry.every_ns = g->model->every_ns;
		if (!g->telemetry.qos_given && g->model->qos >= 0)
			g->telemetry.qos = g->model->qos;
	}
	return SIM_OK;
}

static enum sim_err
load_fleet(struct loader *l, int root, int id)
{
	struct sim_scenario *sc = l->sc;
	yaml_node_t *n;
	size_t i, count;
	enum sim_err rv;

	if (id == 0)
		return missing(l, root, "fleet", "the scenario");
	n = node(l, id);
	if (is_null(n))
		return fail(l, id, "expected a list of groups (- group: NAME), not an empty value");
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(l, id, "expected a list of groups (- group: NAME), not %s", kind(n));
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count == 0)
		return fail(l, id, "expected at least one group in fleet");
	if ((sc->groups = calloc(count, sizeof(*sc->groups))) == NULL)
		return SIM_ERR_NOMEM;
	sc->ngroups = count;
	for (i = 0; i < count; i++) {
		/* Re-read the node: nothing adds nodes now, but keep no
		 * pointer across calls on principle. */
		int item = node(l, id)->data.sequence.items.start[i];

		if ((rv = load_group(l, item, &sc->groups[i], i)) != SIM_OK)
			return rv;
	}
	return SIM_OK;
}

static enum sim_err
load_asserts(struct loader *l, int id)
{
	struct sim_scenario *sc = l->sc;
	yaml_node_t *n = node(l, id);
	size_t i, count;
	enum sim_err rv = SIM_OK;

	if (n->type != YAML_SEQUENCE_NODE)
		return fail(l, id, "expected a list of assertions like "
		    "- patterns.telemetry.lost == 0, not %s", kind(n));
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count == 0)
		return SIM_OK;
	if ((sc->asserts = calloc(count, sizeof(*sc->asserts))) == NULL)
		return SIM_ERR_NOMEM;
	for (i = 0; i < count; i++) {
		int item = n->data.sequence.items.start[i];
		struct sim_scenario_assert *a = &sc->asserts[i];
		const char *s = scalar(l, item);
		char err[256] = "";
		size_t col = 0;
		enum rpt_err e;

		if (s == NULL)
			return fail(l, item, "expected an assertion like "
			    "patterns.telemetry.lost == 0, not %s", kind(node(l, item)));
		e = rpt_assert_parse(s, &a->a, err, sizeof(err), &col);
		if (e == RPT_ERR_NOMEM) {
			rv = SIM_ERR_NOMEM;
		} else if (e != RPT_OK) {
			rv = fail_at(l, item, col, "%s", err[0] != '\0' ? err :
			    "expected an assertion like patterns.telemetry.lost == 0");
		}
		if (rv != SIM_OK) {
			rpt_assertion_fini(&a->a);
			memset(&a->a, 0, sizeof(a->a));
			return rv;
		}
		a->pos = pos_of(l, item);
		sc->nasserts = i + 1;
	}
	return SIM_OK;
}

static enum sim_err
load_formats(struct loader *l, int id)
{
	yaml_node_t *n = node(l, id);
	unsigned mask = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return fail(l, id, "expected a list of formats like [json, junit, html, csv], not %s",
		    kind(n));
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		const char *s = scalar(l, *it);
		size_t k;

		for (k = 0; s != NULL && format_names[k] != NULL; k++)
			if (strcmp(s, format_names[k]) == 0)
				break;
		if (s == NULL || format_names[k] == NULL)
			return fail(l, *it, "expected a report format: json, junit, html or csv");
		mask |= 1u << k;
	}
	/* report.json is what assertions, merge and compare read: always. */
	l->sc->report_formats = mask | SIM_REPORT_JSON;
	return SIM_OK;
}

static enum sim_err
load_report(struct loader *l, int id)
{
	int v[MAX_KEYS] = { 0 };
	enum sim_err rv;

	if (present(l, id) && (rv = get_keys(l, id, "report", "a mapping like { dir: out }",
	    report_keys, v)) != SIM_OK)
		return rv;
	l->sc->report_formats = SIM_REPORT_ALL;
	if (present(l, v[R_FORMATS]) && (rv = load_formats(l, v[R_FORMATS])) != SIM_OK)
		return rv;
	if (l->ov != NULL && l->ov->report_dir != NULL) {
		if ((l->sc->report_dir = strdup(l->ov->report_dir)) == NULL)
			return SIM_ERR_NOMEM;
		return SIM_OK;
	}
	if (present(l, v[R_DIR]))
		return get_str(l, v[R_DIR], "a folder name", &l->sc->report_dir);
	if ((l->sc->report_dir = strdup(DEFAULT_REPORT_DIR)) == NULL)
		return SIM_ERR_NOMEM;
	return SIM_OK;
}

/* An ISO 8601 UTC time, 2026-01-01T00:00:00Z (fractions of a second
 * allowed), as Unix nanoseconds. */
static enum sim_err
get_epoch(struct loader *l, int id, int64_t *out)
{
	const char *s = scalar(l, id);
	struct tm tm;
	char *end;
	double frac = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return fail(l, id, "expected a UTC time like 2026-01-01T00:00:00Z");
	if (*end == '.') {
		frac = strtod(end, &end);
	}
	if (strcmp(end, "Z") != 0 || (t = timegm(&tm)) == (time_t)-1)
		return fail(l, id, "expected a UTC time like 2026-01-01T00:00:00Z");
	*out = (int64_t)t * (int64_t)NS_PER_S + (int64_t)(frac * 1e9);
	return SIM_OK;
}

/* patterns: request-response. */

static const char *const rr_keys[] = {
	"direction", "convention", "method", "request_topic", "response_topic", "response_prefix",
	"payload", "rate", "every", "targets", "timeout", "qos", "responder", "response", "expect",
	NULL,
};
enum { RK_DIRECTION, RK_CONVENTION, RK_METHOD, RK_REQUEST_TOPIC, RK_RESPONSE_TOPIC,
	RK_RESPONSE_PREFIX, RK_PAYLOAD, RK_RATE, RK_EVERY, RK_TARGETS, RK_TIMEOUT, RK_QOS,
	RK_RESPONDER, RK_RESPONSE, RK_EXPECT };
static const char *const targets_keys[] = { "group", "share", "pick", NULL };
static const char *const response_keys[] = { "status", "delay", "payload", NULL };
static const char *const expect_keys[] = { "status", "field", "equals", NULL };
static const char *const rr_dirs[] = { "c2d", "d2c", NULL };
static const char *const rr_convs[] = { "rid", "mqtt5", NULL };
static const char *const rr_picks[] = { "round_robin", "random", NULL };
static const char *const rr_responders[] = { "fleetsim", "external", NULL };

#define RR_TOPIC_VARS (SIM_TMPL_ID | SIM_TMPL_N | SIM_TMPL_GROUP | SIM_TMPL_METHOD | SIM_TMPL_RID)
#define DEFAULT_RR_TIMEOUT_NS (5 * NS_PER_S)
#define MAX_RR_PATTERNS 32

/* Fractions, written as 0.5 or 50%. */
static const struct unit frac_u[] = { { "%", 0.01 }, { "", 1 }, { NULL, 0 } };

/* targets: which devices a pattern reaches. keys start with group and
 * share; v gets the nodes of all of them, for the keys a pattern adds
 * and for messages about the group. *group is -1 until one is named. */
static enum sim_err
load_targets(struct loader *l, int id, const char *const *keys, int *v, int *group,
    double *share)
{
	enum sim_err rv;

	if ((rv = get_keys(l, id, "targets", "a mapping like { group: rooms, share: 0.5 }",
	    keys, v)) != SIM_OK)
		return rv;
	if (present(l, v[0])) {
		const char *g = scalar(l, v[0]);

		for (size_t i = 0; g != NULL && i < l->sc->ngroups; i++)
			if (strcmp(l->sc->groups[i].name, g) == 0)
				*group = (int)i;
		if (*group < 0)
			return fail(l, v[0], "expected the name of a fleet group");
	}
	if (present(l, v[1])) {
		if ((rv = get_number(l, v[1], frac_u, "a share like 0.5 or 50%", share)) != SIM_OK)
			return rv;
		if (!(*share > 0 && *share <= 1))
			return fail(l, v[1], "expected a share above 0 and at most 1 (or 100%%)");
	}
	return SIM_OK;
}

/* A rate for the whole fleet, per second. */
static enum sim_err
get_fleet_rate(struct loader *l, int id, double *out)
{
	static const struct unit u[] = { { "/s", 1 }, { "/m", 1.0 / 60 }, { "/min", 1.0 / 60 },
		{ "", 1 }, { NULL, 0 } };
	enum sim_err rv;

	if ((rv = get_number(l, id, u, "a rate like 200/s", out)) != SIM_OK)
		return rv;
	if (!(*out > 0 && *out <= 1e6))
		return fail(l, id, "expected a rate above 0 and at most 1000000/s");
	return SIM_OK;
}

/* A request or response payload template, errors at their column. */
static enum sim_err
get_rr_payload(struct loader *l, int id, struct sim_rr_payload **out)
{
	const char *src = scalar(l, id);
	char err[256];
	size_t off = 0;
	enum sim_err rv;

	if (src == NULL)
		return fail(l, id, "expected a payload template, not %s", kind(node(l, id)));
	rv = sim_rr_payload_compile(src, out, err, sizeof(err), &off);
	if (rv == SIM_ERR_SCENARIO)
		return fail_at(l, id, off, "%s", err);
	return rv;
}

/* d2c: what fleetsim's responder answers. */
static enum sim_err
load_response(struct loader *l, int id, struct sim_rr_cfg *r)
{
	int v[MAX_KEYS];
	uint64_t x;
	enum sim_err rv;

	if ((rv = get_keys(l, id, "response", "a mapping like { status: 200, delay: 20ms }",
	    response_keys, v)) != SIM_OK)
		return rv;
	if (present(l, v[0])) {
		if ((rv = get_uint(l, v[0], 100, 599, "expected a status from 100 to 599", NULL,
		    &x)) != SIM_OK)
			return rv;
		r->resp_status = (int)x;
	}
	if (present(l, v[1]) && (rv = get_dist(l, v[1], false, r->resp_delay)) != SIM_OK)
		return rv;
	if (present(l, v[2]) && (rv = get_rr_payload(l, v[2], &r->resp_payload)) != SIM_OK)
		return rv;
	return SIM_OK;
}

/* d2c: what an answer must be to count as ok. */
static enum sim_err
load_expect(struct loader *l, int id, struct sim_rr_cfg *r)
{
	int v[MAX_KEYS];
	uint64_t x;
	enum sim_err rv;

	if ((rv = get_keys(l, id, "expect", "a mapping like { status: [200], field: config }",
	    expect_keys, v)) != SIM_OK)
		return rv;
	if (present(l, v[0])) {
		yaml_node_t *n = node(l, v[0]);
		size_t count = n->type == YAML_SEQUENCE_NODE ? seq_len(l, v[0]) : 1;

		if ((r->expect_status = calloc(count, sizeof(int))) == NULL)
			return SIM_ERR_NOMEM;
		for (size_t i = 0; i < count; i++) {
			int item = n->type == YAML_SEQUENCE_NODE ? seq_item(l, v[0], i) : v[0];

			if ((rv = get_uint(l, item, 100, 599, "expected a status from 100 to 599",
			    NULL, &x)) != SIM_OK)
				return rv;
			r->expect_status[r->nexpect_status++] = (int)x;
		}
	}
	if (present(l, v[1]) && (rv = get_str(l, v[1], "a JSON member name",
	    &r->expect_field)) != SIM_OK)
		return rv;
	if (present(l, v[2])) {
		if (!present(l, v[1]))
			return fail(l, v[2], "expected equals together with field");
		if ((rv = get_str(l, v[2], "a value", &r->expect_equals)) != SIM_OK)
			return rv;
	}
	return SIM_OK;
}

static enum sim_err
load_rr(struct loader *l, int id, struct sim_rr_cfg *r)
{
	bool c2d;
	const char *req_default, *res_default = NULL;
	int v[MAX_KEYS], w[MAX_KEYS], k;
	uint64_t x;
	enum sim_err rv;

	if ((rv = get_keys(l, id, "request_response", "a mapping like { direction: c2d, method: "
	    "reboot, rate: 10/s }", rr_keys, v)) != SIM_OK)
		return rv;
	r->group = -1;
	r->share = 1;
	r->qos = 1;
	r->timeout_ns = DEFAULT_RR_TIMEOUT_NS;
	r->resp_status = 200;
	if ((r->resp_delay = calloc(1, sizeof(*r->resp_delay))) == NULL)
		return SIM_ERR_NOMEM;
	if (v[RK_DIRECTION] == 0)
		return missing(l, id, "direction", "request_response");
	if ((rv = get_name_in(l, v[RK_DIRECTION], rr_dirs, "a direction", &k)) != SIM_OK)
		return rv;
	r->dir = (enum sim_rr_dir)k;
	c2d = r->dir == SIM_RR_C2D;
	if (present(l, v[RK_CONVENTION])) {
		if ((rv = get_name_in(l, v[RK_CONVENTION], rr_convs, "a convention", &k)) != SIM_OK)
			return rv;
		r->conv = (enum sim_rr_conv)k;
	}
	if (v[RK_METHOD] == 0)
		return missing(l, id, "method", "request_response");
	if ((rv = get_str(l, v[RK_METHOD], "a method name", &r->method)) != SIM_OK ||
	    (rv = check_elem_name(l, v[RK_METHOD], r->method)) != SIM_OK)
		return rv;
	/* Each direction's own keys. */
	if (c2d && v[RK_EVERY] != 0)
		return fail(l, v[RK_EVERY], "expected rate for c2d; every is for d2c");
	if (!c2d && v[RK_RATE] != 0)
		return fail(l, v[RK_RATE], "expected every for d2c; rate is for c2d");
	for (int key = RK_RESPONDER; c2d && key <= RK_EXPECT; key++)
		if (v[key] != 0)
			return fail(l, v[key], "expected %s only with d2c", rr_keys[key]);
	if (c2d && v[RK_RESPONSE_PREFIX] != 0)
		return fail(l, v[RK_RESPONSE_PREFIX], "expected response_prefix only with d2c");
	if (!c2d && v[RK_RESPONSE_TOPIC] != 0)
		return fail(l, v[RK_RESPONSE_TOPIC], "expected response_prefix for d2c answers");
	if (c2d) {
		if (v[RK_RATE] == 0)
			return missing(l, id, "rate", "a c2d request_response");
		if ((rv = get_fleet_rate(l, v[RK_RATE], &r->rate)) != SIM_OK)
			return rv;
	} else {
		if (v[RK_EVERY] == 0)
			return missing(l, id, "every", "a d2c request_response");
		if ((rv = get_duration(l, v[RK_EVERY], true, &r->every_ns)) != SIM_OK)
			return rv;
	}
	if (present(l, v[RK_TIMEOUT]) && (rv = get_duration(l, v[RK_TIMEOUT], true,
	    &r->timeout_ns)) != SIM_OK)
		return rv;
	if (present(l, v[RK_QOS])) {
		if ((rv = get_uint(l, v[RK_QOS], 0, 2, "expected a qos of 0, 1 or 2", NULL, &x)) !=
		    SIM_OK)
			return rv;
		r->qos = (int)x;
	}
	if (present(l, v[RK_TARGETS])) {
		if ((rv = load_targets(l, v[RK_TARGETS], targets_keys, w, &r->group,
		    &r->share)) != SIM_OK)
			return rv;
		if (present(l, w[2])) {
			if ((rv = get_name_in(l, w[2], rr_picks, "a pick", &k)) != SIM_OK)
				return rv;
			r->random = k == 1;
		}
	}
	if (present(l, v[RK_RESPONDER])) {
		if ((rv = get_name_in(l, v[RK_RESPONDER], rr_responders, "a responder", &k)) != SIM_OK)
			return rv;
		r->external = k == 1;
	}
	if (r->external && v[RK_RESPONSE] != 0)
		return fail(l, v[RK_RESPONSE], "expected no response with responder: external (the "
		    "backend decides); use expect to check its answers");
	if (present(l, v[RK_RESPONSE]) && (rv = load_response(l, v[RK_RESPONSE], r)) != SIM_OK)
		return rv;
	if (present(l, v[RK_EXPECT]) && (rv = load_expect(l, v[RK_EXPECT], r)) != SIM_OK)
		return rv;
	if (!c2d) {
		/* d2c: requests on REQUEST_TOPIC (/?$rid=RID appended in the rid
		 * convention), answers under the prefix. */
		req_default = "devices/{id}/req/{method}";
		if (present(l, v[RK_RESPONSE_PREFIX])) {
			if ((rv = get_str(l, v[RK_RESPONSE_PREFIX], "a topic prefix like devices",
			    &r->response_prefix)) != SIM_OK)
				return rv;
			if (strpbrk(r->response_prefix, "+#{}") != NULL)
				return fail(l, v[RK_RESPONSE_PREFIX], "expected a plain topic prefix, "
				    "without wildcards or variables");
		} else if ((r->response_prefix = strdup("devices")) == NULL) {
			return SIM_ERR_NOMEM;
		}
	} else if (r->conv == SIM_RR_CONV_RID) {
		req_default = "devices/{id}/methods/POST/{method}/?$rid={rid}";
		res_default = "devices/{id}/methods/res/{status}/?$rid={rid}";
	} else {
		req_default = "devices/{id}/req/{method}";
		if (v[RK_RESPONSE_TOPIC] != 0)
			return fail(l, v[RK_RESPONSE_TOPIC], "expected no response_topic with the mqtt5 "
			    "convention: the request's Response Topic says where to answer");
	}
	if (present(l, v[RK_REQUEST_TOPIC]))
		rv = get_tmpl(l, v[RK_REQUEST_TOPIC], c2d ? RR_TOPIC_VARS : RR_TOPIC_VARS & ~SIM_TMPL_RID,
		    "a topic template like devices/{id}/req/{method}", &r->request_topic);
	else
		rv = sim_tmpl_compile(req_default, RR_TOPIC_VARS, &r->request_topic, NULL, 0, NULL);
	if (rv != SIM_OK)
		return rv;
	/* The device (c2d) or the responder (d2c) must tell whose request it
	 * is, and the rid convention needs the id on the wire. */
	if (!(sim_tmpl_uses(r->request_topic) & SIM_TMPL_ID))
		return fail(l, v[RK_REQUEST_TOPIC] ? v[RK_REQUEST_TOPIC] : id,
		    "expected a request_topic that uses {id}, so that each device gets its own");
	if (c2d && r->conv == SIM_RR_CONV_RID && !(sim_tmpl_uses(r->request_topic) & SIM_TMPL_RID))
		return fail(l, v[RK_REQUEST_TOPIC] ? v[RK_REQUEST_TOPIC] : id,
		    "expected a request_topic that uses {rid} with the rid convention");
	if (res_default != NULL) {
		if (present(l, v[RK_RESPONSE_TOPIC]))
			rv = get_tmpl(l, v[RK_RESPONSE_TOPIC], RR_TOPIC_VARS | SIM_TMPL_STATUS,
			    "a topic template like devices/{id}/methods/res/{status}/?$rid={rid}",
			    &r->response_topic);
		else
			rv = sim_tmpl_compile(res_default, RR_TOPIC_VARS | SIM_TMPL_STATUS,
			    &r->response_topic, NULL, 0, NULL);
		if (rv != SIM_OK)
			return rv;
		if ((sim_tmpl_uses(r->response_topic) & (SIM_TMPL_RID | SIM_TMPL_STATUS)) !=
		    (SIM_TMPL_RID | SIM_TMPL_STATUS))
			return fail(l, v[RK_RESPONSE_TOPIC] ? v[RK_RESPONSE_TOPIC] : id,
			    "expected a response_topic that uses {status} and {rid}");
	}
	if (present(l, v[RK_PAYLOAD]) && (rv = get_rr_payload(l, v[RK_PAYLOAD], &r->payload)) !=
	    SIM_OK)
		return rv;
	/* The mqtt5 convention's properties need MQTT 5 devices. */
	for (size_t i = 0; r->conv == SIM_RR_CONV_MQTT5 && i < l->sc->ngroups; i++) {
		if ((r->group < 0 || (size_t)r->group == i) &&
		    l->sc->groups[i].mqtt_version != MQTT_V5)
			return fail(l, v[RK_CONVENTION], "expected the rid convention for group '%.64s', "
			    "which speaks MQTT 3.1.1 (mqtt5 needs version \"5\")", l->sc->groups[i].name);
	}
	return SIM_OK;
}

/* patterns: two-phase commit (docs/two-phase-commit.md). */

static const char *const tpc_keys[] = {
	"coordinator", "group_size", "targets", "rate", "deadline", "resend", "recovery", "change",
	"qos", "min_battery", "topics", "faults", "log", "coordinator_bug", NULL,
};
enum { TK_COORDINATOR, TK_GROUP_SIZE, TK_TARGETS, TK_RATE, TK_DEADLINE, TK_RESEND, TK_RECOVERY,
	TK_CHANGE, TK_QOS, TK_MIN_BATTERY, TK_TOPICS, TK_FAULTS, TK_LOG, TK_BUG };
static const char *const tpc_targets_keys[] = { "group", "share", NULL };
static const char *const tpc_topic_keys[] = { "prepare", "decision", "vote", "ack", "query",
	NULL };
enum { TT_PREPARE, TT_DECISION, TT_VOTE, TT_ACK, TT_QUERY };
static const char *const tpc_fault_keys[] = {
	"vote_no", "crash_before_vote", "crash_after_vote", "reboot_during_commit", "message_loss",
	"partition", "partition_for", "coordinator_crash", "coordinator_down", NULL,
};
enum { TF_VOTE_NO, TF_CRASH_BEFORE, TF_CRASH_AFTER, TF_REBOOT, TF_LOSS, TF_PARTITION,
	TF_PARTITION_FOR, TF_COORD_CRASH, TF_COORD_DOWN };
/* In the order of enum sim_tpc_bug. */
static const char *const tpc_bugs[] = { "none", "commit_despite_no_vote", "forget_decision",
	NULL };

#define TPC_TOPIC_VARS (SIM_TMPL_ID | SIM_TMPL_N | SIM_TMPL_GROUP)
#define DEFAULT_TPC_GROUP_SIZE 10
#define DEFAULT_TPC_DEADLINE_NS (2 * NS_PER_S)
#define DEFAULT_TPC_RESEND_NS (NS_PER_S / 2)
#define DEFAULT_TPC_RECOVERY_NS (10 * NS_PER_S)
#define DEFAULT_TPC_PARTITION_NS (3 * NS_PER_S)
#define DEFAULT_TPC_DOWN_NS NS_PER_S
#define DEFAULT_TPC_CHANGE "{\"tx\": {tx.n}}"

/* A fault's probability, written as 0.02 or 2%. */
static enum sim_err
get_chance(struct loader *l, int id, double *out)
{
	enum sim_err rv = get_number(l, id, frac_u, "a probability like 0.02 or 2%", out);

	if (rv == SIM_OK && !(*out >= 0 && *out <= 1))
		return fail(l, id, "expected a probability from 0 to 1 (or 100%%)");
	return rv;
}

/* faults.coordinator_crash: "every 30s", or the period alone. */
static enum sim_err
get_every(struct loader *l, int id, uint64_t *out)
{
	const char *s = scalar(l, id);
	size_t off = 0;
	enum rpt_err e;

	if (s == NULL)
		return fail(l, id, "expected a period like every 30s, not %s", kind(node(l, id)));
	if (strncmp(s, "every", 5) == 0 && (s[5] == ' ' || s[5] == '\t'))
		off = 5 + strspn(s + 5, " \t");
	e = rpt_parse_duration(s + off, out);
	if (e == RPT_ERR_NOMEM)
		return SIM_ERR_NOMEM;
	if (e != RPT_OK || *out == 0)
		return fail_at(l, id, off, "expected a period like every 30s (a duration > 0)");
	return SIM_OK;
}

/* The participants' topics are templates that must give each device its
 * own; the coordinator's are plain, shared by every device, whose id is
 * in the body. */
static enum sim_err
load_tpc_topics(struct loader *l, int id, struct sim_tpc_cfg *t)
{
	static const char *const tmpl_default[] = { "tpc/{id}/prepare", "tpc/{id}/decision" };
	static const char *const plain_default[] = { "tpc/coord/vote", "tpc/coord/ack",
		"tpc/coord/query" };
	struct sim_tmpl **tmpl[] = { &t->prepare_topic, &t->decision_topic };
	char **plain[] = { &t->vote_topic, &t->ack_topic, &t->query_topic };
	int v[MAX_KEYS] = { 0 };
	enum sim_err rv;

	if (present(l, id) && (rv = get_keys(l, id, "topics", "a mapping like { prepare: "
	    "tpc/{id}/prepare, vote: tpc/coord/vote }", tpc_topic_keys, v)) != SIM_OK)
		return rv;
	for (int i = TT_PREPARE; i <= TT_DECISION; i++) {
		int k = v[i];

		if (!present(l, k)) {
			if ((rv = sim_tmpl_compile(tmpl_default[i], TPC_TOPIC_VARS, tmpl[i], NULL, 0,
			    NULL)) != SIM_OK)
				return rv;
			continue;
		}
		if ((rv = get_tmpl(l, k, TPC_TOPIC_VARS, "a topic template like tpc/{id}/prepare",
		    tmpl[i])) != SIM_OK ||
		    (rv = check_topic_text(l, k, sim_tmpl_source(*tmpl[i]))) != SIM_OK)
			return rv;
		if (!(sim_tmpl_uses(*tmpl[i]) & SIM_TMPL_ID))
			return fail(l, k, "expected a topic with {id}, so that each device gets its own");
	}
	for (int i = TT_VOTE; i <= TT_QUERY; i++) {
		int k = v[i];
		char **out = plain[i - TT_VOTE];
		long brace;

		if (!present(l, k)) {
			if ((*out = strdup(plain_default[i - TT_VOTE])) == NULL)
				return SIM_ERR_NOMEM;
			continue;
		}
		if ((rv = get_str(l, k, "a topic name like tpc/coord/vote", out)) != SIM_OK ||
		    (rv = check_topic_text(l, k, *out)) != SIM_OK)
			return rv;
		if ((brace = find_any(*out, "{")) >= 0)
			return fail_at(l, k, (size_t)brace, "expected a plain topic: the coordinator's "
			    "topics are shared by every device and take no variables");
		if (strlen(*out) > MAX_MQTT_STRING)
			return fail(l, k, "expected topics of at most %d bytes", MAX_MQTT_STRING);
	}
	return SIM_OK;
}

static enum sim_err
load_tpc_faults(struct loader *l, int id, struct sim_tpc_cfg *t)
{
	double *chance[] = { &t->vote_no, &t->crash_before_vote, &t->crash_after_vote,
		&t->reboot_during_commit, &t->message_loss, &t->partition };
	int v[MAX_KEYS];
	enum sim_err rv;

	if ((rv = get_keys(l, id, "faults", "a mapping like { vote_no: 2%, partition: 1% }",
	    tpc_fault_keys, v)) != SIM_OK)
		return rv;
	for (int i = TF_VOTE_NO; i <= TF_PARTITION; i++)
		if (present(l, v[i]) && (rv = get_chance(l, v[i], chance[i])) != SIM_OK)
			return rv;
	if (present(l, v[TF_PARTITION_FOR]) && (rv = get_duration(l, v[TF_PARTITION_FOR], true,
	    &t->partition_ns)) != SIM_OK)
		return rv;
	/* fleetsim can crash only the coordinator it runs. */
	for (int i = TF_COORD_CRASH; t->external && i <= TF_COORD_DOWN; i++)
		if (v[i] != 0)
			return fail(l, v[i], "expected no %s with coordinator: external (fleetsim "
			    "crashes only its own coordinator)", tpc_fault_keys[i]);
	if (present(l, v[TF_COORD_CRASH]) && (rv = get_every(l, v[TF_COORD_CRASH],
	    &t->coordinator_crash_ns)) != SIM_OK)
		return rv;
	if (present(l, v[TF_COORD_DOWN]) && (rv = get_duration(l, v[TF_COORD_DOWN], true,
	    &t->coordinator_down_ns)) != SIM_OK)
		return rv;
	return SIM_OK;
}

/* Every participant keeps its protocol state in flash, and a transaction
 * needs group_size distinct participants; both depend on the fleet, which
 * is loaded by now. Errors about a group stand at targets.group when it
 * is named (groupid), else at the pattern. */
static enum sim_err
check_tpc_targets(struct loader *l, int id, int groupid, int sizeid, const struct sim_tpc_cfg *t)
{
	const struct sim_scenario *sc = l->sc;
	int at = present(l, groupid) ? groupid : id;
	uint64_t devices = 0, targeted;

	for (size_t i = 0; i < sc->ngroups; i++) {
		const struct sim_group *g = &sc->groups[i];

		if (t->group >= 0 && (size_t)t->group != i)
			continue;
		if (g->model == NULL)
			return fail(l, at, "group '%.64s' has no model: two-phase-commit participants "
			    "keep their state in flash, so they need a model with flash", g->name);
		if (!g->model->has_flash)
			return fail(l, at, "group '%.64s' has no flash in its model: two-phase-commit "
			    "participants keep their state in flash", g->name);
		devices += g->count;
	}
	/* The slack absorbs a decimal share's binary rounding: 29% of 100
	 * is 28.999999999999996. */
	targeted = (uint64_t)floor((double)devices * t->share + 1e-6);
	if (t->group_size > targeted)
		return fail(l, sizeid != 0 ? sizeid : id, "expected a group_size of at most %" PRIu64
		    ", the number of devices the pattern targets%s", targeted,
		    sizeid != 0 ? "" : " (group_size defaults to 10)");
	return SIM_OK;
}

static enum sim_err
load_tpc(struct loader *l, int id, struct sim_tpc_cfg *t)
{
	int v[MAX_KEYS], w[MAX_KEYS] = { 0 }, k;
	uint64_t x;
	enum sim_err rv;

	if ((rv = get_keys(l, id, "two_phase_commit", "a mapping like { group_size: 10, "
	    "rate: 20/s }", tpc_keys, v)) != SIM_OK)
		return rv;
	t->group_size = DEFAULT_TPC_GROUP_SIZE;
	t->group = -1;
	t->share = 1;
	t->deadline_ns = DEFAULT_TPC_DEADLINE_NS;
	t->resend_ns = DEFAULT_TPC_RESEND_NS;
	t->recovery_ns = DEFAULT_TPC_RECOVERY_NS;
	t->qos = 1;
	t->partition_ns = DEFAULT_TPC_PARTITION_NS;
	t->coordinator_down_ns = DEFAULT_TPC_DOWN_NS;
	if (present(l, v[TK_COORDINATOR])) {
		if ((rv = get_name_in(l, v[TK_COORDINATOR], rr_responders, "a coordinator", &k)) !=
		    SIM_OK)
			return rv;
		t->external = k == 1;
	}
	/* The user's coordinator runs at its own pace and with its own bugs. */
	if (t->external && v[TK_RATE] != 0)
		return fail(l, v[TK_RATE], "expected no rate with coordinator: external (the "
		    "external coordinator sets the pace)");
	if (t->external && v[TK_BUG] != 0)
		return fail(l, v[TK_BUG], "expected no coordinator_bug with coordinator: external "
		    "(the bugs are fleetsim's coordinator's)");
	if (!t->external) {
		if (v[TK_RATE] == 0)
			return missing(l, id, "rate", "a two_phase_commit with coordinator: fleetsim");
		if ((rv = get_fleet_rate(l, v[TK_RATE], &t->rate)) != SIM_OK)
			return rv;
	}
	if (present(l, v[TK_GROUP_SIZE])) {
		if ((rv = get_uint(l, v[TK_GROUP_SIZE], 1, UINT32_MAX, "expected a whole number >= 1",
		    "expected a group_size below 2^32", &x)) != SIM_OK)
			return rv;
		t->group_size = (uint32_t)x;
	}
	if (present(l, v[TK_TARGETS]) && (rv = load_targets(l, v[TK_TARGETS], tpc_targets_keys, w,
	    &t->group, &t->share)) != SIM_OK)
		return rv;
	if (present(l, v[TK_DEADLINE]) && (rv = get_duration(l, v[TK_DEADLINE], true,
	    &t->deadline_ns)) != SIM_OK)
		return rv;
	if (present(l, v[TK_RESEND]) && (rv = get_duration(l, v[TK_RESEND], true,
	    &t->resend_ns)) != SIM_OK)
		return rv;
	if (present(l, v[TK_RECOVERY]) && (rv = get_duration(l, v[TK_RECOVERY], false,
	    &t->recovery_ns)) != SIM_OK)
		return rv;
	if (present(l, v[TK_CHANGE]))
		rv = get_rr_payload(l, v[TK_CHANGE], &t->change);
	else
		rv = sim_rr_payload_compile(DEFAULT_TPC_CHANGE, &t->change, NULL, 0, NULL);
	if (rv != SIM_OK)
		return rv;
	if (present(l, v[TK_QOS])) {
		/* The contract is QoS 1; 0 is there to watch the protocol cope with loss. */
		if ((rv = get_uint(l, v[TK_QOS], 0, 1, "expected a qos of 0 or 1", NULL, &x)) !=
		    SIM_OK)
			return rv;
		t->qos = (int)x;
	}
	if (present(l, v[TK_MIN_BATTERY])) {
		static const struct unit pct_u[] = { { "%", 1 }, { "", 1 }, { NULL, 0 } };

		if ((rv = get_number(l, v[TK_MIN_BATTERY], pct_u, "a charge like 20%",
		    &t->min_battery_pct)) != SIM_OK)
			return rv;
		if (!(t->min_battery_pct >= 0 && t->min_battery_pct <= 100))
			return fail(l, v[TK_MIN_BATTERY], "expected a charge from 0 to 100%%");
	}
	if ((rv = load_tpc_topics(l, v[TK_TOPICS], t)) != SIM_OK)
		return rv;
	if (present(l, v[TK_FAULTS]) && (rv = load_tpc_faults(l, v[TK_FAULTS], t)) != SIM_OK)
		return rv;
	if (present(l, v[TK_LOG]) && (rv = get_str(l, v[TK_LOG], "a file path",
	    &t->log_path)) != SIM_OK)
		return rv;
	if (present(l, v[TK_BUG])) {
		if ((rv = get_name_in(l, v[TK_BUG], tpc_bugs, "a coordinator_bug", &k)) != SIM_OK)
			return rv;
		t->bug = (enum sim_tpc_bug)k;
	}
	return check_tpc_targets(l, id, w[0], v[TK_GROUP_SIZE], t);
}

static enum sim_err
load_patterns(struct loader *l, int id)
{
	static const char *const kinds[] = { "request_response", "two_phase_commit", NULL };
	struct sim_scenario *sc = l->sc;
	yaml_node_t *n = node(l, id);
	size_t count, item_of[MAX_RR_PATTERNS];
	enum sim_err rv;

	if (n->type != YAML_SEQUENCE_NODE)
		return fail(l, id, "expected a list of patterns like - request_response: {...}, "
		    "not %s", kind(n));
	count = seq_len(l, id);
	if (count == 0)
		return SIM_OK;
	if (count > MAX_RR_PATTERNS)
		return fail(l, seq_item(l, id, MAX_RR_PATTERNS), "expected at most %d patterns",
		    MAX_RR_PATTERNS);
	if ((sc->rr = calloc(count, sizeof(*sc->rr))) == NULL)
		return SIM_ERR_NOMEM;
	for (size_t i = 0; i < count; i++) {
		int item = seq_item(l, id, i), v[MAX_KEYS];
		struct sim_rr_cfg *r;

		if ((rv = get_keys(l, item, "the pattern", "a pattern like - request_response: {...}",
		    kinds, v)) != SIM_OK)
			return rv;
		if (v[0] != 0 && v[1] != 0)
			return fail(l, item, "expected one pattern per list item; start the next with "
			    "'- '");
		if (v[1] != 0) {
			/* fleetsim runs one coordinator, with one log. */
			if (sc->ntpc > 0)
				return fail(l, item, "expected at most one two_phase_commit pattern");
			if ((sc->tpc = calloc(1, sizeof(*sc->tpc))) == NULL)
				return SIM_ERR_NOMEM;
			sc->ntpc = 1;
			sc->tpc->pos = pos_of(l, v[1]);
			if ((rv = load_tpc(l, v[1], sc->tpc)) != SIM_OK)
				return rv;
			continue;
		}
		if (v[0] == 0)
			return fail(l, item, "expected a pattern: request_response, two_phase_commit");
		item_of[sc->nrr] = i;
		r = &sc->rr[sc->nrr++];
		r->pos = pos_of(l, v[0]);
		if ((rv = load_rr(l, v[0], r)) != SIM_OK)
			return rv;
		/* A device runs one d2c schedule: two would need two. */
		for (size_t j = 0; r->dir == SIM_RR_D2C && j + 1 < sc->nrr; j++) {
			const struct sim_rr_cfg *b = &sc->rr[j];

			if (b->dir == SIM_RR_D2C && (r->group < 0 || b->group < 0 ||
			    r->group == b->group))
				return fail(l, v[0], "expected one d2c pattern per group; this one and "
				    "pattern %zu both have devices of the same group", item_of[j] + 1);
		}
	}
	return SIM_OK;
}

static enum sim_err
validate(struct loader *l)
{
	struct sim_scenario *sc = l->sc;
	yaml_node_t *root = yaml_document_get_root_node(&l->doc);
	int v[MAX_KEYS];
	enum sim_err rv;

	if (root == NULL || is_null(root))
		return fail(l, 0, "expected a scenario: a mapping with name, duration and fleet");
	if ((rv = get_keys(l, 1, "the scenario", "a scenario: a mapping with name, duration "
	    "and fleet", top_keys, v)) != SIM_OK)
		return rv;
	if (v[K_NAME] == 0)
		return missing(l, 1, "name", "the scenario");
	if ((rv = get_str(l, v[K_NAME], "a scenario name", &sc->name)) != SIM_OK)
		return rv;
	sc->seed = 1;
	if (present(l, v[K_SEED]) && (rv = get_uint(l, v[K_SEED], 0, UINT64_MAX,
	    "expected a whole number >= 0", "expected a seed below 2^64", &sc->seed)) != SIM_OK)
		return rv;
	if (l->ov != NULL && l->ov->has_seed)
		sc->seed = l->ov->seed;
	if (v[K_DURATION] == 0)
		return missing(l, 1, "duration", "the scenario");
	if ((rv = get_duration(l, v[K_DURATION], true, &sc->duration_ns)) != SIM_OK)
		return rv;
	sc->drain_ns = DEFAULT_DRAIN_NS;
	if (present(l, v[K_DRAIN]) && (rv = get_duration(l, v[K_DRAIN], false,
	    &sc->drain_ns)) != SIM_OK)
		return rv;
	sc->time_scale = 1;
	if (present(l, v[K_TIME_SCALE])) {
		if ((rv = get_real(l, v[K_TIME_SCALE], &sc->time_scale)) != SIM_OK)
			return rv;
		if (!(sc->time_scale >= HAL_TIME_SCALE_MIN && sc->time_scale <= HAL_TIME_SCALE_MAX))
			return fail(l, v[K_TIME_SCALE], "expected a time_scale from 0.000001 to 1000000 "
			    "(simulated seconds per real second)");
	}
	if (present(l, v[K_EPOCH]) && (rv = get_epoch(l, v[K_EPOCH], &sc->epoch_ns)) != SIM_OK)
		return rv;
	sc->has_epoch = present(l, v[K_EPOCH]);
	if ((rv = load_target(l, v[K_TARGET], &sc->target)) != SIM_OK)
		return rv;
	if ((rv = load_fleet(l, 1, v[K_FLEET])) != SIM_OK)
		return rv;
	if (present(l, v[K_PATTERNS]) && (rv = load_patterns(l, v[K_PATTERNS])) != SIM_OK)
		return rv;
	if (present(l, v[K_ASSERT]) && (rv = load_asserts(l, v[K_ASSERT])) != SIM_OK)
		return rv;
	return load_report(l, v[K_REPORT]);
}

/* --set: overrides in the tree. */

static bool
valid_utf8(const unsigned char *s)
{
	while (*s != '\0') {
		size_t n, i;
		uint32_t c;

		if (*s < 0x80) {
			s++;
			continue;
		} else if ((*s & 0xe0) == 0xc0) {
			n = 1;
			c = *s & 0x1f;
		} else if ((*s & 0xf0) == 0xe0) {
			n = 2;
			c = *s & 0x0f;
		} else if ((*s & 0xf8) == 0xf0) {
			n = 3;
			c = *s & 0x07;
		} else {
			return false;
		}
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			c = (c << 6) | (s[i] & 0x3f);
		}
		if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}

/* Adds a node from --set number si; its mark records where in the
 * argument it came from. Returns 0 when out of memory. */
static int
add_node(struct loader *l, size_t si, size_t col, yaml_node_type_t type, const char *s,
    size_t len)
{
	yaml_node_t *n;
	int id;

	if (type == YAML_SCALAR_NODE)
		id = yaml_document_add_scalar(&l->doc, NULL, (const yaml_char_t *)s, (int)len,
		    YAML_PLAIN_SCALAR_STYLE);
	else
		id = yaml_document_add_mapping(&l->doc, NULL, YAML_BLOCK_MAPPING_STYLE);
	if (id == 0)
		return 0;
	n = node(l, id);
	n->start_mark.index = 0;
	n->start_mark.line = si;
	n->start_mark.column = col;
	return id;
}

/* The item of a fleet list whose group is name, or 0. */
static int
find_group(struct loader *l, int seq, const char *name, size_t len)
{
	yaml_node_t *n = node(l, seq);
	yaml_node_item_t *it;

	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *m = node(l, *it);
		yaml_node_pair_t *pr;

		if (m->type != YAML_MAPPING_NODE)
			continue;
		for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
			const char *k = scalar(l, pr->key), *v = scalar(l, pr->value);

			if (k != NULL && strcmp(k, "group") == 0 && v != NULL &&
			    strlen(v) == len && memcmp(v, name, len) == 0)
				return *it;
		}
	}
	return 0;
}

/* The pair of mapping map whose key is name, or -1. */
static long
find_key(struct loader *l, int map, const char *name, size_t len)
{
	yaml_node_t *n = node(l, map);
	yaml_node_pair_t *pr;

	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		const char *k = scalar(l, pr->key);

		if (k != NULL && strlen(k) == len && memcmp(k, name, len) == 0)
			return pr - n->data.mapping.pairs.start;
	}
	return -1;
}

/* Sets the path starting at arg + off, below node cur. */
static enum sim_err
set_path(struct loader *l, size_t si, int cur, size_t off)
{
	const char *arg = l->ov->sets[si];
	const char *eq = strchr(arg, '=');

	for (;;) {
		const char *seg = arg + off;
		size_t len = strcspn(seg, ".=");
		bool last = seg[len] == '=';
		yaml_node_t *n = node(l, cur);
		int child, key;
		long k;

		if (len == 0) {
			sim_diag_set(l->d, "--set %s:1:%zu: expected a key name", arg, off + 1);
			return SIM_ERR_SCENARIO;
		}
		if (n->type == YAML_SEQUENCE_NODE) {
			if (off != strlen("fleet.") || strncmp(arg, "fleet.", off) != 0) {
				sim_diag_set(l->d, "--set %s: %.*s is a list; only the groups of "
				    "fleet can be addressed, by name", arg, (int)off - 1, arg);
				return SIM_ERR_SCENARIO;
			}
			if ((child = find_group(l, cur, seg, len)) == 0) {
				sim_diag_set(l->d, "--set %s: no group named '%.*s' in fleet", arg,
				    (int)len, seg);
				return SIM_ERR_SCENARIO;
			}
			if (last) {
				sim_diag_set(l->d, "--set %s:1:%zu: expected a key of group '%.*s' "
				    "after it, like fleet.%.*s.count", arg, off + len + 1, (int)len,
				    seg, (int)len, seg);
				return SIM_ERR_SCENARIO;
			}
			cur = child;
			off += len + 1;
			continue;
		}
		if (n->type != YAML_MAPPING_NODE) {
			sim_diag_set(l->d, "--set %s:1:%zu: %.*s holds a value, not a mapping; "
			    "cannot set '%.*s' in it", arg, off + 1, (int)off - 1, arg, (int)len, seg);
			return SIM_ERR_SCENARIO;
		}
		k = find_key(l, cur, seg, len);
		if (last)
			child = add_node(l, si, (size_t)(eq - arg) + 1, YAML_SCALAR_NODE, eq + 1,
			    strlen(eq + 1));
		else if (k >= 0 && !is_null(node(l, node(l, cur)->data.mapping.pairs.start[k].value)))
			child = node(l, cur)->data.mapping.pairs.start[k].value;
		else
			child = add_node(l, si, off, YAML_MAPPING_NODE, NULL, 0);
		if (child == 0)
			return SIM_ERR_NOMEM;
		/* Adding nodes may move the node array: look cur up again. */
		if (k >= 0) {
			node(l, cur)->data.mapping.pairs.start[k].value = child;
		} else {
			if ((key = add_node(l, si, off, YAML_SCALAR_NODE, seg, len)) == 0 ||
			    !yaml_document_append_mapping_pair(&l->doc, cur, key, child))
				return SIM_ERR_NOMEM;
		}
		if (last)
			return SIM_OK;
		cur = child;
		off += len + 1;
	}
}

static enum sim_err
apply_set(struct loader *l, size_t si)
{
	const char *arg = l->ov->sets[si];
	const char *eq = strchr(arg, '=');
	size_t len = strcspn(arg, ".=");
	yaml_node_t *fleet;
	yaml_node_item_t *it;
	size_t i, nitems;
	long k;
	int root;
	enum sim_err rv;

	if (eq == NULL || eq == arg) {
		sim_diag_set(l->d, "--set %s: expected PATH=VALUE, like fleet.sensors.count=5000",
		    arg);
		return SIM_ERR_SCENARIO;
	}
	if (!valid_utf8((const unsigned char *)arg)) {
		sim_diag_set(l->d, "--set %s: expected UTF-8 text", arg);
		return SIM_ERR_SCENARIO;
	}
	if (yaml_document_get_root_node(&l->doc) == NULL &&
	    add_node(l, si, 0, YAML_MAPPING_NODE, NULL, 0) == 0)
		return SIM_ERR_NOMEM;
	root = 1;
	/* A group key first ("telemetry.qos=1") applies to every group. */
	for (i = G_COUNT; group_keys[i] != NULL; i++) {
		if (strlen(group_keys[i]) == len && memcmp(group_keys[i], arg, len) == 0)
			break;
	}
	if (group_keys[i] == NULL || node(l, root)->type != YAML_MAPPING_NODE)
		return set_path(l, si, root, 0);
	k = find_key(l, root, "fleet", 5);
	fleet = k >= 0 ? node(l, node(l, root)->data.mapping.pairs.start[k].value) : NULL;
	if (fleet == NULL || fleet->type != YAML_SEQUENCE_NODE) {
		sim_diag_set(l->d, "--set %s: %.*s is a group key, and there is no fleet list "
		    "to apply it to", arg, (int)len, arg);
		return SIM_ERR_SCENARIO;
	}
	nitems = (size_t)(fleet->data.sequence.items.top - fleet->data.sequence.items.start);
	for (i = 0; i < nitems; i++) {
		/* set_path adds nodes, which may move fleet: find it again. */
		fleet = node(l, node(l, root)->data.mapping.pairs.start[k].value);
		it = &fleet->data.sequence.items.start[i];
		if (node(l, *it)->type != YAML_MAPPING_NODE)
			continue;
		if ((rv = set_path(l, si, *it, 0)) != SIM_OK)
			return rv;
	}
	return SIM_OK;
}

static enum sim_err
parse(struct loader *l, const char *text, size_t len)
{
	yaml_parser_t p;
	yaml_node_t *root;
	size_t i;
	enum sim_err rv;

	if ((rv = prescan(l, text, len)) != SIM_OK)
		return rv;
	if (!yaml_parser_initialize(&p))
		return SIM_ERR_NOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &l->doc)) {
		rv = syntax_error(l, &p, text, len);
		yaml_parser_delete(&p);
		return rv;
	}
	yaml_parser_delete(&p);
	l->have_doc = true;
	l->nfile = (int)(l->doc.nodes.top - l->doc.nodes.start);
	/* A file that is not a mapping at all is its own error, before any
	 * --set tries to reach into it. */
	root = yaml_document_get_root_node(&l->doc);
	if (root != NULL && !is_null(root) && root->type != YAML_MAPPING_NODE)
		return fail(l, 1, "expected a scenario: a mapping with name, duration and fleet, "
		    "not %s", kind(root));
	if (root == NULL || is_null(root)) {
		/* An empty document: let --set build one from nothing. The
		 * loader leaves an empty stream's document without a node
		 * stack, so start a fresh one. */
		yaml_document_delete(&l->doc);
		l->have_doc = false;
		if (!yaml_document_initialize(&l->doc, NULL, NULL, NULL, 1, 1))
			return SIM_ERR_NOMEM;
		l->have_doc = true;
		l->nfile = 0;
	}
	for (i = 0; l->ov != NULL && i < l->ov->nsets; i++) {
		if ((rv = apply_set(l, i)) != SIM_OK)
			return rv;
	}
	return SIM_OK;
}

enum sim_err
sim_scenario_load_string(const char *text, size_t len, const char *file,
    const struct sim_overrides *ov, struct sim_scenario *sc, struct sim_diag *d)
{
	struct loader l;
	const char *slash;
	enum sim_err rv;

	if (sc == NULL || (text == NULL && len > 0))
		return SIM_ERR_INVAL;
	memset(sc, 0, sizeof(*sc));
	memset(&l, 0, sizeof(l));
	l.file = file != NULL ? file : "<scenario>";
	l.ov = ov;
	l.sc = sc;
	l.d = d;
	if (len > MAX_TEXT) {
		sim_diag_set(d, "%s:1:1: expected a scenario of at most 16 MiB", l.file);
		rv = SIM_ERR_SCENARIO;
		goto out;
	}
	if ((sc->file = strdup(l.file)) == NULL || (sc->text = malloc(len + 1)) == NULL) {
		rv = SIM_ERR_NOMEM;
		goto out;
	}
	if (len > 0)
		memcpy(sc->text, text, len);
	sc->text[len] = '\0';
	if (file != NULL && (slash = strrchr(file, '/')) != NULL &&
	    (l.dir = strndup(file, slash == file ? 1 : (size_t)(slash - file))) == NULL) {
		rv = SIM_ERR_NOMEM;
		goto out;
	}
	if ((rv = parse(&l, sc->text, len)) != SIM_OK)
		goto out;
	rv = validate(&l);

out:
	if (rv == SIM_ERR_NOMEM)
		sim_diag_set(d, "%s: out of memory", l.file);
	if (l.have_doc)
		yaml_document_delete(&l.doc);
	free(l.dir);
	if (rv != SIM_OK)
		sim_scenario_fini(sc);
	return rv;
}

enum sim_err
sim_scenario_load(const char *path, const struct sim_overrides *ov,
    struct sim_scenario *sc, struct sim_diag *d)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	enum sim_err rv = SIM_OK;

	if (sc == NULL || path == NULL)
		return SIM_ERR_INVAL;
	memset(sc, 0, sizeof(*sc));
	if ((f = fopen(path, "rb")) == NULL)
		goto ioerr;
	for (;;) {
		/* Read one byte past the limit so the loader can say too big. */
		if (len == cap) {
			size_t ncap = cap == 0 ? 65536 : cap * 2;
			char *nbuf;

			if (ncap > MAX_TEXT + 1)
				ncap = MAX_TEXT + 1;
			if (ncap == cap)
				break;
			if ((nbuf = realloc(buf, ncap)) == NULL) {
				rv = SIM_ERR_NOMEM;
				sim_diag_set(d, "%s: out of memory", path);
				goto out;
			}
			buf = nbuf;
			cap = ncap;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				goto ioerr;
			break;
		}
	}
	rv = sim_scenario_load_string(buf, len, path, ov, sc, d);
	goto out;

ioerr:
	sim_diag_set(d, "%s: cannot read: %s", path, strerror(errno));
	rv = SIM_ERR_IO;

out:
	if (f != NULL)
		fclose(f);
	free(buf);
	return rv;
}

void
sim_scenario_fini(struct sim_scenario *sc)
{
	size_t i;

	if (sc == NULL)
		return;
	free(sc->file);
	free(sc->text);
	free(sc->name);
	free(sc->target.url);
	free(sc->target.host);
	free(sc->target.tls_cfg.ca);
	free(sc->target.tls_cfg.cert);
	free(sc->target.tls_cfg.key);
	sim_tmpl_free(sc->target.username);
	sim_tmpl_free(sc->target.password);
	for (i = 0; sc->groups != NULL && i < sc->ngroups; i++) {
		free(sc->groups[i].name);
		sim_tmpl_free(sc->groups[i].id);
		sim_tmpl_free(sc->groups[i].telemetry.topic);
		dev_model_fini(sc->groups[i].model);
		free(sc->groups[i].model);
	}
	free(sc->groups);
	for (i = 0; sc->rr != NULL && i < sc->nrr; i++) {
		free(sc->rr[i].method);
		sim_tmpl_free(sc->rr[i].request_topic);
		sim_tmpl_free(sc->rr[i].response_topic);
		sim_rr_payload_free(sc->rr[i].payload);
		free(sc->rr[i].response_prefix);
		free(sc->rr[i].resp_delay);
		sim_rr_payload_free(sc->rr[i].resp_payload);
		free(sc->rr[i].expect_status);
		free(sc->rr[i].expect_field);
		free(sc->rr[i].expect_equals);
	}
	free(sc->rr);
	for (i = 0; sc->tpc != NULL && i < sc->ntpc; i++) {
		sim_rr_payload_free(sc->tpc[i].change);
		sim_tmpl_free(sc->tpc[i].prepare_topic);
		sim_tmpl_free(sc->tpc[i].decision_topic);
		free(sc->tpc[i].vote_topic);
		free(sc->tpc[i].ack_topic);
		free(sc->tpc[i].query_topic);
		free(sc->tpc[i].log_path);
	}
	free(sc->tpc);
	for (i = 0; sc->asserts != NULL && i < sc->nasserts; i++)
		rpt_assertion_fini(&sc->asserts[i].a);
	free(sc->asserts);
	free(sc->report_dir);
	memset(sc, 0, sizeof(*sc));
}

uint64_t
sim_scenario_devices(const struct sim_scenario *sc)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; sc != NULL && i < sc->ngroups; i++)
		total += sc->groups[i].count;
	return total;
}
