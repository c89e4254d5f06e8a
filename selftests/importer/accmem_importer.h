/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * accmem_importer - test-only dma-buf importer driven from user space.
 *
 * It imports a dma-buf the way real drivers do and reports what it got:
 *
 * %ACCMEM_IMP_STATIC:   dma_buf_attach() + map (vgem, v4l2 style)
 * %ACCMEM_IMP_DYN_PIN:  dynamic attach with allow_peer2peer, dma_buf_pin(),
 *                       map under the reservation lock, then held like an
 *                       RDMA MR (efa, irdma, bnxt_re pinned path)
 * %ACCMEM_IMP_DYN_MOVE: dynamic attach with a move_notify callback
 *                       (invalidate_mappings from 7.1 on), mapped under the
 *                       reservation lock without pinning (mlx5 path)
 * %ACCMEM_IMP_DYN_PIN_REVOCABLE: pinned as %ACCMEM_IMP_DYN_PIN, with an
 *                       invalidate_mappings callback that unmaps and
 *                       unpins at once (the RDMA core's revocable pinned
 *                       umem, 7.1 on: -EOPNOTSUPP before)
 *
 * An import holds its dma-buf until released or the importer file closes.
 * %ACCMEM_IMP_REMAP drops a dynamic import's mapping and maps it again, as
 * an importer does after move_notify; if that fails the import has no
 * mapping until the next REMAP that succeeds. %ACCMEM_IMP_PAGE_REFS takes
 * and drops a reference on each page of a physical range, as importers that
 * hold page references do. %ACCMEM_IMP_VMAP takes a kernel mapping
 * (dma_buf_vmap()) that the import keeps until it is released.
 * %ACCMEM_IMP_FILL times the fill with zeros of a range of an import
 * through dma_buf_vmap() with the routine and loop accmem's scrub uses
 * (the limit of a scrub, for the benchmark).
 */
#ifndef _ACCMEM_IMPORTER_H
#define _ACCMEM_IMPORTER_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define ACCMEM_IMP_STATIC	0
#define ACCMEM_IMP_DYN_PIN	1
#define ACCMEM_IMP_DYN_MOVE	2
#define ACCMEM_IMP_DYN_PIN_REVOCABLE	3

/**
 * struct accmem_imp_import - import a dma-buf
 * @fd: in: dma-buf file descriptor
 * @mode: in: ACCMEM_IMP_*
 * @max_seg: in: the importing device's max DMA segment size (0: 2 GiB)
 * @id: out: import id
 * @nents: out: DMA segments in the mapping
 * @size: out: size of the dma-buf
 * @iommu: out: 1 if the importing device's DMA goes through an IOMMU
 * @pad: zero
 */
struct accmem_imp_import {
	__s32 fd;
	__u32 mode;
	__u64 max_seg;
	__u32 id;
	__u32 nents;
	__u64 size;
	__u32 iommu;
	__u32 pad;
};

/**
 * struct accmem_imp_seg - one DMA segment
 * @addr: DMA address
 * @len: bytes
 *
 * Only what the importer may use: the exporter's pages are not an
 * importer's business (with CONFIG_DMABUF_DEBUG the dma-buf core hides
 * them). The memory's physical addresses are in accmem's debugfs.
 */
struct accmem_imp_seg {
	__u64 addr;
	__u64 len;
};

/**
 * struct accmem_imp_sg - read an import's DMA segments
 * @id: in: import id
 * @count: in: room in @segs; out: segments in the mapping
 * @segs: in: user pointer to struct accmem_imp_seg[@count]
 */
struct accmem_imp_sg {
	__u32 id;
	__u32 count;
	__u64 segs;
};

/**
 * struct accmem_imp_rw - CPU access through dma_buf_vmap()
 * @id: in: import id
 * @write: in: 1 to copy @buf into the dma-buf, 0 to copy out
 * @offset: in: offset in the dma-buf
 * @len: in: bytes
 * @buf: in: user pointer
 */
struct accmem_imp_rw {
	__u32 id;
	__u32 write;
	__u64 offset;
	__u64 len;
	__u64 buf;
};

/**
 * struct accmem_imp_state - state of an import
 * @id: in: import id
 * @moves: out: move_notify calls received
 * @pinned: out: the import pinned the dma-buf
 * @pad: zero
 */
struct accmem_imp_state {
	__u32 id;
	__u32 moves;
	__u32 pinned;
	__u32 pad;
};

/**
 * struct accmem_imp_page_refs - take and drop a reference on each page of
 *	a physical range, as importers that pin pages do
 * @phys: in: physical address, page aligned (from accmem's debugfs)
 * @len: in: bytes, page aligned
 * @zero: out: pages whose reference count is zero, left alone (a
 *	get_page()/put_page() pair would free them)
 * @taken: out: pages that got get_page() and put_page()
 *
 * -EINVAL if a page of the range has no struct page.
 */
struct accmem_imp_page_refs {
	__u64 phys;
	__u64 len;
	__u64 zero;
	__u64 taken;
};

/**
 * struct accmem_imp_fill - zero a range through dma_buf_vmap(), timed
 * @id: in: import id
 * @flags: in: zero
 * @offset: in: offset in the dma-buf
 * @len: in: bytes, non-zero; @offset + @len inside the dma-buf
 * @ns: out: nanoseconds (ktime) the fill took, the vmap and the CPU
 *	access brackets not included
 * @iomem: out: 1 if the dma-buf's kernel mapping is I/O memory (the fill
 *	used memset_io(), then wmb() and a read-back of each chunk's last
 *	word, as accmem's PCI scrub does), 0 for RAM (memset())
 * @pad: zero
 *
 * The range is zeroed in chunks of 16 MiB with cond_resched() between
 * them, as accmem_scrub() does. -EINVAL for non-zero @flags or @pad or a
 * range outside the dma-buf; the dma-buf's vmap error (-EINVAL for PCI
 * BAR memory unless accmem's pci_vmap is "allow" and the range contiguous).
 */
struct accmem_imp_fill {
	__u32 id;
	__u32 flags;
	__u64 offset;
	__u64 len;
	__u64 ns;
	__u32 iomem;
	__u32 pad;
};

#define ACCMEM_IMP_MAGIC	0xAD
#define ACCMEM_IMP_IMPORT	_IOWR(ACCMEM_IMP_MAGIC, 0, struct accmem_imp_import)
#define ACCMEM_IMP_GET_SG	_IOWR(ACCMEM_IMP_MAGIC, 1, struct accmem_imp_sg)
#define ACCMEM_IMP_RW		_IOW(ACCMEM_IMP_MAGIC, 2, struct accmem_imp_rw)
#define ACCMEM_IMP_STATE	_IOWR(ACCMEM_IMP_MAGIC, 3, struct accmem_imp_state)
#define ACCMEM_IMP_RELEASE	_IOW(ACCMEM_IMP_MAGIC, 4, __u32)
#define ACCMEM_IMP_REMAP	_IOW(ACCMEM_IMP_MAGIC, 5, __u32)
#define ACCMEM_IMP_PAGE_REFS	_IOWR(ACCMEM_IMP_MAGIC, 6, struct accmem_imp_page_refs)
#define ACCMEM_IMP_VMAP		_IOW(ACCMEM_IMP_MAGIC, 7, __u32)
#define ACCMEM_IMP_FILL		_IOWR(ACCMEM_IMP_MAGIC, 10, struct accmem_imp_fill)

#endif /* _ACCMEM_IMPORTER_H */
