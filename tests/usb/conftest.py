"""USB image system tests: the stick image booted by QEMU as a USB stick
(BIOS and UEFI), driven from the host.  docs/USB_IMAGE.md, "Tests".

Needs the image (`make pc_x86_64_usb_defconfig && make`; `make usb-check`
sets XB_USB_IMG, XB_OVMF and XB_XENBOX).  Skipped, with the reason, when
QEMU, the image or the host tools (mtools, e2fsprogs) are missing.  Each
test boots its own copy of the image; console logs are kept in
$XB_USB_LOGS (default: beside the image, usb-logs/).
"""
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import usbqemu as U  # noqa: E402
from qemu_pytest import mark_system, pytest_configure, pytest_runtest_makereport  # noqa: E402,F401

TOP = os.path.dirname(os.path.dirname(HERE))


def pytest_collection_modifyitems(config, items):
    mark_system(items, HERE)


@pytest.fixture(scope="session")
def image():
    img = os.environ.get("XB_USB_IMG") or os.path.join(TOP, "output/images/xenbox-usb.img")
    if not os.path.exists(img):
        pytest.skip("%s is missing: make pc_x86_64_usb_defconfig && make "
                    "(or make usb-check O=...)" % img)
    for tool in (U.QEMU, "mcopy", "mtype", "e2fsck", "debugfs"):
        if not shutil.which(tool) and not os.path.exists("/sbin/" + tool):
            pytest.skip("%s is missing (support/deps.sh installs it)" % tool)
    return img


@pytest.fixture(scope="session")
def password(image):
    """The image's root password (make writes it beside the image)."""
    pw = image[:-len(".img")] + ".password"
    with open(pw) as f:
        return f.read().strip()


@pytest.fixture(scope="session")
def xenbox(image):
    return os.environ.get("XB_XENBOX") or os.path.join(os.path.dirname(image), "xenbox")


@pytest.fixture(scope="session")
def logs(image):
    d = os.environ.get("XB_USB_LOGS") or os.path.join(os.path.dirname(image), "usb-logs")
    os.makedirs(d, exist_ok=True)
    return d


@pytest.fixture
def stick(image, tmp_path):
    """A fresh copy of the image, as a 256 MiB stick (the state partition
    grows into it on first boot)."""
    return U.Stick.copy_of(image, str(tmp_path / "stick.img"), size="256M")


@pytest.fixture
def boot(logs, request):
    """boot(stick, **UsbQemu args) -> a started QEMU, stopped (hard) at the end."""
    started = []

    def _boot(stick, name=None, **kw):
        name = name or request.node.name
        q = U.UsbQemu(stick.path, log_path=os.path.join(logs, "%s-%d.log" % (name, len(started))),
                      **kw)
        started.append(q)
        return q.start()
    yield _boot
    for q in started:
        q.stop()


def sh(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="session")
def guest(image):
    """The system tests' PV guest (board/board.mk: the kernel `vmlinuz`,
    `guest-initramfs.cpio.gz`), beside the image: `make usb-check` builds
    them; the stick itself carries no guest."""
    d = os.path.dirname(image)
    files = {"kernel": os.environ.get("XB_GUEST_KERNEL") or os.path.join(d, "vmlinuz"),
             "initrd": os.environ.get("XB_GUEST_INITRD") or
             os.path.join(d, "guest-initramfs.cpio.gz")}
    for f in files.values():
        if not os.path.exists(f):
            pytest.skip("%s is missing: make guest-initramfs linux (O= the image's)" % f)
    for tool in ("resize2fs",):
        if not shutil.which(tool) and not os.path.exists("/sbin/" + tool):
            pytest.skip("%s is missing (support/deps.sh installs it)" % tool)
    return files
