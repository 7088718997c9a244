"""The daemon on the Xen backend (src/vmm/xen.c) in a real dom0 under QEMU:
host and dom0 from the hypervisor; a PV guest (the test guest built by
`make guest-initramfs`, same kernel as dom0) with a disk and a NIC started,
seen on its console, its stats read, shut down cleanly, started again,
adopted by a daemon killed -9 and restarted, shut down hard; a PVH guest
through pause, reboots and adoption; guest-initiated shutdowns.  Skipped
when the image's xenbox has no Xen backend (failed in `make check`)."""
import os
import struct
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

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


def rrd_dump(dom0, s, path):
    """/host_rrd or /vm_rrd: the RRD as rrdtool's dump XML."""
    url = dom0.url() + path + ("&" if "?" in path else "?") + "session_id=" + s
    with urllib.request.urlopen(url, timeout=30) as r:
        return ET.fromstring(r.read())


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

    # Stats from the real backend: the guest's RRD has its CPU, memory,
    # netback and blkback sources, and blkback counted the stamp written.
    uuid = r["uuid"]

    def vm_sources():
        x = rrd_dump(dom0, s, "vm_rrd?uuid=" + uuid)
        return {d.findtext("name"): float(d.findtext("last_ds")) for d in x.findall("ds")}
    ds = wait_until(lambda: (lambda d: d if d.get("vbd_xvda_write", 0) >= 512 else None)(
        vm_sources()), timeout=60, step=5, what="vbd_xvda_write >= 512 in /vm_rrd")
    for name in ("cpu0", "memory", "memory_target", "vif_0_rx", "vif_0_tx",
                 "vbd_xvda_read", "vbd_xvda_write"):
        assert name in ds, ds
    host = {d.findtext("name"): float(d.findtext("last_ds"))
            for d in rrd_dump(dom0, s, "host_rrd").findall("ds")}
    assert host.get("pif_eth0_rx", 0) > 0, host     # this test's own traffic
    assert "memory_free_kib" in host and "cpu_avg" in host, host

    ok(p.VM.clean_shutdown(s, vm))
    assert ok(p.VM.get_power_state(s, vm)) == "Halted"
    # the guest's init saw the request (the kernel ran busybox poweroff)
    assert "GUEST-POWEROFF" in console_log(dom0, "guest1")
    rc, _ = dom0.run("xenstore-exists /local/domain/%s" % domid, check=False)
    assert rc != 0, "domain %s is still in xenstore" % domid
    _, br = dom0.run("ls /sys/class/net/xenbr0/brif")
    assert "vif%s.0" % domid not in br, br

    # Started again with the same devices; the daemon killed -9 and
    # restarted while it runs adopts it (same domid, one domain, its vif
    # still on the bridge); hard_shutdown takes it and its devices down.
    ok(p.VM.start(s, vm, False, False))
    r = ok(p.VM.get_record(s, vm))
    assert r["power_state"] == "Running" and int(r["domid"]) not in (-1, int(domid)), r
    domid = int(r["domid"])
    wait_marker(dom0, s, vm, "GUEST-IDLE")
    p, s = restart_daemon_hard(dom0)
    r = ok(p.VM.get_record(s, vm))
    assert r["power_state"] == "Running" and int(r["domid"]) == domid, r
    assert domains_named(dom0, "guest1") == [domid]
    _, br = dom0.run("ls /sys/class/net/xenbr0/brif")
    assert "vif%d.0" % domid in br, br
    ok(p.VM.hard_shutdown(s, vm))
    r = ok(p.VM.get_record(s, vm))
    assert r["power_state"] == "Halted" and r["domid"] == "-1", r
    assert domains_named(dom0, "guest1") == []
    _, br = dom0.run("ls /sys/class/net/xenbr0/brif")
    assert "vif%d.0" % domid not in br, br

    # the guest's stamp is in the VDI's first sector
    loc = ok(p.VDI.get_location(s, vdi))
    _, head = dom0.run("head -n 1 %s" % loc)
    assert "XENBOX-GUEST-STAMP system-test" in head, head
    ok(p.VBD.destroy(s, vbd))
    ok(p.VM.destroy(s, vm))
    ok(p.VDI.destroy(s, vdi))


def api_console(dom0, s, vm):
    """The guest's console as the daemon keeps it: GET /console_log."""
    q = urllib.parse.urlencode({"session_id": s, "ref": vm})
    with urllib.request.urlopen(dom0.url() + "console_log?" + q, timeout=30) as r:
        return r.read().decode(errors="replace")


def domains_named(dom0, name):
    """domids whose xenstore name is name (dom0 has no xl)."""
    _, out = dom0.run("for d in $(xenstore-list /local/domain); do "
                      "echo \"$d $(xenstore-read /local/domain/$d/name 2>/dev/null)\"; done")
    return [int(line.split()[0]) for line in out.splitlines()
            if len(line.split()) == 2 and line.split()[1] == name]


def guest_record(name, domain_type, args):
    # PVH under QEMU TCG needs tsc_mode native: TCG's SVM lacks NRIP save,
    # so an emulated rdtscp faults (docs/XEN_BACKEND.md)
    platform = {"tsc_mode": "native"} if domain_type == "pvh" else {}
    return {"name_label": name, "platform": platform, "PV_kernel": GUEST + "/vmlinuz",
            "PV_ramdisk": GUEST + "/initramfs.cpio.gz", "PV_args": "console=hvc0 quiet " + args,
            "memory_static_max": str(128 * MiB), "memory_dynamic_max": str(128 * MiB),
            "memory_dynamic_min": str(128 * MiB), "memory_static_min": str(128 * MiB),
            "VCPUs_max": "1", "VCPUs_at_startup": "1", "domain_type": domain_type}


def wait_marker(dom0, s, vm, marker, count=1, timeout=180):
    return wait_until(lambda: api_console(dom0, s, vm).count(marker) >= count and
                      api_console(dom0, s, vm), timeout=timeout, step=1,
                      what="%s x%d on the guest's console (GET /console_log)" % (marker, count))


def restart_daemon_hard(dom0):
    """kill -9 the daemon and start it again, as dom0's /init does."""
    dom0.run("kill -9 $(cat /run/xenbox.pid); sleep 0.5; "
             "xenbox daemon --config /run/xenbox.conf --backend xen --state-dir /var/lib/xenbox "
             "--http 0.0.0.0:80 --https 0.0.0.0:443 --unix /run/xenbox/xapi.sock "
             ">>/var/log/xenbox.log 2>&1 & echo $! >/run/xenbox.pid")

    def answers():
        try:
            return login(dom0)
        except OSError:
            return None
    return wait_until(answers, timeout=60, step=0.5, what="the restarted daemon answering")


def test_pvh_guest_power_cycle_and_daemon_kill(dom0, api):
    """A PVH guest (the same Debian kernel, booted through its Xen ELF note):
    console through the API, pause/unpause, the daemon killed -9 and
    restarted (the guest adopted, not duplicated), clean_reboot, hard_reboot,
    clean_shutdown; domids and power states checked at each step."""
    p, s = api
    vm = ok(p.VM.create(s, guest_record("pvh1", "pvh", "")))
    ok(p.VM.start(s, vm, False, False))
    r = ok(p.VM.get_record(s, vm))
    assert r["power_state"] == "Running" and int(r["domid"]) > 0, r
    domid = int(r["domid"])
    m = ok(p.VM_metrics.get_record(s, r["metrics"]))
    assert m["current_domain_type"] == "pvh" and m["VCPUs_number"] == "1", m
    out = wait_marker(dom0, s, vm, "GUEST-IDLE")
    assert "GUEST-UP" in out, out
    assert domains_named(dom0, "pvh1") == [domid]

    ok(p.VM.pause(s, vm))
    assert ok(p.VM.get_power_state(s, vm)) == "Paused"
    assert "unpause" in ok(p.VM.get_allowed_operations(s, vm))
    ok(p.VM.unpause(s, vm))
    assert ok(p.VM.get_power_state(s, vm)) == "Running"

    p, s = restart_daemon_hard(dom0)
    r = ok(p.VM.get_record(s, vm))
    assert r["power_state"] == "Running" and int(r["domid"]) == domid, r
    assert domains_named(dom0, "pvh1") == [domid]

    ok(p.VM.clean_reboot(s, vm))
    r = ok(p.VM.get_record(s, vm))
    assert r["power_state"] == "Running" and int(r["domid"]) not in (-1, domid), r
    domid2 = int(r["domid"])
    assert domains_named(dom0, "pvh1") == [domid2]
    # the restarted daemon's log starts empty (kept in memory only), then
    # has the adopted domain's last words and the new boot
    out = wait_marker(dom0, s, vm, "GUEST-IDLE", 1)
    assert "GUEST-REBOOT" in out, out

    ok(p.VM.hard_reboot(s, vm))
    r = ok(p.VM.get_record(s, vm))
    assert r["power_state"] == "Running" and int(r["domid"]) not in (-1, domid, domid2), r
    domid3 = int(r["domid"])
    assert domains_named(dom0, "pvh1") == [domid3]
    wait_marker(dom0, s, vm, "GUEST-IDLE", 2)

    ok(p.VM.clean_shutdown(s, vm))
    r = ok(p.VM.get_record(s, vm))
    assert r["power_state"] == "Halted" and r["domid"] == "-1", r
    assert domains_named(dom0, "pvh1") == []
    assert "GUEST-POWEROFF" in api_console(dom0, s, vm)
    ok(p.VM.destroy(s, vm))
    p.session.logout(s)


def test_guest_reboots_crashes_powers_off_by_itself(dom0, api):
    """Guest-initiated shutdowns, noticed through @releaseDomain and the
    domain's shutdown reason, with xenopsd's brakes on a guest that keeps
    stopping: reboot -> restart (15 s later: it rebooted within 120 s of its
    start), crash -> no restart (within 120 s of its start: Halted and a
    VM_CRASHED message), poweroff -> destroy.  PV_args is changed before
    each so the next boot does the next thing."""
    p, s = login(dom0)              # the previous test restarted the daemon
    vm = ok(p.VM.create(s, guest_record("self1", "pv", "guest.reboot=1")))
    uuid = ok(p.VM.get_uuid(s, vm))
    ok(p.VM.set_actions_after_reboot(s, vm, "restart"))
    ok(p.VM.set_actions_after_crash(s, vm, "restart"))
    ok(p.VM.set_actions_after_shutdown(s, vm, "destroy"))
    ok(p.VM.start(s, vm, False, False))
    d1 = int(ok(p.VM.get_domid(s, vm)))
    ok(p.VM.set_PV_args(s, vm, "console=hvc0 quiet guest.crash=1"))
    d2 = wait_until(lambda: int(ok(p.VM.get_domid(s, vm))) not in (-1, d1) and
                    int(ok(p.VM.get_domid(s, vm))), timeout=180, step=1,
                    what="restart after the guest's reboot")
    assert "GUEST-REBOOT" in api_console(dom0, s, vm)
    wait_until(lambda: ok(p.VM.get_power_state(s, vm)) == "Halted", timeout=180, step=1,
               what="Halted after the guest's crash")
    assert "GUEST-CRASH" in api_console(dom0, s, vm)
    msgs = ok(p.message.get(s, "VM", uuid, "19700101T00:00:00Z")).values()
    assert [m["name"] for m in msgs] == ["VM_CRASHED"], msgs
    ok(p.VM.set_PV_args(s, vm, "console=hvc0 quiet guest.poweroff=1"))
    ok(p.VM.start(s, vm, False, False))
    d3 = int(ok(p.VM.get_domid(s, vm)))
    wait_until(lambda: ok(p.VM.get_power_state(s, vm)) == "Halted", timeout=180, step=1,
               what="Halted after the guest's poweroff")
    assert "GUEST-POWEROFF" in api_console(dom0, s, vm)
    assert domains_named(dom0, "self1") == []
    _, log = dom0.run("grep 'vm: ' /var/log/xenbox.log")
    assert "(reboot): restart" in log and "waiting 15000 ms first" in log, log
    assert "(crash): restart" in log and "not restarted" in log, log
    assert "(poweroff): destroy" in log, log
    assert d3 > d2 > d1
    ok(p.VM.destroy(s, vm))
    p.session.logout(s)


def test_lzma_kernel_is_refused_by_name(dom0, api, system_images):
    """libxenguest decompresses XZ kernels with Xen's own decoder and has no
    LZMA (.lzma) one (package/xen): a bzImage whose payload is LZMA is
    refused at VM.start with that reason, not libxc's last word ("no loader
    found"), and leaves no domain.  The kernel is the guest's (the images'
    vmlinuz), its payload's first bytes made LZMA's ("\\x5d\\x00\\x00")."""
    with open(os.path.join(system_images, "vmlinuz"), "rb") as f:
        head = f.read(0x250)
    # payload start: (setup_sects + 1) * 512 + payload_offset (boot protocol)
    at = (head[0x1f1] + 1) * 512 + struct.unpack_from("<I", head, 0x248)[0]
    p, s = login(dom0)
    fake = "/tmp/vmlinuz-lzma"
    dom0.run("cp %s/vmlinuz %s && printf '\\135\\000\\000' | "
             "dd of=%s bs=1 seek=%d conv=notrunc 2>/dev/null" % (GUEST, fake, fake, at))
    rec = dict(guest_record("lzma1", "pv", ""), PV_kernel=fake)
    vm = ok(p.VM.create(s, rec))
    r = p.VM.start(s, vm, False, False)
    assert r["Status"] == "Failure", r
    why = " ".join(r["ErrorDescription"])
    assert "LZMA-compressed (.lzma) kernels are not supported" in why, r
    assert ok(p.VM.get_power_state(s, vm)) == "Halted"
    assert domains_named(dom0, "lzma1") == []
    ok(p.VM.destroy(s, vm))
    dom0.run("rm -f " + fake)
    p.session.logout(s)
