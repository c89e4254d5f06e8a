// SPDX-License-Identifier: GPL-2.0
/*
 * accmem-bench: accmem next to the kernel's own exporters (udmabuf and the
 * system dma-heap), measured in one run on one machine. Run by scripts/bench
 * inside the VM; needs root, an idle accmem device and the accmem_importer
 * test module (for attach/map timings). Exporters that are missing are
 * reported as n/a.
 *
 *   accmem-bench [--quick] [--scrub-only] [--dev accmemN|/dev/accmemN]
 *
 * The device is --dev, else $ACCMEM_DEV, else /dev/accmem0 (as in the
 * selftests, whose helpers this uses: selftests/accmem_lib.h and
 * accmem_imp.h).
 *
 * Prints a markdown table, then one line per ratio: "ratio NAME VALUE".
 * TCG times are only comparable within one run: only ratios mean anything.
 */
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

struct stat2 {
	double median, p99;
};

static struct stat2 stats(double *v, int n)
{
	struct stat2 s = { -1, -1 };

	if (n <= 0)
		return s;
	qsort(v, n, sizeof(*v), cmp_double);
	s.median = v[n / 2];
	s.p99 = v[(n * 99) / 100 >= n ? n - 1 : (n * 99) / 100];
	return s;
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
	double v[NEXP];		/* < 0: n/a */
};

static struct row rows[64];
static int nrows;

static void add_row(const char *what, const char *unit, double *v)
{
	rows[nrows].what = strdup(what);
	rows[nrows].unit = unit;
	memcpy(rows[nrows].v, v, sizeof(rows[nrows].v));
	nrows++;
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

/* 1. alloc + export + close (create + close for the peers) */
static void bench_export(uint64_t size, int iters, double *median)
{
	double *t = calloc(iters, sizeof(*t));
	char what[64];
	double p99[NEXP];
	int exp, i;

	for (exp = 0; exp < NEXP; exp++) {
		median[exp] = -1;
		p99[exp] = -1;
		if (!available(exp))
			continue;
		for (i = 0; i < iters; i++) {
			uint32_t h = 0;
			double t0 = accmem_now();
			int fd = make_buf(exp, size, &h);

			if (fd < 0) {
				fprintf(stderr, "%s %s: %s\n", exp_name[exp],
					size_name(size), strerror(-fd));
				break;
			}
			drop_buf(exp, fd, h);
			t[i] = (accmem_now() - t0) * 1e6;
		}
		if (i == iters) {
			struct stat2 s = stats(t, iters);

			median[exp] = s.median;
			p99[exp] = s.p99;
		}
	}
	snprintf(what, sizeof(what), "alloc+export+close %s, median", size_name(size));
	add_row(what, "us", median);
	snprintf(what, sizeof(what), "alloc+export+close %s, p99", size_name(size));
	add_row(what, "us", p99);
	free(t);
}

/* 2. attach + map + unmap + detach through the test importer */
static void bench_map(uint64_t size, int iters, double *median, double *segs)
{
	double *t = calloc(iters, sizeof(*t));
	char what[64];
	int exp, i;

	for (exp = 0; exp < NEXP; exp++) {
		uint32_t h = 0;
		int fd;

		median[exp] = -1;
		segs[exp] = -1;
		if (!available(exp) || imp_fd < 0)
			continue;
		fd = make_buf(exp, size, &h);
		if (fd < 0) {
			fprintf(stderr, "%s %s: %s\n", exp_name[exp],
				size_name(size), strerror(-fd));
			continue;
		}
		for (i = 0; i < iters; i++) {
			struct accmem_imp_import a;
			double t0 = accmem_now();
			int id = accmem_imp_import(imp_fd, fd, ACCMEM_IMP_DYN_PIN,
						   0, &a);
			int ret = id < 0 ? id : accmem_imp_release(imp_fd, id);

			if (ret) {
				fprintf(stderr, "%s %s: import: %s\n",
					exp_name[exp], size_name(size),
					strerror(-ret));
				break;
			}
			t[i] = (accmem_now() - t0) * 1e6;
			segs[exp] = a.nents;
		}
		if (i == iters)
			median[exp] = stats(t, iters).median;
		drop_buf(exp, fd, h);
	}
	snprintf(what, sizeof(what), "attach+map+unmap %s, median", size_name(size));
	add_row(what, "us", median);
	snprintf(what, sizeof(what), "sg segments %s", size_name(size));
	add_row(what, "", segs);
	free(t);
}

/* 3. CPU bandwidth through the dma-buf mmap, bracketed by SYNC */
static void bench_cpu(uint64_t size)
{
	double rd[NEXP], wr[NEXP];
	char what[64];
	int exp, i;

	for (exp = 0; exp < NEXP; exp++) {
		uint32_t h = 0;
		uint64_t *p, sum = 0;
		double t0;
		int fd;

		rd[exp] = -1;
		wr[exp] = -1;
		if (!available(exp))
			continue;
		fd = make_buf(exp, size, &h);
		if (fd < 0)
			continue;
		p = accmem_mmap(fd, size, PROT_READ | PROT_WRITE);
		if (p == MAP_FAILED) {
			drop_buf(exp, fd, h);
			continue;
		}
		memset(p, 0, size);	/* fault everything in first */
		t0 = accmem_now();
		accmem_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
		memset(p, 0x5a, size);
		accmem_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
		wr[exp] = size / MiB / (accmem_now() - t0);

		t0 = accmem_now();
		accmem_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
		for (i = 0; i < (int)(size / 8); i++)
			sum += p[i];
		accmem_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
		rd[exp] = size / MiB / (accmem_now() - t0);
		if (sum == 1)	/* keeps the read loop */
			fputc(' ', stderr);
		munmap(p, size);
		drop_buf(exp, fd, h);
	}
	snprintf(what, sizeof(what), "CPU write via mmap %s", size_name(size));
	add_row(what, "MiB/s", wr);
	snprintf(what, sizeof(what), "CPU read via mmap %s", size_name(size));
	add_row(what, "MiB/s", rd);
}

/*
 * 4. scrub bandwidth (module counters) next to a user memset of the same
 * memory through the dma-buf mmap. Ends the tenancy: reopens afterwards.
 */
static double bench_scrub(uint64_t size, double *memset_bw)
{
	long long b0, t0us, b1, t1us;
	int h, dmabuf;
	void *p;
	double t;

	/* no scrub of an earlier measurement may still be running */
	close(accmem_fd);
	if (accmem_wait_idle(IDLE_TIMEOUT_S))
		return -1;
	accmem_fd = accmem_open();
	if (accmem_fd < 0)
		return -1;
	h = accmem_alloc(accmem_fd, size, 0, ACCMEM_ALLOC_CONTIGUOUS);
	if (h < 0)
		return -1;
	dmabuf = accmem_export(accmem_fd, h, 0, size, O_RDWR);
	if (dmabuf < 0)
		return -1;
	p = accmem_mmap(dmabuf, size, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		return -1;
	memset(p, 1, size);
	t = accmem_now();
	memset(p, 0, size);
	*memset_bw = size / MiB / (accmem_now() - t);
	munmap(p, size);

	/* the dma-buf holds the memory: its release starts the scrub */
	close(accmem_fd);
	b0 = accmem_sysfs_num("bytes_scrubbed");
	t0us = accmem_sysfs_num("scrub_time_us");
	close(dmabuf);
	if (accmem_wait_idle(IDLE_TIMEOUT_S))
		return -1;
	b1 = accmem_sysfs_num("bytes_scrubbed");
	t1us = accmem_sysfs_num("scrub_time_us");
	accmem_fd = accmem_open();
	if (b1 - b0 != (long long)size || t1us <= t0us)
		return -1;
	return (b1 - b0) / (double)MiB / ((t1us - t0us) / 1e6);
}

/* 5. allocator: alloc+free latency with @live allocations held */
static double bench_alloc_growth(int live)
{
	uint32_t *h = calloc(live, sizeof(*h));
	int iters = quick ? 200 : 1000, i, n;
	double *t = calloc(iters, sizeof(*t)), med = -1;

	for (n = 0; n < live; n++) {
		int ret = accmem_alloc(accmem_fd, 4096, 0, 0);

		if (ret < 0)
			goto out;
		h[n] = ret;
	}
	for (i = 0; i < iters; i++) {
		double t0 = accmem_now();

		accmem_free(accmem_fd, accmem_alloc(accmem_fd, 4096, 0, 0));
		t[i] = (accmem_now() - t0) * 1e6;
	}
	med = stats(t, iters).median;
out:
	for (i = 0; i < n; i++)
		accmem_free(accmem_fd, h[i]);
	free(h);
	free(t);
	return med;
}

/* 6. tenancy turnover: last dma-buf close -> next open() succeeds */
static double bench_turnover(uint64_t size)
{
	int h, dmabuf, fd;
	double t0;

	h = accmem_alloc(accmem_fd, size, 0, 0);
	if (h < 0)
		return -1;
	dmabuf = accmem_export(accmem_fd, h, 0, size, 0);
	if (dmabuf < 0)
		return -1;
	close(accmem_fd);
	t0 = accmem_now();
	close(dmabuf);
	while ((fd = accmem_open()) < 0) {
		if (fd != -EBUSY)
			return -1;
		usleep(200);
	}
	accmem_fd = fd;
	return (accmem_now() - t0) * 1e3;
}

static void print_table(void)
{
	int i, e;

	printf("| measurement | unit | accmem | udmabuf | system heap |");
	printf(" accmem/udmabuf | accmem/heap |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (i = 0; i < nrows; i++) {
		printf("| %s | %s |", rows[i].what, rows[i].unit);
		for (e = 0; e < NEXP; e++) {
			if (rows[i].v[e] < 0)
				printf(" n/a |");
			else
				printf(" %.1f |", rows[i].v[e]);
		}
		for (e = UDMABUF; e < NEXP; e++) {
			if (rows[i].v[ACCMEM] < 0 || rows[i].v[e] <= 0)
				printf(" n/a |");
			else
				printf(" %.2f |", rows[i].v[ACCMEM] / rows[i].v[e]);
		}
		printf("\n");
	}
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
	fputs("usage: accmem-bench [--quick] [--scrub-only] [--dev accmemN|/dev/accmemN]\n",
	      stderr);
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
	double e_med[3][NEXP], m_med[4][NEXP], m_segs[4][NEXP];
	double growth[3], scrub, memset_bw = -1, v[NEXP];
	static const int lives[] = { 100, 10000, 100000 };
	struct accmem_info info;
	int i, ret, scrub_only = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--scrub-only"))
			scrub_only = 1;
		else if (!strcmp(argv[i], "--dev") && i + 1 < argc)
			set_dev(argv[++i]);
		else
			return bad_usage();
	}
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

	if (!scrub_only) {
		udmabuf_dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
		heap_dev = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
		imp_fd = open(ACCMEM_IMPORTER_DEV, O_RDWR | O_CLOEXEC);
		printf("peers: udmabuf %s, system heap %s, importer %s\n",
		       udmabuf_dev >= 0 ? "yes" : "absent",
		       heap_dev >= 0 ? "yes" : "absent",
		       imp_fd >= 0 ? "yes" : "absent");

		for (i = 0; i < 3; i++)
			bench_export(exp_sizes[i], i == 2 ? (quick ? 10 : 40) :
				     (quick ? 50 : 300), e_med[i]);
		for (i = 0; i < 4; i++) {
			if (map_sizes[i] > info.mem_size) {
				int e;

				for (e = 0; e < NEXP; e++) {
					m_med[i][e] = -1;
					m_segs[i][e] = -1;
				}
				continue;
			}
			bench_map(map_sizes[i], i == 3 ? 5 : (quick ? 10 : 50),
				  m_med[i], m_segs[i]);
		}
		bench_cpu(64 * MiB);
	}

	scrub = bench_scrub(info.mem_size / 2, &memset_bw);
	v[ACCMEM] = scrub;
	v[UDMABUF] = -1;
	v[HEAP] = -1;
	add_row("scrub bandwidth (module counters)", "MiB/s", v);
	v[ACCMEM] = memset_bw;
	add_row("memset of the same memory via mmap", "MiB/s", v);

	if (!scrub_only) {
		for (i = 0; i < 3; i++) {
			growth[i] = bench_alloc_growth(lives[i]);
			v[ACCMEM] = growth[i];
			add_row(i == 0 ? "alloc+free with 100 live" :
				i == 1 ? "alloc+free with 10k live" :
				"alloc+free with 100k live", "us", v);
		}
		v[ACCMEM] = bench_turnover(64 * MiB);
		add_row("turnover 64 MiB: last close -> open", "ms", v);
		v[ACCMEM] = bench_turnover(info.mem_size / 2);
		add_row("turnover half the memory: last close -> open", "ms", v);
	}

	print_table();
	if (!scrub_only) {
		print_ratio("export_4k", e_med[0][ACCMEM], e_med[0][UDMABUF]);
		print_ratio("export_2m", e_med[1][ACCMEM], e_med[1][UDMABUF]);
		print_ratio("export_64m", e_med[2][ACCMEM], e_med[2][UDMABUF]);
		print_ratio("map_1g", m_med[3][ACCMEM], m_med[3][UDMABUF]);
		if (m_segs[3][ACCMEM] < 0)
			printf("ratio segments_1g n/a\n");
		else
			printf("ratio segments_1g %.0f\n", m_segs[3][ACCMEM]);
		print_ratio("alloc_growth", growth[2], growth[0]);
	}
	print_ratio(info.backend == ACCMEM_BACKEND_PCI ? "scrub_pci" :
		    "scrub_emu", scrub, memset_bw);
	return 0;
}
