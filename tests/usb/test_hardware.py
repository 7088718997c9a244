"""The USB image on the hardware QEMU can show it (issue 16): each NIC
model a shipped driver covers carries the XenAPI, each disk controller's
disk is seen by the host, several NICs with xenbox.conf naming the
management one, a VM without a NIC says why on its console, and the
management network as an active-backup bond of two NICs with a VLAN on
top; a NIC without link at boot says so, then gets its lease.
docs/USB_IMAGE.md ("Hardware"), docs/HARDWARE.md."""
import os
import re
import subprocess
import time
import uuid

import pytest

import usbqemu as U
from test_usb_image import check_clean_console, login_api, report
from usbqemu import xapi_ok

MiB = 1024 * 1024
HERE = os.path.dirname(os.path.abspath(__file__))


def disk(tmp_path, name, size=64 * MiB):
    path = str(tmp_path / (name + ".img"))
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def wait_console(q, pattern, timeout=60):
    return q.wait_for(pattern, timeout=timeout, start=0)


def probe_until(q, want, timeout=60):
    """`xenbox disk-probe` on the host until it lists want disks besides
    the stick (SCSI controllers scan in the background)."""
    deadline = time.time() + timeout
    while True:
        _, out = q.run("xenbox disk-probe")
        rows = [l.split() for l in out.splitlines() if re.match(r"^\w+ \d+ ", l)]
        disks = {r[0]: r for r in rows if r[2] != "boot"}
        if len(disks) >= want or time.time() > deadline:
            return disks, out
        time.sleep(2)


def nic_driver(q, nic):
    _, out = q.run("basename $(readlink /sys/class/net/%s/device/driver)" % nic)
    return out.strip()


# One boot: the e1000e NIC (Intel 82574) and a disk behind each storage
# controller QEMU has that a shipped driver covers.
# QEMU's mptsas1068 is there for its driver only: mptsas brings the
# controller up ("LSISAS1068 A0 ... Ports=8") but finds no disk behind it
# under this QEMU (7.2) and kernel (not investigated further:
# docs/HARDWARE.md).
CONTROLLERS = [
    # (QEMU controller, its driver in dom0, the disk device on it, a disk seen)
    ("ich9-ahci,id=ahci", "ahci", "ide-hd,bus=ahci.0", True),
    (None, "nvme", "nvme,serial=xbnvme1", True),
    (None, "virtio-pci", "virtio-blk-pci", True),
    ("virtio-scsi-pci,id=vscsi", "virtio-pci", "scsi-hd,bus=vscsi.0", True),
    ("megasas,id=mega", "megaraid_sas", "scsi-hd,bus=mega.0", True),
    ("mptsas1068,id=mpt", "mptsas", "scsi-hd,bus=mpt.0", False),
]


def test_e1000e_and_disk_controllers(stick, boot, password, tmp_path):
    devices = []
    for i, (ctl, _, dev, _) in enumerate(CONTROLLERS):
        if ctl:
            devices += ["-device", ctl]
        devices += ["-drive", "if=none,id=d%d,format=raw,file=%s" % (i, disk(tmp_path, "d%d" % i)),
                    "-device", "%s,drive=d%d" % (dev, i)]
    q = boot(stick, nic="e1000e", devices=devices)
    report("e1000e and 6 disk controllers", q.wait_api())
    p, s = login_api(q, password)
    assert xapi_ok(p.host.get_all(s))
    q.login("root", password)
    assert nic_driver(q, "eth0") == "e1000e"
    want = len([c for c in CONTROLLERS if c[3]])
    disks, out = probe_until(q, want)
    assert len(disks) == want, out
    for name, row in disks.items():
        assert int(row[1]) == 64 * MiB, out
    # each controller's driver bound (the disks above are theirs)
    _, drivers = q.run("for d in /sys/bus/pci/devices/*; do [ -e $d/driver ] && "
                       "basename $(readlink $d/driver); done | sort -u")
    for _, drv, _, _ in CONTROLLERS:
        assert drv in drivers.split(), drivers
    # the console said which disks there are, and the banner where the API is
    assert re.search(r"XENBOX-STORAGE disks: .*nvme0n1 64 MiB", q.output), q.tail()
    assert re.search(r"XENBOX-API https://10\.0\.2\.15/ certificate SHA-256 [0-9A-F:]{95}",
                     q.output), q.tail()
    check_clean_console(q)


def test_management_nic_by_mac_vmxnet3_beside_rtl8139(stick, boot, password):
    """Two NICs; xenbox.conf names the second (VMware's vmxnet3) by its MAC:
    the XenAPI answers over it, the management PIF has its MAC; the first
    (QEMU's rtl8139, a RTL8139C+ for 8139cp) is driven but left alone."""
    conf = stick.read_conf()
    stick.write_conf(conf + "management_nic = 52:54:00:AA:01:02\n")
    q = boot(stick, nics_before=["rtl8139,mac=52:54:00:aa:01:01"],
             nic="vmxnet3,mac=52:54:00:aa:01:02")
    report("vmxnet3 named by MAC, rtl8139 beside it", q.wait_api())
    p, s = login_api(q, password)
    pif = [r for r in xapi_ok(p.PIF.get_all_records(s)).values() if r["management"]]
    assert pif and pif[0]["MAC"] == "52:54:00:aa:01:02", pif
    q.login("root", password)
    assert nic_driver(q, "eth0") == "8139cp"
    assert nic_driver(q, "eth1") == "vmxnet3"
    _, out = q.run("ls /sys/class/net/xenbr0/brif")
    assert out.split() == ["eth1"], out     # eth1 alone on xenbr0
    _, issue = q.run("cat /etc/issue")
    assert "https://10.0.2.15/  (xenbr0 10.0.2.15/24 on eth1 (vmxnet3, 52:54:00:aa:01:02))" in issue
    check_clean_console(q)


def test_management_nic_by_name_rtl8139(stick, boot, password):
    """QEMU's rtl8139 carries the XenAPI, named eth1 in xenbox.conf, an
    e1000 on a network of its own before it."""
    stick.write_conf(stick.read_conf() + "management_nic = eth1\n")
    q = boot(stick, nics_before=["e1000"], nic="rtl8139")
    report("rtl8139 named eth1", q.wait_api())
    login_api(q, password)
    q.login("root", password)
    assert nic_driver(q, "eth0") == "e1000"
    assert nic_driver(q, "eth1") == "8139cp"
    check_clean_console(q)


def test_no_nic_says_why(stick, boot, password):
    """No NIC with a driver (only an NE2000, which the image does not
    drive): the console and the login banner say so, with the PCI network
    devices there are and their ids; the boot goes on."""
    q = boot(stick, nic=None, devices=["-device", "ne2k_pci"])
    m = wait_console(q, r"XENBOX-FAILED network: no NIC found \(PCI network devices: "
                        r"([0-9a-f:.]+) 10ec:8029 \(no-driver\)\)", timeout=240)
    wait_console(q, r"XENBOX-API none: no NIC found \(PCI network devices: [^\n]*10ec:8029")
    wait_console(q, r"XENBOX-STORAGE none: no disk but the boot stick \(sda 256 MiB \(the stick\)\)"
                    r"; disk controllers: ")
    q.login("root", password)
    _, issue = q.run("cat /etc/issue")
    assert ("XenAPI:      no management address: no NIC found (PCI network devices: %s "
            "10ec:8029 (no-driver))" % m.group(1).decode()) in issue, issue
    _, log = q.run("cat /state/log/boot.log")
    assert "FAILED network: no NIC found" in log, log


def qmp(path, *commands):
    """Send QEMU's monitor (QMP, a Unix socket) commands; their answers."""
    import json
    import socket
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(30)
        c.connect(path)
        f = c.makefile("rw")
        json.loads(f.readline())                        # the greeting
        out = []
        for cmd in ({"execute": "qmp_capabilities"},) + commands:
            f.write(json.dumps(cmd) + "\n")
            f.flush()
            while True:
                r = json.loads(f.readline())
                if "return" in r or "error" in r:
                    break
            out.append(r)
        return out[1:]


def test_no_link_then_dhcp(stick, logs, password, tmp_path):
    """The NIC's link down from the start (QEMU's set_link): the console
    says there is no link after 10 s, then that no DHCP server answers,
    and the banner says why there is no address; the link up, the lease
    comes and the XenAPI answers over it."""
    mon = str(tmp_path / "qmp.sock")
    q = U.UsbQemu(stick.path, nic=None, log_path=os.path.join(logs, "no-link.log"))
    fwd = ",".join("hostfwd=tcp:127.0.0.1:%d-:%d" % (h, g) for g, h in q.ports.items())
    q.devices = ["-qmp", "unix:%s,server=on,wait=off" % mon,
                 "-netdev", "user,id=n0,restrict=on," + fwd,
                 "-device", "e1000,netdev=n0,id=nic0,mac=52:54:00:cc:00:01"]
    q.start()
    try:
        deadline = time.time() + 30
        while not os.path.exists(mon):
            assert time.time() < deadline
            time.sleep(0.1)
        r = qmp(mon, {"execute": "set_link", "arguments": {"name": "nic0", "up": False}})
        assert "return" in r[0], r
        wait_console(q, r"XENBOX-FAILED network: no link on eth0 \(e1000, 52:54:00:cc:00:01\) "
                        r"after 10 s", timeout=240)
        wait_console(q, r"XENBOX-FAILED network: no answer from a DHCP server on xenbr0 "
                        r"\(eth0 \(e1000, 52:54:00:cc:00:01\)\)", timeout=120)
        wait_console(q, r"XENBOX-API none: no answer from a DHCP server")
        r = qmp(mon, {"execute": "set_link", "arguments": {"name": "nic0", "up": True}})
        assert "return" in r[0], r
        wait_console(q, r"XENBOX-NET link up on eth0")
        report("link up late, then DHCP", q.wait_api())
        wait_console(q, r"XENBOX-API https://10\.0\.2\.15/ certificate SHA-256 [0-9A-F:]{95}")
        q.login("root", password)
        _, issue = q.run("cat /etc/issue")
        assert "XenAPI:      https://10.0.2.15/" in issue, issue
    finally:
        q.stop()


class NetnsQemu(U.UsbQemu):
    """QEMU run inside a network namespace the test made (its tap NIC is
    there, never on the host's network)."""

    def __init__(self, image, netns, **kw):
        super().__init__(image, **kw)
        self.netns = netns

    def command(self):
        return ["ip", "netns", "exec", self.netns] + super().command()


def netns_api(ns, addr, timeout=240):
    """system.listMethods over HTTPS from inside the namespace: True once
    it answers."""
    code = ("import ssl, sys, xmlrpc.client as x\n"
            "p = x.ServerProxy('https://%s/', context=ssl._create_unverified_context())\n"
            "import socket; socket.setdefaulttimeout(5)\n"
            "print(len(p.system.listMethods()))\n" % addr)
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", code],
                           capture_output=True, text=True, timeout=60)
        if r.returncode == 0 and int(r.stdout) > 10:
            return True
        time.sleep(1)
    return False


@pytest.fixture
def netns():
    if os.geteuid() != 0:
        pytest.skip("needs root: a network namespace and a tap device")
    name = "xbhw-" + uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", name], check=True)
    yield name
    subprocess.run(["ip", "netns", "del", name], check=False)


def test_bond_and_vlan(stick, logs, password, netns):
    """The management network as an active-backup bond of two NICs with
    VLAN 42 on top: both NICs on one QEMU hub whose third port is a
    tagged peer (vlanpeer.py: VLAN 42 frames to and from a tap in a
    namespace of the test's, all others dropped), the tap's address in
    the management subnet.  The XenAPI answers there; with the active NIC
    down the bond fails over and it still answers."""
    conf = stick.read_conf().replace("\nnetwork = dhcp\n",
                                     "\nnetwork = static\naddress = 192.168.42.2/24\n")
    stick.write_conf(conf + "management_nic = 52:54:00:bb:00:01, 52:54:00:bb:00:02\n"
                     "vlan = 42\n")
    ns = ["ip", "netns", "exec", netns]
    subprocess.run(ns + ["ip", "link", "set", "lo", "up"], check=True)
    peer = subprocess.Popen(ns + ["/usr/bin/python3", os.path.join(HERE, "vlanpeer.py"),
                                  "xbtap", "42", "40001", "40002"],
                            stdout=subprocess.PIPE, text=True)
    q = None
    try:
        assert peer.stdout.readline().strip() == "ready"
        for cmd in (["ip", "link", "set", "xbtap", "up"],
                    ["ip", "addr", "add", "192.168.42.1/24", "dev", "xbtap"]):
            subprocess.run(ns + cmd, check=True)
        q = NetnsQemu(stick.path, netns, nic=None, log_path=os.path.join(logs, "bond-vlan.log"),
                      devices=["-netdev", "socket,id=s0,udp=127.0.0.1:40001,"
                               "localaddr=127.0.0.1:40002",
                               "-netdev", "hubport,id=hp0,hubid=1,netdev=s0",
                               "-netdev", "hubport,id=hp1,hubid=1",
                               "-device", "e1000,netdev=hp1,mac=52:54:00:bb:00:01",
                               "-netdev", "hubport,id=hp2,hubid=1",
                               "-device", "e1000e,netdev=hp2,mac=52:54:00:bb:00:02"])
        q.start()
        assert netns_api(netns, "192.168.42.2"), q.tail()
        wait_console(q, r"XENBOX-API https://192\.168\.42\.2/ certificate SHA-256 [0-9A-F:]{95}")
        q.login("root", password)
        _, out = q.run("cat /sys/class/net/bond0/bonding/mode "
                       "/sys/class/net/bond0/bonding/active_slave; ls /sys/class/net/xenbr0/brif")
        assert out.split() == ["active-backup", "1", "eth0", "bond0.42"], out
        _, issue = q.run("cat /etc/issue")
        assert "(xenbr0 192.168.42.2/24 on VLAN 42 on bond0 (active-backup: eth0 (e1000, " \
            "52:54:00:bb:00:01), eth1 (e1000e, 52:54:00:bb:00:02)))" in issue, issue
        # failover: the active NIC down, the backup carries on
        q.run("ip link set eth0 down")
        deadline = time.time() + 30
        while True:
            _, act = q.run("cat /sys/class/net/bond0/bonding/active_slave")
            if act.strip() == "eth1":
                break
            assert time.time() < deadline, act
            time.sleep(1)
        assert netns_api(netns, "192.168.42.2", timeout=60), q.tail()
        check_clean_console(q)
    finally:
        if q:
            q.stop()
        peer.kill()
        peer.wait()
