"""System tests: real Xen + our dom0 under QEMU (TCG).  docs/SYSTEM_TESTS.md.

Each test module boots one QEMU (module-scoped fixture) and its tests share
it.  Skipped, with the reason, when QEMU is missing or the images are not
built (`make system-images`; XB_SYSTEM_IMAGES names the images directory,
default output/images); failed instead with XB_SYSTEM_REQUIRED=1, as
`make check` runs them.  When a test fails, the Xen and dom0 consoles are
attached to its report; every console log is kept in
$XB_SYSTEM_LOGS (default: <images>/../system-logs/).
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu as Q  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "system: boots Xen + dom0 under QEMU (tests/system, slow-ish)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/system/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.system)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for name in getattr(item, "fixturenames", ()):
            q = item.funcargs.get(name) if hasattr(item, "funcargs") else None
            if isinstance(q, Q.Qemu):
                rep.sections.append(("QEMU consoles (%s)" % name, q.report()))


def _images_or_skip():
    why = Q.qemu_missing()
    if why:
        Q.skip_or_fail(why)
    try:
        return Q.images()
    except Q.QemuError as e:
        Q.skip_or_fail(str(e))


@pytest.fixture(scope="session")
def system_images():
    return _images_or_skip()


@pytest.fixture(scope="session")
def pwhash(system_images):
    return Q.password_hash(Q.PASSWORD, os.path.join(system_images, "xenbox"))
