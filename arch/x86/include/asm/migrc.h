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

#include <asm-generic/migrc-cpumask.h>

#endif /* _ASM_X86_MIGRC_H */
