// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for the part of libnuma that tools/testing/selftests/mm/
 * migration.c uses, written for the migrc guest and linked statically
 * into it on all three architectures.
 *
 * Why not the real library: Debian 12 has no riscv64 libnuma-dev (riscv64
 * is not a bookworm architecture), and the arm64 one would need dpkg
 * multiarch on the build machine.  One small shim that behaves the same
 * everywhere is simpler than three different builds.  It follows
 * libnuma's documented behaviour for these calls only:
 *
 *   numa_available()          -1 if the kernel has no NUMA syscalls, else 0
 *   numa_max_possible_node()  the highest node number the kernel's node
 *                             masks can hold (from Mems_allowed's width,
 *                             or the possible nodes without cpusets)
 *   numa_num_task_cpus()      CPUs in the task's affinity mask
 *   numa_all_nodes_ptr        the nodes in the task's Mems_allowed (the
 *                             nodes with memory without cpusets)
 *   move_pages()              the system call
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "numa.h"
#include "numaif.h"

#define BITS_PER_LONG	(8 * sizeof(unsigned long))

static struct bitmask all_nodes;
struct bitmask *numa_all_nodes_ptr = &all_nodes;

static int bitmask_alloc(struct bitmask *bmp, unsigned long bits)
{
	bmp->maskp = calloc((bits + BITS_PER_LONG - 1) / BITS_PER_LONG,
			    sizeof(unsigned long));
	bmp->size = bmp->maskp ? bits : 0;
	return bmp->size;
}

static void bitmask_set(struct bitmask *bmp, unsigned long bit)
{
	if (bit < bmp->size)
		bmp->maskp[bit / BITS_PER_LONG] |= 1UL << (bit % BITS_PER_LONG);
}

/*
 * Without cpusets (CONFIG_CPUSETS, as in our guest) the status file has
 * no Mems_allowed, and libnuma takes the nodes the system has: here the
 * nodes with memory ("0-1" in /sys/devices/system/node/has_memory), in a
 * mask as wide as the possible nodes need, in whole longs.
 */
static void read_node_list(struct bitmask *bmp)
{
	char buf[256] = "", *p;
	unsigned long a, b, max = 0;
	FILE *f = fopen("/sys/devices/system/node/possible", "r");

	/* The last number of the list ("0-1") is the highest. */
	if (f && fgets(buf, sizeof(buf), f)) {
		for (p = buf + strlen(buf); p > buf && !isdigit(p[-1]); p--)
			;
		while (p > buf && isdigit(p[-1]))
			p--;
		max = strtoul(p, NULL, 10);
	}
	if (f)
		fclose(f);
	if (!bitmask_alloc(bmp, (max / BITS_PER_LONG + 1) * BITS_PER_LONG))
		return;
	f = fopen("/sys/devices/system/node/has_memory", "r");
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f))
		for (p = strtok(buf, ",\n"); p; p = strtok(NULL, ",\n")) {
			int n = sscanf(p, "%lu-%lu", &a, &b);

			if (n == 1)
				b = a;
			for (; n >= 1 && a <= b; a++)
				bitmask_set(bmp, a);
		}
	fclose(f);
}

/*
 * Parse "Mems_allowed:\t00000000,00000003" from /proc/self/status: 32-bit
 * words, most significant first.  Sets @bmp's size to the mask's width.
 * Returns 0 if there is no such line.
 */
static int read_mems_allowed(struct bitmask *bmp)
{
	char line[4096], *hex, *p;
	unsigned long bit = 0;
	size_t digits = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Mems_allowed:", 13))
			break;
	fclose(f);
	if (strncmp(line, "Mems_allowed:", 13))
		return 0;
	hex = line + 13;
	for (p = hex; *p; p++)
		digits += !!strchr("0123456789abcdefABCDEF", *p);
	if (!digits || !bitmask_alloc(bmp, digits * 4))
		return 0;
	/* From the last digit (node 0) backwards. */
	for (p = hex + strlen(hex); p-- > hex; ) {
		unsigned long v;
		int i;

		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			continue;
		for (i = 0; i < 4; i++, bit++)
			if (v & (1UL << i))
				bitmask_set(bmp, bit);
	}
	return 1;
}

/* libnuma also sets its masks up before main(). */
static void __attribute__((constructor)) numa_shim_init(void)
{
	if (!read_mems_allowed(&all_nodes))
		read_node_list(&all_nodes);
}

int numa_available(void)
{
	if (syscall(SYS_get_mempolicy, NULL, NULL, 0UL, NULL, 0UL) < 0 &&
	    errno == ENOSYS)
		return -1;
	return 0;
}

int numa_max_possible_node(void)
{
	return all_nodes.size ? (int)all_nodes.size - 1 : 0;
}

int numa_num_task_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	return CPU_COUNT(&set);
}

int numa_bitmask_isbitset(const struct bitmask *bmp, unsigned int n)
{
	if (n >= bmp->size)
		return 0;
	return !!(bmp->maskp[n / BITS_PER_LONG] & (1UL << (n % BITS_PER_LONG)));
}

long move_pages(int pid, unsigned long count, void **pages, const int *nodes,
		int *status, int flags)
{
	return syscall(SYS_move_pages, pid, count, pages, nodes, status, flags);
}
