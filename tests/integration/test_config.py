"""xenbox.conf and the command line: mistakes are reported with file and
line, and the daemon still comes up with defaults."""
import os
import subprocess

from conftest import PASSWORD, XENBOX, Daemon, ok


def test_bad_lines_reported_daemon_starts(state_dir):
    conf = os.path.join(state_dir, "xenbox.conf")
    with open(conf, "w") as f:
        f.write("# a comment\n"
                "\n"
                "hostname = \"edge-17\"\n"
                "colour = blue\n"
                "this line has no equals sign\n"
                "clean_shutdown_timeout = soon\n"
                "backend = kvm\n"
                "log_level = 2\n"
                "x = " + "y" * 2000 + "\n"
                "   \n")
    d = Daemon(state_dir).start(["--config", conf])
    try:
        log = d.read_log()
        for line, what in ((4, "colour: unknown key"), (5, "expected 'key = value'"),
                           (6, "clean_shutdown_timeout: expected a whole number"),
                           (7, "backend: backend must be xen, sim or none"), (9, "line too long")):
            assert "%s:%d: %s" % (conf, line, what) in log, log
        p, s = d.login()
        host = ok(p.host.get_record(s, ok(p.host.get_all(s))[0]))
        assert host["hostname"] == "edge-17" and host["name_label"] == "edge-17"
    finally:
        assert d.stop() == 0


def test_missing_config_file_uses_defaults(state_dir):
    d = Daemon(state_dir).start(["--config", "/nonexistent/xenbox.conf"])
    try:
        assert "/nonexistent/xenbox.conf: No such file or directory" in d.read_log()
        d.login()
    finally:
        d.stop()


def test_password_hash_in_config(state_dir):
    h = subprocess.run([XENBOX, "passwd", "--print"], input="from-conf\n", text=True,
                       capture_output=True, check=True).stdout.strip()
    assert h.startswith("pbkdf2-sha256$") and "from-conf" not in h
    conf = os.path.join(state_dir, "xenbox.conf")
    with open(conf, "w") as f:
        f.write("root_password_hash = %s\n" % h)
    d = Daemon(state_dir).start(["--config", conf])
    try:
        p = d.proxy()
        assert p.session.login_with_password("root", "from-conf")["Status"] == "Success"
        assert p.session.login_with_password("root", PASSWORD)["Status"] == "Failure"
    finally:
        d.stop()


def test_command_line_errors(tmp_path):
    r = subprocess.run([XENBOX, "daemon", "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown option '--bogus'" in r.stderr
    r = subprocess.run([XENBOX, "daemon", "--state-dir"], capture_output=True, text=True)
    assert r.returncode == 2 and "--state-dir needs a value" in r.stderr
    r = subprocess.run([XENBOX, "daemon", "--state-dir", str(tmp_path), "--backend", "sim",
                        "--http", "127.0.0.1:notaport", "--https", "", "--unix", ""],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "bad port" in r.stderr
    r = subprocess.run([XENBOX, "nope"], capture_output=True, text=True)
    assert r.returncode == 127 and "unknown applet 'nope'" in r.stderr
    r = subprocess.run([XENBOX, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "daemon" in r.stdout and "passwd" in r.stdout
    r = subprocess.run([XENBOX, "passwd", "--state-dir", str(tmp_path)], input="\n",
                       capture_output=True, text=True)
    assert r.returncode == 1 and "empty password" in r.stderr
    assert not (tmp_path / "passwd").exists()


def test_check_config_for_the_usb_boot(state_dir):
    """`--check-config`: the USB image's boot keys checked with FILE:LINE,
    printed as sh assignments (quoted), exit 1 when a line was bad."""
    conf = os.path.join(state_dir, "xenbox.conf")
    with open(conf, "w") as f:
        f.write("hostname = edge-2\n"
                "network = static\n"
                "address = 10.1.2.3/24\n"
                "gateway = 10.1.2.1\n"
                "dns = 10.1.2.1, 9.9.9.9\n"
                "ntp = pool.ntp.org,ntp.example\n"
                "console_password_hash = $6$salt$abc\n"
                "pool_master = 10.1.2.9\n"
                "address = 10.1.2.300/24\n"
                "gateway = nowhere\n"
                "ntp = bad;name\n"
                "hostname = it's\n"
                "console_password_hash = plain\n"
                "network = wifi\n"
                "console = login\n"
                "console = kiosk\n")
    r = subprocess.run([XENBOX, "daemon", "--config", conf, "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, r
    assert r.stdout.split("\n") == [
        "xb_hostname='edge-2'", "xb_network='static'", "xb_address='10.1.2.3/24'",
        "xb_gateway='10.1.2.1'", "xb_dns='10.1.2.1, 9.9.9.9'",
        "xb_ntp='pool.ntp.org,ntp.example'", "xb_console_password_hash='$6$salt$abc'",
        "xb_console='login'", ""], r.stdout
    for line, what in ((9, "address: expected an IPv4 address"), (10, "gateway: expected an IPv4"),
                       (11, "ntp: expected server names"), (12, "hostname: expected a host name"),
                       (13, "console_password_hash: expected a SHA-512"),
                       (14, "network: expected dhcp or static"),
                       (16, "console: expected menu or login")):
        assert "%s:%d: %s" % (conf, line, what) in r.stderr, r.stderr

    # static without an address falls back to DHCP, reported on its line.
    with open(conf, "w") as f:
        f.write("# nothing else\nnetwork = static\n")
    r = subprocess.run([XENBOX, "daemon", "--config", conf, "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "xb_network='dhcp'" in r.stdout, r
    assert "%s:2: network: static needs an address line; using dhcp" % conf in r.stderr
    with open(conf, "w") as f:
        f.write("hostname = ok\n")
    r = subprocess.run([XENBOX, "daemon", "--config", conf, "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stderr == "" and "xb_hostname='ok'" in r.stdout, r


def test_check_config_management_nic_and_vlan(state_dir):
    """management_nic: one NIC or two (a bond), each a name or a MAC;
    vlan: 1..4094.  Bad values reported with FILE:LINE, the good ones
    handed to the boot."""
    conf = os.path.join(state_dir, "xenbox.conf")
    with open(conf, "w") as f:
        f.write("management_nic = eth1\n"
                "vlan = 42\n"
                "management_nic = 52:54:00:AB:cd:01, eth0\n"
                "management_nic = eth0, eth1, eth2\n"
                "management_nic = ,\n"
                "management_nic = eth0/1\n"
                "management_nic = a-name-far-too-long\n"
                "management_nic = eth*\n"
                "vlan = 0\n"
                "vlan = 4095\n"
                "vlan = ten\n")
    r = subprocess.run([XENBOX, "daemon", "--config", conf, "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, r
    assert "xb_management_nic='52:54:00:AB:cd:01, eth0'\nxb_vlan='42'\n" in r.stdout, r.stdout
    for line in (4, 5, 6, 7, 8):
        assert "%s:%d: management_nic: expected a network card's name or MAC" % (
            conf, line) in r.stderr, r.stderr
    for line in (9, 10, 11):
        assert "%s:%d: vlan: expected a VLAN id, 1 to 4094" % (conf, line) in r.stderr, r.stderr
    with open(conf, "w") as f:
        f.write("hostname = ok\n")
    r = subprocess.run([XENBOX, "daemon", "--config", conf, "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert "management_nic" not in r.stdout and "vlan" not in r.stdout, r


def test_unix_socket_directory_is_created(state_dir, tmp_path):
    """--unix in a directory that does not exist yet: the daemon makes it
    (and its parents), 0755, and the socket answers; an existing directory
    keeps its mode."""
    import stat
    sock = tmp_path / "new" / "dir" / "xapi"
    d = Daemon(state_dir)
    d.start(["--unix", str(sock)])
    try:
        assert stat.S_ISSOCK(os.stat(sock).st_mode)
        for p in (sock.parent, sock.parent.parent):
            assert stat.S_IMODE(os.stat(p).st_mode) == 0o755, oct(os.stat(p).st_mode)
        d.unix = str(sock)
        u = d.unix_proxy()
        ok(u.session.login_with_password("root", ""))
    finally:
        assert d.stop() == 0
    os.chmod(sock.parent, 0o700)
    d.start(["--unix", str(sock)])
    try:
        assert stat.S_IMODE(os.stat(sock.parent).st_mode) == 0o700
    finally:
        assert d.stop() == 0
    # a path whose parent is a file: a clear error at start, exit 1
    (tmp_path / "file").write_text("x")
    r = subprocess.run([XENBOX, "daemon", "--state-dir", state_dir, "--backend", "sim",
                        "--http", "", "--https", "", "--unix", str(tmp_path / "file" / "sock")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and str(tmp_path / "file") in r.stderr, r


def test_management_interface_key(state_dir):
    conf = os.path.join(state_dir, "xenbox.conf")
    with open(conf, "w") as f:
        f.write("management_interface = eth0:1\n"
                "management_interface = a-name-far-too-long\n"
                "management_interface = lo\n")
    d = Daemon(state_dir).start(["--config", conf])
    try:
        log = d.read_log()
        for n in (1, 2):
            assert "%s:%d: management_interface: expected a network interface name" % (
                conf, n) in log, log
        p, s = d.login()
        host = ok(p.host.get_record(s, ok(p.host.get_all(s))[0]))
        assert host["address"] == "127.0.0.1"          # lo, as named
    finally:
        assert d.stop() == 0


def test_state_directory_is_created_with_its_parents(tmp_path):
    """The sibling of the socket's directory: a --state-dir whose parents
    do not exist yet is made (parents 0755, the state directory 0700)."""
    import stat
    state = tmp_path / "a" / "b" / "state"
    d = Daemon(str(tmp_path))
    d.state = str(state)
    d.start(["--state-dir", str(state) + "/"])
    try:
        d.unix_proxy().session.login_with_password("root", "")
    finally:
        assert d.stop() == 0
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(state.parent).st_mode) == 0o755
    assert (state / "xenbox.db").exists()
