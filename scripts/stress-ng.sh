#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stage Debian's stress-ng for the guest of ARCH (x86_64 or arm64) without
# installing it: download the .deb of stress-ng and of everything it
# depends on (Depends and Pre-Depends, recursively) with `apt-get
# download`, for the guest's Debian architecture (arm64 through multiarch:
# `dpkg --add-architecture arm64`, done by scripts/deps.sh), unpack them
# with `dpkg-deb -x`, and copy into $BUILD/stress-ng/DEBARCH/root only
# what the binary loads: /usr/bin/stress-ng, its program interpreter and
# the closure of its DT_NEEDED libraries (plus libgcc_s, which glibc
# dlopens for thread cancellation), at the paths the packages put them.
# scripts/run.sh packs that directory into the stress-ng initramfs.
#
# The package versions are those apt knows now (no network); the staging
# is redone only when one of them changed, so with everything staged this
# asks nothing of the network.  Prints the root directory.
#
# Bookworm has no riscv64 port (riscv64 became a Debian release
# architecture with trixie), so there is no stress-ng to stage for riscv.
#
# usage: stress-ng.sh ARCH
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
arch=${1:-x86_64}

case $arch in
x86_64)	darch=amd64 triplet=x86_64-linux-gnu ;;
arm64)	darch=arm64 triplet=aarch64-linux-gnu ;;
riscv)	echo "stress-ng: Debian 12 (bookworm) has no riscv64 packages" >&2; exit 3 ;;
*)	echo "stress-ng: ARCH must be x86_64 or arm64" >&2; exit 2 ;;
esac

say() { printf '[stress-ng %s] %s\n' "$arch" "$*" >&2; }
die() { say "$*"; exit 1; }

dir=$BUILD/stress-ng/$darch
if [[ $darch != "$(dpkg --print-architecture)" ]] &&
   ! dpkg --print-foreign-architectures | grep -qx "$darch"; then
	die "dpkg does not know $darch: run 'make deps' (dpkg --add-architecture $darch && apt-get update)"
fi

# The packages, each with the version apt would take: the stamp.
pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
	--no-breaks --no-replaces --no-enhances "stress-ng:$darch" | grep -v '^[ <]' | sort -u)
[[ -n $pkgs ]] || die "apt knows no stress-ng:$darch (apt-get update?)"
native=$(dpkg --print-architecture)
stamp=$(apt-cache show --no-all-versions $pkgs | awk -v native="$native" '
	/^Package: /	{ p = $2 }
	/^Version: /	{ v = $2 }
	/^Architecture: / { a = $2 }
	/^$/ && p	{ print p (a == native || a == "all" ? "" : ":" a) "=" v; p = "" }
	END		{ if (p) print p (a == native || a == "all" ? "" : ":" a) "=" v }' | sort -u)
[[ $(wc -l <<<"$stamp") -eq $(wc -l <<<"$pkgs") ]] ||
	die "apt has no candidate for some of: $(echo $pkgs)"

if [[ -x $dir/root/usr/bin/stress-ng && $(cat "$dir/stamp" 2>/dev/null) == "$stamp" ]]; then
	echo "$dir/root"
	exit 0
fi

say "fetching $(wc -l <<<"$pkgs" | tr -d ' ') packages (stress-ng $(sed -n 's/^stress-ng:*[a-z0-9]*=//p' <<<"$stamp"), $darch)"
rm -rf "$dir/debs" "$dir/full" "$dir/root" "$dir/stamp"
mkdir -p "$dir/debs" "$dir/full" "$dir/root"
# As root apt drops to _apt to download, which cannot write under build/.
(cd "$dir/debs" && apt-get download -q=2 -o APT::Sandbox::User=root $stamp) ||
	die "apt-get download failed"
for deb in "$dir"/debs/*.deb; do
	dpkg-deb -x "$deb" "$dir/full"
done

# copy PATH: copy /PATH of the unpacked packages into root, following
# symlinks (absolute ones point inside the unpacked tree) and copying
# each link and its target; prints the path of the file at the end.
copy() {
	local path=$1 target n=0

	while :; do
		[[ -e $dir/full$path || -L $dir/full$path ]] || die "missing in the packages: $path"
		(cd "$dir/full" && cp -a --parents ".$path" "$dir/root/")
		[[ -L $dir/full$path ]] || break
		target=$(readlink "$dir/full$path")
		[[ $target == /* ]] || target=$(dirname "$path")/$target
		path=$(realpath -m -s "$target")
		n=$((n + 1))
		[[ $n -lt 10 ]] || die "symlink loop at $path"
	done
	echo "$path"
}

# The file an soname resolves to in the default library directories.
find_lib() {
	local d

	for d in /lib/$triplet /usr/lib/$triplet /lib /usr/lib; do
		if [[ -e $dir/full$d/$1 ]]; then
			echo "$d/$1"
			return
		fi
	done
	die "no $1 in the packages"
}

bin=/usr/bin/stress-ng
copy "$bin" >/dev/null
interp=$(readelf -l "$dir/full$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[[ -n $interp ]] || die "$bin has no program interpreter"
copy "$interp" >/dev/null

declare -A seen=()
queue=($(readelf -d "$dir/full$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p') libgcc_s.so.1)
while [[ ${#queue[@]} -gt 0 ]]; do
	so=${queue[0]}
	queue=("${queue[@]:1}")
	[[ -n ${seen[$so]:-} ]] && continue
	seen[$so]=1
	lib=$(copy "$(find_lib "$so")")
	queue+=($(readelf -d "$dir/full$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'))
done

echo "$stamp" > "$dir/stamp"
say "staged $bin, $interp and ${#seen[@]} libraries ($(du -sh "$dir/root" | cut -f1)) in $dir/root"
echo "$dir/root"
