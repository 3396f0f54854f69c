// The connection buffer: appends and consumes keep the bytes in order across growth and
// compaction, room() never offers past the cap, and an empty buffer gives its block back.
#include "l7proxy/core/byte_buffer.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil::l7 {
namespace {

TEST(ByteBuffer, KeepsBytesInOrderThroughGrowthAndConsumption) {
  ByteBuffer b(1 << 20);
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    const std::string piece = std::to_string(i) + ",";
    b.append(piece);
    expected += piece;
    if (i % 7 == 0 && b.size() >= 3) {
      b.consume(3);
      expected.erase(0, 3);
    }
  }
  EXPECT_EQ(b.view(), expected);
}

TEST(ByteBuffer, RoomStopsAtTheCap) {
  ByteBuffer b(10000);
  auto room = b.room(65536);
  ASSERT_LE(room.size(), 10000u);
  b.commit(room.size());
  while (!b.full()) {
    auto more = b.room(65536);
    ASSERT_FALSE(more.empty());
    b.commit(more.size());
  }
  EXPECT_EQ(b.size(), 10000u);
  EXPECT_TRUE(b.room().empty());
  b.consume(4000);
  EXPECT_EQ(b.room(65536).size(), 4000u);
}

TEST(ByteBuffer, AnEmptyBufferGivesItsBlockBack) {
  ByteBuffer b(4096);
  b.append(std::string_view("hello"));
  b.release_if_empty();
  EXPECT_EQ(b.view(), "hello");  // not empty: kept
  b.consume(5);
  b.release_if_empty();
  EXPECT_TRUE(b.empty());
  b.append(std::string_view("again"));
  EXPECT_EQ(b.view(), "again");
}

TEST(ByteBuffer, AppendingNothingIsNothing) {
  // An empty span's data may be null (an HTTP/2 body's end carries no bytes): never copied,
  // which UBSan would catch as memcpy from null.
  ByteBuffer b(4096);
  b.append(std::span<const char>());
  EXPECT_TRUE(b.empty());
  b.append(std::string_view("x"));
  b.append(std::span<const char>());
  EXPECT_EQ(b.view(), "x");
}

}  // namespace
}  // namespace vigil::l7
