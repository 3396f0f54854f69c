// Times as the config, the audit log and the CLI write them: RFC 3339 in UTC, to the second
// ("2026-12-05T08:30:00Z"). One strict form, so a time in a config reads one way only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

// The wall clock, in unix seconds.
int64_t unix_now();

std::string utc_time_text(int64_t unix_seconds);
// Nothing unless `text` is exactly YYYY-MM-DDTHH:MM:SSZ, a real date and time, 1970-9999.
std::optional<int64_t> parse_utc_time(std::string_view text);

}  // namespace vigil
