"""The edge box's config for the `routed` topology with vigil-dp forwarding over AF_XDP, and
how to tell it is forwarding: shared by the lab test and the throughput benchmark."""

from __future__ import annotations

from . import rpc

ROUTED_EDGE_CONFIG = """system: {hostname: edge}
interfaces:
  lan0: {role: lan, xdp: true, addresses: [10.20.1.1/24, "fd00:20:1::1/64"]}
  wan1: {role: wan, xdp: true, addresses: [198.18.20.2/30, "2001:db8:20::2/64"]}
routing:
  static:
    - {prefix: 0.0.0.0/0, next_hops: [{via: 198.18.20.1}]}
    - {prefix: "::/0", next_hops: [{via: "2001:db8:20::1"}]}
dataplane: {forwarding: true, mode: af_xdp, lcores: [1], memory_mb: 512, mbufs: 4095,
            max_routes_ipv4: 4096, max_routes_ipv6: 4096}
"""


def dataplane(vn) -> dict:
    return vn.call("vigil-dp", "dataplane.show")


def forwarding(vn) -> bool:
    """Whether vigil-dp answers and its fast path runs."""
    try:
        return dataplane(vn)["forwarding"]
    except (OSError, rpc.RpcError):
        return False
