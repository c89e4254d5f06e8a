// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: /sys/kernel/debug/accmem/accmemN/buffers lists every live buffer,
 * the dma-bufs exported from it and their importers, so that a leaked
 * export (the thing that keeps a tenancy alive) can be traced to its holder.
 *
 * Each buffer's memory is listed too, as maximal physically contiguous
 * ranges in buffer order ("range offset O phys P len L": bytes [O, O + L)
 * of the buffer are at CPU physical address P). That is where an
 * importer's DMA addresses point when no IOMMU translates for it, and the
 * tests compare the two without trusting any importer's view of the pages.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/lockdep.h>
#include <linux/seq_file.h>

#include "accmem.h"

static void accmem_debugfs_export_locked(struct seq_file *m,
					 struct accmem_dmabuf *exp)
{
	struct accmem_attach *aa;
	struct accmem_mapping *map;

	lockdep_assert_held(&exp->adev->objs_lock);

	seq_printf(m, "  dmabuf ino %lu offset %#llx length %#llx pins %u%s\n",
		   exp->ino, exp->offset, exp->length, exp->pins,
		   exp->revoked ? " revoked" : "");
	list_for_each_entry(aa, &exp->attachments, node) {
		unsigned int nmaps = 0;

		list_for_each_entry(map, &aa->mappings, node)
			nmaps++;
		seq_printf(m, "    attachment %s %s%s mappings %u\n",
			   dev_driver_string(aa->dev), dev_name(aa->dev),
			   aa->pins ? " pinned" : "", nmaps);
	}
}

struct accmem_debugfs_walk {
	struct seq_file *m;
	u64 offset;
};

static int accmem_debugfs_range(void *arg, phys_addr_t phys, u64 len)
{
	struct accmem_debugfs_walk *w = arg;

	seq_printf(w->m, "  range offset %#llx phys %pa len %#llx\n",
		   w->offset, &phys, len);
	w->offset += len;
	return 0;
}

static void accmem_debugfs_ranges_locked(struct seq_file *m,
					 struct accmem_buffer *buf)
{
	struct accmem_debugfs_walk w = { .m = m };

	/*
	 * The release work frees the blocks before it unlists the buffer:
	 * hold a reference to walk them; a buffer being released has none.
	 * A listed buffer is not freed, so its reference count can be read.
	 */
	lockdep_assert_held(&accmem_buf_dev(buf)->objs_lock);
	if (!kref_get_unless_zero(&buf->ref))
		return;
	accmem_buffer_walk(buf, 0, buf->size, accmem_debugfs_range, &w);
	accmem_buffer_put(buf);
}

static int accmem_debugfs_buffers_show(struct seq_file *m, void *unused)
{
	struct accmem_device *adev = m->private;
	struct accmem_buffer *buf;
	struct accmem_dmabuf *exp;

	seq_printf(m, "state %s\n", accmem_device_state(adev));
	mutex_lock(&adev->objs_lock);
	list_for_each_entry(buf, &adev->buffers, node) {
		seq_printf(m, "buffer handle %u dev_addr %#llx size %#llx%s refs %u\n",
			   buf->handle, buf->dev_addr, buf->size,
			   buf->flags & ACCMEM_ALLOC_CONTIGUOUS ?
			   " contiguous" : "", kref_read(&buf->ref));
		accmem_debugfs_ranges_locked(m, buf);
		list_for_each_entry(exp, &buf->exports, node)
			accmem_debugfs_export_locked(m, exp);
	}
	mutex_unlock(&adev->objs_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(accmem_debugfs_buffers);

/**
 * accmem_debugfs_add() - create the device's debugfs directory
 * @adev: device
 */
void accmem_debugfs_add(struct accmem_device *adev)
{
	adev->debugfs = debugfs_create_dir(adev->name, accmem_debugfs_root);
	debugfs_create_file("buffers", 0400, adev->debugfs, adev,
			    &accmem_debugfs_buffers_fops);
}

/**
 * accmem_debugfs_remove() - remove the device's debugfs directory
 * @adev: device
 */
void accmem_debugfs_remove(struct accmem_device *adev)
{
	debugfs_remove_recursive(adev->debugfs);
	adev->debugfs = NULL;
}
