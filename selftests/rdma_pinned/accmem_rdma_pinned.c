// SPDX-License-Identifier: GPL-2.0
/*
 * accmem_rdma_pinned: a test-only driver of the RDMA core's pinned dma-buf
 * import (see accmem_rdma_pinned.h).
 *
 * Whether the kernel exports ib_umem_dmabuf_get_pinned_with_dma_device() is
 * decided once, by Kbuild from the kernel's Module.symvers; without it
 * everything RDMA is left out, the module needs no RDMA module and every
 * import fails with -EOPNOTSUPP.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "accmem_rdma_pinned.h"
#include "accmem_test_compat.h"

#ifdef ACCMEM_RP_HAVE_UMEM_DMA_DEVICE
#include <linux/device.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/netdevice.h>
#include <linux/nsproxy.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <net/net_namespace.h>
#include <rdma/ib_umem.h>
#include <rdma/ib_verbs.h>
#include <rdma/iter.h>

#define RP_ACCESS	(IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | \
			 IB_ACCESS_REMOTE_READ)

/**
 * struct rp_import - one pinned dma-buf umem, held like an MR
 * @ibdev: the rxe device (a registration reference)
 * @dma_dev: the PCI device the dma-buf is mapped for (a reference)
 * @umem: attached, pinned and mapped by the RDMA core
 */
struct rp_import {
	struct ib_device *ibdev;
	struct device *dma_dev;
	struct ib_umem_dmabuf *umem;
};

static int rp_match_dma(struct device *dev, const void *data)
{
	return dev->driver && dev->dma_mask && *dev->dma_mask;
}

static int rp_match_nic(struct device *dev, const void *data)
{
	return rp_match_dma(dev, data) &&
	       to_pci_dev(dev)->class >> 8 == PCI_CLASS_NETWORK_ETHERNET;
}

/* A bound PCI Ethernet function, else any bound PCI device that can DMA. */
static struct device *rp_find_dma_device(void)
{
	struct device *dev;

	dev = bus_find_device(&pci_bus_type, NULL, NULL, rp_match_nic);
	if (!dev)
		dev = bus_find_device(&pci_bus_type, NULL, NULL, rp_match_dma);
	return dev;
}

/*
 * The rxe device called @name, with a registration reference. There is no
 * lookup by name on every kernel (7.x dropped ib_device_get_by_name()), but
 * an rxe device is bound to a netdev and found from it: the rxe device of
 * each netdev of the caller's network namespace, compared by name.
 */
static struct ib_device *rp_ibdev_get(const char *name)
{
	struct net *net = current->nsproxy->net_ns;
	struct ib_device *ibdev = NULL;
	struct net_device *ndev;

	rcu_read_lock();
	for_each_netdev_rcu(net, ndev) {
		ibdev = ib_device_get_by_netdev(ndev, RDMA_DRIVER_RXE);
		if (!ibdev)
			continue;
		if (!strcmp(dev_name(&ibdev->dev), name))
			break;
		ib_device_put(ibdev);
		ibdev = NULL;
	}
	rcu_read_unlock();
	return ibdev;
}

static u32 rp_count_blocks(struct ib_umem *umem)
{
	struct ib_block_iter biter;
	u32 n = 0;

	rdma_umem_for_each_dma_block(umem, &biter, PAGE_SIZE)
		n++;
	return n;
}

static struct rp_import *rp_import_create(struct accmem_rp_import *args)
{
	struct ib_umem_dmabuf *umem;
	struct rp_import *imp;
	int ret;

	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!imp)
		return ERR_PTR(-ENOMEM);

	imp->ibdev = rp_ibdev_get(args->ibdev);
	if (!imp->ibdev) {
		ret = -ENODEV;
		goto err_free;
	}
	imp->dma_dev = rp_find_dma_device();
	if (!imp->dma_dev) {
		ret = -ENODEV;
		goto err_put_ibdev;
	}

	umem = ib_umem_dmabuf_get_pinned_with_dma_device(imp->ibdev,
							 imp->dma_dev,
							 args->offset,
							 args->length,
							 args->fd, RP_ACCESS);
	if (IS_ERR(umem)) {
		ret = PTR_ERR(umem);
		goto err_put_dma_dev;
	}
	imp->umem = umem;

	/*
	 * What every driver does next, with the MR's iova (here the offset,
	 * as pyverbs does): the page size, and the iova the block iterator
	 * counts from.
	 */
	if (!ib_umem_find_best_pgsz(&umem->umem, PAGE_SIZE, args->offset)) {
		ret = -EINVAL;
		goto err_release;
	}

	args->nblocks = rp_count_blocks(&umem->umem);
	args->umem_address = umem->umem.address;
	args->umem_length = umem->umem.length;
	strscpy(args->dma_dev, dev_name(imp->dma_dev), sizeof(args->dma_dev));
	args->iommu = device_iommu_mapped(imp->dma_dev);
	return imp;

err_release:
	ib_umem_release(&umem->umem);
err_put_dma_dev:
	put_device(imp->dma_dev);
err_put_ibdev:
	ib_device_put(imp->ibdev);
err_free:
	kfree(imp);
	return ERR_PTR(ret);
}

/* Unpins, unmaps, detaches and drops the dma-buf, as ib_dereg_mr() does. */
static void rp_import_destroy(void *obj)
{
	struct rp_import *imp = obj;

	ib_umem_release(&imp->umem->umem);
	put_device(imp->dma_dev);
	ib_device_put(imp->ibdev);
	kfree(imp);
}

/* Where the NIC's DMA to @addr lands. */
static phys_addr_t rp_dma_to_phys(struct device *dev, dma_addr_t addr)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	/* Without an IOMMU (dma-direct on x86) the DMA address is physical. */
	return domain ? iommu_iova_to_phys(domain, addr) : addr;
}

static int rp_put_run(struct accmem_rp_run __user *uruns, u32 room, u32 n,
		      const struct accmem_rp_run *run)
{
	if (n >= room)
		return 0;
	return copy_to_user(&uruns[n], run, sizeof(*run)) ? -EFAULT : 0;
}

/* Walks the umem with the RDMA block iterator, as a driver fills its MTT. */
static int rp_import_runs(struct rp_import *imp,
			  struct accmem_rp_run __user *uruns, u32 *count)
{
	struct accmem_rp_run run = { };
	struct ib_block_iter biter;
	u32 room = *count, n = 0;
	int ret;

	rdma_umem_for_each_dma_block(&imp->umem->umem, &biter, PAGE_SIZE) {
		dma_addr_t addr = rdma_block_iter_dma_address(&biter);
		phys_addr_t phys = rp_dma_to_phys(imp->dma_dev, addr);

		if (run.len && run.addr + run.len == addr &&
		    run.phys + run.len == phys) {
			run.len += PAGE_SIZE;
			continue;
		}
		if (run.len) {
			ret = rp_put_run(uruns, room, n++, &run);
			if (ret)
				return ret;
		}
		run.addr = addr;
		run.phys = phys;
		run.len = PAGE_SIZE;
	}
	if (run.len) {
		ret = rp_put_run(uruns, room, n++, &run);
		if (ret)
			return ret;
	}
	*count = n;
	return 0;
}

/* Memory without struct pages (a PCI BAR) is mapped for the access. */
static int rp_copy_io(phys_addr_t phys, void __user *ubuf, u64 len,
		      bool write, void *bounce)
{
	void __iomem *io = ioremap_wc(phys, len);
	int ret = 0;

	if (!io)
		return -ENOMEM;
	if (write) {
		if (copy_from_user(bounce, ubuf, len))
			ret = -EFAULT;
		else
			memcpy_toio(io, bounce, len);
	} else {
		memcpy_fromio(bounce, io, len);
		if (copy_to_user(ubuf, bounce, len))
			ret = -EFAULT;
	}
	iounmap(io);
	return ret;
}

static int rp_copy_page(phys_addr_t phys, void __user *ubuf, u64 len,
			bool write, void *bounce)
{
	unsigned long pfn = PHYS_PFN(phys);

	if (!pfn_valid(pfn))
		return rp_copy_io(phys, ubuf, len, write, bounce);
	if (write) {
		if (copy_from_user(bounce, ubuf, len))
			return -EFAULT;
		memcpy_to_page(pfn_to_page(pfn), offset_in_page(phys), bounce,
			       len);
		return 0;
	}
	memcpy_from_page(bounce, pfn_to_page(pfn), offset_in_page(phys), len);
	return copy_to_user(ubuf, bounce, len) ? -EFAULT : 0;
}

/* Reads or writes the memory behind the umem's DMA addresses. */
static int rp_import_rw(struct rp_import *imp, struct accmem_rp_rw *args)
{
	struct ib_umem *umem = &imp->umem->umem;
	struct ib_block_iter biter;
	u64 pos = 0, end;
	void *bounce;
	int ret = 0;

	if (check_add_overflow(args->offset, args->len, &end) ||
	    end > (u64)ib_umem_num_dma_blocks(umem, PAGE_SIZE) * PAGE_SIZE)
		return -EINVAL;

	bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	rdma_umem_for_each_dma_block(umem, &biter, PAGE_SIZE) {
		u64 start = max(pos, args->offset);
		u64 stop = min(pos + PAGE_SIZE, end);
		dma_addr_t addr = rdma_block_iter_dma_address(&biter);

		if (start < stop) {
			ret = rp_copy_page(rp_dma_to_phys(imp->dma_dev, addr) +
					   start - pos,
					   u64_to_user_ptr(args->buf + start -
							   args->offset),
					   stop - start, args->write, bounce);
			if (ret)
				break;
		}
		pos += PAGE_SIZE;
		if (pos >= end)
			break;
	}
	kfree(bounce);
	return ret;
}
#else
/* This kernel lacks ib_umem_dmabuf_get_pinned_with_dma_device(). */
struct rp_import;

static struct rp_import *rp_import_create(struct accmem_rp_import *args)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static void rp_import_destroy(void *obj)
{
}

static int rp_import_runs(struct rp_import *imp,
			  struct accmem_rp_run __user *uruns, u32 *count)
{
	return -EOPNOTSUPP;
}

static int rp_import_rw(struct rp_import *imp, struct accmem_rp_rw *args)
{
	return -EOPNOTSUPP;
}
#endif

static int rp_ioctl_import(struct xarray *imports, void __user *uarg)
{
	struct accmem_rp_import args;
	struct rp_import *imp;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.pad || !memchr(args.ibdev, 0, sizeof(args.ibdev)))
		return -EINVAL;

	imp = rp_import_create(&args);
	if (IS_ERR(imp))
		return PTR_ERR(imp);
	return accmem_test_obj_publish(imports, imp, rp_import_destroy,
				       &args.id, uarg, &args, sizeof(args));
}

static int rp_ioctl_blocks(struct xarray *imports, void __user *uarg)
{
	struct accmem_rp_blocks args;
	struct rp_import *imp;
	int ret;

	imp = accmem_test_obj_get(imports, &args, sizeof(args), &args.id,
				  uarg);
	if (IS_ERR(imp))
		return PTR_ERR(imp);
	ret = rp_import_runs(imp, u64_to_user_ptr(args.runs), &args.count);
	if (ret)
		return ret;
	return copy_to_user(uarg, &args, sizeof(args)) ? -EFAULT : 0;
}

static int rp_ioctl_rw(struct xarray *imports, void __user *uarg)
{
	struct accmem_rp_rw args;
	struct rp_import *imp;

	imp = accmem_test_obj_get(imports, &args, sizeof(args), &args.id,
				  uarg);
	if (IS_ERR(imp))
		return PTR_ERR(imp);
	if (args.write > 1)
		return -EINVAL;
	return rp_import_rw(imp, &args);
}

static const struct accmem_test_ioctl rp_ioctls[] = {
	{ ACCMEM_RP_IMPORT, rp_ioctl_import },
	{ ACCMEM_RP_BLOCKS, rp_ioctl_blocks },
	{ ACCMEM_RP_RW, rp_ioctl_rw },
	{ }
};

static struct accmem_test_dev rp_tdev = {
	.misc = ACCMEM_TEST_MISC("accmem_rdma_pinned"),
	.ioctls = rp_ioctls,
	.release_cmd = ACCMEM_RP_RELEASE,
	.destroy = rp_import_destroy,
	.serialise = true,
};

module_accmem_test_dev(rp_tdev);

MODULE_DESCRIPTION("Test-only RDMA pinned dma-buf importer for the accmem selftests");
MODULE_LICENSE("GPL");
