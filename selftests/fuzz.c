// SPDX-License-Identifier: GPL-2.0
/*
 * accmem ioctl fuzzer: a bounded run (fixed seed, printed; ACCMEM_FUZZ_SEED
 * and ACCMEM_FUZZ_CALLS override) of random and mutated ioctl arguments,
 * random closes of fds, munmaps and exports, in several processes sharing
 * one tenancy. Afterwards the device must be idle with all memory free and
 * every counter back at zero; the harness scans the kernel log.
 */
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"

#define NPROC		4
#define NSLOTS		32

/* xorshift64*: reproducible from the seed alone */
static __u64 rnd_state;

static __u64 rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 2685821657736338717ULL;
}

/* Interesting values: boundaries, page multiples, garbage. */
static __u64 rnd_u64(__u64 mem_size)
{
	switch (rnd() % 10) {
	case 0:
		return 0;
	case 1:
		return ~0ULL - (rnd() % 4096);
	case 2:
		return (rnd() % 64) * 4096;
	case 3:
		return 1ULL << (rnd() % 64);
	case 4:
		return mem_size + (rnd() % 3) * 4096 - 4096;
	case 5:
		return rnd() % 8192;
	case 6:
		return (rnd() % 16 + 1) * 65536;
	default:
		return rnd();
	}
}

struct slots {
	int dmabuf[NSLOTS];
	void *map[NSLOTS];
	__u64 maplen[NSLOTS];
	__u32 handle[NSLOTS];
};

static void fuzz_one(int fd, struct slots *s, __u64 mem_size)
{
	int i = rnd() % NSLOTS;

	switch (rnd() % 12) {
	case 0: case 1: {	/* ALLOC, mostly sane */
		struct accmem_alloc a = {
			.size = rnd() % 4 ? (rnd() % 32 + 1) * 4096 :
					    rnd_u64(mem_size),
			.align = rnd() % 3 ? 0 : rnd_u64(mem_size),
			.flags = rnd() % 4 ? rnd() % 2 : (__u32)rnd(),
		};

		if (!ioctl(fd, ACCMEM_IOC_ALLOC, &a))
			s->handle[i] = a.handle;
		break;
	}
	case 2: {		/* FREE a known or a random handle */
		struct accmem_free f = {
			.handle = rnd() % 4 ? s->handle[i] : (__u32)rnd(),
			.flags = rnd() % 8 ? 0 : (__u32)rnd(),
		};

		ioctl(fd, ACCMEM_IOC_FREE, &f);
		break;
	}
	case 3: case 4: {	/* EXPORT, mutated */
		struct accmem_export e = {
			.handle = rnd() % 8 ? s->handle[i] : (__u32)rnd(),
			.offset = rnd() % 2 ? 0 : rnd_u64(mem_size),
			.length = rnd() % 2 ? 4096 : rnd_u64(mem_size),
			.flags = rnd() % 4 ? O_CLOEXEC : (__u32)rnd(),
			.pad = rnd() % 8 ? 0 : (__u32)rnd(),
		};

		if (!ioctl(fd, ACCMEM_IOC_EXPORT, &e)) {
			if (s->dmabuf[i] > 0)
				close(s->dmabuf[i]);
			s->dmabuf[i] = e.fd;
		}
		break;
	}
	case 5: {		/* mmap a dma-buf, maybe beyond its end */
		__u64 len = (rnd() % 4 + 1) * 4096;
		void *p;

		if (s->dmabuf[i] <= 0 || s->map[i])
			break;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 s->dmabuf[i], (rnd() % 2) * 4096);
		if (p != MAP_FAILED) {
			s->map[i] = p;
			s->maplen[i] = len;
			memset(p, 0xa5, 64);
		}
		break;
	}
	case 6:			/* munmap */
		if (s->map[i]) {
			munmap(s->map[i], s->maplen[i]);
			s->map[i] = NULL;
		}
		break;
	case 7:			/* close a dma-buf */
		if (s->dmabuf[i] > 0) {
			close(s->dmabuf[i]);
			s->dmabuf[i] = 0;
		}
		break;
	case 8: {		/* dma-buf ioctls */
		struct dma_buf_sync sync = { .flags = rnd() % 8 };

		if (s->dmabuf[i] > 0)
			ioctl(s->dmabuf[i], DMA_BUF_IOCTL_SYNC, &sync);
		break;
	}
	case 9: {		/* random command numbers and garbage */
		char junk[64];
		unsigned long cmd = rnd() % 2 ?
			_IOC(rnd() % 4, ACCMEM_IOC_MAGIC, rnd() % 8,
			     rnd() % 64) : (unsigned long)rnd();

		for (int k = 0; k < 64; k++)
			junk[k] = rnd();
		ioctl(fd, cmd, rnd() % 4 ? (void *)junk : (void *)rnd());
		break;
	}
	case 10: {		/* INFO with a bad pointer now and then */
		struct accmem_info info;

		ioctl(fd, ACCMEM_IOC_INFO, rnd() % 4 ? &info : (void *)rnd());
		break;
	}
	default:		/* close a random fd number near ours */
		if (rnd() % 4 == 0) {
			int n = fd + 1 + rnd() % (NSLOTS + 8);

			for (int k = 0; k < NSLOTS; k++)
				if (s->dmabuf[k] == n)
					s->dmabuf[k] = 0;
			close(n);
		}
		break;
	}
}

FIXTURE(fuzz)
{
	int unused;
};

FIXTURE_SETUP(fuzz)
{
	ASSERT_EQ(0, accmem_wait_idle(120));
}

FIXTURE_TEARDOWN(fuzz)
{
}

TEST_F_TIMEOUT(fuzz, random_ioctls, 900)
{
	const char *seed_env = getenv("ACCMEM_FUZZ_SEED");
	const char *calls_env = getenv("ACCMEM_FUZZ_CALLS");
	__u64 seed = seed_env ? strtoull(seed_env, NULL, 0) : 0xacce55f022ULL;
	long n, calls = calls_env ? atol(calls_env) : 200000;
	struct accmem_info info;
	pid_t pids[NPROC];
	int fd, p, status, h, d;

	TH_LOG("seed %#llx, %ld calls in %d processes", (unsigned long long)seed,
	       calls, NPROC);
	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_info(fd, &info));
	for (p = 0; p < NPROC; p++) {
		pids[p] = fork();
		ASSERT_LE(0, pids[p]);
		if (!pids[p]) {
			struct slots s;

			memset(&s, 0, sizeof(s));
			rnd_state = (seed + p * 0x9e3779b97f4a7c15ULL) | 1;
			for (n = 0; n < calls / NPROC; n++)
				fuzz_one(fd, &s, info.mem_size);
			_exit(0);
		}
	}
	for (p = 0; p < NPROC; p++) {
		ASSERT_EQ(pids[p], waitpid(pids[p], &status, 0));
		EXPECT_TRUE(WIFEXITED(status)) {
			TH_LOG("fuzzer %d died with signal %d", p,
			       WTERMSIG(status));
		}
	}

	/*
	 * The device is still usable by its tenant: a page is allocated and
	 * exported, unless the fuzzers' allocations (ALLOCs of the whole
	 * memory among them, handles no one frees) left none free, which
	 * INFO must then say, and which depends on how the 4 processes
	 * interleaved. Memory the fuzzers freed comes back once scrubbed
	 * (asynchronously, after their dma-bufs closed): INFO after that.
	 */
	ASSERT_EQ(0, accmem_wait_scrubs(fd));
	ASSERT_EQ(0, accmem_info(fd, &info));
	h = accmem_alloc(fd, info.page_size, 0, 0);
	if (info.mem_free >= info.page_size) {
		EXPECT_LT(0, h);
	} else {
		TH_LOG("the fuzzers left %llu bytes free", info.mem_free);
		EXPECT_EQ(-ENOSPC, h);
	}
	if (h > 0) {
		d = accmem_export(fd, h, 0, info.page_size, 0);
		EXPECT_LE(0, d);
		close(d);
	}
	close(fd);

	/* and everything comes back: idle, no memory, no exports, no pins */
	ASSERT_EQ(0, accmem_wait_idle(120));
	EXPECT_EQ(0, accmem_sysfs_num("mem_used"));
	EXPECT_EQ(0, accmem_sysfs_num("exports"));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));

	/* and the next tenant gets memory */
	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	h = accmem_alloc(fd, info.page_size, 0, 0);
	EXPECT_LT(0, h);
	d = accmem_export(fd, h, 0, info.page_size, 0);
	EXPECT_LE(0, d);
	close(d);
	close(fd);
	EXPECT_EQ(0, accmem_wait_idle(60));
}

TEST_HARNESS_MAIN
