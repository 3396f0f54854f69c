// The classifier on every parse path: what each frame shape is counted as, and malformed
// frames dropped under their reason.
#include <gtest/gtest.h>

#include "tests/bpf/classifier_fixture.h"

namespace vigil::ebpf {
namespace {

struct ParseCase {
  const char* description;
  std::function<Frame()> frame;
  int action;
  const char* verdict;
  const char* malformed = nullptr;  // the reason counted, for drops
};

Frame cut(Frame f, size_t len) {
  f.resize(len);
  return f;
}

Frame set(Frame f, size_t at, uint8_t v) {
  f.at(at) = v;
  return f;
}

const ParseCase kParseCases[] = {
    {"ARP is not IP: to the kernel",
     [] {
       auto f = PacketBuilder().eth().payload(28).build();
       put16(f, 12, 0x0806);
       return f;
     },
     XDP_PASS, "pass_not_ip"},
    {"SSH to the box over IPv4",
     [] { return PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1").tcp(40000, 22).build(); },
     XDP_PASS, "pass_local_service"},
    {"SSH to the box in a VLAN",
     [] {
       return PacketBuilder().eth().vlan(10).ipv4("10.5.0.2", "10.0.0.1").tcp(40000, 22).build();
     },
     XDP_PASS, "pass_local_service"},
    {"BGP to the box in QinQ",
     [] {
       return PacketBuilder()
           .eth()
           .vlan(100, 0x88a8)
           .vlan(10)
           .ipv4("10.5.0.2", "10.0.0.1")
           .tcp(40000, 179)
           .build();
     },
     XDP_PASS, "pass_local_service"},
    {"IPv4 with options to the box",
     [] { return PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1", 0, 8).tcp(40000, 22).build(); },
     XDP_PASS, "pass_local_service"},
    {"SSH over IPv6 behind hop-by-hop and destination options",
     [] {
       return PacketBuilder()
           .eth()
           .ipv6("fd00:5::2", "fd00::1")
           .ipv6_ext(0)
           .ipv6_ext(60, 1)
           .tcp(40000, 22)
           .build();
     },
     XDP_PASS, "pass_local_service"},
    {"ping to the box",
     [] { return PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1").icmp(8, 0).build(); }, XDP_PASS,
     "pass_local_service"},
    {"closed port on the box: default policy (pass)",
     [] { return PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1").tcp(40000, 8080).build(); },
     XDP_PASS, "pass_default_policy"},
    {"WireGuard to the box with no fast path socket: to the kernel",
     [] { return PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1").udp(51820, 51820).build(); },
     XDP_PASS, "pass_fast_path_down"},
    {"OSPF multicast",
     [] { return PacketBuilder().eth().ipv4("10.5.0.2", "224.0.0.5").payload(40).build(); },
     XDP_PASS, "pass_multicast_or_link_local"},
    {"IPv6 neighbour solicitation to a solicited-node group",
     [] { return PacketBuilder().eth().ipv6("fe80::1", "ff02::1:ff00:1").icmp(135, 0).build(); },
     XDP_PASS, "pass_multicast_or_link_local"},
    {"later IPv4 fragment: passed by policy",
     [] { return PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1", 185).payload(64).build(); },
     XDP_PASS, "pass_later_fragment"},
    // A frame shorter than an Ethernet header never reaches XDP (BPF_PROG_TEST_RUN refuses it
    // too); the host parser's tests cover that shape.
    {"truncated VLAN tag",
     [] { return cut(PacketBuilder().eth().vlan(7).ipv4("1.1.1.1", "2.2.2.2").build(), 16); },
     XDP_DROP, "drop_malformed", "truncated_vlan"},
    {"three VLAN tags",
     [] {
       return PacketBuilder()
           .eth()
           .vlan(1, 0x88a8)
           .vlan(2, 0x8100)
           .vlan(3)
           .ipv4("1.1.1.1", "2.2.2.2")
           .build();
     },
     XDP_DROP, "drop_malformed", "too_many_vlans"},
    {"truncated IPv4 header",
     [] { return cut(PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").build(), 30); }, XDP_DROP,
     "drop_malformed", "truncated_ipv4"},
    {"IPv4 header with version 5",
     [] { return set(PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").build(), 14, 0x55); },
     XDP_DROP, "drop_malformed", "bad_ipv4_version"},
    {"IPv6 ethertype with version 8",
     [] { return set(PacketBuilder().eth().ipv6("fd00::2", "fd00::1").build(), 14, 0x80); },
     XDP_DROP, "drop_malformed", "bad_ipv6_version"},
    {"IPv4 IHL of 4 words",
     [] { return set(PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").build(), 14, 0x44); },
     XDP_DROP, "drop_malformed", "bad_ipv4_ihl"},
    {"IPv4 total length beyond the frame",
     [] {
       return set(PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").udp(1, 2).build(), 16, 0x09);
     },
     XDP_DROP, "drop_malformed", "bad_ipv4_length"},
    {"truncated IPv6 header",
     [] { return cut(PacketBuilder().eth().ipv6("fd00::2", "fd00::1").build(), 40); }, XDP_DROP,
     "drop_malformed", "truncated_ipv6"},
    {"IPv6 payload length beyond the frame",
     [] {
       return set(PacketBuilder().eth().ipv6("fd00::2", "fd00::1").udp(1, 2).build(), 18, 0x10);
     },
     XDP_DROP, "drop_malformed", "bad_ipv6_length"},
    {"five IPv6 extension headers",
     [] {
       return PacketBuilder()
           .eth()
           .ipv6("fd00::2", "fd00::1")
           .ipv6_ext(0)
           .ipv6_ext(60)
           .ipv6_ext(43)
           .ipv6_ext(60)
           .ipv6_ext(60)
           .udp(1, 2)
           .build();
     },
     XDP_DROP, "drop_malformed", "too_many_ipv6_ext_headers"},
    {"truncated TCP header",
     [] {
       auto f = PacketBuilder().eth().ipv4("1.1.1.1", "10.0.0.1").tcp(1, 22).build();
       f.resize(14 + 20 + 10);
       put16(f, 16, 30);
       return f;
     },
     XDP_DROP, "drop_malformed", "truncated_l4"},
    {"TCP data offset of 4 words",
     [] {
       return set(PacketBuilder().eth().ipv4("1.1.1.1", "10.0.0.1").tcp(1, 22).build(), 46, 0x40);
     },
     XDP_DROP, "drop_malformed", "bad_tcp_data_offset"},
};

TEST_F(ClassifierTest, ParsePathsAndMalformedFrames) {
  for (const auto& c : kParseCases) {
    SCOPED_TRACE(c.description);
    const auto before = classifier_->counters();
    expect(c.frame(), c.action, c.verdict);
    if (c.malformed != nullptr) {
      const auto after = classifier_->counters();
      for (size_t i = 0; i < after.malformed.size(); ++i) {
        const uint64_t moved = after.malformed[i].count.packets - before.malformed[i].count.packets;
        EXPECT_EQ(moved, after.malformed[i].name == c.malformed ? 1u : 0u)
            << after.malformed[i].name;
      }
    }
  }
}

}  // namespace
}  // namespace vigil::ebpf
