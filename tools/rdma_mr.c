// SPDX-License-Identifier: GPL-2.0
/*
 * accmemctl holders: the RDMA devices behind an importing device and the
 * memory regions on them, from the kernel's RDMA resource tracking (what
 * "rdma resource show mr" prints), read over RDMA netlink: an
 * RDMA_NLDEV_CMD_GET dump names the devices and their indexes, an
 * RDMA_NLDEV_CMD_RES_MR_GET dump per device lists its MRs with the owner's
 * pid (as seen from our pid namespace) or the kernel user's name.
 *
 * An RDMA device X relates to the importing device D (a dma-buf
 * attachment names the device the exporter maps for, the RDMA device's DMA
 * device) when
 *   - D is X itself (/sys/class/infiniband/D),
 *   - X's parent device is D (a NIC's RDMA function: mlx5, efa, irdma...),
 *   - X runs on a netdev whose device is D (soft-RoCE/iWARP: rxe and siw
 *     name their netdev in "parent"; any device in its ports' GID table).
 * A software RDMA device has no DMA device of its own: a driver that
 * imports dma-bufs for it borrows another device, which nothing in sysfs
 * ties to it. So a pinned importer on a PCI device that no RDMA device
 * relates to gets every RDMA device listed as a candidate (related false).
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>
#include <sys/socket.h>

#include "accmemctl.h"

#define IB_CLASS "/sys/class/infiniband"
#define NL_BUF 32768

/* The name of the device sysfs link @path points to, in @name; 0 or -1. */
static int link_name(const char *path, char *name, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n <= 0)
		return -1;
	target[n] = 0;
	snprintf(name, len, "%s", basename(target));
	return 0;
}

/* Is netdev @nd's device @dev? */
static int netdev_on(const char *nd, const char *dev)
{
	char path[512], name[64];

	snprintf(path, sizeof(path), "/sys/class/net/%s/device", nd);
	return !link_name(path, name, sizeof(name)) && !strcmp(name, dev);
}

static int read_word(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = !!fgets(buf, len, f);
	fclose(f);
	buf[ok ? strcspn(buf, "\n") : 0] = 0;
	return ok && buf[0] ? 0 : -1;
}

/* The netdev of port 1's first GID of @ib, if it has one. */
static int gid_netdev(const char *ib, char *nd, size_t len)
{
	char path[512];

	snprintf(path, sizeof(path), IB_CLASS "/%s/ports/1/gid_attrs/ndevs/0",
		 ib);
	return read_word(path, nd, len);
}

/* How RDMA device @ib relates to device @dev, in @via; 1 if it does. */
static int relation(const char *ib, const char *dev, char *via, size_t len)
{
	char path[512], name[64];

	if (!strcmp(ib, dev)) {
		snprintf(via, len, "the importer itself");
		return 1;
	}
	snprintf(path, sizeof(path), IB_CLASS "/%s/device", ib);
	if (!link_name(path, name, sizeof(name)) && !strcmp(name, dev)) {
		snprintf(via, len, "RDMA function of %s", dev);
		return 1;
	}
	snprintf(path, sizeof(path), IB_CLASS "/%s/parent", ib);
	if ((!read_word(path, name, sizeof(name)) ||
	     !gid_netdev(ib, name, sizeof(name))) && netdev_on(name, dev)) {
		snprintf(via, len, "on netdev %s of %s", name, dev);
		return 1;
	}
	return 0;
}

static int is_pci(const char *dev)
{
	char path[512];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", dev);
	return !access(path, F_OK);
}

/* Sends an RDMA netlink dump request; the socket or -errno. */
static int nl_dump(int cmd, int index)
{
	struct {
		struct nlmsghdr h;
		struct nlattr a;
		uint32_t index;
	} req = {
		.h.nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, cmd),
		.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.h.nlmsg_seq = 1,
		.a.nla_type = RDMA_NLDEV_ATTR_DEV_INDEX,
		.a.nla_len = NLA_HDRLEN + sizeof(uint32_t),
		.index = index,
	};
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_RDMA);

	if (s < 0)
		return -errno;
	req.h.nlmsg_len = index < 0 ? NLMSG_LENGTH(0) : sizeof(req);
	if (send(s, &req, req.h.nlmsg_len, 0) < 0) {
		close(s);
		return -errno;
	}
	return s;
}

/* Calls @fn for each message of the dump on @s; 0 or -errno. Closes @s. */
static int nl_each(int s, void (*fn)(struct nlattr *a, int len, void *arg),
		   void *arg)
{
	char *buf = malloc(NL_BUF);
	struct nlmsghdr *h;
	int ret = 0, done = 0;
	ssize_t n;

	if (!buf) {
		close(s);
		return -ENOMEM;
	}
	while (!done && !ret) {
		n = recv(s, buf, NL_BUF, 0);
		if (n < 0) {
			ret = -errno;
			break;
		}
		for (h = (void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				ret = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				break;
			}
			fn(NLMSG_DATA(h), NLMSG_PAYLOAD(h, 0), arg);
		}
	}
	free(buf);
	close(s);
	return ret;
}

/* Netlink attributes, as the kernel's nla_ok(), nla_next()... */
static int nla_ok(const struct nlattr *a, int len)
{
	return len >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       a->nla_len <= len;
}

static struct nlattr *nla_next(const struct nlattr *a, int *len)
{
	*len -= NLA_ALIGN(a->nla_len);
	return (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
}

static void *nla_data(const struct nlattr *a)
{
	return (char *)a + NLA_HDRLEN;
}

static int nla_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static int nla_type(const struct nlattr *a)
{
	return a->nla_type & NLA_TYPE_MASK;
}

struct dev_lookup {
	const char *name;
	int index;
};

static void dev_msg(struct nlattr *a, int len, void *arg)
{
	struct dev_lookup *d = arg;
	int index = -1;
	const char *name = NULL;

	for (; nla_ok(a, len); a = nla_next(a, &len)) {
		if (nla_type(a) == RDMA_NLDEV_ATTR_DEV_INDEX)
			index = *(uint32_t *)nla_data(a);
		else if (nla_type(a) == RDMA_NLDEV_ATTR_DEV_NAME)
			name = nla_data(a);
	}
	if (name && index >= 0 && !strcmp(name, d->name))
		d->index = index;
}

static void mr_entry(struct nlattr *a, int len, struct hold_rdma *r)
{
	struct hold_mr *m;

	m = realloc(r->mrs, (r->nmrs + 1) * sizeof(*m));
	if (!m)
		return;
	r->mrs = m;
	m = &r->mrs[r->nmrs++];
	memset(m, 0, sizeof(*m));
	for (; nla_ok(a, len); a = nla_next(a, &len)) {
		switch (nla_type(a)) {
		case RDMA_NLDEV_ATTR_RES_PID:
			m->pid = *(uint32_t *)nla_data(a);
			break;
		case RDMA_NLDEV_ATTR_RES_KERN_NAME:
			snprintf(m->comm, sizeof(m->comm), "%.*s",
				 nla_len(a), (char *)nla_data(a));
			break;
		case RDMA_NLDEV_ATTR_RES_MRN:
			m->mrn = *(uint32_t *)nla_data(a);
			break;
		case RDMA_NLDEV_ATTR_RES_MRLEN:
			memcpy(&m->mrlen, nla_data(a), sizeof(m->mrlen));
			break;
		}
	}
}

static void mr_msg(struct nlattr *a, int len, void *arg)
{
	struct nlattr *e;
	int elen;

	for (; nla_ok(a, len); a = nla_next(a, &len)) {
		if (nla_type(a) != RDMA_NLDEV_ATTR_RES_MR)
			continue;
		e = nla_data(a);
		for (elen = nla_len(a); nla_ok(e, elen);
		     e = nla_next(e, &elen))
			if (nla_type(e) == RDMA_NLDEV_ATTR_RES_MR_ENTRY)
				mr_entry(nla_data(e), nla_len(e), arg);
	}
}

/* The comm of every user-owned MR: the kernel gives the pid only. */
static void mr_comms(struct hold_rdma *r)
{
	char path[64];
	FILE *f;
	int i;

	for (i = 0; i < r->nmrs; i++) {
		if (!r->mrs[i].pid)
			continue;
		snprintf(r->mrs[i].comm, sizeof(r->mrs[i].comm), "?");
		snprintf(path, sizeof(path), "/proc/%d/comm", r->mrs[i].pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(r->mrs[i].comm, sizeof(r->mrs[i].comm), f))
			r->mrs[i].comm[strcspn(r->mrs[i].comm, "\n")] = 0;
		fclose(f);
	}
}

/* The MRs of RDMA device @r->ibdev; 0 or -errno. */
static int read_mrs(struct hold_rdma *r)
{
	struct dev_lookup d = { .name = r->ibdev, .index = -1 };
	int s, ret;

	s = nl_dump(RDMA_NLDEV_CMD_GET, -1);
	if (s < 0)
		return s;
	ret = nl_each(s, dev_msg, &d);
	if (ret)
		return ret;
	if (d.index < 0)
		return -ENODEV;
	s = nl_dump(RDMA_NLDEV_CMD_RES_MR_GET, d.index);
	if (s < 0)
		return s;
	ret = nl_each(s, mr_msg, r);
	mr_comms(r);
	return ret;
}

static void add_rdma(struct hold_attach *a, const char *ib, const char *via,
		     int related)
{
	struct hold_rdma *r = realloc(a->rdma, (a->nrdma + 1) * sizeof(*r));

	if (!r)
		return;
	a->rdma = r;
	r = &a->rdma[a->nrdma++];
	memset(r, 0, sizeof(*r));
	snprintf(r->ibdev, sizeof(r->ibdev), "%s", ib);
	snprintf(r->via, sizeof(r->via), "%s", via);
	r->related = related;
	r->err = read_mrs(r);
}

static int ib_names(struct dirent ***list)
{
	int n = scandir(IB_CLASS, list, NULL, alphasort);

	return n < 0 ? 0 : n;
}

/**
 * rdma_find() - the RDMA devices behind an importer and their MRs
 * @a: the importer; its rdma array is filled
 *
 * Return: how many RDMA devices were added.
 */
int rdma_find(struct hold_attach *a)
{
	char via[256];
	struct dirent **list;
	int i, n = ib_names(&list);

	for (i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.' &&
		    relation(list[i]->d_name, a->device, via, sizeof(via)))
			add_rdma(a, list[i]->d_name, via, 1);
	}
	if (!a->nrdma && a->pinned && is_pci(a->device)) {
		snprintf(via, sizeof(via),
			 "candidate: no RDMA device is known to use %s",
			 a->device);
		for (i = 0; i < n; i++)
			if (list[i]->d_name[0] != '.')
				add_rdma(a, list[i]->d_name, via, 0);
	}
	for (i = 0; i < n; i++)
		free(list[i]);
	free(n ? list : NULL);
	return a->nrdma;
}

/**
 * rdma_free() - release what rdma_find() added
 * @a: the importer
 */
void rdma_free(struct hold_attach *a)
{
	int i;

	for (i = 0; i < a->nrdma; i++)
		free(a->rdma[i].mrs);
	free(a->rdma);
	a->rdma = NULL;
	a->nrdma = 0;
}
