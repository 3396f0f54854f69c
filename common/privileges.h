// Running as an unprivileged user once what needs root is done. A daemon that faces the
// network (vigil-l7) keeps nothing of root but what it still needs: the capability to bind
// ports below 1024, for the listeners a later commit adds. A flaw in its parsers then reaches
// the files and processes of that user, not the box.
#pragma once

#include <sys/types.h>

#include <span>
#include <string>

#include "common/expected.h"

namespace vigil {

struct SystemUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;  // its primary group
};

// The user named `name` in the system's user database (/etc/passwd, NSS).
Expected<SystemUser> look_up_user(const std::string& name);

// The name of user `uid`, or "uid:<n>" when it has none.
std::string user_name(uid_t uid);
// The name of the user this process runs as (its effective uid).
std::string current_user_name();

// Whether `user` belongs to group `group` (as its primary group or a supplementary one).
// False when no such group exists.
bool is_member(const SystemUser& user, const std::string& group);

// Becomes `user` for good: its uid (real, effective, saved), its primary group and the groups
// it is a member of. Of root's
// capabilities only `keep` (CAP_* from <sys/capability.h>) stay, effective and permitted;
// the bounding set loses all others and no_new_privs is set, so no exec gains any back. Must
// run as root and before any other thread starts: capabilities are per thread. Fails with
// nothing half-changed only up to the switch of groups; the caller stops on any failure.
Status drop_privileges(const SystemUser& user, std::span<const int> keep);

// For an error opening a file: " (this process runs as vigil)" when `error` is EACCES and
// this process is not root, so a permission refused after the switch says whose it must be;
// "" otherwise.
std::string permission_hint(int error);

// "CAP_NET_BIND_SERVICE" for the log and status.
std::string capability_name(int capability);

}  // namespace vigil
