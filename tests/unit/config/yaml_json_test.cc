#include "config/yaml_json.h"

#include <gtest/gtest.h>

namespace vigil::config {
namespace {

YAML::Node y(const char* s) {
  return YAML::Load(s);
}

TEST(YamlSame, ComparesAsTheSchemaReads) {
  EXPECT_TRUE(same(y("{a: 1, b: [x, {c: 2}]}"), y("{b: [x, {c: 2}], a: 1}")));
  EXPECT_FALSE(same(y("{a: 1}"), y("{a: 2}")));
  EXPECT_FALSE(same(y("{a: 1}"), y("{a: 1, b: 2}")));
  EXPECT_FALSE(same(y("[1, 2]"), y("[2, 1]")));
  EXPECT_TRUE(same(y("~"), YAML::Node()));
  EXPECT_FALSE(same(y("{a: 1}"), y("[a]")));
  const YAML::Node doc = y("{a: 1}");
  EXPECT_TRUE(same(doc["missing"], y("~")));
}

TEST(YamlMerge, MappingsMergeDeepOthersReplace) {
  YAML::Node merged = merge(y("{i: {lan0: {role: lan, mtu: 1500}}, l: [1, 2]}"),
                            y("{i: {lan0: {mtu: 9000}}, l: [3]}"));
  EXPECT_TRUE(same(merged, y("{i: {lan0: {role: lan, mtu: 9000}}, l: [3]}")));
}

TEST(YamlJson, ScalarsBecomeStrings) {
  EXPECT_EQ(to_json(y("{a: 1, b: [true, ~]}")),
            (nlohmann::json{{"a", "1"}, {"b", {"true", nullptr}}}));
}

}  // namespace
}  // namespace vigil::config
