// SPDX-License-Identifier: GPL-2.0
/*
 * migrc backend for x86_64: the trim.
 *
 * A batch must be flushed on every CPU that may still use a stale entry of
 * an mm it deferred.  Beyond the CPUs that reported a full flush since the
 * batch was sealed, x86's own TLB bookkeeping shows which CPUs no longer
 * can.  Each CPU keeps, per dynamic ASID slot, the ctx_id of the mm that
 * owns the slot and the tlb_gen it caught up with (cpu_tlbstate.ctxs[]).
 * For an mm M recorded with generation G (M's tlb_gen after the deferral
 * bumped it), CPU c cannot use a stale entry of M when:
 *
 *  - a slot of c holds M with tlb_gen >= G.  c caught up with G either in
 *    flush_tlb_func(), after flushing (a deferral bumps tlb_gen without a
 *    flush request, so no partial flush can catch up with it: only a full
 *    one), or in switch_mm_irqs_off(), which writes the slot just before
 *    loading CR3 with a flush, with interrupts off and no user access in
 *    between;
 *  - no slot of c holds M.  Entries of M then live only in a PCID that c
 *    has not loaded, and c flushes a PCID before loading it for another
 *    mm (choose_new_asid() finds a different ctx_id) or for M again (a
 *    new slot, or clear_asid_other() zeroed the ctx_id).  Without PCIDs,
 *    slot 0 is rewritten by every switch, whose CR3 load flushes.
 *
 * The reads race with c's own switch; each of the states they can see is
 * one of the above.  Stale reads can only find c behind, which keeps it.
 */

#include <kunit/static_stub.h>
#include <kunit/visibility.h>
#include <linux/migrc.h>
#include <linux/percpu.h>

/**
 * x86_migrc_note_mm() - record that @batch deferred PTEs of an mm
 * @batch: the batch
 * @ctx_id: the mm's context.ctx_id
 * @tlb_gen: the mm's context.tlb_gen, read after the deferral bumped it
 *
 * Context: any; the batch's owner.
 */
void x86_migrc_note_mm(struct arch_migrc_batch *batch, u64 ctx_id, u64 tlb_gen)
{
	unsigned int i;

	if (batch->nr_mms > X86_MIGRC_MMS)
		return;
	for (i = 0; i < batch->nr_mms; i++) {
		if (batch->mms[i].ctx_id == ctx_id) {
			batch->mms[i].tlb_gen = max(batch->mms[i].tlb_gen, tlb_gen);
			return;
		}
	}
	if (i == X86_MIGRC_MMS) {
		/* Too many to follow: the trim uses reported full flushes only. */
		batch->nr_mms = X86_MIGRC_MMS + 1;
		return;
	}
	batch->mms[i].ctx_id = ctx_id;
	batch->mms[i].tlb_gen = tlb_gen;
	batch->nr_mms = i + 1;
}
EXPORT_SYMBOL_IF_KUNIT(x86_migrc_note_mm);

/**
 * x86_migrc_fold() - make @dst also cover what @src covers
 * @dst: the batch to grow
 * @src: the batch to add
 *
 * Context: any.
 */
void x86_migrc_fold(struct arch_migrc_batch *dst,
		    const struct arch_migrc_batch *src)
{
	unsigned int i;

	cpumask_or(&dst->ubc.cpumask, &dst->ubc.cpumask, &src->ubc.cpumask);
	if (src->nr_mms > X86_MIGRC_MMS) {
		dst->nr_mms = X86_MIGRC_MMS + 1;
		return;
	}
	for (i = 0; i < src->nr_mms; i++)
		x86_migrc_note_mm(dst, src->mms[i].ctx_id, src->mms[i].tlb_gen);
}
EXPORT_SYMBOL_IF_KUNIT(x86_migrc_fold);

/**
 * x86_migrc_cpu_ctx_gen() - how far @cpu caught up with an mm
 * @cpu: the CPU
 * @ctx_id: the mm's context.ctx_id
 *
 * Context: any.
 * Return: the tlb_gen of the slot of @cpu that holds the mm, or U64_MAX if
 * no slot holds it (the CPU flushes before it can use the mm's entries).
 */
noinline u64 x86_migrc_cpu_ctx_gen(int cpu, u64 ctx_id)
{
	struct tlb_state *ts = per_cpu_ptr(&cpu_tlbstate, cpu);
	int asid;

	KUNIT_STATIC_STUB_REDIRECT(x86_migrc_cpu_ctx_gen, cpu, ctx_id);
	for (asid = 0; asid < TLB_NR_DYN_ASIDS; asid++) {
		/* The CPU writes its own slots with this_cpu_write(). */
		if (READ_ONCE(ts->ctxs[asid].ctx_id) == ctx_id)
			return READ_ONCE(ts->ctxs[asid].tlb_gen);
	}
	return U64_MAX;
}
EXPORT_SYMBOL_IF_KUNIT(x86_migrc_cpu_ctx_gen);

static bool x86_migrc_cpu_caught_up(const struct arch_migrc_batch *batch,
				    int cpu)
{
	unsigned int i;

	if (batch->nr_mms > X86_MIGRC_MMS)
		return false;
	for (i = 0; i < batch->nr_mms; i++)
		if (x86_migrc_cpu_ctx_gen(cpu, batch->mms[i].ctx_id) <
		    batch->mms[i].tlb_gen)
			return false;
	return true;
}

/**
 * x86_migrc_trim() - drop the CPUs that cannot use a stale entry any more
 * @batch: a sealed batch
 * @gen: the generation it was sealed at
 *
 * Context: process context.
 * Return: true if no CPU is left to flush.
 */
bool x86_migrc_trim(struct arch_migrc_batch *batch, u64 gen)
{
	int cpu;

	for_each_cpu(cpu, &batch->ubc.cpumask)
		if (migrc_cpu_clean_since(cpu, gen) ||
		    x86_migrc_cpu_caught_up(batch, cpu))
			cpumask_clear_cpu(cpu, &batch->ubc.cpumask);
	return cpumask_empty(&batch->ubc.cpumask);
}
EXPORT_SYMBOL_IF_KUNIT(x86_migrc_trim);
