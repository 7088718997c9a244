"""Network namespaces a test makes and removes itself (the integration,
deb and pool suites).

A namespace is made with `ip netns add` (so it has a name under
/run/netns and ip(8) can address it with -n), and entered by the calling
thread with setns(2): a socket the thread opens while inside belongs to
that namespace for good, and a process it starts inherits it.  Names are
"xbt-<pid>-<4 hex>-<tag>": unique per test process, and telling whose
they are if one is ever left behind (`ip netns list`).

Needs root and ip(8).  Without them the test is skipped, which under
CI=true is a failure (tests/lib/ci_skips.py): nothing skips its way to
green."""
import ctypes
import ipaddress
import itertools
import os
import shutil
import subprocess
import time
from contextlib import contextmanager

import pytest

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_seq = itertools.count()
_run = os.urandom(2).hex()


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


def require(*tools):
    """Skip (a failure on CI) unless this process may make namespaces and
    the tools are there (ip is always needed)."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    for t in ("ip",) + tools:
        if not shutil.which(t):
            pytest.skip("%s is missing (support/deps.sh installs it)" % t)


def ip(ns, *args, check=True):
    r = subprocess.run(["ip", "-n", ns, *args], capture_output=True, text=True)
    if check and r.returncode:
        raise RuntimeError("ip -n %s %s: %s" % (ns, " ".join(args), r.stderr.strip()))
    return r


class Netns:
    """A named namespace with loopback up.  dev/peer: the veth pair
    netns() makes inside (None otherwise)."""

    def __init__(self, tag):
        self.name = "xbt-%d-%s-%s" % (os.getpid(), _run, tag)
        self.dev = self.peer = None
        r = subprocess.run(["ip", "netns", "add", self.name], capture_output=True, text=True)
        if r.returncode:
            pytest.skip("ip netns add: " + r.stderr.strip())
        try:
            self.ip("link", "set", "lo", "up")
        except Exception:
            self.delete()
            raise

    def ip(self, *args, check=True):
        return ip(self.name, *args, check=check)

    def exec_argv(self, *argv):
        """argv run inside (ip netns exec execs it: the pid is argv's)."""
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, *argv, check=True, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", 60)
        r = subprocess.run(self.exec_argv(*argv), **kw)
        if check and r.returncode:
            raise RuntimeError("in %s: %s: exit %d: %s" % (self.name, " ".join(argv),
                                                           r.returncode, r.stderr))
        return r

    @contextmanager
    def entered(self):
        """This thread inside the namespace for the with block."""
        orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            fd = os.open("/run/netns/" + self.name, os.O_RDONLY)
            try:
                _setns(fd)
            finally:
                os.close(fd)
            try:
                yield self
            finally:
                _setns(orig)
        finally:
            os.close(orig)

    def settle(self, timeout=20):
        """Wait until the IPv6 link-local addresses are past DAD (1-2 s
        after link up), the last netlink event of the namespace's own
        making: a test of "no netlink event, yet ..." starts after."""
        deadline = time.monotonic() + timeout
        while self.ip("-6", "addr", "show", "tentative").stdout.strip():
            assert time.monotonic() < deadline, "IPv6 DAD still running after %d s" % timeout
            time.sleep(0.1)

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


@contextmanager
def netns(addr="10.213.0.1/24", gateway="10.213.0.254", tag=None):
    """Enter a fresh namespace: lo up; with addr, a veth pair inside it,
    xbv0 (addr, up) <-> xbv1 (up), and a default route via gateway on
    xbv0 (the gateway is nobody: no route leads out).  Yields the Netns,
    removed afterwards."""
    require()
    n = Netns(tag or "n%d" % next(_seq))
    try:
        if addr:
            n.dev, n.peer = "xbv0", "xbv1"
            n.ip("link", "add", n.dev, "type", "veth", "peer", "name", n.peer)
            n.ip("addr", "add", addr, "dev", n.dev)
            n.ip("link", "set", n.dev, "up")
            n.ip("link", "set", n.peer, "up")
            if gateway:
                n.ip("route", "add", "default", "via", gateway, "dev", n.dev)
        with n.entered():
            yield n
    finally:
        n.delete()


def loopback_netns():
    """netns() with loopback only."""
    return netns(addr=None)


def listening(port):
    """The local addresses listening on TCP port (this thread's namespace):
    ["127.0.0.1", "0.0.0.0", "::1", ...], from /proc/net/tcp and tcp6."""
    out = []
    for f, v6 in (("/proc/thread-self/net/tcp", False), ("/proc/thread-self/net/tcp6", True)):
        try:
            lines = open(f).read().split("\n")[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            p = line.split()
            if len(p) < 4 or p[3] != "0A":          # 0A: LISTEN
                continue
            a, prt = p[1].split(":")
            if int(prt, 16) != port:
                continue
            raw = bytes.fromhex(a)
            if v6:
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                out.append(str(ipaddress.IPv6Address(raw)))
            else:
                out.append(str(ipaddress.IPv4Address(raw[::-1])))
    return sorted(out)
