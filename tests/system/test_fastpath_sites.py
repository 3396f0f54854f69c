"""vigil-dp on both edge boxes of two_sites: each routes between its site's LAN and its two WAN
links over AF_XDP, with its kernel's forwarding off, so all traffic between the sites crosses
two fast paths. Ping (IPv4, IPv6), TCP and UDP (iperf3) pass; when a WAN link loses its
carrier the box withdraws the routes over it and the backup route takes over within tens of
milliseconds; when it comes back, traffic returns to it. Both fast paths run on one CPU,
sleeping while idle (rx_mode: adaptive)."""

from __future__ import annotations

import json
import re
import subprocess

from conftest import needs_root
from vigil_lab.fastpath import (dataplane, default_route_port, hosts_checksum_in_software,
                                site_edge_config, site_hosts, start_routing)
from vigil_lab.lab import Lab
from vigil_lab.topologies import two_sites

pytestmark = needs_root

SITES = (1, 2)


def iperf3(lab: Lab, client: str, server_addr: str, *extra: str) -> dict:
    res = lab.run(client, ["iperf3", "-c", server_addr, "-t", "2", "-J", *extra], timeout=30)
    return json.loads(res.stdout)["end"]


def test_two_sites_route_through_vigil_dp_and_fail_over_on_carrier_loss(binaries):
    with Lab(two_sites()) as lab:
        hosts_checksum_in_software(lab, site_hosts(SITES))
        nodes = start_routing(lab, {f"s{n}-edge": site_edge_config(n) for n in SITES},
                              daemons=("vigild", "vigil-dp"))
        edges = {n: nodes[f"s{n}-edge"] for n in SITES}
        for vn in edges.values():
            assert dataplane(vn)["rx_mode"] == "adaptive"

        # Across both fast paths, both families; the first packets wait for ARP/ND.
        for dst in ("10.2.1.20", "fd00:2:1::14"):
            lab.wait_for(lambda dst=dst: lab.ping("s1-client", dst, count=1)["received"],
                         timeout=10, what=f"the first ping to {dst}")
            ping = lab.ping("s1-client", dst, count=20, interval=0.02)
            assert ping["received"] == 20, (dst, ping)

        # TCP and UDP flows through both boxes.
        server = lab.spawn("s2-backend", ["iperf3", "-s"], name="iperf3")
        lab.wait_for(lambda: ":5201" in lab.run("s2-backend", ["ss", "-ltn"]).stdout,
                     timeout=5, what="iperf3 server")
        tcp = iperf3(lab, "s1-client", "10.2.1.20")
        assert tcp["sum_received"]["bytes"] > 1_000_000, tcp["sum_received"]
        udp = iperf3(lab, "s1-client", "10.2.1.20", "-u", "-b", "20M")["sum"]
        assert udp["packets"] > 1000 and udp["lost_percent"] < 5, udp
        server.stop()
        for vn in edges.values():
            shown = dataplane(vn)
            assert shown["drops"]["malformed"] == 0, shown["drops"]
            assert shown["idle_sleeps"] > 0  # it did sleep while idle

        # Carrier loss on s2-edge's wan1: the fast path withdraws its routes over wan1 and
        # the default route leaves by wan2; the internet node's kernel does the same on its
        # side. 100 pings a second tell how long traffic was lost.
        assert default_route_port(edges[2]) == "wan1"
        ping = subprocess.Popen(["ip", "netns", "exec", lab.ns("s1-client"), "ping", "-n", "-q",
                                 "-i", "0.01", "-c", "300", "10.2.1.20"],
                                stdout=subprocess.PIPE, text=True)
        lab.wait_for(lambda: lab.ping("s1-client", "10.2.1.20", count=1)["received"],
                     timeout=5, what="traffic before the failure")
        lab.set_link("s2-edge", "wan1", up=False)
        lab.wait_for(lambda: default_route_port(edges[2]) == "wan2", timeout=2,
                     what="s2-edge's default route over wan2")
        wan1 = next(p for p in dataplane(edges[2])["ports"] if p["name"] == "wan1")
        assert wan1["link"] == "down", wan1
        assert "down" in edges[2].cli("show", "interfaces").stdout
        # vigild's Prometheus endpoint says so too (its scrape of vigil-dp runs every second).
        link_metric = re.compile(r'^vigil_dp_link_up\{port="wan1",[^}]*\} 0$', re.M)
        lab.wait_for(lambda: link_metric.search(lab.run(
            "s2-edge", ["curl", "-s", "http://127.0.0.1:9550/metrics"]).stdout), timeout=5,
            what="vigil_dp_link_up 0 for wan1")
        out, _ = ping.communicate(timeout=30)
        received = int(re.search(r"(\d+) received", out).group(1))
        # Each lost ping is 10 ms without a path (here typically one: the link is polled every
        # 20 ms); allow 150 ms for a loaded 2-CPU machine.
        assert received >= 285, out
        assert "0.0.0.0/0" in edges[2].cli("show", "routes").stdout

        # The link comes back: so do the routes over it.
        lab.set_link("s2-edge", "wan1", up=True)
        lab.wait_for(lambda: default_route_port(edges[2]) == "wan1", timeout=5,
                     what="s2-edge's default route back on wan1")
        lab.wait_for(lambda: lab.ping("s1-client", "fd00:2:1::14", count=1)["received"],
                     timeout=10, what="IPv6 after the link came back")
        ping = lab.ping("s1-client", "10.2.1.20", count=20, interval=0.02)
        assert ping["received"] == 20, ping
