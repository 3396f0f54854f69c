// Maglev table building: shares follow weights, removing one of N backends moves about 1/N of
// the slots, and the same inputs give the same table.
#include "common/maglev.h"

#include <gtest/gtest.h>

#include <map>

namespace vigil {
namespace {

constexpr uint32_t kSize = 65537;

std::vector<MaglevBackend> backends(int n) {
  std::vector<MaglevBackend> out;
  out.reserve(n);
  for (int i = 0; i < n; ++i) {
    out.push_back({.key = "10.200.0." + std::to_string(i + 1)});
  }
  return out;
}

std::vector<size_t> shares(const std::vector<uint32_t>& table, size_t n) {
  std::vector<size_t> out(n);
  for (const uint32_t b : table) {
    ++out.at(b);
  }
  return out;
}

TEST(MaglevTest, EqualWeightsShareTheTableEvenly) {
  for (const int n : {2, 3, 7, 10, 64}) {
    const auto table = build_maglev_table(backends(n), kSize, 1);
    ASSERT_EQ(table.size(), kSize);
    for (const size_t s : shares(table, n)) {
      EXPECT_NEAR(static_cast<double>(s) / kSize, 1.0 / n, 0.01) << n << " backends";
    }
  }
}

TEST(MaglevTest, SharesFollowWeightsWithinOnePercent) {
  auto b = backends(4);
  b[0].weight = 1;
  b[1].weight = 2;
  b[2].weight = 3;
  b[3].weight = 10;
  const auto s = shares(build_maglev_table(b, kSize, 7), 4);
  for (size_t i = 0; i < 4; ++i) {
    const double want = b[i].weight / 16.0;
    EXPECT_NEAR(static_cast<double>(s[i]) / kSize, want, 0.01 * want + 1e-4) << i;
  }
}

TEST(MaglevTest, DrainedBackendsGetNoSlots) {
  auto b = backends(3);
  b[1].weight = 0;
  const auto s = shares(build_maglev_table(b, kSize, 1), 3);
  EXPECT_EQ(s[1], 0u);
  EXPECT_EQ(s[0] + s[2], kSize);
  b[0].weight = b[2].weight = 0;
  EXPECT_TRUE(build_maglev_table(b, kSize, 1).empty());
  EXPECT_TRUE(build_maglev_table({}, kSize, 1).empty());
}

TEST(MaglevTest, RemovingOneOfNMovesAboutOneNth) {
  for (const int n : {4, 10, 32}) {
    auto before_backends = backends(n);
    const auto before = build_maglev_table(before_backends, kSize, 3);
    auto after_backends = before_backends;
    after_backends.erase(after_backends.begin() + n / 2);
    const auto after = build_maglev_table(after_backends, kSize, 3);
    size_t moved = 0;
    for (uint32_t slot = 0; slot < kSize; ++slot) {
      const std::string& was = before_backends[before[slot]].key;
      const std::string& now = after_backends[after[slot]].key;
      moved += was != now;
    }
    const double fraction = static_cast<double>(moved) / kSize;
    // The removed backend's own slots must move (1/N); Maglev moves a little more, not a lot.
    EXPECT_GE(fraction, 1.0 / n * 0.97) << n;
    EXPECT_LE(fraction, 1.0 / n * 1.6) << n;
    std::printf("%d backends, one removed: %.2f%% of slots moved (ideal %.2f%%)\n", n,
                fraction * 100, 100.0 / n);
  }
}

TEST(MaglevTest, SameInputsSameTableOrderIndependentKeys) {
  const auto a = build_maglev_table(backends(5), kSize, 42);
  const auto b = build_maglev_table(backends(5), kSize, 42);
  EXPECT_EQ(a, b);
  const auto other_seed = build_maglev_table(backends(5), kSize, 43);
  EXPECT_NE(a, other_seed);
}

TEST(MaglevTest, TableSizeMustBePrime) {
  EXPECT_TRUE(is_prime(65537));
  EXPECT_TRUE(is_prime(251));
  EXPECT_FALSE(is_prime(65536));
  EXPECT_FALSE(is_prime(1));
  EXPECT_THROW(build_maglev_table(backends(2), 65536, 1), std::invalid_argument);
  EXPECT_EQ(build_maglev_table(backends(3), 251, 1).size(), 251u);
}

}  // namespace
}  // namespace vigil
