"""The package installs in a clean bookworm root and the unit's command
serves the XenAPI there (docs/POOL.md section 10, stage 8)."""
import configparser
import http.client
import os
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import time
import xmlrpc.client

import pytest

from conftest import in_root, in_root_cmd
from netns import loopback_netns

PASSWORD = "deb-suite-s3cret"
DYNAMIC_UID = 61184     # the first of systemd's DynamicUser range


@pytest.fixture(scope="session")
def installed(debroot, deb):
    shutil.copy(deb, debroot / "tmp" / "xenbox.deb")
    r = in_root(debroot, "dpkg", "-i", "/tmp/xenbox.deb")
    assert "Setting up xenbox" in r.stdout, r.stdout + r.stderr
    return debroot


def unit(root):
    """The installed unit's sections, as systemd reads the keys we use."""
    p = configparser.ConfigParser(interpolation=None, strict=False)
    p.optionxform = str
    p.read(root / "usr/lib/systemd/system/xenbox.service")
    return p


def ok(r):
    assert r["Status"] == "Success", r
    return r["Value"]


def test_package_installs(installed):
    root = installed
    r = in_root(root, "dpkg-query", "-W", "-f", "${Status} ${Version} ${Architecture}\n",
                "xenbox")
    assert r.stdout.startswith("install ok installed "), r.stdout
    assert r.stdout.split()[-1] == "amd64"
    for name in ("xenbox", "xenbox-io"):
        binary = root / "usr/sbin" / name
        assert binary.stat().st_mode & 0o777 == 0o755 and binary.stat().st_uid == 0
    # the applets besides the daemon run the helper, under their old names
    r = in_root(root, "xenbox", "pool", "fingerprint", "--state-dir", "/nonexistent",
                check=False)
    assert r.returncode == 1 and "pool-master.pem" in r.stderr, r.stderr
    # static: it runs in a root with no library of ours, and knows none
    r = in_root(root, "xenbox", "daemon", "--help")
    assert "--backend xen|sim|none" in r.stdout + r.stderr
    conf = root / "etc/xenbox/xenbox.conf"
    assert conf.exists() and conf.stat().st_mode & 0o777 == 0o644
    r = in_root(root, "dpkg-query", "-W", "-f", "${Conffiles}\n", "xenbox")
    assert "/etc/xenbox/xenbox.conf" in r.stdout, r.stdout
    # the example checks clean with the installed binary
    r = in_root(root, "xenbox", "daemon", "--config", "/etc/xenbox/xenbox.conf",
                "--check-config")
    assert r.returncode == 0
    # no systemd in a chroot: postinst started nothing, enabled nothing
    assert not (root / "etc/systemd/system/multi-user.target.wants/xenbox.service").exists()
    svc = unit(root)["Service"]
    assert svc["DynamicUser"] == "yes" and svc["StateDirectory"] == "xenbox"


def test_unit_command_serves_the_api(installed):
    root = installed
    svc = unit(root)["Service"]
    argv = shlex.split(svc["ExecStart"])
    assert argv[0] == "/usr/sbin/xenbox" and argv[1] == "daemon"
    assert argv[argv.index("--backend") + 1] == "none"
    https = argv[argv.index("--https") + 1]
    assert https == "0.0.0.0:443"
    sock = argv[argv.index("--unix") + 1]
    state = argv[argv.index("--state-dir") + 1]
    # the administrator's one step: a password hash in the config file
    r = in_root(root, "xenbox", "passwd", "--print", input=PASSWORD + "\n")
    with open(root / "etc/xenbox/xenbox.conf", "a") as f:
        f.write("root_password_hash = %s\n" % r.stdout.strip())
    # what systemd does before ExecStart: StateDirectory and RuntimeDirectory
    # owned by the dynamic user, whose uid the command then runs as, with
    # AmbientCapabilities (port 443) and NoNewPrivileges
    assert state == "/var/lib/" + svc["StateDirectory"]
    assert os.path.dirname(sock) == "/run/" + svc["RuntimeDirectory"]
    for d, mode in ((state, int(svc["StateDirectoryMode"], 8)), (os.path.dirname(sock), 0o755)):
        os.makedirs(str(root) + d, exist_ok=True)
        os.chown(str(root) + d, DYNAMIC_UID, DYNAMIC_UID)
        os.chmod(str(root) + d, mode)
    assert svc["AmbientCapabilities"] == "CAP_NET_BIND_SERVICE"
    run_as = ["setpriv", "--reuid=%d" % DYNAMIC_UID, "--regid=%d" % DYNAMIC_UID,
              "--clear-groups", "--inh-caps=+net_bind_service",
              "--ambient-caps=+net_bind_service", "--no-new-privs"]
    log = root.parent / "daemon.log"
    # a network namespace of its own with only loopback: --https 0.0.0.0:443
    # as the unit says, and nothing but this test can reach it
    with loopback_netns(), open(log, "w") as logf:
        proc = subprocess.Popen(in_root_cmd(root, *run_as, *argv), stdout=logf,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, "the daemon exited:\n" + log.read_text()
                try:
                    socket.create_connection(("127.0.0.1", 443), 0.5).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "no port 443:\n" + log.read_text()
                    time.sleep(0.1)
            check_api(root, sock)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)     # the daemon stops cleanly
            try:
                rc = proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                rc = proc.wait()
    text = log.read_text()
    assert rc == 0, text
    assert "backend none" in text, text
    # it ran as the dynamic user: its state is that user's
    assert os.stat(str(root) + state + "/xenbox.db").st_uid == DYNAMIC_UID


def check_api(root, sock):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE         # its own self-signed certificate
    p = xmlrpc.client.ServerProxy("https://127.0.0.1:443/", context=ctx, allow_none=True)
    s = ok(p.session.login_with_password("root", PASSWORD, "1.0", "deb-suite"))
    hosts = ok(p.host.get_all(s))
    assert len(hosts) == 1
    h = ok(p.host.get_record(s, hosts[0]))
    assert h["capabilities"] == [] and "vm_start" not in h["allowed_operations"]
    pools = ok(p.pool.get_all_records(s))
    assert [v["master"] for v in pools.values()] == hosts
    vm = ok(p.VM.create(s, {
        "name_label": "deb", "PV_kernel": "/boot/vmlinuz", "domain_type": "pv",
        "memory_static_max": "268435456", "memory_dynamic_max": "268435456",
        "memory_dynamic_min": "268435456", "memory_static_min": "134217728",
        "VCPUs_max": "1", "VCPUs_at_startup": "1"}))
    assert "start" not in ok(p.VM.get_allowed_operations(s, vm))
    r = p.VM.start(s, vm, False, False)
    assert r["Status"] == "Failure" and r["ErrorDescription"] == ["NO_HOSTS_AVAILABLE"], r
    ok(p.session.logout(s))
    # the Unix socket: root on the server is the local superuser
    c = http.client.HTTPConnection("localhost")
    c.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.sock.connect(str(root) + sock)
    c.request("POST", "/", xmlrpc.client.dumps(("root", ""), "session.login_with_password"),
              {"Content-Type": "text/xml"})
    (r,), _ = xmlrpc.client.loads(c.getresponse().read())
    c.close()
    assert r["Status"] == "Success", r
