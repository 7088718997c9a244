"""`xenbox console`, the technician's console (docs/SERIAL_CONSOLE.md), driven as a
person would over a serial line: on a pty, keys typed, the screen read by
feeding what it writes through a small VT100 model (the sequences a VT100
understands; anything else fails the test).  Against a sim daemon over
its Unix socket; what the console did is checked through XML-RPC."""
import base64
import hashlib
import os
import pty
import re
import select
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import XENBOX, Daemon, ok
from test_api import new_vm, wait_for

ROWS, COLS = 24, 80


class VT100:
    """80x24, autowrap with the pending-wrap state, CUP, CUF, EL, ED 2,
    SGR 0 and 7; CR, LF (scrolls at the bottom), BS."""

    def __init__(self):
        self.g = [[" "] * COLS for _ in range(ROWS)]
        self.r = self.c = 0
        self.wrap = False
        self.esc = b""
        self.bytes = 0

    def feed(self, data):
        self.bytes += len(data)
        for ch in data:
            if self.esc:
                self.esc += bytes([ch])
                if len(self.esc) == 2:
                    assert self.esc == b"\x1b[", self.esc
                elif 0x40 <= ch <= 0x7e:
                    self.csi(self.esc[2:-1].decode(), chr(ch))
                    self.esc = b""
                continue
            if ch == 0x1b:
                self.esc = b"\x1b"
            elif ch == 0x0d:
                self.c, self.wrap = 0, False
            elif ch == 0x0a:
                self.lf()
            elif ch == 0x08:
                self.c = max(0, self.c - 1)
            elif 0x20 <= ch < 0x7f:
                if self.wrap:
                    self.lf()
                    self.c, self.wrap = 0, False
                self.g[self.r][self.c] = chr(ch)
                if self.c == COLS - 1:
                    self.wrap = True
                else:
                    self.c += 1

    def lf(self):
        self.wrap = False
        if self.r == ROWS - 1:
            self.g = self.g[1:] + [[" "] * COLS]
        else:
            self.r += 1

    def csi(self, params, final):
        a = [int(x) if x else 0 for x in params.split(";")] if params else [0]
        self.wrap = False
        if final == "H":
            self.r = (a[0] or 1) - 1
            self.c = ((a[1] if len(a) > 1 else 0) or 1) - 1
        elif final == "C":
            self.c = min(COLS - 1, self.c + (a[0] or 1))
        elif final == "K":
            assert a[0] == 0
            for c in range(self.c, COLS):
                self.g[self.r][c] = " "
        elif final == "J":
            assert a[0] == 2
            self.g = [[" "] * COLS for _ in range(ROWS)]
        elif final == "m":
            assert a[0] in (0, 7), params
        else:
            raise AssertionError("unexpected sequence ESC[%s%s" % (params, final))

    def text(self):
        return "\n".join("".join(row) for row in self.g)


class Console:
    """`xenbox console` on a pty: keys in, the screen model out."""

    def __init__(self, d, tmp, extra=()):
        self.master, slave = pty.openpty()
        self.vt = VT100()
        self.lock = threading.Lock()
        self.raw = b""
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0", TZ="UTC")
        self.proc = subprocess.Popen(
            [XENBOX, "console", "--unix", d.unix, "--state-dir", d.state, *extra],
            stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.stop_reading = False
        self.t = threading.Thread(target=self.reader, daemon=True)
        self.t.start()
        self.wait(r"1 Status")

    def reader(self):
        while not self.stop_reading:
            r, _, _ = select.select([self.master], [], [], 0.1)
            if not r:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.raw += data
                self.vt.feed(data)

    def screen(self):
        with self.lock:
            return self.vt.text()

    def wait(self, rx, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.screen()
            m = re.search(rx, s)
            if m:
                return m
            time.sleep(0.05)
        raise AssertionError("%r not on the screen:\n%s" % (rx, self.screen()))

    def wait_not(self, rx, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not re.search(rx, self.screen()):
                return
            time.sleep(0.05)
        raise AssertionError("%r still on the screen:\n%s" % (rx, self.screen()))

    def keys(self, s):
        os.write(self.master, s.encode() if isinstance(s, str) else s)
        time.sleep(0.15)        # a person's pace: ESC alone is told from a sequence

    def close(self):
        if self.proc.poll() is None:
            self.keys("\x1b")
            self.keys("\x1b")
            self.keys("Q")
            self.keys("\r")
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stop_reading = True
        self.t.join(2)
        os.close(self.master)
        return self.proc.returncode


UP, DOWN, ESC, ENTER = "\x1b[A", "\x1b[B", "\x1b", "\r"


@pytest.fixture
def d(state_dir):
    d = Daemon(state_dir).start(https=True)
    yield d
    d.stop()


@pytest.fixture
def con(d, tmp_path):
    c = Console(d, tmp_path, extra=("--config", str(tmp_path / "xenbox.conf"),
                                    "--net-apply", write_script(tmp_path, "apply", APPLY),
                                    "--login", write_script(tmp_path, "login", LOGIN),
                                    "--bootlog", str(tmp_path / "boot.log")))
    yield c
    assert c.close() == 0


APPLY = """#!/bin/sh
echo "applied $1" >"$(dirname "$0")/applied"
"""
# The image's /bin/login asks for the console password; this stands in for it
LOGIN = """#!/bin/sh
printf 'Password: '
read -r pw
if [ "$pw" = open-sesame ]; then echo "# shell for root"; else echo "Login incorrect"; fi
sleep 0.3
"""


def write_script(tmp, name, text):
    p = tmp / name
    p.write_text(text)
    p.chmod(0o755)
    return str(p)


def fingerprint(pem):
    der = base64.b64decode("".join(l for l in pem.splitlines() if l and not l.startswith("-----")))
    h = hashlib.sha256(der).hexdigest().upper()
    return ":".join(h[i:i + 2] for i in range(0, 64, 2))


def test_status_shows_host_name_and_fingerprint(d, con):
    p, s = d.login()
    host = ok(p.host.get_all(s))[0]
    rec = ok(p.host.get_record(s, host))
    fp = fingerprint(ok(p.host.get_server_certificate(s, host)))
    con.wait(r"Host name +%s" % re.escape(rec["hostname"]))
    con.wait(r"HTTPS +%s" % re.escape(fp[:47]))
    con.wait(re.escape(fp[48:]))
    con.wait(r"Address +")
    con.wait(r"VMs +0, 0 running")
    assert "DAEMON NOT ANSWERING" not in con.screen()


def test_vm_list_start_and_shutdown(d, con):
    p, s = d.login()
    a = new_vm(p, s, name_label="alpha")
    new_vm(p, s, name_label="beta")
    con.wait(r"VMs +2, 0 running")
    con.keys("4")
    con.keys(ENTER)
    con.wait(r" 1 alpha +Halted")
    con.wait(r" 2 beta +Halted")
    con.keys("1")
    con.keys(ENTER)
    m = con.wait(r"([a-f])\. Start")
    # a halted VM: only what its allowed_operations has
    ops = ok(p.VM.get_allowed_operations(s, a))
    assert "clean_shutdown" not in ops and "start" in ops
    assert not re.search(r"[a-f]\. (Shut down|Reboot|Force)", con.screen())
    con.keys(m.group(1))
    wait_for(lambda: ok(p.VM.get_power_state(s, a)) == "Running")
    con.wait(r" 1 alpha +Running")
    con.wait(r"Start alpha: done\.")
    con.keys(ENTER)
    m = con.wait(r"([a-f])\. Shut down")
    assert not re.search(r"[a-f]\. Start", con.screen())
    con.keys(m.group(1))
    wait_for(lambda: ok(p.VM.get_power_state(s, a)) == "Halted")
    con.wait(r" 1 alpha +Halted")


def test_only_allowed_operations_are_offered(d, con):
    p, s = d.login()
    a = new_vm(p, s, name_label="gamma")
    ok(p.VM.start(s, a, False, False))
    con.keys("4")
    con.keys(ENTER)
    con.wait(r" 1 gamma +Running")
    con.keys(ENTER)
    con.wait(r"gamma:")
    ops = set(ok(p.VM.get_allowed_operations(s, a)))
    labels = {"start": "Start", "clean_shutdown": "Shut down", "hard_shutdown": "Force shutdown",
              "clean_reboot": "Reboot", "hard_reboot": "Force reboot"}
    for op, label in labels.items():
        shown = re.search(r"[a-f]\. %s\b" % label, con.screen()) is not None
        assert shown == (op in ops), (op, ops, con.screen())
    con.keys(ESC)
    con.keys(ESC)
    # the host's reboot and power off: not in host.allowed_operations here
    host = ok(p.host.get_all(s))[0]
    hops = ok(p.host.get_allowed_operations(s, host))
    con.keys("7")
    con.keys(ENTER)
    if "reboot" not in hops:
        con.wait(r"1\. Reboot this host  \(not allowed now\)")
        con.keys("1")
        con.wait(r"host\.reboot is not in the host's allowed_operations")
        assert "(y/n)" not in con.screen()


def test_daemon_killed_and_restarted(d, con):
    con.wait(r"Host name")
    d.stop(signal.SIGKILL)
    con.wait(r"DAEMON NOT ANSWERING since")
    con.wait(r"The XenAPI is not answering")
    d.start(https=True)
    con.wait_not(r"DAEMON NOT ANSWERING", timeout=30)
    con.wait(r"Host name")
    # and it acts again: a VM made now is listed
    p, s = d.login()
    new_vm(p, s, name_label="after-restart")
    con.keys("4")
    con.keys(ENTER)
    con.wait(r" 1 after-restart +Halted")


def test_shell_asks_for_the_password(d, con):
    con.wait(r"Host name")
    con.keys("8")
    con.keys(ENTER)
    con.wait(r"Password:")
    con.keys("wrong\r")
    con.wait(r"Login incorrect|Back from the shell")
    con.wait(r"Back from the shell")
    con.wait(r"Host name|Local shell")


def test_static_address_written_and_applied(d, con, tmp_path):
    (tmp_path / "xenbox.conf").write_text("# the stick's\nhostname = site-7\nnetwork = dhcp\n")
    con.keys("2")
    con.keys(ENTER)
    con.wait(r"Mode +dhcp")
    con.keys("\x15static" + ENTER)
    con.keys("192.0.2.10/24" + ENTER)
    con.keys("192.0.2.1" + ENTER)
    con.keys("192.0.2.53" + ENTER)
    con.keys("pool.ntp.example" + ENTER)
    con.wait(r"Host name +site-7")
    con.keys(ENTER)
    con.wait(r"Saved to .* and applied\.")
    conf = (tmp_path / "xenbox.conf").read_text()
    assert conf.startswith("# the stick's\nhostname = site-7\nnetwork = static\n"), conf
    for line in ("address = 192.0.2.10/24", "gateway = 192.0.2.1", "dns = 192.0.2.53",
                 "ntp = pool.ntp.example"):
        assert line + "\n" in conf, conf
    assert (tmp_path / "applied").read_text() == "applied %s\n" % (tmp_path / "xenbox.conf")
    # a new host name goes to the API too (XAPI's host.set_hostname_live)
    con.keys(ENTER)
    con.wait(r"Mode +static")
    for _ in range(5):
        con.keys(DOWN)
    con.keys("\x15site-8" + ENTER)
    con.wait(r"Saved to .* and applied\.")
    assert "hostname = site-8\n" in (tmp_path / "xenbox.conf").read_text()
    p, s = d.login()
    assert ok(p.host.get_hostname(s, ok(p.host.get_all(s))[0])) == "site-8"
    con.wait(r"site-8 \d\d:\d\d")   # the top line


def test_bad_address_is_refused_by_the_config_check(d, con, tmp_path):
    (tmp_path / "xenbox.conf").write_text("network = dhcp\n")
    con.keys("2")
    con.keys(ENTER)
    con.keys("\x15static" + ENTER)
    con.keys("300.1.2.3/24" + ENTER)
    for _ in range(4):
        con.keys(ENTER)
    con.wait(r"Not saved: .*(address|300\.1\.2\.3)")
    assert (tmp_path / "xenbox.conf").read_text() == "network = dhcp\n"
    assert not (tmp_path / "applied").exists()


def test_redraw_sends_only_changes(d, con):
    """At 9600 baud every byte counts: a screen that did not change costs
    nothing once drawn, and moving the menu's selection costs a few lines,
    not a screen."""
    con.wait(r"Host name")
    time.sleep(2.5)     # the clock and uptime may tick once
    before = con.vt.bytes
    con.keys(DOWN)
    con.wait(r"Written to")
    moved = con.vt.bytes - before
    assert moved < 1200, moved      # the full screen is ~2000


class ConsoleStandIn:
    """A Unix socket in front of the daemon's: `CONNECT /console?...`
    answered as XAPI's /console does (200, then the guest's text both ways:
    here a guest that prints a prompt and echoes in capitals), anything
    else relayed to the daemon byte for byte."""

    def __init__(self, daemon_path, path):
        self.daemon_path = daemon_path
        self.requests = []
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(8)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    @staticmethod
    def pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def serve(self, c):
        head = b""
        while b"\r\n\r\n" not in head:
            d = c.recv(4096)
            if not d:
                c.close()
                return
            head += d
        if head.startswith(b"CONNECT /console?"):
            self.requests.append(head.decode())
            c.sendall(b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
                      b"Cache-Control: no-cache, no-store\r\n\r\nguest login: ")
            while True:
                d = c.recv(4096)
                if not d:
                    break
                c.sendall(d.upper())
            c.close()
            return
        u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        u.connect(self.daemon_path)
        u.sendall(head)
        threading.Thread(target=self.pipe, args=(u, c), daemon=True).start()
        self.pipe(c, u)

    def close(self):
        self.srv.close()


def vm_action(con, label):
    """The letter of a VM action on the screen."""
    return con.wait(r"([a-f])\. %s" % re.escape(label)).group(1)


def test_attach_to_a_guest_console_and_detach(d, tmp_path):
    p, s = d.login()
    a = new_vm(p, s, name_label="delta")
    ok(p.VM.start(s, a, False, False))
    cons = ok(p.VM.get_consoles(s, a))
    vt = [c for c in cons if ok(p.console.get_protocol(s, c)) == "vt100"]
    assert vt
    location = ok(p.console.get_location(s, vt[0]))
    stand_in = ConsoleStandIn(d.unix, str(tmp_path / "front.sock"))

    class Front:
        unix, state = str(tmp_path / "front.sock"), d.state
    con = Console(Front, tmp_path)
    try:
        con.keys("4")
        con.keys(ENTER)
        con.wait(r" 1 delta +Running")
        con.keys(ENTER)
        con.keys(vm_action(con, "Attach to its console"))
        con.wait(r"Console of delta: Ctrl-\] to come back\.")
        con.wait(r"guest login: ")
        con.keys("root\r")
        con.wait(r"guest login: ROOT")
        con.keys("\x1d")
        con.wait(r"Detached from delta's console\.")
        con.wait(r" 1 delta +Running")
        req = stand_in.requests[0]
        path = location[location.index("/console"):] if "://" in location else location
        assert req.startswith("CONNECT %s HTTP/1.0\r\n" % path), req
        assert re.search(r"\r\nCookie: session_id=OpaqueRef:[0-9a-f-]+\r\n", req), req
    finally:
        assert con.close() == 0
        stand_in.close()


def test_attach_refused_is_shown(d, con):
    """Without a /console in the daemon (or with a refusal) the screen says so."""
    p, s = d.login()
    a = new_vm(p, s, name_label="epsilon")
    ok(p.VM.start(s, a, False, False))
    con.keys("4")
    con.keys(ENTER)
    con.wait(r" 1 epsilon +Running")
    con.keys(ENTER)
    con.keys(vm_action(con, "Attach to its console"))
    con.wait(r"epsilon's console refused: |Console of epsilon")
    if "refused" in con.screen():
        con.wait(r"1 epsilon +Running")
    else:
        con.keys("\x1d")
        con.wait(r"Detached from epsilon's console\.")


def test_pool_join_asks_to_confirm_the_fingerprint(d, con):
    con.wait(r"Pool +standalone")
    con.keys("5")
    con.keys(ENTER)
    con.wait(r"Master address")
    con.keys("127.0.0.1:9" + ENTER)
    con.keys("ab" * 32 + ENTER)
    con.keys(ENTER)                         # user: root
    con.keys("not-a-token" + ENTER)
    con.wait(r"Join 127\.0\.0\.1:9, pool certificate AB:AB:AB:AB:AB:AB:AB\.\.\.AB:AB:AB\? \(y/n\)")
    ab16 = ":".join(["AB"] * 16)
    con.wait(r"must be: *\n.*\| +%s *\n.*\| +%s" % (ab16, ab16))
    con.keys("n")                           # nothing sent: still standalone, the form again
    con.wait_not(r"\(y/n\)")
    con.wait(r"Master address")
    con.keys(ENTER)
    con.wait(r"\(y/n\)")
    con.keys("y")
    # the daemon tried (the master does not answer on port 9): its refusal
    con.wait(r"pool\.join: \S+")
    p, s = d.login()
    pool = ok(p.pool.get_all(s))[0]
    host = ok(p.host.get_all(s))[0]
    assert ok(p.pool.get_master(s, pool)) == host


def test_bad_fingerprint_is_refused_before_asking(d, con):
    con.keys("5")
    con.keys(ENTER)
    con.keys("10.0.0.1" + ENTER + "12:34" + ENTER + ENTER + "x" + ENTER)
    con.wait(r"pool fingerprint \(64 hex digits\) are needed")
    assert "(y/n)" not in con.screen()


def test_root_password_goes_to_the_api(d, con, tmp_path):
    (tmp_path / "xenbox.conf").write_text("root_password_hash = pbkdf2-sha256$1$00$00\nnetwork = dhcp\n")
    con.keys("3")
    con.keys(ENTER)
    con.wait(r"Current password")
    con.keys("s3cret-for-tests" + ENTER + "n3w-one" + ENTER + "n3w-one" + ENTER)
    # session.change_password as XAPI has it: the new one works at once
    con.wait(r"Root's password changed")
    assert "n3w-one" not in con.screen() and "s3cret" not in con.screen()
    ok(d.proxy().session.login_with_password("root", "n3w-one"))
    # the stick's xenbox.conf (read first at the daemon's start) follows
    con.wait(r"Root's password changed \(and in ")
    conf = (tmp_path / "xenbox.conf").read_text().split("\n")
    algo, n, salt, h = conf[0].split(" = ")[1].split("$")
    assert algo == "pbkdf2-sha256" and conf[1:] == ["network = dhcp", ""], conf
    assert hashlib.pbkdf2_hmac("sha256", b"n3w-one", bytes.fromhex(salt), int(n)).hex() == h
    con.keys(ESC)
    con.keys("3")
    con.keys(ENTER)
    con.keys("a" + ENTER + "b" + ENTER + "c" + ENTER)
    con.wait(r"The two new passwords differ; nothing changed\.")


def test_boot_log_newest_last_and_scrolls(d, con, tmp_path):
    (tmp_path / "boot.log").write_text("".join(
        "2026-12-04T10:%02d:00Z boot line %02d\n" % (i, i) for i in range(60)))
    con.keys("6")
    con.keys(ENTER)
    con.wait(r"boot line 59")
    assert "boot line 10" not in con.screen()
    con.keys("\x1b[5~")                     # PgUp
    con.wait(r"boot line 23")             # a page of 18 back: 23..41
    assert "boot line 59" not in con.screen()
    con.keys("\x1b[H")                      # Home
    con.wait(r"2026-12-04T10:00:00Z boot line 00")
    con.keys(ESC)
    con.wait(r"1 Status")
