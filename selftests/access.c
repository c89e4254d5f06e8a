// SPDX-License-Identifier: GPL-2.0
/*
 * Who may open the device: the udev rule installed with the module
 * (dist/60-accmem.rules: group accmem, mode 0660) makes the group's members
 * tenants (O_RDWR) and observers (O_RDONLY) and keeps everybody else out
 * (EACCES). No udevd runs in the VM, so the test, as root, gives the node
 * the rule's group and mode itself, then opens it as an unprivileged user
 * (uid and gid 65534) with and without the group among its supplementary
 * groups; and it checks that the rule file says just that.
 *
 * The group is accmem's gid where /etc/group has it, else an unused gid
 * (the kernel checks numbers, not names).
 */
#include <grp.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"

#define NOBODY		65534
#define TEST_GID	4242	/* when there is no group accmem */
#define SETUP_FAILED	120	/* the child could not drop privileges: */
#define NOT_DROPPED	(-10000)	/* what as_user() returns then */

static gid_t accmem_gid(void)
{
	struct group *g = getgrnam("accmem");

	return g ? g->gr_gid : TEST_GID;
}

/*
 * Runs @fn as uid and gid NOBODY with @ngroups supplementary groups
 * @groups. Returns what @fn returned (0 or -errno).
 */
static int as_user(const gid_t *groups, int ngroups, int (*fn)(void))
{
	pid_t pid;
	int st;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		if (setgroups(ngroups, groups) || setgid(NOBODY) ||
		    setuid(NOBODY) || !getuid())
			_exit(SETUP_FAILED);
		_exit(-fn());
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -ECHILD;
	if (WEXITSTATUS(st) == SETUP_FAILED)
		return NOT_DROPPED;
	return -WEXITSTATUS(st);
}

/* Becomes the tenant: opens, allocates, exports, is the owner. */
static int tenant(void)
{
	int fd, h, dmabuf, ret = 0;
	struct accmem_info info;

	fd = accmem_open();
	if (fd < 0)
		return fd;
	h = accmem_info(fd, &info);
	if (!h)
		h = accmem_alloc(fd, info.page_size, 0, 0);
	if (h < 0) {
		close(fd);
		return h;
	}
	dmabuf = accmem_export(fd, h, 0, info.page_size, O_RDWR | O_CLOEXEC);
	if (dmabuf < 0)
		ret = dmabuf;
	else if (accmem_sysfs_num("owner_pid") != getpid())
		ret = -ESRCH;
	if (dmabuf >= 0)
		close(dmabuf);
	close(fd);
	return ret;
}

/* Opens as an observer: INFO works, ALLOC is refused with EBADF. */
static int observer(void)
{
	struct accmem_info info;
	int fd, ret;

	fd = accmem_open_observer(accmem_dev_path());
	if (fd < 0)
		return fd;
	ret = accmem_info(fd, &info);
	if (!ret && !info.mem_size)
		ret = -ENODATA;
	if (!ret && accmem_alloc(fd, info.page_size, 0, 0) != -EBADF)
		ret = -EPROTO;
	close(fd);
	return ret;
}

FIXTURE(access)
{
	struct stat saved;	/* the node's owner and mode before */
	gid_t gid;
};

FIXTURE_SETUP(access)
{
	const char *dev = accmem_dev_path();

	if (geteuid())
		SKIP(return, "needs root (it changes the device node's owner and mode)");
	ASSERT_EQ(0, stat(dev, &self->saved));
	ASSERT_EQ(0, accmem_wait_idle(60));
	self->gid = accmem_gid();
	/* What the udev rule does. */
	ASSERT_EQ(0, chown(dev, 0, self->gid));
	ASSERT_EQ(0, chmod(dev, 0660));
}

FIXTURE_TEARDOWN(access)
{
	const char *dev = accmem_dev_path();

	if (geteuid())
		return;
	EXPECT_EQ(0, chown(dev, self->saved.st_uid, self->saved.st_gid));
	EXPECT_EQ(0, chmod(dev, self->saved.st_mode & 07777));
	EXPECT_EQ(0, accmem_wait_idle(60));
}

/* A member of group accmem becomes the tenant. */
TEST_F(access, group_member_is_tenant)
{
	EXPECT_EQ(0, as_user(&self->gid, 1, tenant));
	EXPECT_EQ(0, accmem_wait_idle(60));
	/* and again: the tenancy ended with the process */
	EXPECT_EQ(0, as_user(&self->gid, 1, tenant));
}

/* Outside the group: no tenancy, no observing. */
TEST_F(access, outsider_gets_eacces)
{
	EXPECT_EQ(-EACCES, as_user(NULL, 0, tenant));
	EXPECT_EQ(-EACCES, as_user(NULL, 0, observer));
	EXPECT_STREQ("idle", accmem_state_name(accmem_state(accmem_dev_path())));
}

/* A member observes while someone else is the tenant, and is refused EBUSY. */
TEST_F(access, group_member_observes_tenancy)
{
	int fd = accmem_open_idle();

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, as_user(&self->gid, 1, observer));
	EXPECT_EQ(-EBUSY, as_user(&self->gid, 1, tenant));
	EXPECT_EQ(getpid(), accmem_sysfs_num("owner_pid"));
	close(fd);
}

/* Without the rule (root's node, 0600) the group does not help. */
TEST_F(access, root_only_node_refuses_member)
{
	ASSERT_EQ(0, chown(accmem_dev_path(), 0, 0));
	ASSERT_EQ(0, chmod(accmem_dev_path(), 0600));
	EXPECT_EQ(-EACCES, as_user(&self->gid, 1, tenant));
	EXPECT_EQ(-EACCES, as_user(&self->gid, 1, observer));
}

/* The rule file: its one rule gives accmem nodes group accmem, 0660. */
TEST(udev_rule)
{
	const char *env = getenv("ACCMEM_UDEV_RULE");
	char path[PATH_MAX], exe[PATH_MAX], line[512], cmd[PATH_MAX + 64];
	int rules = 0, match = 0;
	ssize_t n;
	FILE *f;

	if (env) {
		snprintf(path, sizeof(path), "%s", env);
	} else {
		/* build/selftests/access -> dist/60-accmem.rules */
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		ASSERT_LT(0, n);
		exe[n] = 0;
		snprintf(path, sizeof(path), "%s/../../dist/60-accmem.rules",
			 dirname(exe));
	}
	f = fopen(path, "r");
	if (!f) {
		TH_LOG("%s: %s", path, strerror(errno));
		SKIP(return, "no udev rule file (set ACCMEM_UDEV_RULE)");
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		rules++;
		match += !strcmp(line,
				 "SUBSYSTEM==\"misc\", KERNEL==\"accmem[0-9]*\", GROUP=\"accmem\", MODE=\"0660\"");
	}
	fclose(f);
	EXPECT_EQ(1, rules);
	EXPECT_EQ(1, match);
	/* udev's own check, where udevadm has it (systemd 253 and later) */
	if (!system("udevadm verify --help >/dev/null 2>&1")) {
		snprintf(cmd, sizeof(cmd), "udevadm verify %s", path);
		EXPECT_EQ(0, system(cmd));
	} else {
		TH_LOG("no udevadm verify here: the rule was checked by content");
	}
}

TEST_HARNESS_MAIN
