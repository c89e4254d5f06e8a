// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: scatterlists for importers and the CPU views of the memory
 * (mmap for user space, vmap for the kernel).
 *
 * All walk the physical memory behind an exported range. Device memory
 * never moves, so none needs a lock: a buffer's blocks are immutable from
 * its allocation until its release, which cannot happen while a mapping or
 * vmap of it exists (each holds the export's memory, accmem_export_hold()).
 * (CPU faults take the device's lock, but only to order themselves against
 * accmem_export_revoke_locked().)
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

/*
 * Cuts physically contiguous pieces into segments of at most max_seg:
 * counts them all, stores the first max.
 */
static int accmem_seg_add(void *arg, phys_addr_t phys, u64 len)
{
	struct accmem_seg_builder *b = arg;

	while (len) {
		u32 n = min_t(u64, len, b->max_seg);

		if (b->count < b->max) {
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

/* The table of a mapping with more than one segment is allocated. */
static void accmem_mapping_free_table(struct accmem_mapping *map)
{
	if (map->sgt.sgl != &map->sg1)
		sg_free_table(&map->sgt);
}

/**
 * accmem_mapping_size() - bytes of a mapping and its two arrays
 * @nsegs: segments
 *
 * Return: the size, SIZE_MAX on overflow (kvzalloc() then fails).
 */
size_t accmem_mapping_size(unsigned int nsegs)
{
	struct accmem_mapping *map;

	return size_add(struct_size(map, segs, nsegs),
			array_size(nsegs, sizeof(*map->saved)));
}

/**
 * accmem_mapping_create() - build and DMA-map the sg_table of an export
 * @exp: export
 * @dev: importing device
 * @dir: direction
 * @spare: accmem_mapping_size(1) bytes the mapping is made in if it has
 *	one segment (then @spare is returned), or NULL
 *
 * Segments merge physically contiguous memory up to
 * min(dma_get_max_seg_size(@dev), 2 GiB - PAGE_SIZE), page aligned. The
 * mapping and its two arrays are one kvmalloc() (a large export cut into
 * small segments needs more than kmalloc() can give); a one-segment
 * mapping uses the scatterlist inside it, and @spare if given, so that
 * mapping a small export allocates nothing (Documentation/performance.rst).
 *
 * Return: the mapping, or an ERR_PTR.
 */
struct accmem_mapping *accmem_mapping_create(struct accmem_dmabuf *exp,
					     struct device *dev,
					     enum dma_data_direction dir,
					     struct accmem_mapping *spare)
{
	struct accmem_device *adev = exp->adev;
	struct accmem_seg first = { };
	struct accmem_seg_builder b = {
		.segs = &first,
		.max = 1,
		.max_seg = accmem_max_seg(dev),
	};
	struct accmem_mapping *map;
	struct scatterlist *sg;
	unsigned int i;
	int ret;

	/*
	 * Count, keeping the first segment; then, if there are more, fill:
	 * the table is exactly as long as needed, and a one-segment range is
	 * walked once.
	 */
	accmem_buffer_walk(exp->buf, exp->offset, exp->length,
			   accmem_seg_add, &b);
	if (b.count == 1 && spare) {
		map = spare;
		memset(map, 0, accmem_mapping_size(1));
		map->in_spare = true;
	} else {
		/* Beyond ~131k segments (32 bytes each) kmalloc cannot. */
		map = kvzalloc(accmem_mapping_size(b.count), GFP_KERNEL);
		if (!map)
			return ERR_PTR(-ENOMEM);
	}
	map->saved = (struct accmem_saved_seg *)&map->segs[b.count];
	if (b.count > b.max) {
		unsigned int count = b.count;

		b.segs = map->segs;
		b.max = count;
		b.count = 0;
		accmem_buffer_walk(exp->buf, exp->offset, exp->length,
				   accmem_seg_add, &b);
		/* The memory is immutable: the same walk, the same segments. */
		if (WARN_ON_ONCE(b.count != count)) {
			ret = -EINVAL;
			goto err_free;
		}
	} else if (b.count) {
		map->segs[0] = first;
	}
	map->nsegs = b.count;
	map->dev = dev;
	map->dir = dir;

	if (map->nsegs == 1) {
		sg_init_table(&map->sg1, 1);
		map->sgt.sgl = &map->sg1;
		map->sgt.orig_nents = 1;
	} else {
		ret = sg_alloc_table(&map->sgt, map->nsegs, GFP_KERNEL);
		if (ret)
			goto err_free;
	}

	ret = adev->ops->map(adev, map);
	if (ret)
		goto err_table;

	/* nents <= nsegs: the DMA API merges entries, never splits them. */
	for_each_sgtable_dma_sg(&map->sgt, sg, i) {
		map->saved[i].addr = sg_dma_address(sg);
		map->saved[i].len = sg_dma_len(sg);
	}
	return map;

err_table:
	accmem_mapping_free_table(map);
err_free:
	if (!map->in_spare)
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
	accmem_mapping_free_table(map);
	/* Spare storage belongs to the attachment. */
	if (!map->in_spare)
		kvfree(map);
}

/* CPU faults map up to this much memory at once. */
#define ACCMEM_FAULT_AROUND	SZ_2M

struct accmem_fault_state {
	struct accmem_device *adev;
	struct vm_area_struct *vma;
	unsigned long addr;
	pgprot_t prot;
	vm_fault_t ret;
};

static int accmem_fault_piece(void *arg, phys_addr_t phys, u64 len)
{
	struct accmem_fault_state *st = arg;
	unsigned long pfn = PHYS_PFN(phys), end = PHYS_PFN(phys + len);
	vm_fault_t ret;

	/* No revocation may run between the check and here. */
	lockdep_assert_held(&st->adev->lock);
	for (; pfn < end; pfn++, st->addr += PAGE_SIZE) {
		ret = vmf_insert_pfn_prot(st->vma, st->addr, pfn, st->prot);
		if (ret & VM_FAULT_ERROR) {
			/* Only the faulting page itself must be there. */
			if (st->ret == VM_FAULT_SIGBUS)
				st->ret = ret;
			return -EFAULT;
		}
		st->ret = VM_FAULT_NOPAGE;
	}
	return 0;
}

/*
 * Fills the faulting page and up to ACCMEM_FAULT_AROUND after it. Under
 * the device's lock, so that accmem_export_revoke_locked(), which sets the
 * flags under it before it zaps the mappings, never leaves a page behind;
 * and an export that is not revoked has its buffer.
 */
static vm_fault_t accmem_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct accmem_dmabuf *exp = vma->vm_private_data;
	struct accmem_device *adev = exp->adev;
	struct accmem_fault_state st = {
		.adev = adev,
		.vma = vma,
		.addr = vmf->address & PAGE_MASK,
		.prot = vma->vm_page_prot,
		.ret = VM_FAULT_SIGBUS,
	};
	u64 offset = exp->offset + ((u64)vmf->pgoff << PAGE_SHIFT);
	u64 len = min_t(u64, ACCMEM_FAULT_AROUND, vma->vm_end - st.addr);

	/*
	 * I/O memory is never encrypted (io_remap_pfn_range() does the same).
	 * RAM with struct pages (the emulated backend) keeps the encrypted
	 * protection: on hosts with memory encryption (SME, SEV, TDX) mapping
	 * it decrypted would share it with the host, which is right for MMIO
	 * only.
	 */
	if (!adev->ops->has_pages)
		st.prot = pgprot_decrypted(st.prot);

	mutex_lock(&adev->lock);
	if (!adev->revoked && !exp->revoked)
		accmem_buffer_walk(exp->buf, offset, len, accmem_fault_piece,
				   &st);
	mutex_unlock(&adev->lock);
	return st.ret;
}

static const struct vm_operations_struct accmem_vm_ops = {
	.fault = accmem_vm_fault,
};

/**
 * accmem_mmap_range() - map an export's memory into user space
 * @exp: export
 * @vma: the mapping; the dma-buf core has checked its size and offset
 *
 * Only MAP_SHARED is accepted. The mapping is VM_PFNMAP|VM_IO, so it
 * cannot be pinned through GUP; it is VM_DONTCOPY, so a forked child does
 * not inherit access to it. Pages are mapped at fault time, so that
 * accmem_export_revoke_locked() (reclaim, device memory gone) can take them
 * all back: after it, an access gets SIGBUS. Memory without struct pages
 * (a PCI BAR) is only mapped while the pci_mmap policy allows it: VFIO
 * type1 maps such PFNMAP ranges into an IOMMU without holding anything
 * (Documentation/security.rst).
 *
 * Return: 0; -EINVAL for a private mapping; -EPERM when pci_mmap is
 * "deny" and the memory has no struct pages; -ENODEV when the export was
 * revoked (reclaimed, or the device's memory gone).
 */
int accmem_mmap_range(struct accmem_dmabuf *exp, struct vm_area_struct *vma)
{
	struct accmem_device *adev = exp->adev;

	/*
	 * At mmap time, not at fault time: under "deny" no mapping of a BAR
	 * exists to be handed to VFIO; one made under "allow" stays usable.
	 */
	if (!adev->ops->has_pages &&
	    READ_ONCE(accmem_pci_mmap) == ACCMEM_PCI_MMAP_DENY)
		return -EPERM;

	/*
	 * Shared mappings only: a private (COW) mapping of device memory
	 * makes no sense. VM_MAYSHARE, not VM_SHARED, which the core clears
	 * for a read-only shared mapping of a read-only dma-buf.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	/* A revocation after this check zaps what this maps. */
	if (READ_ONCE(adev->revoked) || READ_ONCE(exp->revoked))
		return -ENODEV;

	accmem_vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND |
			    VM_DONTDUMP | VM_DONTCOPY);
	vma->vm_page_prot = adev->ops->pgprot(vm_get_page_prot(vma->vm_flags));
	/* The VMA holds the dma-buf's file, which holds @exp. */
	vma->vm_private_data = exp;
	vma->vm_ops = &accmem_vm_ops;
	return 0;
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
	struct accmem_device *adev = exp->adev;
	struct accmem_vmap_state st = { };

	accmem_buffer_walk(exp->buf, exp->offset, exp->length,
			   accmem_vmap_piece, &st);
	if (st.pieces != 1)
		return -EOPNOTSUPP;
	iosys_map_set_vaddr_iomem(map, adev->ops->iomem(adev, st.phys));
	return 0;
}

/**
 * accmem_vmap_allowed() - may a range be given a kernel mapping?
 * @buf: buffer
 * @offset: start of the range inside @buf
 * @length: bytes
 *
 * Decided once, when the range is exported: a dma-buf whose memory cannot
 * be vmapped gets no vmap operation at all, so that dma_buf_vmap() fails
 * with -EINVAL before calling the exporter. An exporter's own vmap failure
 * would be reported by the dma-buf core with WARN_ON_ONCE() (a kernel
 * warning for every refused importer, a panic with panic_on_warn).
 *
 * Memory with struct pages is always vmapped. I/O memory (a PCI BAR) only
 * while the pci_vmap parameter is "allow" and only when the range is one
 * physically contiguous piece: the importer gets an I/O map
 * (iosys_map.is_iomem), which importers that keep only iosys_map.vaddr use
 * as RAM. videobuf2-vmalloc does, and its unmap then hits a BUG_ON() in
 * dma_buf_vunmap(): the default is "deny".
 *
 * Return: true when accmem_vmap_range() would map the range.
 */
bool accmem_vmap_allowed(struct accmem_buffer *buf, u64 offset, u64 length)
{
	struct accmem_device *adev = accmem_buf_dev(buf);
	struct accmem_vmap_state st = { };

	if (adev->ops->has_pages)
		return true;
	if (!adev->ops->iomem ||
	    READ_ONCE(accmem_pci_vmap) != ACCMEM_PCI_VMAP_ALLOW)
		return false;
	accmem_buffer_walk(buf, offset, length, accmem_vmap_piece, &st);
	return st.pieces == 1;
}

/**
 * accmem_vmap_range() - kernel mapping of an export's memory
 * @exp: export
 * @map: receives the mapping
 *
 * Memory with pages is vmap()ed; I/O memory gets the backend's own mapping
 * when the exported range is one physically contiguous piece. Only called
 * for exports that accmem_vmap_allowed() accepted.
 *
 * The caller holds the export's memory (accmem_export_hold()).
 *
 * Return: 0; -EOPNOTSUPP when the backend cannot map the range; -ENODEV
 * when the device's memory was revoked; -ENOMEM.
 */
int accmem_vmap_range(struct accmem_dmabuf *exp, struct iosys_map *map)
{
	struct accmem_device *adev = exp->adev;

	if (READ_ONCE(adev->revoked))
		return -ENODEV;
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
