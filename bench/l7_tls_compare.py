#!/usr/bin/env python3
"""vigil-l7 beside HAProxy and nginx as HTTPS reverse proxies, in one run
(shared/BENCHMARKING.md): TLS 1.3 with the same ECDSA P-256 certificate on Debian's OpenSSL 3.0
for all three, the same nginx backend behind them in the clear, the same load generator (wrk),
each proxy with one worker pinned to the same CPU, the load generator and the backend on the
other. Interleaved runs, medians.

    bench/l7_tls_compare.py [--runs 5] [--seconds 5] [--smoke]

Figures, each per proxy:
  - HTTPS keep-alive: requests/s and requests per second of the proxy's own CPU time;
  - new TLS handshakes: every request on a new connection (wrk with Connection: close, no
    resumption), so each is a full TLS 1.3 handshake (ECDHE, an ECDSA signature): connections
    per second and per second of the proxy's CPU time.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "lab"))
from l7_compare import (BUILD, TICKS, Contender, cpu_ticks, free_port,  # noqa: E402
                        raise_file_limit, start_backend, wrk)
from side_by_side import print_table, run_options  # noqa: E402
from vigil_lab import pki  # noqa: E402


def start_proxies(tmp: Path, backend_port: int, cpu: int | None,
                  maxconn: int, started: list[Contender]) -> list[Contender]:
    """The three proxies, each appended to `started` as it comes up (so a failure to start one
    still stops the others)."""
    pki.make_ca(tmp)
    certificate, key = pki.issue(tmp, "bench", "bench.example")
    (tmp / "haproxy.pem").write_text(certificate.read_text() + key.read_text())
    ports = {name: free_port() for name in ("vigil-l7", "HAProxy", "nginx")}
    (tmp / "vigil.yaml").write_text(f"""l7:
  workers: 1
  max_connections: 20000
  certificates: {{bench: {{certificate: {certificate}, private_key: {key}}}}}
  listeners:
    web: {{address: "127.0.0.1:{ports['vigil-l7']}", tls: {{certificates: [bench]}}}}
  upstreams: {{app: {{targets: [{{address: "127.0.0.1:{backend_port}"}}]}}}}
  routes: {{all: {{upstream: app}}}}
""")
    (tmp / "haproxy.cfg").write_text(f"""global
  nbthread 1
  maxconn {maxconn}
  ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
  mode http
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  http-reuse always
frontend f
  bind 127.0.0.1:{ports['HAProxy']} ssl crt {tmp}/haproxy.pem alpn http/1.1
  default_backend b
backend b
  server s1 127.0.0.1:{backend_port}
""")
    nginx = shutil.which("nginx")
    (tmp / "nginx.conf").write_text(f"""worker_processes 1; daemon off; pid {tmp}/nginx.pid;
error_log {tmp}/nginx.err; events {{ worker_connections {maxconn}; }}
http {{ access_log off; upstream app {{ server 127.0.0.1:{backend_port}; keepalive 64; }}
  server {{ listen 127.0.0.1:{ports['nginx']} ssl; keepalive_requests 1000000;
    keepalive_timeout 120s;
    ssl_certificate {certificate}; ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {{ proxy_pass http://app; proxy_http_version 1.1;
      proxy_set_header Connection ""; }} }} }}
""")
    argvs = {
        "vigil-l7": [str(BUILD / "l7proxy" / "vigil-l7"), "--config", str(tmp / "vigil.yaml"),
                     "--socket", str(tmp / "l7.sock")],
        "HAProxy": ["haproxy", "-f", str(tmp / "haproxy.cfg")],
        "nginx": [nginx, "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "nginx.err")],
    }
    contenders = []
    for name, argv in argvs.items():
        contenders.append(Contender(name, argv, ports[name], cpu))
        started.append(contenders[-1])
    return contenders


def main() -> int:
    args = run_options(__doc__.splitlines()[0], runs=5, seconds=5, smoke_seconds=1)
    missing = [t for t in ("nginx", "haproxy", "wrk", "openssl") if shutil.which(t) is None]
    if missing:
        print(f"l7_tls_compare: not installed: {', '.join(missing)} (scripts/install-deps)",
              file=sys.stderr)
        return 1
    maxconn = min(30000, (raise_file_limit() - 200) // 2)  # HAProxy: two descriptors each
    cpus = len(os.sched_getaffinity(0))
    proxy_cpu, other_cpu = (1, 0) if cpus >= 2 else (None, None)
    loads = {
        "keep-alive": ((), 50),
        "handshakes": (("-H", "Connection: close"), 20),
    }
    with tempfile.TemporaryDirectory(prefix="l7tlsbench-") as tmp:
        started = [start_backend(Path(tmp), free_port(), other_cpu)]
        try:
            contenders = start_proxies(Path(tmp), started[0].port, proxy_cpu, maxconn, started)
            rate = {load: {c.name: [] for c in contenders} for load in loads}
            per_cpu = {load: {c.name: [] for c in contenders} for load in loads}
            for run in range(args.runs):
                for load, (extra, connections) in loads.items():
                    for c in contenders:
                        ticks = cpu_ticks(c.pids)
                        r, _ = wrk(c.port, args.seconds, connections, other_cpu, "https", extra)
                        used = (cpu_ticks(c.pids) - ticks) / TICKS
                        rate[load][c.name].append(r)
                        per_cpu[load][c.name].append(r * args.seconds / max(used, 1e-3))
                        print(f"run {run + 1}: {load}: {c.name}: {r:.0f}/s, "
                              f"{per_cpu[load][c.name][-1]:.0f} per CPU second",
                              file=sys.stderr)
            print(f"HTTPS, TLS 1.3, ECDSA P-256 ({args.runs} runs of {args.seconds:g} s)\n")
            print("Keep-alive (50 connections), requests:\n")
            print_table(rate["keep-alive"], "proxy", "requests/s", "vigil-l7")
            print()
            print_table(per_cpu["keep-alive"], "proxy", "requests per CPU second", "vigil-l7")
            print("\nA new connection and full handshake per request (20 at a time):\n")
            print_table(rate["handshakes"], "proxy", "handshakes/s", "vigil-l7")
            print()
            print_table(per_cpu["handshakes"], "proxy", "handshakes per CPU second", "vigil-l7")
        finally:
            for p in started:
                p.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
