#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the guest's @@result lines into the `make run` table, JSON and chart.

usage: report.py --arch ARCH --out DIR console.log...

Writes DIR/ARCH.json (this architecture's runs and summary) and
DIR/chart.svg (every architecture with a JSON file in DIR), and prints the
table.  Remote invalidations are counted by the kernel in the same units
for the mainline batched flush (tlbbatch_flush_*) and for migrc
(migrc_flush_*): IPI rounds and target CPUs on x86_64, SBI fences or IPI
rounds on riscv, broadcast TLBI instructions on arm64.
"""
import argparse
import json
import os
import sys

UNITS = {
    "x86_64": "IPI rounds",
    "riscv": "remote fences",
    "arm64": "broadcast TLBIs",
}


def load(logs):
    runs, config, wpreuse = [], {}, []
    for path in logs:
        with open(path, errors="replace") as f:
            for line in f:
                line = line.strip()
                if line.startswith("@@result "):
                    runs.append(json.loads(line[9:]))
                elif line.startswith("@@config "):
                    config.update(json.loads(line[9:]))
                elif line.startswith("@@wpreuse "):
                    wpreuse.append(json.loads(line[10:]))
    return runs, config, wpreuse


def invals(r):
    return r["tlbbatch_flush_rounds"] + r["migrc_flush_rounds"]


def targets(r):
    return r["tlbbatch_flush_cpus"] + r["migrc_flush_cpus"]


def per_k(n, pages):
    return 1000.0 * n / pages if pages else float("nan")


# Workloads whose speed is their readers': their runtime ratio is the
# readers' already.
READ_WORK = ("tiering", "file-tiering")


def work(r):
    """The unit of work a run's speed is measured in."""
    if r["workload"] in ("page-fault", "wp-reuse"):
        return r["ops"]
    if r["workload"] in READ_WORK:
        return r["reads"]
    return r["pgmigrate_success"]


# Counters that add up over runs; the rest (the knobs) are the first run's.
NOT_ADDED = ("max_pending_pages", "max_age_ms", "mover_cpu_ms")


def pooled(a, b):
    """Two runs of one mode counted as one."""
    r = dict(a)
    for k, v in b.items():
        if k not in NOT_ADDED and isinstance(v, (int, float)) and \
           isinstance(a.get(k), (int, float)) and not isinstance(v, bool):
            r[k] = a[k] + v
    cpu = (a.get("mover_cpu_ms", -1), b.get("mover_cpu_ms", -1))
    r["mover_cpu_ms"] = sum(cpu) if min(cpu) > 0 else -1
    return r


def summarise(runs, wpreuse):
    pairs = {}
    for r in runs:
        pairs.setdefault((r["workload"], r["mapping"]), {})[r["migrc"]] = r
    # The write-heavy control runs twice, the second pair the other way
    # round (bench.c).  Which rounds find no other CPU to interrupt is
    # the scheduler's chance, one or two percent of the rounds in one run
    # either way, with migrc deferring nothing; both pairs together are
    # the control's figure.
    wh = [pairs.get(("write-heavy", m), {})
          for m in ("writable", "writable,on-first")]
    if all("on" in p and "off" in p for p in wh):
        pairs[("write-heavy", "writable,both")] = {
            m: pooled(wh[0][m], wh[1][m]) for m in ("on", "off")}
    out = []
    for (wl, mapping), p in pairs.items():
        if "on" not in p or "off" not in p:
            continue
        on, off = p["on"], p["off"]
        s = {"workload": wl, "mapping": mapping}
        s["per1000_off"] = per_k(invals(off), off["pgmigrate_success"])
        s["per1000_on"] = per_k(invals(on), on["pgmigrate_success"])
        if s["per1000_off"] and s["per1000_off"] == s["per1000_off"]:
            s["reduction_pct"] = 100.0 * (1 - s["per1000_on"] / s["per1000_off"])
        else:
            s["reduction_pct"] = None
        # The cap's limit: if every invalidation with migrc on retired a
        # whole cap of old folios, the on-run would need 1000 / cap per
        # 1000 pages.  Migration that never pauses long enough for the age
        # bound cannot do better, unless a flush sent for another reason
        # covers its batches.
        cap = on.get("max_pending_pages", 0)
        if cap > 0 and on.get("migrc_deferred", 0) > 0 and s["reduction_pct"] is not None:
            s["cap_limit_pct"] = max(0.0, 100.0 * (1 - 1000.0 / cap / s["per1000_off"]))
        else:
            s["cap_limit_pct"] = None
        won, woff = work(on), work(off)
        if wl == "wp-reuse":
            rep = int(mapping.split("#")[1])
            t = {w["migrc"]: w for w in wpreuse if w["rep"] == rep}
            if "on" in t and "off" in t:
                won, woff = t["on"]["faults"] / t["on"]["seconds"], \
                    t["off"]["faults"] / t["off"]["seconds"]
                s["runtime_ratio"] = woff / won if won else None
        if "runtime_ratio" not in s:
            rate_on = won / on["seconds"] if on["seconds"] else 0
            rate_off = woff / off["seconds"] if off["seconds"] else 0
            s["runtime_ratio"] = rate_off / rate_on if rate_on else None
        # Where readers share the CPUs with the migrating thread, the
        # runtime ratio (the mover's pages per second) also measures how
        # much CPU the readers leave it: show the readers' side, and the
        # mover's CPU time per page, which does not depend on that share.
        s["reads_ratio"] = None
        if wl not in READ_WORK and \
           on.get("reads", 0) > 0 and off.get("reads", 0) > 0 and \
           on["seconds"] and off["seconds"]:
            s["reads_ratio"] = (on["reads"] / on["seconds"]) / \
                (off["reads"] / off["seconds"])
        s["mover_cpu_ratio"] = None
        if on.get("mover_cpu_ms", -1) > 0 and off.get("mover_cpu_ms", -1) > 0 \
           and on["pgmigrate_success"] and off["pgmigrate_success"]:
            s["mover_cpu_ratio"] = \
                (on["mover_cpu_ms"] / on["pgmigrate_success"]) / \
                (off["mover_cpu_ms"] / off["pgmigrate_success"])
        s["integrity_errors"] = on["integrity_errors"] + off["integrity_errors"]
        out.append(s)
    return out


def fmt(x, spec="{:.2f}"):
    if x is None or x != x:
        return "-"
    return spec.format(x)


def table(arch, runs, summary, config):
    unit = UNITS.get(arch, "invalidations")
    print()
    print(f"migrc on {arch}: remote invalidations in {unit}; "
          f"{config.get('cpus', '?')} CPUs, "
          f"{config.get('duration', '?')} s per run, cap "
          f"{config.get('max_pending_pages', '?')} pages, age "
          f"{config.get('max_age_ms', '?')} ms")
    hdr = ("workload", "mapping", "migrc", "migrated", "invals", "CPUs",
           "/1000 pg", "TLB irq", "peak pend", "recycled", "retired a/c/p/d/t",
           "refused w/s/f", "errors")
    w = (12, 21, 5, 9, 7, 7, 9, 8, 9, 8, 18, 13, 6)
    line = "  ".join(h.ljust(n) if i < 3 else h.rjust(n)
                     for i, (h, n) in enumerate(zip(hdr, w)))
    print(line)
    print("-" * len(line))
    for r in runs:
        retired = "/".join(str(r[k]) for k in (
            "migrc_retire_age", "migrc_retire_cap", "migrc_retire_pressure",
            "migrc_retire_drain", "migrc_retire_trimmed"))
        refused = "/".join(str(r.get(k, 0)) for k in (
            "refused_writable", "refused_shared", "refused_flush_pending"))
        cells = (r["workload"], r["mapping"], r["migrc"],
                 str(r["pgmigrate_success"]), str(invals(r)), str(targets(r)),
                 fmt(per_k(invals(r), r["pgmigrate_success"])),
                 "-" if r["tlb_irqs"] < 0 else str(r["tlb_irqs"]),
                 str(r["peak_pending_pages"]), str(r.get("recycled", 0)),
                 retired, refused,
                 str(r["integrity_errors"]))
        print("  ".join(c.ljust(n) if i < 3 else c.rjust(n)
                        for i, (c, n) in enumerate(zip(cells, w))))
    print()
    print(f"{'workload':12}  {'mapping':21}  {'/1000 off':>9}  {'/1000 on':>9}"
          f"  {'fewer':>8}  {'cap limit':>9}  {'runtime on/off':>14}"
          f"  {'reads on/off':>12}  {'CPU/page on/off':>15}  {'errors':>6}")
    for s in summary:
        red = fmt(s["reduction_pct"], "{:.1f}%")
        print(f"{s['workload']:12}  {s['mapping']:21}  {fmt(s['per1000_off']):>9}"
              f"  {fmt(s['per1000_on']):>9}  {red:>8}"
              f"  {fmt(s.get('cap_limit_pct'), '{:.1f}%'):>9}"
              f"  {fmt(s['runtime_ratio'], '{:.3f}'):>14}"
              f"  {fmt(s.get('reads_ratio'), '{:.3f}'):>12}"
              f"  {fmt(s.get('mover_cpu_ratio'), '{:.3f}'):>15}"
              f"  {s['integrity_errors']:>6}")
    print("(runtime on/off: time per unit of work with migrc on over off; "
          "below 1 is faster)")
    print("(reads on/off: the readers' reads per second, on over off; above 1 "
          "is faster.\n CPU/page on/off: the migrating thread's CPU time per "
          "page moved, on over off.\n The vCPUs outnumber the host's cores, so "
          "time one side does not spend waiting\n goes partly to the other)")
    print("(migrc on: each run ends by retiring what is still pending, and "
          "counts that flush)")
    print("(cap limit: the reduction if each invalidation with migrc on "
          "retired a whole cap of\n old folios: where migration never "
          "pauses, what the cap allows)")
    print("(recycled: old folios that a migration went back into, where they "
          "were still pending:\n no flush, no new pending memory; a ping-pong "
          "under the cap gets its pages back\n before their old folios "
          "retire, and can beat the cap limit; ws=2cap moves twice the\n "
          "cap, and ws=cap/2 half of it)")
    print("(refused w/s/f: PTEs migrc saw and did not defer: writable, in a "
          "shared VMA, or with a\n TLB flush pending in their mm (NUMA "
          "balancing's scan, mprotect(), fork()); each\n costs its round "
          "the mainline flush)")
    if any(s["mapping"] == "writable,both" for s in summary):
        print("(write-heavy: migrc defers nothing there, so the two pairs "
              "differ by chance, by\n which rounds find another CPU to "
              "interrupt; writable,both counts them together)")
    if any(s["mapping"].startswith("cow-fork,daemon") for s in summary) and \
       config.get("memory_tiers", 0) >= 2:
        print("(cow-fork,daemon: NUMA balancing skips copy-on-write pages "
              "two processes map,\n so the parent promotes the hot quarter "
              "with move_pages(2), as a tiering daemon would)")
    if any(s["workload"] == "tiering" for s in summary) and \
       config.get("memory_tiers", 0) < 2:
        print("(tiering: this guest has no slower memory tier, since only the "
              "x86_64 guest gets ACPI HMAT;\n NUMA balancing never promotes "
              "into a full node 0 there, so a tiering daemon moves\n the hot "
              "quarter both ways with move_pages(2): the \"daemon\" rows)")
    if any(s["workload"] == "file-tiering" for s in summary) and \
       config.get("memory_tiers", 0) < 2:
        print("(file-tiering: with one memory tier reclaim would evict, so the "
              "tiering daemon\n demotes too: its \"daemon\" rows move both ways "
              "with move_pages(2))")


def chart(outdir):
    data = {}
    for name in sorted(os.listdir(outdir)):
        if name.endswith(".json") and name[:-5] in UNITS:
            with open(os.path.join(outdir, name)) as f:
                data[name[:-5]] = json.load(f)
    bars = []
    for arch, d in data.items():
        for s in d["summary"]:
            if s["per1000_off"] == s["per1000_off"] and s["per1000_off"]:
                bars.append((arch, s))
    if not bars:
        return None
    top = max(max(s["per1000_off"], s["per1000_on"]) for _, s in bars)
    width, bw, gap, h = 70 + len(bars) * 64, 22, 20, 260
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{h + 110}" font-family="sans-serif" font-size="10">',
           '<text x="10" y="16" font-size="13">Remote invalidations per '
           '1000 migrated pages, migrc off (grey) and on (blue)</text>']
    x = 60
    for arch, s in bars:
        for i, key in enumerate(("per1000_off", "per1000_on")):
            v = s[key] if s[key] == s[key] else 0
            bh = h * v / top if top else 0
            color = "#999" if i == 0 else "#2a6fdb"
            svg.append(f'<rect x="{x + i * bw}" y="{30 + h - bh:.1f}" '
                       f'width="{bw - 2}" height="{bh:.1f}" fill="{color}"/>')
            svg.append(f'<text x="{x + i * bw}" y="{26 + h - bh:.1f}">'
                       f'{v:.2f}</text>')
        label = f"{s['workload']} {s['mapping']}"
        svg.append(f'<text x="{x}" y="{h + 45}">{arch}</text>')
        svg.append(f'<text x="{x}" y="{h + 58}" transform="rotate(30 {x} '
                   f'{h + 58})">{label}</text>')
        x += 2 * bw + gap
    svg.append(f'<line x1="55" y1="{30 + h}" x2="{x}" y2="{30 + h}" '
               'stroke="black"/>')
    svg.append("</svg>")
    path = os.path.join(outdir, "chart.svg")
    with open(path, "w") as f:
        f.write("\n".join(svg) + "\n")
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("logs", nargs="+")
    a = ap.parse_args()
    runs, config, wpreuse = load(a.logs)
    if not runs:
        print("report: the guest printed no results", file=sys.stderr)
        return 1
    summary = summarise(runs, wpreuse)
    table(a.arch, runs, summary, config)
    path = os.path.join(a.out, f"{a.arch}.json")
    with open(path, "w") as f:
        json.dump({"arch": a.arch, "unit": UNITS.get(a.arch),
                   "config": config, "runs": runs, "summary": summary,
                   "wp_reuse": wpreuse}, f, indent=1)
    svg = chart(a.out)
    print(f"\nJSON: {path}\nchart: {svg}")
    errors = sum(r["integrity_errors"] for r in runs)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
