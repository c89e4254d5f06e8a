// SPDX-License-Identifier: GPL-2.0
/*
 * accmemctl holders (and the holders of status): for each live export the
 * processes holding an fd (pid, comm, fd number), the processes mapping
 * it (address range), the importing devices (driver, device, pinned), and
 * for importers behind an RDMA device the owners of the MRs on it. Each
 * test starts processes that hold an export in one way and looks for them
 * in the text and the JSON (checked well-formed): an fd, a mapping, a
 * holder in another pid namespace (seen with its host pid), the test
 * importer pinning it, a vgem GEM handle, and an MR on soft-RoCE next to
 * the RDMA core's pinned import (accmem_rdma_pinned, 6.12+).
 */
#include <sys/mman.h>

#include <infiniband/verbs.h>
#include <xf86drm.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"
#include "accmem_imp.h"
#include "accmem_ctl.h"
#include "accmem_rdma.h"
#include "rdma_pinned/accmem_rdma_pinned.h"

#define SIZE		(4 * SZ_1M)
#define OUT		65536
#define RP_DEV		"/dev/accmem_rdma_pinned"
#define RP_DEPS		"modprobe -q ib_uverbs 2>/dev/null;"

FIXTURE(holders)
{
	struct accmem_tenant t;
	char name[64];
	const char *dev;
	char *out;
	pid_t pid[2];
};

FIXTURE_SETUP(holders)
{
	accmem_tenant_init(&self->t);
	self->pid[0] = -1;
	self->pid[1] = -1;
	self->out = malloc(OUT);
	ASSERT_NE(NULL, self->out);
	self->dev = accmem_ctl_dev(self->name, sizeof(self->name));
	if (accmem_ctl_path(self->out, OUT))
		SKIP(return, NO_CTL);
	ASSERT_EQ(0, accmem_tenant_start(&self->t, SIZE, 0, 0));
}

FIXTURE_TEARDOWN(holders)
{
	accmem_holder_stop(self->pid[0]);
	accmem_holder_stop(self->pid[1]);
	accmem_tenant_leave(&self->t);
	free(self->out);
	EXPECT_EQ(0, accmem_wait_idle(60));
}

/* accmemctl holders [--json] @dev, output in @out (OUT bytes). */
static int run_holders(const char *dev, char *out, int json)
{
	char args[128];

	snprintf(args, sizeof(args), "holders %s%s", json ? "--json " : "",
		 dev);
	return accmem_ctl(args, out, OUT);
}

/* Does @out have @fmt...? */
static int has(const char *out, const char *fmt, ...)
{
	char want[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	return !!strstr(out, want);
}

/* A holder's @fn: maps dma-buf *@arg and closes its fd; *val: the address. */
static int hold_map(void *arg, unsigned long long *val)
{
	void *p = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, *(int *)arg, 0);

	if (p == MAP_FAILED)
		return -errno;
	*val = (uintptr_t)p;
	return close(*(int *)arg) ? -errno : 0;
}

static void own_comm(char *comm, size_t len)
{
	accmem_read_file("/proc/self/comm", comm, len);
}

TEST_F(holders, fd_holder)
{
	struct accmem_holder_report r;
	char comm[32];

	self->pid[0] = accmem_holder_start("accmem_fdhold", self->t.dmabuf, accmem_hold_fd,
					   &self->t.dmabuf, 0, &r);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_EQ(0, r.err);
	own_comm(comm, sizeof(comm));

	ASSERT_EQ(0, run_holders(self->dev, self->out, 0));
	TH_LOG("%s", self->out);
	EXPECT_TRUE(has(self->out, "fd pid=%d comm=accmem_fdhold fd=100\n",
			self->pid[0]));
	EXPECT_TRUE(has(self->out, "fd pid=%d comm=%s fd=%d\n", getpid(), comm,
			self->t.dmabuf));
	EXPECT_FALSE(has(self->out, "map pid="));

	/* the tenant leaves: the holder alone keeps the device draining */
	ASSERT_EQ(0, accmem_tenant_leave_held(&self->t));
	ASSERT_EQ(0, run_holders(self->dev, self->out, 0));
	TH_LOG("%s", self->out);
	EXPECT_TRUE(has(self->out, "%s: draining\n", self->dev));
	EXPECT_TRUE(has(self->out, "fd pid=%d comm=accmem_fdhold fd=100\n",
			self->pid[0]));
	EXPECT_FALSE(has(self->out, "fd pid=%d ", getpid()));
	/* and status has the same section */
	snprintf(comm, sizeof(comm), "status %s", self->dev);
	ASSERT_EQ(0, accmem_ctl(comm, self->out, OUT));
	EXPECT_TRUE(has(self->out, "  holders\n"));
	EXPECT_TRUE(has(self->out, "fd pid=%d comm=accmem_fdhold fd=100\n",
			self->pid[0]));
}

TEST_F(holders, mapping_holder)
{
	struct accmem_holder_report r;

	self->pid[0] = accmem_holder_start("accmem_maphold", self->t.dmabuf, hold_map,
					   &self->t.dmabuf, 0, &r);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_EQ(0, r.err);
	ASSERT_EQ(0, accmem_tenant_leave_held(&self->t));

	ASSERT_EQ(0, run_holders(self->dev, self->out, 0));
	TH_LOG("%s", self->out);
	EXPECT_TRUE(has(self->out, "map pid=%d comm=accmem_maphold %#llx-%#llx\n",
			self->pid[0], r.val, r.val + SIZE));
	/* it closed its fd: a mapping only */
	EXPECT_FALSE(has(self->out, "fd pid="));
}

TEST_F(holders, other_pid_namespace)
{
	struct accmem_holder_report r;

	self->pid[0] = accmem_holder_start("accmem_nshold", self->t.dmabuf, accmem_hold_fd,
					   &self->t.dmabuf, 1, &r);
	if (self->pid[0] == -EINVAL)
		SKIP(return, "no pid namespaces (CONFIG_PID_NS)");
	ASSERT_LT(0, self->pid[0]);
	ASSERT_EQ(0, r.err);
	/* it is the init of its namespace; we see it with our pid for it */
	EXPECT_EQ(1, r.pid);
	ASSERT_NE(1, self->pid[0]);
	ASSERT_EQ(0, accmem_tenant_leave_held(&self->t));

	ASSERT_EQ(0, run_holders(self->dev, self->out, 0));
	TH_LOG("%s", self->out);
	EXPECT_TRUE(has(self->out, "fd pid=%d comm=accmem_nshold fd=100\n",
			self->pid[0]));
	EXPECT_FALSE(has(self->out, "fd pid=1 "));
}

TEST_F(holders, json)
{
	struct accmem_holder_report r[2];
	char args[128];

	self->pid[0] = accmem_holder_start("accmem_fdhold", self->t.dmabuf, accmem_hold_fd,
					   &self->t.dmabuf, 0, &r[0]);
	ASSERT_LT(0, self->pid[0]);
	self->pid[1] = accmem_holder_start("accmem_maphold", self->t.dmabuf, hold_map,
					   &self->t.dmabuf, 0, &r[1]);
	ASSERT_LT(0, self->pid[1]);
	ASSERT_EQ(0, r[0].err);
	ASSERT_EQ(0, r[1].err);
	ASSERT_EQ(0, accmem_tenant_leave_held(&self->t));

	ASSERT_EQ(0, run_holders(self->dev, self->out, 1));
	TH_LOG("%s", self->out);
	EXPECT_TRUE(accmem_json_valid(self->out));
	EXPECT_TRUE(has(self->out, "{\"name\": \"%s\", \"state\": \"draining\", ",
			self->dev));
	EXPECT_TRUE(has(self->out, "\"initial_pid_namespace\": true, \"exports\": [{\"ino\": "));
	EXPECT_TRUE(has(self->out, "\"fds\": [{\"pid\": %d, \"comm\": \"accmem_fdhold\", ",
			self->pid[0]));
	EXPECT_TRUE(has(self->out, "\"comm\": \"accmem_fdhold\", \"fd\": 100}]"));
	EXPECT_TRUE(has(self->out, "\"mappings\": [{\"pid\": %d, \"comm\": \"accmem_maphold\", ",
			self->pid[1]));
	EXPECT_TRUE(has(self->out, "\"comm\": \"accmem_maphold\", \"start\": %llu, \"end\": %llu}]",
			r[1].val, r[1].val + SIZE));
	EXPECT_TRUE(has(self->out, "\"importers\": []"));

	snprintf(args, sizeof(args), "status --json %s", self->dev);
	ASSERT_EQ(0, accmem_ctl(args, self->out, OUT));
	EXPECT_TRUE(accmem_json_valid(self->out));
	EXPECT_TRUE(has(self->out, "\"holders\": [{\"ino\": "));
	EXPECT_TRUE(has(self->out, "{\"pid\": %d, \"comm\": \"accmem_fdhold\", \"fd\": 100}",
			self->pid[0]));
}

TEST_F(holders, pinned_importer)
{
	char driver[64], device[64], line[160];
	const char *p;
	int imp, id, n;

	imp = accmem_imp_open();
	ASSERT_LE(0, imp);
	id = accmem_imp_import(imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0,
			       NULL);
	ASSERT_LE(0, id);
	ASSERT_EQ(0, accmem_tenant_leave_held(&self->t));

	ASSERT_EQ(0, run_holders(self->dev, self->out, 0));
	TH_LOG("%s", self->out);
	p = strstr(self->out, "    importer driver=");
	ASSERT_NE(NULL, p);
	n = sscanf(p, "    importer driver=%63s device=%63s pinned mappings 1\n",
		   driver, device);
	ASSERT_EQ(2, n);
	/* what debugfs says of it */
	snprintf(line, sizeof(line), "attachment %s %s pinned mappings 1",
		 driver, device);
	EXPECT_EQ(1, accmem_buffers_lines(line, NULL, NULL));
	EXPECT_FALSE(has(self->out, "fd pid="));
	ASSERT_EQ(0, run_holders(self->dev, self->out, 1));
	EXPECT_TRUE(accmem_json_valid(self->out));
	EXPECT_TRUE(has(self->out, "{\"driver\": \"%s\", \"device\": \"%s\", ",
			driver, device));
	EXPECT_TRUE(has(self->out, "\"device\": \"%s\", \"pinned\": true, \"mappings\": 1, ",
			device));
	EXPECT_EQ(0, accmem_imp_release(imp, id));
	close(imp);
}

static int vgem_open(void)
{
	char path[32], name[16];
	struct drm_version v = { .name_len = sizeof(name) - 1, .name = name };
	int i, fd, loaded = 0;

	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		memset(name, 0, sizeof(name));
		if (fd >= 0 && !ioctl(fd, DRM_IOCTL_VERSION, &v) &&
		    !strcmp(name, "vgem"))
			return fd;
		if (fd >= 0)
			close(fd);
		if (i == 15 && !loaded++ && !system("modprobe -q vgem"))
			i = -1;
	}
	return -ENODEV;
}

TEST_F(holders, vgem_gem_handle)
{
	struct drm_gem_close c = { 0 };
	int drm;

	drm = vgem_open();
	if (drm < 0)
		SKIP(return, "no vgem DRM device (CONFIG_DRM_VGEM, module vgem)");
	if (self->t.info.backend != ACCMEM_BACKEND_EMU) {
		close(drm);
		SKIP(return,
		     "needs the emulated backend: vgem imports only memory with struct pages");
	}
	ASSERT_EQ(0, drmPrimeFDToHandle(drm, self->t.dmabuf, &c.handle));
	ASSERT_EQ(0, accmem_tenant_leave_held(&self->t));

	ASSERT_EQ(0, run_holders(self->dev, self->out, 0));
	TH_LOG("%s", self->out);
	EXPECT_TRUE(has(self->out, " device=vgem"));
	EXPECT_FALSE(has(self->out, "fd pid="));
	EXPECT_FALSE(has(self->out, "rdma "));
	ASSERT_EQ(0, run_holders(self->dev, self->out, 1));
	EXPECT_TRUE(accmem_json_valid(self->out));
	EXPECT_TRUE(has(self->out, "\"device\": \"vgem\""));
	EXPECT_EQ(0, ioctl(drm, DRM_IOCTL_GEM_CLOSE, &c));
	close(drm);
}

/* A holder's @fn: registers an MR of host memory on rxe0 (user verbs). */
static int hold_mr(void *arg, unsigned long long *val)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	int i, n;

	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n && !ctx; i++)
		if (!strcmp(ibv_get_device_name(list[i]), RXE))
			ctx = ibv_open_device(list[i]);
	if (!ctx)
		return -ENODEV;
	pd = ibv_alloc_pd(ctx);
	if (!pd)
		return -EIO;
	mr = ibv_reg_mr(pd, arg, pgsz(), IBV_ACCESS_LOCAL_WRITE);
	if (!mr)
		return -EIO;
	*val = mr->lkey;
	return 0;
}

TEST_F(holders, rdma_mr)
{
	struct accmem_rp_import a = { .length = SIZE, .ibdev = RXE };
	struct accmem_holder_report r;
	char why[256];
	void *host;
	int rp, ret;

	ret = rxe_setup(why, sizeof(why));
	if (ret == -ENOENT)
		SKIP(return, "no RDMA device: %s", why);
	ASSERT_EQ(0, ret) {
		TH_LOG("%s", why);
	}
	rp = accmem_test_module_open(RP_DEV, "ACCMEM_RDMA_PINNED",
				     "accmem_rdma_pinned", RP_DEPS);
	ASSERT_LE(0, rp);
	a.fd = self->t.dmabuf;
	ret = accmem_ioctl(rp, ACCMEM_RP_IMPORT, &a);
	if (ret == -EOPNOTSUPP) {
		close(rp);
		SKIP(return, "this kernel does not export %s (6.12+)",
		     "ib_umem_dmabuf_get_pinned_with_dma_device");
	}
	ASSERT_EQ(0, ret);
	host = aligned_alloc(pgsz(), pgsz());
	ASSERT_NE(NULL, host);
	self->pid[0] = accmem_holder_start("accmem_mrhold", -1, hold_mr,
					   host, 0, &r);
	free(host);
	ASSERT_LT(0, self->pid[0]);
	if (r.err == -ENODEV) {
		close(rp);
		SKIP(return, "no user verbs on " RXE " (module ib_uverbs)");
	}
	ASSERT_EQ(0, r.err);
	ASSERT_EQ(0, accmem_tenant_leave_held(&self->t));

	ASSERT_EQ(0, run_holders(self->dev, self->out, 0));
	TH_LOG("%s", self->out);
	EXPECT_TRUE(has(self->out, " device=%s pinned mappings 1\n", a.dma_dev));
	EXPECT_TRUE(has(self->out, "      rdma " RXE " ("));
	EXPECT_TRUE(has(self->out, "        mr pid=%d comm=accmem_mrhold mrn=",
			self->pid[0]));
	ASSERT_EQ(0, run_holders(self->dev, self->out, 1));
	EXPECT_TRUE(accmem_json_valid(self->out));
	EXPECT_TRUE(has(self->out, "\"rdma\": [{\"device\": \"" RXE "\", "));
	EXPECT_TRUE(has(self->out, "{\"pid\": %d, \"comm\": \"accmem_mrhold\", \"mrn\": ",
			self->pid[0]));

	/* the MR owner gone, the import is what remains */
	accmem_holder_stop(self->pid[0]);
	self->pid[0] = -1;
	ASSERT_EQ(0, run_holders(self->dev, self->out, 0));
	EXPECT_FALSE(has(self->out, "comm=accmem_mrhold"));
	EXPECT_EQ(0, accmem_ioctl(rp, ACCMEM_RP_RELEASE, &a.id));
	close(rp);
}

TEST(errors)
{
	char out[1024];
	int ret;

	ret = accmem_ctl("holders accmem999 2>/dev/null", out, sizeof(out));
	if (ret == -ENOENT)
		SKIP(return, NO_CTL);
	EXPECT_EQ(3, ret);
	/* debugfs and other users' fds are root's: says so */
	ret = accmem_ctl_as("setpriv --reuid=65534 --regid=65534 --clear-groups",
			    "holders 2>&1", out, sizeof(out));
	TH_LOG("%s", out);
	EXPECT_EQ(1, ret);
	EXPECT_NE(NULL, strstr(out, "run as root"));
}

TEST_HARNESS_MAIN
