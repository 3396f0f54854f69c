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
            "monitoring, filter, l4, dataplane"},
           {{"interfaces", "lan0", "speed", "10g"},
            "\"speed\" is not valid after \"interfaces lan0\"; expected one of: role, device, "
            "enabled, mtu, addresses, vlans, xdp, neighbours, allow_martians"},
           {{"interfaces", "lan0", "mtu"},
            "\"interfaces lan0 mtu\" takes one value (integer 68-9216)"},
           {{"l7", "upstreams", "api"},
            "\"l7\" is not supported yet by this build (arrives with the L7 proxy issue)"},
           {{"routing", "static", "x"},
            "\"routing static\" is a list of entries: edit it in a file and `load merge` it (set "
            "cannot address list entries yet)"},
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

TEST(ConfigEdit, NextWordsFollowTheSchemaAndTheDocument) {
  const YAML::Node d = doc("{interfaces: {lan0: {role: lan}, wan1: {role: wan}}}");
  EXPECT_EQ(next_words(d, {}),
            (Words{"system", "interfaces", "routing", "monitoring", "filter", "l4", "dataplane"}));
  EXPECT_EQ(next_words(d, {"interfaces"}), (Words{"lan0", "wan1"}));
  EXPECT_EQ(next_words(d, {"interfaces", "lan0"}),
            (Words{"role", "device", "enabled", "mtu", "addresses", "vlans", "xdp", "neighbours",
                   "allow_martians"}));
  EXPECT_EQ(next_words(d, {"monitoring", "prometheus"}), (Words{"enabled", "listen"}));
  EXPECT_TRUE(next_words(d, {"system", "hostname"}).empty());
}

}  // namespace
}  // namespace vigil::config
