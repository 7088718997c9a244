#!/bin/bash
# Assemble the USB stick image without root privileges.
#
#   board/pc_x86_64_usb/mkimage.sh OUT FATDIR SYSLINUX_ROOT
#
# OUT            the image file (written as OUT.tmp, then renamed)
# FATDIR         the boot partition's files, as they go on it
# SYSLINUX_ROOT  the unpacked syslinux packages (package/syslinux)
# IMAGE_MIB      the image's size (default 32)
# FAT_SPARE_MIB  free room on the boot partition (default 2), for updates
#
# Layout (MBR): 1 MiB gap | FAT16 "XENBOX", active (boot files, xenbox.conf)
# | ext4 "XENBOX-STATE" to the end (grows to fill the stick on first
# boot).  BIOS: SYSLINUX's mbr.bin boots the active partition, SYSLINUX
# (ldlinux.sys, /syslinux/) loads Xen with mboot.c32.  UEFI: the firmware
# runs /EFI/BOOT/BOOTX64.EFI (a standalone GRUB), which reads grub.cfg
# beside it and loads Xen by multiboot2.
# Partitions are made as separate files (mkfs.vfat, mtools, the mtools
# SYSLINUX installer, mke2fs) and copied in at their offsets: no loop
# devices, no mounts.  Host tools from support/deps.sh.
set -eu -o pipefail

[ $# -eq 3 ] || { echo "usage: $0 OUT FATDIR SYSLINUX_ROOT" >&2; exit 2; }
out=$1 fatdir=$2 sl=$3
image_mib=${IMAGE_MIB:-32}
spare_mib=${FAT_SPARE_MIB:-2}
for t in sfdisk mkfs.vfat mcopy mmd mke2fs; do
	command -v $t >/dev/null || PATH=$PATH:/sbin:/usr/sbin
	command -v $t >/dev/null || { echo "mkimage: $t is missing (support/deps.sh)" >&2; exit 1; }
done
[ -x "$sl/usr/bin/syslinux" ] || { echo "mkimage: no syslinux installer in $sl" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/xb-usb.XXXXXX")
trap 'rm -rf "$work"' EXIT
export MTOOLS_SKIP_CHECK=1 MTOOLS_NO_VFAT=0

# Sizes in MiB: the FAT holds its files, ~3% of FAT overhead and the spare.
content_kib=$(du -sk --apparent-size "$fatdir" | cut -f1)
fat_mib=$(( (content_kib * 103 / 100 + 1023) / 1024 + spare_mib + 1 ))
state_mib=$(( image_mib - 1 - fat_mib ))
if [ $state_mib -lt 8 ]; then
	echo "mkimage: the boot files ($((content_kib / 1024)) MiB) leave $state_mib MiB for the state" \
		"partition in a $image_mib MiB image (at least 8 needed)" >&2
	exit 1
fi
fat_start=2048
fat_sectors=$(( fat_mib * 2048 ))
state_start=$(( fat_start + fat_sectors ))
state_sectors=$(( state_mib * 2048 ))

# ---- The boot partition ----
mkfs.vfat -F 16 -n XENBOX -i 58454e42 -h $fat_start -C "$work/fat" $(( fat_mib * 1024 )) >/dev/null
(cd "$fatdir" && find . -mindepth 1 -type d | sed 's|^\./||' | LC_ALL=C sort) | while read -r d; do
	mmd -i "$work/fat" "::/$d"
done
(cd "$fatdir" && find . -type f | sed 's|^\./||' | LC_ALL=C sort) | while read -r f; do
	mcopy -m -i "$work/fat" "$fatdir/$f" "::/$f"
done
"$sl/usr/bin/syslinux" --install --directory /syslinux "$work/fat"

# ---- The state partition: empty ext4, 4 KiB blocks (grown online on first
# boot: the kernel switches to meta_bg past the reserved GDT blocks).  The
# daemon makes its files on first boot.
mke2fs -q -F -t ext4 -L XENBOX-STATE -b 4096 -m 0 -U 58454e42-0000-4000-8000-000000000002 \
	-E root_owner=0:0 "$work/state" $(( state_mib * 256 )) >/dev/null

# ---- The image ----
truncate -s ${image_mib}M "$out.tmp"
sfdisk -q --no-reread --no-tell-kernel "$out.tmp" >/dev/null <<PT
label: dos
label-id: 0x58454e42
unit: sectors
start=$fat_start, size=$fat_sectors, type=e, bootable
start=$state_start, size=$state_sectors, type=83
PT
dd if="$work/fat" of="$out.tmp" bs=1M seek=1 conv=notrunc status=none
dd if="$work/state" of="$out.tmp" bs=1M seek=$(( 1 + fat_mib )) conv=notrunc status=none
dd if="$sl/usr/lib/SYSLINUX/mbr.bin" of="$out.tmp" bs=440 count=1 conv=notrunc status=none
mv "$out.tmp" "$out"
echo "  IMAGE   $out ($image_mib MiB: boot FAT $fat_mib MiB, $((content_kib / 1024)) MiB used; state ext4 $state_mib MiB)"
