// SPDX-License-Identifier: GPL-2.0
/*
 * migrc run-time control and statistics: the vm.migrc_* sysctls and
 * /sys/kernel/debug/migrc/{stats,drain}.
 *
 * Every knob takes one decimal number in a documented range.  Anything
 * else (empty, negative, out of range, not a number, an offset write) is
 * rejected with -EINVAL and leaves the old value in place.
 *
 *   vm.migrc_enabled            0 or 1
 *   vm.migrc_max_pending_pages  0 .. total RAM pages
 *   vm.migrc_max_age_ms         1 .. 60000
 *   debugfs migrc/drain         1 (retire everything now)
 */

#define pr_fmt(fmt) "migrc: " fmt

#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/sysctl.h>
#include <linux/uaccess.h>

#include "migrc.h"

/* Longest accepted input: a 64-bit number and a newline. */
#define MIGRC_KNOB_LEN	24

/**
 * migrc_parse_knob() - parse a value written to a migrc knob
 * @buf: the bytes written (not NUL-terminated)
 * @len: how many
 * @min: smallest accepted value
 * @max: largest accepted value
 * @val: where to put the value
 *
 * Accepts one unsigned decimal number with an optional trailing newline;
 * a NUL anywhere in @buf is bad input, not the end of it.
 *
 * Context: any.
 * Return: 0, or -EINVAL for anything else.
 */
VISIBLE_IF_KUNIT int migrc_parse_knob(const char *buf, size_t len,
				      unsigned long min, unsigned long max,
				      unsigned long *val)
{
	char tmp[MIGRC_KNOB_LEN + 1];
	unsigned long v;

	if (!len || len > MIGRC_KNOB_LEN || memchr(buf, '\0', len))
		return -EINVAL;
	memcpy(tmp, buf, len);
	tmp[len] = '\0';
	if (kstrtoul(tmp, 10, &v) || v < min || v > max)
		return -EINVAL;
	*val = v;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_parse_knob);

struct migrc_knob {
	unsigned long min;
	unsigned long (*limit)(void);
	unsigned long (*get)(void);
	void (*set)(unsigned long val);
};

static unsigned long migrc_one(void) { return 1; }
static unsigned long migrc_age_max(void) { return MIGRC_MAX_AGE_MS; }
static unsigned long migrc_cap_max(void) { return totalram_pages(); }

static unsigned long migrc_get_enabled(void) { return migrc_enabled(); }
static unsigned long migrc_get_cap(void) { return READ_ONCE(migrc_max_pending_pages); }
static unsigned long migrc_get_age(void) { return READ_ONCE(migrc_max_age_ms); }

static void migrc_put_enabled(unsigned long val) { migrc_set_enabled(val); }

static void migrc_put_cap(unsigned long val)
{
	/* A plain tunable: readers only compare against it. */
	WRITE_ONCE(migrc_max_pending_pages, val);
	migrc_retire_over_cap();
}

static void migrc_put_age(unsigned long val)
{
	migrc_set_max_age(val);
}

static const struct migrc_knob migrc_knob_enabled = {
	.min = 0, .limit = migrc_one, .get = migrc_get_enabled, .set = migrc_put_enabled,
};

static const struct migrc_knob migrc_knob_cap = {
	.min = 0, .limit = migrc_cap_max, .get = migrc_get_cap, .set = migrc_put_cap,
};

static const struct migrc_knob migrc_knob_age = {
	.min = MIGRC_MIN_AGE_MS, .limit = migrc_age_max, .get = migrc_get_age,
	.set = migrc_put_age,
};

VISIBLE_IF_KUNIT int migrc_sysctl_handler(const struct ctl_table *table,
					  int write, void *buffer, size_t *lenp,
					  loff_t *ppos)
{
	const struct migrc_knob *knob = table->extra1;
	unsigned long val;
	struct ctl_table t;

	if (!write) {
		val = knob->get();
		t = *table;
		t.data = &val;
		t.maxlen = sizeof(val);
		t.extra1 = NULL;
		t.extra2 = NULL;
		return proc_doulongvec_minmax(&t, 0, buffer, lenp, ppos);
	}
	if (*ppos)
		return -EINVAL;
	if (migrc_parse_knob(buffer, *lenp, knob->min, knob->limit(), &val))
		return -EINVAL;
	knob->set(val);
	*ppos += *lenp;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_sysctl_handler);

VISIBLE_IF_KUNIT struct ctl_table migrc_sysctls[MIGRC_NR_SYSCTLS] = {
	{
		.procname	= "migrc_enabled",
		.mode		= 0644,
		.proc_handler	= migrc_sysctl_handler,
		.extra1		= (void *)&migrc_knob_enabled,
	},
	{
		.procname	= "migrc_max_pending_pages",
		.mode		= 0644,
		.proc_handler	= migrc_sysctl_handler,
		.extra1		= (void *)&migrc_knob_cap,
	},
	{
		.procname	= "migrc_max_age_ms",
		.mode		= 0644,
		.proc_handler	= migrc_sysctl_handler,
		.extra1		= (void *)&migrc_knob_age,
	},
};
EXPORT_SYMBOL_IF_KUNIT(migrc_sysctls);

void __init migrc_sysctl_init(void)
{
	register_sysctl_init("vm", migrc_sysctls);
}

static const char *const migrc_stat_names[MIGRC_STAT_COUNT] = {
	[MIGRC_STAT_SEALED]				= "batches sealed",
	[MIGRC_STAT_RETIRED]				= "batches retired",
	[MIGRC_STAT_FREED_PAGES]			= "pages freed",
	[MIGRC_STAT_FLUSH_AVOIDED]			= "flushes avoided",
	[MIGRC_STAT_CAP_REFUSED]			= "rounds refused at cap",
	[MIGRC_STAT_INELIGIBLE_FLUSH]			= "folios refused after deferring",
	[MIGRC_STAT_INELIGIBLE_JOINED]			=
		"folios refused after deferring, left to the unmap flush",
	[MIGRC_STAT_UNMAP_FLUSHED]			=
		"old folios freed after their round's unmap flush",
	[MIGRC_STAT_RECYCLED]				= "old folios recycled",
	[MIGRC_STAT_RECYCLED_BATCHES]			= "batches emptied by recycling",
	[MIGRC_STAT_RECYCLE_RETURNED]			= "recycled folios returned",
	[MIGRC_STAT_FP_FIRST + MIGRC_FP_WRITE_FAULT]	= "mm flushes: write fault",
	[MIGRC_STAT_FP_FIRST + MIGRC_FP_GUP_WRITE]	= "mm flushes: gup write",
	[MIGRC_STAT_FP_FIRST + MIGRC_FP_BATCHED]	= "mm flushes: zap/mremap/mprotect/madvise",
	[MIGRC_STAT_FP_FIRST + MIGRC_FP_OTHER]		= "mm flushes: other",
};

static const char *const migrc_refusal_names[NR_MIGRC_REFUSALS] = {
	[MIGRC_REFUSED_WRITABLE]	= "writable",
	[MIGRC_REFUSED_SHARED]		= "shared vma",
	[MIGRC_REFUSED_FLUSH_PENDING]	= "mm flush pending",
};

static int migrc_stats_show(struct seq_file *seq, void *v)
{
	int i;

	seq_printf(seq, "enabled: %i\n", migrc_enabled());
	seq_printf(seq, "pages pending: %lu\n", migrc_nr_pending());
	seq_printf(seq, "pages reserved: %lu\n", migrc_nr_reserved());
	seq_printf(seq, "max pending pages: %lu\n", READ_ONCE(migrc_max_pending_pages));
	seq_printf(seq, "max age ms: %u\n", READ_ONCE(migrc_max_age_ms));
	seq_printf(seq, "generation: %llu\n", migrc_read_gen());
	for (i = 0; i < MIGRC_STAT_COUNT; i++)
		seq_printf(seq, "%s: %ld\n", migrc_stat_names[i],
			   atomic_long_read(&migrc_stats.counter[i]));
	for (i = 0; i < NR_MIGRC_REFUSALS; i++)
		seq_printf(seq, "ptes not deferred, %s: %lu\n", migrc_refusal_names[i],
			   migrc_refused(i));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(migrc_stats);

static ssize_t migrc_drain_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	char buf[MIGRC_KNOB_LEN];
	unsigned long val;

	if (*ppos || !count || count > sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	if (migrc_parse_knob(buf, count, 1, 1, &val))
		return -EINVAL;
	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	return count;
}

static const struct file_operations migrc_drain_fops = {
	.write	= migrc_drain_write,
	.llseek	= noop_llseek,
};

void __init migrc_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("migrc", NULL);

	debugfs_create_file("stats", 0444, dir, NULL, &migrc_stats_fops);
	debugfs_create_file("drain", 0200, dir, NULL, &migrc_drain_fops);
}
