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

TEST(YamlJson, ScalarsBecomeStrings) {
  EXPECT_EQ(to_json(y("{a: 1, b: [true, ~]}")),
            (nlohmann::json{{"a", "1"}, {"b", {"true", nullptr}}}));
}

}  // namespace
}  // namespace vigil::config
