/* SPDX-License-Identifier: GPL-2.0 */
/*
 * accmem: internal objects and the interfaces between the module's files.
 *
 * Counted references point one way only:
 *
 *   device file --> accmem_file --> accmem_ctx ----------> accmem_device
 *                                    |     ^                   ^
 *                            handles |     |                   |
 *                                    v     |                   |
 *   dma-buf ------> accmem_dmabuf -> accmem_buffer             |
 *                        |                                     |
 *                        +-------------------------------------+
 *
 * The open device file owns its struct accmem_file, which holds one
 * reference on the context. The context owns the handle table, each handle
 * a reference on its buffer: the handles belong to the tenancy, so that
 * reclaim (accmem_device_reclaim()), which reaches the context from the
 * device, can drop them without any pointer to the file.
 *
 * A context has two counts. @ref keeps the structure: held by the tenant's
 * file and by the tenancy itself. @users is the tenancy: held by the file
 * until it is closed or reclaimed (detached) and by every allocation
 * (accmem_buffer) until it is scrubbed; when it drops to zero the tenancy
 * ends (the device's pointer to the context is cleared, the device is
 * idle) even while a reclaimed file still references the structure.
 *
 * Every exported dma-buf holds one reference on its buffer (until it is
 * released, or made inert by reclaim) and one on the device of its own, so
 * that an inert dma-buf can still take the device's locks. The context
 * holds one on the device, as do the device's creator (a backend) until it
 * removes the device and the probe scrub until it is done. Nothing points
 * back from a context to a buffer or a file: the device's pointer to its
 * context and the lists debugfs walks (accmem_device.buffers and the lists
 * hanging off them) hold no reference; each object takes itself off them
 * when it is released.
 */
#ifndef _ACCMEM_H
#define _ACCMEM_H

#include <linux/atomic.h>
#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/scatterlist.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <uapi/linux/accmem.h>

#include "accmem_backend.h"
#include "compat.h"

#define ACCMEM_NAME_LEN		24
/*
 * Largest scatterlist segment handed to importers: page aligned and below
 * 2 GiB, because some importers keep segment lengths in an int.
 */
#define ACCMEM_MAX_SEGMENT	(SZ_2G - PAGE_SIZE)
/*
 * Per-tenant bounds on live objects when max_allocs/max_exports are 0
 * (their descriptions in main.c repeat the numbers).
 */
#define ACCMEM_DEFAULT_MAX_ALLOCS	65536
#define ACCMEM_DEFAULT_MAX_EXPORTS	65536
/* How often a reclaimed dma-buf looks whether its fences have signalled. */
#define ACCMEM_INERT_POLL		msecs_to_jiffies(10)

/* pci_mmap: may user space mmap dma-bufs of memory without struct pages? */
enum accmem_pci_mmap_policy {
	ACCMEM_PCI_MMAP_ALLOW,
	ACCMEM_PCI_MMAP_DENY,
};

/*
 * pci_vmap: may importers get a kernel mapping (dma_buf_vmap()) of memory
 * without struct pages, an I/O map that many importers mistake for RAM?
 */
enum accmem_pci_vmap_policy {
	ACCMEM_PCI_VMAP_DENY,
	ACCMEM_PCI_VMAP_ALLOW,
};

/**
 * struct accmem_stats - counters shown in sysfs
 * @live_exports: dma-bufs alive
 * @pins: pinned attachments (written under objs_lock: a plain counter,
 *	cheaper than an atomic on the pin path; read without it)
 * @bytes_scrubbed: bytes zeroed since the device appeared
 * @scrub_ns: time spent zeroing since the device appeared
 * @last_scrub_ns: duration of the most recent accmem_scrub(): one allocator
 *	block of a released buffer, or all of the memory at probe
 */
struct accmem_stats {
	atomic_t live_exports;
	unsigned int pins;
	atomic64_t bytes_scrubbed;
	atomic64_t scrub_ns;
	atomic64_t last_scrub_ns;
};

/**
 * struct accmem_device - one device instance, /dev/accmemN
 * @ref: held by the creator until removal (accmem_device_remove()), by the
 *	probe scrub until it is done and by the tenant's context
 * @misc: the character device; its this_device carries the sysfs files
 * @state_kn: the sysfs file "state" (a reference, until the device is
 *	freed), NULL until registered: accmem_device_state_changed() wakes
 *	its pollers
 * @name: "accmemN"
 * @id: N
 * @parent: underlying device (PCI function), NULL for emulated memory
 * @ops: backend
 * @backend: backend private data
 * @mem_size: bytes of device memory
 * @lock: protects @ctx, @file_open, @probe_scrub, @gone, @revoked,
 *	@dmabufs and accmem_dmabuf.revoked (ioctls read @gone, the scrub,
 *	mmap, map and vmap read @revoked without it: see
 *	accmem_device_revoke()). Taken outside the dma-bufs' reservation
 *	locks, inside mmap_lock (CPU faults) and inside a context's
 *	ioctl_lock.
 * @ctx: current tenant, NULL when idle (not a reference: the context
 *	clears it when it is released)
 * @file_open: the tenant still has the device file open
 * @probe_scrub: the initial scrub of unknown memory is still running
 * @gone: the device was removed; new opens and ioctls fail with -ENODEV
 * @revoked: the device's memory is gone (accmem_device_revoke()): it is
 *	never touched, mapped or scrubbed again
 * @dmabufs: live struct accmem_dmabuf of the device, to revoke them
 * @mm_lock: protects @mm, the allocator's state (alloc.c only)
 * @mm: allocator of device addresses
 * @objs_lock: protects the object lists debugfs and CPU-access syncing walk:
 *	@buffers, accmem_buffer.exports, accmem_dmabuf.attachments and
 *	accmem_attach.mappings. Nests inside the reservation lock.
 * @buffers: live struct accmem_buffer
 * @stats: counters
 * @scrubs_pending: released buffers whose scrub has not finished yet
 * @scrub_wq: woken when @scrubs_pending drops to zero
 * @probe_work: runs the initial scrub (holding a reference of its own)
 * @debugfs: debugfs directory
 */
struct accmem_device {
	struct kref ref;
	struct miscdevice misc;
	struct kernfs_node *state_kn;
	char name[ACCMEM_NAME_LEN];
	int id;
	struct device *parent;
	const struct accmem_backend_ops *ops;
	void *backend;
	u64 mem_size;

	struct mutex lock; /* protects ctx, file_open, probe_scrub, gone... */
	struct accmem_ctx *ctx;
	bool file_open;
	bool probe_scrub;
	bool gone;
	bool revoked;
	struct list_head dmabufs;

	struct mutex mm_lock; /* protects mm */
	struct accmem_buddy mm;

	struct mutex objs_lock; /* protects buffers and the lists below them */
	struct list_head buffers;

	struct accmem_stats stats;
	atomic_t scrubs_pending;
	wait_queue_head_t scrub_wq;
	struct work_struct probe_work;
	struct dentry *debugfs;
};

/**
 * struct accmem_ctx - a tenancy
 * @ref: keeps the structure: held by the tenant's open device file (struct
 *	accmem_file) and by the tenancy while @users is not zero
 * @users: the tenancy: held by the device file until it is detached
 *	(closed or reclaimed) and by every buffer until it is scrubbed; the
 *	tenancy ends (accmem_device.ctx cleared) when it drops to zero
 * @adev: the device (holds a reference)
 * @ioctl_lock: held for reading by every tenant ioctl, for writing to set
 *	@reclaimed and @detached: no ioctl runs on a reclaimed tenancy
 * @reclaimed: reclaim took the device back: tenant ioctls fail with
 *	-ENODEV (written under @ioctl_lock and the device's lock)
 * @detached: the file's handles and its @users reference are dropped
 *	(file closed or tenancy reclaimed; under @ioctl_lock)
 * @handles: uAPI handle -> struct accmem_buffer (holds a reference); the
 *	xarray's own lock protects it
 * @next_handle: where the cyclic search for a free handle starts (under
 *	the handle table's lock)
 * @owner: thread group that opened the device (a reference; information
 *	only, shown in the reader's pid namespace)
 * @exported_bytes: bytes of all live dma-bufs of this tenancy
 * @pinned_bytes: bytes of all pinned attachments of this tenancy (the
 *	device's objs_lock)
 * @live_allocs: buffers of this tenancy not yet released (max_allocs)
 * @live_exports: dma-bufs of this tenancy not yet released (max_exports)
 */
struct accmem_ctx {
	struct kref ref;
	struct kref users;
	struct accmem_device *adev;
	struct rw_semaphore ioctl_lock;
	bool reclaimed;
	bool detached;
	struct xarray handles;
	u32 next_handle;
	struct pid *owner;
	atomic64_t exported_bytes;
	u64 pinned_bytes;
	atomic_t live_allocs;
	atomic_t live_exports;
};

/**
 * struct accmem_file - an open device file (its file->private_data)
 * @adev: the device (an observer's file holds a reference of its own, a
 *	tenant's through its context)
 * @ctx: the tenancy the open started (holds a reference on the structure
 *	and, until detached, one on the tenancy); NULL for an observer
 *	(opened O_RDONLY), which has no handles
 *
 * The handles live in the context: closing the file, or reclaiming the
 * tenancy, drops them and the file's hold on the tenancy, whichever comes
 * first (accmem_ctx_detach()).
 */
struct accmem_file {
	struct accmem_device *adev;
	struct accmem_ctx *ctx;
};

/**
 * struct accmem_uarg - the user argument of an ioctl
 * @ptr: user pointer
 * @size: bytes user space passed (the size encoded in the command), at
 *	least the size of the ioctl's first version
 * @reason: where accmem_uarg_refuse() records why the ioctl fails (the
 *	dispatcher's variable, reported by accmem_ioctl_failed())
 */
struct accmem_uarg {
	void __user *ptr;
	size_t size;
	const char **reason;
};

/**
 * struct accmem_buffer - one allocation of device memory
 * @ref: held by its handle and by every dma-buf exported from it
 * @ctx: the tenancy (holds a reference)
 * @blocks: the allocation (accmem_mm_alloc()); accmem_mm_for_each_range()
 *	gives its ranges of device addresses in buffer order
 * @size: bytes
 * @dev_addr: device address of the first byte
 * @handle: uAPI handle, set under the handle table's lock (for debugfs;
 *	the handle may be gone already)
 * @flags: ACCMEM_ALLOC_*
 * @node: in accmem_device.buffers (objs_lock)
 * @exports: live struct accmem_dmabuf of this buffer (objs_lock)
 * @release_work: scrubs and frees the memory after the last reference
 */
struct accmem_buffer {
	struct kref ref;
	struct accmem_ctx *ctx;
	struct list_head blocks;
	u64 size;
	u64 dev_addr;
	u32 handle;
	u32 flags;
	struct list_head node;
	struct list_head exports;
	struct work_struct release_work;
};

/**
 * struct accmem_dmabuf - private data of one exported dma-buf
 * @buf: the buffer (holds a reference); NULL once the dma-buf is inert
 *	(reclaimed and let go of its memory). Written under objs_lock; read
 *	under objs_lock, under the device's lock while @revoked is false, or
 *	while the reader holds one of @holds
 * @adev: the device (holds a reference, also while inert)
 * @dmabuf: the dma-buf
 * @inode: its file's inode (holds a reference: its mappings are zapped on
 *	revocation, even while the file is being released)
 * @dev_node: in accmem_device.dmabufs (accmem_device.lock)
 * @offset: start of the exported range inside @buf
 * @length: bytes (the dma-buf's size)
 * @ino: inode number of the dma-buf file (debugfs)
 * @node: in accmem_buffer.exports (objs_lock)
 * @attachments: struct accmem_attach of the importers (objs_lock)
 * @pins: attachments pinned now (objs_lock; an inert export has none
 *	counted)
 * @revoked: reclaimed or its device's memory revoked: no new attachment,
 *	pin, mapping, vmap, mmap or CPU fault (set under the device's lock and
 *	objs_lock)
 * @holds: what keeps the memory while @revoked: pinned attachments that
 *	cannot be revoked, live mappings and vmaps, and those being made
 *	(objs_lock)
 * @inert_work: lets go of the buffer once @revoked and nothing holds it,
 *	after the dma-buf's fences have signalled (polled every
 *	%ACCMEM_INERT_POLL)
 */
struct accmem_dmabuf {
	struct accmem_buffer *buf;
	struct accmem_device *adev;
	struct dma_buf *dmabuf;
	struct inode *inode;
	struct list_head dev_node;
	u64 offset;
	u64 length;
	unsigned long ino;
	struct list_head node;
	struct list_head attachments;
	unsigned int pins;
	bool revoked;
	unsigned int holds;
	struct delayed_work inert_work;
};

/**
 * struct accmem_attach - private data of one dma-buf attachment
 * @node: in accmem_dmabuf.attachments (objs_lock)
 * @dev: the importing device
 * @mappings: struct accmem_mapping alive for this attachment (objs_lock)
 * @pins: pin depth (under the reservation lock); pinned while non-zero
 * @pin_holds: the pin holds the export's memory (accmem_dmabuf.holds):
 *	the importer cannot be revoked (not dma_buf_attach_revocable()); a
 *	revocable one unmaps when told, and only its mappings hold the memory
 * @spare_used: a mapping of this attachment is in @spare (under the
 *	reservation lock)
 * @spare: room for one one-segment mapping, allocated with the attachment:
 *	mapping a one-segment range (any small export) allocates nothing
 */
struct accmem_attach {
	struct list_head node;
	struct device *dev;
	struct list_head mappings;
	unsigned int pins;
	bool pin_holds;
	bool spare_used;
	struct accmem_mapping *spare;
};

/* main.c */
extern struct workqueue_struct *accmem_wq;
extern struct dentry *accmem_debugfs_root;
extern u64 accmem_max_export_bytes;
extern u64 accmem_max_pin_bytes;
extern unsigned int accmem_max_allocs;
extern unsigned int accmem_max_exports;
extern int accmem_pci_mmap;
extern int accmem_pci_vmap;

/* device.c (and the backend interface in accmem_backend.h) */
void accmem_device_put(struct accmem_device *adev);
void accmem_device_get(struct accmem_device *adev);
const char *accmem_device_state(struct accmem_device *adev);
void accmem_device_state_changed(struct accmem_device *adev);
int accmem_device_reclaim(struct accmem_device *adev);
int accmem_uarg_in(const struct accmem_uarg *ua, void *kdata, size_t ksize);
int accmem_uarg_out(const struct accmem_uarg *ua, const void *kdata,
		    size_t ksize);

/* trace.c (the tracepoints are in accmem_trace.h) */
int accmem_uarg_refuse(const struct accmem_uarg *ua, int err,
		       const char *reason);
void accmem_ioctl_failed(struct accmem_device *adev, unsigned int nr,
			 const char *name, int err, const char *reason);

/* ranges.c */
int accmem_ioctl_ranges(struct accmem_file *afile,
			const struct accmem_uarg *ua);

/* context.c */
int accmem_file_open(struct accmem_device *adev, bool tenant,
		     struct accmem_file **out);
void accmem_file_release(struct accmem_file *afile);
void accmem_ctx_users_get(struct accmem_ctx *ctx);
void accmem_ctx_users_put(struct accmem_ctx *ctx);
int accmem_ctx_ioctl_begin(struct accmem_ctx *ctx);
void accmem_ctx_ioctl_end(struct accmem_ctx *ctx);
int accmem_ctx_reclaim(struct accmem_ctx *ctx);

/* alloc.c */
int accmem_mm_init(struct accmem_device *adev);
void accmem_mm_fini(struct accmem_device *adev);
int accmem_mm_alloc(struct accmem_device *adev, u64 size, u64 align,
		    bool contiguous, struct list_head *blocks);
void accmem_mm_free(struct accmem_device *adev, struct list_head *blocks);
u64 accmem_mm_free_bytes(struct accmem_device *adev);

/**
 * struct accmem_mm_iter - the ranges of device addresses of an allocation
 * @adev: the device
 * @head: the allocation (blocks from accmem_mm_alloc())
 * @pos: where the iterator stands (private to alloc.c)
 * @offset: device address of the current range
 * @size: bytes of the current range
 */
struct accmem_mm_iter {
	struct accmem_device *adev;
	struct list_head *head;
	struct list_head *pos;
	u64 offset;
	u64 size;
};

/**
 * accmem_mm_iter_init() - set an iterator before the first range
 * @it: iterator
 * @adev: device
 * @blocks: an allocation from accmem_mm_alloc()
 *
 * Return: @it.
 */
static inline struct accmem_mm_iter *
accmem_mm_iter_init(struct accmem_mm_iter *it, struct accmem_device *adev,
		    struct list_head *blocks)
{
	it->adev = adev;
	it->head = blocks;
	it->pos = blocks;
	return it;
}

bool accmem_mm_iter_next(struct accmem_mm_iter *it);

/**
 * accmem_mm_for_each_range() - visit the ranges of an allocation in order
 * @it: struct accmem_mm_iter *, on the current range in the loop body
 * @adev: device
 * @blocks: an allocation from accmem_mm_alloc()
 */
#define accmem_mm_for_each_range(it, adev, blocks)			\
	for (struct accmem_mm_iter *__accmem_it =			\
		accmem_mm_iter_init(it, adev, blocks);			\
	     accmem_mm_iter_next(__accmem_it);)

/* buffer.c */
int accmem_ioctl_alloc(struct accmem_file *afile,
		       const struct accmem_uarg *ua);
int accmem_ioctl_free(struct accmem_file *afile, const struct accmem_uarg *ua);
struct accmem_buffer *accmem_buffer_lookup(struct accmem_file *afile,
					   u32 handle);
void accmem_buffer_get(struct accmem_buffer *buf);
void accmem_buffer_put(struct accmem_buffer *buf);
void accmem_ctx_drop_handles(struct accmem_ctx *ctx);

/**
 * typedef accmem_phys_fn - called for each physically contiguous piece
 * @arg: caller's cookie
 * @phys: CPU physical address of the piece
 * @len: bytes
 *
 * Return: 0 to continue, a negative errno to stop the walk with it.
 */
typedef int (*accmem_phys_fn)(void *arg, phys_addr_t phys, u64 len);
int accmem_buffer_walk(struct accmem_buffer *buf, u64 offset, u64 length,
		       accmem_phys_fn fn, void *arg);

/* scrub.c */
void accmem_scrub(struct accmem_device *adev, u64 offset, u64 len);

/* export.c */
int accmem_ioctl_export(struct accmem_file *afile,
			const struct accmem_uarg *ua);
int accmem_export_range_check(u64 offset, u64 length, u64 size);
void accmem_export_revoke_locked(struct accmem_dmabuf *exp);
bool accmem_export_hold(struct accmem_dmabuf *exp);
void accmem_export_unhold_locked(struct accmem_dmabuf *exp);
void accmem_export_unhold(struct accmem_dmabuf *exp);

/* mapping.c */
size_t accmem_mapping_size(unsigned int nsegs);
struct accmem_mapping *accmem_mapping_create(struct accmem_dmabuf *exp,
					     struct device *dev,
					     enum dma_data_direction dir,
					     struct accmem_mapping *spare);
void accmem_mapping_destroy(struct accmem_device *adev,
			    struct accmem_mapping *map);
int accmem_mmap_range(struct accmem_dmabuf *exp, struct vm_area_struct *vma);
bool accmem_vmap_allowed(struct accmem_buffer *buf, u64 offset, u64 length);
int accmem_vmap_range(struct accmem_dmabuf *exp, struct iosys_map *map);
void accmem_vunmap_range(struct iosys_map *map);

/* sysfs.c */
extern const struct attribute_group *accmem_sysfs_groups[];

/* debugfs.c */
void accmem_debugfs_add(struct accmem_device *adev);
void accmem_debugfs_remove(struct accmem_device *adev);

static inline struct accmem_device *accmem_buf_dev(struct accmem_buffer *buf)
{
	return buf->ctx->adev;
}

#endif /* _ACCMEM_H */
