"""xenbox-io (docs/STORAGE.md 5.1 and 8.2, lever B): the applets that are
not the daemon (passwd, growfs, pool) live in the helper binary; `xenbox
APPLET` execs xenbox-io (next to itself, else in PATH), so each answers
under its old name, from either binary.  Run against the host build and
the shipped one (XENBOX), whose xenbox-io is the file beside it."""
import os
import shutil
import stat
import subprocess

import pytest

from conftest import XENBOX, PASSWORD

IO = os.path.join(os.path.dirname(XENBOX), "xenbox-io")
MOVED = {"passwd", "pool", "growfs", "disk-probe", "xe", "console", "disk-format"}
# xe's syntax is XAPI's: `--x` is the parameter x=true, not an option
OPTION_SYNTAX = MOVED - {"xe"}


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


def applets(binary):
    """The applet names `binary --help` lists."""
    r = run([binary, "--help"])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("Applets in this build:\n", 1)[1].split("\n\n")[0]
    return {l.split()[0] for l in lines.splitlines() if l.strip()}


def test_the_applets_moved_to_xenbox_io():
    mine, io = applets(XENBOX), applets(IO)
    assert "daemon" in mine and not mine & MOVED, mine
    assert {"passwd", "pool"} <= io and "daemon" not in io, io
    assert io <= MOVED, io
    # xenbox's help says where the others went
    assert "xenbox-io" in run([XENBOX, "--help"]).stdout
    assert run([IO, "--version"]).stdout.startswith("xenbox-io ")


@pytest.mark.parametrize("binary", [XENBOX, IO], ids=["xenbox", "xenbox-io"])
def test_each_applet_answers_by_its_old_name(binary):
    """A bad option: each applet's own usage and status, the same through
    xenbox's exec as from xenbox-io itself."""
    for name in sorted(applets(IO) & OPTION_SYNTAX):
        r = run([binary, name, "--no-such-option"])
        want = run([IO, name, "--no-such-option"])
        assert (r.returncode, r.stdout, r.stderr) == (want.returncode, want.stdout, want.stderr)
        assert r.returncode == 2 and "usage: xenbox %s" % name in r.stderr, (name, r)


@pytest.mark.parametrize("binary", [XENBOX, IO], ids=["xenbox", "xenbox-io"])
def test_passwd(binary, tmp_path):
    r = run([binary, "passwd", "--state-dir", str(tmp_path)], input=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    f = tmp_path / "passwd"
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    stored = f.read_text()
    assert stored.startswith("pbkdf2-sha256$100000$") and stored.endswith("\n")
    r = run([binary, "passwd", "--print"], input=PASSWORD + "\n")
    assert r.returncode == 0 and r.stdout.startswith("pbkdf2-sha256$"), r
    assert r.stdout != stored                   # a salt of its own
    r = run([binary, "passwd", "--print"], input="\n")
    assert r.returncode == 1 and "empty password refused" in r.stderr


@pytest.mark.parametrize("binary", [XENBOX, IO], ids=["xenbox", "xenbox-io"])
def test_pool_fingerprint(binary, tmp_path):
    """The certificate's SHA-256 without TLS in xenbox-io: as openssl says."""
    pem = tmp_path / "pool-master.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=t", "-days", "1",
                    "-keyout", str(tmp_path / "key"), "-out", str(tmp_path / "crt")],
                   check=True, capture_output=True)
    # the daemon's file: the certificate, then its key
    pem.write_text((tmp_path / "crt").read_text() + (tmp_path / "key").read_text())
    want = run(["openssl", "x509", "-in", str(pem), "-noout", "-fingerprint", "-sha256"])
    want = want.stdout.strip().split("=", 1)[1]
    r = run([binary, "pool", "fingerprint", "--state-dir", str(tmp_path)])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == want
    os.unlink(pem)
    r = run([binary, "pool", "fingerprint", "--state-dir", str(tmp_path)])
    assert r.returncode == 1 and "pool-master.pem" in r.stderr, r
    pem.write_text((tmp_path / "key").read_text())
    r = run([binary, "pool", "fingerprint", "--state-dir", str(tmp_path)])
    assert r.returncode == 1 and "no certificate" in r.stderr, r


def test_pool_through_the_daemon_from_both(daemon):
    """`pool` talks to the daemon the same way from either binary."""
    a = run([XENBOX, "pool", "--unix", daemon.unix, "token", "list"])
    b = run([IO, "pool", "--unix", daemon.unix, "token", "list"])
    assert a.returncode == 0, a.stderr
    assert (a.returncode, a.stdout) == (b.returncode, b.stdout)
    assert a.stdout.startswith("ID ")


def alone(tmp_path):
    """A copy of xenbox in a directory without xenbox-io."""
    d = tmp_path / "bin"
    d.mkdir()
    shutil.copy2(XENBOX, d / "xenbox")
    return str(d / "xenbox")


def test_xenbox_io_found_in_path(tmp_path):
    xb = alone(tmp_path)
    r = run([xb, "passwd", "--print"], input="pw\n",
            env=dict(os.environ, PATH=os.path.dirname(IO) + ":/usr/bin:/bin"))
    assert r.returncode == 0 and r.stdout.startswith("pbkdf2-sha256$"), r


def test_no_xenbox_io_is_a_clear_error(tmp_path):
    xb = alone(tmp_path)
    env = dict(os.environ, PATH=str(tmp_path / "empty"))
    r = run([xb, "passwd", "--print"], input="pw\n", env=env)
    assert r.returncode == 127, r
    assert "no applet 'passwd' in xenbox, and no xenbox-io" in r.stderr, r.stderr
    assert os.path.dirname(xb) in r.stderr
    # the daemon's own applets do not need it
    assert run([xb, "--version"], env=env).returncode == 0
    r = run([xb, "daemon", "--no-such-option"], env=env)
    assert "xenbox-io" not in r.stderr


def test_an_unknown_applet(tmp_path):
    r = run([XENBOX, "no-such-applet"])
    assert r.returncode == 127
    assert "xenbox-io: unknown applet 'no-such-applet'" in r.stderr, r.stderr
    r = run([XENBOX, "--no-such-option"])
    assert r.returncode == 127 and "xenbox: unknown applet" in r.stderr, r.stderr
