// SPDX-License-Identifier: GPL-2.0
/*
 * The example programs of examples/ (built into build/examples/ by the
 * top-level make; $ACCMEM_EXAMPLES names another directory), run against
 * the device under test: accmem-rdma-write (ibv_reg_dmabuf_mr and an RDMA
 * WRITE; soft-RoCE is set up when there is no RDMA device) and
 * accmem-drm-import (PRIME import into vgem). An example that stops
 * because the machine cannot run it (exit 77: rxe has no dma-buf MRs,
 * vgem imports no PCI BAR memory) is a SKIP with its reason; any other
 * non-zero exit a failure.
 */
#include <limits.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"
#include "accmem_rdma.h"

/* Runs example @name on the device; its exit status, output in @out. */
static int run_example(struct __test_metadata *_metadata, const char *name,
		       char *out, size_t len)
{
	const char *dir = getenv("ACCMEM_EXAMPLES");
	char exe[PATH_MAX], path[PATH_MAX], bin[PATH_MAX + 64];
	char cmd[PATH_MAX + 192], dev[64];
	ssize_t l;
	int st;

	if (!dir) {
		l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (l <= 0)
			return -errno;
		exe[l] = 0;
		snprintf(path, sizeof(path), "%s/../examples", dirname(exe));
		dir = path;
	}
	snprintf(bin, sizeof(bin), "%.*s/%s", PATH_MAX - 1, dir, name);
	if (access(bin, X_OK))
		return -ENOENT;
	snprintf(dev, sizeof(dev), "%s", accmem_dev_path());
	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", bin, basename(dev));
	st = accmem_run(cmd, out, len);
	TH_LOG("%s:\n%s", name, out);
	return st;
}

/* The example's last line: why it stopped. */
static const char *last_line(char *out)
{
	char *end = out + strlen(out), *s;

	while (end > out && end[-1] == '\n')
		*--end = 0;
	s = strrchr(out, '\n');
	return s ? s + 1 : out;
}

TEST(rdma_write)
{
	char out[4096], why[256], vmap[32];
	int ret;

	ASSERT_EQ(0, accmem_wait_idle(60));
	if (access("/sys/class/infiniband", F_OK) ||
	    system("[ -n \"$(ls /sys/class/infiniband)\" ]")) {
		ret = rxe_setup(why, sizeof(why));
		if (ret == -ENOENT)
			SKIP(return, "no RDMA device: %s", why);
		ASSERT_EQ(0, ret) {
			TH_LOG("%s", why);
		}
	}
	/*
	 * The debug kernels' TEST-ONLY rxe copies through a vmap of the
	 * dma-buf (Documentation/rdma.rst): on the PCI backend it needs
	 * exports made under pci_vmap=allow. A NIC that DMAs never does.
	 */
	ASSERT_EQ(0, accmem_pci_vmap_allow(vmap, sizeof(vmap)));
	ret = run_example(_metadata, "accmem-rdma-write", out, sizeof(out));
	EXPECT_EQ(0, accmem_set_param_str("pci_vmap", vmap));
	if (ret == -ENOENT)
		SKIP(return, "accmem-rdma-write not built (make examples)");
	if (ret == ACCMEM_EXIT_UNSUPPORTED)
		SKIP(return, "%s", last_line(out));
	EXPECT_EQ(0, ret);
	EXPECT_NE(NULL, strstr(out, "landed in device memory"));
	EXPECT_EQ(0, accmem_wait_idle(60));
}

TEST(drm_import)
{
	struct accmem_info info;
	char out[4096];
	int fd, ret;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_info(fd, &info));
	close(fd);
	ASSERT_EQ(0, accmem_wait_idle(60));
	if (system("modprobe -q vgem 2>/dev/null"))
		TH_LOG("modprobe vgem failed");
	ret = run_example(_metadata, "accmem-drm-import", out, sizeof(out));
	if (ret == -ENOENT)
		SKIP(return, "accmem-drm-import not built (make examples)");
	if (ret == ACCMEM_EXIT_UNSUPPORTED) {
		/* emulated memory has pages: only a missing vgem stops it */
		EXPECT_NE(NULL, strstr(out, info.backend == ACCMEM_BACKEND_EMU ?
					"no vgem" : "EOPNOTSUPP"));
		SKIP(return, "%s", last_line(out));
	}
	EXPECT_EQ(0, ret);
	EXPECT_NE(NULL, strstr(out, "GEM handle open:"));
	EXPECT_NE(NULL, strstr(out, "is draining"));
	EXPECT_EQ(0, accmem_wait_idle(60));
}

TEST_HARNESS_MAIN
