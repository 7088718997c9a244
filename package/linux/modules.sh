#!/bin/sh
# Copy the kernel modules named in a list into a flat directory, in order.
#
#   package/linux/modules.sh LIST MODDIR OUTDIR [BASE]
#
# LIST: one module name per line (as the file is named: xen-privcmd, e1000),
# '#' comments and blank lines ignored, in load order.  MODDIR is the
# kernel's lib/modules/<release>.  OUTDIR gets NAME.ko for each (modules
# shipped compressed, .ko.xz/.ko.zst/.ko.gz, are decompressed: busybox
# insmod reads plain ELF) and load-order, the names one per line.
#
# Fails if a module is missing, listed or found twice, or depends (its .modinfo
# "depends=") on a module that is not listed before it.  The kernel has no
# modules.dep in the package (depmod runs at install), so the order is the
# list's; this check keeps the list honest.  BASE, a load-order file of a
# set loaded earlier (the USB image's initramfs), counts as listed before.
set -eu
[ $# -eq 3 ] || [ $# -eq 4 ] || { echo "usage: $0 LIST MODDIR OUTDIR [BASE]" >&2; exit 2; }
list=$1 moddir=$2 out=$3 base=${4:-}
norm() { echo "$1" | tr - _; }

rm -rf "$out.tmp" && mkdir -p "$out.tmp"
trap 'rm -rf "$out.tmp"' EXIT
loaded=" "
[ -z "$base" ] || for name in $(cat "$base"); do loaded="$loaded$(norm "$name") "; done
for name in $(sed 's/#.*//' "$list"); do
	case $loaded in
	*" $(norm "$name") "*) echo "modules: $name is listed twice (in $list${base:+ or $base})" >&2; exit 1 ;;
	esac
	found=$(find "$moddir/kernel" -name "$name.ko" -o -name "$name.ko.xz" \
		-o -name "$name.ko.zst" -o -name "$name.ko.gz")
	case $(printf '%s\n' "$found" | grep -c .) in
	0) echo "modules: $name (from $list) is not in $moddir" >&2; exit 1 ;;
	1) ;;
	*) echo "modules: $name is ambiguous in $moddir:" >&2; echo "$found" >&2; exit 1 ;;
	esac
	dest=$out.tmp/$name.ko
	case $found in
	*.ko.xz) xz -dc "$found" >"$dest" ;;
	*.ko.zst) zstd -qdc "$found" >"$dest" ;;
	*.ko.gz) gzip -dc "$found" >"$dest" ;;
	*) cp "$found" "$dest" ;;
	esac
	deps=$(objcopy -O binary --only-section=.modinfo "$dest" /dev/stdout |
		tr '\0' '\n' | sed -n 's/^depends=//p' | tr , ' ')
	for d in $deps; do
		case $loaded in
		*" $(norm "$d") "*) ;;
		*) echo "modules: $name needs $d, which is not listed before it in $list" >&2; exit 1 ;;
		esac
	done
	loaded="$loaded$(norm "$name") "
	echo "$name" >>"$out.tmp/load-order"
done
[ -s "$out.tmp/load-order" ] || { echo "modules: $list names no module" >&2; exit 1; }
rm -rf "$out" && mv "$out.tmp" "$out"
