"""VDI and VM copy operations (docs/STORAGE.md 4.1-4.3, 7.3): VDI.clone,
snapshot, copy, resize, destroy; VM.clone, copy, snapshot, revert,
provision from the built-in templates; the snapshot fields kept as
inverse sets; allowed device lists, set_memory_limits,
set_VCPUs_number_live.  On today's `file` SR (a directory: a sparse copy
where the filesystem has no reflink), and on an XFS SR with reflink
(root; a loop-mounted image in the daemon's own mount namespace): the
copies share their blocks until written."""
import hashlib
import os
import shutil
import subprocess

import pytest

from conftest import TOP, Daemon, fails, ok
from test_api import new_vm, wait_for

MiB = 1 << 20


def _sr(p, s):
    return ok(p.pool.get_default_SR(s, ok(p.pool.get_all(s))[0]))


def _vdi(p, s, size=4 * MiB, **kw):
    rec = {"SR": _sr(p, s), "virtual_size": str(size), "name_label": "disk",
           "name_description": "the disk", "type": "user", "sharable": False,
           "read_only": False, "other_config": {"k": "v"}, "xenstore_data": {"x": "y"}}
    rec.update(kw)
    return ok(p.VDI.create(s, rec))


def _vbd(p, s, vm, vdi, dev="0", typ="Disk"):
    return ok(p.VBD.create(s, {"VM": vm, "VDI": vdi, "userdevice": dev, "bootable": dev == "0",
                               "mode": "RW", "type": typ, "empty": False, "other_config": {}}))


def _path(p, s, vdi):
    return ok(p.VDI.get_location(s, vdi))


def _write(path, off, data):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(data)


def _sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _allocated(path):
    return os.stat(path).st_blocks * 512


def test_vdi_clone_snapshot_copy_resize_destroy(daemon):
    p, s = daemon.login()
    sr = _sr(p, s)
    vdi = _vdi(p, s)
    src = _path(p, s, vdi)
    _write(src, MiB, b"A" * 4096)
    _write(src, 3 * MiB, b"B" * 4096)
    assert set(ok(p.VDI.get_allowed_operations(s, vdi))) == {
        "clone", "copy", "snapshot", "resize", "destroy"}

    clone = ok(p.VDI.clone(s, vdi, {}))
    rec, orig = ok(p.VDI.get_record(s, clone)), ok(p.VDI.get_record(s, vdi))
    for k in ("name_label", "name_description", "virtual_size", "type", "sharable",
              "read_only", "other_config", "xenstore_data", "SR"):
        assert rec[k] == orig[k], k
    assert rec["uuid"] != orig["uuid"] and rec["is_a_snapshot"] is False
    assert rec["location"] == os.path.join(daemon.state, "sr", rec["uuid"] + ".img")
    assert _sha(rec["location"]) == _sha(src)
    assert _allocated(rec["location"]) <= 64 * 1024, "holes must stay holes"
    assert not os.listdir(os.path.join(daemon.state, "sr", ".tmp"))

    task = ok(p.Async.VDI.snapshot(s, vdi, {}))
    wait_for(lambda: ok(p.task.get_status(s, task)) != "pending")
    assert ok(p.task.get_status(s, task)) == "success"
    (sref,) = ok(p.VDI.get_snapshots(s, vdi))
    assert sref in ok(p.task.get_result(s, task))
    snap = ok(p.VDI.get_record(s, sref))
    assert snap["is_a_snapshot"] is True and snap["snapshot_of"] == vdi
    assert snap["snapshot_time"].value[:4] >= "2024"
    assert _sha(snap["location"]) == _sha(src)

    copy = ok(p.VDI.copy(s, vdi, sr, "OpaqueRef:NULL", "OpaqueRef:NULL"))
    assert _sha(_path(p, s, copy)) == _sha(src)
    fails(p.VDI.copy(s, vdi, sr, clone, "OpaqueRef:NULL"), "OPERATION_NOT_ALLOWED")
    fails(p.VDI.copy(s, vdi, sr, "OpaqueRef:NULL", clone), "OPERATION_NOT_ALLOWED")

    # writes to a copy do not reach the original
    before = _sha(src)
    _write(_path(p, s, clone), MiB, b"C" * 4096)
    assert _sha(src) == before

    # resize: larger only (rounded to 512), and not while attached
    ok(p.VDI.resize(s, vdi, str(8 * MiB + 1)))
    assert ok(p.VDI.get_virtual_size(s, vdi)) == str(8 * MiB + 512)
    assert os.path.getsize(src) == 8 * MiB + 512
    fails(p.VDI.resize(s, vdi, str(MiB)), "SR_BACKEND_FAILURE_79")
    vm = new_vm(p, s)
    _vbd(p, s, vm, vdi)
    ok(p.VM.start(s, vm, False, False))
    assert "resize" not in ok(p.VDI.get_allowed_operations(s, vdi))
    fails(p.VDI.resize(s, vdi, str(16 * MiB)), "VDI_IN_USE", vdi, "resize")
    assert "snapshot" in ok(p.VDI.get_allowed_operations(s, vdi))   # live, as XAPI
    ok(p.VM.hard_shutdown(s, vm))
    ok(p.VM.destroy(s, vm))

    # a sharable VDI has no snapshots
    shared = _vdi(p, s, sharable=True)
    assert "snapshot" not in ok(p.VDI.get_allowed_operations(s, shared))
    fails(p.VDI.snapshot(s, shared, {}), "VDI_IS_SHARABLE", shared)

    # destroying a VDI with snapshots is allowed; the snapshot stays
    ok(p.VDI.destroy(s, vdi))
    assert not os.path.exists(src)
    assert _sha(snap["location"]) == before
    assert ok(p.VDI.get_snapshot_of(s, ok(p.VDI.get_by_uuid(s, snap["uuid"])))) == vdi


def _disk_vm(p, s, disks=2):
    vm = new_vm(p, s, name_label="orig", other_config={"default_template": "true", "o": "1"},
                tags=["t1"])
    vdis = []
    for i in range(disks):
        v = _vdi(p, s, name_label="disk%d" % i)
        _write(_path(p, s, v), 0, b"disk%d-v1" % i)
        _vbd(p, s, vm, v, str(i))
        vdis.append(v)
    ok(p.VIF.create(s, {"VM": vm, "network": ok(p.network.get_all(s))[0], "device": "0",
                        "MAC": "", "MTU": "1500", "other_config": {}}))
    return vm, vdis


def _vdis_of(p, s, vm):
    out = []
    for vbd in ok(p.VM.get_VBDs(s, vm)):
        r = ok(p.VBD.get_record(s, vbd))
        out.append((r["userdevice"], r["VDI"]))
    return [v for _, v in sorted(out)]


def _macs(p, s, vm):
    return [ok(p.VIF.get_MAC(s, v)) for v in ok(p.VM.get_VIFs(s, vm))]


def test_vm_clone_and_copy(daemon):
    p, s = daemon.login()
    vm, vdis = _disk_vm(p, s)
    cd = _vdi(p, s, name_label="iso")
    _vbd(p, s, vm, cd, "3", "CD")
    orig = ok(p.VM.get_record(s, vm))
    for how in ("clone", "copy"):
        if how == "clone":
            new = ok(p.VM.clone(s, vm, "the clone"))
        else:
            task = ok(p.Async.VM.copy(s, vm, "the copy", _sr(p, s)))
            wait_for(lambda: ok(p.task.get_status(s, task)) != "pending")
            assert ok(p.task.get_status(s, task)) == "success", ok(p.task.get_error_info(s, task))
            new = [v for v in ok(p.VM.get_by_name_label(s, "the copy"))][0]
        rec = ok(p.VM.get_record(s, new))
        assert rec["name_label"] != orig["name_label"] and rec["uuid"] != orig["uuid"]
        for k in ("memory_static_max", "PV_kernel", "PV_args", "domain_type", "VCPUs_max",
                  "is_a_template", "tags", "platform"):
            assert rec[k] == orig[k], k
        assert rec["power_state"] == "Halted" and rec["is_a_snapshot"] is False
        assert rec["is_default_template"] is False
        assert "default_template" not in rec["other_config"] and rec["other_config"]["o"] == "1"
        assert rec["other_config"]["mac_seed"] and rec["parent"] == "OpaqueRef:NULL"
        assert rec["generation_id"] != orig["generation_id"]
        new_vdis = _vdis_of(p, s, new)
        assert len(new_vdis) == 3 and new_vdis[2] == cd, "a CD shares its VDI"
        for a, b in zip(vdis, new_vdis[:2]):
            assert a != b
            assert _sha(_path(p, s, a)) == _sha(_path(p, s, b))
            assert ok(p.VDI.get_name_label(s, a)) == ok(p.VDI.get_name_label(s, b))
        for vbd in ok(p.VM.get_VBDs(s, new)):
            r = ok(p.VBD.get_record(s, vbd))
            if r["type"] == "Disk":
                assert r["other_config"].get("owner") == "true"
            assert r["currently_attached"] is False
        assert len(_macs(p, s, new)) == 1 and _macs(p, s, new) != _macs(p, s, vm)
    # a running VM is not cloned (XAPI: Halted only)
    ok(p.VM.start(s, vm, False, False))
    assert not {"clone", "copy"} & set(ok(p.VM.get_allowed_operations(s, vm)))
    fails(p.VM.clone(s, vm, "x"), "VM_BAD_POWER_STATE", vm, "halted", "running")
    ok(p.VM.hard_shutdown(s, vm))


def test_vm_snapshot_and_revert(daemon):
    p, s = daemon.login()
    vm, vdis = _disk_vm(p, s)
    ok(p.VM.start(s, vm, False, False))
    macs = _macs(p, s, vm)
    snap = ok(p.VM.snapshot(s, vm, "snap1", []))
    rec = ok(p.VM.get_record(s, snap))
    assert rec["is_a_snapshot"] is True and rec["is_a_template"] is True
    assert rec["snapshot_of"] == vm and rec["power_state"] == "Halted"
    assert rec["snapshot_info"] == {"power-state-at-snapshot": "Running",
                                    "disk-snapshot-type": "crash_consistent"}
    assert ok(p.VM.get_snapshots(s, vm)) == [snap]
    assert ok(p.VM.get_parent(s, vm)) == snap and ok(p.VM.get_children(s, snap)) == [vm]
    assert _macs(p, s, snap) == macs
    assert ok(p.VM.get_power_state(s, vm)) == "Running"   # paused across, then on
    svdis = _vdis_of(p, s, snap)
    for v, sv in zip(vdis, svdis):
        r = ok(p.VDI.get_record(s, sv))
        assert r["is_a_snapshot"] is True and r["snapshot_of"] == v
        assert ok(p.VDI.get_snapshots(s, v)) == [sv]

    # XO clears is_a_template right after; a snapshot is still one
    ok(p.VM.set_is_a_template(s, snap, False))
    assert sorted(ok(p.VM.get_allowed_operations(s, snap))) == [
        "clone", "copy", "destroy", "revert"]
    fails(p.VM.start(s, snap, False, False), "VM_IS_SNAPSHOT", snap, "start")
    fails(p.VM.snapshot(s, snap, "again", []), "VM_IS_SNAPSHOT", snap, "snapshot")
    fails(p.VM.revert(s, vm), "REVERT_ONLY_ALLOWED_ON_SNAPSHOT", vm, "revert")
    assert "revert" not in ok(p.VM.get_allowed_operations(s, vm))

    # changes after the snapshot: data, a new disk, a field, a VIF's MAC
    _write(_path(p, s, vdis[0]), 0, b"disk0-v2")
    ok(p.VM.hard_shutdown(s, vm))
    extra = _vdi(p, s, name_label="later")
    _vbd(p, s, vm, extra, "5")
    ok(p.VM.set_VCPUs_max(s, vm, "4"))
    ok(p.VM.set_name_label(s, vm, "renamed"))
    ok(p.VM.start(s, vm, False, False))

    task = ok(p.Async.VM.revert(s, snap))
    wait_for(lambda: ok(p.task.get_status(s, task)) != "pending")
    assert ok(p.task.get_status(s, task)) == "success", ok(p.task.get_error_info(s, task))
    rec = ok(p.VM.get_record(s, vm))
    assert rec["power_state"] == "Halted" and rec["VCPUs_max"] == "1"
    assert rec["name_label"] == "renamed", "the name is not reverted (XAPI)"
    assert rec["parent"] == snap and rec["is_a_snapshot"] is False
    assert _vdis_of(p, s, vm) == vdis, "the VM keeps its disks, reverted"
    with open(_path(p, s, vdis[0]), "rb") as f:
        assert f.read(8) == b"disk0-v1"
    assert ok(p.VDI.get_VBDs(s, extra)) == [], "a disk added later is detached, kept"
    assert _macs(p, s, vm) == macs
    ok(p.VM.start(s, vm, False, False))
    ok(p.VM.hard_shutdown(s, vm))

    # a snapshot whose VM is gone cannot be reverted
    ok(p.VM.destroy(s, vm))
    assert "revert" not in ok(p.VM.get_allowed_operations(s, snap))
    ok(p.VM.destroy(s, snap))


def test_templates_and_provision(daemon):
    p, s = daemon.login()
    tmpls = {r["name_label"]: (ref, r) for ref, r in ok(p.VM.get_all_records(s)).items()
             if r["is_default_template"]}
    assert set(tmpls) == {"Generic Linux PVH (boot from disk)",
                          "Generic Linux PV (boot from disk)"}
    ref, t = tmpls["Generic Linux PVH (boot from disk)"]
    assert t["is_a_template"] and t["domain_type"] == "pvh" and t["PV_bootloader"] == "pygrub"
    assert t["other_config"]["default_template"] == "true"
    assert "<restriction field=\"vcpus-max\" max=\"16\"/>" in t["recommendations"]
    assert t["memory_static_max"] == str(1 << 30) and t["memory_static_min"] == str(1 << 29)
    assert sorted(ok(p.VM.get_allowed_operations(s, ref))) == [
        "changing_VCPUs", "changing_memory_limits", "clone", "copy", "provision"]
    fails(p.VM.destroy(s, ref), "VM_IS_TEMPLATE", ref, "destroy")

    vm = ok(p.VM.clone(s, ref, "from template"))
    rec = ok(p.VM.get_record(s, vm))
    assert rec["is_a_template"] is True and rec["is_default_template"] is False
    assert rec["other_config"]["base_template_name"] == t["name_label"]
    ok(p.VM.provision(s, vm))
    rec = ok(p.VM.get_record(s, vm))
    assert rec["is_a_template"] is False and "disks" not in rec["other_config"]
    (vbd,) = rec["VBDs"]
    b = ok(p.VBD.get_record(s, vbd))
    assert (b["userdevice"], b["bootable"], b["unpluggable"], b["type"]) == ("0", True, False, "Disk")
    d = ok(p.VDI.get_record(s, b["VDI"]))
    assert d["virtual_size"] == str(10 << 30) and d["type"] == "system"
    assert d["SR"] == _sr(p, s) and d["name_description"] == "Created by template provisioner"
    assert os.path.getsize(d["location"]) == 10 << 30 and _allocated(d["location"]) == 0
    fails(p.VM.provision(s, vm), "PROVISION_ONLY_ALLOWED_ON_TEMPLATE", vm, "provision")

    # a malformed list makes nothing
    vm2 = ok(p.VM.clone(s, ref, "bad"))
    bad = ("<provision><disk device=\"1\" size=\"1048576\" sr=\"\" bootable=\"false\" type=\"user\"/>"
           "<disk device=\"2\" size=\"lots\" sr=\"\" bootable=\"false\" type=\"user\"/></provision>")
    ok(p.VM.remove_from_other_config(s, vm2, "disks"))
    ok(p.VM.add_to_other_config(s, vm2, "disks", bad))
    nvdi = len(ok(p.VDI.get_all(s)))
    fails(p.VM.provision(s, vm2), "INVALID_VALUE", "other_config:disks")
    ok(p.VM.remove_from_other_config(s, vm2, "disks"))
    ok(p.VM.add_to_other_config(s, vm2, "disks", bad.replace("lots", "1048576").replace(
        "sr=\"\" bootable=\"false\" type=\"user\"/></", "sr=\"no-such-sr\" bootable=\"false\" type=\"user\"/></")))
    fails(p.VM.provision(s, vm2), "UUID_INVALID", "SR", "no-such-sr")
    assert len(ok(p.VDI.get_all(s))) == nvdi and ok(p.VM.get_VBDs(s, vm2)) == []
    assert set(os.listdir(os.path.join(daemon.state, "sr"))) - {".tmp"} == {
        os.path.basename(d["location"])}
    # as XO: the list removed first, then provision only flips the flag
    ok(p.VM.remove_from_other_config(s, vm2, "disks"))
    ok(p.VM.provision(s, vm2))
    assert ok(p.VM.get_is_a_template(s, vm2)) is False


def test_devices_memory_vcpus(daemon):
    p, s = daemon.login()
    vm, vdis = _disk_vm(p, s)
    assert ok(p.VM.get_allowed_VBD_devices(s, vm)) == [str(i) for i in range(2, 16)]
    assert ok(p.VM.get_allowed_VIF_devices(s, vm)) == [str(i) for i in range(1, 16)]

    ok(p.VM.set_memory_limits(s, vm, str(128 * MiB), str(512 * MiB), str(256 * MiB),
                              str(384 * MiB)))
    r = ok(p.VM.get_record(s, vm))
    assert [r["memory_static_min"], r["memory_static_max"], r["memory_dynamic_min"],
            r["memory_dynamic_max"]] == [str(x * MiB) for x in (128, 512, 256, 384)]
    fails(p.VM.set_memory_limits(s, vm, str(128 * MiB), str(256 * MiB), str(256 * MiB),
                                 str(384 * MiB)), "MEMORY_CONSTRAINT_VIOLATION")
    assert ok(p.VM.get_memory_static_max(s, vm)) == str(512 * MiB)

    fails(p.VM.set_VCPUs_number_live(s, vm, "1"), "VM_BAD_POWER_STATE", vm, "running", "halted")
    ok(p.VM.set_VCPUs_max(s, vm, "4"))
    ok(p.VM.start(s, vm, False, False))
    assert "changing_VCPUs_live" in ok(p.VM.get_allowed_operations(s, vm))
    assert "changing_memory_limits" not in ok(p.VM.get_allowed_operations(s, vm))
    fails(p.VM.set_memory_limits(s, vm, "1", "1", "1", "1"), "VM_BAD_POWER_STATE")
    ok(p.VM.set_VCPUs_number_live(s, vm, "3"))
    m = ok(p.VM.get_metrics(s, vm))
    assert ok(p.VM_metrics.get_VCPUs_number(s, m)) == "3"
    assert ok(p.VM.get_VCPUs_at_startup(s, vm)) == "1"
    fails(p.VM.set_VCPUs_number_live(s, vm, "5"), "INVALID_VALUE", "nvcpu", "5")
    fails(p.VM.set_VCPUs_number_live(s, vm, "0"), "INVALID_VALUE", "nvcpu", "0")
    ok(p.VM.hard_shutdown(s, vm))


def _mkfs_xfs():
    for c in (shutil.which("mkfs.xfs"),
              os.path.join(TOP, "output/check/usb/images/xfsprogs/mkfs.xfs")):
        if c and os.access(c, os.X_OK):
            return c
    return None


@pytest.fixture
def xfs_daemon(state_dir, tmp_path):
    """The daemon with its SR directory on XFS (reflink=1), mounted in a
    mount namespace of its own (nothing on the host's)."""
    if os.geteuid() != 0:
        pytest.skip("a loop-mounted XFS needs root")
    mkfs = _mkfs_xfs()
    if not mkfs:
        pytest.skip("no mkfs.xfs (support/deps.sh installs xfsprogs)")
    img = tmp_path / "sr.img"
    with open(img, "wb") as f:
        f.truncate(512 * MiB)
    subprocess.run([mkfs, "-q", "-m", "crc=1,reflink=1", "-f", str(img)], check=True)
    srdir = os.path.join(state_dir, "sr")
    os.makedirs(srdir, exist_ok=True)
    d = Daemon(state_dir)
    d.start(prefix=["unshare", "-m", "--propagation", "private", "sh", "-c",
                    'mount -o loop "$1" "$2" && shift 2 && exec "$@"', "-", str(img), srdir])
    yield d
    assert d.stop() == 0, d.read_log()


def _in_ns(d, *cmd):
    return subprocess.run(["nsenter", "-t", str(d.proc.pid), "-m", *cmd],
                          capture_output=True, text=True, check=True).stdout


def test_clone_and_snapshot_share_blocks_on_xfs(xfs_daemon):
    d = xfs_daemon
    p, s = d.login()
    vdi = _vdi(p, s, size=64 * MiB)
    src = _path(p, s, vdi)
    _in_ns(d, "dd", "if=/dev/urandom", "of=" + src, "bs=1M", "count=16", "conv=notrunc,fsync",
           "status=none")
    used = lambda: int(_in_ns(d, "df", "-B1", "--output=used", src).split()[-1])  # noqa: E731
    before = used()
    clone = ok(p.VDI.clone(s, vdi, {}))
    snap = ok(p.VM.snapshot(s, _vm_with(p, s, vdi), "s", []))
    svdi = _vdis_of(p, s, snap)[0]
    assert used() - before < 4 * MiB, "no blocks copied"
    for v in (clone, svdi):
        frag = _in_ns(d, "filefrag", "-v", _path(p, s, v))
        assert "shared" in frag, frag
    sha = lambda v: _in_ns(d, "sha256sum", _path(p, s, v)).split()[0]  # noqa: E731
    orig = sha(vdi)
    assert sha(clone) == orig == sha(svdi)
    # a 4 KiB write to the clone unshares that block only
    _in_ns(d, "dd", "if=/dev/zero", "of=" + _path(p, s, clone), "bs=4096", "count=1", "seek=10",
           "conv=notrunc,fsync", "status=none")
    assert sha(vdi) == orig and sha(clone) != orig
    assert used() - before < 4 * MiB


def _vm_with(p, s, vdi):
    vm = new_vm(p, s)
    _vbd(p, s, vm, vdi)
    return vm


def test_a_failed_copy_leaves_nothing(daemon):
    """The SR's .tmp/ cannot be made (a file is in its way): the clone,
    snapshot or copy fails with SR_BACKEND_FAILURE and leaves no record,
    no file, no operation on its objects."""
    p, s = daemon.login()
    vm, vdis = _disk_vm(p, s)
    srdir = os.path.join(daemon.state, "sr")
    shutil.rmtree(os.path.join(srdir, ".tmp"), ignore_errors=True)
    with open(os.path.join(srdir, ".tmp"), "w") as f:
        f.write("in the way")
    files, nvm, nvdi = sorted(os.listdir(srdir)), len(ok(p.VM.get_all(s))), len(ok(p.VDI.get_all(s)))
    fails(p.VDI.clone(s, vdis[0], {}), "SR_BACKEND_FAILURE")
    fails(p.VM.clone(s, vm, "c"), "SR_BACKEND_FAILURE")
    task = ok(p.Async.VM.snapshot(s, vm, "s", []))
    wait_for(lambda: ok(p.task.get_status(s, task)) != "pending")
    assert ok(p.task.get_status(s, task)) == "failure"
    assert ok(p.task.get_error_info(s, task))[0] == "SR_BACKEND_FAILURE"
    assert sorted(os.listdir(srdir)) == files
    assert (len(ok(p.VM.get_all(s))), len(ok(p.VDI.get_all(s)))) == (nvm, nvdi)
    assert ok(p.VM.get_current_operations(s, vm)) == {}
    assert ok(p.VDI.get_current_operations(s, vdis[0])) == {}
    assert "clone" in ok(p.VM.get_allowed_operations(s, vm))
    os.unlink(os.path.join(srdir, ".tmp"))
    ok(p.VM.clone(s, vm, "c"))


def test_snapshot_sets_survive_a_restart_and_follow_destroys(state_dir):
    """VM.snapshots, VM.children and VDI.snapshots are inverse sets of
    snapshot_of and parent: not stored, rebuilt at start, and they lose a
    snapshot that is destroyed."""
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        vm, vdis = _disk_vm(p, s, disks=1)
        s1 = ok(p.VM.snapshot(s, vm, "s1", []))
        s2 = ok(p.VM.snapshot(s, vm, "s2", []))
        v1, v2 = _vdis_of(p, s, s1)[0], _vdis_of(p, s, s2)[0]
    finally:
        assert d.stop() == 0, d.read_log()
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        assert sorted(ok(p.VM.get_snapshots(s, vm))) == sorted([s1, s2])
        assert ok(p.VM.get_parent(s, vm)) == s2 and ok(p.VM.get_parent(s, s2)) == s1
        assert ok(p.VM.get_children(s, s2)) == [vm] and ok(p.VM.get_children(s, s1)) == [s2]
        assert sorted(ok(p.VDI.get_snapshots(s, vdis[0]))) == sorted([v1, v2])
        ok(p.VM.destroy(s, s1))
        ok(p.VDI.destroy(s, v1))
        assert ok(p.VM.get_snapshots(s, vm)) == [s2]
        assert ok(p.VDI.get_snapshots(s, vdis[0])) == [v2]
    finally:
        assert d.stop() == 0, d.read_log()
