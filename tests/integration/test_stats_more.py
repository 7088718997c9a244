"""Stats beyond /rrd_updates on the sim backend: data sources, the RRD
dumps (/host_rrd, /vm_rrd) read with xml.etree, /metrics read with the
Prometheus client library's own parser, metrics objects and their events,
persistence across restarts (clean and kill -9), perfmon alarms."""
import base64
import json
import math
import os
import signal
import time
import xml.etree.ElementTree as ET

from prometheus_client.parser import text_string_to_metric_families

from conftest import PASSWORD, Daemon, ok
from test_api import new_vm

LAYOUT = [(1, 120), (12, 120), (720, 168), (17280, 366)]


def get(daemon, path):
    return daemon.raw("GET", path)


def updates(daemon, s, vm_uuid=None):
    q = "/rrd_updates?session_id=%s&start=-600&cf=AVERAGE&interval=5&json" % s
    r, data = get(daemon, q + ("&vm_uuid=" + vm_uuid if vm_uuid else "&host=true"))
    if r.status == 500 and vm_uuid:
        return {}       # not sampled yet: nothing to export, as xcp-rrdd
    assert r.status == 200, data
    u = json.loads(data)
    rows = u["data"]
    return dict(zip(u["meta"]["legend"], rows[0]["values"])) if rows else {}


def wait_value(daemon, s, key, vm_uuid=None, timeout=40):
    deadline = time.time() + timeout
    while True:
        v = updates(daemon, s, vm_uuid).get(key)
        if v is not None and not math.isnan(v):
            return v
        assert time.time() < deadline, (key, updates(daemon, s, vm_uuid))
        time.sleep(0.5)


def dump(daemon, s, path):
    r, data = get(daemon, path + ("&" if "?" in path else "?") + "session_id=" + s)
    assert r.status == 200, data
    assert r.getheader("Content-Type") == "text/xml"
    return ET.fromstring(data)


def check_dump(x):
    """rrdtool dump layout: every DS in every row of every archive."""
    assert x.tag == "rrd" and x.findtext("step") == "5"
    names = [d.findtext("name") for d in x.findall("ds")]
    rras = x.findall("rra")
    assert [(int(a.findtext("pdp_per_row")), len(a.findall("database/row")))
            for a in rras if a.findtext("cf") == "AVERAGE"] == LAYOUT
    for a in rras:
        assert len(a.findall("cdp_prep/ds")) == len(names)
        for row in a.findall("database/row"):
            assert len(row.findall("v")) == len(names)
            [float(v.text) for v in row.findall("v")]
    return names


def vm_with_devices(p, s):
    pool = list(ok(p.pool.get_all_records(s)).values())[0]
    vdi = ok(p.VDI.create(s, {"SR": pool["default_SR"], "virtual_size": str(8 << 20),
                              "name_label": "d", "type": "user", "sharable": False,
                              "read_only": False, "other_config": {}}))
    vm = new_vm(p, s, VCPUs_max="2", VCPUs_at_startup="2")
    ok(p.VBD.create(s, {"VM": vm, "VDI": vdi, "userdevice": "0", "bootable": True,
                        "mode": "RW", "type": "Disk", "empty": False, "other_config": {}}))
    net = ok(p.network.get_all(s))[0]
    ok(p.VIF.create(s, {"VM": vm, "network": net, "device": "0", "MAC": "",
                        "MTU": "1500", "other_config": {}}))
    ok(p.VM.start(s, vm, False, False))
    return vm, ok(p.VM.get_uuid(s, vm))


def test_sources_dumps_metrics_events(daemon):
    p, s = daemon.login()
    host = ok(p.host.get_all(s))[0]
    host_uuid = ok(p.host.get_uuid(s, host))
    vm, uuid = vm_with_devices(p, s)
    token = ok(getattr(p.event, "from")(s, ["*"], "", 0.0))["token"]

    # counters become rates from the third sample of a new RRD
    rx = wait_value(daemon, s, "AVERAGE:vm:%s:vif_0_rx" % uuid, uuid)
    assert rx > 0
    newest = updates(daemon, s, uuid)
    vbd = [k for k in newest if ":vbd_" in k]
    assert sorted(k.rsplit("_", 1)[1] for k in vbd) == ["read", "write"]
    assert all(newest[k] > 0 for k in vbd)
    assert newest["AVERAGE:vm:%s:memory_target" % uuid] == 268435456
    assert newest["AVERAGE:vm:%s:vif_0_tx" % uuid] > 0
    host_now = updates(daemon, s)
    assert host_now["AVERAGE:host:%s:xapi_memory_usage_kib" % host_uuid] > 1000

    # RRD dumps
    names = check_dump(dump(daemon, s, "/host_rrd"))
    assert "cpu_avg" in names and "memory_free_kib" in names
    x = dump(daemon, s, "/vm_rrd?uuid=" + uuid)
    names = check_dump(x)
    assert names[:2] == ["cpu0", "cpu1"] and "vif_0_rx" in names
    types = {d.findtext("name"): d.findtext("type") for d in x.findall("ds")}
    assert types["vif_0_rx"] == "COUNTER" and types["memory"] == "GAUGE"
    assert get(daemon, "/vm_rrd?session_id=%s&uuid=nope" % s)[0].status == 404
    assert get(daemon, "/vm_rrd?uuid=" + uuid)[0].status == 401
    assert get(daemon, "/host_rrd?session_id=OpaqueRef:x")[0].status == 401
    assert get(daemon, "/sr_rrd?session_id=%s&uuid=x" % s)[0].status == 404

    # Prometheus text format, read by the client library's parser
    r, data = get(daemon, "/metrics?session_id=" + s)
    assert r.status == 200 and r.getheader("Content-Type").startswith("text/plain")
    assert get(daemon, "/metrics")[0].status == 401
    fams = {f.name: f for f in text_string_to_metric_families(data.decode())}
    mem = {smp.labels["vm"]: smp.value for smp in fams["xenbox_vm_memory"].samples}
    assert mem[uuid] == 268435456
    # dom0 under its VM object's uuid (host.control_domain), as XAPI
    dom0 = ok(p.VM.get_uuid(s, ok(p.host.get_control_domain(s, host))))
    assert mem[dom0] > 0
    assert fams["xenbox_host_cpu_avg"].samples[0].labels == {"host": host_uuid}
    assert fams["xenbox_vm_vif_0_rx"].samples[0].value > 0

    # metrics objects follow the samples, with events
    m = ok(p.VM.get_metrics(s, vm))
    util = ok(p.VM_metrics.get_VCPUs_utilisation(s, m))
    assert sorted(util) == ["0", "1"] and all(v >= 0 for v in util.values())
    assert ok(p.VM_metrics.get_memory_actual(s, m)) == "268435456"
    dm0 = ok(p.VM.get_metrics(s, ok(p.host.get_control_domain(s, host))))
    assert int(ok(p.VM_metrics.get_memory_actual(s, dm0))) > 0
    hm = ok(p.host.get_metrics(s, host))
    assert int(ok(p.host_metrics.get_memory_free(s, hm))) > 0
    ev = ok(getattr(p.event, "from")(s, ["VM_metrics", "host_metrics"], token, 10.0))
    assert {e["ref"] for e in ev["events"]} >= {m, hm}


def test_min_max_archives_from_pool_other_config(daemon):
    p, s = daemon.login()
    pool = ok(p.pool.get_all(s))[0]
    ok(p.pool.add_to_other_config(s, pool, "create_min_max_in_new_VM_RRDs", "true"))
    vm = new_vm(p, s)
    uuid = ok(p.VM.get_uuid(s, vm))
    ok(p.VM.start(s, vm, False, False))
    wait_value(daemon, s, "AVERAGE:vm:%s:memory" % uuid, uuid)
    x = dump(daemon, s, "/vm_rrd?uuid=" + uuid)
    check_dump(x)
    cfs = [(a.findtext("cf"), a.findtext("params/xff")) for a in x.findall("rra")]
    assert cfs == [("AVERAGE", "0.5000")] * 4 + [("MIN", "1.0000")] * 4 + \
        [("MAX", "1.0000")] * 4
    r, data = get(daemon, "/rrd_updates?session_id=%s&start=-60&cf=MAX&vm_uuid=%s&json"
                  % (s, uuid))
    assert r.status == 200
    assert json.loads(data)["meta"]["legend"][0].startswith("MAX:vm:")


def database(x, cf="AVERAGE", pdp=1):
    for a in x.findall("rra"):
        if a.findtext("cf") == cf and a.findtext("pdp_per_row") == str(pdp):
            return [[v.text for v in row.findall("v")] for row in a.findall("database/row")]


def test_restart_keeps_history(state_dir):
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        vm = new_vm(p, s)
        uuid = ok(p.VM.get_uuid(s, vm))
        ok(p.VM.start(s, vm, False, False))
        wait_value(d, s, "AVERAGE:vm:%s:memory" % uuid, uuid)
        before = dump(d, s, "/vm_rrd?uuid=" + uuid)
        host_before = dump(d, s, "/host_rrd")
    finally:
        assert d.stop() == 0
    assert os.path.exists(os.path.join(state_dir, "stats.rrd"))
    assert not os.path.exists(os.path.join(state_dir, "stats.rrd.tmp"))
    d.start()
    try:
        p, s = d.login()
        after = dump(d, s, "/vm_rrd?uuid=" + uuid)
        host_after = dump(d, s, "/host_rrd")
        for b, a in ((before, after), (host_before, host_after)):
            lb, la = int(b.findtext("lastupdate")), int(a.findtext("lastupdate"))
            rb, ra = database(b), database(a)
            # at most one sample between the dump and the stop
            assert 0 <= la - lb <= 6
            assert ra == rb or ra[:-1] == rb[1:]
            assert any(v != "NaN" for row in ra for v in row)
        # and it goes on from there
        wait_value(d, s, "AVERAGE:vm:%s:memory" % uuid, uuid)
    finally:
        assert d.stop() == 0


def test_kill9_loses_at_most_one_interval(state_dir):
    conf = os.path.join(state_dir, "xenbox.conf")
    with open(conf, "w") as f:
        f.write("stats_save_interval = 5\n")
    d = Daemon(state_dir).start(extra=("--config", conf))
    p, s = d.login()
    time.sleep(16)
    last = int(dump(d, s, "/host_rrd").findtext("lastupdate"))
    d.stop(signal.SIGKILL)
    d.start(extra=("--config", conf))
    try:
        p, s = d.login()
        restored = int(dump(d, s, "/host_rrd").findtext("lastupdate"))
        # one save interval (5 s) and the sample in flight at most
        assert last - 10 <= restored <= last
        assert "damaged" not in d.read_log()
    finally:
        assert d.stop() == 0


def test_damaged_file_is_reported_and_replaced(state_dir):
    path = os.path.join(state_dir, "stats.rrd")
    with open(path, "wb") as f:
        f.write(b"XBRRD\0\1\0" + os.urandom(500))
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        check_dump(dump(d, s, "/host_rrd"))
    finally:
        assert d.stop() == 0
    assert "stats.rrd: not a stats file or damaged" in d.read_log()
    with open(path, "rb") as f:
        assert f.read(8) == b"XBRRD\0\1\0"
    d.start()       # the file written at shutdown loads without complaint
    d.stop()
    assert d.read_log().count("damaged") == 1


def test_rrds_newer_than_the_clock_wait_for_it(state_dir):
    """A host without RTC boots behind its saved RRDs: they are kept and
    their samples skipped, not dropped."""
    import hashlib
    import struct
    d = Daemon(state_dir).start()
    p, s = d.login()
    time.sleep(6)
    assert d.stop() == 0
    path = os.path.join(state_dir, "stats.rrd")
    with open(path, "rb") as f:
        data = bytearray(f.read())
    assert data[8] == 0                         # the host RRD comes first
    off = 8 + 1 + 36 + 8                        # its last_update (a double)
    future = struct.unpack_from("=d", data, off)[0] + 3600
    struct.pack_into("=d", data, off, future)
    data[-32:] = hashlib.sha256(bytes(data[:-32])).digest()
    with open(path, "wb") as f:
        f.write(data)
    d.start()
    try:
        p, s = d.login()
        time.sleep(7)                           # a sample at least
        assert int(dump(d, s, "/host_rrd").findtext("lastupdate")) == int(future)
        assert "damaged" not in d.read_log()
    finally:
        assert d.stop() == 0


PERFMON = ('<config><variable><name value="memory"/>'
           '<alarm_trigger_level value="%s"/><alarm_trigger_period value="5"/>'
           '</variable></config>')


def alarms(p, s, uuid):
    return [m for m in ok(p.message.get_all_records(s)).values()
            if m["name"] == "ALARM" and m["obj_uuid"] == uuid]


def test_alarm_once_per_episode(daemon):
    p, s = daemon.login()
    vm = new_vm(p, s)
    uuid = ok(p.VM.get_uuid(s, vm))
    ok(p.VM.start(s, vm, False, False))
    token = ok(getattr(p.event, "from")(s, ["*"], "", 0.0))["token"]
    ok(p.VM.add_to_other_config(s, vm, "perfmon", PERFMON % "1000"))
    deadline = time.time() + 30
    while not alarms(p, s, uuid):
        assert time.time() < deadline
        time.sleep(0.5)
    (m,) = alarms(p, s, uuid)
    assert m["cls"] == "VM" and m["priority"] == "5"
    assert m["body"].startswith("value: 268435456.000000\nconfig:\n<variable>")
    ev = ok(getattr(p.event, "from")(s, ["message"], token, 5.0))
    assert any(e["operation"] == "add" for e in ev["events"])
    # the condition holds: no repeat
    time.sleep(12)
    assert len(alarms(p, s, uuid)) == 1
    # the episode ends, a new one begins: a second message
    ok(p.VM.remove_from_other_config(s, vm, "perfmon"))
    ok(p.VM.add_to_other_config(s, vm, "perfmon", PERFMON % "1e12"))
    time.sleep(7)
    ok(p.VM.remove_from_other_config(s, vm, "perfmon"))
    ok(p.VM.add_to_other_config(s, vm, "perfmon", PERFMON % "1000"))
    deadline = time.time() + 30
    while len(alarms(p, s, uuid)) < 2:
        assert time.time() < deadline
        time.sleep(0.5)
    # the message API as Xen Orchestra reads it
    since = ok(p.message.get_since(s, xmlrpc_time(0)))
    assert len([r for r in since.values() if r["obj_uuid"] == uuid]) == 2
    assert len(ok(p.message.get(s, "VM", uuid, xmlrpc_time(0)))) == 2
    assert ok(p.message.get(s, "Host", uuid, xmlrpc_time(0))) == {}
    ref = ok(p.message.create(s, "TEST", 1, "VM", uuid, "hello"))
    assert ok(p.message.get_body(s, ref)) == "hello"
    assert p.message.create(s, "TEST", 1, "VM", "no-such-uuid", "x")["Status"] == "Failure"
    ok(p.message.destroy(s, ref))
    # a variable without a level is reported, not alarmed
    ok(p.VM.remove_from_other_config(s, vm, "perfmon"))
    ok(p.VM.add_to_other_config(s, vm, "perfmon",
                                '<config><variable><name value="cpu_usage"/></variable></config>'))
    time.sleep(6)
    assert "variable cpu_usage has no valid alarm_trigger_level" in daemon.read_log()


def test_host_alarm_memory_free_low(daemon):
    """memory_free_kib alarms when below its level (sense low by default)."""
    p, s = daemon.login()
    host = ok(p.host.get_all(s))[0]
    uuid = ok(p.host.get_uuid(s, host))
    ok(p.host.add_to_other_config(s, host, "perfmon",
                                  '<config><variable><name value="memory_free_kib"/>'
                                  '<alarm_trigger_level value="1e15"/>'
                                  '<alarm_trigger_period value="10"/>'
                                  '<alarm_priority value="2"/></variable></config>'))
    deadline = time.time() + 40
    while not alarms(p, s, uuid):
        assert time.time() < deadline
        time.sleep(0.5)
    (m,) = alarms(p, s, uuid)
    assert m["cls"] == "Host" and m["priority"] == "2"
    assert '<name value="memory_free_kib"/>' in m["body"]


def test_vm_alarm_variables(daemon):
    """cpu_usage, network_usage and disk_usage from the VM's data sources."""
    p, s = daemon.login()
    vm, uuid = vm_with_devices(p, s)
    var = ('<variable><name value="%s"/><alarm_trigger_level value="%s"/>'
           '<alarm_trigger_sense value="%s"/><alarm_trigger_period value="5"/></variable>')
    ok(p.VM.add_to_other_config(s, vm, "perfmon", "<config>%s%s%s%s</config>" % (
        var % ("cpu_usage", "2", "low"),           # a fraction: always below 2
        var % ("network_usage", "1", "high"),      # the sim's VIF moves bytes
        var % ("disk_usage", "1", "high"),
        var % ("disk_usage_typo", "1", "high"))))  # no such source: never
    deadline = time.time() + 60
    while len(alarms(p, s, uuid)) < 3:
        assert time.time() < deadline, (alarms(p, s, uuid), updates(daemon, s, uuid))
        time.sleep(0.5)
    names = sorted(m["body"].split('<name value="')[1].split('"')[0]
                   for m in alarms(p, s, uuid))
    # one each (a sample whose rate dips below 1 would start a new episode)
    assert set(names) == {"cpu_usage", "disk_usage", "network_usage"}
    net = [m for m in alarms(p, s, uuid) if '"network_usage"' in m["body"]][0]
    assert float(net["body"].split("\n")[0].split()[1]) > 0


def xmlrpc_time(t):
    import xmlrpc.client
    return xmlrpc.client.DateTime(time.gmtime(t))


def test_get_routes_complete_the_clients_task(daemon):
    """Xen Orchestra passes ?task_id= (its own task.create) on the GET
    routes; XAPI's handlers complete that task, success or failure with the
    error, so it does not stay pending for 24 h.  Without credentials the
    task is not touched."""
    p, s = daemon.login()
    host = ok(p.host.get_all(s))[0]
    host_uuid = ok(p.host.get_uuid(s, host))
    wait_value(daemon, s, "AVERAGE:host:%s:cpu_avg" % host_uuid)
    vm = new_vm(p, s)
    vm_uuid = ok(p.VM.get_uuid(s, vm))

    def task():
        return ok(p.task.create(s, "xo", "GET"))

    cases = [
        ("/rrd_updates?session_id=%s&start=-60&cf=AVERAGE&host=true&interval=5&json" % s, 200),
        ("/rrd_updates?session_id=%s&start=x" % s, 400),
        ("/host_rrd?session_id=%s" % s, 200),
        ("/vm_rrd?session_id=%s&uuid=%s" % (s, "no-such-vm"), 404),
        ("/console_log?session_id=%s&ref=%s" % (s, vm), None),
    ]
    for path, want in cases:
        t = task()
        r, data = get(daemon, path + "&task_id=" + t)
        assert want is None or r.status == want, (path, r.status, data)
        rec = ok(p.task.get_record(s, t))
        if r.status == 200:
            assert rec["status"] == "success", (path, rec)
            assert rec["error_info"] == [], (path, rec)
        else:
            assert rec["status"] == "failure", (path, rec)
            assert rec["error_info"][0] == "INTERNAL_ERROR", (path, rec)
            assert str(r.status) in rec["error_info"][1], (path, rec)
        assert rec["progress"] == 1.0 and rec["allowed_operations"] == [], (path, rec)
        ok(p.task.destroy(s, t))

    # no credentials (401): the task stays the client's, pending
    t = task()
    r, _ = get(daemon, "/rrd_updates?start=-60&task_id=" + t)
    assert r.status == 401
    assert ok(p.task.get_status(s, t)) == "pending"
    # Basic credentials (checked later, by a hash job) complete it as well
    auth = base64.b64encode(b"root:" + PASSWORD.encode()).decode()
    r, _ = daemon.raw("GET", "/host_rrd?task_id=" + t, headers={"Authorization": "Basic " + auth})
    assert r.status == 200
    assert ok(p.task.get_status(s, t)) == "success"
    # a finished task is left as it is; an unknown one is no error
    r, _ = get(daemon, "/vm_rrd?session_id=%s&uuid=x&task_id=%s" % (s, t))
    assert r.status == 404 and ok(p.task.get_status(s, t)) == "success"
    r, _ = get(daemon, "/host_rrd?session_id=%s&task_id=OpaqueRef:nope" % s)
    assert r.status == 200
