#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The ext2 image of the file scenarios (guest/filescenarios.c,
# WORKLOAD=files): the guest's root is tmpfs, whose folios migrc never
# defers, so the page-cache folios under test come from a real disk
# filesystem that opts in to the writer gate (FS_MIGRC_GATED).  Made
# anew for every boot (the scenarios change the files), 48 MiB, 4 KiB
# blocks, put in the initramfs as /files.ext2 (scripts/run.sh), which the
# guest copies to its RAM disk /dev/ram0 and mounts.
#
# Every data file is NPAGES pages; each 64-bit word of page p holds
# OLD ^ p (little-endian, as on all three guests), the pattern
# guest/filescenarios.c checks for.  One file per scenario: a file that a
# scenario wrote or truncated is dirty or has changed, and would not
# defer again in the same boot.
#
# usage: [IMAGE_MB=n] [BENCH_PAGES=n] files-image.sh IMAGE [FILE...]
#        (FILEs are copied to the image's root; IMAGE_MB, 48 by default,
#        is its size; BENCH_PAGES, 8192 by default, the size of bench.dat)
set -euo pipefail

img=$1
shift
OLD=0x01d01d01d01d01d0
NPAGES=64
BENCH_PAGES=${BENCH_PAGES:-8192}	# bench.dat, the file-pingpong workload of guest/bench.c
IMAGE_MB=${IMAGE_MB:-48}
files=(write map trunc-eof trunc-zero otrunc)

dir=$(mktemp -d "$(dirname "$img")/files-image.XXXXXX")
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" "$OLD" "$NPAGES" "$BENCH_PAGES" "${files[@]}" <<'PY'
import struct, sys
d, old, npages, bpages = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3]), int(sys.argv[4])
names = sys.argv[5:]
data = b''.join(struct.pack('<Q', old ^ p) * 512 for p in range(npages))
for n in names:
    with open(f'{d}/{n}.dat', 'wb') as f:
        f.write(data)
# bench.dat: guest/bench.c's pattern(p, w, 1) in word w of page p.
base = [(w << 8) ^ 1 ^ 0x5a5a000000000000 for w in range(512)]
with open(f'{d}/bench.dat', 'wb') as f:
    for p in range(bpages):
        f.write(struct.pack('<512Q', *[b ^ (p << 24) for b in base]))
PY
for f in "$@"; do
	cp "$f" "$dir/"
done
rm -f "$img"
truncate -s "${IMAGE_MB}M" "$img"
/usr/sbin/mke2fs -q -F -t ext2 -b 4096 -I 256 -d "$dir" "$img"
