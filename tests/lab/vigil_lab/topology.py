"""Declaring a topology: nodes (network namespaces), links (veth pairs), addresses, routes.

A topology is plain data; `Lab` turns it into kernel objects. Names here are short and
per-topology ("s1-edge"); the lab prefixes them per run so two runs never collide.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

IFNAMSIZ = 15  # longest interface name the kernel accepts


@dataclass(frozen=True)
class Netem:
    """A `tc netem` impairment on one interface's egress."""
    delay_ms: float | None = None
    jitter_ms: float | None = None
    loss_pct: float | None = None
    rate_mbit: float | None = None

    def tc_args(self) -> list[str]:
        args: list[str] = []
        if self.delay_ms is not None:
            args += ["delay", f"{self.delay_ms}ms"]
            if self.jitter_ms is not None:
                args += [f"{self.jitter_ms}ms"]
        if self.loss_pct is not None:
            args += ["loss", f"{self.loss_pct}%"]
        if self.rate_mbit is not None:
            args += ["rate", f"{self.rate_mbit}mbit"]
        if not args:
            raise ValueError("netem impairment with nothing set")
        return args


@dataclass
class Interface:
    node: str
    name: str
    addresses: list[str] = field(default_factory=list)  # CIDR, IPv4 or IPv6

    def address(self, family: int = 4) -> str:
        """The first address of the family, without prefix length."""
        for a in self.addresses:
            iface = ipaddress.ip_interface(a)
            if iface.version == family:
                return str(iface.ip)
        raise KeyError(f"{self.node}:{self.name} has no IPv{family} address")


@dataclass
class Link:
    a: Interface
    b: Interface
    netem: Netem | None = None  # applied to both directions


@dataclass
class Route:
    node: str
    destination: str  # CIDR or "default"
    via: str
    metric: int | None = None


@dataclass
class Node:
    name: str
    role: str = "host"  # host, router (forwards), switch (a bridge over its links)
    sysctls: dict[str, str] = field(default_factory=dict)


class Topology:
    def __init__(self, name: str):
        self.name = name
        self.nodes: dict[str, Node] = {}
        self.links: list[Link] = []
        self.routes: list[Route] = []

    def add_node(self, name: str, role: str = "host") -> Node:
        if name in self.nodes:
            raise ValueError(f"duplicate node {name!r}")
        if role not in ("host", "router", "switch"):
            raise ValueError(f"node {name!r}: unknown role {role!r}")
        node = Node(name, role)
        if role == "router":
            node.sysctls.update({
                "net.ipv4.ip_forward": "1",
                "net.ipv6.conf.all.forwarding": "1",
                # A route over a link whose carrier is gone is skipped, so a backup route
                # with a higher metric takes over when a WAN link is cut.
                "net.ipv4.conf.all.ignore_routes_with_linkdown": "1",
                "net.ipv6.conf.all.ignore_routes_with_linkdown": "1",
            })
        self.nodes[name] = node
        return node

    def link(self, a: str, a_if: str, b: str, b_if: str, a_addrs: tuple[str, ...] = (),
             b_addrs: tuple[str, ...] = (), netem: Netem | None = None) -> Link:
        for node, ifname in ((a, a_if), (b, b_if)):
            if node not in self.nodes:
                raise ValueError(f"link to unknown node {node!r}")
            if len(ifname) > IFNAMSIZ:
                raise ValueError(f"interface name {ifname!r} is longer than {IFNAMSIZ}")
            if self.interface(node, ifname, missing_ok=True):
                raise ValueError(f"duplicate interface {node}:{ifname}")
        for addr in a_addrs + b_addrs:
            ipaddress.ip_interface(addr)  # raises on a bad address
        link = Link(Interface(a, a_if, list(a_addrs)), Interface(b, b_if, list(b_addrs)), netem)
        self.links.append(link)
        return link

    def route(self, node: str, destination: str, via: str, metric: int | None = None) -> None:
        if node not in self.nodes:
            raise ValueError(f"route on unknown node {node!r}")
        if destination != "default":
            ipaddress.ip_network(destination)
        ipaddress.ip_address(via)
        self.routes.append(Route(node, destination, via, metric))

    def interface(self, node: str, name: str, missing_ok: bool = False) -> Interface | None:
        for link in self.links:
            for end in (link.a, link.b):
                if end.node == node and end.name == name:
                    return end
        if missing_ok:
            return None
        raise KeyError(f"no interface {node}:{name}")

    def interfaces(self, node: str) -> list[Interface]:
        return [end for link in self.links for end in (link.a, link.b) if end.node == node]
