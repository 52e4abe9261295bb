/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migrc backend for arm64.  The contract is in include/linux/migrc.h.
 *
 * arm64 invalidates by broadcast TLBI, so a batch need not know which CPUs
 * cache a translation.  Deferring a PTE issues no TLBI at all (unlike
 * arch_tlbbatch_add_pending(), which broadcasts a TLBI VALE1IS per page at
 * unmap time and would leave nothing to save); retiring issues one
 * TLBI VMALLE1IS and one DSB ISH for all retired batches.
 */
#ifndef __ASM_MIGRC_H
#define __ASM_MIGRC_H

#include <linux/mmu_notifier.h>
#include <asm/tlbflush.h>

#define ARCH_MIGRC_NAME "arm64"

/*
 * __ptep_set_access_flags() ends with flush_tlb_page() when it makes a PTE
 * dirty (writable): a broadcast TLBI of that address in that ASID.  A write
 * fault reusing a page therefore invalidates the stale read-only entries
 * of the address on every CPU by itself.
 */
#define arch_migrc_write_fault_flushes()	true

struct arch_migrc_batch {
	bool pending;
};

static inline void arch_migrc_batch_init(struct arch_migrc_batch *batch)
{
	batch->pending = false;
}

static inline void arch_migrc_add(struct arch_migrc_batch *batch,
				  struct mm_struct *mm, unsigned long uaddr)
{
	batch->pending = true;
	/* Secondary TLBs (IOMMU SVA) are not deferred. */
	mmu_notifier_arch_invalidate_secondary_tlbs(mm, uaddr & PAGE_MASK,
						    (uaddr & PAGE_MASK) + PAGE_SIZE);
}

static inline void arch_migrc_fold(struct arch_migrc_batch *dst,
				   const struct arch_migrc_batch *src)
{
	dst->pending |= src->pending;
}

static inline bool arch_migrc_trim(struct arch_migrc_batch *batch, u64 gen)
{
	if (batch->pending && migrc_all_cpus_clean_since(gen))
		batch->pending = false;
	return !batch->pending;
}

void arch_migrc_flush(struct arch_migrc_batch *batch);

static inline void arch_migrc_count_tlbbatch_add(void)
{
	/* arch_tlbbatch_add_pending() broadcast one TLBI VALE1IS. */
	migrc_count_tlbbatch(1, 0);
}

static inline void
arch_migrc_count_tlbbatch_flush(const struct arch_tlbflush_unmap_batch *batch)
{
	/* arch_tlbbatch_flush() is only the DSB completing those TLBIs. */
}

#endif /* __ASM_MIGRC_H */
