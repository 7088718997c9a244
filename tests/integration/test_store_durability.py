"""A reply never acknowledges a change that is not on disk, also when the
disk fails (docs/DAEMON.md, "Durability and flash").

While the store cannot commit, the reply of a call that changed the
datamodel is held (and the replies behind it on its connection, to keep
their order); reads on other connections are answered; the daemon retries
with a back-off and logs the episode once.  When the disk comes back the
change is committed and the reply goes out; after kill -9 every
acknowledged change is there.

The disks that fail: a full tmpfs (ENOSPC, in a mount namespace of its
own), a file size limit (EFBIG: the daemon must not die of SIGXFSZ), a
database another process keeps locked (BEGIN fails), and write or fsync
errors from the store's test-only fault hook (XENBOX_STORE_FAULT, host
build only: with the shipped binary the test checks the hook is absent).
"""
import errno
import os
import resource
import select
import socket
import sqlite3
import subprocess
import tempfile
import time
import xmlrpc.client

import pytest

import conftest
from conftest import Daemon, host_build, ok, set_password
from test_api import new_vm

HELD = 1.5      # how long a held reply is watched for not arriving (s)
BACK = 30       # how long a recovered store may take to commit (s; back-off)


class Conn:
    """One keep-alive connection with pipelined XML-RPC calls."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), 10)
        self.buf = b""

    def send(self, method, *params):
        body = xmlrpc.client.dumps(params, method, allow_none=True).encode()
        self.s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def pending(self, wait):
        """True when (part of) a reply arrived within wait seconds."""
        if self.buf:
            return True
        return bool(select.select([self.s], [], [], wait)[0])

    def reply(self, timeout=BACK):
        deadline = time.time() + timeout
        while True:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if sep:
                n = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
                     if l.lower().startswith(b"content-length:")][0]
                if len(rest) >= n:
                    self.buf = rest[n:]
                    assert head.startswith(b"HTTP/1.1 200"), head
                    return xmlrpc.client.loads(rest[:n])[0][0]
            left = deadline - time.time()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                raise AssertionError("no reply in %ss" % timeout)
            data = self.s.recv(65536)
            if not data:
                raise AssertionError("connection closed")
            self.buf += data

    def close(self):
        self.s.close()


def episodes(d):
    log = d.read_log()
    return log.count("store: cannot save changes"), log.count("store: changes saved again")


def held_then_saved(d, fail, recover, name):
    """Fail the disk, change a VM's name: the reply is held while reads
    elsewhere are answered; recover: the reply arrives.  Then kill -9 and
    check the change survived.  Returns the daemon, restarted."""
    p, s = d.login()
    vm = new_vm(p, s, name_label="before")
    n_err, n_ok = episodes(d)
    fail()
    a = Conn(d.port)
    try:
        a.send("VM.set_name_label", s, vm, name)
        a.send("VM.get_name_label", s, vm)      # pipelined behind the change
        assert not a.pending(HELD), "a change was acknowledged while the disk fails"
        # other connections are served: reads, and calls that change nothing
        assert ok(p.VM.get_name_label(s, vm)) == name     # not yet durable: a read shows it
        assert len(ok(p.VM.get_all(s))) >= 1
        fails_ = p.VM.get_record(s, "OpaqueRef:NULL")
        assert fails_["Status"] == "Failure"
        b = Conn(d.port)
        b.send("VM.set_name_description", s, vm, "second change")
        assert not b.pending(0.3) and not a.pending(0)
        assert d.proc.poll() is None
        recover()
        assert a.reply()["Status"] == "Success"
        assert a.reply()["Value"] == name
        assert b.reply()["Status"] == "Success"
        b.close()
    finally:
        a.close()
    err, rec = episodes(d)
    log = d.read_log()
    assert (err - n_err, rec - n_ok) == (1, 1), log     # once per episode, not per try
    assert "store: still cannot save changes (try 2)" in log, log      # -v: the retries
    assert d.stop(9) == -9
    d.start()
    p, s = d.login()
    r = ok(p.VM.get_record(s, vm))
    assert (r["name_label"], r["name_description"]) == (name, "second change")
    return d


def check_sane_stop(d):
    rc = d.stop()
    log = d.read_log()
    assert "ERROR: AddressSanitizer" not in log, log
    assert "runtime error" not in log, log
    assert rc == 0, log


# ---- a full filesystem ----

@pytest.fixture
def tmpfs_state():
    """A state directory on a 4 MiB tmpfs that only a holder process's
    mount namespace sees; the daemon joins it with nsenter.  Yields
    (state_dir, path of the state dir as seen from here through the
    holder's root)."""
    with tempfile.TemporaryDirectory(prefix="xenbox-full-") as top:
        state = os.path.join(top, "state")
        set_password(state)
        userns = [] if os.geteuid() == 0 else ["-Ur"]
        holder = subprocess.Popen(
            ["unshare", "-m", *userns, "sh", "-c",
             'p=$(cat "$0/passwd") && mount -t tmpfs -o size=4m tmpfs "$0" && '
             'printf "%s\\n" "$p" >"$0/passwd" && echo ready && exec sleep 100000', state],
            stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "ready"
            wrapper = os.path.join(top, "xenbox-in-ns")
            with open(wrapper, "w") as f:
                f.write('#!/bin/sh\nexec nsenter -t %d -m %s -- %s "$@"\n'
                        % (holder.pid, "-U --preserve-credentials" if userns else "",
                           conftest.XENBOX))
            os.chmod(wrapper, 0o755)
            inside = "/proc/%d/root%s" % (holder.pid, state)
            assert os.path.exists(os.path.join(inside, "passwd"))
            old = conftest.XENBOX
            conftest.XENBOX = wrapper
            try:
                yield state, inside
            finally:
                conftest.XENBOX = old
        finally:
            holder.kill()
            holder.wait()


def test_full_filesystem(tmpfs_state):
    state, inside = tmpfs_state
    filler = os.path.join(inside, "filler")
    d = Daemon(state).start(["-v"])
    # the log is outside the tmpfs: Daemon opens it from this namespace
    assert not os.path.exists(os.path.join(inside, "daemon.log"))

    def fill():
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError as e:
                assert e.errno == errno.ENOSPC

    def free():
        os.unlink(filler)

    try:
        held_then_saved(d, fill, free, "saved after ENOSPC")
        log = d.read_log()
        assert "full" in log.lower(), log
    finally:
        check_sane_stop(d)


def test_full_filesystem_at_stop(tmpfs_state):
    """Stopped while the disk is full: the stats RRDs cannot be saved; the
    daemon says so and exits 1, not 0 (a clean stop claims they are)."""
    state, inside = tmpfs_state
    d = Daemon(state).start()
    p, s = d.login()
    new_vm(p, s)
    with open(os.path.join(inside, "filler"), "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as e:
            assert e.errno == errno.ENOSPC
    assert d.stop() == 1
    log = d.read_log()
    assert "stats: saving" in log, log
    assert "store: exiting with changes not saved" not in log, log
    os.unlink(os.path.join(inside, "filler"))
    d.start()
    check_sane_stop(d)
    assert os.path.exists(os.path.join(inside, "stats.rrd"))


# ---- a file size limit: EFBIG, and SIGXFSZ must not kill the daemon ----

def test_file_size_limit(state_dir):
    d = Daemon(state_dir).start(["-v"])
    wal = os.path.join(state_dir, "xenbox.db-wal")

    def limit():
        size = os.path.getsize(wal)
        assert os.path.getsize(d.log) < size
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))

    def unlimit():
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    try:
        held_then_saved(d, limit, unlimit, "saved after EFBIG")
    finally:
        check_sane_stop(d)


# ---- a failed BEGIN: another process holds the database's write lock ----

def test_failed_begin_is_retried(state_dir):
    d = Daemon(state_dir).start(["-v"])
    other = []

    def lock():
        db = sqlite3.connect(os.path.join(state_dir, "xenbox.db"), isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        other.append(db)

    def unlock():
        other[0].execute("ROLLBACK")
        other[0].close()

    try:
        held_then_saved(d, lock, unlock, "saved after BEGIN failed")
        assert "database is locked" in d.read_log()
    finally:
        check_sane_stop(d)


# ---- write and fsync errors (the host build's fault hook) ----

@pytest.mark.parametrize("fault", ["fsync", "write"])
def test_io_errors(state_dir, monkeypatch, fault):
    ctl = os.path.join(state_dir, "fault")
    monkeypatch.setenv("XENBOX_STORE_FAULT", ctl)
    d = Daemon(state_dir).start(["-v"])

    def fail():
        with open(ctl, "w") as f:
            f.write(fault)

    def recover():
        os.unlink(ctl)

    try:
        if not host_build():
            # the shipped binary has no fault hook: the variable does nothing
            assert "fault" not in d.read_log()
            p, s = d.login()
            vm = new_vm(p, s)
            fail()
            ok(p.VM.set_name_label(s, vm, "no hook here"))
            return
        assert "store: fault injection" in d.read_log()
        d = held_then_saved(d, fail, recover, "saved after " + fault)
        # kill -9 while failing: what was acknowledged stays; the change
        # that never was may be there or not (a WAL frame written before
        # its fsync failed may still count), and the file is sound
        p, s = d.login()
        vm = new_vm(p, s, name_label="acknowledged")
        fail()
        a = Conn(d.port)
        a.send("VM.set_name_label", s, vm, "never acknowledged")
        assert not a.pending(HELD)
        a.close()
        assert d.stop(9) == -9
        recover()
        db = sqlite3.connect(os.path.join(state_dir, "xenbox.db"))
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        db.close()
        d.start()
        p, s = d.login()
        assert ok(p.VM.get_name_label(s, vm)) in ("acknowledged", "never acknowledged")
    finally:
        check_sane_stop(d)


def test_exit_with_unsaved_changes_fails(state_dir):
    """SIGTERM while the store fails (another process holds the database's
    write lock): the last try fails too, the daemon says so and exits 1
    (the supervisor sees a failure, not a clean stop)."""
    d = Daemon(state_dir).start()
    p, s = d.login()
    vm = new_vm(p, s)
    db = sqlite3.connect(os.path.join(state_dir, "xenbox.db"), isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    a = Conn(d.port)
    a.send("VM.set_name_label", s, vm, "lost")
    assert not a.pending(HELD)
    assert d.stop() == 1
    a.close()
    db.execute("ROLLBACK")
    db.close()
    assert "changes not saved" in d.read_log()
    d.start()
    p, s = d.login()
    assert ok(p.VM.get_name_label(s, vm)) == "vm1"
    check_sane_stop(d)
