// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit integration tests for migrc and page-cache folios: a regular file
 * on a small test filesystem, mapped read-only, migrated between two NUMA
 * nodes while kthreads on the other CPUs read it, then changed through a
 * writer (open for write, truncate), then a check that every CPU reads
 * the current data.
 *
 * The filesystem (migrc_testfs) is built only for these tests: libfs
 * inodes whose page cache migrates with filemap_migrate_folio() (ramfs's
 * does not, in the batched pass that defers), flagged FS_MIGRC_GATED.
 * Its folios are never written back and never read from anywhere.
 *
 * As in migrc_mm_test.c, a stale translation stays usable under QEMU
 * until the guest invalidates it, so a missing flush shows as a reader
 * that sees anything but the published value.  On riscv, QEMU empties a
 * hart's TLB at every kernel user access (see migrc_mm_test.c), so there
 * the cases are checked by their counters only.
 *
 * With CONFIG_MIGRC_DEBUG the boot parameter migrc_disable_hooks= turns
 * single hooks off; the cases guarding MIGRC_HOOK_FILE_GATE (0x80) and
 * MIGRC_HOOK_FILE_RECHECK (0x100) must then fail on x86_64 and arm64.
 */

#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/fadvise.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/kthread.h>
#include <linux/migrate.h>
#include <linux/migrc.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/uaccess.h>
#include <linux/uprobes.h>
#include <linux/vmstat.h>

#include "../../mm/internal.h"
#include "migrc.h"
#include "migrc_kunit.h"

#define FT_PAGES	16
#define FT_READ_MS	200
#define FT_OFF		8		/* where in each page the readers read */
#define FT_OLD		1ULL
#define FT_NEW		2ULL
#define FT_TRUNCATED	0ULL
#define FT_MAGIC	0x6d677263	/* "mgrc" */

/* ------------------------------------------------------------------ */
/* migrc_testfs */

static const struct inode_operations ft_dir_iops;
static const struct inode_operations ft_file_iops;
static const struct file_operations ft_file_fops;
static const struct address_space_operations ft_aops;

static struct inode *ft_get_inode(struct super_block *sb, umode_t mode)
{
	struct inode *inode = new_inode(sb);

	if (!inode)
		return NULL;
	inode->i_ino = get_next_ino();
	inode_init_owner(&nop_mnt_idmap, inode, NULL, mode);
	simple_inode_init_ts(inode);
	if (S_ISDIR(mode)) {
		inode->i_op = &ft_dir_iops;
		inode->i_fop = &simple_dir_operations;
		inc_nlink(inode);
	} else {
		inode->i_op = &ft_file_iops;
		inode->i_fop = &ft_file_fops;
		inode->i_mapping->a_ops = &ft_aops;
	}
	return inode;
}

static int ft_create(struct mnt_idmap *idmap, struct inode *dir,
		     struct dentry *dentry, umode_t mode, bool excl)
{
	struct inode *inode = ft_get_inode(dir->i_sb, S_IFREG | mode);

	if (!inode)
		return -ENOSPC;
	d_instantiate(dentry, inode);
	dget(dentry);	/* pinned until the super block goes, as in ramfs */
	return 0;
}

/* The "disk" holds zeroes: only written folios hold anything else. */
static int ft_read_folio(struct file *file, struct folio *folio)
{
	folio_zero_range(folio, 0, folio_size(folio));
	folio_mark_uptodate(folio);
	folio_unlock(folio);
	return 0;
}

/* simple_write_end(), which is not exported. */
static int ft_write_end(struct file *file, struct address_space *mapping,
			loff_t pos, unsigned int len, unsigned int copied,
			struct folio *folio, void *fsdata)
{
	struct inode *inode = mapping->host;

	if (!folio_test_uptodate(folio)) {
		if (copied < len)
			folio_zero_range(folio, offset_in_folio(folio, pos) + copied,
					 len - copied);
		folio_mark_uptodate(folio);
	}
	if (pos + copied > inode->i_size)
		i_size_write(inode, pos + copied);
	folio_mark_dirty(folio);
	folio_unlock(folio);
	folio_put(folio);
	return copied;
}

static const struct address_space_operations ft_aops = {
	.read_folio	= ft_read_folio,
	.write_begin	= simple_write_begin,
	.write_end	= ft_write_end,
	.dirty_folio	= noop_dirty_folio,
	.migrate_folio	= filemap_migrate_folio,
};

static const struct file_operations ft_file_fops = {
	.read_iter	= generic_file_read_iter,
	.write_iter	= generic_file_write_iter,
	.mmap		= generic_file_mmap,
	.llseek		= generic_file_llseek,
	.fsync		= noop_fsync,
};

static const struct inode_operations ft_file_iops = {
	.setattr	= simple_setattr,
	.getattr	= simple_getattr,
};

static const struct inode_operations ft_dir_iops = {
	.lookup		= simple_lookup,
	.create		= ft_create,
};

static const struct super_operations ft_super_ops = {
	.statfs		= simple_statfs,
	.drop_inode	= generic_delete_inode,
};

static int ft_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct inode *root;

	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_magic = FT_MAGIC;
	sb->s_op = &ft_super_ops;
	sb->s_time_gran = 1;
	root = ft_get_inode(sb, S_IFDIR | 0755);
	sb->s_root = d_make_root(root);
	return sb->s_root ? 0 : -ENOMEM;
}

static int ft_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, ft_fill_super);
}

static const struct fs_context_operations ft_context_ops = {
	.get_tree	= ft_get_tree,
};

static int ft_init_fs_context(struct fs_context *fc)
{
	fc->ops = &ft_context_ops;
	return 0;
}

/* Not const: the ungated case clears FS_MIGRC_GATED for a while. */
static struct file_system_type ft_fs_type = {
	.name		 = "migrc_testfs",
	.init_fs_context = ft_init_fs_context,
	.kill_sb	 = kill_litter_super,
	.fs_flags	 = FS_MIGRC_GATED,
};

static struct vfsmount *ft_mnt;
static atomic_t ft_files = ATOMIC_INIT(0);

/* ------------------------------------------------------------------ */
/* A file mapped read-only, and readers on every other CPU */

struct ft {
	struct kunit *test;
	char name[16];
	struct file *ro;		/* open read-only: the mapping's file */
	struct migrc_kunit_readers rd;	/* and the mm: rd.mm */
	unsigned long addr;
	int nr;
	u64 expect[FT_PAGES];		/* newest value published per page */
	atomic_long_t reads, stale, fresh;
	unsigned long stale_pages;	/* bit per page read stale */
};

static long ft_stat(enum migrc_stat item)
{
	return atomic_long_read(&migrc_stats.counter[item]);
}

static u64 __user *ft_word(struct ft *ft, int i)
{
	return (u64 __user *)(ft->addr + i * PAGE_SIZE + FT_OFF);
}

static void ft_publish(struct ft *ft, int i, u64 v)
{
	/* Pairs with smp_load_acquire() in ft_reader_fn(). */
	smp_store_release(&ft->expect[i], v);
}

/*
 * Read every page in a loop.  Once a page's value is no longer FT_OLD,
 * its change happened before it was published, so a value older than the
 * published one came through a stale translation (written values only
 * grow; a newer one was written after the reader loaded the published
 * one).  Never fault: a page truncated away reads as nothing.
 */
static int ft_reader_fn(void *arg)
{
	struct ft *ft = arg;
	long reads = 0, stale = 0, fresh = 0;
	int i;

	migrc_kunit_reader_enter(&ft->rd);
	while (!READ_ONCE(ft->rd.stop)) {
		for (i = 0; i < ft->nr; i++) {
			/* Pairs with smp_store_release() in ft_publish(). */
			u64 e = smp_load_acquire(&ft->expect[i]);
			u64 v;

			if (copy_from_user_nofault(&v, ft_word(ft, i), sizeof(v)))
				continue;
			reads++;
			if (e == FT_OLD)
				continue;
			/* Values only grow, except FT_TRUNCATED after FT_OLD. */
			if (v == e || (e != FT_TRUNCATED && v > e)) {
				fresh++;
			} else {
				stale++;
				if (!test_bit(i, &ft->stale_pages))
					set_bit(i, &ft->stale_pages);
			}
		}
		atomic_long_add(reads, &ft->reads);
		atomic_long_add(stale, &ft->stale);
		atomic_long_add(fresh, &ft->fresh);
		reads = 0;
		stale = 0;
		fresh = 0;
		cond_resched();
	}
	return migrc_kunit_reader_exit(&ft->rd);
}

/* The test thread stays on one CPU; a reader runs on each of the others. */
static void ft_start_readers(struct ft *ft)
{
	migrc_kunit_start_readers(&ft->rd, ft_reader_fn, ft, "migrc_frd/%u", FT_READ_MS / 4);
}

static void ft_stop_readers(struct ft *ft)
{
	migrc_kunit_stop_readers(&ft->rd);
}

/* Stop the readers and check that none read old data after a publication. */
static void ft_check_readers(struct ft *ft)
{
	struct kunit *test = ft->test;

	msleep(FT_READ_MS);
	ft_stop_readers(ft);
	kunit_info(test, "%ld reads, %ld of the new data, %ld stale (pages %*pbl)\n",
		   atomic_long_read(&ft->reads), atomic_long_read(&ft->fresh),
		   atomic_long_read(&ft->stale), ft->nr, &ft->stale_pages);
	KUNIT_EXPECT_GT_MSG(test, atomic_long_read(&ft->fresh), 0L,
			    "readers never read after the change: nothing was checked");
	KUNIT_EXPECT_EQ_MSG(test, atomic_long_read(&ft->stale), 0L,
			    "a CPU read the old copy after the change");
}

static struct file *ft_open(struct ft *ft, int flags)
{
	return file_open_root_mnt(ft_mnt, ft->name, flags, 0600);
}

/* Close now, not from a work item: a writer must be gone at once. */
static void ft_close(struct file *file)
{
	__fput_sync(file);
}

static void ft_close_action(void *arg)
{
	ft_close(arg);
}

/*
 * Create a file of FT_PAGES pages of FT_OLD, its page cache on one node,
 * close it, open it read-only and map it with @prot (read-only) and
 * @flags, and fault every page in, read-only.
 */
static struct ft *ft_setup_prot(struct kunit *test, unsigned long prot,
				unsigned long flags)
{
	struct ft *ft = kunit_kzalloc(test, sizeof(*ft), GFP_KERNEL);
	u64 *buf = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct file *f;
	loff_t pos = 0;
	int i, j;

	KUNIT_ASSERT_NOT_NULL(test, ft);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ft_mnt);
	ft->test = test;
	ft->rd.test = test;
	ft->nr = FT_PAGES;
	snprintf(ft->name, sizeof(ft->name), "f%d", atomic_inc_return(&ft_files));

	f = ft_open(ft, O_CREAT | O_EXCL | O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f);
	for (j = 0; j < PAGE_SIZE / sizeof(u64); j++)
		buf[j] = FT_OLD;
	/* Allocate every page on one node: the cases move all to the other. */
	migrate_disable();
	for (i = 0; i < ft->nr; i++) {
		ssize_t n = kernel_write(f, buf, PAGE_SIZE, &pos);

		if (n != PAGE_SIZE) {
			migrate_enable();
			ft_close(f);
			KUNIT_ASSERT_EQ(test, n, (ssize_t)PAGE_SIZE);
		}
	}
	migrate_enable();
	ft_close(f);

	ft->ro = ft_open(ft, O_RDONLY);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ft->ro);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ft_close_action, ft->ro), 0);
	ft->addr = kunit_vm_mmap(test, ft->ro, 0, ft->nr * PAGE_SIZE, prot,
				 flags, 0);
	KUNIT_ASSERT_NE(test, ft->addr, 0UL);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(ft->addr));
	ft->rd.mm = current->mm;
	for (i = 0; i < ft->nr; i++) {
		u64 v = 0;

		KUNIT_ASSERT_EQ(test, get_user(v, ft_word(ft, i)), 0);
		KUNIT_ASSERT_EQ(test, v, FT_OLD);
		ft_publish(ft, i, FT_OLD);
	}
	return ft;
}

/* The usual mapping: PROT_READ. */
static struct ft *ft_setup(struct kunit *test, unsigned long flags)
{
	return ft_setup_prot(test, PROT_READ, flags);
}

/*
 * Migrate the pages of the file that are on the node of its first page to
 * the other node, in one round.  Return how many were isolated and set
 * @failed to how many did not move.
 */
static int ft_migrate(struct ft *ft, int *failed)
{
	struct kunit *test = ft->test;
	struct migration_target_control mtc = {
		.nid = NUMA_NO_NODE,
		.gfp_mask = GFP_HIGHUSER_MOVABLE | __GFP_THISNODE,
		.reason = MR_SYSCALL,
	};
	LIST_HEAD(folios);
	int nid = NUMA_NO_NODE, n;

	n = migrc_kunit_isolate(ft->addr, 0, ft->nr, &folios, &nid);
	KUNIT_ASSERT_NE(test, nid, NUMA_NO_NODE);
	mtc.nid = next_node_in(nid, node_states[N_MEMORY]);
	KUNIT_ASSERT_NE(test, mtc.nid, nid);
	*failed = migrate_pages(&folios, alloc_migration_target, NULL,
				(unsigned long)&mtc, MIGRATE_SYNC, MR_SYSCALL, NULL);
	if (*failed)
		putback_movable_pages(&folios);
	return n;
}

/* Migrate every page of the file to the other node, in one round. */
static void ft_migrate_all(struct ft *ft)
{
	int failed;

	KUNIT_ASSERT_EQ(ft->test, ft_migrate(ft, &failed), ft->nr);
	KUNIT_ASSERT_EQ(ft->test, failed, 0);
}

/* Migrate, and check every folio deferred, with no flush. */
static void ft_migrate_deferred(struct ft *ft)
{
	struct kunit *test = ft->test;
	unsigned long deferred = migrc_kunit_event(MIGRC_DEFERRED);
	unsigned long rounds = migrc_kunit_event(MIGRC_FLUSH_ROUNDS);

	ft_migrate_all(ft);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_DEFERRED) - deferred, (unsigned long)ft->nr);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FLUSH_ROUNDS) - rounds, 0UL);
	KUNIT_EXPECT_TRUE(test, test_bit(AS_MIGRC_DEFERRED,
					 &file_inode(ft->ro)->i_mapping->flags));
}

/* Write @v at the readers' word of page @i, through @f. */
static int ft_write_word(struct file *f, int i, u64 v)
{
	loff_t pos = i * PAGE_SIZE + FT_OFF;

	return kernel_write(f, &v, sizeof(v), &pos) == sizeof(v) ? 0 : -EIO;
}

/* ------------------------------------------------------------------ */

static int ft_suite_init(struct kunit_suite *suite)
{
	ft_mnt = vfs_kern_mount(&ft_fs_type, 0, ft_fs_type.name, NULL);
	return PTR_ERR_OR_ZERO(ft_mnt);
}

static void ft_suite_exit(struct kunit_suite *suite)
{
	if (!IS_ERR_OR_NULL(ft_mnt))
		mntput(ft_mnt);
}

static unsigned long ft_violations;

static int ft_init(struct kunit *test)
{
	/* A case the checker failed must not switch the next ones off. */
	if (migrc_test_failed())
		migrc_test_recover();
	migrc_set_enabled(true);
	migrc_retire_all(MIGRC_CAUSE_DRAIN);
	ft_violations = migrc_debug_violations();
	return 0;
}

/* No case may trip the debug checker. */
static void ft_exit(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, migrc_debug_violations(), ft_violations,
			    "the migrc debug checker found a missing flush");
}

static const unsigned long ft_map_flags[] = { MAP_SHARED, MAP_PRIVATE };

static void ft_map_desc(const unsigned long *flags, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s",
		 *flags == MAP_SHARED ? "MAP_SHARED" : "MAP_PRIVATE");
}

KUNIT_ARRAY_PARAM(ft_map, ft_map_flags, ft_map_desc);

/*
 * A file opened read-only and mapped PROT_READ, shared (VM_MAYSHARE
 * without VM_SHARED) or private, defers every folio and flushes nothing.
 */
static void migrc_file_test_deferred(struct kunit *test)
{
	struct ft *ft = ft_setup(test, *(const unsigned long *)test->param_value);
	unsigned long gate = migrc_kunit_event(MIGRC_FILE_GATE);

	ft_start_readers(ft);
	ft_migrate_deferred(ft);
	ft_stop_readers(ft);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FILE_GATE), gate);
	KUNIT_EXPECT_GT(test, atomic_long_read(&ft->reads), 0L);
}

/*
 * A TLB flush pending in the mm (a write-protect, such as a NUMA hinting
 * scan of the heap, that has not flushed yet) keeps anonymous folios
 * from deferring (migrc_mm_test_flush_pending), not page-cache ones,
 * which are never mapped writable outside VM_SHARED VMAs.
 */
static void migrc_file_test_flush_pending(struct kunit *test)
{
	struct ft *ft = ft_setup(test, MAP_PRIVATE);
	unsigned long refused = migrc_refused(MIGRC_REFUSED_FLUSH_PENDING);

	ft_start_readers(ft);
	inc_tlb_flush_pending(ft->rd.mm);
	ft_migrate_deferred(ft);
	dec_tlb_flush_pending(ft->rd.mm);
	ft_stop_readers(ft);
	KUNIT_EXPECT_EQ(test, migrc_refused(MIGRC_REFUSED_FLUSH_PENDING), refused);
	KUNIT_EXPECT_GT(test, atomic_long_read(&ft->reads), 0L);
}

/*
 * Opening the file for write flushes every CPU before open() returns,
 * so the new data written through it is what every CPU reads.
 */
static void migrc_file_test_open_write(struct kunit *test)
{
	struct ft *ft = ft_setup(test, *(const unsigned long *)test->param_value);
	unsigned long gate;
	struct file *w;
	int i;

	ft_start_readers(ft);
	ft_migrate_deferred(ft);
	gate = migrc_kunit_event(MIGRC_FILE_GATE);
	w = ft_open(ft, O_WRONLY);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, w);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FILE_GATE) - gate, 1UL);
	KUNIT_EXPECT_FALSE(test, test_bit(AS_MIGRC_DEFERRED,
					  &file_inode(w)->i_mapping->flags));
	for (i = 0; i < ft->nr; i++) {
		KUNIT_EXPECT_EQ(test, ft_write_word(w, i, FT_NEW), 0);
		ft_publish(ft, i, FT_NEW);
	}
	ft_close(w);
	ft_check_readers(ft);
}

/*
 * CONFIG_MIGRC_DEBUG: with the gate switched off (MIGRC_HOOK_FILE_GATE,
 * as the hook tests do), a writer gained while the file's deferrals are
 * unflushed must make the checker fire, once, and fail migrc safe.  With
 * the gate on it stays quiet: the case above, and ft_exit() in every case.
 */
static void migrc_file_test_checker_writer(struct kunit *test)
{
	struct ft *ft = ft_setup(test, MAP_SHARED);
	unsigned long hooks = READ_ONCE(migrc_debug_disabled_hooks);
	unsigned long before, gate;
	struct file *w;

	ft_start_readers(ft);
	ft_migrate_deferred(ft);
	ft_stop_readers(ft);
	before = migrc_debug_violations();
	gate = migrc_kunit_event(MIGRC_FILE_GATE);
	WRITE_ONCE(migrc_debug_disabled_hooks, hooks | BIT(MIGRC_HOOK_FILE_GATE));
	w = ft_open(ft, O_WRONLY);
	WRITE_ONCE(migrc_debug_disabled_hooks, hooks);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, w);
	ft_close(w);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FILE_GATE), gate);
	KUNIT_EXPECT_EQ(test, migrc_debug_violations() - before, 1UL);
	/* Failed safe: deferral is off until the test turns it back on. */
	KUNIT_EXPECT_TRUE(test, migrc_test_failed());
	ft_violations += migrc_debug_violations() - before;
	migrc_test_recover();
}

/*
 * truncate(2) to the middle of the last page: the page stays mapped and
 * is zeroed in place past the new size (truncate_inode_partial_folio()),
 * with no unmap and so no flush of the mm.  Only the gate in
 * get_write_access() (vfs_truncate()) covers it.
 */
static void migrc_file_test_truncate_partial(struct kunit *test)
{
	struct ft *ft = ft_setup(test, MAP_PRIVATE);
	unsigned long gate, mm_flushes;

	ft_start_readers(ft);
	ft_migrate_deferred(ft);
	gate = migrc_kunit_event(MIGRC_FILE_GATE);
	mm_flushes = migrc_kunit_event(MIGRC_MM_FLUSH);
	KUNIT_ASSERT_EQ(test, vfs_truncate(&ft->ro->f_path,
					   (ft->nr - 1) * PAGE_SIZE + FT_OFF), 0);
	ft_publish(ft, ft->nr - 1, FT_TRUNCATED);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FILE_GATE) - gate, 1UL);
	/* Nothing was unmapped: the gate did it alone. */
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_MM_FLUSH), mm_flushes);
	ft_check_readers(ft);
}

/* Fault every page of the mapping in again, read-only: holes, zeroes. */
static void ft_fault_in_holes(struct ft *ft)
{
	int i;

	for (i = 0; i < ft->nr; i++) {
		u64 v = FT_OLD;

		KUNIT_ASSERT_EQ(ft->test, get_user(v, ft_word(ft, i)), 0);
		KUNIT_EXPECT_EQ(ft->test, v, FT_TRUNCATED);
	}
}

/*
 * open(O_RDONLY|O_TRUNC) truncates without a file open for write: the gate
 * must fire from handle_truncate()'s get_write_access() too.  Truncating
 * to zero also unmaps every page, whose zap flushes the mm (the deferral
 * counts in tlb_flush_batched): after re-extending, every CPU must read
 * the holes' zeroes, even with the gate off.
 */
static void migrc_file_test_otrunc_reextend(struct kunit *test)
{
	struct ft *ft = ft_setup(test, MAP_SHARED);
	unsigned long gate, mm_flushes;
	struct file *t;
	int i;

	ft_start_readers(ft);
	ft_migrate_deferred(ft);
	gate = migrc_kunit_event(MIGRC_FILE_GATE);
	mm_flushes = migrc_kunit_event(MIGRC_MM_FLUSH);
	t = ft_open(ft, O_RDONLY | O_TRUNC);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	ft_close(t);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FILE_GATE) - gate, 1UL);
	KUNIT_EXPECT_GT(test, migrc_kunit_event(MIGRC_MM_FLUSH), mm_flushes);
	KUNIT_ASSERT_EQ(test, vfs_truncate(&ft->ro->f_path, ft->nr * PAGE_SIZE), 0);
	ft_fault_in_holes(ft);
	for (i = 0; i < ft->nr; i++)
		ft_publish(ft, i, FT_TRUNCATED);
	ft_check_readers(ft);
}

/*
 * migrc_testfs never writes its folios back, so they stay dirty, and
 * invalidation and fadvise would keep them: clean them, as writeback
 * would (the disk keeps its zeroes).
 */
static void ft_clean(struct ft *ft)
{
	struct address_space *mapping = file_inode(ft->ro)->i_mapping;
	int i;

	for (i = 0; i < ft->nr; i++) {
		struct folio *folio = filemap_lock_folio(mapping, i);

		KUNIT_ASSERT_FALSE(ft->test, IS_ERR(folio));
		folio_cancel_dirty(folio);
		folio_unlock(folio);
		folio_put(folio);
	}
}

/*
 * Invalidation needs no writer (NFS revalidation, FUSE, direct I/O and
 * cluster filesystems call invalidate_inode_pages2()): it unmaps each
 * mapped folio before it drops it, and that zap flushes the mm, the
 * deferred translations to the older copies with it.  The pages are then
 * read again from the "disk", which holds zeroes: every CPU must read
 * them, and the gate has no part in it.
 */
static void migrc_file_test_invalidate(struct kunit *test)
{
	struct ft *ft = ft_setup(test, MAP_SHARED);
	struct address_space *mapping = file_inode(ft->ro)->i_mapping;
	unsigned long gate, mm_flushes;
	int i;

	ft_clean(ft);
	ft_start_readers(ft);
	ft_migrate_deferred(ft);
	gate = migrc_kunit_event(MIGRC_FILE_GATE);
	mm_flushes = migrc_kunit_event(MIGRC_MM_FLUSH);
	KUNIT_ASSERT_EQ(test, invalidate_inode_pages2(mapping), 0);
	ft_fault_in_holes(ft);
	for (i = 0; i < ft->nr; i++)
		ft_publish(ft, i, FT_TRUNCATED);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FILE_GATE), gate);
	KUNIT_EXPECT_GT(test, migrc_kunit_event(MIGRC_MM_FLUSH), mm_flushes);
	ft_check_readers(ft);
}

/*
 * Reclaim evicts the deferred folios, as MADV_PAGEOUT does with
 * reclaim_pages(), which does not retire migrc's batches first.
 * try_to_unmap() clears each PTE for a batched flush, and
 * try_to_unmap_flush() invalidates the addresses on every CPU, the
 * deferred translations to the older copies with them.  The pages are
 * then read again from the "disk", which holds zeroes: every CPU must
 * read those, and the debug checker must not take the new folios for a
 * missing flush (ft_exit()).
 */
static void migrc_file_test_evict(struct kunit *test)
{
	struct ft *ft = ft_setup(test, MAP_SHARED);
	struct address_space *mapping = file_inode(ft->ro)->i_mapping;
	unsigned long gate, batched;
	struct folio *folio;
	LIST_HEAD(folios);
	int nid = NUMA_NO_NODE, i;

	ft_clean(ft);
	ft_start_readers(ft);
	ft_migrate_deferred(ft);
	gate = migrc_kunit_event(MIGRC_FILE_GATE);
	batched = migrc_kunit_event(TLBBATCH_FLUSH_ROUNDS);
	KUNIT_ASSERT_EQ(test, migrc_kunit_isolate(ft->addr, 0, ft->nr, &folios, &nid),
			ft->nr);
	/* reclaim_pages() takes folios isolated as madvise does: uncounted. */
	list_for_each_entry(folio, &folios, lru)
		node_stat_mod_folio(folio, NR_ISOLATED_ANON + folio_is_file_lru(folio),
				    -folio_nr_pages(folio));
	KUNIT_EXPECT_EQ(test, reclaim_pages(&folios), (unsigned long)ft->nr);
	KUNIT_EXPECT_EQ(test, mapping->nrpages, 0UL);
	KUNIT_EXPECT_GT(test, migrc_kunit_event(TLBBATCH_FLUSH_ROUNDS), batched);
	ft_fault_in_holes(ft);
	for (i = 0; i < ft->nr; i++)
		ft_publish(ft, i, FT_TRUNCATED);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FILE_GATE), gate);
	ft_check_readers(ft);
}

/*
 * posix_fadvise(POSIX_FADV_DONTNEED) drops only folios nobody maps
 * (invalidate_mapping_pages()): the mapped, deferred ones stay, unchanged.
 */
static void migrc_file_test_fadvise_dontneed(struct kunit *test)
{
	struct ft *ft = ft_setup(test, MAP_SHARED);
	struct address_space *mapping = file_inode(ft->ro)->i_mapping;

	ft_clean(ft);
	ft_start_readers(ft);
	ft_migrate_deferred(ft);
	KUNIT_EXPECT_EQ(test, vfs_fadvise(ft->ro, 0, 0, POSIX_FADV_DONTNEED), 0);
	KUNIT_EXPECT_EQ(test, mapping->nrpages, (unsigned long)ft->nr);
	/* Still the deferred state: nothing was flushed for the file. */
	KUNIT_EXPECT_TRUE(test, test_bit(AS_MIGRC_DEFERRED, &mapping->flags));
}

/*
 * mmap(MAP_FIXED) over the read-only file mapping: the old mapping is
 * unmapped first (the zap flushes the mm, the deferred translations with
 * it), and every CPU reads the new anonymous memory at those addresses.
 */
static void migrc_file_test_map_fixed(struct kunit *test)
{
	struct ft *ft = ft_setup(test, MAP_SHARED);
	unsigned long addr;
	int i;

	ft_start_readers(ft);
	ft_migrate_deferred(ft);
	addr = vm_mmap(NULL, ft->addr, ft->nr * PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0);
	KUNIT_ASSERT_EQ(test, addr, ft->addr);
	for (i = 0; i < ft->nr; i++) {
		KUNIT_ASSERT_EQ(test, put_user(FT_NEW, ft_word(ft, i)), 0);
		ft_publish(ft, i, FT_NEW);
	}
	ft_check_readers(ft);
}

#ifdef CONFIG_UPROBES
/*
 * An instruction each uprobes backend accepts, twice: the word the
 * readers read in the probed page.  Its value must grow when the
 * breakpoint replaces its first bytes, as ft_reader_fn() expects.
 */
#if defined(CONFIG_X86)
#define FT_INSN		0x9090909090909090ULL	/* nop */
#elif defined(CONFIG_ARM64)
#define FT_INSN		0xaa0003e0aa0003e0ULL	/* mov x0, x0 */
#elif defined(CONFIG_RISCV)
#define FT_INSN		0x0000001300000013ULL	/* nop */
#endif

static int ft_uprobe_handler(struct uprobe_consumer *uc, struct pt_regs *regs)
{
	return 0;
}

struct ft_uprobe {
	struct uprobe_consumer uc;
	struct uprobe *uprobe;
};

static void ft_uprobe_unregister(void *arg)
{
	struct ft_uprobe *up = arg;

	uprobe_unregister_nosync(up->uprobe, &up->uc);
	uprobe_unregister_sync();
}

/*
 * uprobes writes a breakpoint into a text page of a private file mapping
 * whose folio migrc deferred: uprobe_write_opcode() copies the page and
 * __replace_page() swaps the copy in with ptep_clear_flush(), which
 * invalidates the address on every CPU of the mm, the deferred
 * translation to the older copy of the folio included.  The page cache
 * is not written (its folio, with its old copies, keeps the original
 * text), so the gate has no part in it.  Every CPU must then read the
 * breakpoint.
 */
static void migrc_file_test_uprobe(struct kunit *test)
{
	struct ft *ft = ft_setup_prot(test, PROT_READ | PROT_EXEC, MAP_PRIVATE);
	struct ft_uprobe *up = kunit_kzalloc(test, sizeof(*up), GFP_KERNEL);
	uprobe_opcode_t swbp = UPROBE_SWBP_INSN;
	int page = ft->nr / 2;
	unsigned long gate;
	struct file *w;
	u64 probed = FT_INSN, v = 0;

	KUNIT_ASSERT_NOT_NULL(test, up);
	memcpy(&probed, &swbp, UPROBE_SWBP_INSN_SIZE);
	KUNIT_ASSERT_GT(test, probed, FT_INSN);

	/* The text, written while nothing is deferred: no reader checks it. */
	w = ft_open(ft, O_WRONLY);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, w);
	KUNIT_EXPECT_EQ(test, ft_write_word(w, page, FT_INSN), 0);
	ft_close(w);
	KUNIT_ASSERT_EQ(test, get_user(v, ft_word(ft, page)), 0);
	KUNIT_ASSERT_EQ(test, v, FT_INSN);

	ft_start_readers(ft);
	ft_migrate_deferred(ft);
	gate = migrc_kunit_event(MIGRC_FILE_GATE);
	up->uc.handler = ft_uprobe_handler;
	up->uprobe = uprobe_register(file_inode(ft->ro), page * PAGE_SIZE + FT_OFF,
				     0, &up->uc);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(up->uprobe), "uprobe_register: %ld",
			       PTR_ERR(up->uprobe));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ft_uprobe_unregister, up), 0);
	KUNIT_ASSERT_EQ(test, get_user(v, ft_word(ft, page)), 0);
	KUNIT_EXPECT_EQ(test, v, probed);
	ft_publish(ft, page, probed);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FILE_GATE), gate);
	ft_check_readers(ft);
}
#endif /* CONFIG_UPROBES */

/* A file open for write defers nothing, and neither does an ungated fs. */
static void migrc_file_test_not_deferred(struct kunit *test)
{
	struct ft *ft = ft_setup(test, MAP_SHARED);
	unsigned long deferred, flags = ft_fs_type.fs_flags;
	struct file *w = ft_open(ft, O_WRONLY);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, w);
	deferred = migrc_kunit_event(MIGRC_DEFERRED);
	ft_migrate_all(ft);
	ft_close(w);
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_DEFERRED), deferred);

	ft_fs_type.fs_flags &= ~FS_MIGRC_GATED;
	ft_migrate_all(ft);
	ft_fs_type.fs_flags = flags;
	KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_DEFERRED), deferred);
}

/* ------------------------------------------------------------------ */
/* A writer opening the file while a migration is in the gate's window */

struct ft_race {
	struct ft *ft;
	enum migrc_file_race where;
	bool fired;
	struct completion go, opened, migrated, done;
	int err;
};

static struct ft_race *ft_race_now;

/* The writer: open for write, then write and publish every page. */
static int ft_writer_fn(void *arg)
{
	struct ft_race *race = arg;
	struct ft *ft = race->ft;
	struct file *w;
	int i;

	wait_for_completion(&race->go);
	w = ft_open(ft, O_WRONLY);
	complete(&race->opened);
	if (IS_ERR(w)) {
		race->err = PTR_ERR(w);
	} else {
		/*
		 * A write would wait for the folio the migration holds
		 * locked, holding a reference that fails its migration: the
		 * write lands in the old folio, mapped again, and proves
		 * nothing.  Write once the migration is done.
		 */
		wait_for_completion(&race->migrated);
		for (i = 0; i < ft->nr && !race->err; i++) {
			race->err = ft_write_word(w, i, FT_NEW);
			ft_publish(ft, i, FT_NEW);
		}
		ft_close(w);
	}
	complete(&race->done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/* Replaces migrc_file_race_point(): let the writer open, at one point. */
static void ft_race_point(struct folio *folio, enum migrc_file_race where)
{
	struct ft_race *race = ft_race_now;

	if (where != race->where || race->fired)
		return;
	race->fired = true;
	complete(&race->go);
	wait_for_completion(&race->opened);
}

struct ft_writer {
	struct task_struct *task;
	struct completion *go, *migrated;
};

/* Never leave a writer waiting, whatever assertion ended the case. */
static void ft_stop_writer(void *arg)
{
	struct ft_writer *w = arg;

	complete_all(w->go);
	if (w->migrated)
		complete_all(w->migrated);
	kthread_stop(w->task);
	put_task_struct(w->task);
}

static void ft_start_writer(struct kunit *test, int (*fn)(void *), void *arg,
			    struct completion *go, struct completion *migrated)
{
	struct ft_writer *w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, w);
	w->go = go;
	w->migrated = migrated;
	w->task = kthread_run(fn, arg, "migrc_fwr");
	KUNIT_ASSERT_FALSE(test, IS_ERR(w->task));
	get_task_struct(w->task);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ft_stop_writer, w), 0);
}

static const enum migrc_file_race ft_race_points[] = {
	MIGRC_FILE_RACE_BEFORE_MARK,
	MIGRC_FILE_RACE_BEFORE_RECHECK,
	MIGRC_FILE_RACE_AFTER_RECHECK,
};

static void ft_race_desc(const enum migrc_file_race *where, char *desc)
{
	static const char * const names[] = {
		"writer_before_mark", "writer_before_recheck", "writer_after_recheck",
	};

	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", names[*where]);
}

KUNIT_ARRAY_PARAM(ft_race, ft_race_points, ft_race_desc);

/*
 * Stop the migration of a folio at one point of migrc_file_unmap_end()
 * and let a writer open the file there.  Before
 * the mark, the migration's re-check must see the writer and flush; after
 * the re-check, the writer's gate must flush; in between, both do.  Every
 * case: no CPU reads old data after the writer published the new.
 */
static void migrc_file_test_race(struct kunit *test)
{
	struct ft *ft = ft_setup(test, MAP_SHARED);
	struct ft_race *race = kunit_kzalloc(test, sizeof(*race), GFP_KERNEL);
	unsigned long deferred, gate;
	long ineligible;

	KUNIT_ASSERT_NOT_NULL(test, race);
	/*
	 * One folio: once the writer is in, the others would not defer, and
	 * their mainline flush (the whole mm on x86) would hide a missing
	 * flush of the first.
	 */
	ft->nr = 1;
	race->ft = ft;
	race->where = *(const enum migrc_file_race *)test->param_value;
	init_completion(&race->go);
	init_completion(&race->opened);
	init_completion(&race->migrated);
	init_completion(&race->done);
	ft_race_now = race;

	ft_start_writer(test, ft_writer_fn, race, &race->go, &race->migrated);
	ft_start_readers(ft);
	deferred = migrc_kunit_event(MIGRC_DEFERRED);
	gate = migrc_kunit_event(MIGRC_FILE_GATE);
	ineligible = ft_stat(MIGRC_STAT_INELIGIBLE_FLUSH);

	kunit_activate_static_stub(test, migrc_file_race_point, ft_race_point);
	ft_migrate_all(ft);
	kunit_deactivate_static_stub(test, migrc_file_race_point);
	if (!race->fired)
		complete(&race->go);
	complete(&race->migrated);
	wait_for_completion(&race->done);

	KUNIT_EXPECT_TRUE(test, race->fired);
	KUNIT_EXPECT_EQ(test, race->err, 0);
	switch (race->where) {
	case MIGRC_FILE_RACE_BEFORE_MARK:
		/* The writer found no mark; the re-check found the writer. */
		KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FILE_GATE), gate);
		KUNIT_EXPECT_GT(test, ft_stat(MIGRC_STAT_INELIGIBLE_FLUSH), ineligible);
		KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_DEFERRED), deferred);
		break;
	case MIGRC_FILE_RACE_BEFORE_RECHECK:
		KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FILE_GATE) - gate, 1UL);
		KUNIT_EXPECT_GT(test, ft_stat(MIGRC_STAT_INELIGIBLE_FLUSH), ineligible);
		KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_DEFERRED), deferred);
		break;
	case MIGRC_FILE_RACE_AFTER_RECHECK:
		/* The folio deferred; the writer's gate flushed it. */
		KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_FILE_GATE) - gate, 1UL);
		KUNIT_EXPECT_EQ(test, migrc_kunit_event(MIGRC_DEFERRED) - deferred, 1UL);
		break;
	}
	ft_check_readers(ft);
}

#define FT_RACE_ROUNDS	100

struct ft_rand {
	struct ft *ft;
	u64 value;
	unsigned int delay_us;
	struct completion go, done;
	bool stop;
	int err;
};

/* Each round: after a random delay, open for write, write, publish, close. */
static int ft_rand_writer_fn(void *arg)
{
	struct ft_rand *r = arg;
	struct ft *ft = r->ft;
	struct file *w;
	int i;

	for (;;) {
		wait_for_completion(&r->go);
		if (READ_ONCE(r->stop) || kthread_should_stop())
			break;
		udelay(r->delay_us);
		w = ft_open(ft, O_WRONLY);
		if (IS_ERR(w)) {
			r->err = PTR_ERR(w);
		} else {
			for (i = 0; i < ft->nr && !r->err; i++) {
				r->err = ft_write_word(w, i, r->value);
				ft_publish(ft, i, r->value);
			}
			ft_close(w);
		}
		complete(&r->done);
	}
	complete(&r->done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/*
 * FT_RACE_ROUNDS rounds of: migrate the whole file to the other node
 * while a writer opens it after a random delay and writes a new, larger
 * value to every page.  Each round one side or both must notice the
 * other; over the rounds, both the migration's re-check (or its early
 * eligibility check) and the writer's gate must have fired, and no CPU
 * may read a value older than the one published.
 */
static void migrc_file_test_race_random(struct kunit *test)
{
	struct ft *ft = ft_setup(test, MAP_PRIVATE);
	struct ft_rand *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	unsigned long gate = migrc_kunit_event(MIGRC_FILE_GATE);
	unsigned long deferred = migrc_kunit_event(MIGRC_DEFERRED);
	long ineligible = ft_stat(MIGRC_STAT_INELIGIBLE_FLUSH);
	int round, failed, moved = 0;

	KUNIT_ASSERT_NOT_NULL(test, r);
	r->ft = ft;
	init_completion(&r->go);
	init_completion(&r->done);
	ft_start_writer(test, ft_rand_writer_fn, r, &r->go, NULL);

	ft_start_readers(ft);
	for (round = 0; round < FT_RACE_ROUNDS && !r->err; round++) {
		r->value = FT_NEW + round;
		r->delay_us = get_random_u32_below(2000);
		complete(&r->go);
		/*
		 * The writer's folio references may fail some migrations: a
		 * few folios may then move in a later round, or never.
		 */
		moved += ft_migrate(ft, &failed) - failed;
		wait_for_completion(&r->done);
	}
	WRITE_ONCE(r->stop, true);
	complete(&r->go);
	wait_for_completion(&r->done);

	KUNIT_EXPECT_EQ(test, r->err, 0);
	kunit_info(test, "%d rounds: %d folios moved, %lu deferred, %lu gate flushes, %ld re-check flushes\n",
		   round, moved, migrc_kunit_event(MIGRC_DEFERRED) - deferred,
		   migrc_kunit_event(MIGRC_FILE_GATE) - gate,
		   ft_stat(MIGRC_STAT_INELIGIBLE_FLUSH) - ineligible);
	KUNIT_EXPECT_GT(test, migrc_kunit_event(MIGRC_DEFERRED), deferred);
	KUNIT_EXPECT_GT(test, migrc_kunit_event(MIGRC_FILE_GATE), gate);
	ft_check_readers(ft);
}

static struct kunit_case migrc_file_test_cases[] = {
	KUNIT_CASE_PARAM(migrc_file_test_deferred, ft_map_gen_params),
	KUNIT_CASE(migrc_file_test_flush_pending),
	KUNIT_CASE_PARAM(migrc_file_test_open_write, ft_map_gen_params),
	KUNIT_CASE(migrc_file_test_checker_writer),
	KUNIT_CASE(migrc_file_test_truncate_partial),
	KUNIT_CASE(migrc_file_test_invalidate),
	KUNIT_CASE(migrc_file_test_evict),
	KUNIT_CASE(migrc_file_test_fadvise_dontneed),
	KUNIT_CASE(migrc_file_test_map_fixed),
#ifdef CONFIG_UPROBES
	KUNIT_CASE(migrc_file_test_uprobe),
#endif
	KUNIT_CASE(migrc_file_test_not_deferred),
	KUNIT_CASE(migrc_file_test_otrunc_reextend),
	KUNIT_CASE_PARAM(migrc_file_test_race, ft_race_gen_params),
	KUNIT_CASE_SLOW(migrc_file_test_race_random),
	{}
};

static struct kunit_suite migrc_file_test_suite = {
	.name = "migrc_file",
	.suite_init = ft_suite_init,
	.suite_exit = ft_suite_exit,
	.init = ft_init,
	.exit = ft_exit,
	.test_cases = migrc_file_test_cases,
};

kunit_test_suite(migrc_file_test_suite);

MODULE_DESCRIPTION("migrc KUnit tests with page-cache folios");
MODULE_LICENSE("GPL");
