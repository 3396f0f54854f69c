// The XDP parser's host build over a table of crafted frames, well-formed and malformed.
// The same tables will drive the BPF program through BPF_PROG_TEST_RUN.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <functional>

#include "parse_host.h"
#include "tests/packet/packet_builder.h"

namespace vigil {
namespace {

using test::PacketBuilder;
using Frame = std::vector<uint8_t>;

struct Case {
  const char* description;
  std::function<Frame()> frame;
  int result;
  std::function<void(const vigil_packet&)> check = nullptr;
};

Frame truncated(Frame f, size_t len) {
  f.resize(len);
  return f;
}

Frame with_byte(Frame f, size_t at, uint8_t value) {
  f.at(at) = value;
  return f;
}

const Case kCases[] = {
    {"UDP over IPv4",
     [] {
       return PacketBuilder()
           .eth()
           .ipv4("10.1.1.10", "10.2.1.20")
           .udp(5000, 51820)
           .payload(32)
           .build();
     },
     VIGIL_PARSE_OK,
     [](const vigil_packet& p) {
       EXPECT_EQ(p.l3_proto, 0x0800);
       EXPECT_EQ(p.l4_proto, IPPROTO_UDP);
       EXPECT_EQ(p.l3_offset, 14u);
       EXPECT_EQ(p.l4_offset, 34u);
       EXPECT_EQ(p.src.v4, inet_addr("10.1.1.10"));
       EXPECT_EQ(ntohs(p.dport), 51820);
       EXPECT_EQ(p.l3_length, 20u + 8 + 32);
     }},
    {"TCP over IPv4 with DF and a DSCP (the common shape the shortcut takes)",
     [] {
       Frame f = PacketBuilder()
                     .eth()
                     .ipv4("10.1.1.10", "10.2.1.20")
                     .tcp(40000, 443, 0x18)
                     .payload(10)
                     .build();
       f[14 + 1] = 0xb8;  // DSCP EF
       f[14 + 6] = 0x40;  // don't fragment
       return f;
     },
     VIGIL_PARSE_OK,
     [](const vigil_packet& p) {
       EXPECT_EQ(p.l3_proto, 0x0800);
       EXPECT_EQ(p.l4_proto, IPPROTO_TCP);
       EXPECT_EQ(p.l3_offset, 14u);
       EXPECT_EQ(p.l4_offset, 34u);
       EXPECT_EQ(p.l3_length, 20u + 20 + 10);
       EXPECT_EQ(p.tos, 0xb8);
       EXPECT_EQ(p.dont_fragment, 1);
       EXPECT_EQ(p.is_fragment, 0);
       EXPECT_EQ(p.tcp_flags, 0x18);
       EXPECT_EQ(ntohs(p.sport), 40000);
       EXPECT_EQ(ntohs(p.dport), 443);
       EXPECT_EQ(p.dst.v4, inet_addr("10.2.1.20"));
     }},
    {"UDP over IPv4 in 42 bytes, too short for the shortcut",
     [] { return PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").udp(7, 9).build(); },
     VIGIL_PARSE_OK,
     [](const vigil_packet& p) {
       EXPECT_EQ(p.l4_proto, IPPROTO_UDP);
       EXPECT_EQ(ntohs(p.dport), 9);
       EXPECT_EQ(p.l3_length, 28u);
     }},
    {"TCP over IPv4 padded to 60 bytes: the IP total length counts, not the frame",
     [] {
       Frame f = PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").tcp(1, 2).build();
       f.resize(60, 0);
       return f;
     },
     VIGIL_PARSE_OK, [](const vigil_packet& p) { EXPECT_EQ(p.l3_length, 40u); }},
    {"IPv4 carrying neither TCP nor UDP (GRE)",
     [] {
       Frame f = PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").udp(1, 2).payload(12).build();
       f[14 + 9] = 47;
       return f;
     },
     VIGIL_PARSE_OK,
     [](const vigil_packet& p) {
       EXPECT_EQ(p.l4_proto, 47);
       EXPECT_EQ(p.sport, 0);
     }},
    {"TCP SYN over IPv6",
     [] { return PacketBuilder().eth().ipv6("fd00:1::a", "fd00:2::14").tcp(40000, 443).build(); },
     VIGIL_PARSE_OK,
     [](const vigil_packet& p) {
       EXPECT_EQ(p.l3_proto, 0x86dd);
       EXPECT_EQ(p.l4_proto, IPPROTO_TCP);
       EXPECT_EQ(p.l4_offset, 54u);
       EXPECT_EQ(ntohs(p.sport), 40000);
       EXPECT_EQ(p.tcp_flags, 0x02);
       EXPECT_EQ(p.dst.v6[15], 0x14);
     }},
    {"two VLAN tags (QinQ)",
     [] {
       return PacketBuilder()
           .eth()
           .vlan(100, 0x88a8)
           .vlan(200)
           .ipv4("1.1.1.1", "2.2.2.2")
           .udp(1, 2)
           .build();
     },
     VIGIL_PARSE_OK,
     [](const vigil_packet& p) {
       EXPECT_EQ(p.vlan_count, 2);
       EXPECT_EQ(p.vlan_ids[0], 100);
       EXPECT_EQ(p.vlan_ids[1], 200);
       EXPECT_EQ(p.l3_offset, 22u);
     }},
    {"three VLAN tags",
     [] {
       return PacketBuilder()
           .eth()
           .vlan(1)
           .vlan(2)
           .vlan(3)
           .ipv4("1.1.1.1", "2.2.2.2")
           .udp(1, 2)
           .build();
     },
     VIGIL_PARSE_TOO_MANY_VLANS},
    {"IPv4 with options",
     [] { return PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2", 0, 8).tcp(1, 22).build(); },
     VIGIL_PARSE_OK, [](const vigil_packet& p) { EXPECT_EQ(p.l4_offset, 14u + 28); }},
    {"ICMP echo",
     [] { return PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").icmp(8, 0).build(); },
     VIGIL_PARSE_OK, [](const vigil_packet& p) { EXPECT_EQ(ntohs(p.sport), 0x0800); }},
    {"first IPv4 fragment keeps its ports",
     [] {
       return PacketBuilder()
           .eth()
           .ipv4("1.1.1.1", "2.2.2.2", 0x2000)
           .udp(7, 9)
           .payload(100)
           .build();
     },
     VIGIL_PARSE_OK,
     [](const vigil_packet& p) {
       EXPECT_TRUE(p.is_fragment);
       EXPECT_FALSE(p.later_fragment);
       EXPECT_EQ(ntohs(p.dport), 9);
     }},
    {"later IPv4 fragment has no ports",
     [] { return PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2", 0x0010).payload(64).build(); },
     VIGIL_PARSE_OK,
     [](const vigil_packet& p) {
       EXPECT_TRUE(p.later_fragment);
       EXPECT_EQ(p.dport, 0);
     }},
    {"IPv6 extension headers to L4",
     [] {
       return PacketBuilder()
           .eth()
           .ipv6("::1", "::2")
           .ipv6_ext(0)
           .ipv6_ext(60, 1)
           .udp(53, 53)
           .build();
     },
     VIGIL_PARSE_OK,
     [](const vigil_packet& p) {
       EXPECT_EQ(p.l4_proto, IPPROTO_UDP);
       EXPECT_EQ(p.l4_offset, 14u + 40 + 8 + 16);
     }},
    {"IPv6 later fragment",
     [] {
       return PacketBuilder().eth().ipv6("::1", "::2").ipv6_frag(10, false).payload(40).build();
     },
     VIGIL_PARSE_OK, [](const vigil_packet& p) { EXPECT_TRUE(p.later_fragment); }},
    {"more IPv6 extension headers than the walk takes: parsed, its L4 unknown",
     [] {
       return PacketBuilder()
           .eth()
           .ipv6("::1", "::2")
           .ipv6_ext(0)
           .ipv6_ext(60)
           .ipv6_ext(60)
           .ipv6_ext(60)
           .ipv6_ext(60)
           .udp(1, 2)
           .build();
     },
     VIGIL_PARSE_OK,
     [](const vigil_packet& p) {
       EXPECT_TRUE(p.l4_unknown);
       EXPECT_EQ(p.l4_proto, 60);  // where the walk stopped
       EXPECT_EQ(p.sport, 0);
       EXPECT_EQ(p.dport, 0);
     }},
    {"exactly as many extension headers as the walk takes: L4 found",
     [] {
       return PacketBuilder()
           .eth()
           .ipv6("::1", "::2")
           .ipv6_ext(0)
           .ipv6_ext(60)
           .ipv6_ext(60)
           .ipv6_ext(60)
           .udp(1, 2)
           .build();
     },
     VIGIL_PARSE_OK,
     [](const vigil_packet& p) {
       EXPECT_FALSE(p.l4_unknown);
       EXPECT_EQ(p.l4_proto, 17);
       EXPECT_EQ(ntohs(p.dport), 2);
     }},
    {"ARP is not IP",
     [] {
       return with_byte(with_byte(PacketBuilder().eth().payload(28).build(), 12, 0x08), 13, 0x06);
     },
     VIGIL_PARSE_NOT_IP},
    {"runt frame", [] { return Frame(10, 0); }, VIGIL_PARSE_TRUNCATED_ETHERNET},
    {"VLAN tag cut short",
     [] { return truncated(PacketBuilder().eth().vlan(5).ipv4("1.1.1.1", "2.2.2.2").build(), 16); },
     VIGIL_PARSE_TRUNCATED_VLAN},
    {"IPv4 header cut short",
     [] {
       return truncated(PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").udp(1, 2).build(), 30);
     },
     VIGIL_PARSE_TRUNCATED_IPV4},
    {"IPv4 version 5",
     [] {
       return with_byte(PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").udp(1, 2).build(), 14,
                        0x55);
     },
     VIGIL_PARSE_BAD_IPV4_VERSION},
    {"IPv6 ethertype, version 7 (Linux drops it; so must a router that forwards)",
     [] {
       return with_byte(PacketBuilder().eth().ipv6("fd00::1", "fd00::2").udp(1, 2).build(), 14,
                        0x70);
     },
     VIGIL_PARSE_BAD_IPV6_VERSION},
    {"IHL below 5",
     [] {
       return with_byte(PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").udp(1, 2).build(), 14,
                        0x44);
     },
     VIGIL_PARSE_BAD_IPV4_IHL},
    {"IPv4 total length beyond the frame",
     [] {
       return with_byte(PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").udp(1, 2).build(), 16,
                        0x05);
     },
     VIGIL_PARSE_BAD_IPV4_LENGTH},
    {"IPv4 total length shorter than its header",
     [] {
       return with_byte(
           with_byte(PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").udp(1, 2).build(), 16, 0), 17,
           12);
     },
     VIGIL_PARSE_BAD_IPV4_LENGTH},
    {"IPv6 header cut short",
     [] { return truncated(PacketBuilder().eth().ipv6("::1", "::2").udp(1, 2).build(), 40); },
     VIGIL_PARSE_TRUNCATED_IPV6},
    {"IPv6 payload length beyond the frame",
     [] { return with_byte(PacketBuilder().eth().ipv6("::1", "::2").udp(1, 2).build(), 18, 0x10); },
     VIGIL_PARSE_BAD_IPV6_LENGTH},
    {"UDP header cut short",
     [] {
       Frame f = PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").udp(1, 2).build();
       f = truncated(f, 14 + 20 + 4);
       f[17] = 24;  // total length matches what is left
       return f;
     },
     VIGIL_PARSE_TRUNCATED_L4},
    {"TCP data offset below 5",
     [] {
       return with_byte(PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").tcp(1, 2).build(),
                        14 + 20 + 12, 0x40);
     },
     VIGIL_PARSE_BAD_TCP_OFFSET},
};

class ParseTable : public ::testing::TestWithParam<Case> {};

TEST_P(ParseTable, GivesTheExpectedResult) {
  const Case& c = GetParam();
  const Frame frame = c.frame();
  vigil_packet p{};
  const int result = vigil_parse_frame(frame.data(), frame.size(), &p);
  EXPECT_EQ(result, c.result) << c.description << ": got " << vigil_parse_result_name(result)
                              << ", want " << vigil_parse_result_name(c.result);
  if (c.check && result == VIGIL_PARSE_OK) {
    c.check(p);
  }
}

// vigil_parse_frame() takes the common IPv4 shape in one run and everything else step by step;
// the step-by-step parse alone must agree with it on every frame, field for field.
TEST_P(ParseTable, TheGeneralParseAgrees) {
  const Frame frame = GetParam().frame();
  vigil_packet with_shortcut{}, general{};
  const int a = vigil_parse_frame(frame.data(), frame.size(), &with_shortcut);
  const int b = vigil_parse_frame_general(frame.data(), frame.size(), &general);
  EXPECT_EQ(a, b) << GetParam().description;
  if (a == VIGIL_PARSE_OK && b == VIGIL_PARSE_OK) {
    EXPECT_EQ(std::memcmp(&with_shortcut, &general, sizeof(general)), 0) << GetParam().description;
  }
}

INSTANTIATE_TEST_SUITE_P(Frames, ParseTable, ::testing::ValuesIn(kCases),
                         [](const auto& param) { return std::to_string(param.index); });

TEST(ParseFrame, EmptyFrameAsNullIsTruncatedNotUndefined) {
  vigil_packet p{};
  EXPECT_EQ(vigil_parse_frame(nullptr, 0, &p), VIGIL_PARSE_TRUNCATED_ETHERNET);
}

TEST(ParseResultNames, ComeFromTheSameList) {
  EXPECT_STREQ(vigil_parse_result_name(VIGIL_PARSE_OK), "ok");
  EXPECT_STREQ(vigil_parse_result_name(VIGIL_PARSE_BAD_IPV4_IHL), "bad_ipv4_ihl");
  EXPECT_STREQ(vigil_parse_result_name(VIGIL_PARSE_RESULT_COUNT), "unknown");
}

TEST(PacketBuilder, ComputesAValidIpv4Checksum) {
  const Frame f = PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).payload(3).build();
  uint32_t sum = 0;
  for (size_t i = 14; i < 34; i += 2) {
    sum += static_cast<uint32_t>(f[i] << 8 | f[i + 1]);
  }
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  EXPECT_EQ(sum, 0xffffu);
}

}  // namespace
}  // namespace vigil
