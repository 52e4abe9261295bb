// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the migrc core.
 *
 * Built into the kernel (CONFIG_MIGRC_KUNIT_TEST=y): the cases reach
 * internals that are not exported.  They need at least four online CPUs
 * and two online NUMA nodes; lib/migrc/qemu_configs/ has QEMU machines
 * that provide them.
 *
 * The cases drive the core with real folios but without page tables: a
 * batch is filled with folios the test allocated (and holds one extra
 * reference to, so that "freed exactly once" is a refcount it can check),
 * and the backend is either the real one on an mm no CPU uses, or a
 * static stub that records what the core asked of it.
 */

#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/limits.h>
#include <linux/migrate_mode.h>
#include <linux/migrc.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/pagemap.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/string.h>
#include <linux/sysctl.h>
#include <linux/utsname.h>
#include <linux/vmstat.h>

#include "migrc.h"

#define MIGRC_TEST_MIN_CPUS	4
#define MIGRC_TEST_MIN_NODES	2

/* ------------------------------------------------------------------ */
/* Helpers */

struct migrc_test_saved {
	unsigned long cap;
	unsigned int age;
};

static struct migrc_test_saved migrc_test_saved;

/*
 * Each case starts from nothing pending, migrc on, and tunables that
 * keep the background workers out of the way: a large cap and the
 * longest age.  The old values come back afterwards.
 */
static int migrc_test_init(struct kunit *test)
{
	migrc_test_saved.cap = READ_ONCE(migrc_max_pending_pages);
	migrc_test_saved.age = READ_ONCE(migrc_max_age_ms);
	WRITE_ONCE(migrc_max_pending_pages, totalram_pages());
	migrc_set_max_age(MIGRC_MAX_AGE_MS);
	migrc_set_enabled(true);
	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	return 0;
}

static void migrc_test_exit(struct kunit *test)
{
	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	WRITE_ONCE(migrc_max_pending_pages, migrc_test_saved.cap);
	migrc_set_max_age(migrc_test_saved.age);
	migrc_set_enabled(true);
}

/* Only the test thread reads events, so one buffer does. */
static unsigned long migrc_test_events[NR_VM_EVENT_ITEMS];

static unsigned long migrc_test_event(enum vm_event_item item)
{
	all_vm_events(migrc_test_events);
	return migrc_test_events[item];
}

static long migrc_test_stat(enum migrc_stat item)
{
	return atomic_long_read(&migrc_stats.counter[item]);
}

/* A folio on @nid with an extra reference the test keeps. */
static struct folio *migrc_test_folio(struct kunit *test, int nid)
{
	struct folio *folio;

	folio = __folio_alloc_node(GFP_KERNEL | __GFP_THISNODE, 0, nid);
	KUNIT_ASSERT_NOT_NULL(test, folio);
	folio_get(folio);
	return folio;
}

/*
 * The core held the other reference; exactly one folio_put() by the
 * core leaves ours alone.  Returns false on any other count.
 */
static bool migrc_test_release(struct folio *folio)
{
	if (folio_ref_count(folio) != 1)
		return false;
	folio_put(folio);
	return true;
}

/* Each of @nr folios was freed exactly once by the core. */
static void migrc_test_release_all(struct kunit *test, struct folio **folios,
				   int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		KUNIT_EXPECT_TRUE_MSG(test, migrc_test_release(folios[i]),
				      "folio %d freed %s", i,
				      folio_ref_count(folios[i]) > 1 ? "never" : "twice");
}

/* Open a batch, fill it with @nr folios from @nid, seal it. */
static void migrc_test_defer(struct kunit *test, int nid, int nr,
			     struct folio **folios)
{
	struct migrc_batch *batch = migrc_batch_open(nr);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, batch);
	for (i = 0; i < nr; i++) {
		folios[i] = migrc_test_folio(test, nid);
		migrc_batch_add_folio(batch, folios[i]);
	}
	migrc_batch_seal(batch);
}

static int migrc_test_second_node(void)
{
	return next_node(first_memory_node, node_states[N_MEMORY]);
}

/* Stubs recording what the core asked of the backend. */
static int migrc_test_flushes;
static bool migrc_test_trim_result;

static void migrc_test_flush_stub(struct arch_migrc_batch *arch)
{
	migrc_test_flushes++;
	arch_migrc_batch_init(arch);
}

static bool migrc_test_trim_stub(struct migrc_batch *batch)
{
	return migrc_test_trim_result;
}

static int migrc_test_mm_flushes;

static void migrc_test_flush_mm_stub(struct mm_struct *mm)
{
	migrc_test_mm_flushes++;
}

/* ------------------------------------------------------------------ */
/* The machine and the backend */

/*
 * The other cases need several CPUs sharing an mm and two nodes to
 * migrate between.  Fail loudly when the machine is smaller, so that a
 * misconfigured QEMU cannot turn those cases into silent skips.
 */
static void migrc_test_topology(struct kunit *test)
{
	int nid, with_memory = 0;

	KUNIT_EXPECT_GE_MSG(test, num_online_cpus(), MIGRC_TEST_MIN_CPUS,
			    "boot with -smp %d or more", MIGRC_TEST_MIN_CPUS);
	KUNIT_EXPECT_GE_MSG(test, num_online_nodes(), MIGRC_TEST_MIN_NODES,
			    "boot with %d or more NUMA nodes", MIGRC_TEST_MIN_NODES);
	for_each_node_state(nid, N_MEMORY)
		with_memory++;
	KUNIT_EXPECT_GE_MSG(test, with_memory, MIGRC_TEST_MIN_NODES,
			    "need %d nodes with memory to migrate between",
			    MIGRC_TEST_MIN_NODES);
}

/* The backend compiled in is the one for the machine we booted on. */
static void migrc_test_backend(struct kunit *test)
{
	static const struct {
		const char *machine, *backend;
	} map[] = {
		{ "x86_64",	"x86_64" },
		{ "aarch64",	"arm64" },
		{ "riscv64",	"riscv64" },
	};
	const char *machine = init_utsname()->machine;
	int i;

	for (i = 0; i < ARRAY_SIZE(map); i++) {
		if (!strcmp(machine, map[i].machine)) {
			KUNIT_EXPECT_STREQ(test, ARCH_MIGRC_NAME, map[i].backend);
			return;
		}
	}
	KUNIT_FAIL(test, "no migrc backend is known for machine %s", machine);
}

/* ------------------------------------------------------------------ */
/* Generations */

struct migrc_gen_case {
	const char *name;
	u64 a, b;
	bool before;
};

static const struct migrc_gen_case migrc_gen_cases[] = {
	{ "equal",		5,		5,		false },
	{ "older",		5,		6,		true  },
	{ "newer",		6,		5,		false },
	{ "zero-vs-one",	0,		1,		true  },
	{ "wrap-older",		U64_MAX,	0,		true  },
	{ "wrap-newer",		0,		U64_MAX,	false },
	{ "wrap-far",		U64_MAX - 10,	20,		true  },
	{ "half-minus-one",	0,		S64_MAX,	true  },
	{ "past-half",		0,		(u64)S64_MAX + 2, false },
};

static void migrc_gen_case_desc(const struct migrc_gen_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(migrc_gen, migrc_gen_cases, migrc_gen_case_desc);

/* migrc_gen_after_eq() must be the exact negation of migrc_gen_before(). */
static void migrc_test_gen_compare(struct kunit *test)
{
	const struct migrc_gen_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, migrc_gen_before(c->a, c->b), c->before);
	KUNIT_EXPECT_EQ(test, migrc_gen_after_eq(c->a, c->b), !c->before);
}

/* Walking across the wrap point, each step must stay "after" the last. */
static void migrc_test_gen_monotonic_across_wrap(struct kunit *test)
{
	u64 g = U64_MAX - 100;
	int i;

	for (i = 0; i < 200; i++, g++) {
		KUNIT_ASSERT_TRUE(test, migrc_gen_before(g, g + 1));
		KUNIT_ASSERT_TRUE(test, migrc_gen_after_eq(g + 1, g));
		KUNIT_ASSERT_FALSE(test, migrc_gen_before(g + 1, g));
	}
}

/* Sealing hands out consecutive generations, in list order. */
static void migrc_test_seal_generations(struct kunit *test)
{
	struct folio *folios[2];
	u64 before = migrc_read_gen();

	migrc_test_defer(test, first_memory_node, 1, &folios[0]);
	KUNIT_EXPECT_EQ(test, migrc_read_gen(), before + 1);
	migrc_test_defer(test, first_memory_node, 1, &folios[1]);
	KUNIT_EXPECT_EQ(test, migrc_read_gen(), before + 2);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending_batches(), 2UL);

	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	migrc_test_release_all(test, folios, 2);
}

/* ------------------------------------------------------------------ */
/* The trim */

/* Per-CPU clean generations the trim sees, by CPU index. */
static u64 *migrc_test_clean;

static u64 migrc_test_clean_stub(int cpu)
{
	return migrc_test_clean[cpu];
}

static void migrc_test_clean_setup(struct kunit *test)
{
	migrc_test_clean = kunit_kcalloc(test, nr_cpu_ids, sizeof(u64), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, migrc_test_clean);
	kunit_activate_static_stub(test, migrc_cpu_clean_gen, migrc_test_clean_stub);
}

/*
 * A CPU is dropped only when it is clean at or after the batch's
 * generation: one generation short must keep it (an off-by-one here
 * frees a folio some CPU may still read).
 */
static void migrc_test_trim_off_by_one(struct kunit *test)
{
	const u64 gens[] = { U64_MAX - 1, 0, 1, 1000 };
	struct cpumask *mask;
	int i, cpu;

	mask = kunit_kzalloc(test, cpumask_size(), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mask);
	migrc_test_clean_setup(test);

	for (i = 0; i < ARRAY_SIZE(gens); i++) {
		u64 gen = gens[i];
		int n = 0;

		cpumask_clear(mask);
		for_each_online_cpu(cpu) {
			/* Rotate through: one short, exact, one past, far past. */
			static const s64 delta[] = { -1, 0, 1, 1 << 20 };

			migrc_test_clean[cpu] = gen + delta[n++ % ARRAY_SIZE(delta)];
			cpumask_set_cpu(cpu, mask);
		}
		KUNIT_EXPECT_FALSE(test, migrc_trim_cpumask(mask, gen));
		n = 0;
		for_each_online_cpu(cpu)
			KUNIT_EXPECT_EQ_MSG(test, cpumask_test_cpu(cpu, mask),
					    n++ % 4 == 0,
					    "cpu %d clean at %llu, batch %llu",
					    cpu, migrc_test_clean[cpu], gen);
	}
}

/* When every CPU is clean the mask empties and the trim says so. */
static void migrc_test_trim_all_clean(struct kunit *test)
{
	struct cpumask *mask;
	int cpu;

	mask = kunit_kzalloc(test, cpumask_size(), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mask);
	migrc_test_clean_setup(test);
	for_each_possible_cpu(cpu)
		migrc_test_clean[cpu] = 77;
	cpumask_copy(mask, cpu_online_mask);
	KUNIT_EXPECT_TRUE(test, migrc_trim_cpumask(mask, 77));
	KUNIT_EXPECT_TRUE(test, migrc_all_cpus_clean_since(77));
	KUNIT_EXPECT_FALSE(test, migrc_all_cpus_clean_since(78));
}

struct migrc_retire_case {
	const char *name;
	bool trimmed;		/* what the stubbed trim answers for every batch */
	int batches, per_batch;
};

static const struct migrc_retire_case migrc_retire_cases[] = {
	{ "all-trimmed",	true,	3, 2 },
	{ "none-trimmed",	false,	5, 1 },
	{ "one-big-batch",	false,	1, 8 },
};

static void migrc_retire_case_desc(const struct migrc_retire_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(migrc_retire, migrc_retire_cases, migrc_retire_case_desc);

/*
 * Batches retired together cost at most one flush, of their union, and
 * none when the trim shows every CPU already flushed: a trimmed batch
 * retires without a flush, and all but one of the others share it.
 */
static void migrc_test_retire_flushes(struct kunit *test)
{
	const struct migrc_retire_case *c = test->param_value;
	unsigned long trimmed = migrc_test_event(MIGRC_RETIRE_TRIMMED);
	long avoided = migrc_test_stat(MIGRC_STAT_FLUSH_AVOIDED);
	int nr = c->batches * c->per_batch, i;
	struct folio *folios[8];

	KUNIT_ASSERT_LE(test, nr, (int)ARRAY_SIZE(folios));
	migrc_test_flushes = 0;
	migrc_test_trim_result = c->trimmed;
	kunit_activate_static_stub(test, migrc_arch_flush, migrc_test_flush_stub);
	kunit_activate_static_stub(test, migrc_arch_trim, migrc_test_trim_stub);

	for (i = 0; i < c->batches; i++)
		migrc_test_defer(test, first_memory_node, c->per_batch,
				 folios + i * c->per_batch);
	KUNIT_EXPECT_EQ(test, migrc_retire_all(MIGRC_CAUSE_DRAIN), (unsigned long)nr);
	KUNIT_EXPECT_EQ(test, migrc_test_flushes, c->trimmed ? 0 : 1);
	KUNIT_EXPECT_EQ(test, migrc_test_event(MIGRC_RETIRE_TRIMMED) - trimmed,
			c->trimmed ? (unsigned long)c->batches : 0UL);
	KUNIT_EXPECT_EQ(test, migrc_test_stat(MIGRC_STAT_FLUSH_AVOIDED) - avoided,
			(long)(c->trimmed ? c->batches : c->batches - 1));
	migrc_test_release_all(test, folios, nr);
}

/* ------------------------------------------------------------------ */
/* Retirement by cause, accounting */

/* Folios stay allocated while pending, and are freed exactly once. */
static void migrc_test_pending_until_retired(struct kunit *test)
{
	struct folio *folios[8];
	int i;

	migrc_test_defer(test, first_memory_node, 8, folios);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 8UL);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_EQ(test, folio_ref_count(folios[i]), 2);

	KUNIT_EXPECT_EQ(test, migrc_retire_all(MIGRC_CAUSE_DRAIN), 8UL);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending_batches(), 0UL);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_TRUE(test, migrc_test_release(folios[i]));
}

/*
 * The per-zone vmstat item is exact per zone and returns to its base.
 * The expected counts are derived from where the folios really landed.
 */
static void migrc_test_zone_counts(struct kunit *test)
{
	int nid[2] = { first_memory_node, migrc_test_second_node() };
	struct folio *f[8];
	struct zone *zone;
	unsigned long *base;
	int i, z, nr = 0;

	KUNIT_ASSERT_LT(test, nid[1], MAX_NUMNODES);
	for_each_populated_zone(zone)
		nr++;
	base = kunit_kcalloc(test, nr, sizeof(*base), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, base);

	z = 0;
	for_each_populated_zone(zone)
		base[z++] = zone_page_state_snapshot(zone, NR_MIGRC_PENDING);

	migrc_test_defer(test, nid[0], 3, f);
	migrc_test_defer(test, nid[1], 5, f + 3);

	z = 0;
	for_each_populated_zone(zone) {
		unsigned long expect = base[z++];

		for (i = 0; i < 8; i++)
			expect += folio_zone(f[i]) == zone;
		KUNIT_EXPECT_EQ_MSG(test, zone_page_state_snapshot(zone, NR_MIGRC_PENDING),
				    expect, "node %d zone %s", zone_to_nid(zone),
				    zone->name);
	}

	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	z = 0;
	for_each_populated_zone(zone)
		KUNIT_EXPECT_EQ(test, zone_page_state_snapshot(zone, NR_MIGRC_PENDING),
				base[z++]);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_TRUE(test, migrc_test_release(f[i]));
}

/*
 * Two batches of two folios, @a on the first node and @b on the second;
 * @nodes is set to the second node only.
 */
static void migrc_test_defer_on_two_nodes(struct kunit *test, struct folio **a,
					  struct folio **b, nodemask_t *nodes)
{
	int nid1 = migrc_test_second_node();

	KUNIT_ASSERT_LT(test, nid1, MAX_NUMNODES);
	migrc_test_defer(test, first_memory_node, 2, a);
	migrc_test_defer(test, nid1, 2, b);
	nodes_clear(*nodes);
	node_set(nid1, *nodes);
}

/* Order-0 pressure on one node retires only batches holding its pages. */
static void migrc_test_pressure_by_node(struct kunit *test)
{
	unsigned long events = migrc_test_event(MIGRC_RETIRE_PRESSURE);
	struct folio *a[2], *b[2];
	nodemask_t nodes;

	migrc_test_defer_on_two_nodes(test, a, b, &nodes);
	KUNIT_EXPECT_EQ(test, migrc_retire_nodes(&nodes, MAX_NR_ZONES - 1, 0), 2UL);
	KUNIT_EXPECT_EQ(test, migrc_test_event(MIGRC_RETIRE_PRESSURE) - events, 1UL);
	KUNIT_EXPECT_EQ(test, folio_ref_count(a[0]), 2);
	migrc_test_release_all(test, b, 2);

	/* Nothing of nid1 is left: a second call frees nothing. */
	KUNIT_EXPECT_EQ(test, migrc_retire_nodes(&nodes, MAX_NR_ZONES - 1, 0), 0UL);

	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	migrc_test_release_all(test, a, 2);
}

/*
 * A call that another task makes while this thread's retirement is
 * flushing: the flush waits until that call is blocked (on the retirement
 * mutex, the only place the calls tested may sleep after their start) or
 * has returned.
 */
struct migrc_test_inflight {
	struct completion flushing, done;
	struct task_struct *task;
	void (*call)(struct migrc_test_inflight *f);
	bool returned;		/* before the flush under way ended */
	unsigned long freed;	/* by an allocation's retirement */
	int reason;		/* of a round opened */
	struct migrc_batch *batch;	/* what the round got */
};

static struct migrc_test_inflight *migrc_test_inflight;

static void migrc_test_inflight_flush_stub(struct arch_migrc_batch *arch)
{
	struct migrc_test_inflight *f = migrc_test_inflight;
	unsigned long deadline = jiffies + 10 * HZ;

	complete(&f->flushing);
	/*
	 * A peek at the other task's state, which the scheduler writes
	 * (set_current_state()'s smp_store_mb()); a stale value only makes
	 * this loop wait one more round.
	 */
	while (!completion_done(&f->done) &&
	       READ_ONCE(f->task->__state) != TASK_UNINTERRUPTIBLE &&
	       time_before(jiffies, deadline))
		usleep_range(1000, 2000);
	msleep(20);
	f->returned = completion_done(&f->done);
	arch_migrc_batch_init(arch);
}

static int migrc_test_inflight_fn(void *arg)
{
	struct migrc_test_inflight *f = arg;

	/* Interruptible: a sleep here must not look like the mutex's. */
	if (!wait_for_completion_interruptible(&f->flushing))
		f->call(f);
	complete(&f->done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/*
 * Defer @nr folios from the first node into @a, then retire them, while
 * another task makes f->call once the flush is under way.
 */
static void migrc_test_inflight_run(struct kunit *test, struct migrc_test_inflight *f,
				    int nr, struct folio **a)
{
	struct task_struct *t;

	init_completion(&f->flushing);
	init_completion(&f->done);
	migrc_test_inflight = f;
	migrc_test_defer(test, first_memory_node, nr, a);
	migrc_test_trim_result = false;
	kunit_activate_static_stub(test, migrc_arch_trim, migrc_test_trim_stub);
	kunit_activate_static_stub(test, migrc_arch_flush, migrc_test_inflight_flush_stub);
	t = kthread_run(migrc_test_inflight_fn, f, "migrc_test_inflight");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	f->task = t;

	KUNIT_EXPECT_EQ(test, migrc_retire_all(MIGRC_CAUSE_DRAIN), (unsigned long)nr);
	wait_for_completion(&f->done);
	kthread_stop(t);
}

static void migrc_test_inflight_alloc(struct migrc_test_inflight *f)
{
	f->freed = migrc_retire_nodes(NULL, MAX_NR_ZONES - 1, 0);
}

/*
 * An allocation under pressure that comes while another retirement (say
 * kswapd's) is flushing must wait for it and count what it freed: those
 * pages are off the pending list but not free yet, and failing, or going
 * on to the OOM killer, a moment before they come back is what migrc
 * promises not to do.
 */
static void migrc_test_pressure_waits_inflight(struct kunit *test)
{
	struct migrc_test_inflight *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	struct folio *a[2];

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->call = migrc_test_inflight_alloc;
	migrc_test_inflight_run(test, f, 2, a);
	KUNIT_EXPECT_FALSE_MSG(test, f->returned,
			       "the allocation's retirement returned while another was flushing");
	KUNIT_EXPECT_EQ(test, f->freed, 2UL);
	migrc_test_release_all(test, a, 2);
}

/*
 * Which batches an order-0 request retires: those with pages on its nodes
 * in the zones it may use.  Checked on a made-up batch, since where test
 * folios land depends on the machine's zones.
 */
static void migrc_test_batch_selection(struct kunit *test)
{
	struct migrc_batch batch = {};
	nodemask_t nodes;

	nodes_clear(batch.nodes);
	node_set(1, batch.nodes);
	batch.zones = BIT(2);

	nodes_clear(nodes);
	node_set(1, nodes);
	KUNIT_EXPECT_TRUE(test, migrc_batch_in_nodes(&batch, &nodes, 2));
	KUNIT_EXPECT_TRUE(test, migrc_batch_in_nodes(&batch, &nodes, 3));
	KUNIT_EXPECT_FALSE(test, migrc_batch_in_nodes(&batch, &nodes, 1));
	nodes_clear(nodes);
	node_set(0, nodes);
	KUNIT_EXPECT_FALSE(test, migrc_batch_in_nodes(&batch, &nodes, 2));
	node_set(1, nodes);
	KUNIT_EXPECT_TRUE(test, migrc_batch_in_nodes(&batch, &nodes, 2));
}

/* A high-order request retires everything, wherever it is. */
static void migrc_test_pressure_high_order(struct kunit *test)
{
	struct folio *a[2], *b[2];
	nodemask_t nodes;

	migrc_test_defer_on_two_nodes(test, a, b, &nodes);
	KUNIT_EXPECT_EQ(test, migrc_retire_nodes(&nodes, 0, 3), 4UL);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);
	migrc_test_release_all(test, a, 2);
	migrc_test_release_all(test, b, 2);
}

/* A batch retires by age exactly when it has waited vm.migrc_max_age_ms. */
static void migrc_test_age(struct kunit *test)
{
	unsigned long events = migrc_test_event(MIGRC_RETIRE_AGE);
	unsigned long age = msecs_to_jiffies(MIGRC_MAX_AGE_MS);
	unsigned long sealed;
	struct folio *a[2];

	sealed = jiffies;
	migrc_test_defer(test, first_memory_node, 2, a);

	/* Not yet: even from one jiffy before the seal the age is short. */
	KUNIT_EXPECT_EQ(test, migrc_retire_expired(sealed - 1 + age - 1), 0UL);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 2UL);
	/* Two jiffies of slack for the seal's own clock read. */
	KUNIT_EXPECT_EQ(test, migrc_retire_expired(jiffies + age + 2), 2UL);
	KUNIT_EXPECT_EQ(test, migrc_test_event(MIGRC_RETIRE_AGE) - events, 1UL);
	migrc_test_release_all(test, a, 2);
}

/* The age worker really runs: with a 1 ms age, batches go by themselves. */
static void migrc_test_age_worker(struct kunit *test)
{
	unsigned long events = migrc_test_event(MIGRC_RETIRE_AGE);
	struct folio *a[1];
	int i;

	migrc_test_defer(test, first_memory_node, 1, a);
	migrc_set_max_age(MIGRC_MIN_AGE_MS);
	for (i = 0; i < 200 && migrc_nr_pending(); i++)
		msleep(20);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);
	KUNIT_EXPECT_GE(test, migrc_test_event(MIGRC_RETIRE_AGE) - events, 1UL);
	KUNIT_EXPECT_TRUE(test, migrc_test_release(a[0]));
}

/*
 * A round reserves what it might defer and gives back, at seal, what it
 * did not: after retirement the reservation is back where it started.
 */
static void migrc_test_reservation_balance(struct kunit *test)
{
	unsigned long base = migrc_nr_reserved();
	struct migrc_batch *batch = migrc_batch_open(16);
	struct folio *a = migrc_test_folio(test, first_memory_node);
	struct folio *b = migrc_test_folio(test, first_memory_node);

	KUNIT_ASSERT_NOT_NULL(test, batch);
	KUNIT_EXPECT_EQ(test, migrc_nr_reserved(), base + 16);
	migrc_batch_add_folio(batch, a);
	migrc_batch_add_folio(batch, b);
	migrc_batch_seal(batch);
	KUNIT_EXPECT_EQ(test, migrc_nr_reserved(), base + 2);
	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	KUNIT_EXPECT_EQ(test, migrc_nr_reserved(), base);

	batch = migrc_batch_open(8);	/* a round that defers nothing */
	KUNIT_ASSERT_NOT_NULL(test, batch);
	migrc_batch_seal(batch);
	KUNIT_EXPECT_EQ(test, migrc_nr_reserved(), base);
	KUNIT_EXPECT_TRUE(test, migrc_test_release(a));
	KUNIT_EXPECT_TRUE(test, migrc_test_release(b));
}

/* Past the cap nothing is deferred, and pending never exceeds it. */
static void migrc_test_cap_refuses(struct kunit *test)
{
	long refused = migrc_test_stat(MIGRC_STAT_CAP_REFUSED);
	struct migrc_batch *batch;
	struct folio *a[4];

	WRITE_ONCE(migrc_max_pending_pages, 6);
	migrc_test_defer(test, first_memory_node, 4, a);
	KUNIT_EXPECT_NULL(test, migrc_batch_open(4));	/* 4 + 4 > 6 */
	KUNIT_EXPECT_EQ(test, migrc_test_stat(MIGRC_STAT_CAP_REFUSED) - refused, 1L);
	batch = migrc_batch_open(2);			/* 4 + 2 <= 6 */
	KUNIT_EXPECT_NOT_NULL(test, batch);
	if (batch)
		migrc_batch_seal(batch);
	KUNIT_EXPECT_LE(test, migrc_nr_pending(), 6UL);

	WRITE_ONCE(migrc_max_pending_pages, totalram_pages());
	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	migrc_test_release_all(test, a, 4);
}

/*
 * A migration round that would pass the cap retires every sealed batch
 * itself and then defers (migrc_round_open()), where migrc_batch_open()
 * refuses; a round that does not fit even then is refused.
 */
static void migrc_test_round_retires_at_cap(struct kunit *test)
{
	unsigned long events = migrc_test_event(MIGRC_RETIRE_CAP);
	long refused = migrc_test_stat(MIGRC_STAT_CAP_REFUSED);
	unsigned long base = migrc_nr_reserved();
	struct migrc_batch *batch;
	struct folio *a[4];

	WRITE_ONCE(migrc_max_pending_pages, base + 6);
	migrc_test_defer(test, first_memory_node, 4, a);
	batch = migrc_round_open(4, MR_NUMA_MISPLACED);	/* 4 + 4 > 6, then 4 */
	KUNIT_EXPECT_NOT_NULL(test, batch);
	KUNIT_EXPECT_EQ(test, migrc_test_stat(MIGRC_STAT_CAP_REFUSED), refused);
	KUNIT_EXPECT_EQ(test, migrc_test_event(MIGRC_RETIRE_CAP) - events, 1UL);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);
	migrc_test_release_all(test, a, 4);
	if (batch) {
		KUNIT_EXPECT_EQ(test, migrc_nr_reserved(), base + 4);
		migrc_batch_seal(batch);		/* deferred nothing */
	}

	KUNIT_EXPECT_NULL(test, migrc_round_open(8, MR_NUMA_MISPLACED));	/* 8 > 6 */
	KUNIT_EXPECT_EQ(test, migrc_test_stat(MIGRC_STAT_CAP_REFUSED) - refused, 1L);
	KUNIT_EXPECT_EQ(test, migrc_nr_reserved(), base);
	WRITE_ONCE(migrc_max_pending_pages, totalram_pages());
}

static void migrc_test_inflight_round(struct migrc_test_inflight *f)
{
	f->batch = migrc_round_open(4, f->reason);
}

struct migrc_round_wait_case {
	const char *name;
	int reason;
	bool waits;
};

static const struct migrc_round_wait_case migrc_round_wait_cases[] = {
	{ "move_pages",		MR_SYSCALL,		true },
	{ "mbind",		MR_MEMPOLICY_MBIND,	true },
	{ "numa-hinting-fault",	MR_NUMA_MISPLACED,	false },
	{ "demotion",		MR_DEMOTION,		false },
	{ "damon",		MR_DAMON,		false },
};

static void migrc_round_wait_desc(const struct migrc_round_wait_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(migrc_round_wait, migrc_round_wait_cases, migrc_round_wait_desc);

/*
 * A round that would pass the cap while another task's retirement is
 * flushing (the cap work's, say): one a task asked for waits for it and
 * then defers in the room it made; any other is refused at once and
 * migrates as mainline does, rather than wait.
 */
static void migrc_test_round_waits_inflight(struct kunit *test)
{
	const struct migrc_round_wait_case *c = test->param_value;
	struct migrc_test_inflight *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	long refused = migrc_test_stat(MIGRC_STAT_CAP_REFUSED);
	unsigned long base = migrc_nr_reserved();
	struct folio *a[4];

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->call = migrc_test_inflight_round;
	f->reason = c->reason;
	WRITE_ONCE(migrc_max_pending_pages, base + 6);
	migrc_test_inflight_run(test, f, 4, a);		/* 4 pending: 4 + 4 > 6 */
	kunit_info(test, "%s: the round %s while the retirement was flushing, and %s\n",
		   c->name, f->returned ? "returned" : "waited",
		   f->batch ? "deferred" : "was refused");
	KUNIT_EXPECT_EQ(test, f->returned, !c->waits);
	KUNIT_EXPECT_EQ(test, !!f->batch, c->waits);
	KUNIT_EXPECT_EQ(test, migrc_test_stat(MIGRC_STAT_CAP_REFUSED) - refused,
			(c->waits ? 0L : 1L));
	if (f->batch) {
		KUNIT_EXPECT_EQ(test, migrc_nr_reserved(), base + 4);
		migrc_batch_seal(f->batch);		/* deferred nothing */
	}
	KUNIT_EXPECT_EQ(test, migrc_nr_reserved(), base);
	migrc_test_release_all(test, a, 4);
	WRITE_ONCE(migrc_max_pending_pages, totalram_pages());
}

/*
 * Past three quarters of the cap every sealed batch goes, in one flush;
 * at or below it nothing does.  12 pages pending: a cap of 16 (high mark
 * 16 - 16 / 4 = 12) keeps them, a cap of 15 (high mark 15 - 3 = 12) too,
 * a cap of 14 (high mark 14 - 3 = 11) retires all three batches.
 */
static void migrc_test_cap_retires_all(struct kunit *test)
{
	unsigned long events = migrc_test_event(MIGRC_RETIRE_CAP);
	long retired = migrc_test_stat(MIGRC_STAT_RETIRED);
	struct folio *f[3][4];
	int i;

	for (i = 0; i < 3; i++)
		migrc_test_defer(test, first_memory_node, 4, f[i]);
	WRITE_ONCE(migrc_max_pending_pages, 16);
	KUNIT_EXPECT_EQ(test, migrc_retire_over_cap(), 0UL);
	WRITE_ONCE(migrc_max_pending_pages, 15);
	KUNIT_EXPECT_EQ(test, migrc_retire_over_cap(), 0UL);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 12UL);
	WRITE_ONCE(migrc_max_pending_pages, 14);
	KUNIT_EXPECT_EQ(test, migrc_retire_over_cap(), 12UL);
	KUNIT_EXPECT_EQ(test, migrc_test_event(MIGRC_RETIRE_CAP) - events, 3UL);
	KUNIT_EXPECT_EQ(test, migrc_test_stat(MIGRC_STAT_RETIRED) - retired, 3L);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, folio_ref_count(f[i][0]), 1);

	WRITE_ONCE(migrc_max_pending_pages, totalram_pages());
	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	for (i = 0; i < 12; i++)
		KUNIT_EXPECT_TRUE(test, migrc_test_release(f[i / 4][i % 4]));
}

/*
 * A retirement that has to flush takes every pending batch with it; one
 * that needs no flush takes only what it selected.  Two batches, a on
 * the first node, b on the second, sealed at least a jiffy apart: order-0
 * pressure on b's node, and the age past a's seal but not b's, each
 * select one of them.  With the trim finding nothing invalidated, both
 * go, in one flush; with the trim finding everything, only the selected
 * one goes.
 */
static void migrc_test_flush_takes_all(struct kunit *test)
{
	unsigned long age = msecs_to_jiffies(MIGRC_MAX_AGE_MS);
	struct folio *a[2], *b[2];
	unsigned long sealed;
	nodemask_t nodes;
	int trimmed;

	kunit_activate_static_stub(test, migrc_arch_flush, migrc_test_flush_stub);
	kunit_activate_static_stub(test, migrc_arch_trim, migrc_test_trim_stub);
	for (trimmed = 0; trimmed < 2; trimmed++) {
		migrc_test_trim_result = trimmed;

		migrc_test_flushes = 0;
		migrc_test_defer_on_two_nodes(test, a, b, &nodes);
		KUNIT_EXPECT_EQ(test, migrc_retire_nodes(&nodes, MAX_NR_ZONES - 1, 0),
				trimmed ? 2UL : 4UL);
		KUNIT_EXPECT_EQ(test, migrc_test_flushes, trimmed ? 0 : 1);
		KUNIT_EXPECT_EQ(test, migrc_nr_pending(), trimmed ? 2UL : 0UL);
		migrc_retire_all(MIGRC_CAUSE_DRAIN);
		migrc_test_release_all(test, a, 2);
		migrc_test_release_all(test, b, 2);

		migrc_test_flushes = 0;
		sealed = jiffies;
		migrc_test_defer(test, first_memory_node, 2, a);
		while (time_before_eq(jiffies, sealed + 1))
			schedule_timeout_uninterruptible(1);
		migrc_test_defer(test, first_memory_node, 2, b);
		/* a was sealed at sealed or sealed + 1; b after sealed + 1. */
		KUNIT_EXPECT_EQ(test, migrc_retire_expired(sealed + 1 + age),
				trimmed ? 2UL : 4UL);
		KUNIT_EXPECT_EQ(test, migrc_test_flushes, trimmed ? 0 : 1);
		KUNIT_EXPECT_EQ(test, folio_ref_count(b[0]), trimmed ? 2 : 1);
		migrc_retire_all(MIGRC_CAUSE_DRAIN);
		migrc_test_release_all(test, a, 2);
		migrc_test_release_all(test, b, 2);
	}
}

/* The trim answers "invalidated" for the batches up to this generation. */
static u64 migrc_test_clean_upto;

static bool migrc_test_trim_upto_stub(struct migrc_batch *batch)
{
	return migrc_gen_after_eq(migrc_test_clean_upto, batch->gen);
}

/*
 * Past three quarters of the cap, batches every CPU has invalidated go
 * first, without a flush; only if that leaves more than half the cap do
 * all of them go, in one flush.  A cap of 14: high mark 14 - 14 / 4 = 11,
 * low mark 14 / 2 = 7.  Three batches of 4 (12 pages, over 11): with the
 * first two invalidated, 8 pages go free and 4 (at most 7) stay.  Two
 * more batches (12 again): with only the third invalidated, 4 go free,
 * 8 (over 7) remain, and those go in one flush.
 */
static void migrc_test_cap_clean_first(struct kunit *test)
{
	static const struct {
		int seal;		/* batches of 4 pages to seal first */
		int clean;		/* the trim drops batches 0 to clean - 1 */
		unsigned long freed, left;
		int flushes;
	} steps[] = {
		{ 3, 2, 8, 4, 0 },
		{ 2, 3, 12, 0, 1 },
	};
	struct folio *f[5][4];
	u64 gen[5];
	int i, n = 0, s;

	KUNIT_ASSERT_EQ(test, migrc_nr_reserved(), 0UL);
	kunit_activate_static_stub(test, migrc_arch_flush, migrc_test_flush_stub);
	kunit_activate_static_stub(test, migrc_arch_trim, migrc_test_trim_upto_stub);
	for (s = 0; s < ARRAY_SIZE(steps); s++) {
		WRITE_ONCE(migrc_max_pending_pages, totalram_pages());
		for (i = 0; i < steps[s].seal; i++, n++) {
			migrc_test_defer(test, first_memory_node, 4, f[n]);
			gen[n] = migrc_read_gen();
		}
		migrc_test_clean_upto = gen[steps[s].clean - 1];
		migrc_test_flushes = 0;
		WRITE_ONCE(migrc_max_pending_pages, 14);
		KUNIT_EXPECT_EQ_MSG(test, migrc_retire_over_cap(), steps[s].freed,
				    "step %d", s);
		KUNIT_EXPECT_EQ_MSG(test, migrc_test_flushes, steps[s].flushes,
				    "step %d", s);
		KUNIT_EXPECT_EQ_MSG(test, migrc_nr_pending(), steps[s].left,
				    "step %d", s);
		/* The batches put back are still counted, the others not. */
		KUNIT_EXPECT_EQ_MSG(test, migrc_nr_pending_batches(),
				    steps[s].left / 4, "step %d", s);
	}

	WRITE_ONCE(migrc_max_pending_pages, totalram_pages());
	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	for (i = 0; i < n; i++)
		migrc_test_release_all(test, f[i], 4);
}

/* The per-cause events add up to the batches retired. */
static void migrc_test_causes_add_up(struct kunit *test)
{
	unsigned long before[NR_MIGRC_CAUSES], sum = 0;
	long retired = migrc_test_stat(MIGRC_STAT_RETIRED);
	struct folio *f[4];
	nodemask_t nodes;
	int c;

	for (c = 0; c < NR_MIGRC_CAUSES; c++)
		before[c] = migrc_test_event(MIGRC_RETIRE_PRESSURE + c);

	migrc_test_defer(test, first_memory_node, 1, &f[0]);
	nodes = node_states[N_MEMORY];
	migrc_retire_nodes(&nodes, MAX_NR_ZONES - 1, 0);
	migrc_test_defer(test, first_memory_node, 1, &f[1]);
	migrc_retire_expired(jiffies + msecs_to_jiffies(MIGRC_MAX_AGE_MS) + 2);
	migrc_test_defer(test, first_memory_node, 1, &f[2]);
	WRITE_ONCE(migrc_max_pending_pages, 0);
	migrc_retire_over_cap();
	WRITE_ONCE(migrc_max_pending_pages, totalram_pages());
	migrc_test_defer(test, first_memory_node, 1, &f[3]);
	migrc_retire_all(MIGRC_CAUSE_DRAIN);

	for (c = 0; c < NR_MIGRC_CAUSES; c++) {
		unsigned long d = migrc_test_event(MIGRC_RETIRE_PRESSURE + c) - before[c];

		KUNIT_EXPECT_EQ_MSG(test, d, 1UL, "cause %d", c);
		sum += d;
	}
	KUNIT_EXPECT_EQ(test, sum, (unsigned long)(migrc_test_stat(MIGRC_STAT_RETIRED) - retired));
	for (c = 0; c < 4; c++)
		KUNIT_EXPECT_TRUE(test, migrc_test_release(f[c]));
}

/* ------------------------------------------------------------------ */
/* Flush points: the per-mm sequence */

static struct mm_struct *migrc_test_mm(struct kunit *test)
{
	struct mm_struct *mm = mm_alloc();

	KUNIT_ASSERT_NOT_NULL(test, mm);
	return mm;
}

/* A deferral makes the mm pending; one flush clears it; then nothing. */
static void migrc_test_mm_flush(struct kunit *test)
{
	struct mm_struct *mm = migrc_test_mm(test);
	unsigned long events = migrc_test_event(MIGRC_MM_FLUSH);
	struct migrc_batch *batch;

	migrc_test_mm_flushes = 0;
	kunit_activate_static_stub(test, migrc_arch_flush_mm, migrc_test_flush_mm_stub);

	KUNIT_EXPECT_FALSE(test, migrc_mm_pending(mm));
	migrc_flush_mm(mm, MIGRC_FP_OTHER);
	KUNIT_EXPECT_EQ(test, migrc_test_mm_flushes, 0);

	batch = migrc_batch_open(1);
	KUNIT_ASSERT_NOT_NULL(test, batch);
	migrc_batch_add_pte(batch, mm, 0x100000);
	KUNIT_EXPECT_TRUE(test, migrc_mm_pending(mm));
	migrc_flush_mm(mm, MIGRC_FP_OTHER);
	KUNIT_EXPECT_EQ(test, migrc_test_mm_flushes, 1);
	KUNIT_EXPECT_FALSE(test, migrc_mm_pending(mm));
	migrc_flush_mm(mm, MIGRC_FP_OTHER);
	KUNIT_EXPECT_EQ(test, migrc_test_mm_flushes, 1);
	KUNIT_EXPECT_EQ(test, migrc_test_event(MIGRC_MM_FLUSH) - events, 1UL);

	migrc_batch_seal(batch);	/* no folios: dropped */
	mmput(mm);
}

static struct migrc_batch *migrc_test_racing_batch;
static struct mm_struct *migrc_test_racing_mm;

/* A deferral that lands while the flush runs is not covered by it. */
static void migrc_test_flush_mm_racing_stub(struct mm_struct *mm)
{
	migrc_test_mm_flushes++;
	if (migrc_test_mm_flushes == 1)
		migrc_batch_add_pte(migrc_test_racing_batch, migrc_test_racing_mm,
				    0x200000);
}

static void migrc_test_mm_flush_race(struct kunit *test)
{
	struct mm_struct *mm = migrc_test_mm(test);
	struct migrc_batch *batch = migrc_batch_open(1);

	KUNIT_ASSERT_NOT_NULL(test, batch);
	migrc_test_mm_flushes = 0;
	migrc_test_racing_batch = batch;
	migrc_test_racing_mm = mm;
	kunit_activate_static_stub(test, migrc_arch_flush_mm,
				   migrc_test_flush_mm_racing_stub);

	migrc_batch_add_pte(batch, mm, 0x100000);
	migrc_flush_mm(mm, MIGRC_FP_OTHER);
	KUNIT_EXPECT_TRUE(test, migrc_mm_pending(mm));
	migrc_flush_mm(mm, MIGRC_FP_OTHER);
	KUNIT_EXPECT_FALSE(test, migrc_mm_pending(mm));
	KUNIT_EXPECT_EQ(test, migrc_test_mm_flushes, 2);

	migrc_batch_seal(batch);
	mmput(mm);
}

/*
 * The per-mm counts: a deferral stays pending until a flush that began
 * after it completes, a flush that finishes late does not take the count
 * back, and no number of deferrals makes the counts agree by wrapping.
 */
static void migrc_test_mm_counts(struct kunit *test)
{
	struct mm_struct *mm = migrc_test_mm(test);
	struct migrc_batch *batch = migrc_batch_open(1);
	u64 early, late;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, batch);
	migrc_test_mm_flushes = 0;
	kunit_activate_static_stub(test, migrc_arch_flush_mm, migrc_test_flush_mm_stub);

	/* Across 2^32: one flush for each deferral. */
	atomic64_set(&mm->migrc_deferred, U32_MAX - 2);
	atomic64_set(&mm->migrc_flushed, U32_MAX - 2);
	for (i = 0; i < 6; i++) {
		migrc_batch_add_pte(batch, mm, 0x100000);
		KUNIT_EXPECT_TRUE(test, migrc_mm_pending(mm));
		migrc_flush_mm(mm, MIGRC_FP_OTHER);
		KUNIT_EXPECT_FALSE(test, migrc_mm_pending(mm));
	}
	KUNIT_EXPECT_EQ(test, migrc_test_mm_flushes, 6);
	KUNIT_EXPECT_EQ(test, atomic64_read(&mm->migrc_flushed), (s64)U32_MAX + 4);

	/* 2^32 deferrals without a flush point still need a flush. */
	atomic64_add(U32_MAX, &mm->migrc_deferred);
	migrc_batch_add_pte(batch, mm, 0x100000);
	KUNIT_EXPECT_TRUE(test, migrc_mm_pending(mm));

	/* A flush that began before a deferral does not cover it... */
	early = migrc_mm_flush_begin(mm);
	migrc_batch_add_pte(batch, mm, 0x100000);
	migrc_mm_flush_done(mm, early, MIGRC_FP_OTHER);
	KUNIT_EXPECT_TRUE(test, migrc_mm_pending(mm));
	late = migrc_mm_flush_begin(mm);
	migrc_mm_flush_done(mm, late, MIGRC_FP_OTHER);
	KUNIT_EXPECT_FALSE(test, migrc_mm_pending(mm));
	/*
	 * ...and, finishing after a later one (past the inline check, as
	 * when both passed it at once), does not undo it.
	 */
	__migrc_mm_flush_done(mm, early, MIGRC_FP_OTHER);
	KUNIT_EXPECT_FALSE(test, migrc_mm_pending(mm));
	KUNIT_EXPECT_EQ(test, atomic64_read(&mm->migrc_flushed), (s64)late);

	migrc_batch_seal(batch);
	mmput(mm);
}

/* The real backend accepts a deferral on an mm no CPU runs. */
static void migrc_test_backend_add_flush(struct kunit *test)
{
	struct mm_struct *mm = migrc_test_mm(test);
	struct migrc_batch *batch = migrc_batch_open(1);
	struct folio *folio = migrc_test_folio(test, first_memory_node);

	KUNIT_ASSERT_NOT_NULL(test, batch);
	migrc_batch_add_pte(batch, mm, 0x100000);
	migrc_batch_add_folio(batch, folio);
	migrc_batch_seal(batch);
	migrc_flush_mm(mm, MIGRC_FP_OTHER);
	KUNIT_EXPECT_FALSE(test, migrc_mm_pending(mm));
	KUNIT_EXPECT_EQ(test, migrc_retire_all(MIGRC_CAUSE_DRAIN), 1UL);
	KUNIT_EXPECT_TRUE(test, migrc_test_release(folio));
	mmput(mm);
}

static bool migrc_test_join_answer;
static int migrc_test_joins;

static bool migrc_test_join_stub(struct arch_migrc_batch *arch)
{
	migrc_test_joins++;
	return migrc_test_join_answer;
}

/*
 * One folio's entries, as try_to_migrate_one() hands them over: read-only
 * ones defer until a writable one shows up; then what was deferred joins
 * the unmap flush (@param true) or, where the arch cannot do that, is
 * flushed at once (@param false), and the rest goes the mainline way.
 * Inaccessible entries need nothing.  Each refusal is counted by its
 * reason, once.
 */
static void migrc_test_defer_pte_ineligible_halfway(struct kunit *test)
{
	bool joins = *(const bool *)test->param_value;
	const unsigned int vma = MIGRC_VMA_MAY_WRITE;	/* a writable private VMA */
	struct mm_struct *mm = migrc_test_mm(test);
	struct migrc_batch *batch = migrc_batch_open(1);
	struct page *page = alloc_page(GFP_KERNEL);
	unsigned long writable = migrc_refused(MIGRC_REFUSED_WRITABLE);
	unsigned long shared = migrc_refused(MIGRC_REFUSED_SHARED);
	long refused = migrc_test_stat(MIGRC_STAT_INELIGIBLE_FLUSH);
	long joined = migrc_test_stat(MIGRC_STAT_INELIGIBLE_JOINED);
	pte_t ro, rw;
	u8 state = MIGRC_FOLIO_MAYBE;

	KUNIT_ASSERT_NOT_NULL(test, batch);
	KUNIT_ASSERT_NOT_NULL(test, page);
	ro = pfn_pte(page_to_pfn(page), vm_get_page_prot(VM_READ));
	rw = pfn_pte(page_to_pfn(page), vm_get_page_prot(VM_READ | VM_WRITE | VM_SHARED));
	migrc_test_flushes = 0;
	migrc_test_joins = 0;
	migrc_test_join_answer = joins;
	kunit_activate_static_stub(test, migrc_arch_flush, migrc_test_flush_stub);
	kunit_activate_static_stub(test, migrc_arch_join_unmap_flush,
				   migrc_test_join_stub);

	KUNIT_EXPECT_EQ(test, migrc_defer_pte(batch, &state, mm, vma, __pte(0), 0x1000),
			MIGRC_PTE_NONE);
	KUNIT_EXPECT_EQ(test, state, MIGRC_FOLIO_MAYBE);
	KUNIT_EXPECT_EQ(test, migrc_defer_pte(batch, &state, mm, vma, ro, 0x1000),
			MIGRC_PTE_DEFERRED);
	KUNIT_EXPECT_EQ(test, state, MIGRC_FOLIO_DEFERRED);
	KUNIT_EXPECT_TRUE(test, migrc_mm_pending(mm));
	KUNIT_EXPECT_EQ(test, migrc_test_joins + migrc_test_flushes, 0);

	/* Writable: the deferred entries are handed over once. */
	KUNIT_EXPECT_EQ(test, migrc_defer_pte(batch, &state, mm, vma, rw, 0x2000),
			MIGRC_PTE_MAINLINE);
	KUNIT_EXPECT_EQ(test, state, MIGRC_FOLIO_NO);
	KUNIT_EXPECT_EQ(test, migrc_test_joins, 1);
	KUNIT_EXPECT_EQ(test, migrc_test_flushes, joins ? 0 : 1);
	KUNIT_EXPECT_EQ(test, migrc_defer_pte(batch, &state, mm, vma, ro, 0x3000),
			MIGRC_PTE_MAINLINE);
	KUNIT_EXPECT_EQ(test, migrc_test_joins, 1);
	KUNIT_EXPECT_EQ(test, migrc_test_flushes, joins ? 0 : 1);
	KUNIT_EXPECT_EQ(test, migrc_refused(MIGRC_REFUSED_WRITABLE) - writable, 1UL);
	KUNIT_EXPECT_EQ(test, migrc_test_stat(MIGRC_STAT_INELIGIBLE_FLUSH) - refused, 1L);
	KUNIT_EXPECT_EQ(test, migrc_test_stat(MIGRC_STAT_INELIGIBLE_JOINED) - joined,
			joins ? 1L : 0L);

	/* A VM_SHARED mapping is ineligible even when read-only. */
	state = MIGRC_FOLIO_MAYBE;
	KUNIT_EXPECT_EQ(test, migrc_defer_pte(batch, &state, mm, vma | MIGRC_VMA_SHARED,
					      ro, 0x4000),
			MIGRC_PTE_MAINLINE);
	/* Nothing was deferred for this folio. */
	KUNIT_EXPECT_EQ(test, migrc_test_joins, 1);
	KUNIT_EXPECT_EQ(test, migrc_test_flushes, joins ? 0 : 1);
	KUNIT_EXPECT_EQ(test, migrc_refused(MIGRC_REFUSED_SHARED) - shared, 1UL);

	migrc_batch_seal(batch);
	__free_page(page);
	mmput(mm);
}

static const bool migrc_test_join_params[] = { true, false };

static void migrc_test_join_desc(const bool *joins, char *desc)
{
	strscpy(desc, *joins ? "joins the unmap flush" : "flushes at once",
		KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(migrc_test_join, migrc_test_join_params, migrc_test_join_desc);

/*
 * The round's unmap flush takes the batch along when it goes out anyway
 * and the arch can join it: the old folios are then freed at once, not
 * kept.  A PTE recorded after the join is not covered by it.
 */
struct migrc_unmap_flush_case {
	const char *name;
	bool flush_required;	/* the unmap phase flushes anyway */
	bool arch_joins;	/* what the arch answers */
	bool pte_after;		/* another PTE is recorded after the join */
	bool freed;		/* the folio is freed at once */
	int joins;		/* times the arch was asked */
};

static const struct migrc_unmap_flush_case migrc_unmap_flush_cases[] = {
	{ "flush-out-arch-joins",	true,	true,	false,	true,	1 },
	{ "flush-out-arch-declines",	true,	false,	false,	false,	1 },
	{ "no-flush-out",		false,	true,	false,	false,	0 },
	{ "pte-after-the-join",		true,	true,	true,	false,	1 },
};

static void migrc_unmap_flush_desc(const struct migrc_unmap_flush_case *c,
				   char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(migrc_unmap_flush, migrc_unmap_flush_cases, migrc_unmap_flush_desc);

static void migrc_test_unmap_flush(struct kunit *test)
{
	const struct migrc_unmap_flush_case *c = test->param_value;
	struct tlbflush_unmap_batch *tlb_ubc = &current->tlb_ubc;
	struct mm_struct *mm = migrc_test_mm(test);
	struct migrc_batch *batch = migrc_batch_open(1);
	struct folio *folio = migrc_test_folio(test, first_memory_node);
	long freed = migrc_test_stat(MIGRC_STAT_UNMAP_FLUSHED);
	unsigned long pending = migrc_nr_pending();
	bool saved = tlb_ubc->flush_required;

	KUNIT_ASSERT_NOT_NULL(test, batch);
	migrc_test_joins = 0;
	migrc_test_join_answer = c->arch_joins;
	kunit_activate_static_stub(test, migrc_arch_join_unmap_flush,
				   migrc_test_join_stub);

	/* Nothing recorded: nothing to hand over. */
	tlb_ubc->flush_required = true;
	migrc_batch_unmap_flush(batch);
	KUNIT_EXPECT_EQ(test, migrc_test_joins, 0);

	migrc_batch_add_pte(batch, mm, 0x1000);
	tlb_ubc->flush_required = c->flush_required;
	migrc_batch_unmap_flush(batch);
	tlb_ubc->flush_required = saved;
	KUNIT_EXPECT_EQ(test, migrc_test_joins, c->joins);
	if (c->pte_after)
		migrc_batch_add_pte(batch, mm, 0x2000);

	migrc_batch_add_folio(batch, folio);
	KUNIT_EXPECT_EQ(test, migrc_test_stat(MIGRC_STAT_UNMAP_FLUSHED) - freed,
			c->freed ? 1L : 0L);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending() - pending, c->freed ? 0UL : 1UL);
	migrc_batch_seal(batch);
	if (!c->freed)
		KUNIT_EXPECT_EQ(test, migrc_retire_all(MIGRC_CAUSE_DRAIN), 1UL);
	KUNIT_EXPECT_TRUE(test, migrc_test_release(folio));
	mmput(mm);
}

/* ------------------------------------------------------------------ */
/* Control */

/* Switching off refuses new rounds and retires everything pending. */
static void migrc_test_disable_drains(struct kunit *test)
{
	unsigned long events = migrc_test_event(MIGRC_RETIRE_DRAIN);
	struct folio *a[3];
	int i;

	migrc_test_defer(test, first_memory_node, 3, a);
	migrc_set_enabled(false);
	KUNIT_EXPECT_FALSE(test, migrc_enabled());
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);
	KUNIT_EXPECT_EQ(test, migrc_test_event(MIGRC_RETIRE_DRAIN) - events, 1UL);
	KUNIT_EXPECT_NULL(test, migrc_batch_open(1));
	migrc_set_enabled(true);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_TRUE(test, migrc_test_release(a[i]));
}

/* A round that was open when migrc was switched off retires at seal. */
static void migrc_test_seal_after_disable(struct kunit *test)
{
	struct migrc_batch *batch = migrc_batch_open(1);
	struct folio *folio = migrc_test_folio(test, first_memory_node);

	KUNIT_ASSERT_NOT_NULL(test, batch);
	migrc_batch_add_folio(batch, folio);
	migrc_set_enabled(false);
	migrc_batch_seal(batch);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);
	KUNIT_EXPECT_TRUE(test, migrc_test_release(folio));
	migrc_set_enabled(true);
}

struct migrc_knob_case {
	const char *input;
	unsigned long min, max;
	int ret;
	unsigned long val;
	size_t len;		/* bytes of @input written, if not strlen() */
};

static const struct migrc_knob_case migrc_knob_cases[] = {
	{ "1",				0, 1,		0,	1 },
	{ "0\n",			0, 1,		0,	0 },
	{ "",				0, 1,		-EINVAL },
	{ "\n",				0, 1,		-EINVAL },
	{ "2",				0, 1,		-EINVAL },
	{ "-1",				0, 1,		-EINVAL },
	{ "abc",			0, 1,		-EINVAL },
	{ "1x",				0, 1,		-EINVAL },
	{ " 1",				0, 1,		-EINVAL },
	{ "0x10",			0, 100,		-EINVAL },
	{ "99999999999999999999999",	0, ULONG_MAX,	-EINVAL },
	{ "18446744073709551615",	0, ULONG_MAX,	0,	ULONG_MAX },
	{ "0",				1, 60000,	-EINVAL },
	{ "60001",			1, 60000,	-EINVAL },
	{ "60000",			1, 60000,	0,	60000 },
	{ "5\0junk",			0, 100,		-EINVAL, 0, 6 },
	{ "1\0",			0, 1,		-EINVAL, 0, 2 },
	{ "1\n\0",			0, 1,		-EINVAL, 0, 3 },
};

static void migrc_knob_case_desc(const struct migrc_knob_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "\"%s%s\" in [%lu,%lu]", c->input,
		 c->len ? "\\0..." : "", c->min, c->max);
	strreplace(desc, '\n', '~');
}

KUNIT_ARRAY_PARAM(migrc_knob, migrc_knob_cases, migrc_knob_case_desc);

/* Knob input is one decimal number in range; anything else is -EINVAL. */
static void migrc_test_knob_parse(struct kunit *test)
{
	const struct migrc_knob_case *c = test->param_value;
	unsigned long val = 12345;
	int ret;

	ret = migrc_parse_knob(c->input, c->len ?: strlen(c->input), c->min,
			       c->max, &val);
	KUNIT_EXPECT_EQ(test, ret, c->ret);
	KUNIT_EXPECT_EQ(test, val, c->ret ? 12345UL : c->val);
}

/* Through the sysctl handler: rejected writes keep the old value. */
static void migrc_test_sysctl_rejects(struct kunit *test)
{
	static const char *const bad[] = { "", "-5", "junk", "1000000", "7 " };
	const struct ctl_table *age = &migrc_sysctls[2];
	char buf[16];
	size_t len;
	loff_t pos;
	int i;

	KUNIT_ASSERT_STREQ(test, age->procname, "migrc_max_age_ms");
	WRITE_ONCE(migrc_max_age_ms, 1234);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		strscpy(buf, bad[i], sizeof(buf));
		len = strlen(buf);
		pos = 0;
		KUNIT_EXPECT_EQ_MSG(test, migrc_sysctl_handler(age, 1, buf, &len, &pos),
				    -EINVAL, "input \"%s\"", bad[i]);
		KUNIT_EXPECT_EQ(test, READ_ONCE(migrc_max_age_ms), 1234U);
	}
	strscpy(buf, "250\n", sizeof(buf));
	len = strlen(buf);
	pos = 0;
	KUNIT_EXPECT_EQ(test, migrc_sysctl_handler(age, 1, buf, &len, &pos), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(migrc_max_age_ms), 250U);

	/* Reading it back gives the number and a newline. */
	memset(buf, 0, sizeof(buf));
	len = sizeof(buf) - 1;
	pos = 0;
	KUNIT_EXPECT_EQ(test, migrc_sysctl_handler(age, 0, buf, &len, &pos), 0);
	KUNIT_EXPECT_STREQ(test, buf, "250\n");
}

/* migrc= takes the usual boolean spellings and nothing else. */
static void migrc_test_boot_param(struct kunit *test)
{
	static const char *const bad[] = { "", "maybe", "2", "offf", "-1", "On",
					   "yes", "on\n" };
	bool on;
	int i;

	KUNIT_EXPECT_EQ(test, migrc_parse_boot("off", &on), 0);
	KUNIT_EXPECT_FALSE(test, on);
	KUNIT_EXPECT_EQ(test, migrc_parse_boot("on", &on), 0);
	KUNIT_EXPECT_TRUE(test, on);
	KUNIT_EXPECT_EQ(test, migrc_parse_boot("0", &on), 0);
	KUNIT_EXPECT_FALSE(test, on);
	KUNIT_EXPECT_EQ(test, migrc_parse_boot(NULL, &on), -EINVAL);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_EQ_MSG(test, migrc_parse_boot(bad[i], &on), -EINVAL,
				    "migrc=%s", bad[i]);
}

/* The default cap scales with memory and never goes below one batch. */
static void migrc_test_default_cap(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, migrc_default_max_pending(1UL << 20), (1UL << 20) / 64);
	KUNIT_EXPECT_EQ(test, migrc_default_max_pending(1000), MIGRC_MIN_CAP);
	KUNIT_EXPECT_EQ(test, migrc_default_max_pending(0), MIGRC_MIN_CAP);
}

/* An impossible state warns, stops deferral and frees what it must. */
static void migrc_test_fail_safe(struct kunit *test)
{
	struct migrc_batch *batch = migrc_batch_open(1);
	struct folio *a = migrc_test_folio(test, first_memory_node);
	struct folio *b = migrc_test_folio(test, first_memory_node);

	KUNIT_ASSERT_NOT_NULL(test, batch);
	migrc_batch_add_folio(batch, a);
	migrc_batch_add_folio(batch, b);	/* over its reservation of 1 */
	KUNIT_EXPECT_EQ(test, folio_ref_count(b), 1);	/* freed at once */
	KUNIT_EXPECT_NULL(test, migrc_batch_open(1));
	migrc_batch_seal(batch);
	migrc_test_recover();
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);
	KUNIT_EXPECT_TRUE(test, migrc_test_release(a));
	KUNIT_EXPECT_TRUE(test, migrc_test_release(b));
	KUNIT_EXPECT_TRUE(test, migrc_enabled());
}

/* ------------------------------------------------------------------ */
/* Concurrency */

#define MIGRC_TEST_STRESS_MS		3000
#define MIGRC_TEST_STRESS_FOLIOS	2048

struct migrc_test_worker {
	struct folio **folios;
	int nr;
	int cpu;
	unsigned long deadline;
	struct completion done;
};

/* Now and then retire: all of it, by pressure on @nid, by age, or to 0. */
static void migrc_test_retire_randomly(int nid)
{
	nodemask_t nodes = NODE_MASK_NONE;

	node_set(nid, nodes);
	switch (get_random_u32_below(8)) {
	case 0:
		migrc_retire_all(MIGRC_CAUSE_DRAIN);
		break;
	case 1:
		migrc_retire_nodes(&nodes, MAX_NR_ZONES - 1, 0);
		break;
	case 2:
		migrc_retire_expired(jiffies + HZ * 100);
		break;
	case 3:
		migrc_retire_down_to(0, MIGRC_CAUSE_CAP, false);
		break;
	}
}

/*
 * Defer small batches of folios, and now and then retire: all of it, by
 * pressure on this node, by age, or to nothing.  Every folio it defers is recorded
 * so that the test can check it was freed exactly once.
 */
static int migrc_test_worker_fn(void *data)
{
	struct migrc_test_worker *w = data;
	int nid = cpu_to_mem(w->cpu);

	while (time_before(jiffies, w->deadline) &&
	       w->nr + 16 <= MIGRC_TEST_STRESS_FOLIOS) {
		struct migrc_batch *batch;
		int i, n = 1 + get_random_u32_below(16);

		batch = migrc_batch_open(n);
		if (!batch) {
			cond_resched();
			continue;
		}
		for (i = 0; i < n; i++) {
			struct folio *folio = __folio_alloc_node(GFP_KERNEL, 0, nid);

			if (!folio)
				break;
			folio_get(folio);
			w->folios[w->nr++] = folio;
			migrc_batch_add_folio(batch, folio);
		}
		migrc_batch_seal(batch);
		migrc_test_retire_randomly(nid);
		cond_resched();
	}
	complete(&w->done);
	return 0;
}

static void migrc_test_concurrent(struct kunit *test)
{
	unsigned long deferred = migrc_test_event(MIGRC_DEFERRED);
	long freed = migrc_test_stat(MIGRC_STAT_FREED_PAGES);
	struct migrc_test_worker *workers;
	unsigned long total = 0, once = 0;
	int cpu, i, n = 0;

	workers = kunit_kcalloc(test, nr_cpu_ids, sizeof(*workers), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, workers);
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		struct migrc_test_worker *w = &workers[cpu];
		struct task_struct *t;

		w->folios = kunit_kcalloc(test, MIGRC_TEST_STRESS_FOLIOS,
					  sizeof(*w->folios), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, w->folios);
		w->cpu = cpu;
		w->deadline = jiffies + msecs_to_jiffies(MIGRC_TEST_STRESS_MS);
		init_completion(&w->done);
		t = kthread_run_on_cpu(migrc_test_worker_fn, w, cpu, "migrc_test/%u");
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		n++;
	}
	cpus_read_unlock();
	for_each_online_cpu(cpu)
		if (workers[cpu].folios)
			wait_for_completion(&workers[cpu].done);

	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);

	for (cpu = 0; cpu < nr_cpu_ids; cpu++) {
		struct migrc_test_worker *w = &workers[cpu];

		for (i = 0; i < w->nr; i++) {
			total++;
			once += migrc_test_release(w->folios[i]);
		}
	}
	kunit_info(test, "%d CPUs deferred %lu folios, %lu freed exactly once\n",
		   n, total, once);
	KUNIT_EXPECT_GE(test, n, MIGRC_TEST_MIN_CPUS);
	KUNIT_EXPECT_GT(test, total, 0UL);
	KUNIT_EXPECT_EQ(test, once, total);
	KUNIT_EXPECT_EQ(test, migrc_test_event(MIGRC_DEFERRED) - deferred, total);
	KUNIT_EXPECT_EQ(test, (unsigned long)(migrc_test_stat(MIGRC_STAT_FREED_PAGES) - freed),
			total);
}

/* ------------------------------------------------------------------ */
/* Recycling */

/* A sealed batch that keeps one new folio on @nid, linked to @succ. */
static struct folio *migrc_test_keep_linked(struct kunit *test, int nid,
					    struct folio *succ)
{
	struct migrc_batch *batch = migrc_batch_open(1);
	struct folio *old;

	KUNIT_ASSERT_NOT_NULL(test, batch);
	old = __folio_alloc_node(GFP_KERNEL | __GFP_THISNODE, 0, nid);
	KUNIT_ASSERT_NOT_NULL(test, old);
	/* As migration leaves a source: flags the claim must clear. */
	folio_mark_uptodate(old);
	folio_set_referenced(old);
	KUNIT_ASSERT_TRUE(test, migrc_batch_add_folio(batch, old));
	migrc_batch_link(batch, old, folio_pfn(succ));
	migrc_batch_seal(batch);
	return old;
}

/* The link for @pfn, in whichever node's array it is, or NULL. */
static void *migrc_test_link(unsigned long pfn)
{
	void *entry = NULL;
	int nid;

	for_each_node(nid)
		entry = entry ?: xa_load(&migrc_links[nid], pfn);
	return entry;
}

static struct folio *migrc_test_alloc(struct kunit *test, int nid)
{
	struct folio *folio = __folio_alloc_node(GFP_KERNEL | __GFP_THISNODE, 0, nid);

	KUNIT_ASSERT_NOT_NULL(test, folio);
	return folio;
}

/*
 * A claim takes the old folio out of its sealed batch, as a fresh
 * destination (locked, one reference, no flags), frees the batch it
 * empties without a flush, and keeps the link marked until it ends.
 */
static void migrc_test_recycle_claim(struct kunit *test)
{
	long recycled = migrc_test_stat(MIGRC_STAT_RECYCLED);
	long emptied = migrc_test_stat(MIGRC_STAT_RECYCLED_BATCHES);
	unsigned long rounds = migrc_test_event(MIGRC_FLUSH_ROUNDS);
	struct folio *succ = migrc_test_alloc(test, 0);
	struct folio *dst = migrc_test_alloc(test, 0);
	struct migrc_batch *round = migrc_batch_open(1);
	unsigned long pending, batches;
	struct folio *old, *got;

	KUNIT_ASSERT_NOT_NULL(test, round);
	old = migrc_test_keep_linked(test, 0, succ);
	pending = migrc_nr_pending();
	batches = migrc_nr_pending_batches();

	got = migrc_recycle_claim(round, succ, dst);
	KUNIT_ASSERT_PTR_EQ(test, got, old);
	KUNIT_EXPECT_TRUE(test, folio_test_locked(old));
	KUNIT_EXPECT_EQ(test, folio_ref_count(old), 1);
	KUNIT_EXPECT_FALSE(test, folio_test_uptodate(old));
	KUNIT_EXPECT_FALSE(test, folio_test_referenced(old));
	KUNIT_EXPECT_NULL(test, folio_get_private(old));
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), pending - 1);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending_batches(), batches - 1);
	KUNIT_EXPECT_EQ(test, migrc_test_stat(MIGRC_STAT_RECYCLED) - recycled, 1L);
	KUNIT_EXPECT_EQ(test, migrc_test_stat(MIGRC_STAT_RECYCLED_BATCHES) - emptied, 1L);
	KUNIT_EXPECT_EQ(test, migrc_test_event(MIGRC_FLUSH_ROUNDS), rounds);
	/* Claimed: not twice. */
	KUNIT_EXPECT_NULL(test, migrc_recycle_claim(round, succ, dst));

	migrc_recycle_end(round, succ, old);
	KUNIT_EXPECT_NULL(test, migrc_test_link(folio_pfn(succ)));
	folio_unlock(old);
	folio_put(old);
	migrc_batch_seal(round);
	KUNIT_EXPECT_FALSE(test, migrc_test_failed());
	folio_put(dst);
	folio_put(succ);
}

/*
 * What may not be claimed: a folio in a batch still open, one in
 * another zone than the destination, one someone else holds a
 * reference to, and one whose batch retired (its link goes first).
 */
static void migrc_test_recycle_refused(struct kunit *test)
{
	struct folio *succ = migrc_test_alloc(test, 0);
	struct folio *dst = migrc_test_alloc(test, 0);
	struct folio *far = migrc_test_alloc(test, 1);
	struct migrc_batch *round = migrc_batch_open(1);
	struct migrc_batch *open = migrc_batch_open(1);
	struct folio *old;

	KUNIT_ASSERT_NOT_NULL(test, round);
	KUNIT_ASSERT_NOT_NULL(test, open);
	old = migrc_test_alloc(test, 0);
	KUNIT_ASSERT_TRUE(test, migrc_batch_add_folio(open, old));
	migrc_batch_link(open, old, folio_pfn(succ));
	KUNIT_EXPECT_NULL_MSG(test, migrc_recycle_claim(round, succ, dst),
			      "claimed from a batch still open");
	migrc_batch_seal(open);

	KUNIT_EXPECT_NULL_MSG(test, migrc_recycle_claim(round, succ, far),
			      "claimed for a destination on another node");
	folio_get(old);
	KUNIT_EXPECT_NULL_MSG(test, migrc_recycle_claim(round, succ, dst),
			      "claimed a folio someone holds");
	folio_put(old);

	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	KUNIT_EXPECT_NULL_MSG(test, migrc_test_link(folio_pfn(succ)),
			      "a retired folio is still linked");
	KUNIT_EXPECT_NULL(test, migrc_recycle_claim(round, succ, dst));
	migrc_batch_seal(round);
	KUNIT_EXPECT_FALSE(test, migrc_test_failed());
	folio_put(far);
	folio_put(dst);
	folio_put(succ);
}

/*
 * A claimed folio whose migration fails goes to the round's batch,
 * pending, and is freed when that retires.
 */
static void migrc_test_recycle_fail(struct kunit *test)
{
	long returned = migrc_test_stat(MIGRC_STAT_RECYCLE_RETURNED);
	struct folio *succ = migrc_test_alloc(test, 0);
	struct folio *dst = migrc_test_alloc(test, 0);
	struct migrc_batch *round = migrc_batch_open(1);
	unsigned long pending;
	struct folio *old;

	KUNIT_ASSERT_NOT_NULL(test, round);
	migrc_test_keep_linked(test, 0, succ);
	pending = migrc_nr_pending();
	old = migrc_recycle_claim(round, succ, dst);
	KUNIT_ASSERT_NOT_NULL(test, old);
	/* Ours, to see that it is freed exactly once. */
	folio_get(old);
	folio_unlock(old);
	/* Not claimed for another source. */
	KUNIT_EXPECT_FALSE(test, migrc_recycle_fail(round, dst, old));
	KUNIT_EXPECT_TRUE(test, migrc_recycle_fail(round, succ, old));
	KUNIT_EXPECT_EQ(test, migrc_test_stat(MIGRC_STAT_RECYCLE_RETURNED) - returned, 1L);
	migrc_batch_seal(round);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), pending);
	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	KUNIT_EXPECT_TRUE_MSG(test, migrc_test_release(old), "freed %s",
			      folio_ref_count(old) > 1 ? "never" : "twice");
	KUNIT_EXPECT_FALSE(test, migrc_test_failed());
	folio_put(dst);
	folio_put(succ);
}

#define MIGRC_TEST_RECYCLE_MS		2000
#define MIGRC_TEST_RECYCLE_SUCC		64

struct migrc_test_recycler {
	struct folio **succ;
	int nid, cpu;
	bool claim;		/* claims; otherwise defers and retires */
	unsigned long deadline, done_ops;
	struct completion done;
};

/* Keep folios linked to random successors, and now and then retire. */
static void migrc_test_recycle_produce(struct migrc_test_recycler *r)
{
	struct migrc_batch *batch;
	int i, n = 1 + get_random_u32_below(8);

	batch = migrc_batch_open(n);
	if (!batch)
		return;
	for (i = 0; i < n; i++) {
		struct folio *old = __folio_alloc_node(GFP_KERNEL, 0, r->nid);
		struct folio *succ = r->succ[get_random_u32_below(MIGRC_TEST_RECYCLE_SUCC)];

		if (!old)
			break;
		if (migrc_batch_add_folio(batch, old))
			migrc_batch_link(batch, old, folio_pfn(succ));
		r->done_ops++;
	}
	migrc_batch_seal(batch);
	migrc_test_retire_randomly(r->nid);
}

/* Claim for random successors; end half the claims, fail the others. */
static void migrc_test_recycle_consume(struct migrc_test_recycler *r,
				       struct folio *dst)
{
	struct migrc_batch *round = migrc_batch_open(16);
	int i;

	if (!round)
		return;
	for (i = 0; i < 16; i++) {
		struct folio *succ = r->succ[get_random_u32_below(MIGRC_TEST_RECYCLE_SUCC)];
		struct folio *old = migrc_recycle_claim(round, succ, dst);

		if (!old)
			continue;
		r->done_ops++;
		folio_unlock(old);
		if (get_random_u32_below(2)) {
			migrc_recycle_end(round, succ, old);
			folio_put(old);
		} else {
			migrc_recycle_fail(round, succ, old);
		}
	}
	migrc_batch_seal(round);
}

static int migrc_test_recycler_fn(void *data)
{
	struct migrc_test_recycler *r = data;
	struct folio *dst = __folio_alloc_node(GFP_KERNEL | __GFP_THISNODE, 0, r->nid);

	while (dst && time_before(jiffies, r->deadline)) {
		if (r->claim)
			migrc_test_recycle_consume(r, dst);
		else
			migrc_test_recycle_produce(r);
		cond_resched();
	}
	if (dst)
		folio_put(dst);
	complete(&r->done);
	return 0;
}

/*
 * Claims race with the batches' sealing and retirement: half the CPUs
 * keep linked folios and retire, the others claim them.  Nothing may be
 * freed twice or left behind (KASAN and DEBUG_VM runs check the former),
 * and the counts must come back to zero.
 */
static void migrc_test_recycle_race(struct kunit *test)
{
	long recycled = migrc_test_stat(MIGRC_STAT_RECYCLED);
	unsigned long produced = 0, claimed = 0;
	struct migrc_test_recycler *rs;
	struct folio **succ;
	int cpu, i, n = 0;

	succ = kunit_kcalloc(test, MIGRC_TEST_RECYCLE_SUCC, sizeof(*succ), GFP_KERNEL);
	rs = kunit_kcalloc(test, nr_cpu_ids, sizeof(*rs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, succ);
	KUNIT_ASSERT_NOT_NULL(test, rs);
	for (i = 0; i < MIGRC_TEST_RECYCLE_SUCC; i++)
		succ[i] = migrc_test_alloc(test, 0);

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		struct migrc_test_recycler *r = &rs[cpu];
		struct task_struct *t;

		r->succ = succ;
		r->nid = 0;
		r->cpu = cpu;
		r->claim = n++ & 1;
		r->deadline = jiffies + msecs_to_jiffies(MIGRC_TEST_RECYCLE_MS);
		init_completion(&r->done);
		t = kthread_run_on_cpu(migrc_test_recycler_fn, r, cpu, "migrc_recycle/%u");
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	cpus_read_unlock();
	for_each_online_cpu(cpu) {
		if (!rs[cpu].succ)
			continue;
		wait_for_completion(&rs[cpu].done);
		if (rs[cpu].claim)
			claimed += rs[cpu].done_ops;
		else
			produced += rs[cpu].done_ops;
	}

	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	kunit_info(test, "%lu folios kept linked, %lu claimed\n", produced, claimed);
	KUNIT_EXPECT_GT(test, produced, 0UL);
	KUNIT_EXPECT_GT_MSG(test, claimed, 0UL, "no claim raced anything");
	KUNIT_EXPECT_EQ(test, (unsigned long)(migrc_test_stat(MIGRC_STAT_RECYCLED) - recycled),
			claimed);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);
	KUNIT_EXPECT_EQ(test, migrc_nr_reserved(), 0UL);
	KUNIT_EXPECT_FALSE(test, migrc_test_failed());
	for (i = 0; i < MIGRC_TEST_RECYCLE_SUCC; i++) {
		KUNIT_EXPECT_NULL(test, migrc_test_link(folio_pfn(succ[i])));
		folio_put(succ[i]);
	}
}

static struct kunit_case migrc_test_cases[] = {
	KUNIT_CASE(migrc_test_topology),
	KUNIT_CASE(migrc_test_backend),
	KUNIT_CASE_PARAM(migrc_test_gen_compare, migrc_gen_gen_params),
	KUNIT_CASE(migrc_test_gen_monotonic_across_wrap),
	KUNIT_CASE(migrc_test_seal_generations),
	KUNIT_CASE(migrc_test_trim_off_by_one),
	KUNIT_CASE(migrc_test_trim_all_clean),
	KUNIT_CASE_PARAM(migrc_test_retire_flushes, migrc_retire_gen_params),
	KUNIT_CASE(migrc_test_pending_until_retired),
	KUNIT_CASE(migrc_test_zone_counts),
	KUNIT_CASE(migrc_test_pressure_by_node),
	KUNIT_CASE(migrc_test_batch_selection),
	KUNIT_CASE(migrc_test_pressure_waits_inflight),
	KUNIT_CASE(migrc_test_pressure_high_order),
	KUNIT_CASE(migrc_test_age),
	KUNIT_CASE(migrc_test_age_worker),
	KUNIT_CASE(migrc_test_reservation_balance),
	KUNIT_CASE(migrc_test_cap_refuses),
	KUNIT_CASE(migrc_test_round_retires_at_cap),
	KUNIT_CASE_PARAM(migrc_test_round_waits_inflight, migrc_round_wait_gen_params),
	KUNIT_CASE(migrc_test_cap_retires_all),
	KUNIT_CASE(migrc_test_flush_takes_all),
	KUNIT_CASE(migrc_test_cap_clean_first),
	KUNIT_CASE(migrc_test_causes_add_up),
	KUNIT_CASE(migrc_test_mm_flush),
	KUNIT_CASE(migrc_test_mm_flush_race),
	KUNIT_CASE(migrc_test_mm_counts),
	KUNIT_CASE(migrc_test_backend_add_flush),
	KUNIT_CASE_PARAM(migrc_test_defer_pte_ineligible_halfway,
			 migrc_test_join_gen_params),
	KUNIT_CASE_PARAM(migrc_test_unmap_flush, migrc_unmap_flush_gen_params),
	KUNIT_CASE(migrc_test_disable_drains),
	KUNIT_CASE(migrc_test_seal_after_disable),
	KUNIT_CASE_PARAM(migrc_test_knob_parse, migrc_knob_gen_params),
	KUNIT_CASE(migrc_test_sysctl_rejects),
	KUNIT_CASE(migrc_test_boot_param),
	KUNIT_CASE(migrc_test_default_cap),
	KUNIT_CASE(migrc_test_fail_safe),
	KUNIT_CASE_SLOW(migrc_test_concurrent),
	KUNIT_CASE(migrc_test_recycle_claim),
	KUNIT_CASE(migrc_test_recycle_refused),
	KUNIT_CASE(migrc_test_recycle_fail),
	KUNIT_CASE_SLOW(migrc_test_recycle_race),
	{}
};

static struct kunit_suite migrc_test_suite = {
	.name = "migrc",
	.init = migrc_test_init,
	.exit = migrc_test_exit,
	.test_cases = migrc_test_cases,
};

kunit_test_suites(&migrc_test_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for the migrc core");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
