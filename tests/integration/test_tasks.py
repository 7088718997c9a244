"""Legacy event registrations end with their session."""
import threading
import time

from conftest import fails, ok


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
