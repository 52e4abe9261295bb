// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin for `make profile`: counts the guest instructions
 * each translation block executes, and writes the counts out whenever
 * asked to.  Guest CPU time under TCG is host time shared by the vCPUs,
 * so on/off ratios of it mostly measure scheduling; instruction counts
 * measure the work itself.
 *
 * Usage: -plugin insns.so,dir=DIR.  Writing a label into DIR/trigger
 * (atomically: write elsewhere, rename) appends "label vaddr insns
 * execs" for every block that ran since the last trigger to DIR/out,
 * then zeroes the counts and removes the trigger; the label "reset"
 * only zeroes them.  Counts are updated inline, without atomics, so
 * vCPUs running the same block at once may lose a few.
 *
 * Debian's QEMU ships no plugin header: the few declarations needed
 * are those of QEMU_PLUGIN_VERSION 1 (QEMU 7.2, include/qemu/qemu-plugin.h),
 * with its names and types, which checkpatch's typedef, extern and
 * uint64_t warnings are about.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef uint64_t qemu_plugin_id_t;

typedef struct {
	const char *target_name;
	struct {
		int min;
		int cur;
	} version;
	bool system_emulation;
	union {
		struct {
			int smp_vcpus;
			int max_vcpus;
		} system;
	};
} qemu_info_t;

struct qemu_plugin_tb;

enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
					      enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);

#define EXPORT __attribute__((visibility("default")))

EXPORT int qemu_plugin_version = 1;

struct block {
	uint64_t vaddr, insns, execs;
	struct block *next;
};

static struct block *blocks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char trigger[4096], out[4096];

static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	struct block *b = calloc(1, sizeof(*b));

	if (!b)
		return;
	b->vaddr = qemu_plugin_tb_vaddr(tb);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &b->insns,
						 qemu_plugin_tb_n_insns(tb));
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &b->execs, 1);
	pthread_mutex_lock(&lock);
	b->next = blocks;
	blocks = b;
	pthread_mutex_unlock(&lock);
}

static void dump(const char *label)
{
	bool reset = !strcmp(label, "reset");
	FILE *f = reset ? NULL : fopen(out, "a");
	struct block *b;

	pthread_mutex_lock(&lock);
	for (b = blocks; b; b = b->next) {
		if (f && b->insns)
			fprintf(f, "%s %" PRIx64 " %" PRIu64 " %" PRIu64 "\n",
				label, b->vaddr, b->insns, b->execs);
		b->insns = 0;
		b->execs = 0;
	}
	pthread_mutex_unlock(&lock);
	if (f)
		fclose(f);
}

static void *poll_trigger(void *arg)
{
	char label[64];
	FILE *f;

	for (;;) {
		f = fopen(trigger, "r");
		if (!f) {
			usleep(20000);
			continue;
		}
		if (!fgets(label, sizeof(label), f))
			snprintf(label, sizeof(label), "unlabelled");
		fclose(f);
		label[strcspn(label, "\n ")] = '\0';
		dump(label);
		unlink(trigger);
	}
	return NULL;
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
			       int argc, char **argv)
{
	const char *dir = NULL;
	pthread_t thread;
	int i;

	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "dir=", 4))
			dir = argv[i] + 4;
	if (!dir) {
		fprintf(stderr, "insns: give dir=DIR\n");
		return -1;
	}
	snprintf(trigger, sizeof(trigger), "%s/trigger", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
	return pthread_create(&thread, NULL, poll_trigger, NULL);
}
