#!/bin/sh
# mkdeb.sh ROOT VERSION OUT: ROOT (a `make install DESTDIR=ROOT PREFIX=/usr`
# tree) as the Debian package OUT.  The binary is static: no Depends.
# Reproducible: every mtime is SOURCE_DATE_EPOCH (the Makefile exports
# it; dpkg-deb uses it for the archive's own timestamps), modes are set
# here, owners are root (--root-owner-group: no fakeroot).
set -eu
root=$1 version=$2 out=$3
src=$(dirname "$0")

mkdir -p "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: xenbox
Version: $version
Architecture: amd64
Maintainer: xenbox developers <xenbox@localhost>
Installed-Size: $size
Section: admin
Priority: optional
Description: XenAPI server for Xen hosts; here a management-only pool master
 xenbox is a toolstack for Xen hosts that boot from a USB stick: one static
 binary serving the XenAPI (XML-RPC and JSON-RPC, as XAPI does) over HTTPS,
 and its static helper xenbox-io for the commands besides the daemon
 (xenbox passwd, xenbox pool).
 This package runs it on a server without Xen (backend none) as the master
 of a pool of such hosts: xenbox.service, configured in
 /etc/xenbox/xenbox.conf, state in /var/lib/xenbox.
CONTROL
echo /etc/xenbox/xenbox.conf >"$root/DEBIAN/conffiles"
for s in postinst prerm postrm; do
	install -m 0755 "$src/$s" "$root/DEBIAN/$s"
done
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles"
find "$root" -type d -exec chmod 0755 {} +
find "$root" -exec touch -h -d "@${SOURCE_DATE_EPOCH:?}" {} +
mkdir -p "$(dirname "$out")"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
