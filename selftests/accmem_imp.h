/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The accmem_importer test module from the selftests: open, import,
 * release, CPU access. Include after accmem_lib.h.
 */
#ifndef ACCMEM_IMP_H
#define ACCMEM_IMP_H

#include "importer/accmem_importer.h"

#define ACCMEM_IMPORTER_DEV "/dev/accmem_importer"

/* Opens the importer, loading $ACCMEM_IMPORTER first; fd or -errno. */
static inline int accmem_imp_open(void)
{
	return accmem_test_module_open(ACCMEM_IMPORTER_DEV, "ACCMEM_IMPORTER",
				       "accmem_importer", "");
}

/*
 * Imports @dmabuf as ACCMEM_IMP_@mode with segments of at most @max_seg
 * (0: 2 GiB); returns the import id or -errno; fills @out if not NULL.
 */
static inline int accmem_imp_import(int imp, int dmabuf, __u32 mode,
				    __u64 max_seg,
				    struct accmem_imp_import *out)
{
	struct accmem_imp_import a = {
		.fd = dmabuf, .mode = mode, .max_seg = max_seg,
	};
	int ret = accmem_ioctl(imp, ACCMEM_IMP_IMPORT, &a);

	if (out)
		*out = a;
	return ret ? ret : (int)a.id;
}

static inline int accmem_imp_release(int imp, __u32 id)
{
	return accmem_ioctl(imp, ACCMEM_IMP_RELEASE, &id);
}

/* Copies @len bytes at @off through dma_buf_vmap(); 0 or -errno. */
static inline int accmem_imp_rw(int imp, __u32 id, int write, __u64 off,
				void *buf, __u64 len)
{
	struct accmem_imp_rw a = {
		.id = id, .write = write, .offset = off, .len = len,
		.buf = (uintptr_t)buf,
	};

	return accmem_ioctl(imp, ACCMEM_IMP_RW, &a);
}

/* Reads the state of import @id into @st; 0 or -errno. */
static inline int accmem_imp_state(int imp, __u32 id,
				   struct accmem_imp_state *st)
{
	memset(st, 0, sizeof(*st));
	st->id = id;
	return accmem_ioctl(imp, ACCMEM_IMP_STATE, st);
}

/* Unmaps a dynamic import and maps it again; 0 or -errno of the map. */
static inline int accmem_imp_remap(int imp, __u32 id)
{
	return accmem_ioctl(imp, ACCMEM_IMP_REMAP, &id);
}

/*
 * Zeroes @len bytes at @off of import @id through dma_buf_vmap() with the
 * scrub's routine; @ns: how long it took. 0 or -errno.
 */
static inline int accmem_imp_fill(int imp, __u32 id, __u64 off, __u64 len,
				  __u64 *ns)
{
	struct accmem_imp_fill a = { .id = id, .offset = off, .len = len };
	int ret = accmem_ioctl(imp, ACCMEM_IMP_FILL, &a);

	if (!ret && ns)
		*ns = a.ns;
	return ret;
}

/* Takes a vmap that import @id keeps until released; 0 or -errno. */
static inline int accmem_imp_vmap(int imp, __u32 id)
{
	return accmem_ioctl(imp, ACCMEM_IMP_VMAP, &id);
}

#endif /* ACCMEM_IMP_H */
