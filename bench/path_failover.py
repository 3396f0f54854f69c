#!/usr/bin/env python3
"""Traffic lost when the active WAN link dies, Vigil's path probes against the set-up a user
would pick instead: Linux routing with FRR 8.4, a BGP session over a WireGuard tunnel (wireguard-go) on
each WAN link and BFD at 10 ms x 3 deciding when a link is dead.

Both run in the same `two_sites` lab (each edge with two WAN links to an internet node that
does not route the sites' networks), one after the other, with the same traffic: a
sequence-numbered UDP stream at 1,000 packets a second each way between the sites' clients.
Each cut of s1's wan1 (the active link) is one of:

  - link: s1-edge's wan1 taken down (the carrier goes);
  - loss: the internet node drops everything it sends on s1's wan1 (the carrier stays up; s1
    still sends on it, so only the echoes, or BFD's state, say the path is dead).

The outage of a cut is the longest gap either receiver saw (its own clock). Between cuts the
link is restored and traffic allowed back on it (Vigil: its 10 s hold time; FRR: the BGP
session up again). The table gives the median and max over --cuts cuts of each kind.

A Vigil stream that does not come back to its end is an error. A peer's is a result: on this
2-core machine FRR's BFD at 10 ms sometimes takes the wan2 session down too once all traffic
moves onto that wireguard-go tunnel, and BGP needs seconds to come back. Such a cut counts as
at least the packets missing at the stream's end (1 ms each), marked '>' and counted.

    sudo bench/path_failover.py [--cuts 20] [--smoke]
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "lab"))

from vigil_lab.fastpath import (hosts_checksum_in_software, make_mesh_keys,  # noqa: E402
                                mesh_section, site_edge_config, site_hosts, start_routing,
                                tunnels_only, wg_keypair)
from vigil_lab.frr import FrrNode, frr_available  # noqa: E402
from vigil_lab.lab import Lab  # noqa: E402
from vigil_lab.topologies import two_sites  # noqa: E402
from vigil_lab.topology import Netem  # noqa: E402

SITES = (1, 2)
LAB_PATH = str(REPO / "tests" / "lab")


def stream(lab: Lab, seconds: float, tag: str) -> list:
    env = {"PYTHONPATH": LAB_PATH}
    procs = [lab.spawn(node, [sys.executable, "-m", "vigil_lab.udp_stream", "receive", "40000",
                              "--seconds", str(seconds + 1.5)], name=f"rx-{node}-{tag}", env=env)
             for node in ("s1-client", "s2-client")]
    time.sleep(0.3)
    procs += [lab.spawn(src, [sys.executable, "-m", "vigil_lab.udp_stream", "send", dst, "40000",
                              "--rate", "1000", "--seconds", str(seconds)],
                        name=f"tx-{src}-{tag}", env=env)
              for src, dst in (("s1-client", "10.2.1.10"), ("s2-client", "10.1.1.10"))]
    return procs


class NotBack(float):
    """An outage that had not ended when the stream did: at least this many ms."""


def outage_ms(procs, system: str) -> float:
    """The longest gap either receiver saw. A stream that did not get through, or never came
    back (a gap that never ends is not one a receiver can see): an error for Vigil, a NotBack
    of the packets still missing for a peer."""
    for p in procs:
        p.popen.wait(timeout=60)
    results = [json.loads(p.log().strip().splitlines()[-1]) for p in procs]
    outage = max(r["longest_gap_ms"] for r in results[:2])
    # Receivers: s1-client's (s2 -> s1), s2-client's (s1 -> s2); senders: s1 -> s2, s2 -> s1.
    for r, sent in ((results[0], results[3]["sent"]), (results[1], results[2]["sent"])):
        if r["received"] < 1000 or r["highest"] < sent - 50:
            if system == "vigil":
                raise RuntimeError(f"the stream did not get through, or not to its end: {r}, "
                                   f"{sent} sent")
            outage = NotBack(max(outage, float(sent - r["highest"])))
    return outage


def cut(lab: Lab, kind: str) -> None:
    if kind == "link":
        lab.set_link("s1-edge", "wan1", up=False)
    else:
        lab.impair("internet", "s1-wan1", Netem(loss_pct=100))


def restore(lab: Lab, kind: str) -> None:
    if kind == "link":
        lab.set_link("s1-edge", "wan1", up=True)
    else:
        lab.clear_impairment("internet", "s1-wan1")


def show(ms: float) -> str:
    return f">{ms:.1f}" if isinstance(ms, NotBack) else f"{ms:.1f}"


def measure(lab: Lab, kinds, cuts: int, ready, system: str) -> dict:
    results = {kind: [] for kind in kinds}
    for k in range(cuts):
        for kind in kinds:  # interleaved
            lab.wait_for(ready, timeout=40, what=f"{system}: traffic back on wan1")
            procs = stream(lab, 3.0, f"{system}-{kind}-{k}")
            time.sleep(1.3)
            cut(lab, kind)
            results[kind].append(outage_ms(procs, system))
            restore(lab, kind)
            print(f"  {system} {kind} cut {k + 1}: {show(results[kind][-1])} ms", flush=True)
    return results


def vigil_run(cuts: int, kinds) -> dict:
    with Lab(two_sites()) as lab:
        hosts_checksum_in_software(lab, site_hosts(SITES))
        keys = make_mesh_keys(Path(tempfile.mkdtemp()), SITES)
        tunnels_only(lab, SITES)
        edges = start_routing(lab, {f"s{n}-edge": site_edge_config(n, mesh=mesh_section(n, keys))
                                    for n in SITES}, daemons=("vigild", "vigil-dp"))
        s1 = edges["s1-edge"]

        def ready() -> bool:
            peers = s1.call("vigil-dp", "mesh.show")["peers"]
            return all(p["state"] == "up" for peer in peers for p in peer["paths"]) and any(
                p["active"] and p["link"] == "wan1" for peer in peers for p in peer["paths"])

        return measure(lab, kinds, cuts, ready, "vigil")


def frr_configs(n: int) -> dict[str, str]:
    """Site n's FRR: a BGP session with the other site over each link's tunnel, BFD on each
    at 10 ms x 3, its LAN announced on both, the wan2 session's routes less preferred."""
    m = 3 - n
    bgp = [f"router bgp {65000 + n}", f" bgp router-id 198.18.{n}.2",
           " no bgp ebgp-requires-policy", " timers bgp 3 9"]
    for k in (1, 2):
        peer = f"172.16.{k}.{m}"
        bgp += [f" neighbor {peer} remote-as {65000 + m}", f" neighbor {peer} timers connect 1",
                f" neighbor {peer} bfd profile fast"]
    bgp += [" address-family ipv4 unicast", f"  network 10.{n}.1.0/24",
            f"  neighbor 172.16.2.{m} route-map BACKUP in", " exit-address-family",
            "route-map BACKUP permit 10", " set local-preference 50"]
    bfd = ["bfd", " profile fast", "  transmit-interval 10", "  receive-interval 10",
           "  detect-multiplier 3", " exit", "exit"]
    return {"zebra": "", "bfdd": "\n".join(bfd), "bgpd": "\n".join(bgp)}


def pin_tunnel(lab: Lab, n: int, k: int) -> None:
    """Tunnel k's outer packets (wireguard-go marks them k) leave by link k or not at all: a
    table of their own with the route over that link and nothing else, so a cut link is not
    bypassed by the main table's other default route (WireGuard would roam over it, and BFD
    would never see the link die)."""
    m = 3 - n
    host, gw = (2, 1) if k == 1 else (6, 5)
    table = str(100 + k)
    lab.run(f"s{n}-edge", ["ip", "route", "replace", f"198.18.{m}.{host}/32", "via",
                           f"198.18.{n}.{gw}", "dev", f"wan{k}", "table", table])
    lab.run(f"s{n}-edge", ["ip", "route", "replace", "unreachable", "default", "table", table])


def wireguard_tunnels(lab: Lab, tmp: Path) -> None:
    """A wireguard-go tunnel per WAN link between the two edges (172.16.k.0/24 inside, UDP
    5182k outside), each pinned to its link (pin_tunnel): the overlay a Linux site would run
    to carry its networks over the internet."""
    keys = {(n, k): wg_keypair() for n in SITES for k in (1, 2)}
    tag = os.getpid() % 10000
    for n in SITES:
        m = 3 - n
        for k, host in ((1, 2), (2, 6)):
            lab.run(f"s{n}-edge", ["ip", "rule", "add", "fwmark", str(k), "table", str(100 + k)])
            pin_tunnel(lab, n, k)
            ifname = f"pf{n}{k}-{tag}"
            lab.spawn(f"s{n}-edge", ["wireguard-go", "-f", ifname], name=f"wireguard-go-{k}",
                      env={"WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD": "1"})
            lab.wait_for(Path(f"/var/run/wireguard/{ifname}.sock").exists, timeout=10,
                         what=f"{ifname}'s control socket")
            key = tmp / f"{ifname}.key"
            key.write_text(keys[(n, k)][0] + "\n")
            key.chmod(0o600)
            lab.run(f"s{n}-edge", ["wg", "set", ifname, "private-key", str(key), "listen-port",
                                   f"5182{k}", "fwmark", str(k), "peer", keys[(m, k)][1], "allowed-ips",
                                   "0.0.0.0/0", "endpoint", f"198.18.{m}.{host}:5182{k}",
                                   "persistent-keepalive", "1"])
            lab.run(f"s{n}-edge", ["ip", "addr", "add", f"172.16.{k}.{n}/24", "dev", ifname])
            lab.run(f"s{n}-edge", ["ip", "link", "set", ifname, "up"])


def frr_run(cuts: int, kinds) -> dict:
    with Lab(two_sites()) as lab:
        hosts_checksum_in_software(lab, site_hosts(SITES))
        tunnels_only(lab, SITES)
        wireguard_tunnels(lab, Path(tempfile.mkdtemp()))
        nodes = {n: FrrNode(lab, f"s{n}-edge", frr_configs(n)) for n in SITES}

        def ready() -> bool:
            routes = lab.run("s1-edge", ["ip", "route", "show", "10.2.1.0/24"]).stdout
            up = nodes[1].vtysh("show bfd peers brief")
            return "172.16.1.2" in routes and up.count(" up ") >= 2

        lab.wait_for(ready, timeout=60, what="BGP and BFD up over both links")
        original = lab.set_link

        def set_link(node, ifname, up):  # the pinned route goes with the link: put it back
            original(node, ifname, up)
            if up and node == "s1-edge":
                pin_tunnel(lab, 1, int(ifname[-1]))

        lab.set_link = set_link
        return measure(lab, kinds, cuts, ready, "frr")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cuts", type=int, default=20)
    p.add_argument("--smoke", action="store_true", help="one cut of each kind, each system")
    args = p.parse_args()
    cuts = 1 if args.smoke else args.cuts
    kinds = ("link", "loss")
    results = {"vigil": vigil_run(cuts, kinds)}
    if frr_available():
        results["frr"] = frr_run(cuts, kinds)
    else:
        print("FRR is not installed (apt install frr): its rows are missing")
    print(f"\noutage on a cut of the active link, ms ({cuts} cuts of each kind)")
    print(f"{'system':<36} {'cut':<6} {'median':>8} {'max':>8} {'not back':>9}")
    names = {"vigil": "Vigil path probes (10 ms x 3)",
             "frr": "Linux + wg + FRR BGP, BFD 10 ms x 3"}
    for system, by_kind in results.items():
        for kind, values in by_kind.items():
            not_back = sum(isinstance(v, NotBack) for v in values)
            print(f"{names[system]:<36} {kind:<6} {statistics.median(values):8.1f} "
                  f"{show(max(values)):>8} {not_back:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
