"""The edge box's config for the `routed` topology with vigil-dp forwarding over AF_XDP, and
how to tell it is forwarding: shared by the lab test and the throughput benchmark."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from . import rpc
from .daemons import DAEMONS, start_vigil

ROUTED_EDGE_CONFIG = """system: {hostname: edge}
interfaces:
  lan0: {role: lan, xdp: true, addresses: [10.20.1.1/24, "fd00:20:1::1/64"]}
  wan1: {role: wan, xdp: true, addresses: [198.18.20.2/30, "2001:db8:20::2/64"]}
routing:
  static:
    - {prefix: 0.0.0.0/0, next_hops: [{via: 198.18.20.1}]}
    - {prefix: "::/0", next_hops: [{via: "2001:db8:20::1"}]}
dataplane: {forwarding: true, mode: af_xdp, lcores: [1], memory_mb: 512, mbufs: 4095,
            max_routes_ipv4: 4096, max_routes_ipv6: 4096}
"""


# Addresses on the far host's loopback in the `routed` topology, beyond wan1's subnet: the edge
# reaches them only through its default routes, so traffic to them needs a routing table (the
# fast path's, or the kernel's copy of it), not only the connected subnet.
BEYOND_FAR = ("203.0.113.1", "2001:db8:99::1")


def add_beyond_far(lab) -> None:
    lab.run("far", ["ip", "addr", "add", f"{BEYOND_FAR[0]}/32", "dev", "lo"])
    lab.run("far", ["ip", "addr", "add", f"{BEYOND_FAR[1]}/128", "dev", "lo"])


def edge_config(**dataplane_extra: str) -> str:
    """ROUTED_EDGE_CONFIG with more keys in its dataplane section (YAML values as text)."""
    extra = "".join(f", {k}: {v}" for k, v in dataplane_extra.items())
    return ROUTED_EDGE_CONFIG.replace("max_routes_ipv6: 4096}", f"max_routes_ipv6: 4096{extra}}}")


def dataplane(vn) -> dict:
    return vn.call("vigil-dp", "dataplane.show")


def forwarding(vn) -> bool:
    """Whether vigil-dp answers and its fast path runs."""
    try:
        return dataplane(vn)["forwarding"]
    except (OSError, rpc.RpcError):
        return False


def wg_keypair() -> tuple[str, str]:
    """(private, public) in base64, as `wg genkey | wg pubkey` makes them."""
    private = subprocess.run(["wg", "genkey"], capture_output=True, text=True,
                             check=True).stdout.strip()
    public = subprocess.run(["wg", "pubkey"], input=private, capture_output=True, text=True,
                            check=True).stdout.strip()
    return private, public


def make_mesh_keys(directory: Path, sites) -> dict[int, tuple[Path, str]]:
    """A WireGuard key pair per site: site -> (the private key's file, mode 0600, in
    `directory`; the public key)."""
    keys = {}
    for n in sites:
        private, public = wg_keypair()
        path = Path(directory) / f"s{n}-mesh.key"
        path.write_text(private + "\n")
        path.chmod(0o600)
        keys[n] = (path, public)
    return keys


def make_mesh_identities(directory: Path, sites) -> dict[int, tuple[Path, str]]:
    """A mesh identity per site (an Ed25519 key, as vigild makes one): site -> (the key's PEM
    file, mode 0600, in `directory`; its public key in base64, as members name it)."""
    identities = {}
    for n in sites:
        path = Path(directory) / f"s{n}-identity.key"
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(path)],
                       check=True, capture_output=True)
        path.chmod(0o600)
        der = subprocess.run(["openssl", "pkey", "-in", str(path), "-pubout", "-outform", "DER"],
                             check=True, capture_output=True).stdout
        identities[n] = (path, base64.b64encode(der[-32:]).decode())
    return identities


def mesh_section(n: int, keys: dict[int, tuple[Path, str]],
                 identities: dict[int, tuple[Path, str]] | None = None,
                 peers=None) -> str:
    """Site N's mesh: every other site of `keys` (or of `peers`) a WireGuard peer, reached at
    either of its WAN addresses (wan1 first), its networks behind it, the tunnel kept up by
    keepalives. With `identities`, the sites are members of one mesh (named sN, each knowing
    the others' identities): a site may then admit new ones with tokens."""
    text = f"mesh:\n  private_key_file: {keys[n][0]}\n"
    if identities:
        text += (f"  site: s{n}\n  identity_key_file: {identities[n][0]}\n"
                 f"  networks: [10.{n}.0.0/16, \"fd00:{n}::/32\"]\n"
                 f"  advertise: [\"198.18.{n}.2:51820\", \"198.18.{n}.6:51820\"]\n")
    text += "  peers:\n"
    for m, (_, public) in sorted(keys.items()):
        if m != n and (peers is None or m in peers):
            text += (f"    s{m}:\n      public_key: \"{public}\"\n"
                     f"      endpoints: [\"198.18.{m}.2:51820\", \"198.18.{m}.6:51820\"]\n"
                     f"      allowed_ips: [10.{m}.0.0/16, \"fd00:{m}::/32\"]\n"
                     f"      persistent_keepalive: 25\n")
            if identities:
                text += f"      identity: \"{identities[m][1]}\"\n"
    return text


def joining_mesh_section(n: int, keys: dict[int, tuple[Path, str]], key_dir: Path,
                         named: bool = False) -> str:
    """Site N's mesh section before it joins a mesh with a token: where its keys go, its
    networks and endpoints; its name only when it starts a mesh (`named`): a joining box
    gets its name from its token."""
    return (f"mesh:\n"
            + (f"  site: s{n}\n" if named else "")
            + f"  private_key_file: {keys[n][0]}\n"
            f"  identity_key_file: {key_dir}/s{n}-identity.key\n"
            f"  networks: [10.{n}.0.0/16, \"fd00:{n}::/32\"]\n"
            f"  advertise: [\"198.18.{n}.2:51820\", \"198.18.{n}.6:51820\"]\n")


def tunnels_only(lab, sites) -> None:
    """The internet node forgets the sites' networks: from now on sites reach each other only
    through their tunnels (the internet carries WireGuard between WAN addresses)."""
    for n in sites:
        for prefix in (f"10.{n}.0.0/16", f"fd00:{n}::/32"):
            lab.run("internet", ["ip", "route", "flush", prefix])


def site_edge_config(n: int, hostname: str | None = None, acl: str = "",
                     mesh: str = "") -> str:
    """Site N's edge box of the sites topologies with vigil-dp routing: the LAN and both WAN
    links are fast-path ports over AF_XDP, the default route leaves by wan1 and falls back to
    wan2 (a higher distance) when wan1's link is down. The forwarding lcores sleep while idle
    (rx_mode: adaptive): one lab runs several vigil-dp on two CPUs. `acl` is YAML for the
    filter section's acl list, if any; `mesh` a mesh section (mesh_section()), if any."""
    filter_section = f"filter:\n  acl:\n{acl}" if acl else ""
    return (f"system: {{hostname: {hostname or f'edge{n}'}}}\n"
            f"interfaces:\n"
            f"  lan0: {{role: lan, xdp: true, addresses: [10.{n}.1.1/24, \"fd00:{n}:1::1/64\"]}}\n"
            f"  wan1: {{role: wan, xdp: true, addresses: [198.18.{n}.2/30, "
            f"\"2001:db8:{n}:1::2/64\"]}}\n"
            f"  wan2: {{role: wan, xdp: true, addresses: [198.18.{n}.6/30, "
            f"\"2001:db8:{n}:2::2/64\"]}}\n"
            f"routing:\n  static:\n"
            f"    - {{prefix: 0.0.0.0/0, next_hops: [{{via: 198.18.{n}.1}}], distance: 1}}\n"
            f"    - {{prefix: 0.0.0.0/0, next_hops: [{{via: 198.18.{n}.5}}], distance: 2}}\n"
            f"    - {{prefix: \"::/0\", next_hops: [{{via: \"2001:db8:{n}:1::1\"}}], "
            f"distance: 1}}\n"
            f"    - {{prefix: \"::/0\", next_hops: [{{via: \"2001:db8:{n}:2::1\"}}], "
            f"distance: 2}}\n"
            f"{filter_section}"
            f"dataplane: {{forwarding: true, mode: af_xdp, rx_mode: adaptive, lcores: [1],\n"
            f"            memory_mb: 512, mbufs: 4095, max_routes_ipv4: 4096,\n"
            f"            max_routes_ipv6: 4096}}\n"
            f"{mesh}")


def edge_configs(topology: str) -> dict[str, str]:
    """The Vigil configs of a named topology's edge boxes (node -> config text), as the demo
    and the tests run them; {} for a topology whose Vigil a test sets up itself (l4_lb)."""
    if topology in ("two_sites", "three_sites"):
        sites = 2 if topology == "two_sites" else 3
        return {f"s{n}-edge": site_edge_config(n) for n in range(1, sites + 1)}
    if topology in ("routed", "routed_pair"):
        return {"edge": ROUTED_EDGE_CONFIG}
    return {}


def start_routing(lab, configs: dict[str, str], daemons=tuple(DAEMONS),
                  env: dict[str, str] | None = None, l7_user: str | None = None,
                  vigild_args: tuple[str, ...] = (),
                  vigild_args_for: dict[str, tuple[str, ...]] | None = None) -> dict:
    """Starts Vigil on each node of `configs` (node -> config text) with its kernel's
    forwarding off, so whatever crosses the node while vigil-dp runs, vigil-dp carried (with
    dataplane.kernel_fallback, vigil-dp turns the kernel's forwarding on for its ports, but
    the classifier hands the kernel transit only while vigil-dp is away); returns the
    VigilNodes once every fast path forwards."""
    nodes = {}
    for node, config in configs.items():
        lab.sysctl(node, {"net.ipv4.ip_forward": "0", "net.ipv6.conf.all.forwarding": "0"})
        extra = (vigild_args_for or {}).get(node, ())
        nodes[node] = start_vigil(lab, node, config, daemons=daemons, env=env, l7_user=l7_user,
                                  vigild_args=vigild_args + extra)
    for node, vn in nodes.items():
        lab.wait_for(lambda vn=vn: forwarding(vn), timeout=30,
                     what=f"{node}'s fast path forwarding")
    return nodes


def hosts_checksum_in_software(lab, nodes) -> None:
    """veth leaves TCP/UDP checksums to be done by "hardware" that never comes when a frame
    crosses AF_XDP (copied out as bytes, the mark is lost): make the end hosts compute them,
    as every frame on a real wire has them."""
    for node in nodes:
        lab.run(node, ["ethtool", "-K", "eth0", "tx", "off"])


def hosts_take_redirected_frames(lab, nodes) -> None:
    """A veth can only carry frames an XDP program redirects into it when its peer runs
    NAPI, which GRO (or an XDP program) on the peer turns on; the kernel says so in the
    veth's XDP features, and vigil-dp offloads flows only to ports where it does. A NIC's
    driver needs no such help."""
    for node in nodes:
        lab.run(node, ["ethtool", "-K", "eth0", "gro", "on"])


def site_hosts(sites) -> list[str]:
    return [f"s{n}-{h}" for n in sites for h in ("client", "backend")]


def default_route_port(vn, family: int = 4) -> str | None:
    """The port of the fast path's default route (its first next hop), or None."""
    prefix = "0.0.0.0/0" if family == 4 else "::/0"
    for r in dataplane(vn)["routes"]:
        if r["prefix"] == prefix and r["next_hops"]:
            return r["next_hops"][0]["port"]
    return None
