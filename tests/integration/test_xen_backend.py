"""The Xen backend off a Xen host: `xenbox daemon --backend xen` must stop
at once with a message naming what is missing, never hang or crash.

XENBOX_XEN names the binary (default: XENBOX, see conftest); `make check`
points it at the static build, which has the backend, in both integration
runs.  Skipped when that binary has no Xen backend (the host ASan build:
a failure with CI=true) or, inherently, when this machine is a Xen dom0
(then the backend would open)."""
import os
import subprocess

import pytest

import ci_skips
from conftest import XENBOX

BINARY = os.environ.get("XENBOX_XEN", XENBOX)


def run_daemon(state_dir, *extra, timeout=20):
    return subprocess.run(
        [BINARY, "daemon", "--state-dir", state_dir, "--backend", "xen",
         "--http", "127.0.0.1:0", *extra],
        capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def xen_binary(state_dir):
    if not os.path.exists(BINARY):
        pytest.skip("%s is not built" % BINARY)
    if os.path.exists("/dev/xen/privcmd"):
        ci_skips.inherent_skip("xen-host")
    r = run_daemon(state_dir)
    if "is not in this build" in r.stdout + r.stderr:
        pytest.skip("%s has no Xen backend (XENBOX_XEN names one that has)" % BINARY)
    return BINARY


def test_no_privcmd_fails_cleanly(xen_binary, state_dir):
    r = run_daemon(state_dir)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "backend xen: /dev/xen/privcmd: No such file or directory" in out, out
    assert "xen-privcmd" in out, out           # says what to do about it
    for bad in ("AddressSanitizer", "runtime error", "Segmentation"):
        assert bad not in out, out
    # nothing was started: no listener message, no database left open
    assert "http on" not in out and "xenbox 0" not in out, out


def test_help_still_works(xen_binary):
    r = subprocess.run([xen_binary, "--help"], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode == 0
    assert "daemon" in r.stdout + r.stderr
