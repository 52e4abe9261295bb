#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make profile: guest kernel instructions per migrated page, migrc on/off.

usage: profile.py ARCH   (WORKLOAD=, default pingpong; DURATION= as for
make run)

Builds the TCG plugin insns.c for the host, boots the `make run` guest
with it (scripts/run.sh, QEMU_PLUGIN=), and counts instructions in the
middle of each run: from 1 s after the run starts to 1 s before it ends.
Then report.py prints, per mapping, the kernel's instructions per page
moved with migrc off and on, and the functions that account for the
difference.  Under TCG the guest's clocks are host time shared by four
vCPUs on fewer host cores, so the benchmark's runtime ratios mix the cost
of migration with how the vCPUs share the host; instruction counts do not.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROGRESS = re.compile(r"\.\. (\S+) \((.+)\): migrc (on|off), (\d+) s")


def trigger(d, label):
    tmp = os.path.join(d, "trigger.new")
    with open(tmp, "w") as f:
        f.write(label + "\n")
    os.rename(tmp, os.path.join(d, "trigger"))
    for _ in range(600):
        if not os.path.exists(os.path.join(d, "trigger")):
            return
        time.sleep(0.05)
    sys.exit("profile: the plugin did not answer")


def main():
    arch = sys.argv[1] if len(sys.argv) > 1 else "x86_64"
    build = os.environ.get("BUILD", os.path.join(ROOT, "build"))
    results = os.path.join(build, "results")
    os.makedirs(results, exist_ok=True)
    plugin = os.path.join(build, "insns.so")
    subprocess.run(["gcc", "-O2", "-Wall", "-shared", "-fPIC",
                    "-fvisibility=hidden", "-o", plugin,
                    os.path.join(ROOT, "scripts/insns/insns.c"), "-lpthread"],
                   check=True)
    work = tempfile.mkdtemp(prefix="insns-")
    counts = os.path.join(results, f"insns-{arch}.counts")
    env = dict(os.environ, QEMU_PLUGIN=f"{plugin},dir={work}")
    env.setdefault("WORKLOAD", "pingpong")
    print(f"profile: {arch}, workloads {env['WORKLOAD']}, counting guest "
          "instructions (QEMU plugin)", flush=True)
    run = subprocess.Popen([os.path.join(ROOT, "scripts/run.sh"), arch],
                           env=env, stdout=subprocess.PIPE, text=True)
    for line in run.stdout:
        print(line, end="", flush=True)
        m = PROGRESS.search(line)
        if not m or int(m.group(4)) < 3:
            continue
        seconds = int(m.group(4))
        time.sleep(1)
        trigger(work, "reset")
        time.sleep(seconds - 2)
        trigger(work, f"{m.group(1)},{m.group(2)}:{m.group(3)}")
    if run.wait():
        sys.exit(run.returncode)
    if not os.path.exists(os.path.join(work, "out")):
        sys.exit("profile: no run long enough to count (DURATION= of 3 s or more)")
    os.replace(os.path.join(work, "out"), counts)
    os.rmdir(work)
    subprocess.run([os.path.join(ROOT, "scripts/insns/report.py"),
                    "--map", os.path.join(build, f"guest-{arch}", "System.map"),
                    "--json", os.path.join(results, f"insns-{arch}.json"),
                    counts], check=True)
    print(f"\ncounts: {counts}\nJSON: {os.path.join(results, f'insns-{arch}.json')}")


if __name__ == "__main__":
    main()
