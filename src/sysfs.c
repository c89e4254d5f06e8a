// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: sysfs attributes of /sys/class/misc/accmemN (see
 * Documentation/ABI/testing/sysfs-class-misc-accmem).
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/bitops.h>
#include <linux/device.h>
#include <linux/log2.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sysfs.h>

#include "accmem.h"

static struct accmem_device *accmem_from_dev(struct device *dev)
{
	struct miscdevice *misc = dev_get_drvdata(dev);

	return container_of(misc, struct accmem_device, misc);
}

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%s\n", accmem_device_state(accmem_from_dev(dev)));
}
static DEVICE_ATTR_RO(state);

static ssize_t mem_size_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", accmem_from_dev(dev)->mem_size);
}
static DEVICE_ATTR_RO(mem_size);

static ssize_t mem_used_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	struct accmem_device *adev = accmem_from_dev(dev);

	return sysfs_emit(buf, "%llu\n",
			  adev->mem_size - accmem_mm_free_bytes(adev));
}
static DEVICE_ATTR_RO(mem_used);

static ssize_t exports_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct accmem_device *adev = accmem_from_dev(dev);

	return sysfs_emit(buf, "%d\n", atomic_read(&adev->stats.live_exports));
}
static DEVICE_ATTR_RO(exports);

static ssize_t pins_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct accmem_device *adev = accmem_from_dev(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(adev->stats.pins));
}
static DEVICE_ATTR_RO(pins);

static ssize_t bytes_scrubbed_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct accmem_device *adev = accmem_from_dev(dev);

	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&adev->stats.bytes_scrubbed));
}
static DEVICE_ATTR_RO(bytes_scrubbed);

static ssize_t scrub_time_us_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct accmem_device *adev = accmem_from_dev(dev);

	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&adev->stats.scrub_ns) / NSEC_PER_USEC);
}
static DEVICE_ATTR_RO(scrub_time_us);

static ssize_t last_scrub_us_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct accmem_device *adev = accmem_from_dev(dev);

	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&adev->stats.last_scrub_ns) /
			  NSEC_PER_USEC);
}
static DEVICE_ATTR_RO(last_scrub_us);

/*
 * The tenant as the reader's pid namespace sees it: 0 when there is no
 * tenant or when the tenant is not visible in the reader's namespace.
 */
static ssize_t owner_pid_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct accmem_device *adev = accmem_from_dev(dev);
	pid_t pid = 0;

	mutex_lock(&adev->lock);
	if (adev->ctx)
		pid = pid_nr_ns(adev->ctx->owner, task_active_pid_ns(current));
	mutex_unlock(&adev->lock);
	return sysfs_emit(buf, "%d\n", pid);
}
static DEVICE_ATTR_RO(owner_pid);

static ssize_t scrubs_pending_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct accmem_device *adev = accmem_from_dev(dev);

	return sysfs_emit(buf, "%d\n", atomic_read(&adev->scrubs_pending));
}
static DEVICE_ATTR_RO(scrubs_pending);

/*
 * What ACCMEM_IOC_INFO says about the device, for tools that should not
 * open it at all: an open for writing would take the tenancy.
 */
static ssize_t backend_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	u32 kind = accmem_from_dev(dev)->ops->kind;

	return sysfs_emit(buf, "%s\n", kind == ACCMEM_BACKEND_PCI ? "pci" :
			  kind == ACCMEM_BACKEND_EMU ? "emu" : "unknown");
}
static DEVICE_ATTR_RO(backend);

static ssize_t page_size_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n", PAGE_SIZE);
}
static DEVICE_ATTR_RO(page_size);

/* accmem_info.flags by name, in bit order, separated by spaces. */
static const char * const accmem_info_flag_names[] = {
	[ilog2(ACCMEM_INFO_P2P_ONLY)] = "p2p_only",
	[ilog2(ACCMEM_INFO_CPU_WC)] = "cpu_wc",
};

static ssize_t flags_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	unsigned long flags = accmem_from_dev(dev)->ops->info_flags;
	const char *sep = "";
	int len = 0;
	unsigned int bit;

	for_each_set_bit(bit, &flags, ARRAY_SIZE(accmem_info_flag_names)) {
		len += sysfs_emit_at(buf, len, "%s%s", sep,
				     accmem_info_flag_names[bit]);
		sep = " ";
	}
	return len + sysfs_emit_at(buf, len, "\n");
}
static DEVICE_ATTR_RO(flags);

/*
 * Writing 1 reclaims the device from its tenant (accmem_device_reclaim()):
 * returns once everything revocable is revoked, without waiting for what
 * cannot be (pinned importers, vmaps) or for the scrub.
 */
static ssize_t reclaim_store(struct device *dev,
			     struct device_attribute *attr, const char *buf,
			     size_t count)
{
	int ret;

	if (!sysfs_streq(buf, "1"))
		return -EINVAL;
	ret = accmem_device_reclaim(accmem_from_dev(dev));
	return ret ?: count;
}
static DEVICE_ATTR_WO(reclaim);

static struct attribute *accmem_attrs[] = {
	&dev_attr_backend.attr,
	&dev_attr_page_size.attr,
	&dev_attr_flags.attr,
	&dev_attr_state.attr,
	&dev_attr_mem_size.attr,
	&dev_attr_mem_used.attr,
	&dev_attr_exports.attr,
	&dev_attr_pins.attr,
	&dev_attr_bytes_scrubbed.attr,
	&dev_attr_scrub_time_us.attr,
	&dev_attr_last_scrub_us.attr,
	&dev_attr_owner_pid.attr,
	&dev_attr_scrubs_pending.attr,
	&dev_attr_reclaim.attr,
	NULL
};

static const struct attribute_group accmem_attr_group = {
	.attrs = accmem_attrs,
};

const struct attribute_group *accmem_sysfs_groups[] = {
	&accmem_attr_group,
	NULL
};
