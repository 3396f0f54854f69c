// The connection table (classifier_conn_table.h): established flows keep their backend, a
// reused index starts anew, a full set evicts, and what a connection remembers of the policy.
#include <gtest/gtest.h>

#include "tests/bpf/classifier_fixture.h"

namespace vigil::ebpf {
namespace {

uint32_t backend_of(const Frame& out) {
  uint32_t dst;
  std::memcpy(&dst, &out.at(30), 4);  // outer IPv4 destination
  return dst;
}

TEST_F(ClassifierTest, EstablishedFlowsKeepTheirBackendWhenTheSetChanges) {
  auto config = base_config();
  config.vips[0].backends = {{ip("10.200.0.1")}, {ip("10.200.0.2")}};
  ASSERT_TRUE(classifier_->apply(config).ok());
  std::vector<Frame> flows;
  std::vector<uint32_t> first;
  for (uint16_t port = 2000; port < 2100; ++port) {
    flows.push_back(PacketBuilder().eth().ipv4("10.5.0.3", "10.100.0.1").tcp(port, 80).build());
    first.push_back(backend_of(expect(flows.back(), XDP_TX, "tx_vip_encapsulated")));
  }
  // A third backend: Maglev would move about a third of the flows, the table keeps them.
  config.vips[0].backends.push_back({ip("10.200.0.3")});
  ASSERT_TRUE(classifier_->apply(config).ok());
  for (size_t i = 0; i < flows.size(); ++i) {
    EXPECT_EQ(backend_of(expect(flows[i], XDP_TX, "tx_vip_encapsulated")), first[i]) << i;
  }
  int new_flows_on_third = 0;
  for (uint16_t port = 3000; port < 3100; ++port) {
    const auto out =
        expect(PacketBuilder().eth().ipv4("10.5.0.3", "10.100.0.1").tcp(port, 80).build(), XDP_TX,
               "tx_vip_encapsulated");
    new_flows_on_third += backend_of(out) == inet_addr("10.200.0.3");
  }
  EXPECT_GT(new_flows_on_third, 15) << "new flows use the new backend";

  // Removing 10.200.0.1: its flows move, the others stay.
  config.vips[0].backends.erase(config.vips[0].backends.begin());
  ASSERT_TRUE(classifier_->apply(config).ok());
  const auto stale_before = classifier_->counters();
  int moved = 0;
  for (size_t i = 0; i < flows.size(); ++i) {
    const uint32_t now = backend_of(expect(flows[i], XDP_TX, "tx_vip_encapsulated"));
    if (first[i] == inet_addr("10.200.0.1")) {
      EXPECT_NE(now, first[i]);
      ++moved;
    } else {
      EXPECT_EQ(now, first[i]) << i;
    }
  }
  EXPECT_GT(moved, 0);
  const auto after = classifier_->counters();
  EXPECT_EQ(event(after, "vip_connection_stale") - event(stale_before, "vip_connection_stale"),
            static_cast<uint64_t>(moved));
}

// A connection hit reads no VIP entry: the backend entry carries the VIP's encapsulation and
// counters, and removing the VIP deactivates its backends. So an established flow follows an
// encapsulation change from its next packet (still on its backend), and stops being balanced
// when its VIP goes.
TEST_F(ClassifierTest, EstablishedFlowsFollowTheirVipsEncapsulationAndRemoval) {
  const auto flow = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(4343, 80).build();
  const auto ipip = expect(flow, XDP_TX, "tx_vip_encapsulated");
  ASSERT_GT(ipip.size(), 23u);
  EXPECT_EQ(ipip[23], 4) << "outer protocol: IPIP";

  auto config = base_config();
  config.vips[0].encap = Encap::kGue;
  ASSERT_TRUE(classifier_->apply(config).ok());
  const auto before = classifier_->counters();
  const auto gue = expect(flow, XDP_TX, "tx_vip_encapsulated");
  ASSERT_GT(gue.size(), 23u);
  EXPECT_EQ(gue[23], 17) << "outer protocol: UDP (GUE)";
  EXPECT_EQ(backend_of(gue), backend_of(ipip));
  const auto after = classifier_->counters();
  EXPECT_EQ(event(after, "vip_connection_hit"), event(before, "vip_connection_hit") + 1)
      << "the same connection, not a new pick";
  EXPECT_EQ(packets_named(after.vips, "web4"), packets_named(before.vips, "web4") + 1)
      << "a hit counts under its VIP";

  config.vips.erase(config.vips.begin());
  ASSERT_TRUE(classifier_->apply(config).ok());
  expect(flow, XDP_PASS, "pass_default_policy");
}

// The program counts VIPs and backends in the per-CPU stats record and only ever adds to it; a
// backend that takes over a removed one's index counts from zero all the same, in packets and
// in bytes.
TEST_F(ClassifierTest, ANewBackendOnAReusedIndexCountsFromZero) {
  auto backend_count = [&](const char* address) {
    for (const auto& b : classifier_->counters().backends) {
      if (b.address == address) {
        return b.count;
      }
    }
    ADD_FAILURE() << "no counter for backend " << address;
    return Count{};
  };
  const auto first = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(4000, 80).build();
  for (int i = 0; i < 3; ++i) {
    expect(first, XDP_TX, "tx_vip_encapsulated");
  }
  EXPECT_EQ(backend_count("10.200.0.1").packets, 3u);
  EXPECT_EQ(backend_count("10.200.0.1").bytes, 3 * first.size());
  EXPECT_EQ(packets_named(classifier_->counters().vips, "web4"), 3u);

  // 10.200.0.2 comes in beside it, then 10.200.0.1 leaves, then 10.200.0.3 takes its index.
  auto config = base_config();
  config.vips[0].backends = {{ip("10.200.0.1")}, {ip("10.200.0.2")}};
  ASSERT_TRUE(classifier_->apply(config).ok());
  config.vips[0].backends = {{ip("10.200.0.2")}};
  ASSERT_TRUE(classifier_->apply(config).ok());
  config.vips[0].backends = {{ip("10.200.0.2")}, {ip("10.200.0.3")}};
  ASSERT_TRUE(classifier_->apply(config).ok());
  EXPECT_EQ(backend_count("10.200.0.3").packets, 0u);
  EXPECT_EQ(backend_count("10.200.0.3").bytes, 0u);

  uint64_t to_third = 0;
  uint64_t bytes_to_third = 0;
  for (uint16_t port = 5000; port < 5040; ++port) {
    const auto f = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(port, 80).build();
    if (backend_of(expect(f, XDP_TX, "tx_vip_encapsulated")) == inet_addr("10.200.0.3")) {
      ++to_third;
      bytes_to_third += f.size();
    }
  }
  ASSERT_GT(to_third, 0u) << "Maglev gives the new backend about half the new flows";
  EXPECT_EQ(backend_count("10.200.0.3").packets, to_third);
  EXPECT_EQ(backend_count("10.200.0.3").bytes, bytes_to_third);
  EXPECT_EQ(packets_named(classifier_->counters().vips, "web4"), 3u + 40u) << "the VIP goes on";
}

// The connection table is per CPU, in sets of VIGIL_CONN_WAYS: a hit moves a connection one way
// up, a new one takes an empty way or evicts the last. So when a set overflows, the flow that
// sent once goes, and the flows that kept sending stay.
TEST_F(ClassifierTest, AFullConnectionSetEvictsTheFlowThatSentOnce) {
  const uint32_t sets = connection_sets_per_cpu(libbpf_num_possible_cpus());
  auto frame = [](uint16_t port) {
    return PacketBuilder().eth().ipv4("10.5.0.7", "10.100.0.1").tcp(port, 80, 0x10).build();
  };
  auto set_of = [&](uint16_t port) {
    const Frame f = frame(port);
    vigil_packet p{};
    EXPECT_EQ(vigil_parse_frame(f.data(), f.size(), &p), VIGIL_PARSE_OK);
    return vigil_conn_hash(&p) & (sets - 1);
  };
  // Five flows that share a set.
  std::vector<uint16_t> ports = {20000};
  for (uint16_t port = 20001; ports.size() < VIGIL_CONN_WAYS + 1; ++port) {
    ASSERT_LT(port, 65000) << "no five flows share a set";
    if (set_of(port) == set_of(ports[0])) {
      ports.push_back(port);
    }
  }
  // The flow that will send once comes first, in the top way: only the moves up that the
  // others' second packets make can bring it down to the last way.
  const uint16_t once = ports[0];
  const std::vector<uint16_t> kept(ports.begin() + 1, ports.begin() + VIGIL_CONN_WAYS);
  auto events = [&] { return classifier_->counters(); };
  for (size_t i = 0; i < VIGIL_CONN_WAYS; ++i) {  // fill the set
    expect(frame(ports[i]), XDP_TX, "tx_vip_encapsulated");
  }
  auto before = events();
  for (const uint16_t port : kept) {
    expect(frame(port), XDP_TX, "tx_vip_encapsulated");
  }
  auto after = events();
  EXPECT_EQ(event(after, "vip_connection_hit") - event(before, "vip_connection_hit"), kept.size());
  EXPECT_EQ(event(after, "vip_connection_evicted"), 0u);

  before = after;
  expect(frame(ports[VIGIL_CONN_WAYS]), XDP_TX, "tx_vip_encapsulated");  // a fifth flow
  after = events();
  EXPECT_EQ(event(after, "vip_connection_evicted") - event(before, "vip_connection_evicted"), 1u);

  before = after;
  for (const uint16_t port : kept) {
    expect(frame(port), XDP_TX, "tx_vip_encapsulated");
  }
  after = events();
  EXPECT_EQ(event(after, "vip_connection_hit") - event(before, "vip_connection_hit"), kept.size())
      << "the flows that kept sending are still there";
  before = after;
  expect(frame(once), XDP_TX, "tx_vip_encapsulated");
  after = events();
  EXPECT_EQ(event(after, "vip_connection_miss") - event(before, "vip_connection_miss"), 1u)
      << "the flow that sent once was the one evicted";
}

// ---- what a connection remembers of the policy --------------------------------------------

constexpr const char* kRemembered = "vip_policy_from_connection";

TEST_F(ClassifierTest, EstablishedVipFlowsFollowAnAclChangeAtOnce) {
  const auto ack = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(4242, 80, 0x10).build();
  expect(ack, XDP_TX, "tx_vip_encapsulated");  // makes the connection
  auto before = classifier_->counters();
  expect(ack, XDP_TX, "tx_vip_encapsulated");
  EXPECT_EQ(event(classifier_->counters(), kRemembered), event(before, kRemembered) + 1)
      << "the second packet of the flow skipped the policy lookups";

  auto config = base_config();
  config.acl.push_back(
      {.name = "deny-clients", .source = net("10.5.0.0/16"), .action = Action::kDrop});
  ASSERT_TRUE(classifier_->apply(config).ok());
  before = classifier_->counters();
  expect(ack, XDP_DROP, "drop_acl");
  auto after = classifier_->counters();
  EXPECT_EQ(rule_packets(after, "deny-clients"), 1u);
  EXPECT_EQ(event(after, kRemembered), event(before, kRemembered))
      << "a new ACL generation sends the flow through the tries again";

  config.acl.pop_back();
  ASSERT_TRUE(classifier_->apply(config).ok());
  expect(ack, XDP_TX, "tx_vip_encapsulated");  // looked up, and remembered again
  before = classifier_->counters();
  expect(ack, XDP_TX, "tx_vip_encapsulated");
  EXPECT_EQ(event(classifier_->counters(), kRemembered), event(before, kRemembered) + 1);
}

TEST_F(ClassifierTest, RememberedPolicyStillCountsTheRuleAndChargesThePolicer) {
  auto config = base_config();
  config.acl.push_back(
      {.name = "allow-clients", .source = net("10.5.0.0/16"), .action = Action::kPass});
  config.rate_limits.push_back({.name = "clients",
                                .source = net("10.5.0.0/16"),
                                .policer = {.packets_per_second = 1, .packet_burst = 3}});
  ASSERT_TRUE(classifier_->apply(config).ok());
  const auto ack = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(4243, 80, 0x10).build();
  const auto before = classifier_->counters();
  for (int i = 0; i < 3; ++i) {
    expect(ack, XDP_TX, "tx_vip_encapsulated");
  }
  expect(ack, XDP_DROP, "drop_rate_limit");  // the remembered policer's bucket is empty
  const auto after = classifier_->counters();
  EXPECT_EQ(event(after, kRemembered) - event(before, kRemembered), 3u);
  EXPECT_EQ(rule_packets(after, "allow-clients"), 4u) << "every packet counts under its rule";
  ASSERT_EQ(after.policers.size(), 3u);
  EXPECT_EQ(after.policers[1].name, "clients");
  EXPECT_EQ(after.policers[1].passed.packets, 3u);
  EXPECT_EQ(after.policers[1].dropped.packets, 1u);
}

TEST_F(ClassifierTest, BareSynsOfAKnownFlowStillMeetTheSynLimit) {
  auto config = base_config();
  config.syn_limits.push_back(
      {.name = "vip-syns", .destination = net("10.100.0.1/32"), .per_second = 1, .burst = 2});
  ASSERT_TRUE(classifier_->apply(config).ok());
  const auto syn = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(4244, 80).build();
  const auto ack = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(4244, 80, 0x10).build();
  expect(syn, XDP_TX, "tx_vip_encapsulated");
  expect(syn, XDP_TX, "tx_vip_encapsulated");  // its connection exists: the limit still applies
  expect(syn, XDP_DROP, "drop_syn_limit");
  const auto before = classifier_->counters();
  expect(ack, XDP_TX, "tx_vip_encapsulated");
  EXPECT_EQ(event(classifier_->counters(), kRemembered), event(before, kRemembered) + 1);
}

}  // namespace
}  // namespace vigil::ebpf
