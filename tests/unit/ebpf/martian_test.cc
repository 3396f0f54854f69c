// Martian addresses as the classifier and vigil-dp both judge them (vigil/martian.h): each
// range by its reason, the edges of each range, and what an interface's allow bits let in.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>

#include "dataplane/pipeline/drop_reason.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
extern "C" {
#include "vigil/martian.h"
}
#pragma GCC diagnostic pop

namespace vigil {
namespace {

__be32 v4(const char* text) {
  in_addr a{};
  EXPECT_EQ(inet_pton(AF_INET, text, &a), 1) << text;
  return a.s_addr;
}

struct V6 {
  uint8_t b[16];
};
V6 v6(const char* text) {
  V6 a{};
  EXPECT_EQ(inet_pton(AF_INET6, text, a.b), 1) << text;
  return a;
}

int m4(const char* src, const char* dst, uint32_t allow = 0) {
  return vigil_martian4(v4(src), v4(dst), allow);
}
int m6(const char* src, const char* dst, uint32_t allow = 0) {
  return vigil_martian6(v6(src).b, v6(dst).b, allow);
}

TEST(Martian, Ipv4SourcesByReason) {
  const char* ok = "198.51.100.7";
  EXPECT_EQ(m4("10.1.2.3", ok), VIGIL_MARTIAN_NONE);
  EXPECT_EQ(m4("0.0.0.0", ok), VIGIL_MARTIAN_SOURCE_THIS_NETWORK);
  EXPECT_EQ(m4("0.255.255.255", ok), VIGIL_MARTIAN_SOURCE_THIS_NETWORK);
  EXPECT_EQ(m4("1.0.0.0", ok), VIGIL_MARTIAN_NONE);
  EXPECT_EQ(m4("127.0.0.1", ok), VIGIL_MARTIAN_SOURCE_LOOPBACK);
  EXPECT_EQ(m4("126.255.255.255", ok), VIGIL_MARTIAN_NONE);
  EXPECT_EQ(m4("169.254.3.4", ok), VIGIL_MARTIAN_SOURCE_LINK_LOCAL);
  EXPECT_EQ(m4("169.253.3.4", ok), VIGIL_MARTIAN_NONE);
  EXPECT_EQ(m4("224.0.0.5", ok), VIGIL_MARTIAN_SOURCE_MULTICAST);
  EXPECT_EQ(m4("239.255.255.255", ok), VIGIL_MARTIAN_SOURCE_MULTICAST);
  EXPECT_EQ(m4("223.255.255.255", ok), VIGIL_MARTIAN_NONE);
  EXPECT_EQ(m4("240.0.0.1", ok), VIGIL_MARTIAN_SOURCE_RESERVED);
  EXPECT_EQ(m4("255.255.255.254", ok), VIGIL_MARTIAN_SOURCE_RESERVED);
  EXPECT_EQ(m4("255.255.255.255", ok), VIGIL_MARTIAN_SOURCE_BROADCAST);
}

TEST(Martian, Ipv4DestinationsByReasonGroupAddressesAreNotMartians) {
  const char* ok = "10.1.2.3";
  EXPECT_EQ(m4(ok, "0.0.0.7"), VIGIL_MARTIAN_DESTINATION_THIS_NETWORK);
  EXPECT_EQ(m4(ok, "127.1.1.1"), VIGIL_MARTIAN_DESTINATION_LOOPBACK);
  EXPECT_EQ(m4(ok, "169.254.0.1"), VIGIL_MARTIAN_DESTINATION_LINK_LOCAL);
  EXPECT_EQ(m4(ok, "240.0.0.9"), VIGIL_MARTIAN_DESTINATION_RESERVED);
  // For the box or no one: the callers hand them to the kernel.
  EXPECT_EQ(m4(ok, "224.1.2.3"), VIGIL_MARTIAN_NONE);
  EXPECT_EQ(m4(ok, "255.255.255.255"), VIGIL_MARTIAN_NONE);
  // The source is judged first.
  EXPECT_EQ(m4("127.0.0.1", "0.0.0.7"), VIGIL_MARTIAN_SOURCE_LOOPBACK);
}

TEST(Martian, AnInterfaceMayAllowTheRangesNetworksUseOnPurpose) {
  EXPECT_EQ(m4("0.1.2.3", "10.0.0.1", VIGIL_ALLOW_THIS_NETWORK), VIGIL_MARTIAN_NONE);
  EXPECT_EQ(m4("0.0.0.0", "10.0.0.1", VIGIL_ALLOW_THIS_NETWORK),
            VIGIL_MARTIAN_SOURCE_THIS_NETWORK);  // never the unspecified address
  EXPECT_EQ(m4("127.0.0.1", "127.0.0.2", VIGIL_ALLOW_LOOPBACK), VIGIL_MARTIAN_NONE);
  EXPECT_EQ(m4("240.0.0.1", "250.0.0.1", VIGIL_ALLOW_RESERVED), VIGIL_MARTIAN_NONE);
  EXPECT_EQ(m4("169.254.1.1", "169.254.1.2", VIGIL_ALLOW_LINK_LOCAL), VIGIL_MARTIAN_NONE);
  // Multicast and broadcast sources are never allowed.
  EXPECT_EQ(m4("224.0.0.5", "10.0.0.1", 0xff), VIGIL_MARTIAN_SOURCE_MULTICAST);
  EXPECT_EQ(m4("255.255.255.255", "10.0.0.1", 0xff), VIGIL_MARTIAN_SOURCE_BROADCAST);
  // An allow bit lets in its own range only.
  EXPECT_EQ(m4("127.0.0.1", "10.0.0.1", VIGIL_ALLOW_RESERVED), VIGIL_MARTIAN_SOURCE_LOOPBACK);
}

TEST(Martian, Ipv6ByReason) {
  const char* ok = "2001:db8::1";
  EXPECT_EQ(m6("fd00::5", ok), VIGIL_MARTIAN_NONE);
  EXPECT_EQ(m6("ff02::1", ok), VIGIL_MARTIAN_SOURCE_MULTICAST);
  EXPECT_EQ(m6("fe80::1", ok), VIGIL_MARTIAN_SOURCE_LINK_LOCAL);
  EXPECT_EQ(m6("febf::1", ok), VIGIL_MARTIAN_SOURCE_LINK_LOCAL);
  EXPECT_EQ(m6("fec0::1", ok), VIGIL_MARTIAN_NONE);
  EXPECT_EQ(m6("::", ok), VIGIL_MARTIAN_SOURCE_UNSPECIFIED);
  EXPECT_EQ(m6("::1", ok), VIGIL_MARTIAN_SOURCE_LOOPBACK);
  EXPECT_EQ(m6("::2", ok), VIGIL_MARTIAN_NONE);
  EXPECT_EQ(m6("::ffff:10.0.0.1", ok), VIGIL_MARTIAN_SOURCE_IPV4_MAPPED);
  EXPECT_EQ(m6("64:ff9b::a00:1", ok), VIGIL_MARTIAN_NONE);  // NAT64 is routable
  EXPECT_EQ(m6(ok, "fe80::1"), VIGIL_MARTIAN_DESTINATION_LINK_LOCAL);
  EXPECT_EQ(m6(ok, "::"), VIGIL_MARTIAN_DESTINATION_UNSPECIFIED);
  EXPECT_EQ(m6(ok, "::1"), VIGIL_MARTIAN_DESTINATION_LOOPBACK);
  EXPECT_EQ(m6(ok, "::ffff:192.0.2.1"), VIGIL_MARTIAN_DESTINATION_IPV4_MAPPED);
  EXPECT_EQ(m6(ok, "ff0e::1"), VIGIL_MARTIAN_NONE);  // multicast: the callers'
  EXPECT_EQ(m6("::ffff:10.0.0.1", "::ffff:192.0.2.1", VIGIL_ALLOW_IPV4_MAPPED), VIGIL_MARTIAN_NONE);
}

TEST(Martian, EachReasonHasTheFastPathDropReasonOfTheSameName) {
  const char* names[] = {
#define VIGIL_X(name, text) text,
      VIGIL_MARTIANS(VIGIL_X)
#undef VIGIL_X
  };
  for (int m = 1; m < VIGIL_MARTIAN_COUNT; ++m) {
    EXPECT_EQ(dp::kDropReasonNames[static_cast<size_t>(dp::martian_drop(m))], names[m]);
  }
}

}  // namespace
}  // namespace vigil
