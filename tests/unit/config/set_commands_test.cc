#include "config/set_commands.h"

#include <gtest/gtest.h>

#include "config/edit.h"
#include "config/yaml_json.h"

namespace vigil::config {
namespace {

using Lines = std::vector<SetCommand>;

// Every shape the schema has: named maps (interfaces, users, VIPs), mappings, lists of values,
// keyed lists (with a qualifier, nested, ordered), an empty mapping, an entry of its key alone.
const char* const kDocument = R"(
system:
  hostname: edge1
interfaces:
  lan0:
    role: lan
    mtu: 9000
    addresses: [10.1.1.1/24, "fd00:1::1/64"]
    vlans: [{id: 10, addresses: [10.10.0.1/24]}]
  wan1:
    role: wan
    neighbours: [{address: 198.18.1.1, mac: "02:00:00:00:00:01"}]
routing:
  static:
    - {prefix: 0.0.0.0/0, next_hops: [{via: 198.18.1.1}, {via: "fe80::1", interface: wan1}]}
    - {prefix: 0.0.0.0/0, distance: 10, next_hops: [{via: 198.18.2.1}]}
    - {prefix: 10.99.0.0/16, blackhole: true}
filter:
  acl:
    - {name: deny-doc, source: 192.0.2.0/24, action: deny}
    - {name: allow-all, action: allow}
  rate_limits: [{name: scan, source: 0.0.0.0/0, packets_per_second: 100}]
l4:
  vips:
    web: {address: 203.0.113.10, port: 80, backends: [{address: 10.2.0.1}, {address: 10.2.0.2, weight: 2}]}
monitoring:
  prometheus: {}
)";

YAML::Node load(const char* text) {
  return YAML::Load(text);
}

TEST(SetCommands, NameEntriesByTheirKeysAndListValuesOneByOne) {
  const Lines lines = set_commands(load(kDocument));
  const Lines expected = {
      {"system", "hostname", "edge1"},
      {"interfaces", "lan0", "role", "lan"},
      {"interfaces", "lan0", "mtu", "9000"},
      {"interfaces", "lan0", "addresses", "10.1.1.1/24"},
      {"interfaces", "lan0", "addresses", "fd00:1::1/64"},
      {"interfaces", "lan0", "vlans", "10", "addresses", "10.10.0.1/24"},
      {"interfaces", "wan1", "role", "wan"},
      {"interfaces", "wan1", "neighbours", "198.18.1.1", "mac", "02:00:00:00:00:01"},
      // Two default routes: each named with its distance, the default one's too.
      {"routing", "static", "0.0.0.0/0", "distance", "1", "next_hops", "198.18.1.1"},
      {"routing", "static", "0.0.0.0/0", "distance", "1", "next_hops", "fe80::1", "interface",
       "wan1"},
      {"routing", "static", "0.0.0.0/0", "distance", "10", "next_hops", "198.18.2.1"},
      {"routing", "static", "10.99.0.0/16", "blackhole", "true"},
      {"filter", "acl", "deny-doc", "source", "192.0.2.0/24"},
      {"filter", "acl", "deny-doc", "action", "deny"},
      {"filter", "acl", "allow-all", "action", "allow"},
      {"filter", "rate_limits", "scan", "source", "0.0.0.0/0"},
      {"filter", "rate_limits", "scan", "packets_per_second", "100"},
      {"l4", "vips", "web", "address", "203.0.113.10"},
      {"l4", "vips", "web", "port", "80"},
      {"l4", "vips", "web", "backends", "10.2.0.1"},
      {"l4", "vips", "web", "backends", "10.2.0.2", "weight", "2"},
      {"monitoring", "prometheus"},
  };
  EXPECT_EQ(lines, expected);
}

TEST(SetCommands, BuildTheSameDocumentAgain) {
  const YAML::Node original = load(kDocument);
  YAML::Node rebuilt(YAML::NodeType::Map);
  for (const auto& line : set_commands(original)) {
    auto st = set_path(rebuilt, line);
    ASSERT_TRUE(st.ok()) << st.error();
  }
  // The default routes' distance 1 is now said; everything else is as it was.
  YAML::Node expected = YAML::Clone(original);
  expected["routing"]["static"][0]["distance"] = "1";
  EXPECT_TRUE(same(rebuilt, expected)) << emit(rebuilt);
  EXPECT_EQ(set_commands(rebuilt).size(), set_commands(original).size());
}

TEST(SetCommands, KeysOutsideTheSchemaAreWrittenAsTheirYamlGivesThem) {
  EXPECT_EQ(set_commands(load("{bogus: {a: [1, 2]}, system: {colour: blue}}")),
            (Lines{{"bogus", "a", "1"}, {"bogus", "a", "2"}, {"system", "colour", "blue"}}));
  EXPECT_TRUE(set_commands(load("[1, 2]")).empty());
  EXPECT_TRUE(set_commands(load("5")).empty());
  // An entry without its key cannot be named: left out, not invented, and said.
  std::vector<std::string> left_out;
  EXPECT_EQ(set_commands(load("{routing: {static: [{prefix: 10.0.0.0/8, next_hops: "
                              "[{interface: lan0}, {via: 10.1.1.1}]}]}}"),
                         &left_out),
            (Lines{{"routing", "static", "10.0.0.0/8", "next_hops", "10.1.1.1"}}));
  EXPECT_EQ(left_out, (std::vector<std::string>{"routing static 10.0.0.0/8 next_hops[0]"}));
  // A repeated key whose qualifier has no default is not named by an empty qualifier.
  EXPECT_EQ(set_commands(load("{routing: {static: [{prefix: 10.0.0.0/8, next_hops: "
                              "[{via: 10.1.1.1}, {via: 10.1.1.1, weight: 2}]}]}}")),
            (Lines{{"routing", "static", "10.0.0.0/8", "next_hops", "10.1.1.1"},
                   {"routing", "static", "10.0.0.0/8", "next_hops", "10.1.1.1", "weight", "2"}}));
}

TEST(SetCommands, SubtreeKeepsThePathAndNamesOfWhatItShows) {
  const YAML::Node d = load(kDocument);
  EXPECT_TRUE(same(subtree(d, {"system"}), load("{system: {hostname: edge1}}")));
  EXPECT_TRUE(
      same(subtree(d, {"interfaces", "wan1", "role"}), load("{interfaces: {wan1: {role: wan}}}")));
  EXPECT_TRUE(same(subtree(d, {"routing", "static", "0.0.0.0/0", "distance", "10"}),
                   load("{routing: {static: [{prefix: 0.0.0.0/0, distance: 10, "
                        "next_hops: [{via: 198.18.2.1}]}]}}")));
  // Both default routes, each still named by its prefix.
  EXPECT_EQ(subtree(d, {"routing", "static", "0.0.0.0/0"})["routing"]["static"].size(), 2u);
  EXPECT_TRUE(same(subtree(d, {"filter", "acl", "deny-doc", "action"}),
                   load("{filter: {acl: [{name: deny-doc, action: deny}]}}")));
  EXPECT_TRUE(same(subtree(d, {"interfaces", "lan0", "addresses", "10.1.1.1/24"}),
                   load("{interfaces: {lan0: {addresses: [10.1.1.1/24]}}}")));
  EXPECT_TRUE(same(subtree(d, {}), d));
  // Nothing there: null, whichever word misses.
  EXPECT_TRUE(subtree(d, {"interfaces", "lan9"}).IsNull());
  EXPECT_TRUE(subtree(d, {"routing", "static", "10.0.0.0/8"}).IsNull());
  EXPECT_TRUE(subtree(d, {"filter", "acl", "deny-doc", "source", "10.0.0.0/8"}).IsNull());
  EXPECT_TRUE(subtree(d, {"dataplane"}).IsNull());
  EXPECT_TRUE(subtree(load("{routing: 5}"), {"routing", "static"}).IsNull());
}

}  // namespace
}  // namespace vigil::config
