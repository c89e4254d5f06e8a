// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: device-address allocator.
 *
 * The kernel's VRAM buddy allocator (drm_buddy / gpu_buddy): O(log n)
 * allocation and free, built for tens of GiB of device memory. Memory on
 * its free lists is always zero: buffers are scrubbed before their blocks
 * are returned here, and the whole device is scrubbed at probe.
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
 * Return: 0, -ENOSPC when the device has no such free range, or -ENOMEM.
 */
int accmem_mm_alloc(struct accmem_device *adev, u64 size, u64 align,
		    bool contiguous, struct list_head *blocks)
{
	u64 rounded = size;
	int ret;

	if (size > adev->mem_size || align > adev->mem_size)
		return -ENOSPC;

	/*
	 * A contiguous range is one buddy block of the next power of two,
	 * aligned to its own size, trimmed back to the requested size.
	 */
	if (contiguous) {
		rounded = roundup_pow_of_two(max(size, align));
		align = rounded;
	}
	if (rounded > adev->mem_size)
		return -ENOSPC;

	mutex_lock(&adev->mm_lock);
	ret = accmem_buddy_alloc(&adev->mm, rounded, align, blocks);
	if (!ret && rounded != size) {
		ret = accmem_buddy_trim(&adev->mm, size, blocks);
		if (ret)
			accmem_buddy_free(&adev->mm, blocks);
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
	accmem_buddy_free(&adev->mm, blocks);
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
 * accmem_block_offset() - device address of a block
 * @block: block
 *
 * Return: the offset in device memory.
 */
u64 accmem_block_offset(struct accmem_buddy_block *block)
{
	return accmem_buddy_block_offset(block);
}

/**
 * accmem_block_size() - bytes of a block
 * @adev: device the block belongs to
 * @block: block
 *
 * Return: its size.
 */
u64 accmem_block_size(struct accmem_device *adev,
		      struct accmem_buddy_block *block)
{
	return accmem_buddy_block_size(&adev->mm, block);
}
