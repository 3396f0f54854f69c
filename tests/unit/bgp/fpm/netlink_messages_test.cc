// The netlink decoder over messages shaped as zebra 8.4's dplane_fpm_nl writes them
// (rt_netlink.c: netlink_route_multipath_msg_encode, netlink_nexthop_msg_encode) and over
// malformed ones: each refused alone, with its reason.
#include "bgp/fpm/netlink_messages.h"

#include <gtest/gtest.h>

#include "tests/unit/bgp/fpm/netlink_builder.h"

namespace vigil::fpm {
namespace {

using test::ip;
using test::NetlinkBuilder;

constexpr uint8_t kInet = 2, kInet6 = 10, kMpls = 28;
constexpr uint16_t kDst = 1, kSrc = 2, kOif = 4, kGateway = 5, kPriority = 6, kMultipath = 9,
                   kTable = 15, kVia = 18, kEncapType = 21, kNhId = 30;
constexpr uint16_t kNhaId = 1, kNhaGroup = 2, kNhaBlackhole = 4, kNhaOif = 5, kNhaGateway = 6,
                   kNhaEncapType = 7, kNhaFdb = 11;
constexpr uint32_t kOnlink = 4;  // RTNH_F_ONLINK

net::Prefix prefix(const char* text) {
  return *net::Prefix::parse_network(text);
}

std::vector<uint8_t> concat(const std::vector<std::vector<uint8_t>>& parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

DecodedFrame decode(const std::vector<uint8_t>& payload) {
  return decode_netlink(payload);
}

const RouteMessage& route_of(const DecodedFrame& d, size_t i = 0) {
  return std::get<RouteMessage>(d.messages.at(i));
}
const NexthopMessage& nexthop_of(const DecodedFrame& d, size_t i = 0) {
  return std::get<NexthopMessage>(d.messages.at(i));
}

TEST(NetlinkMessagesTest, ARouteWithOneNextHop) {
  const auto d = decode(NetlinkBuilder::route(kRtmNewRoute, kInet, 24)
                            .addr(kDst, "10.9.0.0")
                            .attr32(kPriority, 20)
                            .addr(kGateway, "198.18.1.1")
                            .attr32(kOif, 3)
                            .build());
  ASSERT_TRUE(d.errors.empty()) << d.errors[0];
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(route_of(d),
            (RouteMessage{.add = true,
                          .prefix = prefix("10.9.0.0/24"),
                          .protocol = kProtocolBgp,
                          .metric = 20,
                          .next_hops = {{.gateway = ip("198.18.1.1"), .ifindex = 3}}}));
}

// FRR 8.4 sends a route's update as a delete and an add in one frame.
TEST(NetlinkMessagesTest, AnUpdateIsADeleteAndAnAddInOneFrame) {
  const auto d = decode(concat({NetlinkBuilder::route(kRtmDelRoute, kInet, 24, /*rtm_type=*/0)
                                    .addr(kDst, "10.9.0.0")
                                    .attr32(kPriority, 20)
                                    .build(),
                                NetlinkBuilder::route(kRtmNewRoute, kInet, 24)
                                    .addr(kDst, "10.9.0.0")
                                    .attr32(kNhId, 77)
                                    .build()}));
  ASSERT_TRUE(d.errors.empty()) << d.errors[0];
  ASSERT_EQ(d.messages.size(), 2u);
  EXPECT_FALSE(route_of(d, 0).add);
  EXPECT_EQ(route_of(d, 0).prefix, prefix("10.9.0.0/24"));
  EXPECT_TRUE(route_of(d, 1).add);
  EXPECT_EQ(route_of(d, 1).nexthop_id, 77u);
  EXPECT_TRUE(route_of(d, 1).next_hops.empty());
}

TEST(NetlinkMessagesTest, MultipathWithWeightsBothFamiliesAndAnIpv4RouteOverIpv6) {
  const auto v4 =
      decode(NetlinkBuilder::route(kRtmNewRoute, kInet, 16)
                 .addr(kDst, "10.8.0.0")
                 .attr(kMultipath, concat({NetlinkBuilder::rtnexthop(1, 3, "198.18.1.1"),
                                           NetlinkBuilder::rtnexthop(3, 4, "198.18.1.5")}))
                 .build());
  ASSERT_TRUE(v4.errors.empty()) << v4.errors[0];
  EXPECT_EQ(route_of(v4).next_hops,
            (std::vector<FpmNextHop>{{.gateway = ip("198.18.1.1"), .ifindex = 3, .weight = 1},
                                     {.gateway = ip("198.18.1.5"), .ifindex = 4, .weight = 3}}));
  const auto v6 = decode(NetlinkBuilder::route(kRtmNewRoute, kInet6, 48)
                             .addr(kDst, "fd00:9::")
                             .attr(kMultipath, concat({NetlinkBuilder::rtnexthop(256, 3, "fe80::1"),
                                                       NetlinkBuilder::rtnexthop(1, 4, "fe80::2")}))
                             .build());
  ASSERT_TRUE(v6.errors.empty()) << v6.errors[0];
  EXPECT_EQ(route_of(v6).prefix, prefix("fd00:9::/48"));
  EXPECT_EQ(route_of(v6).next_hops[0].weight, 256u);
  EXPECT_EQ(route_of(v6).next_hops[1].gateway, ip("fe80::2"));
  // RFC 5549: RTA_VIA names a gateway of the other family.
  std::vector<uint8_t> via = {kInet6, 0};
  const auto gw = ip("fe80::7");
  via.insert(via.end(), gw.bytes.begin(), gw.bytes.end());
  const auto over_v6 = decode(NetlinkBuilder::route(kRtmNewRoute, kInet, 8)
                                  .addr(kDst, "10.0.0.0")
                                  .attr(kVia, via)
                                  .attr32(kOif, 3)
                                  .build());
  ASSERT_TRUE(over_v6.errors.empty()) << over_v6.errors[0];
  EXPECT_EQ(route_of(over_v6).next_hops[0].gateway, ip("fe80::7"));
}

TEST(NetlinkMessagesTest, DiscardsTheDefaultRouteAndOtherTables) {
  const auto d = decode(concat({
      NetlinkBuilder::route(kRtmNewRoute, kInet, 0, /*rtm_type=*/6).build(),  // blackhole
      NetlinkBuilder::route(kRtmNewRoute, kInet6, 32, 7).addr(kDst, "2001:db8::").build(),
      NetlinkBuilder::route(kRtmNewRoute, kInet, 24, 8).addr(kDst, "10.7.0.0").build(),
      NetlinkBuilder::route(kRtmNewRoute, kInet, 24, 1, 186, /*table=*/0)
          .addr(kDst, "10.6.0.0")
          .attr32(kTable, 1001)
          .attr32(kOif, 3)
          .build(),
  }));
  ASSERT_TRUE(d.errors.empty()) << d.errors[0];
  ASSERT_EQ(d.messages.size(), 4u);
  EXPECT_EQ(route_of(d, 0).prefix, prefix("0.0.0.0/0"));
  EXPECT_EQ(route_of(d, 0).kind, RouteKind::kBlackhole);
  EXPECT_EQ(route_of(d, 1).kind, RouteKind::kUnreachable);
  EXPECT_EQ(route_of(d, 2).kind, RouteKind::kProhibit);
  EXPECT_EQ(route_of(d, 3).table, 1001u);  // RTA_TABLE past 255
}

TEST(NetlinkMessagesTest, WhatIsNotARouteOrNextHopOfIpIsCountedAndLeft) {
  const auto d = decode(concat({
      NetlinkBuilder::route(kRtmNewRoute, kMpls, 20).build(),         // MPLS
      NetlinkBuilder::route(kRtmNewRoute, kInet, 32, /*rtm_type=*/2)  // RTN_LOCAL
          .addr(kDst, "10.1.1.1")
          .build(),
      NetlinkBuilder(/*type=*/28, std::vector<uint8_t>(12, 0)).build(),  // RTM_NEWNEIGH (EVPN)
      NetlinkBuilder::nexthop(kRtmNewNexthop, /*family=*/7)              // AF_BRIDGE
          .attr32(kNhaId, 5)
          .build(),
      NetlinkBuilder::nexthop(kRtmNewNexthop, kInet).attr32(kNhaId, 6).attr(kNhaFdb, {}).build(),
  }));
  EXPECT_TRUE(d.errors.empty());
  EXPECT_TRUE(d.messages.empty());
  EXPECT_EQ(d.ignored, 5u);
}

TEST(NetlinkMessagesTest, NextHopsSingleGroupsAndBlackholes) {
  const auto d = decode(concat({
      NetlinkBuilder::nexthop(kRtmNewNexthop, kInet)
          .attr32(kNhaId, 10)
          .addr(kNhaGateway, "198.18.1.1")
          .attr32(kNhaOif, 3)
          .build(),
      NetlinkBuilder::nexthop(kRtmNewNexthop, kInet6).attr32(kNhaId, 11).attr32(kNhaOif, 4).build(),
      NetlinkBuilder::nexthop(kRtmNewNexthop, 0)
          .attr32(kNhaId, 12)
          .attr(kNhaGroup, NetlinkBuilder::group({{10, 1}, {11, 200}}))
          .build(),
      NetlinkBuilder::nexthop(kRtmNewNexthop, 0).attr32(kNhaId, 13).attr(kNhaBlackhole, {}).build(),
      NetlinkBuilder::nexthop(kRtmDelNexthop, 0).attr32(kNhaId, 10).build(),
  }));
  ASSERT_TRUE(d.errors.empty()) << d.errors[0];
  ASSERT_EQ(d.messages.size(), 5u);
  EXPECT_EQ(nexthop_of(d, 0),
            (NexthopMessage{.id = 10, .gateway = ip("198.18.1.1"), .ifindex = 3}));
  EXPECT_EQ(nexthop_of(d, 1), (NexthopMessage{.id = 11, .ifindex = 4}));
  EXPECT_EQ(nexthop_of(d, 2).group,
            (std::vector<std::pair<uint32_t, uint32_t>>{{10, 1}, {11, 200}}));
  EXPECT_TRUE(nexthop_of(d, 3).blackhole);
  EXPECT_EQ(nexthop_of(d, 4), (NexthopMessage{.add = false, .id = 10}));
}

struct Refused {
  const char* description;
  std::vector<uint8_t> message;
  const char* error;
};

// Each malformed message is refused with its reason; the well-formed one after it in the
// same frame still counts.
TEST(NetlinkMessagesTest, EachMalformedMessageIsRefusedAloneWithItsReason) {
  const std::vector<Refused> cases = {
      {"an rtmsg cut short", NetlinkBuilder(kRtmNewRoute, {2, 24, 0, 0}).build(),
       "netlink message 1 (route): an rtmsg of 4 bytes"},
      {"a prefix longer than the family's",
       NetlinkBuilder::route(kRtmNewRoute, kInet, 33).addr(kDst, "10.0.0.0").build(),
       "netlink message 1 (route): a /33 IPv4 route"},
      {"host bits", NetlinkBuilder::route(kRtmNewRoute, kInet, 8).addr(kDst, "10.1.0.0").build(),
       "netlink message 1 (route): 10.1.0.0/8: host bits set"},
      {"RTA_DST of the other family",
       NetlinkBuilder::route(kRtmNewRoute, kInet, 8).addr(kDst, "fd00::").build(),
       "netlink message 1 (route): 0.0.0.0/8: RTA_DST of 16 bytes in an IPv4 message"},
      {"no RTA_DST", NetlinkBuilder::route(kRtmNewRoute, kInet, 8).attr32(kOif, 3).build(),
       "netlink message 1 (route): a /8 route without RTA_DST"},
      {"an attribute longer than the message",
       NetlinkBuilder::route(kRtmNewRoute, kInet, 8).raw({200, 0, 1, 0, 10, 0, 0, 0}).build(),
       "netlink message 1 (route): 0.0.0.0/8: attribute 1 of length 200 where 8 bytes are left"},
      {"an attribute shorter than its header",
       NetlinkBuilder::route(kRtmNewRoute, kInet, 8).raw({2, 0, 1, 0}).build(),
       "netlink message 1 (route): 0.0.0.0/8: attribute 1 of length 2 where 4 bytes are left"},
      {"RTA_OIF of 2 bytes",
       NetlinkBuilder::route(kRtmNewRoute, kInet, 0).attr(kOif, {1, 0}).build(),
       "netlink message 1 (route): 0.0.0.0/0: RTA_OIF of 2 bytes, not 4"},
      {"source-specific",
       NetlinkBuilder(kRtmNewRoute, {10, 0, 64, 0, 254, 186, 0, 1, 0, 0, 0, 0}).build(),
       "netlink message 1 (route): a source-specific route (from /64): not supported"},
      {"RTA_SRC", NetlinkBuilder::route(kRtmNewRoute, kInet6, 0).addr(kSrc, "fd00::").build(),
       "netlink message 1 (route): ::/0: a source-specific route: not supported"},
      {"an encapsulation",
       NetlinkBuilder::route(kRtmNewRoute, kInet, 0).attr(kEncapType, {1, 0}).build(),
       "netlink message 1 (route): 0.0.0.0/0: a route with an encapsulation (MPLS, EVPN, SRv6): "
       "not supported"},
      {"a multipath next hop longer than its attribute",
       NetlinkBuilder::route(kRtmNewRoute, kInet, 0)
           .attr(kMultipath, {40, 0, 0, 0, 3, 0, 0, 0})
           .build(),
       "netlink message 1 (route): 0.0.0.0/0: RTA_MULTIPATH: a next hop of length 40 where 8 "
       "bytes are left"},
      {"both a single next hop and multipath",
       NetlinkBuilder::route(kRtmNewRoute, kInet, 0)
           .attr32(kOif, 3)
           .attr(kMultipath, NetlinkBuilder::rtnexthop(1, 3, "198.18.1.1"))
           .build(),
       "netlink message 1 (route): 0.0.0.0/0: both RTA_MULTIPATH and a single next hop"},
      {"a next hop without an id",
       NetlinkBuilder::nexthop(kRtmNewNexthop, kInet).attr32(kNhaOif, 3).build(),
       "netlink message 1 (next hop): a next hop without NHA_ID"},
      {"a group with itself in it",
       NetlinkBuilder::nexthop(kRtmNewNexthop, 0)
           .attr32(kNhaId, 5)
           .attr(kNhaGroup, NetlinkBuilder::group({{5, 1}}))
           .build(),
       "netlink message 1 (next hop): next hop group 5: a member of id 5"},
      {"a group of 7 bytes",
       NetlinkBuilder::nexthop(kRtmNewNexthop, 0)
           .attr32(kNhaId, 5)
           .attr(kNhaGroup, {1, 0, 0, 0, 0, 0, 0})
           .build(),
       "netlink message 1 (next hop): next hop 5: NHA_GROUP of 7 bytes"},
      {"RTA_VIA of a family past 255",
       NetlinkBuilder::route(kRtmNewRoute, kInet, 0).attr(kVia, {kInet, 1, 10, 0, 0, 1}).build(),
       "netlink message 1 (route): 0.0.0.0/0: RTA_VIA of address family 258"},
      {"a group naming a member twice",
       NetlinkBuilder::nexthop(kRtmNewNexthop, 0)
           .attr32(kNhaId, 5)
           .attr(kNhaGroup, NetlinkBuilder::group({{7, 1}, {6, 1}, {7, 2}}))
           .build(),
       "netlink message 1 (next hop): next hop group 5: member 7 twice"},
      {"a group of more members than allowed",
       NetlinkBuilder::nexthop(kRtmNewNexthop, 0)
           .attr32(kNhaId, 5)
           .attr(kNhaGroup, std::vector<uint8_t>(8 * (kMaxGroupMembers + 1), 1))
           .build(),
       "netlink message 1 (next hop): next hop 5: NHA_GROUP of 513 members, more than 512"},
      {"a gateway in a next hop of no family",
       NetlinkBuilder::nexthop(kRtmNewNexthop, 0)
           .attr32(kNhaId, 5)
           .addr(kNhaGateway, "10.0.0.1")
           .build(),
       "netlink message 1 (next hop): next hop 5: NHA_GATEWAY in a next hop of no address "
       "family"},
  };
  const auto good =
      NetlinkBuilder::route(kRtmNewRoute, kInet, 24).addr(kDst, "10.9.0.0").attr32(kOif, 3).build();
  for (const Refused& c : cases) {
    const auto d = decode(concat({c.message, good}));
    ASSERT_EQ(d.errors.size(), 1u) << c.description;
    EXPECT_EQ(d.errors[0], c.error) << c.description;
    ASSERT_EQ(d.messages.size(), 1u) << c.description;
    EXPECT_EQ(route_of(d).prefix, prefix("10.9.0.0/24")) << c.description;
  }
}

// A netlink length that lies leaves nothing to find the next message by: the rest of the
// frame is lost, and said so.
TEST(NetlinkMessagesTest, ANetlinkLengthThatLiesEndsTheFrame) {
  const auto good =
      NetlinkBuilder::route(kRtmNewRoute, kInet, 24).addr(kDst, "10.9.0.0").attr32(kOif, 3).build();
  for (uint32_t lie : {0u, 15u, 4096u}) {
    const auto liar = NetlinkBuilder::route(kRtmNewRoute, kInet, 0).build(lie);
    const auto d = decode(concat({good, liar, good}));
    ASSERT_EQ(d.messages.size(), 1u) << lie;
    ASSERT_EQ(d.errors.size(), 1u) << lie;
    EXPECT_EQ(d.errors[0], "netlink message 2: length " + std::to_string(lie) + " where " +
                               std::to_string(liar.size() + good.size()) + " bytes are left");
  }
  const auto d = decode(concat({good, {1, 2, 3}}));
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0], "netlink message 2: 3 bytes, shorter than a netlink header");
}

// zebra 8.4 sends an IPv4 route over an IPv6 next hop inline as 169.254.0.1 on-link
// (rt_netlink.c, _netlink_route_build_singlepath and _multipath): the flag is kept, in
// rtm_flags for one next hop and in each rtnexthop for several, and in a next-hop object.
TEST(NetlinkMessagesTest, TheOnLinkFlagOfZebrasIpv4OverIpv6Encoding) {
  const auto single = decode(NetlinkBuilder::route(kRtmNewRoute, kInet, 16)
                                 .flags(kOnlink)
                                 .addr(kDst, "10.8.0.0")
                                 .addr(kGateway, "169.254.0.1")
                                 .attr32(kOif, 3)
                                 .build());
  ASSERT_TRUE(single.errors.empty()) << single.errors[0];
  EXPECT_EQ(
      route_of(single).next_hops,
      (std::vector<FpmNextHop>{{.gateway = ip("169.254.0.1"), .ifindex = 3, .onlink = true}}));
  const auto multi =
      decode(NetlinkBuilder::route(kRtmNewRoute, kInet, 16)
                 .addr(kDst, "10.8.0.0")
                 .attr(kMultipath, concat({NetlinkBuilder::rtnexthop(1, 3, "169.254.0.1", kOnlink),
                                           NetlinkBuilder::rtnexthop(1, 4, "198.18.1.5")}))
                 .build());
  ASSERT_TRUE(multi.errors.empty()) << multi.errors[0];
  EXPECT_TRUE(route_of(multi).next_hops[0].onlink);
  EXPECT_FALSE(route_of(multi).next_hops[1].onlink);
  const auto object = decode(NetlinkBuilder::nexthop(kRtmNewNexthop, kInet6)
                                 .flags(kOnlink)
                                 .attr32(kNhaId, 9)
                                 .addr(kNhaGateway, "fe80::7")
                                 .attr32(kNhaOif, 3)
                                 .build());
  ASSERT_TRUE(object.errors.empty()) << object.errors[0];
  EXPECT_TRUE(nexthop_of(object).onlink);
}

// The kernel keeps the last of a repeated RTA_MULTIPATH or NHA_GROUP; so does the decoder
// (appending would let a message grow a group past any limit).
TEST(NetlinkMessagesTest, ARepeatedMultipathOrGroupReplaces) {
  const auto route = decode(NetlinkBuilder::route(kRtmNewRoute, kInet, 16)
                                .addr(kDst, "10.8.0.0")
                                .attr(kMultipath, NetlinkBuilder::rtnexthop(1, 3, "198.18.1.1"))
                                .attr(kMultipath, NetlinkBuilder::rtnexthop(2, 4, "198.18.1.5"))
                                .build());
  ASSERT_TRUE(route.errors.empty()) << route.errors[0];
  EXPECT_EQ(route_of(route).next_hops,
            (std::vector<FpmNextHop>{{.gateway = ip("198.18.1.5"), .ifindex = 4, .weight = 2}}));
  const auto group = decode(NetlinkBuilder::nexthop(kRtmNewNexthop, 0)
                                .attr32(kNhaId, 5)
                                .attr(kNhaGroup, NetlinkBuilder::group({{1, 1}, {2, 1}}))
                                .attr(kNhaGroup, NetlinkBuilder::group({{3, 4}}))
                                .build());
  ASSERT_TRUE(group.errors.empty()) << group.errors[0];
  EXPECT_EQ(nexthop_of(group).group, (std::vector<std::pair<uint32_t, uint32_t>>{{3, 4}}));
}

// A VRF's route is left out whole by the store, whatever it carries: its encapsulation
// (EVPN type 5) is no error. The main table's is.
TEST(NetlinkMessagesTest, AnEncapsulationInAnotherTableIsNoError) {
  const auto d = decode(NetlinkBuilder::route(kRtmNewRoute, kInet, 24, 1, 186, /*table=*/0)
                            .addr(kDst, "10.6.0.0")
                            .attr(kEncapType, {1, 0})
                            .attr32(kTable, 1001)
                            .build());
  ASSERT_TRUE(d.errors.empty()) << d.errors[0];
  EXPECT_EQ(route_of(d).table, 1001u);
}

// A refused message that names its route or next hop says which, so that the caller fails
// closed on it; one that names nothing of the main table (or nothing at all) does not.
TEST(NetlinkMessagesTest, ARefusedMessageNamesWhatItWasAbout) {
  const auto d = decode(concat({
      NetlinkBuilder::route(kRtmNewRoute, kInet, 24)
          .addr(kDst, "10.9.0.0")
          .attr(kOif, {1, 0})  // RTA_OIF of 2 bytes
          .build(),
      NetlinkBuilder::route(kRtmDelRoute, kInet6, 0).attr(kGateway, {1}).build(),
      NetlinkBuilder::route(kRtmNewRoute, kInet, 24)
          .attr(kEncapType, {1, 0})
          .addr(kDst, "10.8.0.0")
          .build(),
      NetlinkBuilder::route(kRtmNewRoute, kInet, 24, 1, 186, 0)  // RT_TABLE_UNSPEC
          .attr(kOif, {1, 0})
          .addr(kDst, "10.7.0.0")
          .attr32(kTable, 1001)
          .build(),
      NetlinkBuilder::route(kRtmNewRoute, kInet, 24).attr(kOif, {1, 0}).build(),  // no RTA_DST
      NetlinkBuilder::nexthop(kRtmNewNexthop, kInet)
          .attr32(kNhaId, 40)
          .attr(kNhaEncapType, {1, 0})
          .build(),
      NetlinkBuilder::nexthop(kRtmNewNexthop, kInet).attr(kNhaOif, {1}).build(),  // no id
  }));
  EXPECT_EQ(d.errors.size(), 7u);
  EXPECT_EQ(d.refused, (std::vector<RefusedMessage>{
                           {.add = true, .prefix = prefix("10.9.0.0/24")},
                           {.add = false, .prefix = prefix("::/0")},
                           {.add = true, .prefix = prefix("10.8.0.0/24")},
                           {.add = true, .route = false, .nexthop_id = 40},
                       }));
}

}  // namespace
}  // namespace vigil::fpm
