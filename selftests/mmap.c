// SPDX-License-Identifier: GPL-2.0
/*
 * accmem CPU mappings of dma-bufs: shared only, PFN/IO mappings that are
 * neither dumped, expanded, inherited nor pinnable through GUP; data
 * round-trips; sub-range exports map exactly their range; the dma-buf
 * core's SYNC and SET_NAME work and the exporter is named; the pci_mmap
 * policy.
 */
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"

#define SEED 0x5eed1234u
#define PCI_MMAP "/sys/module/accmem/parameters/pci_mmap"

FIXTURE(mmap)
{
	struct accmem_tenant t;	/* a 4 MiB dma-buf, not mapped */
};

FIXTURE_SETUP(mmap)
{
	accmem_tenant_init(&self->t);
	ASSERT_EQ(0, accmem_tenant_start(&self->t, 4 * SZ_1M, 0, 0));
}

FIXTURE_TEARDOWN(mmap)
{
	accmem_write_file(PCI_MMAP, "allow");
	accmem_tenant_leave(&self->t);
	EXPECT_EQ(0, accmem_wait_idle(60));
}

TEST_F(mmap, private_refused)
{
	void *p = mmap(NULL, self->t.size, PROT_READ, MAP_PRIVATE,
		       self->t.dmabuf, 0);

	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(mmap, beyond_end_refused)
{
	void *p = mmap(NULL, 2 * self->t.size, PROT_READ, MAP_SHARED,
		       self->t.dmabuf, 0);

	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, self->t.size, PROT_READ, MAP_SHARED, self->t.dmabuf,
		 self->t.size);
	EXPECT_EQ(MAP_FAILED, p);
}

/* The VmFlags line of /proc/self/smaps for the mapping at @addr. */
static int vm_flags(void *addr, char *out, size_t len)
{
	char line[512], start[32];
	FILE *f = fopen("/proc/self/smaps", "r");
	int found = 0;

	if (!f)
		return -errno;
	snprintf(start, sizeof(start), "%lx-", (unsigned long)addr);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, start, strlen(start))) {
			found = 1;
		} else if (found && !strncmp(line, "VmFlags:", 8)) {
			snprintf(out, len, "%s", line + 8);
			break;
		}
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}

TEST_F(mmap, pfnmap_flags)
{
	char flags[512] = "";
	void *p;

	p = accmem_mmap(self->t.dmabuf, self->t.size, PROT_READ);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, vm_flags(p, flags, sizeof(flags)));
	TH_LOG("VmFlags:%s", flags);
	EXPECT_NE(NULL, strstr(flags, " pf"));	/* VM_PFNMAP */
	EXPECT_NE(NULL, strstr(flags, " io"));	/* VM_IO */
	EXPECT_NE(NULL, strstr(flags, " de"));	/* VM_DONTEXPAND */
	EXPECT_NE(NULL, strstr(flags, " dd"));	/* VM_DONTDUMP */
	EXPECT_NE(NULL, strstr(flags, " dc"));	/* VM_DONTCOPY */
	EXPECT_NE(NULL, strstr(flags, " sh"));	/* shared */
	munmap(p, self->t.size);
}

/*
 * Entries of /sys/kernel/debug/x86/pat_memtype_list of @type (or a type
 * whose name contains it) that cover physical address @addr, or -errno.
 */
static int pat_covering(const char *type, __u64 addr)
{
	unsigned long long s, e;
	char line[256], name[64];
	FILE *f = fopen("/sys/kernel/debug/x86/pat_memtype_list", "r");
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "PAT: [mem %llx-%llx] %63[^\n]", &s, &e,
			   name) == 3 && s <= addr && addr < e &&
		    strstr(name, type))
			n++;
	fclose(f);
	return n;
}

TEST_F(mmap, cpu_caching)
{
	struct accmem_alloc a = {
		.size = SZ_1M, .flags = ACCMEM_ALLOC_CONTIGUOUS,
	};
	struct accmem_info info;
	__u64 bar = 0, phys;
	void *p;
	int d;

	ASSERT_EQ(0, accmem_info(self->t.fd, &info));
	if (info.backend != ACCMEM_BACKEND_PCI) {
		/* RAM: cached, like any other system memory */
		EXPECT_FALSE(info.flags & ACCMEM_INFO_CPU_WC);
		return;
	}
	EXPECT_TRUE(info.flags & ACCMEM_INFO_CPU_WC);
	EXPECT_TRUE(info.flags & ACCMEM_INFO_P2P_ONLY);
	ASSERT_EQ(0, accmem_bar_start(info.mem_size, &bar));
	ASSERT_EQ(0, accmem_ioctl(self->t.fd, ACCMEM_IOC_ALLOC, &a));
	d = accmem_export(self->t.fd, a.handle, 0, SZ_1M, O_RDWR);
	ASSERT_LE(0, d);
	phys = bar + a.dev_addr;

	ASSERT_LE(0, pat_covering("write-combining", phys)) {
		TH_LOG("no /sys/kernel/debug/x86/pat_memtype_list (PAT off?)");
	}
	p = accmem_mmap(d, SZ_1M, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	accmem_fill(p, SZ_1M, SEED);
	EXPECT_EQ(-1, accmem_check(p, SZ_1M, SEED));
	/*
	 * Pages are mapped at fault time with the memory type the PAT has
	 * for them: the BAR's write-combined ioremap() reserved all of it.
	 * Nothing of the range is uncached.
	 */
	EXPECT_LE(1, pat_covering("write-combining", phys));
	EXPECT_LE(1, pat_covering("write-combining", phys + SZ_1M - 1));
	EXPECT_EQ(0, pat_covering("uncached", phys));
	munmap(p, SZ_1M);
	close(d);
}

TEST_F(mmap, not_expandable)
{
	void *p, *q;

	p = accmem_mmap(self->t.dmabuf, SZ_1M, PROT_READ);
	ASSERT_NE(MAP_FAILED, p);
	q = mremap(p, SZ_1M, 2 * SZ_1M, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, q);
	munmap(p, SZ_1M);
}

TEST_F(mmap, gup_refused)
{
	char local[4096];
	struct iovec liov = { .iov_base = local, .iov_len = sizeof(local) };
	struct iovec riov;
	void *p;

	p = accmem_mmap(self->t.dmabuf, self->t.size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	/* process_vm_readv pins the remote pages through GUP */
	riov.iov_base = p;
	riov.iov_len = sizeof(local);
	/* it works on ordinary memory, or the kernel lacks it */
	riov.iov_base = local;
	if (process_vm_readv(getpid(), &liov, 1, &riov, 1, 0) < 0) {
		munmap(p, self->t.size);
		SKIP(return, "no process_vm_readv (CONFIG_CROSS_MEMORY_ATTACH)");
	}
	riov.iov_base = p;
	EXPECT_EQ(-1, process_vm_readv(getpid(), &liov, 1, &riov, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	munmap(p, self->t.size);
}

TEST_F(mmap, data_round_trip)
{
	void *p, *q;

	p = accmem_mmap(self->t.dmabuf, self->t.size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	/* fresh memory is zero */
	EXPECT_EQ(-1, accmem_check_zero(p, self->t.size));
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	accmem_fill(p, self->t.size, SEED);
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
	munmap(p, self->t.size);

	q = accmem_mmap(self->t.dmabuf, self->t.size, PROT_READ);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(-1, accmem_check(q, self->t.size, SEED));
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	munmap(q, self->t.size);
}

TEST_F(mmap, offset_mapping)
{
	__u8 *p, *q;

	p = accmem_mmap(self->t.dmabuf, self->t.size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	accmem_fill(p, self->t.size, SEED);
	q = mmap(NULL, SZ_1M, PROT_READ, MAP_SHARED, self->t.dmabuf, 2 * SZ_1M);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0, memcmp(p + 2 * SZ_1M, q, SZ_1M));
	munmap(q, SZ_1M);
	munmap(p, self->t.size);
}

TEST_F(mmap, subrange_exports)
{
	__u8 *whole, *part;
	int sub;

	whole = accmem_mmap(self->t.dmabuf, self->t.size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, whole);
	accmem_fill(whole, self->t.size, SEED);

	/* many dma-bufs of one allocation, each exactly its range */
	sub = accmem_export(self->t.fd, self->t.h, 3 * SZ_1M, SZ_1M, O_RDWR);
	ASSERT_LE(0, sub);
	EXPECT_EQ(2, accmem_sysfs_num("exports"));
	EXPECT_EQ((off_t)SZ_1M, lseek(sub, 0, SEEK_END));
	part = accmem_mmap(sub, SZ_1M, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, part);
	EXPECT_EQ(0, memcmp(whole + 3 * SZ_1M, part, SZ_1M));
	part[0] = ~whole[3 * SZ_1M];
	EXPECT_EQ(part[0], whole[3 * SZ_1M]);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * SZ_1M, PROT_READ, MAP_SHARED,
				   sub, 0));
	munmap(part, SZ_1M);
	close(sub);
	munmap(whole, self->t.size);
}

TEST_F(mmap, exporter_name_and_buffer_name)
{
	char path[64], line[256], name[64] = "";
	FILE *f;

	ASSERT_EQ(0, accmem_ioctl(self->t.dmabuf, DMA_BUF_SET_NAME_B,
				  "tenant-a"));
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", self->t.dmabuf);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "exp_name:", 9))
			sscanf(line + 9, "%63s", name);
		if (!strncmp(line, "name:", 5))
			EXPECT_NE(NULL, strstr(line, "tenant-a"));
	}
	fclose(f);
	EXPECT_STREQ("accmem", name);
}

/*
 * pci_mmap=deny: mmap of memory without struct pages (a PCI BAR) fails
 * with EPERM, so no VFIO user can map it into an IOMMU through us;
 * emulated RAM (pages, referenced by whoever maps it) is not affected.
 * allow (the default) maps again; unknown values are refused.
 */
TEST_F(mmap, pci_mmap_policy)
{
	char now[32];
	void *p;

	ASSERT_EQ(0, accmem_read_file(PCI_MMAP, now, sizeof(now)));
	EXPECT_STREQ("allow", now);
	EXPECT_EQ(-EINVAL, accmem_write_file(PCI_MMAP, "maybe"));
	ASSERT_EQ(0, accmem_write_file(PCI_MMAP, "deny\n"));
	p = mmap(NULL, self->t.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->t.dmabuf, 0);
	if (self->t.info.backend == ACCMEM_BACKEND_PCI) {
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(EPERM, errno);
	} else {
		EXPECT_NE(MAP_FAILED, p);
	}
	if (p != MAP_FAILED)
		munmap(p, self->t.size);

	ASSERT_EQ(0, accmem_write_file(PCI_MMAP, "allow"));
	p = mmap(NULL, self->t.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->t.dmabuf, 0);
	ASSERT_NE(MAP_FAILED, p);
	accmem_fill(p, self->t.size, SEED);
	EXPECT_EQ(-1, accmem_check(p, self->t.size, SEED));
	munmap(p, self->t.size);
}

TEST_HARNESS_MAIN
