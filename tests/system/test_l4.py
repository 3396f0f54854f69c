"""The XDP classifier as an L4 load balancer, in a lab: real TCP from a client to a VIP through
vigil-dp's classifier on a veth, two backends that decapsulate and answer directly. Changing
the backend set moves new flows and keeps established ones where they are; vigil-dp can die
and come back without the VIP going down."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import BUILD, needs_root
from vigil_lab.daemons import start_vigil
from vigil_lab.lab import Lab
from vigil_lab.topologies import l4_lb

pytestmark = needs_root

DECAP = BUILD / "ebpf" / "decap.bpf.o"
CLIENT = str(Path(__file__).with_name("l4_client.py"))


def lb_config(gateway_mac: str, backends: list[str]) -> str:
    listed = "".join(f"\n        - {{address: {b}}}" for b in backends)
    return f"""system: {{hostname: lb}}
interfaces:
  lan0: {{role: lan, xdp: true, addresses: [10.10.0.1/24]}}
filter:
  acl:
    - {{name: deny-doc, source: 192.0.2.0/24, action: deny}}
l4:
  encap: {{source4: 172.16.0.0/24, gateway_mac: "{gateway_mac}"}}
  vips:
    web:
      address: 10.100.0.1
      port: 80
      backends:{listed}
"""


def mac_of(lab: Lab, node: str, ifname: str) -> str:
    out = lab.run(node, ["ip", "-j", "link", "show", "dev", ifname]).stdout
    return json.loads(out)[0]["address"]


class Client:
    def __init__(self, lab: Lab):
        self.proc = subprocess.Popen(["ip", "netns", "exec", lab.ns("client"), "python3", CLIENT],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, op: str, **kw):
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=5)


def setup_backends(lab: Lab) -> None:
    lab.allow_xdp_tx("lb", "lan0")
    # On a wire every frame carries a full TCP checksum. Between veths the kernel skips it
    # (checksum offload), and a frame the classifier re-sends with XDP_TX has lost the
    # "checksum still to do" mark: the backend would drop it. Make the client compute them.
    lab.run("client", ["ethtool", "-K", "eth0", "tx", "off"])
    for be in ("be1", "be2"):
        lab.run(be, ["ip", "addr", "add", "10.100.0.1/32", "dev", "lo"])
        lab.run(be, ["ip", "link", "set", "dev", "eth0", "xdp", "object", str(DECAP),
                     "program", "vigil_decap"])
        lab.spawn(be, ["socat", "TCP-LISTEN:80,bind=10.100.0.1,fork,reuseaddr",
                       f"SYSTEM:sed -u s/^/{be}+/"], name="echo")
    for be in ("be1", "be2"):
        lab.wait_for(lambda be=be: "10.100.0.1:80" in lab.run(be, ["ss", "-ltn"]).stdout,
                     timeout=5, what=f"{be} listening")


def classifier(vn) -> dict:
    shown = vn.call("vigild", "show.classifier")
    assert len(shown) == 1, shown
    return shown[0]


def test_vip_balances_keeps_established_flows_and_survives_a_restart(binaries):
    with Lab(l4_lb()) as lab:
        setup_backends(lab)
        gw_mac = mac_of(lab, "gw", "eth0")
        vn = start_vigil(lab, "lb", lb_config(gw_mac, ["10.10.0.11", "10.10.0.12"]),
                         daemons=("vigild", "vigil-dp"))
        lab.wait_for(lambda: vn.call("vigild", "show.classifier"), timeout=10,
                     what="vigil-dp attaching the classifier")
        port = classifier(vn)
        assert port["device"] == "lan0" and port["mode"] == "native", port

        client = Client(lab)
        try:
            counts = client.ask("short", count=60)
            assert set(counts) == {"be1", "be2"}, counts  # no errors, both used
            assert min(counts.values()) >= 10, counts
            long_lived = client.ask("open", count=12)
            assert set(long_lived) == {"be1", "be2"}, long_lived
            shown = classifier(vn)
            tx = shown["verdicts"]["tx_vip_encapsulated"]["packets"]
            assert tx >= 60 * 3, tx  # SYN, data, ACKs, FIN of every flow went through XDP
            # The config has an ACL: each flow's packets after its SYN took the rule their
            # connection remembered instead of the trie lookups.
            assert shown["events"]["vip_policy_from_connection"] >= 60, shown["events"]
            # Every frame handed to XDP_TX was sent: nothing counted as failed.
            assert shown["transmit_errors_unavailable"] == "", shown
            assert shown["transmit_errors"] == {
                "tx_failed": 0, "redirect_failed": 0, "aborted": 0}, shown

            # Take be1 out: new flows all go to be2; be2's established flows stay there.
            (vn.run_dir / "lb2.yaml").write_text(lb_config(gw_mac, ["10.10.0.12"]))
            assert vn.cli("load", "replace", str(vn.run_dir / "lb2.yaml")).returncode == 0
            commit = vn.cli("commit", "-m", "drain be1")
            assert commit.returncode == 0, commit.stderr
            assert client.ask("short", count=30) == {"be2": 30}
            before_again = classifier(vn)["events"]
            again = client.ask("again")
            for before, now in zip(long_lived, again):
                if before == "be2":
                    assert now == "be2", (long_lived, again)
                else:
                    assert now != "be1", (long_lived, again)  # moved: be2 resets it
            # A moved flow's connection was stale, or (each CPU has its own connection table,
            # and on veth a flow is received on whichever CPU its sender runs) missing.
            events = classifier(vn)["events"]
            looked_again = sum(events[e] - before_again[e]
                               for e in ("vip_connection_stale", "vip_connection_miss"))
            assert looked_again >= long_lived.count("be1"), (before_again, events)

            # vigil-dp crashes: the pinned program keeps balancing; it adopts the maps again.
            vn.restart("vigil-dp")
            assert client.ask("short", count=10) == {"be2": 10}
            lab.wait_for(lambda: vn.call("vigild", "show.classifier"), timeout=10,
                         what="vigil-dp re-adopting")
            port = classifier(vn)
            assert port["adopted"] is True, port
            assert port["verdicts"]["tx_vip_encapsulated"]["packets"] > tx, port
        finally:
            client.close()

        # The device stops taking XDP_TX frames (veth without NAPI on its peer, as a full ring
        # would): the verdict still counts each SYN handed on, and the failure is counted too.
        lab.forbid_xdp_tx("lb", "lan0")
        before = classifier(vn)
        lab.run("client", ["/usr/bin/python3", "-c", (
            "import socket\n"
            "for _ in range(10):\n"
            "    s = socket.socket()\n"
            "    s.settimeout(0.2)\n"
            "    try:\n"
            "        s.connect(('10.100.0.1', 80))\n"
            "    except OSError:\n"
            "        pass\n"
            "    s.close()\n")], timeout=30)
        after = classifier(vn)
        handed = (after["verdicts"]["tx_vip_encapsulated"]["packets"]
                  - before["verdicts"]["tx_vip_encapsulated"]["packets"])
        failed = after["transmit_errors"]["tx_failed"] - before["transmit_errors"]["tx_failed"]
        assert handed >= 10 and failed == handed, (before, after)
        shown = vn.cli("show", "classifier")
        assert "tx_vip_encapsulated" in shown.stdout, shown.stdout
        assert f"tx_failed {failed}" in shown.stdout, shown.stdout
        print(shown.stdout)


def test_a_datagram_to_a_vip_in_fragments_reaches_one_backend_whole(binaries):
    """A 3,000-byte UDP datagram to a VIP leaves the client in three fragments; only the first
    has ports. The classifier sends every fragment to the first one's backend (it remembers
    the datagram's ports by its identification), the backend reassembles it and answers. The
    backend network carries the encapsulated fragments: its MTU, and l4.encap.mtu, are 1600."""
    with Lab(l4_lb()) as lab:
        lab.allow_xdp_tx("lb", "lan0")
        for node, ifname in (("lb", "lan0"), ("gw", "eth0"), ("be1", "eth0"), ("be2", "eth0"),
                             ("sw", "p-lb"), ("sw", "p-gw"), ("sw", "p-be1"), ("sw", "p-be2")):
            lab.run(node, ["ip", "link", "set", "dev", ifname, "mtu", "1600"])
        for be in ("be1", "be2"):
            lab.run(be, ["ip", "addr", "add", "10.100.0.1/32", "dev", "lo"])
            lab.run(be, ["ip", "link", "set", "dev", "eth0", "xdp", "object", str(DECAP),
                         "program", "vigil_decap"])
            lab.spawn(be, ["socat", "UDP-RECVFROM:53,bind=10.100.0.1,fork", "SYSTEM:cat"],
                      name="udp-echo")
        gw_mac = mac_of(lab, "gw", "eth0")
        config = lb_config(gw_mac, ["10.10.0.11", "10.10.0.12"]).replace(
            "port: 80", "port: 53\n      protocol: udp").replace(
            "gateway_mac: \"", "mtu: 1600, gateway_mac: \"")
        vn = start_vigil(lab, "lb", config, daemons=("vigild", "vigil-dp"))
        lab.wait_for(lambda: vn.call("vigild", "show.classifier"), timeout=10,
                     what="vigil-dp attaching the classifier")
        echoed = lab.run("client", ["/usr/bin/python3", "-c", (
            "import socket\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "s.settimeout(3)\n"
            "got = []\n"
            "for i in range(5):\n"
            "    s.sendto(bytes([i]) * 3000, ('10.100.0.1', 53))\n"
            "    try:\n"
            "        got.append(len(s.recv(65535)))\n"
            "    except socket.timeout:\n"
            "        got.append(0)\n"
            "print(got)\n")], timeout=30).stdout.strip()
        assert echoed == "[3000, 3000, 3000, 3000, 3000]", echoed
        shown = classifier(vn)
        assert shown["events"]["vip_fragment_matched"] >= 10, shown["events"]
