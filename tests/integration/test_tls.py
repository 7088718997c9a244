"""The HTTPS listener: TLS 1.3 and 1.2, the self-signed certificate."""
import hashlib
import re
import socket
import ssl
import xmlrpc.client

import pytest

from conftest import PASSWORD, Daemon, ok


def fingerprint_from_log(d):
    m = re.findall(r"fingerprint ([0-9A-F:]{95})", d.read_log())
    assert m, d.read_log()
    return m[-1]


def peer_cert(port, version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with ctx.wrap_socket(raw) as s:
            return s.getpeercert(binary_form=True), s.version()


def test_tls_versions_certificate_and_xmlrpc(state_dir):
    d = Daemon(state_dir).start(https=True)
    try:
        der13, v13 = peer_cert(d.https_port, ssl.TLSVersion.TLSv1_3)
        der12, v12 = peer_cert(d.https_port, ssl.TLSVersion.TLSv1_2)
        assert (v13, v12) == ("TLSv1.3", "TLSv1.2")
        assert der13 == der12
        fp = hashlib.sha256(der13).hexdigest().upper()
        logged = fingerprint_from_log(d)
        assert logged.replace(":", "") == fp
        ctx = ssl._create_unverified_context()
        p = xmlrpc.client.ServerProxy("https://127.0.0.1:%d/" % d.https_port, context=ctx)
        s = ok(p.session.login_with_password("root", PASSWORD))
        assert ok(p.pool.get_all(s))
        with open(d.state + "/xapi-ssl.pem") as f:
            pem = f.read()
        assert "PRIVATE KEY" in pem
        # the API hands out the certificate, never the key
        cert = ok(p.host.get_server_certificate(s, ok(p.host.get_all(s))[0]))
        assert cert.startswith("-----BEGIN CERTIFICATE-----") and "PRIVATE" not in cert
        # a TLS 1.1 client is refused, the daemon stays up
        with pytest.raises(ssl.SSLError):
            peer_cert(d.https_port, ssl.TLSVersion.TLSv1_1)
        # garbage instead of a handshake: the connection closes, nothing else
        with socket.create_connection(("127.0.0.1", d.https_port)) as raw:
            raw.sendall(b"GET / HTTP/1.1\r\n\r\n" * 10)
            raw.settimeout(5)
            try:
                raw.recv(100)
            except (ConnectionResetError, socket.timeout):
                pass
        assert ok(p.pool.get_all(s))
        d.stop()
        d.start(https=True)      # the certificate is kept
        assert peer_cert(d.https_port, ssl.TLSVersion.TLSv1_3)[0] == der13
    finally:
        d.stop()
