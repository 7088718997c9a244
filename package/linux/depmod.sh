#!/bin/sh
# modules.dep and modules.alias for a flat directory of kernel modules, as
# depmod would write them (the build host need not have kmod), for
# busybox modprobe.
#
#   package/linux/depmod.sh DIR
#
# DIR holds NAME.ko files (package/linux/modules.sh).  Writes
#   DIR/modules.dep    "NAME.ko: DEP.ko ..." with every module a module
#                      needs, directly or not; modprobe loads the list
#                      from its right end, so a module comes after all the
#                      modules it needs
#   DIR/modules.alias  "alias PATTERN NAME" for every alias= of every
#                      module (pci:, usb:, mdio:, fs-, ...): `modprobe -a
#                      $(cat /sys/bus/*/devices/*/modalias)` loads the
#                      drivers of the hardware that is there, and the
#                      kernel's own requests (a PHY driver, say) resolve.
# Fails if a module needs one that is not in DIR.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
tab=$dir/.modinfo.tmp
trap 'rm -f "$tab" "$dir/modules.dep.tmp" "$dir/modules.alias.tmp"' EXIT

# One line a module: "F file.ko", "N name", "D dep,dep", "A alias".
: >"$tab"
for f in "$dir"/*.ko; do
	[ -e "$f" ] || { echo "depmod: no modules in $dir" >&2; exit 1; }
	echo "F ${f##*/}" >>"$tab"
	objcopy -O binary --only-section=.modinfo "$f" /dev/stdout | tr '\0' '\n' |
		sed -n 's/^name=/N /p; s/^depends=/D /p; s/^alias=/A /p' >>"$tab"
done

awk -v dep="$dir/modules.dep.tmp" -v ali="$dir/modules.alias.tmp" '
function norm(s) { gsub(/-/, "_", s); return s }
$1 == "F" { file = $2; name = norm(substr(file, 1, length(file) - 3)); files[name] = file; order[++n] = name; next }
$1 == "N" { next }
$1 == "D" { needs[name] = $2; next }
$1 == "A" { sub(/^A /, ""); aliases[++na] = "alias " $0 " " name; next }
# Depth first: a module after everything it needs.
function walk(m,    k, i, d) {
	if (seen[m]++) return
	k = split(needs[m], d, ",")
	for (i = 1; i <= k; i++) {
		if (d[i] == "") continue
		d[i] = norm(d[i])
		if (!(d[i] in files)) { print "depmod: " m " needs " d[i] ", which is not in the set" > "/dev/stderr"; bad = 1; continue }
		walk(d[i])
	}
	post[++np] = m
}
END {
	for (j = 1; j <= n; j++) {
		m = order[j]; delete seen; np = 0
		walk(m)
		line = files[m] ":"
		for (i = np - 1; i >= 1; i--) line = line " " files[post[i]]
		print line > dep
	}
	for (j = 1; j <= na; j++) print aliases[j] > ali
	exit bad
}' "$tab"
mv "$dir/modules.dep.tmp" "$dir/modules.dep"
mv "$dir/modules.alias.tmp" "$dir/modules.alias"
