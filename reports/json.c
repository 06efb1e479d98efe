#include "json.h"

#include "buf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEPTH 256

/* Strings and keys carry a length because "\u0000" is legal JSON. */
struct str {
	char *s;
	size_t len;
};

struct rpt_json {
	enum rpt_json_type type;
	union {
		bool b;
		double n;
		struct str s;
		struct {
			struct rpt_json **items;
			struct str *keys;   /* objects only */
			size_t len, cap;
		} c;
	} u;
};

static struct rpt_json *
node_new(enum rpt_json_type type)
{
	struct rpt_json *j = calloc(1, sizeof(*j));

	if (j != NULL)
		j->type = type;
	return j;
}

struct rpt_json *
rpt_json_null(void)
{
	return node_new(RPT_JSON_NULL);
}

struct rpt_json *
rpt_json_bool(bool b)
{
	struct rpt_json *j = node_new(RPT_JSON_BOOL);

	if (j != NULL)
		j->u.b = b;
	return j;
}

struct rpt_json *
rpt_json_number(double v)
{
	struct rpt_json *j = node_new(RPT_JSON_NUMBER);

	if (j != NULL)
		j->u.n = v;
	return j;
}

struct rpt_json *
rpt_json_stringn(const char *s, size_t len)
{
	struct rpt_json *j;

	if (s == NULL && len > 0)
		return NULL;
	if ((j = node_new(RPT_JSON_STRING)) == NULL)
		return NULL;
	if ((j->u.s.s = malloc(len + 1)) == NULL) {
		free(j);
		return NULL;
	}
	if (len > 0)
		memcpy(j->u.s.s, s, len);
	j->u.s.s[len] = '\0';
	j->u.s.len = len;
	return j;
}

struct rpt_json *
rpt_json_string(const char *s)
{
	if (s == NULL)
		return NULL;
	return rpt_json_stringn(s, strlen(s));
}

struct rpt_json *
rpt_json_array(void)
{
	return node_new(RPT_JSON_ARRAY);
}

struct rpt_json *
rpt_json_object(void)
{
	return node_new(RPT_JSON_OBJECT);
}

void
rpt_json_free(struct rpt_json *j)
{
	size_t i;

	if (j == NULL)
		return;
	switch (j->type) {
	case RPT_JSON_STRING:
		free(j->u.s.s);
		break;
	case RPT_JSON_ARRAY:
	case RPT_JSON_OBJECT:
		for (i = 0; i < j->u.c.len; i++) {
			rpt_json_free(j->u.c.items[i]);
			if (j->u.c.keys != NULL)
				free(j->u.c.keys[i].s);
		}
		free(j->u.c.items);
		free(j->u.c.keys);
		break;
	default:
		break;
	}
	free(j);
}

/* Makes room for one more member. */
static enum rpt_err
grow(struct rpt_json *c)
{
	struct rpt_json **items;
	struct str *keys;
	size_t cap;

	if (c->u.c.len < c->u.c.cap)
		return RPT_OK;
	cap = c->u.c.cap == 0 ? 4 : c->u.c.cap * 2;
	if ((items = realloc(c->u.c.items, cap * sizeof(*items))) == NULL)
		return RPT_ERR_NOMEM;
	c->u.c.items = items;
	if (c->type == RPT_JSON_OBJECT) {
		if ((keys = realloc(c->u.c.keys, cap * sizeof(*keys))) == NULL)
			return RPT_ERR_NOMEM;
		c->u.c.keys = keys;
	}
	c->u.c.cap = cap;
	return RPT_OK;
}

static ssize_t
find_key(const struct rpt_json *obj, const char *key, size_t klen)
{
	size_t i;

	for (i = 0; i < obj->u.c.len; i++)
		if (obj->u.c.keys[i].len == klen && memcmp(obj->u.c.keys[i].s, key, klen) == 0)
			return (ssize_t)i;
	return -1;
}

/* Appends without looking for an existing key; the parser has looked. */
static enum rpt_err
append_member(struct rpt_json *obj, const char *key, size_t klen, struct rpt_json *v)
{
	enum rpt_err rc;
	char *k;

	if ((rc = grow(obj)) != RPT_OK)
		return rc;
	if ((k = malloc(klen + 1)) == NULL)
		return RPT_ERR_NOMEM;
	memcpy(k, key, klen);
	k[klen] = '\0';
	obj->u.c.keys[obj->u.c.len].s = k;
	obj->u.c.keys[obj->u.c.len].len = klen;
	obj->u.c.items[obj->u.c.len++] = v;
	return RPT_OK;
}

enum rpt_err
rpt_json_set(struct rpt_json *obj, const char *key, struct rpt_json *v)
{
	enum rpt_err rc;
	ssize_t i;

	if (v == NULL)
		return RPT_ERR_NOMEM;
	if (obj == NULL || obj->type != RPT_JSON_OBJECT || key == NULL) {
		rc = RPT_ERR_INVAL;
		goto out;
	}
	if ((i = find_key(obj, key, strlen(key))) >= 0) {
		if (obj->u.c.items[i] != v)
			rpt_json_free(obj->u.c.items[i]);
		obj->u.c.items[i] = v;
		return RPT_OK;
	}
	rc = append_member(obj, key, strlen(key), v);
out:
	if (rc != RPT_OK)
		rpt_json_free(v);
	return rc;
}

enum rpt_err
rpt_json_push(struct rpt_json *arr, struct rpt_json *v)
{
	enum rpt_err rc;

	if (v == NULL)
		return RPT_ERR_NOMEM;
	if (arr == NULL || arr->type != RPT_JSON_ARRAY) {
		rc = RPT_ERR_INVAL;
		goto out;
	}
	if ((rc = grow(arr)) != RPT_OK)
		goto out;
	arr->u.c.items[arr->u.c.len++] = v;
out:
	if (rc != RPT_OK)
		rpt_json_free(v);
	return rc;
}

enum rpt_err
rpt_json_set_num(struct rpt_json *obj, const char *key, double v)
{
	return rpt_json_set(obj, key, rpt_json_number(v));
}

enum rpt_err
rpt_json_set_str(struct rpt_json *obj, const char *key, const char *s)
{
	if (s == NULL)
		return RPT_ERR_INVAL;
	return rpt_json_set(obj, key, rpt_json_string(s));
}

enum rpt_err
rpt_json_set_bool(struct rpt_json *obj, const char *key, bool b)
{
	return rpt_json_set(obj, key, rpt_json_bool(b));
}

enum rpt_json_type
rpt_json_type(const struct rpt_json *j)
{
	return j == NULL ? RPT_JSON_NULL : j->type;
}

double
rpt_json_num(const struct rpt_json *j)
{
	return j != NULL && j->type == RPT_JSON_NUMBER ? j->u.n : 0;
}

bool
rpt_json_truthy(const struct rpt_json *j)
{
	return j != NULL && j->type == RPT_JSON_BOOL && j->u.b;
}

const char *
rpt_json_str(const struct rpt_json *j)
{
	return j != NULL && j->type == RPT_JSON_STRING ? j->u.s.s : NULL;
}

size_t
rpt_json_len(const struct rpt_json *j)
{
	if (j == NULL || (j->type != RPT_JSON_ARRAY && j->type != RPT_JSON_OBJECT))
		return 0;
	return j->u.c.len;
}

struct rpt_json *
rpt_json_at(const struct rpt_json *j, size_t i)
{
	if (i >= rpt_json_len(j))
		return NULL;
	return j->u.c.items[i];
}

const char *
rpt_json_key_at(const struct rpt_json *j, size_t i)
{
	if (j == NULL || j->type != RPT_JSON_OBJECT || i >= j->u.c.len)
		return NULL;
	return j->u.c.keys[i].s;
}

struct rpt_json *
rpt_json_get(const struct rpt_json *obj, const char *key)
{
	ssize_t i;

	if (obj == NULL || obj->type != RPT_JSON_OBJECT || key == NULL)
		return NULL;
	if ((i = find_key(obj, key, strlen(key))) < 0)
		return NULL;
	return obj->u.c.items[i];
}

struct rpt_json *
rpt_json_path(const struct rpt_json *root, const char *path)
{
	const struct rpt_json *j = root;
	const char *seg = path, *end;
	size_t n, i, idx;
	ssize_t k;
	bool digits;

	if (root == NULL || path == NULL)
		return NULL;
	for (;;) {
		end = strchr(seg, '.');
		n = end != NULL ? (size_t)(end - seg) : strlen(seg);
		if (n == 0)
			return NULL;
		digits = true;
		for (i = 0; i < n; i++)
			if (seg[i] < '0' || seg[i] > '9')
				digits = false;
		if (j->type == RPT_JSON_OBJECT) {
			if ((k = find_key(j, seg, n)) < 0)
				return NULL;
			j = j->u.c.items[k];
		} else if (j->type == RPT_JSON_ARRAY && digits && n <= 18) {
			idx = 0;
			for (i = 0; i < n; i++)
				idx = idx * 10 + (size_t)(seg[i] - '0');
			if (idx >= j->u.c.len)
				return NULL;
			j = j->u.c.items[idx];
		} else {
			return NULL;
		}
		if (end == NULL)
			return (struct rpt_json *)j;
		seg = end + 1;
	}
}

/* ---- UTF-8 ---- */

size_t
rpt_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static size_t
utf8_encode(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	} else if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	} else if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* ---- Writing ---- */

static void
write_string(struct rpt_buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run, k;
	uint32_t cp;
	char esc[8];

	rpt_buf_add(b, "\"", 1);
	while (i < n) {
		/* Copy plain runs in one go. */
		for (run = i; run < n && u[run] >= 0x20 && u[run] < 0x80 &&
		    u[run] != '"' && u[run] != '\\'; run++)
			;
		rpt_buf_add(b, s + i, run - i);
		i = run;
		if (i == n)
			break;
		switch (u[i]) {
		case '"': rpt_buf_add(b, "\\\"", 2); i++; continue;
		case '\\': rpt_buf_add(b, "\\\\", 2); i++; continue;
		case '\n': rpt_buf_add(b, "\\n", 2); i++; continue;
		case '\t': rpt_buf_add(b, "\\t", 2); i++; continue;
		case '\r': rpt_buf_add(b, "\\r", 2); i++; continue;
		case '\b': rpt_buf_add(b, "\\b", 2); i++; continue;
		case '\f': rpt_buf_add(b, "\\f", 2); i++; continue;
		default: break;
		}
		if (u[i] < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", u[i]);
			rpt_buf_add(b, esc, 6);
			i++;
			continue;
		}
		/* Invalid UTF-8 becomes U+FFFD so the output is always JSON
		 * that a strict reader (ours included) accepts. */
		if ((k = rpt_utf8_decode(u + i, n - i, &cp)) == 0) {
			rpt_buf_add(b, "\xef\xbf\xbd", 3);
			i++;
		} else {
			rpt_buf_add(b, s + i, k);
			i += k;
		}
	}
	rpt_buf_add(b, "\"", 1);
}

/* Prints the shortest text that reads back as exactly v. */
static void
write_number(struct rpt_buf *b, double v)
{
	char tmp[40];
	int prec;

	if (!isfinite(v)) {
		rpt_buf_add(b, "null", 4);
		return;
	}
	if (v == floor(v) && fabs(v) <= 9007199254740992.0) {
		snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
		rpt_buf_str(b, tmp);
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	rpt_buf_str(b, tmp);
}

static void
newline(struct rpt_buf *b, int indent, int depth)
{
	int i;

	if (indent <= 0)
		return;
	rpt_buf_add(b, "\n", 1);
	for (i = 0; i < indent * depth; i++)
		rpt_buf_add(b, " ", 1);
}

static void
write_value(struct rpt_buf *b, const struct rpt_json *j, int indent, int depth)
{
	bool obj;
	size_t i;

	switch (j->type) {
	case RPT_JSON_NULL:
		rpt_buf_add(b, "null", 4);
		return;
	case RPT_JSON_BOOL:
		rpt_buf_str(b, j->u.b ? "true" : "false");
		return;
	case RPT_JSON_NUMBER:
		write_number(b, j->u.n);
		return;
	case RPT_JSON_STRING:
		write_string(b, j->u.s.s, j->u.s.len);
		return;
	case RPT_JSON_ARRAY:
	case RPT_JSON_OBJECT:
		break;
	}
	obj = j->type == RPT_JSON_OBJECT;
	rpt_buf_add(b, obj ? "{" : "[", 1);
	for (i = 0; i < j->u.c.len; i++) {
		if (i > 0)
			rpt_buf_add(b, ",", 1);
		newline(b, indent, depth + 1);
		if (obj) {
			write_string(b, j->u.c.keys[i].s, j->u.c.keys[i].len);
			rpt_buf_add(b, indent > 0 ? ": " : ":", indent > 0 ? 2 : 1);
		}
		write_value(b, j->u.c.items[i], indent, depth + 1);
	}
	if (j->u.c.len > 0)
		newline(b, indent, depth);
	rpt_buf_add(b, obj ? "}" : "]", 1);
}

enum rpt_err
rpt_json_dump(const struct rpt_json *j, int indent, char **out)
{
	struct rpt_buf b = { 0 };

	if (j == NULL || out == NULL)
		return RPT_ERR_INVAL;
	write_value(&b, j, indent, 0);
	if (b.nomem) {
		free(b.p);
		return RPT_ERR_NOMEM;
	}
	*out = b.p;
	return RPT_OK;
}

enum rpt_err
rpt_json_write(FILE *f, const struct rpt_json *j, int indent)
{
	enum rpt_err rc;
	char *s = NULL;
	size_t n;

	if (f == NULL)
		return RPT_ERR_INVAL;
	if ((rc = rpt_json_dump(j, indent, &s)) != RPT_OK)
		goto out;
	n = strlen(s);
	if (fwrite(s, 1, n, f) != n || ferror(f))
		rc = RPT_ERR_IO;
out:
	free(s);
	return rc;
}

enum rpt_err
rpt_json_write_file(const char *path, const struct rpt_json *j, int indent)
{
	struct rpt_buf b = { 0 };
	enum rpt_err rc;

	if (path == NULL || j == NULL)
		return RPT_ERR_INVAL;
	write_value(&b, j, indent, 0);
	rpt_buf_add(&b, "\n", 1);      /* text files end with a newline */
	rc = b.nomem ? RPT_ERR_NOMEM : rpt_write_atomic(path, b.p, b.len);
	free(b.p);
	return rc;
}

/* ---- Parsing ---- */

struct parser {
	const char *s;
	size_t len, pos;
	int depth;
	char *err;
	size_t errlen;
	enum rpt_err rc;    /* set with the first error */
};

/* Records the first error at byte offset at, as LINE:COLUMN (1-based,
 * columns in bytes). */
static void
fail(struct parser *p, size_t at, enum rpt_err rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
fail(struct parser *p, size_t at, enum rpt_err rc, const char *fmt, ...)
{
	unsigned long line = 1, col = 1;
	va_list ap;
	size_t i;
	int n;

	if (p->rc != RPT_OK)
		return;
	p->rc = rc;
	if (p->err == NULL || p->errlen == 0)
		return;
	if (rc != RPT_ERR_PARSE) {
		snprintf(p->err, p->errlen, "out of memory");
		return;
	}
	for (i = 0; i < at && i < p->len; i++) {
		if (p->s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	n = snprintf(p->err, p->errlen, "%lu:%lu: ", line, col);
	if (n < 0 || (size_t)n >= p->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static void
skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

/* Describes the byte at pos for an error message. */
static const char *
found(const struct parser *p, char *tmp, size_t n)
{
	unsigned char c;

	if (p->pos >= p->len)
		return "end of input";
	c = (unsigned char)p->s[p->pos];
	if (c >= 0x20 && c < 0x7f)
		snprintf(tmp, n, "'%c'", c);
	else
		snprintf(tmp, n, "byte 0x%02x", c);
	return tmp;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
read_hex4(struct parser *p, uint32_t *v)
{
	size_t i;
	int h;

	*v = 0;
	for (i = 0; i < 4; i++) {
		if (p->pos >= p->len || (h = hexval(p->s[p->pos])) < 0) {
			fail(p, p->pos, RPT_ERR_PARSE, "expected 4 hex digits after \\u");
			return false;
		}
		*v = (*v << 4) | (uint32_t)h;
		p->pos++;
	}
	return true;
}

/* Parses a string at pos (on the opening quote) into a malloc'd buffer. */
static bool
parse_string(struct parser *p, struct str *out)
{
	struct rpt_buf b = { 0 };
	uint32_t cp, lo;
	size_t start, k;
	char enc[4];
	unsigned char c;

	p->pos++;
	rpt_buf_add(&b, "", 0);
	for (;;) {
		start = p->pos;
		while (p->pos < p->len) {
			c = (unsigned char)p->s[p->pos];
			if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
				break;
			p->pos++;
		}
		rpt_buf_add(&b, p->s + start, p->pos - start);
		if (p->pos >= p->len) {
			fail(p, p->pos, RPT_ERR_PARSE, "unterminated string");
			goto out;
		}
		c = (unsigned char)p->s[p->pos];
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c < 0x20) {
			fail(p, p->pos, RPT_ERR_PARSE,
			    "control character 0x%02x in a string (escape it)", c);
			goto out;
		}
		if (c >= 0x80) {
			if ((k = rpt_utf8_decode((const unsigned char *)p->s + p->pos,
			    p->len - p->pos, &cp)) == 0) {
				fail(p, p->pos, RPT_ERR_PARSE, "invalid UTF-8 in a string");
				goto out;
			}
			rpt_buf_add(&b, p->s + p->pos, k);
			p->pos += k;
			continue;
		}
		/* A backslash. */
		start = p->pos;
		p->pos++;
		if (p->pos >= p->len) {
			fail(p, p->pos, RPT_ERR_PARSE, "unterminated string");
			goto out;
		}
		switch (p->s[p->pos++]) {
		case '"': rpt_buf_add(&b, "\"", 1); continue;
		case '\\': rpt_buf_add(&b, "\\", 1); continue;
		case '/': rpt_buf_add(&b, "/", 1); continue;
		case 'b': rpt_buf_add(&b, "\b", 1); continue;
		case 'f': rpt_buf_add(&b, "\f", 1); continue;
		case 'n': rpt_buf_add(&b, "\n", 1); continue;
		case 'r': rpt_buf_add(&b, "\r", 1); continue;
		case 't': rpt_buf_add(&b, "\t", 1); continue;
		case 'u': break;
		default:
			fail(p, p->pos - 1, RPT_ERR_PARSE,
			    "expected an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
			goto out;
		}
		if (!read_hex4(p, &cp))
			goto out;
		if (cp >= 0xdc00 && cp <= 0xdfff) {
			fail(p, start, RPT_ERR_PARSE, "lone low surrogate \\u%04x", (unsigned)cp);
			goto out;
		}
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (p->pos + 1 >= p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
				fail(p, p->pos, RPT_ERR_PARSE,
				    "expected \\u and a low surrogate after \\u%04x", (unsigned)cp);
				goto out;
			}
			p->pos += 2;
			if (!read_hex4(p, &lo))
				goto out;
			if (lo < 0xdc00 || lo > 0xdfff) {
				fail(p, p->pos - 6, RPT_ERR_PARSE,
				    "expected a low surrogate (\\udc00-\\udfff) after \\u%04x",
				    (unsigned)cp);
				goto out;
			}
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		rpt_buf_add(&b, enc, utf8_encode(cp, enc));
	}
	if (b.nomem)
		fail(p, p->pos, RPT_ERR_NOMEM, "out of memory");
out:
	if (p->rc != RPT_OK) {
		free(b.p);
		return false;
	}
	out->s = b.p;
	out->len = b.len;
	return true;
}

static bool
digit_at(const struct parser *p, size_t i)
{
	return i < p->len && p->s[i] >= '0' && p->s[i] <= '9';
}

static struct rpt_json *
parse_number(struct parser *p)
{
	size_t start = p->pos, i = p->pos;
	char stack[64], *tmp = stack;
	struct rpt_json *j = NULL;
	double v;

	/* RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
	if (i < p->len && p->s[i] == '-')
		i++;
	if (!digit_at(p, i)) {
		fail(p, i, RPT_ERR_PARSE, "expected a digit");
		return NULL;
	}
	if (p->s[i] == '0') {
		i++;
		if (digit_at(p, i)) {
			fail(p, i, RPT_ERR_PARSE, "leading zeros are not allowed in numbers");
			return NULL;
		}
	} else {
		while (digit_at(p, i))
			i++;
	}
	if (i < p->len && p->s[i] == '.') {
		i++;
		if (!digit_at(p, i)) {
			fail(p, i, RPT_ERR_PARSE, "expected a digit after the decimal point");
			return NULL;
		}
		while (digit_at(p, i))
			i++;
	}
	if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
		i++;
		if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		if (!digit_at(p, i)) {
			fail(p, i, RPT_ERR_PARSE, "expected a digit in the exponent");
			return NULL;
		}
		while (digit_at(p, i))
			i++;
	}
	/* strtod needs a terminated copy: the input need not be. */
	if (i - start >= sizeof(stack) && (tmp = malloc(i - start + 1)) == NULL) {
		fail(p, start, RPT_ERR_NOMEM, "out of memory");
		return NULL;
	}
	memcpy(tmp, p->s + start, i - start);
	tmp[i - start] = '\0';
	v = strtod(tmp, NULL);
	if (tmp != stack)
		free(tmp);
	if (isinf(v)) {
		fail(p, start, RPT_ERR_PARSE, "number out of range");
		return NULL;
	}
	p->pos = i;
	if ((j = rpt_json_number(v)) == NULL)
		fail(p, start, RPT_ERR_NOMEM, "out of memory");
	return j;
}

static bool
match_word(struct parser *p, const char *w)
{
	size_t n = strlen(w);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0)
		return false;
	p->pos += n;
	return true;
}

static struct rpt_json *parse_value(struct parser *p);

static struct rpt_json *
parse_array(struct parser *p)
{
	struct rpt_json *arr, *v;
	char tmp[16];

	p->pos++;
	if ((arr = rpt_json_array()) == NULL) {
		fail(p, p->pos, RPT_ERR_NOMEM, "out of memory");
		return NULL;
	}
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		return arr;
	}
	for (;;) {
		skip_ws(p);
		if ((v = parse_value(p)) == NULL)
			goto out;
		if (rpt_json_push(arr, v) != RPT_OK) {
			fail(p, p->pos, RPT_ERR_NOMEM, "out of memory");
			goto out;
		}
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == ']') {
			p->pos++;
			goto out;
		}
		fail(p, p->pos, RPT_ERR_PARSE, "expected ',' or ']' in an array, found %s",
		    found(p, tmp, sizeof(tmp)));
		goto out;
	}
out:
	if (p->rc != RPT_OK) {
		rpt_json_free(arr);
		arr = NULL;
	}
	return arr;
}

static struct rpt_json *
parse_object(struct parser *p)
{
	struct rpt_json *obj, *v = NULL;
	struct str key = { 0 };
	size_t kpos;
	char tmp[16];

	p->pos++;
	if ((obj = rpt_json_object()) == NULL) {
		fail(p, p->pos, RPT_ERR_NOMEM, "out of memory");
		return NULL;
	}
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		return obj;
	}
	for (;;) {
		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != '"') {
			fail(p, p->pos, RPT_ERR_PARSE, "expected a string key, found %s",
			    found(p, tmp, sizeof(tmp)));
			goto out;
		}
		kpos = p->pos;
		if (!parse_string(p, &key))
			goto out;
		/* Duplicate keys have no agreed meaning; a report with one is
		 * corrupt, so say so rather than pick a winner. */
		if (find_key(obj, key.s, key.len) >= 0) {
			fail(p, kpos, RPT_ERR_PARSE, "duplicate key");
			goto out;
		}
		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != ':') {
			fail(p, p->pos, RPT_ERR_PARSE, "expected ':' after a key, found %s",
			    found(p, tmp, sizeof(tmp)));
			goto out;
		}
		p->pos++;
		skip_ws(p);
		if ((v = parse_value(p)) == NULL)
			goto out;
		if (append_member(obj, key.s, key.len, v) != RPT_OK) {
			fail(p, p->pos, RPT_ERR_NOMEM, "out of memory");
			goto out;
		}
		v = NULL;
		free(key.s);
		key.s = NULL;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == '}') {
			p->pos++;
			goto out;
		}
		fail(p, p->pos, RPT_ERR_PARSE, "expected ',' or '}' in an object, found %s",
		    found(p, tmp, sizeof(tmp)));
		goto out;
	}
out:
	rpt_json_free(v);
	free(key.s);
	if (p->rc != RPT_OK) {
		rpt_json_free(obj);
		obj = NULL;
	}
	return obj;
}

static struct rpt_json *
parse_value(struct parser *p)
{
	struct rpt_json *j = NULL;
	struct str s;
	size_t start = p->pos;
	char tmp[16];

	if (p->pos >= p->len) {
		fail(p, p->pos, RPT_ERR_PARSE, "expected a value, found end of input");
		return NULL;
	}
	switch (p->s[p->pos]) {
	case '{':
	case '[':
		if (p->depth >= MAX_DEPTH) {
			fail(p, p->pos, RPT_ERR_PARSE, "nesting deeper than %d", MAX_DEPTH);
			return NULL;
		}
		p->depth++;
		j = p->s[p->pos] == '{' ? parse_object(p) : parse_array(p);
		p->depth--;
		return j;
	case '"':
		if (!parse_string(p, &s))
			return NULL;
		if ((j = node_new(RPT_JSON_STRING)) == NULL) {
			free(s.s);
			fail(p, start, RPT_ERR_NOMEM, "out of memory");
			return NULL;
		}
		j->u.s = s;
		return j;
	case 't':
		if (match_word(p, "true"))
			j = rpt_json_bool(true);
		break;
	case 'f':
		if (match_word(p, "false"))
			j = rpt_json_bool(false);
		break;
	case 'n':
		if (match_word(p, "null"))
			j = rpt_json_null();
		break;
	default:
		if (p->s[p->pos] == '-' || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
			return parse_number(p);
		break;
	}
	if (p->pos == start) {
		fail(p, p->pos, RPT_ERR_PARSE,
		    "expected a value (object, array, string, number, true, false or null), found %s",
		    found(p, tmp, sizeof(tmp)));
		return NULL;
	}
	if (j == NULL)
		fail(p, start, RPT_ERR_NOMEM, "out of memory");
	return j;
}

enum rpt_err
rpt_json_parse(const char *text, size_t len, struct rpt_json **out, char *err, size_t errlen)
{
	struct parser p = { 0 };
	struct rpt_json *j = NULL;
	char tmp[16];

	if (out == NULL || (text == NULL && len > 0))
		return RPT_ERR_INVAL;
	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	p.s = text != NULL ? text : "";
	p.len = len;
	p.err = err;
	p.errlen = errlen;
	skip_ws(&p);
	if ((j = parse_value(&p)) == NULL)
		goto out;
	skip_ws(&p);
	if (p.pos < p.len) {
		fail(&p, p.pos, RPT_ERR_PARSE, "expected end of input after the value, found %s",
		    found(&p, tmp, sizeof(tmp)));
		rpt_json_free(j);
		j = NULL;
	}
out:
	*out = j;
	return p.rc;
}

enum rpt_err
rpt_json_parse_file(const char *path, struct rpt_json **out, char *err, size_t errlen)
{
	enum rpt_err rc = RPT_OK;
	char *text = NULL, *p, *msg = NULL;
	size_t len = 0, cap = 0, n;
	FILE *f = NULL;

	if (path == NULL || out == NULL)
		return RPT_ERR_INVAL;
	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = RPT_ERR_IO;
		goto out;
	}
	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			if ((p = realloc(text, cap)) == NULL) {
				rc = RPT_ERR_NOMEM;
				goto out;
			}
			text = p;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: read error", path);
		rc = RPT_ERR_IO;
		goto out;
	}
	if (err != NULL && errlen > 0 && (msg = malloc(errlen)) == NULL) {
		rc = RPT_ERR_NOMEM;
		goto out;
	}
	rc = rpt_json_parse(text, len, out, msg, msg != NULL ? errlen : 0);
	/* Name the file, so the message reads FILE:LINE:COLUMN: ... */
	if (rc == RPT_ERR_PARSE && msg != NULL)
		snprintf(err, errlen, "%s:%s", path, msg);
out:
	if (f != NULL)
		fclose(f);
	free(text);
	free(msg);
	return rc;
}
