"""vigil-l7 as an operator runs it: configured through the vigil CLI and vigild's commit, in
front of real backends (nginx where installed, small Python servers), reached by curl and wrk.
A backend killed mid-run costs no failed request; a hundred commits under load lose nothing
and leave an upgraded (WebSocket-style) connection opened before them still echoing; a
listener on a port in use fails the commit with nothing changed."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from vigil_lab import rpc
from test_daemons import Daemon

BACKEND_SCRIPT = Path(__file__).parents[1] / "lab" / "vigil_lab" / "http_backend.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Backend:
    """vigil_lab/http_backend.py in a process of its own, so killing it closes its kept-alive
    connections too, as a crashed server's would."""

    def __init__(self, name: str):
        self.proc = subprocess.Popen([sys.executable, str(BACKEND_SCRIPT), name],
                                     stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        BACKENDS.append(self)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


BACKENDS: list[Backend] = []


class EchoAfterUpgrade:
    """A backend that answers an Upgrade with 101, then echoes every byte (a WebSocket server
    as far as a proxy can tell)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(c,), daemon=True).start()

    @staticmethod
    def handle(c: socket.socket):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = c.recv(4096)
            if not chunk:
                return
            head += chunk
        c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\n\r\n")
        while True:
            data = c.recv(4096)
            if not data:
                return
            c.sendall(data)


def l7_config(listen: int, targets: list[int], echo: int | None = None,
              route_value: str = "a", access_log: Path | None = None) -> str:
    listed = "".join(f'\n        - {{address: "127.0.0.1:{p}"}}' for p in targets)
    text = f"""l7:
  workers: 2
"""
    if access_log:
        text += f"  access_log: {{path: {access_log}}}\n"
    text += f"""  listeners:
    web: {{address: "127.0.0.1:{listen}"}}
  upstreams:
    app:
      connect_timeout_ms: 500
      targets:{listed}
"""
    if echo:
        text += f'    ws:\n      targets: [{{address: "127.0.0.1:{echo}"}}]\n'
    text += f"""  routes:
    all:
      upstream: app
      add_headers: [{{name: X-Route, value: "{route_value}"}}]
"""
    if echo:
        text += "    ws: {upstream: ws, path_prefix: /ws, priority: 10}\n"
    return text


@pytest.fixture
def l7(binaries, tmp_path):
    """vigild committing to a real vigil-l7, and the CLI."""
    made: list[Daemon] = []

    class L7:
        tmp = tmp_path

        def start(self):
            (tmp_path / "l7").mkdir()
            self.proxy = Daemon(binaries["vigil-l7"], tmp_path / "l7",
                                config_text="system: {hostname: edge1}\n")
            made.append(self.proxy)
            rpc.wait_for_socket(self.proxy.socket, proc=self.proxy.proc)
            self.vigild = Daemon(binaries["vigild"], tmp_path,
                                 config_text="system: {hostname: edge1}\n",
                                 extra_args=("--component", f"vigil-l7={self.proxy.socket}"))
            made.append(self.vigild)
            rpc.wait_for_socket(self.vigild.socket, proc=self.vigild.proc)

        def cli(self, *args, check=True):
            out = subprocess.run([str(binaries["vigil"]), "--socket", self.vigild.socket, *args],
                                 capture_output=True, text=True, timeout=60)
            if check:
                assert out.returncode == 0, out.stderr + out.stdout
            return out

        def commit(self, text: str, check=True):
            path = tmp_path / "candidate.yaml"
            path.write_text("system: {hostname: edge1}\n" + text)
            self.cli("load", "replace", str(path))
            return self.cli("commit", check=check)

    lab = L7()
    lab.start()
    yield lab
    while BACKENDS:
        BACKENDS.pop().kill()
    for d in made:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


def curl(port: int, path: str = "/", *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "-m", "5", *extra, f"http://127.0.0.1:{port}{path}"],
                          capture_output=True, text=True, timeout=10)


def test_a_commit_publishes_backends_through_the_proxy(l7):
    a, b = Backend("alpha"), Backend("bravo")
    listen = free_port()
    log = l7.tmp / "access.log"
    out = l7.commit(l7_config(listen, [a.port, b.port], access_log=log))
    assert "changed: l7" in out.stdout
    seen = {curl(listen).stdout for _ in range(6)}
    assert seen == {"alpha", "bravo"}  # round robin over both
    headers = curl(listen, "/", "-D", "-").stdout
    assert "X-Seen-Route: a" in headers  # the route's added field reached the backend
    posted = curl(listen, "/upload", "--data-binary", "x" * 100000).stdout
    assert posted.endswith("got 100000")
    # HTTP/1.0, and a refused smuggling shape, from a real client.
    assert curl(listen, "/", "--http1.0").stdout in {"alpha", "bravo"}
    bad = curl(listen, "/", "-H", "Transfer-Encoding: chunked", "-H", "Content-Length: 3",
               "--data-binary", "abc", "-o", "/dev/null", "-w", "%{http_code}")
    assert bad.stdout == "400"
    stats = rpc.call(l7.proxy.socket, "l7.stats")
    assert stats["workers"] == 2 and stats["requests"] >= 9
    routes = json.loads(l7.cli("show", "l7", "routes", "--json").stdout)
    assert [(r["name"], r["upstream"]) for r in routes] == [("all", "app")]
    listeners = l7.cli("show", "l7", "listeners").stdout
    assert f"web       127.0.0.1:{listen}  http" in listeners, listeners
    time.sleep(1.2)  # exported once a second
    metrics = rpc.call(l7.proxy.socket, "metrics", {"format": "text"})
    text = metrics["text"] if isinstance(metrics, dict) else metrics
    requests = [line for line in text.splitlines() if line.startswith("vigil_l7_requests_total")]
    assert requests and float(requests[0].split()[-1]) >= 9, text
    assert 'vigil_l7_responses_total{class="4xx"} 1' in text
    # The access log: a line per request (written within a second), the refusal's too; after
    # logrotate moves the file, SIGHUP opens a new one.
    lines = log.read_text().splitlines()
    assert len(lines) >= 9, lines
    assert any('method=POST host=127.0.0.1:' in l and "path=/upload status=200" in l
               for l in lines), lines
    assert any("status=400" in l for l in lines), lines
    log.rename(l7.tmp / "access.log.1")
    l7.proxy.proc.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    curl(listen, "/after-rotation")
    time.sleep(1.5)
    assert "path=/after-rotation status=200" in log.read_text()


def test_a_killed_backend_costs_no_failed_request(l7):
    a, b = Backend("alpha"), Backend("bravo")
    listen = free_port()
    l7.commit(l7_config(listen, [a.port, b.port]))
    failures = 0
    answers = []
    for i in range(60):
        if i == 20:
            b.kill()
        r = curl(listen, "/", "-o", "-", "-w", " %{http_code}")
        answers.append(r.stdout)
        failures += not r.stdout.endswith(" 200")
    # A refused connect is retried on the other target at once, and three in a row eject it.
    assert failures == 0, answers
    assert all(x == "alpha 200" for x in answers[21:])
    stats = rpc.call(l7.proxy.socket, "l7.stats")
    assert stats["ejections"] >= 1 and stats["retries"] >= 1
    upstreams = l7.cli("show", "l7", "upstreams").stdout
    dead = [line for line in upstreams.splitlines() if f":{b.port}" in line]
    assert dead and "ejected (" in dead[0], upstreams
    live = [line for line in upstreams.splitlines() if f":{a.port}" in line]
    assert live and "  up  " in live[0], upstreams


def test_a_listener_on_a_port_in_use_fails_the_commit_and_changes_nothing(l7):
    a = Backend("alpha")
    listen = free_port()
    l7.commit(l7_config(listen, [a.port]))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        out = l7.commit(l7_config(listen, [a.port]).replace(
            "  upstreams:", f'    other: {{address: "127.0.0.1:{busy}"}}\n  upstreams:'),
            check=False)
        assert out.returncode != 0
        assert "listener other: listen on 127.0.0.1:" in out.stderr + out.stdout
        assert "Address already in use" in out.stderr + out.stdout
    assert curl(listen).stdout == "alpha"  # the config before still runs
    assert "other" not in l7.cli("show", "configuration").stdout


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_a_hundred_commits_under_load_lose_nothing(l7):
    a, b = Backend("alpha"), Backend("bravo")
    echo = EchoAfterUpgrade()
    listen = free_port()
    l7.commit(l7_config(listen, [a.port, b.port], echo=echo.port))
    tunnel = socket.create_connection(("127.0.0.1", listen), timeout=5)
    tunnel.sendall(b"GET /ws HTTP/1.1\r\nHost: edge\r\nUpgrade: websocket\r\n"
                   b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   b"Sec-WebSocket-Version: 13\r\n\r\n")
    assert tunnel.recv(4096).startswith(b"HTTP/1.1 101 ")
    reports: list[str] = []
    committing = threading.Event()
    committing.set()

    def load():
        while committing.is_set():
            reports.append(subprocess.run(
                ["wrk", "-t1", "-c16", "-d1s", f"http://127.0.0.1:{listen}/"],
                capture_output=True, text=True, timeout=30).stdout)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        time.sleep(0.3)
        for i in range(100):
            l7.commit(l7_config(listen, [a.port, b.port], echo=echo.port, route_value=f"v{i}"))
    finally:
        committing.clear()
        loader.join()
    assert reports
    for report in reports:
        assert "requests in" in report, report
        assert "Socket errors" not in report, report
        assert "Non-2xx" not in report, report
    assert curl(listen, "/", "-D", "-").stdout.count("X-Seen-Route: v99") == 1
    tunnel.sendall(b"still there after 100 commits")
    assert tunnel.recv(4096) == b"still there after 100 commits"
    tunnel.close()


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_a_gigabyte_streams_both_ways_in_bounded_memory(l7):
    a = Backend("alpha")
    listen = free_port()
    l7.commit(l7_config(listen, [a.port]))
    gigabyte = l7.tmp / "gigabyte"
    with open(gigabyte, "wb") as f:
        f.truncate(1 << 30)  # sparse: no disk written
    up = curl(listen, "/upload", "-T", str(gigabyte), "-m", "120")
    assert up.stdout == f"alpha got {1 << 30}", up.stdout + up.stderr
    down = curl(listen, f"/zeros/{1 << 30}", "-o", "/dev/null", "-w", "%{size_download}",
                "-m", "120")
    assert down.stdout == str(1 << 30), down.stdout + down.stderr
    # 256 KiB of output per direction before a side is no longer read: the proxy's peak
    # memory stays far below what it carried.
    peak = peak_rss_mib(l7.proxy.proc.pid)
    assert peak < 64, f"vigil-l7 peaked at {peak:.1f} MiB carrying 2 GiB"
