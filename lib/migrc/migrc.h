/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migrc internals shared by the files of the core, its controls and its
 * tests.
 */
#ifndef MM_MIGRC_MIGRC_H
#define MM_MIGRC_MIGRC_H

#include <kunit/visibility.h>
#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/percpu-defs.h>
#include <linux/migrc.h>
#include <linux/spinlock_types.h>
#include <linux/sysctl.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

/*
 * Default and range of vm.migrc_max_age_ms.  NUMA balancing marks a range
 * for hinting faults again no sooner than numa_balancing_scan_period_min_ms
 * (1000) later, so a page it moves at one scan comes back at the next at
 * the earliest a second later: the default keeps old folios for two such
 * periods, long enough for the page to migrate back into its old folio.
 * The cap bounds how much is pending; the age bounds how long it lingers
 * after migration stops.
 */
#define MIGRC_DEFAULT_AGE_MS	2000
#define MIGRC_MIN_AGE_MS	1
#define MIGRC_MAX_AGE_MS	60000

/* The default cap never goes below one full batch of small folios. */
#define MIGRC_MIN_CAP		512UL

/* vm.migrc_enabled, vm.migrc_max_pending_pages, vm.migrc_max_age_ms */
#define MIGRC_NR_SYSCTLS	3

/* Counters only the debugfs stats file shows. */
enum migrc_stat {
	MIGRC_STAT_SEALED,		/* batches sealed */
	MIGRC_STAT_RETIRED,		/* batches retired, any cause */
	MIGRC_STAT_FREED_PAGES,		/* pages freed by retirement */
	MIGRC_STAT_FLUSH_AVOIDED,	/* batches retired without a flush of their own */
	MIGRC_STAT_CAP_REFUSED,		/* rounds that did not defer: cap reached */
	MIGRC_STAT_INELIGIBLE_FLUSH,	/* folios refused after deferring */
	MIGRC_STAT_INELIGIBLE_JOINED,	/* ... whose entries joined the unmap flush */
	MIGRC_STAT_UNMAP_FLUSHED,	/* old folios freed after their round's unmap flush */
	MIGRC_STAT_RECYCLED,		/* old folios taken back as destinations */
	MIGRC_STAT_RECYCLED_BATCHES,	/* batches emptied that way, freed without a flush */
	MIGRC_STAT_RECYCLE_RETURNED,	/* ... given back after a failed migration */
	MIGRC_STAT_FP_FIRST,		/* mm flushes by flush point, ... */
	MIGRC_STAT_FP_LAST = MIGRC_STAT_FP_FIRST + NR_MIGRC_FLUSH_POINTS - 1,
	MIGRC_STAT_COUNT
};

struct migrc_stats {
	atomic_long_t counter[MIGRC_STAT_COUNT];
};

/*
 * Why a read-only migration entry was flushed the mainline way: counted
 * per CPU (batch.c), since refusals come with most migrations.
 */
enum migrc_refusal {
	MIGRC_REFUSED_WRITABLE,		/* the PTE was writable */
	MIGRC_REFUSED_SHARED,		/* in a VM_SHARED VMA */
	MIGRC_REFUSED_FLUSH_PENDING,	/* a TLB flush was pending in the mm */
	NR_MIGRC_REFUSALS
};

DECLARE_PER_CPU(unsigned long [NR_MIGRC_REFUSALS], migrc_refusals);
unsigned long migrc_refused(enum migrc_refusal why);

extern struct migrc_stats migrc_stats;
extern unsigned long migrc_max_pending_pages;
extern unsigned int migrc_max_age_ms;

static inline void migrc_stat_inc(enum migrc_stat item)
{
	atomic_long_inc(&migrc_stats.counter[item]);
}

static inline void migrc_stat_add(enum migrc_stat item, long nr)
{
	atomic_long_add(nr, &migrc_stats.counter[item]);
}

/* core.c: the generation counter and the backend calls. */
extern atomic64_t migrc_gen;
bool migrc_arch_trim(struct migrc_batch *batch);
void migrc_arch_flush(struct arch_migrc_batch *arch);
bool migrc_arch_join_unmap_flush(struct arch_migrc_batch *arch);
void migrc_arch_flush_mm(struct mm_struct *mm);
void migrc_arch_flush_all(void);
void migrc_flush_all(void);

/* file.c: where the race test stops a migration; see migrc_file_unmap_end(). */
enum migrc_file_race {
	MIGRC_FILE_RACE_BEFORE_MARK,
	MIGRC_FILE_RACE_BEFORE_RECHECK,
	MIGRC_FILE_RACE_AFTER_RECHECK,
};

/* retire.c: the pending list and its counters; see there for the locking. */
struct kmem_cache;
extern spinlock_t migrc_lock;
extern struct list_head migrc_pending;
extern unsigned long migrc_nr_batches;
extern atomic_long_t migrc_pending_pages;
extern atomic_long_t migrc_reserved;
extern struct kmem_cache *migrc_batch_cache;
extern bool migrc_failed;
extern struct xarray migrc_links[MAX_NUMNODES];
/* The tag of a link a migration has claimed (xa_tag_pointer()). */
#define MIGRC_CLAIMED	1
void migrc_links_publish(struct migrc_batch *batch);

typedef bool (*migrc_select_t)(struct migrc_batch *batch, void *arg);
unsigned long migrc_retire(migrc_select_t select, void *arg,
			   enum migrc_cause cause);
unsigned long migrc_retire_down_to(long target, enum migrc_cause cause,
				   bool wait);
bool migrc_select_all(struct migrc_batch *batch, void *arg);
void migrc_batch_free(struct migrc_batch *batch);

/* policy.c: the age and cap workers. */
extern struct delayed_work migrc_age_work;
extern struct work_struct migrc_cap_work;
long migrc_cap_high(void);
long migrc_cap_low(void);

void migrc_fail(const char *why);
void migrc_set_enabled(bool on);
void migrc_set_max_age(unsigned int ms);
unsigned long migrc_nr_reserved(void);
unsigned long migrc_retire_over_cap(void);
unsigned long migrc_retire_to_cap_low(bool wait);
void __init migrc_sysctl_init(void);
void __init migrc_debugfs_init(void);

#if IS_ENABLED(CONFIG_KUNIT)
struct notifier_block;
extern struct ctl_table migrc_sysctls[MIGRC_NR_SYSCTLS];
int migrc_sysctl_handler(const struct ctl_table *table, int write,
			 void *buffer, size_t *lenp, loff_t *ppos);
u64 migrc_cpu_clean_gen(int cpu);
bool migrc_test_failed(void);
bool migrc_batch_in_nodes(struct migrc_batch *batch, const nodemask_t *nodes,
			  int highest_zoneidx);
void migrc_test_recover(void);
unsigned long migrc_retire_expired(unsigned long now);
unsigned long migrc_nr_pending_batches(void);
int migrc_parse_boot(const char *arg, bool *on);
int migrc_parse_hooks(const char *arg, unsigned long *mask);
int migrc_memory_callback(struct notifier_block *nb, unsigned long action,
			  void *arg);
int migrc_pm_callback(struct notifier_block *nb, unsigned long action,
		      void *arg);
unsigned long migrc_default_max_pending(unsigned long totalram);
void migrc_file_race_point(struct folio *folio, enum migrc_file_race where);
int migrc_parse_knob(const char *buf, size_t len, unsigned long min,
		     unsigned long max, unsigned long *val);
#endif

#endif /* MM_MIGRC_MIGRC_H */
