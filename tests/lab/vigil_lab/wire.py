"""Frames on the wire of a lab node: sent raw from one interface, captured on another with
tcpdump, read back as bytes. For tests that must control every byte a router receives
(crafted, malformed, tagged, fragmented) and see every byte it sends on."""

from __future__ import annotations

import signal
import struct
import textwrap
from pathlib import Path

from .frames import read_pcap
from .lab import Lab, LabProcess

# Sends the frames of a file (each a 4-byte big-endian length and the bytes) out of one
# interface through an AF_PACKET socket, pausing between groups (a zero length marks a group's
# end). Runs inside the node, with the system's Python: only the standard library.
_SENDER = textwrap.dedent("""
    import socket, struct, sys, time
    path, ifname, gap = sys.argv[1], sys.argv[2], float(sys.argv[3])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    data = open(path, "rb").read()
    at = sent = 0
    while at < len(data):
        (n,) = struct.unpack_from("!I", data, at)
        at += 4
        if n == 0:
            time.sleep(gap)
            continue
        s.send(data[at:at + n])
        at += n
        sent += 1
    print(sent)
""")


def write_frames(path: Path, groups: list[list[bytes]]) -> int:
    """Writes `groups` of frames for send_frames(); returns how many frames."""
    out, count = [], 0
    for group in groups:
        for frame in group:
            out.append(struct.pack("!I", len(frame)) + frame)
            count += 1
        out.append(struct.pack("!I", 0))
    path.write_bytes(b"".join(out))
    return count


def send_frames(lab: Lab, node: str, ifname: str, path: Path, gap_s: float = 0.0,
                timeout: float = 120.0) -> int:
    """Sends the frames written by write_frames() out of `node`:`ifname`, `gap_s` between
    groups; returns how many were sent."""
    res = lab.run(node, ["/usr/bin/python3", "-c", _SENDER, str(path), ifname, str(gap_s)],
                  timeout=timeout)
    return int(res.stdout.strip())


class Capture:
    """tcpdump on one interface, frames coming in only (what the node receives), whole frames.
    Use as a context manager; frames() after it ended."""

    def __init__(self, lab: Lab, node: str, ifname: str, name: str):
        self.lab, self.node, self.ifname = lab, node, ifname
        self.path = lab.log_dir / f"{name}.pcap"
        self.proc: LabProcess | None = None

    def __enter__(self) -> "Capture":
        self.path.unlink(missing_ok=True)
        self.proc = self.lab.spawn(self.node, ["tcpdump", "-i", self.ifname, "-Q", "in", "-n",
                                               "-s", "0", "-U", "-w", str(self.path)],
                                   name=f"tcpdump-{self.path.stem}")
        self.lab.wait_for(lambda: "listening on" in self.proc.log() or not self.proc.alive(),
                          timeout=10, what=f"tcpdump on {self.node}:{self.ifname}")
        if not self.proc.alive():
            raise RuntimeError(f"tcpdump on {self.node}:{self.ifname}: {self.proc.log()}")
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.stop(sig=signal.SIGINT)

    def frames(self) -> list[bytes]:
        return read_pcap(self.path) if self.path.exists() else []
