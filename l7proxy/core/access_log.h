// The access log: one logfmt line per request, the fields the config names in its order.
// Each worker batches its lines and appends them with one write (O_APPEND: the workers' batches
// never interleave within a line) when the batch passes 64 KiB and at least once a second, so
// a request costs a format into memory, not a syscall. A disk that falls behind does not grow
// memory: past 1 MiB waiting, lines are dropped and counted. Values come from clients (a path,
// a Host), so every one is quoted and escaped as logfmt needs: no line can forge another.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/expected.h"
#include "common/unique_fd.h"

namespace vigil::l7 {

enum class AccessField {
  kTime,
  kClient,
  kListener,
  kMethod,
  kHost,
  kPath,
  kStatus,
  kBytes,
  kDurationMs,
  kRoute,
  kUpstream,
  kTarget,
  kRequestId,
};

// "time", ... as the config names them; nothing for another word.
std::optional<AccessField> access_field(std::string_view name);
std::span<const AccessField> all_access_fields();

struct AccessRecord {
  int64_t unix_ms = 0;
  std::string_view client, listener, method, host, path, route, upstream, target, request_id;
  int status = 0;
  uint64_t bytes = 0;  // response body bytes sent
  double duration_ms = 0;
};

// Appends the file (created 0640). The message names the path.
Expected<std::shared_ptr<UniqueFd>> open_access_log(const std::string& path);

class AccessLog {
 public:
  static constexpr size_t kFlushAt = size_t{64} * 1024;
  static constexpr size_t kMaxPending = size_t{1} << 20;

  AccessLog(std::shared_ptr<UniqueFd> file, std::vector<AccessField> fields);
  ~AccessLog();

  void add(const AccessRecord& r);
  // Writes what waits; false when the write failed (the lines are dropped and counted).
  bool flush();
  uint64_t dropped() const { return dropped_; }
  // Lines dropped since the last call.
  uint64_t take_dropped() { return std::exchange(dropped_, 0); }
  const std::shared_ptr<UniqueFd>& file() const { return file_; }

  // One line as add() writes it (for tests).
  static std::string format(const AccessRecord& r, std::span<const AccessField> fields);

 private:
  std::shared_ptr<UniqueFd> file_;
  std::vector<AccessField> fields_;
  std::string pending_;
  uint64_t dropped_ = 0;
};

}  // namespace vigil::l7
