// SPDX-License-Identifier: GPL-2.0
/*
 * migrc backend for x86_64: one flush_tlb_multi() round over the union of
 * the retired batches' CPUs.
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
	/* Flushes every CPU in @mask, the local one included, then clears it. */
	arch_tlbbatch_flush(&batch->ubc);
}
