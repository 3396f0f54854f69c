// FrrControl against a fake runner: the command lines it gives vtysh and frr-reload.py (the
// instance's own sockets, the file named so frr-reload.py never writes over it), what it makes
// of their answers, and that no error it builds quotes a password. Where FRR is installed, the
// check runs the real vtysh -C.
#include "bgp/frr/frr_control.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace vigil::bgp {
namespace {

struct FakeRunner {
  std::vector<std::vector<std::string>> calls;
  std::vector<CommandOptions> options;
  CommandResult answer{.started = true, .exit_code = 0};
  std::string file_seen;  // the -f file's content when it ran

  CommandRunner runner() {
    return [this](const std::vector<std::string>& argv, const CommandOptions& o) {
      calls.push_back(argv);
      options.push_back(o);
      for (size_t i = 0; i + 1 < argv.size(); ++i) {
        if (argv[i] == "-f") {
          std::ifstream in(argv[i + 1]);
          std::stringstream text;
          text << in.rdbuf();
          file_seen = text.str();
        }
      }
      return answer;
    };
  }
};

class FrrControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("frr-control-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    layout_.run_dir = dir_ / "run";
    layout_.conf_dir = dir_.string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  FrrLayout layout_;
  FakeRunner fake_;
};

TEST_F(FrrControlTest, CheckRunsVtyshOnAPrivateCopyAndRemovesIt) {
  FrrControl frr(layout_, fake_.runner());
  ASSERT_TRUE(frr.check("router bgp 65001\n"));
  ASSERT_EQ(fake_.calls.size(), 1u);
  const auto& argv = fake_.calls[0];
  EXPECT_EQ(argv[0], "/usr/bin/vtysh");
  EXPECT_NE(std::find(argv.begin(), argv.end(), "-C"), argv.end());
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "-N"), argv.end());  // would move the sockets
  EXPECT_EQ(fake_.file_seen, "router bgp 65001\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "frr.conf.check"));
}

TEST_F(FrrControlTest, CheckFailureListsFrrsErrorsWithPasswordsMasked) {
  fake_.answer = {.started = true,
                  .exit_code = 2,
                  .err =
                      "line 5: % Unknown command[25]:  bogus command\n"
                      "line 7: % Unknown command[25]:  neighbor 192.0.2.1 password s3cr3t x\n"};
  FrrControl frr(layout_, fake_.runner());
  auto st = frr.check("whatever");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("line 5: % Unknown command[25]:  bogus command"), std::string::npos);
  EXPECT_NE(st.error().find("password ****"), std::string::npos);
  EXPECT_EQ(st.error().find("s3cr3t"), std::string::npos) << st.error();
}

TEST_F(FrrControlTest, CheckThatDidNotFinishSaysSo) {
  fake_.answer = {.started = true, .timed_out = true};
  FrrControl frr(layout_, fake_.runner());
  auto st = frr.check("x");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("did not finish: timed out"), std::string::npos);
}

TEST_F(FrrControlTest, DaemonsUpOnlyWhenEveryOneAnswers) {
  fake_.answer = {.started = true, .exit_code = 0, .out = " zebra bgpd staticd\n"};
  FrrControl frr(layout_, fake_.runner());
  auto st = frr.all_daemons_up();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("bfdd not answering"), std::string::npos) << st.error();
  fake_.answer.out = " zebra bgpd bfdd staticd\n";
  EXPECT_TRUE(frr.all_daemons_up());
  fake_.answer = {.started = true, .exit_code = 1, .err = "Exiting: failed to connect"};
  EXPECT_FALSE(frr.all_daemons_up());
}

TEST_F(FrrControlTest, ReloadNamesTheFileAsConfdirFrrConf) {
  FrrControl frr(layout_, fake_.runner());
  ASSERT_TRUE(frr.reload());
  const auto& argv = fake_.calls.at(0);
  EXPECT_EQ(argv[0], "/usr/lib/frr/frr-reload.py");
  EXPECT_EQ(argv.back(), layout_.conf_dir + "/frr.conf");
  for (const char* want : {"--reload", "--stdout", "--confdir", "--rundir", "--vty_socket"}) {
    EXPECT_NE(std::find(argv.begin(), argv.end(), want), argv.end()) << want;
  }
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--overwrite"), argv.end());
  EXPECT_EQ(fake_.options.at(0).timeout, FrrControl::kReloadTimeout);
}

TEST_F(FrrControlTest, ReloadFailureSaysHowWithoutPasswords) {
  fake_.answer = {.started = true,
                  .exit_code = 1,
                  .out = "Failed to execute neighbor 192.0.2.1 password topsecret\n"};
  FrrControl frr(layout_, fake_.runner());
  auto st = frr.reload();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("exit 1"), std::string::npos);
  EXPECT_EQ(st.error().find("topsecret"), std::string::npos) << st.error();
}

TEST_F(FrrControlTest, ShowJsonParsesBoundedAndRefusesWhatIsNot) {
  FrrControl frr(layout_, fake_.runner());
  fake_.answer = {.started = true, .exit_code = 0, .out = R"({"ipv4Unicast": {"as": 65001}})"};
  auto j = frr.show_json("show bgp summary json", 1024);
  ASSERT_TRUE(j) << j.error();
  EXPECT_EQ((*j)["ipv4Unicast"]["as"], 65001);
  EXPECT_EQ(fake_.options.back().max_output, 1024u);

  fake_.answer.out = "% Unknown command";
  EXPECT_FALSE(frr.show_json("show bgp summary json", 1024));
  fake_.answer.out = std::string(100, '[') + std::string(100, ']');
  EXPECT_FALSE(frr.show_json("x", 1024));  // nesting past the bound
  fake_.answer = {.started = true, .exit_code = 0, .truncated = true, .out = "{"};
  auto cut = frr.show_json("x", size_t{2} << 20);
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().find("larger than 2 MiB"), std::string::npos) << cut.error();
}

TEST(FrrInstance, DaemonsRunAsTheirOwnInstance) {
  FrrLayout l{.run_dir = "/run/v"};
  const auto zebra = frr_daemon_argv(l, "zebra");
  const auto has = [](const std::vector<std::string>& argv, const std::string& a,
                      const std::string& b) {
    for (size_t i = 0; i + 1 < argv.size(); ++i) {
      if (argv[i] == a && argv[i + 1] == b) {
        return true;
      }
    }
    return false;
  };
  EXPECT_EQ(zebra[0], "/usr/lib/frr/zebra");
  EXPECT_TRUE(has(zebra, "-M", "dplane_fpm_nl"));
  EXPECT_TRUE(has(zebra, "-P", "0"));  // no TCP vty shared with a distribution FRR
  EXPECT_TRUE(has(zebra, "-i", "/run/v/zebra.pid"));
  EXPECT_TRUE(has(zebra, "-z", "/run/v/zserv.api"));
  EXPECT_TRUE(has(zebra, "--vty_socket", "/run/v"));
  EXPECT_TRUE(has(zebra, "-f", "/dev/null"));  // never the file with the passwords
  EXPECT_TRUE(has(frr_daemon_argv(l, "bgpd"), "-p", "179"));
  EXPECT_TRUE(has(frr_daemon_argv(l, "bfdd"), "--bfdctl", "/run/v/bfdd.sock"));
  EXPECT_FALSE(has(frr_daemon_argv(l, "bgpd"), "-M", "dplane_fpm_nl"));
}

TEST(FrrInstance, MissingProgramsNamed) {
  FrrLayout l{.daemon_dir = "/nonexistent"};
  EXPECT_NE(missing_frr_programs(l).find("/nonexistent/zebra (package frr)"), std::string::npos);
}

// FRR's own parser, where it is installed: what the renderer writes passes, a typo does not.
TEST_F(FrrControlTest, RealVtyshChecks) {
  if (::access("/usr/bin/vtysh", X_OK) != 0) {
    GTEST_SKIP() << "FRR is not installed";
  }
  std::ofstream(dir_ / "vtysh.conf") << "service integrated-vtysh-config\n";
  FrrControl frr(layout_, run_command);
  EXPECT_TRUE(frr.check("router bgp 65001\n neighbor 192.0.2.1 remote-as 65002\nexit\n"));
  auto st = frr.check("router bgp 65001\n neighbor 192.0.2.1 remote-az 65002\nexit\n");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("line 2"), std::string::npos) << st.error();
}

}  // namespace
}  // namespace vigil::bgp
