#include "common/net/host_port.h"

#include <gtest/gtest.h>

namespace vigil::net {
namespace {

TEST(HostPort, ParsesBothFamiliesAndPrintsThemBack) {
  auto v4 = HostPort::parse("127.0.0.1:9550");
  ASSERT_TRUE(v4.ok()) << v4.error();
  EXPECT_EQ(v4->address.family, 4);
  EXPECT_EQ(v4->port, 9550);
  EXPECT_EQ(v4->to_string(), "127.0.0.1:9550");
  auto v6 = HostPort::parse("[::1]:65535");
  ASSERT_TRUE(v6.ok()) << v6.error();
  EXPECT_EQ(v6->address.family, 6);
  EXPECT_EQ(v6->to_string(), "[::1]:65535");
}

TEST(HostPort, RejectsWhatIsNotAddressAndPort) {
  for (const char* bad :
       {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:80x", "localhost:80", ":80",
        "[::1]", "[::1]:", "[127.0.0.1]:80x", "[::1]80", ""}) {
    auto r = HostPort::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error(), "expected address:port (e.g. 127.0.0.1:9550 or [::1]:9550), got \"" +
                             std::string(bad) + "\"");
  }
  auto unbracketed = HostPort::parse("fd00::1:80");
  ASSERT_FALSE(unbracketed.ok());
  EXPECT_EQ(unbracketed.error(), "IPv6 addresses need brackets: [fd00::1]:port");
}

}  // namespace
}  // namespace vigil::net
