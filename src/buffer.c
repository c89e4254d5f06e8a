// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: allocations (buffers), their handles and their release.
 *
 * A buffer is referenced by its handle in the context's xarray and by
 * every dma-buf exported from it (until that is released or made inert by
 * reclaim). When the last reference goes, a work item
 * zeroes the memory and only then returns it to the allocator and drops the
 * buffer's reference on the context; a small buffer whose handle is the
 * last reference is zeroed by ACCMEM_IOC_FREE itself (waking a worker
 * costs more than zeroing a few pages). So memory is never scrubbed while an
 * importer can still reach it, and never reused before it is scrubbed.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/log2.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "accmem.h"
#include "accmem_trace.h"

#define ACCMEM_ALLOC_FLAGS	ACCMEM_ALLOC_CONTIGUOUS
/* Handle 0 is never valid, so user space can use it as "none". */
#define ACCMEM_HANDLE_LIMIT	XA_LIMIT(1, INT_MAX)

static void accmem_buffer_release_work(struct work_struct *work)
{
	struct accmem_buffer *buf = container_of(work, struct accmem_buffer,
						 release_work);
	struct accmem_device *adev = accmem_buf_dev(buf);
	struct accmem_ctx *ctx = buf->ctx;
	struct accmem_mm_iter it;

	accmem_mm_for_each_range(&it, adev, &buf->blocks)
		accmem_scrub(adev, it.offset, it.size);
	accmem_mm_free(adev, &buf->blocks);

	mutex_lock(&adev->objs_lock);
	list_del(&buf->node);
	mutex_unlock(&adev->objs_lock);

	kfree(buf);
	/* The context still holds the device. */
	if (atomic_dec_and_test(&adev->scrubs_pending))
		wake_up_all(&adev->scrub_wq);
	accmem_ctx_users_put(ctx);
}

static void accmem_buffer_release(struct kref *ref)
{
	struct accmem_buffer *buf = container_of(ref, struct accmem_buffer,
						 ref);

	/* No longer live for max_allocs, though not yet scrubbed. */
	atomic_dec(&buf->ctx->live_allocs);

	/* Zeroing gigabytes must not block the closing task. */
	atomic_inc(&accmem_buf_dev(buf)->scrubs_pending);
	queue_work(accmem_wq, &buf->release_work);
}

/*
 * Up to this size, a buffer freed by its handle's last reference is
 * scrubbed by ACCMEM_IOC_FREE itself: queueing the work woke a worker that
 * preempted the freeing task, two context switches per small buffer
 * (Documentation/performance.rst).
 */
#define ACCMEM_SCRUB_INLINE_MAX	SZ_64K

/* kref release of accmem_ioctl_free(): the caller holds no lock. */
static void accmem_buffer_release_inline(struct kref *ref)
{
	struct accmem_buffer *buf = container_of(ref, struct accmem_buffer,
						 ref);

	if (buf->size > ACCMEM_SCRUB_INLINE_MAX) {
		accmem_buffer_release(ref);
		return;
	}
	atomic_dec(&buf->ctx->live_allocs);
	atomic_inc(&accmem_buf_dev(buf)->scrubs_pending);
	/* The open file holds the context: this is not its last user. */
	accmem_buffer_release_work(&buf->release_work);
}

/**
 * accmem_buffer_get() - take a reference on a buffer
 * @buf: buffer
 */
void accmem_buffer_get(struct accmem_buffer *buf)
{
	kref_get(&buf->ref);
}

/**
 * accmem_buffer_put() - drop a reference on a buffer
 * @buf: buffer; scrubbed and freed asynchronously on the last reference
 */
void accmem_buffer_put(struct accmem_buffer *buf)
{
	kref_put(&buf->ref, accmem_buffer_release);
}

/**
 * accmem_buffer_lookup() - find a buffer by handle
 * @afile: the open device file
 * @handle: uAPI handle
 *
 * Only called at the top of an ioctl.
 *
 * Return: the buffer with a new reference, or NULL.
 */
struct accmem_buffer *accmem_buffer_lookup(struct accmem_file *afile,
					   u32 handle)
{
	struct accmem_buffer *buf;

	struct xarray *handles = &afile->ctx->handles;

	xa_lock(handles);
	buf = xa_load(handles, handle);
	if (buf)
		accmem_buffer_get(buf);
	xa_unlock(handles);
	return buf;
}

/**
 * accmem_ctx_drop_handles() - drop every handle of a tenancy
 * @ctx: the tenancy, detached from its file (closed or reclaimed): no
 *	ioctl adds a handle any more
 */
void accmem_ctx_drop_handles(struct accmem_ctx *ctx)
{
	struct accmem_buffer *buf;
	unsigned long handle;

	xa_for_each(&ctx->handles, handle, buf) {
		xa_erase(&ctx->handles, handle);
		accmem_buffer_put(buf);
	}
}

static int accmem_alloc_check(const struct accmem_uarg *ua,
			      struct accmem_alloc *args, u64 *align)
{
	if (args->flags & ~ACCMEM_ALLOC_FLAGS)
		return accmem_uarg_refuse(ua, -EINVAL, "unknown flags");
	if (!args->size)
		return accmem_uarg_refuse(ua, -EINVAL, "size 0");
	if (!PAGE_ALIGNED(args->size))
		return accmem_uarg_refuse(ua, -EINVAL,
					  "size not a multiple of the page size");
	if (args->align && !is_power_of_2(args->align))
		return accmem_uarg_refuse(ua, -EINVAL,
					  "align not a power of two");

	*align = max_t(u64, args->align, PAGE_SIZE);
	if (!(args->flags & ACCMEM_ALLOC_CONTIGUOUS) &&
	    !IS_ALIGNED(args->size, *align))
		return accmem_uarg_refuse(ua, -EINVAL,
					  "size not a multiple of align");
	return 0;
}

/* Counts a live allocation of the tenant; undone in accmem_buffer_release(). */
static int accmem_alloc_charge(struct accmem_ctx *ctx)
{
	unsigned int limit = READ_ONCE(accmem_max_allocs) ?:
			     ACCMEM_DEFAULT_MAX_ALLOCS;

	if (atomic_inc_return(&ctx->live_allocs) > limit) {
		atomic_dec(&ctx->live_allocs);
		return -EDQUOT;
	}
	return 0;
}

static struct accmem_buffer *accmem_buffer_create(struct accmem_ctx *ctx,
						  u64 size, u64 align,
						  u32 flags)
{
	struct accmem_device *adev = ctx->adev;
	bool contiguous = flags & ACCMEM_ALLOC_CONTIGUOUS;
	struct accmem_buffer *buf;
	struct accmem_mm_iter it;
	int ret;

	ret = accmem_alloc_charge(ctx);
	if (ret)
		return ERR_PTR(ret);
	buf = kzalloc(sizeof(*buf), GFP_KERNEL_ACCOUNT);
	if (!buf) {
		ret = -ENOMEM;
		goto err_uncharge;
	}

	INIT_LIST_HEAD(&buf->blocks);
	ret = accmem_mm_alloc(adev, size, align, contiguous, &buf->blocks);
	if (ret == -ENOSPC) {
		/* Memory of released buffers may still be being scrubbed. */
		ret = wait_event_killable(adev->scrub_wq,
					  !atomic_read(&adev->scrubs_pending));
		if (!ret)
			ret = accmem_mm_alloc(adev, size, align, contiguous,
					      &buf->blocks);
	}
	if (ret) {
		/* -E2BIG: it would never fit, no use waiting. */
		if (ret == -E2BIG)
			ret = -ENOSPC;
		goto err_free;
	}

	kref_init(&buf->ref);
	INIT_LIST_HEAD(&buf->exports);
	INIT_WORK(&buf->release_work, accmem_buffer_release_work);
	buf->size = size;
	buf->flags = flags;
	/* The device address of the first range. */
	accmem_mm_iter_init(&it, adev, &buf->blocks);
	accmem_mm_iter_next(&it);
	buf->dev_addr = it.offset;
	accmem_ctx_users_get(ctx);
	buf->ctx = ctx;

	mutex_lock(&adev->objs_lock);
	list_add_tail(&buf->node, &adev->buffers);
	mutex_unlock(&adev->objs_lock);
	return buf;
err_free:
	kfree(buf);
err_uncharge:
	atomic_dec(&ctx->live_allocs);
	return ERR_PTR(ret);
}

/**
 * accmem_ioctl_alloc() - ACCMEM_IOC_ALLOC
 * @afile: the open device file
 * @ua: struct accmem_alloc
 *
 * The handle is the creation reference. Once it is published, another
 * thread may free it at any time, so @buf is not touched after that except
 * to take back a handle that could not be copied out. Handles are handed
 * out cyclically, so a freed number does not come back at once.
 *
 * When device memory is exhausted, waits (killable) until the scrubs of
 * this device's released buffers are done and tries once more; a size
 * that can never fit fails at once.
 *
 * Return: 0; -EINVAL for bad arguments; -ENOSPC when device memory is
 * exhausted; -EDQUOT when the tenant has max_allocs live allocations;
 * -ENOMEM; -EFAULT; -ERESTARTSYS when killed while waiting.
 */
int accmem_ioctl_alloc(struct accmem_file *afile,
		       const struct accmem_uarg *ua)
{
	struct xarray *handles = &afile->ctx->handles;
	struct accmem_buffer *buf;
	struct accmem_alloc args;
	u32 handle;
	u64 align;
	int ret;

	ret = accmem_uarg_in(ua, &args, sizeof(args));
	if (ret)
		return ret;
	ret = accmem_alloc_check(ua, &args, &align);
	if (ret)
		return ret;

	buf = accmem_buffer_create(afile->ctx, args.size, align, args.flags);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	args.dev_addr = buf->dev_addr;

	xa_lock(handles);
	ret = __xa_alloc_cyclic(handles, &handle, buf, ACCMEM_HANDLE_LIMIT,
				&afile->ctx->next_handle, GFP_KERNEL_ACCOUNT);
	if (ret >= 0)	/* 1: the numbers wrapped around */
		buf->handle = handle;
	xa_unlock(handles);
	if (ret < 0) {
		accmem_buffer_put(buf);
		return ret;
	}
	/* From args: another thread may free the handle already. */
	trace_accmem_alloc(afile->adev->name, handle, args.size, args.dev_addr,
			   args.flags);

	args.handle = handle;
	if (accmem_uarg_out(ua, &args, sizeof(args))) {
		if (xa_cmpxchg(handles, handle, buf, NULL, 0) == buf)
			accmem_buffer_put(buf);
		return -EFAULT;
	}
	return 0;
}

/**
 * accmem_ioctl_free() - ACCMEM_IOC_FREE
 * @afile: the open device file
 * @ua: struct accmem_free
 *
 * Return: 0; -ENOENT for an unknown handle; -EINVAL for non-zero flags.
 */
int accmem_ioctl_free(struct accmem_file *afile, const struct accmem_uarg *ua)
{
	struct accmem_buffer *buf;
	struct accmem_free args;
	int ret;

	ret = accmem_uarg_in(ua, &args, sizeof(args));
	if (ret)
		return ret;
	if (args.flags)
		return accmem_uarg_refuse(ua, -EINVAL, "unknown flags");
	/* Erasing index 0 would mark it free in the allocating xarray. */
	if (!args.handle)
		return -ENOENT;

	buf = xa_erase(&afile->ctx->handles, args.handle);
	if (!buf)
		return -ENOENT;
	trace_accmem_free(afile->adev->name, args.handle, buf->size,
			  buf->dev_addr, buf->flags);
	kref_put(&buf->ref, accmem_buffer_release_inline);
	return 0;
}

/* Merges physically adjacent pieces before handing them to the caller. */
struct accmem_walk {
	accmem_phys_fn fn;
	void *arg;
	phys_addr_t phys;
	u64 len;
};

static int accmem_walk_piece(struct accmem_walk *w, phys_addr_t phys, u64 len)
{
	int ret;

	if (w->len && w->phys + w->len == phys) {
		w->len += len;
		return 0;
	}
	if (w->len) {
		ret = w->fn(w->arg, w->phys, w->len);
		if (ret)
			return ret;
	}
	w->phys = phys;
	w->len = len;
	return 0;
}

/**
 * accmem_buffer_walk() - visit the physical memory behind a buffer range
 * @buf: buffer
 * @offset: start inside the buffer
 * @length: bytes; @offset + @length must not exceed the buffer's size
 * @fn: called for each maximal physically contiguous piece, in order
 * @arg: passed to @fn
 *
 * Return: 0 or the first error returned by @fn.
 */
int accmem_buffer_walk(struct accmem_buffer *buf, u64 offset, u64 length,
		       accmem_phys_fn fn, void *arg)
{
	struct accmem_device *adev = accmem_buf_dev(buf);
	struct accmem_walk w = { .fn = fn, .arg = arg };
	struct accmem_mm_iter it;
	int ret;

	accmem_mm_for_each_range(&it, adev, &buf->blocks) {
		u64 dev_off, left;

		if (!length)
			break;
		if (offset >= it.size) {
			offset -= it.size;
			continue;
		}
		dev_off = it.offset + offset;
		left = min(it.size - offset, length);
		length -= left;
		offset = 0;

		while (left) {
			phys_addr_t phys;
			u64 n = min(adev->ops->span(adev, dev_off, &phys), left);

			ret = accmem_walk_piece(&w, phys, n);
			if (ret)
				return ret;
			dev_off += n;
			left -= n;
		}
	}
	return w.len ? fn(arg, w.phys, w.len) : 0;
}
