"""vigil-dp as a router, compared case by case with a plain Linux router on the same topology
(vigil_lab.conformance): the same crafted frames through both, the same frames out on the far
side and the same ICMP errors back, or a documented reason for the difference."""

from __future__ import annotations

import pytest

from conftest import needs_root
from vigil_lab import conformance
from vigil_lab.fastpath import dataplane as fastpath_dataplane
from vigil_lab.fastpath import edge_config, hosts_checksum_in_software, start_routing
from vigil_lab.lab import Lab
from vigil_lab.topologies import routed_pair

pytestmark = needs_root

# Where Vigil deliberately differs from Linux, and why. A case listed here must still differ
# (the test says so when it stops), so the list cannot outlive the reasons. The ranges Linux
# has forwarded since its "unicast extensions" (5.x) are not forwardable in RFC 6890's
# registries; an interface that uses them says so (allow_martians, tested below).
_RFC6890 = ("RFC 6890: not forwardable; Linux forwards it since 5.x; "
            "interfaces.<name>.allow_martians lets it in")
DIFFERENCES: dict[str, str] = {
    "v4 source 0.0.0.7": _RFC6890,
    "v4 destination 0.0.0.7": _RFC6890,
    "v4 source 240.0.0.9": _RFC6890,
    "v4 destination 240.0.0.9": _RFC6890,
    "v4 source 169.254.3.4": "RFC 3927 2.7: a router must not forward link-local; " + _RFC6890,
    "v4 destination 169.254.3.4": "RFC 3927 2.7: a router must not forward link-local; " +
    _RFC6890,
    "v6 source ::ffff:10.20.1.10": "RFC 4291 2.5.5.2 / RFC 6890: IPv4-mapped addresses never "
    "appear on the wire; Linux forwards them; allow_martians: [ipv4_mapped] lets them in",
    "v6 destination ::ffff:198.18.20.1": "as the IPv4-mapped source",
    "v6 destination ::": "RFC 4291 2.5.2: the unspecified address is never a destination; "
    "Linux routes it",
    "v6 source fd00:20:1::1": "the box's own address as a source is spoofed: Linux refuses it "
    "for IPv4 (martian source) but not for IPv6; Vigil refuses both",
    "v6 source 2001:db8:20::2": "as the other own-address source",
}

# The cases an interface's allow_martians lets through, and the ranges that do it.
ALLOWED = ("v4 source 0.0.0.7", "v4 destination 0.0.0.7", "v4 source 240.0.0.9",
           "v4 destination 240.0.0.9", "v4 source 169.254.3.4", "v4 destination 169.254.3.4",
           "v6 source ::ffff:10.20.1.10", "v6 destination ::ffff:198.18.20.1")


@pytest.fixture(scope="module")
def pair(binaries):
    cases = conformance.cases()
    with Lab(routed_pair()) as lab:
        for prefix in conformance.SIDES.values():
            conformance.prepare_side(lab, prefix, cases)
        hosts_checksum_in_software(lab, ("host", "far", "lx-host", "lx-far"))
        # Without the kernel fallback: every decision about a transit frame is vigil-dp's
        # (or the classifier's), none the edge kernel's.
        vn = start_routing(lab, {"edge": edge_config(kernel_fallback="false")},
                           daemons=("vigild", "vigil-dp"))["edge"]
        for prefix in conformance.SIDES.values():
            lab.wait_for(lambda p=prefix: lab.ping(p + "host", conformance.FAR4,
                                                   count=1)["received"],
                         timeout=15, what=f"{prefix or 'vigil '}edge forwarding")
            lab.wait_for(lambda p=prefix: lab.ping(p + "host", conformance.FAR6,
                                                   count=1)["received"],
                         timeout=15, what=f"{prefix or 'vigil '}edge forwarding IPv6")
        yield lab, vn, cases


def test_vigil_forwards_like_linux_case_by_case(pair):
    lab, _, cases = pair
    outcomes = conformance.run_cases(lab, cases)
    diff = conformance.differences(outcomes["vigil"], outcomes["linux"])
    for c in cases:  # the whole table, shown when the test fails
        print(f"{c.name}: vigil {outcomes['vigil'][c.name].summary()} | linux "
              f"{outcomes['linux'][c.name].summary()}")
    unexplained = {k: v for k, v in diff.items() if k not in DIFFERENCES}
    stale = [k for k in DIFFERENCES if k not in diff]
    report = "\n".join(f"{k}: {v}" for k, v in unexplained.items())
    assert not unexplained, f"{len(unexplained)} of {len(cases)} cases differ:\n{report}"
    assert not stale, f"listed as different but now the same: {stale}"


# Where fragmenting differs, and why.
MTU_DIFFERENCES: dict[str, str] = {
    "v4 1500 bytes with options without DF: fragmented": "RFC 791 3.2: fragments after the "
    "first carry only the options with the copied flag; Linux overwrites the others with NOPs "
    "and keeps the header's length, vigil-dp (DPDK's fragmenter) leaves them out, 8 bytes "
    "shorter. Both reassemble alike: far answers both the same",
}


def test_a_datagram_over_the_egress_mtu_is_fragmented_or_refused_as_linux_does(pair):
    lab, vn, _ = pair
    mtu = conformance.EGRESS_MTU
    config = edge_config(kernel_fallback="false").replace(
        "wan1: {role: wan, xdp: true,", f"wan1: {{role: wan, xdp: true, mtu: {mtu},")
    assert f"mtu: {mtu}" in config
    vn.commit_text(config, "a smaller MTU toward far")
    lab.run("lx-edge", ["ip", "link", "set", "dev", "wan1", "mtu", str(mtu)])
    try:
        lab.wait_for(lambda: lab.ping("host", conformance.FAR4, count=1)["received"],
                     timeout=15, what="the vigil edge forwarding with the new MTU")
        cases = conformance.mtu_cases()
        for prefix in conformance.SIDES.values():
            conformance.add_host_addresses(lab, prefix, cases)
        conformance.warm_up(lab)
        outcomes = conformance.run_cases(lab, cases)
        for c in cases:
            print(f"{c.name}: vigil {outcomes['vigil'][c.name].summary()} | linux "
                  f"{outcomes['linux'][c.name].summary()}")
        diff = conformance.differences(outcomes["vigil"], outcomes["linux"])
        unexplained = {k: v for k, v in diff.items() if k not in MTU_DIFFERENCES}
        assert not unexplained, "\n".join(f"{k}: {v}" for k, v in unexplained.items())
        for name in MTU_DIFFERENCES:
            assert name in diff, f"listed as different but now the same: {name}"
            vigil, linux = outcomes["vigil"][name], outcomes["linux"][name]
            assert vigil.errors == linux.errors and len(vigil.forwarded) == len(linux.forwarded)
        fragmented = outcomes["vigil"]["v4 1500 bytes without DF: fragmented"].forwarded
        assert len(fragmented) == 2 and all(len(f) <= 14 + mtu for f in fragmented), fragmented
        too_big = outcomes["vigil"]["v6 1500 bytes: packet too big"].errors
        assert too_big == [(conformance.EDGE_LAN6, 2, 0, mtu)], too_big
        shown = fastpath_dataplane(vn)
        assert shown["ipv4_fragmented"] >= 4, shown
    finally:
        lab.run("lx-edge", ["ip", "link", "set", "dev", "wan1", "mtu", "1500"])
        vn.commit_text(edge_config(kernel_fallback="false"), "the MTU back to 1500")


def test_an_interface_forwards_the_martian_ranges_it_allows_as_linux_does(pair):
    lab, vn, cases = pair
    allowed = "[this_network, reserved, link_local, ipv4_mapped]"
    config = edge_config(kernel_fallback="false").replace(
        "lan0: {role: lan, xdp: true,", f"lan0: {{role: lan, xdp: true, allow_martians: {allowed},")
    assert allowed in config
    vn.commit_text(config, "allow the martian ranges this LAN uses")
    try:
        subset = [c for c in cases if c.name in ALLOWED]
        conformance.warm_up(lab)
        outcomes = conformance.run_cases(lab, subset)
        diff = conformance.differences(outcomes["vigil"], outcomes["linux"])
        assert not diff, diff
        assert all(outcomes["vigil"][n].forwarded for n in ALLOWED)
    finally:
        vn.commit_text(edge_config(kernel_fallback="false"), "martians refused again")
