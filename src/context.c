// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: the single-tenant context and the open device file.
 *
 * A device has at most one context. An open() for writing creates it when
 * the device is idle, together with the open file's own object (struct accmem_file: the
 * file's reference on the context and the handle table). The context lives
 * until the device file is closed *and* every allocation of the tenancy has
 * been released (which requires every dma-buf exported from it to be gone)
 * and scrubbed. Until then open() fails with -EBUSY, so no other tenant can
 * ever see memory an importer may still access.
 *
 * An open() without FMODE_WRITE (O_RDONLY) is an observer: its accmem_file
 * has no context and no handles, holds only a device reference, and
 * neither needs nor blocks a tenancy.
 *
 * The file's handles reference buffers, buffers reference the context, and
 * nothing references the file: closing it drops the handles and then its
 * reference on the context, with no cycle to break.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/lockdep.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "accmem.h"
#include "accmem_trace.h"

/* A new tenancy holding the reference of the file that opens it. */
static int accmem_ctx_create(struct accmem_device *adev,
			     struct accmem_ctx **out)
{
	struct accmem_ctx *ctx;
	int ret;

	/* Charged to the tenant's memory cgroup, as everything it creates. */
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;

	kref_init(&ctx->ref);
	ctx->owner = get_task_pid(current, PIDTYPE_TGID);
	ctx->adev = adev;

	mutex_lock(&adev->lock);
	if (adev->gone) {
		ret = -ENODEV;
		goto err_unlock;
	}
	if (adev->ctx || adev->probe_scrub) {
		ret = -EBUSY;
		goto err_unlock;
	}
	accmem_device_get(adev);
	adev->ctx = ctx;
	adev->file_open = true;
	mutex_unlock(&adev->lock);
	accmem_device_state_changed(adev);

	pr_debug("%s: tenancy of pid %d begins\n", adev->name,
		 pid_nr(ctx->owner));
	trace_accmem_tenancy_open(adev->name, pid_nr(ctx->owner));
	*out = ctx;
	return 0;

err_unlock:
	mutex_unlock(&adev->lock);
	put_pid(ctx->owner);
	kfree(ctx);
	return ret;
}

/* An observer's file holds a device reference, nothing else. */
static int accmem_observer_get(struct accmem_device *adev)
{
	int ret = 0;

	mutex_lock(&adev->lock);
	if (adev->gone)
		ret = -ENODEV;
	else
		accmem_device_get(adev);
	mutex_unlock(&adev->lock);
	return ret;
}

/**
 * accmem_file_open() - open the device file: start a tenancy or observe
 * @adev: device
 * @tenant: the file was opened for writing: start a tenancy; else the
 *	file is an observer, which only holds a device reference
 * @out: the open file's object, holding a reference on the new context
 *	(tenant) or on the device (observer)
 *
 * Return: 0; -EBUSY while another tenancy or a scrub is in progress (not
 * for an observer); -ENODEV when the device was removed; -ENOMEM.
 */
int accmem_file_open(struct accmem_device *adev, bool tenant,
		     struct accmem_file **out)
{
	struct accmem_file *afile;
	int ret;

	afile = kzalloc(sizeof(*afile), GFP_KERNEL_ACCOUNT);
	if (!afile)
		return -ENOMEM;

	if (tenant)
		ret = accmem_ctx_create(adev, &afile->ctx);
	else
		ret = accmem_observer_get(adev);
	if (ret) {
		kfree(afile);
		return ret;
	}
	afile->adev = adev;
	xa_init_flags(&afile->handles, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	*out = afile;
	return 0;
}

/**
 * accmem_file_release() - the device file was released
 * @afile: the open file
 *
 * Drops every handle, then the file's reference on the context. Memory
 * still exported stays allocated (and the tenancy alive) until its dma-bufs
 * are released. An observer's file drops its device reference.
 */
void accmem_file_release(struct accmem_file *afile)
{
	struct accmem_ctx *ctx = afile->ctx;
	struct accmem_device *adev = afile->adev;

	if (!ctx) {
		kfree(afile);
		accmem_device_put(adev);
		return;
	}

	accmem_file_drop_handles(afile);
	WARN_ON_ONCE(!xa_empty(&afile->handles));
	xa_destroy(&afile->handles);
	kfree(afile);

	mutex_lock(&adev->lock);
	adev->file_open = false;
	mutex_unlock(&adev->lock);
	accmem_device_state_changed(adev);

	accmem_ctx_put(ctx);
}

/**
 * accmem_ctx_get() - take a reference on a context
 * @ctx: context
 */
void accmem_ctx_get(struct accmem_ctx *ctx)
{
	kref_get(&ctx->ref);
}

static void accmem_ctx_release(struct kref *ref)
{
	struct accmem_ctx *ctx = container_of(ref, struct accmem_ctx, ref);
	struct accmem_device *adev = ctx->adev;

	/* Before the device turns idle, which a reader may be waiting for. */
	trace_accmem_tenancy_end(adev->name, pid_nr(ctx->owner));
	mutex_lock(&adev->lock);
	adev->ctx = NULL;
	mutex_unlock(&adev->lock);
	accmem_device_state_changed(adev);

	/* The char device may be gone already (device removed). */
	pr_debug("%s: tenancy of pid %d ended\n", adev->name,
		 pid_nr(ctx->owner));
	put_pid(ctx->owner);
	kfree(ctx);
	accmem_device_put(adev);
}

/**
 * accmem_ctx_put() - drop a reference on a context
 * @ctx: context; on the last reference the device becomes idle
 *
 * Must not be called with accmem_device.lock held.
 */
void accmem_ctx_put(struct accmem_ctx *ctx)
{
	lockdep_assert_not_held(&ctx->adev->lock);
	kref_put(&ctx->ref, accmem_ctx_release);
}
