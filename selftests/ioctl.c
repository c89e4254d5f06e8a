// SPDX-License-Identifier: GPL-2.0
/*
 * accmem ioctl validation: every bad input gets its errno, one bad
 * parameter per check, and the device stays usable afterwards; the
 * per-tenant bounds on live allocations and exports, and the tenant's
 * kernel objects charged to its memory cgroup.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"

FIXTURE(ioctl)
{
	int fd;
	struct accmem_info info;
	__u64 pg;
	int h;		/* a 1 SZ_1M allocation */
};

FIXTURE_SETUP(ioctl)
{
	self->fd = accmem_open_idle();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, accmem_info(self->fd, &self->info));
	self->pg = self->info.page_size;
	self->h = accmem_alloc(self->fd, SZ_1M, 0, 0);
	ASSERT_LT(0, self->h);
}

FIXTURE_TEARDOWN(ioctl)
{
	int h, dmabuf;

	accmem_set_param("max_allocs", 0);
	accmem_set_param("max_exports", 0);
	/* The device is still usable after whatever the test did. */
	h = accmem_alloc(self->fd, self->pg, 0, 0);
	EXPECT_LT(0, h);
	dmabuf = accmem_export(self->fd, h, 0, self->pg, O_CLOEXEC);
	EXPECT_LE(0, dmabuf);
	close(dmabuf);
	close(self->fd);
	/* thousands of freed pages to scrub: minutes on a debug kernel */
	EXPECT_EQ(0, accmem_wait_idle(120));
}

TEST_F(ioctl, alloc_zero_size)
{
	EXPECT_EQ(-EINVAL, accmem_alloc(self->fd, 0, 0, 0));
}

TEST_F(ioctl, alloc_unaligned_size)
{
	EXPECT_EQ(-EINVAL, accmem_alloc(self->fd, self->pg + 1, 0, 0));
	EXPECT_EQ(-EINVAL, accmem_alloc(self->fd, self->pg / 2, 0, 0));
}

TEST_F(ioctl, alloc_bad_align)
{
	EXPECT_EQ(-EINVAL, accmem_alloc(self->fd, self->pg, 3 * self->pg, 0));
	EXPECT_EQ(-EINVAL, accmem_alloc(self->fd, self->pg, 12345, 0));
	/* non-contiguous: size must be a multiple of the alignment */
	EXPECT_EQ(-EINVAL, accmem_alloc(self->fd, self->pg, SZ_1M, 0));
}

TEST_F(ioctl, alloc_unknown_flags)
{
	EXPECT_EQ(-EINVAL, accmem_alloc(self->fd, self->pg, 0, 1u << 1));
	EXPECT_EQ(-EINVAL, accmem_alloc(self->fd, self->pg, 0, 1u << 31));
}

TEST_F(ioctl, alloc_too_large)
{
	EXPECT_EQ(-ENOSPC, accmem_alloc(self->fd, self->info.mem_size * 2,
					0, 0));
	EXPECT_EQ(-ENOSPC, accmem_alloc(self->fd, self->info.mem_size, 0,
					ACCMEM_ALLOC_CONTIGUOUS));
	/* no overflow when rounding a huge request up */
	EXPECT_EQ(-ENOSPC, accmem_alloc(self->fd, ~0ULL << 20, 0, 0));
	EXPECT_EQ(-ENOSPC, accmem_alloc(self->fd, ~0ULL << 20, 0,
					ACCMEM_ALLOC_CONTIGUOUS));
}

TEST_F(ioctl, alloc_huge_align)
{
	EXPECT_EQ(-ENOSPC, accmem_alloc(self->fd, self->pg, 1ULL << 62,
					ACCMEM_ALLOC_CONTIGUOUS));
}

TEST_F(ioctl, alloc_align_honoured)
{
	struct accmem_alloc a = {
		.size = 2 * SZ_1M, .align = 2 * SZ_1M,
		.flags = ACCMEM_ALLOC_CONTIGUOUS,
	};

	ASSERT_EQ(0, accmem_ioctl(self->fd, ACCMEM_IOC_ALLOC, &a));
	EXPECT_NE(0, a.handle);
	EXPECT_EQ(0, a.dev_addr % (2 * SZ_1M));
}

TEST_F(ioctl, alloc_bad_pointer)
{
	EXPECT_EQ(-EFAULT, accmem_ioctl(self->fd, ACCMEM_IOC_ALLOC, NULL));
	EXPECT_EQ(-EFAULT, accmem_ioctl(self->fd, ACCMEM_IOC_INFO,
					(void *)8));
}

TEST_F(ioctl, free_unknown_handle)
{
	EXPECT_EQ(-ENOENT, accmem_free(self->fd, 0));
	EXPECT_EQ(-ENOENT, accmem_free(self->fd, self->h + 1000));
	EXPECT_EQ(0, accmem_free(self->fd, self->h));
	EXPECT_EQ(-ENOENT, accmem_free(self->fd, self->h));
}

TEST_F(ioctl, free_nonzero_flags)
{
	struct accmem_free f = { .handle = self->h, .flags = 1 };

	EXPECT_EQ(-EINVAL, accmem_ioctl(self->fd, ACCMEM_IOC_FREE, &f));
	/* the handle survived the rejected call */
	EXPECT_EQ(0, accmem_free(self->fd, self->h));
}

TEST_F(ioctl, export_unknown_handle)
{
	EXPECT_EQ(-ENOENT, accmem_export(self->fd, self->h + 1000, 0,
					 self->pg, 0));
	EXPECT_EQ(-ENOENT, accmem_export(self->fd, 0, 0, self->pg, 0));
}

TEST_F(ioctl, export_freed_handle)
{
	ASSERT_EQ(0, accmem_free(self->fd, self->h));
	EXPECT_EQ(-ENOENT, accmem_export(self->fd, self->h, 0, self->pg, 0));
}

TEST_F(ioctl, export_bad_flags)
{
	EXPECT_EQ(-EINVAL, accmem_export(self->fd, self->h, 0, self->pg,
					 O_NONBLOCK));
	EXPECT_EQ(-EINVAL, accmem_export(self->fd, self->h, 0, self->pg,
					 O_WRONLY));
	EXPECT_EQ(-EINVAL, accmem_export(self->fd, self->h, 0, self->pg,
					 1u << 30));
}

TEST_F(ioctl, export_nonzero_pad)
{
	struct accmem_export e = {
		.handle = self->h, .length = self->pg, .pad = 1,
	};

	EXPECT_EQ(-EINVAL, accmem_ioctl(self->fd, ACCMEM_IOC_EXPORT, &e));
}

TEST_F(ioctl, export_zero_length)
{
	EXPECT_EQ(-EINVAL, accmem_export(self->fd, self->h, 0, 0, 0));
}

TEST_F(ioctl, export_unaligned)
{
	EXPECT_EQ(-EINVAL, accmem_export(self->fd, self->h, 1, self->pg, 0));
	EXPECT_EQ(-EINVAL, accmem_export(self->fd, self->h, 0,
					 self->pg + 1, 0));
}

TEST_F(ioctl, export_outside_allocation)
{
	EXPECT_EQ(-EINVAL, accmem_export(self->fd, self->h, 0, SZ_1M + self->pg,
					 0));
	EXPECT_EQ(-EINVAL, accmem_export(self->fd, self->h, SZ_1M, self->pg, 0));
	EXPECT_EQ(-EINVAL, accmem_export(self->fd, self->h, SZ_1M - self->pg,
					 2 * self->pg, 0));
}

TEST_F(ioctl, export_overflow)
{
	__u64 off = ~0ULL & ~(self->pg - 1);

	EXPECT_EQ(-EINVAL, accmem_export(self->fd, self->h, off,
					 2 * self->pg, 0));
	EXPECT_EQ(-EINVAL, accmem_export(self->fd, self->h, self->pg,
					 off, 0));
}

TEST_F(ioctl, export_ok_flags)
{
	int a, b, fl;
	void *p;

	a = accmem_export(self->fd, self->h, 0, self->pg, O_CLOEXEC | O_RDWR);
	ASSERT_LE(0, a);
	fl = fcntl(a, F_GETFD);
	EXPECT_TRUE(fl & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(a, F_GETFL) & O_ACCMODE);
	b = accmem_export(self->fd, self->h, 0, self->pg, 0);
	ASSERT_LE(0, b);
	EXPECT_FALSE(fcntl(b, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDONLY, fcntl(b, F_GETFL) & O_ACCMODE);
	/* a read-only dma-buf cannot be mapped writable, only readable */
	EXPECT_EQ(MAP_FAILED, accmem_mmap(b, self->pg, PROT_READ | PROT_WRITE));
	p = accmem_mmap(b, self->pg, PROT_READ);
	EXPECT_NE(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, self->pg);
	close(a);
	close(b);
}

/* @cmd with the structure size @size instead of its own */
static unsigned long ioc_sized(unsigned long cmd, size_t size)
{
	return (cmd & ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
	       ((unsigned long)size << _IOC_SIZESHIFT);
}

/* A structure as a newer user space might have it: with fields appended. */
struct alloc_v9 {
	struct accmem_alloc a;
	__u64 newer[2];
};

/*
 * Structures can grow (Documentation/uapi.rst): a longer one works when
 * its extra bytes are zero and the kernel leaves them alone; non-zero
 * extra bytes are fields this kernel does not know: -EINVAL.
 */
TEST_F(ioctl, longer_struct)
{
	struct alloc_v9 v = { .a = { .size = self->pg } };
	struct {
		struct accmem_info info;
		__u64 newer;
	} i = { .newer = 0x5a5a5a5a5a5a5a5aULL };

	unsigned long alloc_v9 = ioc_sized(ACCMEM_IOC_ALLOC, sizeof(v));

	ASSERT_EQ(0, accmem_ioctl(self->fd, alloc_v9, &v));
	EXPECT_LT(0, v.a.handle);
	EXPECT_EQ(0, v.newer[0]);
	EXPECT_EQ(0, v.newer[1]);
	EXPECT_EQ(0, accmem_free(self->fd, v.a.handle));

	memset(&v, 0, sizeof(v));
	v.a.size = self->pg;
	v.newer[1] = 1;
	EXPECT_EQ(-EINVAL, accmem_ioctl(self->fd, alloc_v9, &v));
	/* INFO (no input) fills what it knows, the rest is untouched */
	ASSERT_EQ(0, accmem_ioctl(self->fd,
				  ioc_sized(ACCMEM_IOC_INFO, sizeof(i)), &i));
	EXPECT_EQ(ACCMEM_UAPI_VERSION, i.info.version);
	EXPECT_EQ(self->info.mem_size, i.info.mem_size);
	EXPECT_EQ(0x5a5a5a5a5a5a5a5aULL, i.newer);
}

/* Shorter than the first version of the structure: refused. */
TEST_F(ioctl, shorter_struct)
{
	struct accmem_alloc a = { .size = self->pg };
	struct accmem_free f = { .handle = self->h };
	struct accmem_info info;

	EXPECT_EQ(-EINVAL, accmem_ioctl(self->fd,
					ioc_sized(ACCMEM_IOC_ALLOC,
						  sizeof(a) - 8), &a));
	EXPECT_EQ(-EINVAL, accmem_ioctl(self->fd,
					ioc_sized(ACCMEM_IOC_FREE, 4),
					&f));
	EXPECT_EQ(-EINVAL, accmem_ioctl(self->fd,
					ioc_sized(ACCMEM_IOC_INFO, 0),
					&info));
	/* the handle survived */
	EXPECT_EQ(0, accmem_free(self->fd, self->h));
}

/*
 * Dispatch is on the number; the type and the direction must be ours:
 * else -ENOTTY, like a number we do not know. 0xAC (linux/raw.h, uAPI
 * version 1) is not ours any more.
 */
TEST_F(ioctl, unknown_commands)
{
	struct accmem_info info;
	char big[64] = { 0 };

	EXPECT_EQ(3, ACCMEM_UAPI_VERSION);
	EXPECT_EQ(0xA8, _IOC_TYPE(ACCMEM_IOC_INFO));
	EXPECT_EQ(-ENOTTY, accmem_ioctl(self->fd, _IOWR(ACCMEM_IOC_MAGIC, 0x05,
							struct accmem_alloc),
					big));
	EXPECT_EQ(-ENOTTY, accmem_ioctl(self->fd, _IOWR(ACCMEM_IOC_MAGIC, 0xff,
							__u64), big));
	EXPECT_EQ(-ENOTTY, accmem_ioctl(self->fd, _IOR(0xAC, 0x00,
						       struct accmem_info),
					&info));
	EXPECT_EQ(-ENOTTY, accmem_ioctl(self->fd,
					_IOC(_IOC_READ | _IOC_WRITE,
					     ACCMEM_IOC_MAGIC, 0x00,
					     sizeof(info)), &info));
	EXPECT_EQ(-ENOTTY, accmem_ioctl(self->fd,
					_IOC(_IOC_NONE, ACCMEM_IOC_MAGIC,
					     _IOC_NR(ACCMEM_IOC_FREE), 0), big));
}

/* A freed handle's number is not handed out again at once. */
TEST_F(ioctl, handles_cyclic)
{
	int h1, h2, h3;

	h1 = accmem_alloc(self->fd, self->pg, 0, 0);
	ASSERT_LT(0, h1);
	ASSERT_EQ(0, accmem_free(self->fd, h1));
	ASSERT_EQ(0, accmem_free(self->fd, self->h));
	h2 = accmem_alloc(self->fd, self->pg, 0, 0);
	ASSERT_LT(0, h2);
	EXPECT_NE(h1, h2);
	EXPECT_NE(self->h, h2);
	EXPECT_LT(h1, h2);
	h3 = accmem_alloc(self->fd, self->pg, 0, 0);
	ASSERT_LT(0, h3);
	EXPECT_LT(h2, h3);
	/* a stale handle stays stale */
	EXPECT_EQ(-ENOENT, accmem_free(self->fd, h1));
}

/*
 * max_allocs bounds the tenant's live allocations (EDQUOT beyond it, the
 * fixture's counts); a freed one makes room again, 0 is the default bound.
 */
TEST_F(ioctl, alloc_count_limit)
{
	int a, b;

	ASSERT_EQ(0, accmem_set_param("max_allocs", 2));
	a = accmem_alloc(self->fd, self->pg, 0, 0);
	EXPECT_LT(0, a);
	EXPECT_EQ(-EDQUOT, accmem_alloc(self->fd, self->pg, 0, 0));
	EXPECT_EQ(0, accmem_free(self->fd, a));
	b = accmem_alloc(self->fd, self->pg, 0, 0);
	EXPECT_LT(0, b);
	EXPECT_EQ(-EDQUOT, accmem_alloc(self->fd, self->pg, 0, 0));
	ASSERT_EQ(0, accmem_set_param("max_allocs", 0));
	a = accmem_alloc(self->fd, self->pg, 0, 0);
	EXPECT_LT(0, a);
}

/*
 * max_exports bounds the tenant's live dma-bufs (EDQUOT beyond it); a
 * released one makes room again, 0 is the default bound.
 */
TEST_F(ioctl, export_count_limit)
{
	int a, b, c;

	ASSERT_EQ(0, accmem_set_param("max_exports", 2));
	a = accmem_export(self->fd, self->h, 0, self->pg, O_CLOEXEC);
	EXPECT_LE(0, a);
	b = accmem_export(self->fd, self->h, 0, self->pg, O_CLOEXEC);
	EXPECT_LE(0, b);
	EXPECT_EQ(-EDQUOT, accmem_export(self->fd, self->h, 0, self->pg,
					 O_CLOEXEC));
	close(a);
	c = accmem_export(self->fd, self->h, 0, self->pg, O_CLOEXEC);
	EXPECT_LE(0, c);
	EXPECT_EQ(-EDQUOT, accmem_export(self->fd, self->h, 0, self->pg,
					 O_CLOEXEC));
	ASSERT_EQ(0, accmem_set_param("max_exports", 0));
	a = accmem_export(self->fd, self->h, 0, self->pg, O_CLOEXEC);
	EXPECT_LE(0, a);
	close(a);
	close(b);
	close(c);
}

#define CGROOT "/sys/fs/cgroup"
#define CG CGROOT "/accmem-selftest"

static long long cg_current(void)
{
	char v[64];

	if (accmem_read_file(CG "/memory.current", v, sizeof(v)))
		return -1;
	return atoll(v);
}

/*
 * The tenant's kernel objects are charged to its memory cgroup: a few
 * thousand allocations (a buffer object and a handle-table slot each)
 * raise memory.current of the cgroup the tenant runs in. 12000 of them,
 * a quarter where ACCMEM_SCALE is 25 (the debug lanes, where each costs
 * about 2 ms): there (KASAN redzones) they charge about 260 bytes each,
 * 3000 of them about 768 KiB, three of memory.current's 256 KiB steps
 * and four times the 64 bytes each that the test asks for.
 */
TEST_F(ioctl, kernel_memory_charged)
{
	char ctl[256] = "";
	long long before, after;
	int i, n, *h;

	if (access(CGROOT "/cgroup.controllers", F_OK))
		mount("cgroup2", CGROOT, "cgroup2", 0, NULL);
	accmem_read_file(CGROOT "/cgroup.controllers", ctl, sizeof(ctl));
	if (!strstr(ctl, "memory"))
		SKIP(return, "kernel without the cgroup2 memory controller");
	ASSERT_EQ(0, accmem_write_file(CGROOT "/cgroup.subtree_control",
				       "+memory"));
	ASSERT_EQ(0, mkdir(CG, 0755) && errno != EEXIST ? -errno : 0);
	ASSERT_EQ(0, accmem_write_file(CG "/cgroup.procs", "0"));

	/* room left of the device's memory, in pages */
	n = (self->info.mem_size - SZ_1M) / self->pg - 64;
	if (n > accmem_scaled(12000))
		n = accmem_scaled(12000);
	h = calloc(n, sizeof(*h));
	ASSERT_NE(NULL, h);
	before = cg_current();
	for (i = 0; i < n; i++) {
		h[i] = accmem_alloc(self->fd, self->pg, 0, 0);
		if (h[i] <= 0)
			break;
	}
	after = cg_current();
	EXPECT_EQ(n, i);
	while (i--)
		accmem_free(self->fd, h[i]);
	free(h);
	EXPECT_EQ(0, accmem_write_file(CGROOT "/cgroup.procs", "0"));
	rmdir(CG);

	TH_LOG("%d allocations: memory.current %lld -> %lld", n, before,
	       after);
	ASSERT_LE(0, before);
	/* at least 64 bytes each: a buffer object is more than that */
	EXPECT_LE(64LL * n, after - before);
}

TEST_HARNESS_MAIN
