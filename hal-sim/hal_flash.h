/* The device's flash (NVS): a small key-value store with a capacity, a
 * write latency and a write-failure rate, whose content survives a
 * simulated reboot or crash, and optionally a process restart (flash_dir).
 *
 * Times are simulated nanoseconds that never decrease from one call to
 * the next. A write is visible to reads at once (the driver caches it)
 * but only durable when it completes, at the time the write returns: a
 * reboot before then undoes it. Writes complete one after another.
 *
 * Memory: the entries live in one heap buffer of records, each the key
 * and value plus 3 bytes, sized to fit; writes still in flight keep an
 * undo record in a second buffer that is freed once they complete.
 * Lookups scan the records, which suits the few small keys devices keep.
 *
 * File format of DIR/GROUP-INDEX.nvs (little-endian):
 *   8 bytes  magic "HALNVS1\n"
 *   u32      number of entries
 *   u32      length in bytes of the records that follow
 *   records  u8 key length (1..255), u16 value length, key, value
 *   u32      CRC-32 (IEEE, as zlib's crc32) of every byte before it
 * It is written to DIR/GROUP-INDEX.nvs.tmp and renamed over the old one,
 * so a reader sees the old or the new file, never half of one. There is
 * no fsync: the file survives the process, not the machine. */
#ifndef HAL_FLASH_H
#define HAL_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "hal_err.h"

/* Bytes an entry costs on top of its key and value. */
#define HAL_FLASH_ENTRY_OVERHEAD 3
#define HAL_FLASH_KEY_MAX 255
#define HAL_FLASH_VALUE_MAX 65535

/* Shared by every device of a group; it must outlive the devices. */
struct hal_flash_config {
	size_t capacity;	/* bytes: sum of key + value + overhead */
	uint64_t write_latency;	/* ns per write or erase */
	double write_fail;	/* probability that a write or erase fails */
	const char *dir;	/* flash_dir for save and load; NULL = none */
};

/* Per-device state (72 bytes plus the buffers). */
struct hal_flash {
	const struct hal_flash_config *cfg;
	const char *group;	/* borrowed; names the file */
	uint8_t *buf;		/* owned: the records */
	uint8_t *undo;		/* owned: undo records of writes in flight */
	uint64_t busy_until;	/* when the last write in flight completes */
	uint64_t key;		/* seeds the failure draws */
	uint32_t index;
	uint32_t len, cap;	/* of buf */
	uint32_t undo_len, undo_cap;
	uint32_t writes;	/* writes attempted; numbers the draws */
};

/* Starts an empty flash for device (group, index); cfg and group are
 * borrowed. Allocates nothing. On error f is still safe to fini. */
enum hal_err hal_flash_init(struct hal_flash *f, const struct hal_flash_config *cfg,
    uint64_t seed, const char *group, uint32_t index);
/* Frees the buffers (not the file). */
void hal_flash_fini(struct hal_flash *f);

/* Stores value (n bytes) under key (a string of 1..255 bytes) at t and
 * sets *done to the time the write completes, when the engine should
 * let the device see the outcome. Errors the device sees:
 * HAL_ERR_FULL when the store would exceed capacity, HAL_ERR_IO when the
 * write fails (nothing changes; *done still says when it is known),
 * HAL_ERR_INVAL for a bad key or a value over 65535 bytes. Capacity and
 * argument errors are known at once (*done = t). HAL_ERR_NOMEM: the
 * simulator ran out of memory, nothing changed. */
enum hal_err hal_flash_put(struct hal_flash *f, uint64_t t, const char *key, const void *value,
    size_t n, uint64_t *done);

/* Erases key, like a write: HAL_ERR_NOTFOUND (at once) if it is absent,
 * HAL_ERR_IO if the erase fails. */
enum hal_err hal_flash_del(struct hal_flash *f, uint64_t t, const char *key, uint64_t *done);

/* The value of key: *value points into the store and stays valid until
 * the next put, del, reboot, load or fini. HAL_ERR_NOTFOUND if absent. */
enum hal_err hal_flash_get(const struct hal_flash *f, const char *key, const void **value,
    size_t *n);

/* Bytes in use (counted as for capacity) and number of entries. */
size_t hal_flash_used(const struct hal_flash *f);
size_t hal_flash_count(const struct hal_flash *f);

/* The device reboots or crashes at t: writes completed by t stay,
 * writes still in flight are undone. The engine resets RAM state; this
 * is the part that survives. */
void hal_flash_reboot(struct hal_flash *f, uint64_t t);

/* Writes what is durable at t (writes in flight left out) to
 * cfg->dir/GROUP-INDEX.nvs. HAL_ERR_INVAL without a dir or with a group
 * name that is not [A-Za-z0-9._-]+ (or starts with a dot), HAL_ERR_IO if
 * the file cannot be written. */
enum hal_err hal_flash_save(const struct hal_flash *f, uint64_t t);

/* Replaces the content with the file's. HAL_ERR_NOTFOUND if there is no
 * file (a first run), HAL_ERR_PARSE if it is corrupt (bad magic, length
 * or checksum), HAL_ERR_FULL if it does not fit the capacity, HAL_ERR_IO
 * if it cannot be read. On error the content is unchanged. */
enum hal_err hal_flash_load(struct hal_flash *f);

#endif
