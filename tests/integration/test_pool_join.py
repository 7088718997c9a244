"""Pools, the rest of stage 3 (docs/POOL.md 2.3, 2.5, 3.4, 3.6, 3.7): host
names in pool_master (a fake DNS server of this test on loopback, and
hosts files: lib/resolve.c reads the files the host build's environment
names, or, for the shipped binary, the files bound over /etc's in a mount
namespace: conftest.etc_prefix), pool.join / join_pinned over XML-RPC and `xenbox pool join`,
xbpool.goodbye, revocation, and the 429 of password joins.  Two daemons on
loopback, as in test_pool_chan.py."""
import os
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import PASSWORD, XENBOX, ok, fails, nameserver_socket
from test_pool_chan import Pool, members, secrets_absent, token, two_dirs, wait_for  # noqa: F401


class FakeDNS:
    """A nameserver on loopback (conftest.nameserver_socket): A records
    from names; any other name NXDOMAIN; AAAA questions have no data.
    Counts the questions it was asked."""

    def __init__(self, names):
        self.names = names
        self.asked = []
        self.sock, self.ip, self.knobs = nameserver_socket()
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
            f.write("nameserver %s\n" % self.ip)
        return dict(self.knobs, XENBOX_RESOLV_CONF=conf, XENBOX_HOSTS="/dev/null")

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
                        "host; retry in" in pool.member.read_log()), \
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


def link(d):
    """The member's pool_link (internal class: in its database only)."""
    import sqlite3
    db = sqlite3.connect(os.path.join(d.state, "xenbox.db"))
    try:
        cols = [r[1] for r in db.execute("PRAGMA table_info(pool_link)")]
        return [dict(zip(cols, r)) for r in db.execute("SELECT * FROM pool_link")]
    finally:
        db.close()


def standalone(pool):
    """The member daemon without xenbox.conf's pool lines, and a session
    on it over its Unix socket (logins over TCP change on joining)."""
    pool.member.start([])
    return pool.member.login(pool.member.unix_proxy())


def test_pool_join_over_xmlrpc(two_dirs):
    """pool.join (XAPI's signature): a wrong password, an unreachable
    master and a wrong fingerprint fail with their errors and leave the
    host standalone; a join token given as the password joins (trusting
    the master's certificate on first use, pinned from then on); the host
    is then a member, across restarts, and a second join is refused."""
    pool = Pool(*two_dirs)
    try:
        tok = token(pool.master)
        p, s = standalone(pool)
        addr = pool.master_addr()
        fails(p.pool.join(s, addr, "root", "wrong-one"),
              "SESSION_AUTHENTICATION_FAILED", "root", "wrong password")
        fails(p.pool.join(s, "127.0.0.1:1", "root", PASSWORD), "JOINING_HOST_CONNECTION_FAILED")
        fails(p.pool.join(s, "no such host", "root", PASSWORD),
              "INVALID_VALUE", "master_address")
        bad = ":".join(["AB"] * 32)
        fails(p.pool.join_pinned(s, addr, bad, "root", tok),
              "POOL_FINGERPRINT_MISMATCH", pool.fp, bad)
        fails(p.pool.join_pinned(s, addr, "12:34", "root", tok),
              "INVALID_VALUE", "master_fingerprint")
        assert members(pool.master) == [] and link(pool.member) == []
        m, ms = pool.master.login()
        assert ok(m.pool.get_join_tokens(ms))[0]["uses_left"] == "1"
        log = pool.member.read_log()
        assert "XENBOX-POOL error: the master refused: 403 SESSION_AUTHENTICATION_FAILED root " \
            "wrong password\n" in log, log
        # a token as the password (the user is ignored): joined
        assert ok(p.pool.join(s, addr, "ignored", tok)) == ""
        log = pool.member.read_log()
        assert "XENBOX-POOL joining %s with token %s (pinned when it answers)" % (
            addr, tok[5:21]) in log, log
        assert "presented pool certificate %s: trusted on first use" % pool.fp in log
        rows = members(pool.master)
        assert len(rows) == 1 and rows[0]["joined_by"] == "token:" + tok[5:21]
        ln = link(pool.member)
        assert len(ln) == 1 and ln[0]["fingerprint"] == pool.fp and ln[0]["via"] == "api"
        fails(pool.member.proxy().session.login_with_password("root", PASSWORD, "1.0", "t"),
              "HOST_IS_SLAVE", "127.0.0.1")
        r = fails(p.pool.join(s, addr, "root", PASSWORD), "OPERATION_NOT_ALLOWED")
        assert r[1] == "already a member of pool " + ln[0]["pool_uuid"]
        # a restart without any pool line: still a member, pinned
        assert pool.member.stop() == 0
        pool.member.start([])
        assert wait_for(lambda: "XENBOX-POOL connected to the master %s" % addr in
                        pool.member.read_log()), pool.member.read_log()
        assert len(members(pool.master)) == 1
        secrets_absent(pool, PASSWORD, "wrong-one", tok[22:])
    finally:
        assert pool.stop() == (0, 0)


def test_cli_join_pinned_by_password(two_dirs):
    """`xenbox pool join ADDRESS FINGERPRINT` with the password on stdin:
    pool.join_pinned; a master with members cannot join another pool."""
    pool = Pool(*two_dirs)
    try:
        standalone(pool)
        cmd = [XENBOX, "pool", "--unix", pool.member.unix, "join", pool.master_addr(),
               pool.fp.replace(":", "").lower()]
        r = subprocess.run(cmd, input="wrong\n", capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and "SESSION_AUTHENTICATION_FAILED" in r.stderr, r
        r = subprocess.run(cmd, input=PASSWORD + "\n", capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r
        assert r.stdout == ""
        assert members(pool.master)[0]["joined_by"] == "password"
        st = subprocess.run([XENBOX, "pool", "--unix", pool.member.unix, "status"],
                            capture_output=True, text=True, timeout=30)
        assert "state: online\n" in st.stdout, st.stdout
        # the master has a member: it cannot join anywhere
        m, ms = pool.master.login(pool.master.unix_proxy())
        fails(m.pool.join_pinned(ms, "127.0.0.1:1", pool.fp, "root", PASSWORD),
              "JOINING_HOST_CANNOT_BE_MASTER_OF_OTHER_HOSTS")
        secrets_absent(pool, PASSWORD)
    finally:
        assert pool.stop() == (0, 0)


def test_goodbye_when_pool_master_removed(two_dirs):
    """pool_master removed from the stick: the member says goodbye, the
    master forgets it (no offline member left behind) and the host is
    standalone; with the master down it is standalone after at most 10 s
    and the master keeps it."""
    pool = Pool(*two_dirs)
    try:
        pool.start_member("pool_token = %s\n" % token(pool.master))
        assert wait_for(lambda: "XENBOX-POOL joined pool" in pool.member.read_log())
        uuid = members(pool.master)[0]["host_uuid"]
        assert pool.member.stop() == 0
        conf = os.path.join(pool.sdir, "xenbox.conf")
        with open(conf, "w") as f:
            f.write("")
        pool.member.start(["--config", conf])
        assert wait_for(lambda: "XENBOX-POOL left pool" in pool.member.read_log()), \
            pool.member.read_log()
        assert "pool_master was removed from xenbox.conf; the master was told; this host " \
            "is standalone" in pool.member.read_log()
        assert wait_for(lambda: members(pool.master) == [])
        assert "XENBOX-POOL member %s left the pool" % uuid in pool.master.read_log()
        # one line for it, not also "ejected" (the master's console in the
        # usb suite showed both)
        assert "XENBOX-POOL member %s ejected" % uuid not in pool.master.read_log()
        # the member logs "left pool" before the loop's commit that deletes
        # the link (same iteration): read the database once it has committed
        assert wait_for(lambda: link(pool.member) == []), link(pool.member)
        pool.member.login()     # over TCP: standalone
        # again, with the master down
        assert pool.member.stop() == 0
        pool.start_member("pool_token = %s\n" % token(pool.master))
        assert wait_for(lambda: pool.member.read_log().count("XENBOX-POOL joined pool") == 2)
        assert pool.member.stop() == 0
        assert pool.master.stop() == 0
        with open(conf, "w") as f:
            f.write("")
        t0 = time.time()
        pool.member.start(["--config", conf])
        assert wait_for(lambda: pool.member.read_log().count("XENBOX-POOL left pool") == 2,
                        timeout=30), pool.member.read_log()
        assert time.time() - t0 < 25
        log = pool.member.read_log()
        assert "XENBOX-POOL error: cannot reach %s: Connection refused\n" % pool.master_addr() \
            in log, log
        assert "pool_master was removed from xenbox.conf; the master was not told; this host " \
            "is standalone" in log
        assert len(members(pool.master)) == 1
    finally:
        pool.stop()


def test_goodbye_on_shutdown_and_revoke(two_dirs):
    """A member's daemon stopping says goodbye: offline at once, "stopped
    cleanly".  pool.revoke_member (`xenbox pool revoke`) cuts a live member
    off (close 4003) and refuses it from then on (403 POOL_MEMBER_REVOKED,
    retried at the cap)."""
    pool = Pool(*two_dirs)
    try:
        pool.start_member("pool_token = %s\n" % token(pool.master))
        assert wait_for(lambda: "XENBOX-POOL joined pool" in pool.member.read_log())
        uuid = members(pool.master)[0]["host_uuid"]
        p, s = pool.master.login()

        def msgs(name):
            return [m for m in ok(p.message.get_all_records(s)).values()
                    if m["name"] == name and m["obj_uuid"] == uuid]
        assert pool.member.stop() == 0
        off = wait_for(lambda: msgs("HOST_OFFLINE"), timeout=2)
        assert off and off[0]["body"] == "%s: stopped cleanly" % uuid, off
        online = len(msgs("HOST_ONLINE"))
        pool.start_member("")
        # the first join's HOST_ONLINE is there already: wait for the reconnection's
        assert wait_for(lambda: len(msgs("HOST_ONLINE")) > online)
        fails(p.pool.revoke_member(s, "6f1c0d2e-1b2a-4c3d-8e9f-0a1b2c3d4e5f"),
              "UUID_INVALID", "host")
        fails(p.pool.revoke_member(s, ""), "UUID_INVALID", "host")
        r = subprocess.run([XENBOX, "pool", "--unix", pool.master.unix, "revoke", uuid],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r
        assert wait_for(lambda: "XENBOX-POOL error: lost the master %s: closed by the peer: "
                        "4003 revoked" % pool.master_addr() in pool.member.read_log()), \
            pool.member.read_log()
        refused = "the master refused: 403 POOL_MEMBER_REVOKED %s; retry in " % uuid
        assert wait_for(lambda: refused in pool.member.read_log(), timeout=30), \
            pool.member.read_log()
        retry = int(pool.member.read_log().split(refused)[1].split(" ")[0])
        assert retry >= 150
        assert members(pool.master)[0]["state"] == "revoked"
        # POOL.md 3.5's line (it said "destroyed", host.destroy's)
        assert "XENBOX-POOL member %s revoked\n" % uuid in pool.master.read_log()
        mb = subprocess.run([XENBOX, "pool", "--unix", pool.master.unix, "members"],
                            capture_output=True, text=True, timeout=30)
        assert mb.stdout.startswith("%s: not connected, revoked, joined by token:" % uuid), \
            mb.stdout
        # the member stays one (3.7): its link is kept
        assert link(pool.member)[0]["state"] == "joined"
        assert msgs("HOST_OFFLINE")[-1]["body"].endswith("stopped cleanly")
        assert len(msgs("HOST_OFFLINE")) == 1
    finally:
        assert pool.stop() == (0, 0)


def test_password_joins_rate_limited(two_dirs):
    """Wrong passwords from an address count as failed logins there: over
    the limit, a password join from it is refused 429 (even the right
    password) without a check."""
    pool = Pool(*two_dirs)
    try:
        p = pool.master.proxy()
        for _ in range(5):
            fails(p.session.login_with_password("root", "wrong", "1.0", "t"),
                  "SESSION_AUTHENTICATION_FAILED")
        pool.start_member("pool_username = root\npool_password = %s\n" % PASSWORD)
        assert wait_for(lambda: "the master refused: 429 SESSION_AUTHENTICATION_FAILED root "
                        "too many failed logins" in pool.member.read_log()), \
            pool.member.read_log()
        assert "XENBOX-POOL refused 127.0.0.1: 429" in pool.master.read_log()
        assert members(pool.master) == []
        secrets_absent(pool, PASSWORD)
    finally:
        assert pool.stop() == (0, 0)


def test_join_goes_on_when_its_client_leaves(two_dirs):
    """pool.join's client hangs up while the master's name is looked up
    (a nameserver that never answers): the attempt ends on its own (no
    answer, after a retry), nobody is answered, and the next pool.join
    works."""
    silent, ip, knobs = nameserver_socket()
    pool = Pool(*two_dirs)
    try:
        conf = os.path.join(two_dirs[1], "resolv.conf")
        with open(conf, "w") as f:
            f.write("nameserver %s\n" % ip)
        pool.member.env = dict(knobs, XENBOX_RESOLV_CONF=conf, XENBOX_HOSTS="/dev/null")
        p, s = standalone(pool)
        import http.client
        import json
        c = http.client.HTTPConnection("127.0.0.1", pool.member.port, timeout=30)
        c.request("POST", "/jsonrpc", json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "pool.join",
            "params": [s, "silent.pool.test:%d" % pool.master.https_port, "root", PASSWORD]}),
            {"Content-Type": "application/json"})
        time.sleep(0.5)
        c.close()
        assert wait_for(lambda: "XENBOX-POOL error: cannot resolve silent.pool.test: no answer"
                        in pool.member.read_log(), timeout=15), pool.member.read_log()
        assert ok(p.pool.join(s, pool.master_addr(), "root", PASSWORD)) == ""
        assert members(pool.master)[0]["joined_by"] == "password"
    finally:
        silent.close()
        assert pool.stop() == (0, 0)
