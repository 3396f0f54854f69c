"""The topologies the lab ships.

Each site N has a LAN (10.N.1.0/24, fd00:N:1::/64) behind its edge box, with a client
(.10) and a backend (.20) on a switch, and two WAN links to a shared "internet" node:
wan1 198.18.N.0/30 and wan2 198.18.N.4/30 (RFC 2544 benchmarking space), 2001:db8:N:1::/64
and 2001:db8:N:2::/64. The edge box is where Vigil runs; its kernel forwards unless
a test or the demo turns that off and lets vigil-dp route. The internet node routes each site's
LAN over wan1, with wan2 as the backup when wan1's carrier is gone.
"""

from __future__ import annotations

from .topology import Topology


def site_names(n: int) -> dict[str, str]:
    return {
        "edge": f"s{n}-edge",
        "client": f"s{n}-client",
        "backend": f"s{n}-backend",
        "switch": f"s{n}-lan",
    }


def add_site(topo: Topology, n: int, internet: str = "internet") -> None:
    if not 1 <= n <= 250:
        raise ValueError("site number must be 1..250")
    names = site_names(n)
    topo.add_node(names["edge"], role="router")
    topo.add_node(names["client"])
    topo.add_node(names["backend"])
    topo.add_node(names["switch"], role="switch")

    lan4, lan6 = f"10.{n}.1", f"fd00:{n}:1:"
    topo.link(names["edge"], "lan0", names["switch"], "p-edge",
              a_addrs=(f"{lan4}.1/24", f"{lan6}:1/64"))
    for host, octet in (("client", 10), ("backend", 20)):
        topo.link(names[host], "eth0", names["switch"], f"p-{host}",
                  a_addrs=(f"{lan4}.{octet}/24", f"{lan6}:{octet:x}/64"))
        topo.route(names[host], "default", f"{lan4}.1")
        topo.route(names[host], "default", f"{lan6}:1")

    for k in (1, 2):
        base = 4 * (k - 1)
        topo.link(names["edge"], f"wan{k}", internet, f"s{n}-wan{k}",
                  a_addrs=(f"198.18.{n}.{base + 2}/30", f"2001:db8:{n}:{k}::2/64"),
                  b_addrs=(f"198.18.{n}.{base + 1}/30", f"2001:db8:{n}:{k}::1/64"))
        metric = 100 * k
        topo.route(names["edge"], "default", f"198.18.{n}.{base + 1}", metric)
        topo.route(names["edge"], "default", f"2001:db8:{n}:{k}::1", metric)
        topo.route(internet, f"10.{n}.0.0/16", f"198.18.{n}.{base + 2}", metric)
        topo.route(internet, f"fd00:{n}::/32", f"2001:db8:{n}:{k}::2", metric)


def sites(count: int, name: str | None = None) -> Topology:
    topo = Topology(name or f"{count}_sites")
    topo.add_node("internet", role="router")
    for n in range(1, count + 1):
        add_site(topo, n)
    return topo


def two_sites() -> Topology:
    return sites(2, "two_sites")


def three_sites() -> Topology:
    return sites(3, "three_sites")


def l4_lb() -> Topology:
    """An L4 load balancer and its backends on one segment (10.10.0.0/24, a switch): a client
    (.2) reaches VIP 10.100.0.1 through the balancer "lb" (.1, where Vigil runs with XDP on
    lan0); the balancer encapsulates each flow to the router "gw" (.254), which forwards it
    to backend be1 (.11) or be2 (.12); the backends decapsulate (Vigil's decap program) and
    answer the client directly (direct server return)."""
    topo = Topology("l4_lb")
    topo.add_node("sw", role="switch")
    topo.add_node("client")
    topo.add_node("lb")
    topo.add_node("gw", role="router")
    topo.nodes["gw"].sysctls.update({"net.ipv4.conf.all.send_redirects": "0",
                                     "net.ipv4.conf.default.send_redirects": "0"})
    for name in ("be1", "be2"):
        topo.add_node(name)
        topo.nodes[name].sysctls.update({"net.ipv4.conf.all.rp_filter": "0",
                                         "net.ipv4.conf.default.rp_filter": "0"})
    hosts = (("client", "eth0", "10.10.0.2/24"),
             ("lb", "lan0", "10.10.0.1/24"),
             ("gw", "eth0", "10.10.0.254/24"),
             ("be1", "eth0", "10.10.0.11/24"),
             ("be2", "eth0", "10.10.0.12/24"))
    for node, ifname, addr in hosts:
        topo.link(node, ifname, "sw", f"p-{node}", a_addrs=(addr,))
    topo.route("client", "10.100.0.0/24", "10.10.0.1")
    return topo


def add_routed(topo: Topology, prefix: str = "") -> None:
    """The nodes and links of `routed` (below), each node name with `prefix` in front."""
    host, edge, far = (f"{prefix}{n}" for n in ("host", "edge", "far"))
    topo.add_node(host)
    topo.add_node(edge, role="router")  # the kernel forwards unless a test turns it off
    topo.add_node(far)
    topo.link(host, "eth0", edge, "lan0", a_addrs=("10.20.1.10/24", "fd00:20:1::10/64"),
              b_addrs=("10.20.1.1/24", "fd00:20:1::1/64"))
    topo.link(edge, "wan1", far, "eth0", a_addrs=("198.18.20.2/30", "2001:db8:20::2/64"),
              b_addrs=("198.18.20.1/30", "2001:db8:20::1/64"))
    topo.route(host, "default", "10.20.1.1")
    topo.route(host, "default", "fd00:20:1::1")
    topo.route(far, "10.20.0.0/16", "198.18.20.2")
    topo.route(far, "fd00:20::/32", "2001:db8:20::2")


def routed() -> Topology:
    """One Vigil box routing between a LAN host and a far host: "host" (10.20.1.10/24,
    fd00:20:1::10/64) -- lan0 "edge" wan1 -- "far" (198.18.20.1/30, 2001:db8:20::1/64). The
    edge is a router; tests of vigil-dp turn its kernel's forwarding off, so that whatever
    crosses, the fast path carried. The far host routes the LAN back through the edge."""
    topo = Topology("routed")
    add_routed(topo)
    return topo


def routed_pair() -> Topology:
    """`routed` twice, side by side and unconnected: host/edge/far where Vigil runs and
    lx-host/lx-edge/lx-far where the edge is a plain Linux router, the reference a router
    conformance test compares Vigil with. Same addresses on both sides."""
    topo = Topology("routed_pair")
    add_routed(topo)
    add_routed(topo, "lx-")
    return topo


BY_NAME = {"two_sites": two_sites, "three_sites": three_sites, "l4_lb": l4_lb, "routed": routed,
           "routed_pair": routed_pair}
