#!/bin/bash
# Stage Debian's xl and the shared objects it loads, for a bench-only
# initramfs overlay (package/xl/xl.mk).
#
#   package/xl/stage.sh ROOT OUT
#
# ROOT: the pinned .debs unpacked together (dpkg-deb -x).  OUT gets
#   opt/xl/bin/xl               the binary, as Debian ships it
#   opt/xl/lib/<soname>         glibc's loader, every library in the NEEDED
#                               closure of xl (readelf -d) and libgcc_s.so.1
#                               (glibc dlopens it for pthread_cancel, which
#                               libxl calls), nothing else
# A NEEDED library that is in none of the .debs is an error naming it (add
# its package: support/pin-debs.sh, then package/xl/xl.mk's comment).
set -eu -o pipefail
root=$1 out=$2
bin=$root/usr/lib/xen-4.17/bin/xl
libdirs="$root/lib/x86_64-linux-gnu $root/usr/lib/x86_64-linux-gnu"
[ -f "$bin" ] || { echo "xl: no usr/lib/xen-4.17/bin/xl in the unpacked xen-utils .deb" >&2; exit 1; }

rm -rf "$out" && mkdir -p "$out/opt/xl/bin" "$out/opt/xl/lib"
cp "$bin" "$out/opt/xl/bin/xl"

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
find_lib() {
	local d
	for d in $libdirs; do
		[ -e "$d/$1" ] && { readlink -f "$d/$1"; return 0; }
	done
	return 1
}

todo="$(needed "$bin") libgcc_s.so.1" seen=
while [ -n "$todo" ]; do
	set -- $todo
	lib=$1; shift; todo="$*"
	case " $seen " in *" $lib "*) continue ;; esac
	seen="$seen $lib"
	f=$(find_lib "$lib") || { echo "xl: $lib (needed) is in none of the pinned .debs" >&2; exit 1; }
	cp "$f" "$out/opt/xl/lib/$lib"
	todo="$todo $(needed "$f")"
done
f=$(find_lib ld-linux-x86-64.so.2) || { echo "xl: glibc's loader is missing (libc6 .deb)" >&2; exit 1; }
cp "$f" "$out/opt/xl/lib/ld-linux-x86-64.so.2"
chmod 755 "$out/opt/xl/bin/xl" "$out/opt/xl/lib/"*
echo "  STAGE   xl + $(echo $seen | wc -w) libraries ($(du -sk "$out" | cut -f1) KiB)"
