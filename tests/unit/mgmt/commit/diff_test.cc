#include "mgmt/commit/diff.h"

#include <gtest/gtest.h>

namespace vigil::mgmt::commit {
namespace {

TEST(UnifiedDiff, EqualTextsGiveNothing) {
  EXPECT_EQ(unified_diff("a\n", "a\n", "x", "y"), "");
}

TEST(UnifiedDiff, ShowsChangedLinesWithContext) {
  const std::string from = "system:\n  hostname: one\ninterfaces: {}\n";
  const std::string to = "system:\n  hostname: two\ninterfaces: {}\n";
  EXPECT_EQ(unified_diff(from, to, "running", "candidate"),
            "--- running\n+++ candidate\n"
            "@@ -1,3 +1,3 @@\n"
            " system:\n"
            "-  hostname: one\n"
            "+  hostname: two\n"
            " interfaces: {}\n");
}

TEST(UnifiedDiff, AdditionToAnEmptyConfig) {
  EXPECT_EQ(unified_diff("", "a: 1\n", "rollback 1", "candidate"),
            // dtl numbers an empty side from 1 where GNU diff says 0; readers do not mind.
            "--- rollback 1\n+++ candidate\n@@ -1,0 +1,1 @@\n+a: 1\n");
}

}  // namespace
}  // namespace vigil::mgmt::commit
