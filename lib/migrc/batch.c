// SPDX-License-Identifier: GPL-2.0
/*
 * migrc batches.  A migration round opens one, records in it the
 * read-only PTEs it clears without a flush and the old folios it would
 * have freed, and seals it onto the pending list.  Every deferred PTE
 * also bumps its mm's deferral sequence, which the flush points check
 * to flush that mm before a stale entry could be observed.
 */

#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/migrate_mode.h>
#include <linux/migrc.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmstat.h>
#include <linux/wordpart.h>
#include <linux/workqueue.h>

#include "migrc.h"

bool migrc_reason_defers(int reason)
{
	switch (reason) {
	case MR_SYSCALL:
	case MR_MEMPOLICY_MBIND:
	case MR_DEMOTION:
	case MR_DAMON:
	case MR_NUMA_MISPLACED:
		return true;
	default:
		return false;
	}
}

/*
 * Migrations that a task asked for and waits for anyway (move_pages(),
 * migrate_pages(), mbind()), which already wait for folio locks and
 * writeback.  Hinting faults, reclaim's demotion and DAMON must not wait.
 */
static bool migrc_reason_waits(int reason)
{
	return reason == MR_SYSCALL || reason == MR_MEMPOLICY_MBIND;
}

/* Reserve @pages against vm.migrc_max_pending_pages, if they fit. */
static bool migrc_reserve(unsigned long pages)
{
	if (atomic_long_add_return(pages, &migrc_reserved) <=
	    READ_ONCE(migrc_max_pending_pages))
		return true;
	atomic_long_sub(pages, &migrc_reserved);
	return false;
}

/*
 * Make room for @pages past the cap, as the cap work does, and reserve
 * them.  Without @wait, a retirement under way makes this give up; with
 * it, this waits for that retirement, which has likely made the room.
 */
static bool migrc_make_room(unsigned long pages, bool wait)
{
	if (!migrc_retire_to_cap_low(wait) && !wait)
		return false;
	return migrc_reserve(pages);
}

static struct migrc_batch *__migrc_batch_open(unsigned long max_pages,
					      bool may_retire, bool wait)
{
	struct migrc_batch *batch;

	if (!migrc_enabled() || READ_ONCE(migrc_failed) || !max_pages)
		return NULL;

	if (!migrc_reserve(max_pages) &&
	    !(may_retire && migrc_make_room(max_pages, wait))) {
		migrc_stat_inc(MIGRC_STAT_CAP_REFUSED);
		schedule_work(&migrc_cap_work);
		return NULL;
	}

	batch = kmem_cache_alloc(migrc_batch_cache, GFP_NOWAIT | __GFP_NOWARN);
	if (!batch) {
		atomic_long_sub(max_pages, &migrc_reserved);
		return NULL;
	}
	INIT_LIST_HEAD(&batch->node);
	INIT_LIST_HEAD(&batch->folios);
	arch_migrc_batch_init(&batch->arch);
	batch->gen = 0;
	batch->sealed_at = 0;
	batch->reserved = max_pages;
	batch->nr_pages = 0;
	nodes_clear(batch->nodes);
	batch->zones = 0;
	batch->nr_ptes = 0;
	batch->covered = false;
	batch->away = false;
	batch->nr_claimed = 0;
	return batch;
}

/**
 * migrc_batch_open() - start collecting a migration round
 * @max_pages: the most pages the round can defer
 *
 * Reserves @max_pages against vm.migrc_max_pending_pages, so pending pages
 * never exceed it.  Past the cap, returns NULL and has the oldest batches
 * retired: the round then migrates as mainline does.
 *
 * Context: process context; may be called with locks held (no sleeping
 * allocation).
 * Return: an open batch, or NULL if the round must not defer.
 */
struct migrc_batch *migrc_batch_open(unsigned long max_pages)
{
	return __migrc_batch_open(max_pages, false, false);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_batch_open);

/**
 * migrc_round_open() - open the batch of a migration round that may sleep
 * @max_pages: the most pages the round can defer
 * @reason: the round's enum migrate_reason
 *
 * As migrc_batch_open(), except that a round that would pass the cap
 * first makes room itself, as the cap work does (migrc_retire_over_cap()),
 * and defers if it then fits.  That costs one flush at most, as refusing
 * would (a refused round flushes the mainline way: one IPI round on x86
 * and riscv, but one TLBI per page on arm64), and this round's pages are
 * deferred instead of flushed.  If another task is retiring already, a
 * round that a task asked for (MR_SYSCALL, MR_MEMPOLICY_MBIND) waits for
 * it; any other round is refused rather than wait.
 *
 * Context: process context, may sleep; no locks held that a flush or
 * freeing folios could need.
 * Return: an open batch, or NULL if the round must not defer.
 */
struct migrc_batch *migrc_round_open(unsigned long max_pages, int reason)
{
	return __migrc_batch_open(max_pages, true, migrc_reason_waits(reason));
}
EXPORT_SYMBOL_IF_KUNIT(migrc_round_open);

/**
 * migrc_batch_flush() - have what an open batch recorded invalidated before
 *	the copy
 * @batch: the current task's open batch
 *
 * For a folio found ineligible after some of its read-only entries were
 * deferred: it will be copied and freed the mainline way, so the entries
 * deferred for it must be gone before it is copied.  The batched unmap
 * flush that ends the unmap phase (try_to_unmap_flush() in
 * migrate_pages_batch()) comes before any copy, and mainline sends it
 * anyway for the entry that was refused.  Where the arch can, every CPU
 * @batch recorded joins that flush (arch_migrc_join_unmap_flush()); an
 * early flush of its own would be a second IPI round or SBI call.
 * Otherwise (arm64) @batch is flushed now.
 *
 * A joined @batch keeps what it recorded, so its other folios still retire
 * the usual way; the unmap flush may just let the trim drop CPUs early.
 *
 * Context: process context with interrupts enabled, inside a migration
 * round (before its try_to_unmap_flush()); may hold the PTE lock.
 */
void migrc_batch_flush(struct migrc_batch *batch)
{
	if (migrc_hook_disabled(MIGRC_HOOK_INELIGIBLE))
		return;
	migrc_stat_inc(MIGRC_STAT_INELIGIBLE_FLUSH);
	if (migrc_arch_join_unmap_flush(&batch->arch)) {
		migrc_debug_join_unmap_flush(batch);
		migrc_stat_inc(MIGRC_STAT_INELIGIBLE_JOINED);
		return;
	}
	migrc_arch_flush(&batch->arch);
	migrc_debug_forget(batch);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_batch_flush);

/**
 * migrc_batch_unmap_flush() - the unmap phase of a round is about to flush
 * @batch: the round's open batch
 *
 * Called right before try_to_unmap_flush() ends the unmap phase of a
 * migration round.  If that flush goes out anyway, for entries migrc
 * refused or reclaim's own, and the arch can add @batch to it, it
 * invalidates everything @batch recorded as well: one IPI round or SBI
 * call either way, where keeping the old folios would cost another one
 * when they retire, and hold their memory until then.  The round then
 * keeps nothing; migrc_batch_add_folio() frees its old folios as mainline
 * does.
 *
 * Context: process context, inside a migration round, right before its
 * try_to_unmap_flush().
 */
void migrc_batch_unmap_flush(struct migrc_batch *batch)
{
	if (!current->tlb_ubc.flush_required || !batch->nr_ptes || batch->covered)
		return;
	if (!migrc_arch_join_unmap_flush(&batch->arch))
		return;
	migrc_debug_join_unmap_flush(batch);
	batch->covered = true;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_batch_unmap_flush);

DEFINE_PER_CPU(unsigned long [NR_MIGRC_REFUSALS], migrc_refusals);

/**
 * migrc_refused() - how many PTEs were not deferred for one reason
 * @why: the reason
 *
 * Context: any.
 * Return: the count since boot, summed over the CPUs.
 */
unsigned long migrc_refused(enum migrc_refusal why)
{
	unsigned long sum = 0;
	int cpu;

	/* Racing this_cpu_inc() in migrc_defer_pte(): a snapshot, read once. */
	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu(migrc_refusals, cpu)[why]);
	return sum;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_refused);

/*
 * Under the PTE lock: the lock orders this read after the increment done
 * before the PTE was changed (see inc_tlb_flush_pending()).
 *
 * Only a VMA with VM_WRITE, or one an mmap_lock writer is changing, can
 * have a PTE whose writable entries a pending flush has yet to remove: a
 * NUMA hinting scan of a VMA mprotect()ed read-only long ago changes only
 * read-only PTEs (see migrc_vma() in mm/internal.h).
 *
 * Only an anonymous folio can be at risk.  A page-cache folio is mapped
 * writable only in VM_SHARED VMAs: a write fault in a private one maps a
 * copy (wp_page_copy()), and mprotect() makes only exclusive anonymous
 * pages writable there (can_change_pte_writable()).
 * Such a VMA refuses its own entries, and while it exists its file is
 * ineligible (i_mmap_writable, and the writer its file holds).  So no
 * CPU can hold a writable entry to a page-cache folio that a pending
 * flush would still have to remove.
 */
static bool migrc_flush_pending(struct mm_struct *mm, unsigned int vma,
				pte_t pteval)
{
	return vma & MIGRC_VMA_MAY_WRITE && mm_tlb_flush_pending(mm) &&
	       folio_test_anon(pfn_folio(pte_pfn(pteval))) &&
	       !migrc_hook_disabled(MIGRC_HOOK_FLUSH_PENDING);
}

/**
 * migrc_defer_pte() - decide what happens to one cleared PTE
 * @batch: the round's open batch
 * @state: the enum migrc_folio_state of the folio being unmapped
 * @mm: the mm the PTE belongs to
 * @vma: what its VMA allows (MIGRC_VMA_* flags)
 * @pteval: the PTE as it was before it was cleared, without a flush
 * @uaddr: the address it mapped
 *
 * A read-only entry of an eligible folio in a private VMA is recorded in
 * @batch: a CPU that still caches it can only read the old folio, which
 * the batch keeps unchanged until it retires.  A writable entry makes the
 * folio ineligible: it is flushed at the end of the unmap phase and freed
 * as in mainline, and so are the read-only entries already deferred for it
 * (migrc_batch_flush()).
 *
 * A read-only PTE of an anonymous folio proves nothing while @mm has a
 * TLB flush pending: the PTE may have been write-protected (mprotect(), a
 * NUMA hinting scan, fork()) by a thread that drops the PTE lock before
 * it flushes, and other CPUs may still write through their old writable
 * entries.  Such an entry counts as writable, unless its VMA has no
 * VM_WRITE and no mmap_lock writer is changing it (@vma without
 * MIGRC_VMA_MAY_WRITE).  A page-cache folio's cannot have been writable
 * (see migrc_flush_pending()).
 *
 * Context: under the PTE lock, right after the PTE was cleared.
 * Return: what the caller must do with the entry.
 */
enum migrc_pte migrc_defer_pte(struct migrc_batch *batch, u8 *state,
			       struct mm_struct *mm, unsigned int vma,
			       pte_t pteval, unsigned long uaddr)
{
	enum migrc_refusal why;

	if (*state == MIGRC_FOLIO_NO)
		return MIGRC_PTE_MAINLINE;
	if (!pte_accessible(mm, pteval))
		return MIGRC_PTE_NONE;
	if (pte_write(pteval))
		why = MIGRC_REFUSED_WRITABLE;
	else if (vma & MIGRC_VMA_SHARED)
		why = MIGRC_REFUSED_SHARED;
	else if (migrc_flush_pending(mm, vma, pteval))
		why = MIGRC_REFUSED_FLUSH_PENDING;
	else
		why = NR_MIGRC_REFUSALS;
	if (why != NR_MIGRC_REFUSALS) {
		this_cpu_inc(migrc_refusals[why]);
		if (*state == MIGRC_FOLIO_DEFERRED)
			migrc_batch_flush(batch);
		*state = MIGRC_FOLIO_NO;
		return MIGRC_PTE_MAINLINE;
	}
	migrc_batch_add_pte(batch, mm, uaddr);
	*state = MIGRC_FOLIO_DEFERRED;
	return MIGRC_PTE_DEFERRED;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_defer_pte);

static void migrc_note_mm_deferred(struct mm_struct *mm)
{
	/*
	 * Release: the PTE clear comes before the count, so a flush that
	 * read the count (acquire, migrc_mm_flush_begin()) covers the
	 * clear.  The flush points read it under the same PTE lock.
	 */
	atomic64_inc_return_release(&mm->migrc_deferred);
}

/**
 * migrc_batch_add_pte() - defer the flush of one cleared read-only PTE
 * @batch: the open batch
 * @mm: the mm the PTE belongs to
 * @uaddr: the user address it mapped
 *
 * Context: under the PTE lock, right after the PTE was cleared.
 */
void migrc_batch_add_pte(struct migrc_batch *batch, struct mm_struct *mm,
			 unsigned long uaddr)
{
	arch_migrc_add(&batch->arch, mm, uaddr);
	migrc_note_mm_deferred(mm);
	batch->nr_ptes++;
	batch->covered = false;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_batch_add_pte);

/**
 * migrc_batch_add_folio() - keep an old folio until its batch retires
 * @batch: the open batch whose PTEs mapped @folio
 * @folio: the old folio; the caller's reference passes to @batch
 *
 * @folio must be unmapped, off the LRU, unlocked and without ->mapping.
 * If the round's unmap flush took the batch along, the folio is freed at
 * once, as mainline frees it.
 *
 * Context: process context, no locks needed (@batch is the caller's).
 * Return: true if @batch keeps @folio, false if it was freed.
 */
bool migrc_batch_add_folio(struct migrc_batch *batch, struct folio *folio)
{
	long nr = folio_nr_pages(folio);

	VM_WARN_ON_ONCE_FOLIO(folio_mapped(folio), folio);
	VM_WARN_ON_ONCE_FOLIO(folio_test_lru(folio), folio);

	if (batch->covered) {
		/* No CPU caches a translation to it any more: free it now. */
		migrc_stat_inc(MIGRC_STAT_UNMAP_FLUSHED);
		folio_put(folio);
		return false;
	}

	if (batch->nr_pages + nr > batch->reserved) {
		/*
		 * The caller promised at most batch->reserved pages.  Keep
		 * the folio correct the slow way: flush what the batch may
		 * cache, then free it now.
		 */
		migrc_fail("batch overflows its reservation");
		migrc_arch_flush(&batch->arch);
		folio_put(folio);
		return false;
	}

	list_add_tail(&folio->lru, &batch->folios);
	batch->nr_pages += nr;
	node_set(folio_nid(folio), batch->nodes);
	__set_bit(folio_zonenum(folio), &batch->zones);
	mod_zone_page_state(folio_zone(folio), NR_MIGRC_PENDING, nr);
	atomic_long_add(nr, &migrc_pending_pages);
	count_vm_events(MIGRC_DEFERRED, 1);
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_batch_add_folio);

/**
 * migrc_batch_seal() - end a migration round
 * @batch: the open batch, which the caller gives up
 *
 * A batch with folios gets the next generation and joins the pending list.
 * A batch without folios is dropped: the PTEs it recorded belong to folios
 * whose migration failed and which were mapped again, read-only, so their
 * stale translations still point at the right page.
 *
 * Context: process context, no locks held.
 */
void migrc_batch_seal(struct migrc_batch *batch)
{
	unsigned long unused = batch->reserved - batch->nr_pages;

	/* Each claim ends in its round (migrc_recycle_end()). */
	if (batch->nr_claimed)
		migrc_fail("a round ended with old folios still claimed");

	if (!batch->nr_pages) {
		atomic_long_sub(batch->reserved, &migrc_reserved);
		migrc_batch_free(batch);
		return;
	}

	/* From now on the batch holds exactly what it keeps. */
	atomic_long_sub(unused, &migrc_reserved);
	batch->reserved = batch->nr_pages;
	migrc_links_publish(batch);

	spin_lock(&migrc_lock);
	/*
	 * Fully ordered: the PTE clears recorded in @batch happen before the
	 * new generation can be read.  Pairs with migrc_read_gen().  Taken
	 * under migrc_lock so that the list stays in generation order.
	 */
	batch->gen = atomic64_inc_return(&migrc_gen);
	batch->sealed_at = jiffies;
	list_add_tail(&batch->node, &migrc_pending);
	WRITE_ONCE(migrc_nr_batches, migrc_nr_batches + 1);
	spin_unlock(&migrc_lock);

	migrc_stat_inc(MIGRC_STAT_SEALED);

	/* Switched off while this round ran: it must not linger. */
	if (!migrc_enabled()) {
		migrc_retire_all(MIGRC_CAUSE_DRAIN);
		return;
	}

	if (atomic_long_read(&migrc_reserved) > migrc_cap_high())
		schedule_work(&migrc_cap_work);

	/* No-op if already queued: it re-arms itself while work remains. */
	queue_delayed_work(system_unbound_wq, &migrc_age_work,
			   msecs_to_jiffies(READ_ONCE(migrc_max_age_ms)));
}
EXPORT_SYMBOL_IF_KUNIT(migrc_batch_seal);

/**
 * __migrc_mm_flush_done() - slow path of migrc_mm_flush_done()
 * @mm: the mm that was flushed on every CPU
 * @seq: @mm->migrc_deferred as read before the flush started
 * @point: the flush point, for the statistics
 *
 * Context: any.
 */
void __migrc_mm_flush_done(struct mm_struct *mm, u64 seq,
			   enum migrc_flush_point point)
{
	s64 cur = atomic64_read(&mm->migrc_flushed);

	count_vm_event(MIGRC_MM_FLUSH);
	migrc_stat_inc(MIGRC_STAT_FP_FIRST + point);

	/*
	 * Publish "flushed up to @seq" unless a concurrent flush published
	 * a newer count: the count never goes back.  It is advanced only
	 * after the flush completed, so a concurrent caller that still sees
	 * pending flushes too rather than trusting an unfinished flush.
	 */
	while (cur < (s64)seq &&
	       !atomic64_try_cmpxchg(&mm->migrc_flushed, &cur, seq))
		;
}
EXPORT_SYMBOL_IF_KUNIT(__migrc_mm_flush_done);

/**
 * __migrc_flush_mm() - slow path of migrc_flush_mm()
 * @mm: the mm
 * @point: the flush point, for the statistics
 *
 * Context: process context with interrupts enabled; may hold the PTE lock.
 */
void __migrc_flush_mm(struct mm_struct *mm, enum migrc_flush_point point)
{
	u64 seq = migrc_mm_flush_begin(mm);

	if ((point == MIGRC_FP_WRITE_FAULT &&
	     migrc_hook_disabled(MIGRC_HOOK_WRITE_FAULT)) ||
	    (point == MIGRC_FP_GUP_WRITE &&
	     migrc_hook_disabled(MIGRC_HOOK_GUP_WRITE)))
		return;
	migrc_arch_flush_mm(mm);
	migrc_mm_flush_done(mm, seq, point);
}
EXPORT_SYMBOL_IF_KUNIT(__migrc_flush_mm);
