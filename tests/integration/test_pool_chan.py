"""Pools, stage 3b (docs/POOL.md 2.3-2.5, 3.4, 3.5, 8): the channel between
a member and its master.  Two daemons on loopback with their own state
directories and ports: the member dials the master's HTTPS port, pins its
pool certificate, upgrades to a WebSocket at /pool/ws with a join token or
root's password (only while not joined), and says hello; the master
records the member before its 101 goes out, watches its liveness and makes
HOST_OFFLINE / HOST_ONLINE messages."""
import os
import re
import subprocess
import tempfile
import time

import pytest

from conftest import PASSWORD, XENBOX, Daemon, set_password, ok, fails

FP_RE = re.compile(r"pool_fingerprint = ([0-9A-F:]{95})")


def wait_for(fn, timeout=20, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def write_conf(state, text):
    path = os.path.join(state, "xenbox.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


@pytest.fixture
def two_dirs():
    with tempfile.TemporaryDirectory(prefix="xb-master-") as a, \
            tempfile.TemporaryDirectory(prefix="xb-member-") as b:
        set_password(a)
        set_password(b)
        yield a, b


class Pool:
    """A master (dead_after 3 s) and a member configured to join it."""

    def __init__(self, mdir, sdir, mextra=""):
        self.mdir, self.sdir = mdir, sdir
        mconf = write_conf(mdir, "pool_dead_after = 3\n" + mextra)
        self.master = Daemon(mdir)
        self.master.start(["--config", mconf], https=True)
        self.fp = wait_for(lambda: FP_RE.search(self.master.read_log())).group(1)
        self.member = Daemon(sdir)

    def master_addr(self):
        return "127.0.0.1:%d" % self.master.https_port

    def start_member(self, creds, fp=None, extra=""):
        conf = write_conf(self.sdir, "pool_master = %s\npool_fingerprint = %s\n%s%s" %
                          (self.master_addr(), fp or self.fp, creds, extra))
        self.member.start(["--config", conf])

    def restart_master(self, sig=15):
        self.master.stop(sig)
        port = self.master.https_port
        self.master.start(["--config", os.path.join(self.mdir, "xenbox.conf")], https=True)
        assert self.master.https_port != port or True
        return port

    def stop(self):
        rcs = (self.member.stop(), self.master.stop())
        for d in (self.member, self.master):
            log = d.read_log()
            assert "ERROR: AddressSanitizer" not in log, log
            assert "runtime error" not in log, log
        return rcs


def token(master):
    p, s = master.login()
    return ok(p.pool.create_join_token(s, "1", "3600", "test"))


def members(master):
    """pool_member rows as the master's database holds them (internal
    class: not on the API)."""
    import sqlite3
    db = sqlite3.connect(os.path.join(master.state, "xenbox.db"))
    try:
        cols = [r[1] for r in db.execute("PRAGMA table_info(pool_member)")]
        return [dict(zip(cols, r)) for r in db.execute("SELECT * FROM pool_member")]
    finally:
        db.close()


def secrets_absent(pool, *secrets):
    for d in (pool.mdir, pool.sdir):
        for root, _, files in os.walk(d):
            for fn in files:
                path = os.path.join(root, fn)
                # xenbox.conf is the stick's file, written by the test
                if fn == "xenbox.conf" or not os.path.isfile(path):
                    continue
                with open(path, "rb") as f:
                    data = f.read()
                for s in secrets:
                    assert s.encode() not in data, (fn, s)


def test_join_by_token_then_restart_without_credentials(two_dirs):
    pool = Pool(*two_dirs)
    try:
        tok = token(pool.master)
        tid = tok[5:21]
        pool.start_member("pool_token = %s\n" % tok)
        log = wait_for(lambda: "XENBOX-POOL joined pool" in pool.member.read_log() and
                       pool.member.read_log())
        assert log, pool.member.read_log()
        assert "XENBOX-POOL joining %s with token %s" % (pool.master_addr(), tid) in log
        # the master's pool has no name: the line names the master, as XAPI
        # clients show such a pool, not ""
        assert 'joined pool ""' not in log, log
        assert "XENBOX-POOL joined pool of master %s (" % pool.master_addr() in log, log
        mlog = pool.master.read_log()
        assert "joined from 127.0.0.1" in mlog and "by token:%s" % tid in mlog, mlog
        rows = wait_for(lambda: members(pool.master))
        assert len(rows) == 1 and rows[0]["joined_by"] == "token:" + tid
        # the token is spent
        p, s = pool.master.login()
        assert ok(p.pool.get_join_tokens(s))[0]["uses_left"] == "0"
        # restart: back as the same member, no credential line needed
        assert pool.member.stop() == 0
        pool.start_member("")
        assert wait_for(lambda: "XENBOX-POOL connected to the master" in
                        pool.member.read_log()), pool.member.read_log()
        assert len(members(pool.master)) == 1
        # logins over TCP go to the master (XAPI's HOST_IS_SLAVE, 6); the
        # Unix socket keeps working for the console and xe
        p = pool.member.proxy()
        fails(p.session.login_with_password("root", PASSWORD, "1.0", "t"),
              "HOST_IS_SLAVE", "127.0.0.1")
        pool.member.login(pool.member.unix_proxy())
        # the CLI, on both sides (the Unix socket as root)
        st = subprocess.run([XENBOX, "pool", "--unix", pool.member.unix, "status"],
                            capture_output=True, text=True, timeout=30)
        assert st.returncode == 0, st
        assert "state: online\n" in st.stdout, st.stdout
        assert "master: %s\n" % pool.master_addr() in st.stdout
        mb = subprocess.run([XENBOX, "pool", "--unix", pool.master.unix, "members"],
                            capture_output=True, text=True, timeout=30)
        host_uuid = members(pool.master)[0]["host_uuid"]
        assert mb.returncode == 0, mb
        assert mb.stdout.startswith("%s: connected, live, joined by token:%s, peer 127.0.0.1"
                                    % (host_uuid, tid)), mb.stdout
        secrets_absent(pool, tok[22:])
    finally:
        assert pool.stop() == (0, 0)


def test_join_by_password_and_wrong_password(two_dirs):
    pool = Pool(*two_dirs)
    try:
        pool.start_member("pool_username = root\npool_password = wrong-one\n")
        assert wait_for(lambda: "the master refused: 403 SESSION_AUTHENTICATION_FAILED" in
                        pool.member.read_log()), pool.member.read_log()
        assert members(pool.master) == []
        pool.member.stop()
        pool.start_member("pool_username = root\npool_password = %s\n" % PASSWORD)
        assert wait_for(lambda: "XENBOX-POOL joined pool" in pool.member.read_log(),
                        timeout=30), pool.member.read_log()
        assert members(pool.master)[0]["joined_by"] == "password"
        secrets_absent(pool, PASSWORD, "wrong-one")
    finally:
        assert pool.stop() == (0, 0)


def test_wrong_fingerprint_sends_no_credential(two_dirs):
    pool = Pool(*two_dirs)
    try:
        tok = token(pool.master)
        bad = ":".join(["AB"] * 32)
        pool.start_member("pool_token = %s\n" % tok, fp=bad)
        log = wait_for(lambda: "presented pool certificate" in pool.member.read_log() and
                       pool.member.read_log())
        assert "presented pool certificate %s, xenbox.conf pins %s" % (pool.fp, bad) in log, log
        assert members(pool.master) == []
        p, s = pool.master.login()
        assert ok(p.pool.get_join_tokens(s))[0]["uses_left"] == "1"
        secrets_absent(pool, tok[22:])
    finally:
        assert pool.stop() == (0, 0)


@pytest.mark.parametrize("how", ["expired", "used up", "revoked", "unknown"])
def test_bad_tokens_refused(two_dirs, how):
    pool = Pool(*two_dirs)
    try:
        p, s = pool.master.login()
        tok = ok(p.pool.create_join_token(s, "1", "1" if how == "expired" else "3600", ""))
        tid = tok[5:21]
        if how == "revoked":
            ok(p.pool.revoke_join_token(s, tid))
        if how == "expired":
            time.sleep(1.5)
        if how == "used up":
            # spent by another host first
            other = Pool.__new__(Pool)
            with tempfile.TemporaryDirectory(prefix="xb-other-") as od:
                set_password(od)
                other.mdir, other.sdir, other.master, other.fp = \
                    pool.mdir, od, pool.master, pool.fp
                other.member = Daemon(od)
                other.start_member("pool_token = %s\n" % tok)
                assert wait_for(lambda: "XENBOX-POOL joined pool" in
                                other.member.read_log()), other.member.read_log()
                assert other.member.stop() == 0
        if how == "unknown":
            tok = tok[:22] + ("0" if tok[22] != "0" else "1") + tok[23:]
        pool.start_member("pool_token = %s\n" % tok)
        want = "the master refused: 403 SESSION_AUTHENTICATION_FAILED token %s" % (
            "unknown" if how == "unknown" else "%s: %s" % (tid, how))
        assert wait_for(lambda: want in pool.member.read_log()), pool.member.read_log()
        assert len(members(pool.master)) == (1 if how == "used up" else 0)
        secrets_absent(pool, tok[22:])
    finally:
        assert pool.stop() == (0, 0)


def test_liveness_offline_online_and_master_restart(two_dirs):
    pool = Pool(*two_dirs)
    try:
        pool.start_member("pool_token = %s\n" % token(pool.master))
        assert wait_for(lambda: "XENBOX-POOL joined pool" in pool.member.read_log())
        host_uuid = members(pool.master)[0]["host_uuid"]
        p, s = pool.master.login()

        def msgs(name):
            return [m for m in ok(p.message.get_all_records(s)).values()
                    if m["name"] == name and m["obj_uuid"] == host_uuid]
        # pings keep it live past dead_after
        time.sleep(4.5)
        assert msgs("HOST_OFFLINE") == []
        # killed: offline after dead_after, with a message
        pool.member.stop(9)
        assert wait_for(lambda: msgs("HOST_OFFLINE"), timeout=15)
        assert "no contact for 3 s" in msgs("HOST_OFFLINE")[0]["body"]
        pool.start_member("")
        assert wait_for(lambda: msgs("HOST_ONLINE"), timeout=15)
        # the master killed and back: the member reconnects
        n = pool.member.read_log().count("XENBOX-POOL connected to the master")
        pool.master.stop(9)
        pool.master.start(["--config", os.path.join(pool.mdir, "xenbox.conf"),
                           "--https", "127.0.0.1:%d" % pool.master.https_port])
        assert wait_for(lambda: pool.member.read_log().count(
            "XENBOX-POOL connected to the master") > n, timeout=40), pool.member.read_log()
    finally:
        pool.stop()


def test_not_joined_without_credential_does_not_dial(two_dirs):
    """xenbox.conf may lack the credential once joined; before, the daemon
    says what is missing and does not try (loopback, a closed port)."""
    sdir = two_dirs[1]
    conf = write_conf(sdir, "pool_master = 127.0.0.1:1\npool_fingerprint = %s\n" %
                      ":".join(["3A"] * 32))
    d = Daemon(sdir).start(["--config", conf])
    try:
        d.login()
        log = d.read_log()
        assert "XENBOX-POOL error: pool_master 127.0.0.1:1: needs pool_token (or " \
               "pool_username and pool_password) to join; not joining" in log, log
        assert "cannot reach" not in log
    finally:
        assert d.stop() == 0


def test_upgrade_over_plain_http_refused(daemon):
    """/pool/ws needs the pool's TLS: over plain HTTP a well-formed Upgrade
    gets 403 with XenAPI's error shape and a close; the daemon carries on."""
    import json
    r, body = daemon.raw("GET", "/pool/ws", headers={
        "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Protocol": "xenbox-pool.1",
        "Xenbox-Host": "6f1c0d2e-1b2a-4c3d-8e9f-0a1b2c3d4e5f",
        "Authorization": "Bearer xbt1-0123456789abcdef-" + "0" * 64})
    assert r.status == 403 and r.getheader("Connection") == "close"
    assert json.loads(body) == {"ErrorDescription": ["POOL_CHANNEL_REQUIRES_TLS13"]}
    r, body = daemon.raw("GET", "/pool/ws")
    assert r.status == 400
    assert json.loads(body)["ErrorDescription"][0] == "JOINING_HOST_SERVICE_FAILED"
    daemon.login()


def test_leave_by_config(two_dirs):
    """pool_master removed from xenbox.conf: at the next start the member
    says goodbye and leaves (its membership and certificate go, guests
    untouched) and is standalone again: logins over TCP work."""
    pool = Pool(*two_dirs)
    try:
        pool.start_member("pool_token = %s\n" % token(pool.master))
        assert wait_for(lambda: "XENBOX-POOL joined pool" in pool.member.read_log())
        p, s = pool.member.login(pool.member.unix_proxy())
        vm = ok(p.VM.create(s, {"name_label": "stays", "memory_static_max": "268435456",
                                "memory_dynamic_max": "268435456",
                                "memory_dynamic_min": "268435456",
                                "memory_static_min": "268435456", "VCPUs_max": "1",
                                "VCPUs_at_startup": "1", "is_a_template": False,
                                "PV_kernel": "/boot/vmlinuz"}))
        assert pool.member.stop() == 0
        write_conf(pool.sdir, "")
        pool.member.start(["--config", os.path.join(pool.sdir, "xenbox.conf")])
        # after its goodbye (test_pool_join.py has the master's side)
        log = wait_for(lambda: "XENBOX-POOL left pool " in pool.member.read_log() and
                       pool.member.read_log())
        assert "pool_master was removed from xenbox.conf; the master was told; this host " \
            "is standalone" in log, log
        assert not os.path.exists(os.path.join(pool.sdir, "pool-member.pem"))
        p, s = pool.member.login()          # over TCP: not HOST_IS_SLAVE
        assert ok(p.VM.get_name_label(s, vm)) == "stays"
    finally:
        assert pool.stop() == (0, 0)


def test_after_a_master_restart_members_are_offline_until_they_connect(two_dirs):
    """POOL.md 8: at the master's start every member is live = false (and
    no message is made for it before pool_dead_after); the channel status
    says the same as host_metrics.live."""
    pool = Pool(*two_dirs)
    try:
        pool.start_member("pool_token = %s\n" % token(pool.master))
        assert wait_for(lambda: "XENBOX-POOL joined pool" in pool.member.read_log()), \
            pool.member.read_log()
        host_uuid = wait_for(lambda: members(pool.master))[0]["host_uuid"]
        pool.member.stop(9)                     # no goodbye
        pool.restart_master()

        def status():
            mb = subprocess.run([XENBOX, "pool", "--unix", pool.master.unix, "members"],
                                capture_output=True, text=True, timeout=30)
            assert mb.returncode == 0, mb
            return mb.stdout

        assert status().startswith("%s: not connected, offline," % host_uuid), status()
        p, s = pool.master.login()
        h = ok(p.host.get_by_uuid(s, host_uuid))
        assert ok(p.host_metrics.get_live(s, ok(p.host.get_metrics(s, h)))) is False
        # back: connected and live again
        pool.start_member("")
        assert wait_for(lambda: status().startswith("%s: connected, live," % host_uuid)), \
            status()
        assert ok(p.host_metrics.get_live(s, ok(p.host.get_metrics(s, h)))) is True
    finally:
        assert pool.stop() == (0, 0)


def test_malformed_master_messages_are_named(two_dirs, tmp_path):
    """A master that sends what the member cannot use (played by the test:
    TLS 1.3 with a certificate of its own, which the member pins, the 101,
    then frames of its own): the member logs a line naming what was wrong,
    at most one a minute however many come, and carries on."""
    import base64
    import hashlib
    import socket
    import ssl
    import threading
    cert, key = str(tmp_path / "m.crt"), str(tmp_path / "m.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=fake-master",
                    "-days", "2", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    with open(cert) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    fp = ":".join("%02X" % b for b in hashlib.sha256(der).digest())
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    lsock = socket.create_server(("127.0.0.1", 0))
    lsock.settimeout(30)
    port = lsock.getsockname()[1]
    sent = threading.Event()
    done = threading.Event()
    bad = [b"this is not JSON", b"{\"result\":", b"[1, 2",
           b"{\"jsonrpc\":\"2.0\",\"method\":\"VM.start\",\"params\":[],\"id\":\"x1\"}"]

    def frame(payload):
        return bytes([0x81, len(payload)]) + payload      # unmasked, < 126 bytes

    def serve():
        try:
            raw, _ = lsock.accept()
            s = ctx.wrap_socket(raw, server_side=True)
            head = b""
            while b"\r\n\r\n" not in head:
                head += s.recv(1)
            k = re.search(rb"Sec-WebSocket-Key: *([^\r]+)", head, re.I).group(1)
            acc = base64.b64encode(hashlib.sha1(
                k + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
            s.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + acc +
                      b"\r\nSec-WebSocket-Protocol: xenbox-pool.1\r\n\r\n")
            for p in bad:
                s.sendall(frame(p))
            sent.set()
            done.wait(60)
            s.close()
        except OSError:
            sent.set()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    sdir = two_dirs[1]
    conf = write_conf(sdir, "pool_master = 127.0.0.1:%d\npool_fingerprint = %s\n"
                      "pool_token = xbt1-0123456789abcdef-%s\n" % (port, fp, "0" * 64))
    d = Daemon(sdir).start(["--config", conf])
    try:
        assert sent.wait(40), d.read_log()
        line = "XENBOX-POOL the master sent a message that is not JSON"
        log = wait_for(lambda: line in d.read_log() and d.read_log())
        assert log, d.read_log()
        time.sleep(1)           # the other four, ignored without a line each
        log = d.read_log()
        assert log.count("XENBOX-POOL the master sent") == 1, log
        # and it carries on: a member now, it answers as one
        fails(d.proxy().session.login_with_password("root", PASSWORD, "1.0", "t"),
              "HOST_IS_SLAVE", "127.0.0.1")
    finally:
        done.set()
        lsock.close()
        assert d.stop() == 0
        log = d.read_log()
        assert "ERROR: AddressSanitizer" not in log and "runtime error" not in log, log
