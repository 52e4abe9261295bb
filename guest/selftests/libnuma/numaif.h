/* SPDX-License-Identifier: GPL-2.0 */
/*
 * move_pages(2) as libnuma's numaif.h declares it, for the migrc guest's
 * build of the mm selftests (see numa.c).  The MPOL_* constants come from
 * the kernel's own uapi header.
 */
#ifndef MIGRC_SHIM_NUMAIF_H
#define MIGRC_SHIM_NUMAIF_H

#include <linux/mempolicy.h>

long move_pages(int pid, unsigned long count, void **pages, const int *nodes,
		int *status, int flags);

#endif /* MIGRC_SHIM_NUMAIF_H */
