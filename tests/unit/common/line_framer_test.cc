#include "common/line_framer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil {
namespace {

struct Collector {
  std::vector<std::string> lines;
  std::function<void(std::string_view)> fn() {
    return [this](std::string_view l) { lines.emplace_back(l); };
  }
};

TEST(LineFramer, SplitsCompleteLines) {
  LineFramer f(100);
  Collector c;
  EXPECT_EQ(f.feed("a\nbb\nccc\n", c.fn()), LineFramer::Status::kOk);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"a", "bb", "ccc"}));
  EXPECT_EQ(f.buffered_bytes(), 0u);
}

TEST(LineFramer, JoinsPartialLinesAcrossFeeds) {
  LineFramer f(100);
  Collector c;
  f.feed("{\"jsonrpc\":", c.fn());
  EXPECT_TRUE(c.lines.empty());
  f.feed("\"2.0\"}", c.fn());
  EXPECT_TRUE(c.lines.empty());
  f.feed("\n{\"x\"", c.fn());
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0], "{\"jsonrpc\":\"2.0\"}");
  EXPECT_EQ(f.buffered_bytes(), 4u);
}

TEST(LineFramer, OneByteAtATime) {
  LineFramer f(100);
  Collector c;
  for (char ch : std::string("hello\nworld\n")) {
    f.feed(std::string_view(&ch, 1), c.fn());
  }
  EXPECT_EQ(c.lines, (std::vector<std::string>{"hello", "world"}));
}

TEST(LineFramer, StripsCarriageReturnAndSkipsBlankLines) {
  LineFramer f(100);
  Collector c;
  f.feed("one\r\n\n  \r\ntwo\n", c.fn());
  EXPECT_EQ(c.lines, (std::vector<std::string>{"one", "two"}));
}

TEST(LineFramer, PendingLineOverLimitOverflows) {
  LineFramer f(8);
  Collector c;
  EXPECT_EQ(f.feed("12345678", c.fn()), LineFramer::Status::kOk);  // exactly the limit
  EXPECT_EQ(f.feed("9", c.fn()), LineFramer::Status::kOverflow);
  // Overflow is sticky: the stream cannot be resynchronised safely.
  EXPECT_EQ(f.feed("\nok\n", c.fn()), LineFramer::Status::kOverflow);
  EXPECT_TRUE(c.lines.empty());
}

TEST(LineFramer, CompleteLineOverLimitOverflowsButEarlierLinesAreDelivered) {
  LineFramer f(4);
  Collector c;
  EXPECT_EQ(f.feed("ok\ntoolong\nlater\n", c.fn()), LineFramer::Status::kOverflow);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"ok"}));
}

TEST(LineFramer, ManySmallLinesKeepBufferBounded) {
  LineFramer f(16);
  Collector c;
  for (int i = 0; i < 10000; ++i) {
    ASSERT_EQ(f.feed("abc\nde", c.fn()), LineFramer::Status::kOk);
    ASSERT_EQ(f.feed("f\n", c.fn()), LineFramer::Status::kOk);
  }
  EXPECT_EQ(c.lines.size(), 20000u);
  EXPECT_EQ(f.buffered_bytes(), 0u);
}

}  // namespace
}  // namespace vigil
