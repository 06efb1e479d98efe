/* The two-phase-commit messages on the wire; see tpc_wire.h and
 * docs/two-phase-commit.md. Parsing is one pass of a scanner that checks
 * the whole body against RFC 8259, notes where the members the kind needs
 * are, and skips everything else; only then are those members' values
 * checked, so that of a duplicated member only the last one matters. */
#include "tpc_wire.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "rr.h"

/* How deep a message may nest, its own object counting as 1. The scanner
 * recurses once a level, so this also bounds its stack; no message of the
 * contract comes near it (change is a device's configuration). */
#define MAX_DEPTH 64

/* The members any kind uses, as bits of a kind's needs. */
enum member { M_TXID, M_ID, M_CHANGE, M_DEADLINE, M_VOTE, M_REASON, M_DECISION, NMEMBERS };

#define B(m) (1u << (m))
#define NKINDS ((unsigned)SIM_TPC_MSG_QUERY + 1)

static const char *const member_names[NMEMBERS] = {
	[M_TXID] = "txid",
	[M_ID] = "id",
	[M_CHANGE] = "change",
	[M_DEADLINE] = "deadline",
	[M_VOTE] = "vote",
	[M_REASON] = "reason",
	[M_DECISION] = "decision",
};

/* What each kind requires, and what it reads when it is there. */
static const struct {
	unsigned need, use;
} kinds[NKINDS] = {
	[SIM_TPC_MSG_PREPARE] = { B(M_TXID) | B(M_CHANGE) | B(M_DEADLINE),
		B(M_TXID) | B(M_CHANGE) | B(M_DEADLINE) },
	[SIM_TPC_MSG_VOTE] = { B(M_TXID) | B(M_ID) | B(M_VOTE),
		B(M_TXID) | B(M_ID) | B(M_VOTE) | B(M_REASON) },
	[SIM_TPC_MSG_DECISION] = { B(M_TXID) | B(M_DECISION), B(M_TXID) | B(M_DECISION) },
	[SIM_TPC_MSG_ACK] = { B(M_TXID) | B(M_ID) | B(M_DECISION),
		B(M_TXID) | B(M_ID) | B(M_DECISION) },
	[SIM_TPC_MSG_QUERY] = { B(M_TXID) | B(M_ID), B(M_TXID) | B(M_ID) },
};

/* The body being scanned. Positions are indices rather than pointers so
 * that an empty body may be NULL without any arithmetic on it. */
struct scan {
	const char *s;
	size_t len, pos;
};

/* A member's value as it stands in the body, quotes and all; len 0 means
 * absent, since no JSON value is empty. */
struct span {
	const char *s;
	size_t len;
};

static bool
at(const struct scan *sc, char c)
{
	return sc->pos < sc->len && sc->s[sc->pos] == c;
}

static bool
at_digit(const struct scan *sc)
{
	return sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9';
}

static void
skip_ws(struct scan *sc)
{
	while (at(sc, ' ') || at(sc, '\t') || at(sc, '\n') || at(sc, '\r'))
		sc->pos++;
}

static bool
word(struct scan *sc, const char *w)
{
	size_t n = strlen(w);

	if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, w, n) != 0)
		return false;
	sc->pos += n;
	return true;
}

/* The value of four hex digits (either case, as \u allows), or -1. */
static int32_t
hex4(const char *s)
{
	int32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* Reads the four digits after a "\u". */
static bool
read_u4(struct scan *sc, int32_t *cp)
{
	if (sc->len - sc->pos < 4 || (*cp = hex4(sc->s + sc->pos)) < 0)
		return false;
	sc->pos += 4;
	return true;
}

/* Scans the string whose opening quote is at pos. It is held to the same
 * rules as the report parser's (reports/json.c): UTF-8, no raw control
 * characters, and surrogate escapes only in pairs, so that what one accepts
 * the other does too. */
static bool
scan_string(struct scan *sc)
{
	sc->pos++;
	while (sc->pos < sc->len) {
		unsigned char c = (unsigned char)sc->s[sc->pos];
		int32_t cp, lo;
		size_t k;

		if (c == '"') {
			sc->pos++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c >= 0x80) {
			uint32_t u;

			if ((k = rpt_utf8_decode((const unsigned char *)sc->s + sc->pos,
			    sc->len - sc->pos, &u)) == 0)
				return false;
			sc->pos += k;
			continue;
		}
		sc->pos++;
		if (c != '\\')
			continue;
		if (sc->pos >= sc->len)
			return false;
		switch (sc->s[sc->pos++]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			continue;
		case 'u':
			break;
		default:
			return false;
		}
		if (!read_u4(sc, &cp) || (cp >= 0xdc00 && cp <= 0xdfff))
			return false;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (!word(sc, "\\u") || !read_u4(sc, &lo) || lo < 0xdc00 || lo > 0xdfff)
				return false;
		}
	}
	return false;
}

/* Scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at pos. */
static bool
scan_number(struct scan *sc)
{
	if (at(sc, '-'))
		sc->pos++;
	if (!at_digit(sc))
		return false;
	if (at(sc, '0')) {
		sc->pos++;
		if (at_digit(sc))
			return false;
	}
	while (at_digit(sc))
		sc->pos++;
	if (at(sc, '.')) {
		sc->pos++;
		if (!at_digit(sc))
			return false;
		while (at_digit(sc))
			sc->pos++;
	}
	if (at(sc, 'e') || at(sc, 'E')) {
		sc->pos++;
		if (at(sc, '+') || at(sc, '-'))
			sc->pos++;
		if (!at_digit(sc))
			return false;
		while (at_digit(sc))
			sc->pos++;
	}
	return true;
}

/* Whether the string contents s (already scanned, so every escape in it
 * is well-formed) mean key, an ASCII name: a member's name is its decoded
 * text, so "t\u0078id" is txid as much as "txid" is. */
static bool
name_is(const char *s, size_t len, const char *key)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i++];

		if (c == '\\') {
			switch (s[i++]) {
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				int32_t cp = hex4(s + i);

				i += 4;
				/* Nothing beyond ASCII, a pair's first half included,
				 * can match an ASCII key. */
				if (cp >= 0x80)
					return false;
				c = (unsigned char)cp;
				break;
			}
			default: c = (unsigned char)s[i - 1]; break;   /* " \ / */
			}
		}
		if (*key == '\0' || c != (unsigned char)*key++)
			return false;
	}
	return *key == '\0';
}

static bool scan_value(struct scan *sc, int depth, unsigned use, struct span *seen);

/* Scans the object or array at pos, which is at nesting level depth. With
 * use non-zero (the top-level object), the values of the members in use are
 * noted in seen, a later one replacing an earlier one. */
static bool
scan_container(struct scan *sc, int depth, unsigned use, struct span *seen)
{
	char close = sc->s[sc->pos] == '{' ? '}' : ']';

	sc->pos++;
	skip_ws(sc);
	if (at(sc, close)) {
		sc->pos++;
		return true;
	}
	for (;;) {
		size_t name = 0, name_len = 0, value;

		if (close == '}') {
			if (!at(sc, '"'))
				return false;
			name = sc->pos + 1;
			if (!scan_string(sc))
				return false;
			name_len = sc->pos - 1 - name;
			skip_ws(sc);
			if (!at(sc, ':'))
				return false;
			sc->pos++;
			skip_ws(sc);
		}
		value = sc->pos;
		if (!scan_value(sc, depth, 0, NULL))
			return false;
		for (int m = 0; use != 0 && m < NMEMBERS; m++) {
			if ((use & B(m)) && name_is(sc->s + name, name_len, member_names[m])) {
				seen[m].s = sc->s + value;
				seen[m].len = sc->pos - value;
				break;
			}
		}
		skip_ws(sc);
		if (at(sc, ',')) {
			sc->pos++;
			skip_ws(sc);
			continue;
		}
		if (!at(sc, close))
			return false;
		sc->pos++;
		return true;
	}
}

/* Scans the value at pos, inside a container at nesting level depth (0 for
 * the body itself). */
static bool
scan_value(struct scan *sc, int depth, unsigned use, struct span *seen)
{
	if (sc->pos >= sc->len)
		return false;
	switch (sc->s[sc->pos]) {
	case '{':
	case '[':
		return depth < MAX_DEPTH && scan_container(sc, depth + 1, use, seen);
	case '"':
		return scan_string(sc);
	case 't':
		return word(sc, "true");
	case 'f':
		return word(sc, "false");
	case 'n':
		return word(sc, "null");
	default:
		return scan_number(sc);
	}
}

/* A string value's contents, which must hold no escape: the contract's
 * tokens and ids never need one, and refusing them is what lets the
 * strings point into the body instead of being decoded into a copy. */
static bool
string_of(const struct span *v, const char **s, size_t *len)
{
	if (v->s[0] != '"')
		return false;
	*s = v->s + 1;
	*len = v->len - 2;
	return memchr(*s, '\\', *len) == NULL;
}

static bool
text_is(const char *s, size_t len, const char *t)
{
	return len == strlen(t) && memcmp(s, t, len) == 0;
}

/* A JSON number without fraction or exponent that fits int64_t. The
 * scanner has checked the grammar, so a value starting with '-' or a digit
 * is a number. */
static bool
integer_of(const struct span *v, int64_t *out)
{
	bool neg = v->s[0] == '-';
	uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, mag = 0;

	for (size_t i = neg; i < v->len; i++) {
		unsigned d = (unsigned)(v->s[i] - '0');

		if (d > 9 || mag > (lim - d) / 10)
			return false;
		mag = mag * 10 + d;
	}
	if (v->len == (size_t)neg)
		return false;
	if (!neg)
		*out = (int64_t)mag;
	else
		*out = mag == lim ? INT64_MIN : -(int64_t)mag;
	return true;
}

/* Reads "yes"/"no" or "commit"/"abort" as 1/0. */
static bool
choice_of(const struct span *v, const char *one, const char *zero, int *out)
{
	const char *s;
	size_t len;

	if (!string_of(v, &s, &len))
		return false;
	if (text_is(s, len, one))
		*out = 1;
	else if (text_is(s, len, zero))
		*out = 0;
	else
		return false;
	return true;
}

/* Fields the kind does not use are left zero (reason and the pointers
 * NULL), and *w is written only on success. */
enum sim_err
sim_tpc_wire_parse(enum sim_tpc_msg kind, const char *body, size_t len,
    struct sim_tpc_wire *w)
{
	struct scan sc = { body, len, 0 };
	struct span seen[NMEMBERS] = { { NULL, 0 } };
	struct sim_tpc_wire m = { 0 };
	unsigned need, use;
	const char *s;
	size_t n;

	if (w == NULL || (body == NULL && len > 0) || (unsigned)kind >= NKINDS)
		return SIM_ERR_INVAL;
	need = kinds[kind].need;
	use = kinds[kind].use;
	skip_ws(&sc);
	if (!at(&sc, '{') || !scan_value(&sc, 0, use, seen))
		return SIM_ERR_PROTO;
	skip_ws(&sc);
	if (sc.pos != len)
		return SIM_ERR_PROTO;
	for (int i = 0; i < NMEMBERS; i++)
		if ((need & B(i)) && seen[i].len == 0)
			return SIM_ERR_PROTO;

	if (!string_of(&seen[M_TXID], &s, &n) || !sim_tpc_txid_parse(s, n, &m.txid))
		return SIM_ERR_PROTO;
	if ((use & B(M_ID)) && !string_of(&seen[M_ID], &m.id, &m.id_len))
		return SIM_ERR_PROTO;
	if (use & B(M_CHANGE)) {
		m.change = seen[M_CHANGE].s;
		m.change_len = seen[M_CHANGE].len;
	}
	if ((use & B(M_DEADLINE)) && !integer_of(&seen[M_DEADLINE], &m.deadline_ms))
		return SIM_ERR_PROTO;
	if ((use & B(M_VOTE)) && !choice_of(&seen[M_VOTE], "yes", "no", &m.vote))
		return SIM_ERR_PROTO;
	/* A reason goes with a NO only; beside a YES it means nothing and is
	 * ignored like an unknown member. */
	if ((use & B(M_REASON)) && m.vote == 0 && seen[M_REASON].len != 0 &&
	    !string_of(&seen[M_REASON], &m.reason, &m.reason_len))
		return SIM_ERR_PROTO;
	if ((use & B(M_DECISION)) && !choice_of(&seen[M_DECISION], "commit", "abort", &m.decision))
		return SIM_ERR_PROTO;
	*w = m;
	return SIM_OK;
}

/* An snprintf-like destination: len counts everything written, whether or
 * not it fitted. */
struct out {
	char *buf;
	size_t cap, len;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (n > 0 && o->len < o->cap) {
		size_t room = o->cap - 1 - o->len;

		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void
put_text(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A string member the caller vouches needs no escape. A NULL string is
 * written empty: the message stays JSON, and the peer can tell. */
static void
put_string(struct out *o, const char *name, const char *s, size_t len)
{
	put_text(o, ",\"");
	put_text(o, name);
	put_text(o, "\":\"");
	if (s != NULL)
		put(o, s, len);
	put_text(o, "\"");
}

/* A kind out of range, or a NULL w, encodes as nothing (returns 0). */
size_t
sim_tpc_wire_encode(enum sim_tpc_msg kind, const struct sim_tpc_wire *w, char *buf,
    size_t cap)
{
	struct out o = { buf, buf != NULL ? cap : 0, 0 };
	char hex[17], num[24];

	if (w != NULL && (unsigned)kind < NKINDS) {
		sim_tpc_txid_hex(w->txid, hex);
		put_text(&o, "{\"txid\":\"");
		put(&o, hex, 16);
		put_text(&o, "\"");
		switch (kind) {
		case SIM_TPC_MSG_PREPARE:
			put_text(&o, ",\"change\":");
			if (w->change != NULL && w->change_len > 0)
				put(&o, w->change, w->change_len);
			else
				put_text(&o, "null");
			snprintf(num, sizeof(num), "%" PRId64, w->deadline_ms);
			put_text(&o, ",\"deadline\":");
			put_text(&o, num);
			break;
		case SIM_TPC_MSG_VOTE:
			put_string(&o, "id", w->id, w->id_len);
			put_text(&o, w->vote ? ",\"vote\":\"yes\"" : ",\"vote\":\"no\"");
			if (!w->vote && w->reason != NULL)
				put_string(&o, "reason", w->reason, w->reason_len);
			break;
		case SIM_TPC_MSG_DECISION:
			put_text(&o, w->decision ? ",\"decision\":\"commit\"" : ",\"decision\":\"abort\"");
			break;
		case SIM_TPC_MSG_ACK:
			put_string(&o, "id", w->id, w->id_len);
			put_text(&o, w->decision ? ",\"decision\":\"commit\"" : ",\"decision\":\"abort\"");
			break;
		case SIM_TPC_MSG_QUERY:
			put_string(&o, "id", w->id, w->id_len);
			break;
		}
		put_text(&o, "}");
	}
	if (o.cap > 0)
		o.buf[o.len < o.cap ? o.len : o.cap - 1] = '\0';
	return o.len;
}

/* The same 16 lowercase hex digits as request-response ids (rr.h), so one
 * pair of functions serves both. */
void
sim_tpc_txid_hex(uint64_t txid, char out[17])
{
	sim_rr_id_hex(txid, out);
}

bool
sim_tpc_txid_parse(const char *s, size_t len, uint64_t *txid)
{
	uint64_t v;

	if (s == NULL || txid == NULL || len != 16)
		return false;
	/* sim_rr_id_parse answers 0 for malformed text too, so an all-zero
	 * txid, which is valid here, is told apart by its text. */
	v = sim_rr_id_parse(s, len);
	if (v == 0 && memcmp(s, "0000000000000000", 16) != 0)
		return false;
	*txid = v;
	return true;
}
