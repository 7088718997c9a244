"""The pool's side of the HTTPS listener (docs/POOL.md 2.2, stage 2).

A client that sends the server name xenbox-pool.invalid gets the pool
certificate (pool-master.pem, not the HTTPS one), must speak TLS 1.3, and
is asked for a certificate whose SHA-256 the daemon records; nobody else is
asked for one (browsers and XO would prompt their users), and ordinary
clients keep TLS 1.2.  `xenbox pool fingerprint` prints the pool
certificate's fingerprint without the daemon."""
import hashlib
import re
import socket
import ssl
import subprocess
import xmlrpc.client

import pytest

from conftest import PASSWORD, XENBOX, Daemon, ok

POOL_SNI = "xenbox-pool.invalid"


def colon_hex(der):
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


@pytest.fixture
def member_cert(tmp_path):
    """A member's certificate, as a member makes one: ECDSA P-256,
    self-signed."""
    cert, key = str(tmp_path / "member.crt"), str(tmp_path / "member.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=member-uuid",
                    "-days", "2", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    with open(cert) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return cert, key, der


def connect(port, sni=None, version=ssl.TLSVersion.TLSv1_3, cert=None):
    """Handshake, then one HTTP request (so the server has read all the
    client sent, its certificate included): the server's certificate and
    the negotiated version."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    if cert:
        ctx.load_cert_chain(cert[0], cert[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=sni) as s:
            s.sendall(b"GET /no-such-path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 ")
            return s.getpeercert(binary_form=True), s.version()


def peer_lines(d):
    return re.findall(r"pool: peer certificate sha256=([0-9A-F:]{95})", d.read_log())


def cli_fingerprint(state):
    r = subprocess.run([XENBOX, "pool", "fingerprint", "--state-dir", state],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def certificate_requested(port, sni):
    """openssl's client says whether the server asked for a certificate."""
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_3", "-state"]
    if sni:
        cmd += ["-servername", sni]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=30)
    out = r.stdout + r.stderr
    assert "TLSv1.3" in out, out
    return "read server certificate request" in out


def test_pool_certificate_by_server_name(state_dir, member_cert):
    d = Daemon(state_dir).start(https=True, extra=("-v",))
    try:
        port = d.https_port
        fp = cli_fingerprint(state_dir)
        assert re.fullmatch(r"[0-9A-F]{2}(:[0-9A-F]{2}){31}", fp), fp
        assert "info: pool: this master's pool_fingerprint = %s\n" % fp in d.read_log()

        # the pool's name, TLS 1.3, a client certificate: the pool
        # certificate, and the member's certificate recorded
        der_pool, v = connect(port, POOL_SNI, cert=member_cert)
        assert v == "TLSv1.3"
        assert colon_hex(der_pool) == fp
        assert peer_lines(d) == [colon_hex(member_cert[2])]
        # the name's case does not matter (DNS names)
        assert connect(port, POOL_SNI.upper(), cert=member_cert)[0] == der_pool

        # everyone else: the HTTPS certificate, and no certificate asked for
        # though the client has one
        der_https, _ = connect(port, None, cert=member_cert)
        assert der_https != der_pool
        assert colon_hex(der_https) in d.read_log()    # "https on ...; ... fingerprint"
        assert connect(port, "xenbox.example", cert=member_cert)[0] == der_https
        der12, v12 = connect(port, None, ssl.TLSVersion.TLSv1_2, cert=member_cert)
        assert (der12, v12) == (der_https, "TLSv1.2")   # 1.2 kept for them
        assert len(peer_lines(d)) == 2                 # only the two pool ones
        assert certificate_requested(port, POOL_SNI)
        assert not certificate_requested(port, None)
        assert not certificate_requested(port, "xenbox.example")

        # the pool's name over TLS 1.2: refused in the handshake
        with pytest.raises(ssl.SSLError):
            connect(port, POOL_SNI, ssl.TLSVersion.TLSv1_2, cert=member_cert)
        # a pool client without a certificate gets through TLS (the pool
        # code will refuse it: no peer hash), nothing is recorded
        assert connect(port, POOL_SNI)[0] == der_pool
        assert len(peer_lines(d)) == 2

        # the daemon is fine
        p = xmlrpc.client.ServerProxy("https://127.0.0.1:%d/" % port,
                                      context=ssl._create_unverified_context())
        assert ok(p.pool.get_all(ok(p.session.login_with_password("root", PASSWORD))))

        # kept across restarts, and the command reads the same file
        d.stop()
        d.start(https=True)
        assert connect(d.https_port, POOL_SNI, cert=member_cert)[0] == der_pool
        assert cli_fingerprint(state_dir) == fp
    finally:
        d.stop()


def test_pool_fingerprint_command_without_the_file(tmp_path):
    r = subprocess.run([XENBOX, "pool", "fingerprint", "--state-dir", str(tmp_path)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "pool-master.pem" in r.stderr
    assert not (tmp_path / "pool-master.pem").exists()     # never made here
    r = subprocess.run([XENBOX, "pool", "bogus"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "usage" in r.stderr


def test_pool_handshakes_from_one_address_are_counted_apart(state_dir, member_cert):
    """A site of many members behind one NAT address reconnects at once
    after a master restart: TLS connections whose ClientHello names the
    pool are not held to the per-address limit (64, SERVER_MAX_PER_PEER:
    beyond it the oldest connection never answered was closed for the
    new one), which still holds for the others."""
    d = Daemon(state_dir).start(https=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(member_cert[0], member_cert[1])
    pool, other = [], []
    try:
        for _ in range(100):        # members: handshake, Upgrade not yet sent
            raw = socket.create_connection(("127.0.0.1", d.https_port), timeout=20)
            pool.append(ctx.wrap_socket(raw, server_hostname=POOL_SNI))
        for _ in range(70):         # anyone else from the same address
            other.append(socket.create_connection(("127.0.0.1", d.https_port), timeout=20))
        assert closed_by_peer(other[0], 5)          # the limit holds for them
        for s in pool:
            assert not closed_by_peer(s, 0.05)
        # each member's connection still works: its Upgrade is answered
        pool[0].sendall(b"GET /pool/ws HTTP/1.1\r\nHost: x\r\n\r\n")
        assert pool[0].recv(100).startswith(b"HTTP/1.1 4")
    finally:
        for s in pool + other:
            s.close()
        assert d.stop() == 0


def closed_by_peer(c, wait):
    c.settimeout(wait)
    try:
        return c.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True
    except (socket.timeout, ssl.SSLWantReadError):
        return False
