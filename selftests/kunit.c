// SPDX-License-Identifier: GPL-2.0
/*
 * accmem KUnit suites: on a kernel with CONFIG_KUNIT=y, accmem.ko carries
 * the suites accmem_alloc, accmem_range and accmem_sg (src/tests/), which
 * run when the module loads. This test reads their KTAP results from
 * /sys/kernel/debug/kunit/SUITE/results: every case must be "ok".
 * scripts/vm-init lets them run at the guest's first load of accmem.ko
 * only (KUnit's filter_glob); once another test has reloaded the module
 * the results are gone, and this test reloads it with the suites enabled.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"

#define KUNIT_DIR "/sys/kernel/debug/kunit"
#define KUNIT_FILTER "/sys/module/kunit/parameters/filter_glob"

/*
 * Reloads accmem.ko with its suites let through KUnit's filter_glob (then
 * restored): they run again and leave their results in debugfs.
 */
static void kunit_reload(struct __test_metadata *_metadata)
{
	const char *reload = accmem_reload_cmd();
	char filter[256], out[256];
	int ret;

	ASSERT_EQ(0, accmem_read_file(KUNIT_FILTER, filter, sizeof(filter)));
	/* no filter: the suites ran at the last load, or are not built in */
	if (!filter[0] || !strcmp(filter, "(null)"))
		return;
	ASSERT_EQ(0, accmem_wait_idle(60));
	ASSERT_EQ(0, accmem_run("rmmod accmem", out, sizeof(out)));
	ASSERT_EQ(0, accmem_write_file(KUNIT_FILTER, "accmem_*"));
	ret = accmem_run(reload, out, sizeof(out));
	EXPECT_EQ(0, accmem_write_file(KUNIT_FILTER, filter));
	ASSERT_EQ(0, ret) {
		TH_LOG("'%s' failed", reload);
	}
}

/*
 * Count the result lines of @suite's cases (and parameters) in *@ok and
 * *@bad; the suite's own last line in *@suite_ok. Failing lines and the
 * KUnit messages before them are logged.
 */
static int kunit_results(struct __test_metadata *_metadata,
			 const char *suite, int *ok, int *bad, int *suite_ok)
{
	char path[256], line[512];
	FILE *f;

	snprintf(path, sizeof(path), KUNIT_DIR "/%s/results", suite);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	*ok = *bad = *suite_ok = 0;
	while (fgets(line, sizeof(line), f)) {
		const char *s = line + strspn(line, " ");

		if (s == line) {
			/* top level: "ok 1 SUITE" or "not ok 1 SUITE" */
			if (!strncmp(s, "ok 1 ", 5))
				*suite_ok = 1;
			continue;
		}
		if (!strncmp(s, "ok ", 3)) {
			(*ok)++;
		} else if (!strncmp(s, "not ok ", 7)) {
			(*bad)++;
			TH_LOG("%s", s);
		} else if (strstr(s, "Expected") || strstr(s, "ASSERTION") ||
			   strstr(s, "EXPECTATION")) {
			TH_LOG("%s", s);
		}
	}
	fclose(f);
	return 0;
}

static void check_suite(struct __test_metadata *_metadata, const char *suite,
			int min_cases)
{
	int ok = 0, bad = 0, suite_ok = 0, ret;
	struct stat st;

	if (stat(KUNIT_DIR, &st))
		SKIP(return,
		     "kernel without CONFIG_KUNIT_DEBUGFS (make check-debug)");
	ret = kunit_results(_metadata, suite, &ok, &bad, &suite_ok);
	if (ret == -ENOENT && !access(KUNIT_FILTER, W_OK)) {
		kunit_reload(_metadata);
		ret = kunit_results(_metadata, suite, &ok, &bad, &suite_ok);
	}
	ASSERT_EQ(0, ret) {
		TH_LOG("%s/%s/results: %s (accmem.ko built without its KUnit suites?)",
		       KUNIT_DIR, suite, strerror(-ret));
	}
	TH_LOG("%s: %d results ok, %d not ok", suite, ok, bad);
	EXPECT_EQ(0, bad);
	EXPECT_LE(min_cases, ok);
	EXPECT_EQ(1, suite_ok);
}

TEST(alloc_suite)
{
	check_suite(_metadata, "accmem_alloc", 6);
}

TEST(range_suite)
{
	check_suite(_metadata, "accmem_range", 5);
}

TEST(sg_suite)
{
	check_suite(_metadata, "accmem_sg", 3);
}

TEST_HARNESS_MAIN
