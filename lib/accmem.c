// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libaccmem - user-space library over the accmem uAPI: opening a device as
 * its tenant or as an observer, the ioctls, the sysfs state and waiting for
 * the device to become idle. See libaccmem(3).
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <accmem/accmem.h>

#ifndef ACCMEM_PACKAGE_VERSION
#define ACCMEM_PACKAGE_VERSION "unknown"
#endif

#define STR(x)		#x
#define XSTR(x)		STR(x)

#define SYSFS_MISC	"/sys/class/misc"
#define DEFAULT_NAME	"accmem0"
/* Without sysfs_notify() on "state", the wait re-reads it this often. */
#define WAIT_POLL_MS	10

static int open_dev(const char *dev, int mode)
{
	char path[PATH_MAX];
	int fd;

	if (!dev)
		dev = DEFAULT_NAME;
	if (strchr(dev, '/'))
		snprintf(path, sizeof(path), "%s", dev);
	else
		snprintf(path, sizeof(path), "/dev/%s", dev);
	fd = open(path, mode | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int accmem_open_tenant(const char *dev)
{
	return open_dev(dev, O_RDWR);
}

int accmem_open_observer(const char *dev)
{
	return open_dev(dev, O_RDONLY);
}

static int do_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

int accmem_info(int fd, struct accmem_info *info)
{
	memset(info, 0, sizeof(*info));
	return do_ioctl(fd, ACCMEM_IOC_INFO, info);
}

int accmem_alloc_ext(int fd, struct accmem_alloc *alloc)
{
	return do_ioctl(fd, ACCMEM_IOC_ALLOC, alloc);
}

int accmem_alloc(int fd, uint64_t size, uint64_t align, uint32_t flags)
{
	struct accmem_alloc a = { .size = size, .align = align, .flags = flags };
	int ret = accmem_alloc_ext(fd, &a);

	if (ret)
		return ret;
	/* The kernel hands out handles up to INT_MAX; never more. */
	if (a.handle > INT_MAX) {
		accmem_free(fd, a.handle);
		return -EOVERFLOW;
	}
	return (int)a.handle;
}

int accmem_free(int fd, uint32_t handle)
{
	struct accmem_free f = { .handle = handle };

	return do_ioctl(fd, ACCMEM_IOC_FREE, &f);
}

int accmem_export(int fd, uint32_t handle, uint64_t offset, uint64_t length,
		  uint32_t flags)
{
	struct accmem_export e = {
		.handle = handle, .offset = offset, .length = length,
		.flags = flags,
	};
	int ret = do_ioctl(fd, ACCMEM_IOC_EXPORT, &e);

	return ret ? ret : e.fd;
}

int accmem_ranges(int fd, uint32_t handle, struct accmem_range *ranges,
		  uint32_t max)
{
	struct accmem_ranges r = {
		.handle = handle, .count = ranges ? max : 0,
		.ranges = max ? (uintptr_t)ranges : 0,
	};
	int ret = do_ioctl(fd, ACCMEM_IOC_RANGES, &r);

	if (ret)
		return ret;
	/* A kernel counts up to 2^32 - 1; an int holds less. */
	return r.count > INT_MAX ? -EOVERFLOW : (int)r.count;
}

int accmem_sysfs_dir(const char *dev, char *buf, size_t len)
{
	char link[64];
	struct stat st;
	int n;

	if (!dev)
		dev = DEFAULT_NAME;
	if (!strchr(dev, '/')) {
		n = snprintf(buf, len, SYSFS_MISC "/%s", dev);
	} else {
		/* A device node: its sysfs directory by major:minor. */
		if (stat(dev, &st))
			return errno == ENOENT ? -ENODEV : -errno;
		if (!S_ISCHR(st.st_mode))
			return -ENOTTY;
		snprintf(link, sizeof(link), "/sys/dev/char/%u:%u",
			 major(st.st_rdev), minor(st.st_rdev));
		n = snprintf(buf, len, "%s", link);
	}
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (access(buf, F_OK))
		return errno == ENOENT ? -ENODEV : -errno;
	return 0;
}

static const char * const state_names[] = {
	[ACCMEM_STATE_IDLE] = "idle",
	[ACCMEM_STATE_OWNED] = "owned",
	[ACCMEM_STATE_DRAINING] = "draining",
	[ACCMEM_STATE_SCRUBBING] = "scrubbing",
	[ACCMEM_STATE_GONE] = "gone",
	[ACCMEM_STATE_UNKNOWN] = "unknown",
};

const char *accmem_state_name(int state)
{
	if (state < 0 || state > ACCMEM_STATE_UNKNOWN)
		return "unknown";
	return state_names[state];
}

/* Reads the open "state" file from its start; a state or -errno. */
static int read_state(int fd)
{
	char buf[32];
	ssize_t n;
	int i;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	for (i = 0; i < ACCMEM_STATE_UNKNOWN; i++)
		if (!strcmp(buf, state_names[i]))
			return i;
	return ACCMEM_STATE_UNKNOWN;
}

static int open_state(const char *dev)
{
	char path[PATH_MAX];
	int ret, fd;

	ret = accmem_sysfs_dir(dev, path, sizeof(path) - 8);
	if (ret)
		return ret;
	strcat(path, "/state");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	return fd;
}

int accmem_state(const char *dev)
{
	int fd = open_state(dev), ret;

	if (fd < 0)
		return fd;
	ret = read_state(fd);
	close(fd);
	return ret;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int accmem_wait_until_idle(const char *dev, int timeout_ms)
{
	long long end = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	struct pollfd p = { .events = POLLPRI };
	int ret, wait;

	p.fd = open_state(dev);
	if (p.fd < 0)
		return p.fd;
	for (;;) {
		/* Reading re-arms poll() for the next sysfs_notify(). */
		ret = read_state(p.fd);
		if (ret == ACCMEM_STATE_IDLE || ret < 0)
			break;
		if (ret == ACCMEM_STATE_GONE) {
			ret = -ENODEV;
			break;
		}
		wait = WAIT_POLL_MS;
		if (timeout_ms >= 0) {
			if (now_ms() >= end) {
				ret = -ETIMEDOUT;
				break;
			}
			if (end - now_ms() < wait)
				wait = end - now_ms();
		}
		/* Woken by a state change where the kernel notifies it. */
		if (poll(&p, 1, wait) < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
	}
	close(p.fd);
	return ret;
}

const char *accmem_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "Success";
	case EACCES:
		return "Permission denied: not in the device's group (accmem, udev rule)";
	case EBUSY:
		return "Device busy: another tenancy, still draining or being scrubbed";
	case EBADF:
		return "Not the tenant: opened read-only (an observer), or not an open fd";
	case ENOENT:
		return "No such device node, or no such allocation handle";
	case ENOSPC:
		return "Out of device memory";
	case EDQUOT:
		return "Per-tenant limit reached (max_allocs, max_exports, max_*_bytes)";
	case EINVAL:
		return "Invalid argument (size, offset, length, align, flags or padding)";
	case ENOTTY:
		return "Not an accmem device, or an ioctl this kernel does not know";
	case ENODEV:
		return "No such accmem device, or the device was removed";
	case ETIMEDOUT:
		return "Timed out";
	case EOVERFLOW:
		return "Handle or count out of range for this library";
	case ERANGE:
		return "Array too small for the allocation's ranges";
	default:
		return strerror(err);
	}
}

const char *accmem_lib_version(void)
{
	return XSTR(ACCMEM_LIB_VERSION_MAJOR) "." XSTR(ACCMEM_LIB_VERSION_MINOR)
	       " (accmem " ACCMEM_PACKAGE_VERSION ")";
}
