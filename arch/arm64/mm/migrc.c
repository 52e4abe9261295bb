// SPDX-License-Identifier: GPL-2.0
/*
 * migrc backend for arm64: one broadcast TLBI VMALLE1IS, completed by
 * DSB ISH, for all the retired batches.
 */

#include <linux/migrc.h>

void arch_migrc_flush(struct arch_migrc_batch *batch)
{
	if (!batch->pending)
		return;
	migrc_count_flush(1, 0);
	/* dsb(ishst) orders the PTE clears before the TLBI; dsb(ish) completes it. */
	flush_tlb_all();
	batch->pending = false;
}
