// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the migrc arch backend compiled in: the contract of the
 * arch_migrc_*() hooks in include/linux/migrc.h, and the places where the
 * arch's own TLB code reports full flushes to the trim.
 *
 * The contract cases run a table of add, fold, trim and flush steps on
 * real backend batches and, beside them, on a model of what a batch must
 * cover (CPUs for the cpumask backends, ASIDs on arm64); after each step
 * the two must agree.  The per-CPU flush knowledge the trim reads is fed
 * by static stubs, so every order and every generation boundary can be
 * set up.  The mms are fresh ones no CPU runs, with the CPUs (or ASID)
 * that a real mm would have; flushing them is harmless.
 */

#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/hardirq.h>
#include <linux/kthread.h>
#include <linux/migrc.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>

#include "migrc.h"

/* More mms than either backend follows one by one. */
#define MAT_MMS		6
#define MAT_BATCHES	2
#define MAT_STEPS	12

enum mat_op {
	MAT_END,
	MAT_ADD,	/* batch, mm */
	MAT_FOLD,	/* batch <- batch arg */
	MAT_TRIM,	/* batch, clean pattern, generation */
	MAT_FLUSH,	/* batch */
	MAT_JOIN,	/* batch joins this task's batched unmap flush */
};

/* Per-CPU clean generations a trim step sees, relative to its @gen. */
enum mat_clean {
	MAT_NONE_CLEAN,		/* every CPU one generation short */
	MAT_ALL_CLEAN,		/* every CPU exactly at the generation */
	MAT_HALF_CLEAN,		/* every other online CPU at it, the rest short */
	MAT_ALL_BUT_ONE,	/* every CPU past it, but the last one short */
};

struct mat_step {
	enum mat_op	op;
	u8		batch;
	u8		arg;
	u64		gen;
};

struct mat_case {
	const char	*name;
	struct mat_step	steps[MAT_STEPS];
};

#define ADD(b, mm)		{ MAT_ADD, b, mm }
#define FOLD(dst, src)		{ MAT_FOLD, dst, src }
#define TRIM(b, clean, g)	{ MAT_TRIM, b, clean, g }
#define FLUSH(b)		{ MAT_FLUSH, b }
#define JOIN(b)			{ MAT_JOIN, b }

static const struct mat_case mat_cases[] = {
	{ "add-flush",		{ ADD(0, 0), FLUSH(0) } },
	{ "add-same-mm-twice",	{ ADD(0, 1), ADD(0, 1), FLUSH(0) } },
	{ "add-more-than-tracked", { ADD(0, 0), ADD(0, 1), ADD(0, 2), ADD(0, 3),
				   ADD(0, 4), ADD(0, 5), TRIM(0, MAT_NONE_CLEAN, 7),
				   FLUSH(0) } },
	{ "fold-then-trim",	{ ADD(0, 0), ADD(1, 1), FOLD(0, 1),
				  TRIM(0, MAT_HALF_CLEAN, 40), FLUSH(0) } },
	{ "trim-then-fold",	{ ADD(0, 0), ADD(1, 1), ADD(1, 2),
				  TRIM(1, MAT_ALL_CLEAN, 41), FOLD(0, 1), FLUSH(0) } },
	{ "trim-none-clean",	{ ADD(0, 2), TRIM(0, MAT_NONE_CLEAN, 1000),
				  FLUSH(0) } },
	{ "trim-all-clean",	{ ADD(0, 0), ADD(0, 3), TRIM(0, MAT_ALL_CLEAN, 5),
				  FLUSH(0) } },
	{ "trim-all-but-one",	{ ADD(0, 0), ADD(0, 1), ADD(0, 2), ADD(0, 3),
				  TRIM(0, MAT_ALL_BUT_ONE, 99), FLUSH(0) } },
	{ "trim-across-wrap",	{ ADD(0, 1), TRIM(0, MAT_HALF_CLEAN, U64_MAX),
				  FLUSH(0) } },
	{ "trim-twice",		{ ADD(0, 0), ADD(0, 1), TRIM(0, MAT_NONE_CLEAN, 8),
				  TRIM(0, MAT_HALF_CLEAN, 8), TRIM(0, MAT_ALL_CLEAN, 8),
				  FLUSH(0) } },
	{ "fold-into-overflow",	{ ADD(0, 0), ADD(0, 1), ADD(0, 2), ADD(1, 3),
				  ADD(1, 4), FOLD(0, 1), FLUSH(0) } },
	{ "fold-empty",		{ FOLD(0, 1), FLUSH(0) } },
	{ "flush-then-reuse",	{ ADD(0, 0), FLUSH(0), ADD(0, 5), FLUSH(0) } },
	{ "flush-both",		{ ADD(0, 0), ADD(1, 1), FLUSH(1), FOLD(0, 1),
				  FLUSH(0) } },
	{ "join-then-flush",	{ ADD(0, 0), ADD(0, 3), JOIN(0), ADD(0, 4),
				  TRIM(0, MAT_NONE_CLEAN, 3), FLUSH(0) } },
	{ "join-folded",	{ ADD(0, 1), ADD(1, 2), FOLD(0, 1), JOIN(0),
				  FLUSH(0) } },
	{ "join-empty",		{ JOIN(0) } },
};

static void mat_case_desc(const struct mat_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(mat, mat_cases, mat_case_desc);

/* What the trim stubs answer. */
static u64 *mat_clean;

static u64 mat_clean_stub(int cpu)
{
	return mat_clean[cpu];
}

/* The n-th online CPU, counting round the online mask. */
static int mat_nth_cpu(unsigned int n)
{
	return cpumask_nth(n % num_online_cpus(), cpu_online_mask);
}

static void mat_set_clean(enum mat_clean clean, u64 gen)
{
	unsigned int n = 0, last = num_online_cpus() - 1;
	int cpu;

	for_each_possible_cpu(cpu)
		mat_clean[cpu] = gen - 1;
	for_each_online_cpu(cpu) {
		switch (clean) {
		case MAT_NONE_CLEAN:
			break;
		case MAT_ALL_CLEAN:
			mat_clean[cpu] = gen;
			break;
		case MAT_HALF_CLEAN:
			if (n % 2 == 0)
				mat_clean[cpu] = gen;
			break;
		case MAT_ALL_BUT_ONE:
			if (n != last)
				mat_clean[cpu] = gen + 1;
			break;
		}
		n++;
	}
	if (clean == MAT_ALL_CLEAN)
		for_each_possible_cpu(cpu)
			mat_clean[cpu] = gen;
}

static unsigned long mat_events[NR_VM_EVENT_ITEMS];

static unsigned long mat_event(enum vm_event_item item)
{
	all_vm_events(mat_events);
	return mat_events[item];
}

static void mat_mmput(void *mm)
{
	mmput(mm);
}

#ifdef CONFIG_ARM64

/*
 * The model: the set of ASIDs a batch must invalidate, or all of them.
 * Fake ASIDs, far from the allocator's: invalidating them is harmless.
 */
struct mat_model {
	unsigned long	asids;		/* bit per test mm */
	bool		all;
};

static u16 mat_asid(int i)
{
	return 0xf000 + 2 * i;
}

static struct mm_struct *mat_mm(struct kunit *test, int i)
{
	struct mm_struct *mm = mm_alloc();

	KUNIT_ASSERT_NOT_NULL(test, mm);
	atomic64_set(&mm->context.id, mat_asid(i));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, mat_mmput, mm));
	return mm;
}

/* An mm every CPU may cache: for the cases that seal a real batch. */
static struct mm_struct *mat_mm_everywhere(struct kunit *test)
{
	return mat_mm(test, MAT_MMS);
}

static void mat_model_add(struct mat_model *m, int i)
{
	m->asids |= BIT(i);
	if (hweight_long(m->asids) > ARM64_MIGRC_ASIDS)
		m->all = true;
}

static void mat_model_fold(struct mat_model *dst, const struct mat_model *src)
{
	dst->asids |= src->asids;
	dst->all |= src->all || hweight_long(dst->asids) > ARM64_MIGRC_ASIDS;
}

/* Broadcast: only a flush on every CPU since @gen covers an ASID. */
static void mat_model_trim(struct mat_model *m, u64 gen)
{
	int cpu;

	for_each_possible_cpu(cpu)
		if (migrc_gen_before(mat_clean[cpu], gen))
			return;
	m->asids = 0;
	m->all = false;
}

static void mat_model_flush(struct mat_model *m)
{
	m->asids = 0;
	m->all = false;
}

static bool mat_model_empty(const struct mat_model *m)
{
	return !m->asids;
}

static void mat_expect_equal(struct kunit *test, const struct mat_model *m,
			     const struct arch_migrc_batch *b, int step)
{
	unsigned int i;
	int mm;

	if (m->all) {
		KUNIT_EXPECT_GT_MSG(test, b->nr_asids, ARM64_MIGRC_ASIDS,
				    "step %d: %u ASIDs recorded, want all", step,
				    b->nr_asids);
		return;
	}
	KUNIT_EXPECT_EQ_MSG(test, b->nr_asids, hweight_long(m->asids),
			    "step %d", step);
	for_each_set_bit(mm, &m->asids, MAT_MMS) {
		bool found = false;

		for (i = 0; i < min(b->nr_asids, ARM64_MIGRC_ASIDS); i++)
			found |= b->asids[i] == mat_asid(mm);
		KUNIT_EXPECT_TRUE_MSG(test, found, "step %d: ASID %#x of mm %d lost",
				      step, mat_asid(mm), mm);
	}
}

/* One TLBI ASIDE1IS per ASID, one VMALLE1IS for all; broadcast, no CPUs. */
static void mat_expect_flush_cost(struct kunit *test, const struct mat_model *m,
				  unsigned long rounds, unsigned long cpus, int step)
{
	unsigned long want = m->all ? 1 : hweight_long(m->asids);

	KUNIT_EXPECT_EQ_MSG(test, rounds, want, "step %d: TLBIs", step);
	KUNIT_EXPECT_EQ_MSG(test, cpus, 0UL, "step %d", step);
}

static void mat_stub_arch(struct kunit *test)
{
}

/* arm64 leaves nothing to the unmap flush: the core flushes the batch. */
static void mat_expect_join(struct kunit *test, const struct mat_model *m,
			    bool joined, int step)
{
	KUNIT_EXPECT_FALSE_MSG(test, joined, "step %d", step);
	KUNIT_EXPECT_FALSE_MSG(test, current->tlb_ubc.flush_required, "step %d", step);
}

#else /* the cpumask backends: x86, riscv */

struct mat_model {
	struct cpumask	cpus;
};

/* mm i may be cached by two CPUs, i and i + 1 round the online mask. */
static struct mm_struct *mat_mm(struct kunit *test, int i)
{
	struct mm_struct *mm = mm_alloc();

	KUNIT_ASSERT_NOT_NULL(test, mm);
	cpumask_set_cpu(mat_nth_cpu(i), mm_cpumask(mm));
	cpumask_set_cpu(mat_nth_cpu(i + 1), mm_cpumask(mm));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, mat_mmput, mm));
	return mm;
}

static struct mm_struct *mat_mm_everywhere(struct kunit *test)
{
	struct mm_struct *mm = mat_mm(test, 0);

	cpumask_copy(mm_cpumask(mm), cpu_online_mask);
	return mm;
}

static void mat_model_add(struct mat_model *m, int i)
{
	cpumask_set_cpu(mat_nth_cpu(i), &m->cpus);
	cpumask_set_cpu(mat_nth_cpu(i + 1), &m->cpus);
}

static void mat_model_fold(struct mat_model *dst, const struct mat_model *src)
{
	cpumask_or(&dst->cpus, &dst->cpus, &src->cpus);
}

/* Per CPU: a CPU clean at or after @gen can be left out. */
static void mat_model_trim(struct mat_model *m, u64 gen)
{
	int cpu;

	for_each_cpu(cpu, &m->cpus)
		if (!migrc_gen_before(mat_clean[cpu], gen))
			cpumask_clear_cpu(cpu, &m->cpus);
}

static void mat_model_flush(struct mat_model *m)
{
	cpumask_clear(&m->cpus);
}

static bool mat_model_empty(const struct mat_model *m)
{
	return cpumask_empty(&m->cpus);
}

static void mat_expect_equal(struct kunit *test, const struct mat_model *m,
			     const struct arch_migrc_batch *b, int step)
{
	KUNIT_EXPECT_TRUE_MSG(test, cpumask_equal(&m->cpus, &b->ubc.cpumask),
			      "step %d: batch has CPUs %*pbl, want %*pbl", step,
			      cpumask_pr_args(&b->ubc.cpumask),
			      cpumask_pr_args(&m->cpus));
}

/*
 * At most one round, to at most the CPUs of the batch other than this
 * one (x86 also leaves out CPUs in lazy TLB mode, which vary at run time).
 */
static void mat_expect_flush_cost(struct kunit *test, const struct mat_model *m,
				  unsigned long rounds, unsigned long cpus, int step)
{
	KUNIT_EXPECT_LE_MSG(test, cpus, (unsigned long)cpumask_weight(&m->cpus),
			    "step %d", step);
	KUNIT_EXPECT_EQ_MSG(test, rounds, cpus ? 1UL : 0UL, "step %d", step);
}

/*
 * The unmap flush now covers exactly the batch's CPUs (the task had none
 * pending before), and the batch keeps them.  The test then drops what it
 * handed over: nothing of it was cached anywhere.
 */
static void mat_expect_join(struct kunit *test, const struct mat_model *m,
			    bool joined, int step)
{
	struct tlbflush_unmap_batch *tlb_ubc = &current->tlb_ubc;

	KUNIT_EXPECT_TRUE_MSG(test, joined, "step %d", step);
	KUNIT_EXPECT_TRUE_MSG(test, tlb_ubc->flush_required, "step %d", step);
	KUNIT_EXPECT_TRUE_MSG(test, cpumask_equal(&m->cpus, &tlb_ubc->arch.cpumask),
			      "step %d: the unmap flush has CPUs %*pbl, want %*pbl",
			      step, cpumask_pr_args(&tlb_ubc->arch.cpumask),
			      cpumask_pr_args(&m->cpus));
	cpumask_clear(&tlb_ubc->arch.cpumask);
	tlb_ubc->flush_required = false;
}

#ifdef CONFIG_X86
/* The generic cases leave every CPU behind each mm's tlb_gen. */
static u64 mat_ctx_behind_stub(int cpu, u64 ctx_id)
{
	return 0;
}

static void mat_stub_arch(struct kunit *test)
{
	kunit_activate_static_stub(test, x86_migrc_cpu_ctx_gen, mat_ctx_behind_stub);
}
#else
static void mat_stub_arch(struct kunit *test)
{
}
#endif

#endif /* CONFIG_ARM64 */

/*
 * Run one table of steps on real batches and on the model; after each
 * step they must describe the same thing, a trim must say whether
 * anything is left, and a flush must cost what the model says.
 */
static void mat_test_contract(struct kunit *test)
{
	const struct mat_case *c = test->param_value;
	struct arch_migrc_batch *b;
	struct mat_model *m;
	struct mm_struct *mm[MAT_MMS];
	int i;

	b = kunit_kcalloc(test, MAT_BATCHES, sizeof(*b), GFP_KERNEL);
	m = kunit_kcalloc(test, MAT_BATCHES, sizeof(*m), GFP_KERNEL);
	mat_clean = kunit_kcalloc(test, nr_cpu_ids, sizeof(u64), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_ASSERT_NOT_NULL(test, mat_clean);
	kunit_activate_static_stub(test, migrc_cpu_clean_gen, mat_clean_stub);
	mat_stub_arch(test);
	for (i = 0; i < MAT_MMS; i++)
		mm[i] = mat_mm(test, i);
	for (i = 0; i < MAT_BATCHES; i++)
		arch_migrc_batch_init(&b[i]);

	for (i = 0; i < MAT_STEPS && c->steps[i].op != MAT_END; i++) {
		const struct mat_step *s = &c->steps[i];
		struct arch_migrc_batch *batch = &b[s->batch];
		struct mat_model *model = &m[s->batch];
		unsigned long rounds, cpus;
		bool empty, joined;

		switch (s->op) {
		case MAT_ADD:
			arch_migrc_add(batch, mm[s->arg], 0x100000 + s->arg * PAGE_SIZE);
			mat_model_add(model, s->arg);
			break;
		case MAT_FOLD:
			arch_migrc_fold(batch, &b[s->arg]);
			mat_model_fold(model, &m[s->arg]);
			break;
		case MAT_TRIM:
			mat_set_clean(s->arg, s->gen);
			empty = arch_migrc_trim(batch, s->gen);
			mat_model_trim(model, s->gen);
			KUNIT_EXPECT_EQ_MSG(test, empty, mat_model_empty(model),
					    "step %d: trim's answer", i);
			break;
		case MAT_FLUSH:
			rounds = mat_event(MIGRC_FLUSH_ROUNDS);
			cpus = mat_event(MIGRC_FLUSH_CPUS);
			arch_migrc_flush(batch);
			rounds = mat_event(MIGRC_FLUSH_ROUNDS) - rounds;
			cpus = mat_event(MIGRC_FLUSH_CPUS) - cpus;
			mat_expect_flush_cost(test, model, rounds, cpus, i);
			mat_model_flush(model);
			break;
		case MAT_JOIN:
			KUNIT_ASSERT_FALSE(test, current->tlb_ubc.flush_required);
			joined = migrc_arch_join_unmap_flush(batch);
			mat_expect_join(test, model, joined, i);
			break;
		case MAT_END:
			break;
		}
		mat_expect_equal(test, model, batch, i);
	}
}

#ifdef CONFIG_X86

/* ------------------------------------------------------------------ */
/* x86: the trim by each mm's tlb_gen */

enum mat_ctx {
	MAT_CTX_BEHIND,		/* slot one generation short */
	MAT_CTX_EXACT,		/* slot caught up exactly */
	MAT_CTX_AHEAD,		/* slot past it */
	MAT_CTX_ABSENT,		/* no slot holds the mm */
};

static struct {
	u64		ctx_id[2];
	u64		tlb_gen[2];
	enum mat_ctx	state[2][NR_CPUS];
} mat_ctx;

static u64 mat_ctx_stub(int cpu, u64 ctx_id)
{
	int i = ctx_id == mat_ctx.ctx_id[1];

	switch (mat_ctx.state[i][cpu]) {
	case MAT_CTX_BEHIND:
		return mat_ctx.tlb_gen[i] - 1;
	case MAT_CTX_EXACT:
		return mat_ctx.tlb_gen[i];
	case MAT_CTX_AHEAD:
		return mat_ctx.tlb_gen[i] + 1;
	case MAT_CTX_ABSENT:
		break;
	}
	return U64_MAX;
}

/*
 * A CPU is dropped only when, for every mm of the batch, its slot caught
 * up with the mm's tlb_gen after the deferral or it holds no slot; one
 * generation short for either mm keeps it.  Past the mms a batch can
 * follow, only reported full flushes count.
 */
static void mat_test_x86_trim_tlb_gen(struct kunit *test)
{
	struct arch_migrc_batch *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	struct mm_struct *mm[MAT_MMS];
	int i, cpu, n;

	KUNIT_ASSERT_NOT_NULL(test, b);
	mat_clean = kunit_kcalloc(test, nr_cpu_ids, sizeof(u64), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mat_clean);
	kunit_activate_static_stub(test, migrc_cpu_clean_gen, mat_clean_stub);
	kunit_activate_static_stub(test, x86_migrc_cpu_ctx_gen, mat_ctx_stub);
	for (i = 0; i < MAT_MMS; i++)
		mm[i] = mat_mm(test, i);

	/* Two mms, every CPU in the batch; every pair of states in turn. */
	for (n = 0; n < 16; n++) {
		arch_migrc_batch_init(b);
		for (i = 0; i < 2; i++) {
			arch_migrc_add(b, mm[i], 0x100000);
			mat_ctx.ctx_id[i] = mm[i]->context.ctx_id;
			mat_ctx.tlb_gen[i] = atomic64_read(&mm[i]->context.tlb_gen);
		}
		cpumask_copy(&b->ubc.cpumask, cpu_online_mask);
		i = 0;
		for_each_online_cpu(cpu) {
			mat_ctx.state[0][cpu] = (n + i) % 4;
			mat_ctx.state[1][cpu] = (n / 4 + i) % 4;
			i++;
		}
		mat_set_clean(MAT_NONE_CLEAN, 10);
		arch_migrc_trim(b, 10);
		for_each_online_cpu(cpu) {
			bool behind = mat_ctx.state[0][cpu] == MAT_CTX_BEHIND ||
				      mat_ctx.state[1][cpu] == MAT_CTX_BEHIND;

			KUNIT_EXPECT_EQ_MSG(test, cpumask_test_cpu(cpu, &b->ubc.cpumask),
					    behind, "round %d cpu %d: states %d %d", n,
					    cpu, mat_ctx.state[0][cpu],
					    mat_ctx.state[1][cpu]);
		}
	}

	/* Too many mms to follow: caught up or not, every CPU stays. */
	arch_migrc_batch_init(b);
	for (i = 0; i < MAT_MMS; i++)
		arch_migrc_add(b, mm[i], 0);
	cpumask_copy(&b->ubc.cpumask, cpu_online_mask);
	for_each_online_cpu(cpu) {
		mat_ctx.state[0][cpu] = MAT_CTX_ABSENT;
		mat_ctx.state[1][cpu] = MAT_CTX_ABSENT;
	}
	KUNIT_EXPECT_FALSE(test, arch_migrc_trim(b, 10));
	KUNIT_EXPECT_TRUE(test, cpumask_equal(&b->ubc.cpumask, cpu_online_mask));
	arch_migrc_flush(b);
}

/* A kthread on one CPU that runs with an mm and switches when told. */
enum mat_cmd { MAT_RESWITCH, MAT_LEAVE };

struct mat_user {
	struct mm_struct	*mm, *other;
	struct task_struct	*task;
	int			cmd;
	atomic_t		go, done;
	unsigned long		beat;	/* one more each turn of its loop */
	bool			exit;
};

static int mat_user_fn(void *arg)
{
	struct mat_user *u = arg;
	int seen = 0;

	kthread_use_mm(u->mm);
	atomic_set_release(&u->done, 1);
	/* Pairs with the WRITE_ONCE() in mat_test_x86_trim_real(). */
	while (!READ_ONCE(u->exit)) {
		/* Pairs with the READ_ONCE()s in mat_test_x86_trim_real(). */
		WRITE_ONCE(u->beat, u->beat + 1);
		if (atomic_read_acquire(&u->go) == seen) {
			/* Let the CPU's other work run now and then. */
			cond_resched();
			continue;
		}
		seen++;
		/* Lazy, then back: the switch catches up with tlb_gen. */
		kthread_unuse_mm(u->mm);
		if (u->cmd == MAT_LEAVE)
			swap(u->mm, u->other);
		kthread_use_mm(u->mm);
		atomic_inc_return_release(&u->done);
	}
	kthread_unuse_mm(u->mm);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

static void mat_user_do(struct mat_user *u, int cmd)
{
	int done = atomic_read(&u->done);

	u->cmd = cmd;
	atomic_inc_return_release(&u->go);
	while (atomic_read_acquire(&u->done) == done)
		schedule_timeout_uninterruptible(1);
}

static unsigned long mat_switches(struct task_struct *t)
{
	/* The scheduler's own counters, read from another CPU. */
	return READ_ONCE(t->nvcsw) + READ_ONCE(t->nivcsw);
}

/*
 * TLB flush IPIs @cpu took (the TLB row of /proc/interrupts).  Pairs with
 * the inc_irq_stat() in flush_tlb_func(), which @cpu makes before it writes
 * its slot's tlb_gen: x86 orders the stores, and the trim's read of that
 * tlb_gen comes before this read, so a flush the trim saw is counted here.
 */
static unsigned int mat_tlb_irqs(int cpu)
{
	return READ_ONCE(per_cpu(irq_stat, cpu).irq_tlb_count);
}

/*
 * The same trim on the real per-CPU TLB state: a CPU running the mm stays
 * in the batch until it catches up with the mm's tlb_gen; one that went
 * lazy and came back caught up, one that moved to another mm holds no
 * slot for it (without PCIDs) or one it flushes before use: both go.
 * A CPU running the mm that was switched out meanwhile (cond_resched())
 * catches up when it comes back, so only one that was not may be kept.
 */
static void mat_test_x86_trim_real(struct kunit *test)
{
	struct mm_struct *mm = mat_mm(test, 0), *other = mat_mm(test, 1);
	struct arch_migrc_batch *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	struct mat_user *u;
	int cpus[3], i;
	unsigned long switches, beat;
	unsigned int irqs[3];
	u64 gen;

	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_GE(test, num_online_cpus(), 4U);
	u = kunit_kcalloc(test, 3, sizeof(*u), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, u);
	cpumask_clear(mm_cpumask(mm));
	cpumask_clear(mm_cpumask(other));
	for (i = 0; i < 3; i++) {
		cpus[i] = mat_nth_cpu(i + 1);
		u[i].mm = mm;
		u[i].other = other;
		u[i].task = kthread_create_on_cpu(mat_user_fn, &u[i], cpus[i],
						  "migrc-arch/%u");
		KUNIT_ASSERT_FALSE(test, IS_ERR(u[i].task));
		wake_up_process(u[i].task);
	}
	for (i = 0; i < 3; i++)
		while (!atomic_read_acquire(&u[i].done))
			schedule_timeout_uninterruptible(1);

	arch_migrc_batch_init(b);
	/*
	 * The generation a batch sealed now would get.  The trim also drops
	 * a CPU that reported a full flush since then (KASAN's vmalloc purges
	 * flush all CPUs at any time), so the checks below allow for that.
	 * A full flush from before the batch must not count: make one.
	 */
	flush_tlb_all();
	gen = migrc_read_gen() + 1;
	switches = mat_switches(u[0].task);
	/*
	 * The switch counters count switches out.  A thread switched out
	 * before they were read and back in after the add would catch up
	 * in switch_mm_irqs_off() uncounted: see it run after the read, so
	 * that any later catch-up needs a counted switch out.
	 */
	beat = READ_ONCE(u[0].beat);
	while (READ_ONCE(u[0].beat) == beat)
		schedule_timeout_uninterruptible(1);
	/*
	 * Any remote flush that reaches a CPU (a batched one of reclaim, of
	 * a migration, or of a migrc batch retiring by age) flushes the mm
	 * it runs and catches that up with its tlb_gen: the trim may then
	 * drop it, rightly.  Count them.
	 */
	for (i = 0; i < 3; i++)
		irqs[i] = mat_tlb_irqs(cpus[i]);
	arch_migrc_add(b, mm, 0x100000);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_TRUE(test, cpumask_test_cpu(cpus[i], &b->ubc.cpumask));

	mat_user_do(&u[1], MAT_RESWITCH);
	mat_user_do(&u[2], MAT_LEAVE);
	arch_migrc_trim(b, gen);
	KUNIT_EXPECT_TRUE_MSG(test, cpumask_test_cpu(cpus[0], &b->ubc.cpumask) ||
			      mat_switches(u[0].task) != switches ||
			      mat_tlb_irqs(cpus[0]) != irqs[0] ||
			      migrc_cpu_clean_since(cpus[0], gen),
			      "cpu %d runs the mm and has not flushed", cpus[0]);
	KUNIT_EXPECT_FALSE_MSG(test, cpumask_test_cpu(cpus[1], &b->ubc.cpumask),
			       "cpu %d caught up with the mm's tlb_gen", cpus[1]);
	if (cpu_feature_enabled(X86_FEATURE_PCID))
		KUNIT_EXPECT_TRUE_MSG(test, cpumask_test_cpu(cpus[2], &b->ubc.cpumask) ||
				      mat_tlb_irqs(cpus[2]) != irqs[2] ||
				      migrc_cpu_clean_since(cpus[2], gen),
				      "cpu %d keeps a PCID slot of the mm, behind", cpus[2]);
	else
		KUNIT_EXPECT_FALSE_MSG(test, cpumask_test_cpu(cpus[2], &b->ubc.cpumask),
				       "cpu %d moved to another mm", cpus[2]);

	arch_migrc_flush(b);
	for (i = 0; i < 3; i++) {
		/* Pairs with the READ_ONCE() in mat_user_fn(). */
		WRITE_ONCE(u[i].exit, true);
		kthread_stop(u[i].task);
	}
}

#endif /* CONFIG_X86 */

/* ------------------------------------------------------------------ */
/* The arch TLB code reports its full flushes */

/*
 * A batch sealed now has a generation no CPU has reported yet: the cases
 * below must see the report of a later flush, not an earlier one.
 */
static u64 mat_seal_one(struct kunit *test, struct folio **folio)
{
	struct mm_struct *mm = mat_mm_everywhere(test);
	struct migrc_batch *batch = migrc_batch_open(1);
	u64 gen;
	int cpu, behind = 0;

	KUNIT_ASSERT_NOT_NULL(test, batch);
	*folio = folio_alloc(GFP_KERNEL, 0);
	KUNIT_ASSERT_NOT_NULL(test, *folio);
	folio_get(*folio);
	migrc_batch_add_pte(batch, mm, 0x100000);
	migrc_batch_add_folio(batch, *folio);
	migrc_batch_seal(batch);
	gen = migrc_read_gen();
	for_each_online_cpu(cpu)
		behind += !migrc_cpu_clean_since(cpu, gen);
	KUNIT_ASSERT_GT_MSG(test, behind, 0,
			    "every CPU reported a flush since generation %llu already",
			    gen);
	return gen;
}

static void mat_release(struct kunit *test, struct folio *folio)
{
	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	KUNIT_EXPECT_EQ(test, folio_ref_count(folio), 1);
	folio_put(folio);
}

static void mat_expect_all_clean(struct kunit *test, u64 gen, const char *how)
{
	int cpu;

	for_each_online_cpu(cpu)
		KUNIT_EXPECT_TRUE_MSG(test, migrc_cpu_clean_since(cpu, gen),
				      "cpu %d: no report of %s since generation %llu",
				      cpu, how, gen);
}

#if defined(CONFIG_X86) || defined(CONFIG_RISCV)
/* flush_tlb_all() empties every CPU's TLB, and the trim learns it. */
static void mat_test_flush_all_reported(struct kunit *test)
{
	struct folio *folio;
	u64 gen = mat_seal_one(test, &folio);

	unsigned long flushes;

	flush_tlb_all();
	mat_expect_all_clean(test, gen, "flush_tlb_all()");
	KUNIT_ASSERT_EQ_MSG(test, migrc_nr_pending(), 1UL,
			    "the batch retired before the trim could spare its flush");
	flushes = mat_event(MIGRC_FLUSH_ROUNDS);
	mat_release(test, folio);
	KUNIT_EXPECT_EQ_MSG(test, mat_event(MIGRC_FLUSH_ROUNDS), flushes,
			    "the batch was flushed although every CPU was clean");
}
#endif

#if defined(CONFIG_ARM64) || defined(CONFIG_RISCV)

/* One switch to a fresh mm on this CPU: the first after a rollover flushes. */
static long mat_switch_fn(void *arg)
{
	struct mm_struct *mm = mm_alloc();

	if (!mm)
		return -ENOMEM;
	kthread_use_mm(mm);
	kthread_unuse_mm(mm);
	mmput(mm);
	return 0;
}

/* Switch to fresh mms on this CPU until the ASID allocator rolls over. */
static long mat_rollover_fn(void *arg)
{
	u64 gen = *(u64 *)arg;
	long n, ret;

	for (n = 0; n < (1L << 18); n++) {
		ret = mat_switch_fn(NULL);
		if (ret)
			return ret;
		if (migrc_cpu_clean_since(raw_smp_processor_id(), gen))
			return 0;
		if (n % 1024 == 0)
			cond_resched();
	}
	return -ETIMEDOUT;
}

/*
 * An ASID rollover makes every CPU flush its whole TLB at its next switch;
 * each reports it, and once all have, a batch sealed before retires with
 * no invalidation at all.
 */
static void mat_test_rollover_reported(struct kunit *test)
{
	struct folio *folio;
	u64 gen = mat_seal_one(test, &folio);
	int first = mat_nth_cpu(0), cpu;
	unsigned long flushes;

	KUNIT_ASSERT_EQ_MSG(test, work_on_cpu(first, mat_rollover_fn, &gen), 0L,
			    "no rollover flush reported on cpu %d after 2^18 new mms",
			    first);
	for_each_online_cpu(cpu)
		if (cpu != first)
			KUNIT_ASSERT_EQ(test, work_on_cpu(cpu, mat_switch_fn, NULL), 0L);
	mat_expect_all_clean(test, gen, "the rollover flush");
	KUNIT_ASSERT_EQ_MSG(test, migrc_nr_pending(), 1UL,
			    "the batch retired before the trim could spare its flush");
	flushes = mat_event(MIGRC_FLUSH_ROUNDS);
	mat_release(test, folio);
	/* arm64's trim needs every possible CPU; offline ones never report. */
	if (num_possible_cpus() == num_online_cpus())
		KUNIT_EXPECT_EQ_MSG(test, mat_event(MIGRC_FLUSH_ROUNDS), flushes,
				    "the batch was flushed although every CPU was clean");
}
#endif

/* vm.migrc_max_age_ms as the case found it. */
static unsigned int mat_saved_age;

/*
 * No batch retires by age behind a case's back: the cases that check
 * whether the trim spared a flush must find their batch still pending.
 */
static int mat_init(struct kunit *test)
{
	/* Pairs with the WRITE_ONCE() in migrc_set_max_age(). */
	mat_saved_age = READ_ONCE(migrc_max_age_ms);
	migrc_set_max_age(MIGRC_MAX_AGE_MS);
	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	return 0;
}

static void mat_exit(struct kunit *test)
{
	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	migrc_set_max_age(mat_saved_age);
}

static struct kunit_case migrc_arch_test_cases[] = {
	KUNIT_CASE_PARAM(mat_test_contract, mat_gen_params),
#ifdef CONFIG_X86
	KUNIT_CASE(mat_test_x86_trim_tlb_gen),
	KUNIT_CASE(mat_test_x86_trim_real),
#endif
#if defined(CONFIG_X86) || defined(CONFIG_RISCV)
	KUNIT_CASE(mat_test_flush_all_reported),
#endif
#if defined(CONFIG_ARM64) || defined(CONFIG_RISCV)
	KUNIT_CASE_SLOW(mat_test_rollover_reported),
#endif
	{}
};

static struct kunit_suite migrc_arch_test_suite = {
	.name = "migrc_arch",
	.init = mat_init,
	.exit = mat_exit,
	.test_cases = migrc_arch_test_cases,
};

kunit_test_suite(migrc_arch_test_suite);

MODULE_DESCRIPTION("KUnit tests for the migrc arch backends");
MODULE_LICENSE("GPL");
