"""HTTP Basic credentials on the GET handlers, as XAPI takes them
(?session_id= first, else Authorization: Basic; the Unix socket's root
needs neither).  Wrong ones get 401 with XAPI's challenge (realm: the
handler's name); malformed ones 400."""
import base64
import socket
import urllib.request

import pytest

from conftest import PASSWORD, UnixHTTPConnection, ok
from test_api import new_vm

# path?query (without credentials) -> realm
ROUTES = {
    "/rrd_updates?start=-600&cf=AVERAGE&host=true": "get_rrd_updates",
    "/host_rrd": "get_host_rrd",
    "/vm_rrd?uuid={uuid}": "get_vm_rrd",
    "/sr_rrd?uuid=x": "get_sr_rrd",
    "/metrics": "get_metrics",
    "/console_log?ref={vm}": "get_console_log",
}


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


@pytest.fixture
def setup(daemon):
    p, s = daemon.login()
    vm = new_vm(p, s, name_label="basic1")
    ok(p.VM.start(s, vm, False, False))
    uuid = ok(p.VM.get_uuid(s, vm))
    return daemon, s, {"vm": vm, "uuid": uuid}


def paths(ids):
    return [(path.format(**ids), realm) for path, realm in ROUTES.items()]


def with_sid(path, s):
    return path + ("&" if "?" in path else "?") + "session_id=" + s


def test_good_credentials_answer_as_a_session_does(setup):
    d, s, ids = setup
    for path, _ in paths(ids):
        r1, body1 = d.raw("GET", with_sid(path, s))
        r2, body2 = d.raw("GET", path, headers={"Authorization": basic("root", PASSWORD)})
        assert r2.status == r1.status, (path, r1.status, r2.status)
        assert r2.status in (200, 404), (path, r2.status)   # 404: /sr_rrd, and a VM not sampled yet
        assert r2.getheader("Content-Type") == r1.getheader("Content-Type")
        if path.startswith("/console_log"):
            assert body2 == body1
    # the scheme is case-insensitive (RFC 9110), spaces after it are free
    r, _ = d.raw("GET", "/metrics", headers={
        "Authorization": "bAsIc   " + basic("root", PASSWORD)[6:]})
    assert r.status == 200


def test_wrong_credentials_are_401_with_a_challenge(setup):
    d, s, ids = setup
    for path, realm in paths(ids):
        for auth in (basic("root", "wrong"), basic("admin", PASSWORD),
                     "Bearer abc", None):
            r, _ = d.raw("GET", path, headers={"Authorization": auth} if auth else {})
            assert r.status == 401, (path, auth, r.status)
            assert r.getheader("WWW-Authenticate") == 'Basic realm="%s"' % realm
        # a session_id, when given, is what counts (as XAPI): a bad one is
        # 401 even beside good Basic credentials
        r, _ = d.raw("GET", with_sid(path, "OpaqueRef:nope"),
                     headers={"Authorization": basic("root", PASSWORD)})
        assert r.status == 401
    log = d.read_log()
    assert "wrong" not in log and PASSWORD not in log


def test_malformed_credentials_are_400(setup):
    d, s, ids = setup
    bad = ["Basic", "Basic ", "Basic !!!!", "Basic cm9vdA",     # unpadded
           "Basic " + base64.b64encode(b"root").decode(),        # no ':'
           "Basic " + base64.b64encode(b"root:pw\x00x").decode(),    # NUL
           "Basic " + base64.b64encode(b"root:\x01pw").decode()]     # control
    for path, _ in paths(ids):
        for auth in bad:
            r, _ = d.raw("GET", path, headers={"Authorization": auth})
            assert r.status == 400, (path, auth, r.status)
    # the daemon is still there, and nothing counted as a failed login
    for _ in range(6):
        assert d.raw("GET", "/metrics", headers={"Authorization": basic("root", PASSWORD)})[0].status == 200


def test_unknown_path_is_403_not_401(daemon):
    r, _ = daemon.raw("GET", "/nope", headers={"Authorization": basic("root", "wrong")})
    assert r.status == 403
    r, _ = daemon.raw("GET", "/", headers={"Authorization": basic("root", "wrong")})
    assert r.status == 200


def test_basic_failures_count_against_the_address(daemon):
    for _ in range(5):
        assert daemon.raw("GET", "/metrics",
                          headers={"Authorization": basic("root", "wrong")})[0].status == 401
    # the limit holds for the right password too, and for logins
    r, _ = daemon.raw("GET", "/metrics", headers={"Authorization": basic("root", PASSWORD)})
    assert r.status == 401
    r = daemon.proxy().session.login_with_password("root", PASSWORD)
    assert r["Status"] == "Failure" and "Too many" in r["ErrorDescription"][2]


def test_unix_socket_root_needs_no_credentials(daemon):
    c = UnixHTTPConnection(daemon.unix)
    c.request("GET", "/metrics")
    r = c.getresponse()
    body = r.read()
    c.close()
    assert r.status == 200 and b"# TYPE xenbox_host_" in body


def test_pipelined_requests_keep_their_order(daemon):
    """A GET waiting for its password check holds the requests behind it
    on the connection: the answers come in order."""
    sock = socket.create_connection(("127.0.0.1", daemon.port))
    req = ("GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n")
    sock.sendall((req % basic("root", "wrong")).encode() +
                 b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" +
                 (req % basic("root", PASSWORD)).encode())
    sock.settimeout(60)
    f = sock.makefile("rb")
    statuses = []
    for _ in range(3):
        status = int(f.readline().split()[1])
        length = 0
        for line in iter(f.readline, b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        f.read(length)
        statuses.append(status)
    sock.close()
    assert statuses == [401, 200, 200]


def test_urllib_challenge_and_prometheus_scrape(daemon):
    """Python's urllib answers the challenge (it sends credentials only
    after a 401 naming the realm); Prometheus's basic_auth sends them at
    once, with its own Accept header."""
    url = daemon.url + "metrics"
    mgr = urllib.request.HTTPPasswordMgr()
    mgr.add_password("get_metrics", url, "root", PASSWORD)
    opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(mgr))
    with opener.open(url, timeout=30) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert b"# TYPE xenbox_host_" in r.read()
    # the request head Prometheus 2.x sends for a scrape with basic_auth
    r, body = daemon.raw("GET", "/metrics", headers={
        "Accept": "application/openmetrics-text;version=1.0.0,application/"
                  "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
                  "q=0.5,*/*;q=0.1",
        "Accept-Encoding": "gzip",
        "Authorization": basic("root", PASSWORD),
        "User-Agent": "Prometheus/2.42.0",
        "X-Prometheus-Scrape-Timeout-Seconds": "10"})
    assert r.status == 200 and r.getheader("Content-Type") == "text/plain; version=0.0.4"
    assert b"xenbox_host_cpu_avg" in body
