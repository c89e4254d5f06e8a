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

static struct accmem_device *accmem_exp_dev(struct accmem_dmabuf *exp)
{
	return accmem_buf_dev(exp->buf);
}

static int accmem_dmabuf_attach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attach)
{
	struct accmem_dmabuf *exp = dmabuf->priv;
	struct accmem_device *adev = accmem_exp_dev(exp);
	struct accmem_attach *aa;
	int ret;

	if (adev->ops->attach) {
		ret = adev->ops->attach(adev, attach);
		if (ret) {
			trace_accmem_import_refused(adev->name, exp->ino,
						    attach->dev, "attach", ret);
			return ret;
		}
	}

	aa = kzalloc(sizeof(*aa), GFP_KERNEL);
	if (!aa)
		return -ENOMEM;
	aa->dev = attach->dev;
	INIT_LIST_HEAD(&aa->mappings);
	attach->priv = aa;

	mutex_lock(&adev->objs_lock);
	list_add_tail(&aa->node, &exp->attachments);
	mutex_unlock(&adev->objs_lock);
	trace_accmem_attach(adev->name, exp->ino, attach->dev, exp->length);
	return 0;
}

static void accmem_dmabuf_detach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attach)
{
	struct accmem_dmabuf *exp = dmabuf->priv;
	struct accmem_device *adev = accmem_exp_dev(exp);
	struct accmem_attach *aa = attach->priv;

	mutex_lock(&adev->objs_lock);
	list_del(&aa->node);
	mutex_unlock(&adev->objs_lock);
	WARN_ON_ONCE(!list_empty(&aa->mappings));
	kfree(aa);
	trace_accmem_detach(adev->name, exp->ino, attach->dev, exp->length);
}

/*
 * Pins nest: the importer's dma_buf_pin() and, without
 * CONFIG_DMABUF_MOVE_NOTIFY, the core's own pin around each mapping. What
 * is counted and charged is the attachment being pinned at all.
 */
static int accmem_dmabuf_pin(struct dma_buf_attachment *attach)
{
	struct accmem_dmabuf *exp = attach->dmabuf->priv;
	struct accmem_ctx *ctx = exp->buf->ctx;
	struct accmem_attach *aa = attach->priv;
	u64 limit = READ_ONCE(accmem_max_pin_bytes);
	s64 pinned;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (aa->pins++)
		return 0;

	pinned = atomic64_add_return(exp->length, &ctx->pinned_bytes);
	if (limit && pinned > limit) {
		atomic64_sub(exp->length, &ctx->pinned_bytes);
		aa->pins--;
		trace_accmem_import_refused(ctx->adev->name, exp->ino,
					    attach->dev, "pin", -EDQUOT);
		return -EDQUOT;
	}
	atomic_inc(&exp->pins);
	atomic_inc(&ctx->adev->stats.pins);
	trace_accmem_pin(ctx->adev->name, exp->ino, attach->dev, exp->length);
	return 0;
}

static void accmem_dmabuf_unpin(struct dma_buf_attachment *attach)
{
	struct accmem_dmabuf *exp = attach->dmabuf->priv;
	struct accmem_ctx *ctx = exp->buf->ctx;
	struct accmem_attach *aa = attach->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (WARN_ON_ONCE(!aa->pins) || --aa->pins)
		return;

	atomic_dec(&ctx->adev->stats.pins);
	atomic_dec(&exp->pins);
	atomic64_sub(exp->length, &ctx->pinned_bytes);
	trace_accmem_unpin(ctx->adev->name, exp->ino, attach->dev, exp->length);
}

static struct sg_table *accmem_dmabuf_map(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct accmem_dmabuf *exp = attach->dmabuf->priv;
	struct accmem_device *adev = accmem_exp_dev(exp);
	struct accmem_attach *aa = attach->priv;
	struct accmem_mapping *map;

	/*
	 * Dynamic importers map under the reservation lock, which
	 * accmem_device_revoke() takes to notify them after setting the flag.
	 */
	if (READ_ONCE(adev->revoked))
		map = ERR_PTR(-ENODEV);
	else
		map = accmem_mapping_create(exp, attach->dev, dir);
	if (IS_ERR(map)) {
		trace_accmem_import_refused(adev->name, exp->ino, attach->dev,
					    "map", PTR_ERR(map));
		return ERR_CAST(map);
	}

	mutex_lock(&adev->objs_lock);
	list_add_tail(&map->node, &aa->mappings);
	mutex_unlock(&adev->objs_lock);
	trace_accmem_map(adev->name, exp->ino, attach->dev, map->nsegs, dir);
	return &map->sgt;
}

static void accmem_dmabuf_unmap(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	struct accmem_dmabuf *exp = attach->dmabuf->priv;
	struct accmem_device *adev = accmem_exp_dev(exp);
	struct accmem_mapping *map = container_of(sgt, struct accmem_mapping,
						  sgt);

	mutex_lock(&adev->objs_lock);
	list_del(&map->node);
	mutex_unlock(&adev->objs_lock);
	trace_accmem_unmap(adev->name, exp->ino, attach->dev, map->nsegs, dir);
	accmem_mapping_destroy(adev, map);
}

static void accmem_dmabuf_release(struct dma_buf *dmabuf)
{
	struct accmem_dmabuf *exp = dmabuf->priv;
	struct accmem_buffer *buf = exp->buf;
	struct accmem_device *adev = accmem_buf_dev(buf);

	mutex_lock(&adev->objs_lock);
	list_del(&exp->node);
	mutex_unlock(&adev->objs_lock);
	mutex_lock(&adev->lock);
	list_del(&exp->dev_node);
	mutex_unlock(&adev->lock);
	iput(exp->inode);
	trace_accmem_release(adev->name, buf->handle, exp->ino, exp->offset,
			     exp->length);

	atomic64_sub(exp->length, &buf->ctx->exported_bytes);
	atomic_dec(&buf->ctx->live_exports);
	atomic_dec(&adev->stats.live_exports);
	accmem_device_state_changed(adev);
	kfree(exp);
	/* May start the scrub: the last importer has let go. */
	accmem_buffer_put(buf);
}

static int accmem_dmabuf_cpu_access(struct dma_buf *dmabuf, bool for_cpu)
{
	struct accmem_dmabuf *exp = dmabuf->priv;
	struct accmem_device *adev = accmem_exp_dev(exp);
	struct accmem_mapping *map;
	struct accmem_attach *aa;

	if (!adev->ops->sync)
		return 0;

	mutex_lock(&adev->objs_lock);
	list_for_each_entry(aa, &exp->attachments, node)
		list_for_each_entry(map, &aa->mappings, node)
			adev->ops->sync(map, for_cpu);
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

static int accmem_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	return accmem_vmap_range(dmabuf->priv, map);
}

static void accmem_dmabuf_vunmap(struct dma_buf *dmabuf,
				 struct iosys_map *map)
{
	accmem_vunmap_range(map);
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
