#!/bin/bash
# fresh-root.sh: the README's promise on a fresh machine, each CI run.
#
#   support/fresh-root.sh [WORKDIR]
#
# Makes a fresh, minimal Debian bookworm root (debootstrap --variant=minbase
# from Debian's mirror, plus git, make and ca-certificates: what a new user
# has before the README's first command), copies this checkout's tracked
# files into it, and there runs support/deps.sh, then builds and links
# each suite's programs: the static binary and the Xen daemons, the host
# ASan build, the unit tests (and runs them), the fuzz targets (and starts
# each once), the system images and the USB stick image with its OVMF;
# then imports every Python module the pytest suites import, collects
# every pytest suite with CI=true, and runs Xen Orchestra's connector test
# (node, npm ci, the daemon on the loopback).  So an install step that
# deps.sh lacks fails here, though this machine has the package anyway.
#
# Nothing is cached between runs: the root is new each time and removed at
# the end.  The pinned sources are not fetched again: the checkout's
# DL_DIR (default dl/; `make source` must have run) is bound read-only
# into the root, where `make source` checks every hash.  This machine's
# apt configuration is neither used nor changed (the root has its own);
# its resolv.conf and CA bundle are copied in (network setup, not an
# install step: npm behind a TLS-inspecting proxy needs the latter).
# Needs root (chroot, mounts), as CI and deps.sh have; debootstrap comes
# from deps.sh.  Mounts live in a private mount namespace and the
# processes in a PID namespace of their own: when this script ends,
# however it ends, they go with it.
#
# Prints one line per step and "fresh-root: N passed, N failed"; the
# steps' output goes to WORKDIR/fresh-root.log (default
# output/fresh-root/; on a failure its last lines are printed).
#   XB_DEBIAN_MIRROR   the Debian mirror (default http://deb.debian.org/debian)
#   XB_FRESH_JOBS      make -j inside the root (default 2)
#   XB_FRESH_KEEP=1    keep the root (WORKDIR/root) for a look afterwards
set -u -o pipefail
set -m          # each step its own process group: stopped whole at the end
TOP=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mkdir -p "${1:-$TOP/output/fresh-root}" && cd "${1:-$TOP/output/fresh-root}" && pwd)
DL=$(cd "${DL_DIR:-$TOP/dl}" 2>/dev/null && pwd) || DL=
MIRROR=${XB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
JOBS=${XB_FRESH_JOBS:-2}
LOG=$WORK/fresh-root.log
ROOT=$WORK/root
# where the checkout goes in the root: a user's clone (not /xenbox, a
# substring of the binary's own strings such as "%s/xenbox.db", which
# tests/build's no-build-paths test would take for a leaked build path)
SRC=/home/user/xenbox
passed=0 failed=0 ns_pid=

say() { echo "fresh-root: $*"; }

if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null && exec sudo -E "$0" "$@"
	say "needs root (chroot, mounts) and there is no sudo"
	echo "fresh-root: 0 passed, 1 failed"
	exit 1
fi

# Refuses to delete anything while a mount is left below the root.
remove_root() {
	[ -d "$ROOT" ] || return 0
	if awk -v r="$ROOT" '$5 == r || index($5, r "/") == 1 { bad = 1 } END { exit !bad }' \
		/proc/self/mountinfo; then
		say "mounts are left below $ROOT; not removing it"
		return 1
	fi
	rm -rf --one-file-system "$ROOT"
}

cleanup() {
	if [ -n "$ns_pid" ] && kill -0 "$ns_pid" 2>/dev/null; then
		kill -TERM -- -"$ns_pid" 2>/dev/null     # the step's process group
		wait "$ns_pid" 2>/dev/null
	fi
	[ "${XB_FRESH_KEEP:-0}" = 1 ] || remove_root
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# step NAME CMD...: run, log, count; the first failure stops the rest
# (everything after it needs what it made).
step() {
	local name=$1 t0=$SECONDS rc
	shift
	echo "=== $name: $*" >>"$LOG"
	"$@" >>"$LOG" 2>&1 </dev/null &
	ns_pid=$!
	wait "$ns_pid"
	rc=$?
	ns_pid=
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		say "$name ok ($((SECONDS - t0)) s)"
		return 0
	fi
	failed=$((failed + 1))
	say "$name FAILED ($((SECONDS - t0)) s, exit $rc); the log's last lines ($LOG):"
	tail -n 40 "$LOG" | sed 's/^/  | /'
	# what failed, named, however far above the tail it was printed
	grep -aE '^unit: failed:|^FAILED |^\[  (FAILED|ERROR) *\] [A-Za-z_]' "$LOG" |
		sort -u | head -n 20 | sed 's/^/  ! /'
	finish
}

finish() {
	say "$((SECONDS)) s in all"
	echo "fresh-root: $passed passed, $failed failed"
	[ $failed -eq 0 ]
	exit
}

# in_root CMD: CMD (a shell command line) as root in the fresh root, with
# /dev, /proc and the read-only downloads, in namespaces of its own.
in_root() {
	unshare --mount --pid --fork --kill-child --mount-proc="$ROOT/proc" \
		/bin/sh -c '
		set -e
		root=$1 dl=$2 src=$3
		shift 3
		mount --make-rprivate /
		mount --rbind /dev "$root/dev"
		mount --bind -o ro "$dl" "$root/dl"
		exec chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LC_ALL=C.UTF-8 \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			DL_DIR=/dl DEBIAN_FRONTEND=noninteractive \
			NODE_EXTRA_CA_CERTS=/etc/ssl/host-ca-bundle.crt \
			/bin/sh -c "cd $src && $1"
		' - "$ROOT" "$DL" "$SRC" "$1"
}

bootstrap() {
	remove_root || return 1
	command -v debootstrap >/dev/null || { echo "debootstrap is missing (support/deps.sh installs it)"; return 1; }
	# its own mount namespace too: the /proc and /sys it mounts in the
	# root go with it, even when it is stopped half-way
	unshare --mount --pid --fork --kill-child --propagation private \
		debootstrap --variant=minbase --include=git,make,ca-certificates \
		bookworm "$ROOT" "$MIRROR" || return 1
	# a Debian install's usual suites; the root's own apt configuration
	cat >"$ROOT/etc/apt/sources.list" <<-EOF
	deb $MIRROR bookworm main
	deb $MIRROR bookworm-updates main
	deb ${MIRROR%/debian}/debian-security bookworm-security main
	EOF
	# this machine's network setup, not an install step: its resolver and
	# its CA bundle, which node trusts through NODE_EXTRA_CA_CERTS (so npm
	# works in the root behind a TLS-inspecting proxy as it does here)
	cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
	[ -r /etc/ssl/certs/ca-certificates.crt ] &&
		cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/host-ca-bundle.crt"
	# packages' maintainer scripts start no services in a chroot
	printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
	chmod 755 "$ROOT/usr/sbin/policy-rc.d"
	mkdir -p "$ROOT$SRC" "$ROOT/dl"
	# the checkout as a clone would have it: the tracked files (as they
	# are in the work tree), no output/, no dl/, no node_modules
	git -C "$TOP" ls-files -z | (cd "$TOP" && while IFS= read -r -d '' f; do
		[ -e "$f" ] && printf '%s\0' "$f"; done) |
		tar -C "$TOP" --null -T - -cf - | tar -C "$ROOT$SRC" -xf -
}

: >"$LOG"
say "a fresh bookworm root in $ROOT ($MIRROR); log in $LOG"
[ -n "$DL" ] && [ -d "$DL" ] || { say "no downloads in ${DL_DIR:-$TOP/dl}: run make source first"; failed=1; finish; }

step debootstrap bootstrap
step deps in_root 'support/deps.sh'
step source in_root 'make -s source'
step build in_root "make -s O=/out qemu_x86_64_defconfig >/dev/null &&
	make -s -j$JOBS O=/out all unit-build host-xenbox fuzz-build"
step images in_root "make -s -j$JOBS O=/out system-images &&
	make -s O=/usb pc_x86_64_usb_defconfig >/dev/null &&
	make -s -j$JOBS O=/usb all \$(make -s O=/usb printvars | sed -n 's/^OVMF_FD=//p')"
step unit in_root 'make -s O=/out unit-check'
step fuzz in_root 'for f in /out/host/fuzz/fuzz_*; do "$f" -runs=1 || exit 1; done'
step imports in_root 'python3 support/check-imports.py &&
	for t in tests/*/conftest.py; do
		CI=true python3 -m pytest -q -p no:cacheprovider --collect-only "${t%/conftest.py}" ||
			exit 1
	done'
step xo in_root 'CI=true XENBOX=/out/host/bin/xenbox python3 -m pytest -q -p no:cacheprovider \
	tests/integration/test_xo.py'
finish
