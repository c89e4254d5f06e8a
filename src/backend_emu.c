// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: emulated device memory, carved from system RAM at module load.
 *
 * For machines without the hardware and for importers that need struct
 * pages. The memory is a set of 4 MiB page blocks; device address N lives in
 * block N / 4 MiB. Importers get it through dma_map_sgtable() (it has
 * pages, so dma_map_resource() would be wrong), CPU mappings are cached.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "accmem_backend.h"

#define ACCMEM_EMU_CHUNK_ORDER	(22 - PAGE_SHIFT)
#define ACCMEM_EMU_CHUNK	(PAGE_SIZE << ACCMEM_EMU_CHUNK_ORDER)
#define ACCMEM_EMU_MAX_DEVICES	16

struct accmem_emu {
	unsigned int nchunks;
	struct page *chunks[];
};

/* Only touched at module load and unload, which never overlap: no lock. */
static struct accmem_device *accmem_emu_devs[ACCMEM_EMU_MAX_DEVICES];
static unsigned int accmem_emu_count;

static u64 accmem_emu_span(struct accmem_device *adev, u64 offset,
			   phys_addr_t *phys)
{
	struct accmem_emu *emu = accmem_device_backend(adev);
	u64 in_chunk = offset & (ACCMEM_EMU_CHUNK - 1);

	*phys = page_to_phys(emu->chunks[offset / ACCMEM_EMU_CHUNK]) + in_chunk;
	return ACCMEM_EMU_CHUNK - in_chunk;
}

static int accmem_emu_map(struct accmem_device *adev,
			  struct accmem_mapping *map)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_sg(&map->sgt, sg, i)
		sg_set_page(sg, pfn_to_page(PHYS_PFN(map->segs[i].phys)),
			    map->segs[i].len, 0);
	/*
	 * CPU coherence is the business of begin/end_cpu_access (as in DRM
	 * PRIME); it also lets one device map the same memory more than once
	 * (several attachments), which DMA-API debug rejects for mappings
	 * that sync.
	 */
	return dma_map_sgtable(map->dev, &map->sgt, map->dir,
			       DMA_ATTR_SKIP_CPU_SYNC);
}

static void accmem_emu_unmap(struct accmem_device *adev,
			     struct accmem_mapping *map)
{
	dma_unmap_sgtable(map->dev, &map->sgt, map->dir, DMA_ATTR_SKIP_CPU_SYNC);
}

/*
 * From the exporter's own record of the mapping: the importer may be
 * editing its table (the RDMA core trims entries in place) under the
 * reservation lock, which CPU-access callbacks do not hold.
 */
static void accmem_emu_sync(struct accmem_mapping *map, bool for_cpu)
{
	unsigned int i;

	for (i = 0; i < map->sgt.nents; i++) {
		if (for_cpu)
			dma_sync_single_for_cpu(map->dev, map->saved[i].addr,
						map->saved[i].len, map->dir);
		else
			dma_sync_single_for_device(map->dev,
						   map->saved[i].addr,
						   map->saved[i].len, map->dir);
	}
}

static void accmem_emu_scrub(struct accmem_device *adev, u64 offset, u64 len)
{
	while (len) {
		phys_addr_t phys;
		u64 n = min(accmem_emu_span(adev, offset, &phys), len);

		memset(page_address(pfn_to_page(PHYS_PFN(phys))) + offset_in_page(phys),
		       0, n);
		offset += n;
		len -= n;
	}
}

static pgprot_t accmem_emu_pgprot(pgprot_t prot)
{
	return prot;
}

static void accmem_emu_free(struct accmem_emu *emu)
{
	unsigned int i;

	for (i = 0; i < emu->nchunks; i++)
		if (emu->chunks[i])
			__free_pages(emu->chunks[i], ACCMEM_EMU_CHUNK_ORDER);
	kfree(emu);
}

static void accmem_emu_release(void *backend)
{
	accmem_emu_free(backend);
}

static const struct accmem_backend_ops accmem_emu_ops = {
	.kind = ACCMEM_BACKEND_EMU,
	.has_pages = true,
	.span = accmem_emu_span,
	.map = accmem_emu_map,
	.unmap = accmem_emu_unmap,
	.sync = accmem_emu_sync,
	.scrub = accmem_emu_scrub,
	.pgprot = accmem_emu_pgprot,
	.release = accmem_emu_release,
};

static int accmem_emu_cmp_chunk(const void *a, const void *b)
{
	unsigned long pa = page_to_pfn(*(struct page * const *)a);
	unsigned long pb = page_to_pfn(*(struct page * const *)b);

	return pa < pb ? -1 : pa > pb;
}

static struct accmem_emu *accmem_emu_alloc(u64 size)
{
	unsigned int i, n = size / ACCMEM_EMU_CHUNK;
	struct accmem_emu *emu;

	emu = kzalloc(struct_size(emu, chunks, n), GFP_KERNEL);
	if (!emu)
		return NULL;
	emu->nchunks = n;
	for (i = 0; i < n; i++) {
		/*
		 * Not zeroed here: the probe scrub zeroes it like real VRAM.
		 * Compound, so that every page has a reference count (its
		 * head's): an importer may get_page()/put_page() the pages
		 * of its sg_table, which on a tail page of a plain high-order
		 * block (refcount 0) would free it.
		 */
		emu->chunks[i] = alloc_pages(GFP_KERNEL | __GFP_COMP |
					     __GFP_RETRY_MAYFAIL | __GFP_NOWARN,
					     ACCMEM_EMU_CHUNK_ORDER);
		if (!emu->chunks[i]) {
			accmem_emu_free(emu);
			return NULL;
		}
	}
	/*
	 * In physical order, so that blocks the page allocator happened to
	 * hand out adjacent make longer contiguous device ranges: fewer
	 * scatterlist segments for importers.
	 */
	sort(emu->chunks, n, sizeof(*emu->chunks), accmem_emu_cmp_chunk, NULL);
	return emu;
}

static int accmem_emu_add(u64 size)
{
	struct accmem_device *adev;
	struct accmem_emu *emu;

	emu = accmem_emu_alloc(size);
	if (!emu)
		return -ENOMEM;

	adev = accmem_device_add(NULL, &accmem_emu_ops, emu, size);
	if (IS_ERR(adev))
		return PTR_ERR(adev);
	accmem_emu_devs[accmem_emu_count++] = adev;
	return 0;
}

/**
 * accmem_emu_init() - create the emulated devices
 * @count: number of devices (module parameter emu_devices)
 * @size: bytes of each (module parameter emu_size), rounded up to 4 MiB
 *
 * Return: 0 or a negative errno; on error no device is left.
 */
int accmem_emu_init(unsigned int count, u64 size)
{
	unsigned int i;
	int ret;

	if (!count)
		return 0;
	if (count > ACCMEM_EMU_MAX_DEVICES || !size) {
		pr_err("accmem: emu_devices must be 1..%d and emu_size non-zero\n",
		       ACCMEM_EMU_MAX_DEVICES);
		return -EINVAL;
	}
	size = round_up(size, ACCMEM_EMU_CHUNK);

	for (i = 0; i < count; i++) {
		ret = accmem_emu_add(size);
		if (ret) {
			accmem_emu_exit();
			return ret;
		}
	}
	return 0;
}

/**
 * accmem_emu_exit() - remove the emulated devices
 *
 * Their memory is freed once nothing references it any more.
 */
void accmem_emu_exit(void)
{
	while (accmem_emu_count)
		accmem_device_remove(accmem_emu_devs[--accmem_emu_count]);
}
