/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the guest programs: bench.c defines them, init.c,
 * scenarios.c, filescenarios.c, detector.c, stress.c, stressng.c and selftests.c use
 * them; scenarios.c defines scenario_listed().
 */
#ifndef MIGRC_GUEST_H
#define MIGRC_GUEST_H

#include <stdint.h>
#include <sys/types.h>

#define MPOL_MF_MOVE		(1 << 1)
#define MPOL_MF_MOVE_ALL	(1 << 2)
#define MPOL_DEFAULT		0
#define MPOL_PREFERRED		1

/* Where files_mount() mounts the ext2 image (scripts/files-image.sh). */
#define FILES_MNT		"/mnt"

/*
 * A read the compiler must issue every time, from memory: the readers
 * exist to go through the TLB, stale or not.  Relaxed: no ordering is
 * needed beyond the acquire each reader does on its own flag.
 */
#define READ_U64(p)		__atomic_load_n((p), __ATOMIC_RELAXED)

int bench_main(void);
int scenarios_main(void);
int stress_main(void);
int bootparams_main(void);
int stressng_main(void);
int selftests_main(void);
int files_main(void);
int files_mount(void);
int text_spawn(int n, int ms, pid_t *pid);
long text_pages(pid_t pid, void **pages, long max);
int text_helper_main(int ms);

double now(void);
int write_file(const char *path, const char *val);
long read_long(const char *path);
long vmstat_value(const char *key);
long migrc_stat_value(const char *name);
void pin(int cpu);
long move_pages(void **pages, long n, int node, int flags);
int scenario_listed(const char *list, const char *name);

#endif /* MIGRC_GUEST_H */
