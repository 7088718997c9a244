"""The daemon on the Xen backend (src/vmm/xen.c) in a real dom0 under QEMU:
host and dom0 from the hypervisor, then a PV guest (the test guest built
by `make guest-initramfs`, same kernel as dom0) started, seen running on
its console, shut down cleanly.  Skipped when the image's xenbox has no Xen
backend."""
import pytest

from qemu import boot, login, ok, wait_until

GUEST = "/usr/share/xenbox/guest"
MiB = 1 << 20


@pytest.fixture(scope="module")
def dom0(system_images, pwhash):
    q = boot(system_images, pwhash, "dom0-xen", "xen")
    yield q
    q.stop()


@pytest.fixture(scope="module")
def api(dom0):
    p, s = login(dom0)
    yield p, s
    p.session.logout(s)


def test_host_and_dom0_from_the_hypervisor(dom0, api):
    p, s = api
    hosts = ok(p.host.get_all_records(s))
    assert len(hosts) == 1
    href, host = next(iter(hosts.items()))
    vms = ok(p.VM.get_all_records(s))
    ctrl = [v for v in vms.values() if v["is_control_domain"]]
    assert len(ctrl) == 1, vms
    d0 = ctrl[0]
    assert d0["power_state"] == "Running" and d0["domid"] == "0", d0
    assert d0["resident_on"] == href
    m = ok(p.host_metrics.get_record(s, host["metrics"]))
    # QEMU has 1 GiB; dom0 has 512 MiB of it
    assert 900 * MiB < int(m["memory_total"]) <= 1024 * MiB, m
    assert int(m["memory_free"]) > 300 * MiB, m


def console_log(dom0, name):
    rc, out = dom0.run("cat /var/log/xen/console/guest-%s.log 2>/dev/null" % name, check=False)
    return out


def test_pv_guest_lifecycle_with_disk_and_nic(dom0, api):
    """One guest (each boot costs ~20 s under TCG): built from the XZ
    bzImage + initramfs, a VDI on a loop device through blkback, a VIF on
    xenbr0 through netback, its console through xenconsoled, a clean
    shutdown through xenstore."""
    p, s = api
    pool = next(iter(ok(p.pool.get_all_records(s)).values()))
    vdi = ok(p.VDI.create(s, {"SR": pool["default_SR"], "virtual_size": str(8 * MiB),
                              "name_label": "d", "type": "user", "sharable": False,
                              "read_only": False, "other_config": {}}))
    rec = {"name_label": "guest1", "PV_kernel": GUEST + "/vmlinuz",
           "PV_ramdisk": GUEST + "/initramfs.cpio.gz",
           "PV_args": "console=hvc0 quiet guest.stamp=system-test",
           "memory_static_max": str(128 * MiB), "memory_dynamic_max": str(128 * MiB),
           "memory_dynamic_min": str(128 * MiB), "memory_static_min": str(128 * MiB),
           "VCPUs_max": "1", "VCPUs_at_startup": "1", "domain_type": "pv"}
    vm = ok(p.VM.create(s, rec))
    vbd = ok(p.VBD.create(s, {"VM": vm, "VDI": vdi, "userdevice": "0", "bootable": True,
                              "mode": "RW", "type": "Disk", "empty": False,
                              "other_config": {}}))
    net = ok(p.network.get_all(s))[0]
    ok(p.VIF.create(s, {"VM": vm, "network": net, "device": "0", "MAC": "",
                        "MTU": "1500", "other_config": {}}))

    ok(p.VM.start(s, vm, False, False))
    r = ok(p.VM.get_record(s, vm))
    assert r["power_state"] == "Running" and int(r["domid"]) > 0, r
    domid = r["domid"]
    _, name = dom0.run("xenstore-read /local/domain/%s/name" % domid)
    assert name.strip() == "guest1"

    out = wait_until(lambda: "GUEST-IDLE" in console_log(dom0, "guest1") and
                     console_log(dom0, "guest1"), timeout=180, step=1,
                     what="GUEST-IDLE on the guest's console")
    assert "GUEST-UP" in out, out
    assert "GUEST-XVDA-OK" in out, out          # blkfront <-> blkback <-> loop
    _, br = dom0.run("ls /sys/class/net/xenbr0/brif")
    assert "vif%s.0" % domid in br, br          # netback's vif on the bridge

    ok(p.VM.clean_shutdown(s, vm))
    assert ok(p.VM.get_power_state(s, vm)) == "Halted"
    # the guest's init saw the request (the kernel ran busybox poweroff)
    assert "GUEST-POWEROFF" in console_log(dom0, "guest1")
    rc, _ = dom0.run("xenstore-exists /local/domain/%s" % domid, check=False)
    assert rc != 0, "domain %s is still in xenstore" % domid
    _, br = dom0.run("ls /sys/class/net/xenbr0/brif")
    assert "vif%s.0" % domid not in br, br

    # the guest's stamp is in the VDI's first sector
    loc = ok(p.VDI.get_location(s, vdi))
    _, head = dom0.run("head -n 1 %s" % loc)
    assert "XENBOX-GUEST-STAMP system-test" in head, head
    ok(p.VBD.destroy(s, vbd))
    ok(p.VM.destroy(s, vm))
    ok(p.VDI.destroy(s, vdi))
