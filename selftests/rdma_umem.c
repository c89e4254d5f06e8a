// SPDX-License-Identifier: GPL-2.0
/*
 * accmem dma-bufs imported by the RDMA core's pinned import, the way an
 * RDMA NIC driver gets them (fixtures umem and umem_range): the
 * accmem_rdma_pinned test module calls
 * ib_umem_dmabuf_get_pinned_with_dma_device() on the soft-RoCE device rxe0
 * with a PCI device as DMA device, as a NIC driver does when user space
 * registers a dma-buf MR. The umem must cover exactly the requested range,
 * at the physical addresses accmem's debugfs lists for the buffer, and keep
 * the tenancy and its data alive after the tenant has gone, until it is
 * released, also when the device is reclaimed; then the next tenant finds
 * zeros. Kernels without that symbol
 * (before 6.12) skip these. User-space verbs are in rdma_verbs.c.
 *
 * rxe0 is set up when missing (accmem_rdma.h). ACCMEM_RDMA_PINNED names
 * the test module's .ko file (else modprobe).
 */
#include <stdbool.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"
#include "accmem_harness.h"
#include "accmem_rdma.h"
#include "rdma_pinned/accmem_rdma_pinned.h"

#define SEED		0x4d4a5eedu
#define SIZE		(8 * SZ_1M)
#define MAX_RANGES	64
#define RP_DEV		"/dev/accmem_rdma_pinned"
#define UMEM_SYMBOL	"ib_umem_dmabuf_get_pinned_with_dma_device"
/* where accmem_rdma_pinned has the RDMA path, it needs ib_uverbs */
#define RP_DEPS		"modprobe -q ib_uverbs 2>/dev/null;"

/*
 * Physical address of every page of the tenant's buffer, as accmem's
 * debugfs lists it. The memory never moves, so the addresses stay right
 * for as long as the buffer lives.
 */
static __u64 *buffer_pages(struct __test_metadata *_metadata,
			   const struct accmem_tenant *t)
{
	struct accmem_phys_range r[MAX_RANGES];
	__u64 *pages, i, npages = t->size / pgsz(), missing = 0;
	int n;

	n = accmem_buffer_ranges(t->dev_addr, r, MAX_RANGES);
	ASSERT_LT(0, n) {
		TH_LOG("no ranges in debugfs (mounted?): %d", n);
	}
	ASSERT_GE(MAX_RANGES, n);
	pages = calloc(npages, sizeof(*pages));
	ASSERT_NE(NULL, pages);
	for (i = 0; i < npages; i++) {
		pages[i] = accmem_range_phys(r, n, i * pgsz());
		missing += pages[i] == ~0ULL;
	}
	EXPECT_EQ(0, missing);
	return pages;
}

/* Creates a pinned umem; returns the import id or -errno. */
static int rp_import(int rp, int dmabuf, __u64 offset, __u64 length,
		     struct accmem_rp_import *out)
{
	struct accmem_rp_import a = {
		.fd = dmabuf, .offset = offset, .length = length, .ibdev = RXE,
	};
	int ret = accmem_ioctl(rp, ACCMEM_RP_IMPORT, &a);

	if (out)
		*out = a;
	return ret ? ret : (int)a.id;
}

static int rp_release(int rp, __u32 id)
{
	return accmem_ioctl(rp, ACCMEM_RP_RELEASE, &id);
}

/* Reads or writes the memory at the umem's DMA addresses, like the NIC. */
static int rp_rw(int rp, __u32 id, int write, __u64 off, void *buf,
		 __u64 len)
{
	struct accmem_rp_rw a = {
		.id = id, .write = write, .offset = off, .len = len,
		.buf = (uintptr_t)buf,
	};

	return accmem_ioctl(rp, ACCMEM_RP_RW, &a);
}

/*
 * The physical address behind every DMA block of the umem, in order; *n:
 * how many. Without an IOMMU the DMA addresses are the physical ones.
 */
static __u64 *umem_pages(struct __test_metadata *_metadata, int rp, __u32 id,
			 bool iommu, __u64 *n)
{
	struct accmem_rp_blocks b = { .id = id };
	struct accmem_rp_run *runs;
	__u64 *pages, total = 0, i, off;

	ASSERT_EQ(0, accmem_ioctl(rp, ACCMEM_RP_BLOCKS, &b));
	runs = calloc(b.count, sizeof(*runs));
	ASSERT_NE(NULL, runs);
	b.runs = (uintptr_t)runs;
	ASSERT_EQ(0, accmem_ioctl(rp, ACCMEM_RP_BLOCKS, &b));
	for (i = 0; i < b.count; i++)
		total += runs[i].len / pgsz();
	pages = calloc(total + 1, sizeof(*pages));
	ASSERT_NE(NULL, pages);
	*n = 0;
	for (i = 0; i < b.count; i++) {
		if (!iommu)
			EXPECT_EQ(runs[i].phys, runs[i].addr);
		for (off = 0; off < runs[i].len; off += pgsz())
			pages[(*n)++] = runs[i].phys + off;
	}
	free(runs);
	return pages;
}

/*
 * The umem is [@off, @off + @len) of the dma-buf: the RDMA block iterator
 * walks exactly the pages holding it, at the addresses of @buf_pages.
 */
static void check_umem(struct __test_metadata *_metadata, int rp,
		       const struct accmem_rp_import *a, const __u64 *buf_pages,
		       __u64 off, __u64 len)
{
	__u64 first = off / pgsz();
	__u64 last = (off + len + pgsz() - 1) / pgsz();
	__u64 *pages, n, i;

	EXPECT_EQ(off, a->umem_address);
	EXPECT_EQ(len, a->umem_length);
	EXPECT_EQ(last - first, a->nblocks);
	pages = umem_pages(_metadata, rp, a->id, a->iommu, &n);
	ASSERT_EQ(last - first, n);
	for (i = 0; i < n; i++) {
		if (pages[i] != buf_pages[first + i]) {
			EXPECT_EQ(buf_pages[first + i], pages[i]) {
				TH_LOG("block %llu of the umem", i);
			}
			break;
		}
	}
	free(pages);
}

/*
 * The setup of the fixtures umem and umem_range: brings up rxe0, loads
 * accmem_rdma_pinned, starts a tenant with a filled SIZE dma-buf and
 * records where its pages are. The test SKIPs where the RDMA core path
 * cannot run (a missing kernel feature) and fails on anything else.
 */
static void umem_start(struct __test_metadata *_metadata, int *rp,
		       struct accmem_tenant *t, __u64 **pages)
{
	char why[256];
	int ret, id;

	accmem_tenant_init(t);
	*rp = -1;
	ret = rxe_setup(why, sizeof(why));
	if (ret == -ENOENT)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) {
		TH_LOG("%s", why);
	}
	*rp = accmem_test_module_open(RP_DEV, "ACCMEM_RDMA_PINNED",
				      "accmem_rdma_pinned", RP_DEPS);
	ASSERT_LE(0, *rp) {
		TH_LOG("accmem_rdma_pinned test module missing: %s",
		       "ACCMEM_RDMA_PINNED=path.ko (needs ib_uverbs loaded)");
	}
	ASSERT_EQ(0, accmem_tenant_start(t, SIZE, ACCMEM_TENANT_CONTIGUOUS |
					 ACCMEM_TENANT_MAP |
					 ACCMEM_TENANT_FILL, SEED));

	id = rp_import(*rp, t->dmabuf, 0, pgsz(), NULL);
	if (id == -EOPNOTSUPP)
		SKIP(return, "this kernel does not export %s (6.12+)",
		     UMEM_SYMBOL);
	ASSERT_LT(0, id);
	EXPECT_EQ(0, rp_release(*rp, id));
	*pages = buffer_pages(_metadata, t);
}

/* Their teardown: nothing is left pinned or exported. */
static void umem_finish(struct __test_metadata *_metadata, int rp,
			struct accmem_tenant *t, __u64 *pages)
{
	accmem_set_param("max_pin_bytes", 0);
	if (rp >= 0)
		close(rp);
	accmem_tenant_leave(t);
	free(pages);
	EXPECT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
	EXPECT_EQ(0, accmem_sysfs_num("exports"));
}

FIXTURE(umem)
{
	int rp;
	struct accmem_tenant t;
	__u64 *pages;
};

FIXTURE_SETUP(umem)
{
	umem_start(_metadata, &self->rp, &self->t, &self->pages);
}

FIXTURE_TEARDOWN(umem)
{
	umem_finish(_metadata, self->rp, &self->t, self->pages);
}

TEST_F(umem, covers_dmabuf)
{
	struct accmem_rp_import a;
	int id;

	id = rp_import(self->rp, self->t.dmabuf, 0, SIZE, &a);
	ASSERT_LT(0, id);
	TH_LOG("%s imported through DMA device %s%s", RXE, a.dma_dev,
	       a.iommu ? ", behind an IOMMU" : "");
	check_umem(_metadata, self->rp, &a, self->pages, 0, SIZE);
	EXPECT_EQ(1, accmem_sysfs_num("pins"));
	EXPECT_EQ(0, rp_release(self->rp, id));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
}

TEST_F(umem, debugfs_names_dma_device)
{
	struct accmem_rp_import a;
	int id;

	id = rp_import(self->rp, self->t.dmabuf, 0, SIZE, &a);
	ASSERT_LT(0, id);
	EXPECT_EQ(1, accmem_buffers_lines("attachment", a.dma_dev, "pinned"));
	EXPECT_EQ(0, rp_release(self->rp, id));
}

TEST_F(umem, holds_tenancy)
{
	char *buf;
	int id;

	/* The seeds' scenario: an MR outlives tenant A. */
	id = rp_import(self->rp, self->t.dmabuf, 0, SIZE, NULL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, accmem_tenant_leave_held(&self->t));
	accmem_expect_draining(_metadata);
	EXPECT_EQ(1, accmem_sysfs_num("exports"));
	EXPECT_EQ(1, accmem_sysfs_num("pins"));
	EXPECT_EQ(SIZE, (__u64)accmem_sysfs_num("mem_used"));

	/* the NIC still finds A's data at the umem's DMA addresses... */
	buf = malloc(SIZE);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, rp_rw(self->rp, id, 0, 0, buf, SIZE));
	EXPECT_EQ(-1, accmem_check(buf, SIZE, SEED));
	/* ...and a late write lands in A's memory, nowhere else */
	memset(buf, 0xa5, SIZE);
	ASSERT_EQ(0, rp_rw(self->rp, id, 1, 0, buf, SIZE));
	free(buf);
	EXPECT_EQ(-EBUSY, accmem_open());

	/* the MR goes: scrub, idle, and tenant B finds zeros */
	EXPECT_EQ(0, rp_release(self->rp, id));
	ASSERT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("exports"));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
	accmem_expect_all_zero(_metadata);
}

/*
 * Reclaim cannot revoke the RDMA core's pinned umem (its attachment has no
 * invalidate_mappings): the NIC keeps the tenant's data untouched at its
 * DMA addresses, the device is reclaiming until the MR goes.
 */
TEST_F(umem, reclaim_keeps_pinned)
{
	char *buf, state[32];
	int id;

	id = rp_import(self->rp, self->t.dmabuf, 0, SIZE, NULL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, accmem_reclaim_write("1"));
	ASSERT_EQ(0, accmem_sysfs("state", state, sizeof(state)));
	EXPECT_STREQ("reclaiming", state);
	EXPECT_EQ(-EBUSY, accmem_open());
	EXPECT_EQ(1, accmem_sysfs_num("pins"));

	buf = malloc(SIZE);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, rp_rw(self->rp, id, 0, 0, buf, SIZE));
	EXPECT_EQ(-1, accmem_check(buf, SIZE, SEED));
	free(buf);

	EXPECT_EQ(0, rp_release(self->rp, id));
	ASSERT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
	accmem_expect_all_zero(_metadata);
}

TEST_F(umem, file_close_releases)
{
	int id;

	/* the process holding the MR dies: its file closes */
	id = rp_import(self->rp, self->t.dmabuf, 0, SIZE, NULL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, accmem_tenant_leave_held(&self->t));
	EXPECT_EQ(-EBUSY, accmem_open());
	ASSERT_EQ(0, close(self->rp));
	self->rp = -1;
	EXPECT_EQ(0, accmem_wait_idle(60));
}

TEST_F(umem, subrange_export)
{
	struct accmem_rp_import a;
	char *buf;
	int sub, id;

	/* a dma-buf of [2 MiB, 6 MiB), a umem of its [1 MiB, 2 MiB) */
	sub = accmem_export(self->t.fd, self->t.h, 2 * SZ_1M, 4 * SZ_1M,
			    O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, sub);
	id = rp_import(self->rp, sub, SZ_1M, SZ_1M, &a);
	ASSERT_LT(0, id);
	check_umem(_metadata, self->rp, &a, self->pages + 2 * SZ_1M / pgsz(),
		   SZ_1M, SZ_1M);

	/* it is bytes [3 MiB, 4 MiB) of the allocation */
	buf = malloc(SZ_1M);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, rp_rw(self->rp, id, 0, 0, buf, SZ_1M));
	EXPECT_EQ(0, memcmp(buf, self->t.map + 3 * SZ_1M, SZ_1M));
	free(buf);
	EXPECT_EQ(0, rp_release(self->rp, id));
	close(sub);
}

TEST_F(umem, outside_dmabuf_refused)
{
	EXPECT_EQ(-EINVAL, rp_import(self->rp, self->t.dmabuf,
				     SIZE - pgsz(), 2 * pgsz(), NULL));
	EXPECT_EQ(-EINVAL, rp_import(self->rp, self->t.dmabuf, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, rp_import(self->rp, self->t.dmabuf,
				     ~0ULL - pgsz() + 1, 2 * pgsz(), NULL));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
	EXPECT_EQ(1, accmem_sysfs_num("exports"));
}

TEST_F(umem, pin_limit)
{
	int id;

	/* what ibv_reg_dmabuf_mr() reports beyond the tenant's pin limit */
	ASSERT_EQ(0, accmem_set_param("max_pin_bytes", SIZE / 2));
	EXPECT_EQ(-EDQUOT, rp_import(self->rp, self->t.dmabuf, 0, SIZE, NULL));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
	ASSERT_EQ(0, accmem_set_param("max_pin_bytes", 0));
	id = rp_import(self->rp, self->t.dmabuf, 0, SIZE, NULL);
	EXPECT_LT(0, id);
	EXPECT_EQ(0, rp_release(self->rp, id));
}

FIXTURE(umem_range)
{
	int rp;
	struct accmem_tenant t;
	__u64 *pages;
};

FIXTURE_VARIANT(umem_range)
{
	__u64 offset;
	__u64 length;
};

FIXTURE_VARIANT_ADD(umem_range, first_page)
{
	.offset = 0,
	.length = 4096,
};

FIXTURE_VARIANT_ADD(umem_range, last_page)
{
	.offset = SIZE - 4096,
	.length = 4096,
};

/* PCI DMA devices take 64 KiB segments: start and end inside one */
FIXTURE_VARIANT_ADD(umem_range, inside_segment)
{
	.offset = 68 * 1024,
	.length = 8192,
};

FIXTURE_VARIANT_ADD(umem_range, across_segments)
{
	.offset = 60 * 1024,
	.length = 72 * 1024,
};

/* across the emulated backend's 4 MiB blocks */
FIXTURE_VARIANT_ADD(umem_range, across_blocks)
{
	.offset = 4 * SZ_1M - 8192,
	.length = 16384,
};

/* an offset inside a page: the umem holds the pages around the range */
FIXTURE_VARIANT_ADD(umem_range, unaligned)
{
	.offset = 4096 + 100,
	.length = 8192,
};

FIXTURE_SETUP(umem_range)
{
	umem_start(_metadata, &self->rp, &self->t, &self->pages);
}

FIXTURE_TEARDOWN(umem_range)
{
	umem_finish(_metadata, self->rp, &self->t, self->pages);
}

TEST_F(umem_range, covers_range)
{
	struct accmem_rp_import a;
	int id;

	id = rp_import(self->rp, self->t.dmabuf, variant->offset,
		       variant->length, &a);
	ASSERT_LT(0, id);
	check_umem(_metadata, self->rp, &a, self->pages, variant->offset,
		   variant->length);
	EXPECT_EQ(0, rp_release(self->rp, id));
}

TEST_F(umem_range, dma_reaches_range)
{
	__u64 in_page = variant->offset % pgsz();
	char *buf;
	int id;

	id = rp_import(self->rp, self->t.dmabuf, variant->offset,
		       variant->length, NULL);
	ASSERT_LT(0, id);
	buf = malloc(variant->length);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, rp_rw(self->rp, id, 0, in_page, buf, variant->length));
	EXPECT_EQ(0, memcmp(buf, self->t.map + variant->offset,
			    variant->length));
	/* past the umem's last block: nothing to reach */
	EXPECT_EQ(-EINVAL, rp_rw(self->rp, id, 0,
				 in_page + variant->length + pgsz(), buf, 1));
	free(buf);
	EXPECT_EQ(0, rp_release(self->rp, id));
}

TEST_HARNESS_MAIN
