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
#include <unistd.h>

#include <yaml.h>

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
	"name", "seed", "duration", "drain", "target", "fleet", "assert", "report", NULL,
};
enum { K_NAME, K_SEED, K_DURATION, K_DRAIN, K_TARGET, K_FLEET, K_ASSERT, K_REPORT };

static const char *const target_keys[] = { "url", "tls", "username", "password", NULL };
enum { T_URL, T_TLS, T_USERNAME, T_PASSWORD };

static const char *const tls_keys[] = { "ca", "cert", "key", "verify", NULL };
enum { S_CA, S_CERT, S_KEY, S_VERIFY };

static const char *const group_keys[] = {
	"group", "count", "id", "mqtt", "connect", "telemetry", NULL,
};
enum { G_GROUP, G_COUNT, G_ID, G_MQTT, G_CONNECT, G_TELEMETRY };

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

#define MAX_KEYS 8

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

/* The topic must render to a valid topic name for every device: no
 * wildcards, and no '/' from a variable, which would also break the
 * subscription filter the consumer derives from it. */
static enum sim_err
check_topic(struct loader *l, struct sim_group *g, int gid, int idid, int topicid)
{
	const struct sim_telemetry_cfg *tm = &g->telemetry;
	const char *src = sim_tmpl_source(tm->topic);
	unsigned uses = sim_tmpl_uses(tm->topic);
	struct sim_tmpl_vals vals = { NULL, g->count - 1, g->name };
	size_t idlen, topiclen;
	char *id;
	long off;

	if (src[0] == '\0')
		return fail(l, topicid, "expected a topic name, not an empty string");
	if ((off = find_any(src, "+#")) >= 0)
		return fail_at(l, topicid, (size_t)off,
		    "'%c' is a wildcard; a topic name cannot contain '+' or '#'", src[off]);
	if (src[0] == '$')
		return fail(l, topicid, "topics starting with '$' are reserved for the broker");
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
	if (!present(l, v[E_EVERY]))
		return v[E_EVERY] != 0 ? get_duration(l, v[E_EVERY], true, &x) :
		    missing(l, id, "every", "telemetry");
	if ((rv = get_duration(l, v[E_EVERY], true, &tm->every_ns)) != SIM_OK)
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
	if (present(l, v[E_SIZE])) {
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
	if (present(l, v[G_TELEMETRY]) && (rv = load_telemetry(l, v[G_TELEMETRY], g, v[G_GROUP],
	    present(l, v[G_ID]) ? v[G_ID] : id)) != SIM_OK)
		return rv;
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
	if ((rv = load_target(l, v[K_TARGET], &sc->target)) != SIM_OK)
		return rv;
	if ((rv = load_fleet(l, 1, v[K_FLEET])) != SIM_OK)
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
	}
	free(sc->groups);
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
