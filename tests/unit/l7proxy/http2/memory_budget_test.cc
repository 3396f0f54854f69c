#include "l7proxy/http2/memory_budget.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace vigil::l7::http2 {
namespace {

// Each block's size, kept before it, is held too.
constexpr size_t kHeader = alignof(std::max_align_t);

TEST(MemoryBudgetTest, CountsWhatIsHeldAndRefusesPastTheLimit) {
  MemoryBudget budget(1000);
  nghttp2_mem* mem = budget.allocator();
  void* a = mem->malloc(600, mem->mem_user_data);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(budget.in_use(), 600u + kHeader);
  EXPECT_EQ(mem->malloc(400 - 2 * kHeader + 1, mem->mem_user_data), nullptr);
  EXPECT_TRUE(budget.exhausted());
  void* b = mem->malloc(400 - 2 * kHeader, mem->mem_user_data);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(budget.in_use(), 1000u);
  mem->free(a, mem->mem_user_data);
  mem->free(b, mem->mem_user_data);
  mem->free(nullptr, mem->mem_user_data);
  EXPECT_EQ(budget.in_use(), 0u);
}

TEST(MemoryBudgetTest, ReallocKeepsTheBytesAndCountsTheNewSize) {
  MemoryBudget budget(1000);
  nghttp2_mem* mem = budget.allocator();
  auto* p = static_cast<char*>(mem->malloc(10, mem->mem_user_data));
  std::memcpy(p, "0123456789", 10);  // NOLINT(bugprone-not-null-terminated-result): bytes
  p = static_cast<char*>(mem->realloc(p, 500, mem->mem_user_data));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(std::memcmp(p, "0123456789", 10), 0);
  EXPECT_EQ(budget.in_use(), 500u + kHeader);
  // Growing past the budget fails and leaves the block as it was.
  EXPECT_EQ(mem->realloc(p, 1000 - kHeader + 1, mem->mem_user_data), nullptr);
  EXPECT_EQ(budget.in_use(), 500u + kHeader);
  p = static_cast<char*>(mem->realloc(p, 5, mem->mem_user_data));
  EXPECT_EQ(budget.in_use(), 5u + kHeader);
  EXPECT_EQ(std::memcmp(p, "01234", 5), 0);
  mem->free(p, mem->mem_user_data);
  EXPECT_EQ(budget.in_use(), 0u);
}

TEST(MemoryBudgetTest, CallocZeroesAndRefusesAnOverflowingProduct) {
  MemoryBudget budget(1000);
  nghttp2_mem* mem = budget.allocator();
  auto* p = static_cast<unsigned char*>(mem->calloc(10, 10, mem->mem_user_data));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(p[i], 0);
  }
  EXPECT_EQ(mem->calloc(SIZE_MAX / 2, 3, mem->mem_user_data), nullptr);
  EXPECT_EQ(mem->malloc(SIZE_MAX, mem->mem_user_data), nullptr);
  mem->free(p, mem->mem_user_data);
  EXPECT_EQ(budget.in_use(), 0u);
}

TEST(MemoryBudgetTest, BlocksKeepMallocsAlignment) {
  MemoryBudget budget(1000);
  nghttp2_mem* mem = budget.allocator();
  void* p = mem->malloc(3, mem->mem_user_data);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % alignof(std::max_align_t), 0u);
  mem->free(p, mem->mem_user_data);
}

}  // namespace
}  // namespace vigil::l7::http2
