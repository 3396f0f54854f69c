"""A minimal JSON-RPC 2.0 client for Vigil's control sockets (one JSON object a line)."""

from __future__ import annotations

import itertools
import json
import socket
import time

_ids = itertools.count(1)


class RpcError(Exception):
    def __init__(self, code: int, message: str, data=None):
        super().__init__(f"{message} (code {code})")
        self.code = code
        self.message = message
        self.data = data


def call(path: str, method: str, params=None, timeout: float = 5.0):
    """Calls `method` on the socket at `path`; returns the result or raises RpcError."""
    req = {"jsonrpc": "2.0", "id": next(_ids), "method": method}
    if params is not None:
        req["params"] = params
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(json.dumps(req).encode() + b"\n")
        buf = b""
        while b"\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError(f"{path} closed the connection before answering")
            buf += chunk
    resp = json.loads(buf.split(b"\n", 1)[0])
    if "error" in resp:
        e = resp["error"]
        raise RpcError(e.get("code"), e.get("message"), e.get("data"))
    return resp["result"]


def wait_for_socket(path: str, timeout: float = 5.0, proc=None) -> None:
    """Waits until `status` answers on `path`; fails early if `proc` (a Popen) exits."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before serving {path}")
        try:
            call(path, "status", timeout=1.0)
            return
        except (OSError, RpcError) as e:
            last = e
        time.sleep(0.02)
    raise TimeoutError(f"{path} did not answer within {timeout}s: {last}")
