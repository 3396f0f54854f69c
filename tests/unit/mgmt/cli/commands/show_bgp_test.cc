// show bgp summary|neighbors|routes against a fake vigild answering as it does from FRR:
// the table a network engineer expects, states shown instead of counts while a session is not
// up (with what holds it down), arguments passed on, and usage errors.
#include <gtest/gtest.h>

#include "common/api/bgp_status.h"
#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/dispatch.h"
#include "tests/unit/mgmt/cli/fake_vigild.h"

namespace vigil::mgmt::cli {
namespace {

using nlohmann::json;

class ShowBgpTest : public ::testing::Test {
 protected:
  Output run(const std::vector<std::string>& words, bool as_json = false) {
    return dispatch(table_, vigild_, words, as_json);
  }
  static api::BgpNeighborStatus up() {
    return {.address = "198.18.20.1",
            .description = "upstream",
            .remote_as = 65002,
            .local_as = 65001,
            .state = "Established",
            .established_ms = 3723000,
            .families = {{.family = "ipv4-unicast", .accepted = 812, .advertised = 3}},
            .messages_received = 900,
            .messages_sent = 450,
            .hold_time_ms = 9000,
            .keepalive_ms = 3000,
            .bfd = "Up"};
  }
  CommandTable table_ = build_table();
  FakeVigild vigild_;
};

TEST_F(ShowBgpTest, SummaryShowsPrefixesWhenUpAndTheStateWhenNot) {
  api::BgpSummary s{
      .configured = true, .router_id = "10.0.0.1", .local_as = 65001, .routes_ipv4 = 815};
  s.neighbors.push_back(up());
  s.neighbors.push_back(
      {.address = "10.20.1.99", .remote_as = 65003, .state = "Active", .held_by = "policy"});
  vigild_.answers["show.bgp.summary"] = json(s);
  const Output o = run({"show", "bgp", "summary"});
  ASSERT_EQ(o.exit_code, kExitOk) << o.err;
  EXPECT_NE(o.out.find("BGP router identifier 10.0.0.1, local AS 65001"), std::string::npos);
  EXPECT_NE(o.out.find("RIB entries 815 IPv4"), std::string::npos);
  EXPECT_NE(o.out.find("01:02:03"), std::string::npos) << o.out;  // up for
  EXPECT_NE(o.out.find("812"), std::string::npos);
  EXPECT_NE(o.out.find("Active (policy)"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("upstream"), std::string::npos);
}

TEST_F(ShowBgpTest, SummaryWithoutBgpSaysSo) {
  vigild_.answers["show.bgp.summary"] = json(api::BgpSummary{});
  EXPECT_EQ(run({"show", "bgp", "summary"}).out, "BGP is not configured (routing.bgp)\n");
}

TEST_F(ShowBgpTest, VigildWithoutFrrIsAnError) {
  vigild_.answers["show.bgp.summary"] =
      rpc::Error{-32011, "vigild runs no FRR instance (started without --frr): no BGP here"};
  const Output o = run({"show", "bgp", "summary"});
  EXPECT_NE(o.exit_code, kExitOk);
  EXPECT_NE(o.err.find("started without --frr"), std::string::npos) << o.err;
}

TEST_F(ShowBgpTest, NeighborsInDetailAndTheAddressPassedOn) {
  vigild_.answers["show.bgp.neighbors"] = json(std::vector<api::BgpNeighborStatus>{up()});
  const Output o = run({"show", "bgp", "neighbors", "198.18.20.1"});
  ASSERT_EQ(o.exit_code, kExitOk) << o.err;
  EXPECT_EQ(vigild_.calls.back().params, json({{"address", "198.18.20.1"}}));
  EXPECT_NE(o.out.find("neighbor 198.18.20.1, remote AS 65002, local AS 65001, external"),
            std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("hold time 9 s, keepalive 3 s"), std::string::npos);
  EXPECT_NE(o.out.find("BFD Up"), std::string::npos);
  EXPECT_NE(o.out.find("ipv4-unicast: 812 accepted, 3 advertised"), std::string::npos);
  EXPECT_EQ(run({"show", "bgp", "neighbors", "a", "b"}).exit_code, kExitUsage);
}

TEST_F(ShowBgpTest, RoutesMarkTheBestAndSayWhenCut) {
  api::BgpRoutes routes{.total = 5000, .truncated = true};
  routes.routes.push_back({.prefix = "203.0.113.0/24",
                           .paths = {{.next_hops = {"198.18.20.1"},
                                      .as_path = "65002 65010",
                                      .origin = "IGP",
                                      .local_pref = 100,
                                      .from = "198.18.20.1",
                                      .best = true,
                                      .valid = true},
                                     {.next_hops = {"198.18.21.1"},
                                      .as_path = "65003 65003 65010",
                                      .origin = "IGP",
                                      .from = "198.18.21.1",
                                      .valid = true}}});
  vigild_.answers["show.bgp.routes"] = json(routes);
  const Output o = run({"show", "bgp", "routes", "203.0.113.0/24"});
  ASSERT_EQ(o.exit_code, kExitOk) << o.err;
  EXPECT_EQ(vigild_.calls.back().params, json({{"prefix", "203.0.113.0/24"}}));
  EXPECT_NE(o.out.find("*>"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("65003 65003 65010"), std::string::npos);
  EXPECT_NE(o.out.find("(1 of 5000 routes shown"), std::string::npos) << o.out;
  const Output j = run({"show", "bgp", "routes"}, true);
  EXPECT_EQ(json::parse(j.out)["total"], 5000);
}

}  // namespace
}  // namespace vigil::mgmt::cli
