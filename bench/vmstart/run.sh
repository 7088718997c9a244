#!/bin/bash
# VM-start benchmark: xenbox's VM.start beside Debian's `xl create` of the
# same guest in one QEMU boot (bench/vmstart/README.md, docs/BENCHMARKS.md).
#
#   bench/vmstart/run.sh [-n N]       (or `make bench-vmstart`)
#
# Without XB_SYSTEM_IMAGES it configures and builds the images in
# $O (default output/bench-vmstart) first; `make source` must have fetched
# the pinned sources (xl's .debs among them).  Not part of `make check`.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${XB_SYSTEM_IMAGES:-}" ]; then
	O=${O:-$TOP/output/bench-vmstart}
	[ -f "$O/.config" ] || make -s -C "$TOP" O="$O" qemu_x86_64_defconfig >/dev/null
	make -s -C "$TOP" O="$O" -j"$(nproc)" bench-vmstart-images
	export XB_SYSTEM_IMAGES=$O/images
fi
command -v qemu-system-x86_64 >/dev/null || "$TOP/support/deps.sh"
PY=python3
$PY -c 'import xmlrpc.client' 2>/dev/null || PY=/usr/bin/python3
exec $PY "$TOP/bench/vmstart/vmstart.py" "$@"
