"""vigil-l7 as an operator runs it: configured through the vigil CLI and vigild's commit, in
front of real backends (nginx where installed, small Python servers), reached by curl and wrk.
A backend killed mid-run costs no failed request; a hundred commits under load lose nothing
and leave an upgraded (WebSocket-style) connection opened before them still echoing; a
listener on a port in use fails the commit with nothing changed."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from vigil_lab import pki, rpc
from vigil_lab.dns_server import DnsServer
from test_daemons import Daemon

BACKEND_SCRIPT = Path(__file__).parents[1] / "lab" / "vigil_lab" / "http_backend.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Backend:
    """vigil_lab/http_backend.py in a process of its own, so killing it closes its kept-alive
    connections too, as a crashed server's would."""

    def __init__(self, name: str, address: str = "127.0.0.1", port: int = 0):
        self.proc = subprocess.Popen([sys.executable, str(BACKEND_SCRIPT), name, address,
                                      str(port)], stdout=subprocess.PIPE, text=True)
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
        # Closed on the way out, not when the last reference goes: serve() keeps the last
        # accepted socket referenced, which left the newest tunnel's end open after its peer's.
        with c:
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
              route_value: str = "a", access_log: Path | None = None, workers: int = 2) -> str:
    listed = "".join(f'\n        - {{address: "127.0.0.1:{p}"}}' for p in targets)
    text = f"""l7:
  workers: {workers}
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
    scrape = free_port()
    out = l7.commit(l7_config(listen, [a.port, b.port], access_log=log) +
                    f'monitoring:\n  prometheus: {{listen: "127.0.0.1:{scrape}"}}\n')
    assert "changed: monitoring l7" in out.stdout
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
    # By route and upstream, with a latency histogram Prometheus can take quantiles of.
    assert 'vigil_l7_route_responses_total{class="2xx",route="all"}' in text, text
    assert 'vigil_l7_upstream_responses_total{class="2xx",upstream="app"}' in text
    assert 'vigil_l7_route_request_duration_seconds_bucket{route="all",le="+Inf"}' in text
    # vigild's /metrics carries the histogram too (components' metrics cross as JSON).
    merged = urllib.request.urlopen(f"http://127.0.0.1:{scrape}/metrics", timeout=5).read().decode()
    assert re.search(r'vigil_l7_route_request_duration_seconds_count\{[^}]*route="all"[^}]*\} '
                     r'(\d+)', merged), merged
    assert 'le="+Inf"' in merged
    routes_shown = l7.cli("show", "l7", "routes").stdout
    shown = re.search(r"all .* app +(\d+) +(\d+)", routes_shown)
    assert shown and int(shown.group(1)) >= 9 and shown.group(2) == "0", routes_shown
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


def test_health_checks_take_a_hung_backend_out_and_bring_it_back(l7):
    """A stopped backend (SIGSTOP: its kernel still accepts connections, so connects succeed
    and only the answers never come) is found by the active checks' timeout; after that no
    request goes to it, and when it resumes it is healthy again after `rise` passes."""
    a, b = Backend("alpha"), Backend("bravo")
    listen = free_port()
    check = "      health_check: {interval_ms: 500, timeout_ms: 400, rise: 2, fall: 2}\n"
    config = l7_config(listen, [a.port, b.port]).replace("      targets:", check + "      targets:")
    l7.commit(config)

    def health(port: int) -> str:
        shown = json.loads(l7.cli("show", "l7", "upstreams", "--json").stdout)
        return next(t["health"] for t in shown[0]["targets"] if t["address"].endswith(f":{port}"))

    def wait_for(port: int, state: str):
        deadline = time.monotonic() + 10
        while health(port) != state and time.monotonic() < deadline:
            time.sleep(0.05)
        assert health(port) == state

    wait_for(a.port, "healthy")
    wait_for(b.port, "healthy")
    assert {curl(listen).stdout for _ in range(6)} == {"alpha", "bravo"}
    b.proc.send_signal(signal.SIGSTOP)
    try:
        wait_for(b.port, "unhealthy")
        answers = [curl(listen, "/", "-o", "-", "-w", " %{http_code}").stdout for _ in range(30)]
        assert answers == ["alpha 200"] * 30
        shown = l7.cli("show", "l7", "upstreams").stdout
        line = next(l for l in shown.splitlines() if f":{b.port}" in l)
        assert "  down  " in line and "unhealthy (timed out)" in line, shown
        time.sleep(1.2)  # metrics are exported once a second
        metrics = rpc.call(l7.proxy.socket, "metrics", {"format": "text"})
        text = metrics["text"] if isinstance(metrics, dict) else metrics
        assert (f'vigil_l7_upstream_target_healthy{{target="127.0.0.1:{b.port}",'
                f'upstream="app"}} 0') in text, text
        assert (f'vigil_l7_upstream_target_healthy{{target="127.0.0.1:{a.port}",'
                f'upstream="app"}} 1') in text, text
    finally:
        b.proc.send_signal(signal.SIGCONT)
    wait_for(b.port, "healthy")
    assert {curl(listen).stdout for _ in range(6)} == {"alpha", "bravo"}
    stats = rpc.call(l7.proxy.socket, "l7.stats")
    assert stats["no_healthy_target"] == 0


def test_a_target_given_by_dns_name_follows_its_records(l7):
    """A target named in DNS: vigil-l7 asks the configured nameserver, sends to what it
    answers, asks again when the TTL runs out and moves to the new address without a commit
    or a failed request; when DNS stops answering, the last address is kept."""
    a = Backend("alpha", "127.0.0.1")
    b = Backend("bravo", "127.0.0.2", a.port)
    dns = DnsServer()
    try:
        dns.set("app.vigil.test", ["127.0.0.1"], ttl=1)
        listen = free_port()
        l7.commit(f"""l7:
  dns: {{nameservers: ["127.0.0.1:{dns.port}"], timeout_s: 1, tries: 1, min_ttl_s: 1}}
  listeners:
    web: {{address: "127.0.0.1:{listen}"}}
  upstreams:
    app:
      targets: [{{address: "app.vigil.test:{a.port}"}}]
  routes:
    all: {{upstream: app}}
""")
        assert curl(listen).stdout == "alpha"  # looked up before the commit took effect
        shown = l7.cli("show", "l7", "upstreams").stdout
        assert f"app: app.vigil.test:{a.port} -> 127.0.0.1 (TTL 1 s" in shown, shown
        dns.set("app.vigil.test", ["127.0.0.2"], ttl=1)
        answers = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (not answers or answers[-1] != "bravo 200"):
            answers.append(curl(listen, "/", "-o", "-", "-w", " %{http_code}").stdout)
            time.sleep(0.05)
        assert answers[-1] == "bravo 200", answers
        assert all(x in ("alpha 200", "bravo 200") for x in answers), answers
        upstreams = json.loads(l7.cli("show", "l7", "upstreams", "--json").stdout)
        assert [t["address"] for t in upstreams[0]["targets"]] == [f"127.0.0.2:{a.port}"]
        assert upstreams[0]["targets"][0]["name"] == "app.vigil.test"
        dns.close()  # nobody answers now
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            names = json.loads(l7.cli("show", "l7", "upstreams", "--json").stdout)[0]["names"]
            if names[0]["error"]:
                break
            time.sleep(0.2)
        assert names[0]["error"] == "the nameservers did not answer", names
        assert names[0]["addresses"] == ["127.0.0.2"]
        assert curl(listen).stdout == "bravo"
    finally:
        dns.close()


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


def open_tunnel(port: int) -> socket.socket:
    tunnel = socket.create_connection(("127.0.0.1", port), timeout=5)
    tunnel.sendall(b"GET /ws HTTP/1.1\r\nHost: edge\r\nUpgrade: websocket\r\n"
                   b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   b"Sec-WebSocket-Version: 13\r\n\r\n")
    assert tunnel.recv(4096).startswith(b"HTTP/1.1 101 ")
    return tunnel


class WrkLoad:
    """wrk against `port`, one second at a time, for as long as the `with` block lasts; each
    run's report kept, and checked at the end: every run answered, no socket error, no
    non-2xx."""

    def __init__(self, port: int, connections: int):
        self.command = ["wrk", "-t1", f"-c{connections}", "-d1s", f"http://127.0.0.1:{port}/"]
        self.reports: list[str] = []
        self.running = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        while self.running.is_set():
            self.reports.append(subprocess.run(self.command, capture_output=True, text=True,
                                               timeout=30).stdout)

    def __enter__(self):
        self.running.set()
        self.thread.start()
        time.sleep(0.3)
        return self

    def __exit__(self, *exc):
        self.running.clear()
        self.thread.join()

    def check(self, *context):
        assert self.reports
        for report in self.reports:
            assert "requests in" in report, report
            assert "Socket errors" not in report, report
            assert "Non-2xx" not in report, (report, *context)


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_a_hundred_commits_under_load_lose_nothing(l7):
    a, b = Backend("alpha"), Backend("bravo")
    echo = EchoAfterUpgrade()
    listen = free_port()
    l7.commit(l7_config(listen, [a.port, b.port], echo=echo.port))
    tunnel = open_tunnel(listen)
    with WrkLoad(listen, connections=16) as load:
        for i in range(100):
            l7.commit(l7_config(listen, [a.port, b.port], echo=echo.port, route_value=f"v{i}"))
    load.check()
    assert curl(listen, "/", "-D", "-").stdout.count("X-Seen-Route: v99") == 1
    tunnel.sendall(b"still there after 100 commits")
    assert tunnel.recv(4096) == b"still there after 100 commits"
    tunnel.close()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_a_commit_changes_the_worker_count_under_load_and_keeps_every_connection(l7):
    """l7.workers 2 -> 4 -> 1 by commit, with wrk running and WebSocket tunnels open: the
    added workers serve at once, the retired ones keep serving their tunnels until those
    close, then stop; no request fails."""
    a = Backend("alpha")
    echo = EchoAfterUpgrade()
    listen = free_port()
    log = l7.tmp / "access.log"

    def config(workers: int) -> str:
        return l7_config(listen, [a.port], echo=echo.port, workers=workers, access_log=log)

    l7.commit(config(2))
    with WrkLoad(listen, connections=8) as load:
        l7.commit(config(4))
        assert rpc.call(l7.proxy.socket, "l7.stats")["workers"] == 4
        assert "4 worker(s)" in l7.cli("show", "l7", "listeners").stdout
        # Eight tunnels over four workers' sockets: some land on the ones retired next.
        tunnels = [open_tunnel(listen) for _ in range(8)]
        l7.commit(config(1))
        # Retired workers with a tunnel stay until it closes (one without any may already
        # have stopped).
        stats = rpc.call(l7.proxy.socket, "l7.stats")
        assert stats["workers"] == 1 and 1 <= stats["workers_retiring"] <= 3, stats
        assert re.search(r"1 worker\(s\), [123] retiring",
                         l7.cli("show", "l7", "listeners").stdout)
        for i, tunnel in enumerate(tunnels):
            tunnel.sendall(b"still there %d" % i)
            assert tunnel.recv(4096) == b"still there %d" % i
        time.sleep(1.2)
    time.sleep(1.2)  # the access log written
    load.check([line for line in log.read_text().splitlines()
                if "status=200" not in line and "status=101" not in line])
    for tunnel in tunnels:
        tunnel.close()
    deadline = time.monotonic() + 10
    while rpc.call(l7.proxy.socket, "l7.stats")["workers_retiring"] > 0:
        assert time.monotonic() < deadline, "retired workers never stopped"
        time.sleep(0.2)
    assert curl(listen).stdout == "alpha"


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


def make_pki(directory: Path, names: list[tuple[str, str]]) -> None:
    """A CA (ca.pem) and, for each (stem, DNS name), stem.pem and stem.key it signed."""
    pki.make_ca(directory)
    for stem, name in names:
        pki.issue(directory, stem, name)


def tls_config(directory: Path, https: int, mtls: int, target: int) -> str:
    return f"""l7:
  workers: 2
  certificates:
    www: {{certificate: {directory}/www.pem, private_key: {directory}/www.key}}
    api: {{certificate: {directory}/api.pem, private_key: {directory}/api.key}}
  listeners:
    https:
      address: "127.0.0.1:{https}"
      tls: {{certificates: [www, api]}}
    mtls:
      address: "127.0.0.1:{mtls}"
      tls: {{certificates: [www], client_ca: {directory}/ca.pem}}
  upstreams:
    app:
      targets: [{{address: "127.0.0.1:{target}"}}]
  routes:
    all: {{upstream: app}}
"""


def https_curl(port: int, name: str, directory: Path, *extra: str):
    return subprocess.run(
        ["curl", "-sS", "-m", "5", "-D", "-", "--cacert", str(directory / "ca.pem"),
         "--resolve", f"{name}:{port}:127.0.0.1", *extra, f"https://{name}:{port}/"],
        capture_output=True, text=True, timeout=10)


def served_subject(port: int, name: str) -> str:
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                          "-servername", name], input="", capture_output=True, text=True,
                         timeout=10)
    return next((l for l in out.stdout.splitlines() if l.startswith("subject=")), "")


def test_https_with_sni_client_certificates_and_a_reload(l7):
    directory = l7.tmp / "pki"
    directory.mkdir()
    make_pki(directory, [("www", "www.example.com"), ("api", "api.example.com"),
                         ("client", "alice")])
    backend = Backend("alpha")
    https, mtls = free_port(), free_port()
    l7.commit(tls_config(directory, https, mtls, backend.port))

    # SNI picks each name's certificate; curl verifies it against the CA and the name.
    for name in ("www.example.com", "api.example.com"):
        out = https_curl(https, name, directory)
        assert out.returncode == 0, out.stderr
        # HTTP/2 by ALPN (curl offers it): its field names come in lower case.
        assert out.stdout.startswith("HTTP/2 200"), out.stdout
        assert out.stdout.endswith("alpha") and "x-seen-proto: https" in out.stdout
    # Old protocols are refused.
    old = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{https}", "-tls1_1"],
                         input="", capture_output=True, text=True, timeout=10)
    assert "Cipher is (NONE)" in old.stdout or old.returncode != 0
    # A required client certificate: none is refused, the CA's is taken and its subject sent
    # up; a client's own X-Client-Subject never is.
    refused = https_curl(mtls, "www.example.com", directory)
    assert refused.returncode != 0 and "alpha" not in refused.stdout
    taken = https_curl(mtls, "www.example.com", directory,
                       "--cert", str(directory / "client.pem"),
                       "--key", str(directory / "client.key"),
                       "-H", "X-Client-Subject: CN=admin")
    assert taken.returncode == 0, taken.stderr
    assert "x-seen-subject: CN=alice" in taken.stdout, taken.stdout
    listeners = l7.cli("show", "l7", "listeners").stdout
    assert "https" in listeners and "mtls: client certificate required" in listeners
    assert "certificate api (api.example.com) expires 20" in listeners, listeners
    stats = rpc.call(l7.proxy.socket, "l7.stats")
    assert stats["tls_handshakes"] >= 3 and stats["tls_handshake_failures"] >= 1, stats

    # A renewed certificate is taken on SIGHUP without a restart; a broken one is refused and
    # the one before stays.
    assert "CN = www.example.com" in served_subject(https, "www.example.com")
    renewal = directory / "renewed"
    renewal.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", "www.key", "-out", "www.pem",
                    "-subj", "/CN=www-renewed", "-addext", "subjectAltName=DNS:www.example.com",
                    "-days", "2"], check=True, capture_output=True, cwd=renewal)
    (renewal / "www.key").chmod(0o600)
    for f in ("www.pem", "www.key"):
        (renewal / f).replace(directory / f)
    l7.proxy.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 5
    while "www-renewed" not in served_subject(https, "www.example.com"):
        assert time.time() < deadline, "the renewed certificate was not taken"
        time.sleep(0.1)
    renewed = (directory / "www.pem").read_text()
    (directory / "www.pem").write_text("truncated\n")
    l7.proxy.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert "www-renewed" in served_subject(https, "www.example.com")
    (directory / "www.pem").write_text(renewed)

    # A key others could read fails the commit, naming the file, and changes nothing.
    (directory / "api.key").chmod(0o644)
    failed = l7.commit(tls_config(directory, https, free_port(), backend.port), check=False)
    assert failed.returncode != 0
    assert "api.key has mode 0644" in failed.stdout + failed.stderr, failed.stdout + failed.stderr
    assert https_curl(https, "api.example.com", directory).returncode == 0


def upstream_tls_config(directory: Path, listen: int, target: int, ca: Path) -> str:
    return f"""l7:
  workers: 2
  certificates:
    edge: {{certificate: {directory}/edge.pem, private_key: {directory}/edge.key}}
  listeners:
    web: {{address: "127.0.0.1:{listen}"}}
  upstreams:
    app:
      connect_timeout_ms: 1000
      retries: 0
      targets: [{{address: "127.0.0.1:{target}"}}]
      tls: {{server_name: backend.example.com, ca: {ca}, certificate: edge}}
      health_check: {{path: /healthz, interval_ms: 200, rise: 1, fall: 1}}
  routes:
    all: {{upstream: app}}
"""


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_an_upstream_over_tls_is_verified_and_given_a_client_certificate(l7):
    """nginx as an HTTPS backend that asks for a client certificate: vigil-l7 verifies nginx's
    certificate against the CA and the server name, sends SNI and its own certificate, keeps
    the connection alive, and checks its health through TLS; with the wrong CA every request
    is a 502 and the health checks say why."""
    directory = l7.tmp / "pki"
    directory.mkdir()
    make_pki(directory, [("backend", "backend.example.com"), ("edge", "edge1.example.com")])
    other = l7.tmp / "other-ca"
    other.mkdir()
    pki.make_ca(other)
    port, listen = free_port(), free_port()
    conf = l7.tmp / "nginx.conf"
    conf.write_text(f"""worker_processes 1; daemon off; pid {l7.tmp}/nginx.pid;
error_log {l7.tmp}/nginx.err; events {{ worker_connections 64; }}
http {{ access_log off; server {{ listen 127.0.0.1:{port} ssl;
  ssl_certificate {directory}/backend.pem; ssl_certificate_key {directory}/backend.key;
  ssl_client_certificate {directory}/ca.pem; ssl_verify_client on;
  location / {{ return 200 "sni=$ssl_server_name client=$ssl_client_s_dn conn=$connection\n"; }}
}} }}
""")
    nginx = subprocess.Popen([shutil.which("nginx"), "-c", str(conf), "-e",
                              str(l7.tmp / "nginx.err")], stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while subprocess.run(["curl", "-sk", "-o", "/dev/null", f"https://127.0.0.1:{port}/"],
                             timeout=10).returncode != 0:
            assert time.time() < deadline, "nginx did not start"
            time.sleep(0.1)
        l7.commit(upstream_tls_config(directory, listen, port, directory / "ca.pem"))
        bodies = [curl(listen).stdout for _ in range(3)]
        for body in bodies:
            assert body.startswith("sni=backend.example.com client=CN=edge1.example.com "), bodies
        # One TLS connection per worker at most: kept alive, not a handshake per request.
        assert len({b.split("conn=")[1] for b in bodies}) <= 2, bodies
        shown = l7.cli("show", "l7", "upstreams").stdout
        assert (f"app: TLS 1.2 or 1.3, certificates verified against {directory}/ca.pem for "
                "backend.example.com, client certificate edge") in shown, shown
        deadline = time.time() + 5
        while not re.search(r"\bhealthy\b", l7.cli("show", "l7", "upstreams").stdout):
            assert time.time() < deadline, "the health checks through TLS never passed"
            time.sleep(0.1)

        l7.commit(upstream_tls_config(directory, listen, port, other / "ca.pem"))
        refused = curl(listen, "/", "-o", "/dev/null", "-w", "%{http_code}")
        assert refused.stdout in ("502", "503"), refused.stdout  # 503 once checks say so
        deadline = time.time() + 5
        while "unhealthy (TLS handshake failed)" not in l7.cli("show", "l7", "upstreams").stdout:
            assert time.time() < deadline, l7.cli("show", "l7", "upstreams").stdout
            time.sleep(0.1)
        stats = rpc.call(l7.proxy.socket, "l7.stats")
        assert stats["upstream_tls_failures"] >= 1 or stats["no_healthy_target"] >= 1, stats
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)


@pytest.mark.skipif(shutil.which("testssl") is None, reason="testssl.sh is not installed")
def test_testssl_finds_no_weak_protocol_or_cipher(l7):
    """testssl.sh (Debian's) audits an HTTPS listener's protocols and ciphers: nothing before
    TLS 1.2, no cipher without forward secrecy or with a weak cipher, and none of the
    vulnerabilities it checks for."""
    directory = l7.tmp / "pki"
    directory.mkdir()
    make_pki(directory, [("www", "www.example.com"), ("api", "api.example.com")])
    backend = Backend("alpha")
    https = free_port()
    l7.commit(tls_config(directory, https, free_port(), backend.port))
    report = l7.tmp / "testssl.json"
    # Loopback only: --ip pins the address, no DNS, no phoning out (off unless asked for).
    out = subprocess.run(["testssl", "--quiet", "--color", "0", "--warnings", "off",
                          "--ip", "127.0.0.1", "--nodns", "none", "--sneaky",
                          "--protocols", "--std", "--fs", "--vulnerable",
                          "--jsonfile", str(report), f"127.0.0.1:{https}"],
                         capture_output=True, text=True, timeout=600)
    findings = json.loads(report.read_text())
    assert findings, out.stdout + out.stderr
    bad = [f for f in findings
           if f.get("severity") in {"MEDIUM", "HIGH", "CRITICAL"}
           and f.get("id") not in {"cert_chain_of_trust", "cert_trust", "scanProblem"}]
    assert not bad, json.dumps(bad, indent=1)
    offered = {f["id"]: f["finding"] for f in findings}
    for old in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert offered.get(old) == "not offered", (old, offered.get(old))
    assert offered.get("TLS1_3", "").startswith("offered"), offered.get("TLS1_3")
