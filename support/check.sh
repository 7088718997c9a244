#!/bin/bash
# `make check`: every test suite, as CI runs it.  Installs what it needs,
# fetches the pinned sources, builds the target (static musl) and the host
# (ASan+UBSan) flavours, then runs:
#   guards      the project's own rules, in seconds: the include graph
#               against docs/ARCHITECTURE.md, CI's no-skip rule in every
#               pytest suite, this script's accounting (tests/guards)
#   unit        C unit tests (cmocka), host build
#   integration pytest against the daemon: host ASan build, then the
#               shipped static musl binary
#   pool        pool hosts in network namespaces, one behind NAT (needs root
#               and nft; tests/pool)
#   size        `make size` within the Kconfig budget
#   deb         `make deb`, installed in a fresh debootstrap root (needs root
#               and Debian's mirror; tests/deb)
#   build       offline, reproducibility and static-link checks (slow)
#   fuzz        a short bounded pass of each libFuzzer target
#   usb         the USB stick image booted by QEMU (BIOS and UEFI)
#   system      the system images (Xen, dom0 and guest initramfs), then
#               tests/system: real Xen + our dom0 under QEMU TCG (slow-ish)
#   fresh-root  support/deps.sh and every suite's build in a fresh minimal
#               Debian root (support/fresh-root.sh): started in the
#               background after `make source`, beside the others, niced;
#               its result is collected at the end (log: $O/check-logs/)
# Each suite's output is shown and kept in $O/check-logs/NAME.log; each
# gets a line "NAME: N passed, N failed" (support/suite-result.py: a suite
# that ran no test, or exited non-zero with no failure counted, fails),
# and the last line is "check: N passed, N failed" over every suite's tests.
# CHECK_SKIP="build fuzz" skips suites for quick local runs; with CI=true
# a skipped suite fails, as a skipped test does (tests/lib/ci_skips.py).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
O=${CHECK_O:-$TOP/output/check}
JOBS=${JOBS:-$(nproc)}
SKIP=" ${CHECK_SKIP:-} "
LOGS=$O/check-logs
tests_passed=0 tests_failed=0 tests_skipped=0 suites_failed=0 lines=()
fresh_pid=

case "${CI:-}" in [Tt][Rr][Uu][Ee]|1|[Yy][Ee][Ss]) CI_RUN=1 ;; *) CI_RUN=0 ;; esac

mkdir -p "$LOGS" || { echo "check: cannot make $LOGS"; echo "check: 0 passed, 1 failed"; exit 1; }
support/deps.sh || { echo "check: cannot install dependencies"; echo "check: 0 passed, 1 failed"; exit 1; }
PY=python3
$PY -m pytest --version >/dev/null 2>&1 || PY=/usr/bin/python3

# account NAME RC LOG [--step]: the suite's line, added to the totals.
account() {
	local line p f s
	line=$($PY support/suite-result.py "$@")
	[ $? -eq 0 ] || suites_failed=$((suites_failed + 1))
	lines+=("$line")
	p=$(sed -n 's/^[^:]*: \([0-9]*\) passed.*/\1/p' <<<"$line")
	f=$(sed -n 's/^[^:]*: [0-9]* passed, \([0-9]*\) failed.*/\1/p' <<<"$line")
	s=$(sed -n 's/.* failed, \([0-9]*\) skipped.*/\1/p' <<<"$line")
	tests_passed=$((tests_passed + ${p:-0}))
	tests_failed=$((tests_failed + ${f:-1}))
	tests_skipped=$((tests_skipped + ${s:-0}))
}

skipped() {     # skipped NAME: CHECK_SKIP names it (a failure on CI)
	[[ $SKIP == *" $1 "* ]] || return 1
	if [ $CI_RUN = 1 ]; then
		echo "=== $1: skipped by CHECK_SKIP, which CI=true does not allow"
		lines+=("$1: 0 passed, 1 failed  (skipped by CHECK_SKIP with CI=true)")
		tests_failed=$((tests_failed + 1)) suites_failed=$((suites_failed + 1))
	else
		lines+=("$1: skipped (CHECK_SKIP)")
	fi
	return 0
}

# suite NAME [--step] CMD...: run CMD, its output shown and kept in the log.
suite() {
	local name=$1 step= t0=$SECONDS rc
	shift
	[ "$1" = --step ] && { step=--step; shift; }
	skipped "$name" && return 0
	echo "=== $name"
	"$@" 2>&1 | tee "$LOGS/$name.log"
	rc=${PIPESTATUS[0]}
	account "$name" "$rc" "$LOGS/$name.log" $step
	lines[${#lines[@]}-1]+=" [$((SECONDS - t0)) s]"
	return "$rc"
}

summary() {
	if [ -n "$fresh_pid" ]; then
		kill -TERM -- -"$fresh_pid" 2>/dev/null    # its process group
		wait "$fresh_pid" 2>/dev/null
	fi
	printf '%s\n' "${lines[@]}"
	echo "check: $suites_failed suite(s) failed"
	if [ $tests_skipped -gt 0 ]; then
		echo "check: $tests_passed passed, $tests_failed failed, $tests_skipped skipped"
	else
		echo "check: $tests_passed passed, $tests_failed failed"
	fi
	[ $tests_failed -eq 0 ] && [ $suites_failed -eq 0 ]
}

suite source --step make -s source || { echo "check: no sources; nothing can be built"; summary; exit 1; }

# The fresh root runs beside the other suites from here on (its own
# process group, so that it can be stopped whole); nice: the suites here
# go first.
fresh_t0=$SECONDS
if ! skipped fresh-root; then
	set -m
	nice -n 10 support/fresh-root.sh "$O/fresh-root" >"$LOGS/fresh-root.log" 2>&1 </dev/null &
	fresh_pid=$!
	set +m
	echo "=== fresh-root: started in the background ($LOGS/fresh-root.log)"
fi

suite guards $PY -m pytest -q tests/guards

build() {
	make -s O="$O" qemu_x86_64_defconfig &&
	make -s -j"$JOBS" O="$O" all unit-build host-xenbox
}
suite build-all --step build || {
	echo "check: the build failed; nothing else can run"
	summary
	exit 1
}
suite unit make -s O="$O" unit-check
# XENBOX_XEN: test_xen_backend needs a binary with the Xen backend, which
# the host ASan build has not (it has no Xen libraries): the static one.
suite integration env XENBOX="$O/host/bin/xenbox" XENBOX_XEN="$O/images/xenbox" \
	$PY -m pytest -q tests/integration
suite integration-musl env XENBOX="$O/images/xenbox" $PY -m pytest -q tests/integration
suite pool env XENBOX="$O/host/bin/xenbox" $PY -m pytest -q tests/pool
suite size --step make -s O="$O" size
suite deb sh -c 'make -s O="$1" deb >/dev/null && XB_DEB="$1/images/xenbox_$(cat VERSION)_amd64.deb" "$2" -m pytest -q tests/deb' - "$O" "$PY"
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

if [ -n "$fresh_pid" ]; then
	echo "=== fresh-root: waiting for it"
	wait "$fresh_pid"
	rc=$?
	fresh_pid=
	# its step lines; on a failure it printed the log's last lines too
	cat "$LOGS/fresh-root.log"
	account fresh-root "$rc" "$LOGS/fresh-root.log"
	lines[${#lines[@]}-1]+=" [$((SECONDS - fresh_t0)) s, beside the others]"
fi

summary
