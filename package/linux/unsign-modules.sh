#!/bin/sh
# Remove the signature Debian's build appends to each kernel module.
#
#   package/linux/unsign-modules.sh FILE.ko...
#
# The kernel checks a signed module's SHA-256 and RSA signature at every
# load: under QEMU's TCG ~0.1 s a MB, ~1 s of the USB image's boot.  The
# check guards nothing there: the modules sit in the same read-only root
# as every program that loads them, and the image has no Secure Boot
# (with its lockdown an unsigned module would be refused).  The kernel
# notes the first unsigned module once ("module verification failed ...
# tainting kernel", taint flag E).  A file without a signature is left
# as it is.  Layout: ... module | signature | struct module_signature
# (12 bytes, the signature's length in its last 4, big-endian) |
# "~Module signature appended~\n".
set -eu
magic='~Module signature appended~'
for f in "$@"; do
	size=$(stat -c %s "$f")
	[ "$size" -gt 40 ] || continue
	[ "$(tail -c 28 "$f" | head -c 27)" = "$magic" ] || continue
	set -- $(od -An -tu1 -j $((size - 32)) -N 4 "$f")
	siglen=$(( ($1 << 24) | ($2 << 16) | ($3 << 8) | $4 ))
	keep=$((size - 28 - 12 - siglen))
	[ "$keep" -gt 0 ] || { echo "unsign-modules: $f: bad signature length $siglen" >&2; exit 1; }
	truncate -s "$keep" "$f"
done
