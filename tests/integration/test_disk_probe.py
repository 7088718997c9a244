"""`xenbox-io disk-probe` (docs/STORAGE.md 2.3): the disks the SR could go
on, one line each, `NAME BYTES USE CONTENT BY-ID # text`, read from a fake
root (sys/block, proc/self/mounts, dev/) whose "disks" are sparse image
files.  Against the host build and the shipped one; `xenbox disk-probe`
reaches it through xenbox's exec of xenbox-io."""
import os
import subprocess

import pytest

from conftest import XENBOX

IO = os.path.join(os.path.dirname(XENBOX), "xenbox-io")
GIB = 1 << 30
MIB = 1 << 20


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def put(path, data, mode="w"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(data)


def disk(root, name, size, writes=(), ro=0, removable=0, usb=False, attrs=None,
         dev=True):
    """sys/block/NAME with its attributes, dev/NAME a sparse file of SIZE
    bytes with WRITES (offset, bytes) in it."""
    sysdir = os.path.join(root, "sys/block", name)
    if usb:
        real = os.path.join(root, "sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/"
                            "2-1:1.0/host1/target1:0:0/1:0:0:0/block", name)
        os.makedirs(real)
        os.makedirs(os.path.dirname(sysdir), exist_ok=True)
        os.symlink(real, sysdir)
    else:
        os.makedirs(sysdir)
    put(os.path.join(sysdir, "size"), "%d\n" % (size // 512))
    put(os.path.join(sysdir, "ro"), "%d\n" % ro)
    put(os.path.join(sysdir, "removable"), "%d\n" % removable)
    for rel, data in (attrs or {}).items():
        put(os.path.join(sysdir, rel), data, "wb" if isinstance(data, bytes) else "w")
    if dev:
        path = os.path.join(root, "dev", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.truncate(size)
            for off, data in writes:
                f.seek(off)
                f.write(data)


def xfs(label):
    return [(0, b"XFSB"), (108, label.encode())]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    r = str(tmp_path_factory.mktemp("fakeroot"))
    serial = b"     QM00001        "
    disk(r, "sda", 8 * GIB, attrs={
        "device/vendor": "ATA     \n", "device/model": "QEMU HARDDISK   \n",
        "device/vpd_pg80": b"\x00\x80\x00" + bytes([len(serial)]) + serial})
    disk(r, "sdb", 8 * GIB, [(510, b"\x55\xaa"), (512, b"EFI PART")])
    disk(r, "sdc", 16 * GIB, xfs("xenbox-sr"))
    disk(r, "sdd", 8 * GIB, xfs("data"))
    disk(r, "sde", 2 * GIB)
    disk(r, "sdf", 8 * GIB, usb=True)
    disk(r, "sdg", 8 * GIB, [(8 * GIB - 100, b"\x01")])
    disk(r, "sdh", 8 * GIB)
    put(os.path.join(r, "sys/block/sdh/sdh1/partition"), "1\n")
    disk(r, "sdi", 8 * GIB, removable=1)
    disk(r, "sdj", 8 * GIB, dev=False)
    disk(r, "sdk", 3 * MIB + 512, [(3 * MIB + 500, b"x")])   # odd size: plain reads
    disk(r, "sdl", 8 * GIB)
    put(os.path.join(r, "sys/block/sdl/sdl2/partition"), "2\n")
    disk(r, "nvme0n1", 64 * GIB, [(1024 + 56, b"\x53\xef")], attrs={
        "device/model": "Samsung SSD 970 EVO 1TB                 \n",
        "device/serial": "S467NX0M123456A     \n"})
    disk(r, "vda", 8 * GIB, ro=1, attrs={"serial": "disk/1 x\n"})
    disk(r, "loop0", 8 * GIB)
    put(os.path.join(r, "proc/self/mounts"),
        "proc /proc proc rw 0 0\n/dev/sdh1 /mnt ext4 rw 0 0\n/dev/sdl2 /boot vfat ro 0 0\n")
    return r


def probe(binary, root, *args):
    r = run([binary, "disk-probe", "--root", root] + list(args))
    assert r.returncode == 0, r.stderr
    return {l.split()[0]: l for l in r.stdout.splitlines()}


def fields(line):
    return line.split(" # ", 1)[0].split()


@pytest.mark.parametrize("binary", [XENBOX, IO], ids=["xenbox", "xenbox-io"])
def test_each_disk_one_line_with_use_content_and_name(binary, root):
    lines = probe(binary, root)
    got = {name: fields(l) for name, l in lines.items()}
    want = {
        "sda": ["sda", str(8 * GIB), "candidate", "blank", "ata-QEMU_HARDDISK_QM00001"],
        "sdb": ["sdb", str(8 * GIB), "candidate", "gpt", "-"],
        "sdc": ["sdc", str(16 * GIB), "candidate", "xenbox-sr", "-"],
        "sdd": ["sdd", str(8 * GIB), "candidate", "xfs", "-"],
        "sde": ["sde", str(2 * GIB), "small", "blank", "-"],
        "sdf": ["sdf", str(8 * GIB), "usb", "blank", "-"],
        "sdg": ["sdg", str(8 * GIB), "candidate", "data@%d" % (8 * GIB - 100), "-"],
        "sdh": ["sdh", str(8 * GIB), "mounted", "blank", "-"],
        "sdi": ["sdi", str(8 * GIB), "removable", "blank", "-"],
        "sdj": ["sdj", str(8 * GIB), "unreadable", "unreadable", "-"],   # never a candidate
        "sdk": ["sdk", str(3 * MIB + 512), "small", "data@%d" % (3 * MIB + 500), "-"],
        "sdl": ["sdl", str(8 * GIB), "boot", "blank", "-"],
        "nvme0n1": ["nvme0n1", str(64 * GIB), "candidate", "ext",
                    "nvme-Samsung_SSD_970_EVO_1TB_S467NX0M123456A"],
        "vda": ["vda", str(8 * GIB), "read-only", "blank", "virtio-disk_1_x"],
    }
    assert got == want
    # sorted by name, loop devices never listed
    assert list(lines) == sorted(want)
    # the text after '#' says it for a person
    assert lines["sde"].endswith("# smaller than 4 GiB; blank")
    assert lines["sdd"].endswith("# candidate; XFS filesystem labelled 'data'")
    assert lines["sdg"].endswith("non-zero data at byte %d" % (8 * GIB - 100))
    assert lines["sdl"].endswith("# the boot stick; blank")
    assert lines["sdj"].endswith("# not readable; No such file or directory")


def test_named_allows_usb_and_removable_never_the_stick(root):
    lines = probe(IO, root, "--named")
    assert fields(lines["sdf"])[2] == "candidate"
    assert fields(lines["sdi"])[2] == "candidate"
    assert fields(lines["sdl"])[2] == "boot"
    assert fields(lines["sdh"])[2] == "mounted"


def test_bad_root_and_bad_options(tmp_path):
    r = run([IO, "disk-probe", "--root", str(tmp_path / "nothing")])
    assert r.returncode == 1 and r.stdout == ""
    assert "disk-probe: %s: sys/block or proc/self/mounts: No such file" % (
        tmp_path / "nothing") in r.stderr, r.stderr
    r = run([IO, "disk-probe", "--root"])
    assert r.returncode == 2 and "usage: xenbox disk-probe" in r.stderr


def test_disk_format_blank_or_forced_never_an_sr(tmp_path):
    """`xenbox disk-format [--force] DEV`, the daemon's mkfs: a blank disk
    is formatted XFS labelled xenbox-sr; anything else only with --force
    (its last MiB zeroed: no backup GPT left behind); a disk that carries
    xenbox's SR never."""
    import shutil
    if not shutil.which("mkfs.xfs"):
        pytest.skip("mkfs.xfs (xfsprogs) is not installed")
    blank, gpt = str(tmp_path / "blank.img"), str(tmp_path / "gpt.img")
    for path, writes in ((blank, []), (gpt, [(510, b"\x55\xaa"), (512, b"EFI PART"),
                                             (GIB - 512, b"EFI PART")])):
        with open(path, "wb") as f:
            f.truncate(GIB)
            for off, data in writes:
                f.seek(off)
                f.write(data)
    r = run([XENBOX, "disk-format", gpt])
    assert r.returncode == 3, r
    assert "GPT partition table; not formatted without --force" in r.stderr
    r = run([XENBOX, "disk-format", blank])
    assert r.returncode == 0, r.stderr
    with open(blank, "rb") as f:
        sb = f.read(120)
    assert sb[:4] == b"XFSB" and sb[108:117] == b"xenbox-sr"
    for args in ([blank], ["--force", blank]):
        r = run([XENBOX, "disk-format"] + args)
        assert r.returncode == 3 and "never reformatted" in r.stderr, r
    r = run([IO, "disk-format", "--force", gpt])
    assert r.returncode == 0, r.stderr
    with open(gpt, "rb") as f:
        assert f.read(4) == b"XFSB"
        f.seek(GIB - MIB)
        assert f.read(MIB) == bytes(MIB)
    r = run([IO, "disk-format", "--force"])
    assert r.returncode == 2 and "usage: xenbox disk-format" in r.stderr
    r = run([IO, "disk-format", str(tmp_path / "none")])
    assert r.returncode == 1 and "No such file" in r.stderr
