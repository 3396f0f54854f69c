#include "common/metrics.h"

#include <prometheus/text_serializer.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace vigil {
namespace {

bool valid_char(char c, bool first) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return first ? alpha : alpha || (c >= '0' && c <= '9');
}

// A series' identity: its family's name and its labels.
std::string series_key(const std::string& family,
                       const std::map<std::string, std::string>& labels) {
  std::string key = family;
  for (const auto& [k, v] : labels) {
    key.append("|").append(k).append("=").append(v);
  }
  return key;
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

prometheus::Family<prometheus::Histogram>& MetricsRegistry::histogram(const std::string& name,
                                                                      const std::string& help) {
  if (auto st = check_name(name, false); !st) {
    throw std::invalid_argument(st.error());
  }
  return prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
}

nlohmann::json MetricsRegistry::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& family : registry_->Collect()) {
    const char* type = family.type == prometheus::MetricType::Counter     ? "counter"
                       : family.type == prometheus::MetricType::Gauge     ? "gauge"
                       : family.type == prometheus::MetricType::Histogram ? "histogram"
                                                                          : nullptr;
    if (type == nullptr) {
      continue;
    }
    nlohmann::json samples = nlohmann::json::array();
    for (const auto& m : family.metric) {
      nlohmann::json labels = nlohmann::json::object();
      for (const auto& l : m.label) {
        labels[l.name] = l.value;
      }
      if (family.type == prometheus::MetricType::Histogram) {
        nlohmann::json buckets = nlohmann::json::array();
        for (const auto& b : m.histogram.bucket) {
          // JSON has no infinity: the last bucket's bound travels as "+Inf".
          buckets.push_back(
              {std::isinf(b.upper_bound) ? nlohmann::json("+Inf") : nlohmann::json(b.upper_bound),
               b.cumulative_count});
        }
        samples.push_back({{"labels", labels},
                           {"count", m.histogram.sample_count},
                           {"sum", m.histogram.sample_sum},
                           {"buckets", buckets}});
        continue;
      }
      samples.push_back(
          {{"labels", labels},
           {"value",
            family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value}});
    }
    out.push_back(
        {{"name", family.name}, {"help", family.help}, {"type", type}, {"samples", samples}});
  }
  return out;
}

std::vector<prometheus::MetricFamily> MetricsRegistry::families_from_json(const nlohmann::json& j) {
  std::vector<prometheus::MetricFamily> out;
  if (!j.is_array()) {
    return out;
  }
  for (const auto& f : j) {
    if (!f.is_object() || !f.value("name", std::string()).starts_with("vigil_")) {
      continue;  // only well-formed Vigil families cross into vigild's exposition
    }
    prometheus::MetricFamily family;
    family.name = f.value("name", "");
    family.help = f.value("help", "");
    const std::string type = f.value("type", "");
    family.type = type == "counter"     ? prometheus::MetricType::Counter
                  : type == "gauge"     ? prometheus::MetricType::Gauge
                  : type == "histogram" ? prometheus::MetricType::Histogram
                                        : prometheus::MetricType::Untyped;
    // Bound to locals: iterating a temporary's items() would dangle.
    const nlohmann::json samples = f.value("samples", nlohmann::json::array());
    for (const auto& s : samples) {
      prometheus::ClientMetric m;
      const nlohmann::json labels = s.value("labels", nlohmann::json::object());
      for (const auto& [k, v] : labels.items()) {
        m.label.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
      }
      if (family.type == prometheus::MetricType::Histogram) {
        m.histogram.sample_count = s.value("count", uint64_t{0});
        m.histogram.sample_sum = s.value("sum", 0.0);
        const nlohmann::json buckets = s.value("buckets", nlohmann::json::array());
        for (const auto& b : buckets) {
          if (!b.is_array() || b.size() != 2 || !b[1].is_number_unsigned()) {
            continue;
          }
          const bool infinite = b[0] == "+Inf";
          if (b[0].is_number() || infinite) {
            m.histogram.bucket.push_back(
                {.cumulative_count = b[1].get<uint64_t>(),
                 .upper_bound =
                     infinite ? std::numeric_limits<double>::infinity() : b[0].get<double>()});
          }
        }
        family.metric.push_back(std::move(m));
        continue;
      }
      const double value = s.value("value", 0.0);
      m.counter.value = value;
      m.gauge.value = value;
      m.untyped.value = value;
      family.metric.push_back(std::move(m));
    }
    out.push_back(std::move(family));
  }
  return out;
}

std::string MetricsRegistry::serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

void HistogramExporter::set(prometheus::Family<prometheus::Histogram>& family,
                            const std::map<std::string, std::string>& labels,
                            const std::vector<double>& bounds, const std::vector<uint64_t>& buckets,
                            double sum) {
  Last& last = last_[series_key(family.GetName(), labels)];
  last.buckets.resize(buckets.size());
  std::vector<double> increments(buckets.size());
  bool reset = sum < last.sum;
  for (size_t i = 0; i < buckets.size(); ++i) {
    reset |= buckets[i] < last.buckets[i];
  }
  for (size_t i = 0; i < buckets.size(); ++i) {
    // A total that went down was reset (a restarted component): it counts from zero again.
    increments[i] = static_cast<double>(reset ? buckets[i] : buckets[i] - last.buckets[i]);
  }
  family.Add(labels, bounds).ObserveMultiple(increments, reset ? sum : sum - last.sum);
  last.buckets = buckets;
  last.sum = sum;
}

void TotalsExporter::set(prometheus::Family<prometheus::Counter>& family,
                         const std::map<std::string, std::string>& labels, uint64_t total) {
  double& last = last_[series_key(family.GetName(), labels)];
  const double now = static_cast<double>(total);
  family.Add(labels).Increment(now >= last ? now - last : now);
  last = now;
}

}  // namespace vigil
