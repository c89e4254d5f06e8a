// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite accmem_range: export range validation and the walk over the
 * physical memory behind a buffer range (accmem_export_range_check(),
 * accmem_buffer_walk()).
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/sizes.h>

#include "accmem_test.h"

/* At most this many pieces are recorded per walk. */
#define RANGE_MAX_PIECES	512

struct range_pieces {
	unsigned int count;
	int fail_at;		/* return -EIO for this piece (0: never) */
	phys_addr_t phys[RANGE_MAX_PIECES];
	u64 len[RANGE_MAX_PIECES];
};

static int range_record(void *arg, phys_addr_t phys, u64 len)
{
	struct range_pieces *p = arg;

	if (p->count >= RANGE_MAX_PIECES)
		return -E2BIG;
	p->phys[p->count] = phys;
	p->len[p->count] = len;
	p->count++;
	return p->count == p->fail_at ? -EIO : 0;
}

static void range_expected(struct accmem_buffer *buf, u64 offset, u64 length,
			   struct range_pieces *p)
{
	p->count = accmem_test_model(buf, offset, length, U64_MAX, p->phys,
				     p->len, RANGE_MAX_PIECES);
}

static void range_expect_walk(struct kunit *test, struct accmem_buffer *buf,
			      u64 offset, u64 length)
{
	struct range_pieces *got, *want;
	unsigned int i;

	got = kunit_kzalloc(test, sizeof(*got), GFP_KERNEL);
	want = kunit_kzalloc(test, sizeof(*want), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, got);
	KUNIT_ASSERT_NOT_NULL(test, want);

	range_expected(buf, offset, length, want);
	KUNIT_ASSERT_EQ(test, accmem_buffer_walk(buf, offset, length,
						 range_record, got), 0);
	KUNIT_ASSERT_EQ_MSG(test, got->count, want->count,
			    "offset %#llx length %#llx", offset, length);
	for (i = 0; i < got->count; i++) {
		KUNIT_EXPECT_EQ_MSG(test, (u64)got->phys[i],
				    (u64)want->phys[i], "piece %u", i);
		KUNIT_EXPECT_EQ_MSG(test, got->len[i], want->len[i],
				    "piece %u", i);
	}
	kunit_kfree(test, got);
	kunit_kfree(test, want);
}

/* One contiguous buffer on contiguous memory is one piece. */
static void accmem_range_one_piece(struct kunit *test)
{
	struct accmem_device *adev = accmem_test_device(test, SZ_64M, 0);
	struct accmem_buffer *buf;
	struct range_pieces *p;

	accmem_test_buffer(test, adev, SZ_1M, PAGE_SIZE, true);
	buf = accmem_test_buffer(test, adev, SZ_8M + SZ_4K, PAGE_SIZE, true);
	p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, accmem_buffer_walk(buf, 0, buf->size,
						 range_record, p), 0);
	KUNIT_ASSERT_EQ(test, p->count, 1U);
	KUNIT_EXPECT_EQ(test, p->len[0], buf->size);
	range_expect_walk(test, buf, 0, buf->size);
}

/* Physically scattered chunks split the walk at every chunk boundary. */
static void accmem_range_chunks(struct kunit *test)
{
	struct accmem_device *adev = accmem_test_device(test, SZ_64M, SZ_1M);
	struct accmem_buffer *buf;
	struct range_pieces *p;
	unsigned int i;

	buf = accmem_test_buffer(test, adev, SZ_4M, PAGE_SIZE, true);
	p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, accmem_buffer_walk(buf, 0, SZ_4M, range_record,
						 p), 0);
	KUNIT_ASSERT_EQ(test, p->count, 4U);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, p->len[i], (u64)SZ_1M);
	range_expect_walk(test, buf, 0, SZ_4M);
	range_expect_walk(test, buf, SZ_1M - PAGE_SIZE, 2 * PAGE_SIZE);
	range_expect_walk(test, buf, SZ_1M + PAGE_SIZE, SZ_2M);
}

/*
 * Every page-aligned sub-range of a buffer made of scattered blocks, on
 * contiguous and on chunked memory. The memory is filled and every other
 * piece freed first, so the buffer lands in the holes.
 */
static void accmem_range_subranges(struct kunit *test)
{
	const unsigned int pages = 23;
	u64 chunk = *(const u64 *)test->param_value;
	struct accmem_device *adev = accmem_test_device(test, 64 * PAGE_SIZE,
							chunk);
	struct list_head holes[8];
	struct accmem_buffer *buf;
	unsigned int i, first, n;

	for (i = 0; i < ARRAY_SIZE(holes); i++) {
		INIT_LIST_HEAD(&holes[i]);
		accmem_test_buffer(test, adev, 2 * PAGE_SIZE, PAGE_SIZE, true);
		KUNIT_ASSERT_EQ(test, accmem_mm_alloc(adev, 6 * PAGE_SIZE,
						      PAGE_SIZE, false,
						      &holes[i]), 0);
	}
	KUNIT_ASSERT_EQ(test, accmem_mm_free_bytes(adev), 0ULL);
	for (i = 0; i < ARRAY_SIZE(holes); i++)
		accmem_mm_free(adev, &holes[i]);

	buf = accmem_test_buffer(test, adev, pages * PAGE_SIZE, PAGE_SIZE,
				 false);
	KUNIT_EXPECT_GT(test, list_count_nodes(&buf->blocks), 4UL);
	for (first = 0; first < pages; first++)
		for (n = 1; first + n <= pages; n++)
			range_expect_walk(test, buf, first * PAGE_SIZE,
					  n * PAGE_SIZE);
}

static const u64 range_chunks[] = { 0, 2 * PAGE_SIZE, 8 * PAGE_SIZE };

static void range_chunk_desc(const u64 *chunk, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "chunk %llu", *chunk);
}

KUNIT_ARRAY_PARAM(range_chunk, range_chunks, range_chunk_desc);

/* An error from the callback stops the walk and is returned. */
static void accmem_range_error_stops(struct kunit *test)
{
	struct accmem_device *adev = accmem_test_device(test, SZ_64M, SZ_1M);
	struct accmem_buffer *buf;
	struct range_pieces *p;

	buf = accmem_test_buffer(test, adev, SZ_8M, PAGE_SIZE, true);
	p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	p->fail_at = 2;
	KUNIT_EXPECT_EQ(test, accmem_buffer_walk(buf, 0, SZ_8M, range_record,
						 p), -EIO);
	KUNIT_EXPECT_EQ(test, p->count, 2U);
}

/* The export range rules of ACCMEM_IOC_EXPORT. */
static void accmem_range_export_check(struct kunit *test)
{
	const u64 size = SZ_1M;

	KUNIT_EXPECT_EQ(test, accmem_export_range_check(0, size, size), 0);
	KUNIT_EXPECT_EQ(test, accmem_export_range_check(size - PAGE_SIZE,
							PAGE_SIZE, size), 0);
	KUNIT_EXPECT_EQ(test, accmem_export_range_check(PAGE_SIZE,
							3 * PAGE_SIZE, size),
			0);
	/* empty, unaligned, past the end */
	KUNIT_EXPECT_EQ(test, accmem_export_range_check(0, 0, size), -EINVAL);
	KUNIT_EXPECT_EQ(test, accmem_export_range_check(1, PAGE_SIZE, size),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, accmem_export_range_check(0, PAGE_SIZE + 1,
							size), -EINVAL);
	KUNIT_EXPECT_EQ(test, accmem_export_range_check(0, size + PAGE_SIZE,
							size), -EINVAL);
	KUNIT_EXPECT_EQ(test, accmem_export_range_check(size, PAGE_SIZE,
							size), -EINVAL);
	/* offset + length wraps around to a small end */
	KUNIT_EXPECT_EQ(test, accmem_export_range_check(U64_MAX & PAGE_MASK,
							2 * PAGE_SIZE, size),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, accmem_export_range_check(PAGE_SIZE,
							U64_MAX & PAGE_MASK,
							size), -EINVAL);
}

static struct kunit_case accmem_range_cases[] = {
	KUNIT_CASE(accmem_range_one_piece),
	KUNIT_CASE(accmem_range_chunks),
	KUNIT_CASE_PARAM(accmem_range_subranges, range_chunk_gen_params),
	KUNIT_CASE(accmem_range_error_stops),
	KUNIT_CASE(accmem_range_export_check),
	{}
};

static struct kunit_suite accmem_range_suite = {
	.name = "accmem_range",
	.test_cases = accmem_range_cases,
};

kunit_test_suite(accmem_range_suite);
