#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make run`: build the migrc guest kernel for ARCH and a static /init
# (guest/init.c + guest/bench.c), boot them under QEMU (TCG) with four
# CPUs, run the workloads with migrc off and on in the same boot, and print
# the table (scripts/report.py), the JSON and the SVG chart.
#
# Layouts: "numa" is two nodes of 512 MiB with two CPUs each (ping-pong,
# file-pingpong, file-text, write-heavy, fork-shared, fault-cost); "tier"
# is a 256 MiB node 0 with all CPUs and a CPU-less 768 MiB node 1 (the
# CXL shape: tiering, file-tiering).  On
# x86_64 the firmware describes node 1 as slower (ACPI HMAT), so the
# kernel puts it in a lower memory tier and demotes to it.
#
# usage: run.sh ARCH     (WORKLOAD=a,b DURATION=s WS_PAGES=n in the env; for the
# scenarios also SCENARIOS=a,b to run only those, CHECKER=0 without the
# debug checker, MIGRC_HOOKS=mask with hooks switched off; for the mm
# selftests, WORKLOAD=selftests, SELFTESTS=a,b runs only those of
# guest/selftests/list, CHECKER= and MIGRC_HOOKS= as for the scenarios;
# for the file scenarios, WORKLOAD=files, SCENARIOS=, CHECKER= and
# MIGRC_HOOKS= as for the scenarios;
# QEMU_GDB=1 opens QEMU's gdbstub on port 1234, to look at a hung guest
# with gdb-multiarch build/guest-ARCH/vmlinux and "target remote :1234";
# ICOUNT=n runs the guest in QEMU's icount mode, one vCPU at a time and
# 2^n ns of guest time per instruction, so that CPU times the guest
# measures count instructions, not host time shared by four vCPUs);
# QEMU_PLUGIN=path[,args] loads a TCG plugin (make profile: scripts/insns/))
#
# VARIANT=kasan|kcsan (make test): boot the sanitizer KUnit kernel that
# `scripts/kunit.sh ARCH VARIANT` built in build/kunit-ARCH-VARIANT (it has
# the guest's config fragments too) instead of building a guest kernel,
# with kunit.enable=0 so that the suites do not run again, and SANITIZER=1
# for /init (longer time limits; every check the same).  Logs go to
# build/guest-ARCH-VARIANT, counts to build/guest-ARCH-VARIANT[-stress].counts.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
TREE=$BUILD/linux
arch=${1:-x86_64}
variant=${VARIANT:-}
name=$arch${variant:+-$variant}
out=$BUILD/guest-$name
kdir=$out	# where the kernel image is
[[ -n $variant ]] && kdir=$BUILD/kunit-$name

# x86_64: no_timer_check, since under TCG on a loaded host the IO-APIC
# timer check can miss its ticks and panic the boot ("IO-APIC + timer
# doesn't work!"), as it did on the KCSAN kernel beside other builds.
bootargs=
case $arch in
x86_64)	cross= ; qemu=qemu-system-x86_64; image=arch/x86/boot/bzImage
	machine=(-bios qboot.rom); console=ttyS0; bootargs=no_timer_check ;;
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

workload=${WORKLOAD:-tiering,file-tiering,pingpong,file-pingpong,file-text,file-open}
duration=${DURATION:-8}
# stress-ng (guest/stressng.c): DURATION is per stressor, 10 s by default.
[[ $workload == stressng ]] && duration=${DURATION:-10}
# Debian 12 has no riscv64 port, so no stress-ng to run there.
if [[ $workload == stressng && $arch == riscv ]]; then
	say "no stress-ng for riscv: Debian 12 (bookworm) has no riscv64 packages"
	exit 2
fi

# Kernel: the fragments over the defaults, rebuilt only when they change.
# A variant's kernel is kunit.sh's build: use it as it is.
if [[ -n $variant ]]; then
	[[ -f $kdir/$image && -f $kdir/.config ]] ||
		{ say "no $variant kernel in $kdir: run scripts/kunit.sh $arch $variant first"; exit 1; }
	grep -q '^CONFIG_BLK_DEV_INITRD=y' "$kdir/.config" ||
		{ say "$kdir was built without the guest's config fragments"; exit 1; }
	say "the $variant KUnit kernel of $kdir, suites off, with" \
	    $(sed -n 's/^CONFIG_\(KASAN\|KCSAN\|PROVE_LOCKING\|DEBUG_VM\|PAGE_TABLE_CHECK\)=y$/\1/p' "$kdir/.config")
else
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
fi

# Initramfs: one static program as /init, rebuilt when the sources differ
# from those it was built from (not by date: another checkout sharing
# BUILD may have built it later from other sources).
initrd=$out/initramfs.cpio.gz
sources=$(cat "$ROOT"/guest/*.[ch] | sha1sum | cut -d' ' -f1)
if [[ ! -f $initrd || $(cat "$initrd.sources" 2>/dev/null) != "$sources" ]]; then
	rm -rf "$out/rootfs" && mkdir -p "$out/rootfs"/{proc,sys,dev}
	"${cross}gcc" -static -O2 -Wall -pthread -o "$out/rootfs/init" \
		"$ROOT"/guest/*.c
	(cd "$out/rootfs" && find . | cpio -o -H newc --quiet | gzip -9) > "$initrd"
	echo "$sources" > "$initrd.sources"
fi

# The stress-ng test boots that archive followed by a second one with
# Debian's stress-ng, its libraries and its loader (scripts/stress-ng.sh;
# the kernel unpacks concatenated archives in turn), rebuilt when either
# differs: its sources are the first's and every staged file and link.
if [[ $workload == stressng ]]; then
	sngroot=$("$ROOT/scripts/stress-ng.sh" "$arch") || exit
	sng=$out/initramfs-stressng.cpio.gz
	sngsources=$( { echo "$sources"; cd "$sngroot" &&
			find . -printf '%p %m %l\n' | LC_ALL=C sort &&
			find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha1sum; } |
		      sha1sum | cut -d' ' -f1)
	if [[ ! -f $sng || $(cat "$sng.sources" 2>/dev/null) != "$sngsources" ]]; then
		{ cat "$initrd"; (cd "$sngroot" && find . | LC_ALL=C sort |
				  cpio -o -H newc --quiet | gzip -6); } > "$sng.new"
		mv "$sng.new" "$sng"
		echo "$sngsources" > "$sng.sources"
	fi
	initrd=$sng
fi

# The mm selftests (WORKLOAD=selftests): scripts/selftests.sh builds them
# when their inputs change; their directory goes into a second cpio
# appended to the initramfs (the kernel unpacks both), so the other
# workloads boot without them.
if [[ $workload == selftests ]]; then
	say "building the mm selftests (statically, when their sources changed)"
	stamp=$("$ROOT/scripts/selftests.sh" "$arch" "$out/selftests")
	full=$out/initramfs-selftests.cpio.gz
	if [[ ! -f $full || $(cat "$full.sources" 2>/dev/null) != "$sources $stamp" ]]; then
		(cd "$out/selftests/root" && find . | cpio -o -H newc --quiet | gzip -9) |
			cat "$initrd" - > "$full"
		echo "$sources $stamp" > "$full.sources"
	fi
	initrd=$full
fi

results=$BUILD/results
mkdir -p "$results"

# boot LAYOUT WORKLOADS [NAME [CMDLINE]]: one guest run, its console in
# $out/console-NAME.log (NAME defaults to LAYOUT); CMDLINE, if given, is
# added to the kernel command line instead of migrc_disable_hooks=$MIGRC_HOOKS.
boot() {
	local layout=$1 wl=$2 log=$out/console-${3:-$1}.log extra=${4:-${MIGRC_HOOKS:+migrc_disable_hooks=$MIGRC_HOOKS}}
	local numa machine_x=("${machine[@]}") tier= mem=1024
	# GUEST_MB= sizes the guest (the tests 1024, the benchmark 4096; the
	# tiering layout keeps node 0 at 256 MiB and gives node 1 the rest):
	# the cap on pending pages, and with it how many rounds a run needs,
	# scales with memory.
	mem=${GUEST_MB:-${default_mb:-1024}}
	((mem >= 512)) || { say "GUEST_MB=$mem: at least 512"; exit 2; }
	# The tests (scenarios, files, stress, stressng, soak, selftests) run
	# with migrc's debug checker on, unless CHECKER=0 (to see a missed
	# flush as stale data: the checker fails migrc safe when it finds one).
	[[ ($wl == scenarios || $wl == files || $wl == stress || $wl == soak ||
	    $wl == stressng || $wl == selftests) && ${CHECKER:-1} != 0 ]] &&
		extra+=" page_table_check=on"
	[[ -n ${SCENARIOS:-} ]] && extra+=" SCENARIOS=$SCENARIOS"
	[[ -n ${SELFTESTS:-} ]] && extra+=" SELFTESTS=$SELFTESTS"
	# THP is in the guest kernel for the selftests (madvise mode); the
	# rest boots with it off, as before it was there: with THP on,
	# khugepaged raises min_free_kbytes and so every watermark, and the
	# stress tests' pressure-no-oom found nothing to compare.
	[[ $wl == selftests ]] || extra+=" transparent_hugepage=never"
	# A sanitizer KUnit kernel: no suites this time, slower kernel paths.
	[[ -n $variant ]] && extra+=" kunit.enable=0 SANITIZER=1"
	# One socket per node, so the CPU topology agrees with the NUMA one.
	local smp=(-smp 4,sockets=2,cores=2,threads=1)
	# Guest memory is allocated up front: QEMU otherwise faults each
	# guest page in (and the host zeroes it) the first time the guest
	# touches it, which charges a run that uses new pages (migrc on,
	# keeping old folios pending while new ones are allocated) with host
	# work real memory does not have: 1.43 times the time per page in the
	# tuned ping-pong of an 8 GiB guest without this, 1.04 with it.
	local ram=memory-backend-ram,prealloc=on

	if [[ $layout == numa ]]; then
		numa=(-object $ram,id=m0,size=$((mem / 2))M
		      -object $ram,id=m1,size=$((mem / 2))M
		      -numa node,nodeid=0,cpus=0-1,memdev=m0
		      -numa node,nodeid=1,cpus=2-3,memdev=m1)
		say "booting: 4 CPUs, 2 NUMA nodes of $((mem / 2)) MiB with 2 CPUs each (QEMU TCG)"
	else
		numa=(-object $ram,id=m0,size=256M
		      -object $ram,id=m1,size=$((mem - 256))M
		      -numa node,nodeid=0,cpus=0-3,memdev=m0
		      -numa node,nodeid=1,memdev=m1)
		# QEMU's riscv virt machine needs the CPUs spread evenly.
		[[ $arch == riscv ]] &&
		numa=(-object $ram,id=m0,size=256M
		      -object $ram,id=m1,size=$((mem - 256))M
		      -numa node,nodeid=0,cpus=0-1,memdev=m0
		      -numa node,nodeid=1,cpus=2-3,memdev=m1)
		if [[ $arch == x86_64 ]]; then
			machine_x=(-machine pc,hmat=on "${machine[@]}")
			numa=(-object $ram,id=m0,size=256M
			      -object $ram,id=m1,size=$((mem - 256))M
			      -numa node,nodeid=0,cpus=0-3,memdev=m0,initiator=0
			      -numa node,nodeid=1,memdev=m1,initiator=0
			      -numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,latency=20
			      -numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-bandwidth,bandwidth=20G
			      -numa hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-latency,latency=200
			      -numa hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-bandwidth,bandwidth=5G)
		fi
		tier=1
		[[ $arch == riscv ]] || smp=(-smp 4)
		say "booting: tiering layout, node 0 256 MiB with the CPUs, node 1 $((mem - 256)) MiB (QEMU TCG)"
	fi
	say "workloads: ${wl//,/, }; ${duration}s per workload and mode, migrc off then on"
	# A sanitizer kernel takes longer (the stress tests' own limits are
	# three times theirs there, 1800 s in all): twice the time.
	local secs=${limit:-$((600 + 60 * duration))}
	[[ -n $variant && -z ${limit:-} ]] && secs=$((2 * secs))
	timeout "$secs" "$qemu" -nodefaults -m "$mem" "${smp[@]}" "${numa[@]}" \
		"${machine_x[@]}" -kernel "$kdir/$image" -initrd "$initrd" \
		-append "console=$console $bootargs loglevel=5 panic=-1 WORKLOAD=$wl DURATION=$duration ${WS_PAGES:+WS_PAGES=$WS_PAGES} ${SOAK_MINUTES:+SOAK_MINUTES=$SOAK_MINUTES} $extra ${tier:+TIER=1}" \
		${QEMU_GDB:+-s} ${ICOUNT:+-icount shift=$ICOUNT} \
		${QEMU_PLUGIN:+-plugin "$QEMU_PLUGIN"} -no-reboot -nographic -serial stdio 2>&1 | stdbuf -oL tr -d '\r' | tee "$log" |
		sed -un 's/^@@progress /    .. /p' || true
	grep -q '=== end' "$log" || { say "the guest did not finish; see $log"; exit 1; }
	grep -E '^(integrity|tiering|migrc|file-open):' "$log" | head -20 || true
}

# A kernel report in a guest console: BUG: (KASAN, KCSAN, KFENCE, sleeping
# in atomic, bad page state, ...), WARNING: (WARN*, the debug checker,
# lockdep's circular/recursive locking, inconsistent lock state, suspicious
# RCU usage), BUG_ON() and VM_BUG_ON*() (page_table_check's among them:
# "kernel BUG at", an Oops, the folio dump), faults in the kernel, UBSAN,
# a panic, an RCU stall or a hung task.  No line of /init matches.
reports='BUG:|WARNING:|kernel BUG at|Oops|Internal error:|Unable to handle kernel|'
reports+='general protection fault|Kernel panic|UBSAN:|KASAN:|KCSAN:|KFENCE:|'
reports+='possible (circular|recursive) locking|inconsistent lock state|'
reports+='lock held when returning|page dumped because|'
reports+='detected stall|blocked for more than'

# count WHAT COUNTS LOG...: print the @@test lines of the logs, write
# "passed failed skipped" to COUNTS ("@@test NAME ok|FAIL|SKIP ...": a
# skip is counted as skipped, neither passed nor failed).  A log without
# its "@@WHAT done" line or with a kernel report counts one failure more;
# the reports are printed (up to 40 lines a log: each report line and what
# follows it; the log has it all).
count() {
	local what=$1 counts=$2 log scan passed=0 failed=0 skipped=0 names=${2%.counts}.failed
	shift 2
	rm -f "$names"
	for log in "$@"; do
		sed -n 's/^@@test /  /p; s/^@@metric /  metric: /p' "$log"
		passed=$((passed + $(grep -c '^@@test [^ ]* ok' "$log" || true)))
		failed=$((failed + $(grep -c '^@@test [^ ]* FAIL' "$log" || true)))
		skipped=$((skipped + $(grep -c '^@@test [^ ]* SKIP' "$log" || true)))
		# The failed names, for the summary of scripts/test.sh.
		sed -n 's/^@@test \([^ ]*\) FAIL \?\(.\{0,150\}\).*/\1: \2/p' "$log" >> "$names"
		if ! grep -q "^@@$what done" "$log"; then
			failed=$((failed + 1))
			echo "did not finish" >> "$names"
		fi
		# Known upstream reports (scripts/known-reports.py) are named,
		# not counted; any other report fails the run.
		scan=$(python3 "$ROOT/scripts/known-reports.py" "$log" "$kdir/vmlinux") ||
			scan=$(cat "$log")
		sed -n 's/^@@known-report /  known upstream report, not counted: /p' <<<"$scan"
		# gup_test -ct (the selftests) asks the kernel to dump pages:
		# that dump is its output, not a report.
		scan=$(grep -v 'page dumped because: gup_test: dump_pages() test' <<<"$scan" || true)
		if grep -qE "$reports" <<<"$scan"; then
			failed=$((failed + 1))
			echo "kernel report" >> "$names"
			say "kernel report(s) in $log:"
			grep -E -A25 "$reports" <<<"$scan" | head -40 || true
		fi
	done
	echo "$passed $failed $skipped" > "$counts"
	if [[ $skipped -gt 0 ]]; then
		say "$what: $passed passed, $failed failed, $skipped skipped"
	else
		say "$what: $passed passed, $failed failed"
	fi
	[[ $failed -eq 0 ]]
}

# The stale-data scenarios (make test, make mutate): one line per scenario,
# counts in build/guest-ARCH[-VARIANT].counts as "passed failed skipped".
if [[ $workload == scenarios ]]; then
	boot numa scenarios
	count scenarios "$BUILD/guest-$name${MIGRC_HOOKS:+-hooks$MIGRC_HOOKS}.counts" \
		"$out/console-numa.log"
	exit
fi

# The ext2 image of the file scenarios and of the file-* workloads:
# made anew for every boot by scripts/files-image.sh and appended to the
# initramfs as /files.ext2; the guest copies it to the RAM disk /dev/ram0
# and mounts that (guest/filescenarios.c, files_mount()).
with_files() {
	mkdir -p "$out/files-root"
	"$ROOT/scripts/files-image.sh" "$out/files-root/files.ext2" "$out/rootfs/init"
	(cd "$out/files-root" && echo files.ext2 | cpio -o -H newc --quiet | gzip -1) |
		cat "$initrd" - > "$out/initramfs-files.cpio.gz"
	initrd=$out/initramfs-files.cpio.gz
}

# The file scenarios (guest/filescenarios.c): the stale-data scenarios on
# page-cache folios of that image.  Counts in
# build/guest-ARCH[-VARIANT]-files.counts.
if [[ $workload == files ]]; then
	with_files
	boot numa files files
	count files "$BUILD/guest-$name-files${MIGRC_HOOKS:+-hooks$MIGRC_HOOKS}.counts" \
		"$out/console-files.log"
	exit
fi

# The stress tests (guest/stress.c): pressure, CPU hotplug and bad knob
# input in one boot, then a short second boot with bad boot parameters
# (migrc=off and migrc_disable_hooks=0 first, so that a bad value taken
# for a good one shows).  Counts in build/guest-ARCH[-VARIANT]-stress.counts.
if [[ $workload == stress ]]; then
	boot numa stress stress
	nhooks=$(sed -n '/^enum migrc_hook {/,/NR_MIGRC_HOOKS/p' "$ROOT/include/linux/migrc.h" |
		 grep -c '^[[:space:]]*MIGRC_HOOK_')
	bad="migrc=off migrc migrc= migrc=yes migrc=ON migrc=2 migrc=-1 migrc=onx"
	bad+=" migrc=1x migrc=on,off migrc=0x1 migrc=99999999999999999999"
	bad+=" migrc_disable_hooks=0 migrc_disable_hooks migrc_disable_hooks="
	bad+=" migrc_disable_hooks=x migrc_disable_hooks=-1 migrc_disable_hooks=1x"
	bad+=" migrc_disable_hooks=$((1 << nhooks)) migrc_disable_hooks=0xffffffff"
	bad+=" migrc_disable_hooks=99999999999999999999999 migrc_disable_hooks=1,2"
	boot numa bootparams bootparams "$bad"
	count stress "$BUILD/guest-$name-stress${MIGRC_HOOKS:+-hooks$MIGRC_HOOKS}.counts" \
		"$out/console-stress.log" "$out/console-bootparams.log"
	exit
fi

# Debian's stress-ng (guest/stressng.c): the migration, mprotect, fork,
# remap, fault and GUP stressors one after the other with migrc on, its
# debug checker on.  Counts in build/guest-ARCH-stressng.counts.
if [[ $workload == stressng ]]; then
	boot numa stressng stressng
	count stressng "$BUILD/guest-$arch-stressng.counts" "$out/console-stressng.log"
	exit
fi

# The mm selftests with migrc on (guest/selftests.c): one line per
# selftest, then the cases that skipped or failed as expected
# (guest/selftests/expected says why); counts in
# build/guest-ARCH[-VARIANT]-selftests.counts.
if [[ $workload == selftests ]]; then
	# arm64's 32 MiB hugetlb pages are gigantic (beyond the buddy
	# allocator) and the guest kernel cannot allocate them at run time
	# (no CONTIG_ALLOC): reserve them at boot.  Not its 1 GiB pages:
	# see guest/selftests/expected.
	cmdline=${MIGRC_HOOKS:+migrc_disable_hooks=$MIGRC_HOOKS}
	[[ $arch == arm64 ]] && cmdline+=" hugepagesz=32M hugepages=4"
	limit=1800 rc=0
	boot numa selftests selftests "$cmdline"
	count selftests "$BUILD/guest-$name-selftests${MIGRC_HOOKS:+-hooks$MIGRC_HOOKS}.counts" \
		"$out/console-selftests.log" || rc=1
	sed -n -e 's/^@@skip /  skipped case: /p' -e 's/^@@xfail /  failed case, as expected: /p' \
		"$out/console-selftests.log"
	exit $rc
fi

# The soak (make soak): the tiering workload with migrc on, every checker
# on, for SOAK_MINUTES (default 3) minutes.
if [[ $workload == soak ]]; then
	SOAK_MINUTES=${SOAK_MINUTES:-3}
	limit=$((900 + 90 * SOAK_MINUTES))
	boot tier soak soak
	sed -n 's/^@@soak {/  {/p' "$out/console-soak.log"
	count soak "$BUILD/guest-$name-soak.counts" "$out/console-soak.log"
	exit
fi

# The benchmark's figures would be the sanitizer's, in results/ARCH.json.
[[ -z $variant ]] || { say "VARIANT= is for the tests (scenarios, stress, soak)"; exit 2; }
# The benchmark's guest has 4 GiB.  The default cap is 1/64 of RAM: a
# 1 GiB guest's 16 MiB fills in a tenth of a second at the rate TCG
# migrates, where a 256 GiB machine's 4 GiB takes about a second at
# 4 GB/s.  In the small guest the 32 MiB ping-pong and the tiering rows
# would measure little but how often the cap fills.  One ping-pong row
# (ws=2cap) still moves twice the cap, to show what the cap costs;
# GUEST_MB=1024 runs them all in the smaller guest.
default_mb=4096
logs=()
numa_wl=$(tr , '\n' <<<"$workload" | { grep -Ev '^(file-)?tiering$' || true; } | paste -sd, -)
tier_wl=$(tr , '\n' <<<"$workload" | { grep -Ex '(file-)?tiering' || true; } | paste -sd, -)
plain=$initrd
if [[ -n $numa_wl ]]; then
	tr , '\n' <<<"$numa_wl" | grep -q '^file-' && with_files
	boot numa "$numa_wl"
	logs+=("$out/console-numa.log")
fi
if [[ -n $tier_wl ]]; then
	# A small image: the file tiering makes its sparse file there, and
	# the RAM disk's pages stay out of the small node 0.
	initrd=$plain
	[[ $tier_wl == *file-tiering* ]] && IMAGE_MB=8 BENCH_PAGES=0 with_files
	boot tier "$tier_wl"
	logs+=("$out/console-tier.log")
fi
python3 "$ROOT/scripts/report.py" --arch "$arch" --out "$results" "${logs[@]}"
