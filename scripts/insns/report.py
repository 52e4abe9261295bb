#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Guest kernel instructions per migrated page, migrc on against off.

Reads the counts scripts/insns/insns.c wrote (label vaddr insns execs,
one line per translation block) for labels NAME:off and NAME:on, finds
the kernel's load offset (KASLR) by matching block starts with function
starts in System.map, and prints, per NAME, the kernel instructions per
page moved (pages: calls of folio_mc_copy(), the copy every small folio
migration makes) and the functions whose share changed most.
"""
import argparse
import bisect
import collections
import json

KERNEL = 1 << 63


def load_map(path):
    syms = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1] in "tTwW":
                syms.append((int(parts[0], 16), parts[2]))
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def find_offset(blocks, addrs):
    """The offset that makes the most kernel blocks start a function."""
    starts = set(addrs)
    kernel = sorted({v for v in blocks if v >= KERNEL})
    cand = collections.Counter()
    for v in kernel[::max(1, len(kernel) // 500)]:
        for a in addrs[::20]:
            d = v - a
            if 0 <= d < (1 << 34) and d % 0x10000 == 0:
                cand[d] += 1
    cand[0] += 1
    best, hits = 0, -1
    for d, _ in cand.most_common(50):
        n = sum(1 for v in kernel if v - d in starts)
        if n > hits:
            best, hits = d, n
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--map", required=True)
    ap.add_argument("--json")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("counts")
    args = ap.parse_args()
    addrs, names = load_map(args.map)
    starts = dict(zip(addrs, names))
    runs = collections.defaultdict(list)
    with open(args.counts) as f:
        for line in f:
            label, va, insns, execs = line.split()
            runs[label].append((int(va, 16), int(insns), int(execs)))
    off = find_offset({v for r in runs.values() for v, _, _ in r}, addrs)

    def profile(rows):
        fn, entries = collections.Counter(), collections.Counter()
        user = 0
        for v, insns, execs in rows:
            if v < KERNEL:
                user += insns
                continue
            i = bisect.bisect_right(addrs, v - off) - 1
            name = names[i] if i >= 0 else "?"
            fn[name] += insns
            if v - off in starts:
                entries[name] += execs
        return fn, entries["folio_mc_copy"], user

    out = []
    names_seen = sorted({l.rsplit(":", 1)[0] for l in runs if ":" in l},
                        key=lambda n: min(i for i, l in enumerate(runs)
                                          if l.startswith(n + ":")))
    for name in names_seen:
        if f"{name}:off" not in runs or f"{name}:on" not in runs:
            continue
        (foff, poff, uoff), (fon, pon, uon) = (profile(runs[f"{name}:{m}"])
                                              for m in ("off", "on"))
        if not poff or not pon:
            continue
        koff = sum(foff.values()) / poff
        kon = sum(fon.values()) / pon
        row = {"mapping": name, "pages_off": poff, "pages_on": pon,
               "kernel_insns_per_page_off": round(koff),
               "kernel_insns_per_page_on": round(kon),
               "ratio": kon / koff, "functions": {}}
        print(f"\n{name}: {poff} pages off, {pon} on; kernel instructions "
              f"per page {koff:.0f} off, {kon:.0f} on ({kon / koff:.3f}, "
              f"{kon - koff:+.0f})")
        delta = {k: fon[k] / pon - foff[k] / poff for k in set(foff) | set(fon)}
        top = sorted(delta, key=lambda k: -abs(delta[k]))[:args.top]
        print(f"  {'function':36} {'off':>7} {'on':>7} {'change':>7}")
        for k in sorted(top, key=lambda k: -delta[k]):
            print(f"  {k[:36]:36} {foff[k] / poff:7.0f} {fon[k] / pon:7.0f}"
                  f" {delta[k]:+7.0f}")
            row["functions"][k] = [round(foff[k] / poff), round(fon[k] / pon)]
        out.append(row)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"kernel_offset": hex(off), "rows": out}, f, indent=1)


if __name__ == "__main__":
    main()
