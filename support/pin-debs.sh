#!/bin/bash
# Pin Debian binary packages (.debs) in package/sources.lock.
#
#   support/pin-debs.sh LOCKNAME=PACKAGE[=VERSION]...
#
# For each argument the lock line LOCKNAME is written (or added) with the
# package's full Debian version, the sha256 apt's index gives for the .deb
# and its pool path.  Without =VERSION apt's candidate is taken (the newest
# of bookworm, bookworm-updates and bookworm-security).  The .debs
# themselves are fetched by `make source` only.
#
#   support/pin-debs.sh xen-hypervisor=xen-hypervisor-4.17-amd64=4.17.5+72-g01140da4e8-1
#
# Components: main, and non-free-firmware for the firmware files of the
# USB image's NIC drivers (package/firmware).
#
# Like support/refresh-lock.sh, apt runs with a configuration of its own in
# a temporary directory: the machine's /etc/apt and /var/lib/apt are neither
# read for sources nor written.
set -eu -o pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
lock=${XB_LOCK:-$top/package/sources.lock}
mirror=${XB_MIRROR:-http://deb.debian.org}
mirror=${mirror%/}
suite=${XB_SUITE:-bookworm}

if [ $# -eq 0 ]; then
	echo "usage: $0 LOCKNAME=PACKAGE[=VERSION]..." >&2
	exit 2
fi
command -v apt-get >/dev/null || { echo "pin-debs: needs apt-get (Debian or derivative)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/xb-apt.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/etc" "$work/state"
: >"$work/state/status"
cat >"$work/etc/sources.list" <<-SRC
	deb $mirror/debian $suite main non-free-firmware
	deb $mirror/debian $suite-updates main non-free-firmware
	deb $mirror/debian-security $suite-security main non-free-firmware
SRC
apt_opts=(
	-o "Dir::Etc::SourceList=$work/etc/sources.list"
	-o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$work/lists"
	-o "Dir::State::status=$work/state/status"
	-o "Dir::Cache=$work/cache"
	-o "Dir::Cache::pkgcache="
	-o "Dir::Cache::srcpkgcache="
	-o "APT::Architecture=amd64"
	-o "APT::Get::List-Cleanup=false"
)
[ "$(id -u)" = 0 ] && apt_opts+=(-o "APT::Sandbox::User=root")

echo "pin-debs: reading package lists ($suite, $suite-updates, $suite-security)"
apt-get "${apt_opts[@]}" -qq update >"$work/update.log" 2>&1 || {
	cat "$work/update.log" >&2
	echo "pin-debs: apt-get update failed" >&2
	exit 1
}

# set_line NAME VERSION SHA256 PATH: replace NAME's line, keeping the columns.
set_line() {
	awk -v n="$1" -v v="$2" -v s="$3" -v p="$4" '
		!/^#/ && $1 == n { printf "%-11s %-31s %s  %s\n", n, v, s, p; found = 1; next }
		{ print }
		END { if (!found) printf "%-11s %-31s %s  %s\n", n, v, s, p }
	' "$lock" >"$work/lock.new"
	cat "$work/lock.new" >"$lock"
}

for arg in "$@"; do
	case $arg in
	*=*) ;;
	*) echo "pin-debs: '$arg' is not LOCKNAME=PACKAGE[=VERSION]" >&2; exit 2 ;;
	esac
	name=${arg%%=*} spec=${arg#*=}
	pkg=${spec%%=*}
	if ! ver=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$spec" 2>"$work/err" |
			awk '/^Version:/ {print $2; exit}') || [ -z "$ver" ]; then
		cat "$work/err" >&2
		echo "pin-debs: no binary package $spec (amd64) in $suite" >&2
		exit 1
	fi
	# One line: 'URL' FILE SIZE SHA256:HEX
	uri=$(apt-get "${apt_opts[@]}" -qq download --print-uris "$pkg=$ver" 2>"$work/err") || {
		cat "$work/err" >&2
		echo "pin-debs: apt gives no download for $pkg=$ver" >&2
		exit 1
	}
	url=$(awk '{print $1}' <<<"$uri"); url=${url//\'/}
	sha=$(awk '{print $4}' <<<"$uri")
	case $sha in
	SHA256:*) sha=${sha#SHA256:} ;;
	*) echo "pin-debs: apt gave no SHA256 for $url" >&2; exit 1 ;;
	esac
	old=$(awk -v n="$name" '!/^#/ && $1 == n {print $2}' "$lock")
	set_line "$name" "$ver" "$sha" "${url#"$mirror"/}"
	echo "pin-debs: $name ($pkg) ${old:-(new)} -> $ver"
done
echo "pin-debs: now run 'make source'; commit package/sources.lock with the result"
