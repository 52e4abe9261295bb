#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hook necessity: boot the KUnit kernel of ARCH once per migrc hook with
# that hook switched off (CONFIG_MIGRC_DEBUG's migrc_disable_hooks=), run
# the suites and the guest stale-data scenarios (guest/scenarios.c, same
# mask; for the file hooks guest/filescenarios.c too), and report which
# cases caught it.  A hook no case catches is
# a missing test, unless the architecture's own invalidation covers the
# path (the case then passes with the hook off, and says so).
#
# usage: [HOOKS=name,...] mutate.sh ARCH   (after `make kunit ARCH=...`
#        built the kernel; HOOKS= tries only those hooks)
# Ends with "N caught, N missed"; exits non-zero if any hook was missed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
arch=${1:-x86_64}
out=$BUILD/kunit-$arch
case $arch in
x86_64) cross= ;; arm64) cross=aarch64-linux-gnu- ;; riscv) cross=riscv64-linux-gnu- ;;
esac
# enum migrc_hook, in order.
hooks=(write_fault gup_write batched ineligible pressure offline flush_pending
       file_gate file_recheck)
# Paths the architecture invalidates by itself (the hook compiles away
# there): the case must pass with the hook off, and that is the result.
declare -A by_arch=([arm64:write_fault]=migrc_mm.migrc_mm_test_write_fault)
# Hooks whose absence changes a PTE under a deferred flush, which the
# debug checker (CONFIG_MIGRC_DEBUG) must then report, or that let a file
# gain a writer before the flush (migrc_debug_writer()).  The others miss
# a flush without any PTE write it could see (a GUP write through the
# kernel mapping, a stale writable TLB entry, memory not retired).
declare -A checker_applies=([write_fault]=1 [batched]=1 [file_gate]=1)

caught=0 missed=0 covered=0 chk_want=0 chk_seen=0
printf '%-12s %s\n' hook "failing cases with the hook off [debug checker]"
for i in "${!hooks[@]}"; do
	[[ -n ${HOOKS:-} && ,$HOOKS, != *,${hooks[$i]},* ]] && continue
	mask=$((1 << i))
	log=$out/mutate-${hooks[$i]}.log
	(cd "$BUILD/linux" && ./tools/testing/kunit/kunit.py exec --build_dir="$out" \
		--qemu_config="lib/migrc/qemu_configs/$arch.py" --timeout=600 \
		--kernel_args="migrc_disable_hooks=$mask" --json="$log.json" 'migrc*') >"$log" 2>&1
	failed=$(python3 - "$log.json" <<'PY'
import json, sys
try:
    data = json.load(open(sys.argv[1]))
except Exception:
    print("(no result: crashed or hung)"); sys.exit()
out = []
def walk(t, prefix):
    for g in t.get('sub_groups') or []:
        walk(g, prefix + [g['name']])
    for c in t.get('test_cases') or []:
        if c.get('status') not in ('PASS', 'SKIP'):
            out.append('.'.join(prefix[1:] + [c['name']]))
walk(data, [data.get('name', '')])
print(' '.join(out))
PY
)
	# The guest scenarios, booted with the same mask.
	MIGRC_HOOKS=$mask WORKLOAD=scenarios "$ROOT/scripts/run.sh" "$arch" >"$log.guest" 2>&1
	gfailed=$(sed -n 's/^  \([^ ]*\) FAIL.*/guest:\1/p' "$log.guest" | paste -sd' ' -)
	grep -q 'scenarios:' "$log.guest" || gfailed="guest:(no result: crashed or hung)"
	# The file hooks: the file scenarios too, without the checker, so
	# that what fails there is a stale read, not the checker failing safe.
	if [[ ${hooks[$i]} == file_* ]]; then
		MIGRC_HOOKS=$mask CHECKER=0 WORKLOAD=files "$ROOT/scripts/run.sh" "$arch" \
			>"$log.files" 2>&1
		gfailed+=" $(sed -n 's/^  \([^ ]*\) FAIL.*/files:\1/p' "$log.files" | paste -sd' ' -)"
		grep -q 'files:' "$log.files" || gfailed+=" files:(no result: crashed or hung)"
	fi
	failed=$(echo $failed $gfailed)
	if [[ -n $failed ]]; then
		caught=$((caught + 1))
	elif [[ -n ${by_arch[$arch:${hooks[$i]}]:-} ]]; then
		covered=$((covered + 1))
		failed="(none: $arch invalidates by itself; ${by_arch[$arch:${hooks[$i]}]} passes)"
	else
		missed=$((missed + 1))
		failed="(none)"
	fi
	if [[ -n ${checker_applies[${hooks[$i]}]:-} && -z ${by_arch[$arch:${hooks[$i]}]:-} ]]; then
		chk_want=$((chk_want + 1))
		if grep -q 'migrc: debug:\|debug checker found' "$log" "$log.guest"; then
			chk_seen=$((chk_seen + 1))
			failed+=" [checker fired]"
		else
			failed+=" [checker SILENT]"
		fi
	fi
	printf '%-12s %s\n' "${hooks[$i]}" "$failed"
done
[[ $covered -gt 0 ]] && echo "$covered covered by the architecture"
echo "debug checker: fired for $chk_seen of the $chk_want hooks it applies to"
echo "$caught caught, $missed missed"
[[ $missed -eq 0 && $chk_seen -eq $chk_want ]]
