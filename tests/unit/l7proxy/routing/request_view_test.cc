// What routing sees of a request: the host from the target or the Host field, normalised;
// the path with dot segments (also %2e) resolved, never above the root; the query apart.
#include "l7proxy/routing/request_view.h"

#include <gtest/gtest.h>

namespace vigil::l7 {
namespace {

RequestView view_of(const std::string& text, http1::RequestHead& head) {
  const auto r = http1::parse_request_head(std::span(text.data(), text.size()), {}, head);
  EXPECT_EQ(r.outcome, http1::Parsed::kComplete) << r.error;
  return RequestView::from(head);
}

TEST(RequestViewTest, HostPathAndQuery) {
  http1::RequestHead head;
  const std::string text = "GET /a/./b/../c?x=1&y HTTP/1.1\r\nHost: WWW.Example.com:8443\r\n\r\n";
  const RequestView v = view_of(text, head);
  EXPECT_EQ(v.host, "www.example.com");
  EXPECT_EQ(v.path, "/a/c");
  EXPECT_EQ(v.query, "x=1&y");
  EXPECT_EQ(v.method, "GET");
}

TEST(RequestViewTest, AnAbsoluteTargetNamesTheHost) {
  http1::RequestHead head;
  const std::string text =
      "GET http://user@api.example.net:80/v1?q HTTP/1.1\r\nHost: other\r\n\r\n";
  const RequestView v = view_of(text, head);
  EXPECT_EQ(v.host, "api.example.net");
  EXPECT_EQ(v.path, "/v1");
  EXPECT_EQ(v.query, "q");
}

TEST(RequestViewTest, DotSegmentsNeverClimbAboveTheRoot) {
  EXPECT_EQ(remove_dot_segments("/a/b/c/./../../g"), "/a/g");
  EXPECT_EQ(remove_dot_segments("/../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(remove_dot_segments("/public/%2e%2E/admin"), "/admin");
  EXPECT_EQ(remove_dot_segments("/a/.."), "/");
  EXPECT_EQ(remove_dot_segments("/a/./"), "/a/");
  EXPECT_EQ(remove_dot_segments("/a/.../b"), "/a/.../b") << "three dots are a name";
  EXPECT_EQ(remove_dot_segments("/a/..b"), "/a/..b");
  EXPECT_EQ(remove_dot_segments(""), "/");
}

TEST(RequestViewTest, HostsAreNormalised) {
  EXPECT_EQ(normalize_host("Example.COM."), "example.com");
  EXPECT_EQ(normalize_host("[2001:DB8::1]:443"), "[2001:db8::1]");
  EXPECT_EQ(normalize_host("10.0.0.1:80"), "10.0.0.1");
}

}  // namespace
}  // namespace vigil::l7
