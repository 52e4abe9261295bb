#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make run`: build the migrc guest kernel for ARCH and a static /init,
# boot them under QEMU (TCG) with four CPUs on two NUMA nodes, and print
# what the kernel reports about migrc and the topology.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
TREE=$BUILD/linux
arch=${1:-x86_64}
out=$BUILD/guest-$arch

case $arch in
x86_64)	cross= ; qemu=qemu-system-x86_64; image=arch/x86/boot/bzImage
	machine=(-bios qboot.rom); console=ttyS0 ;;
arm64)	cross=aarch64-linux-gnu- ; qemu=qemu-system-aarch64; image=arch/arm64/boot/Image.gz
	machine=(-machine virt -cpu max,pauth-impdef=on); console=ttyAMA0 ;;
riscv)	cross=riscv64-linux-gnu- ; qemu=qemu-system-riscv64; image=arch/riscv/boot/Image
	machine=(-machine virt -cpu rv64 -bios /usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin)
	console=ttyS0 ;;
*)	echo "run: ARCH must be x86_64, arm64 or riscv" >&2; exit 2 ;;
esac

say() { printf '[run %s] %s\n' "$arch" "$*"; }

ccbin=$BUILD/ccache-bin
mkdir -p "$ccbin" "$out"
for cc in gcc cc aarch64-linux-gnu-gcc riscv64-linux-gnu-gcc; do
	[[ -e $ccbin/$cc ]] || ln -sf "$(command -v ccache)" "$ccbin/$cc"
done
export PATH=$ccbin:$PATH CCACHE_BASEDIR=$BUILD
export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=migrc KBUILD_BUILD_HOST=migrc

# Kernel: the fragments over the defaults, rebuilt only when they change.
frag=$out/fragment.config
cat "$ROOT/guest/config/common.config" "$ROOT/guest/config/$arch.config" > "$frag.new"
if ! cmp -s "$frag.new" "$frag" || [[ ! -f $out/.config ]]; then
	mv "$frag.new" "$frag"
	cp "$frag" "$out/.config"
	make -s -C "$TREE" O="$out" ARCH="$arch" CROSS_COMPILE="$cross" olddefconfig
else
	rm -f "$frag.new"
fi
say "building the kernel in $out (a few minutes the first time)"
start=$SECONDS
make -s -C "$TREE" O="$out" ARCH="$arch" CROSS_COMPILE="$cross" -j"$(nproc)" >"$out/build.log" 2>&1 ||
	{ tail -30 "$out/build.log"; exit 1; }
say "kernel ready ($((SECONDS - start))s)"

# Initramfs: one static program as /init.
initrd=$out/initramfs.cpio.gz
if [[ ! -f $initrd || $ROOT/guest/init.c -nt $initrd ]]; then
	rm -rf "$out/rootfs" && mkdir -p "$out/rootfs"/{proc,sys,dev}
	"${cross}gcc" -static -O2 -Wall -o "$out/rootfs/init" "$ROOT/guest/init.c"
	(cd "$out/rootfs" && find . | cpio -o -H newc --quiet | gzip -9) > "$initrd"
fi

say "booting: 4 CPUs, 2 NUMA nodes of 512 MiB (QEMU TCG)"
timeout 300 "$qemu" -nodefaults -m 1024 -smp 4 \
	-object memory-backend-ram,id=m0,size=512M \
	-object memory-backend-ram,id=m1,size=512M \
	-numa node,nodeid=0,cpus=0-1,memdev=m0 \
	-numa node,nodeid=1,cpus=2-3,memdev=m1 \
	"${machine[@]}" -kernel "$out/$image" -initrd "$initrd" \
	-append "console=$console quiet panic=-1" \
	-no-reboot -nographic -serial stdio > "$out/console.log" 2>&1 || true
sed -n '/=== migrc guest/,/=== end/p' "$out/console.log" | tr -d '\r'
grep -q '=== end' "$out/console.log" || { say "the guest did not finish; see $out/console.log"; exit 1; }
