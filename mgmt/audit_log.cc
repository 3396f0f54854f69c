#include "mgmt/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

namespace vigil::mgmt {

AuditLog::AuditLog(std::string path) : path_(std::move(path)) {
  if (path_.empty()) {
    return;
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  fd_.reset(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!fd_.valid()) {
    log::error("cannot open the audit log; audit lines go to the daemon log only",
               {{"path", path_}, {"error", std::strerror(errno)}});
  }
}

void AuditLog::record(std::string_view event, std::initializer_list<log::Field> fields) {
  std::string line =
      log::format_line(std::chrono::system_clock::now(), log::Level::kInfo, "audit", event, fields);
  log::info(std::string("audit: ") + std::string(event), fields);
  if (fd_.valid()) {
    // O_APPEND and one write per line: lines from concurrent writers never interleave.
    [[maybe_unused]] ssize_t n = ::write(fd_.get(), line.data(), line.size());
  }
}

}  // namespace vigil::mgmt
