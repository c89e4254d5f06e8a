// SPDX-License-Identifier: GPL-2.0
/*
 * accmem dma-bufs imported by RDMA, both ways an RDMA NIC gets them.
 *
 * The RDMA core's pinned import (fixtures umem and umem_range): the
 * accmem_rdma_pinned test module calls
 * ib_umem_dmabuf_get_pinned_with_dma_device() on the soft-RoCE device rxe0
 * with a PCI device as DMA device, as a NIC driver does when user space
 * registers a dma-buf MR. The umem must cover exactly the requested range,
 * at the physical addresses accmem's debugfs lists for the buffer, and keep
 * the tenancy and its data alive after the tenant has gone, until it is
 * released; then the next tenant finds zeros. Kernels without that symbol
 * (before 6.12) skip these.
 *
 * User-space verbs (fixture verbs): what a runtime does with accmem and a
 * NIC. ibv_reg_dmabuf_mr() on the dma-buf, an RDMA WRITE over a loopback RC
 * QP into it, the result read through the CPU mapping. rxe has no dma-buf
 * MRs, so those tests skip in QEMU; the same QP carries a write into host
 * memory there, so that everything but the dma-buf MR is exercised.
 *
 * rxe0 is set up when missing: on $ACCMEM_RXE_NETDEV, else eth0, else a
 * dummy netdev (kernel modules rdma_rxe, ib_uverbs, crc32_generic and dummy
 * or a NIC driver). ACCMEM_RDMA_PINNED names the test module's .ko file
 * (else modprobe); ACCMEM_RDMA_DEV picks the verbs device (default: the
 * first one).
 */
#include <stdbool.h>
#include <sys/stat.h>

#include <infiniband/verbs.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"
#include "accmem_harness.h"
#include "rdma_pinned/accmem_rdma_pinned.h"

#define SEED		0x4d4a5eedu
#define SIZE		(8 * SZ_1M)
#define MAX_RANGES	64
#define RXE		"rxe0"
#define RP_DEV		"/dev/accmem_rdma_pinned"
#define UMEM_SYMBOL	"ib_umem_dmabuf_get_pinned_with_dma_device"
/* where accmem_rdma_pinned has the RDMA path, it needs ib_uverbs */
#define RP_DEPS		"modprobe -q ib_uverbs 2>/dev/null;"

static __u64 pgsz(void)
{
	return sysconf(_SC_PAGESIZE);
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ret = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		ret = -EIO;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return ret;
}

/* rxe0 has its first GID once its netdev has an IPv6 link-local address. */
static int rxe_gid_ready(void)
{
	char gid[64];

	if (read_line("/sys/class/infiniband/" RXE "/ports/1/gids/0", gid,
		      sizeof(gid)))
		return 0;
	return strcmp(gid, "0000:0000:0000:0000:0000:0000:0000:0000") != 0;
}

/*
 * Brings up soft-RoCE if needed. Returns 0; -ENOENT when a kernel feature
 * is missing; -EIO when the setup failed. @why says what happened.
 */
static int rxe_setup(char *why, size_t len)
{
	const char *nd = getenv("ACCMEM_RXE_NETDEV");
	char cmd[256];
	double end;

	if (access("/sys/class/infiniband/" RXE, F_OK)) {
		if (access("/sys/module/rdma_rxe", F_OK) &&
		    system("modprobe -q rdma_rxe 2>/dev/null")) {
			snprintf(why, len,
				 "no soft-RoCE: module rdma_rxe (CONFIG_RDMA_RXE) not loaded");
			return -ENOENT;
		}
		if (!nd && !access("/sys/class/net/eth0", F_OK))
			nd = "eth0";
		if (!nd) {
			nd = "accmem_rxe";
			if (access("/sys/class/net/accmem_rxe", F_OK) &&
			    system("ip link add accmem_rxe type dummy")) {
				snprintf(why, len,
					 "no netdev for soft-RoCE: no eth0, no module dummy (CONFIG_DUMMY)");
				return -ENOENT;
			}
		}
		snprintf(cmd, sizeof(cmd),
			 "ip link set %s up && rdma link add " RXE " type rxe netdev %s",
			 nd, nd);
		if (system(cmd)) {
			/* rxe asks the crypto API for "crc32" (6.1) */
			snprintf(why, len,
				 "'%.160s' failed (crc32_generic loaded?)", cmd);
			return -EIO;
		}
	}
	end = accmem_now() + 30;
	while (!rxe_gid_ready()) {
		if (accmem_now() > end) {
			snprintf(why, len, RXE " has no GID after 30 s");
			return -EIO;
		}
		usleep(10000);
	}
	return 0;
}

/* A tenant with one contiguous allocation exported whole, mapped, filled. */
struct tenant {
	int fd;
	int h;
	int dmabuf;
	char *map;
	__u64 size;
	__u64 dev_addr;
};

static void tenant_init(struct tenant *t)
{
	t->fd = -1;
	t->dmabuf = -1;
	t->map = MAP_FAILED;
}

static void tenant_start(struct __test_metadata *_metadata, struct tenant *t,
			 __u64 size)
{
	struct accmem_alloc a = {
		.size = size, .flags = ACCMEM_ALLOC_CONTIGUOUS,
	};

	t->size = size;
	t->fd = accmem_open_idle();
	ASSERT_LE(0, t->fd);
	ASSERT_EQ(0, accmem_ioctl(t->fd, ACCMEM_IOC_ALLOC, &a));
	t->h = a.handle;
	t->dev_addr = a.dev_addr;
	t->dmabuf = accmem_export(t->fd, t->h, 0, size, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, t->dmabuf);
	t->map = accmem_mmap(t->dmabuf, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, t->map);
	accmem_fill(t->map, size, SEED);
}

/* The tenant unmaps and closes everything it has. */
static void tenant_leave(struct tenant *t)
{
	if (t->map != MAP_FAILED)
		munmap(t->map, t->size);
	if (t->dmabuf >= 0)
		close(t->dmabuf);
	if (t->fd >= 0)
		close(t->fd);
	tenant_init(t);
}

/*
 * Physical address of every page of the tenant's buffer, as accmem's
 * debugfs lists it. The memory never moves, so the addresses stay right
 * for as long as the buffer lives.
 */
static __u64 *buffer_pages(struct __test_metadata *_metadata,
			   const struct tenant *t)
{
	struct accmem_range r[MAX_RANGES];
	__u64 *pages, i, npages = t->size / pgsz(), missing = 0;
	int n;

	n = accmem_buffer_ranges(t->dev_addr, r, MAX_RANGES);
	ASSERT_LT(0, n) {
		TH_LOG("no ranges in debugfs (mounted?): %d", n);
	}
	ASSERT_GE(MAX_RANGES, n);
	pages = calloc(npages, sizeof(*pages));
	ASSERT_NE(NULL, pages);
	for (i = 0; i < npages; i++) {
		pages[i] = accmem_range_phys(r, n, i * pgsz());
		missing += pages[i] == ~0ULL;
	}
	EXPECT_EQ(0, missing);
	return pages;
}

/* Creates a pinned umem; returns the import id or -errno. */
static int rp_import(int rp, int dmabuf, __u64 offset, __u64 length,
		     struct accmem_rp_import *out)
{
	struct accmem_rp_import a = {
		.fd = dmabuf, .offset = offset, .length = length, .ibdev = RXE,
	};
	int ret = accmem_ioctl(rp, ACCMEM_RP_IMPORT, &a);

	if (out)
		*out = a;
	return ret ? ret : (int)a.id;
}

static int rp_release(int rp, __u32 id)
{
	return accmem_ioctl(rp, ACCMEM_RP_RELEASE, &id);
}

/* Reads or writes the memory at the umem's DMA addresses, like the NIC. */
static int rp_rw(int rp, __u32 id, int write, __u64 off, void *buf,
		 __u64 len)
{
	struct accmem_rp_rw a = {
		.id = id, .write = write, .offset = off, .len = len,
		.buf = (uintptr_t)buf,
	};

	return accmem_ioctl(rp, ACCMEM_RP_RW, &a);
}

/*
 * The physical address behind every DMA block of the umem, in order; *n:
 * how many. Without an IOMMU the DMA addresses are the physical ones.
 */
static __u64 *umem_pages(struct __test_metadata *_metadata, int rp, __u32 id,
			 bool iommu, __u64 *n)
{
	struct accmem_rp_blocks b = { .id = id };
	struct accmem_rp_run *runs;
	__u64 *pages, total = 0, i, off;

	ASSERT_EQ(0, accmem_ioctl(rp, ACCMEM_RP_BLOCKS, &b));
	runs = calloc(b.count, sizeof(*runs));
	ASSERT_NE(NULL, runs);
	b.runs = (uintptr_t)runs;
	ASSERT_EQ(0, accmem_ioctl(rp, ACCMEM_RP_BLOCKS, &b));
	for (i = 0; i < b.count; i++)
		total += runs[i].len / pgsz();
	pages = calloc(total + 1, sizeof(*pages));
	ASSERT_NE(NULL, pages);
	*n = 0;
	for (i = 0; i < b.count; i++) {
		if (!iommu)
			EXPECT_EQ(runs[i].phys, runs[i].addr);
		for (off = 0; off < runs[i].len; off += pgsz())
			pages[(*n)++] = runs[i].phys + off;
	}
	free(runs);
	return pages;
}

/*
 * The umem is [@off, @off + @len) of the dma-buf: the RDMA block iterator
 * walks exactly the pages holding it, at the addresses of @buf_pages.
 */
static void check_umem(struct __test_metadata *_metadata, int rp,
		       const struct accmem_rp_import *a, const __u64 *buf_pages,
		       __u64 off, __u64 len)
{
	__u64 first = off / pgsz();
	__u64 last = (off + len + pgsz() - 1) / pgsz();
	__u64 *pages, n, i;

	EXPECT_EQ(off, a->umem_address);
	EXPECT_EQ(len, a->umem_length);
	EXPECT_EQ(last - first, a->nblocks);
	pages = umem_pages(_metadata, rp, a->id, a->iommu, &n);
	ASSERT_EQ(last - first, n);
	for (i = 0; i < n; i++) {
		if (pages[i] != buf_pages[first + i]) {
			EXPECT_EQ(buf_pages[first + i], pages[i]) {
				TH_LOG("block %llu of the umem", i);
			}
			break;
		}
	}
	free(pages);
}

/*
 * Brings up rxe0, loads accmem_rdma_pinned, starts a tenant with a filled
 * SIZE dma-buf and records where its pages are. Returns NULL, or why the
 * RDMA core path cannot run here (a missing kernel feature: the SKIP
 * reason); fails the test on anything else.
 */
static const char *umem_prepare(struct __test_metadata *_metadata, int *rp,
				struct tenant *t, __u64 **pages)
{
	static char why[256];
	int ret, id;

	tenant_init(t);
	*rp = -1;
	ret = rxe_setup(why, sizeof(why));
	if (ret == -ENOENT)
		return why;
	ASSERT_EQ(0, ret) {
		TH_LOG("%s", why);
	}
	*rp = accmem_test_module_open(RP_DEV, "ACCMEM_RDMA_PINNED",
				      "accmem_rdma_pinned", RP_DEPS);
	ASSERT_LE(0, *rp) {
		TH_LOG("accmem_rdma_pinned test module missing: %s",
		       "ACCMEM_RDMA_PINNED=path.ko (needs ib_uverbs loaded)");
	}
	tenant_start(_metadata, t, SIZE);

	id = rp_import(*rp, t->dmabuf, 0, pgsz(), NULL);
	if (id == -EOPNOTSUPP) {
		snprintf(why, sizeof(why),
			 "this kernel does not export " UMEM_SYMBOL " (6.12+)");
		return why;
	}
	ASSERT_LT(0, id);
	EXPECT_EQ(0, rp_release(*rp, id));
	*pages = buffer_pages(_metadata, t);
	return NULL;
}

FIXTURE(umem)
{
	int rp;
	struct tenant t;
	__u64 *pages;
};

FIXTURE_SETUP(umem)
{
	const char *why;

	why = umem_prepare(_metadata, &self->rp, &self->t, &self->pages);
	if (why)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(umem)
{
	accmem_set_param("max_pin_bytes", 0);
	if (self->rp >= 0)
		close(self->rp);
	tenant_leave(&self->t);
	free(self->pages);
	EXPECT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
	EXPECT_EQ(0, accmem_sysfs_num("exports"));
}

TEST_F(umem, covers_dmabuf)
{
	struct accmem_rp_import a;
	int id;

	id = rp_import(self->rp, self->t.dmabuf, 0, SIZE, &a);
	ASSERT_LT(0, id);
	TH_LOG("%s imported through DMA device %s%s", RXE, a.dma_dev,
	       a.iommu ? ", behind an IOMMU" : "");
	check_umem(_metadata, self->rp, &a, self->pages, 0, SIZE);
	EXPECT_EQ(1, accmem_sysfs_num("pins"));
	EXPECT_EQ(0, rp_release(self->rp, id));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
}

TEST_F(umem, debugfs_names_dma_device)
{
	struct accmem_rp_import a;
	char line[512];
	int id, found = 0;
	FILE *f;

	id = rp_import(self->rp, self->t.dmabuf, 0, SIZE, &a);
	ASSERT_LT(0, id);
	f = fopen("/sys/kernel/debug/accmem/accmem0/buffers", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "attachment") && strstr(line, a.dma_dev) &&
		    strstr(line, "pinned"))
			found++;
	fclose(f);
	EXPECT_EQ(1, found);
	EXPECT_EQ(0, rp_release(self->rp, id));
}

TEST_F(umem, holds_tenancy)
{
	char *buf;
	int id;

	/* The seeds' scenario: an MR outlives tenant A. */
	id = rp_import(self->rp, self->t.dmabuf, 0, SIZE, NULL);
	ASSERT_LT(0, id);
	tenant_leave(&self->t);

	usleep(100000);
	accmem_expect_draining(_metadata);
	EXPECT_EQ(1, accmem_sysfs_num("exports"));
	EXPECT_EQ(1, accmem_sysfs_num("pins"));
	EXPECT_EQ(SIZE, (__u64)accmem_sysfs_num("mem_used"));

	/* the NIC still finds A's data at the umem's DMA addresses... */
	buf = malloc(SIZE);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, rp_rw(self->rp, id, 0, 0, buf, SIZE));
	EXPECT_EQ(-1, accmem_check(buf, SIZE, SEED));
	/* ...and a late write lands in A's memory, nowhere else */
	memset(buf, 0xa5, SIZE);
	ASSERT_EQ(0, rp_rw(self->rp, id, 1, 0, buf, SIZE));
	free(buf);
	EXPECT_EQ(-EBUSY, accmem_open());

	/* the MR goes: scrub, idle, and tenant B finds zeros */
	EXPECT_EQ(0, rp_release(self->rp, id));
	ASSERT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("exports"));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
	accmem_expect_all_zero(_metadata);
}

TEST_F(umem, file_close_releases)
{
	int id;

	/* the process holding the MR dies: its file closes */
	id = rp_import(self->rp, self->t.dmabuf, 0, SIZE, NULL);
	ASSERT_LT(0, id);
	tenant_leave(&self->t);
	usleep(100000);
	EXPECT_EQ(-EBUSY, accmem_open());
	ASSERT_EQ(0, close(self->rp));
	self->rp = -1;
	EXPECT_EQ(0, accmem_wait_idle(60));
}

TEST_F(umem, subrange_export)
{
	struct accmem_rp_import a;
	char *buf;
	int sub, id;

	/* a dma-buf of [2 MiB, 6 MiB), a umem of its [1 MiB, 2 MiB) */
	sub = accmem_export(self->t.fd, self->t.h, 2 * SZ_1M, 4 * SZ_1M,
			    O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, sub);
	id = rp_import(self->rp, sub, SZ_1M, SZ_1M, &a);
	ASSERT_LT(0, id);
	check_umem(_metadata, self->rp, &a, self->pages + 2 * SZ_1M / pgsz(),
		   SZ_1M, SZ_1M);

	/* it is bytes [3 MiB, 4 MiB) of the allocation */
	buf = malloc(SZ_1M);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, rp_rw(self->rp, id, 0, 0, buf, SZ_1M));
	EXPECT_EQ(0, memcmp(buf, self->t.map + 3 * SZ_1M, SZ_1M));
	free(buf);
	EXPECT_EQ(0, rp_release(self->rp, id));
	close(sub);
}

TEST_F(umem, outside_dmabuf_refused)
{
	EXPECT_EQ(-EINVAL, rp_import(self->rp, self->t.dmabuf,
				     SIZE - pgsz(), 2 * pgsz(), NULL));
	EXPECT_EQ(-EINVAL, rp_import(self->rp, self->t.dmabuf, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, rp_import(self->rp, self->t.dmabuf,
				     ~0ULL - pgsz() + 1, 2 * pgsz(), NULL));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
	EXPECT_EQ(1, accmem_sysfs_num("exports"));
}

TEST_F(umem, pin_limit)
{
	int id;

	/* what ibv_reg_dmabuf_mr() reports beyond the tenant's pin limit */
	ASSERT_EQ(0, accmem_set_param("max_pin_bytes", SIZE / 2));
	EXPECT_EQ(-EDQUOT, rp_import(self->rp, self->t.dmabuf, 0, SIZE, NULL));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
	ASSERT_EQ(0, accmem_set_param("max_pin_bytes", 0));
	id = rp_import(self->rp, self->t.dmabuf, 0, SIZE, NULL);
	EXPECT_LT(0, id);
	EXPECT_EQ(0, rp_release(self->rp, id));
}

FIXTURE(umem_range)
{
	int rp;
	struct tenant t;
	__u64 *pages;
};

FIXTURE_VARIANT(umem_range)
{
	__u64 offset;
	__u64 length;
};

FIXTURE_VARIANT_ADD(umem_range, first_page)
{
	.offset = 0,
	.length = 4096,
};

FIXTURE_VARIANT_ADD(umem_range, last_page)
{
	.offset = SIZE - 4096,
	.length = 4096,
};

/* PCI DMA devices take 64 KiB segments: start and end inside one */
FIXTURE_VARIANT_ADD(umem_range, inside_segment)
{
	.offset = 68 * 1024,
	.length = 8192,
};

FIXTURE_VARIANT_ADD(umem_range, across_segments)
{
	.offset = 60 * 1024,
	.length = 72 * 1024,
};

/* across the emulated backend's 4 MiB blocks */
FIXTURE_VARIANT_ADD(umem_range, across_blocks)
{
	.offset = 4 * SZ_1M - 8192,
	.length = 16384,
};

/* an offset inside a page: the umem holds the pages around the range */
FIXTURE_VARIANT_ADD(umem_range, unaligned)
{
	.offset = 4096 + 100,
	.length = 8192,
};

FIXTURE_SETUP(umem_range)
{
	const char *why;

	why = umem_prepare(_metadata, &self->rp, &self->t, &self->pages);
	if (why)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(umem_range)
{
	close(self->rp);
	tenant_leave(&self->t);
	free(self->pages);
	EXPECT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
}

TEST_F(umem_range, covers_range)
{
	struct accmem_rp_import a;
	int id;

	id = rp_import(self->rp, self->t.dmabuf, variant->offset,
		       variant->length, &a);
	ASSERT_LT(0, id);
	check_umem(_metadata, self->rp, &a, self->pages, variant->offset,
		   variant->length);
	EXPECT_EQ(0, rp_release(self->rp, id));
}

TEST_F(umem_range, dma_reaches_range)
{
	__u64 in_page = variant->offset % pgsz();
	char *buf;
	int id;

	id = rp_import(self->rp, self->t.dmabuf, variant->offset,
		       variant->length, NULL);
	ASSERT_LT(0, id);
	buf = malloc(variant->length);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, rp_rw(self->rp, id, 0, in_page, buf, variant->length));
	EXPECT_EQ(0, memcmp(buf, self->t.map + variant->offset,
			    variant->length));
	/* past the umem's last block: nothing to reach */
	EXPECT_EQ(-EINVAL, rp_rw(self->rp, id, 0,
				 in_page + variant->length + pgsz(), buf, 1));
	free(buf);
	EXPECT_EQ(0, rp_release(self->rp, id));
}

/*
 * User-space verbs, the way a runtime uses accmem with an RDMA NIC:
 *
 *   dmabuf = ACCMEM_IOC_EXPORT(handle, offset, length, O_RDWR)
 *   mr = ibv_reg_dmabuf_mr(pd, offset_in_dmabuf, length, iova, dmabuf,
 *                          access)
 *   ... the peer writes to iova + n with mr->rkey: the bytes land at
 *   offset_in_dmabuf + n of the dma-buf ...
 *   ibv_dereg_mr(mr)    (until then the tenancy lives on)
 *
 * Here the peer is a second QP of the same device, connected back to back.
 */
#define VSIZE		(2 * SZ_1M)
#define SRC_LEN		(64 * 1024)
#define MR_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ)

struct rdma_port {
	uint8_t num;
	struct ibv_port_attr attr;
	union ibv_gid gid;
	int gid_index;
};

/* Port 1 and, on RoCE, its first GID: the loopback QPs' address. */
static int port_query(struct ibv_context *ctx, struct rdma_port *p)
{
	int i;

	p->num = 1;
	p->gid_index = -1;
	if (ibv_query_port(ctx, p->num, &p->attr))
		return -errno;
	if (p->attr.link_layer != IBV_LINK_LAYER_ETHERNET)
		return 0;
	for (i = 0; i < p->attr.gid_tbl_len; i++) {
		if (ibv_query_gid(ctx, p->num, i, &p->gid))
			continue;
		if (p->gid.global.subnet_prefix || p->gid.global.interface_id) {
			p->gid_index = i;
			return 0;
		}
	}
	return -ENOENT;
}

/* libibverbs returns an errno value, or -1 with errno set. */
static int verbs_err(int ret)
{
	return ret > 0 ? -ret : ret ? -errno : 0;
}

/* INIT -> RTR -> RTS, connected to QP @remote on the same port. */
static int qp_connect(struct ibv_qp *qp, uint32_t remote,
		      const struct rdma_port *p)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = p->num,
		.qp_access_flags = MR_ACCESS,
	};
	int ret;

	ret = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			    IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
	if (ret)
		return verbs_err(ret);

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = p->attr.active_mtu;
	a.dest_qp_num = remote;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.port_num = p->num;
	a.ah_attr.dlid = p->attr.lid;
	if (p->gid_index >= 0) {
		a.ah_attr.is_global = 1;
		a.ah_attr.grh.dgid = p->gid;
		a.ah_attr.grh.sgid_index = p->gid_index;
		a.ah_attr.grh.hop_limit = 1;
	}
	ret = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV |
			    IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
			    IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
			    IBV_QP_MIN_RNR_TIMER);
	if (ret)
		return verbs_err(ret);

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 1;
	ret = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			    IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			    IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
	return verbs_err(ret);
}

static struct ibv_qp *rc_qp(struct ibv_pd *pd, struct ibv_cq *cq)
{
	struct ibv_qp_init_attr a = {
		.send_cq = cq,
		.recv_cq = cq,
		.cap = {
			.max_send_wr = 4, .max_recv_wr = 4,
			.max_send_sge = 1, .max_recv_sge = 1,
		},
		.qp_type = IBV_QPT_RC,
	};

	return ibv_create_qp(pd, &a);
}

/* The RDMA device named $ACCMEM_RDMA_DEV, else the first one. */
static struct ibv_context *rdma_open(void)
{
	const char *want = getenv("ACCMEM_RDMA_DEV");
	struct ibv_context *ctx = NULL;
	struct ibv_device **list;
	int i, n;

	list = ibv_get_device_list(&n);
	if (!list)
		return NULL;
	for (i = 0; i < n && !ctx; i++)
		if (!want || !strcmp(want, ibv_get_device_name(list[i])))
			ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	return ctx;
}

/* Two RC QPs of one device connected back to back, and a source buffer. */
struct loopback {
	struct ibv_cq *cq;
	struct ibv_qp *qp[2];
	struct ibv_mr *src_mr;
	char *src;
};

FIXTURE(verbs)
{
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct loopback lb;
	char name[64];
	int fd;
	int dmabuf;
	char *map;
};

FIXTURE_SETUP(verbs)
{
	struct rdma_port port;
	char why[256];
	int h, ret;

	self->fd = -1;
	self->dmabuf = -1;
	self->map = MAP_FAILED;
	self->ctx = rdma_open();
	if (!self->ctx) {
		ret = rxe_setup(why, sizeof(why));
		if (ret == -ENOENT)
			SKIP(return, "no RDMA device: %s", why);
		ASSERT_EQ(0, ret) {
			TH_LOG("%s", why);
		}
		self->ctx = rdma_open();
	}
	if (!self->ctx)
		SKIP(return, "no RDMA device with user verbs (module ib_uverbs)");
	snprintf(self->name, sizeof(self->name), "%s",
		 ibv_get_device_name(self->ctx->device));

	self->pd = ibv_alloc_pd(self->ctx);
	ASSERT_NE(NULL, self->pd);
	self->lb.cq = ibv_create_cq(self->ctx, 16, NULL, NULL, 0);
	ASSERT_NE(NULL, self->lb.cq);
	self->lb.qp[0] = rc_qp(self->pd, self->lb.cq);
	ASSERT_NE(NULL, self->lb.qp[0]);
	self->lb.qp[1] = rc_qp(self->pd, self->lb.cq);
	ASSERT_NE(NULL, self->lb.qp[1]);
	ASSERT_EQ(0, port_query(self->ctx, &port));
	ASSERT_EQ(0, qp_connect(self->lb.qp[0], self->lb.qp[1]->qp_num, &port));
	ASSERT_EQ(0, qp_connect(self->lb.qp[1], self->lb.qp[0]->qp_num, &port));

	self->lb.src = aligned_alloc(pgsz(), SRC_LEN);
	ASSERT_NE(NULL, self->lb.src);
	accmem_fill(self->lb.src, SRC_LEN, SEED);
	self->lb.src_mr = ibv_reg_mr(self->pd, self->lb.src, SRC_LEN,
				     IBV_ACCESS_LOCAL_WRITE);
	ASSERT_NE(NULL, self->lb.src_mr);

	self->fd = accmem_open_idle();
	ASSERT_LE(0, self->fd);
	h = accmem_alloc(self->fd, VSIZE, 0, 0);
	ASSERT_LT(0, h);
	self->dmabuf = accmem_export(self->fd, h, 0, VSIZE,
				     O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dmabuf);
	self->map = accmem_mmap(self->dmabuf, VSIZE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, self->map);
}

FIXTURE_TEARDOWN(verbs)
{
	ibv_dereg_mr(self->lb.src_mr);
	free(self->lb.src);
	ibv_destroy_qp(self->lb.qp[1]);
	ibv_destroy_qp(self->lb.qp[0]);
	ibv_destroy_cq(self->lb.cq);
	ibv_dealloc_pd(self->pd);
	ibv_close_device(self->ctx);
	if (self->map != MAP_FAILED)
		munmap(self->map, VSIZE);
	if (self->dmabuf >= 0)
		close(self->dmabuf);
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
}

/*
 * RDMA WRITE of the first @len source bytes to @raddr with @rkey, from QP 0
 * to QP 1; waits for its completion.
 */
static int rdma_write(struct __test_metadata *_metadata, struct loopback *lb,
		      __u64 raddr, __u32 rkey, __u32 len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)lb->src,
		.length = len,
		.lkey = lb->src_mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = 1,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IBV_WR_RDMA_WRITE,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	double end = accmem_now() + 20;
	struct ibv_wc wc;
	int n, ret;

	wr.wr.rdma.remote_addr = raddr;
	wr.wr.rdma.rkey = rkey;
	ret = ibv_post_send(lb->qp[0], &wr, &bad);
	if (ret)
		return verbs_err(ret);
	while (!(n = ibv_poll_cq(lb->cq, 1, &wc)) && accmem_now() < end)
		usleep(1000);
	if (n < 0)
		return -EIO;
	if (!n)
		return -ETIMEDOUT;
	if (wc.status != IBV_WC_SUCCESS) {
		TH_LOG("completion: %s", ibv_wc_status_str(wc.status));
		return -EIO;
	}
	return 0;
}

/* What rxe (and every device without dma-buf MRs) answers: a SKIP. */
#define NO_DMABUF_MR \
	"%s: ibv_reg_dmabuf_mr: EOPNOTSUPP (no dma-buf MR support in this RDMA device)"

/* Control: the loopback QPs carry an RDMA WRITE into host memory. */
TEST_F(verbs, loopback_write_host_memory)
{
	struct ibv_mr *mr;
	char *dst;

	dst = aligned_alloc(pgsz(), SRC_LEN);
	ASSERT_NE(NULL, dst);
	memset(dst, 0, SRC_LEN);
	mr = ibv_reg_mr(self->pd, dst, SRC_LEN, MR_ACCESS);
	ASSERT_NE(NULL, mr);
	ASSERT_EQ(0, rdma_write(_metadata, &self->lb, (uintptr_t)dst + 4096,
				mr->rkey, 8192));
	EXPECT_EQ(0, memcmp(dst + 4096, self->lb.src, 8192));
	EXPECT_EQ(-1, accmem_check_zero(dst, 4096));
	EXPECT_EQ(0, ibv_dereg_mr(mr));
	free(dst);
}

/* The CPU mapping is VM_PFNMAP|VM_IO: it cannot be pinned as an MR. */
TEST_F(verbs, reg_mr_on_cpu_mapping_refused)
{
	struct ibv_mr *mr;

	mr = ibv_reg_mr(self->pd, self->map, VSIZE, MR_ACCESS);
	EXPECT_EQ(NULL, mr);
	EXPECT_EQ(EFAULT, errno);
	if (mr)
		ibv_dereg_mr(mr);
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
}

TEST_F(verbs, dmabuf_mr_rdma_write)
{
	struct ibv_mr *mr;

	mr = ibv_reg_dmabuf_mr(self->pd, 0, VSIZE, 0, self->dmabuf,
			       MR_ACCESS);
	if (!mr && errno == EOPNOTSUPP)
		SKIP(return, NO_DMABUF_MR, self->name);
	ASSERT_NE(NULL, mr) {
		TH_LOG("ibv_reg_dmabuf_mr: %s", strerror(errno));
	}
	EXPECT_EQ(1, accmem_sysfs_num("pins"));
	ASSERT_EQ(0, rdma_write(_metadata, &self->lb, 4096, mr->rkey, SRC_LEN));

	ASSERT_EQ(0, accmem_sync(self->dmabuf,
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(-1, accmem_check(self->map + 4096, SRC_LEN, SEED));
	EXPECT_EQ(-1, accmem_check_zero(self->map, 4096));
	EXPECT_EQ(-1, accmem_check_zero(self->map + 4096 + SRC_LEN,
					VSIZE - 4096 - SRC_LEN));
	ASSERT_EQ(0, accmem_sync(self->dmabuf,
				 DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	EXPECT_EQ(0, ibv_dereg_mr(mr));
}

TEST_F(verbs, dmabuf_mr_offset_and_iova)
{
	const __u64 offset = SZ_1M, iova = 0x10000000;
	struct ibv_mr *mr;

	/* the page offsets of offset and iova must agree */
	mr = ibv_reg_dmabuf_mr(self->pd, offset, SZ_1M, iova, self->dmabuf,
			       MR_ACCESS);
	if (!mr && errno == EOPNOTSUPP)
		SKIP(return, NO_DMABUF_MR, self->name);
	ASSERT_NE(NULL, mr) {
		TH_LOG("ibv_reg_dmabuf_mr: %s", strerror(errno));
	}
	ASSERT_EQ(0, rdma_write(_metadata, &self->lb, iova + 8192, mr->rkey,
				SRC_LEN));

	/* iova + n is byte offset + n of the dma-buf */
	ASSERT_EQ(0, accmem_sync(self->dmabuf,
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(-1, accmem_check(self->map + offset + 8192, SRC_LEN, SEED));
	EXPECT_EQ(-1, accmem_check_zero(self->map, offset + 8192));
	ASSERT_EQ(0, accmem_sync(self->dmabuf,
				 DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	EXPECT_EQ(0, ibv_dereg_mr(mr));
}

TEST_F(verbs, dmabuf_mr_holds_tenancy)
{
	struct ibv_mr *mr;

	mr = ibv_reg_dmabuf_mr(self->pd, 0, VSIZE, 0, self->dmabuf,
			       MR_ACCESS);
	if (!mr && errno == EOPNOTSUPP)
		SKIP(return, NO_DMABUF_MR, self->name);
	ASSERT_NE(NULL, mr) {
		TH_LOG("ibv_reg_dmabuf_mr: %s", strerror(errno));
	}
	ASSERT_EQ(0, munmap(self->map, VSIZE));
	self->map = MAP_FAILED;
	ASSERT_EQ(0, close(self->dmabuf));
	ASSERT_EQ(0, close(self->fd));
	self->dmabuf = -1;
	self->fd = -1;

	/* the MR alone keeps the tenancy, and still takes writes */
	usleep(100000);
	accmem_expect_draining(_metadata);
	EXPECT_EQ(0, rdma_write(_metadata, &self->lb, 0, mr->rkey, SRC_LEN));

	EXPECT_EQ(0, ibv_dereg_mr(mr));
	ASSERT_EQ(0, accmem_wait_idle(60));
	accmem_expect_all_zero(_metadata);
}

TEST_HARNESS_MAIN
