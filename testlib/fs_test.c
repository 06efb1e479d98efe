#include "fs_test.h"

#include <CUnit/Basic.h>

int
fs_test_main(const char *suite, const struct fs_test *tests)
{
	return fs_test_main_fixture(suite, NULL, NULL, tests);
}

int
fs_test_main_fixture(const char *suite, int (*init)(void),
    int (*cleanup)(void), const struct fs_test *tests)
{
	CU_pSuite s;
	unsigned fails;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	s = CU_add_suite(suite, init, cleanup);
	if (s == NULL) {
		CU_cleanup_registry();
		return 2;
	}
	for (int i = 0; tests[i].name != NULL; i++) {
		/* A test that silently failed to register would look like a
		 * pass, so refuse to run a partial suite. */
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL) {
			CU_cleanup_registry();
			return 2;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	/* A failed suite init skips its tests without failing any of them,
	 * so it has to be counted on its own. */
	fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
	    CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return fails != 0;
}
