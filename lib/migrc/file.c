// SPDX-License-Identifier: GPL-2.0
/*
 * migrc for page-cache folios of regular files: which ones may defer, and
 * the writer gate that makes it safe.
 *
 * A stale read-only translation to an old file folio is harmless while
 * the new folio keeps the same content (DESIGN.md, section 2).  Every way
 * to change the content of a regular file's cached folio without changing
 * a PTE (write(2), splice, fallocate, truncate, a writable shared mapping,
 * kernel writers) needs a writer reference, which only get_write_access()
 * hands out, on filesystems that promise so (FS_MIGRC_GATED).  Every
 * other change (invalidation, eviction, truncation from elsewhere) unmaps
 * the new folio with a flush of the mm, which removes the stale entries
 * too.  So a file folio defers only while its inode has no writer and no
 * writable shared mapping, and an inode that gains a writer while
 * deferrals of its folios may still be cached flushes first.
 *
 * Writeback is the exception: it runs with no writer and may change a
 * dirty folio in place (it zeroes the part past EOF of the last folio;
 * ext4 drops the uptodate flag of a folio whose delayed allocation failed
 * for good, and the next fault or read(2) refills it from disk, mapped).
 * So a dirty folio of a mapping that is written back does not defer; a
 * clean one is dirtied only by a writer, which passes the gate first.
 *
 * The gate is a store-buffering pair, like the one between
 * collapse_file() and do_dentry_open() for READ_ONLY_THP_FOR_FS:
 *
 *   migration (migrc_file_unmap_end())    writer (get_write_access())
 *   clear and record the PTEs             i_writecount++  (full fence)
 *   set AS_MIGRC_DEFERRED  (full fence)   test AS_MIGRC_DEFERRED
 *   read i_writecount                     if set: flush every CPU,
 *   if > 0: flush own batch, no defer             then clear it
 *
 * At least one side sees the other.  If the writer sees the mark, the PTE
 * clears before it are visible and its flush of every CPU removes their
 * translations, for batches open or sealed, in every mm.  Otherwise the
 * migration sees the writer and flushes its own batch while it still
 * holds the folio lock, before the new folio enters the page cache, so
 * the writer cannot change the new folio first.  The writer clears the
 * mark only after its flush completed, or a second writer could find it
 * clear and write before the first flush ends; a mark set later than the
 * clear reaches its re-check after the writer's increment, and sees it.
 *
 * The mark is never counted down: the mapping is not pinned by anything
 * migrc keeps, and an inode may be evicted while its old folios are
 * pending.  A stale mark costs one spurious flush of every CPU.
 */

#include <kunit/static_stub.h>
#include <kunit/visibility.h>
#include <linux/backing-dev.h>
#include <linux/fs.h>
#include <linux/migrc.h>
#include <linux/migrc_gate.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/shmem_fs.h>
#include <linux/vmstat.h>

#include "migrc.h"

static_assert(AS_MIGRC_DEFERRED == MIGRC_AS_DEFERRED);

/**
 * migrc_file_folio_eligible() - may a page-cache folio defer its flush?
 * @folio: a locked, small, non-anonymous folio about to be unmapped
 *
 * Only folios of regular files of filesystems that route every content
 * change through a writer (FS_MIGRC_GATED): not FUSE, whose NOTIFY_STORE
 * writes cached folios with no writer; not shmem, whose files can be
 * written without one (memfd, SysV shm); not block devices, DAX or
 * guest_memfd; not aliased mappings, whose writers count elsewhere.  The
 * inode must have no writer (i_writecount <= 0; negative while it is
 * executed) and no writable shared mapping, and the folio must be clean
 * if the mapping is written back (writeback may change a dirty folio with
 * no writer around).  The writer part is only an early out:
 * migrc_file_unmap_end() checks it again once the PTEs are cleared.
 *
 * Context: @folio locked, so its mapping and inode stay.
 * Return: true if @folio's read-only entries may defer.
 */
bool migrc_file_folio_eligible(struct folio *folio)
{
	struct address_space *mapping = folio->mapping;
	struct inode *host;

	VM_WARN_ON_ONCE_FOLIO(!folio_test_locked(folio), folio);
	if (!mapping || folio_test_anon(folio) || folio_test_swapcache(folio))
		return false;
	host = mapping->host;
	return host && host->i_mapping == mapping && S_ISREG(host->i_mode) &&
	       (host->i_sb->s_type->fs_flags & FS_MIGRC_GATED) &&
	       !shmem_mapping(mapping) && !IS_DAX(host) &&
	       !mapping_inaccessible(mapping) &&
	       atomic_read(&host->i_writecount) <= 0 &&
	       !mapping_writably_mapped(mapping) &&
	       !(folio_test_dirty(folio) && mapping_can_writeback(mapping));
}

/* Out of line so that the race test can stop the migration here. */
VISIBLE_IF_KUNIT noinline void
migrc_file_race_point(struct folio *folio, enum migrc_file_race where)
{
	KUNIT_STATIC_STUB_REDIRECT(migrc_file_race_point, folio, where);
}
EXPORT_SYMBOL_IF_KUNIT(migrc_file_race_point);

/**
 * migrc_file_unmap_end() - keep a file folio's deferral only without a writer
 * @batch: the round's open batch, which recorded @folio's entries
 * @folio: the page-cache folio whose read-only entries were deferred
 *
 * Marks @folio's mapping, then checks again that the inode has no writer
 * and no writable shared mapping.  If it gained one since
 * migrc_file_folio_eligible(), flushes @batch now, and @folio is freed
 * the mainline way.
 *
 * Context: process context with interrupts enabled; @folio locked and
 * still in the page cache, all its PTEs cleared.
 * Return: true if @folio must be kept in @batch.
 */
bool migrc_file_unmap_end(struct migrc_batch *batch, struct folio *folio)
{
	struct address_space *mapping = folio->mapping;
	struct inode *host = mapping->host;

	VM_WARN_ON_ONCE_FOLIO(!folio_test_locked(folio), folio);

	migrc_file_race_point(folio, MIGRC_FILE_RACE_BEFORE_MARK);
	/*
	 * Fully ordered: the PTE clears recorded in @batch happen before the
	 * mark, and the mark before the i_writecount read below.  Pairs
	 * with the full fence of the increment in get_write_access()
	 * (include/linux/fs.h), which tests the mark after it.  Always the
	 * read-modify-write, even when the bit looks set: a writer may be
	 * clearing it after a flush that did not cover these clears, and
	 * only our own store, ordered after it, makes the pairing hold.
	 */
	test_and_set_bit(AS_MIGRC_DEFERRED, &mapping->flags);
	migrc_file_race_point(folio, MIGRC_FILE_RACE_BEFORE_RECHECK);

	if (!migrc_hook_disabled(MIGRC_HOOK_FILE_RECHECK) &&
	    (atomic_read(&host->i_writecount) > 0 ||
	     mapping_writably_mapped(mapping))) {
		migrc_batch_flush(batch);
		return false;
	}
	migrc_file_race_point(folio, MIGRC_FILE_RACE_AFTER_RECHECK);
	return true;
}

/**
 * __migrc_mapping_writer() - an inode with deferred flushes gained a writer
 * @mapping: the inode's mapping, marked AS_MIGRC_DEFERRED
 *
 * Called by get_write_access() after it gained the writer.  Batches
 * holding this file's old folios may still be open in migration rounds
 * that other tasks run, and nothing records which CPUs cache their
 * translations per file, so this invalidates every user translation on
 * every CPU.  The batches then retire without a flush of their own.
 *
 * Context: process context with interrupts enabled; may hold sleeping
 * locks, no spinlock.
 */
void __migrc_mapping_writer(struct address_space *mapping)
{
	if (migrc_hook_disabled(MIGRC_HOOK_FILE_GATE)) {
		migrc_debug_writer(mapping);
		return;
	}
	migrc_flush_all();
	count_vm_event(MIGRC_FILE_GATE);
	/*
	 * Clear the mark only once every CPU is flushed: a writer that finds
	 * it clear writes at once.  Orders the completed flush before the
	 * clear; a migration that marks again after the clear sees our
	 * increment of i_writecount (see migrc_file_unmap_end()).
	 */
	smp_mb__before_atomic();
	clear_bit(AS_MIGRC_DEFERRED, &mapping->flags);
}
EXPORT_SYMBOL(__migrc_mapping_writer);
