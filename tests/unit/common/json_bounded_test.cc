// Bounded JSON parsing: nesting is refused before nlohmann's recursive code sees it.
#include "common/json_bounded.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil {
namespace {

std::string nested(size_t levels, char open = '[', char close = ']') {
  return std::string(levels, open) + std::string(levels, close);
}

TEST(JsonBounded, ParsesOrdinaryDocuments) {
  auto j = parse_json_bounded(R"({"a": [1, {"b": "[[[[{{{{"}], "c": "\"]"})");
  ASSERT_TRUE(j.ok()) << j.error();
  EXPECT_EQ((*j)["a"][1]["b"], "[[[[{{{{");
  EXPECT_EQ((*j)["c"], "\"]");
}

TEST(JsonBounded, NestingUpToTheLimitParses) {
  EXPECT_TRUE(parse_json_bounded(nested(kMaxJsonDepth)).ok());
}

TEST(JsonBounded, DeeperNestingNamesTheLimitAndWhere) {
  auto j = parse_json_bounded(nested(kMaxJsonDepth + 1));
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error(), "nesting deeper than 64 levels at byte 65");
}

// The shape that crashed every daemon: 75,000 levels, 150 KB.
TEST(JsonBounded, HostileNestingIsRefusedWithoutRecursion) {
  EXPECT_FALSE(parse_json_bounded(nested(75000)).ok());
  EXPECT_FALSE(parse_json_bounded("{\"a\":" + std::string(75000, '{')).ok());
}

TEST(JsonBounded, BracketsInsideStringsAndEscapesDoNotCount) {
  const std::string s = "[\"" + std::string(200, '[') + "\\\"" + std::string(200, '{') + "\"]";
  EXPECT_TRUE(parse_json_bounded(s).ok());
}

TEST(JsonBounded, SyntaxErrorsSayWhere) {
  auto j = parse_json_bounded("{\"a\": tru}");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error(), "not valid JSON at byte 10");
}

// nlohmann throws out_of_range, not parse_error, for a number beyond a double; the json_rpc
// fuzz target found it escaping to the socket handler.
TEST(JsonBounded, NumbersTooLargeForADoubleAreAnErrorNotAnException) {
  for (const char* text : {"3.0e5555", "[1, -1e400]", "{\"id\": 1e99999}"}) {
    auto j = parse_json_bounded(text);
    ASSERT_FALSE(j.ok()) << text;
    EXPECT_EQ(j.error(), "not valid JSON: a number is out of range") << text;
  }
}

}  // namespace
}  // namespace vigil
