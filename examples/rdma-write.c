// SPDX-License-Identifier: MIT
/*
 * accmem-rdma-write - accmem device memory as the target of an RDMA WRITE.
 *
 *   accmem-rdma-write [accmemN [RDMA-DEVICE]]
 *
 * Becomes the tenant of accmemN (default accmem0), allocates 2 MiB of
 * device memory, exports it as a dma-buf, registers the dma-buf as an RDMA
 * memory region with ibv_reg_dmabuf_mr() on RDMA-DEVICE (default: the
 * first one) and has the device write 64 KiB into it: two RC queue pairs of
 * the same device, connected back to back, stand for the local and the
 * remote side. The result is read back through a CPU mapping of the
 * dma-buf.
 *
 * Exit status: 0 the data arrived; 1 an error; 2 usage; 77 this machine
 * cannot run it (no RDMA device, or one without dma-buf memory regions,
 * such as soft-RoCE, rxe: ibv_reg_dmabuf_mr() fails with EOPNOTSUPP). The
 * reason is printed on stderr.
 *
 * Build: cc -o accmem-rdma-write rdma-write.c \
 *		$(pkg-config --cflags --libs accmem libibverbs)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <linux/dma-buf.h>

#include <accmem/accmem.h>

#define SIZE		(2UL << 20)
#define WRITE_LEN	(64UL << 10)
#define WRITE_OFFSET	4096UL
#define NO_DEVICE \
	"no RDMA device with user verbs (soft-RoCE: modprobe rdma_rxe; rdma link add rxe0 type rxe netdev eth0)"
#define NO_DMABUF_MR \
	"the RDMA device has no dma-buf memory regions (soft-RoCE, rxe, has none)"
#define MR_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ)

static int unsupported(const char *why)
{
	fprintf(stderr, "accmem-rdma-write: stopping: %s\n", why);
	return ACCMEM_EXIT_UNSUPPORTED;
}

static int failed(const char *what, int err)
{
	fprintf(stderr, "accmem-rdma-write: %s: %s\n", what,
		accmem_strerror(err));
	return 1;
}

/* Port 1 and, on RoCE, its first non-zero GID. */
struct port {
	struct ibv_port_attr attr;
	union ibv_gid gid;
	int gid_index;
};

static int port_query(struct ibv_context *ctx, struct port *p)
{
	int i;

	p->gid_index = -1;
	if (ibv_query_port(ctx, 1, &p->attr))
		return -errno;
	if (p->attr.link_layer != IBV_LINK_LAYER_ETHERNET)
		return 0;
	for (i = 0; i < p->attr.gid_tbl_len; i++) {
		if (ibv_query_gid(ctx, 1, i, &p->gid))
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

/* INIT, RTR, RTS: connected to QP number @remote on the same port. */
static int qp_connect(struct ibv_qp *qp, uint32_t remote, const struct port *p)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = 1,
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
	a.ah_attr.port_num = 1;
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

static struct ibv_context *rdma_open(const char *want)
{
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

/* Waits up to 10 s for one completion; 0 or -errno. */
static int wait_completion(struct ibv_cq *cq)
{
	struct timespec pause = { .tv_nsec = 1000000 };
	struct ibv_wc wc;
	int i, n;

	for (i = 0; i < 10000; i++) {
		n = ibv_poll_cq(cq, 1, &wc);
		if (n < 0)
			return -EIO;
		if (n) {
			if (wc.status == IBV_WC_SUCCESS)
				return 0;
			fprintf(stderr, "accmem-rdma-write: completion: %s\n",
				ibv_wc_status_str(wc.status));
			return -EIO;
		}
		nanosleep(&pause, NULL);
	}
	return -ETIMEDOUT;
}

static int sync_dmabuf(int dmabuf, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "accmem0";
	struct ibv_qp *qp[2] = { NULL, NULL };
	struct ibv_mr *src_mr, *mr;
	struct ibv_context *ctx;
	struct ibv_send_wr wr, *bad;
	struct ibv_sge sge;
	struct ibv_cq *cq;
	struct ibv_pd *pd;
	struct port port;
	int fd, h, dmabuf, ret;
	unsigned char *src, *map;
	size_t i;

	if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: accmem-rdma-write [accmemN [RDMA-DEVICE]]\n");
		return 2;
	}

	/* The device memory: allocate, export as a dma-buf. */
	fd = accmem_open_tenant(dev);
	if (fd < 0)
		return failed(dev, fd);
	h = accmem_alloc(fd, SIZE, 0, 0);
	if (h < 0)
		return failed("accmem_alloc", h);
	dmabuf = accmem_export(fd, h, 0, SIZE, O_RDWR | O_CLOEXEC);
	if (dmabuf < 0)
		return failed("accmem_export", dmabuf);

	/* The RDMA side: a device, two connected QPs, a source buffer. */
	ctx = rdma_open(argc > 2 ? argv[2] : NULL);
	if (!ctx)
		return unsupported(NO_DEVICE);
	pd = ibv_alloc_pd(ctx);
	cq = pd ? ibv_create_cq(ctx, 16, NULL, NULL, 0) : NULL;
	if (cq) {
		qp[0] = rc_qp(pd, cq);
		qp[1] = rc_qp(pd, cq);
	}
	if (!qp[0] || !qp[1])
		return failed("creating the queue pairs", -errno);
	ret = port_query(ctx, &port);
	if (!ret)
		ret = qp_connect(qp[0], qp[1]->qp_num, &port);
	if (!ret)
		ret = qp_connect(qp[1], qp[0]->qp_num, &port);
	if (ret)
		return failed("connecting the queue pairs", ret);
	src = malloc(WRITE_LEN);
	if (!src)
		return failed("malloc", -ENOMEM);
	for (i = 0; i < WRITE_LEN; i++)
		src[i] = (unsigned char)(i * 7 + 1);
	src_mr = ibv_reg_mr(pd, src, WRITE_LEN, IBV_ACCESS_LOCAL_WRITE);
	if (!src_mr)
		return failed("ibv_reg_mr", -errno);

	/* The point: the dma-buf as a memory region. */
	mr = ibv_reg_dmabuf_mr(pd, 0, SIZE, 0, dmabuf, MR_ACCESS);
	if (!mr && (errno == EOPNOTSUPP || errno == ENOTSUP)) {
		fprintf(stderr, "accmem-rdma-write: ibv_reg_dmabuf_mr on %s: EOPNOTSUPP (%s)\n",
			ibv_get_device_name(ctx->device), strerror(errno));
		return unsupported(NO_DMABUF_MR);
	}
	if (!mr)
		return failed("ibv_reg_dmabuf_mr", -errno);
	printf("dma-buf of %s registered on %s: rkey %#x\n", dev,
	       ibv_get_device_name(ctx->device), mr->rkey);

	/* RDMA WRITE from QP 0 into the MR at iova WRITE_OFFSET. */
	sge = (struct ibv_sge){
		.addr = (uintptr_t)src, .length = WRITE_LEN,
		.lkey = src_mr->lkey,
	};
	memset(&wr, 0, sizeof(wr));
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_RDMA_WRITE;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = WRITE_OFFSET;
	wr.wr.rdma.rkey = mr->rkey;
	ret = verbs_err(ibv_post_send(qp[0], &wr, &bad));
	if (!ret)
		ret = wait_completion(cq);
	if (ret)
		return failed("RDMA WRITE", ret);

	/* The bytes are in device memory: read them through the CPU. */
	map = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, dmabuf, 0);
	if (map == MAP_FAILED)
		return failed("mmap of the dma-buf", -errno);
	ret = sync_dmabuf(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	if (ret)
		return failed("DMA_BUF_IOCTL_SYNC", ret);
	ret = memcmp(map + WRITE_OFFSET, src, WRITE_LEN);
	sync_dmabuf(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap(map, SIZE);
	if (ret) {
		fprintf(stderr, "accmem-rdma-write: the data did not arrive\n");
		return 1;
	}
	printf("RDMA WRITE of %lu bytes landed in device memory\n", WRITE_LEN);

	/* The MR holds the dma-buf, and so the tenancy, until deregistered. */
	ibv_dereg_mr(mr);
	ibv_dereg_mr(src_mr);
	free(src);
	ibv_destroy_qp(qp[1]);
	ibv_destroy_qp(qp[0]);
	ibv_destroy_cq(cq);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	close(dmabuf);
	close(fd);
	ret = accmem_wait_until_idle(dev, 30000);
	if (ret)
		return failed("waiting for the scrub", ret);
	printf("%s is idle again (scrubbed)\n", dev);
	return 0;
}
