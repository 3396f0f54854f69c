"""What a hostile local user runs against a Vigil control socket, as that user (the tests start
it with runuser). Self-contained: it must run with nothing but python3.

    hostile_client.py SOCKET call METHOD [PARAMS_JSON]   one request, prints the answer
    hostile_client.py SOCKET deep LEVELS                 params nested LEVELS deep
    hostile_client.py SOCKET sessions COUNT BYTES        candidate.show with unique sessions
    hostile_client.py SOCKET hold-idle COUNT             COUNT idle connections
    hostile_client.py SOCKET hold-unfinished COUNT BYTES COUNT unfinished request lines

The hold-* attacks print {"open": N, "refused": M} once set up and keep their connections
until stdin closes. Everything else prints one JSON line and exits.
"""

from __future__ import annotations

import json
import socket
import sys


def connect(path: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def answer(s: socket.socket) -> dict:
    buf = b""
    while b"\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return {"closed": True}
        buf += chunk
    return json.loads(buf.split(b"\n", 1)[0])


def request(method: str, params) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()


def call(path: str, method: str, params) -> dict:
    with connect(path) as s:
        s.sendall(request(method, params) + b"\n")
        return answer(s)


def hold(conns: list[socket.socket], refused: int) -> None:
    print(json.dumps({"open": len(conns), "refused": refused}), flush=True)
    sys.stdin.read()
    for s in conns:
        s.close()


def main() -> int:
    path, attack, *args = sys.argv[1:]
    try:
        if attack == "call":
            out = call(path, args[0], json.loads(args[1]) if len(args) > 1 else {})
        elif attack == "deep":
            levels = int(args[0])
            line = (b'{"jsonrpc":"2.0","id":1,"method":"status","params":' + b"[" * levels +
                    b"]" * levels + b"}\n")
            with connect(path) as s:
                s.sendall(line)
                out = answer(s)
        elif attack == "sessions":
            codes: dict[str, int] = {}
            for i in range(int(args[0])):
                session = f"{i:08d}" + "x" * (int(args[1]) - 8)
                r = call(path, "candidate.show", {"session": session})
                key = str(r.get("error", {}).get("code", "ok"))
                codes[key] = codes.get(key, 0) + 1
            out = codes
        elif attack == "hold-idle":
            # Each connection asks once and waits for the answer or the refusal, so the count
            # does not depend on how soon the server accepts; then it stays, idle.
            conns, refused_count = [], 0
            for _ in range(int(args[0])):
                s = connect(path)
                try:
                    s.sendall(request("version", {}) + b"\n")
                    reply = answer(s)
                except OSError:  # refused and closed before our request got there
                    reply = {"closed": True}
                if reply.get("error", {}).get("code") == -32002 or reply.get("closed"):
                    refused_count += 1  # too many connections
                    s.close()
                else:
                    conns.append(s)  # answered, even if only "permission denied"
            hold(conns, refused_count)
            return 0
        elif attack == "hold-unfinished":
            conns, dropped = [], 0
            chunk = b"[" + b" " * (1 << 20)
            for _ in range(int(args[0])):
                s = connect(path)
                try:
                    for _ in range(int(args[1]) >> 20):
                        s.sendall(chunk)
                    conns.append(s)
                except OSError:  # the server closed it: a limit hit
                    dropped += 1
                    s.close()
            hold(conns, dropped)
            return 0
        else:
            print(f"unknown attack {attack}", file=sys.stderr)
            return 64
    except PermissionError as e:
        out = {"permission_error": str(e)}
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
