"""Router conformance: a table of crafted frames (fragments, foreign MACs, VLAN tags, martian
addresses, IPv4 options and checksums, TTLs, IPv6 extension-header chains, trailing bytes)
sent through two copies of the `routed` topology, one edge running Vigil and one a plain
Linux router, and what each edge did with every frame compared: the frames that reached the
far host, byte for byte, and the ICMP errors that came back to the sender.

Every frame of case k carries k in a field routers keep: the IPv4 identification or the IPv6
flow label (TAG_BASE + k). Each case sends from an address of its own where the case allows
(10.20.1.100 + k, fd00:20:1::1:k), so the per-source ICMP rate limits of either router never
decide an outcome; the host holds all those addresses so the routers' errors can reach it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment
from scapy.layers.inet6 import (ICMPv6DestUnreach, ICMPv6EchoRequest, ICMPv6PacketTooBig,
                                ICMPv6ParamProblem, ICMPv6TimeExceeded, IPv6,
                                IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                                IPv6ExtHdrRouting, fragment6)
from scapy.layers.l2 import Dot1AD, Dot1Q, Ether
from scapy.packet import Raw

# Both sides of the pair get the same MACs, so a case's frames are the same bytes on both.
HOST_MAC = "02:00:00:00:01:10"
EDGE_LAN_MAC = "02:00:00:00:01:01"
EDGE_WAN_MAC = "02:00:00:00:02:02"
FAR_MAC = "02:00:00:00:02:01"
MACS = {("host", "eth0"): HOST_MAC, ("edge", "lan0"): EDGE_LAN_MAC,
        ("edge", "wan1"): EDGE_WAN_MAC, ("far", "eth0"): FAR_MAC}

FAR4, FAR6 = "198.18.20.1", "2001:db8:20::1"
BEYOND4, BEYOND6 = "203.0.113.1", "2001:db8:99::1"  # on far's loopback, behind its address
EDGE_LAN4, EDGE_LAN6 = "10.20.1.1", "fd00:20:1::1"
EDGE_WAN4, EDGE_WAN6 = "198.18.20.2", "2001:db8:20::2"
TAG_BASE = 0xA000  # IPv4 identification / IPv6 flow label of case 0


@dataclass
class Case:
    name: str
    frames: list[bytes]
    tag: int
    family: int
    # (offset, length) of bytes in a forwarded frame that are the router's own to write
    # differently (a timestamp) and are zeroed before comparing, the IPv4 checksum with them.
    mask: tuple[tuple[int, int], ...] = ()


@dataclass
class Outcome:
    """What one edge did with a case: the frames the far host received (bytes) and the ICMP
    errors that came back to the sender ((source, type, code, pointer or MTU))."""
    forwarded: list[bytes] = field(default_factory=list)
    errors: list[tuple] = field(default_factory=list)

    def summary(self) -> str:
        lens = [len(f) for f in self.forwarded]
        return f"forwarded {len(self.forwarded)} {lens}, errors {sorted(self.errors)}"


def source4(k: int) -> str:
    return f"10.20.1.{100 + k}"


def source6(k: int) -> str:
    return f"fd00:20:1::1:{k:x}"


class CaseBook:
    """Builds the case table; each add() numbers the case and tags its frames."""

    def __init__(self):
        self.cases: list[Case] = []

    def _next(self) -> int:
        if len(self.cases) >= 150:
            raise ValueError("150 cases at most: each has a source address of its own")
        return len(self.cases)

    def v4(self, name: str, src: str | None = None, dst: str = FAR4, ttl: int = 64,
           l4=None, options=None, mac: str = EDGE_LAN_MAC, l2=None, tail: bytes = b"",
           edit=None, frags: int = 0, flags: int = 0, payload: int = 32, tos: int = 0,
           mask: tuple[tuple[int, int], ...] = ()) -> None:
        k = self._next()
        tag = TAG_BASE + k
        ip = IP(src=src or source4(k), dst=dst, ttl=ttl, id=tag, flags=flags, tos=tos)
        body = l4 if l4 is not None else UDP(sport=40000 + k, dport=9) / Raw(b"v" * payload)
        pkt = ip / body
        packets = fragment(pkt, fragsize=frags) if frags else [pkt]
        frames = []
        for p in packets:
            raw = bytes(p)
            if options is not None:
                raw = _with_options(raw, options)
            if edit is not None:
                raw = edit(bytearray(raw))
            frames.append(bytes(l2 or Ether(dst=mac, src=HOST_MAC, type=0x0800)) + bytes(raw)
                          + tail)
        self.cases.append(Case(name, frames, tag, 4, mask))

    def v6(self, name: str, src: str | None = None, dst: str = FAR6, hlim: int = 64,
           ext=None, l4=None, mac: str = EDGE_LAN_MAC, tail: bytes = b"", frags: int = 0,
           payload: int = 32, edit=None) -> None:
        k = self._next()
        tag = TAG_BASE + k
        ip = IPv6(src=src or source6(k), dst=dst, hlim=hlim, fl=tag)
        body = l4 if l4 is not None else UDP(sport=40000 + k, dport=9) / Raw(b"v" * payload)
        pkt = ip / ext / body if ext is not None else ip / body
        packets = fragment6(pkt, frags) if frags else [pkt]
        frames = []
        for p in packets:
            raw = bytes(p)
            if edit is not None:
                raw = bytes(edit(bytearray(raw)))
            frames.append(bytes(Ether(dst=mac, src=HOST_MAC, type=0x86DD)) + raw + tail)
        self.cases.append(Case(name, frames, tag, 6))


def _with_options(raw: bytes, options: bytes) -> bytes:
    """An IPv4 packet with `options` (padded to 4 bytes) after its 20-byte header, whatever
    they say: IHL, total length and checksum follow."""
    options += b"\0" * (-len(options) % 4)
    header = bytearray(raw[:20])
    header[0] = 0x40 | (20 + len(options)) // 4
    header[2:4] = (len(raw) + len(options)).to_bytes(2, "big")
    header[10:12] = b"\0\0"
    header += options
    header[10:12] = _checksum(bytes(header)).to_bytes(2, "big")
    return bytes(header) + raw[20:]


def _bad_ipv4_checksum(raw: bytearray) -> bytes:
    raw[10] ^= 0x5A
    return bytes(raw)


def _ipv4_version(version: int):
    def edit(raw: bytearray) -> bytes:
        raw[0] = (version << 4) | (raw[0] & 0x0F)
        return bytes(raw)
    return edit


def _ipv4_total_length(delta: int):
    def edit(raw: bytearray) -> bytes:
        total = int.from_bytes(raw[2:4], "big") + delta
        raw[2:4] = total.to_bytes(2, "big")
        raw[10:12] = b"\0\0"
        raw[10:12] = _checksum(bytes(raw[:(raw[0] & 0x0F) * 4])).to_bytes(2, "big")
        return bytes(raw)
    return edit


def _ipv6_payload_length(delta: int):
    def edit(raw: bytearray) -> bytes:
        raw[4:6] = (int.from_bytes(raw[4:6], "big") + delta).to_bytes(2, "big")
        return bytes(raw)
    return edit


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def cases() -> list[Case]:
    """The table. Names say what is odd about the case; the expected outcome is Linux's."""
    b = CaseBook()
    echo4 = ICMP(type=8, id=7, seq=1) / Raw(b"p" * 32)
    # ---- IPv4: what must simply work ----
    b.v4("v4 udp")
    b.v4("v4 tcp syn", l4=TCP(sport=40001, dport=80, flags="S"))
    b.v4("v4 icmp echo", l4=echo4)
    b.v4("v4 beyond the far host", dst=BEYOND4)
    b.v4("v4 ttl 2", ttl=2)
    b.v4("v4 dscp ef", tos=0xB8)
    # ---- fragments (ping -s 3000 and the like) ----
    b.v4("v4 fragments, all", l4=ICMP(type=8, id=9, seq=1) / Raw(b"f" * 3000), frags=1480)
    b.v4("v4 fragments, later only", l4=ICMP(type=8, id=9, seq=2) / Raw(b"f" * 3000),
         frags=1480)
    b.cases[-1].frames = b.cases[-1].frames[1:]
    b.v4("v4 fragments, first only", l4=UDP(sport=5, dport=9) / Raw(b"f" * 2000), frags=1480)
    b.cases[-1].frames = b.cases[-1].frames[:1]
    b.v4("v4 fragments to the box", dst=EDGE_LAN4, l4=ICMP(type=8, id=9, seq=3) /
         Raw(b"f" * 3000), frags=1480)
    # ---- L2 ----
    b.v4("v4 broadcast mac", mac="ff:ff:ff:ff:ff:ff")
    b.v4("v4 multicast mac", mac="01:00:5e:01:02:03")
    b.v4("v4 another host's mac", mac="02:00:00:00:09:99")
    b.v4("v4 vlan 100 (not configured)", l2=Ether(dst=EDGE_LAN_MAC, src=HOST_MAC) /
         Dot1Q(vlan=100, type=0x0800))
    b.v4("v4 qinq 100/200", l2=Ether(dst=EDGE_LAN_MAC, src=HOST_MAC) /
         Dot1AD(vlan=100) / Dot1Q(vlan=200, type=0x0800))
    b.v4("v4 vlan 0 (priority tag)", l2=Ether(dst=EDGE_LAN_MAC, src=HOST_MAC) /
         Dot1Q(vlan=0, prio=5, type=0x0800))
    # ---- TTL ----
    b.v4("v4 ttl 1", ttl=1)
    b.v4("v4 ttl 0", ttl=0)
    b.v4("v4 ttl 1 icmp error quoted", ttl=1,
         l4=ICMP(type=3, code=3) / bytes(IP(src=FAR4, dst="10.20.1.7") / UDP(sport=1, dport=2)))
    # ---- martian sources ----
    for src in ("127.0.0.1", "0.0.0.7", "224.0.0.5", "255.255.255.255", "240.0.0.9",
                EDGE_LAN4, EDGE_WAN4, "169.254.3.4"):
        b.v4(f"v4 source {src}", src=src)
    # ---- martian and odd destinations ----
    for dst in ("127.0.0.1", "0.0.0.7", "240.0.0.9", "255.255.255.255", "224.1.2.3",
                "239.255.255.250", "10.20.1.255", "198.18.20.3", "169.254.3.4"):
        b.v4(f"v4 destination {dst}", dst=dst)
    b.v4("v4 destination unroutable", dst="192.0.2.77")  # the default route covers it
    # ---- IPv4 header ----
    b.v4("v4 bad header checksum", edit=_bad_ipv4_checksum)
    b.v4("v4 version 5", edit=_ipv4_version(5))
    b.v4("v4 trailing bytes", tail=b"T" * 40)
    b.v4("v4 total length beyond the frame", edit=_ipv4_total_length(+8))
    b.v4("v4 nop options", options=b"\x01\x01\x01\x00")
    b.v4("v4 router alert", options=b"\x94\x04\x00\x00")
    b.v4("v4 record route", options=b"\x07\x0b\x04" + b"\0" * 8 + b"\x00")
    stamp = ((24, 2), (38, 4))  # the checksum and the first timestamp of a 20-byte header
    b.v4("v4 timestamp", options=b"\x44\x0c\x05\x00" + b"\0" * 8, mask=stamp)
    b.v4("v4 timestamp with addresses", options=b"\x44\x0c\x05\x01" + b"\0" * 8,
         mask=((24, 2), (42, 4)))
    b.v4("v4 timestamp full", options=b"\x44\x08\x09\x00" + b"\0" * 4)
    b.v4("v4 record route full", options=b"\x07\x07\x08" + bytes([1, 2, 3, 4]) + b"\0")
    b.v4("v4 loose source route", options=b"\x83\x07\x04" + bytes([203, 0, 113, 1]) + b"\0")
    b.v4("v4 strict source route", options=b"\x89\x07\x04" + bytes([203, 0, 113, 1]) + b"\0")
    b.v4("v4 option longer than the header", options=b"\x07\x27\x04" + b"\0" * 5)
    b.v4("v4 option length 1", options=b"\x07\x01\x00\x00")
    b.v4("v4 ihl 15 of garbage", options=bytes([0x99, 3, 0xAB]) * 13 + b"\x00")
    b.v4("v4 unknown option", options=b"\x9e\x04\x00\x00")

    echo6 = ICMPv6EchoRequest(id=7, seq=1, data=b"p" * 32)
    # ---- IPv6: what must simply work ----
    b.v6("v6 udp")
    b.v6("v6 tcp syn", l4=TCP(sport=40001, dport=80, flags="S"))
    b.v6("v6 icmp echo", l4=echo6)
    b.v6("v6 beyond the far host", dst=BEYOND6)
    b.v6("v6 hop limit 2", hlim=2)
    b.v6("v6 hop limit 1", hlim=1)
    b.v6("v6 hop limit 0", hlim=0)
    # ---- fragments ----
    b.v6("v6 fragments, all", ext=IPv6ExtHdrFragment(),
         l4=ICMPv6EchoRequest(id=9, seq=1, data=b"f" * 3000), frags=1280)
    b.v6("v6 fragments, later only", ext=IPv6ExtHdrFragment(),
         l4=ICMPv6EchoRequest(id=9, seq=2, data=b"f" * 3000), frags=1280)
    b.cases[-1].frames = b.cases[-1].frames[1:]
    b.v6("v6 atomic fragment", ext=IPv6ExtHdrFragment(id=77))
    # ---- L2 ----
    b.v6("v6 multicast mac", mac="33:33:00:00:00:01")
    b.v6("v6 another host's mac", mac="02:00:00:00:09:99")
    # ---- martian sources ----
    for src in ("fe80::1", "ff02::1", "::1", "::", "::ffff:10.20.1.10", EDGE_LAN6, EDGE_WAN6):
        b.v6(f"v6 source {src}", src=src)
    # ---- martian and odd destinations ----
    for dst in ("::1", "::", "fe80::1", "ff0e::1", "ff02::1", "::ffff:198.18.20.1",
                "64:ff9b::c612:1401"):
        b.v6(f"v6 destination {dst}", dst=dst)
    # ---- extension headers ----
    b.v6("v6 hop-by-hop", ext=IPv6ExtHdrHopByHop())
    b.v6("v6 destination options", ext=IPv6ExtHdrDestOpt())
    b.v6("v6 five extension headers", ext=IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
         IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt())
    b.v6("v6 twelve extension headers", ext=_chain(12))
    b.v6("v6 routing header type 0", ext=IPv6ExtHdrRouting(type=0, addresses=[BEYOND6],
                                                           segleft=1))
    b.v6("v6 hop-by-hop not first", ext=IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop())
    # ---- IPv6 header ----
    b.v6("v6 trailing bytes", tail=b"T" * 40)
    b.v6("v6 payload length beyond the frame", edit=_ipv6_payload_length(+8))
    return b.cases


# The edge's MTU toward far in mtu_cases(): smaller than the host's 1,500, so datagrams the
# host sends whole must be fragmented, or refused, on the way.
EGRESS_MTU = 1400


def mtu_cases() -> list[Case]:
    """Datagrams over the edge's egress MTU (EGRESS_MTU toward far; everything else 1,500):
    IPv4 without DF is fragmented where it leaves (RFC 1812 4.2.2.7), with DF or IPv6 it is
    refused with the MTU (RFC 1191, RFC 8201)."""
    b = CaseBook()
    b.v4("v4 1500 bytes without DF: fragmented", payload=1472)
    b.v4("v4 1400 bytes without DF: fits", payload=1372)
    b.v4("v4 1500 bytes tcp without DF: fragmented",
         l4=TCP(sport=40100, dport=80, flags="A") / Raw(b"t" * 1460))
    b.v4("v4 1500 bytes with DF: fragmentation needed", payload=1472, flags=2)
    b.v4("v4 fragments of 1480 bytes: fragmented again",
         l4=ICMP(type=8, id=9, seq=4) / Raw(b"f" * 3000), frags=1480)
    b.v4("v4 1500 bytes with options without DF: fragmented", payload=1460,
         options=b"\x94\x04\x00\x00" + b"\x07\x07\x04" + b"\0" * 5)
    b.v6("v6 1500 bytes: packet too big", payload=1452)
    return b.cases


def _chain(n: int):
    ext = IPv6ExtHdrDestOpt()
    for _ in range(n - 1):
        ext = ext / IPv6ExtHdrDestOpt()
    return ext


# ---- reading what came out -----------------------------------------------------------------

_ICMP4_ERRORS = {3, 4, 5, 11, 12}


def _tag_of(pkt) -> int | None:
    if IP in pkt:
        return pkt[IP].id
    if IPv6 in pkt:
        return pkt[IPv6].fl
    return None


def classify(cases_: list[Case], far: list[bytes], back: list[bytes]) -> dict[str, Outcome]:
    """Outcomes by case name from the frames the far host and the sender received."""
    by_tag = {c.tag: c for c in cases_}
    out = {c.name: Outcome() for c in cases_}
    for frame in far:
        pkt = Ether(frame)
        if IP in pkt or IPv6 in pkt:
            case = by_tag.get(_tag_of(pkt))
            if case is not None:
                out[case.name].forwarded.append(_masked(frame, case.mask))
    for frame in back:
        pkt = Ether(frame)
        error = _icmp_error(pkt)
        if error is None:
            continue
        quoted, summary = error
        case = by_tag.get(quoted)
        if case is not None:
            out[case.name].errors.append(summary)
    return out


def _masked(frame: bytes, mask: tuple[tuple[int, int], ...]) -> bytes:
    out = bytearray(frame)
    for at, length in mask:
        out[at:at + length] = bytes(length)
    return bytes(out)


def _icmp_error(pkt):
    """(quoted tag, (source, type, code, detail)) for an ICMP error, else None."""
    if IP in pkt and ICMP in pkt and pkt[ICMP].type in _ICMP4_ERRORS:
        icmp = pkt[ICMP]
        inner = icmp.payload
        raw = bytes(inner)
        if len(raw) < 20:
            return None
        tag = int.from_bytes(raw[4:6], "big")
        detail = icmp.ptr if icmp.type == 12 else (icmp.nexthopmtu if icmp.type == 3 and
                                                     icmp.code == 4 else 0)
        return tag, (pkt[IP].src, icmp.type, icmp.code, detail)
    if IPv6 in pkt:
        for cls, detail in ((ICMPv6DestUnreach, None), (ICMPv6PacketTooBig, "mtu"),
                            (ICMPv6TimeExceeded, None), (ICMPv6ParamProblem, "ptr")):
            if cls in pkt:
                icmp = pkt[cls]
                raw = bytes(icmp.payload)
                if len(raw) < 40:
                    return None
                tag = int.from_bytes(raw[1:4], "big") & 0xFFFFF
                value = getattr(icmp, detail) if detail else 0
                return tag, (pkt[IPv6].src, icmp.type, icmp.code, value)
    return None


def differences(a: dict[str, Outcome], b: dict[str, Outcome]) -> dict[str, str]:
    """Cases whose outcomes differ, with both outcomes in words."""
    out = {}
    for name in a:
        x, y = a[name], b[name]
        if sorted(x.forwarded) != sorted(y.forwarded) or sorted(x.errors) != sorted(y.errors):
            detail = ""
            if len(x.forwarded) == len(y.forwarded) and x.forwarded != y.forwarded:
                detail = " (same count, different bytes: " + _first_difference(
                    sorted(x.forwarded), sorted(y.forwarded)) + ")"
            out[name] = f"vigil: {x.summary()}; linux: {y.summary()}{detail}"
    return out


def _first_difference(xs: list[bytes], ys: list[bytes]) -> str:
    for x, y in zip(xs, ys):
        if x != y:
            for i, (p, q) in enumerate(zip(x, y)):
                if p != q:
                    return f"byte {i}: {p:#04x} vs {q:#04x}"
            return f"lengths {len(x)} vs {len(y)}"
    return "?"


def host_addresses(cases_: list[Case]) -> list[str]:
    """The per-case source addresses the sender must hold (with prefix length)."""
    out = []
    for k, c in enumerate(cases_):
        out.append(f"{source4(k)}/24" if c.family == 4 else f"{source6(k)}/64")
    return out


def is_unicast_source(addr: str) -> bool:
    return not ipaddress.ip_address(addr).is_multicast


# ---- running the table through both edges ------------------------------------------------

SIDES = {"vigil": "", "linux": "lx-"}

# The far host answers every case it receives without a rate limit of its own (its port
# unreachables are part of each outcome and must not depend on the order cases arrive in).
_FAR_SYSCTLS = {"net.ipv4.icmp_ratelimit": "0", "net.ipv4.icmp_msgs_per_sec": "1000000",
                "net.ipv4.icmp_msgs_burst": "1000000", "net.ipv6.icmp.ratelimit": "0"}


def prepare_side(lab, prefix: str, cases_: list[Case]) -> None:
    """Pins the MACs of one side and gives its host every case's source address; the Linux
    edge gets the default routes Vigil's config gives its edge (ROUTED_EDGE_CONFIG)."""
    if prefix:
        lab.run(prefix + "edge", ["ip", "route", "replace", "default", "via", FAR4])
        lab.run(prefix + "edge", ["ip", "-6", "route", "replace", "default", "via", FAR6])
    for (node, ifname), address in MACS.items():
        lab.run(prefix + node, ["ip", "link", "set", "dev", ifname, "address", address])
    add_host_addresses(lab, prefix, cases_)
    lab.sysctl(prefix + "far", _FAR_SYSCTLS)


def add_host_addresses(lab, prefix: str, cases_: list[Case]) -> None:
    """Gives one side's host the source addresses of `cases_` (those it has already stay)."""
    batch = "".join(f"addr replace {a} dev eth0{' nodad' if ':' in a else ''}\n"
                    for a in host_addresses(cases_))
    lab.run(prefix + "host", ["ip", "-batch", "-"], input=batch)


def warm_up(lab) -> None:
    """A ping across each side first, so neither router meets a case with a neighbour entry
    that went stale meanwhile (the first frame would then wait on ARP/ND, or be lost)."""
    for prefix in SIDES.values():
        for target in (FAR4, FAR6):
            lab.wait_for(lambda p=prefix, t=target: lab.ping(p + "host", t, count=1)["received"],
                         timeout=15, what=f"{prefix or 'vigil '}edge forwarding to {target}")


def run_cases(lab, cases_: list[Case], gap_s: float = 0.004,
              settle_s: float = 2.0) -> dict[str, dict[str, Outcome]]:
    """Sends the table through both sides at once; outcomes by side, then by case name. The
    gap between cases keeps either router's global ICMP budget out of the outcome (Linux:
    1,000 a second, 50 at once)."""
    import threading
    import time

    from .wire import Capture, send_frames, write_frames

    path = lab.log_dir / "conformance.frames"
    write_frames(path, [c.frames for c in cases_])
    captures = {side: (Capture(lab, prefix + "far", "eth0", f"{side}-far"),
                       Capture(lab, prefix + "host", "eth0", f"{side}-host"))
                for side, prefix in SIDES.items()}
    for far, host in captures.values():
        far.__enter__()
        host.__enter__()
    try:
        errors: list[BaseException] = []

        def send(prefix: str) -> None:
            try:
                send_frames(lab, prefix + "host", "eth0", path, gap_s=gap_s)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=send, args=(p,)) for p in SIDES.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        time.sleep(settle_s)  # errors wait for ARP/ND to the case's source
    finally:
        for far, host in captures.values():
            far.__exit__(None, None, None)
            host.__exit__(None, None, None)
    return {side: classify(cases_, far.frames(), host.frames())
            for side, (far, host) in captures.items()}
