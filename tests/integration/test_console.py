"""Guest consoles over /console (docs/CONSOLES.md): RFB over CONNECT (as
XenCenter) and over a WebSocket (as Xen Orchestra and noVNC), through TLS
and plain HTTP; the vt100 console's raw stream; several viewers, one of
which never reads; bad input.  The client is tests/lib/rfbclient.py; the
screen is read back through the console's own font (the build's
console_font.h)."""
import os
import socket
import struct
import time
import urllib.parse

import pytest

from conftest import XENBOX, Daemon, ok
from test_api import new_vm, wait_for

import rfbclient
from rfbclient import Viewer, connect, wait_text

# the build's output directory: XENBOX is O/host/bin/xenbox or O/images/xenbox
OUT = os.path.dirname(os.path.dirname(os.path.abspath(XENBOX)))
if os.path.basename(OUT) == "host":
    OUT = os.path.dirname(OUT)
FONT_H = os.path.join(OUT, "gen", "console_font.h")


@pytest.fixture
def font():
    assert os.path.exists(FONT_H), "no %s: build with CONFIG_XB_CONSOLE" % FONT_H
    return rfbclient.Font(FONT_H)


@pytest.fixture
def dtls(state_dir):
    d = Daemon(state_dir).start(https=True)
    yield d
    rc = d.stop()
    log = d.read_log()
    assert "ERROR: AddressSanitizer" not in log, log
    assert "runtime error" not in log, log
    assert rc == 0, log


def console_log(d, s, vm):
    r, body = d.raw("GET", "/console_log?" + urllib.parse.urlencode({"session_id": s, "ref": vm}))
    return body.decode()


def running_vm(d, name="con1"):
    p, s = d.login()
    vm = new_vm(p, s, name_label=name)
    ok(p.VM.start(s, vm, False, False))
    wait_for(lambda: "booted" in console_log(d, s, vm))
    cons = [ok(p.console.get_record(s, c)) for c in ok(p.VM.get_consoles(s, vm))]
    return p, s, vm, cons


def target(con):
    return urllib.parse.urlsplit(con["location"]).query


def port(d, tls):
    return d.https_port if tls else d.port


def test_console_objects(dtls):
    p, s, vm, cons = running_vm(dtls)
    assert [c["protocol"] for c in cons] == ["rfb", "vt100"]
    addr = ok(p.host.get_address(s, ok(p.session.get_this_host(s, s))))
    for c in cons:
        assert c["location"] == "https://%s/console?uuid=%s" % (addr, c["uuid"])
        assert c["VM"] == vm
    ok(p.VM.hard_shutdown(s, vm))
    assert ok(p.VM.get_consoles(s, vm)) == []


@pytest.mark.parametrize("how,tls,cookie", [
    ("connect", True, True), ("ws", True, True), ("connect", False, False), ("ws", False, False)])
def test_rfb_screen_and_keys(dtls, font, how, tls, cookie):
    p, s, vm, cons = running_vm(dtls)
    st, head, stream = connect(port(dtls, tls), tls, target(cons[0]), s, how=how, cookie=cookie)
    assert stream, head
    if how == "ws":
        assert b"Sec-WebSocket-Protocol: binary" in head
    v = Viewer(stream)
    assert (v.w, v.h) == (640, 400) and v.name == "con1"
    v.set_format_32()
    v.set_encodings()
    v.request()
    v.read_update()
    lines = v.text(font)
    assert lines[0] == "sim: con1 booted", lines
    # keys reach the guest, which echoes them; colours as SGR said
    v.type("\r\x1b[31mRED\x1b[0m ok\r")
    lines = wait_text(v, font, lambda ls: any(line.endswith("RED ok") for line in ls))
    row = next(i for i, line in enumerate(lines) if line.endswith("RED ok"))
    col = lines[row].index("RED")
    bits, bg = v.cell_bits(col, row)
    fgs = {v.pixel(col * 8 + i, row * 16 + j) for j in range(16) for i in range(8)
           if bits[j] & (0x80 >> i)}
    assert fgs == {(0xaa, 0, 0)} and bg == (0, 0, 0), (fgs, bg)
    assert "\x1b[31mRED\x1b[0m ok\r\n" in console_log(dtls, s, vm)
    if how == "ws" and tls:
        logs = os.path.join(OUT, "check-logs")
        os.makedirs(logs, exist_ok=True)
        v.png(os.path.join(logs, "console-rfb.png"))
        print("framebuffer saved as", os.path.join(logs, "console-rfb.png"))
    stream.s.close()


def test_rfb_33_and_box_drawing(daemon, font):
    p, s, vm, cons = running_vm(daemon)
    st, head, stream = connect(daemon.port, False, "uuid=" + ok(p.VM.get_uuid(s, vm)), s,
                               version="1.0")
    v = Viewer(stream, version=b"RFB 003.003\n")
    v.set_format_32()
    v.set_encodings((0,))
    v.request()
    v.read_update()
    # GRUB's menu frame: UTF-8 box drawing, and the DEC graphics set
    v.type("\r\u250c\u2500\u2510 \x1b(0lqk\x1b(B\r")
    lines = wait_text(v, font, lambda ls: any("\u250c\u2500\u2510 \u250c\u2500\u2510" in line
                                              for line in ls))


def test_vt100_stream(daemon):
    p, s, vm, cons = running_vm(daemon)
    st, head, stream = connect(daemon.port, False, target(cons[1]), s)
    assert st == 200, head
    assert b"Cache-Control: no-cache, no-store" in head
    stream.send(b"typed\r")
    got = b""
    while b"typed\r\n" not in got:
        got += stream.recv_some()
    # a WebSocket is for RFB only
    st, head, _ = connect(daemon.port, False, target(cons[1]), s, how="ws")
    assert st == 400 and b"CONNECT" in head, head
    stream.s.close()


def test_two_viewers_one_never_reads(daemon, font):
    p, s, vm, cons = running_vm(daemon)
    # the stuck one: a tiny receive buffer, asks for updates, never reads
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(("127.0.0.1", daemon.port))
    stuck.sendall(("CONNECT /console?%s HTTP/1.0\r\nCookie: session_id=%s\r\n\r\n"
                   % (target(cons[0]), s)).encode())
    head = rfbclient.read_head(stuck)
    assert rfbclient.status_of(head) == 200
    assert stuck.recv(12) == b"RFB 003.008\n"
    stuck.sendall(b"RFB 003.008\n")
    stuck.recv(2)
    stuck.sendall(b"\x01")
    stuck.recv(4)
    stuck.sendall(b"\x01")
    for _ in range(50):
        stuck.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, 640, 400))
    # a raw vt100 viewer that never reads either
    st, head, raw = connect(daemon.port, False, target(cons[1]), s)
    assert st == 200
    # the other viewer types many lines and sees each echoed
    st, head, stream = connect(daemon.port, False, target(cons[0]), s, how="ws")
    v = Viewer(stream)
    v.set_format_32()
    v.set_encodings()
    v.request()
    v.read_update()
    for i in range(40):
        v.type("line %d of output from the guest, long enough to matter\r" % i)
    wait_text(v, font, lambda ls: any(line.startswith("line 39 of") for line in ls))
    # the daemon answers the API meanwhile, and the guest's log has it all
    assert "line 39 of" in console_log(daemon, s, vm)
    assert ok(p.VM.get_power_state(s, vm)) == "Running"
    stuck.close()
    raw.s.close()
    stream.s.close()


def test_bad_requests(daemon):
    p, s, vm, cons = running_vm(daemon)
    t = target(cons[0])
    # no session, a wrong one
    st, head, _ = connect(daemon.port, False, t, None)
    assert st == 401 and b"WWW-Authenticate: Basic" in head, head
    st, head, _ = connect(daemon.port, False, t, "OpaqueRef:nope", how="ws")
    assert st == 401, head
    # no such console, no target
    st, head, _ = connect(daemon.port, False, "uuid=00000000-0000-0000-0000-000000000000", s)
    assert st == 404, head
    st, head, _ = connect(daemon.port, False, "", s)
    assert st == 404, head
    # a WebSocket without a key; a subprotocol other than binary
    sk = socket.create_connection(("127.0.0.1", daemon.port))
    sk.sendall(("GET /console?%s HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Cookie: session_id=%s\r\n\r\n" % (t, s)).encode())
    assert rfbclient.status_of(rfbclient.read_head(sk)) == 400
    sk.close()
    st, head, _ = connect(daemon.port, False, t, s, how="ws", protocol="base64")
    assert st == 400, head
    # garbage instead of RFB: the connection ends, over a WebSocket with 1002
    st, head, stream = connect(daemon.port, False, t, s)
    stream.read(12)
    stream.send(b"HELLO THERE\n")
    with pytest.raises(EOFError):
        while True:
            stream.recv_some()
    st, head, stream = connect(daemon.port, False, t, s, how="ws")
    v = Viewer(stream)
    stream.send(b"\x63\x00\x00\x00")           # no such message type
    with pytest.raises(EOFError):
        while True:
            stream.recv_some()
    assert stream.close_code == 1002
    st, head, stream = connect(daemon.port, False, t, s)
    v = Viewer(stream)
    stream.send(b"\x00\0\0\0" + struct.pack(">BBBBHHHBBB3x", 8, 8, 0, 0, 7, 7, 3, 0, 3, 6))
    with pytest.raises(EOFError):
        while True:
            stream.recv_some()
    # a stopped VM has no console; its viewers are closed when it stops
    st, head, stream = connect(daemon.port, False, t, s, how="ws")
    v = Viewer(stream)
    ok(p.VM.hard_shutdown(s, vm))
    with pytest.raises(EOFError):
        while True:
            stream.recv_some()
    st, head, _ = connect(daemon.port, False, "uuid=" + ok(p.VM.get_uuid(s, vm)), s)
    assert st == 500 and b"not running" in head, head
    # and the daemon is still up
    assert ok(p.VM.get_power_state(s, vm)) == "Halted"


@pytest.mark.parametrize("tls", [True, False])
def test_bytes_sent_with_the_request_reach_the_guest(dtls, tls):
    """A client that writes its first keys in the same packet as CONNECT
    (a pipelining xe console): they arrive after the hand-over, whether
    the server had them in its HTTP buffer or still inside TLS."""
    p, s, vm, cons = running_vm(dtls)
    sk = rfbclient.open_socket(port(dtls, tls), tls)
    sk.sendall(("CONNECT /console?%s HTTP/1.0\r\nCookie: session_id=%s\r\n\r\nearly\r"
                % (target(cons[1]), s)).encode())
    head = rfbclient.read_head(sk)
    assert rfbclient.status_of(head) == 200, head
    wait_for(lambda: "early\r\n" in console_log(dtls, s, vm))
    sk.close()
