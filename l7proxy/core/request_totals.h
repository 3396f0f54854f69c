// What requests a worker ended, by route and by upstream: responses by status class and how
// long each took, in Prometheus's fixed latency buckets. Each worker keeps its own, on its own
// thread alone (no atomics: the control thread asks for a copy, as it asks for target states),
// and they outlive commits, only ever growing (Prometheus takes a total that shrinks for a
// restart): a route or upstream is known by its name, and one a commit removes stays.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace vigil::l7 {

// Upper bounds in seconds; a last bucket holds what is above the last bound.
inline constexpr std::array<double, 12> kLatencyBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                          0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

struct RequestCounts {
  std::array<uint64_t, 6> by_class{};  // [0]: no answer (cut short), [1] 1xx ... [5] 5xx
  std::array<uint64_t, kLatencyBounds.size() + 1> latency{};  // per bucket, not cumulative
  double latency_sum = 0;                                     // seconds

  // A 101's time is left out: it ends when the tunnel does, hours later perhaps.
  void add(int status, double seconds) {
    ++by_class[status >= 100 && status < 600 ? static_cast<size_t>(status / 100) : 0];
    if (status == 101) {
      return;
    }
    size_t b = 0;
    while (b < kLatencyBounds.size() && seconds > kLatencyBounds[b]) {
      ++b;
    }
    ++latency[b];
    latency_sum += seconds;
  }
  void merge(const RequestCounts& o) {
    for (size_t i = 0; i < by_class.size(); ++i) {
      by_class[i] += o.by_class[i];
    }
    for (size_t i = 0; i < latency.size(); ++i) {
      latency[i] += o.latency[i];
    }
    latency_sum += o.latency_sum;
  }
};

struct RequestTotals {
  // std::less<>: looked up by string_view, with no allocation once a name is in.
  std::map<std::string, RequestCounts, std::less<>> routes;
  std::map<std::string, RequestCounts, std::less<>> upstreams;

  static RequestCounts& at(std::map<std::string, RequestCounts, std::less<>>& m,
                           std::string_view name) {
    auto it = m.find(name);
    return it != m.end() ? it->second : m.emplace(std::string(name), RequestCounts{}).first->second;
  }

  void merge(const RequestTotals& o) {
    for (const auto& [name, c] : o.routes) {
      routes[name].merge(c);
    }
    for (const auto& [name, c] : o.upstreams) {
      upstreams[name].merge(c);
    }
  }
};

}  // namespace vigil::l7
