/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the two RDMA selftests share (rdma_umem: the RDMA core's pinned
 * import; rdma_verbs: user-space verbs): the soft-RoCE device rxe0, set up
 * when missing. Include after accmem_lib.h.
 *
 * rxe0 goes on $ACCMEM_RXE_NETDEV, else eth0, else a dummy netdev (kernel
 * modules rdma_rxe, ib_uverbs, crc32_generic and dummy or a NIC driver).
 */
#ifndef ACCMEM_RDMA_H
#define ACCMEM_RDMA_H

#define RXE		"rxe0"

static inline __u64 pgsz(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* rxe0 has its first GID once its netdev has an IPv6 link-local address. */
static inline int rxe_gid_ready(void *unused)
{
	char gid[64];

	if (accmem_read_file("/sys/class/infiniband/" RXE "/ports/1/gids/0",
			     gid, sizeof(gid)))
		return 0;
	return gid[0] &&
	       strcmp(gid, "0000:0000:0000:0000:0000:0000:0000:0000") != 0;
}

/*
 * Brings up soft-RoCE if needed. Returns 0; -ENOENT when a kernel feature
 * is missing; -EIO when the setup failed. @why says what happened.
 */
static inline int rxe_setup(char *why, size_t len)
{
	const char *nd = getenv("ACCMEM_RXE_NETDEV");
	char cmd[256];

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
	if (accmem_poll(rxe_gid_ready, NULL, 30)) {
		snprintf(why, len, RXE " has no GID after 30 s");
		return -EIO;
	}
	return 0;
}

#endif /* ACCMEM_RDMA_H */
