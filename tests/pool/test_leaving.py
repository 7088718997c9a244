"""Leaving the pool across the namespaces (docs/POOL.md 3.7, 5.7): the
master ejects a member behind the NAT, which it cannot connect to (the
call goes down the member's own channel), and forgets an offline member
with host.destroy.  Each member joins a master of this module's own
topology."""
import pytest

from hosts import DEAD_AFTER, Host, Master, member_conf, ok, wait_for


@pytest.fixture(scope="module")
def master(topology):
    return topology.host(Master, "master", "pool_dead_after = %d\n" % DEAD_AFTER).start()


def vm_record(name):
    mib256 = str(256 << 20)
    return {"name_label": name, "PV_kernel": "/boot/vmlinuz", "VCPUs_max": "1",
            "VCPUs_at_startup": "1", "memory_static_max": mib256,
            "memory_dynamic_max": mib256, "memory_dynamic_min": mib256,
            "memory_static_min": mib256, "is_a_template": False}


def joined(master, topology, role, name):
    """A member in role's namespace, joined with a token; (host, its VM
    running, the master's ref of its host)."""
    tok = master.token(name)
    h = topology.host(Host, role, member_conf(master.addr, master.fingerprint(),
                                              "pool_token = %s\n" % tok), name=name)
    h.start()
    wait_for(lambda: "XENBOX-POOL joined pool" in h.read_log(), 60, what=lambda: h.read_log())
    p, s = h.api()
    vm = ok(p.VM.create(s, vm_record("guest-of-" + name)))
    ok(p.VM.start(s, vm, False, False))
    mp, ms = master.api()
    uuid = h.host_uuid()
    wait_for(lambda: vm in ok(mp.VM.get_all(ms)), 30, what="the master shows the VM")
    href = [r for r, x in ok(mp.host.get_all_records(ms)).items() if x["uuid"] == uuid][0]
    return h, vm, href


def test_eject_behind_the_nat_leaves_the_guest_running(master, topology):
    h, vm, href = joined(master, topology, "member-b", "ejected")
    mp, ms = master.api()
    ok(mp.pool.eject(ms, href))
    # the master forgot it: its host and guest are gone from the pool
    assert href not in ok(mp.host.get_all(ms)) and vm not in ok(mp.VM.get_all(ms))
    assert master.members() == {}
    wait_for(lambda: "XENBOX-POOL ejected from pool" in h.read_log(), 30,
             what=lambda: h.read_log())
    # standalone, guest running: its own logins over the network again
    p, s = h.api()
    assert ok(p.VM.get_power_state(s, vm)) == "Running"
    r = h.https_login()
    assert r["Status"] == "Success", r


def test_host_destroy_forgets_an_offline_member(master, topology):
    h, vm, href = joined(master, topology, "member-a", "destroyed")
    mp, ms = master.api()
    r = mp.host.destroy(ms, href)
    assert r["ErrorDescription"] == ["HOST_IS_LIVE", href], r
    assert h.stop() == 0                # its goodbye: offline at once
    wait_for(lambda: mp.host.destroy(ms, href)["Status"] == "Success", 30,
             what="host.destroy once the member is offline")
    assert href not in ok(mp.host.get_all(ms)) and vm not in ok(mp.VM.get_all(ms))
    # back, it is refused (revoked) and keeps its guest and local API
    mark = len(h.read_log())
    h.start()
    refused = "the master refused: 403 POOL_MEMBER_REVOKED %s" % h.host_uuid()
    wait_for(lambda: refused in h.read_log()[mark:], 60, what=lambda: h.read_log()[mark:])
    p, s = h.api()
    assert ok(p.VM.get_name_label(s, vm)) == "guest-of-destroyed"
