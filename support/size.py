#!/usr/bin/env python3
"""`make size`: the xenbox binary's size by component, from the link map.

Every input section the linker kept is attributed to the archive or object
it came from; archives map to components (our code, SQLite, mbedTLS, the
Xen libraries and their compression libraries, libc, the rest).  Prints a
table and fails when the stripped binary exceeds the Kconfig budget.
"""
import argparse
import os
import re
import sys

COMPONENTS = [
    ("xenbox", re.compile(r"/build/xenbox/")),
    ("SQLite", re.compile(r"libsqlite3\.a|sqlite3\.o")),
    ("mbedTLS", re.compile(r"libmbed(tls|x509|crypto)\.a|xb_mbedtls")),
    ("Xen libs", re.compile(r"libxen[a-z]*\.a|xg_dom_\w+loader\.o")),
    ("zlib+lzma", re.compile(r"lib(z|lzma)\.a")),
    ("libc", re.compile(r"musl|libc\.a")),
]
SEC = re.compile(r"^ (\.[A-Za-z0-9_.$-]+)?\s*(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*)$")


def component(path):
    for name, rx in COMPONENTS:
        if rx.search(path):
            return name
    return "other"


def parse(map_path):
    sizes = {}
    in_map = False
    out_sec = None
    pending = None
    with open(map_path, errors="replace") as f:
        for line in f:
            if line.startswith("Linker script and memory map"):
                in_map = True
                continue
            if not in_map:
                continue
            m = re.match(r"^(\.[A-Za-z0-9_.]+)\s", line)
            if m:
                out_sec = m.group(1)
                continue
            # an input section name alone on its line; its numbers follow
            m1 = re.match(r"^ (\.[^\s]+)\s*$", line)
            if m1:
                pending = m1.group(1)
                continue
            m = SEC.match(line)
            if not m or out_sec is None:
                pending = None
                continue
            size = int(m.group(3), 16)
            path = m.group(4).strip()
            if not size or path.startswith("*") or "load address" in path:
                pending = None
                continue
            kind = "bss" if out_sec in (".bss", ".tbss") else \
                "data" if out_sec in (".data", ".tdata", ".init_array", ".fini_array",
                                      ".data.rel.ro", ".got", ".got.plt") else "text"
            if out_sec in (".comment", ".symtab", ".strtab") or out_sec.startswith(".debug"):
                pending = None
                continue
            c = sizes.setdefault(component(path), {"text": 0, "data": 0, "bss": 0})
            c[kind] += size
            pending = None
    return sizes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--map", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--unstripped")
    ap.add_argument("--budget-kb", type=int, required=True)
    a = ap.parse_args()
    sizes = parse(a.map)
    total_file = os.path.getsize(a.binary)
    budget = a.budget_kb * 1024
    in_file = sum(v["text"] + v["data"] for v in sizes.values()) or 1
    print("%-10s %10s %10s %10s %7s" % ("component", "text+ro", "data", "bss", "share"))
    order = [n for n, _ in COMPONENTS] + ["other"]
    for name in order:
        v = sizes.get(name)
        if not v:
            continue
        print("%-10s %10d %10d %10d %6.1f%%" % (name, v["text"], v["data"], v["bss"],
                                                100.0 * (v["text"] + v["data"]) / in_file))
    print("%-10s %10d %10d %10d" % ("total", sum(v["text"] for v in sizes.values()),
                                     sum(v["data"] for v in sizes.values()),
                                     sum(v["bss"] for v in sizes.values())))
    print("binary: %s %d bytes (%.1f KiB) stripped; budget %d KiB (%.0f%% used)"
          % (a.binary, total_file, total_file / 1024, a.budget_kb, 100.0 * total_file / budget))
    if total_file > budget:
        print("size: OVER BUDGET by %d bytes (CONFIG_XB_SIZE_BUDGET_KB=%d)"
              % (total_file - budget, a.budget_kb), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
