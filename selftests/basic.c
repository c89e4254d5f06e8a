// SPDX-License-Identifier: GPL-2.0
/*
 * accmem basics: the module is loaded, the device node exists, INFO
 * describes the device, and the device has exactly one tenant at a time.
 */
#include <sched.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"

TEST(module_loaded)
{
	struct stat st;

	ASSERT_EQ(0, stat("/sys/module/accmem", &st));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
}

TEST(device_node)
{
	char attr[32];
	struct stat st;

	ASSERT_EQ(0, stat(accmem_dev_path(), &st)) {
		TH_LOG("%s: %s", accmem_dev_path(), strerror(errno));
	}
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	/* misc device: major 10, and sysfs describes it */
	ASSERT_EQ(10, major(st.st_rdev));
	ASSERT_EQ(0, accmem_sysfs("state", attr, sizeof(attr)));
}

TEST(info_sane)
{
	struct accmem_info info;
	int fd;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_info(fd, &info));
	EXPECT_EQ(ACCMEM_UAPI_VERSION, info.version);
	EXPECT_TRUE(info.backend == ACCMEM_BACKEND_EMU ||
		    info.backend == ACCMEM_BACKEND_PCI);
	EXPECT_EQ((__u64)sysconf(_SC_PAGESIZE), info.page_size);
	EXPECT_LT(0, info.mem_size);
	EXPECT_EQ(0, info.mem_size % info.page_size);
	EXPECT_EQ(info.mem_size, info.mem_free);
	/* below 2 GiB: importers that keep lengths in an int see INT_MIN */
	EXPECT_EQ((1ULL << 31) - info.page_size, info.max_segment);
	EXPECT_EQ(0, info.pad);
	EXPECT_EQ(info.mem_size, (__u64)accmem_sysfs_num("mem_size"));
	EXPECT_EQ(0, accmem_sysfs_num("mem_used"));
	ASSERT_EQ(0, close(fd));
}

TEST(info_tracks_allocations)
{
	struct accmem_info info;
	int fd, h;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_info(fd, &info));
	h = accmem_alloc(fd, 1 << 20, 0, 0);
	ASSERT_LT(0, h);
	ASSERT_EQ(0, accmem_info(fd, &info));
	EXPECT_EQ(info.mem_size - (1 << 20), info.mem_free);
	EXPECT_EQ(1 << 20, accmem_sysfs_num("mem_used"));
	ASSERT_EQ(0, accmem_free(fd, h));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, accmem_wait_idle(30));
	EXPECT_EQ(0, accmem_sysfs_num("mem_used"));
}

TEST(open_close)
{
	char state[32];
	int fd;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_sysfs("state", state, sizeof(state)));
	EXPECT_STREQ("owned", state);
	EXPECT_EQ(getpid(), accmem_sysfs_num("owner_pid"));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, accmem_wait_idle(30));
	EXPECT_EQ(0, accmem_sysfs_num("owner_pid"));
}

TEST(second_open_busy)
{
	int fd, fd2;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBUSY, accmem_open());
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, accmem_wait_idle(30));
	fd2 = accmem_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, close(fd2));
}

TEST(unknown_ioctl)
{
	int fd, arg = 0;

	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOTTY, accmem_ioctl(fd, _IO(ACCMEM_IOC_MAGIC, 0x7f), &arg));
	EXPECT_EQ(-ENOTTY, accmem_ioctl(fd, _IOWR('d', 0x00, int), &arg));
	/* the device is still usable */
	EXPECT_LT(0, accmem_alloc(fd, 4096, 0, 0));
	ASSERT_EQ(0, close(fd));
}

static int open_mode(int flags)
{
	int fd = open(accmem_dev_path(), flags | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/*
 * O_RDONLY is an observer: INFO works, ALLOC/FREE/EXPORT fail with EBADF,
 * and it takes no tenancy and blocks nobody, in either order.
 */
TEST(observer)
{
	struct accmem_info info;
	int obs, obs2, fd, h;

	ASSERT_EQ(0, accmem_wait_idle(60));
	obs = open_mode(O_RDONLY);
	ASSERT_LE(0, obs);
	EXPECT_TRUE(accmem_state_is("idle"));
	EXPECT_EQ(0, accmem_sysfs_num("owner_pid"));
	ASSERT_EQ(0, accmem_info(obs, &info));
	EXPECT_EQ(ACCMEM_UAPI_VERSION, info.version);
	EXPECT_EQ(info.mem_size, info.mem_free);
	EXPECT_EQ(-EBADF, accmem_alloc(obs, info.page_size, 0, 0));
	EXPECT_EQ(-EBADF, accmem_free(obs, 1));
	EXPECT_EQ(-EBADF, accmem_export(obs, 1, 0, info.page_size, 0));

	/* a tenant can open while an observer is open... */
	fd = accmem_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(getpid(), accmem_sysfs_num("owner_pid"));
	h = accmem_alloc(fd, info.page_size, 0, 0);
	ASSERT_LT(0, h);
	/* ...an observer while a tenant holds the device, seeing its use */
	obs2 = open_mode(O_RDONLY);
	ASSERT_LE(0, obs2);
	ASSERT_EQ(0, accmem_info(obs2, &info));
	EXPECT_EQ(info.mem_size - info.page_size, info.mem_free);
	/* the observer cannot reach the tenant's handles */
	EXPECT_EQ(-EBADF, accmem_free(obs2, h));
	EXPECT_EQ(-EBADF, accmem_export(obs2, h, 0, info.page_size, 0));
	EXPECT_EQ(-EBUSY, accmem_open());

	/* the tenancy ends with the tenant, observers or not */
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, accmem_wait_idle(30));
	ASSERT_EQ(0, close(obs));
	ASSERT_EQ(0, close(obs2));
}

/* O_WRONLY, like O_RDWR, makes the opener the tenant. */
TEST(wronly_is_tenant)
{
	int fd;

	ASSERT_EQ(0, accmem_wait_idle(60));
	fd = open_mode(O_WRONLY);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(accmem_state_is("owned"));
	EXPECT_LT(0, accmem_alloc(fd, 4096, 0, 0));
	EXPECT_EQ(-EBUSY, accmem_open());
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, accmem_wait_idle(30));
}

/* What a process in a new pid namespace does, as pid 1 there. */
struct pidns_child {
	int open;	/* open the device (become the tenant) first */
	int report[2];	/* pipe: its view of owner_pid, then its pid outside */
	int go[2];	/* pipe: closed when it may exit */
};

static void pidns_inner(struct pidns_child *c)
{
	long long view;
	int fd = -1;
	char x;

	if (c->open) {
		fd = accmem_open();
		if (fd < 0)
			_exit(2);
	}
	view = accmem_sysfs_num("owner_pid");
	if (write(c->report[1], &view, sizeof(view)) != sizeof(view))
		_exit(3);
	/* hold the tenancy until the parent has looked */
	if (read(c->go[0], &x, 1) < 0)
		_exit(4);
	if (fd >= 0)
		close(fd);
	_exit(0);
}

/*
 * Forks a child that unshares its pid namespace and forks pid 1 of the
 * new one, which runs pidns_inner(). Returns the pid of the first child,
 * whose exit status is that of pid 1, or -errno.
 */
static pid_t pidns_start(struct pidns_child *c)
{
	long long inner;
	int status;
	pid_t pid;

	if (pipe(c->report) || pipe(c->go))
		return -errno;
	pid = fork();
	if (pid) {
		/* a child that dies early ends the parent's reads */
		close(c->report[1]);
		close(c->go[0]);
		return pid < 0 ? -errno : pid;
	}
	/* only the parent writes go: its close() is pid 1's signal */
	close(c->go[1]);
	close(c->report[0]);
	if (unshare(CLONE_NEWPID))
		_exit(10);
	pid = fork();
	if (pid < 0)
		_exit(11);
	if (!pid)
		pidns_inner(c);
	/* its pid as the parent's namespace sees it */
	inner = pid;
	if (write(c->report[1], &inner, sizeof(inner)) != sizeof(inner))
		_exit(12);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		_exit(13);
	_exit(WEXITSTATUS(status));
}

/* unshare(CLONE_NEWPID) works: the kernel has CONFIG_PID_NS. */
static int pidns_supported(void)
{
	int status;
	pid_t pid = fork();

	if (!pid)
		_exit(unshare(CLONE_NEWPID) ? 1 : 0);
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFEXITED(status) && !WEXITSTATUS(status);
}

/*
 * owner_pid is the tenant as the reader's pid namespace sees it: 0 when
 * the tenant is outside it, its own number there when inside.
 */
TEST(owner_pid_namespaces)
{
	struct pidns_child c = { 0 };
	long long a, b, inner;
	int fd, status;
	pid_t pid;

	if (!pidns_supported())
		SKIP(return, "no pid namespaces in this kernel (CONFIG_PID_NS)");
	/* the tenant is outside the reader's namespace: 0 */
	fd = accmem_open_idle();
	ASSERT_LE(0, fd);
	pid = pidns_start(&c);
	ASSERT_LT(0, pid);
	ASSERT_EQ(sizeof(a), read(c.report[0], &a, sizeof(a))) {
		TH_LOG("the pid namespace child died (exit 10: unshare)");
	}
	ASSERT_EQ(sizeof(b), read(c.report[0], &b, sizeof(b)));
	/* which of the two reports came first is not known */
	inner = a == 0 ? b : a;
	EXPECT_EQ(0, a == 0 ? a : b);
	EXPECT_LT(1, inner);
	close(c.go[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) {
		TH_LOG("pid namespace child: status %#x", status);
	}
	EXPECT_EQ(getpid(), accmem_sysfs_num("owner_pid"));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, accmem_wait_idle(30));
}

/* The tenant is pid 1 of its namespace; outside it has another number. */
TEST(owner_pid_inside_namespace)
{
	struct pidns_child c = { .open = 1 };
	long long a, b, view, inner;
	int status;
	pid_t pid;

	if (!pidns_supported())
		SKIP(return, "no pid namespaces in this kernel (CONFIG_PID_NS)");
	ASSERT_EQ(0, accmem_wait_idle(60));
	pid = pidns_start(&c);
	ASSERT_LT(0, pid);
	ASSERT_EQ(sizeof(a), read(c.report[0], &a, sizeof(a))) {
		TH_LOG("the pid namespace child died (exit 10: unshare)");
	}
	ASSERT_EQ(sizeof(b), read(c.report[0], &b, sizeof(b)));
	/* pid 1 sees itself; the other report is its pid out here */
	view = a == 1 ? a : b;
	inner = a == 1 ? b : a;
	EXPECT_EQ(1, view);
	EXPECT_LT(1, inner);
	EXPECT_EQ(inner, accmem_sysfs_num("owner_pid"));
	close(c.go[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) {
		TH_LOG("pid namespace child: status %#x", status);
	}
	ASSERT_EQ(0, accmem_wait_idle(30));
}

TEST_HARNESS_MAIN
