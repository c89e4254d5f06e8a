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

#define ACCMEM_SCRUB_CHUNK	SZ_16M

/**
 * accmem_scrub() - zero a range of device memory and account for it
 * @adev: device
 * @offset: device address
 * @len: bytes
 *
 * Context: process context, may sleep.
 */
void accmem_scrub(struct accmem_device *adev, u64 offset, u64 len)
{
	u64 start = ktime_get_ns();
	u64 done = 0;

	while (done < len) {
		u64 n = min_t(u64, len - done, ACCMEM_SCRUB_CHUNK);

		adev->ops->scrub(adev, offset + done, n);
		done += n;
		cond_resched();
	}

	start = ktime_get_ns() - start;
	atomic64_add(len, &adev->stats.bytes_scrubbed);
	atomic64_add(start, &adev->stats.scrub_ns);
	atomic64_set(&adev->stats.last_scrub_ns, start);
}

static void accmem_scrub_probe_work(struct work_struct *work)
{
	struct accmem_device *adev = container_of(work, struct accmem_device,
						  probe_work);

	accmem_scrub(adev, 0, adev->mem_size);

	mutex_lock(&adev->lock);
	adev->probe_scrub = false;
	mutex_unlock(&adev->lock);
	accmem_device_put(adev);
}

/**
 * accmem_scrub_probe() - zero all memory of a new device asynchronously
 * @adev: device; open() returns -EBUSY until the scrub is done
 */
void accmem_scrub_probe(struct accmem_device *adev)
{
	INIT_WORK(&adev->probe_work, accmem_scrub_probe_work);
	adev->probe_scrub = true;
	accmem_device_get(adev);
	queue_work(accmem_wq, &adev->probe_work);
}
