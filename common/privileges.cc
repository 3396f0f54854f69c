#include "common/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

namespace vigil {

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

size_t thread_count() {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

struct CapFree {
  void operator()(cap_t c) const { cap_free(c); }
};
using CapPtr = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

}  // namespace

Expected<SystemUser> look_up_user(const std::string& name) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  const int rc = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0) {
    return fail("cannot look up user " + name + ": " + std::strerror(rc));
  }
  if (found == nullptr) {
    // Not `useradd --system NAME`: its group of the same name would be the operators' for
    // NAME vigil. docs/operations.md says how.
    return fail("no user " + name +
                " on this system (create it with a group of its own: groupadd --system vigil-l7; "
                "useradd --system --no-user-group --gid vigil-l7 " +
                name + ")");
  }
  return SystemUser{.name = name, .uid = entry.pw_uid, .gid = entry.pw_gid};
}

std::string current_user_name() {
  return user_name(::geteuid());
}

std::string user_name(uid_t uid) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    return entry.pw_name;
  }
  return "uid:" + std::to_string(uid);
}

bool is_member(const SystemUser& user, const std::string& group) {
  std::vector<char> buffer(16384);
  ::group entry{};
  ::group* found = nullptr;
  if (::getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return false;
  }
  const gid_t wanted = entry.gr_gid;
  int count = 64;
  std::vector<gid_t> groups(static_cast<size_t>(count));
  while (::getgrouplist(user.name.c_str(), user.gid, groups.data(), &count) < 0) {
    if (count > 65536) {
      return true;  // not answerable: the caller refuses as if it were
    }
    groups.resize(static_cast<size_t>(count));
  }
  groups.resize(static_cast<size_t>(count));
  return std::find(groups.begin(), groups.end(), wanted) != groups.end();
}

std::string permission_hint(int error) {
  if (error != EACCES || ::geteuid() == 0) {
    return "";
  }
  return " (this process runs as " + current_user_name() + ")";
}

std::string capability_name(int capability) {
  std::unique_ptr<char, decltype(&cap_free)> name(cap_to_name(capability), &cap_free);
  if (!name) {
    return "capability " + std::to_string(capability);
  }
  std::string out(name.get());
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

Status drop_privileges(const SystemUser& user, std::span<const int> keep) {
  const std::string as = "cannot run as user " + user.name + ": ";
  if (::geteuid() != 0) {
    return fail(as + "only root can switch users (this process runs as " + current_user_name() +
                ")");
  }
  if (user.uid == 0 || user.gid == 0) {
    return fail(as + "it is root or in root's group; name an unprivileged user");
  }
  // Capabilities, the bounding set and no_new_privs are each thread's own: a thread started
  // before would keep what this one gives up.
  if (const size_t threads = thread_count(); threads != 1) {
    return fail(as + std::to_string(threads) +
                " threads are running; it must happen before any "
                "starts");
  }
  // The bounding set first: taking from it needs CAP_SETPCAP, which the switch removes.
  // Up to what the running kernel knows, which may be more than these headers name.
  const int last = static_cast<int>(cap_max_bits()) - 1;
  for (int c = 0; c <= last; ++c) {
    if (std::find(keep.begin(), keep.end(), c) != keep.end()) {
      continue;
    }
    if (cap_drop_bound(c) != 0) {
      return fail(as + "cannot drop " + capability_name(c) +
                  " from the bounding set: " + errno_text());
    }
  }
  if (::initgroups(user.name.c_str(), user.gid) != 0) {
    return fail(as + "cannot take its groups: " + errno_text());
  }
  if (::setresgid(user.gid, user.gid, user.gid) != 0) {
    return fail(as + "cannot take its group: " + errno_text());
  }
  // Without this, the switch of uid empties the permitted set too and nothing can be kept.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
    return fail(as + "cannot keep capabilities across the switch: " + errno_text());
  }
  if (::setresuid(user.uid, user.uid, user.uid) != 0) {
    return fail(as + "cannot take its uid: " + errno_text());
  }
  ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  CapPtr caps(cap_init());
  if (!caps) {
    return fail(as + "cannot build the capability set: " + errno_text());
  }
  if (!keep.empty()) {
    std::vector<cap_value_t> values(keep.begin(), keep.end());
    const int n = static_cast<int>(values.size());
    if (cap_set_flag(caps.get(), CAP_PERMITTED, n, values.data(), CAP_SET) != 0 ||
        cap_set_flag(caps.get(), CAP_EFFECTIVE, n, values.data(), CAP_SET) != 0) {
      return fail(as + "cannot name the capabilities to keep: " + errno_text());
    }
  }
  if (cap_set_proc(caps.get()) != 0) {
    return fail(as + "cannot set the capabilities kept: " + errno_text());
  }
  if (cap_reset_ambient() != 0 && errno != EINVAL) {
    return fail(as + "cannot clear ambient capabilities: " + errno_text());
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return fail(as + "cannot set no_new_privs: " + errno_text());
  }
  // The proof: were root still reachable, nothing above would have held.
  if (::setuid(0) == 0 || ::setgid(0) == 0) {
    return fail(as + "root could be taken back after the switch");
  }
  return Ok{};
}

}  // namespace vigil
