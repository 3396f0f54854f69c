#include "mgmt/store/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/unique_fd.h"

namespace vigil::mgmt::store {
namespace {

std::string errno_text(const std::string& what, const std::filesystem::path& p) {
  return what + " " + p.string() + ": " + std::strerror(errno);
}

Status fsync_dir(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) {
    return fail(errno_text("cannot fsync directory", dir));
  }
  return Ok{};
}

}  // namespace

bool is_temporary_file(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  return name.starts_with(".") && name.find(".tmp.") != std::string::npos;
}

Status write_file_atomically(const std::filesystem::path& path, std::string_view content,
                             const BeforeRenameHook& before_rename) {
  const auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  const auto tmp = dir / ("." + path.filename().string() + ".tmp." + std::to_string(::getpid()));
  // 0600: the running config and every commit kept for rollback are root's alone.
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return fail(errno_text("cannot create", tmp));
  }
  for (size_t done = 0; done < content.size();) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      const std::string err = errno_text("cannot write", tmp);
      ::unlink(tmp.c_str());
      return fail(err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    const std::string err = errno_text("cannot fsync", tmp);
    ::unlink(tmp.c_str());
    return fail(err);
  }
  fd.reset();
  if (before_rename) {
    before_rename(tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = errno_text("cannot rename into", path);
    ::unlink(tmp.c_str());
    return fail(err);
  }
  return fsync_dir(dir);
}

Status remove_file_durably(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return fail(errno_text("cannot remove", path));
  }
  return fsync_dir(path.parent_path().empty() ? "." : path.parent_path());
}

Expected<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(errno_text("cannot read", path));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace vigil::mgmt::store
