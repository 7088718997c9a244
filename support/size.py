#!/usr/bin/env python3
"""`make size`: the xenbox binary's size by component, from the link map
(and xenbox-io's, which has no budget of its own: --budget-kb 0).

Every input section the linker kept is attributed to the archive or object
it came from; archives map to components (our code, SQLite, mbedTLS, the
Xen libraries and their compression libraries, libc, the rest).  Prints a
table and fails when the stripped binary exceeds the Kconfig budget.

With link-time optimisation (CONFIG_XB_LTO) the code comes from the link's
own objects (*.ltrans.o), one section per function or variable: those
are attributed by the symbol in the section's name, looked up in the
symbols (readelf) of the objects and archives the map says were loaded.  What
has no symbol (merged string literals and constants) is counted as
"other".

--top N (`make size SIZE_TOP=N`) also lists the N largest input sections
that take room in the file, each with its component.
"""
import argparse
import os
import re
import subprocess
import sys

COMPONENTS = [
    ("xenbox", re.compile(r"/build/xenbox/")),
    ("SQLite", re.compile(r"libsqlite3\.a|sqlite3\.o")),
    ("mbedTLS", re.compile(r"libmbed(tls|x509|crypto)\.a|xb_mbedtls")),
    ("Xen libs", re.compile(r"libxen[a-z]*\.a|xg_dom_\w+loader\.o|xb_unxz\.o")),
    ("zlib", re.compile(r"libz\.a")),
    ("libc", re.compile(r"musl|libc\.a")),
]
SEC = re.compile(r"^ (\.[A-Za-z0-9_.$-]+)?\s*(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*)$")


def component(path):
    for name, rx in COMPONENTS:
        if rx.search(path):
            return name
    return "other"


# .text.foo, .rodata.foo, .data.rel.ro.local.foo ... -> foo
SYM_SEC = re.compile(r"^\.(?:text\.(?:unlikely\.|startup\.|hot\.)?|rodata\.|"
                     r"data\.rel\.ro\.local\.|data\.rel\.ro\.|data\.rel\.local\.|"
                     r"data\.rel\.|data\.|bss\.|tbss\.|tdata\.)(.+)$")


def symbol_components(map_path):
    """{symbol: component} from the ELF symbol tables (readelf, which
    reads a fat LTO object's regular code, static functions included,
    where nm would read its IR's exported names) of every object and
    archive the map's LOAD lines name (not the LTO link's own objects)."""
    table = {}
    with open(map_path, errors="replace") as f:
        loads = [l.split(None, 1)[1].strip() for l in f if l.startswith("LOAD ")]
    for path in loads:
        if ".ltrans" in path or not os.path.exists(path):
            continue
        comp = component(path)
        r = subprocess.run(["readelf", "-sW", path], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            # Num: Value Size Type Bind Vis Ndx Name
            parts = line.split()
            if len(parts) == 8 and parts[3] in ("FUNC", "OBJECT", "TLS") and parts[6] != "UND":
                table.setdefault(parts[7], comp)
    return table


def ltrans_component(section, table):
    m = SYM_SEC.match(section or "")
    if not m:
        return "other"
    # GCC's clones and privatised names: foo.lto_priv.0, foo.constprop.0 ...
    return table.get(m.group(1).split(".")[0], "other")


def parse(map_path, sections=None):
    """{component: {"text", "data", "bss"}}; with a list as sections, also
    appends (size, component, input section, object) for each input
    section that takes room in the file."""
    sizes = {}
    table = None
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
            in_sec = m.group(1) or pending
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
            if ".ltrans" in path:
                if table is None:
                    table = symbol_components(map_path)
                comp = ltrans_component(in_sec, table)
            else:
                comp = component(path)
            c = sizes.setdefault(comp, {"text": 0, "data": 0, "bss": 0})
            c[kind] += size
            if sections is not None and kind != "bss":
                sections.append((size, comp, in_sec, os.path.basename(path)))
            pending = None
    return sizes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--map", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--unstripped")
    ap.add_argument("--budget-kb", type=int, default=0,
                    help="fail above this many KiB (0: no budget of its own)")
    ap.add_argument("--top", type=int, default=0,
                    help="also list the N largest input sections (function, "
                         "table, string pool) with their component")
    a = ap.parse_args()
    sections = [] if a.top else None
    sizes = parse(a.map, sections)
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
    if sections:
        print("largest input sections (text+ro and data):")
        for size, comp, sec, obj in sorted(sections, reverse=True)[:a.top]:
            print("%8d  %-10s %s  (%s)" % (size, comp, sec, obj))
    if not budget:
        print("binary: %s %d bytes (%.1f KiB) stripped; no budget of its own (the image's)"
              % (a.binary, total_file, total_file / 1024))
        return 0
    print("binary: %s %d bytes (%.1f KiB) stripped; budget %d KiB (%.0f%% used)"
          % (a.binary, total_file, total_file / 1024, a.budget_kb, 100.0 * total_file / budget))
    if total_file > budget:
        print("size: OVER BUDGET by %d bytes (CONFIG_XB_SIZE_BUDGET_KB=%d)"
              % (total_file - budget, a.budget_kb), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
