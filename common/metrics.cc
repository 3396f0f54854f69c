#include "common/metrics.h"

#include <prometheus/text_serializer.h>

#include <stdexcept>

namespace vigil {
namespace {

bool valid_char(char c, bool first) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return first ? alpha : alpha || (c >= '0' && c <= '9');
}

}  // namespace

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {}

Status MetricsRegistry::check_name(std::string_view name, bool is_counter) {
  if (!name.starts_with("vigil_")) {
    return fail("metric \"" + std::string(name) + "\" must start with vigil_");
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (!valid_char(name[i], i == 0)) {
      return fail("metric \"" + std::string(name) + "\" has an invalid character at offset " +
                  std::to_string(i));
    }
  }
  if (is_counter != name.ends_with("_total")) {
    return fail("metric \"" + std::string(name) + "\": counters, and only counters, end in _total");
  }
  return Ok{};
}

prometheus::Family<prometheus::Counter>& MetricsRegistry::counter(const std::string& name,
                                                                  const std::string& help) {
  if (auto st = check_name(name, true); !st) {
    throw std::invalid_argument(st.error());
  }
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
}

prometheus::Family<prometheus::Gauge>& MetricsRegistry::gauge(const std::string& name,
                                                              const std::string& help) {
  if (auto st = check_name(name, false); !st) {
    throw std::invalid_argument(st.error());
  }
  return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
}

std::string MetricsRegistry::serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace vigil
