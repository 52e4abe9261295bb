// SPDX-License-Identifier: GPL-2.0
/*
 * migrc boot: the boot parameters migrc= and migrc_disable_hooks=, the
 * default cap, retiring everything before a CPU or memory goes away and
 * before suspend, and the initcall that sets it all up.
 */

#define pr_fmt(fmt) "migrc: " fmt

#include <linux/cpuhotplug.h>
#include <linux/init.h>
#include <linux/kstrtox.h>
#include <linux/memory.h>
#include <linux/migrc.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/notifier.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/suspend.h>

#include "migrc.h"

static bool migrc_boot_enabled __initdata = true;

VISIBLE_IF_KUNIT int migrc_parse_hooks(const char *arg, unsigned long *mask)
{
	unsigned long v;

	if (!arg || kstrtoul(arg, 0, &v) || v >= BIT(NR_MIGRC_HOOKS))
		return -EINVAL;
	*mask = v;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_parse_hooks);

static int __init migrc_setup_hooks(char *arg)
{
	unsigned long mask;

	if (!IS_ENABLED(CONFIG_MIGRC_DEBUG) || migrc_parse_hooks(arg, &mask)) {
		pr_warn("ignoring migrc_disable_hooks=%s\n", arg ?: "");
		return -EINVAL;
	}
	migrc_debug_disabled_hooks = mask;
	pr_warn("debug: hooks 0x%lx disabled\n", mask);
	return 0;
}
early_param("migrc_disable_hooks", migrc_setup_hooks);

/* Boot parameter: migrc=on|off (or 1|0), nothing else. */
VISIBLE_IF_KUNIT int migrc_parse_boot(const char *arg, bool *on)
{
	if (!arg)
		return -EINVAL;
	if (!strcmp(arg, "on") || !strcmp(arg, "1")) {
		*on = true;
		return 0;
	}
	if (!strcmp(arg, "off") || !strcmp(arg, "0")) {
		*on = false;
		return 0;
	}
	return -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_parse_boot);

static int __init migrc_setup(char *arg)
{
	bool on;
	int ret = migrc_parse_boot(arg, &on);

	if (ret) {
		pr_warn("ignoring invalid migrc=%s (use on or off)\n", arg ?: "");
		return ret;
	}
	migrc_boot_enabled = on;
	return 0;
}
early_param("migrc", migrc_setup);

/*
 * The default cap: 1/64 of memory (at least one full batch of 512 pages),
 * so a machine that migrates continuously keeps at most about 1.5% of its
 * memory in pending old copies.
 */
VISIBLE_IF_KUNIT unsigned long migrc_default_max_pending(unsigned long totalram)
{
	return max(totalram / 64, MIGRC_MIN_CAP);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_default_max_pending);

/*
 * A CPU going away, memory going away, suspend and hibernation: retire
 * everything first.  An offline CPU cannot read through a stale entry and
 * comes back with its TLB invalidated, but pending folios must not pin
 * memory that is being offlined, and a hibernation image should not carry
 * them.
 */
static int migrc_cpu_offline(unsigned int cpu)
{
	if (!migrc_hook_disabled(MIGRC_HOOK_OFFLINE))
		migrc_retire_all(MIGRC_CAUSE_DRAIN);
	return 0;
}

VISIBLE_IF_KUNIT int migrc_memory_callback(struct notifier_block *nb,
					   unsigned long action, void *arg)
{
	if (action == MEM_GOING_OFFLINE && !migrc_hook_disabled(MIGRC_HOOK_OFFLINE))
		migrc_retire_all(MIGRC_CAUSE_DRAIN);
	return NOTIFY_OK;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_memory_callback);

VISIBLE_IF_KUNIT int migrc_pm_callback(struct notifier_block *nb,
				       unsigned long action, void *arg)
{
	if ((action == PM_HIBERNATION_PREPARE || action == PM_SUSPEND_PREPARE) &&
	    !migrc_hook_disabled(MIGRC_HOOK_OFFLINE))
		migrc_retire_all(MIGRC_CAUSE_DRAIN);
	return NOTIFY_OK;
}
EXPORT_SYMBOL_IF_KUNIT(migrc_pm_callback);

static struct notifier_block migrc_memory_nb = {
	.notifier_call = migrc_memory_callback,
};

static struct notifier_block migrc_pm_nb = {
	.notifier_call = migrc_pm_callback,
};

static int __init migrc_init(void)
{
	migrc_batch_cache = KMEM_CACHE(migrc_batch, SLAB_PANIC);
	WRITE_ONCE(migrc_max_pending_pages,
		   migrc_default_max_pending(totalram_pages()));
	migrc_sysctl_init();
	migrc_debugfs_init();
	register_memory_notifier(&migrc_memory_nb);
	register_pm_notifier(&migrc_pm_nb);
	if (cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "mm/migrc:online",
				      NULL, migrc_cpu_offline) < 0)
		pr_warn("no CPU hotplug callback: pending batches survive offline\n");
	if (!migrc_boot_enabled)
		static_branch_disable(&migrc_enabled_key);
	pr_info("%s backend, %s, at most %lu pages pending for %u ms\n",
		ARCH_MIGRC_NAME, migrc_enabled() ? "enabled" : "disabled",
		migrc_max_pending_pages, migrc_max_age_ms);
	return 0;
}
core_initcall(migrc_init);
