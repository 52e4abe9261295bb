/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migrc backend for x86_64.  The contract is in include/linux/migrc.h.
 *
 * The batch is the cpumask of the batched unmap flush, plus the mms whose
 * PTEs it deferred, each with its tlb_gen after the deferral.  Deferring is
 * arch_tlbbatch_add_pending(): it bumps the mm's tlb_gen, so a CPU that
 * switches back to the mm later flushes it (choose_new_asid() and the lazy
 * path compare tlb_gen), and invalidates secondary TLBs.  Retiring is one
 * flush_tlb_multi() round over the union of the retired batches.
 *
 * The trim drops a CPU that reported a full flush since the batch was
 * sealed (__flush_tlb_all()), and a CPU whose TLB state shows it can no
 * longer use a stale entry of any recorded mm (arch/x86/mm/migrc.c).
 */
#ifndef _ASM_X86_MIGRC_H
#define _ASM_X86_MIGRC_H

#define ARCH_MIGRC_NAME "x86_64"

#include <linux/cpumask.h>
#include <asm/tlbbatch.h>
#include <asm/tlbflush.h>

/* The most mms a batch tracks for the trim; past that, only the cpumask. */
#define X86_MIGRC_MMS	4

/**
 * struct x86_migrc_mm - one mm a batch deferred PTEs of
 * @ctx_id: the mm's context id (never reused, never zero)
 * @tlb_gen: the mm's tlb_gen after the last deferral
 */
struct x86_migrc_mm {
	u64	ctx_id;
	u64	tlb_gen;
};

/**
 * struct arch_migrc_batch - what may hold stale translations, on x86
 * @ubc: the CPUs to flush, as for the batched unmap flush
 * @nr_mms: entries used in @mms; X86_MIGRC_MMS + 1 once there were more
 * @mms: the mms deferred, for the trim
 */
struct arch_migrc_batch {
	struct arch_tlbflush_unmap_batch	ubc;
	unsigned int				nr_mms;
	struct x86_migrc_mm			mms[X86_MIGRC_MMS];
};

void x86_migrc_note_mm(struct arch_migrc_batch *batch, u64 ctx_id, u64 tlb_gen);
bool x86_migrc_trim(struct arch_migrc_batch *batch, u64 gen);
void x86_migrc_fold(struct arch_migrc_batch *dst,
		    const struct arch_migrc_batch *src);
u64 x86_migrc_cpu_ctx_gen(int cpu, u64 ctx_id);

/*
 * flush_tlb_multi() skips CPUs in lazy TLB mode (they flush when they
 * switch back, from tlb_gen): count only the CPUs it interrupts, so that
 * the migrc and tlbbatch counters agree with the TLB row of
 * /proc/interrupts.  The lazy state is sampled just before the flush,
 * which can race with a CPU entering or leaving it: the count is exact
 * up to such races.
 */
static inline unsigned int arch_migrc_remote_cpus(const struct cpumask *mask)
{
	unsigned int n = 0;
	int cpu, self = get_cpu();

	for_each_cpu(cpu, mask)
		n += cpu != self && !per_cpu(cpu_tlbstate_shared.is_lazy, cpu);
	put_cpu();
	return n;
}

static inline void arch_migrc_batch_init(struct arch_migrc_batch *batch)
{
	cpumask_clear(&batch->ubc.cpumask);
	batch->nr_mms = 0;
}

static inline void arch_migrc_add(struct arch_migrc_batch *batch,
				  struct mm_struct *mm, unsigned long uaddr)
{
	arch_tlbbatch_add_pending(&batch->ubc, mm, uaddr);
	/* At least the generation the add bumped to: a later one only keeps more. */
	x86_migrc_note_mm(batch, mm->context.ctx_id,
			  atomic64_read(&mm->context.tlb_gen));
}

static inline void arch_migrc_fold(struct arch_migrc_batch *dst,
				   const struct arch_migrc_batch *src)
{
	x86_migrc_fold(dst, src);
}

/*
 * Deferring bumped each mm's tlb_gen as arch_tlbbatch_add_pending() does:
 * the unmap flush covers the batch's PTEs once it has the batch's CPUs.
 */
#define arch_migrc_join_unmap_flush arch_migrc_join_unmap_flush
static inline bool
arch_migrc_join_unmap_flush(struct arch_tlbflush_unmap_batch *ubc,
			    const struct arch_migrc_batch *batch)
{
	cpumask_or(&ubc->cpumask, &ubc->cpumask, &batch->ubc.cpumask);
	return true;
}

static inline bool arch_migrc_trim(struct arch_migrc_batch *batch, u64 gen)
{
	return x86_migrc_trim(batch, gen);
}

static inline void arch_migrc_flush(struct arch_migrc_batch *batch)
{
	unsigned int remote = arch_migrc_remote_cpus(&batch->ubc.cpumask);

	migrc_count_flush(!!remote, remote);
	/* Every CPU in the mask, the local one included; then clears it. */
	arch_tlbbatch_flush(&batch->ubc);
	batch->nr_mms = 0;
}

static inline void arch_migrc_count_tlbbatch_add(void)
{
	/* Adding sends nothing: the flush does. */
}

static inline void
arch_migrc_count_tlbbatch_flush(const struct arch_tlbflush_unmap_batch *batch)
{
	unsigned int remote = arch_migrc_remote_cpus(&batch->cpumask);

	migrc_count_tlbbatch(!!remote, remote);
}

#endif /* _ASM_X86_MIGRC_H */
