"""vigil-dp routing in a lab over AF_XDP: the XDP classifier on both veths steers transit
traffic to the fast path, which routes it (FIB, TTL, neighbours resolved through the kernel)
and sends it out of the other port. The edge's kernel does not forward, so every packet that
crosses went through vigil-dp. Traffic for the box itself stays with the kernel, also while
vigil-dp is dead."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from conftest import needs_root
from vigil_lab.fastpath import (ROUTED_EDGE_CONFIG, dataplane, edge_config, forwarding,
                                hosts_checksum_in_software, hosts_take_redirected_frames,
                                start_routing)
from vigil_lab.lab import Lab
from vigil_lab.topologies import routed

pytestmark = needs_root


def route_across_the_edge(lab: Lab):
    """vigil-dp routing on the edge, and a first ping across (its ARP/ND went through the
    kernel); returns the edge's VigilNode."""
    # Frames re-sent from AF_XDP carry no "checksum still to do" mark: hosts must compute
    # their checksums, as on a wire.
    hosts_checksum_in_software(lab, ("host", "far"))
    vn = start_routing(lab, {"edge": ROUTED_EDGE_CONFIG}, daemons=("vigild", "vigil-dp"))["edge"]
    lab.wait_for(lambda: lab.ping("host", "198.18.20.1", count=1)["received"],
                 timeout=10, what="the first ping through vigil-dp")
    return vn


def test_routes_between_lan_and_wan_and_the_box_stays_reachable_without_it(binaries):
    with Lab(routed()) as lab:
        vn = route_across_the_edge(lab)

        # IPv4 and IPv6 across the box.
        ping = lab.ping("host", "198.18.20.1", count=20, interval=0.05)
        assert ping["received"] == 20, ping
        lab.wait_for(lambda: lab.ping("host", "2001:db8:20::1", count=1)["received"],
                     timeout=10, what="the first IPv6 ping through vigil-dp")
        shown = dataplane(vn)
        ports = {p["name"]: p for p in shown["ports"]}
        assert ports["lan0"]["rx_packets"] >= 21 and ports["wan1"]["tx_packets"] >= 21, ports
        learned = {n["address"] for n in shown["neighbours"]}
        assert {"198.18.20.1", "10.20.1.10"} <= learned, shown["neighbours"]

        # TCP across: a byte stream through the fast path both ways.
        lab.spawn("far", ["socat", "TCP-LISTEN:7000,reuseaddr,fork", "SYSTEM:cat"], name="echo")
        lab.wait_for(lambda: ":7000" in lab.run("far", ["ss", "-ltn"]).stdout, timeout=5,
                     what="far listening")
        payload = "x" * 100_000
        out = subprocess.run(["ip", "netns", "exec", lab.ns("host"), "socat", "-t", "2", "-",
                              "TCP:198.18.20.1:7000"], input=payload, capture_output=True,
                             text=True, timeout=20)
        assert out.stdout == payload, (len(out.stdout), out.stderr)

        # Routes change by commit while traffic flows: the FIB swap loses nothing.
        lab.run("far", ["ip", "addr", "add", "203.0.113.1/32", "dev", "lo"])
        ping = subprocess.Popen(["ip", "netns", "exec", lab.ns("host"), "ping", "-n", "-q",
                                 "-i", "0.01", "-c", "400", "203.0.113.1"],
                                stdout=subprocess.PIPE, text=True)
        for k, extra in enumerate(("    - {prefix: 203.0.113.0/24, next_hops: "
                                   "[{via: 198.18.20.1, weight: 2}]}\n", "",
                                   "    - {prefix: 203.0.113.0/25, next_hops: "
                                   "[{via: 198.18.20.1, interface: wan1}]}\n", "")):
            text = ROUTED_EDGE_CONFIG.replace("routing:\n  static:\n",
                                              "routing:\n  static:\n" + extra)
            (vn.run_dir / f"change{k}.yaml").write_text(text)
            assert vn.cli("load", "replace", str(vn.run_dir / f"change{k}.yaml")).returncode == 0
            commit = vn.cli("commit", "-m", f"route change {k}")
            assert commit.returncode == 0, commit.stderr
            shown = vn.cli("show", "routes").stdout
            assert ("203.0.113.0/" in shown) == bool(extra), shown  # the change took effect
        out, _ = ping.communicate(timeout=30)
        assert " 0% packet loss" in out, out
        routes = vn.cli("show", "routes").stdout
        assert "0.0.0.0/0" in routes and "198.18.20.1" in routes and "wan1" in routes, routes
        # Both default routes' gateways have an adjacency; the groups the changes made and
        # retired gave theirs back (198.18.20.1 with weight 2 shared the one slot).
        assert "gateways with an adjacency: 2 of " in routes, routes
        assert dataplane(vn)["adjacencies"]["in_use"] == 2
        interfaces = vn.cli("show", "interfaces").stdout
        assert "lan0" in interfaces and "wan1" in interfaces, interfaces
        assert "rx mode: poll" in interfaces and "held up to 0 us" in interfaces, interfaces
        # The fast path's counters reach vigild's Prometheus endpoint.
        metrics = lab.run("edge", ["curl", "-s", "http://127.0.0.1:9550/metrics"]).stdout
        assert 'vigil_dp_packets_total{direction="tx",port="wan1",' in metrics, metrics[-2000:]

        # TTL 1: the box answers "time exceeded" from its LAN address.
        ttl = lab.run("host", ["ping", "-c", "1", "-W", "2", "-t", "1", "198.18.20.1"],
                      check=False)
        assert "From 10.20.1.1" in ttl.stdout and "Time to live exceeded" in ttl.stdout, ttl.stdout
        assert dataplane(vn)["drops"]["ttl_exceeded"] >= 1

        # The box itself (SSH's port) is the kernel's: reachable with vigil-dp dead, and the
        # restarted vigil-dp forwards again.
        lab.spawn("edge", ["socat", "TCP-LISTEN:22,bind=10.20.1.1,reuseaddr,fork",
                           "SYSTEM:echo box"], name="ssh")
        lab.wait_for(lambda: ":22" in lab.run("edge", ["ss", "-ltn"]).stdout, timeout=5,
                     what="the box's port 22")
        vn.kill("vigil-dp")
        hello = lab.run("host", ["socat", "-t", "1", "-", "TCP:10.20.1.1:22"], check=False)
        assert hello.stdout.strip() == "box", hello
        vn.start("vigil-dp")
        lab.wait_for(lambda: forwarding(vn), timeout=30,
                     what="vigil-dp forwarding again")
        lab.wait_for(lambda: lab.ping("host", "198.18.20.1", count=1)["received"],
                     timeout=10, what="forwarding after the restart")


def test_what_the_socket_could_not_take_while_the_lcore_stood_still_is_counted(binaries):
    """An lcore that falls behind (here: stopped) leaves the kernel no frame to receive into:
    the socket's drops are the port's device_rx_missed, not lost from sight."""
    with Lab(routed()) as lab:
        vn = route_across_the_edge(lab)
        before = {p["name"]: p for p in dataplane(vn)["ports"]}["lan0"]
        assert before["device_rx_missed"] == 0, before

        sent = 6000
        pid = vn.processes["vigil-dp"].popen.pid  # `ip netns exec` execs the daemon
        os.kill(pid, signal.SIGSTOP)
        try:
            lab.run("host", ["python3", "-c",
                             "import socket\n"
                             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                             f"for _ in range({sent}):\n"
                             "    s.sendto(b'x' * 64, ('198.18.20.1', 9))\n"])
        finally:
            os.kill(pid, signal.SIGCONT)

        # A ping across once the lcore runs again: what was queued is behind it by then.
        lab.wait_for(lambda: lab.ping("host", "198.18.20.1", count=1)["received"],
                     timeout=10, what="forwarding after the stop")
        lan0 = {p["name"]: p for p in dataplane(vn)["ports"]}["lan0"]
        # The socket holds 2,048 frames to receive into (AfXdpPort: half its UMEM); the rest
        # of what the classifier steered to it the kernel dropped, and the port counts them.
        received = lan0["rx_packets"] - before["rx_packets"]
        assert received <= 2048 + 10, lan0
        assert 1000 <= lan0["device_rx_missed"] <= sent - 2048, lan0
        # ... and so does Prometheus, through vigild.
        def exported():
            metrics = lab.run("edge", ["curl", "-s", "http://127.0.0.1:9550/metrics"]).stdout
            return any(line.startswith("vigil_dp_device_rx_missed_total{") and
                       'port="lan0"' in line and
                       line.endswith(f' {lan0["device_rx_missed"]}')
                       for line in metrics.splitlines())
        lab.wait_for(exported, timeout=10, what="the drops on vigild's /metrics")


def offload(vn) -> dict:
    shown = dataplane(vn)["flow_offload"]
    return {**shown, "by_port": {p["port"]: p for p in shown["ports"]}}


def iperf_across(lab: Lab, seconds: float, *extra: str) -> dict:
    out = lab.run("host", ["iperf3", "-c", "198.18.20.1", "-t", str(seconds), "-J", *extra],
                  timeout=seconds + 30).stdout
    return json.loads(out)["end"]


def test_established_flows_are_forwarded_by_xdp_and_decided_again_when_routes_change(binaries):
    """With the hosts' veths able to take redirected frames, vigil-dp routes a flow's first
    packets and hands the flow to the classifier, which carries the rest (XDP_REDIRECT);
    a commit that changes routes sends every flow back through vigil-dp once, and a port
    whose device can no longer send redirected frames stops taking part."""
    with Lab(routed()) as lab:
        hosts_take_redirected_frames(lab, ("host", "far"))
        vn = route_across_the_edge(lab)
        lab.wait_for(lambda: all(p["offloadable"] for p in offload(vn)["ports"]), timeout=10,
                     what="both ports taking part in flow offload")
        lab.spawn("far", ["iperf3", "-s"], name="iperf3")
        lab.wait_for(lambda: ":5201" in lab.run("far", ["ss", "-ltn"]).stdout, timeout=5,
                     what="iperf3 listening")

        dp_before = {p["name"]: p for p in dataplane(vn)["ports"]}["lan0"]["rx_packets"]
        tcp = iperf_across(lab, 2)
        assert tcp["sum_received"]["bytes"] > 10_000_000, tcp["sum_received"]
        # The counters settled: a last ACK or FIN still crossing between the reads of the
        # ports' counters made them differ by one (CI, 2026-12-05).
        o = offload(vn)
        for _ in range(20):
            time.sleep(0.1)
            again = offload(vn)
            if again["by_port"] == o["by_port"]:
                break
            o = again
        through_dp = {p["name"]: p for p in dataplane(vn)["ports"]}["lan0"]["rx_packets"] - dp_before
        carried = o["by_port"]["lan0"]["rx"]["packets"]
        # The data direction in on lan0 and out on wan1, the ACKs back: both offloaded, and
        # nearly all of the stream went by XDP (the first packets of each flow, vigil-dp).
        assert carried > 20 * through_dp, (carried, through_dp)
        assert o["by_port"]["wan1"]["tx"]["packets"] == carried, o
        assert o["by_port"]["wan1"]["rx"]["packets"] > 0, o
        assert o["installed"] >= 2 and o["failed"] == 0, o
        shown = vn.cli("show", "interfaces").stdout
        assert "flow offload to XDP (generation " in shown, shown

        # A route change by commit: a new generation, and the flows of the next stream are
        # decided again and offloaded anew.
        generation, installed = o["generation"], o["installed"]
        text = ROUTED_EDGE_CONFIG.replace(
            "routing:\n  static:\n",
            "routing:\n  static:\n    - {prefix: 203.0.113.0/24, next_hops: [{via: 198.18.20.1}]}\n")
        (vn.run_dir / "offload-change.yaml").write_text(text)
        assert vn.cli("load", "replace", str(vn.run_dir / "offload-change.yaml")).returncode == 0
        assert vn.cli("commit", "-m", "a route").returncode == 0
        o = offload(vn)
        assert o["generation"] > generation, o
        udp = iperf_across(lab, 1, "-u", "-b", "50M")
        assert udp["sum"]["lost_percent"] < 1, udp["sum"]
        o = offload(vn)
        assert o["installed"] > installed, o

        # The far host's veth loses GRO: the kernel says wan1 can no longer send redirected
        # frames, and vigil-dp stops offloading flows through it (within its recheck).
        lab.run("far", ["ethtool", "-K", "eth0", "gro", "off"])
        lab.wait_for(lambda: not offload(vn)["by_port"]["wan1"]["offloadable"], timeout=10,
                     what="wan1 leaving flow offload")
        assert "redirected by XDP" in offload(vn)["by_port"]["wan1"]["reason"]
        tcp = iperf_across(lab, 1)
        assert tcp["sum_received"]["bytes"] > 1_000_000, tcp["sum_received"]


def test_a_commit_of_the_dataplane_section_restarts_vigil_dp_on_it(binaries):
    """DPDK starts once per process: a commit that changes the dataplane section makes
    vigil-dp re-execute itself on the committed config (same pid, so a supervisor sees no
    exit); the kernel fallback forwards meanwhile. Routes still apply in place."""
    with Lab(routed()) as lab:
        vn = route_across_the_edge(lab)
        pid = vn.processes["vigil-dp"].popen.pid
        assert dataplane(vn)["rx_mode"] == "poll"
        ping = subprocess.Popen(["ip", "netns", "exec", lab.ns("host"), "ping", "-n", "-q",
                                 "-i", "0.01", "-c", "300", "198.18.20.1"],
                                stdout=subprocess.PIPE, text=True)
        lab.wait_for(lambda: lab.ping("host", "198.18.20.1", count=1)["received"], timeout=5,
                     what="traffic before the commit")
        (vn.run_dir / "adaptive.yaml").write_text(edge_config(rx_mode="adaptive"))
        assert vn.cli("load", "replace", str(vn.run_dir / "adaptive.yaml")).returncode == 0
        commit = vn.cli("commit", "-m", "idle lcores sleep")
        assert commit.returncode == 0, commit.stderr
        assert "vigil-dp restarts to apply it" in commit.stdout, commit.stdout
        lab.wait_for(lambda: forwarding(vn) and dataplane(vn)["rx_mode"] == "adaptive",
                     timeout=30, what="vigil-dp forwarding again with rx_mode adaptive")
        out, _ = ping.communicate(timeout=30)
        received = int(out.split(" received")[0].split()[-1])
        log = vn.processes["vigil-dp"].log()
        assert vn.processes["vigil-dp"].popen.poll() is None, log
        assert vn.call("vigil-dp", "status")["pid"] == pid, "re-executed, not a new process"
        assert "restarting vigil-dp on the committed config" in log, log
        assert "restarted on the committed config" in log, log
        # Forwarded throughout by vigil-dp or, while it started, by the kernel fallback.
        assert received >= 290, out
        assert lab.ping("host", "198.18.20.1", count=5, interval=0.05)["received"] == 5

        # A routes-only change applies in place: no second restart.
        vn.commit_text(edge_config(rx_mode="adaptive").replace(
            "routing:\n  static:\n",
            "routing:\n  static:\n    - {prefix: 10.99.0.0/16, next_hops: [{via: 198.18.20.1}]}\n"),
            "one more route")
        lab.wait_for(lambda: any(r["prefix"] == "10.99.0.0/16" for r in dataplane(vn)["routes"]),
                     timeout=10, what="the new route in the FIB")
        assert vn.processes["vigil-dp"].log().count("restarting vigil-dp") == 1
