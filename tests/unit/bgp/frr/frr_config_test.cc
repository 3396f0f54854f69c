// frr.conf from routing.bgp: each block and the whole file against golden files
// (tests/unit/bgp/frr/golden/; VIGIL_UPDATE_GOLDEN=1 rewrites them, to be read in review), and
// the whole file through FRR 8.4's own parser (vtysh -C) where FRR is installed.
#include "bgp/frr/frr_config.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/document.h"

namespace vigil::bgp {
namespace {

const std::string kGolden = VIGIL_SOURCE_ROOT "/tests/unit/bgp/frr/golden/";

constexpr const char* kFull = R"(system: {hostname: edge1}
interfaces:
  wan1: {role: wan, addresses: [198.51.100.1/30, "2001:db8:1::1/64"]}
  lo1: {role: lan, addresses: [192.0.2.1/32]}
routing:
  bgp:
    asn: 65001
    router_id: 192.0.2.1
    networks: [10.1.0.0/16, "2001:db8:10::/48"]
    restart_time: 90
    prefix_lists:
      customer:
        rules:
          - {prefix: 10.0.0.0/8, le: 24}
          - {prefix: "2001:db8::/32", ge: 40, le: 48}
          - {action: deny, prefix: 0.0.0.0/0, le: 32}
      site: {rules: [{prefix: 10.1.0.0/16}]}
    as_path_lists:
      short: {rules: [{regex: "^65002_"}, {action: deny, regex: "_64512_"}]}
    community_lists:
      backup: {rules: [{community: "65002:666"}]}
    policies:
      isp-in:
        rules:
          - {action: deny, match_community: backup}
          - {match_prefix_list: customer, match_as_path: short, set_local_preference: 200}
      isp-out:
        rules:
          - {match_prefix_list: site, set_med: 10, set_communities: ["65001:1", no-export],
             set_as_path_prepend: 2}
    neighbors:
      - address: 198.51.100.2
        remote_as: 65002
        description: ISP one
        password_file: /etc/vigil/bgp/isp1.password
        timers: {keepalive: 3, hold: 9, connect: 5}
        bfd: {detect_multiplier: 5, receive_interval_ms: 100, transmit_interval_ms: 100}
        import_policy: isp-in
        export_policy: isp-out
        max_prefixes: {limit: 1000, warning_percent: 90, restart_minutes: 5}
      - address: "2001:db8:1::2"
        remote_as: external
        families: [ipv6_unicast]
        bfd: {}
        import_policy: isp-in
        export_policy: isp-out
        max_prefixes: {limit: 500, warning_only: true}
      - address: 192.0.2.9
        remote_as: internal
        update_source: lo1
      - address: 203.0.113.7
        remote_as: 65003
        multihop: 3
        update_source: 192.0.2.1
        import_policy: isp-in
        export_policy: isp-out
)";

constexpr const char* kMinimal = R"(routing:
  bgp:
    asn: 4200000001
    router_id: 192.0.2.1
    graceful_restart: false
    neighbors: [{address: 192.0.2.9, remote_as: internal}]
)";

config::Config parse(const char* yaml) {
  auto r = config::parse_text(yaml, "vigil.yaml");
  EXPECT_TRUE(r.errors.empty()) << r.errors.to_string();
  return r.config;
}

// Compares `text` with the golden file `name`, or writes it when asked to.
void expect_golden(const std::string& name, const std::string& text) {
  const std::string path = kGolden + name;
  if (std::getenv("VIGIL_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << text;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << path << " is missing: run with VIGIL_UPDATE_GOLDEN=1";
  std::stringstream golden;
  golden << in.rdbuf();
  EXPECT_EQ(text, golden.str()) << name;
}

// FRR 8.4's own parser over the file, without any daemon (vtysh -C).
void expect_frr_parses(const std::string& text) {
  if (::access("/usr/bin/vtysh", X_OK) != 0) {
    GTEST_SKIP() << "FRR's vtysh is not installed: the syntax check is skipped";
  }
  char dir_template[] = "/tmp/vigil-frr-XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  ASSERT_NE(dir, nullptr);
  const std::string file = std::string(dir) + "/frr.conf";
  std::ofstream(file) << text;
  std::ofstream(std::string(dir) + "/vtysh.conf") << "service integrated-vtysh-config\n";
  const std::string command = "/usr/bin/vtysh --config_dir " + std::string(dir) + " -C -f " + file +
                              " > " + std::string(dir) + "/out 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream out(std::string(dir) + "/out");
  std::stringstream said;
  said << out.rdbuf();
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << said.str();
}

FrrInput input_for(const config::Config& c) {
  return FrrInput{.hostname = c.system.hostname,
                  .bgp = &*c.routing.bgp,
                  .passwords = {{"198.51.100.2", "s3cret-Word"}},
                  .vips = {*net::Prefix::parse_network("198.18.50.10/32")}};
}

TEST(FrrConfig, EachBlockAsGolden) {
  const config::Config c = parse(kFull);
  const config::BgpConfig& bgp = *c.routing.bgp;
  expect_golden("header.conf", render_header(c.system.hostname));
  expect_golden("fpm.conf", render_fpm());
  expect_golden("prefix_lists.conf", render_prefix_lists(bgp));
  expect_golden("as_path_lists.conf", render_as_path_lists(bgp));
  expect_golden("community_lists.conf", render_community_lists(bgp));
  expect_golden("route_maps.conf", render_route_maps(bgp));
  auto router = render_router_bgp(input_for(c));
  ASSERT_TRUE(router) << router.error();
  expect_golden("router_bgp.conf", *router);
  expect_golden("bfd.conf", render_bfd_profiles(bgp));
}

TEST(FrrConfig, TheWholeFileIsGoldenAndFrrParsesIt) {
  const config::Config c = parse(kFull);
  auto text = render_frr_conf(input_for(c));
  ASSERT_TRUE(text) << text.error();
  expect_golden("full.conf", *text);
  expect_frr_parses(*text);
}

TEST(FrrConfig, AMinimalConfigIsGoldenAndFrrParsesIt) {
  const config::Config c = parse(kMinimal);
  auto text = render_frr_conf({.bgp = &*c.routing.bgp});
  ASSERT_TRUE(text) << text.error();
  expect_golden("minimal.conf", *text);
  expect_frr_parses(*text);
}

TEST(FrrConfig, WithoutBgpOnlyTheHeader) {
  FrrInput input;
  auto text = render_frr_conf(input);
  ASSERT_TRUE(text) << text.error();
  expect_golden("no_bgp.conf", *text);
  expect_frr_parses(*text);
}

// A password is written only when it is one word FRR takes as such: anything else could
// change what the file says (a space ends the word, a newline starts a command).
TEST(FrrConfig, APasswordThatIsNotOneWordIsRefused) {
  const config::Config c = parse(kFull);
  FrrInput in = input_for(c);
  for (const std::string& bad :
       std::vector<std::string>{"two words", "line\nrouter bgp 1", "", std::string(81, 'a')}) {
    in.passwords["198.51.100.2"] = bad;
    auto text = render_frr_conf(in);
    ASSERT_FALSE(text) << bad;
    EXPECT_EQ(text.error(),
              "neighbour 198.51.100.2: the password in /etc/vigil/bgp/isp1.password is not one "
              "word of 1 to 80 printable ASCII characters");
  }
  in.passwords.clear();
  auto missing = render_frr_conf(in);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(),
            "neighbour 198.51.100.2: no password read from /etc/vigil/bgp/isp1.password");
}

}  // namespace
}  // namespace vigil::bgp
