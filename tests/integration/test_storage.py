"""The SR on the host's own disks (docs/STORAGE.md 2, section 9's "Disks"):
xenbox.conf's `storage` and `storage_format`, first-boot formatting,
refusals, adoption after a restart and after the database is gone, `auto`,
the missing disk, PBD plug/unplug, SR.scan and SR.forget.

The "disks" are loop devices on sparse files, seen by the daemon through a
fake root (`--storage-root`, a test-only option: sys/block/NAME with its
attributes, dev/NAME a link to the loop device, an empty mount table), so
that no other disk of this machine is ever a candidate.  The daemon runs
in a private mount namespace (`unshare -m`): its XFS mounts go with it.
Its files are read through /proc/PID/root.  Root needed (loop devices,
mounts), and mkfs.xfs in PATH (xfsprogs, support/deps.sh)."""
import os
import shutil
import subprocess
import time

import pytest

from conftest import Daemon, fails, ok

GIB = 1 << 30
MIB = 1 << 20


@pytest.fixture(autouse=True)
def needs_root():
    if os.geteuid() != 0:
        pytest.skip("loop devices and mounts need root")
    if not shutil.which("mkfs.xfs"):
        pytest.skip("mkfs.xfs (xfsprogs) is not installed")


class Disks:
    """A fake root with loop-backed disks."""

    def __init__(self, base):
        self.root = os.path.join(base, "root")
        self.base = base
        self.loops = {}
        os.makedirs(os.path.join(self.root, "proc/self"))
        with open(os.path.join(self.root, "proc/self/mounts"), "w") as f:
            f.write("proc /proc proc rw 0 0\n")
        os.makedirs(os.path.join(self.root, "dev"))

    def add(self, name, size, serial=None, prep=None):
        img = os.path.join(self.base, name + ".img")
        with open(img, "wb") as f:
            f.truncate(size)
        if prep:
            prep(img)
        loop = subprocess.run(["losetup", "-f", "--show", img], capture_output=True,
                              text=True, check=True).stdout.strip()
        self.loops[name] = loop
        sysdir = os.path.join(self.root, "sys/block", name)
        os.makedirs(os.path.join(sysdir, "device"))
        for attr, val in (("size", "%d\n" % (size // 512)), ("ro", "0\n"), ("removable", "0\n")):
            with open(os.path.join(sysdir, attr), "w") as f:
                f.write(val)
        if serial:
            with open(os.path.join(sysdir, "device/vendor"), "w") as f:
                f.write("ATA     \n")
            with open(os.path.join(sysdir, "device/model"), "w") as f:
                f.write("XB TEST DISK    \n")
            with open(os.path.join(sysdir, "device/vpd_pg80"), "wb") as f:
                f.write(b"\x00\x80\x00" + bytes([len(serial)]) + serial.encode())
        self.plug(name)
        return loop

    def plug(self, name):
        os.symlink(self.loops[name], os.path.join(self.root, "dev", name))

    def unplug(self, name):
        os.unlink(os.path.join(self.root, "dev", name))

    def head(self, name, n=4):
        with open(self.loops[name], "rb") as f:
            return f.read(n)

    def close(self):
        for loop in self.loops.values():
            subprocess.run(["losetup", "-d", loop], capture_output=True)


@pytest.fixture
def disks(tmp_path):
    d = Disks(str(tmp_path))
    yield d
    d.close()


def start(state_dir, disks, conf):
    path = os.path.join(state_dir, "xenbox.conf")
    with open(path, "w") as f:
        f.write(conf)
    return Daemon(state_dir).start(["--config", path, "--storage-root", disks.root],
                                   prefix=["unshare", "-m", "--propagation", "private"])


def stop(d):
    rc = d.stop()
    log = d.read_log()
    assert "ERROR: AddressSanitizer" not in log, log
    assert "runtime error" not in log, log
    assert rc == 0, log


def wait_log(d, text, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in d.read_log():
            return d.read_log()
        time.sleep(0.1)
    raise AssertionError("no %r in the log:\n%s" % (text, d.read_log()))


def xfs_srs(p, s):
    return {ref: r for ref, r in ok(p.SR.get_all_records(s)).items() if r["type"] == "xfs"}


def pbd_of(p, s, sr):
    return ok(p.PBD.get_record(s, ok(p.SR.get_PBDs(s, sr))[0]))


def test_blank_disk_formatted_then_adopted_never_reformatted(state_dir, disks):
    disks.add("sda", 5 * GIB, serial="XB0001")
    byid = "/dev/disk/by-id/ata-XB_TEST_DISK_XB0001"
    d = start(state_dir, disks, "storage = %s\n" % byid)
    try:
        log = wait_log(d, "XENBOX-STORAGE ready")
        assert "XENBOX-STORAGE formatting %s: blank" % byid in log
        assert disks.head("sda") == b"XFSB"
        p, s = d.login()
        (ref, sr), = xfs_srs(p, s).items()
        assert sr["name_label"] == "Local storage" and sr["content_type"] == "user"
        assert 4 * GIB < int(sr["physical_size"]) <= 5 * GIB
        assert 0 < int(sr["physical_utilisation"]) < int(sr["physical_size"])
        assert ok(p.pool.get_default_SR(s, ok(p.pool.get_all(s))[0])) == ref
        pbd = pbd_of(p, s, ref)
        assert pbd["currently_attached"] is True
        assert pbd["device_config"] == {"device": byid}
        assert sorted(ok(p.SR.get_allowed_operations(s, ref))) == \
            ["scan", "unplug", "vdi_clone", "vdi_create", "vdi_destroy", "vdi_resize",
             "vdi_snapshot"]
        assert set(ok(p.SR.get_supported_types(s))) == {"file", "xfs"}
        # a VDI on it, written through the daemon's mount namespace
        vdi = ok(p.VDI.create(s, {"SR": ref, "virtual_size": str(64 * MIB), "name_label": "a",
                                  "type": "user", "sharable": False, "read_only": False,
                                  "other_config": {}, "xenstore_data": {}, "sm_config": {}}))
        rec = ok(p.VDI.get_record(s, vdi))
        loc = rec["location"]
        assert loc == "%s/run/sr/%s/%s.img" % (disks.root, sr["uuid"], rec["uuid"])
        assert int(ok(p.SR.get_virtual_allocation(s, ref))) == 64 * MIB
        with open("/proc/%d/root%s" % (d.proc.pid, loc), "r+b") as f:
            f.write(b"written before the restart")
        # a leftover of a crashed import goes at the next plug
        with open("/proc/%d/root%s/run/sr/%s/.tmp/half.img" % (d.proc.pid, disks.root, sr["uuid"]),
                  "wb") as f:
            f.write(b"x")
    finally:
        stop(d)

    # restart: the PBD plugged again, the disk mounted as it is
    d = start(state_dir, disks, "storage = %s\n" % byid)
    try:
        log = wait_log(d, "XENBOX-STORAGE ready sr=%s %s: 1 VDIs, " % (sr["uuid"], byid))
        assert log.count("XENBOX-STORAGE formatting") == 1, log
        p, s = d.login()
        assert list(xfs_srs(p, s)) == [ref]
        assert pbd_of(p, s, ref)["currently_attached"] is True
        with open("/proc/%d/root%s" % (d.proc.pid, loc), "rb") as f:
            assert f.read(26) == b"written before the restart"
        assert os.listdir("/proc/%d/root%s/run/sr/%s/.tmp" % (d.proc.pid, disks.root,
                                                               sr["uuid"])) == []
        # a clone (storage stage 3) goes into the same SR, on its disk, not
        # into the file SR on the state partition
        vdi = ok(p.VDI.get_by_uuid(s, loc.rsplit("/", 1)[1][:-4]))
        cref = ok(p.VDI.clone(s, vdi, {}))
        clone = ok(p.VDI.get_record(s, cref))
        assert clone["SR"] == ref
        assert clone["location"] == "%s/run/sr/%s/%s.img" % (disks.root, sr["uuid"],
                                                             clone["uuid"])
        with open("/proc/%d/root%s" % (d.proc.pid, clone["location"]), "rb") as f:
            assert f.read(26) == b"written before the restart"
        ok(p.VDI.destroy(s, cref))
        assert not os.path.exists("/proc/%d/root%s" % (d.proc.pid, clone["location"]))
    finally:
        stop(d)

    # a new stick: no database; the disk is adopted, SR.scan finds the VDI
    os.unlink(os.path.join(state_dir, "xenbox.db"))
    d = start(state_dir, disks, "storage = %s\n" % byid)
    try:
        log = wait_log(d, "XENBOX-STORAGE adopted sr=%s %s: 1 VDIs, " % (sr["uuid"], byid))
        assert log.count("XENBOX-STORAGE formatting") == 1, log
        p, s = d.login()
        ref2 = ok(p.SR.get_by_uuid(s, sr["uuid"]))
        assert ok(p.SR.get_VDIs(s, ref2)) == []
        ok(p.SR.scan(s, ref2))
        (v,) = ok(p.SR.get_VDIs(s, ref2))
        r = ok(p.VDI.get_record(s, v))
        assert r["uuid"] == rec["uuid"] and r["virtual_size"] == str(64 * MIB)
        assert r["location"] == loc
    finally:
        stop(d)


def gpt(img):
    subprocess.run(["sfdisk", "-q", img], input="label: gpt\n,1G\n", text=True, check=True,
                   capture_output=True)


def ext4(img):
    subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True, capture_output=True)


@pytest.mark.parametrize("prep,what", [(gpt, "gpt"), (ext4, "ext")], ids=["gpt", "ext4"])
def test_disk_with_data_refused_unless_force(state_dir, disks, prep, what):
    disks.add("sdb", 5 * GIB, prep=prep)
    before = disks.head("sdb", 2 * MIB)
    d = start(state_dir, disks, "storage = /dev/sdb\n")
    try:
        log = wait_log(d, "XENBOX-STORAGE refused /dev/sdb: has %s; to erase it write "
                          "storage_format = force" % what)
        assert "formatting" not in log
        p, s = d.login()
        assert xfs_srs(p, s) == {}
        assert ok(p.SR.get_all(s)) == []   # no file SR in the state directory either
    finally:
        stop(d)
    assert disks.head("sdb", 2 * MIB) == before
    d = start(state_dir, disks, "storage = /dev/sdb\nstorage_format = force\n")
    try:
        log = wait_log(d, "XENBOX-STORAGE ready")
        assert "XENBOX-STORAGE formatting /dev/sdb: %s" % what in log
        p, s = d.login()
        assert len(xfs_srs(p, s)) == 1
    finally:
        stop(d)
    assert disks.head("sdb") == b"XFSB"


def test_auto_picks_the_largest_blank_disk(state_dir, disks):
    disks.add("sda", 5 * GIB)
    disks.add("sdb", 7 * GIB, prep=ext4)      # larger, but not blank
    disks.add("sdc", 6 * GIB)
    disks.add("sdd", 1 * GIB)                 # blank, too small
    d = start(state_dir, disks, "storage = auto\n")
    try:
        log = wait_log(d, "XENBOX-STORAGE ready")
        assert "XENBOX-STORAGE formatting /dev/sdc: blank" in log
        p, s = d.login()
        (ref, sr), = xfs_srs(p, s).items()
        assert pbd_of(p, s, ref)["device_config"] == {"device": "/dev/sdc"}
    finally:
        stop(d)
    assert disks.head("sdc") == b"XFSB" and disks.head("sda") == b"\0\0\0\0"


def test_auto_without_a_candidate_says_why(state_dir, disks):
    disks.add("sda", 5 * GIB, prep=gpt)
    d = start(state_dir, disks, "storage = auto\n")
    try:
        wait_log(d, "XENBOX-STORAGE none: no blank internal disk (sda: gpt)")
        p, s = d.login()
        assert ok(p.SR.get_all(s)) == []
    finally:
        stop(d)


def test_missing_disk_host_up_pbd_unplugged_vm_requires_sr(state_dir, disks):
    disks.add("sda", 5 * GIB)
    d = start(state_dir, disks, "storage = auto\n")
    try:
        wait_log(d, "XENBOX-STORAGE ready")
        p, s = d.login()
        (ref, sr), = xfs_srs(p, s).items()
        vdi = ok(p.VDI.create(s, {"SR": ref, "virtual_size": str(MIB), "name_label": "d",
                                  "type": "user", "sharable": False, "read_only": False,
                                  "other_config": {}, "xenstore_data": {}, "sm_config": {}}))
        vm = ok(p.VM.create(s, {"name_label": "g", "PV_kernel": "/boot/vmlinuz",
                                "memory_static_max": str(256 * MIB),
                                "memory_dynamic_max": str(256 * MIB),
                                "memory_dynamic_min": str(256 * MIB),
                                "memory_static_min": str(256 * MIB),
                                "VCPUs_max": "1", "VCPUs_at_startup": "1"}))
        ok(p.VBD.create(s, {"VM": vm, "VDI": vdi, "userdevice": "0", "bootable": True,
                            "mode": "RW", "type": "Disk", "empty": False, "other_config": {},
                            "qos_algorithm_type": "", "qos_algorithm_params": {}}))
    finally:
        stop(d)
    disks.unplug("sda")
    d = start(state_dir, disks, "storage = auto\n")
    try:
        log = wait_log(d, "XENBOX-STORAGE missing sr=%s /dev/sda" % sr["uuid"])
        assert "formatting" not in log.split("missing sr=")[1]
        p, s = d.login()
        pbd = ok(p.SR.get_PBDs(s, ref))[0]
        assert ok(p.PBD.get_currently_attached(s, pbd)) is False
        assert sorted(ok(p.SR.get_allowed_operations(s, ref))) == ["forget", "plug"]
        fails(p.VM.start(s, vm, False, False), "VM_REQUIRES_SR", vm, ref)
        fails(p.SR.scan(s, ref), "SR_NO_PBDS", ref)
        r = p.PBD.plug(s, pbd)
        assert r["Status"] == "Failure" and r["ErrorDescription"][0] == "SR_BACKEND_FAILURE", r
        # the disk is back: plug, start
        disks.plug("sda")
        ok(p.PBD.plug(s, pbd))
        assert ok(p.PBD.get_currently_attached(s, pbd)) is True
        fails(p.PBD.plug(s, pbd), "DEVICE_ALREADY_ATTACHED", pbd)
        fails(p.SR.forget(s, ref), "SR_HAS_PBD", ref)
        ok(p.VM.start(s, vm, False, False))
        # unplug refused while a running VM uses a VDI on it
        fails(p.PBD.unplug(s, pbd), "VDI_IN_USE", vdi, "unplug")
        ok(p.VM.hard_shutdown(s, vm))
        ok(p.PBD.unplug(s, pbd))
        assert ok(p.PBD.get_currently_attached(s, pbd)) is False
        assert ok(p.PBD.get_other_config(s, pbd))["xenbox-autoplug"] == "false"
    finally:
        stop(d)
    # unplugged by the operator: not plugged at the next start, nothing formatted
    d = start(state_dir, disks, "storage = auto\n")
    try:
        p, s = d.login()
        assert ok(p.PBD.get_currently_attached(s, pbd)) is False
        ok(p.SR.forget(s, ref))
        assert ok(p.VDI.get_all(s)) == [] and ok(p.PBD.get_all(s)) == []
    finally:
        stop(d)
    assert disks.head("sda") == b"XFSB"      # forget leaves the disk alone


def test_file_sr_scan_unplug_plug(daemon):
    """The state directory's `file` SR (storage = state, the default):
    SR.scan adopts an image file put there and forgets one removed;
    unplugged, only plug and forget are listed and VDI.create is refused."""
    p, s = daemon.login()
    sr = ok(p.pool.get_default_SR(s, ok(p.pool.get_all(s))[0]))
    assert ok(p.SR.get_type(s, sr)) == "file"
    pbd = pbd_of(p, s, sr)
    assert pbd["device_config"] == {"path": os.path.join(daemon.state, "sr")}
    assert int(ok(p.SR.get_physical_size(s, sr))) > 0
    u = "0f4a1c52-9d6e-4c1b-8a53-7f3e2d1c0b9a"
    img = os.path.join(daemon.state, "sr", u + ".img")
    os.makedirs(os.path.dirname(img), exist_ok=True)
    with open(img, "wb") as f:
        f.truncate(3 * MIB)
    with open(os.path.join(daemon.state, "sr", "notes.txt"), "w") as f:
        f.write("not an image")
    ok(p.SR.scan(s, sr))
    v = ok(p.VDI.get_by_uuid(s, u))
    assert ok(p.VDI.get_virtual_size(s, v)) == str(3 * MIB)
    assert ok(p.VDI.get_name_label(s, v)) == u + ".img"
    assert len(ok(p.SR.get_VDIs(s, sr))) == 1
    assert int(ok(p.SR.get_virtual_allocation(s, sr))) == 3 * MIB
    os.unlink(img)
    ok(p.SR.scan(s, sr))
    fails(p.VDI.get_record(s, v), "HANDLE_INVALID")
    pref = ok(p.SR.get_PBDs(s, sr))[0]
    ok(p.PBD.unplug(s, pref))
    fails(p.PBD.unplug(s, pref), "DEVICE_ALREADY_DETACHED", pref)
    assert sorted(ok(p.SR.get_allowed_operations(s, sr))) == ["forget", "plug"]
    r = p.VDI.create(s, {"SR": sr, "virtual_size": str(MIB), "name_label": "x", "type": "user",
                         "sharable": False, "read_only": False, "other_config": {}})
    fails(r, "SR_NO_PBDS", sr)
    fails(p.SR.scan(s, sr), "SR_NO_PBDS", sr)
    ok(p.PBD.plug(s, pref))
    fails(p.PBD.destroy(s, pref), "OPERATION_NOT_ALLOWED")
    assert "vdi_create" in ok(p.SR.get_allowed_operations(s, sr))
