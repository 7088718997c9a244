#!/bin/bash
# `make run-host`: build what is missing and run xenbox on this machine.
# (`make run` boots the USB image under QEMU.)  This starts the daemon on this
# machine with the simulated hypervisor, on loopback, and says how to
# connect.  State lives in output/run/state; the password is printed once.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
O=$TOP/output/run
support/deps.sh
make -s source
[ -f "$O/.config" ] || make -s O="$O" qemu_x86_64_defconfig
make -s -j"$(nproc)" O="$O" all
XB=$O/images/xenbox
STATE=$O/state
mkdir -p "$STATE"
if [ ! -f "$STATE/passwd" ]; then
	PW=${XENBOX_PASSWORD:-$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | cut -c1-12)}
	echo "$PW" | "$XB" passwd --state-dir "$STATE"
	echo "root password: $PW (kept as a hash in $STATE/passwd)"
fi
HTTP=${XENBOX_HTTP:-127.0.0.1:8080}
cat <<MSG
xenbox: XenAPI on http://$HTTP/ (XML-RPC: POST /, JSON-RPC: POST /jsonrpc)
        user root; local socket $STATE/xapi.sock
        e.g. python3 -c 'import xmlrpc.client as x; s=x.ServerProxy("http://$HTTP/");
             print(s.session.login_with_password("root", "PASSWORD"))'
        simulated hypervisor (no Xen on this machine); Ctrl-C stops it
MSG
exec "$XB" daemon --state-dir "$STATE" --backend sim --http "$HTTP" --https "" \
	--unix "$STATE/xapi.sock"
