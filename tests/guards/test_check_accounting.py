"""support/check.sh's accounting (support/suite-result.py) and the import
check the fresh root runs (support/check-imports.py)."""
import os
import subprocess
import sys

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

RESULT = os.path.join(TOP, "support", "suite-result.py")
IMPORTS = os.path.join(TOP, "support", "check-imports.py")


def suite_result(tmp_path, rc, log, *extra, name="s"):
    p = tmp_path / "log"
    p.write_text(log)
    r = subprocess.run([sys.executable, RESULT, name, str(rc), str(p), *extra],
                       capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout.strip()


@pytest.mark.parametrize("rc,log,line,ok", [
    # pytest -q
    (0, "....\n51 passed, 2 skipped in 40.12s\n", "s: 51 passed, 0 failed, 2 skipped", True),
    (1, "F.\n1 failed, 1 passed in 2s\n", "s: 1 passed, 1 failed", False),
    # errors (a setup failure, a skip that CI turned into one) count as failed
    (1, "E.\n1 passed, 2 errors in 2s\n", "s: 1 passed, 2 failed", False),
    (1, "= 3 failed, 7 passed, 1 error in 9s =\n", "s: 7 passed, 4 failed", False),
    # ours: the last summary line counts (cmocka's per-binary lines come before)
    (0, "[  PASSED  ] 33 test(s).\nunit: 144 passed, 0 failed\n", "s: 144 passed, 0 failed", True),
    # a suite that cannot run must fail
    (0, "1 skipped in 0.1s\n", "s: 0 passed, 1 failed, 1 skipped  (ran no test)", False),
    (5, "no tests ran in 0.01s\n", "s: 0 passed, 1 failed  (exited 5 with no test summary)", False),
    (0, "", "s: 0 passed, 1 failed  (ran no test)", False),
    (2, "make: *** [x] Error 2\n", "s: 0 passed, 1 failed  (exited 2 with no test summary)", False),
    # tests passed, then the command failed anyway (a make error after them)
    (2, "3 passed in 1s\nmake: *** Error 1\n", "s: 3 passed, 1 failed  (exited 2 though no test failed)", False),
])
def test_suite_line(tmp_path, rc, log, line, ok):
    got_rc, got = suite_result(tmp_path, rc, log)
    assert got == line
    assert (got_rc == 0) == ok


def test_a_step_counts_once_by_its_status(tmp_path):
    assert suite_result(tmp_path, 0, "size: 995000 of 1048576\n", "--step") == (0, "s: 1 passed, 0 failed")
    assert suite_result(tmp_path, 2, "Error\n", "--step") == (1, "s: 0 passed, 1 failed")


def test_a_missing_log_fails(tmp_path):
    r = subprocess.run([sys.executable, RESULT, "s", "0", str(tmp_path / "none")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "ran no test" in r.stdout


def test_check_sh_accounts_every_suite_it_runs():
    """Every suite check.sh runs goes through suite() (its line and the
    totals), and the fresh root's result is collected."""
    text = open(os.path.join(TOP, "support", "check.sh")).read()
    assert "suite-result.py" in text
    for name in ("guards", "unit", "integration", "integration-musl", "pool", "size", "deb",
                 "build", "fuzz", "usb", "system"):
        assert "\nsuite %s " % name in text, name
    assert 'account fresh-root "$rc"' in text


def test_check_sh_runs_every_pytest_suite():
    """Every folder of tests/ with a conftest and tests is run by check.sh
    (the class of "a suite nobody runs"): named as `-m pytest ... tests/X`
    in a command line that is not a comment, or by its make target."""
    import glob
    by_make = {"usb": "usb-check"}      # board/pc_x86_64_usb/usb.mk runs tests/usb
    lines = [l for l in open(os.path.join(TOP, "support", "check.sh")).read().splitlines()
             if not l.lstrip().startswith("#")]
    text = "\n".join(lines)
    suites = sorted(os.path.basename(os.path.dirname(p))
                    for p in glob.glob(os.path.join(TOP, "tests", "*", "conftest.py"))
                    if glob.glob(os.path.join(os.path.dirname(p), "test_*.py")))
    assert "pool" in suites and "integration" in suites, suites
    for name in suites:
        assert ("tests/%s" % name) in text or by_make.get(name, "\0") in text, \
            "check.sh runs no tests/%s" % name


def test_imports_of_the_suites_resolve():
    r = subprocess.run([sys.executable, IMPORTS], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0 missing" in r.stdout


def test_a_missing_import_is_named(tmp_path):
    d = tmp_path / "t"
    d.mkdir()
    (d / "helper.py").write_text("X = 1\n")
    (d / "test_x.py").write_text("import helper\n\ndef f():\n    import xb_no_such_module\n")
    r = subprocess.run([sys.executable, IMPORTS, str(d)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1, r.stdout
    assert "no module 'xb_no_such_module'" in r.stdout and "test_x.py:4" in r.stdout, r.stdout
    assert "'helper'" not in r.stdout           # our own module
