// FRR 8.4.4's BGP JSON (recorded from a real bgpd in the lab: tests/unit/bgp/frr/recorded/)
// read into Vigil's answers, and FRR output of the wrong shape read without an exception.
#include "bgp/frr/bgp_state.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace vigil::bgp {
namespace {

using nlohmann::json;

json recorded(const std::string& name) {
  std::ifstream in(VIGIL_SOURCE_ROOT "/tests/unit/bgp/frr/recorded/" + name + ".json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

const api::BgpNeighborStatus* find(const api::BgpSummary& s, const std::string& address) {
  for (const auto& n : s.neighbors) {
    if (n.address == address) {
      return &n;
    }
  }
  return nullptr;
}

TEST(BgpState, SummaryFromARealBgpd) {
  const auto s = bgp_summary_from(recorded("summary"), recorded("neighbors"));
  EXPECT_TRUE(s.configured);
  EXPECT_EQ(s.router_id, "10.20.1.1");
  EXPECT_EQ(s.local_as, 65001u);
  EXPECT_EQ(s.routes_ipv6, 0u);
  ASSERT_EQ(s.neighbors.size(), 3u);

  const auto* up = find(s, "198.18.20.1");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->state, "Established");
  EXPECT_EQ(up->held_by, "");
  EXPECT_EQ(up->remote_as, 65002u);
  EXPECT_EQ(up->local_as, 65001u);
  EXPECT_EQ(up->description, "far router");
  EXPECT_EQ(up->remote_router_id, "198.18.20.1");
  EXPECT_GT(up->established_ms, 0);
  EXPECT_EQ(up->hold_time_ms, 3000);
  EXPECT_EQ(up->keepalive_ms, 1000);
  EXPECT_EQ(up->connections_established, 1u);
  EXPECT_GT(up->messages_received, 0u);
  EXPECT_EQ(up->local_address, "198.18.20.2:179");
  ASSERT_EQ(up->families.size(), 1u);
  EXPECT_EQ(up->families[0].family, "ipv4-unicast");
  EXPECT_EQ(up->families[0].accepted, 3u);
  EXPECT_EQ(up->families[0].advertised, 4u);
  EXPECT_EQ(up->families[0].max_prefixes, 1000u);

  // eBGP with no policy (RFC 8212 as FRR enforces it), never connected.
  const auto* held = find(s, "10.20.1.99");
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->state, "Active");
  EXPECT_EQ(held->held_by, "policy");
  EXPECT_EQ(held->established_ms, 0);
  EXPECT_EQ(held->local_address, "");  // FRR says "Unknown" with port -1: nothing to show

  const auto* shut = find(s, "2001:db8:20::9");
  ASSERT_NE(shut, nullptr);
  EXPECT_EQ(shut->held_by, "admin");
  ASSERT_EQ(shut->families.size(), 1u);
  EXPECT_EQ(shut->families[0].family, "ipv6-unicast");
}

TEST(BgpState, RoutesFromARealTable) {
  api::BgpRoutes out;
  add_bgp_routes_from(recorded("ipv4_table"), 100, out);
  add_bgp_routes_from(recorded("ipv6_table"), 100, out);
  EXPECT_FALSE(out.truncated);
  EXPECT_EQ(out.total, out.routes.size());
  std::map<std::string, api::BgpRouteStatus> by_prefix;
  for (const auto& r : out.routes) {
    by_prefix[r.prefix] = r;
  }
  ASSERT_TRUE(by_prefix.contains("203.0.113.0/24"));
  const auto& learnt = by_prefix["203.0.113.0/24"].paths.at(0);
  EXPECT_TRUE(learnt.valid);
  EXPECT_TRUE(learnt.best);
  EXPECT_EQ(learnt.from, "198.18.20.1");
  EXPECT_EQ(learnt.as_path, "65002");
  EXPECT_EQ(learnt.origin, "IGP");
  EXPECT_EQ(learnt.next_hops, std::vector<std::string>{"198.18.20.1"});
  // The box's own network: no neighbour, no AS path.
  ASSERT_TRUE(by_prefix.contains("10.20.1.0/24"));
  EXPECT_EQ(by_prefix["10.20.1.0/24"].paths.at(0).from, "");
  EXPECT_EQ(by_prefix["10.20.1.0/24"].paths.at(0).as_path, "");
}

TEST(BgpState, LongerPrefixesAnswerHasTheSameShape) {
  api::BgpRoutes out;
  add_bgp_routes_from(recorded("ipv4_longer"), 100, out);
  std::vector<std::string> prefixes;
  for (const auto& r : out.routes) {
    prefixes.push_back(r.prefix);
  }
  EXPECT_EQ(prefixes, (std::vector<std::string>{"203.0.113.0/24", "203.0.113.128/25"}));
}

TEST(BgpState, TheLimitCountsWhatIsLeftOut) {
  api::BgpRoutes out;
  add_bgp_routes_from(recorded("ipv4_table"), 2, out);
  EXPECT_EQ(out.routes.size(), 2u);
  EXPECT_TRUE(out.truncated);
  EXPECT_EQ(out.total, 4u);
}

TEST(BgpState, NoBgpInstance) {
  // What vtysh answers with no `router bgp`.
  const auto s = bgp_summary_from(json::object(), json::object());
  EXPECT_FALSE(s.configured);
  EXPECT_TRUE(s.neighbors.empty());
}

TEST(BgpState, WrongShapesGiveDefaultsNotExceptions) {
  const json odd = json::parse(R"({
    "ipv4Unicast": {"routerId": 5, "as": "x", "ribCount": -3, "peers": []},
    "ipv6Unicast": "nope"})");
  const json neighbors = json::parse(R"({
    "192.0.2.1": {"remoteAs": "65001", "bgpState": ["Established"], "messageStats": 7,
                  "addressFamilyInfo": {"ipv4Unicast": {"acceptedPrefixCounter": "many"}},
                  "peerBfdInfo": {"status": 1}},
    "192.0.2.2": 42})");
  api::BgpSummary s;
  ASSERT_NO_THROW(s = bgp_summary_from(odd, neighbors));
  EXPECT_EQ(s.router_id, "");
  EXPECT_EQ(s.routes_ipv4, 0u);
  ASSERT_EQ(s.neighbors.size(), 1u);
  EXPECT_EQ(s.neighbors[0].remote_as, 0u);
  EXPECT_EQ(s.neighbors[0].families.at(0).accepted, 0u);

  api::BgpRoutes out;
  ASSERT_NO_THROW(add_bgp_routes_from(json::parse(R"({"routes": {"a": 1, "b": [3, {"nexthops":
      [1, {"ip": 2}, {"ip": "192.0.2.9"}]}]}})"),
                                      10, out));
  ASSERT_EQ(out.routes.size(), 2u);
  EXPECT_EQ(out.routes[1].paths.at(1).next_hops, std::vector<std::string>{"192.0.2.9"});
  ASSERT_NO_THROW(add_bgp_routes_from(json::array(), 10, out));
}

}  // namespace
}  // namespace vigil::bgp
