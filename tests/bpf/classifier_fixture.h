// The XDP classifier in the kernel, through BPF_PROG_TEST_RUN, as the tests of each of its
// roles (tests/bpf/classifier_*_test.cc) drive it: a fresh program and maps with one config,
// and helpers to check, for each crafted frame, the XDP action, the verdict counter that moved
// and, for frames the program rewrites, the output byte for byte (outer headers and checksums
// built independently by the packet builder or computed here). Needs root (CAP_BPF,
// CAP_NET_ADMIN).
#pragma once

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sched.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "ebpf/host/parse_host.h"
#include "ebpf/loader/classifier.h"
#include "tests/bpf/expect_verdict.h"
#include "tests/packet/packet_builder.h"
#include "vigil/classifier_types.h"
#include "vigil/vip_filter.h"

// The flow hash the program picks a connection's set with; a C header, with C casts.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#include "tests/support/net_literals.h"
#include "vigil/hash.h"
#pragma GCC diagnostic pop

namespace vigil::ebpf {

using vigil::test::PacketBuilder;
using Frame = std::vector<uint8_t>;

constexpr const char* kGatewayMac = "02:00:00:00:00:fe";
constexpr const char* kClientMac = "02:00:00:00:00:01";  // the builder's default source
constexpr const char* kOwnMac = "02:00:00:00:00:02";     // the builder's default destination

using vigil::test::ip;
using vigil::test::net;

inline ClassifierConfig base_config() {
  ClassifierConfig c;
  c.gateway_mac = {0x02, 0, 0, 0, 0, 0xfe};
  c.encap_source4 = net("172.16.0.9/32");  // no host bits: the outer source is predictable
  c.encap_source6 = net("fd00:ffff::9/128");
  c.encap_mtu = 1500;
  c.vips = {
      {.name = "web4", .address = ip("10.100.0.1"), .port = 80, .backends = {{ip("10.200.0.1")}}},
      {.name = "dns-gue",
       .address = ip("10.100.0.2"),
       .port = 53,
       .protocol = 17,
       .encap = Encap::kGue,
       .backends = {{ip("10.200.0.2")}}},
      {.name = "web6",
       .address = ip("fd00:100::1"),
       .port = 443,
       .backends = {{ip("fd00:200::1")}}},
      {.name = "web4-on-6",
       .address = ip("10.100.0.3"),
       .port = 80,
       .backends = {{ip("fd00:200::3")}}},
      {.name = "gue6",
       .address = ip("fd00:100::2"),
       .port = 53,
       .protocol = 17,
       .encap = Encap::kGue,
       .backends = {{ip("fd00:200::2")}}},
  };
  c.acl = {
      {.name = "deny-doc", .source = net("192.0.2.0/24"), .action = Action::kDrop},
      {.name = "allow-host", .source = net("198.51.100.7/32"), .action = Action::kPass},
      {.name = "deny-net", .source = net("198.51.100.0/24"), .action = Action::kDrop},
      {.name = "deny-to-dead", .destination = net("fd00:dead::/32"), .action = Action::kDrop},
      {.name = "deny-pair",
       .source = net("10.9.0.0/16"),
       .destination = net("10.0.0.1/32"),
       .action = Action::kDrop},
  };
  c.rate_limits = {{.name = "noisy",
                    .source = net("203.0.113.0/24"),
                    .policer = {.packets_per_second = 1, .packet_burst = 3}}};
  c.syn_limits = {
      {.name = "syn-guard", .destination = net("10.0.0.9/32"), .per_second = 1, .burst = 2}};
  c.local_addresses = {ip("10.0.0.1"), ip("10.0.0.9"), ip("fd00::1")};
  c.local_ports = {{.protocol = 6, .port = 22},
                   {.protocol = 6, .port = 179},
                   {.protocol = 17, .port = 51820, .action = Action::kFastPath}};
  return c;
}

// One's-complement sum over `bytes` (with an optional starting sum): 0xffff when a checksum
// over them is right.
inline uint16_t ones_sum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) {
    sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  }
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

inline void put16(Frame& f, size_t at, uint16_t v) {
  f[at] = static_cast<uint8_t>(v >> 8);
  f[at + 1] = static_cast<uint8_t>(v);
}

inline std::string hex(const Frame& f) {
  std::string out;
  char b[4];
  for (size_t i = 0; i < f.size(); ++i) {
    std::snprintf(b, sizeof(b), "%02x", f[i]);
    out += b;
    if (i % 16 == 15) {
      out += '\n';
    } else {
      out += ' ';
    }
  }
  return out;
}

// The packets counted under one name in a list of named counters (events, ACL rules).
inline uint64_t packets_named(const std::vector<NamedCount>& counts, const char* name) {
  for (const auto& c : counts) {
    if (c.name == name) {
      return c.count.packets;
    }
  }
  ADD_FAILURE() << "no counter named " << name;
  return 0;
}

inline uint64_t event(const ClassifierCounters& c, const char* name) {
  return packets_named(c.events, name);
}

inline uint64_t rule_packets(const ClassifierCounters& c, const char* name) {
  return packets_named(c.acl_rules, name);
}

// A fresh program and maps per test: token buckets and the connection table start empty.
class ClassifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "needs root for BPF_PROG_TEST_RUN";
    }
    // Each CPU has its own connection table, and a test run goes on the caller's CPU: one
    // CPU for every run, as a flow stays on one receive queue.
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
    auto c = Classifier::load({});
    ASSERT_TRUE(c.ok()) << c.error();
    classifier_ = std::move(*c);
    auto s = classifier_->apply(base_config());
    ASSERT_TRUE(s.ok()) << s.error();
  }

  // Runs the frame; checks the action and that exactly `verdict` counted it.
  Frame expect(const Frame& in, int action, const std::string& verdict) {
    return test::expect_verdict(*classifier_, in, action, verdict);
  }

  std::unique_ptr<Classifier> classifier_;
};

}  // namespace vigil::ebpf
