// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: dma-buf export.
 *
 * Every dma-buf holds a reference on its buffer, and through it on the
 * tenancy: the memory stays allocated, unscrubbed and owned by the tenant
 * until the last importer (an RDMA MR, a GEM handle, an fd passed to another
 * process) lets go. The memory never moves, so pinning always succeeds and
 * importers that cannot handle revocation are welcome.
 *
 * Locking: from 6.2 the dma-buf core calls pin/unpin/map/unmap/vmap with the
 * reservation lock held, before 6.2 some of them without it. These
 * callbacks never take the reservation lock and need no lock of their own
 * for the memory (it is immutable); objs_lock only protects the lists that
 * debugfs and CPU-access syncing walk, and nests inside the reservation
 * lock.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "accmem.h"
#include "accmem_trace.h"

#define ACCMEM_EXPORT_FLAGS	(O_CLOEXEC | O_RDWR)

/**
 * accmem_export_hold() - keep an export's memory while using it
 * @exp: export
 *
 * For a mapping or vmap being made: the memory must stay while it exists,
 * even when the export is revoked meanwhile. Dropped with
 * accmem_export_unhold() (or accmem_export_unhold_locked()).
 *
 * Return: true with a hold taken (@exp->buf stays until it is dropped);
 * false when the export is revoked.
 */
bool accmem_export_hold(struct accmem_dmabuf *exp)
{
	bool held;

	mutex_lock(&exp->adev->objs_lock);
	held = !exp->revoked;
	if (held)
		exp->holds++;
	mutex_unlock(&exp->adev->objs_lock);
	return held;
}

/**
 * accmem_export_unhold_locked() - drop a hold on an export's memory
 * @exp: export; when revoked and this was its last hold, it lets go of its
 *	memory (asynchronously, after its fences)
 */
void accmem_export_unhold_locked(struct accmem_dmabuf *exp)
{
	lockdep_assert_held(&exp->adev->objs_lock);
	if (!WARN_ON_ONCE(!exp->holds) && !--exp->holds && exp->revoked)
		queue_delayed_work(accmem_wq, &exp->inert_work, 0);
}

/**
 * accmem_export_unhold() - accmem_export_unhold_locked() taking objs_lock
 * @exp: export
 */
void accmem_export_unhold(struct accmem_dmabuf *exp)
{
	mutex_lock(&exp->adev->objs_lock);
	accmem_export_unhold_locked(exp);
	mutex_unlock(&exp->adev->objs_lock);
}

/*
 * Uncounts @pins pinned attachments of @exp, whose buffer is @buf. The
 * pin counters are plain integers under objs_lock, which pin and unpin
 * take anyway: no atomic operation on the pin path.
 */
static void accmem_uncount_pins_locked(struct accmem_dmabuf *exp,
				       struct accmem_buffer *buf,
				       unsigned int pins)
{
	struct accmem_device *adev = exp->adev;

	lockdep_assert_held(&adev->objs_lock);
	if (WARN_ON_ONCE(pins > exp->pins))
		pins = exp->pins;
	exp->pins -= pins;
	WRITE_ONCE(adev->stats.pins, adev->stats.pins - pins);
	buf->ctx->pinned_bytes -= (u64)pins * exp->length;
}

/*
 * The export lets go of its buffer: from now on it is inert (every
 * operation but release fails) or being released. Idempotent.
 */
static void accmem_export_drop_buffer(struct accmem_dmabuf *exp)
{
	struct accmem_device *adev = exp->adev;
	struct accmem_buffer *buf;

	mutex_lock(&adev->objs_lock);
	buf = exp->buf;
	if (buf) {
		WARN_ON_ONCE(exp->holds);
		list_del(&exp->node);
		exp->buf = NULL;
		/* Revoked pinned importers that have not unpinned yet. */
		accmem_uncount_pins_locked(exp, buf, exp->pins);
	}
	mutex_unlock(&adev->objs_lock);
	if (!buf)
		return;

	atomic64_sub(exp->length, &buf->ctx->exported_bytes);
	atomic_dec(&buf->ctx->live_exports);
	/*
	 * The state only depends on exports once the file is closed (draining
	 * or reclaiming until the last one goes): waking its pollers
	 * (kernfs_notify() queues a work item) for every release cost the
	 * tenant a context switch per export. A close racing with this
	 * notifies itself after clearing file_open (accmem_ctx_detach()).
	 */
	if (atomic_dec_and_test(&adev->stats.live_exports) &&
	    !READ_ONCE(adev->file_open))
		accmem_device_state_changed(adev);
	/* May start the scrub: nothing reaches this memory any more. */
	accmem_buffer_put(buf);
}

/*
 * A revoked export that nothing holds: once its fences have signalled
 * (whatever an importer queued on it before it unmapped), let go of the
 * memory. Polled rather than waited for: whoever holds the file can still
 * add fences (DMA_BUF_IOCTL_IMPORT_SYNC_FILE), and neither a worker nor
 * the dma-buf's release (which cancels this) may block on them.
 */
static void accmem_export_inert_work(struct work_struct *work)
{
	struct accmem_dmabuf *exp = container_of(to_delayed_work(work),
						 struct accmem_dmabuf,
						 inert_work);

	if (!dma_resv_test_signaled(exp->dmabuf->resv,
				    DMA_RESV_USAGE_BOOKKEEP)) {
		queue_delayed_work(accmem_wq, &exp->inert_work,
				   ACCMEM_INERT_POLL);
		return;
	}
	accmem_export_drop_buffer(exp);
}

/**
 * accmem_export_revoke_locked() - cut every revocable access to an export
 * @exp: export of the device
 *
 * For reclaim and for device memory that went away. No new attachment,
 * pin, mapping, vmap or mmap; CPU mappings are zapped (faults check the
 * flag under the device's lock, so none is filled after this and a later
 * access gets SIGBUS); dynamic importers, and from 7.1 on pinned importers
 * that are revocable (dma_buf_attach_revocable()), are told to unmap
 * (dma_buf_invalidate_mappings()). Once nothing pins, maps or vmaps the
 * export, it waits for its fences, lets go of its memory and becomes
 * inert: right away if nothing does now, else when the last of them goes.
 * Pinned attachments that cannot be revoked and vmaps keep the memory.
 *
 * Context: the device's lock held; takes the reservation lock.
 */
void accmem_export_revoke_locked(struct accmem_dmabuf *exp)
{
	struct accmem_device *adev = exp->adev;
	bool idle;

	lockdep_assert_held(&adev->lock);
	if (exp->revoked)
		return;
	mutex_lock(&adev->objs_lock);
	WRITE_ONCE(exp->revoked, true);
	idle = !exp->holds;
	mutex_unlock(&adev->objs_lock);

	unmap_mapping_range(exp->inode->i_mapping, 0, 0, 1);
	dma_resv_lock(exp->dmabuf->resv, NULL);
	accmem_dma_buf_invalidate(exp->dmabuf);
	dma_resv_unlock(exp->dmabuf->resv);
	if (idle)
		queue_delayed_work(accmem_wq, &exp->inert_work, 0);
}

static int accmem_dmabuf_attach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attach)
{
	struct accmem_dmabuf *exp = dmabuf->priv;
	struct accmem_device *adev = exp->adev;
	struct accmem_attach *aa;
	int ret;

	if (READ_ONCE(exp->revoked))
		return -ENODEV;
	if (adev->ops->attach) {
		ret = adev->ops->attach(adev, attach);
		if (ret) {
			trace_accmem_import_refused(adev->name, exp->ino,
						    attach->dev, "attach", ret);
			return ret;
		}
	}

	/* With room for a one-segment mapping after it. */
	aa = kzalloc(sizeof(*aa) + accmem_mapping_size(1), GFP_KERNEL);
	if (!aa)
		return -ENOMEM;
	aa->spare = (struct accmem_mapping *)(aa + 1);
	aa->dev = attach->dev;
	INIT_LIST_HEAD(&aa->mappings);
	attach->priv = aa;

	mutex_lock(&adev->objs_lock);
	/* Revoked meanwhile: its importers were told already. */
	if (exp->revoked) {
		mutex_unlock(&adev->objs_lock);
		kfree(aa);
		return -ENODEV;
	}
	list_add_tail(&aa->node, &exp->attachments);
	mutex_unlock(&adev->objs_lock);
	trace_accmem_attach(adev->name, exp->ino, attach->dev, exp->length);
	return 0;
}

static void accmem_dmabuf_detach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attach)
{
	struct accmem_dmabuf *exp = dmabuf->priv;
	struct accmem_device *adev = exp->adev;
	struct accmem_attach *aa = attach->priv;

	mutex_lock(&adev->objs_lock);
	list_del(&aa->node);
	mutex_unlock(&adev->objs_lock);
	WARN_ON_ONCE(!list_empty(&aa->mappings) || aa->spare_used);
	kfree(aa);
	trace_accmem_detach(adev->name, exp->ino, attach->dev, exp->length);
}

/*
 * Pins nest: the importer's dma_buf_pin() and, without
 * CONFIG_DMABUF_MOVE_NOTIFY, the core's own pin around each mapping. What
 * is counted and charged is the attachment being pinned at all. A pinned
 * attachment holds the memory (accmem_dmabuf.holds) unless its importer
 * can be revoked (dma_buf_attach_revocable(), 7.1 on): that one unmaps when
 * told, and its mappings hold the memory until it has.
 */
static int accmem_dmabuf_pin(struct dma_buf_attachment *attach)
{
	struct accmem_dmabuf *exp = attach->dmabuf->priv;
	struct accmem_device *adev = exp->adev;
	struct accmem_attach *aa = attach->priv;
	u64 limit = READ_ONCE(accmem_max_pin_bytes);
	struct accmem_ctx *ctx;
	int ret = -ENODEV;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (aa->pins++)
		return 0;

	mutex_lock(&adev->objs_lock);
	if (exp->revoked)
		goto err;
	/* Not revoked: not inert either, the buffer is there. */
	ctx = exp->buf->ctx;
	if (limit && ctx->pinned_bytes + exp->length > limit) {
		ret = -EDQUOT;
		trace_accmem_import_refused(adev->name, exp->ino, attach->dev,
					    "pin", ret);
		goto err;
	}
	ctx->pinned_bytes += exp->length;
	aa->pin_holds = !accmem_dma_buf_attach_revocable(attach);
	if (aa->pin_holds)
		exp->holds++;
	exp->pins++;
	WRITE_ONCE(adev->stats.pins, adev->stats.pins + 1);
	mutex_unlock(&adev->objs_lock);
	trace_accmem_pin(adev->name, exp->ino, attach->dev, exp->length);
	return 0;

err:
	mutex_unlock(&adev->objs_lock);
	aa->pins--;
	return ret;
}

static void accmem_dmabuf_unpin(struct dma_buf_attachment *attach)
{
	struct accmem_dmabuf *exp = attach->dmabuf->priv;
	struct accmem_device *adev = exp->adev;
	struct accmem_attach *aa = attach->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (WARN_ON_ONCE(!aa->pins) || --aa->pins)
		return;

	mutex_lock(&adev->objs_lock);
	/* An inert export's pins were uncounted when it let go (revocable). */
	if (exp->buf)
		accmem_uncount_pins_locked(exp, exp->buf, 1);
	if (aa->pin_holds)
		accmem_export_unhold_locked(exp);
	mutex_unlock(&adev->objs_lock);
	trace_accmem_unpin(adev->name, exp->ino, attach->dev, exp->length);
}

/*
 * Whether the attachment's pin holds the memory (accmem_dmabuf_pin()) for
 * as long as the caller holds the reservation lock: pins and unpins only
 * happen under it. Then a mapping made or undone meanwhile needs no hold
 * of its own to reach the memory, and takes or drops its hold in the same
 * critical section as its listing.
 */
static bool accmem_attach_pin_holds(struct dma_buf_attachment *attach)
{
	struct accmem_attach *aa = attach->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	return aa->pins && aa->pin_holds;
}

/*
 * The core maps under the reservation lock (dynamic exporter), which
 * accmem_export_revoke_locked() takes to notify dynamic importers after
 * setting the flags. One trip through objs_lock where the attachment's
 * pin holds the memory (the importer pinned it, or the core pins around
 * the map): Documentation/performance.rst, "Small buffers".
 */
static struct sg_table *accmem_dmabuf_map(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct accmem_dmabuf *exp = attach->dmabuf->priv;
	struct accmem_device *adev = exp->adev;
	struct accmem_attach *aa = attach->priv;
	bool pinned = accmem_attach_pin_holds(attach);
	struct accmem_mapping *map;
	int ret = -ENODEV;

	if (READ_ONCE(adev->revoked))
		goto err;
	/* Pinned: the pin holds the memory until this mapping does. */
	if (pinned ? READ_ONCE(exp->revoked) : !accmem_export_hold(exp))
		goto err;
	map = accmem_mapping_create(exp, attach->dev, dir,
				    aa->spare_used ? NULL : aa->spare);
	if (IS_ERR(map)) {
		ret = PTR_ERR(map);
		goto err_unhold;
	}

	mutex_lock(&adev->objs_lock);
	if (pinned) {
		/* Revoked meanwhile: its importers were told already. */
		if (exp->revoked) {
			mutex_unlock(&adev->objs_lock);
			accmem_mapping_destroy(adev, map);
			goto err;
		}
		exp->holds++;
	}
	list_add_tail(&map->node, &aa->mappings);
	mutex_unlock(&adev->objs_lock);
	if (map == aa->spare)
		aa->spare_used = true;
	trace_accmem_map(adev->name, exp->ino, attach->dev, map->nsegs, dir);
	return &map->sgt;

err_unhold:
	if (!pinned)
		accmem_export_unhold(exp);
err:
	trace_accmem_import_refused(adev->name, exp->ino, attach->dev, "map",
				    ret);
	return ERR_PTR(ret);
}

static void accmem_dmabuf_unmap(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	struct accmem_dmabuf *exp = attach->dmabuf->priv;
	struct accmem_device *adev = exp->adev;
	struct accmem_mapping *map = container_of(sgt, struct accmem_mapping,
						  sgt);
	struct accmem_attach *aa = attach->priv;
	bool pinned = accmem_attach_pin_holds(attach);

	mutex_lock(&adev->objs_lock);
	list_del(&map->node);
	/* Pinned: the pin holds the memory, this was not the last hold. */
	if (pinned)
		accmem_export_unhold_locked(exp);
	mutex_unlock(&adev->objs_lock);
	trace_accmem_unmap(adev->name, exp->ino, attach->dev, map->nsegs, dir);
	accmem_mapping_destroy(adev, map);
	if (map == aa->spare)
		aa->spare_used = false;
	/* Else only once the importer's DMA addresses are gone. */
	if (!pinned)
		accmem_export_unhold(exp);
}

static void accmem_dmabuf_release(struct dma_buf *dmabuf)
{
	struct accmem_dmabuf *exp = dmabuf->priv;
	struct accmem_device *adev = exp->adev;

	/* Off the device's list first: no revocation queues the work after. */
	mutex_lock(&adev->lock);
	list_del(&exp->dev_node);
	mutex_unlock(&adev->lock);
	/* Nobody holds the dma-buf: no fence can be added any more. */
	cancel_delayed_work_sync(&exp->inert_work);
	/* Stable now: nothing else drops the buffer (0: inert already). */
	trace_accmem_release(adev->name, exp->buf ? exp->buf->handle : 0,
			     exp->ino, exp->offset, exp->length);
	accmem_export_drop_buffer(exp);
	iput(exp->inode);
	kfree(exp);
	accmem_device_put(adev);
}

static int accmem_dmabuf_cpu_access(struct dma_buf *dmabuf, bool for_cpu)
{
	struct accmem_dmabuf *exp = dmabuf->priv;
	struct accmem_device *adev = exp->adev;
	struct accmem_mapping *map;
	struct accmem_attach *aa;

	mutex_lock(&adev->objs_lock);
	/* An inert dma-buf has no memory to sync. */
	if (!exp->buf) {
		mutex_unlock(&adev->objs_lock);
		return -ENODEV;
	}
	list_for_each_entry(aa, &exp->attachments, node) {
		if (!adev->ops->sync)
			break;
		list_for_each_entry(map, &aa->mappings, node)
			adev->ops->sync(map, for_cpu);
	}
	mutex_unlock(&adev->objs_lock);
	return 0;
}

static int accmem_dmabuf_begin_cpu_access(struct dma_buf *dmabuf,
					  enum dma_data_direction dir)
{
	return accmem_dmabuf_cpu_access(dmabuf, true);
}

static int accmem_dmabuf_end_cpu_access(struct dma_buf *dmabuf,
					enum dma_data_direction dir)
{
	return accmem_dmabuf_cpu_access(dmabuf, false);
}

/*
 * A dma-buf file that is not writable (exported without O_RDWR) is mapped
 * read-only whoever maps it: mmap(2) of the dma-buf checks its file, but an
 * importer's dma_buf_mmap() comes with a vma of its own, writable, file.
 */
static int accmem_dmabuf_mmap(struct dma_buf *dmabuf,
			      struct vm_area_struct *vma)
{
	if (!(dmabuf->file->f_mode & FMODE_WRITE)) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		/* and mprotect(PROT_WRITE) cannot make it writable later */
		accmem_vm_flags_clear(vma, VM_MAYWRITE);
	}
	return accmem_mmap_range(dmabuf->priv, vma);
}

/* A vmap holds the memory as a pinned attachment does. */
static int accmem_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct accmem_dmabuf *exp = dmabuf->priv;
	int ret;

	if (!accmem_export_hold(exp))
		return -ENODEV;
	ret = accmem_vmap_range(exp, map);
	if (ret)
		accmem_export_unhold(exp);
	return ret;
}

static void accmem_dmabuf_vunmap(struct dma_buf *dmabuf,
				 struct iosys_map *map)
{
	accmem_vunmap_range(map);
	accmem_export_unhold(dmabuf->priv);
}

/* What every export does; the vmap callbacks only where vmap is allowed. */
#define ACCMEM_DMABUF_OPS					\
	.attach = accmem_dmabuf_attach,				\
	.detach = accmem_dmabuf_detach,				\
	.pin = accmem_dmabuf_pin,				\
	.unpin = accmem_dmabuf_unpin,				\
	.map_dma_buf = accmem_dmabuf_map,			\
	.unmap_dma_buf = accmem_dmabuf_unmap,			\
	.release = accmem_dmabuf_release,			\
	.begin_cpu_access = accmem_dmabuf_begin_cpu_access,	\
	.end_cpu_access = accmem_dmabuf_end_cpu_access,		\
	.mmap = accmem_dmabuf_mmap

static const struct dma_buf_ops accmem_dmabuf_ops = {
	ACCMEM_DMABUF_OPS,
	.vmap = accmem_dmabuf_vmap,
	.vunmap = accmem_dmabuf_vunmap,
};

/*
 * For exports whose memory may not be vmapped (accmem_vmap_allowed()):
 * dma_buf_vmap() then fails with -EINVAL without calling us, and without
 * the warning an exporter's failed vmap gets from the dma-buf core.
 */
static const struct dma_buf_ops accmem_dmabuf_novmap_ops = {
	ACCMEM_DMABUF_OPS,
};

/**
 * accmem_export_range_check() - validate the range of an export
 * @offset: start inside the buffer
 * @length: bytes
 * @size: bytes of the buffer
 *
 * Return: 0 when [@offset, @offset + @length) is a non-empty, page-aligned
 * range inside the buffer, else -EINVAL (also when the end overflows).
 */
int accmem_export_range_check(u64 offset, u64 length, u64 size)
{
	u64 end;

	if (!length || !PAGE_ALIGNED(offset) || !PAGE_ALIGNED(length))
		return -EINVAL;
	if (check_add_overflow(offset, length, &end) || end > size)
		return -EINVAL;
	return 0;
}

/* Charges the export to the tenant; undone in accmem_dmabuf_release(). */
static int accmem_export_charge(struct accmem_ctx *ctx, u64 length)
{
	u64 limit = READ_ONCE(accmem_max_export_bytes);
	unsigned int max = READ_ONCE(accmem_max_exports) ?:
			   ACCMEM_DEFAULT_MAX_EXPORTS;
	s64 total;

	if (atomic_inc_return(&ctx->live_exports) > max) {
		atomic_dec(&ctx->live_exports);
		return -EDQUOT;
	}
	total = atomic64_add_return(length, &ctx->exported_bytes);
	if (limit && total > limit) {
		atomic64_sub(length, &ctx->exported_bytes);
		atomic_dec(&ctx->live_exports);
		return -EDQUOT;
	}
	return 0;
}

static struct dma_buf *accmem_export_create(struct accmem_buffer *buf,
					    struct accmem_export *args)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct accmem_device *adev = accmem_buf_dev(buf);
	struct accmem_dmabuf *exp;
	struct dma_buf *dmabuf;
	int ret;

	exp = kzalloc(sizeof(*exp), GFP_KERNEL_ACCOUNT);
	if (!exp)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&exp->attachments);
	INIT_DELAYED_WORK(&exp->inert_work, accmem_export_inert_work);
	exp->offset = args->offset;
	exp->length = args->length;

	ret = accmem_export_charge(buf->ctx, exp->length);
	if (ret)
		goto err_free;

	info.exp_name = "accmem";
	info.ops = accmem_vmap_allowed(buf, exp->offset, exp->length) ?
		   &accmem_dmabuf_ops : &accmem_dmabuf_novmap_ops;
	info.size = exp->length;
	info.flags = args->flags & O_ACCMODE;
	info.priv = exp;
	dmabuf = dma_buf_export(&info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_uncharge;
	}

	/* Paired with accmem_buffer_put() in accmem_dmabuf_release(). */
	accmem_buffer_get(buf);
	exp->buf = buf;
	/* Paired with accmem_device_put() there, also for an inert dma-buf. */
	accmem_device_get(adev);
	exp->adev = adev;
	exp->dmabuf = dmabuf;
	exp->inode = file_inode(dmabuf->file);
	ihold(exp->inode);
	exp->ino = exp->inode->i_ino;
	atomic_inc(&adev->stats.live_exports);
	mutex_lock(&adev->objs_lock);
	list_add_tail(&exp->node, &buf->exports);
	mutex_unlock(&adev->objs_lock);
	mutex_lock(&adev->lock);
	list_add_tail(&exp->dev_node, &adev->dmabufs);
	mutex_unlock(&adev->lock);
	trace_accmem_export(adev->name, args->handle, exp->ino, exp->offset,
			    exp->length);
	return dmabuf;

err_uncharge:
	atomic64_sub(exp->length, &buf->ctx->exported_bytes);
	atomic_dec(&buf->ctx->live_exports);
err_free:
	kfree(exp);
	return ERR_PTR(ret);
}

/**
 * accmem_ioctl_export() - ACCMEM_IOC_EXPORT
 * @afile: the open device file
 * @ua: struct accmem_export
 *
 * The fd is reserved first, every reference is taken and the result copied
 * out before the fd is installed: until fd_install() nobody else can reach
 * the dma-buf, so a racing close() of a guessed fd number frees nothing.
 *
 * Return: 0; -ENOENT for an unknown handle; -EINVAL for bad flags, padding
 * or range; -EDQUOT beyond max_export_bytes or max_exports; -EMFILE;
 * -ENOMEM; -EFAULT.
 */
int accmem_ioctl_export(struct accmem_file *afile,
			const struct accmem_uarg *ua)
{
	struct accmem_export args;
	struct accmem_buffer *buf;
	struct dma_buf *dmabuf;
	int fd, ret;

	ret = accmem_uarg_in(ua, &args, sizeof(args));
	if (ret)
		return ret;
	if (args.flags & ~ACCMEM_EXPORT_FLAGS)
		return accmem_uarg_refuse(ua, -EINVAL, "unknown flags");
	if (args.pad)
		return accmem_uarg_refuse(ua, -EINVAL, "non-zero padding");

	buf = accmem_buffer_lookup(afile, args.handle);
	if (!buf)
		return -ENOENT;
	ret = accmem_export_range_check(args.offset, args.length, buf->size);
	if (ret) {
		accmem_uarg_refuse(ua, ret,
				   "range empty, unaligned or outside the allocation");
		goto out_put;
	}

	fd = get_unused_fd_flags(args.flags & O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto out_put;
	}

	dmabuf = accmem_export_create(buf, &args);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_fd;
	}

	args.fd = fd;
	if (accmem_uarg_out(ua, &args, sizeof(args))) {
		ret = -EFAULT;
		dma_buf_put(dmabuf);
		goto err_fd;
	}

	fd_install(fd, dmabuf->file);
	ret = 0;
	goto out_put;

err_fd:
	put_unused_fd(fd);
out_put:
	/* The lookup's reference; the dma-buf holds its own. */
	accmem_buffer_put(buf);
	return ret;
}
