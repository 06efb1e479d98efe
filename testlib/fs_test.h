/* The one CUnit runner for every test executable: each *_test.c lists its
 * tests and hands them to fs_test_main from main(). */
#ifndef TESTLIB_FS_TEST_H
#define TESTLIB_FS_TEST_H

/* One test case. Lists end with an entry whose name is NULL. */
struct fs_test {
	const char *name;
	void (*fn)(void);
};

/* Registers one suite with the given tests, runs it verbosely and returns
 * the exit code for main: 0 if everything passed, 1 if any assertion, test
 * or suite setup failed, 2 if CUnit could not register the tests. */
int fs_test_main(const char *suite, const struct fs_test *tests);

/* Like fs_test_main, with CUnit suite init and cleanup callbacks (either
 * may be NULL) for suites that share an expensive fixture such as a
 * running broker. init returns non-zero to fail the suite, which then
 * counts as a failure. */
int fs_test_main_fixture(const char *suite, int (*init)(void),
    int (*cleanup)(void), const struct fs_test *tests);

#endif
