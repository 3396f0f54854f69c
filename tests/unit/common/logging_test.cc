#include "common/logging.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace vigil::log {
namespace {

using namespace std::chrono;

const system_clock::time_point kWhen = system_clock::time_point(milliseconds(1764064800123));

TEST(LogFormat, OneLogfmtLinePerEvent) {
  EXPECT_EQ(format_line(kWhen, Level::kInfo, "vigild", "listening",
                        {{"socket", "/run/vigil/vigild.sock"}, {"backlog", 64}, {"ready", true}}),
            "ts=2025-11-25T10:00:00.123Z level=info component=vigild msg=listening "
            "socket=/run/vigil/vigild.sock backlog=64 ready=true\n");
}

TEST(LogFormat, QuotesAndEscapesWhenNeeded) {
  EXPECT_EQ(format_line(kWhen, Level::kError, "vigil-dp", "bad config",
                        {{"error", "line 3: \"x\"=y\\z"}, {"empty", ""}, {"nl", "a\nb"}}),
            "ts=2025-11-25T10:00:00.123Z level=error component=vigil-dp msg=\"bad config\" "
            "error=\"line 3: \\\"x\\\"=y\\\\z\" empty=\"\" nl=\"a\\nb\"\n");
}

TEST(LogFormat, ControlCharactersAreHexEscaped) {
  std::string out;
  append_value(out, std::string("a\x01") + "b");
  EXPECT_EQ(out, "\"a\\x01b\"");
}

TEST(LogFormat, NegativeAndFloatingValues) {
  EXPECT_EQ(format_line(kWhen, Level::kDebug, "c", "m", {{"n", -5}, {"f", 0.25}}),
            "ts=2025-11-25T10:00:00.123Z level=debug component=c msg=m n=-5 f=0.25\n");
}

TEST(LogLevel, ParsesNames) {
  EXPECT_EQ(parse_level("debug"), Level::kDebug);
  EXPECT_EQ(parse_level("warn"), Level::kWarn);
  EXPECT_EQ(parse_level("warning"), Level::kWarn);
  EXPECT_EQ(parse_level("error"), Level::kError);
  EXPECT_EQ(parse_level("loud"), std::nullopt);
}

class CaptureSink : public Sink {
 public:
  void write_line(std::string_view line) override { lines.emplace_back(line); }
  std::vector<std::string> lines;
};

class LoggerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_sink(&sink_);
    set_component("test");
    set_level(Level::kInfo);
  }
  void TearDown() override { set_sink(nullptr); }
  CaptureSink sink_;
};

TEST_F(LoggerTest, FiltersBelowLevel) {
  debug("hidden");
  info("shown");
  set_level(Level::kError);
  warn("hidden too");
  error("also shown");
  ASSERT_EQ(sink_.lines.size(), 2u);
  EXPECT_NE(sink_.lines[0].find("level=info component=test msg=shown\n"), std::string::npos);
  EXPECT_NE(sink_.lines[1].find("level=error component=test msg=\"also shown\"\n"),
            std::string::npos);
}

TEST_F(LoggerTest, ConcurrentWritersNeverInterleaveLines) {
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 500; ++i) {
        info("event", {{"thread", t}, {"i", i}});
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  ASSERT_EQ(sink_.lines.size(), 2000u);
  for (const auto& l : sink_.lines) {
    ASSERT_EQ(std::count(l.begin(), l.end(), '\n'), 1) << l;
    ASSERT_TRUE(l.starts_with("ts=")) << l;
  }
}

}  // namespace
}  // namespace vigil::log
