"""Boot the xenbox USB image under QEMU (TCG) as a USB stick, from the host.

    from usbqemu import Stick, UsbQemu
    stick = Stick.copy_of(image, "/tmp/x.img", size="256M")
    with UsbQemu(stick.path, uefi=False) as q:
        q.wait_api()                    # first XenAPI answer (HTTP, forwarded)
        q.login("root", password)       # console login on hvc0
        rc, out = q.run("mount")

The serial port is QEMU's stdio: Xen's console ("(XEN) ...") and dom0's
(hvc0, relayed by Xen); what we type goes to dom0, where the technician's
console (`xenbox console`) runs: login() takes its Local shell to a login.  stop() is a hard power-off (SIGKILL): the tests want exactly that.
Stick edits the image from the host: mtools on the FAT partition, dd and
e2fsprogs on copies of the state partition.  Used by tests/usb and
bench/boot.
"""
import os
import re
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import xmlrpc.client

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from qemuconsole import QEMU, QemuConsole, QemuError  # noqa: E402

MiB = 1024 * 1024
FATAL = re.compile(rb"XENBOX-FAILED initrd[^\n]*|Kernel panic[^\n]*|\(XEN\) Panic on CPU[^\n]*|"
                   rb"\(XEN\) Reboot in five seconds[^\n]*")


class UsbError(QemuError):
    pass


class Stick:
    """An image file and its MBR partitions (start, size in bytes)."""

    def __init__(self, path):
        self.path = path

    @classmethod
    def copy_of(cls, image, path, size=None):
        subprocess.run(["cp", "--sparse=always", image, path], check=True)
        if size:
            subprocess.run(["truncate", "-s", size, path], check=True)
        return cls(path)

    def partitions(self):
        with open(self.path, "rb") as f:
            mbr = f.read(512)
        assert mbr[510:512] == b"\x55\xaa", "%s: no MBR" % self.path
        parts = []
        for i in range(4):
            e = mbr[446 + 16 * i: 462 + 16 * i]
            if e[4]:
                parts.append((int.from_bytes(e[8:12], "little") * 512,
                              int.from_bytes(e[12:16], "little") * 512))
        return parts

    def mtools(self, *args, **kw):
        """Run an mtools command on the FAT partition (::/ is its root)."""
        start = self.partitions()[0][0]
        env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
        cmd = [args[0], "-i", "%s@@%d" % (self.path, start)] + list(args[1:])
        return subprocess.run(cmd, env=env, check=True, capture_output=True, **kw)

    def read_conf(self):
        return self.mtools("mtype", "::/xenbox.conf").stdout.decode()

    def write_conf(self, content):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write(content)
        try:
            self.mtools("mcopy", "-o", f.name, "::/xenbox.conf")
        finally:
            os.unlink(f.name)

    def regions_outside_state(self):
        """The image's bytes outside the state partition, as one blob."""
        start, size = self.partitions()[-1]
        with open(self.path, "rb") as f:
            head = f.read(start)
            f.seek(start + size)
            tail = f.read()
        return head + tail

    def _state_partition(self, d):
        start, size = self.partitions()[-1]
        part = os.path.join(d, "state.img")
        subprocess.run(["dd", "if=" + self.path, "of=" + part, "bs=1M", "status=none",
                        "skip=%d" % (start // MiB), "count=%d" % (size // MiB)], check=True)
        return part

    def put_state_files(self, files):
        """Before a first boot: grow the state partition to the end of the
        stick, as the boot's `xenbox growfs` would (the image's own is a
        few MiB), and write files into it: {path on /state: host file}.
        e2fsprogs on a copy of the partition (resize2fs, debugfs -w),
        copied back; the partition's MBR entry gets its new size."""
        parts = self.partitions()
        start, size = parts[-1]
        grown = (os.path.getsize(self.path) - start) // MiB * MiB
        with open(self.path, "rb") as f:
            mbr = f.read(512)
        entry = [i for i in range(4) if mbr[446 + 16 * i + 4]
                 and int.from_bytes(mbr[446 + 16 * i + 8: 446 + 16 * i + 12], "little") * 512
                 == start]
        assert len(entry) == 1, "no MBR entry for the state partition"
        with tempfile.TemporaryDirectory() as d:
            part = self._state_partition(d)
            if grown > size:
                subprocess.run(["truncate", "-s", str(grown), part], check=True)
                r = subprocess.run(["e2fsck", "-fy", part], capture_output=True, text=True)
                if r.returncode >= 4:
                    raise UsbError("e2fsck: rc %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
                subprocess.run(["resize2fs", "-p", part], check=True, capture_output=True)
            cmds = os.path.join(d, "cmds")
            with open(cmds, "w") as f:
                for inside, src in sorted(files.items()):
                    parent = os.path.dirname(inside)
                    for i in range(2, len(parent.split("/")) + 1):
                        f.write("mkdir %s\n" % "/".join(parent.split("/")[:i]))
                    f.write("write %s %s\n" % (src, inside))
            r = subprocess.run(["debugfs", "-w", "-f", cmds, part], capture_output=True,
                               text=True)
            for inside, src in files.items():     # each file there, whole
                st = subprocess.run(["debugfs", "-R", "stat " + inside, part],
                                    capture_output=True, text=True).stdout
                if not re.search(r"\bSize: %d\b" % os.path.getsize(src), st):
                    raise UsbError("debugfs did not write %s:\n%s%s" % (inside, r.stdout,
                                                                         r.stderr))
            subprocess.run(["dd", "if=" + part, "of=" + self.path, "bs=1M", "status=none",
                            "seek=%d" % (start // MiB), "conv=notrunc"], check=True)
        if grown > size:
            with open(self.path, "r+b") as f:
                f.seek(446 + 16 * entry[0] + 12)
                f.write((grown // 512).to_bytes(4, "little"))

    def state_fs_header(self):
        """dumpe2fs -h of the state partition as it is on the stick (no
        journal replayed)."""
        with tempfile.TemporaryDirectory() as d:
            return subprocess.run(["dumpe2fs", "-h", self._state_partition(d)], check=True,
                                  capture_output=True, text=True).stdout

    def state_text(self, inside):
        """A text file of the state partition, as the kernel would see it."""
        with tempfile.TemporaryDirectory() as d:
            dest = os.path.join(d, "out")
            if not self.state_file(inside, dest):
                raise UsbError("no %s on the state partition" % inside)
            with open(dest) as f:
                return f.read()

    def state_file(self, inside, dest):
        """Copy a file out of the state partition (ext4) to dest, after
        replaying its journal on a copy, as the kernel would at mount.
        Returns False if the file is not there."""
        with tempfile.TemporaryDirectory() as d:
            part = self._state_partition(d)
            r = subprocess.run(["e2fsck", "-fy", part], capture_output=True, text=True)
            if r.returncode >= 4:
                raise UsbError("e2fsck of the state partition: rc %d\n%s%s" % (
                    r.returncode, r.stdout, r.stderr))
            r = subprocess.run(["debugfs", "-R", "dump %s %s" % (inside, dest), part],
                               capture_output=True, text=True)
            return os.path.exists(dest) and os.path.getsize(dest) > 0


def xapi_ok(r):
    """A XenAPI call's Value, asserting its Status is Success."""
    assert r["Status"] == "Success", r
    return r["Value"]


def integrity_check(db_path):
    """PRAGMA integrity_check on a database file (and its -wal beside it)."""
    c = sqlite3.connect(db_path)
    try:
        return c.execute("PRAGMA integrity_check").fetchall()
    finally:
        c.close()


class UsbQemu(QemuConsole):
    """One QEMU booting a stick image (SeaBIOS, or OVMF with uefi=True),
    its console driven by tests/lib/qemuconsole.py.  The XenAPI's ports
    80 and 443 are forwarded to self.ports[80], self.ports[443] (to
    guest_addr, default the first DHCP address).  restrict (the default)
    keeps the guest off the host's network (QEMU's restrict=on): its DHCP
    answer then has an address but no router and no DNS server."""
    FATAL = FATAL
    Error = UsbError

    def __init__(self, image, uefi=False, ovmf=None, memory=2048, log_path=None,
                 guest_addr=None, restrict=True, nic="e1000", nics_before=(), devices=()):
        super().__init__(log_path=log_path or os.path.join(
            tempfile.mkdtemp(prefix="xb-usb-"), "console.log"))
        self.image = image
        self.uefi = uefi
        self.ovmf = ovmf or os.environ.get("XB_OVMF")
        self.memory = memory
        self.guest_addr = guest_addr or ""
        self.restrict = restrict
        # QEMU's NIC model (e1000, virtio-net-pci...) on the user network
        # with the forwarded ports, or None: no NIC at all.  nics_before:
        # models of NICs on user networks of their own (no forwarded
        # ports), on PCI slots before it: dom0 numbers them first.
        # devices: more QEMU arguments (disk controllers, other networks).
        self.nic = nic
        self.nics_before = list(nics_before)
        self.devices = list(devices)

    def command(self):
        fwd = ",".join("hostfwd=tcp:127.0.0.1:%d-%s:%d" % (h, self.guest_addr, g)
                       for g, h in self.ports.items())
        fw = []
        if self.uefi:
            if not self.ovmf or not os.path.exists(self.ovmf):
                raise UsbError("no OVMF firmware (make ovmf; XB_OVMF=%s)" % self.ovmf)
            fw = ["-bios", self.ovmf]
        return [QEMU, "-accel", "tcg", "-cpu", "max,-smap", "-m", str(self.memory), "-smp", "1",
                # No graphics card, as a headless server: the firmware and
                # Xen's vga console then have no framebuffer to draw on
                # (under TCG, Xen's text on OVMF's framebuffer costs ~10 s).
                *fw, "-vga", "none", "-display", "none", "-monitor", "none", "-no-reboot",
                "-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
                "-device", "qemu-xhci,id=xhci",
                "-drive", "if=none,id=stick,format=raw,file=" + self.image,
                "-device", "usb-storage,bus=xhci.0,drive=stick,bootindex=0",
                *[a for m in self.nics_before for a in ("-nic", "user,model=%s,restrict=on" % m)],
                *(["-nic", "user,model=%s%s,%s" % (self.nic, ",restrict=on" if self.restrict
                                                   else "", fwd)] if self.nic else
                  ["-nic", "none"] if not self.nics_before else []),
                *self.devices]

    def tail(self, n=60):
        return self.report(n)

    def proxy(self, timeout=30):
        """The XenAPI over HTTPS, the certificate unchecked (it is the
        image's own, self-signed): with https_only, the default, the
        image's plain HTTP answers on dom0's loopback only, and QEMU's
        forwarded connections come from beyond it."""
        class T(xmlrpc.client.SafeTransport):
            def make_connection(self, host):
                c = super().make_connection(host)
                c.timeout = timeout
                return c
        return xmlrpc.client.ServerProxy(self.url(443, "https"), allow_none=True,
                                         transport=T(context=ssl._create_unverified_context()))

    def wait_api(self, timeout=240):
        """Poll until the XenAPI answers over HTTPS (system.listMethods:
        no login, so no failed-login throttling); returns the seconds
        since QEMU started, taken when the first answer arrived."""
        # QEMU's user network accepts the host side of a forwarded
        # connection at once and holds it while dom0 has no address or
        # nothing listens yet, so one attempt may hang until its timeout.
        # A new attempt starts every 0.2 s, each in its own thread (5 s
        # timeout, at most 25 at once): the first answer is seen when it
        # comes, not when a stuck attempt gives up.
        t0 = time.monotonic()
        deadline = t0 + timeout
        got = []
        errors = []
        lock = threading.Lock()

        def attempt():
            try:
                r = self.proxy(timeout=5).system.listMethods()
                if isinstance(r, (list, dict)):
                    with lock:
                        got.append(self.elapsed())
            except (OSError, xmlrpc.client.ProtocolError, xmlrpc.client.Fault) as e:
                with lock:
                    errors.append(e)

        threads = []
        while time.monotonic() < deadline:
            with lock:
                done = bool(got)
            if done:
                # The attempts still under way end first (each within its
                # 5 s).  Otherwise, as it seems, late ones the daemon
                # accepts after the caller's next connection make it close
                # that one for room (its per-address budget closes the
                # oldest connection with no answer yet): test_uefi_boot's
                # first login saw an EOF in its TLS handshake 3 times in a
                # row after ~60 s boots on a loaded host, and passed with
                # this.
                for t in threads:
                    t.join(timeout=10)
                return min(got)
            if self.proc.poll() is not None:
                raise UsbError("QEMU exited (rc %s) before the XenAPI answered\n%s" % (
                    self.proc.poll(), self.tail()))
            threads = [t for t in threads if t.is_alive()]
            if len(threads) < 25:
                t = threading.Thread(target=attempt, daemon=True)
                t.start()
                threads.append(t)
            time.sleep(0.2)
        last = errors[-1] if errors else None
        raise UsbError("no XenAPI answer within %d s (last: %r)\n%s" % (timeout, last, self.tail()))
