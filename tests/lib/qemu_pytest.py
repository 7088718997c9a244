"""pytest hooks shared by the suites that boot QEMU (tests/system,
tests/usb): their conftest.py imports them.

- CI=true turns a skip into a failure (ci_skips.py);
- the `system` marker, given to every test below the conftest's folder
  (`pytest -m system`, `-m "not system"`);
- a failing test's report carries the console of each QEMU among its
  fixtures (QemuConsole.report(): the last lines, or for the system
  tests Xen's and dom0's consoles apart)."""
import os

import pytest

import ci_skips
from qemuconsole import QemuConsole


def pytest_configure(config):
    ci_skips.register(config)       # CI=true: a skip fails
    config.addinivalue_line(
        "markers", "system: boots Xen + dom0 under QEMU (tests/system, tests/usb; slow-ish)")


def mark_system(items, folder):
    """Mark the collected tests below folder (a conftest's own)."""
    folder = os.path.abspath(folder) + os.sep
    for item in items:
        if os.path.abspath(str(item.fspath)).startswith(folder):
            item.add_marker(pytest.mark.system)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for name in getattr(item, "fixturenames", ()):
            q = item.funcargs.get(name) if hasattr(item, "funcargs") else None
            if isinstance(q, QemuConsole):
                rep.sections.append(("QEMU console (%s)" % name, q.report()))
