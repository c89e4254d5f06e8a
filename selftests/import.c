// SPDX-License-Identifier: GPL-2.0
/*
 * accmem dma-bufs seen by an importer (the accmem_importer test module):
 * static, dynamic+pin (RDMA MR style) and dynamic+move_notify attachments;
 * scatterlists that cover exactly the exported range in maximal segments
 * bounded by the importer's max segment size, at the physical addresses
 * accmem's debugfs lists for the buffer (unless an IOMMU translates);
 * importer CPU access, and the importer's timed fill of a range with the
 * scrub's routine (ACCMEM_IMP_FILL, for the benchmark); pin and export
 * accounting and limits; debugfs and
 * accmemctl naming the importer; importers taking page references
 * (emulated memory); the p2p_policy and pci_vmap parameters; a map of
 * more than 262144 segments (on a 1 GiB emulated device the test loads
 * itself; a sixteenth of that where ACCMEM_SCALE is 25).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"
#include "accmem_imp.h"

#define SEED 0x1badcafeu
#define SIZE (8 * SZ_1M)
#define MAX_RANGES 64
/* ACCMEM_MAX_SEGMENT: below 2 GiB, page aligned */
#define CAP ((1ULL << 31) - 4096)

/* Where a buffer's memory is, from accmem's debugfs. */
struct ranges {
	struct accmem_phys_range r[MAX_RANGES];
	int n;
};

/* How debugfs names the importing device: see accmem_importer's pci_dev. */
static const char *importer_name(void)
{
	static char name[64];
	const char *ko = getenv("ACCMEM_IMPORTER");
	const char *p = ko ? strstr(ko, "pci_dev=") : NULL;

	if (!p)
		return "accmem-importer";
	snprintf(name, sizeof(name), "%s", p + 8);
	name[strcspn(name, " ")] = 0;
	return name;
}

static int imp_sg(int imp, __u32 id, struct accmem_imp_seg *segs, __u32 n)
{
	struct accmem_imp_sg a = {
		.id = id, .count = n, .segs = (uintptr_t)segs,
	};
	int ret = accmem_ioctl(imp, ACCMEM_IMP_GET_SG, &a);

	return ret ? ret : (int)a.count;
}

/* The accmem_importer test module, and what its imports showed. */
struct importer {
	int fd;
	int iommu;	/* its DMA is translated (a vIOMMU run) */
};

FIXTURE(import)
{
	int pci;	/* PCI BAR backend: P2P importers only, no pages */
	__u64 bar;	/* its BAR's physical start */
	struct importer imp;
	struct accmem_tenant t;	/* a contiguous allocation, mapped */
	struct ranges mem;	/* where its memory is */
};

/*
 * accmem_tenant_start() with pci_vmap=allow for its export: the test
 * importer reads and writes through dma_buf_vmap(), and handles the I/O
 * map of PCI BAR memory (iosys_map). The parameter is put back at once: it
 * is read when a dma-buf is exported.
 */
static int tenant_start_vmap(struct accmem_tenant *t, __u64 size,
			     unsigned int how, __u32 seed)
{
	char old[32];
	int ret, ret2;

	ret = accmem_pci_vmap_allow(old, sizeof(old));
	if (ret)
		return ret;
	ret = accmem_tenant_start(t, size, how, seed);
	ret2 = accmem_set_param_str("pci_vmap", old);
	return ret ?: ret2;
}

FIXTURE_SETUP(import)
{
	accmem_tenant_init(&self->t);
	self->imp.fd = accmem_imp_open();
	ASSERT_LE(0, self->imp.fd) {
		TH_LOG("accmem_importer test module missing: %s",
		       "make test-modules; ACCMEM_IMPORTER=path.ko");
	}
	ASSERT_EQ(0, tenant_start_vmap(&self->t, SIZE,
				       ACCMEM_TENANT_CONTIGUOUS |
				       ACCMEM_TENANT_MAP | ACCMEM_TENANT_FILL,
				       SEED));
	self->pci = self->t.info.backend == ACCMEM_BACKEND_PCI;
	if (self->pci)
		ASSERT_EQ(0, accmem_bar_start(self->t.info.mem_size,
					      &self->bar));
	self->mem.n = accmem_buffer_ranges(self->t.dev_addr, self->mem.r,
					   MAX_RANGES);
	ASSERT_LT(0, self->mem.n) {
		TH_LOG("no ranges in debugfs (mounted?): %d", self->mem.n);
	}
	ASSERT_GE(MAX_RANGES, self->mem.n);
}

/* p2p_policy before p2p_policy_param changed it ("" if untouched) */
static char saved_p2p[32];

FIXTURE_TEARDOWN(import)
{
	if (saved_p2p[0])
		accmem_write_file("/sys/module/accmem/parameters/p2p_policy",
				  saved_p2p);
	accmem_set_param("max_pin_bytes", 0);
	accmem_set_param("max_export_bytes", 0);
	close(self->imp.fd);
	accmem_tenant_leave(&self->t);
	EXPECT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
	EXPECT_EQ(0, accmem_sysfs_num("exports"));
}

/*
 * Imports @dmabuf as ACCMEM_IMP_@mode with segments of at most @max_seg
 * (0: the importer's 2 GiB) and notes whether the importer is behind an IOMMU; returns
 * the import id or -errno; fills @out if not NULL.
 */
static int imp_import(struct importer *imp, int dmabuf, __u32 mode,
		      __u64 max_seg, struct accmem_imp_import *out)
{
	struct accmem_imp_import a;
	int ret = accmem_imp_import(imp->fd, dmabuf, mode, max_seg, &a);

	if (ret >= 0)
		imp->iommu = a.iommu;
	if (out)
		*out = a;
	return ret;
}

/*
 * The table covers exactly @len bytes from @off of the buffer in
 * page-aligned segments of at most @max_seg, each merged as far as
 * physical contiguity and @max_seg allow. Without an IOMMU, DMA addresses
 * are the memory's physical addresses as debugfs lists them: pages of RAM
 * (emulated) or inside the BAR (PCI).
 */
static void check_segments(struct __test_metadata *_metadata,
			   const struct ranges *mem, const struct importer *imp,
			   const struct accmem_imp_seg *s, int n, __u64 off,
			   __u64 len, __u64 max_seg)
{
	__u64 phys, next, pos = off;
	int i;

	for (i = 0; i < n; i++) {
		EXPECT_EQ(0, s[i].addr % 4096);
		EXPECT_EQ(0, s[i].len % 4096);
		EXPECT_GE(max_seg, s[i].len);
		EXPECT_LT(0, s[i].len);
		phys = accmem_range_phys(mem->r, mem->n, pos);
		pos += s[i].len;
		if (imp->iommu)
			continue;
		/* no IOMMU: DMA addresses are the memory's */
		EXPECT_EQ(phys, s[i].addr) {
			TH_LOG("segment %d, buffer offset %#llx", i,
			       pos - s[i].len);
		}
		next = accmem_range_phys(mem->r, mem->n, pos);
		if (i + 1 < n && phys + s[i].len == next)
			EXPECT_EQ(max_seg, s[i].len);
	}
	EXPECT_EQ(off + len, pos);
}

/*
 * debugfs lists where the buffer's memory is: page-aligned ranges, each
 * maximal, that cover the buffer in order; on the PCI backend the BAR's
 * start plus the device address (the BAR from sysfs, not from accmem).
 */
TEST_F(import, debugfs_ranges)
{
	const struct accmem_phys_range *r = self->mem.r;
	__u64 off = 0;
	int i;

	for (i = 0; i < self->mem.n; i++) {
		EXPECT_EQ(off, r[i].offset);
		EXPECT_EQ(0, r[i].phys % 4096);
		EXPECT_EQ(0, r[i].len % 4096);
		EXPECT_LT(0, r[i].len);
		if (i)
			EXPECT_NE(r[i - 1].phys + r[i - 1].len, r[i].phys);
		if (self->pci)
			EXPECT_EQ(self->bar + self->t.dev_addr + off, r[i].phys);
		off += r[i].len;
	}
	EXPECT_EQ(self->t.size, off);
	/* contiguous per 4 MiB block at least (emulated), or all (BAR) */
	EXPECT_GE(self->pci ? 1 : 2, self->mem.n);
}

TEST_F(import, static_attach_segments)
{
	struct accmem_imp_import info;
	struct accmem_imp_seg segs[64];
	int id, n;

	if (self->pci) {
		/* BAR memory: a non-P2P importer is refused, loudly */
		EXPECT_EQ(-EOPNOTSUPP, imp_import(&self->imp, self->t.dmabuf,
						  ACCMEM_IMP_STATIC, SZ_1M,
						  NULL));
		EXPECT_EQ(0, accmem_sysfs_num("pins"));
		return;
	}
	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_STATIC, SZ_1M,
			&info);
	ASSERT_LT(0, id);
	EXPECT_EQ(self->t.size, info.size);
	n = imp_sg(self->imp.fd, id, segs, 64);
	ASSERT_LT(0, n);
	EXPECT_EQ(info.nents, n);
	/* 8 MiB in segments of at most 1 MiB: exactly 8 */
	EXPECT_EQ(8, n);
	check_segments(_metadata, &self->mem, &self->imp, segs, n,
		       0, self->t.size, SZ_1M);
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
}

/*
 * The DMA addresses match the memory's physical addresses (debugfs) exactly
 * when no IOMMU translates for the importer; behind an IOMMU they are IOVAs.
 */
TEST_F(import, dma_addresses)
{
	struct accmem_imp_import info;
	struct accmem_imp_seg segs[64];
	__u64 off = 0;
	int id, n, i, same = 0;

	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, SZ_1M,
			&info);
	ASSERT_LT(0, id);
	n = imp_sg(self->imp.fd, id, segs, 64);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++) {
		same += segs[i].addr == accmem_range_phys(self->mem.r,
							  self->mem.n, off);
		off += segs[i].len;
	}
	TH_LOG("%s importer: %d of %d segments at their physical address",
	       info.iommu ? "IOMMU-translated" : "direct", same, n);
	EXPECT_EQ(info.iommu ? 0 : n, same);
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
}

TEST_F(import, large_segments_merge)
{
	struct accmem_imp_seg segs[64];
	int id, n;

	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	ASSERT_LT(0, id);
	n = imp_sg(self->imp.fd, id, segs, 64);
	ASSERT_LT(0, n);
	/* contiguous per 4 MiB block at least (emulated), or all (BAR) */
	EXPECT_GE(self->pci ? 1 : 2, n);
	check_segments(_metadata, &self->mem, &self->imp, segs, n,
		       0, self->t.size, CAP);
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
}

TEST_F(import, small_max_segment)
{
	struct accmem_imp_seg *segs;
	int id, n, want = self->t.size / 65536;

	segs = calloc(want + 1, sizeof(*segs));
	ASSERT_NE(NULL, segs);
	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 65536,
			NULL);
	ASSERT_LT(0, id);
	n = imp_sg(self->imp.fd, id, segs, want + 1);
	EXPECT_EQ(want, n);
	check_segments(_metadata, &self->mem, &self->imp, segs, n,
		       0, self->t.size, 65536);
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
	free(segs);
}

TEST_F(import, subrange_export)
{
	struct accmem_imp_seg segs[64];
	__u8 *buf;
	int sub, id, n;

	sub = accmem_export_vmap(self->t.fd, self->t.h, 3 * SZ_1M, 2 * SZ_1M,
				 O_RDWR);
	ASSERT_LE(0, sub);
	id = imp_import(&self->imp, sub, ACCMEM_IMP_DYN_PIN, SZ_1M, NULL);
	ASSERT_LT(0, id);
	n = imp_sg(self->imp.fd, id, segs, 64);
	EXPECT_EQ(2, n);
	check_segments(_metadata, &self->mem, &self->imp, segs, n,
		       3 * SZ_1M, 2 * SZ_1M, SZ_1M);

	/* the importer's view is exactly bytes [3 MiB, 5 MiB) */
	buf = malloc(2 * SZ_1M);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, accmem_imp_rw(self->imp.fd, id, 0, 0, buf, 2 * SZ_1M));
	EXPECT_EQ(0, memcmp(buf, (__u8 *)self->t.map + 3 * SZ_1M, 2 * SZ_1M));
	free(buf);
	close(sub);
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
}

TEST_F(import, importer_writes_cpu_reads)
{
	char msg[] = "written by the importer";
	char back[sizeof(msg)];
	int id;

	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, accmem_imp_rw(self->imp.fd, id, 1, 4096, msg, sizeof(msg)));
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(0, memcmp((char *)self->t.map + 4096, msg, sizeof(msg)));
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	ASSERT_EQ(0, accmem_imp_rw(self->imp.fd, id, 0, 4096, back, sizeof(back)));
	EXPECT_EQ(0, memcmp(back, msg, sizeof(msg)));
	EXPECT_EQ(-EINVAL, accmem_imp_rw(self->imp.fd, id, 0, self->t.size, back, 1));
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
}

/*
 * ACCMEM_IMP_FILL zeroes exactly its range through the importer's kernel
 * mapping (memset_io() on PCI BAR memory, memset() on RAM), reports the
 * time it took, and refuses what is not a range of the dma-buf.
 */
TEST_F(import, importer_fill_zeroes_range)
{
	const __u64 off = 4096, len = 2 * SZ_1M + 4096;
	struct accmem_imp_fill a;
	unsigned char *p = (unsigned char *)self->t.map;
	__u64 i, ns = 0, nonzero = 0;
	int id;

	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
	memset(p, 0xa5, self->t.size);
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));

	ASSERT_EQ(0, accmem_imp_fill(self->imp.fd, id, off, len, &ns));
	EXPECT_LT(0, ns);
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	for (i = off; i < off + len; i++)
		nonzero += p[i] != 0;
	EXPECT_EQ(0, nonzero);
	EXPECT_EQ(0xa5, p[off - 1]);
	EXPECT_EQ(0xa5, p[off + len]);
	EXPECT_EQ(0xa5, p[self->t.size - 1]);
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));

	/* the routine: memset_io() exactly where the memory is I/O memory */
	memset(&a, 0, sizeof(a));
	a.id = id;
	a.len = 4096;
	ASSERT_EQ(0, accmem_ioctl(self->imp.fd, ACCMEM_IMP_FILL, &a));
	EXPECT_EQ(self->pci, a.iomem);

	EXPECT_EQ(-EINVAL, accmem_imp_fill(self->imp.fd, id, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, accmem_imp_fill(self->imp.fd, id, 4096,
					   self->t.size, NULL));
	EXPECT_EQ(-EINVAL, accmem_imp_fill(self->imp.fd, id, ~0ULL, 2, NULL));
	a.flags = 1;
	EXPECT_EQ(-EINVAL, accmem_ioctl(self->imp.fd, ACCMEM_IMP_FILL, &a));
	a.flags = 0;
	a.pad = 1;
	EXPECT_EQ(-EINVAL, accmem_ioctl(self->imp.fd, ACCMEM_IMP_FILL, &a));
	EXPECT_EQ(-ENOENT, accmem_imp_fill(self->imp.fd, id + 1000, 0, 4096,
					   NULL));
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
}

/* Maps import @id through the importer's file (dma_buf_mmap()). */
static void *imp_mmap(int imp, int id, size_t len, int prot)
{
	return mmap(NULL, len, prot, MAP_SHARED, imp,
		    (off_t)id * sysconf(_SC_PAGESIZE));
}

/*
 * A read-only export stays read-only when an importer maps it for user
 * space (dma_buf_mmap(), with a vma of the importer's writable file): no
 * writable mapping, and no mprotect() to writable later. An O_RDWR export
 * can be mapped writable that way.
 */
TEST_F(import, readonly_export_importer_mmap)
{
	size_t len = self->t.size;
	int ro, id, rw_id;
	char *p;

	rw_id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0,
			   NULL);
	ASSERT_LT(0, rw_id);
	p = imp_mmap(self->imp.fd, rw_id, len, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p) {
		TH_LOG("importer mmap of an O_RDWR export: %s", strerror(errno));
	}
	p[4096] = 0x5a;
	/* drain the write-combining buffer (PCI) before the other mapping */
	__sync_synchronize();
	EXPECT_EQ(0x5a, self->t.map[4096]);
	munmap(p, len);

	ro = accmem_export(self->t.fd, self->t.h, 0, len, O_CLOEXEC);
	ASSERT_LE(0, ro);
	id = imp_import(&self->imp, ro, ACCMEM_IMP_DYN_PIN, 0, NULL);
	ASSERT_LT(0, id);
	EXPECT_EQ(MAP_FAILED, imp_mmap(self->imp.fd, id, len,
				       PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	p = imp_mmap(self->imp.fd, id, len, PROT_READ);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0x5a, p[4096]);
	EXPECT_EQ(-1, mprotect(p, len, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(p, len);
	/* and mmap(2) of the dma-buf itself, as before */
	p = accmem_mmap(ro, len, PROT_READ);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, len, PROT_READ | PROT_WRITE));
	munmap(p, len);
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, rw_id));
	close(ro);
}

TEST_F(import, pins_counted)
{
	struct accmem_imp_state st = { 0 };
	int a, b;

	a = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	ASSERT_LT(0, a);
	EXPECT_EQ(1, accmem_sysfs_num("pins"));
	st.id = a;
	ASSERT_EQ(0, accmem_ioctl(self->imp.fd, ACCMEM_IMP_STATE, &st));
	EXPECT_EQ(1, st.pinned);
	b = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	ASSERT_LT(0, b);
	EXPECT_EQ(2, accmem_sysfs_num("pins"));
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, a));
	EXPECT_EQ(1, accmem_sysfs_num("pins"));
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, b));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
}

TEST_F(import, move_notify_never_called)
{
	struct accmem_imp_state st = { 0 };
	struct accmem_imp_seg segs[64];
	int id, n;

	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_MOVE, 0, NULL);
	ASSERT_LT(0, id);
	n = imp_sg(self->imp.fd, id, segs, 64);
	ASSERT_LT(0, n);
	check_segments(_metadata, &self->mem, &self->imp, segs, n,
		       0, self->t.size, CAP);
	/* the memory never moves: nothing to invalidate, ever */
	EXPECT_EQ(0, accmem_free(self->t.fd, self->t.h));
	st.id = id;
	ASSERT_EQ(0, accmem_ioctl(self->imp.fd, ACCMEM_IMP_STATE, &st));
	EXPECT_EQ(0, st.moves);
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
}

TEST_F(import, importer_holds_tenancy)
{
	__u8 *buf;
	int id;

	/* The seeds' scenario: an MR-like pinned import outlives tenant A. */
	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, accmem_tenant_leave_held(&self->t));
	EXPECT_EQ(-EBUSY, accmem_open());
	EXPECT_EQ(1, accmem_sysfs_num("exports"));
	EXPECT_EQ(self->t.size, (__u64)accmem_sysfs_num("mem_used"));
	buf = malloc(self->t.size);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, accmem_imp_rw(self->imp.fd, id, 0, 0, buf, self->t.size));
	EXPECT_EQ(-1, accmem_check(buf, self->t.size, SEED));
	EXPECT_EQ(-EBUSY, accmem_open());

	/* the importer lets go: scrub, idle, and tenant B sees zeros */
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
	ASSERT_EQ(0, accmem_wait_idle(60));
	ASSERT_EQ(0, tenant_start_vmap(&self->t, SIZE,
				       ACCMEM_TENANT_CONTIGUOUS, 0));
	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, accmem_imp_rw(self->imp.fd, id, 0, 0, buf, self->t.size));
	EXPECT_EQ(-1, accmem_check_zero(buf, self->t.size));
	free(buf);
}

TEST_F(import, pin_limit)
{
	int id;

	ASSERT_EQ(0, accmem_set_param("max_pin_bytes", self->t.size / 2));
	EXPECT_EQ(-EDQUOT, imp_import(&self->imp, self->t.dmabuf,
				      ACCMEM_IMP_DYN_PIN, 0, NULL));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
	ASSERT_EQ(0, accmem_set_param("max_pin_bytes", self->t.size));
	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	ASSERT_LT(0, id);
	EXPECT_EQ(-EDQUOT, imp_import(&self->imp, self->t.dmabuf,
				      ACCMEM_IMP_DYN_PIN, 0, NULL));
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	EXPECT_LT(0, id);
}

TEST_F(import, export_limit)
{
	int a, b;

	/* the fixture's dma-buf already counts */
	ASSERT_EQ(0, accmem_set_param("max_export_bytes", self->t.size + SZ_1M));
	a = accmem_export(self->t.fd, self->t.h, 0, SZ_1M, 0);
	EXPECT_LE(0, a);
	EXPECT_EQ(-EDQUOT, accmem_export(self->t.fd, self->t.h, 0, 4096, 0));
	close(a);
	b = accmem_export(self->t.fd, self->t.h, SZ_1M, SZ_1M, 0);
	EXPECT_LE(0, b);
	close(b);
}

TEST_F(import, debugfs_names_importer)
{
	int id;

	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	ASSERT_LT(0, id);
	EXPECT_EQ(1, accmem_buffers_lines("buffer handle", "contiguous", NULL));
	EXPECT_EQ(1, accmem_buffers_lines("attachment", importer_name(),
					  "pinned"));
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
}

TEST_F(import, accmemctl_status)
{
	const char *ctl = getenv("ACCMEMCTL");
	char cmd[512], out[4096];
	size_t n;
	FILE *p;
	int id;

	ASSERT_NE(NULL, ctl) {
		TH_LOG("set ACCMEMCTL to the accmemctl binary");
	}
	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	ASSERT_LT(0, id);
	snprintf(cmd, sizeof(cmd), "%s status accmem0", ctl);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	EXPECT_EQ(0, pclose(p));
	TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "accmem0: owned"));
	EXPECT_NE(NULL, strstr(out, "exports 1 live, 1 pinned"));
	EXPECT_NE(NULL, strstr(out, importer_name()));
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
}

/*
 * Importers that hold page references (get_page()/put_page() on the pages
 * of their table) must find every page of emulated memory referenced:
 * the high-order blocks are compound pages, whose tail pages share the
 * head's count. Pages of a plain high-order block but the first have
 * count 0, and the put_page() would free them under the exporter.
 */
TEST_F(import, page_refs)
{
	struct accmem_imp_page_refs a;
	int i;

	if (self->pci)
		SKIP(return, "PCI BAR memory has no struct pages");
	for (i = 0; i < self->mem.n; i++) {
		a = (struct accmem_imp_page_refs){
			.phys = self->mem.r[i].phys, .len = self->mem.r[i].len,
		};
		ASSERT_EQ(0, accmem_ioctl(self->imp.fd, ACCMEM_IMP_PAGE_REFS,
					  &a));
		EXPECT_EQ(0, a.zero) {
			TH_LOG("range %d: %llu of %llu pages with count 0", i,
			       a.zero, self->mem.r[i].len / 4096);
		}
		EXPECT_EQ(self->mem.r[i].len / 4096, a.taken);
	}
	EXPECT_EQ(-1, accmem_check(self->t.map, self->t.size, SEED));
}

#define P2P_PARAM "/sys/module/accmem/parameters/p2p_policy"

/*
 * p2p_policy is an enumeration: "host\n" (echo) is "host", an unknown
 * value is refused with EINVAL and changes nothing, "deny" refuses P2P
 * importers of PCI memory (emulated memory does not ask).
 */
TEST_F(import, p2p_policy_param)
{
	char old[32], now[32];
	int id;

	ASSERT_EQ(0, accmem_read_file(P2P_PARAM, old, sizeof(old)));
	snprintf(saved_p2p, sizeof(saved_p2p), "%s", old);
	EXPECT_EQ(0, accmem_write_file(P2P_PARAM, "host\n"));
	ASSERT_EQ(0, accmem_read_file(P2P_PARAM, now, sizeof(now)));
	EXPECT_STREQ("host", now);
	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	EXPECT_LT(0, id);
	if (id > 0)
		EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));

	EXPECT_EQ(-EINVAL, accmem_write_file(P2P_PARAM, "hots\n"));
	EXPECT_EQ(-EINVAL, accmem_write_file(P2P_PARAM, "host deny"));
	ASSERT_EQ(0, accmem_read_file(P2P_PARAM, now, sizeof(now)));
	EXPECT_STREQ("host", now);

	EXPECT_EQ(0, accmem_write_file(P2P_PARAM, "deny"));
	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	if (self->pci) {
		EXPECT_EQ(-EOPNOTSUPP, id);
	} else {
		EXPECT_LT(0, id);
		if (id > 0)
			EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
	}
	EXPECT_EQ(0, accmem_write_file(P2P_PARAM, old));
	ASSERT_EQ(0, accmem_read_file(P2P_PARAM, now, sizeof(now)));
	EXPECT_STREQ(old, now);
}

/*
 * pci_vmap: "deny" by default, and then an importer's dma_buf_vmap() of a
 * dma-buf of PCI BAR memory fails with EINVAL (the dma-buf has no vmap
 * operation: no exporter error, so no warning in the kernel log), while the
 * import itself (attach, pin, map) works; "allow" applies to dma-bufs
 * exported afterwards (the fixture's), a change does not reach back.
 * Emulated memory (pages) is always vmapped. The parameter is an
 * enumeration: "allow\n" (echo) is "allow", unknown values are refused
 * with EINVAL and change nothing.
 */
TEST_F(import, pci_vmap_param)
{
	struct accmem_imp_import a;
	char old[32], now[32];
	__u32 word;
	int d, id, ret;

	ASSERT_EQ(0, accmem_get_param_str("pci_vmap", old, sizeof(old)));
	EXPECT_STREQ("deny", old);
	EXPECT_EQ(0, accmem_set_param_str("pci_vmap", "allow\n"));
	ASSERT_EQ(0, accmem_get_param_str("pci_vmap", now, sizeof(now)));
	EXPECT_STREQ("allow", now);
	EXPECT_EQ(-EINVAL, accmem_set_param_str("pci_vmap", "permit\n"));
	EXPECT_EQ(-EINVAL, accmem_set_param_str("pci_vmap", "allow deny"));
	EXPECT_EQ(-EINVAL, accmem_set_param_str("pci_vmap", "1"));
	ASSERT_EQ(0, accmem_get_param_str("pci_vmap", now, sizeof(now)));
	EXPECT_STREQ("allow", now);
	ASSERT_EQ(0, accmem_set_param_str("pci_vmap", "deny"));
	ASSERT_EQ(0, accmem_get_param_str("pci_vmap", now, sizeof(now)));
	EXPECT_STREQ("deny", now);

	/* exported under deny: imported fine, vmapped only if RAM */
	d = accmem_export(self->t.fd, self->t.h, 0, self->t.size, O_RDWR);
	ASSERT_LE(0, d);
	id = imp_import(&self->imp, d, ACCMEM_IMP_DYN_PIN, 0, &a);
	ASSERT_LT(0, id);
	EXPECT_LT(0, a.nents);
	word = 0;
	ret = accmem_imp_rw(self->imp.fd, id, 0, 0, &word, sizeof(word));
	if (self->pci) {
		EXPECT_EQ(-EINVAL, ret);
	} else {
		EXPECT_EQ(0, ret);
		EXPECT_EQ(SEED, word);
	}
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
	close(d);

	/* the fixture's dma-buf, exported under allow, is still vmapped */
	id = imp_import(&self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN, 0,
			NULL);
	ASSERT_LT(0, id);
	word = 0;
	EXPECT_EQ(0, accmem_imp_rw(self->imp.fd, id, 0, 0, &word,
				   sizeof(word)));
	EXPECT_EQ(SEED, word);
	EXPECT_EQ(0, accmem_imp_release(self->imp.fd, id));
	EXPECT_EQ(0, accmem_set_param_str("pci_vmap", old));
	/* the teardown checks that the device goes idle, nothing pinned */
}

static int run(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* MemAvailable in bytes, 0 if unknown. */
static __u64 mem_available(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/*
 * 263168 pages: one more 4 MiB than 1 GiB, so that an export cut into
 * pages has more than 262144 segments: 16 bytes each, the arrays of the
 * mapping exceed the largest kmalloc() (4 MiB) and need kvmalloc().
 */
#define BIG_PAGES (263168ULL)
/*
 * Scaled down twice (ACCMEM_SCALE: 25 on the debug lanes, so 1/16 there:
 * 16448 segments, 64 MiB), where DMA-API debug records every segment
 * with a stack trace: the map and the unmap of 65792 segments took 38 s
 * each on the 7.3 debug kernel, 0.6 ms a segment. Never below 16448
 * pages: a scatterlist chained across many pages still. The kvmalloc()
 * crossing of more than 262144 segments is covered on those kernels by
 * KUnit's accmem_sg_many_segments (through the same
 * accmem_mapping_create()), and end to end on the stock lanes.
 */
#define BIG_MIN_PAGES (16384ULL + 64)

/* Bytes of the big export: all of its device. */
static unsigned long long big_buf(void)
{
	unsigned long long pages = accmem_scaled(accmem_scaled(BIG_PAGES));

	return (pages < BIG_MIN_PAGES ? BIG_MIN_PAGES : pages) * 4096;
}

/* emu_size of the device: the export, rounded up to 4 MiB as accmem does */
static unsigned long long big_dev(void)
{
	return (big_buf() + 4 * SZ_1M - 1) / (4 * SZ_1M) * (4 * SZ_1M);
}

/*
 * Reloads accmem with an emulated device of big_dev() bytes first
 * (accmem0, before the lane's own devices) for the export of big_buf()
 * bytes cut into pages. The lane's module is loaded again at the end.
 */
FIXTURE(big)
{
	int loaded;
	int imp;
	struct accmem_tenant t;
};

FIXTURE_SETUP(big)
{
	char cmd[1024];
	__u32 backend;

	accmem_tenant_init(&self->t);
	self->loaded = 0;
	self->imp = accmem_imp_open();
	ASSERT_LE(0, self->imp);
	/*
	 * The vIOMMU lane's importer borrows a PCI device whose 32-bit DMA
	 * mask leaves no 2 GiB-aligned IOVA range (dma-iommu aligns an
	 * allocation to its size) for 1 GiB: the IOMMU refuses the map.
	 */
	if (strstr(getenv("ACCMEM_IMPORTER") ?: "", "pci_dev="))
		SKIP(return, "%s: %s", "importer device behind an IOMMU",
		     "its 32-bit DMA mask has no IOVA range for 1 GiB");
	/*
	 * It brings its own emulated device, and costs a minute or more on
	 * the debug kernels (DMA-API debug tracks every segment): once per
	 * kernel, on its emulated lane.
	 */
	ASSERT_EQ(0, accmem_tenant_open(&self->t));
	backend = self->t.info.backend;
	ASSERT_EQ(0, accmem_tenant_leave(&self->t));
	if (backend != ACCMEM_BACKEND_EMU)
		SKIP(return, "needs the emulated backend's lane (%s)",
		     "it loads an emulated device of its own");
	if (mem_available() < big_dev() + 256 * SZ_1M)
		SKIP(return, "needs %llu MiB of free RAM for a %llu MiB %s, %llu MiB free",
		     (big_dev() + 256 * SZ_1M) >> 20, big_dev() >> 20,
		     "emulated device", mem_available() >> 20);
	ASSERT_EQ(0, accmem_wait_idle(60));
	ASSERT_EQ(0, run("rmmod accmem"));
	/* the last emu_size wins over the lane's */
	snprintf(cmd, sizeof(cmd), "%s emu_devices=1 emu_size=%lluM",
		 accmem_reload_cmd(), big_dev() >> 20);
	if (run(cmd)) {
		/* the teardown does not run after a failed setup */
		run(accmem_reload_cmd());
		ASSERT_TRUE(0) {
			TH_LOG("'%s' failed", cmd);
		}
	}
	self->loaded = 1;
}

FIXTURE_TEARDOWN(big)
{
	accmem_tenant_leave(&self->t);
	if (self->imp >= 0)
		close(self->imp);
	if (!self->loaded)
		return;
	EXPECT_EQ(0, accmem_wait_idle(300));
	run("rmmod accmem");
	EXPECT_EQ(0, run(accmem_reload_cmd()));
	EXPECT_EQ(0, accmem_wait_idle(120));
}

TEST_F_TIMEOUT(big, map_page_segments, 900)
{
	unsigned long long size = big_buf();
	struct accmem_imp_import a;
	int id;

	TH_LOG("%llu MiB cut into %llu segments (ACCMEM_SCALE %s)",
	       size >> 20, size / 4096, getenv("ACCMEM_SCALE") ?: "unset");
	/* the probe scrub of the whole device first */
	ASSERT_EQ(0, accmem_wait_idle(300));
	ASSERT_EQ(0, accmem_tenant_start(&self->t, size, 0, 0));
	ASSERT_EQ(ACCMEM_BACKEND_EMU, self->t.info.backend);
	id = accmem_imp_import(self->imp, self->t.dmabuf, ACCMEM_IMP_DYN_PIN,
			       4096, &a);
	ASSERT_LT(0, id) {
		TH_LOG("import of %llu segments: %s", size / 4096,
		       strerror(-id));
	}
	EXPECT_EQ(size, a.size);
	/* an IOMMU may merge what it maps; without one, one per page */
	if (!a.iommu)
		EXPECT_EQ(size / 4096, a.nents);
	EXPECT_LT(0, a.nents);
	EXPECT_EQ(0, accmem_imp_release(self->imp, id));
}

TEST_HARNESS_MAIN
