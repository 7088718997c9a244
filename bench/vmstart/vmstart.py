#!/usr/bin/env python3
"""VM-start benchmark: xenbox's VM.start beside Debian's `xl create` of the
same guest, in one QEMU boot of Xen + our dom0 (bench/vmstart/README.md).

For each side, N runs, alternating (xenbox first in even runs, xl first in
odd ones); each run measures, from the start request:
  running   xenbox: VM.start over XenAPI from the host until its reply
            (power_state Running); xl: `xl create` until it returns (the
            domain unpaused)
  console   until the guest's /init prints its first line (GUEST-UP) on
            its console, as xenconsoled logs it
and also, not in the summary, the console log's first byte (`first`).
Both guests: the same kernel and initramfs, memory, vcpus, command line,
one disk (a file on a loop device through blkback) and one NIC (netback,
on xenbr0).  Every run waits for GUEST-IDLE (the guest wrote its disk)
and checks its vif on the bridge before the guest is destroyed.

Prints each run, the minima and the median of the per-run ratios, then
the medians as
  vm-start (median of N): xenbox running A s, console B s | xl running C s,
  console D s | ratio A/C (console B/D)

    XB_SYSTEM_IMAGES=output/x/images python3 bench/vmstart/vmstart.py [-n N]
"""
import argparse
import os
import statistics
import sys
import time
import xmlrpc.client

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests/system"))
import qemu as Q  # noqa: E402

MiB = 1 << 20
GUEST_DIR = "/usr/share/xenbox/guest"
# The one guest both toolstacks start.
GUEST = {
    "kernel": GUEST_DIR + "/vmlinuz",
    "ramdisk": GUEST_DIR + "/initramfs.cpio.gz",
    "cmdline": "console=hvc0 quiet guest.stamp=bench",
    "memory_mib": 128,
    "vcpus": 1,
    "disk_mib": 8,
}
XL_CFG = "/etc/xen/bench-guest.cfg"
XL_NAME = "bench-xl"
XB_NAME = "bench-xenbox"
BENCH = "/usr/lib/xenbox-bench"
TIMEOUT = 300


class BenchError(Exception):
    pass


def xl_config():
    g = GUEST
    return [
        'name = "%s"' % XL_NAME,
        'type = "pv"',
        'kernel = "%s"' % g["kernel"],
        'ramdisk = "%s"' % g["ramdisk"],
        'cmdline = "%s"' % g["cmdline"],
        "memory = %d" % g["memory_mib"],
        "maxmem = %d" % g["memory_mib"],
        "vcpus = %d" % g["vcpus"],
        'disk = [ "format=raw,vdev=xvda,access=rw,script=%s/xl-block,'
        'target=/var/tmp/xl-disk.img" ]' % BENCH,
        'vif = [ "bridge=xenbr0,script=%s/xl-vif" ]' % BENCH,
        'on_poweroff = "destroy"',
        'on_reboot = "destroy"',
        'on_crash = "destroy"',
    ]


def setup_xenbox(p, s):
    g = GUEST
    mem = str(g["memory_mib"] * MiB)
    pool = next(iter(Q.ok(p.pool.get_all_records(s)).values()))
    vdi = Q.ok(p.VDI.create(s, {"SR": pool["default_SR"], "virtual_size": str(g["disk_mib"] * MiB),
                                "name_label": "bench", "type": "user", "sharable": False,
                                "read_only": False, "other_config": {}}))
    vm = Q.ok(p.VM.create(s, {
        "name_label": XB_NAME, "PV_kernel": g["kernel"], "PV_ramdisk": g["ramdisk"],
        "PV_args": g["cmdline"], "memory_static_max": mem, "memory_dynamic_max": mem,
        "memory_dynamic_min": mem, "memory_static_min": mem,
        "VCPUs_max": str(g["vcpus"]), "VCPUs_at_startup": str(g["vcpus"]),
        "domain_type": "pv", "actions_after_shutdown": "destroy",
        "actions_after_reboot": "destroy", "actions_after_crash": "destroy"}))
    Q.ok(p.VBD.create(s, {"VM": vm, "VDI": vdi, "userdevice": "0", "bootable": True,
                          "mode": "RW", "type": "Disk", "empty": False, "other_config": {}}))
    net = Q.ok(p.network.get_all(s))[0]
    Q.ok(p.VIF.create(s, {"VM": vm, "network": net, "device": "0", "MAC": "",
                          "MTU": "1500", "other_config": {}}))
    return vm


def disk_mark(q, start, t0):
    """Seconds from t0 to dom0's kernel line for the guest's loop device
    (the domain is built, its devices being set up): a phase marker."""
    m = q.wait_for(rb"loop\d+: detected capacity change", start=start, timeout=5)
    return q.arrival(m.start()) - t0


def console_marks(q, tag, start, t0):
    """Seconds from t0 (host monotonic) to the watcher's TAG-FIRST and
    TAG-UP lines, by their arrival on the serial; waits for TAG-IDLE."""
    res = {}
    for what in ("FIRST", "UP", "IDLE"):
        m = q.wait_for(r"%s-(%s|TIMEOUT)[ \r\n]" % (tag, what), start=start, timeout=TIMEOUT)
        if m.group(1) == b"TIMEOUT":
            raise BenchError("%s: no GUEST-%s on the guest's console within %d s" % (tag, what, TIMEOUT))
        res[what.lower()] = q.arrival(m.start()) - t0
    return res


def check_guest(q, name, domid):
    _, log = q.run("cat /var/log/xen/console/guest-%s.log" % name)
    if "GUEST-XVDA-OK" not in log:
        raise BenchError("%s: the guest did not write its disk:\n%s" % (name, log))
    _, br = q.run("ls /sys/class/net/xenbr0/brif")
    if "vif%s.0" % domid not in br.split():
        raise BenchError("%s: vif%s.0 is not on xenbr0 (%s)" % (name, domid, br.split()))


def run_xenbox(q, p, s, vm, i):
    tag = "XBB%d" % i
    q.run("rm -f /var/log/xen/console/guest-%s.log; (%s/watch %s %s &)" % (XB_NAME, BENCH, XB_NAME, tag))
    start = q.mark()
    t0 = time.monotonic()
    Q.ok(p.VM.start(s, vm, False, False))
    r = {"running": time.monotonic() - t0}
    domid = Q.ok(p.VM.get_domid(s, vm))
    if Q.ok(p.VM.get_power_state(s, vm)) != "Running":
        raise BenchError("xenbox: VM.start returned but the VM is not Running")
    r.update(console_marks(q, tag, start, t0))
    r["disk"] = disk_mark(q, start, t0)
    check_guest(q, XB_NAME, domid)
    Q.ok(p.VM.hard_shutdown(s, vm))
    return r


def run_xl(q, i):
    tag = "XLB%d" % i
    start = q.mark()
    rc, out = q.run("%s/xl-run %s %s" % (BENCH, tag, XL_CFG), timeout=TIMEOUT)
    t0m = q.wait_for(r"%s-T0 " % tag, start=start, timeout=5)
    rm = q.wait_for(r"%s-RUNNING (\d+) " % tag, start=start, timeout=5)
    if rm.group(1) != b"0":
        raise BenchError("xl create failed (rc %s):\n%s" % (rm.group(1).decode(), out))
    t0 = q.arrival(t0m.start())
    r = {"running": q.arrival(rm.start()) - t0}
    r.update(console_marks(q, tag, start, t0))
    r["disk"] = disk_mark(q, start, t0)
    _, domid = q.run("xl domid %s" % XL_NAME)
    check_guest(q, XL_NAME, domid.strip())
    q.run("xl destroy %s" % XL_NAME, timeout=120)
    # libxl ran xl-block remove; a loop device left behind would be reused
    q.run("for d in $(losetup -a | sed -n 's|^\\(/dev/loop[0-9]*\\):.*xl-disk.img.*|\\1|p'); "
          "do losetup -d $d; done", check=False)
    return r


def fmt(r):
    return ("running %5.2f s, console %5.2f s (disk attached %5.2f s, first byte %5.2f s, "
            "idle %5.2f s)" % (r["running"], r["up"], r["disk"], r["first"], r["idle"]))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=int(os.environ.get("N", "5")),
                    help="runs per side (default 5, or $N)")
    ap.add_argument("--images", help="images directory (default $XB_SYSTEM_IMAGES)")
    a = ap.parse_args(argv)
    img = Q.images(a.images)
    initrd = "dom0-xl-initramfs.cpio.gz"
    if not os.path.exists(os.path.join(img, initrd)):
        raise SystemExit("vm-start: %s is missing: run `make bench-vmstart-images`" % os.path.join(img, initrd))
    pw = Q.password_hash(Q.PASSWORD, os.path.join(img, "xenbox"))
    log = os.path.join(Q.logs_dir(img), "bench-vmstart-console.log")
    q = Q.Qemu(img, initrd=initrd, log_path=log,
               dom0_args=["xenbox.backend=xen", "xenbox.pwhash=" + pw])
    q.start()
    res = {"xenbox": [], "xl": []}
    try:
        q.wait_for(r"XENBOX-READY backend=xen", timeout=TIMEOUT)
        q.wait_for(r"XENBOX-SHELL", timeout=60)
        print("vm-start: dom0 up in %.1f s; console log %s" % (q.elapsed(), log), flush=True)
        _, info = q.run("%s/xl-setup %d" % (BENCH, GUEST["disk_mib"]), timeout=120)
        print("vm-start: xl: " + " ".join(info.split()), flush=True)
        q.run("printf '%%s\\n' %s >%s" % (" ".join("'%s'" % l for l in xl_config()), XL_CFG))
        # VM.start takes 10-40 s under TCG, longer on a loaded host
        p = q.xmlrpc(timeout=TIMEOUT)
        s = Q.ok(p.session.login_with_password("root", Q.PASSWORD, "1.0", "xenbox-bench"))
        vm = setup_xenbox(p, s)
        for i in range(a.n):
            order = ("xenbox", "xl") if i % 2 == 0 else ("xl", "xenbox")
            for side in order:
                r = run_xenbox(q, p, s, vm, i) if side == "xenbox" else run_xl(q, i)
                res[side].append(r)
                print("  run %d %-6s %s" % (i + 1, side, fmt(r)), flush=True)
    except (Q.QemuError, BenchError, OSError, AssertionError, xmlrpc.client.Error) as e:
        print("vm-start: FAILED: %s\n%s" % (str(e).split("\n")[0], q.report(tail=60)), file=sys.stderr)
        return 1
    finally:
        q.stop()

    med = {side: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
           for side, rs in res.items()}
    x, l = med["xenbox"], med["xl"]
    # Each run's two starts are next to each other in time: their ratio
    # cancels the host's load drift, which moves TCG figures by 2x.
    pair = {k: statistics.median(a[k] / b[k] for a, b in zip(res["xenbox"], res["xl"]))
            for k in ("running", "up")}
    print("vm-start: min: xenbox running %.2f s, console %.2f s | xl running %.2f s, "
          "console %.2f s; median of per-run ratios: running %.2f, console %.2f" % (
              min(r["running"] for r in res["xenbox"]), min(r["up"] for r in res["xenbox"]),
              min(r["running"] for r in res["xl"]), min(r["up"] for r in res["xl"]),
              pair["running"], pair["up"]))
    print("vm-start (median of %d): xenbox running %.2f s, console %.2f s | "
          "xl running %.2f s, console %.2f s | ratio %.2f (console %.2f)" % (
              a.n, x["running"], x["up"], l["running"], l["up"],
              x["running"] / l["running"], x["up"] / l["up"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
