// Classification tables: a packet's class is the first whose rules one of matches: protocol,
// prefixes, port ranges, DSCP; ports asked for never match a packet without them.
#include "sdwan/paths/path_class.h"

#include <gtest/gtest.h>

namespace vigil::paths {
namespace {

FlowKey v4(uint8_t protocol, const char* dst, uint16_t sport, uint16_t dport, uint8_t dscp = 0) {
  FlowKey k{.family = 4,
            .protocol = protocol,
            .source_port = sport,
            .destination_port = dport,
            .dscp = dscp};
  k.source = {10, 1, 1, 10};
  unsigned a = 0, b = 0, c = 0, d = 0;
  std::sscanf(dst, "%u.%u.%u.%u", &a, &b, &c, &d);
  k.destination = {static_cast<uint8_t>(a), static_cast<uint8_t>(b), static_cast<uint8_t>(c),
                   static_cast<uint8_t>(d)};
  return k;
}

std::vector<PathClass> classes() {
  PathClass voice;
  voice.rules.push_back(
      {.protocol = ClassRule::Protocol::kUdp, .destination_ports = {{10000, 20000}, {5060, 5060}}});
  voice.rules.push_back({.dscp = uint64_t{1} << 46});  // EF, whatever the protocol
  PathClass bulk;
  ClassRule to_site2{.protocol = ClassRule::Protocol::kTcp, .destination_ports = {{873, 873}}};
  to_site2.destination = {.family = 4, .bytes = {10, 2, 0, 0}, .length = 16};
  bulk.rules.push_back(to_site2);
  PathClass icmp;
  icmp.rules.push_back({.protocol = ClassRule::Protocol::kIcmp});
  return {voice, bulk, icmp};
}

TEST(PathClass, TheFirstClassOneOfWhoseRulesMatches) {
  const auto c = classes();
  struct Case {
    const char* what = nullptr;
    FlowKey key;
    std::optional<size_t> want;
  };
  const Case cases[] = {
      {"udp in the range", v4(17, "10.2.1.10", 40000, 15000), 0},
      {"udp at the range's ends", v4(17, "10.2.1.10", 1, 20000), 0},
      {"udp single port", v4(17, "10.2.1.10", 1, 5060), 0},
      {"udp outside", v4(17, "10.2.1.10", 1, 20001), std::nullopt},
      {"tcp to a voice port", v4(6, "10.2.1.10", 1, 15000), std::nullopt},
      {"EF marks any protocol voice", v4(6, "10.2.1.10", 1, 80, 46), 0},
      {"rsync to site 2", v4(6, "10.2.9.9", 5555, 873), 1},
      {"rsync elsewhere", v4(6, "10.3.9.9", 5555, 873), std::nullopt},
      {"icmp", v4(1, "10.3.9.9", 0x0800, 0), 2},
  };
  for (const Case& k : cases) {
    EXPECT_EQ(classify(c, k.key), k.want) << k.what;
  }
}

TEST(PathClass, PrefixesCompareTheirBitsAndFamily) {
  const AddressPrefix p{.family = 4, .bytes = {10, 2, 128, 0}, .length = 17};
  EXPECT_TRUE(p.contains(4, {10, 2, 200, 1}));
  EXPECT_FALSE(p.contains(4, {10, 2, 127, 1}));
  EXPECT_FALSE(p.contains(6, {10, 2, 200, 1}));
  EXPECT_TRUE(AddressPrefix{}.contains(6, {}));
  const AddressPrefix all{.family = 6, .length = 0};
  EXPECT_TRUE(all.contains(6, {0xfd}));
}

TEST(PathClass, PortsAskedForNeverMatchAPacketWithoutThem) {
  PathClass any_proto;
  any_proto.rules.push_back({.destination_ports = {{0, 65535}}});
  const std::vector<PathClass> c{any_proto};
  EXPECT_EQ(classify(c, v4(17, "10.2.1.1", 1, 1)), 0u);
  EXPECT_EQ(classify(c, v4(1, "10.2.1.1", 0, 0)), std::nullopt);
}

}  // namespace
}  // namespace vigil::paths
