/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migrc backend for riscv64.  The contract is in include/linux/migrc.h.
 *
 * A batch is the cpumask the batched unmap flush uses, and deferring a
 * PTE is exactly arch_tlbbatch_add_pending(): it adds mm_cpumask(mm), from
 * which the ASID allocator never removes a CPU (and without ASIDs every
 * switch flushes locally), and it invalidates secondary TLBs at once.
 * Only the remote fence is deferred.
 */
#ifndef _ASM_RISCV_MIGRC_H
#define _ASM_RISCV_MIGRC_H

#include <linux/cpumask.h>
#include <asm/tlbbatch.h>
#include <asm/tlbflush.h>

#define ARCH_MIGRC_NAME "riscv64"

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

#endif /* _ASM_RISCV_MIGRC_H */
