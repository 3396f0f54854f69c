"""A hostile client of a site's enrolment service (mgmt/mesh/enrol_server.h), run in a lab
node that reaches it: idle connections, TLS without an identity, a stranger's identity asking
for what only members may, a line longer than the service takes, a request that is not one.
Prints what happened to each, as JSON, for the test to judge."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def stranger_identity(directory: Path) -> tuple[tuple[str, str], str]:
    """An Ed25519 identity of nobody's: (certificate, key) files and its public key in
    base64, as members name identities."""
    key, cert = directory / "id.key", directory / "id.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ed25519", "-nodes", "-subj",
                    "/CN=stranger", "-days", "1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    der = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return (str(cert), str(key)), base64.b64encode(der[-32:]).decode()


def context(identity: tuple[str, str] | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if identity:
        ctx.load_cert_chain(*identity)
    return ctx


def closed_within(sock: socket.socket, start: float, seconds: float) -> float | None:
    """Seconds from `start` until the other side closed `sock` (None: still open after
    `seconds`)."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
        return time.monotonic() - start
    except (socket.timeout, TimeoutError):
        return None
    except (ConnectionResetError, ssl.SSLError, OSError):
        return time.monotonic() - start


def ask(host: str, port: int, identity, line: bytes) -> str:
    with socket.create_connection((host, port), timeout=5) as raw:
        with context(identity).wrap_socket(raw) as tls:
            tls.sendall(line)
            data = b""
            try:
                while not data.endswith(b"\n"):
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except (ssl.SSLError, OSError) as e:
                return f"closed: {e.__class__.__name__}"
            return data.decode() or "closed"


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as d:
        identity, public = stranger_identity(Path(d))
        start = time.monotonic()
        idle = [socket.create_connection((host, port), timeout=5) for _ in range(2)]
        out["idle_closed_after_s"] = [closed_within(s, start, 8) for s in idle]
        for s in idle:
            s.close()
        # A byte every half second: each read is quick, the whole handshake is not.
        start = time.monotonic()
        with socket.create_connection((host, port), timeout=5) as slow:
            slow.settimeout(0.5)
            out["trickle_closed_after_s"] = None
            for _ in range(30):
                try:
                    slow.sendall(b"\x16")
                    if slow.recv(4096) == b"":
                        out["trickle_closed_after_s"] = time.monotonic() - start
                        break
                except (socket.timeout, TimeoutError):
                    continue
                except OSError:
                    out["trickle_closed_after_s"] = time.monotonic() - start
                    break
        try:
            out["no_identity"] = ask(host, port, None, b'{"method": "announce"}\n')
        except (ssl.SSLError, OSError) as e:
            out["no_identity"] = f"refused: {e.__class__.__name__}"
        member = {"site": "evil", "public_key": "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
                  "identity": public,
                  "endpoints": ["192.0.2.66:51820"], "networks": ["10.66.0.0/16"],
                  "enrolment_port": 51821}
        out["stranger_announce"] = ask(host, port, identity, (json.dumps(
            {"method": "announce", "add": member}) + "\n").encode())
        out["stranger_join"] = ask(host, port, identity, (json.dumps(
            {"method": "join", "token_id": "00" * 16, "secret": "11" * 32,
             "member": member}) + "\n").encode())
        out["not_json"] = ask(host, port, identity, b"[[[[[[[[[[[[[[[[[\n")
        out["too_long"] = ask(host, port, identity, b"x" * 70000)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
