// SPDX-License-Identifier: GPL-2.0
/*
 * migrc debug checker (CONFIG_MIGRC_DEBUG): enforce the invariant.
 *
 * Every PTE migrc defers is recorded, keyed by the address of the PTE
 * slot, until its batch retires (or is flushed early).  While its mm has
 * not been flushed since the deferral (migrc_mm_pending() for that one
 * deferral), CPUs may still cache the old read-only translation, so a
 * PTE written at that slot may only be:
 *
 *  - not present (cleared, a migration or swap entry);
 *  - the end of a migration: a read-only PTE replacing a migration entry
 *    (the new folio has the content the stale translations read);
 *  - read-only and to the same page as before.
 *
 * Anything else, a writable PTE or one to another page, would let a CPU
 * read stale data: it means a flush point is missing.  The checker then
 * warns once, with the mm, address, old and new PTE and the batch's
 * generation, and fails migrc safe (migrc_fail()).  It also checks that
 * no pending folio was freed behind the batch's back.
 *
 * A slot cleared by ptep_clear_flush(), which invalidates its address on
 * every CPU, is forgotten there: a copy-on-write fault clears the slot
 * that way and then maps the copy, writable.  So is a slot that reclaim's
 * try_to_unmap() cleared for a batched flush, once that flush is done
 * (try_to_unmap_flush()): a fault then reads the evicted page into
 * another folio.
 *
 * PTE writes are seen through page_table_check's set_ptes() hook, which
 * x86_64, arm64 and riscv call from their PTE setters, and through
 * migrc_debug_ptes_set() calls where a setter bypasses it (x86's
 * ptep_set_access_flags()).  The checker runs only while page_table_check
 * does (CONFIG_PAGE_TABLE_CHECK and page_table_check=on, or
 * CONFIG_PAGE_TABLE_CHECK_ENFORCED); otherwise it costs a static branch.
 */

#define pr_fmt(fmt) "migrc: " fmt

#include <kunit/visibility.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/migrc.h>
#include <linux/mm.h>
#include <linux/page_table_check.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/swap.h>
#include <linux/swapops.h>

#include "migrc.h"

/**
 * struct migrc_debug_rec - one deferred PTE slot
 * @node: in migrc_debug_hash, keyed by @ptep
 * @mm: the mm the PTE belongs to
 * @ptep: the PTE slot
 * @addr: the user address it maps
 * @batch: the batch that deferred it
 * @seq: the mm's deferral count with this deferral (mm->migrc_deferred)
 * @pfn: the page the slot maps now, once a migration mapped it; 0 before
 * @unmapper: the task whose batched unmap flush will cover the slot, once
 *	it cleared the slot for one; NULL before
 */
struct migrc_debug_rec {
	struct hlist_node	node;
	struct mm_struct	*mm;
	pte_t			*ptep;
	unsigned long		addr;
	struct migrc_batch	*batch;
	u64			seq;
	unsigned long		pfn;
	struct task_struct	*unmapper;
};

static DEFINE_HASHTABLE(migrc_debug_hash, 10);
static DEFINE_RAW_SPINLOCK(migrc_debug_lock);
static atomic_t migrc_debug_nr = ATOMIC_INIT(0);
static atomic_long_t migrc_debug_violation_count = ATOMIC_LONG_INIT(0);
static atomic_long_t migrc_debug_untracked = ATOMIC_LONG_INIT(0);

/**
 * migrc_debug_violations() - how many violations the checker found
 *
 * Context: any.
 * Return: the count since boot.
 */
unsigned long migrc_debug_violations(void)
{
	return atomic_long_read(&migrc_debug_violation_count);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_debug_violations);

/* Checking runs with page_table_check, whose hooks it needs. */
static bool migrc_debug_active(void)
{
#ifdef CONFIG_PAGE_TABLE_CHECK
	return !static_branch_likely(&page_table_check_disabled);
#else
	return false;
#endif
}

static struct migrc_debug_rec *migrc_debug_find(pte_t *ptep)
{
	struct migrc_debug_rec *rec;

	hash_for_each_possible(migrc_debug_hash, rec, node, (unsigned long)ptep)
		if (rec->ptep == ptep)
			return rec;
	return NULL;
}

/* The record of @mm's slot @ptep, if any.  Under migrc_debug_lock. */
static struct migrc_debug_rec *migrc_debug_find_mm(struct mm_struct *mm,
						   pte_t *ptep)
{
	struct migrc_debug_rec *rec = migrc_debug_find(ptep);

	return rec && rec->mm == mm ? rec : NULL;
}

/**
 * migrc_debug_deferred() - record a PTE whose flush migrc just deferred
 * @mm: its mm
 * @ptep: the PTE slot, under its lock
 * @addr: the user address
 *
 * Context: under the PTE lock, in the migration round that deferred it.
 */
void migrc_debug_deferred(struct mm_struct *mm, pte_t *ptep, unsigned long addr)
{
	struct migrc_debug_rec *rec, *new;
	unsigned long flags;

	if (!migrc_debug_active())
		return;
	new = kmalloc(sizeof(*new), GFP_ATOMIC | __GFP_NOWARN);
	if (!new) {
		atomic_long_inc(&migrc_debug_untracked);
		return;
	}
	new->mm = mm;
	new->ptep = ptep;
	new->addr = addr;
	new->batch = current->tlb_ubc.migrc;
	new->seq = atomic64_read(&mm->migrc_deferred);
	new->pfn = 0;
	new->unmapper = NULL;

	raw_spin_lock_irqsave(&migrc_debug_lock, flags);
	rec = migrc_debug_find(ptep);
	if (rec) {
		/* The slot was deferred again: the newer deferral counts. */
		hash_del(&rec->node);
		atomic_dec(&migrc_debug_nr);
	}
	hash_add(migrc_debug_hash, &new->node, (unsigned long)ptep);
	atomic_inc(&migrc_debug_nr);
	raw_spin_unlock_irqrestore(&migrc_debug_lock, flags);
	kfree(rec);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_debug_deferred);

/* Has @rec's mm been flushed since the deferral? */
static bool migrc_debug_flushed(const struct migrc_debug_rec *rec)
{
	return atomic64_read(&rec->mm->migrc_flushed) >= (s64)rec->seq;
}

static void migrc_debug_violation(const struct migrc_debug_rec *rec,
				  pte_t old, pte_t new, const char *what)
{
	atomic_long_inc(&migrc_debug_violation_count);
	WARN_ONCE(1, "migrc: debug: PTE of mm %p at %#lx %s before its deferred flush: old %#llx new %#llx, batch generation %llu%s\n",
		  rec->mm, rec->addr, what, (u64)pte_val(old), (u64)pte_val(new),
		  rec->batch ? rec->batch->gen : 0,
		  rec->batch && !rec->batch->gen ? " (not sealed yet)" : "");
	migrc_fail("the debug checker found a missing flush");
}

/**
 * migrc_debug_ptes_set() - check @nr PTEs about to be written
 * @mm: their mm
 * @ptep: the first PTE slot, under its lock
 * @pte: the first new PTE (the others map the following pages)
 * @nr: how many consecutive PTEs
 *
 * Called before the PTEs are written, so ptep_get() gives the old ones.
 *
 * Context: under the PTE lock.
 */
void migrc_debug_ptes_set(struct mm_struct *mm, pte_t *ptep, pte_t pte,
			  unsigned int nr)
{
	struct migrc_debug_rec *rec;
	unsigned long flags;
	unsigned int i;

	if (!atomic_read(&migrc_debug_nr) || !pte_present(pte))
		return;

	raw_spin_lock_irqsave(&migrc_debug_lock, flags);
	for (i = 0; i < nr; i++) {
		pte_t old = ptep_get(ptep + i);
		unsigned long pfn = pte_pfn(pte) + i;

		rec = migrc_debug_find_mm(mm, ptep + i);
		if (!rec || migrc_debug_flushed(rec))
			continue;
		if (is_swap_pte(old) && is_migration_entry(pte_to_swp_entry(old))) {
			if (pte_write(pte))
				migrc_debug_violation(rec, old, pte,
						      "made writable by a migration");
			rec->pfn = pfn;
		} else if (pte_write(pte)) {
			migrc_debug_violation(rec, old, pte, "made writable");
		} else if (pfn != rec->pfn) {
			migrc_debug_violation(rec, old, pte, "pointed at another page");
		}
	}
	raw_spin_unlock_irqrestore(&migrc_debug_lock, flags);
}
EXPORT_SYMBOL(migrc_debug_ptes_set);

/**
 * migrc_debug_pte_flushed() - one PTE slot was cleared and flushed
 * @mm: its mm
 * @ptep: the slot
 *
 * ptep_clear_flush() invalidated the slot's address on every CPU that
 * may cache it: a deferred translation there is gone, whatever the mm's
 * sequence says, and the slot may be filled again (a copy-on-write
 * fault does so at once).
 *
 * Context: under the PTE lock.
 */
void migrc_debug_pte_flushed(struct mm_struct *mm, pte_t *ptep)
{
	struct migrc_debug_rec *rec;
	unsigned long flags;

	if (!atomic_read(&migrc_debug_nr))
		return;
	raw_spin_lock_irqsave(&migrc_debug_lock, flags);
	rec = migrc_debug_find_mm(mm, ptep);
	if (rec) {
		hash_del(&rec->node);
		atomic_dec(&migrc_debug_nr);
	}
	raw_spin_unlock_irqrestore(&migrc_debug_lock, flags);
	kfree(rec);
}
EXPORT_SYMBOL(migrc_debug_pte_flushed);

/**
 * migrc_debug_pte_unmapped() - a slot was cleared for a batched flush
 * @mm: its mm
 * @ptep: the slot, under its lock
 *
 * try_to_unmap() cleared the slot and left its flush to the current
 * task's try_to_unmap_flush().  That flush invalidates the address on
 * every CPU that may cache it: x86 and riscv flush every CPU of the mm
 * whole (x86 also bumps the mm's TLB generation, so CPUs that switched
 * away flush when they return), arm64 broadcasts a TLBI for the address
 * in the mm's ASID.  Until then the slot is checked as before; after it,
 * migrc_debug_unmap_flushed() forgets it.
 *
 * Context: under the PTE lock.
 */
void migrc_debug_pte_unmapped(struct mm_struct *mm, pte_t *ptep)
{
	struct migrc_debug_rec *rec;
	unsigned long flags;

	if (!atomic_read(&migrc_debug_nr))
		return;
	raw_spin_lock_irqsave(&migrc_debug_lock, flags);
	rec = migrc_debug_find_mm(mm, ptep);
	if (rec)
		rec->unmapper = current;
	raw_spin_unlock_irqrestore(&migrc_debug_lock, flags);
}
EXPORT_SYMBOL(migrc_debug_pte_unmapped);

/* Drop the records that @match picks. */
static void migrc_debug_drop(bool (*match)(const struct migrc_debug_rec *rec,
					   const void *arg), const void *arg)
{
	struct migrc_debug_rec *rec;
	struct hlist_node *tmp;
	unsigned long flags;
	HLIST_HEAD(victims);
	int bkt;

	if (!atomic_read(&migrc_debug_nr))
		return;
	raw_spin_lock_irqsave(&migrc_debug_lock, flags);
	hash_for_each_safe(migrc_debug_hash, bkt, tmp, rec, node) {
		if (!match(rec, arg))
			continue;
		hash_del(&rec->node);
		atomic_dec(&migrc_debug_nr);
		hlist_add_head(&rec->node, &victims);
	}
	raw_spin_unlock_irqrestore(&migrc_debug_lock, flags);
	hlist_for_each_entry_safe(rec, tmp, &victims, node)
		kfree(rec);
}

static bool migrc_debug_of_batch(const struct migrc_debug_rec *rec,
				 const void *batch)
{
	return rec->batch == batch;
}

static bool migrc_debug_of_mm(const struct migrc_debug_rec *rec,
			      const void *mm)
{
	return rec->mm == mm;
}

static bool migrc_debug_of_unmapper(const struct migrc_debug_rec *rec,
				    const void *task)
{
	return rec->unmapper == task;
}

/**
 * migrc_debug_unmap_flushed() - the current task's batched unmap flush ran
 *
 * The slots it cleared (migrc_debug_pte_unmapped()) hold no translation
 * on any CPU any more, the deferred ones included: check them no more.
 *
 * Context: process context, right after arch_tlbbatch_flush().
 */
void migrc_debug_unmap_flushed(void)
{
	migrc_debug_drop(migrc_debug_of_unmapper, current);
}
EXPORT_SYMBOL(migrc_debug_unmap_flushed);

/**
 * migrc_debug_join_unmap_flush() - @batch joined the batched unmap flush
 * @batch: the current task's open batch
 *
 * Its slots are checked as before until the current task's
 * try_to_unmap_flush() has run, and forgotten there, as if try_to_unmap()
 * had cleared them.  Slots @batch records later are not affected.
 *
 * Context: process context; may hold the PTE lock.
 */
void migrc_debug_join_unmap_flush(struct migrc_batch *batch)
{
	struct migrc_debug_rec *rec;
	unsigned long flags;
	int bkt;

	if (!atomic_read(&migrc_debug_nr))
		return;
	raw_spin_lock_irqsave(&migrc_debug_lock, flags);
	hash_for_each(migrc_debug_hash, bkt, rec, node)
		if (rec->batch == batch && !rec->unmapper)
			rec->unmapper = current;
	raw_spin_unlock_irqrestore(&migrc_debug_lock, flags);
}

/**
 * migrc_debug_forget() - @batch was flushed: its PTEs are checked no more
 * @batch: the batch, retiring or flushed early
 *
 * Context: process context.
 */
void migrc_debug_forget(struct migrc_batch *batch)
{
	migrc_debug_drop(migrc_debug_of_batch, batch);
}

/**
 * migrc_debug_forget_mm() - @mm is being freed
 * @mm: the mm
 *
 * Its page tables are gone; their slots may serve another mm next.
 *
 * Context: any.
 */
void migrc_debug_forget_mm(struct mm_struct *mm)
{
	migrc_debug_drop(migrc_debug_of_mm, mm);
}

/**
 * migrc_debug_writer() - a file gained a writer without the gate's flush
 * @mapping: its mapping, marked AS_MIGRC_DEFERRED
 *
 * Reached only when MIGRC_HOOK_FILE_GATE is switched off: the writer may
 * now change folios whose older copies stale translations still read.
 * Warns if any recorded deferral is still unflushed in its mm.  The
 * records do not say which file they belong to, so this may also blame a
 * writer for an anonymous deferral; it is a check for the hook tests.
 *
 * Context: process context.
 */
void migrc_debug_writer(struct address_space *mapping)
{
	struct migrc_debug_rec *rec;
	unsigned long flags;
	bool live = false;
	int bkt;

	if (!migrc_debug_active() || !atomic_read(&migrc_debug_nr))
		return;
	raw_spin_lock_irqsave(&migrc_debug_lock, flags);
	hash_for_each(migrc_debug_hash, bkt, rec, node) {
		if (!migrc_debug_flushed(rec)) {
			live = true;
			break;
		}
	}
	raw_spin_unlock_irqrestore(&migrc_debug_lock, flags);
	if (!live)
		return;
	atomic_long_inc(&migrc_debug_violation_count);
	WARN_ONCE(1, "migrc: debug: inode %lu gained a writer before its deferred flush\n",
		  mapping->host ? mapping->host->i_ino : 0);
	migrc_fail("the debug checker found a writer before its flush");
}

/**
 * migrc_debug_check_folio() - may a retiring batch free @folio?
 * @folio: a folio the batch holds
 *
 * Context: any.
 * Return: false, after a warning, if someone else already freed it.
 */
bool migrc_debug_check_folio(struct folio *folio)
{
	if (likely(folio_ref_count(folio) > 0 && !PageBuddy(&folio->page)))
		return true;
	atomic_long_inc(&migrc_debug_violation_count);
	WARN_ONCE(1, "migrc: debug: pending folio (pfn %#lx) was freed before its batch retired\n",
		  folio_pfn(folio));
	migrc_fail("a pending folio was freed behind its batch");
	return false;
}

/**
 * migrc_debug_untracked_count() - deferrals the checker could not record
 *
 * Context: any.
 * Return: how many records could not be allocated.
 */
unsigned long migrc_debug_untracked_count(void)
{
	return atomic_long_read(&migrc_debug_untracked);
}
