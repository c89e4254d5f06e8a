// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite accmem_sg: the scatterlists handed to importers
 * (accmem_mapping_create(), accmem_mapping_destroy()).
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/sizes.h>

#include "accmem_test.h"

#define SG_MAX_SEGS	1024

/*
 * @map must be the reference model's cut of the range with segments of at
 * most @max_seg, in order, with the fake map's DMA addresses.
 */
static void sg_expect(struct kunit *test, struct accmem_mapping *map,
		      struct accmem_dmabuf *exp, u64 max_seg)
{
	struct scatterlist *sg;
	phys_addr_t *phys;
	unsigned int i, n;
	u64 *len, total = 0;

	phys = kunit_kcalloc(test, SG_MAX_SEGS, sizeof(*phys), GFP_KERNEL);
	len = kunit_kcalloc(test, SG_MAX_SEGS, sizeof(*len), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, phys);
	KUNIT_ASSERT_NOT_NULL(test, len);
	n = accmem_test_model(exp->buf, exp->offset, exp->length, max_seg,
			      phys, len, SG_MAX_SEGS);
	KUNIT_ASSERT_LE(test, n, SG_MAX_SEGS);

	KUNIT_ASSERT_EQ(test, map->nsegs, n);
	KUNIT_ASSERT_EQ(test, map->sgt.orig_nents, n);
	KUNIT_ASSERT_EQ(test, map->sgt.nents, n);
	for_each_sgtable_dma_sg(&map->sgt, sg, i) {
		KUNIT_EXPECT_EQ_MSG(test, (u64)sg_dma_address(sg),
				    (u64)phys[i] + ACCMEM_TEST_IOVA,
				    "segment %u", i);
		KUNIT_EXPECT_EQ_MSG(test, (u64)sg_dma_len(sg), len[i],
				    "segment %u", i);
		KUNIT_EXPECT_LE(test, (u64)sg_dma_len(sg), max_seg);
		KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(sg_dma_len(sg)));
		total += sg_dma_len(sg);
	}
	KUNIT_EXPECT_EQ(test, total, exp->length);
	kunit_kfree(test, phys);
	kunit_kfree(test, len);
}

static struct accmem_dmabuf *sg_export(struct kunit *test,
				       struct accmem_buffer *buf, u64 offset,
				       u64 length)
{
	struct accmem_dmabuf *exp;

	exp = kunit_kzalloc(test, sizeof(*exp), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, exp);
	KUNIT_ASSERT_EQ(test, accmem_export_range_check(offset, length,
							buf->size), 0);
	exp->buf = buf;
	exp->adev = accmem_buf_dev(buf);
	exp->offset = offset;
	exp->length = length;
	return exp;
}

struct sg_map {
	struct accmem_device *adev;
	struct accmem_mapping *map;
};

static void sg_unmap_action(void *arg)
{
	struct sg_map *m = arg;

	accmem_mapping_destroy(m->adev, m->map);
}

/*
 * Map @exp for @dev; the mapping is destroyed when the test ends, even if
 * it fails half-way, or earlier by sg_unmap().
 */
static struct sg_map *sg_map(struct kunit *test, struct accmem_dmabuf *exp,
			     struct device *dev, enum dma_data_direction dir)
{
	struct sg_map *m;

	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m);
	m->adev = accmem_buf_dev(exp->buf);
	m->map = accmem_mapping_create(exp, dev, dir, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m->map);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, sg_unmap_action,
							m), 0);
	return m;
}

static void sg_unmap(struct kunit *test, struct sg_map *m)
{
	kunit_release_action(test, sg_unmap_action, m);
}

struct sg_case {
	const char *name;
	u64 chunk;		/* fake device's physical chunking */
	bool contiguous;	/* the buffer */
	u64 size;		/* of the buffer */
	u64 offset;		/* the exported range */
	u64 length;
	unsigned int dev_max_seg; /* importer's limit, 0: DMA API default */
	u64 want_max_seg;	/* what accmem must cut at */
};

static const struct sg_case sg_cases[] = {
	{ "default 64K limit", 0, true, SZ_1M, 0, SZ_1M, 0, SZ_64K },
	{ "64K limit", 0, true, SZ_1M, 0, SZ_1M, SZ_64K, SZ_64K },
	{ "unaligned limit", 0, true, SZ_1M, 0, SZ_1M, SZ_64K + 123, SZ_64K },
	{ "sub-page limit", 0, true, SZ_64K, 0, SZ_64K, 100, PAGE_SIZE },
	{ "no limit, one segment", 0, true, SZ_16M, 0, SZ_16M, UINT_MAX,
	  ACCMEM_MAX_SEGMENT },
	{ "chunks", SZ_1M, true, SZ_4M, 0, SZ_4M, UINT_MAX, ACCMEM_MAX_SEGMENT },
	{ "chunks, 64K limit", SZ_1M, true, SZ_4M, 0, SZ_4M, SZ_64K, SZ_64K },
	{ "sub-range across chunks", SZ_1M, true, SZ_4M, SZ_1M - SZ_8K,
	  SZ_2M + SZ_16K, SZ_128K, SZ_128K },
	{ "several blocks", SZ_64K, false, SZ_8M + SZ_256K, SZ_128K,
	  SZ_8M, UINT_MAX, ACCMEM_MAX_SEGMENT },
};

static void sg_case_desc(const struct sg_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(sg_case, sg_cases, sg_case_desc);

/* Segments follow physical contiguity, cut at the importer's limit. */
static void accmem_sg_segments(struct kunit *test)
{
	const struct sg_case *c = test->param_value;
	struct accmem_device *adev = accmem_test_device(test, SZ_64M, c->chunk);
	struct device *dev = accmem_test_dma_dev(test, c->dev_max_seg);
	struct accmem_dmabuf *exp;
	struct accmem_buffer *buf;
	struct sg_map *m;

	/* Something in front, so the buffer does not start at 0. */
	accmem_test_buffer(test, adev, SZ_1M + SZ_64K, PAGE_SIZE, false);
	buf = accmem_test_buffer(test, adev, c->size, PAGE_SIZE, c->contiguous);
	exp = sg_export(test, buf, c->offset, c->length);

	m = sg_map(test, exp, dev, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_PTR_EQ(test, m->map->dev, dev);
	KUNIT_EXPECT_EQ(test, m->map->dir, DMA_BIDIRECTIONAL);
	sg_expect(test, m->map, exp, c->want_max_seg);
	sg_unmap(test, m);
	KUNIT_EXPECT_EQ(test, accmem_test_unmaps(adev), 1U);
}

/*
 * Segments never reach 2 GiB (INT_MIN for importers that keep lengths in
 * an int), whatever the importer accepts: 2 GiB - PAGE_SIZE at most.
 */
static void accmem_sg_2g_cap(struct kunit *test)
{
	struct accmem_device *adev = accmem_test_device(test, SZ_8G, 0);
	struct device *dev = accmem_test_dma_dev(test, UINT_MAX);
	u64 size = SZ_4G + SZ_1G + SZ_2M;
	struct accmem_buffer *buf;
	struct scatterlist *sg;
	struct sg_map *m;
	unsigned int i;

	buf = accmem_test_buffer(test, adev, size, PAGE_SIZE, true);
	m = sg_map(test, sg_export(test, buf, 0, size), dev, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, m->map->sgt.nents, 3U);
	for_each_sgtable_dma_sg(&m->map->sgt, sg, i)
		KUNIT_EXPECT_EQ(test, sg_dma_len(sg),
				i < 2 ? SZ_2G - PAGE_SIZE :
					SZ_1G + SZ_2M + 2 * PAGE_SIZE);
}

/*
 * A map of more than 262144 segments: its arrays (16 bytes a segment)
 * are beyond the largest kmalloc() and must come from kvmalloc().
 */
static void accmem_sg_many_segments(struct kunit *test)
{
	struct accmem_device *adev = accmem_test_device(test, SZ_2G, 0);
	struct device *dev = accmem_test_dma_dev(test, PAGE_SIZE);
	u64 size = SZ_1G + SZ_64M;
	struct accmem_buffer *buf;
	struct scatterlist *sg;
	struct sg_map *m;
	unsigned int i;

	buf = accmem_test_buffer(test, adev, size, PAGE_SIZE, true);
	m = sg_map(test, sg_export(test, buf, 0, size), dev, DMA_TO_DEVICE);
	KUNIT_ASSERT_EQ(test, m->map->nsegs, (unsigned int)(size / PAGE_SIZE));
	KUNIT_EXPECT_GT(test, m->map->nsegs, 262144U);
	for_each_sgtable_dma_sg(&m->map->sgt, sg, i)
		if (sg_dma_len(sg) != PAGE_SIZE)
			break;
	KUNIT_EXPECT_EQ(test, i, m->map->nsegs);
}

/*
 * Importers edit the table in place (the RDMA core trims the first and
 * last entries to the MR): unmap must still get what map handed out.
 */
static void accmem_sg_restore_on_destroy(struct kunit *test)
{
	struct accmem_device *adev = accmem_test_device(test, SZ_64M, SZ_1M);
	struct device *dev = accmem_test_dma_dev(test, UINT_MAX);
	struct scatterlist *sg, *last = NULL;
	struct accmem_buffer *buf;
	struct sg_map *m;
	unsigned int i;

	buf = accmem_test_buffer(test, adev, SZ_4M, PAGE_SIZE, true);
	m = sg_map(test, sg_export(test, buf, 0, SZ_4M), dev,
		   DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_EQ(test, m->map->sgt.nents, 4U);

	sg = m->map->sgt.sgl;
	sg_dma_address(sg) += PAGE_SIZE;
	sg_dma_len(sg) -= PAGE_SIZE;
	for_each_sgtable_dma_sg(&m->map->sgt, sg, i)
		last = sg;
	sg_dma_len(last) -= 2 * PAGE_SIZE;

	sg_unmap(test, m);
	KUNIT_EXPECT_EQ(test, accmem_test_unmaps(adev), 1U);
}

/*
 * A one-segment mapping is made in the spare storage it is given (the
 * attachment's: no allocation per map), and the storage serves again once
 * that mapping is destroyed; a mapping of more segments is allocated.
 */
static void accmem_sg_spare(struct kunit *test)
{
	struct accmem_device *adev = accmem_test_device(test, SZ_64M, SZ_1M);
	struct device *dev = accmem_test_dma_dev(test, UINT_MAX);
	struct accmem_mapping *spare, *map;
	struct accmem_dmabuf *one, *two;
	struct accmem_buffer *buf;
	int round;

	spare = kunit_kzalloc(test, accmem_mapping_size(1), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, spare);
	buf = accmem_test_buffer(test, adev, SZ_2M, PAGE_SIZE, true);
	one = sg_export(test, buf, 0, PAGE_SIZE);
	/* Across the fake device's 1 MiB chunks: two segments. */
	two = sg_export(test, buf, SZ_1M - PAGE_SIZE, 2 * PAGE_SIZE);

	for (round = 0; round < 2; round++) {
		map = accmem_mapping_create(one, dev, DMA_TO_DEVICE, spare);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, map);
		KUNIT_EXPECT_PTR_EQ(test, map, spare);
		KUNIT_EXPECT_TRUE(test, map->in_spare);
		sg_expect(test, map, one, ACCMEM_MAX_SEGMENT);
		accmem_mapping_destroy(adev, map);
	}

	map = accmem_mapping_create(two, dev, DMA_TO_DEVICE, spare);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, map);
	KUNIT_EXPECT_PTR_NE(test, map, spare);
	KUNIT_EXPECT_FALSE(test, map->in_spare);
	KUNIT_EXPECT_EQ(test, map->nsegs, 2U);
	sg_expect(test, map, two, ACCMEM_MAX_SEGMENT);
	accmem_mapping_destroy(adev, map);

	map = accmem_mapping_create(one, dev, DMA_TO_DEVICE, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, map);
	KUNIT_EXPECT_FALSE(test, map->in_spare);
	accmem_mapping_destroy(adev, map);
	KUNIT_EXPECT_EQ(test, accmem_test_unmaps(adev), 4U);
}

static struct kunit_case accmem_sg_cases[] = {
	KUNIT_CASE_PARAM(accmem_sg_segments, sg_case_gen_params),
	KUNIT_CASE(accmem_sg_2g_cap),
	KUNIT_CASE(accmem_sg_many_segments),
	KUNIT_CASE(accmem_sg_restore_on_destroy),
	KUNIT_CASE(accmem_sg_spare),
	{}
};

static struct kunit_suite accmem_sg_suite = {
	.name = "accmem_sg",
	.test_cases = accmem_sg_cases,
};

kunit_test_suite(accmem_sg_suite);
