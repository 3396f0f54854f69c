#include "common/logging.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace vigil::log {
namespace {

class StderrSink final : public Sink {
 public:
  void write_line(std::string_view line) override {
    // One write per line keeps lines whole when several threads or processes share stderr.
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(STDERR_FILENO, p, left);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
};

struct State {
  std::mutex mutex;
  std::string component = "vigil";
  Sink* sink = nullptr;
  StderrSink stderr_sink;
};

State& state() {
  static State s;
  return s;
}

std::atomic<Level> g_level{Level::kInfo};

bool needs_quotes(std::string_view v) {
  if (v.empty()) {
    return true;
  }
  for (unsigned char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) {
      return true;
    }
  }
  return false;
}

void append_timestamp(std::string& out, std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(when.time_since_epoch()).count();
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm_utc {};
  gmtime_r(&secs, &tm_utc);
  char buf[40];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm_utc);
  snprintf(buf + n, sizeof buf - n, ".%03lldZ", static_cast<long long>(ms % 1000));
  out += buf;
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.6g", v);
  value = buf;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "unknown";
}

std::optional<Level> parse_level(std::string_view name) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (name == level_name(l)) {
      return l;
    }
  }
  if (name == "warning") {
    return Level::kWarn;
  }
  return std::nullopt;
}

void append_value(std::string& out, std::string_view value) {
  if (!needs_quotes(value)) {
    out += value;
    return;
  }
  out += '"';
  for (unsigned char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string format_line(std::chrono::system_clock::time_point when, Level level,
                        std::string_view component, std::string_view message,
                        std::initializer_list<Field> fields) {
  std::string out;
  out.reserve(96 + message.size());
  out += "ts=";
  append_timestamp(out, when);
  out += " level=";
  out += level_name(level);
  out += " component=";
  append_value(out, component);
  out += " msg=";
  append_value(out, message);
  for (const Field& f : fields) {
    out += ' ';
    out += f.key;
    out += '=';
    append_value(out, f.value);
  }
  out += '\n';
  return out;
}

void set_component(std::string_view component) {
  std::lock_guard lock(state().mutex);
  state().component = component;
}

void set_level(Level level) {
  g_level.store(level, std::memory_order_relaxed);
}

Level level() {
  return g_level.load(std::memory_order_relaxed);
}

void set_sink(Sink* sink) {
  std::lock_guard lock(state().mutex);
  state().sink = sink;
}

void write(Level lvl, std::string_view message, std::initializer_list<Field> fields) {
  if (lvl < level()) {
    return;
  }
  State& s = state();
  std::lock_guard lock(s.mutex);
  std::string line =
      format_line(std::chrono::system_clock::now(), lvl, s.component, message, fields);
  (s.sink != nullptr ? *s.sink : static_cast<Sink&>(s.stderr_sink)).write_line(line);
}

}  // namespace vigil::log
