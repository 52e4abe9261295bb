// SPDX-License-Identifier: GPL-2.0
/*
 * Read-only variants of the 6.12 mm selftest migration.c, for migrc.
 *
 * migration.c writes its memory just before it migrates it, so every page
 * it moves is mapped writable and dirty, and migrc (which defers the TLB
 * shootdown only for folios no CPU can write) never defers one.  These
 * variants move memory nobody can write:
 *
 *   ro_*	populate, mprotect(PROT_READ), migrate back and forth;
 *   fork_*	populate, fork: parent and child map the pages read-only
 *		(copy-on-write) and both read them while the parent migrates
 *		them (MPOL_MF_MOVE_ALL).
 *
 * Reader threads pinned to every CPU but the migrating one verify every
 * read: each 64-bit word holds a value unique to its page, word and
 * version.  A word holding anything else (a source page freed and reused
 * while a stale translation still reached it, a bad copy) fails the test.
 *
 * Then the memory is moved once more, with nothing else pending in migrc,
 * and at once written (a new version) the way a program would: ro_* make
 * it writable with mprotect(); fork_* first have the child write its copy
 * (the copy-on-write path) and exit, then the parent moves and writes its
 * pages (its own now, so the write fault reuses them in place).  Each side
 * then publishes the new version; a reader that sees the publication and
 * then reads the old version read through a stale translation to the
 * page the migration replaced, and fails the test.  Under QEMU TCG a TLB
 * entry stays usable until the guest flushes it, so a missing flush shows
 * here: with migrc_disable_hooks=1 (no flush in the write fault's reuse
 * path) fork_private_anon fails on x86_64.
 *
 * Each test also fails if it did not move the memory there and back, if
 * migrc deferred none of its base pages (with migrc on; THPs are moved
 * PMD-mapped, which migrc does not defer), or if no reader read after a
 * publication: it would have tested nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/mempolicy.h>

#include "kselftest_harness.h"

#define TWOMEG		(2UL << 20)
#define RUNTIME		5	/* seconds of migration per test, at least */
#define MAX_RUNTIME	60	/* ... and at most, to make two rounds */
#define MAX_READERS	32
#define MAX_RETRIES	100	/* calls to move every page, as migration.c */
#define V_OLD		1	/* the content while it is migrated */
#define V_PARENT	2	/* written by the parent afterwards */
#define V_CHILD		3	/* written by the forked child afterwards */

/* Atomic so that the compiler reads memory each time, in order. */
#define LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)

static long page_size;

/* A value no other word, page or version holds. */
static inline uint64_t word_val(unsigned long page, unsigned long word,
				unsigned int ver)
{
	return 0x6d00000000000000ULL | ((uint64_t)ver << 48) |
	       ((uint64_t)page << 20) | word;
}

/*
 * One address space's readers: the parent's, or the forked child's.  The
 * memory holds version @old, then, while it is written, @old or @new,
 * then, once @published is set, @new only.
 */
struct side {
	unsigned int old, new;
	atomic_int published;
	atomic_int stop;
	atomic_int started;	/* readers that finished a first pass */
	atomic_int checked;	/* ... and a pass after the publication */
	atomic_long reads, fresh, stale, corrupt;
	atomic_ulong bad_page, bad_val;	/* the first corrupt read */
};

/* Shared between parent and child (MAP_SHARED). */
struct ctl {
	struct side side[2];
	atomic_int child_write;	/* the parent is done migrating */
	atomic_int child_ok;
};

struct reader {
	pthread_t tid;
	struct side *side;
	uint64_t *base;
	unsigned long pages;
	int cpu;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *reader_fn(void *arg)
{
	struct reader *r = arg;
	struct side *s = r->side;
	unsigned long words = page_size / 8, p, w = 0;
	long reads = 0, fresh = 0, stale = 0, corrupt = 0, pass = 0, checked = 0;

	pin(r->cpu);
	while (!atomic_load(&s->stop)) {
		/* Pairs with the release in publish(). */
		int pub = atomic_load_explicit(&s->published,
					       memory_order_acquire);

		/* Word 0 of every page, and a word that moves each pass. */
		w = (w + 1) % words;
		for (p = 0; p < r->pages; p++) {
			uint64_t v0 = LOAD(&r->base[p * words]);
			uint64_t vw = LOAD(&r->base[p * words + w]);
			int i;

			for (i = 0; i < 2; i++) {
				uint64_t v = i ? vw : v0;
				unsigned long wd = i ? w : 0;

				reads++;
				if (v == word_val(p, wd, s->new)) {
					fresh += pub;
				} else if (v == word_val(p, wd, s->old)) {
					stale += pub;
				} else if (!corrupt++) {
					atomic_store(&s->bad_page, p);
					atomic_store(&s->bad_val, v);
				}
			}
		}
		if (!pass++)
			atomic_fetch_add(&s->started, 1);
		if (pub && !checked++)
			atomic_fetch_add(&s->checked, 1);
	}
	atomic_fetch_add(&s->reads, reads);
	atomic_fetch_add(&s->fresh, fresh);
	atomic_fetch_add(&s->stale, stale);
	atomic_fetch_add(&s->corrupt, corrupt);
	return NULL;
}

/* Readers on CPUs 1..n-1 (the caller migrates on CPU 0). */
static int readers_start(struct reader *r, int n, struct side *s,
			 uint64_t *base, unsigned long pages)
{
	int i;

	for (i = 0; i < n; i++) {
		r[i] = (struct reader){ .side = s, .base = base,
					.pages = pages, .cpu = i + 1 };
		if (pthread_create(&r[i].tid, NULL, reader_fn, &r[i]))
			return -1;
	}
	while (atomic_load(&s->started) < n)
		usleep(1000);
	return 0;
}

static void readers_stop(struct reader *r, int n, struct side *s)
{
	int i;

	atomic_store(&s->stop, 1);
	for (i = 0; i < n; i++)
		pthread_join(r[i].tid, NULL);
}

static void fill(uint64_t *base, unsigned long pages, unsigned int ver)
{
	unsigned long words = page_size / 8, p, w;

	for (p = 0; p < pages; p++)
		for (w = 0; w < words; w++)
			base[p * words + w] = word_val(p, w, ver);
}

/* Words of @base not holding version @ver. */
static long check_all(uint64_t *base, unsigned long pages, unsigned int ver)
{
	unsigned long words = page_size / 8, p, w;
	long bad = 0;

	for (p = 0; p < pages; p++)
		for (w = 0; w < words; w++)
			bad += LOAD(&base[p * words + w]) != word_val(p, w, ver);
	return bad;
}

/*
 * Write the new version, tell @s's @n readers it is there, and let each
 * make a few passes after that (they share the CPUs with the other
 * side's readers, and a TCG guest on a loaded host is slow: wait for the
 * first pass of each, up to a minute, then as long again, up to 5 s).
 */
static void publish(struct side *s, uint64_t *base, unsigned long pages,
		    int n)
{
	double t0;

	fill(base, pages, s->new);
	/* Orders the writes before the flag (acquire in reader_fn()). */
	atomic_store_explicit(&s->published, 1, memory_order_release);
	t0 = now();
	while (atomic_load(&s->checked) < n && now() - t0 < 60)
		usleep(1000);
	t0 = now() - t0;
	usleep(((t0 < 5 ? t0 : 5) + 0.1) * 1e6);
}

static long read_file_long(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

static void write_file_long(const char *path, long val)
{
	char buf[32];
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		return;
	snprintf(buf, sizeof(buf), "%ld", val);
	if (write(fd, buf, strlen(buf)) < 0)
		perror(path);
	close(fd);
}

/* A "key value" line of a /proc file, -1 if absent. */
static long proc_value(const char *path, const char *key)
{
	char line[256];
	size_t len = strlen(key);
	long val = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && (line[len] == ' ' || line[len] == ':')) {
			val = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return val;
}

static long migrc_deferred(void)
{
	return proc_value("/proc/vmstat", "migrc_deferred");
}

static long anon_huge_kb(void)
{
	return proc_value("/proc/self/smaps_rollup", "AnonHugePages");
}

static int node_has_memory(int nid)
{
	char path[80];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", nid);
	return access(path, R_OK) == 0;
}

FIXTURE(migration_ro)
{
	struct ctl *ctl;
	struct reader readers[MAX_READERS];
	int nreaders;
	int n1, n2;
	long migrc_on;		/* vm.migrc_enabled, -1 without migrc */
	long saved_age;
	void *map;
	uint64_t *base;
	unsigned long pages;
	void **addrs;
	int *nodes, *status;
	unsigned long naddrs;
	int to;			/* the node the next round moves to */
	long rounds, partial, deferred;
	long last_deferred;	/* fork_*: by the round before the writes */
	double slowest;		/* seconds, the slowest move_pages() call */
};

FIXTURE_SETUP(migration_ro)
{
	int cpus = sysconf(_SC_NPROCESSORS_ONLN);

	page_size = sysconf(_SC_PAGESIZE);
	self->ctl = mmap(NULL, sizeof(*self->ctl), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->ctl, MAP_FAILED);
	memset(self->ctl, 0, sizeof(*self->ctl));
	self->nreaders = cpus - 1 > MAX_READERS ? MAX_READERS : cpus - 1;
	self->n1 = 0;
	self->n2 = 1;
	self->to = self->n2;
	self->migrc_on = read_file_long("/proc/sys/vm/migrc_enabled");
	self->saved_age = -1;
	if (self->nreaders < 1 || !node_has_memory(self->n1) ||
	    !node_has_memory(self->n2))
		SKIP(return, "needs two CPUs and memory on nodes 0 and 1");
	/*
	 * Keep what migrc defers pending until a flush point or the cap
	 * retires it, not the age: the stale translations a missing flush
	 * would leave then live through the writes.
	 */
	self->saved_age = read_file_long("/proc/sys/vm/migrc_max_age_ms");
	if (self->saved_age >= 0)
		write_file_long("/proc/sys/vm/migrc_max_age_ms", 60000);
}

FIXTURE_TEARDOWN(migration_ro)
{
	if (self->saved_age >= 0)
		write_file_long("/proc/sys/vm/migrc_max_age_ms", self->saved_age);
	free(self->addrs);
	free(self->nodes);
	free(self->status);
}

/*
 * Map and fill @size bytes (THP-backed if @thp, else base pages) with
 * V_OLD, and prepare one move_pages() address per folio.
 */
static int map_filled(FIXTURE_DATA(migration_ro) *self, unsigned long size,
		      int thp)
{
	unsigned long stride = thp ? TWOMEG : (unsigned long)page_size, i;
	char *m = mmap(NULL, size + (thp ? TWOMEG : 0), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return -1;
	self->map = m;
	if (thp)
		m = (char *)(((uintptr_t)m + TWOMEG - 1) & ~(TWOMEG - 1));
	if (madvise(m, size, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) && thp)
		return -1;
	self->base = (uint64_t *)m;
	self->pages = size / page_size;
	fill(self->base, self->pages, V_OLD);
	self->naddrs = size / stride;
	self->addrs = calloc(self->pages, sizeof(void *));
	self->nodes = calloc(self->pages, sizeof(int));
	self->status = calloc(self->pages, sizeof(int));
	if (!self->addrs || !self->nodes || !self->status)
		return -1;
	for (i = 0; i < self->naddrs; i++)
		self->addrs[i] = m + i * stride;
	self->ctl->side[0].old = V_OLD;
	self->ctl->side[0].new = V_PARENT;
	self->ctl->side[1].old = V_OLD;
	self->ctl->side[1].new = V_CHILD;
	return 0;
}

/* Pages of the mapping on node @nid, or -1. */
static long pages_on(FIXTURE_DATA(migration_ro) *self, int nid)
{
	unsigned long i;
	long n = 0;

	for (i = 0; i < self->pages; i++)
		self->addrs[i] = (char *)self->base + i * page_size;
	if (syscall(SYS_move_pages, 0, self->pages, self->addrs, NULL,
		    self->status, 0))
		return -1;
	for (i = 0; i < self->pages; i++)
		n += self->status[i] == nid;
	return n;
}

/*
 * Move the whole mapping to self->to with one move_pages() call: 1 if
 * every page went (the next call moves it back), 0 if only some did
 * (migration is best effort), -1 on a syscall error.
 */
static int migrate_once(FIXTURE_DATA(migration_ro) *self, int flags)
{
	unsigned long stride = self->pages / self->naddrs * page_size, i;
	double t;
	long ret;

	for (i = 0; i < self->naddrs; i++) {
		self->addrs[i] = (char *)self->base + i * stride;
		self->nodes[i] = self->to;
	}
	t = now();
	ret = syscall(SYS_move_pages, 0, self->naddrs, self->addrs,
		      self->nodes, self->status, flags);
	t = now() - t;
	if (t > self->slowest)
		self->slowest = t;
	if (ret < 0) {
		perror("move_pages");
		return -1;
	}
	if (pages_on(self, self->to) != (long)self->pages) {
		self->partial++;
		return 0;
	}
	self->rounds++;
	self->to = self->to == self->n1 ? self->n2 : self->n1;
	return 1;
}

/*
 * Move the mapping from node to node, from CPU 0, for RUNTIME seconds and
 * at least two rounds (there and back), but no more than MAX_RUNTIME: one
 * move_pages() call can take seconds under TCG on a loaded host, with or
 * without migrc, while the readers fault on the migration entries.
 */
static int migrate_for(FIXTURE_DATA(migration_ro) *self, int flags)
{
	long before = migrc_deferred();
	double t0 = now(), t;

	pin(0);
	do {
		if (migrate_once(self, flags) < 0)
			return -1;
		t = now() - t0;
	} while (t < MAX_RUNTIME && (t < RUNTIME || self->rounds < 2));
	self->deferred = migrc_deferred() - before;
	return 0;
}

/*
 * The round before the writes: what migrc still holds retired first
 * (debugfs migrc/drain), so that this round's deferral cannot be retired
 * by the cap on pending pages before the writes; the age limit is a
 * minute (FIXTURE_SETUP).  Returns what migrc deferred, or -1.
 */
static long last_round(FIXTURE_DATA(migration_ro) *self, int flags)
{
	long before;
	int i, ret = 0;

	write_file_long("/sys/kernel/debug/migrc/drain", 1);
	before = migrc_deferred();
	for (i = 0; i < MAX_RETRIES && !ret; i++)
		ret = migrate_once(self, flags);
	if (ret != 1)
		return -1;
	return migrc_deferred() - before;
}

static void report(struct __test_metadata *_metadata,
		   FIXTURE_DATA(migration_ro) *self, const char *who,
		   struct side *s)
{
	TH_LOG("%s: %ld rounds (%ld partial, slowest %.0f ms), %ld deferred by migrc",
	       who, self->rounds, self->partial, self->slowest * 1e3,
	       self->deferred);
	TH_LOG("%s: %ld reads, %ld after the writes: %ld stale, %ld corrupt",
	       who, atomic_load(&s->reads), atomic_load(&s->fresh),
	       atomic_load(&s->stale), atomic_load(&s->corrupt));
	if (atomic_load(&s->corrupt))
		TH_LOG("%s: first corrupt read: page %lu held %#lx", who,
		       atomic_load(&s->bad_page), atomic_load(&s->bad_val));
}

/* What every test requires of one side's readers... */
static void expect_side(struct __test_metadata *_metadata, struct side *s)
{
	EXPECT_EQ(atomic_load(&s->corrupt), 0);
	EXPECT_EQ(atomic_load(&s->stale), 0);
	EXPECT_GT(atomic_load(&s->fresh), 0);	/* read after the writes */
}

/* ... and of the migration. */
static void expect_migrated(struct __test_metadata *_metadata,
			    FIXTURE_DATA(migration_ro) *self, int thp)
{
	EXPECT_GE(self->rounds, 2);		/* there and back */
	TH_LOG("the round before the writes: %ld deferred by migrc",
	       self->last_deferred);
	/* Base pages mapped read-only are what migrc defers. */
	if (!thp && self->migrc_on == 1) {
		EXPECT_GT(self->deferred, 0);
		EXPECT_GT(self->last_deferred, 0);
	}
	if (!thp && self->migrc_on != 1)
		TH_LOG("migrc absent or off: deferral not checked");
}

static void ro_test(struct __test_metadata *_metadata,
		    FIXTURE_DATA(migration_ro) *self, int thp)
{
	struct side *s = &self->ctl->side[0];

	ASSERT_EQ(map_filled(self, TWOMEG, thp), 0);
	if (thp && anon_huge_kb() < (long)(TWOMEG >> 10))
		SKIP(return, "no THP for the mapping (THP off or memory short)");
	ASSERT_EQ(mprotect(self->base, TWOMEG, PROT_READ), 0);
	ASSERT_EQ(readers_start(self->readers, self->nreaders, s, self->base,
				self->pages), 0);
	ASSERT_EQ(migrate_for(self, MPOL_MF_MOVE), 0);
	if (thp)
		TH_LOG("after migration: AnonHugePages %ld kB", anon_huge_kb());
	/* One more round, and at once writable and written. */
	self->last_deferred = last_round(self, MPOL_MF_MOVE);
	ASSERT_GE(self->last_deferred, 0);
	ASSERT_EQ(mprotect(self->base, TWOMEG, PROT_READ | PROT_WRITE), 0);
	publish(s, self->base, self->pages, self->nreaders);
	readers_stop(self->readers, self->nreaders, s);
	report(_metadata, self, "readers", s);
	expect_side(_metadata, s);
	expect_migrated(_metadata, self, thp);
}

/* The forked child: reads with its own readers, then writes its copy. */
static void fork_child(FIXTURE_DATA(migration_ro) *self)
{
	struct side *s = &self->ctl->side[1];
	struct reader readers[MAX_READERS];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (readers_start(readers, self->nreaders, s, self->base, self->pages))
		_exit(1);
	while (!atomic_load(&self->ctl->child_write))
		usleep(1000);
	/* Still the old content, all of it; then its own. */
	if (check_all(self->base, self->pages, V_OLD))
		_exit(2);
	publish(s, self->base, self->pages, self->nreaders);
	readers_stop(readers, self->nreaders, s);
	if (check_all(self->base, self->pages, V_CHILD))
		_exit(3);
	atomic_store(&self->ctl->child_ok, 1);
	_exit(0);
}

static void fork_test(struct __test_metadata *_metadata,
		      FIXTURE_DATA(migration_ro) *self, int thp)
{
	struct side *s = &self->ctl->side[0];
	int status;
	pid_t pid;

	ASSERT_EQ(map_filled(self, TWOMEG, thp), 0);
	if (thp && anon_huge_kb() < (long)(TWOMEG >> 10))
		SKIP(return, "no THP for the mapping (THP off or memory short)");
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		fork_child(self);
	ASSERT_EQ(readers_start(self->readers, self->nreaders, s, self->base,
				self->pages), 0);
	while (atomic_load(&self->ctl->side[1].started) < self->nreaders)
		usleep(1000);
	/* Pages mapped by two processes move only with MOVE_ALL. */
	ASSERT_EQ(migrate_for(self, MPOL_MF_MOVE_ALL), 0);
	if (thp)
		TH_LOG("after migration: AnonHugePages %ld kB", anon_huge_kb());
	atomic_store(&self->ctl->child_write, 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(atomic_load(&self->ctl->child_ok), 1);
	EXPECT_EQ(check_all(self->base, self->pages, V_OLD), 0);
	/*
	 * Alone now, the parent moves its pages once more and writes them
	 * at once: the writes fault on the read-only PTEs and reuse the
	 * pages in place (nobody else maps them), so the flush the write
	 * fault owes the readers is the one migrc deferred.  Not without
	 * this round: while the child's readers shared the CPUs, each
	 * switch between the two mms flushed the TLB (x86 without PCID).
	 */
	self->last_deferred = last_round(self, MPOL_MF_MOVE);
	ASSERT_GE(self->last_deferred, 0);
	publish(s, self->base, self->pages, self->nreaders);
	readers_stop(self->readers, self->nreaders, s);
	report(_metadata, self, "parent readers", s);
	report(_metadata, self, "child readers", &self->ctl->side[1]);
	expect_side(_metadata, s);
	expect_side(_metadata, &self->ctl->side[1]);
	expect_migrated(_metadata, self, thp);
}

TEST_F_TIMEOUT(migration_ro, ro_private_anon, 5 * MAX_RUNTIME)
{
	ro_test(_metadata, self, 0);
}

TEST_F_TIMEOUT(migration_ro, ro_private_anon_thp, 5 * MAX_RUNTIME)
{
	ro_test(_metadata, self, 1);
}

TEST_F_TIMEOUT(migration_ro, fork_private_anon, 5 * MAX_RUNTIME)
{
	fork_test(_metadata, self, 0);
}

TEST_F_TIMEOUT(migration_ro, fork_private_anon_thp, 5 * MAX_RUNTIME)
{
	fork_test(_metadata, self, 1);
}

TEST_HARNESS_MAIN
