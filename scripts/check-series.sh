#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build every commit of the series (pristine..HEAD of build/linux) for each
# given architecture, with that architecture's KUnit configuration
# (MIGRC and its tests on once the patches define them), W=1 for migrc's
# own objects.  Uses a separate work tree and build directories, so the
# KUnit builds are not disturbed; ccache makes the re-runs cheap.  A
# (tree, architecture) pair that built once is remembered in
# build/series-ok/, so after an edit to a late patch only the commits whose
# trees changed are built again.
#
# usage: check-series.sh x86_64 arm64 riscv
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
TREE=$BUILD/linux
WT=$BUILD/series-tree

ccbin=$BUILD/ccache-bin
mkdir -p "$ccbin"
for cc in gcc cc aarch64-linux-gnu-gcc riscv64-linux-gnu-gcc; do
	[[ -e $ccbin/$cc ]] || ln -sf "$(command -v ccache)" "$ccbin/$cc"
done
export PATH=$ccbin:$PATH CCACHE_BASEDIR=$BUILD
export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=migrc KBUILD_BUILD_HOST=migrc

[[ -d $WT ]] || git -C "$TREE" worktree add -q --detach "$WT" pristine
commits=$(git -C "$TREE" rev-list --reverse pristine..HEAD)
fails=0 total=0
okdir=$BUILD/series-ok
mkdir -p "$okdir"
for c in $commits; do
	git -C "$WT" checkout -q --detach "$c"
	subject=$(git -C "$WT" log -1 --format=%s)
	for arch in "$@"; do
		case $arch in
		x86_64) cross= ;; arm64) cross=aarch64-linux-gnu- ;; riscv) cross=riscv64-linux-gnu- ;;
		esac
		out=$BUILD/series-$arch
		base=$BUILD/kunit-$arch/.config
		[[ -f $base ]] || { echo "check-series: run 'make kunit ARCH=$arch' first" >&2; exit 1; }
		mkdir -p "$out"
		cp "$base" "$out/.config"
		total=$((total + 1))
		start=$SECONDS
		stamp=$okdir/$arch-$(git -C "$WT" rev-parse HEAD^{tree})
		if [[ -f $stamp ]]; then
			printf 'ok    %-7s %4s   %s (tree built before)\n' "$arch" - "$subject"
			continue
		fi
		if make -s -C "$WT" O="$out" ARCH=$arch CROSS_COMPILE=$cross olddefconfig >"$out/log" 2>&1 &&
		   make -s -C "$WT" O="$out" ARCH=$arch CROSS_COMPILE=$cross -j"$(nproc)" >>"$out/log" 2>&1 &&
		   { [[ ! -d $WT/lib/migrc ]] ||
		     make -s -C "$WT" O="$out" ARCH=$arch CROSS_COMPILE=$cross W=1 -j"$(nproc)" lib/migrc/ >>"$out/log" 2>&1; } &&
		   ! grep -E 'warning:' "$out/log" | grep -q migrc; then
			printf 'ok    %-7s %4ss  %s\n' "$arch" $((SECONDS - start)) "$subject"
			: >"$stamp"
		else
			printf 'FAIL  %-7s %4ss  %s\n' "$arch" $((SECONDS - start)) "$subject"
			grep -E 'error|warning' "$out/log" | head -20
			fails=$((fails + 1))
		fi
	done
done
echo "check-series: $((total - fails)) passed, $fails failed"
[[ $fails -eq 0 ]]
