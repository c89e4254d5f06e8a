// SPDX-License-Identifier: GPL-2.0
/*
 * accmem PCI BAR backend: removal of a device with live exports, and
 * independent devices. These need the PCI backend (an ivshmem device in
 * QEMU, or the hardware); on the emulated backend they SKIP saying so.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"

#define SEED 0x0dd1ce5u
#define DRV "/sys/bus/pci/drivers/accmem"

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

TEST(unbind_with_live_export)
{
	struct accmem_info info;
	__u64 bar;
	char bdf[64];
	int fd, h, d, ret;
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
	h = accmem_alloc(fd, 4 * SZ_1M, 0, 0);
	ASSERT_LT(0, h);
	d = accmem_export(fd, h, 0, 4 * SZ_1M, O_RDWR);
	ASSERT_LE(0, d);
	p = accmem_mmap(d, 4 * SZ_1M, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	accmem_fill(p, 4 * SZ_1M, SEED);

	/* the device goes away under the tenant */
	ASSERT_EQ(0, accmem_write_file(DRV "/unbind", bdf));
	EXPECT_EQ(0, wait_node(accmem_dev_path(), 0, 10));
	EXPECT_EQ(-ENODEV, accmem_info(fd, &info));
	EXPECT_EQ(-ENODEV, accmem_alloc(fd, SZ_1M, 0, 0));
	EXPECT_EQ(-ENODEV, accmem_export(fd, h, 0, SZ_1M, 0));
	/* ...but what is exported stays valid: nothing was freed */
	EXPECT_EQ(-1, accmem_check(p, 4 * SZ_1M, SEED));
	/* and no other driver instance can claim the BAR meanwhile */
	EXPECT_NE(0, accmem_write_file(DRV "/bind", bdf));
	EXPECT_NE(0, access(accmem_dev_path(), F_OK));
	EXPECT_FALSE(bar_released(&bar));

	munmap(p, 4 * SZ_1M);
	close(d);
	close(fd);
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
