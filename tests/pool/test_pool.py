"""A pool in network namespaces (docs/POOL.md 12): a master, member-a on
its LAN (joined by token) and member-b behind the NAT (joined by
password), all from their xenbox.conf.  The tests share the pool of the
module and each leaves it as it found it (both members connected and
live); they run in file order and the secrets check comes last, over
every log the others made."""
import json
import os
import shutil
import subprocess

import pytest

from hosts import DEAD_AFTER, PASSWORD, TOP, ok, secrets_in, wait_for
from topology import ADDR


def needs_mirror(pool):
    """The master shows its members' hosts (the mirror, stage 4)."""
    p, s = pool.master.api()
    seen = {r["uuid"] for r in ok(p.host.get_all_records(s)).values()}
    assert set(pool.uuid.values()) <= seen, "the master does not show every member's host"


def vm_record(name):
    mib256 = str(256 << 20)
    return {"name_label": name, "PV_kernel": "/boot/vmlinuz", "VCPUs_max": "1",
            "VCPUs_at_startup": "1", "memory_static_max": mib256,
            "memory_dynamic_max": mib256, "memory_dynamic_min": mib256,
            "memory_static_min": mib256, "is_a_template": False}


def both_online(pool):
    """Wait until the master has both members connected and live."""
    def online():
        mb = pool.master.members()
        return all(mb.get(u, "").startswith("connected, live,") for u in pool.uuid.values())
    wait_for(online, 60, what=lambda: "both members online: %s" % pool.master.members())


def since(host, offset):
    return host.read_log()[offset:]


def test_both_join_from_config(pool):
    m, a, b = pool.master, pool.a, pool.b
    tid = pool.token[5:21]
    assert "XENBOX-POOL joining %s with token %s" % (m.addr, tid) in a.read_log()
    assert "XENBOX-POOL joining %s:443 with the password of root" % m.addr in b.read_log()
    mb = m.members()
    assert set(mb) == set(pool.uuid.values()), mb
    assert mb[pool.uuid["member-a"]] == "connected, live, joined by token:%s, peer %s" % (
        tid, ADDR["member-a"])
    # behind the NAT: the master sees the router's address
    assert mb[pool.uuid["member-b"]] == "connected, live, joined by password, peer %s" % (
        ADDR["router"])
    p, s = m.api()
    assert [t["uses_left"] for t in ok(p.pool.get_join_tokens(s))] == ["0"]
    for h, conf in ((a, m.addr), (b, m.addr + ":443")):
        st = h.status()
        assert st.get("state") == "online" and st.get("master") == conf, st
        # over the network a member sends clients to its master (XAPI's
        # HOST_IS_SLAVE); its Unix socket serves local root
        r = h.https_login()
        assert r["Status"] == "Failure" and r["ErrorDescription"] == ["HOST_IS_SLAVE",
                                                                      m.addr], r
        h.api()


def test_member_restart_comes_back_as_itself(pool):
    """A reboot: the same xenbox.conf (the spent token still on the
    stick), the same host, no second pool_member, no credential sent."""
    m = pool.master
    rows = {r["host_uuid"]: r for r in m.member_rows()}
    for h in (pool.a, pool.b):
        mark = len(h.read_log())
        assert h.restart() == 0
        wait_for(lambda: "XENBOX-POOL connected to the master" in since(h, mark), 60,
                 what=lambda: "%s reconnects:\n%s" % (h.name, since(h, mark)))
        new = since(h, mark)
        assert "XENBOX-POOL connecting to the master" in new, new
        assert "joining" not in new and "refused" not in new, new
        assert h.host_uuid() == pool.uuid[h.name]
    both_online(pool)
    after = {r["host_uuid"]: r for r in m.member_rows()}
    keep = ("uuid", "cert_sha256", "joined_by", "joined", "state")
    assert {u: [r[k] for k in keep] for u, r in after.items()} == \
        {u: [r[k] for k in keep] for u, r in rows.items()}


def test_master_killed_members_carry_on(pool):
    """kill -9 of the master: each member says it lost the master, keeps
    serving its Unix socket and its HTTPS listener, takes local changes
    and runs its guests; the master back, both reconnect by themselves."""
    m = pool.master
    marks = {h.name: len(h.read_log()) for h in (pool.a, pool.b)}
    assert m.stop(9) == -9
    vms = {}
    for h in (pool.a, pool.b):
        wait_for(lambda: "XENBOX-POOL error: lost the master" in since(h, marks[h.name]), 30,
                 what=lambda: "%s notices:\n%s" % (h.name, since(h, marks[h.name])))
        p, s = h.api()
        vm = ok(p.VM.create(s, vm_record("made-while-away")))
        ok(p.VM.start(s, vm, False, False))
        ok(p.VM.set_name_label(s, vm, "changed-while-away"))
        vms[h.name] = vm
        r = h.https_login()
        assert r["Status"] == "Failure" and r["ErrorDescription"] == ["HOST_IS_SLAVE",
                                                                      m.addr], r
    m.start()
    for h in (pool.a, pool.b):
        wait_for(lambda: "XENBOX-POOL connected to the master" in since(h, marks[h.name]), 60,
                 what=lambda: "%s reconnects:\n%s" % (h.name, since(h, marks[h.name])))
    both_online(pool)
    assert len(m.member_rows()) == 2
    for h in (pool.a, pool.b):
        p, s = h.api()
        rec = ok(p.VM.get_record(s, vms[h.name]))
        assert (rec["power_state"], rec["name_label"]) == ("Running", "changed-while-away")


def test_master_shows_changes_made_while_away(pool):
    """The issue's "the master returns and shows the change"."""
    needs_mirror(pool)
    m = pool.master
    assert m.stop(9) == -9
    p, s = pool.b.api()
    vm = ok(p.VM.create(s, vm_record("behind-nat-while-away")))
    uuid = ok(p.VM.get_uuid(s, vm))
    m.start()
    both_online(pool)
    mp, ms = m.api()

    def shown():
        recs = ok(mp.VM.get_all_records(ms))
        return [r for r in recs.values() if r["uuid"] == uuid]
    got = wait_for(shown, 30, what="the master shows member-b's new VM")
    assert len(got) == 1 and got[0]["name_label"] == "behind-nat-while-away"
    hosts = [r["uuid"] for r in ok(mp.host.get_all_records(ms)).values()]
    assert sorted(hosts) == sorted(set(hosts)) and set(pool.uuid.values()) <= set(hosts)


def test_member_b_cut_off_then_back(pool, topology):
    """member-b's link cut at the router: after pool_dead_after the
    master marks it offline with a HOST_OFFLINE message (member-a stays
    live) and a call on member-b's VM fails there with HOST_OFFLINE;
    member-b keeps serving locally; the link back, it reconnects as
    itself, the master says HOST_ONLINE and forwards to it again."""
    m, b = pool.master, pool.b
    ua, ub = pool.uuid["member-a"], pool.uuid["member-b"]
    n_off, n_on = len(m.messages("HOST_OFFLINE", ub)), len(m.messages("HOST_ONLINE", ub))
    n_off_a = len(m.messages("HOST_OFFLINE", ua))
    rows = sorted((r["host_uuid"], r["cert_sha256"]) for r in m.member_rows())
    # a VM of member-b's, which calls on the master go to (forwarded)
    p, s = b.api()
    vm = ok(p.VM.create(s, vm_record("behind-nat-forwarded")))
    mp, ms = m.api()
    wait_for(lambda: vm in ok(mp.VM.get_all(ms)), 30, what="the master shows member-b's VM")
    href = [r for r, h in ok(mp.host.get_all_records(ms)).items() if h["uuid"] == ub][0]
    mark = len(b.read_log())
    topology.cut(False)
    try:
        off = wait_for(lambda: m.messages("HOST_OFFLINE", ub)[n_off:], 30,
                       what="HOST_OFFLINE for member-b")
        assert len(off) == 1 and off[0]["body"] == "%s: no contact for %d s" % (ub, DEAD_AFTER)
        assert off[0]["cls"] == "Host" and off[0]["priority"] == "3", off[0]
        mb = m.members()
        assert mb[ub].startswith("not connected, offline,"), mb
        assert mb[ua].startswith("connected, live,"), mb
        assert len(m.messages("HOST_OFFLINE", ua)) == n_off_a
        # its side: the master went silent; local root is served
        wait_for(lambda: "XENBOX-POOL error: lost the master %s:443: heartbeat timeout"
                 % m.addr in since(b, mark), 30, what=lambda: since(b, mark))
        p, s = b.api()
        ok(p.VM.get_all(s))
        # what the master would forward to it fails at once (5.4)
        r = mp.VM.start(ms, vm, False, False)
        assert r["ErrorDescription"] == ["HOST_OFFLINE", href], r
    finally:
        topology.cut(True)
    on = wait_for(lambda: m.messages("HOST_ONLINE", ub)[n_on:], 90,
                  what=lambda: "HOST_ONLINE for member-b:\n%s" % since(b, mark))
    assert len(on) == 1 and on[0]["body"] == "%s: connected" % ub
    both_online(pool)
    assert m.members()[ub] == "connected, live, joined by password, peer %s" % ADDR["router"]
    assert sorted((r["host_uuid"], r["cert_sha256"]) for r in m.member_rows()) == rows
    assert "XENBOX-POOL connected to the master" in since(b, mark)
    # live again means greeted: the master's calls reach it through the NAT
    ok(mp.VM.set_name_label(ms, vm, "forwarded-after-the-cut"))
    assert ok(p.VM.get_name_label(s, vm)) == "forwarded-after-the-cut"


def xo_script():
    """tests/xo/pool.mjs, with npm xen-api installed as tests/xo pins it."""
    xo = os.path.join(TOP, "tests", "xo")
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node/npm not installed (support/deps.sh installs them)")
    if not os.path.isdir(os.path.join(xo, "node_modules", "xen-api")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=xo, check=True, timeout=600)
    return os.path.join(xo, "pool.mjs")


def guests(host):
    """{uuid: name_label} of the VMs host itself has (no templates, no dom0)."""
    p, s = host.api()
    return {r["uuid"]: r["name_label"] for r in ok(p.VM.get_all_records(s)).values()
            if not r["is_a_template"] and not r["is_control_domain"]}


def test_xen_orchestra_on_the_master_sees_every_host_and_vm(pool, topology):
    """XO's connector in the client namespace, connected to the master
    only: one pool with the three hosts and every VM of each; it starts a
    VM on each member (VM.start of member-a's, VM.start_on naming
    member-b's host, as XO does: Async calls, tasks watched through
    events) and sees each running there through the master's events; a VM
    renamed on member-b (behind the NAT) reaches it the same way."""
    needs_mirror(pool)
    script = xo_script()
    vms = {}
    for h in (pool.a, pool.b):
        p, s = h.api()
        vms[h.name] = ok(p.VM.get_uuid(s, ok(p.VM.create(s, vm_record("xo-" + h.name)))))
    every, owner = {}, {}
    for h in (pool.master, pool.a, pool.b):
        every.update(guests(h))
        owner.update(dict.fromkeys(guests(h), h.host_uuid()))
    wait_for(lambda: guests(pool.master) == every, 30,
             what=lambda: "the master shows every VM: %s, not %s" % (every, guests(pool.master)))
    node = subprocess.Popen(topology["client"].exec_argv(
        "node", script, "https://" + pool.master.addr, PASSWORD, vms["member-b"],
        "renamed-behind-nat", "start:" + vms["member-a"],
        "start_on:%s:%s" % (vms["member-b"], pool.uuid["member-b"])),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = json.loads(node.stdout.readline() or '{"error": "no output"}')
        assert "error" not in seen, seen
        assert set(seen["hosts"]) == {pool.master.host_uuid(), *pool.uuid.values()}, seen
        assert {u: v["name_label"] for u, v in seen["vms"].items()} == every, seen
        for uuid, v in seen["vms"].items():   # those running: on their own host
            assert v["resident_on"] == (owner[uuid] if v["power_state"] == "Running"
                                        else None), (uuid, seen)
        for name, uuid in vms.items():
            assert seen["vms"][uuid]["power_state"] == "Halted", seen
        started = json.loads(node.stdout.readline() or '{"error": "no output"}')
        assert started == {"started": {
            vms[n]: {"power_state": "Running", "resident_on": pool.uuid[n]}
            for n in ("member-a", "member-b")}}, started
        # each started on its own member, as the member itself says
        for h in (pool.a, pool.b):
            p, s = h.api()
            assert ok(p.VM.get_power_state(s, ok(p.VM.get_by_uuid(s, vms[h.name])))) == \
                "Running"
        p, s = pool.b.api()
        ok(p.VM.set_name_label(s, ok(p.VM.get_by_uuid(s, vms["member-b"])),
                               "renamed-behind-nat"))
        assert json.loads(node.stdout.readline() or '{"error": "no output"}') == \
            {"renamed": True}
        assert node.wait(30) == 0
    finally:
        if node.poll() is None:
            node.kill()
        node.wait()


def test_secrets_never_in_any_log(pool):
    """Last: over everything the tests above made the daemons write."""
    assert secrets_in((pool.master, pool.a, pool.b), pool.token[22:], PASSWORD) == []
