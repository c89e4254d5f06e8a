// SPDX-License-Identifier: GPL-2.0
/*
 * accmem_importer: a test-only dma-buf importer (see accmem_importer.h).
 *
 * The importing device is a platform device with a 64-bit DMA mask whose
 * max segment size each import sets, so tests can check how the exporter
 * splits its scatterlists; or, with pci_dev=DDDD:BB:DD.F, that PCI device
 * (e.g. a NIC behind a vIOMMU, to see the IOVAs importers get).
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "accmem_importer.h"
#include "accmem_test_compat.h"

struct imp_import {
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	u32 mode;
	bool pinned;
	bool vmapped;
	struct iosys_map vmap;
	atomic_t moves;
};

static char *pci_dev;
module_param(pci_dev, charp, 0444);
MODULE_PARM_DESC(pci_dev, "PCI device (DDDD:BB:DD.F) to import as, instead of a platform device");

static struct platform_device *imp_pdev;
static struct pci_dev *imp_pci;
static struct device *imp_dev;
static struct device_dma_parameters imp_dma_parms;
/* Serialises imports: they set the shared device's max segment size. */
static DEFINE_MUTEX(imp_lock);

/* move_notify, invalidate_mappings from 7.1 on: counted, never expected */
static void imp_move_notify(struct dma_buf_attachment *attach)
{
	struct imp_import *imp = attach->importer_priv;

	atomic_inc(&imp->moves);
}

/* Both dynamic modes: peer-to-peer capable, moves counted. */
static const struct dma_buf_attach_ops imp_attach_ops = {
	.allow_peer2peer = true,
	.ACCMEM_TEST_INVALIDATE_OP = imp_move_notify,
};

/*
 * A revocable pinned importer (the RDMA core's revocable pinned umem):
 * when told, it unmaps and unpins at once, under the reservation lock the
 * core holds, and never maps again.
 */
static void imp_revoke(struct dma_buf_attachment *attach)
{
	struct imp_import *imp = attach->importer_priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	atomic_inc(&imp->moves);
	if (imp->sgt)
		dma_buf_unmap_attachment(attach, imp->sgt, DMA_BIDIRECTIONAL);
	imp->sgt = NULL;
	if (imp->pinned)
		dma_buf_unpin(attach);
	imp->pinned = false;
}

static const struct dma_buf_attach_ops imp_revocable_ops = {
	.allow_peer2peer = true,
	.ACCMEM_TEST_INVALIDATE_OP = imp_revoke,
};

static void imp_destroy(void *obj)
{
	struct imp_import *imp = obj;

	if (imp->vmapped)
		accmem_test_vunmap_unlocked(imp->dmabuf, &imp->vmap);
	dma_resv_lock(imp->dmabuf->resv, NULL);
	if (imp->sgt)
		dma_buf_unmap_attachment(imp->attach, imp->sgt,
					 DMA_BIDIRECTIONAL);
	if (imp->pinned)
		dma_buf_unpin(imp->attach);
	dma_resv_unlock(imp->dmabuf->resv);
	dma_buf_detach(imp->dmabuf, imp->attach);
	dma_buf_put(imp->dmabuf);
	kfree(imp);
}

static struct dma_buf_attachment *imp_attach(struct imp_import *imp)
{
	struct device *dev = imp_dev;

	switch (imp->mode) {
	case ACCMEM_IMP_STATIC:
		return dma_buf_attach(imp->dmabuf, dev);
	case ACCMEM_IMP_DYN_PIN:
	case ACCMEM_IMP_DYN_MOVE:
		return dma_buf_dynamic_attach(imp->dmabuf, dev,
					      &imp_attach_ops, imp);
	case ACCMEM_IMP_DYN_PIN_REVOCABLE:
		return dma_buf_dynamic_attach(imp->dmabuf, dev,
					      &imp_revocable_ops, imp);
	}
	return ERR_PTR(-EINVAL);
}

/* Attach, pin if asked, map under the reservation lock. */
static int imp_map(struct imp_import *imp, u64 max_seg)
{
	int ret;

	mutex_lock(&imp_lock);
	/* test-only: this changes the borrowed PCI device's limit too */
	if (imp_dev->dma_parms)
		imp_dev->dma_parms->max_segment_size =
			max_seg ? min_t(u64, max_seg, SZ_2G) : SZ_2G;
	imp->attach = imp_attach(imp);
	if (IS_ERR(imp->attach)) {
		ret = PTR_ERR(imp->attach);
		goto out_unlock;
	}

	dma_resv_lock(imp->dmabuf->resv, NULL);
	if (imp->mode == ACCMEM_IMP_DYN_PIN ||
	    imp->mode == ACCMEM_IMP_DYN_PIN_REVOCABLE) {
		ret = dma_buf_pin(imp->attach);
		if (ret)
			goto err_resv;
		imp->pinned = true;
	}
	imp->sgt = dma_buf_map_attachment(imp->attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(imp->sgt)) {
		ret = PTR_ERR(imp->sgt);
		goto err_unpin;
	}
	dma_resv_unlock(imp->dmabuf->resv);
	mutex_unlock(&imp_lock);
	return 0;

err_unpin:
	if (imp->pinned)
		dma_buf_unpin(imp->attach);
err_resv:
	dma_resv_unlock(imp->dmabuf->resv);
	dma_buf_detach(imp->dmabuf, imp->attach);
out_unlock:
	mutex_unlock(&imp_lock);
	return ret;
}

static int imp_ioctl_import(struct xarray *imports, void __user *uarg)
{
	struct accmem_imp_import args;
	struct imp_import *imp;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.mode > ACCMEM_IMP_DYN_PIN_REVOCABLE)
		return -EINVAL;
	if (args.mode == ACCMEM_IMP_DYN_PIN_REVOCABLE &&
	    !ACCMEM_TEST_HAVE_REVOCABLE_PIN)
		return -EOPNOTSUPP;

	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!imp)
		return -ENOMEM;
	imp->mode = args.mode;
	imp->dmabuf = dma_buf_get(args.fd);
	if (IS_ERR(imp->dmabuf)) {
		ret = PTR_ERR(imp->dmabuf);
		kfree(imp);
		return ret;
	}

	ret = imp_map(imp, args.max_seg);
	if (ret) {
		dma_buf_put(imp->dmabuf);
		kfree(imp);
		return ret;
	}

	args.nents = imp->sgt->nents;
	args.size = imp->dmabuf->size;
	args.iommu = device_iommu_mapped(imp_dev);
	return accmem_test_obj_publish(imports, imp, imp_destroy, &args.id,
				       uarg, &args, sizeof(args));
}

static int imp_ioctl_get_sg(struct xarray *imports, void __user *uarg)
{
	struct accmem_imp_seg __user *useg;
	struct accmem_imp_sg args;
	struct imp_import *imp;
	struct scatterlist *sg;
	unsigned int i;

	imp = accmem_test_obj_get(imports, &args, sizeof(args), &args.id,
				  uarg);
	if (IS_ERR(imp))
		return PTR_ERR(imp);

	if (!imp->sgt)
		return -ENODATA;
	useg = u64_to_user_ptr(args.segs);
	for_each_sgtable_dma_sg(imp->sgt, sg, i) {
		struct accmem_imp_seg seg = {
			.addr = sg_dma_address(sg),
			.len = sg_dma_len(sg),
		};

		if (i >= args.count)
			break;
		if (copy_to_user(&useg[i], &seg, sizeof(seg)))
			return -EFAULT;
	}
	args.count = imp->sgt->nents;
	return copy_to_user(uarg, &args, sizeof(args)) ? -EFAULT : 0;
}

static int imp_copy(struct iosys_map *map, struct accmem_imp_rw *args)
{
	void *bounce;
	int ret = 0;

	bounce = kvmalloc(args->len, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	if (args->write) {
		if (copy_from_user(bounce, u64_to_user_ptr(args->buf),
				   args->len))
			ret = -EFAULT;
		else
			iosys_map_memcpy_to(map, args->offset, bounce,
					    args->len);
	} else {
		iosys_map_memcpy_from(bounce, map, args->offset, args->len);
		if (copy_to_user(u64_to_user_ptr(args->buf), bounce,
				 args->len))
			ret = -EFAULT;
	}
	kvfree(bounce);
	return ret;
}

static int imp_ioctl_rw(struct xarray *imports, void __user *uarg)
{
	struct accmem_imp_rw args;
	struct imp_import *imp;
	struct iosys_map map;
	enum dma_data_direction dir;
	u64 end;
	int ret;

	imp = accmem_test_obj_get(imports, &args, sizeof(args), &args.id,
				  uarg);
	if (IS_ERR(imp))
		return PTR_ERR(imp);
	if (check_add_overflow(args.offset, args.len, &end) ||
	    end > imp->dmabuf->size)
		return -EINVAL;

	dir = args.write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	ret = accmem_test_vmap_unlocked(imp->dmabuf, &map);
	if (ret)
		return ret;
	ret = dma_buf_begin_cpu_access(imp->dmabuf, dir);
	if (!ret) {
		ret = imp_copy(&map, &args);
		dma_buf_end_cpu_access(imp->dmabuf, dir);
	}
	accmem_test_vunmap_unlocked(imp->dmabuf, &map);
	return ret;
}

/* accmem_scrub()'s chunk (src/scrub.c): the fill runs the same loop. */
#define IMP_FILL_CHUNK	SZ_16M

/*
 * What accmem's scrub does to each chunk: memset() on RAM (the emulated
 * backend), memset_io() on I/O memory then wmb() and a read of the chunk's
 * last word (the PCI backend: the read returns once the posted writes have
 * reached the device).
 */
static void imp_fill(struct iosys_map *map, u64 offset, u64 len)
{
	u64 done = 0;

	while (done < len) {
		u64 n = min_t(u64, len - done, IMP_FILL_CHUNK);

		if (map->is_iomem) {
			void __iomem *p = map->vaddr_iomem + offset + done;

			memset_io(p, 0, n);
			/* drain the WC buffers, then wait for the writes */
			wmb();
			readl(p + n - sizeof(u32));
		} else {
			memset(map->vaddr + offset + done, 0, n);
		}
		done += n;
		cond_resched();
	}
}

static int imp_ioctl_fill(struct xarray *imports, void __user *uarg)
{
	struct accmem_imp_fill args;
	struct imp_import *imp;
	struct iosys_map map;
	u64 end, t0;
	int ret;

	imp = accmem_test_obj_get(imports, &args, sizeof(args), &args.id,
				  uarg);
	if (IS_ERR(imp))
		return PTR_ERR(imp);
	/* Whole words: the read-back after memset_io() reads the last one. */
	if (args.flags || args.pad || !args.len ||
	    !IS_ALIGNED(args.offset | args.len, sizeof(u32)) ||
	    check_add_overflow(args.offset, args.len, &end) ||
	    end > imp->dmabuf->size)
		return -EINVAL;

	ret = accmem_test_vmap_unlocked(imp->dmabuf, &map);
	if (ret)
		return ret;
	ret = dma_buf_begin_cpu_access(imp->dmabuf, DMA_TO_DEVICE);
	if (!ret) {
		t0 = ktime_get_ns();
		imp_fill(&map, args.offset, args.len);
		args.ns = ktime_get_ns() - t0;
		args.iomem = map.is_iomem;
		dma_buf_end_cpu_access(imp->dmabuf, DMA_TO_DEVICE);
	}
	accmem_test_vunmap_unlocked(imp->dmabuf, &map);
	if (ret)
		return ret;
	return copy_to_user(uarg, &args, sizeof(args)) ? -EFAULT : 0;
}

static int imp_ioctl_state(struct xarray *imports, void __user *uarg)
{
	struct accmem_imp_state args;
	struct imp_import *imp;

	imp = accmem_test_obj_get(imports, &args, sizeof(args), &args.id,
				  uarg);
	if (IS_ERR(imp))
		return PTR_ERR(imp);
	args.moves = atomic_read(&imp->moves);
	args.pinned = imp->pinned;
	return copy_to_user(uarg, &args, sizeof(args)) ? -EFAULT : 0;
}

/* The import whose id (a u32) @uarg points to, or an ERR_PTR. */
static struct imp_import *imp_by_id(struct xarray *imports,
				    void __user *uarg)
{
	struct imp_import *imp;
	u32 id;

	if (get_user(id, (u32 __user *)uarg))
		return ERR_PTR(-EFAULT);
	imp = xa_load(imports, id);
	return imp ?: ERR_PTR(-ENOENT);
}

/*
 * What a dynamic importer does after move_notify: unmap, map again. Not
 * serialised against other ioctls on the same import: tests don't.
 */
static int imp_ioctl_remap(struct xarray *imports, void __user *uarg)
{
	struct imp_import *imp = imp_by_id(imports, uarg);
	struct sg_table *sgt;

	if (IS_ERR(imp))
		return PTR_ERR(imp);
	if (imp->mode == ACCMEM_IMP_STATIC)
		return -EINVAL;

	dma_resv_lock(imp->dmabuf->resv, NULL);
	if (imp->sgt)
		dma_buf_unmap_attachment(imp->attach, imp->sgt,
					 DMA_BIDIRECTIONAL);
	sgt = dma_buf_map_attachment(imp->attach, DMA_BIDIRECTIONAL);
	imp->sgt = IS_ERR(sgt) ? NULL : sgt;
	dma_resv_unlock(imp->dmabuf->resv);
	return PTR_ERR_OR_ZERO(sgt);
}

/*
 * A kernel mapping (dma_buf_vmap()) the import keeps until it is released,
 * as importers that map a buffer once do. While it exists, the dma-buf
 * core hands the same mapping to ACCMEM_IMP_RW without asking the
 * exporter. Not serialised against other ioctls on the same import.
 */
static int imp_ioctl_vmap(struct xarray *imports, void __user *uarg)
{
	struct imp_import *imp = imp_by_id(imports, uarg);
	int ret;

	if (IS_ERR(imp))
		return PTR_ERR(imp);
	if (imp->vmapped)
		return -EBUSY;
	ret = accmem_test_vmap_unlocked(imp->dmabuf, &imp->vmap);
	if (!ret)
		imp->vmapped = true;
	return ret;
}

/*
 * mmap() of the importer's file at offset id << PAGE_SHIFT maps import id
 * through dma_buf_mmap(), the way a DRM driver maps an imported GEM object:
 * with the vma of the importer's file, not the dma-buf's.
 */
static int imp_mmap(struct xarray *imports, struct vm_area_struct *vma)
{
	struct dma_buf *dmabuf = NULL;
	struct imp_import *imp;
	int ret;

	xa_lock(imports);
	imp = xa_load(imports, vma->vm_pgoff);
	if (imp) {
		dmabuf = imp->dmabuf;
		get_dma_buf(dmabuf);
	}
	xa_unlock(imports);
	if (!dmabuf)
		return -ENOENT;
	ret = dma_buf_mmap(dmabuf, vma, 0);
	dma_buf_put(dmabuf);
	return ret;
}

/*
 * What an importer that holds page references does to the exporter's
 * pages (get_page() then put_page()), on pages whose count is not zero:
 * a page with count zero is reported instead, its put_page() would free
 * memory the exporter still owns.
 */
static int imp_ioctl_page_refs(struct xarray *imports, void __user *uarg)
{
	struct accmem_imp_page_refs args;
	unsigned long pfn, end;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (!PAGE_ALIGNED(args.phys) || !PAGE_ALIGNED(args.len) ||
	    args.phys + args.len < args.phys)
		return -EINVAL;
	args.zero = 0;
	args.taken = 0;
	end = PHYS_PFN(args.phys + args.len);
	for (pfn = PHYS_PFN(args.phys); pfn < end; pfn++) {
		struct page *page;

		if (!pfn_valid(pfn))
			return -EINVAL;
		page = pfn_to_page(pfn);
		if (!page_count(page)) {
			args.zero++;
			continue;
		}
		get_page(page);
		put_page(page);
		args.taken++;
		cond_resched();
	}
	return copy_to_user(uarg, &args, sizeof(args)) ? -EFAULT : 0;
}

static const struct accmem_test_ioctl imp_ioctls[] = {
	{ ACCMEM_IMP_IMPORT, imp_ioctl_import },
	{ ACCMEM_IMP_GET_SG, imp_ioctl_get_sg },
	{ ACCMEM_IMP_RW, imp_ioctl_rw },
	{ ACCMEM_IMP_STATE, imp_ioctl_state },
	{ ACCMEM_IMP_REMAP, imp_ioctl_remap },
	{ ACCMEM_IMP_PAGE_REFS, imp_ioctl_page_refs },
	{ ACCMEM_IMP_VMAP, imp_ioctl_vmap },
	{ ACCMEM_IMP_FILL, imp_ioctl_fill },
	{ }
};

/*
 * Not serialised per file: the stress selftest imports through one file
 * from four threads; imp_lock serialises what must be.
 */
static struct accmem_test_dev imp_tdev = {
	.misc = ACCMEM_TEST_MISC("accmem_importer"),
	.ioctls = imp_ioctls,
	.release_cmd = ACCMEM_IMP_RELEASE,
	.destroy = imp_destroy,
	.mmap = imp_mmap,
};

static int __init imp_init(void)
{
	struct platform_device_info info = {
		.name = "accmem-importer",
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(64),
	};
	unsigned int dom, bus, slot, fn;
	int ret;

	if (pci_dev) {
		if (sscanf(pci_dev, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
			return -EINVAL;
		imp_pci = pci_get_domain_bus_and_slot(dom, bus,
						      PCI_DEVFN(slot, fn));
		if (!imp_pci)
			return -ENODEV;
		imp_dev = &imp_pci->dev;
	} else {
		imp_pdev = platform_device_register_full(&info);
		if (IS_ERR(imp_pdev))
			return PTR_ERR(imp_pdev);
		imp_pdev->dev.dma_parms = &imp_dma_parms;
		imp_dev = &imp_pdev->dev;
	}

	ret = accmem_test_dev_register(&imp_tdev);
	if (ret) {
		platform_device_unregister(imp_pdev);
		pci_dev_put(imp_pci);
	}
	return ret;
}

static void __exit imp_exit(void)
{
	accmem_test_dev_deregister(&imp_tdev);
	platform_device_unregister(imp_pdev);
	pci_dev_put(imp_pci);
}

module_init(imp_init);
module_exit(imp_exit);

MODULE_DESCRIPTION("Test-only dma-buf importer for the accmem selftests");
MODULE_LICENSE("GPL");
ACCMEM_TEST_IMPORT_NS_DMA_BUF();
