// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the `make run` guest: report what the kernel says about migrc
 * and the NUMA topology, run the workloads named by WORKLOAD= on the
 * kernel command line (bench.c; scenarios.c, filescenarios.c, stress.c,
 * stressng.c and selftests.c for the tests), then power off.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "guest.h"

static void cat(const char *title, const char *path, const char *filter)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f) {
		printf("%-28s (missing: %s)\n", title, path);
		return;
	}
	while (fgets(line, sizeof(line), f))
		if (!filter || strstr(line, filter))
			printf("%-28s %s", title, line);
	fclose(f);
}

static void nodes(void)
{
	char path[320];
	struct dirent *d;
	DIR *dir = opendir("/sys/devices/system/node");

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "node", 4) || !strchr("0123456789", d->d_name[4]))
			continue;
		snprintf(path, sizeof(path), "/sys/devices/system/node/%s/cpulist", d->d_name);
		cat(d->d_name, path, NULL);
		snprintf(path, sizeof(path), "/sys/devices/system/node/%s/meminfo", d->d_name);
		cat(d->d_name, path, "MemTotal");
	}
	closedir(dir);
}

static void kmsg(const char *filter)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf, *line;

	if (len <= 0)
		return;
	buf = calloc(1, len + 1);
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (strstr(line, filter))
			printf("%-28s %s\n", "dmesg", line);
	free(buf);
}

int main(int argc, char **argv)
{
	struct utsname u;

	/* A copy on the file scenarios' disk, exec'd by file-exec-text. */
	if (argc > 2 && !strcmp(argv[1], "text-helper"))
		return text_helper_main(atoi(argv[2]));

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);

	uname(&u);
	printf("\n=== migrc guest: %s %s, %ld CPUs online\n", u.machine, u.release,
	       sysconf(_SC_NPROCESSORS_ONLN));
	cat("nodes online", "/sys/devices/system/node/online", NULL);
	nodes();
	kmsg("migrc:");
	cat("vm.migrc_enabled", "/proc/sys/vm/migrc_enabled", NULL);
	cat("vm.migrc_max_pending_pages", "/proc/sys/vm/migrc_max_pending_pages", NULL);
	cat("vm.migrc_max_age_ms", "/proc/sys/vm/migrc_max_age_ms", NULL);
	cat("/proc/vmstat", "/proc/vmstat", "migrc");
	cat("debugfs migrc/stats", "/sys/kernel/debug/migrc/stats", NULL);
	if (getenv("WORKLOAD") && !strcmp(getenv("WORKLOAD"), "scenarios"))
		scenarios_main();
	else if (getenv("WORKLOAD") && !strcmp(getenv("WORKLOAD"), "files"))
		files_main();
	else if (getenv("WORKLOAD") && !strcmp(getenv("WORKLOAD"), "stress"))
		stress_main();
	else if (getenv("WORKLOAD") && !strcmp(getenv("WORKLOAD"), "selftests"))
		selftests_main();
	else if (getenv("WORKLOAD") && !strcmp(getenv("WORKLOAD"), "bootparams"))
		bootparams_main();
	else if (getenv("WORKLOAD") && !strcmp(getenv("WORKLOAD"), "stressng"))
		stressng_main();
	else if (!getenv("WORKLOAD") || strcmp(getenv("WORKLOAD"), "none"))
		bench_main();
	cat("debugfs migrc/stats", "/sys/kernel/debug/migrc/stats", NULL);
	printf("=== end\n");
	fflush(stdout);
	sync();
	reboot(RB_AUTOBOOT);	/* with -no-reboot, QEMU exits */
	return 0;
}
