// SPDX-License-Identifier: GPL-2.0
/*
 * accmem ioctl validation: every bad input gets its errno, one bad
 * parameter per check, and the device stays usable afterwards.
 */
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

	/* The device is still usable after whatever the test did. */
	h = accmem_alloc(self->fd, self->pg, 0, 0);
	EXPECT_LT(0, h);
	dmabuf = accmem_export(self->fd, h, 0, self->pg, O_CLOEXEC);
	EXPECT_LE(0, dmabuf);
	close(dmabuf);
	close(self->fd);
	EXPECT_EQ(0, accmem_wait_idle(30));
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

TEST_HARNESS_MAIN
