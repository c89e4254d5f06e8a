// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: device memory that is a PCI BAR (the real-hardware shape).
 *
 * The BAR has no struct pages. Importers get DMA addresses from
 * dma_map_resource() (an IOVA behind an IOMMU, never a raw BAR address
 * handed out by hand), and only if they declared allow_peer2peer and the
 * peer-to-peer policy accepts them; CPU mappings and the driver's own
 * scrub are write-combined.
 *
 * Binding: QEMU's ivshmem (1af4:1110) by ID; any other device with a
 * memory BAR through driver_override. There is deliberately no
 * MODULE_DEVICE_TABLE: ivshmem devices serve many purposes, so accmem never
 * autoloads for them.
 *
 * Unbinding the driver with a tenant still holding dma-bufs deletes
 * /dev/accmemN and makes the tenant's ioctls fail with -ENODEV, but keeps
 * the memory usable by the dma-bufs' holders and the BAR's range reserved
 * until the last dma-buf is gone and its memory scrubbed; so no other
 * driver (not even accmem again) can claim memory an importer may still
 * access.
 *
 * Removing the device (sysfs remove, hot-unplug) goes further: the PCI
 * core frees the BAR's resource, and every region requested inside it,
 * and a rescan may put any device's BAR there. So from the moment the
 * driver lets go of the device, the BAR's range is reserved one level up,
 * by a resource of accmem's own that the BAR becomes a child of: it stays
 * in the iomem tree, and nothing can be assigned there, until the last
 * reference to the old instance is gone, whatever the PCI core does to the
 * BAR meanwhile. And when the device is deleted (a bus notifier), the core
 * revokes its memory (accmem_device_revoke()): CPU mappings and dynamic
 * importers lose it, and the BAR is never touched again. Pinned importers
 * keep addresses in the reserved range, which decodes to nothing.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/slab.h>

#include "accmem_backend.h"
#include "compat.h"

static int pci_bar = -1;
module_param(pci_bar, int, 0444);
MODULE_PARM_DESC(pci_bar,
		 "BAR holding the device memory, -1 = the largest prefetchable 64-bit memory BAR (default)");

enum accmem_p2p_policy {
	ACCMEM_P2P_AUTO,
	ACCMEM_P2P_DISTANCE,
	ACCMEM_P2P_HOST,
	ACCMEM_P2P_DENY,
};

static const char * const accmem_p2p_names[] = {
	[ACCMEM_P2P_AUTO] = "auto",
	[ACCMEM_P2P_DISTANCE] = "distance",
	[ACCMEM_P2P_HOST] = "host",
	[ACCMEM_P2P_DENY] = "deny",
};

static int p2p_policy = ACCMEM_P2P_AUTO;
static struct accmem_enum_param accmem_p2p_param = {
	.value = &p2p_policy,
	.names = accmem_p2p_names,
	.count = ARRAY_SIZE(accmem_p2p_names),
};
module_param_cb(p2p_policy, &accmem_enum_param_ops, &accmem_p2p_param, 0644);
MODULE_PARM_DESC(p2p_policy,
		 "Which peer-to-peer importers may attach PCI BAR memory: distance (pci_p2pdma_distance() must accept the importer), host (any importer that allows peer2peer; DMA goes through the host bridge), deny, or auto (distance where the kernel has PCI_P2PDMA, else host); other values are refused with EINVAL");

/*
 * The claimed BAR, immutable from accmem_pci_claim() to accmem_pci_free()
 * but for what accmem_pci_retire() sets when the driver lets go of the
 * device: no lock. (p2p_policy is an int read once per attach with
 * READ_ONCE().)
 * @reserve, @reserved: the BAR's range, reserved from accmem_pci_retire()
 * to accmem_pci_free().
 * @adev, @node: in accmem_pci_retired from accmem_pci_retire() to
 * accmem_pci_free() (accmem_pci_lock).
 */
struct accmem_pci {
	struct pci_dev *pdev;
	int nr;
	phys_addr_t start;
	u64 size;
	void __iomem *wc;
	int wc_cookie;
	struct resource reserve;
	bool reserved;
	struct accmem_device *adev;
	struct list_head node;
};

/* Instances whose driver let go of their device but still live. */
static LIST_HEAD(accmem_pci_retired);
static DEFINE_MUTEX(accmem_pci_lock);

static struct accmem_pci *accmem_pci_of(struct accmem_device *adev)
{
	return accmem_device_backend(adev);
}

static u64 accmem_pci_span(struct accmem_device *adev, u64 offset,
			   phys_addr_t *phys)
{
	struct accmem_pci *bar = accmem_pci_of(adev);

	*phys = bar->start + offset;
	return bar->size - offset;
}

static int accmem_pci_attach(struct accmem_device *adev,
			     struct dma_buf_attachment *attach)
{
	struct accmem_pci *bar = accmem_pci_of(adev);
	int policy = READ_ONCE(p2p_policy);

	/* BAR memory is only for importers that can do peer-to-peer DMA. */
	if (!attach->peer2peer)
		return -EOPNOTSUPP;

	if (policy == ACCMEM_P2P_AUTO)
		policy = ACCMEM_HAVE_P2PDMA ? ACCMEM_P2P_DISTANCE :
					      ACCMEM_P2P_HOST;
	if (policy == ACCMEM_P2P_HOST)
		return 0;
	if (policy == ACCMEM_P2P_DISTANCE &&
	    pci_p2pdma_distance(bar->pdev, attach->dev, true) >= 0)
		return 0;
	return -EOPNOTSUPP;
}

static void accmem_pci_unmap_n(struct accmem_mapping *map, unsigned int n)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(&map->sgt, sg, i) {
		if (i == n)
			break;
		dma_unmap_resource(map->dev, sg_dma_address(sg),
				   sg_dma_len(sg), map->dir,
				   DMA_ATTR_SKIP_CPU_SYNC);
	}
}

static int accmem_pci_map(struct accmem_device *adev,
			  struct accmem_mapping *map)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_sg(&map->sgt, sg, i) {
		/*
		 * No CPU cache holds BAR memory (CPU mappings are WC), so
		 * there is nothing to sync.
		 */
		dma_addr_t addr = dma_map_resource(map->dev, map->segs[i].phys,
						   map->segs[i].len, map->dir,
						   DMA_ATTR_SKIP_CPU_SYNC);

		if (dma_mapping_error(map->dev, addr)) {
			map->sgt.nents = i;
			accmem_pci_unmap_n(map, i);
			return -EIO;
		}
		/* No struct page: importers use the DMA fields only. */
		sg_set_page(sg, NULL, map->segs[i].len, 0);
		sg_dma_address(sg) = addr;
		sg_dma_len(sg) = map->segs[i].len;
	}
	map->sgt.nents = map->nsegs;
	return 0;
}

static void accmem_pci_unmap(struct accmem_device *adev,
			     struct accmem_mapping *map)
{
	accmem_pci_unmap_n(map, map->sgt.nents);
}

/*
 * The zeros go through the write-combining mapping, whose buffers may
 * still hold them when memset_io() returns: wmb() drains them to the bus,
 * and a read from the BAR, which PCI ordering forbids to pass the posted
 * writes before it, returns only once they have reached the device. Only
 * then is the memory scrubbed (and handed to the next tenant).
 */
static void accmem_pci_scrub(struct accmem_device *adev, u64 offset, u64 len)
{
	void __iomem *p = accmem_pci_of(adev)->wc + offset;

	memset_io(p, 0, len);
	/* Drain the WC buffers before the read-back below. */
	wmb();
	if (readl(p + len - sizeof(u32)))
		dev_warn_ratelimited(&accmem_pci_of(adev)->pdev->dev,
				     "scrub: memory at %#llx reads back non-zero\n",
				     offset + len - sizeof(u32));
}

static pgprot_t accmem_pci_pgprot(pgprot_t prot)
{
	return pgprot_writecombine(prot);
}

static void __iomem *accmem_pci_iomem(struct accmem_device *adev,
				      phys_addr_t phys)
{
	struct accmem_pci *bar = accmem_pci_of(adev);

	return bar->wc + (phys - bar->start);
}

static void accmem_pci_free(struct accmem_pci *bar)
{
	iounmap(bar->wc);
	arch_phys_wc_del(bar->wc_cookie);
	if (bar->adev) {
		mutex_lock(&accmem_pci_lock);
		list_del(&bar->node);
		mutex_unlock(&accmem_pci_lock);
	}
	/* The BAR, if it is still there, goes back to its parent. */
	if (bar->reserved)
		WARN_ON(remove_resource(&bar->reserve));
	else
		release_mem_region(bar->start, bar->size);
	pci_dev_put(bar->pdev);
	kfree(bar);
}

static void accmem_pci_release(void *backend)
{
	accmem_pci_free(backend);
}

static const struct accmem_backend_ops accmem_pci_ops = {
	.kind = ACCMEM_BACKEND_PCI,
	.info_flags = ACCMEM_INFO_P2P_ONLY | ACCMEM_INFO_CPU_WC,
	.span = accmem_pci_span,
	.attach = accmem_pci_attach,
	.map = accmem_pci_map,
	.unmap = accmem_pci_unmap,
	.scrub = accmem_pci_scrub,
	.pgprot = accmem_pci_pgprot,
	.iomem = accmem_pci_iomem,
	.release = accmem_pci_release,
};

static int accmem_pci_pick_bar(struct pci_dev *pdev)
{
	int bar, best = -1;

	if (pci_bar >= 0)
		return pci_bar < PCI_STD_NUM_BARS &&
		       (pci_resource_flags(pdev, pci_bar) & IORESOURCE_MEM) ?
		       pci_bar : -1;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		unsigned long flags = pci_resource_flags(pdev, bar);

		if (!(flags & IORESOURCE_MEM_64) ||
		    !(flags & IORESOURCE_PREFETCH))
			continue;
		if (best < 0 || pci_resource_len(pdev, bar) >
				pci_resource_len(pdev, best))
			best = bar;
	}
	return best;
}

/* Undone by accmem_pci_free(), in reverse order. */
static struct accmem_pci *accmem_pci_claim(struct pci_dev *pdev, int bar_nr)
{
	struct accmem_pci *bar;
	int ret;

	bar = kzalloc(sizeof(*bar), GFP_KERNEL);
	if (!bar)
		return ERR_PTR(-ENOMEM);
	bar->nr = bar_nr;
	bar->start = pci_resource_start(pdev, bar_nr);
	bar->size = round_down(pci_resource_len(pdev, bar_nr), PAGE_SIZE);
	if (!bar->size || !PAGE_ALIGNED(bar->start)) {
		ret = -ENODEV;
		goto err_free;
	}

	/* Not managed: the region outlives the binding while exported. */
	if (!request_mem_region(bar->start, bar->size, KBUILD_MODNAME)) {
		ret = -EBUSY;
		goto err_free;
	}
	bar->wc = ioremap_wc(bar->start, bar->size);
	if (!bar->wc) {
		ret = -ENOMEM;
		goto err_region;
	}
	bar->wc_cookie = arch_phys_wc_add(bar->start, bar->size);
	bar->pdev = pci_dev_get(pdev);
	return bar;

err_region:
	release_mem_region(bar->start, bar->size);
err_free:
	kfree(bar);
	return ERR_PTR(ret);
}

static int accmem_pci_probe(struct pci_dev *pdev,
			    const struct pci_device_id *id)
{
	struct accmem_device *adev;
	struct accmem_pci *bar;
	int bar_nr, ret;

	bar_nr = accmem_pci_pick_bar(pdev);
	if (bar_nr < 0) {
		dev_err(&pdev->dev, "no usable memory BAR\n");
		return -ENODEV;
	}

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;

	bar = accmem_pci_claim(pdev, bar_nr);
	if (IS_ERR(bar))
		return PTR_ERR(bar);

	adev = accmem_device_add(&pdev->dev, &accmem_pci_ops, bar, bar->size);
	if (IS_ERR(adev))
		return PTR_ERR(adev);
	pci_set_drvdata(pdev, adev);
	dev_info(&pdev->dev, "BAR %d: %llu MiB of device memory as %s\n",
		 bar_nr, bar->size >> 20, accmem_device_name(adev));
	return 0;
}

/*
 * The driver lets go of the device (unbind or removal, which cannot be told
 * apart yet), maybe with a tenancy alive. The BAR's range is reserved one
 * level up, by @bar->reserve, which the BAR becomes a child of (it has the
 * same range), before the request inside the BAR is dropped: so the range
 * stays reserved until accmem_pci_free() even if the PCI core frees the
 * BAR's resource. The instance is listed for accmem_pci_notify().
 */
static void accmem_pci_retire(struct accmem_pci *bar,
			      struct accmem_device *adev)
{
	struct resource *res = &bar->pdev->resource[bar->nr];
	int ret;

	bar->reserve.name = KBUILD_MODNAME;
	bar->reserve.start = res->start;
	bar->reserve.end = res->end;
	bar->reserve.flags = IORESOURCE_MEM | IORESOURCE_BUSY;
	ret = insert_resource(res->parent ?: &iomem_resource, &bar->reserve);
	if (ret) {
		/* Unbinding keeps the request; removal would drop it. */
		pci_warn(bar->pdev, "cannot reserve %pR: %d\n", res, ret);
	} else {
		/* From the BAR down: not the reservation with the same range */
		__release_region(res, bar->start, bar->size);
		bar->reserved = true;
	}

	mutex_lock(&accmem_pci_lock);
	bar->adev = adev;
	list_add_tail(&bar->node, &accmem_pci_retired);
	mutex_unlock(&accmem_pci_lock);
}

static void accmem_pci_remove(struct pci_dev *pdev)
{
	struct accmem_device *adev = pci_get_drvdata(pdev);

	accmem_pci_retire(accmem_device_backend(adev), adev);
	accmem_device_remove(adev);
}

/*
 * A PCI device is being deleted, after its driver let go of it and before
 * the PCI core frees its resources: the memory of any instance of ours
 * still alive on it is revoked. Under accmem_pci_lock the instance's
 * accmem_pci_free(), and so the freeing of its device, waits.
 */
static int accmem_pci_notify(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);
	struct accmem_pci *bar;

	if (action != BUS_NOTIFY_DEL_DEVICE)
		return NOTIFY_DONE;

	mutex_lock(&accmem_pci_lock);
	list_for_each_entry(bar, &accmem_pci_retired, node)
		if (bar->pdev == pdev)
			accmem_device_revoke(bar->adev);
	mutex_unlock(&accmem_pci_lock);
	return NOTIFY_OK;
}

static struct notifier_block accmem_pci_nb = {
	.notifier_call = accmem_pci_notify,
};

static const struct pci_device_id accmem_pci_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110) },	/* ivshmem */
	{ }
};

static struct pci_driver accmem_pci_driver = {
	.name = KBUILD_MODNAME,
	.id_table = accmem_pci_ids,
	.probe = accmem_pci_probe,
	.remove = accmem_pci_remove,
};

/**
 * accmem_pci_init() - register the PCI driver
 *
 * Return: 0 or a negative errno.
 */
int accmem_pci_init(void)
{
	int ret;

	ret = bus_register_notifier(&pci_bus_type, &accmem_pci_nb);
	if (ret)
		return ret;
	ret = pci_register_driver(&accmem_pci_driver);
	if (ret)
		bus_unregister_notifier(&pci_bus_type, &accmem_pci_nb);
	return ret;
}

/**
 * accmem_pci_exit() - unregister the PCI driver (removes its devices)
 */
void accmem_pci_exit(void)
{
	pci_unregister_driver(&accmem_pci_driver);
	bus_unregister_notifier(&pci_bus_type, &accmem_pci_nb);
}
