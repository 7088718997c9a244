"""host.address and the management PIF follow the real interface
(docs/DAEMON.md, "Management interface"): a daemon in a network namespace
of its own (tests/lib/netns.py) with xenbox.conf's
management_interface naming a veth there, its /etc/resolv.conf a file of
the test's (a bind mount in a mount namespace of the daemon's own)."""
import json
import time

from conftest import Daemon, ok
from netns import netns


def resolv_prefix(path):
    """Run the daemon with path mounted on /etc/resolv.conf, privately."""
    return ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"',
            str(path)]


def resolv_link_prefix(tmp_path, target):
    """Run the daemon with /etc/resolv.conf a symlink to target (as the USB
    image has it, relative: ../run/resolv.conf), in a mount namespace of
    its own where /etc is an overlay of the real one."""
    for d in ("etc-upper", "etc-work"):
        (tmp_path / d).mkdir()
    return ["unshare", "-m", "sh", "-c",
            'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$0/etc-upper,workdir=$0/etc-work" '
            '/etc && ln -sfn "$1" /etc/resolv.conf && shift && exec "$@"',
            str(tmp_path), ".." + str(target)]


def mac_of(ns, dev):
    return json.loads(ns.ip("-j", "link", "show", dev).stdout)[0]["address"]


def management(p, s):
    host = ok(p.host.get_all(s))[0]
    pifs = [r for r in ok(p.PIF.get_all_records(s)).values() if r["management"]]
    assert len(pifs) == 1, pifs
    return ok(p.host.get_record(s, host)), pifs[0]


def follow(p, s, token, want_host, want_pif, timeout=15):
    """event.from on host and PIF until their snapshots show want_*; the
    events are what a client like Xen Orchestra sees.  Returns the token."""
    host, pif = {}, {}
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = ok(getattr(p.event, "from")(s, ["host", "pif"], token, 2.0))
        token = r["token"]
        for e in r["events"]:
            if e["class"] == "host":
                host = e["snapshot"]
            elif e["snapshot"]["management"]:
                pif = e["snapshot"]
        if all(host.get(k) == v for k, v in want_host.items()) and \
                all(pif.get(k) == v for k, v in want_pif.items()):
            return token
    raise AssertionError("no events to %r %r; last host %r pif %r" % (
        want_host, want_pif, {k: host.get(k) for k in want_host},
        {k: pif.get(k) for k in want_pif}))


def test_address_follows_the_management_interface(state_dir, tmp_path):
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("search example\nnameserver 10.213.0.53\n")
    conf = tmp_path / "xenbox.conf"
    conf.write_text("management_interface = xbv0\nnetwork = static\naddress = 10.213.0.1/24\n")
    with netns("10.213.0.1/24", gateway="10.213.0.254") as ns:
        d = Daemon(state_dir).start(["--config", str(conf)], prefix=resolv_prefix(resolv))
        try:
            p, s = d.login()
            host, pif = management(p, s)
            assert host["address"] == "10.213.0.1"
            assert (pif["IP"], pif["netmask"], pif["gateway"], pif["DNS"]) == (
                "10.213.0.1", "255.255.255.0", "10.213.0.254", "10.213.0.53"), pif
            assert pif["MAC"] == mac_of(ns, "xbv0") and pif["ip_configuration_mode"] == "Static"
            assert pif["MTU"] == "1500"
            token = ok(getattr(p.event, "from")(s, ["host", "pif"], "", 0.0))["token"]

            # what udhcpc's script does on a new lease: flush, add, route,
            # resolv.conf rewritten in place; and a new MAC and MTU
            ns.ip("addr", "flush", "dev", "xbv0")
            ns.ip("addr", "add", "10.214.0.7/16", "dev", "xbv0")
            ns.ip("route", "add", "default", "via", "10.214.0.1", "dev", "xbv0")
            ns.ip("link", "set", "xbv0", "address", "02:00:00:00:00:07", "mtu", "1400")
            with open(resolv, "w") as f:
                f.write("nameserver 10.214.0.53\nnameserver 10.214.0.54\n")
            token = follow(p, s, token, {"address": "10.214.0.7"},
                           {"IP": "10.214.0.7", "netmask": "255.255.0.0",
                            "gateway": "10.214.0.1", "DNS": "10.214.0.53,10.214.0.54",
                            "MAC": "02:00:00:00:00:07", "MTU": "1400"})
            # resolv.conf alone (inotify, no netlink event)
            with open(resolv, "w") as f:
                f.write("nameserver 10.214.0.99\n")
            token = follow(p, s, token, {}, {"DNS": "10.214.0.99"})
            # the lease goes: no address, no gateway (not a stale one)
            ns.ip("addr", "flush", "dev", "xbv0")
            token = follow(p, s, token, {"address": ""},
                           {"IP": "", "netmask": "", "gateway": ""})
        finally:
            assert d.stop() == 0


def test_fallbacks_default_route_then_loopback(state_dir, tmp_path):
    """management_interface missing: the interface of the default route,
    else loopback; the named one is taken when it appears."""
    conf = tmp_path / "xenbox.conf"
    conf.write_text("management_interface = xbmgmt\n")
    with netns("10.213.0.1/24", gateway="10.213.0.254") as ns:
        d = Daemon(state_dir).start(["--config", str(conf)])
        try:
            p, s = d.login()
            host, pif = management(p, s)
            assert host["address"] == "10.213.0.1" and pif["gateway"] == "10.213.0.254"
            # not the configured interface: no claim about how it is set up
            assert pif["ip_configuration_mode"] == "None"
            token = ok(getattr(p.event, "from")(s, ["host", "pif"], "", 0.0))["token"]
            ns.ip("route", "del", "default")
            token = follow(p, s, token, {"address": "127.0.0.1"},
                           {"IP": "127.0.0.1", "netmask": "255.0.0.0", "gateway": "",
                            "MAC": "00:00:00:00:00:00"})
            ns.ip("link", "add", "xbmgmt", "type", "veth", "peer", "name", "xbmgmt1")
            ns.ip("addr", "add", "10.215.0.9/24", "dev", "xbmgmt")
            ns.ip("link", "set", "xbmgmt", "up")
            ns.ip("link", "set", "xbmgmt1", "up")
            follow(p, s, token, {"address": "10.215.0.9"},
                   {"IP": "10.215.0.9", "MAC": mac_of(ns, "xbmgmt"),
                    "ip_configuration_mode": "DHCP"})   # xenbox.conf's network
        finally:
            assert d.stop() == 0


def test_resolv_conf_a_symlink_to_a_file_made_later(state_dir, tmp_path):
    """/etc/resolv.conf a symlink whose file is not there yet when the
    daemon starts (the USB image's ../run/resolv.conf before the first
    lease): the file's creation, with no netlink event, brings the DNS;
    then the file rewritten in place, and replaced by a rename."""
    run = tmp_path / "run"
    run.mkdir()
    resolv = run / "resolv.conf"
    conf = tmp_path / "xenbox.conf"
    conf.write_text("management_interface = xbv0\nnetwork = dhcp\n")
    with netns("10.213.0.1/24", gateway="10.213.0.254") as ns:
        ns.settle()     # else an IPv6 address event would refresh it all anyway
        d = Daemon(state_dir).start(["--config", str(conf)],
                                    prefix=resolv_link_prefix(tmp_path, resolv))
        try:
            p, s = d.login()
            host, pif = management(p, s)
            assert (pif["IP"], pif["gateway"], pif["DNS"]) == ("10.213.0.1", "10.213.0.254", ""), pif
            token = ok(getattr(p.event, "from")(s, ["host", "pif"], "", 0.0))["token"]
            # what udhcpc's script does: truncate (creates it), then append
            resolv.write_text("")
            with open(resolv, "a") as f:
                f.write("nameserver 10.213.0.53\n")
            token = follow(p, s, token, {}, {"DNS": "10.213.0.53"})
            with open(resolv, "w") as f:
                f.write("nameserver 10.213.0.54\n")
            token = follow(p, s, token, {}, {"DNS": "10.213.0.54"})
            new = run / "resolv.conf.new"
            new.write_text("nameserver 10.213.0.55\n")
            new.rename(resolv)
            token = follow(p, s, token, {}, {"DNS": "10.213.0.55"})
        finally:
            assert d.stop() == 0
