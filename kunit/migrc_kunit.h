/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the migrc KUnit suites that read user memory from other CPUs
 * share (migrc_mm_test.c, migrc_file_test.c): reader kthreads, one on
 * every online CPU but the test's, in the test's mm; the vm events; and
 * isolating the folios of a user range for a migration.
 */
#ifndef _LIB_MIGRC_KUNIT_H
#define _LIB_MIGRC_KUNIT_H

#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/list.h>
#include <linux/sched.h>
#include <linux/vmstat.h>

/**
 * struct migrc_kunit_readers - reader kthreads of one test case
 * @test: the case
 * @mm: the mm they read, the test thread's
 * @task: the reader on each CPU, or NULL
 * @test_cpu: where the test thread stays while they run
 * @saved_mask: the test thread's affinity before that
 * @running: readers inside their loop
 * @stop: set to end the loops
 * @started: migrc_kunit_stop_readers() has work to do
 */
struct migrc_kunit_readers {
	struct kunit *test;
	struct mm_struct *mm;
	struct task_struct *task[NR_CPUS];
	int test_cpu;
	cpumask_var_t saved_mask;
	atomic_t running;
	bool stop;
	bool started;
};

void migrc_kunit_start_readers(struct migrc_kunit_readers *r, int (*fn)(void *),
			       void *arg, const char *namefmt, unsigned int fill_ms);
void migrc_kunit_stop_readers(struct migrc_kunit_readers *r);
void migrc_kunit_reader_enter(struct migrc_kunit_readers *r);
int migrc_kunit_reader_exit(struct migrc_kunit_readers *r);
unsigned long migrc_kunit_event(enum vm_event_item item);
int migrc_kunit_isolate(unsigned long addr, int first, int nr,
			struct list_head *list, int *nid);

#endif /* _LIB_MIGRC_KUNIT_H */
