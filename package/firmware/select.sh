#!/bin/sh
# Copy the firmware files that a set of kernel modules requests.
#
#   package/firmware/select.sh MODDIR FWROOT SKIP OUTDIR
#
# MODDIR: a flat directory of NAME.ko (package/linux/modules.sh).  FWROOT:
# the firmware packages unpacked (FWROOT/lib/firmware/...,
# FWROOT/usr/share/doc/PKG/copyright).  SKIP: a list of firmware files
# not to ship, one a line, '#' comments (a driver's older fallback
# version when it loads the newest first, say).  OUTDIR gets
# lib/firmware/<path> for every firmware= line of every module not in
# SKIP, usr/share/doc/firmware-nonfree/copyright (the packages' copyright
# file: one, as they are the same file), and manifest ("MODULE FILE
# BYTES" a line).
#
# Fails if a requested file that SKIP does not name is in no package: a
# driver that would look for it in vain on the hardware it is for.
set -eu
[ $# -eq 4 ] || { echo "usage: $0 MODDIR FWROOT SKIP OUTDIR" >&2; exit 2; }
mods=$1 root=$2 skip=$3 out=$4
skipped=" $(sed 's/#.*//' "$skip" | tr '\n' ' ') "

rm -rf "$out.tmp" && mkdir -p "$out.tmp/lib/firmware"
trap 'rm -rf "$out.tmp"' EXIT
: >"$out.tmp/manifest"
for ko in "$mods"/*.ko; do
	name=${ko##*/}; name=${name%.ko}
	for fw in $(objcopy -O binary --only-section=.modinfo "$ko" /dev/stdout |
			tr '\0' '\n' | sed -n 's/^firmware=//p'); do
		case $skipped in *" $fw "*) continue ;; esac
		src=$root/lib/firmware/$fw
		[ -f "$src" ] || { echo "firmware: $name requests $fw, which no firmware package has (list it in $skip to ship without it)" >&2; exit 1; }
		mkdir -p "$out.tmp/lib/firmware/$(dirname "$fw")"
		cp "$src" "$out.tmp/lib/firmware/$fw"
		echo "$name $fw $(stat -c %s "$src")" >>"$out.tmp/manifest"
	done
done
# The packages' copyright files (the licences under which the firmware is
# redistributed): one copy when they are the same file.
set -- "$root"/usr/share/doc/*/copyright
mkdir -p "$out.tmp/usr/share/doc/firmware-nonfree"
for c in "$@"; do
	cmp -s "$1" "$c" || { echo "firmware: $c differs from $1: ship both" >&2; exit 1; }
done
cp "$1" "$out.tmp/usr/share/doc/firmware-nonfree/copyright"
rm -rf "$out" && mv "$out.tmp" "$out"
