#!/bin/sh
# `make usb-size` (and `make size` on the USB board): each part of the USB
# image against the budgets: Xen + kernel + modules + root filesystem at
# most 20 MiB, the image file at most 32 MiB.  Exits 1 over budget.
#
#   board/pc_x86_64_usb/size.sh FATDIR IMAGE MODULESDIR [ROOTFS]
# ROOTFS: the root filesystem (rootfs.sqfs), which travels inside the
# initramfs; default: beside the image, in usb/.  XB_MKFS_XFS: the
# mkfs.xfs the root carries, if any (its row, and the xfs modules').
set -eu
fat=$1 img=$2 mods=$3 sqfs=${4:-$(dirname "$2")/usb/rootfs.sqfs}
budget_parts=$((20 * 1024 * 1024))
budget_img=$((32 * 1024 * 1024))

sz() { stat -c %s "$1"; }
row() { printf '  %-40s %10d  %7.2f MiB\n' "$1" "$2" "$(echo "$2" | awk '{print $1 / 1048576}')"; }
sum() { s=0; for f in "$@"; do s=$((s + $(sz "$f"))); done; echo $s; }

xen=$(sz "$fat/xenbox/xen.gz")
kernel=$(sz "$fat/xenbox/vmlinux.zst")
initrd=$(sz "$fat/xenbox/initrd.img")
rootfs=$(sz "$sqfs")
loader=$(sum "$fat"/syslinux/*.c32 "$fat/syslinux/syslinux.cfg" "$fat/EFI/BOOT/BOOTX64.EFI" \
	"$fat/EFI/BOOT/grub.cfg")
parts=$((xen + kernel + initrd))

echo "USB image parts (bytes on the boot partition):"
row "Xen (xen.gz, BIOS and UEFI)" "$xen"
row "dom0 kernel (vmlinux.zst)" "$kernel"
row "initramfs (initrd.img, cpio)" "$initrd"
row "  its modules ($(wc -l <"$mods/initrd/load-order"), uncompressed)" "$(cat "$mods"/initrd/*.ko | wc -c)"
row "  root filesystem (rootfs.sqfs, zstd)" "$rootfs"
row "    its modules ($(wc -l <"$mods/root/load-order"), uncompressed)" "$(cat "$mods"/root/*.ko | wc -c)"
row "    hardware drivers ($(wc -l <"$mods/hw/load-order"), uncompressed)" "$(cat "$mods"/hw/*.ko | wc -c)"
if [ -f "$mods/net/load-order" ]; then
	row "    bond + VLAN modules ($(wc -l <"$mods/net/load-order"), uncompressed)" "$(cat "$mods"/net/*.ko | wc -c)"
fi
fw=$(dirname "$mods")/firmware/manifest
if [ -f "$fw" ]; then
	row "    NIC firmware ($(wc -l <"$fw") files, uncompressed)" "$(awk '{s += $3} END {print s + 0}' "$fw")"
fi
if [ -n "${XB_MKFS_XFS:-}" ]; then
	row "    of them xfs + libcrc32c (uncompressed)" "$(cat "$mods/hw/xfs.ko" "$mods/hw/libcrc32c.ko" | wc -c)"
	row "    mkfs.xfs (static, uncompressed)" "$(sz "$XB_MKFS_XFS")"
fi
row "boot loaders (SYSLINUX, GRUB EFI, cfgs)" "$loader"
row "  GRUB EFI (/EFI/BOOT/BOOTX64.EFI)" "$(sz "$fat/EFI/BOOT/BOOTX64.EFI")"
row "xenbox.conf" "$(sz "$fat/xenbox.conf")"
echo
row "Xen + kernel + modules + root (budget 20 MiB)" "$parts"
row "image file $(basename "$img") (budget 32 MiB)" "$(sz "$img")"
rc=0
if [ "$parts" -gt $budget_parts ]; then
	echo "usb-size: Xen + kernel + modules + root filesystem exceed 20 MiB" >&2
	rc=1
fi
if [ "$(sz "$img")" -gt $budget_img ]; then
	echo "usb-size: $img exceeds 32 MiB" >&2
	rc=1
fi
[ $rc -eq 0 ] && printf '  %-40s %9d%%\n' "used of the 20 MiB budget" $((parts * 100 / budget_parts))
exit $rc
