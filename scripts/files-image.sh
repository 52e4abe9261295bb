#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The ext2 image of the file scenarios (guest/filescenarios.c,
# WORKLOAD=files): the guest's root is tmpfs, whose folios migrc never
# defers, so the page-cache folios under test come from a real disk
# filesystem that opts in to the writer gate (FS_MIGRC_GATED).  Made
# anew for every boot (the scenarios change the files), 16 MiB, 4 KiB
# blocks, put in the initramfs as /files.ext2 (scripts/run.sh), which the
# guest copies to its RAM disk /dev/ram0 and mounts.
#
# Every data file is NPAGES pages; each 64-bit word of page p holds
# OLD ^ p (little-endian, as on all three guests), the pattern
# guest/filescenarios.c checks for.  One file per scenario: a file that a
# scenario wrote or truncated is dirty or has changed, and would not
# defer again in the same boot.
#
# usage: files-image.sh IMAGE [FILE...]   (FILEs are copied to the image's root)
set -euo pipefail

img=$1
shift
OLD=0x01d01d01d01d01d0
NPAGES=64
files=(write map trunc-eof trunc-zero otrunc)

dir=$(mktemp -d "${img%/*}/files-image.XXXXXX")
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" "$OLD" "$NPAGES" "${files[@]}" <<'PY'
import struct, sys
d, old, npages, names = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3]), sys.argv[4:]
data = b''.join(struct.pack('<Q', old ^ p) * 512 for p in range(npages))
for n in names:
    with open(f'{d}/{n}.dat', 'wb') as f:
        f.write(data)
PY
for f in "$@"; do
	cp "$f" "$dir/"
done
rm -f "$img"
truncate -s 16M "$img"
/usr/sbin/mke2fs -q -F -t ext2 -b 4096 -I 256 -d "$dir" "$img"
