#!/bin/bash
# XML-RPC peer benchmark: xenbox beside xmlrpc-c, Python and the
# canned-response limit server, on identical bytes, in one run each:
#   1. VM.get_record over keep-alive (the shared harness's canonical call)
#   2. VM.get_all_records with N VMs (default 1000): the request and the
#      canned reply every peer serves are made from xenbox's own answer
# Prints the harness's table (req/s, p50/p99 latency, RSS) for each, and
# xenbox's idle RSS.
#   bench/xmlrpc/run.sh [servers...]     env: XENBOX, N, DURATION, CONNS
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SHARED:-$TOP/../shared/bench/xmlrpc}
HERE=$TOP/bench/xmlrpc
N=${N:-1000}
[ -d "$SHARED" ] || { echo "no shared harness at $SHARED" >&2; exit 2; }
for p in wrk libxmlrpc-core-c3-dev; do
	dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q "ok installed" ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $p; }
done
if [ -z "${XENBOX:-}" ]; then
	make -s -C "$TOP" O="$TOP/output/bench" qemu_x86_64_defconfig >/dev/null
	make -s -C "$TOP" O="$TOP/output/bench" -j"$(nproc)" all
	XENBOX=$TOP/output/bench/images/xenbox
fi
export XENBOX
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "### 1. VM.get_record (canonical record, 12.5 KB reply)"
export XENBOX_STATE=$WORK/state1
python3 "$HERE/seed.py" record "$XENBOX" "$XENBOX_STATE" "$SHARED"
CONF=$HERE/servers.conf "$SHARED/run.sh" "$@"

echo "### 2. VM.get_all_records with $N VMs"
H2=$WORK/harness
cp -r "$SHARED" "$H2"
rm -rf "$H2/results"
export XENBOX_STATE=$WORK/state2
python3 "$HERE/seed.py" all-records "$XENBOX" "$XENBOX_STATE" "$SHARED" "$N" "$H2" >/dev/null
echo "reply: $(wc -c <"$H2/response_vm_get_record.xml") bytes (canonical format)"
CONF=$HERE/servers.conf "$H2/run.sh" "$@"

echo "### idle RSS of xenbox with the $N VMs loaded"
"$XENBOX" daemon --state-dir "$XENBOX_STATE" --backend sim --http 127.0.0.1:18099 \
	--https "" --unix "" 2>/dev/null &
pid=$!
sleep 2
awk '/^VmRSS|^VmHWM/{printf "%s %.2f MiB\n", $1, $2/1024}' /proc/$pid/status
kill $pid; wait $pid 2>/dev/null || true
