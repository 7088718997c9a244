"""The connection layer under awkward clients (issue 11): Expect: 100-continue,
long CORS heads, pipelining over TLS to a slow reader, idle connections at
the cap, running out of file descriptors, a save whose fsync fails."""
import os
import resource
import socket
import ssl
import time
import xmlrpc.client

import pytest

from conftest import PASSWORD, Daemon, ok


# ---- a stats save whose fsync fails ----

def test_stats_save_failure_keeps_no_descriptor(state_dir):
    """stats.rrd.tmp as a symlink to /dev/zero: the write succeeds, fsync
    fails (EINVAL).  The failure is reported and the descriptor closed."""
    conf = os.path.join(state_dir, "xenbox.conf")
    with open(conf, "w") as f:
        f.write("stats_save_interval = 1\n")
    os.symlink("/dev/zero", os.path.join(state_dir, "stats.rrd.tmp"))
    d = Daemon(state_dir).start(extra=("--config", conf))
    try:
        deadline = time.time() + 30
        while "stats: saving" not in d.read_log():
            assert time.time() < deadline, d.read_log()
            time.sleep(0.2)
        fds = "/proc/%d/fd" % d.proc.pid
        targets = [os.readlink(os.path.join(fds, n)) for n in os.listdir(fds)]
        assert "/dev/zero" not in targets, targets
    finally:
        rc = d.stop()
    assert rc == 0, d.read_log()


# ---- paths that do not fit the fixed buffers ----

def long_dir(base, total):
    """A directory whose path is `total` bytes long (components < 255)."""
    path = base
    while len(path) < total:
        path = os.path.join(path, "d" * min(200, total - len(path) - 1))
    os.makedirs(path)
    assert len(path) == total
    return path


def test_state_directory_too_long_is_an_error(state_dir):
    """A path cut short by a fixed buffer would name another file: the
    daemon and `xenbox passwd` say so and stop instead."""
    from conftest import XENBOX
    import subprocess
    d = long_dir(state_dir, 595)

    def entries():
        return {os.path.join(p, n) for p, ds, fs in os.walk(state_dir) for n in ds + fs}
    before = entries()
    r = subprocess.run([XENBOX, "passwd", "--state-dir", d], input="pw\n", text=True,
                       capture_output=True)
    assert r.returncode != 0 and "too long" in r.stderr, r
    log = os.path.join(state_dir, "long.log")
    with open(log, "w") as f:
        r = subprocess.run([XENBOX, "daemon", "--state-dir", d, "--backend", "sim",
                            "--http", "", "--https", "", "--unix", ""],
                           stdout=f, stderr=subprocess.STDOUT, timeout=30)
    text = open(log).read()
    assert r.returncode != 0 and "too long" in text, text
    # nothing was made under a cut-short name
    assert entries() - before == {log}, entries() - before
