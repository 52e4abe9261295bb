// SPDX-License-Identifier: GPL-2.0
/*
 * Stress tests, run in the guest by `make test` (WORKLOAD=stress), and the
 * boot parameter check of a second, short boot (WORKLOAD=bootparams).
 *
 *   pressure-cap         pending pages never exceed vm.migrc_max_pending_pages
 *                        while a working set larger than the cap moves
 *   pressure-hugepages   huge pages asked for with pending pages present:
 *                        more than the node's free memory could give, so
 *                        they came from retired pending pages
 *   pressure-no-oom      a child allocates more than free plus reclaimable
 *                        memory while pages are pending: no OOM kill
 *   hotplug              CPUs offline and online while batches are pending
 *                        and readers verify every page they read
 *   badinput-*           every knob refuses bad writes with EINVAL and keeps
 *                        its value
 *   bootparam-*          (second boot) bad migrc= and migrc_disable_hooks=
 *                        values are ignored with a warning each
 *
 * Every test runs in a child process with a time limit: a hang or a crash
 * is a FAIL line written by the parent.  Output: "@@test NAME ok|FAIL ...".
 */
#define _GNU_SOURCE
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
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

#define PAGE		4096UL
#define WORDS		(PAGE / sizeof(uint64_t))
#define HPAGE_PAGES	512L		/* 2 MiB huge pages of 4 KiB pages */
#define MAX_CPUS	64
#define STATS		"/sys/kernel/debug/migrc/stats"
#define DRAIN		"/sys/kernel/debug/migrc/drain"
#define KNOB(n)		"/proc/sys/vm/migrc_" n
#define HUGE_NODE(n)	"/sys/devices/system/node/node" #n \
			"/hugepages/hugepages-2048kB/nr_hugepages"

static int failed;

static void result(const char *name, int ok, const char *fmt, ...)
{
	va_list ap;

	printf("@@test %s %s ", name, ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	failed += !ok;
}

/* ---- reading the kernel's figures --------------------------------------- */

/*
 * The number after @key in a file of "key value" or "key: value" lines
 * (/proc/vmstat, /proc/meminfo, node meminfo and vmstat, migrc/stats);
 * -1 if there is no such line.
 */
static long file_key(const char *path, const char *key)
{
	char line[256], *p;
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, n) || (line[n] != ' ' && line[n] != ':'))
			continue;
		for (p = line + n; *p == ' ' || *p == ':'; p++)
			;
		v = atol(p);
		break;
	}
	if (f)
		fclose(f);
	return v;
}

static long pending(void)
{
	return file_key(STATS, "pages pending");
}

static long reserved(void)
{
	return file_key(STATS, "pages reserved");
}

static long node_pending(int nid)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/vmstat", nid);
	return file_key(path, "nr_migrc_pending");
}

/* A node meminfo item, in pages. */
static long node_mem(int nid, const char *item)
{
	char path[64], key[64];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", nid);
	snprintf(key, sizeof(key), "Node %d %s", nid, item);
	return file_key(path, key) / 4;
}

/* What reclaim could free at most without swap: page cache and reclaimable slab. */
static long reclaimable(int nid)
{
	if (nid >= 0)
		return node_mem(nid, "Active(file)") + node_mem(nid, "Inactive(file)") +
		       node_mem(nid, "KReclaimable");
	return (file_key("/proc/meminfo", "Active(file)") +
		file_key("/proc/meminfo", "Inactive(file)") +
		file_key("/proc/meminfo", "KReclaimable")) / 4;
}

/* Sum of the high watermarks of node @nid's zones, in pages. */
static long high_watermarks(int nid)
{
	char line[256], word[32];
	long v, sum = 0;
	int node = -1;
	FILE *f = fopen("/proc/zoneinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone", &node) == 1)
			continue;
		if (node == nid && sscanf(line, " %31s %ld", word, &v) == 2 &&
		    !strcmp(word, "high"))
			sum += v;
	}
	if (f)
		fclose(f);
	return sum;
}

static int set_long(const char *path, long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", v);
	return write_file(path, buf);
}

static int drain(void)
{
	return write_file(DRAIN, "1");
}

/* ---- a working set and readers that verify it ------------------------- */

/* Word @w of page @p at version @v: a value no other (p, w, v) has. */
static inline uint64_t val(long p, long w, long v)
{
	return 0x5eed000000000000ULL ^ ((uint64_t)(v & 0xff) << 40) ^
	       ((uint64_t)p << 9) ^ (uint64_t)w;
}

struct ws {
	uint64_t *base;
	long pages;
	void **pv;
	int node;		/* where every page is */
};

static int ws_map(struct ws *ws, long pages, long version)
{
	long p, w;

	ws->pages = pages;
	ws->base = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ws->base == MAP_FAILED)
		return -1;
	madvise(ws->base, pages * PAGE, MADV_NOHUGEPAGE);
	for (p = 0; p < pages; p++)
		for (w = 0; w < WORDS; w++)
			ws->base[p * WORDS + w] = val(p, w, version);
	mprotect(ws->base, pages * PAGE, PROT_READ);
	ws->pv = malloc(pages * sizeof(void *));
	for (p = 0; p < pages; p++)
		ws->pv[p] = (char *)ws->base + p * PAGE;
	ws->node = 0;
	move_pages(ws->pv, pages, 0, MPOL_MF_MOVE);
	return 0;
}

static void ws_unmap(struct ws *ws)
{
	munmap(ws->base, ws->pages * PAGE);
	free(ws->pv);
}

/* Move the whole set to @node; returns the folios migrc deferred. */
static long ws_move(struct ws *ws, int node)
{
	long before = vmstat_value("migrc_deferred");

	move_pages(ws->pv, ws->pages, node, MPOL_MF_MOVE);
	ws->node = node;
	return vmstat_value("migrc_deferred") - before;
}

/*
 * Readers: one per CPU, pinned (and pinned again when @epoch changes, after
 * a CPU came back).  Each pass reads one word of every @stride-th page,
 * starting one page further each pass (a large set thrashes QEMU's soft
 * TLB otherwise, which slows riscv's migrations to a crawl).  A reader
 * that acquired version V may read V, or V + 1 from a writer ahead of the
 * publication; V - 1 or V - 2 is a stale read, anything else corruption.
 */
struct readers {
	struct ws *ws;
	atomic_long version;
	atomic_int stop, epoch, next;
	atomic_long reads, stale, corrupt;
	int n, stride;
	pthread_t tid[MAX_CPUS];
};

static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static void *reader(void *arg)
{
	struct readers *r = arg;
	int cpu = atomic_fetch_add(&r->next, 1), epoch = -1;
	long reads = 0, stale = 0, corrupt = 0, pass = 0;

	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		long v, p;

		if (atomic_load(&r->epoch) != epoch) {
			epoch = atomic_load(&r->epoch);
			pin_to(cpu);
		}
		v = atomic_load_explicit(&r->version, memory_order_acquire);
		for (p = pass % r->stride; p < r->ws->pages; p += r->stride) {
			long w = (p * 7 + pass) % WORDS;
			uint64_t x = READ_U64(&r->ws->base[p * WORDS + w]);

			reads++;
			if (x == val(p, w, v) || x == val(p, w, v + 1))
				continue;
			if (x == val(p, w, v - 1) || x == val(p, w, v - 2)) {
				if (!stale++)
					printf("stress: stale read: page %ld word %ld of version %ld after %ld was published\n",
					       p, w, x == val(p, w, v - 1) ? v - 1 : v - 2, v);
			} else if (!corrupt++) {
				printf("stress: page %ld word %ld read %#llx, want %#llx\n",
				       p, w, (unsigned long long)x,
				       (unsigned long long)val(p, w, v));
			}
		}
		pass++;
	}
	atomic_fetch_add(&r->reads, reads);
	atomic_fetch_add(&r->stale, stale);
	atomic_fetch_add(&r->corrupt, corrupt);
	return NULL;
}

static void readers_begin(struct readers *r, struct ws *ws, long version,
			  int first_cpu)
{
	int i, cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(r, 0, sizeof(*r));
	r->ws = ws;
	r->stride = ws->pages > 4096 ? 8 : 1;
	atomic_store(&r->version, version);
	atomic_store(&r->next, first_cpu);
	r->n = cpus - first_cpu > MAX_CPUS ? MAX_CPUS : cpus - first_cpu;
	for (i = 0; i < r->n; i++)
		pthread_create(&r->tid[i], NULL, reader, r);
	usleep(50000);
}

static void readers_end(struct readers *r)
{
	int i;

	atomic_store(&r->stop, 1);
	for (i = 0; i < r->n; i++)
		pthread_join(r->tid[i], NULL);
}

/*
 * New content for every page: the set is made writable (a flush point),
 * rewritten with @version, made read-only again, then published.
 */
static void ws_rewrite(struct readers *r, struct ws *ws, long version)
{
	long p, w;

	mprotect(ws->base, ws->pages * PAGE, PROT_READ | PROT_WRITE);
	for (p = 0; p < ws->pages; p++)
		for (w = 0; w < WORDS; w++)
			ws->base[p * WORDS + w] = val(p, w, version);
	mprotect(ws->base, ws->pages * PAGE, PROT_READ);
	atomic_store_explicit(&r->version, version, memory_order_release);
}

/* ---- sampling pending pages against the cap ------------------------------ */

struct sampler {
	atomic_int stop;
	atomic_long peak, over, samples;
	pthread_t tid;
};

static void *sample_loop(void *arg)
{
	struct sampler *s = arg;
	char line[128];
	long pend, cap;
	FILE *f;

	while (!atomic_load(&s->stop)) {
		/* One read of the stats file: pending and cap from one snapshot. */
		pend = cap = -1;
		f = fopen(STATS, "r");
		while (f && fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "pages pending: ", 15))
				pend = atol(line + 15);
			else if (!strncmp(line, "max pending pages: ", 19))
				cap = atol(line + 19);
		}
		if (f)
			fclose(f);
		if (pend > atomic_load(&s->peak))
			atomic_store(&s->peak, pend);
		if (pend > cap) {
			if (!atomic_fetch_add(&s->over, 1))
				printf("stress: %ld pages pending over a cap of %ld\n", pend, cap);
		}
		atomic_fetch_add(&s->samples, 1);
		usleep(1000);
	}
	return NULL;
}

static void sampler_begin(struct sampler *s)
{
	memset(s, 0, sizeof(*s));
	pthread_create(&s->tid, NULL, sample_loop, s);
}

static void sampler_end(struct sampler *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->tid, NULL);
}

/* ---- 1. pressure --------------------------------------------------------- */

/*
 * The working set: an eighth of node 0 (64 MiB of 512), so that its
 * pending copies are worth several times what the node keeps free above
 * its watermarks, and small enough to move in seconds on riscv TCG.  At
 * least 64 MiB: node 0 can have much less than 512 MiB to manage (the
 * x86_64 KASAN kernel: 377 MiB in one boot, 335 MiB in another), while
 * the margin pressure-no-oom keeps above the watermarks does not shrink
 * with it; an eighth of 335 MiB left it nothing to compare.
 */
static long pressure_pages(void)
{
	long pages = node_mem(0, "MemTotal") / 8;

	return pages < 16384 ? 16384 : pages;
}

/*
 * The cap: a working set four times the cap moves there and back while
 * a sampler reads pending and cap from each snapshot of the stats file.
 */
static void pressure_cap(struct ws *ws, struct sampler *s)
{
	long cap = ws->pages / 4, retired = vmstat_value("migrc_retire_cap");
	long refused = file_key(STATS, "rounds refused at cap"), deferred;
	long over = atomic_load(&s->over);

	drain();
	set_long(KNOB("max_pending_pages"), cap);
	atomic_store(&s->peak, 0);
	deferred = ws_move(ws, 1);
	deferred += ws_move(ws, 0);
	usleep(20000);
	retired = vmstat_value("migrc_retire_cap") - retired;
	refused = file_key(STATS, "rounds refused at cap") - refused;
	over = atomic_load(&s->over) - over;
	if (over)
		result("pressure-cap", 0, "%ld samples over the cap of %ld pages (peak %ld)",
		       over, cap, atomic_load(&s->peak));
	else if (!deferred || atomic_load(&s->peak) < cap / 4 || !(retired + refused))
		result("pressure-cap", 0,
		       "the cap was never approached: %ld deferred, peak %ld of cap %ld, %ld retired at cap, %ld rounds refused",
		       deferred, atomic_load(&s->peak), cap, retired, refused);
	else
		result("pressure-cap", 1,
		       "peak %ld pages pending, cap %ld; %ld pages moved twice, %ld deferred, %ld batches retired at cap, %ld rounds refused",
		       atomic_load(&s->peak), cap, ws->pages, deferred, retired, refused);
}

/*
 * Huge pages.  First, with nothing pending, node 0 gives every huge page
 * it can (h0: what its free memory yields), and keeps all but 8 of them
 * so that the node sits just above its watermarks.  Then the working set
 * moves from node 0 to node 1: its old copies stay pending on node 0.
 * Free plus reclaimable memory on node 0 now allows at most @bound more
 * huge pages; asked for more, the kernel must retire the pending pages
 * to give more than @bound.
 */
static void pressure_hugepages(struct ws *ws, struct sampler *s)
{
	long h0, h1, p0, free0, bound, pressure, deferred;
	double t = now();

	drain();
	set_long(KNOB("max_pending_pages"), sysconf(_SC_PHYS_PAGES));
	if (ws->node != 0)
		ws_move(ws, 0);
	drain();
	if (set_long(HUGE_NODE(0), node_mem(0, "MemTotal") / HPAGE_PAGES)) {
		result("pressure-hugepages", 0, "cannot write %s: %s", HUGE_NODE(0),
		       strerror(errno));
		return;
	}
	h0 = read_long(HUGE_NODE(0));
	printf("stress: %ld huge pages with nothing pending after %.1f s\n", h0, now() - t);
	if (h0 < 16) {
		result("pressure-hugepages", 0, "only %ld huge pages on node 0 with nothing pending",
		       h0);
		set_long(HUGE_NODE(0), 0);
		return;
	}
	set_long(HUGE_NODE(0), h0 - 8);
	h0 = read_long(HUGE_NODE(0));
	drain();			/* what compaction migrated and deferred */
	usleep(200000);			/* kswapd settles */
	deferred = ws_move(ws, 1);
	p0 = node_pending(0);
	free0 = node_mem(0, "MemFree");
	bound = (free0 + reclaimable(0)) / HPAGE_PAGES;
	pressure = vmstat_value("migrc_retire_pressure");
	set_long(HUGE_NODE(0), h0 + p0 / HPAGE_PAGES + 16);
	h1 = read_long(HUGE_NODE(0));
	printf("stress: %ld huge pages with pages pending after %.1f s\n", h1, now() - t);
	pressure = vmstat_value("migrc_retire_pressure") - pressure;
	set_long(HUGE_NODE(0), 0);
	if (p0 / HPAGE_PAGES <= bound + 2)
		result("pressure-hugepages", 0,
		       "nothing to compare: %ld pages pending on node 0 (%ld deferred), free memory alone gives %ld huge pages",
		       p0, deferred, bound);
	else
		result("pressure-hugepages", h1 - h0 > bound,
		       "%ld huge pages from free memory with nothing pending; then with %ld pages pending on node 0, +%ld huge pages where free and reclaimable memory allow at most +%ld (%ld retired by pressure, %ld pending now)",
		       h0, p0, h1 - h0, bound, pressure, node_pending(0));
}

/*
 * No OOM: the working set moves away from node @nid, its old copies stay
 * pending there, and a child bound to node @nid allocates more than the
 * node's free and reclaimable memory (but less than that plus the pending
 * pages).  Without retirement under pressure the OOM killer would have to
 * kill it.
 */
static void pressure_no_oom(struct ws *ws, struct sampler *s)
{
	long p, freep, rec, margin, demand, oom, pressure, done = 0;
	int to_child[2], from_child[2], st, nid = ws->node;
	pid_t child;
	char c = 0;

	drain();
	ws_move(ws, nid ^ 1);
	p = node_pending(nid);
	freep = node_mem(nid, "MemFree");
	rec = reclaimable(nid);
	margin = 2 * high_watermarks(nid) + 4096;
	demand = freep - margin + p * 3 / 4;
	if (demand - (freep + rec) < 2048) {
		result("pressure-no-oom", 0,
		       "nothing to compare: %ld pending on node %d, %ld free, %ld reclaimable, demand %ld",
		       p, nid, freep, rec, demand);
		return;
	}
	oom = vmstat_value("oom_kill");
	pressure = vmstat_value("migrc_retire_pressure");
	if (pipe(to_child) || pipe(from_child))
		return;
	fflush(stdout);
	child = fork();
	if (!child) {
		char *m;
		long i;

		unsigned long mask = 1UL << nid;

		write_file("/proc/self/oom_score_adj", "1000");
		if (syscall(SYS_set_mempolicy, 2 /* MPOL_BIND */, &mask, 64))
			_exit(4);
		m = mmap(NULL, demand * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m == MAP_FAILED)
			_exit(3);
		madvise(m, demand * PAGE, MADV_NOHUGEPAGE);
		for (i = 0; i < demand; i++)
			m[i * PAGE] = 1;
		if (write(from_child[1], &i, sizeof(i)) != sizeof(i) ||
		    read(to_child[0], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	close(from_child[1]);
	if (read(from_child[0], &done, sizeof(done)) != sizeof(done))
		done = 0;
	oom = vmstat_value("oom_kill") - oom;
	pressure = vmstat_value("migrc_retire_pressure") - pressure;
	if (write(to_child[1], &c, 1) != 1)
		done = 0;
	waitpid(child, &st, 0);
	close(to_child[0]);
	close(to_child[1]);
	close(from_child[0]);
	result("pressure-no-oom", !oom && done == demand && WIFEXITED(st) &&
	       !WEXITSTATUS(st),
	       "%ld OOM kills; a child bound to node %d touched %ld of %ld pages (free %ld + reclaimable %ld, %ld pending there), status %#x, %ld batches retired by pressure",
	       oom, nid, done, demand, freep, rec, p, st, pressure);
}

static void pressure(void)
{
	struct readers r;
	struct sampler s;
	struct ws ws;
	long cap = read_long(KNOB("max_pending_pages")), oom = vmstat_value("oom_kill");
	double t = now();

	if (ws_map(&ws, pressure_pages(), 1)) {
		result("pressure-cap", 0, "cannot map the working set");
		return;
	}
	printf("stress: pressure setup took %.1f s\n", now() - t);
	readers_begin(&r, &ws, 1, 1);
	sampler_begin(&s);
	t = now();
	pressure_cap(&ws, &s);
	printf("stress: pressure-cap took %.1f s\n", now() - t);
	t = now();
	pressure_hugepages(&ws, &s);
	printf("stress: pressure-hugepages took %.1f s\n", now() - t);
	t = now();
	pressure_no_oom(&ws, &s);
	printf("stress: pressure-no-oom took %.1f s\n", now() - t);
	sampler_end(&s);
	readers_end(&r);
	drain();
	printf("stress: pressure: peak %ld pages pending, %ld samples, %ld over the cap, %ld OOM kills, %ld reads verified, %ld stale, %ld corrupt\n",
	       atomic_load(&s.peak), atomic_load(&s.samples), atomic_load(&s.over),
	       vmstat_value("oom_kill") - oom, atomic_load(&r.reads),
	       atomic_load(&r.stale), atomic_load(&r.corrupt));
	result("pressure-reads", !atomic_load(&r.stale) && !atomic_load(&r.corrupt) &&
	       atomic_load(&r.reads),
	       "%ld reads verified during the pressure tests, %ld stale, %ld corrupt",
	       atomic_load(&r.reads), atomic_load(&r.stale), atomic_load(&r.corrupt));
	set_long(KNOB("max_pending_pages"), cap);
	ws_unmap(&ws);
}

/* ---- 2. CPU hotplug ------------------------------------------------------- */

static int cpu_online(int cpu, int on)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
	return write_file(path, on ? "1" : "0");
}

struct toggler {
	atomic_int stop;
	int cpus;
	long cycles, errors, retries;
	struct readers *r;
	pthread_t tid;
};

/*
 * Bring @cpu back, counting failed tries in *@retries.  Under TCG a riscv
 * hart can still be on its way to its SBI stop call after the kernel
 * called it dead ("CPUn may not have stopped"), and starting it then
 * fails ("CPUn: failed to start", EIO); on a busy host a CPU can also
 * miss the kernel's one-second bring-up wait ("failed to come online").
 * Both are the emulator's timing, not migrc's, and pass on a later try.
 * A CPU that stays offline after five tries is an error.
 */
static int cpu_bring_up(int cpu, long *retries)
{
	int i;

	for (i = 0; i < 5; i++) {
		if (!cpu_online(cpu, 1))
			return 0;
		(*retries)++;
		usleep(100000);
	}
	return -1;
}

static void *toggle_loop(void *arg)
{
	struct toggler *t = arg;
	int cpu = 1;

	while (!atomic_load(&t->stop)) {
		if (cpu_online(cpu, 0) || cpu_bring_up(cpu, &t->retries))
			t->errors++;
		else
			t->cycles++;
		atomic_fetch_add(&t->r->epoch, 1);
		cpu = cpu % (t->cpus - 1) + 1;
	}
	return NULL;
}

/*
 * Phase 1, one CPU at a time: the set moves (deferred), the CPU goes
 * offline (everything pending must be retired by then), the set moves
 * back while it is offline, the CPU returns, the readers go back to it,
 * the set moves again (deferred with the returned CPU's TLB loaded), and
 * is rewritten: a reader that sees the old version after that read a
 * stale translation.  Phase 2: a thread toggles CPUs without pause while
 * the set moves and is rewritten.  Then a drain must leave nothing
 * pending or reserved.
 */
static void hotplug(void)
{
	int cpus = sysconf(_SC_NPROCESSORS_ONLN), cpu, c, err = 0;
	long version = 1, cycles = 0, with_pending = 0, left = 0, deferred = 0, d;
	long retries = 0;
	long cap = read_long(KNOB("max_pending_pages"));
	struct toggler t;
	struct readers r;
	struct ws ws;
	double t0;
	char why[160] = "";

	if (cpus < 2 || ws_map(&ws, 2048, version)) {
		result("hotplug", 0, "needs 2 CPUs and a working set (%d CPUs)", cpus);
		return;
	}
	/* Room for every move of a cycle: only the offline retires. */
	set_long(KNOB("max_pending_pages"), 8 * ws.pages);
	readers_begin(&r, &ws, version, 0);
	for (c = 0; c < 2 * (cpus - 1); c++) {
		cpu = c % (cpus - 1) + 1;
		drain();
		d = ws_move(&ws, ws.node ^ 1);
		deferred += d;
		with_pending += pending() > 0;
		if (cpu_online(cpu, 0)) {
			err = errno;
			snprintf(why, sizeof(why), "cpu%d cannot go offline: %s", cpu,
				 strerror(err));
			break;
		}
		if (pending() || reserved()) {
			left++;
			printf("stress: %ld pages pending, %ld reserved after cpu%d went offline\n",
			       pending(), reserved(), cpu);
		}
		deferred += ws_move(&ws, ws.node ^ 1);
		if (cpu_bring_up(cpu, &retries)) {
			err = errno;
			snprintf(why, sizeof(why), "cpu%d cannot come back in 5 tries: %s",
				 cpu, strerror(err));
			break;
		}
		atomic_fetch_add(&r.epoch, 1);
		usleep(30000);
		deferred += ws_move(&ws, ws.node ^ 1);
		ws_rewrite(&r, &ws, ++version);
		usleep(30000);
		cycles++;
	}
	memset(&t, 0, sizeof(t));
	t.cpus = cpus;
	t.r = &r;
	if (!why[0]) {
		pthread_create(&t.tid, NULL, toggle_loop, &t);
		for (t0 = now(); now() - t0 < 8; ) {
			deferred += ws_move(&ws, ws.node ^ 1);
			deferred += ws_move(&ws, ws.node ^ 1);
			ws_rewrite(&r, &ws, ++version);
		}
		atomic_store(&t.stop, 1);
		pthread_join(t.tid, NULL);
	}
	for (cpu = 1; cpu < cpus; cpu++)
		cpu_online(cpu, 1);
	readers_end(&r);
	drain();
	set_long(KNOB("max_pending_pages"), cap);
	if (why[0])
		result("hotplug", 0, "%s", why);
	else
		result("hotplug", !left && !t.errors && !pending() && !reserved() &&
		       with_pending == cycles && deferred && !atomic_load(&r.stale) &&
		       !atomic_load(&r.corrupt) && t.cycles &&
		       sysconf(_SC_NPROCESSORS_ONLN) == cpus,
		       "%ld offline cycles with pages pending (of %ld), %ld left pending after offline, %ld toggle cycles under load (%ld errors), %ld bring-up retries, %ld deferred, %ld reads verified, %ld stale, %ld corrupt; after drain %ld pending, %ld reserved; %ld of %d CPUs online",
		       with_pending, cycles, left, t.cycles, t.errors, t.retries + retries, deferred,
		       atomic_load(&r.reads), atomic_load(&r.stale),
		       atomic_load(&r.corrupt), pending(), reserved(),
		       sysconf(_SC_NPROCESSORS_ONLN), cpus);
	ws_unmap(&ws);
}

/* ---- 3. bad input ---------------------------------------------------------- */

struct bad {
	const char *what;
	const char *buf;
	size_t len;		/* 0: strlen(buf) */
	off_t off;		/* pwrite() offset */
};

/* Bad for every knob. */
static const struct bad bad_common[] = {
	{ "empty", "", 0 },
	{ "newline only", "\n" },
	{ "space", " " },
	{ "negative", "-1" },
	{ "minus zero", "-0" },
	{ "word", "abc" },
	{ "trailing garbage", "1x" },
	{ "trailing space", "1 " },
	{ "leading space", " 1" },
	{ "hexadecimal", "0x1" },
	{ "decimal point", "1.0" },
	{ "exponent", "1e3" },
	{ "two newlines", "1\n\n" },
	{ "two lines", "1\n1" },
	{ "list", "1,1" },
	{ "NUL then garbage", "1\0x", 3 },
	{ "trailing NUL", "1\0", 2 },
	{ "ULONG_MAX", "18446744073709551615" },
	{ "2^64 (overflow)", "18446744073709551616" },
	{ "30 digits", "100000000000000000000000000000" },
	{ "valid value at offset 1", "1", 0, 1 },
	{ "valid value at offset 4096", "1", 0, 4096 },
};

/* Per knob: the range's edges, just outside and just inside. */
struct knob {
	const char *name, *path;
	long below, above;	/* -1: no value below the range */
	long lo, hi;
};

static long ok_count, tried, rejected;
static char accepted[512];		/* the bad inputs that got through */

/* Write; 0 if it was accepted whole, the errno otherwise. */
static int try_write(const char *path, const char *buf, size_t len, off_t off)
{
	int fd = open(path, O_WRONLY);
	ssize_t ret;
	int err;

	if (fd < 0)
		return errno ? errno : EIO;
	ret = off ? pwrite(fd, buf, len, off) : write(fd, buf, len);
	err = ret < 0 ? errno : (size_t)ret == len ? 0 : EIO;
	close(fd);
	return err;
}

/* One bad write: EINVAL and the old value kept, else a line saying what. */
static int expect_bad(const char *knob, const char *path, const char *what,
		      const char *buf, size_t len, off_t off, long (*now_val)(const char *))
{
	long before = now_val(path), after;
	int err = try_write(path, buf, len, off);

	after = now_val(path);
	tried++;
	if (err == EINVAL && after == before) {
		rejected++;
		return 0;
	}
	printf("stress: %s: %s: %s, value %ld -> %ld\n", knob, what,
	       err ? strerror(err) : "accepted", before, after);
	snprintf(accepted + strlen(accepted), sizeof(accepted) - strlen(accepted),
		 "%s%s", accepted[0] ? ", " : "", what);
	return 1;
}

static long sysctl_val(const char *path)
{
	return read_long(path);
}

/* For the drain file: drains done so far plus pages pending. */
static long drain_val(const char *path)
{
	return vmstat_value("migrc_retire_drain") * 1000000 + pending();
}

/*
 * A valid write must be accepted and take effect: the control that shows
 * the bad writes were refused for their content, not for being writes.
 */
static int expect_good(const char *knob, const char *path, long v)
{
	char buf[32];
	int err;

	snprintf(buf, sizeof(buf), "%ld\n", v);
	err = try_write(path, buf, strlen(buf), 0);
	if (err || read_long(path) != v) {
		printf("stress: %s: valid %ld: %s, reads %ld\n", knob, v,
		       err ? strerror(err) : "accepted", read_long(path));
		return 1;
	}
	ok_count++;
	return 0;
}

static void badinput_knob(const struct knob *k)
{
	static char big[1 << 20];
	long old = read_long(k->path), t0 = tried, r0 = rejected;
	char buf[64], name[64];
	int bad = 0, fd;
	size_t i;

	for (i = 0; i < sizeof(bad_common) / sizeof(bad_common[0]); i++) {
		const struct bad *b = &bad_common[i];

		bad += expect_bad(k->name, k->path, b->what, b->buf,
				  b->len ? b->len : strlen(b->buf), b->off, sysctl_val);
	}
	if (k->below >= 0) {
		snprintf(buf, sizeof(buf), "%ld", k->below);
		bad += expect_bad(k->name, k->path, "below the range", buf,
				  strlen(buf), 0, sysctl_val);
	}
	snprintf(buf, sizeof(buf), "%ld", k->above);
	bad += expect_bad(k->name, k->path, "above the range", buf, strlen(buf), 0,
			  sysctl_val);
	snprintf(buf, sizeof(buf), "%ld\n", k->above);
	bad += expect_bad(k->name, k->path, "above the range, newline", buf,
			  strlen(buf), 0, sysctl_val);
	memset(big, '1', sizeof(big));
	bad += expect_bad(k->name, k->path, "4 KiB of digits", big, 4096, 0, sysctl_val);
	bad += expect_bad(k->name, k->path, "1 MiB of digits", big, sizeof(big), 0,
			  sysctl_val);
	/* A second write on one file: the first is valid, the second is not. */
	fd = open(k->path, O_WRONLY);
	snprintf(buf, sizeof(buf), "%ld", old);
	tried++;
	if (fd >= 0 && write(fd, buf, strlen(buf)) == (ssize_t)strlen(buf) &&
	    write(fd, "1", 1) < 0 && errno == EINVAL && read_long(k->path) == old) {
		rejected++;
	} else {
		printf("stress: %s: a second write on the same file was not refused\n",
		       k->name);
		bad++;
	}
	if (fd >= 0)
		close(fd);
	bad += expect_good(k->name, k->path, k->lo);
	bad += expect_good(k->name, k->path, k->hi);
	bad += expect_good(k->name, k->path, old);
	snprintf(name, sizeof(name), "badinput-%s", k->name);
	result(name, !bad, "%ld bad writes tried, %ld refused with EINVAL keeping %ld%s%s; valid %ld, %ld and %ld accepted",
	       tried - t0, rejected - r0, old, accepted[0] ? "; not refused: " : "",
	       accepted, k->lo, k->hi, old);
	accepted[0] = 0;
}

static void badinput_drain(void)
{
	static const struct bad extra[] = {
		{ "zero", "0" }, { "two", "2" }, { "zero, newline", "0\n" },
	};
	static char big[1 << 20];
	long t0 = tried, r0 = rejected, p, drains;
	struct readers r;
	struct ws ws;
	int bad = 0;
	size_t i;

	/*
	 * Something pending, which a drain that got through would retire:
	 * readers on the other CPUs, or there is no remote TLB to defer for.
	 */
	drain();
	if (ws_map(&ws, 512, 1)) {
		result("badinput-drain", 0, "cannot map");
		return;
	}
	readers_begin(&r, &ws, 1, 1);
	ws_move(&ws, 1);
	p = pending();
	for (i = 0; i < sizeof(bad_common) / sizeof(bad_common[0]); i++) {
		const struct bad *b = &bad_common[i];

		/* "1" at an offset is the one valid content of this file. */
		bad += expect_bad("drain", DRAIN, b->what, b->buf,
				  b->len ? b->len : strlen(b->buf), b->off, drain_val);
	}
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		bad += expect_bad("drain", DRAIN, extra[i].what, extra[i].buf,
				  strlen(extra[i].buf), 0, drain_val);
	memset(big, '1', sizeof(big));
	bad += expect_bad("drain", DRAIN, "4 KiB of ones", big, 4096, 0, drain_val);
	bad += expect_bad("drain", DRAIN, "1 MiB of ones", big, sizeof(big), 0, drain_val);
	/* The control, with pages pending again: "1\n" drains everything. */
	ws_move(&ws, 0);
	drains = vmstat_value("migrc_retire_drain");
	if (pending() <= 0 || try_write(DRAIN, "1\n", 2, 0) || pending() ||
	    vmstat_value("migrc_retire_drain") == drains) {
		printf("stress: drain: \"1\\n\" did not drain (%ld pending)\n", pending());
		bad++;
	}
	readers_end(&r);
	ws_unmap(&ws);
	if (p <= 0)
		result("badinput-drain", 0, "nothing was pending: a bad drain could not show");
	else
		result("badinput-drain", !bad,
		       "%ld bad writes tried with %ld pages pending, %ld refused with EINVAL draining nothing%s%s; \"1\\n\" %s",
		       tried - t0, p, rejected - r0, accepted[0] ? "; not refused: " : "",
		       accepted, bad > (tried - t0) - (rejected - r0) ? "did not drain" : "drained");
}

static void badinput(void)
{
	struct sysinfo si;
	long ram;
	struct knob knobs[] = {
		{ "migrc_enabled", KNOB("enabled"), -1, 2, 0, 1 },
		{ "migrc_max_pending_pages", KNOB("max_pending_pages"), -1, 0, 0, 0 },
		{ "migrc_max_age_ms", KNOB("max_age_ms"), 0, 60001, 1, 60000 },
	};
	size_t i;

	sysinfo(&si);
	ram = (long)((unsigned long long)si.totalram * si.mem_unit / PAGE);
	knobs[1].above = ram + 1;
	knobs[1].hi = ram;
	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		badinput_knob(&knobs[i]);
	badinput_drain();
	printf("stress: bad input: %ld bad writes tried, %ld refused with EINVAL, %ld valid writes accepted\n",
	       tried, rejected, ok_count);
}

/* ---- the driver -------------------------------------------------------------- */

/*
 * Run @fn in a child with a time limit.  The child exits with its number
 * of failed tests; a child that dies or hangs fails @name here.
 */
static int run_test(const char *name, void (*fn)(void), int limit)
{
	double t0 = now();
	pid_t child;
	int st;

	fflush(stdout);
	child = fork();
	if (!child) {
		fn();
		fflush(stdout);
		_exit(failed > 100 ? 100 : failed);
	}
	while (waitpid(child, &st, WNOHANG) == 0) {
		if (now() - t0 > limit) {
			printf("@@test %s FAIL hung: no end after %d s\n", name, limit);
			kill(child, SIGKILL);
			fflush(stdout);
			return 1;
		}
		usleep(100000);
	}
	printf("stress: %s took %.1f s\n", name, now() - t0);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	printf("@@test %s FAIL the test process died: signal %d\n", name, WTERMSIG(st));
	return 1;
}

/*
 * On a sanitizer kernel (SANITIZER=1 on the command line, from
 * scripts/run.sh: KASAN with lockdep, or KCSAN) every kernel path the
 * tests take is several times slower under TCG: the same tests with the
 * same checks, three times the time before one counts as hung.
 */
static int time_limit(int seconds)
{
	const char *s = getenv("SANITIZER");

	return s && *s && strcmp(s, "0") ? 3 * seconds : seconds;
}

int stress_main(void)
{
	int fails = 0;

	write_file("/proc/sys/kernel/numa_balancing", "0");
	write_file(KNOB("enabled"), "1");
	write_file(KNOB("max_age_ms"), "60000");
	fails += run_test("badinput", badinput, time_limit(120));
	fails += run_test("pressure", pressure, time_limit(300));
	fails += run_test("hotplug", hotplug, time_limit(180));
	printf("@@stress done, %d failed\n", fails);
	return fails;
}

/* ---- the second boot: bad boot parameters ------------------------------------ */

/* Occurrences of parameter @name (as "name" or "name=...") in /proc/cmdline. */
static int cmdline_count(const char *name)
{
	char buf[4096], *tok, *save;
	size_t n = strlen(name);
	int count = 0;
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f || !fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	if (f)
		fclose(f);
	for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		count += !strncmp(tok, name, n) && (!tok[n] || tok[n] == '=');
	return count;
}

static int kmsg_count(const char *what)
{
	int len = klogctl(10, NULL, 0), count = 0;
	char *buf, *p;

	if (len <= 0)
		return -1;
	buf = calloc(1, len + 1);
	len = klogctl(3, buf, len);
	for (p = buf; len > 0 && (p = strstr(p, what)); p++)
		count++;
	free(buf);
	return count;
}

/*
 * Booted with migrc=off, then bad migrc= values, and with
 * migrc_disable_hooks=0, then bad masks (scripts/run.sh).  Each bad value
 * must be ignored with a warning: migrc stays off (a bad value taken as
 * "on" shows), one warning per bad value (one taken as "off" or as a mask
 * shows as a missing warning), and only the valid mask was applied.
 */
int bootparams_main(void)
{
	int m = cmdline_count("migrc"), h = cmdline_count("migrc_disable_hooks");
	int mw = kmsg_count("migrc: ignoring invalid migrc="), hw =
		kmsg_count("migrc: ignoring migrc_disable_hooks="), ha =
		kmsg_count("migrc: debug: hooks 0x");
	long on = read_long(KNOB("enabled"));

	result("bootparam-migrc", m > 1 && mw == m - 1 && on == 0,
	       "%d bad migrc= values after migrc=off, %d ignored with a warning; vm.migrc_enabled %ld",
	       m - 1, mw, on);
	result("bootparam-hooks", h > 1 && hw == h - 1 && ha == 1 &&
	       kmsg_count("migrc: debug: hooks 0x0 disabled") == 1,
	       "%d bad migrc_disable_hooks= values after =0, %d ignored with a warning; %d masks applied",
	       h - 1, hw, ha);
	printf("@@stress done, %d failed\n", failed);
	return failed;
}
