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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import qemu as Q  # noqa: E402
from qemu_pytest import mark_system, pytest_configure, pytest_runtest_makereport  # noqa: E402,F401


def pytest_collection_modifyitems(config, items):
    mark_system(items, HERE)


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
