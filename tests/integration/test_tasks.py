"""Finished tasks are collected as XAPI collects them; legacy event
registrations end with their session."""
import threading
import time

from conftest import fails, ok
from test_api import new_vm

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
