// The classifier's policy (classifier_policy.h): ACL, rate and SYN limits, the default and
// fragment policies.
#include <gtest/gtest.h>

#include "tests/bpf/classifier_fixture.h"

namespace vigil::ebpf {
namespace {

TEST_F(ClassifierTest, AclFirstMatchingRuleDecides) {
  struct Case {
    const char* src;
    const char* dst;
    int action;
    const char* verdict;
    const char* rule;  // the rule that counted, if any
  };
  const Case cases[] = {
      {"192.0.2.5", "10.0.0.1", XDP_DROP, "drop_acl", "deny-doc"},
      {"198.51.100.7", "10.0.0.1", XDP_PASS, "pass_local_service", "allow-host"},
      {"198.51.100.8", "10.0.0.1", XDP_DROP, "drop_acl", "deny-net"},
      {"10.9.3.4", "10.0.0.1", XDP_DROP, "drop_acl", "deny-pair"},
      {"10.9.3.4", "10.0.0.9", XDP_PASS, "pass_local_service", nullptr},  // other destination
      {"10.8.3.4", "10.0.0.1", XDP_PASS, "pass_local_service", nullptr},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.src) + " -> " + c.dst);
    const auto before = classifier_->counters();
    expect(PacketBuilder().eth().ipv4(c.src, c.dst).tcp(40000, 22).build(), c.action, c.verdict);
    const auto after = classifier_->counters();
    for (size_t i = 0; i < after.acl_rules.size(); ++i) {
      const uint64_t moved = after.acl_rules[i].count.packets - before.acl_rules[i].count.packets;
      EXPECT_EQ(moved, c.rule != nullptr && after.acl_rules[i].name == c.rule ? 1u : 0u)
          << after.acl_rules[i].name;
    }
  }
  expect(PacketBuilder().eth().ipv6("fd00:5::1", "fd00:dead::1").udp(1, 2).build(), XDP_DROP,
         "drop_acl");
  expect(PacketBuilder().eth().ipv6("fd00:5::1", "fd00::1").tcp(1, 22).build(), XDP_PASS,
         "pass_local_service");
}

TEST_F(ClassifierTest, RateLimitPassesTheBurstThenDrops) {
  const auto frame = PacketBuilder().eth().ipv4("203.0.113.5", "10.0.0.1").tcp(1, 22).build();
  for (int i = 0; i < 3; ++i) {
    expect(frame, XDP_PASS, "pass_local_service");  // under: the burst of 3
  }
  expect(frame, XDP_DROP, "drop_rate_limit");  // over: 1/s refills far slower than this
  expect(PacketBuilder().eth().ipv4("203.0.113.77", "10.0.0.1").tcp(1, 22).build(), XDP_DROP,
         "drop_rate_limit");  // the whole prefix shares the bucket
  expect(PacketBuilder().eth().ipv4("203.0.114.5", "10.0.0.1").tcp(1, 22).build(), XDP_PASS,
         "pass_local_service");  // outside it
  const auto counters = classifier_->counters();
  ASSERT_EQ(counters.policers.size(), 2u);
  EXPECT_EQ(counters.policers[0].name, "noisy");
  EXPECT_EQ(counters.policers[0].passed.packets, 3u);
  EXPECT_EQ(counters.policers[0].dropped.packets, 2u);
}

TEST_F(ClassifierTest, SynLimitPerDestinationSparesEstablishedFlows) {
  const auto syn = PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.9").tcp(1, 22, 0x02).build();
  const auto ack = PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.9").tcp(1, 22, 0x10).build();
  expect(syn, XDP_PASS, "pass_local_service");
  expect(syn, XDP_PASS, "pass_local_service");
  expect(syn, XDP_DROP, "drop_syn_limit");
  expect(ack, XDP_PASS, "pass_local_service");
  expect(PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1").tcp(1, 22, 0x02).build(), XDP_PASS,
         "pass_local_service");  // another destination
}

TEST_F(ClassifierTest, DefaultDropAndFragmentPolicies) {
  auto config = base_config();
  config.default_action = Action::kDrop;
  config.later_fragments = Action::kDrop;
  ASSERT_TRUE(classifier_->apply(config).ok());
  expect(PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1").tcp(1, 8080).build(), XDP_DROP,
         "drop_default_policy");
  expect(PacketBuilder().eth().ipv4("10.5.0.2", "10.7.0.1").tcp(1, 80).build(), XDP_DROP,
         "drop_default_policy");  // transit, not steered
  expect(PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1", 100).payload(64).build(), XDP_DROP,
         "drop_later_fragment");
  expect(PacketBuilder().eth().ipv6("fd00:5::2", "fd00::1").ipv6_frag(10, false).payload(8).build(),
         XDP_DROP, "drop_later_fragment");
  expect(PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1").tcp(1, 22).build(), XDP_PASS,
         "pass_local_service");
  config.steer_transit = true;
  ASSERT_TRUE(classifier_->apply(config).ok());
  expect(PacketBuilder().eth().ipv4("10.5.0.2", "10.7.0.1").tcp(1, 80).build(), XDP_PASS,
         "pass_fast_path_down");  // steered, but no AF_XDP socket in a test run
}

}  // namespace
}  // namespace vigil::ebpf
