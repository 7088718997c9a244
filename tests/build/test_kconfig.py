"""Kconfig: defconfig/savedefconfig round trip; features switch whole parts
of the binary, which shrinks when they are off and still works."""
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]


def make(out, *args, check=True):
    r = subprocess.run(["make", "-s", "O=%s" % out, *args], cwd=TOP,
                       capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def config_lines(out):
    return [l for l in (out / ".config").read_text().splitlines()
            if l and not l.startswith("# Automatically") and not l.startswith("# 20")]


def test_savedefconfig_round_trip(tmp_path):
    for name in ("qemu_x86_64_defconfig", "pc_x86_64_usb_defconfig"):
        a, b = tmp_path / ("a-" + name), tmp_path / ("b-" + name)
        make(a, name)
        # a change made as menuconfig would, then saved and loaded again
        with open(a / ".config", "a") as f:
            f.write("# CONFIG_XB_JSONRPC is not set\n")
        make(a, "olddefconfig")
        saved = tmp_path / ("saved-" + name)
        make(a, "savedefconfig", "DEFCONFIG=%s" % saved)
        assert "# CONFIG_XB_JSONRPC is not set" in saved.read_text()
        make(b, "defconfig", "DEFCONFIG=%s" % saved)
        assert config_lines(a) == config_lines(b)
    assert "CONFIG_XB_BOARD_PC_X86_64_USB=y" in config_lines(b)


def test_no_config_says_what_to_do(tmp_path):
    r = make(tmp_path / "empty", "all", check=False)
    assert r.returncode != 0 and "make qemu_x86_64_defconfig" in r.stderr


@pytest.mark.slow_build
def test_features_off_shrink_the_binary(tmp_path):
    full, small = tmp_path / "full", tmp_path / "small"
    make(full, "qemu_x86_64_defconfig")
    make(small, "qemu_x86_64_defconfig")
    # kconfig-frontends' fragment merge: switch features off and resolve
    with open(small / ".config", "a") as f:
        for sym in ("XB_TLS", "XB_JSONRPC", "XB_BACKEND_XEN"):
            f.write("# CONFIG_%s is not set\n" % sym)
    make(small, "olddefconfig")
    cfg = (small / ".config").read_text()
    assert "# CONFIG_XB_TLS is not set" in cfg
    assert "CONFIG_XB_PACKAGE_MBEDTLS=y" not in cfg
    for out in (full, small):
        make(out, "-j2", "all")
    fsize = (full / "images/xenbox").stat().st_size
    ssize = (small / "images/xenbox").stat().st_size
    assert ssize < fsize - 100 * 1024, (fsize, ssize)   # mbedTLS alone is ~140 KiB
    assert not list((small / "staging/lib").glob("libmbed*.a"))
    # the small one still serves XML-RPC, and refuses what it lacks
    with tempfile.TemporaryDirectory() as state:
        r = subprocess.run([str(small / "images/xenbox"), "daemon", "--state-dir", state,
                            "--backend", "xen", "--unix", "", "--https", ""],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and "not in this build" in r.stderr
    out = make(small, "size").stdout
    assert "mbedTLS" not in out and re.search(r"budget \d+ KiB", out)
