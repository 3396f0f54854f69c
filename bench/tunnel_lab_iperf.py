#!/usr/bin/env python3
"""TCP throughput from one site to another, side by side in one run: in the clear (the edges'
kernels forwarding, the internet node routing the sites: the raw veth path, the ceiling), through
wireguard-go tunnels between the edges (Debian's 0.0.20220316, the kernel forwarding into and
out of them), and through vigil-dp's tunnels (each edge's fast path over AF_XDP sealing and
opening, one forwarding lcore each, rx_mode adaptive as two fast paths share the two CPUs; the
internet node no longer routes the sites' networks), and as the control, vigil-dp's fast paths
routing the same traffic in the clear (what the AF_XDP path costs before any crypto). The
`two_sites` lab, iperf3 from s1-client to s2-backend, interleaved: clear, wireguard-go,
vigil-dp, control, clear, ...

    sudo bench/tunnel_lab_iperf.py [--runs 5] [--seconds 5] [--smoke]

Prints a Markdown table: median (min, max) Gbit/s and the ratio to the clear path.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "lab"))

from vigil_lab.fastpath import (hosts_checksum_in_software, make_mesh_keys,  # noqa: E402
                                mesh_section, site_edge_config, site_hosts, start_routing,
                                tunnels_only)
from vigil_lab.lab import Lab  # noqa: E402
from vigil_lab.topologies import two_sites  # noqa: E402

from side_by_side import print_table, run_interleaved, run_options  # noqa: E402

SITES = (1, 2)


def wireguard_go(lab: Lab, keys: dict) -> None:
    """A wireguard-go interface on each edge, the other edge its peer at its wan1 address,
    the other site's networks routed into it."""
    for n in SITES:
        ifname = f"wgb{n}{os.getpid() % 10000}"  # the control socket's name is shared
        lab.spawn(f"s{n}-edge", ["wireguard-go", "-f", ifname], name="wireguard-go",
                  env={"WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD": "1"})
        lab.wait_for(Path(f"/var/run/wireguard/{ifname}.sock").exists, timeout=10,
                     what="wireguard-go's control socket")
        m = 3 - n
        lab.run(f"s{n}-edge", ["wg", "set", ifname, "private-key", str(keys[n][0]),
                               "listen-port", "51820", "peer", keys[m][1],
                               "allowed-ips", f"10.{m}.0.0/16", "endpoint",
                               f"198.18.{m}.2:51820"])
        lab.run(f"s{n}-edge", ["ip", "link", "set", ifname, "up"])
        lab.run(f"s{n}-edge", ["ip", "route", "add", f"10.{m}.0.0/16", "dev", ifname])


def measure(kind: str, seconds: float) -> float:
    with Lab(two_sites()) as lab:
        hosts_checksum_in_software(lab, site_hosts(SITES))  # the same for all
        if kind == "vigil-clear":
            start_routing(lab, {f"s{n}-edge": site_edge_config(n) for n in SITES},
                          daemons=("vigild", "vigil-dp"))
        elif kind != "clear":
            keys = make_mesh_keys(lab.log_dir, SITES)
            tunnels_only(lab, SITES)
            if kind == "wireguard-go":
                wireguard_go(lab, keys)
            else:
                start_routing(lab, {f"s{n}-edge": site_edge_config(n, mesh=mesh_section(n, keys))
                                    for n in SITES}, daemons=("vigild", "vigil-dp"))
        lab.spawn("s2-backend", ["iperf3", "-s"], name="iperf3")
        lab.wait_for(lambda: ":5201" in lab.run("s2-backend", ["ss", "-ltn"]).stdout,
                     timeout=5, what="iperf3 listening")
        lab.wait_for(lambda: lab.ping("s1-client", "10.2.1.20", count=1)["received"],
                     timeout=20, what="a path from site 1 to site 2")
        out = lab.run("s1-client", ["iperf3", "-c", "10.2.1.20", "-t", str(seconds), "-J"],
                      timeout=seconds + 30).stdout
        return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e9


def main():
    args = run_options(__doc__.splitlines()[0], runs=5, seconds=5, smoke_seconds=1)
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces, XDP, DPDK)")
    if subprocess.run(["which", "wireguard-go"], capture_output=True).returncode != 0:
        sys.exit("needs wireguard-go (scripts/install-deps)")
    results = run_interleaved(
        [("in the clear (kernels forwarding, no tunnel)", lambda: measure("clear", args.seconds)),
         ("wireguard-go tunnels (kernels forwarding)",
          lambda: measure("wireguard-go", args.seconds)),
         ("vigil-dp tunnels (AF_XDP, 1 lcore each, adaptive)",
          lambda: measure("vigil", args.seconds)),
         ("control: vigil-dp routing in the clear, no tunnel (same lcores)",
          lambda: measure("vigil-clear", args.seconds))],
        args.runs, "Gbit/s")
    print_table(results, "path", "Gbit/s", "clear")


if __name__ == "__main__":
    main()
