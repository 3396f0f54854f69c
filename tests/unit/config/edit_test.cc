#include "config/edit.h"

#include <gtest/gtest.h>

#include "config/document.h"
#include "config/yaml_json.h"

namespace vigil::config {
namespace {

using Words = std::vector<std::string>;

YAML::Node doc(const char* text) {
  return YAML::Load(text);
}

TEST(ConfigEdit, SetsScalarsCreatingWhatIsMissing) {
  YAML::Node d(YAML::NodeType::Map);
  ASSERT_TRUE(set_path(d, {"interfaces", "lan0", "role", "lan"}).ok());
  ASSERT_TRUE(set_path(d, {"interfaces", "lan0", "mtu", "9000"}).ok());
  ASSERT_TRUE(set_path(d, {"system", "hostname", "edge1"}).ok());
  EXPECT_TRUE(
      same(d, doc("{interfaces: {lan0: {role: lan, mtu: 9000}}, system: {hostname: edge1}}")))
      << emit(d);
  EXPECT_TRUE(parse_document(d).ok());
}

TEST(ConfigEdit, ListsGainValuesOnce) {
  YAML::Node d = doc("{interfaces: {lan0: {role: lan, addresses: [10.1.1.1/24]}}}");
  ASSERT_TRUE(set_path(d, {"interfaces", "lan0", "addresses", "fd00::1/64", "10.1.1.1/24"}).ok());
  EXPECT_TRUE(same(d["interfaces"]["lan0"]["addresses"], doc("[10.1.1.1/24, fd00::1/64]")));
}

TEST(ConfigEdit, DeletesEntriesKeysAndListValues) {
  YAML::Node d =
      doc("{interfaces: {lan0: {role: lan, mtu: 9000, addresses: [a, b]}, wan1: {role: wan}}}");
  ASSERT_TRUE(delete_path(d, {"interfaces", "lan0", "mtu"}).ok());
  ASSERT_TRUE(delete_path(d, {"interfaces", "lan0", "addresses", "a"}).ok());
  ASSERT_TRUE(delete_path(d, {"interfaces", "wan1"}).ok());
  EXPECT_TRUE(same(d, doc("{interfaces: {lan0: {role: lan, addresses: [b]}}}"))) << emit(d);
}

struct BadEdit {
  Words words;
  const char* error;
};

TEST(ConfigEdit, ErrorsNameTheWordAndChangeNothing) {
  const YAML::Node original = doc("{interfaces: {lan0: {role: lan}}}");
  for (const BadEdit& b : std::vector<BadEdit>{
           {{"interface", "lan0"},
            "\"interface\" is not valid after \"\"; expected one of: system, interfaces, routing, "
            "monitoring, mesh, filter, l4, dataplane, l7, policies"},
           {{"interfaces", "lan0", "speed", "10g"},
            "\"speed\" is not valid after \"interfaces lan0\"; expected one of: role, device, "
            "enabled, mtu, addresses, vlans, xdp, neighbours, allow_martians"},
           {{"interfaces", "lan0", "mtu"},
            "\"interfaces lan0 mtu\" takes one value (integer 68-9216)"},
           {{"qos", "wan1"},
            "\"qos\" is not supported yet by this build (arrives with the QoS issue)"},
           {{"routing", "static"}, "\"routing static\" needs the prefix of an entry"},
           {{"filter", "acl", "deny-doc", "name", "other"},
            "\"filter acl deny-doc name\" names the entry: delete it and set one with the new "
            "name"},
       }) {
    YAML::Node d = YAML::Clone(original);
    auto st = set_path(d, b.words);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error(), b.error);
    EXPECT_TRUE(same(d, original));
  }
  YAML::Node d = YAML::Clone(original);
  EXPECT_EQ(delete_path(d, {"interfaces", "wan9"}).error(), "\"interfaces wan9\" does not exist");
}

// The keyed lists, as an operator edits them without a file.
const char* const kRoutes =
    "{routing: {static: [{prefix: 0.0.0.0/0, next_hops: [{via: 198.18.1.1}]},"
    " {prefix: 0.0.0.0/0, distance: 10, next_hops: [{via: 198.18.2.1}]},"
    " {prefix: 10.9.0.0/16, next_hops: [{via: 10.0.0.1}]}]},"
    " filter: {acl: [{name: a, source: 192.0.2.0/24, action: deny},"
    " {name: b, source: 198.51.100.0/24, action: deny}, {name: c, action: allow}]}}";

TEST(ConfigEdit, SetAddressesEntriesOfKeyedListsByTheirKeyAndMakesNewOnes) {
  YAML::Node d = doc(kRoutes);
  auto path = set_path(d, {"routing", "static", "10.9.0.0/16", "next_hops", "10.0.0.2"});
  ASSERT_TRUE(path.ok()) << path.error();
  EXPECT_EQ(*path, "routing.static[2].next_hops[1]");
  path = set_path(d, {"routing", "static", "10.9.0.0/16", "next_hops", "10.0.0.2", "weight", "3"});
  ASSERT_TRUE(path.ok()) << path.error();
  EXPECT_EQ(*path, "routing.static[2].next_hops[1].weight");
  path = set_path(d, {"routing", "static", "172.16.0.0/12", "blackhole", "true"});
  ASSERT_TRUE(path.ok()) << path.error();
  EXPECT_EQ(*path, "routing.static[3].blackhole");
  // The qualifier tells the two default routes apart; without it they are ambiguous.
  path =
      set_path(d, {"routing", "static", "0.0.0.0/0", "distance", "10", "next_hops", "198.18.3.1"});
  ASSERT_TRUE(path.ok()) << path.error();
  EXPECT_EQ(*path, "routing.static[1].next_hops[1]");
  const auto ambiguous = set_path(d, {"routing", "static", "0.0.0.0/0", "next_hops", "1.1.1.1"});
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.error(),
            "\"routing static 0.0.0.0/0\" names 2 entries (distance 1, 10): say which with "
            "`routing static 0.0.0.0/0 distance <value>`");
  ASSERT_TRUE(set_path(d, {"filter", "acl", "d", "action", "deny"}).ok());
  EXPECT_TRUE(same(d, doc("{routing: {static: ["
                          "{prefix: 0.0.0.0/0, next_hops: [{via: 198.18.1.1}]},"
                          "{prefix: 0.0.0.0/0, distance: 10, next_hops: [{via: 198.18.2.1}, "
                          "{via: 198.18.3.1}]},"
                          "{prefix: 10.9.0.0/16, next_hops: [{via: 10.0.0.1}, {via: 10.0.0.2, "
                          "weight: 3}]},"
                          "{prefix: 172.16.0.0/12, blackhole: true}]},"
                          " filter: {acl: [{name: a, source: 192.0.2.0/24, action: deny},"
                          " {name: b, source: 198.51.100.0/24, action: deny},"
                          " {name: c, action: allow}, {name: d, action: deny}]}}")))
      << emit(d);
  EXPECT_TRUE(parse_document(d).ok()) << parse_document(d).errors.to_string();
}

TEST(ConfigEdit, DeleteRemovesOneEntryOrOneFieldOfIt) {
  YAML::Node d = doc(kRoutes);
  ASSERT_TRUE(delete_path(d, {"filter", "acl", "b"}).ok());
  ASSERT_TRUE(delete_path(d, {"routing", "static", "0.0.0.0/0", "distance", "10"}).ok());
  ASSERT_TRUE(delete_path(d, {"routing", "static", "10.9.0.0/16", "next_hops", "10.0.0.1"}).ok());
  EXPECT_TRUE(same(d["filter"]["acl"], doc("[{name: a, source: 192.0.2.0/24, action: deny},"
                                           " {name: c, action: allow}]")))
      << emit(d);
  EXPECT_TRUE(same(d["routing"]["static"], doc("[{prefix: 0.0.0.0/0, next_hops: [{via: "
                                               "198.18.1.1}]}, {prefix: 10.9.0.0/16}]")))
      << emit(d);
  EXPECT_EQ(delete_path(d, {"filter", "acl", "zz"}).error(), "\"filter acl zz\" does not exist");
  // With one default route left, its prefix alone names it.
  ASSERT_TRUE(delete_path(d, {"routing", "static", "0.0.0.0/0", "next_hops"}).ok());
}

TEST(ConfigEdit, InsertMovesAnEntryBeforeOrAfterAnother) {
  YAML::Node d = doc(kRoutes);
  ASSERT_TRUE(insert_path(d, {"filter", "acl", "c"}, /*before=*/true, "a").ok());
  std::vector<std::string> order;
  for (const auto& rule : d["filter"]["acl"]) {
    order.push_back(rule["name"].Scalar());
  }
  EXPECT_EQ(order, (Words{"c", "a", "b"}));
  ASSERT_TRUE(insert_path(d, {"filter", "acl", "c"}, /*before=*/false, "b").ok());
  order.clear();
  for (const auto& rule : d["filter"]["acl"]) {
    order.push_back(rule["name"].Scalar());
  }
  EXPECT_EQ(order, (Words{"a", "b", "c"}));
  EXPECT_EQ(insert_path(d, {"filter", "acl", "c"}, true, "nope").error(),
            "\"filter acl nope\" does not exist");
  EXPECT_EQ(insert_path(d, {"filter", "acl", "c"}, true, "c").error(),
            "an entry cannot move before itself");
  EXPECT_FALSE(insert_path(d, {"filter", "default_action"}, true, "a").ok());
}

TEST(ConfigEdit, TwoEntriesOfTheSameNameAreAConfigError) {
  const auto r =
      parse_document(doc("{filter: {acl: [{name: a, action: deny}, {name: a, action: allow}]}}"));
  EXPECT_EQ(r.errors.to_string(), "filter.acl[1].name (1:49): another entry is named \"a\"\n")
      << "the section's own words, once";
  const auto hops = parse_document(
      doc("{interfaces: {lan0: {role: lan, addresses: [10.0.0.9/24]}}, routing: {static: "
          "[{prefix: 0.0.0.0/0, next_hops: [{via: 10.0.0.1}, {via: 10.0.0.1, weight: 2}]}]}}"));
  EXPECT_EQ(hops.errors.to_string(),
            "routing.static[0].next_hops[1].via (1:135): \"10.0.0.1\" is "
            "routing.static[0].next_hops[0] already: entries of a list are named by their via "
            "and interface\n");
  // One link-local gateway reached on two ports: two next hops (ECMP), not a repeat.
  const auto link_local = parse_document(
      doc("{interfaces: {wan0: {role: wan}, wan1: {role: wan}}, routing: {static: [{prefix: "
          "::/0, next_hops: [{via: \"fe80::1\", interface: wan0}, {via: \"fe80::1\", "
          "interface: wan1}]}]}}"));
  EXPECT_EQ(link_local.errors.to_string(), "");
}

TEST(ConfigEdit, NextWordsFollowTheSchemaAndTheDocument) {
  const YAML::Node d = doc("{interfaces: {lan0: {role: lan}, wan1: {role: wan}}}");
  EXPECT_EQ(next_words(d, {}), (Words{"system", "interfaces", "routing", "monitoring", "mesh",
                                      "filter", "l4", "dataplane", "l7", "policies"}));
  EXPECT_EQ(next_words(d, {"interfaces"}), (Words{"lan0", "wan1"}));
  EXPECT_EQ(next_words(d, {"interfaces", "lan0"}),
            (Words{"role", "device", "enabled", "mtu", "addresses", "vlans", "xdp", "neighbours",
                   "allow_martians"}));
  EXPECT_EQ(next_words(d, {"monitoring", "prometheus"}), (Words{"enabled", "listen"}));
  EXPECT_TRUE(next_words(d, {"system", "hostname"}).empty());
  const YAML::Node routes = doc(kRoutes);
  EXPECT_EQ(next_words(routes, {"routing", "static"}), (Words{"0.0.0.0/0", "10.9.0.0/16"}));
  EXPECT_EQ(next_words(routes, {"filter", "acl"}), (Words{"a", "b", "c"}));
  EXPECT_EQ(next_words(routes, {"routing", "static", "0.0.0.0/0", "distance", "10"}),
            (Words{"prefix", "next_hops", "distance", "blackhole"}));
}

TEST(ConfigEdit, DescribeGivesTypesNamesAndWhereAValueGoes) {
  const YAML::Node d = doc("{interfaces: {lan0: {role: lan}}}");
  const auto mtu = describe_next(d, {"interfaces", "lan0", "mtu"});
  ASSERT_EQ(mtu.size(), 1u);
  EXPECT_EQ(mtu[0].word, "<value>");
  EXPECT_EQ(mtu[0].type, "integer 68-9216");
  EXPECT_EQ(mtu[0].description, "IP MTU (default 1500)");
  const auto names = describe_next(d, {"interfaces"});
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0].word, "lan0");
  EXPECT_EQ(names[0].type, "existing");
  EXPECT_EQ(names[1].word, "<name>");
  const auto acl = describe_next(doc(kRoutes), {"filter", "acl"});
  EXPECT_EQ(acl.back().word, "<name>");
  EXPECT_EQ(acl.front().word, "a");
  EXPECT_TRUE(describe_next(d, {"interfaces", "lan0", "mtu", "9000"}).empty());
}

TEST(ConfigEdit, ValuesOfAFixedSetAreOfferedAndDeleteOffersOnlyWhatIsSet) {
  const YAML::Node d = doc(kRoutes);
  EXPECT_EQ(next_words(d, {"interfaces", "lan0", "role"}), (Words{"lan", "wan"}));
  EXPECT_EQ(next_words(d, {"interfaces", "lan0", "xdp"}), (Words{"true", "false"}));
  EXPECT_EQ(next_words(d, {"filter", "default_action"}), (Words{"pass", "drop"}));
  EXPECT_EQ(next_words(d, {"interfaces", "lan0", "allow_martians"}),
            (Words{"this_network", "loopback", "reserved", "link_local", "ipv4_mapped"}));
  EXPECT_EQ(next_words(d, {"interfaces", "lan0", "mtu"}), Words{});
  EXPECT_EQ(next_words(d, {"system", "users", "alice", "role"}),
            (Words{"admin", "operator", "viewer"}));
  // delete: the sections, entries, fields and values the document holds, nothing else.
  EXPECT_EQ(next_words(d, {}, true), (Words{"routing", "filter"}));
  EXPECT_EQ(next_words(d, {"filter"}, true), (Words{"acl"}));
  EXPECT_EQ(next_words(d, {"filter", "acl"}, true), (Words{"a", "b", "c"}));
  EXPECT_EQ(next_words(d, {"filter", "acl", "a"}, true), (Words{"name", "source", "action"}));
  EXPECT_EQ(next_words(d, {"filter", "acl", "a", "action"}, true), Words{"deny"});
  EXPECT_EQ(next_words(d, {"interfaces"}, true), Words{});
}

// A candidate may hold any YAML: completion through a scalar or a list where the schema has a
// mapping offers the schema's words, not an exception (found by the config fuzz target).
TEST(ConfigEdit, CompletionThroughTheWrongShapeOffersTheSchemaOnly) {
  const YAML::Node d = doc("{routing: 5, interfaces: [1, 2], filter: {acl: x}}");
  EXPECT_EQ(next_words(d, {"routing", "static"}), Words{});
  EXPECT_EQ(next_words(d, {"routing", "static", "0.0.0.0/0"}),
            (Words{"prefix", "next_hops", "distance", "blackhole"}));
  EXPECT_EQ(next_words(d, {"interfaces"}), Words{});
  EXPECT_EQ(next_words(d, {"interfaces", "lan0"}).size(), 9u);
  EXPECT_EQ(next_words(d, {"filter", "acl"}), Words{});
  EXPECT_EQ(next_words(doc("7"), {"system"}).size(), next_words(doc("{}"), {"system"}).size());
}

}  // namespace
}  // namespace vigil::config
