#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the mm selftests the guest runs (WORKLOAD=selftests), statically,
# for ARCH, into OUT (default build/guest-ARCH/selftests):
#
#   OUT/usr/include	the tree's uapi headers (make headers_install)
#   OUT/root/selftests	the binaries, guest/selftests/list and expected:
#			the directory the guest's initramfs adds
#   OUT/stamp		what they were built from
#
# The tests named in guest/selftests/list come from the prepared tree's
# tools/testing/selftests/mm (6.12, built as its Makefile builds them:
# same flags, with vm_util.c and thp_settings.c), except those with a
# source of their own in guest/selftests/ (migration_ro.c).  migration.c
# links against guest/selftests/libnuma, our stand-in for the few libnuma
# calls it makes (see numa.c there for why).  No liburing: the io_uring
# cases of cow and gup_longterm compile out, as upstream without it.
#
# Rebuilt only when an input changed: the tree's selftest sources, uapi
# headers and gup_test.h (by git object id), ours, this script, the
# compiler.  Prints the stamp (the inputs' hash) on success.
#
# usage: selftests.sh ARCH [OUT]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
TREE=$BUILD/linux
arch=${1:?usage: selftests.sh ARCH [OUT]}
out=${2:-$BUILD/guest-$arch/selftests}
ours=$ROOT/guest/selftests
mm=$TREE/tools/testing/selftests/mm

case $arch in
x86_64)	cross= ; karch=x86 ;;
arm64)	cross=aarch64-linux-gnu- ; karch=arm64 ;;
riscv)	cross=riscv64-linux-gnu- ; karch=riscv ;;
*)	echo "selftests: ARCH must be x86_64, arm64 or riscv" >&2; exit 2 ;;
esac
cc=${cross}gcc

# The binaries: the second word of each line of the list.
bins=$(sed -e 's/#.*//' "$ours/list" | awk 'NF { print $2 }' | sort -u)

stamp=$( {
	git -C "$TREE" rev-parse HEAD:tools/testing/selftests/mm \
		HEAD:tools/testing/selftests/kselftest.h \
		HEAD:tools/testing/selftests/kselftest_harness.h \
		HEAD:tools/include/uapi HEAD:include/uapi \
		HEAD:arch/$karch/include/uapi HEAD:mm/gup_test.h
	find "$ours" -type f | LC_ALL=C sort | xargs cat
	cat "$0"
	"$cc" --version | head -1
	echo "$arch"
} | sha1sum | cut -d' ' -f1)
if [[ $(cat "$out/stamp" 2>/dev/null) == "$stamp" ]]; then
	echo "$stamp"
	exit 0
fi

rm -rf "$out"
mkdir -p "$out/obj" "$out/include" "$out/root/selftests"
# The uapi headers, from an output directory of their own: kbuild must not
# write into the tree (the guest kernels build it with O=).
make -s -C "$TREE" O="$out/obj" ARCH="$arch" CROSS_COMPILE="$cross" \
	INSTALL_HDR_PATH="$out/usr" headers_install >&2
# What check_config.sh writes when it finds no liburing.
echo "// No liburing support found" > "$out/include/local_config.h"

# The mm Makefile's CFLAGS and LDLIBS, static.
cflags=(-Wall -O2 -I "$TREE" -I "$out/include" -isystem "$out/usr/include"
	-isystem "$TREE/tools/include/uapi" -U_FORTIFY_SOURCE -static)
ldlibs=(-lrt -lpthread -lm)

# From the mm directory with relative names, as its Makefile does: some
# tests use __FILE__ as a path (gup_longterm's local tmpfile).
cd "$mm"
for bin in $bins; do
	extra=()
	if [[ -f $ours/$bin.c ]]; then
		src=("$ours/$bin.c")
		extra=(-I "$TREE/tools/testing/selftests")
	else
		src=("$bin.c" vm_util.c thp_settings.c)
		[[ $bin == uffd-* ]] && src+=(uffd-common.c)
		# libnuma's stand-in, where the Makefile links -lnuma.
		[[ $bin == migration || $bin == ksm_tests ]] &&
			extra=(-isystem "$ours/libnuma" "$ours/libnuma/numa.c")
	fi
	"$cc" "${cflags[@]}" "${src[@]}" -o "$out/root/selftests/$bin" \
		"${extra[@]}" "${ldlibs[@]}" >"$out/obj/$bin.log" 2>&1 ||
		{ cat "$out/obj/$bin.log" >&2; exit 1; }
done
cp "$ours/list" "$ours/expected" "$out/root/selftests/"
echo "$stamp" > "$out/stamp"
echo "$stamp"
