// run_command: exit codes, signals, both streams, standard input, the output bound and the
// timeout (which must kill what the program started too, not wait for it).
#include "common/subprocess.h"

#include <gtest/gtest.h>

#include <chrono>

namespace vigil {
namespace {

CommandResult sh(const std::string& script, const CommandOptions& options = {}) {
  return run_command({"/bin/sh", "-c", script}, options);
}

TEST(RunCommand, ExitCodeAndBothStreams) {
  const auto r = sh("echo out; echo err >&2; exit 3");
  EXPECT_TRUE(r.started);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(r.how(), "exit 3");
  EXPECT_TRUE(sh("true").ok());
}

TEST(RunCommand, ArgumentsReachTheProgramUnchanged) {
  const auto r = run_command({"/bin/echo", "a b", "$HOME", ";", "*"});
  ASSERT_TRUE(r.ok()) << r.how();
  EXPECT_EQ(r.out, "a b $HOME ; *\n");
}

TEST(RunCommand, StandardInputIsWrittenThenClosed) {
  const auto r = run_command({"/bin/cat"}, {.stdin_data = std::string(200000, 'x')});
  ASSERT_TRUE(r.ok()) << r.how();
  EXPECT_EQ(r.out.size(), 200000u);
  // Nothing to write: cat sees end of file at once rather than waiting.
  EXPECT_TRUE(run_command({"/bin/cat"}, {.timeout = std::chrono::seconds(5)}).ok());
}

TEST(RunCommand, OutputPastTheBoundIsDroppedAndSaid) {
  const auto r = sh("head -c 100000 /dev/zero; echo done >&2", {.max_output = 1000});
  ASSERT_TRUE(r.ok()) << r.how();  // read to the end, so it never blocks on a full pipe
  EXPECT_EQ(r.out.size(), 1000u);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.err, "done\n");
}

TEST(RunCommand, TimeoutKillsItAndWhatItStarted) {
  const auto start = std::chrono::steady_clock::now();
  // The grandchild holds the pipes open: only killing the group ends the wait.
  const auto r = sh("sleep 30 & sleep 30", {.timeout = std::chrono::milliseconds(300)});
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.how(), "timed out");
  EXPECT_LT(took, std::chrono::seconds(10));
}

TEST(RunCommand, OneThatClosesItsStreamsAndHangsIsKilledInTime) {
  const auto start = std::chrono::steady_clock::now();
  const auto r = sh("exec >&- 2>&-; sleep 30", {.timeout = std::chrono::milliseconds(300)});
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(RunCommand, SignalledIsNotOk) {
  const auto r = sh("kill -TERM $$");
  EXPECT_EQ(r.signal, 15);
  EXPECT_EQ(r.how(), "signal TERM");
  EXPECT_FALSE(r.ok());
}

TEST(RunCommand, WhatCannotRunSaysWhy) {
  EXPECT_FALSE(run_command({}).started);
  EXPECT_FALSE(run_command({"sh", "-c", "true"}).started);  // not an absolute path
  const auto r = run_command({"/nonexistent/program"});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.error.find("could not be run"), std::string::npos);
  EXPECT_EQ(r.how(), r.error);
}

}  // namespace
}  // namespace vigil
