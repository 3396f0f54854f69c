// Starts DPDK's EAL once per test binary, without hugepages, PCI or root, so fast-path code
// runs on real mbufs, rte_fib and rte_hash. Include it in a test file; nothing else to do.
#pragma once

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace vigil::test {

class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    // A unique prefix: test binaries run in parallel and must not share EAL's runtime files.
    const std::string prefix = "--file-prefix=vigil-test-" + std::to_string(getpid());
    std::vector<std::string> args = {
        "vigil-test",  "--no-huge",      "-m", "512", "--no-pci",
        "--no-shconf", "--no-telemetry", "-l", "0",   "--log-level=*:warning",
        prefix};
    std::vector<char*> argv;
    argv.reserve(args.size());
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0) << "EAL did not start";
    pool_ =
        rte_pktmbuf_pool_create("test_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    ASSERT_NE(pool_, nullptr);
  }
  void TearDown() override {
    rte_mempool_free(pool_);
    rte_eal_cleanup();
  }
  static rte_mempool* pool() { return pool_; }

 private:
  static inline rte_mempool* pool_ = nullptr;  // NOLINT(readability-identifier-naming): a member
};

inline ::testing::Environment* const kEalEnvironment =
    ::testing::AddGlobalTestEnvironment(new EalEnvironment);

// An mbuf holding `bytes`.
inline rte_mbuf* make_mbuf(const std::vector<uint8_t>& bytes) {
  rte_mbuf* m = rte_pktmbuf_alloc(EalEnvironment::pool());
  if (m == nullptr) {
    return nullptr;
  }
  auto* data = rte_pktmbuf_append(m, static_cast<uint16_t>(bytes.size()));
  if (data == nullptr) {  // longer than one mbuf holds
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memcpy(data, bytes.data(), bytes.size());
  return m;
}

// Every segment's bytes, in order (fragments chain their payload to a header mbuf).
inline std::vector<uint8_t> bytes_of(const rte_mbuf* m) {
  std::vector<uint8_t> out;
  for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
    const auto* p = rte_pktmbuf_mtod(s, const uint8_t*);
    out.insert(out.end(), p, p + rte_pktmbuf_data_len(s));
  }
  return out;
}

}  // namespace vigil::test
