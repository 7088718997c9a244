#!/usr/bin/env python3
"""Pool benchmark (docs/POOL.md 12, docs/BENCHMARKS.md); prints figures,
asserts nothing.

The master is the shipped static binary with --backend none on loopback;
the members are fake (bench/pool/members.py): 4 processes of N/4 members,
each member with its own client certificate and 10 VMs (records captured
once from a real sim daemon: VMs with a VDI, a VBD and a VIF each, and the
host's own objects; fresh refs and uuids per member).  Prints:

  - the time until all N members are live (the joins);
  - the master's RSS (VmRSS, VmHWM) and CPU (joins; 30 s idle);
  - pool-wide VM.get_all_records, XML-RPC and JSON: median of 3 (s, MB);
  - event latency, a member's change (a VM's name_label set to its send
    time) to an event.from client on the master: p50/p99 over 1000
    changes spread over members and 20 s;
  - after kill -9 and restart of the master (same state, same ports),
    the time until every host_metrics.live is true (polled every 0.5 s),
    with the master's CPU and RSS then.

Goals (issue 12): 1000 members in <= 64 MiB RSS, event p99 <= 1 s, all
live again <= 30 s.

usage: bench/pool/run.py [-n N] [--vms 10] [--xenbox BIN] [--sim BIN]
BIN defaults to output/check/images/xenbox; --sim (the daemon the records
are captured from, sim backend) defaults to the same binary.  Records and
certificates are cached under output/bench-pool/.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuidlib
import xmlrpc.client

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from ports import free_port  # noqa: E402  (tests/lib, as the tests use it)

MIRRORED = ["host", "host_metrics", "host_cpu", "VM", "VM_metrics", "VM_guest_metrics",
            "console", "network", "PIF", "VIF", "SR", "VDI", "VBD", "PBD"]
PASSWORD = None


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")


def jrpc(port, method, params, timeout=600):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("POST", "/jsonrpc", json.dumps({"jsonrpc": "2.0", "method": method,
                                              "params": params, "id": 1}),
              {"Content-Type": "application/json"})
    data = c.getresponse().read()
    c.close()
    r = json.loads(data)
    if "error" in r:
        raise RuntimeError("%s: %s" % (method, r["error"]))
    return r["result"], len(data)


def login(port):
    return jrpc(port, "session.login_with_password", ["root", PASSWORD, "1.0", "bench"])[0]


# ---- the records, from a real sim daemon ----

def capture(binary, vms, cache):
    path = os.path.join(cache, "records-%d.json" % vms)
    if os.path.exists(path):
        with open(path) as f:
            return f.read()
    import conftest
    conftest.XENBOX = binary
    from conftest import Daemon, ok, set_password
    with tempfile.TemporaryDirectory(prefix="xb-bench-capture-") as state:
        set_password(state)
        d = Daemon(state).start()
        try:
            p, s = d.login()
            pool = list(ok(p.pool.get_all_records(s)).values())[0]
            net = ok(p.network.get_all(s))[0]
            for i in range(vms):
                vm = ok(p.VM.create(s, {
                    "name_label": "bench%d" % i, "PV_kernel": "/boot/vmlinuz", "PV_args": "",
                    "memory_static_max": str(32 << 20), "memory_dynamic_max": str(32 << 20),
                    "memory_dynamic_min": str(32 << 20), "memory_static_min": str(32 << 20),
                    "VCPUs_max": "2", "VCPUs_at_startup": "2", "domain_type": "pv"}))
                vdi = ok(p.VDI.create(s, {"SR": pool["default_SR"], "virtual_size": str(1 << 20),
                                          "name_label": "d%d" % i, "type": "user",
                                          "sharable": False, "read_only": False,
                                          "other_config": {}}))
                ok(p.VBD.create(s, {"VM": vm, "VDI": vdi, "userdevice": "0", "bootable": True,
                                    "mode": "RW", "type": "Disk", "empty": False,
                                    "other_config": {}}))
                ok(p.VIF.create(s, {"VM": vm, "network": net, "device": "0", "MAC": "",
                                    "MTU": "1500", "other_config": {}}))
            js = d.jsonrpc("session.login_with_password", ["root", conftest.PASSWORD])["result"]
            objs = []
            for cls in MIRRORED:
                recs = d.jsonrpc(cls + ".get_all_records", [js])["result"]
                objs += [{"class": cls, "ref": r, "record": v} for r, v in recs.items()]
        finally:
            d.stop()
    text = json.dumps(objs)
    with open(path, "w") as f:
        f.write(text)
    return text


def identities(n, cache):
    """(host uuid, certificate, key) of fake member i, made once."""
    d = os.path.join(cache, "members")
    os.makedirs(d, exist_ok=True)
    out = []
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        import datetime
    except ImportError:
        x509 = None
    for i in range(n):
        cert, key, idf = (os.path.join(d, "%d.%s" % (i, e)) for e in ("crt", "key", "uuid"))
        if not os.path.exists(idf):
            u = str(uuidlib.uuid4())
            if x509:
                k = ec.generate_private_key(ec.SECP256R1())
                name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u)])
                now = datetime.datetime.now(datetime.timezone.utc)
                c = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(k.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=3650))
                     .sign(k, hashes.SHA256()))
                with open(key, "wb") as f:
                    f.write(k.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
                with open(cert, "wb") as f:
                    f.write(c.public_bytes(serialization.Encoding.PEM))
            else:
                subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + u,
                                "-days", "3650", "-keyout", key, "-out", cert],
                               check=True, capture_output=True)
            with open(idf, "w") as f:
                f.write(u)
        with open(idf) as f:
            out.append((f.read().strip(), cert, key))
    return out


# ---- the master ----

class Master:
    def __init__(self, binary, state):
        self.binary, self.state = binary, state
        self.port, self.https = free_port(), free_port()
        self.proc = None

    def start(self):
        log = open(os.path.join(self.state, "daemon.log"), "a")
        self.proc = subprocess.Popen(
            [self.binary, "daemon", "--state-dir", self.state, "--backend", "none",
             "--http", "127.0.0.1:%d" % self.port, "--https", "127.0.0.1:%d" % self.https,
             "--unix", os.path.join(self.state, "xapi.sock")],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.t0 = time.monotonic()
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError("master did not start")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()

    def status(self, key):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0     # MiB

    def cpu(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
        return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))


def live_count(port, s):
    recs, _ = jrpc(port, "host_metrics.get_all_records", [s])
    return sum(1 for v in recs.values() if v["live"])


def wait_live(m, n, limit):
    """Seconds from m.t0 until n + 1 hosts (the master too) are live,
    polled every 0.5 s; None past limit."""
    s = None
    while time.monotonic() - m.t0 < limit:
        try:
            s = s or login(m.port)
            if live_count(m.port, s) >= n + 1:
                return time.monotonic() - m.t0
        except (OSError, RuntimeError, http.client.HTTPException):
            s = None
        time.sleep(0.5)
    return None


def events(port, stop, lat):
    """An event.from client on the master: latency of every VM change
    whose name_label carries its send time."""
    s = login(port)
    token = jrpc(port, "event.from", [s, ["VM"], "", 0.0])[0]["token"]
    while not stop.is_set():
        try:
            r = jrpc(port, "event.from", [s, ["VM"], token, 5.0])[0]
        except (OSError, RuntimeError, http.client.HTTPException):
            return
        now = time.time()
        token = r["token"]
        for e in r["events"]:
            nl = (e.get("snapshot") or {}).get("name_label", "")
            if nl.startswith("lat "):
                lat.append(now - float(nl[4:]))


def status(pipes):
    live = total = conns = 0
    ref = {}
    for p in pipes:
        p.send(("status",))
    for p in pipes:
        a, b, c, r = p.recv()
        live, total, conns = live + a, total + b, conns + c
        for k, v in r.items():
            ref[k] = ref.get(k, 0) + v
    return live, total, conns, ref


def main():
    global PASSWORD
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=64)
    ap.add_argument("--vms", type=int, default=10)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--xenbox", default=os.path.join(TOP, "output/check/images/xenbox"))
    ap.add_argument("--sim", default=None)
    ap.add_argument("--changes", type=int, default=1000)
    ap.add_argument("--out", default=os.path.join(TOP, "output", "bench-pool"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    import conftest
    PASSWORD = conftest.PASSWORD
    t = time.monotonic()
    template = capture(a.sim or a.xenbox, a.vms, a.out)
    ids = identities(a.n, a.out)
    print("xenbox: %s; N = %d members of %d VMs (%d objects each), %d processes; "
          "records and %d certificates ready in %.1f s" % (
              a.xenbox, a.n, a.vms, len(json.loads(template)), a.procs, a.n,
              time.monotonic() - t))

    with tempfile.TemporaryDirectory(prefix="xb-bench-pool-") as state:
        conftest.XENBOX = a.xenbox
        conftest.set_password(state)
        m = Master(a.xenbox, state)
        m.start()
        pipes, procs = [], []
        try:
            s = login(m.port)
            token, _ = jrpc(m.port, "pool.create_join_token", [s, str(a.n), "86400", "bench"])
            ctx = multiprocessing.get_context("fork")
            import members
            for k in range(a.procs):
                mine, theirs = ctx.Pipe()
                p = ctx.Process(target=members.run, args=(
                    theirs, k, ids[k::a.procs], template, "127.0.0.1", m.https, token))
                p.start()
                pipes.append(mine)
                procs.append(p)
            cpu0 = m.cpu()
            joined = wait_live(m, a.n, 600)
            print("joins: all %d live after %s s; master CPU %.1f s" % (
                a.n, "%.1f" % joined if joined else "NOT (600 s)", m.cpu() - cpu0))
            live, total, conns, ref = status(pipes)
            print("  members: %d/%d up, %d connection attempts, failures: %s; master fds %d" % (
                live, total, conns, ref or "none", m.fds()))
            c = m.cpu()
            time.sleep(30)
            print("master RSS: VmRSS %.1f MiB, VmHWM %.1f MiB; idle CPU %.1f%% over 30 s" % (
                m.status("VmRSS"), m.status("VmHWM"), (m.cpu() - c) / 30 * 100))

            for how in ("XML-RPC", "JSON"):
                ts, size = [], 0
                for _ in range(3):
                    t = time.monotonic()
                    if how == "JSON":
                        r, size = jrpc(m.port, "VM.get_all_records", [s])
                        nvm = len(r)
                    else:
                        c2 = http.client.HTTPConnection("127.0.0.1", m.port, timeout=600)
                        c2.request("POST", "/", xmlrpc.client.dumps((s,), "VM.get_all_records"),
                                   {"Content-Type": "text/xml"})
                        data = c2.getresponse().read()
                        size = len(data)
                        c2.close()
                        nvm = data.count(b"<name>uuid</name>")
                    ts.append(time.monotonic() - t)
                print("VM.get_all_records %-7s %d VMs, %.1f MB: median %.2f s (%s); "
                      "VmHWM after: %.1f MiB" % (
                          how, nvm, size / 1e6, pct(ts, 50), " ".join("%.2f" % x for x in ts),
                          m.status("VmHWM")))

            lat, stop = [], threading.Event()
            ev = threading.Thread(target=events, args=(m.port, stop, lat), daemon=True)
            ev.start()
            time.sleep(1)
            c = m.cpu()
            for i, p in enumerate(pipes):
                p.send(("changes", a.changes // a.procs + (i < a.changes % a.procs), 20.0))
            sent = sum(p.recv()[1] for p in pipes)
            time.sleep(5)
            stop.set()
            print("events: %d changes sent over 20 s, %d seen; latency p50 %.0f ms, "
                  "p99 %.0f ms, max %.0f ms; master CPU %.1f s" % (
                      sent, len(lat), pct(lat, 50) * 1e3, pct(lat, 99) * 1e3,
                      max(lat) * 1e3 if lat else float("nan"), m.cpu() - c))

            vm = [r for r, v in jrpc(m.port, "VM.get_all_records", [s])[0].items()
                  if v["name_label"].startswith("lat ") or v["name_label"].startswith("bench")][0]
            t = time.monotonic()
            jrpc(m.port, "VM.start", [s, vm, False, False])
            print("a forwarded VM.start: %.0f ms, then power_state %s" % (
                (time.monotonic() - t) * 1e3, jrpc(m.port, "VM.get_power_state", [s, vm])[0]))

            m.kill()
            m.start()
            again = wait_live(m, a.n, 600)
            print("kill -9, restart: all %d live again after %s s; master CPU %.1f s; "
                  "VmRSS %.1f MiB, VmHWM %.1f MiB" % (
                      a.n, "%.1f" % again if again else "NOT (600 s)", m.cpu(),
                      m.status("VmRSS"), m.status("VmHWM")))
            live, total, conns, ref = status(pipes)
            print("  members: %d/%d up, %d connection attempts in all, failures: %s" % (
                live, total, conns, ref or "none"))
        finally:
            for p in pipes:
                try:
                    p.send(("stop",))
                except OSError:
                    pass
            for p in procs:
                p.join(10)
                if p.is_alive():
                    p.kill()
            m.stop()
            with open(os.path.join(state, "daemon.log")) as f:
                lines = [l for l in f if ("ERROR" in l or "warn" in l.lower())
                         and "online: connected" not in l]
            if lines:
                print("master log, warnings and errors (%d; first 5):" % len(lines))
                for l in lines[:5]:
                    print("  " + l.rstrip())


if __name__ == "__main__":
    main()
