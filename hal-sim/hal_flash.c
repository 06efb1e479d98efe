#include "hal_flash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal_rng.h"

/* Undo record: done (u64), key length (u8), had a value (u8), value
 * length (u16), key, old value, then the record's total size (u32) so the
 * log can be walked backwards. */
#define UNDO_HEAD 12
#define UNDO_TAIL 4

static const char magic[8] = { 'H', 'A', 'L', 'N', 'V', 'S', '1', '\n' };

static uint32_t
rec_size(const uint8_t *r)
{
	return HAL_FLASH_ENTRY_OVERHEAD + r[0] + (r[1] | (uint32_t)r[2] << 8);
}

static uint8_t *
find(const uint8_t *buf, uint32_t len, const char *key, size_t klen)
{
	uint32_t off = 0;

	while (off < len) {
		const uint8_t *r = buf + off;

		if (r[0] == klen && memcmp(r + 3, key, klen) == 0)
			return (uint8_t *)r;
		off += rec_size(r);
	}
	return NULL;
}

/* Sets key to val in the records (present), or removes it. The caller
 * made sure buf is large enough. */
static void
set(uint8_t *buf, uint32_t *len, const char *key, size_t klen, const uint8_t *val, size_t n,
    int present)
{
	uint8_t *r = find(buf, *len, key, klen);

	if (r != NULL && present && rec_size(r) == HAL_FLASH_ENTRY_OVERHEAD + klen + n) {
		memmove(r + 3 + klen, val, n);
		return;
	}
	if (r != NULL) {
		uint32_t sz = rec_size(r), off = (uint32_t)(r - buf);

		memmove(r, r + sz, *len - off - sz);
		*len -= sz;
	}
	if (!present)
		return;
	r = buf + *len;
	r[0] = (uint8_t)klen;
	r[1] = (uint8_t)(n & 0xff);
	r[2] = (uint8_t)(n >> 8);
	memcpy(r + 3, key, klen);
	if (n > 0)
		memcpy(r + 3 + klen, val, n);
	*len += (uint32_t)(HAL_FLASH_ENTRY_OVERHEAD + klen + n);
}

/* Grows *buf to hold need bytes, to the next multiple of 16 so that a few
 * small keys cost little. */
static enum hal_err
reserve(uint8_t **buf, uint32_t *cap, size_t need)
{
	uint8_t *nb;
	size_t nc;

	if (need <= *cap)
		return HAL_OK;
	if (need > UINT32_MAX - 16)
		return HAL_ERR_RANGE;
	nc = (need + 15) & ~(size_t)15;
	if ((nb = realloc(*buf, nc)) == NULL)
		return HAL_ERR_NOMEM;
	*buf = nb;
	*cap = (uint32_t)nc;
	return HAL_OK;
}

static void
undo_push(struct hal_flash *f, uint64_t done, const char *key, size_t klen, const uint8_t *old)
{
	uint8_t *u = f->undo + f->undo_len;
	uint32_t vlen = old ? rec_size(old) - HAL_FLASH_ENTRY_OVERHEAD - (uint32_t)klen : 0;
	uint32_t sz = UNDO_HEAD + (uint32_t)klen + vlen + UNDO_TAIL;

	memcpy(u, &done, 8);
	u[8] = (uint8_t)klen;
	u[9] = old != NULL;
	u[10] = (uint8_t)(vlen & 0xff);
	u[11] = (uint8_t)(vlen >> 8);
	memcpy(u + UNDO_HEAD, key, klen);
	if (vlen > 0)
		memcpy(u + UNDO_HEAD + klen, old + 3 + klen, vlen);
	memcpy(u + sz - UNDO_TAIL, &sz, 4);
	f->undo_len += sz;
}

static size_t
undo_size(size_t klen, const uint8_t *old)
{
	return UNDO_HEAD + klen + (old ? rec_size(old) - HAL_FLASH_ENTRY_OVERHEAD - klen : 0) +
	    UNDO_TAIL;
}

/* Forgets the undo records of writes completed by t. */
static void
settle(struct hal_flash *f, uint64_t t)
{
	uint32_t off = 0;

	while (off < f->undo_len) {
		uint64_t done;
		uint32_t sz;

		memcpy(&done, f->undo + off, 8);
		if (done > t)
			break;
		sz = UNDO_HEAD + f->undo[off + 8] + (f->undo[off + 10] | (uint32_t)f->undo[off + 11] << 8) +
		    UNDO_TAIL;
		off += sz;
	}
	if (off == f->undo_len) {
		free(f->undo);
		f->undo = NULL;
		f->undo_len = f->undo_cap = 0;
	} else if (off > 0) {
		memmove(f->undo, f->undo + off, f->undo_len - off);
		f->undo_len -= off;
	}
}

/* Undoes, newest first, the writes in the log that complete after t.
 * Every state it passes through existed before, and buffers never
 * shrink, so the records fit without allocating. */
static void
rollback(uint8_t *buf, uint32_t *len, const uint8_t *undo, uint32_t undo_len, uint64_t t)
{
	uint32_t end = undo_len;

	while (end > 0) {
		uint32_t sz;
		const uint8_t *u;
		uint64_t done;

		memcpy(&sz, undo + end - UNDO_TAIL, 4);
		u = undo + end - sz;
		memcpy(&done, u, 8);
		if (done <= t)
			break;
		set(buf, len, (const char *)u + UNDO_HEAD, u[8], u + UNDO_HEAD + u[8],
		    u[10] | (uint32_t)u[11] << 8, u[9]);
		end -= sz;
	}
}

static int
key_ok(const char *key, size_t *klen)
{
	if (key == NULL)
		return 0;
	*klen = strlen(key);
	return *klen >= 1 && *klen <= HAL_FLASH_KEY_MAX;
}

/* Write k fails or not, from its own stream. */
static int
write_fails(struct hal_flash *f)
{
	struct hal_rng r;

	if (!(f->cfg->write_fail > 0))
		return 0;
	hal_rng_init(&r, f->key, NULL, f->writes, "flash.write");
	return hal_rng_chance(&r, f->cfg->write_fail);
}

enum hal_err
hal_flash_init(struct hal_flash *f, const struct hal_flash_config *cfg, uint64_t seed,
    const char *group, uint32_t index)
{
	struct hal_rng r;
	enum hal_err err = HAL_OK;

	*f = (struct hal_flash){ .cfg = NULL };
	if (cfg == NULL || !(cfg->write_fail >= 0 && cfg->write_fail <= 1) ||
	    cfg->capacity > UINT32_MAX - 16) {
		err = HAL_ERR_INVAL;
		goto out;
	}
	f->cfg = cfg;
	f->group = group;
	f->index = index;
	hal_rng_init(&r, seed, group, index, "flash");
	f->key = hal_rng_u64(&r);
out:
	return err;
}

void
hal_flash_fini(struct hal_flash *f)
{
	free(f->buf);
	free(f->undo);
	f->buf = f->undo = NULL;
	f->len = f->cap = f->undo_len = f->undo_cap = 0;
}

/* The common part of put and del: queue behind the write in flight, draw
 * the failure, keep the undo record, apply. */
static enum hal_err
apply_write(struct hal_flash *f, uint64_t t, const char *key, size_t klen, const void *value,
    size_t n, int present, uint64_t *done)
{
	uint8_t *old = find(f->buf, f->len, key, klen);
	size_t need = f->len + (present ? HAL_FLASH_ENTRY_OVERHEAD + klen + n : 0) -
	    (old ? rec_size(old) : 0);
	uint64_t start = f->busy_until > t ? f->busy_until : t, end;
	enum hal_err err;

	if (need > f->cfg->capacity) {
		err = HAL_ERR_FULL;
		goto out;
	}
	end = start + f->cfg->write_latency;
	/* Space first, so that running out of memory changes nothing. */
	if (end > t && (err = reserve(&f->undo, &f->undo_cap, f->undo_len +
	    undo_size(klen, old))) != HAL_OK)
		goto out;
	if ((err = reserve(&f->buf, &f->cap, need > f->len ? need : f->len)) != HAL_OK)
		goto out;
	old = find(f->buf, f->len, key, klen);
	f->busy_until = end;
	*done = end;
	if (write_fails(f)) {
		f->writes++;
		err = HAL_ERR_IO;
		goto out;
	}
	f->writes++;
	if (end > t)
		undo_push(f, end, key, klen, old);
	set(f->buf, &f->len, key, klen, value, n, present);
out:
	return err;
}

enum hal_err
hal_flash_put(struct hal_flash *f, uint64_t t, const char *key, const void *value, size_t n,
    uint64_t *done)
{
	size_t klen;
	enum hal_err err = HAL_ERR_INVAL;

	*done = t;
	if (f->cfg == NULL || !key_ok(key, &klen) || n > HAL_FLASH_VALUE_MAX ||
	    (n > 0 && value == NULL))
		goto out;
	settle(f, t);
	err = apply_write(f, t, key, klen, value, n, 1, done);
out:
	return err;
}

enum hal_err
hal_flash_del(struct hal_flash *f, uint64_t t, const char *key, uint64_t *done)
{
	size_t klen;
	enum hal_err err = HAL_ERR_INVAL;

	*done = t;
	if (f->cfg == NULL || !key_ok(key, &klen))
		goto out;
	err = HAL_ERR_NOTFOUND;
	if (find(f->buf, f->len, key, klen) == NULL)
		goto out;
	settle(f, t);
	err = apply_write(f, t, key, klen, NULL, 0, 0, done);
out:
	return err;
}

enum hal_err
hal_flash_get(const struct hal_flash *f, const char *key, const void **value, size_t *n)
{
	size_t klen;
	const uint8_t *r;

	if (!key_ok(key, &klen))
		return HAL_ERR_INVAL;
	if ((r = find(f->buf, f->len, key, klen)) == NULL)
		return HAL_ERR_NOTFOUND;
	*value = r + 3 + klen;
	*n = rec_size(r) - HAL_FLASH_ENTRY_OVERHEAD - klen;
	return HAL_OK;
}

size_t
hal_flash_used(const struct hal_flash *f)
{
	return f->len;
}

size_t
hal_flash_count(const struct hal_flash *f)
{
	size_t count = 0;

	for (uint32_t off = 0; off < f->len; off += rec_size(f->buf + off))
		count++;
	return count;
}

void
hal_flash_reboot(struct hal_flash *f, uint64_t t)
{
	settle(f, t);
	rollback(f->buf, &f->len, f->undo, f->undo_len, t);
	free(f->undo);
	f->undo = NULL;
	f->undo_len = f->undo_cap = 0;
	/* Writes in flight died with the device. */
	if (f->busy_until > t)
		f->busy_until = t;
}

static uint32_t
crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The group becomes part of a file name, so it must not be able to walk
 * out of the directory. */
static enum hal_err
file_path(const struct hal_flash *f, char *path, size_t size, const char *suffix)
{
	const char *g = f->group;
	int n;

	if (f->cfg == NULL || f->cfg->dir == NULL || g == NULL || g[0] == '\0' || g[0] == '.')
		return HAL_ERR_INVAL;
	for (const char *c = g; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-'))
			return HAL_ERR_INVAL;
	n = snprintf(path, size, "%s/%s-%u.nvs%s", f->cfg->dir, g, f->index, suffix);
	return n < 0 || (size_t)n >= size ? HAL_ERR_INVAL : HAL_OK;
}

enum hal_err
hal_flash_save(const struct hal_flash *f, uint64_t t)
{
	char path[4096], tmp[4096];
	uint8_t head[16], tail[4], *copy = NULL;
	uint32_t len = f->len, count = 0, crc;
	FILE *fp = NULL;
	enum hal_err err;

	if ((err = file_path(f, path, sizeof(path), "")) != HAL_OK ||
	    (err = file_path(f, tmp, sizeof(tmp), ".tmp")) != HAL_OK)
		goto out;
	/* Roll writes in flight back on a copy: the file holds what a
	 * reboot at t would keep. */
	if (f->cap > 0 && (copy = malloc(f->cap)) == NULL) {
		err = HAL_ERR_NOMEM;
		goto out;
	}
	if (len > 0)
		memcpy(copy, f->buf, len);
	rollback(copy, &len, f->undo, f->undo_len, t);
	memcpy(head, magic, 8);
	for (uint32_t off = 0; off < len; off += rec_size(copy + off))
		count++;
	put_u32(head + 8, count);
	put_u32(head + 12, len);
	crc = crc32(0, head, sizeof(head));
	crc = crc32(crc, copy, len);
	put_u32(tail, crc);
	err = HAL_ERR_IO;
	if ((fp = fopen(tmp, "wb")) == NULL)
		goto out;
	if (fwrite(head, 1, sizeof(head), fp) != sizeof(head) ||
	    (len > 0 && fwrite(copy, 1, len, fp) != len) ||
	    fwrite(tail, 1, sizeof(tail), fp) != sizeof(tail)) {
		fclose(fp);
		fp = NULL;
		remove(tmp);
		goto out;
	}
	if (fclose(fp) != 0) {
		fp = NULL;
		remove(tmp);
		goto out;
	}
	fp = NULL;
	if (rename(tmp, path) != 0) {
		remove(tmp);
		goto out;
	}
	err = HAL_OK;
out:
	free(copy);
	return err;
}

/* Records well formed, as many as the header says, no key twice. */
static int
records_ok(const uint8_t *buf, uint32_t len, uint32_t count)
{
	uint32_t off = 0, seen = 0;

	while (off < len) {
		const uint8_t *r = buf + off;

		if (len - off < HAL_FLASH_ENTRY_OVERHEAD || r[0] == 0 || rec_size(r) > len - off)
			return 0;
		if (find(buf, off, (const char *)r + 3, r[0]) != NULL)
			return 0;
		off += rec_size(r);
		seen++;
	}
	return seen == count;
}

enum hal_err
hal_flash_load(struct hal_flash *f)
{
	char path[4096];
	uint8_t head[16], tail[4], *buf = NULL;
	uint32_t len, cap = 0, crc;
	FILE *fp = NULL;
	enum hal_err err;

	if ((err = file_path(f, path, sizeof(path), "")) != HAL_OK)
		goto out;
	if ((fp = fopen(path, "rb")) == NULL) {
		err = errno == ENOENT ? HAL_ERR_NOTFOUND : HAL_ERR_IO;
		goto out;
	}
	err = HAL_ERR_PARSE;
	if (fread(head, 1, sizeof(head), fp) != sizeof(head) || memcmp(head, magic, 8) != 0)
		goto out;
	len = get_u32(head + 12);
	/* Bound the length before trusting it with an allocation. */
	if (len > UINT32_MAX - 16 || len > f->cfg->capacity + (1u << 20))
		goto out;
	if (len > 0 && (err = reserve(&buf, &cap, len)) != HAL_OK)
		goto out;
	err = HAL_ERR_PARSE;
	if ((len > 0 && fread(buf, 1, len, fp) != len) ||
	    fread(tail, 1, sizeof(tail), fp) != sizeof(tail) || fgetc(fp) != EOF)
		goto out;
	crc = crc32(crc32(0, head, sizeof(head)), buf, len);
	if (crc != get_u32(tail) || !records_ok(buf, len, get_u32(head + 8)))
		goto out;
	if (len > f->cfg->capacity) {
		err = HAL_ERR_FULL;
		goto out;
	}
	free(f->buf);
	free(f->undo);
	f->buf = buf;
	f->len = len;
	f->cap = cap;
	f->undo = NULL;
	f->undo_len = f->undo_cap = 0;
	buf = NULL;
	err = HAL_OK;
out:
	if (fp != NULL)
		fclose(fp);
	free(buf);
	return err;
}
