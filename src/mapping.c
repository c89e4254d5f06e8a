// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: scatterlists for importers and the CPU views of the memory
 * (mmap for user space, vmap for the kernel).
 *
 * All walk the physical memory behind an exported range. Device memory
 * never moves, so none needs a lock: a buffer's blocks are immutable from
 * its allocation until its release, which cannot happen while a dma-buf (and
 * therefore a mapping) of it exists.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/dma-mapping.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "accmem.h"

struct accmem_seg_builder {
	struct accmem_seg *segs;
	unsigned int count;
	unsigned int max;
	u32 max_seg;
};

/* Cuts physically contiguous pieces into segments of at most max_seg. */
static int accmem_seg_add(void *arg, phys_addr_t phys, u64 len)
{
	struct accmem_seg_builder *b = arg;

	while (len) {
		u32 n = min_t(u64, len, b->max_seg);

		if (b->segs) {
			if (WARN_ON_ONCE(b->count >= b->max))
				return -EINVAL;
			b->segs[b->count].phys = phys;
			b->segs[b->count].len = n;
		}
		b->count++;
		phys += n;
		len -= n;
	}
	return 0;
}

static u32 accmem_max_seg(struct device *dev)
{
	u64 max = min_t(u64, dma_get_max_seg_size(dev), ACCMEM_MAX_SEGMENT);

	return max_t(u64, ALIGN_DOWN(max, PAGE_SIZE), PAGE_SIZE);
}

/**
 * accmem_mapping_create() - build and DMA-map the sg_table of an export
 * @exp: export
 * @dev: importing device
 * @dir: direction
 *
 * Segments merge physically contiguous memory up to
 * min(dma_get_max_seg_size(@dev), 2 GiB - PAGE_SIZE), page aligned. The
 * arrays are kvmalloc()ed: a large export cut into small segments needs
 * more than kmalloc() can give.
 *
 * Return: the mapping, or an ERR_PTR.
 */
struct accmem_mapping *accmem_mapping_create(struct accmem_dmabuf *exp,
					     struct device *dev,
					     enum dma_data_direction dir)
{
	struct accmem_device *adev = accmem_buf_dev(exp->buf);
	struct accmem_seg_builder b = { .max_seg = accmem_max_seg(dev) };
	struct accmem_mapping *map;
	struct scatterlist *sg;
	unsigned int i;
	int ret;

	/* Count, then fill: the table is exactly as long as needed. */
	accmem_buffer_walk(exp->buf, exp->offset, exp->length,
			   accmem_seg_add, &b);
	/* Beyond ~262k segments (16 bytes each) kmalloc cannot serve it. */
	map = kvzalloc(struct_size(map, segs, b.count), GFP_KERNEL);
	if (!map)
		return ERR_PTR(-ENOMEM);
	b.segs = map->segs;
	b.max = b.count;
	b.count = 0;
	ret = accmem_buffer_walk(exp->buf, exp->offset, exp->length,
				 accmem_seg_add, &b);
	if (ret)
		goto err_free;
	map->nsegs = b.count;
	map->dev = dev;
	map->dir = dir;

	ret = sg_alloc_table(&map->sgt, map->nsegs, GFP_KERNEL);
	if (ret)
		goto err_free;

	ret = adev->ops->map(adev, map);
	if (ret)
		goto err_table;

	map->saved = kvcalloc(map->sgt.nents, sizeof(*map->saved), GFP_KERNEL);
	if (!map->saved) {
		ret = -ENOMEM;
		goto err_unmap;
	}
	for_each_sgtable_dma_sg(&map->sgt, sg, i) {
		map->saved[i].addr = sg_dma_address(sg);
		map->saved[i].len = sg_dma_len(sg);
	}
	return map;

err_unmap:
	adev->ops->unmap(adev, map);
err_table:
	sg_free_table(&map->sgt);
err_free:
	kvfree(map);
	return ERR_PTR(ret);
}

/**
 * accmem_mapping_destroy() - DMA-unmap and free a mapping
 * @adev: device
 * @map: mapping from accmem_mapping_create()
 *
 * The DMA fields are restored from the exporter's own record first:
 * importers such as the RDMA core edit the first and last entries.
 */
void accmem_mapping_destroy(struct accmem_device *adev,
			    struct accmem_mapping *map)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(&map->sgt, sg, i) {
		sg_dma_address(sg) = map->saved[i].addr;
		sg_dma_len(sg) = map->saved[i].len;
	}
	adev->ops->unmap(adev, map);
	sg_free_table(&map->sgt);
	kvfree(map->saved);
	kvfree(map);
}

struct accmem_mmap_state {
	struct vm_area_struct *vma;
	unsigned long addr;
	bool has_pages;
};

/*
 * RAM with struct pages is mapped with remap_pfn_range(): on hosts with
 * memory encryption (SME, SEV, TDX) io_remap_pfn_range() would map it
 * decrypted (shared), which is right for MMIO only.
 */
static int accmem_mmap_piece(void *arg, phys_addr_t phys, u64 len)
{
	struct accmem_mmap_state *st = arg;
	int ret;

	if (st->has_pages)
		ret = remap_pfn_range(st->vma, st->addr, PHYS_PFN(phys), len,
				      st->vma->vm_page_prot);
	else
		ret = io_remap_pfn_range(st->vma, st->addr, PHYS_PFN(phys),
					 len, st->vma->vm_page_prot);
	st->addr += len;
	return ret;
}

/**
 * accmem_mmap_range() - map an export's memory into user space
 * @exp: export
 * @vma: the mapping; the dma-buf core has checked its size and offset
 *
 * Only MAP_SHARED is accepted. The mapping is VM_PFNMAP|VM_IO, so it
 * cannot be pinned through GUP; it
 * is VM_DONTCOPY, so a forked child does not inherit access to it.
 * Memory without struct pages (a PCI BAR) is only mapped while the
 * pci_mmap policy allows it: VFIO type1 maps such PFNMAP ranges into an
 * IOMMU without holding anything (Documentation/security.rst).
 *
 * Return: 0; -EINVAL for a private mapping; -EPERM when pci_mmap is
 * "deny" and the memory has no struct pages; another negative errno.
 */
int accmem_mmap_range(struct accmem_dmabuf *exp, struct vm_area_struct *vma)
{
	struct accmem_device *adev = accmem_buf_dev(exp->buf);
	struct accmem_mmap_state st = {
		.vma = vma,
		.addr = vma->vm_start,
		.has_pages = adev->ops->has_pages,
	};
	u64 offset = exp->offset + ((u64)vma->vm_pgoff << PAGE_SHIFT);

	if (!st.has_pages &&
	    READ_ONCE(accmem_pci_mmap) == ACCMEM_PCI_MMAP_DENY)
		return -EPERM;

	/*
	 * Shared mappings only: a private (COW) mapping of device memory
	 * makes no sense. VM_MAYSHARE, not VM_SHARED, which the core clears
	 * for a read-only shared mapping of a read-only dma-buf.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;

	accmem_vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND |
			    VM_DONTDUMP | VM_DONTCOPY);
	vma->vm_page_prot = adev->ops->pgprot(vm_get_page_prot(vma->vm_flags));

	return accmem_buffer_walk(exp->buf, offset,
				  vma->vm_end - vma->vm_start,
				  accmem_mmap_piece, &st);
}

struct accmem_vmap_state {
	struct page **pages;
	unsigned int count;
	phys_addr_t phys;
	unsigned int pieces;
};

static int accmem_vmap_piece(void *arg, phys_addr_t phys, u64 len)
{
	struct accmem_vmap_state *st = arg;
	unsigned long pfn = PHYS_PFN(phys);
	unsigned long end = pfn + (len >> PAGE_SHIFT);

	if (!st->pieces++)
		st->phys = phys;
	if (st->pages)
		for (; pfn < end; pfn++)
			st->pages[st->count++] = pfn_to_page(pfn);
	return 0;
}

/* Memory with pages: vmap() them. */
static int accmem_vmap_pages(struct accmem_dmabuf *exp, struct iosys_map *map)
{
	unsigned int npages = exp->length >> PAGE_SHIFT;
	struct accmem_vmap_state st = { };
	void *vaddr;

	st.pages = kvmalloc_array(npages, sizeof(*st.pages), GFP_KERNEL);
	if (!st.pages)
		return -ENOMEM;
	accmem_buffer_walk(exp->buf, exp->offset, exp->length,
			   accmem_vmap_piece, &st);
	vaddr = vmap(st.pages, npages, VM_MAP, PAGE_KERNEL);
	kvfree(st.pages);
	if (!vaddr)
		return -ENOMEM;

	iosys_map_set_vaddr(map, vaddr);
	return 0;
}

/* I/O memory: the backend's mapping, if the range is one piece. */
static int accmem_vmap_iomem(struct accmem_dmabuf *exp,
			     struct iosys_map *map)
{
	struct accmem_device *adev = accmem_buf_dev(exp->buf);
	struct accmem_vmap_state st = { };

	accmem_buffer_walk(exp->buf, exp->offset, exp->length,
			   accmem_vmap_piece, &st);
	if (st.pieces != 1)
		return -EOPNOTSUPP;
	iosys_map_set_vaddr_iomem(map, adev->ops->iomem(adev, st.phys));
	return 0;
}

/**
 * accmem_vmap_range() - kernel mapping of an export's memory
 * @exp: export
 * @map: receives the mapping
 *
 * Memory with pages is vmap()ed; I/O memory gets the backend's own mapping
 * when the exported range is one physically contiguous piece.
 *
 * Return: 0; -EOPNOTSUPP when the backend cannot map the range; -ENOMEM.
 */
int accmem_vmap_range(struct accmem_dmabuf *exp, struct iosys_map *map)
{
	struct accmem_device *adev = accmem_buf_dev(exp->buf);

	if (adev->ops->has_pages)
		return accmem_vmap_pages(exp, map);
	if (adev->ops->iomem)
		return accmem_vmap_iomem(exp, map);
	return -EOPNOTSUPP;
}

/**
 * accmem_vunmap_range() - undo accmem_vmap_range()
 * @map: the mapping it returned
 */
void accmem_vunmap_range(struct iosys_map *map)
{
	/* I/O memory stays mapped by the backend. */
	if (!map->is_iomem)
		vunmap(map->vaddr);
}
