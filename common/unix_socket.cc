#include "common/unix_socket.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/logging.h"

namespace vigil {
namespace {

std::string errno_text(const char* what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

Expected<sockaddr_un> make_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return fail("socket path must be 1 to " + std::to_string(sizeof addr.sun_path - 1) +
                " bytes long, got " + std::to_string(path.size()) + ": " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

bool someone_listens(const sockaddr_un& addr) {
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return probe.valid() &&
         ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

}  // namespace

StaleSocket remove_stale_socket(const std::string& path) {
  auto addr = make_address(path);
  struct stat st {};
  if (!addr || ::lstat(path.c_str(), &st) != 0) {
    return StaleSocket::kAbsent;
  }
  if (!S_ISSOCK(st.st_mode)) {
    return StaleSocket::kNotASocket;
  }
  if (someone_listens(*addr)) {
    return StaleSocket::kInUse;
  }
  ::unlink(path.c_str());  // stale, left by a process that died or could not remove it
  return StaleSocket::kRemoved;
}

Expected<UniqueFd> listen_unix(const std::string& path, const ListenOptions& options) {
  auto addr = make_address(path);
  if (!addr) {
    return fail(addr.error());
  }
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return fail("cannot create " + parent.string() + ": " + ec.message());
    }
  }
  switch (remove_stale_socket(path)) {
    case StaleSocket::kNotASocket:
      return fail(path + " exists and is not a socket; refusing to replace it");
    case StaleSocket::kInUse:
      return fail("another process is already listening on " + path);
    case StaleSocket::kAbsent:
    case StaleSocket::kRemoved:
      break;
  }

  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) {
    return fail(errno_text("socket() for", path));
  }
  // Bind under a tight umask so the socket is never more open than `mode`, even briefly.
  const mode_t old_umask = ::umask(0177);
  const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr);
  ::umask(old_umask);
  if (bound != 0) {
    return fail(errno_text("cannot bind", path));
  }
  if (!options.group.empty()) {
    if (const group* g = ::getgrnam(options.group.c_str()); g != nullptr) {
      if (::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
        return fail(errno_text("cannot chown", path));
      }
    } else {
      log::info("socket group does not exist; keeping the process group",
                {{"socket", path}, {"group", options.group}});
    }
  }
  if (::chmod(path.c_str(), options.mode) != 0) {
    return fail(errno_text("cannot chmod", path));
  }
  if (::listen(fd.get(), options.backlog) != 0) {
    return fail(errno_text("cannot listen on", path));
  }
  return fd;
}

Expected<UniqueFd> connect_unix(const std::string& path, std::chrono::milliseconds timeout,
                                int* error) {
  auto addr = make_address(path);
  if (!addr) {
    return fail(addr.error());
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return fail(errno_text("socket() for", path));
  }
  // AF_UNIX connect waits for room in a full listen backlog for up to SO_SNDTIMEO.
  const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  timeval tv{static_cast<time_t>(usec / 1000000), static_cast<suseconds_t>(usec % 1000000)};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0) {
    if (error != nullptr) {
      *error = errno;
    }
    if (errno == EAGAIN || errno == EINPROGRESS) {
      return fail("timed out connecting to " + path);
    }
    return fail(errno_text("cannot connect to", path));
  }
  return fd;
}

rpc::PeerCredentials peer_credentials(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  rpc::PeerCredentials out;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    out.pid = cred.pid;
    out.uid = cred.uid;
    out.gid = cred.gid;
  }
  return out;
}

}  // namespace vigil
