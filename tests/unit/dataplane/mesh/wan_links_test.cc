// The mesh's WAN links from the config: the wan interfaces the fast path forwards on, in the
// config's order, each with its address and gateway per family (the via of the lowest-distance
// static default route on that link); an endpoint on the link's subnet is its own next hop.
#include "dataplane/mesh/wan_links.h"

#include <gtest/gtest.h>

#include "config/document.h"
#include "tests/support/net_literals.h"

namespace vigil::dp {
namespace {

using vigil::test::ip;

config::Config parse(const std::string& text) {
  auto r = config::parse_text(text, "vigil.yaml");
  EXPECT_TRUE(r.ok()) << r.errors.to_string();
  return r.config;
}

constexpr const char* kTwoLinks = R"(interfaces:
  lan0: {role: lan, addresses: [10.1.1.1/24]}
  wan2: {role: wan, addresses: [198.18.1.6/30, "2001:db8:1:2::2/64"]}
  wan1: {role: wan, addresses: [198.18.1.2/30]}
  wan3: {role: wan, enabled: false, addresses: [198.18.1.10/30]}
  wan4: {role: wan, addresses: [198.18.1.14/30]}
routing:
  static:
    - {prefix: 0.0.0.0/0, next_hops: [{via: 198.18.1.1}], distance: 1}
    - {prefix: 0.0.0.0/0, next_hops: [{via: 198.18.1.5}], distance: 2}
    - {prefix: "::/0", next_hops: [{via: "2001:db8:1:2::1"}], distance: 5}
    - {prefix: 10.9.0.0/16, next_hops: [{via: 198.18.1.13}]}
)";

TEST(WanLinks, WanInterfacesThatForwardInConfigOrderWithTheirGateways) {
  const PortMap ports{{"lan0", 0}, {"wan2", 1}, {"wan1", 2}, {"wan4", 3}};
  const auto links = wan_links_for(parse(kTwoLinks), ports);
  ASSERT_EQ(links.size(), 3u) << "wan3 is disabled";
  EXPECT_EQ(links[0].name, "wan2");
  EXPECT_EQ(links[0].port, 1);
  ASSERT_TRUE(links[0].v4 && links[0].v6);
  EXPECT_EQ(links[0].v4->source, ip("198.18.1.6"));
  EXPECT_EQ(links[0].v4->gateway, ip("198.18.1.5")) << "the default route on its subnet";
  EXPECT_EQ(links[0].v6->gateway, ip("2001:db8:1:2::1"));
  EXPECT_EQ(links[1].name, "wan1");
  EXPECT_EQ(links[1].v4->gateway, ip("198.18.1.1"));
  EXPECT_FALSE(links[1].v6) << "no IPv6 address";
  EXPECT_EQ(links[2].name, "wan4");
  EXPECT_FALSE(links[2].v4->gateway) << "only a route to 10.9/16 uses it: not a default";
}

TEST(WanLinks, TheNextHopIsTheGatewayOrTheEndpointOnTheLinksSubnet) {
  const auto links = wan_links_for(parse(kTwoLinks), {{"wan2", 1}, {"wan4", 3}});
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0].next_hop(ip("198.18.2.2")), ip("198.18.1.5"));
  EXPECT_EQ(links[0].next_hop(ip("198.18.1.5")), ip("198.18.1.5")) << "on its subnet";
  EXPECT_EQ(links[0].next_hop(ip("2001:db8:2:1::2")), ip("2001:db8:1:2::1"));
  EXPECT_EQ(links[1].next_hop(ip("198.18.2.2")), std::nullopt) << "no gateway";
  EXPECT_EQ(links[1].next_hop(ip("198.18.1.13")), ip("198.18.1.13"));
  EXPECT_EQ(links[1].next_hop(ip("2001:db8:2:1::2")), std::nullopt) << "no IPv6 on it";
}

TEST(WanLinks, ANamedInterfaceOnTheLinkMakesItsGateway) {
  const auto links = wan_links_for(parse(R"(interfaces:
  wan1: {role: wan, addresses: [198.18.1.2/30]}
routing:
  static:
    - {prefix: 0.0.0.0/0, next_hops: [{via: 198.18.1.1, interface: wan1}], distance: 3}
)"),
                                   {{"wan1", 0}});
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].v4->gateway, ip("198.18.1.1"));
}

}  // namespace
}  // namespace vigil::dp
