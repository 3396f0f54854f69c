#include "common/yaml_file.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(YamlFile, ParsesMapping) {
  auto doc = parse_yaml("system:\n  hostname: edge1\n", "vigil.yaml");
  ASSERT_TRUE(doc.ok()) << doc.error();
  EXPECT_EQ((*doc)["system"]["hostname"].as<std::string>(), "edge1");
}

TEST(YamlFile, EmptyDocumentIsEmptyMapping) {
  auto doc = parse_yaml("# nothing yet\n", "vigil.yaml");
  ASSERT_TRUE(doc.ok());
  EXPECT_TRUE(doc->IsMap());
  EXPECT_EQ(doc->size(), 0u);
}

TEST(YamlFile, SyntaxErrorNamesFileLineAndColumn) {
  auto doc = parse_yaml("system:\n  hostname: [edge1\n", "vigil.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_TRUE(doc.error().starts_with("vigil.yaml (3:1): ")) << doc.error();
}

TEST(YamlFile, TopLevelMustBeAMapping) {
  auto doc = parse_yaml("- a\n- b\n", "vigil.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error(),
            "vigil.yaml (1:1): the top level must be a mapping of sections (system:, interfaces:, "
            "...)");
}

TEST(YamlFile, MissingFileSaysSo) {
  auto doc = load_yaml_file("/nonexistent/vigil.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error(), "cannot read /nonexistent/vigil.yaml: No such file or directory");
}

}  // namespace
}  // namespace vigil
