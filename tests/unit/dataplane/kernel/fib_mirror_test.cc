#include "dataplane/kernel/fib_mirror.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "config/document.h"
#include "dataplane/fast_path_plan.h"
#include "tests/support/net_literals.h"
#include "tests/unit/dataplane/kernel/fake_kernel_table.h"

namespace vigil::dp {
namespace {

using vigil::test::ip;
using vigil::test::net;

KernelRoute via(const char* p, int ifindex, const char* gateway) {
  return {.prefix = net(p), .next_hops = {{.ifindex = ifindex, .gateway = ip(gateway)}}};
}

TEST(MirrorRoutes, LeavesTheKernelItsOwnRoutesAndMapsPortsToInterfaces) {
  auto parsed = config::parse_text(R"(interfaces:
  lan0: {role: lan, addresses: [10.1.0.1/24, "fd00:1::1/64"]}
  wan1: {role: wan, addresses: [192.0.2.2/24]}
  wan2: {role: wan, addresses: [198.51.100.2/24]}
routing:
  static:
    - {prefix: 0.0.0.0/0, next_hops: [{via: 192.0.2.1, weight: 3}, {via: 198.51.100.1}]}
    - {prefix: 10.9.0.0/16, blackhole: true}
    - {prefix: 10.8.0.0/16, next_hops: [{interface: lan0}]}
    - {prefix: "::/0", next_hops: [{via: "fd00:1::fe"}]}
    - {prefix: 192.0.2.0/24, next_hops: [{via: 198.51.100.1}], distance: 5}
)",
                                   "vigil.yaml");
  ASSERT_TRUE(parsed.errors.empty()) << parsed.errors.to_string();
  const FastPathPlan plan = plan_from(parsed.config);
  auto routes = build_routes(plan.routing);
  ASSERT_TRUE(routes) << routes.error();
  std::vector<net::Prefix> connected;
  for (const auto& p : plan.ports) {
    for (const auto& a : p.addresses) {
      connected.push_back(a.network());
    }
  }
  const auto mirrored = mirror_routes(*routes, connected, {11, 12, 13});
  std::map<net::Prefix, KernelRoute> by_prefix;
  for (const auto& r : mirrored) {
    by_prefix[r.prefix] = r;
  }
  // Connected prefixes (even one a static route also names) and local addresses are the
  // kernel's own; everything else is there, over the ports' interfaces.
  EXPECT_EQ(by_prefix.size(), 4u);
  EXPECT_FALSE(by_prefix.contains(net("192.0.2.0/24")));
  EXPECT_FALSE(by_prefix.contains(net("10.1.0.1/32")));
  const KernelRoute& def = by_prefix.at(net("0.0.0.0/0"));
  ASSERT_EQ(def.next_hops.size(), 2u);
  EXPECT_EQ(def.next_hops[0],
            (KernelNextHop{.ifindex = 12, .gateway = ip("192.0.2.1"), .weight = 3}));
  EXPECT_EQ(def.next_hops[1], (KernelNextHop{.ifindex = 13, .gateway = ip("198.51.100.1")}));
  EXPECT_TRUE(by_prefix.at(net("10.9.0.0/16")).blackhole);
  EXPECT_EQ(by_prefix.at(net("10.8.0.0/16")).next_hops,
            (std::vector<KernelNextHop>{{.ifindex = 11}}));
  EXPECT_EQ(by_prefix.at(net("::/0")).next_hops,
            (std::vector<KernelNextHop>{{.ifindex = 11, .gateway = ip("fd00:1::fe")}}));
}

TEST(MirrorRoutes, AHopOverAnInterfaceTheKernelLacksIsLeftOut) {
  Route r{.prefix = net("10.9.0.0/16"),
          .target = make_forward_group(
              {{.port = 0, .gateway = ip("10.1.0.9")}, {.port = 1, .gateway = ip("192.0.2.1")}})};
  auto mirrored = mirror_routes({r}, {}, {0, 7});
  ASSERT_EQ(mirrored.size(), 1u);
  EXPECT_EQ(mirrored[0].next_hops.size(), 1u);
  EXPECT_EQ(mirrored[0].next_hops[0].ifindex, 7);
  // No hop the kernel knows: no route at all rather than a blackhole.
  EXPECT_TRUE(mirror_routes({r}, {}, {0, 0}).empty());
}

TEST(FibMirror, FirstSyncSweepsWhatAnEarlierProcessLeftAndReplacesTheRest) {
  FakeKernelTable kernel;
  kernel.routes[net("10.7.0.0/16")] = via("10.7.0.0/16", 2, "192.0.2.1");  // not wanted
  kernel.routes[net("0.0.0.0/0")] = via("0.0.0.0/0", 2, "192.0.2.1");      // same as wanted
  FibMirror mirror(kernel);
  const std::vector<KernelRoute> wanted = {via("0.0.0.0/0", 2, "192.0.2.1"),
                                           via("10.9.0.0/16", 3, "198.51.100.1")};
  ASSERT_TRUE(mirror.sync(wanted));
  EXPECT_EQ(kernel.lists, 1);
  // What was found is of unknown content: replaced, never trusted.
  EXPECT_EQ(kernel.replaces, 2);
  EXPECT_EQ(kernel.removes, 1);
  EXPECT_EQ(kernel.routes.size(), 2u);
  EXPECT_FALSE(kernel.routes.contains(net("10.7.0.0/16")));
  EXPECT_EQ(mirror.installed(), 2u);
}

TEST(FibMirror, LaterSyncsSendOnlyTheDifference) {
  FakeKernelTable kernel;
  FibMirror mirror(kernel);
  ASSERT_TRUE(mirror.sync({via("0.0.0.0/0", 2, "192.0.2.1"), via("10.9.0.0/16", 3, "10.1.0.9")}));
  kernel.replaces = 0;
  ASSERT_TRUE(mirror.sync({via("0.0.0.0/0", 2, "192.0.2.1"), via("10.9.0.0/16", 3, "10.1.0.9")}));
  EXPECT_EQ(kernel.replaces, 0);
  EXPECT_EQ(kernel.lists, 1);
  // The default moves to another gateway, 10.9/16 goes, 10.10/16 comes.
  ASSERT_TRUE(
      mirror.sync({via("0.0.0.0/0", 3, "198.51.100.1"), via("10.10.0.0/16", 3, "10.1.0.9")}));
  EXPECT_EQ(kernel.replaces, 2);
  EXPECT_EQ(kernel.removes, 1);
  EXPECT_EQ(kernel.routes.at(net("0.0.0.0/0")), via("0.0.0.0/0", 3, "198.51.100.1"));
  EXPECT_FALSE(kernel.routes.contains(net("10.9.0.0/16")));
}

TEST(FibMirror, ARefusedRouteIsNamedAndRetriedUntilTheKernelTakesIt) {
  FakeKernelTable kernel;
  FibMirror mirror(kernel);
  kernel.refused = {net("10.9.0.0/16"), net("10.10.0.0/16")};
  const std::vector<KernelRoute> wanted = {via("0.0.0.0/0", 2, "192.0.2.1"),
                                           via("10.9.0.0/16", 3, "10.1.0.9"),
                                           via("10.10.0.0/16", 3, "10.1.0.9")};
  Status st = mirror.sync(wanted);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(),
            "cannot install the kernel route 10.9.0.0/16: Network is unreachable (and 1 more)");
  // The others are in.
  EXPECT_TRUE(kernel.routes.contains(net("0.0.0.0/0")));
  kernel.refused.clear();
  kernel.replaces = 0;
  ASSERT_TRUE(mirror.sync(wanted));
  EXPECT_EQ(kernel.replaces, 2);  // only the two refused ones
  EXPECT_EQ(kernel.routes.size(), 3u);
}

TEST(FibMirror, AnUnreadableKernelTableChangesNothing) {
  FakeKernelTable kernel;
  kernel.list_error = "route dump: Operation not permitted";
  FibMirror mirror(kernel);
  Status st = mirror.sync({via("0.0.0.0/0", 2, "192.0.2.1")});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(), "route dump: Operation not permitted");
  EXPECT_EQ(kernel.replaces + kernel.removes, 0);
}

TEST(FibMirror, ForgetReadsTheKernelAgainAndPutsBackWhatItFlushed) {
  FakeKernelTable kernel;
  FibMirror mirror(kernel);
  const std::vector<KernelRoute> wanted = {via("0.0.0.0/0", 2, "192.0.2.1")};
  ASSERT_TRUE(mirror.sync(wanted));
  kernel.routes.clear();  // the interface went down and the kernel flushed its routes
  ASSERT_TRUE(mirror.sync(wanted));
  EXPECT_TRUE(kernel.routes.empty()) << "believed installed: nothing sent";
  mirror.forget();
  ASSERT_TRUE(mirror.sync(wanted));
  EXPECT_EQ(kernel.routes.size(), 1u);
  EXPECT_EQ(kernel.lists, 2);
}

// A recheck reads what the kernel still has: only what it lost is sent again.
TEST(FibMirror, RecheckPutsBackOnlyWhatTheKernelLost) {
  FakeKernelTable kernel;
  FibMirror mirror(kernel);
  ASSERT_TRUE(mirror.recheck()) << "nothing to read before the first sync";
  EXPECT_EQ(kernel.lists, 0);
  const std::vector<KernelRoute> wanted = {via("10.1.0.0/16", 2, "192.0.2.1"),
                                           via("10.2.0.0/16", 2, "192.0.2.1")};
  ASSERT_TRUE(mirror.sync(wanted));
  kernel.routes.erase(net("10.1.0.0/16"));
  kernel.routes[net("10.3.0.0/16")] = via("10.3.0.0/16", 2, "192.0.2.1");  // not its own
  const int replaces = kernel.replaces;
  ASSERT_TRUE(mirror.recheck());
  ASSERT_TRUE(mirror.sync(wanted));
  EXPECT_EQ(kernel.replaces, replaces + 1) << "10.1.0.0/16 alone";
  EXPECT_TRUE(kernel.routes.contains(net("10.1.0.0/16")));
  EXPECT_FALSE(kernel.routes.contains(net("10.3.0.0/16"))) << "swept";
  kernel.list_error = "route dump: Resource temporarily unavailable";
  EXPECT_FALSE(mirror.recheck());
}

TEST(FibMirror, ClearRemovesEveryRouteOfVigilsProtocol) {
  FakeKernelTable kernel;
  kernel.routes[net("10.7.0.0/16")] = via("10.7.0.0/16", 2, "192.0.2.1");
  FibMirror mirror(kernel);
  ASSERT_TRUE(mirror.clear());
  EXPECT_TRUE(kernel.routes.empty());
  EXPECT_EQ(mirror.installed(), 0u);
}

}  // namespace
}  // namespace vigil::dp
