#include "common/utc_time.h"

#include <chrono>
#include <ctime>

namespace vigil {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string utc_time_text(int64_t unix_seconds) {
  const auto secs = static_cast<time_t>(unix_seconds);
  struct tm tm_utc {};
  char buf[32] = "?";
  if (gmtime_r(&secs, &tm_utc) != nullptr) {
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
  }
  return buf;
}

std::optional<int64_t> parse_utc_time(std::string_view text) {
  // Digits at these places, these separators between them, nothing else.
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (text.size() != kShape.size()) {
    return std::nullopt;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) {
      return std::nullopt;
    }
  }
  const auto number = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  struct tm t {};
  t.tm_year = number(0, 4) - 1900;
  t.tm_mon = number(5, 2) - 1;
  t.tm_mday = number(8, 2);
  t.tm_hour = number(11, 2);
  t.tm_min = number(14, 2);
  t.tm_sec = number(17, 2);
  if (t.tm_year < 70 || t.tm_mon > 11 || t.tm_mday < 1 || t.tm_hour > 23 || t.tm_min > 59 ||
      t.tm_sec > 59) {
    return std::nullopt;
  }
  const struct tm asked = t;
  const time_t seconds = timegm(&t);
  // timegm() carries a day past the month's end into the next: such a date is not real.
  if (seconds == static_cast<time_t>(-1) || t.tm_mday != asked.tm_mday ||
      t.tm_mon != asked.tm_mon) {
    return std::nullopt;
  }
  return static_cast<int64_t>(seconds);
}

}  // namespace vigil
