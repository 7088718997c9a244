#!/usr/bin/env python3
"""check-imports.py: every module that the Python files under tests/ and
support/ import -- at the top or inside a function -- can be imported by
this python3.  support/fresh-root.sh runs it in a fresh Debian root after
support/deps.sh, so a test's module that deps.sh does not install fails
there rather than on a user's machine (or as a skip).

    support/check-imports.py [DIR...]     (default: tests support)

Modules of our own (any .py file or package folder under DIR) are not
looked up.  O(files); imports nothing but what it checks (find_spec).
"""
import ast
import importlib.util
import os
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP_DIRS = {"node_modules", "__pycache__", ".git"}


def py_files(dirs):
    for top in dirs:
        for d, sub, files in os.walk(top):
            sub[:] = sorted(s for s in sub if s not in SKIP_DIRS)
            for f in sorted(files):
                if f.endswith(".py"):
                    yield os.path.join(d, f)


def own_modules(dirs):
    own = set()
    for top in dirs:
        for d, sub, files in os.walk(top):
            sub[:] = [s for s in sub if s not in SKIP_DIRS]
            own.update(f[:-3] for f in files if f.endswith(".py"))
            own.update(s for s in sub if os.path.exists(os.path.join(d, s, "__init__.py")))
    return own


def imports(path):
    """{top-level module name: first line number} imported by path."""
    with open(path, "rb") as f:
        tree = ast.parse(f.read(), path)
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for n in names:
            out.setdefault(n.split(".")[0], node.lineno)
    return out


def main():
    dirs = [os.path.join(TOP, d) for d in (sys.argv[1:] or ["tests", "support"])]
    own = own_modules(dirs) | {"__future__"}
    wanted = {}
    nfiles = 0
    for p in py_files(dirs):
        nfiles += 1
        for mod, line in imports(p).items():
            if mod not in own:
                wanted.setdefault(mod, []).append("%s:%d" % (os.path.relpath(p, TOP), line))
    missing = sorted(m for m in wanted if importlib.util.find_spec(m) is None)
    for m in missing:
        print("imports: no module %r for %s (support/deps.sh must install it)" % (
            m, ", ".join(wanted[m][:4]) + (" ..." if len(wanted[m]) > 4 else "")))
    print("imports: %d files, %d modules, %d missing" % (nfiles, len(wanted), len(missing)))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
