#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "fs_test.h"

#include "hal_flash.h"

#define MS 1000000ull

/* key's value as a string, or "" when absent. */
static const char *
val(const struct hal_flash *f, const char *key)
{
	static char s[256];
	const void *v;
	size_t n;

	if (hal_flash_get(f, key, &v, &n) != HAL_OK)
		return "";
	memcpy(s, v, n);
	s[n] = '\0';
	return s;
}

static enum hal_err
put(struct hal_flash *f, uint64_t t, const char *key, const char *v, uint64_t *done)
{
	return hal_flash_put(f, t, key, v, strlen(v), done);
}

static void
test_basic(void)
{
	struct hal_flash_config c = { .capacity = 1024 };
	struct hal_flash f;
	uint64_t done;

	CU_ASSERT_EQUAL_FATAL(hal_flash_init(&f, &c, 1, "g", 0), HAL_OK);
	/* An empty store allocates nothing. */
	CU_ASSERT_PTR_NULL(f.buf);
	CU_ASSERT_STRING_EQUAL(val(&f, "a"), "");
	CU_ASSERT_EQUAL(put(&f, 0, "a", "one", &done), HAL_OK);
	CU_ASSERT_EQUAL(done, 0);
	CU_ASSERT_EQUAL(put(&f, 0, "bb", "two", &done), HAL_OK);
	CU_ASSERT_STRING_EQUAL(val(&f, "a"), "one");
	CU_ASSERT_STRING_EQUAL(val(&f, "bb"), "two");
	CU_ASSERT_EQUAL(hal_flash_count(&f), 2);
	CU_ASSERT_EQUAL(hal_flash_used(&f), (1 + 3 + 3) + (2 + 3 + 3));
	/* A few small keys take one small buffer. */
	CU_ASSERT(f.cap <= 32);
	CU_ASSERT_EQUAL(put(&f, 1, "a", "longer value", &done), HAL_OK);
	CU_ASSERT_EQUAL(put(&f, 1, "bb", "TWO", &done), HAL_OK);
	CU_ASSERT_STRING_EQUAL(val(&f, "a"), "longer value");
	CU_ASSERT_STRING_EQUAL(val(&f, "bb"), "TWO");
	CU_ASSERT_EQUAL(hal_flash_put(&f, 2, "empty", NULL, 0, &done), HAL_OK);
	CU_ASSERT_EQUAL(hal_flash_count(&f), 3);
	CU_ASSERT_EQUAL(hal_flash_del(&f, 3, "a", &done), HAL_OK);
	CU_ASSERT_EQUAL(hal_flash_del(&f, 3, "a", &done), HAL_ERR_NOTFOUND);
	CU_ASSERT_STRING_EQUAL(val(&f, "a"), "");
	CU_ASSERT_STRING_EQUAL(val(&f, "bb"), "TWO");
	CU_ASSERT_EQUAL(hal_flash_count(&f), 2);
	hal_flash_fini(&f);
	hal_flash_fini(&f);
}

static void
test_survives_reboot(void)
{
	struct hal_flash_config c = { .capacity = 1024, .write_latency = 10 * MS };
	struct hal_flash f;
	uint64_t done;

	CU_ASSERT_EQUAL_FATAL(hal_flash_init(&f, &c, 1, "g", 0), HAL_OK);
	CU_ASSERT_EQUAL(put(&f, 0, "state", "prepared", &done), HAL_OK);
	CU_ASSERT_EQUAL(done, 10 * MS);
	/* Completed writes survive. */
	hal_flash_reboot(&f, 20 * MS);
	CU_ASSERT_STRING_EQUAL(val(&f, "state"), "prepared");
	/* A write in flight is visible at once but undone by a reboot. */
	CU_ASSERT_EQUAL(put(&f, 30 * MS, "state", "committed", &done), HAL_OK);
	CU_ASSERT_STRING_EQUAL(val(&f, "state"), "committed");
	hal_flash_reboot(&f, 39 * MS);
	CU_ASSERT_STRING_EQUAL(val(&f, "state"), "prepared");
	/* Done exactly at the reboot counts as done. */
	CU_ASSERT_EQUAL(put(&f, 50 * MS, "state", "committed", &done), HAL_OK);
	hal_flash_reboot(&f, done);
	CU_ASSERT_STRING_EQUAL(val(&f, "state"), "committed");

	/* Writes queue behind each other; a reboot keeps the prefix that
	 * completed, whatever mix of new keys, overwrites and erases. */
	CU_ASSERT_EQUAL(put(&f, 100 * MS, "a", "a1", &done), HAL_OK);
	CU_ASSERT_EQUAL(done, 110 * MS);
	CU_ASSERT_EQUAL(put(&f, 100 * MS, "b", "b1", &done), HAL_OK);
	CU_ASSERT_EQUAL(done, 120 * MS);
	CU_ASSERT_EQUAL(put(&f, 105 * MS, "a", "a2-longer", &done), HAL_OK);
	CU_ASSERT_EQUAL(done, 130 * MS);
	CU_ASSERT_EQUAL(hal_flash_del(&f, 106 * MS, "state", &done), HAL_OK);
	CU_ASSERT_EQUAL(done, 140 * MS);
	CU_ASSERT_EQUAL(hal_flash_count(&f), 2);
	hal_flash_reboot(&f, 125 * MS);
	CU_ASSERT_STRING_EQUAL(val(&f, "a"), "a1");
	CU_ASSERT_STRING_EQUAL(val(&f, "b"), "b1");
	CU_ASSERT_STRING_EQUAL(val(&f, "state"), "committed");
	CU_ASSERT_EQUAL(hal_flash_count(&f), 3);
	CU_ASSERT_PTR_NULL(f.undo);
	/* After the reboot the flash is idle: the next write starts at once. */
	CU_ASSERT_EQUAL(put(&f, 126 * MS, "c", "c1", &done), HAL_OK);
	CU_ASSERT_EQUAL(done, 136 * MS);
	/* Undo records go once their writes complete. */
	CU_ASSERT_EQUAL(put(&f, 200 * MS, "d", "d1", &done), HAL_OK);
	CU_ASSERT_EQUAL(f.undo_len, 12 + 1 + 4);
	CU_ASSERT_EQUAL(put(&f, 300 * MS, "d", "d2", &done), HAL_OK);
	CU_ASSERT_EQUAL(f.undo_len, 12 + 1 + 2 + 4);
	hal_flash_fini(&f);
}

static void
test_capacity(void)
{
	struct hal_flash_config c = { .capacity = 32 };
	struct hal_flash f;
	char big[HAL_FLASH_KEY_MAX + 2];
	uint64_t done;

	CU_ASSERT_EQUAL_FATAL(hal_flash_init(&f, &c, 1, "g", 0), HAL_OK);
	/* 1 + 20 + 3 = 24 bytes. */
	CU_ASSERT_EQUAL(put(&f, 0, "k", "01234567890123456789", &done), HAL_OK);
	CU_ASSERT_EQUAL(put(&f, 1, "k2", "0123456789", &done), HAL_ERR_FULL);
	CU_ASSERT_EQUAL(done, 1);
	CU_ASSERT_STRING_EQUAL(val(&f, "k2"), "");
	/* An overwrite only needs room for the difference: 32 fits, 33 not. */
	CU_ASSERT_EQUAL(put(&f, 2, "k", "0123456789012345678901234567", &done), HAL_OK);
	CU_ASSERT_EQUAL(hal_flash_used(&f), 32);
	CU_ASSERT_EQUAL(put(&f, 3, "k", "01234567890123456789012345678", &done), HAL_ERR_FULL);
	CU_ASSERT_STRING_EQUAL(val(&f, "k"), "0123456789012345678901234567");
	/* Erasing makes room. */
	CU_ASSERT_EQUAL(hal_flash_del(&f, 4, "k", &done), HAL_OK);
	CU_ASSERT_EQUAL(put(&f, 5, "k2", "0123456789", &done), HAL_OK);
	/* Bad keys and values. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(put(&f, 6, big, "v", &done), HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(put(&f, 6, "", "v", &done), HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(hal_flash_put(&f, 6, "v", big, HAL_FLASH_VALUE_MAX + 1, &done),
	    HAL_ERR_INVAL);
	hal_flash_fini(&f);

	/* A failed init leaves a flash that is safe to use and fini. */
	c.write_fail = 2;
	CU_ASSERT_EQUAL(hal_flash_init(&f, &c, 1, "g", 0), HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(put(&f, 0, "k", "v", &done), HAL_ERR_INVAL);
	hal_flash_fini(&f);
}

static void
test_write_failures(void)
{
	enum { N = 20000 };
	struct hal_flash_config c = { .capacity = 1024, .write_latency = 1 * MS,
	    .write_fail = 0.2 };
	struct hal_flash f, g;
	uint64_t done, done2, t = 0;
	int fails = 0, same = 1;
	char v[16], before[256];

	CU_ASSERT_EQUAL_FATAL(hal_flash_init(&f, &c, 4, "g", 1), HAL_OK);
	CU_ASSERT_EQUAL_FATAL(hal_flash_init(&g, &c, 4, "g", 1), HAL_OK);
	for (int i = 0; i < N; i++, t += 2 * MS) {
		enum hal_err e, e2;

		snprintf(v, sizeof(v), "%d", i);
		snprintf(before, sizeof(before), "%s", val(&f, "k"));
		e = put(&f, t, "k", v, &done);
		e2 = put(&g, t, "k", v, &done2);
		same &= e == e2;
		/* The outcome is known when the write would have completed. */
		CU_ASSERT_EQUAL(done, t + 1 * MS);
		if (e == HAL_ERR_IO) {
			fails++;
			CU_ASSERT_STRING_EQUAL(val(&f, "k"), before);
		} else {
			CU_ASSERT_EQUAL(e, HAL_OK);
			CU_ASSERT_STRING_EQUAL(val(&f, "k"), v);
		}
	}
	CU_ASSERT(same);
	CU_ASSERT(fabs((double)fails / N - 0.2) < 0.01);
	hal_flash_fini(&f);
	hal_flash_fini(&g);
}

static void
test_persistence(void)
{
	char dir[] = "/tmp/hal_flash_test.XXXXXX", path[512];
	struct hal_flash_config c = { .capacity = 1024, .write_latency = 10 * MS };
	struct hal_flash f, g;
	uint64_t done;
	FILE *fp;
	long size;
	int ch;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	c.dir = dir;
	snprintf(path, sizeof(path), "%s/rooms-7.nvs", dir);
	CU_ASSERT_EQUAL_FATAL(hal_flash_init(&f, &c, 1, "rooms", 7), HAL_OK);
	CU_ASSERT_EQUAL_FATAL(hal_flash_init(&g, &c, 1, "rooms", 7), HAL_OK);
	/* No file yet: a first run. */
	CU_ASSERT_EQUAL(hal_flash_load(&g), HAL_ERR_NOTFOUND);
	put(&f, 0, "txn", "prepared:42", &done);
	put(&f, 0, "empty", "", &done);
	CU_ASSERT_EQUAL(hal_flash_put(&f, 0, "bin", "\0\1\2\xff", 4, &done), HAL_OK);
	put(&f, 100 * MS, "late", "in flight", &done);
	/* Saved at 105 ms: the write in flight is left out. */
	CU_ASSERT_EQUAL(hal_flash_save(&f, 105 * MS), HAL_OK);
	CU_ASSERT_EQUAL(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/rooms-7.nvs.tmp", dir);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/rooms-7.nvs", dir);
	CU_ASSERT_EQUAL(hal_flash_load(&g), HAL_OK);
	CU_ASSERT_EQUAL(hal_flash_count(&g), 3);
	CU_ASSERT_STRING_EQUAL(val(&g, "txn"), "prepared:42");
	CU_ASSERT_STRING_EQUAL(val(&g, "late"), "");
	{
		const void *v;
		size_t n;

		CU_ASSERT_EQUAL(hal_flash_get(&g, "bin", &v, &n), HAL_OK);
		CU_ASSERT_EQUAL(n, 4);
		CU_ASSERT(memcmp(v, "\0\1\2\xff", 4) == 0);
		CU_ASSERT_EQUAL(hal_flash_get(&g, "empty", &v, &n), HAL_OK);
		CU_ASSERT_EQUAL(n, 0);
	}
	/* Saved after the write completed, it is there. */
	CU_ASSERT_EQUAL(hal_flash_save(&f, 110 * MS), HAL_OK);
	CU_ASSERT_EQUAL(hal_flash_load(&g), HAL_OK);
	CU_ASSERT_STRING_EQUAL(val(&g, "late"), "in flight");

	/* A flipped byte is caught by the checksum and changes nothing. */
	fp = fopen(path, "r+b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fseek(fp, 20, SEEK_SET);
	ch = fgetc(fp);
	fseek(fp, 20, SEEK_SET);
	fputc(ch ^ 0x01, fp);
	fclose(fp);
	put(&g, 200 * MS, "txn", "aborted", &done);
	CU_ASSERT_EQUAL(hal_flash_load(&g), HAL_ERR_PARSE);
	CU_ASSERT_STRING_EQUAL(val(&g, "txn"), "aborted");
	/* So is a truncated file. */
	CU_ASSERT_EQUAL(hal_flash_save(&f, 110 * MS), HAL_OK);
	fp = fopen(path, "rb");
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fclose(fp);
	CU_ASSERT_EQUAL(truncate(path, size - 1), 0);
	CU_ASSERT_EQUAL(hal_flash_load(&g), HAL_ERR_PARSE);
	CU_ASSERT_EQUAL(truncate(path, 3), 0);
	CU_ASSERT_EQUAL(hal_flash_load(&g), HAL_ERR_PARSE);
	/* A file larger than the capacity does not fit. */
	CU_ASSERT_EQUAL(hal_flash_save(&f, 110 * MS), HAL_OK);
	hal_flash_fini(&g);
	c.capacity = 10;
	hal_flash_init(&g, &c, 1, "rooms", 7);
	CU_ASSERT_EQUAL(hal_flash_load(&g), HAL_ERR_FULL);
	CU_ASSERT_EQUAL(hal_flash_count(&g), 0);
	hal_flash_fini(&g);
	/* A group name must not leave the directory. */
	hal_flash_init(&g, &c, 1, "../x", 7);
	CU_ASSERT_EQUAL(hal_flash_save(&g, 0), HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(hal_flash_load(&g), HAL_ERR_INVAL);
	hal_flash_fini(&g);
	c.dir = NULL;
	CU_ASSERT_EQUAL(hal_flash_save(&f, 0), HAL_ERR_INVAL);

	hal_flash_fini(&f);
	remove(path);
	CU_ASSERT_EQUAL(rmdir(dir), 0);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "put, get, erase", test_basic },
		{ "survives reboot, writes in flight do not", test_survives_reboot },
		{ "capacity errors", test_capacity },
		{ "write failure rate", test_write_failures },
		{ "persistence round trip and corruption", test_persistence },
		{ NULL, NULL },
	};

	return fs_test_main("hal_flash", tests);
}
