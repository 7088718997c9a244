"""The suite's network itself (tests/pool/topology.py): nothing leads out
of it, and member-b is behind a NAT that the master cannot open a
connection through, while member-b reaches the master (seen as the
router's address).  The daemon-level tests rely on both."""
import errno
import socket

from topology import ADDR

PORT = 9000


def listener(ns, addr):
    with ns.entered():
        s = socket.create_server((addr, PORT))
    s.settimeout(10)
    return s


def dial(ns, addr, timeout=10):
    """A connected socket from inside ns, or the OSError."""
    with ns.entered():
        try:
            return socket.create_connection((addr, PORT), timeout)
        except OSError as e:
            return e


def test_no_route_out(topology):
    assert topology.default_routes() == {}
    for role in topology.ROLES:
        # route lookups only: nothing is sent
        assert not topology.routable(role, "192.0.2.1"), role
        assert not topology.routable(role, "2001:db8::1"), role
    assert topology.foreign_peers() == []
    # what the pool needs is routed
    assert topology.routable("member-b", ADDR["master"])
    assert topology.routable("master", ADDR["member-b"])       # so the NAT is what refuses


def test_member_b_reaches_the_master_as_the_router(topology):
    srv = listener(topology["master"], ADDR["master"])
    try:
        for role, seen in (("member-b", ADDR["router"]), ("member-a", ADDR["member-a"])):
            c = dial(topology[role], ADDR["master"])
            assert isinstance(c, socket.socket), (role, c)
            conn, peer = srv.accept()
            assert peer[0] == seen, (role, peer)
            c.sendall(b"x")
            assert conn.recv(1) == b"x"
            conn.close()
            c.close()
    finally:
        srv.close()


def test_the_master_cannot_connect_to_member_b(topology):
    srv = listener(topology["member-b"], "0.0.0.0")
    try:
        for role in ("master", "member-a", "client"):
            e = dial(topology[role], ADDR["member-b"])
            assert isinstance(e, OSError), "%s opened a connection to member-b" % role
            if role == "master":
                # it has a route: refused by the router's forward rule,
                # not lost somewhere
                assert e.errno == errno.EHOSTUNREACH, (role, e)
        # the listener is there: the router itself (not forwarding) gets in
        c = dial(topology["router"], ADDR["member-b"])
        assert isinstance(c, socket.socket), c
        srv.accept()[0].close()
        c.close()
    finally:
        srv.close()
