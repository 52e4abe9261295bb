/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migrc backend for riscv64.  The contract is in include/linux/migrc.h.
 *
 * The batch is the hart mask of the batched unmap flush, and retiring is
 * one remote sfence.vma for it: one SBI call, or one IPI round where the
 * kernel sends fences by IPI.
 */
#ifndef _ASM_RISCV_MIGRC_H
#define _ASM_RISCV_MIGRC_H

#define ARCH_MIGRC_NAME "riscv64"

#include <asm-generic/migrc-cpumask.h>

#endif /* _ASM_RISCV_MIGRC_H */
