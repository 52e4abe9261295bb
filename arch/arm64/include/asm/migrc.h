/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migrc backend for arm64.  The contract is in include/linux/migrc.h.
 *
 * arm64 invalidates by broadcast TLBI, so a batch need not know which CPUs
 * cache a translation, only under which ASIDs.  Deferring a PTE issues no
 * TLBI at all (unlike arch_tlbbatch_add_pending(), which broadcasts a
 * TLBI VALE1IS per page at unmap time and would leave nothing to save); it
 * records the mm's ASID.  Retiring issues one TLBI ASIDE1IS per recorded
 * ASID, or one TLBI VMALLE1IS past ARM64_MIGRC_ASIDS of them, and one
 * DSB ISH for all the retired batches (arch/arm64/mm/migrc.c).
 */
#ifndef __ASM_MIGRC_H
#define __ASM_MIGRC_H

#include <linux/mmu_notifier.h>
#include <asm/mmu.h>
#include <asm/tlbflush.h>

#define ARCH_MIGRC_NAME "arm64"

void arch_migrc_flush_all(void);
#define arch_migrc_flush_all arch_migrc_flush_all

/* The most ASIDs a batch invalidates one by one; past that, all of them. */
#define ARM64_MIGRC_ASIDS	4

/**
 * struct arch_migrc_batch - what may hold stale translations, on arm64
 * @nr_asids: entries used in @asids; ARM64_MIGRC_ASIDS + 1 means "all"
 * @asids: the ASIDs of the mms whose PTEs were deferred
 *
 * An ASID is read when the PTE is cleared, as __flush_tlb_page_nosync()
 * reads it for the mainline batch.  If a rollover gives the mm another
 * ASID before the batch retires, the entries tagged with the old one can
 * only be used under it: by a CPU still running the mm, which kept the
 * ASID as reserved, or by none (any CPU flushes its TLB before it runs a
 * task under an ASID of the new generation).  Invalidating the recorded
 * ASID therefore removes every stale entry.
 */
struct arch_migrc_batch {
	unsigned int	nr_asids;
	u16		asids[ARM64_MIGRC_ASIDS];
};

void arm64_migrc_note_asid(struct arch_migrc_batch *batch, u16 asid);
void arch_migrc_fold(struct arch_migrc_batch *dst,
		     const struct arch_migrc_batch *src);
void arch_migrc_flush(struct arch_migrc_batch *batch);

static inline void arch_migrc_batch_init(struct arch_migrc_batch *batch)
{
	batch->nr_asids = 0;
}

static inline void arch_migrc_add(struct arch_migrc_batch *batch,
				  struct mm_struct *mm, unsigned long uaddr)
{
	arm64_migrc_note_asid(batch, ASID(mm));
	/* Secondary TLBs (IOMMU SVA) are not deferred. */
	mmu_notifier_arch_invalidate_secondary_tlbs(mm, uaddr & PAGE_MASK,
						    (uaddr & PAGE_MASK) + PAGE_SIZE);
}

/*
 * Every CPU flushes its whole TLB at its first context switch after an
 * ASID rollover and reports it (check_and_switch_context()): once all of
 * them have since @gen, nothing of the batch can be cached anywhere.
 */
static inline bool arch_migrc_trim(struct arch_migrc_batch *batch, u64 gen)
{
	if (batch->nr_asids && migrc_all_cpus_clean_since(gen))
		batch->nr_asids = 0;
	return !batch->nr_asids;
}

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
