#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fill in the cover letter git format-patch --cover-letter wrote.

usage: cover-letter.py COVER.patch RESULTS_DIR

The subject and blurb are generated: the problem and the design, the
answer to each point of the review of the first posting, and the latest
figures of `make run`, read from RESULTS_DIR/<arch>.json (never typed in).
"""
import json
import os
import sys

SUBJECT = "mm: migrc: skip the TLB shootdown when migrating read-only folios"

INTRO = """\
Page migration must make sure no CPU keeps a cached translation to the
old copy of a folio before it frees it, so migrate_pages_batch() sends a
TLB shootdown for every batch of up to 512 folios: an IPI round on x86,
an SBI fence on riscv, one broadcast TLBI per page on arm64.  On tiered
memory machines (CXL, NUMA tiering) migration never stops, and neither
do the shootdowns.

If every mapping of a folio is read-only, a stale translation can only
read, and the old copy holds exactly the data of the new one.  migrc keeps
such old folios, unchanged and off the allocator, on pending batches and
skips the flush; batches are retired later, many at a time, with one
flush.  Every path that could let a stale entry see wrong data (a write
fault reusing the page, a GUP write, zapping or moving a migration entry,
memory pressure, CPU or memory offline, suspend) flushes or retires
first.  Anonymous, non-KSM, small folios in private VMAs qualify, for
reasons that do not need the new page at once; so, in the last five
patches, do small page-cache folios of regular files on filesystems that
opt in (ext2, ext4), while their inode has no writer: an inode that
gains one (open for write, truncate) flushes every CPU first, the
writer gate.  Everything else migrates as before.

This is a new take on the idea of Byungchul Park's MIGRC/LUF series.
Unlike LUF, old folios never reach the buddy allocator before they are
retired, file-backed folios defer behind a writer gate instead of hooks
in the VFS write paths, arm64 really skips its per-page TLBI, and each
flush point has a test that fails without it.

Patch 1 is a riscv fix that stands on its own and would be sent
separately: SBI remote fences reached harts on their way offline, which
can leave the sender spinning in firmware (found by the CPU hotplug
stress test under QEMU).
"""

# (review point, where it is answered, the test that shows it)
REVIEW = [
    ("Too big, no comments, uninformative names",
     "{npatches} patches, the core in six (the interface and arch "
     "contract, generations, retirement, retirement policies, batches, "
     "run-time control), each "
     "building on x86_64, arm64 and riscv (make check-series); every "
     "function documented (kernel-doc -Wall clean); "
     "Documentation/mm/migrc.rst",
     "make check"),
    ("No way to tell the invariant holds (LUF review: a debug mode was asked for)",
     "CONFIG_MIGRC_DEBUG records every deferred PTE until its flush and "
     "reports, with mm, address, old and new PTE and batch generation, one "
     "made writable or pointed elsewhere before it, then fails safe "
     "(\"mm/rmap: record deferred PTEs for the migrc debug checker\" and "
     "the two patches after it)",
     "migrc_mm_test_debug_checker; make mutate reports where the checker "
     "fired with each hook switched off"),
    ("File-backed folios (LUF: hooks in the VFS write paths, a global lock "
     "in sys_write(), no proof every content change was covered)",
     "no write-path hooks: a file folio defers only while its inode has no "
     "writer, and get_write_access(), which every content change of a "
     "gated filesystem passes, flushes every CPU first when the file has "
     "deferrals; a store-buffering pair with the migration's re-check "
     "closes the race (\"mm/migrc: flush every CPU before a file with "
     "deferred flushes gains a writer\"); the cost is one flush per "
     "writer open, none when nothing of the file is pending",
     "migrc_file_test_open_write, truncate_partial, race, checker_writer; "
     "guest file scenarios (write, writable shared map, truncate, "
     "O_TRUNC, running text)"),
    ("CONFIG_MIGRC as a chicken bit",
     "CONFIG_MIGRC is default y where the arch provides the backend; the "
     "run-time switch is vm.migrc_enabled and migrc=off",
     "migrc_test_knob_parse, migrc_test_sysctl_rejects, migrc_test_boot_param, migrc_mm_test_switch_off"),
    ("smp_mb__after_atomic() misuse, WRITE_ONCE() for synchronisation",
     "orderings are fully ordered atomics or locks, each lockless read "
     "names its pairing in a comment (lib/migrc/)",
     "the KUnit suites under KCSAN (make test)"),
    ("generation counter must be atomic64",
     "migrc_gen and mm->migrc_seq are atomic64_t; generation comparisons "
     "are wrap-safe",
     "migrc_test_gen_compare"),
    ("flushing the same CPUs twice",
     "retirement folds all selected batches and sends one flush for the "
     "union, after trimming CPUs known clean",
     "migrc_mm_test_retire_cost: 1, 10 or 100 batches cost one round"),
    ("(a) a new PTE established while flushes are pending",
     "deferral counts in mm->tlb_flush_batched, so every zap, mremap, "
     "mprotect, madvise and uffd-wp path runs flush_tlb_batched_pending() "
     "first (\"mm/rmap: defer the flush of read-only PTEs of migrating "
     "folios\")",
     "migrc_mm_test_munmap_map_fixed, madv_dontneed, mprotect, "
     "uffd_wp_resolve, numa_hint; guest scenarios munmap-map-fixed, "
     "madv-dontneed, mremap"),
    ("(b) references taken through get_user_pages()",
     "FOLL_FORCE writes flush in follow_page_pte() (\"mm/gup: flush "
     "deferred migrations before FOLL_FORCE writes\"); other GUP writes go "
     "through the write-fault hook",
     "migrc_mm_test_gup_write; guest scenarios proc-self-mem, "
     "process_vm_writev"),
    ("(c) deferring for long makes later events pay full flushes",
     "a batch lives at most vm.migrc_max_age_ms (2 s), pending pages are "
     "capped (vm.migrc_max_pending_pages), and flush points flush one mm, "
     "only when it has deferrals not yet flushed",
     "migrc_test_age, migrc_test_age_worker, migrc_test_cap_refuses, migrc_test_cap_retires_all, migrc_test_mm_flush"),
    ("(d) mechanisms that inspect PTEs without knowing a flush is pending",
     "a PTE of an mm with a TLB flush pending is never taken for read-only "
     "(mprotect, NUMA hinting, and fork, which now says so: \"fork: raise "
     "tlb_flush_pending while write-protecting the parent\"); "
     "mmu_gather users see deferrals through tlb_flush_batched",
     "migrc_mm_test_flush_pending; the write-heavy run of make run"),
]

UNITS = {"x86_64": "IPI rounds", "arm64": "broadcast TLBIs",
         "riscv": "remote fences"}


def figures(results):
    lines = []
    for arch in ("x86_64", "arm64", "riscv"):
        path = os.path.join(results, arch + ".json")
        if not os.path.exists(path):
            lines.append(f"  {arch}: no make run results yet")
            continue
        with open(path) as f:
            d = json.load(f)
        lines.append(f"  {arch} ({UNITS[arch]} per 1000 migrated pages, off -> on):")
        tiers = d["config"].get("memory_tiers", 0)
        for s in d["summary"]:
            if s["per1000_off"] != s["per1000_off"] or \
               s["per1000_on"] != s["per1000_on"]:
                continue
            if s["workload"] == "tiering" and tiers < 2:
                continue
            red = s["reduction_pct"]
            rt = s["runtime_ratio"]
            lines.append(
                f"    {s['workload']:12} {s['mapping']:18} "
                f"{s['per1000_off']:8.2f} -> {s['per1000_on']:7.2f}"
                + (f"  ({red:5.1f}% fewer)" if red is not None else "")
                + (f"  runtime x{rt:.3f}" if rt else "")
                + f"  errors {s['integrity_errors']}")
        if tiers < 2:
            lines.append("    (no slower memory tier in this guest: no tiering figures)")
    return "\n".join(lines)


def blurb(results, npatches):
    out = [INTRO, "The review of the first posting, point by point:\n"]
    for point, where, test in REVIEW:
        where = where.replace("{npatches}", str(npatches))
        out.append(f"- {point}:\n  {where}.\n  Shown by: {test}.\n")
    out.append("Measured with `make run` (QEMU TCG, 4 CPUs, 4 GiB, two NUMA\n"
               "nodes; migrc off and on in the same boot; the default cap is\n"
               "1/64 of RAM, and ws=2cap moves twice it; \"+tuned\" allows a\n"
               "quarter of RAM pending for 5 s; tiering needs a slower tier,\n"
               "which only the x86_64 guest has, through ACPI HMAT):\n")
    out.append(figures(results))
    out.append("")
    return "\n".join(out)


def main():
    cover, results = sys.argv[1], sys.argv[2]
    with open(cover) as f:
        text = f.read()
    text = text.replace("*** SUBJECT HERE ***", SUBJECT)
    npatches = len([f for f in os.listdir(os.path.dirname(cover) or ".")
                    if f.endswith(".patch") and not f.startswith("0000-")])
    text = text.replace("*** BLURB HERE ***", blurb(results, npatches))
    with open(cover, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
