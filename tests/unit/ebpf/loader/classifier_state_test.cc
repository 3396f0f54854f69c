// The map planner without a kernel: what apply() writes, in which order, what a second apply
// changes, what adopt() reads back, and that a bad config writes nothing.
#include "ebpf/loader/classifier_state.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "ebpf/loader/counters.h"
#include "tests/support/net_literals.h"
#include "tests/unit/ebpf/loader/fake_maps.h"
#include "vigil/classifier_types.h"
#include "vigil/vip_filter.h"

namespace vigil::ebpf {
namespace {

using test::FakeMaps;

using vigil::test::ip;
using vigil::test::net;

ClassifierConfig web_config() {
  ClassifierConfig c;
  c.encap_source4 = net("172.16.0.0/24");
  c.vips = {{.name = "web",
             .address = ip("10.100.0.1"),
             .port = 80,
             .backends = {{ip("10.200.0.1")}, {ip("10.200.0.2")}}}};
  c.acl = {{.name = "deny-doc", .source = net("192.0.2.0/24")},
           {.name = "allow-all", .action = Action::kPass}};
  c.local_addresses = {ip("10.0.0.1")};
  c.local_ports = {{.protocol = 6, .port = 22}};
  return c;
}

template <typename T>
T value_at(const FakeMaps& maps, MapId map, const Bytes& key) {
  T v{};
  const auto& m = maps.at(map);
  const auto it = m.find(key);
  EXPECT_NE(it, m.end()) << map_name(map);
  if (it != m.end()) {
    std::memcpy(&v, it->second.data(), sizeof(v));
  }
  return v;
}

Bytes vip_key(const char* addr, uint16_t port, uint8_t proto = 6) {
  vigil_vip_key k{};
  inet_pton(AF_INET, addr, k.addr);
  k.port = htons(port);
  k.proto = proto;
  k.family = 4;
  return bytes_of(k);
}

Bytes lpm4(const char* addr, uint32_t len) {
  vigil_lpm4_key k{};
  k.prefixlen = len;
  inet_pton(AF_INET, addr, k.addr);
  return bytes_of(k);
}

size_t position(const std::vector<std::string>& log, const std::string& entry) {
  return std::find(log.begin(), log.end(), entry) - log.begin();
}

TEST(ClassifierStateTest, FirstApplyWritesEverythingInDependencyOrder) {
  FakeMaps maps;
  ClassifierState state;
  ASSERT_TRUE(state.apply(web_config(), maps).ok());

  const auto vip = value_at<vigil_vip>(maps, MapId::kVips, vip_key("10.100.0.1", 80));
  EXPECT_EQ(vip.index, 0u);
  EXPECT_LT(vip.ring, static_cast<uint32_t>(VIGIL_MAGLEV_SLOTS));
  EXPECT_EQ(maps.at(MapId::kMaglev).size(), static_cast<size_t>(VIGIL_MAGLEV_RING_SIZE));
  EXPECT_EQ(maps.at(MapId::kBackends).size(), 2u);
  EXPECT_LT(position(maps.log, "update backends"), position(maps.log, "fill maglev 0"));
  EXPECT_LT(position(maps.log, "fill maglev 0"), position(maps.log, "update vips"));
  EXPECT_LT(position(maps.log, "update acl_actions"), position(maps.log, "update acl_src4"));

  const auto s = value_at<vigil_settings>(maps, MapId::kSettings, bytes_of(uint32_t{0}));
  EXPECT_EQ(s.default_action, VIGIL_ACTION_PASS);
  EXPECT_EQ(s.encap_src4, inet_addr("172.16.0.0"));
  EXPECT_EQ(s.encap_src4_hostmask, 0xffu);
  EXPECT_EQ(ntohs(s.gue_port), 6080);
}

// The VIP destination filter: a VIP's bit is set before its entry is written, and a word left
// with no VIP's bit is cleared (arrays keep their entries: zero is "no VIP here").
TEST(ClassifierStateTest, VipFilterBitIsSetBeforeTheVipAndClearedAfterIt) {
  FakeMaps maps;
  ClassifierState state;
  auto c = web_config();
  ASSERT_TRUE(state.apply(c, maps).ok());
  uint8_t addr[16]{};
  inet_pton(AF_INET, "10.100.0.1", addr);
  const uint32_t bit = vigil_vip_filter_bit(addr);
  const Bytes word = bytes_of(bit / 64);
  EXPECT_EQ(value_at<uint64_t>(maps, MapId::kVipFilter, word), uint64_t{1} << (bit % 64));
  EXPECT_EQ(maps.at(MapId::kVipFilter).size(), 1u) << "one VIP, one word";
  EXPECT_LT(position(maps.log, "update vip_filter"), position(maps.log, "update vips"));

  c.vips.clear();
  maps.log.clear();
  ASSERT_TRUE(state.apply(c, maps).ok());
  EXPECT_EQ(value_at<uint64_t>(maps, MapId::kVipFilter, word), 0u);
  EXPECT_LT(position(maps.log, "remove vips"), position(maps.log, "update vip_filter"));
}

TEST(ClassifierStateTest, AclSetsHoldEveryRuleCoveringThePrefix) {
  FakeMaps maps;
  ClassifierState state;
  auto c = web_config();
  c.acl = {{.name = "a", .source = net("10.0.0.0/8")},
           {.name = "b", .source = net("10.1.0.0/16"), .destination = net("10.9.9.0/24")},
           {.name = "c", .destination = net("10.9.0.0/16"), .action = Action::kPass},
           {.name = "v6", .source = net("fd00::/8")}};
  ASSERT_TRUE(state.apply(c, maps).ok());
  auto mask = [&](MapId m, const char* a, uint32_t len) {
    return value_at<vigil_acl_mask>(maps, m, lpm4(a, len)).words[0];
  };
  EXPECT_EQ(mask(MapId::kAclSrc4, "0.0.0.0", 0), 0b100u);    // only c has no source
  EXPECT_EQ(mask(MapId::kAclSrc4, "10.0.0.0", 8), 0b101u);   // a, c
  EXPECT_EQ(mask(MapId::kAclSrc4, "10.1.0.0", 16), 0b111u);  // a, b, c
  EXPECT_EQ(mask(MapId::kAclDst4, "0.0.0.0", 0), 0b001u);    // a has no destination
  EXPECT_EQ(mask(MapId::kAclDst4, "10.9.0.0", 16), 0b101u);  // a, c
  EXPECT_EQ(mask(MapId::kAclDst4, "10.9.9.0", 24), 0b111u);  // a, b, c
  EXPECT_EQ(maps.at(MapId::kAclSrc6).size(), 2u) << "::/0 and fd00::/8";
  EXPECT_EQ(value_at<uint32_t>(maps, MapId::kAclActions, bytes_of(uint32_t{2})),
            static_cast<uint32_t>(VIGIL_ACTION_PASS));
}

TEST(ClassifierStateTest, SameConfigAgainWritesNothing) {
  FakeMaps maps;
  ClassifierState state;
  ASSERT_TRUE(state.apply(web_config(), maps).ok());
  maps.log.clear();
  ASSERT_TRUE(state.apply(web_config(), maps).ok());
  EXPECT_TRUE(maps.log.empty()) << maps.log.front();
}

TEST(ClassifierStateTest, BackendChangeSwapsTablesThroughASpareSlot) {
  FakeMaps maps;
  ClassifierState state;
  auto c = web_config();
  ASSERT_TRUE(state.apply(c, maps).ok());
  const auto key = vip_key("10.100.0.1", 80);
  const uint32_t old_ring = value_at<vigil_vip>(maps, MapId::kVips, key).ring;
  maps.log.clear();

  c.vips[0].backends.push_back({ip("10.200.0.3"), 2});
  c.vips[0].backends.erase(c.vips[0].backends.begin());  // 10.200.0.1 leaves
  ASSERT_TRUE(state.apply(c, maps).ok());
  const uint32_t new_ring = value_at<vigil_vip>(maps, MapId::kVips, key).ring;
  EXPECT_NE(new_ring, old_ring);
  const std::vector<std::string> want = {
      "update counter_bases",  // 10.200.0.3 counts from here
      "update backends",       // 10.200.0.3, active, before any table
      "fill maglev " + std::to_string(new_ring * VIGIL_MAGLEV_STRIDE),
      "update vips",      // the switch
      "update backends",  // 10.200.0.1 deactivated after it
  };
  EXPECT_EQ(maps.log, want);
  int active = 0;
  for (const auto& [k, v] : maps.at(MapId::kBackends)) {
    vigil_backend b;
    std::memcpy(&b, v.data(), sizeof(b));
    active += b.active;
  }
  EXPECT_EQ(active, 2);
}

// The program takes a hit's encapsulation from the backend entry, so a VIP's new one goes
// into each of its backends, whose generations stay (their connections stay with them).
TEST(ClassifierStateTest, EncapChangeIsWrittenIntoTheVipsBackends) {
  FakeMaps maps;
  ClassifierState state;
  auto c = web_config();
  ASSERT_TRUE(state.apply(c, maps).ok());
  const auto before = value_at<vigil_backend>(maps, MapId::kBackends, bytes_of(uint32_t{1}));
  EXPECT_EQ(before.encap, VIGIL_ENCAP_IPIP);
  maps.log.clear();

  c.vips[0].encap = Encap::kGue;
  ASSERT_TRUE(state.apply(c, maps).ok());
  const std::vector<std::string> want = {"update vips", "update backends", "update backends"};
  EXPECT_EQ(maps.log, want);
  for (uint32_t i = 0; i < 2; ++i) {
    const auto b = value_at<vigil_backend>(maps, MapId::kBackends, bytes_of(i));
    EXPECT_EQ(b.encap, VIGIL_ENCAP_GUE) << i;
    EXPECT_EQ(b.active, 1) << i;
    EXPECT_EQ(b.vip, 0) << i;
  }
  EXPECT_EQ(value_at<vigil_backend>(maps, MapId::kBackends, bytes_of(uint32_t{1})).generation,
            before.generation);
}

TEST(ClassifierStateTest, ReusedBackendIndexGetsANewGeneration) {
  FakeMaps maps;
  ClassifierState state;
  auto c = web_config();
  ASSERT_TRUE(state.apply(c, maps).ok());
  const auto first = value_at<vigil_backend>(maps, MapId::kBackends, bytes_of(uint32_t{0}));
  c.vips[0].backends = {{ip("10.200.0.2")}};
  ASSERT_TRUE(state.apply(c, maps).ok());
  c.vips[0].backends = {{ip("10.200.0.2")}, {ip("10.200.0.9")}};
  ASSERT_TRUE(state.apply(c, maps).ok());
  const auto reused = value_at<vigil_backend>(maps, MapId::kBackends, bytes_of(uint32_t{0}));
  EXPECT_EQ(reused.addr[3], 9);
  EXPECT_GT(reused.generation, first.generation);
}

TEST(ClassifierStateTest, RemovalsClearPrefixesBeforeTheRulesTheyName) {
  FakeMaps maps;
  ClassifierState state;
  ASSERT_TRUE(state.apply(web_config(), maps).ok());
  maps.log.clear();
  auto c = web_config();
  c.acl.clear();
  c.vips.clear();
  c.local_ports.clear();
  ASSERT_TRUE(state.apply(c, maps).ok());
  EXPECT_TRUE(maps.at(MapId::kVips).empty());
  EXPECT_TRUE(maps.at(MapId::kAclSrc4).empty());
  EXPECT_TRUE(maps.at(MapId::kLocalPorts).empty());
  EXPECT_LT(position(maps.log, "remove acl_src4"), position(maps.log, "update acl_actions"));
  EXPECT_EQ(value_at<uint32_t>(maps, MapId::kAclActions, bytes_of(uint32_t{0})), 0u);
}

TEST(ClassifierStateTest, BadConfigIsRefusedWholeAndNamesEveryProblem) {
  FakeMaps maps;
  ClassifierState state;
  auto c = web_config();
  c.encap_source4.reset();
  c.vips[0].backends.push_back({ip("10.200.0.1")});
  c.rate_limits = {{.name = "empty", .source = net("10.0.0.0/8")}};
  const auto s = state.apply(c, maps);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("encap_source4"), std::string::npos) << s.error();
  EXPECT_NE(s.error().find("vips[web].backends: 10.200.0.1 is listed twice"), std::string::npos)
      << s.error();
  EXPECT_NE(s.error().find("rate_limits[empty]"), std::string::npos) << s.error();
  EXPECT_TRUE(maps.log.empty());
}

TEST(ClassifierStateTest, AdoptReadsPinnedMapsBack) {
  FakeMaps maps;
  {
    ClassifierState first;
    ASSERT_TRUE(first.apply(web_config(), maps).ok());
  }
  ClassifierState second;
  ASSERT_TRUE(second.adopt(maps).ok());
  ASSERT_EQ(second.backends().size(), 2u);
  maps.log.clear();
  ASSERT_TRUE(second.apply(web_config(), maps).ok());
  // Only the table is rebuilt (its inputs are not in the maps): same table, new slot, switch;
  // and the policy generation moves once (the last process may have died mid-apply).
  ASSERT_EQ(maps.log.size(), 3u) << ::testing::PrintToString(maps.log);
  EXPECT_EQ(maps.log[0].rfind("fill maglev", 0), 0u);
  EXPECT_EQ(maps.log[1], "update vips");
  EXPECT_EQ(maps.log[2], "update settings");
}

uint32_t policy_generation(const FakeMaps& maps) {
  return value_at<vigil_settings>(maps, MapId::kSettings, bytes_of(uint32_t{0})).policy_generation;
}

TEST(ClassifierStateTest, PolicyGenerationMovesLastAndOnlyForPolicyChanges) {
  FakeMaps maps;
  ClassifierState state;
  ASSERT_TRUE(state.apply(web_config(), maps).ok());
  const uint32_t first = policy_generation(maps);
  EXPECT_NE(first, 0u);

  auto c = web_config();
  c.vips[0].backends.push_back({ip("10.200.0.3")});
  c.local_ports.push_back({.protocol = 6, .port = 179});
  ASSERT_TRUE(state.apply(c, maps).ok());
  EXPECT_EQ(policy_generation(maps), first) << "no ACL or rate-limit map changed";

  maps.log.clear();
  c.acl.erase(c.acl.begin());  // one prefix fewer, the rules renumbered
  ASSERT_TRUE(state.apply(c, maps).ok());
  EXPECT_EQ(policy_generation(maps), first + 1);
  ASSERT_FALSE(maps.log.empty());
  EXPECT_EQ(maps.log.back(), "update settings") << "connections drop the old policy last";
  EXPECT_LT(position(maps.log, "remove acl_src4"), maps.log.size() - 1);

  c.rate_limits = {
      {.name = "r", .source = net("10.9.0.0/16"), .policer = {.packets_per_second = 5}}};
  ASSERT_TRUE(state.apply(c, maps).ok());
  EXPECT_EQ(policy_generation(maps), first + 2);
}

TEST(ClassifierStateTest, PolicyGenerationMovesOnTheApplyAfterAFailedOne) {
  FakeMaps maps;
  ClassifierState state;
  ASSERT_TRUE(state.apply(web_config(), maps).ok());
  const uint32_t first = policy_generation(maps);
  auto c = web_config();
  c.acl.push_back({.name = "deny-more", .source = net("10.7.0.0/16")});
  c.local_ports.push_back({.protocol = 6, .port = 179});
  maps.fail_on = MapId::kLocalPorts;  // after the ACL maps were written
  ASSERT_FALSE(state.apply(c, maps).ok());
  EXPECT_EQ(policy_generation(maps), first);
  maps.fail_on.reset();
  ASSERT_TRUE(state.apply(c, maps).ok());
  EXPECT_EQ(policy_generation(maps), first + 1)
      << "the ACL written by the failed apply is new policy too";
}

TEST(ClassifierStateTest, AdoptCarriesThePolicyGenerationOnAndMovesItOnce) {
  FakeMaps maps;
  {
    ClassifierState first;
    ASSERT_TRUE(first.apply(web_config(), maps).ok());
    auto c = web_config();
    c.acl.pop_back();
    ASSERT_TRUE(first.apply(c, maps).ok());
  }
  const uint32_t before = policy_generation(maps);
  ClassifierState second;
  ASSERT_TRUE(second.adopt(maps).ok());
  auto c = web_config();
  c.acl.pop_back();  // the policy the maps already hold
  ASSERT_TRUE(second.apply(c, maps).ok());
  EXPECT_EQ(policy_generation(maps), before + 1)
      << "a restarted loader moves on from the generation connections remember";
  ASSERT_TRUE(second.apply(c, maps).ok());
  EXPECT_EQ(policy_generation(maps), before + 1) << "and then only when the policy changes";
}

Bytes stats_bytes(const std::vector<vigil_stats>& per_cpu) {
  const auto* p = reinterpret_cast<const uint8_t*>(per_cpu.data());
  return Bytes(p, p + per_cpu.size() * sizeof(vigil_stats));
}

// Each CPU's share of the connection table, a power of two for the program's mask.
TEST(ConnectionTableTest, SetsPerCpuSplitTheTableInPowersOfTwo) {
  constexpr uint32_t all = VIGIL_CONN_TABLE_SIZE / VIGIL_CONN_WAYS;
  EXPECT_EQ(connection_sets_per_cpu(1), all);
  EXPECT_EQ(connection_sets_per_cpu(2), all / 2);
  EXPECT_EQ(connection_sets_per_cpu(3), all / 4) << "rounded down, not up";
  EXPECT_EQ(connection_sets_per_cpu(0), all) << "no CPU count: as for one";
  EXPECT_EQ(connection_sets_per_cpu(1 << 30), 1u) << "never none";
  for (int cpus = 1; cpus <= 256; ++cpus) {
    const uint32_t sets = connection_sets_per_cpu(cpus);
    EXPECT_EQ(sets & (sets - 1), 0u) << cpus;
    EXPECT_LE(sets * static_cast<uint32_t>(cpus), all) << cpus;
  }
}

TEST(CountersTest, SumsEveryCpu) {
  FakeMaps maps(3);
  ClassifierState state;
  ASSERT_TRUE(state.apply(web_config(), maps).ok());
  const vigil_counter per_cpu[3] = {{1, 100}, {2, 200}, {4, 400}};
  Bytes value(reinterpret_cast<const uint8_t*>(per_cpu),
              reinterpret_cast<const uint8_t*>(per_cpu) + sizeof(per_cpu));
  // The packet's own counters: one vigil_stats per CPU, each with its own figures.
  std::vector<vigil_stats> stats(3);
  for (int cpu = 0; cpu < 3; ++cpu) {
    stats[cpu].verdict[VIGIL_VERDICT_DROP_ACL] = per_cpu[cpu];
    stats[cpu].event[VIGIL_EVENT_CONN_EVICTED].packets = per_cpu[cpu].packets * 10;
    stats[cpu].malformed[VIGIL_PARSE_BAD_TCP_OFFSET] = per_cpu[cpu];
    stats[cpu].vip[0] = per_cpu[cpu];
    stats[cpu].backend[1] = per_cpu[cpu];
  }
  ASSERT_TRUE(maps.update(MapId::kStats, bytes_of(uint32_t{0}), stats_bytes(stats)).ok());
  ASSERT_TRUE(maps.update(MapId::kAclStats, bytes_of(uint32_t{1}), value).ok());
  const auto c = read_counters(maps, state);
  EXPECT_EQ(c.verdict("drop_acl").packets, 7u);
  EXPECT_EQ(c.verdict("drop_acl").bytes, 700u);
  EXPECT_EQ(c.packets(), 7u);
  ASSERT_EQ(c.events.size(), static_cast<size_t>(VIGIL_EVENT_COUNT));
  EXPECT_EQ(c.events[VIGIL_EVENT_CONN_EVICTED].name, "vip_connection_evicted");
  EXPECT_EQ(c.events[VIGIL_EVENT_CONN_EVICTED].count.packets, 70u);
  EXPECT_EQ(c.events[VIGIL_EVENT_CONN_HIT].count.packets, 0u);
  ASSERT_EQ(c.malformed.size(), static_cast<size_t>(VIGIL_PARSE_RESULT_COUNT - 1));
  EXPECT_EQ(c.malformed.back().name, "bad_tcp_data_offset");
  EXPECT_EQ(c.malformed.back().count.bytes, 700u);
  ASSERT_EQ(c.acl_rules.size(), 2u);
  EXPECT_EQ(c.acl_rules[1].name, "allow-all");
  EXPECT_EQ(c.acl_rules[1].count.packets, 7u);
  ASSERT_EQ(c.vips.size(), 1u);
  EXPECT_EQ(c.vips[0].count.packets, 7u);
  ASSERT_EQ(c.backends.size(), 2u);
  EXPECT_EQ(c.backends[0].count.packets, 0u);
  EXPECT_EQ(c.backends[1].address, "10.200.0.2");
  EXPECT_EQ(c.backends[1].count.bytes, 700u);
  EXPECT_EQ(c.verdicts.size(), static_cast<size_t>(VIGIL_VERDICT_COUNT));
}

// The program only adds to the stats record, so a backend index that a new backend takes over
// keeps its old count there; the new backend's count starts from zero all the same.
TEST(CountersTest, AReusedBackendIndexCountsFromZero) {
  FakeMaps maps(2);
  ClassifierState state;
  auto c = web_config();
  ASSERT_TRUE(state.apply(c, maps).ok());
  std::vector<vigil_stats> stats(2);
  auto write_stats = [&] {
    ASSERT_TRUE(maps.update(MapId::kStats, bytes_of(uint32_t{0}), stats_bytes(stats)).ok());
  };
  stats[0].backend[0] = {5, 500};  // 10.200.0.1
  stats[1].backend[0] = {1, 100};
  write_stats();
  c.vips[0].backends.erase(c.vips[0].backends.begin());
  ASSERT_TRUE(state.apply(c, maps).ok());
  c.vips[0].backends.push_back({ip("10.200.0.3")});
  ASSERT_TRUE(state.apply(c, maps).ok());

  auto count_of = [&](const std::string& address) {
    for (const auto& b : read_counters(maps, state).backends) {
      if (b.address == address) {
        return b.count;
      }
    }
    ADD_FAILURE() << address << " not counted";
    return Count{};
  };
  const auto backends = state.backends();
  ASSERT_TRUE(std::any_of(backends.begin(), backends.end(), [&](const auto& b) {
    return b.address == ip("10.200.0.3") && b.index == 0;
  })) << "10.200.0.3 took 10.200.0.1's index";
  EXPECT_EQ(count_of("10.200.0.3").packets, 0u);
  EXPECT_EQ(count_of("10.200.0.3").bytes, 0u);
  stats[1].backend[0].packets += 2;
  stats[1].backend[0].bytes += 128;
  write_stats();
  EXPECT_EQ(count_of("10.200.0.3").packets, 2u);
  EXPECT_EQ(count_of("10.200.0.3").bytes, 128u);
}

}  // namespace
}  // namespace vigil::ebpf
