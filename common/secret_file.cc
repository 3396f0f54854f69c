#include "common/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/privileges.h"
#include "common/small_file.h"
#include "common/unique_fd.h"

namespace vigil {
namespace {

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

Status write_all(int fd, std::string_view content, const std::string& name) {
  for (size_t done = 0; done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return fail("cannot write " + name + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return Ok{};
}

// The new name on disk too: a crash must not lose a key whose public half was already shown.
void sync_directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.valid()) {
    (void)::fsync(fd.get());
  }
}

}  // namespace

Status write_private_file(const std::string& path, std::string_view content, bool replace) {
  if (!replace) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      return fail(path + " exists already");
    }
  }
  const std::string temporary = path + ".new";
  // O_EXCL and O_NOFOLLOW: a link planted where the file goes must not point root's write
  // elsewhere; a leftover temporary goes first.
  ::unlink(temporary.c_str());
  UniqueFd fd(
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return fail("cannot write " + temporary + ": " + std::strerror(errno));
  }
  if (Status s = write_all(fd.get(), content, temporary); !s) {
    ::unlink(temporary.c_str());
    return s;
  }
  // fchmod: the umask may have taken bits off 0600, never added; this says it plainly.
  if (::fchmod(fd.get(), 0600) != 0 || ::fsync(fd.get()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temporary.c_str());
    return fail("cannot write " + temporary + ": " + why);
  }
  if (!replace) {
    // link() fails when the name exists: nothing there is replaced, even by a race.
    if (::link(temporary.c_str(), path.c_str()) != 0) {
      const std::string why = std::strerror(errno);
      ::unlink(temporary.c_str());
      return fail("cannot write " + path + ": " + why);
    }
    ::unlink(temporary.c_str());
    sync_directory_of(path);
    return Ok{};
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temporary.c_str());
    return fail("cannot rename " + temporary + " to " + path + ": " + why);
  }
  sync_directory_of(path);
  return Ok{};
}

Expected<std::string> read_private_file(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    if (errno == ELOOP) {
      return fail(path + " is a symbolic link: give the file itself");
    }
    const int error = errno;
    return fail("cannot read " + path + ": " + std::strerror(error) + permission_hint(error));
  }
  auto stat = stat_regular_file(fd.get(), path);
  if (!stat) {
    return fail(stat.error());
  }
  const struct stat& st = *stat;
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    const std::string owner = ::geteuid() == 0 ? "root" : current_user_name();
    return fail(path + " belongs to uid " + std::to_string(st.st_uid) +
                ": a key file must belong to " + owner +
                (owner == "root" ? "" : " (whom this process runs as)") + " (chown " + owner + " " +
                path + ")");
  }
  if ((st.st_mode & 077) != 0) {
    return fail(path + " has mode " + octal_mode(st.st_mode) +
                ": others could read it; a key file must be 0600 (chmod 600 " + path +
                "), and a key others could read should be replaced");
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return fail(path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  return read_to_end(fd.get(), path, max_bytes);
}

}  // namespace vigil
