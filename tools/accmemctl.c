// SPDX-License-Identifier: GPL-2.0
/*
 * accmemctl - show and wait for accmem devices; see accmemctl(8).
 *
 *   accmemctl status [--json] [accmemN]
 *				state, backend (and PCI address), memory and
 *				counters of each device (sysfs), its page size
 *				(INFO through an observer open, when the node
 *				is readable), and its live buffers, exports
 *				and importers (debugfs, when readable)
 *   accmemctl holders [--json] [accmemN]
 *				who holds the device's live exports: the
 *				processes with an fd or a mapping, the
 *				importing devices, the MRs on the RDMA
 *				devices behind them (holders.c, rdma_mr.c)
 *   accmemctl wait-idle [--timeout SECONDS] [accmemN]
 *				wait until the device is idle
 *   accmemctl reclaim [--wait [--timeout SECONDS]] [accmemN]
 *				take the device back from its tenant
 *				(sysfs "reclaim"); with --wait until idle,
 *				else name what still holds it
 *   accmemctl demo [accmemN]	become the tenant for a moment: allocate,
 *				export, write through the dma-buf, close the
 *				device, then the dma-buf, and show the device
 *				draining, scrubbing and idle again
 *
 * "status" never becomes the tenant: it opens /dev/accmemN read-only, an
 * observer that blocks nobody.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <accmem/accmem.h>

#include "accmemctl.h"

#ifndef ACCMEM_PACKAGE_VERSION
#define ACCMEM_PACKAGE_VERSION "unknown"
#endif

static const char usage_text[] =
	"Usage: accmemctl status [--json] [accmemN]\n"
	"       accmemctl holders [--json] [accmemN]\n"
	"       accmemctl wait-idle [--timeout SECONDS] [accmemN]\n"
	"       accmemctl reclaim [--wait [--timeout SECONDS]] [accmemN]\n"
	"       accmemctl demo [accmemN]\n"
	"       accmemctl --help | --version\n"
	"\n"
	"  status     state, backend, memory and counters of every accmem\n"
	"             device (or of accmemN), its live buffers and importers\n"
	"             when debugfs is readable; --json for machines\n"
	"  holders    who holds the live exports of accmemN (default accmem0):\n"
	"             processes with an fd (pid, comm, fd) or a mapping, the\n"
	"             importing devices, the owners of MRs on the RDMA devices\n"
	"             behind them; root, in the initial pid namespace\n"
	"  wait-idle  wait until accmemN (default accmem0) is idle, at most\n"
	"             SECONDS (default: no limit)\n"
	"  reclaim    take accmemN (default accmem0) back from its tenant\n"
	"             (root); --wait until it is idle, at most SECONDS, then\n"
	"             print what still holds it\n"
	"  demo       become the tenant of accmemN for a moment and show the\n"
	"             lifecycle: allocate, export, close, drain, scrub, idle\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error, 3 no such accmem\n"
	"device (module not loaded?), 4 wait-idle or reclaim --wait timed\n"
	"out (reclaim: the remaining holders on stdout).\n"
	"See accmemctl(8).\n";

static int read_attr(const char *dev, const char *attr, char *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), SYSFS_MISC "/%s/%s", dev, attr);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static unsigned long long attr_num(const char *dev, const char *attr)
{
	char buf[64];

	return read_attr(dev, attr, buf, sizeof(buf)) ? 0 :
	       strtoull(buf, NULL, 0);
}

/* What status shows of one device. */
struct dev_status {
	const char *name;
	char state[32];
	char backend[16];	/* "emu", "pci" */
	char pci[32];		/* PCI address, or "" */
	unsigned long long size, used, exports, pins, scrubbed, scrub_us,
			   last_scrub_us, pending, pid;
	int have_info;		/* info read through an observer open */
	struct accmem_info info;
};

/*
 * The backend: sysfs "backend" where the module has it, else the device's
 * parent: a PCI device (the BAR backend, the parent's name is its
 * address) or none (emulated memory has no parent device).
 */
static void get_backend(const char *dev, struct dev_status *s)
{
	char path[512], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), SYSFS_MISC "/%s/device/subsystem", dev);
	n = readlink(path, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = 0;
		if (!strcmp(basename(target), "pci")) {
			snprintf(path, sizeof(path), SYSFS_MISC "/%s/device",
				 dev);
			n = readlink(path, target, sizeof(target) - 1);
			if (n > 0) {
				target[n] = 0;
				snprintf(s->pci, sizeof(s->pci), "%s",
					 basename(target));
			}
		}
	}
	if (!read_attr(dev, "backend", s->backend, sizeof(s->backend)))
		return;
	snprintf(s->backend, sizeof(s->backend), "%s", s->pci[0] ? "pci" : "emu");
}

static int get_status(const char *dev, struct dev_status *s)
{
	int fd;

	memset(s, 0, sizeof(*s));
	s->name = dev;
	if (read_attr(dev, "state", s->state, sizeof(s->state)))
		return -ENODEV;
	get_backend(dev, s);
	s->size = attr_num(dev, "mem_size");
	s->used = attr_num(dev, "mem_used");
	s->exports = attr_num(dev, "exports");
	s->pins = attr_num(dev, "pins");
	s->scrubbed = attr_num(dev, "bytes_scrubbed");
	s->scrub_us = attr_num(dev, "scrub_time_us");
	s->last_scrub_us = attr_num(dev, "last_scrub_us");
	s->pending = attr_num(dev, "scrubs_pending");
	s->pid = attr_num(dev, "owner_pid");
	/* An observer: never the tenant, never in anyone's way. */
	fd = accmem_open_observer(dev);
	if (fd >= 0) {
		s->have_info = !accmem_info(fd, &s->info);
		close(fd);
	}
	return 0;
}

static void show_debugfs(const char *dev)
{
	char path[512], line[512];
	FILE *f;

	snprintf(path, sizeof(path), DEBUGFS "/%s/buffers", dev);
	f = fopen(path, "r");
	if (!f) {
		printf("  (live buffers: %s not readable: %s)\n", path,
		       strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "state ", 6))
			printf("  %s", line);
	fclose(f);
}

static void show_text(const struct dev_status *s)
{
	struct holders h;

	printf("%s: %s", s->name, s->state);
	if (s->pid)
		printf(" (tenant pid %llu)", s->pid);
	printf("\n  backend %s", s->backend);
	if (s->pci[0])
		printf(" %s", s->pci);
	printf("\n  memory  %llu MiB used of %llu MiB", s->used >> 20,
	       s->size >> 20);
	if (s->have_info)
		printf(", page size %llu",
		       (unsigned long long)s->info.page_size);
	printf("\n  exports %llu live, %llu pinned\n", s->exports, s->pins);
	printf("  scrub   %llu MiB in %.3f s", s->scrubbed >> 20,
	       s->scrub_us / 1e6);
	if (s->scrub_us)
		printf(" (%.0f MiB/s)", (s->scrubbed >> 20) / (s->scrub_us / 1e6));
	printf(", last %llu us, %llu pending\n", s->last_scrub_us, s->pending);
	show_debugfs(s->name);
	if (!holders_get(s->name, &h)) {
		printf("  holders\n");
		holders_text(&h);
		holders_free(&h);
	}
}

/**
 * json_str() - print "@key": "@v"@sep, @v as a JSON string
 * @key: the key
 * @v: the value: sysfs words, device and command names; control characters
 *	are dropped, quotes and backslashes escaped
 * @sep: what follows
 */
void json_str(const char *key, const char *v, const char *sep)
{
	printf("\"%s\": \"", key);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			putchar('\\');
		if ((unsigned char)*v >= 0x20)
			putchar(*v);
	}
	printf("\"%s", sep);
}

static void show_json(const struct dev_status *s, int first)
{
	struct holders h;

	printf("%s\n  {", first ? "" : ",");
	json_str("name", s->name, ", ");
	json_str("state", s->state, ", ");
	json_str("backend", s->backend, ", ");
	if (s->pci[0])
		json_str("pci_address", s->pci, ", ");
	else
		printf("\"pci_address\": null, ");
	printf("\"owner_pid\": %llu, \"mem_size\": %llu, \"mem_used\": %llu, ",
	       s->pid, s->size, s->used);
	printf("\"exports\": %llu, \"pins\": %llu, ", s->exports, s->pins);
	printf("\"bytes_scrubbed\": %llu, \"scrub_time_us\": %llu, ",
	       s->scrubbed, s->scrub_us);
	printf("\"last_scrub_us\": %llu, \"scrubs_pending\": %llu",
	       s->last_scrub_us, s->pending);
	if (s->have_info) {
		printf(", \"uapi_version\": %u, \"page_size\": %llu, \"mem_free\": %llu, ",
		       s->info.version, (unsigned long long)s->info.page_size,
		       (unsigned long long)s->info.mem_free);
		printf("\"flags\": %u, \"max_segment\": %llu", s->info.flags,
		       (unsigned long long)s->info.max_segment);
	}
	printf(", \"holders\": ");
	if (holders_get(s->name, &h)) {
		printf("null");
	} else {
		holders_json(&h);
		holders_free(&h);
	}
	printf("}");
}

static int status_one(const char *dev, int json, int first)
{
	struct dev_status s;

	if (get_status(dev, &s)) {
		fprintf(stderr, "accmemctl: %s: no such accmem device\n", dev);
		return EXIT_NODEV;
	}
	if (json)
		show_json(&s, first);
	else
		show_text(&s);
	return EXIT_OK;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strverscmp((*a)->d_name, (*b)->d_name);
}

/* accmemN, not the test modules' accmem_importer and the like */
static int is_accmem(const struct dirent *d)
{
	const char *n = d->d_name + 6;

	if (strncmp(d->d_name, "accmem", 6) || !*n)
		return 0;
	while (*n >= '0' && *n <= '9')
		n++;
	return !*n;
}

static int status(const char *dev, int json)
{
	int i, n, shown = 0, ret = EXIT_OK;
	struct dirent **list;

	if (json)
		printf("[");
	if (dev) {
		ret = status_one(dev, json, 1);
		if (json)
			printf("\n]\n");
		return ret;
	}
	n = scandir(SYSFS_MISC, &list, is_accmem, name_cmp);
	if (n < 0) {
		perror(SYSFS_MISC);
		return EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		/* a device may go away meanwhile: no object for it */
		if (status_one(list[i]->d_name, json, !shown))
			ret = EXIT_FAIL;
		else
			shown++;
		free(list[i]);
	}
	free(list);
	if (json)
		printf("\n]\n");
	if (!n) {
		fprintf(stderr, "accmemctl: no accmem device (is the module loaded?)\n");
		return EXIT_NODEV;
	}
	return ret;
}

static void step(const char *dev, const char *what)
{
	char state[32] = "?";

	read_attr(dev, "state", state, sizeof(state));
	printf("== %-44s state=%-9s used=%llu MiB exports=%llu\n", what, state,
	       attr_num(dev, "mem_used") >> 20, attr_num(dev, "exports"));
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "accmemctl: %s: %s\n", what, accmem_strerror(err));
	return err == -ENOENT || err == -ENODEV ? EXIT_NODEV : EXIT_FAIL;
}

static int demo(const char *dev)
{
	const unsigned long long size = 16 << 20;
	struct accmem_alloc alloc = { .size = size };
	struct accmem_info info;
	int fd, again, dmabuf, ret;
	char *p;

	ret = accmem_wait_until_idle(dev, 30000);
	if (ret)
		return fail("waiting for the device to be idle", ret);
	fd = accmem_open_tenant(dev);
	if (fd < 0)
		return fail("open", fd);
	ret = accmem_info(fd, &info);
	if (ret)
		return fail("ACCMEM_IOC_INFO", ret);
	printf("%s: %s backend, %llu MiB, page size %llu, uAPI v%u\n", dev,
	       info.backend == ACCMEM_BACKEND_PCI ? "PCI BAR" : "emulated",
	       (unsigned long long)info.mem_size >> 20,
	       (unsigned long long)info.page_size, info.version);
	step(dev, "opened: we are the tenant");
	again = accmem_open_tenant(dev);
	printf("   a second open() fails: %s\n",
	       again < 0 ? strerror(-again) : "it did not!");
	again = accmem_open_observer(dev);
	printf("   an O_RDONLY open() observes (INFO only): %s\n",
	       again < 0 ? strerror(-again) : "ok");
	if (again >= 0)
		close(again);

	ret = accmem_alloc_ext(fd, &alloc);
	if (ret)
		return fail("ACCMEM_IOC_ALLOC", ret);
	dmabuf = accmem_export(fd, alloc.handle, 0, size, O_RDWR | O_CLOEXEC);
	if (dmabuf < 0)
		return fail("ACCMEM_IOC_EXPORT", dmabuf);
	printf("   allocated 16 MiB: handle %u at device address %#llx, dma-buf fd %d\n",
	       alloc.handle, (unsigned long long)alloc.dev_addr, dmabuf);
	step(dev, "allocated and exported");
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0);
	if (p == MAP_FAILED)
		return fail("mmap", -errno);
	snprintf(p, 64, "tenant data");
	munmap(p, size);

	close(fd);
	step(dev, "device fd closed, dma-buf still alive");
	again = accmem_open_tenant(dev);
	printf("   the next tenant still gets: %s\n",
	       again < 0 ? strerror(-again) : "the device (wrong!)");

	close(dmabuf);
	step(dev, "dma-buf closed: scrub runs");
	ret = accmem_wait_until_idle(dev, 30000);
	if (ret)
		return fail("waiting for the scrub", ret);
	step(dev, "scrubbed: ready for the next tenant");
	return status_one(dev, 0, 1);
}

/* --timeout in milliseconds in *@ms (-1 without one); 0 or EXIT_USAGE. */
static int parse_timeout(const char *timeout, int *ms)
{
	double s;
	char *end;

	*ms = -1;
	if (!timeout)
		return 0;
	s = strtod(timeout, &end);
	if (*end || end == timeout || s < 0 || s > INT_MAX / 1000) {
		fprintf(stderr, "accmemctl: bad timeout '%s'\n", timeout);
		return EXIT_USAGE;
	}
	*ms = s * 1000;
	return 0;
}

static int wait_idle(const char *dev, const char *timeout)
{
	int ms, ret;

	if (parse_timeout(timeout, &ms))
		return EXIT_USAGE;
	ret = accmem_wait_until_idle(dev, ms);
	if (ret == -ETIMEDOUT) {
		fprintf(stderr, "accmemctl: %s: not idle after %s s\n", dev,
			timeout);
		return EXIT_TIMEOUT;
	}
	return ret ? fail(dev, ret) : EXIT_OK;
}

static int holders(const char *dev, int json)
{
	struct holders h;
	int ret = holders_get(dev, &h);

	if (ret) {
		fprintf(stderr, "accmemctl: %s: %s\n", dev, holders_strerror(ret));
		return ret == -ENODEV ? EXIT_NODEV : EXIT_FAIL;
	}
	if (json) {
		printf("{");
		json_str("name", dev, ", ");
		json_str("state", h.state, ", ");
		printf("\"initial_pid_namespace\": %s, \"exports\": ",
		       h.nested_pidns ? "false" : "true");
		holders_json(&h);
		printf("}\n");
	} else {
		printf("%s: %s\n", dev, h.state);
		holders_text(&h);
	}
	holders_free(&h);
	return EXIT_OK;
}

/* Writes 1 to the device's sysfs "reclaim"; 0 or an exit status. */
static int start_reclaim(const char *dev)
{
	char path[512];
	int fd, err;

	snprintf(path, sizeof(path), SYSFS_MISC "/%s/state", dev);
	if (access(path, F_OK)) {
		fprintf(stderr, "accmemctl: %s: no such accmem device\n", dev);
		return EXIT_NODEV;
	}
	snprintf(path, sizeof(path), SYSFS_MISC "/%s/reclaim", dev);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, "1", 1) == 1) {
		close(fd);
		return EXIT_OK;
	}
	err = errno;
	if (fd >= 0)
		close(fd);
	if (err == ENOENT)
		fprintf(stderr, "accmemctl: %s: this accmem module cannot reclaim (no %s)\n",
			dev, path);
	else if (err == EACCES || err == EPERM)
		fprintf(stderr, "accmemctl: %s: reclaim is for root only (%s)\n",
			dev, path);
	else
		fprintf(stderr, "accmemctl: %s: %s\n", path, strerror(err));
	return EXIT_FAIL;
}

static int reclaim(const char *dev, int wait, const char *timeout)
{
	int ms, ret;

	if (timeout && !wait) {
		fprintf(stderr, "accmemctl: --timeout needs --wait\n");
		return EXIT_USAGE;
	}
	if (parse_timeout(timeout, &ms))
		return EXIT_USAGE;
	ret = start_reclaim(dev);
	if (ret || !wait)
		return ret;
	ret = accmem_wait_until_idle(dev, ms);
	if (ret == -ETIMEDOUT) {
		fprintf(stderr, "accmemctl: %s: not idle after %s s; what still holds it:\n",
			dev, timeout);
		holders(dev, 0);
		return EXIT_TIMEOUT;
	}
	return ret ? fail(dev, ret) : EXIT_OK;
}

static int usage(FILE *f, int ret)
{
	fputs(usage_text, f);
	return ret;
}

int main(int argc, char **argv)
{
	const char *cmd, *dev = NULL, *timeout = NULL;
	int i, json = 0, wait = 0;

	if (argc < 2)
		return usage(stderr, EXIT_USAGE);
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help"))
		return usage(stdout, EXIT_OK);
	if (!strcmp(cmd, "--version")) {
		printf("accmemctl %s, libaccmem %s\n", ACCMEM_PACKAGE_VERSION,
		       accmem_lib_version());
		return EXIT_OK;
	}
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json") &&
		    (!strcmp(cmd, "status") || !strcmp(cmd, "holders"))) {
			json = 1;
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc &&
			   (!strcmp(cmd, "wait-idle") || !strcmp(cmd, "reclaim"))) {
			timeout = argv[++i];
		} else if (!strcmp(argv[i], "--wait") && !strcmp(cmd, "reclaim")) {
			wait = 1;
		} else if (!strcmp(argv[i], "--help")) {
			return usage(stdout, EXIT_OK);
		} else if (argv[i][0] != '-' && !dev) {
			dev = argv[i];
		} else {
			fprintf(stderr, "accmemctl: unexpected argument '%s'\n",
				argv[i]);
			return usage(stderr, EXIT_USAGE);
		}
	}
	if (!strcmp(cmd, "status"))
		return status(dev, json);
	if (!strcmp(cmd, "holders"))
		return holders(dev ? dev : "accmem0", json);
	if (!strcmp(cmd, "wait-idle"))
		return wait_idle(dev ? dev : "accmem0", timeout);
	if (!strcmp(cmd, "reclaim"))
		return reclaim(dev ? dev : "accmem0", wait, timeout);
	if (!strcmp(cmd, "demo"))
		return demo(dev ? dev : "accmem0");
	fprintf(stderr, "accmemctl: unknown command '%s'\n", cmd);
	return usage(stderr, EXIT_USAGE);
}
