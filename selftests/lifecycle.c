// SPDX-License-Identifier: GPL-2.0
/*
 * accmem tenancy lifecycle: dma-bufs keep the tenancy alive after the
 * device file is closed, memory is scrubbed only after the last user and
 * before the next tenant, and references survive FREE, SCM_RIGHTS, process
 * exit and fork.
 */
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"
#include "accmem_harness.h"

#define SEED 0xacce55edu

/* Opens, allocates @size, exports it and fills it with SEED. */
static int make_export(struct __test_metadata *_metadata, int *fdp,
		       __u64 size)
{
	int fd, h, dmabuf;
	void *p;

	fd = accmem_open_idle();
	EXPECT_LE(0, fd);
	h = accmem_alloc(fd, size, 0, 0);
	EXPECT_LT(0, h);
	dmabuf = accmem_export(fd, h, 0, size, O_RDWR | O_CLOEXEC);
	EXPECT_LE(0, dmabuf);
	p = accmem_mmap(dmabuf, size, PROT_READ | PROT_WRITE);
	EXPECT_NE(MAP_FAILED, p);
	if (p != MAP_FAILED) {
		accmem_fill(p, size, SEED);
		munmap(p, size);
	}
	*fdp = fd;
	return dmabuf;
}

TEST(export_outlives_device_fd)
{
	int fd, dmabuf;
	void *p;

	dmabuf = make_export(_metadata, &fd, 4 * SZ_1M);
	ASSERT_LE(0, dmabuf);
	EXPECT_EQ(1, accmem_sysfs_num("exports"));
	ASSERT_EQ(0, close(fd));

	/* The tenancy lives on in the dma-buf: nobody else gets the device. */
	accmem_expect_draining(_metadata);

	/* ...and the memory is neither scrubbed nor freed under the importer */
	p = accmem_mmap(dmabuf, 4 * SZ_1M, PROT_READ);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, accmem_check(p, 4 * SZ_1M, SEED));
	EXPECT_EQ(4 * SZ_1M, accmem_sysfs_num("mem_used"));
	munmap(p, 4 * SZ_1M);
	EXPECT_EQ(-EBUSY, accmem_open());

	ASSERT_EQ(0, close(dmabuf));
	ASSERT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("exports"));
	EXPECT_EQ(0, accmem_sysfs_num("mem_used"));
	accmem_expect_all_zero(_metadata);
}

TEST(mmap_keeps_tenancy)
{
	int fd, dmabuf;
	void *p;

	dmabuf = make_export(_metadata, &fd, SZ_1M);
	ASSERT_LE(0, dmabuf);
	p = accmem_mmap(dmabuf, SZ_1M, PROT_READ);
	ASSERT_NE(MAP_FAILED, p);
	close(dmabuf);
	close(fd);
	/* The mapping holds the dma-buf file, and so the tenancy. */
	usleep(100000);
	EXPECT_EQ(-EBUSY, accmem_open());
	EXPECT_EQ(-1, accmem_check(p, SZ_1M, SEED));
	munmap(p, SZ_1M);
	ASSERT_EQ(0, accmem_wait_idle(60));
	accmem_expect_all_zero(_metadata);
}

TEST(free_with_live_export)
{
	int fd, h, h2, dmabuf;
	__u64 size = 2 * SZ_1M;
	void *p;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	h = accmem_alloc(fd, size, 0, 0);
	ASSERT_LT(0, h);
	dmabuf = accmem_export(fd, h, 0, size, O_RDWR);
	ASSERT_LE(0, dmabuf);
	p = accmem_mmap(dmabuf, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	accmem_fill(p, size, SEED);

	ASSERT_EQ(0, accmem_free(fd, h));
	/* the handle is gone... */
	EXPECT_EQ(-ENOENT, accmem_export(fd, h, 0, size, 0));
	/* ...but the memory is not: a new allocation gets other memory */
	h2 = accmem_alloc(fd, size, 0, 0);
	EXPECT_LT(0, h2);
	usleep(200000);
	EXPECT_EQ(-1, accmem_check(p, size, SEED));
	EXPECT_EQ(2 * size, accmem_sysfs_num("mem_used"));
	munmap(p, size);
	ASSERT_EQ(0, close(dmabuf));
	/* now it is scrubbed and returned */
	usleep(200000);
	EXPECT_EQ(0, close(fd));
	ASSERT_EQ(0, accmem_wait_idle(60));
	EXPECT_EQ(0, accmem_sysfs_num("mem_used"));
}

TEST(free_then_release_returns_memory)
{
	struct accmem_info info;
	int fd, h, dmabuf;
	double end;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	h = accmem_alloc(fd, SZ_1M, 0, 0);
	ASSERT_LT(0, h);
	dmabuf = accmem_export(fd, h, 0, SZ_1M, 0);
	ASSERT_LE(0, dmabuf);
	ASSERT_EQ(0, accmem_free(fd, h));
	ASSERT_EQ(0, accmem_info(fd, &info));
	EXPECT_EQ(info.mem_size - SZ_1M, info.mem_free);
	close(dmabuf);
	/* the scrub is asynchronous: the memory comes back shortly */
	end = accmem_now() + 30;
	do {
		ASSERT_EQ(0, accmem_info(fd, &info));
	} while (info.mem_free != info.mem_size && accmem_now() < end);
	EXPECT_EQ(info.mem_size, info.mem_free);
	close(fd);
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
		int fd, buf;

		close(sv[0]);
		buf = make_export(_metadata, &fd, SZ_1M);
		if (buf < 0 || send_fd(sv[1], buf))
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
	int fd, h, dmabuf, status;
	__u32 *p;
	pid_t child;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	h = accmem_alloc(fd, SZ_1M, 0, 0);
	ASSERT_LT(0, h);
	dmabuf = accmem_export(fd, h, 0, SZ_1M, O_RDWR);
	ASSERT_LE(0, dmabuf);
	p = accmem_mmap(dmabuf, SZ_1M, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
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
	munmap(p, SZ_1M);
	close(dmabuf);
	close(fd);
	ASSERT_EQ(0, accmem_wait_idle(60));
}

static int run(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *reload_cmd(void)
{
	const char *cmd = getenv("ACCMEM_RELOAD");

	return cmd ? cmd : "modprobe accmem";
}

TEST(rmmod_blocked_by_export)
{
	int fd, dmabuf;

	dmabuf = make_export(_metadata, &fd, SZ_1M);
	ASSERT_LE(0, dmabuf);
	close(fd);
	EXPECT_NE(0, run("rmmod accmem 2>/dev/null"));
	EXPECT_EQ(0, access("/sys/module/accmem", F_OK));
	close(dmabuf);

	/* Unloading waits for the pending scrub; then the module is gone. */
	ASSERT_EQ(0, run("rmmod accmem"));
	EXPECT_NE(0, access("/sys/module/accmem", F_OK));
	ASSERT_EQ(0, run(reload_cmd())) {
		TH_LOG("reload with '%s' failed", reload_cmd());
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
