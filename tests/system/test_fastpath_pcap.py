"""vigil-dp forwarding in dpdk mode with DPDK's pcap PMD as ports: frames from a pcap file per
port go in, and the frames each port sent (its TX pcap) are compared byte for byte with what
a router must send. Static routes, static neighbours, ECMP-free so every output is exact.
Needs root (DPDK's EAL, even with --no-huge, wants /var/run/dpdk)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from vigil_lab import rpc
from vigil_lab.frames import (ether, icmp4, icmp6, ipv4, ipv6, read_pcap, tcp, udp,
                              write_pcap)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="DPDK needs root")

# What the hosts send to; the ports' own MACs (the pcap PMD's) are read from vigil-dp.
LAN_MAC, WAN_MAC = "02:00:00:00:00:a0", "02:00:00:00:00:a1"
HOST_MAC, GW_MAC = "02:00:00:00:01:05", "02:00:00:00:02:01"
IPV4, IPV6 = 0x0800, 0x86DD


def lan_in(payload: bytes, ethertype: int = IPV4) -> bytes:
    return ether(LAN_MAC, HOST_MAC, ethertype, payload)


def wan_in(payload: bytes, ethertype: int = IPV4) -> bytes:
    return ether(WAN_MAC, GW_MAC, ethertype, payload)


def cases(lan_mac: str = LAN_MAC, wan_mac: str = WAN_MAC):
    """(name, port it enters, frame, port it must leave by or None, expected bytes or None);
    the expected frames leave from `lan_mac` and `wan_mac`."""
    LAN_MAC, WAN_MAC = lan_mac, wan_mac  # noqa: N806 (the frames below read as a table)
    out = []
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


def sections(tmp: Path) -> dict:
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
        "dataplane": {"forwarding": True, "mode": "dpdk", "lcores": [1], "memory_mb": 512,
                      "mbufs": 4095, "max_routes_ipv4": 4096, "max_routes_ipv6": 4096},
    }


def test_frames_in_frames_out_byte_for_byte(binaries, tmp_path):
    table = cases()
    for port in ("lan0", "wan1"):
        write_pcap(tmp_path / f"{port}-in.pcap", [c[2] for c in table if c[1] == port])
    delta = sections(tmp_path)
    config = tmp_path / "vigil.yaml"
    config.write_text(json.dumps(delta))  # JSON is YAML
    sock = str(tmp_path / "dp.sock")
    log = open(tmp_path / "vigil-dp.log", "wb")
    proc = subprocess.Popen([str(binaries["vigil-dp"]), "--config", str(config), "--socket", sock,
                             "--pin-root", str(tmp_path / "bpf")],
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
        macs = {p["name"]: p["mac"] for p in show["ports"]}
        table = cases(macs["lan0"], macs["wan1"])
        time.sleep(0.5)  # the TX drain timer
        show = rpc.call(sock, "dataplane.show")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    sent = {port: read_pcap(tmp_path / f"{port}-out.pcap") for port in ("lan0", "wan1")}
    for name, _, _, out_port, expected in table:
        if out_port is None:
            continue
        assert expected in sent[out_port], f"{name}: not sent on {out_port}"
        sent[out_port].remove(expected)
    assert sent == {"lan0": [], "wan1": []}, "frames sent that no case expects"
    drops = show["drops"]
    assert drops["ttl_exceeded"] == 1 and drops["no_route"] == 1
    assert drops["blackhole"] == 1 and drops["malformed"] == 1
    assert show["icmp_errors_sent"] == 2
    routes = {r["prefix"]: r for r in show["routes"]}
    assert routes["0.0.0.0/0"]["next_hops"] == [{"port": "wan1", "via": "192.0.2.1", "weight": 1}]
    assert routes["10.1.0.1/32"]["action"] == "local"
