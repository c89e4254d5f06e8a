// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: device instances (their creation, the scrub of their memory at
 * probe, their lifecycle state and removal), the character device and
 * ioctl dispatch.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "accmem.h"

static DEFINE_IDA(accmem_ida);

/**
 * accmem_uarg_in() - copy an ioctl's argument in
 * @ua: the user argument
 * @kdata: the kernel's structure
 * @ksize: its size
 *
 * Copies what both sides know; a shorter user structure is zero-extended,
 * a longer one must have its extra bytes zero (they are fields this kernel
 * does not know).
 *
 * Return: 0; -EINVAL for non-zero extra bytes; -EFAULT.
 */
int accmem_uarg_in(const struct accmem_uarg *ua, void *kdata, size_t ksize)
{
	int ret = copy_struct_from_user(kdata, ksize, ua->ptr, ua->size);

	if (ret == -E2BIG)
		return accmem_uarg_refuse(ua, -EINVAL,
					  "non-zero bytes beyond the known structure");
	return ret;
}

/**
 * accmem_uarg_out() - copy an ioctl's result out
 * @ua: the user argument
 * @kdata: the kernel's structure
 * @ksize: its size
 *
 * Copies the bytes both sides know; the rest of a longer user structure is
 * left as it is.
 *
 * Return: 0 or -EFAULT.
 */
int accmem_uarg_out(const struct accmem_uarg *ua, const void *kdata,
		    size_t ksize)
{
	return copy_to_user(ua->ptr, kdata, min(ua->size, ksize)) ? -EFAULT : 0;
}

static int accmem_ioctl_info(struct accmem_file *afile,
			     const struct accmem_uarg *ua)
{
	struct accmem_device *adev = afile->adev;
	struct accmem_info info;

	memset(&info, 0, sizeof(info));
	info.version = ACCMEM_UAPI_VERSION;
	info.backend = adev->ops->kind;
	info.flags = adev->ops->info_flags;
	info.mem_size = adev->mem_size;
	info.mem_free = accmem_mm_free_bytes(adev);
	info.page_size = PAGE_SIZE;
	info.max_segment = ACCMEM_MAX_SEGMENT;

	return accmem_uarg_out(ua, &info, sizeof(info));
}

/*
 * One ioctl: its command as the kernel knows it (type, direction, the
 * current size of its structure), the size of the structure's first
 * version (shorter arguments are refused; it never changes) and whether
 * only the tenant may call it.
 */
struct accmem_ioctl_desc {
	unsigned int cmd;
	const char *name;
	size_t min_size;
	bool tenant;
	int (*fn)(struct accmem_file *afile, const struct accmem_uarg *ua);
};

static const struct accmem_ioctl_desc accmem_ioctls[] = {
	[_IOC_NR(ACCMEM_IOC_INFO)] = {
		.cmd = ACCMEM_IOC_INFO, .name = "INFO",
		.fn = accmem_ioctl_info,
		.min_size = sizeof(struct accmem_info),
	},
	[_IOC_NR(ACCMEM_IOC_ALLOC)] = {
		.cmd = ACCMEM_IOC_ALLOC, .name = "ALLOC",
		.fn = accmem_ioctl_alloc,
		.min_size = sizeof(struct accmem_alloc), .tenant = true,
	},
	[_IOC_NR(ACCMEM_IOC_FREE)] = {
		.cmd = ACCMEM_IOC_FREE, .name = "FREE",
		.fn = accmem_ioctl_free,
		.min_size = sizeof(struct accmem_free), .tenant = true,
	},
	[_IOC_NR(ACCMEM_IOC_EXPORT)] = {
		.cmd = ACCMEM_IOC_EXPORT, .name = "EXPORT",
		.fn = accmem_ioctl_export,
		.min_size = sizeof(struct accmem_export), .tenant = true,
	},
	[_IOC_NR(ACCMEM_IOC_RANGES)] = {
		.cmd = ACCMEM_IOC_RANGES, .name = "RANGES",
		.fn = accmem_ioctl_ranges,
		.min_size = sizeof(struct accmem_ranges), .tenant = true,
	},
};

/*
 * Dispatches on the ioctl's number, the size in the command being the
 * size of the caller's structure (DRM's way, so that structures can grow).
 */
static long accmem_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct accmem_file *afile = file->private_data;
	const char *reason = NULL;
	struct accmem_uarg ua = {
		.ptr = (void __user *)arg, .size = _IOC_SIZE(cmd),
		.reason = &reason,
	};
	const struct accmem_ioctl_desc *desc;
	unsigned int nr = _IOC_NR(cmd);
	int ret;

	if (_IOC_TYPE(cmd) != ACCMEM_IOC_MAGIC || nr >= ARRAY_SIZE(accmem_ioctls)) {
		accmem_ioctl_failed(afile->adev, nr, "?", -ENOTTY,
				    "unknown command");
		return -ENOTTY;
	}
	desc = &accmem_ioctls[array_index_nospec(nr, ARRAY_SIZE(accmem_ioctls))];
	if (!desc->fn || _IOC_DIR(cmd) != _IOC_DIR(desc->cmd)) {
		ret = accmem_uarg_refuse(&ua, -ENOTTY, "unknown command");
		goto out;
	}
	if (ua.size < desc->min_size) {
		ret = accmem_uarg_refuse(&ua, -EINVAL,
					 "structure shorter than its first version");
		goto out;
	}

	if (READ_ONCE(afile->adev->gone)) {
		ret = accmem_uarg_refuse(&ua, -ENODEV, "device removed");
		goto out;
	}
	if (!desc->tenant) {
		ret = desc->fn(afile, &ua);
		goto out;
	}
	/* An observer (opened O_RDONLY) may only look. */
	if (!afile->ctx) {
		ret = accmem_uarg_refuse(&ua, -EBADF, "observer (opened O_RDONLY)");
		goto out;
	}
	/* A reclaimed tenant may only look too. */
	ret = accmem_ctx_ioctl_begin(afile->ctx);
	if (ret) {
		accmem_uarg_refuse(&ua, ret, ret == -ENODEV ?
				   "tenancy reclaimed" : "interrupted");
		goto out;
	}
	ret = desc->fn(afile, &ua);
	accmem_ctx_ioctl_end(afile->ctx);
out:
	if (ret < 0)
		accmem_ioctl_failed(afile->adev, nr, desc->name ?: "?", ret,
				    reason);
	return ret;
}

/* Writing makes the opener the tenant; O_RDONLY makes it an observer. */
static int accmem_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct accmem_device *adev = container_of(misc, struct accmem_device,
						  misc);
	struct accmem_file *afile;
	int ret;

	ret = accmem_file_open(adev, file->f_mode & FMODE_WRITE, &afile);
	if (ret)
		return ret;

	file->private_data = afile;
	return 0;
}

static int accmem_release(struct inode *inode, struct file *file)
{
	accmem_file_release(file->private_data);
	return 0;
}

static const struct file_operations accmem_fops = {
	.owner = THIS_MODULE,
	.open = accmem_open,
	.release = accmem_release,
	.unlocked_ioctl = accmem_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static void accmem_device_release(struct kref *ref)
{
	struct accmem_device *adev = container_of(ref, struct accmem_device,
						  ref);

	WARN_ON_ONCE(!list_empty(&adev->buffers));
	sysfs_put(adev->state_kn);
	accmem_mm_fini(adev);
	/*
	 * The name first: once the backend gives the memory (a PCI BAR)
	 * back, the device may be bound again at once, and must get its
	 * name back too, not the next free one.
	 */
	ida_free(&accmem_ida, adev->id);
	if (adev->ops->release)
		adev->ops->release(adev->backend);
	mutex_destroy(&adev->objs_lock);
	mutex_destroy(&adev->mm_lock);
	mutex_destroy(&adev->lock);
	kfree(adev);
}

/**
 * accmem_device_get() - take a reference on a device
 * @adev: device
 */
void accmem_device_get(struct accmem_device *adev)
{
	kref_get(&adev->ref);
}

/**
 * accmem_device_put() - drop a reference on a device
 * @adev: device; freed, with its backend memory, on the last reference
 *
 * Must not be called with accmem_device.lock held: the last reference
 * frees it.
 */
void accmem_device_put(struct accmem_device *adev)
{
	lockdep_assert_not_held(&adev->lock);
	kref_put(&adev->ref, accmem_device_release);
}

/*
 * A device instance around backend memory, holding one reference, not
 * visible yet. On failure the backend is not released.
 */
static struct accmem_device *
accmem_device_create(struct device *parent,
		     const struct accmem_backend_ops *ops, void *backend,
		     u64 mem_size)
{
	struct accmem_device *adev;
	int ret;

	adev = kzalloc(sizeof(*adev), GFP_KERNEL);
	if (!adev)
		return ERR_PTR(-ENOMEM);

	kref_init(&adev->ref);
	mutex_init(&adev->lock);
	mutex_init(&adev->mm_lock);
	mutex_init(&adev->objs_lock);
	INIT_LIST_HEAD(&adev->buffers);
	INIT_LIST_HEAD(&adev->dmabufs);
	init_waitqueue_head(&adev->scrub_wq);
	adev->parent = parent;
	adev->mem_size = mem_size;

	ret = ida_alloc(&accmem_ida, GFP_KERNEL);
	if (ret < 0)
		goto err_free;
	adev->id = ret;
	snprintf(adev->name, sizeof(adev->name), "accmem%d", adev->id);

	ret = accmem_mm_init(adev);
	if (ret)
		goto err_ida;

	/* From here the release path frees the backend as well. */
	adev->ops = ops;
	adev->backend = backend;
	return adev;

err_ida:
	ida_free(&accmem_ida, adev->id);
err_free:
	mutex_destroy(&adev->objs_lock);
	mutex_destroy(&adev->mm_lock);
	mutex_destroy(&adev->lock);
	kfree(adev);
	return ERR_PTR(ret);
}

/*
 * The memory of a new device has unknown content: zero all of it before
 * the first tenant. The work holds a device reference of its own, so the
 * device (and its memory) stays until the scrub is done even if it is
 * removed at once.
 */
static void accmem_device_probe_work(struct work_struct *work)
{
	struct accmem_device *adev = container_of(work, struct accmem_device,
						  probe_work);

	accmem_scrub(adev, 0, adev->mem_size);

	mutex_lock(&adev->lock);
	adev->probe_scrub = false;
	mutex_unlock(&adev->lock);
	accmem_device_state_changed(adev);
	accmem_device_put(adev);
}

static void accmem_device_scrub_probe(struct accmem_device *adev)
{
	INIT_WORK(&adev->probe_work, accmem_device_probe_work);
	adev->probe_scrub = true;
	accmem_device_get(adev);
	queue_work(accmem_wq, &adev->probe_work);
}

/*
 * Scrubs the memory and publishes /dev/accmemN. The memory's content is
 * unknown, so it is scrubbed before the first tenant: open() fails with
 * -EBUSY until that has finished.
 */
static int accmem_device_register(struct accmem_device *adev)
{
	int ret;

	adev->misc.minor = MISC_DYNAMIC_MINOR;
	adev->misc.name = adev->name;
	adev->misc.fops = &accmem_fops;
	adev->misc.parent = adev->parent;
	adev->misc.groups = accmem_sysfs_groups;

	accmem_device_scrub_probe(adev);

	ret = misc_register(&adev->misc);
	if (ret)
		return ret;
	/* NULL only without memory: then poll() on "state" never wakes. */
	WRITE_ONCE(adev->state_kn,
		   sysfs_get_dirent(adev->misc.this_device->kobj.sd, "state"));
	/* The probe scrub may have ended before the line above. */
	accmem_device_state_changed(adev);

	accmem_debugfs_add(adev);
	dev_info(adev->misc.this_device, "%llu MiB of device memory\n",
		 adev->mem_size >> 20);
	return 0;
}

/**
 * accmem_device_add() - make backend memory a device, /dev/accmemN
 * @parent: underlying device, or NULL
 * @ops: backend operations
 * @backend: backend private data; from now on the device owns it and
 *	releases it through @ops->release, also when this fails
 * @mem_size: bytes of device memory, a multiple of PAGE_SIZE
 *
 * The memory is scrubbed before the first tenant (open() fails with -EBUSY
 * until then).
 *
 * Return: the device, holding the creator's reference (dropped by
 * accmem_device_remove()), or an ERR_PTR.
 */
struct accmem_device *accmem_device_add(struct device *parent,
					const struct accmem_backend_ops *ops,
					void *backend, u64 mem_size)
{
	struct accmem_device *adev;
	int ret;

	adev = accmem_device_create(parent, ops, backend, mem_size);
	if (IS_ERR(adev)) {
		if (ops->release)
			ops->release(backend);
		return adev;
	}

	ret = accmem_device_register(adev);
	if (ret) {
		/* Releases the backend once the probe scrub is done. */
		accmem_device_put(adev);
		return ERR_PTR(ret);
	}
	return adev;
}

/**
 * accmem_device_remove() - remove /dev/accmemN and drop the creator's
 * reference
 * @adev: device from accmem_device_add()
 *
 * A tenant that still holds the device file or dma-bufs keeps the device
 * structure and its memory alive; its ioctls fail with -ENODEV.
 */
void accmem_device_remove(struct accmem_device *adev)
{
	mutex_lock(&adev->lock);
	adev->gone = true;
	if (adev->ctx)
		dev_info(adev->misc.this_device,
			 "removed while tenant %d still holds it\n",
			 pid_nr(adev->ctx->owner));
	mutex_unlock(&adev->lock);
	accmem_device_state_changed(adev);

	accmem_debugfs_remove(adev);
	misc_deregister(&adev->misc);
	accmem_device_put(adev);
}

/**
 * accmem_device_revoke() - the device's memory is gone: cut every access
 * @adev: device, removed already (accmem_device_remove())
 *
 * For memory that goes away with its device (a PCI device removed, not
 * just unbound). From now on the memory is never touched again: no scrub
 * (pending ones are dropped, one piece may be under way), no new mmap,
 * vmap or mapping for an importer (-ENODEV). Every CPU mapping of the
 * device's dma-bufs is zapped, and their next access gets SIGBUS (CPU
 * mappings are filled at fault time, under @adev->lock, so none is filled
 * after this); dynamic importers are told to drop their mappings, and
 * their next map fails. Pinned importers keep what they mapped: the
 * backend must keep the memory's addresses reserved until its @release,
 * when the last of them is gone.
 *
 * Context: process context; takes the dma-bufs' reservation locks.
 */
void accmem_device_revoke(struct accmem_device *adev)
{
	struct accmem_dmabuf *exp;

	mutex_lock(&adev->lock);
	WRITE_ONCE(adev->revoked, true);
	list_for_each_entry(exp, &adev->dmabufs, dev_node)
		accmem_export_revoke_locked(exp);
	if (adev->ctx)
		pr_info("%s: memory revoked from its tenant\n", adev->name);
	mutex_unlock(&adev->lock);
}

/**
 * accmem_device_reclaim() - take the device back from its tenant
 * @adev: device
 *
 * The tenant's ioctls (all but INFO) fail with -ENODEV from now on and its
 * handles are dropped; every dma-buf of the tenancy is revoked
 * (accmem_export_revoke_locked()): CPU mappings zapped, dynamic importers
 * told to unmap, no new attachment, mapping, vmap or mmap. A dma-buf that
 * nothing pins, maps or vmaps lets go of its memory once its fences have
 * signalled (it becomes inert); one that is pinned or vmapped keeps its
 * memory until its last pin, mapping and vmap are gone, and the state
 * reads "reclaiming" until then. The tenancy ends, and its memory is
 * scrubbed, when nothing holds it any more, whoever still holds the
 * tenant's device file or inert dma-buf files.
 *
 * A device without a tenant is left alone, and reclaiming a tenancy twice
 * does nothing more; a reclaim that runs beside another returns, like it,
 * once every dma-buf is revoked. Waits only for the tenant's ioctls that
 * are running, killably.
 *
 * Context: process context; takes the device's lock, the tenancy's ioctl
 * lock and the dma-bufs' reservation locks.
 * Return: 0, or -EINTR (fatal signal while waiting for the tenant's
 * ioctls: nothing was done).
 */
int accmem_device_reclaim(struct accmem_device *adev)
{
	struct accmem_dmabuf *exp;
	struct accmem_ctx *ctx;
	int ret;

	/* Hold the tenancy: no other one begins while this one is revoked. */
	mutex_lock(&adev->lock);
	ctx = adev->ctx;
	if (ctx && !kref_get_unless_zero(&ctx->users))
		ctx = NULL;
	mutex_unlock(&adev->lock);
	if (!ctx)
		return 0;

	ret = accmem_ctx_reclaim(ctx);
	if (ret < 0)
		goto out;
	/*
	 * Also when another reclaim marked the tenancy first: this one
	 * returns only once every dma-buf is revoked (which is idempotent).
	 */
	mutex_lock(&adev->lock);
	list_for_each_entry(exp, &adev->dmabufs, dev_node)
		accmem_export_revoke_locked(exp);
	if (ret)
		pr_info("%s: reclaimed from tenant %d\n", adev->name,
			pid_nr(ctx->owner));
	mutex_unlock(&adev->lock);
	accmem_device_state_changed(adev);
	ret = 0;
out:
	accmem_ctx_users_put(ctx);
	return ret;
}

/**
 * accmem_device_backend() - the backend's private data of a device
 * @adev: device
 *
 * Return: the @backend given to accmem_device_add().
 */
void *accmem_device_backend(struct accmem_device *adev)
{
	return adev->backend;
}

/**
 * accmem_device_name() - the device's name
 * @adev: device
 *
 * Return: "accmemN".
 */
const char *accmem_device_name(struct accmem_device *adev)
{
	return adev->name;
}

/**
 * accmem_device_state_changed() - wake the pollers of the state attribute
 * @adev: device
 *
 * Called after every change accmem_device_state() depends on: poll() on
 * /sys/class/misc/accmemN/state then returns (POLLPRI | POLLERR), and the
 * reader reads the new state. A call for a change that leaves the state
 * as it was only costs the reader a spurious wake-up.
 *
 * Context: any context (kernfs_notify() takes a spinlock only).
 */
void accmem_device_state_changed(struct accmem_device *adev)
{
	struct kernfs_node *kn = READ_ONCE(adev->state_kn);

	if (kn)
		sysfs_notify_dirent(kn);
}

/**
 * accmem_device_state() - lifecycle state for sysfs
 * @adev: device
 *
 * idle: no tenant. owned: the tenant has the device file open. draining:
 * the file is closed but dma-bufs are alive. reclaiming: the tenancy was
 * reclaimed and dma-bufs that are pinned, mapped or vmapped still hold its
 * memory. scrubbing: nothing is exported any more and memory is being
 * zeroed (also during the initial scrub). gone: the device was removed.
 *
 * Return: the state's name.
 */
const char *accmem_device_state(struct accmem_device *adev)
{
	const char *state;

	mutex_lock(&adev->lock);
	if (adev->gone)
		state = "gone";
	else if (adev->file_open)
		state = "owned";
	else if (adev->ctx && atomic_read(&adev->stats.live_exports))
		state = adev->ctx->reclaimed ? "reclaiming" : "draining";
	else if (adev->ctx || adev->probe_scrub)
		state = "scrubbing";
	else
		state = "idle";
	mutex_unlock(&adev->lock);
	return state;
}
