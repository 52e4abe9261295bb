// SPDX-License-Identifier: GPL-2.0
/*
 * The migrc workloads of `make run`, run inside the guest with migrc
 * switched off and then on in the same boot.
 *
 * Every workload keeps reader threads on every CPU that verify each word
 * they read against the value it must have; a read of anything else is an
 * integrity error (a stale translation serving an old, freed page would be
 * one).  Around each run the kernel's counters are sampled, and one line
 *
 *	@@result {json}
 *
 * is printed per workload, mapping and mode; scripts/run.sh turns those
 * into the table, the JSON file and the chart.  "@@progress ..." lines are
 * shown on the terminal while the guest runs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

#define PAGE			4096UL
#define WORDS			(PAGE / sizeof(uint64_t))
#define MAX_CPUS		64

static int nr_cpus;
static double duration = 8.0;		/* seconds per workload and mode */
static long ws_pages = 8192;		/* 32 MiB working set */
static int write_permille = 10;		/* tiering: writes per 1000 accesses */

/* ---- small helpers ------------------------------------------------------ */

void progress(const char *fmt, ...)
{
	va_list ap;

	printf("@@progress ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, val, strlen(val));
	close(fd);
	return ret < 0 ? -errno : 0;
}

long read_long(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return strtol(buf, NULL, 10);
}

void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Pages move_pages() passed to the kernel that did not reach their node. */
static atomic_long move_failed;

/*
 * Move the pages of @pages that are not on @node yet to @node; returns how
 * many moved.  Only pages still elsewhere are passed: move_pages(2) starts
 * a new migration round at every page already on the target node, which
 * would measure its bookkeeping rather than the batched flush.
 */
long move_pages(void **pages, long n, int node, int flags)
{
	int *nodes = malloc(n * sizeof(int)), *status = malloc(n * sizeof(int));
	void **todo = malloc(n * sizeof(void *));
	long i, m = 0, moved = 0;

	if (syscall(SYS_move_pages, 0, n, pages, NULL, status, 0) < 0)
		m = 0;
	else
		for (i = 0; i < n; i++)
			if (status[i] >= 0 && status[i] != node)
				todo[m++] = pages[i];
	for (i = 0; i < m; i++)
		nodes[i] = node;
	/* Chunks of 4096 keep each call short enough to stop on time. */
	for (i = 0; i < m; i += 4096) {
		long c = m - i < 4096 ? m - i : 4096, j;

		if (syscall(SYS_move_pages, 0, c, todo + i, nodes + i,
			    status + i, flags) < 0)
			continue;
		for (j = i; j < i + c; j++)
			moved += status[j] == node;
	}
	atomic_fetch_add(&move_failed, m - moved);
	free(todo);
	free(nodes);
	free(status);
	return moved;
}

/* ---- counters ----------------------------------------------------------- */

static const char *const vmstat_keys[] = {
	"pgmigrate_success", "pgmigrate_fail", "numa_pages_migrated",
	"pgpromote_success", "pgdemote_kswapd", "pgdemote_direct",
	"migrc_deferred", "migrc_retire_pressure", "migrc_retire_age",
	"migrc_retire_cap", "migrc_retire_drain", "migrc_retire_trimmed",
	"migrc_flush_rounds", "migrc_flush_cpus", "migrc_mm_flush",
	"tlbbatch_flush_rounds", "tlbbatch_flush_cpus", "nr_tlb_remote_flush",
	"oom_kill", "numa_pte_updates", "numa_hint_faults", "pgpromote_candidate",
	"pgscan_kswapd", "pgsteal_kswapd", "pageoutrun",
	/*
	 * From debugfs migrc/stats: PTEs migrc saw but did not defer, by why;
	 * old folios that migrations went back into.
	 */
	"refused_writable", "refused_shared", "refused_flush_pending",
	"recycled",
};

/* The debugfs lines the last keys above are read from, in order. */
static const char *const debugfs_lines[] = {
	"ptes not deferred, writable:", "ptes not deferred, shared vma:",
	"ptes not deferred, mm flush pending:", "old folios recycled:",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NR_KEYS ARRAY_SIZE(vmstat_keys)

struct counters {
	long v[NR_KEYS];
	long tlb_irqs;		/* x86: "TLB shootdowns" row of /proc/interrupts */
	long kswapd_ticks;	/* kswapd0's utime + stime, in clock ticks */
};

static long kswapd_ticks(void);

static long tlb_irqs(void)
{
	char line[1024];
	long sum = -1;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		while (*p == ' ')
			p++;
		if (strncmp(p, "TLB:", 4))
			continue;
		p += 4;
		sum = 0;
		for (;;) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			sum += v;
			p = end;
		}
	}
	fclose(f);
	return sum;
}

void sample(struct counters *c)
{
	char key[64], line[128];
	long val;
	size_t i;
	FILE *f = fopen("/proc/vmstat", "r");

	memset(c, 0, sizeof(*c));
	while (f && fscanf(f, "%63s %ld", key, &val) == 2)
		for (i = 0; i < NR_KEYS; i++)
			if (!strcmp(key, vmstat_keys[i]))
				c->v[i] = val;
	if (f)
		fclose(f);
	f = fopen("/sys/kernel/debug/migrc/stats", "r");
	while (f && fgets(line, sizeof(line), f))
		for (i = 0; i < ARRAY_SIZE(debugfs_lines); i++)
			if (!strncmp(line, debugfs_lines[i], strlen(debugfs_lines[i])))
				c->v[NR_KEYS - ARRAY_SIZE(debugfs_lines) + i] =
					atol(line + strlen(debugfs_lines[i]));
	if (f)
		fclose(f);
	c->tlb_irqs = tlb_irqs();
	c->kswapd_ticks = kswapd_ticks();
}

/* One line of debugfs migrc/stats ("name: value"), -1 if there is none. */
long migrc_stat_value(const char *name)
{
	size_t len = strlen(name);
	char line[128];
	long ret = -1;
	FILE *f = fopen("/sys/kernel/debug/migrc/stats", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':')
			ret = atol(line + len + 1);
	if (f)
		fclose(f);
	return ret;
}

/* Peak of nr_migrc_pending, sampled while a run is in progress. */
static atomic_long peak_pending;
static atomic_int sampling;

/* One /proc/vmstat item, -1 if there is none by that name. */
long vmstat_value(const char *key)
{
	char name[64];
	long val, ret = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	while (f && fscanf(f, "%63s %ld", name, &val) == 2)
		if (!strcmp(name, key))
			ret = val;
	if (f)
		fclose(f);
	return ret;
}

static long nr_pending(void)
{
	return vmstat_value("nr_migrc_pending");
}

static void *sampler(void *arg)
{
	while (atomic_load(&sampling)) {
		long p = nr_pending();

		if (p > atomic_load(&peak_pending))
			atomic_store(&peak_pending, p);
		usleep(20000);
	}
	return NULL;
}

/* ---- readers ------------------------------------------------------------ */

static inline uint64_t pattern(long page, long word, uint64_t version)
{
	return ((uint64_t)page << 24) ^ ((uint64_t)word << 8) ^ version ^
	       0x5a5a000000000000ULL;
}

void fill(uint64_t *base, long pages, uint64_t version)
{
	long p, w;

	for (p = 0; p < pages; p++)
		for (w = 0; w < WORDS; w++)
			base[p * WORDS + w] = pattern(p, w, version);
}

struct readers {
	uint64_t *base;
	long pages;
	uint64_t version;
	atomic_int stop;
	atomic_long reads, errors;
	pthread_t tid[MAX_CPUS];
	int n;
};

static void *reader(void *arg)
{
	struct readers *r = arg;
	unsigned int seed = (unsigned int)(uintptr_t)pthread_self();
	long reads = 0, errors = 0;

	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		long p = rand_r(&seed) % r->pages;
		long w = rand_r(&seed) % WORDS;
		uint64_t v = READ_U64(&r->base[p * WORDS + w]);

		if (v != pattern(p, w, r->version)) {
			if (errors++ < 5)
				printf("integrity: page %ld word %ld read %#llx want %#llx\n",
				       p, w, (unsigned long long)v,
				       (unsigned long long)pattern(p, w, r->version));
		}
		reads++;
	}
	atomic_fetch_add(&r->reads, reads);
	atomic_fetch_add(&r->errors, errors);
	return NULL;
}

static int reader_cpu;

static void *pinned_reader(void *arg)
{
	pin(__atomic_fetch_add(&reader_cpu, 1, __ATOMIC_RELAXED));
	return reader(arg);
}

void readers_start(struct readers *r, uint64_t *base, long pages,
		   uint64_t version)
{
	int i;

	r->base = base;
	r->pages = pages;
	r->version = version;
	atomic_store(&r->stop, 0);
	atomic_store(&r->reads, 0);
	atomic_store(&r->errors, 0);
	r->n = nr_cpus;
	reader_cpu = 0;
	for (i = 0; i < r->n; i++)
		pthread_create(&r->tid[i], NULL, pinned_reader, r);
}

void readers_stop(struct readers *r)
{
	int i;

	atomic_store(&r->stop, 1);
	for (i = 0; i < r->n; i++)
		pthread_join(r->tid[i], NULL);
}

/*
 * migrc's knobs for a run.  "default" leaves the boot defaults; "tuned" is
 * what a tiering machine would set: a quarter of RAM may be pending (the
 * allocator retires it whenever it needs the memory) and batches live up
 * to 5 s, so one flush covers many rounds.
 */
static long default_cap, default_age;

static void knobs(int tuned)
{
	char buf[32];
	long cap = default_cap, age = default_age;

	if (tuned) {
		cap = sysconf(_SC_PHYS_PAGES) / 4;
		age = 5000;
	}
	snprintf(buf, sizeof(buf), "%ld", cap);
	write_file("/proc/sys/vm/migrc_max_pending_pages", buf);
	snprintf(buf, sizeof(buf), "%ld", age);
	write_file("/proc/sys/vm/migrc_max_age_ms", buf);
}

/* ---- one measured run --------------------------------------------------- */

struct run {
	const char *workload, *mapping;
	int on;
	struct counters before, after;
	double t0, seconds;
	long reads, errors, extra_ops;
	long mover_cpu_ms;	/* CPU time of the migrating thread, or -1 */
	pthread_t sampler;
};

/* CPU time of the calling thread, in seconds. */
static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void run_begin(struct run *run, const char *workload, const char *mapping,
	       int on)
{
	memset(run, 0, sizeof(*run));
	run->workload = workload;
	run->mapping = mapping;
	run->on = on;
	run->mover_cpu_ms = -1;
	knobs(strstr(mapping, "tuned") != NULL);
	write_file("/proc/sys/vm/migrc_enabled", on ? "1" : "0");
	write_file("/proc/sys/vm/drop_caches", "3");
	progress("%s (%s): migrc %s, %.0f s", workload, mapping,
		 on ? "on" : "off", duration);
	atomic_store(&peak_pending, 0);
	atomic_store(&move_failed, 0);
	atomic_store(&sampling, 1);
	pthread_create(&run->sampler, NULL, sampler, NULL);
	sample(&run->before);
	run->t0 = now();
}

static long node_free_kb(int nid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", nid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "MemFree:"))
			kb = atol(strstr(line, "MemFree:") + 8);
	if (f)
		fclose(f);
	return kb;
}

/* kswapd0's /proc/PID/stat line into @buf, NULL if there is none. */
static char *kswapd_stat(char *buf, int size)
{
	static int kswapd_pid;
	char path[64], *p;
	int pid;
	FILE *f;

	for (pid = kswapd_pid ? kswapd_pid : 2; pid < 200; pid++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		p = fgets(buf, size, f);
		fclose(f);
		if (p && strstr(buf, "(kswapd0)")) {
			kswapd_pid = pid;
			return strstr(buf, ") ") + 2;
		}
	}
	return NULL;
}

/* kswapd0's state letter ('?' if not found). */
static char kswapd_state(void)
{
	char buf[512], *p = kswapd_stat(buf, sizeof(buf));

	return p ? p[0] : '?';
}

/*
 * kswapd0's CPU time so far (utime + stime, fields 14 and 15 of its stat
 * line), -1 if not found: whether kswapd was busy all run long tells a
 * node it could not keep balanced from one it balanced with time to spare.
 */
static long kswapd_ticks(void)
{
	char buf[512], *p = kswapd_stat(buf, sizeof(buf));
	long utime, stime;

	/*
	 * After the name: state ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime stime.
	 */
	if (!p || sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld",
			 &utime, &stime) != 2)
		return -1;
	return utime + stime;
}

/* What every run added up to, for the soak. */
static struct {
	long runs, migrated, deferred, reads, errors, peak, over_cap;
} totals;

static long key_delta(const struct run *run, const char *key)
{
	size_t i;

	for (i = 0; i < NR_KEYS; i++)
		if (!strcmp(vmstat_keys[i], key))
			return run->after.v[i] - run->before.v[i];
	return 0;
}

/* Set while a run only warms the machine up: run_end() reports nothing. */
static int warming_up;

void run_end(struct run *run)
{
	long cap;
	size_t i;

	run->seconds = now() - run->t0;
	/*
	 * What is still pending will cost a flush after the run: retire it
	 * now, so that the run counts that flush (with the tuned knobs it
	 * can be half of the run's invalidations).
	 */
	if (run->on)
		write_file("/sys/kernel/debug/migrc/drain", "1");
	sample(&run->after);
	atomic_store(&sampling, 0);
	pthread_join(run->sampler, NULL);
	if (warming_up)
		return;

	printf("@@result {\"workload\":\"%s\",\"mapping\":\"%s\",\"migrc\":\"%s\","
	       "\"seconds\":%.3f,\"reads\":%ld,\"integrity_errors\":%ld,"
	       "\"ops\":%ld,\"peak_pending_pages\":%ld,\"tlb_irqs\":%ld,"
	       "\"max_pending_pages\":%ld,\"max_age_ms\":%ld,"
	       "\"node0_free_kb\":%ld,\"node1_free_kb\":%ld,\"kswapd0\":\"%c\","
	       "\"kswapd_cpu_ms\":%ld,\"move_failed\":%ld,\"mover_cpu_ms\":%ld",
	       run->workload, run->mapping, run->on ? "on" : "off",
	       run->seconds, run->reads, run->errors, run->extra_ops,
	       atomic_load(&peak_pending),
	       run->before.tlb_irqs < 0 ? -1 :
	       run->after.tlb_irqs - run->before.tlb_irqs,
	       read_long("/proc/sys/vm/migrc_max_pending_pages"),
	       read_long("/proc/sys/vm/migrc_max_age_ms"),
	       node_free_kb(0), node_free_kb(1), kswapd_state(),
	       run->before.kswapd_ticks < 0 || run->after.kswapd_ticks < 0 ? -1 :
	       (run->after.kswapd_ticks - run->before.kswapd_ticks) * 1000 /
	       sysconf(_SC_CLK_TCK), atomic_load(&move_failed),
	       run->mover_cpu_ms);
	for (i = 0; i < NR_KEYS; i++)
		printf(",\"%s\":%ld", vmstat_keys[i],
		       run->after.v[i] - run->before.v[i]);
	printf("}\n");
	fflush(stdout);

	cap = read_long("/proc/sys/vm/migrc_max_pending_pages");
	totals.runs++;
	totals.migrated += key_delta(run, "pgmigrate_success");
	totals.deferred += key_delta(run, "migrc_deferred");
	totals.reads += run->reads;
	totals.errors += run->errors;
	if (atomic_load(&peak_pending) > totals.peak)
		totals.peak = atomic_load(&peak_pending);
	totals.over_cap += atomic_load(&peak_pending) > cap;
}

/* ---- workloads ---------------------------------------------------------- */

static void *map_filled(long pages, uint64_t version)
{
	uint64_t *base = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED)
		return NULL;
	madvise(base, pages * PAGE, MADV_NOHUGEPAGE);
	fill(base, pages, version);
	return base;
}

static void **page_array(void *base, long pages)
{
	void **a = malloc(pages * sizeof(void *));
	long i;

	for (i = 0; i < pages; i++)
		a[i] = (char *)base + i * PAGE;
	return a;
}

/*
 * Read-only ping-pong: the working set, made read-only after it was
 * written, is moved between node 0 and node 1 with move_pages(2) while a
 * reader on every CPU verifies it.
 */
/* Move @pages pages at @base between the nodes while readers verify them. */
static void pingpong_run(const char *workload, const char *mapping, int on,
			 uint64_t *base, long pages)
{
	void **addrs = page_array(base, pages);
	struct readers r;
	struct run run;
	long moved = 0;
	int node = 1;
	double cpu;

	move_pages(addrs, pages, 0, MPOL_MF_MOVE);
	readers_start(&r, base, pages, 1);
	run_begin(&run, workload, mapping, on);
	cpu = thread_cpu();
	while (now() - run.t0 < duration) {
		moved += move_pages(addrs, pages, node, MPOL_MF_MOVE);
		node ^= 1;
	}
	run.mover_cpu_ms = (long)((thread_cpu() - cpu) * 1000);
	run.extra_ops = moved;
	readers_stop(&r);
	run.reads = atomic_load(&r.reads);
	run.errors = atomic_load(&r.errors);
	run_end(&run);
	free(addrs);
}

static void pingpong(int on, const char *mapping, long pages)
{
	uint64_t *base = map_filled(pages, 1);

	mprotect(base, pages * PAGE, PROT_READ);
	pingpong_run("pingpong", mapping, on, base, pages);
	munmap(base, pages * PAGE);
}

/*
 * File ping-pong: the same over a file, the shape of model weights or a
 * read-mostly database mapped for reading: bench.dat of the ext2 image
 * (scripts/files-image.sh writes pattern(p, w, 1) into page p), opened
 * read-only and mapped PROT_READ, MAP_SHARED.  move_pages(2) moves it,
 * as a user-space tiering daemon would: NUMA balancing never scans
 * read-only file mappings, so on 6.12 nothing promotes them by itself.
 */
static void file_pingpong(int on, const char *mapping)
{
	uint64_t *base = MAP_FAILED;
	long pages = 0, p;
	struct stat st;
	int fd;

	fd = files_mount() ? -1 : open(FILES_MNT "/bench.dat", O_RDONLY);
	if (fd >= 0 && !fstat(fd, &st)) {
		pages = st.st_size / PAGE < ws_pages ? st.st_size / PAGE : ws_pages;
		base = mmap(NULL, pages * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	}
	if (fd >= 0)
		close(fd);
	if (base == MAP_FAILED || !pages) {
		printf("file-pingpong: cannot map " FILES_MNT "/bench.dat: %s\n",
		       strerror(errno));
		return;
	}
	for (p = 0; p < pages; p++)
		(void)READ_U64(&base[p * WORDS]);	/* every page cached */
	pingpong_run("file-pingpong", mapping, on, base, pages);
	munmap(base, pages * PAGE);
}

/*
 * The writer gate's cost: how long open(O_WRONLY) waits.  A reader on every
 * CPU reads the first 1024 pages of bench.dat; they are moved to the other
 * node (deferred, with migrc on), then the file is opened for write, timed,
 * and closed; FILE_OPENS times per mode.  With migrc on each open finds
 * deferrals of the file pending and flushes every CPU before it returns.
 */
#define FILE_OPENS	20

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void file_open(int on)
{
	long pages = ws_pages > 1024 ? 1024 : ws_pages, p;
	double us[FILE_OPENS];
	uint64_t *base = MAP_FAILED;
	struct readers r;
	struct run run;
	int fd, i, n = 0, node = 1;
	void **addrs;

	fd = files_mount() ? -1 : open(FILES_MNT "/bench.dat", O_RDONLY);
	if (fd >= 0)
		base = mmap(NULL, pages * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	if (base == MAP_FAILED) {
		printf("file-open: cannot map " FILES_MNT "/bench.dat: %s\n", strerror(errno));
		return;
	}
	for (p = 0; p < pages; p++)
		(void)READ_U64(&base[p * WORDS]);
	addrs = page_array(base, pages);
	readers_start(&r, base, pages, 1);
	run_begin(&run, "file-open", "open-write", on);
	for (i = 0; i < FILE_OPENS; i++) {
		double t0;

		move_pages(addrs, pages, node, MPOL_MF_MOVE);
		node ^= 1;
		t0 = now();
		fd = open(FILES_MNT "/bench.dat", O_WRONLY);
		if (fd < 0)
			continue;
		us[n++] = (now() - t0) * 1e6;
		close(fd);
	}
	run.extra_ops = n;
	readers_stop(&r);
	run.reads = atomic_load(&r.reads);
	run.errors = atomic_load(&r.errors);
	run_end(&run);
	qsort(us, n, sizeof(us[0]), cmp_double);
	if (n)
		printf("file-open: migrc %s: open(O_WRONLY) of a file whose pages just migrated: median %.0f us, min %.0f, max %.0f (%d opens)\n",
		       on ? "on" : "off", us[n / 2], us[0], us[n - 1], n);
	munmap(base, pages * PAGE);
	free(addrs);
}

/*
 * Text-heavy: a copy of the ext2 image's /init runs on every CPU, executing
 * and reading its own text (program text is the largest pool of read-only
 * file mappings), while its text folios are moved between the nodes; every
 * copy maps them, hence MPOL_MF_MOVE_ALL.  A copy that saw its text change
 * exits non-zero: an integrity error.
 */
#define TEXT_MAX_PAGES	4096

static void file_text(int on)
{
	static void *pages[TEXT_MAX_PAGES];
	static int nodes[TEXT_MAX_PAGES], status[TEXT_MAX_PAGES];
	int copies = nr_cpus, started, i, node = 1;
	pid_t pid[MAX_CPUS];
	struct run run;
	long n = 0, p;

	if (files_mount()) {
		printf("file-text: cannot mount the file image\n");
		return;
	}
	run_begin(&run, "file-text", "exec", on);
	/* They run a second past the run, so that they all outlive it. */
	started = text_spawn(copies, (int)(duration * 1000) + 1000, pid);
	if (started == copies)
		n = text_pages(pid[0], pages, TEXT_MAX_PAGES);
	while (n && now() - run.t0 < duration) {
		for (p = 0; p < n; p++)
			nodes[p] = node;
		if (syscall(SYS_move_pages, pid[0], n, pages, nodes, status,
			    MPOL_MF_MOVE_ALL) < 0)
			break;
		for (p = 0; p < n; p++)
			run.extra_ops += status[p] == node;
		node ^= 1;
	}
	if (!n)
		printf("file-text: %d of %d copies started\n", started, copies);
	for (i = 0; i < copies; i++) {
		int st;

		if (pid[i] > 0 && (waitpid(pid[i], &st, 0) != pid[i] ||
				   !WIFEXITED(st) || WEXITSTATUS(st)))
			run.errors++;
	}
	run_end(&run);
}

/*
 * Write-heavy control: the same ping-pong over a writable working set that
 * writers keep changing.  Nothing qualifies for migrc; the run shows it.
 * Each writer owns one word per page and checks that what it wrote last is
 * still there (a lost write is an integrity error).
 */
struct writer_arg {
	uint64_t *base;
	long pages;
	int slot;
	atomic_int *stop;
	long writes, errors;
};

static void *writer(void *p)
{
	struct writer_arg *a = p;
	uint64_t n = 0;
	long pg;

	pin(a->slot);
	while (!atomic_load_explicit(a->stop, memory_order_relaxed)) {
		n++;
		for (pg = 0; pg < a->pages &&
		     !atomic_load_explicit(a->stop, memory_order_relaxed); pg++) {
			uint64_t *w = &a->base[pg * WORDS + a->slot];
			uint64_t v = READ_U64(w);

			if (n > 1 && v != n - 1 && a->errors++ < 5)
				printf("integrity: writer %d page %ld read %llu want %llu\n",
				       a->slot, pg, (unsigned long long)v,
				       (unsigned long long)(n - 1));
			__atomic_store_n(w, n, __ATOMIC_RELAXED);
			a->writes++;
		}
		if (pg < a->pages)
			break;
	}
	return NULL;
}

static void writeheavy(int on, const char *mapping)
{
	struct writer_arg args[MAX_CPUS];
	pthread_t tid[MAX_CPUS];
	atomic_int stop = 0;
	struct run run;
	long pages = ws_pages / 4, moved = 0;
	uint64_t *base = map_filled(pages, 0);
	void **pv = page_array(base, pages);
	int i, node = 1;

	memset(base, 0, pages * PAGE);
	for (i = 0; i < nr_cpus; i++) {
		args[i] = (struct writer_arg){ base, pages, i, &stop, 0, 0 };
		pthread_create(&tid[i], NULL, writer, &args[i]);
	}
	run_begin(&run, "write-heavy", mapping, on);
	while (now() - run.t0 < duration) {
		moved += move_pages(pv, pages, node, MPOL_MF_MOVE);
		node ^= 1;
	}
	atomic_store(&stop, 1);
	for (i = 0; i < nr_cpus; i++) {
		pthread_join(tid[i], NULL);
		run.reads += args[i].writes;
		run.errors += args[i].errors;
	}
	run.extra_ops = moved;
	run_end(&run);
	munmap(base, pages * PAGE);
	free(pv);
}

/*
 * Fork-shared: the working set is shared copy-on-write between the parent
 * and a child; both read it while the parent migrates it (MPOL_MF_MOVE_ALL
 * moves pages mapped by both), then each writes its own copy and checks
 * that the other's view did not change.
 */
static void forkshared(int on)
{
	struct readers r;
	struct run run;
	long pages = ws_pages / 2, moved = 0, p, errs = 0;
	uint64_t *base = map_filled(pages, 7);
	void **pv = page_array(base, pages);
	int go[2], done[2], node = 1, status;
	char c = 0;
	pid_t child;

	if (pipe(go) || pipe(done))
		return;
	child = fork();
	if (!child) {
		/* Read until told to write, then write and verify. */
		readers_start(&r, base, pages, 7);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		readers_stop(&r);
		for (p = 0; p < pages; p++)
			base[p * WORDS] = pattern(p, 0, 8);
		for (p = 0; p < pages; p++)
			errs += base[p * WORDS + 1] != pattern(p, 1, 7) ||
				base[p * WORDS] != pattern(p, 0, 8);
		c = 1;
		if (write(done[1], &c, 1) != 1)
			_exit(2);
		_exit(atomic_load(&r.errors) + errs ? 1 : 0);
	}
	readers_start(&r, base, pages, 7);
	run_begin(&run, "fork-shared", "cow-fork", on);
	while (now() - run.t0 < duration) {
		moved += move_pages(pv, pages, node, MPOL_MF_MOVE_ALL);
		node ^= 1;
	}
	readers_stop(&r);
	/* The child writes its copy; ours must not change, then we write. */
	if (write(go[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
		errs++;
	for (p = 0; p < pages; p++)
		errs += base[p * WORDS] != pattern(p, 0, 7);
	for (p = 0; p < pages; p++)
		base[p * WORDS + 1] = pattern(p, 1, 9);
	for (p = 0; p < pages; p++)
		errs += base[p * WORDS + 1] != pattern(p, 1, 9);
	waitpid(child, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		errs++;
	run.reads = atomic_load(&r.reads);
	run.errors = atomic_load(&r.errors) + errs;
	run.extra_ops = moved;
	run_end(&run);
	close(go[0]); close(go[1]); close(done[0]); close(done[1]);
	munmap(base, pages * PAGE);
	free(pv);
}

/*
 * Tiering: a read-mostly working set, larger than the fast node can hold
 * next to everything else, accessed with a skew so that a hot part is
 * promoted and the cold rest demoted by the kernel's own tiering (NUMA
 * balancing in memory-tiering mode, demotion on).  A small fraction of the
 * accesses are writes, to a separate writable region.
 *
 *   mprotect-ro:     one process, the set made read-only after
 *                    initialisation (",daemon" with one memory tier);
 *   cow-fork,daemon: the set written by a parent, read by forked workers,
 *                    and promoted by the parent (see tiering()).
 */
struct tier_arg {
	uint64_t *base, *wbase;
	long pages, wpages;
	atomic_int *stop;
	long reads, writes, errors;
	int cpu;
	int holes;			/* the file tiering's sparse file: zeroes */
};

/*
 * Where the hot quarter of a working set of @pages starts now: at first
 * on tier_base, where the run found the most of it on node 1 (so the hot
 * quarter begins on the slower tier and has to be promoted), then 1/16
 * further every second.  Counted from tier_t0, the start of each
 * run, so that every run, migrc off or on, starts the same way.
 */
static double tier_t0;
static long tier_base;

static long tier_hot_start(long pages)
{
	return tier_base + (long)(now() - tier_t0) * (pages / 16);
}

/*
 * Where a window of a quarter of @pages pages at @base (wrapping) holds
 * the most pages on @node; 0 if the nodes cannot be read.
 */
static long densest_window(void *base, long pages, int node)
{
	void **addrs = page_array(base, pages);
	int *status = malloc(pages * sizeof(int));
	long i, n = 0, best = 0, best_n = 0, hot = pages / 4;

	if (!syscall(SYS_move_pages, 0, pages, addrs, NULL, status, 0)) {
		for (i = 0; i < hot; i++)
			n += status[i] == node;
		for (i = 0; i < pages; i++) {
			if (n > best_n) {
				best_n = n;
				best = i;
			}
			n += (status[(i + hot) % pages] == node) - (status[i] == node);
		}
	}
	free(status);
	free(addrs);
	return best;
}

/*
 * The file tiering's hot quarter moves faster and from a known start: by
 * 1/32 of the file every half second from file_tier_t0, so the promoter
 * always finds some of it demoted or never promoted.
 */
static double file_tier_t0;

static long file_hot_start(long pages)
{
	return (long)((now() - file_tier_t0) * 2) * (pages / 32);
}

static void *tier_worker(void *p)
{
	struct tier_arg *a = p;
	unsigned int seed = a->cpu * 7919 + 1;
	long hot = a->pages / 4;

	pin(a->cpu);
	while (!atomic_load_explicit(a->stop, memory_order_relaxed)) {
		/* 90% of the reads go to a hot quarter that moves slowly. */
		long shift = a->holes ? file_hot_start(a->pages) : tier_hot_start(a->pages);
		long pg = rand_r(&seed) % 10 ? (shift + rand_r(&seed) % hot) % a->pages
					     : rand_r(&seed) % a->pages;
		long w = rand_r(&seed) % WORDS;
		uint64_t v = READ_U64(&a->base[pg * WORDS + w]);

		if (v != (a->holes ? 0 : pattern(pg, w, 3)) && a->errors++ < 5)
			printf("integrity: tier page %ld word %ld\n", pg, w);
		a->reads++;
		if (a->wpages && rand_r(&seed) % 1000 < write_permille) {
			a->wbase[(rand_r(&seed) % a->wpages) * WORDS + a->cpu]++;
			a->writes++;
		}
	}
	return NULL;
}

static void tier_threads(uint64_t *base, long pages, uint64_t *wbase,
			 long wpages, long *reads, long *errors, long *writes,
			 int holes)
{
	struct tier_arg args[MAX_CPUS];
	pthread_t tid[MAX_CPUS];
	atomic_int stop = 0;
	double t0 = now();
	int i;

	for (i = 0; i < nr_cpus; i++) {
		args[i] = (struct tier_arg){ base, wbase, pages, wpages, &stop,
					     0, 0, 0, i, holes };
		pthread_create(&tid[i], NULL, tier_worker, &args[i]);
	}
	while (now() - t0 < duration)
		usleep(100000);
	atomic_store(&stop, 1);
	for (i = 0; i < nr_cpus; i++) {
		pthread_join(tid[i], NULL);
		*reads += args[i].reads;
		*errors += args[i].errors;
		*writes += args[i].writes;
	}
}

/*
 * In the tiering layout (TIER=1 on the command line) node 0 is small and
 * node 1 large (CPU-less where QEMU allows it, the CXL shape), and the
 * working set is 1.25 times node 0, so the fast tier cannot hold all of
 * it.  In the two-node layout there is no tiering run.
 */
static long tier_ws_pages(void)
{
	char line[256];
	long kb = 0;
	FILE *f;

	if (!getenv("TIER"))
		return 0;
	f = fopen("/sys/devices/system/node/node0/meminfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "MemTotal:"))
			kb = atol(strstr(line, "MemTotal:") + 9);
	if (f)
		fclose(f);
	return kb / 4 * 5 / 4;
}

static int nr_tiers(void)
{
	DIR *dir = opendir("/sys/devices/virtual/memory_tiering");
	struct dirent *d;
	int n = 0;

	while (dir && (d = readdir(dir)))
		n += !strncmp(d->d_name, "memory_tier", 11);
	if (dir)
		closedir(dir);
	return n;
}

/*
 * Tiering needs node 1 in a slower tier than node 0: the firmware must say
 * so (ACPI HMAT on x86_64).  Without it every node is in the same tier:
 * nothing is demoted, NUMA balancing in memory-tiering mode promotes
 * nothing (it scans no top-tier page), and the tiering daemon moves the
 * hot quarter both ways (struct promoter).  Its classic mode would move
 * pages after the CPUs that read them, on both nodes where the riscv
 * guest has CPUs: migrations that are not tiering, and scans that keep a
 * TLB flush pending in the mm (migrc defers nothing of it meanwhile).
 */
static void bench_setup(void)
{
	const char *mode = "2";

	/*
	 * The two-node layout moves pages with move_pages(2) only: NUMA
	 * balancing would add its own scans, migrations and flushes to the
	 * figures (and to the TLB row of /proc/interrupts).
	 */
	if (!tier_ws_pages()) {
		write_file("/proc/sys/kernel/numa_balancing", "0");
		return;
	}
	if (write_file("/sys/kernel/mm/numa/demotion_enabled", "1") ||
	    write_file("/proc/sys/kernel/numa_balancing", mode))
		printf("tiering: cannot enable demotion or NUMA balancing\n");
}

/*
 * A tiering daemon: every 100 ms, it moves the hot quarter of a working
 * set (where @hot_start says it is now) to node 0 with move_pages(2), as
 * a user-space tiering daemon would where the kernel does not promote
 * (read-only file mappings, copy-on-write shared pages).  With @demote
 * (where every node is in one tier and reclaim would evict), it first
 * moves the pages that left the hot window since its last pass to node 1,
 * as DAMON's migrate_cold would, so that node 0 keeps room for the hot
 * quarter.  @flags is MPOL_MF_MOVE_ALL for pages other processes map too.
 */
struct promoter {
	void **addrs;
	long pages;
	atomic_int stop;
	int demote;
	int flags;
	long (*hot_start)(long pages);
	long moved;
};

/* Move @n pages from @start (wrapping) to @node; how many moved. */
static long move_span(struct promoter *pr, long start, long n, int node)
{
	long first = start + n > pr->pages ? pr->pages - start : n;
	long moved = move_pages(pr->addrs + start, first, node, pr->flags);

	if (first < n)
		moved += move_pages(pr->addrs, n - first, node, pr->flags);
	return moved;
}

/*
 * Where a demoting daemon has had time to settle: the hot window on node
 * 0, the rest on node 1.  Done with migrc off and before a run begins, so
 * both modes start from the same placement and neither pays for it.
 * Without it, the pages that first filled node 0 stay there until the
 * window comes round, and promotions fail for want of room (seen on
 * riscv: more than half of the hot pages not moved, in either mode).
 */
static void tier_place(struct promoter *pr)
{
	long start = pr->hot_start(pr->pages) % pr->pages, hot = pr->pages / 4;

	if (!pr->demote)
		return;
	write_file("/proc/sys/vm/migrc_enabled", "0");
	move_span(pr, (start + hot) % pr->pages, pr->pages - hot, 1);
	move_span(pr, start, hot, 0);
}

static void *promoter(void *p)
{
	struct promoter *pr = p;
	long hot = pr->pages / 4, prev = pr->hot_start(pr->pages) % pr->pages;

	while (!atomic_load(&pr->stop)) {
		long start = pr->hot_start(pr->pages) % pr->pages;
		long gone = (start - prev + pr->pages) % pr->pages;

		if (pr->demote && gone)
			pr->moved += move_span(pr, prev, gone < hot ? gone : hot, 1);
		pr->moved += move_span(pr, start, hot, 0);
		prev = start;
		usleep(100000);
	}
	return NULL;
}

/*
 * The tiering working set, filled with version 3.  With @placed, fill it
 * as tier_place() would leave it, the first quarter on node 0 and the
 * rest on node 1, so that the placement costs no migration.
 */
static uint64_t *tier_map(long pages, int placed)
{
	uint64_t *base = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long node0 = 1, node1 = 2;
	long hot = pages / 4;

	if (base == MAP_FAILED)
		return NULL;
	madvise(base, pages * PAGE, MADV_NOHUGEPAGE);
	if (placed) {
		syscall(SYS_mbind, base, hot * PAGE, MPOL_PREFERRED, &node0,
			sizeof(node0) * 8, 0);
		syscall(SYS_mbind, base + hot * WORDS, (pages - hot) * PAGE,
			MPOL_PREFERRED, &node1, sizeof(node1) * 8, 0);
	}
	fill(base, pages, 3);
	if (placed)
		syscall(SYS_mbind, base, pages * PAGE, MPOL_DEFAULT, NULL, 0, 0);
	return base;
}

static void tiering(int on, int forked, int tuned)
{
	struct run run;
	long pages = tier_ws_pages(), wpages = 256, writes = 0;
	uint64_t *base = tier_map(pages, nr_tiers() < 2);
	uint64_t *wbase = map_filled(wpages, 0);
	struct promoter pr = { 0 };
	char mapping[64];
	pthread_t daemon;

	if (!base || !wbase) {
		printf("tiering: cannot map %ld pages\n", pages);
		return;
	}
	/*
	 * A daemon moves the hot quarter (see struct promoter) where the
	 * kernel would not: NUMA balancing does not scan copy-on-write
	 * pages that more than one process maps (change_pte_range() skips
	 * them), and with one memory tier nothing is demoted and NUMA
	 * balancing never promotes into a full node 0.  It demotes too
	 * when there is one tier.
	 */
	pr.addrs = page_array(base, pages);
	pr.pages = pages;
	pr.demote = nr_tiers() < 2;
	pr.flags = forked ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE;
	pr.hot_start = tier_hot_start;
	snprintf(mapping, sizeof(mapping), "%s%s%s", forked ? "cow-fork" : "mprotect-ro",
		 forked || pr.demote ? ",daemon" : "", tuned ? "+tuned" : "");

	tier_base = pr.demote ? 0 : densest_window(base, pages, 1);
	tier_t0 = now();
	tier_place(&pr);
	tier_t0 = now();
	if (!forked) {
		mprotect(base, pages * PAGE, PROT_READ);
		run_begin(&run, "tiering", mapping, on);
		if (pr.demote)
			pthread_create(&daemon, NULL, promoter, &pr);
		tier_threads(base, pages, wbase, wpages, &run.reads,
			     &run.errors, &writes, 0);
		if (pr.demote) {
			atomic_store(&pr.stop, 1);
			pthread_join(daemon, NULL);
		}
	} else {
		int fds[2];
		pid_t child;
		long res[3] = { 0, 0, 0 };

		if (pipe(fds)) {
			free(pr.addrs);
			return;
		}
		run_begin(&run, "tiering", mapping, on);
		child = fork();
		if (!child) {
			long out[3] = { 0, 0, 0 };

			tier_threads(base, pages, wbase, wpages, &out[0],
				     &out[1], &out[2], 0);
			if (write(fds[1], out, sizeof(out)) != sizeof(out))
				_exit(1);
			_exit(0);
		}
		pthread_create(&daemon, NULL, promoter, &pr);
		if (read(fds[0], res, sizeof(res)) != sizeof(res))
			res[1]++;
		atomic_store(&pr.stop, 1);
		pthread_join(daemon, NULL);
		waitpid(child, NULL, 0);
		close(fds[0]);
		close(fds[1]);
		run.reads = res[0];
		run.errors = res[1];
		writes = res[2];
	}
	run.extra_ops = writes;
	run_end(&run);
	free(pr.addrs);
	munmap(base, pages * PAGE);
	munmap(wbase, wpages * PAGE);
}

/*
 * File tiering: the shape of model weights mapped for reading, larger than
 * the fast tier.  A sparse file of the ext2 image (its folios are the
 * page cache's zero-filled holes, so no disk is needed to hold it), 1.25
 * times node 0, opened read-only and mapped PROT_READ, MAP_SHARED, read
 * by every CPU with the tiering workload's moving hot quarter (every read
 * must be zero).  NUMA balancing never scans read-only file mappings, so
 * a promoter moves the hot quarter back to node 0 every 100 ms with
 * move_pages(2), as a user-space tiering daemon would.
 *
 * Where node 1 is a slower tier (x86_64), reclaim demotes the rest to it.
 * Where every node is in one tier (arm64 and riscv here), reclaim would
 * evict instead, so the daemon demotes too, as DAMON's migrate_cold or a
 * user-space tiering daemon does: each time, it moves the pages that left
 * the hot window to node 1 (the ",daemon" rows; see struct promoter).
 */
/* Readers and the promoter for @seconds; adds up what they did. */
static void file_tier_phase(uint64_t *base, struct promoter *pr, double seconds,
			    long *reads, long *errors)
{
	double saved = duration;
	long writes = 0;
	pthread_t tid;

	atomic_store(&pr->stop, 0);
	pthread_create(&tid, NULL, promoter, pr);
	duration = seconds;
	tier_threads(base, pr->pages, NULL, 0, reads, errors, &writes, 1);
	duration = saved;
	atomic_store(&pr->stop, 1);
	pthread_join(tid, NULL);
}

static void file_tiering(int on, const char *mapping)
{
	long pages = tier_ws_pages(), reads = 0, errors = 0, p;
	struct promoter pr = { 0 };
	uint64_t *base = MAP_FAILED;
	struct run run;
	int fd;

	fd = files_mount() ? -1 : open(FILES_MNT "/tier.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0 && !ftruncate(fd, pages * PAGE)) {
		close(fd);
		/* Read-only from here on: no writer, no writable mapping. */
		fd = open(FILES_MNT "/tier.dat", O_RDONLY);
		if (fd >= 0)
			base = mmap(NULL, pages * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	}
	if (fd >= 0)
		close(fd);
	if (base == MAP_FAILED) {
		printf("file-tiering: cannot map %ld pages of " FILES_MNT "/tier.dat: %s\n",
		       pages, strerror(errno));
		return;
	}
	for (p = 0; p < pages; p++)
		(void)READ_U64(&base[p * WORDS]);	/* every page cached */
	pr.addrs = page_array(base, pages);
	pr.pages = pages;
	pr.demote = strstr(mapping, "daemon") != NULL;
	pr.flags = MPOL_MF_MOVE;
	pr.hot_start = file_hot_start;
	/*
	 * Both modes measure the same steady state: the file spilled to
	 * node 1, then half a run of reading and promoting first (with
	 * this mode's setting), so the churn has begun.
	 */
	file_tier_t0 = now();
	tier_place(&pr);
	write_file("/proc/sys/vm/migrc_enabled", on ? "1" : "0");
	file_tier_t0 = now();
	file_tier_phase(base, &pr, duration / 2, &reads, &errors);
	run_begin(&run, "file-tiering", mapping, on);
	pr.moved = 0;
	file_tier_phase(base, &pr, duration, &run.reads, &run.errors);
	run.extra_ops = pr.moved;
	run_end(&run);
	munmap(base, pages * PAGE);
	free(pr.addrs);
	unlink(FILES_MNT "/tier.dat");
}

/*
 * Fault-path cost: what migrc's hooks cost when nothing is pending.
 *   page-fault: every CPU maps 4 MiB, writes every page, unmaps; repeat.
 *   wp-reuse:   write faults that reuse a page (the do_wp_page() hook): a
 *               forked child exits, then the parent writes every page.
 * Reported as operations per second; run several times for the spread.
 */
static void *pf_worker(void *p)
{
	long *ops = p, i;
	int cpu = ops[1];
	double t0 = now();

	pin(cpu);
	while (now() - t0 < duration / 3) {
		char *m = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		for (i = 0; i < (4 << 20); i += PAGE)
			m[i] = 1;
		munmap(m, 4 << 20);
		ops[0] += (4 << 20) / PAGE;
	}
	return NULL;
}

static void faultcost(int on, int rep)
{
	long ops[MAX_CPUS][2];
	pthread_t tid[MAX_CPUS];
	struct run run;
	char name[32];
	long total = 0, pages = 1024, i;
	char *m;
	double t0, spent = 0;
	int c;

	snprintf(name, sizeof(name), "fault-cost#%d", rep);
	run_begin(&run, "page-fault", name, on);
	for (c = 0; c < nr_cpus; c++) {
		ops[c][0] = 0;
		ops[c][1] = c;
		pthread_create(&tid[c], NULL, pf_worker, ops[c]);
	}
	for (c = 0; c < nr_cpus; c++) {
		pthread_join(tid[c], NULL);
		total += ops[c][0];
	}
	run.extra_ops = total;
	run_end(&run);

	run_begin(&run, "wp-reuse", name, on);
	m = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(m, 1, pages * PAGE);
	total = 0;
	t0 = now();
	while (now() - t0 < duration / 3) {
		pid_t child = fork();
		double t;

		if (!child)
			_exit(0);
		waitpid(child, NULL, 0);
		t = now();
		for (i = 0; i < pages; i++)
			m[i * PAGE]++;
		spent += now() - t;
		total += pages;
	}
	munmap(m, pages * PAGE);
	run.extra_ops = total;
	run_end(&run);
	/* For this one, the rate is over the write passes only. */
	printf("@@wpreuse {\"migrc\":\"%s\",\"rep\":%d,\"faults\":%ld,\"seconds\":%.4f}\n",
	       on ? "on" : "off", rep, total, spent);
}

/*
 * The soak (make soak, WORKLOAD=soak in the tiering layout): the tiering
 * workload with migrc on, its four runs (mprotect-ro and cow-fork, boot
 * defaults and tuned) in turn, 30 s each, for SOAK_MINUTES minutes.  The
 * checkers: readers verify every read, the sampler compares pending
 * pages with the cap, a drain at the end must leave nothing pending or
 * reserved, and the guest kernel has CONFIG_MIGRC_DEBUG (run.sh fails
 * the soak on any kernel warning).
 */
static void soak(void)
{
	const char *s = getenv("SOAK_MINUTES");
	double minutes = s && atof(s) > 0 ? atof(s) : 3, end = now() + minutes * 60;
	long left_pending, left_reserved;
	int i;

	if (!tier_ws_pages()) {
		printf("@@test soak FAIL needs the tiering layout (TIER=1)\n");
		printf("@@soak done\n");
		return;
	}
	for (i = 0; now() < end - 5; i++) {
		duration = end - now() < 30 ? end - now() : 30;
		progress("soak: %.0f of %.0f s", minutes * 60 - (end - now()),
			 minutes * 60);
		tiering(1, i & 1, (i >> 1) & 1);
	}
	write_file("/sys/kernel/debug/migrc/drain", "1");
	left_pending = vmstat_value("nr_migrc_pending");
	left_reserved = -1;
	{
		char line[128];
		FILE *f = fopen("/sys/kernel/debug/migrc/stats", "r");

		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "pages reserved: ", 16))
				left_reserved = atol(line + 16);
		if (f)
			fclose(f);
	}
	printf("@@soak {\"minutes\":%.1f,\"runs\":%ld,\"migrated_pages\":%ld,"
	       "\"deferred\":%ld,\"reads_verified\":%ld,\"integrity_errors\":%ld,"
	       "\"peak_pending\":%ld,\"runs_over_cap\":%ld,"
	       "\"pending_after_drain\":%ld,\"reserved_after_drain\":%ld}\n",
	       minutes, totals.runs, totals.migrated, totals.deferred, totals.reads,
	       totals.errors, totals.peak, totals.over_cap, left_pending,
	       left_reserved);
	printf("@@test soak %s %ld runs in %.1f min: %ld pages migrated, %ld deferred, %ld reads verified, %ld errors, peak %ld pending (%ld runs over the cap), %ld pending and %ld reserved after drain\n",
	       totals.runs && totals.migrated && totals.deferred && totals.reads &&
	       !totals.errors && !totals.over_cap && !left_pending && !left_reserved ?
	       "ok" : "FAIL", totals.runs, minutes, totals.migrated, totals.deferred,
	       totals.reads, totals.errors, totals.peak, totals.over_cap,
	       left_pending, left_reserved);
	printf("@@soak done\n");
	fflush(stdout);
}

/* ---- driver ------------------------------------------------------------- */

static int want(const char *list, const char *name)
{
	const char *p = list;
	size_t n = strlen(name);

	if (!strcmp(list, "all"))
		return 1;
	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

int bench_main(void)
{
	const char *workloads = getenv("WORKLOAD");
	const char *s;
	int on, rep;

	nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (nr_cpus > MAX_CPUS)
		nr_cpus = MAX_CPUS;
	if (!workloads || !*workloads)
		workloads = "tiering,file-tiering,pingpong,file-pingpong,file-text,file-open";
	s = getenv("DURATION");
	if (s && atof(s) > 0)
		duration = atof(s);
	s = getenv("WS_PAGES");
	if (s && atol(s) > 0)
		ws_pages = atol(s);
	s = getenv("WRITE_PERMILLE");
	if (s && atoi(s) >= 0)
		write_permille = atoi(s);

	bench_setup();
	default_cap = read_long("/proc/sys/vm/migrc_max_pending_pages");
	default_age = read_long("/proc/sys/vm/migrc_max_age_ms");
	printf("@@config {\"duration\":%.1f,\"ws_pages\":%ld,\"write_permille\":%d,"
	       "\"cpus\":%d,\"memory_tiers\":%d,\"numa_balancing\":%ld,"
	       "\"max_pending_pages\":%ld,\"max_age_ms\":%ld}\n",
	       duration, ws_pages, write_permille, nr_cpus, nr_tiers(),
	       read_long("/proc/sys/kernel/numa_balancing"),
	       read_long("/proc/sys/vm/migrc_max_pending_pages"),
	       read_long("/proc/sys/vm/migrc_max_age_ms"));

	if (want(workloads, "soak") && strcmp(workloads, "all")) {
		soak();
		return 0;
	}
	/*
	 * Each run with migrc off is followed at once by the same run with
	 * it on: the machine drifts over a boot (where the tiering's hot
	 * quarter lies, how much NUMA balancing has scanned, how fragmented
	 * node 0 is), and two adjacent runs see the same state.
	 */
	/*
	 * The ping-pong twice at the default cap, once on each side of it.
	 * Under the cap, the pages come back while their old folios are
	 * pending, and migrate back into them (recycling); over it, each
	 * trip fills the cap, and the old folios are retired before their
	 * pages come back.  ws_pages (32 MiB) is under the cap of the
	 * benchmark's 4 GiB guest, so the second run takes twice the cap;
	 * in a guest of 2 GiB or less (GUEST_MB=) it is over, and the second
	 * run takes half the cap.
	 */
	if (want(workloads, "pingpong")) {
		long other = ws_pages <= default_cap ? 2 * default_cap :
			     default_cap / 2;

		for (on = 0; on <= 1; on++)
			pingpong(on, "mprotect-ro", ws_pages);
		for (on = 0; on <= 1 && other > 0; on++)
			pingpong(on, other > default_cap ? "mprotect-ro,ws=2cap" :
				 "mprotect-ro,ws=cap/2", other);
		for (on = 0; on <= 1; on++)
			pingpong(on, "mprotect-ro+tuned", ws_pages);
	}
	if (want(workloads, "tiering") && tier_ws_pages()) {
		/*
		 * The first run after boot reads about four times as fast as
		 * every later one, in either mode: NUMA balancing has not
		 * started scanning yet.  One run, not reported, gets it going.
		 */
		warming_up = 1;
		tiering(0, 0, 0);
		warming_up = 0;
		for (rep = 0; rep < 4; rep++)	/* forked, tuned */
			for (on = 0; on <= 1; on++)
				tiering(on, rep & 1, rep >> 1);
	}
	if (want(workloads, "file-tiering") && tier_ws_pages()) {
		int daemon = nr_tiers() < 2;	/* see struct promoter */

		for (on = 0; on <= 1; on++)
			file_tiering(on, daemon ? "file-ro,daemon" : "file-ro");
		for (on = 0; on <= 1; on++)
			file_tiering(on, daemon ? "file-ro,daemon+tuned" : "file-ro+tuned");
	}
	if (want(workloads, "file-pingpong")) {
		for (on = 0; on <= 1; on++)
			file_pingpong(on, "file-ro");
		for (on = 0; on <= 1; on++)
			file_pingpong(on, "file-ro+tuned");
	}
	for (on = 0; on <= 1 && want(workloads, "file-text"); on++)
		file_text(on);
	for (on = 0; on <= 1 && want(workloads, "file-open"); on++)
		file_open(on);
	/*
	 * The control twice, the second pair the other way round: where
	 * migrc changes nothing, a runtime ratio that flips with the order
	 * is the order's, not migrc's.
	 */
	for (on = 0; on <= 1 && want(workloads, "write-heavy"); on++)
		writeheavy(on, "writable");
	for (on = 1; on >= 0 && want(workloads, "write-heavy"); on--)
		writeheavy(on, "writable,on-first");
	for (on = 0; on <= 1 && want(workloads, "fork-shared"); on++)
		forkshared(on);
	if (want(workloads, "fault-cost"))
		for (rep = 0; rep < 3; rep++)
			for (on = 0; on <= 1; on++)
				faultcost(on, rep);
	write_file("/proc/sys/vm/migrc_enabled", "1");
	return 0;
}
