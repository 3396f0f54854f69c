"""A stand-in for vigil-dp or vigil-l7 in commit tests: a real JSON-RPC server on a UNIX
socket that applies the config sections it is given, and can be told to reject `prepare` or
to die in the middle of it. Every call is appended to --log as a JSON line.

    python3 fake_component.py --socket S --sections system,routing --log L [--reject MSG]
                              [--die-on-prepare]
"""

from __future__ import annotations

import argparse
import json
import os
import socketserver


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--socket", required=True)
    p.add_argument("--sections", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--reject", default=None)
    p.add_argument("--die-on-prepare", action="store_true")
    args = p.parse_args()
    sections = [s for s in args.sections.split(",") if s]
    state = {"staged": {}, "applied": {}}

    def record(entry: dict) -> None:
        with open(args.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def handle(method: str, params: dict):
        record({"method": method, "params": params})
        if method == "config.sections":
            return sections
        if method == "status":
            return {"name": "fake", "applied": state["applied"]}
        if method == "prepare":
            if args.die_on_prepare:
                os._exit(3)  # killed mid-commit: no answer ever comes
            if args.reject:
                raise ValueError(args.reject)
            state["staged"][params["txid"]] = params["delta"]
            return {}
        if method == "activate":
            state["applied"].update(state["staged"].pop(params["txid"]))
            record({"applied": state["applied"]})
            return {}
        if method == "abort":
            state["staged"].pop(params.get("txid"), None)
            return {}
        raise KeyError(method)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            for line in self.rfile:
                req = json.loads(line)
                try:
                    resp = {"jsonrpc": "2.0", "id": req.get("id"),
                            "result": handle(req["method"], req.get("params") or {})}
                except KeyError as e:
                    resp = {"jsonrpc": "2.0", "id": req.get("id"),
                            "error": {"code": -32601, "message": f"method not found: {e}"}}
                except ValueError as e:
                    resp = {"jsonrpc": "2.0", "id": req.get("id"),
                            "error": {"code": -32602, "message": str(e)}}
                self.wfile.write(json.dumps(resp).encode() + b"\n")
                self.wfile.flush()

    if os.path.exists(args.socket):
        os.unlink(args.socket)
    with socketserver.ThreadingUnixStreamServer(args.socket, Handler) as server:
        print("ready", flush=True)
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
