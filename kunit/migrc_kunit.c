// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the migrc KUnit suites: see migrc_kunit.h.
 */

#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/swap.h>

#include "migrc_kunit.h"

static void migrc_kunit_stop_readers_action(void *arg)
{
	migrc_kunit_stop_readers(arg);
}

/**
 * migrc_kunit_start_readers - start a reader on every other online CPU
 * @r: zeroed, but for @r->test and @r->mm
 * @fn: the reader: migrc_kunit_reader_enter(), a loop until @r->stop,
 *	then return migrc_kunit_reader_exit()
 * @arg: what @fn gets
 * @namefmt: the kthreads' name, with a %u for the CPU
 * @fill_ms: how long to let them read before returning (their TLBs fill)
 *
 * The test thread stays on the CPU it runs on until
 * migrc_kunit_stop_readers(), which the end of the case calls too, if
 * an assertion ends it first.
 */
void migrc_kunit_start_readers(struct migrc_kunit_readers *r, int (*fn)(void *),
			       void *arg, const char *namefmt, unsigned int fill_ms)
{
	struct kunit *test = r->test;
	int cpu, n = 0;

	r->test_cpu = raw_smp_processor_id();
	KUNIT_ASSERT_TRUE(test, alloc_cpumask_var(&r->saved_mask, GFP_KERNEL));
	cpumask_copy(r->saved_mask, current->cpus_ptr);
	set_cpus_allowed_ptr(current, cpumask_of(r->test_cpu));

	mmget(r->mm);
	r->started = true;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, migrc_kunit_stop_readers_action, r),
			0);
	for_each_online_cpu(cpu) {
		struct task_struct *t;

		if (cpu == r->test_cpu)
			continue;
		t = kthread_run_on_cpu(fn, arg, cpu, namefmt);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		get_task_struct(t);
		r->task[cpu] = t;
		n++;
	}
	while (atomic_read(&r->running) < n)
		usleep_range(1000, 2000);
	msleep(fill_ms);
}

/**
 * migrc_kunit_stop_readers - end the readers and restore the test thread
 * @r: as started; nothing happens if it was not, or already stopped
 */
void migrc_kunit_stop_readers(struct migrc_kunit_readers *r)
{
	int cpu;

	if (!r->started)
		return;
	r->started = false;
	WRITE_ONCE(r->stop, true);
	while (atomic_read(&r->running))
		usleep_range(1000, 2000);
	for_each_possible_cpu(cpu) {
		if (!r->task[cpu])
			continue;
		kthread_stop(r->task[cpu]);
		put_task_struct(r->task[cpu]);
		r->task[cpu] = NULL;
	}
	mmput(r->mm);
	set_cpus_allowed_ptr(current, r->saved_mask);
	free_cpumask_var(r->saved_mask);
}

/**
 * migrc_kunit_reader_enter - a reader kthread enters the test's mm
 * @r: the readers it is one of
 */
void migrc_kunit_reader_enter(struct migrc_kunit_readers *r)
{
	kthread_use_mm(r->mm);
	atomic_inc(&r->running);
}

/**
 * migrc_kunit_reader_exit - a reader leaves the mm, and waits to be stopped
 * @r: the readers it is one of
 *
 * Return: 0, for the reader to return.
 */
int migrc_kunit_reader_exit(struct migrc_kunit_readers *r)
{
	kthread_unuse_mm(r->mm);
	atomic_dec(&r->running);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/* Only test threads read events, one case at a time, so one buffer does. */
static unsigned long migrc_kunit_events[NR_VM_EVENT_ITEMS];

/**
 * migrc_kunit_event - the sum of a vm event over all CPUs
 * @item: the event
 *
 * Return: its count.
 */
unsigned long migrc_kunit_event(enum vm_event_item item)
{
	all_vm_events(migrc_kunit_events);
	return migrc_kunit_events[item];
}

/**
 * migrc_kunit_isolate - isolate the folios of pages of a user range
 * @addr: the range, in the current mm
 * @first: the first page to take
 * @nr: how many pages
 * @list: where the isolated folios go
 * @nid: take only folios on this node; NUMA_NO_NODE: the first page's,
 *	 which it is then set to
 *
 * Return: how many folios were isolated.
 */
int migrc_kunit_isolate(unsigned long addr, int first, int nr,
			struct list_head *list, int *nid)
{
	int i, n = 0;

	/*
	 * As move_pages() does: a folio in a per-CPU LRU batch (the GUP below
	 * marks it accessed) holds a reference that would fail its migration.
	 */
	lru_cache_disable();
	for (i = first; i < first + nr; i++) {
		struct page *page;
		struct folio *folio;

		if (get_user_pages_unlocked(addr + i * PAGE_SIZE, 1, &page, 0) != 1)
			continue;
		folio = page_folio(page);
		if (*nid == NUMA_NO_NODE)
			*nid = folio_nid(folio);
		if (folio_nid(folio) == *nid && isolate_folio_to_list(folio, list))
			n++;
		put_page(page);
	}
	lru_cache_enable();
	return n;
}
