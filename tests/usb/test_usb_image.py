"""The USB image booted as a USB stick under QEMU: BIOS and UEFI, the
XenAPI from the host, a read-only root, nothing written outside the state
partition, xenbox.conf edited with mtools, a bad line reported (that boot
with a virtio NIC), and a hard power-off while the daemon writes.  docs/USB_IMAGE.md."""
import http.client
import re
import sys
import threading
import time

import usbqemu as U
from usbqemu import xapi_ok

# MBR entry 2 (the state partition) is rewritten once, when the partition
# grows on first boot; nothing else outside the state partition may change.
ENTRY2 = slice(446 + 16, 446 + 32)


def masked(blob):
    b = bytearray(blob)
    b[ENTRY2] = bytes(16)
    return bytes(b)


def login_api(q, password, timeout=30):
    p = q.proxy(timeout=timeout)
    return p, xapi_ok(p.session.login_with_password("root", password, "1.0", "tests"))


def host_record(p, s):
    hosts = xapi_ok(p.host.get_all(s))
    assert len(hosts) == 1
    return xapi_ok(p.host.get_record(s, hosts[0]))


def check_management(p, s, want_host, want_pif, timeout=30):
    """host.address and the management PIF show xenbr0 as dom0 has it
    (the daemon follows it: the lease may land after the API answers)."""
    deadline = time.time() + timeout
    while True:
        host = host_record(p, s)
        pif = [r for r in xapi_ok(p.PIF.get_all_records(s)).values() if r["management"]]
        got_host = {k: host[k] for k in want_host}
        got_pif = {k: pif[0][k] for k in want_pif} if pif else {}
        if got_host == want_host and got_pif == want_pif:
            return
        assert time.time() < deadline, (got_host, got_pif)
        time.sleep(0.5)


def report(name, seconds):
    sys.stderr.write("\nusb: %s: first XenAPI answer %.1f s after QEMU started\n" % (name, seconds))


def check_xen_host(p, s):
    """The daemon runs on Xen (not the simulator): dom0 is a VM record."""
    vms = xapi_ok(p.VM.get_all_records(s)).values()
    dom0 = [v for v in vms if v["is_control_domain"]]
    assert len(dom0) == 1 and dom0[0]["power_state"] == "Running", vms


# What a boot script prints when a step of it fails: a missing command
# (a link left out of the root), a busybox applet built without an option,
# or rcS's own XENBOX-FAILED line.
BOOT_ERRORS = re.compile(r"XENBOX-FAILED|: not found|unrecognized option|"
                         r"invalid option|^Usage: |out of range", re.M)


def check_clean_console(q):
    """Every boot step succeeded: nothing on the console says otherwise."""
    bad = [l for l in q.output.splitlines() if BOOT_ERRORS.search(l)]
    assert not bad, "boot errors on the console:\n" + "\n".join(bad)


def test_bios_boot(stick, boot, password):
    outside = stick.regions_outside_state()
    q = boot(stick)
    report("BIOS, first boot", q.wait_api())
    p, s = login_api(q, password)
    assert host_record(p, s)["hostname"] == "xenbox"
    check_xen_host(p, s)
    check_clean_console(q)
    # QEMU's user network gives 10.0.2.15/24 by DHCP; restricted (as
    # UsbQemu runs it: the guest stays off the host's network), its answer
    # has no router and no DNS server option (libslirp leaves them out),
    # so dom0 has neither, and the API says so.
    check_management(p, s, {"address": "10.0.2.15"},
                     {"IP": "10.0.2.15", "netmask": "255.255.255.0", "gateway": "",
                      "DNS": "", "ip_configuration_mode": "DHCP"})

    q.login("root", password)
    _, net = q.run("ip route; cat /etc/resolv.conf")
    assert "default" not in net and "nameserver" not in net, net
    # A lease with both, as a site's DHCP server gives, through the
    # image's own hook as udhcpc runs it on a renewal: the route (busybox
    # ip) and resolv.conf (written through /etc's symlink into /run) reach
    # the API; the hook reports no failed step (check_clean_console).
    q.run("interface=xenbr0 ip=10.0.2.15 mask=24 router=10.0.2.2 dns=10.0.2.3 "
          "/etc/udhcpc.script renew")
    _, net = q.run("ip route; cat /etc/resolv.conf")
    assert "default via 10.0.2.2 dev xenbr0" in net and "nameserver 10.0.2.3" in net, net
    check_management(p, s, {"address": "10.0.2.15"},
                     {"IP": "10.0.2.15", "netmask": "255.255.255.0", "gateway": "10.0.2.2",
                      "DNS": "10.0.2.3", "ip_configuration_mode": "DHCP"})
    check_clean_console(q)
    _, mounts = q.run("cat /proc/mounts")
    root = [l.split() for l in mounts.split("\n") if l.split()[1:2] == ["/"]]
    assert root and root[-1][2] == "squashfs" and root[-1][3].split(",")[0] == "ro", mounts
    boot_fs = [l.split() for l in mounts.split("\n") if l.split()[1:2] == ["/boot"]]
    assert boot_fs and boot_fs[0][2] == "vfat" and boot_fs[0][3].startswith("ro"), mounts
    for path in ("/etc/x", "/usr/x", "/boot/x"):
        rc, out = q.run("touch %s" % path, check=False)
        assert rc != 0, "%s is writable" % path
    for d in ("/run", "/tmp", "/var"):
        assert re.search(r"^tmpfs %s tmpfs" % d, mounts, re.M), (d, mounts)
    assert re.search(r"^/dev/sd\w+ /state ext4 rw", mounts, re.M), mounts
    # The state partition grew into the 256 MiB stick.
    _, df = q.run("df -k /state | tail -1")
    assert int(df.split()[1]) > 200 * 1024, df
    _, log = q.run("cat /state/log/boot.log")
    assert "boot: " in log and "up: hostname xenbox" in log, log
    # XAPI's local socket, where XenAPI.py's xapi_local() looks; the
    # daemon made its directory on /var's tmpfs.
    # (busybox here has test and ls, not stat -c)
    _, sock = q.run("[ -S /var/lib/xcp/xapi ] && ls -ld /var/lib/xcp")
    assert sock.startswith("drwxr-xr-x "), sock
    # xe (docs/XE.md), the image's link to xenbox-io, on that socket
    _, out = q.run("xe host-list --minimal")
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", out.strip()), out
    _, out = q.run("xe vm-list is-control-domain=true params=power-state --minimal")
    assert out.split() == ["running"], out
    # HTTPS only (the default): plain HTTP answers on dom0's loopback, and
    # not through the forwarded port 80, which arrives from the network.
    _, page = q.run("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 80")
    assert page.startswith("HTTP/1.1 200") and "XenAPI" in page, page
    c = http.client.HTTPConnection("127.0.0.1", q.ports[80], timeout=10)
    try:
        c.request("GET", "/")
        r = c.getresponse()
        raise AssertionError("plain HTTP from the network answered: %d" % r.status)
    except (http.client.HTTPException, OSError):
        pass
    finally:
        c.close()

    # The SR's tools (docs/STORAGE.md 2.2): the image's mkfs.xfs formats
    # a sparse file as the daemon will a disk, and xfs, which no boot
    # loads, comes with the first XFS mount: the kernel asks for fs-xfs
    # and modprobe finds it in the root's modules.alias.
    _, mods = q.run("cat /proc/modules")
    assert not re.search(r"^xfs ", mods, re.M), mods
    q.run("truncate -s 512M /tmp/sr.img && "
          "mkfs.xfs -q -L xenbox-sr -m crc=1,reflink=1 -f /tmp/sr.img", timeout=120)
    _, out = q.run("mkdir /tmp/sr && mount -t xfs -o loop /tmp/sr.img /tmp/sr && "
                   "echo written >/tmp/sr/a && cat /tmp/sr/a && umount /tmp/sr && "
                   "rm -r /tmp/sr.img /tmp/sr", timeout=120)
    assert "written" in out, out
    _, mods = q.run("cat /proc/modules")
    assert re.search(r"^xfs ", mods, re.M), mods

    # The supervisor restarts a daemon that dies; the XenAPI comes back.
    at = q.mark()
    q.run("kill -9 $(cat /run/xenbox.pid)")
    q.wait_for(r"XENBOX-DAEMON exited rc=137", start=at, timeout=30)
    q.wait_for(r"XENBOX-DAEMON started pid=", start=at, timeout=30)
    q.wait_api(timeout=60)
    p, s = login_api(q, password)
    check_xen_host(p, s)
    q.stop()

    after = stick.regions_outside_state()
    start = stick.partitions()[-1][0]
    assert masked(after[:start]) == masked(outside[:start]), \
        "the first boot wrote outside the state partition (besides growing it)"

    # A second boot writes nothing at all outside the state partition.
    outside = stick.regions_outside_state()
    q = boot(stick)
    report("BIOS, second boot", q.wait_api())
    p, s = login_api(q, password)
    q.stop()
    assert stick.regions_outside_state() == outside, "a boot wrote outside the state partition"


def test_uefi_boot(stick, boot, password):
    outside = stick.regions_outside_state()
    start = stick.partitions()[-1][0]
    q = boot(stick, uefi=True)
    report("UEFI, first boot", q.wait_api(timeout=400))
    p, s = login_api(q, password)
    assert host_record(p, s)["hostname"] == "xenbox"
    check_xen_host(p, s)
    # GRUB's standalone EFI image loaded Xen by multiboot2, with EFI's
    # services (Xen prints the EFI memory map it got).
    assert re.search(r"\(XEN\) Bootloader: GRUB 2\.", q.output), q.output[:3000]
    assert "(XEN) EFI RAM map:" in q.output
    check_clean_console(q)
    q.stop()
    assert masked(stick.regions_outside_state()[:start]) == masked(outside[:start])


def test_config_edit_and_bad_lines(stick, boot, password, tmp_path):
    conf = stick.read_conf()
    assert "\nhostname = xenbox\n" in conf and "\nnetwork = dhcp\n" in conf
    conf = conf.replace("\nhostname = xenbox\n", "\nhostname = usb-edited\n")
    conf = conf.replace("\nnetwork = dhcp\n", "\nnetwork = static\naddress = 10.0.2.50/24\n"
                        "gateway = 10.0.2.2\ndns = 10.0.2.3\n")
    assert "\nntp = pool.ntp.org\n" in conf
    conf = conf.replace("\nntp = pool.ntp.org\n", "\nntp = 10.0.2.2,10.0.2.3\n")
    conf += "colour = blue\nthis line is not a setting\naddress = 10.0.2.300/24\n"
    lines = conf.split("\n")
    bad = {lines.index("colour = blue") + 1: "colour: unknown key",
           lines.index("this line is not a setting") + 1: "expected 'key = value'",
           lines.index("address = 10.0.2.300/24") + 1: "address: expected an IPv4 address"}
    stick.write_conf(conf)
    assert stick.read_conf() == conf

    # With a virtio NIC (virt-manager's and Proxmox's default): its driver
    # binds to the virtio bus that virtio_pci makes, not to a PCI id, so
    # rcS loads it in a second modalias pass (issue 16).
    q = boot(stick, guest_addr="10.0.2.50", nic="virtio-net-pci")
    for n, what in bad.items():
        q.wait_for(r"XENBOX-CONFIG-ERROR /boot/xenbox\.conf:%d: %s" % (n, re.escape(what)))
    q.wait_for(r"XENBOX-BOOT hostname=usb-edited network=static address=10\.0\.2\.50/24")
    report("BIOS, edited xenbox.conf", q.wait_api())
    p, s = login_api(q, password)
    assert host_record(p, s)["hostname"] == "usb-edited"
    check_management(p, s, {"address": "10.0.2.50"},
                     {"IP": "10.0.2.50", "netmask": "255.255.255.0", "gateway": "10.0.2.2",
                      "DNS": "10.0.2.3", "ip_configuration_mode": "Static"})

    assert "XENBOX-FAILED" not in q.output, q.output

    q.login("root", password)
    _, drv = q.run("readlink /sys/class/net/*/device/driver")
    assert drv.strip().endswith("/virtio_net"), drv
    _, out = q.run("hostname; ip -4 -o addr show dev xenbr0; ip route; cat /etc/resolv.conf")
    assert "usb-edited" in out and "10.0.2.50/24" in out, out
    assert "default via 10.0.2.2" in out and "nameserver 10.0.2.3" in out, out
    rc, _ = q.run("pidof udhcpc", check=False)
    assert rc != 0, "DHCP runs although network = static"
    # The clock: busybox ntpd with the servers of xenbox.conf (no NTP
    # server answers in QEMU's restricted network; the setting is what
    # this checks).
    _, ntpd = q.run("cat /proc/$(pidof ntpd)/cmdline | tr '\\0' ' '")
    assert re.search(r"ntpd .*-p 10\.0\.2\.2 -p 10\.0\.2\.3", ntpd), ntpd
    _, log = q.run("cat /state/log/boot.log")
    _, daemon_log = q.run("logread | grep 'xenbox.conf:'", check=False)
    for n, what in bad.items():
        assert "xenbox.conf:%d: %s" % (n, what) in log, log
        assert "xenbox.conf:%d: %s" % (n, what) in daemon_log, daemon_log

    # A clean power-off (rcK): the daemon stopped (not killed: SQLite's
    # WAL is checkpointed and gone, the RRDs saved) and not restarted, the
    # state partition left clean (no journal to replay), the shutdown in
    # the persistent log.
    at = q.mark()
    q.send("poweroff\n")
    q.proc.wait(timeout=120)
    assert "XENBOX-DAEMON started" not in q.since(at), "the daemon was restarted at shutdown"
    header = stick.state_fs_header()
    assert re.search(r"^Filesystem state:\s+clean$", header, re.M), header
    assert "needs_recovery" not in header, header
    assert not stick.state_file("/xenbox/xenbox.db-wal", str(tmp_path / "wal")), \
        "the database's WAL is left: the daemon did not close it"
    assert stick.state_file("/xenbox/stats.rrd", str(tmp_path / "rrd")), "no RRDs saved"
    log_tail = stick.state_text("/log/boot.log").strip().split("\n")[-1]
    assert log_tail.endswith(" shutdown"), log_tail


GUEST_DIR = "/state/guest"
MiB = 1 << 20


def wait_running(p, s, vm, timeout=600):
    """The guest's VM Running (auto power-on starts it after a boot: the
    API may answer before)."""
    deadline = time.monotonic() + timeout
    while xapi_ok(p.VM.get_power_state(s, vm)) != "Running":
        assert time.monotonic() < deadline, "the auto_poweron guest did not start"
        time.sleep(2)


def test_power_cut_while_writing(stick, boot, password, tmp_path, guest):
    """Also issue 15: the guest marked auto_poweron (the system tests' PV
    guest on the state partition) comes back after the power cut; then
    host.disable and host.reboot over the API: the guest is shut down
    cleanly, the stick reboots (QEMU runs with -no-reboot: it exits, and
    the next boot is the reboot) and the API answers again, the host
    enabled and the guest started again."""
    stick.put_state_files({GUEST_DIR[len("/state"):] + "/vmlinuz": guest["kernel"],
                           GUEST_DIR[len("/state"):] + "/initramfs.cpio.gz": guest["initrd"]})
    q = boot(stick)
    q.wait_api()
    p, s = login_api(q, password)
    pool = xapi_ok(p.pool.get_all(s))[0]
    xapi_ok(p.pool.add_to_other_config(s, pool, "auto_poweron", "true"))
    rec = {"name_label": "poweron-guest", "other_config": {"auto_poweron": "true"},
           "PV_kernel": GUEST_DIR + "/vmlinuz", "PV_ramdisk": GUEST_DIR + "/initramfs.cpio.gz",
           "PV_args": "console=hvc0 quiet guest.stamp=usb-poweron",
           "memory_static_max": str(128 * MiB), "memory_dynamic_max": str(128 * MiB),
           "memory_dynamic_min": str(128 * MiB), "memory_static_min": str(128 * MiB),
           "VCPUs_max": "1", "VCPUs_at_startup": "1", "domain_type": "pv"}
    vm = xapi_ok(p.VM.create(s, rec))
    sp = q.proxy(timeout=600)               # VM.start under TCG takes its time
    ss = xapi_ok(sp.session.login_with_password("root", password, "1.0", "tests"))
    xapi_ok(sp.VM.start(ss, vm, False, False))
    acked = []
    stop = threading.Event()

    def writer():
        wp, ws = login_api(q, password)
        i = 0
        while not stop.is_set():
            try:
                r = wp.pool.add_to_other_config(ws, pool, "cut-%d" % i, "v%d" % i)
            except Exception:       # the power went off mid-call
                return
            if r["Status"] == "Success":
                acked.append(i)
            i += 1
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    deadline = time.monotonic() + 120
    while len(acked) < 30 and time.monotonic() < deadline and t.is_alive():
        time.sleep(0.05)
    q.stop()                        # SIGKILL: a power cut, mid-write
    stop.set()
    t.join(30)
    assert len(acked) >= 30, "only %d writes acknowledged" % len(acked)

    db = str(tmp_path / "xenbox.db")
    assert stick.state_file("/xenbox/xenbox.db", db), "no database on the state partition"
    stick.state_file("/xenbox/xenbox.db-wal", db + "-wal")
    assert U.integrity_check(db) == [("ok",)]

    q = boot(stick, name="test_power_cut_while_writing-again")
    q.wait_api()
    # the guest starts meanwhile (auto power-on): under TCG a login then
    # takes its time (one CPU for dom0 and the guest)
    p, s = login_api(q, password, timeout=600)
    oc = xapi_ok(p.pool.get_other_config(s, pool))
    missing = [i for i in acked if oc.get("cut-%d" % i) != "v%d" % i]
    assert not missing, "acknowledged, then lost: %s" % missing
    sys.stderr.write("\nusb: power cut after %d acknowledged writes; all present\n" % len(acked))
    wait_running(p, s, vm)
    domid = xapi_ok(p.VM.get_domid(s, vm))
    sys.stderr.write("\nusb: the auto_poweron guest is back after the power cut\n")

    # host.reboot over the API: refused while enabled, then the guest is
    # shut down cleanly and the stick reboots.  First the guest is up (its
    # init answers a shutdown request only once it runs: GUEST-IDLE on its
    # console, xenconsoled's log in dom0)
    q.login("root", password)
    deadline = time.monotonic() + 600
    while "GUEST-IDLE" not in q.run("cat /var/log/xen/console/guest-poweron-guest.log "
                                    "2>/dev/null", check=False)[1]:
        assert time.monotonic() < deadline, "the guest did not come up"
        time.sleep(5)
    host = xapi_ok(p.host.get_all(s))[0]
    r = p.host.reboot(s, host)
    assert r["Status"] == "Failure" and r["ErrorDescription"] == ["HOST_NOT_DISABLED"], r
    xapi_ok(p.host.disable(s, host))
    assert "reboot" in xapi_ok(p.host.get_allowed_operations(s, host))
    xapi_ok(p.host.reboot(s, host))
    assert q.proc.wait(600) == 0, q.tail()      # -no-reboot: the reboot ends QEMU
    q = boot(stick, name="test_power_cut_while_writing-rebooted")
    q.wait_api()
    p, s = login_api(q, password, timeout=600)
    assert xapi_ok(p.host.get_enabled(s, host)) is True
    wait_running(p, s, vm)
    log = xapi_ok(p.host.get_log(s, host))
    assert "host: booted" in log and "auto power-on: started" in log, log
    # the persistent boot log: the daemon's line before it asked init,
    # the guest stopped cleanly (none hard), then rcK's
    assert re.search(r"host\.reboot: every guest is down \(0 shut down hard\); "
                     r"rebooting\n.*shutdown\n", log), log
    sys.stderr.write("\nusb: host.reboot over the API: rebooted, the guest back (domid %s before)\n"
                     % domid)
