#!/bin/sh
# Remove the BPF type information (.BTF) from kernel modules.
#
#   package/linux/strip-btf.sh FILE.ko...
#
# Debian's kernel is built with CONFIG_DEBUG_INFO_BTF_MODULES: each module
# carries the types of its structures for BPF programs and bpftool
# (~10% of a driver's bytes, 2.4 MB of the USB image's 29 MB of modules,
# 0.75 MB once compressed).  Nothing on the image runs BPF; the kernel
# loads a module without it (it then has no BTF for that module).
# Run after unsign-modules.sh: objcopy rewrites the file, so an appended
# signature would not survive anyway.  A module without .BTF is left
# as it is.
set -eu
for f in "$@"; do
	readelf -SW "$f" | grep -q ' \.BTF ' || continue
	objcopy --remove-section=.BTF "$f"
done
