"""Pools, stage 4 (docs/POOL.md 4, 8): the master's mirror of its members'
objects.  A member sends its hosts, VMs, devices, metrics and messages in
xbpool.sync calls (a full snapshot when the master has no cursor for it,
then deltas); the master applies them to objects that member owns, keeps
them in its database with their owner, and shows them through the
ordinary calls (get_all_records, event.from) with no change to those.
Writes to another host's objects are refused; a member holds copies of its
master's pool and host.  Two daemons on loopback (test_pool_chan's Pool),
and a member played by the test itself for records no real member sends."""
import json
import os
import socket
import ssl
import struct
import subprocess
import time

import pytest

from conftest import fails, ok
from test_pool_chan import Pool, members, token, two_dirs, wait_for  # noqa: F401

MiB = "268435456"
OWNED = "this object belongs to another host of the pool"


def vm_rec(name):
    return {"name_label": name, "memory_static_max": MiB, "memory_dynamic_max": MiB,
            "memory_dynamic_min": MiB, "memory_static_min": MiB, "VCPUs_max": "1",
            "VCPUs_at_startup": "1", "is_a_template": False, "PV_kernel": "/boot/vmlinuz"}


def join(pool):
    pool.start_member("pool_token = %s\n" % token(pool.master))
    assert wait_for(lambda: "XENBOX-POOL joined pool" in pool.member.read_log()), \
        pool.member.read_log()


def recs(d, cls):
    p, s = d.login(d.unix_proxy())
    return ok(getattr(p, cls).get_all_records(s))


def shows(pool, cls, ref, **fields):
    """Wait until the master's record of ref has these fields; the record."""
    def look():
        r = recs(pool.master, cls).get(ref)
        return r if r and all(r[k] == v for k, v in fields.items()) else None
    r = wait_for(look, timeout=15)
    assert r, (cls, ref, fields, recs(pool.master, cls).get(ref))
    return r


def test_master_shows_members_objects_and_follows_them(two_dirs):
    pool = Pool(*two_dirs)
    try:
        join(pool)
        mp, ms = pool.master.login(pool.master.unix_proxy())
        sp, ss = pool.member.login(pool.member.unix_proxy())
        mhost = ok(mp.pool.get_master(ms, ok(mp.pool.get_all(ms))[0]))
        shost = [h for h in ok(sp.host.get_all(ss)) if h != mhost]
        assert len(shost) == 1
        shost = shost[0]
        # the member's host, its metrics (live: the master's view, 8), its
        # control domain, SR and network, as the member has them
        h = shows(pool, "host", shost)
        assert h["uuid"] == members(pool.master)[0]["host_uuid"]
        assert shows(pool, "host_metrics", h["metrics"], live=True)
        for cls in ("VM", "SR", "network", "PIF", "PBD", "host_cpu"):
            theirs = recs(pool.member, cls)
            for ref, r in theirs.items():
                if cls == "VM" and r["is_control_domain"] and r["resident_on"] == shost:
                    shows(pool, cls, ref, uuid=r["uuid"], name_label=r["name_label"])
                elif cls != "VM":
                    shows(pool, cls, ref, uuid=r["uuid"])
        # one pool on the master: its own
        assert len(ok(mp.pool.get_all(ms))) == 1
        assert len(ok(mp.host.get_all(ms))) == 2

        # a change on the member, through its own API, reaches the master
        # and its event.from (the metrics coalescing does not hold a new
        # VM's metrics back)
        tok = ok(getattr(mp.event, "from")(ms, ["VM"], "", 0.0))["token"]
        vm = ok(sp.VM.create(ss, vm_rec("mirrored")))
        r = shows(pool, "VM", vm, name_label="mirrored")
        assert r["metrics"] in recs(pool.master, "VM_metrics")
        seen = set()
        deadline = time.time() + 15
        while vm not in seen and time.time() < deadline:
            ev = ok(getattr(mp.event, "from")(ms, ["VM"], tok, 5.0))
            tok = ev["token"]
            seen |= {e["ref"] for e in ev["events"] if e["operation"] in ("add", "mod")}
        assert vm in seen
        sr = [k for k, v in recs(pool.member, "SR").items() if v["type"] == "file"][0]
        vdi = ok(sp.VDI.create(ss, {"SR": sr, "virtual_size": "1048576", "type": "user",
                                    "name_label": "disk", "sharable": False,
                                    "read_only": False, "other_config": {}}))
        shows(pool, "VDI", vdi, SR=sr, name_label="disk")
        assert vdi in shows(pool, "SR", sr)["VDIs"]      # inverse sets across hosts
        ok(sp.VM.set_name_label(ss, vm, "renamed"))
        shows(pool, "VM", vm, name_label="renamed")
        ok(sp.VM.start(ss, vm, False, False))
        r = shows(pool, "VM", vm, power_state="Running", resident_on=shost)
        assert vm in shows(pool, "host", shost)["resident_VMs"]
        assert "clean_shutdown" in r["allowed_operations"]
        # VM_metrics.start_time is no volatile field: sent at once, not at
        # the next metrics interval (60 s)
        st = ok(sp.VM_metrics.get_start_time(ss, r["metrics"]))
        shows(pool, "VM_metrics", r["metrics"], start_time=st)

        # on the master, writes to the member's objects go to the member
        # (stage 5: test_pool_fwd.py); the master's own objects may not
        # point to them
        mine = ok(mp.VM.create(ms, vm_rec("the master's")))
        fails(mp.VBD.create(ms, {"VM": mine, "VDI": vdi, "userdevice": "1",
                                 "bootable": False, "mode": "RW", "type": "Disk",
                                 "empty": False, "other_config": {}}),
              "OPERATION_NOT_ALLOWED", OWNED)
        assert ok(mp.VM.get_name_label(ms, vm)) == "renamed"
        # on the member, the master's pool and host are copies
        pools = ok(sp.pool.get_all(ss))
        assert pools == ok(mp.pool.get_all(ms))
        assert ok(sp.pool.get_master(ss, pools[0])) == mhost
        fails(sp.pool.set_name_label(ss, pools[0], "mine"), "OPERATION_NOT_ALLOWED",
              OWNED)
        fails(sp.host.set_name_label(ss, mhost, "mine"), "OPERATION_NOT_ALLOWED",
              OWNED)

        # the member's deletions reach the master
        ok(sp.VM.hard_shutdown(ss, vm))
        ok(sp.VM.destroy(ss, vm))
        assert wait_for(lambda: vm not in recs(pool.master, "VM"), timeout=15)
    finally:
        assert pool.stop() == (0, 0)


def test_master_down_member_changes_then_both_restart(two_dirs):
    """kill -9 of the master; the member changes and deletes VMs locally;
    the master comes back from its database with the member's objects
    (their owner kept: offline, allowed_operations []) and, once the member
    is back, shows its changes, without the deleted VM, with no duplicate
    host or VM."""
    pool = Pool(*two_dirs)
    try:
        join(pool)
        sp, ss = pool.member.login(pool.member.unix_proxy())
        keep = ok(sp.VM.create(ss, vm_rec("keep")))
        gone = ok(sp.VM.create(ss, vm_rec("gone")))
        shows(pool, "VM", gone, name_label="gone")
        r = shows(pool, "VM", keep, name_label="keep")
        assert "start" in r["allowed_operations"]
        n_hosts, n_vms = len(recs(pool.master, "host")), len(recs(pool.master, "VM"))

        pool.master.stop(9)
        ok(sp.VM.set_name_label(ss, keep, "changed while the master was down"))
        ok(sp.VM.destroy(ss, gone))
        assert pool.member.stop() == 0

        port = pool.master.https_port
        pool.master.start(["--config", os.path.join(pool.mdir, "xenbox.conf"),
                           "--https", "127.0.0.1:%d" % port])
        pool.master.https_port = port
        mp, ms = pool.master.login(pool.master.unix_proxy())
        r = ok(mp.VM.get_record(ms, keep))
        assert r["name_label"] == "keep" and r["allowed_operations"] == []
        shost = [h for h, v in recs(pool.master, "host").items()
                 if v["uuid"] == members(pool.master)[0]["host_uuid"]][0]
        hm = ok(mp.host.get_metrics(ms, shost))
        assert ok(mp.host_metrics.get_live(ms, hm)) is False
        # a call to it waits for its host to be live again (stage 5)
        fails(mp.VM.start(ms, keep, False, False), "HOST_OFFLINE", shost)

        pool.start_member("")
        shows(pool, "VM", keep, name_label="changed while the master was down")
        assert wait_for(lambda: gone not in recs(pool.master, "VM"), timeout=15)
        assert shows(pool, "host_metrics", hm, live=True)
        assert "start" in shows(pool, "VM", keep)["allowed_operations"]
        assert len(recs(pool.master, "host")) == n_hosts
        assert len(recs(pool.master, "VM")) == n_vms - 1
        # the member restarts: the same host and VMs, nothing twice
        assert pool.member.stop() == 0
        pool.start_member("")
        assert wait_for(lambda: pool.member.read_log().count(
            "XENBOX-POOL connected to the master") >= 2)
        sp, ss = pool.member.login(pool.member.unix_proxy())
        ok(sp.VM.set_name_label(ss, keep, "after the member's restart"))
        shows(pool, "VM", keep, name_label="after the member's restart")
        assert len(recs(pool.master, "host")) == n_hosts
        assert len(recs(pool.master, "VM")) == n_vms - 1
        assert len(ok(mp.pool.get_all(ms))) == 1
    finally:
        assert pool.stop() == (0, 0)


class FakeMember:
    """A member played by the test (docs/POOL.md 2.3-2.4): TLS 1.3 with the
    pool's server name and a certificate of its own, the Upgrade with a
    join token, then JSON-RPC in masked WebSocket text frames.  For what no
    real member sends."""

    def __init__(self, pool, tmp, tok, host_uuid):
        cert, key = str(tmp / "fake.crt"), str(tmp / "fake.key")
        if not os.path.exists(cert):    # kept: it is the member's identity
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + host_uuid,
                            "-days", "2", "-keyout", key, "-out", cert],
                           check=True, capture_output=True, timeout=60)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(cert, key)
        raw = socket.create_connection(("127.0.0.1", pool.master.https_port), timeout=20)
        self.s = ctx.wrap_socket(raw, server_hostname="xenbox-pool.invalid")
        self.s.sendall(("GET /pool/ws HTTP/1.1\r\nHost: m\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xenbox-pool.1\r\n"
                        "Xenbox-Host: %s\r\nAuthorization: Bearer %s\r\n\r\n"
                        % (host_uuid, tok)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.s.recv(1)
        assert head.startswith(b"HTTP/1.1 101 "), head
        self.n = 0

    def send(self, obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(data)
        hdr = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else
                               bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536 else
                               bytes([0x80 | 127]) + struct.pack(">Q", n))
        self.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv_exact(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError
            b += c
        return b

    def recv(self):
        """The next message (pings answered by nobody: fine for a test);
        None when the master closed (its close frame)."""
        while True:
            b0, b1 = self.recv_exact(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack(">H", self.recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self.recv_exact(8))[0]
            payload = self.recv_exact(n)
            if b0 & 0x0f == 8:
                return None
            if b0 & 0x0f == 1:
                return json.loads(payload)

    def call(self, method, params):
        self.n += 1
        self.send({"jsonrpc": "2.0", "method": method, "params": [params],
                   "id": "s%d" % self.n})
        return self.recv()


def test_rogue_records_rejected(two_dirs, tmp_path):
    """A member that sends what it does not own: another member's object
    (by ref), a uuid another object has, a second host; each is rejected
    alone and listed, the rest applies, the master says so in a message.
    A hello naming another host's ref is closed 1008."""
    pool = Pool(*two_dirs)
    try:
        join(pool)
        sp, ss = pool.member.login(pool.member.unix_proxy())
        theirs = ok(sp.VM.create(ss, vm_rec("theirs")))
        shows(pool, "VM", theirs, name_label="theirs")
        theirs_uuid = ok(sp.VM.get_uuid(ss, theirs))
        real_host = [h for h, v in recs(pool.member, "host").items()
                     if v["uuid"] == members(pool.master)[0]["host_uuid"]][0]
        uuid = "6f1c0d2e-1b2a-4c3d-8e9f-0a1b2c3d4e5f"
        href = "OpaqueRef:6f1c0d2e-1b2a-4c3d-8e9f-00000000aaaa"

        # a hello that claims the real member's host
        fake = FakeMember(pool, tmp_path, token(pool.master), uuid)
        fake.send({"jsonrpc": "2.0", "method": "xbpool.hello", "id": "s1",
                   "params": [{"host_uuid": uuid, "host": real_host, "epoch": "e"}]})
        assert fake.recv() is None
        assert "XENBOX-POOL member %s: hello of another host" % (
            [m["uuid"] for m in members(pool.master) if m["host_uuid"] == uuid][0]) \
            in pool.master.read_log()

        # as itself (its certificate is its credential now)
        fake = FakeMember(pool, tmp_path, "", uuid)
        r = fake.call("xbpool.hello", {"host_uuid": uuid, "host": href,
                                       "epoch": "9b2d4c1e-0f6a-4781-8000-000000000001"})
        mp, ms = pool.master.login(pool.master.unix_proxy())
        mpool = ok(mp.pool.get_all(ms))[0]
        assert "since" not in r["result"]          # no cursor: a full snapshot
        assert r["result"]["pool"]["ref"] == mpool
        assert r["result"]["master"]["ref"] == ok(mp.pool.get_master(ms, mpool))
        assert r["result"]["master"]["record"]["uuid"] == \
            ok(mp.host.get_uuid(ms, ok(mp.pool.get_master(ms, mpool))))
        good = "OpaqueRef:6f1c0d2e-1b2a-4c3d-8e9f-00000000bbbb"
        r = fake.call("xbpool.sync", {
            "epoch": "9b2d4c1e-0f6a-4781-8000-000000000001", "full": True, "last": True,
            "complete": 5, "objects": [
                {"class": "host", "ref": href, "record": {"uuid": uuid, "name_label": "fake"}},
                {"class": "VM", "ref": theirs, "record": {"name_label": "stolen"}},
                {"class": "VM", "ref": "OpaqueRef:6f1c0d2e-1b2a-4c3d-8e9f-00000000cccc",
                 "record": {"uuid": theirs_uuid, "name_label": "twin"}},
                {"class": "host", "ref": "OpaqueRef:6f1c0d2e-1b2a-4c3d-8e9f-00000000dddd",
                 "record": {"uuid": "6f1c0d2e-1b2a-4c3d-8e9f-00000000dddd"}},
                {"class": "VM", "ref": good,
                 "record": {"uuid": "6f1c0d2e-1b2a-4c3d-8e9f-00000000bbbb",
                            "name_label": "fine", "resident_on": href}}]})
        rej = {x["ref"]: x["why"] for x in r["result"]["rejected"]}
        assert rej == {theirs: "another host's ref",
                       "OpaqueRef:6f1c0d2e-1b2a-4c3d-8e9f-00000000cccc": "bad ref or uuid",
                       "OpaqueRef:6f1c0d2e-1b2a-4c3d-8e9f-00000000dddd": "not its host"}, r
        assert r["result"]["gen"] == 5
        vms = recs(pool.master, "VM")
        assert vms[theirs]["name_label"] == "theirs"
        assert vms[good]["name_label"] == "fine" and vms[good]["resident_on"] == href
        assert "OpaqueRef:6f1c0d2e-1b2a-4c3d-8e9f-00000000cccc" not in vms
        assert len([v for v in vms.values() if v["uuid"] == theirs_uuid]) == 1
        assert recs(pool.master, "host")[href]["name_label"] == "fake"
        msgs = [m for m in recs(pool.master, "message").values()
                if m["name"] == "POOL_SYNC_REJECTED" and m["obj_uuid"] == uuid]
        assert len(msgs) == 1 and msgs[0]["body"] == "another host's ref", msgs
        # the real member is untouched and still syncs
        ok(sp.VM.set_name_label(ss, theirs, "still theirs"))
        shows(pool, "VM", theirs, name_label="still theirs")
    finally:
        assert pool.stop() == (0, 0)
