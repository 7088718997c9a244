"""Fixtures for the build tests: two clean, offline builds of the shipped
defconfig, made once per session and shared by every test."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "tests" / "lib"))
import ci_skips  # noqa: E402
DL_DIR = Path(os.environ.get("DL_DIR", TOP / "dl")).resolve()
DEFCONFIG = "qemu_x86_64_defconfig"
JOBS = str(os.cpu_count() or 2)


def pytest_configure(config):
    ci_skips.register(config)       # CI=true: a skip fails
    config.addinivalue_line(
        "markers", "slow_build: needs full clean builds of xenbox (minutes)")


def offline_prefix():
    """A command prefix that runs its command without network, or None."""
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        try:
            if subprocess.run(prefix + ["true"], capture_output=True).returncode == 0:
                return prefix
        except FileNotFoundError:
            return None
    return None


def run(cmd, log, **kw):
    with open(log, "w") as f:
        return subprocess.run(cmd, cwd=TOP, stdout=f, stderr=subprocess.STDOUT, **kw)


class Build:
    def __init__(self, out, log, rc, seconds):
        self.out, self.log, self.rc, self.seconds = out, log, rc, seconds

    @property
    def staging(self):
        return self.out / "staging"

    @property
    def images(self):
        return self.out / "images"

    def log_tail(self, n=40):
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


@pytest.fixture(scope="session")
def offline():
    prefix = offline_prefix()
    if prefix is None:
        pytest.skip("cannot cut the network here (unshare -n needs root or user namespaces)")
    return prefix


@pytest.fixture(scope="session")
def builds(tmp_path_factory, offline):
    """Two clean builds in different O= directories, both with the network
    cut, running side by side (they share nothing but DL_DIR)."""
    base = tmp_path_factory.mktemp("xb-build")
    src = run(["make", "source", f"DL_DIR={DL_DIR}"], base / "source.log")
    if src.returncode != 0:
        pytest.fail("make source failed:\n" + (base / "source.log").read_text())

    # The second build also makes the host flavour of SQLite (for the test
    # that compares it with the target's); images and staging are the same.
    outs = [(base / "a", "all"), (base / "second" / "build-b", "all sqlite3")]
    procs = []
    start = time.monotonic()
    for out, goals in outs:
        log = out.parent / (out.name + ".log")
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = (f"make O={out} DL_DIR={DL_DIR} {DEFCONFIG} >/dev/null && "
               f"make -j{JOBS} O={out} DL_DIR={DL_DIR} {goals}")
        f = open(log, "w")
        procs.append((out, log, f, subprocess.Popen(
            offline + ["sh", "-c", cmd], cwd=TOP, stdout=f, stderr=subprocess.STDOUT)))
    result = []
    for out, log, f, p in procs:
        rc = p.wait()
        f.close()
        result.append(Build(out, log, rc, time.monotonic() - start))
    yield result
    if not os.environ.get("XB_KEEP_BUILD"):
        for out, _ in outs:
            shutil.rmtree(out, ignore_errors=True)


@pytest.fixture(scope="session")
def build(builds):
    b = builds[0]
    if b.rc != 0:
        pytest.fail(f"offline build in {b.out} failed:\n{b.log_tail()}")
    return b


@pytest.fixture(scope="session")
def build_b(builds):
    b = builds[1]
    if b.rc != 0:
        pytest.fail(f"offline build in {b.out} failed:\n{b.log_tail()}")
    return b
