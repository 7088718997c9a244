"""Pools, stage 5 (docs/POOL.md 5, 3.7): calls made to the master on
objects a member owns go down the member's channel and are answered as if
local, errors included.  Two daemons on loopback (test_pool_chan's Pool):
clients on the master start and stop a VM of the member over XML-RPC and
JSON-RPC and see its new state on the master as soon as the reply comes
(5.3); the member's errors come back unchanged; Async.* tasks are the
master's, resident on the member; an offline member gives HOST_OFFLINE;
pool.eject leaves the guest running on the now standalone host, and
host.destroy forgets an offline member for good.  Xen Orchestra's
connector on the master starts the member's VMs and follows them through
events; a member that reconnects gets no call before its hello."""
import time

import pytest

from conftest import PASSWORD, ok, fails
from test_api import new_vm
from test_pool_chan import Pool, token, two_dirs, wait_for  # noqa: F401 (fixture)
from test_xo import xo_client  # noqa: F401 (fixture)


def joined_pool(two_dirs, member_sim="shutdown_delay=200,create_delay=300"):
    """A master and a member that joined it with a token, the member's host
    mirrored on the master.  Builds on the member take 0.3 s: a reply that
    came before the change it reports would show the VM still halted."""
    pool = Pool(*two_dirs)
    pool.member.sim_opts = member_sim
    pool.tok = token(pool.master)
    pool.start_member("pool_token = %s\n" % pool.tok)
    assert wait_for(lambda: "XENBOX-POOL joined pool" in pool.member.read_log(),
                    timeout=30), pool.member.read_log()
    mp, ms = pool.member.login(pool.member.unix_proxy())
    pool.mhost = ok(mp.host.get_all(ms))[0]
    p, s = pool.master.login()
    assert wait_for(lambda: pool.mhost in ok(p.host.get_all(s))), pool.master.read_log()
    return pool


def member_vm(pool):
    """A halted VM made on the member itself, once the master shows it."""
    mp, ms = pool.member.login(pool.member.unix_proxy())
    vm = new_vm(mp, ms)
    p, s = pool.master.login()
    assert wait_for(lambda: vm in ok(p.VM.get_all(s)))
    return vm


def stop_checked(pool):
    assert pool.stop() == (0, 0)


def test_start_and_stop_a_members_vm_from_the_master(two_dirs):
    pool = joined_pool(two_dirs)
    try:
        vm = member_vm(pool)
        p, s = pool.master.login()
        # XML-RPC: the reply comes after the master applied the change
        ok(p.VM.start(s, vm, False, False))
        rec = ok(p.VM.get_record(s, vm))
        assert rec["power_state"] == "Running", rec
        assert rec["resident_on"] == pool.mhost
        mp, ms = pool.member.login(pool.member.unix_proxy())
        assert ok(mp.VM.get_power_state(ms, vm)) == "Running"
        # the member's error, unchanged: parameters and all
        r = p.VM.start(s, vm, False, False)
        fails(r, "VM_BAD_POWER_STATE", vm)
        assert r["ErrorDescription"] == mp.VM.start(ms, vm, False, False)["ErrorDescription"]
        # JSON-RPC: the same, in JSON's style
        js = pool.master.jsonrpc("session.login_with_password",
                                 ["root", PASSWORD, "1.0", "t"])["result"]
        r = pool.master.jsonrpc("VM.clean_shutdown", [js, vm])
        assert r == {"jsonrpc": "2.0", "result": "", "id": 1}, r
        assert ok(p.VM.get_power_state(s, vm)) == "Halted"
        r = pool.master.jsonrpc("VM.clean_shutdown", [js, vm])
        assert r["error"]["message"] == "VM_BAD_POWER_STATE", r
        assert r["error"]["data"][0] == vm
        # a write of a field goes to the owner too
        ok(p.VM.set_name_label(s, vm, "renamed on the master"))
        assert ok(mp.VM.get_name_label(ms, vm)) == "renamed on the master"
        assert ok(p.VM.get_name_label(s, vm)) == "renamed on the master"
        # host.get_servertime runs on the member's host, converted by its type
        t = ok(p.host.get_servertime(s, pool.mhost))
        assert isinstance(t, __import__("xmlrpc.client").client.DateTime), t
        # start_on another host than the VM's: not yet (stage 11)
        master_host = ok(p.pool.get_master(s, ok(p.pool.get_all(s))[0]))
        r = fails(p.VM.start_on(s, vm, master_host, False, False), "OPERATION_NOT_ALLOWED")
        assert "moving VMs between hosts is not supported yet" in r[1], r
        ok(p.VM.start_on(s, vm, pool.mhost, False, False))
        assert ok(p.VM.get_power_state(s, vm)) == "Running"
    finally:
        stop_checked(pool)


def test_async_task_and_creates_by_owner(two_dirs):
    pool = joined_pool(two_dirs)
    try:
        vm = member_vm(pool)
        p, s = pool.master.login()
        task = ok(p.Async.VM.start(s, vm, False, False))
        assert ok(p.task.get_resident_on(s, task)) == pool.mhost
        assert wait_for(lambda: ok(p.task.get_status(s, task)) != "pending")
        assert ok(p.task.get_status(s, task)) == "success"
        assert ok(p.VM.get_power_state(s, vm)) == "Running"
        # VM.create with affinity to the member is the member's VM
        mp, ms = pool.member.login(pool.member.unix_proxy())
        v2 = new_vm(p, s, name_label="by affinity", affinity=pool.mhost)
        assert v2 in ok(mp.VM.get_all(ms))
        assert ok(p.VM.get_name_label(s, v2)) == "by affinity"
        # VDI.create on the member's SR is the member's VDI
        sr = [x for x in ok(mp.SR.get_all(ms))
              if ok(mp.SR.get_type(ms, x)) not in ("iso", "udev")][0]
        vdi = ok(p.VDI.create(s, {"SR": sr, "virtual_size": "1048576", "type": "user",
                                  "name_label": "on the member", "sharable": False,
                                  "read_only": False, "other_config": {}}))
        assert vdi in ok(mp.VDI.get_all(ms))
        assert ok(p.VDI.get_SR(s, vdi)) == sr
        # a master's own VM stays the master's
        v3 = new_vm(p, s)
        assert v3 not in ok(mp.VM.get_all(ms))
    finally:
        stop_checked(pool)


def test_offline_member_gives_host_offline(two_dirs):
    pool = joined_pool(two_dirs)
    try:
        vm = member_vm(pool)
        p, s = pool.master.login()
        assert pool.member.stop() == 0
        # dead_after is 3 s on this master
        assert wait_for(lambda: p.VM.start(s, vm, False, False)["ErrorDescription"][0] ==
                        "HOST_OFFLINE", timeout=30)
        fails(p.VM.start(s, vm, False, False), "HOST_OFFLINE", pool.mhost)
        fails(p.pool.eject(s, pool.mhost), "HOST_OFFLINE", pool.mhost)
        # back: forwarded again
        pool.start_member("")
        assert wait_for(lambda: p.VM.set_name_label(s, vm, "back")["Status"] == "Success",
                        timeout=30)
    finally:
        stop_checked(pool)


def test_eject_leaves_the_guest_running(two_dirs):
    pool = joined_pool(two_dirs)
    try:
        vm = member_vm(pool)
        p, s = pool.master.login()
        ok(p.VM.start(s, vm, False, False))
        master_host = ok(p.pool.get_master(s, ok(p.pool.get_all(s))[0]))
        fails(p.pool.eject(s, master_host), "OPERATION_NOT_ALLOWED")
        ok(p.pool.eject(s, pool.mhost))
        # the master forgot it: its host and VM are gone from the master
        assert pool.mhost not in ok(p.host.get_all(s))
        assert vm not in ok(p.VM.get_all(s))
        # the member is standalone, its guest running
        assert wait_for(lambda: "XENBOX-POOL ejected from pool" in pool.member.read_log())
        mp, ms = pool.member.login(pool.member.unix_proxy())
        assert ok(mp.VM.get_power_state(ms, vm)) == "Running"
        pool.member.login()             # TCP logins: no HOST_IS_SLAVE any more
        # restarted with the same xenbox.conf it does not join again
        assert pool.member.stop() == 0
        pool.start_member("pool_token = %s\n" % pool.tok)
        assert wait_for(lambda: pool.member.read_log().count(
            "XENBOX-POOL ejected from pool") == 2), pool.member.read_log()
        mp, ms = pool.member.login(pool.member.unix_proxy())
        assert ok(mp.VM.get_power_state(ms, vm)) == "Running"
        time.sleep(1)
        assert pool.mhost not in ok(p.host.get_all(s))
    finally:
        stop_checked(pool)


def test_host_destroy_of_an_offline_member(two_dirs):
    pool = joined_pool(two_dirs)
    try:
        vm = member_vm(pool)
        p, s = pool.master.login()
        fails(p.host.destroy(s, pool.mhost), "HOST_IS_LIVE", pool.mhost)
        assert pool.member.stop() == 0
        assert wait_for(lambda: p.host.destroy(s, pool.mhost)["Status"] == "Success",
                        timeout=30)
        assert pool.mhost not in ok(p.host.get_all(s))
        assert vm not in ok(p.VM.get_all(s))
        # it comes back: refused, and stays a member (3.7)
        pool.start_member("")
        assert wait_for(lambda: "POOL_MEMBER_REVOKED" in pool.member.read_log(),
                        timeout=30), pool.member.read_log()
        assert pool.mhost not in ok(p.host.get_all(s))
    finally:
        stop_checked(pool)


def test_xen_orchestra_on_the_master(two_dirs, xo_client):
    """XO's connector (tests/xo/pool.mjs) on the master's plain HTTP: one
    pool with both hosts and every VM; it starts two of the member's VMs
    through the master (VM.start, VM.start_on naming the member's host,
    Async with their tasks watched, as XO does) and sees them running on
    the member through event.from; a rename made on the member's own Unix
    socket reaches it the same way."""
    import json
    import os
    import subprocess
    pool = joined_pool(two_dirs)
    try:
        p, s = pool.master.login()
        mp, ms = pool.member.login(pool.member.unix_proxy())
        a, b = member_vm(pool), member_vm(pool)
        own = new_vm(p, s, name_label="the master's")
        uuid = {v: ok(p.VM.get_uuid(s, v)) for v in (a, b, own)}
        host = ok(mp.host.get_uuid(ms, pool.mhost))
        master_host = ok(p.host.get_uuid(s, ok(p.pool.get_master(s, ok(p.pool.get_all(s))[0]))))
        node = subprocess.Popen(
            ["node", os.path.join(os.path.dirname(xo_client), "pool.mjs"),
             pool.master.url.rstrip("/"), PASSWORD, uuid[b], "renamed on the member",
             "start:" + uuid[a], "start_on:%s:%s" % (uuid[b], host)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            seen = json.loads(node.stdout.readline() or '{"error": "no output"}')
            assert "error" not in seen, seen
            assert set(seen["hosts"]) == {master_host, host}, seen
            assert {u: v["power_state"] for u, v in seen["vms"].items()} == \
                {u: "Halted" for u in uuid.values()}, seen
            started = json.loads(node.stdout.readline() or '{"error": "no output"}')
            assert started == {"started": {
                uuid[v]: {"power_state": "Running", "resident_on": host} for v in (a, b)}}, \
                started
            assert [ok(mp.VM.get_power_state(ms, v)) for v in (a, b)] == ["Running"] * 2
            ok(mp.VM.set_name_label(ms, b, "renamed on the member"))
            assert json.loads(node.stdout.readline() or '{"error": "no output"}') == \
                {"renamed": True}
            assert node.wait(30) == 0
        finally:
            if node.poll() is None:
                node.kill()
            node.wait()
    finally:
        stop_checked(pool)


def test_no_call_forwarded_to_a_channel_before_its_hello(two_dirs, tmp_path):
    """A member that reconnects (a new channel replaces its old one) has a
    new session only once its hello is taken: a call made on the master in
    between must not go down the new channel in the old channel's session
    (a real member drops calls that come before its hello's answer: the
    client would wait an hour).  It fails at once (CANNOT_CONTACT_HOST, as
    XAPI's for a member it cannot reach) and is forwarded again after the
    hello, in the new session.  The member is played by the test, so the
    window between the 101 and the hello stays open as long as it needs."""
    import json
    import select
    import threading
    from test_pool_mirror import FakeMember

    pool = Pool(*two_dirs)
    try:
        uuid = "6f1c0d2e-1b2a-4c3d-8e9f-0a1b2c3d4e60"
        href = "OpaqueRef:6f1c0d2e-1b2a-4c3d-8e9f-000000000a60"
        vm = "OpaqueRef:6f1c0d2e-1b2a-4c3d-8e9f-000000000b60"
        epoch = "9b2d4c1e-0f6a-4781-8000-000000000060"

        def hello(fake, session):
            r = fake.call("xbpool.hello", {"host_uuid": uuid, "host": href, "epoch": epoch,
                                           "session": session})
            assert "result" in r, r
            return r

        fake = FakeMember(pool, tmp_path, token(pool.master), uuid)
        hello(fake, "OpaqueRef:old-session")
        r = fake.call("xbpool.sync", {
            "epoch": epoch, "full": True, "last": True, "complete": 1, "objects": [
                {"class": "host", "ref": href, "record": {"uuid": uuid, "name_label": "fake"}},
                {"class": "VM", "ref": vm, "record": {
                    "uuid": "6f1c0d2e-1b2a-4c3d-8e9f-000000000b60", "name_label": "its VM",
                    "power_state": "Halted"}}]})
        assert r["result"]["rejected"] == [], r
        p, s = pool.master.login()
        assert vm in ok(p.VM.get_all(s))

        def start_in_thread():
            out = {}

            def run():
                pp, ss = pool.master.login()
                out["r"] = pp.VM.start(ss, vm, False, False)
            t = threading.Thread(target=run, daemon=True)
            t.start()
            return t, out

        def forwarded(f, session):
            """The call as f receives it; answered with success."""
            msg = f.recv()
            assert msg and msg.get("method") == "VM.start", msg
            assert msg["params"][0] == session, msg
            f.send({"jsonrpc": "2.0", "result": "", "id": msg["id"]})

        # connected and greeted: forwarded in its session
        t, out = start_in_thread()
        forwarded(fake, "OpaqueRef:old-session")
        t.join(30)
        assert out.get("r", {}).get("Status") == "Success", out

        # a new channel (the member reconnects), its hello not sent yet:
        # the old channel is closed, and the call on the master must not
        # reach the new one
        fake2 = FakeMember(pool, tmp_path, "", uuid)
        t, out = start_in_thread()
        got = None
        while t.is_alive() and got is None:
            # whichever comes first: the client's answer, or a message
            # here (one frame at a time: a ping is not one)
            if fake2.s.pending() or select.select([fake2.s], [], [], 0.1)[0]:
                b0, b1 = fake2.recv_exact(2)
                n = b1 & 0x7f
                if n >= 126:
                    n = int.from_bytes(fake2.recv_exact(2 if n == 126 else 8), "big")
                payload = fake2.recv_exact(n)
                if b0 & 0x0f == 1:
                    got = json.loads(payload)
        assert got is None, "forwarded before the channel's hello: %s" % got
        assert out["r"]["ErrorDescription"][0] == "CANNOT_CONTACT_HOST", out
        # after the hello: forwarded again, in the new session
        hello(fake2, "OpaqueRef:new-session")
        t, out = start_in_thread()
        forwarded(fake2, "OpaqueRef:new-session")
        t.join(30)
        assert out.get("r", {}).get("Status") == "Success", out
    finally:
        assert pool.master.stop() == 0      # no member daemon here
        log = pool.master.read_log()
        assert "ERROR: AddressSanitizer" not in log and "runtime error" not in log, log
