"""Unattended sites (issue 15, items 1 and 2), on the sim backend.

Auto power-on: the pool's and the VMs' other_config:auto_poweron, after a
boot of the (simulated) host: by `order`, each start_delay after the
previous one, a VM that cannot start reported as a message without
holding the others back, and never a second start of adopted guests when
only the daemon restarted.  The sim's host boots when its boot id
changes: a power cut is the daemon killed with -9 and the sim's domains
and boot id removed (sim.h); host.reboot makes a new boot id itself.

Host operations as XAPI's: disable/enable, shutdown/reboot (refused
while enabled: HOST_NOT_DISABLED), restart_agent, evacuate alone
(NO_HOSTS_AVAILABLE [vm]), get_log, and allowed_operations agreeing
with the calls."""
import datetime
import os

from conftest import Daemon, fails, ok
from test_api import new_vm, wait_for


def clean(d):
    """Stop d (if it still runs); no sanitizer report, exit 0."""
    rc = d.stop()
    log = d.read_log()
    assert "ERROR: AddressSanitizer" not in log, log
    assert "runtime error" not in log, log
    assert rc == 0, log


def power_cut(d):
    """The host loses power: the daemon dies, every guest with it, and the
    next start is a new boot."""
    d.stop(9)
    for f in ("domains", "boot_id"):
        os.unlink(os.path.join(d.state, "sim", f))


def conf(d, text):
    path = os.path.join(d.state, "xenbox.conf")
    with open(path, "w") as f:
        f.write(text)
    return ["--config", path]


def wait_exit(d, timeout=30):
    """The daemon ends by itself (a host that went down)."""
    wait_for(lambda: d.proc.poll() is not None, timeout)
    return d.stop()


def mark(p, s, vm, order=0, delay=0):
    ok(p.VM.add_to_other_config(s, vm, "auto_poweron", "true"))
    ok(p.VM.set_order(s, vm, order))
    ok(p.VM.set_start_delay(s, vm, delay))


def test_auto_poweron_after_a_power_cut(state_dir):
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        pool = ok(p.pool.get_all(s))[0]
        ok(p.pool.add_to_other_config(s, pool, "auto_poweron", "true"))
        a = new_vm(p, s, name_label="a")
        b = new_vm(p, s, name_label="b")
        broken = new_vm(p, s, name_label="broken", PV_kernel="")
        last = new_vm(p, s, name_label="last")
        running = new_vm(p, s, name_label="was-running")
        unmarked = new_vm(p, s, name_label="unmarked")
        tmpl = new_vm(p, s, name_label="template", is_a_template=True)
        mark(p, s, a, order=2)
        mark(p, s, b, order=1, delay=2)
        mark(p, s, broken, order=3)
        mark(p, s, last, order=4)
        mark(p, s, running, order=5)
        ok(p.VM.add_to_other_config(s, tmpl, "auto_poweron", "true"))
        ok(p.VM.start(s, running, False, False))
        ok(p.VM.start(s, unmarked, False, False))
        # a restart of the daemon alone starts nothing
        d.stop()
        d.start()
        p, s = d.login()
        assert ok(p.VM.get_power_state(s, a)) == "Halted"
        assert "the daemon restarted" in d.read_log()

        power_cut(d)
        d.start()
        p, s = d.login()
        started = [b, a, last, running]
        wait_for(lambda: all(ok(p.VM.get_power_state(s, v)) == "Running" for v in started), 60)
        # in `order`: the sim numbers domains from 1 as they are built
        assert [int(ok(p.VM.get_domid(s, v))) for v in started] == [1, 2, 3, 4]
        # b's start_delay: a started at least 2 s after b (whole seconds)
        t = {v: ok(p.VM_metrics.get_start_time(s, ok(p.VM.get_metrics(s, v)))) for v in (a, b)}
        secs = {v: datetime.datetime.strptime(t[v].value, "%Y%m%dT%H:%M:%SZ") for v in t}
        assert (secs[a] - secs[b]).total_seconds() >= 2
        # the one that cannot start: a message, and the rest went on
        assert ok(p.VM.get_power_state(s, broken)) == "Halted"
        msgs = [m for m in ok(p.message.get_all_records(s)).values()
                if m["name"] == "AUTO_POWERON_FAILED"]
        assert len(msgs) == 1, msgs
        assert msgs[0]["obj_uuid"] == ok(p.VM.get_uuid(s, broken))
        assert msgs[0]["cls"] == "VM"
        assert "PV_kernel is not set" in msgs[0]["body"]
        for v in (unmarked, tmpl):
            assert ok(p.VM.get_power_state(s, v)) == "Halted"
        wait_for(lambda: "auto power-on: done" in d.read_log())

        # never twice: a restart (clean, or kill -9) adopts, starts nothing
        domids = {v: ok(p.VM.get_domid(s, v)) for v in started}
        ok(p.VM.hard_shutdown(s, last))        # the operator stopped it
        for sig in (15, 9):
            d.stop(sig)
            d.start()
            p, s = d.login()
            assert ok(p.VM.get_power_state(s, last)) == "Halted"
            for v in started[:2] + started[3:]:
                assert ok(p.VM.get_domid(s, v)) == domids[v]
        assert d.read_log().count("vm: auto power-on: 5 VM(s) to start") == 1
    finally:
        clean(d)


def test_auto_poweron_needs_the_pool_flag(state_dir):
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        vm = new_vm(p, s)
        mark(p, s, vm)
        ok(p.VM.start(s, vm, False, False))
        power_cut(d)
        d.start()
        p, s = d.login()
        assert ok(p.VM.get_power_state(s, vm)) == "Halted"
        assert "auto power-on: off for the pool" in d.read_log()
    finally:
        clean(d)


def test_disable_enable(daemon):
    p, s = daemon.login()
    host = ok(p.host.get_all(s))[0]
    vm = new_vm(p, s)
    assert ok(p.host.get_enabled(s, host)) is True
    ops = ok(p.host.get_allowed_operations(s, host))
    assert "reboot" not in ops and "shutdown" not in ops and "evacuate" in ops
    assert "start" in ok(p.VM.get_allowed_operations(s, vm))
    ok(p.host.disable(s, host))
    assert ok(p.host.get_enabled(s, host)) is False
    # a disabled host takes no new guest (XAPI's errors)
    fails(p.VM.start(s, vm, False, False), "NO_HOSTS_AVAILABLE")
    fails(p.VM.start_on(s, vm, host, False, False), "HOST_DISABLED", host)
    assert "start" not in ok(p.VM.get_allowed_operations(s, vm))
    ops = ok(p.host.get_allowed_operations(s, host))
    assert {"reboot", "shutdown", "enable", "evacuate"} <= set(ops)
    ok(p.host.disable(s, host))                # again: nothing to do
    ok(p.host.enable(s, host))
    assert ok(p.host.get_enabled(s, host)) is True
    ok(p.VM.start(s, vm, False, False))
    fails(p.host.disable(s, "OpaqueRef:nonsense"), "HANDLE_INVALID")


def test_reboot_and_shutdown_refused_while_enabled(daemon):
    p, s = daemon.login()
    host = ok(p.host.get_all(s))[0]
    fails(p.host.reboot(s, host), "HOST_NOT_DISABLED")
    fails(p.host.shutdown(s, host), "HOST_NOT_DISABLED")
    assert ok(p.host.get_enabled(s, host)) is True
    assert daemon.proc.poll() is None


def test_evacuate_alone(daemon):
    p, s = daemon.login()
    host = ok(p.host.get_all(s))[0]
    vm = new_vm(p, s)
    ok(p.host.evacuate(s, host))               # nothing resident: done
    ok(p.VM.start(s, vm, False, False))
    # XAPI's plan on a host with no other: each resident guest has none
    fails(p.host.evacuate(s, host), "NO_HOSTS_AVAILABLE", vm)
    assert "evacuate" not in ok(p.host.get_allowed_operations(s, host))
    ok(p.VM.hard_shutdown(s, vm))
    assert "evacuate" in ok(p.host.get_allowed_operations(s, host))


def test_reboot_stops_guests_cleanly_then_the_host_boots(state_dir):
    d = Daemon(state_dir)
    d.start()
    try:
        p, s = d.login()
        host = ok(p.host.get_all(s))[0]
        pool = ok(p.pool.get_all(s))[0]
        ok(p.pool.add_to_other_config(s, pool, "auto_poweron", "true"))
        coop = new_vm(p, s, name_label="coop")
        stubborn = new_vm(p, s, name_label="stubborn")
        mark(p, s, coop)
        uuid = ok(p.VM.get_uuid(s, stubborn))
        d.stop()
        d.sim_opts = "shutdown_delay=200,guest=%s:uncooperative" % uuid
        boot_log = os.path.join(state_dir, "boot.log")
        open(boot_log, "w").close()
        d.start(conf(d, "clean_shutdown_timeout = 3\n") + ["--boot-log", boot_log])
        p, s = d.login()
        for v in (coop, stubborn):
            ok(p.VM.start(s, v, False, False))
        ok(p.host.disable(s, host))
        ok(p.host.reboot(s, host))
        # while its guests stop, the host takes no other power operation
        r = fails(p.host.shutdown(s, host), "OTHER_OPERATION_IN_PROGRESS", "host", host, "reboot")
        assert ok(p.host.get_current_operations(s, host)) == {r[4]: "reboot"}
        fails(p.host.enable(s, host), "HOST_DISABLED_UNTIL_REBOOT", host)
        assert ok(p.host.get_allowed_operations(s, host)) == []
        assert wait_exit(d) == 0
        log = d.read_log()
        # the cooperative guest was asked and went; the other was asked,
        # then shut down hard after the clean timeout
        assert log.count("asked to shut down (host going down)") == 2, log
        assert "did not shut down in 3 s" in log, log
        # why the host went down, in the persistent boot log too
        with open(boot_log) as f:
            assert f.read().endswith(
                " xenbox: host.reboot: every guest is down (1 shut down hard); rebooting\n")
        # the next start is a new boot: enabled again, coop started
        d.start(conf(d, "clean_shutdown_timeout = 3\n"))
        p, s = d.login()
        assert ok(p.host.get_enabled(s, host)) is True
        wait_for(lambda: ok(p.VM.get_power_state(s, coop)) == "Running")
        assert ok(p.VM.get_power_state(s, stubborn)) == "Halted"
    finally:
        clean(d)


def test_shutdown_and_disable_until_enable(state_dir):
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        host = ok(p.host.get_all(s))[0]
        pool = ok(p.pool.get_all(s))[0]
        ok(p.pool.add_to_other_config(s, pool, "auto_poweron", "true"))
        vm = new_vm(p, s)
        mark(p, s, vm)
        ok(p.host.disable(s, host, False))     # auto_enable false
        ok(p.host.shutdown(s, host))
        assert wait_exit(d) == 0
        assert "host.shutdown: every guest is down (0 shut down hard); powering off" \
            in d.read_log()
        d.start()
        p, s = d.login()
        assert "host: booted" in d.read_log()
        assert ok(p.host.get_enabled(s, host)) is False   # until host.enable
        # a disabled host starts nothing, and says nothing failed
        assert ok(p.VM.get_power_state(s, vm)) == "Halted"
        assert d.read_log().count("auto power-on") == 1   # the first boot's "off"
        assert not ok(p.message.get_all(s))
        ok(p.host.enable(s, host))
        assert ok(p.host.get_enabled(s, host)) is True
    finally:
        clean(d)


def test_restart_agent(state_dir):
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        host = ok(p.host.get_all(s))[0]
        vm = new_vm(p, s)
        ok(p.VM.start(s, vm, False, False))
        domid = ok(p.VM.get_domid(s, vm))
        pid = d.proc.pid
        ok(p.host.restart_agent(s, host))
        # the same process runs the daemon again (a supervisor sees
        # nothing): a second start in its log, and the API answering
        wait_for(lambda: d.read_log().count("backend sim, state") == 2, 30)
        wait_for(lambda: _answers(d), 30)
        assert d.proc.poll() is None and d.proc.pid == pid
        p, s = d.login()
        assert ok(p.VM.get_domid(s, vm)) == domid      # adopted, not restarted
        assert "the daemon restarted" in d.read_log()
    finally:
        clean(d)


def _answers(d):
    try:
        d.login()
        return True
    except OSError:
        return False


def test_get_log(state_dir):
    boot_log = os.path.join(state_dir, "boot.log")
    with open(boot_log, "w") as f:
        f.write("2026-01-01T00:00:00Z boot: the host came up\n")
    d = Daemon(state_dir).start(["--boot-log", boot_log])
    try:
        p, s = d.login()
        host = ok(p.host.get_all(s))[0]
        text = ok(p.host.get_log(s, host))
        assert "the host came up" in text
        assert "info: host: booted" in text
        assert text.index("the host came up") < text.index("host: booted")
    finally:
        clean(d)


def test_backend_none_cannot_power(state_dir):
    d = Daemon(state_dir).start(["--backend", "none"])
    try:
        p, s = d.login()
        host = ok(p.host.get_all(s))[0]
        ok(p.host.disable(s, host))
        assert "reboot" not in ok(p.host.get_allowed_operations(s, host))
        fails(p.host.reboot(s, host), "OPERATION_NOT_ALLOWED")
        assert d.proc.poll() is None
    finally:
        clean(d)

