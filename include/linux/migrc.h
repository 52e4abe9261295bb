/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migrc: defer the TLB shootdown of page migrations that no CPU can write.
 *
 * When every PTE that mapped a folio was read-only at unmap time, a CPU that
 * still caches one of those translations can only read the old folio, whose
 * content equals the new one.  migrc keeps such old folios in pending
 * batches instead of flushing, and frees them when a flush has removed the
 * stale translations: its own, batched over many migrations, or one that
 * happened for another reason.  Paths that could make a stale translation
 * observable flush the mm first (migrc_flush_mm()).
 *
 * The invariant and the generation scheme are described at the top of
 * lib/migrc/core.c; the user documentation is Documentation/mm/migrc.rst.
 */
#ifndef _LINUX_MIGRC_H
#define _LINUX_MIGRC_H

#include <linux/bits.h>
#include <linux/nodemask.h>
#include <linux/types.h>

struct address_space;
struct folio;
struct mm_struct;

/**
 * migrc_gen_before() - compare two migrc generations
 * @a: a generation
 * @b: another generation
 *
 * Generations come from a 64-bit counter and are compared as a signed
 * difference, so the comparison stays right when the counter wraps, as
 * long as the two values are less than 2^63 apart.
 *
 * Context: any.
 * Return: true if @a is older than @b.
 */
static inline bool migrc_gen_before(u64 a, u64 b)
{
	return (s64)(a - b) < 0;
}

/**
 * migrc_gen_after_eq() - compare two migrc generations
 * @a: a generation
 * @b: another generation
 *
 * The wrap-safe negation of migrc_gen_before().
 *
 * Context: any.
 * Return: true if @a is @b or newer.
 */
static inline bool migrc_gen_after_eq(u64 a, u64 b)
{
	return !migrc_gen_before(a, b);
}

/**
 * enum migrc_cause - why pending batches were retired
 * @MIGRC_CAUSE_PRESSURE: an allocation or kswapd needed the memory
 * @MIGRC_CAUSE_AGE: the batch waited vm.migrc_max_age_ms
 * @MIGRC_CAUSE_CAP: pending pages reached vm.migrc_max_pending_pages
 * @MIGRC_CAUSE_DRAIN: everything had to go: migrc switched off, a CPU or
 *	memory going away, suspend, an explicit request
 * @NR_MIGRC_CAUSES: number of causes
 *
 * The order matches the MIGRC_RETIRE_* vm events.
 */
enum migrc_cause {
	MIGRC_CAUSE_PRESSURE,
	MIGRC_CAUSE_AGE,
	MIGRC_CAUSE_CAP,
	MIGRC_CAUSE_DRAIN,
	NR_MIGRC_CAUSES
};

/**
 * enum migrc_flush_point - paths that flush an mm with deferred unmaps
 * @MIGRC_FP_WRITE_FAULT: a write fault reuses a read-only page in place
 *	(do_wp_page())
 * @MIGRC_FP_GUP_WRITE: GUP writes a page through a read-only PTE
 *	(FOLL_FORCE: ptrace, /proc/pid/mem)
 * @MIGRC_FP_BATCHED: flush_tlb_batched_pending(), which zap (munmap,
 *	MADV_DONTNEED, exit), mremap, mprotect, uffd-wp, madvise and NUMA
 *	hinting already call before they change PTEs
 * @MIGRC_FP_OTHER: anything else (tests, explicit requests)
 * @NR_MIGRC_FLUSH_POINTS: number of flush points
 */
enum migrc_flush_point {
	MIGRC_FP_WRITE_FAULT,
	MIGRC_FP_GUP_WRITE,
	MIGRC_FP_BATCHED,
	MIGRC_FP_OTHER,
	NR_MIGRC_FLUSH_POINTS
};

/**
 * enum migrc_hook - what CONFIG_MIGRC_DEBUG can switch off, to show a test
 *	fails without it
 * @MIGRC_HOOK_WRITE_FAULT: the flush in do_wp_page()'s reuse path
 * @MIGRC_HOOK_GUP_WRITE: the flush in follow_page_pte() for FOLL_FORCE writes
 * @MIGRC_HOOK_BATCHED: deferral bumping mm->tlb_flush_batched, which makes
 *	flush_tlb_batched_pending() cover zap, mremap, mprotect and madvise
 * @MIGRC_HOOK_INELIGIBLE: flushing the read-only entries already deferred
 *	for a folio that turns out to have an entry migrc must not defer
 * @MIGRC_HOOK_PRESSURE: retirement by the allocator slow path and kswapd
 * @MIGRC_HOOK_OFFLINE: retirement before CPU or memory offline and suspend
 * @MIGRC_HOOK_FLUSH_PENDING: not trusting a read-only PTE of an mm with a
 *	TLB flush pending (mprotect, NUMA hinting, fork write-protect)
 * @MIGRC_HOOK_FILE_GATE: the flush of every CPU when an inode whose folios
 *	had their flush deferred gains a writer (get_write_access())
 * @MIGRC_HOOK_FILE_RECHECK: the migration's re-check for a writer after it
 *	marked the mapping, which catches a writer that came before the mark
 * @NR_MIGRC_HOOKS: number of hooks
 */
enum migrc_hook {
	MIGRC_HOOK_WRITE_FAULT,
	MIGRC_HOOK_GUP_WRITE,
	MIGRC_HOOK_BATCHED,
	MIGRC_HOOK_INELIGIBLE,
	MIGRC_HOOK_PRESSURE,
	MIGRC_HOOK_OFFLINE,
	MIGRC_HOOK_FLUSH_PENDING,
	MIGRC_HOOK_FILE_GATE,
	MIGRC_HOOK_FILE_RECHECK,
	NR_MIGRC_HOOKS
};

/**
 * enum migrc_folio_state - what the unmap of one folio did so far
 * @MIGRC_FOLIO_NO: not eligible, or no batch: every entry goes to tlb_ubc
 * @MIGRC_FOLIO_MAYBE: eligible, nothing deferred yet
 * @MIGRC_FOLIO_DEFERRED: read-only entries deferred, none writable
 */
enum migrc_folio_state {
	MIGRC_FOLIO_NO,
	MIGRC_FOLIO_MAYBE,
	MIGRC_FOLIO_DEFERRED,
};

/*
 * What migrc_defer_pte() needs to know of an entry's VMA (mm/internal.h,
 * migrc_vma()): MIGRC_VMA_SHARED, it is VM_SHARED; MIGRC_VMA_MAY_WRITE, it
 * has VM_WRITE or an mmap_lock writer is changing it, so that a TLB flush
 * pending in its mm may still have writable entries of its PTEs to remove.
 */
#define MIGRC_VMA_SHARED	BIT(0)
#define MIGRC_VMA_MAY_WRITE	BIT(1)

/**
 * enum migrc_pte - what the caller of migrc_defer_pte() must do
 * @MIGRC_PTE_MAINLINE: flush the entry as usual (tlb_ubc)
 * @MIGRC_PTE_NONE: nothing: the entry was not accessible, so not cached
 * @MIGRC_PTE_DEFERRED: migrc deferred it; count it in tlb_flush_batched
 */
enum migrc_pte {
	MIGRC_PTE_MAINLINE,
	MIGRC_PTE_NONE,
	MIGRC_PTE_DEFERRED,
};

#ifdef CONFIG_MIGRC

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/pgtable.h>
#include <linux/wordpart.h>

/*
 * The arch contract.
 *
 * <asm/migrc.h> provides struct arch_migrc_batch, which describes what may
 * hold stale read-only translations (a cpumask on x86 and riscv, ASIDs on
 * arm64), and these hooks.  The core calls them; nothing else does.  The
 * core never runs two hooks on one batch at once: a batch is filled, and
 * may be flushed early, by the task that opened it; once sealed it is
 * trimmed, folded and flushed only under migrc_retire_mutex.
 *
 * arch_migrc_batch_init(batch)
 *	Make @batch describe nothing.  Any context.
 *
 * arch_migrc_add(batch, mm, uaddr)
 *	Record that a read-only PTE of @mm at @uaddr was just cleared and its
 *	translation may still be cached.  Called under the PTE lock, after
 *	ptep_get_and_clear(); issues no CPU TLB invalidation (that is the
 *	point), but must invalidate secondary TLBs (IOMMU SVA) at once, and
 *	must provide whatever makes CPUs that later switch to @mm drop the
 *	translation (x86: bump the mm's tlb_gen).  Provides the barriers
 *	needed so that a later arch_migrc_flush() of @batch invalidates the
 *	translation on every CPU that may hold it.
 *
 * arch_migrc_fold(dst, src)
 *	Make @dst also describe everything @src describes.  Any context.
 *
 * arch_migrc_trim(batch, gen)
 *	Drop from @batch what has provably been invalidated since generation
 *	@gen (the generation at which @batch was sealed): CPUs that reported
 *	a full invalidation through migrc_note_cpu_clean() or
 *	migrc_note_online_cpus_clean() at or after @gen, and whatever the arch's
 *	own TLB bookkeeping proves flushed (x86: a CPU whose context for
 *	each recorded mm caught up with the mm's tlb_gen).  Return true if
 *	nothing is left to invalidate.  Must never drop a CPU or ASID that
 *	has not been invalidated since the PTEs were cleared.  Reads other
 *	CPUs' state without locks: a stale read may only keep more.  Process
 *	context.
 *
 * arch_migrc_flush(batch)
 *	Invalidate everything @batch describes, on every CPU, and return only
 *	when that is done; then make @batch describe nothing.  Counts what it
 *	sent with migrc_count_flush().  Process context with interrupts
 *	enabled (it may send IPIs); may be called with a spinlock held.
 *
 * arch_migrc_join_unmap_flush(ubc, batch) (optional; default false)
 *	Make the next arch_tlbbatch_flush() of @ubc, the current task's
 *	batched unmap flush, also invalidate everything @batch describes, and
 *	return true; @batch is left as it is.  Return false if the arch
 *	cannot: the core then calls arch_migrc_flush().  Sends nothing.
 *	Called under the PTE lock, or with a folio locked, before the unmap
 *	phase of a migration ends.
 *
 * arch_migrc_flush_mm(mm) (optional; default flush_tlb_mm())
 *	Invalidate every translation of @mm on every CPU that may hold one.
 *	Same context rules as arch_migrc_flush().
 *
 * arch_migrc_flush_all() (optional; default flush_tlb_all())
 *	Invalidate every user translation, of every mm and ASID, on every
 *	CPU, and return only when that is done; count it with
 *	migrc_count_flush().  The core then reports every online CPU clean.
 *	Process context with interrupts enabled, no spinlock held.
 *
 * arch_migrc_count_tlbbatch_add(), arch_migrc_count_tlbbatch_flush(batch)
 *	Count what the mainline batched unmap flush sends, with the
 *	TLBBATCH_FLUSH_* vm events, in the units arch_migrc_flush() counts
 *	its own: a benchmark compares the two.
 *
 * <asm/migrc.h> must define ARCH_MIGRC_NAME, the backend's name.  It may
 * override arch_migrc_join_unmap_flush, arch_migrc_flush_mm and
 * arch_migrc_flush_all.
 */

/*
 * For the arch backends and the arch TLB code; see lib/migrc/core.c.  A
 * full invalidation for another reason (ASID rollover, a global flush)
 * reads migrc_read_gen() before it starts and reports it after it ends.
 */
u64 migrc_read_gen(void);
void migrc_note_cpu_clean(u64 gen);
void migrc_note_online_cpus_clean(u64 gen);
bool migrc_cpu_clean_since(int cpu, u64 gen);
bool migrc_trim_cpumask(struct cpumask *mask, u64 gen);
bool migrc_all_cpus_clean_since(u64 gen);
unsigned int migrc_remote_cpus(const struct cpumask *mask);
void migrc_count_flush(unsigned int rounds, unsigned int cpus);
void migrc_count_tlbbatch(unsigned int rounds, unsigned int cpus);

#include <asm/migrc.h>

/* The most zones a batch records exactly before it says "any zone". */
#define MIGRC_BATCH_ZONES	4

/**
 * struct migrc_batch - the old folios of one migrate_pages_batch() round
 * @node: entry in the pending list, under migrc_lock
 * @folios: the old folios, linked through folio->lru
 * @arch: what may hold stale translations to @folios
 * @gen: generation at which the batch was sealed
 * @sealed_at: jiffies when the batch was sealed, for retirement by age
 * @reserved: pages reserved against the cap when the batch was opened
 * @nr_pages: pages held in @folios
 * @nodes: nodes whose memory @folios hold
 * @zones: zone indexes (bit per enum zone_type) of those pages
 * @nr_ptes: PTEs recorded while open
 * @covered: the batched unmap flush of the round took every PTE recorded
 *	so far along (migrc_batch_unmap_flush()): nothing needs keeping
 * @away: sealed, but off the pending list for a retirement or a trim, so
 *	that no round may take its folios back (migrc_recycle_claim())
 * @nr_claimed: while open, old folios of older batches its round took
 *	back as destinations and has not yet used or returned
 *
 * A batch is opened (migrc_batch_open()) by the task that migrates, filled
 * by it alone while open, and sealed once (migrc_batch_seal()), after which
 * it is on the pending list and belongs to the core until it is retired.
 */
struct migrc_batch {
	struct list_head	node;
	struct list_head	folios;
	struct arch_migrc_batch	arch;
	u64			gen;
	unsigned long		sealed_at;
	unsigned long		reserved;
	unsigned long		nr_pages;
	nodemask_t		nodes;
	unsigned long		zones;
	unsigned long		nr_ptes;
	bool			covered;
	bool			away;
	unsigned int		nr_claimed;
};

DECLARE_STATIC_KEY_TRUE(migrc_enabled_key);
extern unsigned long migrc_debug_disabled_hooks;

/**
 * migrc_hook_disabled() - was @hook switched off for a necessity test?
 * @hook: the hook
 *
 * Only CONFIG_MIGRC_DEBUG kernels can switch hooks off (boot parameter
 * migrc_disable_hooks=, debugfs migrc/disable_hooks); elsewhere this is
 * a constant false and costs nothing.
 *
 * Context: any.
 * Return: true if @hook must not act.
 */
static inline bool migrc_hook_disabled(enum migrc_hook hook)
{
	/* A debug knob set at boot: no ordering needed. */
	return IS_ENABLED(CONFIG_MIGRC_DEBUG) &&
	       (READ_ONCE(migrc_debug_disabled_hooks) & BIT(hook));
}

/**
 * migrc_enabled() - may migrations defer their shootdown now?
 *
 * Context: any.
 * Return: false when migrc is switched off (boot parameter or sysctl).
 */
static inline bool migrc_enabled(void)
{
	return static_branch_likely(&migrc_enabled_key);
}

/**
 * migrc_reason_defers() - may a migration for @reason defer its flush?
 * @reason: an enum migrate_reason
 *
 * Reasons that need the source gone or stable at once do not defer:
 * compaction counts the freed sources, contiguous allocation and memory
 * offlining test that the range is free, a long-term pin is followed by
 * DMA into the new page, and a stale entry to a poisoned page is fatal.
 *
 * Context: any.
 * Return: true for MR_SYSCALL, MR_MEMPOLICY_MBIND, MR_DEMOTION, MR_DAMON
 * and MR_NUMA_MISPLACED.
 */
bool migrc_reason_defers(int reason);

/**
 * migrc_count_tlbbatch_add() - account the batched unmap flush's add
 *
 * Called by set_tlb_ubc_flush_pending() after arch_tlbbatch_add_pending(),
 * so that the mainline batched flush is counted in the same units as
 * migrc's (arm64 broadcasts a TLBI per page there).
 *
 * Context: under the PTE lock.
 */
static inline void migrc_count_tlbbatch_add(void)
{
	arch_migrc_count_tlbbatch_add();
}

/**
 * migrc_count_tlbbatch_flush() - account the batched unmap flush
 * @batch: the batch about to be flushed by arch_tlbbatch_flush()
 *
 * Context: as arch_tlbbatch_flush().
 */
static inline void
migrc_count_tlbbatch_flush(const struct arch_tlbflush_unmap_batch *batch)
{
	arch_migrc_count_tlbbatch_flush(batch);
}

struct migrc_batch *migrc_batch_open(unsigned long max_pages);
struct migrc_batch *migrc_round_open(unsigned long max_pages, int reason);
enum migrc_pte migrc_defer_pte(struct migrc_batch *batch, u8 *state,
			       struct mm_struct *mm, unsigned int vma,
			       pte_t pteval, unsigned long uaddr);
void migrc_batch_add_pte(struct migrc_batch *batch, struct mm_struct *mm,
			 unsigned long uaddr);
bool migrc_batch_add_folio(struct migrc_batch *batch, struct folio *folio);
void migrc_batch_link(struct migrc_batch *batch, struct folio *old,
		      unsigned long succ_pfn);
struct folio *migrc_recycle_claim(struct migrc_batch *batch,
				  struct folio *src, struct folio *dst);
void migrc_recycle_end(struct migrc_batch *batch, struct folio *src,
		       struct folio *dst);
bool migrc_recycle_fail(struct migrc_batch *batch, struct folio *src,
			struct folio *dst);
void migrc_batch_seal(struct migrc_batch *batch);
void migrc_batch_flush(struct migrc_batch *batch);
void migrc_batch_unmap_flush(struct migrc_batch *batch);

bool migrc_file_folio_eligible(struct folio *folio);
bool migrc_file_unmap_end(struct migrc_batch *batch, struct folio *folio);

unsigned long migrc_retire_all(enum migrc_cause cause);
unsigned long migrc_retire_nodes(const nodemask_t *nodes, int highest_zoneidx,
				 unsigned int order);
unsigned long migrc_nr_pending(void);

void __migrc_flush_mm(struct mm_struct *mm, enum migrc_flush_point point);
void __migrc_mm_flush_done(struct mm_struct *mm, u64 seq,
			   enum migrc_flush_point point);

/**
 * migrc_mm_pending() - may @mm have stale read-only translations?
 * @mm: the mm
 *
 * @mm->migrc_deferred counts the read-only unmaps of @mm whose flush was
 * deferred, and @mm->migrc_flushed how many of them the last flush of @mm
 * covered.  They differ while a deferral may still be cached somewhere.
 * Both are 64-bit and only grow: they cannot wrap into agreement.
 *
 * Context: any; callers that act on the answer hold the PTE lock of the
 * entry they are about to change, the lock under which it was unmapped.
 * Return: true if @mm must be flushed before a PTE that was unmapped by a
 * deferred migration may become writable or change its target.
 */
static inline bool migrc_mm_pending(struct mm_struct *mm)
{
	/*
	 * The flushed count is a deferred count read earlier, so a stale
	 * read of either can only report a flush still pending.
	 */
	return atomic64_read(&mm->migrc_deferred) !=
	       atomic64_read(&mm->migrc_flushed);
}

/**
 * migrc_flush_mm() - remove stale read-only translations of @mm
 * @mm: the mm about to gain a writable or different translation
 * @point: which flush point is calling, for the statistics
 *
 * The flush points call this before they make a PTE of @mm writable, or
 * point it elsewhere, in a way that does not flush it on every CPU.  When
 * nothing of @mm is deferred it costs two loads of one cache line and one
 * branch.
 *
 * Context: process context with interrupts enabled; may hold the PTE lock.
 */
static inline void migrc_flush_mm(struct mm_struct *mm,
				  enum migrc_flush_point point)
{
	if (migrc_mm_pending(mm))
		__migrc_flush_mm(mm, point);
}

/**
 * migrc_mm_flush_begin() - before another path flushes all of @mm
 * @mm: the mm
 *
 * For paths that already flush every translation of @mm on every CPU
 * (flush_tlb_batched_pending()): read this before the flush and pass it
 * to migrc_mm_flush_done() after, so the flush also counts for migrc.
 *
 * Context: any.
 * Return: how many deferrals of @mm the flush will cover.
 */
static inline u64 migrc_mm_flush_begin(struct mm_struct *mm)
{
	/* Pairs with the increment in migrc_note_mm_deferred(). */
	return atomic64_read_acquire(&mm->migrc_deferred);
}

/**
 * migrc_mm_flush_done() - @mm was flushed after migrc_mm_flush_begin()
 * @mm: the mm
 * @seq: what migrc_mm_flush_begin() returned
 * @point: who flushed, for the statistics
 *
 * Context: any.
 */
static inline void migrc_mm_flush_done(struct mm_struct *mm, u64 seq,
				       enum migrc_flush_point point)
{
	if ((s64)seq > atomic64_read(&mm->migrc_flushed))
		__migrc_mm_flush_done(mm, seq, point);
}

#else /* CONFIG_MIGRC */

struct migrc_batch;

static inline bool migrc_enabled(void) { return false; }

static inline bool migrc_hook_disabled(enum migrc_hook hook) { return false; }

static inline bool migrc_reason_defers(int reason) { return false; }

static inline struct migrc_batch *migrc_batch_open(unsigned long max_pages)
{
	return NULL;
}

static inline struct migrc_batch *migrc_round_open(unsigned long max_pages,
						   int reason)
{
	return NULL;
}

static inline void migrc_batch_add_pte(struct migrc_batch *batch,
				       struct mm_struct *mm, unsigned long uaddr) { }

static inline bool migrc_batch_add_folio(struct migrc_batch *batch,
					 struct folio *folio)
{
	return false;
}

static inline void migrc_batch_link(struct migrc_batch *batch,
				    struct folio *old, unsigned long succ_pfn) { }

static inline struct folio *migrc_recycle_claim(struct migrc_batch *batch,
						struct folio *src,
						struct folio *dst)
{
	return NULL;
}

static inline void migrc_recycle_end(struct migrc_batch *batch,
				     struct folio *src, struct folio *dst) { }

static inline bool migrc_recycle_fail(struct migrc_batch *batch,
				      struct folio *src, struct folio *dst)
{
	return false;
}

static inline void migrc_batch_seal(struct migrc_batch *batch) { }

static inline void migrc_batch_flush(struct migrc_batch *batch) { }

static inline void migrc_batch_unmap_flush(struct migrc_batch *batch) { }

static inline void migrc_count_tlbbatch_add(void) { }

static inline void migrc_count_tlbbatch_flush(const void *batch) { }

static inline unsigned long migrc_retire_all(enum migrc_cause cause) { return 0; }

static inline unsigned long migrc_retire_nodes(const nodemask_t *nodes,
					       int highest_zoneidx,
					       unsigned int order)
{
	return 0;
}

static inline unsigned long migrc_nr_pending(void) { return 0; }

static inline bool migrc_mm_pending(struct mm_struct *mm) { return false; }

static inline void migrc_flush_mm(struct mm_struct *mm,
				  enum migrc_flush_point point) { }

static inline u64 migrc_mm_flush_begin(struct mm_struct *mm) { return 0; }

static inline void migrc_mm_flush_done(struct mm_struct *mm, u64 seq,
				       enum migrc_flush_point point) { }

static inline u64 migrc_read_gen(void) { return 0; }

static inline void migrc_note_cpu_clean(u64 gen) { }

static inline void migrc_note_online_cpus_clean(u64 gen) { }

#endif /* CONFIG_MIGRC */

/*
 * The debug checker (lib/migrc/debug.c): records the PTEs migrc deferred
 * and warns when one is made writable or pointed elsewhere before its
 * flush.  Compiled away without CONFIG_MIGRC_DEBUG.
 */
#include <linux/pgtable.h>

#ifdef CONFIG_MIGRC_DEBUG
void migrc_debug_deferred(struct mm_struct *mm, pte_t *ptep, unsigned long addr);
void migrc_debug_ptes_set(struct mm_struct *mm, pte_t *ptep, pte_t pte,
			  unsigned int nr);
void migrc_debug_pte_flushed(struct mm_struct *mm, pte_t *ptep);
void migrc_debug_pte_unmapped(struct mm_struct *mm, pte_t *ptep);
void migrc_debug_unmap_flushed(void);
void migrc_debug_join_unmap_flush(struct migrc_batch *batch);
void migrc_debug_forget(struct migrc_batch *batch);
void migrc_debug_forget_mm(struct mm_struct *mm);
bool migrc_debug_check_folio(struct folio *folio);
void migrc_debug_writer(struct address_space *mapping);
unsigned long migrc_debug_violations(void);
unsigned long migrc_debug_untracked_count(void);
#else
static inline void migrc_debug_deferred(struct mm_struct *mm, pte_t *ptep,
					unsigned long addr) { }
static inline void migrc_debug_ptes_set(struct mm_struct *mm, pte_t *ptep,
					pte_t pte, unsigned int nr) { }
static inline void migrc_debug_pte_flushed(struct mm_struct *mm, pte_t *ptep) { }
static inline void migrc_debug_pte_unmapped(struct mm_struct *mm, pte_t *ptep) { }
static inline void migrc_debug_unmap_flushed(void) { }
static inline void migrc_debug_join_unmap_flush(struct migrc_batch *batch) { }
static inline void migrc_debug_forget(struct migrc_batch *batch) { }
static inline void migrc_debug_forget_mm(struct mm_struct *mm) { }
static inline bool migrc_debug_check_folio(struct folio *folio) { return true; }
static inline void migrc_debug_writer(struct address_space *mapping) { }
#endif /* CONFIG_MIGRC_DEBUG */

#endif /* _LINUX_MIGRC_H */
