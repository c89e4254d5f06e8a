/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of accmemctl share: exit codes, where the device's sysfs
 * and debugfs files are, JSON strings, and the holders of a device's
 * exports (holders.c: dma-buf fds, CPU mappings, importing devices;
 * rdma_mr.c: memory regions on the RDMA devices behind an importer).
 */
#ifndef ACCMEMCTL_H
#define ACCMEMCTL_H

#include <stdint.h>
#include <sys/types.h>

/* Exit status, accmemctl(8). */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* an operation failed */
#define EXIT_USAGE	2	/* bad command line */
#define EXIT_NODEV	3	/* no such accmem device (module loaded?) */
#define EXIT_TIMEOUT	4	/* wait-idle, reclaim --wait: not idle in time */

#define SYSFS_MISC "/sys/class/misc"
#define DEBUGFS "/sys/kernel/debug/accmem"

/* A process holding an export: an fd (@fd >= 0) or a mapping (@start, @end). */
struct hold_proc {
	pid_t pid;
	char comm[32];
	int fd;
	unsigned long long start, end;
};

/* A memory region on an RDMA device, as the kernel's resource tracking has it. */
struct hold_mr {
	pid_t pid;		/* 0: owned by the kernel (@kern) */
	char comm[64];		/* the owner's command, or the kernel user */
	uint32_t mrn;
	uint64_t mrlen;
};

/* An RDMA device behind an importer and its MRs. */
struct hold_rdma {
	char ibdev[64];
	char via[256];		/* how it relates to the importing device */
	int related;		/* 0: a candidate only (no known relation) */
	int err;		/* -errno: the MRs could not be read */
	struct hold_mr *mrs;
	int nmrs;
};

/* An importing device (a dma-buf attachment). */
struct hold_attach {
	char driver[64], device[64];
	int pinned;
	unsigned int mappings;
	struct hold_rdma *rdma;
	int nrdma;
};

/* One live export (dma-buf) of the device and who holds it. */
struct hold_export {
	unsigned long ino;
	unsigned int buffer;	/* the buffer's handle */
	unsigned long long offset, length;
	int pins;
	struct hold_proc *fds, *maps;
	int nfds, nmaps;
	struct hold_attach *att;
	int natt;
};

struct holders {
	char state[32];
	struct hold_export *exp;
	int n;
	int nested_pidns;	/* we are not in the initial pid namespace */
};

void json_str(const char *key, const char *v, const char *sep);

int holders_get(const char *dev, struct holders *h);
void holders_free(struct holders *h);
void holders_text(const struct holders *h);
void holders_json(const struct holders *h);
const char *holders_strerror(int err);

int rdma_find(struct hold_attach *a);
void rdma_free(struct hold_attach *a);

#endif /* ACCMEMCTL_H */
