"""Boot the xenbox USB image under QEMU (TCG) as a USB stick, from the host.

    from usbqemu import Stick, UsbQemu
    stick = Stick.copy_of(image, "/tmp/x.img", size="256M")
    with UsbQemu(stick.path, uefi=False) as q:
        q.wait_api()                    # first XenAPI answer (HTTP, forwarded)
        q.login("root", password)       # console login on hvc0
        rc, out = q.run("mount")

The serial port is QEMU's stdio: Xen's console ("(XEN) ...") and dom0's
(hvc0, relayed by Xen); what we type goes to dom0, where getty offers a
login.  stop() is a hard power-off (SIGKILL): the tests want exactly that.
Stick edits the image from the host: mtools on the FAT partition, dd and
e2fsprogs on copies of the state partition.  Used by tests/usb and
bench/boot.
"""
import os
import re
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import xmlrpc.client

QEMU = os.environ.get("XB_QEMU", "qemu-system-x86_64")
MiB = 1024 * 1024
FATAL = re.compile(rb"XENBOX-FAILED initrd[^\n]*|Kernel panic[^\n]*|\(XEN\) Panic on CPU[^\n]*|"
                   rb"\(XEN\) Reboot in five seconds[^\n]*")


class UsbError(Exception):
    pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def text(raw):
    return re.sub(r"\r+\n", "\n", bytes(raw).decode("utf-8", "replace"))


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


def integrity_check(db_path):
    """PRAGMA integrity_check on a database file (and its -wal beside it)."""
    c = sqlite3.connect(db_path)
    try:
        return c.execute("PRAGMA integrity_check").fetchall()
    finally:
        c.close()


class UsbQemu:
    """One QEMU booting a stick image (SeaBIOS, or OVMF with uefi=True).
    forwards: {guest_port: (host_port, guest_addr or None)}."""

    def __init__(self, image, uefi=False, ovmf=None, memory=2048, log_path=None,
                 guest_addr=None, restrict=True):
        self.image = image
        self.uefi = uefi
        self.ovmf = ovmf or os.environ.get("XB_OVMF")
        self.memory = memory
        self.guest_addr = guest_addr or ""
        self.restrict = restrict
        self.ports = {80: free_port(), 443: free_port()}
        self.log_path = log_path or os.path.join(tempfile.mkdtemp(prefix="xb-usb-"), "console.log")
        self.proc = None
        self._buf = bytearray()
        self._cond = threading.Condition()
        self._eof = False
        self._seq = 0
        self._arrivals = []     # (end offset, seconds): when bytes came

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
                "-nic", "user,model=e1000%s,%s" % (",restrict=on" if self.restrict else "", fwd)]

    def start(self):
        self.t0 = time.monotonic()
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            self._log.write(data)
            self._log.flush()
            with self._cond:
                self._buf += data
                self._arrivals.append((len(self._buf), self.elapsed()))
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def stop(self):
        """Power off, hard (SIGKILL: nothing is flushed)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait(30)
            self._reader.join(10)
            self._log.close()
            self.proc.stdin.close()
            self.proc.stdout.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def elapsed(self):
        return time.monotonic() - self.t0

    @property
    def output(self):
        with self._cond:
            return text(self._buf)

    def tail(self, n=60):
        return "\n".join(self.output.split("\n")[-n:]) + "\n(full console: %s)" % self.log_path

    def milestones(self, marks):
        """[(name, seconds after start the regex's first match arrived, or
        None)] for marks = [(name, regex)]."""
        with self._cond:
            buf, arr = bytes(self._buf), list(self._arrivals)
        out = []
        for name, rx in marks:
            m = re.search(rx.encode(), buf)
            t = next((t for end, t in arr if end >= m.end()), None) if m else None
            out.append((name, t))
        return out

    def mark(self):
        with self._cond:
            return len(self._buf)

    def since(self, mark):
        """The console's text after a mark()."""
        with self._cond:
            return text(self._buf[mark:])

    def wait_for(self, pattern, timeout=180, start=0):
        if isinstance(pattern, str):
            pattern = pattern.encode()
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = rx.search(self._buf, start)
                if m:
                    return m
                bad = FATAL.search(self._buf, start)
                if bad:
                    raise UsbError("console shows %r while waiting for %r\n%s" % (
                        bad.group(0).decode(errors="replace"), pattern, self.tail()))
                if self._eof:
                    raise UsbError("QEMU exited (rc %s) waiting for %r\n%s" % (
                        self.proc.poll(), pattern, self.tail()))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise UsbError("no %r on the console within %d s\n%s" % (
                        pattern, timeout, self.tail()))
                self._cond.wait(min(left, 1.0))

    def send(self, s):
        """Type into dom0's console: small paced chunks (Xen's serial ring
        is small, dom0 slow under TCG)."""
        data = s.encode()
        for i in range(0, len(data), 16):
            self.proc.stdin.write(data[i:i + 16])
            self.proc.stdin.flush()
            time.sleep(0.02)

    def login(self, user, password, timeout=120):
        m = self.wait_for(r"login: ", timeout=timeout)
        start = m.start()
        self.send(user + "\n")
        self.wait_for(r"Password: ", timeout=30, start=start)
        at = self.mark()
        self.send(password + "\n")
        self.wait_for(r"# ", timeout=30, start=at)

    def run(self, cmd, timeout=60, check=True):
        """A shell command in the logged-in console; returns (rc, output)."""
        assert "\n" not in cmd
        self._seq += 1
        n = self._seq
        start = self.mark()
        self.send('echo XB-B"%d"; %s; echo XB-E"%d"-$?\n' % (n, cmd, n))
        m = self.wait_for(r"XB-E%d-(\d+)" % n, timeout=timeout, start=start)
        b = self.wait_for(r"XB-B%d\r*\n" % n, timeout=1, start=start)
        with self._cond:
            out = text(self._buf[b.end():m.start()])
        rc = int(m.group(1))
        if check and rc:
            raise UsbError("dom0: `%s` exited %d:\n%s" % (cmd, rc, out))
        return rc, out

    # ---- XenAPI ----
    def url(self, port=80, scheme="http"):
        return "%s://127.0.0.1:%d/" % (scheme, self.ports[port])

    def proxy(self, timeout=30):
        class T(xmlrpc.client.Transport):
            def make_connection(self, host):
                c = super().make_connection(host)
                c.timeout = timeout
                return c
        return xmlrpc.client.ServerProxy(self.url(), transport=T(), allow_none=True)

    def wait_api(self, timeout=240):
        """Poll until the XenAPI answers over HTTP (system.listMethods:
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
                if got:
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
