// SPDX-License-Identifier: GPL-2.0
/*
 * accmem dma-bufs imported into a DRM driver, vgem, through libdrm PRIME
 * (drmPrimeFDToHandle): the import succeeds for memory with struct pages
 * (the emulated backend) and is refused for PCI BAR memory; the GEM handle
 * keeps the tenancy alive after the dma-buf and device fds are closed;
 * re-exporting the handle gives back the same dma-buf; vgem fences land on
 * our reservation object, so poll() and DMA_BUF_IOCTL_SYNC on our fd wait
 * for them.
 *
 * vgem cannot map imported objects itself ("Don't allow imported objects to
 * be mapped"), so the data is checked through the dma-buf re-exported by
 * vgem.
 */
#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <xf86drm.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"
#include "accmem_harness.h"

#define SEED 0x76e3f00du
#define SIZE (4 * SZ_1M)

/* include/uapi/drm/vgem_drm.h, which libdrm does not install */
#ifndef DRM_IOCTL_VGEM_FENCE_ATTACH
struct drm_vgem_fence_attach {
	__u32 handle;
	__u32 flags;
#define VGEM_FENCE_WRITE	0x1
	__u32 out_fence;
	__u32 pad;
};

struct drm_vgem_fence_signal {
	__u32 fence;
	__u32 flags;
};

#define DRM_VGEM_FENCE_ATTACH	0x1
#define DRM_VGEM_FENCE_SIGNAL	0x2
#define DRM_IOCTL_VGEM_FENCE_ATTACH \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGEM_FENCE_ATTACH, \
		 struct drm_vgem_fence_attach)
#define DRM_IOCTL_VGEM_FENCE_SIGNAL \
	DRM_IOW(DRM_COMMAND_BASE + DRM_VGEM_FENCE_SIGNAL, \
		struct drm_vgem_fence_signal)
#endif

static bool is_vgem(int drm)
{
	char name[16] = "";
	struct drm_version v = { .name_len = sizeof(name) - 1, .name = name };

	return !ioctl(drm, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem");
}

static int vgem_find(void)
{
	char path[32];
	int i, fd;

	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (is_vgem(fd))
			return fd;
		close(fd);
	}
	return -ENODEV;
}

/* Opens the vgem DRM device (loading vgem if needed); fd or -ENODEV. */
static int vgem_open(void)
{
	int fd = vgem_find();

	if (fd >= 0 || system("modprobe -q vgem 2>/dev/null"))
		return fd;
	return vgem_find();
}

/* PRIME import; returns 0 or -errno. */
static int prime_import(int drm, int dmabuf, __u32 *handle)
{
	return drmPrimeFDToHandle(drm, dmabuf, handle) ? -errno : 0;
}

static int gem_close(int drm, __u32 handle)
{
	struct drm_gem_close c = { .handle = handle };

	return ioctl(drm, DRM_IOCTL_GEM_CLOSE, &c) ? -errno : 0;
}

/* Attaches a vgem fence to the object; returns the fence id or -errno. */
static int fence_attach(int drm, __u32 handle, __u32 flags)
{
	struct drm_vgem_fence_attach a = { .handle = handle, .flags = flags };

	if (ioctl(drm, DRM_IOCTL_VGEM_FENCE_ATTACH, &a))
		return -errno;
	return a.out_fence;
}

static int fence_signal(int drm, __u32 fence)
{
	struct drm_vgem_fence_signal s = { .fence = fence };

	return ioctl(drm, DRM_IOCTL_VGEM_FENCE_SIGNAL, &s) ? -errno : 0;
}

FIXTURE(vgem)
{
	int drm;
	struct accmem_tenant t;	/* a SIZE dma-buf, mapped and filled */
	__u32 gem;
};

FIXTURE_SETUP(vgem)
{
	accmem_tenant_init(&self->t);
	self->drm = vgem_open();
	if (self->drm < 0)
		SKIP(return, "no vgem DRM device (CONFIG_DRM_VGEM, module vgem)");
	ASSERT_EQ(0, accmem_tenant_open(&self->t));
	if (self->t.info.backend != ACCMEM_BACKEND_EMU)
		SKIP(return,
		     "needs the emulated backend: vgem imports only memory with struct pages");
	ASSERT_EQ(0, accmem_tenant_start(&self->t, SIZE, ACCMEM_TENANT_MAP |
					 ACCMEM_TENANT_FILL, SEED));
}

FIXTURE_TEARDOWN(vgem)
{
	if (self->gem)
		gem_close(self->drm, self->gem);
	accmem_tenant_leave(&self->t);
	close(self->drm);
	EXPECT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("exports"));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
}

TEST_F(vgem, import)
{
	ASSERT_EQ(0, prime_import(self->drm, self->t.dmabuf, &self->gem));
	EXPECT_NE(0, self->gem);

	/* debugfs names vgem as an importer of the dma-buf */
	EXPECT_EQ(1, accmem_buffers_lines("attachment", "vgem", NULL));
}

TEST_F(vgem, import_again_same_handle)
{
	__u32 again = 0;

	ASSERT_EQ(0, prime_import(self->drm, self->t.dmabuf, &self->gem));
	EXPECT_EQ(0, prime_import(self->drm, self->t.dmabuf, &again));
	EXPECT_EQ(self->gem, again);
}

TEST_F(vgem, gem_handle_holds_tenancy)
{
	ASSERT_EQ(0, prime_import(self->drm, self->t.dmabuf, &self->gem));

	/* Only the GEM handle is left, and it keeps the tenancy. */
	ASSERT_EQ(0, accmem_tenant_leave_held(&self->t));
	accmem_expect_draining(_metadata);
	EXPECT_EQ(1, accmem_sysfs_num("exports"));
	EXPECT_EQ(SIZE, (__u64)accmem_sysfs_num("mem_used"));

	EXPECT_EQ(0, gem_close(self->drm, self->gem));
	self->gem = 0;
	ASSERT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("exports"));
	EXPECT_EQ(0, accmem_sysfs_num("mem_used"));
	accmem_expect_all_zero(_metadata);
}

TEST_F(vgem, drm_close_ends_tenancy)
{
	ASSERT_EQ(0, prime_import(self->drm, self->t.dmabuf, &self->gem));
	ASSERT_EQ(0, accmem_tenant_leave_held(&self->t));
	EXPECT_EQ(-EBUSY, accmem_open());

	/* closing the DRM file drops its handles, and with them the import */
	ASSERT_EQ(0, close(self->drm));
	self->gem = 0;
	self->drm = vgem_open();
	ASSERT_LE(0, self->drm);
	ASSERT_EQ(0, accmem_wait_idle(60));
}

TEST_F(vgem, reexport_is_same_dmabuf)
{
	struct stat a, b;
	__u32 *p;
	int fd2;

	ASSERT_EQ(0, prime_import(self->drm, self->t.dmabuf, &self->gem));
	ASSERT_EQ(0, drmPrimeHandleToFD(self->drm, self->gem,
					DRM_CLOEXEC | DRM_RDWR, &fd2));
	ASSERT_EQ(0, fstat(self->t.dmabuf, &a));
	ASSERT_EQ(0, fstat(fd2, &b));
	EXPECT_EQ(a.st_ino, b.st_ino);

	p = accmem_mmap(fd2, SIZE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, accmem_sync(fd2, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
	EXPECT_EQ(-1, accmem_check(p, SIZE, SEED));
	p[SIZE / 8] = 0xfeedface;
	ASSERT_EQ(0, accmem_sync(fd2, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
	EXPECT_EQ(0xfeedface, ((__u32 *)self->t.map)[SIZE / 8]);
	munmap(p, SIZE);

	/* the re-exported fd alone also holds the tenancy */
	ASSERT_EQ(0, gem_close(self->drm, self->gem));
	self->gem = 0;
	ASSERT_EQ(0, accmem_tenant_leave_held(&self->t));
	self->t.dmabuf = fd2;	/* for the teardown */
	EXPECT_EQ(-EBUSY, accmem_open());
	EXPECT_EQ(1, accmem_sysfs_num("exports"));
}

TEST_F(vgem, write_fence_blocks_poll)
{
	struct pollfd pfd = { .events = POLLIN | POLLOUT };
	int fence;

	pfd.fd = self->t.dmabuf;
	ASSERT_EQ(0, prime_import(self->drm, self->t.dmabuf, &self->gem));
	fence = fence_attach(self->drm, self->gem, VGEM_FENCE_WRITE);
	ASSERT_LT(0, fence);

	/* a pending write: neither reading nor writing is safe */
	EXPECT_EQ(0, poll(&pfd, 1, 200));

	ASSERT_EQ(0, fence_signal(self->drm, fence));
	EXPECT_EQ(1, poll(&pfd, 1, 5000));
	EXPECT_EQ(POLLIN | POLLOUT, pfd.revents);
}

struct sync_thread {
	int dmabuf;
	int ret;
	atomic_int tid;
	atomic_int done;
};

static void *sync_start(void *arg)
{
	struct sync_thread *t = arg;

	atomic_store(&t->tid, syscall(SYS_gettid));
	t->ret = accmem_sync(t->dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	atomic_store(&t->done, 1);
	return NULL;
}

/*
 * The thread sleeps inside an ioctl: /proc says it is blocked in that
 * system call, in an interruptible or uninterruptible sleep.
 */
static int sleeps_in_ioctl(void *arg)
{
	struct sync_thread *t = arg;
	int tid = atomic_load(&t->tid);
	char path[64], buf[512], *state;

	if (!tid)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	if (accmem_read_file(path, buf, sizeof(buf)) || atol(buf) != SYS_ioctl)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (accmem_read_file(path, buf, sizeof(buf)))
		return 0;
	state = strrchr(buf, ')');
	return state && (!strncmp(state, ") S", 3) || !strncmp(state, ") D", 3));
}

TEST_F(vgem, write_fence_blocks_cpu_sync)
{
	struct sync_thread t = { .dmabuf = self->t.dmabuf };
	pthread_t th;
	int fence;

	ASSERT_EQ(0, prime_import(self->drm, self->t.dmabuf, &self->gem));
	fence = fence_attach(self->drm, self->gem, VGEM_FENCE_WRITE);
	ASSERT_LT(0, fence);

	ASSERT_EQ(0, pthread_create(&th, NULL, sync_start, &t));
	/* vgem fences expire after 10 s: signal well before that */
	EXPECT_EQ(0, accmem_poll(sleeps_in_ioctl, &t, 5)) {
		TH_LOG("SYNC START did not wait for the write fence");
	}
	EXPECT_EQ(0, atomic_load(&t.done));

	ASSERT_EQ(0, fence_signal(self->drm, fence));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(1, atomic_load(&t.done));
	EXPECT_EQ(0, t.ret);
	EXPECT_EQ(-1, accmem_check(self->t.map, SIZE, SEED));
	EXPECT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
}

/* BAR memory has no struct pages: a static, non-P2P importer gets none. */
TEST(import_refused_pci)
{
	struct accmem_tenant t = ACCMEM_TENANT_INIT;
	__u32 gem = 0;
	int drm;

	ASSERT_EQ(0, accmem_tenant_open(&t));
	if (t.info.backend != ACCMEM_BACKEND_PCI) {
		accmem_tenant_leave(&t);
		SKIP(return,
		     "needs the PCI backend (ACCMEM_BACKEND_PCI): emulated memory is importable");
	}
	drm = vgem_open();
	if (drm < 0) {
		accmem_tenant_leave(&t);
		SKIP(return, "no vgem DRM device (CONFIG_DRM_VGEM, module vgem)");
	}
	ASSERT_EQ(0, accmem_tenant_start(&t, SZ_1M, 0, 0));

	EXPECT_EQ(-EOPNOTSUPP, prime_import(drm, t.dmabuf, &gem));
	EXPECT_EQ(0, gem);
	EXPECT_EQ(0, accmem_sysfs_num("pins"));

	close(drm);
	accmem_tenant_leave(&t);
	EXPECT_EQ(0, accmem_wait_idle(60));
}

TEST_HARNESS_MAIN
