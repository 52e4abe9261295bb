// SPDX-License-Identifier: GPL-2.0
/*
 * migrc retirement policies: when pending batches retire.  Under memory
 * pressure, those that hold memory the allocation can use (all of them
 * for higher orders); past vm.migrc_max_age_ms, those that waited that
 * long; past three quarters of vm.migrc_max_pending_pages, those already
 * invalidated, or all of them.  Whenever one of them needs a flush,
 * every pending batch retires with it (see migrc_retire_locked()).
 */

#include <linux/jiffies.h>
#include <linux/migrc.h>
#include <linux/minmax.h>
#include <linux/nodemask.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "migrc.h"

/* Tunables; see the sysctl table for their ranges. */
unsigned long migrc_max_pending_pages __read_mostly;
unsigned int migrc_max_age_ms __read_mostly = MIGRC_DEFAULT_AGE_MS;

static void migrc_age_fn(struct work_struct *work);
DECLARE_DELAYED_WORK(migrc_age_work, migrc_age_fn);
static void migrc_cap_fn(struct work_struct *work);
DECLARE_WORK(migrc_cap_work, migrc_cap_fn);

/* Three quarters of vm.migrc_max_pending_pages: where the cap work starts. */
long migrc_cap_high(void)
{
	unsigned long cap = READ_ONCE(migrc_max_pending_pages);

	return cap - cap / 4;
}

/* Half of vm.migrc_max_pending_pages: where a free retirement must get. */
long migrc_cap_low(void)
{
	return READ_ONCE(migrc_max_pending_pages) / 2;
}

VISIBLE_IF_KUNIT bool migrc_batch_in_nodes(struct migrc_batch *batch,
					   const nodemask_t *nodes,
					   int highest_zoneidx)
{
	if (!nodes_intersects(batch->nodes, *nodes))
		return false;
	return batch->zones & GENMASK(highest_zoneidx, 0);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_batch_in_nodes);

struct migrc_nodes_arg {
	const nodemask_t *nodes;
	int highest_zoneidx;
};

static bool migrc_select_nodes(struct migrc_batch *batch, void *arg)
{
	struct migrc_nodes_arg *a = arg;

	return migrc_batch_in_nodes(batch, a->nodes, a->highest_zoneidx);
}

/**
 * migrc_retire_nodes() - retire batches for an allocation under pressure
 * @nodes: nodes the allocation may use, or NULL for any
 * @highest_zoneidx: the highest zone it may use
 * @order: its order
 *
 * Order-0 requests retire only the batches that hold pages in the zones
 * they can use; higher orders retire everything, since pages freed in
 * any zone may complete a buddy and the merge is what they wait for.
 *
 * A retirement already under way (kswapd's, say) has taken its batches
 * off the pending list but not yet freed their pages: waiting for it (on
 * the retirement mutex) and counting what it freed meanwhile keeps the
 * caller from failing, or from going on to the OOM killer, a moment
 * before those pages come back.
 *
 * Context: process context, may sleep.
 * Return: the number of pages freed, by this call or by one it waited for.
 */
unsigned long migrc_retire_nodes(const nodemask_t *nodes, int highest_zoneidx,
				 unsigned int order)
{
	struct migrc_nodes_arg arg = {
		.nodes = nodes ? nodes : &node_states[N_MEMORY],
		.highest_zoneidx = highest_zoneidx,
	};
	unsigned long before = migrc_nr_pending(), freed, now;

	if (!before || migrc_hook_disabled(MIGRC_HOOK_PRESSURE))
		return 0;
	if (order)
		freed = migrc_retire(migrc_select_all, NULL, MIGRC_CAUSE_PRESSURE);
	else
		freed = migrc_retire(migrc_select_nodes, &arg, MIGRC_CAUSE_PRESSURE);
	now = migrc_nr_pending();
	return freed ?: (before > now ? before - now : 0);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_retire_nodes);

static bool migrc_select_expired(struct migrc_batch *batch, void *arg)
{
	unsigned long *deadline = arg;

	return time_after_eq(*deadline, batch->sealed_at);
}

VISIBLE_IF_KUNIT unsigned long migrc_retire_expired(unsigned long now)
{
	unsigned long deadline = now - msecs_to_jiffies(READ_ONCE(migrc_max_age_ms));

	return migrc_retire(migrc_select_expired, &deadline, MIGRC_CAUSE_AGE);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_retire_expired);

/* Jiffies until the oldest pending batch expires, 1 at the least. */
static unsigned long migrc_next_expiry(void)
{
	unsigned long age = msecs_to_jiffies(READ_ONCE(migrc_max_age_ms));
	unsigned long now = jiffies, delay = age;
	struct migrc_batch *oldest;

	spin_lock(&migrc_lock);
	oldest = list_first_entry_or_null(&migrc_pending, struct migrc_batch, node);
	if (oldest)
		delay = time_after(oldest->sealed_at + age, now) ?
			oldest->sealed_at + age - now : 1;
	spin_unlock(&migrc_lock);
	return max(delay, 1UL);
}

static void migrc_age_fn(struct work_struct *work)
{
	migrc_retire_expired(jiffies);
	if (READ_ONCE(migrc_nr_batches))
		queue_delayed_work(system_unbound_wq, &migrc_age_work,
				   migrc_next_expiry());
}

/**
 * migrc_set_max_age() - set vm.migrc_max_age_ms
 * @ms: the new bound, already range-checked
 *
 * The age worker is re-armed, so a shorter bound takes effect at once.
 *
 * Context: process context.
 */
void migrc_set_max_age(unsigned int ms)
{
	/* A plain tunable, read once per use. */
	WRITE_ONCE(migrc_max_age_ms, ms);
	mod_delayed_work(system_unbound_wq, &migrc_age_work, migrc_next_expiry());
}
EXPORT_SYMBOL_IF_KUNIT(migrc_set_max_age);

/**
 * migrc_retire_to_cap_low() - migrc_retire_down_to() half the cap
 * @wait: as for migrc_retire_down_to()
 *
 * Its clean pass takes the pending list away for a moment.  The age
 * worker, re-arming meanwhile, may have found the list empty or holding
 * only younger batches, and the older ones would then wait up to twice
 * vm.migrc_max_age_ms: have it look again.
 *
 * Context: process context, may sleep.
 * Return: the number of pages freed.
 */
unsigned long migrc_retire_to_cap_low(bool wait)
{
	unsigned long pages = migrc_retire_down_to(migrc_cap_low(), MIGRC_CAUSE_CAP, wait);

	/* Pairs with the WRITE_ONCE()s under migrc_lock (batch.c, retire.c). */
	if (READ_ONCE(migrc_nr_batches))
		mod_delayed_work(system_unbound_wq, &migrc_age_work, 0);
	return pages;
}

/*
 * Past three quarters of the cap, make room.  Batches that every CPU has
 * invalidated since (the trim) go first, without a flush: if that brings
 * the pages down to half the cap, the younger batches stay, and may well
 * go the same way later.  Otherwise every sealed batch goes, in one
 * flush: keeping the younger ones would only buy another flush soon
 * after.  The gap between the marks means a free pass frees a quarter of
 * the cap at least, so the trim is not repeated for every sealed round.
 */
unsigned long migrc_retire_over_cap(void)
{
	if (atomic_long_read(&migrc_reserved) <= migrc_cap_high())
		return 0;
	return migrc_retire_to_cap_low(true);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_retire_over_cap);

static void migrc_cap_fn(struct work_struct *work)
{
	migrc_retire_over_cap();
}
