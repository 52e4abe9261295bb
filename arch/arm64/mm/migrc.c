// SPDX-License-Identifier: GPL-2.0
/*
 * migrc backend for arm64: the ASIDs of a batch, and its flush.
 */

#include <kunit/visibility.h>
#include <linux/migrc.h>

/**
 * arm64_migrc_note_asid() - record that @batch deferred PTEs under @asid
 * @batch: the batch
 * @asid: the ASID of the mm, as ASID() reads it
 *
 * Context: any; the batch's owner.
 */
void arm64_migrc_note_asid(struct arch_migrc_batch *batch, u16 asid)
{
	unsigned int i;

	if (batch->nr_asids > ARM64_MIGRC_ASIDS)
		return;
	for (i = 0; i < batch->nr_asids; i++)
		if (batch->asids[i] == asid)
			return;
	if (i == ARM64_MIGRC_ASIDS) {
		batch->nr_asids = ARM64_MIGRC_ASIDS + 1;
		return;
	}
	batch->asids[i] = asid;
	batch->nr_asids = i + 1;
}
EXPORT_SYMBOL_IF_KUNIT(arm64_migrc_note_asid);

/**
 * arch_migrc_fold() - make @dst also cover the ASIDs of @src
 * @dst: the batch to grow
 * @src: the batch to add
 *
 * Context: any.
 */
void arch_migrc_fold(struct arch_migrc_batch *dst,
		     const struct arch_migrc_batch *src)
{
	unsigned int i;

	if (src->nr_asids > ARM64_MIGRC_ASIDS) {
		dst->nr_asids = ARM64_MIGRC_ASIDS + 1;
		return;
	}
	for (i = 0; i < src->nr_asids; i++)
		arm64_migrc_note_asid(dst, src->asids[i]);
}
EXPORT_SYMBOL_IF_KUNIT(arch_migrc_fold);

/**
 * arch_migrc_flush() - invalidate the ASIDs of @batch on every CPU
 * @batch: the batch; describes nothing afterwards
 *
 * One broadcast TLBI ASIDE1IS per ASID (and its KPTI user twin), or one
 * TLBI VMALLE1IS for "all", then one DSB ISH that completes them.
 *
 * Context: any.
 */
void arch_migrc_flush(struct arch_migrc_batch *batch)
{
	unsigned int i;

	if (!batch->nr_asids)
		return;
	if (batch->nr_asids > ARM64_MIGRC_ASIDS) {
		migrc_count_flush(1, 0);
		/* dsb(ishst) orders the PTE clears before the TLBI; dsb(ish) completes it. */
		flush_tlb_all();
		batch->nr_asids = 0;
		return;
	}

	migrc_count_flush(batch->nr_asids, 0);
	/* Order the PTE clears before the invalidations. */
	dsb(ishst);
	for (i = 0; i < batch->nr_asids; i++) {
		unsigned long arg = __TLBI_VADDR(0, batch->asids[i]);

		__tlbi(aside1is, arg);
		__tlbi_user(aside1is, arg);
	}
	__tlbi_sync_s1ish();
	batch->nr_asids = 0;
}
EXPORT_SYMBOL_IF_KUNIT(arch_migrc_flush);

/**
 * arch_migrc_flush_all() - invalidate every translation on every CPU
 *
 * One broadcast TLBI VMALLE1IS and its DSB: no CPU is interrupted.
 *
 * Context: any.
 */
void arch_migrc_flush_all(void)
{
	migrc_count_flush(1, 0);
	flush_tlb_all();
}
