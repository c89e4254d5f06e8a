// SPDX-License-Identifier: GPL-2.0
/*
 * accmemctl holders: who holds the live exports of an accmem device.
 *
 * debugfs (/sys/kernel/debug/accmem/accmemN/buffers) lists every live
 * dma-buf by inode number with its importing devices. The processes come
 * from /proc: an fd whose link reads "/dmabuf:..." and whose inode (stat)
 * is the export's holds it; a /proc/PID/maps line with that inode and path
 * maps it. The RDMA devices behind an importer and their MRs: rdma_mr.c.
 *
 * /proc is the one of our pid namespace: run in the initial one to see
 * every process with its host pid. Root (CAP_SYS_ADMIN) is needed for
 * debugfs and for other users' /proc/PID/fd.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accmemctl.h"

#define DMABUF_LINK "/dmabuf:"

/* Grows the array *@v of *@n elements of @size by one zeroed element. */
static void *grow(void *v, int *n, size_t size)
{
	char *p = realloc(*(void **)v, (*n + 1) * size);

	if (!p) {
		perror("accmemctl");
		exit(EXIT_FAIL);
	}
	memset(p + *n * size, 0, size);
	*(void **)v = p;
	return p + (*n)++ * size;
}

/* Parses one line of debugfs' buffers file into @h. */
static void parse_line(struct holders *h, const char *line, unsigned int *buf)
{
	struct hold_export *e;
	struct hold_attach *a;
	char flag[16] = "";
	int n = 0;

	if (sscanf(line, "state %31s", h->state) == 1)
		return;
	if (sscanf(line, "buffer handle %u", buf) == 1)
		return;
	if (!strncmp(line, "  dmabuf ino ", 13)) {
		e = grow(&h->exp, &h->n, sizeof(*e));
		e->buffer = *buf;
		if (sscanf(line, "  dmabuf ino %lu offset %llx length %llx pins %d",
			   &e->ino, &e->offset, &e->length, &e->pins) < 1)
			h->n--;	/* not an export line after all */
		return;
	}
	if (strncmp(line, "    attachment ", 15) || !h->n)
		return;
	e = &h->exp[h->n - 1];
	a = grow(&e->att, &e->natt, sizeof(*a));
	/* "attachment DRIVER DEVNAME[ pinned] mappings N" */
	if (sscanf(line, "    attachment %63s %63s %15s %n", a->driver,
		   a->device, flag, &n) < 3)
		return;
	a->pinned = !strcmp(flag, "pinned");
	if (sscanf(a->pinned ? line + n : strstr(line, "mappings"),
		   "mappings %u", &a->mappings) != 1)
		a->mappings = 0;
}

static int read_debugfs(const char *dev, struct holders *h)
{
	char path[512], line[512];
	unsigned int buf = 0;
	FILE *f;

	snprintf(path, sizeof(path), DEBUGFS "/%s/buffers", dev);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		parse_line(h, line, &buf);
	fclose(f);
	return 0;
}

static struct hold_export *find_ino(struct holders *h, unsigned long ino)
{
	int i;

	for (i = 0; i < h->n; i++)
		if (h->exp[i].ino == ino)
			return &h->exp[i];
	return NULL;
}

static void read_comm(pid_t pid, char *comm, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(comm, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(comm, len, f))
		comm[strcspn(comm, "\n")] = 0;
	fclose(f);
}

/*
 * Adds process @pid to *@v; @comm (as large as hold_proc's) is its name,
 * read here at its first hold, "" until then: most processes hold nothing.
 */
static void add_proc(struct hold_proc **v, int *n, pid_t pid, char *comm,
		     int fd, unsigned long long start, unsigned long long end)
{
	struct hold_proc *p = grow(v, n, sizeof(**v));

	if (!*comm)
		read_comm(pid, comm, sizeof(p->comm));

	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	p->fd = fd;
	p->start = start;
	p->end = end;
}

/* The dma-buf fds of process @pid that are exports of the device. */
static void scan_fds(struct holders *h, pid_t pid, char *comm)
{
	char path[300], link[64];
	struct hold_export *e;
	struct dirent *d;
	struct stat st;
	ssize_t len;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir)
		return;	/* gone meanwhile, or a kernel thread */
	while ((d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, d->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < (ssize_t)strlen(DMABUF_LINK))
			continue;
		link[len] = 0;
		if (strncmp(link, DMABUF_LINK, strlen(DMABUF_LINK)) ||
		    stat(path, &st))
			continue;
		e = find_ino(h, st.st_ino);
		if (e)
			add_proc(&e->fds, &e->nfds, pid, comm, atoi(d->d_name),
				 0, 0);
	}
	closedir(dir);
}

/* The mappings of process @pid of exports of the device. */
static void scan_maps(struct holders *h, pid_t pid, char *comm)
{
	unsigned long long start, end;
	char path[64], line[512];
	struct hold_export *e;
	unsigned long ino;
	int n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		n = 0;
		/* start-end perms offset dev inode path */
		if (sscanf(line, "%llx-%llx %*s %*s %*s %lu %n", &start, &end,
			   &ino, &n) < 3 || !n ||
		    strncmp(line + n, DMABUF_LINK, strlen(DMABUF_LINK)))
			continue;
		e = find_ino(h, ino);
		if (e)
			add_proc(&e->maps, &e->nmaps, pid, comm, -1, start,
				 end);
	}
	fclose(f);
}

/* More than one pid in NSpid: our pid namespace is not the initial one. */
static int in_nested_pidns(void)
{
	char line[256];
	int nested = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "NSpid:", 6))
			nested = !!strchr(line + 7, '\t');
	fclose(f);
	return nested;
}

static void scan_proc(struct holders *h)
{
	struct dirent *d;
	char comm[32];
	DIR *dir;
	pid_t pid;

	dir = opendir("/proc");
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = atoi(d->d_name);
		comm[0] = 0;
		scan_fds(h, pid, comm);
		scan_maps(h, pid, comm);
	}
	closedir(dir);
}

/**
 * holders_get() - find who holds the live exports of an accmem device
 * @dev: device name (accmemN)
 * @h: filled in; holders_free() releases it
 *
 * Return: 0, -ENODEV (no such device), or -errno of debugfs (EACCES: not
 * root; ENOENT: debugfs not mounted).
 */
int holders_get(const char *dev, struct holders *h)
{
	char path[512];
	int i, j, ret;

	memset(h, 0, sizeof(*h));
	snprintf(path, sizeof(path), SYSFS_MISC "/%s/state", dev);
	if (access(path, F_OK))
		return -ENODEV;
	ret = read_debugfs(dev, h);
	if (ret)
		return ret;
	h->nested_pidns = in_nested_pidns();
	/* no live export, nothing to look for in every process */
	if (h->n)
		scan_proc(h);
	for (i = 0; i < h->n; i++)
		for (j = 0; j < h->exp[i].natt; j++)
			rdma_find(&h->exp[i].att[j]);
	return 0;
}

/**
 * holders_strerror() - what a holders_get() error means for the user
 * @err: its -errno
 *
 * Return: a message.
 */
const char *holders_strerror(int err)
{
	switch (-err) {
	case ENODEV:
		return "no such accmem device";
	case EACCES:
	case EPERM:
		return "debugfs " DEBUGFS " is for root only: run as root";
	case ENOENT:
		return "debugfs not mounted (mount -t debugfs none /sys/kernel/debug)";
	}
	return strerror(-err);
}

/**
 * holders_free() - release what holders_get() found
 * @h: the holders
 */
void holders_free(struct holders *h)
{
	int i, j;

	for (i = 0; i < h->n; i++) {
		for (j = 0; j < h->exp[i].natt; j++)
			rdma_free(&h->exp[i].att[j]);
		free(h->exp[i].att);
		free(h->exp[i].fds);
		free(h->exp[i].maps);
	}
	free(h->exp);
	memset(h, 0, sizeof(*h));
}

static void rdma_text(const struct hold_rdma *r)
{
	int i;

	printf("      rdma %s (%s)\n", r->ibdev, r->via);
	if (r->err)
		printf("        (MRs not readable: %s)\n", strerror(-r->err));
	for (i = 0; i < r->nmrs; i++) {
		if (r->mrs[i].pid)
			printf("        mr pid=%d comm=%s", r->mrs[i].pid,
			       r->mrs[i].comm);
		else
			printf("        mr kernel=%s", r->mrs[i].comm);
		printf(" mrn=%u mrlen=%llu\n", r->mrs[i].mrn,
		       (unsigned long long)r->mrs[i].mrlen);
	}
}

/**
 * holders_text() - print the holders for people, one holder per line
 * @h: the holders
 */
void holders_text(const struct holders *h)
{
	const struct hold_export *e;
	const struct hold_attach *a;
	int i, j, k;

	if (h->nested_pidns)
		printf("  (not in the initial pid namespace: processes elsewhere are missing)\n");
	if (!h->n)
		printf("  no live exports\n");
	for (i = 0; i < h->n; i++) {
		e = &h->exp[i];
		printf("  dmabuf ino %lu buffer %u offset %#llx length %#llx pins %d\n",
		       e->ino, e->buffer, e->offset, e->length, e->pins);
		for (j = 0; j < e->nfds; j++)
			printf("    fd pid=%d comm=%s fd=%d\n", e->fds[j].pid,
			       e->fds[j].comm, e->fds[j].fd);
		for (j = 0; j < e->nmaps; j++)
			printf("    map pid=%d comm=%s %#llx-%#llx\n",
			       e->maps[j].pid, e->maps[j].comm,
			       e->maps[j].start, e->maps[j].end);
		for (j = 0; j < e->natt; j++) {
			a = &e->att[j];
			printf("    importer driver=%s device=%s%s mappings %u\n",
			       a->driver, a->device,
			       a->pinned ? " pinned" : "", a->mappings);
			for (k = 0; k < a->nrdma; k++)
				rdma_text(&a->rdma[k]);
		}
	}
}

static void procs_json(const char *key, const struct hold_proc *p, int n)
{
	int i;

	printf("\"%s\": [", key);
	for (i = 0; i < n; i++) {
		printf("%s{\"pid\": %d, ", i ? ", " : "", p[i].pid);
		json_str("comm", p[i].comm, ", ");
		if (p[i].fd >= 0)
			printf("\"fd\": %d}", p[i].fd);
		else
			printf("\"start\": %llu, \"end\": %llu}", p[i].start,
			       p[i].end);
	}
	printf("]");
}

static void rdma_json(const struct hold_rdma *r, int first)
{
	int i;

	printf("%s{", first ? "" : ", ");
	json_str("device", r->ibdev, ", ");
	json_str("via", r->via, ", ");
	printf("\"related\": %s, \"mrs\": ", r->related ? "true" : "false");
	if (r->err) {
		printf("null}");
		return;
	}
	printf("[");
	for (i = 0; i < r->nmrs; i++) {
		printf("%s{\"pid\": %d, ", i ? ", " : "", r->mrs[i].pid);
		json_str(r->mrs[i].pid ? "comm" : "kernel", r->mrs[i].comm,
			 ", ");
		printf("\"mrn\": %u, \"mrlen\": %llu}", r->mrs[i].mrn,
		       (unsigned long long)r->mrs[i].mrlen);
	}
	printf("]}");
}

static void attach_json(const struct hold_attach *a, int first)
{
	int i;

	printf("%s{", first ? "" : ", ");
	json_str("driver", a->driver, ", ");
	json_str("device", a->device, ", ");
	printf("\"pinned\": %s, \"mappings\": %u, \"rdma\": [",
	       a->pinned ? "true" : "false", a->mappings);
	for (i = 0; i < a->nrdma; i++)
		rdma_json(&a->rdma[i], !i);
	printf("]}");
}

/**
 * holders_json() - print the holders as a JSON array of exports
 * @h: the holders
 */
void holders_json(const struct holders *h)
{
	const struct hold_export *e;
	int i, j;

	printf("[");
	for (i = 0; i < h->n; i++) {
		e = &h->exp[i];
		printf("%s{\"ino\": %lu, \"buffer\": %u, \"offset\": %llu, ",
		       i ? ", " : "", e->ino, e->buffer, e->offset);
		printf("\"length\": %llu, \"pins\": %d, ", e->length, e->pins);
		procs_json("fds", e->fds, e->nfds);
		printf(", ");
		procs_json("mappings", e->maps, e->nmaps);
		printf(", \"importers\": [");
		for (j = 0; j < e->natt; j++)
			attach_json(&e->att[j], !j);
		printf("]}");
	}
	printf("]");
}
