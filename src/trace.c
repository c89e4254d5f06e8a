// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: the tracepoints of src/accmem_trace.h and the reasons of failed
 * ioctls.
 *
 * An ioctl that fails is reported once, by the dispatcher: the event
 * accmem_ioctl_refused and a pr_debug() line (dynamic debug), both with
 * the reason the handler recorded with accmem_uarg_refuse(). pr_debug()
 * with the device's name rather than dev_dbg(): the character device may
 * be unregistered (and its struct device freed) while an ioctl runs.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include "accmem.h"

#define CREATE_TRACE_POINTS
#include "accmem_trace.h"

/**
 * accmem_uarg_refuse() - fail an ioctl, saying why
 * @ua: the ioctl's argument
 * @err: negative errno
 * @reason: a short constant string, for dynamic debug and the trace
 *
 * Return: @err.
 */
int accmem_uarg_refuse(const struct accmem_uarg *ua, int err,
		       const char *reason)
{
	if (ua->reason)
		*ua->reason = reason;
	return err;
}

/**
 * accmem_ioctl_failed() - report a failed ioctl
 * @adev: device
 * @nr: the ioctl's number
 * @name: its name ("ALLOC"), or "?" for a number the device does not know
 * @err: negative errno it returns
 * @reason: what accmem_uarg_refuse() recorded, or NULL
 */
void accmem_ioctl_failed(struct accmem_device *adev, unsigned int nr,
			 const char *name, int err, const char *reason)
{
	if (!reason)
		reason = "-";
	pr_debug("%s: ioctl %s (%#x) failed with %d: %s\n", adev->name, name,
		 nr, err, reason);
	trace_accmem_ioctl_refused(adev->name, nr, name, err, reason);
}
