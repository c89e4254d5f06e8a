/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checks shared by the accmem selftests; include after kselftest_harness.h
 * and accmem_lib.h.
 */
#ifndef ACCMEM_HARNESS_H
#define ACCMEM_HARNESS_H

/*
 * The next tenant allocates all device memory and finds it zeroed, then
 * ends its tenancy and waits for the device to be idle again.
 */
static inline void accmem_expect_all_zero(struct __test_metadata *_metadata)
{
	struct accmem_info info;
	int fd, h, dmabuf;
	void *p;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_info(fd, &info));
	h = accmem_alloc(fd, info.mem_size, 0, 0);
	ASSERT_LT(0, h);
	dmabuf = accmem_export(fd, h, 0, info.mem_size, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dmabuf);
	p = accmem_mmap(dmabuf, info.mem_size, PROT_READ);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, accmem_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(-1, accmem_check_zero(p, info.mem_size));
	EXPECT_EQ(0, accmem_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	munmap(p, info.mem_size);
	close(dmabuf);
	close(fd);
	ASSERT_EQ(0, accmem_wait_idle(60));
}

/*
 * The tenant has closed its device file: only dma-bufs (or an importer
 * holding one) keep the tenancy, and nobody else can open the device.
 */
static inline void accmem_expect_draining(struct __test_metadata *_metadata)
{
	char state[32];

	EXPECT_EQ(-EBUSY, accmem_open());
	ASSERT_EQ(0, accmem_sysfs("state", state, sizeof(state)));
	EXPECT_STREQ("draining", state);
}

#endif /* ACCMEM_HARNESS_H */
