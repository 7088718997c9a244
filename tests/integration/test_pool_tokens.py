"""Pools, stage 3a (docs/POOL.md 3.1, 3.2): join tokens over XML-RPC,
JSON-RPC and the `xenbox pool token` command line, the internal pool_token
class kept off the API, and the pool_* keys of xenbox.conf."""
import datetime
import hashlib
import os
import re
import sqlite3
import subprocess
import time

from conftest import XENBOX, Daemon, fails, ok

TOKEN_RE = re.compile(r"^xbt1-([0-9a-f]{16})-([0-9a-f]{64})$")


def tokens_by_id(p, s):
    return {t["id"]: t for t in ok(p.pool.get_join_tokens(s))}


def test_tokens_over_xmlrpc(daemon):
    p, s = daemon.login()
    tok = ok(p.pool.create_join_token(s, "3", "7200", "batch of sticks"))
    m = TOKEN_RE.match(tok)
    assert m, tok
    tid, secret = m.groups()
    # defaults: one use, 24 h
    tok1 = ok(p.pool.create_join_token(s))
    tid1 = TOKEN_RE.match(tok1).group(1)
    listed = tokens_by_id(p, s)
    assert listed[tid]["label"] == "batch of sticks"
    assert listed[tid]["uses_left"] == "3" and listed[tid]["state"] == "valid"
    assert listed[tid]["revoked"] == "false" and listed[tid]["used_by"] == ""
    assert listed[tid1]["uses_left"] == "1"
    assert set(listed[tid]) == {"id", "label", "uses_left", "created", "expires",
                                "revoked", "state", "used_by"}
    # shown once: never the secret or its hash again
    raw = str(ok(p.pool.get_join_tokens(s)))
    assert secret not in raw and hashlib.sha256(secret.encode()).hexdigest() not in raw
    assert tok not in raw

    ok(p.pool.revoke_join_token(s, tid))
    assert tokens_by_id(p, s)[tid]["state"] == "revoked"
    ok(p.pool.revoke_join_token(s, tid))            # again: no change, no error
    fails(p.pool.revoke_join_token(s, "0123456789abcdef"), "UUID_INVALID")
    # the whole token names it too, and the error never echoes a secret
    bad = "xbt1-ffffffffffffffff-" + secret
    r = fails(p.pool.revoke_join_token(s, bad), "UUID_INVALID")
    assert secret not in str(r)

    # bad input: XAPI-style errors, the daemon carries on
    r = fails(p.pool.create_join_token(s, "0", "60", ""), "INVALID_VALUE", "uses")
    assert "1 to 10000" in r[2]
    fails(p.pool.create_join_token(s, "1", str(31 * 86400), ""), "INVALID_VALUE", "ttl_seconds")
    fails(p.pool.create_join_token(s, "1", "0", ""), "INVALID_VALUE", "ttl_seconds")
    fails(p.pool.create_join_token(s, "1", "60", "x" * 256), "INVALID_VALUE", "label")
    fails(p.pool.create_join_token(s, "many", "60", ""), "FIELD_TYPE_ERROR", "uses")
    fails(p.pool.create_join_token(s, "1", "60", "", "extra"),
          "MESSAGE_PARAMETER_COUNT_MISMATCH")
    # without a valid session: refused
    fails(p.pool.create_join_token("OpaqueRef:nope", "1", "60", ""), "SESSION_INVALID")
    fails(p.pool.get_join_tokens("OpaqueRef:nope"), "SESSION_INVALID")

    # listed among the methods; the internal classes are not
    methods = p.system.listMethods()
    assert "pool.create_join_token" in methods and "pool.get_join_tokens" in methods
    assert "pool.revoke_join_token" in methods
    assert not [x for x in methods if re.match(r"(Async\.)?pool_", x)]
    ev = ok(getattr(p.event, "from")(s, ["*"], "", 0.0))
    assert "pool_token" not in ev["valid_ref_counts"]
    assert all(e["class"] != "pool_token" for e in ev["events"])
    fails(getattr(p.event, "from")(s, ["pool_token"], "", 0.0), "EVENT_SUBSCRIPTION_PARSE_FAILURE")
    fails(p.pool_token.get_all(s), "MESSAGE_METHOD_UNKNOWN")
    fails(p.pool_token.get_all_records(s), "MESSAGE_METHOD_UNKNOWN")

    # nothing secret in the log: tokens are named by id only
    log = daemon.read_log()
    assert tid in log and secret not in log


def test_tokens_over_jsonrpc(daemon):
    s = daemon.jsonrpc("session.login_with_password", ["root", "s3cret-for-tests"])["result"]
    r = daemon.jsonrpc("pool.create_join_token", [s, 2, 600, "json"])
    tok = r["result"]
    tid, secret = TOKEN_RE.match(tok).groups()
    r = daemon.jsonrpc("pool.get_join_tokens", [s])
    mine = [t for t in r["result"] if t["id"] == tid]
    assert mine and mine[0]["uses_left"] == "2" and mine[0]["label"] == "json"
    assert secret not in str(r)
    r = daemon.jsonrpc("pool.create_join_token", [s, 1, 2592001, ""])
    assert r["error"]["message"] == "INVALID_VALUE", r
    assert r["error"]["data"][0] == "ttl_seconds"
    r = daemon.jsonrpc("pool.create_join_token", [s, 1, 60, ""], v2=False)
    assert r["error"] is None and TOKEN_RE.match(r["result"])
    r = daemon.jsonrpc("pool.revoke_join_token", [s, tid])
    assert "error" not in r or r.get("error") is None, r
    r = daemon.jsonrpc("pool.get_join_tokens", ["OpaqueRef:bogus"])
    assert r["error"]["message"] == "SESSION_INVALID"


def test_tokens_persist_hashed(state_dir):
    """pool_token is persisted like any class, as SHA-256 of the secret;
    the secret is in neither the database nor the log."""
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        tok = ok(p.pool.create_join_token(s, "5", "3600", "kept"))
        tid, secret = TOKEN_RE.match(tok).groups()
    finally:
        assert d.stop() == 0
    db = sqlite3.connect(os.path.join(state_dir, "xenbox.db"))
    rows = db.execute("SELECT token_id, hash, label, uses_left FROM pool_token").fetchall()
    db.close()
    mine = [r for r in rows if r[0] == tid]
    assert len(mine) == 1, rows
    assert mine[0][:3] == (tid, hashlib.sha256(secret.encode()).hexdigest(), "kept"), rows
    assert str(mine[0][3]) == "5", rows
    for name in os.listdir(state_dir):
        path = os.path.join(state_dir, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                assert secret.encode() not in f.read(), name
    d = Daemon(state_dir).start()
    try:
        p, s = d.login()
        t = tokens_by_id(p, s)[tid]
        assert t["uses_left"] == "5" and t["label"] == "kept" and t["state"] == "valid"
    finally:
        assert d.stop() == 0


def pool_cli(d, *args):
    return subprocess.run([XENBOX, "pool", "--unix", d.unix, *args],
                          capture_output=True, text=True, timeout=60)


def test_cli_round_trip(daemon):
    r = pool_cli(daemon, "token", "create", "--uses", "4", "--ttl", "2h", "--label", "rack 7")
    assert r.returncode == 0, r
    tok = r.stdout.strip()
    tid, secret = TOKEN_RE.match(tok).groups()
    assert "shown once" in r.stderr

    r = pool_cli(daemon, "token", "list")
    assert r.returncode == 0, r
    line = [x for x in r.stdout.splitlines() if x.startswith(tid)]
    assert line and "rack 7" in line[0] and " 4 " in line[0] and "valid" in line[0], r.stdout
    assert secret not in r.stdout

    # the API sees what the CLI made, with the ttl it asked for
    p, s = daemon.login()
    t = tokens_by_id(p, s)[tid]
    assert t["uses_left"] == "4" and t["label"] == "rack 7"

    r = pool_cli(daemon, "token", "revoke", tid)
    assert r.returncode == 0, r
    r = pool_cli(daemon, "token", "list")
    assert [x for x in r.stdout.splitlines() if x.startswith(tid)][0].split()[3] == "revoked"

    # errors: the daemon's, and the command line's own
    r = pool_cli(daemon, "token", "revoke", "0123456789abcdef")
    assert r.returncode == 1 and "UUID_INVALID" in r.stderr, r
    r = pool_cli(daemon, "token", "create", "--ttl", "31d")
    assert r.returncode == 1 and "INVALID_VALUE" in r.stderr and "ttl_seconds" in r.stderr, r
    r = pool_cli(daemon, "token", "create", "--uses", "lots")
    assert r.returncode == 1 and "FIELD_TYPE_ERROR: uses" in r.stderr, r
    r = pool_cli(daemon, "token", "create", "--uses", "0")
    assert r.returncode == 1 and "INVALID_VALUE: uses" in r.stderr, r
    r = pool_cli(daemon, "token", "create", "--ttl", "soon")
    assert r.returncode == 2 and "--ttl soon" in r.stderr, r
    r = pool_cli(daemon, "token", "create", "--uses")
    assert r.returncode == 2 and "usage" in r.stderr, r
    r = pool_cli(daemon, "token", "frobnicate")
    assert r.returncode == 2 and "usage" in r.stderr, r
    r = subprocess.run([XENBOX, "pool", "--unix", daemon.unix + ".none", "token", "list"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "is the daemon running" in r.stderr, r
    assert secret not in daemon.read_log()


def test_cli_ttl_units(daemon):
    p, s = daemon.login()
    for arg, secs in (("90", 90), ("90s", 90), ("30m", 1800), ("24h", 86400), ("30d", 2592000)):
        r = pool_cli(daemon, "token", "create", "--ttl", arg)
        assert r.returncode == 0, r
        tid = TOKEN_RE.match(r.stdout.strip()).group(1)
        t = tokens_by_id(p, s)[tid]
        fmt = "%Y%m%dT%H:%M:%SZ"
        span = (datetime.datetime.strptime(t["expires"], fmt) -
                datetime.datetime.strptime(t["created"], fmt)).total_seconds()
        assert span == secs, (arg, t)


def write_conf(state_dir, text):
    conf = os.path.join(state_dir, "xenbox.conf")
    with open(conf, "w") as f:
        f.write(text)
    return conf


def check_config(conf):
    return subprocess.run([XENBOX, "daemon", "--config", conf, "--check-config"],
                          capture_output=True, text=True, timeout=30)


FPR = ":".join(["3A"] * 32)
TOKEN = "xbt1-7f3a9c21d04e55b2-" + "9" * 64


def test_pool_config_errors_with_file_and_line(state_dir):
    conf = write_conf(state_dir,
                      "# pool\n"
                      "pool_master = 203.0.113.5\n"
                      "pool_dead_after = 2\n"
                      "pool_dead_after = 3601\n"
                      "pool_metrics_interval = -1\n"
                      "pool_fingerprint = 3A:5E\n"
                      "pool_token = xbt1-nothex\n"
                      "pool_master = host:99999\n"
                      "pool_master = [2001:db8::1\n"
                      "pool_relay_domain = bad_domain!\n"
                      "pool_client_address = not an address\n"
                      "pool_address = a:b:c\n")
    r = check_config(conf)
    assert r.returncode == 1, r
    for line, what in ((2, "pool_master: needs pool_fingerprint"),
                       (3, "pool_dead_after: expected a whole number, 3 to 3600"),
                       (4, "pool_dead_after: expected a whole number, 3 to 3600"),
                       (5, "pool_metrics_interval: expected a whole number, 0 to 3600"),
                       (6, "pool_fingerprint: expected a SHA-256 fingerprint"),
                       (7, "pool_token: expected a join token"),
                       (8, "pool_master: expected HOST[:PORT] or [IPv6]:PORT"),
                       (9, "pool_master: expected HOST[:PORT] or [IPv6]:PORT"),
                       (10, "pool_relay_domain: expected a host name"),
                       (11, "pool_client_address: expected a host name or an address"),
                       (12, "pool_address: expected HOST[:PORT] or [IPv6]:PORT")):
        assert "%s:%d: %s" % (conf, line, what) in r.stderr, r.stderr
    assert "xbt1-nothex" not in r.stderr        # a bad token is not echoed

    # a fingerprint but no credential: fine for the file (a joined member
    # needs none); the daemon checks it against its membership at start
    # (test_pool_chan.py)
    conf = write_conf(state_dir, "pool_fingerprint = %s\npool_master = [2001:db8::1]:8443\n"
                      "pool_username = root\n" % FPR)
    r = check_config(conf)
    assert r.returncode == 0, r.stderr

    # token and password both: a warning, the token wins; not an error
    conf = write_conf(state_dir, "pool_master = master.example:8443\n"
                      "pool_fingerprint = %s\npool_token = %s\npool_username = root\n"
                      "pool_password = hunter2\npool_dead_after = 3\n"
                      "pool_metrics_interval = 0\npool_relay_domain = pool.example\n"
                      "pool_client_address = 2001:db8::5\n" % (FPR.lower(), TOKEN))
    r = check_config(conf)
    assert r.returncode == 0, r
    assert "%s:5: pool_password: pool_token is given too; the token is used" % conf in r.stderr
    assert "hunter2" not in r.stderr and TOKEN not in r.stderr


def test_pool_master_is_not_silently_ignored(state_dir):
    """A complete pool_master starts a join at once, said with the
    XENBOX-POOL marker the console copies; the secrets stay out of the log.
    (Loopback only: a closed port, so nothing answers.)"""
    conf = write_conf(state_dir, "pool_master = 127.0.0.1:1\n"
                      "pool_fingerprint = %s\npool_token = %s\n" % (FPR.replace(":", ""), TOKEN))
    d = Daemon(state_dir).start(["--config", conf])
    try:
        d.login()
        deadline = time.time() + 10
        while "cannot reach" not in d.read_log() and time.time() < deadline:
            time.sleep(0.1)
        log = d.read_log()
        assert "XENBOX-POOL joining 127.0.0.1:1 with token 7f3a9c21d04e55b2" in log, log
        assert "XENBOX-POOL error: cannot reach 127.0.0.1:1: Connection refused; retry in" \
            in log, log
        assert TOKEN[22:] not in log
    finally:
        assert d.stop() == 0
