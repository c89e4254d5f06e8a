/* SPDX-License-Identifier: GPL-2.0 */
/*
 * accmem KUnit tests: a device whose "memory" is only address arithmetic.
 *
 * The allocator, the range walk and the sg-building code never touch the
 * memory itself, so the tests give them a fake backend: device offset X is
 * at physical address ACCMEM_TEST_PHYS + X, except that with a chunk size
 * the chunks are swapped pairwise (chunk 0 at the place of chunk 1 and so
 * on), like RAM handed out in chunks that are not physically adjacent. The
 * fake map fills the DMA fields from the segments (DMA address = physical
 * address + ACCMEM_TEST_IOVA) without the DMA API, and the fake unmap
 * checks that it gets back exactly what map handed out.
 *
 * Copyright (C) 2026 The accmem authors
 */
#ifndef _ACCMEM_TEST_H
#define _ACCMEM_TEST_H

#include <kunit/test.h>
#include <linux/bits.h>

#include "../accmem.h"

/* Far above any RAM: the fake memory is never dereferenced. */
#define ACCMEM_TEST_PHYS	BIT_ULL(44)
/* What the fake map adds to make a DMA address. */
#define ACCMEM_TEST_IOVA	BIT_ULL(46)

struct accmem_device *accmem_test_device(struct kunit *test, u64 size,
					 u64 chunk);
phys_addr_t accmem_test_phys(struct accmem_device *adev, u64 dev_off);
unsigned int accmem_test_model(struct accmem_buffer *buf, u64 offset,
			       u64 length, u64 max_len, phys_addr_t *phys,
			       u64 *len, unsigned int max);
unsigned int accmem_test_unmaps(struct accmem_device *adev);
struct accmem_buffer *accmem_test_buffer(struct kunit *test,
					 struct accmem_device *adev, u64 size,
					 u64 align, bool contiguous);
struct device *accmem_test_dma_dev(struct kunit *test, unsigned int max_seg);

#endif /* _ACCMEM_TEST_H */
