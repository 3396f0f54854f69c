// The chunked decoder: a good body in one piece and a byte at a time gives the same data;
// extensions and trailers are taken and dropped; every malformed shape is an error that stops
// it, and what follows the body is left for the next message.
#include "l7proxy/http1/chunked.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil::l7::http1 {
namespace {

struct Decoded {
  std::string data;
  size_t consumed = 0;
  bool done = false;
  std::string error;
};

// Fed `piece` bytes at a time, as they might arrive.
Decoded decode(const std::string& text, size_t piece = SIZE_MAX,
               ChunkedDecoder::Limits limits = {}) {
  ChunkedDecoder d(limits);
  Decoded out;
  size_t arrived = 0;
  while (!out.done && out.error.empty()) {
    if (out.consumed == arrived) {
      if (arrived == text.size()) {
        break;  // it waits for more than there is
      }
      arrived += std::min(piece, text.size() - arrived);
    }
    const ChunkedDecoder::Step s =
        d.next(std::span(text.data() + out.consumed, arrived - out.consumed));
    out.data.append(s.data.data(), s.data.size());
    out.consumed += s.consumed;
    out.done = s.done;
    out.error = std::string(s.error);
  }
  return out;
}

TEST(ChunkedDecoderTest, ABodyWholeOrByteByByteGivesTheSameData) {
  const std::string body =
      "5\r\nhello\r\n1;name=value;x=\"q s\"\r\n \r\n10\r\n0123456789abcdef\r\n"
      "0\r\nTrailer-A: 1\r\nTrailer-B: 2\r\n\r\nGET /next";
  for (const size_t piece : {SIZE_MAX, size_t{1}, size_t{3}, size_t{7}}) {
    const Decoded d = decode(body, piece);
    EXPECT_EQ(d.error, "") << piece;
    EXPECT_TRUE(d.done) << piece;
    EXPECT_EQ(d.data, "hello 0123456789abcdef") << piece;
    EXPECT_EQ(d.consumed, body.size() - 9) << "the next request is left: " << piece;
  }
}

TEST(ChunkedDecoderTest, AnEmptyBodyAndUpperCaseHex) {
  EXPECT_TRUE(decode("0\r\n\r\n").done);
  const Decoded d = decode("A\r\n0123456789\r\n0\r\n\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.data.size(), 10u);
}

TEST(ChunkedDecoderTest, AnUnfinishedBodyWaits) {
  const Decoded d = decode("5\r\nhel");
  EXPECT_FALSE(d.done);
  EXPECT_EQ(d.error, "");
  EXPECT_EQ(d.data, "hel");
}

class ChunkedRefusals : public ::testing::TestWithParam<std::pair<const char*, std::string>> {};

TEST_P(ChunkedRefusals, StopWithAnError) {
  ChunkedDecoder::Limits limits;
  limits.max_size_line = 32;
  limits.max_trailer_bytes = 32;
  for (const size_t piece : {SIZE_MAX, size_t{1}}) {
    const Decoded d = decode(GetParam().second, piece, limits);
    EXPECT_NE(d.error, "") << GetParam().first << " piece " << piece;
    EXPECT_FALSE(d.done) << GetParam().first;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ChunkedRefusals,
    ::testing::Values(
        std::pair{"no size", std::string("\r\nabc\r\n0\r\n\r\n")},
        std::pair{"a 0x prefix", std::string("0x5\r\nhello\r\n0\r\n\r\n")},
        std::pair{"a sign", std::string("+5\r\nhello\r\n0\r\n\r\n")},
        std::pair{"whitespace first", std::string(" 5\r\nhello\r\n0\r\n\r\n")},
        std::pair{"whitespace inside", std::string("5 5\r\nhello\r\n0\r\n\r\n")},
        std::pair{"whitespace then nothing", std::string("5 \r\nhello\r\n0\r\n\r\n")},
        std::pair{"bare LF after the size", std::string("5\nhello\r\n0\r\n\r\n")},
        std::pair{"CR without LF", std::string("5\rhello\r\n0\r\n\r\n")},
        std::pair{"data longer than its size", std::string("3\r\nhello\r\n0\r\n\r\n")},
        std::pair{"data without its CRLF", std::string("5\r\nhello0\r\n\r\n")},
        std::pair{"bare LF after data", std::string("5\r\nhello\n0\r\n\r\n")},
        std::pair{"a size past 64 bits", std::string("10000000000000000\r\n")},
        std::pair{"a size line past its limit",
                  std::string("5;") + std::string(40, 'x') + "\r\nhello\r\n0\r\n\r\n"},
        std::pair{"a control character in an extension", std::string("5;a\x01\r\nhello\r\n")},
        std::pair{"a bare LF in the trailer", std::string("0\r\nX: y\n\r\n")},
        std::pair{"a folded trailer", std::string("0\r\nX: y\r\n z\r\n\r\n")},
        std::pair{"a trailer past its limit",
                  std::string("0\r\nX: ") + std::string(40, 'y') + "\r\n\r\n"},
        std::pair{"the end without LF", std::string("0\r\n\rX")}));

TEST(ChunkedDecoderTest, ABodyPastItsLimitIsRefused) {
  ChunkedDecoder::Limits limits;
  limits.max_body_bytes = 8;
  EXPECT_TRUE(decode("5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n", SIZE_MAX, limits).done);
  EXPECT_EQ(decode("5\r\nhello\r\n4\r\nabcd\r\n0\r\n\r\n", SIZE_MAX, limits).error,
            "a chunked body longer than the limit");
}

TEST(ChunkedDecoderTest, AFailedDecoderTakesNothingMore) {
  ChunkedDecoder d;
  const std::string bad = "zz\r\n";
  EXPECT_NE(d.next(std::span(bad.data(), bad.size())).error, "");
  const std::string good = "0\r\n\r\n";
  const auto s = d.next(std::span(good.data(), good.size()));
  EXPECT_NE(s.error, "");
  EXPECT_EQ(s.consumed, 0u);
}

}  // namespace
}  // namespace vigil::l7::http1
