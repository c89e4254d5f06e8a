/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the accmem selftests.
 *
 * The device under test is $ACCMEM_DEV (default /dev/accmem0); its sysfs
 * directory is /sys/class/misc/<name>.
 */
#ifndef ACCMEM_LIB_H
#define ACCMEM_LIB_H

/*
 * Per-test timeout (include after kselftest_harness.h). The harness default
 * (30 s) is too short for the debug kernels (KASAN, lockdep, kmemleak)
 * under TCG while the host's two cores also build a kernel: the RDMA
 * fixtures' setup alone took longer. A test that hangs is still killed,
 * after 2 minutes.
 */
#ifdef TEST_TIMEOUT_DEFAULT
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120
#endif

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <accmem/accmem.h>
#include <linux/dma-buf.h>

#define SZ_1M (1024ULL * 1024)

static inline const char *accmem_dev_path(void)
{
	const char *dev = getenv("ACCMEM_DEV");

	return dev ? dev : "/dev/accmem0";
}

/*
 * The plain ioctl wrappers are libaccmem's (<accmem/accmem.h>, linked in
 * statically): accmem_info(), accmem_alloc(), accmem_alloc_ext(),
 * accmem_free(), accmem_export(), all returning 0 (or a handle, an fd) or
 * -errno. What follows are the tests' own helpers.
 */

/* Becomes the tenant of $ACCMEM_DEV; returns the fd or -errno. */
static inline int accmem_open(void)
{
	return accmem_open_tenant(accmem_dev_path());
}

/*
 * Any ioctl, returning 0 or -errno: for the tests that hand the kernel
 * what the library never would (bad pointers, padding, unknown numbers).
 */
static inline int accmem_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static inline void *accmem_mmap(int dmabuf, size_t len, int prot)
{
	return mmap(NULL, len, prot, MAP_SHARED, dmabuf, 0);
}

static inline int accmem_sync(int dmabuf, __u64 flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return accmem_ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &s);
}

/* Reads a small file into buf without its newline; returns 0 or -errno. */
static inline int accmem_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/*
 * Splits @cmd, copied into @buf, into @argv (at most @max - 1 words) if it
 * is plain words separated by spaces, optionally ending in " 2>/dev/null"
 * (*@err = 1) or " 2>&1" (*@err = 2): what sh -c would run as is. Returns
 * the number of words, or 0 if the shell is needed (quotes, expansions,
 * pipes, other redirections, a leading assignment...).
 */
static inline int accmem_cmd_words(const char *cmd, char *buf, size_t len,
				   char **argv, int max, int *err)
{
	static const char * const tails[] = { " 2>/dev/null", " 2>&1", NULL };
	size_t i, n = strlen(cmd), t;
	char *w, *save = NULL;
	int argc = 0;

	if (n >= len)
		return 0;
	memcpy(buf, cmd, n + 1);
	*err = 0;
	for (i = 0; tails[i]; i++) {
		t = strlen(tails[i]);
		if (n > t && !strcmp(buf + n - t, tails[i])) {
			buf[n - t] = 0;
			*err = i + 1;
			break;
		}
	}
	if (strpbrk(buf, "'\"\\$`|&;<>()*?[]{}~#!%\t\n"))
		return 0;
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (argc == max - 1 || (!argc && strchr(w, '=')))
			return 0;
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	return argc;
}

/*
 * Runs shell command @cmd; its exit status (-EINTR if it did not exit),
 * its standard output in @out (at most @len - 1 bytes, NUL-terminated).
 * Plain words (accmem_cmd_words()) are run without sh -c in between: in a
 * debug guest under TCG every exec costs 0.4 s or more.
 */
static inline int accmem_run(const char *cmd, char *out, size_t len)
{
	char buf[1024], *argv[32];
	posix_spawn_file_actions_t fa;
	size_t n = 0, r;
	int p[2], st, err;
	ssize_t got;
	pid_t pid;
	FILE *f;

	if (accmem_cmd_words(cmd, buf, sizeof(buf), argv, 32, &err) &&
	    !pipe2(p, O_CLOEXEC)) {
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, p[1], 1);
		if (err == 1)
			posix_spawn_file_actions_addopen(&fa, 2, "/dev/null",
							 O_WRONLY, 0);
		else if (err == 2)
			posix_spawn_file_actions_adddup2(&fa, 1, 2);
		st = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
		close(p[1]);
		while (!st && n < len - 1 &&
		       (got = read(p[0], out + n, len - 1 - n)) > 0)
			n += got;
		out[n] = 0;
		close(p[0]);
		if (st)		/* as sh: command not found */
			return 127;
		if (waitpid(pid, &st, 0) != pid)
			return -errno;
		return WIFEXITED(st) ? WEXITSTATUS(st) : -EINTR;
	}
	f = popen(cmd, "r");
	if (!f)
		return -errno;
	while (n < len - 1 && (r = fread(out + n, 1, len - 1 - n, f)) > 0)
		n += r;
	out[n] = 0;
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -EINTR;
}

/*
 * The shell command that loads accmem again with the lane's parameters
 * (scripts/vm sets ACCMEM_RELOAD), else modprobe.
 */
static inline const char *accmem_reload_cmd(void)
{
	const char *cmd = getenv("ACCMEM_RELOAD");

	return cmd ? cmd : "modprobe accmem";
}

/* Writes @s to a sysfs/debugfs file; returns 0 or -errno. */
static inline int accmem_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The path @dir/<dev>/@file, <dev> being the device's name (accmem0). */
static inline void accmem_dev_file(char *path, size_t len, const char *dir,
				   const char *file)
{
	char dev[64];

	snprintf(dev, sizeof(dev), "%s", accmem_dev_path());
	snprintf(path, len, "%s/%s/%s", dir, basename(dev), file);
}

#define ACCMEM_SYSFS	"/sys/class/misc"
#define ACCMEM_DEBUGFS	"/sys/kernel/debug/accmem"

/* Reads /sys/class/misc/<dev>/<attr> into buf; returns 0 or -errno. */
static inline int accmem_sysfs(const char *attr, char *buf, size_t len)
{
	char path[256];

	accmem_dev_file(path, sizeof(path), ACCMEM_SYSFS, attr);
	return accmem_read_file(path, buf, len);
}

/*
 * Writes @val to /sys/class/misc/<dev>/reclaim ("1" reclaims the device
 * from its tenant); returns 0 or -errno.
 */
static inline int accmem_reclaim_write(const char *val)
{
	char path[256];

	accmem_dev_file(path, sizeof(path), ACCMEM_SYSFS, "reclaim");
	return accmem_write_file(path, val);
}

static inline long long accmem_sysfs_num(const char *attr)
{
	char buf[64];

	if (accmem_sysfs(attr, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 0);
}

static inline double accmem_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Iteration counts of the stress and fuzz programs, scaled by ACCMEM_SCALE
 * (percent, default 100): scripts/check runs them at 25% on the debug
 * kernels, where KASAN, lockdep and kmemleak make each call ~10x slower
 * under TCG and a quarter of the iterations still covers every path.
 */
static inline long accmem_scaled(long n)
{
	const char *env = getenv("ACCMEM_SCALE");
	long pct = env ? atol(env) : 100;

	if (pct <= 0)
		pct = 100;
	n = n * pct / 100;
	return n > 0 ? n : 1;
}

/*
 * Every wait for something that happens asynchronously (a scrub, a state
 * change, a device node, a completion) is a named condition polled here,
 * never a bare sleep: polls @done(@arg) until it returns non-zero or
 * @seconds have passed. Returns 0, or -ETIMEDOUT.
 */
#define ACCMEM_POLL_US	2000

static inline int accmem_poll(int (*done)(void *arg), void *arg,
			      double seconds)
{
	double end = accmem_now() + seconds;

	for (;;) {
		if (done(arg))
			return 0;
		if (accmem_now() >= end)
			return -ETIMEDOUT;
		usleep(ACCMEM_POLL_US);
	}
}

static inline int accmem_state_is(void *want)
{
	char state[32];

	return !accmem_sysfs("state", state, sizeof(state)) &&
	       !strcmp(state, want);
}

/*
 * Waits until the device's state (sysfs "state": idle, owned, draining,
 * scrubbing) is @state. Returns 0, or -ETIMEDOUT after @seconds.
 */
static inline int accmem_wait_state(const char *state, double seconds)
{
	return accmem_poll(accmem_state_is, (void *)state, seconds);
}

/*
 * Waits until the device is idle (the previous tenancy fully scrubbed):
 * libaccmem's wait, which also waits for a device that is not there (yet).
 * Returns 0, or -ETIMEDOUT after @seconds.
 */
static inline int accmem_wait_idle(double seconds)
{
	double end = accmem_now() + seconds, left;
	int ret;

	for (;;) {
		left = end - accmem_now();
		ret = accmem_wait_until_idle(accmem_dev_path(),
					     left > 0 ? left * 1000 : 0);
		if (ret != -ENODEV)
			return ret;
		if (left <= 0)
			return -ETIMEDOUT;
		usleep(ACCMEM_POLL_US);
	}
}

/* Opens the device once it is idle; returns the fd or -errno. */
static inline int accmem_open_idle(void)
{
	int ret = accmem_wait_idle(60);

	return ret ? ret : accmem_open();
}

static inline int accmem_no_scrub_pending(void *arg)
{
	return accmem_sysfs_num("scrubs_pending") == 0;
}

/*
 * Waits until no scrub of a released allocation is pending (sysfs
 * "scrubs_pending" is 0), for a tenant holding @fd (not used: the
 * counter is the device's). Returns 0, or -ETIMEDOUT after 60 s.
 */
static inline int accmem_wait_scrubs(int fd)
{
	(void)fd;
	return accmem_poll(accmem_no_scrub_pending, NULL, 60);
}

/*
 * For the PCI backend: the BAR of the device's parent whose size is
 * @mem_size, from /sys/class/misc/<dev>/device/resource. Returns 0 and its
 * physical start in @start, or -ENOENT.
 */
static inline int accmem_bar_start(__u64 mem_size, __u64 *start)
{
	char path[256];
	unsigned long long s, e, fl;
	FILE *f;
	int ret = -ENOENT;

	accmem_dev_file(path, sizeof(path), ACCMEM_SYSFS, "device/resource");
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fscanf(f, "%llx %llx %llx", &s, &e, &fl) == 3) {
		if (e > s && e - s + 1 >= mem_size &&
		    e - s + 1 < mem_size + 4096) {
			*start = s;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/*
 * One physically contiguous range of a buffer, from accmem's debugfs:
 * bytes [offset, offset + len) of the buffer are at CPU physical address
 * phys. Importers' DMA addresses are these when no IOMMU translates.
 */
struct accmem_phys_range {
	__u64 offset;
	__u64 phys;
	__u64 len;
};

/*
 * The ranges of the live buffer at device address @dev_addr, in buffer
 * order, from /sys/kernel/debug/accmem/<dev>/buffers ("range" lines under
 * its "buffer" line). Stores up to @max of them in @r; returns how many
 * there are, -ENOENT without such a buffer, or -errno.
 */
static inline int accmem_buffer_ranges(__u64 dev_addr, struct accmem_phys_range *r,
				       int max)
{
	char path[256], line[256];
	unsigned long long o, p, l;
	int n = 0, found = 0, in = 0;
	const char *a;
	FILE *f;

	accmem_dev_file(path, sizeof(path), ACCMEM_DEBUGFS, "buffers");
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "buffer ", 7)) {
			a = strstr(line, " dev_addr ");
			in = a && strtoull(a + 10, NULL, 0) == dev_addr;
			found |= in;
			continue;
		}
		if (!in || sscanf(line, " range offset %llx phys %llx len %llx",
				  &o, &p, &l) != 3)
			continue;
		if (n < max) {
			r[n].offset = o;
			r[n].phys = p;
			r[n].len = l;
		}
		n++;
	}
	fclose(f);
	return found ? n : -ENOENT;
}

/*
 * Lines of the device's debugfs "buffers" file (its buffers and their
 * attachments) that contain @a and, unless NULL, @b and @c; or -errno.
 * The first of them goes to @first (@len bytes) unless it is NULL.
 */
static inline int accmem_buffers_match(const char *a, const char *b,
				       const char *c, char *first, size_t len)
{
	char path[256], line[512];
	int n = 0;
	FILE *f;

	accmem_dev_file(path, sizeof(path), ACCMEM_DEBUGFS, "buffers");
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, a) || (b && !strstr(line, b)) ||
		    (c && !strstr(line, c)))
			continue;
		if (!n++ && first)
			snprintf(first, len, "%s", line);
	}
	fclose(f);
	return n;
}

/* The number of lines accmem_buffers_match() finds, or -errno. */
static inline int accmem_buffers_lines(const char *a, const char *b,
				       const char *c)
{
	return accmem_buffers_match(a, b, c, NULL, 0);
}

/* The physical address of byte @offset of a buffer, ~0 outside @r. */
static inline __u64 accmem_range_phys(const struct accmem_phys_range *r, int n,
				      __u64 offset)
{
	int i;

	for (i = 0; i < n; i++)
		if (offset >= r[i].offset && offset - r[i].offset < r[i].len)
			return r[i].phys + offset - r[i].offset;
	return ~0ULL;
}

/* Writes a module parameter of accmem; returns 0 or -errno. */
static inline int accmem_set_param(const char *name, unsigned long long v)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/accmem/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%llu\n", v);
	return fclose(f) ? -errno : 0;
}

#define ACCMEM_PARAMS	"/sys/module/accmem/parameters/"

/* Reads a module parameter of accmem as text ("deny"); 0 or -errno. */
static inline int accmem_get_param_str(const char *name, char *buf, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), ACCMEM_PARAMS "%s", name);
	return accmem_read_file(path, buf, len);
}

/* Writes a module parameter of accmem as text; returns 0 or -errno. */
static inline int accmem_set_param_str(const char *name, const char *v)
{
	char path[128];

	snprintf(path, sizeof(path), ACCMEM_PARAMS "%s", name);
	return accmem_write_file(path, v);
}

/*
 * Sets the pci_vmap parameter to "allow" (dma-bufs exported from now on
 * may be vmapped on the PCI backend), saving its value in @old for
 * accmem_set_param_str("pci_vmap", old) to put back. 0 or -errno.
 */
static inline int accmem_pci_vmap_allow(char *old, size_t len)
{
	int ret = accmem_get_param_str("pci_vmap", old, len);

	return ret ?: accmem_set_param_str("pci_vmap", "allow");
}

/*
 * Exports as accmem_export() does, with the pci_vmap parameter "allow" for
 * the export: on the PCI backend a dma-buf that importers may vmap (an I/O
 * map, which the test importer handles through iosys_map). The parameter
 * is put back as it was. Returns the dma-buf fd or -errno.
 */
static inline int accmem_export_vmap(int fd, __u32 handle, __u64 offset,
				     __u64 length, __u32 flags)
{
	char old[32];
	int ret, d;

	ret = accmem_pci_vmap_allow(old, sizeof(old));
	if (ret)
		return ret;
	d = accmem_export(fd, handle, offset, length, flags);
	ret = accmem_set_param_str("pci_vmap", old);
	if (ret && d >= 0) {
		close(d);
		return ret;
	}
	return d;
}

/*
 * Opens a test module's device, loading it first if needed: insmod of $<env>
 * (a path, optionally followed by parameters) after running @deps, else
 * modprobe @name. Returns the fd or -errno.
 */
static inline int accmem_test_module_open(const char *dev, const char *env,
					  const char *name, const char *deps)
{
	const char *ko = getenv(env);
	char cmd[512];
	int fd;

	if (access(dev, F_OK)) {
		if (ko)
			snprintf(cmd, sizeof(cmd), "%s insmod %s", deps, ko);
		else
			snprintf(cmd, sizeof(cmd), "modprobe %s", name);
		if (system(cmd))
			return -ENOENT;
	}
	fd = open(dev, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static sigjmp_buf accmem_sigbus_env;

static inline void accmem_on_sigbus(int sig)
{
	siglongjmp(accmem_sigbus_env, 1);
}

/*
 * 1 if reading @p gets SIGBUS (a revoked CPU mapping of a dma-buf), 0 if
 * it reads. Not for several threads at once.
 */
static inline int accmem_read_faults(const __u32 *p)
{
	struct sigaction sa = { .sa_handler = accmem_on_sigbus }, old;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(accmem_sigbus_env, 1)) {
		sigaction(SIGBUS, &old, NULL);
		return 1;
	}
	(void)__atomic_load_n(p, __ATOMIC_RELAXED);
	sigaction(SIGBUS, &old, NULL);
	return 0;
}

static inline void accmem_fill(void *p, size_t len, __u32 seed)
{
	__u32 *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		w[i] = seed ^ (__u32)(i * 2654435761u);
}

/* Returns the index of the first word that differs, or -1. */
static inline long accmem_check(const void *p, size_t len, __u32 seed)
{
	const __u32 *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		if (w[i] != (seed ^ (__u32)(i * 2654435761u)))
			return i;
	return -1;
}

/* Returns the index of the first non-zero word, or -1. */
static inline long accmem_check_zero(const void *p, size_t len)
{
	const __u64 *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i])
			return i;
	return -1;
}

/*
 * A tenant, the way every selftest becomes one: the device file, one
 * allocation exported whole as a dma-buf and, if asked, its CPU mapping.
 * Start it with accmem_tenant_start(); accmem_tenant_leave() ends it.
 * Fields are -1 / MAP_FAILED when closed, and tests may close them one by
 * one (then setting them so) to leave in another order.
 */
struct accmem_tenant {
	int fd;				/* the device file */
	struct accmem_info info;	/* INFO, once open */
	int h;				/* the allocation's handle */
	__u64 dev_addr;			/* its device address */
	__u64 size;
	int dmabuf;			/* an O_RDWR export of all of it */
	char *map;			/* its shared CPU mapping */
};

#define ACCMEM_TENANT_CONTIGUOUS	0x1	/* ACCMEM_ALLOC_CONTIGUOUS */
#define ACCMEM_TENANT_MAP		0x2	/* keep a RW mapping in map */
#define ACCMEM_TENANT_FILL		0x4	/* fill with the seed */

#define ACCMEM_TENANT_INIT { .fd = -1, .dmabuf = -1, .map = MAP_FAILED }

static inline void accmem_tenant_init(struct accmem_tenant *t)
{
	*t = (struct accmem_tenant)ACCMEM_TENANT_INIT;
}

/* Says on stderr (a KTAP diagnostic) which step failed; returns @ret. */
static inline int accmem_tenant_fail(const char *what, int ret)
{
	fprintf(stderr, "# accmem tenant: %s failed: %s\n", what,
		strerror(-ret));
	return ret;
}

/*
 * Becomes the tenant, once the device is idle: opens it and reads its INFO.
 * Returns 0, or -errno (and says which step failed).
 */
static inline int accmem_tenant_open(struct accmem_tenant *t)
{
	int ret;

	t->fd = accmem_open_idle();
	if (t->fd < 0)
		return accmem_tenant_fail("open", t->fd);
	ret = accmem_info(t->fd, &t->info);
	return ret ? accmem_tenant_fail("INFO", ret) : 0;
}

/*
 * Opens the device as accmem_tenant_open() does unless @t has it open
 * already, allocates @size (contiguous with ACCMEM_TENANT_CONTIGUOUS),
 * exports all of it O_RDWR | O_CLOEXEC, and with ACCMEM_TENANT_FILL fills
 * it with @seed through a CPU mapping between SYNC START and END; with
 * ACCMEM_TENANT_MAP the mapping stays in map. Returns 0, or -errno (and
 * says which step failed; @t holds what was made until then:
 * accmem_tenant_leave() closes it).
 */
static inline int accmem_tenant_start(struct accmem_tenant *t, __u64 size,
				      unsigned int how, __u32 seed)
{
	struct accmem_alloc a = { .size = size };
	int ret;

	if (t->fd < 0) {
		ret = accmem_tenant_open(t);
		if (ret)
			return ret;
	}
	if (how & ACCMEM_TENANT_CONTIGUOUS)
		a.flags = ACCMEM_ALLOC_CONTIGUOUS;
	ret = accmem_alloc_ext(t->fd, &a);
	if (ret)
		return accmem_tenant_fail("ALLOC", ret);
	t->h = a.handle;
	t->dev_addr = a.dev_addr;
	t->size = size;
	t->dmabuf = accmem_export(t->fd, t->h, 0, size, O_RDWR | O_CLOEXEC);
	if (t->dmabuf < 0)
		return accmem_tenant_fail("EXPORT", t->dmabuf);
	if (!(how & (ACCMEM_TENANT_MAP | ACCMEM_TENANT_FILL)))
		return 0;
	t->map = accmem_mmap(t->dmabuf, size, PROT_READ | PROT_WRITE);
	if (t->map == MAP_FAILED)
		return accmem_tenant_fail("mmap", -errno);
	if (how & ACCMEM_TENANT_FILL) {
		ret = accmem_sync(t->dmabuf,
				  DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
		if (ret)
			return accmem_tenant_fail("SYNC START", ret);
		accmem_fill(t->map, size, seed);
		ret = accmem_sync(t->dmabuf,
				  DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
		if (ret)
			return accmem_tenant_fail("SYNC END", ret);
	}
	if (!(how & ACCMEM_TENANT_MAP)) {
		munmap(t->map, size);
		t->map = MAP_FAILED;
	}
	return 0;
}

/*
 * The tenant leaves: unmaps, closes its dma-buf, then its device file (what
 * it still has of them). Returns 0, or the first -errno.
 */
static inline int accmem_tenant_leave(struct accmem_tenant *t)
{
	int ret = 0;

	if (t->map != MAP_FAILED && munmap(t->map, t->size))
		ret = accmem_tenant_fail("munmap", -errno);
	if (t->dmabuf >= 0 && close(t->dmabuf) && !ret)
		ret = accmem_tenant_fail("close dma-buf", -errno);
	if (t->fd >= 0 && close(t->fd) && !ret)
		ret = accmem_tenant_fail("close device", -errno);
	t->map = MAP_FAILED;
	t->dmabuf = -1;
	t->fd = -1;
	return ret;
}

/*
 * The tenant leaves while something else still holds one of its dma-bufs
 * (an importer, an RDMA MR, a GEM handle, a CPU mapping): once it has, the
 * device is draining. Returns 0, -errno if leaving failed, or -ETIMEDOUT if
 * the device did not get there within 10 s (the tenancy ended instead).
 */
static inline int accmem_tenant_leave_held(struct accmem_tenant *t)
{
	int ret = accmem_tenant_leave(t);

	if (ret)
		return ret;
	ret = accmem_wait_state("draining", 10);
	return ret ? accmem_tenant_fail("wait for draining", ret) : 0;
}

#endif /* ACCMEM_LIB_H */
