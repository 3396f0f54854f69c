#!/usr/bin/env python3
"""Traffic lost across one edge box while a Vigil process dies and comes back: a probe stream
(ping, one every 10 ms, sequence-numbered) from host through vigil-dp's fast path to an
address beyond the far host (the edge's default route is needed) in the `routed` lab (the
edge's kernel forwarding nothing of its own accord), while

  - vigil-dp is killed (SIGKILL) and started again at once, as vigild's supervisor would
    after its first backoff; the probes lost are the forwarding outage. With
    dataplane.kernel_fallback (the default) the kernel, which vigil-dp keeps programmed with
    its routes, forwards meanwhile; the same case with the fallback off is the control that
    shows what the fallback is worth;
  - vigild is killed (SIGKILL) and started again: forwarding must not notice.

The first row is the same stream with nobody killed. Each case runs --runs times, interleaved;
the table gives the median (min, max) of probes lost and the outage they mean (lost x
interval).

    sudo bench/restart_outage.py [--runs 3] [--smoke]
"""
import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "lab"))

from vigil_lab.fastpath import (BEYOND_FAR, add_beyond_far, edge_config,  # noqa: E402
                                forwarding, hosts_checksum_in_software, start_routing)
from vigil_lab.lab import Lab, parse_ping  # noqa: E402
from vigil_lab.topologies import routed  # noqa: E402

INTERVAL = 0.01


def probe_stream(lab: Lab, seconds: float) -> subprocess.Popen:
    count = int(seconds / INTERVAL)
    return subprocess.Popen(["ip", "netns", "exec", lab.ns("host"), "ping", "-n", "-q", "-i",
                             str(INTERVAL), "-c", str(count), "-W", "1", BEYOND_FAR[0]],
                            stdout=subprocess.PIPE, text=True)


def one_run(lab: Lab, vn, victim: str | None, seconds: float) -> int:
    """Probes lost while `victim` (or nobody) is killed one second into the stream."""
    stream = probe_stream(lab, seconds)
    time.sleep(1.0)
    if victim is not None:
        vn.kill(victim)
        vn.start(victim)
    out, _ = stream.communicate(timeout=seconds + 30)
    stats = parse_ping(out)
    lab.wait_for(lambda: forwarding(vn), timeout=30, what="the fast path forwarding again")
    return stats["sent"] - stats["received"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--smoke", action="store_true", help="one short run of each")
    args = p.parse_args()
    runs, seconds = (1, 4.0) if args.smoke else (args.runs, 8.0)
    cases = [("nobody killed", None, True), ("kill -9 vigild, restart", "vigild", True),
             ("kill -9 vigil-dp, restart", "vigil-dp", True),
             ("kill -9 vigil-dp, restart, kernel_fallback: false (control)", "vigil-dp", False)]
    lost: dict[str, list[int]] = {name: [] for name, _, _ in cases}
    with Lab(routed()) as lab:
        hosts_checksum_in_software(lab, ("host", "far"))
        add_beyond_far(lab)
        vn = start_routing(lab, {"edge": edge_config()}, daemons=("vigild", "vigil-dp"))["edge"]
        fallback_now = True
        lab.wait_for(lambda: lab.ping("host", BEYOND_FAR[0], count=1)["received"], timeout=10,
                     what="the first ping through vigil-dp")
        for _ in range(runs):
            for name, victim, fallback in cases:  # interleaved
                if fallback != fallback_now:
                    vn.commit_text(edge_config(kernel_fallback=str(fallback).lower()),
                                   f"kernel_fallback: {fallback}")
                    fallback_now = fallback
                lost[name].append(one_run(lab, vn, victim, seconds))
    print(f"| case | probes lost (median, min, max) | outage at {INTERVAL * 1000:.0f} ms per probe |")
    print("|---|---|---|")
    for name, values in lost.items():
        med = statistics.median(values)
        print(f"| {name} | {med:.0f} ({min(values)}, {max(values)}) | {med * INTERVAL * 1000:.0f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
