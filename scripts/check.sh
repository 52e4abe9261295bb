#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: the review checks, run from the prepared tree.
#
#   - scripts/checkpatch.pl --strict on every patch of the series (as
#     git format-patch exports it) and on every migrc source file: no
#     ERROR, no WARNING, and only the CHECKs listed in checkpatch.allow;
#   - scripts/kernel-doc -none -Wall on every migrc header and source;
#   - a W=1 build with sparse (C=2) of the migrc objects on x86_64, arm64
#     and riscv, in the KUnit build directories: no warning.
#
# Prints one line per check and "check: N passed, N failed".
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
TREE=$BUILD/linux
# Debian's python3, which has ply for spdxcheck.py, even under a pyenv.
export PATH=/usr/bin:$PATH
cd "$TREE" || exit 1

files=(lib/migrc/core.c lib/migrc/retire.c lib/migrc/policy.c lib/migrc/batch.c
       lib/migrc/control.c lib/migrc/init.c lib/migrc/debug.c lib/migrc/migrc.h
       lib/migrc/file.c
       lib/migrc/migrc_test.c lib/migrc/migrc_mm_test.c
       lib/migrc/migrc_arch_test.c lib/migrc/migrc_file_test.c
       include/linux/migrc.h include/linux/migrc_gate.h
       include/asm-generic/migrc-cpumask.h
       arch/x86/include/asm/migrc.h arch/x86/mm/migrc.c
       arch/arm64/include/asm/migrc.h
       arch/arm64/mm/migrc.c arch/riscv/include/asm/migrc.h)
allow=$ROOT/checkpatch.allow
pass=0 fail=0

result() {	# result NAME OK DETAIL...
	if [[ $2 == 0 ]]; then
		printf 'ok    %s\n' "$1"; pass=$((pass + 1))
	else
		printf 'FAIL  %s\n' "$1"; shift 2; printf '%s\n' "$@" | sed 's/^/      /'
		fail=$((fail + 1))
	fi
}

# checkpatch output, less the CHECKs justified in checkpatch.allow
# ("TYPE path" per line, then the reason).
filter() {
	local line type
	while IFS= read -r line; do
		type=$(sed -n 's/^[^:]*:[0-9]*: CHECK:\([A-Z_]*\):.*/\1/p' <<<"$line")
		if [[ -n $type ]] && grep -q "^$type ${1:-}" "$allow" 2>/dev/null; then
			continue
		fi
		printf '%s\n' "$line"
	done
}

series=$BUILD/check-series-patches
rm -rf "$series"
git format-patch -q -o "$series" pristine..HEAD
for p in "$series"/*.patch; do
	out=$(./scripts/checkpatch.pl --strict --terse --no-summary --show-types "$p" 2>&1 | filter)
	result "checkpatch $(basename "$p")" "$([[ -z $out ]]; echo $?)" "$out"
done
for f in "${files[@]}"; do
	out=$(./scripts/checkpatch.pl --strict --terse --no-summary --show-types -f "$f" 2>&1 | filter "$f")
	result "checkpatch -f $f" "$([[ -z $out ]]; echo $?)" "$out"
done
for f in "${files[@]}"; do
	out=$(./scripts/kernel-doc -none -Wall "$f" 2>&1)
	result "kernel-doc $f" "$([[ -z $out ]]; echo $?)" "$out"
done

for arch in x86_64 arm64 riscv; do
	case $arch in
	x86_64) cross= objs=(lib/migrc/ arch/x86/mm/migrc.o) check=sparse ;;
	arm64) cross=aarch64-linux-gnu- objs=(lib/migrc/ arch/arm64/mm/migrc.o) check=sparse ;;
	riscv) cross=riscv64-linux-gnu- objs=(lib/migrc/) check=$ROOT/scripts/sparse-march.sh ;;
	esac
	out=$BUILD/kunit-$arch
	if [[ ! -f $out/.config ]]; then
		./tools/testing/kunit/kunit.py config --kunitconfig=lib/migrc --arch="$arch" \
			--cross_compile="$cross" --build_dir="$out" >/dev/null 2>&1
	fi
	PATH=$BUILD/ccache-bin:$PATH make -s O="$out" ARCH="$arch" CROSS_COMPILE="$cross" \
		-j"$(nproc)" prepare >/dev/null 2>&1
	log=$(PATH=$BUILD/ccache-bin:$PATH make -s O="$out" ARCH="$arch" CROSS_COMPILE="$cross" \
		W=1 C=2 CHECK="$check" -j"$(nproc)" "${objs[@]}" 2>&1)
	rc=$?
	# Ours only: C=2 also runs sparse over what the build regenerates
	# on the way (the arm64 vDSO), which is not migrc's to fix.
	warn=$(grep -E 'warning|error' <<<"$log" | grep -E 'migrc|^make')
	[[ $rc -ne 0 && -z $warn ]] && warn=$(tail -5 <<<"$log")
	result "W=1 C=2 (sparse) $arch ${objs[*]}" "$([[ $rc -eq 0 && -z $warn ]]; echo $?)" "$warn"
done

echo "check: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
