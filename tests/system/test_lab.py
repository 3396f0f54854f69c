"""The lab itself: topologies come up and carry traffic, impairments act, and nothing is
left behind whatever way a run ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import REPO, needs_root

from vigil_lab import Lab, LabError, Netem, cleanup_stale, leftover_namespaces, topologies

pytestmark = needs_root

LAB_ENV = {**os.environ, "PYTHONPATH": str(REPO / "tests" / "lab")}


def test_two_sites_ping_end_to_end_over_the_wan_node():
    with Lab(topologies.two_sites()) as lab:
        for src, dst in (("s1-client", "s2-client"), ("s2-backend", "s1-client")):
            for family in (4, 6):
                target = lab.address(dst, "eth0", family)
                result = lab.ping(src, target, count=3)
                assert result["received"] == 3, (src, target, result)
        # The path really crosses the internet node: its WAN-facing counters move.
        before = lab.run("internet", ["cat", "/sys/class/net/s2-wan1/statistics/tx_packets"])
        lab.ping("s1-client", "10.2.1.10", count=5)
        after = lab.run("internet", ["cat", "/sys/class/net/s2-wan1/statistics/tx_packets"])
        assert int(after.stdout) - int(before.stdout) >= 5


def test_delay_shows_in_rtt_and_goes_away_when_cleared():
    with Lab(topologies.two_sites()) as lab:
        lab.impair("s2-edge", "wan1", Netem(delay_ms=40))
        slow = lab.ping("s1-client", "10.2.1.10", count=3)
        assert slow["received"] == 3 and 40 <= slow["rtt_avg_ms"] < 200, slow
        slow6 = lab.ping("s1-client", "fd00:2:1::a", count=3)
        assert slow6["received"] == 3 and slow6["rtt_avg_ms"] >= 40, slow6
        lab.clear_impairment("s2-edge", "wan1")
        fast = lab.ping("s1-client", "10.2.1.10", count=3)
        assert fast["received"] == 3 and fast["rtt_avg_ms"] < 40, fast
        assert not any(p.alive() for p in lab.processes), "delay line left running"


def test_delay_with_rate_limits_throughput():
    with Lab(topologies.two_sites()) as lab:
        lab.impair("s2-edge", "wan1", Netem(delay_ms=10, jitter_ms=2, rate_mbit=8))
        lab.spawn("s2-backend", ["iperf3", "-s", "-1"], name="iperf3")
        lab.wait_for(lambda: ":5201" in lab.run("s2-backend", ["ss", "-ltn"]).stdout,
                     what="iperf3 listening")
        # -R: the server sends, so the data leaves s2-edge through the impaired wan1.
        res = lab.run("s1-client", ["iperf3", "-c", "10.2.1.20", "-t", "3", "-R", "-J"],
                      timeout=30)
        bps = json.loads(res.stdout)["end"]["sum_received"]["bits_per_second"]
        assert 1e6 < bps < 10e6, bps


def test_link_down_fails_over_to_the_second_wan():
    with Lab(topologies.two_sites()) as lab:
        assert "dev wan1" in lab.run("s2-edge", ["ip", "route", "get", "10.1.1.10"]).stdout
        lab.set_link("s2-edge", "wan1", up=False)
        assert lab.ping("s1-client", "10.2.1.10", count=3)["received"] == 3
        assert "dev wan2" in lab.run("s2-edge", ["ip", "route", "get", "10.1.1.10"]).stdout
        assert "dev s2-wan2" in lab.run("internet", ["ip", "route", "get", "10.2.1.10"]).stdout
        lab.set_link("s2-edge", "wan1", up=True)
        lab.wait_for(lambda: "dev wan1" in lab.run("s2-edge", ["ip", "route", "get",
                                                               "10.1.1.10"]).stdout,
                     what="wan1 back in use")


def test_loss_impairment_drops_forwarded_packets():
    with Lab(topologies.two_sites()) as lab:
        lab.impair("s1-edge", "wan1", Netem(loss_pct=100))
        assert lab.ping("s1-client", "10.2.1.10", count=3, interval=0.1)["received"] == 0
        lab.impair("s1-edge", "wan1", Netem(loss_pct=30))
        got = lab.ping("s1-client", "10.2.1.10", count=100, interval=0.01, timeout=30)
        # Binomial(100, 0.7): these bounds are more than 5 standard deviations out.
        assert got["sent"] == 100 and 40 <= got["received"] <= 95, got
        lab.clear_impairment("s1-edge", "wan1")
        assert lab.ping("s1-client", "10.2.1.10", count=3, interval=0.1)["received"] == 3


def test_rate_impairment_limits_throughput():
    with Lab(topologies.two_sites()) as lab:
        lab.impair("s1-edge", "wan1", Netem(rate_mbit=5))
        server = lab.spawn("s2-backend", ["iperf3", "-s", "-1"], name="iperf3")
        lab.wait_for(lambda: lab.run("s2-backend", ["ss", "-ltn"]).stdout.count(":5201") > 0,
                     what="iperf3 listening")
        res = lab.run("s1-client", ["iperf3", "-c", "10.2.1.20", "-t", "3", "-J"], timeout=30)
        bps = json.loads(res.stdout)["end"]["sum_received"]["bits_per_second"]
        assert 1e6 < bps < 6.5e6, bps
        server.stop()


def test_three_sites_full_mesh():
    with Lab(topologies.three_sites()) as lab:
        for a in (1, 2, 3):
            for b in (1, 2, 3):
                if a != b:
                    r = lab.ping(f"s{a}-client", f"10.{b}.1.20", count=1)
                    assert r["received"] == 1, (a, b, r)


def test_failure_inside_a_lab_still_tears_down():
    prefix = None
    with pytest.raises(AssertionError, match="on purpose"):
        with Lab(topologies.two_sites()) as lab:
            prefix = lab.prefix
            assert leftover_namespaces(prefix)
            assert False, "on purpose"
    assert prefix and leftover_namespaces(prefix) == []


def test_process_logs_are_shown_when_a_lab_fails(capfd):
    with pytest.raises(RuntimeError):
        with Lab(topologies.two_sites()) as lab:
            proc = lab.spawn("s1-edge", ["sh", "-c", "echo marker-from-s1-edge; sleep 30"],
                             name="marker")
            lab.wait_for(lambda: "marker" in proc.log(), what="marker output")
            raise RuntimeError("fail the lab")
    assert "marker-from-s1-edge" in capfd.readouterr().err
    assert not proc.alive()


def test_two_runs_at_once_do_not_collide():
    with Lab(topologies.two_sites()) as a, Lab(topologies.two_sites()) as b:
        assert a.prefix != b.prefix
        assert a.ping("s1-client", "10.2.1.10", count=1)["received"] == 1
        assert b.ping("s1-client", "10.2.1.10", count=1)["received"] == 1


def _start_lab_cli(*args: str, printed: list[str] | None = None
                   ) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "vigil_lab", "up", *args],
                            stdout=subprocess.PIPE, text=True, env=LAB_ENV)
    prefix = None
    for line in proc.stdout:
        if printed is not None:
            printed.append(line)
        if "namespaces start with" in line:
            prefix = line.split()[-1]
        if line.strip() == "ready":
            break
    assert prefix and leftover_namespaces(prefix), "lab did not come up"
    return proc, prefix


def test_a_lab_held_up_runs_vigil_on_its_edge_and_says_how_to_reach_it():
    printed: list[str] = []
    proc, prefix = _start_lab_cli("routed", printed=printed)
    try:
        cli = next(line.split(": ", 1)[1].split() for line in printed if "edge's CLI:" in line)
        shown = subprocess.run([*cli, "show", "routes"], capture_output=True, text=True,
                               timeout=30)
        assert shown.returncode == 0 and "0.0.0.0/0" in shown.stdout, shown
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert leftover_namespaces(prefix) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_tear_down(sig):
    proc, prefix = _start_lab_cli("two_sites", "--bare")
    proc.send_signal(sig)
    proc.wait(timeout=20)
    assert leftover_namespaces(prefix) == []


def test_a_killed_run_is_cleaned_by_the_next():
    proc, prefix = _start_lab_cli("two_sites", "--bare")
    proc.kill()  # no chance to clean up
    proc.wait()
    assert leftover_namespaces(prefix)
    removed = cleanup_stale()
    assert all(ns.startswith("vl-") for ns in removed)
    assert leftover_namespaces(prefix) == []


def test_bad_topology_is_rejected_before_anything_is_made():
    topo = topologies.two_sites()
    with pytest.raises(ValueError, match="longer than 15"):
        topo.link("s1-edge", "a-very-long-interface", "internet", "x")
    with pytest.raises(ValueError, match="duplicate interface"):
        topo.link("s1-edge", "wan1", "internet", "y")


def test_failed_setup_leaves_nothing():
    topo = topologies.two_sites()
    topo.route("s1-client", "192.0.2.0/24", "203.0.113.1")  # unreachable gateway: ip fails
    lab = Lab(topo)
    with pytest.raises(LabError, match="route replace"):
        with lab:
            pass
    assert leftover_namespaces(lab.prefix) == []
