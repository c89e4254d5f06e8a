/* SPDX-License-Identifier: GPL-2.0 */
/*
 * accmem: every difference between the supported kernels lives here.
 *
 * Supported: Debian's 6.1 (drm_buddy module, vm_flags written directly,
 * dma-buf locking before the 6.2 convention), Debian's 6.12 (buddy
 * allocator built in as gpu_buddy, vm_flags_set()) and the newest Debian
 * kernel, 7.x (the allocator checks its lock with lockdep).
 */
#ifndef _ACCMEM_COMPAT_H
#define _ACCMEM_COMPAT_H

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/version.h>

/* Namespaced dma-buf symbols: a bare token before 6.13, a string after. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define ACCMEM_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS("DMA_BUF")
#else
#define ACCMEM_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS(DMA_BUF)
#endif

/* vma->vm_flags became read-only behind vm_flags_set() in 6.3. */
static inline void accmem_vm_flags_set(struct vm_area_struct *vma,
				       unsigned long flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * Telling dynamic importers that their mappings are no longer valid:
 * dma_buf_move_notify() until 7.0, dma_buf_invalidate_mappings() from 7.1
 * on (same calling rules: the reservation lock held).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 1, 0)
#define accmem_dma_buf_invalidate	dma_buf_invalidate_mappings
#else
#define accmem_dma_buf_invalidate	dma_buf_move_notify
#endif

/*
 * The revoke protocol of the same dma-buf core (7.1 on): a pinned
 * attachment whose importer implements invalidate_mappings unmaps within
 * bounded time when told (dma_buf_attach_revocable()). Before, no pinned
 * importer can be revoked.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 1, 0)
#define accmem_dma_buf_attach_revocable	dma_buf_attach_revocable
#else
#define accmem_dma_buf_attach_revocable(attach)	((void)(attach), false)
#endif

/* The same for clearing flags: vm_flags_clear() from 6.3. */
static inline void accmem_vm_flags_clear(struct vm_area_struct *vma,
					 unsigned long flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/* pci_p2pdma_distance() only means something with CONFIG_PCI_P2PDMA. */
#define ACCMEM_HAVE_P2PDMA	IS_ENABLED(CONFIG_PCI_P2PDMA)

/* dma_buf_vmap_unlocked() arrived with the 6.2 locking convention. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define accmem_compat_vmap_unlocked	dma_buf_vmap_unlocked
#define accmem_compat_vunmap_unlocked	dma_buf_vunmap_unlocked
#else
#define accmem_compat_vmap_unlocked	dma_buf_vmap
#define accmem_compat_vunmap_unlocked	dma_buf_vunmap
#endif

/*
 * The VRAM buddy allocator: Debian's 6.12 builds it into vmlinux as
 * gpu_buddy; 6.1 has it in the drm_buddy module with a slightly older API
 * (no start argument to trim, no flags to free). Only src/alloc.c uses
 * these names.
 */
#if IS_ENABLED(CONFIG_GPU_BUDDY)
#include <linux/gpu_buddy.h>

#define accmem_buddy			gpu_buddy
#define accmem_buddy_block		gpu_buddy_block
#define accmem_buddy_init		gpu_buddy_init
#define accmem_buddy_fini		gpu_buddy_fini
#define accmem_buddy_alloc_blocks	gpu_buddy_alloc_blocks
#define accmem_buddy_block_offset	gpu_buddy_block_offset
#define accmem_buddy_block_size		gpu_buddy_block_size
#define accmem_buddy_trim(mm, size, blocks) \
	gpu_buddy_block_trim(mm, NULL, size, blocks)
#define accmem_buddy_free_list(mm, blocks) \
	gpu_buddy_free_list(mm, blocks, 0)

/*
 * 7.x's allocator asserts (lockdep) that its callers hold the driver's
 * lock once told which one; gpu_buddy_driver_set_lock() is a macro there.
 */
#ifdef gpu_buddy_driver_set_lock
#define accmem_buddy_set_lock(mm, lock)	gpu_buddy_driver_set_lock(mm, lock)
#endif
#else
#include <drm/drm_buddy.h>

#define accmem_buddy			drm_buddy
#define accmem_buddy_block		drm_buddy_block
#define accmem_buddy_init		drm_buddy_init
#define accmem_buddy_fini		drm_buddy_fini
#define accmem_buddy_alloc_blocks	drm_buddy_alloc_blocks
#define accmem_buddy_block_offset	drm_buddy_block_offset
#define accmem_buddy_block_size		drm_buddy_block_size
#define accmem_buddy_trim		drm_buddy_block_trim
#define accmem_buddy_free_list		drm_buddy_free_list
#endif

/*
 * Tracepoints: __assign_str() took the source string again until 6.10;
 * from 6.10 on __string() records it and __assign_str() names the field
 * only. Only src/accmem_trace.h uses it.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define accmem_assign_str(dst, ...)	__assign_str(dst)
#else
#define accmem_assign_str(dst, ...)	__assign_str(dst, __VA_ARGS__)
#endif

#ifndef accmem_buddy_set_lock
#define accmem_buddy_set_lock(mm, lock)	do { (void)(mm); (void)(lock); } while (0)
#endif

#endif /* _ACCMEM_COMPAT_H */
