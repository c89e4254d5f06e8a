// SPDX-License-Identifier: GPL-2.0
/*
 * ACCMEM_IOC_RANGES: the device address ranges of an allocation (a
 * scattered one, a contiguous one), checked against the memory behind
 * them (debugfs), every bad input's errno, libaccmem's accmem_ranges();
 * and the sysfs attributes backend, page_size and flags against INFO.
 */
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"

/* Pages left free around the filler; half of them end up scattered. */
#define FREE_PAGES	32
/* Emulated memory: device address N lives in the 4 MiB block N / 4 MiB. */
#define EMU_BLOCK	(4 * SZ_1M)

static unsigned long ioc_sized(unsigned long cmd, size_t size)
{
	return _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), size);
}

FIXTURE(ranges)
{
	int fd;
	struct accmem_info info;
	__u64 pg;
	int h;			/* the scattered allocation, FREE_PAGES / 2 */
	__u64 dev_addr;		/* its ALLOC dev_addr */
	__u64 size;
	struct accmem_range r[FREE_PAGES];
	int n;			/* its ranges */
};

/*
 * A scattered allocation: the whole device but FREE_PAGES pages taken at
 * once, those pages taken one by one and every other one freed again. An
 * allocation of the freed pages can only be made of them, and the pages
 * still held lie between them.
 */
FIXTURE_SETUP(ranges)
{
	struct accmem_alloc a = { 0 };
	int single[FREE_PAGES], i;

	self->fd = accmem_open_idle();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, accmem_info(self->fd, &self->info));
	self->pg = self->info.page_size;
	ASSERT_LT(FREE_PAGES * self->pg, self->info.mem_free);

	ASSERT_LT(0, accmem_alloc(self->fd,
				  self->info.mem_free - FREE_PAGES * self->pg,
				  0, 0));
	for (i = 0; i < FREE_PAGES; i++) {
		single[i] = accmem_alloc(self->fd, self->pg, 0, 0);
		ASSERT_LT(0, single[i]);
	}
	for (i = 1; i < FREE_PAGES; i += 2)
		ASSERT_EQ(0, accmem_free(self->fd, single[i]));

	self->size = FREE_PAGES / 2 * self->pg;
	a.size = self->size;
	ASSERT_EQ(0, accmem_alloc_ext(self->fd, &a));
	self->h = a.handle;
	self->dev_addr = a.dev_addr;
	self->n = accmem_ranges(self->fd, self->h, self->r, FREE_PAGES);
	ASSERT_LT(0, self->n);
}

FIXTURE_TEARDOWN(ranges)
{
	close(self->fd);
	/* the whole device to scrub: minutes on a debug kernel */
	EXPECT_EQ(0, accmem_wait_idle(120));
}

static int cmp_addr(const void *a, const void *b)
{
	const struct accmem_range *x = a, *y = b;

	return x->dev_addr < y->dev_addr ? -1 : x->dev_addr > y->dev_addr;
}

/*
 * Several ranges, in buffer order, starting at ALLOC's dev_addr, adding up
 * to the size, page aligned, inside the device, none overlapping another
 * and none adjacent to the next one (those are merged).
 */
TEST_F(ranges, scattered)
{
	struct accmem_range sorted[FREE_PAGES];
	__u64 sum = 0;
	int i;

	EXPECT_LT(1, self->n);
	EXPECT_GE(FREE_PAGES / 2, self->n);
	EXPECT_EQ(self->dev_addr, self->r[0].dev_addr);
	for (i = 0; i < self->n; i++) {
		EXPECT_NE(0, self->r[i].length);
		EXPECT_EQ(0, self->r[i].dev_addr % self->pg);
		EXPECT_EQ(0, self->r[i].length % self->pg);
		EXPECT_GE(self->info.mem_size,
			  self->r[i].dev_addr + self->r[i].length);
		if (i)
			EXPECT_NE(self->r[i - 1].dev_addr +
				  self->r[i - 1].length, self->r[i].dev_addr);
		sum += self->r[i].length;
	}
	EXPECT_EQ(self->size, sum);

	memcpy(sorted, self->r, self->n * sizeof(sorted[0]));
	qsort(sorted, self->n, sizeof(sorted[0]), cmp_addr);
	for (i = 1; i < self->n; i++)
		EXPECT_LE(sorted[i - 1].dev_addr + sorted[i - 1].length,
			  sorted[i].dev_addr);
}

/* The device address of byte @off of the allocation, per its ranges. */
static __u64 dev_addr_of(const struct accmem_range *r, int n, __u64 off)
{
	int i;

	for (i = 0; i < n; i++) {
		if (off < r[i].length)
			return r[i].dev_addr + off;
		off -= r[i].length;
	}
	return ~0ULL;
}

/*
 * Each page of the allocation is where its range says: a pattern written
 * through the export's CPU mapping reads back, and the physical address
 * behind each page (debugfs) is the one of its device address: the BAR's
 * start plus it on PCI, the same offset inside a 4 MiB block when
 * emulated.
 */
TEST_F(ranges, memory_where_ranges_say)
{
	int pci = self->info.backend == ACCMEM_BACKEND_PCI;
	struct accmem_phys_range phys[FREE_PAGES];
	__u64 bar = 0, off, d, p;
	int dmabuf, np;
	char *map;

	if (pci)
		ASSERT_EQ(0, accmem_bar_start(self->info.mem_size, &bar));
	dmabuf = accmem_export(self->fd, self->h, 0, self->size,
			       O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dmabuf);
	map = accmem_mmap(dmabuf, self->size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, accmem_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
	for (off = 0; off < self->size; off += self->pg)
		*(__u64 *)(map + off) = dev_addr_of(self->r, self->n, off);
	ASSERT_EQ(0, accmem_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));

	np = accmem_buffer_ranges(self->dev_addr, phys, FREE_PAGES);
	ASSERT_LT(0, np);
	ASSERT_GE(FREE_PAGES, np);
	for (off = 0; off < self->size; off += self->pg) {
		d = dev_addr_of(self->r, self->n, off);
		p = accmem_range_phys(phys, np, off);
		ASSERT_NE(~0ULL, d);
		ASSERT_NE(~0ULL, p);
		EXPECT_EQ(d, *(__u64 *)(map + off));
		if (pci)
			EXPECT_EQ(bar + d, p);
		if (!pci)
			EXPECT_EQ(d % EMU_BLOCK, p % EMU_BLOCK);
	}
	munmap(map, self->size);
	close(dmabuf);
}

/*
 * Contiguous: one range, also when the allocator trimmed it from a larger
 * block (3, 5 pages: several blocks, adjacent, merged).
 */
TEST(contiguous_one_range)
{
	static const int pages[] = { 1, 3, 5, 16 };
	struct accmem_info info;
	struct accmem_range r[4];
	struct accmem_alloc a;
	unsigned int i;
	int fd;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_info(fd, &info));
	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		memset(&a, 0, sizeof(a));
		a.size = pages[i] * info.page_size;
		a.flags = ACCMEM_ALLOC_CONTIGUOUS;
		ASSERT_EQ(0, accmem_alloc_ext(fd, &a));
		EXPECT_EQ(1, accmem_ranges(fd, a.handle, r, 4));
		EXPECT_EQ(a.dev_addr, r[0].dev_addr);
		EXPECT_EQ(a.size, r[0].length);
	}
	close(fd);
	EXPECT_EQ(0, accmem_wait_idle(120));
}

/* The two calls: count, then the array; a larger array is fine. */
TEST_F(ranges, count_then_fill)
{
	struct accmem_range big[FREE_PAGES + 2];
	struct accmem_ranges q = { .handle = self->h };

	ASSERT_EQ(0, accmem_ioctl(self->fd, ACCMEM_IOC_RANGES, &q));
	EXPECT_EQ(self->n, q.count);
	EXPECT_EQ(self->n, accmem_ranges(self->fd, self->h, NULL, 0));

	memset(big, 0xa5, sizeof(big));
	q.count = FREE_PAGES + 2;
	q.ranges = (uintptr_t)big;
	ASSERT_EQ(0, accmem_ioctl(self->fd, ACCMEM_IOC_RANGES, &q));
	EXPECT_EQ(self->n, q.count);
	EXPECT_EQ(0, memcmp(big, self->r, self->n * sizeof(big[0])));
	/* nothing written beyond the ranges */
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, big[self->n].dev_addr);
}

/* Too small an array: -ERANGE, the count needed, the array untouched. */
TEST_F(ranges, array_too_small)
{
	struct accmem_range one = { .dev_addr = 7, .length = 9 };
	struct accmem_ranges q = {
		.handle = self->h, .count = 1, .ranges = (uintptr_t)&one,
	};

	ASSERT_LT(1, self->n);
	EXPECT_EQ(-ERANGE, accmem_ioctl(self->fd, ACCMEM_IOC_RANGES, &q));
	EXPECT_EQ(self->n, q.count);
	EXPECT_EQ(7, one.dev_addr);
	EXPECT_EQ(9, one.length);
	EXPECT_EQ(-ERANGE, accmem_ranges(self->fd, self->h, &one, 1));
}

TEST_F(ranges, bad_inputs)
{
	struct accmem_range arr[FREE_PAGES];
	struct accmem_ranges q;
	struct {
		struct accmem_ranges q;
		__u64 newer;
	} v;

#define Q(...) (q = (struct accmem_ranges){ __VA_ARGS__ }, &q)
	EXPECT_EQ(-EINVAL, accmem_ioctl(self->fd, ACCMEM_IOC_RANGES,
					Q(.handle = self->h, .flags = 1)));
	EXPECT_EQ(-EINVAL, accmem_ioctl(self->fd, ACCMEM_IOC_RANGES,
					Q(.handle = self->h, .flags = 1u << 31)));
	EXPECT_EQ(-EINVAL, accmem_ioctl(self->fd, ACCMEM_IOC_RANGES,
					Q(.handle = self->h, .pad = 1)));
	/* count and array go together */
	EXPECT_EQ(-EINVAL, accmem_ioctl(self->fd, ACCMEM_IOC_RANGES,
					Q(.handle = self->h, .count = 4)));
	EXPECT_EQ(-EINVAL, accmem_ioctl(self->fd, ACCMEM_IOC_RANGES,
					Q(.handle = self->h,
					  .ranges = (uintptr_t)arr)));
	/* an array wrapping around the address space */
	EXPECT_EQ(-EINVAL, accmem_ioctl(self->fd, ACCMEM_IOC_RANGES,
					Q(.handle = self->h, .count = 2,
					  .ranges = ~0ULL - 8)));
	/* a bad address */
	EXPECT_EQ(-EFAULT, accmem_ioctl(self->fd, ACCMEM_IOC_RANGES,
					Q(.handle = self->h, .count = FREE_PAGES,
					  .ranges = 8)));
	EXPECT_EQ(-EFAULT, accmem_ioctl(self->fd, ACCMEM_IOC_RANGES, NULL));
	/* handles */
	EXPECT_EQ(-ENOENT, accmem_ioctl(self->fd, ACCMEM_IOC_RANGES,
					Q(.handle = 0)));
	EXPECT_EQ(-ENOENT, accmem_ioctl(self->fd, ACCMEM_IOC_RANGES,
					Q(.handle = self->h + 1000)));
	/* sizes: shorter than the first version, longer with unknown bytes */
	EXPECT_EQ(-EINVAL, accmem_ioctl(self->fd,
					ioc_sized(ACCMEM_IOC_RANGES, 8),
					Q(.handle = self->h)));
	memset(&v, 0, sizeof(v));
	v.q.handle = self->h;
	EXPECT_EQ(0, accmem_ioctl(self->fd,
				  ioc_sized(ACCMEM_IOC_RANGES, sizeof(v)), &v));
	EXPECT_EQ(self->n, v.q.count);
	v.newer = 1;
	EXPECT_EQ(-EINVAL, accmem_ioctl(self->fd,
					ioc_sized(ACCMEM_IOC_RANGES, sizeof(v)),
					&v));
	/* the wrong direction is another command */
	EXPECT_EQ(-ENOTTY, accmem_ioctl(self->fd,
					_IOR(ACCMEM_IOC_MAGIC, 0x04,
					     struct accmem_ranges),
					Q(.handle = self->h)));
#undef Q
	/* a freed handle is gone */
	ASSERT_EQ(0, accmem_free(self->fd, self->h));
	EXPECT_EQ(-ENOENT, accmem_ranges(self->fd, self->h, arr, FREE_PAGES));
}

/* An observer (O_RDONLY) gets -EBADF, like for ALLOC, FREE and EXPORT. */
TEST_F(ranges, observer_ebadf)
{
	struct accmem_range arr[FREE_PAGES];
	int obs = accmem_open_observer(accmem_dev_path());

	ASSERT_LE(0, obs);
	EXPECT_EQ(-EBADF, accmem_ranges(obs, self->h, arr, FREE_PAGES));
	EXPECT_EQ(-EBADF, accmem_ranges(obs, self->h, NULL, 0));
	close(obs);
}

/*
 * backend, page_size and flags in sysfs say what INFO says, and reading
 * them opens nothing: the device stays idle.
 */
TEST(sysfs_matches_info)
{
	char backend[32], flags[128], expect[128] = "";
	struct accmem_info info;
	long long page_size;
	int obs;

	ASSERT_EQ(0, accmem_wait_idle(120));
	ASSERT_EQ(0, accmem_sysfs("backend", backend, sizeof(backend)));
	page_size = accmem_sysfs_num("page_size");
	ASSERT_EQ(0, accmem_sysfs("flags", flags, sizeof(flags)));
	EXPECT_EQ(ACCMEM_STATE_IDLE, accmem_state(accmem_dev_path()));

	obs = accmem_open_observer(accmem_dev_path());
	ASSERT_LE(0, obs);
	ASSERT_EQ(0, accmem_info(obs, &info));
	close(obs);

	EXPECT_STREQ(info.backend == ACCMEM_BACKEND_PCI ? "pci" : "emu",
		     backend);
	EXPECT_EQ((long long)info.page_size, page_size);
	if (info.flags & ACCMEM_INFO_P2P_ONLY)
		strcat(expect, "p2p_only");
	if (info.flags & ACCMEM_INFO_CPU_WC)
		strcat(expect, *expect ? " cpu_wc" : "cpu_wc");
	EXPECT_EQ(0, info.flags & ~(ACCMEM_INFO_P2P_ONLY | ACCMEM_INFO_CPU_WC));
	EXPECT_STREQ(expect, flags);
}

TEST_HARNESS_MAIN
