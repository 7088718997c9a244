"""A VLAN-tagged peer for a QEMU network, without the kernel's 8021q
(a CI host may not have it): run inside a network namespace of the
test's, it makes a tap device there and relays frames between it and a
QEMU `-netdev socket,udp=...` on the namespace's loopback, adding the
802.1Q tag VLAN to the tap's frames and passing on only QEMU's frames
tagged VLAN (the tag removed).  An address on the tap then talks to the
guest only if the guest tags its frames.

    ip netns exec NS python3 vlanpeer.py TAP VLAN LISTEN_PORT QEMU_PORT

Counts go to stdout, one line a second: "tagged N untagged N other N"
(frames from QEMU with our tag, without a tag, with another tag).
"""
import fcntl
import os
import select
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454ca
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def main():
    tap_name, vlan, listen, qemu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
        int(sys.argv[4])
    tap = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", tap_name.encode(), IFF_TAP | IFF_NO_PI))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", listen))
    tag = b"\x81\x00" + struct.pack("!H", vlan)
    counts = {"tagged": 0, "untagged": 0, "other": 0}
    last = 0
    print("ready", flush=True)
    while True:
        r, _, _ = select.select([tap, sock], [], [], 1)
        if tap in r:
            f = os.read(tap, 65536)
            if len(f) >= 14:
                sock.sendto(f[:12] + tag + f[12:], ("127.0.0.1", qemu))
        if sock in r:
            f = sock.recv(65536)
            if len(f) < 14:
                continue
            if f[12:14] != b"\x81\x00":
                counts["untagged"] += 1
            elif len(f) >= 18 and struct.unpack("!H", f[14:16])[0] & 0xfff == vlan:
                counts["tagged"] += 1
                os.write(tap, f[:12] + f[16:])
            else:
                counts["other"] += 1
        if time.monotonic() - last >= 1:
            last = time.monotonic()
            print(" ".join("%s %d" % kv for kv in counts.items()), flush=True)


if __name__ == "__main__":
    main()
