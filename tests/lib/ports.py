"""A free TCP port on the loopback, for a daemon or a QEMU forward a test
starts (tests/integration, tests/lib/qemuconsole.py)."""
import socket


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
