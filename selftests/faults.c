// SPDX-License-Identifier: GPL-2.0
/*
 * accmem under allocation failures: fail-nth sweeps with failslab and
 * fail_page_alloc (CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB,
 * CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAULT_INJECTION_DEBUG_FS: the debug
 * kernel; Debian's kernels have none of them).
 *
 * For each operation and n = 1, 2, ...: the n-th slab or page allocation
 * of this thread during the operation fails (/proc/thread-self/fail-nth).
 * A failed operation must have had a fault injected and return -ENOMEM,
 * with nothing left behind: memory, exports, pins and attachments as before
 * the call. An operation may also absorb the fault and succeed. The sweep
 * ends at the first n the operation no longer reaches. Afterwards the
 * device is idle, all memory free and a new tenant works; kmemleak scans at
 * the end of the VM run (scripts/vm) catch anything leaked.
 *
 * Not swept: mmap. It was left out because on 6.12 a page-table
 * allocation failing inside remap_pfn_range() of a whole VMA WARNs in
 * get_pat_info() (see Documentation/testing.rst); accmem now maps pages at
 * fault time, and the sweep is still to be brought back.
 */
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"
#include "accmem_harness.h"
#include "accmem_imp.h"

#define MAX_NTH		5000
#define BUF_SIZE	(2 * SZ_1M)

static const char *const knobs[][2] = {
	/* GFP_KERNEL allocations too, not only atomic ones */
	{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
	/* order-0 pages too */
	{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
	/* no stack dump per injected fault (scripts/vm fails on traces) */
	{ "/sys/kernel/debug/failslab/verbose", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
};

/* Attachments the device's debugfs lists right now. */
static int attachments(void)
{
	return accmem_buffers_lines("attachment ", NULL, NULL);
}

/* What the operations work on. */
struct ctx {
	int fd;
	int imp;
	int h;		/* a buffer of BUF_SIZE */
	int dmabuf;	/* an export of all of it */
};

FIXTURE(faults)
{
	char saved[ARRAY_SIZE(knobs)][16];
	int nth;	/* /proc/thread-self/fail-nth, open for the whole test */
	int pci;
	struct ctx c;
};

/* What an operation leaves behind when it fails: exactly this. */
struct baseline {
	long long used, exports, pins;
	int attachments;
};

static void snapshot(struct baseline *b)
{
	b->used = accmem_sysfs_num("mem_used");
	b->exports = accmem_sysfs_num("exports");
	b->pins = accmem_sysfs_num("pins");
	b->attachments = attachments();
}

/* Memory freed by an earlier iteration is scrubbed asynchronously. */
static void expect_baseline(struct __test_metadata *_metadata,
			    const struct baseline *b, const char *op, int n)
{
	struct baseline now;
	double end = accmem_now() + 30;

	do {
		snapshot(&now);
		if (now.used == b->used && now.exports == b->exports &&
		    now.pins == b->pins && now.attachments == b->attachments)
			return;
		usleep(1000);
	} while (accmem_now() < end);
	EXPECT_EQ(b->used, now.used) TH_LOG("%s, fail-nth %d: mem_used", op, n);
	EXPECT_EQ(b->exports, now.exports) TH_LOG("%s, fail-nth %d: exports", op, n);
	EXPECT_EQ(b->pins, now.pins) TH_LOG("%s, fail-nth %d: pins", op, n);
	EXPECT_EQ(b->attachments, now.attachments)
		TH_LOG("%s, fail-nth %d: attachments", op, n);
}

static void arm(struct __test_metadata *_metadata, int nth, int n)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", n);
	ASSERT_LT(0, pwrite(nth, v, strlen(v), 0));
}

/* Disarms; returns 1 if the armed fault was injected. */
static int disarm(struct __test_metadata *_metadata, int nth)
{
	char v[16] = "";

	ASSERT_LT(0, pread(nth, v, sizeof(v) - 1, 0));
	ASSERT_LT(0, pwrite(nth, "0", 1, 0));
	return atoi(v) == 0;
}

FIXTURE_SETUP(faults)
{
	struct accmem_info info;
	struct stat st;
	unsigned int i;

	memset(self->saved, 0, sizeof(self->saved));
	self->nth = -1;
	self->c.fd = -1;
	self->c.imp = -1;
	self->c.dmabuf = -1;
	if (stat("/proc/thread-self/fail-nth", &st))
		SKIP(return, "kernel without CONFIG_FAULT_INJECTION");
	if (stat("/sys/kernel/debug/failslab", &st))
		SKIP(return, "kernel without CONFIG_FAILSLAB (debugfs)");
	if (stat("/sys/kernel/debug/fail_page_alloc", &st))
		SKIP(return, "kernel without CONFIG_FAIL_PAGE_ALLOC (debugfs)");
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		ASSERT_EQ(0, accmem_read_file(knobs[i][0], self->saved[i],
					      sizeof(self->saved[i])));
		ASSERT_EQ(0, accmem_write_file(knobs[i][0], knobs[i][1]))
			TH_LOG("%s", knobs[i][0]);
	}

	self->c.imp = accmem_imp_open();
	ASSERT_LE(0, self->c.imp);
	self->c.fd = accmem_open_idle();
	ASSERT_LE(0, self->c.fd);
	ASSERT_EQ(0, accmem_info(self->c.fd, &info));
	self->pci = info.backend == ACCMEM_BACKEND_PCI;
	self->c.h = accmem_alloc(self->c.fd, BUF_SIZE, 0, 0);
	ASSERT_LT(0, self->c.h);
	self->c.dmabuf = accmem_export(self->c.fd, self->c.h, 0, BUF_SIZE,
				       O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->c.dmabuf);
	ASSERT_LE(0, attachments()) TH_LOG("accmem debugfs missing");
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
}

FIXTURE_TEARDOWN(faults)
{
	unsigned int i;

	if (self->nth >= 0) {
		EXPECT_LT(0, pwrite(self->nth, "0", 1, 0));
		close(self->nth);
	}
	for (i = 0; i < ARRAY_SIZE(knobs) && self->saved[i][0]; i++)
		accmem_write_file(knobs[i][0], self->saved[i]);
	if (self->c.dmabuf >= 0)
		close(self->c.dmabuf);
	if (self->c.fd >= 0)
		close(self->c.fd);
	if (self->c.imp >= 0)
		close(self->c.imp);
	if (self->c.fd < 0)
		return;
	/* Nothing kept: the device goes idle, and works for the next one. */
	ASSERT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("mem_used"));
	EXPECT_EQ(0, accmem_sysfs_num("exports"));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
	accmem_expect_all_zero(_metadata);
}

/*
 * One operation under test: run() returns >= 0 on success, else -errno;
 * undo() releases what a successful run() made.
 */
struct op {
	const char *name;
	int (*run)(struct ctx *c, int *out);
	void (*undo)(struct ctx *c, int out);
};

static void sweep(struct __test_metadata *_metadata, int nth,
		  struct ctx *c, const struct op *op)
{
	int n, ret, hit, out, injected = 0, absorbed = 0;
	double t0 = accmem_now();
	struct baseline base;

	snapshot(&base);
	for (n = 1; n < MAX_NTH; n++) {
		out = -1;
		arm(_metadata, nth, n);
		ret = op->run(c, &out);
		hit = disarm(_metadata, nth);
		injected += hit;
		if (getenv("ACCMEM_FAULTS_TRACE"))
			fprintf(stderr, "# %s fail-nth %d: %d%s\n", op->name, n,
				ret, hit ? " (injected)" : "");
		if (ret < 0) {
			EXPECT_TRUE(hit)
				TH_LOG("%s failed without a fault: %s",
				       op->name, strerror(-ret));
			EXPECT_EQ(-ENOMEM, ret)
				TH_LOG("%s, fail-nth %d: %s", op->name, n,
				       strerror(-ret));
		} else {
			absorbed += hit;
			op->undo(c, out);
		}
		expect_baseline(_metadata, &base, op->name, n);
		if (ret >= 0 && !hit)
			break;
	}
	ASSERT_LT(n, MAX_NTH) TH_LOG("%s: still failing at fail-nth %d",
				     op->name, n);
	ASSERT_LT(0, injected) TH_LOG("%s: no fault reached accmem", op->name);
	TH_LOG("%s: %d allocations, %d faults injected, %d absorbed, %.1f s",
	       op->name, n - 1, injected, absorbed, accmem_now() - t0);
}

static int run_alloc(struct ctx *c, int *out)
{
	return *out = accmem_alloc(c->fd, SZ_1M + 3 * 4096, 0, 0);
}

static int run_alloc_contig(struct ctx *c, int *out)
{
	return *out = accmem_alloc(c->fd, SZ_1M + 3 * 4096, 0,
				   ACCMEM_ALLOC_CONTIGUOUS);
}

static void undo_alloc(struct ctx *c, int h)
{
	accmem_free(c->fd, h);
}

static int run_export(struct ctx *c, int *out)
{
	return *out = accmem_export(c->fd, c->h, SZ_1M, SZ_1M,
				    O_RDWR | O_CLOEXEC);
}

static void undo_close(struct ctx *c, int fd)
{
	close(fd);
}

static int run_import(struct ctx *c, __u32 mode, int *out)
{
	/* 64 KiB segments: a longer table to build and map */
	return *out = accmem_imp_import(c->imp, c->dmabuf, mode, 64 * 1024,
					NULL);
}

static int run_import_static(struct ctx *c, int *out)
{
	return run_import(c, ACCMEM_IMP_STATIC, out);
}

static int run_import_pin(struct ctx *c, int *out)
{
	return run_import(c, ACCMEM_IMP_DYN_PIN, out);
}

static int run_import_move(struct ctx *c, int *out)
{
	return run_import(c, ACCMEM_IMP_DYN_MOVE, out);
}

static void undo_import(struct ctx *c, int id)
{
	accmem_imp_release(c->imp, id);
}

TEST_F_TIMEOUT(faults, alloc, 900)
{
	static const struct op scattered = { "ALLOC", run_alloc, undo_alloc };
	static const struct op contig = {
		"ALLOC contiguous", run_alloc_contig, undo_alloc
	};

	sweep(_metadata, self->nth, &self->c, &scattered);
	sweep(_metadata, self->nth, &self->c, &contig);
}

TEST_F_TIMEOUT(faults, export, 900)
{
	static const struct op op = { "EXPORT", run_export, undo_close };

	sweep(_metadata, self->nth, &self->c, &op);
}

/* attach, pin and map, as the three kinds of importer do them */
TEST_F_TIMEOUT(faults, attach_map, 900)
{
	static const struct op pin = {
		"import dynamic+pin", run_import_pin, undo_import
	};
	static const struct op move = {
		"import dynamic+move_notify", run_import_move, undo_import
	};
	static const struct op stat = {
		"import static", run_import_static, undo_import
	};

	sweep(_metadata, self->nth, &self->c, &pin);
	sweep(_metadata, self->nth, &self->c, &move);
	/* BAR memory has no pages: static importers are refused outright */
	if (!self->pci)
		sweep(_metadata, self->nth, &self->c, &stat);
}

TEST_HARNESS_MAIN
