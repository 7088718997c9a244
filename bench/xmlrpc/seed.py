#!/usr/bin/env python3
"""Seed a xenbox state directory for the XML-RPC peer benchmark.

  seed.py record XENBOX STATE HARNESS
      xenbox then answers the harness's canonical VM.get_record request
      (its session and VM refs) with the canonical record: the VM, its VIFs,
      VBDs and console rows, a running sim domain with its domid, and the
      host under the canonical resident_on ref.
  seed.py all-records XENBOX STATE HARNESS N OUTDIR
      N VMs made from the canonical record through the API; writes
      OUTDIR/request_vm_get_record.xml (VM.get_all_records) and
      OUTDIR/response_vm_get_record.xml (the reply, in the harness's
      canonical format) so every server answers the same bytes.

Both give the harness's session ref a session row.  The daemon must not be
running while this writes its database.
"""
import calendar
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
import xmlrpc.client

PASSWORD = "secret"  # what the harness's request_login.xml sends


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Daemon:
    def __init__(self, xb, state):
        self.port = free_port()
        os.makedirs(state, exist_ok=True)
        subprocess.run([xb, "passwd", "--state-dir", state], input=PASSWORD + "\n",
                       text=True, check=True, capture_output=True)
        self.proc = subprocess.Popen(
            [xb, "daemon", "--state-dir", state, "--backend", "sim", "--http",
             "127.0.0.1:%d" % self.port, "--https", "", "--unix", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        self.p = xmlrpc.client.ServerProxy("http://127.0.0.1:%d/" % self.port,
                                           allow_none=True)
        self.s = self.call("session.login_with_password", "root", PASSWORD)

    def call(self, method, *args):
        obj = self.p
        for part in method.split("."):
            obj = getattr(obj, part)
        r = obj(*args)
        if r["Status"] != "Success":
            raise RuntimeError("%s: %s" % (method, r["ErrorDescription"]))
        return r["Value"]

    def jsonrpc(self, method, *args):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.port)
        c.request("POST", "/jsonrpc", json.dumps(
            {"jsonrpc": "2.0", "method": method, "params": list(args), "id": 1}))
        return json.loads(c.getresponse().read())["result"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def load(harness, name):
    with open(os.path.join(harness, name)) as f:
        return xmlrpc.client.loads(f.read())


def canonical(harness):
    (resp,), _ = load(harness, "response_vm_get_record.xml")
    (sess, vmref), _ = load(harness, "request_vm_get_record.xml")
    return resp["Value"], sess, vmref


def column(value, sample):
    """A wire value as its SQLite column, the type taken from sample (the
    same field of a JSON-RPC record: ints are numbers there)."""
    if isinstance(value, xmlrpc.client.DateTime):
        return calendar.timegm(time.strptime(value.value.rstrip("Z"), "%Y%m%dT%H:%M:%S"))
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(sample, int) and not isinstance(sample, bool):
        return int(value)
    return value


def insert(db, table, row):
    cols = [r[1] for r in db.execute('PRAGMA table_info("%s")' % table)]
    row = {k: v for k, v in row.items() if k in cols}
    db.execute('INSERT OR REPLACE INTO "%s" (%s) VALUES (%s)' % (
        table, ",".join('"%s"' % k for k in row), ",".join("?" * len(row))),
        list(row.values()))


def rename_ref(db, old, new):
    """Replace a ref in every text column of every table (O(rows))."""
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
        for col in [r[1] for r in db.execute('PRAGMA table_info("%s")' % table)]:
            db.execute('UPDATE "%s" SET "%s" = REPLACE("%s", ?, ?) WHERE "%s" LIKE ?'
                       % (table, col, col, col), (old, new, "%" + old + "%"))


def add_session(db, sess, host):
    insert(db, "session", {"ref": sess, "uuid": str(uuid.uuid4()), "this_host": host,
                           "this_user": "OpaqueRef:NULL", "is_local_superuser": 1,
                           "originator": "bench", "auth_user_name": "root",
                           "subject": "OpaqueRef:NULL", "parent": "OpaqueRef:NULL",
                           "other_config": "{}", "rbac_permissions": "[]"})


def seed_record(xb, state, harness):
    rec, sess, vmref = canonical(harness)
    d = Daemon(xb, state)
    try:
        dom0 = [v for v in d.jsonrpc("VM.get_all_records", d.s).values()
                if v["is_control_domain"]][0]
        dummy = d.call("VM.create", d.s, {"name_label": "dummy", "PV_kernel": "/k",
                                          "memory_static_max": "268435456",
                                          "memory_dynamic_max": "268435456",
                                          "memory_dynamic_min": "268435456"})
        d.call("VM.start", d.s, dummy, False, False)
        dummy_uuid = d.call("VM.get_uuid", d.s, dummy)
        host = d.call("host.get_all", d.s)[0]
    finally:
        d.stop()
    # the sim's domain becomes the canonical VM's
    path = os.path.join(state, "sim", "domains")
    with open(path) as f:
        text = f.read()
    domid = int(rec["domid"])
    text = re.sub(r"^dom \d+ uuid=%s" % dummy_uuid, "dom %d uuid=%s" % (domid, rec["uuid"]),
                  text, flags=re.M)
    text = re.sub(r"^next-domid \d+", "next-domid %d" % (domid + 1), text, flags=re.M)
    with open(path, "w") as f:
        f.write(text)
    db = sqlite3.connect(os.path.join(state, "xenbox.db"))
    metrics = db.execute('SELECT metrics FROM "VM" WHERE ref = ?', (dummy,)).fetchone()[0]
    db.execute('DELETE FROM "VM" WHERE ref = ?', (dummy,))
    db.execute('DELETE FROM "VM_metrics" WHERE ref = ?', (metrics,))
    db.execute('DELETE FROM "console" WHERE "VM" = ?', (dummy,))
    rename_ref(db, host, rec["resident_on"])
    row = {"ref": vmref}
    for k, v in rec.items():
        row[k] = column(v, dom0.get(k))
    insert(db, "VM", row)
    for cls, key in (("VIF", "VIFs"), ("VBD", "VBDs"), ("console", "consoles")):
        for i, ref in enumerate(rec[key]):
            r = {"ref": ref, "uuid": str(uuid.uuid4()), "VM": vmref, "device": str(i),
                 "userdevice": str(i), "other_config": "{}"}
            if cls == "VBD":
                r["VDI"] = "OpaqueRef:NULL"
            insert(db, cls, r)
    add_session(db, sess, rec["resident_on"])
    db.commit()
    db.close()


def seed_all_records(xb, state, harness, n, outdir):
    rec, sess, _ = canonical(harness)
    writable = ["name_label", "name_description", "user_version", "affinity",
                "memory_static_max", "memory_dynamic_max", "memory_dynamic_min",
                "memory_static_min", "VCPUs_params", "VCPUs_max", "VCPUs_at_startup",
                "actions_after_shutdown", "actions_after_reboot", "actions_after_crash",
                "PV_args", "HVM_boot_policy", "HVM_boot_params", "platform",
                "other_config", "recommendations", "xenstore_data", "tags",
                "domain_type"]
    d = Daemon(xb, state)
    try:
        host = d.call("host.get_all", d.s)[0]
        for i in range(n):
            r = {k: rec[k] for k in writable}
            r["name_label"] = "%s %04d" % (rec["name_label"], i)
            d.call("VM.create", d.s, r)
    finally:
        d.stop()
    db = sqlite3.connect(os.path.join(state, "xenbox.db"))
    add_session(db, sess, host)
    db.commit()
    db.close()
    # the reply, as xenbox gives it, in the harness's canonical format
    d = Daemon(xb, state)
    try:
        recs = d.call("VM.get_all_records", sess)
    finally:
        d.stop()
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "request_vm_get_record.xml"), "w") as f:
        f.write(xmlrpc.client.dumps((sess,), "VM.get_all_records"))
    with open(os.path.join(outdir, "response_vm_get_record.xml"), "w") as f:
        f.write(xmlrpc.client.dumps(({"Status": "Success", "Value": recs},),
                                    methodresponse=True))
    return len(recs)


def main():
    mode, xb, state, harness = sys.argv[1:5]
    if mode == "record":
        seed_record(xb, state, harness)
    elif mode == "all-records":
        print(seed_all_records(xb, state, harness, int(sys.argv[5]), sys.argv[6]))
    else:
        sys.exit("usage: see the docstring")


if __name__ == "__main__":
    main()
