// SPDX-License-Identifier: GPL-2.0
/*
 * accmem dma-bufs registered as RDMA MRs through user-space verbs (fixture
 * verbs): what a runtime does with accmem and a NIC. ibv_reg_dmabuf_mr()
 * on the dma-buf, RDMA WRITE, READ and atomics over a loopback RC QP into
 * it, the result read through the CPU mapping and (PCI backend) straight
 * from the BAR. The RDMA core's pinned import is tested by rdma_umem.c.
 *
 * rxe has no dma-buf MRs upstream, neither in the kernel nor in rdma-core's
 * provider: the dma-buf MR tests skip on stock kernels, naming which half
 * is missing. The debug kernels carry a TEST-ONLY rxe patch that adds them
 * (scripts/debug-patches/, through dma_buf_vmap()), and scripts/check runs
 * this program with a TEST-ONLY libibverbs and rxe provider that have them
 * (scripts/rdma-core; $ACCMEM_RDMA_CORE names it, selftests/run.sh puts
 * it in LD_LIBRARY_PATH, and its libibverbs loads only that provider).
 * The exports are made with pci_vmap=allow and are contiguous: on the PCI
 * backend the patched rxe reads and writes the BAR through an I/O map
 * (iosys_map), and refuses atomics there.
 *
 * Without an RDMA device, rxe0 is set up (accmem_rdma.h). ACCMEM_RDMA_DEV
 * picks the verbs device (default: the first one).
 */
#include <infiniband/verbs.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"
#include "accmem_harness.h"
#include "accmem_rdma.h"

#define SEED		0x4d4a5eedu

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
#define ATOMIC_ACCESS	(MR_ACCESS | IBV_ACCESS_REMOTE_ATOMIC)

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
		.qp_access_flags = ATOMIC_ACCESS,
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

/*
 * Two RC QPs of one device connected back to back, a source buffer and a
 * destination buffer (for RDMA READ and atomics) in host memory.
 */
struct loopback {
	struct ibv_cq *cq;
	struct ibv_qp *qp[2];
	struct ibv_mr *src_mr;
	char *src;
	struct ibv_mr *dst_mr;
	char *dst;
};

FIXTURE(verbs)
{
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct loopback lb;
	char name[64];
	struct accmem_tenant t;	/* a VSIZE dma-buf, contiguous, mapped */
	bool pci;		/* PCI backend: the dma-buf is BAR memory */
};

FIXTURE_SETUP(verbs)
{
	struct rdma_port port;
	char why[256], old[32];
	int ret;

	accmem_tenant_init(&self->t);
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
	self->lb.dst = aligned_alloc(pgsz(), SRC_LEN);
	ASSERT_NE(NULL, self->lb.dst);
	memset(self->lb.dst, 0, SRC_LEN);
	self->lb.dst_mr = ibv_reg_mr(self->pd, self->lb.dst, SRC_LEN,
				     IBV_ACCESS_LOCAL_WRITE);
	ASSERT_NE(NULL, self->lb.dst_mr);

	/*
	 * On the PCI backend the dma-buf may be vmapped only when exported
	 * with pci_vmap=allow (the patched rxe handles I/O maps), and only
	 * in one contiguous piece of the BAR.
	 */
	ASSERT_EQ(0, accmem_pci_vmap_allow(old, sizeof(old)));
	ret = accmem_tenant_start(&self->t, VSIZE, ACCMEM_TENANT_MAP |
				  ACCMEM_TENANT_CONTIGUOUS, 0);
	ASSERT_EQ(0, accmem_set_param_str("pci_vmap", old));
	ASSERT_EQ(0, ret);
	self->pci = self->t.info.backend == ACCMEM_BACKEND_PCI;
}

FIXTURE_TEARDOWN(verbs)
{
	ibv_dereg_mr(self->lb.dst_mr);
	free(self->lb.dst);
	ibv_dereg_mr(self->lb.src_mr);
	free(self->lb.src);
	ibv_destroy_qp(self->lb.qp[1]);
	ibv_destroy_qp(self->lb.qp[0]);
	ibv_destroy_cq(self->lb.cq);
	ibv_dealloc_pd(self->pd);
	ibv_close_device(self->ctx);
	accmem_tenant_leave(&self->t);
	EXPECT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
}

struct cq_wait {
	struct ibv_cq *cq;
	struct ibv_wc wc;
	int n;		/* completions polled, or < 0 */
};

/* The CQ has a completion for us (in wc), or polling it failed. */
static int cq_completion(void *arg)
{
	struct cq_wait *w = arg;

	w->n = ibv_poll_cq(w->cq, 1, &w->wc);
	return w->n != 0;
}

/*
 * Posts @wr on QP 0 (to QP 1) and waits for its completion. Returns 0, or
 * -EIO with the completion's status in @status (if not NULL).
 */
static int post_wait(struct __test_metadata *_metadata, struct loopback *lb,
		     struct ibv_send_wr *wr, enum ibv_wc_status *status)
{
	struct cq_wait w = { .cq = lb->cq };
	struct ibv_send_wr *bad;
	int ret;

	wr->wr_id = 1;
	wr->num_sge = 1;
	wr->send_flags = IBV_SEND_SIGNALED;
	ret = ibv_post_send(lb->qp[0], wr, &bad);
	if (ret)
		return verbs_err(ret);
	accmem_poll(cq_completion, &w, 20);
	if (w.n < 0)
		return -EIO;
	if (!w.n)
		return -ETIMEDOUT;
	if (status)
		*status = w.wc.status;
	if (w.wc.status != IBV_WC_SUCCESS) {
		TH_LOG("completion: %s", ibv_wc_status_str(w.wc.status));
		return -EIO;
	}
	return 0;
}

/*
 * RDMA WRITE of the first @len source bytes, or RDMA READ of @len bytes into
 * the destination, at @raddr with @rkey, from QP 0 to QP 1; waits for its
 * completion.
 */
static int rdma_rw(struct __test_metadata *_metadata, struct loopback *lb,
		   enum ibv_wr_opcode opcode, __u64 raddr, __u32 rkey,
		   __u32 len)
{
	bool rd = opcode == IBV_WR_RDMA_READ;
	struct ibv_sge sge = {
		.addr = (uintptr_t)(rd ? lb->dst : lb->src),
		.length = len,
		.lkey = rd ? lb->dst_mr->lkey : lb->src_mr->lkey,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sge,
		.opcode = opcode,
	};

	if (rd)
		memset(lb->dst, 0, len);
	wr.wr.rdma.remote_addr = raddr;
	wr.wr.rdma.rkey = rkey;
	return post_wait(_metadata, lb, &wr, NULL);
}

static int rdma_write(struct __test_metadata *_metadata, struct loopback *lb,
		      __u64 raddr, __u32 rkey, __u32 len)
{
	return rdma_rw(_metadata, lb, IBV_WR_RDMA_WRITE, raddr, rkey, len);
}

static int rdma_read(struct __test_metadata *_metadata, struct loopback *lb,
		     __u64 raddr, __u32 rkey, __u32 len)
{
	return rdma_rw(_metadata, lb, IBV_WR_RDMA_READ, raddr, rkey, len);
}

/*
 * Atomic @opcode (compare and swap, fetch and add) on the u64 at @raddr;
 * the old value lands in the first 8 bytes of the destination.
 */
static int rdma_atomic(struct __test_metadata *_metadata, struct loopback *lb,
		       enum ibv_wr_opcode opcode, __u64 raddr, __u32 rkey,
		       __u64 compare_add, __u64 swap,
		       enum ibv_wc_status *status)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)lb->dst,
		.length = sizeof(__u64),
		.lkey = lb->dst_mr->lkey,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sge,
		.opcode = opcode,
	};

	memset(lb->dst, 0, sizeof(__u64));
	wr.wr.atomic.remote_addr = raddr;
	wr.wr.atomic.rkey = rkey;
	wr.wr.atomic.compare_add = compare_add;
	wr.wr.atomic.swap = swap;
	return post_wait(_metadata, lb, &wr, status);
}

/*
 * Why ibv_reg_dmabuf_mr() said EOPNOTSUPP: with the provider of
 * scripts/rdma-core ($ACCMEM_RDMA_CORE) it was the kernel (uverbs answers
 * so for a driver without reg_user_mr_dmabuf: rxe on stock kernels), else
 * the provider itself (rdma-core's rxe has no reg_dmabuf_mr).
 */
static const char *no_dmabuf_mr_why(void)
{
	if (getenv("ACCMEM_RDMA_CORE"))
		return "kernel without reg_user_mr_dmabuf (rxe: debug kernels' TEST-ONLY patch)";
	return "provider without reg_dmabuf_mr (rxe: scripts/rdma-core's TEST-ONLY one)";
}

/*
 * Registers bytes [@offset, @offset + @len) of @dmabuf as an MR at @iova
 * with @access. Returns it; NULL when device @dev has no dma-buf MRs: the
 * test SKIPs (and returns), saying why; fails on any other error.
 */
static struct ibv_mr *dmabuf_mr(struct __test_metadata *_metadata,
				struct ibv_pd *pd, const char *dev, int dmabuf,
				__u64 offset, __u64 len, __u64 iova, int access)
{
	struct ibv_mr *mr;

	mr = ibv_reg_dmabuf_mr(pd, offset, len, iova, dmabuf, access);
	if (!mr && errno == EOPNOTSUPP)
		SKIP(return NULL, "%s: ibv_reg_dmabuf_mr: EOPNOTSUPP: %s", dev,
		     no_dmabuf_mr_why());
	ASSERT_NE(NULL, mr) {
		TH_LOG("ibv_reg_dmabuf_mr: %s", strerror(errno));
	}
	return mr;
}

/* The CPU physical address of the tenant's (contiguous) buffer, or 0. */
static __u64 buffer_phys(const struct accmem_tenant *t)
{
	struct accmem_phys_range r = { };

	return accmem_buffer_ranges(t->dev_addr, &r, 1) == 1 ? r.phys : 0;
}

/*
 * PCI backend: @len bytes at CPU physical address @phys, straight from the
 * BAR: the PCI device's sysfs resource file mapped (not accmem's dma-buf),
 * the device memory as the host's CPU sees it. Checks that they are @len
 * source bytes from @seed. (The debug kernels have no IO_STRICT_DEVMEM,
 * which would refuse to map a BAR that a driver has claimed.)
 */
static void expect_in_bar(struct __test_metadata *_metadata, __u64 phys,
			  __u64 len, __u32 seed)
{
	unsigned long long s = 0, e = 0, fl;
	char path[256], res[64];
	__u64 at, map_off;
	int i = 0, fd;
	char *p;
	FILE *f;

	accmem_dev_file(path, sizeof(path), ACCMEM_SYSFS, "device/resource");
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fscanf(f, "%llx %llx %llx", &s, &e, &fl) == 3) {
		if (e > s && phys >= s && phys + len - 1 <= e)
			break;
		i++;
	}
	fclose(f);
	ASSERT_TRUE(e > s && phys >= s && phys + len - 1 <= e) {
		TH_LOG("no BAR holds %#llx", (unsigned long long)phys);
	}
	snprintf(res, sizeof(res), "device/resource%d", i);
	accmem_dev_file(path, sizeof(path), ACCMEM_SYSFS, res);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) {
		TH_LOG("open %s: %s", path, strerror(errno));
	}
	at = phys - s;
	map_off = at & ~(pgsz() - 1);
	p = mmap(NULL, at - map_off + len, PROT_READ, MAP_SHARED, fd, map_off);
	close(fd);
	ASSERT_NE(MAP_FAILED, p) {
		TH_LOG("mmap %s: %s", path, strerror(errno));
	}
	EXPECT_EQ(-1, accmem_check(p + (at - map_off), len, seed));
	munmap(p, at - map_off + len);
}

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

	mr = ibv_reg_mr(self->pd, self->t.map, VSIZE, MR_ACCESS);
	EXPECT_EQ(NULL, mr);
	EXPECT_EQ(EFAULT, errno);
	if (mr)
		ibv_dereg_mr(mr);
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
}

/*
 * RDMA WRITE into the dma-buf MR from the other QP, RDMA READ back; the
 * bytes are where they belong in the dma-buf's CPU mapping and (PCI) in
 * the BAR, and nowhere else.
 */
TEST_F(verbs, dmabuf_mr_rdma_write_read)
{
	struct ibv_mr *mr;

	mr = dmabuf_mr(_metadata, self->pd, self->name, self->t.dmabuf, 0,
		       VSIZE, 0, MR_ACCESS);
	if (!mr)
		return;
	EXPECT_EQ(1, accmem_sysfs_num("pins"));
	ASSERT_EQ(0, rdma_write(_metadata, &self->lb, 4096, mr->rkey, SRC_LEN));
	ASSERT_EQ(0, rdma_read(_metadata, &self->lb, 4096, mr->rkey, SRC_LEN));
	EXPECT_EQ(-1, accmem_check(self->lb.dst, SRC_LEN, SEED));

	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(-1, accmem_check(self->t.map + 4096, SRC_LEN, SEED));
	EXPECT_EQ(-1, accmem_check_zero(self->t.map, 4096));
	EXPECT_EQ(-1, accmem_check_zero(self->t.map + 4096 + SRC_LEN,
					VSIZE - 4096 - SRC_LEN));
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	if (self->pci)
		expect_in_bar(_metadata, buffer_phys(&self->t) + 4096, SRC_LEN,
			      SEED);
	EXPECT_EQ(0, ibv_dereg_mr(mr));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
}

TEST_F(verbs, dmabuf_mr_offset_and_iova)
{
	const __u64 offset = SZ_1M, iova = 0x10000000;
	struct ibv_mr *mr;

	/* the page offsets of offset and iova must agree */
	mr = dmabuf_mr(_metadata, self->pd, self->name, self->t.dmabuf,
		       offset, SZ_1M, iova, MR_ACCESS);
	if (!mr)
		return;
	ASSERT_EQ(0, rdma_write(_metadata, &self->lb, iova + 8192, mr->rkey,
				SRC_LEN));
	ASSERT_EQ(0, rdma_read(_metadata, &self->lb, iova + 8192, mr->rkey,
			       SRC_LEN));
	EXPECT_EQ(-1, accmem_check(self->lb.dst, SRC_LEN, SEED));
	/* nothing of the MR is below its iova, nor past its end */
	EXPECT_EQ(-EIO, rdma_read(_metadata, &self->lb, iova - 4096, mr->rkey,
				  4096));

	/* iova + n is byte offset + n of the dma-buf */
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(-1, accmem_check(self->t.map + offset + 8192, SRC_LEN, SEED));
	EXPECT_EQ(-1, accmem_check_zero(self->t.map, offset + 8192));
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	if (self->pci)
		expect_in_bar(_metadata, buffer_phys(&self->t) + offset + 8192,
			      SRC_LEN, SEED);
	EXPECT_EQ(0, ibv_dereg_mr(mr));
}

/*
 * The MR alone keeps the tenancy (every fd closed: nobody else can open the
 * device) and its memory: still written, read, and (PCI) in the BAR.
 * ibv_dereg_mr() ends it; the next tenant finds all memory zeroed.
 */
TEST_F(verbs, dmabuf_mr_holds_tenancy)
{
	__u64 phys = buffer_phys(&self->t);
	struct ibv_mr *mr;

	mr = dmabuf_mr(_metadata, self->pd, self->name, self->t.dmabuf, 0,
		       VSIZE, 0, MR_ACCESS);
	if (!mr)
		return;
	if (self->pci)
		ASSERT_NE(0, phys);
	ASSERT_EQ(0, accmem_tenant_leave_held(&self->t));
	accmem_expect_draining(_metadata);
	EXPECT_EQ(0, rdma_write(_metadata, &self->lb, SZ_1M, mr->rkey, SRC_LEN));
	EXPECT_EQ(0, rdma_read(_metadata, &self->lb, SZ_1M, mr->rkey, SRC_LEN));
	EXPECT_EQ(-1, accmem_check(self->lb.dst, SRC_LEN, SEED));
	if (self->pci)
		expect_in_bar(_metadata, phys + SZ_1M, SRC_LEN, SEED);
	EXPECT_EQ(1, accmem_sysfs_num("pins"));
	EXPECT_EQ(-EBUSY, accmem_open());

	EXPECT_EQ(0, ibv_dereg_mr(mr));
	ASSERT_EQ(0, accmem_wait_idle(60));
	accmem_expect_all_zero(_metadata);
}

/*
 * Atomics on a dma-buf MR: in system memory (emulated backend) compare and
 * swap and fetch and add work; in BAR memory (PCI) the patched rxe refuses
 * atomic access at registration (EOPNOTSUPP), and an MR without it answers
 * an atomic with a remote access error, the memory untouched.
 */
TEST_F(verbs, dmabuf_mr_atomics)
{
	enum ibv_wc_status st = IBV_WC_SUCCESS;
	struct ibv_mr *mr;
	__u64 *word = (__u64 *)(self->t.map + 8192);

	mr = dmabuf_mr(_metadata, self->pd, self->name, self->t.dmabuf, 0,
		       VSIZE, 0, MR_ACCESS);
	if (!mr)
		return;
	if (self->pci) {
		EXPECT_EQ(NULL, ibv_reg_dmabuf_mr(self->pd, 0, VSIZE, 0,
						  self->t.dmabuf,
						  ATOMIC_ACCESS));
		EXPECT_EQ(EOPNOTSUPP, errno);
		EXPECT_EQ(-EIO, rdma_atomic(_metadata, &self->lb,
					    IBV_WR_ATOMIC_CMP_AND_SWP, 8192,
					    mr->rkey, 0, 0x5eed, &st));
		EXPECT_EQ(IBV_WC_REM_ACCESS_ERR, st);
		EXPECT_EQ(0, *word);
		EXPECT_EQ(0, ibv_dereg_mr(mr));
		return;
	}
	EXPECT_EQ(0, ibv_dereg_mr(mr));

	mr = dmabuf_mr(_metadata, self->pd, self->name, self->t.dmabuf, 0,
		       VSIZE, 0, ATOMIC_ACCESS);
	ASSERT_NE(NULL, mr);
	*word = 41;
	ASSERT_EQ(0, rdma_atomic(_metadata, &self->lb, IBV_WR_ATOMIC_FETCH_AND_ADD,
				 8192, mr->rkey, 1, 0, NULL));
	EXPECT_EQ(41, *(__u64 *)self->lb.dst);
	EXPECT_EQ(42, *word);
	/* compare fails: no swap */
	ASSERT_EQ(0, rdma_atomic(_metadata, &self->lb, IBV_WR_ATOMIC_CMP_AND_SWP,
				 8192, mr->rkey, 7, 0x5eed, NULL));
	EXPECT_EQ(42, *(__u64 *)self->lb.dst);
	EXPECT_EQ(42, *word);
	ASSERT_EQ(0, rdma_atomic(_metadata, &self->lb, IBV_WR_ATOMIC_CMP_AND_SWP,
				 8192, mr->rkey, 42, 0x5eed, NULL));
	EXPECT_EQ(42, *(__u64 *)self->lb.dst);
	EXPECT_EQ(0x5eed, *word);
	EXPECT_EQ(0, ibv_dereg_mr(mr));
}

TEST_HARNESS_MAIN
