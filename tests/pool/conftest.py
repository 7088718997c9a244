"""The pool suite (docs/POOL.md 12, stage 6): real daemons (sim backend)
in network namespaces the fixtures make and remove, one network per test
module (tests/pool/topology.py), a master and members joining from their
xenbox.conf (tests/pool/hosts.py).

Needs root, ip(8) and nft(8) (support/deps.sh: iproute2, nftables); without them the tests skip,
which under CI=true is a failure (tests/lib/ci_skips.py).  XENBOX names
the binary (default: the host ASan build in output/check)."""
import atexit
import os
import signal
import sys
from types import SimpleNamespace

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
import ci_skips  # noqa: E402
import netns  # noqa: E402



def pytest_configure(config):
    ci_skips.register(config)       # CI=true: a skip fails


def _on_term(signum, frame):
    # SIGTERM (check.sh stopped, a CI timeout): unwind, so that the
    # fixtures' finally and atexit remove the namespaces and daemons
    raise KeyboardInterrupt("SIGTERM")


@pytest.fixture(scope="module")
def topology():
    """The namespaces of tests/pool/topology.py, built for this module; at
    the end every daemon made with topology.host() is stopped (its exit
    status and sanitizer reports checked) and every namespace removed,
    also when a test or the build failed."""
    from topology import Topology, existing
    from hosts import xenbox
    netns.require("nft")
    if not os.access(xenbox(), os.X_OK):
        pytest.fail("%s is missing: build it first (make host-xenbox), or set XENBOX"
                    % xenbox())
    f = Topology()
    f.hosts = []

    def host(cls, role, conf="", name=None):
        h = cls(f, role, conf, name)
        f.hosts.append(h)
        return h

    def cleanup():
        for h in f.hosts:
            h.remove()
        f.hosts = []
        f.destroy()

    f.host = host
    old = signal.signal(signal.SIGTERM, _on_term)
    atexit.register(cleanup)
    problems = []
    try:
        f.build()
        yield f
        for h in f.hosts:
            rc = h.stop()
            if rc not in (0, None):
                problems.append("%s exited %s:\n%s" % (h.name, rc, h.read_log()[-4000:]))
            if h.sanitizer_reports():
                problems.append("%s: %s\n%s" % (h.name, h.sanitizer_reports(), h.read_log()))
    finally:
        cleanup()
        atexit.unregister(cleanup)
        signal.signal(signal.SIGTERM, old)
    assert not existing(), "namespaces left behind: %s" % existing()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def pool(topology):
    """A master (pool_dead_after 3 s) and two members that joined from
    their xenbox.conf: member-a on the master's LAN with a join token
    (made with `xenbox pool token create`), member-b behind the NAT with
    root's password.  Both lines stay on the stick, as in the field."""
    from hosts import DEAD_AFTER, PASSWORD, Master, Host, member_conf, wait_for
    master = topology.host(Master, "master", "pool_dead_after = %d\n" % DEAD_AFTER).start()
    fp = master.fingerprint()
    token = master.token("member-a")
    a = topology.host(Host, "member-a", member_conf(master.addr, fp, "pool_token = %s\n" % token))
    b = topology.host(Host, "member-b", member_conf(
        master.addr + ":443", fp, "pool_username = root\npool_password = %s\n" % PASSWORD))
    a.start()
    b.start()
    for m in (a, b):
        wait_for(lambda: "XENBOX-POOL joined pool" in m.read_log(), 60,
                 what="%s joins:\n%s" % (m.name, m.read_log()))
    return SimpleNamespace(master=master, a=a, b=b, fp=fp, token=token,
                           uuid={m.name: m.host_uuid() for m in (a, b)})
