// show classifier, interfaces and routes against a fake vigild answering as vigil-dp does.
#include <gtest/gtest.h>

#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/dispatch.h"
#include "tests/unit/mgmt/cli/fake_vigild.h"

namespace vigil::mgmt::cli {
namespace {

using nlohmann::json;

class ShowDataplaneTest : public ::testing::Test {
 protected:
  Output run(const std::vector<std::string>& words, bool as_json = false) {
    return dispatch(table_, vigild_, words, as_json);
  }
  CommandTable table_ = build_table();
  FakeVigild vigild_;
};

json counted(uint64_t packets, uint64_t bytes = 0) {
  return {{"packets", packets}, {"bytes", bytes}};
}

TEST_F(ShowDataplaneTest, InterfacesTabulatesPortsDropsAndOffload) {
  vigild_.answers["show.dataplane"] = json{{"forwarding", true},
                                           {"ports",
                                            {{{"name", "lan0"},
                                              {"link", "up"},
                                              {"mac", "02:00:00:00:00:01"},
                                              {"rx_packets", 10},
                                              {"rx_bytes", 1000},
                                              {"tx_packets", 9},
                                              {"tx_bytes", 900},
                                              {"device_rx_missed", 0}}}},
                                           {"drops", {{"no_route", 2}, {"ttl_exceeded", 0}}},
                                           {"icmp_errors_sent", 1},
                                           {"icmp_errors_rate_limited", 4},
                                           {"icmp_errors_not_allowed", 5},
                                           {"icmp_errors_no_source_address", 6},
                                           {"ipv4_fragmented", 7},
                                           {"ipv4_fragments_created", 15},
                                           {"to_kernel", 3},
                                           {"rx_mode", "poll"},
                                           {"idle_sleeps", 0},
                                           {"tx_hold_us", 0},
                                           {"flow_offload", {{"enabled", false}}}};
  auto o = run({"show", "interfaces"});
  EXPECT_EQ(o.exit_code, kExitOk);
  EXPECT_EQ(o.out,
            "port  link  mac                rx packets  rx bytes  tx packets  tx bytes  device "
            "missed\n"
            "lan0  up    02:00:00:00:00:01  10          1000      9           900       0\n"
            "\nICMP errors sent: 1 (over the rate limits: 4, not allowed: 5, no address to send "
            "from: 6), for the box (to the kernel): 3\n"
            "IPv4 datagrams over the egress MTU sent in fragments: 7 (as 15 fragments)\n"
            "rx mode: poll (idle sleeps 0), short bursts held up to 0 us before sending\n\n"
            "dropped because  packets\n"
            "no_route         2\n"
            "\nflow offload to XDP: off\n");
}

TEST_F(ShowDataplaneTest, NotForwardingIsSaidInsteadOfEmptyTables) {
  vigild_.answers["show.dataplane"] = json{{"forwarding", false}};
  auto o = run({"show", "routes"});
  EXPECT_EQ(o.exit_code, kExitOk);
  EXPECT_TRUE(o.out.starts_with("the fast path is not forwarding")) << o.out;
  // --json gives the answer as it is.
  EXPECT_EQ(run({"show", "routes"}, true).out,
            "{\n  \"adjacencies\": {\n    \"capacity\": 0,\n    \"in_use\": 0\n  },\n"
            "  \"kernel_fallback\": {\n    \"enabled\": false,\n    \"error\": \"\",\n"
            "    \"ipv6_forwarding\": \"\",\n    \"routes\": 0\n  },\n"
            "  \"neighbours\": [],\n  \"routes\": []\n}\n");
}

TEST_F(ShowDataplaneTest, RoutesListEveryNextHop) {
  vigild_.answers["show.dataplane"] = json{
      {"forwarding", true},
      {"routes",
       {{{"prefix", "0.0.0.0/0"},
         {"source", "static"},
         {"action", "forward"},
         {"next_hops",
          {{{"via", "198.18.1.1"}, {"port", "wan1"}, {"weight", 2}},
           {{"via", "198.18.1.5"}, {"port", "wan2"}, {"weight", 1}}}}},
        {{"prefix", "10.2.0.0/16"},
         {"source", "mesh"},
         {"action", "forward"},
         {"next_hops", {{{"via", "tunnel"}, {"port", "mesh"}, {"weight", 1}}}}},
        {{"prefix", "10.9.0.0/16"}, {"action", "blackhole"}, {"next_hops", json::array()}}}},
      {"neighbours", {{{"address", "198.18.1.1"}, {"mac", "02:00:00:00:02:01"}, {"port", "wan1"}}}},
      {"adjacencies", {{"in_use", 1}, {"capacity", 4096}}},
      {"kernel_fallback",
       {{"enabled", true}, {"routes", 2}, {"ipv6_forwarding", "per interface"}}}};
  EXPECT_EQ(run({"show", "routes"}).out,
            "prefix       source  action     via         port  weight\n"
            "0.0.0.0/0    static  forward    198.18.1.1  wan1  2\n"
            "0.0.0.0/0    static  forward    198.18.1.5  wan2  1\n"
            "10.2.0.0/16  mesh    forward    tunnel      mesh  1\n"
            "10.9.0.0/16  -       blackhole  -           -     -\n"
            "\nneighbour   mac                port\n"
            "198.18.1.1  02:00:00:00:02:01  wan1\n"
            "\ngateways with an adjacency: 1 of 4096 slots\n"
            "kernel fallback: 2 routes in the kernel's table (protocol vigil), the kernel "
            "forwards for the ports\n");
}

TEST_F(ShowDataplaneTest, KernelFallbackOutOfStepOrOffIsSaid) {
  vigild_.answers["show.dataplane"] =
      json{{"forwarding", true},
           {"kernel_fallback",
            {{"enabled", true},
             {"routes", 0},
             {"ipv6_forwarding", "all interfaces"},
             {"error", "cannot install the kernel route 10.9.0.0/16: Network is unreachable"}}}};
  const std::string out = run({"show", "routes"}).out;
  EXPECT_NE(out.find("(IPv6 on every interface: no per-interface switch before Linux 6.17)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("kernel fallback NOT in step with the fast path: cannot install the kernel "
                     "route 10.9.0.0/16: Network is unreachable\n"),
            std::string::npos)
      << out;
  vigild_.answers["show.dataplane"] = json{{"forwarding", true}};
  EXPECT_NE(run({"show", "routes"}).out.find("kernel fallback: off"), std::string::npos);
}

TEST_F(ShowDataplaneTest, ClassifierShowsNonZeroVerdictsAndMatches) {
  vigild_.answers["show.classifier"] = json::array();
  EXPECT_EQ(run({"show", "classifier"}).out,
            "no port runs the XDP classifier (interfaces.<name>.xdp: true)\n");
  vigild_.answers["show.classifier"] = json{
      {{"device", "lan0"},
       {"mode", "native"},
       {"adopted", true},
       {"packets", 5},
       {"verdicts", {{"pass", counted(4, 400)}, {"drop_acl", counted(1, 60)}, {"tx", counted(0)}}},
       {"malformed", json::object()},
       {"vips", json::array()},
       {"backends", json::array()},
       {"acl", {{{"rule", "deny-doc"}, {"matched", counted(1, 60)}}}},
       {"policers", json::array()}}};
  EXPECT_EQ(run({"show", "classifier"}).out,
            "port lan0 (native XDP, adopted from a previous run): 5 packets\n"
            "verdict   packets  bytes\n"
            "drop_acl  1        60\n"
            "pass      4        400\n"
            "\nwhat  name      packets\n"
            "acl   deny-doc  1\n\n");
}

TEST_F(ShowDataplaneTest, ClassifierShowsFramesTheDeviceDidNotSendOrWhyTheyAreNotCounted) {
  json port = {{"device", "lan0"},
               {"mode", "native"},
               {"packets", 7},
               {"verdicts", {{"tx_vip_encapsulated", counted(7, 700)}}},
               {"transmit_errors", {{"tx_failed", 3}, {"redirect_failed", 0}, {"aborted", 1}}}};
  vigild_.answers["show.classifier"] = json::array({port});
  EXPECT_EQ(run({"show", "classifier"}).out,
            "port lan0 (native XDP): 7 packets\n"
            "verdict              packets  bytes\n"
            "tx_vip_encapsulated  7        700\n"
            "not sent after a tx/redirect verdict (since vigil-dp started): aborted 1, "
            "tx_failed 3\n\n");

  port["transmit_errors"] = json::object();
  port["transmit_errors_unavailable"] = "the kernel refused the transmit error counter";
  vigild_.answers["show.classifier"] = json::array({port});
  EXPECT_EQ(run({"show", "classifier"}).out,
            "port lan0 (native XDP): 7 packets\n"
            "verdict              packets  bytes\n"
            "tx_vip_encapsulated  7        700\n"
            "not sent after a tx/redirect verdict: not counted (the kernel refused the "
            "transmit error counter)\n\n");
}

}  // namespace
}  // namespace vigil::mgmt::cli
