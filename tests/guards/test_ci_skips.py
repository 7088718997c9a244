"""CI=true: a skip fails, in every pytest suite (tests/lib/ci_skips.py).

Each suite's conftest (and the helpers it imports) is copied beside
tests/lib into a temporary tree with probe tests that skip the ways tests
do; pytest runs there with and without CI=true."""
import glob
import os
import re
import shutil
import subprocess
import sys

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TESTS = os.path.join(TOP, "tests")
# every folder of tests/ that holds pytest tests is a suite
SUITES = sorted(os.path.basename(os.path.dirname(p))
                for p in glob.glob(os.path.join(TESTS, "*", "conftest.py"))
                if glob.glob(os.path.join(os.path.dirname(p), "test_*.py")))

PROBE = '''
import pytest
import ci_skips


def test_skip_in_body():
    pytest.skip("probe: a tool is missing")


@pytest.mark.skip(reason="probe: skip marker")
def test_skip_marker():
    pass


@pytest.fixture
def needs_file():
    pytest.skip("probe: a file is missing")


def test_skip_in_fixture(needs_file):
    pass


def test_inherent():
    ci_skips.inherent_skip("xen-host")


def test_passes():
    pass
'''

MODULE_SKIP = '''
import pytest

pytest.skip("probe: module-level skip", allow_module_level=True)


def test_never():
    pass
'''


def copy_suite(tmp_path, suite):
    root = tmp_path / "tests"
    shutil.copytree(os.path.join(TESTS, "lib"), root / "lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (root / suite).mkdir()
    for p in glob.glob(os.path.join(TESTS, suite, "*.py")):
        if not os.path.basename(p).startswith("test_"):
            shutil.copy(p, root / suite)
    return root / suite


def pytest_run(folder, name, ci):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "-rA", name], cwd=folder, env=env, capture_output=True, text=True,
                       timeout=120)
    return r.returncode, r.stdout + r.stderr


def counts(out):
    last = [l for l in out.splitlines() if re.search(r"\d+ (passed|failed|skipped|errors?)", l)]
    return {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|skipped|errors?)",
                                             last[-1])} if last else {}


def test_every_suite_is_covered():
    assert {"integration", "build", "usb", "system"} <= set(SUITES), SUITES


@pytest.mark.parametrize("suite", SUITES)
def test_ci_turns_skips_into_failures(tmp_path, suite):
    d = copy_suite(tmp_path, suite)
    (d / "test_zz_probe.py").write_text(PROBE)
    rc, out = pytest_run(d, "test_zz_probe.py", ci=True)
    c = counts(out)
    assert rc != 0, out
    # body -> failed; marker and fixture skips happen at setup -> errors
    assert c.get("failed", 0) + c.get("error", 0) + c.get("errors", 0) == 3, out
    assert c.get("skipped") == 1 and c.get("passed") == 1, out    # the inherent one stays
    assert "a skip fails on CI" in out and "probe: a tool is missing" in out, out


@pytest.mark.parametrize("suite", SUITES)
def test_without_ci_a_skip_stays_a_skip(tmp_path, suite):
    d = copy_suite(tmp_path, suite)
    (d / "test_zz_probe.py").write_text(PROBE)
    rc, out = pytest_run(d, "test_zz_probe.py", ci=False)
    assert rc == 0, out
    assert counts(out) == {"passed": 1, "skipped": 4}, out


@pytest.mark.parametrize("suite", SUITES)
def test_ci_fails_a_module_level_skip(tmp_path, suite):
    d = copy_suite(tmp_path, suite)
    (d / "test_zz_modskip.py").write_text(MODULE_SKIP)
    rc, out = pytest_run(d, "test_zz_modskip.py", ci=True)
    assert rc != 0, out
    assert "probe: module-level skip" in out, out
    rc, out = pytest_run(d, "test_zz_modskip.py", ci=False)
    # a skip, though pytest's exit status says it ran no test (5)
    assert rc in (0, 5) and counts(out) == {"skipped": 1}, out


def test_an_unknown_inherent_key_is_an_error():
    sys.path.insert(0, os.path.join(TESTS, "lib"))
    import ci_skips
    with pytest.raises(KeyError):
        ci_skips.inherent_skip("no-such-reason")
