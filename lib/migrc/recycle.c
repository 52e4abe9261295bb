// SPDX-License-Identifier: GPL-2.0
/*
 * migrc recycling.  A folio that migrates back to where it came from would
 * find there, still pending, the old folio it replaced: the one page
 * every stale translation still reads.  Migrating into that folio, rather
 * than into a new one, makes those translations right again, so the old
 * folio needs no flush and the pending memory does not grow.  A workload
 * that moves the same read-only pages to and fro (NUMA balancing of a
 * shared working set, promotion after demotion) then defers without
 * reaching the cap, where each trip would otherwise cost a flush.
 *
 * Why it is safe.  When old folio O was kept, every entry of it that a
 * CPU may still cache was a PTE, at some (mm, address), that the same
 * migration then pointed at its successor S.  Such a stale entry can be
 * used only while that PTE still maps S: any change to it (unmap,
 * mremap, a copy-on-write or another migration of S) invalidates the
 * address on every CPU that may cache it, before S can be freed, or
 * defers that invalidation to a migrc batch whose flush covers the
 * address (TLB invalidation goes by address, never by physical page).
 * A migration of S that recycles O holds S locked with every PTE of it
 * replaced by a migration entry; moving S into O and mapping O at those
 * PTEs leaves each still usable stale entry agreeing with its PTE.
 * S cannot have been written while a stale entry to O was usable (that
 * is the migrc invariant), so the copy writes O's bytes back unchanged
 * where anyone may read them.  If S was freed, and its pfn is now
 * another folio's, no stale entry to O is usable any more, and O is as
 * good as free: the link may point at whatever took S's pfn.
 *
 * If the migration into O fails, O still has whatever stale entries it
 * had, all at addresses that map S: it goes to the open batch of the
 * round that claimed it, whose own flush covers S's addresses if it
 * deferred them, and otherwise has nothing stale to cover.
 *
 * migrc_links (retire.c), one array per node, maps the pfn of each
 * successor to the pending old folio, in the old folio's node; the old
 * folio has its batch in ->private and the key in ->index.  A round's
 * links are stored when its batch is sealed, and a claim takes folios of
 * sealed batches only.  A retirement removes the entries (under their
 * xa_lock) before it frees the folios, so a claimer that finds an entry
 * under the xa_lock holds a live folio and batch.  A claimed entry stays,
 * tagged MIGRC_CLAIMED, until the migration ends (migrc_recycle_end(),
 * migrc_recycle_fail()); a retirement's unlink, which compares with the
 * untagged folio, leaves it alone.  A claim and its end walk the array
 * once each (an xa_state reused for the store).
 * Lock order: the xa_lock, then migrc_lock.
 */

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/memcontrol.h>
#include <linux/migrc.h>
#include <linux/mm.h>
#include <linux/page-flags.h>
#include <linux/page-isolation.h>
#include <linux/pagemap.h>
#include <linux/spinlock.h>
#include <linux/vmstat.h>
#include <linux/xarray.h>

#include "migrc.h"

/**
 * migrc_batch_link() - remember which folio replaced a kept old folio
 * @batch: the open batch that keeps @old
 * @old: a small anonymous old folio, just added to @batch
 * @succ_pfn: the pfn of the folio that replaced it
 *
 * Notes the link in @old; migrc_links_publish() stores the round's links
 * when @batch is sealed, best effort: without memory for the link, @old
 * is only not recycled.  A link for @succ_pfn left by an old folio whose
 * successor was freed is replaced then, unless a migration has claimed
 * that folio: the successor may already be migrating again (it is
 * unlocked by now), and recycle an old folio through the stale link (see
 * above).  @old then goes unlinked.
 *
 * Context: process context; @batch is the caller's and still open.
 */
void migrc_batch_link(struct migrc_batch *batch, struct folio *old,
		      unsigned long succ_pfn)
{
	/* The xa_lock of the store publishes these to a claimer. */
	old->private = batch;
	old->index = succ_pfn;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_batch_link);

/*
 * May @old, pending in the sealed batch @batch, become the destination
 * @dst stands for?  Called with the xa_lock and migrc_lock held.
 */
static bool migrc_recyclable(struct migrc_batch *batch, struct folio *old,
			     struct folio *dst)
{
	return batch->gen && !batch->away &&
	       folio_zone(old) == folio_zone(dst) &&
	       folio_ref_count(old) == 1 && !folio_mapped(old) &&
	       !old->mapping && !folio_memcg(old) &&
	       !PageHWPoison(&old->page) &&
	       !is_migrate_isolate_page(&old->page);
}

/**
 * migrc_recycle_claim() - take a pending old folio back as a destination
 * @batch: the open batch of the caller's migration round
 * @src: the folio being migrated: small, anonymous, locked and unmapped
 * @dst: the destination the round allocated for @src, in the zone it
 *	chose; the caller frees it if this returns a folio
 *
 * If @src replaced an old folio that is still pending, in @dst's zone,
 * and no retirement holds it, take that folio out of its batch to be
 * @src's destination instead (see "Recycling" above).  A batch left
 * empty is freed: the stale entries it recorded are all to folios that
 * are mapped again.
 *
 * Context: process context, in a migration round.
 * Return: the old folio, locked, with one reference, no flags and no
 * ->private: a destination as the allocator would give it; or NULL.  The
 * caller ends the claim with migrc_recycle_end() or migrc_recycle_fail().
 */
struct folio *migrc_recycle_claim(struct migrc_batch *batch,
				  struct folio *src, struct folio *dst)
{
	XA_STATE(xas, &migrc_links[folio_nid(dst)], folio_pfn(src));
	struct migrc_batch *from, *empty = NULL;
	unsigned long stale, bit;
	struct folio *old;

	/*
	 * Most folios have no link: look without the lock first (xa_load()
	 * takes the RCU read lock).  A link stored meanwhile is only missed,
	 * as if it had come after this migration.
	 */
	if (!xa_load(xas.xa, xas.xa_index))
		return NULL;
	xas_lock(&xas);
	old = xas_load(&xas);
	if (!old || xa_pointer_tag(old))
		goto out;
	from = old->private;
	spin_lock(&migrc_lock);
	if (!migrc_recyclable(from, old, dst) || !folio_trylock(old)) {
		spin_unlock(&migrc_lock);
		goto out;
	}
	list_del(&old->lru);
	from->nr_pages--;
	from->reserved--;
	if (!from->nr_pages) {
		list_del(&from->node);
		WRITE_ONCE(migrc_nr_batches, migrc_nr_batches - 1);
		empty = from;
	}
	spin_unlock(&migrc_lock);
	/* Replaces an entry in place: allocates nothing, cannot fail. */
	xas_store(&xas, xa_tag_pointer(old, MIGRC_CLAIMED));
	xas_unlock(&xas);

	batch->nr_claimed++;
	atomic_long_dec(&migrc_pending_pages);
	atomic_long_dec(&migrc_reserved);
	mod_zone_page_state(folio_zone(old), NR_MIGRC_PENDING, -1);
	migrc_stat_inc(MIGRC_STAT_RECYCLED);
	if (empty) {
		migrc_stat_inc(MIGRC_STAT_RECYCLED_BATCHES);
		migrc_batch_free(empty);
	}

	old->private = NULL;
	old->index = 0;
	/*
	 * Clear what migration left on it as a source (uptodate, dirty,
	 * ...), as free_pages_prepare() would; bit by bit, so that a bit
	 * someone sets meanwhile (PG_hwpoison) is not lost.  Not the lock we
	 * hold, nor PG_waiters: someone holding a reference may be waiting
	 * for that lock.
	 */
	stale = READ_ONCE(old->flags) & PAGE_FLAGS_CHECK_AT_PREP &
		~(BIT(PG_locked) | BIT(PG_waiters));
	for_each_set_bit(bit, &stale, BITS_PER_LONG)
		clear_bit(bit, &old->flags);
	return old;
out:
	xas_unlock(&xas);
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_recycle_claim);

/* Was @dst claimed for @src?  Then forget the claim. */
static bool migrc_unclaim(struct migrc_batch *batch, struct folio *src,
			  struct folio *dst)
{
	XA_STATE(xas, &migrc_links[folio_nid(dst)], folio_pfn(src));
	bool claimed = false;

	if (!batch || !batch->nr_claimed)
		return false;
	xas_lock(&xas);
	if (xas_load(&xas) == xa_tag_pointer(dst, MIGRC_CLAIMED)) {
		xas_store(&xas, NULL);
		claimed = true;
	}
	xas_unlock(&xas);
	if (claimed)
		batch->nr_claimed--;
	return claimed;
}

/**
 * migrc_recycle_end() - @src was migrated into @dst
 * @batch: the open batch of the caller's migration round, or NULL
 * @src: the folio that was migrated
 * @dst: its destination, which is now mapped where @src was
 *
 * If @dst was an old folio claimed for @src, it is an ordinary folio
 * again: forget the claim.
 *
 * Context: process context, in the migration round.
 */
void migrc_recycle_end(struct migrc_batch *batch, struct folio *src,
		       struct folio *dst)
{
	migrc_unclaim(batch, src, dst);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_recycle_end);

/**
 * migrc_recycle_fail() - the migration of @src into @dst failed for good
 * @batch: the open batch of the caller's migration round, or NULL
 * @src: the folio that stays
 * @dst: its destination, unlocked, with the caller's one reference
 *
 * If @dst was an old folio claimed for @src, CPUs may still read it
 * through stale entries at addresses that map @src: @batch keeps it (its
 * flush covers those addresses if the round deferred them, and nothing
 * is stale otherwise), and takes the caller's reference.
 *
 * Context: process context, in the migration round.
 * Return: true if @batch took @dst; false if the caller frees it.
 */
bool migrc_recycle_fail(struct migrc_batch *batch, struct folio *src,
			struct folio *dst)
{
	if (!migrc_unclaim(batch, src, dst))
		return false;
	migrc_stat_inc(MIGRC_STAT_RECYCLE_RETURNED);
	migrc_batch_add_folio(batch, dst);
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_recycle_fail);
