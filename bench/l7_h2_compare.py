#!/usr/bin/env python3
"""vigil-l7 beside nginx and HAProxy serving HTTP/2, in one run (shared/BENCHMARKING.md): h2c
with prior knowledge from h2load (nghttp2's load generator), 100 concurrent streams on each
connection, the same nginx backend behind all three over HTTP/1.1 (a 12-byte answer, 256
kept-alive upstream connections at most for vigil-l7 and nginx), each proxy with one worker
pinned to the same CPU, h2load and the backend on the other. A fourth row: vigil-l7 with its
pool speaking HTTP/2 to the same backend (nginx's h2c port: every request a stream on one
upstream connection), which neither nginx (grpc_pass only) nor HAProxy 2.6's HTTP/1.1 set-up
here does.
Interleaved runs, medians.

    bench/l7_h2_compare.py [--runs 5] [--seconds 5] [--smoke]

Figures, each per proxy: requests/s from h2load, and requests per second of the proxy's own
CPU time (utime + stime of its processes: the per-core figure, which holds even when the load
generator's CPU is what saturates).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from l7_compare import (BUILD, TICKS, Contender, cpu_ticks, free_port,  # noqa: E402
                        pinned, start_backend)
from side_by_side import print_table, run_options  # noqa: E402

CONNECTIONS = 4
STREAMS = 100


H2_UPSTREAM = "vigil-l7, h2 upstream"


def start_proxies(tmp: Path, backend_port: int, backend_h2_port: int, cpu: int | None,
                  started: list[Contender]) -> list[Contender]:
    """The proxies, each appended to `started` as it comes up."""
    ports = {name: free_port() for name in ("vigil-l7", "nginx", "HAProxy", H2_UPSTREAM)}
    (tmp / "vigil-h2.yaml").write_text(f"""l7:
  workers: 1
  listeners: {{web: {{address: "127.0.0.1:{ports[H2_UPSTREAM]}"}}}}
  upstreams:
    app: {{protocol: h2, targets: [{{address: "127.0.0.1:{backend_h2_port}"}}]}}
  routes: {{all: {{upstream: app}}}}
""")
    (tmp / "vigil.yaml").write_text(f"""l7:
  workers: 1
  listeners: {{web: {{address: "127.0.0.1:{ports['vigil-l7']}"}}}}
  upstreams:
    app: {{max_idle: 256, targets: [{{address: "127.0.0.1:{backend_port}"}}]}}
  routes: {{all: {{upstream: app}}}}
""")
    nginx = shutil.which("nginx")
    # nginx 1.22: `http2` on the listen line; in the clear that is h2c with prior knowledge.
    (tmp / "nginx.conf").write_text(f"""worker_processes 1; daemon off; pid {tmp}/nginx.pid;
error_log {tmp}/nginx.err; events {{ worker_connections 4096; }}
http {{ access_log off; upstream app {{ server 127.0.0.1:{backend_port}; keepalive 256; }}
  http2_max_concurrent_streams 128;
  server {{ listen 127.0.0.1:{ports['nginx']} http2; keepalive_timeout 120s;
    keepalive_requests 1000000;
    location / {{ proxy_pass http://app; proxy_http_version 1.1;
      proxy_set_header Connection ""; }} }} }}
""")
    (tmp / "haproxy.cfg").write_text(f"""global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  http-reuse always
frontend f
  bind 127.0.0.1:{ports['HAProxy']} proto h2
  default_backend b
backend b
  server s1 127.0.0.1:{backend_port}
""")
    argvs = {
        "vigil-l7": [str(BUILD / "l7proxy" / "vigil-l7"), "--config", str(tmp / "vigil.yaml"),
                     "--socket", str(tmp / "l7.sock")],
        "nginx": [nginx, "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "nginx.err")],
        "HAProxy": ["haproxy", "-f", str(tmp / "haproxy.cfg")],
        H2_UPSTREAM: [str(BUILD / "l7proxy" / "vigil-l7"), "--config",
                      str(tmp / "vigil-h2.yaml"), "--socket", str(tmp / "l7-h2.sock")],
    }
    for name, argv in argvs.items():
        started.append(Contender(name, argv, ports[name], cpu))
    return started[-len(argvs):]


def h2load(port: int, seconds: float, cpu: int | None) -> float:
    run = subprocess.run(pinned(cpu) + ["h2load", "-t1", f"-c{CONNECTIONS}", f"-m{STREAMS}",
                                        "-D", f"{seconds:g}", "--warm-up-time=1",
                                        f"http://127.0.0.1:{port}/"],
                         capture_output=True, text=True, timeout=seconds + 60)
    out = run.stdout
    done = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, "
                     r"(\d+) failed, (\d+) errored", out)
    rate = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out)
    if run.returncode != 0 or not done or not rate or done.group(4) != "0" or \
            done.group(5) != "0" or "status codes: 0 2xx" in out:
        raise RuntimeError(f"errors under load on port {port}:\n{out}{run.stderr}")
    if re.search(r"status codes: \d+ 2xx, 0 3xx, 0 4xx, 0 5xx", out) is None:
        raise RuntimeError(f"answers other than 2xx on port {port}:\n{out}")
    return float(rate.group(1))


def main() -> int:
    args = run_options(__doc__.splitlines()[0], runs=5, seconds=5, smoke_seconds=1)
    missing = [t for t in ("nginx", "haproxy", "h2load") if shutil.which(t) is None]
    if missing:
        print(f"l7_h2_compare: not installed: {', '.join(missing)} (scripts/install-deps)",
              file=sys.stderr)
        return 1
    cpus = len(os.sched_getaffinity(0))
    proxy_cpu, other_cpu = (1, 0) if cpus >= 2 else (None, None)
    with tempfile.TemporaryDirectory(prefix="l7h2bench-") as tmp:
        started: list[Contender] = []
        try:
            backend_h2_port = free_port()
            started.append(start_backend(Path(tmp), free_port(), other_cpu, backend_h2_port))
            contenders = start_proxies(Path(tmp), started[0].port, backend_h2_port, proxy_cpu,
                                       started)
            rps = {c.name: [] for c in contenders}
            per_cpu = {c.name: [] for c in contenders}
            for run in range(args.runs):
                for c in contenders:
                    ticks = cpu_ticks(c.pids)
                    r = h2load(c.port, args.seconds, other_cpu)
                    used = (cpu_ticks(c.pids) - ticks) / TICKS
                    rps[c.name].append(r)
                    # h2load's rate is over its measured time; the CPU is over the whole run,
                    # warm-up included, so this slightly understates every proxy alike.
                    per_cpu[c.name].append(r * args.seconds / max(used, 1e-3))
                    print(f"run {run + 1}: {c.name}: {r:.0f} requests/s, "
                          f"{per_cpu[c.name][-1]:.0f} per CPU second", file=sys.stderr)
            print(f"HTTP/2 (h2c), {CONNECTIONS} connections x {STREAMS} streams, 12-byte "
                  f"answers ({args.runs} runs of {args.seconds:g} s)\n")
            print_table(rps, "proxy", "requests/s", "vigil-l7")
            print()
            print_table(per_cpu, "proxy", "requests per CPU second", "vigil-l7")
        finally:
            for p in started:
                p.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
