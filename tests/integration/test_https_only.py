"""HTTPS only on the network: host.https_only, host.set_https_only and
xenbox.conf's https_only (docs/DAEMON.md).  With it on (the default) the
plain HTTP listener answers on loopback only; off, where --http says.

Daemons listening on 0.0.0.0 run in a network namespace of their own
(tests/lib/netns.py): nothing reaches them from outside, and no
socket of this machine holds their port."""
import http.client
import os
import socket
import ssl
import xmlrpc.client

import pytest

from conftest import PASSWORD, Daemon, fails, ok
from netns import listening, netns


def host_of(p, s):
    return ok(p.host.get_all(s))[0]


def test_default_keeps_plain_http_on_loopback(state_dir):
    with netns():
        _default_keeps_plain_http_on_loopback(state_dir)


def _default_keeps_plain_http_on_loopback(state_dir):
    d = Daemon(state_dir).start(listen="0.0.0.0")
    try:
        assert listening(d.port) == ["127.0.0.1"]       # not 0.0.0.0
        p, s = d.login()
        h = host_of(p, s)
        assert ok(p.host.get_https_only(s, h)) is True
        # off: the plain listener moves to the address --http names
        assert ok(p.host.set_https_only(s, h, False)) == ""
        assert ok(p.host.get_https_only(s, h)) is False
        assert listening(d.port) == ["0.0.0.0"]
        p, s = d.login()                                # a new connection
        assert ok(p.host.set_https_only(s, h, True)) == ""
        assert listening(d.port) == ["127.0.0.1"]
        assert ok(p.host.get_record(s, h))["https_only"] is True
        # bad calls: no change, the daemon stays up
        fails(p.host.set_https_only(s, "OpaqueRef:NULL", False), "HANDLE_INVALID", "host")
        fails(p.host.set_https_only(s, h, "perhaps"), "FIELD_TYPE_ERROR")
        fails(p.host.set_https_only(s, h), "MESSAGE_PARAMETER_COUNT_MISMATCH")
        assert listening(d.port) == ["127.0.0.1"]
    finally:
        assert d.stop() == 0
    # IPv6: the any address becomes ::1
    d.start(listen="::")
    try:
        assert listening(d.port) == ["::1"]
    finally:
        assert d.stop() == 0


def test_config_key(state_dir):
    with netns():
        _config_key(state_dir)


def _config_key(state_dir):
    conf = os.path.join(state_dir, "xenbox.conf")
    with open(conf, "w") as f:
        f.write("https_only = false\n")
    d = Daemon(state_dir).start(["--config", conf], listen="0.0.0.0")
    try:
        assert listening(d.port) == ["0.0.0.0"]
        p, s = d.login()
        assert ok(p.host.get_https_only(s, host_of(p, s))) is False
    finally:
        assert d.stop() == 0
    with open(conf, "w") as f:
        f.write("https_only = perhaps\n")
    d.start(["--config", conf], listen="0.0.0.0")
    try:
        assert "%s:1: https_only: expected true or false" % conf in d.read_log()
        assert listening(d.port) == ["127.0.0.1"]       # the default kept
        p, s = d.login()
        assert ok(p.host.get_https_only(s, host_of(p, s))) is True
    finally:
        assert d.stop() == 0
    # a loopback --http is where it is, whatever the setting
    with open(conf, "w") as f:
        f.write("https_only = true\n")
    d.start(["--config", conf])
    try:
        assert listening(d.port) == ["127.0.0.1"]
        p, s = d.login()
        ok(p.host.set_https_only(s, host_of(p, s), False))
        assert listening(d.port) == ["127.0.0.1"]
    finally:
        assert d.stop() == 0


def tls_proxy(addr, port):
    return xmlrpc.client.ServerProxy("https://%s:%d/" % (addr, port),
                                     context=ssl._create_unverified_context())


def test_network_clients_get_https_only(state_dir):
    """In a network namespace with a non-loopback address: plain HTTP from
    the network is refused (and an open plain connection is closed when
    https_only comes on); HTTPS works; loopback keeps plain HTTP."""
    with netns("10.213.0.1/24"):
        d = Daemon(state_dir).start(https=True, listen="0.0.0.0")
        try:
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("10.213.0.1", d.port), 5)
            t = tls_proxy("10.213.0.1", d.https_port)
            s = ok(t.session.login_with_password("root", PASSWORD))
            h = host_of(t, s)
            ok(t.host.set_https_only(s, h, False))
            # plain HTTP from the network, kept alive
            c = http.client.HTTPConnection("10.213.0.1", d.port, timeout=10)
            c.request("GET", "/")
            assert c.getresponse().read().startswith(b"<html>")
            net = xmlrpc.client.ServerProxy("http://10.213.0.1:%d/" % d.port)
            ns_ = ok(net.session.login_with_password("root", PASSWORD))
            # switched on over plain HTTP from the network: the reply comes,
            # then that connection and every other plain one from the
            # network are closed, and new ones refused
            c2 = http.client.HTTPConnection("10.213.0.1", d.port, timeout=10)
            body = xmlrpc.client.dumps((ns_, h, True), "host.set_https_only")
            c2.request("POST", "/", body, {"Content-Type": "text/xml"})
            r = c2.getresponse()
            assert xmlrpc.client.loads(r.read())[0][0]["Status"] == "Success"
            assert r.getheader("Connection") == "close"
            with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
                c.request("GET", "/")
                c.getresponse().read()
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("10.213.0.1", d.port), 5)
            assert ok(t.host.get_https_only(s, h)) is True
            # loopback: plain HTTP still answers
            p, ls = d.login()
            assert ok(p.host.get_https_only(ls, h)) is True
        finally:
            assert d.stop() == 0
