/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the test-only modules (selftests/importer, selftests/rdma_pinned)
 * share; never included by accmem itself, which has src/compat.h.
 *
 * Every difference between the kernels they build for (Debian's 6.1 and
 * 6.12, Linux 7.3) lives here, and so does their file boilerplate: a device
 * file holds objects (imports) by id, each destroyed by its RELEASE ioctl or
 * when the file closes.
 */
#ifndef _ACCMEM_TEST_COMPAT_H
#define _ACCMEM_TEST_COMPAT_H

#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/module.h>
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

#endif /* _ACCMEM_TEST_COMPAT_H */
