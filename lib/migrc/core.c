// SPDX-License-Identifier: GPL-2.0
/*
 * migrc core: the invariant, generations, per-CPU clean tracking, the
 * backend calls and accounting.
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
 *  - keeping an mm correct: each deferred unmap is counted in
 *    mm->migrc_deferred, and the flush points flush that one mm
 *    (migrc_flush_mm()) before a PTE can become writable.  This covers
 *    batches still open in another task, which the pending list cannot
 *    see yet;
 *  - freeing memory: retirement flushes the union of the retired batches'
 *    arch state once and frees their folios.
 *
 * The rest of the core: retire.c retires pending batches, policy.c
 * decides when (memory pressure, age, the cap), batch.c builds them and
 * keeps each mm correct, and control.c and init.c are the run-time
 * control.
 */

#include <kunit/static_stub.h>
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/jump_label.h>
#include <linux/migrc.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/vmstat.h>
#include <asm/tlbflush.h>

#include "migrc.h"

/* May be overridden by <asm/migrc.h>. */
#ifndef arch_migrc_flush_mm
#define arch_migrc_flush_mm(mm)	flush_tlb_mm(mm)
#endif

DEFINE_STATIC_KEY_TRUE(migrc_enabled_key);
EXPORT_SYMBOL_IF_KUNIT(migrc_enabled_key);

atomic64_t migrc_gen = ATOMIC64_INIT(0);

/*
 * The newest generation each CPU's TLB is known to be clean of.  Written
 * by the CPU itself (migrc_note_cpu_clean()), read by whoever trims.
 */
static DEFINE_PER_CPU(u64, migrc_clean_gen);

struct migrc_stats migrc_stats;

/*
 * Debug kernels can switch hooks off, one bit per enum migrc_hook, to show
 * that a test fails without them.  Never in production: the variable is
 * only consulted when CONFIG_MIGRC_DEBUG is set.
 */
unsigned long migrc_debug_disabled_hooks;
EXPORT_SYMBOL_IF_KUNIT(migrc_debug_disabled_hooks);

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

		/* Pairs with the READ_ONCE() in migrc_cpu_clean_gen(). */
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
noinline bool migrc_arch_trim(struct migrc_batch *batch)
{
	KUNIT_STATIC_STUB_REDIRECT(migrc_arch_trim, batch);
	return arch_migrc_trim(&batch->arch, batch->gen);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_arch_trim);

noinline void migrc_arch_flush(struct arch_migrc_batch *arch)
{
	KUNIT_STATIC_STUB_REDIRECT(migrc_arch_flush, arch);
	arch_migrc_flush(arch);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_arch_flush);

/* May be overridden by <asm/migrc.h>. */
#ifndef arch_migrc_join_unmap_flush
static inline bool
arch_migrc_join_unmap_flush(struct arch_tlbflush_unmap_batch *ubc,
			    const struct arch_migrc_batch *batch)
{
	return false;
}
#endif

/* Make the current task's try_to_unmap_flush() cover @arch too, if it can. */
noinline bool migrc_arch_join_unmap_flush(struct arch_migrc_batch *arch)
{
	struct tlbflush_unmap_batch *tlb_ubc = &current->tlb_ubc;

	KUNIT_STATIC_STUB_REDIRECT(migrc_arch_join_unmap_flush, arch);
	if (!arch_migrc_join_unmap_flush(&tlb_ubc->arch, arch))
		return false;
	tlb_ubc->flush_required = true;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_arch_join_unmap_flush);

noinline void migrc_arch_flush_mm(struct mm_struct *mm)
{
	KUNIT_STATIC_STUB_REDIRECT(migrc_arch_flush_mm, mm);
	arch_migrc_flush_mm(mm);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_arch_flush_mm);

/* May be overridden by <asm/migrc.h>. */
#ifndef arch_migrc_flush_all
static inline void arch_migrc_flush_all(void)
{
	migrc_count_flush(1, num_online_cpus() - 1);
	flush_tlb_all();
}
#endif

noinline void migrc_arch_flush_all(void)
{
	KUNIT_STATIC_STUB_REDIRECT(migrc_arch_flush_all);
	arch_migrc_flush_all();
}
EXPORT_SYMBOL_IF_KUNIT(migrc_arch_flush_all);

/**
 * migrc_flush_all() - invalidate every user translation on every CPU
 *
 * For callers that cannot tell which batches, or which CPUs, hold the
 * stale translations they care about: the file writer gate must also
 * cover batches still open in migration rounds that other tasks are
 * running, which are on no list.  Every online CPU is then reported clean
 * as of the generation read before the flush started, so the batches
 * sealed by then retire later without a flush of their own.
 *
 * Context: process context with interrupts enabled, no spinlock held
 * (x86 and riscv interrupt every other CPU and wait for them).
 */
void migrc_flush_all(void)
{
	u64 gen = migrc_read_gen();

	migrc_arch_flush_all();
	migrc_note_online_cpus_clean(gen);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_flush_all);
