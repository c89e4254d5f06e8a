// SPDX-License-Identifier: GPL-2.0
/*
 * accmem reclaim (writing 1 to /sys/class/misc/accmemN/reclaim): the
 * tenant's ioctls but INFO fail with ENODEV; CPU mappings fault with
 * SIGBUS and no new one is made; dynamic importers are told and cannot map
 * again, no new importer attaches; dma-bufs nothing pins, maps or vmaps let
 * go of their memory at once (they stay open, inert), pinned importers,
 * vmaps and vgem GEM handles keep it ("reclaiming") until they let go,
 * revocable pinned importers (7.1 on) are told and let go at once,
 * vgem fences are waited for; then the memory is scrubbed and the device
 * is idle while the old tenant still holds its files. Reclaiming an idle
 * device, or twice, does nothing more; reclaim races with the tenant's
 * ioctls, mmap, imports and close, and with a scrub. On both backends; the
 * PCI backend also reclaims while its device is removed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <xf86drm.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"
#include "accmem_harness.h"
#include "accmem_imp.h"

#define SEED 0x7ec1a1a5u
#define SIZE (4 * SZ_1M)

static int reclaim(void)
{
	return accmem_reclaim_write("1");
}

/* The device's state, for messages and checks. */
static const char *state(void)
{
	static char s[32];

	if (accmem_sysfs("state", s, sizeof(s)))
		snprintf(s, sizeof(s), "(unreadable)");
	return s;
}

static int exports_are(void *n)
{
	return accmem_sysfs_num("exports") == *(long long *)n;
}

/* Waits (60 s at most) until @n dma-bufs still hold memory; 0 or -ETIMEDOUT. */
static int wait_exports(long long n)
{
	return accmem_poll(exports_are, &n, 60);
}

FIXTURE(reclaim)
{
	struct accmem_tenant t;	/* SIZE allocated, exported, filled */
	int imp;		/* accmem_importer, or -1 */
};

FIXTURE_SETUP(reclaim)
{
	accmem_tenant_init(&self->t);
	self->imp = -1;
	ASSERT_EQ(0, accmem_tenant_start(&self->t, SIZE, ACCMEM_TENANT_FILL,
					 SEED));
}

FIXTURE_TEARDOWN(reclaim)
{
	if (self->imp >= 0)
		close(self->imp);
	accmem_tenant_leave(&self->t);
	EXPECT_EQ(0, accmem_wait_idle(60));
}

/* The test importer; the test fails if it cannot be loaded. */
static int importer(struct __test_metadata *_metadata, int *imp)
{
	*imp = accmem_imp_open();
	if (*imp < 0)
		TH_LOG("accmem_importer test module missing: %s",
		       "make test-modules; ACCMEM_IMPORTER=path.ko");
	return *imp;
}

/* What the old tenant's device file can still do: INFO only. */
static void expect_tenant_revoked(struct __test_metadata *_metadata,
				  const struct accmem_tenant *t)
{
	struct accmem_export e = { .handle = t->h, .length = t->size,
				   .flags = O_RDWR };
	struct accmem_alloc a = { .size = t->info.page_size };
	struct accmem_free f = { .handle = t->h };
	struct accmem_info info;

	EXPECT_EQ(0, accmem_info(t->fd, &info));
	EXPECT_EQ(t->info.mem_size, info.mem_size);
	EXPECT_EQ(-ENODEV, accmem_ioctl(t->fd, ACCMEM_IOC_ALLOC, &a));
	EXPECT_EQ(-ENODEV, accmem_ioctl(t->fd, ACCMEM_IOC_EXPORT, &e));
	EXPECT_EQ(-ENODEV, accmem_ioctl(t->fd, ACCMEM_IOC_FREE, &f));
	/* bad arguments are not looked at any more */
	f.flags = 1;
	EXPECT_EQ(-ENODEV, accmem_ioctl(t->fd, ACCMEM_IOC_FREE, &f));
}

TEST(idle_is_noop)
{
	int fd;

	ASSERT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, reclaim());
	EXPECT_STREQ("idle", state());
	fd = accmem_open();
	ASSERT_LE(0, fd);
	EXPECT_STREQ("owned", state());
	close(fd);
	ASSERT_EQ(0, accmem_wait_idle(60));
}

TEST(only_one_is_accepted)
{
	char path[256];
	struct stat st;

	EXPECT_EQ(-EINVAL, accmem_reclaim_write("0"));
	EXPECT_EQ(-EINVAL, accmem_reclaim_write("2"));
	EXPECT_EQ(-EINVAL, accmem_reclaim_write("yes"));
	EXPECT_EQ(-EINVAL, accmem_reclaim_write("11"));
	EXPECT_EQ(0, accmem_reclaim_write("1\n"));
	accmem_dev_file(path, sizeof(path), ACCMEM_SYSFS, "reclaim");
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0200, st.st_mode & 0777);
	ASSERT_EQ(0, accmem_wait_idle(60));
}

/*
 * Only the tenant's files hold the tenancy: it ends at once, whatever they
 * still hold; the dma-buf is inert, the next tenant finds zeros.
 */
TEST_F(reclaim, fd_holder)
{
	int imp;

	EXPECT_STREQ("owned", state());
	ASSERT_EQ(0, reclaim());
	ASSERT_EQ(0, accmem_wait_idle(60)) {
		TH_LOG("still %s", state());
	}
	EXPECT_EQ(0, accmem_sysfs_num("exports"));
	EXPECT_EQ(0, accmem_sysfs_num("mem_used"));
	expect_tenant_revoked(_metadata, &self->t);

	/* the inert dma-buf: still a file, nothing reaches memory through it */
	EXPECT_EQ(MAP_FAILED, accmem_mmap(self->t.dmabuf, SIZE, PROT_READ));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-ENODEV, accmem_sync(self->t.dmabuf, DMA_BUF_SYNC_START |
				       DMA_BUF_SYNC_READ));
	ASSERT_LE(0, importer(_metadata, &imp));
	EXPECT_EQ(-ENODEV, accmem_imp_import(imp, self->t.dmabuf,
					     ACCMEM_IMP_DYN_PIN, 0, NULL));
	EXPECT_EQ(-ENODEV, accmem_imp_import(imp, self->t.dmabuf,
					     ACCMEM_IMP_STATIC, 0, NULL));
	close(imp);

	/* a new tenant while the old one holds both files */
	accmem_expect_all_zero(_metadata);
	/* and the old one's files close without disturbing anybody */
	EXPECT_EQ(0, accmem_tenant_leave(&self->t));
	EXPECT_STREQ("idle", state());
}

/* Closing the device file before or after: the same. */
TEST_F(reclaim, draining)
{
	ASSERT_EQ(0, close(self->t.fd));
	self->t.fd = -1;
	EXPECT_STREQ("draining", state());
	ASSERT_EQ(0, reclaim());
	ASSERT_EQ(0, accmem_wait_idle(60));
	accmem_expect_all_zero(_metadata);
}

TEST_F(reclaim, cpu_mapping)
{
	__u32 *p = (__u32 *)accmem_mmap(self->t.dmabuf, SIZE, PROT_READ);

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, accmem_read_faults(p));
	ASSERT_EQ(0, close(self->t.dmabuf));
	self->t.dmabuf = -1;
	ASSERT_EQ(0, close(self->t.fd));
	self->t.fd = -1;
	/* the mapping alone holds the tenancy */
	EXPECT_STREQ("draining", state());

	ASSERT_EQ(0, reclaim());
	ASSERT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(1, accmem_read_faults(p));
	EXPECT_EQ(1, accmem_read_faults(p + SIZE / 4 - 1));
	accmem_expect_all_zero(_metadata);
	/* still SIGBUS: the next tenant's memory is not behind it */
	EXPECT_EQ(1, accmem_read_faults(p));
	EXPECT_EQ(0, munmap(p, SIZE));
}

/* A dynamic importer is told, cannot map again; then the memory goes. */
TEST_F(reclaim, dynamic_importer)
{
	struct accmem_imp_state st;
	int id;

	ASSERT_LE(0, importer(_metadata, &self->imp));
	id = accmem_imp_import(self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_MOVE,
			       0, NULL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, accmem_imp_state(self->imp, id, &st));
	EXPECT_EQ(0, st.moves);

	ASSERT_EQ(0, reclaim());
	ASSERT_EQ(0, accmem_imp_state(self->imp, id, &st));
	EXPECT_EQ(1, st.moves);
	/* its mapping is still there: the memory is held until it unmaps */
	EXPECT_STREQ("reclaiming", state());
	EXPECT_EQ(-EBUSY, accmem_open());
	EXPECT_EQ(-ENODEV, accmem_imp_remap(self->imp, id));
	ASSERT_EQ(0, accmem_wait_idle(60)) {
		TH_LOG("still %s", state());
	}
	/* no new attachment */
	EXPECT_EQ(-ENODEV, accmem_imp_import(self->imp, self->t.dmabuf,
					     ACCMEM_IMP_DYN_MOVE, 0, NULL));
	expect_tenant_revoked(_metadata, &self->t);
	accmem_expect_all_zero(_metadata);
	EXPECT_EQ(0, accmem_imp_release(self->imp, id));
}

/*
 * A pinned importer that also keeps a vmap: its memory stays as it was,
 * mapped for it and readable through the vmap, the device reclaiming,
 * until it lets go; then the memory is scrubbed.
 */
TEST_F(reclaim, pinned_importer)
{
	struct accmem_imp_seg before, after;
	struct accmem_imp_sg sg = { .count = 1 };
	struct accmem_imp_state st;
	long long scrubbed;
	int d, id;
	char *buf;

	ASSERT_LE(0, importer(_metadata, &self->imp));
	/* (the PCI backend lets importers vmap only with pci_vmap=allow) */
	d = accmem_export_vmap(self->t.fd, self->t.h, 0, SIZE,
			       O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, d);
	id = accmem_imp_import(self->imp, d, ACCMEM_IMP_DYN_PIN, 0, NULL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, close(d));
	ASSERT_EQ(0, accmem_imp_vmap(self->imp, id));
	sg.id = id;
	sg.segs = (uintptr_t)&before;
	ASSERT_EQ(0, accmem_ioctl(self->imp, ACCMEM_IMP_GET_SG, &sg));
	scrubbed = accmem_sysfs_num("bytes_scrubbed");

	ASSERT_EQ(0, reclaim());
	/* the tenant's own dma-buf lets go, the imported one cannot */
	EXPECT_STREQ("reclaiming", state());
	EXPECT_EQ(-EBUSY, accmem_open());
	EXPECT_EQ(0, wait_exports(1));
	EXPECT_EQ(1, accmem_sysfs_num("pins"));
	EXPECT_EQ(SIZE, accmem_sysfs_num("mem_used"));
	expect_tenant_revoked(_metadata, &self->t);

	ASSERT_EQ(0, accmem_imp_state(self->imp, id, &st));
	EXPECT_EQ(1, st.pinned);
	sg.segs = (uintptr_t)&after;
	ASSERT_EQ(0, accmem_ioctl(self->imp, ACCMEM_IMP_GET_SG, &sg));
	EXPECT_EQ(before.addr, after.addr);
	EXPECT_EQ(before.len, after.len);
	buf = malloc(SIZE);
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(0, accmem_imp_rw(self->imp, id, 0, 0, buf, SIZE));
	EXPECT_EQ(-1, accmem_check(buf, SIZE, SEED));
	free(buf);
	EXPECT_EQ(scrubbed, accmem_sysfs_num("bytes_scrubbed"));
	EXPECT_STREQ("reclaiming", state());

	EXPECT_EQ(0, accmem_imp_release(self->imp, id));
	ASSERT_EQ(0, accmem_wait_idle(60)) {
		TH_LOG("still %s", state());
	}
	EXPECT_LE(scrubbed + SIZE, accmem_sysfs_num("bytes_scrubbed"));
	accmem_expect_all_zero(_metadata);
}

/*
 * A pinned importer that can be revoked (7.1 on: invalidate_mappings,
 * dma_buf_attach_revocable()) is told, unmaps and unpins; then the memory
 * goes while it is still attached.
 */
TEST_F(reclaim, revocable_pinned_importer)
{
	struct accmem_imp_seg seg;
	struct accmem_imp_sg sg = { .count = 1, .segs = (uintptr_t)&seg };
	struct accmem_imp_state st;
	int id;

	ASSERT_LE(0, importer(_metadata, &self->imp));
	id = accmem_imp_import(self->imp, self->t.dmabuf,
			       ACCMEM_IMP_DYN_PIN_REVOCABLE, 0, NULL);
	if (id == -EOPNOTSUPP)
		SKIP(return,
		     "needs dma_buf_attach_revocable() (the dma-buf revoke protocol of Linux 7.1)");
	ASSERT_LT(0, id);
	ASSERT_EQ(0, accmem_imp_state(self->imp, id, &st));
	EXPECT_EQ(1, st.pinned);
	EXPECT_EQ(1, accmem_sysfs_num("pins"));

	ASSERT_EQ(0, reclaim());
	ASSERT_EQ(0, accmem_imp_state(self->imp, id, &st));
	EXPECT_EQ(1, st.moves);
	EXPECT_EQ(0, st.pinned);
	sg.id = id;
	EXPECT_EQ(-ENODATA, accmem_ioctl(self->imp, ACCMEM_IMP_GET_SG, &sg));
	/* still attached, but nothing holds the memory */
	ASSERT_EQ(0, accmem_wait_idle(60)) {
		TH_LOG("still %s", state());
	}
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
	accmem_expect_all_zero(_metadata);
	EXPECT_EQ(0, accmem_imp_release(self->imp, id));
}

/* A kernel vmap alone (a dynamic importer that unmapped) keeps it too. */
TEST_F(reclaim, vmap_holder)
{
	int d, id;

	ASSERT_LE(0, importer(_metadata, &self->imp));
	d = accmem_export_vmap(self->t.fd, self->t.h, 0, SIZE,
			       O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, d);
	id = accmem_imp_import(self->imp, d, ACCMEM_IMP_DYN_MOVE, 0, NULL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, close(d));
	ASSERT_EQ(0, accmem_imp_vmap(self->imp, id));

	ASSERT_EQ(0, reclaim());
	EXPECT_EQ(-ENODEV, accmem_imp_remap(self->imp, id));
	EXPECT_STREQ("reclaiming", state());
	EXPECT_EQ(-EBUSY, accmem_open());
	EXPECT_EQ(0, accmem_imp_release(self->imp, id));
	ASSERT_EQ(0, accmem_wait_idle(60));
	accmem_expect_all_zero(_metadata);
}

TEST_F(reclaim, twice)
{
	int id;

	ASSERT_LE(0, importer(_metadata, &self->imp));
	id = accmem_imp_import(self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN,
			       0, NULL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, reclaim());
	EXPECT_STREQ("reclaiming", state());
	ASSERT_EQ(0, reclaim());
	EXPECT_STREQ("reclaiming", state());
	expect_tenant_revoked(_metadata, &self->t);
	EXPECT_EQ(0, accmem_imp_release(self->imp, id));
	ASSERT_EQ(0, accmem_wait_idle(60));
	/* a reclaim of the idle device that follows does nothing */
	ASSERT_EQ(0, reclaim());
	accmem_expect_all_zero(_metadata);
}

/* debugfs names what keeps a reclaimed export alive. */
TEST_F(reclaim, debugfs_shows_holders)
{
	char path[256], line[512];
	int id, revoked = 0, pinned = 0;
	FILE *f;

	ASSERT_LE(0, importer(_metadata, &self->imp));
	id = accmem_imp_import(self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN,
			       0, NULL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, reclaim());
	accmem_dev_file(path, sizeof(path), ACCMEM_DEBUGFS, "buffers");
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "dmabuf ino") && strstr(line, " revoked"))
			revoked++;
		if (strstr(line, "attachment") && strstr(line, " pinned"))
			pinned++;
	}
	fclose(f);
	EXPECT_EQ(1, revoked);
	EXPECT_EQ(1, pinned);
	EXPECT_EQ(0, accmem_imp_release(self->imp, id));
	ASSERT_EQ(0, accmem_wait_idle(60));
}

/* include/uapi/drm/vgem_drm.h, which libdrm does not install */
struct reclaim_vgem_fence_attach {
	__u32 handle;
	__u32 flags;
	__u32 out_fence;
	__u32 pad;
};

struct reclaim_vgem_fence_signal {
	__u32 fence;
	__u32 flags;
};

#define RECLAIM_VGEM_FENCE_WRITE	0x1
#define RECLAIM_VGEM_FENCE_ATTACH \
	DRM_IOWR(DRM_COMMAND_BASE + 0x1, struct reclaim_vgem_fence_attach)
#define RECLAIM_VGEM_FENCE_SIGNAL \
	DRM_IOW(DRM_COMMAND_BASE + 0x2, struct reclaim_vgem_fence_signal)

static int vgem_open(void)
{
	char path[32], name[16];
	struct drm_version v;
	int i, fd, tries;

	for (tries = 0; tries < 2; tries++) {
		for (i = 0; i < 16; i++) {
			snprintf(path, sizeof(path), "/dev/dri/card%d", i);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				continue;
			memset(name, 0, sizeof(name));
			v = (struct drm_version){ .name_len = sizeof(name) - 1,
						  .name = name };
			if (!ioctl(fd, DRM_IOCTL_VERSION, &v) &&
			    !strcmp(name, "vgem"))
				return fd;
			close(fd);
		}
		if (system("modprobe -q vgem 2>/dev/null"))
			break;
	}
	return -ENODEV;
}

/*
 * The tenant's dma-buf imported into vgem (@drm, GEM handle @gem) with an
 * unsignalled vgem write fence (@fence) on it, then reclaimed, then the
 * GEM handle closed. 0, -ENODEV (no vgem), -EOPNOTSUPP (not emulated
 * memory, which vgem cannot import) or another -errno.
 */
static int vgem_fenced_reclaim(struct accmem_tenant *t, int *drm,
			       __u32 *fence)
{
	struct reclaim_vgem_fence_attach fa = { 0 };
	struct drm_gem_close c = { 0 };
	int ret = -EOPNOTSUPP;

	*drm = vgem_open();
	if (*drm < 0)
		return -ENODEV;
	if (t->info.backend != ACCMEM_BACKEND_EMU)
		goto err;
	ret = drmPrimeFDToHandle(*drm, t->dmabuf, &fa.handle);
	if (ret)
		goto err;
	fa.flags = RECLAIM_VGEM_FENCE_WRITE;
	c.handle = fa.handle;
	if (ioctl(*drm, RECLAIM_VGEM_FENCE_ATTACH, &fa))
		goto err_errno;
	ret = reclaim();
	if (ret)
		goto err;
	if (strcmp(state(), "reclaiming")) {
		ret = -EBUSY;
		goto err;
	}
	*fence = fa.out_fence;
	return ioctl(*drm, DRM_IOCTL_GEM_CLOSE, &c) ? -errno : 0;

err_errno:
	ret = -errno;
err:
	close(*drm);
	return ret;
}

/* Why a test that needs vgem_fenced_reclaim() skips, or NULL. */
static const char *vgem_skip(int ret)
{
	if (ret == -ENODEV)
		return "no vgem DRM device (CONFIG_DRM_VGEM, module vgem)";
	if (ret == -EOPNOTSUPP)
		return "needs the emulated backend: vgem imports only memory with struct pages";
	return NULL;
}

/*
 * A vgem GEM handle maps (and so pins) the dma-buf: it keeps the memory
 * until it is closed; then a vgem fence still on the dma-buf is waited
 * for before the memory goes.
 */
TEST_F(reclaim, vgem_handle)
{
	struct reclaim_vgem_fence_signal sig = { 0 };
	int drm, ret;

	ret = vgem_fenced_reclaim(&self->t, &drm, &sig.fence);
	if (vgem_skip(ret))
		SKIP(return, "%s", vgem_skip(ret));
	ASSERT_EQ(0, ret);
	/*
	 * Nothing maps it now, but the unsignalled fence (vgem signals it
	 * itself after 10 s) still holds it.
	 */
	EXPECT_STREQ("reclaiming", state());
	EXPECT_EQ(0, ioctl(drm, RECLAIM_VGEM_FENCE_SIGNAL, &sig));
	ASSERT_EQ(0, accmem_wait_idle(60)) {
		TH_LOG("still %s", state());
	}
	close(drm);
	accmem_expect_all_zero(_metadata);
}

/*
 * The dma-buf's release does not wait for a fence left on it (the dma-buf
 * core frees the reservation object with its fences too): closing the
 * last fd of a reclaimed dma-buf whose fence is still unsignalled lets go
 * of the memory at once, and the fence is still unsignalled afterwards.
 */
TEST_F(reclaim, release_does_not_wait_for_fences)
{
	struct reclaim_vgem_fence_signal sig = { 0 };
	int drm, ret;

	ret = vgem_fenced_reclaim(&self->t, &drm, &sig.fence);
	if (vgem_skip(ret))
		SKIP(return, "%s", vgem_skip(ret));
	ASSERT_EQ(0, ret);
	EXPECT_STREQ("reclaiming", state());
	ASSERT_EQ(0, close(self->t.dmabuf));
	self->t.dmabuf = -1;
	ASSERT_EQ(0, accmem_wait_idle(60)) {
		TH_LOG("still %s", state());
	}
	/* vgem signals its fences itself after 10 s: -ETIMEDOUT then */
	EXPECT_EQ(0, ioctl(drm, RECLAIM_VGEM_FENCE_SIGNAL, &sig)) {
		TH_LOG("the fence was signalled before the device went idle: %s",
		       strerror(errno));
	}
	close(drm);
	accmem_expect_all_zero(_metadata);
}

/* A scrub in progress when reclaim comes: reclaim changes nothing. */
TEST(during_scrub)
{
	struct accmem_info info;
	int fd, h;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_info(fd, &info));
	h = accmem_alloc(fd, info.mem_size, 0, 0);
	ASSERT_LT(0, h);
	ASSERT_EQ(0, close(fd));
	/* the scrub of all of the memory may or may not be done already */
	ASSERT_EQ(0, reclaim());
	ASSERT_EQ(0, reclaim());
	ASSERT_EQ(0, accmem_wait_idle(120));
	EXPECT_EQ(0, accmem_sysfs_num("mem_used"));
	accmem_expect_all_zero(_metadata);
}

/*
 * Races: the tenant keeps exporting, mapping and importing from three
 * threads while reclaim comes; the device ends idle.
 */
struct race {
	struct accmem_tenant *t;
	int imp;
	atomic_int stop;
	atomic_int ops;
};

/* EXPORT, mmap and munmap, import and release, close. */
static void *race_worker(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->stop)) {
		int d = accmem_export(r->t->fd, r->t->h, 0, SIZE,
				      O_RDWR | O_CLOEXEC);
		void *p;
		int id;

		if (d < 0)
			continue;
		p = accmem_mmap(d, SIZE, PROT_READ);
		/* no read through p: reclaim may zap it meanwhile (SIGBUS) */
		if (p != MAP_FAILED)
			munmap(p, SIZE);
		if (r->imp >= 0) {
			id = accmem_imp_import(r->imp, d, atomic_load(&r->ops) % 2 ?
					       ACCMEM_IMP_DYN_PIN :
					       ACCMEM_IMP_DYN_MOVE, 0, NULL);
			if (id > 0)
				accmem_imp_release(r->imp, id);
		}
		close(d);
		atomic_fetch_add(&r->ops, 1);
	}
	return NULL;
}

TEST_F_TIMEOUT(reclaim, races, 300)
{
	struct race r = { .t = &self->t };
	pthread_t th[3];
	int i, round, fails = 0;

	ASSERT_LE(0, importer(_metadata, &self->imp));
	r.imp = self->imp;
	for (round = 0; round < 4; round++) {
		atomic_store(&r.stop, 0);
		atomic_store(&r.ops, 0);
		for (i = 0; i < 3; i++)
			ASSERT_EQ(0, pthread_create(&th[i], NULL, race_worker,
						    &r));
		while (atomic_load(&r.ops) < 4)
			usleep(1000);
		ASSERT_EQ(0, reclaim());
		atomic_store(&r.stop, 1);
		for (i = 0; i < 3; i++)
			pthread_join(th[i], NULL);
		if (accmem_wait_idle(60)) {
			TH_LOG("round %d: still %s", round, state());
			fails++;
			break;
		}
		accmem_tenant_leave(&self->t);
		accmem_tenant_init(&self->t);
		ASSERT_EQ(0, accmem_tenant_start(&self->t, SIZE, 0, SEED));
	}
	EXPECT_EQ(0, fails);
}

/*
 * Reclaim while the tenant's last files are being closed: a child that
 * holds copies of them exports once more and exits.
 */
TEST(races_with_exit)
{
	int round, status;

	for (round = 0; round < 8; round++) {
		struct accmem_tenant t = ACCMEM_TENANT_INIT;
		pid_t pid;

		ASSERT_EQ(0, accmem_tenant_start(&t, SIZE, ACCMEM_TENANT_MAP,
						 SEED));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			/* the child holds copies of both fds, then exits */
			accmem_export(t.fd, t.h, 0, SIZE, O_RDWR);
			_exit(0);
		}
		if (round % 2)
			accmem_tenant_leave(&t);
		ASSERT_EQ(0, reclaim());
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		accmem_tenant_leave(&t);
		ASSERT_EQ(0, accmem_wait_idle(60)) {
			TH_LOG("round %d: still %s", round, state());
		}
	}
	accmem_expect_all_zero(_metadata);
}

TEST_HARNESS_MAIN
