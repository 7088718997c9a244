#!/usr/bin/python3
"""The soak: an hour of mixed load against one daemon, compressible to
minutes (docs/BENCHMARKS.md, "Soak").

    bench/soak/soak.py [XENBOX] [--seconds S] [options]     (make bench-soak)

XENBOX (default: output/check/images/xenbox, the shipped static binary;
output/check/host/bin/xenbox is the ASan+UBSan build) runs with the sim
backend on a fresh state directory, plain HTTP on a free loopback port.
Against it, for S seconds (default $SOAK_SECONDS, else 300):

  - workers (--workers, default 3): one session each doing VM create,
    start, clean/hard shutdown, destroy, set_name_label, reads
    (get_all_records ...) and Async.* calls with task polling; worker 0 is
    the established session whose latency is reported;
  - an event.from client as Xen Orchestra keeps, and XO's barrier;
  - logins: right and wrong passwords from several 127.x addresses;
  - bad input: malformed XML and JSON, deep nesting, oversized heads and
    bodies, Expect: 100-continue, NaN and infinite event.from timeouts...;
  - idle connections, slowloris heads, slow readers of big replies and a
    hung client that reads nothing;
  - kill -9 of the daemon now and then (--kills, in the first --kill-phase
    of the run), restarted on the same state directory; after each restart
    and at the end, the ledger of every acknowledged change (VM created,
    destroyed, renamed, started, shut down) is checked against the daemon.

It samples the daemon's VmRSS, VmHWM, open fds, task and session counts
(event.from's valid_ref_counts) and the established session's latency, and
prints them over time, then calls and errors by kind, the bad inputs'
answers, what became of the idle and slow connections, the ledger.

Exit status: 0, or 1 if an acknowledged change was lost (or could not be
checked), the daemon died without being killed or stopped answering
(--wedge seconds without an answer to the probe), or RSS, fds or tasks
grew without bound: within the longest life of the daemon (after its
first --warmup seconds, and leaving out a hung client's hold), the last
quarter's maximum above the first quarter's maximum times --growth and
by more than a floor (FLOORS).
Timing is printed, never judged.  Loopback only; every loop is bounded by
the duration.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from clients import Barrier, EventClient, Logins, Worker  # noqa: E402
from daemon import Daemon, set_password  # noqa: E402
from hostile import BadInput, Loiterers, SlowReaders  # noqa: E402
from ledger import Ledger  # noqa: E402
from rpc import Conn, Fail, Stats, Transport, login  # noqa: E402


class Gate:
    """Workers pass it for every operation; a restart closes it (after the
    kill, so calls are in flight when it lands) and waits for them to
    leave, checks the ledger, and opens it again."""

    def __init__(self):
        self.cond = threading.Condition()
        self.is_open = True
        self.active = 0

    def enter(self, stop):
        with self.cond:
            while not self.is_open:
                if stop.is_set():
                    return False
                self.cond.wait(0.25)
            self.active += 1
            return True

    def leave(self):
        with self.cond:
            self.active -= 1
            self.cond.notify_all()

    def close(self, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            self.is_open = False
            while self.active and time.monotonic() < end:
                self.cond.wait(0.25)
            return self.active == 0

    def reopen(self):
        with self.cond:
            self.is_open = True
            self.cond.notify_all()


# Growth smaller than this is not judged (the ratio of small numbers is
# noise): RSS in KiB, fds, task objects.  A daemon that keeps every
# finished task goes over the tasks' floor in a default run (300 s, about
# 0.3 tasks left per second, 60% of it in the judged life).
FLOORS = {"rss": 1024, "fds": 8, "tasks": 50}
# Counts the daemon caps by design: held at the cap is bounded, not growth
# (a run that leaks tasks fills it: 300 s leave ~450); only beyond it is
# over.  Tasks: XAPI's max_tasks, src/api/task.c TASK_MAX (pending tasks
# are never dropped for room, so a leak of pending ones still goes past).
CAPS = {"tasks": 200}


def pct(values, q):
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(q / 100.0 * len(v) + 0.5)) - 1))]


def fmt(v, spec="%.1f"):
    return "-" if v is None else spec % v


class Soak:
    def __init__(self, args, xenbox, state):
        self.args = args
        self.seed = args.seed
        self.rng = random.Random(args.seed)
        self.stats = Stats()
        self.ledger = Ledger()
        self.gate = Gate()
        self.stop = threading.Event()
        self.down = threading.Event()
        self.life = 1
        self.daemon = Daemon(xenbox, state)
        self.lives = []
        self.samples = []
        self.deaths = []
        self.wedges = []
        self.unchecked = []
        self.notes = []
        self.src_i = 0
        self.src_lock = threading.Lock()
        self.probe_session = None
        self.probe_failing = None
        self.longest_silence = 0.0      # s without an answer to the probe, alive
        self.snapshot = None
        self.t0 = time.monotonic()

    def now(self):
        return time.monotonic() - self.t0

    def say(self, msg):
        line = "[%6.1f s] %s" % (self.now(), msg)
        self.notes.append(line)
        print(line, flush=True)

    def around_restart(self, life=None):
        """Is an error now (on something begun in that life) due to a kill,
        a death or a restart rather than to the daemon's behaviour?"""
        return (self.down.is_set() or self.daemon.exited() is not None or
                (life is not None and life != self.life))

    def hostile_src(self):
        with self.src_lock:
            self.src_i += 1
            return "127.0.5.%d" % (2 + self.src_i % 250)

    # -- the daemon's lives --

    def start_daemon(self):
        took = self.daemon.start()
        self.lives.append({"n": self.life, "start": self.now(), "startup": took,
                           "end": None, "how": None, "pid": self.daemon.pid})

    def restart(self, why):
        self.down.set()
        if self.daemon.exited() is None:
            self.daemon.kill9()
        life = self.lives[-1]
        life["end"], life["how"] = self.now(), why
        self.life += 1
        if not self.gate.close(90):
            self.say("workers still busy 90 s after the kill")
        if self.snapshot:
            self.say("--lose-last: the database goes back %g s (a check of the soak)"
                     % self.args.lose_last)
            self.daemon.restore_db(self.snapshot)
            self.snapshot = None
        self.start_daemon()
        self.check("after restart %d (%s)" % (self.life - 1, why))
        self.gate.reopen()
        self.down.clear()
        self.probe_failing = None

    def check(self, when):
        c = Conn(self, "xml", timeout=60)
        err = None
        for _ in range(3):
            try:
                s = login(c)
                recs = c.call("VM.get_all_records", s)
                c.call("session.logout", s)
                for p in self.ledger.check(recs, when):
                    self.say("LOST " + p)
                return
            except (Fail, Transport) as e:
                err = e
                time.sleep(1)
            finally:
                c.close()
        self.unchecked.append("%s: %s" % (when, err))
        self.say("could not check the ledger %s: %s" % (when, err))

    # -- sampling --

    def probe(self):
        c = Conn(self, "json", timeout=self.args.probe_timeout)
        try:
            if self.probe_session is None:
                self.probe_session = login(c, "soak-probe")
            r = c.call("event.from", self.probe_session, ["pool"], "", 0.0)
            return r["valid_ref_counts"], c.ms, None
        except Fail as f:
            if f.code == "SESSION_INVALID":
                self.probe_session = None
            return None, None, "xenapi:" + f.code
        except Transport as e:
            return None, None, e.kind
        finally:
            c.close()

    def sample(self):
        counts, ms, err = self.probe()
        d = self.daemon.sample()
        prev = self.samples[-1] if self.samples else {"t": 0.0, "calls": 0}
        t = self.now()
        # O(calls so far) per sample: ~40k values after an hour, fine
        est = [m for (ts, m) in self.stats.values("established")
               if ts - self.t0 > prev["t"]]
        with self.stats.lock:
            calls = self.stats.count["calls"]
            errors = sum(self.stats.errors.values())
        s = dict(d, t=t, life=self.life, probe_ms=ms, calls=calls, errors=errors,
                 load=not self.stop.is_set(),
                 rate=(calls - prev["calls"]) / max(0.001, t - prev["t"]),
                 p50=pct(est, 50), p99=pct(est, 99), n=len(est),
                 tasks=counts.get("task") if counts else None,
                 sessions=counts.get("session") if counts else None,
                 vms=counts.get("vm") if counts else None)
        self.samples.append(s)
        if self.probe_failing is not None:
            self.longest_silence = max(self.longest_silence, t - self.probe_failing)
        if err is None:
            self.probe_failing = None
        elif not self.down.is_set():
            self.stats.error("probe", err)
            if self.probe_failing is None:
                self.probe_failing = t
            elif t - self.probe_failing >= self.args.wedge:
                d = self.daemon.sample()
                self.wedges.append("at %.0f s: no answer to the probe for %.0f s (%s); "
                                   "alive, RSS %s KiB, %s fds"
                                   % (t, t - self.probe_failing, err, d["rss"], d["fds"]))
                self.say("WEDGED: " + self.wedges[-1] + "; kill -9 and restart")
                self.restart("wedged")

    # -- the run --

    def run(self):
        a = self.args
        self.start_daemon()
        events = EventClient(self)
        threads = [Worker(self, i, "json" if i == 2 else "xml") for i in range(a.workers)]
        threads += [events, Barrier(self, events), Logins(self)]
        self.bad = BadInput(self)
        self.loiterers = Loiterers(self)
        self.slow = SlowReaders(self)
        threads += [self.bad, self.loiterers, self.slow]
        for th in threads:
            th.start()
        end = a.seconds
        kills = sorted(self.rng.uniform(0.1 * end, a.kill_phase * end) for _ in range(a.kills))
        next_sample = 0.0
        while self.now() < end:
            rc = self.daemon.exited()
            if rc is not None and not self.daemon.killed:
                tail = open(self.daemon.log, errors="replace").read()[-3000:]
                self.deaths.append("at %.0f s: exit status %s; log tail:\n%s"
                                   % (self.now(), rc, tail))
                self.say("DIED: exit status %s; restarting" % rc)
                self.restart("died (%s)" % rc)
            if a.lose_last and kills and self.now() >= kills[0] - a.lose_last and \
                    not self.snapshot:
                self.snapshot = self.daemon.snapshot_db()
            if kills and self.now() >= kills[0]:
                kills.pop(0)
                self.say("kill -9 (pid %d)" % self.daemon.pid)
                self.restart("kill -9")
            if self.now() >= next_sample:
                self.sample()
                next_sample = self.now() + a.sample
            time.sleep(min(0.2, max(0.0, end - self.now())))
        self.stop.set()
        self.say("time is up; stopping the clients")
        if not self.gate.close(90):
            self.say("workers still busy 90 s after the end")
        for th in threads:
            th.join(5)
        self.sample()
        if self.daemon.exited() is not None and not self.daemon.killed:
            self.deaths.append("at %.0f s (the end): exit status %s"
                               % (self.now(), self.daemon.exited()))
            self.restart("died (%s)" % self.daemon.exited())
        elif self.samples[-1]["probe_ms"] is None:
            # no answer at the end: give it the --wedge seconds, as in the run
            t = self.now()
            while self.now() - t < self.args.wedge and self.probe()[2]:
                time.sleep(1)
            if self.probe()[2]:
                d = self.daemon.sample()
                self.wedges.append("at %.0f s (the end): no answer to the probe for %.0f s; "
                                   "alive, RSS %s KiB, %s fds"
                                   % (self.now(), self.now() - t, d["rss"], d["fds"]))
                self.say("WEDGED: " + self.wedges[-1] + "; kill -9 and restart")
                self.restart("wedged")
            else:
                self.check("at the end")
        else:
            self.check("at the end")
        self.lives[-1]["end"], self.lives[-1]["how"] = self.now(), "SIGTERM at the end"
        self.stop_rc = self.daemon.stop()

    # -- the report --

    def in_hung(self, t):
        """Is t within a hung client's hold (or the two samples after)?
        Those samples show the reply queue full, by design bounded (16 MiB):
        a peak, not growth; they are printed and left out of the judgement."""
        return any(a <= t <= b + 2 * self.args.sample for _, _, a, b in self.slow.hung)

    def growth(self):
        """Per metric: (first quarter max, last quarter max, ratio, over)
        within the longest life with enough samples."""
        by_life = {}
        start = {lf["n"]: lf["start"] for lf in self.lives}
        for s in self.samples:
            if s["load"] and not self.in_hung(s["t"]) and \
                    s["t"] >= start[s["life"]] + self.args.warmup:
                by_life.setdefault(s["life"], []).append(s)
        best = max(by_life.values(), key=lambda v: v[-1]["t"] - v[0]["t"], default=[])
        if len(best) < 8:
            return None, {}
        t0, t1 = best[0]["t"], best[-1]["t"]
        q = (t1 - t0) / 4.0
        out = {}
        for m in ("rss", "fds", "tasks"):
            floor = FLOORS[m]
            first = [s[m] for s in best if s["t"] <= t0 + q and s[m] is not None]
            last = [s[m] for s in best if s["t"] >= t1 - q and s[m] is not None]
            if not first or not last:
                continue
            f, l = max(first), max(last)
            ratio = l / max(f, 1)
            out[m] = (f, l, ratio, ratio > self.args.growth and l - f > floor and
                      l > CAPS.get(m, l - 1))
        return (best[0]["life"], t0, t1), out

    def report(self, xenbox):
        a, st, P = self.args, self.stats, print
        P()
        P("=" * 78)
        P("soak: %s" % xenbox)
        P("      %s; %d s; seed %d; %s; commit %s" % (
            "host ASan+UBSan build" if self.asan else "static binary",
            a.seconds, a.seed, time.strftime("%Y-%m-%d %H:%M"), git_commit()))
        P("      workers %d (%d VMs each), kills %d, sample every %g s, bad input every %g s%s"
          % (a.workers, a.vms, a.kills, a.sample, a.bad_every,
             ", without: " + " ".join(a.without) if a.without else ""))
        P()
        step = 1 if len(self.samples) <= 40 else len(self.samples) // 40 + 1
        P("-- over time (%s; t in s, RSS and HWM in MiB, p50/p99: the established "
          "session's latency since the previous sample, ms; h: a hung client's hold, "
          "e: after the clients stopped)"
          % ("every sample" if step == 1 else "every %dth sample" % step))
        P("%7s %5s %7s %7s %5s %6s %8s %5s %7s %7s %7s %8s %7s" % (
            "t", "life", "RSS", "HWM", "fds", "tasks", "sessions", "VMs", "calls/s",
            "p50", "p99", "probe ms", "errors"))
        shown = self.samples[::step]
        if self.samples and shown[-1] is not self.samples[-1]:
            shown.append(self.samples[-1])
        for s in shown:
            P("%7.0f%s%4d %7s %7s %5s %6s %8s %5s %7.1f %7s %7s %8s %7d" % (
                s["t"], "e" if not s["load"] else "h" if self.in_hung(s["t"]) else " ", s["life"],
                fmt(s["rss"] and s["rss"] / 1024.0),
                fmt(s["hwm"] and s["hwm"] / 1024.0), fmt(s["fds"], "%d"),
                fmt(s["tasks"], "%d"), fmt(s["sessions"], "%d"), fmt(s["vms"], "%d"),
                s["rate"], fmt(s["p50"]), fmt(s["p99"]), fmt(s["probe_ms"]), s["errors"]))
        P()
        P("-- the daemon's lives")
        for lf in self.lives:
            P("  %d: pid %d, %.0f-%.0f s, started in %.2f s, ended by %s" % (
                lf["n"], lf["pid"], lf["start"], lf["end"] or self.now(), lf["startup"],
                lf["how"]))
        P("  exit status at the final SIGTERM: %s" % self.stop_rc)
        P()
        est = [m for _, m in st.values("established")]
        P("-- the established session (worker 0): %d calls, p50 %s ms, p90 %s ms, p99 %s ms, "
          "max %s ms" % (len(est), fmt(pct(est, 50)), fmt(pct(est, 90)), fmt(pct(est, 99)),
                         fmt(max(est) if est else None)))
        P("-- calls by method (all workers)        n     p50 ms   p99 ms   max ms")
        for k in sorted(k for k in st.count if k.startswith("calls/")):
            v = st.values("ms/" + k[6:])
            P("  %-32s %7d %9s %8s %8s" % (k[6:], st.count[k], fmt(pct(v, 50)),
                                          fmt(pct(v, 99)), fmt(max(v) if v else None)))
        for k in ("login_ms/right", "login_ms/wrong", "barrier_ms"):
            v = st.values(k)
            P("  %-32s %7d %9s %8s %8s" % (k, len(v), fmt(pct(v, 50)), fmt(pct(v, 99)),
                                          fmt(max(v) if v else None)))
        P()
        P("-- counts")
        for k in sorted(st.count):
            if not k.startswith("calls/"):
                P("  %-44s %d" % (k, st.count[k]))
        P()
        P("-- errors by kind: unexpected")
        for k, n in st.errors.most_common():
            P("  %6d  %s" % (n, k))
        if not st.errors:
            P("  none")
        P("-- errors by kind: around a kill or restart (calls in flight, stale connections)")
        for k, n in st.errors_restart.most_common():
            P("  %6d  %s" % (n, k))
        P()
        P("-- bad input: answers by kind (unexpected ones marked !)")
        for k in sorted(self.bad.outcomes):
            P("  %-26s %s%s" % (k, ", ".join("%s x%d" % (o, n) for o, n in
                                            self.bad.outcomes[k].most_common()),
                                "  ! %d unexpected" % self.bad.unexpected[k]
                                if self.bad.unexpected[k] else ""))
        P()
        P("-- idle and slow connections: how the daemon ended them, after how many seconds")
        groups = {}
        for kind, how, secs in self.loiterers.ended:
            groups.setdefault((kind, how), []).append(secs)
        for (kind, how), v in sorted(groups.items()):
            P("  %-10s %-22s x%-4d min %6.1f  median %6.1f  max %6.1f" % (
                kind, how, len(v), min(v), pct(v, 50), max(v)))
        reads = self.slow.reads
        for how in sorted({r[2] for r in reads}):
            v = [r for r in reads if r[2] == how]
            P("  slow reader (16 KiB/s): %s x%d, %d bytes in %.1f s (median)" % (
                how, len(v), pct([r[0] for r in v], 50), pct([r[1] for r in v], 50)))
        for n, b, t0, t1 in self.slow.hung:
            P("  hung client at %.0f-%.0f s (h in the table above): %d x VM.get_all_records "
              "pipelined (~%.1f MiB of replies), nothing read, then closed"
              % (t0, t1, n, b / 1048576.0))
        P()
        led = self.ledger.summary()
        P("-- ledger: acknowledged %s; %d VMs known (%d live), %d creates without an answer "
          "adopted; %d checks" % (", ".join("%s %d" % kv for kv in sorted(led["acked"].items())),
                                  led["vms"], led["live"], led["adopted"], led["checks"]))
        for p in led["lost"]:
            P("  LOST: " + p)
        for p in self.unchecked:
            P("  UNCHECKED: " + p)
        P()
        life, g = self.growth()
        reasons = []
        if life is None:
            P("-- growth: not judged (no life of the daemon has 8 samples after its first "
              "%g s)" % a.warmup)
        else:
            P("-- growth, within life %d (%.0f-%.0f s, after its first %g s): last quarter's "
              "max against the first quarter's; over the bound if above x%.2f and by more "
              "than the floor" % (life[0], life[1], life[2], a.warmup, a.growth))
            for m, (f, l, ratio, over) in g.items():
                P("  %-6s first %8d  last %8d  x%.2f  (floor +%d%s%s)%s" % (
                    m, f, l, ratio, FLOORS[m], " KiB" if m == "rss" else "",
                    ", cap %d" % CAPS[m] if m in CAPS else "",
                    "  OVER THE BOUND" if over else ""))
                if over:
                    reasons.append("%s grew x%.2f (bound x%.2f)" % (m, ratio, a.growth))
        findings = self.daemon.log_findings()
        P("-- daemon log: %s" % ", ".join("%d '%s' lines" % (len(v), k)
                                          for k, v in findings.items()))
        for k in ("AddressSanitizer", "LeakSanitizer", "runtime error"):
            for line in findings[k][:5]:
                P("  " + line)
        for line in findings["error:"][:10]:
            P("  " + line)
        for d in self.deaths:
            P("-- DIED " + d)
        for w in self.wedges:
            P("-- WEDGED " + w)
        if led["lost"]:
            reasons.append("%d acknowledged changes lost" % len(led["lost"]))
        if self.unchecked:
            reasons.append("the ledger could not be checked %d times" % len(self.unchecked))
        if self.deaths:
            reasons.append("the daemon died %d times without being killed" % len(self.deaths))
        if self.wedges:
            reasons.append("the daemon stopped answering %d times (alive, but no answer "
                           "for %g s: counted as died)" % (len(self.wedges), a.wedge))
        # Not judged (the exit status says only what the docstring says),
        # but worth a look: they are how a shorter stall or a request that
        # never got processed shows.
        notes = []
        bad = sum(self.bad.unexpected.values())
        if bad:
            notes.append("%d bad inputs got no clean answer (see above)" % bad)
        if self.longest_silence:
            notes.append("the probe went unanswered for up to %.0f s while the daemon was "
                         "alive (--wedge %g s)" % (self.longest_silence, a.wedge))
        if st.errors:
            notes.append("%d unexpected errors" % sum(st.errors.values()))
        P()
        P("VERDICT: %s" % ("FAIL: " + "; ".join(reasons) if reasons else "PASS"))
        if notes:
            P("   not judged, but look: " + "; ".join(notes))
        return 1 if reasons else 0


def git_commit():
    try:
        c = subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"],
                           capture_output=True, text=True).stdout.strip()
        return c or "?"
    except OSError:
        return "?"


def is_asan(path):
    """The host build links libasan dynamically; its symbols name it."""
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("xenbox", nargs="?",
                    default=os.path.join(TOP, "output/check/images/xenbox"))
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", 300)),
                    help="duration (default $SOAK_SECONDS, else 300; 3600 for the real figure)")
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--vms", type=int, default=15, help="VMs each worker keeps, about")
    ap.add_argument("--pace", type=float, default=0.05,
                    help="a worker sleeps up to this many seconds between operations")
    ap.add_argument("--leak-tasks", type=float, default=0.25,
                    help="share of Async tasks left undestroyed")
    ap.add_argument("--login-every", type=float, default=1.5)
    ap.add_argument("--bad-every", type=float, default=0.5)
    ap.add_argument("--without", action="append", metavar="KIND",
                    help="leave out a bad-input kind (e.g. expect-continue); repeatable")
    ap.add_argument("--idle", type=int, default=30, help="idle connections kept open")
    ap.add_argument("--slowloris", type=int, default=10, help="slowloris connections kept")
    ap.add_argument("--hung-every", type=float, default=60,
                    help="seconds between hung clients (0: none)")
    ap.add_argument("--hung-hold", type=float, default=20)
    ap.add_argument("--kills", type=int, default=None,
                    help="kill -9s (default: one a minute of the kill phase, at least 1)")
    ap.add_argument("--kill-phase", type=float, default=0.4,
                    help="kills fall in this first share of the run; the rest is one "
                         "uninterrupted life, where growth is judged")
    ap.add_argument("--sample", type=float, default=None,
                    help="seconds between samples (default: S/60, 2 to 15)")
    ap.add_argument("--wedge", type=float, default=40,
                    help="seconds without an answer to the probe that count as wedged")
    ap.add_argument("--probe-timeout", type=float, default=10)
    ap.add_argument("--growth", type=float, default=1.5,
                    help="bound on last quarter's max / first quarter's max")
    ap.add_argument("--warmup", type=float, default=30,
                    help="seconds at the start of each life left out of the growth "
                         "judgement (caches filling, VMs made again)")
    ap.add_argument("--lose-last", type=float, default=0, metavar="S",
                    help="a check of the soak itself: before each kill, the database goes "
                         "back to a copy taken S seconds earlier, so changes acknowledged "
                         "in those S seconds are lost and the soak must say so and fail")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the state directory")
    ap.add_argument("--csv", help="write every sample to this file")
    a = ap.parse_args()
    if a.kills is None:
        a.kills = max(1, int(a.seconds * a.kill_phase / 60))
    if a.sample is None:
        a.sample = min(15.0, max(2.0, a.seconds / 60.0))
    xenbox = os.path.abspath(a.xenbox)
    if not os.access(xenbox, os.X_OK):
        print("soak: %s: not an executable (build it: see docs/BENCHMARKS.md)" % xenbox,
              file=sys.stderr)
        return 2
    out = os.path.join(TOP, "output")
    state = tempfile.mkdtemp(prefix="soak-", dir=out if os.path.isdir(out) else None)
    set_password(xenbox, state)
    soak = Soak(a, xenbox, state)
    soak.asan = is_asan(xenbox)
    print("soak: %s, %d s, state %s, port %d" % (xenbox, a.seconds, state, soak.daemon.port),
          flush=True)
    try:
        soak.run()
    finally:
        if soak.daemon.exited() is None:
            soak.daemon.kill9()
            soak.stop_rc = "killed (the soak itself failed)"
    if a.csv:
        keys = ["t", "life", "rss", "hwm", "fds", "tasks", "sessions", "vms", "rate",
                "p50", "p99", "probe_ms", "calls", "errors"]
        with open(a.csv, "w") as f:
            f.write(",".join(keys) + "\n")
            for s in soak.samples:
                f.write(",".join("" if s[k] is None else str(s[k]) for k in keys) + "\n")
    rc = soak.report(xenbox)
    if rc or a.keep:
        print("state directory kept: %s (daemon.log there)" % state)
    else:
        shutil.rmtree(state, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
