// SPDX-License-Identifier: GPL-2.0
/*
 * accmemctl(8) as documented: --help on stdout with exit 0, --version,
 * status (backend and PCI address) and status --json (parsed by python3's
 * json module where there is one), wait-idle and its timeout, and the exit
 * codes: 2 usage, 3 no such device, 4 timeout. The binary is $ACCMEMCTL,
 * else build/tools/accmemctl beside build/selftests/.
 */
#include <limits.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "accmem_lib.h"

/* Runs accmemctl with @args; exit status, stdout (only) in @out. */
static int ctl(const char *args, char *out, size_t len)
{
	const char *env = getenv("ACCMEMCTL");
	char exe[PATH_MAX], bin[PATH_MAX + 32], cmd[PATH_MAX + 512];
	size_t n = 0, r;
	ssize_t l;
	FILE *p;
	int st;

	if (env) {
		snprintf(bin, sizeof(bin), "%s", env);
	} else {
		l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (l <= 0)
			return -errno;
		exe[l] = 0;
		snprintf(bin, sizeof(bin), "%s/../tools/accmemctl",
			 dirname(exe));
	}
	if (access(bin, X_OK))
		return -ENOENT;
	snprintf(cmd, sizeof(cmd), "%s %s", bin, args);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (n < len - 1 && (r = fread(out + n, 1, len - 1 - n, p)) > 0)
		n += r;
	out[n] = 0;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -EINTR;
}

static const char *dev_name(char *buf, size_t len)
{
	snprintf(buf, len, "%s", accmem_dev_path());
	return basename(buf);
}

TEST(help_version_usage)
{
	char out[4096];
	int ret;

	ret = ctl("--help", out, sizeof(out));
	if (ret == -ENOENT)
		SKIP(return, "no accmemctl (make tools, or set ACCMEMCTL)");
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, strncmp(out, "Usage: accmemctl status", 23));
	EXPECT_NE(NULL, strstr(out, "Exit status:"));
	EXPECT_EQ(0, ctl("--version", out, sizeof(out)));
	EXPECT_EQ(0, strncmp(out, "accmemctl ", 10));
	EXPECT_NE(NULL, strstr(out, "libaccmem 1."));
	/* usage errors: exit 2, usage on stderr only */
	EXPECT_EQ(2, ctl("frobnicate 2>/dev/null", out, sizeof(out)));
	EXPECT_STREQ("", out);
	EXPECT_EQ(2, ctl("2>/dev/null", out, sizeof(out)));
	EXPECT_EQ(2, ctl("status --bogus 2>/dev/null", out, sizeof(out)));
	EXPECT_EQ(3, ctl("status accmem999 2>/dev/null", out, sizeof(out)));
}

TEST(status_backend_and_json)
{
	char out[8192], args[128], name[64], want[128];
	struct accmem_info info;
	const char *dev = dev_name(name, sizeof(name));
	int fd, ret;

	fd = accmem_open_observer(accmem_dev_path());
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, accmem_info(fd, &info));
	close(fd);

	snprintf(args, sizeof(args), "status %s", dev);
	ret = ctl(args, out, sizeof(out));
	if (ret == -ENOENT)
		SKIP(return, "no accmemctl (make tools, or set ACCMEMCTL)");
	ASSERT_EQ(0, ret);
	TH_LOG("%s", out);
	snprintf(want, sizeof(want), "  backend %s%s",
		 info.backend == ACCMEM_BACKEND_PCI ? "pci 0000:" : "emu",
		 info.backend == ACCMEM_BACKEND_PCI ? "" : "\n");
	EXPECT_NE(NULL, strstr(out, want));
	snprintf(want, sizeof(want), "page size %llu",
		 (unsigned long long)info.page_size);
	EXPECT_NE(NULL, strstr(out, want));

	snprintf(args, sizeof(args), "status --json %s", dev);
	ASSERT_EQ(0, ctl(args, out, sizeof(out)));
	TH_LOG("%s", out);
	snprintf(want, sizeof(want), "\"name\": \"%s\"", dev);
	EXPECT_NE(NULL, strstr(out, want));
	EXPECT_NE(NULL, strstr(out, info.backend == ACCMEM_BACKEND_PCI ?
				    "\"backend\": \"pci\", \"pci_address\": \"0000:" :
				    "\"backend\": \"emu\", \"pci_address\": null"));
	snprintf(want, sizeof(want), "\"mem_size\": %llu",
		 (unsigned long long)info.mem_size);
	EXPECT_NE(NULL, strstr(out, want));
	if (!system("python3 -c '' 2>/dev/null")) {
		snprintf(args, sizeof(args),
			 "status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d and all(\"state\" in x for x in d)'");
		EXPECT_EQ(0, ctl(args, out, sizeof(out)));
	}
}

TEST(wait_idle)
{
	char out[1024], args[128], name[64];
	const char *dev = dev_name(name, sizeof(name));
	int fd;

	ASSERT_EQ(0, accmem_wait_idle(60));
	snprintf(args, sizeof(args), "wait-idle --timeout 10 %s", dev);
	if (ctl(args, out, sizeof(out)) == -ENOENT)
		SKIP(return, "no accmemctl (make tools, or set ACCMEMCTL)");
	EXPECT_EQ(0, ctl(args, out, sizeof(out)));
	fd = accmem_open();
	ASSERT_LE(0, fd);
	/* a tenancy: not idle within the timeout */
	snprintf(args, sizeof(args), "wait-idle --timeout 0.2 %s 2>/dev/null",
		 dev);
	EXPECT_EQ(4, ctl(args, out, sizeof(out)));
	EXPECT_EQ(ACCMEM_STATE_OWNED, accmem_state(accmem_dev_path()));
	close(fd);
	snprintf(args, sizeof(args), "wait-idle --timeout 60 %s", dev);
	EXPECT_EQ(0, ctl(args, out, sizeof(out)));
	EXPECT_EQ(ACCMEM_STATE_IDLE, accmem_state(accmem_dev_path()));
	/* the library's wait on a device that is not there */
	EXPECT_EQ(-ENODEV, accmem_wait_until_idle("accmem999", 0));
}

TEST_HARNESS_MAIN
