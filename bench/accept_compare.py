#!/usr/bin/env python3
"""How new connections reach vigil-l7's workers, three ways side by side in one run
(bench/accept_dispatch_bench.cc: the same two epoll workers behind each, only the dispatch
differs): SO_REUSEPORT sockets, one per worker (vigil-l7's way); one acceptor thread handing
each connection to the worker with the fewest open; one socket shared with EPOLLEXCLUSIVE
(nginx's default). Interleaved runs, medians.

    bench/accept_compare.py [--runs 5] [--seconds 5] [--smoke]

Figures, each per way:
  - new connections a second: wrk with `Connection: close` on every request (50 clients), so
    each request is a connection accepted and handed out;
  - keep-alive requests a second with 8 clients, and how their requests fell on the two
    workers (the larger worker's share: 0.50 is even; with so few connections a hash can be
    uneven, which a hand-off by load is not).
"""

from __future__ import annotations

import json
import shutil
import signal
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from l7_compare import BUILD, free_port, wait_port, wrk  # noqa: E402
from side_by_side import print_table, run_options  # noqa: E402

MODES = ("reuseport", "handoff", "exclusive")


def measure(mode: str, seconds: float, connections: int, closing: bool) -> tuple[float, dict]:
    port = free_port()
    server = subprocess.Popen([str(BUILD / "bench" / "accept_dispatch_bench"), "--mode", mode,
                               "--port", str(port), "--workers", "2"],
                              stdout=subprocess.PIPE, text=True)
    try:
        wait_port(port)
        extra = ("-H", "Connection: close") if closing else ()
        rps, _ = wrk(port, seconds, connections, None, extra=extra)
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=10)
    return rps, json.loads(out.strip().splitlines()[-1])


def main() -> int:
    args = run_options(__doc__.splitlines()[0], runs=5, seconds=5, smoke_seconds=1)
    if shutil.which("wrk") is None:
        print("accept_compare: wrk is not installed (scripts/install-deps)", file=sys.stderr)
        return 1
    new_conns = {m: [] for m in MODES}
    kept = {m: [] for m in MODES}
    share = {m: [] for m in MODES}
    for run in range(args.runs):
        for mode in MODES:
            rps, _ = measure(mode, args.seconds, 50, closing=True)
            new_conns[mode].append(rps)
            rps, stats = measure(mode, args.seconds, 8, closing=False)
            kept[mode].append(rps)
            counts = stats["requests"]
            share[mode].append(max(counts) / max(sum(counts), 1))
            print(f"run {run + 1}: {mode}: {new_conns[mode][-1]:.0f} new connections/s, "
                  f"{rps:.0f} keep-alive requests/s, requests per worker {counts}",
                  file=sys.stderr)
    print(f"Dispatching connections to 2 workers ({args.runs} runs of {args.seconds:g} s)\n")
    print_table(new_conns, "way", "new connections/s", "reuseport")
    print()
    print_table(kept, "way", "keep-alive requests/s (8 clients)", "reuseport")
    print()
    print("| way | larger worker's share of the keep-alive requests, median (max) |")
    print("|---|---|")
    for mode in MODES:
        print(f"| {mode} | {statistics.median(share[mode]):.2f} ({max(share[mode]):.2f}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
