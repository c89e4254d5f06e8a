/* SPDX-License-Identifier: GPL-2.0 */
/*
 * accmem: the contract between the core and a memory backend.
 *
 * A backend owns device memory of some kind (a PCI BAR, pages of system
 * RAM) and tells the core where it is, how importers and the CPU reach it
 * and how to zero it. It registers each memory region as a device with
 * accmem_device_add() and takes it away with accmem_device_remove(); if
 * the memory itself goes away with it (a PCI device removed, not just
 * unbound), it also calls accmem_device_revoke(). The core does everything
 * else: tenancy, allocation, handles, dma-bufs, accounting and the scrub
 * schedule.
 *
 * This header is all a backend sees of the core. The device is opaque; a
 * backend reaches its own data through accmem_device_backend().
 *
 * Locking: backends keep no lock of the core's. Their memory never moves
 * and their own data is immutable from accmem_device_add() to @release, so
 * none of the operations below needs a lock of its own either; each says
 * in which context it is called.
 */
#ifndef _ACCMEM_BACKEND_H
#define _ACCMEM_BACKEND_H

#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/scatterlist.h>
#include <linux/types.h>

#include <uapi/linux/accmem.h>

struct accmem_device;

/**
 * struct accmem_seg - one physically contiguous segment of a mapping
 * @phys: CPU physical address, page aligned
 * @len: bytes, a multiple of PAGE_SIZE
 */
struct accmem_seg {
	phys_addr_t phys;
	u32 len;
};

/**
 * struct accmem_mapping - an sg_table handed to an importer
 * @sgt: the table handed to the importer, filled by the backend
 * @node: in accmem_attach.mappings (the core's objs_lock)
 * @dev: importing device
 * @dir: DMA direction
 * @nsegs: entries in @segs (and orig_nents of @sgt)
 * @saved: DMA address/length of each mapped entry, to undo the mapping
 *	even if the importer edited the table in place (@nsegs entries, in
 *	the same allocation, after @segs)
 * @in_spare: made in its attachment's spare storage (accmem_attach.spare),
 *	not allocated
 * @sg1: the table of a one-segment mapping (no allocation of its own)
 * @segs: the physical segments
 */
struct accmem_mapping {
	struct sg_table sgt;
	struct list_head node;
	struct device *dev;
	enum dma_data_direction dir;
	unsigned int nsegs;
	struct accmem_saved_seg {
		dma_addr_t addr;
		unsigned int len;
	} *saved;
	bool in_spare;
	struct scatterlist sg1;
	struct accmem_seg segs[];
};

/**
 * struct accmem_backend_ops - how the core reaches device memory
 * @kind: ACCMEM_BACKEND_* reported by ACCMEM_IOC_INFO
 * @info_flags: ACCMEM_INFO_* reported by ACCMEM_IOC_INFO
 * @has_pages: the memory has struct pages (vmap, CPU-cached mappings)
 * @span: physical address of device offset @offset in *@phys; returns how
 *	many bytes from there are physically contiguous (at least one page).
 *	@offset is page aligned and below the device's memory size. Called
 *	for every walk over a buffer's memory (mapping, mmap, vmap, debugfs),
 *	possibly under the reservation lock, mmap_lock or the core's
 *	objs_lock: a plain lookup that takes no lock of the core's.
 * @attach: may refuse an importer (e.g. no peer-to-peer); 0 to accept.
 *	Called by dma_buf_attach() without the reservation lock; may sleep.
 *	Optional.
 * @map: fill @map->sgt (allocated with @map->nsegs entries) from
 *	@map->segs and DMA-map it for @map->dev: sg_dma_address/len, nents.
 *	On failure, return a negative errno with nothing left mapped. May
 *	sleep; may be called under the reservation lock (never take it).
 * @unmap: undo @map; the entries' DMA fields are as @map left them (the
 *	core restores them first). Same context as @map.
 * @sync: CPU/device coherence for a mapping (NULL when not needed). Called
 *	from begin/end_cpu_access with the core's objs_lock held, without
 *	the reservation lock; the importer may be editing @map->sgt, so use
 *	@map->saved.
 * @scrub: zero device memory [@offset, @offset + @len); may sleep. Called
 *	on the core's workqueue in pieces of at most 16 MiB, with no lock
 *	held, for memory no importer or CPU mapping can reach any more;
 *	never after accmem_device_revoke() (a piece may be under way).
 * @pgprot: page protection of user CPU mappings (under mmap_lock; they
 *	are filled at fault time)
 * @iomem: kernel (I/O) mapping of a physical address of memory without
 *	struct pages, for dma_buf_vmap() (NULL when unsupported). The mapping
 *	must stay valid until @release.
 * @release: free the backend's data; the device is unreachable (its last
 *	reference is gone), or accmem_device_add() failed. Process context,
 *	no lock of the core's held. Optional.
 */
struct accmem_backend_ops {
	u32 kind;
	u32 info_flags;
	bool has_pages;
	u64 (*span)(struct accmem_device *adev, u64 offset, phys_addr_t *phys);
	int (*attach)(struct accmem_device *adev,
		      struct dma_buf_attachment *attach);
	int (*map)(struct accmem_device *adev, struct accmem_mapping *map);
	void (*unmap)(struct accmem_device *adev, struct accmem_mapping *map);
	void (*sync)(struct accmem_mapping *map, bool for_cpu);
	void (*scrub)(struct accmem_device *adev, u64 offset, u64 len);
	pgprot_t (*pgprot)(pgprot_t prot);
	void __iomem *(*iomem)(struct accmem_device *adev, phys_addr_t phys);
	void (*release)(void *backend);
};

/**
 * struct accmem_enum_param - a module parameter that takes one of @names
 * @value: index into @names (read with READ_ONCE())
 * @names: the accepted values
 * @count: entries in @names
 *
 * Used with module_param_cb(name, &accmem_enum_param_ops, &param, perm).
 */
struct accmem_enum_param {
	int *value;
	const char * const *names;
	unsigned int count;
};

/* main.c */
extern const struct kernel_param_ops accmem_enum_param_ops;

/* device.c */
struct accmem_device *accmem_device_add(struct device *parent,
					const struct accmem_backend_ops *ops,
					void *backend, u64 mem_size);
void accmem_device_remove(struct accmem_device *adev);
void accmem_device_revoke(struct accmem_device *adev);
void *accmem_device_backend(struct accmem_device *adev);
const char *accmem_device_name(struct accmem_device *adev);

/* backend_emu.c */
int accmem_emu_init(unsigned int count, u64 size);
void accmem_emu_exit(void);

/* backend_pci.c */
int accmem_pci_init(void);
void accmem_pci_exit(void);

#endif /* _ACCMEM_BACKEND_H */
