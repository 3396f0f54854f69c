#!/usr/bin/env python3
"""Mpps on one forwarding lcore, side by side in one run: dpdk-testpmd io (no lookup: the
ceiling), dpdk-testpmd mac (rewrites MACs), and vigil's fast path (parse, FIB, ECMP, TTL,
neighbour, L2 rewrite) with 1,000 and with 100,000 routes. Every contender gets the same two
ports, DPDK's pcap PMD replaying the same 64-byte frames from memory (infinite_rx) and dropping
what it sends, the same two lcores (0: control, 1: forwarding) and --no-huge.

    bench/fastpath_compare.py [--runs 5] [--seconds 5] [--smoke]

Prints a Markdown table: median (min, max) Mpps over the runs, interleaved A B C D A B C D,
and each contender's ratio to testpmd io.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

from side_by_side import print_table, run_interleaved, run_options

BUILD = os.environ.get("VIGIL_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "build"))
BENCH = os.path.join(BUILD, "bench", "fastpath_bench")


def pcap_ports(pcap):
    return [f"--vdev=net_pcap{p},rx_pcap={pcap},infinite_rx=1" for p in (0, 1)]


def testpmd(mode, pcap, seconds):
    """Mpps over `seconds` after a 1 s warm-up, from testpmd's own port counters."""
    cmd = ["dpdk-testpmd", "--no-huge", "-m", "1024", "--no-pci", "-l", "0-1",
           f"--file-prefix=vigil-testpmd-{os.getpid()}", "--log-level=*:warning",
           *pcap_ports(pcap), "--", "-i", "--total-num-mbufs=16384", f"--forward-mode={mode}"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    p.stdin.write("start\n")
    p.stdin.flush()
    time.sleep(1)
    p.stdin.write("show port stats all\n")
    p.stdin.flush()
    t0 = time.monotonic()
    time.sleep(seconds)
    p.stdin.write("show port stats all\n")
    p.stdin.flush()
    elapsed = time.monotonic() - t0
    p.stdin.write("stop\nquit\n")
    p.stdin.flush()
    out, _ = p.communicate(timeout=60)
    tx = [int(v) for v in re.findall(r"TX-packets:\s+(\d+)", out)]
    if len(tx) < 4:
        sys.exit(f"testpmd {mode}: no port statistics in its output:\n{out[-2000:]}")
    return (tx[2] + tx[3] - tx[0] - tx[1]) / elapsed / 1e6


def vigil(routes, pcap, seconds):
    out = subprocess.run([BENCH, "--routes", str(routes), "--seconds", str(seconds),
                          "--pcap", pcap], capture_output=True, text=True, timeout=120)
    m = re.search(r"tx_mpps=([\d.]+) dropped=(\d+)", out.stdout)
    if out.returncode != 0 or not m:
        sys.exit(f"fastpath_bench --routes {routes} failed ({out.returncode}):\n"
                 f"{out.stdout}{out.stderr}")
    return float(m.group(1))


def main():
    args = run_options(__doc__.splitlines()[0], runs=5, seconds=5, smoke_seconds=0.5)
    with tempfile.TemporaryDirectory() as tmp:
        pcaps = {}
        for routes in (1000, 100000):
            pcaps[routes] = os.path.join(tmp, f"frames-{routes}.pcap")
            subprocess.run([BENCH, "--routes", str(routes), "--write-pcap", pcaps[routes]],
                           check=True)
        contenders = [
            ("dpdk-testpmd --forward-mode=io (the ceiling)",
             lambda: testpmd("io", pcaps[1000], args.seconds)),
            ("dpdk-testpmd --forward-mode=mac", lambda: testpmd("mac", pcaps[1000], args.seconds)),
            ("vigil fast path, 1,000 routes", lambda: vigil(1000, pcaps[1000], args.seconds)),
            ("vigil fast path, 100,000 routes", lambda: vigil(100000, pcaps[100000], args.seconds)),
        ]
        results = run_interleaved(contenders, args.runs, "Mpps")
    print_table(results, "contender", "Mpps", "testpmd io")


if __name__ == "__main__":
    main()
