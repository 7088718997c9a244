"""Build-system tests: offline build, bit-identical rebuilds, static-link
traps, the staged TLS and SQLite libraries, and the download checks."""
import hashlib
import http.server
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import DL_DIR, TOP

pytestmark = pytest.mark.slow_build

HERE = Path(__file__).resolve().parent


def lock_lines():
    for line in (TOP / "package" / "sources.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            yield line.split()


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --- (a) offline build ----------------------------------------------------

def test_offline_build(build):
    """After `make source`, a clean build succeeds with the network cut."""
    assert (build.images / "xenbox").is_file()
    for f in (build.images / "xenbox-io", build.images / "xen-tools" / "xenstored",
              build.images / "xen-tools" / "xenconsoled"):
        assert f.is_file()
        out = subprocess.run(["file", f], capture_output=True, text=True).stdout
        assert "statically linked" in out and "stripped" in out, out


# --- (b) reproducibility ----------------------------------------------------

def test_bit_identical_rebuild(builds):
    a, b = builds
    for x in builds:
        assert x.rc == 0, f"build in {x.out} failed:\n{x.log_tail()}"
    products = ["images/xenbox", "images/xenbox-io", "images/xen-tools/xenstored",
                "images/xen-tools/xenconsoled"]
    # the staged archives too, but not those holding GCC's LTO bytecode
    # (CONFIG_XB_LTO): GCC 12 streams source locations with the build
    # directory into it, -ffile-prefix-map notwithstanding, so they differ
    # between two output directories; they are intermediates, and the
    # products linked from them above must still be identical
    products += sorted(str(p.relative_to(a.out)) for p in (a.staging / "lib").rglob("*")
                       if p.is_file() and b".gnu.lto_" not in p.read_bytes())
    differ = [p for p in products if sha256(a.out / p) != sha256(b.out / p)]
    assert not differ, f"differ between {a.out} and {b.out}: {differ}"


def test_no_build_paths_in_binaries(build):
    for f in [build.images / "xenbox", build.images / "xenbox-io",
              *sorted((build.images / "xen-tools").iterdir())]:
        data = f.read_bytes()
        for path in {str(TOP), str(build.out), str(DL_DIR)}:
            assert path.encode() not in data, f"{path} leaks into {f}"


# --- (c) static-link traps ---------------------------------------------------

def test_xenstore_archive_uses_threads(build):
    """xs.o must be the threaded flavour, or xs_fileno() never sees watches."""
    out = subprocess.run(["nm", "-A", build.staging / "lib" / "libxenstore.a"],
                         capture_output=True, text=True, check=True).stdout
    assert re.search(r"xs\.o:\s+U pthread_create$", out, re.M), out


def test_kernel_loaders_are_linked(build):
    """The loaders register from constructors: they must be in the link."""
    libs = subprocess.run(["make", "-s", f"O={build.out}", f"DL_DIR={DL_DIR}", "--eval",
                           "xb-libs: ; @echo XB_TARGET_LIBS=$(XB_TARGET_LIBS)", "xb-libs"],
                          cwd=TOP, capture_output=True, text=True, check=True).stdout
    line = next(l for l in libs.splitlines() if l.startswith("XB_TARGET_LIBS="))
    loaders = ["bzimage", "elf", "hvm", "bin"]
    words = line.split("=", 1)[1].split()
    guest = words.index(str(build.staging / "lib" / "libxenguest.a"))
    objs = [f"xg_dom_{name}loader.o" for name in loaders] + ["xb_unxz.o"]
    for name in objs:
        obj = str(build.staging / "lib" / "xen-loaders" / name)
        assert obj in words[:guest], f"{obj} not linked before libxenguest.a"
    # Link order: the Xen archives before libz; liblzma is not linked (XZ
    # kernels go through Xen's own decoder, package/xen/xb_unxz.c).
    assert words.index(str(build.staging / "lib" / "libz.a")) > guest
    assert not [w for w in words if "lzma" in w], words
    syms = subprocess.run(["nm", build.out / "build" / "xenbox" / "xenbox.unstripped"],
                          capture_output=True, text=True, check=True).stdout
    for name in loaders:
        # LTO may make a static function global under a private name
        assert re.search(rf" [tT] xc_dom_probe_{name}_kernel(\.lto_priv\.\d+)?$", syms,
                         re.M), name


def test_xz_through_xens_decoder(build):
    """The bzImage loader calls xb_unxz.c's decoder (package/xen/xen-unxz.patch),
    liblzma is in no product, and LZMA (.lzma) kernels are refused by name."""
    src = next((build.out / "build").glob("xen-*/tools/libs/guest/xg_dom_bzimageloader.c"))
    text = src.read_text()
    assert "#ifdef XB_UNXZ" in text
    assert "LZMA-compressed (.lzma) kernels are not supported" in text
    syms = subprocess.run(["nm", build.out / "build" / "xenbox" / "xenbox.unstripped"],
                          capture_output=True, text=True, check=True).stdout
    assert re.search(r" [tT] xz_dec_run(\.\w+)*$", syms, re.M) or " xz_dec_lzma2_run" in syms
    assert not re.search(r" [tT] lzma_(code|stream_decoder)\b", syms), "liblzma is linked"
    assert not (build.staging / "lib" / "liblzma.a").exists()


# --- staged libraries work ---------------------------------------------------

def musl_link(build, tmp_path, source, libs):
    exe = tmp_path / Path(source).stem
    subprocess.run(["musl-gcc", "-static", "-Os", "-Wall", "-Werror",
                    "-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections",
                    "-D__XEN_TOOLS__", f"-isystem{build.staging / 'include-linux'}",
                    f"-I{build.staging / 'include'}", "-o", exe, HERE / source,
                    *[build.staging / "lib" / l for l in libs], "-lpthread"],
                   check=True)
    return exe


def test_tls13_and_tls12_handshakes(build, tmp_path):
    """The target mbedTLS serves TLS 1.3 and 1.2 to openssl s_client."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    exe = musl_link(build, tmp_path, "tls_smoke.c",
                    ["libmbedtls.a", "libmbedx509.a", "libmbedcrypto.a"])
    server = subprocess.Popen([exe, "2"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        for flag, suite in (("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")):
            client = subprocess.run(
                ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", flag, "-ign_eof"],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
            assert "hello from xenbox mbedtls" in client.stdout, client.stdout + client.stderr
            assert f"New, {suite}," in client.stdout, client.stdout
            assert server.stdout.readline().startswith(f"OK {suite} ")
        assert server.wait(timeout=10) == 0
    finally:
        server.kill()


def test_sqlite_target_matches_host(build, build_b, tmp_path):
    """Target and host SQLite: same version, options and results."""
    target = musl_link(build, tmp_path, "sqlite_smoke.c", ["libsqlite3.a"])
    host_dir = build_b.out / "host"
    host = tmp_path / "sqlite_smoke_host"
    subprocess.run(["gcc", "-Wall", "-Werror", f"-I{host_dir / 'include'}", "-o", host,
                    HERE / "sqlite_smoke.c", host_dir / "lib" / "libsqlite3.a",
                    "-lpthread", "-lm"], check=True)
    outs = []
    for exe in (target, host):
        db = tmp_path / f"{exe.name}.db"
        outs.append(subprocess.run([exe, db], capture_output=True, text=True,
                                   check=True).stdout)
    version = next(l[1] for l in lock_lines() if l[0] == "sqlite3").split("-")[0]
    assert outs[0].startswith(f"{version} threadsafe=2 mode=wal cols=3 integrity=ok rows=59 "), outs
    assert outs[0] == outs[1]


def test_kernel_decompressors_verify_checks(build, tmp_path):
    """The XZ decoder libxenguest's bzImage loader calls (package/xen/xb_unxz.c
    on Xen's xen/common/xz) and zlib: a bzImage payload (the stream, then the
    uncompressed size) in .xz with a CRC-32 or no check, with or without the
    x86 BCJ filter, and gzip decode to the original; a stream whose stored
    data was altered is refused by its check; CRC-64 and SHA-256 streams are
    refused, as are a stated size too small (nothing is written past it), too
    large, or beyond the kernel size limit (64 MiB in the test's stubs)."""
    import gzip
    import lzma
    import random
    import struct

    exe = musl_link(build, tmp_path, "decompress_smoke.c",
                    ["xen-loaders/xb_unxz.o", "libz.a"])

    def run(kind, blob):
        src, dst = tmp_path / f"in.{kind}", tmp_path / "out"
        src.write_bytes(blob)
        r = subprocess.run([exe, kind, src, dst], capture_output=True, text=True)
        return r.returncode, r.stderr.strip(), dst.read_bytes()

    def payload(data, check=lzma.CHECK_CRC32, size=None, bcj=False):
        filters = ([{"id": lzma.FILTER_X86}] if bcj else []) + [{"id": lzma.FILTER_LZMA2}]
        xz = lzma.compress(data, format=lzma.FORMAT_XZ, check=check, filters=filters)
        return xz + struct.pack("<I", len(data) if size is None else size)

    # text compresses (the decoders' real work); random bytes are stored
    # as they are (LZMA2 uncompressed chunks, deflate stored blocks), so one
    # byte of them can be changed without the decoder itself noticing
    text = b"".join(b"line %d of a guest kernel\n" % i for i in range(200000))
    noise = random.Random(7).randbytes(300_001)

    def altered(blob):
        at = blob.find(noise[150_000:150_032])
        assert at > 0, "the test data was not stored as it is"
        blob = bytearray(blob)
        blob[at] ^= 0x01
        return bytes(blob)

    for check in (lzma.CHECK_CRC32, lzma.CHECK_NONE):
        for data in (text, noise):
            for bcj in (False, True):
                assert run("xz", payload(data, check, bcj=bcj)) == (0, "", data), check
    rc, err, _ = run("xz", altered(payload(noise)))
    assert (rc, err) == (1, "error: XZ: decompression error: the data is corrupt")
    rc, _, out = run("xz", altered(payload(noise, lzma.CHECK_NONE)))
    assert rc == 0 and out != noise and len(out) == len(noise)   # nothing to catch it
    for check in (lzma.CHECK_CRC64, lzma.CHECK_SHA256):
        rc, err, _ = run("xz", payload(text, check))
        assert rc == 1 and "unsupported options (an integrity check other than CRC-32" in err
    rc, err, _ = run("xz", payload(text, size=len(text) - 1))
    assert (rc, err) == (1, "error: XZ: decompression error: the data is truncated "
                            "or larger than its stated size")
    rc, err, _ = run("xz", payload(text, size=len(text) + 1))
    assert (rc, err) == (1, f"error: XZ: got {len(text)} bytes instead of {len(text) + 1}")
    rc, err, _ = run("xz", payload(text, size=100 << 20))
    assert (rc, err) == (1, "error: XZ: output too large (104857600 bytes)")
    rc, err, _ = run("xz", lzma.compress(text, format=lzma.FORMAT_ALONE) + b"\0\0\0\0")
    assert (rc, err) == (1, "error: XZ: decompression error: not an XZ stream")

    for data in (text, noise):
        assert run("gz", gzip.compress(data, mtime=0)) == (0, "", data)
    rc, err, _ = run("gz", altered(gzip.compress(noise, compresslevel=0, mtime=0)))
    assert (rc, err) == (1, "error: data")


# --- (d) download checks -------------------------------------------------------

def test_corrupted_download_is_refused(tmp_path, offline):
    dl = tmp_path / "dl"
    shutil.copytree(DL_DIR, dl)
    name, _, want, path = next(l for l in lock_lines() if l[0] == "xen-debian")
    victim = dl / name / path.rsplit("/", 1)[1].replace("%2b", "+").replace("%7e", "~")
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(data)
    have = hashlib.sha256(data).hexdigest()
    r = subprocess.run(offline + ["make", "source", f"DL_DIR={dl}"], cwd=TOP,
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert f"sha256 mismatch for {victim}" in r.stderr, r.stderr
    assert f"expected: {want}" in r.stderr and f"actual:   {have}" in r.stderr, r.stderr
    assert not victim.exists()


def test_vanished_version_explains_refresh(tmp_path):
    """A 404 from the mirror names the package and the refresh command."""
    (tmp_path / "www").mkdir()
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *a, directory=str(tmp_path / "www"))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        lock = tmp_path / "sources.lock"
        lock.write_text("zlib 1:9.9-1 " + "0" * 64 + " debian/pool/main/z/zlib/zlib_9.9.orig.tar.gz\n")
        r = subprocess.run([TOP / "support" / "download.sh", lock, tmp_path / "dl"],
                           env={**os.environ, "XB_MIRROR": f"http://127.0.0.1:{srv.server_port}"},
                           capture_output=True, text=True)
    finally:
        srv.shutdown()
    assert r.returncode != 0
    assert "404" in r.stderr and "vanished" in r.stderr, r.stderr
    assert "support/refresh-lock.sh zlib" in r.stderr, r.stderr


def test_vanished_deb_explains_pin_debs(tmp_path):
    """A 404 for a pinned .deb points at support/pin-debs.sh, not at the
    source-package tool."""
    (tmp_path / "www").mkdir()
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *a, directory=str(tmp_path / "www"))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        lock = tmp_path / "sources.lock"
        lock.write_text("xl-libc6 2.36-9 " + "0" * 64 +
                        " debian/pool/main/g/glibc/libc6_2.36-9_amd64.deb\n")
        r = subprocess.run([TOP / "support" / "download.sh", lock, tmp_path / "dl"],
                           env={**os.environ, "XB_MIRROR": f"http://127.0.0.1:{srv.server_port}"},
                           capture_output=True, text=True)
    finally:
        srv.shutdown()
    assert r.returncode != 0
    assert "support/pin-debs.sh xl-libc6=libc6" in r.stderr, r.stderr
