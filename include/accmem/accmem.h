/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libaccmem - user-space library over the accmem uAPI
 * (<linux/accmem.h>, installed with this header).
 *
 * Every call returns 0 (or a non-negative result) on success and a
 * negative errno on failure; errno itself is left as the failing system
 * call set it. accmem_strerror() describes an error the way accmem means
 * it. See libaccmem(3).
 *
 * Copyright (C) 2026 The accmem authors
 */
#ifndef ACCMEM_ACCMEM_H
#define ACCMEM_ACCMEM_H

#include <stddef.h>
#include <stdint.h>

#include <linux/accmem.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version: ACCMEM_LIB_VERSION_MAJOR is the soname's. */
#define ACCMEM_LIB_VERSION_MAJOR	1
#define ACCMEM_LIB_VERSION_MINOR	1

/* Exit status of the example programs when the machine cannot run them. */
#define ACCMEM_EXIT_UNSUPPORTED		77

/* The device's lifecycle state, sysfs "state" (accmem(4)). */
enum accmem_state {
	ACCMEM_STATE_IDLE,
	ACCMEM_STATE_OWNED,
	ACCMEM_STATE_DRAINING,
	ACCMEM_STATE_SCRUBBING,
	ACCMEM_STATE_GONE,
	ACCMEM_STATE_UNKNOWN,	/* a state this library does not know */
};

/*
 * @dev names a device everywhere: NULL (accmem0), a name ("accmem1") or a
 * path to its device node ("/dev/accmem1").
 */

/* Opens the device O_RDWR: the caller becomes its tenant. fd or -errno. */
int accmem_open_tenant(const char *dev);
/* Opens the device O_RDONLY: an observer (INFO only). fd or -errno. */
int accmem_open_observer(const char *dev);

/* ACCMEM_IOC_INFO into @info (zeroed first). 0 or -errno. */
int accmem_info(int fd, struct accmem_info *info);

/*
 * ACCMEM_IOC_ALLOC of @size bytes (a multiple of the page size), aligned to
 * @align (0 or a power of two), ACCMEM_ALLOC_* @flags. Returns the handle
 * (> 0) or -errno.
 */
int accmem_alloc(int fd, uint64_t size, uint64_t align, uint32_t flags);
/*
 * ACCMEM_IOC_ALLOC with the caller's structure: size, align and flags in,
 * handle and dev_addr out (the rest must be zero). 0 or -errno.
 */
int accmem_alloc_ext(int fd, struct accmem_alloc *alloc);

/* ACCMEM_IOC_FREE: drops the handle. 0 or -errno. */
int accmem_free(int fd, uint32_t handle);

/*
 * ACCMEM_IOC_EXPORT of [@offset, @offset + @length) of the allocation as a
 * dma-buf; @flags: O_CLOEXEC and/or O_RDWR. Returns the dma-buf fd or
 * -errno.
 */
int accmem_export(int fd, uint32_t handle, uint64_t offset, uint64_t length,
		  uint32_t flags);

/*
 * ACCMEM_IOC_RANGES (since 1.1, uAPI version 3): the ranges of device
 * addresses of the allocation @handle, in the allocation's byte order,
 * into @ranges[0..@max). With @max 0 (@ranges may then be NULL) only
 * counts them. Returns the number of ranges (>= 1), -ERANGE when there
 * are more than @max, -ENOTTY on a kernel without the ioctl, or -errno.
 */
int accmem_ranges(int fd, uint32_t handle, struct accmem_range *ranges,
		  uint32_t max);

/* The device's state: an enum accmem_state (>= 0), or -errno. */
int accmem_state(const char *dev);
/* "idle", "owned"... for an enum accmem_state; "unknown" otherwise. */
const char *accmem_state_name(int state);

/*
 * Waits until the device is idle (no tenancy, nothing left to scrub), at
 * most @timeout_ms milliseconds (< 0: no limit). 0, -ETIMEDOUT, -ENODEV
 * when the device went away, or -errno.
 */
int accmem_wait_until_idle(const char *dev, int timeout_ms);

/*
 * The sysfs directory of the device, /sys/class/misc/accmemN, into @buf.
 * 0, -ENODEV when there is no such device, or -errno.
 */
int accmem_sysfs_dir(const char *dev, char *buf, size_t len);

/* What an error of this library means for accmem (@err: -errno or errno). */
const char *accmem_strerror(int err);

/* The library's version, "MAJOR.MINOR (accmem PACKAGE_VERSION)". */
const char *accmem_lib_version(void);

#ifdef __cplusplus
}
#endif

#endif /* ACCMEM_ACCMEM_H */
