#!/usr/bin/env python3
"""check-includes.py: every #include under src/ against the arrows that
docs/ARCHITECTURE.md allows (its ```include-rules block).

    support/check-includes.py [--src DIR] [--rules FILE]

The rules block has two kinds of line (# starts a comment):

    FROM: TO...           FROM's files may include TO's headers.  A name
                          is a directory under src/ or "top" (the files
                          directly in src/); TO may also be one header
                          (api/auth.h).  A module may always include its
                          own headers.
    <PATTERN>...: GLOB... a system header matching a PATTERN (fnmatch) may
                          only be included by the files (paths under src/)
                          matching a GLOB: sqlite3.h, mbedTLS, Xen.
    "NAME": MODULE        a header the build generates (in $(O)/gen) from
                          MODULE's sources: including it is including a
                          header of MODULE (dm_fields.h, from api/model.c).

It fails (exit 1), one line per finding, on: an include that no arrow
allows; a restricted system header outside its files; a quoted include
that is no file under src/; a computed include (#include MACRO); a module
missing from the table or a table name that is no module; an arrow that
no include uses (the table is the real graph, not a wish).  O(files x
includes); no preprocessor: an include inside #if counts.
"""
import argparse
import fnmatch
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = re.compile(r'^\s*#\s*include\b\s*(.*)$')
TARGET = re.compile(r'^([<"])([^>"]+)[>"]')


def parse_rules(path):
    """-> (arrows {module: set(targets)}, restricted [(patterns, globs, line)],
    errors, generated {header: module}),
    from the ```include-rules block of path."""
    arrows, restricted, errors = {}, [], []
    generated = {}
    inside, seen = False, False
    with open(path) as f:
        for n, line in enumerate(f, 1):
            s = line.strip()
            if s.startswith("```"):
                if inside:
                    inside = False
                elif s == "```include-rules":
                    inside = seen = True
                continue
            if not inside:
                continue
            s = s.split("#", 1)[0].strip()
            if not s:
                continue
            if ":" not in s:
                errors.append("%s:%d: no ':' in rule %r" % (path, n, s))
                continue
            lhs, rhs = (p.strip() for p in s.split(":", 1))
            if lhs.startswith('"'):
                generated[lhs.strip('"')] = rhs
            elif lhs.startswith("<"):
                pats = re.findall(r"<([^>]+)>", lhs)
                restricted.append((pats, rhs.split(), "%s:%d" % (path, n)))
            else:
                if lhs in arrows:
                    errors.append("%s:%d: %s has two rules" % (path, n, lhs))
                arrows[lhs] = set(rhs.split())
    if not seen:
        errors.append("%s: no ```include-rules block" % path)
    return arrows, restricted, errors, generated


def module_of(rel):
    """src-relative path -> module name ("top" for files directly in src/)."""
    return rel.split("/", 1)[0] if "/" in rel else "top"


def sources(src):
    for d, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            if name.endswith((".c", ".h")):
                p = os.path.join(d, name)
                yield os.path.relpath(p, src).replace(os.sep, "/"), p


def includes(path):
    """[(line number, kind '<' or '"' or None, name or the raw text)]"""
    out = []
    with open(path, errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            t = TARGET.match(m.group(1))
            out.append((n, t.group(1), t.group(2)) if t else (n, None, m.group(1).strip()))
    return out


def check(src, rules):
    arrows, restricted, problems, generated = parse_rules(rules)
    modules = {module_of(rel) for rel, _ in sources(src)}
    used = set()
    nfiles = nincs = 0
    for m in sorted(modules - set(arrows)):
        problems.append("src/%s: a module the include rules in %s do not name (add "
                        "its arrows)" % (m if m != "top" else "*.c", rules))
    for m in sorted(set(arrows) - modules):
        problems.append("%s: names %r, which is no module under src/" % (rules, m))
    for rel, path in sources(src):
        nfiles += 1
        me = module_of(rel)
        for n, kind, name in includes(path):
            nincs += 1
            where = "src/%s:%d" % (rel, n)
            if kind is None:
                problems.append("%s: computed include %s: cannot be checked" % (where, name))
                continue
            target = None
            if kind == '"' or os.path.isfile(os.path.join(src, name)):
                for cand in (os.path.join(src, name), os.path.join(os.path.dirname(path), name)):
                    if os.path.isfile(cand):
                        target = os.path.relpath(os.path.realpath(cand),
                                                 os.path.realpath(src)).replace(os.sep, "/")
                        break
                if target is None and name in generated:
                    target = generated[name] + "/" + name
                if target is None or target.startswith("../"):
                    problems.append('%s: "%s" is no file under src/' % (where, name))
                    continue
            if target is None:          # a system header
                for pats, globs, at in restricted:
                    if any(fnmatch.fnmatchcase(name, p) for p in pats) and \
                            not any(fnmatch.fnmatchcase(rel, g) for g in globs):
                        problems.append("%s: <%s> may only be included by %s (%s)" % (
                            where, name, " ".join(globs), at))
                continue
            to = module_of(target)
            if to == me:
                continue
            allowed = arrows.get(me, set())
            if to in allowed:
                used.add((me, to))
            elif target in allowed:
                used.add((me, target))
            else:
                problems.append("%s: %s/ includes %s: no arrow %s -> %s in %s" % (
                    where, me, target, me, to, rules))
    for me in sorted(arrows):
        for to in sorted(arrows[me]):
            if (me, to) not in used and me in modules:
                problems.append("%s: arrow %s -> %s is used by no include (drop it)" % (
                    rules, me, to))
    return problems, nfiles, nincs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=os.path.join(TOP, "src"))
    ap.add_argument("--rules", default=os.path.join(TOP, "docs", "ARCHITECTURE.md"))
    a = ap.parse_args()
    problems, nfiles, nincs = check(a.src, a.rules)
    for p in problems:
        print(p)
    print("includes: %d files, %d includes, %d problems" % (nfiles, nincs, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
