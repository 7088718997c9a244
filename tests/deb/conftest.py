"""The deb suite: `make deb`'s package in a fresh Debian root.

A minimal bookworm root (debootstrap --variant=minbase, from Debian's
mirror as support/fresh-root.sh makes its root: XB_DEBIAN_MIRROR, default
http://deb.debian.org/debian; nothing else is installed in it) is made
once per session; the tests install the package there with dpkg -i and
run the installed unit's command.  Every command in the root runs in
namespaces of its own (mount, PID; and a fresh network namespace with only
loopback for the daemon), as fresh-root.sh does, so nothing outlives the
suite; the root is removed at the end.

Needs root, debootstrap, unshare, chroot and ip(8); without them the
tests skip, except with CI=true, where that fails.
  XB_DEB              the package (default output/check/images/
                      xenbox_<VERSION>_amd64.deb; `make deb` makes it)
  XB_DEBROOT_CACHE    a tarball of the bootstrapped root: used if it
                      exists, written if not (local iteration only; CI
                      leaves it unset, so each run starts from the mirror)
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "tests" / "lib"))
import ci_skips  # noqa: E402

MIRROR = os.environ.get("XB_DEBIAN_MIRROR", "http://deb.debian.org/debian")
CACHE = os.environ.get("XB_DEBROOT_CACHE")


def pytest_configure(config):
    ci_skips.register(config)       # CI=true: a skip fails


def needs():
    """Skip (a failure on CI) unless this machine can make the root."""
    if os.geteuid() != 0:
        pytest.skip("the deb suite needs root (chroot, mounts, namespaces)")
    for tool in ("debootstrap", "unshare", "chroot", "ip"):
        if not shutil.which(tool):
            pytest.skip("%s is missing (support/deps.sh installs it)" % tool)


def mounted_below(root):
    with open("/proc/self/mountinfo") as f:
        return [l.split()[4] for l in f
                if l.split()[4] == str(root) or l.split()[4].startswith(str(root) + "/")]


# in_root's namespace script: /dev bound, then chroot with a clean env
IN_ROOT = r'''
set -e
root=$1
shift
mount --make-rprivate /
mount --rbind /dev "$root/dev"
exec chroot "$root" /usr/bin/env -i HOME=/root LC_ALL=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive "$@"
'''


def in_root_cmd(root, *argv):
    """argv run as root inside root, in new mount and PID namespaces that
    end with it (--kill-child)."""
    return ["unshare", "--mount", "--pid", "--fork", "--kill-child",
            "--mount-proc=%s/proc" % root, "/bin/sh", "-c", IN_ROOT, "-", str(root), *argv]


def in_root(root, *argv, check=True, **kw):
    r = subprocess.run(in_root_cmd(root, *argv), capture_output=True, text=True,
                       timeout=kw.pop("timeout", 300), **kw)
    if check:
        assert r.returncode == 0, "%s: exit %d\n%s%s" % (argv, r.returncode, r.stdout, r.stderr)
    return r


def bootstrap(root):
    if CACHE and os.path.exists(CACHE):
        subprocess.run(["tar", "-C", str(root), "-xpf", CACHE], check=True)
        return
    # its own mount namespace: the /proc and /sys it mounts go with it
    r = subprocess.run(["unshare", "--mount", "--pid", "--fork", "--kill-child",
                        "--propagation", "private", "debootstrap", "--variant=minbase",
                        "bookworm", str(root), MIRROR],
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, "debootstrap from %s failed:\n%s" % (MIRROR, r.stdout[-3000:] +
                                                                     r.stderr[-3000:])
    # packages' maintainer scripts start no services in a chroot
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    if CACHE:
        subprocess.run(["tar", "-C", str(root), "-cpf", CACHE, "."], check=True)


@pytest.fixture(scope="session")
def deb():
    p = os.environ.get("XB_DEB") or TOP / "output/check/images" / (
        "xenbox_%s_amd64.deb" % (TOP / "VERSION").read_text().strip())
    if not os.path.exists(p):
        pytest.fail("%s is missing: run `make deb` first (or set XB_DEB)" % p)
    return Path(p)


@pytest.fixture(scope="session")
def debroot():
    """A fresh minbase bookworm root, removed at the end."""
    needs()
    work = Path(tempfile.mkdtemp(prefix="xenbox-deb-", dir=os.environ.get("TMPDIR", "/var/tmp")))
    root = work / "root"
    root.mkdir()
    try:
        bootstrap(root)
        yield root
    finally:
        left = mounted_below(root)
        assert not left, "mounts left below the root: %s" % left
        shutil.rmtree(work)
