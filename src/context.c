// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: the single-tenant context and the open device file.
 *
 * A device has at most one context. An open() for writing creates it when
 * the device is idle, together with the open file's own object (struct
 * accmem_file: the file's reference on the context). The context owns the
 * handle table. The tenancy lasts until the device file is detached from
 * it (closed, or the tenancy reclaimed) *and* every allocation of the
 * tenancy has been released (which requires every dma-buf exported from it
 * to be gone or inert) and scrubbed. Until then open() fails with -EBUSY,
 * so no other tenant can ever see memory an importer may still access.
 *
 * Why the handles moved from the file into the context: reclaim starts
 * from the device (sysfs) and must drop the tenant's handles while the
 * tenant still holds its file. The device points to its context (no
 * reference); the context must not point to the file. With the handles in
 * the context, reclaim reaches them along device -> context, and the file
 * keeps pointing one way, to the context. After reclaim the file still
 * references the context structure (@ref), which stays allocated until the
 * file is closed, but no longer holds the tenancy (@users): the device
 * goes idle without waiting for the old tenant to close its file.
 *
 * An open() without FMODE_WRITE (O_RDONLY) is an observer: its accmem_file
 * has no context and no handles, holds only a device reference, and
 * neither needs nor blocks a tenancy.
 *
 * The context's handles reference buffers, buffers reference the context's
 * tenancy, and nothing references the file: closing it drops the handles
 * and then its hold on the tenancy, with no cycle to break.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/lockdep.h>
#include <linux/pid.h>
#include <linux/rwsem.h>
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

	/* One reference for the file, one for the tenancy. */
	kref_init(&ctx->ref);
	kref_get(&ctx->ref);
	/* The file's hold on the tenancy, until it is detached. */
	kref_init(&ctx->users);
	init_rwsem(&ctx->ioctl_lock);
	xa_init_flags(&ctx->handles, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
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
	WRITE_ONCE(adev->file_open, true);
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
	*out = afile;
	return 0;
}

/*
 * Detaches the file from the tenancy, once: closing the file and reclaiming
 * the tenancy both come here, and the first one drops the handles and the
 * file's hold on the tenancy. With @reclaim, also marks the tenancy
 * reclaimed: once the write lock is dropped no tenant ioctl runs on it.
 * Reclaim waits for the tenant's running ioctls killably (one may sit in a
 * page fault user space controls); closing the file has none to wait for.
 * Return: 1 if the tenancy was newly reclaimed, 0 if not, -EINTR.
 */
static int accmem_ctx_detach(struct accmem_ctx *ctx, bool reclaim)
{
	struct accmem_device *adev = ctx->adev;
	int reclaimed = 0;
	bool detach;

	if (!reclaim)
		down_write(&ctx->ioctl_lock);
	else if (down_write_killable(&ctx->ioctl_lock))
		return -EINTR;
	if (reclaim && !ctx->reclaimed) {
		mutex_lock(&adev->lock);
		WRITE_ONCE(ctx->reclaimed, true);
		mutex_unlock(&adev->lock);
		reclaimed = 1;
	}
	detach = !ctx->detached;
	ctx->detached = true;
	up_write(&ctx->ioctl_lock);

	if (detach) {
		accmem_ctx_drop_handles(ctx);
		mutex_lock(&adev->lock);
		WRITE_ONCE(adev->file_open, false);
		mutex_unlock(&adev->lock);
		accmem_device_state_changed(adev);
		accmem_ctx_users_put(ctx);
	}
	return reclaimed;
}

static void accmem_ctx_release(struct kref *ref)
{
	struct accmem_ctx *ctx = container_of(ref, struct accmem_ctx, ref);
	struct accmem_device *adev = ctx->adev;

	WARN_ON_ONCE(!xa_empty(&ctx->handles));
	xa_destroy(&ctx->handles);
	put_pid(ctx->owner);
	kfree(ctx);
	accmem_device_put(adev);
}

static void accmem_ctx_put(struct accmem_ctx *ctx)
{
	lockdep_assert_not_held(&ctx->adev->lock);
	kref_put(&ctx->ref, accmem_ctx_release);
}

/**
 * accmem_file_release() - the device file was released
 * @afile: the open file
 *
 * Unless reclaim did it already, drops every handle, then the file's hold
 * on the tenancy; then its reference on the context. Memory still exported
 * stays allocated (and the tenancy alive) until its dma-bufs are released
 * or made inert. An observer's file drops its device reference.
 */
void accmem_file_release(struct accmem_file *afile)
{
	struct accmem_ctx *ctx = afile->ctx;
	struct accmem_device *adev = afile->adev;

	kfree(afile);
	if (!ctx) {
		accmem_device_put(adev);
		return;
	}
	accmem_ctx_detach(ctx, false);
	accmem_ctx_put(ctx);
}

/**
 * accmem_ctx_reclaim() - take the device back from a tenancy
 * @ctx: the tenancy; the caller holds a reference on @ctx->users
 *
 * From now on the tenant's ioctls (all but INFO) fail with -ENODEV, after
 * any that are running have returned; the tenant's handles are dropped.
 * The caller revokes the dma-bufs (accmem_device_reclaim()).
 *
 * Return: 1 if the tenancy was not reclaimed before, 0 if it was, -EINTR
 * if a fatal signal came while running ioctls were waited for (nothing
 * done then).
 */
int accmem_ctx_reclaim(struct accmem_ctx *ctx)
{
	return accmem_ctx_detach(ctx, true);
}

/**
 * accmem_ctx_ioctl_begin() - enter a tenant ioctl
 * @ctx: the file's tenancy
 *
 * Return: 0 with the tenancy's ioctl lock held for reading, to be dropped
 * by accmem_ctx_ioctl_end(); -ENODEV when the tenancy was reclaimed;
 * -EINTR when killed while reclaim holds the lock.
 */
int accmem_ctx_ioctl_begin(struct accmem_ctx *ctx)
{
	if (down_read_killable(&ctx->ioctl_lock))
		return -EINTR;
	if (ctx->reclaimed) {
		up_read(&ctx->ioctl_lock);
		return -ENODEV;
	}
	return 0;
}

/**
 * accmem_ctx_ioctl_end() - leave a tenant ioctl
 * @ctx: the file's tenancy
 */
void accmem_ctx_ioctl_end(struct accmem_ctx *ctx)
{
	up_read(&ctx->ioctl_lock);
}

/**
 * accmem_ctx_users_get() - take a hold on a tenancy
 * @ctx: context whose tenancy is held already (by the caller's file or
 *	buffer)
 */
void accmem_ctx_users_get(struct accmem_ctx *ctx)
{
	kref_get(&ctx->users);
}

/* The tenancy is over: the device is idle, the structure may live on. */
static void accmem_ctx_end(struct kref *users)
{
	struct accmem_ctx *ctx = container_of(users, struct accmem_ctx, users);
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
	accmem_ctx_put(ctx);
}

/**
 * accmem_ctx_users_put() - drop a hold on a tenancy
 * @ctx: context; on the last hold the tenancy ends and the device becomes
 *	idle
 *
 * Must not be called with accmem_device.lock held.
 */
void accmem_ctx_users_put(struct accmem_ctx *ctx)
{
	lockdep_assert_not_held(&ctx->adev->lock);
	kref_put(&ctx->users, accmem_ctx_end);
}
