"""allowed_operations tells the truth: an operation is listed only if its
call exists and succeeds now; a lifecycle call that is not listed fails
(the list and the checks come from one table in src/api/vm.c)."""
import pytest

from conftest import Daemon, fails, ok
from test_api import new_vm, wait_for

# how each VM operation XAPI names is called (vm, host)
VM_CALLS = {
    "start": lambda p, s, vm, h: p.VM.start(s, vm, False, False),
    "start_on": lambda p, s, vm, h: p.VM.start_on(s, vm, h, False, False),
    "destroy": lambda p, s, vm, h: p.VM.destroy(s, vm),
    "clean_shutdown": lambda p, s, vm, h: p.VM.clean_shutdown(s, vm),
    "clean_reboot": lambda p, s, vm, h: p.VM.clean_reboot(s, vm),
    "shutdown": lambda p, s, vm, h: p.VM.shutdown(s, vm),
    "hard_shutdown": lambda p, s, vm, h: p.VM.hard_shutdown(s, vm),
    "hard_reboot": lambda p, s, vm, h: p.VM.hard_reboot(s, vm),
    "pause": lambda p, s, vm, h: p.VM.pause(s, vm),
    "unpause": lambda p, s, vm, h: p.VM.unpause(s, vm),
    "power_state_reset": lambda p, s, vm, h: p.VM.power_state_reset(s, vm),
    # plain field setters: listed where XAPI allows them; xenbox's derived
    # setters also work elsewhere, so only "listed => works" is checked
    "make_into_template": lambda p, s, vm, h: p.VM.set_is_a_template(s, vm, True),
    "changing_VCPUs": lambda p, s, vm, h: p.VM.set_VCPUs_max(s, vm, "2"),
    # docs/STORAGE.md 4.2 (src/api/vm_copy.c)
    "clone": lambda p, s, vm, h: p.VM.clone(s, vm, "a clone"),
    "copy": lambda p, s, vm, h: p.VM.copy(s, vm, "a copy", _default_sr(p, s)),
    "snapshot": lambda p, s, vm, h: p.VM.snapshot(s, vm, "a snapshot", []),
    "revert": lambda p, s, vm, h: p.VM.revert(s, vm),
    "provision": lambda p, s, vm, h: p.VM.provision(s, vm),
    "changing_memory_limits": lambda p, s, vm, h: p.VM.set_memory_limits(
        s, vm, "134217728", "268435456", "268435456", "268435456"),
    "changing_VCPUs_live": lambda p, s, vm, h: p.VM.set_VCPUs_number_live(s, vm, "1"),
}
SETTERS = {"make_into_template", "changing_VCPUs"}

# the methods other classes' operations stand for; a class whose objects
# list an operation missing here fails the test (teach it, with a check)
OTHER_CALLS = {
    "task": {"cancel": "task.cancel"},
    "SR": {"vdi_create": "VDI.create", "vdi_destroy": "VDI.destroy", "vdi_clone": "VDI.clone",
           "vdi_snapshot": "VDI.snapshot", "vdi_resize": "VDI.resize", "scan": "SR.scan",
           "unplug": "PBD.unplug", "plug": "PBD.plug", "forget": "SR.forget"},
    "VDI": {"destroy": "VDI.destroy", "clone": "VDI.clone", "copy": "VDI.copy",
            "snapshot": "VDI.snapshot", "resize": "VDI.resize"},
    "host": {"evacuate": "host.evacuate", "reboot": "host.reboot",
             "shutdown": "host.shutdown", "enable": "host.enable"},
}
SR_OPS = set(OTHER_CALLS["SR"])


def _default_sr(p, s):
    return ok(p.pool.get_default_SR(s, ok(p.pool.get_all(s))[0]))


def test_host_allowed_operations_are_true(daemon):
    """The host's list: what is listed works, what is not fails (reboot
    and shutdown, which end the daemon, are checked for the refusal
    here; tests/integration/test_host_power.py runs them)."""
    p, s = daemon.login()
    host = ok(p.host.get_all(s))[0]
    vm = new_vm(p, s)
    for step in ("enabled", "running guest", "disabled"):
        if step == "running guest":
            ok(p.VM.start(s, vm, False, False))
        if step == "disabled":
            ok(p.VM.hard_shutdown(s, vm))
            ok(p.host.disable(s, host))
        ops = set(ok(p.host.get_allowed_operations(s, host)))
        assert ops <= {"evacuate", "reboot", "shutdown", "enable"}, ops
        for op in ("evacuate", "enable"):
            r = getattr(p.host, op)(s, host)
            assert (r["Status"] == "Success") == (op in ops), (step, op, r)
        if step == "disabled":
            ok(p.host.disable(s, host))         # enable above: again
            assert {"reboot", "shutdown"} <= set(ok(p.host.get_allowed_operations(s, host)))
        else:
            assert not {"reboot", "shutdown"} & ops, (step, ops)
            fails(p.host.reboot(s, host), "HOST_NOT_DISABLED")


def _in_state(d, p, s, state):
    """A fresh VM in state, and a clean-up for whatever waits on it."""
    if state == "template":
        return new_vm(p, s, is_a_template=True)
    if state == "hvm":              # xenbox builds PV and PVH guests only
        return new_vm(p, s, domain_type="hvm")
    if state == "no kernel":
        return new_vm(p, s, PV_kernel="")
    if state in ("snapshot", "snapshot of none", "XO's snapshot"):
        snap = ok(p.VM.snapshot(s, new_vm(p, s), "snap", []))
        if state == "XO's snapshot":
            ok(p.VM.set_is_a_template(s, snap, False))
        if state == "snapshot of none":
            ok(p.VM.destroy(s, ok(p.VM.get_snapshot_of(s, snap))))
        return snap
    vm = new_vm(p, s)
    if state in ("running", "clean wait"):
        ok(p.VM.start(s, vm, False, False))
    if state == "paused":
        ok(p.VM.start(s, vm, True, False))
    if state == "clean wait":       # the guest takes its time
        task = ok(p.Async.VM.clean_shutdown(s, vm))
        wait_for(lambda: ok(p.VM.get_current_operations(s, vm)) == {task: "clean_shutdown"})
    return vm


@pytest.mark.parametrize("state", ["halted", "running", "paused", "template", "hvm",
                                   "no kernel", "clean wait", "snapshot", "XO's snapshot",
                                   "snapshot of none"])
def test_vm_allowed_operations_are_true(state_dir, state):
    # guests honour a clean request after 100 ms, or (the wait) after 10 min
    delay = 600000 if state == "clean wait" else 100
    d = Daemon(state_dir, "shutdown_delay=%d" % delay).start()
    try:
        p, s = d.login()
        host = ok(p.host.get_all(s))[0]
        listed = set(ok(p.VM.get_allowed_operations(s, _in_state(d, p, s, state))))
        assert listed <= set(VM_CALLS), listed - set(VM_CALLS)
        assert listed, state
        assert ("start" in listed) == (state == "halted"), listed
        for op, call in VM_CALLS.items():
            vm = _in_state(d, p, s, state)
            assert set(ok(p.VM.get_allowed_operations(s, vm))) == listed
            r = call(p, s, vm, host)
            if op in listed:
                assert r["Status"] == "Success", (state, op, r)
            elif op not in SETTERS:
                assert r["Status"] == "Failure", (state, op, r)
                assert r["ErrorDescription"][0] != "MESSAGE_METHOD_UNKNOWN", (state, op, r)
    finally:
        assert d.stop() == 0, d.read_log()


def test_nothing_lists_what_is_not_there(state_dir):
    """Every object of every class: what allowed_operations lists is a
    method the daemon answers; the control domain lists nothing."""
    d = Daemon(state_dir, "shutdown_delay=100,create_delay=1000").start()
    try:
        p, s = d.login()
        methods = set(d.proxy().system.listMethods())
        pool = list(ok(p.pool.get_all_records(s)).values())[0]
        vm = new_vm(p, s)
        vdi = ok(p.VDI.create(s, {"SR": pool["default_SR"], "virtual_size": "1048576",
                                  "name_label": "d", "type": "user", "sharable": False,
                                  "read_only": False, "other_config": {}}))
        ok(p.VBD.create(s, {"VM": vm, "VDI": vdi, "userdevice": "0", "bootable": True,
                            "mode": "RW", "type": "Disk", "empty": False, "other_config": {}}))
        ok(p.VIF.create(s, {"VM": vm, "network": ok(p.network.get_all(s))[0], "device": "0",
                            "MAC": "", "MTU": "1500", "other_config": {}}))
        task = ok(p.Async.VM.start(s, vm, False, False))        # pending: cancellable
        seen = set()
        for cls in sorted({m.split(".")[0] for m in methods if m.endswith(".get_all_records")}):
            for ref, rec in ok(getattr(p, cls).get_all_records(s)).items():
                for op in rec.get("allowed_operations", []):
                    if cls == "VM":
                        assert op in VM_CALLS, (cls, op)
                        continue
                    method = OTHER_CALLS.get(cls, {}).get(op)
                    assert method in methods, (cls, ref, op)
                    seen.add((cls, op))
                if cls == "VM" and rec["is_control_domain"]:
                    assert rec["allowed_operations"] == [], rec
        assert ("task", "cancel") in seen
        wait_for(lambda: ok(p.task.get_status(s, task)) != "pending", timeout=20)
        assert ok(p.task.get_allowed_operations(s, task)) == []
    finally:
        assert d.stop() == 0, d.read_log()


def test_plain_setters_change_what_is_allowed(daemon):
    """is_a_template and blocked_operations are set through derived setters;
    allowed_operations follows them, and a blocked operation is refused
    with OPERATION_BLOCKED, as XAPI."""
    p, s = daemon.login()
    vm = new_vm(p, s)
    ok(p.VM.add_to_blocked_operations(s, vm, "start", "under maintenance"))
    assert "start" not in ok(p.VM.get_allowed_operations(s, vm))
    assert "start_on" in ok(p.VM.get_allowed_operations(s, vm))
    fails(p.VM.start(s, vm, False, False), "OPERATION_BLOCKED", vm, "under maintenance")
    ok(p.VM.remove_from_blocked_operations(s, vm, "start"))
    assert "start" in ok(p.VM.get_allowed_operations(s, vm))
    ok(p.VM.set_is_a_template(s, vm, True))
    assert sorted(ok(p.VM.get_allowed_operations(s, vm))) == [
        "changing_VCPUs", "changing_memory_limits", "clone", "copy", "destroy", "provision"]
    fails(p.VM.start(s, vm, False, False), "VM_IS_TEMPLATE", vm, "start")
    ok(p.VM.set_is_a_template(s, vm, False))
    ok(p.VM.set_PV_kernel(s, vm, ""))
    assert "start" not in ok(p.VM.get_allowed_operations(s, vm))
    ok(p.VM.set_PV_kernel(s, vm, "/boot/vmlinuz"))
    ok(p.VM.start(s, vm, False, False))
    ok(p.VM.hard_shutdown(s, vm))


def _vdi(p, s, sr):
    return ok(p.VDI.create(s, {"SR": sr, "virtual_size": "1048576", "name_label": "d",
                               "type": "user", "sharable": False, "read_only": False,
                               "other_config": {}}))


def _vbd(p, s, vm, vdi):
    return ok(p.VBD.create(s, {"VM": vm, "VDI": vdi, "userdevice": "0", "bootable": True,
                               "mode": "RW", "type": "Disk", "empty": False,
                               "other_config": {}}))


def test_storage_allowed_operations_are_true(daemon):
    """SR and VDI list what their calls do now (src/api/device_ops.c's
    tables); VBDs and VIFs have no operation calls yet and list nothing.
    Every listed operation succeeds in that state; an unlisted one fails
    with XAPI's error."""
    p, s = daemon.login()
    sr = ok(p.pool.get_default_SR(s, ok(p.pool.get_all(s))[0]))
    methods = set(daemon.proxy().system.listMethods())

    # the local SR: VDIs are made and destroyed in it; scan and unplug
    # while plugged (api/storage.c; tests/integration/test_storage.py)
    attached = {"vdi_create", "vdi_destroy", "vdi_clone", "vdi_snapshot", "vdi_resize",
                "scan", "unplug"}
    assert set(ok(p.SR.get_allowed_operations(s, sr))) == attached
    vdi = _vdi(p, s, sr)                                        # vdi_create
    assert ok(p.VDI.get_SR(s, vdi)) == sr
    ok(p.VDI.destroy(s, vdi))                                   # vdi_destroy
    assert set(ok(p.SR.get_allowed_operations(s, sr))) == attached

    # a VDI: destroy while no VBD refers to it, resize while not attached
    copies = {"clone", "copy", "snapshot"}
    vdi = _vdi(p, s, sr)
    assert set(ok(p.VDI.get_allowed_operations(s, vdi))) == copies | {"destroy", "resize"}
    vm = new_vm(p, s)
    vbd = _vbd(p, s, vm, vdi)
    assert set(ok(p.VDI.get_allowed_operations(s, vdi))) == copies | {"resize"}
    fails(p.VDI.destroy(s, vdi), "VDI_IN_USE", vdi, "destroy")
    ok(p.VM.start(s, vm, False, False))                         # attached: still in use
    assert set(ok(p.VDI.get_allowed_operations(s, vdi))) == copies
    fails(p.VDI.destroy(s, vdi), "VDI_IN_USE", vdi, "destroy")
    fails(p.VDI.resize(s, vdi, "2097152"), "VDI_IN_USE", vdi, "resize")
    for op in sorted(copies):                                   # live, as XAPI
        args = (sr, "OpaqueRef:NULL", "OpaqueRef:NULL") if op == "copy" else ({},)
        ok(p.VDI.destroy(s, ok(getattr(p.VDI, op)(s, vdi, *args))))
    ok(p.VM.hard_shutdown(s, vm))
    ok(p.VDI.resize(s, vdi, "2097152"))
    ok(p.VBD.destroy(s, vbd))
    assert set(ok(p.VDI.get_allowed_operations(s, vdi))) == copies | {"destroy", "resize"}
    ok(p.VDI.destroy(s, vdi))
    fails(p.VDI.get_record(s, vdi), "HANDLE_INVALID")

    # VBD and VIF: none of their operations has a call; none is listed, and
    # calling one is refused as a method XAPI has and xenbox does not
    vdi = _vdi(p, s, sr)
    vbd = _vbd(p, s, vm, vdi)
    vif = ok(p.VIF.create(s, {"VM": vm, "network": ok(p.network.get_all(s))[0], "device": "0",
                              "MAC": "", "MTU": "1500", "other_config": {}}))
    for state in ("halted", "running"):
        if state == "running":
            ok(p.VM.start(s, vm, False, False))
        assert ok(p.VBD.get_allowed_operations(s, vbd)) == [], state
        assert ok(p.VIF.get_allowed_operations(s, vif)) == [], state
    for cls, ref, ops in (("VBD", vbd, ["plug", "unplug", "unplug_force", "eject", "insert",
                                        "pause", "unpause"]),
                          ("VIF", vif, ["plug", "unplug"])):
        for op in ops:
            assert "%s.%s" % (cls, op) not in methods
            r = getattr(getattr(p, cls), op)(s, ref)
            assert r["Status"] == "Failure", (cls, op, r)
            assert r["ErrorDescription"][0] == "MESSAGE_METHOD_UNKNOWN", (cls, op, r)


def test_device_ops_survive_a_restart(state_dir):
    """allowed_operations is saved with its object and right after a restart."""
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        sr = ok(p.pool.get_default_SR(s, ok(p.pool.get_all(s))[0]))
        free, used = _vdi(p, s, sr), _vdi(p, s, sr)
        _vbd(p, s, new_vm(p, s), used)
    finally:
        assert d.stop() == 0, d.read_log()
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        assert set(ok(p.VDI.get_allowed_operations(s, free))) == {
            "clone", "copy", "snapshot", "resize", "destroy"}
        assert set(ok(p.VDI.get_allowed_operations(s, used))) == {
            "clone", "copy", "snapshot", "resize"}
        fails(p.VDI.destroy(s, used), "VDI_IN_USE", used, "destroy")
        ok(p.VDI.destroy(s, free))
    finally:
        assert d.stop() == 0, d.read_log()
