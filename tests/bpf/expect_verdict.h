// The check every BPF table test makes of one run: the frame through the real program, the
// XDP action it took, and that the program counted it once, under `verdict`.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ebpf/loader/classifier.h"

namespace vigil::test {

// Returns the frame as the program left it (empty if the run failed).
inline std::vector<uint8_t> expect_verdict(ebpf::Classifier& classifier,
                                           const std::vector<uint8_t>& in, int action,
                                           const std::string& verdict) {
  const auto before = classifier.counters();
  auto r = classifier.run(in);
  EXPECT_TRUE(r.ok()) << r.error();
  if (!r.ok()) {
    return {};
  }
  EXPECT_EQ(r->action, action);
  const auto after = classifier.counters();
  EXPECT_EQ(after.packets(), before.packets() + 1);
  EXPECT_EQ(after.verdict(verdict).packets, before.verdict(verdict).packets + 1)
      << "verdict " << verdict << " did not count the packet";
  return r->output;
}

}  // namespace vigil::test
