#!/bin/sh
# The PCI alias table of a board's hardware modules, for the boot's
# udev-like loading.
#
#   package/linux/hw-aliases.sh LIST MODULEDIR
#
# LIST is board/<board>/hw-modules: groups of module names separated by
# blank lines.  MODULEDIR holds them (package/linux/modules.sh).  Writes
# MODULEDIR/hw.groups   one line per group: its modules in load order
# MODULEDIR/hw.ids      "pci:vVVVVVVVVdDDDDDDDD GROUP" for the aliases that
#                       name one vendor and device (nearly all): the boot
#                       matches them with one grep -F
# MODULEDIR/hw.alias    "GLOB GROUP" for the others (a dozen): shell globs,
#                       as the kernel writes aliases
# GROUP is a line number in hw.groups.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 LIST MODULEDIR" >&2; exit 2; }
list=$1 dir=$2
: >"$dir/hw.groups.tmp"
: >"$dir/hw.alias.tmp"
sed 's/#.*//; s/[[:space:]]*$//' "$list" | awk 'BEGIN { RS = ""; } { gsub(/\n/, " "); print }' |
while read -r group; do
	echo "$group" >>"$dir/hw.groups.tmp"
	n=$(wc -l <"$dir/hw.groups.tmp")
	for m in $group; do
		objcopy -O binary --only-section=.modinfo "$dir/$m.ko" /dev/stdout | tr '\0' '\n' |
			sed -n "s/^alias=\(pci:.*\)/\1 $n/p" >>"$dir/hw.alias.tmp"
	done
done
[ -s "$dir/hw.groups.tmp" ] || { echo "hw-aliases: $list names no module" >&2; exit 1; }
exact='^\(pci:v[0-9A-F]\{8\}d[0-9A-F]\{8\}\)sv\*sd\*bc\*sc\*i\* \([0-9]*\)$'
sed -n "s/$exact/\1 \2/p" "$dir/hw.alias.tmp" | LC_ALL=C sort -u >"$dir/hw.ids"
grep -v "$exact" "$dir/hw.alias.tmp" >"$dir/hw.alias" || true
rm -f "$dir/hw.alias.tmp"
mv "$dir/hw.groups.tmp" "$dir/hw.groups"
