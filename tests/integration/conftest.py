"""Fixtures: a running xenbox daemon (sim backend) on loopback.

XENBOX names the binary (default: the host ASan build in output/check).
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import http.client
import xmlrpc.client

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ports import free_port  # noqa: E402
import ci_skips  # noqa: E402
from unixhttp import UnixHTTPConnection, UnixTransport  # noqa: E402,F401

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
XENBOX = os.environ.get("XENBOX", os.path.join(TOP, "output/check/host/bin/xenbox"))
PASSWORD = "s3cret-for-tests"


def pytest_configure(config):
    ci_skips.register(config)       # CI=true: a skip fails


def host_build():
    """The ASan build, not the shipped one (read when a test runs: a
    collection, as fresh-root's, has no binary)."""
    with open(XENBOX, "rb") as f:
        return b"__asan_init" in f.read()


def nameserver_socket():
    """A UDP socket for a test's nameserver, and the resolver settings
    that name it.  The host build is told the port (XENBOX_DNS_PORT, any
    port on 127.0.0.1); the shipped binary has no such knob and asks port
    53, so there the socket is port 53 on an address of 127/8 of its own
    (root; Daemon.start binds the test's resolv.conf over /etc's)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if host_build():
        sock.bind(("127.0.0.1", 0))
        return sock, "127.0.0.1", {"XENBOX_DNS_PORT": str(sock.getsockname()[1])}
    if os.geteuid() != 0:
        sock.close()
        pytest.skip("the shipped binary asks port 53: binding it needs root")
    for _ in range(20):
        ip = "127.53.%d.%d" % (os.getpid() % 250 + 1, int.from_bytes(os.urandom(1), "big") % 250 + 1)
        try:
            sock.bind((ip, 53))
            return sock, ip, {}
        except OSError:
            continue
    sock.close()
    raise RuntimeError("no free 127.53.x.y:53 for a test nameserver")


def etc_prefix(env):
    """The shipped binary reads /etc/resolv.conf and /etc/hosts (the
    XENBOX_RESOLV_CONF and XENBOX_HOSTS of env are the host build's): it
    runs in a mount namespace of its own with those files bound over
    /etc's, which the host never sees.  Empty for the host build."""
    if host_build() or not ("XENBOX_RESOLV_CONF" in env or "XENBOX_HOSTS" in env):
        return []
    if os.geteuid() != 0:
        pytest.skip("the shipped binary reads /etc: a mount namespace of its own needs root")
    script = ('[ -z "$1" ] || mount --bind "$1" /etc/resolv.conf || exit 1; '
              '[ -z "$2" ] || mount --bind "$2" /etc/hosts || exit 1; shift 2; exec "$@"')
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "-",
            env.get("XENBOX_RESOLV_CONF", ""), env.get("XENBOX_HOSTS", "")]


class Daemon:
    def __init__(self, state_dir, sim_opts="shutdown_delay=200"):
        self.state = state_dir
        self.sim_opts = sim_opts
        self.port = None
        self.proc = None
        self.log = os.path.join(state_dir, "daemon.log")
        self.env = {}

    def start(self, extra=(), https=False, listen="127.0.0.1", prefix=()):
        """listen: the address of the HTTP (and HTTPS) listeners; the
        daemon is waited for on 127.0.0.1, or ::1 for an IPv6 address
        (https_only keeps plain HTTP on loopback).  prefix: a command
        the daemon's runs under (unshare ...).  The host names the daemon
        resolves (pool_master) are looked up in no file and asked of no
        nameserver unless self.env says which (XENBOX_RESOLV_CONF,
        XENBOX_HOSTS, XENBOX_DNS_PORT: the host build's, lib/resolve.h;
        the shipped binary gets them bound over /etc's, etc_prefix), so
        no test asks a server beyond loopback."""
        lspec = "[%s]" % listen if ":" in listen else listen
        self.port = free_port()
        self.https_port = free_port() if https else None
        self.unix = os.path.join(self.state, "xapi.sock")
        logf = open(self.log, "a")
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
                   XENBOX_RESOLV_CONF="/dev/null", XENBOX_HOSTS="/dev/null")
        env.update(self.env)
        self.proc = subprocess.Popen(
            [*etc_prefix(self.env), *prefix, XENBOX, "daemon", "--state-dir", self.state, "--backend", "sim",
             "--http", "%s:%d" % (lspec, self.port),
             "--https", "%s:%d" % (lspec, self.https_port) if https else "",
             "--unix", self.unix, "--sim-opts", self.sim_opts, *extra],
            stdout=logf, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("::1" if ":" in listen else "127.0.0.1",
                                          self.port), 0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError("daemon did not start:\n" + self.read_log())

    def read_log(self):
        with open(self.log) as f:
            return f.read()

    def stop(self, sig=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else 0
        self.proc = None
        return rc

    @property
    def url(self):
        return "http://127.0.0.1:%d/" % self.port

    def proxy(self, path=""):
        return xmlrpc.client.ServerProxy(self.url + path, allow_none=True)

    def unix_proxy(self):
        return xmlrpc.client.ServerProxy("http://localhost/",
                                         transport=UnixTransport(self.unix))

    def login(self, proxy=None):
        p = proxy or self.proxy()
        r = p.session.login_with_password("root", PASSWORD, "1.0", "pytest")
        assert r["Status"] == "Success", r
        return p, r["Value"]

    def jsonrpc(self, method, params, v2=True, rid=1):
        body = {"method": method, "params": params, "id": rid}
        if v2:
            body["jsonrpc"] = "2.0"
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("POST", "/jsonrpc", json.dumps(body),
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        assert r.getheader("Content-Type") == "application/json"
        c.close()
        return json.loads(data)

    def raw(self, method, path, body=b"", headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request(method, path, body, headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r, data


def set_password(state_dir):
    os.makedirs(state_dir, exist_ok=True)
    subprocess.run([XENBOX, "passwd", "--state-dir", state_dir],
                   input=PASSWORD + "\n", text=True, check=True,
                   capture_output=True)


@pytest.fixture
def state_dir():
    with tempfile.TemporaryDirectory(prefix="xenbox-test-") as d:
        set_password(d)
        yield d


@pytest.fixture
def daemon(state_dir):
    d = Daemon(state_dir).start()
    yield d
    rc = d.stop()
    log = d.read_log()
    assert "ERROR: AddressSanitizer" not in log, log
    assert "runtime error" not in log, log
    assert rc == 0, log


def ok(r):
    assert r["Status"] == "Success", r
    return r["Value"]


def fails(r, *desc):
    assert r["Status"] == "Failure", r
    got = r["ErrorDescription"]
    assert got[:len(desc)] == list(desc), got
    return got
