// SPDX-License-Identifier: GPL-2.0
/*
 * migrc backend for riscv64: one remote sfence.vma (an SBI call, or one IPI
 * round where the kernel sends fences by IPI) for the union of the retired
 * batches' harts.
 */

#include <linux/migrc.h>
#include <linux/smp.h>

void arch_migrc_flush(struct arch_migrc_batch *batch)
{
	struct cpumask *mask = &batch->ubc.cpumask;
	unsigned int remote;
	int cpu;

	cpu = get_cpu();
	remote = cpumask_weight(mask) - cpumask_test_cpu(cpu, mask);
	put_cpu();

	migrc_count_flush(!!remote, remote);
	/* A full sfence.vma on every hart in @mask, then clears it. */
	arch_tlbbatch_flush(&batch->ubc);
}
