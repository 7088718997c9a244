"""XenAPI over XML-RPC, used the way the XenAPI Python SDK uses it."""
import os
import time
import xmlrpc.client

from conftest import PASSWORD, Daemon, fails, ok

# XAPI's VM record as the bench's canonical response carries it (a
# reference response, data not code: tests/integration/data/).
CANON_VM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                        "response_vm_get_record.xml")


def new_vm(p, s, **kw):
    rec = {"name_label": "vm1", "PV_kernel": "/boot/vmlinuz", "PV_args": "console=hvc0",
           "memory_static_max": "268435456", "memory_dynamic_max": "268435456",
           "memory_dynamic_min": "268435456", "memory_static_min": "134217728",
           "VCPUs_max": "1", "VCPUs_at_startup": "1", "domain_type": "pv"}
    rec.update(kw)
    return ok(p.VM.create(s, rec))


def wait_for(fn, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("condition not met in %ss" % timeout)


def test_login_variants_and_logout(daemon):
    p = daemon.proxy()
    s2 = ok(p.session.login_with_password("root", PASSWORD))
    s3 = ok(p.session.login_with_password("root", PASSWORD, "2.21"))
    s4 = ok(p.session.login_with_password("root", PASSWORD, "2.21", "XenCenter"))
    assert len({s2, s3, s4}) == 3
    assert s2.startswith("OpaqueRef:") and s2[10:] == s2[10:].lower()
    assert ok(p.session.get_is_local_superuser(s2, s2)) is True
    assert ok(p.session.get_originator(s4, s4)) == "XenCenter"
    assert ok(p.session.logout(s2)) == ""
    fails(p.pool.get_all(s2), "SESSION_INVALID", s2)
    fails(p.session.login_with_password("root"),
          "MESSAGE_PARAMETER_COUNT_MISMATCH", "session.login_with_password", "2", "1")


def test_bad_password_and_rate_limit(daemon):
    p = daemon.proxy()
    fails(p.session.login_with_password("root", "wrong"),
          "SESSION_AUTHENTICATION_FAILED", "root")
    fails(p.session.login_with_password("admin", PASSWORD),
          "SESSION_AUTHENTICATION_FAILED", "admin")
    for _ in range(5):
        p.session.login_with_password("root", "wrong")
    r = fails(p.session.login_with_password("root", PASSWORD),
              "SESSION_AUTHENTICATION_FAILED", "root")
    assert "Too many" in r[2]
    # the Unix socket's local root is not rate limited and needs no password
    u = daemon.unix_proxy()
    ok(u.session.login_with_password("root", ""))
    assert PASSWORD not in daemon.read_log()


def test_errors_follow_xapi(daemon):
    p, s = daemon.login()
    fails(p.VM.get_all(), "MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_all", "0", "-1")
    fails(p.VM.no_such_call(s), "MESSAGE_METHOD_UNKNOWN", "VM.no_such_call")
    fails(p.Nope.get_all(s), "MESSAGE_METHOD_UNKNOWN", "Nope.get_all")
    fails(p.VM.get_all("OpaqueRef:nope"), "SESSION_INVALID", "OpaqueRef:nope")
    fails(p.VM.get_record(s, "OpaqueRef:NULL"), "HANDLE_INVALID", "VM", "OpaqueRef:NULL")
    fails(p.VM.get_by_uuid(s, "0000"), "UUID_INVALID", "VM", "0000")
    fails(p.VM.set_power_state(s, "x", "Running"), "MESSAGE_METHOD_UNKNOWN")


def test_connect_sequences(daemon):
    """What Xen Orchestra and XenCenter call on connect."""
    p, s = daemon.login()
    pools = ok(p.pool.get_all_records(s))
    assert len(pools) == 1
    (pool_ref, pool), = pools.items()
    host = ok(p.host.get_record(s, pool["master"]))
    for key in ("software_version", "license_params", "chipset_info", "capabilities",
                "metrics", "other_config", "PIFs", "PCIs", "PGPUs",
                "API_version_major", "API_version_minor"):
        assert key in host
    for key in ("other_config", "ha_enabled", "ha_statefiles", "master", "cpu_info",
                "restrictions"):
        assert key in pool
    assert host["API_version_major"] == "2"
    metrics = ok(p.host_metrics.get_record(s, host["metrics"]))
    assert metrics["live"] is True and int(metrics["memory_total"]) > 0
    assert isinstance(ok(p.session.get_rbac_permissions(s, s)), list)
    roles = ok(p.role.get_all_records(s))
    assert "pool-admin" in [r["name_label"] for r in roles.values()]
    t = ok(p.host.get_servertime(s, pool["master"]))
    assert isinstance(t, xmlrpc.client.DateTime) and t.value.endswith("Z")
    import calendar
    server = calendar.timegm(time.strptime(t.value, "%Y%m%dT%H:%M:%SZ"))
    assert abs(server - time.time()) < 120
    dom0 = [v for v in ok(p.VM.get_all_records(s)).values() if v["is_control_domain"]]
    assert len(dom0) == 1 and dom0[0]["power_state"] == "Running"


def test_list_methods_unwrapped(daemon):
    p, _ = daemon.login()
    methods = p.system.listMethods()
    assert isinstance(methods, list)
    for m in ("VM.get_all_records", "VM.start", "Async.VM.start", "session.login_with_password",
              "event.from", "pool.get_all_records", "VM.set_name_label",
              "VM.add_to_other_config", "VM.add_tags", "VDI.create"):
        assert m in methods
    assert "VM.set_power_state" not in methods
    types = {m[:-len(".get_all_records")] for m in methods if m.endswith(".get_all_records")}
    assert {"VM", "host", "pool", "SR", "VDI", "VBD", "VIF", "network", "PIF", "PBD",
            "task", "message", "role", "user", "console", "session", "host_metrics",
            "host_cpu", "VM_metrics", "VM_guest_metrics"} <= types


def test_vm_record_is_complete(daemon):
    """Every field XAPI sends in a VM record (the bench's canonical one)."""
    with open(CANON_VM) as f:
        canon = xmlrpc.client.loads(f.read())[0][0]["Value"]
    p, s = daemon.login()
    vm = new_vm(p, s)
    rec = ok(p.VM.get_record(s, vm))
    assert set(canon) <= set(rec), set(canon) - set(rec)
    for k, v in canon.items():
        assert type(rec[k]) is type(v), (k, rec[k], v)


def test_vm_lifecycle(daemon):
    p, s = daemon.login()
    vm = new_vm(p, s)
    rec = ok(p.VM.get_record(s, vm))
    assert rec["power_state"] == "Halted" and rec["domid"] == "-1"
    assert "start" in rec["allowed_operations"]
    assert ok(p.VM.get_by_uuid(s, rec["uuid"])) == vm
    assert ok(p.VM.get_by_name_label(s, "vm1")) == [vm]
    fails(p.VM.clean_shutdown(s, vm), "VM_BAD_POWER_STATE", vm, "running", "halted")
    ok(p.VM.start(s, vm, False, False))
    rec = ok(p.VM.get_record(s, vm))
    assert rec["power_state"] == "Running" and int(rec["domid"]) > 0
    assert rec["resident_on"] == ok(p.pool.get_all_records(s)).popitem()[1]["master"]
    assert "clean_shutdown" in rec["allowed_operations"]
    assert "start" not in rec["allowed_operations"]
    # rfb first, then vt100, as XAPI with vncterm (docs/CONSOLES.md)
    assert [ok(p.console.get_protocol(s, c)) for c in rec["consoles"]] == ["rfb", "vt100"]
    m = ok(p.VM_metrics.get_record(s, rec["metrics"]))
    assert m["VCPUs_number"] == "1" and int(m["memory_actual"]) == 268435456
    fails(p.VM.start(s, vm, False, False), "VM_BAD_POWER_STATE", vm, "halted", "running")
    ok(p.VM.pause(s, vm))
    assert ok(p.VM.get_power_state(s, vm)) == "Paused"
    fails(p.VM.clean_shutdown(s, vm), "VM_BAD_POWER_STATE", vm, "running", "paused")
    ok(p.VM.unpause(s, vm))
    ok(p.VM.clean_shutdown(s, vm))
    rec = ok(p.VM.get_record(s, vm))
    assert rec["power_state"] == "Halted" and rec["domid"] == "-1"
    assert rec["consoles"] == []
    ok(p.VM.start(s, vm, True, False))
    assert ok(p.VM.get_power_state(s, vm)) == "Paused"
    ok(p.VM.hard_shutdown(s, vm))
    assert ok(p.VM.get_power_state(s, vm)) == "Halted"
    ok(p.VM.start(s, vm, False, False))
    ok(p.VM.clean_reboot(s, vm))
    assert ok(p.VM.get_power_state(s, vm)) == "Running"
    ok(p.VM.hard_reboot(s, vm))
    fails(p.VM.destroy(s, vm), "VM_BAD_POWER_STATE", vm, "halted", "running")
    ok(p.VM.hard_shutdown(s, vm))
    ok(p.VM.destroy(s, vm))
    fails(p.VM.get_record(s, vm), "HANDLE_INVALID", "VM", vm)


def test_start_failures(daemon):
    p, s = daemon.login()
    vm = new_vm(p, s, PV_kernel="")
    fails(p.VM.start(s, vm, False, False), "OPERATION_NOT_ALLOWED")
    vm = new_vm(p, s, domain_type="hvm")
    fails(p.VM.start(s, vm, False, False), "OPERATION_NOT_ALLOWED")
    big = new_vm(p, s, memory_static_max=str(64 << 30), memory_dynamic_max=str(64 << 30),
                 memory_dynamic_min=str(64 << 30))
    fails(p.VM.start(s, big, False, False), "HOST_NOT_ENOUGH_FREE_MEMORY")
    tmpl = new_vm(p, s, is_a_template=True)
    fails(p.VM.start(s, tmpl, False, False), "VM_IS_TEMPLATE", tmpl)
    dom0 = [r for r, v in ok(p.VM.get_all_records(s)).items() if v["is_control_domain"]][0]
    fails(p.VM.hard_shutdown(s, dom0), "OPERATION_NOT_ALLOWED")


def test_clean_shutdown_timeout_uncooperative(state_dir):
    d = Daemon(state_dir).start(["--config", _conf(state_dir, "clean_shutdown_timeout = 1\n")])
    try:
        p, s = d.login()
        vm = new_vm(p, s)
        uuid = ok(p.VM.get_uuid(s, vm))
        d.stop()
        d.sim_opts = "shutdown_delay=200,guest=%s:uncooperative" % uuid
        d.start(["--config", _conf(state_dir, "clean_shutdown_timeout = 1\n")])
        p, s = d.login()
        ok(p.VM.start(s, vm, False, False))
        fails(p.VM.clean_shutdown(s, vm), "VM_SHUTDOWN_TIMEOUT", vm)
        assert ok(p.VM.get_power_state(s, vm)) == "Running"
        ok(p.VM.hard_shutdown(s, vm))
        assert ok(p.VM.get_power_state(s, vm)) == "Halted"
    finally:
        d.stop()


def _conf(state_dir, text):
    path = os.path.join(state_dir, "xenbox.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def test_fields_maps_sets(daemon):
    p, s = daemon.login()
    vm = new_vm(p, s)
    ok(p.VM.set_name_label(s, vm, "renamed"))
    assert ok(p.VM.get_name_label(s, vm)) == "renamed"
    ok(p.VM.add_to_other_config(s, vm, "k", "v"))
    fails(p.VM.add_to_other_config(s, vm, "k", "w"), "MAP_DUPLICATE_KEY", "VM", "other_config")
    assert ok(p.VM.get_other_config(s, vm)) == {"k": "v"}
    ok(p.VM.remove_from_other_config(s, vm, "k"))
    assert ok(p.VM.get_other_config(s, vm)) == {}
    ok(p.VM.add_tags(s, vm, "web"))
    ok(p.VM.add_tags(s, vm, "web"))
    assert ok(p.VM.get_tags(s, vm)) == ["web"]
    ok(p.VM.remove_tags(s, vm, "web"))
    assert ok(p.VM.get_tags(s, vm)) == []
    ok(p.VM.set_memory_static_max(s, vm, "536870912"))
    assert ok(p.VM.get_memory_static_max(s, vm)) == "536870912"
    fails(p.VM.set_memory_static_max(s, vm, "lots"), "FIELD_TYPE_ERROR")
    fails(p.VM.set_actions_after_crash(s, vm, "explode"), "FIELD_TYPE_ERROR")
    ok(p.VM.set_actions_after_crash(s, vm, "destroy"))
    fails(p.VM.set_uuid(s, vm, "x"), "MESSAGE_METHOD_UNKNOWN")


def test_devices_disk_and_network(daemon):
    p, s = daemon.login()
    pool = list(ok(p.pool.get_all_records(s)).values())[0]
    sr = pool["default_SR"]
    vdi = ok(p.VDI.create(s, {"SR": sr, "virtual_size": str(8 << 20), "name_label": "d",
                              "type": "user", "sharable": False, "read_only": False,
                              "other_config": {}}))
    loc = ok(p.VDI.get_location(s, vdi))
    assert os.path.getsize(loc) == 8 << 20
    vm = new_vm(p, s)
    vbd = ok(p.VBD.create(s, {"VM": vm, "VDI": vdi, "userdevice": "0", "bootable": True,
                              "mode": "RW", "type": "Disk", "empty": False,
                              "other_config": {}}))
    net = ok(p.network.get_all(s))[0]
    vif = ok(p.VIF.create(s, {"VM": vm, "network": net, "device": "0", "MAC": "",
                              "MTU": "1500", "other_config": {}}))
    rec = ok(p.VM.get_record(s, vm))
    assert rec["VBDs"] == [vbd] and rec["VIFs"] == [vif]
    assert ok(p.VDI.get_VBDs(s, vdi)) == [vbd]
    mac = ok(p.VIF.get_MAC(s, vif))
    assert mac.startswith("00:16:3e:") and len(mac) == 17
    ok(p.VM.start(s, vm, False, False))
    assert ok(p.VBD.get_currently_attached(s, vbd)) is True
    fails(p.VDI.destroy(s, vdi), "VDI_IN_USE", vdi)
    ok(p.VM.hard_shutdown(s, vm))
    assert ok(p.VIF.get_currently_attached(s, vif)) is False
    ok(p.VBD.destroy(s, vbd))
    assert ok(p.VM.get_VBDs(s, vm)) == []
    ok(p.VDI.destroy(s, vdi))
    assert not os.path.exists(loc)
    fails(p.VBD.create(s, {"VM": "OpaqueRef:NULL", "VDI": vdi}), "HANDLE_INVALID", "VM")


def test_async_tasks(daemon):
    p, s = daemon.login()
    vm = new_vm(p, s)
    task = ok(p.Async.VM.start(s, vm, False, False))
    assert task.startswith("OpaqueRef:")
    wait_for(lambda: ok(p.task.get_status(s, task)) != "pending")
    t = ok(p.task.get_record(s, task))
    assert t["status"] == "success" and t["progress"] == 1.0
    assert t["result"] == "" or t["result"].startswith("<value")
    assert ok(p.VM.get_power_state(s, vm)) == "Running"
    task = ok(p.Async.VM.start(s, vm, False, False))
    t = ok(p.task.get_record(s, task))
    assert t["status"] == "failure"
    assert t["error_info"] == ["VM_BAD_POWER_STATE", vm, "halted", "running"]
    task = ok(p.Async.VM.create(s, {"name_label": "async"}))
    result = ok(p.task.get_result(s, task))
    ref = xmlrpc.client.loads("<params><param>%s</param></params>" % result)[0][0]
    assert ok(p.VM.get_name_label(s, ref)) == "async"
    ok(p.task.destroy(s, task))
    fails(p.task.get_record(s, task), "HANDLE_INVALID", "task", task)
    own = ok(p.task.create(s, "upload", "an XO transfer"))
    t = ok(p.task.get_record(s, own))
    assert (t["name_label"], t["name_description"], t["status"]) == \
        ("upload", "an XO transfer", "pending")


def test_event_from(daemon):
    p, s = daemon.login()
    first = ok(getattr(p.event, "from")(s, ["*"], "", 0.0))
    assert {"events", "valid_ref_counts", "token"} <= set(first)
    assert all(e["operation"] == "add" for e in first["events"])
    assert first["valid_ref_counts"]["vm"] >= 1
    token = first["token"]
    vm = new_vm(p, s)
    r = ok(getattr(p.event, "from")(s, ["vm"], token, 5.0))
    adds = [e for e in r["events"] if e["ref"] == vm]
    assert len(adds) == 1 and adds[0]["operation"] == "add" and adds[0]["class"] == "vm"
    assert adds[0]["snapshot"]["name_label"] == "vm1"
    token = r["token"]
    # nothing new: the call waits out its timeout and returns no events
    t0 = time.time()
    r = ok(getattr(p.event, "from")(s, ["vm"], token, 0.5))
    assert r["events"] == [] and time.time() - t0 >= 0.4
    ok(p.VM.set_name_label(s, vm, "changed"))
    r = ok(getattr(p.event, "from")(s, ["VM"], token, 5.0))
    assert [(e["operation"], e["snapshot"]["name_label"]) for e in r["events"]] == [("mod", "changed")]
    token = r["token"]
    # inject: the next call returns that object's mod at once (XO relies on it)
    pool = ok(p.pool.get_all(s))[0]
    itok = ok(p.event.inject(s, "pool", pool))
    r = ok(getattr(p.event, "from")(s, ["pool"], itok, 5.0))
    assert [e["ref"] for e in r["events"]] == [pool]
    ok(p.VM.destroy(s, vm))
    r = ok(getattr(p.event, "from")(s, ["vm/" + vm], token, 5.0))
    assert [(e["operation"], "snapshot" in e) for e in r["events"]] == [("del", False)]
    fails(getattr(p.event, "from")(s, ["nonsense"], "", 1.0), "EVENT_SUBSCRIPTION_PARSE_FAILURE")
    fails(getattr(p.event, "from")(s, ["vm"], "garbage", 1.0), "EVENT_FROM_TOKEN_PARSE_FAILURE")


def test_event_wakes_waiter(daemon):
    """A waiting event.from returns when another client changes something."""
    import threading
    p, s = daemon.login()
    token = ok(getattr(p.event, "from")(s, ["vm"], "", 0.0))["token"]
    out = {}

    def waiter():
        q, qs = daemon.login(daemon.proxy())
        out["r"] = ok(getattr(q.event, "from")(qs, ["vm"], token, 30.0))

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.3)
    new_vm(p, s, name_label="wake")
    th.join(20)
    assert not th.is_alive()      # woken by the change, not by its 30 s timeout
    assert [e["snapshot"]["name_label"] for e in out["r"]["events"]] == ["wake"]


def test_legacy_events(daemon):
    p, s = daemon.login()
    fails(p.event.next(s), "SESSION_NOT_REGISTERED")
    ok(p.event.register(s, ["vm"]))
    new_vm(p, s, name_label="legacy")
    evs = ok(p.event.next(s))
    assert "legacy" in [e["snapshot"]["name_label"] for e in evs if "snapshot" in e]
    ok(p.event.unregister(s, ["vm"]))


def _ts(e):
    """An event's timestamp: XAPI's string_of_float of the epoch second
    ("1724300000."), the time of the change."""
    import re
    assert re.match(r"^[0-9]+\.$", e["timestamp"]), e["timestamp"]
    return float(e["timestamp"])


def test_event_timestamps_are_the_time_of_the_change(daemon):
    p, s = daemon.login()
    token = ok(getattr(p.event, "from")(s, ["vm"], "", 0.0))["token"]
    t0 = int(time.time())
    vm = new_vm(p, s, name_label="stamped")
    t1 = time.time()
    time.sleep(1.5)         # so that "now" and "the change" differ
    r = ok(getattr(p.event, "from")(s, ["vm"], token, 5.0))
    (add,) = [e for e in r["events"] if e["ref"] == vm]
    assert t0 <= _ts(add) <= t1
    token = r["token"]
    t0 = int(time.time())
    ok(p.VM.set_name_label(s, vm, "restamped"))
    ok(p.VM.destroy(s, vm))
    t1 = time.time()
    r = ok(getattr(p.event, "from")(s, ["vm"], token, 5.0))
    (d,) = [e for e in r["events"] if e["ref"] == vm]
    assert d["operation"] == "del" and t0 <= _ts(d) <= t1
    # the full dump: every object has the time of its last change, never 0
    first = ok(getattr(p.event, "from")(s, ["*"], "", 0.0))
    assert all(0 < _ts(e) <= time.time() for e in first["events"])
    # event.next (legacy) carries the same stamps
    ok(p.event.register(s, ["vm"]))
    t0 = int(time.time())
    new_vm(p, s, name_label="legacy-stamp")
    evs = ok(p.event.next(s))
    assert evs and all(t0 <= _ts(e) <= time.time() for e in evs)


def test_server_localtime_is_local(state_dir):
    """host.get_server_localtime: the wall clock in the daemon's time zone
    (TZ, else /etc/localtime), without a zone suffix, as XAPI's
    Date.localtime; get_servertime stays UTC with "Z"."""
    import calendar
    os.environ["TZ"] = "XBT-5:30"     # a POSIX zone 5 h 30 min east of UTC
    try:
        d = Daemon(state_dir).start()
    finally:
        del os.environ["TZ"]
    try:
        p, s = d.login()
        h = ok(p.host.get_all(s))[0]
        utc = ok(p.host.get_servertime(s, h)).value
        local = ok(p.host.get_server_localtime(s, h)).value
        assert utc.endswith("Z") and not local.endswith("Z"), (utc, local)
        u = calendar.timegm(time.strptime(utc, "%Y%m%dT%H:%M:%SZ"))
        lt = calendar.timegm(time.strptime(local, "%Y%m%dT%H:%M:%S"))
        assert abs((lt - u) - 5.5 * 3600) < 60, (utc, local)
    finally:
        assert d.stop() == 0


def test_persistence_and_adoption(state_dir):
    d = Daemon(state_dir).start()
    p, s = d.login()
    vm = new_vm(p, s, name_label="keep")
    ok(p.VM.add_to_other_config(s, vm, "a", "b"))
    run = new_vm(p, s, name_label="running")
    ok(p.VM.start(s, run, False, False))
    domid = ok(p.VM.get_domid(s, run))
    assert d.stop(9) == -9          # kill -9: nothing acknowledged is lost
    d.start()
    p, s2 = d.login()
    rec = ok(p.VM.get_record(s2, vm))
    assert rec["name_label"] == "keep" and rec["other_config"] == {"a": "b"}
    r = ok(p.VM.get_record(s2, run))
    assert r["power_state"] == "Running" and r["domid"] == domid
    assert len([v for v in ok(p.VM.get_all_records(s2)).values()
                if v["is_control_domain"]]) == 1
    assert len(ok(p.host.get_all(s2))) == 1
    # remote sessions survive a restart, as XAPI's do
    assert ok(p.VM.get_all(s))
    ok(p.VM.hard_shutdown(s2, run))
    assert d.stop() == 0


def _db_stamp(state):
    db = os.path.join(state, "xenbox.db")
    return [os.stat(db + x).st_mtime_ns if os.path.exists(db + x) else 0
            for x in ("", "-wal")]


def test_idle_daemon_does_not_write(daemon):
    p, s = daemon.login()
    new_vm(p, s)
    time.sleep(0.3)
    before = _db_stamp(daemon.state)
    u = daemon.unix_proxy()
    for _ in range(20):     # reads, calls and local (xe-style) logins write nothing
        ok(p.VM.get_all_records(s))
        ls = ok(u.session.login_with_password("root", ""))
        ok(u.VM.get_all(ls))
        ok(u.session.logout(ls))
    time.sleep(1.5)
    assert _db_stamp(daemon.state) == before
    daemon.login()          # a remote login is kept, so it is written
    time.sleep(0.3)
    assert _db_stamp(daemon.state) != before


def test_restart_with_nothing_changed_writes_nothing(state_dir):
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        vm = new_vm(p, s)
        ok(p.VM.start(s, vm, False, False))
        d.stop()
        db = os.path.join(state_dir, "xenbox.db")
        before = os.stat(db).st_mtime_ns
        d.start()
        time.sleep(0.5)
        # opening creates an empty WAL; nothing may be written to it
        wal = db + "-wal"
        assert os.stat(db).st_mtime_ns == before, d.read_log()
        assert not os.path.exists(wal) or os.path.getsize(wal) == 0, d.read_log()
        assert ok(d.proxy().VM.get_power_state(s, vm)) == "Running"
        ok(d.proxy().VM.hard_shutdown(s, vm))
    finally:
        d.stop()


def test_schema_upgrade_and_bad_rows(state_dir):
    """An older database (fewer columns, a bad value) is upgraded in place.
    Its schema mark (user_version: the datamodel it was made with) is
    another one, so the daemon checks and upgrades its tables, then marks
    it with its own, the same at every start."""
    import sqlite3
    db = sqlite3.connect(os.path.join(state_dir, "xenbox.db"))
    db.execute('CREATE TABLE "VM" (ref TEXT PRIMARY KEY, uuid, name_label, power_state)')
    db.execute("PRAGMA user_version=12345")
    db.execute('INSERT INTO "VM" VALUES (?, ?, ?, ?)',
               ("OpaqueRef:11111111-2222-3333-4444-555555555555",
                "11111111-2222-3333-4444-555555555556", "old", "Exploded"))
    db.commit()
    db.close()
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        rec = ok(p.VM.get_record(s, "OpaqueRef:11111111-2222-3333-4444-555555555555"))
        assert rec["name_label"] == "old" and rec["uuid"].endswith("556")
        assert rec["power_state"] == "Halted"           # the bad value: default
        assert rec["actions_after_crash"] == "restart"  # a new column: default
        assert "bad value" in d.read_log()
        ok(p.VM.set_PV_args(s, "OpaqueRef:11111111-2222-3333-4444-555555555555", "x"))
    finally:
        assert d.stop() == 0
    db = sqlite3.connect(os.path.join(state_dir, "xenbox.db"))
    cols = [r[1] for r in db.execute('PRAGMA table_info("VM")')]
    assert "PV_args" in cols and "actions_after_crash" in cols
    assert db.execute('SELECT PV_args FROM "VM" WHERE ref = ?',
                      ("OpaqueRef:11111111-2222-3333-4444-555555555555",)).fetchone() == ("x",)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    mark = db.execute("PRAGMA user_version").fetchone()[0]
    assert mark not in (0, 12345)
    db.close()
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        assert ok(p.VM.get_PV_args(s, "OpaqueRef:11111111-2222-3333-4444-555555555555")) == "x"
    finally:
        assert d.stop() == 0
    db = sqlite3.connect(os.path.join(state_dir, "xenbox.db"))
    assert db.execute("PRAGMA user_version").fetchone()[0] == mark


def test_event_tokens_of_an_earlier_life_are_lost(state_dir):
    """Generations start again with each daemon, and deletions (tombstones)
    are not kept across a restart: a token from before a restart (XO keeps
    its token through a reconnect) cannot name a point of the new life.
    event.from answers EVENTS_LOST, and the client resyncs, as it does for
    a token too old; it never silently misses changes (the soak saw XO's
    barrier unseen for 30 s after each kill -9: the old token was ahead of
    the new generations, so every change waited below it)."""
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        vm = new_vm(p, s)
        gone = new_vm(p, s)
        pool = ok(p.pool.get_all(s))[0]
        early = ok(p.event.inject(s, "pool", pool))       # before the changes
        for i in range(300):                              # the old life runs ahead
            ok(p.VM.set_name_label(s, vm, "n%d" % i))
        late = ok(getattr(p.event, "from")(s, ["vm"], early, 0.0))["token"]
        ok(p.VM.destroy(s, gone))
        assert d.stop(9) == -9
        d.start()
        p, s2 = d.login()
        for tok in (early, late):
            ok(p.VM.set_name_label(s2, vm, "after " + tok[:20]))
            fails(getattr(p.event, "from")(s2, ["vm"], tok, 1.0), "EVENTS_LOST")
        # this life's tokens work
        tok = ok(getattr(p.event, "from")(s2, ["vm"], "", 0.0))["token"]
        ok(p.VM.set_name_label(s2, vm, "this life"))
        r = ok(getattr(p.event, "from")(s2, ["vm"], tok, 5.0))
        assert [e["ref"] for e in r["events"]] == [vm], r
        tok = ok(p.event.inject(s2, "pool", pool))
        r = ok(getattr(p.event, "from")(s2, ["pool"], tok, 5.0))
        assert [e["ref"] for e in r["events"]] == [pool], r
        assert d.stop() == 0
    finally:
        d.stop()


def test_set_hostname_live(daemon):
    """XAPI's host.set_hostname_live: host.hostname at once; a name that is
    none refused with HOST_NAME_INVALID."""
    p, s = daemon.login()
    h = ok(p.host.get_all(s))[0]
    ok(p.host.set_hostname_live(s, h, "edge-7.site"))
    assert ok(p.host.get_hostname(s, h)) == "edge-7.site"
    for bad in ("", "a b", "-x", "x" * 64, "it's"):
        fails(p.host.set_hostname_live(s, h, bad), "HOST_NAME_INVALID")
    assert ok(p.host.get_hostname(s, h)) == "edge-7.site"
