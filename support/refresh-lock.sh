#!/bin/bash
# Re-pin sources in package/sources.lock from Debian's current source lists.
#
#   support/refresh-lock.sh NAME[=VERSION]...
#
# NAME is a lock-file name (zlib, sqlite3, mbedtls, xen, lwip,
# xfsprogs, userspace-rcu (Debian: liburcu), inih (Debian: libinih),
# xen-debian).  Without =VERSION apt picks the newest version found in
# bookworm, bookworm-security and trixie.  The line is rewritten with the
# full Debian version, the sha256 of the upstream (orig) tarball and its pool
# path.  xen-debian is Debian's packaging tarball (.debian.tar.xz) of the
# same xen version and is refreshed together with xen.
#
# apt runs with a configuration of its own in a temporary directory: the
# machine's /etc/apt and /var/lib/apt are neither read for sources nor
# written.  Only `make source` downloads the files themselves.
set -eu -o pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
lock=${XB_LOCK:-$top/package/sources.lock}
mirror=${XB_MIRROR:-http://deb.debian.org}
mirror=${mirror%/}

if [ $# -eq 0 ]; then
	echo "usage: $0 NAME[=VERSION]...   (names: $(awk '!/^#/ && NF {printf "%s ", $1}' "$lock"))" >&2
	exit 2
fi
command -v apt-get >/dev/null || { echo "refresh-lock: needs apt-get (Debian or derivative)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/xb-apt.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/etc"
cat >"$work/etc/sources.list" <<-SRC
	deb-src $mirror/debian bookworm main
	deb-src $mirror/debian-security bookworm-security main
	deb-src $mirror/debian trixie main
	deb-src $mirror/debian-security trixie-security main
SRC
apt_opts=(
	-o "Dir::Etc::SourceList=$work/etc/sources.list"
	-o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$work/lists"
	-o "Dir::Cache=$work/cache"
	-o "Dir::Cache::pkgcache="
	-o "Dir::Cache::srcpkgcache="
	-o "APT::Get::List-Cleanup=false"
)
# apt drops to the _apt user to download; our temp dir is private to us.
[ "$(id -u)" = 0 ] && apt_opts+=(-o "APT::Sandbox::User=root")

echo "refresh-lock: reading source lists (bookworm, bookworm-security, trixie)"
apt-get "${apt_opts[@]}" -qq update >"$work/update.log" 2>&1 || {
	cat "$work/update.log" >&2
	echo "refresh-lock: apt-get update failed" >&2
	exit 1
}

# set_line NAME VERSION SHA256 PATH: replace NAME's line, keeping the columns.
set_line() {
	local tmp=$work/lock.new
	awk -v n="$1" -v v="$2" -v s="$3" -v p="$4" '
		!/^#/ && $1 == n { printf "%-11s %-31s %s  %s\n", n, v, s, p; found = 1; next }
		{ print }
		END { if (!found) printf "%-11s %-31s %s  %s\n", n, v, s, p }
	' "$lock" >"$tmp"
	cat "$tmp" >"$lock"
}

# refresh SRCPKG[=VERSION] LOCKNAME [DEBIAN_LOCKNAME]
refresh() {
	local spec=$1 lname=$2 dname=${3:-} src=${1%%=*}
	local uris dsc ver full orig deb line
	if ! uris=$(apt-get "${apt_opts[@]}" -qq source --print-uris "$spec" 2>"$work/err"); then
		cat "$work/err" >&2
		echo "refresh-lock: no source package $spec in bookworm/bookworm-security/trixie" >&2
		exit 1
	fi
	# Lines: 'URL' FILE SIZE SHA256:HEX
	dsc=$(awk '$2 ~ /\.dsc$/ {print $2}' <<<"$uris")
	ver=${dsc#"${src}_"}; ver=${ver%.dsc}
	# The .dsc name has no epoch; take the full version from the source index.
	full=$(apt-cache "${apt_opts[@]}" showsrc --only-source "$src" 2>/dev/null |
		awk -v v="$ver" '/^Version:/ { x = $2; sub(/^[0-9]+:/, "", x); if (x == v && !done) { print $2; done = 1 } }')
	[ -n "$full" ] || full=$ver
	orig=$(awk '$2 ~ /\.orig\.tar\.[a-z0-9]+$/' <<<"$uris")
	if [ -z "$orig" ] || [ "$(wc -l <<<"$orig")" -ne 1 ]; then
		echo "refresh-lock: expected exactly one .orig tarball for $spec, got:" >&2
		echo "$uris" >&2
		exit 1
	fi
	line_to_lock "$lname" "$full" "$orig"
	if [ -n "$dname" ]; then
		deb=$(awk '$2 ~ /\.debian\.tar\.[a-z0-9]+$/' <<<"$uris")
		[ -n "$deb" ] || { echo "refresh-lock: no .debian tarball for $spec" >&2; exit 1; }
		line_to_lock "$dname" "$full" "$deb"
	fi
}

# line_to_lock LOCKNAME VERSION "'URL' FILE SIZE SHA256:HEX"
line_to_lock() {
	local url sha path old
	url=$(awk '{print $1}' <<<"$3"); url=${url//\'/}
	sha=$(awk '{print $4}' <<<"$3")
	case $sha in
	SHA256:*) sha=${sha#SHA256:} ;;
	*) echo "refresh-lock: apt gave no SHA256 for $url" >&2; exit 1 ;;
	esac
	path=${url#"$mirror"/}
	old=$(awk -v n="$1" '!/^#/ && $1 == n {print $2}' "$lock")
	set_line "$1" "$2" "$sha" "$path"
	if [ "$old" = "$2" ]; then
		echo "refresh-lock: $1 stays at $2"
	else
		echo "refresh-lock: $1 ${old:-(new)} -> $2"
	fi
}

for arg in "$@"; do
	name=${arg%%=*}
	case $arg in *=*) want="=${arg#*=}" ;; *) want= ;; esac
	case $name in
	xen|xen-debian) refresh "xen$want" xen xen-debian ;;
	userspace-rcu) refresh "liburcu$want" userspace-rcu ;;
	inih) refresh "libinih$want" inih ;;
	*) refresh "$name$want" "$name" ;;
	esac
done
echo "refresh-lock: now run 'make source' and rebuild; commit package/sources.lock with the result"
