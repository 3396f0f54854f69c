"""BGP routes reach vigil-dp's FIB over FPM from the FRR instance vigild runs (--frr): vigild
renders frr.conf from the committed routing.bgp (the neighbour's TCP MD5 password from its 0600
file) and applies it with frr-reload.py; bgpd learns from an external router (FRR in the far
host), zebra sends the routes to vigil-dp's FPM listener, they show with source bgp and traffic
follows them through the fast path (the edge's kernel does not forward). `vigil show bgp`
reads the session from FRR; a prefix list committed keeps a route out; a withdrawal removes
one; zebra killed is started again by vigild, given its configuration again, replays, and what
it no longer has is swept."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from conftest import needs_root
from vigil_lab.fastpath import (ROUTED_EDGE_CONFIG, hosts_checksum_in_software, start_routing)
from vigil_lab.bird import BirdNode, bird_available
from vigil_lab.frr import FrrNode, frr_available
from vigil_lab.lab import Lab
from vigil_lab.topologies import routed
from vigil_lab.topology import Netem

pytestmark = [needs_root, pytest.mark.skipif(
    not frr_available() or not Path("/usr/lib/frr/frr-reload.py").exists(),
    reason="FRR (frr, frr-pythontools) not installed")]

# The edge without its static default routes: 203.0.113.0/24 is reachable only by BGP.
EDGE_ROUTING = """routing:
  bgp:
    asn: 65001
    router_id: 10.20.1.1
    prefix_lists:
      no-doc2: {{rules: [{{action: deny, prefix: 198.51.100.0/24}}, {{prefix: 0.0.0.0/0, le: 32}}]}}
    policies:
      all: {{rules: [{{}}]}}
      in: {{rules: [{{match_prefix_list: {prefix_list}}}]}}
    neighbors:
      - address: 198.18.20.1
        remote_as: 65002
        description: far router
        password_file: {password_file}
        timers: {{keepalive: 1, hold: 3, connect: 1}}
        import_policy: {import_policy}
        export_policy: all
"""
STATIC_ROUTES = """routing:
  static:
    - {prefix: 0.0.0.0/0, next_hops: [{via: 198.18.20.1}]}
    - {prefix: "::/0", next_hops: [{via: "2001:db8:20::1"}]}
"""
PASSWORD = "md5-Secret-42"

FAR_BGPD = f"""router bgp 65002
 bgp router-id 198.18.20.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 198.18.20.2 remote-as 65001
 neighbor 198.18.20.2 password {PASSWORD}
 neighbor 198.18.20.2 timers 1 3
 neighbor 198.18.20.2 timers connect 1
 address-family ipv4 unicast
  network 203.0.113.0/24
  network 198.51.100.0/24
 exit-address-family
"""


def edge_config(password_file: Path, import_policy: str = "all") -> str:
    routing = EDGE_ROUTING.format(password_file=password_file, import_policy=import_policy,
                                  prefix_list="no-doc2")
    return ROUTED_EDGE_CONFIG.replace(STATIC_ROUTES, routing)


def bgp_routes(vn) -> dict[str, dict]:
    routes = vn.call("vigil-dp", "dataplane.show")["routes"]
    return {r["prefix"]: r for r in routes if r.get("source") == "bgp"}


def metric(vn, name: str, labels: str = "", daemon: str = "vigil-dp") -> float | None:
    """A metric's value from `daemon`'s text exposition, or None."""
    text = vn.call(daemon, "metrics")["text"]
    pattern = (rf'^{name}\{{{labels}[^}}]*\}} (\S+)$' if labels
               else rf'^{name}(?:\{{[^}}]*\}})? (\S+)$')
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else None


def cli_json(vn, *args):
    done = vn.cli("--json", *args, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout)


def neighbor(vn) -> dict:
    """The first neighbour as `vigil show bgp summary --json` has it; {} while FRR does not
    answer (a predicate of wait_for must not raise)."""
    done = vn.cli("--json", "show", "bgp", "summary", check=False)
    if done.returncode != 0:
        return {}
    found = json.loads(done.stdout).get("neighbors") or []
    return found[0] if found else {}


def test_vigild_runs_frr_and_bgp_routes_reach_the_fast_path(binaries):
    frr_dir = Path(tempfile.mkdtemp(prefix="vigil-frr-"))
    frr_dir.chmod(0o755)  # FRR's user reaches its run directory inside
    with Lab(routed()) as lab:
        hosts_checksum_in_software(lab, ("host", "far"))
        lab.run("far", ["ip", "addr", "add", "203.0.113.1/32", "dev", "lo"])
        password_file = lab.log_dir / "far.password"
        password_file.write_text(PASSWORD + "\n")
        os.chmod(password_file, 0o600)
        far = FrrNode(lab, "far", {"bgpd": FAR_BGPD})
        vn = start_routing(lab, {"edge": edge_config(password_file)},
                           daemons=("vigild", "vigil-dp"),
                           vigild_args=("--frr", str(frr_dir / "run")))["edge"]
        try:
            # vigild started FRR's daemons (its supervised processes) and gave them the config.
            def frr_running() -> bool:
                processes = {p["name"]: p for p in vn.call("vigild", "show.processes")}
                return all(processes[f"frr-{d}"]["state"] == "running"
                           for d in ("zebra", "bgpd", "bfdd", "staticd"))
            lab.wait_for(frr_running, timeout=10, what="FRR's four daemons running")
            lab.wait_for(lambda: "203.0.113.0/24" in bgp_routes(vn), timeout=60,
                         what="203.0.113.0/24 from BGP in vigil-dp's FIB")
            route = bgp_routes(vn)["203.0.113.0/24"]
            assert route["next_hops"][0]["via"] == "198.18.20.1", route
            assert route["next_hops"][0]["port"] == "wan1", route
            lab.wait_for(lambda: lab.ping("host", "203.0.113.1", count=1)["received"],
                         timeout=10, what="a ping along the BGP route")

            # The password is in FRR's file (root's, 0600) and nowhere an operator reads.
            conf = vn.run_dir / "state" / "frr" / "frr.conf"
            assert (conf.stat().st_mode & 0o777) == 0o600
            assert PASSWORD in conf.read_text()
            shown = vn.cli("show", "configuration").stdout
            assert PASSWORD not in shown

            # The session as `vigil show bgp` reads it from FRR.
            n = neighbor(vn)
            assert n["address"] == "198.18.20.1" and n["state"] == "Established", n
            assert n["remote_as"] == 65002 and n["description"] == "far router", n
            assert {f["family"]: f["accepted"] for f in n["families"]} == {"ipv4-unicast": 2}
            text = vn.cli("show", "bgp", "summary").stdout
            assert "local AS 65001" in text and "198.18.20.1" in text, text
            routes = cli_json(vn, "show", "bgp", "routes")
            prefixes = {r["prefix"] for r in routes["routes"]}
            assert {"203.0.113.0/24", "198.51.100.0/24"} <= prefixes, routes
            inside = cli_json(vn, "show", "bgp", "routes", "203.0.113.0/24")
            assert [r["prefix"] for r in inside["routes"]] == ["203.0.113.0/24"], inside
            detail = cli_json(vn, "show", "bgp", "neighbors", "198.18.20.1")
            assert detail[0]["hold_time_ms"] == 3000, detail
            # ... and as vigild's metrics have it (polled every 5 s).
            lab.wait_for(lambda: metric(vn, "vigil_bgp_neighbor_state", 'neighbor="198.18.20.1"',
                                        daemon="vigild") == 6,
                         timeout=15, what="vigil_bgp_neighbor_state 6 (established)")
            lab.wait_for(lambda: metric(vn, "vigil_bgp_neighbor_prefixes", 'direction="accepted"',
                                        daemon="vigild") == 2,
                         timeout=15, what="vigil_bgp_neighbor_prefixes accepted 2")

            # A prefix list committed as the import policy: 198.51.100.0/24 is not taken, and
            # leaves the FIB; the other stays.
            vn.commit_text(edge_config(password_file, import_policy="in"), "import policy")
            lab.wait_for(lambda: "198.51.100.0/24" not in bgp_routes(vn), timeout=20,
                         what="198.51.100.0/24 denied by the prefix list")
            assert "203.0.113.0/24" in bgp_routes(vn)

            # zebra killed: vigild starts it again and gives the instance its configuration
            # again; it replays, and what it no longer has (the far end withdrew
            # 203.0.113.0/24 meanwhile) is swept once the replay has gone quiet.
            connections = metric(vn, "vigil_dp_fpm_connections_total")
            swept = metric(vn, "vigil_dp_fpm_swept_total") or 0
            old_pid = int((frr_dir / "run" / "zebra.pid").read_text())
            os.kill(old_pid, signal.SIGKILL)
            lab.wait_for(lambda: metric(vn, "vigil_dp_fpm_connected") == 0, timeout=5,
                         what="vigil-dp seeing zebra gone")
            far.vtysh("configure terminal\nrouter bgp 65002\naddress-family ipv4 unicast\n"
                      "no network 203.0.113.0/24\nnetwork 192.0.2.0/24")
            lab.wait_for(lambda: metric(vn, "vigil_dp_fpm_connections_total") > connections,
                         timeout=30, what="zebra started again by vigild and connected")
            lab.wait_for(lambda: "192.0.2.0/24" in bgp_routes(vn), timeout=30,
                         what="a route learnt after zebra's restart")
            lab.wait_for(lambda: "203.0.113.0/24" not in bgp_routes(vn), timeout=30,
                         what="the stale route swept after the replay")
            lab.wait_for(lambda: (metric(vn, "vigil_dp_fpm_swept_total") or 0) > swept,
                         timeout=5, what="vigil_dp_fpm_swept_total counting the sweep")
            restarted = {p["name"]: p for p in vn.call("vigild", "show.processes")}
            assert restarted["frr-zebra"]["restarts"] >= 1, restarted
        finally:
            far.stop()
            vn.stop()
            shutil.rmtree(frr_dir, ignore_errors=True)


BIRD_FAR = """router id 198.18.20.1;
protocol device {}
protocol bfd {
  interface "*" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };
}
protocol static { ipv4; route 203.0.113.0/24 blackhole; }
protocol bgp edge {
  local 198.18.20.1 as 65003;
  neighbor 198.18.20.2 as 65001;
  bfd on;
  hold time 30;
  connect retry time 1;
  error wait time 1, 5;  # BIRD waits 60 s after a refused connection otherwise
  ipv4 { import all; export all; };
}
"""

BIRD_EDGE_ROUTING = """routing:
  bgp:
    asn: 65001
    router_id: 10.20.1.1
    policies: {all: {rules: [{}]}}
    neighbors:
      - address: 198.18.20.1
        remote_as: 65003
        timers: {keepalive: 10, hold: 30, connect: 1}
        bfd: {detect_multiplier: 3, receive_interval_ms: 100, transmit_interval_ms: 100}
        import_policy: all
        export_policy: all
"""
L7_SECTION = """l7:
  listeners:
    web: {address: "198.51.100.80:8080"}
  upstreams:
    app: {targets: [{address: "10.20.1.10:80"}]}
  routes:
    all: {upstream: app}
"""
VIP_SECTION = """l4:
  encap: {source4: 172.16.0.0/24, gateway_mac: "02:00:00:00:00:01"}
  vips:
    web: {address: 198.51.100.10, port: 80, backends: [{address: 10.20.1.10}]}
"""


def bird_edge_config(with_vip: bool) -> str:
    routing = BIRD_EDGE_ROUTING.replace("    policies:", "    announce_l7_listeners: true\n"
                                        "    policies:")
    config = ROUTED_EDGE_CONFIG.replace(STATIC_ROUTES, routing)
    return config + L7_SECTION + (VIP_SECTION if with_vip else "")


@pytest.mark.skipif(not bird_available(), reason="BIRD 2 not installed")
def test_bird_peer_vip_announced_and_bfd_takes_the_session_down(binaries):
    """BIRD 2 as the external router: routes both ways, the L4 VIP announced while it is
    configured (withdrawn when a commit removes it), the L7 listener's address announced while
    vigil-l7 answers (withdrawn when it is killed, announced again when it is back), and BFD
    (BIRD's and FRR's bfdd) taking the session down within a second of the link going silent,
    long before the 30 s hold time."""
    frr_dir = Path(tempfile.mkdtemp(prefix="vigil-frr-"))
    frr_dir.chmod(0o755)
    with Lab(routed()) as lab:
        bird = BirdNode(lab, "far", BIRD_FAR)
        lab.run("edge", ["ip", "addr", "add", "198.51.100.80/32", "dev", "lo"])  # the listener's
        vn = start_routing(lab, {"edge": bird_edge_config(with_vip=True)},
                           daemons=("vigild", "vigil-dp", "vigil-l7"),
                           vigild_args=("--frr", str(frr_dir / "run")))["edge"]
        try:
            lab.wait_for(lambda: "203.0.113.0/24" in bgp_routes(vn), timeout=60,
                         what="BIRD's 203.0.113.0/24 in vigil-dp's FIB")
            lab.wait_for(lambda: "198.51.100.10/32" in bird.birdc("show route 198.51.100.10/32"),
                         timeout=20, what="the VIP announced to BIRD")
            assert "65001" in bird.birdc("show route 198.51.100.10/32 all")
            lab.wait_for(lambda: neighbor(vn).get("bfd") == "Up", timeout=15,
                         what="the session's BFD up")
            assert neighbor(vn)["state"] == "Established"

            # The VIP taken out of the config: withdrawn.
            vn.commit_text(bird_edge_config(with_vip=False), "no VIP")
            lab.wait_for(lambda: "198.51.100.10" not in bird.birdc("show route 198.51.100.10/32"),
                         timeout=20, what="the VIP withdrawn from BIRD")

            # vigil-l7 killed: its listener's address is withdrawn; back, announced again.
            def listener_announced() -> bool:
                return "198.51.100.80/32" in bird.birdc("show route 198.51.100.80/32")
            lab.wait_for(listener_announced, timeout=20, what="the L7 listener announced")
            vn.kill("vigil-l7")
            lab.wait_for(lambda: not listener_announced(), timeout=10,
                         what="the L7 listener withdrawn with vigil-l7 down")
            vn.start("vigil-l7")
            lab.wait_for(listener_announced, timeout=10, what="the L7 listener announced again")

            # The link goes silent (everything from the far end dropped): BFD, not the hold
            # time, takes the session down, and BIRD's route leaves the FIB with it.
            lab.impair("far", "eth0", Netem(loss_pct=100))
            lab.wait_for(lambda: neighbor(vn).get("state") != "Established", timeout=5,
                         what="the session down by BFD (hold time 30 s)")
            assert neighbor(vn).get("bfd") == "Down", neighbor(vn)
            lab.wait_for(lambda: "203.0.113.0/24" not in bgp_routes(vn), timeout=10,
                         what="BIRD's route withdrawn from the FIB")
        finally:
            bird.stop()
            vn.stop()
            shutil.rmtree(frr_dir, ignore_errors=True)


def test_vigild_restarted_adopts_frr_and_restarts_what_depends_on_a_new_zebra(binaries):
    """vigild killed finds FRR's daemons again by their pid files' locks; when zebra died
    meanwhile it starts a new one and starts again the adopted daemons that fed the old one."""
    frr_dir = Path(tempfile.mkdtemp(prefix="vigil-frr-"))
    frr_dir.chmod(0o755)
    run = frr_dir / "run"
    daemons = ("zebra", "bgpd", "bfdd", "staticd")

    def pids() -> dict[str, int]:
        return {d: int((run / f"{d}.pid").read_text()) for d in daemons}

    with Lab(routed()) as lab:
        config = ROUTED_EDGE_CONFIG.replace(STATIC_ROUTES, BIRD_EDGE_ROUTING)
        vn = start_routing(lab, {"edge": config}, daemons=("vigild", "vigil-dp"),
                           vigild_args=("--frr", str(run)))["edge"]
        try:
            lab.wait_for(lambda: all((run / f"{d}.pid").exists() for d in daemons),
                         timeout=10, what="FRR's daemons running")
            before = pids()
            vn.restart("vigild")  # kill -9 and start again: everything adopted
            assert pids() == before
            vn.kill("vigild")
            os.kill(before["zebra"], signal.SIGKILL)
            vn.start("vigild")
            lab.wait_for(lambda: all(pids()[d] != before[d] for d in daemons), timeout=15,
                         what="a new zebra, and the daemons that depend on it started again")
            running = {p["name"]: p for p in vn.call("vigild", "show.processes")}
            assert all(running[f"frr-{d}"]["state"] == "running" for d in daemons), running
        finally:
            vn.stop()
            shutil.rmtree(frr_dir, ignore_errors=True)
