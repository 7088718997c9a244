#!/bin/sh
# Install the Debian packages the build and the tests need, if missing.
# Uses the machine's apt as configured (never changes it).
# qemu-system-x86 and cpio: the system tests (tests/system, dom0 initramfs).
# mtools, dosfstools, e2fsprogs, squashfs-tools, fdisk (sfdisk), zstd: the
# USB image, built without root (board/pc_x86_64_usb/mkimage.sh, tests/usb);
# libdevmapper1.02.1: the unpacked grub-mkimage links it (package/grub).
# libclang-rt-14-dev: libFuzzer and clang's ASan/UBSan runtimes (the fuzz
# targets); clang only recommends it, and apt here installs no recommends.
# debootstrap: make check's fresh-root suite (support/fresh-root.sh).
# nftables: the pool suite's NAT router (tests/pool, nft in a namespace).
# xfsprogs: mkfs.xfs for the integration suite's XFS SRs: the reflink SR of
# tests/integration/test_vdi_vm_copy.py, and tests/integration/test_storage.py
# (the daemon formats loop devices through `xenbox disk-format`); the USB
# build's own is used when there is one.
# support/fresh-root.sh runs this script in a fresh minimal Debian root and
# builds everything there: a package missing here fails that suite.
set -e
PKGS="build-essential musl-tools kconfig-frontends libcmocka-dev python3 python3-pytest
clang libclang-rt-14-dev curl ca-certificates xz-utils bzip2 patch perl tcl file util-linux openssl
iproute2 binutils python3-prometheus-client prometheus
qemu-system-x86 cpio
mtools dosfstools e2fsprogs squashfs-tools fdisk zstd libdevmapper1.02.1
debootstrap nftables xfsprogs"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
# Xen Orchestra's connector test needs node >= 18 and npm
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
