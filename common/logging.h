// Structured logging: one line per event, `key=value` pairs (logfmt), to stderr by default.
//   ts=2026-11-25T10:00:00.123Z level=info component=vigild msg="listening"
//   socket=/run/vigil/vigild.sock
// Control-plane only: it formats into a std::string, so never call it per packet.
#pragma once

#include <chrono>
#include <concepts>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

std::string_view level_name(Level level);
std::optional<Level> parse_level(std::string_view name);

// One key=value pair. Values are stored formatted; the key must be a bare word.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  template <std::integral T>
  Field(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, double v);

  std::string_view key;
  std::string value;
};

// Where finished lines go. The default writes each line to stderr with one write(2).
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write_line(std::string_view line) = 0;
};

// Formats one event as a logfmt line (with trailing newline). Pure, so it is unit-tested.
std::string format_line(std::chrono::system_clock::time_point when, Level level,
                        std::string_view component, std::string_view message,
                        std::initializer_list<Field> fields);

// Appends `value`, quoted and escaped only when logfmt needs it.
void append_value(std::string& out, std::string_view value);

// Process-wide settings, set once at start by the daemon runner.
void set_component(std::string_view component);
void set_level(Level level);
Level level();
// Replaces the sink; nullptr restores stderr. The caller keeps ownership.
void set_sink(Sink* sink);

void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});
inline void debug(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kDebug, m, f);
}
inline void info(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kInfo, m, f);
}
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kWarn, m, f);
}
inline void error(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kError, m, f);
}

}  // namespace vigil::log
