"""The ordinary clients: VM workers (sync and Async calls, the ledger's
writers), an event.from client as Xen Orchestra keeps, XO's barrier, and
logins (right and wrong passwords, several source addresses)."""
import random
import re
import threading
import time

from daemon import PASSWORD
from rpc import Conn, Fail, Transport, login

VM_TEMPLATE = {
    "PV_kernel": "/boot/vmlinuz", "PV_args": "console=hvc0",
    "memory_static_max": str(64 << 20), "memory_dynamic_max": str(64 << 20),
    "memory_dynamic_min": str(64 << 20), "memory_static_min": str(32 << 20),
    "VCPUs_max": "1", "VCPUs_at_startup": "1", "domain_type": "pv",
}

REF = re.compile(r"OpaqueRef:[0-9a-f-]+")


class Worker(threading.Thread):
    """One session doing VM lifecycle, field writes, reads and Async calls on
    its own VMs.  Worker 0 is "the established session" whose latency is
    reported.  Every change goes through the ledger."""

    QUICK = ("VM.get_record", "VM.get_all_records", "VM.get_all", "host.get_record",
             "pool.get_all_records", "VM.set_name_label", "VM.create", "VM.destroy",
             "VM.start", "VM.hard_shutdown", "task.get_status")

    def __init__(self, soak, wid, proto):
        super().__init__(name="worker%d" % wid, daemon=True)
        self.soak = soak
        self.wid = wid
        self.conn = Conn(soak, proto, timeout=30)
        self.session = None
        self.n = 0
        self.rng = random.Random(soak.seed * 100 + wid)

    # -- calls --

    def call(self, method, *args, timeout=None):
        """A call with the session; counts it and records its latency."""
        st = self.soak.stats
        if self.session is None:
            self.session = login(self.conn, "soak-worker-%d" % self.wid)
            st.inc("logins/worker")
        try:
            v = self.conn.call(method, self.session, *args, timeout=timeout)
        except Fail as f:
            self.lat(method)
            if f.code == "SESSION_INVALID":
                self.session = None
            raise
        self.lat(method)
        return v

    def lat(self, method):
        st = self.soak.stats
        st.inc("calls")
        st.inc("calls/" + method)
        st.add("ms/" + method, self.conn.ms)
        if self.wid == 0 and method in self.QUICK:
            st.add("established", (time.monotonic(), self.conn.ms))

    def surprise(self, ref, f):
        """A XenAPI failure on one of our VMs that our ledger did not expect:
        is it a lost change?  Checks that VM against the daemon."""
        self.soak.stats.error("worker", "xenapi:" + f.code)
        try:
            rec = self.call("VM.get_record", ref)
        except Fail as g:
            rec = None if g.code == "HANDLE_INVALID" else False
        except Transport:
            rec = False
        if rec is not False:
            for p in self.soak.ledger.check_one(ref, rec, "worker %d after %s"
                                                % (self.wid, f.code)):
                self.soak.say("LOST " + p)

    # -- one change --

    def change(self, ref, attr, new, kind, method, *args, timeout=None):
        led = self.soak.ledger
        old = led.begin(ref, attr, new)
        try:
            self.call(method, ref, *args, timeout=timeout)
        except Fail as f:
            led.refused(ref, attr, old)
            if f.code != "SESSION_INVALID":
                self.surprise(ref, f)
            else:
                self.soak.stats.error("worker", "xenapi:SESSION_INVALID")
            return
        except Transport as e:
            self.soak.stats.error("worker", e.kind, e.stale)
            return
        led.ack(ref, attr, new, kind)

    def async_change(self, ref, attr, new, kind, method, *args):
        """Async.<method>: the change is acknowledged when the task says
        success.  A share of the tasks (--leak-tasks) is left undestroyed, as
        a client that dies or does not care does."""
        led = self.soak.ledger
        old = led.begin(ref, attr, new)
        try:
            task = self.call("Async." + method, ref, *args)
            status, rec = self.wait_task(task)
        except Fail as f:
            led.refused(ref, attr, old)
            self.soak.stats.error("worker", "xenapi:" + f.code)
            return
        except Transport as e:
            self.soak.stats.error("worker", e.kind, e.stale)
            return
        if status == "success":
            led.ack(ref, attr, new, kind)
        elif status == "failure":
            led.refused(ref, attr, old)
            self.surprise(ref, Fail(rec.get("error_info") or ["task failure"]))
        else:
            self.soak.stats.error("worker", "task-still-%s" % status)

    def wait_task(self, task, limit=30.0):
        t0 = time.monotonic()
        status = "pending"
        while time.monotonic() - t0 < limit and not self.soak.stop.is_set():
            status = self.call("task.get_status", task)
            if status != "pending":
                break
            time.sleep(0.05)
        rec = self.call("task.get_record", task) if status != "pending" else {}
        self.soak.stats.inc("tasks/" + status)
        if status != "pending" and self.rng.random() >= self.soak.args.leak_tasks:
            self.call("task.destroy", task)
        else:
            self.soak.stats.inc("tasks/left")
        return status, rec

    # -- the loop --

    def create(self, use_async):
        self.n += 1
        name = "soak-w%d-%d" % (self.wid, self.n)
        led = self.soak.ledger
        led.create_unknown(name, self.wid)
        rec = dict(VM_TEMPLATE, name_label=name)
        try:
            if use_async:
                task = self.call("Async.VM.create", rec)
                status, trec = self.wait_task(task)
                m = REF.search(trec.get("result") or "") if status == "success" else None
                if not m:
                    self.soak.stats.error("worker", "async-create-%s" % status)
                    return
                ref = m.group(0)
            else:
                ref = self.call("VM.create", rec)
        except Fail as f:
            self.soak.stats.error("worker", "xenapi:" + f.code)
            return
        except Transport as e:
            self.soak.stats.error("worker", e.kind, e.stale)
            return
        led.created(ref, self.wid, name)

    def destroy(self, ref):
        led = self.soak.ledger
        old = led.begin(ref, "exists", False)
        try:
            self.call("VM.destroy", ref)
        except Fail as f:
            led.refused(ref, "exists", old)
            self.surprise(ref, f)
            return
        except Transport as e:
            self.soak.stats.error("worker", e.kind, e.stale)
            return
        led.ack(ref, "exists", False, "destroy")

    def read(self, mine):
        r = self.rng.random()
        try:
            if r < 0.15:
                self.call("VM.get_all_records")
            elif r < 0.5 and mine:
                self.call("VM.get_record", self.rng.choice(mine)[0])
            elif r < 0.7:
                self.call("VM.get_all")
            elif r < 0.9:
                hosts = self.call("host.get_all")
                self.call("host.get_record", hosts[0])
            else:
                self.call("pool.get_all_records")
        except Fail as f:
            self.soak.stats.error("worker", "xenapi:" + f.code)
        except Transport as e:
            self.soak.stats.error("worker", e.kind, e.stale)

    def step(self):
        a = self.soak.args
        mine = [m for m in self.soak.ledger.mine(self.wid) if m[1] and m[2]]
        halted = [m for m in mine if m[2] == "Halted"]
        running = [m for m in mine if m[2] == "Running"]
        ops = [("read", 10)]
        if len(mine) < a.vms:
            ops += [("create", 3), ("acreate", 1)]
        if mine:
            ops.append(("rename", 4))
        if halted:
            ops += [("start", 3), ("astart", 1)]
            if len(mine) > a.vms // 2:
                ops.append(("destroy", 2))
        if running:
            ops += [("clean_shutdown", 1), ("hard_shutdown", 2), ("ahard_shutdown", 1)]
        op = self.rng.choices([o for o, _ in ops], [w for _, w in ops])[0]
        if op == "read":
            self.read(mine)
        elif op in ("create", "acreate"):
            self.create(op == "acreate")
        elif op == "rename":
            ref, name, _ = self.rng.choice(mine)
            base = name.split("~")[0]
            self.n += 1
            new = "%s~%d" % (base, self.n)
            self.change(ref, "name_label", new, "name", "VM.set_name_label", new)
        elif op == "start":
            self.change(self.rng.choice(halted)[0], "power_state", "Running", "power",
                        "VM.start", False, False)
        elif op == "astart":
            self.async_change(self.rng.choice(halted)[0], "power_state", "Running", "power",
                              "VM.start", False, False)
        elif op == "destroy":
            self.destroy(self.rng.choice(halted)[0])
        elif op == "clean_shutdown":
            self.change(self.rng.choice(running)[0], "power_state", "Halted", "power",
                        "VM.clean_shutdown", timeout=60)
        elif op == "hard_shutdown":
            self.change(self.rng.choice(running)[0], "power_state", "Halted", "power",
                        "VM.hard_shutdown")
        elif op == "ahard_shutdown":
            self.async_change(self.rng.choice(running)[0], "power_state", "Halted", "power",
                              "VM.hard_shutdown")

    def run(self):
        soak = self.soak
        while not soak.stop.is_set():
            if not soak.gate.enter(soak.stop):
                break
            try:
                self.step()
            except Fail as f:
                soak.stats.error("worker", "xenapi:" + f.code)
                if f.code == "SESSION_INVALID":
                    self.session = None
            except Transport as e:
                soak.stats.error("worker", e.kind, e.stale)
            finally:
                soak.gate.leave()
            soak.stop.wait(self.rng.uniform(0, soak.args.pace))


class EventClient(threading.Thread):
    """What XO's xen-api connector does (docs/shared xenapi.md, section 2b):
    JSON-RPC; log in with two arguments; pool.get_all_records; event.inject
    for a token; every type's get_all_records; then event.from(["*"], token,
    60.1) in a loop with a 66 s client timeout and a 200 ms debounce.
    EVENTS_LOST and SESSION_INVALID restart the loop; other errors wait (XO:
    60 s; here 2 s, to keep the load on)."""

    TYPES = ("pool", "host", "VM", "task", "network", "SR", "VBD", "VIF", "VDI",
             "host_metrics", "VM_metrics", "message")

    def __init__(self, soak):
        super().__init__(name="events", daemon=True)
        self.soak = soak
        self.conn = Conn(soak, "json", timeout=66)
        self.barriers = {}              # key -> threading.Event
        self.blk = threading.Lock()

    def run(self):
        soak, st = self.soak, self.soak.stats
        session = token = token_life = None
        while not soak.stop.is_set():
            try:
                if session is None:
                    session = self.conn.call("session.login_with_password", "root", PASSWORD)
                    st.inc("events/logins")
                if token is None:
                    pool = next(iter(self.conn.call("pool.get_all_records", session)))
                    token = self.conn.call("event.inject", session, "pool", pool)
                    token_life = soak.life
                    for t in self.TYPES:
                        self.conn.call(t + ".get_all_records", session)
                    st.inc("events/resyncs")
                r = self.conn.call("event.from", session, ["*"], token, 60.1)
                token = r["token"]
                st.inc("events/batches")
                st.inc("events/events", len(r["events"]))
                for ev in r["events"]:
                    if ev.get("class") == "pool" and ev.get("snapshot"):
                        oc = ev["snapshot"].get("other_config") or {}
                        with self.blk:
                            for k, e in self.barriers.items():
                                if k in oc:
                                    e.set()
                soak.stop.wait(0.2)
            except Fail as f:
                # a token from before a restart is lost by design (the
                # daemon's generations start again): the client resyncs
                st.error("events", "xenapi:" + f.code,
                         f.code == "EVENTS_LOST" and soak.around_restart(token_life))
                if f.code == "SESSION_INVALID":
                    session = token = None
                elif f.code == "EVENTS_LOST":
                    token = None
                else:
                    soak.stop.wait(2)
            except Transport as e:
                st.error("events", e.kind, e.stale)
                soak.stop.wait(1 if e.stale else 2)


class Barrier(threading.Thread):
    """XO's barrier: pool.add_to_other_config(pool, "xo:barrier:<rand>", ts),
    wait for the event client to see it, remove it.  Its latency is
    printed; a barrier not seen within 30 s is an error (an event lost)."""

    def __init__(self, soak, events):
        super().__init__(name="barrier", daemon=True)
        self.soak = soak
        self.events = events
        self.conn = Conn(soak, "json", timeout=30)
        self.rng = random.Random(soak.seed + 7)

    def run(self):
        soak, st = self.soak, self.soak.stats
        session = pool = None
        while not soak.stop.wait(self.rng.uniform(2, 8)):
            key = "xo:barrier:%08x" % self.rng.getrandbits(32)
            seen = threading.Event()
            try:
                if session is None:
                    session = login(self.conn)
                    pool = self.conn.call("pool.get_all", session)[0]
                with self.events.blk:
                    self.events.barriers[key] = seen
                t0 = time.monotonic()
                self.conn.call("pool.add_to_other_config", session, pool, key, str(time.time()))
                life = soak.life
                if seen.wait(30):
                    st.add("barrier_ms", (time.monotonic() - t0) * 1000)
                    st.inc("barriers")
                else:
                    st.error("barrier", "not-seen-in-30s",
                             soak.around_restart(life))
                self.conn.call("pool.remove_from_other_config", session, pool, key)
            except Fail as f:
                st.error("barrier", "xenapi:" + f.code)
                if f.code == "SESSION_INVALID":
                    session = None
            except Transport as e:
                st.error("barrier", e.kind, e.stale)
            finally:
                with self.events.blk:
                    self.events.barriers.pop(key, None)


class Logins(threading.Thread):
    """Logins over fresh connections, as scripts make them:
    - right password from 127.0.0.1 (originator soak-logins), two in three
      logged out, one in three left (the daemon caps them per originator);
    - wrong passwords from four "hot" addresses 127.0.3.1-4, which get
      blocked (5 failures a minute), and from a new address every time
      (127.4.x.y);
    - now and then the right password from a hot address: refused while
      it is blocked, as designed.
    A right password refused from 127.0.0.1 (never used for a wrong one) is
    an error."""

    def __init__(self, soak):
        super().__init__(name="logins", daemon=True)
        self.soak = soak
        self.rng = random.Random(soak.seed + 11)
        self.i = 0

    def attempt(self, src, password, originator="soak-logins"):
        c = Conn(self.soak, "xml", src=src, timeout=30)
        try:
            s = c.call("session.login_with_password", "root", password, "2.21", originator)
            return c, s, None
        except Fail as f:
            c.close()
            return None, None, f
        finally:
            self.soak.stats.add("login_ms/" + ("right" if password == PASSWORD else "wrong"),
                                c.ms)

    def run(self):
        soak, st = self.soak, self.soak.stats
        while not soak.stop.wait(soak.args.login_every):
            self.i += 1
            try:
                c, s, f = self.attempt("127.0.0.1", PASSWORD)
                if f:
                    st.error("logins", "right-password-refused:" + " ".join(f.desc[:3]))
                else:
                    st.inc("logins/right")
                    if self.i % 3:
                        c.call("session.logout", s)
                        st.inc("logins/logout")
                    c.close()
                hot = "127.0.3.%d" % (1 + self.i % 4)
                _, _, f = self.attempt(hot, "wrong-%d" % self.i)
                st.inc("logins/wrong-hot/" + ("refused" if f else "ACCEPTED"))
                if not f:
                    st.error("logins", "wrong-password-accepted")
                k = self.i % 65000
                _, _, f = self.attempt("127.4.%d.%d" % (k >> 8, 1 + (k & 255) % 254),
                                       "wrong-%d" % self.i)
                if not f:
                    st.error("logins", "wrong-password-accepted")
                st.inc("logins/wrong-new-address")
                if self.i % 5 == 0:
                    c, s, f = self.attempt(hot, PASSWORD)
                    if f and "Too many" in " ".join(f.desc):
                        st.inc("logins/right-from-hot-blocked")
                    elif f:
                        st.error("logins", "right-password-refused:" + " ".join(f.desc[:3]))
                    else:
                        st.inc("logins/right-from-hot-accepted")
                        c.call("session.logout", s)
                        c.close()
            except Fail as f:
                st.error("logins", "xenapi:" + f.code)
            except Transport as e:
                st.error("logins", e.kind, e.stale)
