"""vigil-dp forwarding in dpdk mode with DPDK's pcap PMD as ports: frames from a pcap file per
port go in, and the frames each port sent (its TX pcap) are compared byte for byte with what
a router must send. Static routes, static neighbours, ECMP-free so every output is exact.
Packets for the box go through the exception path: a TAP per port, named like it, holding
its addresses, where the kernel answers ARP and ping. vigil-dp runs in a network namespace of
its own (those TAPs and addresses must not land on the machine). Needs root."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import struct
import subprocess
import time
from pathlib import Path

import pytest

from vigil_lab import rpc
from vigil_lab.frames import (ether, icmp4, icmp6, ipv4, ipv6, mac, read_pcap, tcp, udp,
                              write_pcap)

ECHO_REPLY = b"(an echo reply from 10.1.0.1 to 10.1.0.5, matched by is_echo_reply)"


def is_echo_reply(frame: bytes) -> bool:
    return (frame[:12] == mac(HOST_MAC) + mac(LAN_MAC) and frame[12:14] == b"\x08\x00" and
            frame[14 + 12:14 + 20] == ipaddress.IPv4Address("10.1.0.1").packed +
            ipaddress.IPv4Address("10.1.0.5").packed and frame[14 + 9] == 1 and
            frame[34] == 0 and frame[38:42] == bytes.fromhex("12340001") and
            frame[42:] == b"ping" * 8)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="DPDK needs root")

# The ports' MACs: DPDK's pcap PMD names its ports 02:70:63:61:70:<port id> ("\x02pcap"); the
# test checks vigil-dp reports the same, and hosts send to them.
LAN_MAC, WAN_MAC = "02:70:63:61:70:00", "02:70:63:61:70:01"
HOST_MAC, GW_MAC = "02:00:00:00:01:05", "02:00:00:00:02:01"
IPV4, IPV6 = 0x0800, 0x86DD


def lan_in(payload: bytes, ethertype: int = IPV4) -> bytes:
    return ether(LAN_MAC, HOST_MAC, ethertype, payload)


def wan_in(payload: bytes, ethertype: int = IPV4) -> bytes:
    return ether(WAN_MAC, GW_MAC, ethertype, payload)


def arp(op: int, sender_mac: str, sender_ip: str, target_mac: str, target_ip: str) -> bytes:
    return (struct.pack("!HHBBH", 1, IPV4, 6, 4, op) + mac(sender_mac) +
            ipaddress.IPv4Address(sender_ip).packed + mac(target_mac) +
            ipaddress.IPv4Address(target_ip).packed)


def cases():
    """(name, port it enters, frame, port it must leave by or None, expected bytes or None)."""
    out = []
    # The exception path, in order: the kernel learns the host from its ARP request and answers
    # it; then it answers a ping to the box (checked field by field: the kernel picks the IP id).
    out.append(("ARP for the box: the kernel answers through the TAP", "lan0",
                ether("ff:ff:ff:ff:ff:ff", HOST_MAC, 0x0806,
                      arp(1, HOST_MAC, "10.1.0.5", "00:00:00:00:00:00", "10.1.0.1")),
                "lan0", ether(HOST_MAC, LAN_MAC, 0x0806,
                              arp(2, LAN_MAC, "10.1.0.1", HOST_MAC, "10.1.0.5"))))
    echo = icmp4(8, 0, 0x12340001, b"ping" * 8)
    out.append(("ping to the box: the kernel's echo reply", "lan0",
                lan_in(ipv4("10.1.0.5", "10.1.0.1", 1, echo)), "lan0", ECHO_REPLY))
    p = ipv4("10.1.0.5", "8.8.8.8", 17, udp("10.1.0.5", "8.8.8.8", 5000, 53, b"q" * 20))
    out.append(("LAN to the Internet: TTL 63, gateway MAC", "lan0", lan_in(p), "wan1",
                ether(GW_MAC, WAN_MAC, IPV4, ipv4("10.1.0.5", "8.8.8.8", 17, udp(
                    "10.1.0.5", "8.8.8.8", 5000, 53, b"q" * 20), ttl=63))))
    p = ipv4("93.184.216.34", "10.1.0.5", 6, tcp("93.184.216.34", "10.1.0.5", 443, 40000, 0x12))
    out.append(("Internet to a LAN host: connected route, host MAC", "wan1", wan_in(p), "lan0",
                ether(HOST_MAC, LAN_MAC, IPV4, ipv4("93.184.216.34", "10.1.0.5", 6, tcp(
                    "93.184.216.34", "10.1.0.5", 443, 40000, 0x12), ttl=63))))
    p6 = ipv6("fd00:1::5", "2001:db8::1", 17, udp("fd00:1::5", "2001:db8::1", 5000, 53, b"6" * 8))
    out.append(("IPv6 LAN to the Internet: hop limit 63", "lan0", lan_in(p6, IPV6), "wan1",
                ether(GW_MAC, WAN_MAC, IPV6, ipv6("fd00:1::5", "2001:db8::1", 17, udp(
                    "fd00:1::5", "2001:db8::1", 5000, 53, b"6" * 8), hop_limit=63))))
    expiring = ipv4("10.1.0.5", "8.8.4.4", 17, udp("10.1.0.5", "8.8.4.4", 5001, 33434, b"t" * 12),
                    ttl=1)
    out.append(("TTL 1: time exceeded from the LAN address, back to the host", "lan0",
                lan_in(expiring), "lan0",
                ether(HOST_MAC, LAN_MAC, IPV4, ipv4("10.1.0.1", "10.1.0.5", 1,
                                                     icmp4(11, 0, 0, expiring), tos=0xC0))))
    nowhere = ipv6("fd00:1::5", "3fff::1", 6, tcp("fd00:1::5", "3fff::1", 4000, 80))
    out.append(("IPv6 with no route: destination unreachable", "lan0", lan_in(nowhere, IPV6),
                "lan0", ether(HOST_MAC, LAN_MAC, IPV6, ipv6("fd00:1::1", "fd00:1::5", 58, icmp6(
                    "fd00:1::1", "fd00:1::5", 1, 0, 0, nowhere)))))
    p = ipv4("10.1.0.5", "203.0.113.7", 17, udp("10.1.0.5", "203.0.113.7", 1, 2, b""))
    out.append(("blackhole route: nothing out", "lan0", lan_in(p), None, None))
    bad = bytearray(lan_in(ipv4("10.1.0.5", "8.8.8.8", 17, udp("10.1.0.5", "8.8.8.8", 1, 2, b""))))
    bad[14] = 0x43  # IHL 3: shorter than a header
    out.append(("malformed: dropped", "lan0", bytes(bad), None, None))
    return out


def sections(tmp: Path, rx_mode: str) -> dict:
    """The config sections vigil-dp applies, as vigild would hand them over."""
    def port(n: int, name: str) -> str:
        return f"net_pcap{n},rx_pcap={tmp}/{name}-in.pcap,tx_pcap={tmp}/{name}-out.pcap"
    return {
        "interfaces": {
            "lan0": {"role": "lan", "device": port(0, "lan0"),
                     "addresses": ["10.1.0.1/24", "fd00:1::1/64"],
                     "neighbours": [{"address": "10.1.0.5", "mac": HOST_MAC},
                                    {"address": "fd00:1::5", "mac": HOST_MAC}]},
            "wan1": {"role": "wan", "device": port(1, "wan1"),
                     "addresses": ["192.0.2.2/24", "2001:db8:ffff::2/64"],
                     "neighbours": [{"address": "192.0.2.1", "mac": GW_MAC},
                                    {"address": "2001:db8:ffff::1", "mac": GW_MAC}]},
        },
        "routing": {"static": [
            {"prefix": "0.0.0.0/0", "next_hops": [{"via": "192.0.2.1"}]},
            {"prefix": "2001:db8::/32", "next_hops": [{"via": "2001:db8:ffff::1"}]},
            {"prefix": "203.0.113.0/24", "blackhole": True},
        ]},
        "dataplane": {"forwarding": True, "mode": "dpdk", "rx_mode": rx_mode, "lcores": [1],
                      "memory_mb": 512,
                      "mbufs": 4095, "max_routes_ipv4": 4096, "max_routes_ipv6": 4096},
    }


# Spinning, and sleeping while idle (pcap ports offer no wake-up fd: timer naps, the same
# frames out).
@pytest.mark.parametrize("rx_mode", ["poll", "adaptive"])
def test_frames_in_frames_out_byte_for_byte(binaries, tmp_path, rx_mode):
    table = cases()
    for port in ("lan0", "wan1"):
        write_pcap(tmp_path / f"{port}-in.pcap", [c[2] for c in table if c[1] == port])
    delta = sections(tmp_path, rx_mode)
    config = tmp_path / "vigil.yaml"
    config.write_text(json.dumps(delta))  # JSON is YAML
    sock = str(tmp_path / "dp.sock")
    log = open(tmp_path / "vigil-dp.log", "wb")
    ns = f"vl-fp-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    proc = subprocess.Popen(["ip", "netns", "exec", ns, str(binaries["vigil-dp"]), "--config",
                             str(config), "--socket", sock, "--pin-root", str(tmp_path / "bpf")],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        rpc.wait_for_socket(sock, proc=proc, timeout=30)
        # As vigild does at a commit: the sections vigil-dp applies, prepared then activated.
        rpc.call(sock, "prepare", {"txid": 1, "delta": delta}, timeout=30)
        rpc.call(sock, "activate", {"txid": 1}, timeout=30)
        deadline = time.monotonic() + 20
        while True:
            show = rpc.call(sock, "dataplane.show")
            received = sum(p["rx_packets"] for p in show.get("ports", []))
            if received == len(table) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert show["forwarding"], (tmp_path / "vigil-dp.log").read_text()
        assert received == len(table), show
        macs = {p["name"]: p["mac"].lower() for p in show["ports"]}
        assert macs == {"lan0": LAN_MAC, "wan1": WAN_MAC}, macs
        addresses = subprocess.run(["ip", "-n", ns, "-br", "addr", "show", "dev", "lan0"],
                                   capture_output=True, text=True).stdout
        assert "10.1.0.1/24" in addresses, addresses  # the exception path's TAP
        time.sleep(0.5)  # the TX drain timer, the kernel's answers
        show = rpc.call(sock, "dataplane.show")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", ns], check=False)
    # The kernel also speaks on its own (IPv6 DAD, MLD, router solicitations): to multicast
    # MACs, which no case is about.
    sent = {port: [f for f in read_pcap(tmp_path / f"{port}-out.pcap") if not f[0] & 1]
            for port in ("lan0", "wan1")}
    for name, _, _, out_port, expected in table:
        if out_port is None:
            continue
        if expected == ECHO_REPLY:
            replies = [f for f in sent[out_port] if is_echo_reply(f)]
            assert len(replies) == 1, f"{name}: {sent[out_port]}"
            sent[out_port].remove(replies[0])
            continue
        assert expected in sent[out_port], f"{name}: not sent on {out_port}: {sent[out_port]}"
        sent[out_port].remove(expected)
    assert sent == {"lan0": [], "wan1": []}, "frames sent that no case expects"
    assert show["rx_mode"] == rx_mode
    assert (show["idle_sleeps"] > 0) == (rx_mode == "adaptive"), show["idle_sleeps"]
    drops = show["drops"]
    assert drops["ttl_exceeded"] == 1 and drops["no_route"] == 1
    assert drops["blackhole"] == 1 and drops["malformed"] == 1
    assert show["icmp_errors_sent"] == 2
    assert show["to_kernel"] == 2 and drops["no_kernel_path"] == 0
    routes = {r["prefix"]: r for r in show["routes"]}
    assert routes["0.0.0.0/0"]["next_hops"] == [{"port": "wan1", "via": "192.0.2.1", "weight": 1}]
    assert routes["10.1.0.1/32"]["action"] == "local"
