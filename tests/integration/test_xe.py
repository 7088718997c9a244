"""`xenbox xe` (docs/XE.md): XAPI's xe syntax and output against a sim
daemon, over its Unix socket (as root) and over TLS with -s/-p/-u/-pw.
The formats asserted are XAPI's CLI printer's: "name (tag): value" lines,
the first label padded on the right and the rest on the left to 4 + the
longest, two empty lines after a record; --minimal's comma list with \\,
escapes; errors on stderr with exit 1.  Run with XENBOX naming the host
build or the shipped binary (xe is in the xenbox-io beside it)."""
import os
import re
import socket
import subprocess
import time
import xmlrpc.client

import pytest

from conftest import XENBOX, PASSWORD, Daemon, ok
from test_pool_chan import Pool, token, two_dirs, wait_for  # noqa: F401
from unixhttp import UnixTransport

IO = os.path.join(os.path.dirname(XENBOX), "xenbox-io")
COMPLETION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                          "src", "xe", "xe-completion.bash")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def xe(d, *args, stdin=None, remote=False, env=None, binary=None):
    """xe ARGS against daemon d: local (XE_EXTRA_ARGS names its socket,
    as a user's environment would) or remote (-s 127.0.0.1 -p its HTTPS
    port: with a port, 127.0.0.1 is a TLS server, not the socket)."""
    e = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    argv = [binary or XENBOX, "xe"] if not binary else [binary]
    if remote:
        argv += ["-s", "127.0.0.1", "-p", str(d.https_port), "-u", "root", "-pw", PASSWORD]
    else:
        e["XE_EXTRA_ARGS"] = "unix=" + d.unix
    e.update(env or {})
    return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=120,
                          input=stdin, env=e)


def good(r):
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert "Sanitizer" not in r.stderr, r.stderr
    return r.stdout


def bad(r):
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "Sanitizer" not in r.stderr, r.stderr
    return r.stderr


def api(d):
    p = xmlrpc.client.ServerProxy("http://localhost/", transport=UnixTransport(d.unix),
                                  allow_none=True)
    return p, ok(p.session.login_with_password("root", "", "1.0", "test"))


def new_vm(d, name, **kw):
    p, s = api(d)
    rec = {"name_label": name, "PV_kernel": "/boot/vmlinuz", "PV_args": "console=hvc0",
           "memory_static_max": "268435456", "memory_dynamic_max": "268435456",
           "memory_dynamic_min": "268435456", "memory_static_min": "134217728",
           "VCPUs_max": "1", "VCPUs_at_startup": "1", "domain_type": "pv"}
    rec.update(kw)
    ref = ok(p.VM.create(s, rec))
    return ok(p.VM.get_uuid(s, ref))


def record(fields):
    """XAPI's multi_line_record: [(label, value)] as xe prints it."""
    w = 4 + max(len(k) for k, _ in fields)
    lines = [fields[0][0].ljust(w) + ": " + fields[0][1]]
    lines += [k.rjust(w) + ": " + v for k, v in fields[1:]]
    return "\n".join(lines) + "\n\n\n"


def records(text):
    """xe's records back into dicts (name -> (tag, value))."""
    out = []
    for block in text.split("\n\n\n"):
        if not block.strip():
            continue
        rec = {}
        for line in block.split("\n"):
            m = re.match(r"^ *(\S+) (\( R[OW]\)|\([MS]R[OW]\)) *: (.*)$", line)
            assert m, repr(line)
            rec[m.group(1)] = (m.group(2), m.group(3))
        out.append(rec)
    return out


@pytest.fixture
def tls_daemon(state_dir):
    d = Daemon(state_dir).start(https=True)
    yield d
    assert d.stop() == 0, d.read_log()


def test_vm_list_format_minimal_and_params(daemon):
    u = new_vm(daemon, "web01")
    out = good(xe(daemon, "vm-list", "uuid=" + u))
    assert out == record([("uuid ( RO)", u), ("name-label ( RW)", "web01"),
                          ("power-state ( RO)", "halted")])
    # every VM but templates: dom0 is listed, in lower case too
    recs = records(good(xe(daemon, "vm-list")))
    assert {r["name-label"][1] for r in recs} >= {"web01"}
    assert all(r["power-state"][1] in ("halted", "running") for r in recs)
    assert len(recs) == 2
    # --minimal: the first field of each record on one line
    assert good(xe(daemon, "vm-list", "name-label=web01", "--minimal")) == u + "\n"
    assert good(xe(daemon, "vm-list", "name-label=nothing", "--minimal")) == "\n"
    assert good(xe(daemon, "vm-list", "name-label=nothing")) == ""
    # params= in record order, whatever order asked
    out = good(xe(daemon, "vm-list", "uuid=" + u, "params=power-state,name-label"))
    assert out == record([("name-label ( RW)", "web01"), ("power-state ( RO)", "halted")])
    assert good(xe(daemon, "vm-list", "uuid=" + u, "params=name-label", "--minimal")) == "web01\n"
    # params=all: every field, tags for maps and sets
    rec = records(good(xe(daemon, "vm-list", "uuid=" + u, "params=all")))[0]
    assert rec["other-config"][0] == "(MRW)" and rec["VBDs"][0] == "(SRO)"
    assert rec["memory-static-max"] == ("( RW)", "268435456")
    assert rec["resident-on"] == ("( RO)", "<not in database>")
    assert rec["is-a-template"][1] == "false"


def test_fields_are_the_datamodels(daemon):
    """params=all shows every field of the API's record (generated from
    api/model.c at build time): underscores as hyphens, a reference named
    after its class as CLASS-uuid followed by CLASS-name-label; nothing
    else.  For every class xe lists."""
    p, s = api(daemon)
    sr = good(xe(daemon, "sr-list", "--minimal")).strip()
    good(xe(daemon, "vdi-create", "sr-uuid=" + sr, "name-label=d", "virtual-size=1MiB"))
    new_vm(daemon, "fields")
    for cls, api_cls in (("vm", "VM"), ("host", "host"), ("sr", "SR"), ("vdi", "VDI"),
                         ("network", "network"), ("pool", "pool")):
        rec = next(iter(ok(getattr(p, api_cls).get_all_records(s)).values()))
        want = []
        for k, v in rec.items():
            if isinstance(v, str) and v.startswith("OpaqueRef:") and k.lower() in (
                    "vm", "sr", "vdi", "host", "network", "pool", "vbd", "vif", "pbd"):
                want += [k.lower() + "-uuid", k.lower() + "-name-label"]
            else:
                want.append(k.replace("_", "-"))
        shown = records(good(xe(daemon, cls + "-list", "params=all", "--all")))[0]
        assert sorted(shown) == sorted(want), (cls, set(shown) ^ set(want))
        # and param-list shows the same fields as params=all
        uuid = shown["uuid"][1]
        assert list(records(good(xe(daemon, cls + "-param-list", "uuid=" + uuid)))[0]) == \
            list(shown)


def test_dot_xe_and_extra_args(daemon, tmp_path):
    """~/.xe below XE_EXTRA_ARGS below the command line (XAPI's order)."""
    (tmp_path / ".xe").write_text("unix=%s\nparams=uuid\n" % daemon.unix)
    env = {"HOME": str(tmp_path), "XE_EXTRA_ARGS": ""}
    host = good(xe(daemon, "host-list", "--minimal")).strip()
    assert good(xe(daemon, "host-list", env=env)) == record([("uuid ( RO)", host)])
    env["XE_EXTRA_ARGS"] = "params=name-label"
    assert good(xe(daemon, "host-list", "--minimal", env=env)) == \
        good(xe(daemon, "host-list", "params=name-label", "--minimal"))
    assert good(xe(daemon, "host-list", "params=uuid", "--minimal", env=env)) == host + "\n"


def test_minimal_escapes_commas_and_backslashes(daemon):
    new_vm(daemon, "a,b\\c")
    new_vm(daemon, "plain")
    out = good(xe(daemon, "vm-list", "is-control-domain=false", "params=name-label",
                  "--minimal"))
    assert sorted(re.split(r"(?<!\\),", out.rstrip("\n"))) == ["a\\,b\\\\c", "plain"]


def test_param_get_set_list(daemon):
    u = new_vm(daemon, "db")
    assert good(xe(daemon, "vm-param-get", "uuid=" + u, "param-name=power-state")) == "halted\n"
    assert good(xe(daemon, "vm-param-set", "uuid=" + u, "name-label=db2",
                   "other-config:owner=ops", "VCPUs-max=2")) == ""
    assert good(xe(daemon, "vm-param-get", "uuid=" + u, "param-name=name-label")) == "db2\n"
    assert good(xe(daemon, "vm-param-get", "uuid=" + u, "param-name=other-config",
                   "param-key=owner")) == "ops\n"
    assert good(xe(daemon, "vm-param-get", "uuid=" + u, "param-name=VCPUs-max")) == "2\n"
    text = good(xe(daemon, "vm-param-list", "uuid=" + u))
    rec = records(text)[0]
    assert text.startswith("uuid ( RO)")
    assert rec["uuid"] == ("( RO)", u) and rec["name-label"] == ("( RW)", "db2")
    assert rec["other-config"] == ("(MRW)", "owner: ops")
    # the labels after the first are right-aligned to 4 + the longest
    lines = text.split("\n")
    w = 4 + max(len(l.split(":")[0].strip()) for l in lines if l)
    assert all(l.index(": ") == w for l in lines[1:] if l)
    # a read-only field, an unknown one, a bad uuid
    assert "read-only" in bad(xe(daemon, "vm-param-set", "uuid=" + u, "power-state=running"))
    assert bad(xe(daemon, "vm-param-get", "uuid=" + u, "param-name=nope")) == \
        "Error: Unknown field 'nope'\n"
    err = bad(xe(daemon, "vm-param-get", "uuid=00000000-0000-0000-0000-000000000000",
                 "param-name=uuid"))
    assert err == ("Error code: UUID_INVALID\n"
                   "Error parameters: VM, 00000000-0000-0000-0000-000000000000\n")
    assert bad(xe(daemon, "vm-param-get", "uuid=" + u)) == \
        "Required parameter not found: param-name\nFor usage run: 'xe help'\n"


def test_vm_lifecycle_and_errors(daemon):
    u = new_vm(daemon, "app")
    assert good(xe(daemon, "vm-start", "vm=app")) == ""
    assert good(xe(daemon, "vm-param-get", "uuid=" + u, "param-name=power-state")) == "running\n"
    # XAPI's error form for a failure it has no description of; the VM's
    # reference shown as its uuid
    err = bad(xe(daemon, "vm-start", "uuid=" + u))
    assert err == "Error code: VM_BAD_POWER_STATE\nError parameters: %s, halted, running\n" % u
    assert good(xe(daemon, "vm-reboot", "name-label=app")) == ""
    assert good(xe(daemon, "vm-reboot", "name-label=app", "--force")) == ""
    assert good(xe(daemon, "vm-shutdown", "uuid=" + u)) == ""
    assert good(xe(daemon, "vm-param-get", "uuid=" + u, "param-name=power-state")) == "halted\n"
    good(xe(daemon, "vm-start", "uuid=" + u))
    assert good(xe(daemon, "vm-shutdown", "uuid=" + u, "force=true")) == ""
    assert good(xe(daemon, "vm-list", "uuid=" + u, "params=power-state", "--minimal")) == \
        "halted\n"
    assert bad(xe(daemon, "vm-start", "vm=nothing")) == "Error: No matching VMs found\n"


def test_multiple(daemon):
    a, b = new_vm(daemon, "twin"), new_vm(daemon, "twin")
    assert bad(xe(daemon, "vm-start", "name-label=twin")) == \
        "Error: Multiple matches VMs found. --multiple required to complete the operation\n"
    good(xe(daemon, "vm-start", "name-label=twin", "--multiple"))
    assert good(xe(daemon, "vm-list", "name-label=twin", "params=power-state", "--minimal")) == \
        "running,running\n"
    # each failure named by its VM's uuid, on stdout as XAPI's Print
    good(xe(daemon, "vm-shutdown", "uuid=" + a, "--force"))
    r = xe(daemon, "vm-start", "name-label=twin", "--multiple")
    assert r.returncode == 1
    assert r.stdout == "operation failed on %s: VM_BAD_POWER_STATE: %s, halted, running\n" % (b, b)
    assert good(xe(daemon, "vm-list", "name-label=twin", "params=power-state", "--minimal")) == \
        "running,running\n"


def test_syntax_errors_and_help(daemon):
    assert bad(xe(daemon, "vm-frobnicate")) == \
        "Unknown command: vm-frobnicate\nFor usage run: 'xe help'\n"
    assert bad(xe(daemon, "vm-list", "stray")) == \
        "Syntax error: stray\nFor usage run: 'xe help'\n"
    cmds = good(xe(daemon, "help", "--minimal", "--all")).strip().split(",")
    for c in ("vm-list", "vm-start", "vm-shutdown", "vm-reboot", "vm-param-get", "vm-param-set",
              "vm-param-list", "vm-install", "vm-import", "vm-export", "host-list",
              "host-param-get", "sr-list", "vdi-list", "vdi-create", "vdi-import", "vdi-export",
              "network-list", "vif-list", "vbd-list", "pool-list", "pool-join", "pool-eject",
              "event-wait"):
        assert c in cmds, c
    h = good(xe(daemon, "help", "vdi-create"))
    assert h.startswith("command name            : vdi-create\n")
    assert "        reqd params     : sr-uuid, name-label, virtual-size\n" in h
    # the list commands take every field as a selector
    assert "power-state" in good(xe(daemon, "help", "vm-list"))


def test_other_classes(daemon):
    host = good(xe(daemon, "host-list", "--minimal")).strip()
    assert UUID.match(host)
    recs = records(good(xe(daemon, "host-list")))
    assert list(recs[0]) == ["uuid", "name-label", "name-description"]
    assert good(xe(daemon, "host-param-get", "uuid=" + host, "param-name=uuid")) == host + "\n"
    assert good(xe(daemon, "host-param-get", "uuid=" + host, "param-name=enabled")) == "true\n"
    sr = good(xe(daemon, "sr-list", "--minimal")).strip()
    assert UUID.match(sr)
    assert list(records(good(xe(daemon, "sr-list")))[0]) == \
        ["uuid", "name-label", "name-description", "type", "content-type"]
    pool = records(good(xe(daemon, "pool-list")))[0]
    assert pool["master"] == ("( RO)", host)
    assert list(records(good(xe(daemon, "network-list")))[0]) == \
        ["uuid", "name-label", "name-description", "bridge"]
    # a disk, attached to a VM with a NIC: vdi-, vbd- and vif-list
    vdi = good(xe(daemon, "vdi-create", "sr-uuid=" + sr, "name-label=disk0",
                  "virtual-size=16MiB")).strip()
    assert UUID.match(vdi)
    rec = records(good(xe(daemon, "vdi-list", "uuid=" + vdi)))[0]
    assert rec == {"uuid": ("( RO)", vdi), "name-label": ("( RW)", "disk0"),
                   "name-description": ("( RW)", ""), "sr-uuid": ("( RO)", sr),
                   "virtual-size": ("( RO)", "16777216"), "sharable": ("( RO)", "false"),
                   "read-only": ("( RO)", "false")}
    vm = new_vm(daemon, "withdisk")
    p, s = api(daemon)
    vmref, vdiref = ok(p.VM.get_by_uuid(s, vm)), ok(p.VDI.get_by_uuid(s, vdi))
    net = ok(p.network.get_all(s))[0]
    ok(p.VBD.create(s, {"VM": vmref, "VDI": vdiref, "userdevice": "0", "bootable": True,
                        "mode": "RW", "type": "Disk", "empty": False, "other_config": {},
                        "qos_algorithm_type": "", "qos_algorithm_params": {}}))
    ok(p.VIF.create(s, {"VM": vmref, "network": net, "device": "0", "MAC": "",
                        "MTU": "1500", "other_config": {}, "qos_algorithm_type": "",
                        "qos_algorithm_params": {}}))
    vbd = records(good(xe(daemon, "vbd-list", "vm-uuid=" + vm)))
    assert len(vbd) == 1
    assert vbd[0]["vm-uuid"] == ("( RO)", vm) and vbd[0]["vm-name-label"] == ("( RO)", "withdisk")
    assert vbd[0]["vdi-uuid"] == ("( RO)", vdi) and vbd[0]["empty"][1] == "false"
    vif = records(good(xe(daemon, "vif-list", "vm-uuid=" + vm)))
    assert len(vif) == 1 and list(vif[0]) == ["uuid", "vm-uuid", "device", "network-uuid"]
    assert vif[0]["device"][1] == "0"
    assert bad(xe(daemon, "vdi-create", "sr-uuid=" + sr, "name-label=x",
                  "virtual-size=lots")) == "Error: Invalid size: lots\n"


def test_commands_the_daemon_cannot_serve_yet(daemon, tmp_path):
    """vdi-import/export and vm-import/export need the daemon's transfer
    routes (storage stage 4): xe asks as XAPI's does and prints what the
    server answers; vm-install (templates: stage 3) works."""
    sr = good(xe(daemon, "sr-list", "--minimal")).strip()
    vdi = good(xe(daemon, "vdi-create", "sr-uuid=" + sr, "name-label=d",
                  "virtual-size=1MiB")).strip()
    img = tmp_path / "img"
    img.write_bytes(b"\0" * 4096)
    assert bad(xe(daemon, "vdi-import", "uuid=" + vdi, "filename=%s" % img)) == \
        "Operation failed. Error: the server answered HTTP 403 to PUT /import_raw_vdi\n"
    out = tmp_path / "out"
    assert bad(xe(daemon, "vdi-export", "uuid=" + vdi, "filename=%s" % out)) == \
        "Operation failed. Error: the server answered HTTP 403 to GET /export_raw_vdi\n"
    assert not out.exists()
    assert bad(xe(daemon, "vm-import", "filename=%s" % img)) == \
        "Operation failed. Error: the server answered HTTP 403 to PUT /import\n"
    vm = new_vm(daemon, "x")
    assert bad(xe(daemon, "vm-export", "uuid=" + vm, "filename=%s" % out)) == \
        "Operation failed. Error: the server answered HTTP 403 to GET /export\n"
    assert bad(xe(daemon, "vm-install", "template=Debian", "new-name-label=n")) == \
        "Error: Template not found: Debian\n"
    # a template a client made: VM.clone and VM.provision (storage stage 3)
    # make a VM of it, whose uuid xe prints
    new_vm(daemon, "Debian", is_a_template=True)
    assert "Debian" not in good(xe(daemon, "vm-list"))
    uuid = good(xe(daemon, "vm-install", "template=Debian", "new-name-label=n")).strip()
    assert good(xe(daemon, "vm-list", "name-label=n", "--minimal")).strip() == uuid
    assert good(xe(daemon, "vm-param-get", "uuid=" + uuid, "param-name=is-a-template")) == \
        "false\n"
    # the tasks xe made for the transfers are gone again
    p, s = api(daemon)
    assert ok(p.task.get_all(s)) == []


def test_pool_join_and_eject_errors(daemon):
    err = bad(xe(daemon, "pool-join", "master-address=127.0.0.1:1", "master-username=root",
                 "master-password=x"))
    assert err.startswith("Error code: "), err
    assert bad(xe(daemon, "pool-eject", "host-uuid=00000000-0000-0000-0000-000000000000",
                  "--force")).startswith("Error code: UUID_INVALID\n")
    host = good(xe(daemon, "host-list", "--minimal")).strip()
    r = xe(daemon, "pool-eject", "host-uuid=" + host, stdin="no\n")
    assert r.returncode == 0 and "Type 'yes' to continue" in r.stdout
    assert "Aborted (you typed: 'no')" in r.stdout


def test_pool_join_and_eject(two_dirs):
    """pool-join on a standalone host (a join token as the password, as
    pool.join takes one), the master's host-list with both hosts, then
    pool-eject from the master: standalone again."""
    pool = Pool(*two_dirs)
    try:
        tok = token(pool.master)
        pool.member.start([])
        master_host = good(xe(pool.master, "host-list", "--minimal")).strip()
        member_host = good(xe(pool.member, "host-list", "--minimal")).strip()
        args = ["pool-join", "master-address=" + pool.master_addr(), "master-username=root"]
        # the master refuses the password: XAPI's CLI line for a refused login
        assert bad(xe(pool.member, *args, "master-password=wrong")) == \
            "Authentication failed\nFor usage run: 'xe help'\n"
        assert good(xe(pool.member, *args, "master-password=" + tok)) == ""

        def hosts():
            return sorted(good(xe(pool.master, "host-list", "--minimal")).strip().split(","))
        wait_for(lambda: hosts() == sorted([master_host, member_host]), timeout=60)
        assert records(good(xe(pool.master, "pool-list")))[0]["master"][1] == master_host
        assert good(xe(pool.master, "pool-eject", "host-uuid=" + member_host, "--force")) == ""
        wait_for(lambda: hosts() == [master_host], timeout=60)
    finally:
        assert pool.stop() == (0, 0)


def test_event_wait(daemon):
    u = new_vm(daemon, "waiter")
    e = dict(os.environ, XE_EXTRA_ARGS="unix=" + daemon.unix)
    w = subprocess.Popen([XENBOX, "xe", "event-wait", "class=vm", "uuid=" + u,
                          "power-state=running"], env=e, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    assert w.poll() is None             # halted: still waiting
    good(xe(daemon, "vm-start", "uuid=" + u))
    out, err = w.communicate(timeout=60)
    assert w.returncode == 0, err
    # already true: at once; /= is "not"
    good(xe(daemon, "event-wait", "class=vm", "uuid=" + u, "power-state=/=halted"))


def test_over_tls(tls_daemon):
    d = tls_daemon
    new_vm(d, "remote")
    local = good(xe(d, "vm-list", "params=all"))
    assert good(xe(d, "vm-list", "params=all", remote=True)) == local
    assert good(xe(d, "vm-list", "name-label=remote", "params=name-label", "--minimal",
                   remote=True)) == "remote\n"
    r = xe(d, "-s", "127.0.0.1", "-p", str(d.https_port), "-u", "root", "-pw", "wrong",
           "host-list")
    assert bad(r) == "Authentication failed\nFor usage run: 'xe help'\n"
    # nothing listening: a port bound here, never listened on
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        r = xe(d, "-s", "127.0.0.1", "-p", str(closed.getsockname()[1]),
               "-u", "root", "-pw", PASSWORD, "host-list")
    assert bad(r).startswith("Unable to contact server. Please check server and port settings.\n")


def test_no_daemon():
    r = subprocess.run([XENBOX, "xe", "vm-list", "unix=/nonexistent/xapi"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.startswith("Unable to contact server. Please check server and port settings.\n")


def test_xe_link_and_completion(daemon, tmp_path):
    """The image's `xe` is a link to xenbox-io: the applet by its name.
    The completion script, sourced by bash, asks that xe."""
    os.symlink(IO, tmp_path / "xe")
    u = new_vm(daemon, "Web Server")
    assert good(xe(daemon, "vm-list", "uuid=" + u, "--minimal", binary=str(tmp_path / "xe"))) \
        == u + "\n"
    env = dict(os.environ, PATH="%s:%s" % (tmp_path, os.environ["PATH"]),
               XE_EXTRA_ARGS="unix=" + daemon.unix, ASAN_OPTIONS="detect_leaks=0")

    def complete(*words):
        script = ('source %s\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\n_xe\n'
                  'printf "%%s\\n" "${COMPREPLY[@]}"\n' % (
                      COMPLETION, " ".join("'%s'" % w for w in words), len(words) - 1))
        r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        return [l for l in r.stdout.split("\n") if l]

    assert complete("xe", "vm-sh") == ["vm-shutdown "]
    assert "vdi-create" in complete("xe", "")
    assert complete("xe", "vm-param-get", "param-n") == ["param-name="]
    assert complete("xe", "vm-param-get", "uuid=" + u[:6]) == ["uuid=" + u]
    assert complete("xe", "vm-start", "vm=Web") == ["vm=Web\\ Server"]
    assert complete("xe", "vm-list", "params=power") == ["params=power-state"]
    assert complete("xe", "vm-shutdown", "force=t") == ["force=true"]
    # a parameter already given is not offered again
    assert "uuid=" not in complete("xe", "vm-param-get", "uuid=" + u, "")
    r = subprocess.run(["bash", "-c", "source %s; complete -p xe" % COMPLETION],
                       capture_output=True, text=True)
    assert r.stdout.strip() == "complete -o nospace -F _xe xe"
