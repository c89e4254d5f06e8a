// SPDX-License-Identifier: GPL-2.0
/*
 * accmem KUnit tests: the fake device, its buffers and DMA devices.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <kunit/device.h>
#include <kunit/test-bug.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>

#include "accmem_test.h"

/**
 * struct accmem_test_backend - the fake backend's state
 * @chunk: 0 for one physically contiguous range, else the size of the
 *	chunks that are swapped pairwise
 * @unmaps: fake unmaps seen
 */
struct accmem_test_backend {
	u64 chunk;
	unsigned int unmaps;
};

struct accmem_test_dev {
	struct accmem_device adev;
	struct accmem_ctx ctx;
	struct accmem_test_backend be;
};

static struct accmem_test_backend *accmem_test_be(struct accmem_device *adev)
{
	return adev->backend;
}

/**
 * accmem_test_phys() - where the fake device puts a device offset
 * @adev: fake device
 * @dev_off: device offset
 *
 * The reference model the tests compare the code under test with.
 *
 * Return: the physical address.
 */
phys_addr_t accmem_test_phys(struct accmem_device *adev, u64 dev_off)
{
	u64 chunk = accmem_test_be(adev)->chunk;

	if (!chunk)
		return ACCMEM_TEST_PHYS + dev_off;
	return ACCMEM_TEST_PHYS + ((dev_off / chunk) ^ 1) * chunk +
	       dev_off % chunk;
}

/**
 * accmem_test_unmaps() - how many mappings the fake backend unmapped
 * @adev: fake device
 *
 * Return: the count.
 */
unsigned int accmem_test_unmaps(struct accmem_device *adev)
{
	return accmem_test_be(adev)->unmaps;
}

/**
 * accmem_test_model() - the pieces a range should be cut into
 * @buf: buffer on a fake device
 * @offset: start of the range in @buf
 * @length: bytes
 * @max_len: longest piece
 * @phys: receives the physical address of each piece
 * @len: receives the length of each piece
 * @max: room in @phys and @len
 *
 * The reference model the range and sg tests compare the code with: page
 * by page through the buffer's blocks, each page's physical address from
 * accmem_test_phys(), appended to the previous piece when it follows it
 * and the piece is shorter than @max_len.
 *
 * Return: the number of pieces (at most @max are stored).
 */
unsigned int accmem_test_model(struct accmem_buffer *buf, u64 offset,
			       u64 length, u64 max_len, phys_addr_t *phys,
			       u64 *len, unsigned int max)
{
	struct accmem_device *adev = accmem_buf_dev(buf);
	struct accmem_mm_iter it;
	unsigned int n = 0;
	u64 pos = 0;

	accmem_mm_for_each_range(&it, adev, &buf->blocks) {
		u64 start = it.offset;
		u64 off;

		for (off = 0; off < it.size; off += PAGE_SIZE, pos += PAGE_SIZE) {
			phys_addr_t p;

			if (pos < offset || pos - offset >= length)
				continue;
			p = accmem_test_phys(adev, start + off);
			if (n && n <= max && phys[n - 1] + len[n - 1] == p &&
			    len[n - 1] + PAGE_SIZE <= max_len) {
				len[n - 1] += PAGE_SIZE;
				continue;
			}
			if (n < max) {
				phys[n] = p;
				len[n] = PAGE_SIZE;
			}
			n++;
		}
	}
	return n;
}

static u64 accmem_test_span(struct accmem_device *adev, u64 offset,
			    phys_addr_t *phys)
{
	u64 chunk = accmem_test_be(adev)->chunk;

	*phys = accmem_test_phys(adev, offset);
	return chunk ? chunk - offset % chunk : adev->mem_size - offset;
}

static int accmem_test_map(struct accmem_device *adev,
			   struct accmem_mapping *map)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_sg(&map->sgt, sg, i) {
		sg_dma_address(sg) = map->segs[i].phys + ACCMEM_TEST_IOVA;
		sg_dma_len(sg) = map->segs[i].len;
	}
	map->sgt.nents = map->sgt.orig_nents;
	return 0;
}

/* What map handed out must come back, whatever the importer edited. */
static void accmem_test_unmap(struct accmem_device *adev,
			      struct accmem_mapping *map)
{
	struct kunit *test = kunit_get_current_test();
	struct scatterlist *sg;
	unsigned int i;

	accmem_test_be(adev)->unmaps++;
	if (!test)
		return;
	KUNIT_EXPECT_EQ(test, map->sgt.nents, map->nsegs);
	for_each_sgtable_dma_sg(&map->sgt, sg, i) {
		KUNIT_EXPECT_EQ(test, (u64)sg_dma_address(sg),
				(u64)map->segs[i].phys + ACCMEM_TEST_IOVA);
		KUNIT_EXPECT_EQ(test, sg_dma_len(sg), map->segs[i].len);
	}
}

static const struct accmem_backend_ops accmem_test_ops = {
	.kind = ACCMEM_BACKEND_EMU,
	.span = accmem_test_span,
	.map = accmem_test_map,
	.unmap = accmem_test_unmap,
};

static void accmem_test_device_fini(void *arg)
{
	struct accmem_device *adev = arg;
	struct kunit *test = kunit_get_current_test();

	if (test)
		KUNIT_EXPECT_EQ(test, accmem_mm_free_bytes(adev),
				adev->mem_size);
	accmem_mm_fini(adev);
}

/**
 * accmem_test_device() - a fake device, torn down at the end of the test
 * @test: the test
 * @size: bytes of fake memory, a power of two (nothing is allocated for it)
 * @chunk: 0, or the size of the pairwise swapped physical chunks
 *
 * The device has a tenant context, so buffers can point at it. At the end
 * of the test everything must be free again.
 *
 * Return: the device (the test fails and stops if it cannot be made).
 */
struct accmem_device *accmem_test_device(struct kunit *test, u64 size,
					 u64 chunk)
{
	struct accmem_test_dev *td;
	int ret;

	td = kunit_kzalloc(test, sizeof(*td), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, td);
	td->be.chunk = chunk;
	td->adev.ops = &accmem_test_ops;
	td->adev.backend = &td->be;
	td->adev.mem_size = size;
	mutex_init(&td->adev.mm_lock);
	KUNIT_ASSERT_EQ(test, accmem_mm_init(&td->adev), 0);
	ret = kunit_add_action_or_reset(test, accmem_test_device_fini,
					&td->adev);
	KUNIT_ASSERT_EQ(test, ret, 0);
	td->ctx.adev = &td->adev;
	td->adev.ctx = &td->ctx;
	return &td->adev;
}

static void accmem_test_buffer_free(void *arg)
{
	struct accmem_buffer *buf = arg;

	accmem_mm_free(accmem_buf_dev(buf), &buf->blocks);
}

/**
 * accmem_test_buffer() - allocate a buffer on a fake device
 * @test: the test
 * @adev: device from accmem_test_device()
 * @size: bytes
 * @align: alignment, as for accmem_mm_alloc()
 * @contiguous: one range of device addresses
 *
 * Freed at the end of the test, before its device.
 *
 * Return: the buffer (the test fails and stops if it cannot be made).
 */
struct accmem_buffer *accmem_test_buffer(struct kunit *test,
					 struct accmem_device *adev, u64 size,
					 u64 align, bool contiguous)
{
	struct accmem_buffer *buf;
	int ret;

	buf = kunit_kzalloc(test, sizeof(*buf), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	INIT_LIST_HEAD(&buf->blocks);
	buf->ctx = adev->ctx;
	buf->size = size;
	KUNIT_ASSERT_EQ(test, accmem_mm_alloc(adev, size, align, contiguous,
					      &buf->blocks), 0);
	ret = kunit_add_action_or_reset(test, accmem_test_buffer_free, buf);
	KUNIT_ASSERT_EQ(test, ret, 0);
	return buf;
}

/**
 * accmem_test_dma_dev() - an importing device with a segment size limit
 * @test: the test
 * @max_seg: its DMA max segment size; 0 for none (the DMA API's 64 KiB)
 *
 * Return: the device (the test fails and stops if it cannot be made).
 */
struct device *accmem_test_dma_dev(struct kunit *test, unsigned int max_seg)
{
	struct device_dma_parameters *parms;
	struct device *dev;

	dev = kunit_device_register(test, "accmem-kunit-importer");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	if (max_seg) {
		parms = kunit_kzalloc(test, sizeof(*parms), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, parms);
		parms->max_segment_size = max_seg;
		dev->dma_parms = parms;
	}
	return dev;
}
