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


@pytest.mark.parametrize("mode", ["fast", "copy"])
def test_xen_orchestra_new_vm(daemon, xo_client, mode):
    """XO's "New VM" from a built-in template, steps 1-8 of
    docs/STORAGE.md 7.4 (tests/xo/newvm.mjs), the records after each."""
    script = os.path.join(os.path.dirname(xo_client), "newvm.mjs")
    r = subprocess.run(["node", script, daemon.url.rstrip("/"), PASSWORD, mode],
                       capture_output=True, text=True, timeout=150)
    assert r.stdout.strip(), r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert "error" not in out, out
    s = {x["step"]: x for x in out["steps"]}
    assert s[1] == {"step": 1, "is_a_template": True, "disks": True}
    assert s[3] == {"step": 3, "is_a_template": False, "vbds": 0}, "XO removed the list first"
    assert [int(x) for x in s[5]["VCPUs"]] == [2, 2]
    assert [int(x) for x in s[5]["memory"]] == [536870912] + [2147483648] * 3
    assert s[5]["tags"] == ["from-xo"] and s[5]["creation"]
    assert s[6]["vbd_devices"] == ["0", "1"]
    assert s[6]["root"] == ["xo-vm system", "root disk", "21474836480"]
    assert (s[6]["allowed_vbd_before"], s[6]["allowed_vbd_after"]) == (16, 14)
    assert s[8]["vifs"] == 1 and s[8]["vif_device"] == "0"
    assert s[8]["mac"].startswith("00:16:3e:") and s[8]["power_state"] == "Halted"
    assert "clone" in s[8]["allowed"] and "snapshot" in s[8]["allowed"]
