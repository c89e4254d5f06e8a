/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * accmem - exclusive tenancy of accelerator device memory, exported as
 * pinned dma-bufs.
 *
 * Copyright (C) 2026 The accmem authors
 */
#ifndef _UAPI_LINUX_ACCMEM_H
#define _UAPI_LINUX_ACCMEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * DOC: accmem uAPI
 *
 * Each device instance is a misc character device, ``/dev/accmemN``.
 * Opening it for writing (O_RDWR or O_WRONLY) makes the caller the
 * device's only tenant: a second such open() fails with -EBUSY until the
 * tenancy has ended, that is until the device file and every dma-buf
 * exported from it are closed and the memory they covered has been
 * scrubbed. Opening it O_RDONLY makes the caller an observer: it takes no
 * tenancy and blocks nobody (it succeeds whether or not there is a tenant,
 * and a tenant can open while observers are open); on an observer's file
 * %ACCMEM_IOC_INFO works and %ACCMEM_IOC_ALLOC, %ACCMEM_IOC_FREE,
 * %ACCMEM_IOC_EXPORT and %ACCMEM_IOC_RANGES fail with -EBADF.
 *
 * All sizes, offsets and lengths are multiples of &accmem_info.page_size.
 * Every structure has explicit padding; the kernel rejects unknown flags
 * and non-zero padding with -EINVAL so that the interface can grow.
 *
 * The kernel dispatches on the ioctl's number and checks its type and
 * direction (else -ENOTTY); the size encoded in the command is the size of
 * the caller's structure, so structures can grow at their end. A structure
 * shorter than the kernel's is zero-extended (the new fields read as zero);
 * one shorter than the ioctl's first version is refused with -EINVAL. A
 * structure longer than the kernel's must have its extra bytes zero, else
 * -EINVAL (they are fields this kernel does not know). The kernel copies
 * back only the bytes both sides know; zero the whole structure before the
 * call.
 */

/**
 * ACCMEM_UAPI_VERSION - version reported in &accmem_info.version
 *
 * 2: ioctl type 0xA8 (was 0xAC, which belongs to linux/raw.h), growable
 * structures, O_RDONLY observers.
 *
 * 3: %ACCMEM_IOC_RANGES. (An older kernel fails it with -ENOTTY.)
 */
#define ACCMEM_UAPI_VERSION		3

/**
 * ACCMEM_BACKEND_EMU - device memory emulated with system RAM
 */
#define ACCMEM_BACKEND_EMU		1
/**
 * ACCMEM_BACKEND_PCI - device memory is a PCI BAR (no struct pages)
 */
#define ACCMEM_BACKEND_PCI		2

/**
 * ACCMEM_INFO_P2P_ONLY - memory can only be imported by peer-to-peer
 * capable importers (attachments without allow_peer2peer are refused)
 */
#define ACCMEM_INFO_P2P_ONLY		(1U << 0)
/**
 * ACCMEM_INFO_CPU_WC - CPU mappings of the memory are write-combined
 */
#define ACCMEM_INFO_CPU_WC		(1U << 1)

/**
 * struct accmem_info - device description, returned by %ACCMEM_IOC_INFO
 */
struct accmem_info {
	/** @version: uAPI version, %ACCMEM_UAPI_VERSION */
	__u32 version;
	/** @backend: %ACCMEM_BACKEND_EMU or %ACCMEM_BACKEND_PCI */
	__u32 backend;
	/** @mem_size: bytes of device memory managed by the device */
	__u64 mem_size;
	/** @mem_free: bytes of device memory not allocated right now */
	__u64 mem_free;
	/** @page_size: allocation granularity in bytes (a power of two) */
	__u64 page_size;
	/** @flags: ACCMEM_INFO_* properties of the memory */
	__u32 flags;
	/** @pad: zero */
	__u32 pad;
	/** @max_segment: largest scatterlist segment the exporter builds */
	__u64 max_segment;
};

/**
 * ACCMEM_ALLOC_CONTIGUOUS - the allocation is one contiguous range of
 * device addresses
 */
#define ACCMEM_ALLOC_CONTIGUOUS		(1U << 0)

/**
 * struct accmem_alloc - argument of %ACCMEM_IOC_ALLOC
 *
 * Allocates zeroed device memory. Without %ACCMEM_ALLOC_CONTIGUOUS the
 * allocation may consist of several ranges, each starting at a multiple of
 * @align; @size must then be a multiple of @align.
 *
 * When there is no room, the call waits (killable) for the scrubs of this
 * device's released allocations still pending, then tries once more before
 * failing with -ENOSPC. A request that can never fit the device (larger
 * than its memory) fails with -ENOSPC at once.
 */
struct accmem_alloc {
	/** @size: in: bytes, a non-zero multiple of &accmem_info.page_size */
	__u64 size;
	/**
	 * @align: in: 0 (page_size) or a power of two; the device address of
	 * the allocation (of each of its ranges if not contiguous) is a
	 * multiple of it
	 */
	__u64 align;
	/** @flags: in: ACCMEM_ALLOC_* */
	__u32 flags;
	/**
	 * @handle: out: non-zero handle, valid in this open file only;
	 * handed out cyclically, so a freed handle's number is not reused
	 * until the numbers have wrapped around
	 */
	__u32 handle;
	/** @dev_addr: out: device address of the first byte */
	__u64 dev_addr;
};

/**
 * struct accmem_free - argument of %ACCMEM_IOC_FREE
 *
 * Drops the handle. The memory is scrubbed and returned to the device only
 * once no dma-buf exported from it is alive any more.
 */
struct accmem_free {
	/** @handle: in: handle returned by %ACCMEM_IOC_ALLOC */
	__u32 handle;
	/** @flags: in: zero */
	__u32 flags;
};

/**
 * struct accmem_export - argument of %ACCMEM_IOC_EXPORT
 *
 * Exports the byte range [@offset, @offset + @length) of an allocation as
 * a new dma-buf. The dma-buf holds the allocation, and through it the
 * tenancy, until it is released by its last user.
 */
struct accmem_export {
	/** @handle: in: handle returned by %ACCMEM_IOC_ALLOC */
	__u32 handle;
	/**
	 * @flags: in: O_CLOEXEC and/or O_RDWR, as for DRM PRIME; else 0.
	 * Without O_RDWR the dma-buf cannot be mapped writable by the CPU,
	 * neither through mmap(2) of the dma-buf nor through an importer
	 * that maps it (mprotect(PROT_WRITE) fails too); device importers
	 * choose their own access.
	 */
	__u32 flags;
	/** @offset: in: start inside the allocation, page aligned */
	__u64 offset;
	/** @length: in: bytes, page aligned, non-zero, inside the allocation */
	__u64 length;
	/** @fd: out: the dma-buf file descriptor */
	__s32 fd;
	/** @pad: zero */
	__u32 pad;
};

/**
 * struct accmem_range - one range of device addresses of an allocation
 */
struct accmem_range {
	/** @dev_addr: device address of the range's first byte */
	__u64 dev_addr;
	/** @length: bytes, a multiple of &accmem_info.page_size */
	__u64 length;
};

/**
 * struct accmem_ranges - argument of %ACCMEM_IOC_RANGES
 *
 * Returns the ranges of device addresses an allocation consists of, in
 * the order of the allocation's bytes: byte N of the allocation lives at
 * @dev_addr + (N - start) of the range that covers it. The ranges do not
 * overlap, their lengths add up to the allocation's size, the first starts
 * at &accmem_alloc.dev_addr, and ranges that are adjacent in device
 * addresses are merged: an allocation made with %ACCMEM_ALLOC_CONTIGUOUS
 * is always one range. The ranges of an allocation never change.
 *
 * The usual two calls: first with @count 0 and @ranges 0, which sets
 * @count to the number of ranges; then with an array of that many. An
 * array too small for them fails with -ERANGE and sets @count to the
 * number needed (nothing is written to the array).
 *
 * Errors: -EINVAL for non-zero @flags or @pad, for @count 0 with a
 * non-zero @ranges or @ranges 0 with a non-zero @count, and for an array
 * that wraps around the address space; -ENOENT for an unknown handle;
 * -ERANGE as above; -EOVERFLOW for more than 2^32 - 1 ranges; -EFAULT.
 */
struct accmem_ranges {
	/** @handle: in: handle returned by %ACCMEM_IOC_ALLOC */
	__u32 handle;
	/** @flags: in: zero */
	__u32 flags;
	/**
	 * @count: in: entries of the @ranges array (0: only count them);
	 * out: number of ranges of the allocation
	 */
	__u32 count;
	/** @pad: zero */
	__u32 pad;
	/**
	 * @ranges: in: user pointer to an array of @count &struct
	 * accmem_range, filled on success; 0 when @count is 0
	 */
	__u64 ranges;
};

/* Free in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define ACCMEM_IOC_MAGIC	0xA8

/**
 * ACCMEM_IOC_INFO - describe the device; see &struct accmem_info
 */
#define ACCMEM_IOC_INFO		_IOR(ACCMEM_IOC_MAGIC, 0x00, struct accmem_info)
/**
 * ACCMEM_IOC_ALLOC - allocate device memory; see &struct accmem_alloc
 */
#define ACCMEM_IOC_ALLOC	_IOWR(ACCMEM_IOC_MAGIC, 0x01, struct accmem_alloc)
/**
 * ACCMEM_IOC_FREE - drop an allocation handle; see &struct accmem_free
 */
#define ACCMEM_IOC_FREE		_IOW(ACCMEM_IOC_MAGIC, 0x02, struct accmem_free)
/**
 * ACCMEM_IOC_EXPORT - export a range as a dma-buf; see &struct accmem_export
 */
#define ACCMEM_IOC_EXPORT	_IOWR(ACCMEM_IOC_MAGIC, 0x03, struct accmem_export)
/**
 * ACCMEM_IOC_RANGES - the device address ranges of an allocation; see
 * &struct accmem_ranges
 */
#define ACCMEM_IOC_RANGES	_IOWR(ACCMEM_IOC_MAGIC, 0x04, struct accmem_ranges)

#endif /* _UAPI_LINUX_ACCMEM_H */
