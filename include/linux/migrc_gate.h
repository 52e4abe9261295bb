/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The part of migrc that <linux/fs.h> needs: the writer gate.
 *
 * migrc defers the TLB flush of migrated page-cache folios only while their
 * inode has no writer, and marks the mapping (AS_MIGRC_DEFERRED) when it
 * does.  get_write_access() tests the mark after it gained the writer and
 * calls __migrc_mapping_writer(), which removes every stale translation
 * before the writer can change the content.  The protocol is described in
 * lib/migrc/file.c.  Kept apart from <linux/migrc.h> because fs.h is
 * included nearly everywhere.
 */
#ifndef _LINUX_MIGRC_GATE_H
#define _LINUX_MIGRC_GATE_H

struct address_space;

/*
 * The bit of address_space->flags that enum mapping_flags names
 * AS_MIGRC_DEFERRED in <linux/pagemap.h>, which fs.h cannot include.
 */
#define MIGRC_AS_DEFERRED	9

/*
 * Defined only with CONFIG_MIGRC; callers test IS_ENABLED(CONFIG_MIGRC)
 * first, so the call is compiled away without it.
 */
void __migrc_mapping_writer(struct address_space *mapping);

#endif /* _LINUX_MIGRC_GATE_H */
