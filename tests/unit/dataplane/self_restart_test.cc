// What vigil-dp restarts itself with: its own command line with the restart file, and that
// file (private, whole, read back bounded). The exec itself runs in the system test.
#include "dataplane/self_restart.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace vigil::dp {
namespace {

namespace fs = std::filesystem;

TEST(SelfRestart, TheCommandLineStartsFromTheRestartFile) {
  EXPECT_EQ(restart_argv({"vigil-dp", "--config", "a.yaml", "--socket", "s"}, "/run/dp.json"),
            (std::vector<std::string>{"vigil-dp", "--socket", "s", "--config", "/run/dp.json",
                                      "--restart-config", "/run/dp.json"}))
      << "not --config a.yaml: it may have changed since, and is not what was committed";
  EXPECT_EQ(restart_argv({"vigil-dp", "--restart-config", "old.json", "--socket", "s",
                          "--config=old.json", "--restart-config=older.json"},
                         "new.json"),
            (std::vector<std::string>{"vigil-dp", "--socket", "s", "--config", "new.json",
                                      "--restart-config", "new.json"}))
      << "a process restarted before does not pile up options";
}

TEST(SelfRestart, TheFileIsPrivateAndReadsBackWhole) {
  const fs::path dir = fs::temp_directory_path() / ("vigil-restart-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string file = (dir / "dp.sock.restart.json").string();
  const nlohmann::json sections = {{"dataplane", {{"forwarding", true}, {"lcores", {1}}}},
                                   {"system", {{"hostname", "edge1"}}}};
  ASSERT_TRUE(write_restart_config(file, sections).ok());
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto read = read_restart_config(file);
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ(*read, sections);
  EXPECT_FALSE(fs::exists(file + ".new"));
  fs::create_symlink(dir / "elsewhere", file + ".new");  // planted: removed, not followed
  ASSERT_TRUE(write_restart_config(file, sections).ok());
  EXPECT_FALSE(fs::exists(dir / "elsewhere"));

  std::ofstream(file) << "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[";
  EXPECT_FALSE(read_restart_config(file).ok()) << "nesting is bounded";
  std::ofstream(file) << "[1]";
  EXPECT_FALSE(read_restart_config(file).ok()) << "sections are an object";
  EXPECT_FALSE(read_restart_config((dir / "none").string()).ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vigil::dp
