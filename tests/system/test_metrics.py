"""vigild's /metrics as a monitoring team meets it: a real Prometheus server (Debian's) scrapes
it, and values come back through Prometheus's own query API, including a component's."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from vigil_lab import rpc
from test_daemons import Daemon


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def wait_for(fn, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = fn()
            if value:
                return value
        except OSError as e:
            last = e
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what} ({last})")


@pytest.fixture
def stack(binaries, tmp_path):
    port = free_port()
    config = f'system: {{hostname: edge1}}\nmonitoring:\n  prometheus: {{listen: "127.0.0.1:{port}"}}\n'
    (tmp_path / "l7").mkdir()
    l7 = Daemon(binaries["vigil-l7"], tmp_path / "l7", config_text=config)
    rpc.wait_for_socket(l7.socket, proc=l7.proc)
    (tmp_path / "d").mkdir()
    vigild = Daemon(binaries["vigild"], tmp_path / "d", config_text=config,
                    extra_args=("--component", f"vigil-l7={l7.socket}",
                                "--component", f"vigil-dp={tmp_path / 'absent.sock'}"))
    rpc.wait_for_socket(vigild.socket, proc=vigild.proc)
    yield vigild, port, tmp_path
    for d in (vigild, l7):
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


def test_metrics_endpoint_merges_vigild_and_components(stack):
    vigild, port, _ = stack
    text = wait_for(lambda: http_get(f"http://127.0.0.1:{port}/metrics"), 5, "/metrics")
    assert 'vigil_component_up{component="vigil-l7"} 1' in text
    assert 'vigil_component_up{component="vigil-dp"} 0' in text
    assert 'vigil_process_start_time_seconds{component="vigild"}' in text
    assert 'vigil_process_start_time_seconds{component="vigil-l7"}' in text
    # One HELP block per family, however many sources report it.
    assert text.count("# HELP vigil_process_start_time_seconds") == 1


def test_commit_moves_the_endpoint(stack, binaries):
    vigild, port, tmp = stack
    new_port = free_port()
    candidate = tmp / "c.yaml"
    candidate.write_text(f'monitoring:\n  prometheus: {{listen: "127.0.0.1:{new_port}"}}\n')
    cli = [str(binaries["vigil"]), "--socket", vigild.socket]
    subprocess.run([*cli, "load", "replace", str(candidate)], check=True, capture_output=True)
    subprocess.run([*cli, "commit"], check=True, capture_output=True)
    assert "vigil_component_up" in wait_for(
        lambda: http_get(f"http://127.0.0.1:{new_port}/metrics"), 5, "the new address")
    with pytest.raises(OSError):
        http_get(f"http://127.0.0.1:{port}/metrics")


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="Debian's prometheus not installed")
def test_a_real_prometheus_scrapes_and_queries_back(stack, binaries):
    vigild, port, tmp = stack
    prom_port = free_port()
    (tmp / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: vigil\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n")
    prom = subprocess.Popen(["prometheus", f"--config.file={tmp / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{prom_port}"],
                            stdout=subprocess.DEVNULL, stderr=open(tmp / "prometheus.log", "w"))
    try:
        # A commit, so there is a counter of vigild's own to find.
        candidate = tmp / "c.yaml"
        candidate.write_text(vigild.config.read_text().replace("edge1", "edge2"))
        cli = [str(binaries["vigil"]), "--socket", vigild.socket]
        subprocess.run([*cli, "load", "replace", str(candidate)], check=True, capture_output=True)
        subprocess.run([*cli, "commit"], check=True, capture_output=True)

        def query(expr: str):
            url = (f"http://127.0.0.1:{prom_port}/api/v1/query?"
                   + urllib.parse.urlencode({"query": expr}))
            result = json.loads(http_get(url))["data"]["result"]
            return result[0]["value"][1] if result else None

        commits = wait_for(lambda: query(
            'vigil_mgmt_commits_total{component="vigild",kind="commit",result="ok"}'),
            60, "Prometheus to scrape the commit counter")
        assert commits == "1"
        assert wait_for(lambda: query('vigil_component_up{component="vigil-l7"}'), 30,
                        "vigil-l7 up") == "1"
        assert query('up{job="vigil"}') == "1"
    finally:
        prom.terminate()
        prom.wait(timeout=10)


def test_idle_connections_only_delay_a_scrape(stack):
    """civetweb serves a connection per thread: twenty connections that never send a request
    (anyone who can reach the port can open them) used to hold every scrape off for 30 s a
    round. Now each gives its thread back after 3 s."""
    _, port, _ = stack
    wait_for(lambda: http_get(f"http://127.0.0.1:{port}/metrics"), 5, "/metrics")
    idle = []
    try:
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /metrics HTTP/1.1\r\n")  # and never the rest
            idle.append(s)
        start = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=15) as r:
            text = r.read().decode()
        elapsed = time.monotonic() - start
    finally:
        for s in idle:
            s.close()
    assert "vigil_component_up" in text
    assert elapsed < 10, f"a scrape took {elapsed:.1f} s behind idle connections"
