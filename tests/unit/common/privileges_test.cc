// Dropping root: each check runs in a forked child (the switch cannot be undone), which
// reports the first thing that did not hold through a pipe. Needs root, as CI runs.
#include "common/privileges.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>
#include <vector>

#include "common/unique_fd.h"

namespace vigil {
namespace {

// Runs `check` in a child; returns what it reported ("" when all held).
std::string in_child(const std::function<std::string()>& check) {
  std::array<int, 2> pipe_fds{};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
    return "pipe failed";
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    const std::string report = check();
    [[maybe_unused]] ssize_t n = ::write(pipe_fds[1], report.data(), report.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string report;
  char buf[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;) {
    report.append(buf, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    report += " (the child did not exit cleanly)";
  }
  return report;
}

bool has_capability(cap_flag_t set, cap_value_t c) {
  cap_t caps = cap_get_proc();
  cap_flag_value_t value = CAP_CLEAR;
  cap_get_flag(caps, c, set, &value);
  cap_free(caps);
  return value == CAP_SET;
}

// Whether binding below 1024 needs CAP_NET_BIND_SERVICE here (a container may lower
// net.ipv4.ip_unprivileged_port_start, and then any user may).
bool low_ports_need_privilege() {
  std::ifstream in("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  int start = 1024;
  in >> start;
  return start > 999;
}

// Binds a TCP port below 1024 on loopback: true when one could be had.
bool binds_a_low_port() {
  for (uint16_t port = 900; port < 1000; ++port) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) {
      return true;
    }
    if (errno != EADDRINUSE) {
      return false;
    }
  }
  return false;
}

class Privileges : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "switching users needs root";
    }
    auto user = look_up_user("nobody");
    ASSERT_TRUE(user) << user.error();
    nobody_ = *user;
    // A root-only file in a directory anyone may enter: only its mode keeps nobody out.
    dir_ =
        std::filesystem::temp_directory_path() / ("vigil-privileges-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::filesystem::permissions(dir_, std::filesystem::perms(0755));
    std::ofstream(dir_ / "root-only") << "secret";
    std::filesystem::permissions(dir_ / "root-only", std::filesystem::perms(0600));
  }
  void TearDown() override {
    if (!dir_.empty()) {
      std::filesystem::remove_all(dir_);
    }
  }
  SystemUser nobody_;
  std::filesystem::path dir_;
};

TEST_F(Privileges, BecomesTheUserForGoodKeepingOnlyTheCapabilityNamed) {
  const std::string report = in_child([this]() -> std::string {
    const int keep[] = {CAP_NET_BIND_SERVICE};
    if (auto st = drop_privileges(nobody_, keep); !st) {
      return st.error();
    }
    uid_t r = 0, e = 0, s = 0;
    ::getresuid(&r, &e, &s);
    if (r != nobody_.uid || e != nobody_.uid || s != nobody_.uid) {
      return "real, effective and saved uids are not all nobody's";
    }
    gid_t rg = 0, eg = 0, sg = 0;
    ::getresgid(&rg, &eg, &sg);
    if (rg != nobody_.gid || eg != nobody_.gid || sg != nobody_.gid) {
      return "real, effective and saved gids are not all nobody's";
    }
    if (current_user_name() != "nobody") {
      return "current_user_name() says " + current_user_name();
    }
    std::vector<gid_t> groups(static_cast<size_t>(::getgroups(0, nullptr)));
    ::getgroups(static_cast<int>(groups.size()), groups.data());
    if (std::find(groups.begin(), groups.end(), gid_t{0}) != groups.end() ||
        std::find(groups.begin(), groups.end(), nobody_.gid) == groups.end()) {
      return "the supplementary groups are still root's, or lack nobody's own";
    }
    if (!binds_a_low_port()) {
      return "no port below 1024 could be bound: CAP_NET_BIND_SERVICE was not kept";
    }
    if (UniqueFd fd(::open((dir_ / "root-only").c_str(), O_RDONLY | O_CLOEXEC)); fd.valid()) {
      return "a root-only file could still be read";
    }
    if (::setuid(0) == 0 || ::seteuid(0) == 0) {
      return "root could be taken back";
    }
    if (has_capability(CAP_PERMITTED, CAP_DAC_OVERRIDE) ||
        has_capability(CAP_EFFECTIVE, CAP_SYS_ADMIN) ||
        !has_capability(CAP_EFFECTIVE, CAP_NET_BIND_SERVICE)) {
      return "the capability sets hold more or less than CAP_NET_BIND_SERVICE";
    }
    if (::prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0 ||
        ::prctl(PR_CAPBSET_READ, CAP_NET_BIND_SERVICE, 0, 0, 0) != 1) {
      return "the bounding set still holds what was given up";
    }
    if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
      return "no_new_privs is not set";
    }
    return "";
  });
  EXPECT_EQ(report, "");
}

TEST_F(Privileges, KeepingNothingLeavesNoCapability) {
  if (!low_ports_need_privilege()) {
    GTEST_SKIP() << "any user may bind below 1024 here (ip_unprivileged_port_start)";
  }
  const std::string report = in_child([this]() -> std::string {
    if (auto st = drop_privileges(nobody_, {}); !st) {
      return st.error();
    }
    if (has_capability(CAP_PERMITTED, CAP_NET_BIND_SERVICE) || binds_a_low_port()) {
      return "a port below 1024 could still be bound";
    }
    return "";
  });
  EXPECT_EQ(report, "");
}

TEST_F(Privileges, OnlyRootCanSwitch) {
  const std::string report = in_child([this]() -> std::string {
    if (::setresuid(nobody_.uid, nobody_.uid, nobody_.uid) != 0) {
      return "setup: cannot become nobody";
    }
    auto st = drop_privileges(nobody_, {});
    return st ? "switched without root" : st.error();
  });
  EXPECT_EQ(report,
            "cannot run as user nobody: only root can switch users (this process runs as "
            "nobody)");
}

TEST_F(Privileges, RefusedOnceAnotherThreadRuns) {
  const std::string report = in_child([this]() -> std::string {
    int block[2];
    if (::pipe(block) != 0) {
      return "setup: pipe";
    }
    std::thread waiting([&] {
      char c;
      [[maybe_unused]] ssize_t n = ::read(block[0], &c, 1);
    });
    auto st = drop_privileges(nobody_, {});
    const bool still_root = ::geteuid() == 0;
    ::close(block[1]);
    waiting.join();
    if (st) {
      return "switched with two threads running";
    }
    return still_root ? st.error() : "refused, but no longer root";
  });
  EXPECT_EQ(report,
            "cannot run as user nobody: 2 threads are running; it must happen before any "
            "starts");
}

TEST_F(Privileges, RootIsNotAUserToDropTo) {
  auto root = look_up_user("root");
  ASSERT_TRUE(root);
  EXPECT_EQ(drop_privileges(*root, {}).error(),
            "cannot run as user root: it is root or in root's group; name an unprivileged user");
  EXPECT_EQ(::geteuid(), 0u);
}

TEST(IsMember, ThePrimaryGroupCountsAndAnUnknownGroupIsNone) {
  auto nobody = look_up_user("nobody");
  ASSERT_TRUE(nobody);
  EXPECT_TRUE(is_member(*nobody, "nogroup"));  // Debian's primary group for nobody
  EXPECT_FALSE(is_member(*nobody, "root"));
  EXPECT_FALSE(is_member(*nobody, "no-such-vigil-group"));
}

TEST(LookUpUser, AnUnknownUserSaysHowToCreateIt) {
  auto user = look_up_user("no-such-vigil-user");
  ASSERT_FALSE(user);
  EXPECT_EQ(user.error(),
            "no user no-such-vigil-user on this system (create it with a group of its own: "
            "groupadd --system vigil-l7; useradd --system --no-user-group --gid vigil-l7 "
            "no-such-vigil-user)");
  EXPECT_EQ(capability_name(CAP_NET_BIND_SERVICE), "CAP_NET_BIND_SERVICE");
}

}  // namespace
}  // namespace vigil
