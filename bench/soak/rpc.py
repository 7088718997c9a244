"""XenAPI calls over one keep-alive HTTP connection (XML-RPC or JSON-RPC),
and the soak's shared counters.

A call ends in one of three ways:
  - a value (Status Success): the change is acknowledged;
  - Fail (a XenAPI failure, or a JSON-RPC error): the daemon answered that
    it did not do it;
  - Transport (no answer, an HTTP error status, an undecodable reply): the
    outcome is unknown, the ledger keeps both possibilities.
"""
import http.client
import json
import socket
import threading
import time
import xmlrpc.client
from collections import Counter


class Fail(Exception):
    def __init__(self, desc):
        super().__init__(desc)
        self.desc = [str(d) for d in desc] if isinstance(desc, list) else [str(desc)]
        self.code = self.desc[0] if self.desc else "?"


class Transport(Exception):
    def __init__(self, kind, stale=False):
        super().__init__(kind)
        self.kind = kind
        self.stale = stale          # opened before a restart, or during one


def transport_kind(e):
    if isinstance(e, socket.timeout):
        return "timeout"
    if isinstance(e, ConnectionRefusedError):
        return "refused"
    if isinstance(e, (ConnectionResetError, BrokenPipeError)):
        return "reset"
    if isinstance(e, http.client.RemoteDisconnected):
        return "closed"
    return type(e).__name__


class Stats:
    """Thread-safe counters, figures and error kinds."""
    def __init__(self):
        self.lock = threading.Lock()
        self.count = Counter()          # "calls", "calls/VM.start", ...
        self.errors = Counter()         # "worker/xenapi:CODE" -> n, unexpected
        self.errors_restart = Counter() # the same, around a kill or a restart
        self.figures = {}               # name -> [values]

    def inc(self, key, n=1):
        with self.lock:
            self.count[key] += n

    def error(self, where, kind, around_restart=False):
        with self.lock:
            (self.errors_restart if around_restart else self.errors)["%s/%s" % (where, kind)] += 1

    def add(self, name, value):
        with self.lock:
            self.figures.setdefault(name, []).append(value)

    def values(self, name):
        with self.lock:
            return list(self.figures.get(name, ()))


class Conn:
    """One keep-alive connection; reconnects after a transport error.  Never
    retries a call: a call without an answer has an unknown outcome."""

    def __init__(self, soak, proto="xml", src="127.0.0.1", timeout=30.0, path=None):
        self.soak = soak
        self.proto = proto
        self.src = src
        self.timeout = timeout
        self.path = path or ("/jsonrpc" if proto == "json" else "/")
        self.c = None
        self.life = None
        self.rid = 0
        self.ms = 0.0

    def close(self):
        if self.c:
            self.c.close()
        self.c = None

    def encode(self, method, params):
        if self.proto == "json":
            self.rid += 1
            return (json.dumps({"jsonrpc": "2.0", "method": method, "params": list(params),
                                "id": self.rid}).encode(), "application/json")
        return (xmlrpc.client.dumps(tuple(params), methodname=method,
                                    allow_none=True).encode(), "text/xml")

    def decode(self, data):
        if self.proto == "json":
            d = json.loads(data)
            if d.get("error"):
                e = d["error"]
                raise Fail([e.get("message")] + list(e.get("data") or [])
                           if isinstance(e, dict) else e)
            return d.get("result")
        r = xmlrpc.client.loads(data)[0][0]
        if r.get("Status") == "Success":
            return r.get("Value")
        raise Fail(r.get("ErrorDescription") or ["?"])

    def call(self, method, *params, timeout=None):
        body, ctype = self.encode(method, params)
        t0 = time.monotonic()
        stale = False
        try:
            if self.c is None:
                self.c = http.client.HTTPConnection("127.0.0.1", self.soak.daemon.port,
                                                    timeout=self.timeout,
                                                    source_address=(self.src, 0))
                self.c.connect()
                self.life = self.soak.life
            stale = self.life != self.soak.life
            self.c.sock.settimeout(timeout or self.timeout)
            self.c.request("POST", self.path, body, {"Content-Type": ctype})
            r = self.c.getresponse()
            data = r.read()
            if r.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise Transport(transport_kind(e),
                            stale or self.soak.around_restart(self.life))
        finally:
            self.ms = (time.monotonic() - t0) * 1000.0
        if r.status != 200:
            self.close()
            raise Transport("http:%d" % r.status, self.soak.around_restart())
        try:
            return self.decode(data)
        except Fail:
            raise
        except Exception:
            self.close()
            raise Transport("undecodable", self.soak.around_restart())


def login(conn, originator=None):
    from daemon import PASSWORD
    if originator is None:
        return conn.call("session.login_with_password", "root", PASSWORD)
    return conn.call("session.login_with_password", "root", PASSWORD, "2.21", originator)
