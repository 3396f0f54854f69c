"""A sequence-numbered UDP stream, to measure how long traffic is lost when a path fails.

    python3 -m vigil_lab.udp_stream send HOST PORT --rate 1000 --seconds 10
    python3 -m vigil_lab.udp_stream receive PORT --seconds 12 > result.json

The sender sends datagrams holding a sequence number (from 1) and its send time, paced to
`rate` a second by a deadline (not a sleep per packet, so it keeps the rate on a loaded CPU).
The receiver writes a JSON summary when `seconds` pass: how many arrived, the highest number
seen, and the gaps: runs of numbers that never arrived, each with the time the last datagram
before it and the first after it arrived. The longest gap's time is the outage the receiver
saw, measured on its own clock."""

from __future__ import annotations

import argparse
import json
import socket
import struct
import sys
import time

HEADER = struct.Struct("!Qd")


def send(host: str, port: int, rate: float, seconds: float) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    interval = 1.0 / rate
    start = time.monotonic()
    seq = 0
    padding = b"\0" * 32
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            break
        due = start + seq * interval
        if now < due:
            time.sleep(min(due - now, 0.0005))
            continue
        seq += 1
        try:
            s.sendto(HEADER.pack(seq, time.time()) + padding, (host, port))
        except OSError:
            pass  # no route for a moment: that datagram is lost, as on the wire
    print(json.dumps({"sent": seq}))


def receive(port: int, seconds: float, family: int) -> None:
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
    s.settimeout(0.1)
    end = time.monotonic() + seconds
    received = 0
    highest = 0
    last_seq, last_at = 0, 0.0
    gaps = []
    reordered = 0
    while time.monotonic() < end:
        try:
            data = s.recv(2048)
        except socket.timeout:
            continue
        at = time.monotonic()
        if len(data) < HEADER.size:
            continue
        seq, _sent = HEADER.unpack_from(data)
        received += 1
        if seq <= highest:
            reordered += 1
            continue
        if last_seq and seq > last_seq + 1:
            gaps.append({"after": last_seq, "before": seq, "lost": seq - last_seq - 1,
                         "ms": round((at - last_at) * 1000, 3)})
        highest = max(highest, seq)
        last_seq, last_at = seq, at
    longest = max((g["ms"] for g in gaps), default=0.0)
    print(json.dumps({"received": received, "highest": highest, "reordered": reordered,
                      "gaps": gaps, "longest_gap_ms": longest}))


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="udp_stream")
    sub = p.add_subparsers(dest="mode", required=True)
    ps = sub.add_parser("send")
    ps.add_argument("host")
    ps.add_argument("port", type=int)
    ps.add_argument("--rate", type=float, default=1000)
    ps.add_argument("--seconds", type=float, default=10)
    pr = sub.add_parser("receive")
    pr.add_argument("port", type=int)
    pr.add_argument("--seconds", type=float, default=12)
    pr.add_argument("--ipv6", action="store_true")
    a = p.parse_args(argv)
    if a.mode == "send":
        send(a.host, a.port, a.rate, a.seconds)
    else:
        receive(a.port, a.seconds, socket.AF_INET6 if a.ipv6 else socket.AF_INET)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
