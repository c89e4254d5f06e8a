// SPDX-License-Identifier: GPL-2.0
/*
 * accmem PCI BAR backend: unbinding the driver from, and removing, a
 * device with a live tenancy (a CPU mapping, a pinned and a dynamic
 * import by the accmem_importer test module), also while reclaim is
 * written, a rescan while the old instance lives on, and independent
 * devices. These need the PCI backend
 * (an ivshmem device in QEMU, or the hardware); on the emulated backend
 * they SKIP saying so. The removal tests put the device back as accmem0.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"
#include "accmem_imp.h"

#define SEED 0x0dd1ce5u
#define DRV "/sys/bus/pci/drivers/accmem"
#define PCI_DEVS "/sys/bus/pci/devices"

static int pci_backend(void)
{
	struct accmem_info info;
	int fd = accmem_open_idle(), ret;

	if (fd < 0)
		return fd;
	ret = accmem_info(fd, &info);
	close(fd);
	return ret ? ret : info.backend == ACCMEM_BACKEND_PCI;
}

/* PCI address of the device behind /dev/accmem<n>. */
static int pci_addr(const char *misc, char *out, size_t len)
{
	char path[256], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/misc/%s/device", misc);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	snprintf(out, len, "%s", basename(link));
	return 0;
}

static int node_present(void *path)
{
	return !access(path, F_OK);
}

static int node_absent(void *path)
{
	return !node_present(path);
}

/* Waits until the device node is there (@present) or gone. */
static int wait_node(const char *path, int present, double seconds)
{
	return accmem_poll(present ? node_present : node_absent, (void *)path,
			   seconds);
}

/* /proc/iomem has no region of accmem's starting at @arg (a __u64 *). */
static int bar_released(void *arg)
{
	unsigned long long s, e, start = *(__u64 *)arg;
	char line[256], name[64];
	int held = 0;
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		held |= sscanf(line, " %llx-%llx : %63[^\n]", &s, &e, name) == 3 &&
			s == start && !strcmp(name, "accmem");
	fclose(f);
	return !held;
}

/*
 * Waits until accmem has released the BAR at @start: the removed device
 * keeps it while anything it exported lives, then scrubs and lets go.
 */
static int wait_bar_released(__u64 start, double seconds)
{
	return accmem_poll(bar_released, &start, seconds);
}

/* The kernel log from now on, to read with kmsg_has(); fd or -errno. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	lseek(fd, 0, SEEK_END);
	return fd;
}

/* Whether a kernel log record since kmsg_open() contains @s. */
static int kmsg_has(int fd, const char *s)
{
	char rec[2048];
	ssize_t n;
	int found = 0;

	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;
		rec[n] = 0;
		found |= !!strstr(rec, s);
	}
	return found;
}

/* The accmem device ("accmemN") bound to PCI function @bdf; 0 or -errno. */
static int misc_of(const char *bdf, char *out, size_t len)
{
	char path[256];
	struct dirent *e;
	int ret = -ENOENT;
	DIR *d;

	snprintf(path, sizeof(path), PCI_DEVS "/%s/misc", bdf);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "accmem", 6) &&
		    strlen(e->d_name) < len) {
			memcpy(out, e->d_name, strlen(e->d_name) + 1);
			ret = 0;
			break;
		}
	closedir(d);
	return ret;
}

struct bound {
	const char *bdf;
	char name[32];
};

static int is_bound(void *arg)
{
	struct bound *b = arg;
	char dev[64];

	if (misc_of(b->bdf, b->name, sizeof(b->name)))
		return 0;
	snprintf(dev, sizeof(dev), "/dev/%s", b->name);
	return !access(dev, F_OK);
}

/* Waits until @bdf has an accmem device node; its name in @name. */
static int wait_bound(const char *bdf, char *name, size_t len, double seconds)
{
	struct bound b = { .bdf = bdf };
	int ret = accmem_poll(is_bound, &b, seconds);

	snprintf(name, len, "%s", b.name);
	return ret;
}

/* The tests' device is /dev/@name from now on (this test only). */
static void use_dev(const char *name)
{
	char dev[64];

	snprintf(dev, sizeof(dev), "/dev/%s", name);
	setenv("ACCMEM_DEV", dev, 1);
}

static int pci_remove(const char *bdf)
{
	char path[256];

	snprintf(path, sizeof(path), PCI_DEVS "/%s/remove", bdf);
	return accmem_write_file(path, "1");
}

static int pci_present(const char *bdf)
{
	char path[256];

	snprintf(path, sizeof(path), PCI_DEVS "/%s", bdf);
	return !access(path, F_OK);
}

/*
 * Puts PCI function @bdf back as /dev/@name, idle: rescans if it is
 * removed; while it comes back under another name (the old instance held
 * the number a little longer than its reservation), removes it once idle
 * and rescans again. Returns 0 or -errno.
 */
static int restore(const char *bdf, const char *name)
{
	char now[32];
	int i, ret;

	for (i = 0; i < 5; i++) {
		if (!pci_present(bdf)) {
			ret = accmem_write_file("/sys/bus/pci/rescan", "1");
			if (ret)
				return ret;
		}
		ret = wait_bound(bdf, now, sizeof(now), 10);
		if (ret)
			return ret;
		use_dev(now);
		ret = accmem_wait_idle(60);
		if (ret || !strcmp(now, name))
			return ret;
		ret = pci_remove(bdf);
		if (ret)
			return ret;
	}
	return -EAGAIN;
}

TEST(unbind_with_live_export)
{
	struct accmem_imp_state st;
	struct accmem_info info;
	__u64 bar;
	char bdf[64];
	int fd, h, d, ret, imp, pin, mv;
	__u32 word;
	void *p;

	ret = pci_backend();
	ASSERT_LE(0, ret);
	if (!ret)
		SKIP(return, "needs the PCI BAR backend (ivshmem or hardware)");
	ASSERT_EQ(0, pci_addr("accmem0", bdf, sizeof(bdf)));

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_info(fd, &info));
	ASSERT_EQ(0, accmem_bar_start(info.mem_size, &bar));
	/*
	 * contiguous: the importer's vmap needs one piece of the BAR, and
	 * pci_vmap=allow for the export (the importer handles I/O maps)
	 */
	h = accmem_alloc(fd, 4 * SZ_1M, 0, ACCMEM_ALLOC_CONTIGUOUS);
	ASSERT_LT(0, h);
	d = accmem_export_vmap(fd, h, 0, 4 * SZ_1M, O_RDWR);
	ASSERT_LE(0, d);
	p = accmem_mmap(d, 4 * SZ_1M, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	accmem_fill(p, 4 * SZ_1M, SEED);
	imp = accmem_imp_open();
	ASSERT_LE(0, imp);
	pin = accmem_imp_import(imp, d, ACCMEM_IMP_DYN_PIN, 0, NULL);
	ASSERT_LT(0, pin);
	mv = accmem_imp_import(imp, d, ACCMEM_IMP_DYN_MOVE, 0, NULL);
	ASSERT_LT(0, mv);

	/* the device goes away under the tenant */
	ASSERT_EQ(0, accmem_write_file(DRV "/unbind", bdf));
	EXPECT_EQ(0, wait_node(accmem_dev_path(), 0, 10));
	EXPECT_EQ(-ENODEV, accmem_info(fd, &info));
	EXPECT_EQ(-ENODEV, accmem_alloc(fd, SZ_1M, 0, 0));
	EXPECT_EQ(-ENODEV, accmem_export(fd, h, 0, SZ_1M, 0));
	/* ...but what is exported stays valid: nothing was freed */
	EXPECT_EQ(-1, accmem_check(p, 4 * SZ_1M, SEED));
	/* ...for importers too: nothing moved, maps and vmaps work */
	ASSERT_EQ(0, accmem_imp_state(imp, mv, &st));
	EXPECT_EQ(0, st.moves);
	EXPECT_EQ(0, accmem_imp_remap(imp, mv));
	ASSERT_EQ(0, accmem_imp_state(imp, pin, &st));
	EXPECT_EQ(1, st.pinned);
	EXPECT_EQ(0, accmem_imp_rw(imp, pin, 0, 0, &word, sizeof(word)));
	EXPECT_EQ(*(__u32 *)p, word);
	/* and no other driver instance can claim the BAR meanwhile */
	EXPECT_NE(0, accmem_write_file(DRV "/bind", bdf));
	EXPECT_NE(0, access(accmem_dev_path(), F_OK));
	EXPECT_FALSE(bar_released(&bar));

	munmap(p, 4 * SZ_1M);
	close(d);
	close(fd);
	/* the importers hold it still */
	EXPECT_FALSE(bar_released(&bar));
	close(imp);
	/* the memory is scrubbed and released; the device can come back */
	ASSERT_EQ(0, wait_bar_released(bar, 30));
	ASSERT_EQ(0, accmem_write_file(DRV "/bind", bdf));
	ASSERT_EQ(0, wait_node(accmem_dev_path(), 1, 10));
	ASSERT_EQ(0, accmem_wait_idle(60));
	fd = accmem_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_info(fd, &info));
	h = accmem_alloc(fd, info.mem_size, 0, 0);
	ASSERT_LT(0, h);
	d = accmem_export(fd, h, 0, info.mem_size, 0);
	ASSERT_LE(0, d);
	p = accmem_mmap(d, info.mem_size, PROT_READ);
	ASSERT_NE(MAP_FAILED, p) {
		TH_LOG("mmap: %s", strerror(errno));
	}
	EXPECT_EQ(-1, accmem_check_zero(p, info.mem_size));
	munmap(p, info.mem_size);
	close(d);
	close(fd);
	EXPECT_EQ(0, accmem_wait_idle(60));
}

TEST(unbind_idle_device)
{
	char bdf[64];
	int ret;

	ret = pci_backend();
	ASSERT_LE(0, ret);
	if (!ret)
		SKIP(return, "needs the PCI BAR backend (ivshmem or hardware)");
	ASSERT_EQ(0, pci_addr("accmem0", bdf, sizeof(bdf)));
	ASSERT_EQ(0, accmem_write_file(DRV "/unbind", bdf));
	EXPECT_EQ(0, wait_node(accmem_dev_path(), 0, 10));
	ASSERT_EQ(0, accmem_write_file(DRV "/bind", bdf));
	ASSERT_EQ(0, wait_node(accmem_dev_path(), 1, 10));
	EXPECT_EQ(0, accmem_wait_idle(60));
}

/*
 * A tenant of accmem0 with its memory filled and mapped, imported pinned
 * (as an RDMA MR) and dynamically (an importer that handles move_notify),
 * for a device removal. The teardown releases what the test left and puts
 * the device back as accmem0.
 */
FIXTURE(removal)
{
	char bdf[64];
	__u64 bar;		/* the BAR's start before the removal */
	int kmsg;		/* the kernel log since the start */
	int imp;		/* the accmem_importer */
	int iommu;		/* its DMA goes through an IOMMU */
	int pin, move;		/* the imports */
	struct accmem_tenant t;
	int released;		/* the test saw the old BAR released */
};

FIXTURE_SETUP(removal)
{
	struct accmem_imp_import a;
	int ret = pci_backend();

	accmem_tenant_init(&self->t);
	self->imp = -1;
	self->kmsg = -1;
	ASSERT_LE(0, ret);
	if (!ret)
		SKIP(return, "needs the PCI BAR backend (ivshmem or hardware)");
	ASSERT_EQ(0, pci_addr("accmem0", self->bdf, sizeof(self->bdf)));
	self->kmsg = kmsg_open();
	ASSERT_LE(0, self->kmsg);
	self->imp = accmem_imp_open();
	ASSERT_LE(0, self->imp) {
		TH_LOG("accmem_importer test module missing: %s",
		       "make test-modules; ACCMEM_IMPORTER=path.ko");
	}
	ASSERT_EQ(0, accmem_tenant_start(&self->t, 4 * SZ_1M,
					 ACCMEM_TENANT_MAP | ACCMEM_TENANT_FILL,
					 SEED));
	ASSERT_EQ(0, accmem_bar_start(self->t.info.mem_size, &self->bar));
	self->pin = accmem_imp_import(self->imp, self->t.dmabuf,
				      ACCMEM_IMP_DYN_PIN, 0, &a);
	ASSERT_LT(0, self->pin);
	self->iommu = a.iommu;
	self->move = accmem_imp_import(self->imp, self->t.dmabuf,
				       ACCMEM_IMP_DYN_MOVE, 0, NULL);
	ASSERT_LT(0, self->move);
}

FIXTURE_TEARDOWN(removal)
{
	if (!self->bdf[0])
		return;
	if (self->imp >= 0)
		close(self->imp);
	accmem_tenant_leave(&self->t);
	/* (a device back at the same address would hold it again) */
	if (!self->released)
		EXPECT_EQ(0, wait_bar_released(self->bar, 30));
	EXPECT_EQ(0, restore(self->bdf, "accmem0"));
	/* what the old instance requested was released, and only that */
	if (self->kmsg >= 0) {
		EXPECT_FALSE(kmsg_has(self->kmsg, "nonexistent resource"));
		close(self->kmsg);
	}
}

/*
 * After the removal nothing reaches the memory but the pinned import, whose
 * addresses stay reserved: the CPU mapping faults, no new one, the dynamic
 * importer was told and cannot map again, the ioctls fail.
 */
static void check_revoked(struct __test_metadata *_metadata,
			  const struct accmem_tenant *t, int imp, int pin,
			  int move, __u64 bar)
{
	struct accmem_imp_state st;
	struct accmem_info info;

	EXPECT_EQ(1, accmem_read_faults((__u32 *)t->map));
	EXPECT_EQ(1, accmem_read_faults((__u32 *)(t->map + t->size) - 1));
	EXPECT_EQ(MAP_FAILED, accmem_mmap(t->dmabuf, t->size, PROT_READ));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-ENODEV, accmem_info(t->fd, &info));
	ASSERT_EQ(0, accmem_imp_state(imp, move, &st));
	EXPECT_LE(1, st.moves);
	EXPECT_EQ(-ENODEV, accmem_imp_remap(imp, move));
	/* (vmap fails too, but dma_buf_vmap() WARNs on any failure) */
	ASSERT_EQ(0, accmem_imp_state(imp, pin, &st));
	EXPECT_EQ(1, st.pinned);
	EXPECT_FALSE(bar_released(&bar));
}

/* /dev/@name is scrubbed and works: all of its memory reads zero. */
static void check_fresh(struct __test_metadata *_metadata, const char *name)
{
	struct accmem_tenant t;

	use_dev(name);
	accmem_tenant_init(&t);
	ASSERT_EQ(0, accmem_tenant_open(&t));
	ASSERT_EQ(0, accmem_tenant_start(&t, t.info.mem_size,
					 ACCMEM_TENANT_MAP, 0));
	EXPECT_EQ(-1, accmem_check_zero(t.map, t.size));
	accmem_fill(t.map, SZ_1M, ~SEED);
	EXPECT_EQ(-1, accmem_check(t.map, SZ_1M, ~SEED));
	EXPECT_EQ(0, accmem_tenant_leave(&t));
	EXPECT_EQ(0, accmem_wait_idle(60));
}

/*
 * The device was removed: everything but the pinned import is revoked;
 * its memory stays reserved until the last holder goes, and the device
 * comes back scrubbed.
 */
typedef FIXTURE_DATA(removal) removal_t;

static void check_removed(struct __test_metadata *_metadata,
			  removal_t *self)
{
	EXPECT_EQ(0, wait_node(accmem_dev_path(), 0, 10));
	check_revoked(_metadata, &self->t, self->imp, self->pin, self->move,
		      self->bar);

	/* the range stays reserved until the last reference goes */
	accmem_tenant_leave(&self->t);
	EXPECT_FALSE(bar_released(&self->bar));
	close(self->imp);
	self->imp = -1;
	ASSERT_EQ(0, wait_bar_released(self->bar, 30));
	self->released = 1;

	/* back after a rescan, scrubbed: the tenant's data is gone */
	ASSERT_EQ(0, restore(self->bdf, "accmem0"));
	check_fresh(_metadata, "accmem0");
}

TEST_F_TIMEOUT(removal, remove_revokes, 180)
{
	ASSERT_EQ(0, pci_remove(self->bdf));
	check_removed(_metadata, self);
}

/*
 * Reclaim (sysfs reclaim, written in a loop by a child until the device
 * and its attribute are gone) while the device is removed: the same end.
 */
TEST_F_TIMEOUT(removal, reclaim_while_removed, 180)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		while (!accmem_reclaim_write("1"))
			;
		_exit(0);
	}
	ASSERT_EQ(0, pci_remove(self->bdf));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	check_removed(_metadata, self);
}

TEST_F_TIMEOUT(removal, rescan_while_held, 180)
{
	struct accmem_imp_seg seg;
	struct accmem_imp_sg sg = {
		.id = self->pin, .count = 1, .segs = (uintptr_t)&seg,
	};
	char name[32];
	__u64 bar;

	ASSERT_EQ(0, pci_remove(self->bdf));
	EXPECT_EQ(0, wait_node(accmem_dev_path(), 0, 10));
	ASSERT_EQ(0, accmem_write_file("/sys/bus/pci/rescan", "1"));
	ASSERT_EQ(0, wait_bound(self->bdf, name, sizeof(name), 10));

	/* a new instance beside the old one: another name, another BAR */
	EXPECT_STRNE("accmem0", name);
	use_dev(name);
	ASSERT_EQ(0, accmem_bar_start(self->t.info.mem_size, &bar));
	EXPECT_NE(self->bar, bar);
	check_revoked(_metadata, &self->t, self->imp, self->pin, self->move,
		      self->bar);
	/* the pinned importer's addresses are still the old, reserved ones */
	ASSERT_EQ(0, accmem_ioctl(self->imp, ACCMEM_IMP_GET_SG, &sg));
	if (!self->iommu) {
		EXPECT_LE(self->bar, seg.addr);
		EXPECT_GT(self->bar + self->t.info.mem_size, seg.addr);
	}
	/* the new device was scrubbed before its first tenant */
	check_fresh(_metadata, name);

	accmem_tenant_leave(&self->t);
	close(self->imp);
	self->imp = -1;
	ASSERT_EQ(0, wait_bar_released(self->bar, 30));
	self->released = 1;
}

TEST(two_devices_independent)
{
	int a, b, ha, hb, da, db;
	__u32 *pa, *pb;

	if (access("/dev/accmem1", F_OK))
		SKIP(return, "needs a second accmem device (--devices 2)");
	ASSERT_EQ(0, accmem_wait_idle(60));
	a = accmem_open();
	ASSERT_LE(0, a);
	/* a tenant of accmem0 does not own accmem1 */
	b = open("/dev/accmem1", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, b);
	EXPECT_EQ(-1, open("/dev/accmem1", O_RDWR));
	EXPECT_EQ(EBUSY, errno);

	ha = accmem_alloc(a, SZ_1M, 0, 0);
	hb = accmem_alloc(b, SZ_1M, 0, 0);
	ASSERT_LT(0, ha);
	ASSERT_LT(0, hb);
	da = accmem_export(a, ha, 0, SZ_1M, O_RDWR);
	db = accmem_export(b, hb, 0, SZ_1M, O_RDWR);
	ASSERT_LE(0, da);
	ASSERT_LE(0, db);
	pa = accmem_mmap(da, SZ_1M, PROT_READ | PROT_WRITE);
	pb = accmem_mmap(db, SZ_1M, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, pa);
	ASSERT_NE(MAP_FAILED, pb);
	accmem_fill(pa, SZ_1M, SEED);
	accmem_fill(pb, SZ_1M, ~SEED);

	/* ending tenancy 0 leaves tenancy 1 and its data alone */
	munmap(pa, SZ_1M);
	close(da);
	close(a);
	ASSERT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(-1, accmem_check(pb, SZ_1M, ~SEED));
	EXPECT_EQ(-EBUSY, open("/dev/accmem1", O_RDWR) < 0 ? -errno : 0);
	munmap(pb, SZ_1M);
	close(db);
	close(b);
}

TEST_HARNESS_MAIN
