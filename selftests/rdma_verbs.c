// SPDX-License-Identifier: GPL-2.0
/*
 * accmem dma-bufs registered as RDMA MRs through user-space verbs (fixture
 * verbs): what a runtime does with accmem and a NIC. ibv_reg_dmabuf_mr()
 * on the dma-buf, an RDMA WRITE over a loopback RC QP into it, the result
 * read through the CPU mapping. rxe has no dma-buf MRs, so those tests skip
 * in QEMU; the same QP carries a write into host memory there, so that
 * everything but the dma-buf MR is exercised. The RDMA core's pinned
 * import is tested by rdma_umem.c.
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
	struct accmem_tenant t;	/* a VSIZE dma-buf, mapped */
};

FIXTURE_SETUP(verbs)
{
	struct rdma_port port;
	char why[256];
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

	ASSERT_EQ(0, accmem_tenant_start(&self->t, VSIZE,
					 ACCMEM_TENANT_MAP, 0));
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
	struct cq_wait w = { .cq = lb->cq };
	int ret;

	wr.wr.rdma.remote_addr = raddr;
	wr.wr.rdma.rkey = rkey;
	ret = ibv_post_send(lb->qp[0], &wr, &bad);
	if (ret)
		return verbs_err(ret);
	accmem_poll(cq_completion, &w, 20);
	if (w.n < 0)
		return -EIO;
	if (!w.n)
		return -ETIMEDOUT;
	if (w.wc.status != IBV_WC_SUCCESS) {
		TH_LOG("completion: %s", ibv_wc_status_str(w.wc.status));
		return -EIO;
	}
	return 0;
}

/* What rxe (and every device without dma-buf MRs) answers: a SKIP. */
#define NO_DMABUF_MR \
	"%s: ibv_reg_dmabuf_mr: EOPNOTSUPP (no dma-buf MR support in this RDMA device)"

/*
 * Registers bytes [@offset, @offset + @len) of @dmabuf as an MR at @iova.
 * Returns it; NULL when device @dev has no dma-buf MRs: the test SKIPs
 * (and returns); fails on any other error.
 */
static struct ibv_mr *dmabuf_mr(struct __test_metadata *_metadata,
				struct ibv_pd *pd, const char *dev, int dmabuf,
				__u64 offset, __u64 len, __u64 iova)
{
	struct ibv_mr *mr;

	mr = ibv_reg_dmabuf_mr(pd, offset, len, iova, dmabuf, MR_ACCESS);
	if (!mr && errno == EOPNOTSUPP)
		SKIP(return NULL, NO_DMABUF_MR, dev);
	ASSERT_NE(NULL, mr) {
		TH_LOG("ibv_reg_dmabuf_mr: %s", strerror(errno));
	}
	return mr;
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

TEST_F(verbs, dmabuf_mr_rdma_write)
{
	struct ibv_mr *mr;

	mr = dmabuf_mr(_metadata, self->pd, self->name, self->t.dmabuf, 0,
		       VSIZE, 0);
	if (!mr)
		return;
	EXPECT_EQ(1, accmem_sysfs_num("pins"));
	ASSERT_EQ(0, rdma_write(_metadata, &self->lb, 4096, mr->rkey, SRC_LEN));

	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(-1, accmem_check(self->t.map + 4096, SRC_LEN, SEED));
	EXPECT_EQ(-1, accmem_check_zero(self->t.map, 4096));
	EXPECT_EQ(-1, accmem_check_zero(self->t.map + 4096 + SRC_LEN,
					VSIZE - 4096 - SRC_LEN));
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	EXPECT_EQ(0, ibv_dereg_mr(mr));
}

TEST_F(verbs, dmabuf_mr_offset_and_iova)
{
	const __u64 offset = SZ_1M, iova = 0x10000000;
	struct ibv_mr *mr;

	/* the page offsets of offset and iova must agree */
	mr = dmabuf_mr(_metadata, self->pd, self->name, self->t.dmabuf,
		       offset, SZ_1M, iova);
	if (!mr)
		return;
	ASSERT_EQ(0, rdma_write(_metadata, &self->lb, iova + 8192, mr->rkey,
				SRC_LEN));

	/* iova + n is byte offset + n of the dma-buf */
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(-1, accmem_check(self->t.map + offset + 8192, SRC_LEN, SEED));
	EXPECT_EQ(-1, accmem_check_zero(self->t.map, offset + 8192));
	ASSERT_EQ(0, accmem_sync(self->t.dmabuf,
				 DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	EXPECT_EQ(0, ibv_dereg_mr(mr));
}

TEST_F(verbs, dmabuf_mr_holds_tenancy)
{
	struct ibv_mr *mr;

	mr = dmabuf_mr(_metadata, self->pd, self->name, self->t.dmabuf, 0,
		       VSIZE, 0);
	if (!mr)
		return;
	/* the MR alone keeps the tenancy, and still takes writes */
	ASSERT_EQ(0, accmem_tenant_leave_held(&self->t));
	accmem_expect_draining(_metadata);
	EXPECT_EQ(0, rdma_write(_metadata, &self->lb, 0, mr->rkey, SRC_LEN));

	EXPECT_EQ(0, ibv_dereg_mr(mr));
	ASSERT_EQ(0, accmem_wait_idle(60));
	accmem_expect_all_zero(_metadata);
}

TEST_HARNESS_MAIN
