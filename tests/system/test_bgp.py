"""BGP routes reach vigil-dp's FIB over FPM: FRR's zebra beside vigil-dp on the edge sends what
bgpd learned from an external FRR router (the far host) to vigil-dp's FPM listener; the routes
show with source bgp and traffic follows them through the fast path (the edge's kernel does
not forward); a withdrawal removes them; zebra killed and started again replays, and what it
no longer has is swept. (FRR is started here by the test with a hand-written config until
vigild supervises it: the FPM path is the same.)"""

from __future__ import annotations

import re
import signal

import pytest

from conftest import needs_root
from vigil_lab.fastpath import (ROUTED_EDGE_CONFIG, hosts_checksum_in_software, start_routing)
from vigil_lab.frr import FrrNode, frr_available
from vigil_lab.lab import Lab
from vigil_lab.topologies import routed

pytestmark = [needs_root, pytest.mark.skipif(not frr_available(), reason="FRR not installed")]

# The edge without its static default routes: 203.0.113.0/24 is reachable only by BGP.
EDGE_CONFIG = ROUTED_EDGE_CONFIG.replace(
    """routing:
  static:
    - {prefix: 0.0.0.0/0, next_hops: [{via: 198.18.20.1}]}
    - {prefix: "::/0", next_hops: [{via: "2001:db8:20::1"}]}
""", """routing:
  bgp:
    asn: 65001
    router_id: 10.20.1.1
    policies: {all: {rules: [{}]}}
    neighbors:
      - {address: 198.18.20.1, remote_as: 65002, import_policy: all, export_policy: all}
""")

EDGE_ZEBRA = "fpm address 127.0.0.1\nno fpm use-next-hop-groups\n"
EDGE_BGPD = """router bgp 65001
 bgp router-id 10.20.1.1
 no bgp ebgp-requires-policy
 neighbor 198.18.20.1 remote-as 65002
 neighbor 198.18.20.1 timers 1 3
 neighbor 198.18.20.1 timers connect 1
"""
FAR_BGPD = """router bgp 65002
 bgp router-id 198.18.20.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 198.18.20.2 remote-as 65001
 neighbor 198.18.20.2 timers 1 3
 neighbor 198.18.20.2 timers connect 1
 address-family ipv4 unicast
  network 203.0.113.0/24
  network 198.51.100.0/24
 exit-address-family
"""


def bgp_routes(vn) -> dict[str, dict]:
    routes = vn.call("vigil-dp", "dataplane.show")["routes"]
    return {r["prefix"]: r for r in routes if r.get("source") == "bgp"}


def metric(vn, name: str, labels: str = "") -> float | None:
    """A vigil-dp metric's value (its text exposition, updated every second), or None."""
    text = vn.call("vigil-dp", "metrics")["text"]
    pattern = (rf'^{name}\{{{labels}[^}}]*\}} (\S+)$' if labels
               else rf'^{name}(?:\{{[^}}]*\}})? (\S+)$')
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else None


def test_bgp_routes_reach_the_fast_path_over_fpm(binaries):
    with Lab(routed()) as lab:
        hosts_checksum_in_software(lab, ("host", "far"))
        lab.run("far", ["ip", "addr", "add", "203.0.113.1/32", "dev", "lo"])
        vn = start_routing(lab, {"edge": EDGE_CONFIG}, daemons=("vigild", "vigil-dp"))["edge"]
        far = FrrNode(lab, "far", {"bgpd": FAR_BGPD})
        edge = FrrNode(lab, "edge", {"zebra": EDGE_ZEBRA, "bgpd": EDGE_BGPD},
                       zebra_modules=("dplane_fpm_nl",))
        try:
            lab.wait_for(lambda: "203.0.113.0/24" in bgp_routes(vn), timeout=30,
                         what="203.0.113.0/24 from BGP in vigil-dp's FIB")
            route = bgp_routes(vn)["203.0.113.0/24"]
            assert route["next_hops"][0]["via"] == "198.18.20.1", route
            assert route["next_hops"][0]["port"] == "wan1", route
            # Traffic follows it through the fast path (the edge's kernel does not forward).
            lab.wait_for(lambda: lab.ping("host", "203.0.113.1", count=1)["received"],
                         timeout=10, what="a ping along the BGP route")
            lab.wait_for(lambda: metric(vn, "vigil_dp_fpm_connected") == 1, timeout=5,
                         what="vigil_dp_fpm_connected 1")
            lab.wait_for(lambda: metric(vn, "vigil_dp_bgp_routes", 'state="selected"') == 2,
                         timeout=5, what="two BGP routes selected")

            # Withdrawn at the far end: gone from the FIB.
            far.vtysh("configure terminal\nrouter bgp 65002\naddress-family ipv4 unicast\n"
                      "no network 198.51.100.0/24")
            lab.wait_for(lambda: "198.51.100.0/24" not in bgp_routes(vn), timeout=20,
                         what="198.51.100.0/24 withdrawn")

            # zebra killed (no word over FPM, as in a crash): the routes stay while it may come
            # back; started again, it replays, and what it no longer has (the far end withdrew
            # 203.0.113.0/24 meanwhile) is swept once the replay has gone quiet.
            connections = metric(vn, "vigil_dp_fpm_connections_total")
            swept = metric(vn, "vigil_dp_fpm_swept_total") or 0
            edge.procs[0].stop(signal.SIGKILL)
            lab.wait_for(lambda: metric(vn, "vigil_dp_fpm_connected") == 0, timeout=5,
                         what="vigil-dp seeing zebra gone")
            edge.stop()
            far.vtysh("configure terminal\nrouter bgp 65002\naddress-family ipv4 unicast\n"
                      "no network 203.0.113.0/24")
            assert "203.0.113.0/24" in bgp_routes(vn)
            edge = FrrNode(lab, "edge", {"zebra": EDGE_ZEBRA, "bgpd": EDGE_BGPD},
                           zebra_modules=("dplane_fpm_nl",))
            lab.wait_for(lambda: metric(vn, "vigil_dp_fpm_connections_total") > connections,
                         timeout=20, what="zebra connected again")
            lab.wait_for(lambda: "203.0.113.0/24" not in bgp_routes(vn), timeout=30,
                         what="the stale route swept after the replay")
            # vigil-dp's sweep removed it (the new zebra never had it to withdraw).
            lab.wait_for(lambda: (metric(vn, "vigil_dp_fpm_swept_total") or 0) > swept,
                         timeout=5, what="vigil_dp_fpm_swept_total counting the sweep")
        finally:
            edge.stop()
            far.stop()
