"""A TCP client for the L4 load-balancing test, run inside the client namespace and driven
over stdin/stdout, one JSON command and one JSON answer per line:

  {"op": "short", "count": N}  N fresh connections, one line each; answers {"be1": n, ...}
  {"op": "open", "count": K}   K connections kept open; answers the backend of each
  {"op": "again"}              one more line on every open connection; answers the backend
                               of each, or "error: ..." where the connection broke

The backends echo each line prefixed with their name ("be1+hello").
"""

from __future__ import annotations

import json
import socket
import sys

VIP = ("10.100.0.1", 80)


def exchange(sock: socket.socket, line: str) -> str:
    sock.sendall(line.encode() + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(256)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data.decode().split("+", 1)[0]


def main() -> None:
    opened: list[socket.socket] = []
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "short":
            counts: dict[str, int] = {}
            for _ in range(cmd["count"]):
                try:
                    with socket.create_connection(VIP, timeout=2) as s:
                        backend = exchange(s, "hello")
                except OSError as e:
                    backend = f"error: {e}"
                counts[backend] = counts.get(backend, 0) + 1
            answer: object = counts
        elif cmd["op"] == "open":
            backends = []
            for _ in range(cmd["count"]):
                s = socket.create_connection(VIP, timeout=2)
                opened.append(s)
                backends.append(exchange(s, "hello"))
            answer = backends
        elif cmd["op"] == "again":
            backends = []
            for s in opened:
                try:
                    backends.append(exchange(s, "again"))
                except OSError as e:
                    backends.append(f"error: {e}")
            answer = backends
        else:
            answer = {"error": f"unknown op {cmd['op']}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
