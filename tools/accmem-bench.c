// SPDX-License-Identifier: GPL-2.0
/*
 * accmem-bench: accmem next to the kernel's own exporters (udmabuf and the
 * system dma-heap), measured in one run on one machine. Run by scripts/bench
 * inside the VM; needs root, an idle accmem device and the accmem_importer
 * test module (for attach/map timings, and the in-kernel fill the scrub and
 * the turnover are compared with). Exporters that are missing are
 * reported as n/a.
 *
 *   accmem-bench [--quick] [--scrub-only | --map-4k] [--dev accmemN|/dev/accmemN]
 *
 * --map-4k measures only the 4 KiB attach+map+unmap (ratio map_4k), with
 * more repetitions (40 rounds of 25 imports of each exporter in turn), for
 * investigating that one figure (Documentation/performance.rst).
 *
 * The device is --dev, else $ACCMEM_DEV, else /dev/accmem0 (as in the
 * selftests, whose helpers this uses: selftests/accmem_lib.h and
 * accmem_imp.h).
 *
 * Every timed figure is several repetitions, reported as median (min-max);
 * where exporters are compared, their repetitions are interleaved (one
 * round of each in turn), and a ratio divides medians.
 *
 * Prints a markdown table, then one line per ratio: "ratio NAME VALUE".
 * TCG times are only comparable within one run: only ratios mean anything.
 * The ratios (Documentation/performance.rst has the targets):
 *   export_4k/_2m/_64m  alloc+export+close / udmabuf's create+close
 *   map_1g              attach+map+unmap of 1 GiB / udmabuf's
 *   segments_1g         accmem's segments for a contiguous 1 GiB (a count)
 *   map_4k              attach+map+unmap of 4 KiB / the faster peer's
 *   export_4k_p99       p99 of 4 KiB alloc+export+close / the faster peer's
 *   scrub_limit         scrub bandwidth / in-kernel fill of the same memory
 *   turnover            last release -> next open(), per GiB / fill per GiB
 *   alloc_growth        alloc+free with 100k live allocations / with 100
 *   export_growth       export+close with 10k live exports / with 100
 *   map_64k_segs        time per segment of a 64 KiB-segment map of a
 *                       contiguous export, beyond its one-segment map /
 *                       udmabuf's time per segment (1 GiB, one per page)
 */
#include <sys/resource.h>

#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include "accmem_lib.h"
#include "accmem_imp.h"

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

/* How long the device may take to go idle (earlier tenancies scrubbed). */
#define IDLE_TIMEOUT_S 120

enum { ACCMEM, UDMABUF, HEAP, NEXP };
static const char *const exp_name[NEXP] = { "accmem", "udmabuf", "system heap" };

static int accmem_fd = -1, udmabuf_dev = -1, heap_dev = -1, imp_fd = -1;
static int quick;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A figure's repetitions: n < 1 means not measured (n/a). */
struct summ {
	double min, med, max, p99;
	int n;
};

static const struct summ none = { -1, -1, -1, -1, 0 };

/* Sorts @v. */
static struct summ summarize(double *v, int n)
{
	struct summ s = none;

	if (n <= 0)
		return s;
	qsort(v, n, sizeof(*v), cmp_double);
	s.n = n;
	s.min = v[0];
	s.max = v[n - 1];
	s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.p99 = v[(n * 99) / 100 >= n ? n - 1 : (n * 99) / 100];
	return s;
}

/* A single value (a count, not a time). */
static struct summ single(double x)
{
	struct summ s = { x, x, x, x, 1 };

	return x < 0 ? none : s;
}

/* One buffer of each exporter: returns a dma-buf fd (and accmem handle). */
static int make_buf(int exp, uint64_t size, uint32_t *handle)
{
	switch (exp) {
	case ACCMEM: {
		int h = accmem_alloc(accmem_fd, size, 0, ACCMEM_ALLOC_CONTIGUOUS);

		if (h < 0)
			return h;
		*handle = h;
		return accmem_export(accmem_fd, h, 0, size, O_RDWR | O_CLOEXEC);
	}
	case UDMABUF: {
		struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = size };
		int memfd = memfd_create("bench", MFD_ALLOW_SEALING), fd;

		if (memfd < 0 || ftruncate(memfd, size) ||
		    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK))
			return -errno;
		c.memfd = memfd;
		fd = ioctl(udmabuf_dev, UDMABUF_CREATE, &c);
		close(memfd);
		return fd < 0 ? -errno : fd;
	}
	case HEAP: {
		struct dma_heap_allocation_data d = {
			.len = size, .fd_flags = O_RDWR | O_CLOEXEC,
		};

		int ret = accmem_ioctl(heap_dev, DMA_HEAP_IOCTL_ALLOC, &d);

		return ret ? ret : (int)d.fd;
	}
	}
	return -EINVAL;
}

static void drop_buf(int exp, int fd, uint32_t handle)
{
	close(fd);
	if (exp == ACCMEM)
		accmem_free(accmem_fd, handle);
}

static int available(int exp)
{
	return exp == ACCMEM ? accmem_fd >= 0 :
	       exp == UDMABUF ? udmabuf_dev >= 0 : heap_dev >= 0;
}

struct row {
	const char *what;
	const char *unit;
	struct summ v[NEXP];
};

static struct row rows[64];
static int nrows;

static void add_row(const char *what, const char *unit, const struct summ *v)
{
	rows[nrows].what = strdup(what);
	rows[nrows].unit = unit;
	memcpy(rows[nrows].v, v, sizeof(rows[nrows].v));
	nrows++;
}

/* A row with accmem's figure only. */
static void add_row1(const char *what, const char *unit, struct summ s)
{
	struct summ v[NEXP] = { s, none, none };

	add_row(what, unit, v);
}

static const char *size_name(uint64_t s)
{
	static char buf[8][16];
	static int i;
	char *b = buf[i++ % 8];

	if (s >= GiB)
		snprintf(b, 16, "%llu GiB", (unsigned long long)(s / GiB));
	else if (s >= MiB)
		snprintf(b, 16, "%llu MiB", (unsigned long long)(s / MiB));
	else
		snprintf(b, 16, "%llu KiB", (unsigned long long)(s / KiB));
	return b;
}

/*
 * 1. alloc + export + close (create + close for the peers): @rounds
 * rounds, each @iters operations of every exporter in turn.
 */
static void bench_export(uint64_t size, int rounds, int iters,
			 struct summ *out)
{
	double *t[NEXP];
	struct summ p99[NEXP];
	int n[NEXP] = { 0 }, failed[NEXP] = { 0 };
	char what[64];
	int exp, r, i;

	for (exp = 0; exp < NEXP; exp++)
		t[exp] = calloc(rounds * iters, sizeof(double));
	for (r = 0; r < rounds; r++) {
		for (exp = 0; exp < NEXP; exp++) {
			if (!available(exp) || failed[exp])
				continue;
			for (i = 0; i < iters; i++) {
				uint32_t h = 0;
				double t0 = accmem_now();
				int fd = make_buf(exp, size, &h);

				if (fd < 0) {
					fprintf(stderr, "%s %s: %s\n",
						exp_name[exp], size_name(size),
						strerror(-fd));
					failed[exp] = 1;
					break;
				}
				drop_buf(exp, fd, h);
				t[exp][n[exp]++] = (accmem_now() - t0) * 1e6;
			}
		}
	}
	for (exp = 0; exp < NEXP; exp++) {
		out[exp] = failed[exp] ? none : summarize(t[exp], n[exp]);
		p99[exp] = single(out[exp].p99);
		free(t[exp]);
	}
	snprintf(what, sizeof(what), "alloc+export+close %s", size_name(size));
	add_row(what, "us", out);
	snprintf(what, sizeof(what), "alloc+export+close %s, p99", size_name(size));
	add_row(what, "us", p99);
}

/*
 * 2. attach + map + unmap + detach through the test importer: @rounds
 * rounds, each @iters imports of every exporter's buffer in turn.
 */
static void bench_map(uint64_t size, int rounds, int iters, struct summ *out,
		      double *segs)
{
	double *t[NEXP];
	struct summ sv[NEXP];
	int fd[NEXP], n[NEXP] = { 0 }, failed[NEXP] = { 0 };
	uint32_t h[NEXP] = { 0 };
	char what[64];
	int exp, r, i;

	for (exp = 0; exp < NEXP; exp++) {
		t[exp] = calloc(rounds * iters, sizeof(double));
		segs[exp] = -1;
		fd[exp] = -1;
		if (!available(exp) || imp_fd < 0)
			continue;
		fd[exp] = make_buf(exp, size, &h[exp]);
		if (fd[exp] < 0)
			fprintf(stderr, "%s %s: %s\n", exp_name[exp],
				size_name(size), strerror(-fd[exp]));
	}
	for (r = 0; r < rounds; r++) {
		for (exp = 0; exp < NEXP; exp++) {
			if (fd[exp] < 0 || failed[exp])
				continue;
			for (i = 0; i < iters; i++) {
				struct accmem_imp_import a;
				double t0 = accmem_now();
				int id = accmem_imp_import(imp_fd, fd[exp],
							   ACCMEM_IMP_DYN_PIN,
							   0, &a);
				int ret = id < 0 ? id :
					  accmem_imp_release(imp_fd, id);

				if (ret) {
					fprintf(stderr, "%s %s: import: %s\n",
						exp_name[exp], size_name(size),
						strerror(-ret));
					failed[exp] = 1;
					break;
				}
				t[exp][n[exp]++] = (accmem_now() - t0) * 1e6;
				segs[exp] = a.nents;
			}
		}
	}
	for (exp = 0; exp < NEXP; exp++) {
		out[exp] = fd[exp] < 0 || failed[exp] ? none :
			   summarize(t[exp], n[exp]);
		sv[exp] = single(segs[exp]);
		if (fd[exp] >= 0)
			drop_buf(exp, fd[exp], h[exp]);
		free(t[exp]);
	}
	snprintf(what, sizeof(what), "attach+map+unmap %s", size_name(size));
	add_row(what, "us", out);
	snprintf(what, sizeof(what), "sg segments %s", size_name(size));
	add_row(what, "", sv);
}

/*
 * 3. CPU bandwidth through the dma-buf mmap, bracketed by SYNC: @rounds
 * rounds, each one write and one read of every exporter's buffer in turn.
 */
static void bench_cpu(uint64_t size, int rounds)
{
	double *wt[NEXP], *rt[NEXP];
	struct summ wr[NEXP], rd[NEXP];
	uint64_t *p[NEXP];
	uint32_t h[NEXP] = { 0 };
	int fd[NEXP], n[NEXP] = { 0 };
	char what[64];
	int exp, r, i;

	for (exp = 0; exp < NEXP; exp++) {
		wt[exp] = calloc(rounds, sizeof(double));
		rt[exp] = calloc(rounds, sizeof(double));
		p[exp] = MAP_FAILED;
		fd[exp] = available(exp) ? make_buf(exp, size, &h[exp]) : -1;
		if (fd[exp] < 0)
			continue;
		p[exp] = accmem_mmap(fd[exp], size, PROT_READ | PROT_WRITE);
		if (p[exp] != MAP_FAILED)
			memset(p[exp], 0, size);	/* fault it in first */
	}
	for (r = 0; r < rounds; r++) {
		for (exp = 0; exp < NEXP; exp++) {
			uint64_t sum = 0;
			double t0;

			if (p[exp] == MAP_FAILED)
				continue;
			t0 = accmem_now();
			accmem_sync(fd[exp], DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
			memset(p[exp], 0x5a, size);
			accmem_sync(fd[exp], DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
			wt[exp][n[exp]] = size / MiB / (accmem_now() - t0);

			t0 = accmem_now();
			accmem_sync(fd[exp], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
			for (i = 0; i < (int)(size / 8); i++)
				sum += p[exp][i];
			accmem_sync(fd[exp], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
			rt[exp][n[exp]++] = size / MiB / (accmem_now() - t0);
			if (sum == 1)	/* keeps the read loop */
				fputc(' ', stderr);
		}
	}
	for (exp = 0; exp < NEXP; exp++) {
		wr[exp] = summarize(wt[exp], n[exp]);
		rd[exp] = summarize(rt[exp], n[exp]);
		if (p[exp] != MAP_FAILED)
			munmap(p[exp], size);
		if (fd[exp] >= 0)
			drop_buf(exp, fd[exp], h[exp]);
		free(wt[exp]);
		free(rt[exp]);
	}
	snprintf(what, sizeof(what), "CPU write via mmap %s", size_name(size));
	add_row(what, "MiB/s", wr);
	snprintf(what, sizeof(what), "CPU read via mmap %s", size_name(size));
	add_row(what, "MiB/s", rd);
}

/* Waits for the device to be idle and makes us its tenant again. */
static int reopen_idle(void)
{
	if (accmem_fd >= 0)
		close(accmem_fd);
	accmem_fd = -1;
	if (accmem_wait_idle(IDLE_TIMEOUT_S))
		return -ETIMEDOUT;
	accmem_fd = accmem_open();
	return accmem_fd < 0 ? accmem_fd : 0;
}

struct scrub_run {
	double fill_ns;		/* the importer's in-kernel fill of @size */
	double scrub_mibs;	/* the scrub of the same memory, MiB/s */
	double turnover_ns;	/* last release -> next open() succeeds */
};

/*
 * How the bench waits for the next tenancy: as a runtime should, asleep
 * in libaccmem's accmem_wait_until_idle() (poll() on sysfs "state", woken
 * by the state change) and then open(); or retrying open() every 200 us
 * (SPIN), which keeps a vCPU busy while the scrub runs.
 */
enum { WAIT_POLL, WAIT_SPIN, NWAIT };

static int next_open(int how)
{
	int fd;

	for (;;) {
		if (how == WAIT_POLL) {
			int ret = accmem_wait_until_idle(accmem_dev_path(),
							 IDLE_TIMEOUT_S * 1000);

			if (ret)
				return ret;
		}
		fd = accmem_open();
		if (fd != -EBUSY)
			return fd;
		if (how == WAIT_SPIN)
			usleep(200);
	}
}

/*
 * One repetition of 4.: a contiguous allocation of @size, exported and
 * imported by the test importer; the importer fills it with zeros through
 * its vmap, with the routine and loop of accmem's scrub (memset() on RAM,
 * memset_io() on a BAR; ACCMEM_IMP_FILL); then the tenant closes
 * everything but the import, whose release is the last one: it starts the
 * scrub of the same memory (the module's counters time it) and the clock
 * of the turnover, which stops when next_open(@how) succeeds.
 * 0, or -errno (-EINVAL: the importer cannot vmap this memory).
 */
static int scrub_once(uint64_t size, int how, struct scrub_run *run)
{
	long long b0, t0us, b1, t1us;
	int h, dmabuf, id, fd, ret;
	__u64 ns = 0;
	double t0;

	ret = reopen_idle();
	if (ret)
		return ret;
	h = accmem_alloc(accmem_fd, size, 0, ACCMEM_ALLOC_CONTIGUOUS);
	if (h < 0)
		return h;
	dmabuf = accmem_export(accmem_fd, h, 0, size, O_RDWR | O_CLOEXEC);
	if (dmabuf < 0)
		return dmabuf;
	id = accmem_imp_import(imp_fd, dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);
	close(dmabuf);
	accmem_free(accmem_fd, h);
	if (id < 0)
		return id;
	ret = accmem_imp_fill(imp_fd, id, 0, size, &ns);
	if (ret) {
		accmem_imp_release(imp_fd, id);
		return ret;
	}
	run->fill_ns = ns;

	/* the import is the last holder: its release starts the scrub */
	close(accmem_fd);
	accmem_fd = -1;
	b0 = accmem_sysfs_num("bytes_scrubbed");
	t0us = accmem_sysfs_num("scrub_time_us");
	t0 = accmem_now();
	ret = accmem_imp_release(imp_fd, id);
	if (ret)
		return ret;
	fd = next_open(how);
	if (fd < 0)
		return fd;
	run->turnover_ns = (accmem_now() - t0) * 1e9;
	accmem_fd = fd;
	b1 = accmem_sysfs_num("bytes_scrubbed");
	t1us = accmem_sysfs_num("scrub_time_us");
	if (b1 - b0 != (long long)size || t1us <= t0us)
		return -EIO;
	run->scrub_mibs = (b1 - b0) / (double)MiB / ((t1us - t0us) / 1e6);
	return 0;
}

/*
 * 4. The limits of a scrub and of the turnover: @reps repetitions of
 * scrub_once() with each way of waiting, alternating, so fill, scrub and
 * turnover are interleaved in the same VM.
 * ratio scrub_limit = median scrub bandwidth / median fill bandwidth;
 * ratio turnover = median turnover per GiB / median fill time per GiB;
 * both with the WAIT_POLL repetitions (the fill from all of them).
 */
static void bench_scrub_limit(uint64_t size, int reps, double *scrub_limit,
			      double *turnover)
{
	static const char *const how_name[NWAIT] = {
		"asleep in poll() on state", "retrying open() every 200 us",
	};
	double *fill = calloc(2 * reps, sizeof(double));
	double *fill_t = calloc(2 * reps, sizeof(double));
	double *scrub[NWAIT], *turn[NWAIT];
	double gib = size / (double)GiB;
	struct summ f, ft, sc[NWAIT], tu[NWAIT];
	int i, how, n = 0, nh[NWAIT] = { 0 }, ret = 0;
	char what[128];

	*scrub_limit = -1;
	*turnover = -1;
	for (how = 0; how < NWAIT; how++) {
		scrub[how] = calloc(reps, sizeof(double));
		turn[how] = calloc(reps, sizeof(double));
	}
	for (i = 0; i < 2 * reps && imp_fd >= 0; i++) {
		struct scrub_run run;

		how = i % NWAIT;
		ret = scrub_once(size, how, &run);
		if (ret)
			break;
		fill[n] = size / MiB / (run.fill_ns / 1e9);
		fill_t[n++] = run.fill_ns / 1e6 / gib;
		scrub[how][nh[how]] = run.scrub_mibs;
		turn[how][nh[how]++] = run.turnover_ns / 1e6 / gib;
	}
	if (imp_fd < 0)
		fprintf(stderr, "scrub limit: no test importer\n");
	else if (ret)
		fprintf(stderr, "scrub limit: %s%s\n", strerror(-ret),
			ret == -EINVAL ?
			" (the importer's vmap: pci_vmap=allow on the PCI backend)" :
			"");
	if (ret) {
		memset(nh, 0, sizeof(nh));
		n = 0;
	}
	reopen_idle();
	f = summarize(fill, n);
	ft = summarize(fill_t, n);
	snprintf(what, sizeof(what), "in-kernel fill of %s, the scrub's routine",
		 size_name(size));
	add_row1(what, "MiB/s", f);
	for (how = 0; how < NWAIT; how++) {
		sc[how] = summarize(scrub[how], nh[how]);
		snprintf(what, sizeof(what),
			 "scrub of the same memory, the bench %s", how_name[how]);
		add_row1(what, "MiB/s", sc[how]);
	}
	add_row1("in-kernel fill, per GiB", "ms", ft);
	for (how = 0; how < NWAIT; how++) {
		tu[how] = summarize(turn[how], nh[how]);
		snprintf(what, sizeof(what),
			 "turnover (last release -> open) per GiB, %s",
			 how_name[how]);
		add_row1(what, "ms", tu[how]);
		free(scrub[how]);
		free(turn[how]);
	}
	if (nh[WAIT_POLL]) {
		*scrub_limit = sc[WAIT_POLL].med / f.med;
		*turnover = tu[WAIT_POLL].med / ft.med;
	}
	free(fill);
	free(fill_t);
}

/* Slab: in /proc/meminfo, KiB; -1 if unreadable. */
static long long meminfo_kib(const char *field)
{
	char line[128];
	long long v = -1;
	size_t len = strlen(field);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':') {
			v = atoll(line + len + 1);
			break;
		}
	fclose(f);
	return v;
}

/* The growth steps: live allocations, and live exports among them. */
#define NSTEP 3
static const int step_allocs[NSTEP] = { 100, 10000, 100000 };
static const int step_exports[NSTEP] = { 100, 1000, 10000 };

struct growth {
	uint32_t *h;		/* the live allocations */
	int *fd;		/* the live exports (of h[0..]) */
	int allocs, exports;
	long long slab_alloc, slab_export;	/* KiB added while growing */
	long long n_alloc, n_export;		/* objects added meanwhile */
};

/* Grows to @allocs live allocations and @exports live exports. */
static int grow(struct growth *g, int allocs, int exports)
{
	long long s0 = meminfo_kib("Slab"), s1;
	int n0 = g->allocs, ret;

	for (; g->allocs < allocs; g->allocs++) {
		ret = accmem_alloc(accmem_fd, 4096, 0, 0);
		if (ret < 0)
			return ret;
		g->h[g->allocs] = ret;
	}
	s1 = meminfo_kib("Slab");
	g->slab_alloc += s1 - s0;
	g->n_alloc += g->allocs - n0;
	n0 = g->exports;
	for (; g->exports < exports; g->exports++) {
		ret = accmem_export(accmem_fd, g->h[g->exports], 0, 4096,
				    O_RDWR | O_CLOEXEC);
		if (ret < 0)
			return ret;
		g->fd[g->exports] = ret;
	}
	g->slab_export += meminfo_kib("Slab") - s1;
	g->n_export += g->exports - n0;
	return 0;
}

static void shrink(struct growth *g, int allocs, int exports)
{
	for (; g->exports > exports; g->exports--)
		close(g->fd[g->exports - 1]);
	for (; g->allocs > allocs; g->allocs--)
		accmem_free(accmem_fd, g->h[g->allocs - 1]);
}

/*
 * 5. Growth: the cost of an allocation (alloc+free of 4 KiB), of an
 * export (export+close of a live 4 KiB allocation) and of an import
 * (attach+map+unmap+detach of a live export) with 100, 10k and 100k live
 * allocations, of which 100, 1k and 10k are exported, interleaved:
 * @rounds rounds, each growing from the first step to the last and
 * shrinking back. The kernel memory of a live allocation and of a live
 * export: the growth of /proc/meminfo "Slab" over the objects added.
 * ratio alloc_growth and export_growth: the last step's median / the
 * first's.
 */
static void bench_growth(int rounds, struct summ *alloc, struct summ *export)
{
	static const char *const step_name[NSTEP] = {
		"100 live allocations, 100 exports",
		"10k live allocations, 1k exports",
		"100k live allocations, 10k exports",
	};
	int iters = quick ? 100 : 300, r = 0, l, i, ret = 0;
	int n[NSTEP] = { 0 }, nm[NSTEP] = { 0 };
	struct growth g = {
		.h = calloc(step_allocs[NSTEP - 1], sizeof(*g.h)),
		.fd = calloc(step_exports[NSTEP - 1], sizeof(*g.fd)),
	};
	double *ta[NSTEP], *te[NSTEP], *tm[NSTEP];
	struct summ map[NSTEP];
	struct rlimit rl;
	char what[128];

	/* the live exports are fds */
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)step_exports[NSTEP - 1] + 100) {
		rl.rlim_cur = step_exports[NSTEP - 1] + 100;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			ret = -errno;
	}
	for (l = 0; l < NSTEP; l++) {
		ta[l] = calloc(rounds * iters, sizeof(double));
		te[l] = calloc(rounds * iters, sizeof(double));
		tm[l] = calloc(rounds * iters, sizeof(double));
	}
	for (r = 0; r < rounds && !ret; r++) {
		for (l = 0; l < NSTEP && !ret; l++) {
			ret = grow(&g, step_allocs[l], step_exports[l]);
			for (i = 0; i < iters && !ret; i++) {
				double t0 = accmem_now();
				int h = accmem_alloc(accmem_fd, 4096, 0, 0);

				if (h < 0) {
					ret = h;
					break;
				}
				accmem_free(accmem_fd, h);
				ta[l][n[l]] = (accmem_now() - t0) * 1e6;

				t0 = accmem_now();
				ret = accmem_export(accmem_fd,
						    g.h[i % step_allocs[0]], 0,
						    4096, O_RDWR | O_CLOEXEC);
				if (ret < 0)
					break;
				close(ret);
				te[l][n[l]++] = (accmem_now() - t0) * 1e6;
				ret = 0;
				if (imp_fd < 0 || i % 3)
					continue;
				t0 = accmem_now();
				ret = accmem_imp_import(imp_fd,
							g.fd[i % step_exports[0]],
							ACCMEM_IMP_DYN_PIN, 0,
							NULL);
				if (ret < 0)
					break;
				ret = accmem_imp_release(imp_fd, ret);
				tm[l][nm[l]++] = (accmem_now() - t0) * 1e6;
			}
		}
		shrink(&g, step_allocs[0], step_exports[0]);
	}
	shrink(&g, 0, 0);
	if (ret)
		fprintf(stderr, "growth: %s\n", strerror(-ret));
	for (l = 0; l < NSTEP; l++) {
		alloc[l] = ret ? none : summarize(ta[l], n[l]);
		export[l] = ret ? none : summarize(te[l], n[l]);
		map[l] = ret ? none : summarize(tm[l], nm[l]);
		free(ta[l]);
		free(te[l]);
		free(tm[l]);
	}
	for (l = 0; l < NSTEP; l++) {
		snprintf(what, sizeof(what), "alloc+free 4 KiB, %s", step_name[l]);
		add_row1(what, "us", alloc[l]);
	}
	for (l = 0; l < NSTEP; l++) {
		snprintf(what, sizeof(what), "export+close 4 KiB, %s", step_name[l]);
		add_row1(what, "us", export[l]);
	}
	for (l = 0; l < NSTEP; l++) {
		snprintf(what, sizeof(what), "attach+map+unmap 4 KiB, %s",
			 step_name[l]);
		add_row1(what, "us", map[l]);
	}
	add_row1("kernel memory (Slab) per live allocation", "bytes",
		 ret || !g.n_alloc ? none :
		 single(g.slab_alloc * 1024.0 / g.n_alloc));
	add_row1("kernel memory (Slab) per live export", "bytes",
		 ret || !g.n_export ? none :
		 single(g.slab_export * 1024.0 / g.n_export));
	free(g.h);
	free(g.fd);
}

/* Maximum segment sizes of the two importers of 6. */
#define NSEG 2
static const uint64_t seg_max[NSEG] = { 64 * KiB, 2 * GiB };

/*
 * One export of @h mapped by importers limited to seg_max[] segments,
 * @reps times each, interleaved: the time of attach+map+unmap+detach, the
 * segments, and the kernel memory the mapping holds while it exists
 * (MemFree before the import - MemFree while it is mapped: the sg_table,
 * accmem's segment arrays and what the DMA API keeps). Returns 0 or -errno.
 */
static int map_segs(uint32_t h, uint64_t size, int reps, struct summ *t,
		    struct summ *segs, struct summ *mem)
{
	double *tv[NSEG], *mv[NSEG], nents[NSEG] = { -1, -1 };
	int fd, r, s, ret = 0, n = 0;

	fd = accmem_export(accmem_fd, h, 0, size, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fd;
	for (s = 0; s < NSEG; s++) {
		tv[s] = calloc(reps, sizeof(double));
		mv[s] = calloc(reps, sizeof(double));
	}
	for (r = 0; r < reps && !ret; r++, n++) {
		for (s = 0; s < NSEG && !ret; s++) {
			struct accmem_imp_import a;
			long long m0 = meminfo_kib("MemFree"), m1;
			double t0 = accmem_now(), t1, t2;
			int id = accmem_imp_import(imp_fd, fd, ACCMEM_IMP_DYN_PIN,
						   seg_max[s], &a);

			if (id < 0) {
				ret = id;
				break;
			}
			t1 = accmem_now();
			m1 = meminfo_kib("MemFree");
			t2 = accmem_now();
			ret = accmem_imp_release(imp_fd, id);
			tv[s][r] = (t1 - t0 + accmem_now() - t2) * 1e6;
			mv[s][r] = (m0 - m1) / 1024.0;
			nents[s] = a.nents;
		}
	}
	close(fd);
	for (s = 0; s < NSEG; s++) {
		t[s] = ret ? none : summarize(tv[s], n);
		mem[s] = ret ? none : summarize(mv[s], n);
		segs[s] = ret ? none : single(nents[s]);
		free(tv[s]);
		free(mv[s]);
	}
	return ret;
}

static void add_map_rows(const char *what, const struct summ *t,
			 const struct summ *segs, const struct summ *mem)
{
	char name[160];
	int s;

	for (s = 0; s < NSEG; s++) {
		const char *seg = size_name(seg_max[s]);

		snprintf(name, sizeof(name), "attach+map+unmap %s, %s segments",
			 what, seg);
		add_row1(name, "us", t[s]);
		snprintf(name, sizeof(name), "sg segments %s, %s segments",
			 what, seg);
		add_row1(name, "", segs[s]);
		snprintf(name, sizeof(name),
			 "kernel memory of the mapping %s, %s segments", what, seg);
		add_row1(name, "MiB", mem[s]);
	}
}

/*
 * 6. Scale: three quarters of the device's memory allocated contiguous,
 * then half of it scattered (the device filled with 64 KiB allocations,
 * every other one freed, and the holes allocated as one buffer), each
 * exported and mapped by importers limited to 64 KiB and to 2 GiB
 * segments. @ns_per_seg: the 64 KiB importer's time per segment of the
 * contiguous allocation, beyond the one-segment map of the same export:
 * (t(64 KiB) - t(2 GiB)) / (segments(64 KiB) - segments(2 GiB)), in ns.
 */
static void bench_scale(uint64_t mem_size, int reps, double *ns_per_seg)
{
	uint64_t csize = mem_size / 4 * 3 / (2 * MiB) * (2 * MiB);
	uint64_t frag = 64 * KiB, ssize;
	int nfrag = mem_size / frag, i, n = 0, h, ret = 0;
	uint32_t *hs = calloc(nfrag, sizeof(*hs));
	struct summ t[NSEG], segs[NSEG], mem[NSEG];
	char what[64];

	*ns_per_seg = -1;
	reopen_idle();
	h = accmem_alloc(accmem_fd, csize, 0, ACCMEM_ALLOC_CONTIGUOUS);
	ret = h < 0 ? h : map_segs(h, csize, reps, t, segs, mem);
	if (h >= 0)
		accmem_free(accmem_fd, h);
	if (ret) {
		fprintf(stderr, "scale, contiguous %s: %s\n", size_name(csize),
			strerror(-ret));
		return;
	}
	snprintf(what, sizeof(what), "%s contiguous", size_name(csize));
	add_map_rows(what, t, segs, mem);
	if (segs[0].med > segs[1].med)
		*ns_per_seg = (t[0].med - t[1].med) * 1e3 /
			      (segs[0].med - segs[1].med);
	add_row1("time per segment beyond the first, 64 KiB segments", "ns",
		 single(*ns_per_seg));

	/* A fresh tenancy: everything free and scrubbed. */
	reopen_idle();
	for (n = 0; n < nfrag; n++) {
		h = accmem_alloc(accmem_fd, frag, frag, 0);
		if (h < 0)
			break;
		hs[n] = h;
	}
	for (i = 0; i < n; i += 2)
		accmem_free(accmem_fd, hs[i]);
	accmem_wait_scrubs(accmem_fd);
	ssize = (n + 1) / 2 * frag;
	h = accmem_alloc(accmem_fd, ssize, frag, 0);
	ret = h < 0 ? h : map_segs(h, ssize, reps, t, segs, mem);
	if (h >= 0)
		accmem_free(accmem_fd, h);
	for (i = 1; i < n; i += 2)
		accmem_free(accmem_fd, hs[i]);
	free(hs);
	if (ret) {
		fprintf(stderr, "scale, scattered %s: %s\n", size_name(ssize),
			strerror(-ret));
		return;
	}
	snprintf(what, sizeof(what), "%s in 64 KiB pieces", size_name(ssize));
	add_map_rows(what, t, segs, mem);
	reopen_idle();
}

static void print_cell(struct summ s)
{
	if (s.n < 1)
		printf(" n/a |");
	else if (s.n == 1 || s.min == s.max)
		printf(" %.1f |", s.med);
	else
		printf(" %.1f (%.1f-%.1f) |", s.med, s.min, s.max);
}

static void print_table(void)
{
	int i, e;

	printf("| measurement | unit | accmem | udmabuf | system heap |");
	printf(" accmem/udmabuf | accmem/heap |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (i = 0; i < nrows; i++) {
		printf("| %s | %s |", rows[i].what, rows[i].unit);
		for (e = 0; e < NEXP; e++)
			print_cell(rows[i].v[e]);
		for (e = UDMABUF; e < NEXP; e++) {
			if (rows[i].v[ACCMEM].n < 1 || rows[i].v[e].n < 1 ||
			    rows[i].v[e].med <= 0)
				printf(" n/a |");
			else
				printf(" %.2f |", rows[i].v[ACCMEM].med /
				       rows[i].v[e].med);
		}
		printf("\n");
	}
}

/* The faster (smaller, measured) of two peers' figures, or -1. */
static double faster(double a, double b)
{
	if (a <= 0)
		return b;
	return b <= 0 || a < b ? a : b;
}

/*
 * The scrub and the fill of 4. zero half the device, at most 1 GiB: on a
 * large BAR ten repetitions of more would take minutes under TCG.
 */
static uint64_t scrub_size(uint64_t mem_size)
{
	return mem_size / 2 < GiB ? mem_size / 2 : GiB;
}

static void print_ratio(const char *name, double a, double b)
{
	if (a < 0 || b <= 0)
		printf("ratio %s n/a\n", name);
	else
		printf("ratio %s %.3f\n", name, a / b);
}

static int bad_usage(void)
{
	fputs("usage: accmem-bench [--quick] [--scrub-only | --map-4k]\n"
	      "                    [--dev accmemN|/dev/accmemN]\n", stderr);
	return 2;
}

/* --dev: the selftest helpers take the device from $ACCMEM_DEV. */
static void set_dev(const char *name)
{
	char path[64];

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/dev/%s", name);
	setenv("ACCMEM_DEV", path, 1);
}

int main(int argc, char **argv)
{
	static const uint64_t exp_sizes[] = { 4 * KiB, 2 * MiB, 64 * MiB };
	static const uint64_t map_sizes[] = { 4 * KiB, 2 * MiB, 64 * MiB, 1 * GiB };
	struct summ e_med[3][NEXP], m_med[4][NEXP];
	struct summ g_alloc[NSTEP], g_export[NSTEP];
	double m_segs[4][NEXP], scrub_limit, turnover, ns_per_seg = -1;
	double udmabuf_ns_per_seg = -1;
	struct accmem_info info;
	int i, ret, scrub_only = 0, map_4k_only = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--scrub-only"))
			scrub_only = 1;
		else if (!strcmp(argv[i], "--map-4k"))
			map_4k_only = 1;
		else if (!strcmp(argv[i], "--dev") && i + 1 < argc)
			set_dev(argv[++i]);
		else
			return bad_usage();
	}
	if (scrub_only && map_4k_only)
		return bad_usage();
	if (access(accmem_dev_path(), F_OK)) {
		fprintf(stderr, "accmem-bench: %s: %s\n", accmem_dev_path(),
			strerror(errno));
		return 1;
	}
	if (accmem_wait_idle(IDLE_TIMEOUT_S)) {
		fprintf(stderr, "accmem-bench: %s: not idle after %d s\n",
			accmem_dev_path(), IDLE_TIMEOUT_S);
		return 1;
	}
	accmem_fd = accmem_open();
	ret = accmem_fd < 0 ? accmem_fd : accmem_info(accmem_fd, &info);
	if (ret) {
		fprintf(stderr, "%s: %s\n", accmem_dev_path(), strerror(-ret));
		return 1;
	}
	printf("accmem backend: %s, %llu MiB\n",
	       info.backend == ACCMEM_BACKEND_PCI ? "pci" : "emu",
	       (unsigned long long)info.mem_size / MiB);

	imp_fd = open(ACCMEM_IMPORTER_DEV, O_RDWR | O_CLOEXEC);
	if (map_4k_only) {
		udmabuf_dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
		heap_dev = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
		bench_map(4 * KiB, 40, 25, m_med[0], m_segs[0]);
		print_table();
		print_ratio("map_4k", m_med[0][ACCMEM].med,
			    faster(m_med[0][UDMABUF].med, m_med[0][HEAP].med));
		return 0;
	}
	if (!scrub_only) {
		udmabuf_dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
		heap_dev = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
		printf("peers: udmabuf %s, system heap %s, importer %s\n",
		       udmabuf_dev >= 0 ? "yes" : "absent",
		       heap_dev >= 0 ? "yes" : "absent",
		       imp_fd >= 0 ? "yes" : "absent");

		for (i = 0; i < 3; i++)
			bench_export(exp_sizes[i], quick ? 5 : 10,
				     i == 2 ? (quick ? 2 : 4) : (quick ? 10 : 30),
				     e_med[i]);
		for (i = 0; i < 4; i++) {
			if (map_sizes[i] > info.mem_size) {
				int e;

				for (e = 0; e < NEXP; e++) {
					m_med[i][e] = none;
					m_segs[i][e] = -1;
				}
				continue;
			}
			bench_map(map_sizes[i], 5, i == 3 ? 1 : (quick ? 2 : 10),
				  m_med[i], m_segs[i]);
		}
		bench_cpu(64 * MiB, 5);
	}

	bench_scrub_limit(scrub_size(info.mem_size), quick ? 3 : 5,
			  &scrub_limit, &turnover);

	if (!scrub_only) {
		bench_growth(quick ? 2 : 3, g_alloc, g_export);
		if (imp_fd >= 0)
			bench_scale(info.mem_size, quick ? 2 : 3, &ns_per_seg);
		if (m_segs[3][UDMABUF] > 0)
			udmabuf_ns_per_seg = m_med[3][UDMABUF].med * 1e3 /
					     m_segs[3][UDMABUF];
		add_row1("udmabuf: time per segment, 1 GiB in pages", "ns",
			 single(udmabuf_ns_per_seg));
	}

	print_table();
	if (!scrub_only) {
		print_ratio("export_4k", e_med[0][ACCMEM].med, e_med[0][UDMABUF].med);
		print_ratio("export_2m", e_med[1][ACCMEM].med, e_med[1][UDMABUF].med);
		print_ratio("export_64m", e_med[2][ACCMEM].med, e_med[2][UDMABUF].med);
		print_ratio("map_1g", m_med[3][ACCMEM].med, m_med[3][UDMABUF].med);
		if (m_segs[3][ACCMEM] < 0)
			printf("ratio segments_1g n/a\n");
		else
			printf("ratio segments_1g %.0f\n", m_segs[3][ACCMEM]);
		print_ratio("map_4k", m_med[0][ACCMEM].med,
			    faster(m_med[0][UDMABUF].med, m_med[0][HEAP].med));
		print_ratio("export_4k_p99", e_med[0][ACCMEM].p99,
			    faster(e_med[0][UDMABUF].p99, e_med[0][HEAP].p99));
		print_ratio("alloc_growth", g_alloc[NSTEP - 1].med,
			    g_alloc[0].med);
		print_ratio("export_growth", g_export[NSTEP - 1].med,
			    g_export[0].med);
		print_ratio("map_64k_segs", ns_per_seg, udmabuf_ns_per_seg);
	}
	/* already quotients of medians */
	print_ratio("scrub_limit", scrub_limit, 1);
	print_ratio("turnover", turnover, 1);
	return 0;
}
