"""Xen + our dom0 under QEMU, the daemon on the simulated backend: proves
the image boots on a real hypervisor (modules, xenfs, xenstored,
xenconsoled, the bridge, DHCP) and that XenAPI is reachable from the host
through QEMU's port forwarding.  The Xen backend has its own module
(test_xen_backend.py)."""
import http.client
import re
import ssl
import xmlrpc.client

import pytest

from qemu import boot, login, ok

MARKERS = ["XENBOX-INIT", "XENBOX-XEN-READY", "XENBOX-NET-READY", "XENBOX-READY"]


@pytest.fixture(scope="module")
def dom0(system_images, pwhash):
    q = boot(system_images, pwhash, "dom0-sim", "sim")
    yield q
    q.stop()


def test_boot_markers_in_order(dom0):
    out = dom0.output
    pos = [out.find(m) for m in MARKERS]
    assert all(p >= 0 for p in pos), list(zip(MARKERS, pos))
    assert pos == sorted(pos), list(zip(MARKERS, pos))
    assert "XENBOX-FAILED" not in out
    # Xen is the Debian hypervisor we pinned; dom0 is PV on it
    assert re.search(r"\(XEN\) Xen version 4\.17\.", out)
    assert "Booting kernel on Xen" in out or "Booting paravirtualized kernel on Xen" in out
    m = re.search(r"XENBOX-NET-READY xenbr0 (\S+)", out)
    assert m and m.group(1).startswith("10.0.2."), m


def test_dom0_is_privileged_on_real_xen(dom0):
    _, caps = dom0.run("cat /proc/xen/capabilities")
    assert "control_d" in caps
    _, out = dom0.run("ls /dev/xen")
    for dev in ("privcmd", "evtchn", "gntdev", "gntalloc", "xenbus"):
        assert dev in out, out
    _, ver = dom0.run("cat /sys/hypervisor/version/major /sys/hypervisor/version/minor")
    assert ver.split()[:2] == ["4", "17"], ver
    _, mods = dom0.run("cat /proc/modules")
    for m in ("xen_privcmd", "xenfs", "xen_netback", "xen_blkback", "bridge", "loop", "e1000"):
        assert re.search(r"^%s " % m, mods, re.M), (m, mods)


def test_daemons_and_dom0_xenstore_entries(dom0):
    _, ps = dom0.run("ps")
    for d in ("xenstored", "xenconsoled", "xenbox daemon"):
        assert d in ps, ps
    _, name = dom0.run("xenstore-read /local/domain/0/name")
    assert name.strip() == "Domain-0"
    _, domid = dom0.run("xenstore-read /local/domain/0/domid")
    assert domid.strip() == "0"
    _, pool = dom0.run("xenstore-read /local/pool/0/name")
    assert pool.strip() == "Pool-0"


def test_xenstore_watch_through_static_libxenstore(dom0):
    """Trap 1 of the static Xen tools: a watch must wake a poll() on
    xs_fileno() with nothing else reading the socket."""
    rc, out = dom0.run("/usr/lib/xenbox/tests/xs-watch-test /xenbox-test/watch",
                       timeout=60, check=False)
    assert rc == 0 and "XS-WATCH-OK" in out, out


def test_network_bridge(dom0):
    _, out = dom0.run("ls /sys/class/net/xenbr0/brif")
    assert "eth0" in out
    _, out = dom0.run("ip -4 addr show dev xenbr0")
    assert "inet 10.0.2." in out, out


def test_xenapi_login_host_and_dom0_over_hostfwd(dom0):
    p, s = login(dom0)
    hosts = ok(p.host.get_all_records(s))
    assert len(hosts) == 1
    href, host = next(iter(hosts.items()))
    assert host["name_label"] == "xenbox"       # /etc/hostname in rootfs/dom0
    assert host["enabled"] is True
    vms = ok(p.VM.get_all_records(s))
    ctrl = [v for v in vms.values() if v["is_control_domain"]]
    assert len(ctrl) == 1, vms
    d0 = ctrl[0]
    assert d0["power_state"] == "Running" and d0["domid"] == "0"
    assert d0["resident_on"] == href
    nets = ok(p.network.get_all_records(s))
    assert any(n["bridge"] == "xenbr0" for n in nets.values()), nets
    # a wrong password is refused
    r = p.session.login_with_password("root", "wrong", "1.0", "t")
    assert r["Status"] == "Failure"
    ok(p.session.logout(s))


def test_xe_link_on_the_default_socket(dom0):
    """dom0's `xe` (a link to xenbox-io, docs/XE.md) reaches the daemon on
    XAPI's socket path, /var/lib/xcp/xapi (rootfs/dom0/init points it at
    /run/xenbox/xapi.sock), as root without a password."""
    _, out = dom0.run("xe host-list params=name-label --minimal")
    assert out.split() == ["xenbox"], out
    _, out = dom0.run("xe vm-list is-control-domain=true params=power-state --minimal")
    assert out.split() == ["running"], out


def test_https_listener_over_hostfwd(dom0):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", dom0.ports[443], timeout=60, context=ctx)
    body = xmlrpc.client.dumps(("root", "wrong", "1.0", "t"), "session.login_with_password")
    c.request("POST", "/", body, {"Content-Type": "text/xml"})
    r = c.getresponse()
    data = r.read()
    c.close()
    assert r.status == 200, (r.status, data[:200])
    (reply,), _ = xmlrpc.client.loads(data)
    assert reply["Status"] == "Failure", reply
