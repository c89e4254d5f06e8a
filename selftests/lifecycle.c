// SPDX-License-Identifier: GPL-2.0
/*
 * accmem tenancy lifecycle: dma-bufs keep the tenancy alive after the
 * device file is closed, memory is scrubbed only after the last user and
 * before the next tenant, and references survive FREE, SCM_RIGHTS, process
 * exit and fork.
 */
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"
#include "accmem_harness.h"

#define SEED 0xacce55edu

TEST(export_outlives_device_fd)
{
	struct accmem_tenant t = ACCMEM_TENANT_INIT;
	void *p;

	ASSERT_EQ(0, accmem_tenant_start(&t, 4 * SZ_1M,
					 ACCMEM_TENANT_FILL, SEED));
	EXPECT_EQ(1, accmem_sysfs_num("exports"));
	ASSERT_EQ(0, close(t.fd));

	/* The tenancy lives on in the dma-buf: nobody else gets the device. */
	accmem_expect_draining(_metadata);

	/* ...and the memory is neither scrubbed nor freed under the importer */
	p = accmem_mmap(t.dmabuf, 4 * SZ_1M, PROT_READ);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, accmem_check(p, 4 * SZ_1M, SEED));
	EXPECT_EQ(4 * SZ_1M, accmem_sysfs_num("mem_used"));
	munmap(p, 4 * SZ_1M);
	EXPECT_EQ(-EBUSY, accmem_open());

	ASSERT_EQ(0, close(t.dmabuf));
	ASSERT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("exports"));
	EXPECT_EQ(0, accmem_sysfs_num("mem_used"));
	accmem_expect_all_zero(_metadata);
}

TEST(mmap_keeps_tenancy)
{
	struct accmem_tenant t = ACCMEM_TENANT_INIT;
	void *p;

	ASSERT_EQ(0, accmem_tenant_start(&t, SZ_1M, ACCMEM_TENANT_FILL, SEED));
	p = accmem_mmap(t.dmabuf, SZ_1M, PROT_READ);
	ASSERT_NE(MAP_FAILED, p);
	/* The mapping holds the dma-buf file, and so the tenancy. */
	ASSERT_EQ(0, accmem_tenant_leave_held(&t));
	EXPECT_EQ(-EBUSY, accmem_open());
	EXPECT_EQ(-1, accmem_check(p, SZ_1M, SEED));
	munmap(p, SZ_1M);
	ASSERT_EQ(0, accmem_wait_idle(60));
	accmem_expect_all_zero(_metadata);
}

TEST(free_with_live_export)
{
	struct accmem_tenant t = ACCMEM_TENANT_INIT;
	__u64 size = 2 * SZ_1M;
	int h2;

	ASSERT_EQ(0, accmem_tenant_start(&t, size, ACCMEM_TENANT_MAP |
					 ACCMEM_TENANT_FILL, SEED));
	ASSERT_EQ(0, accmem_free(t.fd, t.h));
	/* the handle is gone... */
	EXPECT_EQ(-ENOENT, accmem_export(t.fd, t.h, 0, size, 0));
	/* ...but the memory is not: a new allocation gets other memory */
	h2 = accmem_alloc(t.fd, size, 0, 0);
	EXPECT_LT(0, h2);
	/* had FREE let it go, its scrub would have run by now */
	ASSERT_EQ(0, accmem_wait_scrubs(t.fd));
	EXPECT_EQ(-1, accmem_check(t.map, size, SEED));
	EXPECT_EQ(2 * size, accmem_sysfs_num("mem_used"));
	ASSERT_EQ(0, munmap(t.map, size));
	t.map = MAP_FAILED;
	ASSERT_EQ(0, close(t.dmabuf));
	t.dmabuf = -1;
	/* now it is scrubbed and returned */
	ASSERT_EQ(0, accmem_wait_scrubs(t.fd));
	EXPECT_EQ(size, accmem_sysfs_num("mem_used"));
	EXPECT_EQ(0, close(t.fd));
	ASSERT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("mem_used"));
}

/*
 * An ALLOC that does not fit waits for the device's pending scrubs and
 * then succeeds; one that can never fit (more than the device) fails with
 * ENOSPC at once, while the scrub is still pending.
 */
TEST(alloc_waits_for_scrubs)
{
	struct accmem_info info;
	double t0, t1;
	int fd, h;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_info(fd, &info));
	h = accmem_alloc(fd, info.mem_size, 0, 0);
	ASSERT_LT(0, h);
	EXPECT_EQ(0, accmem_sysfs_num("scrubs_pending"));
	ASSERT_EQ(0, accmem_free(fd, h));

	/* all of the memory is being scrubbed now */
	t0 = accmem_now();
	EXPECT_EQ(-ENOSPC, accmem_alloc(fd, info.mem_size + info.page_size,
					0, 0));
	EXPECT_EQ(-ENOSPC, accmem_alloc(fd, info.page_size, 1ULL << 62,
					ACCMEM_ALLOC_CONTIGUOUS));
	t1 = accmem_now();
	EXPECT_EQ(1, accmem_sysfs_num("scrubs_pending")) {
		TH_LOG("the impossible ALLOCs took %.3f s: did they wait?",
		       t1 - t0);
	}

	/* this one fits once the scrub is done: it waits for it */
	h = accmem_alloc(fd, info.mem_size, 0, 0);
	EXPECT_LT(0, h);
	EXPECT_EQ(0, accmem_sysfs_num("scrubs_pending"));
	TH_LOG("impossible ALLOCs %.6f s, the fitting one %.3f s", t1 - t0,
	       accmem_now() - t1);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("scrubs_pending"));
}

struct all_free {
	int fd;
	struct accmem_info info;
};

/* INFO works and says that all memory is free. */
static int all_memory_free(void *arg)
{
	struct all_free *a = arg;

	return accmem_info(a->fd, &a->info) ||
	       a->info.mem_free == a->info.mem_size;
}

TEST(free_then_release_returns_memory)
{
	struct accmem_tenant t = ACCMEM_TENANT_INIT;
	struct all_free a;

	ASSERT_EQ(0, accmem_tenant_start(&t, SZ_1M, 0, 0));
	ASSERT_EQ(0, accmem_free(t.fd, t.h));
	ASSERT_EQ(0, accmem_info(t.fd, &a.info));
	EXPECT_EQ(a.info.mem_size - SZ_1M, a.info.mem_free);
	ASSERT_EQ(0, close(t.dmabuf));
	t.dmabuf = -1;
	/* the scrub is asynchronous: the memory comes back shortly */
	a.fd = t.fd;
	EXPECT_EQ(0, accmem_poll(all_memory_free, &a, 30));
	ASSERT_EQ(0, accmem_info(t.fd, &a.info));
	EXPECT_EQ(a.info.mem_size, a.info.mem_free);
	accmem_tenant_leave(&t);
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'x';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -errno;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

TEST(scm_rights_keeps_tenancy)
{
	int sv[2], status, dmabuf;
	pid_t owner;
	void *p;

	ASSERT_EQ(0, accmem_wait_idle(60));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	owner = fork();
	ASSERT_LE(0, owner);
	if (owner == 0) {
		struct accmem_tenant t = ACCMEM_TENANT_INIT;

		close(sv[0]);
		if (accmem_tenant_start(&t, SZ_1M, ACCMEM_TENANT_FILL, SEED) ||
		    send_fd(sv[1], t.dmabuf))
			_exit(1);
		/* exits holding nothing: device fd and dma-buf close here */
		_exit(0);
	}
	close(sv[1]);
	dmabuf = recv_fd(sv[0]);
	ASSERT_LE(0, dmabuf);
	ASSERT_EQ(owner, waitpid(owner, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	/* the owner is gone; its tenancy is not */
	EXPECT_EQ(-EBUSY, accmem_open());
	p = accmem_mmap(dmabuf, SZ_1M, PROT_READ);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, accmem_check(p, SZ_1M, SEED));
	munmap(p, SZ_1M);
	close(dmabuf);
	close(sv[0]);
	ASSERT_EQ(0, accmem_wait_idle(60));
	accmem_expect_all_zero(_metadata);
}

TEST(fork_shares_context_not_mappings)
{
	struct accmem_tenant t = ACCMEM_TENANT_INIT;
	int fd, h, status;
	__u32 *p;
	pid_t child;

	ASSERT_EQ(0, accmem_tenant_start(&t, SZ_1M, ACCMEM_TENANT_MAP, 0));
	fd = t.fd;
	h = t.h;
	p = (__u32 *)t.map;
	p[0] = SEED;

	/* The child uses the parent's context through the inherited fd. */
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		int d = accmem_export(fd, h, 0, SZ_1M, O_RDWR);
		__u32 *q;

		if (d < 0 || accmem_alloc(fd, SZ_1M, 0, 0) <= 0)
			_exit(1);
		q = accmem_mmap(d, SZ_1M, PROT_READ);
		if (q == MAP_FAILED || q[0] != SEED)
			_exit(2);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* The mapping is not inherited: touching it kills the child. */
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		signal(SIGSEGV, SIG_DFL);
		__atomic_load_n(p, __ATOMIC_RELAXED);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGSEGV, WTERMSIG(status));

	EXPECT_EQ(SEED, p[0]);
	accmem_tenant_leave(&t);
	ASSERT_EQ(0, accmem_wait_idle(60));
}

static int run(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Waits until poll() on the sysfs "state" file @fd reports a change (the
 * kernel's sysfs_notify()), then reads the state into @buf. Returns 0, or
 * -ETIMEDOUT when nothing woke the poll within @seconds.
 */
static int state_poll(int fd, char *buf, size_t len, int seconds)
{
	struct pollfd pfd = { .fd = fd, .events = POLLPRI };
	ssize_t n;

	if (poll(&pfd, 1, seconds * 1000) != 1)
		return -ETIMEDOUT;
	n = pread(fd, buf, len - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/*
 * poll() on "state" wakes on each transition: idle -> owned -> draining
 * -> scrubbing -> idle (a reader may see scrubbing and idle in one wake).
 */
TEST(state_poll_wakes)
{
	struct accmem_tenant t = ACCMEM_TENANT_INIT;
	char path[256], st[32];
	int fd;

	ASSERT_EQ(0, accmem_wait_idle(60));
	accmem_dev_file(path, sizeof(path), ACCMEM_SYSFS, "state");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	/* a read arms the poll: it waits for the next change */
	ASSERT_LT(0, pread(fd, st, sizeof(st), 0));

	ASSERT_EQ(0, accmem_tenant_start(&t, SZ_1M, 0, 0));
	ASSERT_EQ(0, state_poll(fd, st, sizeof(st), 10));
	EXPECT_STREQ("owned", st);

	ASSERT_EQ(0, close(t.fd));
	t.fd = -1;
	ASSERT_EQ(0, state_poll(fd, st, sizeof(st), 10));
	EXPECT_STREQ("draining", st);

	ASSERT_EQ(0, accmem_tenant_leave(&t));
	ASSERT_EQ(0, state_poll(fd, st, sizeof(st), 10));
	if (!strcmp(st, "scrubbing"))
		ASSERT_EQ(0, state_poll(fd, st, sizeof(st), 60));
	EXPECT_STREQ("idle", st);
	close(fd);
}

TEST(rmmod_blocked_by_export)
{
	struct accmem_tenant t = ACCMEM_TENANT_INIT;

	ASSERT_EQ(0, accmem_tenant_start(&t, SZ_1M, ACCMEM_TENANT_FILL, SEED));
	close(t.fd);
	EXPECT_NE(0, run("rmmod accmem 2>/dev/null"));
	EXPECT_EQ(0, access("/sys/module/accmem", F_OK));
	close(t.dmabuf);

	/* Unloading waits for the pending scrub; then the module is gone. */
	ASSERT_EQ(0, run("rmmod accmem"));
	EXPECT_NE(0, access("/sys/module/accmem", F_OK));
	ASSERT_EQ(0, run(accmem_reload_cmd())) {
		TH_LOG("reload with '%s' failed", accmem_reload_cmd());
	}
	ASSERT_EQ(0, accmem_wait_idle(60));
	accmem_expect_all_zero(_metadata);
}

TEST(rmmod_blocked_by_open_device)
{
	int fd;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	EXPECT_NE(0, run("rmmod accmem 2>/dev/null"));
	close(fd);
	ASSERT_EQ(0, accmem_wait_idle(60));
}

TEST_HARNESS_MAIN
