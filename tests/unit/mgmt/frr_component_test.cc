// FRR as a commit component, with vtysh and frr-reload.py faked: prepare renders and has FRR
// check the file (nothing written where FRR runs it), refuses while a daemon is not up; activate
// writes it root's 0600 and reloads, and a reload that fails puts the previous file back and
// reloads again; the instance changes when a daemon is started again.
#include "mgmt/frr_component.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/secret_file.h"

namespace vigil::mgmt {
namespace {

using nlohmann::json;

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class FrrComponentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("frr-component-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "run");
    layout_.run_dir = (dir_ / "run").string();
    layout_.conf_dir = dir_.string();
    control_ = std::make_unique<bgp::FrrControl>(
        layout_, [this](const std::vector<std::string>& argv, const CommandOptions&) {
          calls_.push_back(argv);
          if (argv.back() == "show daemons") {
            return CommandResult{.started = true, .exit_code = 0, .out = daemons_};
          }
          if (argv[0].ends_with("frr-reload.py")) {
            reloaded_.push_back(read(layout_.conf_file()));
            CommandResult r = reload_answers_.empty()
                                  ? CommandResult{.started = true, .exit_code = 0}
                                  : reload_answers_.front();
            if (!reload_answers_.empty()) {
              reload_answers_.erase(reload_answers_.begin());
            }
            return r;
          }
          checked_.push_back(read(argv.back()));  // vtysh -C -f FILE
          return check_answer_;
        });
    password_ = dir_ / "password";
    ASSERT_TRUE(write_private_file(password_.string(), "Md5Secret\n", true));
  }
  void TearDown() override {
    for (pid_t pid : std::vector<pid_t>(children_)) {
      stop_child(pid);
    }
    std::filesystem::remove_all(dir_);
  }

  json routing(uint32_t asn = 65001) const {
    return {{"bgp",
             {{"asn", asn},
              {"router_id", "10.0.0.1"},
              {"policies", {{"all", {{"rules", json::array({json::object()})}}}}},
              {"neighbors", json::array({{{"address", "192.0.2.1"},
                                          {"remote_as", 65002},
                                          {"password_file", password_.string()},
                                          {"import_policy", "all"},
                                          {"export_policy", "all"}}})}}}};
  }

  // What reconcile gives: every section, null where the config has none.
  static json full(json routing, json l4 = nullptr, json interfaces = nullptr, json l7 = nullptr) {
    return {{"routing", std::move(routing)},
            {"l4", std::move(l4)},
            {"system", nullptr},
            {"interfaces", std::move(interfaces)},
            {"l7", std::move(l7)}};
  }

  // A child process holding `path`'s lock as FRR's daemons hold their pid files.
  pid_t lock_in_child(const std::string& path) {
    int ready[2];
    EXPECT_EQ(::pipe(ready), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
      struct flock lock {};
      lock.l_type = F_WRLCK;
      lock.l_whence = SEEK_SET;
      if (fd < 0 || ::fcntl(fd, F_SETLK, &lock) != 0) {
        ::_exit(1);
      }
      (void)::write(ready[1], "x", 1);
      ::pause();
      ::_exit(0);
    }
    char c;
    EXPECT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    ::close(ready[1]);
    children_.push_back(pid);
    return pid;
  }
  void stop_child(pid_t pid) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    std::erase(children_, pid);
  }

  std::filesystem::path dir_, password_;
  bgp::FrrLayout layout_;
  std::unique_ptr<bgp::FrrControl> control_;
  std::vector<std::vector<std::string>> calls_;
  std::vector<std::string> checked_, reloaded_;
  std::vector<CommandResult> reload_answers_;
  CommandResult check_answer_{.started = true, .exit_code = 0};
  std::string daemons_ = " zebra bgpd bfdd staticd\n";
  std::vector<pid_t> children_;
};

TEST_F(FrrComponentTest, TheInstanceIsWhoHoldsThePidFiles) {
  FrrComponent frr(*control_);
  const auto none = frr.sections();
  ASSERT_EQ(none.kind, commit::SectionsAnswer::kAnswered);
  EXPECT_EQ(none.sections,
            (std::vector<std::string>{"routing", "l4", "system", "interfaces", "l7"}));
  // A pid file's content is not believed: only its lock's holder counts.
  std::ofstream(layout_.pid_file("zebra")) << ::getppid() << "\n";
  EXPECT_EQ(frr.sections().instance, none.instance);
  const pid_t first = lock_in_child(layout_.pid_file("zebra"));
  const auto running = frr.sections();
  EXPECT_NE(running.instance, none.instance);
  EXPECT_EQ(frr.sections().instance, running.instance);
  stop_child(first);
  lock_in_child(layout_.pid_file("zebra"));  // zebra started again
  EXPECT_NE(frr.sections().instance, running.instance);
}

TEST_F(FrrComponentTest, PrepareChecksActivateWritesPrivatelyAndReloads) {
  FrrComponent frr(*control_);
  ASSERT_TRUE(frr.prepare(1, full(routing())));
  ASSERT_EQ(checked_.size(), 1u);
  EXPECT_NE(checked_[0].find("router bgp 65001"), std::string::npos);
  EXPECT_NE(checked_[0].find("neighbor 192.0.2.1 password Md5Secret\n"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(layout_.conf_file()));  // nothing applied at prepare
  EXPECT_TRUE(reloaded_.empty());

  ASSERT_TRUE(frr.activate(1).ok());
  struct stat st {};
  ASSERT_EQ(::stat(layout_.conf_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(reloaded_.size(), 1u);
  EXPECT_EQ(reloaded_[0], checked_[0]);
}

TEST_F(FrrComponentTest, AFailedReloadPutsThePreviousFileBack) {
  FrrComponent frr(*control_);
  ASSERT_TRUE(frr.prepare(1, full(routing(65001))));
  ASSERT_TRUE(frr.activate(1).ok());
  const std::string before = read(layout_.conf_file());

  reload_answers_ = {CommandResult{.started = true, .exit_code = 1, .out = "Failed: x"}};
  ASSERT_TRUE(frr.prepare(2, full(routing(65009))));
  const auto r = frr.activate(2);
  EXPECT_EQ(r.kind, commit::ActivateResult::kRefused);
  EXPECT_NE(r.error.find("frr-reload.py could not apply"), std::string::npos) << r.error;
  ASSERT_EQ(reloaded_.size(), 3u);  // the first commit, the failed one, the previous again
  EXPECT_NE(reloaded_[1].find("router bgp 65009"), std::string::npos);
  EXPECT_EQ(reloaded_[2], before);
  EXPECT_EQ(read(layout_.conf_file()), before);

  // What FRR runs is still the first commit's: a delta without routing renders that, the
  // very file FRR has, so there is nothing to check or reload.
  ASSERT_TRUE(frr.prepare(3, {{"l4", nullptr}}));  // the others as FRR has them
  ASSERT_TRUE(frr.activate(3).ok());
  EXPECT_EQ(reloaded_.size(), 3u);
  EXPECT_EQ(read(layout_.conf_file()), before);
}

TEST_F(FrrComponentTest, RefusedCheckStagesNothing) {
  check_answer_ = {.started = true, .exit_code = 2, .err = "line 3: % Unknown command: x\n"};
  FrrComponent frr(*control_);
  auto st = frr.prepare(1, full(routing()));
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("line 3: % Unknown command"), std::string::npos) << st.error();
  EXPECT_EQ(frr.activate(1).kind, commit::ActivateResult::kRefused);
  EXPECT_TRUE(reloaded_.empty());
}

TEST_F(FrrComponentTest, WithADaemonNotAnsweringTheFileWaitsAndReconcileComesBack) {
  daemons_ = " zebra staticd\n";
  FrrComponent frr(*control_);
  ASSERT_TRUE(frr.prepare(1, full(routing())));
  ASSERT_TRUE(frr.activate(1).ok());
  EXPECT_TRUE(reloaded_.empty());  // vtysh would skip bgpd and say it succeeded
  EXPECT_NE(read(layout_.conf_file()).find("router bgp 65001"), std::string::npos);
  // Each question a new instance: reconcile gives the config again until it is taken.
  EXPECT_NE(frr.sections().instance, frr.sections().instance);
  daemons_ = " zebra bgpd bfdd staticd\n";
  ASSERT_TRUE(frr.prepare(2, full(routing())));
  ASSERT_TRUE(frr.activate(2).ok());
  EXPECT_EQ(reloaded_.size(), 1u);
  EXPECT_EQ(frr.sections().instance, frr.sections().instance);
}

TEST_F(FrrComponentTest, AChangeOfOneSectionWaitsForTheWholeRunningConfig) {
  FrrComponent frr(*control_);
  auto st = frr.prepare(1, {{"l4", nullptr}});  // a commit before reconcile gave it all
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("not been given the running config"), std::string::npos);
  EXPECT_TRUE(checked_.empty());
}

TEST_F(FrrComponentTest, WhenThePreviousFileFailsTooItIsNotKnownWhatRuns) {
  FrrComponent frr(*control_);
  reload_answers_ = {
      CommandResult{.started = true, .exit_code = 1, .out = "line 9: % x password Md5Secret"},
      CommandResult{.started = true, .timed_out = true}};
  ASSERT_TRUE(frr.prepare(1, full(routing())));
  const auto r = frr.activate(1);
  EXPECT_EQ(r.kind, commit::ActivateResult::kNoAnswer);
  EXPECT_EQ(r.error.find("Md5Secret"), std::string::npos) << r.error;
  // The header alone was what it put back: nothing ran before.
  EXPECT_EQ(reloaded_.at(1).find("router bgp"), std::string::npos);
}

TEST_F(FrrComponentTest, PasswordFileOthersCanReadIsRefusedWithoutQuotingIt) {
  ::chmod(password_.c_str(), 0644);
  FrrComponent frr(*control_);
  auto st = frr.prepare(1, full(routing()));
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find(password_.string()), std::string::npos) << st.error();
  EXPECT_EQ(st.error().find("Md5Secret"), std::string::npos);
  EXPECT_TRUE(checked_.empty());
}

TEST_F(FrrComponentTest, NoBgpRendersAnInstanceWithoutRouterBgp) {
  FrrComponent frr(*control_);
  auto st = frr.prepare(1, full(json::object()));
  ASSERT_TRUE(st) << st.error();
  EXPECT_EQ(checked_.at(0).find("router bgp"), std::string::npos);
  EXPECT_EQ(checked_.at(0).find("fpm address"), std::string::npos);
}

TEST_F(FrrComponentTest, AnnouncedVipsFollowTheL4Section) {
  FrrComponent frr(*control_);
  const json interfaces = {
      {"wan1", {{"role", "wan"}, {"xdp", true}, {"addresses", json::array({"192.0.2.2/24"})}}}};
  const json l4 = {{"encap", {{"source4", "192.0.2.0/24"}, {"gateway_mac", "02:00:00:00:00:01"}}},
                   {"vips",
                    {{"web",
                      {{"address", "198.51.100.10"},
                       {"port", 80},
                       {"backends", json::array({{{"address", "10.0.0.5"}}})}}}}}};
  auto st = frr.prepare(1, full(routing(), l4, interfaces));
  ASSERT_TRUE(st) << st.error();
  EXPECT_NE(checked_.at(0).find("network 198.51.100.10/32"), std::string::npos) << checked_[0];
}

}  // namespace
}  // namespace vigil::mgmt

namespace vigil::mgmt {
namespace {

TEST_F(FrrComponentTest, L7ListenersAnnouncedOnlyWhileVigilL7Answers) {
  FrrComponent frr(*control_);
  json r = routing();
  r["bgp"]["announce_l7_listeners"] = true;
  const json l7 = {
      {"listeners",
       {{"web", {{"address", "198.51.100.80:80"}}}, {"any", {{"address", "0.0.0.0:8080"}}}}},
      {"upstreams", {{"site", {{"targets", json::array({{{"address", "10.0.0.5:80"}}})}}}}},
      {"routes", {{"all", {{"upstream", "site"}}}}}};
  auto st = frr.prepare(1, full(r, nullptr, nullptr, l7));
  ASSERT_TRUE(st) << st.error();
  EXPECT_NE(checked_.back().find("network 198.51.100.80/32"), std::string::npos) << checked_[0];
  EXPECT_EQ(checked_.back().find("network 0.0.0.0/32"), std::string::npos);
  ASSERT_TRUE(frr.activate(1).ok());

  // vigil-l7 stops answering: a new instance, and the address is rendered no more; not known
  // (vigild starting), what was rendered stays.
  std::optional<bool> l7_up;
  frr.set_l7_reachable([&l7_up] { return l7_up; });
  const auto before = frr.sections().instance;
  l7_up = false;
  EXPECT_NE(frr.sections().instance, before);
  ASSERT_TRUE(frr.prepare(2, full(r, nullptr, nullptr, l7)));
  EXPECT_EQ(checked_.back().find("network 198.51.100.80/32"), std::string::npos);
  l7_up = std::nullopt;
  EXPECT_NE(frr.sections().instance, before);
  l7_up = true;
  EXPECT_EQ(frr.sections().instance, before);

  // Not asked for: never announced.
  r["bgp"]["announce_l7_listeners"] = false;
  ASSERT_TRUE(frr.prepare(3, full(r, nullptr, nullptr, l7)));
  EXPECT_EQ(checked_.back().find("198.51.100.80"), std::string::npos);
}

}  // namespace
}  // namespace vigil::mgmt

namespace vigil::mgmt {
namespace {

TEST_F(FrrComponentTest, AFailedFirstPushStillGivesCommitsTheirBase) {
  FrrComponent frr(*control_);
  reload_answers_ = {CommandResult{.started = true, .exit_code = 1},
                     CommandResult{.started = true, .exit_code = 0}};
  ASSERT_TRUE(frr.prepare(1, full(routing(65001))));  // reconcile's push of the running config
  EXPECT_EQ(frr.activate(1).kind, commit::ActivateResult::kRefused);
  // The commit that fixes things changes one section: rendered against the running config.
  auto st = frr.prepare(2, {{"system", nullptr}});
  ASSERT_TRUE(st) << st.error();
  EXPECT_NE(checked_.back().find("router bgp 65001"), std::string::npos);
}

TEST_F(FrrComponentTest, ASecretOfStarsIsScrubbedWithoutLoopingForEver) {
  ASSERT_TRUE(write_private_file(password_.string(), "**\n", true));
  check_answer_ = {.started = true, .exit_code = 2, .err = "line 3: % x password **\n"};
  FrrComponent frr(*control_);
  auto st = frr.prepare(1, full(routing()));
  ASSERT_FALSE(st);  // and it came back
}

TEST_F(FrrComponentTest, RollbackGoesToTheFileFromBeforeNotOneFrrNeverTook) {
  std::ofstream(layout_.conf_file()) << "! from the vigild before\n";
  ::chmod(layout_.conf_file().c_str(), 0600);
  FrrComponent frr(*control_);
  daemons_ = " zebra\n";  // starting: the first file waits
  ASSERT_TRUE(frr.prepare(1, full(routing(65001))));
  ASSERT_TRUE(frr.activate(1).ok());
  daemons_ = " zebra bgpd bfdd staticd\n";
  reload_answers_ = {CommandResult{.started = true, .exit_code = 1},
                     CommandResult{.started = true, .exit_code = 0}};
  ASSERT_TRUE(frr.prepare(2, full(routing(65001))));
  EXPECT_EQ(frr.activate(2).kind, commit::ActivateResult::kRefused);
  EXPECT_EQ(reloaded_.back(), "! from the vigild before\n");
}

TEST_F(FrrComponentTest, TheSameFileForTheSameDaemonsIsNotReloaded) {
  FrrComponent frr(*control_);
  ASSERT_TRUE(frr.prepare(1, full(routing())));
  ASSERT_TRUE(frr.activate(1).ok());
  ASSERT_TRUE(frr.prepare(2, {{"interfaces", nullptr}}));  // nothing of FRR's changes
  ASSERT_TRUE(frr.activate(2).ok());
  EXPECT_EQ(reloaded_.size(), 1u);
  EXPECT_EQ(checked_.size(), 1u);
  // A daemon started again: the same file is applied again.
  lock_in_child(layout_.pid_file("bgpd"));
  ASSERT_TRUE(frr.prepare(3, full(routing())));
  ASSERT_TRUE(frr.activate(3).ok());
  EXPECT_EQ(reloaded_.size(), 2u);
}

}  // namespace
}  // namespace vigil::mgmt
