// SPDX-License-Identifier: GPL-2.0
/*
 * accmem under pressure: exhaustion, fragmentation, many objects, and a
 * thread closing fd numbers while another exports. Afterwards the device
 * is idle with no memory used and every counter back at zero.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"
#include "accmem_imp.h"

FIXTURE(stress)
{
	int unused;
};

FIXTURE_SETUP(stress)
{
	ASSERT_EQ(0, accmem_wait_idle(120));
}

FIXTURE_TEARDOWN(stress)
{
}

static void expect_clean(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, accmem_wait_idle(120));
	EXPECT_EQ(0, accmem_sysfs_num("mem_used"));
	EXPECT_EQ(0, accmem_sysfs_num("exports"));
	EXPECT_EQ(0, accmem_sysfs_num("pins"));
}

TEST_F(stress, out_of_memory)
{
	struct accmem_info info;
	int fd, h;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_info(fd, &info));
	h = accmem_alloc(fd, info.mem_size, 0, 0);
	ASSERT_LT(0, h);
	EXPECT_EQ(-ENOSPC, accmem_alloc(fd, info.page_size, 0, 0));
	ASSERT_EQ(0, accmem_free(fd, h));
	/* the freed memory is usable again (after its scrub) */
	h = accmem_alloc(fd, info.mem_size, 0, ACCMEM_ALLOC_CONTIGUOUS);
	EXPECT_LT(0, h);
	close(fd);
	expect_clean(_metadata);
}

TEST_F_TIMEOUT(stress, fragmentation_then_contiguous, 120)
{
	struct accmem_info info;
	int fd, i, n, *h, big;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_info(fd, &info));
	n = info.mem_size / SZ_1M;
	h = calloc(n, sizeof(*h));
	ASSERT_NE(NULL, h);
	for (i = 0; i < n; i++) {
		h[i] = accmem_alloc(fd, SZ_1M, 0, ACCMEM_ALLOC_CONTIGUOUS);
		ASSERT_LT(0, h[i]);
	}
	/* free every other SZ_1M: half the memory is free, in 1 SZ_1M holes */
	for (i = 0; i < n; i += 2)
		ASSERT_EQ(0, accmem_free(fd, h[i]));
	EXPECT_EQ(-ENOSPC, accmem_alloc(fd, 2 * SZ_1M, 0,
					ACCMEM_ALLOC_CONTIGUOUS));
	/* non-contiguous memory of the same size is still available */
	big = accmem_alloc(fd, (n / 2) * SZ_1M, 0, 0);
	EXPECT_LT(0, big);
	EXPECT_EQ(0, accmem_free(fd, big));
	/* free the rest: contiguous memory comes back as the holes merge */
	for (i = 1; i < n; i += 2)
		ASSERT_EQ(0, accmem_free(fd, h[i]));
	big = accmem_alloc(fd, info.mem_size / 2, 0, ACCMEM_ALLOC_CONTIGUOUS);
	EXPECT_LT(0, big);
	free(h);
	close(fd);
	expect_clean(_metadata);
}

TEST_F_TIMEOUT(stress, many_objects, 600)
{
	struct accmem_info info;
	int fd, i, *h, *bufs;
	const int nalloc = accmem_scaled(10000), nexp = accmem_scaled(1000);

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_info(fd, &info));
	ASSERT_LE(nalloc * info.page_size, info.mem_size);
	h = calloc(nalloc, sizeof(*h));
	bufs = calloc(nexp, sizeof(*bufs));
	ASSERT_NE(NULL, h);
	ASSERT_NE(NULL, bufs);
	for (i = 0; i < nalloc; i++) {
		h[i] = accmem_alloc(fd, info.page_size, 0, 0);
		ASSERT_LT(0, h[i]);
	}
	EXPECT_EQ(nalloc * info.page_size, accmem_sysfs_num("mem_used"));
	for (i = 0; i < nexp; i++) {
		bufs[i] = accmem_export(fd, h[i], 0, info.page_size, O_CLOEXEC);
		ASSERT_LE(0, bufs[i]);
	}
	EXPECT_EQ(nexp, accmem_sysfs_num("exports"));
	/* tear down in the worst order: handles first, then dma-bufs */
	for (i = 0; i < nalloc; i += 2)
		ASSERT_EQ(0, accmem_free(fd, h[i]));
	close(fd);
	for (i = 0; i < nexp; i++)
		close(bufs[i]);
	free(h);
	free(bufs);
	expect_clean(_metadata);
}

struct race {
	int fd;
	int handle;
	atomic_int stop;
	atomic_int exports;
	int lowest_fd;
	int iterations;
	int rounds;
	double end;
};

static void *closer(void *arg)
{
	struct race *r = arg;

	/* close fd numbers an export is likely to get, blindly */
	while (!atomic_load(&r->stop)) {
		int i;

		for (i = r->lowest_fd; i < r->lowest_fd + 8; i++)
			if (i != r->fd)
				close(i);
	}
	return NULL;
}

static void *exporter(void *arg)
{
	struct race *r = arg;
	int i;

	for (i = 0; i < r->iterations && (i < 64 || accmem_now() < r->end);
	     i++) {
		int d = accmem_export(r->fd, r->handle, 0, 4096, O_CLOEXEC);

		if (d >= 0) {
			atomic_fetch_add(&r->exports, 1);
			close(d);	/* may already be closed: fine */
		}
	}
	r->rounds = i;
	atomic_store(&r->stop, 1);
	return NULL;
}

TEST_F_TIMEOUT(stress, close_races_export, 600)
{
	struct race r = { 0 };
	pthread_t a, b;

	r.fd = accmem_open_idle();
	ASSERT_LE(0, r.fd);
	r.handle = accmem_alloc(r.fd, SZ_1M, 0, 0);
	ASSERT_LT(0, r.handle);
	r.lowest_fd = r.fd + 1;
	/*
	 * 20000 rounds take a few seconds on a stock kernel. On a debug
	 * kernel under TCG each costs about 10 ms, half of the CPU going to
	 * the closer: there the race runs for 5 s (still hundreds of rounds
	 * under lockdep and KASAN) instead of a minute.
	 */
	r.iterations = accmem_scaled(20000);
	r.end = accmem_now() + accmem_scaled(20);
	ASSERT_EQ(0, pthread_create(&b, NULL, closer, &r));
	ASSERT_EQ(0, pthread_create(&a, NULL, exporter, &r));
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	TH_LOG("%d of %d exports survived the race", atomic_load(&r.exports),
	       r.rounds);
	EXPECT_LT(0, atomic_load(&r.exports));
	close(r.fd);
	expect_clean(_metadata);
}

static int import_release(int imp, int dmabuf)
{
	int id = accmem_imp_import(imp, dmabuf, ACCMEM_IMP_DYN_PIN, 0, NULL);

	return id < 0 ? id : accmem_imp_release(imp, id);
}

TEST_F_TIMEOUT(stress, hundred_tenancies, 900)
{
	struct accmem_tenant t = ACCMEM_TENANT_INIT;
	int i, imp, n = accmem_scaled(100);

	imp = accmem_imp_open();
	ASSERT_LE(0, imp);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, accmem_tenant_start(&t, SZ_1M,
						 ACCMEM_TENANT_MAP, 0));
		/* nothing of the previous tenant is left */
		ASSERT_EQ(-1, accmem_check_zero(t.map, SZ_1M)) {
			TH_LOG("tenancy %d sees old data", i);
		}
		accmem_fill(t.map, SZ_1M, i);
		ASSERT_EQ(0, import_release(imp, t.dmabuf));
		accmem_tenant_leave(&t);
	}
	close(imp);
	expect_clean(_metadata);
}

struct churn {
	int fd;
	int imp;
	double end;
	atomic_int errors;
	atomic_long rounds;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;

	while (accmem_now() < c->end) {
		int h = accmem_alloc(c->fd, 64 * 1024, 0, 0), d;

		if (h <= 0) {
			if (h != -ENOSPC)
				atomic_fetch_add(&c->errors, 1);
			continue;
		}
		d = accmem_export(c->fd, h, 0, 64 * 1024, O_CLOEXEC);
		if (d < 0 || import_release(c->imp, d))
			atomic_fetch_add(&c->errors, 1);
		if (accmem_free(c->fd, h))
			atomic_fetch_add(&c->errors, 1);
		close(d);
		atomic_fetch_add(&c->rounds, 1);
	}
	return NULL;
}

TEST_F_TIMEOUT(stress, concurrent_alloc_export_import, 600)
{
	struct churn c = { 0 };
	pthread_t t[4];
	int i;

	c.fd = accmem_open_idle();
	ASSERT_LE(0, c.fd);
	c.imp = accmem_imp_open();
	ASSERT_LE(0, c.imp);
	c.end = accmem_now() + accmem_scaled(20) / 4.0;
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, churn_thread, &c));
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	TH_LOG("%ld alloc/export/import/close rounds in 4 threads",
	       atomic_load(&c.rounds));
	EXPECT_LT(0, atomic_load(&c.rounds));
	EXPECT_EQ(0, atomic_load(&c.errors));
	close(c.imp);
	close(c.fd);
	expect_clean(_metadata);
}

TEST_HARNESS_MAIN
