#!/bin/bash
# `make run`: build what is missing and boot the USB image under QEMU (TCG)
# as a USB stick, with the XenAPI forwarded to this machine and the serial
# console on this terminal.  UEFI=1 boots with OVMF instead of SeaBIOS.
#
# O (the output directory, default output/) gets the USB board's
# configuration if it has none; an O configured for another board is
# refused (use O=output/usb).  `make run-host` runs the daemon here instead.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
O=${O:-$TOP/output}
support/deps.sh
make -s source >/dev/null
if [ ! -f "$O/.config" ]; then
	make -s O="$O" pc_x86_64_usb_defconfig
elif ! grep -q '^CONFIG_XB_BOARD_PC_X86_64_USB=y' "$O/.config"; then
	echo "run: $O is configured for another board ($(sed -n 's/^CONFIG_XB_BOARD="\(.*\)"/\1/p' "$O/.config"));" >&2
	echo "     make run O=output/usb   boots the USB image from its own output directory" >&2
	exit 1
fi
make -s -j"$(nproc)" O="$O" all
exec make -s O="$O" UEFI="${UEFI:-}" usb-run
