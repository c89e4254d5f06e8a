// SPDX-License-Identifier: GPL-2.0
/*
 * The accmem tracepoints: a tenancy (open, alloc, export, an import by the
 * test importer that attaches, pins and maps, its release, free, close)
 * produces its events in order with the right fields, a refused ioctl
 * produces accmem_ioctl_refused with its reason, a refused importer
 * accmem_import_refused with what was refused. The events are
 * read from a tracefs instance of the test's own, on the global clock
 * (the scrub runs on another CPU than the tenant).
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"
#include "accmem_imp.h"

#define TRACEFS		"/sys/kernel/tracing"
#define INSTANCE	TRACEFS "/instances/accmem_selftest"
#define MAX_EVENTS	256

struct event {
	char name[32];
	char args[256];		/* after the device's name */
};

/* Mounts tracefs if needed; 0, or -errno without tracing in the kernel. */
static int tracefs_ready(void)
{
	if (!access(TRACEFS "/instances", F_OK))
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY)
		return -errno;
	return access(TRACEFS "/instances", F_OK) ? -errno : 0;
}

/* The device's name, accmem0. */
static const char *dev_name(void)
{
	const char *p = strrchr(accmem_dev_path(), '/');

	return p ? p + 1 : accmem_dev_path();
}

/*
 * The instance's accmem events of this device, in order: "name" and what
 * follows the device's name. Returns how many, or -errno.
 */
static int read_events(struct event *ev, int max)
{
	char line[512], want[64];
	const char *p, *colon;
	int n = 0;
	FILE *f;

	f = fopen(INSTANCE "/trace", "r");
	if (!f)
		return -errno;
	snprintf(want, sizeof(want), ": %s ", dev_name());
	while (fgets(line, sizeof(line), f) && n < max) {
		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = 0;
		p = strstr(line, ": accmem_");
		if (!p)
			continue;
		p += 2;
		colon = strstr(p, want);
		if (!colon || colon - p >= (long)sizeof(ev[n].name))
			continue;
		snprintf(ev[n].name, sizeof(ev[n].name), "%.*s",
			 (int)(colon - p), p);
		snprintf(ev[n].args, sizeof(ev[n].args), "%s",
			 colon + strlen(want));
		n++;
	}
	fclose(f);
	return n;
}

/* Index of the first event @name at or after @from whose args contain @a. */
static int find(const struct event *ev, int n, int from, const char *name,
		const char *a)
{
	int i;

	for (i = from < 0 ? 0 : from; i < n; i++)
		if (!strcmp(ev[i].name, name) && (!a || strstr(ev[i].args, a)))
			return i;
	return -1;
}

/* The value of "key=" in an event's args, as a number (~0 if absent). */
static unsigned long long field(const struct event *e, const char *key)
{
	char k[40];
	const char *p;

	snprintf(k, sizeof(k), "%s=", key);
	p = strstr(e->args, k);
	return p ? strtoull(p + strlen(k), NULL, 0) : ~0ULL;
}

FIXTURE(trace)
{
	int skip;
	struct event ev[MAX_EVENTS];
};

FIXTURE_SETUP(trace)
{
	int ret = tracefs_ready();

	if (ret)
		SKIP(return, "no tracefs in this kernel (CONFIG_TRACING): %s",
		     strerror(-ret));
	rmdir(INSTANCE);
	ASSERT_EQ(0, mkdir(INSTANCE, 0755));
	ASSERT_EQ(0, access(INSTANCE "/events/accmem", F_OK)) {
		TH_LOG("no accmem events in tracefs: module built without them?");
	}
	ASSERT_EQ(0, accmem_write_file(INSTANCE "/trace_clock", "global"));
	ASSERT_EQ(0, accmem_write_file(INSTANCE "/events/accmem/enable", "1"));
	/* The previous tenancy's scrubs are not ours. */
	ASSERT_EQ(0, accmem_wait_idle(120));
	ASSERT_EQ(0, accmem_write_file(INSTANCE "/trace", ""));
}

FIXTURE_TEARDOWN(trace)
{
	accmem_write_file(INSTANCE "/events/accmem/enable", "0");
	rmdir(INSTANCE);
}

/*
 * The importer's device as accmem sees it: the name on its attachment
 * line in debugfs ("attachment DRIVER NAME ..."). 0 or -ENOENT.
 */
static int importer_name(char *name, size_t len)
{
	char line[512], drv[64], dev[64];
	int n = accmem_buffers_match(" attachment ", NULL, NULL, line,
				     sizeof(line));

	if (n <= 0)
		return n ? n : -ENOENT;
	if (sscanf(line, " attachment %63s %63s", drv, dev) != 2)
		return -ENOENT;
	snprintf(name, len, "%s", dev);
	return 0;
}

/*
 * The tenant of both import tests: opens the device, allocates two pages
 * and exports them whole (O_RDWR when @rw). 0 or -errno.
 */
static int tenant_two_pages(int *fd, struct accmem_alloc *al, int *dmabuf,
			    int rw, struct stat *st)
{
	int ret;

	*fd = accmem_open();
	if (*fd < 0)
		return *fd;
	memset(al, 0, sizeof(*al));
	al->size = 2 * getpagesize();
	ret = accmem_alloc_ext(*fd, al);
	if (ret)
		return ret;
	*dmabuf = accmem_export(*fd, al->handle, 0, al->size,
				(rw ? O_RDWR : 0) | O_CLOEXEC);
	if (*dmabuf < 0)
		return *dmabuf;
	return fstat(*dmabuf, st) ? -errno : 0;
}

TEST_F(trace, tenancy_events)
{
	int fd, h, dmabuf, imp, id, n, i, o, a, e, at, pi, ma, um, up, de, re;
	int fr, sd, end;
	char imp_name[64], key[96];
	struct accmem_alloc al;
	__u64 size, scrubbed = 0;
	struct stat st;

	imp = accmem_imp_open();
	if (imp < 0)
		SKIP(return, "no test importer (accmem_importer.ko): %s",
		     strerror(-imp));
	ASSERT_EQ(0, tenant_two_pages(&fd, &al, &dmabuf, 1, &st));
	h = al.handle;
	size = al.size;
	/* peer-to-peer capable: accepted by both backends */
	id = accmem_imp_import(imp, dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	ASSERT_LE(0, id);
	ASSERT_EQ(0, importer_name(imp_name, sizeof(imp_name)));
	ASSERT_EQ(0, accmem_imp_release(imp, id));
	ASSERT_EQ(0, accmem_free(fd, h));
	close(dmabuf);
	close(imp);
	close(fd);
	ASSERT_EQ(0, accmem_wait_idle(120));

	n = read_events(self->ev, MAX_EVENTS);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++)
		TH_LOG("%s: %s", self->ev[i].name, self->ev[i].args);

	snprintf(key, sizeof(key), "pid=%d", getpid());
	o = find(self->ev, n, 0, "accmem_tenancy_open", key);
	snprintf(key, sizeof(key), "handle=%d size=%llu dev_addr=0x%llx", h,
		 (unsigned long long)size, (unsigned long long)al.dev_addr);
	a = find(self->ev, n, o, "accmem_alloc", key);
	snprintf(key, sizeof(key), "handle=%d ino=%lu offset=0 length=%llu",
		 h, (unsigned long)st.st_ino, (unsigned long long)size);
	e = find(self->ev, n, a, "accmem_export", key);
	snprintf(key, sizeof(key), "ino=%lu importer=%s length=%llu",
		 (unsigned long)st.st_ino, imp_name, (unsigned long long)size);
	at = find(self->ev, n, e, "accmem_attach", key);
	pi = find(self->ev, n, at, "accmem_pin", key);
	snprintf(key, sizeof(key), "ino=%lu importer=%s segments=",
		 (unsigned long)st.st_ino, imp_name);
	ma = find(self->ev, n, pi, "accmem_map", key);
	um = find(self->ev, n, ma, "accmem_unmap", key);
	snprintf(key, sizeof(key), "ino=%lu importer=%s length=%llu",
		 (unsigned long)st.st_ino, imp_name, (unsigned long long)size);
	up = find(self->ev, n, um, "accmem_unpin", key);
	de = find(self->ev, n, up, "accmem_detach", key);
	snprintf(key, sizeof(key), "handle=%d size=%llu", h,
		 (unsigned long long)size);
	fr = find(self->ev, n, de, "accmem_free", key);
	snprintf(key, sizeof(key), "handle=%d ino=%lu offset=0 length=%llu",
		 h, (unsigned long)st.st_ino, (unsigned long long)size);
	re = find(self->ev, n, fr, "accmem_release", key);
	sd = find(self->ev, n, re, "accmem_scrub_start", NULL);
	snprintf(key, sizeof(key), "pid=%d", getpid());
	end = find(self->ev, n, sd, "accmem_tenancy_end", key);

	EXPECT_LE(0, o);
	EXPECT_LT(o, a);
	EXPECT_LT(a, e);
	EXPECT_LT(e, at);
	EXPECT_LT(at, pi);
	EXPECT_LT(pi, ma);
	EXPECT_LT(ma, um);
	EXPECT_LT(um, up);
	EXPECT_LT(up, de);
	EXPECT_LT(de, fr);
	EXPECT_LT(fr, re);
	EXPECT_LT(re, sd);
	EXPECT_LT(sd, end);
	if (ma >= 0) {
		EXPECT_LE(1, field(&self->ev[ma], "segments"));
		EXPECT_EQ(field(&self->ev[ma], "segments"),
			  field(&self->ev[um], "segments"));
	}
	/* Between the release and the end: the allocation, zeroed. */
	for (i = re; i >= 0 && i < end; i++) {
		if (strcmp(self->ev[i].name, "accmem_scrub_done"))
			continue;
		scrubbed += field(&self->ev[i], "bytes");
		EXPECT_NE(~0ULL, field(&self->ev[i], "ns"));
	}
	EXPECT_EQ(size, scrubbed);
}

/* A refused ioctl says which, with what errno and why. */
TEST_F(trace, refused_ioctl)
{
	int fd, obs, n, i;
	char key[160];

	fd = accmem_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, accmem_alloc(fd, getpagesize() + 1, 0, 0));
	EXPECT_EQ(-ENOENT, accmem_free(fd, 12345));
	obs = accmem_open_observer(accmem_dev_path());
	ASSERT_LE(0, obs);
	EXPECT_EQ(-EBADF, accmem_alloc(obs, getpagesize(), 0, 0));
	close(obs);
	close(fd);

	n = read_events(self->ev, MAX_EVENTS);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++)
		TH_LOG("%s: %s", self->ev[i].name, self->ev[i].args);
	snprintf(key, sizeof(key),
		 "nr=0x%x ioctl=ALLOC err=%d reason=size not a multiple of the page size",
		 (unsigned int)_IOC_NR(ACCMEM_IOC_ALLOC), -EINVAL);
	EXPECT_LE(0, find(self->ev, n, 0, "accmem_ioctl_refused", key));
	snprintf(key, sizeof(key), "nr=0x%x ioctl=FREE err=%d reason=-",
		 (unsigned int)_IOC_NR(ACCMEM_IOC_FREE), -ENOENT);
	EXPECT_LE(0, find(self->ev, n, 0, "accmem_ioctl_refused", key));
	snprintf(key, sizeof(key),
		 "nr=0x%x ioctl=ALLOC err=%d reason=observer (opened O_RDONLY)",
		 (unsigned int)_IOC_NR(ACCMEM_IOC_ALLOC), -EBADF);
	EXPECT_LE(0, find(self->ev, n, 0, "accmem_ioctl_refused", key));
	EXPECT_EQ(0, accmem_wait_idle(120));
}

/*
 * Refused importers: a pin beyond max_pin_bytes on both backends; on PCI
 * BAR memory also the attach of an importer that cannot do peer-to-peer.
 */
TEST_F(trace, refused_import)
{
	struct accmem_info info;
	int fd, dmabuf, imp, n, i;
	struct accmem_alloc al;
	char key[96];
	struct stat st;

	imp = accmem_imp_open();
	if (imp < 0)
		SKIP(return, "no test importer (accmem_importer.ko): %s",
		     strerror(-imp));
	ASSERT_EQ(0, tenant_two_pages(&fd, &al, &dmabuf, 0, &st));
	ASSERT_EQ(0, accmem_info(fd, &info));

	ASSERT_EQ(0, accmem_set_param("max_pin_bytes", info.page_size));
	EXPECT_EQ(-EDQUOT, accmem_imp_import(imp, dmabuf, ACCMEM_IMP_DYN_PIN,
					     0, NULL));
	EXPECT_EQ(0, accmem_set_param("max_pin_bytes", 0));
	if (info.backend == ACCMEM_BACKEND_PCI)
		EXPECT_EQ(-EOPNOTSUPP, accmem_imp_import(imp, dmabuf,
							 ACCMEM_IMP_STATIC, 0,
							 NULL));
	close(dmabuf);
	close(imp);
	close(fd);
	EXPECT_EQ(0, accmem_wait_idle(120));

	n = read_events(self->ev, MAX_EVENTS);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++)
		TH_LOG("%s: %s", self->ev[i].name, self->ev[i].args);
	snprintf(key, sizeof(key), "ino=%lu importer=", (unsigned long)st.st_ino);
	i = find(self->ev, n, 0, "accmem_import_refused", key);
	ASSERT_LE(0, i);
	snprintf(key, sizeof(key), " op=pin err=%d", -EDQUOT);
	EXPECT_NE(NULL, strstr(self->ev[i].args, key));
	/* the pin was refused, so it was never pinned */
	EXPECT_EQ(-1, find(self->ev, n, 0, "accmem_pin", NULL));
	if (info.backend == ACCMEM_BACKEND_PCI) {
		snprintf(key, sizeof(key), "op=attach err=%d", -EOPNOTSUPP);
		EXPECT_LE(0, find(self->ev, n, i + 1, "accmem_import_refused",
				  key));
	}
}

TEST_HARNESS_MAIN
