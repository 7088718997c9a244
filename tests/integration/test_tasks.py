"""Tasks tell the truth: finished tasks are collected as XAPI collects them,
task.cancel cancels what can be cancelled (and says so when nothing can),
the tasks of a killed daemon do not linger, and legacy event registrations
end with their session."""
import threading
import time

from conftest import Daemon, fails, ok
from test_api import new_vm, wait_for

TASK_MAX = 200          # XAPI's max_tasks: beyond it, the oldest finished go


def test_finished_tasks_are_collected(daemon):
    p, s = daemon.login()
    vm = new_vm(p, s)
    own = [ok(p.task.create(s, "upload %d" % i, "")) for i in range(3)]
    tasks = [ok(p.Async.VM.pause(s, vm)) for _ in range(TASK_MAX + 50)]
    # each failed at once (the VM is halted): finished, never destroyed
    assert ok(p.task.get_status(s, tasks[-1])) == "failure"
    alive = ok(p.task.get_all(s))
    assert len(alive) <= TASK_MAX, len(alive)
    # pending tasks are never collected for space; the newest finished stay
    for t in own + tasks[-(TASK_MAX - len(own)):]:
        assert t in alive, t
    fails(p.task.get_record(s, tasks[0]), "HANDLE_INVALID", "task", tasks[0])
    # more calls keep the bound
    for _ in range(20):
        ok(p.Async.VM.pause(s, vm))
    assert len(ok(p.task.get_all(s))) <= TASK_MAX


def test_logout_ends_legacy_registration(daemon):
    p, s = daemon.login()
    q, s2 = daemon.login(daemon.proxy())
    ok(p.event.register(s, ["vm"]))
    tok = ok(getattr(p.event, "from")(s, ["pool"], "", 0.0))["token"]
    got = {}

    def waiter(name, call):
        got[name] = call()

    waiters = [
        threading.Thread(target=waiter, args=("next", lambda: daemon.proxy().event.next(s))),
        threading.Thread(target=waiter, args=("from", lambda: getattr(
            daemon.proxy().event, "from")(s, ["pool"], tok, 60.0))),
    ]
    for w in waiters:
        w.start()
    time.sleep(0.5)     # let both reach the daemon and wait there
    ok(q.session.logout(s))
    for w in waiters:
        w.join(25)      # their own timeouts are 30 s and 60 s
        assert not w.is_alive()
    # XAPI: the waiting calls of a session that ends fail with SESSION_INVALID
    fails(got["next"], "SESSION_INVALID", s)
    fails(got["from"], "SESSION_INVALID", s)
    fails(p.event.next(s), "SESSION_INVALID", s)
    fails(q.event.next(s2), "SESSION_NOT_REGISTERED")
    ok(q.session.logout(s2))


def _slow(state_dir, create_ms=2000):
    return Daemon(state_dir, "shutdown_delay=200,create_delay=%d" % create_ms).start()


def _stop(d):
    rc = d.stop()
    log = d.read_log()
    assert "ERROR: AddressSanitizer" not in log, log
    assert "runtime error" not in log, log
    assert rc == 0, log


def test_cancel_a_queued_start_and_a_build(state_dir):
    d = _slow(state_dir)
    try:
        p, s = d.login()
        a, b = new_vm(p, s, name_label="a"), new_vm(p, s, name_label="b")
        ta = ok(p.Async.VM.start(s, a, False, False))
        wait_for(lambda: ok(p.task.get_progress(s, ta)) > 0)       # a builds
        tb = ok(p.Async.VM.start(s, b, False, False))              # b waits its turn
        assert ok(p.task.get_allowed_operations(s, tb)) == ["cancel"]
        assert ok(p.VM.get_current_operations(s, b)) == {tb: "start"}
        ok(p.task.cancel(s, tb))
        rec = ok(p.task.get_record(s, tb))
        assert rec["status"] == "cancelled", rec
        assert rec["error_info"] == ["TASK_CANCELLED", tb], rec
        assert rec["allowed_operations"] == [] and rec["progress"] == 1.0
        assert ok(p.VM.get_power_state(s, b)) == "Halted"
        assert ok(p.VM.get_current_operations(s, b)) == {}
        assert "start" in ok(p.VM.get_allowed_operations(s, b))

        # a build that has begun stops at its next step: the new domain goes
        assert ok(p.task.get_allowed_operations(s, ta)) == ["cancel"]
        ok(p.task.cancel(s, ta))
        assert ok(p.task.get_allowed_operations(s, ta)) == []
        fails(p.task.cancel(s, ta), "OPERATION_NOT_ALLOWED")       # asked already
        wait_for(lambda: ok(p.task.get_status(s, ta)) != "pending", timeout=20)
        rec = ok(p.task.get_record(s, ta))
        assert rec["status"] == "cancelled", rec
        assert rec["error_info"] == ["TASK_CANCELLED", ta], rec
        vm = ok(p.VM.get_record(s, a))
        assert vm["power_state"] == "Halted" and vm["domid"] == "-1", vm
        assert vm["current_operations"] == {}

        # a finished task cannot be cancelled, and says so
        t = ok(p.Async.VM.start(s, a, False, False))
        wait_for(lambda: ok(p.task.get_status(s, t)) != "pending", timeout=20)
        assert ok(p.task.get_status(s, t)) == "success"
        assert ok(p.task.get_allowed_operations(s, t)) == []
        fails(p.task.cancel(s, t), "OPERATION_NOT_ALLOWED")
        assert ok(p.VM.get_power_state(s, a)) == "Running"
        # a client's own task: nothing here runs it, nothing can cancel it
        own = ok(p.task.create(s, "upload", ""))
        assert ok(p.task.get_allowed_operations(s, own)) == []
        fails(p.task.cancel(s, own), "OPERATION_NOT_ALLOWED")
        fails(p.task.cancel(s, "OpaqueRef:nope"), "HANDLE_INVALID", "task")
        ok(p.VM.hard_shutdown(s, a))
    finally:
        _stop(d)


def test_cancel_a_clean_shutdown_wait(state_dir):
    d = Daemon(state_dir).start()
    p, s = d.login()
    vm = new_vm(p, s)
    uuid = ok(p.VM.get_uuid(s, vm))
    d.stop()
    d.sim_opts = "shutdown_delay=200,guest=%s:uncooperative" % uuid
    d.start()
    try:
        p, s = d.login()
        ok(p.VM.start(s, vm, False, False))
        t = ok(p.Async.VM.clean_shutdown(s, vm))
        assert ok(p.task.get_allowed_operations(s, t)) == ["cancel"]
        ok(p.task.cancel(s, t))
        rec = ok(p.task.get_record(s, t))
        assert (rec["status"], rec["error_info"]) == ("cancelled", ["TASK_CANCELLED", t]), rec
        # the guest was asked and may still act; this one ignores it
        assert ok(p.VM.get_power_state(s, vm)) == "Running"
        assert ok(p.VM.get_current_operations(s, vm)) == {}
        assert "clean_shutdown" in ok(p.VM.get_allowed_operations(s, vm))
        ok(p.VM.hard_shutdown(s, vm))
    finally:
        _stop(d)


def test_tasks_of_a_killed_daemon(state_dir):
    """kill -9 during a build: as on a XAPI host, the dead daemon's tasks do
    not come back (tasks are not persisted), and nothing is left claiming
    the VM: no current operation, the start allowed again."""
    d = _slow(state_dir, 3000)
    p, s = d.login()
    vm = new_vm(p, s)
    t = ok(p.Async.VM.start(s, vm, False, False))
    wait_for(lambda: ok(p.task.get_progress(s, t)) > 0)
    d.stop(sig=9)
    d.start()
    try:
        p, s = d.login()
        fails(p.task.get_record(s, t), "HANDLE_INVALID", "task", t)
        assert t not in ok(p.task.get_all(s))
        rec = ok(p.VM.get_record(s, vm))
        assert rec["current_operations"] == {}, rec
        assert rec["power_state"] == "Halted", rec
        assert "start" in rec["allowed_operations"], rec
        ok(p.VM.start(s, vm, False, False))
        ok(p.VM.hard_shutdown(s, vm))
    finally:
        _stop(d)
