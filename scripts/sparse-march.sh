#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sparse for riscv: Debian 12's sparse does not parse the ISA extensions
# the kernel appends to -march (rv64imac_zicsr_zifencei), so hand it the
# base ISA only; everything else goes through unchanged.
args=()
for a in "$@"; do
	case $a in
	-march=*) a=${a%%_*} ;;
	esac
	args+=("$a")
done
exec sparse "${args[@]}"
