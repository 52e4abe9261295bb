#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Known upstream kernel reports, not counted as failures: print a console
# log with each such report replaced by one "@@known-report" line naming
# it.  scripts/run.sh and scripts/kunit.sh look for kernel reports in
# what this prints, so any report not matched here still fails the run.
#
# usage: known-reports.py LOG [VMLINUX]
#
# An entry matches one whole report, between KCSAN's "=====" lines, in
# every line that identifies it, and where it names a code address, what
# the kernel image has there (VMLINUX: without it, nothing matches).
# Each entry says why the report is not migrc's and what would fix it
# where it is.  Keep the list short: an entry hides every report that
# looks the same, whoever caused it.

import re
import subprocess
import sys

RULE = '=' * 66


def disasm(vmlinux, sym, off, count):
    """The instructions of @sym in @vmlinux up to @count or more after
    @sym+@off, as (offset from @sym+@off, instruction) pairs, decoded
    from the start of @sym; [] if it cannot tell."""
    try:
        nm = subprocess.run(['nm', vmlinux], capture_output=True, text=True,
                            check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    base = [int(l.split()[0], 16) for l in nm.splitlines()
            if l.endswith(' ' + sym) and len(l.split()) == 3]
    if len(base) != 1:
        return []
    at = base[0] + off
    try:
        out = subprocess.run(['objdump', '-d', '--no-show-raw-insn',
                              '--start-address=%#x' % base[0],
                              '--stop-address=%#x' % (at + 16 * count), vmlinux],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    insns = []
    for line in out.splitlines():
        m = re.match(r'\s*([0-9a-f]+):\s+(.*)', line)
        if m:
            insns.append((int(m.group(1), 16), m.group(2).strip()))
    return [(a - at, i) for a, i in insns]


def x86_tlbbatch_should_defer(block, vmlinux):
    """
    arch_tlbbatch_should_defer() (arch/x86/include/asm/tlbflush.h,
    upstream, unchanged by the series) decides whether to batch the flush
    with a plain read of mm_cpumask(mm), cpumask_any_but(), inlined into
    try_to_migrate_one() through should_defer_flush().  Other CPUs clear
    their bit in switch_mm_irqs_off() (arch/x86/mm/tlb.c, not instrumented:
    KCSAN_SANITIZE := n for arch/x86/mm), so KCSAN sees the value change
    with no writer: "race at unknown origin", a read of 8 bytes, one CPU's
    bit set or cleared.  A stale answer only picks the batched or the
    immediate flush, both correct.  The fix belongs upstream:
    data_race() around the read in arch_tlbbatch_should_defer().

    Matched: that header, that read, that stack (move_pages(2) or any
    other migration), old and new values of the guest's four CPUs
    differing in one bit, and in VMLINUX a call to __tsan_read8 just
    before the reported address followed by a find-first-bit (tzcnt/bsf)
    of the word read: the inlined cpumask_any_but().
    """
    head = re.search(r'^BUG: KCSAN: data-race in try_to_migrate_one\+(0x[0-9a-f]+)/0x[0-9a-f]+$',
                     block, re.M)
    if not head:
        return False
    off = int(head.group(1), 16)
    if not re.search(r'^race at unknown origin, with read to 0x[0-9a-f]+ of 8 bytes by task \d+ on cpu \d+:$',
                     block, re.M):
        return False
    frames = re.findall(r'^ ([A-Za-z_][\w.]*)\+0x[0-9a-f]+/0x[0-9a-f]+$', block, re.M)
    if frames[:3] != ['try_to_migrate_one', 'rmap_walk_anon', 'try_to_migrate']:
        return False
    value = re.search(r'^value changed: 0x([0-9a-f]+) -> 0x([0-9a-f]+)$', block, re.M)
    if not value:
        return False
    old, new = int(value.group(1), 16), int(value.group(2), 16)
    if old > 0xf or new > 0xf or bin(old ^ new).count('1') != 1:
        return False
    if not vmlinux:
        return False
    insns = disasm(vmlinux, 'try_to_migrate_one', off, 6)
    before = [i for a, i in insns if a < 0]
    after = [i for a, i in insns if a >= 0][:4]
    return (bool(before) and re.match(r'call\s+\S+\s+<__tsan_read8>', before[-1]) is not None
            and any(re.match(r'(tzcnt|bsf)\s', i) for i in after))


KNOWN = [
    ('x86 arch_tlbbatch_should_defer() reads mm_cpumask() racily (upstream)',
     x86_tlbbatch_should_defer),
]


def main():
    log = open(sys.argv[1], errors='replace').read().split('\n')
    vmlinux = sys.argv[2] if len(sys.argv) > 2 else None
    out, i = [], 0
    while i < len(log):
        if log[i].strip() == RULE and i + 1 < len(log) and log[i + 1].startswith('BUG: KCSAN:'):
            end = next((j for j in range(i + 1, len(log)) if log[j].strip() == RULE), None)
            if end is not None:
                block = '\n'.join(l.rstrip() for l in log[i + 1:end])
                name = next((n for n, match in KNOWN if match(block, vmlinux)), None)
                if name:
                    # Without the "BUG: KCSAN:" that would count it.
                    what = log[i + 1].strip()[len('BUG: KCSAN: '):]
                    out.append('@@known-report %s, KCSAN %s' % (name, what))
                    i = end + 1
                    continue
        out.append(log[i])
        i += 1
    sys.stdout.write('\n'.join(out))


if __name__ == '__main__':
    main()
