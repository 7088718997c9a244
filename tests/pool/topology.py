"""The pool suite's network: namespaces the fixture makes and removes,
with no link to this machine's own namespace (so no route out of them):

    client   10.88.0.10 --.                       pytest's network clients, node
    master   10.88.0.1  --+-- bridge br0 in lan   the master daemon
    member-a 10.88.0.3  --+                       member A, on the master's LAN
    router   10.88.0.2  --'  lan0
             10.88.1.1  ---  site0 --- eth0 10.88.1.2  member-b (behind NAT)

The router forwards from the site to the LAN only, masquerading as
10.88.0.2 (nftables), and refuses every new connection towards the site
(an ICMP "administratively prohibited", so a test learns it at once
rather than after a timeout): the master has a route to 10.88.1.0/24
through the router and still cannot open a connection to member B, as
behind a real NAT.  member-b
routes only the LAN through the router; no namespace has a default route.
(docs/POOL.md 12.)"""
import json
import os
import subprocess

from netns import Netns

LAN, SITE = "10.88.0.0/24", "10.88.1.0/24"
ADDR = {"master": "10.88.0.1", "router": "10.88.0.2", "member-a": "10.88.0.3",
        "client": "10.88.0.10", "router-site": "10.88.1.1", "member-b": "10.88.1.2"}
ON_LAN = ("client", "master", "member-a")

# the router: forward site -> LAN and what belongs to those connections,
# nothing else; the site's traffic leaves as the router's LAN address
NFT = """
table inet xbp_filter {
    chain forward {
        type filter hook forward priority 0; policy drop;
        ct state established,related accept
        iifname "site0" oifname "lan0" accept
        iifname "lan0" oifname "site0" reject with icmpx type admin-prohibited
    }
}
table ip xbp_nat {
    chain postrouting {
        type nat hook postrouting priority 100; policy accept;
        oifname "lan0" masquerade
    }
}
"""


class Topology:
    """ns[role]: the Netns of "lan", "client", "master", "member-a",
    "router", "member-b".  destroy() removes whatever was made, also
    after a build that failed half-way."""

    ROLES = ("lan", "client", "master", "member-a", "router", "member-b")

    def __init__(self):
        self.ns = {}

    def build(self):
        for role in self.ROLES:
            self.ns[role] = Netns(role)
        lan = self.ns["lan"]
        lan.ip("link", "add", "br0", "type", "bridge")
        lan.ip("link", "set", "br0", "up")
        # one veth per host on the bridge: "p-<role>" in lan, eth0 there
        for role in ON_LAN + ("router",):
            port = "p-" + role
            inner = "lan0" if role == "router" else "eth0"
            lan.ip("link", "add", port, "type", "veth", "peer", "name", inner,
                   "netns", self.ns[role].name)
            lan.ip("link", "set", port, "master", "br0", "up")
            n = self.ns[role]
            n.ip("addr", "add", ADDR[role] + "/24", "dev", inner)
            n.ip("link", "set", inner, "up")
        rt = self.ns["router"]
        rt.ip("link", "add", "site0", "type", "veth", "peer", "name", "eth0",
              "netns", self.ns["member-b"].name)
        rt.ip("addr", "add", ADDR["router-site"] + "/24", "dev", "site0")
        rt.ip("link", "set", "site0", "up")
        mb = self.ns["member-b"]
        mb.ip("addr", "add", ADDR["member-b"] + "/24", "dev", "eth0")
        mb.ip("link", "set", "eth0", "up")
        mb.ip("route", "add", LAN, "via", ADDR["router-site"])
        # the master could route to the site: the router is what says no
        self.ns["master"].ip("route", "add", SITE, "via", ADDR["router"])
        with rt.entered():      # /proc/sys/net is the opener's namespace's
            with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
                f.write("1\n")
        rt.run("nft", "-f", "-", input=NFT)
        return self

    def destroy(self):
        for n in self.ns.values():
            n.delete()
        self.ns = {}

    def __getitem__(self, role):
        return self.ns[role]

    def cut(self, up):
        """member-b's link at the router: down (cut off) or up."""
        self.ns["router"].ip("link", "set", "site0", "up" if up else "down")

    # ---- what the suite asserts about the fabric itself ----

    def default_routes(self):
        """{role: the default routes it has} (IPv4 and IPv6)."""
        out = {}
        for role, n in self.ns.items():
            for fam in ("-4", "-6"):
                r = n.ip(fam, "route", "show", "default").stdout.strip()
                if r:
                    out.setdefault(role, []).append(r)
        return out

    def routable(self, role, dest):
        """Whether the kernel of role has a route to dest (a lookup:
        nothing is sent)."""
        fam = "-6" if ":" in dest else "-4"
        return self.ns[role].ip(fam, "route", "get", dest, check=False).returncode == 0

    def foreign_peers(self):
        """Links whose other end is in no namespace of this fabric (this
        machine's own namespace, say): [(role, ifname, peer netns)]."""
        names = {n.name for n in self.ns.values()}
        bad = []
        for role, n in self.ns.items():
            ids = {}
            for line in n.ip("netns", "list-id").stdout.splitlines():
                # "nsid 0 (iproute2 netns name: xbt-...)"
                p = line.split()
                if len(p) >= 2:
                    ids[int(p[1])] = line.split("name: ")[1].rstrip(")") \
                        if "name: " in line else "?"
            for link in json.loads(n.ip("-j", "link", "show").stdout):
                if "link_netnsid" in link and ids.get(link["link_netnsid"], "?") not in names:
                    bad.append((role, link["ifname"], ids.get(link["link_netnsid"], "?")))
                elif link.get("link_type") not in ("loopback", "ether", "none"):
                    bad.append((role, link["ifname"], link.get("link_type")))
        return bad


def existing():
    """The namespaces of this process still there (for the teardown's
    check)."""
    prefix = "xbt-%d-" % os.getpid()
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [l.split()[0] for l in r.stdout.splitlines() if l.startswith(prefix)]
