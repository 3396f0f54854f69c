#include "common/small_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/privileges.h"
#include "common/unique_fd.h"

namespace vigil {

Expected<struct stat> stat_regular_file(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return fail("cannot read " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(path + " is not a regular file");
  }
  return st;
}

Expected<std::string> read_to_end(int fd, const std::string& path, size_t max_bytes) {
  std::string content(max_bytes + 1, '\0');
  size_t done = 0;
  while (done <= max_bytes) {
    const ssize_t n = ::read(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return fail("cannot read " + path + ": " + std::strerror(errno));
    }
    if (n == 0) {
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (done > max_bytes) {
    return fail(path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  content.resize(done);
  return content;
}

Expected<std::string> read_small_file(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: a FIFO put where the file was does not block the open.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    const int error = errno;
    return fail("cannot read " + path + ": " + std::strerror(error) + permission_hint(error));
  }
  if (auto st = stat_regular_file(fd.get(), path); !st) {
    return fail(st.error());
  }
  return read_to_end(fd.get(), path, max_bytes);
}

}  // namespace vigil
