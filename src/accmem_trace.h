/* SPDX-License-Identifier: GPL-2.0 */
/*
 * accmem: tracepoints, trace system "accmem" (Documentation/lifecycle.rst
 * lists them). Every event names the device ("accmemN"); objects are named
 * by what user space sees of them: the allocation's handle, the dma-buf's
 * inode number (as in /proc/PID/fdinfo and debugfs), the importing
 * device's name.
 *
 * Copyright (C) 2026 The accmem authors
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM accmem

#if !defined(_ACCMEM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _ACCMEM_TRACE_H

#include <linux/device.h>
#include <linux/dma-direction.h>
#include <linux/tracepoint.h>

#include "compat.h"

DECLARE_EVENT_CLASS(accmem_tenancy,
		    TP_PROTO(const char *dev, pid_t pid),
		    TP_ARGS(dev, pid),
		    TP_STRUCT__entry(__string(dev, dev)
				     __field(pid_t, pid)),
		    TP_fast_assign(accmem_assign_str(dev, dev);
				   __entry->pid = pid;),
		    TP_printk("%s pid=%d", __get_str(dev), __entry->pid));

/* A tenant opened the device (pid: its thread group, in the init ns). */
DEFINE_EVENT(accmem_tenancy, accmem_tenancy_open,
	     TP_PROTO(const char *dev, pid_t pid),
	     TP_ARGS(dev, pid));

/* The tenancy ended: its memory is scrubbed, the device idle. */
DEFINE_EVENT(accmem_tenancy, accmem_tenancy_end,
	     TP_PROTO(const char *dev, pid_t pid),
	     TP_ARGS(dev, pid));

DECLARE_EVENT_CLASS(accmem_buffer,
		    TP_PROTO(const char *dev, u32 handle, u64 size,
			     u64 dev_addr, u32 flags),
		    TP_ARGS(dev, handle, size, dev_addr, flags),
		    TP_STRUCT__entry(__string(dev, dev)
				     __field(u32, handle)
				     __field(u32, flags)
				     __field(u64, size)
				     __field(u64, dev_addr)),
		    TP_fast_assign(accmem_assign_str(dev, dev);
				   __entry->handle = handle;
				   __entry->flags = flags;
				   __entry->size = size;
				   __entry->dev_addr = dev_addr;),
		    TP_printk("%s handle=%u size=%llu dev_addr=0x%llx flags=0x%x",
			      __get_str(dev), __entry->handle, __entry->size,
			      __entry->dev_addr, __entry->flags));

/* ACCMEM_IOC_ALLOC succeeded. */
DEFINE_EVENT(accmem_buffer, accmem_alloc,
	     TP_PROTO(const char *dev, u32 handle, u64 size, u64 dev_addr,
		      u32 flags),
	     TP_ARGS(dev, handle, size, dev_addr, flags));

/* ACCMEM_IOC_FREE dropped the handle (the memory stays while exported). */
DEFINE_EVENT(accmem_buffer, accmem_free,
	     TP_PROTO(const char *dev, u32 handle, u64 size, u64 dev_addr,
		      u32 flags),
	     TP_ARGS(dev, handle, size, dev_addr, flags));

DECLARE_EVENT_CLASS(accmem_dmabuf,
		    TP_PROTO(const char *dev, u32 handle, unsigned long ino,
			     u64 offset, u64 length),
		    TP_ARGS(dev, handle, ino, offset, length),
		    TP_STRUCT__entry(__string(dev, dev)
				     __field(u32, handle)
				     __field(unsigned long, ino)
				     __field(u64, offset)
				     __field(u64, length)),
		    TP_fast_assign(accmem_assign_str(dev, dev);
				   __entry->handle = handle;
				   __entry->ino = ino;
				   __entry->offset = offset;
				   __entry->length = length;),
		    TP_printk("%s handle=%u ino=%lu offset=%llu length=%llu",
			      __get_str(dev), __entry->handle, __entry->ino,
			      __entry->offset, __entry->length));

/* A dma-buf was exported (handle: the allocation's, when exported). */
DEFINE_EVENT(accmem_dmabuf, accmem_export,
	     TP_PROTO(const char *dev, u32 handle, unsigned long ino,
		      u64 offset, u64 length),
	     TP_ARGS(dev, handle, ino, offset, length));

/* The last user of a dma-buf let go of it (handle 0: reclaimed, inert). */
DEFINE_EVENT(accmem_dmabuf, accmem_release,
	     TP_PROTO(const char *dev, u32 handle, unsigned long ino,
		      u64 offset, u64 length),
	     TP_ARGS(dev, handle, ino, offset, length));

DECLARE_EVENT_CLASS(accmem_import,
		    TP_PROTO(const char *dev, unsigned long ino,
			     struct device *importer, u64 length),
		    TP_ARGS(dev, ino, importer, length),
		    TP_STRUCT__entry(__string(dev, dev)
				     __field(unsigned long, ino)
				     __string(importer, dev_name(importer))
				     __field(u64, length)),
		    TP_fast_assign(accmem_assign_str(dev, dev);
				   __entry->ino = ino;
				   accmem_assign_str(importer, dev_name(importer));
				   __entry->length = length;),
		    TP_printk("%s ino=%lu importer=%s length=%llu",
			      __get_str(dev), __entry->ino, __get_str(importer),
			      __entry->length));

/* An importing device attached to a dma-buf, or detached from it. */
DEFINE_EVENT(accmem_import, accmem_attach,
	     TP_PROTO(const char *dev, unsigned long ino,
		      struct device *importer, u64 length),
	     TP_ARGS(dev, ino, importer, length));

DEFINE_EVENT(accmem_import, accmem_detach,
	     TP_PROTO(const char *dev, unsigned long ino,
		      struct device *importer, u64 length),
	     TP_ARGS(dev, ino, importer, length));

/* An attachment became pinned (its first pin; length: bytes charged). */
DEFINE_EVENT(accmem_import, accmem_pin,
	     TP_PROTO(const char *dev, unsigned long ino,
		      struct device *importer, u64 length),
	     TP_ARGS(dev, ino, importer, length));

/* An attachment's last pin was dropped. */
DEFINE_EVENT(accmem_import, accmem_unpin,
	     TP_PROTO(const char *dev, unsigned long ino,
		      struct device *importer, u64 length),
	     TP_ARGS(dev, ino, importer, length));

DECLARE_EVENT_CLASS(accmem_mapping,
		    TP_PROTO(const char *dev, unsigned long ino,
			     struct device *importer, unsigned int nsegs,
			     int dir),
		    TP_ARGS(dev, ino, importer, nsegs, dir),
		    TP_STRUCT__entry(__string(dev, dev)
				     __field(unsigned long, ino)
				     __string(importer, dev_name(importer))
				     __field(unsigned int, nsegs)
				     __field(int, dir)),
		    TP_fast_assign(accmem_assign_str(dev, dev);
				   __entry->ino = ino;
				   accmem_assign_str(importer, dev_name(importer));
				   __entry->nsegs = nsegs;
				   __entry->dir = dir;),
		    TP_printk("%s ino=%lu importer=%s segments=%u dir=%s",
			      __get_str(dev), __entry->ino, __get_str(importer),
			      __entry->nsegs,
			      __print_symbolic(__entry->dir,
					       { DMA_BIDIRECTIONAL, "bidirectional" },
					       { DMA_TO_DEVICE, "to_device" },
					       { DMA_FROM_DEVICE, "from_device" },
					       { DMA_NONE, "none" })));

/* An importer mapped a dma-buf: a scatterlist of nsegs segments. */
DEFINE_EVENT(accmem_mapping, accmem_map,
	     TP_PROTO(const char *dev, unsigned long ino,
		      struct device *importer, unsigned int nsegs, int dir),
	     TP_ARGS(dev, ino, importer, nsegs, dir));

DEFINE_EVENT(accmem_mapping, accmem_unmap,
	     TP_PROTO(const char *dev, unsigned long ino,
		      struct device *importer, unsigned int nsegs, int dir),
	     TP_ARGS(dev, ino, importer, nsegs, dir));

/* Zeroing of [offset, offset + len) of device memory begins. */
TRACE_EVENT(accmem_scrub_start,
	    TP_PROTO(const char *dev, u64 offset, u64 len),
	    TP_ARGS(dev, offset, len),
	    TP_STRUCT__entry(__string(dev, dev)
			     __field(u64, offset)
			     __field(u64, len)),
	    TP_fast_assign(accmem_assign_str(dev, dev);
			   __entry->offset = offset;
			   __entry->len = len;),
	    TP_printk("%s offset=0x%llx len=%llu", __get_str(dev),
		      __entry->offset, __entry->len));

/* ... and ended: bytes zeroed (fewer once revoked), in ns. */
TRACE_EVENT(accmem_scrub_done,
	    TP_PROTO(const char *dev, u64 offset, u64 bytes, u64 ns),
	    TP_ARGS(dev, offset, bytes, ns),
	    TP_STRUCT__entry(__string(dev, dev)
			     __field(u64, offset)
			     __field(u64, bytes)
			     __field(u64, ns)),
	    TP_fast_assign(accmem_assign_str(dev, dev);
			   __entry->offset = offset;
			   __entry->bytes = bytes;
			   __entry->ns = ns;),
	    TP_printk("%s offset=0x%llx bytes=%llu ns=%llu", __get_str(dev),
		      __entry->offset, __entry->bytes, __entry->ns));

/*
 * An ioctl failed: its number and name, the errno, and for -EINVAL (and
 * the dispatcher's own refusals) the reason; "-" when the errno says it.
 */
TRACE_EVENT(accmem_ioctl_refused,
	    TP_PROTO(const char *dev, unsigned int nr, const char *name,
		     int err, const char *reason),
	    TP_ARGS(dev, nr, name, err, reason),
	    TP_STRUCT__entry(__string(dev, dev)
			     __field(unsigned int, nr)
			     __string(name, name)
			     __field(int, err)
			     __string(reason, reason)),
	    TP_fast_assign(accmem_assign_str(dev, dev);
			   __entry->nr = nr;
			   accmem_assign_str(name, name);
			   __entry->err = err;
			   accmem_assign_str(reason, reason);),
	    TP_printk("%s nr=0x%x ioctl=%s err=%d reason=%s", __get_str(dev),
		      __entry->nr, __get_str(name), __entry->err,
		      __get_str(reason)));

/*
 * An importer was refused: op is "attach" (the backend's policy), "pin"
 * (max_pin_bytes) or "map" (revoked memory, no memory for the table).
 */
TRACE_EVENT(accmem_import_refused,
	    TP_PROTO(const char *dev, unsigned long ino,
		     struct device *importer, const char *op, int err),
	    TP_ARGS(dev, ino, importer, op, err),
	    TP_STRUCT__entry(__string(dev, dev)
			     __field(unsigned long, ino)
			     __string(importer, dev_name(importer))
			     __string(op, op)
			     __field(int, err)),
	    TP_fast_assign(accmem_assign_str(dev, dev);
			   __entry->ino = ino;
			   accmem_assign_str(importer, dev_name(importer));
			   accmem_assign_str(op, op);
			   __entry->err = err;),
	    TP_printk("%s ino=%lu importer=%s op=%s err=%d", __get_str(dev),
		      __entry->ino, __get_str(importer), __get_str(op),
		      __entry->err));

#endif /* _ACCMEM_TRACE_H */

/* Out of tree: Kbuild puts src/ on the include path. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE accmem_trace
#include <trace/define_trace.h>
