"""The guards suite: checks of the project's own rules, fast (seconds):
the include graph against docs/ARCHITECTURE.md, CI's no-skip rule in every
pytest suite, support/check.sh's accounting.  docs/TESTING.md."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
import ci_skips  # noqa: E402


def pytest_configure(config):
    ci_skips.register(config)       # CI=true: a skip fails
