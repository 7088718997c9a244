#!/bin/bash
# `make check`: every test suite, as CI runs it.  Installs what it needs,
# fetches the pinned sources, builds the target (static musl) and the host
# (ASan+UBSan) flavours, then runs:
#   unit        C unit tests (cmocka), host build
#   integration pytest against the daemon: host ASan build, then the
#               shipped static musl binary
#   size        `make size` within the Kconfig budget
#   build       offline, reproducibility and static-link checks (slow)
#   fuzz        a short bounded pass of each libFuzzer target
#   system      the system images (Xen, dom0 and guest initramfs), then
#               tests/system: real Xen + our dom0 under QEMU TCG (slow-ish)
# and prints "check: N passed, N failed" over the suites.
# CHECK_SKIP="build fuzz" skips suites (for quick local runs).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
O=${CHECK_O:-$TOP/output/check}
JOBS=${JOBS:-$(nproc)}
SKIP=" ${CHECK_SKIP:-} "
passed=0 failed=0 results=()

suite() {       # suite NAME CMD...
	local name=$1 t0=$SECONDS
	shift
	if [[ $SKIP == *" $name "* ]]; then
		results+=("$name: skipped")
		return
	fi
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1)) results+=("$name: ok ($((SECONDS - t0)) s)")
	else
		failed=$((failed + 1)) results+=("$name: FAILED ($((SECONDS - t0)) s)")
	fi
}

support/deps.sh || { echo "check: cannot install dependencies"; echo "check: 0 passed, 1 failed"; exit 1; }
PY=python3
$PY -m pytest --version >/dev/null 2>&1 || PY=/usr/bin/python3

build() {
	make -s source &&
	make -s O="$O" qemu_x86_64_defconfig &&
	make -s -j"$JOBS" O="$O" all unit-build host-xenbox
}
suite build-all build || {
	echo "check: the build failed; nothing else can run"
	echo "check: $passed passed, $failed failed"
	exit 1
}
suite unit make -s O="$O" unit-check
suite integration env XENBOX="$O/host/bin/xenbox" $PY -m pytest -q tests/integration
suite integration-musl env XENBOX="$O/images/xenbox" $PY -m pytest -q tests/integration
suite size make -s O="$O" size
suite build env CHECK_O="$O" $PY -m pytest -q tests/build
suite fuzz make -s O="$O" fuzz FUZZ_SECONDS=${FUZZ_SECONDS:-15}
suite usb sh -c 'make -s O="$1" pc_x86_64_usb_defconfig >/dev/null && make -s -j"$2" O="$1" usb-check' - "$O/usb" "$JOBS"

# XB_SYSTEM_REQUIRED=1: a missing QEMU, image or backend fails the suite
# instead of skipping it.  Console logs stay in $O/system-logs.
system_suite() {
	make -s -j"$JOBS" O="$O" system-images &&
	env XB_SYSTEM_REQUIRED=1 XB_SYSTEM_IMAGES="$O/images" XB_SYSTEM_LOGS="$O/system-logs" \
		$PY -m pytest -q -m system tests/system
}
suite system system_suite

printf '%s\n' "${results[@]}"
echo "check: $passed passed, $failed failed"
[ $failed -eq 0 ]
