// UNIX stream sockets for the control plane: listening with the right mode and group, and
// connecting with a timeout.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "common/expected.h"
#include "common/json_rpc.h"
#include "common/unique_fd.h"

namespace vigil {

struct ListenOptions {
  mode_t mode = 0660;
  // Group given to the socket so operators in it may connect. If the group does not exist
  // (a development machine), the socket keeps the process's group and a note is logged.
  std::string group = "vigil";
  int backlog = 64;
};

// Removes `path` if it is a socket nobody listens on (left by a process that died, or by one
// that dropped the rights to remove it); never a file of another kind, never a live socket.
enum class StaleSocket { kAbsent, kRemoved, kNotASocket, kInUse };
StaleSocket remove_stale_socket(const std::string& path);

// Binds and listens on `path`, non-blocking. A stale socket file left by a crashed process is
// replaced; a socket another live process listens on is an error, never stolen.
Expected<UniqueFd> listen_unix(const std::string& path, const ListenOptions& options);

// Connects (blocking, close-on-exec) within `timeout`. On failure `*error` (when given) is the
// errno: ENOENT or ECONNREFUSED mean nothing listens, EAGAIN a full backlog (a server that is
// there but not accepting).
Expected<UniqueFd> connect_unix(const std::string& path, std::chrono::milliseconds timeout,
                                int* error = nullptr);
// Whether connect_unix's errno means nobody listens (as opposed to a server that is there but
// not accepting).
inline bool nothing_listens(int error) {
  return error == ENOENT || error == ECONNREFUSED;
}

rpc::PeerCredentials peer_credentials(int fd);

}  // namespace vigil
