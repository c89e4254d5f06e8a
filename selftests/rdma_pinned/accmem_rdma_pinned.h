/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * accmem_rdma_pinned - test-only driver of the RDMA core's pinned dma-buf
 * import, ib_umem_dmabuf_get_pinned_with_dma_device(): the call an RDMA
 * driver makes when user space registers a dma-buf MR that cannot be
 * invalidated (efa, irdma and bnxt_re through ib_umem_dmabuf_get_pinned(),
 * mlx5 data-direct through the _with_dma_device variant).
 *
 * The IB device is a soft-RoCE one (rxe). It has no DMA device of its own,
 * so the module gives the RDMA core a real PCI device as DMA device: the
 * first PCI Ethernet function bound to a driver, else the first bound PCI
 * device with a DMA mask. The exporter thus maps the dma-buf for a PCI
 * device, as it would for a NIC; nothing is ever sent over the wire.
 *
 * Kernels that do not export ib_umem_dmabuf_get_pinned_with_dma_device()
 * (before 6.12) build and load the module, but %ACCMEM_RP_IMPORT fails
 * with EOPNOTSUPP there.
 *
 * An import holds the dma-buf (attached, pinned, mapped) until released or
 * until the file is closed, exactly like an MR.
 */
#ifndef _ACCMEM_RDMA_PINNED_H
#define _ACCMEM_RDMA_PINNED_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define ACCMEM_RP_NAME_LEN	32

/**
 * struct accmem_rp_import - create a pinned dma-buf umem
 * @fd: in: dma-buf file descriptor (of the calling process)
 * @flags: in: zero
 * @offset: in: start of the umem in the dma-buf, in bytes (as the offset
 *	argument of ibv_reg_dmabuf_mr); also the MR's iova
 * @length: in: bytes
 * @ibdev: in: name of the rxe device, NUL-terminated (e.g. "rxe0")
 * @id: out: import id
 * @nblocks: out: PAGE_SIZE DMA blocks the RDMA block iterator walks
 * @umem_address: out: the umem's address (its offset in the dma-buf)
 * @umem_length: out: the umem's length
 * @dma_dev: out: name of the PCI device used as DMA device
 * @iommu: out: 1 if @dma_dev is behind an IOMMU (DMA addresses are then
 *	IOVAs), else 0
 * @pad: zero
 */
struct accmem_rp_import {
	__s32 fd;
	__u32 flags;
	__u64 offset;
	__u64 length;
	char ibdev[ACCMEM_RP_NAME_LEN];
	__u32 id;
	__u32 nblocks;
	__u64 umem_address;
	__u64 umem_length;
	char dma_dev[ACCMEM_RP_NAME_LEN];
	__u32 iommu;
	__u32 pad;
};

/**
 * struct accmem_rp_run - DMA blocks of a umem that follow each other, both
 * as DMA addresses and as physical addresses
 * @addr: DMA address of the first block
 * @phys: CPU physical address behind @addr (translated by the IOMMU the
 *	DMA device is behind, if any)
 * @len: bytes (a multiple of PAGE_SIZE)
 */
struct accmem_rp_run {
	__u64 addr;
	__u64 phys;
	__u64 len;
};

/**
 * struct accmem_rp_blocks - read the DMA blocks of an import, merged into
 * runs of consecutive addresses, in umem order
 * @id: in: import id
 * @count: in: room in @runs; out: runs in the umem
 * @runs: in: user pointer to struct accmem_rp_run[@count]
 */
struct accmem_rp_blocks {
	__u32 id;
	__u32 count;
	__u64 runs;
};

/**
 * struct accmem_rp_rw - access the memory behind the umem's DMA addresses,
 * as the NIC would (memory without struct pages, a PCI BAR, through
 * ioremap_wc())
 * @id: in: import id
 * @write: in: 1 to copy @buf to the memory, 0 to copy from it
 * @offset: in: byte offset from the start of the umem's first block
 * @len: in: bytes
 * @buf: in: user pointer
 */
struct accmem_rp_rw {
	__u32 id;
	__u32 write;
	__u64 offset;
	__u64 len;
	__u64 buf;
};

#define ACCMEM_RP_MAGIC		0xAE
#define ACCMEM_RP_IMPORT	_IOWR(ACCMEM_RP_MAGIC, 0, struct accmem_rp_import)
#define ACCMEM_RP_BLOCKS	_IOWR(ACCMEM_RP_MAGIC, 1, struct accmem_rp_blocks)
#define ACCMEM_RP_RW		_IOW(ACCMEM_RP_MAGIC, 2, struct accmem_rp_rw)
#define ACCMEM_RP_RELEASE	_IOW(ACCMEM_RP_MAGIC, 3, __u32)

#endif /* _ACCMEM_RDMA_PINNED_H */
