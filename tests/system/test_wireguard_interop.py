"""Vigil's WireGuard protocol library (sdwan/wireguard/) against wireguard-go, the reference
userspace implementation, before vigil-dp carries it: tests/interop/wg_probe runs a
wg::Device over a plain UDP socket in one namespace, wireguard-go runs a real tunnel
interface in another. The handshake completes with either side initiating and an ICMP echo
crosses the tunnel both ways; when wireguard-go moves to another port, our device follows it;
a preshared key must match on both sides; a key wireguard-go does not know gets no answer.
The probe's step-by-step mode records the transcript a unit test replays."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import needs_root

from vigil_lab.daemons import build_dir
from vigil_lab.fastpath import wg_keypair
from vigil_lab.lab import Lab
from vigil_lab.topology import Topology

pytestmark = needs_root

PEER_ADDR = "192.168.77.1"
PROBE_ADDR = "192.168.77.2"
WG_PORT = 51820
PROBE_PORT = 51821


def wg(*args: str, node: str, lab: Lab, stdin: str | None = None) -> str:
    return lab.run(node, ["wg", *args], input=stdin).stdout


class Interop:
    """wireguard-go on `peer` (tunnel 10.99.0.1/24), the probe's keys, and ways to run it."""

    def __init__(self, lab: Lab, tmp: Path):
        self.lab = lab
        self.tmp = tmp
        # wireguard-go's control socket is /var/run/wireguard/<ifname>.sock, shared by every
        # namespace: a name of this run's own.
        self.ifname = f"wgv{os.getpid() % 100000}"
        self.wg_private, self.wg_public = wg_keypair()
        self.probe_private, self.probe_public = wg_keypair()
        self.psk = subprocess.run(["wg", "genpsk"], capture_output=True, text=True,
                                  check=True).stdout.strip()
        self.proc = lab.spawn("peer", ["wireguard-go", "-f", self.ifname], name="wireguard-go",
                              env={"WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD": "1",
                                   "LOG_LEVEL": "verbose"})
        sock = Path(f"/var/run/wireguard/{self.ifname}.sock")
        lab.wait_for(sock.exists, timeout=10, what="wireguard-go's control socket")
        key_file = tmp / "wg.key"
        key_file.write_text(self.wg_private + "\n")
        key_file.chmod(0o600)
        lab.run("peer", ["wg", "set", self.ifname, "private-key", str(key_file),
                         "listen-port", str(WG_PORT)])
        lab.run("peer", ["ip", "addr", "add", "10.99.0.1/24", "dev", self.ifname])
        lab.run("peer", ["ip", "link", "set", self.ifname, "up"])
        self.set_peer(psk=False)

    def set_peer(self, psk: bool) -> None:
        """The probe as wireguard-go's peer, afresh: no session left from an earlier test."""
        self.lab.run("peer", ["wg", "set", self.ifname, "peer", self.probe_public, "remove"])
        args = ["wg", "set", self.ifname, "peer", self.probe_public, "allowed-ips",
                "10.99.0.2/32", "endpoint", f"{PROBE_ADDR}:{PROBE_PORT}"]
        psk_file = self.tmp / "psk"
        psk_file.write_text((self.psk if psk else "") + "\n")
        psk_file.chmod(0o600)
        args += ["preshared-key", str(psk_file)] if psk else ["preshared-key", "/dev/null"]
        self.lab.run("peer", args)

    def probe(self, mode: str, *, private: str | None = None, psk: bool = False,
              timeout: int = 8, record: Path | None = None, count: int = 1) -> subprocess.Popen:
        argv = [str(build_dir() / "tests/interop/wg_probe"), mode,
                "--private", private or self.probe_private, "--peer", self.wg_public,
                "--listen", str(PROBE_PORT), "--address", "10.99.0.2", "--remote", "10.99.0.1",
                "--timeout", str(timeout), "--count", str(count)]
        if psk:
            argv += ["--psk", self.psk]
        if mode != "respond":
            argv += ["--endpoint", f"{PEER_ADDR}:{WG_PORT}"]
        if record is not None:
            argv += ["--record", str(record)]
        return subprocess.Popen(["ip", "netns", "exec", self.lab.ns("probe"), *argv],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def dump(self) -> dict:
        """wg show dump's line for the probe's peer."""
        for line in self.lab.run("peer", ["wg", "show", self.ifname, "dump"]).stdout.splitlines():
            fields = line.split("\t")
            if fields[0] == self.probe_public:
                return {"latest_handshake": int(fields[4]), "rx": int(fields[5]),
                        "tx": int(fields[6])}
        raise AssertionError("no such peer in wg show dump")


def finished(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=30)
    assert out.strip(), err
    result = json.loads(out.strip().splitlines()[-1])
    result["exit"] = proc.returncode
    return result


@pytest.fixture(scope="module")
def interop(binaries, tmp_path_factory):
    topo = Topology("wg_interop")
    topo.add_node("peer")
    topo.add_node("probe")
    topo.link("peer", "eth0", "probe", "eth0", a_addrs=(f"{PEER_ADDR}/24",),
              b_addrs=(f"{PROBE_ADDR}/24",))
    with Lab(topo) as lab:
        yield Interop(lab, tmp_path_factory.mktemp("wg"))


def test_our_initiation_completes_with_wireguard_go_and_an_echo_crosses(interop):
    result = finished(interop.probe("initiate"))
    assert result["ok"] and result["exit"] == 0, result
    assert "handshake_done" in result["events"] and "echo_reply_received" in result["events"]
    seen = interop.dump()
    assert seen["latest_handshake"] > 0 and seen["rx"] > 0 and seen["tx"] > 0, seen


def test_the_step_by_step_handshake_records_a_transcript(interop, tmp_path):
    time.sleep(0.05)
    transcript = tmp_path / "transcript.json"
    result = finished(interop.probe("record", record=transcript))
    assert result["ok"], result
    recorded = json.loads(transcript.read_text())
    assert len(bytes.fromhex(recorded["initiation"])) == 148
    assert len(bytes.fromhex(recorded["response"])) == 92


def test_wireguard_go_initiates_and_we_answer(interop):
    interop.set_peer(psk=False)  # a fresh endpoint: wireguard-go initiates to the probe
    responder = interop.probe("respond", timeout=10)
    interop.lab.wait_for(lambda: f":{PROBE_PORT} " in interop.lab.run(
        "probe", ["ss", "-uln"]).stdout, timeout=5, what="the probe listening")
    ping = interop.lab.run("peer", ["ping", "-c", "1", "-W", "8", "10.99.0.2"], check=False,
                           timeout=20)
    result = finished(responder)
    assert result["ok"], result
    assert "initiation_taken" in result["events"] and "echo_reply_sent" in result["events"]
    assert ping.returncode == 0, ping.stdout + ping.stderr


def test_our_device_follows_wireguard_go_to_another_port(interop):
    interop.set_peer(psk=False)
    responder = interop.probe("respond", timeout=15, count=2)
    interop.lab.wait_for(lambda: f":{PROBE_PORT} " in interop.lab.run(
        "probe", ["ss", "-uln"]).stdout, timeout=5, what="the probe listening")
    first = interop.lab.run("peer", ["ping", "-c", "1", "-W", "5", "10.99.0.2"], check=False)
    assert first.returncode == 0, first.stdout
    # wireguard-go now sends from 51830: the echo reply must go there, not to 51820.
    interop.lab.run("peer", ["wg", "set", interop.ifname, "listen-port", str(WG_PORT + 10)])
    second = interop.lab.run("peer", ["ping", "-c", "1", "-W", "5", "10.99.0.2"],
                             check=False, timeout=15)
    result = finished(responder)
    interop.lab.run("peer", ["wg", "set", interop.ifname, "listen-port", str(WG_PORT)])
    assert second.returncode == 0, (second.stdout, result)
    assert result["ok"] and result["events"].count("echo_reply_sent") == 2, result


def test_a_preshared_key_must_match(interop):
    interop.set_peer(psk=True)
    try:
        result = finished(interop.probe("initiate", psk=True))
        assert result["ok"], result
        # TAI64N timestamps are whitened to 2^24 ns: an initiation within the same 16.8 ms
        # as the last carries the same timestamp, which wireguard-go refuses as a replay.
        time.sleep(0.05)
        mismatch = finished(interop.probe("initiate", psk=False, timeout=4))
        assert not mismatch["ok"] and mismatch["error"] == "the response does not decrypt", \
            (mismatch, interop.proc.log())
    finally:
        interop.set_peer(psk=False)


def test_a_key_wireguard_go_does_not_know_gets_no_answer(interop):
    stranger, _ = wg_keypair()
    time.sleep(0.05)
    refused_before = interop.proc.log().count("Received invalid initiation message")
    result = finished(interop.probe("initiate", private=stranger, timeout=3))
    assert not result["ok"] and result["error"] == "no answer to the initiation", result
    # wireguard-go got it and refused it (not lost on the way), and still answers its peer.
    interop.lab.wait_for(lambda: interop.proc.log().count(
        "Received invalid initiation message") > refused_before, timeout=5,
        what="wireguard-go refusing the stranger's initiation")
    time.sleep(0.05)
    assert finished(interop.probe("initiate"))["ok"]
