"""Fields are named by constant (FLD/OF, src/api/dm.h), never by a string
looked up at run time: dm_field_find() is for names that come from the
wire (get_<field>, where-expressions, a record's keys), and only the files
that decode those may call it.  A string lookup elsewhere costs O(fields)
per call and turns a typo or a class without the field into a silent NULL
instead of a build failure."""
import os
import re

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(TOP, "src")

# the wire's names: dispatch.c (accessors, records), where.c (filters),
# the pool's mirror (a member's records, docs/POOL.md 4.3) and the engine
WIRE = {"api/dispatch.c", "api/where.c", "api/dm.c", "api/dm.h", "pool/mirror.c"}
CALL = re.compile(r"\bdm_field_find\s*\(")


def grep_src(src, pattern):
    """(path relative to src, line number, line) of every line of a .c or
    .h file under src that pattern matches."""
    found = []
    for d, _, files in os.walk(src):
        for f in files:
            if not f.endswith((".c", ".h")):
                continue
            p = os.path.join(d, f)
            rel = os.path.relpath(p, src)
            with open(p, encoding="utf-8", errors="replace") as fh:
                for n, line in enumerate(fh, 1):
                    if pattern.search(line):
                        found.append((rel, n, line.strip()))
    return found


def callers(src):
    return grep_src(src, CALL)


def test_fields_by_name_only_from_the_wire():
    bad = [c for c in callers(SRC) if c[0] not in WIRE]
    assert not bad, "dm_field_find outside the wire's decoders (use FLD/OF): %r" % bad


def test_the_guard_sees_a_lookup(tmp_path):
    p = tmp_path / "stats"
    p.mkdir()
    (p / "x.c").write_text('f = dm_field_find(o->cls, "other_config");\n')
    assert callers(str(tmp_path)) == [("stats/x.c", 1, 'f = dm_field_find(o->cls, "other_config");')]


# An object's values are read with dm_fv() and written with dm_set() or
# dm_fw(), never indexed: an object of a mirrored class that another host
# owns is sparse (docs/POOL.md 11.3), its f_[] a bitmap and its slots.
INDEX = re.compile(r"(->|\.)f_\s*\[|(->|\.)f\s*\[[^\]]*\]\s*\.u\b")


def indexers(src):
    return grep_src(src, INDEX)


def test_values_only_through_the_accessors():
    bad = [c for c in indexers(SRC) + indexers(os.path.join(TOP, "tests"))
           if c[0] != "api/dm.c"]
    assert not bad, "an object's values indexed outside dm.c (use dm_fv/dm_fw): %r" % bad


def test_the_guard_sees_an_index(tmp_path):
    (tmp_path / "x.c").write_text("n = vm->f_[3].u.i;\nm = vm->f[3].u.i;\nk = dm_fv(vm, 3)->u.i;\n")
    assert [c[1] for c in indexers(str(tmp_path))] == [1, 2]
