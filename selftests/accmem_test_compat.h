/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the test-only modules (selftests/importer, selftests/rdma_pinned)
 * share; never included by accmem itself, which has src/compat.h.
 *
 * Every difference between the kernels they build for (Debian's 6.1 and
 * 6.12, Linux 7.3) lives here, and so does their file boilerplate: a device
 * file holds objects (imports) by id, each destroyed by its RELEASE ioctl or
 * when the file closes; the file operations are accmem_test_fops, for a
 * struct accmem_test_dev.
 */
#ifndef _ACCMEM_TEST_COMPAT_H
#define _ACCMEM_TEST_COMPAT_H

#include <linux/err.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/xarray.h>

/* Namespaced dma-buf symbols: a bare token before 6.13, a string after. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define ACCMEM_TEST_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS("DMA_BUF")
#else
#define ACCMEM_TEST_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS(DMA_BUF)
#endif

/* dma_buf_vmap_unlocked() arrived with the 6.2 locking convention. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define accmem_test_vmap_unlocked	dma_buf_vmap_unlocked
#define accmem_test_vunmap_unlocked	dma_buf_vunmap_unlocked
#else
#define accmem_test_vmap_unlocked	dma_buf_vmap
#define accmem_test_vunmap_unlocked	dma_buf_vunmap
#endif

/*
 * The importer's callback in struct dma_buf_attach_ops: move_notify until
 * 7.0, invalidate_mappings from 7.1 on (same signature and calling rules).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 1, 0)
#define ACCMEM_TEST_INVALIDATE_OP	invalidate_mappings
#else
#define ACCMEM_TEST_INVALIDATE_OP	move_notify
#endif

/*
 * The same 7.1 core revokes pinned importers that implement
 * invalidate_mappings (dma_buf_attach_revocable()); before, none.
 */
#define ACCMEM_TEST_HAVE_REVOCABLE_PIN \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(7, 1, 0))

/* Destroys one object of a device file. */
typedef void (*accmem_test_destroy_fn)(void *obj);

/* Objects of a device file, by id from 1. */
static inline void accmem_test_objs_init(struct xarray *objs)
{
	xa_init_flags(objs, XA_FLAGS_ALLOC1);
}

/*
 * Publishes @obj under a new id in *@id. From then on another thread may
 * release it: fill in everything user space gets back before this.
 */
static inline int accmem_test_obj_add(struct xarray *objs, void *obj, u32 *id)
{
	return xa_alloc(objs, id, obj, xa_limit_31b, GFP_KERNEL);
}

/* Takes object @id back and destroys it; -ENOENT if there is none. */
static inline int accmem_test_obj_remove(struct xarray *objs, u32 id,
					 accmem_test_destroy_fn destroy)
{
	void *obj = xa_erase(objs, id);

	if (!obj)
		return -ENOENT;
	destroy(obj);
	return 0;
}

/*
 * Publishes @obj under a new id, stored in *@id (a field of @args), then
 * copies @args (@size bytes) to @uarg; takes @obj back and destroys it if
 * either fails. Fill in everything else user space gets back before this.
 */
static inline int accmem_test_obj_publish(struct xarray *objs, void *obj,
					  accmem_test_destroy_fn destroy,
					  u32 *id, void __user *uarg,
					  const void *args, size_t size)
{
	int ret = accmem_test_obj_add(objs, obj, id);

	if (ret) {
		destroy(obj);
		return ret;
	}
	if (copy_to_user(uarg, args, size)) {
		accmem_test_obj_remove(objs, *id, destroy);
		return -EFAULT;
	}
	return 0;
}

/*
 * The ioctls on one object: copies their argument (@size bytes) from @uarg
 * to @args and finds the object whose id is then in *@id (a field of
 * @args). Returns it, ERR_PTR(-EFAULT) or ERR_PTR(-ENOENT).
 */
static inline void *accmem_test_obj_get(struct xarray *objs, void *args,
					size_t size, const u32 *id,
					void __user *uarg)
{
	void *obj;

	if (copy_from_user(args, uarg, size))
		return ERR_PTR(-EFAULT);
	obj = xa_load(objs, *id);
	return obj ? obj : ERR_PTR(-ENOENT);
}

/* The RELEASE ioctls: @uarg points to the id, a __u32. */
static inline int accmem_test_ioctl_release(struct xarray *objs,
					    void __user *uarg,
					    accmem_test_destroy_fn destroy)
{
	u32 id;

	if (get_user(id, (u32 __user *)uarg))
		return -EFAULT;
	return accmem_test_obj_remove(objs, id, destroy);
}

/* The file is closing: destroys every object left. */
static inline void accmem_test_objs_destroy(struct xarray *objs,
					    accmem_test_destroy_fn destroy)
{
	unsigned long id;
	void *obj;

	xa_for_each(objs, id, obj) {
		xa_erase(objs, id);
		destroy(obj);
	}
	xa_destroy(objs);
}

/* One ioctl of a test module, on the objects of the file. */
struct accmem_test_ioctl {
	unsigned int cmd;
	int (*fn)(struct xarray *objs, void __user *uarg);
};

/**
 * struct accmem_test_dev - a test module's device
 * @misc: its misc device (ACCMEM_TEST_MISC()); register it with
 *	misc_register()
 * @ioctls: the module's ioctls but RELEASE, ending with an empty entry
 * @release_cmd: the RELEASE ioctl, whose argument is an object's id
 * @destroy: destroys one object
 * @serialise: one ioctl of a file at a time (else the module locks)
 * @mmap: mmap() of the device file, on the file's objects (NULL: -ENODEV)
 *
 * Every file opened holds its own objects; the file operations
 * (accmem_test_fops) are the same for every module.
 */
struct accmem_test_dev {
	struct miscdevice misc;
	const struct accmem_test_ioctl *ioctls;
	unsigned int release_cmd;
	accmem_test_destroy_fn destroy;
	bool serialise;
	int (*mmap)(struct xarray *objs, struct vm_area_struct *vma);
};

/* The misc device /dev/@dev_name of a struct accmem_test_dev. */
#define ACCMEM_TEST_MISC(dev_name) {		\
	.minor = MISC_DYNAMIC_MINOR,		\
	.name = dev_name,			\
	.fops = &accmem_test_fops,		\
}

/* An open file of a test module's device. */
struct accmem_test_file {
	const struct accmem_test_dev *dev;
	struct mutex lock; /* serialises the ioctls if dev->serialise */
	struct xarray objs;
};

static int accmem_test_open(struct inode *inode, struct file *file)
{
	/* misc_open() put the miscdevice there */
	struct accmem_test_dev *dev = container_of(file->private_data,
						   struct accmem_test_dev,
						   misc);
	struct accmem_test_file *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	f->dev = dev;
	mutex_init(&f->lock);
	accmem_test_objs_init(&f->objs);
	file->private_data = f;
	return 0;
}

static int accmem_test_release(struct inode *inode, struct file *file)
{
	struct accmem_test_file *f = file->private_data;

	accmem_test_objs_destroy(&f->objs, f->dev->destroy);
	mutex_destroy(&f->lock);
	kfree(f);
	return 0;
}

static long accmem_test_do_ioctl(struct accmem_test_file *f,
				 unsigned int cmd, void __user *uarg)
{
	const struct accmem_test_ioctl *i;

	if (cmd == f->dev->release_cmd)
		return accmem_test_ioctl_release(&f->objs, uarg,
						 f->dev->destroy);
	for (i = f->dev->ioctls; i->fn; i++)
		if (i->cmd == cmd)
			return i->fn(&f->objs, uarg);
	return -ENOTTY;
}

static long accmem_test_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct accmem_test_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	if (!f->dev->serialise)
		return accmem_test_do_ioctl(f, cmd, uarg);
	mutex_lock(&f->lock);
	ret = accmem_test_do_ioctl(f, cmd, uarg);
	mutex_unlock(&f->lock);
	return ret;
}

static int accmem_test_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct accmem_test_file *f = file->private_data;

	return f->dev->mmap ? f->dev->mmap(&f->objs, vma) : -ENODEV;
}

static const struct file_operations accmem_test_fops = {
	.owner = THIS_MODULE,
	.open = accmem_test_open,
	.release = accmem_test_release,
	.mmap = accmem_test_mmap,
	.unlocked_ioctl = accmem_test_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static inline int accmem_test_dev_register(struct accmem_test_dev *dev)
{
	return misc_register(&dev->misc);
}

static inline void accmem_test_dev_deregister(struct accmem_test_dev *dev)
{
	misc_deregister(&dev->misc);
}

/* For a module that is its device and nothing more: loading registers it. */
#define module_accmem_test_dev(dev) \
	module_driver(dev, accmem_test_dev_register, accmem_test_dev_deregister)

#endif /* _ACCMEM_TEST_COMPAT_H */
