"""With CI=true a skipped test fails: CI cannot go green by skipping.

Every pytest suite (tests/integration, tests/build, tests/usb,
tests/system) registers this plugin from its conftest's pytest_configure
(register(config); tests/lib/qemu_pytest.py does it for the QEMU suites).
A skip is almost always an environment gap -- a tool, a file, a privilege
missing -- and on CI that is a defect of the install steps
(support/deps.sh), not a reason to pass.

The only skips CI keeps are the inherent ones below, where the skip says
something true about the machine rather than something missing from it.
A test takes one with inherent_skip(KEY); docs/TESTING.md lists them.
Outside CI (CI unset) every skip stays a skip.

Both a test's skip (marker, fixture or body) and a collection-time skip
(pytest.skip(allow_module_level=True), importorskip) are turned into
failures.  xfail is not a skip and is left alone.
"""
import os

import pytest

# KEY: why skipping is the right answer there, whatever the machine has.
INHERENT = {
    "xen-host": "this machine is a Xen host (/dev/xen/privcmd exists): the Xen "
                "backend opens here, so its off-host failure cannot be shown",
}

_PREFIX = "inherent skip "
PLUGIN_NAME = "xb_ci_skips"


def ci():
    """True when the environment says this is CI (CI=true, as CI systems
    and .ci/run's caller set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def inherent_skip(key):
    """Skip for a reason listed in INHERENT; CI keeps this skip."""
    pytest.skip("%s[%s]: %s" % (_PREFIX, key, INHERENT[key]))


def _reason(rep):
    lr = rep.longrepr
    r = str(lr[2]) if isinstance(lr, tuple) and len(lr) == 3 else str(lr)
    # "Skipped: " is what pytest puts before a skip's message
    return r[len("Skipped: "):] if r.startswith("Skipped: ") else r


def _is_inherent(reason):
    if not reason.startswith(_PREFIX + "["):
        return False
    return reason[len(_PREFIX) + 1:].split("]", 1)[0] in INHERENT


def _fail(rep):
    why = _reason(rep)
    rep.outcome = "failed"
    rep.longrepr = ("CI=true: a skip fails on CI (tests/lib/ci_skips.py; only the "
                    "inherent skips listed there may pass). Skipped because: %s" % why)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if (ci() and rep.skipped and not hasattr(rep, "wasxfail")
            and not _is_inherent(_reason(rep))):
        _fail(rep)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    rep = outcome.get_result()
    if ci() and rep.skipped and not _is_inherent(_reason(rep)):
        _fail(rep)


def pytest_report_header(config):
    if ci():
        return "CI=true: skipped tests fail (tests/lib/ci_skips.py)"
    return None


def register(config):
    """Call from a conftest's pytest_configure; once per session however
    many suites' conftests call it."""
    import sys
    mod = sys.modules[__name__]
    if not config.pluginmanager.has_plugin(PLUGIN_NAME) and \
            not config.pluginmanager.is_registered(mod):
        config.pluginmanager.register(mod, PLUGIN_NAME)
