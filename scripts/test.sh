#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every test for the given architectures and print one summary line
# per component, then the total: "N passed, N failed[, N skipped]".
# Exits non-zero if anything failed, failed to build or boot, or if no
# test ran at all.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
cd "$ROOT"

runs=()
for arch in "$@"; do
	runs+=("$arch:")
done
# The suites under KCSAN (x86_64), and on debug kernels with KASAN,
# lockdep, DEBUG_VM and PAGE_TABLE_CHECK (x86_64 and arm64); each of
# these kernels then boots the guest scenarios and stress tests.
for arch in "$@"; do
	[[ $arch == x86_64 ]] && runs+=("x86_64:kcsan")
	[[ $arch == x86_64 || $arch == arm64 ]] && runs+=("$arch:kasan")
done

summary=()
tp=0 tf=0 ts=0

# tally NAME COUNTS: add one component's "passed failed skipped" counts
# file to the summary and the totals.  A missing file (the component did
# not build, boot or finish) is one failure.  The names of what failed
# (COUNTS with .failed for .counts) follow the counts on the same line:
# CI shows only the end of the output.
tally() {
	local p=0 f=1 s=0 line names=${2%.counts}.failed

	[[ -f $2 ]] && read -r p f s < "$2"
	line="$1: $p passed, $f failed"
	[[ $s -gt 0 ]] && line+=", $s skipped"
	[[ $f -gt 0 && -s $names ]] && line+=" ($(sort -u "$names" | paste -sd';' - | sed 's/;/; /g'))"
	summary+=("$line")
	tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
}

# make test runs make check first; its checks count as tests.
if [[ -n ${CHECK:-} ]]; then
	echo "=== check"
	./scripts/check.sh | tee "$BUILD/check.log" | grep -v '^ok' || true
	read -r p f < <(sed -n 's/^check: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$BUILD/check.log")
	p=${p:-0} f=${f:-1}
	summary+=("check: $p passed, $f failed")
	tp=$((tp + p)) tf=$((tf + f))
fi
# guest WORKLOAD ARCH [VARIANT]: one guest run of scripts/run.sh, tallied
# as "guest WORKLOAD ARCH[-VARIANT]".
guest() {
	local wl=$1 arch=$2 variant=${3:-} name counts

	name=$arch${variant:+-$variant}
	counts=$BUILD/guest-$name-$wl.counts
	[[ $wl == scenarios ]] && counts=$BUILD/guest-$name.counts	# predates stress
	echo "=== guest $wl $name"
	rm -f "$counts"
	VARIANT=$variant WORKLOAD=$wl ./scripts/run.sh "$arch"
	tally "guest $wl $name" "$counts"
}

for r in "${runs[@]}"; do
	arch=${r%%:*}
	variant=${r#*:}
	name=$arch${variant:+-$variant}
	echo "=== kunit $name"
	rm -f "$BUILD/kunit-$name.counts"
	./scripts/kunit.sh "$arch" $variant
	tally "kunit $name" "$BUILD/kunit-$name.counts"
	# A sanitizer kernel is also a guest kernel (kunit.sh): the scenarios
	# run on it too, and any report fails them.  The stress tests take 3
	# to 6 minutes each under a sanitizer in TCG; SANITIZER_STRESS=1 adds
	# them (make test-full), outside CI's time budget.
	if [[ -n $variant ]]; then
		guest scenarios "$arch" "$variant"
		[[ -n ${SANITIZER_STRESS:-} ]] && guest stress "$arch" "$variant"
	fi
done

# The guest: the stale-data scenarios (guest/scenarios.c), the file
# scenarios on an ext2 RAM disk (guest/filescenarios.c), the stress tests
# (guest/stress.c: pressure, CPU hotplug, bad input), Debian's stress-ng
# (guest/stressng.c; x86_64 and arm64: bookworm has no riscv64), then
# the kernel's mm selftests and our read-only migration variants with
# migrc on (guest/selftests.c; a skipped selftest is tallied as skipped).
for wl in scenarios files stress stressng selftests; do
	for arch in "$@"; do
		[[ $wl == stressng && $arch == riscv ]] && continue
		guest "$wl" "$arch"
	done
done

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
if [[ $((tp + tf)) -eq 0 ]]; then
	echo "no test ran"
	tf=1
fi
total="$tp passed, $tf failed"
[[ $ts -gt 0 ]] && total+=", $ts skipped"
echo "$total"
[[ $tf -eq 0 ]]
