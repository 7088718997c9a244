"""Backend none: the management-only pool master on a server without Xen.
The host runs no guests, so VM.start and start_on fail with XAPI's
NO_HOSTS_AVAILABLE, allowed_operations never offers them, and the host's
record is the server's own (no SR, no network, no guest capabilities)."""
import os
import socket
import subprocess
import time

import pytest

from conftest import XENBOX, Daemon, fails, ok
from ports import free_port
from test_api import new_vm, wait_for

NO_START = {"start", "start_on", "hard_reboot", "clean_reboot"}


def stop_clean(d):
    rc = d.stop()
    log = d.read_log()
    assert "ERROR: AddressSanitizer" not in log, log
    assert "runtime error" not in log, log
    assert rc == 0, log
    return log


@pytest.fixture
def none_daemon(state_dir):
    d = Daemon(state_dir).start(extra=("--backend", "none"))
    yield d
    stop_clean(d)


def test_host_is_the_servers_own(none_daemon):
    p, s = none_daemon.login()
    hosts = ok(p.host.get_all(s))
    assert len(hosts) == 1
    h = ok(p.host.get_record(s, hosts[0]))
    assert h["capabilities"] == []      # no guest type can run here
    assert int(h["cpu_info"]["cpu_count"]) == os.sysconf("SC_NPROCESSORS_ONLN")
    assert len(ok(p.host_cpu.get_all(s))) == os.sysconf("SC_NPROCESSORS_ONLN")
    m = ok(p.host_metrics.get_record(s, h["metrics"]))
    phys = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGESIZE")
    assert int(m["memory_total"]) == phys
    assert 0 < int(m["memory_free"]) <= phys
    assert m["live"] is True
    for op in ("vm_start", "vm_resume", "vm_migrate", "provision"):
        assert op not in h["allowed_operations"]
    # a control domain, as clients expect one per host; nothing to store
    # guests on or connect them to
    dom0 = ok(p.VM.get_record(s, h["control_domain"]))
    assert dom0["is_control_domain"] is True and dom0["resident_on"] == hosts[0]
    assert ok(p.SR.get_all(s)) == []
    assert ok(p.network.get_all(s)) == []
    assert ok(p.PIF.get_all(s)) == []
    pool = ok(p.pool.get_record(s, ok(p.pool.get_all(s))[0]))
    assert pool["master"] == hosts[0] and pool["default_SR"] == "OpaqueRef:NULL"
    assert "backend none" in none_daemon.read_log()


def test_vm_start_refused(none_daemon):
    p, s = none_daemon.login()
    host = ok(p.host.get_all(s))[0]
    vm = new_vm(p, s)
    assert not NO_START & set(ok(p.VM.get_allowed_operations(s, vm)))
    assert "destroy" in ok(p.VM.get_allowed_operations(s, vm))
    fails(p.VM.start(s, vm, False, False), "NO_HOSTS_AVAILABLE")
    fails(p.VM.start(s, vm, True, False), "NO_HOSTS_AVAILABLE")
    fails(p.VM.start_on(s, vm, host, False, False), "NO_HOSTS_AVAILABLE")
    # the async form fails its task the same way
    t = ok(p.Async.VM.start(s, vm, False, False))
    wait_for(lambda: ok(p.task.get_status(s, t)) != "pending")
    assert ok(p.task.get_status(s, t)) == "failure"
    assert ok(p.task.get_error_info(s, t))[0] == "NO_HOSTS_AVAILABLE"
    # nothing changed, nothing is stuck; the VM goes as any halted one
    assert ok(p.VM.get_power_state(s, vm)) == "Halted"
    assert ok(p.VM.get_current_operations(s, vm)) == {}
    assert not NO_START & set(ok(p.VM.get_allowed_operations(s, vm)))
    fails(p.VM.hard_shutdown(s, vm), "VM_BAD_POWER_STATE")
    ok(p.VM.destroy(s, vm))
    # over JSON-RPC too
    r = none_daemon.jsonrpc("VM.start", [s, new_vm(p, s), False, False])
    assert r["error"]["message"] == "NO_HOSTS_AVAILABLE" and r["error"]["data"] == [], r


def test_running_vm_of_a_former_backend_halts(state_dir):
    """A state directory that ran guests under another backend: its
    running VMs are gone on a host without a hypervisor (marked Halted),
    and not startable."""
    d = Daemon(state_dir).start()
    p, s = d.login()
    vm = new_vm(p, s)
    ok(p.VM.start(s, vm, False, False))
    assert ok(p.VM.get_power_state(s, vm)) == "Running"
    stop_clean(d)
    d = Daemon(state_dir).start(extra=("--backend", "none"))
    try:
        p, s = d.login()
        assert ok(p.VM.get_power_state(s, vm)) == "Halted"
        assert not NO_START & set(ok(p.VM.get_allowed_operations(s, vm)))
        fails(p.VM.start(s, vm, False, False), "NO_HOSTS_AVAILABLE")
    finally:
        stop_clean(d)


def test_default_backend_without_xen(state_dir):
    """No /dev/xen/privcmd: the default is none, not the simulation."""
    xen = os.path.exists("/dev/xen/privcmd")
    port = free_port()
    log = os.path.join(state_dir, "default.log")
    with open(log, "w") as f:
        proc = subprocess.Popen([XENBOX, "daemon", "--state-dir", state_dir, "--https", "",
                                 "--unix", "", "--http", "127.0.0.1:%d" % port],
                                stdout=f, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 20
        while time.time() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        assert xen or proc.poll() is None, open(log).read()
    finally:
        if proc.poll() is None:
            proc.terminate()
        rc = proc.wait(20)
    text = open(log).read()
    if xen:         # a Xen host: xen, or a clear refusal, never none or sim
        assert "backend xen" in text or "not in this build" in text, text
        return
    assert rc == 0, text
    assert "backend none" in text, text


def test_bad_backend_config(tmp_path):
    conf = tmp_path / "xenbox.conf"
    conf.write_text("backend = none\n")
    r = subprocess.run([XENBOX, "daemon", "--config", str(conf), "--check-config"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    conf.write_text("backend = qemu\n")
    r = subprocess.run([XENBOX, "daemon", "--config", str(conf), "--check-config"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "backend must be xen, sim or none" in r.stderr, r
