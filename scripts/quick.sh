#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Developer shortcut: sync the tree and compile only migrc's own objects
# for ARCH (default x86_64) in its KUnit build directory, W=1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
arch=${1:-x86_64}
case $arch in
x86_64) cross= ; objs="arch/x86/mm/migrc.o" ;;
arm64)  cross=aarch64-linux-gnu- ; objs="arch/arm64/mm/migrc.o" ;;
riscv)  cross=riscv64-linux-gnu- ; objs="arch/riscv/mm/migrc.o" ;;
esac
"$ROOT/scripts/prepare-tree.sh" >/dev/null
export PATH=$ROOT/build/ccache-bin:$PATH
cd "$ROOT/build/linux"
make -s ARCH=$arch CROSS_COMPILE=$cross O="$ROOT/build/kunit-$arch" olddefconfig
make -s ARCH=$arch CROSS_COMPILE=$cross O="$ROOT/build/kunit-$arch" W=1 -j"$(nproc)" lib/migrc/ $objs
