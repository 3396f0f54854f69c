"""Ethernet/IPv4/IPv6/UDP/TCP/ICMP frames built byte by byte, and pcap files read and written,
for tests that feed vigil-dp's pcap ports and compare what comes out. Independent of the C++
packet builder on purpose: the expected bytes of a test should not come from the code under
test's own helpers."""

from __future__ import annotations

import ipaddress
import struct
from pathlib import Path


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def mac(text: str) -> bytes:
    return bytes(int(b, 16) for b in text.split(":"))


def ether(dst: str, src: str, ethertype: int, payload: bytes) -> bytes:
    return mac(dst) + mac(src) + struct.pack("!H", ethertype) + payload


def ipv4(src: str, dst: str, proto: int, payload: bytes, ttl: int = 64, tos: int = 0,
         flags_frag: int = 0) -> bytes:
    header = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(payload), 0, flags_frag, ttl, proto,
                         0, ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def ipv6(src: str, dst: str, next_header: int, payload: bytes, hop_limit: int = 64) -> bytes:
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), next_header, hop_limit,
                       ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed) + \
        payload


def _pseudo(src: str, dst: str, proto: int, length: int) -> bytes:
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version == 4:
        return s.packed + d.packed + struct.pack("!BBH", 0, proto, length)
    return s.packed + d.packed + struct.pack("!IxxxB", length, proto)


def udp(src: str, dst: str, sport: int, dport: int, data: bytes) -> bytes:
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    c = checksum(_pseudo(src, dst, 17, len(seg)) + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def tcp(src: str, dst: str, sport: int, dport: int, flags: int = 0x02) -> bytes:
    seg = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 65535, 0, 0)
    c = checksum(_pseudo(src, dst, 6, len(seg)) + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def icmp4(type_: int, code: int, rest: int, body: bytes) -> bytes:
    msg = struct.pack("!BBHI", type_, code, 0, rest) + body
    return msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]


def icmp6(src: str, dst: str, type_: int, code: int, rest: int, body: bytes) -> bytes:
    msg = struct.pack("!BBHI", type_, code, 0, rest) + body
    c = checksum(_pseudo(src, dst, 58, len(msg)) + msg)
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def write_pcap(path: Path, frames: list[bytes]) -> None:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # Ethernet
    for i, f in enumerate(frames):
        out.append(struct.pack("<IIII", 1_700_000_000, i, len(f), len(f)) + f)
    path.write_bytes(b"".join(out))


def read_pcap(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    frames, at = [], 24
    while at + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[at:at + 16])
        frames.append(data[at + 16:at + 16 + caplen])
        at += 16 + caplen
    return frames
