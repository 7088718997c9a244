"""A QEMU whose serial console is its stdio, driven from a test: what the
system tests (tests/system/qemu.py: Xen + our dom0 booted with -kernel)
and the USB image's tests (tests/usb/usbqemu.py: the stick booted by its
firmware) share.  A subclass gives command(); this class runs QEMU, keeps
every console byte (in a buffer that wait_for() searches, and in
log_path), types into the console and runs shell commands there.

One serial port carries Xen's console (lines "(XEN) ...") and dom0's
(hvc0, relayed by Xen); what is typed goes to dom0 (Xen's default).
"""
import bisect
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import xmlrpc.client

from ports import free_port

QEMU = os.environ.get("XB_QEMU", "qemu-system-x86_64")


class QemuError(Exception):
    pass


def text(raw):
    """Console bytes as text, serial line ends (CR LF, CR CR LF) as LF."""
    return re.sub(r"\r+\n", "\n", bytes(raw).decode("utf-8", "replace"))


class QemuConsole:
    """Subclasses set FATAL (a console regex after which the wanted marker
    will not come) and Error, and define command()."""
    FATAL = None
    Error = QemuError

    def __init__(self, log_path=None, echo=False, ports=(80, 443), stderr_apart=False):
        # Kept after stop(): the log is what explains a failure.
        self.log_path = log_path or os.path.join(tempfile.mkdtemp(prefix="xb-qemu-"),
                                                 "console.log")
        self.stderr_path = self.log_path + ".qemu-stderr" if stderr_apart else None
        self.echo = echo
        self.ports = {p: free_port() for p in ports}
        self.proc = None
        self.t0 = None
        self.marks = {}             # marker -> seconds after start, by wait_for
        self._buf = bytearray()
        self._arrivals = ([], [])   # console offsets, monotonic times of the reads
        self._cond = threading.Condition()
        self._eof = False
        self._seq = 0
        self._reader = None
        self._log = self._stderr = None

    def command(self):
        raise NotImplementedError

    # ---- lifetime ----
    def start(self):
        cmd = self.command()
        self.t0 = time.monotonic()
        self._log = open(self.log_path, "wb")
        if self.stderr_path:
            self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr or subprocess.STDOUT, bufsize=0)
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
            if self.echo:
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
            with self._cond:
                self._arrivals[0].append(len(self._buf))
                self._arrivals[1].append(time.monotonic())
                self._buf += data
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def stop(self):
        """Power off, hard (SIGKILL: nothing in the guest is flushed)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait(30)
        if self._reader:
            self._reader.join(10)
        for f in (self._log, self._stderr):
            if f:
                f.close()
        if self.proc:
            for f in (self.proc.stdin, self.proc.stdout):
                if f:
                    f.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def elapsed(self):
        return time.monotonic() - self.t0

    # ---- console ----
    @property
    def output(self):
        with self._cond:
            return text(self._buf)

    def qemu_stderr(self):
        if not self.stderr_path:
            return ""
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def report(self, tail=60):
        """What a failure shows: the console's last lines (subclasses may
        say more)."""
        lines = self.output.split("\n")
        return "\n".join(lines[-tail:] if tail else lines) + "\n(full console: %s)" % self.log_path

    def mark(self):
        """Current console offset, for wait_for(start=...) and since()."""
        with self._cond:
            return len(self._buf)

    def since(self, mark):
        """The console's text after a mark()."""
        with self._cond:
            return text(self._buf[mark:])

    def wait_for(self, pattern, timeout=120, start=0, fatal=True):
        """Wait until pattern (a regex, str or bytes) appears at or after
        byte offset `start` of the console; returns the match (bytes).
        Fails at once on QEMU's exit or, with fatal, on a FATAL line."""
        if isinstance(pattern, str):
            pattern = pattern.encode()
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = rx.search(self._buf, start)
                if m:
                    self.marks.setdefault(pattern.decode(errors="replace"), self.elapsed())
                    return m
                bad = self.FATAL.search(self._buf, start) if fatal and self.FATAL else None
                if bad:
                    raise self.Error("console shows %r while waiting for %r\n%s" % (
                        bad.group(0).decode(errors="replace"), pattern, self.report(80)))
                if self._eof:
                    raise self.Error("QEMU exited (rc %s) while waiting for %r\n%s" % (
                        self.proc.poll(), pattern, self.report(80)))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self.Error("no %r on the console within %d s\n%s" % (
                        pattern, timeout, self.report(80)))
                self._cond.wait(min(left, 1.0))

    def arrival(self, offset):
        """time.monotonic() when the console byte at offset was read from
        QEMU (for timing a marker, whenever it was looked for)."""
        with self._cond:
            i = bisect.bisect_right(self._arrivals[0], offset) - 1
            return self._arrivals[1][max(i, 0)] if self._arrivals[1] else None

    def milestones(self, marks):
        """[(name, seconds after start when the regex's first match had
        arrived, or None)] for marks = [(name, regex)]."""
        with self._cond:
            buf = bytes(self._buf)
        out = []
        for name, rx in marks:
            m = re.search(rx.encode(), buf)
            out.append((name, self.arrival(max(m.end() - 1, 0)) - self.t0 if m else None))
        return out

    def send(self, s):
        """Type into dom0's console.  Xen's serial input ring is small and
        dom0 is slow under TCG: small chunks, paced."""
        data = s.encode()
        for i in range(0, len(data), 16):
            self.proc.stdin.write(data[i:i + 16])
            self.proc.stdin.flush()
            time.sleep(0.02)

    def login(self, user, password, timeout=120):
        """Log in at a getty's prompt, or through the technician's console
        (`xenbox console`, the USB image's default: its item 8, Local
        shell, runs login; docs/SERIAL_CONSOLE.md)."""
        m = self.wait_for(r"login: |xenbox console", timeout=timeout)
        if m.group(0) != b"login: ":
            at = self.mark()
            self.send("8\r")
            m = self.wait_for(r"login: ", timeout=60, start=at)
        self.send(user + "\n")
        self.wait_for(r"Password: ", timeout=30, start=m.start())
        at = self.mark()
        self.send(password + "\n")
        self.wait_for(r"# ", timeout=30, start=at)

    def run(self, cmd, timeout=60, check=True):
        """Run a shell command in dom0's console (a root shell must be
        there); returns (rc, output).  The command is one line."""
        assert "\n" not in cmd
        self._seq += 1
        n = self._seq
        start = self.mark()
        # The markers as typed (echoed by the tty) differ from the output.
        self.send('echo XB-B"%d"; %s; echo XB-E"%d"-$?\n' % (n, cmd, n))
        m = self.wait_for(r"XB-E%d-(\d+)" % n, timeout=timeout, start=start)
        b = self.wait_for(r"XB-B%d\r*\n" % n, timeout=1, start=start)
        with self._cond:
            out = text(self._buf[b.end():m.start()])
        rc = int(m.group(1))
        if check and rc != 0:
            raise self.Error("dom0: `%s` exited %d:\n%s" % (cmd, rc, out))
        return rc, out

    # ---- XenAPI through the forwarded ports ----
    def url(self, port=80, scheme="http"):
        return "%s://127.0.0.1:%d/" % (scheme, self.ports[port])

    def xmlrpc(self, timeout=60):
        class T(xmlrpc.client.Transport):
            def make_connection(self, host):
                c = super().make_connection(host)
                c.timeout = timeout
                return c
        return xmlrpc.client.ServerProxy(self.url(), transport=T(), allow_none=True)
