"""support/check-includes.py: the real tree keeps docs/ARCHITECTURE.md's
arrows, and each kind of crossing is caught (in a copy of src/)."""
import os
import shutil
import subprocess
import sys

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CHECK = os.path.join(TOP, "support", "check-includes.py")
RULES = os.path.join(TOP, "docs", "ARCHITECTURE.md")


def run(src=None, rules=RULES):
    cmd = [sys.executable, CHECK, "--rules", rules]
    if src:
        cmd += ["--src", src]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def test_the_tree_keeps_the_documented_graph():
    rc, out = run()
    assert rc == 0, out
    assert " 0 problems" in out, out


@pytest.fixture
def src(tmp_path):
    d = tmp_path / "src"
    shutil.copytree(os.path.join(TOP, "src"), d)
    return d


def add_include(src, rel, line):
    p = src / rel
    p.write_text(p.read_text() + "\n" + line + "\n")


@pytest.mark.parametrize("rel,line,expect", [
    # the codecs know no datamodel, database or hypervisor
    ("http/http.c", '#include "api/api.h"', "http/ includes api/api.h: no arrow http -> api"),
    ("rpc/json.c", '#include "store/store.h"', "no arrow rpc -> store"),
    ("rpc/value.h", '#include "vmm/backend.h"', "no arrow rpc -> vmm"),
    # the backends know no XML
    ("vmm/sim.c", '#include "rpc/xmlrpc.h"', "no arrow vmm -> rpc"),
    # api/ does not reach down into the store, nor up into the server
    ("api/vm.c", '#include "store/store.h"', "no arrow api -> store"),
    ("api/dispatch.c", '#include "server/loop.h"', "no arrow api -> server"),
    # an angle-bracket spelling of our own header is the same arrow
    ("http/http.h", "#include <api/dm.h>", "no arrow http -> api"),
    # tools/ may have api/auth.h, not the rest of api/
    ("tools/passwd.c", '#include "api/api.h"', "no arrow tools -> api"),
    # the helper binary knows no datamodel, database or TLS glue
    ("io/ctl.c", '#include "api/dm.h"', "no arrow io -> api"),
    ("io/main.c", '#include "server/tls.h"', "no arrow io -> server"),
])
def test_a_crossing_fails(src, rel, line, expect):
    add_include(src, rel, line)
    rc, out = run(str(src))
    assert rc == 1, out
    assert expect in out, out
    assert "src/%s:" % rel in out, out      # says where


@pytest.mark.parametrize("rel,header,only", [
    ("api/dm.c", "sqlite3.h", "store/*"),
    ("server/conn.c", "mbedtls/ssl.h", "server/tls.c"),
    ("server/daemon.c", "psa/crypto.h", "server/tls.c"),
    ("vmm/sim.c", "xenctrl.h", "vmm/xen*"),
    ("api/vm.c", "xen/hvm/params.h", "vmm/xen*"),
    ("stats/collector.c", "xenstore.h", "vmm/xen*"),
])
def test_a_restricted_system_header_fails_elsewhere(src, rel, header, only):
    add_include(src, rel, "#include <%s>" % header)
    rc, out = run(str(src))
    assert rc == 1, out
    assert "<%s> may only be included by %s" % (header, only) in out, out


def test_the_restricted_headers_are_allowed_where_they_belong(src):
    add_include(src, "store/store.c", "#include <sqlite3.h>")
    add_include(src, "vmm/xen_console.c", "#include <xen/io/console.h>")
    rc, out = run(str(src))
    assert rc == 0, out


def test_an_unresolvable_or_computed_include_fails(src):
    add_include(src, "lib/buf.c", '#include "sqlite3.h"')
    add_include(src, "lib/util.c", "#include XB_HEADER")
    rc, out = run(str(src))
    assert rc == 1, out
    assert '"sqlite3.h" is no file under src/' in out, out
    assert "computed include XB_HEADER" in out, out


def test_a_new_module_needs_its_arrows(src):
    (src / "newmod").mkdir()
    (src / "newmod" / "x.c").write_text('#include "lib/buf.h"\n')
    rc, out = run(str(src))
    assert rc == 1, out
    assert "src/newmod: a module the include rules" in out, out


def test_an_unused_arrow_fails(src, tmp_path):
    """The table is the real graph: an arrow nothing uses is stale."""
    rules = tmp_path / "ARCH.md"
    text = open(RULES).read().replace("\ntop:\n", "\ntop:     lib\n")
    assert text != open(RULES).read()
    rules.write_text(text)
    rc, out = run(str(src), str(rules))
    assert rc == 1, out
    assert "arrow top -> lib is used by no include" in out, out


def test_no_rules_block_fails(src, tmp_path):
    rules = tmp_path / "empty.md"
    rules.write_text("# nothing here\n")
    rc, out = run(str(src), str(rules))
    assert rc == 1, out
    assert "no ```include-rules block" in out, out
