"""Pools, stage 7 (docs/POOL.md 7): the stats relay.  A member behind NAT
cannot be reached by Xen Orchestra, which fetches /rrd_updates (and
/host_rrd, /vm_rrd) from each host's host.address.  With
pool_relay_domain = relay.test on the master, a member's host.address is
<its host uuid>.relay.test (a wildcard name that leads to the master),
and the master sends GETs whose Host: names it down the member's channel
(xbpool.http_get); the member answers with its own local GET's status,
type and body.  Two daemons on loopback; the Host: header is set by the
test, so no name is resolved."""
import base64
import json
import time

from conftest import PASSWORD, ok
from test_api import new_vm
from test_pool_chan import Pool, token, two_dirs, wait_for  # noqa: F401 (fixture)

DOMAIN = "relay.test"


def relay_pool(two_dirs, mextra="pool_relay_domain = %s\n" % DOMAIN):
    pool = Pool(*two_dirs, mextra=mextra)
    pool.start_member("pool_token = %s\n" % token(pool.master))
    assert wait_for(lambda: "XENBOX-POOL joined pool" in pool.member.read_log(),
                    timeout=30), pool.member.read_log()
    mp, ms = pool.member.login(pool.member.unix_proxy())
    pool.mhost = ok(mp.host.get_all(ms))[0]
    pool.muuid = ok(mp.host.get_uuid(ms, pool.mhost))
    p, s = pool.master.login()
    assert wait_for(lambda: pool.mhost in ok(p.host.get_all(s))), pool.master.read_log()
    return pool


def get(daemon, path, host, headers=None):
    return daemon.raw("GET", path, headers=dict(headers or {}, Host=host))


def updates(pool, s, host, extra=""):
    return get(pool.master, "/rrd_updates?session_id=%s&start=-600&cf=AVERAGE&host=true"
               "&interval=5&json=true%s" % (s, extra), host)


def stop_checked(pool):
    assert pool.stop() == (0, 0)


def test_members_stats_through_the_master(two_dirs):
    pool = relay_pool(two_dirs)
    try:
        p, s = pool.master.login()
        name = "%s.%s" % (pool.muuid, DOMAIN)
        # 7.2: the member's host.address is its relay name
        assert wait_for(lambda: ok(p.host.get_address(s, pool.mhost)) == name), \
            ok(p.host.get_record(s, pool.mhost))
        master_host = ok(p.pool.get_master(s, ok(p.pool.get_all(s))[0]))
        assert ok(p.host.get_address(s, master_host)) != name

        # the member's own rrd_updates, relayed: its host's columns, not
        # the master's (Host: with a port and in upper case: the same)
        key = "AVERAGE:host:%s:cpu_avg" % pool.muuid

        def member_rows():
            r, data = updates(pool, s, name.upper() + ":443")
            assert r.status == 200, data
            assert r.getheader("Content-Type") == "application/json"
            u = json.loads(data)
            return u if u["data"] and key in u["meta"]["legend"] else None
        u = wait_for(member_rows, timeout=40)
        assert u, updates(pool, s, name)
        master_uuid = ok(p.host.get_uuid(s, master_host))
        assert not any(master_uuid in k for k in u["meta"]["legend"]), u["meta"]["legend"]
        # the same GET by the master's own name: the master's stats
        r, data = pool.master.raw("GET", "/rrd_updates?session_id=%s&start=-600&cf=AVERAGE"
                                  "&host=true&interval=5&json=true" % s)
        assert r.status == 200 and pool.muuid not in data.decode()

        # /host_rrd relayed, with Basic credentials instead of a session
        auth = {"Authorization": "Basic " + base64.b64encode(
            b"root:" + PASSWORD.encode()).decode()}
        r, data = get(pool.master, "/host_rrd", name, auth)
        assert r.status == 200 and r.getheader("Content-Type") == "text/xml", data
        assert data.startswith(b"<?xml") or b"<rrd>" in data, data[:200]

        # credentials as any route of the master: none, unknown, or the
        # member's own session (not the master's) are refused, and the
        # member is never asked
        mp, ms = pool.member.login(pool.member.unix_proxy())
        for q in ("", "session_id=OpaqueRef:nope&", "session_id=%s&" % ms):
            r, _ = get(pool.master, "/rrd_updates?%sstart=-60&host=true" % q, name)
            assert r.status == 401, q
            assert r.getheader("WWW-Authenticate") == 'Basic realm="get_rrd_updates"'
        # a path the relay does not carry; an unknown host under the domain
        r, _ = get(pool.master, "/xmlrpc?session_id=%s" % s, name)
        assert r.status == 403
        r, data = get(pool.master, "/host_rrd?session_id=%s" % s,
                      "00000000-0000-4000-8000-000000000000." + DOMAIN)
        assert r.status == 404 and b"no host" in data, data
        r, data = get(pool.master, "/host_rrd?session_id=%s" % s, "www." + DOMAIN)
        assert r.status == 404, data
        # the master's own uuid under the domain: served by the master
        r, data = get(pool.master, "/host_rrd?session_id=%s" % s,
                      "%s.%s" % (master_uuid, DOMAIN))
        assert r.status == 200 and pool.muuid.encode() not in data
    finally:
        stop_checked(pool)


def test_task_id_vm_rrd_console_and_offline(two_dirs):
    pool = relay_pool(two_dirs)
    try:
        p, s = pool.master.login()
        name = "%s.%s" % (pool.muuid, DOMAIN)
        # ?task_id= (XO's own task on the master) completes with the
        # relayed answer: success for a 200, failure with the status else
        t = ok(p.task.create(s, "Xapi#getResource /rrd_updates", ""))
        r, data = updates(pool, s, name, "&task_id=" + t)
        assert r.status == 200, data
        rec = ok(p.task.get_record(s, t))
        assert rec["status"] == "success" and rec["progress"] == 1.0, rec
        t = ok(p.task.create(s, "xo", ""))
        r, _ = get(pool.master, "/vm_rrd?session_id=%s&uuid=nope&task_id=%s" % (s, t), name)
        assert r.status == 404
        rec = ok(p.task.get_record(s, t))
        assert rec["status"] == "failure" and "404" in rec["error_info"][1], rec
        # without credentials the task is not touched
        t = ok(p.task.create(s, "xo", ""))
        r, _ = get(pool.master, "/rrd_updates?start=-60&task_id=" + t, name)
        assert r.status == 401 and ok(p.task.get_status(s, t)) == "pending"

        # a member's VM: its console's location is the relay name (7.4),
        # and /vm_rrd asked of the master by its own name is relayed to
        # the VM's owner
        mp, ms = pool.member.login(pool.member.unix_proxy())
        vm = new_vm(mp, ms)
        ok(mp.VM.start(ms, vm, False, False))
        vm_uuid = ok(mp.VM.get_uuid(ms, vm))

        def console():
            cons = ok(p.VM.get_consoles(s, vm)) if vm in ok(p.VM.get_all(s)) else []
            return cons and ok(p.console.get_location(s, cons[0]))
        loc = wait_for(console)
        assert loc and loc.startswith("https://%s/console?" % name), loc
        # on the member: its own address (or relative when it has none)
        mloc = ok(mp.console.get_location(ms, ok(mp.VM.get_consoles(ms, vm))[0]))
        maddr = ok(mp.host.get_address(ms, ok(mp.session.get_this_host(ms, ms))))
        assert mloc.startswith("https://%s/console?uuid=" % maddr if maddr else "/console?"), \
            (mloc, maddr)

        def vm_rrd():
            r, data = pool.master.raw("GET", "/vm_rrd?session_id=%s&uuid=%s" % (s, vm_uuid))
            return r.status == 200 and data
        data = wait_for(vm_rrd, timeout=40)
        assert data and b"<rrd>" in data, data
        r, data = get(pool.master, "/vm_rrd?session_id=%s&uuid=%s" % (s, vm_uuid), name)
        assert r.status == 200 and b"<rrd>" in data

        # the member gone: a clear error at once, not a wait
        assert pool.member.stop() == 0
        t0 = time.time()
        r, data = updates(pool, s, name)
        assert r.status == 503, data
        assert b"not connected" in data, data
        assert time.time() - t0 < 30
    finally:
        stop_checked(pool)


def test_without_a_relay_domain(two_dirs):
    """7.2's fallback: the member's host.address is the master's own (never
    the member's, which may be a private address), one
    POOL_MEMBER_STATS_UNREACHABLE message for the pool (not one per
    member: docs/POOL.md 7.5) says why, and nothing is relayed by Host:."""
    pool = relay_pool(two_dirs, mextra="")
    try:
        p, s = pool.master.login()
        pref = ok(p.pool.get_all(s))[0]
        master_host = ok(p.pool.get_master(s, pref))
        assert ok(p.host.get_address(s, pool.mhost)) == ok(p.host.get_address(s, master_host))
        msgs = [m for m in ok(p.message.get_all_records(s)).values()
                if m["name"] == "POOL_MEMBER_STATS_UNREACHABLE"]
        assert len(msgs) == 1, msgs
        assert msgs[0]["cls"] == "Pool" and msgs[0]["obj_uuid"] == ok(p.pool.get_uuid(s, pref))
        assert "pool_relay_domain" in msgs[0]["body"] and "1 member " in msgs[0]["body"]
        r, data = get(pool.master, "/host_rrd?session_id=%s" % s,
                      "%s.%s" % (pool.muuid, DOMAIN))
        assert r.status == 200 and pool.muuid.encode() not in data
    finally:
        stop_checked(pool)


def test_pipelined_and_abandoned_relayed_gets(two_dirs):
    """A relayed GET waits as a call: the requests behind it on its
    connection are answered after it, in order; a client that goes away
    while it waits leaves nothing behind (the member's answer is dropped)
    and the master serves the next one."""
    import socket
    pool = relay_pool(two_dirs)
    try:
        p, s = pool.master.login()
        name = "%s.%s" % (pool.muuid, DOMAIN)
        req = lambda path, host: ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode()
        for _ in range(3):      # gone at once, while the member is asked
            c = socket.create_connection(("127.0.0.1", pool.master.port))
            c.sendall(req("/host_rrd?session_id=" + s, name))
            c.close()
        c = socket.create_connection(("127.0.0.1", pool.master.port), timeout=30)
        c.sendall(req("/host_rrd?session_id=" + s, name) + req("/", "127.0.0.1") +
                  req("/vm_rrd?session_id=%s&uuid=nope" % s, name))
        f = c.makefile("rb")
        statuses = []
        for _ in range(3):
            line = f.readline()
            statuses.append(int(line.split()[1]))
            length = 0
            while True:
                h = f.readline()
                if h in (b"\r\n", b""):
                    break
                if h.lower().startswith(b"content-length:"):
                    length = int(h.split(b":")[1])
            body = f.read(length)
            if len(statuses) == 1:
                assert b"<rrd>" in body, body[:200]
        c.close()
        assert statuses == [200, 200, 404]
    finally:
        stop_checked(pool)
