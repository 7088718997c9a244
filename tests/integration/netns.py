"""A network namespace a test makes and removes itself: a veth pair with
an address on one end (a non-loopback address the test can reach without
leaving this machine), entered by the calling thread with setns(2), so the
daemon a test starts inside (subprocess inherits the thread's namespace)
and the test's own clients see only that namespace.

Needs root and ip(8).  Without them the test is skipped, except in CI
(CI=true), where that is a failure: nothing skips its way to green."""
import ctypes
import itertools
import os
import subprocess
import time
from contextlib import contextmanager

import pytest

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_seq = itertools.count()


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


def unavailable(why):
    if os.environ.get("CI") == "true":
        pytest.fail("network namespaces unavailable in CI: " + why)
    pytest.skip("network namespaces unavailable: " + why)


def ip(ns, *args, check=True):
    return subprocess.run(["ip", "-n", ns, *args], check=check, capture_output=True, text=True)


class Netns:
    """self.name; self.dev (the addressed veth end), self.peer (the other)."""

    def __init__(self, name):
        self.name = name
        self.dev = "xbv0"
        self.peer = "xbv1"

    def ip(self, *args, check=True):
        return ip(self.name, *args, check=check)

    def settle(self, timeout=20):
        """Wait until the veths' IPv6 link-local addresses are past DAD
        (1-2 s after link up), the last netlink event of the namespace's
        own making: a test of "no netlink event, yet ..." starts after."""
        deadline = time.monotonic() + timeout
        while self.ip("-6", "addr", "show", "tentative").stdout.strip():
            assert time.monotonic() < deadline, "IPv6 DAD still running after %d s" % timeout
            time.sleep(0.1)


@contextmanager
def netns(addr="10.213.0.1/24", gateway="10.213.0.254"):
    """Enter a fresh namespace: lo up, veth xbv0 (addr, up) <-> xbv1 (up),
    default route via gateway on xbv0.  Yields a Netns."""
    if os.geteuid() != 0:
        unavailable("not root")
    name = "xbt-%d-%d" % (os.getpid(), next(_seq))
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if r.returncode:
        unavailable("ip netns add: " + r.stderr.strip())
    orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    n = Netns(name)
    try:
        n.ip("link", "set", "lo", "up")
        n.ip("link", "add", n.dev, "type", "veth", "peer", "name", n.peer)
        n.ip("addr", "add", addr, "dev", n.dev)
        n.ip("link", "set", n.dev, "up")
        n.ip("link", "set", n.peer, "up")
        if gateway:
            n.ip("route", "add", "default", "via", gateway, "dev", n.dev)
        fd = os.open("/run/netns/" + name, os.O_RDONLY)
        try:
            _setns(fd)
        finally:
            os.close(fd)
        try:
            yield n
        finally:
            _setns(orig)
    finally:
        os.close(orig)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def listening(port):
    """The local addresses listening on TCP port (this thread's namespace):
    ["127.0.0.1", "0.0.0.0", "::1", ...], from /proc/net/tcp and tcp6."""
    import ipaddress
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
