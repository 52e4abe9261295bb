// SPDX-License-Identifier: GPL-2.0
/*
 * Stale-data scenarios for page-cache folios (stage 2), run in the guest
 * by WORKLOAD=files: the shape of scenarios.c, on files of an ext2 disk
 * (scripts/files-image.sh; the guest's root is tmpfs, which migrc never
 * defers).
 *
 * Each scenario maps a file opened read-only, PROT_READ and MAP_SHARED (a
 * VMA that can never become writable), lets a reader thread on every
 * other CPU read it (loading its TLB), migrates the pages to the other
 * node with move_pages(2) (migrc defers the flush: checked), then has
 * another process change the file (write, a writable shared mapping,
 * truncate) and publishes what the pages must now read.  A reader that
 * read the publication and then reads the old content went through a
 * stale translation to the old folio, which migrc keeps unchanged: the
 * scenario fails.  The changing process is forked before the mapping
 * exists and pinned to CPU 0, where no reader runs, so that only what
 * the change itself does (the writer gate in get_write_access(), a zap)
 * can flush the readers' CPUs.
 *
 * Every word of page p of a data file holds OLD ^ p; the writers store
 * NEW ^ p.  The gate covers every change here; truncation to zero (and
 * O_TRUNC) unmaps the pages too, and that zap flushes them as well.
 *
 * Output: one line per scenario, "@@test <name> ok|FAIL <detail>".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "detector.h"

#define PAGE		4096UL
#define NPAGES		64		/* pages of every data file */
#define OLD		0x01d01d01d01d01d0ULL	/* scripts/files-image.sh */
#define NEW		0x0e00e00e00e00e00ULL
#define MNT		FILES_MNT
#define IMAGE		"/files.ext2"	/* scripts/files-image.sh */
#define DISK		"/dev/ram0"

/*
 * Map @pages pages of @path from page @first on, read-only and shared,
 * from a read-only descriptor; fault them in and start the readers on
 * word @word of each page.  NULL if the file cannot be mapped.
 */
static uint64_t *fsc_start(struct detector *r, const char *path, long first,
			   long pages, long word)
{
	int fd = open(path, O_RDONLY);
	uint64_t *m;
	long p;

	if (fd < 0)
		return NULL;
	m = mmap(NULL, pages * PAGE, PROT_READ, MAP_SHARED, fd, first * PAGE);
	close(fd);
	if (m == MAP_FAILED)
		return NULL;
	for (p = 0; p < pages; p++)
		(void)READ_U64(&m[p * PAGE / 8]);	/* every page present */
	detector_start(r, m, pages, word);
	for (p = 0; p < pages; p++)
		r->old[p] = OLD ^ (first + p);
	return m;
}

/* Page p of the file must now read @want ^ p (0: zeroes). */
static void fsc_publish(struct detector *r, uint64_t want, long first)
{
	long p;

	for (p = 0; p < r->pages; p++)
		r->want[p] = want ? want ^ (first + p) : 0;
	detector_publish(r);
}

/*
 * The changer's own memory, written before the scenario migrates (see
 * changer_prefault()): the source of its writes, and where it leaves a
 * line for the log (a shared page, so that the parent prints it after
 * the scenario's report).
 */
static uint64_t changer_buf[PAGE / 8];
static char *changer_note;

/*
 * A write to a page the changer still shares copy-on-write with its
 * parent breaks the sharing with flush_tlb_page(); under QEMU TCG that
 * TLBI on arm64 invalidates more than the one page (the readers' stale
 * entries too), and would pass a scenario whose gate is off.  So the
 * changer writes its buffer and a deep stack before it is told to run.
 */
static void changer_prefault(void)
{
	volatile char stack[64 * 1024];
	size_t i;

	for (i = 0; i < sizeof(stack); i += 512)
		stack[i] = 0;
	for (i = 0; i < PAGE / 8; i++)
		changer_buf[i] = 0;
	changer_note[0] = 0;
}

/*
 * The process that changes the file: forked before the mapping and the
 * readers exist, so that it shares neither (a fork of the readers' mm
 * would flush it), pinned to CPU 0, where no reader runs (switching to
 * its mm there flushes that CPU only).  It runs @fn once told to.
 */
struct changer {
	pid_t pid;
	int go[2], done[2];
};

static void changer_fork(struct changer *c, int (*fn)(const char *), const char *path)
{
	char b;

	c->pid = -1;
	if (pipe(c->go) || pipe(c->done))
		return;
	if (!changer_note) {
		changer_note = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (changer_note == MAP_FAILED) {
			changer_note = NULL;
			return;
		}
	}
	changer_note[0] = 0;
	c->pid = fork();
	if (!c->pid) {
		pin(0);
		close(c->go[1]);
		close(c->done[0]);
		changer_prefault();
		if (read(c->go[0], &b, 1) != 1)
			_exit(2);
		b = fn(path) ? 1 : 0;
		if (write(c->done[1], &b, 1) != 1)
			_exit(2);
		/*
		 * Stay until the scenario reported: under QEMU TCG, arm64's
		 * TLBI by ASID (this mm's exit, munmap) invalidates every
		 * ASID's entries on every CPU, the readers' stale ones too.
		 */
		while (read(c->go[0], &b, 1) > 0)
			;
		_exit(0);
	}
	close(c->go[0]);
	close(c->done[1]);
}

/* Let the changer exit (without a change if it has not run). */
static void changer_end(struct changer *c)
{
	if (c->pid < 0)
		return;
	close(c->go[1]);
	close(c->done[0]);
	waitpid(c->pid, NULL, 0);
}

/* Let the changer run; 0 once it has done its change. */
static int changer_run(struct changer *c)
{
	char b = 0;

	if (c->pid < 0)
		return -1;
	if (write(c->go[1], &b, 1) != 1 || read(c->done[0], &b, 1) != 1)
		return -1;
	return b ? -1 : 0;
}

static int failures;

/* What the vm events did during the change, for the report. */
struct events {
	long gate, mm_flush, rounds, batched;
};

static void events_begin(struct events *e)
{
	e->gate = vmstat_value("migrc_file_gate");
	e->mm_flush = vmstat_value("migrc_mm_flush");
	e->rounds = vmstat_value("migrc_flush_rounds");
	e->batched = vmstat_value("tlbbatch_flush_rounds");
}

/*
 * With the gate off, a scenario that still passes was flushed by
 * something else: the migrc and batched-unmap flush rounds say whether
 * that was a flush these counters see.
 */
static const char *events_end(struct events *e)
{
	static char buf[160];

	snprintf(buf, sizeof(buf),
		 "gate flushes %ld, mm flushes %ld, migrc rounds %ld, batched-unmap rounds %ld",
		 vmstat_value("migrc_file_gate") - e->gate,
		 vmstat_value("migrc_mm_flush") - e->mm_flush,
		 vmstat_value("migrc_flush_rounds") - e->rounds,
		 vmstat_value("tlbbatch_flush_rounds") - e->batched);
	return buf;
}

/* Writes every word of every page of @fd's file: NEW ^ page. */
static int write_new(int fd)
{
	uint64_t *buf = changer_buf;
	long p, w;

	for (p = 0; p < NPAGES; p++) {
		for (w = 0; w < (long)(PAGE / 8); w++)
			buf[w] = NEW ^ p;
		if (pwrite(fd, buf, PAGE, p * PAGE) != PAGE)
			return -1;
	}
	return 0;
}

/*
 * The common part: map @file, start the readers, migrate, let the changer
 * run @fn, publish @want (page p then reads @want ^ p, or 0), report.
 * @first and @pages select the mapped pages, @word the word read.
 * @pause: park the readers during the change (the file shrinks to 0).
 */
static void file_scenario(const char *name, const char *file, int (*fn)(const char *),
			  long first, long pages, long word, int pause,
			  uint64_t want)
{
	char path[64];
	struct changer c;
	struct events e;
	struct detector s;
	const char *bad = NULL;
	long d;

	snprintf(path, sizeof(path), MNT "/%s", file);
	changer_fork(&c, fn, path);
	if (!fsc_start(&s, path, first, pages, word)) {
		printf("@@test %s FAIL cannot map %s: %s\n", name, path, strerror(errno));
		failures++;
		changer_end(&c);
		return;
	}
	d = detector_migrate(&s, MPOL_MF_MOVE);
	if (pause)
		detector_pause(&s);
	events_begin(&e);
	if (changer_run(&c))
		bad = "the changing process failed";
	fsc_publish(&s, want, first);
	failures += detector_report(name, &s, d, bad, events_end(&e));
	if (changer_note && changer_note[0])
		printf("%s", changer_note);
	fflush(stdout);
	munmap((void *)s.base, s.pages * PAGE);
	changer_end(&c);
}

/* 1: write(2) through a descriptor opened for write. */
static int change_pwrite(const char *path)
{
	double t0 = now(), gated, plain;
	int fd = open(path, O_WRONLY), fd2, ret;

	gated = now() - t0;
	if (fd < 0)
		return -1;
	ret = write_new(fd);
	/* The same open with nothing of the file pending: no gate flush. */
	t0 = now();
	fd2 = open(path, O_WRONLY);
	plain = now() - t0;
	if (fd2 >= 0)
		close(fd2);
	close(fd);
	/* What the gate costs a writer: how long open() waits for its flush. */
	snprintf(changer_note, PAGE, "@@metric file-open-write-us gated %.0f plain %.0f\n",
		 gated * 1e6, plain * 1e6);
	return ret;
}

/* 2: stores through a writable shared mapping of its own. */
static int change_shared_map(const char *path)
{
	int fd = open(path, O_RDWR);
	uint64_t *m;
	long p, w;

	if (fd < 0)
		return -1;
	m = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -1;
	for (p = 0; p < NPAGES; p++)
		for (w = 0; w < (long)(PAGE / 8); w++)
			m[p * PAGE / 8 + w] = NEW ^ p;
	return 0;	/* no munmap(): see changer_fork() */
}

/*
 * 3: truncate(2) to the middle of the last page.  That page is zeroed in
 * place past the new size (truncate_inode_partial_folio(), ext2's
 * block_truncate_page()) and stays mapped: with a VMA of that page alone
 * nothing is unmapped, so nothing but the gate flushes.
 */
#define EOF_SIZE	((NPAGES - 1) * PAGE + PAGE / 2)

static int change_truncate_eof(const char *path)
{
	return truncate(path, EOF_SIZE);
}

/*
 * 4: truncate(2) to 0, then back to its size: every page a hole, zeroes.
 * Truncation to 0 also unmaps every page, and that zap flushes the mm
 * (flush_tlb_batched_pending(): the deferrals count in
 * tlb_flush_batched), so this one is covered without the gate too.  So
 * is it without both (MIGRC_HOOKS=0x84): the zap clears present PTEs of
 * the new folios at the same addresses, and tlb_finish_mmu() flushes
 * that range on every CPU of the mm.
 */
static int change_truncate_zero(const char *path)
{
	return truncate(path, 0) || truncate(path, NPAGES * PAGE) ? -1 : 0;
}

/*
 * 5: the same through open(O_RDONLY | O_TRUNC), which truncates with no
 * descriptor open for write (handle_truncate()'s get_write_access()).
 */
static int change_otrunc(const char *path)
{
	int fd = open(path, O_RDONLY | O_TRUNC);

	if (fd < 0)
		return -1;
	close(fd);
	return truncate(path, NPAGES * PAGE);
}

static void file_write(void)
{
	file_scenario("file-write", "write.dat", change_pwrite, 0, NPAGES, 0, 0, NEW);
}

static void file_shared_map(void)
{
	file_scenario("file-shared-writable-map", "map.dat", change_shared_map,
		      0, NPAGES, 0, 0, NEW);
}

static void file_truncate_eof(void)
{
	/* The one page at EOF, its last word: past the new size. */
	file_scenario("file-truncate-eof", "trunc-eof.dat", change_truncate_eof,
		      NPAGES - 1, 1, PAGE / 8 - 1, 0, 0);
}

static void file_truncate_zero(void)
{
	file_scenario("file-truncate-zero", "trunc-zero.dat", change_truncate_zero,
		      0, NPAGES, 0, 1, 0);
}

static void file_otrunc(void)
{
	file_scenario("file-otrunc", "otrunc.dat", change_otrunc, 0, NPAGES, 0, 1, 0);
}

/*
 * 6: a program's text, migrated while it runs.  The program is /init
 * itself, copied to the disk (scripts/run.sh) and exec'd there once per
 * CPU as "/mnt/init text-helper MS" (text_helper_main()).  Its text
 * folios are mapped by every copy, read-only and private, and the inode
 * has i_writecount < 0 while it runs (deny_write_access()): they defer,
 * and no writer can exist (open(O_WRONLY) gets ETXTBSY), so the gate is
 * not what covers it: the content never changes while a translation to
 * the old folio can live.  Checks deferral, ETXTBSY, and that every copy
 * ran its text and read it back unchanged until the end.
 */
#define TEXT_PAGES	1024
#define TEXT_ROUNDS	4

/* The r-xp mapping of a path ending in "/init" in /proc/PID/maps. */
static int text_range(pid_t pid, unsigned long *lo, unsigned long *hi)
{
	char path[64], line[512], perms[8], file[256];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	while (f && !found && fgets(line, sizeof(line), f)) {
		file[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", lo, hi, perms, file) >= 3 &&
		    !strcmp(perms, "r-xp") && strlen(file) >= 5 &&
		    !strcmp(file + strlen(file) - 5, "/init"))
			found = 1;
	}
	if (f)
		fclose(f);
	return found ? 0 : -1;
}

/* Through the text mapping, read as data. */
static uint64_t text_sum(unsigned long lo, unsigned long hi)
{
	const uint64_t *p;
	uint64_t sum = 0;

	for (p = (const uint64_t *)lo; p < (const uint64_t *)hi; p++)
		sum = sum * 31 + READ_U64(p);
	return sum;
}

/* Something to execute, whose result the helper knows. */
static __attribute__((noinline)) uint64_t text_fn(uint64_t x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 0x9e3779b97f4a7c15ULL + 7;
}

/*
 * The helper's side: sum its own text, say so on descriptor 3, then for
 * @ms milliseconds sum it again and call text_fn(); exit 1 at the first
 * difference.
 */
int text_helper_main(int ms)
{
	unsigned long lo, hi;
	uint64_t first, i;
	double end;

	if (text_range(getpid(), &lo, &hi))
		return 2;
	first = text_sum(lo, hi);
	if (write(3, "r", 1) != 1)
		return 2;
	close(3);
	end = now() + ms / 1000.0;
	for (i = 0; now() < end; i++) {
		if (text_sum(lo, hi) != first)
			return 1;
		if (text_fn(i) != i * 0x9e3779b97f4a7c15ULL + 7)
			return 1;
	}
	return 0;
}

/*
 * Start @n copies of MNT/init as text helpers running for @ms, one pinned
 * to each CPU from 0; returns how many started (read their text once).
 */
int text_spawn(int n, int ms, pid_t *pid)
{
	int ready[2], i, started = 0;
	char b, arg[16];

	snprintf(arg, sizeof(arg), "%d", ms);
	/* Close-on-exec: a copy that failed to start closes its end. */
	if (pipe2(ready, O_CLOEXEC))
		return 0;
	for (i = 0; i < n; i++) {
		pid[i] = fork();
		if (!pid[i]) {
			pin(i);
			dup2(ready[1], 3);
			execl(MNT "/init", MNT "/init", "text-helper", arg, (char *)NULL);
			_exit(127);
		}
	}
	close(ready[1]);
	for (i = 0; i < n; i++)
		started += pid[i] > 0 && read(ready[0], &b, 1) == 1;
	close(ready[0]);
	return started;
}

/* The text pages of @pid's copy of init, at most @max; returns how many. */
long text_pages(pid_t pid, void **pages, long max)
{
	unsigned long lo, hi, p;
	long n = 0;

	if (text_range(pid, &lo, &hi))
		return 0;
	for (p = lo; p < hi && n < max; p += PAGE)
		pages[n++] = (void *)p;
	return n;
}

/* Is opening the running text for write refused, as it must be? */
static int text_write_denied(void)
{
	int fd = open(MNT "/init", O_WRONLY);

	if (fd >= 0)
		close(fd);
	return fd < 0 && errno == ETXTBSY;
}

static void file_exec_text(void)
{
	int cpus = sysconf(_SC_NPROCESSORS_ONLN), i, r, started;
	int status[TEXT_PAGES], nodes[TEXT_PAGES], etxtbsy = 0, clean = 0;
	long before = vmstat_value("migrc_deferred"), moved = 0, n = 0, p;
	void *pages[TEXT_PAGES];
	pid_t pid[16];

	if (cpus > 16)
		cpus = 16;
	started = text_spawn(cpus, 4000, pid);
	if (started == cpus)
		n = text_pages(pid[0], pages, TEXT_PAGES);
	/* Back and forth: every copy maps these folios, hence MOVE_ALL. */
	for (r = 0; n && r < TEXT_ROUNDS; r++) {
		if (syscall(SYS_move_pages, pid[0], n, pages, NULL, status, 0) < 0)
			break;
		for (p = 0; p < n; p++)
			nodes[p] = status[p] == 0 ? 1 : 0;
		if (syscall(SYS_move_pages, pid[0], n, pages, nodes, status,
			    MPOL_MF_MOVE_ALL) < 0)
			break;
		for (p = 0; p < n; p++)
			moved += status[p] == nodes[p];
		/*
		 * With the first round's folios deferred and every copy
		 * surely still running (they run 4 s; a loaded host can
		 * stretch the rounds past that): no writer can come.
		 */
		if (!r)
			etxtbsy = text_write_denied();
		usleep(200000);
	}
	for (i = 0; i < cpus; i++) {
		int st;

		if (pid[i] > 0 && waitpid(pid[i], &st, 0) == pid[i] &&
		    WIFEXITED(st) && !WEXITSTATUS(st))
			clean++;
	}
	before = vmstat_value("migrc_deferred") - before;
	if (read_long("/proc/sys/vm/migrc_enabled") != 1) {
		printf("@@test file-exec-text FAIL migrc switched itself off: the debug checker found a missed flush (see the kernel log)\n");
		failures++;
	} else if (started < cpus || !n) {
		printf("@@test file-exec-text FAIL %d of %d copies of " MNT "/init started, %ld text pages\n",
		       started, cpus, n);
		failures++;
	} else if (clean < cpus) {
		printf("@@test file-exec-text FAIL %d of %d copies saw their text change or crashed\n",
		       cpus - clean, cpus);
		failures++;
	} else if (!etxtbsy) {
		printf("@@test file-exec-text FAIL open(O_WRONLY) of the running text did not get ETXTBSY\n");
		failures++;
	} else if (before <= 0) {
		printf("@@test file-exec-text FAIL nothing was deferred (%ld of %ld text pages moved in %d rounds)\n",
		       moved, n, TEXT_ROUNDS);
		failures++;
	} else {
		printf("@@test file-exec-text ok %ld deferred, %ld moves of %ld text pages in %d rounds, %d copies ran clean, ETXTBSY\n",
		       before, moved, n, TEXT_ROUNDS, cpus);
	}
	fflush(stdout);
}

static const struct {
	const char *name;
	void (*run)(void);
} scenarios[] = {
	{ "file-write", file_write },
	{ "file-shared-writable-map", file_shared_map },
	{ "file-truncate-eof", file_truncate_eof },
	{ "file-truncate-zero", file_truncate_zero },
	{ "file-otrunc", file_otrunc },
	{ "file-exec-text", file_exec_text },
};

/*
 * Every file scenario, or those named in SCENARIOS= (comma-separated), on
 * the ext2 image on /dev/ram0, mounted on /mnt.  As for scenarios.c: with a
 * hook switched off and the debug checker on, the first missed flush
 * makes migrc fail safe; run with CHECKER=0 to see the stale data.
 */
/*
 * The ext2 image comes in the initramfs (scripts/run.sh): copy it to the
 * RAM disk, so that ext2 caches its blocks as on any disk, and free the
 * tmpfs copy.  A RAM disk rather than virtio: the riscv virt machine of
 * QEMU 7.2 with two sockets never completes a virtio-mmio request here.
 */
static int files_disk(void)
{
	static char buf[1 << 16];
	int in = open(IMAGE, O_RDONLY), out = open(DISK, O_WRONLY), ret = -1;
	ssize_t n;

	if (in >= 0 && out >= 0) {
		while ((n = read(in, buf, sizeof(buf))) > 0 && write(out, buf, n) == n)
			;
		ret = !n && !fsync(out) ? 0 : -1;
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	unlink(IMAGE);
	return ret;
}

/* Mount the image on MNT (once; bench.c's file workload uses it too). */
int files_mount(void)
{
	static int mounted;

	if (mounted)
		return 0;
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mkdir(MNT, 0755);
	if (files_disk() || mount(DISK, MNT, "ext2", 0, NULL))
		return -1;
	mounted = 1;
	return 0;
}

int files_main(void)
{
	const char *only = getenv("SCENARIOS");
	size_t i;

	if (files_mount()) {
		printf("@@test files-mount FAIL " IMAGE " on " DISK ", mounted on " MNT ": %s\n",
		       strerror(errno));
		printf("@@files done, 1 failed\n");
		return 1;
	}
	/* No background migration or retirement: only what a scenario does. */
	write_file("/proc/sys/kernel/numa_balancing", "0");
	write_file("/proc/sys/vm/migrc_max_age_ms", "60000");
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!only || scenario_listed(only, scenarios[i].name))
			scenarios[i].run();
	umount(MNT);
	printf("@@files done, %d failed\n", failures);
	return failures;
}
