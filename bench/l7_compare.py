#!/usr/bin/env python3
"""vigil-l7 beside HAProxy and nginx as HTTP/1.1 reverse proxies, in one run
(shared/BENCHMARKING.md): the same nginx backend (a 12-byte answer), the same load generator
(wrk, keep-alive), each proxy with one worker thread pinned to the same CPU, the load generator
and the backend on the other. Interleaved runs, medians.

    bench/l7_compare.py [--runs 5] [--seconds 5] [--smoke]

Figures, each per proxy:
  - requests/s and p99 latency from wrk;
  - requests per second of the proxy's own CPU time (utime + stime of its process): the
    per-core figure, which holds even when the load generator's CPU is what saturates;
  - the proxy's memory (RSS, its worker and any master) holding idle kept-alive client
    connections, each having made one request: as many as the machine's hard limit on open
    files allows the proxies (HAProxy wants two descriptors per connection it may hold): 9,000
    under this machine's limit of 20,000, 10,000 where the limit is higher.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from side_by_side import print_table, run_options  # noqa: E402

BUILD = Path(os.environ.get("VIGIL_BUILD_DIR", REPO / "build"))
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_file_limit() -> int:
    """The soft limit on open files raised to the hard one (65,536 at most); returns it."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    limit = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    return limit


def pinned(cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu)] if cpu is not None else []


def wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class Contender:
    def __init__(self, name: str, argv: list[str], port: int, cpu: int | None):
        self.name, self.port = name, port
        self.proc = subprocess.Popen(pinned(cpu) + argv, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     preexec_fn=raise_file_limit)
        wait_port(port)
        time.sleep(0.3)
        # nginx forks its worker: the work (and the memory) is the master's and the worker's.
        self.pids = [self.proc.pid] + children(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_backend(tmp: Path, backend_port: int, cpu: int | None,
                  h2_port: int | None = None) -> Contender:
    """The backend every proxy forwards to: nginx answering a 12-byte body (over HTTP/1.1, and
    on `h2_port` over HTTP/2 with prior knowledge, the same worker serving both)."""
    nginx = shutil.which("nginx")
    backend = tmp / "backend.conf"
    h2_listen = f"listen 127.0.0.1:{h2_port} http2;" if h2_port else ""
    backend.write_text(f"""worker_processes 1; daemon off; pid {tmp}/backend.pid;
error_log {tmp}/backend.err; events {{ worker_connections 4096; }}
http {{ access_log off; server {{ listen 127.0.0.1:{backend_port} reuseport; {h2_listen}
  keepalive_requests 1000000; location / {{ return 200 "hello world\\n"; }} }} }}
""")
    return Contender("backend", [nginx, "-c", str(backend), "-e", str(tmp / "backend.err")],
                     backend_port, cpu)


def start_all(tmp: Path, backend_port: int, proxy_cpu: int | None, other_cpu: int | None,
              maxconn: int):
    nginx = shutil.which("nginx")
    procs = [start_backend(tmp, backend_port, other_cpu)]
    ports = {name: free_port() for name in ("vigil-l7", "HAProxy", "nginx")}
    (tmp / "vigil.yaml").write_text(f"""l7:
  workers: 1
  max_connections: 20000
  listeners: {{web: {{address: "127.0.0.1:{ports['vigil-l7']}"}}}}
  upstreams: {{app: {{targets: [{{address: "127.0.0.1:{backend_port}"}}]}}}}
  routes: {{all: {{upstream: app}}}}
""")
    (tmp / "haproxy.cfg").write_text(f"""global
  nbthread 1
  maxconn {maxconn}
defaults
  mode http
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  http-reuse always
frontend f
  bind 127.0.0.1:{ports['HAProxy']}
  default_backend b
backend b
  server s1 127.0.0.1:{backend_port}
""")
    (tmp / "nginx.conf").write_text(f"""worker_processes 1; daemon off; pid {tmp}/nginx.pid;
error_log {tmp}/nginx.err; events {{ worker_connections {maxconn}; }}
http {{ access_log off; upstream app {{ server 127.0.0.1:{backend_port}; keepalive 64; }}
  server {{ listen 127.0.0.1:{ports['nginx']}; keepalive_requests 1000000;
    keepalive_timeout 120s;
    location / {{ proxy_pass http://app; proxy_http_version 1.1;
      proxy_set_header Connection ""; }} }} }}
""")
    contenders = [
        Contender("vigil-l7", [str(BUILD / "l7proxy" / "vigil-l7"), "--config",
                               str(tmp / "vigil.yaml"), "--socket", str(tmp / "l7.sock")],
                  ports["vigil-l7"], proxy_cpu),
        Contender("HAProxy", ["haproxy", "-f", str(tmp / "haproxy.cfg")], ports["HAProxy"],
                  proxy_cpu),
        Contender("nginx", [nginx, "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "nginx.err")],
                  ports["nginx"], proxy_cpu),
    ]
    return procs + contenders, contenders


def wrk(port: int, seconds: float, connections: int, cpu: int | None, scheme: str = "http",
        extra: tuple[str, ...] = ()) -> tuple[float, float]:
    run = subprocess.run(pinned(cpu) + ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s",
                                        "--latency", *extra, f"{scheme}://127.0.0.1:{port}/"],
                         capture_output=True, text=True, timeout=seconds + 30)
    out = run.stdout
    if "Non-2xx" in out or "Socket errors" in out or "Requests/sec" not in out:
        raise RuntimeError(f"errors under load on port {port}:\n{out}{run.stderr}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return rps, float(p99.group(1)) * scale


def idle_memory(c: Contender, count: int) -> tuple[int, int]:
    """RSS (KiB), and its growth, while `count` clients each made one kept-alive request and
    stay idle."""
    before = rss_kib(c.pids)
    socks = []
    request = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
    # One at a time (each answered before the next opens), so the proxies need one upstream
    # connection, not thousands: what grows is what an idle client connection costs.
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", c.port))
        s.sendall(request)
        s.settimeout(10)
        got = b""
        while b"hello world\n" not in got:
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError(f"{c.name} closed a connection: {got!r}")
            got += chunk
        socks.append(s)
    time.sleep(0.5)
    total = rss_kib(c.pids)
    for s in socks:
        s.close()
    return total, total - before


def main() -> int:
    args = run_options(__doc__.splitlines()[0], runs=5, seconds=5, smoke_seconds=1)
    connections = 50
    limit = raise_file_limit()
    maxconn = min(30000, (limit - 200) // 2)  # HAProxy reserves two descriptors a connection
    idle = 500 if args.smoke else min(10000, maxconn - 500)
    missing = [t for t in ("nginx", "haproxy", "wrk") if shutil.which(t) is None]
    if missing:
        print(f"l7_compare: not installed: {', '.join(missing)} (scripts/install-deps)",
              file=sys.stderr)
        return 1
    cpus = len(os.sched_getaffinity(0))
    proxy_cpu, other_cpu = (1, 0) if cpus >= 2 else (None, None)
    with tempfile.TemporaryDirectory(prefix="l7bench-") as tmp:
        everything, contenders = start_all(Path(tmp), free_port(), proxy_cpu, other_cpu,
                                          maxconn)
        try:
            rps = {c.name: [] for c in contenders}
            p99 = {c.name: [] for c in contenders}
            per_cpu = {c.name: [] for c in contenders}
            for run in range(args.runs):
                for c in contenders:
                    ticks = cpu_ticks(c.pids)
                    r, latency = wrk(c.port, args.seconds, connections, other_cpu)
                    used = (cpu_ticks(c.pids) - ticks) / TICKS
                    rps[c.name].append(r)
                    p99[c.name].append(latency)
                    per_cpu[c.name].append(r * args.seconds / max(used, 1e-3))
                    print(f"run {run + 1}: {c.name}: {r:.0f} requests/s, p99 {latency:.2f} ms, "
                          f"{per_cpu[c.name][-1]:.0f} per CPU second", file=sys.stderr)
            print(f"HTTP/1.1 keep-alive, {connections} connections, 12-byte answers "
                  f"({args.runs} runs of {args.seconds:g} s)\n")
            print_table(rps, "proxy", "requests/s", "vigil-l7")
            print()
            print_table(per_cpu, "proxy", "requests per CPU second", "vigil-l7")
            print()
            print_table(p99, "proxy", "p99 ms", "vigil-l7")
            held = {c.name: idle_memory(c, idle) for c in contenders}
            print(f"\nMemory with {idle} idle kept-alive client connections (one measure)\n")
            print_table({n: [total / 1024] for n, (total, _) in held.items()}, "proxy",
                        "MiB (RSS, all its processes)", "vigil-l7")
            print()
            print_table({n: [grown / 1024] for n, (_, grown) in held.items()}, "proxy",
                        "MiB (RSS growth)", "vigil-l7")
        finally:
            for p in everything:
                p.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
