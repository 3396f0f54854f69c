#include "bgp/fpm/fpm_frame_reader.h"

#include <gtest/gtest.h>

#include "tests/unit/bgp/fpm/netlink_builder.h"

namespace vigil::fpm {
namespace {

using test::frame;

std::vector<uint8_t> bytes(std::span<const uint8_t> s) {
  return {s.begin(), s.end()};
}

TEST(FpmFrameReaderTest, FramesComeOutWholeHoweverTheStreamIsCut) {
  const auto a = frame({{1, 2, 3, 4}});
  const auto b = frame({{5, 6, 7, 8, 9, 10, 11, 12}});
  std::vector<uint8_t> stream = a;
  stream.insert(stream.end(), b.begin(), b.end());
  for (size_t cut : {size_t{1}, size_t{3}, size_t{5}, stream.size()}) {
    FpmFrameReader reader;
    std::vector<std::vector<uint8_t>> got;
    for (size_t at = 0; at < stream.size(); at += cut) {
      reader.append(std::span(stream).subspan(at, std::min(cut, stream.size() - at)));
      while (true) {
        auto f = reader.next();
        ASSERT_TRUE(f) << f.error();
        if (!*f) {
          break;
        }
        EXPECT_EQ((*f)->type, kFpmTypeNetlink);
        got.push_back(bytes((*f)->payload));
      }
    }
    ASSERT_EQ(got.size(), 2u) << "cut every " << cut;
    EXPECT_EQ(got[0], (std::vector<uint8_t>{1, 2, 3, 4}));
    EXPECT_EQ(got[1], (std::vector<uint8_t>{5, 6, 7, 8, 9, 10, 11, 12}));
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(FpmFrameReaderTest, AnEmptyFrameAndAnotherTypeAreFramesToo) {
  FpmFrameReader reader;
  reader.append(frame({}));
  reader.append(frame({{9, 9}}, /*type=*/2));  // protobuf: the caller skips it
  auto first = reader.next();
  ASSERT_TRUE(first && *first);
  EXPECT_TRUE((*first)->payload.empty());
  auto second = reader.next();
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->type, 2);
  EXPECT_EQ((*second)->payload.size(), 2u);
}

TEST(FpmFrameReaderTest, AnotherVersionOrALengthShorterThanTheHeaderEndsTheStream) {
  FpmFrameReader other_version;
  other_version.append(std::vector<uint8_t>{2, 1, 0, 8, 0, 0, 0, 0});
  auto a = other_version.next();
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error(), "FPM protocol version 2, not 1");
  FpmFrameReader short_length;
  short_length.append(std::vector<uint8_t>{1, 1, 0, 3});
  auto b = short_length.next();
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error(), "an FPM frame of length 3, shorter than its 4-byte header");
}

// The buffer holds one frame and one read at most: consumed frames make room.
TEST(FpmFrameReaderTest, TheBufferDoesNotGrowWithTheStream) {
  FpmFrameReader reader;
  const auto f = frame({std::vector<uint8_t>(1000, 7)});
  for (int i = 0; i < 1000; ++i) {
    std::span<uint8_t> room = reader.prepare(f.size());
    std::copy(f.begin(), f.end(), room.begin());
    reader.commit(f.size());
    auto got = reader.next();
    ASSERT_TRUE(got && *got);
    EXPECT_EQ((*got)->payload.size(), 1000u);
    EXPECT_EQ(reader.buffered(), 0u);
  }
  // A frame's longest: 65,535 bytes, waited for until whole.
  std::vector<uint8_t> longest(65535, 0);
  longest[0] = 1;
  longest[1] = 1;
  longest[2] = 0xff;
  longest[3] = 0xff;
  reader.append(std::span(longest).first(65534));
  auto partial = reader.next();
  ASSERT_TRUE(partial);
  EXPECT_FALSE(*partial);
  reader.append(std::span(longest).last(1));
  auto whole = reader.next();
  ASSERT_TRUE(whole && *whole);
  EXPECT_EQ((*whole)->payload.size(), 65531u);
}

// commit() takes no more than the last prepare() made room for (a caller's wrong count must
// not make bytes nobody wrote part of the stream), and reset() starts a new stream.
TEST(FpmFrameReaderTest, CommitIsBoundedByPrepareAndResetForgets) {
  FpmFrameReader reader;
  std::span<uint8_t> room = reader.prepare(4);
  const std::vector<uint8_t> header = {1, 1, 0, 8};
  std::copy(header.begin(), header.end(), room.begin());
  reader.commit(100);
  EXPECT_EQ(reader.buffered(), 4u);
  reader.commit(4);  // no prepare() since: nothing
  EXPECT_EQ(reader.buffered(), 4u);
  reader.reset();
  EXPECT_EQ(reader.buffered(), 0u);
  reader.append(frame({{9, 9}}));
  auto got = reader.next();
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->payload.size(), 2u);
}

}  // namespace
}  // namespace vigil::fpm
