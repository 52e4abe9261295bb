// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit integration tests for migrc in mm: real user memory, migrated
 * between two NUMA nodes while kthreads on the other CPUs read it through
 * the same mm, then each flush point, then a check that every CPU reads
 * the current data.
 *
 * Under QEMU a stale translation stays usable until the guest invalidates
 * it, so a missing flush shows up as a reader that sees anything but the
 * new value after the new value was published (the test writes it, then
 * publishes it), so the check needs no timing assumptions.
 *
 * With CONFIG_MIGRC_DEBUG the boot parameter migrc_disable_hooks= turns
 * single hooks off; the case guarding a hook must then fail.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/memory.h>
#include <linux/migrate.h>
#include <linux/migrc.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pagewalk.h>
#include <linux/sched/mm.h>
#include <linux/suspend.h>
#include <linux/sched/sysctl.h>
#include <linux/uaccess.h>
#include <linux/userfaultfd_k.h>
#include <linux/vmstat.h>
#include <asm/syscall.h>
#include <asm/tlb.h>
#include <asm/unistd.h>

#include "../../mm/internal.h"
#include "migrc.h"
#include "migrc_kunit.h"

#define MT_PAGES		16
#define MT_READ_MS		200
#define MT_HOLD_MS		10000
#define MT_HOLD_AFTER		1000
#define MT_OLD			1ULL
#define MT_NEW			2ULL

struct mt {
	struct kunit *test;
	struct migrc_kunit_readers rd;	/* and the mm: rd.mm */
	unsigned long addr;
	int nr;
	u64 expect[MT_PAGES];		/* newest value published per page */
	bool hold;			/* riscv: read with SUM held, see mt_read_held() */
	bool hold_go;			/* held stretches may start */
	atomic_t held;			/* stretches that have read every page */
	bool flushed;			/* set once the flush under test returned */
	atomic_long_t stale_after, proof;
	atomic_long_t reads, stale, fresh;
	bool probe0;
	atomic_long_t held0;
};

static u64 __user *mt_page(struct mt *mt, int i)
{
	return (u64 __user *)(mt->addr + i * PAGE_SIZE);
}

struct mt_counts {
	long reads, stale, fresh, stale_after, proof;
	bool saw_stale;		/* since this reader's TLB was last emptied */
};

/*
 * Once MT_NEW is published for a page, any other value is stale: the
 * write happened before the publication, so only a translation to the
 * old folio can still give the old value.  @e and @after (mt->flushed)
 * were read before @v.  A read after the flush under test proves it
 * when the same reader saw the stale value since its TLB last emptied.
 */
static void mt_check(struct mt_counts *c, u64 e, bool after, u64 v)
{
	c->reads++;
	if (e != MT_NEW)
		return;
	if (v == MT_NEW)
		c->fresh++;
	else
		c->stale++;
	if (!after) {
		c->saw_stale |= v != MT_NEW;
		return;
	}
	if (v != MT_NEW)
		c->stale_after++;
	else if (c->saw_stale)
		c->proof++;
}

/* Publish as we go: some cases read the counts mid-run. */
static void mt_publish_counts(struct mt *mt, struct mt_counts *c)
{
	atomic_long_add(c->reads, &mt->reads);
	atomic_long_add(c->stale, &mt->stale);
	atomic_long_add(c->fresh, &mt->fresh);
	atomic_long_add(c->stale_after, &mt->stale_after);
	atomic_long_add(c->proof, &mt->proof);
	*c = (struct mt_counts){ .saw_stale = c->saw_stale };
}

#ifdef CONFIG_RISCV
/*
 * QEMU (7.2) flushes a riscv hart's whole TLB whenever SUM changes, which
 * the kernel does around every user access and on every trap: a kernel
 * reader never keeps a translation from one access to the next.  Read
 * with SUM held and interrupts off instead, until MT_HOLD_AFTER reads
 * after the flush under test (or MT_HOLD_MS at most).  The remote fences
 * still get through: SBI performs them in M-mode, which S-mode's masks do
 * not hold off (fences sent by IPI would wait for the end of the stretch,
 * and prove nothing).  Faults are fixed up, not handled, as
 * pagefault_disable() asks.
 *
 * A held hart takes no interrupt, so a test thread that sleeps or waits
 * for a kthread meanwhile can wait for the whole stretch.  When stretches
 * began as the readers started, starting them took the test thread 10 s,
 * and its flush often came after every stretch that had kept the old
 * translation.  So stretches start only when the test asks
 * (mt_hold_readers()), and the test does not sleep until its flush is
 * done.
 */
static void mt_read_held(struct mt *mt, struct mt_counts *c)
{
	u64 end = ktime_get_mono_fast_ns() + MT_HOLD_MS * NSEC_PER_MSEC;
	unsigned long flags;
	int i, after_reads = 0;
	bool counted = false;

	local_irq_save(flags);
	pagefault_disable();
	/* Changing SUM empties this hart's TLB (in QEMU). */
	__enable_user_access();
	c->saw_stale = false;
	while (ktime_get_mono_fast_ns() < end && !READ_ONCE(mt->rd.stop) &&
	       after_reads < MT_HOLD_AFTER) {
		for (i = 0; i < mt->nr; i++) {
			/* Pairs with smp_store_release() in mt_publish(). */
			u64 e = smp_load_acquire(&mt->expect[i]);
			/* Pairs with the release after the flush under test. */
			bool after = smp_load_acquire(&mt->flushed);
			u64 __user *p = mt_page(mt, i);
			long err = 0;
			u64 v;

			__get_user_nocheck(v, p, err);
			if (!err)
				mt_check(c, e, after, v);
			after_reads += after;
		}
		if (!counted) {
			/* This hart's TLB now holds every page. */
			atomic_inc(&mt->held);
			counted = true;
		}
	}
	__disable_user_access();
	pagefault_enable();
	local_irq_restore(flags);
}
#else
static void mt_read_held(struct mt *mt, struct mt_counts *c)
{
}
#endif

/* Read every page in a loop, counting stale and fresh values. */
static int mt_reader_fn(void *arg)
{
	struct mt *mt = arg;
	struct mt_counts c = {};
	int i;

	migrc_kunit_reader_enter(&mt->rd);
	while (!READ_ONCE(mt->rd.stop)) {
		/* Pairs with smp_store_release() in mt_hold_readers(). */
		if (mt->hold && smp_load_acquire(&mt->hold_go))
			mt_read_held(mt, &c);
		for (i = 0; i < mt->nr && !mt->hold; i++) {
			/* Pairs with smp_store_release() in mt_publish(). */
			u64 e = smp_load_acquire(&mt->expect[i]);
			/* Pairs with the release after the flush under test. */
			bool after = smp_load_acquire(&mt->flushed);
			u64 v;

			/*
			 * Never fault: a fault on a migration entry waits for
			 * the migration under the mmap or VMA lock, which the
			 * test may need to munmap while the migration waits.
			 */
			if (!copy_from_user_nofault(&v, mt_page(mt, i), sizeof(v))) {
				mt_check(&c, e, after, v);
				if (i == 0 && READ_ONCE(mt->probe0))
					atomic_long_inc(&mt->held0);
			}
		}
		mt_publish_counts(mt, &c);
		cond_resched();
	}
	return migrc_kunit_reader_exit(&mt->rd);
}

static void mt_publish(struct mt *mt, int i, u64 v)
{
	/* Pairs with smp_load_acquire() in mt_reader_fn(). */
	smp_store_release(&mt->expect[i], v);
}

/* The test thread stays on one CPU; a reader runs on each of the others. */
static void mt_start_readers(struct mt *mt)
{
	migrc_kunit_start_readers(&mt->rd, mt_reader_fn, mt, "migrc_rd/%u", MT_READ_MS / 4);
}

static void mt_stop_readers(struct mt *mt)
{
	migrc_kunit_stop_readers(&mt->rd);
}

/*
 * Map MT_PAGES of private anonymous memory with @prot and give each page
 * MT_OLD, written through FOLL_FORCE so that a PROT_READ mapping ends up
 * with read-only PTEs to exclusive pages, as after mprotect().
 */
static struct mt *mt_setup(struct kunit *test, unsigned long prot)
{
	struct mt *mt = kunit_kzalloc(test, sizeof(*mt), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, mt);
	mt->test = test;
	mt->rd.test = test;
	mt->nr = MT_PAGES;
	mt->addr = kunit_vm_mmap(test, NULL, 0, MT_PAGES * PAGE_SIZE, prot,
				 MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_NE(test, mt->addr, 0UL);
	mt->rd.mm = current->mm;
	/*
	 * Fault every page in on one node: moved to a CPU of the other node
	 * halfway, the test would get pages on both, and the cases migrate
	 * all of them from one node to the other.
	 */
	migrate_disable();
	for (i = 0; i < mt->nr; i++) {
		u64 v = MT_OLD;
		int n = access_remote_vm(mt->rd.mm, (unsigned long)mt_page(mt, i),
					 &v, sizeof(v), FOLL_WRITE | FOLL_FORCE);

		if (n != sizeof(v)) {
			migrate_enable();
			KUNIT_ASSERT_EQ(test, n, (int)sizeof(v));
		}
		mt_publish(mt, i, MT_OLD);
	}
	migrate_enable();
	return mt;
}

static int mt_wrprotect_pte(pte_t *pte, unsigned long addr, unsigned long next,
			    struct mm_walk *walk)
{
	ptep_set_wrprotect(walk->mm, addr, pte);
	return 0;
}

static const struct mm_walk_ops mt_wrprotect_ops = {
	.pte_entry	= mt_wrprotect_pte,
	.walk_lock	= PGWALK_WRLOCK,
};

/* As uffd-wp and a NUMA hinting scan do it, under mmap_read_lock. */
static const struct mm_walk_ops mt_wrprotect_read_ops = {
	.pte_entry	= mt_wrprotect_pte,
	.walk_lock	= PGWALK_RDLOCK,
};

/*
 * Write-protect the PTEs of a writable mapping, leaving the VMA writable
 * and the pages exclusive: the state after a fork whose child exited, in
 * which the next write fault reuses the page in place.
 */
static void __mt_wrprotect(struct mt *mt, bool flush)
{
	struct vm_area_struct *vma;

	mmap_write_lock(mt->rd.mm);
	vma = find_vma(mt->rd.mm, mt->addr);
	walk_page_range(mt->rd.mm, mt->addr, mt->addr + mt->nr * PAGE_SIZE,
			&mt_wrprotect_ops, NULL);
	if (flush)
		flush_tlb_range(vma, mt->addr, mt->addr + mt->nr * PAGE_SIZE);
	mmap_write_unlock(mt->rd.mm);
}

static void mt_wrprotect(struct mt *mt)
{
	__mt_wrprotect(mt, true);
}

/* mprotect() the whole range, as the syscall would. */
static int mt_mprotect(struct mt *mt, unsigned long prot)
{
	unsigned long start = mt->addr, end = mt->addr + mt->nr * PAGE_SIZE;
	struct vm_area_struct *vma, *prev;
	struct mmu_gather tlb;
	struct vma_iterator vmi;
	unsigned long newflags;
	int ret;

	vma_iter_init(&vmi, mt->rd.mm, start);
	mmap_write_lock(mt->rd.mm);
	vma = vma_find(&vmi, end);
	if (!vma || vma->vm_start != start || vma->vm_end != end) {
		mmap_write_unlock(mt->rd.mm);
		return -EINVAL;
	}
	prev = vma_prev(&vmi);
	vma_iter_set(&vmi, start);
	vma = vma_find(&vmi, end);
	newflags = (vma->vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC)) |
		   calc_vm_prot_bits(prot, 0);
	tlb_gather_mmu(&tlb, mt->rd.mm);
	ret = mprotect_fixup(&vmi, &tlb, vma, &prev, start, end, newflags);
	tlb_finish_mmu(&tlb);
	mmap_write_unlock(mt->rd.mm);
	return ret;
}

struct mt_migrate {
	struct list_head folios;
	struct migration_target_control mtc;
	int calls;
	int pause_at;			/* get_new_folio() call to pause at, 0: never */
	struct completion paused, resume;
	int ret;
};

static struct folio *mt_new_folio(struct folio *src, unsigned long private)
{
	struct mt_migrate *m = (struct mt_migrate *)private;

	if (++m->calls == m->pause_at) {
		complete(&m->paused);
		wait_for_completion(&m->resume);
	}
	return alloc_migration_target(src, (unsigned long)&m->mtc);
}

static int mt_migrate_fn(void *arg)
{
	struct mt_migrate *m = arg;

	m->ret = migrate_pages(&m->folios, mt_new_folio, NULL, (unsigned long)m,
			       MIGRATE_SYNC, MR_SYSCALL, NULL);
	if (m->ret)
		putback_movable_pages(&m->folios);
	complete(&m->paused);		/* in case it never paused */
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

static void mt_migrate_init(struct mt_migrate *m)
{
	memset(m, 0, sizeof(*m));
	INIT_LIST_HEAD(&m->folios);
	m->mtc.nid = NUMA_NO_NODE;
	m->mtc.gfp_mask = GFP_HIGHUSER_MOVABLE | __GFP_THISNODE;
	m->mtc.reason = MR_SYSCALL;
	init_completion(&m->paused);
	init_completion(&m->resume);
}

static int mt_other_node(int nid)
{
	int other = next_node_in(nid, node_states[N_MEMORY]);

	return other == nid ? NUMA_NO_NODE : other;
}

/*
 * Migrate every page of the range from its node (*@nid, set here) to the
 * other one, in one round; put back what did not move.  Returns what
 * migrate_pages() returned.
 */
static int mt_migrate_range(struct mt *mt, int *nid)
{
	struct kunit *test = mt->test;
	struct mt_migrate m;
	int ret;

	*nid = NUMA_NO_NODE;
	mt_migrate_init(&m);
	KUNIT_ASSERT_EQ(test, migrc_kunit_isolate(mt->addr, 0, mt->nr, &m.folios, nid), mt->nr);
	m.mtc.nid = mt_other_node(*nid);
	KUNIT_ASSERT_NE(test, m.mtc.nid, NUMA_NO_NODE);
	ret = migrate_pages(&m.folios, alloc_migration_target, NULL,
			    (unsigned long)&m.mtc, MIGRATE_SYNC, MR_SYSCALL, NULL);
	if (ret)
		putback_movable_pages(&m.folios);
	return ret;
}

/* Migrate every page of the range to the other node, in one round. */
static void mt_migrate_all(struct mt *mt)
{
	int nid;

	KUNIT_ASSERT_EQ(mt->test, mt_migrate_range(mt, &nid), 0);
}

/*
 * Migrate every page of the range to the other node, in one round, and
 * check the round deferred: the pages are pending, nothing was flushed.
 */
static void mt_migrate_deferred(struct mt *mt)
{
	struct kunit *test = mt->test;
	unsigned long deferred = migrc_kunit_event(MIGRC_DEFERRED);
	unsigned long rounds = migrc_kunit_event(MIGRC_FLUSH_ROUNDS);
	unsigned long pending = migrc_nr_pending();

	mt_migrate_all(mt);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_DEFERRED) - deferred, (unsigned long)mt->nr);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending() - pending, (unsigned long)mt->nr);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FLUSH_ROUNDS) - rounds, 0UL);
}

/* Write MT_NEW into every page through @write, publish, let readers check. */
static void mt_write_and_check(struct mt *mt, int (*write)(struct mt *mt, int i))
{
	struct kunit *test = mt->test;
	int i;

	for (i = 0; i < mt->nr; i++) {
		KUNIT_ASSERT_EQ(test, write(mt, i), 0);
		mt_publish(mt, i, MT_NEW);
	}
	msleep(MT_READ_MS);
	mt_stop_readers(mt);
	kunit_info(test, "%ld reads, %ld of the new data, %ld stale\n",
		   atomic_long_read(&mt->reads), atomic_long_read(&mt->fresh),
		   atomic_long_read(&mt->stale));
	KUNIT_EXPECT_GT_MSG(test, atomic_long_read(&mt->fresh), 0L,
			    "readers never read after the write: nothing was checked");
	KUNIT_EXPECT_EQ_MSG(test, atomic_long_read(&mt->stale), 0L,
			    "a CPU read the old copy after the write");
}

static int mt_write_user(struct mt *mt, int i)
{
	return put_user(MT_NEW, mt_page(mt, i)) ? -EFAULT : 0;
}

/* Write to every page, so that each PTE is writable and dirty. */
static void mt_dirty_all(struct mt *mt)
{
	int i;

	for (i = 0; i < mt->nr; i++)
		KUNIT_ASSERT_EQ(mt->test, mt_write_user(mt, i), 0);
}

static int mt_write_force(struct mt *mt, int i)
{
	u64 v = MT_NEW;

	return access_remote_vm(mt->rd.mm, (unsigned long)mt_page(mt, i), &v, sizeof(v),
				FOLL_WRITE | FOLL_FORCE) == sizeof(v) ? 0 : -EFAULT;
}

/* ------------------------------------------------------------------ */

/* Violations the debug checker is expected to find in the current case. */
static unsigned long mt_violations, mt_expected_violations;
/* vm.migrc_max_pending_pages and _max_age_ms as the case found them. */
static unsigned long mt_saved_cap;
static unsigned int mt_saved_age;

static int mt_suite_init(struct kunit *test)
{
	/* A case the checker failed must not switch the next ones off. */
	if (migrc_test_failed())
		migrc_test_recover();
	migrc_set_enabled(true);
	/*
	 * No batch retires by age behind a case's back: under a sanitizer
	 * a case's own steps can take longer than the default age, and the
	 * retirement it checks would then find nothing left to retire.
	 */
	/* Pairs with the WRITE_ONCE() in migrc_set_max_age(). */
	mt_saved_age = READ_ONCE(migrc_max_age_ms);
	migrc_set_max_age(MIGRC_MAX_AGE_MS);
	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	mt_violations = migrc_debug_violations();
	mt_expected_violations = 0;
	mt_saved_cap = READ_ONCE(migrc_max_pending_pages);
	return 0;
}

/* No case may trip the debug checker unless it means to. */
static void mt_suite_exit(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, migrc_debug_violations() - mt_violations,
			    mt_expected_violations,
			    "the migrc debug checker found a PTE changed before its flush");
	WRITE_ONCE(migrc_max_pending_pages, mt_saved_cap);
	migrc_set_max_age(mt_saved_age);
}

/* Write fault reusing the page in place: do_wp_page() must flush. */
static void migrc_mm_test_write_fault(struct kunit *test)
{
	long before = atomic_long_read(&migrc_stats.counter[MIGRC_STAT_FP_FIRST +
							   MIGRC_FP_WRITE_FAULT]);
	struct mt *mt = mt_setup(test, PROT_READ | PROT_WRITE);

	mt_wrprotect(mt);
	mt_start_readers(mt);
	mt_migrate_deferred(mt);
	mt_write_and_check(mt, mt_write_user);
	/*
	 * Every arch, arm64 too: its __ptep_set_access_flags() invalidates
	 * only after it made the PTE writable.
	 */
	KUNIT_EXPECT_GT(test, atomic_long_read(&migrc_stats.counter[MIGRC_STAT_FP_FIRST +
							MIGRC_FP_WRITE_FAULT]), before);
}

/* FOLL_FORCE write through a read-only PTE: follow_page_pte() must flush. */
static void migrc_mm_test_gup_write(struct kunit *test)
{
	long before = atomic_long_read(&migrc_stats.counter[MIGRC_STAT_FP_FIRST +
							   MIGRC_FP_GUP_WRITE]);
	struct mt *mt = mt_setup(test, PROT_READ);

	mt_start_readers(mt);
	mt_migrate_deferred(mt);
	mt_write_and_check(mt, mt_write_force);
	KUNIT_EXPECT_GT(test, atomic_long_read(&migrc_stats.counter[MIGRC_STAT_FP_FIRST +
							MIGRC_FP_GUP_WRITE]), before);
}

/*
 * A path that changes PTEs through change_protection(): map the range
 * @prot (its PTEs read-only either way), defer its migration, then write
 * through @write, which takes that path first.  The mm must have been
 * flushed (flush_tlb_batched_pending()) and no reader may see old data.
 */
static void mt_batched_flush_case(struct kunit *test, unsigned long prot,
				  int (*write)(struct mt *mt, int i))
{
	unsigned long before = migrc_kunit_event(MIGRC_MM_FLUSH);
	struct mt *mt = mt_setup(test, prot);

	if (prot & PROT_WRITE)
		mt_wrprotect(mt);
	mt_start_readers(mt);
	mt_migrate_deferred(mt);
	mt_write_and_check(mt, write);
	KUNIT_EXPECT_GT(test, migrc_kunit_event(MIGRC_MM_FLUSH), before);
}

static int mt_write_after_mprotect(struct mt *mt, int i)
{
	if (i == 0 && mt_mprotect(mt, PROT_READ | PROT_WRITE))
		return -EINVAL;
	return mt_write_user(mt, i);
}

/*
 * mprotect() to writable: covered by flush_tlb_batched_pending() in
 * change_pte_range(), because the deferral counted in tlb_flush_batched.
 */
static void migrc_mm_test_mprotect(struct kunit *test)
{
	mt_batched_flush_case(test, PROT_READ, mt_write_after_mprotect);
}

/*
 * uffd-wp resolve (UFFDIO_WRITEPROTECT without the WP mode) upgrades the
 * PTEs of exclusive anonymous pages to writable in place, without a fault:
 * uffd_wp_range() -> change_protection(MM_CP_TRY_CHANGE_WRITABLE).  Covered
 * like mprotect(), by flush_tlb_batched_pending() in change_pte_range().
 */
static int mt_write_after_uffd_resolve(struct mt *mt, int i)
{
	struct vm_area_struct *vma;

	if (i == 0) {
		mmap_read_lock(mt->rd.mm);
		vma = find_vma(mt->rd.mm, mt->addr);
		if (vma)
			uffd_wp_range(vma, mt->addr, mt->nr * PAGE_SIZE, false);
		mmap_read_unlock(mt->rd.mm);
		if (!vma)
			return -EINVAL;
	}
	return mt_write_user(mt, i);
}

static void migrc_mm_test_uffd_wp_resolve(struct kunit *test)
{
	mt_batched_flush_case(test, PROT_READ | PROT_WRITE,
			      mt_write_after_uffd_resolve);
}

/*
 * NUMA hinting: task_numa_work() makes PTEs PROT_NONE with
 * change_prot_numa(), and the hinting fault (do_numa_page()) rebuilds
 * them, writable where they were.  The first step already flushes the mm
 * (flush_tlb_batched_pending() in change_pte_range()), so no PTE of a
 * deferred unmap is rebuilt while stale entries may exist.
 */
static int mt_write_after_numa_hint(struct mt *mt, int i)
{
	struct vm_area_struct *vma;
	long changed = 0;
	int mode = sysctl_numa_balancing_mode;

	if (i == 0) {
		/* Both nodes are top tier here: scan them as plain NUMA balancing does. */
		sysctl_numa_balancing_mode = NUMA_BALANCING_NORMAL;
		mmap_read_lock(mt->rd.mm);
		vma = find_vma(mt->rd.mm, mt->addr);
		if (vma)
			changed = change_prot_numa(vma, mt->addr, mt->addr + mt->nr * PAGE_SIZE);
		mmap_read_unlock(mt->rd.mm);
		sysctl_numa_balancing_mode = mode;
		KUNIT_EXPECT_EQ_MSG(mt->test, changed, (long)mt->nr,
				    "change_prot_numa() left PTEs alone: no hinting fault to test");
	}
	return mt_write_user(mt, i);
}

static void migrc_mm_test_numa_hint(struct kunit *test)
{
	mt_batched_flush_case(test, PROT_READ | PROT_WRITE,
			      mt_write_after_numa_hint);
}

/*
 * mremap(2) as a process calls it.  mm has no entry point that moves a
 * range to another address, so go through the system call table, with
 * the arguments in the registers this architecture takes them from.
 */
static long mt_mremap(unsigned long addr, unsigned long len, unsigned long flags,
		      unsigned long new_addr)
{
	struct pt_regs regs = {};

#if defined(CONFIG_X86_64)
	regs.di = addr;
	regs.si = len;
	regs.dx = len;
	regs.r10 = flags;
	regs.r8 = new_addr;
	return x64_sys_call(&regs, __NR_mremap);
#elif defined(CONFIG_ARM64)
	regs.regs[0] = addr;
	regs.regs[1] = len;
	regs.regs[2] = len;
	regs.regs[3] = flags;
	regs.regs[4] = new_addr;
	return sys_call_table[__NR_mremap](&regs);
#elif defined(CONFIG_RISCV)
	regs.orig_a0 = addr;
	regs.a1 = len;
	regs.a2 = len;
	regs.a3 = flags;
	regs.a4 = new_addr;
	return ((syscall_t)sys_call_table[__NR_mremap])(&regs);
#else
	return -EOPNOTSUPP;
#endif
}

/*
 * The address is zapped, or its PTE moved away by mremap(), while the
 * migration holds a migration entry there.  Zap removes the entry without
 * any TLB range, and move_ptes() moves it without a present PTE that
 * would make it flush the old address: only the tlb_flush_batched count
 * (flush_tlb_batched_pending() in zap_pte_range() and move_ptes())
 * protects the address once it is mapped again.
 */
enum mt_zap { MT_MUNMAP_MAP_FIXED, MT_MADV_DONTNEED, MT_MREMAP };

static void mt_zap_during_migration(struct kunit *test, enum mt_zap how)
{
	struct mt *mt = mt_setup(test, PROT_READ | PROT_WRITE);
	struct mt_migrate m;
	struct task_struct *t;
	struct folio *folio0;
	int nid = NUMA_NO_NODE;
	unsigned long a = mt->addr, to = 0;
	LIST_HEAD(first);

	if (how == MT_MREMAP) {
		/* A free address to move page 0 to, found before anything is pending. */
		to = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 0);
		KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(to));
		KUNIT_ASSERT_EQ(test, vm_munmap(to, PAGE_SIZE), 0);
	}
	/* Read-only PTEs in a writable VMA, so that page 0 can be written below. */
	mt_wrprotect(mt);
	mt_start_readers(mt);
	mt_migrate_init(&m);
	/* Page 0 first in the list: it is the one unmapped at the pause. */
	KUNIT_ASSERT_EQ(test, migrc_kunit_isolate(mt->addr, 0, 1, &first, &nid), 1);
	KUNIT_ASSERT_EQ(test, migrc_kunit_isolate(mt->addr, 1, mt->nr - 1, &m.folios, &nid),
			mt->nr - 1);
	folio0 = list_first_entry(&first, struct folio, lru);
	list_splice(&first, &m.folios);
	m.mtc.nid = mt_other_node(nid);
	KUNIT_ASSERT_NE(test, m.mtc.nid, NUMA_NO_NODE);
	m.pause_at = 2;		/* page 0 is unmapped, its flush deferred */
	t = kthread_run(mt_migrate_fn, &m, "migrc_mig");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	wait_for_completion(&m.paused);
	/* The paused migration holds folio0: it cannot go away meanwhile. */
	KUNIT_EXPECT_FALSE_MSG(test, folio_mapped(folio0),
			       "page 0 is still mapped: the case tests nothing");
	KUNIT_EXPECT_TRUE_MSG(test, migrc_mm_pending(mt->rd.mm),
			      "page 0's flush was not deferred: the case tests nothing");
	/* A read of page 0 now can only go through a stale translation. */
	WRITE_ONCE(mt->probe0, true);
	msleep(MT_READ_MS / 4);
	WRITE_ONCE(mt->probe0, false);
	kunit_info(test, "page 0 read %ld times through stale translations\n",
		   atomic_long_read(&mt->held0));

	if (how == MT_MUNMAP_MAP_FIXED) {
		KUNIT_EXPECT_EQ(test, vm_munmap(a, PAGE_SIZE), 0);
		KUNIT_EXPECT_EQ(test, vm_mmap(NULL, a, PAGE_SIZE, PROT_READ | PROT_WRITE,
					      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0), a);
	} else if (how == MT_MREMAP) {
		KUNIT_EXPECT_EQ(test, mt_mremap(a, PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, to),
				(long)to);
		KUNIT_EXPECT_EQ(test, vm_mmap(NULL, a, PAGE_SIZE, PROT_READ | PROT_WRITE,
					      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0), a);
	} else {
		struct vm_area_struct *vma;

		mmap_read_lock(mt->rd.mm);
		vma = find_vma(mt->rd.mm, a);
		zap_page_range_single(vma, a, PAGE_SIZE, NULL);
		mmap_read_unlock(mt->rd.mm);
	}
	/*
	 * Only page 0 is written, the others are still being migrated, and
	 * by a plain write fault on an empty PTE: it has no flush of its own
	 * (a FOLL_FORCE write would flush the mm for the GUP hook).
	 */
	KUNIT_EXPECT_EQ(test, mt_write_user(mt, 0), 0);
	mt_publish(mt, 0, MT_NEW);
	msleep(MT_READ_MS);

	complete(&m.resume);
	kthread_stop(t);
	mt_stop_readers(mt);
	kunit_info(test, "%ld reads, %ld of the new data, %ld stale\n",
		   atomic_long_read(&mt->reads), atomic_long_read(&mt->fresh),
		   atomic_long_read(&mt->stale));
	KUNIT_EXPECT_GT(test, atomic_long_read(&mt->fresh), 0L);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&mt->stale), 0L);
}

static void migrc_mm_test_munmap_map_fixed(struct kunit *test)
{
	mt_zap_during_migration(test, MT_MUNMAP_MAP_FIXED);
}

static void migrc_mm_test_madv_dontneed(struct kunit *test)
{
	mt_zap_during_migration(test, MT_MADV_DONTNEED);
}

static void migrc_mm_test_mremap(struct kunit *test)
{
	mt_zap_during_migration(test, MT_MREMAP);
}

/* A writable page migrates as in mainline: nothing deferred. */
static void migrc_mm_test_writable_not_deferred(struct kunit *test)
{
	struct mt *mt = mt_setup(test, PROT_READ | PROT_WRITE);
	unsigned long deferred = migrc_kunit_event(MIGRC_DEFERRED);
	int i;

	mt_dirty_all(mt);
	mt_start_readers(mt);
	mt_migrate_all(mt);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_DEFERRED), deferred);
	for (i = 0; i < mt->nr; i++)
		mt_publish(mt, i, MT_NEW);
	msleep(MT_READ_MS);
	mt_stop_readers(mt);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&mt->stale), 0L);
}

#ifdef CONFIG_CONTIG_ALLOC
struct mt_place {
	struct page *block;
	int next;
};

static struct folio *mt_place_folio(struct folio *src, unsigned long private)
{
	struct mt_place *p = (struct mt_place *)private;

	return page_folio(p->block + p->next++);
}

/*
 * Move the range's pages into a pageblock of their own, otherwise free,
 * so that it can be isolated as alloc_contig_range() isolates it (the
 * pageblocks the pages fault into may hold reserved or kernel pages).
 * Return: the pageblock's first pfn.
 */
static unsigned long mt_place_in_pageblock(struct mt *mt)
{
	struct kunit *test = mt->test;
	struct mt_place p = { };
	LIST_HEAD(folios);
	int nid = NUMA_NO_NODE;
	unsigned long pfn;

	/*
	 * Before isolating the folios: alloc_contig_pages() waits while the
	 * node has too many isolated, and the KUnit mm is most of its LRU.
	 */
	p.block = alloc_contig_pages(pageblock_nr_pages, GFP_KERNEL | __GFP_NOWARN,
				     first_memory_node, NULL);
	KUNIT_ASSERT_NOT_NULL_MSG(test, p.block, "no free pageblock");
	pfn = page_to_pfn(p.block);
	if (migrc_kunit_isolate(mt->addr, 0, mt->nr, &folios, &nid) != mt->nr) {
		putback_movable_pages(&folios);
		free_contig_range(pfn, pageblock_nr_pages);
		KUNIT_FAIL_AND_ABORT(test, "could not isolate the range's folios");
	}
	KUNIT_ASSERT_EQ(test, migrate_pages(&folios, mt_place_folio, NULL, (unsigned long)&p,
					    MIGRATE_SYNC, MR_SYSCALL, NULL), 0);
	KUNIT_ASSERT_EQ(test, p.next, mt->nr);
	free_contig_range(pfn + p.next, pageblock_nr_pages - p.next);
	/* Nothing pending from this move; the new folios on the LRU proper. */
	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	lru_add_drain_all();
	return pfn;
}

struct mt_isolated {
	unsigned long start;
	bool done;
};

static void mt_undo_isolate(void *arg)
{
	struct mt_isolated *iso = arg;

	if (!iso->done)
		undo_isolate_page_range(iso->start, iso->start + pageblock_nr_pages,
					MIGRATE_MOVABLE);
	iso->done = true;
}

/*
 * alloc_contig_range() and memory offline isolate the pageblocks of a
 * range, migrate what is in use there and wait for every page to be free.
 * A migration by another path (NUMA balancing, demotion) of a folio in an
 * isolated pageblock must free the old folio at once: kept pending, it
 * would keep the range busy until its batch aged out.
 */
static void migrc_mm_test_isolated_not_deferred(struct kunit *test)
{
	struct mt *mt = mt_setup(test, PROT_READ);
	struct mt_isolated *iso = kunit_kzalloc(test, sizeof(*iso), GFP_KERNEL);
	unsigned long deferred, pending;

	KUNIT_ASSERT_NOT_NULL(test, iso);
	iso->start = mt_place_in_pageblock(mt);
	KUNIT_ASSERT_EQ(test, start_isolate_page_range(iso->start,
						       iso->start + pageblock_nr_pages,
						       MIGRATE_MOVABLE, 0, GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mt_undo_isolate, iso), 0);
	mt_start_readers(mt);
	deferred = migrc_kunit_event(MIGRC_DEFERRED);
	pending = migrc_nr_pending();
	mt_migrate_all(mt);
	mt_undo_isolate(iso);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_DEFERRED) - deferred, 0UL);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending() - pending, 0UL);
	/* The control: back, from pageblocks no one isolates, they defer. */
	mt_migrate_deferred(mt);
	mt_stop_readers(mt);
}

/*
 * An old folio pending a migrc flush is in use and off the LRU: to the
 * isolation of its pageblock it looks unmovable.  Outside CMA and
 * ZONE_MOVABLE, alloc_contig_range() (gigantic hugetlb pages at run time)
 * would then fail there until the batch aged out: it must retire the
 * batch and succeed.
 */
static void migrc_mm_test_contig_pending(struct kunit *test)
{
	struct mt *mt = mt_setup(test, PROT_READ);
	unsigned long start = mt_place_in_pageblock(mt), pending;
	int ret;

	mt_start_readers(mt);
	mt_migrate_deferred(mt);
	mt_stop_readers(mt);
	pending = migrc_nr_pending();
	ret = alloc_contig_range(start, start + pageblock_nr_pages, MIGRATE_MOVABLE,
				 GFP_KERNEL | __GFP_NOWARN);
	KUNIT_ASSERT_EQ(test, ret, 0);
	free_contig_range(start, pageblock_nr_pages);
	KUNIT_EXPECT_LE(test, migrc_nr_pending() + mt->nr, pending);
}
#else
static void migrc_mm_test_isolated_not_deferred(struct kunit *test)
{
	KUNIT_FAIL(test, "the suite needs CONFIG_CONTIG_ALLOC (CONFIG_CMA)");
}

static void migrc_mm_test_contig_pending(struct kunit *test)
{
	KUNIT_FAIL(test, "the suite needs CONFIG_CONTIG_ALLOC (CONFIG_CMA)");
}
#endif

/*
 * mprotect(), a NUMA hinting scan and fork() write-protect PTEs under the
 * PTE lock but flush only later, after dropping it, with
 * mm->tlb_flush_pending raised meanwhile.  A migration in that window sees
 * read-only PTEs while other CPUs may still hold writable entries: it must
 * not defer.  The test stops such a write-protect before its flush:
 *
 *  - in a writable VMA, under mmap_read_lock (uffd-wp, a NUMA hinting
 *    scan);
 *  - in the middle of an mprotect(PROT_READ): VM_WRITE already gone, the
 *    VMA write-locked, the flush not sent (the mmap_lock is the test's);
 *  - and, as a control, a flush pending in the mm while the VMA was made
 *    read-only long ago: a NUMA hinting scan can only have changed
 *    read-only PTEs there, so the round must defer.
 */
enum mt_pending {
	MT_PENDING_WRITABLE_VMA,
	MT_PENDING_MPROTECT,
	MT_PENDING_READ_ONLY_VMA,
};

static const enum mt_pending mt_pending_cases[] = {
	MT_PENDING_WRITABLE_VMA, MT_PENDING_MPROTECT, MT_PENDING_READ_ONLY_VMA,
};

static void mt_pending_desc(const enum mt_pending *c, char *desc)
{
	static const char *const names[] = {
		[MT_PENDING_WRITABLE_VMA]	= "writable-vma",
		[MT_PENDING_MPROTECT]		= "mprotect-in-progress",
		[MT_PENDING_READ_ONLY_VMA]	= "read-only-vma",
	};

	strscpy(desc, names[*c], KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(mt_pending, mt_pending_cases, mt_pending_desc);

static void migrc_mm_test_flush_pending(struct kunit *test)
{
	enum mt_pending c = *(const enum mt_pending *)test->param_value;
	bool defers = c == MT_PENDING_READ_ONLY_VMA;
	struct mt *mt = mt_setup(test, defers ? PROT_READ : PROT_READ | PROT_WRITE);
	unsigned long deferred = migrc_kunit_event(MIGRC_DEFERRED);
	unsigned long refused = migrc_refused(MIGRC_REFUSED_FLUSH_PENDING);
	struct vm_area_struct *vma;
	struct mt_migrate m;
	int nid = NUMA_NO_NODE;

	if (!defers)
		mt_dirty_all(mt);
	mt_start_readers(mt);
	mt_migrate_init(&m);
	KUNIT_ASSERT_EQ(test, migrc_kunit_isolate(mt->addr, 0, mt->nr, &m.folios, &nid), mt->nr);
	m.mtc.nid = mt_other_node(nid);
	KUNIT_ASSERT_NE(test, m.mtc.nid, NUMA_NO_NODE);

	/*
	 * Migration takes no mmap_lock: the round runs with it held, for
	 * write as mprotect() holds it (the page walk write-locks the VMA),
	 * or for read as uffd-wp and a NUMA hinting scan do (whose PTEs are
	 * read-only already in a read-only VMA).
	 */
	if (c == MT_PENDING_MPROTECT)
		mmap_write_lock(mt->rd.mm);
	else
		mmap_read_lock(mt->rd.mm);
	vma = find_vma(mt->rd.mm, mt->addr);
	inc_tlb_flush_pending(mt->rd.mm);
	if (c == MT_PENDING_MPROTECT) {
		walk_page_range(mt->rd.mm, mt->addr, mt->addr + mt->nr * PAGE_SIZE,
				&mt_wrprotect_ops, NULL);
		vm_flags_clear(vma, VM_WRITE);
	} else if (c == MT_PENDING_WRITABLE_VMA) {
		walk_page_range(mt->rd.mm, mt->addr, mt->addr + mt->nr * PAGE_SIZE,
				&mt_wrprotect_read_ops, NULL);
	}
	m.ret = migrate_pages(&m.folios, alloc_migration_target, NULL,
			      (unsigned long)&m.mtc, MIGRATE_SYNC, MR_SYSCALL, NULL);
	flush_tlb_range(vma, mt->addr, mt->addr + mt->nr * PAGE_SIZE);
	dec_tlb_flush_pending(mt->rd.mm);
	if (c == MT_PENDING_MPROTECT) {
		vm_flags_set(vma, VM_WRITE);
		mmap_write_unlock(mt->rd.mm);
	} else {
		mmap_read_unlock(mt->rd.mm);
	}
	putback_movable_pages(&m.folios);
	KUNIT_ASSERT_EQ(test, m.ret, 0);

	if (defers) {
		KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_DEFERRED) - deferred,
				(unsigned long)mt->nr);
		KUNIT_EXPECT_EQ(test, migrc_refused(MIGRC_REFUSED_FLUSH_PENDING), refused);
	} else {
		KUNIT_EXPECT_EQ_MSG(test, migrc_kunit_event(MIGRC_DEFERRED), deferred,
				    "deferred read-only PTEs of an mm with a flush pending");
		/* One refusal per folio: its first entry makes it ineligible. */
		KUNIT_EXPECT_EQ(test, migrc_refused(MIGRC_REFUSED_FLUSH_PENDING) - refused,
				(unsigned long)mt->nr);
	}
	mt_stop_readers(mt);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&mt->stale), 0L);
}

/*
 * A writable page of another mm, run by one CPU, on which no reader runs
 * while the migration does (the CPU stays in the mm's cpumask: on x86 it
 * leaves it when it switches to another mm).
 */
struct mt_other {
	struct mm_struct *mm;
	struct list_head folios;
	int nid;
	int ret;
	bool stop;
	struct completion ready, done;
};

static int mt_other_fn(void *arg)
{
	struct mt_other *o = arg;
	unsigned long addr;

	kthread_use_mm(o->mm);
	addr = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(addr))
		o->ret = (int)addr;
	else if (put_user(MT_OLD, (u64 __user *)addr))
		o->ret = -EFAULT;
	else if (migrc_kunit_isolate(addr, 0, 1, &o->folios, &o->nid) != 1)
		o->ret = -EBUSY;
	/* Interrupts stay on: the flush IPIs get through. */
	preempt_disable();
	complete(&o->ready);
	/* Until the test's WRITE_ONCE() after its round; a flag, no ordering. */
	while (!o->ret && !READ_ONCE(o->stop))
		cpu_relax();
	preempt_enable();
	kthread_unuse_mm(o->mm);
	complete(&o->done);
	return 0;
}

static void mt_other_mmput(void *mm)
{
	mmput(mm);
}

/* Write through the kernel mapping: no PTE changes, no flush point runs. */
static int mt_write_kernel(struct mt *mt, int i)
{
	struct page *page;
	u64 *p;

	if (get_user_pages_unlocked((unsigned long)mt_page(mt, i), 1, &page, 0) != 1)
		return -EFAULT;
	p = kmap_local_page(page);
	WRITE_ONCE(*p, MT_NEW);
	kunmap_local(p);
	put_page(page);
	return 0;
}

/*
 * A round whose unmap phase flushes anyway, here for a writable page of
 * another mm, takes the readers' deferred entries along (x86, riscv) and
 * keeps nothing: its old folios are freed at once.  Nothing flushes the
 * readers' CPUs after it, and the new data is written through the kernel
 * mapping, past every flush point: a reader still translating to an old
 * folio would read the old data.  arm64 cannot join that flush; its round
 * keeps the folios, and a flush point (migrc_flush_mm()) runs before the
 * write.
 */
static void migrc_mm_test_unmap_flush_takes_batch(struct kunit *test)
{
	struct mt *mt = mt_setup(test, PROT_READ);
	struct mt_other *o = kunit_kzalloc(test, sizeof(*o), GFP_KERNEL);
#ifdef arch_migrc_join_unmap_flush
	const bool joins = true;
#else
	const bool joins = false;
#endif
	unsigned long pending = migrc_nr_pending();
	unsigned long rounds = migrc_kunit_event(MIGRC_FLUSH_ROUNDS);
	long freed = atomic_long_read(&migrc_stats.counter[MIGRC_STAT_UNMAP_FLUSHED]);
	struct task_struct *task;
	struct mt_migrate m;
	int nid = NUMA_NO_NODE;

	KUNIT_ASSERT_NOT_NULL(test, o);
	o->mm = mm_alloc();
	KUNIT_ASSERT_NOT_NULL(test, o->mm);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, mt_other_mmput, o->mm));
	o->mm->task_size = TASK_SIZE;
	arch_pick_mmap_layout(o->mm, &current->signal->rlim[RLIMIT_STACK]);
	INIT_LIST_HEAD(&o->folios);
	o->nid = NUMA_NO_NODE;
	init_completion(&o->ready);
	init_completion(&o->done);

	/*
	 * The readers pin this thread to its CPU.  The other mm runs on
	 * another one, so that its flush is batched (x86 flushes an mm only
	 * this CPU runs at once) and goes to that CPU alone.
	 */
	mt_start_readers(mt);
	mt_migrate_init(&m);
	KUNIT_ASSERT_EQ(test, migrc_kunit_isolate(mt->addr, 0, mt->nr, &m.folios, &nid), mt->nr);
	m.mtc.nid = mt_other_node(nid);
	KUNIT_ASSERT_NE(test, m.mtc.nid, NUMA_NO_NODE);
	task = kthread_create(mt_other_fn, o, "migrc-mt-other");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	kthread_bind(task, cpumask_any_but(cpu_online_mask, mt->rd.test_cpu));
	wake_up_process(task);
	wait_for_completion(&o->ready);
	if (!o->ret) {
		list_splice_tail_init(&o->folios, &m.folios);
		m.ret = migrate_pages(&m.folios, alloc_migration_target, NULL,
				      (unsigned long)&m.mtc, MIGRATE_SYNC, MR_SYSCALL, NULL);
	}
	/* Ends mt_other_fn()'s READ_ONCE() spin. */
	WRITE_ONCE(o->stop, true);
	wait_for_completion(&o->done);
	/* Whatever did not move goes back to the LRU, as move_pages() does. */
	putback_movable_pages(&m.folios);
	putback_movable_pages(&o->folios);
	KUNIT_ASSERT_EQ(test, o->ret, 0);
	KUNIT_ASSERT_EQ(test, m.ret, 0);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FLUSH_ROUNDS) - rounds, 0UL);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending() - pending,
			joins ? 0UL : (unsigned long)mt->nr);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&migrc_stats.counter[MIGRC_STAT_UNMAP_FLUSHED]) -
			freed, joins ? (long)mt->nr : 0L);
	if (!joins)
		migrc_flush_mm(mt->rd.mm, MIGRC_FP_OTHER);
	mt_write_and_check(mt, mt_write_kernel);
}

/*
 * A migration that fails after unmap maps the old page again: nothing is
 * kept for it, and the pages that did move stay correct.  A reference the
 * test holds on page 0 makes its move fail after its unmap.
 */
static void migrc_mm_test_fail_after_unmap(struct kunit *test)
{
	struct mt *mt = mt_setup(test, PROT_READ);
	unsigned long pending = migrc_nr_pending();
	struct page *page;
	int nid;

	mt_start_readers(mt);
	KUNIT_ASSERT_EQ(test, get_user_pages_unlocked(mt->addr, 1, &page, 0), 1L);
	KUNIT_EXPECT_EQ(test, mt_migrate_range(mt, &nid), 1);
	KUNIT_EXPECT_EQ(test, folio_nid(page_folio(page)), nid);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending() - pending, (unsigned long)mt->nr - 1);
	put_page(page);
	mt_write_and_check(mt, mt_write_force);
}

/*
 * A round nested in another: reclaim, inside one of a promotion's
 * allocations, demotes other pages.  The nested round defers into a
 * batch of its own, the outer round finds its batch again after it, and
 * a write fault still flushes before it reuses a page of either.
 */
struct mt_nested {
	struct mt_migrate m;		/* the outer round: the first half */
	struct list_head inner;		/* the nested round: the second half */
	struct migrc_batch *outer, *after;
	int inner_ret;
};

static struct folio *mt_new_folio_nesting(struct folio *src, unsigned long private)
{
	struct mt_nested *n = (struct mt_nested *)private;
	struct migration_target_control mtc = n->m.mtc;
	unsigned int noreclaim;

	if (!n->m.calls++) {
		n->outer = current->tlb_ubc.migrc;
		mtc.reason = MR_DEMOTION;
		/* As in direct reclaim, which demotes under PF_MEMALLOC. */
		noreclaim = memalloc_noreclaim_save();
		n->inner_ret = migrate_pages(&n->inner, alloc_migration_target, NULL,
					     (unsigned long)&mtc, MIGRATE_ASYNC,
					     MR_DEMOTION, NULL);
		memalloc_noreclaim_restore(noreclaim);
		n->after = current->tlb_ubc.migrc;
	}
	return alloc_migration_target(src, (unsigned long)&n->m.mtc);
}

static void migrc_mm_test_nested_round(struct kunit *test)
{
	struct mt *mt = mt_setup(test, PROT_READ | PROT_WRITE);
	unsigned long deferred, rounds, pending, batches;
	int half = MT_PAGES / 2, nid = NUMA_NO_NODE, inner_nid = NUMA_NO_NODE;
	struct mt_nested n;

	mt_wrprotect(mt);
	mt_start_readers(mt);
	mt_migrate_init(&n.m);
	INIT_LIST_HEAD(&n.inner);
	n.outer = NULL;
	n.after = NULL;
	n.inner_ret = -1;
	KUNIT_ASSERT_EQ(test, migrc_kunit_isolate(mt->addr, 0, half, &n.m.folios, &nid), half);
	KUNIT_ASSERT_EQ(test, migrc_kunit_isolate(mt->addr, half, mt->nr - half, &n.inner,
						  &inner_nid), mt->nr - half);
	n.m.mtc.nid = mt_other_node(nid);
	KUNIT_ASSERT_NE(test, n.m.mtc.nid, NUMA_NO_NODE);

	deferred = migrc_kunit_event(MIGRC_DEFERRED);
	rounds = migrc_kunit_event(MIGRC_FLUSH_ROUNDS);
	pending = migrc_nr_pending();
	batches = migrc_nr_pending_batches();
	n.m.ret = migrate_pages(&n.m.folios, mt_new_folio_nesting, NULL, (unsigned long)&n,
				MIGRATE_SYNC, MR_SYSCALL, NULL);
	putback_movable_pages(&n.m.folios);
	putback_movable_pages(&n.inner);
	KUNIT_ASSERT_EQ(test, n.m.ret, 0);
	KUNIT_ASSERT_EQ(test, n.inner_ret, 0);

	KUNIT_EXPECT_NOT_NULL(test, n.outer);
	KUNIT_EXPECT_PTR_EQ_MSG(test, n.after, n.outer,
				"the outer round lost its batch to the nested one");
	KUNIT_EXPECT_NULL(test, current->tlb_ubc.migrc);
	KUNIT_EXPECT_EQ_MSG(test, migrc_kunit_event(MIGRC_DEFERRED) - deferred,
			    (unsigned long)mt->nr, "a round did not defer");
	KUNIT_EXPECT_EQ(test, migrc_nr_pending() - pending, (unsigned long)mt->nr);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending_batches() - batches, 2UL);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FLUSH_ROUNDS) - rounds, 0UL);
	mt_write_and_check(mt, mt_write_user);
}

/* The pfn of the page mapped at page @i of the range, or 0. */
static unsigned long mt_pfn(struct mt *mt, int i)
{
	unsigned long pfn = 0;
	struct page *page;

	/* No reference left in a per-CPU LRU batch to fail a migration. */
	lru_cache_disable();
	if (get_user_pages_unlocked((unsigned long)mt_page(mt, i), 1, &page, 0) == 1) {
		pfn = page_to_pfn(page);
		put_page(page);
	}
	lru_cache_enable();
	return pfn;
}

static long mt_stat(enum migrc_stat item)
{
	return atomic_long_read(&migrc_stats.counter[item]);
}

/*
 * Pages that migrate back to the node they came from go back into their
 * old folios, still pending: without a flush and without more pending
 * memory, and the readers, which kept translations to those folios, read
 * the right data throughout and the new data after a write.
 */
static void migrc_mm_test_recycle(struct kunit *test)
{
	struct mt *mt = mt_setup(test, PROT_READ);
	long recycled = mt_stat(MIGRC_STAT_RECYCLED);
	unsigned long pfn[MT_PAGES], rounds, pending;
	int i;

	for (i = 0; i < mt->nr; i++)
		pfn[i] = mt_pfn(mt, i);
	mt_start_readers(mt);
	mt_migrate_deferred(mt);
	rounds = migrc_kunit_event(MIGRC_FLUSH_ROUNDS);
	pending = migrc_nr_pending();
	mt_migrate_all(mt);
	KUNIT_EXPECT_EQ(test, mt_stat(MIGRC_STAT_RECYCLED) - recycled, (long)mt->nr);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), pending);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FLUSH_ROUNDS) - rounds, 0UL);
	for (i = 0; i < mt->nr; i++)
		KUNIT_EXPECT_EQ_MSG(test, mt_pfn(mt, i), pfn[i],
				    "page %d did not go back into its old folio", i);
	mt_write_and_check(mt, mt_write_force);
}

/*
 * A migration back into an old folio that fails gives the folio back to
 * migrc, pending, instead of freeing it while CPUs may still read it.  A
 * reference the test holds on every page makes each move fail.
 */
static void migrc_mm_test_recycle_fail(struct kunit *test)
{
	struct mt *mt = mt_setup(test, PROT_READ);
	long returned = mt_stat(MIGRC_STAT_RECYCLE_RETURNED);
	struct page *pages[MT_PAGES];
	unsigned long pending;
	int nid, i;

	mt_start_readers(mt);
	mt_migrate_deferred(mt);
	pending = migrc_nr_pending();
	lru_cache_disable();
	for (i = 0; i < mt->nr; i++)
		KUNIT_ASSERT_EQ(test, get_user_pages_unlocked((unsigned long)mt_page(mt, i),
							      1, &pages[i], 0), 1L);
	lru_cache_enable();
	KUNIT_EXPECT_EQ(test, mt_migrate_range(mt, &nid), mt->nr);
	KUNIT_EXPECT_EQ(test, mt_stat(MIGRC_STAT_RECYCLE_RETURNED) - returned, (long)mt->nr);
	/* Taken back from their batches, then given back to the round's. */
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), pending);
	for (i = 0; i < mt->nr; i++) {
		KUNIT_EXPECT_EQ(test, folio_nid(page_folio(pages[i])), nid);
		put_page(pages[i]);
	}
	mt_write_and_check(mt, mt_write_force);
}

/* Switching migrc off retires what is pending, and readers stay right. */
static void migrc_mm_test_switch_off(struct kunit *test)
{
	unsigned long drains = migrc_kunit_event(MIGRC_RETIRE_DRAIN);
	struct mt *mt = mt_setup(test, PROT_READ);

	mt_start_readers(mt);
	mt_migrate_deferred(mt);
	migrc_set_enabled(false);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_RETIRE_DRAIN) - drains, 1UL);
	mt_write_and_check(mt, mt_write_force);
	migrc_set_enabled(true);
}

/* Taking a CPU offline retires everything first. */
static void migrc_mm_test_cpu_offline(struct kunit *test)
{
	unsigned long drains = migrc_kunit_event(MIGRC_RETIRE_DRAIN);
	struct mt *mt = mt_setup(test, PROT_READ);
	int cpu, tries, err = 0;

	if (!IS_ENABLED(CONFIG_HOTPLUG_CPU))
		KUNIT_FAIL(test, "the suite needs CONFIG_HOTPLUG_CPU");
	mt_start_readers(mt);
	mt_migrate_deferred(mt);
	/* The highest CPU that is neither the boot CPU nor the test's. */
	for (cpu = nr_cpu_ids - 1; cpu > 0; cpu--)
		if (cpu_online(cpu) && cpu != mt->rd.test_cpu)
			break;
	KUNIT_ASSERT_GT(test, cpu, 0);
	/* Its reader must leave first, or the CPU would run it elsewhere. */
	mt_stop_readers(mt);
	KUNIT_ASSERT_EQ(test, remove_cpu(cpu), 0);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);
	KUNIT_EXPECT_GE(test, migrc_kunit_event(MIGRC_RETIRE_DRAIN) - drains, 1UL);
	/*
	 * Under QEMU TCG a riscv hart that was just taken down can still be
	 * on its way to the firmware's stop call ("CPUn may not have
	 * stopped"), and bringing it up then fails at once: try again.
	 */
	for (tries = 0; tries < 5; tries++) {
		err = add_cpu(cpu);
		if (!err)
			break;
		msleep(200);
	}
	KUNIT_ASSERT_EQ(test, err, 0);
}

/* Memory going offline and suspend retire everything first. */
static void migrc_mm_test_offline_notifiers(struct kunit *test)
{
	struct mt *mt = mt_setup(test, PROT_READ);

	mt_start_readers(mt);
	mt_migrate_deferred(mt);
	migrc_memory_callback(NULL, MEM_GOING_OFFLINE, NULL);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);
	mt_stop_readers(mt);

	mt = mt_setup(test, PROT_READ);
	mt_start_readers(mt);
	mt_migrate_deferred(mt);
	migrc_pm_callback(NULL, PM_HIBERNATION_PREPARE, NULL);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);
	mt_stop_readers(mt);
}

/* ------------------------------------------------------------------ */
/* Memory pressure */

struct mt_hog {
	struct list_head pages;
	unsigned long nr;
};

static void mt_hog_init(struct mt_hog *hog)
{
	INIT_LIST_HEAD(&hog->pages);
	hog->nr = 0;
}

/*
 * Take every free page of @min_order or more on @nid, reserves included,
 * without waking kswapd or reclaiming: either would retire pending pages
 * for the hog to eat.
 */
static void mt_hog_node(struct mt_hog *hog, int nid, unsigned int min_order)
{
	gfp_t gfp = __GFP_THISNODE | __GFP_NOWARN | __GFP_MEMALLOC;
	int order;

	/* Free pages cached on other CPUs' lists would escape the hog. */
	drain_all_pages(NULL);
	for (order = MAX_PAGE_ORDER; order >= (int)min_order; order--) {
		struct page *page;

		while ((page = alloc_pages_node(nid, gfp, order))) {
			page->private = order;
			list_add(&page->lru, &hog->pages);
			hog->nr += 1UL << order;
		}
	}
}

/*
 * Free pages below @order, none of which can merge to @order, until the
 * node's zones are above their min watermark again (which a boost left by
 * earlier pressure may have raised): what must fail is finding an
 * order-@order block, not the watermark.
 */
static void mt_hog_release_low(struct mt_hog *hog, int nid)
{
	struct page *page, *next;
	struct zone *zone;

	list_for_each_entry_safe(page, next, &hog->pages, lru) {
		unsigned int order = page->private;
		bool low = false;
		int i;

		for_each_populated_zone(zone)
			if (zone_to_nid(zone) == nid &&
			    zone_page_state_snapshot(zone, NR_FREE_PAGES) <
			    min_wmark_pages(zone) + 256)
				low = true;
		if (!low)
			break;
		if (order < 3)
			continue;
		/*
		 * Keep the first page of every order-3 group, so that none can
		 * merge back to order 3; the kept ones stay on the list.
		 */
		split_page(page, order);
		for (i = 1; i < (1 << order); i++) {
			if (i % 8) {
				__free_page(page + i);
				hog->nr--;
			} else {
				page[i].private = 0;
				list_add(&page[i].lru, &hog->pages);
			}
		}
		page->private = 0;
	}
}

/*
 * The allocation under test.  kswapd, woken by it, may retire the pending
 * pages first and the allocation's own attempt race with that: it gets
 * three tries, which without retirement all fail just the same.
 */
static struct page *mt_alloc_under_pressure(int nid, unsigned int order)
{
	struct page *page = NULL;
	int i;

	for (i = 0; i < 3 && !page; i++)
		page = alloc_pages_node(nid, GFP_KERNEL | __GFP_THISNODE |
					__GFP_NORETRY | __GFP_NOWARN, order);
	return page;
}

static void mt_unhog(struct mt_hog *hog)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, &hog->pages, lru) {
		list_del(&page->lru);
		__free_pages(page, page->private);
	}
}

/*
 * Defer the order-0 pieces of the order-@order block @page, so that
 * retiring them can give the block back whole.  Done after the node was
 * exhausted, so that kswapd cannot retire them while it is being
 * exhausted.
 */
static void mt_defer_block(struct kunit *test, struct page *page,
			   unsigned int order)
{
	struct migrc_batch *batch = migrc_batch_open(1UL << order);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, batch);
	split_page(page, order);
	for (i = 0; i < (1 << order); i++)
		migrc_batch_add_folio(batch, page_folio(page + i));
	migrc_batch_seal(batch);
}

static struct page *mt_block(struct kunit *test, int nid, unsigned int order)
{
	struct page *page = alloc_pages_node(nid, GFP_KERNEL | __GFP_THISNODE, order);

	KUNIT_ASSERT_NOT_NULL(test, page);
	return page;
}

/*
 * How many order-MAX_PAGE_ORDER blocks must be pending on @nid for their
 * retirement to lift every zone of the node over its min watermark, from
 * nothing free: each zone's high watermark (above its min), the most a
 * boost can add to it (vm.watermark_boost_factor's default, 150% of the
 * high watermark: boost_watermark()), its largest lowmem reserve, and a
 * block more.  The watermarks are read, not assumed: THP, for one, raises
 * min_free_kbytes several times over when khugepaged starts.
 */
static int mt_pressure_blocks(int nid)
{
	unsigned long pages = 0;
	struct zone *zone;
	int i;

	for_each_populated_zone(zone) {
		unsigned long high, reserve = 0;

		if (zone_to_nid(zone) != nid)
			continue;
		/* Unboosted, and read plainly, as wmark_pages() does. */
		high = zone->_watermark[WMARK_HIGH];
		for (i = 0; i < MAX_NR_ZONES; i++)
			reserve = max_t(unsigned long, reserve, zone->lowmem_reserve[i]);
		pages += high + mult_frac(high, 15000, 10000) + reserve;
	}
	return DIV_ROUND_UP(pages, 1UL << MAX_PAGE_ORDER) + 1;
}

/* Batches retired for any cause but pressure. */
static unsigned long mt_other_retirements(void)
{
	return migrc_kunit_event(MIGRC_RETIRE_AGE) + migrc_kunit_event(MIGRC_RETIRE_CAP) +
	       migrc_kunit_event(MIGRC_RETIRE_DRAIN);
}

/*
 * With every free page of a node taken, an order-0 allocation there
 * succeeds because the slow path (or kswapd) retires pending pages before
 * reclaim, which has nothing to reclaim here and would fail.  Enough is
 * pending (mt_pressure_blocks()) to lift the node over its min watermark
 * however much earlier pressure boosted it.
 */
static void migrc_mm_test_pressure(struct kunit *test)
{
	unsigned long events = migrc_kunit_event(MIGRC_RETIRE_PRESSURE);
	unsigned long others = mt_other_retirements();
	int nid = mt_other_node(first_memory_node);
	struct page *page, **block;
	struct mt_hog hog;
	int i, nr;

	KUNIT_ASSERT_NE(test, nid, NUMA_NO_NODE);
	nr = mt_pressure_blocks(nid);
	block = kunit_kcalloc(test, nr, sizeof(*block), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, block);
	/*
	 * The cap must not retire them first (mt_suite_exit() restores it):
	 * its worker starts at three quarters of it.
	 */
	WRITE_ONCE(migrc_max_pending_pages, totalram_pages());
	for (i = 0; i < nr; i++)
		block[i] = mt_block(test, nid, MAX_PAGE_ORDER);
	mt_hog_init(&hog);
	mt_hog_node(&hog, nid, 0);
	for (i = 0; i < nr; i++)
		mt_defer_block(test, block[i], MAX_PAGE_ORDER);
	/* Whatever was freed meanwhile goes too. */
	mt_hog_node(&hog, nid, 0);
	page = mt_alloc_under_pressure(nid, 0);
	kunit_info(test, "node %d: %lu pages taken, %lu pending, allocation %s\n", nid,
		   hog.nr, (unsigned long)nr << MAX_PAGE_ORDER, page ? "succeeded" : "failed");
	/* Anything but pressure retiring them first spoils the case. */
	KUNIT_EXPECT_EQ_MSG(test, mt_other_retirements(), others,
			    "batches retired by age, cap or drain during the case");
	KUNIT_EXPECT_NOT_NULL(test, page);
	KUNIT_EXPECT_GE(test, migrc_kunit_event(MIGRC_RETIRE_PRESSURE) - events, 1UL);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);
	if (page)
		__free_page(page);
	mt_unhog(&hog);
}

/* A high-order allocation succeeds only once the pending pieces merge. */
static void migrc_mm_test_pressure_high_order(struct kunit *test)
{
	int nid = mt_other_node(first_memory_node);
	struct mt_hog hog;
	struct page *page, *block;

	KUNIT_ASSERT_NE(test, nid, NUMA_NO_NODE);
	block = mt_block(test, nid, 3);
	mt_hog_init(&hog);
	mt_hog_node(&hog, nid, 3);
	mt_hog_release_low(&hog, nid);
	mt_defer_block(test, block, 3);
	/* An order-3 block freed meanwhile would answer instead. */
	mt_hog_node(&hog, nid, 3);
	page = mt_alloc_under_pressure(nid, 3);
	kunit_info(test, "node %d: %lu pages taken, order-3 allocation %s\n", nid,
		   hog.nr, page ? "succeeded" : "failed");
	KUNIT_EXPECT_NOT_NULL(test, page);
	KUNIT_EXPECT_EQ(test, migrc_nr_pending(), 0UL);
	if (page)
		__free_pages(page, 3);
	mt_unhog(&hog);
}

/* ------------------------------------------------------------------ */
/* The backend's flush, proven to invalidate */

struct mt_swap {
	struct page *page;
	pte_t old;
	bool done;
};

/* Point the PTE at another page, with no flush at all. */
static int mt_swap_pte(pte_t *pte, unsigned long addr, unsigned long next,
		       struct mm_walk *walk)
{
	struct mt_swap *swap = walk->private;
	pte_t old = ptep_get_and_clear(walk->mm, addr, pte);

	swap->old = old;
	/* As a read fault would build it, so every architecture reads it. */
	set_pte_at(walk->mm, addr, pte, pte_mkyoung(mk_pte(swap->page, walk->vma->vm_page_prot)));
	swap->done = true;
	return 0;
}

/* Put the original PTE back, properly flushed. */
static int mt_restore_pte(pte_t *pte, unsigned long addr, unsigned long next,
			  struct mm_walk *walk)
{
	struct mt_swap *swap = walk->private;

	ptep_get_and_clear(walk->mm, addr, pte);
	set_pte_at(walk->mm, addr, pte, swap->old);
	return 0;
}

static const struct mm_walk_ops mt_swap_ops = {
	.pte_entry	= mt_swap_pte,
	.walk_lock	= PGWALK_WRLOCK,
};

static const struct mm_walk_ops mt_restore_ops = {
	.pte_entry	= mt_restore_pte,
	.walk_lock	= PGWALK_WRLOCK,
};

/*
 * Let the readers start their held stretches, and wait (spinning: see
 * mt_read_held()) until each has read every page, so that each TLB holds
 * the translation the test is about to change; a second at most.
 */
static void mt_hold_readers(struct mt *mt)
{
	u64 end = ktime_get_mono_fast_ns() + NSEC_PER_SEC;

	atomic_set(&mt->held, 0);
	/* Pairs with smp_load_acquire() in mt_reader_fn(). */
	smp_store_release(&mt->hold_go, true);
	while (atomic_read(&mt->held) < atomic_read(&mt->rd.running) &&
	       ktime_get_mono_fast_ns() < end)
		cpu_relax();
}

/*
 * Under QEMU's software TLB a stale translation stays usable until the
 * guest invalidates it.  Change a PTE other CPUs are reading through to
 * another page, without a flush: at least one CPU must keep reading the
 * old page, or this test cannot prove anything.  Then run the backend's
 * flush, recorded the way a deferred unmap records it: every CPU must
 * read the new page.
 */
static void migrc_mm_test_backend_flush_invalidates(struct kunit *test)
{
	struct mt *mt = mt_setup(test, PROT_READ);
	struct mt_swap swap = {};
	struct migrc_batch *batch;
	struct vm_area_struct *vma;
	long stale_before, stale_after, proof;
	int attempt;
	u64 *p;

	swap.page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, swap.page);
	p = kmap_local_page(swap.page);
	*p = MT_NEW;
	kunmap_local(p);
	mt->hold = IS_ENABLED(CONFIG_RISCV);

	/*
	 * A reader proves the flush only if it kept the old translation
	 * until then, which QEMU's TLB (its size, or a held stretch cut
	 * short by MT_HOLD_MS) does not promise: if none did, the attempt
	 * proves nothing, says so, and the test tries again.
	 */
	for (attempt = 0; attempt < 20; attempt++) {
		/* Before the PTE is changed, so that failing here leaves it intact. */
		batch = migrc_batch_open(1);
		KUNIT_ASSERT_NOT_NULL_MSG(test, batch,
					  "migrc %s%s, %lu pending, %lu reserved, cap %lu",
					  migrc_enabled() ? "on" : "off",
					  migrc_test_failed() ? " (failed)" : "",
					  migrc_nr_pending(), migrc_nr_reserved(),
					  READ_ONCE(migrc_max_pending_pages));
		/* No reader runs between two attempts. */
		mt->rd.stop = false;
		mt->hold_go = false;
		mt->flushed = false;
		atomic_long_set(&mt->stale, 0);
		atomic_long_set(&mt->stale_after, 0);
		atomic_long_set(&mt->proof, 0);
		mt_publish(mt, 0, MT_OLD);
		swap.done = false;

		mt_start_readers(mt);
		if (mt->hold)
			mt_hold_readers(mt);
		mmap_write_lock(mt->rd.mm);
		walk_page_range(mt->rd.mm, mt->addr, mt->addr + PAGE_SIZE, &mt_swap_ops, &swap);
		mmap_write_unlock(mt->rd.mm);
		KUNIT_ASSERT_TRUE(test, swap.done);
		mt_publish(mt, 0, MT_NEW);
		/* Held readers see it at once: keep their stretch short. */
		if (mt->hold)
			mdelay(MT_READ_MS / 10);
		else
			msleep(MT_READ_MS);

		migrc_batch_add_pte(batch, mt->rd.mm, mt->addr);
		migrc_arch_flush(&batch->arch);
		/* Reads that see this were done after the flush. */
		smp_store_release(&mt->flushed, true);
		msleep(MT_READ_MS);
		mt_stop_readers(mt);
		stale_after = atomic_long_read(&mt->stale_after);
		stale_before = atomic_long_read(&mt->stale) - stale_after;
		proof = atomic_long_read(&mt->proof);

		mmap_write_lock(mt->rd.mm);
		walk_page_range(mt->rd.mm, mt->addr, mt->addr + PAGE_SIZE, &mt_restore_ops, &swap);
		vma = find_vma(mt->rd.mm, mt->addr);
		flush_tlb_range(vma, mt->addr, mt->addr + PAGE_SIZE);
		mmap_write_unlock(mt->rd.mm);
		migrc_batch_seal(batch);

		kunit_info(test, "%s: stale reads %ld before the backend's flush, %ld after; %ld fresh reads after it by readers that had read stale\n",
			   ARCH_MIGRC_NAME, stale_before, stale_after, proof);
		if (stale_after || (stale_before && proof))
			break;
	}
	__free_page(swap.page);

	/* On riscv the readers hold SUM (mt_read_held()) to keep one. */
	if (!stale_before)
		kunit_skip(test, "no CPU kept the old translation: nothing to prove");
	if (!stale_after && !proof)
		kunit_skip(test, "no reader that kept it read again after the flush");
	KUNIT_EXPECT_EQ(test, stale_after, 0L);
}

/* Make the PTE writable (and dirty), with no flush at all. */
static int mt_mkwrite_pte(pte_t *pte, unsigned long addr, unsigned long next,
			  struct mm_walk *walk)
{
	pte_t old = ptep_get(pte);

	set_pte_at(walk->mm, addr, pte, pte_mkwrite(pte_mkdirty(old), walk->vma));
	return 0;
}

static const struct mm_walk_ops mt_mkwrite_ops = {
	.pte_entry	= mt_mkwrite_pte,
	.walk_lock	= PGWALK_WRLOCK,
};

struct mt_debug_case {
	const char *name;
	bool other_page;	/* point the PTE elsewhere instead of making it writable */
	bool flush_first;	/* migrc_flush_mm() first, as a flush point does */
};

static const struct mt_debug_case mt_debug_cases[] = {
	{ "writable-without-flush",	false,	false },
	{ "other-page-without-flush",	true,	false },
	{ "writable-after-flush",	false,	true },
	{ "other-page-after-flush",	true,	true },
};

static void mt_debug_case_desc(const struct mt_debug_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(mt_debug, mt_debug_cases, mt_debug_case_desc);

/*
 * CONFIG_MIGRC_DEBUG: after a deferred migration, change a PTE the way a
 * missing flush point would (writable, or to another page) and the
 * checker must fire, once, and fail migrc safe; do the same after the
 * flush a flush point does and it must stay quiet.
 */
static void migrc_mm_test_debug_checker(struct kunit *test)
{
	const struct mt_debug_case *c = test->param_value;
	struct mt *mt = mt_setup(test, PROT_READ);
	struct mt_swap swap = {};
	unsigned long before;
	bool fired;

	mt->nr = 1;
	/* Other CPUs cache the translation: the unmap has a flush to defer. */
	mt_start_readers(mt);
	mt_migrate_deferred(mt);
	if (c->flush_first)
		migrc_flush_mm(mt->rd.mm, MIGRC_FP_OTHER);
	before = migrc_debug_violations();

	mmap_write_lock(mt->rd.mm);
	if (c->other_page) {
		swap.page = alloc_page(GFP_KERNEL);
		if (swap.page)
			walk_page_range(mt->rd.mm, mt->addr, mt->addr + PAGE_SIZE,
					&mt_swap_ops, &swap);
	} else {
		walk_page_range(mt->rd.mm, mt->addr, mt->addr + PAGE_SIZE,
				&mt_mkwrite_ops, NULL);
	}
	mmap_write_unlock(mt->rd.mm);
	fired = migrc_debug_violations() != before;
	mt_stop_readers(mt);

	if (swap.page) {
		struct vm_area_struct *vma;

		mmap_write_lock(mt->rd.mm);
		walk_page_range(mt->rd.mm, mt->addr, mt->addr + PAGE_SIZE,
				&mt_restore_ops, &swap);
		vma = find_vma(mt->rd.mm, mt->addr);
		flush_tlb_range(vma, mt->addr, mt->addr + PAGE_SIZE);
		mmap_write_unlock(mt->rd.mm);
		__free_page(swap.page);
	}
	KUNIT_ASSERT_TRUE(test, !c->other_page || swap.done);
	KUNIT_EXPECT_EQ_MSG(test, migrc_debug_violations() - before,
			    c->flush_first ? 0UL : 1UL,
			    "%s: the checker %s", c->name, fired ? "fired" : "stayed quiet");
	if (fired) {
		/* Failed safe: deferral is off until the test turns it back on. */
		KUNIT_EXPECT_TRUE(test, migrc_test_failed());
		mt_expected_violations += migrc_debug_violations() - before;
		migrc_test_recover();
	}
}

/*
 * The figure: remote invalidations to retire 1, 10 and 100 sealed
 * batches, each recording an unmap in an mm that runs on every other
 * online CPU (the readers), against what the batched unmap flush sends
 * for the same unmaps (one batch each, flushed at the end of its round).
 * A reader that was switched out and back meanwhile caught up with the
 * mm and may be trimmed: the migrc figure can only be lower for it.
 */
static void migrc_mm_test_retire_cost(struct kunit *test)
{
	static const int counts[] = { 1, 10, 100 };
	struct mt *mt = mt_setup(test, PROT_READ);
	struct mm_struct *mm = mt->rd.mm;
	int c, i;

	mt_start_readers(mt);
	for (c = 0; c < ARRAY_SIZE(counts); c++) {
		unsigned long r0, c0, r1, c1, r2, c2;

		migrc_retire_all(MIGRC_CAUSE_DRAIN);
		r0 = migrc_kunit_event(MIGRC_FLUSH_ROUNDS);
		c0 = migrc_kunit_event(MIGRC_FLUSH_CPUS);
		for (i = 0; i < counts[c]; i++) {
			struct migrc_batch *batch = migrc_batch_open(1);
			struct page *page = alloc_page(GFP_KERNEL);

			KUNIT_ASSERT_NOT_NULL(test, batch);
			KUNIT_ASSERT_NOT_NULL(test, page);
			migrc_batch_add_pte(batch, mm, 0x100000);
			migrc_batch_add_folio(batch, page_folio(page));
			migrc_batch_seal(batch);
		}
		migrc_retire_all(MIGRC_CAUSE_DRAIN);
		r1 = migrc_kunit_event(MIGRC_FLUSH_ROUNDS) - r0;
		c1 = migrc_kunit_event(MIGRC_FLUSH_CPUS) - c0;

		r0 = migrc_kunit_event(TLBBATCH_FLUSH_ROUNDS);
		c0 = migrc_kunit_event(TLBBATCH_FLUSH_CPUS);
		for (i = 0; i < counts[c]; i++) {
			struct arch_tlbflush_unmap_batch ubc = {};

			arch_tlbbatch_add_pending(&ubc, mm, 0x100000);
			migrc_count_tlbbatch_add();
			migrc_count_tlbbatch_flush(&ubc);
			arch_tlbbatch_flush(&ubc);
		}
		r2 = migrc_kunit_event(TLBBATCH_FLUSH_ROUNDS) - r0;
		c2 = migrc_kunit_event(TLBBATCH_FLUSH_CPUS) - c0;
		kunit_info(test, "%s: retiring %d batches over %u CPUs: migrc %lu rounds (%lu CPUs), batched unmap flush %lu rounds (%lu CPUs)\n",
			   ARCH_MIGRC_NAME, counts[c], num_online_cpus(), r1, c1, r2, c2);
		KUNIT_EXPECT_LE(test, r1, 1UL);
		KUNIT_EXPECT_GE(test, r2, (unsigned long)counts[c]);
	}
	mt_stop_readers(mt);
}

/* ------------------------------------------------------------------ */
/* The figure: remote invalidations for migrating read-only pages */

#define MT_BULK_PAGES	10000
#define MT_BULK_ROUND	512

struct mt_count {
	unsigned long rounds, cpus;
};

static struct mt_count mt_count_now(void)
{
	struct mt_count c = {
		.rounds = migrc_kunit_event(MIGRC_FLUSH_ROUNDS) +
			  migrc_kunit_event(TLBBATCH_FLUSH_ROUNDS),
		.cpus = migrc_kunit_event(MIGRC_FLUSH_CPUS) +
			migrc_kunit_event(TLBBATCH_FLUSH_CPUS),
	};

	return c;
}

static struct mt_count mt_bulk(struct kunit *test, unsigned long addr, int nr)
{
	struct mt_count before = mt_count_now(), after;
	int first;

	for (first = 0; first < nr; first += MT_BULK_ROUND) {
		struct mt_migrate m;
		int nid = NUMA_NO_NODE;
		int n = min(MT_BULK_ROUND, nr - first);

		mt_migrate_init(&m);
		migrc_kunit_isolate(addr, first, n, &m.folios, &nid);
		m.mtc.nid = mt_other_node(nid);
		if (migrate_pages(&m.folios, alloc_migration_target, NULL,
				  (unsigned long)&m.mtc, MIGRATE_SYNC, MR_SYSCALL, NULL))
			putback_movable_pages(&m.folios);
	}
	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	after = mt_count_now();
	after.rounds -= before.rounds;
	after.cpus -= before.cpus;
	return after;
}

static void migrc_mm_test_bulk_figure(struct kunit *test)
{
	struct mt *mt = kunit_kzalloc(test, sizeof(*mt), GFP_KERNEL);
	struct mt_count on, off;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, mt);
	mt->test = test;
	mt->rd.test = test;
	mt->nr = 1;
	mt->addr = kunit_vm_mmap(test, NULL, 0, MT_BULK_PAGES * PAGE_SIZE, PROT_READ,
				 MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_NE(test, mt->addr, 0UL);
	mt->rd.mm = current->mm;
	for (i = 0; i < MT_BULK_PAGES; i++) {
		u64 v = i;

		access_remote_vm(mt->rd.mm, mt->addr + i * PAGE_SIZE, &v, sizeof(v),
				 FOLL_WRITE | FOLL_FORCE);
	}
	mt_start_readers(mt);
	on = mt_bulk(test, mt->addr, MT_BULK_PAGES);
	migrc_set_enabled(false);
	off = mt_bulk(test, mt->addr, MT_BULK_PAGES);
	migrc_set_enabled(true);
	mt_stop_readers(mt);
	kunit_info(test, "%s: %d read-only pages between nodes, remote invalidations: migrc on %lu rounds (%lu CPUs), off %lu rounds (%lu CPUs)\n",
		   ARCH_MIGRC_NAME, MT_BULK_PAGES, on.rounds, on.cpus, off.rounds, off.cpus);
	KUNIT_EXPECT_LT(test, on.rounds, off.rounds);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&mt->stale), 0L);
}

static struct kunit_case migrc_mm_test_cases[] = {
	KUNIT_CASE(migrc_mm_test_write_fault),
	KUNIT_CASE(migrc_mm_test_gup_write),
	KUNIT_CASE(migrc_mm_test_mprotect),
	KUNIT_CASE(migrc_mm_test_uffd_wp_resolve),
	KUNIT_CASE(migrc_mm_test_numa_hint),
	KUNIT_CASE(migrc_mm_test_munmap_map_fixed),
	KUNIT_CASE(migrc_mm_test_madv_dontneed),
	KUNIT_CASE(migrc_mm_test_mremap),
	KUNIT_CASE(migrc_mm_test_writable_not_deferred),
	KUNIT_CASE(migrc_mm_test_isolated_not_deferred),
	KUNIT_CASE(migrc_mm_test_contig_pending),
	KUNIT_CASE_PARAM(migrc_mm_test_flush_pending, mt_pending_gen_params),
	KUNIT_CASE(migrc_mm_test_unmap_flush_takes_batch),
	KUNIT_CASE(migrc_mm_test_fail_after_unmap),
	KUNIT_CASE(migrc_mm_test_nested_round),
	KUNIT_CASE(migrc_mm_test_recycle),
	KUNIT_CASE(migrc_mm_test_recycle_fail),
	KUNIT_CASE(migrc_mm_test_switch_off),
	KUNIT_CASE(migrc_mm_test_cpu_offline),
	KUNIT_CASE(migrc_mm_test_offline_notifiers),
	KUNIT_CASE(migrc_mm_test_pressure),
	KUNIT_CASE(migrc_mm_test_pressure_high_order),
	KUNIT_CASE_SLOW(migrc_mm_test_backend_flush_invalidates),
	KUNIT_CASE_PARAM(migrc_mm_test_debug_checker, mt_debug_gen_params),
	KUNIT_CASE(migrc_mm_test_retire_cost),
	KUNIT_CASE_SLOW(migrc_mm_test_bulk_figure),
	{}
};

static struct kunit_suite migrc_mm_test_suite = {
	.name = "migrc_mm",
	.init = mt_suite_init,
	.exit = mt_suite_exit,
	.test_cases = migrc_mm_test_cases,
};

kunit_test_suites(&migrc_mm_test_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit integration tests for migrc in mm");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
