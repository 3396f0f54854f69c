"""vigil-l7 serving HTTP/2 to real clients: curl with h2c prior knowledge and with h2 chosen
by ALPN over TLS, h2load with 100 streams at once on each connection, and a hostile client
that opens and resets streams as fast as it can (rapid reset, CVE-2023-44487) while others
are served. The upstreams speak HTTP/1.1 (vigil_lab/http_backend.py), or HTTP/2 (nginx, in
the clear and over TLS) for a pool with `protocol: h2`."""

from __future__ import annotations

import re
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

from vigil_lab import rpc
from test_l7 import Backend, free_port, l7, make_pki  # noqa: F401 (l7 is a fixture)


def h2_config(listen: int, target: int, tls_listen: int | None = None, directory=None,
              http2: bool = True) -> str:
    text = """l7:
  workers: 2
"""
    if tls_listen:
        text += f"""  certificates:
    www: {{certificate: {directory}/www.pem, private_key: {directory}/www.key}}
"""
    text += f"""  listeners:
    web: {{address: "127.0.0.1:{listen}", http2: {"true" if http2 else "false"}}}
"""
    if tls_listen:
        text += f"""    secure:
      address: "127.0.0.1:{tls_listen}"
      tls: {{certificates: [www]}}
"""
    text += f"""  upstreams:
    app:
      targets: [{{address: "127.0.0.1:{target}"}}]
  routes:
    all:
      upstream: app
      add_headers: [{{name: X-Route, value: h2}}]
"""
    return text


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "-m", "10", *args], capture_output=True, text=True,
                          timeout=20)


def test_h2c_and_h2_by_alpn_are_proxied_to_an_http1_upstream(l7):
    directory = l7.tmp / "pki"
    directory.mkdir()
    make_pki(directory, [("www", "www.example.com")])
    backend = Backend("alpha")
    plain, secure = free_port(), free_port()
    l7.commit(h2_config(plain, backend.port, secure, directory))

    # h2c with prior knowledge: a GET and a POST with a body, each with its forwarding fields.
    got = curl("--http2-prior-knowledge", "-D", "-", f"http://127.0.0.1:{plain}/hello")
    assert got.returncode == 0, got.stderr
    assert got.stdout.startswith("HTTP/2 200"), got.stdout
    assert "x-seen-route: h2" in got.stdout and "x-seen-proto: http" in got.stdout
    assert got.stdout.endswith("alpha")
    posted = curl("--http2-prior-knowledge", "--data-binary", "x" * 100000,
                  f"http://127.0.0.1:{plain}/upload")
    assert posted.returncode == 0 and posted.stdout == "alpha got 100000", posted
    # An HTTP/1.1 client on the same listener is still served as before.
    h1 = curl("-D", "-", f"http://127.0.0.1:{plain}/")
    assert h1.stdout.startswith("HTTP/1.1 200") and h1.stdout.endswith("alpha"), h1.stdout

    # h2 chosen by ALPN over TLS, several requests on one connection.
    url = f"https://www.example.com:{secure}/"
    resolve = f"www.example.com:{secure}:127.0.0.1"
    got = curl("--http2", "--cacert", str(directory / "ca.pem"), "--resolve", resolve, "-D", "-",
               url, url, url)
    assert got.returncode == 0, got.stderr
    assert got.stdout.count("HTTP/2 200") == 3, got.stdout
    assert "x-seen-proto: https" in got.stdout
    # A client offering only HTTP/1.1 gets it.
    h1 = curl("--http1.1", "--cacert", str(directory / "ca.pem"), "--resolve", resolve, "-D", "-",
              url)
    assert h1.stdout.startswith("HTTP/1.1 200"), h1.stdout

    # An upstream gone: each stream answered 502 on the one connection, which stays up. (nghttp
    # for requests sharing a connection: curl 7.88 cannot reuse an h2c one, with any server.)
    backend.kill()
    down = subprocess.run(["nghttp", "-v", f"http://127.0.0.1:{plain}/a",
                           f"http://127.0.0.1:{plain}/b"], capture_output=True, text=True,
                          timeout=20)
    assert down.stdout.count(":status: 502") == 2, down.stdout
    assert "GOAWAY" not in down.stdout.split("recv (stream_id=")[0] + "".join(
        l for l in down.stdout.splitlines() if "recv GOAWAY" in l), down.stdout
    stats = rpc.call(l7.proxy.socket, "l7.stats")
    assert stats["http2_connections"] >= 3, stats
    listeners = l7.cli("show", "l7", "listeners").stdout
    assert "http, h2c" in listeners and "https, h2" in listeners, listeners


def test_http2_can_be_turned_off_on_a_listener(l7):
    backend = Backend("alpha")
    plain = free_port()
    l7.commit(h2_config(plain, backend.port, http2=False))
    got = curl("--http2-prior-knowledge", f"http://127.0.0.1:{plain}/")
    assert got.returncode != 0  # the preface is not HTTP/1.1: refused
    h1 = curl(f"http://127.0.0.1:{plain}/")
    assert h1.stdout == "alpha", h1


def test_h2load_with_a_hundred_streams_a_connection_gets_every_answer(l7):
    backend = Backend("alpha")
    plain = free_port()
    l7.commit(h2_config(plain, backend.port))
    out = subprocess.run(["h2load", "-n", "2000", "-c", "4", "-m", "100",
                          f"http://127.0.0.1:{plain}/"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    done = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, "
                     r"(\d+) failed, (\d+) errored", out.stdout)
    assert done, out.stdout
    assert done.group(1) == done.group(3) == "2000" and done.group(4) == "0", out.stdout
    assert "status codes: 2000 2xx" in out.stdout, out.stdout


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + \
        struct.pack(">I", stream) + payload


def rapid_reset(port: int, streams: int) -> bytes:
    """Opens `streams` requests and resets each at once, as fast as the socket takes them;
    returns what the server sent back."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(0x4, 0, 0))
        # HPACK: GET, http, "/" from the static table; :authority a literal.
        block = bytes([0x82, 0x86, 0x84, 0x41, 0x01]) + b"a"
        received = b""
        batch = b""
        try:
            for i in range(streams):
                sid = 2 * i + 1
                batch += frame(0x1, 0x4 | 0x1, sid, block) + frame(0x3, 0, sid,
                                                                  struct.pack(">I", 8))
                if len(batch) > 16384:
                    s.sendall(batch)
                    batch = b""
            s.sendall(batch)
            s.settimeout(5)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                received += chunk
        except (ConnectionResetError, BrokenPipeError, socket.timeout):
            pass
        return received


def goaway_code(data: bytes) -> int | None:
    at = 0
    while at + 9 <= len(data):
        length = int.from_bytes(data[at:at + 3], "big")
        if data[at + 3] == 0x7:
            return int.from_bytes(data[at + 9 + 4:at + 9 + 8], "big")
        at += 9 + length
    return None


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def test_a_rapid_reset_attack_is_cut_off_and_others_are_served(l7):
    backend = Backend("alpha")
    plain = free_port()
    l7.commit(h2_config(plain, backend.port))
    assert curl("--http2-prior-knowledge", f"http://127.0.0.1:{plain}/").stdout == "alpha"
    before = rss_kib(l7.proxy.proc.pid)

    # Others keep being served while attackers reset streams in a loop.
    failures: list[str] = []
    stop = threading.Event()

    def client():
        while not stop.is_set():
            got = curl("--http2-prior-knowledge", f"http://127.0.0.1:{plain}/")
            if got.stdout != "alpha":
                failures.append(got.stderr or got.stdout)

    t = threading.Thread(target=client)
    t.start()
    codes = []
    for _ in range(5):
        codes.append(goaway_code(rapid_reset(plain, 20000)))
    stop.set()
    t.join()
    assert codes == [0xb] * 5, codes  # ENHANCE_YOUR_CALM each time
    assert not failures, failures[:3]
    grown = rss_kib(l7.proxy.proc.pid) - before
    assert grown < 64 * 1024, f"vigil-l7 grew by {grown} KiB"
    stats = rpc.call(l7.proxy.socket, "l7.stats")
    assert stats["http2_errors"] >= 5, stats
    time.sleep(0.2)
    assert curl("--http2-prior-knowledge", f"http://127.0.0.1:{plain}/").stdout == "alpha"


def h2_upstreams_config(listen: int, h2c: int, tls: int, directory) -> str:
    return f"""l7:
  workers: 2
  listeners:
    web: {{address: "127.0.0.1:{listen}"}}
  upstreams:
    plain:
      protocol: h2
      targets: [{{address: "127.0.0.1:{h2c}"}}]
      health_check: {{type: tcp, interval_ms: 200}}
    secure:
      protocol: h2
      targets: [{{address: "127.0.0.1:{tls}"}}]
      tls: {{server_name: backend.example.com, ca: {directory}/ca.pem}}
  routes:
    secure: {{priority: 10, path_prefix: /tls, upstream: secure}}
    plain: {{upstream: plain}}
"""


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_pools_that_speak_http2_to_nginx_carry_http1_and_http2_clients(l7):
    """nginx speaking only HTTP/2 (h2c with prior knowledge, and h2 by ALPN over TLS) behind
    pools with `protocol: h2`: HTTP/1.1 and HTTP/2 clients both get nginx's answers, which
    say HTTP/2.0 came in; an h2load burst of 400 requests, 20 at once on each of 4 client
    connections, all answered on a handful of upstream connections (streams multiplexed, not
    a connection per request). (Request bodies over HTTP/2 upstreams: the unit tests, through
    the proxy's own HTTP/2 server side.)"""
    directory = l7.tmp / "pki"
    directory.mkdir()
    make_pki(directory, [("backend", "backend.example.com")])
    h2c, tls, listen = free_port(), free_port(), free_port()
    conf = l7.tmp / "nginx-h2.conf"
    conf.write_text(f"""worker_processes 1; daemon off; pid {l7.tmp}/nginx-h2.pid;
error_log {l7.tmp}/nginx-h2.err; events {{ worker_connections 256; }}
http {{ access_log off;
  server {{ listen 127.0.0.1:{h2c} http2; listen 127.0.0.1:{tls} ssl http2;
    ssl_certificate {directory}/backend.pem; ssl_certificate_key {directory}/backend.key;
    location / {{ return 200 "proto=$server_protocol tls=$https conn=$connection host=$host\n"; }}
  }}
}}
""")
    nginx = subprocess.Popen([shutil.which("nginx"), "-c", str(conf), "-e",
                              str(l7.tmp / "nginx-h2.err")], stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while curl("--http2-prior-knowledge", "-o", "/dev/null",
                   f"http://127.0.0.1:{h2c}/").returncode != 0:
            assert time.time() < deadline, "nginx did not start"
            time.sleep(0.1)
        l7.commit(h2_upstreams_config(listen, h2c, tls, directory))

        h1 = curl("-D", "-", "-H", "Host: app.example", f"http://127.0.0.1:{listen}/a")
        assert h1.returncode == 0, h1.stderr
        assert h1.stdout.startswith("HTTP/1.1 200"), h1.stdout
        assert "proto=HTTP/2.0" in h1.stdout and "host=app.example" in h1.stdout, h1.stdout
        h2 = curl("--http2-prior-knowledge", f"http://127.0.0.1:{listen}/b")
        assert h2.returncode == 0 and "proto=HTTP/2.0" in h2.stdout, h2
        over_tls = curl(f"http://127.0.0.1:{listen}/tls/c")
        assert over_tls.returncode == 0, over_tls
        assert "proto=HTTP/2.0 tls=on" in over_tls.stdout, over_tls.stdout
        assert "tls= " in h2.stdout, h2.stdout  # the other pool: in the clear

        burst = subprocess.run(["h2load", "-n", "400", "-c", "4", "-m", "20",
                                f"http://127.0.0.1:{listen}/burst"],
                               capture_output=True, text=True, timeout=60)
        assert re.search(r"400 succeeded, 0 failed, 0 errored", burst.stdout), burst.stdout
        tls_burst = subprocess.run(["h2load", "-n", "200", "-c", "2", "-m", "20",
                                    f"http://127.0.0.1:{listen}/tls/burst"],
                                   capture_output=True, text=True, timeout=60)
        assert re.search(r"200 succeeded, 0 failed, 0 errored", tls_burst.stdout), \
            tls_burst.stdout
        conns = {curl(f"http://127.0.0.1:{listen}/d").stdout.split("conn=")[1].split()[0]
                 for _ in range(6)}
        assert len(conns) <= 2, conns  # one connection a worker, kept

        shown = l7.cli("show", "l7", "upstreams").stdout
        assert "plain: HTTP/2 to its targets (h2c, prior knowledge)" in shown, shown
        assert "secure: HTTP/2 to its targets (h2 by ALPN)" in shown, shown
        stats = rpc.call(l7.proxy.socket, "l7.stats")
        # 400 + 200 + 9 requests on a few connections: each worker's one per target, or a few
        # more when nginx's 128 streams a connection were all in use.
        assert stats["upstream_connects"] <= 12, stats
        assert stats["upstream_reused"] >= 590, stats
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
