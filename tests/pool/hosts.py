"""xenbox daemons inside the pool suite's namespaces (tests/pool/topology.py):
each with its own state directory and xenbox.conf, its HTTPS listener on
0.0.0.0:443 of its namespace and its Unix socket (reachable from any
namespace: a path), started with `ip netns exec` (which execs the
daemon: the Popen's pid is the daemon's, for kill -9)."""
import os
import re
import shutil
import socket
import sqlite3
import ssl
import subprocess
import tempfile
import time
import xmlrpc.client

from topology import ADDR
from unixhttp import unix_proxy

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSWORD = "pool-suite-s3cret"
DEAD_AFTER = 3          # the master's pool_dead_after: liveness tests stay short


def xenbox():
    """The binary under test: XENBOX, default the host ASan build (read
    when used: collection needs no build)."""
    return os.environ.get("XENBOX", os.path.join(TOP, "output/check/host/bin/xenbox"))



def wait_for(fn, timeout=30, step=0.2, what=None):
    """fn()'s first true value within timeout; fails saying what."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > end:
            break
        time.sleep(step)
    assert v, "not within %d s: %s" % (timeout, (what() if callable(what) else what) or fn)
    return v


def ok(r):
    assert r["Status"] == "Success", r
    return r["Value"]


class Host:
    """One daemon in the namespace of role (addr: its address there),
    named name (its hostname; default role), with its state directory,
    xenbox.conf (conf after the hostname line) and log."""

    def __init__(self, topology, role, conf="", name=None):
        self.role = role
        self.ns = topology[role]
        self.name = name or role
        self.state = tempfile.mkdtemp(prefix="xbp-%s-" % self.name)
        self.log = os.path.join(self.state, "daemon.log")
        self.sock = os.path.join(self.state, "xapi.sock")
        self.conf = os.path.join(self.state, "xenbox.conf")
        self.proc = None
        r = subprocess.run([xenbox(), "passwd", "--state-dir", self.state],
                           input=PASSWORD + "\n", text=True, capture_output=True)
        assert r.returncode == 0, r.stderr
        self.write_conf(conf)

    def write_conf(self, text):
        with open(self.conf, "w") as f:
            f.write("hostname = %s\n%s" % (self.name, text))

    def start(self):
        assert self.proc is None
        logf = open(self.log, "a")
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0")
        self.proc = subprocess.Popen(
            self.ns.exec_argv(xenbox(), "daemon", "--config", self.conf, "--state-dir",
                              self.state, "--backend", "sim", "--sim-opts",
                              "shutdown_delay=200", "--https", "0.0.0.0:443", "--unix",
                              self.sock),
            stdout=logf, stderr=subprocess.STDOUT, env=env)
        logf.close()
        end = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, "%s exited:\n%s" % (self.name, self.read_log())
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(self.sock)
                return self
            except OSError:
                assert time.monotonic() < end, "%s did not start:\n%s" % (self.name,
                                                                         self.read_log())
                time.sleep(0.05)

    def stop(self, sig=15):
        """Signal it and wait; its exit status (-9 after kill -9)."""
        rc = None
        if self.proc:
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
                try:
                    self.proc.wait(30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            rc = self.proc.returncode
        self.proc = None
        return rc

    def restart(self, sig=15):
        rc = self.stop(sig)
        self.start()
        return rc

    def remove(self):
        self.stop(9)
        shutil.rmtree(self.state, ignore_errors=True)

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def count(self, line):
        return self.read_log().count(line)

    def sanitizer_reports(self):
        log = self.read_log()
        return [m for m in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                            "runtime error:") if m in log]

    # ---- its APIs ----

    def api(self):
        """(proxy, session): root over the Unix socket."""
        p = unix_proxy(self.sock)
        return p, ok(p.session.login_with_password("root", PASSWORD, "1.0", "pool-suite"))

    def https_login(self, from_ns=None):
        """session.login_with_password over HTTPS at this host's address,
        from inside from_ns (its own namespace by default): the XenAPI
        answer."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with (from_ns or self.ns).entered():
            p = xmlrpc.client.ServerProxy("https://%s/" % self.addr, context=ctx)
            return p.session.login_with_password("root", PASSWORD, "1.0", "pool-suite")

    def cli(self, *args, check=True):
        """`xenbox pool --unix SOCK ARGS...` (local root): its stdout."""
        r = subprocess.run([xenbox(), "pool", "--unix", self.sock, *args],
                           capture_output=True, text=True, timeout=60)
        if check:
            assert r.returncode == 0, "xenbox pool %s: %s%s" % (args, r.stdout, r.stderr)
        return r

    def host_uuid(self):
        p, s = self.api()
        return ok(p.host.get_uuid(s, ok(p.session.get_this_host(s, s))))

    def status(self):
        """`xenbox pool status` as {key: value}."""
        return dict(l.split(": ", 1) for l in self.cli("status").stdout.splitlines()
                    if ": " in l)

    @property
    def addr(self):
        return ADDR[self.role]


class Master(Host):
    FP_RE = re.compile(r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")

    def fingerprint(self):
        r = subprocess.run([xenbox(), "pool", "fingerprint", "--state-dir", self.state],
                           capture_output=True, text=True, timeout=30)
        fp = r.stdout.strip()
        assert r.returncode == 0 and self.FP_RE.match(fp), r
        return fp

    def token(self, label):
        """A single-use join token, from the CLI as an operator makes it."""
        t = self.cli("token", "create", "--label", label).stdout.strip()
        assert t.startswith("xbt1-"), t
        return t

    def members(self):
        """`xenbox pool members`: {host uuid: "connected, live, joined by
        ..., peer ..."}."""
        return dict(l.split(": ", 1) for l in self.cli("members").stdout.splitlines()
                    if ": " in l)

    def member_rows(self):
        """pool_member rows as the database holds them (an internal
        class: not on the API)."""
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.state, "xenbox.db"),
                             uri=True, timeout=10)
        try:
            cols = [r[1] for r in db.execute("PRAGMA table_info(pool_member)")]
            return [dict(zip(cols, r)) for r in db.execute("SELECT * FROM pool_member")]
        finally:
            db.close()

    def messages(self, name, obj_uuid):
        p, s = self.api()
        return [m for m in ok(p.message.get_all_records(s)).values()
                if m["name"] == name and m["obj_uuid"] == obj_uuid]


def member_conf(master_addr, fp, cred):
    return "pool_master = %s\npool_fingerprint = %s\n%s" % (master_addr, fp, cred)


def secrets_in(hosts, *secrets):
    """[(file, secret)] for every secret found in any file of the hosts'
    state directories (logs, databases, certificates) but xenbox.conf,
    the stick's file, which the test wrote."""
    hits = []
    for h in hosts:
        for root, _, files in os.walk(h.state):
            for fn in files:
                path = os.path.join(root, fn)
                if fn == "xenbox.conf" or not os.path.isfile(path):
                    continue
                with open(path, "rb") as f:
                    data = f.read()
                hits += [(path, s) for s in secrets if s.encode() in data]
    return hits
