#!/usr/bin/env python3
"""Boot-time benchmark of the USB image: QEMU start -> first XenAPI answer.

    bench/boot/run.py IMAGE [--runs N] [--no-uefi]

Boots a copy of IMAGE as a 256 MiB USB stick under QEMU (TCG, 1 vCPU):
under SeaBIOS a first boot (the state partition grows, the daemon makes its
certificate) then N-1 boots of the same stick, and the same under OVMF.
Prints, per boot, the seconds from QEMU's start to each console milestone
and to the first XenAPI answer (system.listMethods over HTTP, an attempt
every 0.2 s), and that total split at dom0's /init: before it, firmware,
Xen and dom0's kernel (fixed parts, which show the machine's speed: ~9 s
on a quiet one); after it, our boot.  Figures, not assertions: the
machine's load shows in them.
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/usb"))
import usbqemu as U  # noqa: E402

MARKS = [("Xen", r"\(XEN\) Xen version"),
         ("dom0 /init", r"XENBOX-INITRD"),
         ("root mounted", r"initrd: root mounted"),
         ("rcS", r"starting pid \d+, tty '': '/etc/init.d/rcS'"),
         ("hw drivers", r"\] hardware drivers loaded"),
         ("modules", r"\] modules loaded"),
         ("Xen daemons", r"XENBOX-XEN-READY"),
         ("stick", r"\] stick found"),
         ("network", r"\] network started"),
         ("state", r"\] state mounted"),
         ("rcS done", r"XENBOX-BOOT "),
         ("daemon", r"XENBOX-DAEMON started"),
         ("lease", r"XENBOX-NET ")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("image")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--no-uefi", action="store_true")
    a = ap.parse_args()
    logdir = tempfile.mkdtemp(prefix="xb-bench-boot-")
    print("Boot time, QEMU start -> first XenAPI answer (TCG, 1 vCPU, %d MiB; load %s)" % (
        2048, open("/proc/loadavg").read().split()[0]))
    for uefi in ([False] if a.no_uefi else [False, True]):
        with tempfile.TemporaryDirectory() as d:
            stick = U.Stick.copy_of(a.image, os.path.join(d, "stick.img"), size="256M")
            for n in range(a.runs):
                q = U.UsbQemu(stick.path, uefi=uefi, log_path=os.path.join(
                    logdir, "%s-%d.log" % ("uefi" if uefi else "bios", n)))
                q.start()
                try:
                    api = q.wait_api(timeout=400)
                    ms = q.milestones(MARKS)
                finally:
                    q.stop()
                init = dict(ms).get("dom0 /init")
                print("  %-5s boot %d (%s): %5.1f s   [%s]" % (
                    "UEFI" if uefi else "BIOS", n + 1, "first: grows state, makes cert" if n == 0
                    else "again", api, ", ".join("%s %.1f" % (k, v) for k, v in ms if v is not None)))
                if init:
                    # The machine's speed varies (a shared host): what
                    # firmware, Xen and dom0's kernel took, and what the
                    # boot from dom0's /init to the answer took, apart.
                    print("        firmware + Xen + dom0 kernel %.1f s, then /init -> answer %.1f s"
                          % (init, api - init))
    print("  consoles: %s" % logdir)


if __name__ == "__main__":
    main()
