/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migrc backend for x86_64.  The contract is in include/linux/migrc.h.
 *
 * A batch is the cpumask the batched unmap flush uses, and deferring a
 * PTE is exactly arch_tlbbatch_add_pending(): it bumps the mm's tlb_gen,
 * so a CPU that switches back to the mm later flushes it (choose_new_asid()
 * and the lazy path compare tlb_gen), and it invalidates secondary TLBs at
 * once.  Only the IPI round is deferred.
 */
#ifndef _ASM_X86_MIGRC_H
#define _ASM_X86_MIGRC_H

#include <linux/cpumask.h>
#include <asm/tlbbatch.h>
#include <asm/tlbflush.h>

#define ARCH_MIGRC_NAME "x86_64"

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

static inline bool arch_migrc_trim(struct arch_migrc_batch *batch, u64 gen)
{
	return migrc_trim_cpumask(&batch->ubc.cpumask, gen);
}

void arch_migrc_flush(struct arch_migrc_batch *batch);

#endif /* _ASM_X86_MIGRC_H */
