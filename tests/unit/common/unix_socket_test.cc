// remove_stale_socket: what listen_unix and vigild's supervisor both use to clear a control
// socket's path. Only a socket nobody listens on goes; a live one or a file of another kind
// stays.
#include "common/unix_socket.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace vigil {
namespace {

class RemoveStaleSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vigil-unix-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/c.sock";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, path_;
};

TEST_F(RemoveStaleSocket, ADeadSocketGoesAndALiveOneStays) {
  EXPECT_EQ(remove_stale_socket(path_), StaleSocket::kAbsent);
  {
    auto dead = listen_unix(path_, {.group = ""});  // closed at once, its file left behind
    ASSERT_TRUE(dead.ok()) << dead.error();
  }
  EXPECT_EQ(remove_stale_socket(path_), StaleSocket::kRemoved);
  EXPECT_FALSE(std::filesystem::exists(path_));
  auto live = listen_unix(path_, {.group = ""});
  ASSERT_TRUE(live.ok()) << live.error();
  EXPECT_EQ(remove_stale_socket(path_), StaleSocket::kInUse);
  EXPECT_TRUE(std::filesystem::exists(path_));
}

TEST_F(RemoveStaleSocket, AFileOfAnotherKindIsNeverRemoved) {
  { std::ofstream(path_) << "precious"; }
  EXPECT_EQ(remove_stale_socket(path_), StaleSocket::kNotASocket);
  EXPECT_TRUE(std::filesystem::exists(path_));
}

}  // namespace
}  // namespace vigil
