"""The ledger of acknowledged changes, checked against the daemon after every
restart and at the end.

For every VM a worker made it keeps the set of values each watched
attribute may have: one value once a change is acknowledged (Success),
both the old and the new while a call has no answer (it may or may not
have happened).  A check compares the daemon's records with the sets: a
value outside its set is an acknowledged change that was lost.  After the
check every set collapses to what the daemon has, so a lost change is
reported once.

Attributes: exists (True/False: acknowledged creates and destroys),
name_label (VM.set_name_label), power_state (VM.start, clean/hard
shutdown, sync or Async).  A create without an answer is remembered by its
unique name and adopted if the daemon has it.
"""
import threading
from collections import Counter


class Entry:
    __slots__ = ("ref", "owner", "exists", "name_label", "power_state")

    def __init__(self, ref, owner, name, power):
        self.ref = ref
        self.owner = owner
        self.exists = {True}
        self.name_label = {name}
        self.power_state = {power}

    def definite(self, attr):
        s = getattr(self, attr)
        return next(iter(s)) if len(s) == 1 else None


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.vms = {}                   # ref -> Entry
        self.pending = {}               # name of a create without an answer -> owner
        self.acked = Counter()          # what was acknowledged, by kind
        self.lost = []                  # descriptions of lost changes
        self.checks = 0
        self.adopted = 0

    # -- a worker's changes --

    def created(self, ref, owner, name):
        with self.lock:
            self.vms[ref] = Entry(ref, owner, name, "Halted")
            self.pending.pop(name, None)
            self.acked["create"] += 1

    def create_unknown(self, name, owner):
        with self.lock:
            self.pending[name] = owner

    def begin(self, ref, attr, new):
        """Before the call: the new value becomes possible.  Returns what to
        restore if the daemon refuses."""
        with self.lock:
            e = self.vms[ref]
            old = set(getattr(e, attr))
            getattr(e, attr).add(new)
            return old

    def ack(self, ref, attr, new, kind):
        with self.lock:
            setattr(self.vms[ref], attr, {new})
            self.acked[kind] += 1

    def refused(self, ref, attr, old):
        with self.lock:
            setattr(self.vms[ref], attr, set(old))

    def mine(self, owner):
        """The owner's VMs that exist for certain, with their definite state
        (None while uncertain)."""
        with self.lock:
            return [(e.ref, e.definite("name_label"), e.definite("power_state"))
                    for e in self.vms.values()
                    if e.owner == owner and e.exists == {True}]

    # -- checks --

    def check(self, records, when):
        """records: VM.get_all_records.  Returns the problems found now."""
        problems = []
        with self.lock:
            self.checks += 1
            by_name = {}
            for ref, r in records.items():
                by_name.setdefault(r.get("name_label"), []).append(ref)
            for e in self.vms.values():
                r = records.get(e.ref)
                if r is None:
                    if e.exists == {True}:
                        problems.append("%s: acknowledged VM %s (%s) is gone"
                                        % (when, e.ref, "/".join(sorted(e.name_label))))
                    e.exists = {False}
                    continue
                if e.exists == {False}:
                    problems.append("%s: VM %s was acknowledged destroyed but is back"
                                    % (when, e.ref))
                e.exists = {True}
                for attr in ("name_label", "power_state"):
                    got = r.get(attr)
                    allowed = getattr(e, attr)
                    if got not in allowed:
                        problems.append("%s: VM %s %s is %r, acknowledged %s"
                                        % (when, e.ref, attr, got, sorted(allowed)))
                    setattr(e, attr, {got})
            for name, owner in list(self.pending.items()):
                for ref in by_name.get(name, ()):
                    if ref not in self.vms:
                        r = records[ref]
                        self.vms[ref] = Entry(ref, owner, name, r.get("power_state"))
                        self.adopted += 1
            self.pending.clear()
            self.lost.extend(problems)
        return problems

    def check_one(self, ref, record, when):
        """After a surprising failure on one VM (no restart): the same check
        for that VM alone."""
        return self.check_subset({ref: record} if record else {}, [ref], when)

    def check_subset(self, records, refs, when):
        problems = []
        with self.lock:
            for ref in refs:
                e = self.vms.get(ref)
                if not e:
                    continue
                r = records.get(ref)
                if r is None:
                    if e.exists == {True}:
                        problems.append("%s: acknowledged VM %s is gone" % (when, ref))
                    e.exists = {False}
                    continue
                for attr in ("name_label", "power_state"):
                    got = r.get(attr)
                    if got not in getattr(e, attr):
                        problems.append("%s: VM %s %s is %r, acknowledged %s"
                                        % (when, ref, attr, got, sorted(getattr(e, attr))))
                    setattr(e, attr, {got})
            self.lost.extend(problems)
        return problems

    def summary(self):
        with self.lock:
            live = sum(1 for e in self.vms.values() if e.exists == {True})
            return {"acked": dict(self.acked), "checks": self.checks, "vms": len(self.vms),
                    "live": live, "adopted": self.adopted, "lost": list(self.lost)}
