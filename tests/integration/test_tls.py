"""The HTTPS listener: TLS 1.3 and 1.2, the self-signed certificate."""
import hashlib
import os
import re
import select
import signal
import socket
import ssl
import time
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


def _client_hello(ctx):
    """A TLS client over memory BIOs: (its SSLObject, BIOs, ClientHello bytes)."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="x")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return obj, inc, out, out.read()


def _open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def test_a_handshake_storm_waits_its_turn(state_dir):
    """Handshakes are the loop's costliest unauthenticated work (an ECDSA
    signature, an ECDHE): a loop iteration does a few handshake steps, not
    all that are ready, so an established client's call is answered
    before the storm is through.  With the daemon stopped, K handshakes'
    ClientHellos and one plain call arrive together; when the call's reply
    is back (the daemon stopped again at once), most of the K have not yet
    had their answer.  Then every handshake completes."""
    K = 60
    d = Daemon(state_dir).start(https=True)
    try:
        p, s = d.login()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2    # ECDHE + ECDSA, 2 round trips
        plain = socket.create_connection(("127.0.0.1", d.port))
        call = xmlrpc.client.dumps((s,), "pool.get_all").encode()
        req = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
               b"Content-Length: %d\r\n\r\n" % len(call)) + call
        base = _open_fds(d.proc.pid)
        socks = [socket.create_connection(("127.0.0.1", d.https_port), 30,
                                          ("127.0.0.%d" % (2 + i % 4), 0)) for i in range(K)]
        deadline = time.time() + 30
        while _open_fds(d.proc.pid) < base + K:      # all accepted
            assert time.time() < deadline, (_open_fds(d.proc.pid), base)
            time.sleep(0.05)
        clients = [_client_hello(ctx) for _ in socks]
        os.kill(d.proc.pid, signal.SIGSTOP)
        try:
            for sk, (_, _, _, hello) in zip(socks, clients):
                sk.sendall(hello)
            plain.sendall(req)
        finally:
            os.kill(d.proc.pid, signal.SIGCONT)
        plain.settimeout(60)
        got = b""
        while b"</methodResponse>" not in got:
            chunk = plain.recv(65536)
            assert chunk, got
            got += chunk
        os.kill(d.proc.pid, signal.SIGSTOP)
        try:
            answered = len(select.select(socks, [], [], 0)[0])
        finally:
            os.kill(d.proc.pid, signal.SIGCONT)
        assert b"<name>Status</name><value>Success</value>" in got.replace(b"\n", b""), got
        assert answered <= K // 2, answered
        # every handshake still completes
        done = 0
        for sk, (obj, inc, out, _) in zip(socks, clients):
            sk.settimeout(60)
            while True:
                try:
                    obj.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    if out.pending:
                        sk.sendall(out.read())
                    data = sk.recv(65536)
                    assert data, "closed during the handshake"
                    inc.write(data)
            if out.pending:
                sk.sendall(out.read())
            done += 1
            sk.close()
        assert done == K
        plain.close()
        assert ok(p.pool.get_all(s))
    finally:
        assert d.stop() == 0, d.read_log()


def test_large_bodies_both_ways(state_dir):
    """Records are sent at most 4031 B long (the output buffer fits one
    allocator slot, docs/POOL.md 11.3): bodies of many records, and of
    sizes about one record, still go both ways on TLS 1.3 and 1.2."""
    d = Daemon(state_dir).start(https=True)
    try:
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            ctx = ssl._create_unverified_context()
            ctx.minimum_version = ctx.maximum_version = version
            p = xmlrpc.client.ServerProxy("https://127.0.0.1:%d/" % d.https_port,
                                          context=ctx)
            s = ok(p.session.login_with_password("root", PASSWORD))
            vm = ok(p.VM.create(s, {"name_label": "big"}))
            for n in (3800, 4030, 4031, 4032, 8062, 300000):
                text = "".join(chr(0x41 + (i * 7) % 26) for i in range(n))
                ok(p.VM.set_name_description(s, vm, text))
                assert ok(p.VM.get_name_description(s, vm)) == text
            ok(p.VM.destroy(s, vm))
    finally:
        d.stop()
