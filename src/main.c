// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: module parameters, load and unload.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
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
ACCMEM_IMPORT_NS_DMA_BUF();
