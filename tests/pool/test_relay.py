"""The stats relay in the pool's network (docs/POOL.md 7 and 12): XO's
connector (tests/xo/relay.mjs) in the client namespace, connected to the
master only, reads the stats of member-b, which is behind the NAT and
which the client cannot reach.  The master has pool_relay_domain =
relay.test, so member-b's host.address is <its uuid>.relay.test; the
client's /etc/hosts (/etc/netns/<client namespace>/hosts, which
`ip netns exec` binds over /etc/hosts) maps that name to the master, as a
wildcard DNS record would.  A module of its own (its own network): the
pool of test_pool.py has no relay domain."""
import json
import os
import shutil
import subprocess
from types import SimpleNamespace

import pytest

from hosts import PASSWORD, Master, Host, member_conf, ok, wait_for
from test_pool import xo_script
from topology import ADDR

DOMAIN = "relay.test"


@pytest.fixture(scope="module")
def relay_pool(topology):
    master = topology.host(Master, "master", "pool_relay_domain = %s\n" % DOMAIN).start()
    fp = master.fingerprint()
    b = topology.host(Host, "member-b", member_conf(
        master.addr, fp, "pool_token = %s\n" % master.token("member-b"))).start()
    wait_for(lambda: "XENBOX-POOL joined pool" in b.read_log(), 60,
             what=lambda: "member-b joins:\n%s" % b.read_log())
    return SimpleNamespace(master=master, b=b, uuid=b.host_uuid())


def test_xen_orchestra_reads_stats_of_a_member_behind_nat(relay_pool, topology):
    m, b, uuid = relay_pool.master, relay_pool.b, relay_pool.uuid
    name = "%s.%s" % (uuid, DOMAIN)
    p, s = m.api()
    href = ok(p.host.get_by_uuid(s, uuid))
    assert wait_for(lambda: ok(p.host.get_address(s, href)) == name, 30,
                    what=lambda: ok(p.host.get_record(s, href)))
    script = os.path.join(os.path.dirname(xo_script()), "relay.mjs")
    etc = "/etc/netns/%s" % topology["client"].name
    os.makedirs(etc)
    try:
        with open(os.path.join(etc, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n%s %s\n" % (ADDR["master"], name))
        key = "AVERAGE:host:%s:cpu_avg" % uuid

        def fetched():
            r = subprocess.run(topology["client"].exec_argv(
                "node", script, "https://" + m.addr, PASSWORD, uuid),
                capture_output=True, text=True, timeout=120)
            out = json.loads(r.stdout.splitlines()[-1] if r.stdout else '{"error": "none"}')
            assert "error" not in out, (out, r.stderr, m.read_log()[-3000:])
            return out if key in out["legend"] and out["rows"] else None
        out = wait_for(fetched, 90, step=2, what="member-b's stats through the relay")
        assert out["address"] == name
        assert out["task"] == "success", out
        assert not any(m.host_uuid() in k for k in out["legend"]), out["legend"]
    finally:
        shutil.rmtree(etc)
