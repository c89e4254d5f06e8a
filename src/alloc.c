// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: device-address allocator.
 *
 * The kernel's VRAM buddy allocator (drm_buddy / gpu_buddy): O(log n)
 * allocation and free, built for tens of GiB of device memory. Memory on
 * its free lists is always zero: buffers are scrubbed before their blocks
 * are returned here, and the whole device is scrubbed at probe.
 *
 * The rest of the module sees an allocation as a list of blocks it never
 * looks into (a struct list_head) and walks its ranges of device addresses,
 * in buffer order, with accmem_mm_for_each_range().
 * Nothing else calls the allocator or looks at its types (accmem.h only
 * embeds its state in struct accmem_device): compat.h names them for this
 * file.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/log2.h>

#include "accmem.h"

/**
 * accmem_mm_init() - set up the allocator for the device's memory
 * @adev: device with mem_size set
 *
 * Return: 0 or a negative errno.
 */
int accmem_mm_init(struct accmem_device *adev)
{
	int ret;

	ret = accmem_buddy_init(&adev->mm, adev->mem_size, PAGE_SIZE);
	if (!ret)
		accmem_buddy_set_lock(&adev->mm, &adev->mm_lock);
	return ret;
}

/**
 * accmem_mm_fini() - tear the allocator down; everything must be free
 * @adev: device
 */
void accmem_mm_fini(struct accmem_device *adev)
{
	accmem_buddy_fini(&adev->mm);
}

/**
 * accmem_mm_alloc() - allocate device memory
 * @adev: device
 * @size: bytes, a multiple of PAGE_SIZE
 * @align: power of two >= PAGE_SIZE; without @contiguous, @size must be a
 *	multiple of it
 * @contiguous: one range of device addresses
 * @blocks: receives the blocks
 *
 * Return: 0; -E2BIG when the request can never fit the device (larger
 * than its memory); -ENOSPC when the device has no such free range now;
 * -ENOMEM.
 */
int accmem_mm_alloc(struct accmem_device *adev, u64 size, u64 align,
		    bool contiguous, struct list_head *blocks)
{
	u64 rounded = size;
	int ret;

	if (size > adev->mem_size || align > adev->mem_size)
		return -E2BIG;

	/*
	 * A contiguous range is one buddy block of the next power of two,
	 * aligned to its own size, trimmed back to the requested size.
	 */
	if (contiguous) {
		rounded = roundup_pow_of_two(max(size, align));
		align = rounded;
	}
	if (rounded > adev->mem_size)
		return -E2BIG;

	mutex_lock(&adev->mm_lock);
	ret = accmem_buddy_alloc_blocks(&adev->mm, 0, adev->mm.size, rounded,
					align, blocks, 0);
	if (!ret && rounded != size) {
		ret = accmem_buddy_trim(&adev->mm, size, blocks);
		if (ret)
			accmem_buddy_free_list(&adev->mm, blocks);
	}
	mutex_unlock(&adev->mm_lock);

	return ret;
}

/**
 * accmem_mm_free() - return scrubbed blocks to the allocator
 * @adev: device
 * @blocks: blocks from accmem_mm_alloc(), zeroed
 */
void accmem_mm_free(struct accmem_device *adev, struct list_head *blocks)
{
	mutex_lock(&adev->mm_lock);
	accmem_buddy_free_list(&adev->mm, blocks);
	mutex_unlock(&adev->mm_lock);
}

/**
 * accmem_mm_free_bytes() - bytes not allocated
 * @adev: device
 *
 * Return: free bytes.
 */
u64 accmem_mm_free_bytes(struct accmem_device *adev)
{
	u64 avail;

	mutex_lock(&adev->mm_lock);
	avail = adev->mm.avail;
	mutex_unlock(&adev->mm_lock);
	return avail;
}

/**
 * accmem_mm_iter_next() - advance to the next range of an allocation
 * @it: iterator set up by accmem_mm_iter_init()
 *
 * Each range is one allocator block: @it->offset is its device address,
 * @it->size its bytes. The blocks of an allocation do not change between
 * accmem_mm_alloc() and accmem_mm_free(), so no lock is needed.
 *
 * Return: true with @it on the next range, false after the last one.
 */
bool accmem_mm_iter_next(struct accmem_mm_iter *it)
{
	struct accmem_buddy_block *block;

	it->pos = it->pos->next;
	if (it->pos == it->head)
		return false;
	block = list_entry(it->pos, struct accmem_buddy_block, link);
	it->offset = accmem_buddy_block_offset(block);
	it->size = accmem_buddy_block_size(&it->adev->mm, block);
	return true;
}
