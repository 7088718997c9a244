#!/usr/bin/env python3
"""Login storm benchmark (docs/BENCHMARKS.md); prints figures, asserts nothing.

An established session calls pool.get_all back to back over one
keep-alive connection, first alone, then while a storm of wrong-password
logins comes from many loopback addresses (127.0.0.2 ...; each address
gets its 5 failures a minute, so enough addresses keep the password
checks busy all along).  Prints the session's call latency p50/p99/max
and count for both phases, and what the storm's logins got back.  With --tls, the storm is TLS
handshakes to the HTTPS port instead (each connection closed after its
handshake): the same class of work, unauthenticated CPU per connection,
done in the loop thread (an ECDSA signature and an ECDHE per handshake).

usage: bench/login-storm/run.py [XENBOX] [--seconds S] [--addresses N]
                                [--storm-procs P] [--storm-threads T] [--tls]
XENBOX defaults to the shipped static binary, output/check/images/xenbox.
The root password is hashed with xenbox's default (AUTH_DEFAULT_ITER).
"""
import argparse
import http.client
import multiprocessing
import os
import sys
import tempfile
import time
import xmlrpc.client

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")


def calls(d, s, seconds):
    """Latencies (s) of pool.get_all, back to back, for `seconds`."""
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=120)
    body = xmlrpc.client.dumps((s,), "pool.get_all")
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.monotonic()
        c.request("POST", "/", body, {"Content-Type": "text/xml"})
        r = c.getresponse()
        r.read()
        out.append(time.monotonic() - t)
        assert r.status == 200
    c.close()
    return out


def storm_proc(port, addrs, threads, seconds, q, tls=False):
    """Wrong-password logins (or TLS handshakes) from addrs, round robin,
    `threads` at a time."""
    import socket
    import ssl
    import threading
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    counts = {}
    lock = threading.Lock()
    body = xmlrpc.client.dumps(("root", "wrong-password"), "session.login_with_password")
    end = time.monotonic() + seconds

    def run(k):
        i = k
        while time.monotonic() < end:
            src = addrs[i % len(addrs)]
            i += threads
            try:
                if tls:
                    raw = socket.create_connection(("127.0.0.1", port), 120, (src, 0))
                    ctx.wrap_socket(raw, server_hostname="x").close()
                    why = "TLS handshake done"
                    with lock:
                        counts[why] = counts.get(why, 0) + 1
                    continue
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=120,
                                               source_address=(src, 0))
                c.request("POST", "/", body, {"Content-Type": "text/xml"})
                r = xmlrpc.client.loads(c.getresponse().read())[0][0]
                c.close()
                why = r["ErrorDescription"][2] if r["Status"] == "Failure" else "success?!"
            except Exception as e:          # noqa: BLE001 (a figure, not a test)
                why = "error: %s" % type(e).__name__
            with lock:
                counts[why] = counts.get(why, 0) + 1

    ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    q.put(counts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("xenbox", nargs="?", default=os.path.join(TOP, "output/check/images/xenbox"))
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--addresses", type=int, default=200)
    ap.add_argument("--storm-procs", type=int, default=2)
    ap.add_argument("--storm-threads", type=int, default=16)
    ap.add_argument("--tls", action="store_true", help="a storm of TLS handshakes")
    a = ap.parse_args()

    import conftest
    conftest.XENBOX = a.xenbox
    from conftest import Daemon, set_password
    with tempfile.TemporaryDirectory(prefix="xenbox-bench-") as state:
        set_password(state)
        d = Daemon(state).start(https=a.tls)
        if a.tls:                           # the certificate is made at start
            import socket
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            for _ in range(100):
                try:
                    ctx.wrap_socket(socket.create_connection(("127.0.0.1", d.https_port)),
                                    server_hostname="x").close()
                    break
                except (OSError, ssl.SSLError):
                    time.sleep(0.1)
        try:
            _, s = d.login()
            quiet = calls(d, s, a.seconds / 2)
            addrs = ["127.0.%d.%d" % (2 + i // 250, 2 + i % 250) for i in range(a.addresses)]
            q = multiprocessing.Queue()
            procs = [multiprocessing.Process(target=storm_proc, args=(
                d.https_port if a.tls else d.port, addrs[k::a.storm_procs],
                a.storm_threads, a.seconds, q, a.tls))
                for k in range(a.storm_procs)]
            for p in procs:
                p.start()
            time.sleep(0.5)                 # the storm is under way
            loud = calls(d, s, a.seconds - 1)
            counts = {}
            for _ in procs:
                for k, v in q.get().items():
                    counts[k] = counts.get(k, 0) + v
            for p in procs:
                p.join()
        finally:
            d.stop()
    print("xenbox: %s" % a.xenbox)
    print("storm: %s from %d addresses, %d connections at a time, %.0f s" % (
        "TLS handshakes" if a.tls else "wrong-password logins", a.addresses,
        a.storm_procs * a.storm_threads, a.seconds))
    for name, xs in (("alone", quiet), ("during storm", loud)):
        print("%-13s pool.get_all: %5d calls  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms" % (
            name, len(xs), pct(xs, 50) * 1e3, pct(xs, 99) * 1e3, max(xs) * 1e3))
    print("storm logins answered: %d" % sum(counts.values()))
    for k, v in sorted(counts.items(), key=lambda kv: -kv[1]):
        print("  %6d  %s" % (v, k))


if __name__ == "__main__":
    main()
