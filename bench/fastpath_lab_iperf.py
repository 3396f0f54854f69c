#!/usr/bin/env python3
"""TCP throughput across one edge box, side by side in one run: the Linux kernel forwarding
between the namespaces (no XDP anywhere), the same behind an XDP program that passes every
frame (what a veth charges for any XDP program: the control row), and vigil-dp's fast path
over AF_XDP (classifier on both veths, one forwarding lcore, the edge's kernel not
forwarding), with flow offload off (every packet through vigil-dp) and on (vigil-dp routes
each flow's first packets, the XDP classifier forwards the rest). The `routed` lab topology,
iperf3 from host to far, the hosts' veths with GRO on (so they can take redirected frames) in
every run, interleaved: kernel, kernel behind XDP_PASS, vigil (lcore spinning), vigil
(spinning, short bursts held up to 100 us), vigil (lcore sleeping while idle), the same two
with offload, kernel, ...

    sudo bench/fastpath_lab_iperf.py [--runs 3] [--seconds 5] [--smoke]

Prints a Markdown table: median (min, max) Gbit/s and the ratio to the kernel.
"""
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "lab"))

from vigil_lab.fastpath import (ROUTED_EDGE_CONFIG, hosts_checksum_in_software,  # noqa: E402
                                hosts_take_redirected_frames, start_routing)
from vigil_lab.daemons import build_dir  # noqa: E402
from vigil_lab.lab import Lab  # noqa: E402
from vigil_lab.topologies import routed  # noqa: E402

from side_by_side import print_table, run_interleaved, run_options  # noqa: E402


def iperf(lab: Lab, seconds: float) -> float:
    out = lab.run("host", ["iperf3", "-c", "198.18.20.1", "-t", str(seconds), "-J"],
                  timeout=seconds + 30).stdout
    return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e9


def attach_xdp_pass(lab: Lab) -> None:
    """bench/xdp_pass.bpf.c, native mode, on both of the edge's veths."""
    program = build_dir() / "bench" / "xdp_pass.bpf.o"
    if not program.exists():
        sys.exit(f"{program} is missing: build the tree first (ninja -C build)")
    for dev in ("lan0", "wan1"):
        lab.run("edge", ["ip", "link", "set", "dev", dev, "xdpdrv", "obj", str(program),
                         "sec", "xdp"])
        if "xdp" not in lab.run("edge", ["ip", "link", "show", "dev", dev]).stdout:
            sys.exit(f"XDP_PASS did not attach to the edge's {dev}")


def measure(rx_mode: str | None, seconds: float, tx_hold_us: int = 0,
            offload: bool = False, xdp_pass: bool = False) -> float:
    """Through the kernel (rx_mode None; behind XDP_PASS on the edge's veths if `xdp_pass`)
    or vigil-dp with its lcore in `rx_mode`, holding short bursts up to `tx_hold_us`
    (dataplane.tx_hold_us), offloading flows to XDP or not (dataplane.flow_offload)."""
    with Lab(routed()) as lab:
        hosts_checksum_in_software(lab, ("host", "far"))  # the same for all
        hosts_take_redirected_frames(lab, ("host", "far"))
        if xdp_pass:
            attach_xdp_pass(lab)
        if rx_mode is not None:
            config = ROUTED_EDGE_CONFIG.replace(
                "dataplane: {", f"dataplane: {{rx_mode: {rx_mode}, tx_hold_us: {tx_hold_us}, "
                f"flow_offload: {'true' if offload else 'false'}, ")
            start_routing(lab, {"edge": config}, daemons=("vigild", "vigil-dp"))
        lab.spawn("far", ["iperf3", "-s"], name="iperf3")
        lab.wait_for(lambda: ":5201" in lab.run("far", ["ss", "-ltn"]).stdout, timeout=5,
                     what="iperf3 listening")
        lab.wait_for(lambda: lab.ping("host", "198.18.20.1", count=1)["received"], timeout=10,
                     what="a path across the edge")
        return iperf(lab, seconds)


def main():
    args = run_options(__doc__.splitlines()[0], runs=3, seconds=5, smoke_seconds=1)
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces, XDP, DPDK)")
    results = run_interleaved(
        [("Linux kernel forwarding", lambda: measure(None, args.seconds)),
         ("Linux kernel forwarding, XDP_PASS on the edge's veths",
          lambda: measure(None, args.seconds, xdp_pass=True)),
         ("vigil-dp over AF_XDP (1 lcore, rx_mode poll)", lambda: measure("poll", args.seconds)),
         ("vigil-dp over AF_XDP (1 lcore, rx_mode poll, tx_hold_us 100)",
          lambda: measure("poll", args.seconds, tx_hold_us=100)),
         ("vigil-dp over AF_XDP (1 lcore, rx_mode adaptive)",
          lambda: measure("adaptive", args.seconds)),
         ("vigil, flows offloaded to XDP (1 lcore, rx_mode poll)",
          lambda: measure("poll", args.seconds, offload=True)),
         ("vigil, flows offloaded to XDP (1 lcore, rx_mode adaptive)",
          lambda: measure("adaptive", args.seconds, offload=True))],
        args.runs, "Gbit/s")
    print_table(results, "path", "Gbit/s", "kernel")


if __name__ == "__main__":
    main()
