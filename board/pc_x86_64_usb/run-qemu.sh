#!/bin/bash
# Boot the USB image under QEMU (TCG) as a USB stick (make usb-run, from
# `make run`): qemu-xhci + usb-storage, SeaBIOS (or OVMF with UEFI=1), the
# XenAPI on 127.0.0.1 (HTTPS XB_HTTPS_PORT=8443; HTTP XB_HTTP_PORT=8080,
# which answers only with https_only = false in the stick's xenbox.conf:
# forwarded connections reach dom0's network address, not its loopback),
# the serial console on this terminal (Xen's and dom0's; typing goes to
# dom0's login; Ctrl-A X quits QEMU).
#
# QEMU writes to a copy of the image (output/images/xenbox-usb.run.img,
# kept across runs: the state partition persists like a stick's); rm it to
# start from a fresh stick.  Memory: XB_QEMU_MEM MiB (2048).  No graphics
# card (-vga none), as a headless server: under TCG, Xen drawing its boot
# messages on OVMF's framebuffer would cost ~10 s.
set -eu
img=${XB_USB_IMG:?}
pwfile=${XB_USB_PWFILE:-}
https=${XB_HTTPS_PORT:-8443}
http=${XB_HTTP_PORT:-8080}
run_img=${img%.img}.run.img
if [ ! -f "$run_img" ] || [ "$img" -nt "$run_img" ]; then
	cp "$img" "$run_img"
	# A stick is larger than the image: the state partition grows on first boot.
	truncate -s 1G "$run_img"
fi
fw=()
if [ -n "${UEFI:-}" ] && [ "${UEFI:-0}" != 0 ]; then
	fw=(-bios "${XB_OVMF:?}")
	how=UEFI
else
	how=BIOS
fi
pw=
[ -n "$pwfile" ] && [ -f "$pwfile" ] && pw=$(cat "$pwfile")
cat <<MSG
xenbox: booting $run_img as a USB stick ($how, QEMU TCG: 20-30 s to the XenAPI).
        XenAPI: https://127.0.0.1:$https/  (http://127.0.0.1:$http/ only with
                https_only = false in xenbox.conf: plain HTTP stays in the host)
        user root, password ${pw:-(see xenbox.conf)}; the console login takes the same
        the certificate's SHA-256 fingerprint is printed when the XenAPI answers
        Ctrl-A X quits QEMU; Ctrl-A C its monitor
MSG

# Print the certificate's fingerprint once the XenAPI answers (the daemon
# makes its certificate on first boot).
(
	for _ in $(seq 1 240); do
		sleep 1
		fp=$(python3 - "$https" 2>/dev/null <<'PY'
import hashlib, socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    with ctx.wrap_socket(s) as t:
        d = hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest().upper()
print(":".join(d[i:i + 2] for i in range(0, len(d), 2)))
PY
) && { printf '\r\nxenbox: XenAPI up: https://127.0.0.1:%s/ certificate SHA-256 %s\r\n' "$https" "$fp"; exit 0; }
	done
) &
watcher=$!
trap 'kill $watcher 2>/dev/null' EXIT

qemu-system-x86_64 -accel tcg -cpu max,-smap -m "${XB_QEMU_MEM:-2048}" -smp 1 \
	"${fw[@]}" -vga none -display none -serial mon:stdio -no-reboot \
	-device qemu-xhci,id=xhci \
	-drive if=none,id=stick,format=raw,file="$run_img" \
	-device usb-storage,bus=xhci.0,drive=stick,bootindex=0 \
	-nic user,model=e1000,hostfwd=tcp:127.0.0.1:"$https"-:443,hostfwd=tcp:127.0.0.1:"$http"-:80
