"""A real Prometheus (Debian's, support/deps.sh installs it) scrapes
/metrics with basic_auth: the job with root's password is up and stores
xenbox's series; the one with a wrong password is down on a 401.  (Both
come from 127.0.0.1: the wrong one scrapes every 10 s, so that its
failures stay below the address's 5 a minute, which would block the good
one too.)  The first good scrape may time out under ASan while its
password is hashed; the check completes and caches it, and the next one
is up; the wrong one's check is never cached, so it has 9 s."""
import json
import os
import shutil
import subprocess
import time
import urllib.request

import pytest

from conftest import PASSWORD, free_port

CONFIG = """global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: good
    basic_auth:
      username: root
      password_file: {pw}
    static_configs:
      - targets: ["127.0.0.1:{port}"]
  - job_name: wrong
    scrape_interval: 10s
    scrape_timeout: 9s
    basic_auth:
      username: root
      password: not-the-password
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


def api(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/%s" % (port, path), timeout=10) as r:
        return json.load(r)["data"]


def test_prometheus_basic_auth(daemon, tmp_path):
    if not shutil.which("prometheus"):
        if os.environ.get("CI") == "true":
            pytest.fail("prometheus is not installed (support/deps.sh installs it)")
        pytest.skip("prometheus is not installed (support/deps.sh installs it)")
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD)
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(CONFIG.format(pw=pw, port=daemon.port))
    port = free_port()
    log = open(tmp_path / "prometheus.log", "w")
    prom = subprocess.Popen(["prometheus", "--config.file=%s" % cfg,
                             "--storage.tsdb.path=%s" % (tmp_path / "tsdb"),
                             "--web.listen-address=127.0.0.1:%d" % port],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        health = {}
        deadline = time.time() + 90
        while time.time() < deadline and not (
                health.get("good") == ("up", "") and "401" in health.get("wrong", ("", ""))[1]):
            time.sleep(0.5)
            try:
                targets = api(port, "targets")["activeTargets"]
            except OSError:
                continue
            health = {t["labels"]["job"]: (t["health"], t["lastError"]) for t in targets}
        assert health.get("good") == ("up", ""), (health, (tmp_path / "prometheus.log").read_text())
        assert health["wrong"][0] == "down" and "401" in health["wrong"][1], health
        series = api(port, "query?query=xenbox_host_cpu_avg")["result"]
        assert [s["metric"]["job"] for s in series] == ["good"], series
    finally:
        prom.terminate()
        prom.wait(30)
        log.close()
