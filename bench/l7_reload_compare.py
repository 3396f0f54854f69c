#!/usr/bin/env python3
"""Config changes under load: vigil-l7's commits beside HAProxy's and nginx's reloads, in one
run (shared/BENCHMARKING.md). Each proxy takes 100 config changes (a route's added field
changes each time) while wrk drives keep-alive requests through it; what counts is what the
clients saw: socket errors (connects refused, connections reset or closed mid-request,
timeouts) and non-2xx answers.

    bench/l7_reload_compare.py [--runs 1] [--smoke]

- vigil-l7: a commit is a prepare and an activate on its control socket, as vigild sends them
  (the same config section each time but for the field's value);
- HAProxy 2.6: `haproxy -D -p PIDFILE -f CFG -sf OLDPID`, the soft reload the issue names: a
  new process binds and takes new connections, the old one finishes its connections and exits
  (not the seamless reload of master-worker mode with `expose-fd listeners`, which hands the
  listening sockets over);
- nginx 1.22: `nginx -s reload`: the master starts new workers and the old ones finish theirs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "lab"))
from l7_compare import (BUILD, free_port, pinned, raise_file_limit,  # noqa: E402
                        start_backend, wait_port)
from side_by_side import run_options  # noqa: E402
from vigil_lab import rpc  # noqa: E402


class Changing:
    """A proxy whose config changes: change(i) makes the i-th, stop() ends it all."""

    def begin(self) -> None:
        """The first config, then the port up; stopped again if that fails."""
        try:
            self.change(0)
            wait_port(self.port)
        except Exception:
            self.stop()
            raise


class Vigil(Changing):
    name = "vigil-l7"

    def __init__(self, tmp: Path, backend: int, cpu: int | None):
        self.tmp, self.backend, self.port = tmp, backend, free_port()
        # One worker from the start, as the others run (l7.workers takes effect at start).
        (tmp / "vigil.yaml").write_text("system: {hostname: bench}\nl7: {workers: 1}\n")
        self.socket = str(tmp / "l7.sock")
        self.proc = subprocess.Popen(pinned(cpu) + [
            str(BUILD / "l7proxy" / "vigil-l7"), "--config", str(tmp / "vigil.yaml"),
            "--socket", self.socket], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=raise_file_limit)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket):
            if time.monotonic() > deadline:
                raise RuntimeError("vigil-l7 did not start")
            time.sleep(0.05)
        self.txid = 0
        self.begin()

    def change(self, i: int) -> None:
        section = {"workers": 1, "max_connections": 20000,
                   "listeners": {"web": {"address": f"127.0.0.1:{self.port}"}},
                   "upstreams": {"app": {"targets": [{"address": f"127.0.0.1:{self.backend}"}]}},
                   "routes": {"all": {"upstream": "app",
                                      "add_headers": [{"name": "X-Change", "value": f"v{i}"}]}}}
        self.txid += 1
        rpc.call(self.socket, "prepare", {"txid": self.txid, "delta": {"l7": section}})
        rpc.call(self.socket, "activate", {"txid": self.txid})

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class HAProxy(Changing):
    name = "HAProxy"

    def __init__(self, tmp: Path, backend: int, cpu: int | None):
        self.tmp, self.backend, self.port, self.cpu = tmp, backend, free_port(), cpu
        self.pidfile = tmp / "haproxy.pid"
        self.begin()

    def change(self, i: int) -> None:
        (self.tmp / "haproxy.cfg").write_text(f"""global
  nbthread 1
  maxconn 5000
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend f
  bind 127.0.0.1:{self.port}
  default_backend b
backend b
  http-request set-header X-Change v{i}
  server s1 127.0.0.1:{self.backend}
""")
        argv = pinned(self.cpu) + ["haproxy", "-D", "-p", str(self.pidfile), "-f",
                                   str(self.tmp / "haproxy.cfg")]
        if self.pidfile.exists():
            argv += ["-sf", *self.pidfile.read_text().split()]
        subprocess.run(argv, check=True, preexec_fn=raise_file_limit, timeout=10)

    def stop(self) -> None:
        # The current process and any old one still finishing: every haproxy on this config.
        subprocess.run(["pkill", "-f", str(self.tmp / "haproxy.cfg")], check=False)
        deadline = time.monotonic() + 10
        while subprocess.run(["pgrep", "-f", str(self.tmp / "haproxy.cfg")],
                             capture_output=True).returncode == 0:
            if time.monotonic() > deadline:
                subprocess.run(["pkill", "-9", "-f", str(self.tmp / "haproxy.cfg")], check=False)
                break
            time.sleep(0.05)
        self.pidfile.unlink(missing_ok=True)


class Nginx(Changing):
    name = "nginx"

    def __init__(self, tmp: Path, backend: int, cpu: int | None):
        self.tmp, self.backend, self.port = tmp, backend, free_port()
        self.conf = tmp / "nginx.conf"
        self.write(0)
        self.proc = subprocess.Popen(pinned(cpu) + [shutil.which("nginx"), "-c", str(self.conf),
                                                    "-e", str(tmp / "nginx.err")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=raise_file_limit)
        try:
            wait_port(self.port)
        except Exception:
            self.stop()
            raise

    def write(self, i: int) -> None:
        self.conf.write_text(f"""worker_processes 1; daemon off; pid {self.tmp}/nginx.pid;
error_log {self.tmp}/nginx.err; events {{ worker_connections 5000; }}
http {{ access_log off; upstream app {{ server 127.0.0.1:{self.backend}; keepalive 64; }}
  server {{ listen 127.0.0.1:{self.port}; keepalive_requests 1000000;
    location / {{ proxy_pass http://app; proxy_http_version 1.1;
      proxy_set_header Connection ""; proxy_set_header X-Change v{i}; }} }} }}
""")

    def workers(self) -> set[str]:
        return set(subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True,
                                  text=True).stdout.split())

    def change(self, i: int) -> None:
        self.write(i)
        before = self.workers()
        subprocess.run([shutil.which("nginx"), "-c", str(self.conf), "-e",
                        str(self.tmp / "nginx.err"), "-s", "reload"], check=True, timeout=10)
        # `-s reload` only signals the master: wait for its new worker, or signals 50 ms apart
        # could merge and fewer than 100 reloads happen.
        deadline = time.monotonic() + 10
        while not self.workers() - before:
            if time.monotonic() > deadline:
                raise RuntimeError("nginx started no new worker after a reload")
            time.sleep(0.01)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def errors_under_changes(proxy, changes: int, pause: float, cpu: int | None) -> tuple[int, int,
                                                                                       int]:
    """(socket errors, non-2xx answers, requests) that wrk saw while `changes` were made."""
    reports: list[str] = []
    running = threading.Event()
    running.set()

    def load():
        while running.is_set():
            reports.append(subprocess.run(
                pinned(cpu) + ["wrk", "-t1", "-c16", "-d2s", f"http://127.0.0.1:{proxy.port}/"],
                capture_output=True, text=True, timeout=60).stdout)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        time.sleep(0.5)
        for i in range(1, changes + 1):
            proxy.change(i)
            time.sleep(pause)
    finally:
        running.clear()
        loader.join()
    socket_errors = non_2xx = requests = 0
    for report in reports:
        m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                      report)
        if m:
            socket_errors += sum(int(g) for g in m.groups())
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
        if m:
            non_2xx += int(m.group(1))
        m = re.search(r"(\d+) requests in", report)
        if m:
            requests += int(m.group(1))
    return socket_errors, non_2xx, requests


def main() -> int:
    args = run_options(__doc__.splitlines()[0], runs=1, seconds=0, smoke_seconds=0)
    missing = [t for t in ("nginx", "haproxy", "wrk") if shutil.which(t) is None]
    if missing:
        print(f"l7_reload_compare: not installed: {', '.join(missing)} (scripts/install-deps)",
              file=sys.stderr)
        return 1
    changes = 10 if args.smoke else 100
    cpus = len(os.sched_getaffinity(0))
    proxy_cpu, other_cpu = (1, 0) if cpus >= 2 else (None, None)
    with tempfile.TemporaryDirectory(prefix="l7reload-") as tmp:
        backend = start_backend(Path(tmp), free_port(), other_cpu)
        results: dict[str, list[tuple[int, int, int]]] = {}
        try:
            for run in range(args.runs):
                for kind in (Vigil, HAProxy, Nginx):
                    proxy = kind(Path(tmp), backend.port, proxy_cpu)  # stops itself if it fails
                    try:
                        got = errors_under_changes(proxy, changes, 0.05, other_cpu)
                    finally:
                        proxy.stop()
                    results.setdefault(proxy.name, []).append(got)
                    print(f"run {run + 1}: {proxy.name}: {got[0]} socket errors, {got[1]} "
                          f"non-2xx in {got[2]} requests", file=sys.stderr)
        finally:
            backend.stop()
    print(f"{changes} config changes under keep-alive load (wrk, 16 connections), "
          f"{args.runs} run(s)\n")
    print("| proxy | socket errors | non-2xx answers | requests |")
    print("|---|---|---|---|")
    for name, runs in results.items():
        print(f"| {name} | {sum(r[0] for r in runs)} | {sum(r[1] for r in runs)} | "
              f"{sum(r[2] for r in runs)} |")
    # The goal: no error for vigil-l7 (the smoke test fails otherwise).
    vigil = results.get("vigil-l7", [])
    if any(r[0] or r[1] for r in vigil) or not any(r[2] for r in vigil):
        print("vigil-l7 lost requests (or served none) across its commits", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
