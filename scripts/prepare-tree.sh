#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Turn this repository into a Linux 6.12 git tree:
#
#   pristine  Debian's linux-source-6.12, unpacked once, one commit that
#             names the exact package version (tag "pristine");
#   migrc     one commit per entry of patches/series on top of it.
#
# A series entry is a mail-format patch.  After its "---" line it may name
# repository files with "Files:" lines; those files are added whole (their
# tree path is given by tree_path() below), and the diff that follows, if
# any, is applied to the existing kernel files.
#
# The commits are built with git plumbing in a scratch index, with fixed
# dates, so the same repository always yields the same commit ids.  The
# work tree is then moved to the new head with a two-way checkout, which
# rewrites only the files that differ: kbuild rebuilds only what changed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
TREE=$BUILD/linux
TARBALL=/usr/src/linux-source-6.12.tar.xz
SERIES=$ROOT/patches/series
FIXED_DATE="2026-01-01T00:00:00+0000"

die() { echo "prepare-tree: $*" >&2; exit 1; }

# Repository path -> kernel tree path.  Paths not listed are project files
# (scripts, README, ...) that never enter the tree.
tree_path() {
	case $1 in
	Kconfig)				echo "lib/migrc/Kconfig" ;;
	kunit/*)				echo "lib/migrc/${1#kunit/}" ;;
	lib/*|include/*|arch/*|mm/*|Documentation/*|tools/*|MAINTAINERS)
						echo "$1" ;;
	*)					return 1 ;;
	esac
}

pkg_version() {
	dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown
}

export GIT_AUTHOR_NAME="migrc developers" GIT_AUTHOR_EMAIL="migrc@localhost"
export GIT_COMMITTER_NAME="migrc developers" GIT_COMMITTER_EMAIL="migrc@localhost"
export GIT_COMMITTER_DATE=$FIXED_DATE GIT_AUTHOR_DATE=$FIXED_DATE

unpack() {
	local version=$1 tmp=$BUILD/linux.unpack kver
	echo "prepare-tree: unpacking linux-source-6.12 $version (once; takes a minute)"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	tar -C "$tmp" --strip-components=1 -xf "$TARBALL"
	kver=$(make -s -C "$tmp" kernelversion 2>/dev/null || echo 6.12)
	(
		cd "$tmp"
		git init -q -b migrc
		git config core.autocrlf false
		git config gc.auto 0
		git add -A -f .
		git commit -q -m "Linux $kver (Debian linux-source-6.12 $version)" \
			-m "Pristine source of Debian's linux-source-6.12 package, version $version, as unpacked from $TARBALL."
		git tag -f pristine >/dev/null
		echo "$version" > .git/migrc-base-version
	)
	rm -rf "$TREE"
	mv "$tmp" "$TREE"
}

[[ -f $TARBALL ]] || die "$TARBALL missing (run scripts/deps.sh)"
mkdir -p "$BUILD"
version=$(pkg_version)
if [[ ! -d $TREE/.git ]] || [[ $(cat "$TREE/.git/migrc-base-version" 2>/dev/null) != "$version" ]]; then
	[[ -d $TREE/.git ]] && echo "prepare-tree: linux-source-6.12 is now $version; re-unpacking"
	unpack "$version"
fi

cd "$TREE"
SCRATCH_INDEX=$TREE/.git/migrc-scratch-index
export GIT_INDEX_FILE=$SCRATCH_INDEX
rm -f "$SCRATCH_INDEX"
git read-tree pristine
parent=$(git rev-parse pristine)
declare -A placed=()
work=$(mktemp -d)
trap 'rm -rf "$work" "$SCRATCH_INDEX"' EXIT

n=0
while read -r entry || [[ -n $entry ]]; do
	entry=${entry%%#*}
	entry=$(echo "$entry" | xargs)
	[[ -z $entry ]] && continue
	n=$((n + 1))
	pf=$ROOT/patches/$entry
	[[ -f $pf ]] || die "series names $entry, which does not exist"

	git mailinfo -b "$work/msg" "$work/patch" < "$pf" > "$work/info" ||
		die "$entry: not a mail-format patch"
	subject=$(sed -n 's/^Subject: //p' "$work/info")
	author=$(sed -n 's/^Author: //p' "$work/info")
	email=$(sed -n 's/^Email: //p' "$work/info")
	[[ -n $subject ]] || die "$entry: no Subject"

	# Whole files carried from the repository.
	while read -r f; do
		tp=$(tree_path "$f") || die "$entry: Files: $f has no place in the tree"
		[[ -f $ROOT/$f ]] || die "$entry: Files: $f does not exist"
		[[ -z ${placed[$f]:-} ]] || die "$entry: $f is already carried by ${placed[$f]}"
		placed[$f]=$entry
		mode=100644
		[[ -x $ROOT/$f ]] && mode=100755
		blob=$(git hash-object -w -- "$ROOT/$f")
		git update-index --add --cacheinfo "$mode,$blob,$tp"
	done < <(sed -n 's/^Files:[[:space:]]*//p' "$work/patch" | tr ' \t' '\n\n' | sed '/^$/d')

	# The diff against existing kernel files, if any.
	if grep -q '^diff --git ' "$work/patch"; then
		if ! git apply --cached --whitespace=nowarn "$work/patch" 2> "$work/err"; then
			echo "prepare-tree: patch $entry does not apply to $(git log -1 --format=%s pristine)" >&2
			sed 's/^/  /' "$work/err" >&2
			echo "  failed hunk(s), as patch(1) sees them:" >&2
			(cd "$work" && rm -rf t && mkdir t && git -C "$TREE" archive "$parent" | tar -C t -x &&
			 patch -d t -p1 --dry-run < "$work/patch" 2>&1 | grep -E 'FAILED|patching file' | sed 's/^/    /' >&2) || true
			exit 1
		fi
	fi

	tree=$(git write-tree)
	parent=$(GIT_AUTHOR_NAME=${author:-$GIT_AUTHOR_NAME} GIT_AUTHOR_EMAIL=${email:-$GIT_AUTHOR_EMAIL} \
		git commit-tree "$tree" -p "$parent" -F <(printf '%s\n\n' "$subject"; cat "$work/msg"))
done < "$SERIES"

# Every tree-bound repository file must be carried by some patch.
while read -r f; do
	tree_path "$f" >/dev/null || continue
	[[ -e $ROOT/$f ]] || continue	# deleted, not yet committed
	[[ -n ${placed[$f]:-} ]] || die "$f is in no patch of patches/series (add it to a Files: line)"
done < <(cd "$ROOT" && env -u GIT_INDEX_FILE git ls-files --cached --others --exclude-standard)

unset GIT_INDEX_FILE
old=$(git rev-parse -q --verify HEAD || true)
if [[ $old == "$parent" ]]; then
	echo "prepare-tree: $TREE up to date ($n patches on $(git log -1 --format=%s pristine))"
	exit 0
fi
if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
	die "$TREE has local changes; the tree is generated from this repository: edit the repository (or 'git -C $TREE stash')"
fi
git checkout -q -B migrc "$parent"
echo "prepare-tree: $TREE now at $(git rev-parse --short HEAD) ($n patches on $(git log -1 --format=%s pristine))"
