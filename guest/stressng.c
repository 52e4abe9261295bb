// SPDX-License-Identifier: GPL-2.0
/*
 * Debian's stress-ng in the guest (WORKLOAD=stressng, run by `make test`
 * on x86_64 and arm64): the stressors that migrate, mprotect, fork, remap,
 * fault and pin memory, one after the other, each for DURATION seconds
 * (default 10), with migrc on and its debug checker on (the boot has
 * page_table_check=on).  scripts/stress-ng.sh stages stress-ng and its
 * libraries; scripts/run.sh adds them to the initramfs.
 *
 * stress-ng's numa stressor migrates its own process: migrate_pages(2)
 * moves every page of it, including those still shared copy-on-write with
 * the stress-ng parent, which are mapped read-only and so are deferred;
 * or, in a round that flushes anyway for the writable ones, ride along on
 * that flush (x86, riscv) and are freed at once.
 * The other stressors do not migrate by themselves, so a migrator process
 * moves all the memory of every stress-ng process from one node to the
 * other every 50 ms while they run: whatever of it is read-only
 * (copy-on-write after fork, PROT_READ after mprotect) is deferred under
 * the stressor's feet while it mprotects, remaps, faults, madvises, forks
 * and exits.
 *
 * A run passes when stress-ng exits 0 (its --verify checks included) with
 * some bogo ops, in time, with no OOM kill, and migrc is still on after it
 * (the debug checker switches migrc off when it finds a missing flush;
 * the stressors after that are not run, and fail).
 * The numa run must also have deferred some pages: a test that cannot
 * exercise migrc proves nothing.  What the others deferred is printed but
 * not required: how much the migrator gets to move depends on the
 * stressor and on timing (under TCG, one mprotect run had 1679 pages
 * migrated and 242 deferred, another 69 and none).  Kernel
 * reports (BUG, WARNING, the debug checker's) are caught by
 * scripts/run.sh in the console log.
 * Output: "@@test stress-ng-NAME ok|FAIL ...", then "@@stressng done".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

#define STRESS_NG	"/usr/bin/stress-ng"
#define MAX_ARGS	32
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct stressor {
	const char *name;
	const char *workers;
	int migrator;		/* run the migrator beside it */
	int must_defer;		/* fail if migrc took no part in a migration */
	const char *args[6];	/* the stressor's own options */
};

static const struct stressor stressors[] = {
	{ "numa",	 "4", 0, 1 },
	{ "mprotect",	 "2", 1, 0 },
	{ "fork",	 "2", 1, 0, { "--fork-vm" } },
	{ "mmap",	 "2", 1, 0, { "--mmap-bytes", "16M", "--mmap-mprotect" } },
	{ "vm",		 "2", 1, 0, { "--vm-bytes", "32M" } },
	{ "madvise",	 "2", 1, 0 },
	{ "mremap",	 "2", 1, 0, { "--mremap-bytes", "8M" } },
	{ "userfaultfd", "2", 1, 0 },
	{ "vm-rw",	 "2", 1, 0 },
	{ "pagemove",	 "2", 1, 0, { "--pagemove-bytes", "8M" } },
};

static int seconds = 10;
static int nr_nodes;

static int count_nodes(void)
{
	char path[64];
	int n;

	for (n = 0; n < 64; n++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", n);
		if (access(path, F_OK))
			break;
	}
	return n;
}

/* Is @pid a stress-ng process (the parent, a worker or one of theirs)? */
static int is_stress_ng(const char *pid)
{
	char path[300], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return !strncmp(comm, "stress-ng", 9);
}

/*
 * The migrator: every 50 ms, move all the memory of every stress-ng
 * process to the next node.  As root, migrate_pages(2) moves pages shared
 * with other processes too.  Runs until killed.
 */
static void migrator(void)
{
	unsigned long all = (1UL << nr_nodes) - 1, to;
	struct dirent *d;
	int node = 0;
	DIR *dir;

	for (;;) {
		node = (node + 1) % nr_nodes;
		to = 1UL << node;
		dir = opendir("/proc");
		while (dir && (d = readdir(dir))) {
			if (d->d_name[0] < '1' || d->d_name[0] > '9' ||
			    !is_stress_ng(d->d_name))
				continue;
			syscall(SYS_migrate_pages, atoi(d->d_name),
				8 * sizeof(long), &all, &to);
		}
		if (dir)
			closedir(dir);
		usleep(50000);
	}
}

/* The "bogo-ops:" figure of stress-ng's YAML report, -1 if none. */
static long yaml_bogo_ops(const char *path)
{
	char line[256];
	long ops = -1;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "bogo-ops:");

		if (p)
			ops = atol(p + strlen("bogo-ops:"));
	}
	if (f)
		fclose(f);
	return ops;
}

static pid_t spawn(const struct stressor *s, const char *yaml)
{
	static char *const envp[] = { "PATH=/usr/bin:/bin", "HOME=/tmp", NULL };
	char opt[32], timeout[16];
	const char *argv[MAX_ARGS];
	int i, n = 0;
	pid_t pid;

	snprintf(opt, sizeof(opt), "--%s", s->name);
	snprintf(timeout, sizeof(timeout), "%ds", seconds);
	argv[n++] = "stress-ng";
	argv[n++] = opt;
	argv[n++] = s->workers;
	for (i = 0; i < 6 && s->args[i]; i++)
		argv[n++] = s->args[i];
	argv[n++] = "--timeout";
	argv[n++] = timeout;
	argv[n++] = "--metrics-brief";
	argv[n++] = "--verify";
	argv[n++] = "--oomable";
	argv[n++] = "--temp-path";
	argv[n++] = "/tmp";
	argv[n++] = "--yaml";
	argv[n++] = yaml;
	argv[n] = NULL;

	fflush(stdout);
	pid = fork();
	if (!pid) {
		setpgid(0, 0);	/* one kill reaches every stress-ng process */
		if (chdir("/tmp"))
			_exit(126);
		execve(STRESS_NG, (char *const *)argv, envp);
		printf("stressng: exec %s: %s\n", STRESS_NG, strerror(errno));
		fflush(stdout);
		_exit(127);
	}
	return pid;
}

/*
 * Old folios whose round's batched unmap flush went out anyway and took
 * their deferred entries along: migrc handled them, and freed them at once.
 */
#define RIDDEN	"old folios freed after their round's unmap flush"

static int run(const struct stressor *s)
{
	long deferred = vmstat_value("migrc_deferred");
	long ridden = migrc_stat_value(RIDDEN);
	long migrated = vmstat_value("pgmigrate_success");
	long ooms = vmstat_value("oom_kill");
	int limit = seconds + 120, st = 0, hung = 0, on, ok;
	pid_t pid, mig = 0;
	char yaml[64];
	double t0 = now();
	long ops;

	snprintf(yaml, sizeof(yaml), "/tmp/stress-ng-%s.yaml", s->name);
	unlink(yaml);
	printf("@@progress stress-ng --%s %s for %d s%s\n", s->name, s->workers,
	       seconds, s->migrator ? ", the migrator beside it" : "");
	pid = spawn(s, yaml);
	if (s->migrator) {
		mig = fork();
		if (!mig) {
			migrator();
			_exit(0);
		}
	}
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now() - t0 > limit) {
			hung = 1;
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		usleep(100000);
	}
	if (mig) {
		kill(mig, SIGKILL);
		waitpid(mig, NULL, 0);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;	/* orphans of stress-ng, reparented to us */
	deferred = vmstat_value("migrc_deferred") - deferred;
	ridden = migrc_stat_value(RIDDEN) - ridden;
	migrated = vmstat_value("pgmigrate_success") - migrated;
	ooms = vmstat_value("oom_kill") - ooms;
	ops = yaml_bogo_ops(yaml);
	on = read_long("/proc/sys/vm/migrc_enabled") == 1;

	ok = !hung && WIFEXITED(st) && !WEXITSTATUS(st) && ops > 0 && !ooms &&
	     (!s->must_defer || deferred + ridden > 0) && on;
	printf("@@test stress-ng-%s %s bogo-ops=%ld migrated=%ld migrc_deferred=%ld freed_with_unmap_flush=%ld seconds=%.1f",
	       s->name, ok ? "ok" : "FAIL", ops, migrated, deferred, ridden,
	       now() - t0);
	if (hung)
		printf(" hung: killed after %d s", limit);
	else if (WIFSIGNALED(st))
		printf(" killed by signal %d", WTERMSIG(st));
	else if (WEXITSTATUS(st))
		printf(" exit status %d", WEXITSTATUS(st));
	if (ops <= 0)
		printf(" no bogo ops");
	if (ooms)
		printf(" %ld OOM kills", ooms);
	if (s->must_defer && deferred + ridden <= 0)
		printf(" migrc took no part: nothing deferred, nothing freed with an unmap flush");
	if (!on)
		printf(" vm.migrc_enabled is 0: migrc switched itself off");
	printf("\n");
	fflush(stdout);
	return !ok;
}

int stressng_main(void)
{
	long deferred = vmstat_value("migrc_deferred");
	const char *off = NULL;
	int fails = 0;
	size_t i;

	if (getenv("DURATION") && atoi(getenv("DURATION")) > 0)
		seconds = atoi(getenv("DURATION"));
	nr_nodes = count_nodes();
	mkdir("/dev", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mkdir("/tmp", 01777);
	write_file("/proc/sys/vm/migrc_enabled", "1");
	printf("stressng: %d nodes, vm.migrc_enabled %ld, %d s per stressor\n",
	       nr_nodes, read_long("/proc/sys/vm/migrc_enabled"), seconds);
	if (access(STRESS_NG, X_OK)) {
		printf("@@test stress-ng FAIL no %s in the initramfs\n", STRESS_NG);
		fails++;
	} else {
		for (i = 0; i < ARRAY_SIZE(stressors); i++) {
			/* With migrc off the rest would test nothing of it. */
			if (off) {
				printf("@@test stress-ng-%s FAIL not run, migrc off since %s\n",
				       stressors[i].name, off);
				fails++;
				continue;
			}
			fails += run(&stressors[i]);
			if (read_long("/proc/sys/vm/migrc_enabled") != 1)
				off = stressors[i].name;
		}
	}
	printf("@@stressng done, %d failed, migrc_deferred %ld in all\n", fails,
	       vmstat_value("migrc_deferred") - deferred);
	fflush(stdout);
	return fails;
}
