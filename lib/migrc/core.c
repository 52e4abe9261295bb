// SPDX-License-Identifier: GPL-2.0
/*
 * migrc core: pending batches, generations, retirement, accounting.
 *
 * The invariant.  A pending batch B holds old folios F, the arch state A
 * describing which CPUs/ASIDs may still cache translations to them, and
 * the generation g at which B was sealed.  Until B is retired:
 *
 *  (I1) every folio of F stays allocated, off the LRU and the allocator's
 *       lists, with unchanged content (nothing else holds a reference
 *       that could write it: migration held the last one);
 *  (I2) every address that mapped a folio of F maps, if anything, a folio
 *       with the same content through a read-only PTE; any path that
 *       would make it writable or point it elsewhere without flushing on
 *       every CPU first calls migrc_flush_mm() for its mm.
 *
 * B is retired only after every CPU in A has invalidated those
 * translations at or after g, by arch_migrc_flush() or by a flush that
 * happened for another reason (arch_migrc_trim()).  Retiring B frees F.
 *
 * Generations.  migrc_gen is a 64-bit counter, incremented under
 * migrc_lock when a batch is sealed, so the pending list is in generation
 * order.  A backend that has just invalidated every translation a CPU may
 * cache reports it with migrc_note_cpu_clean(g), where g was read with
 * migrc_read_gen() *before* the invalidation started: every batch sealed
 * at or before g had its PTEs cleared before g was read, so the
 * invalidation covers it.  Generations are compared with
 * migrc_gen_before(), a signed difference, which stays right across the
 * wrap of the counter as long as no batch stays pending for 2^63 seals.
 *
 * Two things are deliberately separate:
 *
 *  - keeping an mm correct: each deferred unmap bumps mm->migrc_seq, and
 *    the flush points flush that one mm (migrc_flush_mm()) before a PTE
 *    can become writable.  This covers batches still open in another
 *    task, which the pending list cannot see yet;
 *  - freeing memory: retirement flushes the union of the retired batches'
 *    arch state once and frees their folios.
 *
 * Locking.  migrc_lock (a spinlock) protects the pending list and the
 * list-related counters; it is never held across a flush.  migrc_retire_mutex
 * serialises retirement, so that a caller that returns from a retirement
 * has seen its memory freed even when another task had detached the
 * batches first.  Retirement never runs in atomic context.
 */

#define pr_fmt(fmt) "migrc: " fmt

#include <kunit/static_stub.h>
#include <linux/atomic.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/jiffies.h>
#include <linux/kstrtox.h>
#include <linux/memblock.h>
#include <linux/memory.h>
#include <linux/migrate_mode.h>
#include <linux/migrc.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/suspend.h>
#include <linux/sysctl.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>
#include <asm/tlbflush.h>

#include "migrc.h"

/* May be overridden by <asm/migrc.h>. */
#ifndef arch_migrc_flush_mm
#define arch_migrc_flush_mm(mm)	flush_tlb_mm(mm)
#endif

static_assert(MIGRC_RETIRE_PRESSURE + MIGRC_CAUSE_PRESSURE == MIGRC_RETIRE_PRESSURE);
static_assert(MIGRC_RETIRE_PRESSURE + MIGRC_CAUSE_AGE == MIGRC_RETIRE_AGE);
static_assert(MIGRC_RETIRE_PRESSURE + MIGRC_CAUSE_CAP == MIGRC_RETIRE_CAP);
static_assert(MIGRC_RETIRE_PRESSURE + MIGRC_CAUSE_DRAIN == MIGRC_RETIRE_DRAIN);

DEFINE_STATIC_KEY_TRUE(migrc_enabled_key);
EXPORT_SYMBOL_IF_KUNIT(migrc_enabled_key);

/* Tunables; see the sysctl table for their ranges. */
unsigned long migrc_max_pending_pages __read_mostly;
unsigned int migrc_max_age_ms __read_mostly = MIGRC_DEFAULT_AGE_MS;
static bool migrc_boot_enabled __initdata = true;

static DEFINE_SPINLOCK(migrc_lock);
static LIST_HEAD(migrc_pending);		/* sealed batches, oldest first */
/*
 * Batches on migrc_pending.  Written under migrc_lock with WRITE_ONCE(),
 * read locklessly with READ_ONCE() only as a hint to skip taking the
 * locks when nothing is pending; a stale zero only delays a retirement to
 * the next caller (the age worker guarantees one).
 */
static unsigned long migrc_nr_batches;
static DEFINE_MUTEX(migrc_retire_mutex);
/* Serialises switching on and off, and the static key with it. */
static DEFINE_MUTEX(migrc_control_mutex);

static atomic64_t migrc_gen = ATOMIC64_INIT(0);

/*
 * Pages held by pending batches, and that plus what open batches have
 * reserved.  migrc_reserved never exceeds migrc_max_pending_pages, so
 * neither does migrc_pending_pages.
 */
static atomic_long_t migrc_pending_pages = ATOMIC_LONG_INIT(0);
static atomic_long_t migrc_reserved = ATOMIC_LONG_INIT(0);

/*
 * The newest generation each CPU's TLB is known to be clean of.  Written
 * by the CPU itself (migrc_note_cpu_clean()), read by whoever trims.
 */
static DEFINE_PER_CPU(u64, migrc_clean_gen);

struct migrc_stats migrc_stats;

static struct kmem_cache *migrc_batch_cache;

static void migrc_age_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(migrc_age_work, migrc_age_fn);
static void migrc_cap_fn(struct work_struct *work);
static DECLARE_WORK(migrc_cap_work, migrc_cap_fn);
static void migrc_fail_fn(struct work_struct *work);
static DECLARE_WORK(migrc_fail_work, migrc_fail_fn);

/*
 * Set once an impossible state was seen; see migrc_fail().  A plain flag
 * read with READ_ONCE() by migrc_batch_open(): a round that misses it
 * still defers correctly, and the work item switches migrc off for good.
 */
static bool migrc_failed;

static void migrc_stat_inc(enum migrc_stat item)
{
	atomic_long_inc(&migrc_stats.counter[item]);
}

static void migrc_stat_add(enum migrc_stat item, long nr)
{
	atomic_long_add(nr, &migrc_stats.counter[item]);
}

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

/**
 * migrc_read_gen() - the newest sealed generation
 *
 * For backends: read it before an invalidation starts, and report it with
 * migrc_note_cpu_clean() once the invalidation is done.
 *
 * Context: any.
 * Return: the generation of the most recently sealed batch.
 */
u64 migrc_read_gen(void)
{
	/*
	 * Pairs with the atomic64_inc_return() in migrc_batch_seal(): seeing
	 * its generation means the sealed batch's PTE clears are visible,
	 * so the invalidation that follows covers them.
	 */
	return atomic64_read_acquire(&migrc_gen);
}

/**
 * migrc_note_cpu_clean() - this CPU invalidated every cached translation
 * @gen: migrc_read_gen() as read before the invalidation started
 *
 * Context: preemption disabled, on the CPU whose TLB was invalidated.
 */
void migrc_note_cpu_clean(u64 gen)
{
	u64 *clean = this_cpu_ptr(&migrc_clean_gen);

	/* Only ever move forward: a late, older report must not regress. */
	if (migrc_gen_before(READ_ONCE(*clean), gen))
		/* Pairs with the READ_ONCE() in migrc_cpu_clean_since(). */
		WRITE_ONCE(*clean, gen);
}

/**
 * migrc_note_online_cpus_clean() - every online CPU invalidated everything
 * @gen: migrc_read_gen() as read before the invalidation started
 *
 * For an invalidation of all translations on every online CPU that has
 * completed when its caller gets control back (riscv's flush_tlb_all(),
 * by SBI remote fence or IPIs).  A CPU that came online after the
 * invalidation was sent ran no user mm before @gen was read, and flushed
 * its TLB while coming up.  A CPU's own report racing with this one may
 * leave the older of the two, which only makes the trim keep the CPU.
 *
 * Context: any.
 */
void migrc_note_online_cpus_clean(u64 gen)
{
	int cpu;

	for_each_online_cpu(cpu) {
		u64 *clean = per_cpu_ptr(&migrc_clean_gen, cpu);

		if (migrc_gen_before(READ_ONCE(*clean), gen))
			WRITE_ONCE(*clean, gen);
	}
}

/* Out of line so that the tests can feed the trim any per-CPU state. */
VISIBLE_IF_KUNIT noinline u64 migrc_cpu_clean_gen(int cpu)
{
	KUNIT_STATIC_STUB_REDIRECT(migrc_cpu_clean_gen, cpu);
	/*
	 * Pairs with the WRITE_ONCE() in migrc_note_cpu_clean().  A stale
	 * (older) value only makes the trim keep the CPU, which is safe.
	 */
	return READ_ONCE(per_cpu(migrc_clean_gen, cpu));
}
EXPORT_SYMBOL_IF_KUNIT(migrc_cpu_clean_gen);

/**
 * migrc_cpu_clean_since() - has @cpu invalidated everything since @gen?
 * @cpu: the CPU
 * @gen: the generation of a sealed batch
 *
 * Context: any.
 * Return: true if @cpu reported a full invalidation that covers batches
 * sealed at @gen.
 */
bool migrc_cpu_clean_since(int cpu, u64 gen)
{
	return migrc_gen_after_eq(migrc_cpu_clean_gen(cpu), gen);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_cpu_clean_since);

/**
 * migrc_trim_cpumask() - drop CPUs that were invalidated since @gen
 * @mask: CPUs that may hold stale translations
 * @gen: the generation at which they were recorded (sealed)
 *
 * The trim for cpumask backends.
 *
 * Context: any.
 * Return: true if @mask is empty afterwards.
 */
bool migrc_trim_cpumask(struct cpumask *mask, u64 gen)
{
	int cpu;

	for_each_cpu(cpu, mask)
		if (migrc_cpu_clean_since(cpu, gen))
			cpumask_clear_cpu(cpu, mask);
	return cpumask_empty(mask);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_trim_cpumask);

/**
 * migrc_all_cpus_clean_since() - has every CPU invalidated since @gen?
 * @gen: the generation of a sealed batch
 *
 * The trim for backends that invalidate by broadcast and so do not know
 * which CPUs cache a translation.  Offline CPUs count too: a CPU coming
 * online must not find a stale entry, and none reports until it does.
 *
 * Context: any.
 * Return: true if every possible CPU reported a full invalidation that
 * covers batches sealed at @gen.
 */
bool migrc_all_cpus_clean_since(u64 gen)
{
	int cpu;

	for_each_possible_cpu(cpu)
		if (!migrc_cpu_clean_since(cpu, gen))
			return false;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_all_cpus_clean_since);

/**
 * migrc_remote_cpus() - CPUs in @mask other than this one
 * @mask: the CPUs an invalidation targets
 *
 * Context: any.
 * Return: how many remote CPUs the invalidation interrupts.
 */
unsigned int migrc_remote_cpus(const struct cpumask *mask)
{
	unsigned int n;
	int cpu = get_cpu();

	n = cpumask_weight(mask) - cpumask_test_cpu(cpu, mask);
	put_cpu();
	return n;
}

/**
 * migrc_count_flush() - account one invalidation sent by a backend
 * @rounds: remote invalidation rounds (IPI rounds, SBI calls, broadcast
 *	TLBI instructions)
 * @cpus: CPUs those rounds targeted (0 where the hardware broadcasts)
 *
 * Context: any.
 */
void migrc_count_flush(unsigned int rounds, unsigned int cpus)
{
	count_vm_events(MIGRC_FLUSH_ROUNDS, rounds);
	count_vm_events(MIGRC_FLUSH_CPUS, cpus);
}

/**
 * migrc_count_tlbbatch() - account an invalidation of the batched unmap flush
 * @rounds: remote invalidation rounds, in migrc_count_flush()'s units
 * @cpus: CPUs they targeted
 *
 * Context: any.
 */
void migrc_count_tlbbatch(unsigned int rounds, unsigned int cpus)
{
	count_vm_events(TLBBATCH_FLUSH_ROUNDS, rounds);
	count_vm_events(TLBBATCH_FLUSH_CPUS, cpus);
}

/*
 * The backend calls, out of line so that the tests can intercept them
 * with static stubs.
 */
VISIBLE_IF_KUNIT noinline bool migrc_arch_trim(struct migrc_batch *batch)
{
	KUNIT_STATIC_STUB_REDIRECT(migrc_arch_trim, batch);
	return arch_migrc_trim(&batch->arch, batch->gen);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_arch_trim);

VISIBLE_IF_KUNIT noinline void migrc_arch_flush(struct arch_migrc_batch *arch)
{
	KUNIT_STATIC_STUB_REDIRECT(migrc_arch_flush, arch);
	arch_migrc_flush(arch);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_arch_flush);

VISIBLE_IF_KUNIT noinline void migrc_arch_flush_mm(struct mm_struct *mm)
{
	KUNIT_STATIC_STUB_REDIRECT(migrc_arch_flush_mm, mm);
	arch_migrc_flush_mm(mm);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_arch_flush_mm);

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

/* Three quarters of vm.migrc_max_pending_pages: where the cap work starts. */
static long migrc_cap_high(void)
{
	unsigned long cap = READ_ONCE(migrc_max_pending_pages);

	return cap - cap / 4;
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
	struct migrc_batch *batch;

	if (!migrc_enabled() || READ_ONCE(migrc_failed) || !max_pages)
		return NULL;

	if (atomic_long_add_return(max_pages, &migrc_reserved) >
	    READ_ONCE(migrc_max_pending_pages)) {
		atomic_long_sub(max_pages, &migrc_reserved);
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
	return batch;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_batch_open);

/**
 * migrc_batch_flush() - invalidate what an open batch recorded, now
 * @batch: the open batch
 *
 * For a folio found to have a writable mapping after some of its
 * read-only entries were deferred: it will be freed the mainline way, so
 * what was deferred must go now.  Flushes everything @batch recorded so
 * far, which also makes its other folios safe early.
 *
 * Context: process context with interrupts enabled; may hold the PTE lock.
 */
void migrc_batch_flush(struct migrc_batch *batch)
{
	if (migrc_hook_disabled(MIGRC_HOOK_INELIGIBLE))
		return;
	migrc_arch_flush(&batch->arch);
	migrc_debug_forget(batch);
	migrc_stat_inc(MIGRC_STAT_INELIGIBLE_FLUSH);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_batch_flush);

/*
 * Under the PTE lock: the lock orders this read after the increment done
 * before the PTE was changed (see inc_tlb_flush_pending()).
 */
static bool migrc_flush_pending(struct mm_struct *mm)
{
	return mm_tlb_flush_pending(mm) &&
	       !migrc_hook_disabled(MIGRC_HOOK_FLUSH_PENDING);
}

/**
 * migrc_defer_pte() - decide what happens to one cleared PTE
 * @batch: the round's open batch
 * @state: the enum migrc_folio_state of the folio being unmapped
 * @mm: the mm the PTE belongs to
 * @shared_vma: whether its VMA is VM_SHARED
 * @pteval: the PTE as it was before it was cleared, without a flush
 * @uaddr: the address it mapped
 *
 * A read-only entry of an eligible folio in a private VMA is recorded in
 * @batch: a CPU that still caches it can only read the old folio, which
 * the batch keeps unchanged until it retires.  A writable entry makes the
 * folio ineligible: it is flushed at the end of the unmap phase and freed
 * as in mainline, so the read-only entries already deferred for it are
 * flushed now.
 *
 * A read-only PTE proves nothing while @mm has a TLB flush pending: the
 * PTE may have been write-protected (mprotect(), a NUMA hinting scan,
 * fork()) by a thread that drops the PTE lock before it flushes, and
 * other CPUs may still write through their old writable entries.  Such
 * an entry counts as writable.
 *
 * Context: under the PTE lock, right after the PTE was cleared.
 * Return: what the caller must do with the entry.
 */
enum migrc_pte migrc_defer_pte(struct migrc_batch *batch, u8 *state,
			       struct mm_struct *mm, bool shared_vma,
			       pte_t pteval, unsigned long uaddr)
{
	if (*state == MIGRC_FOLIO_NO)
		return MIGRC_PTE_MAINLINE;
	if (!pte_accessible(mm, pteval))
		return MIGRC_PTE_NONE;
	if (pte_write(pteval) || shared_vma || migrc_flush_pending(mm)) {
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
	s64 seq = atomic64_read(&mm->migrc_seq);
	s64 new;

	/*
	 * Advance the "deferred" half, leaving the "flushed" half alone.
	 * The fully ordered cmpxchg orders the PTE clear before the bump;
	 * pairs with the atomic64_read() in migrc_mm_pending(), done under
	 * the same PTE lock by the flush points.
	 */
	do {
		new = (seq & ~(s64)U32_MAX) | (u32)(lower_32_bits(seq) + 1);
	} while (!atomic64_try_cmpxchg(&mm->migrc_seq, &seq, new));
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
}
EXPORT_SYMBOL_IF_KUNIT(migrc_batch_add_pte);

/**
 * migrc_batch_add_folio() - keep an old folio until its batch retires
 * @batch: the open batch whose PTEs mapped @folio
 * @folio: the old folio; the caller's reference passes to @batch
 *
 * @folio must be unmapped, off the LRU, unlocked and without ->mapping.
 *
 * Context: process context, no locks needed (@batch is the caller's).
 */
void migrc_batch_add_folio(struct migrc_batch *batch, struct folio *folio)
{
	long nr = folio_nr_pages(folio);

	VM_WARN_ON_ONCE_FOLIO(folio_mapped(folio), folio);
	VM_WARN_ON_ONCE_FOLIO(folio_test_lru(folio), folio);

	if (batch->nr_pages + nr > batch->reserved) {
		/*
		 * The caller promised at most batch->reserved pages.  Keep
		 * the folio correct the slow way: flush what the batch may
		 * cache, then free it now.
		 */
		migrc_fail("batch overflows its reservation");
		migrc_arch_flush(&batch->arch);
		folio_put(folio);
		return;
	}

	list_add_tail(&folio->lru, &batch->folios);
	batch->nr_pages += nr;
	node_set(folio_nid(folio), batch->nodes);
	__set_bit(folio_zonenum(folio), &batch->zones);
	mod_zone_page_state(folio_zone(folio), NR_MIGRC_PENDING, nr);
	atomic_long_add(nr, &migrc_pending_pages);
	count_vm_events(MIGRC_DEFERRED, 1);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_batch_add_folio);

static void migrc_batch_free(struct migrc_batch *batch)
{
	migrc_debug_forget(batch);
	kmem_cache_free(migrc_batch_cache, batch);
}

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

	if (!batch->nr_pages) {
		atomic_long_sub(batch->reserved, &migrc_reserved);
		migrc_batch_free(batch);
		return;
	}

	/* From now on the batch holds exactly what it keeps. */
	atomic_long_sub(unused, &migrc_reserved);
	batch->reserved = batch->nr_pages;

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

VISIBLE_IF_KUNIT bool migrc_batch_in_nodes(struct migrc_batch *batch,
					   const nodemask_t *nodes,
					   int highest_zoneidx)
{
	if (!nodes_intersects(batch->nodes, *nodes))
		return false;
	return batch->zones & GENMASK(highest_zoneidx, 0);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_batch_in_nodes);

/*
 * Retire the batches on @victims (detached from the pending list): trim
 * each against what was already invalidated, flush the union of what is
 * left once, then free every folio.  Returns the pages freed.
 */
static unsigned long migrc_retire_list(struct list_head *victims,
				       enum migrc_cause cause)
{
	struct arch_migrc_batch all;
	struct migrc_batch *batch, *next;
	unsigned long pages = 0, batches = 0, trimmed = 0;
	bool need_flush = false;

	lockdep_assert_held(&migrc_retire_mutex);

	arch_migrc_batch_init(&all);
	list_for_each_entry(batch, victims, node) {
		batches++;
		if (migrc_arch_trim(batch)) {
			trimmed++;
			continue;
		}
		arch_migrc_fold(&all, &batch->arch);
		need_flush = true;
	}
	/* One invalidation for all of them: no CPU is interrupted twice. */
	if (need_flush)
		migrc_arch_flush(&all);

	/* Free on one CPU, so that the drain below finds them. */
	migrate_disable();
	list_for_each_entry(batch, victims, node) {
		struct folio *folio, *tmp;

		list_for_each_entry_safe(folio, tmp, &batch->folios, lru) {
			long nr = folio_nr_pages(folio);

			list_del(&folio->lru);
			mod_zone_page_state(folio_zone(folio), NR_MIGRC_PENDING, -nr);
			if (migrc_debug_check_folio(folio))
				folio_put(folio);
			pages += nr;
		}
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
	count_vm_events(MIGRC_RETIRE_TRIMMED, trimmed);
	migrc_stat_add(MIGRC_STAT_FREED_PAGES, pages);
	migrc_stat_add(MIGRC_STAT_RETIRED, batches);
	migrc_stat_add(MIGRC_STAT_FLUSH_AVOIDED,
		       batches - (need_flush ? 1 : 0));
	return pages;
}

typedef bool (*migrc_select_t)(struct migrc_batch *batch, void *arg);

/*
 * Detach the pending batches @select picks, oldest first, and retire
 * them.  @select may stop the walk by returning false once it has what it
 * needs; see migrc_select_*().
 */
static unsigned long migrc_retire(migrc_select_t select, void *arg,
				  enum migrc_cause cause)
{
	struct migrc_batch *batch, *next;
	unsigned long pages;
	LIST_HEAD(victims);

	might_sleep();
	mutex_lock(&migrc_retire_mutex);
	spin_lock(&migrc_lock);
	list_for_each_entry_safe(batch, next, &migrc_pending, node) {
		if (!select(batch, arg))
			continue;
		list_move_tail(&batch->node, &victims);
		WRITE_ONCE(migrc_nr_batches, migrc_nr_batches - 1);
	}
	spin_unlock(&migrc_lock);
	pages = list_empty(&victims) ? 0 : migrc_retire_list(&victims, cause);
	mutex_unlock(&migrc_retire_mutex);
	return pages;
}

static bool migrc_select_all(struct migrc_batch *batch, void *arg)
{
	return true;
}

/**
 * migrc_retire_all() - retire every pending batch
 * @cause: why, for the statistics
 *
 * Context: process context, may sleep.
 * Return: the number of pages freed.
 */
unsigned long migrc_retire_all(enum migrc_cause cause)
{
	if (!READ_ONCE(migrc_nr_batches))
		return 0;
	return migrc_retire(migrc_select_all, NULL, cause);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_retire_all);

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
 * Context: process context, may sleep.
 * Return: the number of pages freed.
 */
unsigned long migrc_retire_nodes(const nodemask_t *nodes, int highest_zoneidx,
				 unsigned int order)
{
	struct migrc_nodes_arg arg = {
		.nodes = nodes ? nodes : &node_states[N_MEMORY],
		.highest_zoneidx = highest_zoneidx,
	};

	if (!READ_ONCE(migrc_nr_batches) || migrc_hook_disabled(MIGRC_HOOK_PRESSURE))
		return 0;
	if (order)
		return migrc_retire(migrc_select_all, NULL, MIGRC_CAUSE_PRESSURE);
	return migrc_retire(migrc_select_nodes, &arg, MIGRC_CAUSE_PRESSURE);
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

/*
 * Past three quarters of the cap, retire every sealed batch.  One flush
 * covers them all, so keeping the younger ones would only buy another
 * flush soon after; and starting before the cap is reached keeps rounds
 * from being refused there, each of which flushes the mainline way.
 */
unsigned long migrc_retire_over_cap(void)
{
	if (atomic_long_read(&migrc_reserved) <= migrc_cap_high())
		return 0;
	return migrc_retire_all(MIGRC_CAUSE_CAP);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_retire_over_cap);

static void migrc_cap_fn(struct work_struct *work)
{
	migrc_retire_over_cap();
}

/**
 * __migrc_mm_flush_done() - slow path of migrc_mm_flush_done()
 * @mm: the mm that was flushed on every CPU
 * @seq: @mm->migrc_seq as read before the flush started
 * @point: the flush point, for the statistics
 *
 * Context: any.
 */
void __migrc_mm_flush_done(struct mm_struct *mm, u64 seq,
			   enum migrc_flush_point point)
{
	u32 deferred = lower_32_bits(seq);
	s64 cur = atomic64_read(&mm->migrc_seq);
	s64 new;

	count_vm_event(MIGRC_MM_FLUSH);
	migrc_stat_inc(MIGRC_STAT_FP_FIRST + point);

	/*
	 * Publish "flushed up to @deferred" unless a concurrent flush
	 * published a newer count.  The "flushed" half is advanced only
	 * after the flush completed, so a concurrent caller that still sees
	 * pending flushes too rather than trusting an unfinished flush.
	 */
	do {
		if ((s32)(upper_32_bits(cur) - deferred) >= 0)
			break;
		new = ((s64)deferred << 32) | lower_32_bits(cur);
	} while (!atomic64_try_cmpxchg(&mm->migrc_seq, &cur, new));
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

/*
 * Debug kernels can switch hooks off, one bit per enum migrc_hook, to show
 * that a test fails without them.  Never in production: the variable is
 * only consulted when CONFIG_MIGRC_DEBUG is set.
 */
unsigned long migrc_debug_disabled_hooks;
EXPORT_SYMBOL_IF_KUNIT(migrc_debug_disabled_hooks);

VISIBLE_IF_KUNIT int migrc_parse_hooks(const char *arg, unsigned long *mask)
{
	unsigned long v;

	if (!arg || kstrtoul(arg, 0, &v) || v >= BIT(NR_MIGRC_HOOKS))
		return -EINVAL;
	*mask = v;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_parse_hooks);

static int __init migrc_setup_hooks(char *arg)
{
	unsigned long mask;

	if (!IS_ENABLED(CONFIG_MIGRC_DEBUG) || migrc_parse_hooks(arg, &mask)) {
		pr_warn("ignoring migrc_disable_hooks=%s\n", arg ?: "");
		return -EINVAL;
	}
	migrc_debug_disabled_hooks = mask;
	pr_warn("debug: hooks 0x%lx disabled\n", mask);
	return 0;
}
early_param("migrc_disable_hooks", migrc_setup_hooks);

/* Boot parameter: migrc=on|off (or 1|0), nothing else. */
VISIBLE_IF_KUNIT int migrc_parse_boot(const char *arg, bool *on)
{
	if (!arg)
		return -EINVAL;
	if (!strcmp(arg, "on") || !strcmp(arg, "1")) {
		*on = true;
		return 0;
	}
	if (!strcmp(arg, "off") || !strcmp(arg, "0")) {
		*on = false;
		return 0;
	}
	return -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_parse_boot);

static int __init migrc_setup(char *arg)
{
	bool on;
	int ret = migrc_parse_boot(arg, &on);

	if (ret) {
		pr_warn("ignoring invalid migrc=%s (use on or off)\n", arg ?: "");
		return ret;
	}
	migrc_boot_enabled = on;
	return 0;
}
early_param("migrc", migrc_setup);

/*
 * The default cap: 1/64 of memory (at least one full batch of 512 pages),
 * so a machine that migrates continuously keeps at most about 1.5% of its
 * memory in pending old copies.
 */
VISIBLE_IF_KUNIT unsigned long migrc_default_max_pending(unsigned long totalram)
{
	return max(totalram / 64, MIGRC_MIN_CAP);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_default_max_pending);

/*
 * A CPU going away, memory going away, suspend and hibernation: retire
 * everything first.  An offline CPU cannot read through a stale entry and
 * comes back with its TLB invalidated, but pending folios must not pin
 * memory that is being offlined, and a hibernation image should not carry
 * them.
 */
static int migrc_cpu_offline(unsigned int cpu)
{
	if (!migrc_hook_disabled(MIGRC_HOOK_OFFLINE))
		migrc_retire_all(MIGRC_CAUSE_DRAIN);
	return 0;
}

VISIBLE_IF_KUNIT int migrc_memory_callback(struct notifier_block *nb,
					   unsigned long action, void *arg)
{
	if (action == MEM_GOING_OFFLINE && !migrc_hook_disabled(MIGRC_HOOK_OFFLINE))
		migrc_retire_all(MIGRC_CAUSE_DRAIN);
	return NOTIFY_OK;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_memory_callback);

VISIBLE_IF_KUNIT int migrc_pm_callback(struct notifier_block *nb,
				       unsigned long action, void *arg)
{
	if ((action == PM_HIBERNATION_PREPARE || action == PM_SUSPEND_PREPARE) &&
	    !migrc_hook_disabled(MIGRC_HOOK_OFFLINE))
		migrc_retire_all(MIGRC_CAUSE_DRAIN);
	return NOTIFY_OK;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_pm_callback);

static struct notifier_block migrc_memory_nb = {
	.notifier_call = migrc_memory_callback,
};

static struct notifier_block migrc_pm_nb = {
	.notifier_call = migrc_pm_callback,
};

static int __init migrc_init(void)
{
	migrc_batch_cache = KMEM_CACHE(migrc_batch, SLAB_PANIC);
	WRITE_ONCE(migrc_max_pending_pages,
		   migrc_default_max_pending(totalram_pages()));
	migrc_sysctl_init();
	migrc_debugfs_init();
	register_memory_notifier(&migrc_memory_nb);
	register_pm_notifier(&migrc_pm_nb);
	if (cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "mm/migrc:online",
				      NULL, migrc_cpu_offline) < 0)
		pr_warn("no CPU hotplug callback: pending batches survive offline\n");
	if (!migrc_boot_enabled)
		static_branch_disable(&migrc_enabled_key);
	pr_info("%s backend, %s, at most %lu pages pending for %u ms\n",
		ARCH_MIGRC_NAME, migrc_enabled() ? "enabled" : "disabled",
		migrc_max_pending_pages, migrc_max_age_ms);
	return 0;
}
core_initcall(migrc_init);
