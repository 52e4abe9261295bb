// SPDX-License-Identifier: GPL-2.0
/*
 * The readers of the stale-data scenarios: see detector.h.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"
#include "detector.h"

#define PAGE		4096UL

static int detector_cpu;

static void *reader(void *arg)
{
	struct detector *r = arg;
	long reads = 0, fresh = 0, stale = 0;

	pin(1 + __atomic_fetch_add(&detector_cpu, 1, __ATOMIC_RELAXED));
	while (!atomic_load(&r->stop)) {
		int pub;
		long p;

		if (atomic_load(&r->pause)) {
			/* Parked while the range has no pages: detector_pause(). */
			atomic_fetch_add(&r->parked, 1);
			while (atomic_load(&r->pause) && !atomic_load(&r->stop))
				sched_yield();
			atomic_fetch_sub(&r->parked, 1);
			continue;
		}
		/* Pairs with the release in detector_publish(). */
		pub = atomic_load_explicit(&r->published, memory_order_acquire);
		for (p = 0; p < r->pages; p++) {
			uint64_t v = READ_U64(&r->base[p * PAGE / 8 + r->word]);

			reads++;
			if (!pub)
				continue;
			if (v == r->want[p])
				fresh++;
			else if (v == r->old[p])
				stale++;
		}
	}
	atomic_fetch_add(&r->reads, reads);
	atomic_fetch_add(&r->fresh, fresh);
	atomic_fetch_add(&r->stale, stale);
	return NULL;
}

/*
 * Start a reader on every CPU but 0 on word @word of each page of the
 * @pages at @base, and return once each has read every page.  The caller
 * fills old[] before detector_publish().
 */
void detector_start(struct detector *r, const void *base, long pages, long word)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->base = base;
	r->pages = pages < DETECTOR_MAX_PAGES ? pages : DETECTOR_MAX_PAGES;
	r->word = word;
	r->cpus = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	if (r->cpus > DETECTOR_MAX_CPUS)
		r->cpus = DETECTOR_MAX_CPUS;
	detector_cpu = 0;
	for (i = 0; i < r->cpus; i++)
		pthread_create(&r->tid[i], NULL, reader, r);
	usleep(100000);
}

/*
 * Park the readers while the range has no pages (they would fault), until
 * detector_publish(); returns once every reader has parked, not merely been
 * asked to.
 */
void detector_pause(struct detector *r)
{
	atomic_store(&r->pause, 1);
	while (atomic_load(&r->parked) < r->cpus)
		sched_yield();
}

/* The content changed: page p must now read want[p].  Unparks the readers. */
void detector_publish(struct detector *r)
{
	/*
	 * Orders the change and want[] before the flag: a reader that sees
	 * the flag (acquire in reader()) and then reads old data read it
	 * through a stale translation, not early.
	 */
	atomic_store_explicit(&r->published, 1, memory_order_release);
	atomic_store(&r->pause, 0);
}

/* Move every page to the node it is not on; returns migrc's deferrals. */
long detector_migrate(struct detector *r, int flags)
{
	void *pages[DETECTOR_MAX_PAGES];
	int status[DETECTOR_MAX_PAGES];
	long before = vmstat_value("migrc_deferred"), p;

	for (p = 0; p < r->pages; p++)
		pages[p] = (char *)r->base + p * PAGE;
	syscall(SYS_move_pages, 0, r->pages, pages, NULL, status, 0);
	move_pages(pages, r->pages, status[0] == 0 ? 1 : 0, flags);
	return vmstat_value("migrc_deferred") - before;
}

static void detector_stop(struct detector *r)
{
	int i;

	atomic_store(&r->stop, 1);
	for (i = 0; i < r->cpus; i++)
		pthread_join(r->tid[i], NULL);
}

/*
 * Let the readers read the published content a while, stop them and print
 * the scenario's "@@test" line.  @bad: why the change itself failed, or
 * NULL; @extra: counters for the log, or NULL.  Returns 1 if it failed.
 */
int detector_report(const char *name, struct detector *r, long deferred,
		   const char *bad, const char *extra)
{
	long fresh, stale;
	int failed = 1;

	usleep(300000);
	detector_stop(r);
	fresh = atomic_load(&r->fresh);
	stale = atomic_load(&r->stale);
	if (read_long("/proc/sys/vm/migrc_enabled") != 1) {
		/* Nothing here switches migrc off: it failed safe. */
		printf("@@test %s FAIL migrc switched itself off: the debug checker found a missed flush (see the kernel log)\n",
		       name);
	} else if (bad) {
		printf("@@test %s FAIL %s\n", name, bad);
	} else if (deferred <= 0) {
		printf("@@test %s FAIL nothing was deferred: the scenario tests nothing\n", name);
	} else if (stale) {
		printf("@@test %s FAIL %ld stale reads of %ld after the change (%ld deferred%s%s)\n",
		       name, stale, fresh, deferred, extra ? "; " : "", extra ? extra : "");
	} else if (!fresh) {
		printf("@@test %s FAIL no reader read after the change\n", name);
	} else {
		printf("@@test %s ok %ld deferred, %ld reads after the change, 0 stale%s%s\n",
		       name, deferred, fresh, extra ? "; " : "", extra ? extra : "");
		failed = 0;
	}
	fflush(stdout);
	return failed;
}
