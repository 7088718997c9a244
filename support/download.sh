#!/bin/bash
# Fetch every source pinned in the lock file into the download directory.
#
#   support/download.sh LOCKFILE DL_DIR
#
# Each non-comment lock line is "name version sha256 mirror-path".  The file
# lands in DL_DIR/<name>/<file>, where <file> is the last component of
# mirror-path with %2b and %7e decoded.  A file already present with the
# pinned hash is left alone, so running this again costs one sha256 per file.
# A download whose hash differs is deleted and the run fails.
#
# XB_MIRROR overrides the mirror (default http://deb.debian.org); it must
# serve Debian's pool layout.
set -eu -o pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 LOCKFILE DL_DIR" >&2
	exit 2
fi
lock=$1
dl=$2
mirror=${XB_MIRROR:-http://deb.debian.org}
mirror=${mirror%/}

[ -r "$lock" ] || { echo "download: cannot read lock file $lock" >&2; exit 1; }
command -v sha256sum >/dev/null || { echo "download: sha256sum is missing" >&2; exit 1; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# mismatch FILE EXPECTED ACTUAL NOTE: delete FILE, explain, fail.
mismatch() {
	rm -f "$1"
	cat >&2 <<-MSG
	download: sha256 mismatch for $1
	  expected: $2
	  actual:   $3
	  $4
	MSG
	exit 1
}

fetch_one() {
	local name=$1 version=$2 want=$3 path=$4
	local file dir dest url tmp code have

	file=${path##*/}
	file=${file//%2b/+}; file=${file//%2B/+}
	file=${file//%7e/\~}; file=${file//%7E/\~}
	dir=$dl/$name
	dest=$dir/$file
	url=$mirror/$path

	if [ -f "$dest" ]; then
		have=$(sha256_of "$dest")
		if [ "$have" = "$want" ]; then
			printf '  OK      %-11s %s\n' "$name" "$file"
			return 0
		fi
		# A file in dl/ that changed is corruption (or tampering): say so
		# loudly rather than quietly fetching it again.
		mismatch "$dest" "$want" "$have" \
			"It was already in $dl and has been deleted; 'make source' fetches it again."
	fi

	command -v curl >/dev/null || { echo "download: curl is missing (apt-get install curl)" >&2; exit 1; }
	mkdir -p "$dir"
	tmp=$dest.part
	rm -f "$tmp"
	printf '  GET     %-11s %s\n' "$name" "$url"
	# No -f: the status code is read so that a 404 gets its own message.
	if ! code=$(curl -sS -L --retry 4 --retry-delay 3 --retry-connrefused \
			--connect-timeout 30 -o "$tmp" -w '%{http_code}' "$url"); then
		rm -f "$tmp"
		echo "download: failed to fetch $url (network error, after retries)" >&2
		exit 1
	fi
	case $code in
	200) ;;
	404)
		rm -f "$tmp"
		local fix="support/refresh-lock.sh $name"
		case $file in *.deb) fix="support/pin-debs.sh $name=${file%%_*}" ;; esac
		cat >&2 <<-MSG
		download: $url: 404 Not Found.
		  The pinned version of $name ($version) has vanished from the mirror
		  (Debian removes superseded versions from the pool).  Pick up the
		  current one with
		      $fix
		  review the diff of package/sources.lock, then run \`make source\` again.
		MSG
		exit 1 ;;
	*)
		rm -f "$tmp"
		echo "download: failed to fetch $url (HTTP $code)" >&2
		exit 1 ;;
	esac

	have=$(sha256_of "$tmp")
	if [ "$have" != "$want" ]; then
		rm -f "$tmp"
		mismatch "$dest" "$want" "$have" \
			"The download was deleted: the mirror served something other than the pinned file."
	fi
	mv -f "$tmp" "$dest"
	printf '  DONE    %-11s %s\n' "$name" "$file"
}

n=0
while read -r name version sha path extra; do
	case $name in ''|\#*) continue ;; esac
	if [ -z "$path" ] || [ -n "$extra" ] || [ ${#sha} -ne 64 ]; then
		echo "download: malformed line for '$name' in $lock" >&2
		exit 1
	fi
	fetch_one "$name" "$version" "$sha" "$path"
	n=$((n + 1))
done <"$lock"
echo "download: $n sources verified in $dl"
