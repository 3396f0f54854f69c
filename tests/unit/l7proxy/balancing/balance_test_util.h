// What the balancing tests share: pools of backends, and how often each is picked.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "l7proxy/balancing/balancer.h"

namespace vigil::l7::test {

inline std::vector<BackendInfo> pool(std::vector<uint32_t> weights) {
  std::vector<BackendInfo> out;
  for (size_t i = 0; i < weights.size(); ++i) {
    out.push_back({"10.0.0." + std::to_string(i + 1) + ":80", weights[i]});
  }
  return out;
}

inline std::unique_ptr<Balancer> make(const char* name, const std::vector<BackendInfo>& backends,
                                      uint64_t seed = 1) {
  auto b = make_balancer(name, backends, seed);
  EXPECT_NE(b, nullptr) << name;
  return b;
}

// Picks `n` times (hash i for the i-th), each request finished at once: how many each got.
inline std::vector<int> counts(Balancer& b, size_t backends, int n,
                               const std::vector<bool>& usable) {
  std::vector<int> out(backends, 0);
  for (int i = 0; i < n; ++i) {
    const auto p = b.pick({.hash = static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ull}, usable);
    EXPECT_TRUE(p.has_value());
    if (p) {
      ++out[*p];
    }
  }
  return out;
}

}  // namespace vigil::l7::test
