/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migrc backend for architectures whose batched unmap flush is a cpumask
 * of the CPUs to interrupt, and whose only knowledge of past flushes is
 * per CPU (riscv; x86 also follows each mm's tlb_gen, in its own header).
 * The contract is in include/linux/migrc.h.
 *
 * A migrc batch is that cpumask, and deferring a PTE is exactly
 * arch_tlbbatch_add_pending(): it adds mm_cpumask(mm), does what makes
 * CPUs that switch back to the mm later flush (riscv's ASID allocator
 * never drops a CPU from mm_cpumask, and without ASIDs every switch
 * flushes), and invalidates secondary TLBs at once.  Only the remote
 * invalidation is deferred: retiring sends one arch_tlbbatch_flush() for
 * the union of the retired batches.  The trim drops the CPUs that
 * reported a full flush since the batch was sealed.
 */
#ifndef __ASM_GENERIC_MIGRC_CPUMASK_H
#define __ASM_GENERIC_MIGRC_CPUMASK_H

#include <linux/cpumask.h>
#include <asm/tlbbatch.h>
#include <asm/tlbflush.h>

struct arch_migrc_batch {
	struct arch_tlbflush_unmap_batch ubc;
};

static inline void arch_migrc_batch_init(struct arch_migrc_batch *batch)
{
	cpumask_clear(&batch->ubc.cpumask);
}

static inline void arch_migrc_add(struct arch_migrc_batch *batch,
				  struct mm_struct *mm, unsigned long uaddr)
{
	arch_tlbbatch_add_pending(&batch->ubc, mm, uaddr);
}

static inline void arch_migrc_fold(struct arch_migrc_batch *dst,
				   const struct arch_migrc_batch *src)
{
	cpumask_or(&dst->ubc.cpumask, &dst->ubc.cpumask, &src->ubc.cpumask);
}

/*
 * The batch is what arch_tlbbatch_add_pending() would have made of its
 * PTEs: the unmap flush covers them once it has the batch's CPUs.
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
	return migrc_trim_cpumask(&batch->ubc.cpumask, gen);
}

static inline void arch_migrc_flush(struct arch_migrc_batch *batch)
{
	unsigned int remote = migrc_remote_cpus(&batch->ubc.cpumask);

	migrc_count_flush(!!remote, remote);
	/* Every CPU in the mask, the local one included; then clears it. */
	arch_tlbbatch_flush(&batch->ubc);
}

static inline void arch_migrc_count_tlbbatch_add(void)
{
	/* Adding sends nothing: the flush does. */
}

static inline void
arch_migrc_count_tlbbatch_flush(const struct arch_tlbflush_unmap_batch *batch)
{
	unsigned int remote = migrc_remote_cpus(&batch->cpumask);

	migrc_count_tlbbatch(!!remote, remote);
}

#endif /* __ASM_GENERIC_MIGRC_CPUMASK_H */
