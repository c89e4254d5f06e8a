// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite accmem_alloc: the device-address allocator (src/alloc.c).
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/bitmap.h>
#include <linux/prandom.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "accmem_test.h"

static u64 blocks_bytes(struct accmem_device *adev, struct list_head *blocks)
{
	struct accmem_mm_iter it;
	u64 sum = 0;

	accmem_mm_for_each_range(&it, adev, blocks)
		sum += it.size;
	return sum;
}

/* Device address of the first range of an allocation. */
static u64 blocks_start(struct accmem_device *adev, struct list_head *blocks)
{
	struct accmem_mm_iter it;

	accmem_mm_iter_init(&it, adev, blocks);
	if (!accmem_mm_iter_next(&it))
		return U64_MAX;
	return it.offset;
}

/* A contiguous request is one aligned power-of-two block, trimmed back. */
static void accmem_alloc_contiguous_trim(struct kunit *test)
{
	struct accmem_device *adev = accmem_test_device(test, SZ_64M, 0);
	u64 size = SZ_4M + SZ_1M + PAGE_SIZE;
	struct accmem_buffer *buf;
	struct accmem_mm_iter it;
	u64 next;

	buf = accmem_test_buffer(test, adev, size, PAGE_SIZE, true);
	KUNIT_EXPECT_EQ(test, blocks_bytes(adev, &buf->blocks), size);
	KUNIT_EXPECT_EQ(test, accmem_mm_free_bytes(adev), SZ_64M - size);

	next = blocks_start(adev, &buf->blocks);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(next, SZ_8M));
	accmem_mm_for_each_range(&it, adev, &buf->blocks) {
		KUNIT_EXPECT_EQ(test, it.offset, next);
		next = it.offset + it.size;
	}
}

/* A contiguous request honours an alignment larger than its size. */
static void accmem_alloc_contiguous_align(struct kunit *test)
{
	struct accmem_device *adev = accmem_test_device(test, SZ_64M, 0);
	struct accmem_buffer *buf;

	accmem_test_buffer(test, adev, PAGE_SIZE, PAGE_SIZE, true);
	buf = accmem_test_buffer(test, adev, SZ_64K, SZ_16M, true);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(blocks_start(adev, &buf->blocks),
					   SZ_16M));
	KUNIT_EXPECT_EQ(test, blocks_bytes(adev, &buf->blocks), (u64)SZ_64K);
}

/* Without contiguity, every block is at least @align and aligned to it. */
static void accmem_alloc_block_align(struct kunit *test)
{
	struct accmem_device *adev = accmem_test_device(test, SZ_64M, 0);
	struct accmem_buffer *buf;
	struct accmem_mm_iter it;
	unsigned int i;

	/* Fragment the space in 1 MiB steps first. */
	for (i = 0; i < 8; i++)
		accmem_test_buffer(test, adev, SZ_1M, SZ_1M, false);
	buf = accmem_test_buffer(test, adev, SZ_8M + SZ_2M, SZ_2M, false);
	KUNIT_EXPECT_EQ(test, blocks_bytes(adev, &buf->blocks),
			(u64)SZ_8M + SZ_2M);
	accmem_mm_for_each_range(&it, adev, &buf->blocks) {
		KUNIT_EXPECT_GE(test, it.size, (u64)SZ_2M);
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED(it.offset, SZ_2M));
	}
}

/*
 * Requests that can never fit fail with -E2BIG, those that do not fit now
 * with -ENOSPC; neither changes anything.
 */
static void accmem_alloc_enospc(struct kunit *test)
{
	struct accmem_device *adev = accmem_test_device(test, SZ_16M, 0);
	LIST_HEAD(blocks);

	KUNIT_EXPECT_EQ(test, accmem_mm_alloc(adev, SZ_32M, PAGE_SIZE, false,
					      &blocks), -E2BIG);
	KUNIT_EXPECT_EQ(test, accmem_mm_alloc(adev, PAGE_SIZE, SZ_32M, true,
					      &blocks), -E2BIG);
	KUNIT_EXPECT_EQ(test, accmem_mm_alloc(adev, SZ_16M + PAGE_SIZE,
					      PAGE_SIZE, true, &blocks),
			-E2BIG);
	KUNIT_EXPECT_TRUE(test, list_empty(&blocks));
	KUNIT_EXPECT_EQ(test, accmem_mm_free_bytes(adev), (u64)SZ_16M);

	/* 8 MiB + 4 KiB contiguous needs a free 16 MiB block. */
	accmem_test_buffer(test, adev, PAGE_SIZE, PAGE_SIZE, true);
	KUNIT_EXPECT_EQ(test, accmem_mm_alloc(adev, SZ_8M + PAGE_SIZE,
					      PAGE_SIZE, true, &blocks),
			-ENOSPC);
	KUNIT_EXPECT_TRUE(test, list_empty(&blocks));
	KUNIT_EXPECT_EQ(test, accmem_mm_free_bytes(adev),
			(u64)SZ_16M - PAGE_SIZE);

	accmem_test_buffer(test, adev, SZ_16M - 2 * PAGE_SIZE, PAGE_SIZE,
			   false);
	KUNIT_EXPECT_EQ(test, accmem_mm_alloc(adev, 2 * PAGE_SIZE, PAGE_SIZE,
					      false, &blocks), -ENOSPC);
	KUNIT_EXPECT_TRUE(test, list_empty(&blocks));
	KUNIT_EXPECT_EQ(test, accmem_mm_free_bytes(adev), (u64)PAGE_SIZE);
	accmem_test_buffer(test, adev, PAGE_SIZE, PAGE_SIZE, true);
	KUNIT_EXPECT_EQ(test, accmem_mm_free_bytes(adev), 0ULL);
}

/*
 * Fragmented free space serves scattered requests but not contiguous
 * ones; once everything is free again it coalesces into one range.
 */
static void accmem_alloc_fragmentation(struct kunit *test)
{
	const unsigned int n = SZ_4M / PAGE_SIZE;
	struct accmem_device *adev = accmem_test_device(test, SZ_4M, 0);
	struct list_head *pages;
	LIST_HEAD(blocks);
	unsigned int i;

	pages = kunit_kcalloc(test, n, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	for (i = 0; i < n; i++) {
		INIT_LIST_HEAD(&pages[i]);
		KUNIT_ASSERT_EQ(test, accmem_mm_alloc(adev, PAGE_SIZE,
						      PAGE_SIZE, false,
						      &pages[i]), 0);
	}
	for (i = 0; i < n; i += 2)
		accmem_mm_free(adev, &pages[i]);
	KUNIT_EXPECT_EQ(test, accmem_mm_free_bytes(adev), (u64)SZ_2M);

	KUNIT_EXPECT_EQ(test, accmem_mm_alloc(adev, 2 * PAGE_SIZE, PAGE_SIZE,
					      true, &blocks), -ENOSPC);
	KUNIT_EXPECT_EQ(test, accmem_mm_alloc(adev, SZ_1M, PAGE_SIZE, false,
					      &blocks), 0);
	KUNIT_EXPECT_EQ(test, blocks_bytes(adev, &blocks), (u64)SZ_1M);
	accmem_mm_free(adev, &blocks);

	for (i = 1; i < n; i += 2)
		accmem_mm_free(adev, &pages[i]);
	KUNIT_EXPECT_EQ(test, accmem_mm_free_bytes(adev), (u64)SZ_4M);
	KUNIT_EXPECT_EQ(test, accmem_mm_alloc(adev, SZ_4M, PAGE_SIZE, true,
					      &blocks), 0);
	accmem_mm_free(adev, &blocks);
}

/* Seeded random sizes until full: no page handed out twice. */
static void accmem_alloc_no_overlap(struct kunit *test)
{
	const u64 mem = SZ_16M;
	const unsigned int npages = mem / PAGE_SIZE;
	struct accmem_device *adev = accmem_test_device(test, mem, 0);
	struct rnd_state rnd;
	struct accmem_mm_iter it;
	unsigned long *used;
	u64 allocated = 0;
	LIST_HEAD(all);

	used = kunit_kzalloc(test, BITS_TO_LONGS(npages) * sizeof(long),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, used);
	prandom_seed_state(&rnd, 0xacce55);

	for (;;) {
		u64 size = (1 + prandom_u32_state(&rnd) % 300) * PAGE_SIZE;
		bool contiguous = prandom_u32_state(&rnd) & 1;
		LIST_HEAD(blocks);
		int ret;

		ret = accmem_mm_alloc(adev, size, PAGE_SIZE, contiguous,
				      &blocks);
		if (ret) {
			KUNIT_EXPECT_EQ(test, ret, -ENOSPC);
			if (contiguous)
				continue;
			break;
		}
		KUNIT_EXPECT_EQ(test, blocks_bytes(adev, &blocks), size);
		accmem_mm_for_each_range(&it, adev, &blocks) {
			unsigned int first = it.offset / PAGE_SIZE;
			unsigned int count = it.size / PAGE_SIZE;

			KUNIT_ASSERT_LE(test, first + count, npages);
			KUNIT_EXPECT_EQ(test, find_next_bit(used, first + count,
							    first),
					first + count);
			bitmap_set(used, first, count);
		}
		allocated += size;
		list_splice_tail(&blocks, &all);
	}
	KUNIT_EXPECT_EQ(test, accmem_mm_free_bytes(adev), mem - allocated);
	KUNIT_EXPECT_EQ(test, (u64)bitmap_weight(used, npages) * PAGE_SIZE,
			allocated);
	accmem_mm_free(adev, &all);
}

static struct kunit_case accmem_alloc_cases[] = {
	KUNIT_CASE(accmem_alloc_contiguous_trim),
	KUNIT_CASE(accmem_alloc_contiguous_align),
	KUNIT_CASE(accmem_alloc_block_align),
	KUNIT_CASE(accmem_alloc_enospc),
	KUNIT_CASE(accmem_alloc_fragmentation),
	KUNIT_CASE(accmem_alloc_no_overlap),
	{}
};

static struct kunit_suite accmem_alloc_suite = {
	.name = "accmem_alloc",
	.test_cases = accmem_alloc_cases,
};

kunit_test_suite(accmem_alloc_suite);
