#!/usr/bin/env python3
"""The technician's console at 9600 baud (docs/SERIAL_CONSOLE.md,
docs/BENCHMARKS.md); prints figures, asserts nothing.

`xenbox console` on a pty against a sim daemon, its output fed through the
integration tests' VT100 model: the bytes each kind of screen update
costs (and what that is in seconds on a 9600 baud line, 10 bits a byte),
and the keystroke-to-echo latency of a form field (the pty, not a serial
line: the program's own share).

usage: bench/console/run.py [XENBOX] [--vms N] [--keys K]
XENBOX defaults to the shipped static binary, output/check/images/xenbox
(its xenbox-io beside it).
"""
import argparse
import os
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("xenbox", nargs="?", default=os.path.join(TOP, "output/check/images/xenbox"))
    ap.add_argument("--vms", type=int, default=8)
    ap.add_argument("--keys", type=int, default=40)
    a = ap.parse_args()
    os.environ["XENBOX"] = a.xenbox
    import conftest
    import test_tui as tc
    from test_api import new_vm

    rows = []

    def cost(what, before, after=None):
        n = (after if after is not None else con.vt.bytes) - before
        rows.append((what, n))

    with tempfile.TemporaryDirectory(prefix="xenbox-bench-") as st:
        conftest.set_password(st)
        d = conftest.Daemon(st).start(https=True)
        try:
            p, s = d.login()
            vms = [new_vm(p, s, name_label="vm%02d" % i) for i in range(a.vms)]
            t0 = time.monotonic()
            con = tc.Console(d, st)
            con.wait(r"HTTPS +[0-9A-F]{2}:")
            con.wait(r"VMs +%d, 0 running" % a.vms)
            first = con.vt.bytes
            rows.append(("first paint (status, %d VMs)" % a.vms, first))
            b = con.vt.bytes
            time.sleep(10)
            cost("status screen, 10 s idle (clock, uptime, memory)", b)
            b = con.vt.bytes
            con.keys(tc.DOWN)
            con.wait(r"Written to")
            time.sleep(0.5)
            cost("menu: Status -> Network", b)
            b = con.vt.bytes
            con.keys(tc.DOWN + tc.DOWN)
            con.wait(r"No VMs|Enter: choose a VM")
            time.sleep(0.5)
            cost("menu: -> Root password -> VMs", b)
            con.keys(tc.ENTER)
            con.wait(r" 1 vm00 +Halted")
            time.sleep(2.5)
            b = con.vt.bytes
            tc.ok(p.VM.start(s, vms[0], False, False))
            con.wait(r" 1 vm00 +Running")
            time.sleep(0.5)
            cost("VM list: one VM changes power state", b)
            b = con.vt.bytes
            con.keys(tc.DOWN)
            time.sleep(0.5)
            cost("VM list: selection moves one line", b)
            con.keys(tc.ESC)
            con.keys(tc.ESC)
            con.keys("2")
            con.keys(tc.ENTER)
            con.wait(r"Mode +dhcp")
            con.keys(tc.DOWN)
            lat = []
            b = con.vt.bytes
            for i in range(a.keys):
                ch = "0123456789"[i % 10]
                want = con.vt.bytes
                t = time.monotonic()
                os.write(con.master, ch.encode())
                while con.vt.bytes == want:
                    time.sleep(0.0005)
                lat.append(time.monotonic() - t)
                time.sleep(0.05)
            cost("form: %d characters typed (per character)" % a.keys, b)
            rows[-1] = (rows[-1][0], rows[-1][1] / a.keys)
            con.keys(tc.ESC)
            con.close()
        finally:
            d.stop()
    print("%-52s %8s %10s" % ("update", "bytes", "at 9600"))
    for what, n in rows:
        print("%-52s %8.0f %9.2fs" % (what, n, n * 10 / 9600))
    lat.sort()
    print("keystroke to echo (pty): p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d keys)" % (
        lat[len(lat) // 2] * 1e3, lat[min(len(lat) - 1, len(lat) * 99 // 100)] * 1e3,
        lat[-1] * 1e3, len(lat)))


if __name__ == "__main__":
    main()
