// SPDX-License-Identifier: GPL-2.0
/*
 * accmem: ACCMEM_IOC_RANGES, the ranges of device addresses an allocation
 * consists of.
 *
 * ALLOC returns the device address of an allocation's first byte only; a
 * runtime that programs its device with the memory needs all of it. The
 * ranges are the allocator's blocks in buffer order, those adjacent in
 * device addresses merged, so a contiguous allocation is one range. A
 * buffer's blocks never change while it is referenced: no lock.
 *
 * Copyright (C) 2026 The accmem authors
 */
#include <linux/kernel.h>
#include <linux/overflow.h>
#include <linux/uaccess.h>

#include "accmem.h"

/* Copies the ranges to @uptr (counts them only when it is NULL). */
struct accmem_ranges_out {
	struct accmem_range __user *uptr;
	u64 count;
};

static int accmem_ranges_emit(struct accmem_ranges_out *out,
			      const struct accmem_range *r)
{
	if (out->uptr && copy_to_user(&out->uptr[out->count], r, sizeof(*r)))
		return -EFAULT;
	out->count++;
	return 0;
}

/* Walks the merged ranges of @buf in buffer order. */
static int accmem_ranges_walk(struct accmem_buffer *buf,
			      struct accmem_ranges_out *out)
{
	struct accmem_range r = { };
	struct accmem_mm_iter it;
	int ret;

	accmem_mm_for_each_range(&it, accmem_buf_dev(buf), &buf->blocks) {
		if (r.length && r.dev_addr + r.length == it.offset) {
			r.length += it.size;
			continue;
		}
		if (r.length) {
			ret = accmem_ranges_emit(out, &r);
			if (ret)
				return ret;
		}
		r.dev_addr = it.offset;
		r.length = it.size;
	}
	return r.length ? accmem_ranges_emit(out, &r) : 0;
}

static int accmem_ranges_check(const struct accmem_uarg *ua,
			       const struct accmem_ranges *args)
{
	u64 end;

	if (args->flags)
		return accmem_uarg_refuse(ua, -EINVAL, "unknown flags");
	if (args->pad)
		return accmem_uarg_refuse(ua, -EINVAL, "non-zero padding");
	if (args->count && !args->ranges)
		return accmem_uarg_refuse(ua, -EINVAL,
					  "count without a ranges array");
	if (!args->count && args->ranges)
		return accmem_uarg_refuse(ua, -EINVAL,
					  "ranges array with count 0");
	if (check_add_overflow(args->ranges,
			       (u64)args->count * sizeof(struct accmem_range),
			       &end))
		return accmem_uarg_refuse(ua, -EINVAL,
					  "ranges array wraps around");
	return 0;
}

/**
 * accmem_ioctl_ranges() - ACCMEM_IOC_RANGES
 * @afile: the open device file
 * @ua: struct accmem_ranges
 *
 * Counts the ranges, then copies them if the caller's array holds them
 * all; the count is copied back in either case.
 *
 * Return: 0; -EINVAL for flags, padding or an inconsistent array; -ENOENT
 * for an unknown handle; -ERANGE when the array is too small (the count
 * says how many are needed); -EOVERFLOW for more ranges than a __u32
 * counts; -EFAULT.
 */
int accmem_ioctl_ranges(struct accmem_file *afile,
			const struct accmem_uarg *ua)
{
	struct accmem_ranges_out out = { };
	struct accmem_ranges args;
	struct accmem_buffer *buf;
	int ret;

	ret = accmem_uarg_in(ua, &args, sizeof(args));
	if (ret)
		return ret;
	ret = accmem_ranges_check(ua, &args);
	if (ret)
		return ret;

	buf = accmem_buffer_lookup(afile, args.handle);
	if (!buf)
		return -ENOENT;

	accmem_ranges_walk(buf, &out);
	if (out.count > U32_MAX) {
		ret = accmem_uarg_refuse(ua, -EOVERFLOW,
					 "more ranges than a u32 counts");
		goto out_put;
	}
	if (args.count && args.count < out.count) {
		ret = accmem_uarg_refuse(ua, -ERANGE, "ranges array too small");
	} else if (args.count) {
		out.uptr = u64_to_user_ptr(args.ranges);
		out.count = 0;
		ret = accmem_ranges_walk(buf, &out);
		if (ret)
			goto out_put;
	}
	args.count = out.count;
	if (accmem_uarg_out(ua, &args, sizeof(args)))
		ret = -EFAULT;
out_put:
	accmem_buffer_put(buf);
	return ret;
}
