// Private files: written 0600 whole, never through a planted link; read only when nobody else
// could have read or changed them, with errors that never quote the content.
#include "common/secret_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace vigil {
namespace {

namespace fs = std::filesystem;

class SecretFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vigil-secret-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p);
    std::string text;
    std::getline(in, text, '\0');
    return text;
  }
  std::string dir_;
};

TEST_F(SecretFile, WrittenWith0600AndReadBack) {
  const mode_t old = ::umask(0);
  ASSERT_TRUE(write_private_file(path("k"), "secret\n", false));
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(path("k").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto read = read_private_file(path("k"), 64);
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(*read, "secret\n");
  EXPECT_FALSE(fs::exists(path("k.new")));
}

TEST_F(SecretFile, AnExistingFileIsKeptUnlessReplacing) {
  ASSERT_TRUE(write_private_file(path("k"), "first", false));
  auto again = write_private_file(path("k"), "second", false);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), path("k") + " exists already");
  EXPECT_EQ(slurp(path("k")), "first");
  ASSERT_TRUE(write_private_file(path("k"), "second", true));
  EXPECT_EQ(slurp(path("k")), "second");
}

TEST_F(SecretFile, APlantedLinkIsNeitherFollowedNorRead) {
  std::ofstream(path("target")) << "theirs";
  fs::create_symlink(path("target"), path("k"));
  EXPECT_FALSE(write_private_file(path("k"), "mine", false));
  // Replacing replaces the link itself: the file it pointed at is untouched.
  ASSERT_TRUE(write_private_file(path("k"), "mine", true));
  EXPECT_EQ(slurp(path("target")), "theirs");
  EXPECT_FALSE(fs::is_symlink(path("k")));
  // A link at the temporary's name is removed, not written through.
  fs::create_symlink(path("target"), path("k.new"));
  ASSERT_TRUE(write_private_file(path("k"), "again", true));
  EXPECT_EQ(slurp(path("target")), "theirs");

  fs::create_symlink(path("k"), path("link"));
  auto read = read_private_file(path("link"), 64);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error(), path("link") + " is a symbolic link: give the file itself");
}

TEST_F(SecretFile, AFileOthersCouldReadIsRefusedWithoutQuotingIt) {
  ASSERT_TRUE(write_private_file(path("k"), "do-not-print-me", false));
  ::chmod(path("k").c_str(), 0640);
  auto read = read_private_file(path("k"), 64);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error(), path("k") +
                              " has mode 0640: others could read it; a key file must be "
                              "0600 (chmod 600 " +
                              path("k") + "), and a key others could read should be replaced");
  EXPECT_EQ(read.error().find("do-not-print-me"), std::string::npos);
}

TEST_F(SecretFile, AnotherUsersFileADirectoryAndALargeFileAreRefused) {
  ASSERT_TRUE(write_private_file(path("k"), "x", false));
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(path("k").c_str(), 1234, 1234), 0);
    auto read = read_private_file(path("k"), 64);
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error(), path("k") +
                                " belongs to uid 1234: a key file must belong to root "
                                "(chown root " +
                                path("k") + ")");
  }
  fs::create_directory(path("d"));
  EXPECT_EQ(read_private_file(path("d"), 64).error(), path("d") + " is not a regular file");
  ASSERT_TRUE(write_private_file(path("big"), std::string(65, 'x'), false));
  EXPECT_EQ(read_private_file(path("big"), 64).error(), path("big") + " is larger than 64 bytes");
  EXPECT_EQ(read_private_file(path("none"), 64).error(),
            "cannot read " + path("none") + ": No such file or directory");
}

}  // namespace
}  // namespace vigil
