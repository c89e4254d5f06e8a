// SPDX-License-Identifier: GPL-2.0
/*
 * accmemctl - show accmem devices for a person.
 *
 *   accmemctl status [accmemN]   state, memory and counters of each device
 *                                (sysfs), and its live buffers, exports and
 *                                importers (debugfs, when readable)
 *
 *   accmemctl demo [accmemN]     become the tenant for a moment: allocate,
 *                                export, write through the dma-buf, close
 *                                the device, then the dma-buf, and show the
 *                                device draining, scrubbing and idle again
 *
 * "status" never opens /dev/accmemN: that would make it the tenant.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/accmem.h>

#define SYSFS_MISC "/sys/class/misc"
#define DEBUGFS "/sys/kernel/debug/accmem"

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

static int show(const char *dev)
{
	unsigned long long size, used, scrubbed, scrub_us, pid;
	char state[32];

	if (read_attr(dev, "state", state, sizeof(state))) {
		fprintf(stderr, "accmemctl: %s: no such accmem device\n", dev);
		return 1;
	}
	size = attr_num(dev, "mem_size");
	used = attr_num(dev, "mem_used");
	scrubbed = attr_num(dev, "bytes_scrubbed");
	scrub_us = attr_num(dev, "scrub_time_us");
	pid = attr_num(dev, "owner_pid");

	printf("%s: %s", dev, state);
	if (pid)
		printf(" (tenant pid %llu)", pid);
	printf("\n  memory  %llu MiB used of %llu MiB\n", used >> 20,
	       size >> 20);
	printf("  exports %llu live, %llu pinned\n", attr_num(dev, "exports"),
	       attr_num(dev, "pins"));
	printf("  scrub   %llu MiB in %.3f s",
	       scrubbed >> 20, scrub_us / 1e6);
	if (scrub_us)
		printf(" (%.0f MiB/s)", (scrubbed >> 20) / (scrub_us / 1e6));
	printf(", last %llu us, %llu pending\n", attr_num(dev, "last_scrub_us"),
	       attr_num(dev, "scrubs_pending"));
	show_debugfs(dev);
	return 0;
}

static int status_all(void)
{
	struct dirent *d;
	int found = 0, ret = 0;
	DIR *dir;

	dir = opendir(SYSFS_MISC);
	if (!dir) {
		perror(SYSFS_MISC);
		return 1;
	}
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "accmem", 6))
			continue;
		found = 1;
		ret |= show(d->d_name);
	}
	closedir(dir);
	if (!found) {
		fprintf(stderr, "accmemctl: no accmem device (is the module loaded?)\n");
		return 1;
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

static int wait_idle(const char *dev, double seconds)
{
	char state[32];
	int i;

	for (i = 0; i < seconds * 100; i++) {
		if (!read_attr(dev, "state", state, sizeof(state)) &&
		    !strcmp(state, "idle"))
			return 0;
		usleep(10000);
	}
	return -1;
}

static int demo(const char *dev)
{
	struct accmem_alloc alloc = { .size = 16 << 20 };
	struct accmem_export exp = { .length = 16 << 20, .flags = O_RDWR };
	struct accmem_info info = { 0 };
	char path[64];
	int fd, again;
	char *p;

	snprintf(path, sizeof(path), "/dev/%s", dev);
	if (wait_idle(dev, 30))
		fprintf(stderr, "accmemctl: %s is not idle\n", dev);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, ACCMEM_IOC_INFO, &info)) {
		perror(path);
		return 1;
	}
	printf("%s: %s backend, %llu MiB, page size %llu, uAPI v%u\n", dev,
	       info.backend == ACCMEM_BACKEND_PCI ? "PCI BAR" : "emulated",
	       (unsigned long long)info.mem_size >> 20,
	       (unsigned long long)info.page_size, info.version);
	step(dev, "opened: we are the tenant");
	again = open(path, O_RDWR);
	printf("   a second open() fails: %s\n",
	       again < 0 ? strerror(errno) : "it did not!");
	again = open(path, O_RDONLY);
	printf("   an O_RDONLY open() observes (INFO only): %s\n",
	       again < 0 ? strerror(errno) : "ok");
	if (again >= 0)
		close(again);

	if (ioctl(fd, ACCMEM_IOC_ALLOC, &alloc)) {
		perror("ACCMEM_IOC_ALLOC");
		return 1;
	}
	exp.handle = alloc.handle;
	if (ioctl(fd, ACCMEM_IOC_EXPORT, &exp)) {
		perror("ACCMEM_IOC_EXPORT");
		return 1;
	}
	printf("   allocated 16 MiB: handle %u at device address %#llx, dma-buf fd %d\n",
	       alloc.handle, (unsigned long long)alloc.dev_addr, exp.fd);
	step(dev, "allocated and exported");
	p = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, exp.fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	snprintf(p, 64, "tenant data");
	munmap(p, 16 << 20);

	close(fd);
	step(dev, "device fd closed, dma-buf still alive");
	again = open(path, O_RDWR);
	printf("   the next tenant still gets: %s\n",
	       again < 0 ? strerror(errno) : "the device (wrong!)");

	close(exp.fd);
	step(dev, "dma-buf closed: scrub runs");
	if (wait_idle(dev, 30)) {
		fprintf(stderr, "accmemctl: device did not become idle\n");
		return 1;
	}
	step(dev, "scrubbed: ready for the next tenant");
	return show(dev);
}

int main(int argc, char **argv)
{
	const char *dev = argc == 3 ? argv[2] : "accmem0";

	if (argc >= 2 && argc <= 3 && !strcmp(argv[1], "status"))
		return argc == 3 ? show(argv[2]) : status_all();
	if (argc >= 2 && argc <= 3 && !strcmp(argv[1], "demo"))
		return demo(dev);
	fprintf(stderr, "usage: accmemctl status [accmemN]\n"
		"       accmemctl demo [accmemN]\n");
	return 2;
}
