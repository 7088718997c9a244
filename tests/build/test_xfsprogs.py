"""mkfs.xfs as the USB image carries it (package/xfsprogs, docs/STORAGE.md
2.2 and stage 1): built offline from the pinned sources, static, and the
filesystem it makes is one the running kernel mounts, with reflink
(FICLONE) working: the SR's clones and snapshots depend on it.

The build is `make xfsprogs` in the USB board's output directory
($CHECK_O/usb, the one the usb suite uses, or a temporary one): mkfs.xfs
and its libraries only, a few minutes.  Formatting and mounting a loop
file need root."""
import fcntl
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import DL_DIR, TOP, offline_prefix, run

FICLONE = 0x40049409            # _IOW(0x94, 9, int)
XFS_SB_MAGIC = b"XFSB"


@pytest.fixture(scope="module")
def mkfs_xfs(tmp_path_factory):
    base = tmp_path_factory.mktemp("xb-xfsprogs")
    out = Path(os.environ["CHECK_O"]) / "usb" if os.environ.get("CHECK_O") else base / "usb"
    prefix = offline_prefix()
    if prefix is None:
        pytest.skip("cannot cut the network here (unshare -n needs root or user namespaces)")
    src = run(["make", "source", f"DL_DIR={DL_DIR}"], base / "source.log")
    if src.returncode != 0:
        pytest.fail("make source failed:\n" + (base / "source.log").read_text())
    cmd = (f"make -s O={out} DL_DIR={DL_DIR} pc_x86_64_usb_defconfig >/dev/null && "
           f"make -s -j{os.cpu_count() or 2} O={out} DL_DIR={DL_DIR} xfsprogs")
    log = base / "build.log"
    r = run(prefix + ["sh", "-c", cmd], log)
    if r.returncode != 0:
        pytest.fail("offline `make xfsprogs` failed:\n" + log.read_text(errors="replace")[-4000:])
    return out / "images" / "xfsprogs" / "mkfs.xfs"


@pytest.fixture
def root():
    if os.geteuid() != 0:
        pytest.skip("formatting and mounting a loop file needs root")


def test_mkfs_xfs_is_static_and_stripped(mkfs_xfs):
    headers = subprocess.run(["readelf", "-lS", str(mkfs_xfs)], capture_output=True,
                             text=True, check=True).stdout
    assert "INTERP" not in headers, "mkfs.xfs must not need a dynamic loader"
    assert ".symtab" not in headers
    assert "DYNAMIC" not in headers
    data = mkfs_xfs.read_bytes()
    for path in (TOP, mkfs_xfs.parents[2], DL_DIR):      # -ffile-prefix-map
        assert str(path).encode() not in data, f"{path} is in mkfs.xfs"
    # -V answers without touching a disk.
    v = subprocess.run([str(mkfs_xfs), "-V"], capture_output=True, text=True)
    assert v.returncode == 0 and "6.1.0" in v.stdout


def superblock(img):
    with open(img, "rb") as f:
        return f.read(512)


def mkfs(mkfs_xfs, img, size=1 << 30):
    with open(img, "wb") as f:
        f.truncate(size)                         # sparse, as a disk's image would be
    r = subprocess.run([str(mkfs_xfs), "-q", "-L", "xenbox-sr", "-m", "crc=1,reflink=1",
                        "-f", str(img)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return superblock(img)


def test_formats_with_label_and_random_uuid(mkfs_xfs, tmp_path):
    a = mkfs(mkfs_xfs, tmp_path / "a.img")
    b = mkfs(mkfs_xfs, tmp_path / "b.img")
    assert a[0:4] == XFS_SB_MAGIC
    assert a[108:120].rstrip(b"\0") == b"xenbox-sr"          # sb_fname
    ua, ub = uuid.UUID(bytes=a[32:48]), uuid.UUID(bytes=b[32:48])   # sb_uuid
    # package/xfsprogs/uuid.c: random (version 4, RFC 4122), one per mkfs
    assert ua.version == 4 and ua.variant == uuid.RFC_4122
    assert ua != ub
    # the sparse file stays sparse: mkfs writes metadata, not the whole disk
    st = os.stat(tmp_path / "a.img")
    assert st.st_blocks * 512 < st.st_size // 8


def test_host_kernel_mounts_it_and_reflink_works(mkfs_xfs, tmp_path, root):
    img, mnt = tmp_path / "sr.img", tmp_path / "mnt"
    mkfs(mkfs_xfs, img)
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "xfs", "-o", "loop,noatime,nodev,nosuid,noexec",
                        str(img), str(mnt)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    try:
        src, dst = mnt / "disk.img", mnt / "clone.img"
        data = os.urandom(4 << 20)
        src.write_bytes(data)
        os.sync()
        free_before = os.statvfs(mnt).f_bfree
        with open(src, "rb") as s, open(dst, "wb") as d:
            fcntl.ioctl(d.fileno(), FICLONE, s.fileno())
        os.sync()
        assert dst.read_bytes() == data
        # shared blocks: the 4 MiB clone took (almost) no new space
        used = (free_before - os.statvfs(mnt).f_bfree) * os.statvfs(mnt).f_frsize
        assert used < (1 << 20), f"the clone used {used} bytes: blocks were copied"
        # a write to the clone leaves the original as it was
        with open(dst, "r+b") as d:
            d.write(b"x" * 4096)
        assert src.read_bytes() == data
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
