"""VM operations on the sim backend: slow builds in the worker thread (the
loop keeps serving), Async.VM.* tasks, the console log, guest-initiated
shutdowns and actions_after_*, VM.destroy taking its devices along."""
import os
import threading
import urllib.parse

import pytest

from conftest import Daemon, fails, ok
from test_api import new_vm, wait_for


@pytest.fixture
def slow(state_dir):
    """A daemon whose domain builds take 2 s, like Xen under TCG (worse)."""
    d = Daemon(state_dir, "shutdown_delay=200,create_delay=2000").start()
    yield d
    rc = d.stop()
    log = d.read_log()
    assert "ERROR: AddressSanitizer" not in log, log
    assert "runtime error" not in log, log
    assert rc == 0, log


@pytest.fixture
def slower(state_dir):
    """Builds of 4 s: room for calls that answer in well under a second
    even on a loaded CI machine, while the build still runs."""
    d = Daemon(state_dir, "shutdown_delay=200,create_delay=4000").start()
    yield d
    rc = d.stop()
    log = d.read_log()
    assert "ERROR: AddressSanitizer" not in log, log
    assert rc == 0, log


def test_slow_start_does_not_block_other_clients(slower):
    slow = slower
    p, s = slow.login()
    vm = new_vm(p, s)
    result = {}

    def start():
        q, qs = slow.login()
        result["r"] = q.VM.start(qs, vm, False, False)

    th = threading.Thread(target=start)
    th.start()
    wait_for(lambda: ok(p.VM.get_current_operations(s, vm)), timeout=5)
    # while the build runs other calls are answered: a blocked loop would
    # answer them only after the build, and they would see it finished
    # (behaviour, not a clock: the records say when they were answered)
    q = slow.proxy()
    for _ in range(2):
        s2 = ok(q.session.login_with_password("root", "s3cret-for-tests", "1.0", "other"))
        rec = ok(q.VM.get_record(s2, vm))
        assert rec["power_state"] == "Halted"
        assert list(rec["current_operations"].values()) == ["start"]
        assert rec["allowed_operations"] == []
        ok(q.session.logout(s2))
    assert th.is_alive()          # the synchronous start waits for its build
    # conflicting operations are refused while it is in flight
    task_key = list(ok(p.VM.get_current_operations(s, vm)).keys())[0]
    fails(p.VM.start(s, vm, False, False), "OTHER_OPERATION_IN_PROGRESS", "VM", vm,
          "start", task_key)
    fails(p.VM.hard_shutdown(s, vm), "OTHER_OPERATION_IN_PROGRESS", "VM", vm)
    fails(p.VM.destroy(s, vm), "OTHER_OPERATION_IN_PROGRESS", "VM", vm)
    th.join(20)
    assert not th.is_alive()
    ok(result["r"])
    rec = ok(p.VM.get_record(s, vm))
    assert rec["power_state"] == "Running" and rec["current_operations"] == {}
    assert "clean_shutdown" in rec["allowed_operations"]
    ok(p.VM.hard_shutdown(s, vm))
    assert ok(p.VM.get_power_state(s, vm)) == "Halted"


def test_async_start_progress_and_result(slow):
    p, s = slow.login()
    vm = new_vm(p, s)
    task = ok(p.Async.VM.start(s, vm, False, False))
    rec = ok(p.task.get_record(s, task))       # answered before the build ends
    assert rec["status"] == "pending" and 0.0 <= rec["progress"] < 1.0, rec
    assert rec["name_label"] == "Async.VM.start"
    assert rec["result"] == "" and rec["error_info"] == []
    # XAPI keys current_operations by the task doing the operation
    assert ok(p.VM.get_current_operations(s, vm)) == {task: "start"}
    wait_for(lambda: ok(p.task.get_status(s, task)) != "pending", timeout=20)
    rec = ok(p.task.get_record(s, task))
    assert rec["status"] == "success" and rec["progress"] == 1.0, rec
    assert rec["result"] in ("", "<value></value>"), rec   # void
    assert ok(p.VM.get_power_state(s, vm)) == "Running"
    assert ok(p.VM.get_current_operations(s, vm)) == {}

    # a failure: error_info is the ErrorDescription
    task = ok(p.Async.VM.start(s, vm, False, False))
    wait_for(lambda: ok(p.task.get_status(s, task)) != "pending")
    rec = ok(p.task.get_record(s, task))
    assert rec["status"] == "failure"
    assert rec["error_info"] == ["VM_BAD_POWER_STATE", vm, "halted", "running"]

    # a clean shutdown waits for the guest (200 ms), then destroys
    task = ok(p.Async.VM.clean_shutdown(s, vm))
    assert ok(p.VM.get_current_operations(s, vm)) == {task: "clean_shutdown"}
    wait_for(lambda: ok(p.task.get_status(s, task)) != "pending")
    assert ok(p.task.get_status(s, task)) == "success"
    assert ok(p.VM.get_power_state(s, vm)) == "Halted"

    # a build that fails (no memory for it) fails the task after the wait
    big = new_vm(p, s, memory_static_max=str(64 << 30), memory_dynamic_max=str(64 << 30),
                 memory_dynamic_min=str(64 << 30))
    task = ok(p.Async.VM.start(s, big, False, False))
    wait_for(lambda: ok(p.task.get_status(s, task)) != "pending", timeout=20)
    rec = ok(p.task.get_record(s, task))
    assert rec["status"] == "failure"
    assert rec["error_info"][0] == "HOST_NOT_ENOUGH_FREE_MEMORY", rec
    assert ok(p.VM.get_power_state(s, big)) == "Halted"
    assert ok(p.VM.get_current_operations(s, big)) == {}


def test_stop_during_a_build_records_it(state_dir):
    """SIGTERM while a build runs: the daemon waits for it, records the VM
    Running, exits cleanly; the next daemon adopts the same domain."""
    d = Daemon(state_dir, "shutdown_delay=200,create_delay=1500").start()
    p, s = d.login()
    vm = new_vm(p, s)
    task = ok(p.Async.VM.start(s, vm, False, False))
    # progress > 0: the worker has begun the build (a start still queued
    # when the daemon stops is cancelled instead, and the VM stays Halted)
    wait_for(lambda: ok(p.task.get_progress(s, task)) > 0)
    assert ok(p.VM.get_current_operations(s, vm))
    assert d.stop() == 0, d.read_log()
    assert "AddressSanitizer" not in d.read_log()
    d.start()
    try:
        p, s = d.login()
        rec = ok(p.VM.get_record(s, vm))
        assert rec["power_state"] == "Running" and int(rec["domid"]) > 0, rec
        assert rec["current_operations"] == {}
        ok(p.VM.hard_shutdown(s, vm))
    finally:
        assert d.stop() == 0, d.read_log()


def console_log(d, s, **q):
    q = dict(q)
    if s is not None:
        q["session_id"] = s
    r, body = d.raw("GET", "/console_log?" + urllib.parse.urlencode(q))
    return r.status, body.decode()


def test_console_log(daemon):
    p, s = daemon.login()
    vm = new_vm(p, s, name_label="con1")
    uuid = ok(p.VM.get_uuid(s, vm))
    assert console_log(daemon, s, ref=vm) == (200, "")
    ok(p.VM.start(s, vm, False, False))
    wait_for(lambda: "booted" in console_log(daemon, s, ref=vm)[1])
    status, text = console_log(daemon, s, uuid=uuid)
    assert status == 200 and text == "sim: con1 booted\n", text
    ok(p.VM.clean_reboot(s, vm))
    ok(p.VM.clean_shutdown(s, vm))
    # kept across reboots and halts, oldest first
    assert console_log(daemon, s, ref=vm)[1] == (
        "sim: con1 booted\nsim: con1 rebooting\nsim: con1 booted\n"
        "sim: con1 powering off\n")
    assert console_log(daemon, None, ref=vm)[0] == 401
    assert console_log(daemon, "OpaqueRef:nope", ref=vm)[0] == 401
    assert console_log(daemon, s, ref="OpaqueRef:nope")[0] == 404
    assert console_log(daemon, s)[0] == 400
    ok(p.VM.destroy(s, vm))
    assert console_log(daemon, s, uuid=uuid)[0] == 404


def test_console_log_is_bounded(state_dir):
    """A guest that writes more than 64 KiB: the newest 64 KiB are kept."""
    d = Daemon(state_dir, "shutdown_delay=0").start()
    try:
        p, s = d.login()
        vm = new_vm(p, s, name_label="x" * 100)
        for _ in range(300):      # each boot + poweroff writes ~240 bytes
            ok(p.VM.start(s, vm, False, False))
            ok(p.VM.clean_shutdown(s, vm))
        status, text = console_log(d, s, ref=vm)
        assert status == 200
        assert len(text) == 64 * 1024, len(text)
        assert text.endswith("x" * 100 + " powering off\n")
    finally:
        assert d.stop() == 0, d.read_log()


GUESTS = {
    # name: (sim stop reason, field, action, expected outcome)
    "off-destroy": ("poweroff", "actions_after_shutdown", "destroy", "halted"),
    "off-restart": ("poweroff", "actions_after_shutdown", "restart", "restarted"),
    "reboot-restart": ("reboot", "actions_after_reboot", "restart", "restarted"),
    "reboot-destroy": ("reboot", "actions_after_reboot", "destroy", "halted"),
    "crash-destroy": ("crash", "actions_after_crash", "destroy", "halted"),
    "crash-coredump": ("crash", "actions_after_crash", "coredump_and_restart", "restarted"),
    "crash-preserve": ("crash", "actions_after_crash", "preserve", "preserved"),
    "watchdog-restart": ("watchdog", "actions_after_crash", "restart", "restarted"),
}


def test_guest_initiated_shutdowns_apply_actions(state_dir):
    d = Daemon(state_dir).start()
    p, s = d.login()
    vms = {n: new_vm(p, s, name_label=n) for n in GUESTS}
    uuids = {n: ok(p.VM.get_uuid(s, vms[n])) for n in GUESTS}
    d.stop()
    # each guest stops itself 500 ms after each boot; the brakes on guests
    # that keep stopping are off here (test_crash_loop_is_braked has them)
    d.sim_opts = "shutdown_delay=200,crash_window=0,reboot_window=0," + ",".join(
        "stop=%s:%s:500" % (uuids[n], GUESTS[n][0]) for n in GUESTS)
    d.start()
    try:
        p, s = d.login()
        domids = {}
        for n, (_, field, action, _) in GUESTS.items():
            ok(getattr(p.VM, "set_" + field)(s, vms[n], action))
            ok(p.VM.start(s, vms[n], False, False))
            domids[n] = int(ok(p.VM.get_domid(s, vms[n])))
        for n, (why, _, _, outcome) in GUESTS.items():
            vm = vms[n]
            if outcome == "halted":
                wait_for(lambda: ok(p.VM.get_power_state(s, vm)) == "Halted")
                assert ok(p.VM.get_domid(s, vm)) == "-1"
                assert ok(p.VM.get_consoles(s, vm)) == []
            elif outcome == "restarted":
                wait_for(lambda: int(ok(p.VM.get_domid(s, vm))) not in (domids[n], -1))
                assert ok(p.VM.get_power_state(s, vm)) in ("Running", "Halted")
            else:   # preserved: the dead domain stays, the VM shows Paused
                wait_for(lambda: ok(p.VM.get_power_state(s, vm)) == "Paused")
                assert int(ok(p.VM.get_domid(s, vm))) == domids[n]
                assert "hard_shutdown" in ok(p.VM.get_allowed_operations(s, vm))
            text = console_log(d, s, ref=vm)[1]
            what = {"poweroff": "powering off", "reboot": "rebooting", "crash": "crashed",
                    "watchdog": "stopped by its watchdog"}[why]
            assert "sim: %s %s" % (n, what) in text, text
        # every VM can be stopped for good (a restarting one may be mid-restart)
        for n, vm in vms.items():
            def stopped():
                if ok(p.VM.get_power_state(s, vm)) == "Halted":
                    return True
                r = p.VM.hard_shutdown(s, vm)
                return r["Status"] == "Success"
            wait_for(stopped, timeout=20)
            assert ok(p.VM.get_power_state(s, vm)) == "Halted"
        log = d.read_log()
        assert "shut down by itself (crash): coredump_and_restart" in log
    finally:
        assert d.stop() == 0, d.read_log()


def test_destroy_takes_vbds_and_vifs(daemon):
    p, s = daemon.login()
    pool = list(ok(p.pool.get_all_records(s)).values())[0]
    vdi = ok(p.VDI.create(s, {"SR": pool["default_SR"], "virtual_size": str(1 << 20),
                              "name_label": "d", "type": "user", "sharable": False,
                              "read_only": False, "other_config": {}}))
    vm = new_vm(p, s)
    vbd = ok(p.VBD.create(s, {"VM": vm, "VDI": vdi, "userdevice": "0", "bootable": True,
                              "mode": "RW", "type": "Disk", "empty": False,
                              "other_config": {}}))
    net = ok(p.network.get_all(s))[0]
    vif = ok(p.VIF.create(s, {"VM": vm, "network": net, "device": "0", "MAC": "",
                              "MTU": "1500", "other_config": {}}))
    ok(p.VM.start(s, vm, False, False))
    fails(p.VM.destroy(s, vm), "VM_BAD_POWER_STATE", vm, "halted", "running")
    assert ok(p.VBD.get_VM(s, vbd)) == vm       # a failed destroy takes nothing
    ok(p.VM.hard_shutdown(s, vm))
    ok(p.VM.destroy(s, vm))
    fails(p.VBD.get_record(s, vbd), "HANDLE_INVALID", "VBD", vbd)
    fails(p.VIF.get_record(s, vif), "HANDLE_INVALID", "VIF", vif)
    assert ok(p.VDI.get_VBDs(s, vdi)) == []     # the VDI stays, unused
    assert ok(p.network.get_VIFs(s, net)) == []
    ok(p.VDI.destroy(s, vdi))


def _guest_daemon(state_dir, guest_opts, extra=()):
    """A daemon whose VM "g" behaves as guest_opts says (with {uuid})."""
    d = Daemon(state_dir).start(list(extra))
    p, s = d.login()
    vm = new_vm(p, s, name_label="g")
    uuid = ok(p.VM.get_uuid(s, vm))
    d.stop()
    d.sim_opts = "shutdown_delay=200," + guest_opts.format(uuid=uuid)
    d.start(list(extra))
    p, s = d.login()
    return d, p, s, vm, uuid


def test_crash_loop_is_braked(state_dir):
    """As xenopsd: a guest that crashes within 120 s of its start is not
    restarted (actions_after_crash=restart notwithstanding); it halts and a
    VM_CRASHED message says why."""
    d, p, s, vm, uuid = _guest_daemon(state_dir, "stop={uuid}:crash:300")
    try:
        assert ok(p.VM.get_actions_after_crash(s, vm)) == "restart"
        ok(p.VM.start(s, vm, False, False))
        wait_for(lambda: ok(p.VM.get_power_state(s, vm)) == "Halted")
        rec = ok(p.VM.get_record(s, vm))
        assert rec["domid"] == "-1" and rec["current_operations"] == {}, rec
        assert "start" in rec["allowed_operations"]
        assert console_log(d, s, ref=vm)[1].count("booted") == 1
        msgs = list(ok(p.message.get(s, "VM", uuid, "19700101T00:00:00Z")).values())
        assert [m["name"] for m in msgs] == ["VM_CRASHED"], msgs
        assert msgs[0]["priority"] == "2" and "not restarted" in msgs[0]["body"], msgs
    finally:
        assert d.stop() == 0, d.read_log()


def test_reboot_loop_waits(state_dir):
    """As xenopsd: a guest that reboots soon after its start is restarted
    after a delay (here 1.5 s; 15 s by default); meanwhile the VM shows the
    restart in current_operations and hard_shutdown (only) cancels it."""
    d, p, s, vm, uuid = _guest_daemon(state_dir, "reboot_delay=1500,stop={uuid}:reboot:300")
    try:
        ok(p.VM.start(s, vm, False, False))
        first = int(ok(p.VM.get_domid(s, vm)))
        wait_for(lambda: list(ok(p.VM.get_current_operations(s, vm)).values())
                 == ["hard_reboot"])
        rec = ok(p.VM.get_record(s, vm))
        assert rec["power_state"] == "Running" and int(rec["domid"]) == first, rec
        assert rec["allowed_operations"] == ["hard_shutdown"], rec
        # after the delay, a new domain
        wait_for(lambda: int(ok(p.VM.get_domid(s, vm))) not in (first, -1))
        second = int(ok(p.VM.get_domid(s, vm)))
        # it reboots again: this time, stop it during the delay
        wait_for(lambda: ok(p.VM.get_current_operations(s, vm)) != {} and
                 int(ok(p.VM.get_domid(s, vm))) == second)
        fails(p.VM.hard_reboot(s, vm), "OTHER_OPERATION_IN_PROGRESS", "VM", vm, "hard_reboot")
        ok(p.VM.hard_shutdown(s, vm))
        rec = ok(p.VM.get_record(s, vm))
        assert rec["power_state"] == "Halted" and rec["current_operations"] == {}, rec
        assert "waiting 1500 ms first" in d.read_log()
    finally:
        assert d.stop() == 0, d.read_log()


def test_hard_shutdown_cancels_a_clean_one(state_dir):
    """As XAPI: hard_shutdown during a clean_shutdown's wait cancels the
    clean one (its caller gets TASK_CANCELLED) and shuts the VM down."""
    d, p, s, vm, uuid = _guest_daemon(state_dir, "guest={uuid}:uncooperative")
    try:
        ok(p.VM.start(s, vm, False, False))
        task = ok(p.Async.VM.clean_shutdown(s, vm))
        assert ok(p.VM.get_current_operations(s, vm)) == {task: "clean_shutdown"}
        assert sorted(ok(p.VM.get_allowed_operations(s, vm))) == ["hard_reboot",
                                                                   "hard_shutdown"]
        fails(p.VM.pause(s, vm), "OTHER_OPERATION_IN_PROGRESS", "VM", vm, "clean_shutdown", task)
        ok(p.VM.hard_shutdown(s, vm))
        rec = ok(p.task.get_record(s, task))
        assert rec["status"] == "cancelled", rec
        assert rec["error_info"] == ["TASK_CANCELLED", task], rec
        assert ok(p.VM.get_power_state(s, vm)) == "Halted"
        assert ok(p.VM.get_current_operations(s, vm)) == {}

        # a synchronous caller: its call fails TASK_CANCELLED [the operation's id]
        ok(p.VM.start(s, vm, False, False))
        result = {}
        th = threading.Thread(target=lambda: result.update(
            r=d.proxy().VM.clean_reboot(s, vm)))
        th.start()
        wait_for(lambda: ok(p.VM.get_current_operations(s, vm)) != {})
        op_id = list(ok(p.VM.get_current_operations(s, vm)))[0]
        ok(p.VM.hard_reboot(s, vm))
        th.join(20)
        fails(result["r"], "TASK_CANCELLED", op_id)
        assert ok(p.VM.get_power_state(s, vm)) == "Running"
        ok(p.VM.hard_shutdown(s, vm))
    finally:
        assert d.stop() == 0, d.read_log()


def test_shutdown_falls_back_to_hard(state_dir):
    """VM.shutdown (XAPI): a clean shutdown, and a hard one when that fails
    (an uncooperative guest past the timeout) or cannot be (a paused VM)."""
    conf = os.path.join(state_dir, "xenbox.conf")
    with open(conf, "w") as f:
        f.write("clean_shutdown_timeout = 1\n")
    d, p, s, vm, uuid = _guest_daemon(state_dir, "guest={uuid}:uncooperative",
                                      ["--config", conf])
    try:
        ok(p.VM.start(s, vm, False, False))
        fails(p.VM.clean_shutdown(s, vm), "VM_SHUTDOWN_TIMEOUT", vm)
        ok(p.VM.shutdown(s, vm))
        assert ok(p.VM.get_power_state(s, vm)) == "Halted"
        ok(p.VM.start(s, vm, True, False))
        assert ok(p.VM.get_power_state(s, vm)) == "Paused"
        assert "shutdown" in ok(p.VM.get_allowed_operations(s, vm))
        ok(p.VM.shutdown(s, vm))
        assert ok(p.VM.get_power_state(s, vm)) == "Halted"
        fails(p.VM.shutdown(s, vm), "VM_BAD_POWER_STATE", vm)
    finally:
        assert d.stop() == 0, d.read_log()


def test_start_on_this_host_paused_and_async(daemon):
    """VM.start_on with start_paused / force (a review found the handler
    freeing its arguments: a crash for any logged-in client)."""
    p, s = daemon.login()
    host = ok(p.host.get_all(s))[0]
    vm = new_vm(p, s)
    assert ok(p.VM.start_on(s, vm, host, True, False)) == ""
    assert ok(p.VM.get_power_state(s, vm)) == "Paused"
    ok(p.VM.hard_shutdown(s, vm))
    task = ok(p.Async.VM.start_on(s, vm, host, False, True))
    wait_for(lambda: ok(p.task.get_status(s, task)) != "pending")
    assert ok(p.task.get_status(s, task)) == "success"
    assert ok(p.VM.get_power_state(s, vm)) == "Running"
    assert fails(p.VM.start_on(s, vm, "OpaqueRef:nope", False, False))[0] == "HANDLE_INVALID"
    assert ok(p.pool.get_all(s))         # the daemon is still there
