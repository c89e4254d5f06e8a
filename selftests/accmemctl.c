// SPDX-License-Identifier: GPL-2.0
/*
 * accmemctl(8) as documented: --help on stdout with exit 0, --version,
 * status (backend and PCI address) and status --json (well-formed JSON,
 * with a holders array), wait-idle and its timeout, reclaim, and the exit
 * codes: 2 usage, 3 no such device, 4 timeout. The holders: holders.c.
 */
#include "kselftest_harness.h"
#include "accmem_lib.h"
#include "accmem_imp.h"
#include "accmem_ctl.h"

TEST(help_version_usage)
{
	char out[4096];
	int ret;

	ret = accmem_ctl("--help", out, sizeof(out));
	if (ret == -ENOENT)
		SKIP(return, NO_CTL);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, strncmp(out, "Usage: accmemctl status", 23));
	EXPECT_NE(NULL, strstr(out, "Exit status:"));
	EXPECT_EQ(0, accmem_ctl("--version", out, sizeof(out)));
	EXPECT_EQ(0, strncmp(out, "accmemctl ", 10));
	EXPECT_NE(NULL, strstr(out, "libaccmem 1."));
	/* usage errors: exit 2, usage on stderr only */
	EXPECT_EQ(2, accmem_ctl("frobnicate 2>/dev/null", out, sizeof(out)));
	EXPECT_STREQ("", out);
	EXPECT_EQ(2, accmem_ctl("2>/dev/null", out, sizeof(out)));
	EXPECT_EQ(2, accmem_ctl("status --bogus 2>/dev/null", out, sizeof(out)));
	EXPECT_EQ(3, accmem_ctl("status accmem999 2>/dev/null", out, sizeof(out)));
	EXPECT_EQ(3, accmem_ctl("holders accmem999 2>/dev/null", out, sizeof(out)));
	EXPECT_EQ(3, accmem_ctl("reclaim accmem999 2>/dev/null", out, sizeof(out)));
	EXPECT_EQ(2, accmem_ctl("reclaim --timeout 1 2>/dev/null", out, sizeof(out)));
	EXPECT_EQ(2, accmem_ctl("reclaim --wait --timeout x 2>/dev/null", out,
				sizeof(out)));
	EXPECT_EQ(2, accmem_ctl("holders --wait 2>/dev/null", out, sizeof(out)));
}

TEST(status_backend_and_json)
{
	char out[8192], args[128], name[64], want[128];
	struct accmem_info info;
	const char *dev = accmem_ctl_dev(name, sizeof(name));
	int fd, ret;

	fd = accmem_open_observer(accmem_dev_path());
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_info(fd, &info));
	close(fd);

	snprintf(args, sizeof(args), "status %s", dev);
	ret = accmem_ctl(args, out, sizeof(out));
	if (ret == -ENOENT)
		SKIP(return, NO_CTL);
	ASSERT_EQ(0, ret);
	TH_LOG("%s", out);
	snprintf(want, sizeof(want), "  backend %s%s",
		 info.backend == ACCMEM_BACKEND_PCI ? "pci 0000:" : "emu",
		 info.backend == ACCMEM_BACKEND_PCI ? "" : "\n");
	EXPECT_NE(NULL, strstr(out, want));
	snprintf(want, sizeof(want), "page size %llu",
		 (unsigned long long)info.page_size);
	EXPECT_NE(NULL, strstr(out, want));

	snprintf(args, sizeof(args), "status --json %s", dev);
	ASSERT_EQ(0, accmem_ctl(args, out, sizeof(out)));
	TH_LOG("%s", out);
	snprintf(want, sizeof(want), "\"name\": \"%s\"", dev);
	EXPECT_NE(NULL, strstr(out, want));
	EXPECT_NE(NULL, strstr(out, info.backend == ACCMEM_BACKEND_PCI ?
				    "\"backend\": \"pci\", \"pci_address\": \"0000:" :
				    "\"backend\": \"emu\", \"pci_address\": null"));
	snprintf(want, sizeof(want), "\"mem_size\": %llu",
		 (unsigned long long)info.mem_size);
	EXPECT_NE(NULL, strstr(out, want));
	EXPECT_TRUE(accmem_json_valid(out));
	EXPECT_NE(NULL, strstr(out, "\"holders\": ["));
	/* every device, still one JSON array */
	ASSERT_EQ(0, accmem_ctl("status --json", out, sizeof(out)));
	EXPECT_TRUE(accmem_json_valid(out));
	EXPECT_EQ('[', out[0]);
}

TEST(wait_idle)
{
	char out[1024], args[128], name[64];
	const char *dev = accmem_ctl_dev(name, sizeof(name));
	int fd;

	ASSERT_EQ(0, accmem_wait_idle(60));
	snprintf(args, sizeof(args), "wait-idle --timeout 10 %s", dev);
	if (accmem_ctl(args, out, sizeof(out)) == -ENOENT)
		SKIP(return, NO_CTL);
	EXPECT_EQ(0, accmem_ctl(args, out, sizeof(out)));
	fd = accmem_open();
	ASSERT_LE(0, fd);
	/* a tenancy: not idle within the timeout */
	snprintf(args, sizeof(args), "wait-idle --timeout 0.2 %s 2>/dev/null",
		 dev);
	EXPECT_EQ(4, accmem_ctl(args, out, sizeof(out)));
	EXPECT_EQ(ACCMEM_STATE_OWNED, accmem_state(accmem_dev_path()));
	close(fd);
	snprintf(args, sizeof(args), "wait-idle --timeout 60 %s", dev);
	EXPECT_EQ(0, accmem_ctl(args, out, sizeof(out)));
	EXPECT_EQ(ACCMEM_STATE_IDLE, accmem_state(accmem_dev_path()));
	/* the library's wait on a device that is not there */
	EXPECT_EQ(-ENODEV, accmem_wait_until_idle("accmem999", 0));
}

/*
 * Does the module reclaim (sysfs "reclaim", the kernel half of issue 14)?
 * If not, accmemctl reclaim must say so and fail.
 */
static int can_reclaim(struct __test_metadata *_metadata, const char *dev)
{
	char path[256], out[1024], args[128];

	snprintf(path, sizeof(path), ACCMEM_SYSFS "/%s/reclaim", dev);
	if (!access(path, F_OK))
		return 1;
	snprintf(args, sizeof(args), "reclaim %s 2>&1", dev);
	EXPECT_EQ(1, accmem_ctl(args, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "cannot reclaim")) {
		TH_LOG("%s", out);
	}
	return 0;
}

#define NO_RECLAIM "this accmem has no sysfs reclaim (kernel half of issue 14)"

/* Reclaim with an fd holder only: idle at once, the fd stays (inert). */
TEST(reclaim_wait_fd_holder)
{
	struct accmem_tenant t = ACCMEM_TENANT_INIT;
	struct accmem_holder_report r;
	char out[4096], args[128], name[64];
	const char *dev = accmem_ctl_dev(name, sizeof(name));
	pid_t pid;

	if (accmem_ctl_path(out, sizeof(out)))
		SKIP(return, NO_CTL);
	if (!can_reclaim(_metadata, dev))
		SKIP(return, NO_RECLAIM);
	/* an idle device: a no-op */
	ASSERT_EQ(0, accmem_wait_idle(60));
	snprintf(args, sizeof(args), "reclaim --wait --timeout 10 %s", dev);
	EXPECT_EQ(0, accmem_ctl(args, out, sizeof(out)));
	EXPECT_EQ(ACCMEM_STATE_IDLE, accmem_state(accmem_dev_path()));

	ASSERT_EQ(0, accmem_tenant_start(&t, SZ_1M, 0, 0));
	pid = accmem_holder_start("accmem_fdhold", t.dmabuf, accmem_hold_fd,
				  &t.dmabuf, 0, &r);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, r.err);
	ASSERT_EQ(0, accmem_tenant_leave_held(&t));
	snprintf(args, sizeof(args), "reclaim --wait --timeout 60 %s", dev);
	EXPECT_EQ(0, accmem_ctl(args, out, sizeof(out)));
	EXPECT_EQ(ACCMEM_STATE_IDLE, accmem_state(accmem_dev_path()));
	EXPECT_EQ(0, kill(pid, 0));	/* still there, its fd inert */
	accmem_holder_stop(pid);
	/* not root: refused, said so */
	snprintf(args, sizeof(args), "reclaim %s 2>&1", dev);
	EXPECT_EQ(1, accmem_ctl_as("setpriv --reuid=65534 --regid=65534 --clear-groups",
				   args, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "root only"));
}

/* A pinned importer cannot be revoked: --wait times out naming it. */
TEST(reclaim_wait_pinned_times_out)
{
	struct accmem_tenant t = ACCMEM_TENANT_INIT;
	char out[8192], args[128], name[64], state[32];
	const char *dev = accmem_ctl_dev(name, sizeof(name));
	int imp, id;

	if (accmem_ctl_path(out, sizeof(out)))
		SKIP(return, NO_CTL);
	if (!can_reclaim(_metadata, dev))
		SKIP(return, NO_RECLAIM);
	imp = accmem_imp_open();
	ASSERT_LE(0, imp);
	ASSERT_EQ(0, accmem_tenant_start(&t, SZ_1M, 0, 0));
	id = accmem_imp_import(imp, t.dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	ASSERT_LE(0, id);
	ASSERT_EQ(0, accmem_tenant_leave_held(&t));

	snprintf(args, sizeof(args), "reclaim --wait --timeout 0.5 %s 2>/dev/null",
		 dev);
	EXPECT_EQ(4, accmem_ctl(args, out, sizeof(out)));
	TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, " pinned mappings 1\n"));
	ASSERT_EQ(0, accmem_sysfs("state", state, sizeof(state)));
	EXPECT_STREQ("reclaiming", state);
	/* a second reclaim while one runs is harmless */
	snprintf(args, sizeof(args), "reclaim %s", dev);
	EXPECT_EQ(0, accmem_ctl(args, out, sizeof(out)));

	EXPECT_EQ(0, accmem_imp_release(imp, id));
	close(imp);
	snprintf(args, sizeof(args), "wait-idle --timeout 60 %s", dev);
	EXPECT_EQ(0, accmem_ctl(args, out, sizeof(out)));
}

TEST_HARNESS_MAIN
