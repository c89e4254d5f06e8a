// SPDX-License-Identifier: GPL-2.0
/*
 * accmem basics: the module is loaded, the device node exists, INFO
 * describes the device, and the device has exactly one tenant at a time.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

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

TEST_HARNESS_MAIN
