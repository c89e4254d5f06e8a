/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the tests of accmemctl(8) share: running it, and checking that its
 * --json output is one well-formed JSON value (no python in the guest).
 * Include after accmem_lib.h.
 *
 * The binary is $ACCMEMCTL, else build/tools/accmemctl beside
 * build/selftests/.
 */
#ifndef ACCMEM_CTL_H
#define ACCMEM_CTL_H

#include <ctype.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define NO_CTL	"no accmemctl (make tools, or set ACCMEMCTL)"

/*
 * The accmemctl binary's path in @bin (@len bytes); 0, or -ENOENT when
 * it is not there. Cheaper than running it: an exec costs 0.5 s or more
 * in a debug guest under TCG.
 */
static inline int accmem_ctl_path(char *bin, size_t len)
{
	const char *env = getenv("ACCMEMCTL");
	char exe[PATH_MAX];
	ssize_t l;

	if (env) {
		snprintf(bin, len, "%s", env);
	} else {
		l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (l <= 0)
			return -errno;
		exe[l] = 0;
		snprintf(bin, len, "%s/../tools/accmemctl", dirname(exe));
	}
	return access(bin, X_OK) ? -ENOENT : 0;
}

/*
 * Runs accmemctl with @args (shell words; redirections allowed) under
 * @prefix (a command such as setpriv ... that runs it, or ""); its exit
 * status, -ENOENT without the binary. Its stdout (only) in @out.
 */
static inline int accmem_ctl_as(const char *prefix, const char *args,
				char *out, size_t len)
{
	char bin[PATH_MAX + 32], cmd[PATH_MAX + 512];
	int ret = accmem_ctl_path(bin, sizeof(bin));

	if (ret)
		return ret;
	snprintf(cmd, sizeof(cmd), "%s %s %s", prefix, bin, args);
	return accmem_run(cmd, out, len);
}

static inline int accmem_ctl(const char *args, char *out, size_t len)
{
	return accmem_ctl_as("", args, out, len);
}

/* The device's name (accmemN) in @buf. */
static inline const char *accmem_ctl_dev(char *buf, size_t len)
{
	snprintf(buf, len, "%s", accmem_dev_path());
	return basename(buf);
}

static inline const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

static inline const char *json_value(const char *s, int depth);

static inline const char *json_string(const char *s)
{
	if (*s++ != '"')
		return NULL;
	for (; *s && *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)
			return NULL;
		if (*s == '\\' && !*++s)
			return NULL;
	}
	return *s ? s + 1 : NULL;
}

/* An object (@close '}') or array (']') after its opening bracket. */
static inline const char *json_items(const char *s, char close, int depth)
{
	s = json_ws(s);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (close == '}') {
			s = json_string(json_ws(s));
			if (!s)
				return NULL;
			s = json_ws(s);
			if (*s++ != ':')
				return NULL;
		}
		s = json_value(s, depth + 1);
		if (!s)
			return NULL;
		s = json_ws(s);
		if (*s == close)
			return s + 1;
		if (*s++ != ',')
			return NULL;
	}
}

/* One JSON value at @s; the character after it, or NULL if malformed. */
static inline const char *json_value(const char *s, int depth)
{
	static const char * const w[] = { "true", "false", "null" };
	char *end;
	size_t i;

	s = json_ws(s);
	if (depth > 32)
		return NULL;
	if (*s == '{' || *s == '[')
		return json_items(s + 1, *s == '{' ? '}' : ']', depth);
	if (*s == '"')
		return json_string(s);
	for (i = 0; i < ARRAY_SIZE(w); i++)
		if (!strncmp(s, w[i], strlen(w[i])))
			return s + strlen(w[i]);
	if (*s != '-' && !isdigit((unsigned char)*s))
		return NULL;
	strtod(s, &end);
	return end;
}

/* Is @s exactly one JSON value (and white space)? */
static inline int accmem_json_valid(const char *s)
{
	s = json_value(s, 0);
	return s && !*json_ws(s);
}

/* What a holder process reports once it holds what it should. */
struct accmem_holder_report {
	int err;			/* 0, or -errno of @fn */
	pid_t pid;			/* its pid as it sees it */
	unsigned long long val;		/* what @fn returned in *val */
};

/*
 * Starts a process named @comm that closes every fd but @keep (the
 * tenant's device file stays ours), runs @fn(@arg, &val) and then waits
 * to be killed (accmem_holder_stop(), or the end of the test), holding
 * what @fn left open; with @new_pidns in a new pid namespace (as its
 * init). Returns its pid (ours for it) with its report in @r, or -errno
 * (-EINVAL: no pid namespaces).
 */
static inline pid_t accmem_holder_start(const char *comm, int keep,
					int (*fn)(void *arg,
						  unsigned long long *val),
					void *arg, int new_pidns,
					struct accmem_holder_report *r)
{
	int p[2], fd;
	pid_t pid;

	if (pipe(p))
		return -errno;
	if (new_pidns)
		pid = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
	else
		pid = fork();
	if (pid < 0) {
		pid = -errno;
		close(p[0]);
		close(p[1]);
		return pid;
	}
	if (!pid) {
		/* nothing of the test's but @keep, gone when the test is */
		for (fd = 3; fd < 1024; fd++)
			if (fd != keep && fd != p[1])
				close(fd);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, comm);
		r->val = 0;
		r->err = fn(arg, &r->val);
		r->pid = syscall(SYS_getpid);
		if (write(p[1], r, sizeof(*r)) != sizeof(*r))
			_exit(1);
		/* wait for SIGKILL, holding everything */
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], r, sizeof(*r)) != sizeof(*r))
		r->err = -EPIPE;
	close(p[0]);
	return pid;
}

/* Kills a holder process and reaps it. */
static inline void accmem_holder_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A holder's @fn: keeps dma-buf *@arg as fd 100 (only). */
static inline int accmem_hold_fd(void *arg, unsigned long long *val)
{
	*val = 100;
	if (dup2(*(int *)arg, 100) < 0)
		return -errno;
	return close(*(int *)arg) ? -errno : 0;
}

#endif /* ACCMEM_CTL_H */
