#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what the project needs on Debian 12, through apt-get, and only
# when something is missing: with everything present this asks nothing of
# the network.  The guest stress-ng test (scripts/stress-ng.sh) downloads
# Debian's stress-ng for amd64 and arm64 without installing it; for the
# foreign one of the two, dpkg must know the architecture (multiarch).
set -euo pipefail

# command-or-file  package
need=(
	"/usr/src/linux-source-6.12.tar.xz linux-source-6.12"
	"gcc gcc"
	"/usr/lib/x86_64-linux-gnu/libc.a libc6-dev"
	"make make"
	"aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu"
	"riscv64-linux-gnu-gcc gcc-riscv64-linux-gnu"
	"/usr/aarch64-linux-gnu/lib/libc.a libc6-dev-arm64-cross"
	"/usr/riscv64-linux-gnu/lib/libc.a libc6-dev-riscv64-cross"
	"qemu-system-x86_64 qemu-system-x86"
	"qemu-system-aarch64 qemu-system-arm"
	"qemu-system-riscv64 qemu-system-misc"
	"/usr/share/qemu/qboot.rom qemu-system-data"
	"/usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin opensbi"
	"flex flex"
	"bison bison"
	"bc bc"
	"/usr/include/libelf.h libelf-dev"
	"/usr/include/openssl/ssl.h libssl-dev"
	"ccache ccache"
	"python3 python3"
	"git git"
	"cpio cpio"
	"xz xz-utils"
	"gzip gzip"
	"perl perl"
	"sparse sparse"
	"/usr/lib/python3/dist-packages/ply/__init__.py python3-ply"
	"/usr/lib/python3/dist-packages/git/__init__.py python3-git"
	"rsync rsync"
	"readelf binutils"
	"/usr/sbin/mke2fs e2fsprogs"
)

missing=()
for entry in "${need[@]}"; do
	what=${entry% *}
	pkg=${entry##* }
	if [[ $what == /* ]]; then
		[[ -e $what ]] && continue
	else
		command -v "$what" >/dev/null 2>&1 && continue
	fi
	missing+=("$pkg")
done

# The guests' Debian architectures, for stress-ng.
arches=()
for a in amd64 arm64; do
	[[ $a == "$(dpkg --print-architecture)" ]] && continue
	dpkg --print-foreign-architectures | grep -qx "$a" || arches+=("$a")
done

[[ ${#missing[@]} -eq 0 && ${#arches[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
	if [[ ${#missing[@]} -eq 0 ]]; then
		# Only the stress-ng test needs them; it says so if they lack.
		echo "deps: as root, 'dpkg --add-architecture ${arches[*]}' for the stress-ng test" >&2
		exit 0
	fi
	echo "deps: need root to install: ${missing[*]}" >&2
	exit 1
fi
echo "deps: ${arches[*]:+adding dpkg architectures ${arches[*]}; }${missing[*]:+installing ${missing[*]}}"
export DEBIAN_FRONTEND=noninteractive
for a in "${arches[@]}"; do
	dpkg --add-architecture "$a"
done
apt-get update -qq
[[ ${#missing[@]} -eq 0 ]] ||
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
