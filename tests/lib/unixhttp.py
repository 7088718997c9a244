"""HTTP and XML-RPC over a daemon's Unix socket (local root: xe, the
console), for the integration and pool suites.  A Unix socket is a path:
it works from whichever network namespace the caller is in."""
import http.client
import socket
import xmlrpc.client


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


class UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def make_connection(self, host):
        return UnixHTTPConnection(self.path)


def unix_proxy(path):
    """An XML-RPC proxy to the daemon at the Unix socket path."""
    return xmlrpc.client.ServerProxy("http://localhost/", transport=UnixTransport(path),
                                     allow_none=True)
