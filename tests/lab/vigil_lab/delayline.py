"""A userspace WAN delay line, for kernels without sch_netem.

Frames leaving DEV are redirected (tc clsact egress, u32 match-all, mirred) to a TAP device
that this process reads; each frame is held until its release time and then sent out of DEV
through an AF_PACKET socket with PACKET_QDISC_BYPASS, which skips the tc egress hook, so the
frame is not redirected again. Release time models a link: serialization at --rate-mbit
(if given), a tail drop when the queue holds more than --queue-ms, then propagation delay
--delay-ms with uniform jitter, never reordering.

The lab starts it inside the node:  python3 -m vigil_lab.delayline --dev wan1 --delay-ms 30
"""

from __future__ import annotations

import argparse
import fcntl
import heapq
import os
import random
import select
import socket
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
SOL_PACKET = 263
PACKET_QDISC_BYPASS = 20


def tap_name(dev: str) -> str:
    return ("dly-" + dev)[:15]


def open_tap(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    # The TAP must be up to receive redirected frames, but must never originate traffic of
    # its own (IPv6 ND/MLD, ARP), or we would forward it out of DEV.
    with open(f"/proc/sys/net/ipv6/conf/{name}/disable_ipv6", "w") as f:
        f.write("1")
    subprocess.run(["ip", "link", "set", "dev", name, "arp", "off", "up"], check=True)
    return fd


def main() -> int:
    p = argparse.ArgumentParser(prog="vigil_lab.delayline")
    p.add_argument("--dev", required=True)
    p.add_argument("--delay-ms", type=float, required=True)
    p.add_argument("--jitter-ms", type=float, default=0.0)
    p.add_argument("--rate-mbit", type=float, default=None)
    p.add_argument("--queue-ms", type=float, default=100.0)
    args = p.parse_args()

    tap = open_tap(tap_name(args.dev))
    out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    out.setsockopt(SOL_PACKET, PACKET_QDISC_BYPASS, 1)
    out.bind((args.dev, 0))

    delay = args.delay_ms / 1000.0
    jitter = args.jitter_ms / 1000.0
    bits_per_s = args.rate_mbit * 1e6 if args.rate_mbit else None
    queue_limit = args.queue_ms / 1000.0
    held: list[tuple[float, int, bytes]] = []
    seq = 0
    link_free_at = 0.0  # when the emulated link finishes serializing what it holds
    last_release = 0.0
    dropped = 0
    print(f"delayline: {args.dev} delay={args.delay_ms}ms jitter={args.jitter_ms}ms "
          f"rate={args.rate_mbit or 'unlimited'}mbit", flush=True)

    while True:
        now = time.monotonic()
        timeout = max(0.0, held[0][0] - now) if held else None
        readable, _, _ = select.select([tap], [], [], timeout)
        now = time.monotonic()
        if readable:
            while True:
                try:
                    frame = os.read(tap, 65536)
                except BlockingIOError:
                    break
                departure = now
                if bits_per_s:
                    start = max(link_free_at, now)
                    if start - now > queue_limit:
                        dropped += 1
                        continue
                    link_free_at = start + len(frame) * 8 / bits_per_s
                    departure = link_free_at
                release = departure + delay + (random.uniform(-jitter, jitter) if jitter else 0)
                release = max(release, last_release)  # a wire does not reorder
                last_release = release
                heapq.heappush(held, (release, seq, frame))
                seq += 1
        while held and held[0][0] <= now:
            _, _, frame = heapq.heappop(held)
            try:
                out.send(frame)
            except OSError:
                dropped += 1  # DEV down or its queue full: the wire loses it


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
