/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migrc backend for x86_64.  The contract is in include/linux/migrc.h.
 *
 * The batch is the cpumask of the batched unmap flush; deferring bumps the
 * mm's tlb_gen as arch_tlbbatch_add_pending() does, so CPUs that switch
 * back to the mm later flush (choose_new_asid() and the lazy path compare
 * tlb_gen), and retiring is one flush_tlb_multi() round.
 */
#ifndef _ASM_X86_MIGRC_H
#define _ASM_X86_MIGRC_H

#define ARCH_MIGRC_NAME "x86_64"

#include <linux/cpumask.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <asm/tlbflush.h>

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

#define arch_migrc_remote_cpus arch_migrc_remote_cpus

#include <asm-generic/migrc-cpumask.h>

#endif /* _ASM_X86_MIGRC_H */
