// The audit trail: one logfmt line per commit, rollback, confirm and denied request, in its
// own append-only file, separate from the daemon's log.
#pragma once

#include <initializer_list>
#include <string>

#include "common/logging.h"
#include "common/unique_fd.h"

namespace vigil::mgmt {

class AuditLog {
 public:
  // An empty path disables the file (lines still go to the daemon log).
  explicit AuditLog(std::string path);
  void record(std::string_view event, std::initializer_list<log::Field> fields);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  UniqueFd fd_;
};

}  // namespace vigil::mgmt
