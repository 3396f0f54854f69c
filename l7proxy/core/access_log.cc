#include "l7proxy/core/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/logging.h"
#include "common/privileges.h"

namespace vigil::l7 {
namespace {

constexpr std::array<std::pair<std::string_view, AccessField>, 13> kNames = {{
    {"time", AccessField::kTime},
    {"client", AccessField::kClient},
    {"listener", AccessField::kListener},
    {"method", AccessField::kMethod},
    {"host", AccessField::kHost},
    {"path", AccessField::kPath},
    {"status", AccessField::kStatus},
    {"bytes", AccessField::kBytes},
    {"duration_ms", AccessField::kDurationMs},
    {"route", AccessField::kRoute},
    {"upstream", AccessField::kUpstream},
    {"target", AccessField::kTarget},
    {"request_id", AccessField::kRequestId},
}};

constexpr std::array<AccessField, 13> kAll = {
    AccessField::kTime,       AccessField::kClient, AccessField::kListener, AccessField::kMethod,
    AccessField::kHost,       AccessField::kPath,   AccessField::kStatus,   AccessField::kBytes,
    AccessField::kDurationMs, AccessField::kRoute,  AccessField::kUpstream, AccessField::kTarget,
    AccessField::kRequestId};

// RFC 3339 in UTC with milliseconds, as the daemons' own log lines.
void append_time(std::string& out, int64_t unix_ms) {
  const time_t seconds = static_cast<time_t>(unix_ms / 1000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  const int n = std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                              utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                              utc.tm_min, utc.tm_sec, static_cast<int>(unix_ms % 1000));
  out.append(text, static_cast<size_t>(n));
}

void append_number(std::string& out, uint64_t v) {
  char text[24];
  auto [end, ec] = std::to_chars(text, text + sizeof text, v);
  out.append(text, end);
}

void append_text(std::string& out, std::string_view v) {
  if (v.empty()) {
    out += '-';
    return;
  }
  log::append_value(out, v);
}

}  // namespace

std::optional<AccessField> access_field(std::string_view name) {
  for (const auto& [n, f] : kNames) {
    if (n == name) {
      return f;
    }
  }
  return std::nullopt;
}

std::span<const AccessField> all_access_fields() {
  return kAll;
}

Expected<std::shared_ptr<UniqueFd>> open_access_log(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640));
  if (!fd.valid()) {
    const int error = errno;
    return fail("access log " + path + ": " + std::strerror(error) + permission_hint(error));
  }
  return std::make_shared<UniqueFd>(std::move(fd));
}

AccessLog::AccessLog(std::shared_ptr<UniqueFd> file, std::vector<AccessField> fields)
    : file_(std::move(file)), fields_(std::move(fields)) {
  if (fields_.empty()) {
    fields_.assign(kAll.begin(), kAll.end());
  }
}

AccessLog::~AccessLog() {
  flush();
}

std::string AccessLog::format(const AccessRecord& r, std::span<const AccessField> fields) {
  std::string out;
  for (const AccessField f : fields) {
    if (!out.empty()) {
      out += ' ';
    }
    out.append(kNames[static_cast<size_t>(f)].first).append("=");
    switch (f) {
      case AccessField::kTime:
        append_time(out, r.unix_ms);
        break;
      case AccessField::kClient:
        append_text(out, r.client);
        break;
      case AccessField::kListener:
        append_text(out, r.listener);
        break;
      case AccessField::kMethod:
        append_text(out, r.method);
        break;
      case AccessField::kHost:
        append_text(out, r.host);
        break;
      case AccessField::kPath:
        append_text(out, r.path);
        break;
      case AccessField::kStatus:
        append_number(out, static_cast<uint64_t>(r.status));
        break;
      case AccessField::kBytes:
        append_number(out, r.bytes);
        break;
      case AccessField::kDurationMs: {
        char text[32];
        const int n = std::snprintf(text, sizeof text, "%.3f", r.duration_ms);
        out.append(text, static_cast<size_t>(n));
        break;
      }
      case AccessField::kRoute:
        append_text(out, r.route);
        break;
      case AccessField::kUpstream:
        append_text(out, r.upstream);
        break;
      case AccessField::kTarget:
        append_text(out, r.target);
        break;
      case AccessField::kRequestId:
        append_text(out, r.request_id);
        break;
    }
  }
  out += '\n';
  return out;
}

void AccessLog::add(const AccessRecord& r) {
  if (pending_.size() >= kMaxPending) {
    ++dropped_;
    return;
  }
  pending_ += format(r, fields_);
  if (pending_.size() >= kFlushAt) {
    flush();
  }
}

bool AccessLog::flush() {
  size_t done = 0;
  while (done < pending_.size()) {
    const ssize_t n = ::write(file_->get(), pending_.data() + done, pending_.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      // Whole lines only are counted: what failed to go is dropped, not retried for ever.
      for (size_t i = done; i < pending_.size(); ++i) {
        dropped_ += pending_[i] == '\n' ? 1 : 0;
      }
      pending_.clear();
      return false;
    }
    done += static_cast<size_t>(n);
  }
  pending_.clear();
  return true;
}

}  // namespace vigil::l7
