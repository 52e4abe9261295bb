/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few libnuma calls the 6.12 mm selftests' migration.c makes, written
 * for the migrc guest (see numa.c for why not the real libnuma).
 */
#ifndef MIGRC_SHIM_NUMA_H
#define MIGRC_SHIM_NUMA_H

struct bitmask {
	unsigned long size;	/* in bits */
	unsigned long *maskp;
};

/* The nodes this task may allocate on (Mems_allowed). */
extern struct bitmask *numa_all_nodes_ptr;

int numa_available(void);
int numa_max_possible_node(void);
int numa_num_task_cpus(void);
int numa_bitmask_isbitset(const struct bitmask *bmp, unsigned int n);

#endif /* MIGRC_SHIM_NUMA_H */
