#include "dev_tpc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal_rng.h"

#define KEY_CFG "tpc.cfg"
#define KEY_LAST "tpc.last"
#define KEY_RING "tpc.d"
#define PREFIX "tpc.p."
#define PREFIX_LEN (sizeof(PREFIX) - 1)
#define HEX 16
/* "tpc.p." and the txid. */
#define PKEY_LEN (PREFIX_LEN + HEX)
/* tpc.last: the txid, a space, the hash of tpc.cfg. */
#define LAST_LEN (HEX + 1 + HEX)
/* A tpc.d entry: the txid and the outcome. */
#define ENTRY_LEN (HEX + 1)

static uint64_t
utime(int64_t t)
{
	return t > 0 ? (uint64_t)t : 0;
}

static uint64_t
later(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Writes 16 hex digits, without a terminator. */
static void
hex(char *s, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = HEX - 1; i >= 0; i--, v >>= 4)
		s[i] = digits[v & 0xf];
}

static bool
unhex(const char *s, uint64_t *v)
{
	*v = 0;
	for (int i = 0; i < HEX; i++) {
		int c = (unsigned char)s[i], x;

		if (c >= '0' && c <= '9')
			x = c - '0';
		else if (c >= 'a' && c <= 'f')
			x = c - 'a' + 10;
		else
			return false;
		*v = *v << 4 | (uint64_t)x;
	}
	return true;
}

static uint64_t
fnv1a(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static void
pkey(char key[PKEY_LEN + 1], uint64_t txid)
{
	memcpy(key, PREFIX, PREFIX_LEN);
	hex(key + PREFIX_LEN, txid);
	key[PKEY_LEN] = '\0';
}

/* What an entry costs in flash, as hal_flash counts capacity. */
static size_t
cost(size_t klen, size_t vlen)
{
	return HAL_FLASH_ENTRY_OVERHEAD + klen + vlen;
}

static size_t
cost_now(const struct hal_flash *f, const char *key)
{
	const void *v;
	size_t n;

	return hal_flash_get(f, key, &v, &n) == HAL_OK ? cost(strlen(key), n) : 0;
}

static size_t
growth(size_t now, size_t then)
{
	return then > now ? then - now : 0;
}

/* The next key in flash, not terminated. hal_flash has no iterator; its
 * buffer holds the records of its file format (hal_flash.h): u8 key
 * length, u16 value length (little-endian), key, value. Only the keys
 * are read here: values go through hal_flash_get. */
static bool
next_key(const struct hal_flash *f, uint32_t *off, const char **key, size_t *klen)
{
	const uint8_t *r;

	if (f->buf == NULL || f->len < HAL_FLASH_ENTRY_OVERHEAD ||
	    *off > f->len - HAL_FLASH_ENTRY_OVERHEAD)
		return false;
	r = f->buf + *off;
	*key = (const char *)r + HAL_FLASH_ENTRY_OVERHEAD;
	*klen = r[0];
	*off += (uint32_t)cost(r[0], r[1] | (size_t)r[2] << 8);
	return *off <= f->len;
}

/* The txid of a PREPARED record's key, false for any other key. */
static bool
prepared_txid(const char *key, size_t klen, uint64_t *txid)
{
	return klen == PKEY_LEN && memcmp(key, PREFIX, PREFIX_LEN) == 0 &&
	    unhex(key + PREFIX_LEN, txid);
}

/* The largest change prepared: applying it must find room. */
static size_t
prepared_max(const struct hal_flash *f)
{
	uint32_t off = 0;
	const char *k;
	size_t klen, max = 0;
	uint64_t txid;

	while (next_key(f, &off, &k, &klen)) {
		char key[PKEY_LEN + 1];
		const void *v;
		size_t n;

		if (!prepared_txid(k, klen, &txid))
			continue;
		pkey(key, txid);
		if (hal_flash_get(f, key, &v, &n) == HAL_OK && n > max)
			max = n;
	}
	return max;
}

/* tpc.last's txid and hash, false if there is none (or it is garbled). */
static bool
last(const struct hal_flash *f, uint64_t *txid, uint64_t *hash)
{
	const void *v;
	const char *s;
	size_t n;

	if (hal_flash_get(f, KEY_LAST, &v, &n) != HAL_OK || n != LAST_LEN)
		return false;
	s = v;
	return s[HEX] == ' ' && unhex(s, txid) && unhex(s + HEX + 1, hash);
}

static bool
last_is(const struct hal_flash *f, uint64_t txid)
{
	uint64_t lt, h;

	return last(f, &lt, &h) && lt == txid;
}

/* txid's outcome in tpc.d ('c', 'a' or 'n'), or 0 if it is not there. */
static char
outcome(const struct hal_flash *f, uint64_t txid)
{
	const void *v;
	const char *s;
	size_t n;
	uint64_t x;

	if (hal_flash_get(f, KEY_RING, &v, &n) != HAL_OK)
		return 0;
	s = v;
	for (size_t i = 0; i + ENTRY_LEN <= n; i += ENTRY_LEN)
		if (unhex(s + i, &x) && x == txid)
			return s[i + HEX];
	return 0;
}

/* Records txid's outcome o as the newest in tpc.d, dropping its older
 * entry and, past DEV_TPC_KEEP, the oldest. One write: the whole list
 * is a single value, so it needs no cleanup of its own. */
static enum hal_err
remember(struct hal_flash *f, uint64_t t, uint64_t txid, char o, uint64_t *done)
{
	char ring[DEV_TPC_KEEP * ENTRY_LEN];
	const void *v = NULL;
	const char *s;
	size_t n, len = 0, kept = 0, total;
	uint64_t x;

	if (hal_flash_get(f, KEY_RING, &v, &n) != HAL_OK)
		n = 0;
	s = v;
	total = n / ENTRY_LEN;
	for (size_t i = 0; i < total; i++)
		if (!(unhex(s + i * ENTRY_LEN, &x) && x == txid))
			kept++;
	/* Copy the newest kept entries that leave room for this one. */
	for (size_t i = 0; i < total; i++) {
		const char *e = s + i * ENTRY_LEN;

		if (unhex(e, &x) && x == txid)
			continue;
		if (kept-- >= DEV_TPC_KEEP)
			continue;
		memcpy(ring + len, e, ENTRY_LEN);
		len += ENTRY_LEN;
	}
	hex(ring + len, txid);
	ring[len + HEX] = o;
	len += ENTRY_LEN;
	return hal_flash_put(f, t, KEY_RING, ring, len, done);
}

/* Room for the PREPARED record of a change of len bytes and, beside it,
 * for applying the largest change prepared: a COMMIT writes tpc.cfg,
 * tpc.last and tpc.d before it removes the record, so a flash that only
 * fits the record would leave the device unable to ever ACK. */
static bool
room(const struct hal_flash *f, size_t len)
{
	size_t lmax = prepared_max(f), need;

	if (len > lmax)
		lmax = len;
	need = hal_flash_used(f) + cost(PKEY_LEN, len) +
	    growth(cost_now(f, KEY_CFG), cost(strlen(KEY_CFG), lmax)) +
	    growth(cost_now(f, KEY_LAST), cost(strlen(KEY_LAST), LAST_LEN)) +
	    growth(cost_now(f, KEY_RING), cost(strlen(KEY_RING), DEV_TPC_KEEP * ENTRY_LEN));
	return need <= f->cfg->capacity;
}

/* The vote_no draw: a stream of (device, txid) alone, not d->rng, whose
 * draws depend on every command the device ran before. Multiplying by an
 * odd constant keeps distinct txids distinct. */
static bool
draw_no(const struct dev_device *d, uint64_t txid, double p)
{
	struct hal_rng rng;

	if (!(p > 0))
		return false;
	hal_rng_init(&rng, d->key ^ (txid * 0x9e3779b97f4a7c15ull), NULL, 0, "tpc.vote");
	return hal_rng_chance(&rng, p);
}

/* The reason for a flash error the device sees. */
static const char *
flash_reason(enum hal_err e)
{
	return e == HAL_ERR_FULL ? "flash_full" : "flash_error";
}

enum hal_err
dev_tpc_prepare(struct dev_device *d, const struct dev_tpc_rules *r, int64_t t, uint64_t txid,
    const char *change, size_t len, struct dev_tpc_step *step)
{
	struct hal_flash *f;
	char key[PKEY_LEN + 1], o;
	const void *v;
	size_t n;
	uint64_t now = utime(t), done = now;
	enum hal_err rv = HAL_ERR_INVAL, e;

	if (step == NULL)
		goto out;
	*step = (struct dev_tpc_step){ .reply = true, .what = DEV_TPC_SEND_VOTE, .vote = DEV_TPC_NO,
	    .at = now };
	if (d == NULL || r == NULL || (change == NULL && len > 0)) {
		step->reply = false;
		goto out;
	}
	rv = HAL_OK;
	if ((f = d->flash) == NULL) {
		step->reason = "no_flash";
		goto out;
	}
	/* Seen before: the same vote, once the writes in flight (which may
	 * be this txid's) are durable. */
	pkey(key, txid);
	step->at = later(now, f->busy_until);
	if (hal_flash_get(f, key, &v, &n) == HAL_OK || last_is(f, txid)) {
		step->vote = DEV_TPC_YES;
		goto out;
	}
	if ((o = outcome(f, txid)) != 0) {
		if (o == 'n')
			step->reason = "aborted";
		else
			step->vote = DEV_TPC_YES;
		goto out;
	}
	step->at = now;
	if (len > HAL_FLASH_VALUE_MAX)
		step->reason = "too_large";
	else if (hal_power_pct(&d->power, now) < r->min_battery_pct)
		step->reason = "battery";
	else if (draw_no(d, txid, r->vote_no))
		step->reason = "vote_no";
	else if (!room(f, len))
		step->reason = "flash_full";
	else if ((e = hal_flash_put(f, now, key, change, len, &done)) == HAL_OK) {
		step->vote = DEV_TPC_YES;
		step->at = done;
		goto out;
	} else if (e == HAL_ERR_NOMEM) {
		rv = e;
		step->reply = false;
		goto out;
	} else {
		/* The NO waits until the failure is known. */
		step->reason = flash_reason(e);
		step->at = done;
	}
	/* Remember the NO, so that a duplicate PREPARE gets it again even if
	 * the flash has room by then. Best effort: a coordinator counts the
	 * first vote it gets, so forgetting only costs a second look. */
	e = remember(f, now, txid, 'n', &done);
	if (e == HAL_ERR_NOMEM) {
		rv = e;
		step->reply = false;
		goto out;
	}
	step->at = later(step->at, done);
out:
	return rv;
}

/* Applies txid's decision, whose PREPARED record (key) holds the change.
 * The order matters: tpc.cfg, tpc.last and tpc.d may each be lost to a
 * crash, but the record goes last, so until it is gone the device is in
 * doubt and a resent DECISION does it all again. */
static enum hal_err
apply(struct hal_flash *f, uint64_t t, uint64_t txid, bool commit, const char *key,
    uint64_t *done)
{
	char lastv[LAST_LEN];
	char *copy = NULL;
	const void *v;
	size_t n;
	enum hal_err e;

	if ((e = hal_flash_get(f, key, &v, &n)) != HAL_OK)
		goto out;
	if (commit) {
		/* v points into the store, which the next put may move. */
		if (n > 0) {
			e = HAL_ERR_NOMEM;
			if ((copy = malloc(n)) == NULL)
				goto out;
			memcpy(copy, v, n);
		}
		hex(lastv, txid);
		lastv[HEX] = ' ';
		hex(lastv + HEX + 1, fnv1a(copy, n));
		if ((e = hal_flash_put(f, t, KEY_CFG, copy, n, done)) != HAL_OK ||
		    (e = hal_flash_put(f, t, KEY_LAST, lastv, LAST_LEN, done)) != HAL_OK)
			goto out;
	}
	if ((e = remember(f, t, txid, commit ? 'c' : 'a', done)) != HAL_OK)
		goto out;
	e = hal_flash_del(f, t, key, done);
out:
	free(copy);
	return e;
}

enum hal_err
dev_tpc_decide(struct dev_device *d, int64_t t, uint64_t txid, bool commit,
    struct dev_tpc_step *step)
{
	struct hal_flash *f;
	char key[PKEY_LEN + 1];
	const void *v;
	size_t n;
	uint64_t now = utime(t), done = now;
	enum hal_err rv = HAL_ERR_INVAL, e;

	if (step == NULL)
		goto out;
	*step = (struct dev_tpc_step){ .reply = true, .what = DEV_TPC_SEND_ACK, .at = now };
	if (d == NULL) {
		step->reply = false;
		goto out;
	}
	rv = HAL_OK;
	/* Without flash the device never voted YES: nothing to apply. */
	if ((f = d->flash) == NULL)
		goto out;
	pkey(key, txid);
	if (hal_flash_get(f, key, &v, &n) == HAL_OK) {
		if ((e = apply(f, now, txid, commit, key, &done)) != HAL_OK) {
			step->reply = false;
			if (e == HAL_ERR_NOMEM)
				rv = e;
			else
				step->reason = flash_reason(e);
			goto out;
		}
		step->applied = true;
		step->committed = commit;
	} else if (!commit && !last_is(f, txid) && outcome(f, txid) == 0) {
		/* An ABORT overtook its PREPARE (the coordinator gave up
		 * waiting): remember it, so the PREPARE votes NO when it
		 * comes. Best effort, like a NO. */
		if (remember(f, now, txid, 'n', &done) == HAL_ERR_NOMEM) {
			rv = HAL_ERR_NOMEM;
			step->reply = false;
			goto out;
		}
	}
	/* The ACK lets the coordinator forget txid: only once what it
	 * acknowledges (possibly an earlier call's writes) is durable. */
	step->at = later(now, f->busy_until);
out:
	return rv;
}

size_t
dev_tpc_in_doubt(const struct dev_device *d, uint64_t *out, size_t max)
{
	uint32_t off = 0;
	const char *k;
	size_t klen, count = 0;
	uint64_t txid;

	if (d == NULL || d->flash == NULL)
		return 0;
	while (next_key(d->flash, &off, &k, &klen)) {
		if (!prepared_txid(k, klen, &txid))
			continue;
		if (count < max && out != NULL)
			out[count] = txid;
		count++;
	}
	return count;
}

bool
dev_tpc_applied(const struct dev_device *d, uint64_t txid)
{
	const void *v;
	size_t n;
	uint64_t lt, h;

	if (d == NULL || d->flash == NULL || !last(d->flash, &lt, &h) || lt != txid)
		return false;
	return hal_flash_get(d->flash, KEY_CFG, &v, &n) == HAL_OK && fnv1a(v, n) == h;
}
