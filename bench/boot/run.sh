#!/bin/sh
# `make bench-boot`: the USB image's boot time (QEMU start -> first XenAPI
# answer, BIOS and UEFI, first and later boots) and the size of each part.
#   bench/boot/run.sh FATDIR MODULESDIR   (XB_USB_IMG, XB_OVMF from make)
#   BENCH_BOOT_RUNS=N boots per firmware (default 2); BENCH_BOOT_UEFI=0 skips UEFI
set -eu
here=$(dirname "$0")
py=python3
img=${XB_USB_IMG:?}
opts="--runs ${BENCH_BOOT_RUNS:-2}"
[ "${BENCH_BOOT_UEFI:-1}" = 0 ] && opts="$opts --no-uefi"
$py "$here/run.py" "$img" $opts
echo
"$here/../../board/pc_x86_64_usb/size.sh" "$1" "$img" "$2"
