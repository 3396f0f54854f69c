// The config's classes as the lcores use them: units converted, DSCP as a mask, link names
// as ranks among the mesh's links (named ones first, in the class's order).
#include "dataplane/mesh/path_classes.h"

#include <gtest/gtest.h>

#include "config/document.h"

namespace vigil::dp {
namespace {

TEST(PathClasses, TheConfigsClassesInTheLcoresTerms) {
  const auto r = config::parse_text(R"(interfaces:
  wan1: {role: wan, addresses: [198.18.1.2/30]}
  wan2: {role: wan, addresses: [198.18.1.6/30]}
  wan3: {role: wan, addresses: [198.18.1.10/30]}
policies:
  classes:
    - name: voice
      match: [{protocol: udp, destination_ports: [10000-20000], destination: 10.2.0.0/16},
              {dscp: [ef, 0]}]
      sla: {max_rtt_ms: 150, max_jitter_ms: 30, max_loss_percent: 2.5}
      preference: lowest-loss
      links: [wan3, wan2]
)",
                                    "vigil.yaml");
  ASSERT_TRUE(r.ok()) << r.errors.to_string();
  std::vector<WanLink> links;
  for (const char* name : {"wan1", "wan2", "wan3"}) {
    links.push_back({.name = name});
  }
  const auto classes = path_classes_for(r.config.policies, links);
  ASSERT_EQ(classes.size(), 1u);
  const paths::PathClass& c = classes[0];
  ASSERT_EQ(c.rules.size(), 2u);
  EXPECT_EQ(c.rules[0].protocol, paths::ClassRule::Protocol::kUdp);
  ASSERT_EQ(c.rules[0].destination_ports.size(), 1u);
  EXPECT_EQ(c.rules[0].destination_ports[0].first, 10000);
  EXPECT_EQ(c.rules[0].destination_ports[0].last, 20000);
  EXPECT_EQ(c.rules[0].destination.family, 4);
  EXPECT_EQ(c.rules[0].destination.length, 16);
  EXPECT_EQ(c.rules[0].destination.bytes[1], 2);
  EXPECT_EQ(c.rules[1].dscp, (uint64_t{1} << 46) | 1u);
  EXPECT_EQ(c.sla.max_rtt_ns, 150'000'000);
  EXPECT_EQ(c.sla.max_jitter_ns, 30'000'000);
  EXPECT_DOUBLE_EQ(*c.sla.max_loss, 0.025);
  EXPECT_EQ(c.preference, paths::Preference::kLowestLoss);
  // wan3 first, wan2 second, wan1 (not named) after them.
  EXPECT_EQ(c.link_rank[2], 0);
  EXPECT_EQ(c.link_rank[1], 1);
  EXPECT_EQ(c.link_rank[0], 2);
}

}  // namespace
}  // namespace vigil::dp
