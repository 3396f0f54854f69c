#!/usr/bin/env python3
"""Which event loop under vigil-l7's workers: epoll (its Reactor's way), io_uring with a recv
and a send queued per operation and submitted in one call per pass, and io_uring with
multishot receives into provided buffers on a SINGLE_ISSUER | DEFER_TASKRUN ring
(bench/event_loop_bench.cc: one thread answering HTTP/1.1 keep-alive, only the loop differs).
Interleaved runs, medians; the server on CPU 1, wrk on CPU 0.

    bench/event_loop_compare.py [--runs 5] [--seconds 5] [--smoke]

Figures, each per loop: keep-alive requests a second, wrk's p99, and the server's CPU time
per request (user + system, from its rusage: what counts when wrk saturates first), with 50
clients (the proxy benchmarks' load: many ready sockets per wait, where batching could pay)
and with 4 (few per wait).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from l7_compare import BUILD, free_port, pinned, wait_port, wrk  # noqa: E402
from side_by_side import print_table, run_options  # noqa: E402

MODES = ("epoll", "uring", "multishot")
CLIENTS = (50, 4)


def measure(mode: str, seconds: float, connections: int) -> tuple[float, float, float]:
    """wrk's requests/s and p99 (ms), and the server's CPU time per request (µs): the figure
    that holds when wrk, not the server, is what saturates first."""
    port = free_port()
    server = subprocess.Popen(pinned(1) + [str(BUILD / "bench" / "event_loop_bench"), "--mode",
                                           mode, "--port", str(port)],
                              stdout=subprocess.PIPE, text=True)
    try:
        wait_port(port)
        rps, p99 = wrk(port, seconds, connections, 0)
    finally:
        server.send_signal(signal.SIGTERM)
        out = server.stdout.read()
        # wait4, not communicate: the server's own rusage (taskset execs it, same pid).
        _, status, usage = os.wait4(server.pid, 0)
        server.returncode = os.waitstatus_to_exitcode(status)
    if server.returncode != 0:
        raise RuntimeError(f"event_loop_bench --mode {mode} failed (exit {server.returncode})")
    served = json.loads(out.strip().splitlines()[-1])["requests"]
    if served == 0:
        raise RuntimeError(f"{mode} served nothing")
    return rps, p99, (usage.ru_utime + usage.ru_stime) * 1e6 / served


def main() -> int:
    args = run_options(__doc__.splitlines()[0], runs=5, seconds=5, smoke_seconds=1)
    if shutil.which("wrk") is None:
        print("event_loop_compare: wrk is not installed (scripts/install-deps)", file=sys.stderr)
        return 1
    rps = {c: {m: [] for m in MODES} for c in CLIENTS}
    p99 = {c: {m: [] for m in MODES} for c in CLIENTS}
    cpu = {c: {m: [] for m in MODES} for c in CLIENTS}
    for run in range(args.runs):
        for clients in CLIENTS:
            for mode in MODES:
                r, p, us = measure(mode, args.seconds, clients)
                rps[clients][mode].append(r)
                p99[clients][mode].append(p)
                cpu[clients][mode].append(us)
                print(f"run {run + 1}: {clients} clients: {mode}: {r:.0f} requests/s, "
                      f"p99 {p:.2f} ms, {us:.2f} µs CPU a request", file=sys.stderr)
    print(f"HTTP/1.1 keep-alive on one thread, by event loop ({args.runs} runs of "
          f"{args.seconds:g} s)\n")
    for clients in CLIENTS:
        print_table(rps[clients], "loop", f"requests/s, {clients} clients", "epoll")
        print()
        print_table(cpu[clients], "loop", f"server CPU µs a request, {clients} clients", "epoll")
        print()
        print(f"| loop | p99 ms, {clients} clients, median |")
        print("|---|---|")
        for mode in MODES:
            print(f"| {mode} | {statistics.median(p99[clients][mode]):.2f} |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
