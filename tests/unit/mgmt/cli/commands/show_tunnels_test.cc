// show tunnels against a fake vigild answering as vigil-dp does: wg show's layout with the
// peer's name, sizes and ages as wg prints them, refusals, and no mesh said plainly.
#include <gtest/gtest.h>

#include <ctime>

#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/dispatch.h"
#include "tests/unit/mgmt/cli/fake_vigild.h"

namespace vigil::mgmt::cli {
namespace {

using nlohmann::json;

class ShowTunnelsTest : public ::testing::Test {
 protected:
  Output run(const std::vector<std::string>& words, bool as_json = false) {
    return dispatch(table_, vigild_, words, as_json);
  }
  CommandTable table_ = build_table();
  FakeVigild vigild_;
};

TEST_F(ShowTunnelsTest, PrintsWhatWgShowPrintsWithThePeersName) {
  vigild_.answers["show.tunnels"] =
      json{{"enabled", true},
           {"public_key", "KgWYky3MH3oUY+IBO7LfL8ObVypjHG6Dte0jrq4giTU="},
           {"listen_port", 51820},
           {"peers",
            {{{"name", "branch-2"},
              {"public_key", "5rIcK4isLYsZgkYRWPhY6I30S+u71xTdJWd9kJcWQkA="},
              {"endpoint", "198.51.100.2:51820"},
              {"allowed_ips", {"10.2.0.0/16", "fd00:2::/48"}},
              {"latest_handshake", time(nullptr) - 65},
              {"rx_bytes", 1263},
              {"tx_bytes", 5 * 1024 * 1024},
              {"handshakes_sent", 2},
              {"handshakes_received", 1},
              {"persistent_keepalive", 25},
              {"session", true}},
             {{"name", "branch-3"},
              {"public_key", "FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE="},
              {"endpoint_problem", "b3.example.net does not resolve: Name or service not known"},
              {"allowed_ips", json::array()}}}},
           {"rejects", {{"bad_mac1", 3}, {"cookie_sent", 40}}}};
  const std::string out = run({"show", "tunnels"}).out;
  EXPECT_EQ(out,
            "interface: mesh\n"
            "  public key: KgWYky3MH3oUY+IBO7LfL8ObVypjHG6Dte0jrq4giTU=\n"
            "  listen port: 51820\n"
            "\npeer: 5rIcK4isLYsZgkYRWPhY6I30S+u71xTdJWd9kJcWQkA= (branch-2)\n"
            "  endpoint: 198.51.100.2:51820\n"
            "  allowed ips: 10.2.0.0/16, fd00:2::/48\n"
            "  latest handshake: 1 minute, 5 seconds ago\n"
            "  transfer: 1.23 KiB received, 5.00 MiB sent\n"
            "  persistent keepalive: every 25 seconds\n"
            "  handshakes: 2 sent, 1 received\n"
            "\npeer: FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE= (branch-3)\n"
            "  endpoint problem: b3.example.net does not resolve: Name or service not known\n"
            "  allowed ips: (none)\n"
            "  handshakes: 0 sent, 0 received\n"
            "\nrefused handshake messages: bad_mac1 3 cookie_sent 40\n");
  const json j = json::parse(run({"show", "tunnels"}, true).out);
  EXPECT_EQ(j["peers"][0]["name"], "branch-2");
  EXPECT_EQ(j["peers"][0]["tx_bytes"], 5 * 1024 * 1024);
}

TEST_F(ShowTunnelsTest, NoMeshIsSaid) {
  vigild_.answers["show.tunnels"] = json{{"enabled", false}};
  EXPECT_EQ(run({"show", "tunnels"}).out,
            "no mesh: the config has no mesh section, or vigil-dp's fast path is not "
            "forwarding\n");
}

}  // namespace
}  // namespace vigil::mgmt::cli
