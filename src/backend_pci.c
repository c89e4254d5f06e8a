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
 * Removal: unbinding the driver (or removing the device) with a tenant
 * still holding dma-bufs deletes /dev/accmemN and makes the tenant's ioctls
 * fail with -ENODEV, but keeps the BAR region requested, mapped and
 * referenced until the last dma-buf is gone and its memory scrubbed; so no
 * other driver can claim memory an importer may still access.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/module.h>
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
 * The claimed BAR, immutable from accmem_pci_claim() to accmem_pci_free():
 * no lock. (p2p_policy is an int read once per attach with READ_ONCE().)
 */
struct accmem_pci {
	struct pci_dev *pdev;
	phys_addr_t start;
	u64 size;
	void __iomem *wc;
	int wc_cookie;
};

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

static void accmem_pci_remove(struct pci_dev *pdev)
{
	accmem_device_remove(pci_get_drvdata(pdev));
}

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
	return pci_register_driver(&accmem_pci_driver);
}

/**
 * accmem_pci_exit() - unregister the PCI driver (removes its devices)
 */
void accmem_pci_exit(void)
{
	pci_unregister_driver(&accmem_pci_driver);
}
