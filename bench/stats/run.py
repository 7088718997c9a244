#!/usr/bin/env python3
"""Stats benchmarks (docs/BENCHMARKS.md); prints figures, asserts nothing.

1. Flash: bytes the daemon writes per hour with N running VMs (default 20),
   from /proc/<pid>/io write_bytes, measured over a shortened save interval
   and scaled to the default interval (one save per hour).
2. Memory: RSS of the whole daemon with M VMs (default 100) sampled; every
   archive row is allocated and written (NaN) when an RRD is created, so
   this is the RSS with full history.

usage: bench/stats/run.py [XENBOX] [--vms N] [--rss-vms M] [--seconds S]
XENBOX defaults to the shipped static binary, output/check/images/xenbox.
The state directory is on disk (under output/), not tmpfs, so that
write_bytes counts.
"""
import argparse
import os
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))


def proc(pid, name, key):
    with open("/proc/%d/%s" % (pid, name)) as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])


def start(state, conf_lines, n, with_devices):
    import conftest
    from conftest import Daemon, ok, set_password
    set_password(state)
    conf = os.path.join(state, "xenbox.conf")
    with open(conf, "w") as f:
        f.write("".join(l + "\n" for l in conf_lines))
    d = Daemon(state).start(extra=("--config", conf))
    p, s = d.login()
    pool = list(ok(p.pool.get_all_records(s)).values())[0]
    net = ok(p.network.get_all(s))[0]
    for i in range(n):
        vm = ok(p.VM.create(s, {
            "name_label": "bench%d" % i, "PV_kernel": "/boot/vmlinuz", "PV_args": "",
            "memory_static_max": str(32 << 20), "memory_dynamic_max": str(32 << 20),
            "memory_dynamic_min": str(32 << 20), "memory_static_min": str(32 << 20),
            "VCPUs_max": "2", "VCPUs_at_startup": "2", "domain_type": "pv"}))
        if with_devices:
            vdi = ok(p.VDI.create(s, {"SR": pool["default_SR"], "virtual_size": str(1 << 20),
                                      "name_label": "d%d" % i, "type": "user",
                                      "sharable": False, "read_only": False,
                                      "other_config": {}}))
            ok(p.VBD.create(s, {"VM": vm, "VDI": vdi, "userdevice": "0", "bootable": True,
                                "mode": "RW", "type": "Disk", "empty": False,
                                "other_config": {}}))
            ok(p.VIF.create(s, {"VM": vm, "network": net, "device": "0", "MAC": "",
                                "MTU": "1500", "other_config": {}}))
        ok(p.VM.start(s, vm, False, False))
    return d


def flash(xenbox, n, seconds, interval=10):
    with tempfile.TemporaryDirectory(prefix="xenbox-bench-", dir=os.path.join(TOP, "output")) as st:
        d = start(st, ["stats_save_interval = %d" % interval], n, True)
        try:
            time.sleep(interval + 6)            # VMs settled, first save done
            pid = d.proc.pid
            w0, t0 = proc(pid, "io", "write_bytes"), time.time()
            time.sleep(seconds)
            w1, t1 = proc(pid, "io", "write_bytes"), time.time()
            size = os.path.getsize(os.path.join(st, "stats.rrd"))
        finally:
            d.stop()
    saves = (t1 - t0) / interval
    per_save = (w1 - w0) / saves
    print("flash: %d VMs (2 vcpus, 1 VIF, 1 VBD each): %d bytes written in %.0f s "
          "at a %d s save interval (%.1f saves); stats.rrd %d bytes"
          % (n, w1 - w0, t1 - t0, interval, saves, size))
    print("flash: at the default interval (3600 s): %.0f KiB/h (goal <= 1024 KiB/h)"
          % (per_save / 1024))


def rss(xenbox, m):
    with tempfile.TemporaryDirectory(prefix="xenbox-bench-", dir=os.path.join(TOP, "output")) as st:
        d = start(st, [], m, False)
        try:
            d0 = proc(d.proc.pid, "status", "VmRSS:")
            time.sleep(12)                      # two samples: every RRD exists
            r = proc(d.proc.pid, "status", "VmRSS:")
            hwm = proc(d.proc.pid, "status", "VmHWM:")
        finally:
            d.stop()
    print("rss: %d VMs (2 vcpus each), every RRD allocated: VmRSS %.1f MiB, VmHWM %.1f MiB "
          "(%.1f MiB before the first sample; goal <= 8 MiB)"
          % (m, r / 1024, hwm / 1024, d0 / 1024))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("xenbox", nargs="?", default=os.path.join(TOP, "output/check/images/xenbox"))
    ap.add_argument("--vms", type=int, default=20)
    ap.add_argument("--rss-vms", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=60)
    a = ap.parse_args()
    os.environ["XENBOX"] = os.path.abspath(a.xenbox)
    import conftest
    conftest.XENBOX = os.environ["XENBOX"]
    flash(a.xenbox, a.vms, a.seconds)
    rss(a.xenbox, a.rss_vms)


if __name__ == "__main__":
    main()
