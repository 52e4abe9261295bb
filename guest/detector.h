/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stale-data detector of scenarios.c and filescenarios.c (detector.c).
 *
 * A reader thread on every CPU but 0 reads one word of every page of a
 * range, over and over, loading its TLB.  The scenario migrates the
 * pages, changes their content through one path, fills want[] and
 * publishes: a reader that saw the publication and then reads old[] of a
 * page went through a stale translation to the old folio, which migrc
 * keeps unchanged until its flush.  Under QEMU a TLB entry stays usable
 * until the guest invalidates it, so a missing flush is seen, not just
 * possible.
 */
#ifndef MIGRC_GUEST_DETECTOR_H
#define MIGRC_GUEST_DETECTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define DETECTOR_MAX_PAGES	64
#define DETECTOR_MAX_CPUS	16

struct detector {
	const uint64_t *base;
	long pages, word;		/* the word read of each page */
	uint64_t old[DETECTOR_MAX_PAGES], want[DETECTOR_MAX_PAGES];
	atomic_int pause, parked, stop, published;
	atomic_long reads, fresh, stale;
	int cpus;
	pthread_t tid[DETECTOR_MAX_CPUS];
};

void detector_start(struct detector *r, const void *base, long pages, long word);
void detector_pause(struct detector *r);
void detector_publish(struct detector *r);
long detector_migrate(struct detector *r, int flags);
int detector_report(const char *name, struct detector *r, long deferred,
		   const char *bad, const char *extra);

#endif /* MIGRC_GUEST_DETECTOR_H */
