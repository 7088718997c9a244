"""GET /rrd_updates on the sim backend: the collector's RRDs, read back with
independent parsers (json, xml.etree) the way Xen Orchestra asks."""
import json
import math
import time
import xml.etree.ElementTree as ET

from conftest import ok
from test_api import new_vm

HOST_DS = ["cpu0", "cpu_avg", "memory_total_kib", "memory_free_kib", "loadavg"]


def get(daemon, query, headers=None):
    return daemon.raw("GET", "/rrd_updates?" + query, headers=headers)


def updates_json(daemon, s, extra=""):
    r, data = get(daemon, "session_id=%s&start=-600&cf=AVERAGE&host=true"
                  "&interval=5&json=true%s" % (s, extra))
    assert r.status == 200, data
    assert r.getheader("Content-Type") == "application/json"
    return json.loads(data)     # NaN is accepted, as by XO's JSON5


def check_shape(meta, rows):
    assert meta["rows"] == len(rows)
    assert all(len(row["values"]) == meta["columns"] for row in rows)
    assert len(meta["legend"]) == meta["columns"]
    ts = [row["t"] for row in rows]
    assert ts == sorted(ts, reverse=True)       # newest first
    assert all(a - b == meta["step"] for a, b in zip(ts, ts[1:]))
    if rows:
        assert meta["end"] == ts[0]


def test_rrd_updates(daemon):
    p, s = daemon.login()
    host_uuid = ok(p.host.get_uuid(s, ok(p.host.get_all(s))[0]))
    vm = new_vm(p, s, VCPUs_max="2", VCPUs_at_startup="2")
    vm_uuid = ok(p.VM.get_uuid(s, vm))
    ok(p.VM.start(s, vm, False, False))

    # sessions: none or unknown is 401, as XAPI's HTTP handlers
    assert get(daemon, "start=0")[0].status == 401
    assert get(daemon, "session_id=OpaqueRef:nope&start=0")[0].status == 401
    assert get(daemon, "session_id=%s&start=x" % s)[0].status == 400
    assert get(daemon, "session_id=%s&start=0&cf=LAST&host=true" % s)[0].status == 500

    legend = lambda kind, uuid, ds: "AVERAGE:%s:%s:%s" % (kind, uuid, ds)
    vm_mem = legend("vm", vm_uuid, "memory")
    deadline = time.time() + 30
    while True:
        u = updates_json(daemon, s)
        meta, rows = u["meta"], u["data"]
        if rows and vm_mem in meta["legend"]:
            v = rows[0]["values"][meta["legend"].index(vm_mem)]
            if not math.isnan(v):
                break
        assert time.time() < deadline, u
        time.sleep(0.5)
    assert meta["step"] == 5
    check_shape(meta, rows)
    for ds in HOST_DS:
        assert legend("host", host_uuid, ds) in meta["legend"]
    for ds in ("cpu0", "cpu1", "memory"):
        assert legend("vm", vm_uuid, ds) in meta["legend"]
    newest = dict(zip(meta["legend"], rows[0]["values"]))
    assert newest[vm_mem] == 268435456
    assert newest[legend("host", host_uuid, "memory_total_kib")] > 0
    assert newest[legend("host", host_uuid, "memory_free_kib")] > 0

    # the same as rrdtool xport XML
    r, data = get(daemon, "session_id=%s&start=-600&cf=AVERAGE&host=true&interval=5" % s)
    assert r.status == 200 and r.getheader("Content-Type") == "text/xml"
    x = ET.fromstring(data)
    assert x.tag == "xport"
    xl = [e.text for e in x.find("meta/legend")]
    assert xl == meta["legend"]
    xrows = x.findall("data/row")
    assert int(x.findtext("meta/rows")) == len(xrows) >= 1
    assert int(x.findtext("meta/step")) == 5
    assert all(len(row.findall("v")) == len(xl) for row in xrows)
    float(xrows[0].findtext("v"))

    # JSON by Accept (xapi >= 23.17); one VM without the host
    r, data = get(daemon, "session_id=%s&start=-600&vm_uuid=%s" % (s, vm_uuid),
                  {"Accept": "application/json"})
    assert r.status == 200
    u = json.loads(data)
    check_shape(u["meta"], u["data"])
    assert u["meta"]["legend"] and all(":vm:%s:" % vm_uuid in l for l in u["meta"]["legend"])

    # extreme numbers are not errors (and no overflow under UBSan)
    for q in ("start=9223372036854775807", "start=-9223372036854775808",
              "start=0&interval=-9223372036854775808"):
        r, data = get(daemon, "session_id=%s&host=true&%s" % (s, q))
        assert r.status == 200, (q, data)
    assert get(daemon, "session_id=%s&start=99999999999999999999" % s)[0].status == 400

    # coarser archives: interval 60 gives minute rows
    r, data = get(daemon, "session_id=%s&start=-3600&cf=AVERAGE&host=true"
                  "&interval=60&json" % s)
    u = json.loads(data)
    assert u["meta"]["step"] == 60
    check_shape(u["meta"], u["data"])
