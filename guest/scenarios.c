// SPDX-License-Identifier: GPL-2.0
/*
 * Stale-data scenarios, run in the guest by `make test` (WORKLOAD=scenarios).
 *
 * Each scenario maps pages holding OLD, makes every mapping read-only,
 * lets a reader thread on every other CPU read them (loading its TLB),
 * migrates them to the other node with move_pages(2) (migrc defers the
 * flush: checked), then changes the content through one path (a write
 * fault, mprotect, /proc/self/mem, ...) and publishes the value the pages
 * must now hold.  A reader that read the publication and then reads OLD
 * went through a stale translation: the scenario fails.  Under QEMU a TLB
 * entry stays usable until the guest invalidates it, so a missing flush is
 * seen here, not just possible.
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
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE		4096UL
#define NPAGES		64
#define OLD		0x01d01d01d01d01d0ULL
#define NEW		0x0e00e00e00e00e00ULL

#include "guest.h"
#include "detector.h"

/* Readers on every other CPU, on the first word of each page: OLD. */
static void sc_start(struct detector *r, uint64_t *m)
{
	long p;

	detector_start(r, m, NPAGES, 0);
	for (p = 0; p < NPAGES; p++)
		r->old[p] = OLD;
}

static void *sc_map(int prot)
{
	uint64_t *m = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long p;

	for (p = 0; p < NPAGES; p++)
		m[p * PAGE / 8] = OLD;
	madvise(m, NPAGES * PAGE, MADV_NOHUGEPAGE);
	if (!(prot & PROT_WRITE))
		mprotect(m, NPAGES * PAGE, prot);
	return m;
}

/* Write-protect the PTEs but keep the VMA writable: fork, let the child exit. */
static void sc_cow_wrprotect(void)
{
	pid_t c = fork();

	if (!c)
		_exit(0);
	waitpid(c, NULL, 0);
}

static int failures;

static void sc_report(const char *name, struct detector *r, long deferred)
{
	failures += detector_report(name, r, deferred, NULL, NULL);
}

/* Every page now reads @want. */
static void sc_publish(struct detector *r, uint64_t want)
{
	long p;

	for (p = 0; p < NPAGES; p++)
		r->want[p] = want;
	detector_publish(r);
}

static void sc_write_all(uint64_t *m, uint64_t v)
{
	long p;

	for (p = 0; p < NPAGES; p++)
		m[p * PAGE / 8] = v;
}

/* 1: a write fault that reuses the page in place (do_wp_page()). */
static void write_fault(void)
{
	struct detector sc;
	uint64_t *m = sc_map(PROT_READ | PROT_WRITE);
	long d;

	sc_cow_wrprotect();
	sc_start(&sc, m);
	d = detector_migrate(&sc, 2);
	sc_write_all(m, NEW);
	sc_publish(&sc, NEW);
	sc_report("write-fault", &sc, d);
	munmap(m, NPAGES * PAGE);
}

/* 2: mprotect(PROT_WRITE) after the migration, then writes. */
static void mprotect_write(void)
{
	struct detector sc;
	uint64_t *m = sc_map(PROT_READ);
	long d;

	sc_start(&sc, m);
	d = detector_migrate(&sc, 2);
	mprotect(m, NPAGES * PAGE, PROT_READ | PROT_WRITE);
	sc_write_all(m, NEW);
	sc_publish(&sc, NEW);
	sc_report("mprotect-write", &sc, d);
	munmap(m, NPAGES * PAGE);
}

/* 3: a FOLL_FORCE write through /proc/self/mem into a read-only mapping. */
static void proc_mem(void)
{
	struct detector sc;
	uint64_t *m = sc_map(PROT_READ), v = NEW;
	int fd = open("/proc/self/mem", O_RDWR);
	long d, p;

	sc_start(&sc, m);
	d = detector_migrate(&sc, 2);
	for (p = 0; p < NPAGES; p++)
		if (pwrite(fd, &v, 8, (off_t)(uintptr_t)(m + p * PAGE / 8)) != 8)
			d = -1;
	close(fd);
	sc_publish(&sc, NEW);
	sc_report("proc-self-mem", &sc, d);
	munmap(m, NPAGES * PAGE);
}

/* 4: process_vm_writev() into the (write-protected) mapping. */
static void vm_writev(void)
{
	struct detector sc;
	uint64_t *m = sc_map(PROT_READ | PROT_WRITE), v = NEW;
	struct iovec local = { &v, 8 }, remote[NPAGES];
	long d, p;

	sc_cow_wrprotect();
	sc_start(&sc, m);
	d = detector_migrate(&sc, 2);
	for (p = 0; p < NPAGES; p++)
		remote[p] = (struct iovec){ m + p * PAGE / 8, 8 };
	for (p = 0; p < NPAGES; p++)
		if (process_vm_writev(getpid(), &local, 1, &remote[p], 1, 0) != 8)
			d = -1;
	sc_publish(&sc, NEW);
	sc_report("process_vm_writev", &sc, d);
	munmap(m, NPAGES * PAGE);
}

/*
 * The readers park while the range is unmapped (they would fault), and
 * read on once new data is mapped at the same address: through a stale
 * translation they would read the old pages.
 */
static void sc_map_new_at(struct detector *sc, uint64_t *m)
{
	mmap(m, NPAGES * PAGE, PROT_READ | PROT_WRITE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	sc_write_all(m, NEW);
	sc_publish(sc, NEW);
}

/* 5: munmap(), then mmap(MAP_FIXED) at the same address with new data. */
static void munmap_map_fixed(void)
{
	struct detector sc;
	uint64_t *m = sc_map(PROT_READ);
	long d;

	sc_start(&sc, m);
	d = detector_migrate(&sc, 2);
	detector_pause(&sc);
	munmap(m, NPAGES * PAGE);
	sc_map_new_at(&sc, m);
	sc_report("munmap-map-fixed", &sc, d);
	munmap(m, NPAGES * PAGE);
}

/* 6: MADV_DONTNEED: the range must read as zeroes afterwards. */
static void madv_dontneed(void)
{
	struct detector sc;
	uint64_t *m = sc_map(PROT_READ);
	long d;

	sc_start(&sc, m);
	d = detector_migrate(&sc, 2);
	madvise(m, NPAGES * PAGE, MADV_DONTNEED);
	sc_publish(&sc, 0);
	sc_report("madv-dontneed", &sc, d);
	munmap(m, NPAGES * PAGE);
}

/* 7: mremap() the range away, map new data where it was. */
static void mremap_away(void)
{
	struct detector sc;
	uint64_t *m = sc_map(PROT_READ);
	void *to = mmap(NULL, NPAGES * PAGE, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long d;

	sc_start(&sc, m);
	d = detector_migrate(&sc, 2);
	detector_pause(&sc);
	to = mremap(m, NPAGES * PAGE, NPAGES * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	sc_map_new_at(&sc, m);
	sc_report("mremap", &sc, d);
	munmap(m, NPAGES * PAGE);
	munmap(to, NPAGES * PAGE);
}

/*
 * 8: pages shared copy-on-write with a child, migrated (MPOL_MF_MOVE_ALL),
 * then written by the parent while its readers run; the child checks its
 * copy still holds OLD, writes its own, and reads it back.
 */
static void fork_write(void)
{
	struct detector sc;
	uint64_t *m = sc_map(PROT_READ | PROT_WRITE);
	int go[2], st;
	char c = 0;
	long d, p, bad = 0;
	pid_t child;

	if (pipe(go))
		return;
	child = fork();
	if (!child) {
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		for (p = 0; p < NPAGES; p++)
			bad += m[p * PAGE / 8] != OLD;
		sc_write_all(m, NEW + 1);
		for (p = 0; p < NPAGES; p++)
			bad += m[p * PAGE / 8] != NEW + 1;
		_exit(bad ? 1 : 0);
	}
	sc_start(&sc, m);
	d = detector_migrate(&sc, 4);
	sc_write_all(m, NEW);
	sc_publish(&sc, NEW);
	if (write(go[1], &c, 1) != 1)
		d = -1;
	waitpid(child, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		d = -1;
	sc_report("fork-write", &sc, d);
	close(go[0]);
	close(go[1]);
	munmap(m, NPAGES * PAGE);
}

#ifndef __riscv	/* 6.12 has no userfaultfd write-protect on riscv */
/*
 * 9: userfaultfd write-protect, then its resolution: UFFDIO_WRITEPROTECT
 * without UFFDIO_WRITEPROTECT_MODE_WP makes the PTEs of exclusive pages
 * writable again at once (change_pte_range()), so the writes that follow
 * take no fault at all.
 */
static int uffd_wp(int uffd, void *m, int wp)
{
	struct uffdio_writeprotect w = {
		.range = { (uintptr_t)m, NPAGES * PAGE },
		.mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &w);
}

static void uffd_wp_resolve(void)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	uint64_t *m = sc_map(PROT_READ | PROT_WRITE);
	int uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	struct detector sc;
	long d;

	reg.range = (struct uffdio_range){ (uintptr_t)m, NPAGES * PAGE };
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) ||
	    ioctl(uffd, UFFDIO_REGISTER, &reg) || uffd_wp(uffd, m, 1)) {
		printf("@@test uffd-wp-resolve FAIL userfaultfd write-protect: %s\n",
		       strerror(errno));
		failures++;
		goto out;
	}
	sc_start(&sc, m);
	d = detector_migrate(&sc, 2);
	if (uffd_wp(uffd, m, 0))
		d = -1;
	sc_write_all(m, NEW);
	sc_publish(&sc, NEW);
	sc_report("uffd-wp-resolve", &sc, d);
out:
	if (uffd >= 0)
		close(uffd);
	munmap(m, NPAGES * PAGE);
}
#endif

static const struct {
	const char *name;
	void (*run)(void);
} scenarios[] = {
	{ "write-fault", write_fault },
	{ "mprotect-write", mprotect_write },
	{ "proc-self-mem", proc_mem },
	{ "process_vm_writev", vm_writev },
	{ "munmap-map-fixed", munmap_map_fixed },
	{ "madv-dontneed", madv_dontneed },
	{ "mremap", mremap_away },
	{ "fork-write", fork_write },
#ifndef __riscv
	{ "uffd-wp-resolve", uffd_wp_resolve },
#endif
};

/* Is @name in the comma-separated list @list? */
int scenario_listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (; list; list = strchr(list, ',') ? strchr(list, ',') + 1 : NULL)
		if (!strncmp(list, name, n) && (list[n] == ',' || !list[n]))
			return 1;
	return 0;
}

/*
 * Every scenario, or those named in SCENARIOS= (comma-separated): with a
 * hook switched off, the first missed flush makes migrc fail safe, so
 * the scenarios after it defer nothing; run one alone to see it fail.
 */
int scenarios_main(void)
{
	const char *only = getenv("SCENARIOS");
	size_t i;

	/* No background migration or retirement: only what a scenario does. */
	write_file("/proc/sys/kernel/numa_balancing", "0");
	write_file("/proc/sys/vm/migrc_max_age_ms", "60000");
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!only || scenario_listed(only, scenarios[i].name))
			scenarios[i].run();
#ifdef __riscv
	printf("@@note uffd-wp-resolve: riscv has no userfaultfd write-protect in Linux 6.12\n");
#endif
	printf("@@scenarios done, %d failed\n", failures);
	return failures;
}
