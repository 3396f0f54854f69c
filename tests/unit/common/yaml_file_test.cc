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

TEST(YamlFile, DeepNestingIsRefusedClearly) {
  const std::string deep = "a: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  auto doc = parse_yaml(deep, "vigil.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.error().find("nesting deeper than"), std::string::npos) << doc.error();
}

TEST(YamlFile, NestingIsBoundedBelowYamlCppsOwnLimit) {
  auto nested = [](size_t levels) {
    return "a: " + std::string(levels, '[') + std::string(levels, ']') + "\n";
  };
  EXPECT_TRUE(parse_yaml(nested(kMaxYamlDepth - 1), "vigil.yaml").ok());
  auto doc = parse_yaml(nested(kMaxYamlDepth + 1), "vigil.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.error().find("vigil.yaml (1:"), std::string::npos) << doc.error();
  EXPECT_NE(doc.error().find("nesting deeper than 64 levels"), std::string::npos) << doc.error();
}

// 546 bytes that expand to 10^9 nodes: parsing is instant, any walk of the tree is not.
TEST(YamlFile, BillionLaughsIsRefusedWithoutExpanding) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 9; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) {
      text += (k == 0 ? "" : ", ") + prev;
    }
    text += "]\n";
  }
  auto doc = parse_yaml(text, "merge.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.error().find("more than 1000000 nodes once aliases are expanded"),
            std::string::npos)
      << doc.error();
}

TEST(YamlFile, ALongScalarAliasedManyTimesIsRefused) {
  std::string text = "big: &b " + std::string(1 << 20, 'x') + "\nmany: [";
  for (int i = 0; i < 100; ++i) {
    text += (i == 0 ? "*b" : ", *b");
  }
  text += "]\n";
  auto doc = parse_yaml(text, "vigil.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.error().find("bytes of text once aliases are expanded"), std::string::npos)
      << doc.error();
}

TEST(YamlFile, AliasesWithinTheLimitsStillWork) {
  auto doc = parse_yaml("base: &b {mtu: 1500}\nlan0: *b\nlan1: *b\n", "vigil.yaml");
  ASSERT_TRUE(doc.ok()) << doc.error();
  EXPECT_EQ((*doc)["lan1"]["mtu"].as<int>(), 1500);
}

TEST(YamlFile, AnAliasInsideItsOwnAnchorIsRefused) {
  auto doc = parse_yaml("a: &x [1, *x]\n", "vigil.yaml");
  // yaml-cpp either rejects the unknown anchor or builds a cycle; a cycle must not pass.
  EXPECT_FALSE(doc.ok());
}

TEST(YamlFile, OversizedDocumentIsRefusedBeforeParsing) {
  auto doc = parse_yaml(std::string(kMaxYamlBytes + 1, '#'), "vigil.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.error().find("is more than the"), std::string::npos) << doc.error();
}

TEST(YamlFile, BinaryGarbageGetsAnError) {
  std::string garbage;
  for (int i = 0; i < 1 << 20; ++i) {
    garbage += static_cast<char>((i * 2654435761u) >> 24);
  }
  auto doc = parse_yaml(garbage, "vigil.yaml");
  EXPECT_FALSE(doc.ok());
}

TEST(YamlFile, MissingFileSaysSo) {
  auto doc = load_yaml_file("/nonexistent/vigil.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error(), "cannot read /nonexistent/vigil.yaml: No such file or directory");
}

}  // namespace
}  // namespace vigil
