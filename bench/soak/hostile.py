"""The hostile and the careless clients: bad input, idle connections,
slowloris heads, slow readers of big replies and a hung client that asks
for more than the daemon's reply queue holds and reads nothing."""
import json
import random
import re
import select
import socket
import threading
import time
import xmlrpc.client
from collections import Counter

from rpc import Conn, Fail, Transport, login


def connect(soak, src, timeout=10.0, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.bind((src, 0))
    s.connect(("127.0.0.1", soak.daemon.port))
    s.settimeout(timeout)
    return s


def post(path, body, extra=b"", ctype=b"text/xml"):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: soak\r\nContent-Type: " + ctype +
            b"\r\nContent-Length: %d\r\n" % len(body) + extra + b"\r\n" + body)


def read_response(s):
    """One HTTP response: (status, body), or "closed" / "reset" / "timeout"."""
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                return "closed" if not buf else "closed-mid-reply"
            buf += d
        head, rest = buf.split(b"\r\n\r\n", 1)
        status = int(head.split()[1])
        m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
        n = int(m.group(1)) if m else 0
        while len(rest) < n:
            d = s.recv(65536)
            if not d:
                return "closed-mid-reply"
            rest += d
        return status, rest[:n]
    except socket.timeout:
        return "timeout"
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    except (ValueError, IndexError):
        return "bad-reply"


def outcome(r):
    """A response as one word: "http 431", "200 failure", "200 success"..."""
    if isinstance(r, str):
        return r
    status, body = r
    if status != 200:
        return "http %d" % status
    if b"<value>Failure</value>" in body or b'"error":{' in body or b'"error":[' in body:
        return "200 failure"
    return "200 success"


def exchange(soak, data, timeout=10.0):
    try:
        s = connect(soak, soak.hostile_src(), timeout)
    except OSError as e:
        return "connect-" + type(e).__name__
    try:
        try:
            s.sendall(data)
        except (ConnectionResetError, BrokenPipeError):
            pass                        # answered and closed before the rest
        return outcome(read_response(s))
    finally:
        s.close()


def answered_error(o):
    return o.startswith("http 4") or o.startswith("http 5") or o == "200 failure"


def answered(o):
    return o.startswith("http ") or o.startswith("200 ")


class BadInput(threading.Thread):
    """One bad request every --bad-every seconds, each on a fresh connection
    from 127.0.5.x, in a shuffled round of all kinds.  A kind's answer is
    clean if it is what the kind expects (mostly: an HTTP error status or a
    XenAPI failure); anything else (no answer, a reset, a success for
    garbage) is counted as unexpected."""

    def __init__(self, soak):
        super().__init__(name="badinput", daemon=True)
        self.soak = soak
        self.rng = random.Random(soak.seed + 13)
        self.conn = Conn(soak, "json", src="127.0.5.1", timeout=30)
        self.session = None
        self.outcomes = {}              # kind -> Counter(outcome)
        self.unexpected = Counter()
        self.lock = threading.Lock()
        kinds = [k for k in dir(self) if k.startswith("case_")]
        skip = set(soak.args.without or ())
        self.kinds = [k for k in kinds if k[5:].replace("_", "-") not in skip]

    def sess(self):
        if self.session is None:
            self.session = login(self.conn)
        return self.session

    def token(self):
        return self.conn.call("event.from", self.sess(), ["pbd"], "", 0.0)["token"]

    def xml_call(self, method, *params):
        return xmlrpc.client.dumps(tuple(params), methodname=method, allow_none=True).encode()

    # Each case returns (outcome, clean).

    def case_xml_truncated(self):
        o = exchange(self.soak, post(b"/", b"<methodCall><methodName>VM.get_all</methodName>"
                                     b"<params><param><value>"))
        return o, answered_error(o)

    def case_xml_garbage(self):
        o = exchange(self.soak, post(b"/", self.rng.randbytes(self.rng.randint(1, 4096))))
        return o, answered_error(o)

    def case_xml_entity(self):
        o = exchange(self.soak, post(b"/", b"<?xml version='1.0'?><!DOCTYPE m [<!ENTITY e "
                                     b"SYSTEM 'file:///etc/passwd'>]><methodCall><methodName>"
                                     b"&e;</methodName></methodCall>"))
        return o, answered_error(o)

    def case_xml_deep(self):
        n = 14000
        body = (b"<methodCall><methodName>VM.get_record</methodName><params><param>" +
                b"<value><array><data>" * n + b"</data></array></value>" * n +
                b"</param></params></methodCall>")
        o = exchange(self.soak, post(b"/", body))
        return o, answered_error(o)

    def case_xml_bad_utf8(self):
        o = exchange(self.soak, post(b"/", b"<methodCall><methodName>VM.get_\xff\xfe"
                                     b"</methodName><params><param><value>\xc3\x28</value>"
                                     b"</param></params></methodCall>"))
        return o, answered_error(o)

    def case_xml_wrong_types(self):
        o = exchange(self.soak, post(b"/", self.xml_call("VM.get_record", self.sess(),
                                                         {"a": [1, 2.5]})))
        return o, o == "200 failure"

    def case_xml_unknown_method(self):
        o = exchange(self.soak, post(b"/", self.xml_call("VM.explode", self.sess())))
        return o, o == "200 failure"

    def case_json_truncated(self):
        o = exchange(self.soak, post(b"/jsonrpc", b'{"jsonrpc":"2.0","method":"VM.get_all",'
                                     b'"params":["', ctype=b"application/json"))
        return o, answered_error(o)

    def case_json_deep(self):
        n = 150000
        o = exchange(self.soak, post(b"/jsonrpc", b'{"jsonrpc":"2.0","method":"VM.get_all",'
                                     b'"id":1,"params":' + b"[" * n + b"]" * n + b"}",
                                     ctype=b"application/json"))
        return o, answered_error(o)

    def case_json_wrong_shape(self):
        o = exchange(self.soak, post(b"/jsonrpc", b'{"jsonrpc":"2.0","method":["x"],'
                                     b'"params":{"a":1},"id":null}',
                                     ctype=b"application/json"))
        return o, answered_error(o)

    def case_json_nan_timeout(self):
        """event.from(["pbd"], <a current token>, NaN) in JSON: NaN is not
        JSON; an error or an answer, promptly."""
        body = json.dumps({"jsonrpc": "2.0", "method": "event.from", "id": 1,
                           "params": [self.sess(), ["pbd"], self.token(), float("nan")]})
        o = exchange(self.soak, post(b"/jsonrpc", body.encode(), ctype=b"application/json"),
                     timeout=5)
        return o, answered(o)

    def case_xml_nan_timeout(self):
        """event.from with <double>nan</double> and a current token (nothing
        to return at once): an answer, promptly."""
        body = self.xml_call("event.from", self.sess(), ["pbd"], self.token(), 1.5)
        body = body.replace(b"<double>1.5</double>", b"<double>nan</double>")
        o = exchange(self.soak, post(b"/", body), timeout=5)
        return o, answered(o)

    def case_xml_inf_timeout_abandoned(self):
        """event.from with an infinite timeout and a current token: it waits
        (the daemon caps it at an hour); the client goes away after 1 s."""
        body = self.xml_call("event.from", self.sess(), ["pbd"], self.token(), 1.5)
        body = body.replace(b"<double>1.5</double>", b"<double>inf</double>")
        o = exchange(self.soak, post(b"/", body), timeout=1)
        o = "waiting" if o == "timeout" else o
        return o, o == "waiting" or answered(o)

    def case_head_oversized(self):
        o = exchange(self.soak, b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 +
                     b"\r\n\r\n")
        return o, o == "http 431"

    def case_head_many_headers(self):
        o = exchange(self.soak, b"POST / HTTP/1.1\r\n" +
                     b"".join(b"X-H%d: v\r\n" % i for i in range(100)) + b"\r\n")
        return o, o == "http 431"

    def case_head_long_target(self):
        o = exchange(self.soak, b"POST /" + b"a" * 3000 + b" HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 0\r\n\r\n")
        return o, o == "http 414"

    def case_head_garbage(self):
        o = exchange(self.soak, b"\x00\x01GARBAGE \xff\r\nno colon here\r\n\r\n")
        return o, answered_error(o)

    def case_body_oversized(self):
        o = exchange(self.soak, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 400000\r\n\r\n"
                     + b"<" * 1000)
        return o, o == "http 500"

    def case_content_length_bogus(self):
        v = self.rng.choice([b"abc", b"-5", b"1e3", b"99999999999999999999999",
                             b"10\r\nContent-Length: 20"])
        o = exchange(self.soak, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + v +
                     b"\r\n\r\n" + b"x" * 20)
        return o, answered_error(o)

    def case_chunked(self):
        body = self.xml_call("pool.get_all", self.sess())
        data = (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
        o = exchange(self.soak, data)
        return o, answered(o)

    def case_expect_continue(self):
        """A valid call sent as curl sends large bodies: the head with
        Expect: 100-continue, the body after "100 Continue" (or after 1 s)."""
        body = self.xml_call("pool.get_all", self.sess())
        head = post(b"/", body, extra=b"Expect: 100-continue\r\n")[:-len(body)]
        try:
            s = connect(self.soak, self.soak.hostile_src(), 10)
        except OSError as e:
            return "connect-" + type(e).__name__, False
        try:
            s.sendall(head)
            s.settimeout(1)
            try:
                first = s.recv(25)
            except socket.timeout:
                first = b""
            s.settimeout(10)
            got100 = first.startswith(b"HTTP/1.1 100")
            s.sendall(body)
            o = outcome(read_response(s)) if got100 or not first else "no-100"
            o = ("100, then " if got100 else "no 100, then ") + o
        except OSError as e:
            o = type(e).__name__
        finally:
            s.close()
        return o, o == "100, then 200 success"

    def case_truncated_body_close(self):
        try:
            s = connect(self.soak, self.soak.hostile_src(), 5)
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n<methodCall>")
            s.close()
            return "sent", True
        except OSError as e:
            return "connect-" + type(e).__name__, False

    def case_pipelined_close(self):
        body = self.xml_call("VM.get_all_records", self.sess())
        try:
            s = connect(self.soak, self.soak.hostile_src(), 5)
            s.sendall(post(b"/", body) * 20)
            s.close()
            return "sent", True
        except OSError as e:
            return "connect-" + type(e).__name__, False

    def run(self):
        soak, st = self.soak, self.soak.stats
        order = []
        while not soak.stop.wait(soak.args.bad_every):
            if not order:
                order = list(self.kinds)
                self.rng.shuffle(order)
            kind = order.pop()
            life = soak.life
            try:
                o, clean = getattr(self, kind)()
            except Fail as f:
                st.error("badinput", "setup-xenapi:" + f.code)
                if f.code == "SESSION_INVALID":
                    self.session = None
                continue
            except Transport as e:
                st.error("badinput", "setup-" + e.kind, e.stale)
                continue
            around = soak.around_restart(life)
            name = kind[5:].replace("_", "-")
            with self.lock:
                self.outcomes.setdefault(name, Counter())[o] += 1
            st.inc("badinput")
            if not clean:
                if around:
                    st.error("badinput", "%s: %s" % (name, o), True)
                else:
                    st.error("badinput", "%s: %s" % (name, o))
                    with self.lock:
                        self.unexpected[name] += 1


class Loiterers(threading.Thread):
    """Idle connections (connect, say nothing) and slowloris heads (one byte
    every 3-8 s of a head that never ends), kept at a constant number.  For
    each one the daemon ends: how, and after how many seconds."""

    def __init__(self, soak):
        super().__init__(name="loiterers", daemon=True)
        self.soak = soak
        self.rng = random.Random(soak.seed + 17)
        self.socks = {}                 # socket -> state dict
        self.ended = []                 # (kind, how, seconds)
        self.lock = threading.Lock()
        self.n = 0

    def open(self, kind):
        self.n += 1
        try:
            s = connect(self.soak, "127.0.7.%d" % (1 + self.n % 250), 5)
        except OSError as e:
            self.soak.stats.error("loiterers", "connect-" + type(e).__name__,
                                  self.soak.around_restart())
            return False
        s.setblocking(False)
        now = time.monotonic()
        head = b"POST / HTTP/1.1\r\nHost: soak\r\n" + b"".join(
            b"X-Slow-%d: %s\r\n" % (i, b"z" * 8) for i in range(40))
        self.socks[s] = {"kind": kind, "t0": now, "first": None, "next": now,
                         "head": head, "pos": 0, "life": self.soak.life}
        return True

    def end(self, s, how):
        st = self.socks.pop(s)
        t0 = st["first"] or st["t0"]
        around = self.soak.around_restart(st["life"])
        with self.lock:
            self.ended.append((st["kind"], how if not around else "daemon restarted",
                               time.monotonic() - t0))
        s.close()

    def run(self):
        a = self.soak.args
        while not self.soak.stop.wait(0.25):
            if not self.soak.down.is_set():
                kinds = Counter(v["kind"] for v in self.socks.values())
                for kind, want in (("idle", a.idle), ("slowloris", a.slowloris)):
                    for _ in range(want - kinds[kind]):
                        if not self.open(kind):
                            break
            now = time.monotonic()
            for s, st in list(self.socks.items()):
                if st["kind"] == "slowloris" and st["next"] <= now:
                    try:
                        s.send(st["head"][st["pos"]:st["pos"] + 1])
                        st["pos"] = (st["pos"] + 1) % len(st["head"])
                        st["first"] = st["first"] or now
                    except BlockingIOError:
                        pass
                    except OSError:
                        self.end(s, "reset on send")
                        continue
                    st["next"] = now + self.rng.uniform(3, 8)
            if not self.socks:
                continue
            r, _, _ = select.select(list(self.socks), [], [], 0)
            for s in r:
                try:
                    d = s.recv(4096)
                except OSError:
                    self.end(s, "reset")
                    continue
                if not d:
                    self.end(s, "closed")
                else:
                    m = re.match(rb"HTTP/1\.1 (\d+)", d)
                    self.end(s, "http %s" % m.group(1).decode() if m else "data")
        for s in list(self.socks):
            st = self.socks.pop(s)
            with self.lock:
                self.ended.append((st["kind"], "open at the end",
                                   time.monotonic() - (st["first"] or st["t0"])))
            s.close()


class SlowReaders(threading.Thread):
    """Big replies, read slowly or not at all:
    - every 10-20 s, VM.get_all_records read at 16 KiB/s (a 16 KiB socket
      buffer, 4 KiB every 250 ms);
    - every --hung-every s, a hung client: as many VM.get_all_records
      pipelined as make 24 MiB of replies (more than the daemon's 16 MiB
      reply queue), nothing read for --hung-hold s, then closed."""

    def __init__(self, soak):
        super().__init__(name="slowreaders", daemon=True)
        self.soak = soak
        self.rng = random.Random(soak.seed + 19)
        self.conn = Conn(soak, "xml", src="127.0.6.1", timeout=30)
        self.session = None
        self.reply_size = 100000
        self.reads = []                 # (bytes, seconds, how)
        self.hung = []                  # (requests, bytes asked, from s, to s)
        self.lock = threading.Lock()

    def request(self):
        if self.session is None:
            self.session = login(self.conn)
        return post(b"/", xmlrpc.client.dumps((self.session,), methodname="VM.get_all_records")
                    .encode())

    def slow_read(self):
        req = self.request()
        s = connect(self.soak, "127.0.6.2", 10, rcvbuf=16384)
        t0 = time.monotonic()
        got, how, want = 0, "?", None
        buf = b""
        try:
            s.sendall(req)
            while time.monotonic() - t0 < 120 and not self.soak.stop.is_set():
                d = s.recv(4096)
                if not d:
                    how = "closed by the daemon"
                    break
                got += len(d)
                if want is None:
                    buf += d
                    if b"\r\n\r\n" in buf:
                        head, rest = buf.split(b"\r\n\r\n", 1)
                        m = re.search(rb"(?i)content-length:\s*(\d+)", head)
                        want = len(head) + 4 + int(m.group(1)) if m else -1
                if want and want > 0 and got >= want:
                    how = "complete"
                    self.reply_size = want
                    break
                time.sleep(0.25)
            else:
                how = "gave up"
        except OSError as e:
            how = type(e).__name__
        finally:
            s.close()
        with self.lock:
            self.reads.append((got, time.monotonic() - t0, how))

    def hung_client(self):
        n = max(4, min(400, (24 << 20) // max(1, self.reply_size) + 1))
        req = self.request()
        s = connect(self.soak, "127.0.6.3", 10, rcvbuf=16384)
        t0 = self.soak.now()
        try:
            s.sendall(req * n)
            self.soak.stop.wait(self.soak.args.hung_hold)
        except OSError as e:
            self.soak.stats.error("slowreaders", "hung-" + type(e).__name__,
                                  self.soak.around_restart())
        finally:
            s.close()
        with self.lock:
            self.hung.append((n, n * self.reply_size, t0, self.soak.now()))

    def run(self):
        a = self.soak.args
        next_hung = time.monotonic() + self.rng.uniform(10, a.hung_every)
        while not self.soak.stop.wait(self.rng.uniform(10, 20)):
            try:
                if a.hung_every > 0 and time.monotonic() >= next_hung:
                    self.hung_client()
                    next_hung = time.monotonic() + a.hung_every
                else:
                    self.slow_read()
            except Fail as f:
                self.soak.stats.error("slowreaders", "xenapi:" + f.code)
                if f.code == "SESSION_INVALID":
                    self.session = None
            except Transport as e:
                self.soak.stats.error("slowreaders", e.kind, e.stale)
            except OSError as e:
                self.soak.stats.error("slowreaders", "connect-" + type(e).__name__,
                                      self.soak.around_restart())
