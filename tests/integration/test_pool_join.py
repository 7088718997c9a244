"""Pools, the rest of stage 3 (docs/POOL.md 2.3, 2.5, 3.4, 3.6, 3.7): host
names in pool_master (a fake DNS server of this test on 127.0.0.1, and
hosts files: lib/resolve.c reads the files the host build's environment
names), pool.join / join_pinned over XML-RPC and `xenbox pool join`,
xbpool.goodbye, revocation, and the 429 of password joins.  Two daemons on
loopback, as in test_pool_chan.py."""
import os
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import PASSWORD, XENBOX, ok, fails
from test_pool_chan import Pool, members, secrets_absent, token, two_dirs, wait_for  # noqa: F401


class FakeDNS:
    """A nameserver on 127.0.0.1 (a port of its own): A records from
    names; any other name NXDOMAIN; AAAA questions have no data.  Counts
    the questions it was asked."""

    def __init__(self, names):
        self.names = names
        self.asked = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self.stopped = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopped:
            try:
                q, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            i, labels = 12, []
            while q[i]:
                labels.append(q[i + 1:i + 1 + q[i]].decode())
                i += 1 + q[i]
            name = ".".join(labels).lower()
            qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
            self.asked.append((name, qtype))
            qend = i + 5
            ip = self.names.get(name)
            rcode = 0 if ip else 3
            ans = b""
            if ip and qtype == 1:
                ans = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(ip)
            head = q[:2] + bytes([0x81, 0x80 | rcode]) + struct.pack(
                ">HHHH", 1, 1 if ans else 0, 0, 0)
            self.sock.sendto(head + q[12:qend] + ans, peer)

    def env(self, d):
        conf = os.path.join(d, "resolv.conf")
        with open(conf, "w") as f:
            f.write("nameserver 127.0.0.1\n")
        return {"XENBOX_RESOLV_CONF": conf, "XENBOX_DNS_PORT": str(self.port),
                "XENBOX_HOSTS": "/dev/null"}

    def stop(self):
        self.stopped = True
        self.thread.join()
        self.sock.close()


def name_pool(two_dirs, host, env):
    pool = Pool(*two_dirs)
    pool.member.env = env
    pool.master_addr = lambda: "%s:%d" % (host, pool.master.https_port)
    return pool


def test_pool_master_by_name_from_dns(two_dirs):
    dns = FakeDNS({"master.pool.test": "127.0.0.1"})
    pool = name_pool(two_dirs, "Master.Pool.Test", dns.env(two_dirs[1]))
    try:
        pool.start_member("pool_token = %s\n" % token(pool.master))
        assert wait_for(lambda: "XENBOX-POOL joined pool" in pool.member.read_log()), \
            pool.member.read_log()
        assert ("master.pool.test", 1) in dns.asked
        assert len(members(pool.master)) == 1
        # HOST_IS_SLAVE names the master as configured
        fails(pool.member.proxy().session.login_with_password("root", PASSWORD, "1.0", "t"),
              "HOST_IS_SLAVE", "Master.Pool.Test")
    finally:
        dns.stop()
        assert pool.stop() == (0, 0)


def test_unknown_name_and_hosts_file(two_dirs):
    """NXDOMAIN: a console line and retries; then the name in a hosts file
    (read first, no question asked) and the member joins."""
    dns = FakeDNS({})
    env = dns.env(two_dirs[1])
    pool = name_pool(two_dirs, "nowhere.pool.test", env)
    try:
        tok = token(pool.master)
        pool.start_member("pool_token = %s\n" % tok)
        assert wait_for(lambda: "XENBOX-POOL error: cannot resolve nowhere.pool.test: no such "
                        "host (NXDOMAIN); retry in" in pool.member.read_log()), \
            pool.member.read_log()
        assert members(pool.master) == []
        st = subprocess.run([XENBOX, "pool", "--unix", pool.member.unix, "status"],
                            capture_output=True, text=True, timeout=30)
        assert "cannot resolve nowhere.pool.test" in st.stdout, st.stdout
        pool.member.stop()
        hosts = os.path.join(two_dirs[1], "hosts")
        with open(hosts, "w") as f:
            f.write("# the master\n127.0.0.1   nowhere.pool.test  master\n")
        env["XENBOX_HOSTS"] = hosts
        n = len(dns.asked)
        pool.start_member("pool_token = %s\n" % tok)
        assert wait_for(lambda: "XENBOX-POOL joined pool" in pool.member.read_log()), \
            pool.member.read_log()
        assert len(dns.asked) == n
    finally:
        dns.stop()
        assert pool.stop() == (0, 0)
