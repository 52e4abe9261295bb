// SPDX-License-Identifier: GPL-2.0
/*
 * WORKLOAD=selftests: the kernel's own mm selftests (6.12, built statically
 * by scripts/selftests.sh into /selftests), and our read-only variants of
 * migration (guest/selftests/migration_ro.c), run one after the other with
 * migrc on.
 *
 * /selftests/list names them ("NAME BINARY [ARGS...]").  Each one's output
 * is copied to the console, indented, and its TAP read: "ok N ...", "not
 * ok N ...", "# SKIP", "1..0 # SKIP", the "# Totals:" line (uffd-unit-tests
 * has its own "Testing ... done|skipped|failed" lines and summary).  A case
 * is named by its TAP description or, when that is only a result
 * (ksft_test_result_*() with a message), by the last "[RUN]" line before
 * it: "DESCRIPTION: REASON".  Then one line per selftest:
 *
 *   @@test NAME ok     N passed (and the skips and failures expected)
 *   @@test NAME FAIL   why: a failed case /selftests/expected does not
 *                      list, an exit status other than kselftest's pass
 *                      (0), skip (4) or fail (1, for expected failures
 *                      only), a signal, the time limit, no result at all,
 *                      or a skipped case that expected does not list
 *   @@test NAME SKIP   nothing ran (the whole test skipped)
 *
 * with "@@skip NAME: CASE" and "@@xfail NAME: CASE" for each case skipped
 * or failed as expected, then "@@selftests done".  SELFTESTS=a,b on the
 * command line runs only those.
 *
 * /selftests/expected lists the cases allowed to skip or to fail on an
 * architecture, each with its reason: any other case that skips or fails
 * makes its selftest fail, so that coverage cannot shrink unnoticed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

#define DIR		"/selftests"
#define MAX_ARGS	16
#define MAX_EXPECTED	256
#define TIME_LIMIT	600	/* seconds per selftest */

/* A line of /selftests/expected: "skip|fail TEST ARCHES MATCH". */
struct expected {
	char kind[8];
	char test[64];
	char arches[64];
	char match[256];
};

static struct expected expected[MAX_EXPECTED];
static int nr_expected;
static const char *arch;

/* One selftest's results as read from its output. */
struct result {
	long pass, fail, xfail, xpass, skip, error;
	int totals;		/* a "# Totals:" (or uffd summary) line was seen */
	int whole_skip;		/* "1..0 # SKIP" */
	int failed_cases;	/* "not ok" lines and the like */
	int known_fails;	/* failed cases expected lists */
	char context[256];	/* the last "# [RUN] ..." line: cow, gup_longterm */
	char first_fail[512];	/* the first failure expected does not list */
	char unexpected[512];	/* the first skip expected does not list */
	int nr_unexpected;
	const char *name;
};

/* A bounded copy: the lines can be longer than what we keep of them. */
static void set_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

static void load_expected(void)
{
	char line[512];
	FILE *f = fopen(DIR "/expected", "r");

	while (f && fgets(line, sizeof(line), f) && nr_expected < MAX_EXPECTED) {
		struct expected *e = &expected[nr_expected];

		if (line[0] == '#' || line[0] == '\n')
			continue;
		/* MATCH is the rest of the line, spaces and all */
		if (sscanf(line, "%7s %63s %63s %255[^\n]", e->kind, e->test,
			   e->arches, e->match) == 4)
			nr_expected++;
	}
	if (f)
		fclose(f);
}

static int arch_listed(const char *arches)
{
	char buf[64], *tok, *save;

	if (!strcmp(arches, "*"))
		return 1;
	set_str(buf, sizeof(buf), arches);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, arch))
			return 1;
	return 0;
}

static int is_expected(const char *kind, const char *test, const char *what)
{
	int i;

	for (i = 0; i < nr_expected; i++)
		if (!strcmp(expected[i].kind, kind) && !strcmp(expected[i].test, test) &&
		    arch_listed(expected[i].arches) && strstr(what, expected[i].match))
			return 1;
	return 0;
}

static void note_skip(struct result *r, const char *what)
{
	printf("@@skip %s: %s\n", r->name, what);
	if (!is_expected("skip", r->name, what) && !r->nr_unexpected++)
		set_str(r->unexpected, sizeof(r->unexpected), what);
}

static void note_fail(struct result *r, const char *what)
{
	r->failed_cases++;
	if (is_expected("fail", r->name, what)) {
		printf("@@xfail %s: %s\n", r->name, what);
		r->known_fails++;
	} else if (!r->first_fail[0]) {
		set_str(r->first_fail, sizeof(r->first_fail), what);
	}
}

/* A case: "DESCRIPTION: REASON", DESCRIPTION the TAP one or the [RUN] line. */
static void tap_case(struct result *r, int skipped, const char *desc,
		     const char *reason)
{
	char what[1024];

	snprintf(what, sizeof(what), "%.500s: %.500s", *desc ? desc : r->context,
		 reason);
	if (skipped)
		note_skip(r, what);
	else
		note_fail(r, what);
}

static void parse_line(struct result *r, char *line)
{
	char *p, *desc, *hash;
	long n;

	if (!strncmp(line, "# [RUN] ", 8)) {
		set_str(r->context, sizeof(r->context), line + 8);
		return;
	}
	if (sscanf(line, "# Totals: pass:%ld fail:%ld xfail:%ld xpass:%ld skip:%ld error:%ld",
		   &r->pass, &r->fail, &r->xfail, &r->xpass, &r->skip, &r->error) == 6) {
		r->totals = 1;
		return;
	}
	/* uffd-unit-tests' own format */
	if (sscanf(line, "Userfaults unit tests: pass=%ld, skip=%ld, fail=%ld",
		   &r->pass, &r->skip, &r->fail) == 3) {
		r->totals = 1;
		return;
	}
	p = strncmp(line, "Testing ", 8) ? NULL : strstr(line, "... ");
	if (p) {
		*p = 0;
		if (strncmp(p + 4, "done", 4))
			tap_case(r, !strncmp(p + 4, "skipped", 7), line + 8, p + 4);
		*p = '.';
		return;
	}
	/* A failure, unless it sums up failed cases (cow, ksm: "N out of M") */
	if (!strncmp(line, "Bail out!", 9)) {
		if (!r->failed_cases)
			note_fail(r, line);
		return;
	}
	if (!strncmp(line, "1..0 # SKIP", 11)) {
		r->whole_skip = 1;
		note_skip(r, line + 11);
		return;
	}
	/* "ok N DESC[ # DIRECTIVE REASON]" and "not ok N DESC" */
	p = line;
	if (!strncmp(p, "not ok ", 7))
		p += 7;
	else if (!strncmp(p, "ok ", 3))
		p += 3;
	else
		return;
	n = strtol(p, &desc, 10);
	if (desc == p || n <= 0)
		return;
	while (*desc == ' ')
		desc++;
	hash = strstr(desc, "# ");
	if (hash && !strncmp(hash, "# SKIP", 6)) {
		char *reason = hash + 6;

		while (*reason == ' ')
			reason++;
		while (hash > desc && hash[-1] == ' ')
			hash--;
		*hash = 0;
		tap_case(r, 1, desc, reason);
	} else if (line[0] == 'n' && r->context[0]) {
		/* ksft_test_result_fail() names the failure, not the case */
		tap_case(r, 0, r->context, desc);
	} else if (line[0] == 'n') {
		note_fail(r, desc);
	}
}

/* Run one selftest, its output indented on the console; returns the verdict. */
static int run_one(const char *name, char **argv)
{
	struct result r = { .name = name };
	long deferred = vmstat_value("migrc_deferred");
	long migrated = vmstat_value("pgmigrate_success");
	char buf[8192], path[128];
	size_t len = 0;
	double t0 = now();
	int fds[2], status = 0, timed_out = 0, done = 0, exited = 0;
	pid_t pid;

	snprintf(path, sizeof(path), DIR "/%s", argv[0]);
	if (pipe(fds))
		return -1;
	printf("@@progress %s\n", name);
	fflush(stdout);
	pid = fork();
	if (!pid) {
		setpgid(0, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		if (chdir("/tmp"))
			_exit(127);
		execv(path, argv);
		_exit(127);
	}
	setpgid(pid, pid);
	close(fds[1]);
	while (!done) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		ssize_t n;
		char *nl;

		if (now() - t0 > TIME_LIMIT) {
			kill(-pid, SIGKILL);
			timed_out = 1;
			break;
		}
		/*
		 * Once the test has exited, what it forked goes too: its
		 * output then ends even if a child of it kept the pipe open.
		 */
		if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
			exited = 1;
			kill(-pid, SIGKILL);
		}
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		n = read(fds[0], buf + len, sizeof(buf) - 1 - len);
		if (n <= 0) {
			done = 1;
			if (!len)
				break;
			n = 0;
			buf[len++] = '\n';	/* the last line had no newline */
		}
		len += n;
		buf[len] = 0;
		while ((nl = memchr(buf, '\n', len)) || len == sizeof(buf) - 1) {
			size_t l = nl ? (size_t)(nl - buf) : len;

			buf[l] = 0;
			printf("  | %s\n", buf);
			parse_line(&r, buf);
			l += !!nl;
			memmove(buf, buf + l, len - l);
			len -= l;
			buf[len] = 0;
		}
		fflush(stdout);
	}
	close(fds[0]);
	kill(-pid, SIGKILL);
	if (!exited)
		waitpid(pid, &status, 0);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;			/* its orphans, now ours (we are init) */

	deferred = vmstat_value("migrc_deferred") - deferred;
	migrated = vmstat_value("pgmigrate_success") - migrated;
	printf("@@test %s ", name);
	if (timed_out) {
		printf("FAIL killed after %d s", TIME_LIMIT);
	} else if (WIFSIGNALED(status)) {
		printf("FAIL killed by signal %d", WTERMSIG(status));
	} else if (WEXITSTATUS(status) == 4 && !r.pass && !r.fail && !r.error) {
		printf("SKIP%s", r.whole_skip ? "" : " (exit 4)");
	} else if (r.first_fail[0] || r.xpass ||
		   r.fail + r.error > r.known_fails ||
		   (WEXITSTATUS(status) && !(WEXITSTATUS(status) == 1 && r.known_fails))) {
		printf("FAIL exit %d, %ld passed, %ld failed (%d expected)%s%s",
		       WEXITSTATUS(status), r.pass, r.fail + r.error, r.known_fails,
		       r.first_fail[0] ? ", first: " : "", r.first_fail);
	} else if (!r.totals) {
		printf("FAIL exit 0 but no TAP totals line");
	} else if (!r.pass) {
		printf("SKIP nothing passed, %ld skipped", r.skip);
	} else if (r.nr_unexpected) {
		printf("FAIL %ld skipped, %d not listed in expected, first: %s", r.skip,
		       r.nr_unexpected, r.unexpected);
	} else {
		printf("ok %ld passed", r.pass);
		if (r.xfail)
			printf(", %ld xfail", r.xfail);
		if (r.skip)
			printf(", %ld skipped as expected", r.skip);
		if (r.known_fails)
			printf(", %d failed as expected", r.known_fails);
	}
	printf("; %.0f s, %ld pages migrated, %ld deferred by migrc\n",
	       now() - t0, migrated, deferred);
	fflush(stdout);
	return 0;
}

/* Is @name among SELFTESTS= (a comma list; all of them without it)? */
static int wanted(const char *name)
{
	const char *list = getenv("SELFTESTS"), *p;
	size_t n = strlen(name);

	if (!list || !*list)
		return 1;
	for (p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',') && (!p[n] || p[n] == ','))
			return 1;
	return 0;
}

/*
 * Swap, for cow's and others' swapped-out cases (MADV_PAGEOUT): the RAM
 * disk (brd, CONFIG_BLK_DEV_RAM), with the header mkswap would write:
 * version 1, the last page, no bad pages, "SWAPSPACE2" ending page 0.
 */
static void swap_on(void)
{
	long ps = sysconf(_SC_PAGESIZE), size;
	unsigned int *info;
	char *hdr;
	int fd = open("/dev/ram0", O_RDWR);

	if (fd < 0) {
		printf("%-28s none: no /dev/ram0\n", "swap");
		return;
	}
	size = lseek(fd, 0, SEEK_END);
	hdr = calloc(1, ps);
	info = (unsigned int *)(hdr + 1024);
	info[0] = 1;			/* version */
	info[1] = size / ps - 1;	/* last_page */
	memcpy(hdr + ps - 10, "SWAPSPACE2", 10);
	if (pwrite(fd, hdr, ps, 0) != ps || fsync(fd))
		printf("%-28s none: writing its header failed\n", "swap");
	else if (swapon("/dev/ram0", 0))
		printf("%-28s none: swapon: %s\n", "swap", strerror(errno));
	else
		printf("%-28s %ld MiB on /dev/ram0\n", "swap", size >> 20);
	free(hdr);
	close(fd);
}

/*
 * At least @nr pages of @size_kb for the hugetlb cases, if the kernel has
 * that size; the pages the command line reserved (hugepagesz=) are kept.
 */
static void reserve_huge(long size_kb, long nr)
{
	char path[128], val[32];

	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%ldkB/nr_hugepages",
		 size_kb);
	if (access(path, W_OK))
		return;
	snprintf(val, sizeof(val), "%ld", nr);
	if (read_long(path) < nr)
		write_file(path, val);
	printf("%-28s %ld of %ld kB\n", "hugetlb pages", read_long(path), size_kb);
}

int selftests_main(void)
{
	char line[512];
	struct utsname u;
	FILE *list;

	uname(&u);
	arch = !strcmp(u.machine, "aarch64") ? "arm64" :
	       !strncmp(u.machine, "riscv", 5) ? "riscv" : u.machine;
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mkdir("/tmp", 01777);
	mount("tmpfs", "/tmp", "tmpfs", 0, NULL);	/* gup_longterm's tmpfiles */
	load_expected();
	swap_on();

	/* migrc on, with its boot defaults otherwise. */
	write_file("/proc/sys/vm/migrc_enabled", "1");
	if (read_long("/proc/sys/vm/migrc_enabled") != 1) {
		printf("@@test selftests FAIL migrc could not be switched on\n");
		printf("@@selftests done\n");
		return 1;
	}
	printf("%-28s %ld\n", "vm.migrc_enabled", read_long("/proc/sys/vm/migrc_enabled"));
	/*
	 * The selftests expect pages to stay where they put them: NUMA
	 * balancing, on by default with two nodes, would migrate them in
	 * the background (cow's MADV_PAGEOUT skips a page it has isolated).
	 * What migrates here is what the tests migrate.
	 */
	write_file("/proc/sys/kernel/numa_balancing", "0");
	/*
	 * mremap_test maps 2 GiB regions (and touches 4 MiB of them): more
	 * than the guest's memory and swap, which the default heuristic
	 * overcommit refuses.
	 */
	write_file("/proc/sys/vm/overcommit_memory", "1");
	/* The hugetlb cases of migration, cow, gup_longterm, uffd. */
	reserve_huge(2048, 32);
	reserve_huge(64, 32);		/* arm64 contiguous PTEs */
	reserve_huge(32768, 4);		/* arm64 contiguous PMDs: boot time */
	reserve_huge(1048576, 0);	/* arm64: none, see expected */

	list = fopen(DIR "/list", "r");
	while (list && fgets(line, sizeof(line), list)) {
		char *argv[MAX_ARGS + 1], *name, *save, *p = strchr(line, '#');
		int argc = 0;

		if (p)
			*p = 0;
		name = strtok_r(line, " \t\n", &save);
		if (!name)
			continue;
		while (argc < MAX_ARGS && (argv[argc] = strtok_r(NULL, " \t\n", &save)))
			argc++;
		argv[argc] = NULL;
		if (argc && wanted(name))
			run_one(name, argv);
	}
	if (!list)
		printf("@@test selftests FAIL no %s/list\n", DIR);
	else
		fclose(list);
	printf("@@selftests done\n");
	return 0;
}
