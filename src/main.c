// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: module parameters, load and unload.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "accmem.h"

struct workqueue_struct *accmem_wq;
struct dentry *accmem_debugfs_root;

static unsigned int emu_devices;
module_param(emu_devices, uint, 0444);
MODULE_PARM_DESC(emu_devices,
		 "Number of devices whose memory is emulated with system RAM (default 0)");

static char *emu_size = "256M";
module_param(emu_size, charp, 0444);
MODULE_PARM_DESC(emu_size,
		 "Memory of each emulated device, with K/M/G suffix (default 256M)");

u64 accmem_max_export_bytes;
module_param_named(max_export_bytes, accmem_max_export_bytes, ullong, 0644);
MODULE_PARM_DESC(max_export_bytes,
		 "Per-tenant limit on bytes of live dma-bufs, 0 = none; EXPORT fails with EDQUOT beyond it");

u64 accmem_max_pin_bytes;
module_param_named(max_pin_bytes, accmem_max_pin_bytes, ullong, 0644);
MODULE_PARM_DESC(max_pin_bytes,
		 "Per-tenant limit on bytes pinned by importers, 0 = none; pinning fails with EDQUOT beyond it");

unsigned int accmem_max_allocs;
module_param_named(max_allocs, accmem_max_allocs, uint, 0644);
MODULE_PARM_DESC(max_allocs,
		 "Per-tenant limit on live allocations, 0 = the default bound (65536); ALLOC fails with EDQUOT beyond it");

unsigned int accmem_max_exports;
module_param_named(max_exports, accmem_max_exports, uint, 0644);
MODULE_PARM_DESC(max_exports,
		 "Per-tenant limit on live dma-bufs, 0 = the default bound (65536); EXPORT fails with EDQUOT beyond it");

/*
 * Enumerated parameters: the value is an index into the names. A write
 * is matched whole (a trailing newline, as from echo, is accepted) and an
 * unknown name is refused with -EINVAL, leaving the value as it was; the
 * value is an int, so readers (READ_ONCE()) never see a freed string.
 */
static int accmem_enum_param_set(const char *val, const struct kernel_param *kp)
{
	const struct accmem_enum_param *p = kp->arg;
	int i = __sysfs_match_string(p->names, p->count, val);

	if (i < 0)
		return -EINVAL;
	WRITE_ONCE(*p->value, i);
	return 0;
}

static int accmem_enum_param_get(char *buffer, const struct kernel_param *kp)
{
	const struct accmem_enum_param *p = kp->arg;

	return scnprintf(buffer, PAGE_SIZE, "%s\n",
			 p->names[READ_ONCE(*p->value)]);
}

const struct kernel_param_ops accmem_enum_param_ops = {
	.set = accmem_enum_param_set,
	.get = accmem_enum_param_get,
};

static const char * const accmem_pci_mmap_names[] = {
	[ACCMEM_PCI_MMAP_ALLOW] = "allow",
	[ACCMEM_PCI_MMAP_DENY] = "deny",
};

int accmem_pci_mmap = ACCMEM_PCI_MMAP_ALLOW;
static struct accmem_enum_param accmem_pci_mmap_param = {
	.value = &accmem_pci_mmap,
	.names = accmem_pci_mmap_names,
	.count = ARRAY_SIZE(accmem_pci_mmap_names),
};
module_param_cb(pci_mmap, &accmem_enum_param_ops, &accmem_pci_mmap_param,
		0644);
MODULE_PARM_DESC(pci_mmap,
		 "CPU mmap of dma-bufs of PCI BAR memory: allow (default) or deny (mmap fails with EPERM; see Documentation/security.rst for VFIO)");

static const char * const accmem_pci_vmap_names[] = {
	[ACCMEM_PCI_VMAP_DENY] = "deny",
	[ACCMEM_PCI_VMAP_ALLOW] = "allow",
};

int accmem_pci_vmap = ACCMEM_PCI_VMAP_DENY;
static struct accmem_enum_param accmem_pci_vmap_param = {
	.value = &accmem_pci_vmap,
	.names = accmem_pci_vmap_names,
	.count = ARRAY_SIZE(accmem_pci_vmap_names),
};
module_param_cb(pci_vmap, &accmem_enum_param_ops, &accmem_pci_vmap_param,
		0644);
MODULE_PARM_DESC(pci_vmap,
		 "Kernel mappings (dma_buf_vmap) of dma-bufs of PCI BAR memory, decided when the dma-buf is exported: deny (default; dma_buf_vmap fails with EINVAL) or allow (an I/O map, only for importers that handle iosys_map.is_iomem; see Documentation/security.rst)");

static int __init accmem_init(void)
{
	u64 size = memparse(emu_size, NULL);
	int ret;

	accmem_wq = alloc_workqueue("accmem", WQ_UNBOUND, 0);
	if (!accmem_wq)
		return -ENOMEM;

	accmem_debugfs_root = debugfs_create_dir("accmem", NULL);

	ret = accmem_emu_init(emu_devices, size);
	if (ret)
		goto err_debugfs;

	ret = accmem_pci_init();
	if (ret)
		goto err_emu;

	return 0;

err_emu:
	accmem_emu_exit();
err_debugfs:
	debugfs_remove_recursive(accmem_debugfs_root);
	destroy_workqueue(accmem_wq);
	return ret;
}

static void __exit accmem_exit(void)
{
	accmem_pci_exit();
	accmem_emu_exit();
	/* Pending scrubs finish before the memory behind them goes away. */
	destroy_workqueue(accmem_wq);
	debugfs_remove_recursive(accmem_debugfs_root);
}

module_init(accmem_init);
module_exit(accmem_exit);

MODULE_DESCRIPTION("Exclusive tenancy of accelerator memory exported as pinned dma-bufs");
MODULE_AUTHOR("The accmem authors");
MODULE_LICENSE("GPL");
/* dkms.conf's PACKAGE_VERSION, passed by Kbuild */
MODULE_VERSION(ACCMEM_VERSION);
ACCMEM_IMPORT_NS_DMA_BUF();
