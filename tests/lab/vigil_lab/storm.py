"""A storm of fuzzed frames for a router under test: scapy's fuzz() on every layer (Ethernet,
VLAN tags, ARP, IPv4 with options, IPv6 with extension headers and fragments, TCP, UDP, ICMP,
ICMPv6), and as many again made by flipping, cutting and stretching those bytes, the way a
mutation fuzzer does; and the rules that say which frames a router must never have sent on.

Generating a scapy frame costs about 0.3 ms, so half the storm is scapy's and half is mutated
from it, cheaply: the mutations reach the parsers' edges (lengths, offsets, truncation) that
field-level fuzzing rarely hits."""

from __future__ import annotations

import ipaddress
import random
import struct

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                                IPv6ExtHdrHopByHop, IPv6ExtHdrRouting)
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import fuzz


def templates(edge_mac: str, host_mac: str, far4: str, far6: str) -> list:
    """Packets with fuzzed layers; each bytes() of one is a new random frame."""
    eth = Ether(dst=edge_mac, src=host_mac)
    return [
        eth / fuzz(IP(dst=far4)) / fuzz(TCP()),
        eth / fuzz(IP(dst=far4)) / fuzz(UDP()),
        eth / fuzz(IP(dst=far4)) / fuzz(ICMP()),
        eth / fuzz(IP(dst=far4, options=[])) / fuzz(UDP()),
        eth / IP(dst=far4, ihl=15, options=b"\x44\x28\x05\x00" + bytes(36)) / fuzz(UDP()),
        eth / fuzz(IP()) / fuzz(TCP()),  # addresses too: martians, broadcast, the box
        eth / fuzz(IPv6(dst=far6)) / fuzz(TCP()),
        eth / IPv6(dst=far6) / fuzz(IPv6ExtHdrHopByHop()) / fuzz(UDP()),
        eth / IPv6(dst=far6) / fuzz(IPv6ExtHdrDestOpt()) / fuzz(IPv6ExtHdrRouting()) /
        fuzz(UDP()),
        eth / IPv6(dst=far6) / fuzz(IPv6ExtHdrFragment()) / fuzz(ICMPv6EchoRequest()),
        eth / fuzz(IPv6()) / fuzz(UDP()),
        eth / fuzz(Dot1Q()) / IP(dst=far4) / fuzz(UDP()),
        eth / fuzz(ARP()),
        fuzz(Ether(src=host_mac)) / IP(dst=far4) / UDP(dport=9),
    ]


def mutate(frame: bytes, rng: random.Random) -> bytes:
    """One cheap mutation: flip bytes, cut the frame, or stretch it with garbage."""
    b = bytearray(frame)
    kind = rng.randrange(4)
    if kind == 0:
        for _ in range(rng.randrange(1, 5)):
            b[rng.randrange(14, len(b)) if len(b) > 14 else 0] ^= 1 << rng.randrange(8)
    elif kind == 1:
        del b[rng.randrange(14, max(15, len(b))):]
    elif kind == 2:
        b += rng.randbytes(rng.randrange(1, 64))
    else:  # a length or offset field of IPv4/IPv6 set to something else
        at = 16 if b[12:14] == b"\x08\x00" else 18
        if len(b) > at + 2:
            struct.pack_into("!H", b, at, rng.randrange(65536))
    return bytes(b[:1514])


def frames(count: int, edge_mac: str, host_mac: str, far4: str, far6: str,
           seed: int = 22) -> list[bytes]:
    """`count` frames: half scapy's fuzz(), half mutated from those."""
    rng = random.Random(seed)
    ts = templates(edge_mac, host_mac, far4, far6)
    fuzzed = [bytes(ts[i % len(ts)])[:1514] for i in range(count // 2)]
    return fuzzed + [mutate(rng.choice(fuzzed), rng) for _ in range(count - len(fuzzed))]


def forbidden(frame: bytes) -> str | None:
    """Why a router must not have sent `frame` on (as received on the far side), or None."""
    if len(frame) < 14:
        return "a runt"
    ethertype = frame[12:14]
    if ethertype in (b"\x81\x00", b"\x88\xa8"):
        return "a VLAN tag"
    if ethertype == b"\x08\x00":
        ip = frame[14:]
        if len(ip) < 20 or ip[0] >> 4 != 4:
            return "a malformed IPv4 header"
        header = (ip[0] & 0x0F) * 4
        total = int.from_bytes(ip[2:4], "big")
        if header < 20 or total < header or len(ip) != total:
            return f"IPv4 lengths: header {header}, total {total}, on the wire {len(ip)}"
        if _sum(ip[:header]) != 0xFFFF:
            return "a bad IPv4 header checksum"
        if _martian(ipaddress.IPv4Address(ip[12:16]), ipaddress.IPv4Address(ip[16:20])):
            return f"martian addresses {ipaddress.IPv4Address(ip[12:16])} -> " \
                   f"{ipaddress.IPv4Address(ip[16:20])}"
        if ip[8] == 0:
            return "TTL 0"
        for opt in _options(ip[20:header]):
            if opt in (0x83, 0x89):
                return "a source route"
    elif ethertype == b"\x86\xdd":
        ip = frame[14:]
        if len(ip) < 40 or ip[0] >> 4 != 6:
            return "a malformed IPv6 header"
        if ip[8:10] == b"\xfe\x80" and ip[6] == 58:
            return None  # the edge's own neighbour discovery, not forwarded
        if len(ip) != 40 + int.from_bytes(ip[4:6], "big"):
            return "IPv6 payload length and the wire disagree"
        if _martian(ipaddress.IPv6Address(ip[8:24]), ipaddress.IPv6Address(ip[24:40])):
            return f"martian addresses {ipaddress.IPv6Address(ip[8:24])} -> " \
                   f"{ipaddress.IPv6Address(ip[24:40])}"
        if ip[7] == 0:
            return "hop limit 0"
    return None


def _sum(data: bytes) -> int:
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data) - 1, 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _options(data: bytes):
    at = 0
    while at < len(data):
        kind = data[at]
        if kind == 0:
            return
        if kind == 1:
            at += 1
            continue
        yield kind
        if at + 1 >= len(data) or data[at + 1] < 2:
            return
        at += data[at + 1]


def _martian(src, dst) -> bool:
    """The ranges a router refuses by default (vigil/martian.h), and group sources."""
    if src.version == 4:
        bad = [ipaddress.ip_network(n) for n in
               ("0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4")]
        return any(src in n for n in bad) or any(dst in n for n in bad)
    bad6 = [ipaddress.ip_network(n) for n in ("::/128", "::1/128", "fe80::/10", "::ffff:0:0/96")]
    return src.is_multicast or dst.is_multicast or any(src in n for n in bad6) or \
        any(dst in n for n in bad6)
