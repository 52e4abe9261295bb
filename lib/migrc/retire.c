// SPDX-License-Identifier: GPL-2.0
/*
 * migrc retirement: the pending list of sealed batches, and retiring
 * them (trim, one flush for all, free); switching migrc off, which
 * retires everything; and the fail-safe.
 *
 * Locking.  migrc_lock (a spinlock) protects the pending list and the
 * list-related counters; it is never held across a flush.  migrc_retire_mutex
 * serialises retirement, so that a caller that returns from a retirement
 * has seen its memory freed even when another task had detached the
 * batches first.  Retirement never runs in atomic context.
 */

#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/migrc.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "migrc.h"

static_assert(MIGRC_RETIRE_PRESSURE + MIGRC_CAUSE_PRESSURE == MIGRC_RETIRE_PRESSURE);
static_assert(MIGRC_RETIRE_PRESSURE + MIGRC_CAUSE_AGE == MIGRC_RETIRE_AGE);
static_assert(MIGRC_RETIRE_PRESSURE + MIGRC_CAUSE_CAP == MIGRC_RETIRE_CAP);
static_assert(MIGRC_RETIRE_PRESSURE + MIGRC_CAUSE_DRAIN == MIGRC_RETIRE_DRAIN);

DEFINE_SPINLOCK(migrc_lock);
LIST_HEAD(migrc_pending);		/* sealed batches, oldest first */
/*
 * Batches on migrc_pending (and those a clean pass holds for a moment;
 * see migrc_retire_clean_locked()).  Written under migrc_lock with
 * WRITE_ONCE(), read locklessly with READ_ONCE() only as a hint to skip
 * taking the locks when nothing is pending; a stale zero only delays a
 * retirement to the next caller (the age worker guarantees one).
 */
unsigned long migrc_nr_batches;
static DEFINE_MUTEX(migrc_retire_mutex);
/* Serialises switching on and off, and the static key with it. */
static DEFINE_MUTEX(migrc_control_mutex);

/*
 * Pages held by pending batches, and that plus what open batches have
 * reserved.  migrc_reserved never exceeds migrc_max_pending_pages, so
 * neither does migrc_pending_pages.
 */
atomic_long_t migrc_pending_pages = ATOMIC_LONG_INIT(0);
atomic_long_t migrc_reserved = ATOMIC_LONG_INIT(0);

/* Where batches come from; created by migrc_init(). */
struct kmem_cache *migrc_batch_cache;

static void migrc_fail_fn(struct work_struct *work);
static DECLARE_WORK(migrc_fail_work, migrc_fail_fn);

/*
 * Set once an impossible state was seen; see migrc_fail().  A plain flag
 * read with READ_ONCE() by migrc_batch_open(): a round that misses it
 * still defers correctly, and the work item switches migrc off for good.
 */
bool migrc_failed;

/*
 * Fail safe: an impossible state warns once, stops deferral at once (the
 * flag is checked by migrc_batch_open()), and, from a context that may
 * sleep, switches the static key off and retires everything.
 */
void migrc_fail(const char *why)
{
	WARN_ONCE(1, "migrc: %s; deferral switched off\n", why);
	WRITE_ONCE(migrc_failed, true);	/* a hint: open batches are still correct */
	schedule_work(&migrc_fail_work);
}

static void migrc_fail_fn(struct work_struct *work)
{
	migrc_set_enabled(false);
}

#if IS_ENABLED(CONFIG_KUNIT)
/* Lets a test that provoked migrc_fail() put things back. */
void migrc_test_recover(void)
{
	flush_work(&migrc_fail_work);
	WRITE_ONCE(migrc_failed, false);
	migrc_set_enabled(true);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_test_recover);

bool migrc_test_failed(void)
{
	return READ_ONCE(migrc_failed);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_test_failed);

unsigned long migrc_nr_pending_batches(void)
{
	return READ_ONCE(migrc_nr_batches);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_nr_pending_batches);
#endif

void migrc_batch_free(struct migrc_batch *batch)
{
	migrc_debug_forget(batch);
	kmem_cache_free(migrc_batch_cache, batch);
}

/*
 * Links from the pfn of each folio that replaced an old one to the old
 * folio, while it is pending (recycle.c), in the array of the old folio's
 * node: a claim looks in its destination's node, where a folio it may take
 * must be anyway, and no lock is taken by every node's migrations.  A
 * round's links are stored when it is sealed, and a retiring batch
 * removes its folios' links before it frees them, each under one hold of
 * the xa_lock per node and at most MIGRC_LINKS_PER_HOLD links: a claimer
 * that finds a link under that lock holds a live folio and batch.
 */
struct xarray migrc_links[MAX_NUMNODES] = {
	[0 ... MAX_NUMNODES - 1] = XARRAY_INIT(migrc_links, 0),
};

#define MIGRC_LINKS_PER_HOLD	64

/* Link @folio in @links, locked, unless its entry is claimed. */
static bool migrc_link_store(struct xarray *links, struct folio *folio)
{
	XA_STATE(xas, links, folio->index);

	if (xa_pointer_tag(xas_load(&xas)) == MIGRC_CLAIMED)
		return false;
	xas_store(&xas, folio);
	return !xas_error(&xas);
}

/*
 * Store (@publish) or remove the links of @batch's folios from @folio on,
 * while they are in one node's array, at most MIGRC_LINKS_PER_HOLD of them
 * under one hold of its lock.  A folio with a link (noted or stored) has
 * its batch in ->private; any other may have something else there (an
 * old folio that was in the swap cache keeps its swap entry).  Return:
 * the first folio not done, or the head.
 */
static struct folio *migrc_links_run(struct migrc_batch *batch,
				     struct folio *folio, bool publish)
{
	struct xarray *links;
	unsigned int n = 0;

	list_for_each_entry_from(folio, &batch->folios, lru)
		if (folio->private == batch)
			break;
	if (list_entry_is_head(folio, &batch->folios, lru))
		return folio;

	links = &migrc_links[folio_nid(folio)];
	xa_lock(links);
	list_for_each_entry_from(folio, &batch->folios, lru) {
		if (folio->private != batch)
			continue;
		if (&migrc_links[folio_nid(folio)] != links ||
		    n++ == MIGRC_LINKS_PER_HOLD)
			break;
		if (publish && migrc_link_store(links, folio))
			continue;
		if (!publish)
			__xa_cmpxchg(links, folio->index, folio, NULL, 0);
		folio->private = NULL;
		folio->index = 0;
	}
	xa_unlock(links);
	return folio;
}

static void migrc_links_walk(struct migrc_batch *batch, bool publish)
{
	struct folio *folio;

	folio = list_first_entry(&batch->folios, struct folio, lru);
	while (!list_entry_is_head(folio, &batch->folios, lru))
		folio = migrc_links_run(batch, folio, publish);
}

/**
 * migrc_links_publish() - store the links of a round's old folios
 * @batch: the round's batch, about to be sealed
 *
 * migrc_batch_link() only noted each link in its old folio: no claim
 * takes a folio from a batch that is not sealed, so the round stores them
 * all here.  A link for a pfn whose entry a migration has claimed is not
 * stored (see migrc_batch_link()).  Without memory for a link, its
 * folio is only not recycled.
 *
 * Context: process context, no locks held; @batch is the caller's.
 */
void migrc_links_publish(struct migrc_batch *batch)
{
	migrc_links_walk(batch, true);
}

/* Detach every pending batch @select picks, oldest first, onto @list. */
static void migrc_detach(migrc_select_t select, void *arg,
			 struct list_head *list)
{
	struct migrc_batch *batch, *next;

	spin_lock(&migrc_lock);
	list_for_each_entry_safe(batch, next, &migrc_pending, node) {
		if (!select(batch, arg))
			continue;
		batch->away = true;
		list_move_tail(&batch->node, list);
		WRITE_ONCE(migrc_nr_batches, migrc_nr_batches - 1);
	}
	spin_unlock(&migrc_lock);
}

/*
 * Trim each batch on @list against what was already invalidated; move
 * those that still need a flush to @dirty, in order.  Returns how many
 * needed none.
 */
static unsigned long migrc_trim_list(struct list_head *list,
				     struct list_head *dirty)
{
	struct migrc_batch *batch, *next;
	unsigned long trimmed = 0;

	list_for_each_entry_safe(batch, next, list, node) {
		if (migrc_arch_trim(batch))
			trimmed++;
		else
			list_move_tail(&batch->node, dirty);
	}
	return trimmed;
}

/*
 * Free the folios of the batches on @victims (detached, flushed or
 * trimmed), then the batches; count @trimmed of them as needing no flush
 * and @avoided as going without one of their own.  Returns the pages
 * freed.  Called with migrc_retire_mutex held, so it may sleep.
 */
static unsigned long migrc_free_list(struct list_head *victims,
				     enum migrc_cause cause,
				     unsigned long trimmed,
				     unsigned long avoided)
{
	struct migrc_batch *batch, *next;
	unsigned long pages = 0, batches = 0;

	if (list_empty(victims))
		return 0;
	count_vm_events(MIGRC_RETIRE_TRIMMED, trimmed);
	migrc_stat_add(MIGRC_STAT_FLUSH_AVOIDED, avoided);

	/* Free on one CPU, so that the drain below finds them. */
	migrate_disable();
	list_for_each_entry(batch, victims, node) {
		struct folio *folio, *tmp;

		batches++;
		/* A retiring batch is about to free its folios: unlink them. */
		migrc_links_walk(batch, false);
		list_for_each_entry_safe(folio, tmp, &batch->folios, lru) {
			long nr = folio_nr_pages(folio);

			list_del(&folio->lru);
			mod_zone_page_state(folio_zone(folio), NR_MIGRC_PENDING, -nr);
			if (migrc_debug_check_folio(folio))
				folio_put(folio);
			pages += nr;
		}
		/* Up to a cap's worth of folios: 1/64 of a large machine. */
		cond_resched();
	}

	/*
	 * The pages went to this CPU's per-cpu lists, which watermark checks
	 * do not count and where they cannot merge: under pressure, give
	 * them to the buddy allocator now, before they stop counting as
	 * pending, so that an allocation that finds nothing pending finds
	 * them free.
	 */
	if (cause == MIGRC_CAUSE_PRESSURE)
		drain_local_pages(NULL);
	migrate_enable();

	list_for_each_entry_safe(batch, next, victims, node) {
		atomic_long_sub(batch->nr_pages, &migrc_pending_pages);
		atomic_long_sub(batch->reserved, &migrc_reserved);
		list_del(&batch->node);
		migrc_batch_free(batch);
	}
	if (atomic_long_read(&migrc_reserved) < 0 ||
	    atomic_long_read(&migrc_pending_pages) < 0)
		migrc_fail("pending page accounting went negative");

	count_vm_events(MIGRC_RETIRE_PRESSURE + cause, batches);
	migrc_stat_add(MIGRC_STAT_FREED_PAGES, pages);
	migrc_stat_add(MIGRC_STAT_RETIRED, batches);
	return pages;
}

/*
 * Detach the pending batches @select picks and retire them: those the
 * trim shows already invalidated go without a flush; if any other is
 * left, one flush of the union retires it, and every other pending batch
 * with it.  That flush is paid anyway, and it interrupts each CPU at
 * most once however many batches it covers; a batch left behind would
 * cost a flush of its own later (or, at best, a free trim then), so
 * taking it along can only save flushes.
 */
static unsigned long migrc_retire_locked(migrc_select_t select, void *arg,
					 enum migrc_cause cause)
{
	/* A cpumask on x86 and riscv: off the stack, under the mutex. */
	static struct arch_migrc_batch all;
	unsigned long batches = 0, trimmed;
	struct migrc_batch *batch;
	LIST_HEAD(victims);
	LIST_HEAD(dirty);
	LIST_HEAD(rest);

	lockdep_assert_held(&migrc_retire_mutex);
	migrc_detach(select, arg, &victims);
	trimmed = migrc_trim_list(&victims, &dirty);
	if (!list_empty(&dirty)) {
		migrc_detach(migrc_select_all, NULL, &rest);
		trimmed += migrc_trim_list(&rest, &dirty);
		list_splice_tail(&rest, &victims);

		arch_migrc_batch_init(&all);
		list_for_each_entry(batch, &dirty, node) {
			arch_migrc_fold(&all, &batch->arch);
			batches++;
		}
		/* One invalidation for all of them: no CPU is interrupted twice. */
		migrc_arch_flush(&all);
		list_splice_tail(&dirty, &victims);
	}
	/* Every batch but the one whose flush it was went without its own. */
	return migrc_free_list(&victims, cause, trimmed,
			       trimmed + batches - !!batches);
}

/*
 * Retire, without a flush, the pending batches that the trim shows
 * already invalidated everywhere; put the others back where they were.
 * They are older than anything sealed meanwhile, so the list stays in
 * generation order.  migrc_nr_batches keeps counting them while they are
 * away: the age worker, which stops re-arming itself when it reads zero,
 * must not miss the batches that come back.
 */
static unsigned long migrc_retire_clean_locked(enum migrc_cause cause)
{
	struct migrc_batch *batch;
	unsigned long trimmed;
	LIST_HEAD(victims);
	LIST_HEAD(dirty);

	lockdep_assert_held(&migrc_retire_mutex);
	spin_lock(&migrc_lock);
	list_for_each_entry(batch, &migrc_pending, node)
		batch->away = true;
	list_splice_init(&migrc_pending, &victims);
	spin_unlock(&migrc_lock);

	trimmed = migrc_trim_list(&victims, &dirty);

	spin_lock(&migrc_lock);
	list_for_each_entry(batch, &dirty, node)
		batch->away = false;
	list_splice(&dirty, &migrc_pending);
	WRITE_ONCE(migrc_nr_batches, migrc_nr_batches - trimmed);
	spin_unlock(&migrc_lock);
	return migrc_free_list(&victims, cause, trimmed, trimmed);
}

unsigned long migrc_retire(migrc_select_t select, void *arg,
			   enum migrc_cause cause)
{
	unsigned long pages;

	might_sleep();
	mutex_lock(&migrc_retire_mutex);
	pages = migrc_retire_locked(select, arg, cause);
	mutex_unlock(&migrc_retire_mutex);
	return pages;
}

/**
 * migrc_retire_down_to() - retire batches until few enough pages are held
 * @target: the most pages pending and reserved that may be left
 * @cause: why, for the statistics
 * @wait: wait for a retirement under way; if false and one is, give up
 *
 * First the batches that the trim shows already invalidated go, without
 * a flush; if more than @target pages are still held, every batch goes,
 * with one flush.  A retirement under way frees pages soon: a caller
 * that must not wait for it is better off giving up.
 *
 * Context: process context, may sleep.
 * Return: the number of pages freed.
 */
unsigned long migrc_retire_down_to(long target, enum migrc_cause cause,
				   bool wait)
{
	unsigned long pages;

	might_sleep();
	if (wait)
		mutex_lock(&migrc_retire_mutex);
	else if (!mutex_trylock(&migrc_retire_mutex))
		return 0;
	pages = migrc_retire_clean_locked(cause);
	if (atomic_long_read(&migrc_reserved) > target)
		pages += migrc_retire_locked(migrc_select_all, NULL, cause);
	mutex_unlock(&migrc_retire_mutex);
	return pages;
}

bool migrc_select_all(struct migrc_batch *batch, void *arg)
{
	return true;
}

/**
 * migrc_retire_all() - retire every pending batch
 * @cause: why, for the statistics
 *
 * Also waits for a retirement already under way: its batches are off the
 * pending list, but their pages are not free until it is done, and a
 * caller that drains must find them free when this returns.
 *
 * Context: process context, may sleep.
 * Return: the number of pages freed.
 */
unsigned long migrc_retire_all(enum migrc_cause cause)
{
	/* Pending pages go only once freed: unlike the batch count. */
	if (!migrc_nr_pending())
		return 0;
	return migrc_retire(migrc_select_all, NULL, cause);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_retire_all);

/**
 * migrc_nr_pending() - pages held by pending batches
 *
 * Context: any.
 * Return: the number of pages.
 */
unsigned long migrc_nr_pending(void)
{
	return atomic_long_read(&migrc_pending_pages);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_nr_pending);

/* Pages pending plus those reserved by open batches. */
unsigned long migrc_nr_reserved(void)
{
	return atomic_long_read(&migrc_reserved);
}

/**
 * migrc_set_enabled() - switch deferral on or off
 * @on: the new state
 *
 * Switching off retires everything pending before it returns.
 *
 * Context: process context, may sleep.
 */
void migrc_set_enabled(bool on)
{
	mutex_lock(&migrc_control_mutex);
	if (on && !READ_ONCE(migrc_failed))
		static_branch_enable(&migrc_enabled_key);
	else if (!on)
		static_branch_disable(&migrc_enabled_key);
	mutex_unlock(&migrc_control_mutex);
	if (!on)
		migrc_retire_all(MIGRC_CAUSE_DRAIN);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_set_enabled);
