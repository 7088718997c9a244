"""HTTP routes, limits, JSON-RPC and the Unix socket."""
import json
import socket

from conftest import PASSWORD, fails, ok


def test_jsonrpc_v2_and_v1(daemon):
    r = daemon.jsonrpc("session.login_with_password", ["root", PASSWORD])
    assert r["jsonrpc"] == "2.0" and r["id"] == 1
    s = r["result"]
    r = daemon.jsonrpc("VM.get_all_records", [s])
    dom0 = [v for v in r["result"].values() if v["is_control_domain"]][0]
    assert dom0["domid"] == 0 and dom0["memory_static_max"] > 0   # ints are numbers
    r = daemon.jsonrpc("VM.get_record", [s, "OpaqueRef:NULL"])
    assert r["error"] == {"code": 1, "message": "HANDLE_INVALID",
                          "data": ["VM", "OpaqueRef:NULL"]}
    r = daemon.jsonrpc("VM.get_record", [s, "OpaqueRef:NULL"], v2=False, rid="x")
    assert r == {"result": None, "error": ["HANDLE_INVALID", "VM", "OpaqueRef:NULL"],
                 "id": "x"}
    # a session made over JSON-RPC works over XML-RPC too
    assert ok(daemon.proxy().pool.get_all(s))


def test_xml_routes_and_cors(daemon):
    body = ("<?xml version='1.0'?><methodCall><methodName>session.login_with_password"
            "</methodName><params><param><value>root</value></param><param><value>%s"
            "</value></param></params></methodCall>" % PASSWORD).encode()
    for path in ("/", "/RPC2", "/xmlrpc"):
        r, data = daemon.raw("POST", path, body, {"Content-Type": "text/xml"})
        assert r.status == 200 and r.getheader("Content-Type") == "text/xml"
        assert b"<value>Success</value>" in data
        assert r.getheader("Access-Control-Allow-Origin") == "*"
    r, _ = daemon.raw("OPTIONS", "/jsonrpc", b"", {"Access-Control-Request-Headers": "x-y"})
    assert r.status == 200 and r.getheader("Access-Control-Allow-Origin") == "*"
    assert "POST" in r.getheader("Access-Control-Allow-Methods")
    r, _ = daemon.raw("GET", "/nowhere")
    assert r.status == 403


def test_bad_input_keeps_daemon_up(daemon):
    for body in (b"<methodCall>", b"not xml", b"<methodCall><methodName>x</methodName>"
                 b"<params><param><value><struct><member></member></struct></value></param>"
                 b"</params></methodCall>",
                 b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"):
        r, data = daemon.raw("POST", "/", body)
        assert r.status == 500, (body, r.status)
    r = daemon.raw("POST", "/jsonrpc", b"{bad json")[0]
    assert r.status == 500
    # over the 300 KiB limit: refused before reading, as XAPI does
    r, _ = daemon.raw("POST", "/", b"x" * (300 * 1024 + 1))
    assert r.status == 500
    assert ok(daemon.login()[0].pool.get_all(daemon.login()[1]))


def test_pipelining_in_order(daemon):
    p, s = daemon.login()
    def call(m, rid):
        b = json.dumps({"jsonrpc": "2.0", "method": m, "params": [s], "id": rid}).encode()
        return (b"POST /jsonrpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(b)) + b
    c = socket.create_connection(("127.0.0.1", daemon.port))
    c.sendall(call("pool.get_all", 1) + call("host.get_all", 2) + call("VM.get_all", 3))
    data = b""
    c.settimeout(10)
    while data.count(b"HTTP/1.1 200") < 3 or not data.rstrip().endswith(b"}"):
        chunk = c.recv(65536)
        assert chunk
        data += chunk
    c.close()
    ids = [json.loads(part.split(b"\r\n\r\n", 1)[1].split(b"HTTP/1.1")[0])["id"]
           for part in data.split(b"HTTP/1.1 200 OK")[1:]]
    assert ids == [1, 2, 3]


def test_slow_and_oversized_heads(daemon):
    c = socket.create_connection(("127.0.0.1", daemon.port))
    c.sendall(b"POST / HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    c.settimeout(10)
    assert c.recv(100).startswith(b"HTTP/1.1 431")
    c.close()


def test_unix_socket_local_root(daemon):
    u = daemon.unix_proxy()
    s = ok(u.session.login_with_password("root", "anything"))
    assert ok(u.session.get_is_local_superuser(s, s)) is True
