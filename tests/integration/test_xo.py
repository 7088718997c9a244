"""Xen Orchestra's connector (npm xen-api) against the daemon."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import PASSWORD, TOP

XO = os.path.join(TOP, "tests", "xo")


@pytest.fixture(scope="module")
def xo_client():
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node/npm not installed (support/deps.sh installs them)")
    if not os.path.isdir(os.path.join(XO, "node_modules", "xen-api")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=XO, check=True, timeout=600)
    return os.path.join(XO, "client.mjs")


@pytest.mark.parametrize("transport", ["auto", "json-rpc", "xml-rpc"])
def test_xen_orchestra_connector(daemon, xo_client, transport):
    r = subprocess.run(["node", xo_client, daemon.url.rstrip("/"), PASSWORD, transport],
                       capture_output=True, text=True, timeout=120)
    assert r.stdout.strip(), r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert "error" not in out, out
    assert out["connected"] == "connected"
    assert out["pool"].startswith("OpaqueRef:") and out["hosts"] == 1
    assert out["power_state"] == "Running"
    assert out["name_label"] == "renamed-by-xo"
    assert out["error_code"] == "VM_BAD_POWER_STATE"
    assert out["error_params"] == [out["vm"], "halted", "running"]
    assert out["final_state"] == "Halted"
