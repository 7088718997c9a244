"""Hosts the master must not take (docs/POOL.md 2.2, 2.3, 3.7): one whose
xenbox.conf pins another fingerprint (it sends nothing, says why on the
console and runs standalone), and a revoked member.  The hosts here sit
behind the NAT or on the LAN beside a master of this module's own
topology."""
import pytest

from hosts import DEAD_AFTER, Host, Master, member_conf, ok, secrets_in, wait_for


@pytest.fixture(scope="module")
def master(topology):
    return topology.host(Master, "master", "pool_dead_after = %d\n" % DEAD_AFTER).start()


def test_wrong_fingerprint_refused_runs_standalone(master, topology):
    fp = master.fingerprint()
    bad = ":".join(["AB"] * 32)
    assert bad != fp
    tok = master.token("stray")
    h = topology.host(Host, "member-b", member_conf(master.addr, bad, "pool_token = %s\n" % tok),
                      name="stray")
    h.start()
    line = ("XENBOX-POOL error: %s presented pool certificate %s, xenbox.conf pins %s (not "
            "the HTTPS one: the master logs \"pool_fingerprint =\"); not connected; retry in "
            % (master.addr, fp, bad))
    wait_for(lambda: line in h.read_log(), 30, what=lambda: h.read_log())
    # nothing reached the pool: no Upgrade, no member, the token unspent
    assert "XENBOX-POOL" not in master.read_log()
    assert master.members() == {}
    p, s = master.api()
    assert [t["uses_left"] for t in ok(p.pool.get_join_tokens(s))] == ["1"]
    # standalone meanwhile: logins over the network are its own
    st = h.status()
    assert st["state"] in ("backoff", "connecting", "tls"), st
    assert st["last_error"].startswith("%s presented pool certificate" % master.addr), st
    r = h.https_login()
    assert r["Status"] == "Success", r
    assert secrets_in((master, h), tok[22:]) == []


def test_revoked_member_refused(master, topology):
    p, s = master.api()
    tok = master.token("to-revoke")
    h = topology.host(Host, "member-a", member_conf(master.addr, master.fingerprint(),
                                                    "pool_token = %s\n" % tok), name="revoked")
    h.start()
    wait_for(lambda: "XENBOX-POOL joined pool" in h.read_log(), 60, what=lambda: h.read_log())
    uuid = h.host_uuid()
    master.cli("revoke", uuid)              # docs/POOL.md 3.2: xenbox pool revoke HOST-UUID
    refused = "the master refused: 403 POOL_MEMBER_REVOKED %s" % uuid
    wait_for(lambda: refused in h.read_log(), 60, what=lambda: h.read_log())
    assert [r["state"] for r in master.member_rows() if r["host_uuid"] == uuid] == ["revoked"]
    # its mirror went with it: the master no longer shows its host
    assert uuid not in {r["uuid"] for r in ok(p.host.get_all_records(s)).values()}
    # a reboot does not bring it back; it keeps its guests and its local API
    mark = len(h.read_log())
    assert h.restart() == 0
    wait_for(lambda: refused in h.read_log()[mark:], 60, what=lambda: h.read_log()[mark:])
    assert not master.members().get(uuid, "").startswith("connected")
    hp, hs = h.api()
    ok(hp.VM.get_all(hs))
