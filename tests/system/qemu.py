"""Boot real Xen + our dom0 under QEMU (TCG) and talk to it.

    from qemu import Qemu, images
    with Qemu(images(), dom0_args=["xenbox.backend=sim"]) as q:
        q.wait_for("XENBOX-READY", timeout=120)
        rc, out = q.run("xenstore-ls /local/domain/0")
        proxy = q.xmlrpc()            # XenAPI through hostfwd

One serial port carries everything: Xen's console (com1, lines "(XEN) ...")
and dom0's (hvc0, relayed by Xen).  QEMU's serial is its stdio here: the
reader thread appends every byte to `log_path` and to a buffer that
wait_for() searches.  Input typed into the serial goes to dom0 (Xen's
default), so run() drives the root shell /init leaves on hvc0.

Images (make system-images): $XB_SYSTEM_IMAGES or output/images, holding
xen (uncompressed), vmlinuz and dom0-initramfs.cpio.gz.

Run by hand:  python3 tests/system/qemu.py [--backend sim|xen] [dom0 args]
boots, prints the console, forwards :80/:443 to printed host ports, and
passes your terminal's input to dom0's shell (Ctrl-C stops QEMU).
"""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from qemuconsole import QEMU, QemuConsole, QemuError  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A dom0 that reached one of these will not reach a marker any more.
FATAL = re.compile(rb"XENBOX-FAILED[^\n]*|Kernel panic[^\n]*|\(XEN\) Panic on CPU[^\n]*|"
                   rb"\(XEN\) \*\*\*\*\*\*\*\*\*\*\*\*\*\*[^\n]*|"
                   rb"\(XEN\) Reboot in five seconds[^\n]*")


def images(path=None):
    """The images directory; raises QemuError naming what is missing."""
    d = path or os.environ.get("XB_SYSTEM_IMAGES") or os.path.join(TOP, "output/images")
    need = ["xen", "dom0-initramfs.cpio.gz"]
    missing = [n for n in need if not os.path.exists(os.path.join(d, n))]
    if not any(os.path.exists(os.path.join(d, k)) for k in ("vmlinux", "vmlinuz")):
        missing.append("vmlinux")
    if missing:
        raise QemuError("%s lacks %s: run `make system-images` (and set "
                        "XB_SYSTEM_IMAGES to its images directory)" % (d, ", ".join(missing)))
    return d


def qemu_missing():
    """None if QEMU can run here, else why not (for pytest.skip)."""
    if not shutil.which(QEMU):
        return "%s not found (support/deps.sh installs qemu-system-x86)" % QEMU
    return None


def password_hash(password, xenbox=None):
    """`xenbox passwd --print` with the image's binary (static: runs here)."""
    exe = xenbox or os.path.join(images(), "xenbox")
    r = subprocess.run([exe, "passwd", "--print"], input=password + "\n",
                       capture_output=True, text=True, check=True, timeout=60)
    return r.stdout.strip()


class Qemu(QemuConsole):
    """One QEMU running Xen and our dom0 (tests/lib/qemuconsole.py: the
    console, run(), wait_for(), xmlrpc()).

    dom0_args: extra dom0 kernel arguments (xenbox.backend=sim, ...);
    commas are doubled for QEMU's -initrd list here.  xen_args: extra Xen
    arguments.  forwards: guest TCP ports forwarded to free host ports
    (self.ports[guest_port]).  initrd: dom0's initramfs, a file name in the
    images directory or a path (default dom0-initramfs.cpio.gz).
    run() drives the root shell /init leaves on hvc0.
    """
    FATAL = FATAL

    def __init__(self, image_dir=None, dom0_args=(), xen_args=(), memory=1024,
                 dom0_mem="512M", forwards=(80, 443), log_path=None, echo=False,
                 kernel=None, quiet=None, initrd=None):
        super().__init__(log_path=log_path, echo=echo, ports=forwards, stderr_apart=True)
        self.images = images(image_dir)
        self.initrd = os.path.join(self.images, initrd or "dom0-initramfs.cpio.gz")
        # The uncompressed vmlinux saves Xen 2-3 s of XZ; vmlinuz works too.
        self.kernel = kernel or os.environ.get("XB_SYSTEM_KERNEL") or (
            "vmlinux" if os.path.exists(os.path.join(self.images, "vmlinux")) else "vmlinuz")
        # dom0's kernel messages, for diagnosis; XB_SYSTEM_QUIET=1 drops
        # them (measured: < 0.5 s).  Xen's are always all there.
        self.quiet = (os.environ.get("XB_SYSTEM_QUIET", "0") != "0") if quiet is None else quiet
        self.dom0_args = list(dom0_args)
        self.xen_args = list(xen_args)
        self.memory = memory
        self.dom0_mem = dom0_mem

    def command(self):
        xen = ["console=com1", "com1=115200,8n1",
               "dom0_mem=%s,max:%s" % (self.dom0_mem, self.dom0_mem),
               "dom0_max_vcpus=1", "loglvl=all", "guest_loglvl=all"] + self.xen_args
        dom0 = ["console=hvc0"] + (["quiet"] if self.quiet else ["earlyprintk=xen"]) + self.dom0_args
        kernel = " ".join([os.path.join(self.images, self.kernel)] + dom0)
        initrd = self.initrd
        fwd = ",".join("hostfwd=tcp:127.0.0.1:%d-:%d" % (h, g)
                       for g, h in self.ports.items())
        return [QEMU, "-accel", "tcg", "-cpu", "max,-smap", "-m", str(self.memory),
                "-smp", "1", "-display", "none", "-monitor", "none",
                "-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
                "-no-reboot",
                "-kernel", os.path.join(self.images, "xen"),
                "-append", " ".join(xen),
                # multiboot modules: comma separated, a comma in an
                # argument is written ",,"
                "-initrd", kernel.replace(",", ",,") + "," + initrd,
                "-nic", "user,model=e1000" + ("," + fwd if fwd else "")]

    def xen_log(self):
        return "\n".join(l for l in self.output.split("\n") if l.startswith("(XEN)"))

    def dom0_log(self):
        return "\n".join(l for l in self.output.split("\n") if not l.startswith("(XEN)"))

    def report(self, tail=None):
        """Both consoles (Xen's lines start with "(XEN)"), for failures."""
        x, d = self.xen_log().split("\n"), self.dom0_log().split("\n")
        if tail:
            x, d = x[-tail:], d[-tail:]
        err = self.qemu_stderr().strip()
        return ("---- Xen console (%s) ----\n%s\n---- dom0 console ----\n%s\n"
                "%s---- full log: %s ----" % (
                    "last %d lines" % tail if tail else "all", "\n".join(x), "\n".join(d),
                    "---- QEMU stderr ----\n%s\n" % err if err else "", self.log_path))


# ---- helpers for the tests (tests/system/test_*.py) --------------------------
PASSWORD = "s3cret-for-system-tests"


def _pytest():
    import pytest
    return pytest


def required():
    """XB_SYSTEM_REQUIRED=1 (support/check.sh sets it): what would skip a
    system test (no QEMU, no images, no Xen backend in the binary) fails
    it instead, so that `make check` cannot pass without running them."""
    return os.environ.get("XB_SYSTEM_REQUIRED", "0") not in ("", "0")


def skip_or_fail(why):
    if required():
        _pytest().fail("system tests required (XB_SYSTEM_REQUIRED=1): " + why, pytrace=False)
    _pytest().skip(why)


def logs_dir(images):
    d = os.environ.get("XB_SYSTEM_LOGS") or os.path.join(os.path.dirname(images), "system-logs")
    os.makedirs(d, exist_ok=True)
    return d


def boot(images, pwhash, name, backend, extra=(), timeout=240):
    """Boot and wait for the daemon (XENBOX-READY) and the shell; the
    timeout is generous for a loaded machine (idle: ~10-20 s)."""
    log = os.path.join(logs_dir(images), "%s-console.log" % name)
    q = Qemu(images, dom0_args=["xenbox.backend=" + backend, "xenbox.pwhash=" + pwhash,
                                  *extra], log_path=log)
    q.start()
    try:
        q.wait_for(r"XENBOX-READY backend=%s" % backend, timeout=timeout)
        q.wait_for(r"XENBOX-SHELL", timeout=30)
    except QemuError as e:
        q.stop()
        if "is not in this build" in q.output:
            skip_or_fail("this xenbox has no %s backend (daemon: \"%s\")" % (
                backend, [l for l in q.output.split("\n") if "is not in this build" in l][0].strip()))
        _pytest().fail("boot (%s backend) failed: %s\n\nfull consoles:\n%s" % (
            backend, str(e).split("\n")[0], q.report()), pytrace=False)
    q.boot_seconds = q.elapsed()
    sys.stderr.write("\nsystem: %s booted in %.1f s (%s)\n" % (
        name, q.boot_seconds, ", ".join("%s %.1f" % kv for kv in q.marks.items())))
    return q


def ok(r):
    assert r["Status"] == "Success", r
    return r["Value"]


def login(q):
    p = q.xmlrpc()
    s = ok(p.session.login_with_password("root", PASSWORD, "1.0", "xenbox-system-tests"))
    return p, s


def wait_until(fn, timeout=60, step=0.25, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("%s not met within %s s" % (what, timeout))
        time.sleep(step)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description="boot Xen + the xenbox dom0 under QEMU")
    ap.add_argument("--backend", default="sim")
    ap.add_argument("--password", default="xenbox")
    ap.add_argument("--images")
    ap.add_argument("args", nargs="*", help="extra dom0 kernel arguments")
    a = ap.parse_args(argv)
    img = images(a.images)
    args = ["xenbox.backend=" + a.backend,
            "xenbox.pwhash=" + password_hash(a.password, os.path.join(img, "xenbox"))] + a.args
    q = Qemu(img, dom0_args=args, echo=True).start()
    print("xenbox: http :%d, https :%d on 127.0.0.1; root password %r; log %s" % (
        q.ports[80], q.ports[443], a.password, q.log_path), file=sys.stderr)
    try:
        while q.proc.poll() is None:
            line = sys.stdin.readline()
            if not line:
                break
            q.send(line)
    except KeyboardInterrupt:
        pass
    finally:
        q.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
