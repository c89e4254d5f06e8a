// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: zeroing device memory.
 *
 * Scrubs run on accmem_wq, in chunks, so that releasing a large tenancy
 * neither blocks the releasing task nor hogs a CPU.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/ktime.h>
#include <linux/sched.h>

#include "accmem.h"
#include "accmem_trace.h"

#define ACCMEM_SCRUB_CHUNK	SZ_16M

/**
 * accmem_scrub() - zero a range of device memory and account for it
 * @adev: device
 * @offset: device address
 * @len: bytes
 *
 * The duration of this call becomes the device's last_scrub_ns: callers
 * scrub a released buffer block by block, the whole memory at probe. Once
 * the device's memory is revoked (accmem_device_revoke()) nothing more is
 * written: the device is gone, a re-probed one scrubs at probe.
 *
 * Context: process context, may sleep.
 */
void accmem_scrub(struct accmem_device *adev, u64 offset, u64 len)
{
	u64 start = ktime_get_ns();
	u64 done = 0;

	trace_accmem_scrub_start(adev->name, offset, len);
	while (done < len) {
		u64 n = min_t(u64, len - done, ACCMEM_SCRUB_CHUNK);

		/* The memory is gone: it is never touched again. */
		if (READ_ONCE(adev->revoked))
			break;

		adev->ops->scrub(adev, offset + done, n);
		done += n;
		cond_resched();
	}

	start = ktime_get_ns() - start;
	atomic64_add(done, &adev->stats.bytes_scrubbed);
	atomic64_add(start, &adev->stats.scrub_ns);
	atomic64_set(&adev->stats.last_scrub_ns, start);
	trace_accmem_scrub_done(adev->name, offset, done, start);
}
