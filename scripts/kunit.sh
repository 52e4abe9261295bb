#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build and run the migrc KUnit suites for one architecture with kunit.py,
# out of tree (build/kunit-<arch>[-<variant>]), through ccache, on the QEMU
# machine in lib/migrc/qemu_configs/<arch>.py (four CPUs, two nodes).
#
# usage: kunit.sh ARCH [VARIANT]   ARCH: x86_64 | arm64 | riscv
#   VARIANT names an extra kunitconfig, lib/migrc/<variant>.kunitconfig
#   (for example "kcsan").  A variant's kernel is also the guest kernel
#   of that variant (scripts/run.sh with VARIANT=, booted with
#   kunit.enable=0): it gets the guest's config fragments too
#   (guest/config/common.config and guest/config/<arch>.config), so one
#   sanitizer build serves both the suites and the guest scenarios.
#
# Prints the kunit.py output, then one line
#   kunit <arch>[-<variant>]: N passed, N failed, N skipped
# and exits non-zero if the build or boot failed, a test failed, or no
# test ran.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
TREE=$BUILD/linux
arch=${1:?usage: kunit.sh ARCH [VARIANT]}
variant=${2:-}
name=$arch${variant:+-$variant}
out=$BUILD/kunit-$name
log=$BUILD/kunit-$name.log

case $arch in
x86_64)	cross= ;;
arm64)	cross=aarch64-linux-gnu- ;;
riscv)	cross=riscv64-linux-gnu- ;;
*)	echo "kunit.sh: unknown arch $arch" >&2; exit 2 ;;
esac

# ccache in front of every compiler kbuild calls, host and cross.
ccbin=$BUILD/ccache-bin
mkdir -p "$ccbin"
for cc in gcc cc aarch64-linux-gnu-gcc riscv64-linux-gnu-gcc; do
	[[ -e $ccbin/$cc ]] || ln -sf "$(command -v ccache)" "$ccbin/$cc"
done
export PATH=$ccbin:$PATH
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR=$BUILD
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
# Stable build metadata: identical sources give identical objects.
export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=migrc KBUILD_BUILD_HOST=migrc

args=(run --kunitconfig=lib/migrc
      --qemu_config="lib/migrc/qemu_configs/$arch.py"
      --build_dir="$out" --jobs="$(nproc)" --timeout=900
      --json="$out.json")
[[ -n $cross ]] && args+=(--cross_compile="$cross")
# Under TCG on a loaded host the IO-APIC timer check can miss its ticks
# and panic the boot (scripts/run.sh says more).
[[ $arch == x86_64 ]] && args+=(--kernel_args=no_timer_check)
if [[ -n $variant ]]; then
	args+=(--kunitconfig="lib/migrc/$variant.kunitconfig"
	       --kunitconfig="$ROOT/guest/config/common.config"
	       --kunitconfig="$ROOT/guest/config/$arch.config")
fi
[[ -n ${KUNIT_KCONFIG_ADD:-} ]] && for k in $KUNIT_KCONFIG_ADD; do args+=(--kconfig_add="$k"); done

cd "$TREE"
rm -f "$out.json"
start=$SECONDS
./tools/testing/kunit/kunit.py "${args[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
secs=$((SECONDS - start))

# Count leaf cases from the JSON kunit.py wrote (parameterised cases count
# each parameter), so the total does not depend on the console format.
# The names of failed cases go to <out>.failed, for the summary of
# scripts/test.sh (CI shows only the end of the output).
rm -f "$out.failed"
read -r pass fail skip < <(python3 - "$out.json" "$out.failed" "$out/test.log" <<'PY'
import json, re, sys
p = f = s = 0
failed = []
try:
    log = open(sys.argv[3], errors='replace').read().splitlines()
except Exception:
    log = []
def why(case):
    # The first failed expectation of CASE in the console log, and the
    # line that says what was expected.
    for i, l in enumerate(log):
        m = re.search(r'# %s: (EXPECTATION|ASSERTION) FAILED at (\S+)' % re.escape(case), l)
        if m:
            nxt = ' '.join(x.strip() for x in log[i + 1:i + 3])
            return ': %s: %s' % (m.group(2).split('/')[-1], nxt[:200])
    return ''
try:
    data = json.load(open(sys.argv[1]))
except Exception:
    open(sys.argv[2], 'w').write('no results\n')
    print(0, 1, 0); sys.exit()
def walk(t, path):
    global p, f, s
    subs = t.get('sub_groups') or []
    cases = t.get('test_cases') or []
    name = path + [t['name']] if t.get('name') else path
    for g in subs: walk(g, name)
    for c in cases:
        st = c.get('status', '')
        if st == 'PASS': p += 1
        elif st == 'SKIP': s += 1
        else:
            f += 1
            failed.append('.'.join(name[-1:] + [c.get('name', '?')]) +
                          why(c.get('name', '?')))
walk(data, [])
if failed:
    open(sys.argv[2], 'w').write('\n'.join(failed) + '\n')
print(p, f, s)
PY
)
# Any kernel report during the run fails it, whatever the cases said.
# Known upstream reports (scripts/known-reports.py) are named, not counted.
reports=0
if [[ -f $out/test.log ]]; then
	scan=$(python3 "$ROOT/scripts/known-reports.py" "$out/test.log" "$out/vmlinux") ||
		scan=$(cat "$out/test.log")
	sed -n "s/^@@known-report /kunit $name: known upstream report, not counted: /p" <<<"$scan"
	reports=$(grep -cE 'BUG: (KCSAN|KASAN|KFENCE)|BUG: |Kernel panic|UBSAN:|WARNING: possible (circular|recursive)|inconsistent lock state|sleeping function called from invalid context' <<<"$scan" || true)
	if [[ $reports -gt 0 ]]; then
		echo "kunit $name: $reports kernel report(s) in $out/test.log:" >&2
		grep -E -A12 'BUG: |Kernel panic|UBSAN:|WARNING: possible|inconsistent lock state|sleeping function' <<<"$scan" | head -60 >&2
		fail=$((fail + reports))
		echo "kernel report" >> "$out.failed"
	fi
fi
if [[ $rc -ne 0 && $fail -eq 0 ]]; then
	fail=1	# build or boot failure: count it, so it cannot read as a pass
	echo "build or boot (exit $rc)" >> "$out.failed"
fi
if [[ $((pass + fail)) -eq 0 ]]; then
	echo "kunit $name: no test ran" >&2
	fail=1
fi
line="kunit $name: $pass passed, $fail failed"
[[ $skip -gt 0 ]] && line+=", $skip skipped"
echo "$line (${secs}s)"
echo "$pass $fail $skip" > "$out.counts"
[[ $fail -eq 0 && $rc -eq 0 ]]
